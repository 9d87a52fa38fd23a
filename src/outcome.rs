//! What one simulated run produced: the verdict, the counters that explain it, and per-task
//! progress. Built by the engine at the end of a run; rendered by `report/`.

use serde::{Deserialize, Serialize};

/// Why the OOM killer's victim was chosen from the set it was (`constrained_alloc()`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum Constraint {
    /// `CONSTRAINT_NONE`: the allocation could use every node.
    #[serde(rename = "CONSTRAINT_NONE")]
    None,
    /// `CONSTRAINT_CPUSET`: the allocator's cpuset excluded some node.
    #[serde(rename = "CONSTRAINT_CPUSET")]
    Cpuset,
    /// `CONSTRAINT_MEMORY_POLICY` [2.6.33+]: the allocation's `MPOL_BIND` nodemask excluded
    /// some node.
    #[serde(rename = "CONSTRAINT_MEMORY_POLICY")]
    MemoryPolicy,
}

impl Constraint {
    /// The kernel's spelling in later OOM reports (`constraint=CONSTRAINT_…`).
    pub fn name(self) -> &'static str {
        match self {
            Constraint::None => "CONSTRAINT_NONE",
            Constraint::Cpuset => "CONSTRAINT_CPUSET",
            Constraint::MemoryPolicy => "CONSTRAINT_MEMORY_POLICY",
        }
    }
}

/// The state of one zone at the moment of an OOM kill (the per-zone line of the OOM report).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ZoneSnapshot {
    /// Node id.
    pub node: u32,
    /// `DMA`, `DMA32` or `Normal`.
    pub zone: &'static str,
    /// NR_FREE_PAGES.
    pub free: u64,
    /// Watermarks, pages.
    pub min: u64,
    /// Low watermark.
    pub low: u64,
    /// High watermark.
    pub high: u64,
    /// LRU sizes, pages.
    pub active_anon: u64,
    /// Inactive anon.
    pub inactive_anon: u64,
    /// Active file.
    pub active_file: u64,
    /// Inactive file.
    pub inactive_file: u64,
    /// Unevictable.
    pub unevictable: u64,
    /// NR_FILE_DIRTY.
    pub dirty: u64,
    /// NR_WRITEBACK.
    pub writeback: u64,
    /// `zone->pages_scanned`.
    pub pages_scanned: u64,
    /// The all-unreclaimable state.
    pub all_unreclaimable: bool,
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Outcome {
    /// The OOM killer killed a task (the run stops at the first kill), or found nothing to kill
    /// and panicked (`victim` is then empty).
    Oom {
        /// When, ns.
        at_ns: u64,
        /// The victim's name (the child actually killed, when a child was killed first).
        victim: String,
        /// Its pid.
        victim_pid: u32,
        /// The task whose allocation invoked the killer.
        invoker: String,
        /// The constraint.
        constraint: Constraint,
        /// The invoking allocation's gfp mask, as the kernel prints it.
        gfp_mask: u32,
        /// The victim's badness score as the selected release computes it.
        points: u64,
        /// Every zone at the moment of the kill.
        zones: Vec<ZoneSnapshot>,
    },
    /// Every task with finite work finished (or, with none, the time limit passed) without an
    /// OOM kill.
    Survived {
        /// When the last finite task finished, ns (the time limit when there was none).
        at_ns: u64,
    },
    /// The time or event limit passed while some task's work was unfinished.
    Stalled {
        /// When, ns.
        at_ns: u64,
        /// Why, in one sentence computed from the run.
        reason: String,
    },
}

/// How a run ended, without the details: what `[expect]`, comparisons and verdicts compare.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeKind {
    /// An OOM kill (or an OOM panic).
    Oom,
    /// Every finite task finished.
    Survived,
    /// A limit passed with work unfinished.
    Stalled,
}

impl OutcomeKind {
    /// Every kind, in the order the docs list them.
    pub const ALL: [OutcomeKind; 3] = [
        OutcomeKind::Oom,
        OutcomeKind::Survived,
        OutcomeKind::Stalled,
    ];

    /// `oom`, `survived` or `stalled`: the name in documents, `[expect]` and CSV.
    pub fn name(self) -> &'static str {
        match self {
            OutcomeKind::Oom => "oom",
            OutcomeKind::Survived => "survived",
            OutcomeKind::Stalled => "stalled",
        }
    }

    /// `OOM`, `survived` or `stalled`: how tables show it.
    pub fn word(self) -> &'static str {
        match self {
            OutcomeKind::Oom => "OOM",
            OutcomeKind::Survived => "survived",
            OutcomeKind::Stalled => "stalled",
        }
    }

    /// Parses a [`OutcomeKind::name`].
    pub fn from_name(name: &str) -> Option<OutcomeKind> {
        OutcomeKind::ALL.into_iter().find(|k| k.name() == name)
    }
}

