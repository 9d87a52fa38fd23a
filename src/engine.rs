//! The event loop of one run: boot the machine, pop events in (time, sequence) order until a
//! verdict, the time limit or the event limit, and collect the result.
//!
//! [`execute`] is the way in: a spec and a [`Setup`] (the options, how often to recount the
//! invariants, a probe, a progress tick) give the result and the probe back, or the first broken
//! invariant (see `mm/invariants.rs`) as a value. Every command runs through `crate::run::Runner`,
//! which calls it. [`simulate`] and [`simulate_checked`] are its shorthands for tests and benches;
//! [`run_checked`] (or [`run`], which panics) and [`result`] drive a machine a test booted and
//! prepared itself.

use crate::mm::invariants::{InvariantViolation, DEEP_EVERY};
use crate::mm::page::LruList;
use crate::mm::{Machine, Options};
use crate::outcome::{Meminfo, Outcome, RunResult, TaskReport, Vmstat};
use crate::probe::Probe;
use crate::sim::SimTime;
use crate::spec::RunSpec;

/// Machines up to this many pages are recounted after every event by [`Recount::Full`].
pub const FULL_CHECK_PAGES: usize = 1 << 16;

/// [`Recount::Full`] on a machine larger than [`FULL_CHECK_PAGES`]: every this many events.
pub const LARGE_MACHINE_STRIDE: u64 = 4096;

/// [`Recount::Sampled`]: each tier may visit this many of the objects it checks (pages; zones and
/// tasks) per event, on average.
pub const SAMPLED_VISITS_PER_EVENT: u64 = 2;

/// Locating a violation found by a sampled recount: each re-run recounts at this many points
/// spread over the events still in question.
const LOCATE_POINTS: u64 = 64;

/// How often the invariant checks run when `Options::check_invariants` is set (they all run at
/// boot and at the end of every run). Two tiers (`mm/invariants.rs`): the structure checks
/// (O(zones + tasks + a mechanism's objects), [`Machine::verify_structures`]) and the page
/// recount (O(pages), [`Machine::verify_pages`], every [`DEEP_EVERY`]th one deep). A violation
/// the page recount finds some events after the last recount that passed is located: the run
/// is repeated (it is deterministic) with recounts closer together until the first event after
/// which the check fails, so the event reported is exact in every mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recount {
    /// Both tiers after every event on machines of up to [`FULL_CHECK_PAGES`] pages, every
    /// [`LARGE_MACHINE_STRIDE`]th event on larger ones (a debug build of a 4 GiB scenario would
    /// otherwise take hours): what the tests and `--check-invariants=every-event` ask for.
    Full,
    /// The structure checks every `(zones + tasks) / SAMPLED_VISITS_PER_EVENT`th event (after
    /// every event on a machine of a few zones), the page recount every
    /// `pages / SAMPLED_VISITS_PER_EVENT`th event, so each costs about as much as the run itself
    /// or less: what `--check-invariants` and a debug build without it do.
    Sampled,
}

impl Recount {
    /// The number of events between two page recounts on a machine of `pages` simulated pages.
    pub fn interval(self, pages: usize) -> u64 {
        match self {
            Recount::Full if pages <= FULL_CHECK_PAGES => 1,
            Recount::Full => LARGE_MACHINE_STRIDE,
            Recount::Sampled => (pages as u64 / SAMPLED_VISITS_PER_EVENT).max(1),
        }
    }

    /// When each tier runs on machine `m`.
    fn plan(self, m: &Machine) -> Plan {
        let every = self.interval(m.mem.pages.len());
        let structures = (m.mem.zones.len() + m.tasks.len()) as u64;
        Plan {
            structures_every: match self {
                Recount::Full => 1,
                Recount::Sampled => (structures / SAMPLED_VISITS_PER_EVENT).max(1),
            },
            pages_from: 0,
            pages_every: every,
            deep_every: DEEP_EVERY,
            until: u64::MAX,
        }
    }
}

/// When the checks run in one drive of the event loop (with `Options::check_invariants`).
#[derive(Clone, Copy, Debug)]
struct Plan {
    /// The structure checks after every this many events.
    structures_every: u64,
    /// The page recount after events `pages_from + k * pages_every`, k ≥ 1.
    pages_from: u64,
    pages_every: u64,
    /// Every this many page recounts is deep.
    deep_every: u64,
    /// Stop the run after this event (locating re-runs need go no further).
    until: u64,
}

