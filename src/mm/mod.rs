//! The Linux VM model: one [`Machine`] owns every page, zone, task, inode, disk and actor of a
//! run; handlers are `impl Machine` blocks named after the kernel functions they mirror, spread
//! over the files of this module the way `mm/` spreads them:
//!
//! | file | mirrors |
//! |------|---------|
//! | `page.rs` | `struct page`, page flags, LRU list heads |
//! | `zone.rs` | zones, watermarks, `zone_watermark_ok` (`mm/page_alloc.c`) |
//! | `page_alloc.rs` | `__alloc_pages_nodemask` and its slow path, page freeing |
//! | `vmscan.rs` | `shrink_*`, `pageout`, `do_try_to_free_pages`, `balance_pgdat`, `kswapd` |
//! | `swap.rs` | `mark_page_accessed`, `rotate_reclaimable_page`, LRU adds |
//! | `page_writeback.rs` | dirty limits, `balance_dirty_pages`, page dirtying and writeback state |
//! | `fs_writeback.rs` | the per-bdi flusher (`fs/fs-writeback.c`) and journal commits |
//! | `oom_kill.rs` | `out_of_memory`, `select_bad_process`, badness, the kill and exit |
//! | `task.rs` | tasks: cpuset, zonelist, pacing, a slice of work, allocation, exit |
//! | `workload/<kind>.rs` | what each task kind does (`pin`, `stream-write`, …) |
//! | `vmstat.rs` | `/proc/vmstat` names and order per release |
//!
//! Every piece of state lives here, so `invariants.rs` can recount all counters from page
//! flags. Time only moves between events; work inside one event happens at one instant and its
//! CPU cost is charged to the actor's next event.

pub mod fs_writeback;
pub mod granularity;
pub mod invariants;
pub mod oom_kill;
pub mod page;
pub mod page_alloc;
pub mod page_writeback;
mod pool;
pub mod swap;
pub mod task;
pub mod vmscan;
pub mod vmstat;
pub mod workload;
pub mod zone;

use crate::block::Disk;
use crate::fs::Mount;
use crate::outcome::Outcome;
use crate::sim::{EventQueue, SimRng, SimTime, SEC};
use crate::spec::{Policy, Release, RunSpec};
use fs_writeback::Bdi;
use page::{pg, LruList, Page, PageId, Place};
use task::Task;
use vmscan::Kswapd;
use zone::{Zone, ZoneStat};

/// `gfp_t` bits (`include/linux/gfp.h`, 2.6.32).
pub mod gfp {
    /// `__GFP_WAIT`.
    pub const WAIT: u32 = 0x10;
    /// `__GFP_HIGH`.
    pub const HIGH: u32 = 0x20;
    /// `__GFP_IO`.
    pub const IO: u32 = 0x40;
    /// `__GFP_FS`.
    pub const FS: u32 = 0x80;
    /// `__GFP_NORETRY`.
    pub const NORETRY: u32 = 0x1000;
    /// `__GFP_WRITE` [3.3+]: a page-cache allocation that will be dirtied.
    pub const WRITE: u32 = 0x100_0000;
    /// `__GFP_HARDWALL`.
    pub const HARDWALL: u32 = 0x20000;
    /// `__GFP_HIGHMEM`.
    pub const HIGHMEM: u32 = 0x02;
    /// `__GFP_MOVABLE`.
    pub const MOVABLE: u32 = 0x08;
    /// `GFP_NOFS`.
    pub const GFP_NOFS: u32 = WAIT | IO;
    /// `GFP_KERNEL`.
    pub const GFP_KERNEL: u32 = WAIT | IO | FS;
    /// `GFP_USER`.
    pub const GFP_USER: u32 = GFP_KERNEL | HARDWALL;
    /// `GFP_HIGHUSER_MOVABLE`: page cache and user anonymous memory.
    pub const GFP_HIGHUSER_MOVABLE: u32 = GFP_USER | HIGHMEM | MOVABLE;
}

/// Task flags the model uses (`PF_*`).
pub mod pf {
    /// `PF_MEMALLOC`: in reclaim (direct or kswapd); may use the reserves.
    pub const MEMALLOC: u32 = 0x800;
    /// `PF_KSWAPD`.
    pub const KSWAPD: u32 = 0x40000;
    /// `PF_SWAPWRITE`: may write to congested queues.
    pub const SWAPWRITE: u32 = 0x80_0000;
}

/// Who is running kernel code: the context `pageout()` and `->writepage` see.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Actor {
    /// A user task (by index), possibly in direct reclaim.
    Task(usize),
    /// The kswapd of a node.
    Kswapd(usize),
    /// The flusher thread of a bdi.
    Flusher(usize),
    /// The journal thread (kjournald) of a mount.
    Journal(usize),
}

