//! Every rule that differs between the kernels wbsim models, as a named switch, and the kernel
//! releases as bundles of switch settings (the *profiles*).
//!
//! A switch is declared once, in the [`switches!`] table below: its `[kernel]` key, its values in
//! the order the kernels took them (the 2.6.32.0 value first), the release and the commit behind
//! each value, and one line saying what it changes. The declaration generates the value's enum
//! (or uses `bool`), the field of [`Switches`] the engine reads (`Machine::switches`), and the row of
//! [`SWITCHES`] that `[kernel]`, `--set kernel.KEY=VALUE`, `wbsim list`, `wbsim history` and the
//! reports read. Nothing else names a switch's values.
//!
//! A *profile* is a release: 2.6.32.0 (every switch at its first value), then each release adds its
//! changes to the one before ([`V2_6_3X`] for the modelled 2.6.32–2.6.36 releases, whose rules
//! come from `../shared/model/reclaim-oom-2.6.3x.md` and `writeback-fs-history.md`, and [`LATER`]
//! for the writeback history after 2.6.36, writeback-fs §D, and the modern allocator's OOM
//! decision, `throttle_vm_writeout`'s end and hopeless nodes, `notes/research/14-modern.md`).
//! kswapd in terms of nodes (4.8/4.12) and the node LRU lists (4.8) are modelled; other later
//! work (the OOM reaper, kswapd's 3.11 loop rewrite, compaction, memcg, MGLRU) is not
//! (docs/MODEL.md simplification 20).
//! `docs/HISTORY.md` lists every switch with its rules.

use serde::Serialize;

use crate::spec::Release;