/// A violation and the last event after which the check that found it passed.
struct Failure {
    violation: InvariantViolation,
    passed: u64,
}

/// How to run one spec: everything but the spec itself.
pub struct Setup {
    /// Stop at the first OOM kill; recount the invariants.
    pub options: Options,
    /// How often to recount them.
    pub recount: Recount,
    /// The observer, handed back in [`Finished::probe`].
    pub probe: Option<Box<dyn Probe>>,
    /// Told the simulated time every 65 536 events (a progress bar).
    pub progress: Option<Box<dyn FnMut(SimTime)>>,
    /// Test hook: after this event, add one page to zone 0's NR_FILE_DIRTY, a counter drift the
    /// recount must catch (`--inject-drift-at`, docs/CLI.md). `None` in every real run.
    pub drift_at: Option<u64>,
}

impl Setup {
    /// `options`, a full recount when they ask for one, nothing attached.
    pub fn new(options: Options) -> Setup {
        Setup {
            options,
            recount: Recount::Full,
            probe: None,
            progress: None,
            drift_at: None,
        }
    }
}

/// A run that reached its outcome.
pub struct Finished {
    /// What it produced.
    pub result: RunResult,
    /// The probe it was given.
    pub probe: Option<Box<dyn Probe>>,
    /// Events accounted for without being handled one by one (`Clock::skip_limit`; included
    /// in `result.events`).
    pub skipped_events: u64,
}

/// Boots the machine `spec` describes and runs it to its outcome as `setup` says.
pub fn execute(spec: &RunSpec, setup: Setup) -> Result<Finished, InvariantViolation> {
    let mut m = Machine::boot(spec, setup.options);
    m.probe = setup.probe;
    m.progress = setup.progress;
    m.probe_boot();
    let drift_at = setup.drift_at.unwrap_or(u64::MAX);
    let plan = setup.recount.plan(&m);
    if let Err(failure) = drive(&mut m, plan, drift_at) {
        return Err(locate(spec, setup.options, failure, drift_at));
    }
    Ok(Finished {
        result: result(&m),
        probe: m.probe.take(),
        skipped_events: m.clock.skipped,
    })
}

/// Runs one simulated machine with the default options (stop at the first OOM kill; recount the
/// invariants after every event in debug builds); panics if an invariant breaks.
pub fn simulate(spec: &RunSpec) -> RunResult {
    simulate_checked(spec, Options::default()).unwrap_or_else(|v| panic!("{v}"))
}

/// Runs one simulated machine with explicit options and returns the first broken invariant,
/// with the event number, time and seed, instead of panicking. Time going back is always
/// checked; the page recount only with `options.check_invariants`.
pub fn simulate_checked(spec: &RunSpec, options: Options) -> Result<RunResult, InvariantViolation> {
    execute(spec, Setup::new(options)).map(|f| f.result)
}

/// Drives `m` until it has an outcome; panics if an invariant breaks.
pub fn run(m: &mut Machine) {
    run_checked(m).unwrap_or_else(|v| panic!("{v}"));
}

/// Drives `m` until it has an outcome, returning the first broken invariant ([`Recount::Full`]
/// when `m.options` asks for the recount).
pub fn run_checked(m: &mut Machine) -> Result<(), InvariantViolation> {
    let plan = Recount::Full.plan(m);
    drive(m, plan, u64::MAX).map_err(|f| f.violation)
}

/// The first event after which the check that produced `failure` fails: re-runs of `spec`
/// recount at [`LOCATE_POINTS`] points between the last pass and the failure, narrowing the
/// window each time (about log₆₄ of the recount interval re-runs, each a simulation up to the
/// failure and 64 full recounts). A re-run that does not fail where the first did would be a
/// determinism bug; the original violation is returned, saying so.
fn locate(spec: &RunSpec, options: Options, failure: Failure, drift_at: u64) -> InvariantViolation {
    let Failure {
        mut violation,
        mut passed,
    } = failure;
    while violation.event > passed + 1 {
        let step = ((violation.event - passed) / LOCATE_POINTS).max(1);
        let plan = Plan {
            structures_every: 1,
            pages_from: passed,
            pages_every: step,
            deep_every: 1,
            until: violation.event,
        };
        let mut m = Machine::boot(spec, options);
        match drive(&mut m, plan, drift_at) {
            Err(found) if found.violation.event <= violation.event => {
                passed = found.passed;
                violation = found.violation;
            }
            _ => {
                violation.what += " (a re-run to locate the first failing event did not fail: the run is not deterministic)";
                break;
            }
        }
    }
    violation
}

