//! Comparisons: each cell's runs per policy summarised ([`summaries`]: OOM rate with a 95 %
//! Wilson interval, median and range of the times), each redirty/activate pair classified as a
//! [`Change`] with its figures ([`comparisons`]), and the `--fail-on` conditions, each hit
//! reported with the command that reproduces it.
//!
//! With one run per side the verdict is about that deterministic run: `fix` or `regression`
//! when the OOM appears or goes, `delayed`/`earlier` when both go OOM at least [`MIN_SHIFT_S`]
//! apart. With replicas a verdict needs evidence: `fix`/`regression` only where the two OOM
//! rates' 95 % intervals do not overlap, `delayed`/`earlier` only where the two ranges of
//! time-to-OOM do not overlap; rates that differ without separating read `inconclusive`.

use serde::{Deserialize, Serialize};

use crate::noise::wilson;
use crate::outcome::OutcomeKind;
use crate::report::build::describe;
use crate::report::document::{
    Comparison, Document, Rates, RunRecord, ScenarioRecord, Spread, Summary,
};
use crate::scenario::matrix::label;
use crate::spec::Policy;

/// What switching from `redirty` to `activate` did to a cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
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
    /// Both OOM, the OOM later under `activate`.
    Delayed,
    /// Both OOM, the OOM earlier under `activate`.
    Earlier,
    /// With replicas: the OOM rates differ but their intervals overlap.
    Inconclusive,
}

/// The least shift of the OOM time that `delayed`/`earlier` report, s: below it the change is
/// within one flusher wake-up (`dirty_writeback_centisecs`, 5 s by default) of noise.
pub const MIN_SHIFT_S: f64 = 1.0;

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

    /// `fix`, `regression`, `unchanged`, `changed`, `delayed`, `earlier` or `inconclusive`.
    pub fn name(self) -> &'static str {
        match self {
            Change::Fix => "fix",
            Change::Regression => "regression",
            Change::Unchanged => "unchanged",
            Change::Changed => "changed",
            Change::Delayed => "delayed",
            Change::Earlier => "earlier",
            Change::Inconclusive => "inconclusive",
        }
    }

    /// The verdict as the table prints it: `delayed +62 s`, `earlier −10 s`, `fix`, …
    pub fn words(self, shift_s: Option<f64>) -> String {
        match (self, shift_s) {
            (Change::Delayed, Some(s)) => format!("delayed +{s:.0} s"),
            (Change::Earlier, Some(s)) => format!("earlier −{:.0} s", s.abs()),
            _ => self.name().to_string(),
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

/// A cell's runs under one policy: the cell label (without policy) and the runs.
struct Side<'a> {
    cell: String,
    policy: Policy,
    runs: Vec<&'a RunRecord>,
}

/// The runs of a scenario grouped by cell and policy, in run order.
fn sides(sc: &ScenarioRecord) -> Vec<Side<'_>> {
    // One pass with an index by (cell, policy): a search per run was quadratic in the runs.
    let mut out: Vec<Side<'_>> = Vec::new();
    let mut slot: std::collections::HashMap<(String, Policy), usize> = Default::default();
    for (components, run) in sc.runs_with_components() {
        let key = label(&sc.plan.without_policy(&components));
        let cell = if key.is_empty() { sc.name.clone() } else { key };
        let i = *slot.entry((cell.clone(), run.policy)).or_insert_with(|| {
            out.push(Side {
                cell,
                policy: run.policy,
                runs: vec![],
            });
            out.len() - 1
        });
        out[i].runs.push(run);
    }
    out
}

impl Side<'_> {
    fn summary(&self) -> Summary {
        let n = self.runs.len() as u32;
        let count = |k: OutcomeKind| self.runs.iter().filter(|r| r.outcome.kind == k).count();
        let oom = count(OutcomeKind::Oom) as u32;
        let times = |k: OutcomeKind| -> Vec<f64> {
            let runs = self.runs.iter().filter(|r| r.outcome.kind == k);
            runs.map(|r| r.outcome.at_s).collect()
        };
        Summary {
            cell: self.cell.clone(),
            policy: self.policy,
            runs: n,
            oom,
            stalled: count(OutcomeKind::Stalled) as u32,
            oom_rate: f64::from(oom) / f64::from(n.max(1)),
            oom_interval: wilson(oom, n),
            oom_at_s: Spread::of(&times(OutcomeKind::Oom)),
            survived_at_s: Spread::of(&times(OutcomeKind::Survived)),
        }
    }

    /// The most common outcome kind (ties: OOM, then stalled, then survived).
    fn mode(&self) -> OutcomeKind {
        let count = |k: OutcomeKind| self.runs.iter().filter(|r| r.outcome.kind == k).count();
        [
            OutcomeKind::Oom,
            OutcomeKind::Stalled,
            OutcomeKind::Survived,
        ]
        .into_iter()
        .rev()
        .max_by_key(|&k| count(k))
        .unwrap_or(OutcomeKind::Survived)
    }

    /// The median end time of the runs of the most common outcome, s.
    fn median_at(&self) -> f64 {
        let mode = self.mode();
        let times: Vec<f64> = self
            .runs
            .iter()
            .filter(|r| r.outcome.kind == mode)
            .map(|r| r.outcome.at_s)
            .collect();
        Spread::of(&times).map_or(0.0, |s| s.median)
    }
}

