//! Page reclaim: `mm/vmscan.c` of 2.6.32–2.6.36 (reclaim-oom §3–§8).
//!
//! `shrink_zone`, `shrink_list`, `shrink_active_list`, `shrink_inactive_list`,
//! `shrink_page_list` and `pageout` run atomically inside one event, exactly in the kernel's
//! order. `do_try_to_free_pages` (direct reclaim) and `balance_pgdat`/`kswapd` sleep between
//! priorities (`congestion_wait`) and in `throttle_vm_writeout`, so they are state machines that
//! resume after each sleep. Every difference between kernels is a switch of `Machine::switches`
//! (`crate::kernel`).
//!
//! From 4.8 (`kswapd_balance` ≠ `zones`) kswapd works in terms of nodes: `vmscan/node.rs`.
//!
//! Slab shrinkers have nothing to shrink (`shrink_slab` frees 0), all allocations are order 0 so
//! lumpy reclaim never runs, and there is no memcg.

use super::granularity::KernelPages;
use super::page::{pg, LruList, PageId, Place};
use super::slab::CacheId;
use super::thrash::TokenHolder;
use super::zone::{zone_watermark_ok, Wmark};
use super::{cost, gfp, Actor, Machine};
use crate::fs::{self, WritepageCaller};
use crate::kernel::{
    CongestionSleep, DirectReclaimProgress, DirtyDisposition, FlusherWakeup, KswapdBalance,
    KswapdBalancedCheck, KswapdCongestionWait, KswapdSleep, KswapdZoneSkip, PageReferences,
    ReclaimFsWrite, ScanRatio, ShrinkListActiveBudget, ShrinkZoneBailout, ThrottleVmWriteout,
    WritebackThrottle,
};
use crate::sim::{SimTime, MSEC};

mod lruvec;
mod node;

/// `DEF_PRIORITY`.
pub const DEF_PRIORITY: i32 = 12;
/// `MAX_NR_ZONES - 1`: every zone eligible (`gfp_zone()` of the masks modelled).
pub const MAX_RECLAIM_IDX: usize = 2;
/// `SWAP_CLUSTER_MAX`, in 4 KiB pages (`Machine::swap_cluster_max` converts it).
pub const SWAP_CLUSTER_MAX: KernelPages = KernelPages(32);

/// `struct scan_control`.
#[derive(Clone, Debug)]
pub struct ScanControl {
    /// The reclaimer's gfp mask.
    pub gfp: u32,
    /// `may_writepage`.
    pub may_writepage: bool,
    /// `nr_to_reclaim` (ULONG_MAX for kswapd).
    pub nr_to_reclaim: u64,
    /// Pages examined by `shrink_page_list` at this priority.
    pub nr_scanned: u64,
    /// Pages freed in this pass.
    pub nr_reclaimed: u64,
    /// Who reclaims.
    pub actor: Actor,
    /// The CPU it runs on (where freed pages go).
    pub cpu: usize,
    /// `sc->all_unreclaimable` [32–34]: every zone was skipped.
    pub all_unreclaimable: bool,
    /// What the current `shrink_page_list` batch met (reset per batch).
    pub stat: BatchStat,
    /// A sleep `shrink_inactive_list` asked for [later kernels]: `shrink_zone` stops and the
    /// caller sleeps, then resumes the zone where it stopped.
    pub throttle: Option<Throttle>,
    /// The scan targets left in the zone `shrink_zone` stopped in, `(zone, nr[])`.
    pub resume: Option<(usize, [u64; 4])>,
    /// `nr_immediate` summed over every batch ([5.16+] `sc->nr.immediate`, which
    /// `shrink_node()` reads once at its end).
    pub nr_immediate: u64,
    /// [4.17+] `sc->nr`: the counts of every batch of the current `shrink_node()`, which
    /// kswapd turns into the node's flags at its end (`node.rs`).
    pub nr: NodeStat,
    /// [4.8+] `sc->reclaim_idx`, a zone type: with node LRU lists, pages of higher zones are
    /// skipped (`lruvec.rs`). Direct reclaim's `gfp_zone()` is the top zone for every mask
    /// modelled; kswapd's is the waker's classzone.
    pub reclaim_idx: usize,
    /// The swap token's holder whose pages this batch's `page_referenced()` counts as
    /// referenced (`mm/thrash.rs`), set at the top of each batch.
    pub token: Option<TokenHolder>,
}

impl NodeStat {
    /// Adds one batch of `nr_taken` pages (of a file list when `file`).
    fn add(&mut self, st: &BatchStat, nr_taken: u64, file: bool) {
        self.dirty += st.dirty;
        self.unqueued_dirty += st.unqueued_dirty;
        self.congested += st.congested;
        self.writeback += st.writeback;
        self.taken += nr_taken;
        if file {
            self.file_taken += nr_taken;
        }
    }
}

/// [4.17+] `sc->nr` of one `shrink_node()`: the sums of its batches' counts.
#[derive(Clone, Copy, Debug, Default)]
pub struct NodeStat {
    /// `nr.dirty`.
    pub dirty: u64,
    /// `nr.unqueued_dirty`.
    pub unqueued_dirty: u64,
    /// `nr.congested`.
    pub congested: u64,
    /// `nr.writeback`.
    pub writeback: u64,
    /// `nr.taken`.
    pub taken: u64,
    /// `nr.file_taken`.
    pub file_taken: u64,
}

/// Counts of one `shrink_page_list` batch (`nr_dirty`, `nr_unqueued_dirty`, `nr_congested`,
/// `nr_writeback`, `nr_immediate` of 2.6.37–3.11).
#[derive(Clone, Copy, Debug, Default)]
pub struct BatchStat {
    /// 3.11 `nr_dirty`: dirty or under writeback.
    pub dirty: u64,
    /// 3.11 `nr_unqueued_dirty`: dirty and not under writeback.
    pub unqueued_dirty: u64,
    /// 3.11 `nr_congested`: dirty/writeback on a congested queue, or PG_reclaim under writeback.
    pub congested: u64,
    /// `nr_writeback`: met under writeback.
    pub writeback: u64,
    /// `nr_immediate`: kswapd met a PG_reclaim page under writeback in a ZONE_WRITEBACK zone.
    pub immediate: u64,
    /// 2.6.37–3.10 `nr_dirty`: dirty pages that reached the PageDirty branch.
    pub dirty_branch: u64,
    /// 2.6.37–3.10 `nr_congested`: of those, `pageout()` returned PAGE_KEEP (queue congested).
    pub dirty_kept: u64,
}

/// Why reclaim sleeps inside a zone (writeback-fs §D.5, §D.9, §D.10).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Throttle {
    /// [3.2–3.10] too many isolated pages under writeback for the priority:
    /// `wait_iff_congested(zone, BLK_RW_ASYNC, HZ/10)`.
    Writeback,
    /// [3.11+] kswapd met PG_reclaim pages still under writeback: `congestion_wait(HZ/10)`,
    /// [5.16+] `reclaim_throttle(VMSCAN_THROTTLE_WRITEBACK)`.
    Immediate,
    /// [3.11+] direct reclaim in a congested zone: `wait_iff_congested(zone, HZ/10)`,
    /// [5.16+] `reclaim_throttle(VMSCAN_THROTTLE_CONGESTED)`.
    Congested,
    /// [all] `pageout()`'s bio found no free request: `get_request_wait()` until one is freed.
    RequestWait,
}

impl ScanControl {
    /// kswapd's `struct scan_control` in `balance_pgdat()` (2.6.32 and 4.8+ alike): GFP_KERNEL,
    /// may write, nothing reclaimed yet; `nr_to_reclaim` is the caller's (it changed by release).
    pub(crate) fn kswapd(node: usize, cpu: usize, nr_to_reclaim: u64) -> Self {
        ScanControl {
            gfp: gfp::GFP_KERNEL,
            may_writepage: true,
            nr_to_reclaim,
            nr_scanned: 0,
            nr_reclaimed: 0,
            actor: Actor::Kswapd(node),
            cpu,
            all_unreclaimable: false,
            stat: BatchStat::default(),
            throttle: None,
            resume: None,
            nr_immediate: 0,
            nr: NodeStat::default(),
            reclaim_idx: MAX_RECLAIM_IDX,
            token: None,
        }
    }

    fn is_kswapd(&self) -> bool {
        matches!(self.actor, Actor::Kswapd(_))
    }
}

/// What `pageout()` returned (`pageout_t`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageoutOutcome {
    /// `PAGE_KEEP`.
    Keep,
    /// `PAGE_ACTIVATE`.
    Activate,
    /// `PAGE_SUCCESS`.
    Success,
    /// `PAGE_CLEAN`.
    Clean,
}

/// A page's fate in `shrink_page_list` (the labels it jumps to).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PageFate {
    /// `free_it`: freed.
    Free,
    /// `keep` / `keep_locked`: back to the inactive list's head.
    Keep,
    /// `activate_locked`: to the active list.
    Activate,
    /// `cull_mlocked`: to the unevictable list.
    Cull,
}

/// `page_check_references()` [≥34].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PageRef {
    Activate,
    Keep,
    Reclaim,
    ReclaimClean,
}

/// Where `do_try_to_free_pages` resumes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DirectReclaimPhase {
    /// The top of a priority.
    PriorityStart,
    /// In `shrink_zones()`.
    Zones,
    /// After a reclaim throttle inside a zone.
    ZoneThrottled,
    /// After `throttle_vm_writeout()`'s sleep.
    Throttled,
    /// The end of a priority (flusher wake-up, the nap).
    PriorityEnd,
    /// After the nap: the next priority.
    NextPriority,
}

/// A direct-reclaim pass in progress (`do_try_to_free_pages`).
#[derive(Clone, Debug)]
pub struct DirectReclaim {
    sc: ScanControl,
    prio: i32,
    total_scanned: u64,
    zone_pos: usize,
    /// [4.8+] the lruvec `shrink_zones()` shrank last (6.1's `last_pgdat`): a node once.
    last_lruvec: Option<usize>,
    shrunk_any: bool,
    phase: DirectReclaimPhase,
    /// `lru_pages` for `shrink_slab` (computed once, before the priority loop, 2.6.32–2.6.35).
    lru_pages: u64,
}

