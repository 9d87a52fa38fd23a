//! The event loop of one run: boot the machine, pop events in (time, sequence) order until a
//! verdict, the time limit or the event limit, and collect the result.
//!
//! [`simulate_checked`] is the entry point that reports a broken invariant (see
//! `mm/invariants.rs`) as a value; [`simulate`] and [`simulate_with`] panic with the same
//! message. [`check_determinism`] runs a spec twice and compares the results.

use crate::mm::invariants::{InvariantViolation, DEEP_EVERY};
use crate::mm::{Machine, Options};
use crate::outcome::{Outcome, RunResult, TaskReport};
use crate::spec::RunSpec;

/// Machines up to this many pages are recounted after every event when checking invariants.
pub const FULL_CHECK_PAGES: usize = 1 << 16;

/// Runs one simulated machine to its verdict with the default options (stop at the first OOM
/// kill; recount invariants after every event in debug builds).
pub fn simulate(spec: &RunSpec) -> RunResult {
    simulate_with(spec, Options::default())
}

/// Runs one simulated machine, telling `tick` the simulated time every 65 536 events (a
/// progress bar for a long run). The result is the same as [`simulate`]'s.
pub fn simulate_with_progress(spec: &RunSpec, tick: Box<dyn FnMut(u64)>) -> RunResult {
    let mut m = Machine::boot(spec, Options::default());
    m.progress = Some(tick);
    run(&mut m);
    result(&m)
}

/// Runs one simulated machine with explicit options; panics if an invariant breaks.
pub fn simulate_with(spec: &RunSpec, options: Options) -> RunResult {
    simulate_checked(spec, options).unwrap_or_else(|v| panic!("{v}"))
}

/// Runs one simulated machine with explicit options and returns the first broken invariant,
/// with the event number, time and seed, instead of panicking. Time going back is always
/// checked; the page recount only with `options.check_invariants`.
pub fn simulate_checked(spec: &RunSpec, options: Options) -> Result<RunResult, InvariantViolation> {
    let mut m = Machine::boot(spec, options);
    run_checked(&mut m)?;
    Ok(result(&m))
}

/// Two runs of one spec that should have been identical and were not.
#[derive(Clone, Debug)]
pub struct DeterminismMismatch {
    /// The seed of the run.
    pub seed: u64,
    /// The first line where the two runs' JSON serialisations differ: `(line, first, second)`.
    pub first_difference: (usize, String, String),
}

impl std::fmt::Display for DeterminismMismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (line, a, b) = &self.first_difference;
        write!(
            f,
            "two runs with seed {} differ (line {line} of the run result): `{}` then `{}`",
            self.seed,
            a.trim(),
            b.trim()
        )
    }
}

impl std::error::Error for DeterminismMismatch {}

/// Runs `spec` twice and compares the full results (outcome, every counter, every task, the
/// event count). `Ok` carries the first run's result.
pub fn check_determinism(
    spec: &RunSpec,
    options: Options,
) -> Result<Result<RunResult, DeterminismMismatch>, InvariantViolation> {
    let first = simulate_checked(spec, options)?;
    let second = simulate_checked(spec, options)?;
    if first == second {
        return Ok(Ok(first));
    }
    let render = |r: &RunResult| serde_json::to_string_pretty(r).unwrap_or_default();
    let (a, b) = (render(&first), render(&second));
    let first_difference = a
        .lines()
        .zip(b.lines())
        .enumerate()
        .find(|(_, (x, y))| x != y)
        .map(|(i, (x, y))| (i + 1, x.to_string(), y.to_string()))
        .unwrap_or_else(|| (0, "(equal JSON)".into(), "(but unequal values)".into()));
    Ok(Err(DeterminismMismatch {
        seed: spec.seed,
        first_difference,
    }))
}

/// Drives `m` until it has an outcome; panics if an invariant breaks.
pub fn run(m: &mut Machine) {
    run_checked(m).unwrap_or_else(|v| panic!("{v}"));
}

