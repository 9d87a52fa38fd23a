//! Observing a run without changing it: the [`Recorder`], a [`crate::probe::Probe`] that the
//! engine's event loop and a few one-line hooks in `mm/` feed, and the renderers of what it saw.
//!
//! | file | output |
//! |------|--------|
//! | `timeline.rs` | sampled state over simulated time, as CSV |
//! | `plot.rs` | the timeline drawn as SVG |
//! | `chrome_trace.rs` | Chrome trace-event JSON (Perfetto, chrome://tracing) |
//! | `ftrace.rs` | `mm_vmscan_*` / `writeback_*` tracepoint lines |
//! | `explain.rs` | a causal account of each outcome, computed from the run |
//!
//! The recorder only reads machine state. The runner hands it to the engine as the run's probe
//! (`Machine::probe`); every hook returns at once when there is none, so a run without observation
//! pays one branch per hook. Sampling happens in the event loop when simulated time crosses the next sample
//! boundary: no event is ever added to the queue, so the run's events, counters and outcome are
//! the same with and without a recorder (`tests/reports.rs` checks it).
//!
//! Everything recorded is in base (4 KiB) pages, as the kernel counts them: at a coarse
//! `machine.page_granularity` a simulated page counts as the `G` pages it stands for.

pub mod args;
pub mod chrome_trace;
pub mod explain;
pub mod ftrace;
pub mod plot;
pub mod session;
pub mod timeline;

use std::collections::BTreeMap;

use crate::fs::WritepageCaller;
use crate::mm::fs_writeback::WritebackWork;
use crate::mm::page::{pg, LruList, PageId};
use crate::mm::page_alloc::AllocPhase;
use crate::mm::page_writeback::BdpPhase;
use crate::mm::vmscan::KswapdState;
use crate::mm::{Actor, Machine};
use crate::probe::Probe;
use crate::sim::SimTime;
use crate::spec::FsType;

/// Most spans, marks and trace lines one run keeps; past it the recorder stops adding and says so.
pub const MAX_RECORDS: usize = 2_000_000;

/// What to record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ObserveConfig {
    /// Timeline sample interval, ns (0: no samples).
    pub sample_ns: u64,
}

impl Default for ObserveConfig {
    fn default() -> Self {
        ObserveConfig {
            sample_ns: 100 * crate::sim::MSEC,
        }
    }
}

/// What kind of thing a track (a Chrome-trace thread) is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrackKind {
    /// A user task (index).
    Task(usize),
    /// A node's kswapd.
    Kswapd(usize),
    /// A bdi's flusher thread.
    Flusher(usize),
    /// A disk's request queue.
    Disk(usize),
}

/// One timeline of states: a task, a kswapd, a flusher or a disk.
#[derive(Clone, Debug)]
pub struct Track {
    /// What it is.
    pub kind: TrackKind,
    /// Its name (`comm`): the task's name, `kswapd0`, `flush-8:0`, `sdb`.
    pub name: String,
    /// Its pid (tasks: their pid; kernel threads: a fixed range below the tasks').
    pub pid: u32,
}

/// A closed interval a track spent in one state (possibly nested in another).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Span {
    /// Track index.
    pub track: usize,
    /// Nesting depth (0 outermost).
    pub depth: usize,
    /// The state's name (a kernel function, or `write` for an IO request).
    pub name: &'static str,
    /// Start, ns.
    pub start: SimTime,
    /// End, ns.
    pub end: SimTime,
    /// Pages (IO requests), 0 otherwise.
    pub pages: u64,
}

/// A point event on the timeline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mark {
    /// When.
    pub t: SimTime,
    /// Track index.
    pub track: usize,
    /// What happened.
    pub kind: MarkKind,
}

/// The point events the timeline and traces mark.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MarkKind {
    /// kswapd left its sleep.
    KswapdWake,
    /// kswapd went to sleep.
    KswapdSleep,
    /// A flusher started on work.
    FlusherStart,
    /// A flusher ran out of work.
    FlusherIdle,
    /// The OOM killer killed `victim` (empty: found nothing and panicked).
    OomKill {
        /// The victim's name.
        victim: String,
    },
}