impl std::fmt::Display for OutcomeKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Outcome {
    /// Its kind.
    pub fn kind(&self) -> OutcomeKind {
        match self {
            Outcome::Oom { .. } => OutcomeKind::Oom,
            Outcome::Survived { .. } => OutcomeKind::Survived,
            Outcome::Stalled { .. } => OutcomeKind::Stalled,
        }
    }

    /// When the run ended, ns.
    pub fn at_ns(&self) -> u64 {
        match self {
            Outcome::Oom { at_ns, .. }
            | Outcome::Survived { at_ns }
            | Outcome::Stalled { at_ns, .. } => *at_ns,
        }
    }
}

/// One task's progress at the end of the run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct TaskReport {
    /// Name.
    pub name: String,
    /// Pid.
    pub pid: u32,
    /// Bytes of its work done (written, read, faulted, pinned).
    pub done_bytes: u64,
    /// Bytes of work it had in all (`None`: open-ended, e.g. a cycling anon task).
    pub total_bytes: Option<u64>,
    /// When it finished its work, ns.
    pub finished_at_ns: Option<u64>,
    /// Killed by the OOM killer.
    pub killed: bool,
}

/// The result of one run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RunResult {
    /// The verdict.
    pub outcome: Outcome,
    /// Simulated time at the end, ns.
    pub sim_ns: u64,
    /// Events handled.
    pub events: u64,
    /// Final `/proc/vmstat`, in the selected release's order and names (per-zone event counters
    /// carry their zone suffix, summed over nodes).
    pub vmstat: Vmstat,
    /// Per task, in declaration order.
    pub tasks: Vec<TaskReport>,
    /// Writepage calls from reclaim that the filesystem declined (redirtied or activated).
    pub writepage_refused: u64,
    /// Pages submitted for IO by the flusher threads and throttled writers (`->writepages`).
    pub pages_written_by_writeback: u64,
    /// Pages submitted for IO from reclaim's `pageout()`.
    pub pages_written_by_reclaim: u64,
    /// Pages whose data buffers a journal commit wrote (ext3/ext4 data=ordered).
    pub pages_written_by_journal: u64,
    /// Direct-reclaim passes (`do_try_to_free_pages`) that returned no progress.
    pub reclaim_no_progress: u64,
    /// Direct-reclaim passes of the flusher threads (their own `GFP_NOFS` allocations).
    pub flusher_allocstall: u64,
    /// Counters of the later-kernel mechanisms (all 0 under 2.6.32–2.6.36 rules).
    pub later: LaterCounters,
    /// What the journals (jbd/jbd2) did, summed over the mounts (not in the report document
    /// yet).
    #[serde(skip)]
    pub journal: crate::fs::jbd::JournalStats,
    /// Sleeps in `get_request_wait()` and the time spent there, by who slept.
    pub request_wait: RequestWaitCounters,
    /// One report per OOM-killer decision (kill or panic), in order.
    pub oom_reports: Vec<OomReport>,
    /// Final `/proc/meminfo` (name, kB), in the kernel's order.
    pub meminfo: Meminfo,
    /// How many times the refusal policy decided where a page went (a refused `->writepage`
    /// called for reclaim). 0 means the run took the same path under every policy.
    #[serde(skip)]
    pub policy_decisions: u64,
}

/// What the later-kernel switches did in a run (`crate::kernel`).
#[derive(
    Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub struct LaterCounters {
    /// Dirty file pages reclaim marked PG_reclaim instead of writing
    /// (`nr_vmscan_immediate_reclaim`, 3.2+).
    pub vmscan_immediate: u64,
    /// Reclaim sleeps on writeback or congestion (`wait_iff_congested`, `reclaim_throttle`).
    pub reclaim_throttled: u64,
    /// Write allocations that skipped a zone (node) over its dirty limit (3.3+).
    pub zone_dirty_skips: u64,
    /// Pauses of the IO-less `balance_dirty_pages` (3.2+).
    pub dirty_pauses: u64,
    /// Pages a throttled writer submitted itself (2.6.3x `balance_dirty_pages`; 0 from 3.2).
    pub pages_written_by_dirtier: u64,
}