/// The events of a run: every actor has at most one live `Run` event; a newer generation makes
/// older ones stale (a sleeper woken early).
///
/// Packed in one word (bit 63: a disk completion; bits 62–61: the actor's kind, 60–32 its index,
/// 31–0 the generation) so the event queue moves it in a register: a struct of fields written
/// one by one and read back whole stalls the store-to-load forwarding on every schedule.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Event(u64);

/// What an [`Event`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// Resume an actor.
    Run {
        /// Which one.
        actor: Actor,
        /// Its generation when scheduled.
        gen: u32,
    },
    /// A disk finished the request it was serving.
    DiskDone {
        /// Disk index.
        disk: usize,
    },
}

impl Event {
    const DISK: u64 = 1 << 63;
    const INDEX_BITS: u32 = 29;

    /// Resume `actor` if its generation is still `gen`.
    pub fn run(actor: Actor, gen: u32) -> Event {
        let (kind, index) = match actor {
            Actor::Task(i) => (0u64, i),
            Actor::Kswapd(i) => (1, i),
            Actor::Flusher(i) => (2, i),
            Actor::Journal(i) => (3, i),
        };
        assert!(
            index < 1 << Self::INDEX_BITS,
            "actor index {index} out of range"
        );
        Event(kind << 61 | (index as u64) << 32 | u64::from(gen))
    }

    /// Disk `disk` finished its request.
    pub fn disk_done(disk: usize) -> Event {
        Event(Self::DISK | disk as u64)
    }

    /// The event unpacked.
    pub fn kind(self) -> EventKind {
        if self.0 & Self::DISK != 0 {
            return EventKind::DiskDone {
                disk: (self.0 & !Self::DISK) as usize,
            };
        }
        let index = ((self.0 >> 32) & ((1 << Self::INDEX_BITS) - 1)) as usize;
        let actor = match self.0 >> 61 {
            0 => Actor::Task(index),
            1 => Actor::Kswapd(index),
            2 => Actor::Flusher(index),
            _ => Actor::Journal(index),
        };
        EventKind::Run {
            actor,
            gen: self.0 as u32,
        }
    }
}

impl std::fmt::Debug for Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.kind().fmt(f)
    }
}

impl Drop for Machine {
    /// The page array and the free stacks go back to this thread's pool for the next machine.
    fn drop(&mut self) {
        pool::give_pages(std::mem::take(&mut self.pages));
        for z in &mut self.zones {
            pool::give_ids(std::mem::take(&mut z.free));
        }
    }
}

/// One node (`pg_data_t`).
#[derive(Debug)]
pub struct Node {
    /// Zone ids of this node, lowest type first.
    pub zones: Vec<u16>,
    /// Its kswapd.
    pub kswapd: Kswapd,
    /// kswapd CPU time not yet charged.
    pub kswapd_cpu_ns: u64,
    /// Pages spanned (for the 2.6.36 cpuset `totalpages`).
    pub spanned: u64,
    /// Reclaimers in `reclaim_throttle(VMSCAN_THROTTLE_WRITEBACK)` on this node [5.16].
    pub throttled: Vec<Actor>,
    /// Pages of this node that finished writeback since the first of them slept [5.16].
    pub throttled_written: u64,
}

/// A regular file's page cache and writeback state (`struct inode` + `address_space`).
#[derive(Debug)]
pub struct Inode {
    /// The mount it lives on.
    pub mount: usize,
    /// Cached pages by index (NIL: not cached).
    pub pages: Vec<PageId>,
    /// PAGECACHE_TAG_DIRTY, one bit per index.
    pub dirty_tag: Vec<u64>,
    /// Pages tagged dirty.
    pub nr_dirty: u64,
    /// `inode->dirtied_when`, while the inode is dirty (I_DIRTY_PAGES).
    pub dirtied_when: Option<SimTime>,
    /// `mapping->writeback_index`.
    pub writeback_index: u32,
    /// i_size in pages.
    pub size_pages: u32,
    /// First disk block (in pages) of the file's data.
    pub disk_base: u64,
    /// Truncated/unlinked: its pages are gone.
    pub truncated: bool,
    /// I_SYNC: someone is inside `writeback_single_inode()`.
    pub i_sync: bool,
    /// Attached to the running transaction (ext3/ext4 ordered data).
    pub in_transaction: bool,
    /// I_DIRTY_PAGES.
    pub i_dirty: bool,
    /// Which of its bdi's inode lists it is on.
    pub list: fs_writeback::InodeList,
}

impl Inode {
    /// Sets or clears the dirty tag of `index`.
    pub fn tag_dirty(&mut self, index: u32, on: bool) {
        let (w, b) = ((index / 64) as usize, index % 64);
        if self.dirty_tag.len() <= w {
            self.dirty_tag.resize(w + 1, 0);
        }
        let was = self.dirty_tag[w] & (1 << b) != 0;
        if on && !was {
            self.dirty_tag[w] |= 1 << b;
            self.nr_dirty += 1;
        } else if !on && was {
            self.dirty_tag[w] &= !(1 << b);
            self.nr_dirty -= 1;
        }
    }