/// Where `balance_pgdat` resumes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BalancePhase {
    /// The `loop_again:` label: a new pass from `DEF_PRIORITY`.
    LoopAgain,
    /// The top of a priority: find `end_zone`.
    PriorityStart,
    /// Walking the zones up to `end_zone`.
    Zones,
    /// After a reclaim throttle inside a zone.
    ZoneThrottled,
    /// After `throttle_vm_writeout()`'s sleep.
    Throttled,
    /// The end of a priority.
    PriorityEnd,
    /// After the nap: the next priority.
    NextPriority,
}

/// A `balance_pgdat` run in progress.
#[derive(Clone, Debug)]
struct Balance {
    sc: ScanControl,
    prio: i32,
    total_scanned: u64,
    all_zones_ok: bool,
    under_min: bool,
    end_zone: usize,
    i: usize,
    phase: BalancePhase,
}

/// What kswapd is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KswapdState {
    /// In `schedule()` on `kswapd_wait`: woken by `wakeup_kswapd`.
    Sleeping,
    /// In the [≥33] `schedule_timeout(HZ/10)` nap, on `kswapd_wait`, until the given time.
    Napping(SimTime),
    /// Inside `balance_pgdat`.
    Running,
}

/// One node's kswapd.
#[derive(Clone, Debug)]
pub struct Kswapd {
    /// Event generation.
    pub gen: u32,
    /// State.
    pub state: KswapdState,
    bal: Option<Balance>,
    /// `reclaim_state.reclaimed_slab`.
    pub reclaimed_slab: u64,
    /// [4.8+] the node-form `balance_pgdat()` in progress (`node.rs`).
    node_bal: Option<node::NodeBalance>,
    /// [4.8+] `pgdat->kswapd_classzone_idx`: the highest classzone a waker asked for since
    /// kswapd last read it (`None`: `MAX_NR_ZONES`, keep the last one).
    pub classzone_pending: Option<usize>,
    /// [4.8+] the classzone of the current (or last) run.
    pub classzone: usize,
    /// [4.8+] the node-form `balance_pgdat()` that just ended found the node balanced before
    /// doing anything (`node::kswapd_spin_skip`).
    futile: bool,
}

impl Kswapd {
    /// A sleeping kswapd.
    pub fn new() -> Kswapd {
        Kswapd {
            gen: 0,
            state: KswapdState::Sleeping,
            bal: None,
            reclaimed_slab: 0,
            node_bal: None,
            classzone_pending: None,
            classzone: usize::MAX,
            futile: false,
        }
    }
}

impl Default for Kswapd {
    fn default() -> Self {
        Kswapd::new()
    }
}

impl Machine {
    /// `SWAP_CLUSTER_MAX` in simulated pages: reclaim's batch and goal of 128 KiB (a batch, at
    /// least one page).
    #[inline]
    pub fn swap_cluster_max(&self) -> u64 {
        self.granularity.batch(SWAP_CLUSTER_MAX)
    }

    /// `page_evictable()`: not SHM_LOCK'd, not mlocked.
    fn page_evictable(&self, id: PageId) -> bool {
        let p = &self.mem.pages[id as usize];
        if p.has(pg::MLOCKED) {
            return false;
        }
        if p.has(pg::SHMEM) && !p.has(pg::SWAPCACHE) {
            return !self.vfs.segments[p.owner as usize].locked;
        }
        true
    }

    /// `get_scan_ratio()` [32–34] / `get_scan_count()` [≥35] and `nr_scan_try_batch()`.
    /// [4.8+] `zid` is a node's lruvec: sizes are the node's (targets from the zones up to
    /// `reclaim_idx`, 4.10+'s `lruvec_lru_size(.., sc->reclaim_idx)`).
    fn get_scan_count(&mut self, zid: usize, prio: i32, reclaim_idx: usize) -> [u64; 4] {
        let noswap = self.mem.swap.free == 0;
        let swappiness = u64::from(self.spec.vm.swappiness);
        let g = self.granularity;
        let sz = self.mem.lruvec_sizes(zid, reclaim_idx);
        let z = &mut self.mem.zones[zid];
        let (frac, denom) = if noswap {
            ([0u64, 1], 1u64)
        } else {
            let t = |l: LruList| sz.total[l.idx()];
            let anon = t(LruList::ActiveAnon) + t(LruList::InactiveAnon);
            let file = t(LruList::ActiveFile) + t(LruList::InactiveFile);
            if file + sz.free <= sz.high {
                ([1, 0], 1)
            } else {
                if z.recent_scanned[0] > anon / 4 {
                    z.recent_scanned[0] /= 2;
                    z.recent_rotated[0] /= 2;
                }
                if z.recent_scanned[1] > file / 4 {
                    z.recent_scanned[1] /= 2;
                    z.recent_rotated[1] /= 2;
                }
                // The +1s are base pages: the ratio is taken of base-page counts.
                let (rs, rr) = (
                    z.recent_scanned.map(|x| g.base(x)),
                    z.recent_rotated.map(|x| g.base(x)),
                );
                let ap = (swappiness + 1) * (rs[0] + 1) / (rr[0] + 1);
                let fp = (200 - swappiness + 1) * (rs[1] + 1) / (rr[1] + 1);
                ([ap, fp], ap + fp + 1)
            }
        };
        // get_scan_ratio() rounds to a percentage first; get_scan_count() uses the exact fraction.
        let percent = if self.switches.scan_ratio == ScanRatio::Percent {
            let p0 = if denom == 1 {
                frac[0] * 100
            } else {
                100 * frac[0] / denom
            };
            Some([p0, 100 - p0])
        } else {
            None
        };
        let mut nr = [0u64; 4];
        for l in LruList::EVICTABLE {
            let file = usize::from(l.is_file());
            // The priority shift and the fractions apply to base pages (a small list still
            // accrues scan credit at priority 12); nr_saved_scan holds base pages.
            let mut scan = g.base(sz.eligible[l.idx()]);
            if prio != 0 || noswap {
                scan >>= prio;
                scan = match percent {
                    Some(p) => scan * p[file] / 100,
                    // In u128: kernel pages of a 2 TiB machine times a rotation ratio of
                    // kernel-page counts can pass 2^64 (the quotient is exact either way).
                    None => (u128::from(scan) * u128::from(frac[file]) / u128::from(denom)) as u64,
                };
            }
            // nr_scan_try_batch(): at SWAP_CLUSTER_MAX base pages (and at least one simulated
            // page) the saved credit becomes whole simulated pages; the remainder is kept.
            let saved = &mut z.nr_saved_scan[l.idx()];
            *saved += scan;
            nr[l.idx()] = if *saved >= SWAP_CLUSTER_MAX.0.max(g.factor()) {
                let n = g.floor(KernelPages(*saved));
                *saved -= g.base(n);
                n
            } else {
                0
            };
        }
        nr
    }

    /// `shrink_zone()` without its closing `throttle_vm_writeout` (the caller sleeps for it).
    /// When `shrink_inactive_list` asks for a sleep (`sc.throttle`), it returns early with the
    /// remaining targets in `sc.resume`; the next call for the same zone continues from there.
    /// [4.8+] with node lists it is `shrink_node()`: `zid` stands for its node's lruvec.
    pub fn shrink_zone(&mut self, prio: i32, zid: usize, sc: &mut ScanControl) {
        let zid = self.mem.zones[zid].lruvec as usize;
        let mut nr = match sc.resume.take() {
            Some((z, nr)) if z == zid => nr,
            _ => self.get_scan_count(zid, prio, sc.reclaim_idx),
        };
        let mut nr_reclaimed = sc.nr_reclaimed;
        let start = nr_reclaimed;
        let scm = self.swap_cluster_max();
        while nr[0] > 0 || nr[2] > 0 || nr[3] > 0 {
            for l in LruList::EVICTABLE {
                if nr[l.idx()] > 0 {
                    let n = nr[l.idx()].min(scm);
                    nr[l.idx()] -= n;
                    nr_reclaimed += self.shrink_list(l, n, zid, sc, prio);
                    if sc.throttle.is_some() {
                        sc.resume = Some((zid, nr));
                        sc.nr_reclaimed = nr_reclaimed;
                        self.revive_kswapd(zid, nr_reclaimed > start);
                        return;
                    }
                }
            }
            let bail = if self.switches.shrink_zone_bailout == ShrinkZoneBailout::SwapClusterMax {
                nr_reclaimed > sc.nr_to_reclaim && prio < DEF_PRIORITY && !sc.is_kswapd()
            } else {
                nr_reclaimed >= sc.nr_to_reclaim && prio < DEF_PRIORITY
            };
            if bail {
                break;
            }
        }
        sc.nr_reclaimed = nr_reclaimed;
        self.revive_kswapd(zid, nr_reclaimed > start);
        if self.lruvec_inactive_is_low(zid, false, sc.reclaim_idx) && self.mem.swap.free > 0 {
            self.shrink_active_list(scm, zid, sc, false);
        }
    }

    /// [4.12+] the end of `shrink_node()`: "A successful direct reclaim run will revive a
    /// dormant kswapd": any reclaimer that freed a page resets the node's `kswapd_failures`.
    #[inline]
    fn revive_kswapd(&mut self, zid: usize, reclaimed: bool) {
        if reclaimed && self.switches.kswapd_failures {
            let n = self.mem.zones[zid].node as usize;
            self.mem.nodes[n].kswapd_failures = 0;
        }
    }

    /// [4.12+] a hopeless node: `kswapd_failures >= MAX_RECLAIM_RETRIES`.
    pub fn pgdat_hopeless(&self, n: usize) -> bool {
        self.switches.kswapd_failures
            && self.mem.nodes[n].kswapd_failures >= super::page_alloc::MAX_RECLAIM_RETRIES
    }

