//! Rendering results: the OOM-versus-survive table, the JSON document and `check` lines.

pub mod check;
pub mod json;
pub mod table;

use crate::outcome::{Outcome, RunResult};
use crate::scenario::{PlannedRun, Scenario};
use crate::spec::{Policy, TaskKind};

/// A scenario with the result of each of its runs (same order as `scenario.runs`).
pub struct ScenarioResults<'a> {
    /// The scenario.
    pub scenario: &'a Scenario,
    /// One result per planned run.
    pub results: Vec<RunResult>,
}

impl ScenarioResults<'_> {
    /// Each run with its result.
    pub fn pairs(&self) -> impl Iterator<Item = (&PlannedRun, &RunResult)> {
        self.scenario.runs.iter().zip(&self.results)
    }

    /// The kernel (profile, plus any `[kernel]` settings) when every run has the same one.
    pub fn release(&self) -> Option<String> {
        uniform(
            self.scenario
                .runs
                .iter()
                .map(|r| r.spec.kernel.display_name()),
        )
    }

    /// The seed when every run has the same one.
    pub fn seed(&self) -> Option<u64> {
        uniform(self.scenario.runs.iter().map(|r| r.spec.seed))
    }
}

fn uniform<T: PartialEq>(mut it: impl Iterator<Item = T>) -> Option<T> {
    let first = it.next()?;
    it.all(|x| x == first).then_some(first)
}

/// `OOM`, `survived` or `stalled`, as the table shows outcomes.
pub fn outcome_word(o: &Outcome) -> &'static str {
    match o {
        Outcome::Oom { .. } => "OOM",
        Outcome::Survived { .. } => "survived",
        Outcome::Stalled { .. } => "stalled",
    }
}

/// Nanoseconds as seconds with one decimal: `42.0`.
pub fn secs(ns: u64) -> String {
    format!("{:.1}", ns as f64 / 1e9)
}

/// A pair of runs that differ only by policy.
pub struct Comparison<'a> {
    /// The cell label without the policy (the scenario name when the policy is the only axis).
    pub label: String,
    /// The `redirty` run's outcome.
    pub before: &'a Outcome,
    /// The `activate` run's outcome.
    pub after: &'a Outcome,
}

/// Every redirty/activate pair, in run order.
pub fn comparisons<'a>(sr: &'a ScenarioResults<'_>) -> Vec<Comparison<'a>> {
    let mut out = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for (run, _) in sr.pairs() {
        let key = run.label_without_policy.as_str();
        if seen.contains(&key) {
            continue;
        }
        seen.push(key);
        let find = |p: Policy| {
            sr.pairs()
                .find(|(r, _)| r.label_without_policy == key && r.spec.policy == p)
                .map(|(_, res)| &res.outcome)
        };
        if let (Some(before), Some(after)) = (find(Policy::Redirty), find(Policy::Activate)) {
            let label = if key.is_empty() {
                sr.scenario.name.clone()
            } else {
                key.to_string()
            };
            out.push(Comparison {
                label,
                before,
                after,
            });
        }
    }
    out
}

/// The counters of the table, summed over zone suffixes.
#[derive(Debug, Default, PartialEq)]
pub struct Counters {
    /// pgscan_kswapd_* + pgscan_direct_*.
    pub pgscan: u64,
    /// pgsteal_*.
    pub pgsteal: u64,
    /// nr_vmscan_write.
    pub nr_vmscan_write: u64,
    /// RunResult::writepage_refused.
    pub refused: u64,
    /// pgrotated.
    pub pgrotated: u64,
    /// allocstall (summed over zones where the release splits it).
    pub allocstall: u64,
    /// Pages written by the flusher threads and throttled writers, in MiB.
    pub flusher_mib: f64,
}

fn sum_family(r: &RunResult, family: &str) -> u64 {
    let prefix = format!("{family}_");
    r.vmstat
        .iter()
        .filter(|(n, _)| n == family || n.starts_with(&prefix))
        .fold(0u64, |a, (_, v)| a.saturating_add(*v))
}

/// Computes the table's counters.
pub fn counters(r: &RunResult) -> Counters {
    Counters {
        pgscan: sum_family(r, "pgscan_kswapd").saturating_add(sum_family(r, "pgscan_direct")),
        pgsteal: sum_family(r, "pgsteal"),
        nr_vmscan_write: r.vmstat("nr_vmscan_write"),
        refused: r.writepage_refused,
        pgrotated: r.vmstat("pgrotated"),
        allocstall: sum_family(r, "allocstall"),
        flusher_mib: r.pages_written_by_writeback as f64 * 4096.0 / f64::from(1u32 << 20),
    }
}

/// The stream-write tasks of a scenario (names, in declaration order, across every run).
pub fn stream_writers(sr: &ScenarioResults<'_>) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for run in &sr.scenario.runs {
        for t in &run.spec.tasks {
            if matches!(t.kind, TaskKind::StreamWrite { .. }) && !names.contains(&t.name) {
                names.push(t.name.clone());
            }
        }
    }
    names
}

/// A stream writer's progress: `42.0 s` when it finished, else the percentage of bytes written.
pub fn writer_progress(run: &PlannedRun, res: &RunResult, name: &str) -> String {
    let Some(spec) = run.spec.tasks.iter().find(|t| t.name == name) else {
        return "-".into();
    };
    let TaskKind::StreamWrite { bytes, .. } = spec.kind else {
        return "-".into();
    };
    let Some(rep) = res.tasks.iter().find(|t| t.name == name) else {
        return "-".into();
    };
    if let Some(at) = rep.finished_at_ns {
        return format!("{} s", secs(at));
    }
    let total = rep.total_bytes.unwrap_or(bytes).max(1);
    let pct = u128::from(rep.done_bytes.min(total)) * 100 / u128::from(total);
    format!("{pct}%")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counter_families() {
        let r = RunResult {
            outcome: Outcome::Survived { at_ns: 0 },
            sim_ns: 0,
            events: 0,
            vmstat: [
                ("pgscan_kswapd_dma", 1),
                ("pgscan_kswapd_normal", 2),
                ("pgscan_direct_dma32", 4),
                ("pgsteal_normal", 8),
                ("pgsteal_dma", 16),
                ("allocstall", 3),
                ("pgrotated", 5),
                ("nr_vmscan_write", 6),
                ("pgscan_kswapdx", 100),
            ]
            .iter()
            .map(|(n, v)| ((*n).to_string(), *v))
            .collect(),
            tasks: Vec::new(),
            writepage_refused: 7,
            pages_written_by_writeback: 512,
            pages_written_by_reclaim: 0,
            pages_written_by_journal: 0,
            reclaim_no_progress: 0,
            later: Default::default(),
            oom_reports: Vec::new(),
            meminfo: Vec::new(),
        };
        let c = counters(&r);
        assert_eq!(
            c,
            Counters {
                pgscan: 7,
                pgsteal: 24,
                nr_vmscan_write: 6,
                refused: 7,
                pgrotated: 5,
                allocstall: 3,
                flusher_mib: 2.0
            }
        );
    }
}