/// With more than one replica: each cell and policy over its replicas, in run order (empty
/// otherwise: a single run is its own summary).
pub fn summaries(sc: &ScenarioRecord) -> Vec<Summary> {
    if sc.plan.replicas <= 1 {
        return Vec::new();
    }
    sides(sc).iter().map(Side::summary).collect()
}

/// Each cell and policy's OOM times, s, in run order (`study`'s distributions).
pub fn oom_times(sc: &ScenarioRecord) -> Vec<OomTimes> {
    sides(sc)
        .iter()
        .map(|side| OomTimes {
            cell: side.cell.clone(),
            policy: side.policy,
            at_s: side
                .runs
                .iter()
                .filter(|r| r.outcome.kind == OutcomeKind::Oom)
                .map(|r| r.outcome.at_s)
                .collect(),
        })
        .collect()
}

/// When each replica of a cell and policy went OOM.
#[derive(Clone, Debug, PartialEq, serde::Serialize, schemars::JsonSchema)]
pub struct OomTimes {
    /// The cell label without the policy.
    pub cell: String,
    /// The policy.
    #[serde(with = "crate::report::document::policy_name")]
    #[schemars(with = "crate::report::document::PolicyName")]
    pub policy: Policy,
    /// The OOM time of each replica that went OOM, s, in replica order.
    pub at_s: Vec<f64>,
}

/// Each cell and policy over its runs, whatever the number of replicas (`study`).
pub fn cell_summaries(sc: &ScenarioRecord) -> Vec<Summary> {
    sides(sc).iter().map(Side::summary).collect()
}

/// Every redirty/activate pair of a scenario, in run order.
pub fn comparisons(sc: &ScenarioRecord) -> Vec<Comparison> {
    let sides = sides(sc);
    let mut out = Vec::new();
    for before in sides.iter().filter(|s| s.policy == Policy::Redirty) {
        let Some(after) = sides
            .iter()
            .find(|s| s.cell == before.cell && s.policy == Policy::Activate)
        else {
            continue;
        };
        out.push(compare(before, after, sc.plan.replicas > 1));
    }
    out
}

/// The comparison of one cell's two sides.
fn compare(before: &Side<'_>, after: &Side<'_>, replicated: bool) -> Comparison {
    let (b, a) = (before.summary(), after.summary());
    let (verdict, shift_s) = if replicated {
        verdict_of_rates(&b, &a)
    } else {
        let run = |s: &Side<'_>| (s.runs[0].outcome.kind, s.runs[0].outcome.at_s);
        verdict_of_runs(run(before), run(after))
    };
    Comparison {
        label: before.cell.clone(),
        from: Policy::Redirty,
        to: Policy::Activate,
        before: before.mode(),
        after: after.mode(),
        verdict,
        before_at_s: before.median_at(),
        after_at_s: after.median_at(),
        shift_s,
        rates: replicated.then_some(Rates {
            runs: b.runs,
            before_oom: b.oom,
            after_oom: a.oom,
            before_interval: b.oom_interval,
            after_interval: a.oom_interval,
        }),
    }
}

/// The verdict of one deterministic run per side, each `(outcome, end time s)`: `fix` or
/// `regression` when the OOM appears or goes, `delayed`/`earlier` with the shift when both go
/// OOM at least [`MIN_SHIFT_S`] apart (`compare` and `history`).
pub fn verdict_of_runs(
    before: (OutcomeKind, f64),
    after: (OutcomeKind, f64),
) -> (Change, Option<f64>) {
    match Change::of(before.0, after.0) {
        Change::Unchanged if before.0 == OutcomeKind::Oom => shift(before.1, after.1),
        change => (change, None),
    }
}

/// `delayed`/`earlier` when the OOM moved by at least [`MIN_SHIFT_S`], else `unchanged`.
fn shift(before_s: f64, after_s: f64) -> (Change, Option<f64>) {
    let d = after_s - before_s;
    if d >= MIN_SHIFT_S {
        (Change::Delayed, Some(d))
    } else if d <= -MIN_SHIFT_S {
        (Change::Earlier, Some(d))
    } else {
        (Change::Unchanged, None)
    }
}