    /// Whether the node's `pgdat_reclaimable()` exists [4.8–4.11]: it came with the node lists
    /// (599d0c954f91, 4.8) and went with `kswapd_failures` (c73322d098e4 drops its use in
    /// `shrink_zones()`, c822f6223d03 the counter; 4.12).
    #[inline]
    pub fn pgdat_reclaimable_applies(&self) -> bool {
        self.mem.node_lru && !self.switches.kswapd_failures
    }

    /// The reclaim flags zone `zid` reads: its own [≤4.7], its node's [4.8+].
    #[inline]
    pub fn reclaim_flags(&self, zid: usize) -> super::zone::ReclaimFlags {
        if self.switches.kswapd_balance == KswapdBalance::Zones {
            self.mem.zones[zid].flags
        } else {
            self.mem.nodes[self.mem.zones[zid].node as usize].flags
        }
    }

    /// The reclaim flags zone `zid` sets: its own [≤4.7], its node's [4.8+].
    #[inline]
    fn reclaim_flags_mut(&mut self, zid: usize) -> &mut super::zone::ReclaimFlags {
        if self.switches.kswapd_balance == KswapdBalance::Zones {
            &mut self.mem.zones[zid].flags
        } else {
            let n = self.mem.zones[zid].node as usize;
            &mut self.mem.nodes[n].flags
        }
    }

    /// `shrink_list()`: the 2.6.32-stable/2.6.33 dispatch, or mainline 2.6.32.0's.
    fn shrink_list(
        &mut self,
        l: LruList,
        n: u64,
        zid: usize,
        sc: &mut ScanControl,
        prio: i32,
    ) -> u64 {
        let file = l.is_file();
        if self.switches.shrink_list_active_budget == ShrinkListActiveBudget::ScansInactive {
            if l.is_active() && self.lruvec_inactive_is_low(zid, file, sc.reclaim_idx) {
                self.shrink_active_list(n, zid, sc, file);
                return 0;
            }
            return self.shrink_inactive_list(n, zid, sc, file, prio);
        }
        if l.is_active() {
            if self.lruvec_inactive_is_low(zid, file, sc.reclaim_idx) {
                self.shrink_active_list(n, zid, sc, file);
            }
            return 0;
        }
        self.shrink_inactive_list(n, zid, sc, file, prio)
    }

    /// `putback_lru_page()` for a page that is not evictable: to the unevictable list.
    fn cull(&mut self, id: PageId) {
        self.mem.pages[id as usize].flags &= !pg::ACTIVE;
        self.mem.lru_add_head(id, LruList::Unevictable);
        self.stats.vm_events.unevictable_pgs_culled += 1;
    }

    /// `shrink_active_list()` (reclaim-oom §4.6).
    pub fn shrink_active_list(&mut self, n: u64, zid: usize, sc: &mut ScanControl, file: bool) {
        let l = LruList::of(file, true);
        let examined = self.isolate(n, zid, l, sc, true);
        self.mem.zones[zid].recent_scanned[usize::from(file)] += examined;
        let taken = std::mem::take(&mut self.mem.scratch);
        let now = self.clock.now;
        let token = self.token_holder(sc.actor);
        let mut rotated = 0;
        let mut deactivated = 0;
        for &id in &taken {
            if !self.page_evictable(id) {
                self.cull(id);
                continue;
            }
            let referenced = if self.switches.page_references == PageReferences::PageReferenced {
                self.mem.page_mapping_inuse(id) && self.mem.page_referenced(id, true, now, token)
            } else {
                self.mem.page_referenced(id, false, now, token)
            };
            if referenced {
                rotated += 1;
            }
            self.mem.pages[id as usize].flags &= !pg::ACTIVE;
            self.mem.lru_add_head(id, LruList::of(file, false));
            deactivated += 1;
        }
        self.mem.zones[zid].recent_rotated[usize::from(file)] += rotated;
        self.stats.vm_events.pgdeactivate += deactivated;
        self.mem.unisolate(zid, file, examined);
        self.mem.scratch = taken;
    }

    /// `shrink_inactive_list()` (reclaim-oom §4.7): one batch of at most 32 pages.
    fn shrink_inactive_list(
        &mut self,
        n: u64,
        zid: usize,
        sc: &mut ScanControl,
        file: bool,
        prio: i32,
    ) -> u64 {
        // too_many_isolated() compares NR_ISOLATED with the inactive list; isolation and putback
        // happen inside one event here, so NR_ISOLATED is 0 at every check and it never sleeps.
        debug_assert!(!self.mem.too_many_isolated(zid, file) || sc.is_kswapd());
        let l = LruList::of(file, false);
        let batch = n.min(self.swap_cluster_max());
        let examined = self.isolate(batch, zid, l, sc, false);
        self.mem.zones[zid].recent_scanned[usize::from(file)] += examined;
        if examined == 0 {
            return 0;
        }
        let list = std::mem::take(&mut self.mem.scratch);
        let mut freed = 0;
        let mut keep = std::mem::take(&mut self.mem.scratch_keep);
        keep.clear();
        sc.stat = BatchStat::default();
        sc.token = self.token_holder(sc.actor);
        for &id in &list {
            match self.shrink_page(id, sc, prio) {
                PageFate::Free => {
                    freed += 1;
                    // pgsteal_<zone> of the page's own zone (a node's lruvec holds several).
                    let pz = self.mem.pages[id as usize].zone as usize;
                    self.mem.zones[pz].stat.pgsteal += 1;
                }
                PageFate::Cull => self.cull(id),
                PageFate::Keep => keep.push(id),
                PageFate::Activate => {
                    self.mem.pages[id as usize].flags |= pg::ACTIVE;
                    self.stats.vm_events.pgactivate += 1;
                    keep.push(id);
                }
            }
        }
        if sc.is_kswapd() {
            self.stats.vm_events.kswapd_steal += freed;
        }
        self.observe_shrink_inactive(sc.actor, batch, examined, freed);
        for &id in &keep {
            if !self.page_evictable(id) {
                self.cull(id);
                continue;
            }
            let p = &self.mem.pages[id as usize];
            let target = LruList::of(p.is_file_cache(), p.has(pg::ACTIVE));
            self.mem.lru_add_head(id, target);
            if target.is_active() {
                self.mem.zones[zid].recent_rotated[usize::from(target.is_file())] += 1;
            }
        }
        self.mem.unisolate(zid, file, examined);
        self.mem.scratch = list;
        self.mem.scratch_keep = keep;
        self.after_batch(zid, sc, prio, examined, file);
        if self.io.has_parked(sc.actor) {
            // The kernel sleeps at the first page whose bio finds no request; here the batch
            // is finished first and the reclaimer sleeps after it (MODEL.md simplification 5).
            sc.throttle = Some(Throttle::RequestWait);
        }
        freed
    }

    /// What the later kernels do after `shrink_page_list()` returns, from the batch's counts:
    /// set the zone flags, ask for a writeback throttle, kick the flushers (writeback-fs §D.2,
    /// §D.5, §D.9, §D.10).
    fn after_batch(
        &mut self,
        zid: usize,
        sc: &mut ScanControl,
        prio: i32,
        nr_taken: u64,
        file: bool,
    ) {
        let st = sc.stat;
        let kswapd = sc.is_kswapd();
        match self.switches.reclaim_writeback_throttle {
            WritebackThrottle::None => {}
            WritebackThrottle::PriorityScaled => {
                // 3.2 shrink_inactive_list(): the backoff scales with priority.
                let shift = (DEF_PRIORITY - prio).clamp(0, 63) as u32;
                if st.writeback > 0
                    && st.writeback >= nr_taken >> shift
                    && self.throttle_sleeps(zid, Throttle::Writeback)
                {
                    sc.throttle = Some(Throttle::Writeback);
                }
            }
            WritebackThrottle::ZoneFlags => {
                // 3.11 shrink_inactive_list(), global reclaim.
                let f = self.reclaim_flags_mut(zid);
                if st.writeback > 0 && st.writeback == nr_taken {
                    f.writeback = true;
                }
                if st.dirty > 0 && st.dirty == st.congested {
                    f.congested = true;
                }
                if st.unqueued_dirty == nr_taken {
                    f.tail_lru_dirty = true;
                }
                self.batch_throttle(zid, sc, kswapd);
            }
            WritebackThrottle::KswapdFlags | WritebackThrottle::CongestedReclaimOnly => {
                // [4.17+] shrink_node() sums the batches; kswapd sets the flags at its end.
                sc.nr.add(&st, nr_taken, file);
                self.batch_throttle(zid, sc, kswapd);
            }
        }
        if !self.switches.reclaim_writeback_throttle.flags()
            && st.dirty_branch > 0
            && st.dirty_branch == st.dirty_kept
        {
            // 2.6.37 shrink_page_list(): every dirty page met was on a congested queue.
            self.reclaim_flags_mut(zid).congested = true;
        }
        if self.switches.flusher_wakeup == FlusherWakeup::LruTailDirty
            && nr_taken > 0
            && st.unqueued_dirty == nr_taken
        {
            // 4.11: wakeup_flusher_threads(0, WB_REASON_VMSCAN): all dirty pages.
            self.wakeup_flusher_threads(0);
        }
    }

    /// The sleeps a batch asks for [3.11–5.15] (from 5.16 the CONGESTED and WRITEBACK
    /// throttles are taken once per `shrink_node()`, at its end: `shrink_zones`, `node.rs`).
    fn batch_throttle(&mut self, zid: usize, sc: &mut ScanControl, kswapd: bool) {
        let per_batch = self.switches.congestion_sleep != CongestionSleep::ReclaimThrottle;
        if sc.stat.immediate > 0 && per_batch {
            sc.throttle = Some(Throttle::Immediate);
        } else if !kswapd && per_batch && self.throttle_sleeps(zid, Throttle::Congested) {
            sc.throttle = Some(Throttle::Congested);
        }
    }