    /// The first index ≥ `from` tagged dirty (`find_get_pages_tag`), below `end`.
    pub fn next_dirty(&self, from: u32, end: u32) -> Option<u32> {
        let mut i = from;
        while i < end {
            let (w, b) = ((i / 64) as usize, i % 64);
            let word = *self.dirty_tag.get(w)? >> b;
            if word != 0 {
                let found = i + word.trailing_zeros();
                return (found < end).then_some(found);
            }
            i = (i / 64 + 1) * 64;
        }
        None
    }
}

/// A SysV shm segment (shmem inode).
#[derive(Debug)]
pub struct Segment {
    /// The pin task that created it.
    pub owner: usize,
    /// SHM_LOCK'd: `mapping_unevictable`, `info->flags & VM_LOCKED`.
    pub locked: bool,
    /// Pages by index (NIL: not resident: swapped out or not yet faulted).
    pub pages: Vec<PageId>,
    /// Resident pages.
    pub resident: u64,
    /// Pages out on swap.
    pub swapped: u64,
    /// Resident pages mapped by its attachers.
    pub mapped: u64,
}

/// Swap space.
#[derive(Debug, Default)]
pub struct Swap {
    /// `total_swap_pages`.
    pub total: u64,
    /// `nr_swap_pages`: free slots.
    pub free: u64,
    /// The bdi (disk) of the swap area.
    pub bdi: Option<usize>,
}

/// Machine-wide event counters (`enum vm_event_item` that is not per zone).
#[derive(Debug, Default, Clone)]
pub struct VmEvents {
    /// pgpgin (KiB).
    pub pgpgin: u64,
    /// pgpgout (KiB).
    pub pgpgout: u64,
    /// pswpout.
    pub pswpout: u64,
    /// pgfree.
    pub pgfree: u64,
    /// pgactivate.
    pub pgactivate: u64,
    /// pgdeactivate.
    pub pgdeactivate: u64,
    /// pgfault.
    pub pgfault: u64,
    /// kswapd_steal.
    pub kswapd_steal: u64,
    /// pageoutrun.
    pub pageoutrun: u64,
    /// allocstall.
    pub allocstall: u64,
    /// pgrotated.
    pub pgrotated: u64,
    /// kswapd_low_wmark_hit_quickly.
    pub kswapd_low_wmark_hit_quickly: u64,
    /// kswapd_high_wmark_hit_quickly.
    pub kswapd_high_wmark_hit_quickly: u64,
    /// kswapd_skip_congestion_wait.
    pub kswapd_skip_congestion_wait: u64,
    /// unevictable_pgs_culled.
    pub unevictable_pgs_culled: u64,
    /// unevictable_pgs_mlocked.
    pub unevictable_pgs_mlocked: u64,
    /// unevictable_pgs_munlocked.
    pub unevictable_pgs_munlocked: u64,
    /// unevictable_pgs_mlockfreed.
    pub unevictable_pgs_mlockfreed: u64,
    /// oom_kill (not a 2.6.3x counter; kept for the report).
    pub oom_kill: u64,
}

/// The global page counts the kernel keeps beside each zone's (`vm_stat[]`, read by
/// `global_page_state()`): every change to a zone's count changes these too, so a machine-wide
/// figure costs one read instead of a walk over the zones (128 of them on a 16 GiB fake-NUMA
/// box). The invariant checker recounts them from the zones.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct VmStat {
    /// NR_FREE_PAGES (the buddy lists).
    pub nr_free: u64,
    /// NR_FILE_DIRTY.
    pub nr_dirty: u64,
    /// NR_WRITEBACK.
    pub nr_writeback: u64,
    /// NR_INACTIVE_ANON … NR_UNEVICTABLE: pages on each LRU list.
    pub nr_lru: [u64; 5],
}

/// Counters of the run that are not kernel counters: what the report explains outcomes with.
#[derive(Debug, Default, Clone)]
pub struct RunCounters {
    /// Writepage calls from reclaim the filesystem declined.
    pub writepage_refused: u64,
    /// Pages submitted by `->writepages` (flusher, throttled writer).
    pub pages_written_by_writeback: u64,
    /// Pages submitted by `pageout()`.
    pub pages_written_by_reclaim: u64,
    /// Pages whose buffers a journal commit wrote.
    pub pages_written_by_journal: u64,
    /// Direct-reclaim passes that returned 0.
    pub reclaim_no_progress: u64,
    /// Dirty file pages reclaim marked PG_reclaim instead of writing [3.2+]
    /// (`nr_vmscan_immediate_reclaim`).
    pub vmscan_immediate: u64,
    /// Reclaim sleeps because isolated pages were under writeback or congested [3.2+].
    pub reclaim_throttled: u64,
    /// Write allocations that skipped a zone over its dirty limit [3.3+].
    pub zone_dirty_skips: u64,
    /// `balance_dirty_pages` pauses of the IO-less throttle [3.2+].
    pub dirty_pauses: u64,
    /// Pages a throttled dirtier submitted itself in `balance_dirty_pages` [≤3.1] (also
    /// counted in `pages_written_by_writeback`).
    pub pages_written_by_dirtier: u64,
}