/// Sleeps in `get_request_wait()` (the `block_sleeprq` tracepoint) and the time spent asleep
/// there (blkio delay), by who slept: all 0 when no submitter ever found the request pool empty.
#[derive(Clone, Debug, Default, PartialEq, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct RequestWaitCounters {
    /// kswapd's sleeps (`pageout()`).
    pub kswapd_sleeps: u64,
    /// kswapd's time asleep, seconds.
    pub kswapd_seconds: f64,
    /// Direct reclaimers' sleeps (`pageout()`).
    pub direct_reclaim_sleeps: u64,
    /// Direct reclaimers' time asleep, seconds.
    pub direct_reclaim_seconds: f64,
    /// Throttled writers' sleeps (`balance_dirty_pages()` writing back).
    pub writer_sleeps: u64,
    /// Throttled writers' time asleep, seconds.
    pub writer_seconds: f64,
    /// The flusher threads' sleeps.
    pub flusher_sleeps: u64,
    /// The flusher threads' time asleep, seconds.
    pub flusher_seconds: f64,
    /// The journal threads' sleeps.
    pub journal_sleeps: u64,
    /// The journal threads' time asleep, seconds.
    pub journal_seconds: f64,
    /// Readers' sleeps on the sync request list (file reads, swap-ins); absent when 0.
    #[serde(default, skip_serializing_if = "is_zero_u64")]
    pub reader_sleeps: u64,
    /// Readers' time asleep, seconds; absent when 0.
    #[serde(default, skip_serializing_if = "is_zero_f64")]
    pub reader_seconds: f64,
}

fn is_zero_u64(x: &u64) -> bool {
    *x == 0
}

fn is_zero_f64(x: &f64) -> bool {
    *x == 0.0
}

// Seconds are whole nanoseconds converted: never NaN, so equality is total.
impl Eq for RequestWaitCounters {}

impl RequestWaitCounters {
    /// From the block layer's per-waiter counts (`sleeps`, ns), in `block::Waiter` order.
    pub fn new(sleeps: [u64; 6], ns: [u64; 6]) -> RequestWaitCounters {
        let s = |i: usize| ns[i] as f64 / 1e9;
        RequestWaitCounters {
            kswapd_sleeps: sleeps[0],
            kswapd_seconds: s(0),
            direct_reclaim_sleeps: sleeps[1],
            direct_reclaim_seconds: s(1),
            writer_sleeps: sleeps[2],
            writer_seconds: s(2),
            flusher_sleeps: sleeps[3],
            flusher_seconds: s(3),
            journal_sleeps: sleeps[4],
            journal_seconds: s(4),
            reader_sleeps: sleeps[5],
            reader_seconds: s(5),
        }
    }

    /// Nobody slept.
    pub fn is_zero(&self) -> bool {
        self.kswapd_sleeps
            + self.direct_reclaim_sleeps
            + self.writer_sleeps
            + self.flusher_sleeps
            + self.journal_sleeps
            + self.reader_sleeps
            == 0
    }
}

impl LaterCounters {
    /// All zero (nothing later-kernel happened, or a document from before these counters).
    pub fn is_zero(&self) -> bool {
        *self == LaterCounters::default()
    }
}

impl RunResult {
    /// A run that survived at 0 ns with every counter 0 and nothing recorded: the base the unit
    /// tests fill in the fields they look at.
    #[cfg(test)]
    pub(crate) fn empty() -> RunResult {
        RunResult {
            outcome: Outcome::Survived { at_ns: 0 },
            sim_ns: 0,
            events: 0,
            vmstat: Vmstat::default(),
            tasks: vec![],
            writepage_refused: 0,
            pages_written_by_writeback: 0,
            pages_written_by_reclaim: 0,
            pages_written_by_journal: 0,
            reclaim_no_progress: 0,
            flusher_allocstall: 0,
            later: Default::default(),
            journal: Default::default(),
            request_wait: Default::default(),
            oom_reports: vec![],
            meminfo: Meminfo::default(),
            policy_decisions: 0,
        }
    }
}

/// The zone suffixes `vmstat_text[]` gives a per-zone event counter on x86_64
/// (`TEXTS_FOR_ZONES`: DMA, DMA32, Normal, Movable).
pub const ZONE_SUFFIXES: [&str; 4] = ["dma", "dma32", "normal", "movable"];

/// `(name, value)` pairs in a kernel file's order, serialised as one JSON object in that order:
/// what [`Vmstat`] and [`Meminfo`] hold.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(transparent)]
pub struct NamedValues(
    #[serde(with = "named_values")]
    #[schemars(with = "std::collections::BTreeMap<String, u64>")]
    Vec<(String, u64)>,
);

