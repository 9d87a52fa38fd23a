//! `/proc/vmstat` as each kernel prints it (`mm/vmstat.c` `vmstat_text[]`, reclaim-oom §13):
//! zone items in `enum zone_stat_item` order, then events with per-zone suffixes; the counters a
//! switch brought are printed when it is on (`kswapd_sleep`, `kswapd_congestion_wait`,
//! `compaction`), so each release's names follow from its profile. Counters the
//! model does not produce (slab, page tables, NUMA hits, compaction…) are printed as 0 so the
//! file reads like the kernel's; docs/MODEL.md lists them.
//!
//! Every page counter is in base (4 KiB) pages whatever the simulated page: a simulated page
//! counts as the `G` kernel pages it stands for (`pgscan` at 64 KiB counts 16 per page examined).
//! `pgpgin`/`pgpgout` are KiB already; the counters of events that are not pages
//! (`pageoutrun`, `allocstall`, `kswapd_*_hit_quickly`, `kswapd_skip_congestion_wait`) are not
//! scaled.

use super::zone::ZoneType;
use super::Machine;
use crate::kernel::{KswapdCongestionWait, KswapdSleep};

/// The machine's counters: the kernel's event counters and the run's own.
#[derive(Debug, Default, Clone)]
pub struct Stats {
    /// Machine-wide events (`vm_event_item`s that are not per zone).
    pub vm_events: VmEvents,
    /// What the report explains outcomes with.
    pub counters: RunCounters,
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
    /// pswpin (`swap_readpage()`).
    pub pswpin: u64,
    /// pgmajfault (`do_swap_page()` that read the page).
    pub pgmajfault: u64,
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
    /// [4.7+] The longest run of consecutive passes that freed nothing (`no_progress_loops`).
    pub no_progress_loops_max: u64,
    /// [4.7+] `!__GFP_FS` allocations that reached `out_of_memory()`, which killed nothing.
    pub oom_nofs_no_kill: u64,
    /// Direct-reclaim passes of the flusher threads (their share of `allocstall`): the
    /// flusher's own `GFP_NOFS` allocations (`mm/ext4_mballoc.rs`) below the low watermark.
    pub flusher_allocstall: u64,
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

const ZONES: [(ZoneType, &str); 4] = [
    (ZoneType::Dma, "dma"),
    (ZoneType::Dma32, "dma32"),
    (ZoneType::Normal, "normal"),
    (ZoneType::Normal, "movable"),
];

impl Machine {
    fn per_zone(
        &self,
        out: &mut Vec<(String, u64)>,
        name: &str,
        f: impl Fn(&super::zone::Zone) -> u64,
    ) {
        for (k, (t, sfx)) in ZONES.iter().enumerate() {
            let v = if k == 3 {
                0 // no ZONE_MOVABLE is configured
            } else {
                let sim: u64 = self
                    .mem
                    .zones
                    .iter()
                    .filter(|z| z.ztype == *t)
                    .map(&f)
                    .sum();
                self.granularity.base(sim)
            };
            out.push((format!("{name}_{sfx}"), v));
        }
    }

    /// The final `/proc/vmstat`.
    pub fn vmstat(&self) -> Vec<(String, u64)> {
        let mut v = self.vmstat_zone_items();
        self.vmstat_events(&mut v);
        v
    }

    /// The `enum zone_stat_item` part, summed over the zones, in base pages.
    fn vmstat_zone_items(&self) -> Vec<(String, u64)> {
        use super::page::LruList as L;
        let granularity = self.granularity;
        let g = |f: &dyn Fn(&super::zone::Zone) -> u64| {
            granularity.base(self.mem.zones.iter().map(f).sum::<u64>())
        };
        let items: [(&str, u64); 23] = [
            ("nr_free_pages", g(&|z| z.nr_free())),
            ("nr_inactive_anon", g(&|z| z.nr_lru(L::InactiveAnon))),
            ("nr_active_anon", g(&|z| z.nr_lru(L::ActiveAnon))),
            ("nr_inactive_file", g(&|z| z.nr_lru(L::InactiveFile))),
            ("nr_active_file", g(&|z| z.nr_lru(L::ActiveFile))),
            ("nr_unevictable", g(&|z| z.nr_lru(L::Unevictable))),
            ("nr_mlock", g(&|z| z.stat.nr_mlock)),
            ("nr_anon_pages", g(&|z| z.stat.nr_anon_pages)),
            ("nr_mapped", g(&|z| z.stat.nr_mapped)),
            ("nr_file_pages", g(&|z| z.stat.nr_file_pages)),
            ("nr_dirty", g(&|z| z.stat.nr_dirty)),
            ("nr_writeback", g(&|z| z.stat.nr_writeback)),
            ("nr_slab_reclaimable", g(&|z| z.stat.nr_slab_reclaimable)),
            (
                "nr_slab_unreclaimable",
                g(&|z| z.stat.nr_kernel - z.stat.nr_slab_reclaimable),
            ),
            ("nr_page_table_pages", 0),
            ("nr_kernel_stack", 0),
            ("nr_unstable", 0),
            ("nr_bounce", 0),
            ("nr_vmscan_write", g(&|z| z.stat.nr_vmscan_write)),
            ("nr_writeback_temp", 0),
            ("nr_isolated_anon", g(&|z| z.stat.nr_isolated_anon)),
            ("nr_isolated_file", g(&|z| z.stat.nr_isolated_file)),
            ("nr_shmem", g(&|z| z.stat.nr_shmem)),
        ];
        items.iter().map(|&(n, x)| (n.to_string(), x)).collect()
    }

