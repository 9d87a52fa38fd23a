//! Building the results document from runs: a record per run (its result, with the mmtests rows
//! and the `--oom-report`/`--vmstat` extras), a scenario's record and plan, and the checks of
//! `[expect]` against a scenario's records (which `merge` recomputes the same way).

use serde_json::Map;

use super::document::{
    AxisRecord, CheckRecord, CountersRecord, ExpectRecord, OutcomeRecord, Plan, PlanCommand,
    Provenance, RunRecord, ScenarioRecord, ShardRecord,
};
use super::mmtests::Mmtests;
use crate::outcome::{Outcome, OutcomeKind, RunResult};
use crate::scenario::matrix::pattern_matches;
use crate::scenario::{Overrides, PlannedRun, Scenario};
use crate::spec::TaskKind;

/// What a run's record carries besides its result (`--oom-report`, `--vmstat`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Extras {
    /// Each OOM report's lines (`oom_reports`).
    pub oom_reports: bool,
    /// The final /proc/meminfo (`meminfo_kb`).
    pub meminfo: bool,
}

/// The plan of a loaded scenario.
pub fn plan(sc: &Scenario, command: PlanCommand, varied: &[String]) -> Plan {
    let mut stream_writers: Vec<String> = Vec::new();
    for run in &sc.runs {
        for t in &run.spec.tasks {
            if matches!(t.kind, TaskKind::StreamWrite { .. }) && !stream_writers.contains(&t.name) {
                stream_writers.push(t.name.clone());
            }
        }
    }
    Plan {
        command,
        sets: sc.plain_sets.clone(),
        cells: sc.cells.clone(),
        axes: sc
            .axes
            .iter()
            .map(|a| AxisRecord {
                path: a.path.clone(),
                declared: a.declared,
                varied: varied.contains(&a.path),
                values: a.labels(),
            })
            .collect(),
        stream_writers,
        expect: sc.expectations.as_ref().map(|es| {
            es.iter()
                .map(|e| ExpectRecord {
                    pattern: e.pattern.clone(),
                    outcome: OutcomeKind::from_name(&e.outcome)
                        .expect("the loader accepts only outcome kinds"),
                    victim: e.victim.clone(),
                    invoker: e.invoker.clone(),
                })
                .collect()
        }),
        threshold: None,
        replicas: sc.replicas,
        noise: (!sc.noise.is_zero()).then_some(sc.noise),
    }
}

/// The replica number a record carries: only when its scenario has more than one (a single run
/// reads as before).
fn replicas_of(run: &PlannedRun) -> Option<u32> {
    run.many_replicas.then_some(run.replica)
}

/// The record of one run.
pub fn run_record(run: &PlannedRun, result: &RunResult, extras: Extras) -> RunRecord {
    let spec = &run.spec;
    RunRecord {
        cell: run
            .cell
            .iter()
            .map(|(p, v)| (p.clone(), v.to_json()))
            .collect::<Map<_, _>>(),
        label: run.label.clone(),
        policy: spec.policy,
        release: spec.kernel.display_name(),
        seed: spec.seed,
        replica: replicas_of(run),
        page_granularity: spec.machine.coarse_page(),
        outcome: outcome_record(&result.outcome),
        sim_seconds: result.sim_ns as f64 / 1e9,
        events: result.events,
        tasks: result.tasks.clone(),
        counters: CountersRecord {
            writepage_refused: result.writepage_refused,
            pages_written_by_writeback: result.pages_written_by_writeback,
            pages_written_by_reclaim: result.pages_written_by_reclaim,
            pages_written_by_journal: result.pages_written_by_journal,
            reclaim_no_progress: result.reclaim_no_progress,
            flusher_allocstall: result.flusher_allocstall,
            later: result.later.clone(),
            request_wait: result.request_wait.clone(),
        },
        vmstat: result.vmstat.clone(),
        mmtests: Some(Mmtests::of(&result.vmstat, result.sim_ns)),
        oom_reports: extras.oom_reports.then(|| {
            result
                .oom_reports
                .iter()
                .map(|r| {
                    let text = super::oom_report::render(r, spec);
                    text.lines().map(str::to_string).collect()
                })
                .collect()
        }),
        meminfo_kb: extras.meminfo.then(|| result.meminfo.clone()),
    }
}

fn outcome_record(o: &Outcome) -> OutcomeRecord {
    let mut record = OutcomeRecord {
        kind: o.kind(),
        at_s: o.at_ns() as f64 / 1e9,
        victim: None,
        victim_pid: None,
        invoker: None,
        constraint: None,
        reason: None,
    };
    match o {
        Outcome::Oom {
            victim,
            victim_pid,
            invoker,
            constraint,
            ..
        } => {
            record.victim = Some(victim.clone());
            record.victim_pid = Some(*victim_pid);
            record.invoker = Some(invoker.clone());
            record.constraint = Some(*constraint);
        }
        Outcome::Stalled { reason, .. } => record.reason = Some(reason.clone()),
        Outcome::Survived { .. } => {}
    }
    record
}

