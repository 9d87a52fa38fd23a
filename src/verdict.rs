//! Verdicts for CI: each redirty/activate pair classified (fix, regression, unchanged, changed)
//! and the `--fail-on` conditions, each hit reported with the command that reproduces it.

use crate::cli::FailOn;
use crate::report::doc::{ComparisonDoc, Document, ScenarioDoc};
use crate::scenario::matrix::label;
use crate::spec::Policy;

/// How switching from `redirty` to `activate` changed a cell:
/// - `fix`: OOM under redirty, not under activate;
/// - `regression`: no OOM under redirty, OOM under activate;
/// - `unchanged`: the same outcome kind;
/// - `changed`: survived ↔ stalled.
pub fn classify(before: &str, after: &str) -> &'static str {
    match (before == "oom", after == "oom") {
        _ if before == after => "unchanged",
        (true, false) => "fix",
        (false, true) => "regression",
        _ => "changed",
    }
}

/// Every redirty/activate pair of a scenario, in run order.
pub fn comparisons(sc: &ScenarioDoc) -> Vec<ComparisonDoc> {
    let runs = sc.runs_with_components();
    let mut out = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    let key_of = |c: &[String]| label(&sc.plan.without_policy(c));
    for (components, _) in &runs {
        let key = key_of(components);
        if seen.contains(&key) {
            continue;
        }
        let find = |p: Policy| {
            runs.iter()
                .find(|(c, r)| key_of(c) == key && r.policy == p.name())
                .map(|(_, r)| r.outcome.kind.clone())
        };
        if let (Some(before), Some(after)) = (find(Policy::Redirty), find(Policy::Activate)) {
            out.push(ComparisonDoc {
                label: if key.is_empty() {
                    sc.name.clone()
                } else {
                    key.clone()
                },
                from: Policy::Redirty.name().into(),
                to: Policy::Activate.name().into(),
                verdict: classify(&before, &after).into(),
                before,
                after,
            });
        }
        seen.push(key);
    }
    out
}

/// One `--fail-on` hit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hit {
    /// What matched.
    pub what: &'static str,
    /// The file.
    pub file: String,
    /// The cell label.
    pub cell: String,
    /// What happened.
    pub detail: String,
    /// The commands that reproduce it (two for a regression: before and after).
    pub reproduce: Vec<String>,
}

impl Hit {
    /// The lines printed on stderr.
    pub fn lines(&self) -> Vec<String> {
        let mut v = vec![format!(
            "fail-on {}: {} {}: {}",
            self.what, self.file, self.cell, self.detail
        )];
        v.extend(self.reproduce.iter().map(|r| format!("  reproduce: {r}")));
        v
    }
}

/// Every hit of the `--fail-on` conditions in a document (runs in order; threshold searches'
/// bracketing runs count as runs).
pub fn hits(doc: &Document, conditions: &[FailOn]) -> Vec<Hit> {
    let mut out = Vec::new();
    if conditions.is_empty() {
        return out;
    }
    for sc in &doc.scenarios {
        let mut runs: Vec<(String, &crate::report::doc::RunDoc)> = sc
            .runs_with_components()
            .into_iter()
            .map(|(c, r)| (sc.plan.reproduce(&sc.file, &c, r.seed, None), r))
            .collect();
        for t in sc.thresholds.iter().flatten() {
            runs.push((t.below.reproduce.clone(), &t.below.run));
            runs.push((t.above.reproduce.clone(), &t.above.run));
        }
        for (reproduce, run) in &runs {
            let what = match run.outcome.kind.as_str() {
                "oom" if conditions.contains(&FailOn::Oom) => "oom",
                "stalled" if conditions.contains(&FailOn::Stall) => "stall",
                _ => continue,
            };
            out.push(Hit {
                what,
                file: sc.file.clone(),
                cell: run.label.clone(),
                detail: crate::report::check::describe(&run.outcome),
                reproduce: vec![reproduce.clone()],
            });
        }
        if conditions.contains(&FailOn::Regression) {
            out.extend(regressions(sc));
        }
    }
    out
}

fn regressions(sc: &ScenarioDoc) -> Vec<Hit> {
    let runs = sc.runs_with_components();
    sc.comparisons
        .iter()
        .filter(|c| c.verdict == "regression")
        .map(|c| {
            let reproduce = runs
                .iter()
                .filter(|(comp, _)| {
                    let key = label(&sc.plan.without_policy(comp));
                    key == c.label || (key.is_empty() && c.label == sc.name)
                })
                .map(|(comp, r)| sc.plan.reproduce(&sc.file, comp, r.seed, None))
                .collect();
            Hit {
                what: "regression",
                file: sc.file.clone(),
                cell: c.label.clone(),
                detail: format!("redirty → activate: {} → {}", c.before, c.after),
                reproduce,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::classify;

    #[test]
    fn classes() {
        assert_eq!(classify("oom", "survived"), "fix");
        assert_eq!(classify("oom", "stalled"), "fix");
        assert_eq!(classify("survived", "oom"), "regression");
        assert_eq!(classify("stalled", "oom"), "regression");
        assert_eq!(classify("oom", "oom"), "unchanged");
        assert_eq!(classify("survived", "survived"), "unchanged");
        assert_eq!(classify("survived", "stalled"), "changed");
    }
}