    /// The `enum vm_event_item` part, with the counters of the switches in force.
    fn vmstat_events(&self, v: &mut Vec<(String, u64)>) {
        let b = |x: u64| self.granularity.base(x);
        let e = &self.stats.vm_events;
        let push = |v: &mut Vec<(String, u64)>, items: &[(&str, u64)]| {
            v.extend(items.iter().map(|&(n, x)| (n.to_string(), x)));
        };
        push(
            v,
            &[
                ("pgpgin", e.pgpgin),
                ("pgpgout", e.pgpgout),
                ("pswpin", b(e.pswpin)),
            ],
        );
        push(v, &[("pswpout", b(e.pswpout))]);
        self.per_zone(v, "pgalloc", |z| z.stat.pgalloc);
        if self.switches.lru_lists == crate::kernel::LruLists::Node {
            // 4.8 vm_event_item: FOR_ALL_ZONES(PGSCAN_SKIP) after PGALLOC, "pgskip".
            self.per_zone(v, "pgskip", |z| z.stat.pgskip);
        }
        push(
            v,
            &[
                ("pgfree", b(e.pgfree)),
                ("pgactivate", b(e.pgactivate)),
                ("pgdeactivate", b(e.pgdeactivate)),
                ("pgfault", b(e.pgfault)),
                ("pgmajfault", e.pgmajfault),
            ],
        );
        self.per_zone(v, "pgrefill", |z| z.stat.pgrefill);
        self.per_zone(v, "pgsteal", |z| z.stat.pgsteal);
        self.per_zone(v, "pgscan_kswapd", |z| z.stat.pgscan_kswapd);
        self.per_zone(v, "pgscan_direct", |z| z.stat.pgscan_direct);
        push(
            v,
            &[
                ("zone_reclaim_failed", 0),
                ("pginodesteal", 0),
                ("slabs_scanned", self.slab.slabs_scanned),
                ("kswapd_steal", b(e.kswapd_steal)),
                ("kswapd_inodesteal", 0),
            ],
        );
        self.vmstat_kswapd_switch_events(v);
        push(
            v,
            &[
                ("pageoutrun", e.pageoutrun),
                ("allocstall", e.allocstall),
                ("pgrotated", b(e.pgrotated)),
            ],
        );
        if self.switches.compaction {
            push(v, &COMPACTION.map(|n| (n, 0)));
        }
        push(
            v,
            &[
                ("unevictable_pgs_culled", b(e.unevictable_pgs_culled)),
                ("unevictable_pgs_scanned", 0),
                ("unevictable_pgs_rescued", 0),
                ("unevictable_pgs_mlocked", b(e.unevictable_pgs_mlocked)),
                ("unevictable_pgs_munlocked", b(e.unevictable_pgs_munlocked)),
                ("unevictable_pgs_cleared", 0),
                ("unevictable_pgs_stranded", 0),
                (
                    "unevictable_pgs_mlockfreed",
                    b(e.unevictable_pgs_mlockfreed),
                ),
            ],
        );
    }

    /// The kswapd counters that exist only under the switches that brought them (2.6.33's nap,
    /// 2.6.36's congestion-wait skip).
    fn vmstat_kswapd_switch_events(&self, v: &mut Vec<(String, u64)>) {
        let e = &self.stats.vm_events;
        let push = |v: &mut Vec<(String, u64)>, items: &[(&str, u64)]| {
            v.extend(items.iter().map(|&(n, x)| (n.to_string(), x)));
        };
        if self.switches.kswapd_sleep == KswapdSleep::ShortNap {
            push(
                v,
                &[
                    (
                        "kswapd_low_wmark_hit_quickly",
                        e.kswapd_low_wmark_hit_quickly,
                    ),
                    (
                        "kswapd_high_wmark_hit_quickly",
                        e.kswapd_high_wmark_hit_quickly,
                    ),
                ],
            );
        }
        if self.switches.kswapd_congestion_wait == KswapdCongestionWait::SkipUnderMin {
            push(
                v,
                &[("kswapd_skip_congestion_wait", e.kswapd_skip_congestion_wait)],
            );
        }
    }
}

/// The counters `CONFIG_COMPACTION` adds (switch `compaction`; every allocation is order 0,
/// so they stay 0).
const COMPACTION: [&str; 6] = [
    "compact_blocks_moved",
    "compact_pages_moved",
    "compact_pagemigrate_failed",
    "compact_stall",
    "compact_fail",
    "compact_success",
];