/// A millisecond of simulated time, ns.
pub const MSEC_NS: u64 = crate::sim::MSEC;
/// A second of simulated time, ns.
pub const SEC_NS: u64 = crate::sim::SEC;

/// CPU cost constants (reclaim-oom §15.3), ns: charged to the actor that does the work. The
/// per-page costs are per 4 KiB page; a simulated page costs `Granularity::cost` of them.
pub mod cost {
    /// Examining one page in `shrink_page_list` (unmapped).
    pub const SCAN_PAGE: u64 = 200;
    /// Extra for a mapped page (rmap walk).
    pub const SCAN_MAPPED: u64 = 1_000;
    /// Isolating or putting back one page.
    pub const ISOLATE_PAGE: u64 = 50;
    /// Allocating one page on the fast path.
    pub const ALLOC_PAGE: u64 = 100;
    /// Copying one page in `write()`/`read()`.
    pub const COPY_PAGE: u64 = 1_000;
    /// Submitting one page for IO in `->writepage(s)`.
    pub const SUBMIT_PAGE: u64 = 300;
    /// One delalloc extent allocation (journal handle + mballoc) in ext4/btrfs/xfs writepages.
    pub const ALLOC_EXTENT: u64 = 20_000;
    /// Freeing one page of an exiting task or a truncated file.
    pub const FREE_PAGE: u64 = 100;
    /// The floor of any loop iteration of kswapd or the flusher, so time always advances.
    pub const LOOP_MIN: u64 = 1_000;
}

/// How an engine run ends early.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// Stop at the first OOM kill (the verdict); otherwise keep running after kills.
    pub stop_at_first_oom: bool,
    /// Recount every counter from page state after every event (slow; debug builds and tests).
    pub check_invariants: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            stop_at_first_oom: true,
            check_invariants: cfg!(debug_assertions),
        }
    }
}

/// The whole simulated machine.
pub struct Machine {
    /// The run's input.
    pub spec: RunSpec,
    /// Release rules in force.
    pub release: Release,
    /// The later-kernel switches (`crate::kernel`); all off for 2.6.32–2.6.36.
    pub sw: crate::kernel::Switches,
    /// The refusal policy: read only through `refusal_policy()`, which counts the reads.
    policy: Policy,
    /// How many times the policy decided something (see `RunResult::policy_decisions`).
    pub policy_decisions: u64,
    /// Engine options.
    pub options: Options,
    /// The clock: the time of the event being handled.
    pub now: SimTime,
    /// Pending events.
    pub queue: EventQueue<Event>,
    /// The simulated page: every count of pages below is of simulated pages; kernel constants
    /// (in 4 KiB pages or bytes) are converted where they are used (`granularity.rs`).
    pub gran: granularity::Granularity,
    /// Every page, by pfn.
    pub pages: Vec<Page>,
    /// Every zone.
    pub zones: Vec<Zone>,
    /// For each zone, the tasks whose `mems_zonelist` holds it and at which position: whom
    /// `free_pcppages_bulk` must tell that the zone's free pages grew (see `Task::fast_skip`).
    pub zone_users: Vec<Vec<(u32, u32)>>,
    /// Every node.
    pub nodes: Vec<Node>,
    /// Every task.
    pub tasks: Vec<Task>,
    /// Every regular file.
    pub inodes: Vec<Inode>,
    /// Every shm segment.
    pub segments: Vec<Segment>,
    /// Every mount.
    pub mounts: Vec<Mount>,
    /// One backing device (and flusher) per disk.
    pub bdis: Vec<Bdi>,
    /// Every disk.
    pub disks: Vec<Disk>,
    /// Swap.
    pub swap: Swap,
    /// `min_free_kbytes` in force (KiB, the kernel's unit).
    pub min_free_kbytes: u64,
    /// `ratelimit_pages`, simulated pages.
    pub ratelimit_pages: u64,
    /// Machine-wide events.
    pub ev: VmEvents,
    /// Pages carved for the hugetlb pools at boot (never freed).
    pub hugetlb_pages: u64,
    /// Machine-wide page counts (`vm_stat[]`), kept with the zones' own.
    pub vm_stat: VmStat,
    /// The sum of every zone's `dirty_balance_reserve` [3.3+] (fixed at boot).
    pub dirty_balance_reserve: u64,
    /// Run counters.
    pub rc: RunCounters,
    /// Actors sleeping in `congestion_wait(BLK_RW_ASYNC, …)`, woken when a queue uncongests.
    pub congestion_waiters: Vec<Actor>,
    /// The run's verdict, once reached.
    pub outcome: Option<Outcome>,
    /// Events handled.
    pub events: u64,
    /// Length of a jiffy, ns.
    pub jiffy: SimTime,
    /// A reusable buffer for isolated pages (no allocation in the scan loop).
    pub scratch: Vec<PageId>,
    /// A reusable buffer for the pages a `shrink_page_list` batch keeps.
    pub scratch_keep: Vec<PageId>,
    /// Random stream of the disks.
    pub disk_rng: SimRng,
    /// Share of recent writeback completions per bdi.
    pub bdi_prop: page_writeback::Prop,
    /// Share of recent page dirtyings per task.
    pub task_prop: page_writeback::Prop,
    /// Per-CPU `bdp_ratelimits`.
    pub bdp_ratelimits: Vec<u64>,
    /// Disks that got IO during the current event (unplugged at its end).
    pub plugged: Vec<usize>,
    /// Next free block of each disk, for new files.
    pub disk_next_lba: Vec<u64>,
    /// Finite tasks (writers, readers, truncates) not finished yet.
    pub unfinished: usize,
    /// A finite task was killed.
    pub killed_finite: bool,
    /// The next swap slot `scan_swap_map()` hands out.
    pub next_swap_slot: u32,
    /// `global_dirty_limit` [3.2+]: the hard limit, which descends slowly.
    pub global_dirty_limit: u64,
    /// When `global_update_bandwidth()` last moved it (its static `update_time`).
    pub dirty_limit_stamp: SimTime,
    /// The report of every OOM-killer decision so far.
    pub oom_reports: Vec<crate::outcome::OomReport>,
    /// The observer (`--timeline`, `--trace`, `explain`…): `None` costs nothing.
    pub recorder: Option<Box<crate::observe::Recorder>>,
    /// What the page-free path and the event loop record for the invariant checker.
    pub tracker: invariants::Tracker,
    /// Told the simulated time every 65 536 events (a progress bar); `None` costs nothing.
    pub progress: Option<Box<dyn FnMut(SimTime)>>,
}