/// The enum of one switch's values (booleans use `bool`).
macro_rules! switch_enum {
    ($(#[$meta:meta])* bool { $($rest:tt)* }) => {};
    ($(#[$meta:meta])* $ty:ident { $( $(#[$vmeta:meta])* $variant:ident => $value:literal; )+ }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
        pub enum $ty {
            $( $(#[$vmeta])* #[serde(rename = $value)] $variant, )+
        }
    };
}

/// One declared value as a Rust expression.
macro_rules! switch_value {
    (bool, False) => {
        false
    };
    (bool, True) => {
        true
    };
    ($ty:ident, $v:ident) => {
        $ty::$v
    };
}

/// The first declared value (the 2.6.32.0 one).
macro_rules! switch_first {
    ($ty:ident; $first:ident $($rest:ident)*) => {
        switch_value!($ty, $first)
    };
}

/// Declares every switch: its enum, its field of [`Switches`], its row of [`SWITCHES`].
macro_rules! switches {
    ($(
        $(#[$meta:meta])*
        $key:ident : $ty:ident = $what:literal {
            $( $(#[$vmeta:meta])* $variant:ident => $value:literal, $since:literal, $cite:literal; )+
        }
    )+) => {
        $( switch_enum!($(#[$meta])* $ty { $( $(#[$vmeta])* $variant => $value; )+ }); )+

        /// One setting of every switch: the rules a run follows.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
        pub struct Switches {
            $( $(#[$meta])* pub $key: $ty, )+
        }

        impl Switches {
            /// Mainline 2.6.32's rules: every switch at its first value.
            pub const BASE: Switches = Switches {
                $( $key: switch_first!($ty; $($variant)+), )+
            };
        }

        /// Every switch, in the order `wbsim list` prints them.
        pub const SWITCHES: &[SwitchInfo] = &[
            $( SwitchInfo {
                key: stringify!($key),
                values: &[$($value),+],
                since: &[$($since),+],
                cites: &[$($cite),+],
                what: $what,
                get: |s: &Switches| {
                    let all = [$(switch_value!($ty, $variant)),+];
                    all.iter().position(|v| *v == s.$key).expect("a declared value")
                },
                set: |s: &mut Switches, i: usize| {
                    let all = [$(switch_value!($ty, $variant)),+];
                    s.$key = all[i];
                },
            }, )+
        ];
    };
}

switches! {
    // --- 2.6.32.0 → 2.6.36 (reclaim-oom §12, writeback-fs §A, §C.4) -------------------------

    /// What `shrink_list()` does with an active list's scan budget when the inactive list is not
    /// low (reclaim-oom §4.4).
    shrink_list_active_budget: ShrinkListActiveBudget =
        "an active list's scan budget when its inactive list is not low" {
        /// Scans the inactive list instead (mainline 2.6.32).
        ScansInactive => "scans-inactive", "2.6.32.0", "";
        /// Unused: `shrink_list()` returns 0 (2.6.33, and 2.6.32-stable).
        Unused => "unused", "2.6.32",
            "b39415b2731 vmscan: do not evict inactive pages when skipping an active list scan";
    }

    /// When `shrink_zone()` stops scanning because enough was reclaimed (reclaim-oom §4.1).
    shrink_zone_bailout: ShrinkZoneBailout =
        "when shrink_zone() stops once enough pages were reclaimed" {
        /// `nr_reclaimed > SWAP_CLUSTER_MAX`, direct reclaim only.
        SwapClusterMax => "swap-cluster-max", "2.6.32", "";
        /// `nr_reclaimed >= sc->nr_to_reclaim` (kswapd's is `ULONG_MAX`: never).
        NrToReclaim => "nr-to-reclaim", "2.6.33",
            "22fba33545b vmscan: separate sc.swap_cluster_max and sc.nr_max_reclaim; 338fde90930 vmscan: make consistent of reclaim bale out between do_try_to_free_page and shrink_zone";
    }

    /// What kswapd does after `balance_pgdat()` (reclaim-oom §8.2).
    kswapd_sleep: KswapdSleep = "how kswapd goes to sleep after balancing its node" {
        /// `schedule()` until `wakeup_kswapd()`.
        Schedule => "schedule", "2.6.32", "";
        /// A `HZ/10` nap first, then sleep unless `sleeping_prematurely()` (counting
        /// `kswapd_*_wmark_hit_quickly`).
        ShortNap => "short-nap", "2.6.33",
            "f50de2d3811 vmscan: have kswapd sleep for a short interval and double check it should be asleep; de3fab39348 vmscan: kswapd: don't retry balance_pgdat() if all zones are unreclaimable";
    }

    /// kswapd's `congestion_wait()` between priorities (reclaim-oom §8.3).
    kswapd_congestion_wait: KswapdCongestionWait =
        "whether kswapd naps between priorities while a zone is below min" {
        /// Always, once it scanned at priority < 10.
        Always => "always", "2.6.32", "";
        /// Skipped (counting `kswapd_skip_congestion_wait`) while a zone is below its min
        /// watermark.
        SkipUnderMin => "skip-under-min", "2.6.33",
            "bb3ab596832 vmscan: stop kswapd waiting on congestion when the min watermark is not being met";
    }

    /// When `balance_pgdat()` tests a zone's high watermark for `all_zones_ok` (reclaim-oom §8.3).
    kswapd_balanced_check: KswapdBalancedCheck =
        "whether balance_pgdat() tests a zone's high watermark before or after shrinking it" {
        /// Before shrinking the zone.
        BeforeShrink => "before-shrink", "2.6.32", "";
        /// After shrinking it (and the min test only then).
        AfterShrink => "after-shrink", "2.6.34",
            "45973d74fd3 vmscan: check high watermark after shrink zone";
    }

    /// How reclaim reads a page's references (reclaim-oom §4.6, §5 step 8).
    page_references: PageReferences = "how reclaim reads and acts on a page's references" {
        /// `page_referenced()` test-and-clears PG_referenced too; `shrink_page_list()` activates
        /// a referenced page in use (`page_mapping_inuse()`), `shrink_active_list()` rotates only
        /// such pages.
        PageReferenced => "page-referenced", "2.6.32", "";
        /// `page_check_references()`: young ptes activate anon pages and twice-used mapped file
        /// pages, PG_referenced alone reclaims clean; `shrink_active_list()` reads ptes only.
        PageCheckReferences => "page-check-references", "2.6.34",
            "645747462435 vmscan: detect mapped file pages used only once; dfc8d636cdb vmscan: factor out page reference checks; 31c0569c3b0 vmscan: drop page_mapping_inuse()";
    }

    /// The swap token (`mm/thrash.c`: `grab_swap_token()` in `do_swap_page()`,
    /// `page_referenced_one()`, `disable_swap_token()`): the task whose major swap-in faults
    /// come closest together holds it, and while it is in a page fault, reclaim by anyone else
    /// treats every page it maps as referenced; reclaim at priority 0 takes it away.
    swap_token: SwapToken = "the swap token that shields a thrashing task's pages from reclaim" {
        /// 2.6.20's contention by fault interval (7602bdf2fd14, Ashwin Chaugule), as in 2.6.32.
        FaultRate => "fault-rate", "2.6.32", "";
        /// Also halves the holder's priority every 256 swap-in faults, so a holder that
        /// sleeps loses it (3.0; first profile 3.2).
        Aging => "aging", "3.2", "d7911ef30cb7 vmscan: implement swap token priority aging (3.0)";
        /// No token (3.5; first profile 3.9).
        Removed => "removed", "3.9", "mm: remove swap token code (Rik van Riel, 3.5)";
    }

    /// How `get_scan_ratio()` / `get_scan_count()` splits scanning between anon and file.
    scan_ratio: ScanRatio = "how the anon/file scan balance is rounded" {
        /// Rounded to whole percent first.
        Percent => "percent", "2.6.32", "";
        /// Exact fractions (`get_scan_count()`).
        Exact => "exact", "2.6.35",
            "76a33fc380c vmscan: prevent get_scan_ratio() rounding errors";
    }

    /// What `do_try_to_free_pages()` returns after a full pass that freed nothing (reclaim-oom
    /// §3.5): 0 sends the allocator to the OOM killer.
    direct_reclaim_progress: DirectReclaimProgress =
        "what a direct-reclaim pass that freed nothing returns (0: the OOM path)" {
        /// 0 when every zone it could scan was `all_unreclaimable` (`sc->all_unreclaimable`),
        /// else `nr_reclaimed`, i.e. 0 too.
        ScAllUnreclaimable => "sc-all-unreclaimable", "2.6.32", "";
        /// 1 when the last priority shrank some zone (0 only once kswapd flagged every zone).
        ShrunkAZone => "shrunk-a-zone", "2.6.35",
            "0aeb2339e54 vmscan: remove all_unreclaimable scan control; bb21c7ce18e vmscan: fix do_try_to_free_pages() return value when priority==0 reclaim failure";
        /// 1 unless `all_unreclaimable()`: every allowed zone scanned 6× its reclaimable pages.
        ZoneReclaimable => "zone-reclaimable", "2.6.36",
            "d1908362ae0 vmscan: check all_unreclaimable in direct reclaim path";
        /// `nr_reclaimed` only: no fallback (the retry decision is `should_reclaim_retry()`).
        NrReclaimed => "nr-reclaimed", "4.7",
            "0a0337e0d1d1 mm, oom: rework oom detection (do_try_to_free_pages returns nr_reclaimed)";
    }

    /// `CONFIG_COMPACTION` (every allocation is order 0, so only `/proc/vmstat` shows it).
    compaction: bool = "CONFIG_COMPACTION: /proc/vmstat prints the compact_* counters" {
        False => "false", "2.6.32", "";
        True => "true", "2.6.35",
            "748446bb6b5 mm: compaction: memory compaction core; 56de7263fcf mm: compaction: direct compact when a high-order allocation fails";
    }

    /// Whether the allocator drains the per-CPU lists when the page is still not there after
    /// direct reclaim made progress (reclaim-oom §2.6).
    drain_pcp_after_reclaim: bool =
        "the allocator drains every per-CPU list when a page is not found after reclaim" {
        False => "false", "2.6.32", "";
        True => "true", "2.6.36",
            "9ee493ce0a6 mm: page allocator: drain per-cpu lists after direct reclaim allocation fails";
    }

    /// `xfs_vm_writepage()` called from reclaim (writeback-fs §C.4).
    xfs_reclaim_writepage: XfsReclaimWritepage = "what XFS's ->writepage does for reclaim" {
        /// Writes, allocating delalloc blocks itself, and clusters up to 4 × 32 pages.
        AllocateAndCluster => "allocate-and-cluster", "2.6.32", "";
        /// Refuses every `PF_MEMALLOC` caller (kswapd and direct reclaim).
        RefuseMemalloc => "refuse-memalloc", "2.6.35",
            "070ecdca54d xfs: skip writeback from reclaim context; 254c8c2dbf0 xfs: remove nr_to_write writeback windup.";
        /// Refuses direct reclaim only (`PF_MEMALLOC` without `PF_KSWAPD`); kswapd writes and
        /// clusters up to 32 pages.
        RefuseDirect => "refuse-direct", "2.6.36",
            "d4f7a5cbd54 xfs: allow writeback from kswapd";
    }

    /// `xfs_vm_write_begin()`'s page-cache allocation (`grab_cache_page_write_begin()`).
    xfs_write_begin_nofs: bool = "XFS's buffered writer allocates page cache without __GFP_FS" {
        False => "false", "2.6.32", "";
        True => "true", "2.6.36", "aea1b953214 xfs: use GFP_NOFS for page cache allocation";
    }

    /// When `balance_dirty_pages()` lets a writer go (writeback-fs §A.3, §A.6).
    dirty_exceeded: DirtyExceeded = "when balance_dirty_pages() throttles a writer" {
        /// While its bdi is over its share, clipped to what is globally still available
        /// (`clip_bdi_dirty_limit()`).
        BdiLimit => "bdi-limit", "2.6.32", "";
        /// While its bdi is over its share or the global dirty limit is exceeded; no clip.
        BdiOrGlobalLimit => "bdi-or-global-limit", "2.6.36",
            "e50e37201ae writeback: balance_dirty_pages(): reduce calls to global_page_state; 16c4042f089 writeback: avoid unnecessary calculation of bdi dirty thresholds";
    }

    /// How the OOM killer scores a task (reclaim-oom §9).
    oom_badness: OomBadness = "how the OOM killer scores a task" {
        /// `badness()`: total_vm plus half of each child's, divided by the roots of CPU and run
        /// time, shifted by oom_adj.
        TotalVm => "total-vm", "2.6.32", "";
        /// `oom_badness()`: rss + swap in thousandths of the allowed memory plus oom_score_adj,
        /// at least 1 for an eligible task.
        RssPerMille => "rss-per-mille", "2.6.36",
            "a63d83f427f oom: badness heuristic rewrite; f19e8aa11af oom: always return a badness score of non-zero for eligible tasks";
    }

    /// A task whose cpuset shares no node with the OOM invoker's (reclaim-oom §9).
    oom_cpuset_tasks: OomCpusetTasks =
        "what happens to tasks outside the OOM invoker's cpuset" {
        /// Eligible, `badness()` divided by 8.
        ScoreDivided => "score-divided", "2.6.32", "";
        /// Not eligible.
        Ineligible => "ineligible", "2.6.36",
            "6cf86ac6f36 oom: filter tasks not sharing the same cpuset";
    }

    /// Which child `oom_kill_process()` kills instead of the selected parent.
    oom_child_victim: OomChildVictim = "which child dies instead of the selected parent" {
        /// The first child with its own memory that may be killed.
        FirstKillable => "first-killable", "2.6.32", "";
        /// The child with the highest badness score.
        HighestBadness => "highest-badness", "2.6.36",
            "5e9d834a0e0 oom: sacrifice child with highest badness score for parent";
    }

    /// An OOM invoker that was already killed (`fatal_signal_pending(current)`).
    oom_killed_current: OomKilledCurrent =
        "what out_of_memory() does when the invoker itself was already killed" {
        /// Selects a victim as for any invoker.
        Selects => "selects", "2.6.32", "";
        /// Gives it TIF_MEMDIE (the reserves) and returns.
        TakesReserves => "takes-reserves", "2.6.36",
            "7b98c2e402e oom: give current access to memory reserves if it has been killed";
    }

    /// The OOM of a task bound with `MPOL_BIND` (research 14 §9.3).
    oom_mempolicy: OomMempolicy =
        "how an OOM of a task bound with MPOL_BIND (numactl --membind) is detected and who dies" {
        /// `constrained_alloc()` reads the zonelist only, which MPOL_BIND leaves whole:
        /// `CONSTRAINT_NONE`, a system-wide selection.
        ZonelistOnly => "zonelist-only", "2.6.32", "";
        /// Detected from the nodemask (`CONSTRAINT_MEMORY_POLICY`): the invoker itself is
        /// killed ("No available memory (MPOL_BIND)").
        KillCurrent => "kill-current", "2.6.33",
            "4365a5676fa oom-kill: fix NUMA constraint check with nodemask";
        /// Detected from the nodemask: the victim is selected among the tasks whose policy
        /// intersects it (tasks without MPOL_BIND are all eligible), over the bound nodes'
        /// pages.
        SelectIntersecting => "select-intersecting", "2.6.36",
            "6f48d0ebd90 oom: select task from tasklist for mempolicy ooms";
    }

    // --- after 2.6.36 (writeback-fs §D) ---------------------------------------------------

    /// How a reclaimer sleeps when it waits for writeback (writeback-fs §D.2, §D.10).
    congestion_sleep: CongestionSleep = "how reclaim sleeps between priorities and on writeback" {
        /// `congestion_wait(BLK_RW_ASYNC, HZ/10)`: always the full timeout unless a queue leaves
        /// congestion.
        Always => "always", "2.6.32", "";
        /// `wait_iff_congested()`: sleep only when some bdi is congested and the zone was marked
        /// `ZONE_CONGESTED`; otherwise return at once.
        IffCongested => "iff-congested", "2.6.37",
            "0e093d99763e writeback: do not sleep on the congestion queue if there are no congested BDIs";
        /// `reclaim_throttle()`: per-node wait, woken after `SWAP_CLUSTER_MAX` pages per
        /// throttled task finish writeback.
        ReclaimThrottle => "reclaim-throttle", "5.16",
            "8cd7c588decf mm/vmscan: throttle reclaim until some writeback completes if congested";
    }

    /// Which zones `balance_pgdat()` shrinks on its walk up to `end_zone`: 2.6.32–2.6.38 every
    /// zone below `8 × high` ("equal pressure on every zone"); from 2.6.39 only a zone below
    /// `high + balance_gap`, `balance_gap = min(low, ⌈present / 100⌉)`
    /// (`KSWAPD_ZONE_BALANCE_GAP_RATIO`), so a zone with a few percent free is left alone.
    kswapd_zone_skip: KswapdZoneSkip = "which zones kswapd's balance_pgdat() walk shrinks (8 × high or high + balance_gap)" {
        /// `!zone_watermark_ok(zone, order, 8*high_wmark_pages(zone), end_zone, 0)`.
        EightTimesHigh => "eight-times-high", "2.6.32", "";
        /// `!zone_watermark_ok_safe(zone, order, high_wmark_pages(zone) + balance_gap, end_zone, 0)`.
        HighPlusBalanceGap => "high-plus-balance-gap", "2.6.39",
            "32a4330d4156 mm: vmscan: kswapd should not free an excessive number of pages when balancing small zones";
    }

    /// §D.3: PG_reclaim is cleared by `set_page_dirty()`, not `clear_page_dirty_for_io()`.
    pg_reclaim_survives_flusher_write: bool =
        "PG_reclaim set by reclaim survives a flusher write (rotation at completion)" {
        False => "false", "2.6.32", "";
        True => "true", "2.6.39", "278df9f451dc mm: reclaim invalidated page ASAP";
    }

    /// Who may call `->writepage` on a dirty file page from reclaim (writeback-fs §D.4, §D.9,
    /// §D.12).
    reclaim_fs_writepage: ReclaimFsWrite =
        "which reclaimer may call ->writepage on a dirty file page" {
        /// Every reclaimer; the filesystem decides.
        All => "all", "2.6.32", "";
        /// kswapd only, at priority < `DEF_PRIORITY - 2`; others mark the page PG_reclaim and
        /// keep it.
        KswapdPriority => "kswapd-priority", "3.2",
            "ee72886d8ed5 mm: vmscan: do not writeback filesystem pages in direct reclaim; f84f6e2b0868 (kswapd below priority 10); 49ea7eb65e7c (immediate reclaim)";
        /// kswapd only, when the zone's LRU tail was all unqueued dirty pages
        /// (`ZONE_TAIL_LRU_DIRTY`).
        KswapdDirtyZone => "kswapd-dirty-zone", "3.11",
            "mm: vmscan: have kswapd writeback pages based on dirty pages encountered, not priority (3.11)";
        /// kswapd only, for a page already marked PG_reclaim (seen twice) in a dirty node.
        KswapdSeenTwice => "kswapd-seen-twice", "4.11",
            "4eda48235011 mm: vmscan: only write dirty pages that the scanner has seen twice";
        /// Never: `pageout()` activates regular-filesystem pages; only shmem and anon swap cache
        /// are written.
        Never => "never", "mainline",
            "mm: Remove swap_writepage() and shmem_writepage() / Remove aops->writepage (v6.18)";
    }

    /// When reclaim waits because the pages it isolates are under writeback (writeback-fs §D.5,
    /// §D.9).
    reclaim_writeback_throttle: WritebackThrottle =
        "when reclaim sleeps because isolated pages are under writeback" {
        /// Never.
        None => "none", "2.6.32", "";
        /// `nr_writeback >= nr_taken >> (DEF_PRIORITY - priority)` → sleep.
        PriorityScaled => "priority-scaled", "3.2",
            "mm: vmscan: throttle reclaim if encountering too many dirty pages under writeback (3.2)";
        /// Zone flags `ZONE_WRITEBACK` / `ZONE_CONGESTED` / `ZONE_TAIL_LRU_DIRTY`; kswapd stalls
        /// on PG_reclaim pages under writeback, direct reclaim sleeps iff congested.
        ZoneFlags => "zone-flags", "3.11",
            "e2be15f6c3ee mm: vmscan: stall page reclaim and writeback pages based on dirty/writepage pages encountered";
        /// The same flags, set only by kswapd at the end of its `shrink_node()` from the whole
        /// call's counts (needs `kswapd_balance` ≠ `zones`: the zone-form kswapd sets none).
        KswapdFlags => "kswapd-flags", "4.17",
            "mm/vmscan: don't change pgdat state on base of a single LRU list state; mm/vmscan: don't mess with pgdat->flags in memcg reclaim (Andrey Ryabinin, 4.17)";
        /// The same, with `nr_congested` counting only pages under writeback *and* PG_reclaim:
        /// bdi congestion is gone.
        CongestedReclaimOnly => "congested-reclaim-only", "5.18",
            "Remove remaining parts of congestion tracking code (NeilBrown, 5.18)";
    }

    /// How `balance_dirty_pages()` throttles a dirtier (writeback-fs §A.6, §D.6).
    dirty_throttle: DirtyThrottle =
        "balance_dirty_pages writes back itself, or only sleeps at the bdi's bandwidth" {
        /// The writer writes back its own bdi's pages, then sleeps.
        WriterWritesBack => "writer-writes-back", "2.6.32", "";
        /// IO-less: the writer only sleeps, paced to the bdi's write bandwidth.
        IoLess => "io-less", "3.2", "143dfe8611a6 writeback: IO-less balance_dirty_pages()";
    }

    /// Whether the allocator's fast path spreads order-0 allocations over the preferred node's
    /// zones in proportion to their size (mm/page_alloc.c `get_page_from_freelist()`).
    fair_zone_alloc: FairZoneAlloc =
        "the fast path skips a local zone whose NR_ALLOC_BATCH (high - low) is used up" {
        /// The first zone above its low watermark takes every allocation.
        Off => "off", "2.6.32", "";
        /// [3.12–3.14] `NR_ALLOC_BATCH` per zone: the fast path is the fair pass, over the
        /// preferred node's zones only (fff4068cba48, 3.13, and 3.12 stable); when it fails the
        /// slow path's `prepare_slowpath()` wakes kswapd and refills the batches, and its first
        /// walk is at the min watermark, remote zones last.
        FastPath => "fast-path", "3.12",
            "81c0a2bb515f mm: page_alloc: fair zone allocator policy";
        /// [3.15–4.7] A failing fair pass is walked again without fairness, remote zones
        /// included, before the slow path wakes kswapd; the batches are refilled there if a
        /// local zone used its batch. The first profile after 3.14 is 4.7.
        Zone => "zone", "4.7",
            "3a025760fc15 mm: page_alloc: spill to remote nodes before waking kswapd (3.15)";
        /// Gone with the node LRUs: every zone of a node ages on one list.
        Removed => "removed", "4.8",
            "e6cbd7f2efb4 mm, page_alloc: remove fair zone allocation policy";
    }

    /// Whether page-cache allocations for writes avoid zones over their dirty limit (§D.7).
    per_zone_dirty_limits: ZoneDirtyLimits =
        "write allocations skip zones (nodes) over their dirty limit, fast path only" {
        /// No per-zone limit.
        Off => "off", "2.6.32", "";
        /// `zone_dirty_ok()` in the allocator's fast path for `__GFP_WRITE`.
        Zone => "zone", "3.3",
            "a756cf590853 mm: try to distribute dirty pages fairly across zones";
        /// `node_dirty_ok()`: the same per node.
        Node => "node", "4.8",
            "599d0c954f91 mm, vmscan: move LRU lists to node (node_dirty_ok)";
    }

    /// §D.8: dirtyable memory excludes `dirty_balance_reserve`.
    dirtyable_minus_reserves: bool = "dirtyable memory excludes lowmem_reserve + high watermark" {
        False => "false", "2.6.32", "";
        True => "true", "3.3", "ab8fabd46f81 mm: exclude reserved pages from dirtyable memory";
    }

    /// §D.8: anon pages never count as dirtyable.
    dirtyable_excludes_anon: bool = "anon pages never count as dirtyable memory" {
        False => "false", "2.6.32", "";
        True => "true", "3.14",
            "a1c3bfb2f67e mm: page-writeback.c: do not count anon pages as dirtyable memory";
    }

    /// Where a dirty file page that reclaim did not write goes (writeback-fs §D.9).
    dirty_page_disposition: DirtyDisposition = "where a dirty file page reclaim did not write goes" {
        /// Back to the inactive list's head.
        InactiveHead => "inactive-head", "2.6.32", "";
        /// Activated "out of the reclaimer's face", with PG_reclaim set.
        Activate => "activate", "4.11",
            "c55e8d035b28 mm: vmscan: move dirty pages out of the way until they're flushed";
    }

    /// What makes reclaim wake the flusher threads (writeback-fs §D.9).
    flusher_wakeup: FlusherWakeup = "what makes reclaim wake the flushers" {
        /// Direct reclaim, after scanning more than 1.5 × SWAP_CLUSTER_MAX pages in one
        /// `do_try_to_free_pages`.
        DirectReclaimScanned => "direct-reclaim-scanned", "2.6.32", "";
        /// `shrink_inactive_list()`, when every isolated page was dirty and not queued for IO:
        /// `wakeup_flusher_threads(0, WB_REASON_VMSCAN)`, all dirty pages.
        LruTailDirty => "lru-tail-dirty", "4.11",
            "mm: vmscan: kick flushers when we encounter dirty pages on the LRU (4.11)";
    }

    /// ext4's `write_begin` allocates its page inside the journal handle, so without `__GFP_FS`.
    ext4_write_begin_nofs: bool = "ext4's buffered writer allocates page cache without __GFP_FS" {
        True => "true", "2.6.32", "";
        False => "false", "3.9",
            "ext4: grab page before starting transaction handle in write_begin() (3.9)";
    }

    // --- the modern allocator, kswapd and ext4 (issue 14, research 14-modern) ----------------

    /// What the allocator's slow path does after a direct-reclaim pass (research 14 §2): 2.6.36's
    /// `should_alloc_retry()` (order 0 always retries; only a pass that freed nothing under
    /// `__GFP_FS` goes to the OOM killer), or 4.7's `should_reclaim_retry()`.
    alloc_retry: AllocRetry = "the allocator's retry and OOM decision after direct reclaim" {
        /// `should_alloc_retry()`: `congestion_wait(HZ/50)` and retry; OOM at once on a pass
        /// that returned 0 with `__GFP_FS`.
        ShouldAllocRetry => "should-alloc-retry", "2.6.32", "";
        /// `should_reclaim_retry()`: OOM after 16 consecutive passes that freed nothing, or
        /// when no zone passes min with its reclaimable pages (discounted by the no-progress
        /// count) counted as free; `congestion_wait(HZ/10)` when half of those wait for
        /// writeback; a `!__GFP_FS` allocation in the OOM path kills nothing and retries.
        ReclaimRetryBackoff => "reclaim-retry-backoff", "4.7",
            "0a0337e0d1d1 mm, oom: rework oom detection";
        /// The same without the back-off.
        ReclaimRetry => "reclaim-retry", "4.12",
            "mm: remove unnecessary back-off function when retrying page reclaim (4.12, with c73322d098e4)";
        /// The same without the `congestion_wait(HZ/10)`: only `cond_resched()`.
        ReclaimRetryNosleep => "reclaim-retry-nosleep", "5.16",
            "132b0d21d21f mm/page_alloc: remove the throttling logic from the page allocator";
    }

    /// How kswapd decides its node is balanced, and what it shrinks (research 14 §4.2–§4.4).
    /// From `node-any-zone` the reclaim flags (`PGDAT_*`, `LRUVEC_CONGESTED`) are per node.
    kswapd_balance: KswapdBalance =
        "how kswapd decides its node is balanced and what one balance_pgdat() priority shrinks" {
        /// 2.6.36's `balance_pgdat()`: every zone below high, each shrunk by itself while below
        /// 8 × high; woken when a zone is below low; sleeps when every zone is above high.
        Zones => "zones", "2.6.32", "";
        /// Woken unless some zone up to the waker's classzone is above high + its
        /// `lowmem_reserve[classzone]`; a priority stops there (top-down) or shrinks the whole
        /// node (`kswapd_shrink_node()`, goal Σ high) with no nap between priorities; it sleeps
        /// only when *every* such zone is balanced.
        NodeAnyZone => "node-any-zone", "4.8",
            "1d82de618ddd mm, vmscan: make kswapd reclaim in terms of nodes; 38087d9b0360 mm, vmscan: simplify the logic deciding whether kswapd sleeps; 599d0c954f91 mm, vmscan: move LRU lists to node";
        /// `pgdat_balanced()`: any eligible zone (bottom-up) above high + reserve also lets
        /// kswapd sleep (and clears the node's flags).
        PgdatBalanced => "pgdat-balanced", "4.12",
            "mm, vmscan: prevent kswapd sleeping prematurely due to mismatched classzone_idx; mm, vmscan: only clear pgdat congested/dirty/writeback state when balanced (Mel Gorman, 4.12)";
    }

    /// `throttle_vm_writeout()` at the end of `shrink_zone()` (research 14 §7.1).
    throttle_vm_writeout: ThrottleVmWriteout =
        "what reclaim's throttle_vm_writeout() compares writeback with" {
        /// 110 % of the dirty threshold.
        Threshold => "threshold", "2.6.32", "";
        /// 110 % of `hard_dirty_limit()`: the larger of the threshold and `global_dirty_limit`.
        HardLimit => "hard-limit", "3.4",
            "47a133339c33 mm: use global_dirty_limit in throttle_vm_writeout()";
        /// Gone: reclaim never sleeps there.
        Removed => "removed", "4.9", "bf48438354a7 mm, vmscan: get rid of throttle_vm_writeout";
    }

    /// Hopeless nodes (research 14 §3): `pgdat->kswapd_failures` counts `balance_pgdat()` runs
    /// that freed nothing; at 16 kswapd is no longer woken, sleeps unbalanced, and
    /// `skip_throttle_noprogress()` holds; any `shrink_zone()` that frees a page resets it. The
    /// `all_unreclaimable` / `pages_scanned` bookkeeping is gone.
    kswapd_failures: bool = "kswapd gives up on a node after 16 fruitless runs (kswapd_failures)" {
        False => "false", "2.6.32", "";
        True => "true", "4.12",
            "c73322d098e4 mm: fix 100% CPU kswapd busyloop on unreclaimable nodes";
    }

    /// Where the LRU lists live (research 14 §4.1, §4.5). From `node` one lruvec per node holds
    /// the pages of all its zones in one age order; `shrink_node()` scans it with
    /// `sc->reclaim_idx`, and `isolate_lru_pages()` moves pages of zones above it aside
    /// (`pgscan_skip_<zone>`, put back at the list head, counted in `nr_scanned` as 4.12+ do);
    /// `get_scan_count()` and `inactive_list_is_low()` read the node's eligible sizes.
    lru_lists: LruLists = "whether the LRU lists are per zone or per node (shrink_node, reclaim_idx)" {
        /// Five lists per zone, scanned zone by zone.
        Zone => "zone", "2.6.32", "";
        /// Five lists per node; per-zone counts kept as `NR_ZONE_*`.
        Node => "node", "4.8",
            "599d0c954f91 mm, vmscan: move LRU lists to node; b2e18757f2c9 mm, vmscan: begin reclaiming pages on a per-node basis";
    }

    /// How far `setup_per_zone_wmarks()` puts low and high above min. Before 4.6 low is
    /// min + min/4 and high min + min/2; from 4.6 the gap is `max(min/4, managed pages ×
    /// vm.watermark_scale_factor / 10000)` (low = min + gap, high = min + 2 × gap), so on a zone
    /// of gigabytes kswapd wakes earlier and reclaims further per run (4.6 mm/page_alloc.c
    /// `__setup_per_zone_wmarks()`).
    watermark_gap: WatermarkGap = "how far low and high sit above min (vm.watermark_scale_factor)" {
        /// `min >> 2` and `min >> 1`.
        QuarterMin => "quarter-min", "2.6.32", "";
        /// `max(min >> 2, managed × watermark_scale_factor / 10000)`.
        /// Merged in 4.6; the first profile that has it is 4.7 (there is no 4.6 profile).
        ScaleFactor => "scale-factor", "4.7",
            "795ae7a0de6b mm: scale kswapd watermarks in proportion to memory (4.6)";
    }

    /// Where `global_dirty_limit` (3.2, c42843f2f0bb; `dom->dirty_limit` from 4.2) starts:
    /// `writeback_set_ratelimit()`, run by `page_writeback_init()` at boot (and again when a
    /// CPU comes up or a dirty sysctl is written), sets it to the dirty threshold of that
    /// moment, so after boot the hard limit descends from the threshold of an empty box rather
    /// than rising from 0 at the first throttled write.
    dirty_limit_boot_init: bool =
        "the global dirty limit starts at the boot-time dirty threshold, not 0" {
        /// 0 until the first `update_dirty_limit()` (3.2's `writeback_set_ratelimit()`).
        False => "false", "2.6.32", "";
        /// `global_dirty_limit = dirty_thresh` in `writeback_set_ratelimit()`. The line is not in
        /// 3.2's source, nor in a 3.3-or-3.4 one (3.3's `zone_dirty_ok()` and
        /// `dirty_balance_reserve`, the `prop_descriptor` proportions 3.5 replaced), and is in
        /// 3.7's; the commit is not identified here, so the first profile carrying it is 3.9.
        /// 4.2's `wb_domain_init()` zeroed it again until "writeback: fix initial dirty limit"
        /// (Rabin Vincent, 2015), before the next profile.
        True => "true", "3.9",
            "writeback_set_ratelimit(): global_dirty_limit = dirty_thresh (between 3.3 and 3.7)";
    }

    /// ext4's `dioread_nolock` when the mount does not say (research 14 §6): delalloc writeback
    /// allocates unwritten extents and pages stay PG_writeback until the extent's conversion.
    ext4_dioread_nolock_default: bool =
        "ext4 mounts default to dioread_nolock (pages under writeback until extent conversion)" {
        False => "false", "2.6.32", "";
        True => "true", "5.6",
            "244adf6426ee ext4: make dioread_nolock the default; c8980e1980cc ext4: disable dioread_nolock whenever delayed allocation is disabled";
    }

    /// The I/O scheduler in front of every disk (block/cfq-iosched.c; docs/MODEL.md 22).
    io_scheduler: IoScheduler = "the disks' I/O scheduler" {
        /// CFQ, the legacy block layer's default from 2.6.18 (`CONFIG_DEFAULT_IOSCHED`):
        /// per-task sync queues preempting the shared async queue, time slices and the
        /// idle window (`block/cfq.rs`).
        Cfq => "cfq", "2.6.32", "";
        /// mq-deadline (block/mq-deadline.c), blk-mq's default for a single-queue disk: reads
        /// preferred in batches of 16 in sector order, writes passed over at most twice, FIFO
        /// deadlines of HZ/2 (reads) and 5·HZ (writes); `block/deadline.rs`. 5.0 removed CFQ.
        MqDeadline => "mq-deadline", "5.6",
            "f382fb0bcef4 block: remove legacy IO schedulers (5.0); mq-deadline: blk-mq's default for single-queue devices";
    }

    /// Who sets a disk's congestion bits (`bdi_write_congested()`, the wake-up of
    /// `congestion_wait()`; docs/MODEL.md 23).
    block_congestion: BlockCongestion = "who sets the disks' congestion bits" {
        /// The legacy request lists: `get_request()` sets a list congested from 113 of 128
        /// requests, `__freed_request()` clears it and wakes the `congestion_wait()` sleepers.
        RequestLists => "request-lists", "2.6.32", "";
        /// Nothing: blk-mq (the only path from 5.0) tracks no congestion, so no disk is ever
        /// write-congested and `congestion_wait()` sleeps its whole timeout.
        Never => "never", "5.6",
            "f382fb0bcef4 block: remove legacy IO schedulers (5.0): blk-mq sets no congestion (Mel Gorman, 5.16 series: congestion_wait and wait_iff_congested \"are fundamentally broken when congestion is not tracked by the block layer\")";
    }
}

impl WritebackThrottle {
    /// Whether the 3.11 reclaim flags and `shrink_page_list()`'s dirty/writeback counts apply.
    pub fn flags(self) -> bool {
        matches!(
            self,
            WritebackThrottle::ZoneFlags
                | WritebackThrottle::KswapdFlags
                | WritebackThrottle::CongestedReclaimOnly
        )
    }
}

impl Default for Switches {
    fn default() -> Self {
        Switches::BASE
    }
}

/// One switch: its TOML key, accepted values, and where each comes from.
#[derive(Clone, Copy, Debug)]
pub struct SwitchInfo {
    /// Key in `[kernel]`.
    pub key: &'static str,
    /// Accepted values, the 2.6.32.0 value first (`true`/`false` for booleans).
    pub values: &'static [&'static str],
    /// The release (profile name) that took each value (same order as `values`).
    pub since: &'static [&'static str],
    /// The commit or patch each value mirrors (same order as `values`; empty for the first).
    pub cites: &'static [&'static str],
    /// One line: what it changes.
    pub what: &'static str,
    /// The index in `values` of a setting.
    pub get: fn(&Switches) -> usize,
    /// Sets the value of index `i` of `values`.
    pub set: fn(&mut Switches, usize),
}

impl SwitchInfo {
    /// The switch of `[kernel]` key `key`.
    pub fn of(key: &str) -> Option<&'static SwitchInfo> {
        SWITCHES.iter().find(|s| s.key == key)
    }

    /// Whether its values are `true`/`false` (TOML booleans).
    pub fn is_bool(&self) -> bool {
        matches!(self.values, ["false", "true"] | ["true", "false"])
    }

    /// `value (since: cite)`, or `value (since)` for a first value.
    pub fn describe(&self, value: &str) -> String {
        let i = self.values.iter().position(|v| *v == value);
        let since = i.map_or("?", |i| self.since[i]);
        let cite = i.map_or("", |i| self.cites[i]);
        if cite.is_empty() {
            format!("{value} ({since})")
        } else {
            format!("{value} ({since}: {cite})")
        }
    }
}

/// A release: its name and the switch settings it adds to the release before it.
#[derive(Clone, Copy, Debug)]
pub struct Profile {
    /// Name as written in `scenario.release`.
    pub name: &'static str,
    /// `(key, value)` settings this release adds.
    pub changes: &'static [(&'static str, &'static str)],
}

/// The modelled 2.6.3x releases, oldest first; each includes every earlier one.
pub const V2_6_3X: &[Profile] = &[
    Profile {
        name: "2.6.32.0",
        changes: &[],
    },
    Profile {
        name: "2.6.32",
        changes: &[("shrink_list_active_budget", "unused")],
    },
    Profile {
        name: "2.6.33",
        changes: &[
            ("shrink_zone_bailout", "nr-to-reclaim"),
            ("kswapd_sleep", "short-nap"),
            ("kswapd_congestion_wait", "skip-under-min"),
            ("oom_mempolicy", "kill-current"),
        ],
    },
    Profile {
        name: "2.6.34",
        changes: &[
            ("kswapd_balanced_check", "after-shrink"),
            ("page_references", "page-check-references"),
        ],
    },
    Profile {
        name: "2.6.35",
        changes: &[
            ("scan_ratio", "exact"),
            ("direct_reclaim_progress", "shrunk-a-zone"),
            ("compaction", "true"),
            ("xfs_reclaim_writepage", "refuse-memalloc"),
        ],
    },
    Profile {
        name: "2.6.36",
        changes: &[
            ("direct_reclaim_progress", "zone-reclaimable"),
            ("drain_pcp_after_reclaim", "true"),
            ("xfs_reclaim_writepage", "refuse-direct"),
            ("xfs_write_begin_nofs", "true"),
            ("dirty_exceeded", "bdi-or-global-limit"),
            ("oom_badness", "rss-per-mille"),
            ("oom_cpuset_tasks", "ineligible"),
            ("oom_child_victim", "highest-badness"),
            ("oom_killed_current", "takes-reserves"),
            ("oom_mempolicy", "select-intersecting"),
        ],
    },
];

/// The later releases, oldest first; each includes every earlier one and all of 2.6.36.
pub const LATER: &[Profile] = &[
    Profile {
        name: "2.6.37",
        changes: &[("congestion_sleep", "iff-congested")],
    },
    Profile {
        name: "2.6.39",
        changes: &[
            ("pg_reclaim_survives_flusher_write", "true"),
            ("kswapd_zone_skip", "high-plus-balance-gap"),
        ],
    },
    Profile {
        name: "3.2",
        changes: &[
            ("swap_token", "aging"),
            ("reclaim_fs_writepage", "kswapd-priority"),
            ("reclaim_writeback_throttle", "priority-scaled"),
            ("dirty_throttle", "io-less"),
        ],
    },
    Profile {
        name: "3.3",
        changes: &[
            ("per_zone_dirty_limits", "zone"),
            ("dirtyable_minus_reserves", "true"),
        ],
    },
    Profile {
        name: "3.4",
        changes: &[("throttle_vm_writeout", "hard-limit")],
    },
    Profile {
        name: "3.9",
        changes: &[
            ("swap_token", "removed"),
            ("ext4_write_begin_nofs", "false"),
            ("dirty_limit_boot_init", "true"),
        ],
    },
    Profile {
        name: "3.11",
        changes: &[
            ("reclaim_fs_writepage", "kswapd-dirty-zone"),
            ("reclaim_writeback_throttle", "zone-flags"),
        ],
    },
    Profile {
        name: "3.12",
        changes: &[("fair_zone_alloc", "fast-path")],
    },
    Profile {
        name: "3.14",
        changes: &[("dirtyable_excludes_anon", "true")],
    },
    Profile {
        name: "4.7",
        changes: &[
            ("fair_zone_alloc", "zone"),
            ("alloc_retry", "reclaim-retry-backoff"),
            ("direct_reclaim_progress", "nr-reclaimed"),
            ("watermark_gap", "scale-factor"),
        ],
    },
    Profile {
        name: "4.8",
        changes: &[
            ("per_zone_dirty_limits", "node"),
            ("kswapd_balance", "node-any-zone"),
            ("fair_zone_alloc", "removed"),
            ("lru_lists", "node"),
        ],
    },
    Profile {
        name: "4.9",
        changes: &[("throttle_vm_writeout", "removed")],
    },
    Profile {
        name: "4.11",
        changes: &[
            ("reclaim_fs_writepage", "kswapd-seen-twice"),
            ("dirty_page_disposition", "activate"),
            ("flusher_wakeup", "lru-tail-dirty"),
        ],
    },
    Profile {
        name: "4.12",
        changes: &[
            ("alloc_retry", "reclaim-retry"),
            ("kswapd_failures", "true"),
            ("kswapd_balance", "pgdat-balanced"),
        ],
    },
    Profile {
        name: "4.17",
        changes: &[("reclaim_writeback_throttle", "kswapd-flags")],
    },
    Profile {
        name: "5.6",
        changes: &[
            ("ext4_dioread_nolock_default", "true"),
            ("io_scheduler", "mq-deadline"),
            ("block_congestion", "never"),
        ],
    },
    Profile {
        name: "5.16",
        changes: &[
            ("congestion_sleep", "reclaim-throttle"),
            ("alloc_retry", "reclaim-retry-nosleep"),
        ],
    },
    Profile {
        name: "5.18",
        changes: &[("reclaim_writeback_throttle", "congested-reclaim-only")],
    },
    Profile {
        name: "6.1",
        changes: &[],
    },
    Profile {
        name: "mainline",
        changes: &[("reclaim_fs_writepage", "never")],
    },
];

/// Every profile, oldest first.
pub fn profiles() -> impl Iterator<Item = &'static Profile> {
    V2_6_3X.iter().chain(LATER)
}

/// The kernel a run follows: the profile, its switches, and the `[kernel]` settings on top.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Kernel {
    /// Profile name as given (`2.6.32`, `3.2`, `mainline`, …).
    pub profile: String,
    /// The release whose output formats apply (`/proc/vmstat` aside: the OOM report's lines):
    /// the profile's own for 2.6.32–2.6.36, 2.6.36 for every later profile. Rules never read it.
    #[serde(skip)]
    pub base: Release,
    /// The rules.
    pub switches: Switches,
    /// `[kernel]` settings that differ from the profile's own, `key=value`, in switch order.
    pub overrides: Vec<String>,
}

impl Kernel {
    /// A kernel by profile name.
    pub fn profile(name: &str) -> Option<Kernel> {
        let all: Vec<&Profile> = profiles().collect();
        let upto = all.iter().position(|p| p.name == name)?;
        let mut switches = Switches::BASE;
        for p in &all[..=upto] {
            for (k, v) in p.changes {
                set_switch(&mut switches, k, v).expect("profile table names a known switch");
            }
        }
        Some(Kernel {
            profile: name.to_string(),
            base: Release::from_name(name).unwrap_or(Release::V2_6_36),
            switches,
            overrides: Vec::new(),
        })
    }

    /// Every profile name, oldest first.
    pub fn profile_names() -> Vec<&'static str> {
        profiles().map(|p| p.name).collect()
    }

    /// Applies one `[kernel]` setting, recording it when it differs from the profile.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        let before = self.switches;
        set_switch(&mut self.switches, key, value)?;
        if self.switches != before {
            self.overrides.push(format!("{key}={value}"));
        }
        Ok(())
    }

    /// The name shown in reports: the profile, plus its overrides.
    pub fn display_name(&self) -> String {
        if self.overrides.is_empty() {
            self.profile.clone()
        } else {
            format!("{}+{}", self.profile, self.overrides.join(","))
        }
    }
}

/// The current value of switch `key` as written in TOML.
pub fn switch_value(switches: &Switches, key: &str) -> Option<&'static str> {
    let info = SwitchInfo::of(key)?;
    Some(info.values[(info.get)(switches)])
}

/// Sets switch `key` to `value` (as written in TOML). The error says what is accepted.
pub fn set_switch(switches: &mut Switches, key: &str, value: &str) -> Result<(), String> {
    let info = SwitchInfo::of(key).ok_or_else(|| format!("unknown kernel switch `{key}`"))?;
    let idx = info
        .values
        .iter()
        .position(|v| *v == value)
        .ok_or_else(|| {
            format!(
                "`{value}` is not a value of kernel.{key}; expected one of {}",
                info.values
                    .iter()
                    .map(|v| format!("`{v}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?;
    (info.set)(switches, idx);
    Ok(())
}

/// The switch settings that differ between two kernels, `(key, from, to)`, in switch order.
pub fn diff(a: &Switches, b: &Switches) -> Vec<(&'static str, &'static str, &'static str)> {
    SWITCHES
        .iter()
        .filter_map(|s| {
            let (x, y) = (s.values[(s.get)(a)], s.values[(s.get)(b)]);
            (x != y).then_some((s.key, x, y))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_switch_value_round_trips_through_its_toml_name() {
        for s in SWITCHES {
            assert_eq!(s.values.len(), s.since.len(), "{}", s.key);
            assert_eq!(s.values.len(), s.cites.len(), "{}", s.key);
            for v in s.values {
                let mut switches = Switches::BASE;
                set_switch(&mut switches, s.key, v).unwrap();
                assert_eq!(switch_value(&switches, s.key), Some(*v), "{}", s.key);
            }
            assert_eq!(switch_value(&Switches::BASE, s.key), Some(s.values[0]));
        }
    }

    #[test]
    fn each_value_is_cited_and_taken_by_the_profile_its_since_names() {
        for s in SWITCHES {
            assert!(
                s.cites[0].is_empty(),
                "{}: the first value is the base",
                s.key
            );
            for (i, v) in s.values.iter().enumerate().skip(1) {
                assert!(!s.cites[i].is_empty(), "{}={v} cites nothing", s.key);
                let p = profiles()
                    .find(|p| p.changes.contains(&(s.key, v)))
                    .unwrap_or_else(|| panic!("no profile sets {}={v}", s.key));
                assert_eq!(p.name, s.since[i], "{}={v}", s.key);
            }
        }
    }

    #[test]
    fn each_later_release_contains_the_earlier_ones() {
        let k32 = Kernel::profile("3.2").unwrap();
        assert_eq!(k32.base, Release::V2_6_36);
        assert_eq!(k32.switches.congestion_sleep, CongestionSleep::IffCongested);
        assert!(k32.switches.pg_reclaim_survives_flusher_write);
        assert_eq!(k32.switches.dirty_throttle, DirtyThrottle::IoLess);
        assert_eq!(k32.switches.per_zone_dirty_limits, ZoneDirtyLimits::Off);
        assert_eq!(k32.switches.oom_badness, OomBadness::RssPerMille);
        let main = Kernel::profile("mainline").unwrap();
        assert_eq!(main.switches.reclaim_fs_writepage, ReclaimFsWrite::Never);
        assert_eq!(
            main.switches.congestion_sleep,
            CongestionSleep::ReclaimThrottle
        );
        assert!(!main.switches.ext4_write_begin_nofs);
        let k33 = Kernel::profile("2.6.33").unwrap();
        assert_eq!(k33.base, Release::V2_6_33);
        assert_eq!(k33.switches.kswapd_sleep, KswapdSleep::ShortNap);
        assert_eq!(k33.switches.scan_ratio, ScanRatio::Percent);
        assert_eq!(
            Kernel::profile("2.6.32.0").unwrap().switches,
            Switches::BASE
        );
    }

    #[test]
    fn every_release_in_the_table_changes_something_it_names() {
        let names = Kernel::profile_names();
        assert_eq!(names.len(), V2_6_3X.len() + LATER.len());
        for w in names.windows(2) {
            let a = Kernel::profile(w[0]).unwrap().switches;
            let b = Kernel::profile(w[1]).unwrap().switches;
            let named = profiles().find(|p| p.name == w[1]).unwrap();
            if named.changes.is_empty() {
                // A long-term release named for what users run (6.1): the one before it, whole.
                assert_eq!(a, b, "{}", w[1]);
                continue;
            }
            assert!(!diff(&a, &b).is_empty(), "{} → {}", w[0], w[1]);
        }
        for r in Release::ALL {
            assert!(names.contains(&r.name()), "{}", r.name());
        }
    }

    #[test]
    fn a_bad_value_names_what_is_accepted() {
        let mut switches = Switches::BASE;
        let e = set_switch(&mut switches, "dirty_throttle", "fast").unwrap_err();
        assert!(e.contains("`writer-writes-back`, `io-less`"), "{e}");
        assert!(set_switch(&mut switches, "nope", "x").is_err());
    }
}