/// The verdict of two summaries of replicas (the module header says when each applies).
fn verdict_of_rates(b: &Summary, a: &Summary) -> (Change, Option<f64>) {
    if b.oom_interval.0 > a.oom_interval.1 {
        return (Change::Fix, None);
    }
    if a.oom_interval.0 > b.oom_interval.1 {
        return (Change::Regression, None);
    }
    if let (Some(x), Some(y)) = (b.oom_at_s, a.oom_at_s) {
        let separate = y.min > x.max || y.max < x.min;
        let (change, s) = shift(x.median, y.median);
        if separate && change != Change::Unchanged {
            return (change, s);
        }
    }
    if b.oom != a.oom {
        return (Change::Inconclusive, None);
    }
    let stalled_differ = b.stalled != a.stalled;
    (
        if stalled_differ {
            Change::Changed
        } else {
            Change::Unchanged
        },
        None,
    )
}

/// How a comparison reads under a table: `960MiB/ext4: redirty OOM at 19.0 s → activate OOM at
/// 81.0 s: delayed +62 s`, or with replicas `ext4: redirty 27/32 OOM (67–94 %) → activate 4/32
/// OOM (5–28 %): fix`.
pub fn line(c: &Comparison) -> String {
    let verdict = c.verdict.words(c.shift_s);
    match &c.rates {
        None => format!(
            "{}: {} {} at {:.1} s → {} {} at {:.1} s: {verdict}",
            c.label,
            c.from.name(),
            c.before.word(),
            c.before_at_s,
            c.to.name(),
            c.after.word(),
            c.after_at_s
        ),
        Some(r) => {
            let side = |oom: u32, (lo, hi): (f64, f64)| {
                format!(
                    "{oom}/{} OOM ({:.0}–{:.0} %)",
                    r.runs,
                    lo * 100.0,
                    hi * 100.0
                )
            };
            let mut l = format!(
                "{}: {} {} → {} {}: {verdict}",
                c.label,
                c.from.name(),
                side(r.before_oom, r.before_interval),
                c.to.name(),
                side(r.after_oom, r.after_interval)
            );
            if c.shift_s.is_some() {
                l.push_str(&format!(
                    " (median OOM at {:.1} s → {:.1} s)",
                    c.before_at_s, c.after_at_s
                ));
            }
            l
        }
    }
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

    fn summary(oom: u32, runs: u32, oom_at: &[f64]) -> Summary {
        Summary {
            cell: "c".into(),
            policy: Policy::Redirty,
            runs,
            oom,
            stalled: 0,
            oom_rate: f64::from(oom) / f64::from(runs),
            oom_interval: wilson(oom, runs),
            oom_at_s: Spread::of(oom_at),
            survived_at_s: None,
        }
    }

    #[test]
    fn a_fix_needs_intervals_that_separate() {
        let t = [20.0; 27];
        assert_eq!(
            verdict_of_rates(&summary(27, 32, &t), &summary(4, 32, &t[..4])),
            (Change::Fix, None)
        );
        assert_eq!(
            verdict_of_rates(&summary(4, 32, &t[..4]), &summary(27, 32, &t)),
            (Change::Regression, None)
        );
        // 5/8 against 3/8: the rates differ, the intervals overlap.
        assert_eq!(
            verdict_of_rates(&summary(5, 8, &t[..5]), &summary(3, 8, &t[..3])),
            (Change::Inconclusive, None)
        );
    }

    #[test]
    fn a_delay_is_reported_with_the_shift_of_the_medians() {
        let before = [18.0, 19.0, 19.5];
        let after = [79.0, 81.0, 90.0];
        let (v, s) = verdict_of_rates(&summary(3, 3, &before), &summary(3, 3, &after));
        assert_eq!(v, Change::Delayed);
        assert!((s.unwrap() - 62.0).abs() < 1e-9);
        assert_eq!(v.words(s), "delayed +62 s");
        let (v, s) = verdict_of_rates(&summary(3, 3, &after), &summary(3, 3, &before));
        assert_eq!(v.words(s), "earlier −62 s");
        // Overlapping ranges are no delay, however far the medians.
        let wide = [10.0, 50.0, 100.0];
        assert_eq!(
            verdict_of_rates(&summary(3, 3, &before), &summary(3, 3, &wide)).0,
            Change::Unchanged
        );
        assert_eq!(shift(19.0, 19.5), (Change::Unchanged, None));
    }

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