impl Machine {
    /// Boots the machine described by `spec`: lays out zones, computes watermarks, carves kernel
    /// memory and hugetlb pages, creates tasks, files, flushers and journals, and queues their
    /// first events.
    pub fn boot(spec: &RunSpec, options: Options) -> Machine {
        let gran = spec.machine.granularity();
        // memory and node sizes are whole simulated pages (validated).
        let memory_pages = gran.pages_floor(spec.machine.memory_bytes);
        let cpus = spec.machine.cpus.max(1) as usize;
        let node_extents =
            zone::layout_zones(&spec.machine.layout, memory_pages, gran.page_bytes());
        let mut pages = pool::take_pages(memory_pages as usize);
        let mut zones = vec![];
        let mut nodes = vec![];
        for (n, extents) in node_extents.iter().enumerate() {
            let mut ids = vec![];
            // lowmem_reserve is a threshold free pages must exceed: the kernel's value from base
            // pages, rounded down (exact for `>`).
            let base: Vec<_> = extents.iter().map(|&(t, _, p)| (t, gran.base(p))).collect();
            let reserves: Vec<[u64; 3]> = zone::lowmem_reserves(&base)
                .into_iter()
                .map(|r| r.map(|x| gran.floor(x)))
                .collect();
            for (k, &(ztype, start, present)) in extents.iter().enumerate() {
                let id = zones.len() as u16;
                // zone_batchsize() reads base pages; batch and high are batches of pages.
                let (batch, high) = zone::zone_pcp(gran.base(present));
                let (pcp_batch, pcp_high) = (
                    gran.batch(batch as u64) as usize,
                    gran.batch(high as u64) as usize,
                );
                zones.push(Zone {
                    node: n as u32,
                    ztype,
                    start_pfn: start,
                    present,
                    watermark: [0; 3],
                    lowmem_reserve: reserves[k],
                    free: pool::take_ids(present as usize),
                    pcp: vec![vec![]; cpus],
                    pcp_high,
                    pcp_batch,
                    lru: Default::default(),
                    recent_scanned: [0; 2],
                    recent_rotated: [0; 2],
                    nr_saved_scan: [0; 5],
                    pages_scanned: 0,
                    all_unreclaimable: false,
                    oom_locked: false,
                    // A ratio by GiB of memory: from base pages, unconverted.
                    inactive_ratio: zone::inactive_ratio(gran.base(present)),
                    flags: zone::ReclaimFlags::default(),
                    stat: ZoneStat::default(),
                });
                debug_assert_eq!(pages.len() as u64, start);
                let free = Page {
                    place: Place::Buddy,
                    ..Page::new(id)
                };
                pages.resize(pages.len() + present as usize, free);
                ids.push(id);
            }
            let spanned = extents.iter().map(|e| e.2).sum();
            nodes.push(Node {
                zones: ids,
                kswapd: Kswapd::new(),
                kswapd_cpu_ns: 0,
                spanned,
                throttled: Vec::new(),
                throttled_written: 0,
            });
        }
        let total_present: u64 = zones.iter().map(|z| z.present).sum();
        let total_base = gran.base(total_present);
        let min_free_kbytes = spec
            .vm
            .min_free_kbytes
            .unwrap_or_else(|| zone::default_min_free_kbytes(total_base));
        for z in &mut zones {
            // Watermarks are thresholds free pages must exceed: the kernel's values from base
            // pages, rounded down (exact for `free > mark`).
            z.watermark = zone::zone_wmarks(min_free_kbytes, gran.base(z.present), total_base)
                .map(|w| gran.floor(w));
        }
        // ratelimit_pages = vm_total_pages / (ncpus * 32), clamped to [16, 4 MiB]: a batch of
        // dirtied pages.
        let ratelimit_pages = gran.batch((total_base / (cpus as u64 * 32)).clamp(16, 1024));
        let mut m = Machine {
            spec: spec.clone(),
            release: spec.release,
            sw: spec.kernel.switches,
            policy: spec.policy,
            policy_decisions: 0,
            options,
            now: 0,
            queue: EventQueue::default(),
            gran,
            pages,
            zone_users: vec![Vec::new(); zones.len()],
            zones,
            nodes,
            tasks: vec![],
            inodes: vec![],
            segments: vec![],
            mounts: vec![],
            bdis: vec![],
            disks: vec![],
            swap: Swap::default(),
            min_free_kbytes,
            ratelimit_pages,
            ev: VmEvents::default(),
            hugetlb_pages: 0,
            vm_stat: VmStat::default(),
            dirty_balance_reserve: 0,
            rc: RunCounters::default(),
            congestion_waiters: vec![],
            outcome: None,
            events: 0,
            jiffy: SEC / u64::from(spec.machine.hz.max(1)),
            scratch: Vec::with_capacity(64),
            scratch_keep: Vec::with_capacity(64),
            disk_rng: SimRng::split(spec.seed, 1),
            bdi_prop: page_writeback::Prop::default(),
            task_prop: page_writeback::Prop::default(),
            bdp_ratelimits: vec![0; cpus],
            plugged: vec![],
            disk_next_lba: vec![0; spec.disks.len()],
            unfinished: 0,
            killed_finite: false,
            next_swap_slot: 0,
            global_dirty_limit: 0,
            dirty_limit_stamp: 0,
            oom_reports: vec![],
            recorder: None,
            tracker: invariants::Tracker::default(),
            progress: None,
        };
        m.fill_free_lists();
        m.carve_kernel_and_hugetlb();
        m.dirty_balance_reserve = (0..m.zones.len())
            .map(|z| m.zone_dirty_balance_reserve(z))
            .sum();
        m.boot_devices();
        m.boot_tasks();
        // calc_period_shift(): the proportions' period is about twice the dirty limit.
        let (_, dirty) = m.global_dirty_limits();
        let period = 1u64 << (2 + (63 - dirty.saturating_sub(1).max(1).leading_zeros()));
        m.bdi_prop = page_writeback::Prop::new(m.bdis.len(), period);
        m.task_prop = page_writeback::Prop::new(m.tasks.len(), period);
        m
    }