    /// Whether a throttle of `reason` in zone `zid` actually sleeps under the run's sleep
    /// primitive: `congestion_wait` always does; `wait_iff_congested` only when some queue is
    /// congested and the zone is flagged; `reclaim_throttle(CONGESTED)` when the zone is flagged.
    fn throttle_sleeps(&self, zid: usize, reason: Throttle) -> bool {
        let flagged = self.reclaim_flags(zid).congested;
        match (self.switches.congestion_sleep, reason) {
            (CongestionSleep::Always, _) | (_, Throttle::Immediate) => true,
            (CongestionSleep::IffCongested, _) => {
                flagged && self.io.disks.iter().any(|d| d.write_congested())
            }
            // 6.1 reclaim_throttle(): CONGESTED falls through to NOPROGRESS's
            // skip_throttle_noprogress() (vmscan.c:1156–1167).
            (CongestionSleep::ReclaimThrottle, _) => flagged && !self.skip_throttle_noprogress(zid),
        }
    }

    /// Puts a reclaimer to sleep for `reason` (it resumes in its caller's throttled phase).
    pub fn throttle_sleep(&mut self, actor: Actor, zid: usize, reason: Throttle, cpu: SimTime) {
        if reason == Throttle::RequestWait {
            // The CPU spent stays the actor's: it is charged to its next event after the wait.
            self.charge_actor(actor, cpu);
            let b = self
                .parked_disk(actor)
                .expect("a request wait with no parked bio");
            return self.get_request_wait(b, actor, crate::block::BLK_RW_ASYNC);
        }
        self.stats.counters.reclaim_throttled += 1;
        match (self.switches.congestion_sleep, reason) {
            (CongestionSleep::ReclaimThrottle, Throttle::Congested) => {
                // VMSCAN_THROTTLE_CONGESTED: one jiffy.
                self.schedule(self.clock.now + cpu + self.clock.jiffy, actor);
            }
            (CongestionSleep::ReclaimThrottle, _) => {
                // VMSCAN_THROTTLE_WRITEBACK: HZ/10, or until SWAP_CLUSTER_MAX pages per
                // throttled task of this node finish writeback (__acct_reclaim_writeback).
                let n = self.mem.zones[zid].node as usize;
                if self.mem.nodes[n].throttled.is_empty() {
                    self.mem.nodes[n].throttled_written = 0;
                }
                if !self.mem.nodes[n].throttled.contains(&actor) {
                    self.mem.nodes[n].throttled.push(actor);
                }
                self.schedule(self.clock.now + cpu + 100 * MSEC, actor);
            }
            _ => self.congestion_wait(actor, 100 * MSEC, cpu),
        }
    }

    /// Leaves every reclaim wait queue (the actor woke).
    pub fn leave_reclaim_waits(&mut self, actor: Actor) {
        self.leave_congestion_wait(actor);
        if self.switches.congestion_sleep == CongestionSleep::ReclaimThrottle {
            for n in &mut self.mem.nodes {
                n.throttled.retain(|&a| a != actor);
            }
        }
    }

    /// `__acct_reclaim_writeback()` [5.16]: a page of node `n` finished writeback; wake the
    /// throttled reclaimers once `SWAP_CLUSTER_MAX` pages per sleeper have.
    pub fn acct_reclaim_writeback(&mut self, n: usize) {
        let node = &mut self.mem.nodes[n];
        if node.throttled.is_empty() {
            return;
        }
        node.throttled_written += 1;
        let scm = self.granularity.batch(SWAP_CLUSTER_MAX);
        if node.throttled_written >= scm * node.throttled.len() as u64 {
            let sleepers = std::mem::take(&mut self.mem.nodes[n].throttled);
            for a in sleepers {
                self.schedule(self.clock.now, a);
            }
        }
    }

    /// Step 8 of `shrink_page_list()`: what the page's references decide, by the
    /// `page_references` switch: `Err(fate)` ends the page's trip, `Ok(keep_dirty)` goes on
    /// (`keep_dirty`: a referenced page is kept rather than written).
    #[inline]
    fn references_fate(
        &mut self,
        id: PageId,
        token: Option<TokenHolder>,
    ) -> Result<bool, PageFate> {
        if self.switches.page_references == PageReferences::PageReferenced {
            let referenced = self.mem.page_referenced(id, true, self.clock.now, token);
            if referenced && self.mem.page_mapping_inuse(id) {
                return Err(PageFate::Activate);
            }
            return Ok(referenced);
        }
        match self.mem.page_check_references(id, self.clock.now, token) {
            PageRef::Activate => Err(PageFate::Activate),
            PageRef::Keep => Err(PageFate::Keep),
            PageRef::ReclaimClean => Ok(true),
            PageRef::Reclaim => Ok(false),
        }
    }

    /// Step 12 of `shrink_page_list()` for a dirty page: left to the flushers [3.2+], kept
    /// (`keep`: referenced, or the reclaimer may not enter the filesystem), or `pageout()`.
    /// `None`: the page is clean now and goes on to be freed.
    #[inline]
    fn shrink_dirty_page(
        &mut self,
        id: PageId,
        sc: &mut ScanControl,
        prio: i32,
        keep: bool,
    ) -> Option<PageFate> {
        sc.stat.dirty_branch += 1;
        if self.mem.pages[id as usize].is_file_cache() && self.no_fs_writeback(id, sc, prio) {
            // [3.2+] not written: marked for immediate reclaim once the flusher has.
            self.stats.counters.vmscan_immediate += 1;
            self.mem.pages[id as usize].flags |= pg::RECLAIM;
            return Some(match self.switches.dirty_page_disposition {
                DirtyDisposition::InactiveHead => PageFate::Keep,
                DirtyDisposition::Activate => PageFate::Activate,
            });
        }
        if keep || !sc.may_writepage {
            return Some(PageFate::Keep);
        }
        match self.pageout(id, sc) {
            PageoutOutcome::Keep => {
                sc.stat.dirty_kept += 1;
                Some(PageFate::Keep)
            }
            PageoutOutcome::Activate => Some(PageFate::Activate),
            PageoutOutcome::Success => {
                let p = &self.mem.pages[id as usize];
                (p.has(pg::WRITEBACK) || p.has(pg::DIRTY)).then_some(PageFate::Keep)
            }
            PageoutOutcome::Clean => None,
        }
    }

    /// `shrink_page_list()` for one isolated page (reclaim-oom §5).
    fn shrink_page(&mut self, id: PageId, sc: &mut ScanControl, prio: i32) -> PageFate {
        let flags = self.mem.pages[id as usize].flags;
        if flags & pg::LOCKED != 0 {
            return PageFate::Keep; // trylock_page failed: not counted in nr_scanned
        }
        sc.nr_scanned += 1;
        let mut cpu = self.granularity.cost(cost::SCAN_PAGE);
        if !self.page_evictable(id) {
            return PageFate::Cull;
        }
        if flags & (pg::MAPPED | pg::SWAPCACHE) != 0 {
            sc.nr_scanned += 1;
            cpu += self.granularity.cost(cost::SCAN_MAPPED);
        }
        self.charge_actor(sc.actor, cpu);
        let mut may_enter_fs =
            sc.gfp & gfp::FS != 0 || (flags & pg::SWAPCACHE != 0 && sc.gfp & gfp::IO != 0);
        if self.switches.reclaim_writeback_throttle.flags() {
            self.count_dirty_writeback(id, sc);
        }
        if flags & pg::WRITEBACK != 0 {
            return self.keep_writeback(id, sc);
        }
        // Step 8: references.
        let keep_dirty = match self.references_fate(id, sc.token) {
            Ok(keep_dirty) => keep_dirty,
            Err(fate) => return fate,
        };
        // Step 9: anon pages need a swap slot.
        if self.mem.pages[id as usize].has(pg::ANON)
            && !self.mem.pages[id as usize].has(pg::SWAPCACHE)
        {
            if sc.gfp & gfp::IO == 0 {
                return PageFate::Keep;
            }
            if !self.add_to_swap(id) {
                return PageFate::Activate;
            }
            may_enter_fs = true;
        }
        // Step 11: unmap.
        if self.mem.pages[id as usize].has(pg::MAPPED) {
            self.try_to_unmap(id);
        }
        // Step 12: dirty pages.
        if self.mem.pages[id as usize].has(pg::DIRTY) {
            if let Some(fate) = self.shrink_dirty_page(id, sc, prio, keep_dirty || !may_enter_fs) {
                return fate;
            }
        }
        // Steps 13-15: release buffers, remove from the page or swap cache, free.
        if self.mem.pages[id as usize].has(pg::JOURNAL_IO) {
            return PageFate::Activate; // try_to_release_page() fails on buffers under IO
        }
        // try_to_release_page() → try_to_free_buffers(): the page's buffer heads go with it,
        // to the reclaimer's reclaimed_slab.
        let buffers = self.mem.pages[id as usize].has(pg::BH);
        self.remove_mapping(id);
        self.free_page(id, sc.cpu);
        if buffers {
            let g = self.granularity.factor();
            self.slab_free(CacheId::BufferHead, g, Some(sc.actor), sc.cpu);
        }
        PageFate::Free
    }

    /// `page_check_dirty_writeback()` and the counts after it [3.11+].
    fn count_dirty_writeback(&mut self, id: PageId, sc: &mut ScanControl) {
        let f = self.mem.pages[id as usize].flags;
        let (dirty, writeback) = (f & pg::DIRTY != 0, f & pg::WRITEBACK != 0);
        if dirty || writeback {
            sc.stat.dirty += 1;
        }
        if dirty && !writeback {
            sc.stat.unqueued_dirty += 1;
        }
        // [5.18+] no bdi congestion: only PG_reclaim pages under writeback count.
        let congested = self.switches.reclaim_writeback_throttle
            != WritebackThrottle::CongestedReclaimOnly
            && self
                .page_bdi(id)
                .is_some_and(|b| self.io.disks[b].write_congested());
        if ((dirty || writeback) && congested) || (writeback && f & pg::RECLAIM != 0) {
            sc.stat.congested += 1;
        }
    }

