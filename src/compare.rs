//! Comparisons for CI: each redirty/activate pair classified as a [`Change`] (fix, regression,
//! unchanged, changed), and the `--fail-on` conditions, each hit reported with the command that
//! reproduces it.

use serde::{Deserialize, Serialize};

use crate::outcome::OutcomeKind;
use crate::report::build::describe;
use crate::report::document::{Comparison, Document, RunRecord, ScenarioRecord};
use crate::scenario::matrix::label;
use crate::spec::Policy;

/// What switching from `redirty` to `activate` did to a cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// OOM under redirty, not under activate.
    Fix,
    /// No OOM under redirty, OOM under activate.
    Regression,
    /// The same outcome kind.
    Unchanged,
    /// Survived ↔ stalled.
    Changed,
}

impl Change {
    /// How `before` → `after` is classified.
    pub fn of(before: OutcomeKind, after: OutcomeKind) -> Change {
        let oom = OutcomeKind::Oom;
        match (before == oom, after == oom) {
            _ if before == after => Change::Unchanged,
            (true, false) => Change::Fix,
            (false, true) => Change::Regression,
            _ => Change::Changed,
        }
    }

    /// `fix`, `regression`, `unchanged` or `changed`.
    pub fn name(self) -> &'static str {
        match self {
            Change::Fix => "fix",
            Change::Regression => "regression",
            Change::Unchanged => "unchanged",
            Change::Changed => "changed",
        }
    }
}

/// Conditions that make `--fail-on` exit 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    /// A run ended in an OOM kill (or an OOM panic).
    Oom,
    /// A run stalled (time or event limit with work unfinished).
    Stall,
    /// A cell survived (or stalled) under `redirty` and went OOM under `activate`.
    Regression,
}

impl FailOn {
    /// `oom`, `stall` or `regression`, as `--fail-on` spells it.
    pub fn name(self) -> &'static str {
        match self {
            FailOn::Oom => "oom",
            FailOn::Stall => "stall",
            FailOn::Regression => "regression",
        }
    }
}

/// Every redirty/activate pair of a scenario, in run order.
pub fn comparisons(sc: &ScenarioRecord) -> Vec<Comparison> {
    // One pass: each cell's redirty and activate outcomes by cell key, in first-seen order
    // (a search per cell was quadratic in the runs).
    let mut cells: Vec<(String, [Option<OutcomeKind>; 2])> = Vec::new();
    let mut slot: std::collections::HashMap<String, usize> = Default::default();
    for (components, run) in sc.runs_with_components() {
        let key = label(&sc.plan.without_policy(&components));
        let i = *slot.entry(key.clone()).or_insert_with(|| {
            cells.push((key, [None, None]));
            cells.len() - 1
        });
        let side = match run.policy {
            Policy::Redirty => 0,
            Policy::Activate => 1,
        };
        cells[i].1[side].get_or_insert(run.outcome.kind);
    }
    cells
        .into_iter()
        .filter_map(|(key, sides)| {
            let (Some(before), Some(after)) = (sides[0], sides[1]) else {
                return None;
            };
            Some(Comparison {
                label: if key.is_empty() { sc.name.clone() } else { key },
                from: Policy::Redirty,
                to: Policy::Activate,
                before,
                after,
                verdict: Change::of(before, after),
            })
        })
        .collect()
}

/// One `--fail-on` hit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hit {
    /// What matched.
    pub what: FailOn,
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
            self.what.name(),
            self.file,
            self.cell,
            self.detail
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
        for (reproduce, run) in runs_to_judge(sc) {
            let what = match run.outcome.kind {
                OutcomeKind::Oom if conditions.contains(&FailOn::Oom) => FailOn::Oom,
                OutcomeKind::Stalled if conditions.contains(&FailOn::Stall) => FailOn::Stall,
                _ => continue,
            };
            out.push(Hit {
                what,
                file: sc.file.clone(),
                cell: run.label.clone(),
                detail: describe(&run.outcome),
                reproduce: vec![reproduce],
            });
        }
        if conditions.contains(&FailOn::Regression) {
            out.extend(regressions(sc));
        }
    }
    out
}

/// A scenario's runs with their reproduce commands: its runs, then each threshold search's
/// bracketing runs.
fn runs_to_judge(sc: &ScenarioRecord) -> Vec<(String, &RunRecord)> {
    let mut runs: Vec<(String, &RunRecord)> = sc
        .runs_with_components()
        .into_iter()
        .map(|(c, r)| (sc.plan.reproduce(&sc.file, &c, r.seed, None), r))
        .collect();
    for t in sc.thresholds.iter().flatten() {
        runs.push((t.below.reproduce.clone(), &t.below.run));
        runs.push((t.above.reproduce.clone(), &t.above.run));
    }
    runs
}

fn regressions(sc: &ScenarioRecord) -> Vec<Hit> {
    let runs = sc.runs_with_components();
    sc.comparisons
        .iter()
        .filter(|c| c.verdict == Change::Regression)
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
                what: FailOn::Regression,
                file: sc.file.clone(),
                cell: c.label.clone(),
                detail: format!(
                    "redirty → activate: {} → {}",
                    c.before.name(),
                    c.after.name()
                ),
                reproduce,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use OutcomeKind::{Oom, Stalled, Survived};

    #[test]
    fn classes() {
        assert_eq!(Change::of(Oom, Survived), Change::Fix);
        assert_eq!(Change::of(Oom, Stalled), Change::Fix);
        assert_eq!(Change::of(Survived, Oom), Change::Regression);
        assert_eq!(Change::of(Stalled, Oom), Change::Regression);
        assert_eq!(Change::of(Oom, Oom), Change::Unchanged);
        assert_eq!(Change::of(Survived, Survived), Change::Unchanged);
        assert_eq!(Change::of(Survived, Stalled), Change::Changed);
    }
}