    /// Puts every page (each already marked `Place::Buddy`) on its zone's buddy list, highest
    /// pfn at the bottom of the stack, so allocation order is by address, lowest pfn first.
    fn fill_free_lists(&mut self) {
        for z in &mut self.zones {
            let (start, end) = (z.start_pfn as PageId, (z.start_pfn + z.present) as PageId);
            debug_assert!(self.pages[start as usize..end as usize]
                .iter()
                .all(|p| p.place == Place::Buddy));
            z.free.extend((start..end).rev());
            self.vm_stat.nr_free += z.present;
        }
    }

    /// Takes the kernel's boot memory (in proportion to each zone's size) and the hugetlb pools
    /// (`hugepages=` at boot, interleaved over nodes) out of the free lists.
    fn carve_kernel_and_hugetlb(&mut self) {
        let total: u64 = self.zones.iter().map(|z| z.present).sum();
        // A capacity: rounded down to whole simulated pages.
        let reserved = self
            .gran
            .pages_floor(self.spec.machine.kernel_reserved_bytes);
        for zid in 0..self.zones.len() {
            let share = reserved * self.zones[zid].present / total.max(1);
            for _ in 0..share {
                let Some(id) = self.zones[zid].free.pop() else {
                    break;
                };
                self.vm_stat.nr_free -= 1;
                let p = &mut self.pages[id as usize];
                p.place = Place::Held;
                p.flags = pg::KERNEL;
                p.owner = u32::MAX;
                self.zones[zid].stat.nr_kernel += 1;
            }
        }
        let huge: u64 = self
            .spec
            .tasks
            .iter()
            .map(|t| self.gran.pages_ceil(t.kind.workload().hugetlb_bytes())) // 2 MiB multiples: exact
            .sum();
        // Interleave over the highest zone of every node, as hugetlb_hstate_alloc_pages() does.
        let mut carved = 0;
        let highest: Vec<u16> = self
            .nodes
            .iter()
            .filter_map(|n| n.zones.last().copied())
            .collect();
        while carved < huge {
            let before = carved;
            for &zid in &highest {
                if carved == huge {
                    break;
                }
                if let Some(id) = self.zones[zid as usize].free.pop() {
                    self.vm_stat.nr_free -= 1;
                    let p = &mut self.pages[id as usize];
                    p.place = Place::Held;
                    p.flags = pg::HUGETLB;
                    carved += 1;
                }
            }
            assert!(
                carved > before,
                "hugetlb pool larger than memory passed validation"
            );
        }
        self.hugetlb_pages = carved;
    }