    /// A page met under writeback: kept [≤3.10]; [3.11+] kswapd counts a PG_reclaim page of a
    /// ZONE_WRITEBACK zone as `nr_immediate`, other pages are marked PG_reclaim (and [4.11+]
    /// activated out of the way).
    fn keep_writeback(&mut self, id: PageId, sc: &mut ScanControl) -> PageFate {
        sc.stat.writeback += 1;
        if !self.switches.reclaim_writeback_throttle.flags() {
            return PageFate::Keep; // KEEP_LOCKED: back to the inactive head, no PG_reclaim
        }
        let p = &self.mem.pages[id as usize];
        if sc.is_kswapd() && p.has(pg::RECLAIM) && self.reclaim_flags(p.zone as usize).writeback {
            sc.stat.immediate += 1;
            sc.nr_immediate += 1;
            return PageFate::Keep;
        }
        self.mem.pages[id as usize].flags |= pg::RECLAIM;
        match self.switches.dirty_page_disposition {
            DirtyDisposition::InactiveHead => PageFate::Keep,
            DirtyDisposition::Activate => PageFate::Activate,
        }
    }

    /// Whether reclaim leaves a dirty file page to the flushers instead of calling `pageout()`
    /// (writeback-fs §D.4, §D.9): never in 2.6.3x.
    fn no_fs_writeback(&self, id: PageId, sc: &ScanControl, prio: i32) -> bool {
        let kswapd = sc.is_kswapd();
        let p = &self.mem.pages[id as usize];
        let zone_dirty = self.reclaim_flags(p.zone as usize).tail_lru_dirty;
        match self.switches.reclaim_fs_writepage {
            ReclaimFsWrite::All => false,
            ReclaimFsWrite::KswapdPriority => !kswapd || prio >= DEF_PRIORITY - 2,
            ReclaimFsWrite::KswapdDirtyZone => !kswapd || !zone_dirty,
            ReclaimFsWrite::KswapdSeenTwice | ReclaimFsWrite::Never => {
                !kswapd || !p.has(pg::RECLAIM) || !zone_dirty
            }
        }
    }

    /// `pageout()` (reclaim-oom §6).
    pub fn pageout(&mut self, id: PageId, sc: &mut ScanControl) -> PageoutOutcome {
        let p = &self.mem.pages[id as usize];
        if self.switches.reclaim_fs_writepage == ReclaimFsWrite::Never
            && p.has(pg::FILE)
            && !p.has(pg::SHMEM)
        {
            // v6.18: "We no longer attempt to writeback filesystem folios here".
            return PageoutOutcome::Activate;
        }
        let Some(bdi) = self.page_bdi(id) else {
            // shmem without a swap device still has a writepage (shmem_writepage).
            return self.pageout_write(id, sc);
        };
        // swap_backing_dev_info has no congested_fn and no state bits: never congested, so
        // may_write_to_queue() passes every swap cache page (mm/swap_state.c 2.6.32).
        let swapcache = self.mem.pages[id as usize].has(pg::SWAPCACHE);
        if !swapcache && !self.may_write_to_queue(sc.actor, bdi) {
            return PageoutOutcome::Keep;
        }
        self.pageout_write(id, sc)
    }

    fn pageout_write(&mut self, id: PageId, sc: &mut ScanControl) -> PageoutOutcome {
        if !self.clear_page_dirty_for_io(id) {
            return PageoutOutcome::Clean;
        }
        self.mem.pages[id as usize].flags |= pg::RECLAIM;
        let caller = if sc.is_kswapd() {
            WritepageCaller::Kswapd
        } else {
            WritepageCaller::DirectReclaim
        };
        let res = self.writepage(id, caller, sc.actor, true);
        if res == fs::WritepageResult::Activate {
            self.mem.pages[id as usize].flags &= !pg::RECLAIM;
            return PageoutOutcome::Activate;
        }
        if !self.mem.pages[id as usize].has(pg::WRITEBACK) {
            self.mem.pages[id as usize].flags &= !pg::RECLAIM;
        }
        let zid = self.mem.pages[id as usize].zone as usize;
        self.observe_writepage(sc.actor, id);
        self.mem.zones[zid].stat.nr_vmscan_write += 1;
        PageoutOutcome::Success
    }

    /// `may_write_to_queue()`.
    fn may_write_to_queue(&self, actor: Actor, bdi: usize) -> bool {
        match actor {
            Actor::Kswapd(_) => true, // PF_SWAPWRITE
            Actor::Task(t) => {
                // A flusher thread in direct reclaim has PF_SWAPWRITE too.
                self.tasks[t].pf & super::pf::SWAPWRITE != 0
                    || !self.io.disks[bdi].write_congested()
                    || self.tasks[t].backing_dev == Some(bdi)
            }
            _ => !self.io.disks[bdi].write_congested(),
        }
    }

    /// `throttle_vm_writeout()`'s test: writeback above 110 % of the global dirty threshold,
    /// [3.4–4.8] of `hard_dirty_limit()`; [4.9+] the function is gone and never sleeps.
    pub fn throttle_vm_writeout_over(&self) -> bool {
        let (_, mut dirty) = self.global_dirty_limits();
        match self.switches.throttle_vm_writeout {
            ThrottleVmWriteout::Threshold => {}
            ThrottleVmWriteout::HardLimit => dirty = dirty.max(self.wb.global_dirty_limit),
            ThrottleVmWriteout::Removed => return false,
        }
        let dirty = dirty + dirty / 10;
        self.mem.vm_stat.nr_writeback > dirty
    }

    /// Starts `try_to_free_pages()` for task `t` (ALLOCSTALL, a fresh scan_control).
    pub fn try_to_free_pages_start(&mut self, t: usize, gfp_mask: u32) -> DirectReclaim {
        self.stats.vm_events.allocstall += 1;
        if self.tasks[t].kthread.is_some() {
            self.stats.counters.flusher_allocstall += 1;
        }
        self.tasks[t].reclaimed_slab = 0;
        let lru_pages = (0..self.tasks[t].zonelist.len())
            .map(|k| self.tasks[t].zonelist[k] as usize)
            .filter(|&z| self.cpuset_hardwall(t, z))
            .map(|z| self.mem.zone_reclaimable_pages(z))
            .sum();
        DirectReclaim {
            lru_pages,
            sc: ScanControl {
                gfp: gfp_mask,
                may_writepage: true,
                nr_to_reclaim: self.swap_cluster_max(),
                nr_scanned: 0,
                nr_reclaimed: 0,
                actor: Actor::Task(t),
                cpu: self.tasks[t].cpu,
                all_unreclaimable: true,
                stat: BatchStat::default(),
                throttle: None,
                resume: None,
                nr_immediate: 0,
                nr: NodeStat::default(),
                reclaim_idx: MAX_RECLAIM_IDX,
                token: None,
            },
            prio: DEF_PRIORITY,
            total_scanned: 0,
            zone_pos: 0,
            last_lruvec: None,
            shrunk_any: false,
            phase: DirectReclaimPhase::PriorityStart,
        }
    }

    /// Runs `do_try_to_free_pages()` (reclaim-oom §3.2) until it sleeps (`None`) or returns
    /// its progress value under the release's rule (§3.5).
    pub fn try_to_free_pages_step(&mut self, t: usize) -> Option<u64> {
        let mut dr = self.tasks[t]
            .alloc
            .as_mut()?
            .reclaim
            .take()
            .expect("reclaim state");
        let r = self.do_try_to_free_pages(t, &mut dr);
        self.tasks[t].alloc.as_mut().expect("ctx").reclaim = Some(dr);
        r
    }

    /// `do_try_to_free_pages()`: the priority loop, resumable at its sleeps. `Some(progress)`
    /// when it returns, `None` when the task sleeps.
    fn do_try_to_free_pages(&mut self, t: usize, dr: &mut DirectReclaim) -> Option<u64> {
        loop {
            match dr.phase {
                DirectReclaimPhase::PriorityStart => {
                    if dr.prio == 0 {
                        self.disable_swap_token(); // "The swap token gets in the way of swapout"
                    }
                    dr.sc.resume = None;
                    dr.sc.nr_scanned = 0;
                    dr.sc.all_unreclaimable = true;
                    dr.shrunk_any = false;
                    dr.zone_pos = 0;
                    dr.last_lruvec = None;
                    dr.phase = DirectReclaimPhase::Zones;
                }
                DirectReclaimPhase::Zones => {
                    if self.shrink_zones(t, dr) {
                        return None; // asleep
                    }
                    dr.phase = DirectReclaimPhase::PriorityEnd;
                }
                DirectReclaimPhase::ZoneThrottled => {
                    self.leave_reclaim_waits(Actor::Task(t));
                    dr.phase = DirectReclaimPhase::Zones;
                }
                DirectReclaimPhase::Throttled => {
                    self.leave_congestion_wait(Actor::Task(t));
                    let fs_io = gfp::FS | gfp::IO;
                    if dr.sc.gfp & fs_io == fs_io && self.throttle_vm_writeout_over() {
                        let cpu = std::mem::take(&mut self.tasks[t].pending_cpu_ns);
                        self.congestion_wait(Actor::Task(t), 100 * MSEC, cpu);
                        return None;
                    }
                    dr.phase = DirectReclaimPhase::Zones;
                }
                DirectReclaimPhase::PriorityEnd => return self.direct_reclaim_priority_end(t, dr),
                DirectReclaimPhase::NextPriority => {
                    self.leave_reclaim_waits(Actor::Task(t));
                    dr.prio -= 1;
                    if dr.prio < 0 {
                        return Some(self.do_try_to_free_pages_result(t, dr));
                    }
                    dr.phase = DirectReclaimPhase::PriorityStart;
                }
            }
        }
    }