/// Drives `m` until it has an outcome, returning the first broken invariant.
pub fn run_checked(m: &mut Machine) -> Result<(), InvariantViolation> {
    check(m, true)?;
    let mut checks = 0u64;
    m.run.unfinished = m.tasks.iter().filter(|t| t.is_finite()).count();
    let limit = m.spec.limits.sim_time_ns;
    while m.run.outcome.is_none() {
        if m.clock.events >= m.spec.limits.max_events {
            m.run.outcome = Some(Outcome::Stalled {
                at_ns: m.clock.now,
                reason: format!(
                    "event limit ({}) reached with {}",
                    m.spec.limits.max_events,
                    m.progress_summary()
                ),
            });
            break;
        }
        let Some((at, ev)) = m.clock.queue.pop() else {
            m.run.outcome = Some(m.end_verdict(m.clock.now, "nothing left to happen"));
            break;
        };
        if at < m.clock.now {
            return Err(m.violation(format!("time went back from {} ns to {at} ns", m.clock.now)));
        }
        if at > limit {
            m.clock.now = limit;
            m.run.outcome = Some(m.end_verdict(limit, "time limit reached"));
            break;
        }
        crate::observe::before_event(m, at);
        m.clock.now = at;
        m.clock.events += 1;
        m.handle(ev);
        m.unplug_all();
        crate::observe::after_event(m);
        // The recount walks every page: after every event on small machines, every 4096th event
        // on large ones (a debug build of a 4 GiB scenario would otherwise take hours).
        if m.mem.pages.len() <= FULL_CHECK_PAGES || m.clock.events % 4096 == 0 {
            checks += 1;
            check(m, checks % DEEP_EVERY == 0)?;
        }
        if m.clock.events % 65_536 == 0 {
            let now = m.clock.now;
            if let Some(tick) = m.progress.as_mut() {
                tick(now);
            }
        }
        if m.run.outcome.is_none() && m.run.unfinished == 0 && m.tasks.iter().any(|t| t.is_finite())
        {
            let at = m
                .tasks
                .iter()
                .filter_map(|t| t.finished_at)
                .max()
                .unwrap_or(m.clock.now);
            m.run.outcome = Some(if m.run.killed_finite {
                m.end_verdict(at, "a finite task was killed")
            } else {
                Outcome::Survived { at_ns: at }
            });
        }
    }
    crate::observe::finish(m);
    check(m, true)
}

/// The invariant recount, when the options ask for it (`deep`: with the link walks).
fn check(m: &Machine, deep: bool) -> Result<(), InvariantViolation> {
    if m.options.check_invariants {
        m.verify_depth(deep).map_err(|what| m.violation(what))?;
    }
    Ok(())
}

impl Machine {
    /// The verdict when time runs out or nothing is left to happen.
    fn end_verdict(&self, at: u64, why: &str) -> Outcome {
        if self
            .tasks
            .iter()
            .any(|t| t.is_finite() && t.finished_at.is_none())
        {
            Outcome::Stalled {
                at_ns: at,
                reason: format!("{why} with {}", self.progress_summary()),
            }
        } else {
            Outcome::Survived { at_ns: at }
        }
    }

    /// The unfinished finite tasks: how far each got and what it is doing.
    pub fn progress_summary(&self) -> String {
        let mut parts = vec![];
        for t in self
            .tasks
            .iter()
            .filter(|t| t.is_finite() && t.finished_at.is_none())
        {
            let total = t.total_bytes().unwrap_or(0).max(1);
            let pct = t.done_bytes.saturating_mul(100) / total;
            let doing = if t.dead {
                "killed".to_string()
            } else if t.alloc.is_some() {
                "looping in the allocator's slow path".to_string()
            } else if t.bdp.is_some() {
                "throttled in balance_dirty_pages".to_string()
            } else {
                "running".to_string()
            };
            parts.push(format!("{} at {pct}% ({doing})", t.name));
        }
        if parts.is_empty() {
            "every task finished".into()
        } else {
            parts.join(", ")
        }
    }
}

/// Collects the result of a finished run.
pub fn result(m: &Machine) -> RunResult {
    let outcome = m.run.outcome.clone().expect("run ended without an outcome");
    // Page counters in base (4 KiB) pages; counts of passes and sleeps as they are.
    let b = |x: u64| m.granularity.base(x);
    RunResult {
        sim_ns: outcome.at_ns(),
        outcome,
        events: m.clock.events,
        vmstat: m.vmstat(),
        tasks: m
            .tasks
            .iter()
            .map(|t| TaskReport {
                name: t.name.clone(),
                pid: t.pid,
                done_bytes: t.done_bytes,
                total_bytes: t.total_bytes(),
                finished_at_ns: t.finished_at,
                killed: t.killed,
            })
            .collect(),
        writepage_refused: b(m.stats.counters.writepage_refused),
        pages_written_by_writeback: b(m.stats.counters.pages_written_by_writeback),
        pages_written_by_reclaim: b(m.stats.counters.pages_written_by_reclaim),
        pages_written_by_journal: b(m.stats.counters.pages_written_by_journal),
        reclaim_no_progress: m.stats.counters.reclaim_no_progress,
        later: crate::outcome::LaterCounters {
            vmscan_immediate: b(m.stats.counters.vmscan_immediate),
            reclaim_throttled: m.stats.counters.reclaim_throttled,
            zone_dirty_skips: b(m.stats.counters.zone_dirty_skips),
            dirty_pauses: m.stats.counters.dirty_pauses,
            pages_written_by_dirtier: b(m.stats.counters.pages_written_by_dirtier),
        },
        oom_reports: m.run.oom_reports.clone(),
        meminfo: crate::observe::vmstat_print::meminfo(m),
        policy_decisions: m.run.policy_decisions,
    }
}