    /// Disks, bdis (one flusher each), swap, mounts.
    fn boot_devices(&mut self) {
        for (i, d) in self.spec.disks.iter().enumerate() {
            self.disks.push(Disk::new(d.clone(), self.gran));
            self.bdis.push(Bdi::new(i, self.gran));
        }
        // A capacity: rounded down to whole simulated pages.
        self.swap.total = self.gran.pages_floor(self.spec.machine.swap_bytes);
        self.swap.free = self.swap.total;
        self.swap.bdi = self.spec.machine.swap_disk;
        for (i, ms) in self.spec.mounts.clone().iter().enumerate() {
            self.mounts.push(Mount::new(ms.clone()));
            if ms.fs.ops().journalled() && ms.disk.is_some() {
                let at = ms.commit_interval_ns;
                self.schedule(at, Actor::Journal(i));
            }
        }
        let interval = u64::from(self.spec.vm.dirty_writeback_centisecs) * 10 * crate::sim::MSEC;
        for b in 0..self.bdis.len() {
            if interval > 0 {
                self.bdis[b].next_kupdate = interval;
                self.schedule(interval, Actor::Flusher(b));
            }
        }
    }

    /// Creates the tasks and queues their starts.
    fn boot_tasks(&mut self) {
        let cpus = self.spec.machine.cpus.max(1) as usize;
        for (i, ts) in self.spec.tasks.clone().iter().enumerate() {
            let t = Task::new(self, i, ts, i % cpus);
            self.tasks.push(t);
        }
        for i in 0..self.tasks.len() {
            if let Some(p) = self.tasks[i].parent {
                self.tasks[p].children.push(i);
            }
            for (pos, &z) in self.tasks[i].mems_zonelist.iter().enumerate() {
                self.zone_users[z as usize].push((i as u32, pos as u32));
            }
        }
        for i in 0..self.tasks.len() {
            let start = self.tasks[i].start_ns;
            self.schedule(start, Actor::Task(i));
        }
    }

    /// The refusal policy, for a decision that depends on it: counted, so a run that never
    /// asks is known to be the same under every policy.
    pub fn refusal_policy(&mut self) -> Policy {
        self.policy_decisions += 1;
        self.policy
    }