impl MarkKind {
    /// A short label.
    pub fn label(&self) -> String {
        match self {
            MarkKind::KswapdWake => "kswapd wake".into(),
            MarkKind::KswapdSleep => "kswapd sleep".into(),
            MarkKind::FlusherStart => "flusher work".into(),
            MarkKind::FlusherIdle => "flusher idle".into(),
            MarkKind::OomKill { victim } if victim.is_empty() => "OOM panic".into(),
            MarkKind::OomKill { victim } => format!("OOM kill {victim}"),
        }
    }
}

/// A task's state as the timeline shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskState {
    /// Before its start time.
    NotStarted,
    /// Doing its work (or paced by its rate).
    Running,
    /// In `balance_dirty_pages()`.
    Throttled,
    /// In the allocator's slow path, outside reclaim.
    Allocating,
    /// In `try_to_free_pages()`.
    DirectReclaim,
    /// Sleeping in `congestion_wait()` (from reclaim or the slow path).
    CongestionWait,
    /// Sleeping in the OOM killer's one-jiffy naps.
    OomWait,
    /// Finished its work.
    Done,
    /// Killed and gone.
    Exited,
}

impl TaskState {
    /// The CSV spelling.
    pub fn name(self) -> &'static str {
        match self {
            TaskState::NotStarted => "not_started",
            TaskState::Running => "running",
            TaskState::Throttled => "throttled",
            TaskState::Allocating => "allocating",
            TaskState::DirectReclaim => "direct_reclaim",
            TaskState::CongestionWait => "congestion_wait",
            TaskState::OomWait => "oom_wait",
            TaskState::Done => "done",
            TaskState::Exited => "exited",
        }
    }
}

/// Zone values a sample holds, in [`ZONE_FIELDS`] order.
pub const ZONE_FIELDS: [&str; 14] = [
    "free",
    "min",
    "low",
    "high",
    "active_anon",
    "inactive_anon",
    "active_file",
    "inactive_file",
    "unevictable",
    "dirty",
    "writeback",
    "pages_scanned",
    "all_unreclaimable",
    "pgscan",
];

/// The machine at one sample boundary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sample {
    /// The boundary, ns.
    pub t: SimTime,
    /// Per zone, [`ZONE_FIELDS`] (pages; all_unreclaimable is 0/1; pgscan is cumulative).
    pub zones: Vec<[u64; 14]>,
    /// Per task.
    pub tasks: Vec<TaskState>,
    /// The global dirty limits `(background, dirty)`, pages.
    pub dirty_limits: (u64, u64),
}

/// One ftrace line's content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TraceKind {
    /// `mm_vmscan_wakeup_kswapd: nid=%d zid=%d order=%d`.
    WakeupKswapd {
        /// Node.
        nid: usize,
        /// Zone index in its node (0 DMA, 1 DMA32, 2 Normal).
        zid: usize,
    },
    /// `mm_vmscan_kswapd_wake: nid=%d order=%d`.
    KswapdWake {
        /// Node.
        nid: usize,
    },
    /// `mm_vmscan_kswapd_sleep: nid=%d`.
    KswapdSleep {
        /// Node.
        nid: usize,
    },
    /// `mm_vmscan_direct_reclaim_begin: order=%d may_writepage=%d gfp_flags=%s`.
    DirectReclaimBegin {
        /// The allocation's gfp mask.
        gfp: u32,
    },
    /// `mm_vmscan_direct_reclaim_end: nr_reclaimed=%lu`.
    DirectReclaimEnd {
        /// Pages the pass freed.
        nr_reclaimed: u64,
    },
    /// `mm_vmscan_lru_isolate: isolate_mode=%d order=%d nr_requested=%lu nr_scanned=%lu …`.
    LruIsolate {
        /// Pages asked for.
        requested: u64,
        /// Pages examined and taken.
        scanned: u64,
    },
    /// `mm_vmscan_writepage: page=%p pfn=%lu flags=%s`.
    Writepage {
        /// The page frame.
        pfn: u64,
        /// A file page (else anon/shmem).
        file: bool,
    },
    /// `writeback_exec: bdi %s: sb_dev 0:0 nr_pages=%ld sync_mode=0 kupdate=%d range_cyclic=%d
    /// background=%d`.
    WritebackExec {
        /// The bdi.
        bdi: usize,
        /// The work's page budget.
        nr_pages: i64,
        /// kupdate work.
        kupdate: bool,
        /// range_cyclic.
        cyclic: bool,
        /// Background work.
        background: bool,
    },
    /// `wbc_balance_dirty_start: bdi %s: towrt=%ld …`.
    BalanceDirtyStart {
        /// The bdi.
        bdi: usize,
        /// `write_chunk`.
        towrt: u64,
    },
    /// `wbc_balance_dirty_wait: bdi %s: towrt=%ld …`.
    BalanceDirtyWait {
        /// The bdi.
        bdi: usize,
        /// Pages still to write of the chunk.
        towrt: u64,
    },
}