impl NamedValues {
    /// Every `(name, value)`, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, u64)> {
        self.0.iter().map(|(n, v)| (n.as_str(), *v))
    }

    /// A value by its name (0 when the file does not print it).
    pub fn get(&self, name: &str) -> u64 {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map_or(0, |(_, v)| *v)
    }
}

/// The final `/proc/vmstat`: `(name, value)` in `vmstat_text[]` order, the names as the release
/// prints them. Serialised as one JSON object in that order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(transparent)]
pub struct Vmstat(NamedValues);

impl std::ops::Deref for Vmstat {
    type Target = NamedValues;
    fn deref(&self) -> &NamedValues {
        &self.0
    }
}

impl Vmstat {
    /// The counters, in order.
    pub fn new(items: Vec<(String, u64)>) -> Vmstat {
        Vmstat(NamedValues(items))
    }

    /// A counter summed over its zones: `name` itself plus `name_dma`, `name_dma32`,
    /// `name_normal` and `name_movable` (a counter the release does not split is just `name`).
    pub fn zone_sum(&self, name: &str) -> u64 {
        let split = ZONE_SUFFIXES
            .iter()
            .map(|zone| self.get(&format!("{name}_{zone}")));
        split.fold(self.get(name), u64::saturating_add)
    }

    /// The reclaim counters, summed over zones.
    pub fn reclaim(&self) -> ReclaimCounters {
        ReclaimCounters {
            pgscan_kswapd: self.zone_sum("pgscan_kswapd"),
            pgscan_direct: self.zone_sum("pgscan_direct"),
            pgsteal: self.zone_sum("pgsteal"),
            kswapd_steal: self.get("kswapd_steal"),
            nr_vmscan_write: self.get("nr_vmscan_write"),
            pgrotated: self.get("pgrotated"),
            allocstall: self.zone_sum("allocstall"),
            pswpout: self.get("pswpout"),
            pgalloc: self.zone_sum("pgalloc"),
        }
    }
}

/// The `/proc/vmstat` counters of reclaim, summed over zones, base pages (`allocstall`: stalls).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReclaimCounters {
    /// `pgscan_kswapd_*`.
    pub pgscan_kswapd: u64,
    /// `pgscan_direct_*`.
    pub pgscan_direct: u64,
    /// `pgsteal_*` (kswapd's and direct reclaim's; 2.6.3x does not split them).
    pub pgsteal: u64,
    /// `kswapd_steal`: kswapd's part of `pgsteal`.
    pub kswapd_steal: u64,
    /// `nr_vmscan_write`.
    pub nr_vmscan_write: u64,
    /// `pgrotated`.
    pub pgrotated: u64,
    /// `allocstall` (summed over zones where the release splits it).
    pub allocstall: u64,
    /// `pswpout`.
    pub pswpout: u64,
    /// `pgalloc_*`.
    pub pgalloc: u64,
}

impl ReclaimCounters {
    /// Pages scanned by kswapd and direct reclaim.
    pub fn pgscan(&self) -> u64 {
        self.pgscan_kswapd.saturating_add(self.pgscan_direct)
    }
}

/// The final `/proc/meminfo`: `(name, kB)` in `meminfo_proc_show()` order. Serialised as one JSON
/// object in that order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(transparent)]
pub struct Meminfo(NamedValues);

impl std::ops::Deref for Meminfo {
    type Target = NamedValues;
    fn deref(&self) -> &NamedValues {
        &self.0
    }
}

impl Meminfo {
    /// The lines, in order.
    pub fn new(items: Vec<(String, u64)>) -> Meminfo {
        Meminfo(NamedValues(items))
    }
}

pub mod named_values {
    use serde::de::{MapAccess, Visitor};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    /// Writes the list as an object.
    pub fn serialize<S: Serializer, V: Serialize>(
        items: &[(String, V)],
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_map(items.iter().map(|(k, v)| (k, v)))
    }

    /// Reads an object into the list, in the document's order.
    pub fn deserialize<'de, D: Deserializer<'de>, V: Deserialize<'de>>(
        d: D,
    ) -> Result<Vec<(String, V)>, D::Error> {
        struct Pairs<V>(std::marker::PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for Pairs<V> {
            type Value = Vec<(String, V)>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object of named values")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some(entry) = map.next_entry()? {
                    out.push(entry);
                }
                Ok(out)
            }
        }
        d.deserialize_map(Pairs(std::marker::PhantomData))
    }
}