    /// The run's policy, for reports (not for decisions: see `refusal_policy`).
    pub fn policy_name(&self) -> &'static str {
        self.policy.name()
    }

    /// Schedules `actor` to run at `at`, superseding any earlier wake-up of it.
    pub fn schedule(&mut self, at: SimTime, actor: Actor) {
        let gen = self.bump_gen(actor);
        self.queue
            .schedule(at.max(self.now), Event::run(actor, gen));
    }

    /// Advances an actor's generation: its older pending `Run` events become stale (it now waits
    /// for an explicit wake-up).
    pub fn bump_gen(&mut self, actor: Actor) -> u32 {
        let g = match actor {
            Actor::Task(t) => &mut self.tasks[t].gen,
            Actor::Kswapd(n) => &mut self.nodes[n].kswapd.gen,
            Actor::Flusher(b) => &mut self.bdis[b].gen,
            Actor::Journal(m) => &mut self.mounts[m].journal.gen,
        };
        *g = g.wrapping_add(1);
        *g
    }

    /// The current generation of an actor.
    fn gen_of(&self, actor: Actor) -> u32 {
        match actor {
            Actor::Task(t) => self.tasks[t].gen,
            Actor::Kswapd(n) => self.nodes[n].kswapd.gen,
            Actor::Flusher(b) => self.bdis[b].gen,
            Actor::Journal(m) => self.mounts[m].journal.gen,
        }
    }

    /// Handles one event: the single dispatch of the model.
    pub fn handle(&mut self, event: Event) {
        match event.kind() {
            EventKind::Run { actor, gen } => {
                if gen != self.gen_of(actor) {
                    return; // superseded: the actor was woken earlier or rescheduled
                }
                match actor {
                    Actor::Task(t) => self.run_task(t),
                    Actor::Kswapd(n) => self.run_kswapd(n),
                    Actor::Flusher(b) => self.run_flusher(b),
                    Actor::Journal(m) => self.run_journal(m),
                }
            }
            EventKind::DiskDone { disk } => self.disk_done(disk),
        }
    }

    /// `congestion_wait(BLK_RW_ASYNC, timeout)`: sleep until `timeout` passes or any queue
    /// leaves async congestion (`clear_bdi_congested` wakes every sleeper).
    pub fn congestion_wait(&mut self, actor: Actor, timeout: SimTime, cpu_ns: SimTime) {
        if !self.congestion_waiters.contains(&actor) {
            self.congestion_waiters.push(actor);
        }
        self.schedule(self.now + cpu_ns + timeout, actor);
    }

    /// Wakes every `congestion_wait` sleeper now (a queue uncongested).
    pub fn wake_congestion_waiters(&mut self) {
        let waiters = std::mem::take(&mut self.congestion_waiters);
        for a in waiters {
            self.schedule(self.now, a);
        }
    }

    /// Removes an actor from the congestion waiters (it woke by timeout).
    pub fn leave_congestion_wait(&mut self, actor: Actor) {
        self.congestion_waiters.retain(|&a| a != actor);
    }

    /// Pages in the swap cache, counted from the page flags (for the reports; without a swap
    /// area there are none, and no walk over every page).
    pub fn swap_cache_pages(&self) -> u64 {
        if self.swap.total == 0 {
            return 0;
        }
        self.pages.iter().filter(|p| p.has(pg::SWAPCACHE)).count() as u64
    }

    /// A page state summed over the zones (tests and reports; the engine reads `vm_stat`).
    pub fn global(&self, f: impl Fn(&Zone) -> u64) -> u64 {
        self.zones.iter().map(f).sum()
    }

    /// Global NR_FREE_PAGES.
    pub fn global_free(&self) -> u64 {
        self.vm_stat.nr_free
    }

    /// `zone_reclaimable_pages()`: file LRUs, plus anon LRUs while free swap slots remain.
    pub fn zone_reclaimable_pages(&self, zid: usize) -> u64 {
        let z = &self.zones[zid];
        let mut n = z.nr_lru(LruList::ActiveFile) + z.nr_lru(LruList::InactiveFile);
        if self.swap.free > 0 {
            n += z.nr_lru(LruList::ActiveAnon) + z.nr_lru(LruList::InactiveAnon);
        }
        n
    }

    /// `zone_reclaimable()` [36]: pages_scanned < 6 × reclaimable pages.
    pub fn zone_reclaimable(&self, zid: usize) -> bool {
        self.zones[zid].pages_scanned < 6 * self.zone_reclaimable_pages(zid)
    }

    /// Adds page `id` to the head of LRU list `l` of its zone.
    pub fn lru_add_head(&mut self, id: PageId, l: LruList) {
        let zid = self.pages[id as usize].zone as usize;
        let p = &mut self.pages[id as usize];
        debug_assert!(p.place != Place::Lru);
        p.place = Place::Lru;
        p.lru = l;
        p.flags |= pg::LRU;
        if l == LruList::Unevictable {
            p.flags |= pg::UNEVICTABLE;
        }
        page::list_add_head(&mut self.pages, &mut self.zones[zid].lru[l.idx()], id);
        self.vm_stat.nr_lru[l.idx()] += 1;
    }

    /// Adds page `id` to the tail of LRU list `l` of its zone.
    pub fn lru_add_tail(&mut self, id: PageId, l: LruList) {
        let zid = self.pages[id as usize].zone as usize;
        let p = &mut self.pages[id as usize];
        p.place = Place::Lru;
        p.lru = l;
        p.flags |= pg::LRU;
        page::list_add_tail(&mut self.pages, &mut self.zones[zid].lru[l.idx()], id);
        self.vm_stat.nr_lru[l.idx()] += 1;
    }

    /// Removes page `id` from its LRU list; it becomes `place`.
    pub fn lru_del(&mut self, id: PageId, place: Place) {
        let (zid, l) = {
            let p = &self.pages[id as usize];
            debug_assert_eq!(p.place, Place::Lru);
            (p.zone as usize, p.lru)
        };
        page::list_del(&mut self.pages, &mut self.zones[zid].lru[l.idx()], id);
        self.vm_stat.nr_lru[l.idx()] -= 1;
        let p = &mut self.pages[id as usize];
        p.place = place;
        p.flags &= !(pg::LRU | pg::UNEVICTABLE);
    }

    /// The task that owns anon page `id`, if it is a private anon page.
    pub fn anon_owner(&self, id: PageId) -> Option<usize> {
        let p = &self.pages[id as usize];
        (p.has(pg::ANON) || p.has(pg::KERNEL) && p.owner != u32::MAX).then_some(p.owner as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_unpacks_to_what_was_packed() {
        for actor in [
            Actor::Task(0),
            Actor::Task(4095),
            Actor::Kswapd(17),
            Actor::Flusher(255),
            Actor::Journal((1 << 29) - 1),
        ] {
            for gen in [0, 1, u32::MAX] {
                assert_eq!(Event::run(actor, gen).kind(), EventKind::Run { actor, gen });
            }
        }
        for disk in [0, 1, 255] {
            assert_eq!(Event::disk_done(disk).kind(), EventKind::DiskDone { disk });
        }
    }
}