    /// `shrink_zones()`: every zone of the task's zonelist in its cpuset, skipping the
    /// all-unreclaimable ones ([4.8–4.11] those of a node not `pgdat_reclaimable()`) below the
    /// first priority. `true` when the task went to sleep
    /// (throttled); the walk resumes at the zone it stopped in.
    fn shrink_zones(&mut self, t: usize, dr: &mut DirectReclaim) -> bool {
        while dr.zone_pos < self.tasks[t].zonelist.len() {
            let zid = self.tasks[t].zonelist[dr.zone_pos] as usize;
            dr.zone_pos += 1;
            if !self.cpuset_hardwall(t, zid) {
                continue;
            }
            if self.mem.zones[zid].all_unreclaimable && dr.prio != DEF_PRIORITY {
                continue;
            }
            // [4.8–4.11] "Let kswapd poll it": a node scanned 6× its reclaimable pages since
            // its last free is left alone below the first priority (kswapd never is).
            if dr.prio != DEF_PRIORITY
                && self.pgdat_reclaimable_applies()
                && !self
                    .mem
                    .pgdat_reclaimable(self.mem.zones[zid].node as usize)
            {
                continue;
            }
            let lv = self.mem.zones[zid].lruvec as usize;
            if lv != zid {
                // [4.8+] shrink_node() once per node (6.1 shrink_zones(): last_pgdat).
                if dr.last_lruvec == Some(lv) {
                    continue;
                }
                dr.last_lruvec = Some(lv);
            }
            dr.sc.all_unreclaimable = false;
            dr.shrunk_any = true;
            self.shrink_zone(dr.prio, zid, &mut dr.sc);
            if let Some(reason) = dr.sc.throttle.take() {
                dr.zone_pos -= 1; // resume this zone after the sleep
                dr.last_lruvec = None;
                dr.phase = DirectReclaimPhase::ZoneThrottled;
                let cpu = std::mem::take(&mut self.tasks[t].pending_cpu_ns);
                self.throttle_sleep(Actor::Task(t), zid, reason, cpu);
                return true;
            }
            if self.switches.congestion_sleep == CongestionSleep::ReclaimThrottle
                && self.reclaim_flags(zid).congested
                && self.throttle_sleeps(zid, Throttle::Congested)
            {
                // 6.1 shrink_node(): reclaim_throttle(VMSCAN_THROTTLE_CONGESTED) once, after
                // the whole node was scanned; the walk goes on with the next zone.
                dr.phase = DirectReclaimPhase::ZoneThrottled;
                let cpu = std::mem::take(&mut self.tasks[t].pending_cpu_ns);
                self.throttle_sleep(Actor::Task(t), zid, Throttle::Congested, cpu);
                return true;
            }
            if self.throttle_vm_writeout_over() {
                dr.phase = DirectReclaimPhase::Throttled;
                let cpu = std::mem::take(&mut self.tasks[t].pending_cpu_ns);
                self.congestion_wait(Actor::Task(t), 100 * MSEC, cpu);
                return true;
            }
        }
        false
    }

    /// The end of a `do_try_to_free_pages()` priority: done once `nr_to_reclaim` pages were
    /// freed; past 48 pages scanned wake the flushers (2.6.3x) and allow writepage; then nap.
    fn direct_reclaim_priority_end(&mut self, t: usize, dr: &mut DirectReclaim) -> Option<u64> {
        self.tasks[t].pending_cpu_ns += cost::LOOP_MIN;
        // shrink_slab(), then the slab pages freed in this pass (the inodes it pruned, and the
        // buffer heads of the pages shrink_zones freed) count as reclaimed (vmscan.c:1769-1773).
        self.shrink_slab(dr.sc.nr_scanned, dr.sc.gfp, dr.lru_pages, Actor::Task(t));
        dr.sc.nr_reclaimed += std::mem::take(&mut self.tasks[t].reclaimed_slab);
        dr.total_scanned += dr.sc.nr_scanned;
        if dr.sc.nr_reclaimed >= dr.sc.nr_to_reclaim {
            return Some(dr.sc.nr_reclaimed);
        }
        // More than 48 base pages scanned: a threshold, rounded down (exact for `>`).
        let writeback_threshold = self
            .granularity
            .floor(KernelPages(SWAP_CLUSTER_MAX.0 + SWAP_CLUSTER_MAX.0 / 2));
        if dr.total_scanned > writeback_threshold {
            if self.switches.flusher_wakeup == FlusherWakeup::DirectReclaimScanned {
                self.wakeup_flusher_threads(dr.total_scanned);
            }
            dr.sc.may_writepage = true;
        }
        dr.phase = DirectReclaimPhase::NextPriority;
        if !self.direct_reclaim_nap(t, dr) {
            // Let other CPUs run between priorities: the pass takes the time it costs.
            self.task_sleep(t, 0);
        }
        None
    }

    /// The sleep between priorities of `do_try_to_free_pages()`: `congestion_wait(HZ/10)`
    /// [≤2.6.36], `wait_iff_congested(preferred_zone, HZ/10)` [2.6.37+], or none but
    /// `consider_reclaim_throttle()`'s one-jiffy NOPROGRESS throttle [5.16+]. Whether it slept.
    fn direct_reclaim_nap(&mut self, t: usize, dr: &DirectReclaim) -> bool {
        let nap_prio = dr.sc.nr_scanned > 0 && dr.prio < DEF_PRIORITY - 2;
        let preferred = self.tasks[t]
            .zonelist
            .iter()
            .map(|&z| z as usize)
            .find(|&z| self.cpuset_hardwall(t, z));
        let sleep = match self.switches.congestion_sleep {
            CongestionSleep::Always => nap_prio.then_some(100 * MSEC),
            CongestionSleep::IffCongested => (nap_prio
                && preferred.is_some_and(|z| self.throttle_sleeps(z, Throttle::Writeback)))
            .then_some(100 * MSEC),
            CongestionSleep::ReclaimThrottle => {
                let scanned = dr.total_scanned;
                let efficient = dr.sc.nr_reclaimed > scanned >> 3;
                let stuck = dr.prio == 1 && dr.sc.nr_reclaimed == 0;
                let skip = preferred.map_or(true, |z| self.skip_throttle_noprogress(z));
                (!efficient && stuck && !skip).then_some(self.clock.jiffy)
            }
        };
        let Some(timeout) = sleep else {
            return false;
        };
        let cpu = std::mem::take(&mut self.tasks[t].pending_cpu_ns);
        if timeout == self.clock.jiffy
            && self.switches.congestion_sleep == CongestionSleep::ReclaimThrottle
        {
            self.stats.counters.reclaim_throttled += 1;
            self.schedule(self.clock.now + cpu + timeout, Actor::Task(t));
        } else {
            self.congestion_wait(Actor::Task(t), timeout, cpu);
        }
        true
    }

    /// `skip_throttle_noprogress()` [5.16]: do not throttle when at most half the node's
    /// reclaimable pages are waiting for writeback (there is nothing to wait for).
    fn skip_throttle_noprogress(&self, zid: usize) -> bool {
        let n = self.mem.zones[zid].node as usize;
        if self.pgdat_hopeless(n) {
            return true; // "If kswapd is disabled, reschedule if necessary but do not throttle."
        }
        let (mut reclaimable, mut pending) = (0, 0);
        for &z in &self.mem.nodes[n].zones {
            reclaimable += self.mem.zone_reclaimable_pages(z as usize);
            let st = &self.mem.zones[z as usize].stat;
            pending += st.nr_dirty + st.nr_writeback;
        }
        2 * pending <= reclaimable
    }

    /// The return value of `do_try_to_free_pages()` after the full priority loop (§3.5).
    fn do_try_to_free_pages_result(&self, t: usize, dr: &DirectReclaim) -> u64 {
        match self.switches.direct_reclaim_progress {
            DirectReclaimProgress::ScAllUnreclaimable => {
                if dr.sc.all_unreclaimable {
                    0
                } else {
                    dr.sc.nr_reclaimed
                }
            }
            DirectReclaimProgress::ShrunkAZone => {
                if dr.sc.nr_reclaimed > 0 {
                    dr.sc.nr_reclaimed
                } else {
                    u64::from(dr.shrunk_any)
                }
            }
            DirectReclaimProgress::NrReclaimed => dr.sc.nr_reclaimed,
            DirectReclaimProgress::ZoneReclaimable => {
                if dr.sc.nr_reclaimed > 0 {
                    dr.sc.nr_reclaimed
                } else {
                    u64::from(!self.all_unreclaimable(t))
                }
            }
        }
    }

    /// [36] `all_unreclaimable()`: no allowed zone is `zone_reclaimable()`.
    fn all_unreclaimable(&self, t: usize) -> bool {
        self.tasks[t]
            .zonelist
            .iter()
            .map(|&z| z as usize)
            .filter(|&z| self.cpuset_hardwall(t, z))
            .all(|z| !self.mem.zone_reclaimable(z))
    }

    /// `wakeup_kswapd()` (reclaim-oom §8.1). `t` is the allocating task (for the cpuset test).
    pub fn wakeup_kswapd(&mut self, zid: usize, t: Option<usize>) {
        if self.switches.kswapd_balance != KswapdBalance::Zones {
            return self.wakeup_kswapd_node(zid, t);
        }
        let z = &self.mem.zones[zid];
        if zone_watermark_ok(
            z.nr_free(),
            z.wmark(Wmark::Low),
            z.lowmem_reserve[0],
            false,
            false,
        ) {
            return;
        }
        self.observe_wakeup_kswapd(zid, t);
        if let Some(t) = t {
            if !self.cpuset_hardwall(t, zid) {
                return;
            }
        }
        let n = self.mem.zones[zid].node as usize;
        if self.pgdat_hopeless(n) {
            return; // [4.12+] "Hopeless node, leave it to direct reclaim"
        }
        match self.mem.nodes[n].kswapd.state {
            KswapdState::Sleeping | KswapdState::Napping(_) => {
                self.schedule(self.clock.now, Actor::Kswapd(n));
            }
            KswapdState::Running => {}
        }
    }

    /// `sleeping_prematurely()` [≥33].
    fn sleeping_prematurely(&self, n: usize, remaining: bool) -> bool {
        if remaining {
            return true;
        }
        if self.switches.kswapd_balance != KswapdBalance::Zones {
            return !self.prepare_kswapd_sleep(n);
        }
        if self.pgdat_hopeless(n) {
            return false; // [4.12+] prepare_kswapd_sleep(): a hopeless node sleeps unbalanced
        }
        self.mem.nodes[n].zones.iter().any(|&z| {
            let z = &self.mem.zones[z as usize];
            !z.all_unreclaimable
                && !zone_watermark_ok(
                    z.nr_free(),
                    z.wmark(Wmark::High),
                    z.lowmem_reserve[0],
                    false,
                    false,
                )
        })
    }