/// One zone as the OOM report's `show_free_areas()` prints it, plus what the inactive file list
/// held (for `wbsim explain`). Pages unless named otherwise.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ZoneReport {
    /// The fields of the per-zone line common with [`ZoneSnapshot`].
    pub base: ZoneSnapshot,
    /// NR_ISOLATED_ANON.
    pub isolated_anon: u64,
    /// NR_ISOLATED_FILE.
    pub isolated_file: u64,
    /// `present_pages`.
    pub present: u64,
    /// NR_MLOCK.
    pub mlocked: u64,
    /// NR_FILE_MAPPED.
    pub mapped: u64,
    /// NR_SHMEM.
    pub shmem: u64,
    /// Kernel memory (printed as slab_unreclaimable).
    pub slab_unreclaimable: u64,
    /// NR_FILE_PAGES.
    pub file_pages: u64,
    /// `lowmem_reserve[]`, one per zone type (DMA, DMA32, Normal).
    pub lowmem_reserve: [u64; 3],
    /// Per CPU `(count, high, batch)` of the per-CPU free list.
    pub pcp: Vec<(u64, u64, u64)>,
    /// Inactive file pages that were dirty (not under writeback).
    pub inactive_file_dirty: u64,
    /// Inactive file pages under writeback.
    pub inactive_file_writeback: u64,
    /// Whether the invoking task's cpuset allows this zone.
    pub allowed: bool,
}

/// One row of the OOM report's task table (`dump_tasks()`), with the badness score the
/// selected release's `select_bad_process()` gave it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OomTaskRow {
    /// Pid.
    pub pid: u32,
    /// Name (comm).
    pub name: String,
    /// `mm->total_vm`, pages.
    pub total_vm: u64,
    /// Anon rss, pages.
    pub anon_rss: u64,
    /// File and shm rss, pages (`MM_FILEPAGES` before 4.5 counted both).
    pub file_rss: u64,
    /// The shm part of `file_rss`, pages: `MM_SHMEMPAGES` from 4.5 ("mm, shmem: add internal
    /// shmem resident memory accounting", eca56ff906bd). The model maps no other file pages.
    pub shmem_rss: u64,
    /// The part of `anon_rss` the OOM reaper (4.6) leaves mapped: pages in VM_LOCKED vmas,
    /// which `__oom_reap_task()` skips, and the kernel pages the model charges to the task,
    /// which no unmap frees.
    pub anon_rss_unreaped: u64,
    /// CPU it last ran on.
    pub cpu: u32,
    /// `oom_adj`.
    pub oom_adj: i32,
    /// `oom_score_adj`.
    pub oom_score_adj: i32,
    /// Badness as the release computes it (0: not eligible).
    pub points: u64,
    /// Its cpuset intersects the invoker's (2.6.36 only considers those).
    pub eligible: bool,
}

/// Everything the kernel printed for one OOM kill (or panic), captured in `oom_kill.rs` at the
/// moment of the decision; rendered by `observe::oom_report`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OomReport {
    /// When, ns.
    pub at_ns: u64,
    /// The invoking task's name and pid.
    pub invoker: String,
    /// Its pid.
    pub invoker_pid: u32,
    /// Its `oom_score_adj`.
    pub invoker_oom_score_adj: i32,
    /// The nodes of its cpuset (`mems_allowed`).
    pub invoker_mems: Vec<u32>,
    /// Whether the invoker's cpuset is the root one (no `cpuset` key).
    pub invoker_root_cpuset: bool,
    /// The allocation's gfp mask.
    pub gfp_mask: u32,
    /// The allocation's order (always 0 in the model).
    pub order: u32,
    /// `constrained_alloc()`.
    pub constraint: Constraint,
    /// The task `select_bad_process()` chose (before kill-a-child-first), if any.
    pub selected: Option<(String, u32)>,
    /// The task killed (`None`: nothing killable, the kernel panics).
    pub victim: Option<(String, u32)>,
    /// The selected task's points.
    pub points: u64,
    /// Every zone.
    pub zones: Vec<ZoneReport>,
    /// Every task that still has an mm.
    pub tasks: Vec<OomTaskRow>,
    /// Swap pages in all, and free.
    pub swap_total: u64,
    /// Free swap pages.
    pub swap_free: u64,
    /// Pages in the swap cache.
    pub swap_cache: u64,
    /// Pages of RAM (every zone's present pages).
    pub ram_pages: u64,
    /// Hugetlb pages reserved at boot.
    pub hugetlb_pages: u64,
    /// Each node's `NR_PAGES_SCANNED` [4.8–4.11: node lists without `kswapd_failures`], which
    /// the node line prints as `pages_scanned:`; empty for every other kernel.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub node_pages_scanned: Vec<u64>,
}