/// One tracepoint hit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceEvent {
    /// When.
    pub t: SimTime,
    /// The track of the context that hit it.
    pub track: usize,
    /// The CPU it ran on.
    pub cpu: u32,
    /// What.
    pub kind: TraceKind,
}

/// Per-track nesting of open states.
type Stack = Vec<(&'static str, SimTime, u64)>;

/// Everything observed of one run.
#[derive(Clone, Debug, Default)]
pub struct Recorder {
    /// What to record.
    pub config: ObserveConfig,
    /// Every zone: `(node, name)`.
    pub zones: Vec<(u32, &'static str)>,
    /// Tasks first (by index), then kswapds, flushers, disks.
    pub tracks: Vec<Track>,
    /// Timeline samples.
    pub samples: Vec<Sample>,
    /// Closed spans, in closing order.
    pub spans: Vec<Span>,
    /// Point events.
    pub marks: Vec<Mark>,
    /// Tracepoint hits.
    pub trace: Vec<TraceEvent>,
    /// Writepage refusals by `(filesystem, caller)`.
    pub refusals: BTreeMap<(&'static str, &'static str), u64>,
    /// Direct-reclaim passes that returned no progress: `(when, task)`.
    pub no_progress: Vec<(SimTime, usize)>,
    /// Pages scanned and reclaimed by each track's reclaim.
    pub scanned: Vec<u64>,
    /// Pages reclaimed by each track's reclaim.
    pub reclaimed: Vec<u64>,
    /// Some records were dropped past [`MAX_RECORDS`].
    pub truncated: bool,
    open: Vec<Stack>,
    next_sample: SimTime,
    oom_seen: usize,
    direct_base: Vec<u64>,
    kswapd_awake: Vec<bool>,
    /// The nodes whose `kswapd_awake` is set, ascending (the order their tracks are diffed).
    awake_nodes: Vec<usize>,
    flusher_busy: Vec<bool>,
    bdp_waiting: Vec<bool>,
    disk_done: Vec<u64>,
    /// The stack `diff` builds for each track, kept so that no event allocates one.
    scratch: Stack,
}

fn task_track(t: usize) -> usize {
    t
}

/// The track of task `t` of machine `m`: its own, or a flusher thread's (`Task::flusher`, in its
/// allocator) its flusher's.
fn thread_track(m: &Machine, t: usize) -> usize {
    match m.tasks[t].kthread {
        Some(b) => m.user_tasks() + m.mem.nodes.len() + b,
        None => task_track(t),
    }
}

/// The tracks of machine `m`: tasks, then each node's kswapd, each bdi's flusher, each disk.
fn tracks_of(m: &Machine) -> Vec<Track> {
    let mut tracks = vec![];
    for t in &m.tasks[..m.user_tasks()] {
        tracks.push(Track {
            kind: TrackKind::Task(tracks.len()),
            name: t.name.clone(),
            pid: t.pid,
        });
    }
    for n in 0..m.mem.nodes.len() {
        tracks.push(Track {
            kind: TrackKind::Kswapd(n),
            name: format!("kswapd{n}"),
            pid: 100 + n as u32,
        });
    }
    for (b, bdi) in m.wb.bdis.iter().enumerate() {
        tracks.push(Track {
            kind: TrackKind::Flusher(b),
            name: format!("flush-8:{}", bdi.disk * 16),
            pid: 50 + b as u32,
        });
    }
    for (d, disk) in m.io.disks.iter().enumerate() {
        tracks.push(Track {
            kind: TrackKind::Disk(d),
            name: disk.spec.name.clone(),
            pid: 10 + d as u32,
        });
    }
    tracks
}

impl Recorder {
    /// A recorder that starts when the engine has booted the run's machine ([`Probe::boot`]).
    pub fn new(config: ObserveConfig) -> Recorder {
        Recorder {
            config,
            ..Recorder::default()
        }
    }

    /// Names the tracks of the booted machine `m` and sizes the per-track state.
    fn start(&mut self, m: &Machine) {
        self.tracks = tracks_of(m);
        let n = self.tracks.len();
        self.zones = m
            .mem
            .zones
            .iter()
            .map(|z| (z.node, z.ztype.name()))
            .collect();
        self.scanned = vec![0; n];
        self.reclaimed = vec![0; n];
        self.open = vec![vec![]; n];
        self.direct_base = vec![0; m.tasks.len()];
        self.kswapd_awake = vec![false; m.mem.nodes.len()];
        self.flusher_busy = vec![false; m.wb.bdis.len()];
        self.bdp_waiting = vec![false; m.tasks.len()];
        self.disk_done = vec![0; m.io.disks.len()];
    }

    /// The track of an actor (journal threads and ext4's conversion work have none: `None`).
    pub fn actor_track(&self, m: &Machine, a: Actor) -> Option<usize> {
        let (nt, nn, nb) = (m.user_tasks(), m.mem.nodes.len(), m.wb.bdis.len());
        match a {
            Actor::Task(t) => Some(thread_track(m, t)),
            Actor::Kswapd(n) => Some(nt + n),
            Actor::Flusher(b) => Some(nt + nn + b),
            Actor::Journal(_) | Actor::Ext4Rsv(_) => None,
        }
        .filter(|&i| i < nt + nn + nb)
    }

    fn room(&mut self) -> bool {
        let used = self.spans.len() + self.marks.len() + self.trace.len();
        if used >= MAX_RECORDS {
            self.truncated = true;
            return false;
        }
        true
    }

    fn mark(&mut self, t: SimTime, track: usize, kind: MarkKind) {
        if self.room() {
            self.marks.push(Mark { t, track, kind });
        }
    }

    fn tracepoint(&mut self, m: &Machine, track: usize, kind: TraceKind) {
        if self.room() {
            let cpu = self.track_cpu(m, track);
            self.trace.push(TraceEvent {
                t: m.clock.now,
                track,
                cpu,
                kind,
            });
        }
    }

    fn track_cpu(&self, m: &Machine, track: usize) -> u32 {
        let cpus = m.spec.machine.cpus.max(1) as usize;
        match self.tracks[track].kind {
            TrackKind::Task(t) => m.tasks[t].cpu as u32,
            TrackKind::Kswapd(n) => (n % cpus) as u32,
            TrackKind::Flusher(b) | TrackKind::Disk(b) => (b % cpus) as u32,
        }
    }

    /// Samples every boundary up to and including `at` (the state between events is constant).
    fn sample_until(&mut self, m: &Machine, at: SimTime) {
        if self.config.sample_ns == 0 {
            return;
        }
        while self.next_sample <= at {
            let s = sample(m, self.next_sample);
            self.samples.push(s);
            self.next_sample += self.config.sample_ns;
        }
    }

    /// Compares every track's state with the last event's: closes and opens spans, marks
    /// wake-ups, emits the tracepoints that are state transitions.
    /// `ran`: the actor whose event it was, `None` after a disk completion or at the end.
    fn diff(&mut self, m: &Machine, ran: Option<Actor>) {
        let mut stack = std::mem::take(&mut self.scratch);
        self.diff_tasks(m, &mut stack);
        self.diff_kswapds(m, &mut stack, ran);
        self.diff_flushers(m, &mut stack);
        self.diff_disks(m, &mut stack);
        self.scratch = stack;
        self.mark_oom_kills(m);
    }

    /// Each task: its nested states, and direct reclaim's begin and end tracepoints.
    fn diff_tasks(&mut self, m: &Machine, stack: &mut Stack) {
        let now = m.clock.now;
        for t in 0..m.user_tasks() {
            stack.clear();
            task_stack(m, t, now, stack);
            if stack.is_empty() && self.open[t].is_empty() && m.tasks[t].bdp.is_none() {
                // Idle before and after (`bdp_waiting` already false): the common case after
                // most events, with nothing to close, open or emit.
                debug_assert!(!self.bdp_waiting[t]);
                continue;
            }
            let was_reclaiming = self.open[t].iter().any(|s| s.0 == DIRECT_RECLAIM);
            let reclaiming = stack.iter().any(|s| s.0 == DIRECT_RECLAIM);
            if reclaiming && !was_reclaiming {
                self.direct_base[t] = self.reclaimed[t];
                let gfp = m.tasks[t].alloc.as_ref().map_or(0, |a| a.gfp);
                self.tracepoint(m, t, TraceKind::DirectReclaimBegin { gfp });
            } else if was_reclaiming && !reclaiming {
                let nr_reclaimed = self.reclaimed[t] - self.direct_base[t];
                self.tracepoint(m, t, TraceKind::DirectReclaimEnd { nr_reclaimed });
            }
            self.bdp_trace(m, t);
            self.apply(t, stack, now);
        }
    }

    /// Each node's kswapd: awake in `balance_pgdat`, its wake and sleep marks and tracepoints.
    /// A sleeping kswapd starts `balance_pgdat` only in its own event (`run_kswapd`: a wake-up
    /// schedules it, the state changes when it runs), so only the nodes whose kswapd was awake,
    /// and the node whose kswapd ran, are read: a loop over every node after every event was
    /// 30 % of a 128-node fake-NUMA run's `--plot` (docs/PERFORMANCE.md).
    fn diff_kswapds(&mut self, m: &Machine, stack: &mut Stack, ran: Option<Actor>) {
        let woken = match ran {
            Some(Actor::Kswapd(n)) if !self.kswapd_awake[n] => Some(n),
            _ => None,
        };
        debug_assert!((0..m.mem.nodes.len()).all(|n| self.kswapd_awake[n]
            || woken == Some(n)
            || m.mem.nodes[n].kswapd.state != KswapdState::Running));
        if self.awake_nodes.is_empty() && woken.is_none() {
            return;
        }
        let mut nodes = std::mem::take(&mut self.awake_nodes);
        if let Some(n) = woken {
            nodes.insert(nodes.partition_point(|&k| k < n), n);
        }
        for &n in &nodes {
            self.diff_kswapd(m, stack, n);
        }
        nodes.retain(|&n| self.kswapd_awake[n]);
        self.awake_nodes = nodes;
    }

    /// Node `n`'s kswapd, awake before this event or just run.
    fn diff_kswapd(&mut self, m: &Machine, stack: &mut Stack, n: usize) {
        let now = m.clock.now;
        let track = m.user_tasks() + n;
        let awake = m.mem.nodes[n].kswapd.state == KswapdState::Running;
        if !awake && !self.kswapd_awake[n] {
            // Asleep before and after (its event found nothing to do): nothing open or to mark.
            debug_assert!(self.open[track].is_empty());
            return;
        }
        stack.clear();
        if awake {
            stack.push(("balance_pgdat", now, 0));
            if m.wb.congestion_waiters.contains(&Actor::Kswapd(n)) {
                stack.push((CONGESTION_WAIT, now, 0));
            }
        }
        if awake != self.kswapd_awake[n] {
            self.kswapd_awake[n] = awake;
            let (mark, tracepoint) = if awake {
                (MarkKind::KswapdWake, TraceKind::KswapdWake { nid: n })
            } else {
                (MarkKind::KswapdSleep, TraceKind::KswapdSleep { nid: n })
            };
            self.mark(now, track, mark);
            self.tracepoint(m, track, tracepoint);
        }
        self.apply(track, stack, now);
    }

    /// Each bdi's flusher: in `wb_writeback` (blocked on the request queue or not).
    fn diff_flushers(&mut self, m: &Machine, stack: &mut Stack) {
        let now = m.clock.now;
        let base = m.user_tasks() + m.mem.nodes.len();
        for b in 0..m.wb.bdis.len() {
            let busy = m.wb.bdis[b].writeback_in_progress();
            if !busy && !self.flusher_busy[b] {
                debug_assert!(self.open[base + b].is_empty());
                continue;
            }
            stack.clear();
            if busy {
                stack.push(("wb_writeback", now, 0));
                if m.wb.bdis[b].blocked {
                    stack.push(("get_request_wait", now, 0));
                }
            }
            if busy != self.flusher_busy[b] {
                self.flusher_busy[b] = busy;
                let kind = if busy {
                    MarkKind::FlusherStart
                } else {
                    MarkKind::FlusherIdle
                };
                self.mark(now, base + b, kind);
            }
            self.apply(base + b, stack, now);
        }
    }

    /// Each disk: the request in flight.
    fn diff_disks(&mut self, m: &Machine, stack: &mut Stack) {
        let now = m.clock.now;
        let base = m.user_tasks() + m.mem.nodes.len() + m.wb.bdis.len();
        for (d, disk) in m.io.disks.iter().enumerate() {
            // A completion (pages_done moved) ends the request even if the next one looks alike.
            if disk.pages_done != self.disk_done[d] {
                self.disk_done[d] = disk.pages_done;
                self.apply(base + d, &[], now);
            }
            stack.clear();
            if let Some((_, _, r)) = disk.in_flight.first() {
                let name = match r.kind {
                    crate::block::ReqKind::Write => "write",
                    crate::block::ReqKind::SyncWrite => "sync write",
                    crate::block::ReqKind::JournalData { .. } => "journal data",
                    crate::block::ReqKind::Read { .. } => "read",
                    crate::block::ReqKind::MetaRead { .. } => "metadata read",
                };
                stack.push((name, now, m.granularity.base(r.pages.len() as u64)));
            }
            self.apply(base + d, stack, now);
        }
    }

    /// Marks each OOM kill (or panic) reported since the last event on the invoker's track.
    fn mark_oom_kills(&mut self, m: &Machine) {
        while self.oom_seen < m.run.oom_reports.len() {
            let r = &m.run.oom_reports[self.oom_seen];
            self.oom_seen += 1;
            let victim = r.victim.as_ref().map(|v| v.0.clone()).unwrap_or_default();
            let track = m
                .tasks
                .iter()
                .position(|t| t.pid == r.invoker_pid)
                .unwrap_or(0);
            self.mark(r.at_ns, task_track(track), MarkKind::OomKill { victim });
        }
    }

    /// `wbc_balance_dirty_start` on entering `balance_dirty_pages`, `_wait` on each pause.
    fn bdp_trace(&mut self, m: &Machine, t: usize) {
        let Some(b) = m.tasks[t].bdp.as_ref() else {
            self.bdp_waiting[t] = false;
            return;
        };
        let started = !self.open[t].iter().any(|s| s.0 == BDP);
        if started {
            let k = TraceKind::BalanceDirtyStart {
                bdi: b.bdi,
                towrt: m.granularity.base(b.write_chunk),
            };
            self.tracepoint(m, t, k);
        }
        let waiting = matches!(b.phase, BdpPhase::Slept);
        if waiting && !self.bdp_waiting[t] {
            let k = TraceKind::BalanceDirtyWait {
                bdi: b.bdi,
                towrt: m
                    .granularity
                    .base(b.write_chunk.saturating_sub(b.pages_written)),
            };
            self.tracepoint(m, t, k);
        }
        self.bdp_waiting[t] = waiting;
    }

    /// Makes track `track`'s open stack equal `want`: close what differs, open what is new.
    fn apply(&mut self, track: usize, want: &[(&'static str, SimTime, u64)], now: SimTime) {
        let open = &self.open[track];
        if open.is_empty() && want.is_empty() {
            return; // the common case: an idle track stays idle
        }
        let keep = open
            .iter()
            .zip(want)
            .take_while(|(a, b)| a.0 == b.0 && a.2 == b.2)
            .count();
        if keep == open.len() && keep == want.len() {
            return;
        }
        let mut open = std::mem::take(&mut self.open[track]);
        while open.len() > keep {
            let (name, start, pages) = open.pop().expect("non-empty");
            if self.room() {
                self.spans.push(Span {
                    track,
                    depth: open.len(),
                    name,
                    start,
                    end: now,
                    pages,
                });
            }
        }
        for w in &want[keep..] {
            open.push((w.0, now, w.2));
        }
        self.open[track] = open;
    }

    /// Closes every open span at the end of the run and takes the final sample.
    fn close(&mut self, m: &Machine) {
        for track in 0..self.open.len() {
            self.apply(track, &[], m.clock.now);
        }
        if self.config.sample_ns > 0 && self.samples.last().map_or(true, |s| s.t < m.clock.now) {
            self.samples.push(sample(m, m.clock.now));
        }
        self.spans
            .sort_by_key(|s| (s.start, s.track, s.depth, s.end));
    }
}

const DIRECT_RECLAIM: &str = "try_to_free_pages";
const CONGESTION_WAIT: &str = "congestion_wait";
const BDP: &str = "balance_dirty_pages";

/// A task's nested states, outermost first.
fn task_stack(m: &Machine, t: usize, now: SimTime, out: &mut Stack) {
    let task = &m.tasks[t];
    if task.dead || task.finished_at.is_some() || task.start_ns > now {
        return;
    }
    if let Some(a) = &task.alloc {
        out.push(("__alloc_pages_slowpath", now, 0));
        if a.reclaim.is_some() {
            out.push((DIRECT_RECLAIM, now, 0));
        }
        if matches!(
            a.phase,
            AllocPhase::OomSleepHoldingLock | AllocPhase::OomLockBusySleep
        ) {
            out.push(("out_of_memory sleep", now, 0));
        }
    } else if let Some(b) = &task.bdp {
        out.push((BDP, now, 0));
        match b.phase {
            BdpPhase::Slept => out.push(("io_schedule_timeout", now, 0)),
            BdpPhase::Writing(_) => out.push(("writeback_inodes_wbc", now, 0)),
            _ => {}
        }
    }
    if m.wb.congestion_waiters.contains(&Actor::Task(t)) {
        out.push((CONGESTION_WAIT, now, 0));
    }
}

/// A task's state for the timeline.
pub fn task_state(m: &Machine, t: usize) -> TaskState {
    let task = &m.tasks[t];
    if task.dead {
        return TaskState::Exited;
    }
    if task.finished_at.is_some() {
        return TaskState::Done;
    }
    if task.start_ns > m.clock.now {
        return TaskState::NotStarted;
    }
    if m.wb.congestion_waiters.contains(&Actor::Task(t)) {
        return TaskState::CongestionWait;
    }
    if let Some(a) = &task.alloc {
        return if a.reclaim.is_some() {
            TaskState::DirectReclaim
        } else if matches!(
            a.phase,
            AllocPhase::OomSleepHoldingLock | AllocPhase::OomLockBusySleep
        ) {
            TaskState::OomWait
        } else {
            TaskState::Allocating
        };
    }
    if task.bdp.is_some() {
        return TaskState::Throttled;
    }
    TaskState::Running
}

/// The machine's state, read at time `t`.
fn sample(m: &Machine, t: SimTime) -> Sample {
    let b = |x: u64| m.granularity.base(x);
    let zones = m
        .mem
        .zones
        .iter()
        .map(|z| {
            let mut v = [
                z.nr_free(),
                z.watermark[0],
                z.watermark[1],
                z.watermark[2],
                z.nr_lru(LruList::ActiveAnon),
                z.nr_lru(LruList::InactiveAnon),
                z.nr_lru(LruList::ActiveFile),
                z.nr_lru(LruList::InactiveFile),
                z.nr_lru(LruList::Unevictable),
                z.stat.nr_dirty,
                z.stat.nr_writeback,
                z.pages_scanned,
                u64::from(z.all_unreclaimable),
                z.stat.pgscan_kswapd + z.stat.pgscan_direct,
            ];
            for (i, x) in v.iter_mut().enumerate() {
                if ZONE_FIELDS[i] != "all_unreclaimable" {
                    *x = b(*x);
                }
            }
            v
        })
        .collect();
    let (bg, dirty) = m.global_dirty_limits();
    Sample {
        t,
        zones,
        tasks: (0..m.user_tasks()).map(|i| task_state(m, i)).collect(),
        dirty_limits: (b(bg), b(dirty)),
    }
}

impl Probe for Recorder {
    fn boot(&mut self, m: &Machine) {
        self.start(m);
    }

    /// Samples the boundaries crossed since the last event.
    #[inline]
    fn before_event(&mut self, m: &Machine, at: SimTime) {
        self.sample_until(m, at);
    }

    /// State transitions become spans, marks, tracepoints.
    #[inline]
    fn after_event(&mut self, m: &Machine, ran: Option<Actor>) {
        self.diff(m, ran);
    }

    fn finish(&mut self, m: &Machine) {
        self.sample_until(m, m.clock.now.saturating_sub(1));
        self.diff(m, None);
        self.close(m);
    }

    fn shrink_inactive(
        &mut self,
        m: &Machine,
        actor: Actor,
        requested: u64,
        scanned: u64,
        freed: u64,
    ) {
        let base = |pages: u64| m.granularity.base(pages);
        let (requested, scanned) = (base(requested), base(scanned));
        if let Some(track) = self.actor_track(m, actor) {
            self.scanned[track] += scanned;
            self.reclaimed[track] += base(freed);
            self.tracepoint(m, track, TraceKind::LruIsolate { requested, scanned });
        }
    }

    fn wakeup_kswapd(&mut self, m: &Machine, zid: usize, task: Option<usize>) {
        if let Some(t) = task {
            let z = &m.mem.zones[zid];
            let k = TraceKind::WakeupKswapd {
                nid: z.node as usize,
                zid: z.ztype as usize,
            };
            self.tracepoint(m, thread_track(m, t), k);
        }
    }

    fn writepage(&mut self, m: &Machine, actor: Actor, page: PageId) {
        if let Some(track) = self.actor_track(m, actor) {
            let file = m.mem.pages[page as usize].has(pg::FILE);
            let pfn = m.granularity.base(u64::from(page));
            self.tracepoint(m, track, TraceKind::Writepage { pfn, file });
        }
    }

    fn refused(&mut self, m: &Machine, fs: FsType, caller: WritepageCaller) {
        let key = (fs.name(), caller_name(caller));
        *self.refusals.entry(key).or_insert(0) += m.granularity.base(1);
    }

    fn no_progress(&mut self, m: &Machine, task: usize) {
        if self.no_progress.len() < MAX_RECORDS {
            self.no_progress.push((m.clock.now, thread_track(m, task)));
        }
    }

    fn writeback_exec(&mut self, m: &Machine, bdi: usize, work: &WritebackWork) {
        if let Some(track) = self.actor_track(m, Actor::Flusher(bdi)) {
            let kind = TraceKind::WritebackExec {
                bdi,
                nr_pages: work.nr_pages.saturating_mul(m.granularity.factor() as i64),
                kupdate: work.for_kupdate,
                cyclic: work.range_cyclic,
                background: work.for_background,
            };
            self.tracepoint(m, track, kind);
        }
    }

    fn into_any(self: Box<Self>) -> Box<dyn std::any::Any + Send> {
        self
    }
}

/// How explain and the docs name a writepage caller.
pub fn caller_name(c: WritepageCaller) -> &'static str {
    match c {
        WritepageCaller::Kswapd => "kswapd",
        WritepageCaller::DirectReclaim => "direct reclaim",
        WritepageCaller::Flusher => "flusher",
        WritepageCaller::Writer => "throttled writer",
        WritepageCaller::Journal => "journal",
    }
}

/// Pages as MiB with one decimal.
pub fn mib(pages: u64) -> String {
    format!("{:.1}", pages as f64 * 4096.0 / f64::from(1u32 << 20))
}

/// ns as seconds with three decimals.
pub fn secs3(ns: u64) -> String {
    format!(
        "{}.{:03}",
        ns / 1_000_000_000,
        ns % 1_000_000_000 / 1_000_000
    )
}