/// The event loop: one event at a time until an outcome (or `plan.until`), checking as `plan`
/// says.
fn drive(m: &mut Machine, plan: Plan, drift_at: u64) -> Result<(), Failure> {
    check(m, true, 0)?;
    let checking = m.options.check_invariants;
    // The event numbers of the next page recount (only when the options ask for checks) and of
    // the next thing to do besides handling events: one comparison per event.
    let every = plan.pages_every;
    let mut next_check = if checking {
        (plan.pages_from + every).min(plan.until)
    } else {
        u64::MAX
    };
    let mut next_structures = if checking {
        m.clock.events + plan.structures_every
    } else {
        u64::MAX
    };
    // A drift at an event already past is never injected.
    let next_drift = |now: u64| if drift_at > now { drift_at } else { u64::MAX };
    let mut next_stop = next_check.min(next_drift(m.clock.events));
    let mut checks = 0u64;
    let mut passed = plan.pages_from.max(m.clock.events);
    m.run.unfinished = m.tasks.iter().filter(|t| t.is_finite()).count();
    m.clock.skip_limit = skip_limit(m, [next_structures, next_stop]);
    while m.run.outcome.is_none() {
        let stepped = step(m).map_err(|violation| Failure {
            passed: violation.event.saturating_sub(1),
            violation,
        })?;
        if !stepped {
            break;
        }
        if m.clock.events == next_structures {
            next_structures += plan.structures_every;
            structure_check(m, plan.structures_every)?;
            m.clock.skip_limit = skip_limit(m, [next_structures, next_stop]);
        }
        if m.clock.events == next_stop {
            if m.clock.events == drift_at {
                inject_drift(m);
            }
            if m.clock.events == next_check {
                next_check = (next_check + every).min(plan.until);
                checks += 1;
                check(m, checks % plan.deep_every == 0, passed)?;
                passed = m.clock.events;
                if passed >= plan.until {
                    return Ok(());
                }
            }
            next_stop = next_check.min(next_drift(m.clock.events));
            m.clock.skip_limit = skip_limit(m, [next_structures, next_stop]);
        }
        if m.clock.events % 65_536 == 0 {
            let now = m.clock.now;
            if let Some(tick) = m.progress.as_mut() {
                tick(now);
            }
            scan_limit(m);
            m.clock.skip_limit = skip_limit(m, [next_structures, next_stop]);
        }
        finish_when_done(m);
    }
    m.probe_finish();
    check(m, true, passed)
}

/// The last event count the machine may account for without handling each event
/// (`Clock::skip_limit`): below every per-event stop of [`drive`] (`stops`, the next multiple of
/// 65 536 where the progress tick and the scan limit look, the event limit); 0 under
/// `Options::handle_every_event`. An observed run
/// has the same: `kswapd_spin_skip` never runs under a probe, and `wake_inline` tells the probe
/// what `step` would have.
fn skip_limit(m: &Machine, stops: [u64; 2]) -> u64 {
    if m.options.handle_every_event {
        return 0;
    }
    let tick = (m.clock.events / 65_536 + 1) * 65_536;
    stops
        .into_iter()
        .fold(tick.min(m.spec.limits.max_events), u64::min)
        .saturating_sub(1)
}

/// Handles the next event; `false` when the run ended before it (event limit, empty queue, time
/// limit), with the outcome set.
#[inline]
fn step(m: &mut Machine) -> Result<bool, InvariantViolation> {
    if m.clock.events >= m.spec.limits.max_events {
        let limit = format!("event limit ({})", m.spec.limits.max_events);
        stall(m, &limit);
        return Ok(false);
    }
    let Some((at, event)) = m.clock.queue.pop() else {
        m.run.outcome = Some(m.end_verdict(m.clock.now, "nothing left to happen"));
        return Ok(false);
    };
    if at < m.clock.now {
        return Err(m.violation(format!("time went back from {} ns to {at} ns", m.clock.now)));
    }
    let limit = m.spec.limits.sim_time_ns;
    if at > limit {
        m.clock.now = limit;
        m.run.outcome = Some(m.end_verdict(limit, "time limit reached"));
        return Ok(false);
    }
    m.probe_before_event(at);
    m.clock.now = at;
    m.clock.events += 1;
    m.handle(event);
    m.unplug_all();
    let ran = match event.kind() {
        crate::mm::event::EventKind::Run { actor, .. } => Some(actor),
        crate::mm::event::EventKind::DiskDone { .. }
        | crate::mm::event::EventKind::DiskIdle { .. } => None,
    };
    m.probe_after_event(ran);
    Ok(true)
}

