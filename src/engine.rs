//! The event loop of one run: boot the machine, pop events in (time, sequence) order until a
//! verdict, the time limit or the event limit, and collect the result.

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

/// Runs one simulated machine with explicit options.
pub fn simulate_with(spec: &RunSpec, options: Options) -> RunResult {
    let mut m = Machine::boot(spec, options);
    run(&mut m);
    result(&m)
}

/// Drives `m` until it has an outcome.
pub fn run(m: &mut Machine) {
    m.unfinished = m.tasks.iter().filter(|t| t.is_finite()).count();
    let limit = m.spec.limits.sim_time_ns;
    while m.outcome.is_none() {
        if m.events >= m.spec.limits.max_events {
            m.outcome = Some(Outcome::Stalled {
                at_ns: m.now,
                reason: format!(
                    "event limit ({}) reached; {}",
                    m.spec.limits.max_events,
                    m.progress_summary()
                ),
            });
            break;
        }
        let Some((at, ev)) = m.queue.pop() else {
            m.outcome = Some(m.end_verdict(m.now));
            break;
        };
        if at > limit {
            m.now = limit;
            m.outcome = Some(m.end_verdict(limit));
            break;
        }
        crate::observe::before_event(m, at);
        m.now = at;
        m.events += 1;
        m.handle(ev);
        m.unplug_all();
        crate::observe::after_event(m);
        // The recount walks every page: after every event on small machines, every 4096th event
        // on large ones (a debug build of a 4 GiB scenario would otherwise take hours).
        if m.options.check_invariants && (m.pages.len() <= FULL_CHECK_PAGES || m.events % 4096 == 0)
        {
            m.check_invariants();
        }
        if m.outcome.is_none() && m.unfinished == 0 && m.tasks.iter().any(|t| t.is_finite()) {
            let at = m
                .tasks
                .iter()
                .filter_map(|t| t.finished_at)
                .max()
                .unwrap_or(m.now);
            m.outcome = Some(if m.killed_finite {
                m.end_verdict(at)
            } else {
                Outcome::Survived { at_ns: at }
            });
        }
    }
    if m.options.check_invariants {
        m.check_invariants();
    }
    crate::observe::finish(m);
}

impl Machine {
    /// The verdict when time runs out or nothing is left to happen.
    fn end_verdict(&self, at: u64) -> Outcome {
        if self
            .tasks
            .iter()
            .any(|t| t.is_finite() && t.finished_at.is_none())
        {
            Outcome::Stalled {
                at_ns: at,
                reason: self.progress_summary(),
            }
        } else {
            Outcome::Survived { at_ns: at }
        }
    }

    /// One sentence on the unfinished finite tasks: how far each got and what it is doing.
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
            format!("time limit reached with {}", parts.join(", "))
        }
    }
}

/// Collects the result of a finished run.
pub fn result(m: &Machine) -> RunResult {
    let outcome = m.outcome.clone().expect("run ended without an outcome");
    RunResult {
        sim_ns: outcome.at_ns(),
        outcome,
        events: m.events,
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
        writepage_refused: m.rc.writepage_refused,
        pages_written_by_writeback: m.rc.pages_written_by_writeback,
        pages_written_by_reclaim: m.rc.pages_written_by_reclaim,
        pages_written_by_journal: m.rc.pages_written_by_journal,
        reclaim_no_progress: m.rc.reclaim_no_progress,
        later: crate::outcome::LaterCounters {
            vmscan_immediate: m.rc.vmscan_immediate,
            reclaim_throttled: m.rc.reclaim_throttled,
            zone_dirty_skips: m.rc.zone_dirty_skips,
            dirty_pauses: m.rc.dirty_pauses,
            pages_written_by_dirtier: m.rc.pages_written_by_dirtier,
        },
        oom_reports: m.oom_reports.clone(),
        meminfo: crate::observe::vmstat_print::meminfo(m),
    }
}