    /// The kswapd thread (reclaim-oom §8.2): sleep, nap, balance.
    pub fn run_kswapd(&mut self, n: usize) {
        match self.mem.nodes[n].kswapd.state {
            KswapdState::Sleeping => self.start_balance(n),
            KswapdState::Napping(until) => {
                let woken_early = self.clock.now < until;
                if self.sleeping_prematurely(n, woken_early) {
                    if woken_early {
                        self.stats.vm_events.kswapd_low_wmark_hit_quickly += 1;
                    } else {
                        self.stats.vm_events.kswapd_high_wmark_hit_quickly += 1;
                    }
                    self.start_balance(n);
                } else {
                    self.mem.nodes[n].kswapd.state = KswapdState::Sleeping;
                }
            }
            KswapdState::Running if self.mem.nodes[n].kswapd.node_bal.is_some() => {
                self.balance_node_step(n);
            }
            KswapdState::Running => self.balance_pgdat_step(n),
        }
    }

    fn start_balance(&mut self, n: usize) {
        if self.switches.kswapd_balance != KswapdBalance::Zones {
            return self.start_balance_node(n);
        }
        let scm = self.swap_cluster_max();
        let k = &mut self.mem.nodes[n].kswapd;
        k.state = KswapdState::Running;
        k.bal = Some(Balance {
            sc: ScanControl::kswapd(
                n,
                n % self.spec.machine.cpus.max(1) as usize,
                if self.switches.shrink_zone_bailout == ShrinkZoneBailout::SwapClusterMax {
                    scm
                } else {
                    u64::MAX
                },
            ),
            prio: DEF_PRIORITY,
            total_scanned: 0,
            all_zones_ok: true,
            under_min: false,
            end_zone: 0,
            i: 0,
            phase: BalancePhase::LoopAgain,
        });
        self.balance_pgdat_step(n);
    }

    /// kswapd after `balance_pgdat` returned: sleep [32], or nap first [≥33].
    fn kswapd_after_balance(&mut self, n: usize) {
        self.mem.nodes[n].kswapd.bal = None;
        self.mem.nodes[n].kswapd.node_bal = None;
        let futile = std::mem::take(&mut self.mem.nodes[n].kswapd.futile);
        let cpu = std::mem::take(&mut self.mem.nodes[n].kswapd_cpu_ns);
        if self.switches.kswapd_sleep == KswapdSleep::Schedule {
            self.mem.nodes[n].kswapd.state = KswapdState::Sleeping;
            self.bump_gen(Actor::Kswapd(n));
            return;
        }
        if !self.sleeping_prematurely(n, false) {
            let until = self.clock.now + cpu + 100 * MSEC;
            self.mem.nodes[n].kswapd.state = KswapdState::Napping(until);
            self.schedule(until, Actor::Kswapd(n));
        } else {
            self.stats.vm_events.kswapd_high_wmark_hit_quickly += 1;
            self.mem.nodes[n].kswapd.state = KswapdState::Sleeping;
            let period = cpu + cost::LOOP_MIN;
            let skipped = if futile && cpu == 0 {
                self.kswapd_spin_skip(n, period)
            } else {
                0
            };
            self.schedule(self.clock.now + (skipped + 1) * period, Actor::Kswapd(n));
        }
    }

    /// `balance_pgdat()` (reclaim-oom §8.3), resumable at its sleeps.
    fn balance_pgdat_step(&mut self, n: usize) {
        let mut b = self.mem.nodes[n].kswapd.bal.take().expect("balance state");
        // A node has at most one zone of each type (DMA, DMA32, Normal): a copy on the stack.
        let mut ids = [0u16; 3];
        let nz = self.mem.nodes[n].zones.len();
        ids[..nz].copy_from_slice(&self.mem.nodes[n].zones);
        let zones = &ids[..nz];
        loop {
            match b.phase {
                BalancePhase::LoopAgain => {
                    b.total_scanned = 0;
                    b.sc.nr_reclaimed = 0;
                    b.sc.may_writepage = true;
                    self.stats.vm_events.pageoutrun += 1;
                    b.prio = DEF_PRIORITY;
                    b.phase = BalancePhase::PriorityStart;
                }
                BalancePhase::PriorityStart => {
                    if b.prio == 0 {
                        self.disable_swap_token(); // "The swap token gets in the way of swapout"
                    }
                    match self.balance_end_zone(zones, &mut b) {
                        None => return self.balance_out(n, b),
                        Some(e) => {
                            b.end_zone = e;
                            b.i = 0;
                            b.phase = BalancePhase::Zones;
                        }
                    }
                }
                BalancePhase::Zones => {
                    if self.balance_zones(n, zones, &mut b) {
                        self.mem.nodes[n].kswapd.bal = Some(b);
                        return; // asleep
                    }
                    b.phase = BalancePhase::PriorityEnd;
                }
                BalancePhase::ZoneThrottled => {
                    self.leave_reclaim_waits(Actor::Kswapd(n));
                    b.phase = BalancePhase::Zones;
                }
                BalancePhase::Throttled => {
                    self.leave_congestion_wait(Actor::Kswapd(n));
                    if self.throttle_vm_writeout_over() {
                        let cpu = std::mem::take(&mut self.mem.nodes[n].kswapd_cpu_ns);
                        self.congestion_wait(Actor::Kswapd(n), 100 * MSEC, cpu);
                        self.mem.nodes[n].kswapd.bal = Some(b);
                        return;
                    }
                    b.phase = BalancePhase::Zones;
                }
                BalancePhase::PriorityEnd => {
                    if b.all_zones_ok {
                        return self.balance_out(n, b);
                    }
                    b.phase = BalancePhase::NextPriority;
                    self.balance_prio_end_sleep(n, &b);
                    self.mem.nodes[n].kswapd.bal = Some(b);
                    return;
                }
                BalancePhase::NextPriority => {
                    self.leave_congestion_wait(Actor::Kswapd(n));
                    if b.sc.nr_reclaimed >= self.swap_cluster_max() || b.prio == 0 {
                        return self.balance_out(n, b);
                    }
                    b.prio -= 1;
                    b.phase = BalancePhase::PriorityStart;
                }
            }
        }
    }

    /// The top of a `balance_pgdat()` priority: age the anon lists, and find the highest zone
    /// (`end_zone`) below its high watermark; `None` when every zone is balanced.
    fn balance_end_zone(&mut self, zones: &[u16], b: &mut Balance) -> Option<usize> {
        b.sc.resume = None;
        b.all_zones_ok = true;
        b.under_min = false;
        for i in (0..zones.len()).rev() {
            let zid = zones[i] as usize;
            if self.mem.zones[zid].all_unreclaimable && b.prio != DEF_PRIORITY {
                continue;
            }
            // Background anon aging: no nr_swap_pages check here.
            if self.mem.inactive_anon_is_low(zid) {
                let scm = self.swap_cluster_max();
                self.shrink_active_list(scm, zid, &mut b.sc, false);
            }
            if !self.mem.zone_ok(zid, Wmark::High, 1, 0) {
                return Some(i);
            }
        }
        None
    }

    /// Whether `balance_pgdat()`'s walk leaves zone `zid` alone (switch `kswapd_zone_skip`):
    /// free above `8 × high` (2.6.32), or above `high + min(low, ⌈present / 100⌉)` (2.6.39,
    /// `balance_gap`).
    pub fn kswapd_zone_ok(&self, zid: usize, classzone: usize) -> bool {
        let z = &self.mem.zones[zid];
        let mark = match self.switches.kswapd_zone_skip {
            KswapdZoneSkip::EightTimesHigh => 8 * z.wmark(Wmark::High),
            KswapdZoneSkip::HighPlusBalanceGap => {
                z.wmark(Wmark::High) + z.wmark(Wmark::Low).min(z.present.div_ceil(100))
            }
        };
        zone_watermark_ok(z.nr_free(), mark, z.lowmem_reserve[classzone], false, false)
    }

    /// `balance_pgdat()`'s walk up to `end_zone` at one priority: shrink each zone kswapd does
    /// not leave alone ([`Self::kswapd_zone_ok`]), then mark it all-unreclaimable or unbalanced. `true` when kswapd went to sleep
    /// (throttled); the walk resumes at the zone it stopped in.
    fn balance_zones(&mut self, n: usize, zones: &[u16], b: &mut Balance) -> bool {
        while b.i <= b.end_zone {
            let zid = zones[b.i] as usize;
            let end_class = self.mem.zones[zones[b.end_zone] as usize].ztype as usize;
            b.i += 1;
            if self.mem.zones[zid].all_unreclaimable && b.prio != DEF_PRIORITY {
                continue;
            }
            let before_shrink =
                self.switches.kswapd_balanced_check == KswapdBalancedCheck::BeforeShrink;
            if before_shrink && !self.mem.zone_ok(zid, Wmark::High, 1, end_class) {
                b.all_zones_ok = false;
            }
            b.sc.nr_scanned = 0;
            let immediate = b.sc.nr_immediate;
            if !self.kswapd_zone_ok(zid, end_class) {
                self.shrink_zone(b.prio, zid, &mut b.sc);
            }
            b.total_scanned += b.sc.nr_scanned;
            if let Some(reason) = b.sc.throttle.take() {
                b.i -= 1; // resume this zone after the sleep
                b.phase = BalancePhase::ZoneThrottled;
                let cpu = std::mem::take(&mut self.mem.nodes[n].kswapd_cpu_ns);
                self.throttle_sleep(Actor::Kswapd(n), zid, reason, cpu);
                return true;
            }
            // reclaimed_slab is zeroed after shrink_zone (vmscan.c:2051): only the slab the
            // shrinkers free counts for kswapd, not the buffer heads of the pages it freed.
            self.mem.nodes[n].kswapd.reclaimed_slab = 0;
            let lru_pages = (0..=b.end_zone)
                .map(|k| self.mem.zone_reclaimable_pages(zones[k] as usize))
                .sum();
            let nr_slab = self.shrink_slab(
                b.sc.nr_scanned,
                gfp::GFP_KERNEL,
                lru_pages,
                Actor::Kswapd(n),
            );
            b.sc.nr_reclaimed += std::mem::take(&mut self.mem.nodes[n].kswapd.reclaimed_slab);
            self.balance_zone_checks(zid, end_class, nr_slab, b);
            if self.switches.congestion_sleep == CongestionSleep::ReclaimThrottle
                && b.sc.nr_immediate > immediate
            {
                // 6.1 shrink_node(): kswapd's reclaim_throttle(VMSCAN_THROTTLE_WRITEBACK) once
                // per node, after the whole node was scanned; the walk goes on after it.
                b.phase = BalancePhase::ZoneThrottled;
                let cpu = std::mem::take(&mut self.mem.nodes[n].kswapd_cpu_ns);
                self.throttle_sleep(Actor::Kswapd(n), zid, Throttle::Immediate, cpu);
                return true;
            }
            if self.throttle_vm_writeout_over() {
                b.phase = BalancePhase::Throttled;
                let cpu = std::mem::take(&mut self.mem.nodes[n].kswapd_cpu_ns);
                self.congestion_wait(Actor::Kswapd(n), 100 * MSEC, cpu);
                return true;
            }
        }
        false
    }