/// The record of one scenario's runs. `held` is the plan index of each result (all of them, in
/// order, when unsharded).
pub fn scenario_record(
    sc: &Scenario,
    plan: Plan,
    held: &[usize],
    results: &[&RunResult],
    shard: Option<crate::shard::Shard>,
    extras: Extras,
) -> ScenarioRecord {
    let runs = held
        .iter()
        .zip(results)
        .map(|(&i, result)| run_record(&sc.runs[i], result, extras))
        .collect();
    let mut record = ScenarioRecord {
        file: sc.file.clone(),
        name: sc.name.clone(),
        release: None,
        seed: None,
        runs,
        comparisons: Vec::new(),
        summaries: Vec::new(),
        checks: None,
        margins: None,
        thresholds: None,
        shard: shard.map(|s| ShardRecord {
            index: s.index,
            count: s.count,
            total: sc.runs.len(),
            items: held.to_vec(),
        }),
        plan,
        provenance: None,
    };
    record.summarise();
    record
}

/// The provenance of a scenario's results under `command` (`run`, `check`, `sweep`,
/// `history`) with the command line's `ov`.
pub fn provenance(sc: &Scenario, ov: &Overrides, command: &str) -> Provenance {
    let mut kernels: Vec<String> = Vec::new();
    for run in &sc.runs {
        let k = run.spec.kernel.display_name();
        if !kernels.contains(&k) {
            kernels.push(k);
        }
    }
    Provenance {
        command: command.to_string(),
        scenario_sha256: sc.sha256.clone(),
        sets: ov.sets.iter().map(|(p, v)| format!("{p}={v}")).collect(),
        seed: ov.seed,
        policies: ov.policies.iter().map(|p| p.name().to_string()).collect(),
        replicas: sc.replicas,
        kernels,
        wbsim_version: env!("CARGO_PKG_VERSION").to_string(),
    }
}

/// Whether an expectation holds for a run.
pub fn holds(exp: &ExpectRecord, o: &OutcomeRecord) -> bool {
    let matches = |want: &Option<String>, got: &Option<String>| {
        want.as_ref().map_or(true, |w| Some(w) == got.as_ref())
    };
    exp.outcome == o.kind
        && (o.kind != OutcomeKind::Oom
            || (matches(&exp.victim, &o.victim) && matches(&exp.invoker, &o.invoker)))
}

/// Applies every expectation to every run it matches (expectation order, then run order).
pub fn checks(sc: &ScenarioRecord) -> Vec<CheckRecord> {
    let mut out = Vec::new();
    let runs = sc.runs_with_components();
    for exp in sc.plan.expect.iter().flatten() {
        for (components, run) in &runs {
            if !pattern_matches(&exp.pattern, components) {
                continue;
            }
            out.push(CheckRecord {
                expect: exp.pattern.clone(),
                cell: run.label.clone(),
                pass: holds(exp, &run.outcome),
                expected: describe_expect(exp),
                got: describe(&run.outcome),
                reproduce: sc.plan.reproduce(&sc.file, components, run.seed, None),
            });
        }
    }
    out
}

/// How an expectation reads in a check line: `oom (victim db, invoker dd)`.
fn describe_expect(e: &ExpectRecord) -> String {
    let mut extra = Vec::new();
    if let Some(v) = &e.victim {
        extra.push(format!("victim {v}"));
    }
    if let Some(i) = &e.invoker {
        extra.push(format!("invoker {i}"));
    }
    if extra.is_empty() {
        e.outcome.name().to_string()
    } else {
        format!("{} ({})", e.outcome.name(), extra.join(", "))
    }
}

/// How an outcome reads in a check line or a `--fail-on` hit.
pub fn describe(o: &OutcomeRecord) -> String {
    match o.kind {
        OutcomeKind::Oom => format!(
            "oom (victim {}, invoker {}) at {:.1} s",
            match o.victim.as_deref() {
                None | Some("") => "none: panic",
                Some(v) => v,
            },
            o.invoker.as_deref().unwrap_or("?"),
            o.at_s
        ),
        OutcomeKind::Survived => format!("survived at {:.1} s", o.at_s),
        OutcomeKind::Stalled => format!(
            "stalled at {:.1} s ({})",
            o.at_s,
            o.reason.as_deref().unwrap_or("")
        ),
    }
}