/// Ends the run as `stalled` once reclaim has scanned `limits.max_scanned` pages: the work of
/// an event is not bounded by one (a 3.2 kswapd pass over a node full of dirty pages scans
/// thousands), so the event limit alone does not bound wall time. Looked at every 65 536
/// events (deterministic; the overshoot is at most what those events scan).
fn scan_limit(m: &mut Machine) {
    let scanned: u64 = m
        .mem
        .zones
        .iter()
        .map(|z| z.stat.pgscan_kswapd + z.stat.pgscan_direct)
        .sum();
    if scanned >= m.spec.limits.max_scanned && m.run.outcome.is_none() {
        let limit = format!(
            "scan limit ({} pages scanned by reclaim)",
            m.spec.limits.max_scanned
        );
        stall(m, &limit);
    }
}

/// Ends the run as `stalled` now: `limit` was reached, with how far the tasks got.
fn stall(m: &mut Machine, limit: &str) {
    m.run.outcome = Some(Outcome::Stalled {
        at_ns: m.clock.now,
        reason: format!("{limit} reached with {}", m.progress_summary()),
    });
}

/// The outcome once every finite task has finished (or one was killed).
#[inline]
fn finish_when_done(m: &mut Machine) {
    if m.run.outcome.is_some() || m.run.unfinished != 0 || !m.tasks.iter().any(|t| t.is_finite()) {
        return;
    }
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

/// The test hook of [`Setup::drift_at`]: one page of NR_FILE_DIRTY that no page carries, in
/// the zone's count and the machine-wide one alike (as a bookkeeping slip in the model would
/// be), so only the page recount can see it.
fn inject_drift(m: &mut Machine) {
    m.mem.zones[0].stat.nr_dirty += 1;
    m.mem.vm_stat.nr_dirty += 1;
}

/// Every check, when the options ask for them (`deep`: with the link walks); `passed` is the
/// last event after which they passed.
fn check(m: &Machine, deep: bool, passed: u64) -> Result<(), Failure> {
    if m.options.check_invariants {
        m.verify_depth(deep).map_err(|what| Failure {
            violation: m.violation(what),
            passed,
        })?;
    }
    Ok(())
}

/// The structure checks after an event (they passed `every` events before).
#[inline]
fn structure_check(m: &Machine, every: u64) -> Result<(), Failure> {
    m.verify_structures().map_err(|what| Failure {
        violation: m.violation(what),
        passed: m.clock.events - every,
    })
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
            let percent = t.done_bytes.saturating_mul(100) / total;
            let doing = if t.dead {
                "killed"
            } else if t.alloc.is_some() {
                "looping in the allocator's slow path"
            } else if t.bdp.is_some() {
                "throttled in balance_dirty_pages"
            } else {
                "running"
            };
            parts.push(format!("{} at {percent}% ({doing})", t.name));
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
    let base = |x: u64| m.granularity.base(x);
    RunResult {
        sim_ns: outcome.at_ns(),
        outcome,
        events: m.clock.events,
        vmstat: Vmstat::new(m.vmstat()),
        tasks: m.tasks[..m.user_tasks()].iter().map(task_report).collect(),
        writepage_refused: base(m.stats.counters.writepage_refused),
        pages_written_by_writeback: base(m.stats.counters.pages_written_by_writeback),
        pages_written_by_reclaim: base(m.stats.counters.pages_written_by_reclaim),
        pages_written_by_journal: base(m.stats.counters.pages_written_by_journal),
        reclaim_no_progress: m.stats.counters.reclaim_no_progress,
        flusher_allocstall: m.stats.counters.flusher_allocstall,
        later: crate::outcome::LaterCounters {
            vmscan_immediate: base(m.stats.counters.vmscan_immediate),
            reclaim_throttled: m.stats.counters.reclaim_throttled,
            zone_dirty_skips: base(m.stats.counters.zone_dirty_skips),
            dirty_pauses: m.stats.counters.dirty_pauses,
            pages_written_by_dirtier: base(m.stats.counters.pages_written_by_dirtier),
        },
        journal: journal_counters(m),
        request_wait: crate::outcome::RequestWaitCounters::new(
            m.io.wait_stats.sleeps,
            m.io.wait_stats.ns,
        ),
        oom_reports: m.run.oom_reports.clone(),
        meminfo: meminfo(m),
        policy_decisions: m.run.policy_decisions,
    }
}

/// The journals' statistics summed over the mounts.
fn journal_counters(m: &Machine) -> crate::fs::jbd::JournalStats {
    let mut c = crate::fs::jbd::JournalStats::default();
    for mount in &m.vfs.mounts {
        c.add(&mount.journal.stats);
    }
    c
}

fn task_report(t: &crate::mm::task::Task) -> TaskReport {
    TaskReport {
        name: t.name.clone(),
        pid: t.pid,
        done_bytes: t.done_bytes,
        total_bytes: t.total_bytes(),
        finished_at_ns: t.finished_at,
        killed: t.killed,
    }
}

/// `vm_overcommit_ratio` default.
const OVERCOMMIT_RATIO: u64 = 50;

/// The final `/proc/meminfo` of machine `m` (`fs/proc/meminfo.c` `meminfo_proc_show()`,
/// 2.6.32–2.6.36, up to `Committed_AS`), in the kernel's order and kB, from base pages: a
/// simulated page is its `G` kernel pages.
fn meminfo(m: &Machine) -> Meminfo {
    let b = |x: u64| m.granularity.base(x);
    let g = |f: &dyn Fn(&crate::mm::zone::Zone) -> u64| b(m.mem.zones.iter().map(f).sum::<u64>());
    let lru = |l: LruList| g(&|z| z.nr_lru(l));
    let swap_cache = b(m.mem.swap_cache_pages());
    let ram = g(&|z| z.present);
    let file_pages = g(&|z| z.stat.nr_file_pages);
    let slab = g(&|z| z.stat.nr_kernel);
    let sreclaimable = g(&|z| z.stat.nr_slab_reclaimable);
    // vm_committed_as counts private writable mappings: every live task's virtual size (base
    // pages already).
    let committed: u64 = (0..m.user_tasks())
        .filter(|&t| !m.tasks[t].dead)
        .map(|t| m.total_vm(t))
        .sum();
    let pages = [
        ("MemTotal", ram),
        ("MemFree", g(&|z| z.nr_free())),
        ("Buffers", 0),
        ("Cached", file_pages.saturating_sub(swap_cache)),
        ("SwapCached", swap_cache),
        (
            "Active",
            lru(LruList::ActiveAnon) + lru(LruList::ActiveFile),
        ),
        (
            "Inactive",
            lru(LruList::InactiveAnon) + lru(LruList::InactiveFile),
        ),
        ("Active(anon)", lru(LruList::ActiveAnon)),
        ("Inactive(anon)", lru(LruList::InactiveAnon)),
        ("Active(file)", lru(LruList::ActiveFile)),
        ("Inactive(file)", lru(LruList::InactiveFile)),
        ("Unevictable", lru(LruList::Unevictable)),
        ("Mlocked", g(&|z| z.stat.nr_mlock)),
        ("SwapTotal", b(m.mem.swap.total)),
        ("SwapFree", b(m.mem.swap.free)),
        ("Dirty", g(&|z| z.stat.nr_dirty)),
        ("Writeback", g(&|z| z.stat.nr_writeback)),
        ("AnonPages", g(&|z| z.stat.nr_anon_pages)),
        ("Mapped", g(&|z| z.stat.nr_mapped)),
        ("Shmem", g(&|z| z.stat.nr_shmem)),
        ("Slab", slab),
        ("SReclaimable", sreclaimable),
        ("SUnreclaim", slab - sreclaimable),
        ("KernelStack", 0),
        ("PageTables", 0),
        ("NFS_Unstable", 0),
        ("Bounce", 0),
        ("WritebackTmp", 0),
        (
            "CommitLimit",
            b(m.mem.swap.total) + ram * OVERCOMMIT_RATIO / 100,
        ),
        ("Committed_AS", committed),
    ];
    Meminfo::new(
        pages
            .iter()
            .map(|(n, p)| ((*n).to_string(), p * 4))
            .collect(),
    )
}