    /// After shrinking zone `zid` in `balance_pgdat()`: clear a balanced zone's reclaim flags,
    /// mark it all-unreclaimable past 6× its reclaimable pages scanned, and note whether it is
    /// still below high (and min) by the `kswapd_balanced_check` switch.
    fn balance_zone_checks(&mut self, zid: usize, end_class: usize, nr_slab: u64, b: &mut Balance) {
        if self.mem.zone_ok(zid, Wmark::High, 1, end_class) {
            // [2.6.37+] a balanced zone is no longer congested, dirty or under writeback
            // (ZONE_* flags; never set in 2.6.3x).
            self.mem.zones[zid].flags = Default::default();
        }
        if self.mem.zones[zid].all_unreclaimable {
            return;
        }
        // Only in a pass whose shrink_slab() freed nothing (`nr_slab == 0`, vmscan.c:2056).
        // [4.12+] NR_PAGES_SCANNED and the all_unreclaimable marking are gone.
        if nr_slab == 0
            && !self.switches.kswapd_failures
            && self.mem.zones[zid].pages_scanned >= 6 * self.mem.zone_reclaimable_pages(zid)
        {
            self.mem.zones[zid].all_unreclaimable = true;
        }
        if self.switches.kswapd_balanced_check == KswapdBalancedCheck::BeforeShrink {
            if !self.mem.zone_ok(zid, Wmark::Min, 1, end_class) {
                b.under_min = true;
            }
        } else if !self.mem.zone_ok(zid, Wmark::High, 1, end_class) {
            b.all_zones_ok = false;
            if !self.mem.zone_ok(zid, Wmark::Min, 1, end_class) {
                b.under_min = true;
            }
        }
    }

    /// The end of an unbalanced `balance_pgdat()` priority: `congestion_wait(HZ/10)` once it
    /// scanned at priority < 10, unless a zone is below min and `kswapd_congestion_wait`
    /// skips it; otherwise go on after the CPU time spent.
    fn balance_prio_end_sleep(&mut self, n: usize, b: &Balance) {
        self.mem.nodes[n].kswapd_cpu_ns += cost::LOOP_MIN;
        let cpu = std::mem::take(&mut self.mem.nodes[n].kswapd_cpu_ns);
        if b.total_scanned > 0 && b.prio < DEF_PRIORITY - 2 {
            let skip = self.switches.kswapd_congestion_wait == KswapdCongestionWait::SkipUnderMin
                && b.under_min;
            if !skip {
                self.congestion_wait(Actor::Kswapd(n), 100 * MSEC, cpu);
                return;
            }
            self.stats.vm_events.kswapd_skip_congestion_wait += 1;
        }
        self.schedule(self.clock.now + cpu, Actor::Kswapd(n));
    }

    /// The `out:` label of `balance_pgdat`: start over while some zone is below high.
    fn balance_out(&mut self, n: usize, mut b: Balance) {
        if b.all_zones_ok {
            return self.kswapd_after_balance(n);
        }
        if self.switches.kswapd_failures {
            // [4.12+] the end of balance_pgdat(): a run that freed nothing is a failure; kswapd
            // runs again unless that makes the node hopeless (prepare_kswapd_sleep()).
            if b.sc.nr_reclaimed == 0 {
                self.mem.nodes[n].kswapd_failures += 1;
            }
            if self.pgdat_hopeless(n) {
                return self.kswapd_after_balance(n);
            }
        }
        b.phase = BalancePhase::LoopAgain;
        self.mem.nodes[n].kswapd_cpu_ns += cost::LOOP_MIN;
        let cpu = std::mem::take(&mut self.mem.nodes[n].kswapd_cpu_ns);
        self.mem.nodes[n].kswapd.bal = Some(b);
        self.schedule(self.clock.now + cpu, Actor::Kswapd(n));
    }
}

/// The parts of this file that read or change memory only.
impl super::memory::Memory {
    /// `inactive_anon_is_low()`.
    fn inactive_anon_is_low(&self, zid: usize) -> bool {
        let z = &self.zones[zid];
        z.nr_lru(LruList::InactiveAnon) * z.inactive_ratio < z.nr_lru(LruList::ActiveAnon)
    }

    /// `inactive_file_is_low()`.
    fn inactive_file_is_low(&self, zid: usize) -> bool {
        let z = &self.zones[zid];
        z.nr_lru(LruList::ActiveFile) > z.nr_lru(LruList::InactiveFile)
    }

    fn inactive_list_is_low(&self, zid: usize, file: bool) -> bool {
        if file {
            self.inactive_file_is_low(zid)
        } else {
            self.inactive_anon_is_low(zid)
        }
    }

    /// `too_many_isolated()`.
    fn too_many_isolated(&self, zid: usize, file: bool) -> bool {
        let z = &self.zones[zid];
        if file {
            z.stat.nr_isolated_file > z.nr_lru(LruList::InactiveFile)
        } else {
            z.stat.nr_isolated_anon > z.nr_lru(LruList::InactiveAnon)
        }
    }

    fn zone_ok(&self, zid: usize, w: Wmark, mult: u64, classzone: usize) -> bool {
        let z = &self.zones[zid];
        zone_watermark_ok(
            z.nr_free(),
            z.wmark(w) * mult,
            z.lowmem_reserve[classzone],
            false,
            false,
        )
    }

    /// `page_referenced()`: test-and-clear the young ptes of a mapped page (and, [32–33],
    /// PG_referenced as well). A pte is young since its fault (`YOUNG`) or because the workload
    /// touched the page again since the last test (`hot.rs`). A page the swap token's holder
    /// maps while it is in a fault counts as referenced (`token`, `mm/thrash.rs`).
    #[inline]
    fn page_referenced(
        &mut self,
        id: PageId,
        clear_pg_referenced: bool,
        now: SimTime,
        token: Option<TokenHolder>,
    ) -> bool {
        let p = &mut self.pages[id as usize];
        let mut r = false;
        if clear_pg_referenced && p.has(pg::REFERENCED) {
            p.flags &= !pg::REFERENCED;
            r = true;
        }
        if p.has(pg::MAPPED) {
            if p.has(pg::YOUNG) {
                p.flags &= !pg::YOUNG;
                r = true;
            }
            if self.hot.any() {
                let p = self.pages[id as usize];
                r |= self.hot.test_and_clear_young(id, &p, now);
            }
            r |= token.is_some_and(|h| h.maps(&self.pages[id as usize], &self.token_segments));
        }
        r
    }

    /// `page_mapping_inuse()`: mapped, in the swap cache, or its file is mmapped (never here).
    fn page_mapping_inuse(&self, id: PageId) -> bool {
        let p = &self.pages[id as usize];
        p.has(pg::MAPPED) || p.has(pg::SWAPCACHE)
    }

    /// `page_check_references()` [≥34].
    fn page_check_references(
        &mut self,
        id: PageId,
        now: SimTime,
        token: Option<TokenHolder>,
    ) -> PageRef {
        let refs_pte = self.page_referenced(id, false, now, token);
        let p = &mut self.pages[id as usize];
        let refs_page = p.has(pg::REFERENCED);
        p.flags &= !pg::REFERENCED;
        if refs_pte {
            if p.has(pg::ANON) {
                return PageRef::Activate;
            }
            p.flags |= pg::REFERENCED;
            return if refs_page {
                PageRef::Activate
            } else {
                PageRef::Keep
            };
        }
        if refs_page {
            PageRef::ReclaimClean
        } else {
            PageRef::Reclaim
        }
    }

    /// Isolates up to `n` pages from the tail of list `l` into `self.scratch`; returns how many
    /// were examined (all of them: no page on a list is being freed concurrently in the model).
    fn isolate_lru_pages(&mut self, n: u64, zid: usize, l: LruList) -> u64 {
        self.scratch.clear();
        let mut examined = 0;
        while examined < n {
            let id = self.zones[zid].lru[l.idx()].tail;
            if id == super::page::NIL {
                break;
            }
            examined += 1;
            self.lru_del(id, Place::Isolated);
            self.scratch.push(id);
        }
        let z = &mut self.zones[zid];
        if l.is_file() {
            z.stat.nr_isolated_file += examined;
        } else {
            z.stat.nr_isolated_anon += examined;
        }
        examined
    }

    fn unisolate(&mut self, zid: usize, file: bool, n: u64) {
        let z = &mut self.zones[zid];
        if file {
            z.stat.nr_isolated_file -= n;
        } else {
            z.stat.nr_isolated_anon -= n;
        }
    }
}
