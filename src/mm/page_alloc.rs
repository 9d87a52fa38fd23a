//! The page allocator: `__alloc_pages_nodemask()`, `get_page_from_freelist()`,
//! `__alloc_pages_slowpath()`, `__alloc_pages_direct_reclaim()`, `__alloc_pages_may_oom()` and the
//! order-0 free path with per-CPU lists (`free_hot_cold_page`, `free_pcppages_bulk`,
//! `rmqueue_bulk`), as in `mm/page_alloc.c` 2.6.32–2.6.36 (reclaim-oom §1.4, §2).
//!
//! The slow path sleeps (congestion waits, the 1-jiffy OOM naps), so it is written as a state
//! machine kept on the task ([`AllocCtx`]): each call resumes where the last sleep left it.
//! Every allocation is order 0; the order > 0 branches (lumpy reclaim, compaction, the pcp drain
//! that only order > 0 triggers before 2.6.36) are therefore never taken.

use super::page::{pg, PageId, Place};
use super::vmscan::DirectReclaim;
use super::zone::zone_watermark_ok;
use super::{gfp, Actor, Machine};
use crate::kernel::{AllocRetry, FairZoneAlloc};
use crate::sim::MSEC;

/// `MAX_RECLAIM_RETRIES` [4.7+]: consecutive direct-reclaim passes that freed nothing before the
/// OOM path (4.7 mm/page_alloc.c; mm/internal.h from 4.12).
pub const MAX_RECLAIM_RETRIES: u32 = 16;

/// `ALLOC_*` flags of `get_page_from_freelist`.
pub mod alloc_flags {
    /// Use the min watermark.
    pub const WMARK_MIN: u32 = 0;
    /// Use the low watermark.
    pub const WMARK_LOW: u32 = 1;
    /// Use the high watermark.
    pub const WMARK_HIGH: u32 = 2;
    /// Ignore watermarks.
    pub const NO_WATERMARKS: u32 = 4;
    /// `__GFP_HIGH`: halve the mark.
    pub const HIGH: u32 = 0x10;
    /// Atomic / rt: a quarter off.
    pub const HARDER: u32 = 0x20;
    /// Check cpuset.
    pub const CPUSET: u32 = 0x40;
}

/// Where the slow path resumes after a sleep.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AllocPhase {
    /// Step 1: wake kswapd, try at MIN.
    Restart,
    /// Step 4: the reserves (if allowed), then direct reclaim.
    Rebalance,
    /// Inside `try_to_free_pages` (which sleeps at its own points).
    Reclaiming,
    /// After the 1-jiffy sleep in `out_of_memory`, holding the zonelist OOM lock.
    OomSleepHoldingLock,
    /// After the 1-jiffy sleep because another task holds the OOM lock.
    OomLockBusySleep,
    /// After `congestion_wait(BLK_RW_ASYNC, HZ/50)` in the retry loop [≤4.6], or [4.7–5.15]
    /// `should_reclaim_retry()`'s `congestion_wait(BLK_RW_ASYNC, HZ/10)`.
    RetrySleep,
}

/// An allocation in progress in the slow path.
#[derive(Clone, Debug)]
pub struct AllocCtx {
    /// The caller's gfp mask.
    pub gfp: u32,
    /// Where to resume.
    pub phase: AllocPhase,
    /// `pages_reclaimed` of `should_alloc_retry`.
    pub pages_reclaimed: u64,
    /// `did_some_progress` of the last direct reclaim.
    pub progress: u64,
    /// The direct reclaim pass, while one runs.
    pub reclaim: Option<DirectReclaim>,
    /// [4.7+] `no_progress_loops`: consecutive passes that freed nothing.
    pub no_progress_loops: u32,
}

/// What an allocation attempt returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Alloc {
    /// A page (its zone counters already charged).
    Page(PageId),
    /// The task went to sleep; its wake-up is scheduled. Call again when it runs.
    Sleep,
    /// The allocation failed (an OOM victim that even the reserves could not serve).
    Fail,
}

impl Machine {
    /// `cpuset_zone_allowed_softwall()` for task `t`.
    pub fn cpuset_softwall(&self, t: usize, zid: usize, gfp_mask: u32) -> bool {
        let task = &self.tasks[t];
        let node = self.mem.zones[zid].node as usize;
        if task.mems[node] || task.memdie {
            return true;
        }
        if gfp_mask & gfp::HARDWALL != 0 {
            return false;
        }
        if task.exiting {
            return true;
        }
        // The nearest mem_exclusive/mem_hardwall ancestor: the task's own cpuset when marked
        // hardwall, otherwise the top cpuset, which holds every node.
        !task.cpuset_hardwall
    }

    /// `cpuset_zone_allowed_hardwall()` for task `t`.
    pub fn cpuset_hardwall(&self, t: usize, zid: usize) -> bool {
        let task = &self.tasks[t];
        task.mems[self.mem.zones[zid].node as usize] || task.memdie
    }

    /// The zones `cpuset_zone_allowed_softwall()` can admit for task `t` under `gfp_mask` and
    /// `flags`, in zonelist order: the whole zonelist when every zone passes (no ALLOC_CPUSET,
    /// an OOM victim, or a spill without `__GFP_HARDWALL` out of a cpuset that is not
    /// mem_hardwall or from an exiting task), otherwise exactly the zones of its cpuset's nodes.
    fn softwall_zonelist(&self, t: usize, gfp_mask: u32, flags: u32) -> &[u16] {
        let task = &self.tasks[t];
        let everywhere = flags & alloc_flags::CPUSET == 0
            || task.memdie
            || gfp_mask & gfp::HARDWALL == 0 && (task.exiting || !task.cpuset_hardwall);
        if everywhere {
            &task.zonelist
        } else {
            &task.mems_zonelist
        }
    }

    /// `get_page_from_freelist()` for order 0: the first zone of the zonelist that the cpuset
    /// allows (zones it does not allow are never in the list walked, see
    /// [`Machine::softwall_zonelist`]), that is [3.3+] within its dirty limit for a write, and
    /// whose free pages are above the watermark. [3.12–4.7] The low-watermark walk is first a
    /// fair pass (`ALLOC_FAIR`, see [`Walk`]); [3.15–4.7] when it fails after skipping a local
    /// zone that used its batch, the local batches are refilled and the list walked again
    /// without fairness (`reset_fair` of 4.7 mm/page_alloc.c; 3a025760fc15); [3.12–3.14] the
    /// fair pass never leaves the preferred node and a failure goes to the slow path, whose
    /// `prepare_slowpath()` refills the batches.
    pub fn get_page_from_freelist(
        &mut self,
        t: usize,
        gfp_mask: u32,
        flags: u32,
    ) -> Option<PageId> {
        let mut from = 0;
        let mut fair = flags & 3 == alloc_flags::WMARK_LOW
            && matches!(
                self.switches.fair_zone_alloc,
                FairZoneAlloc::FastPath | FairZoneAlloc::Zone
            );
        loop {
            let walk = self.first_admissible_zone(t, gfp_mask, flags, from, fair);
            self.stats.counters.zone_dirty_skips += walk.dirty_skips;
            let Some((k, zid)) = walk.found else {
                // [3.12–3.14] No rescan: the slow path refills the batches.
                if !walk.fair_skipped || self.switches.fair_zone_alloc == FairZoneAlloc::FastPath {
                    return None;
                }
                let node = self.mem.zones[self.tasks[t].mems_zonelist[0] as usize].node;
                self.mem.reset_alloc_batches(node);
                (fair, from) = (false, 0);
                continue;
            };
            let cpu = self.tasks[t].cpu;
            if let Some(id) = self.mem.buffered_rmqueue(zid, cpu) {
                return Some(id);
            }
            from = k + 1; // only possible without watermarks: the zone has no free page
        }
    }

    /// The fast path's `get_page_from_freelist(gfp | __GFP_HARDWALL, ALLOC_WMARK_LOW |
    /// ALLOC_CPUSET)` for a task that is not an OOM victim and an allocation without
    /// `__GFP_WRITE` (no dirty-limit test): the cpuset's zones only, starting after the
    /// `Task::fast_skip` zones known to be at or below their low watermark.
    fn get_page_fast(&mut self, t: usize) -> Option<PageId> {
        let task = &self.tasks[t];
        let start = task.fast_skip;
        let list = &task.mems_zonelist;
        let found = list[start..]
            .iter()
            .position(|&zid| self.fast_watermark_ok(t, zid as usize));
        let Some(k) = found.map(|k| start + k) else {
            self.tasks[t].fast_skip = list.len();
            return None;
        };
        let (zid, cpu) = (list[k] as usize, task.cpu);
        self.tasks[t].fast_skip = k; // every zone before k is at or below its low watermark
        let zid = match self.switches.fair_zone_alloc {
            FairZoneAlloc::Zone => self.fair_fast_zone(t, k),
            FairZoneAlloc::FastPath => self.local_fast_zone(t, k)?,
            FairZoneAlloc::Off | FairZoneAlloc::Removed => zid,
        };
        self.mem.buffered_rmqueue(zid, cpu)
    }

    /// [3.12–3.14] The fast path is the fair pass (81c0a2bb515f, with fff4068cba48's local
    /// zones only), given that position `k` of the cpuset's zonelist holds the first zone above
    /// its low watermark: the first zone from `k` of the preferred zone's node with
    /// `NR_ALLOC_BATCH` left and above the mark; `None` (the slow path) if there is none, even
    /// if a remote zone has free pages.
    fn local_fast_zone(&self, t: usize, k: usize) -> Option<usize> {
        let list = &self.tasks[t].mems_zonelist;
        let zones = &self.mem.zones;
        let node = zones[list[0] as usize].node;
        list[k..]
            .iter()
            .map(|&zid| zid as usize)
            .filter(|&zid| zones[zid].node == node && zones[zid].alloc_batch > 0)
            .find(|&zid| self.fast_watermark_ok(t, zid))
    }

    /// [3.12–4.7] The fair pass of the fast path, given that position `k` of the cpuset's
    /// zonelist holds the first zone above its low watermark: the first zone from `k` of the
    /// preferred zone's node with `NR_ALLOC_BATCH` left and above the mark. A remote zone, or
    /// the list's end, after a local zone skipped for its batch refills the local batches and
    /// takes the zone at `k`, as the kernel's unfair rescan (`reset_fair`, 4.7) would.
    fn fair_fast_zone(&mut self, t: usize, k: usize) -> usize {
        let list = &self.tasks[t].mems_zonelist;
        let zones = &self.mem.zones;
        let node = zones[list[0] as usize].node;
        let depleted = |zid: u16| {
            let z = &zones[zid as usize];
            z.node == node && z.alloc_batch <= 0
        };
        // Zones before k fail the mark, but the kernel tests the batch first.
        let mut skipped = list[..k].iter().any(|&zid| depleted(zid));
        for &zid in &list[k..] {
            if zones[zid as usize].node != node {
                if !skipped {
                    return zid as usize;
                }
                break;
            }
            if depleted(zid) {
                skipped = true;
            } else if self.fast_watermark_ok(t, zid as usize) {
                return zid as usize;
            }
        }
        let zid = list[k] as usize;
        self.mem.reset_alloc_batches(node);
        zid
    }

    /// The low-watermark test of the fast path for task `t` on zone `zid`.
    pub fn fast_watermark_ok(&self, t: usize, zid: usize) -> bool {
        let z = &self.mem.zones[zid];
        zone_watermark_ok(
            z.nr_free(),
            z.watermark[alloc_flags::WMARK_LOW as usize],
            z.lowmem_reserve[self.tasks[t].classzone],
            false,
            false,
        )
    }

    /// The zone walk of `get_page_from_freelist()` from position `from` of the zonelist, as a
    /// [`Walk`]; `fair`: the fair pass. It changes nothing, so the walk borrows the zones instead
    /// of indexing the machine once per test.
    fn first_admissible_zone(
        &self,
        t: usize,
        gfp_mask: u32,
        flags: u32,
        from: usize,
        fair: bool,
    ) -> Walk {
        let classzone = self.tasks[t].classzone;
        let dirty_check = flags & 3 == alloc_flags::WMARK_LOW && gfp_mask & gfp::WRITE != 0;
        let watermarks = flags & alloc_flags::NO_WATERMARKS == 0;
        let (high, harder) = (
            flags & alloc_flags::HIGH != 0,
            flags & alloc_flags::HARDER != 0,
        );
        let mark = (flags & 3) as usize;
        let list = self.softwall_zonelist(t, gfp_mask, flags);
        let node = if fair {
            self.mem.zones[self.tasks[t].mems_zonelist[0] as usize].node
        } else {
            0
        };
        // [3.12–3.14] The fair pass never leaves the preferred node (fff4068cba48).
        let local_only = self.switches.fair_zone_alloc == FairZoneAlloc::FastPath;
        let mut walk = Walk::default();
        for (k, &zid) in list.iter().enumerate().skip(from) {
            let zid = zid as usize;
            debug_assert!(
                flags & alloc_flags::CPUSET == 0 || self.cpuset_softwall(t, zid, gfp_mask)
            );
            // [3.12–4.7] ALLOC_FAIR: a local zone that used its batch waits for the others; the
            // first remote zone ends the fair pass if one did (4.7 `reset_fair`).
            if fair {
                let z = &self.mem.zones[zid];
                if z.node != node && (walk.fair_skipped || local_only) {
                    return walk;
                }
                if z.node == node && z.alloc_batch <= 0 {
                    walk.fair_skipped = true;
                    continue;
                }
            }
            // [3.3+] spread dirty pages: the fast path skips zones (nodes) over their limit.
            if dirty_check && !self.zone_dirty_ok(zid) {
                walk.dirty_skips += 1;
                continue;
            }
            let z = &self.mem.zones[zid];
            if watermarks
                && !zone_watermark_ok(
                    z.nr_free(),
                    z.watermark[mark],
                    z.lowmem_reserve[classzone],
                    high,
                    harder,
                )
            {
                continue;
            }
            walk.found = Some((k, zid));
            return walk;
        }
        walk
    }

    /// `free_hot_cold_page()`: to `cpu`'s list; past `pcp.high`, `free_pcppages_bulk` moves a
    /// batch to the buddy lists, which resets `pages_scanned` (the zone's, and [4.8–4.11] the
    /// node's) and the all-unreclaimable state.
    pub fn free_page(&mut self, id: PageId, cpu: usize) {
        self.tracker
            .note_free(id, self.mem.pages[id as usize].flags, self.clock.now);
        if self.mem.hot.any() {
            self.mem.hot.page_freed(id); // a swap-in fault no longer finds it in the swap cache
        }
        let p = &mut self.mem.pages[id as usize];
        debug_assert!(
            p.place == Place::Held || p.place == Place::Isolated,
            "freeing a page in {:?}",
            p.place
        );
        debug_assert_eq!(
            p.flags & (pg::DIRTY | pg::WRITEBACK | pg::LRU),
            0,
            "freeing a busy page"
        );
        if p.has(pg::MLOCKED) {
            // free_page_mlock()
            self.stats.vm_events.unevictable_pgs_mlockfreed += 1;
            let zid = p.zone as usize;
            self.mem.zones[zid].stat.nr_mlock -= 1;
        }
        let p = &mut self.mem.pages[id as usize];
        p.flags = 0;
        p.owner = u32::MAX;
        p.place = Place::Pcp;
        let zid = p.zone as usize;
        self.stats.vm_events.pgfree += 1;
        let z = &mut self.mem.zones[zid];
        z.pcp[cpu].push(id);
        if z.pcp[cpu].len() >= z.pcp_high {
            let batch = z_batch(z.pcp_batch);
            self.free_pcppages_bulk(zid, cpu, batch);
        }
    }

    /// `free_pcppages_bulk()`: `count` pages from the cold end of a per-CPU list to the buddy.
    pub fn free_pcppages_bulk(&mut self, zid: usize, cpu: usize, count: usize) {
        // [4.8–4.11] the node's NR_PAGES_SCANNED, whichever of its zones the pages go to.
        let node = self.mem.zones[zid].node as usize;
        self.mem.nodes[node].pages_scanned = 0;
        let z = &mut self.mem.zones[zid];
        z.all_unreclaimable = false;
        z.pages_scanned = 0;
        let n = count.min(z.pcp[cpu].len());
        for &id in &z.pcp[cpu][..n] {
            self.mem.pages[id as usize].place = Place::Buddy;
        }
        z.free.extend(z.pcp[cpu].drain(..n));
        self.mem.vm_stat.nr_free += n as u64;
        if n > 0 {
            // The zone may be above its watermark again: walks must look at it.
            for &(t, pos) in &self.mem.zone_users[zid] {
                let skip = &mut self.tasks[t as usize].fast_skip;
                *skip = (*skip).min(pos as usize);
            }
        }
    }

    /// `drain_all_pages()`: every CPU's lists of every zone to the buddy.
    pub fn drain_all_pages(&mut self) {
        for zid in 0..self.mem.zones.len() {
            for cpu in 0..self.mem.zones[zid].pcp.len() {
                let n = self.mem.zones[zid].pcp[cpu].len();
                if n > 0 {
                    self.free_pcppages_bulk(zid, cpu, n);
                }
            }
        }
    }

    /// `gfp_to_alloc_flags()`.
    fn gfp_to_alloc_flags(&self, t: usize, gfp_mask: u32) -> u32 {
        let mut f = alloc_flags::WMARK_MIN | alloc_flags::CPUSET;
        if gfp_mask & gfp::HIGH != 0 {
            f |= alloc_flags::HIGH;
        }
        if gfp_mask & gfp::WAIT == 0 {
            f |= alloc_flags::HARDER;
            f &= !alloc_flags::CPUSET;
        }
        if self.tasks[t].memdie {
            f |= alloc_flags::NO_WATERMARKS;
        }
        f
    }

    /// `wake_all_kswapd()`: `wakeup_kswapd()` for every zone of the zonelist. `wakeup_kswapd`
    /// does nothing for a zone outside the task's cpuset (hardwall), so only the cpuset's zones
    /// are visited unless the task is an OOM victim (which every zone admits).
    fn wake_all_kswapd(&mut self, t: usize) {
        for k in 0..self.hardwall_zonelist(t).len() {
            let zid = self.hardwall_zonelist(t)[k] as usize;
            self.wakeup_kswapd(zid, Some(t));
        }
    }

    /// The zones `cpuset_zone_allowed_hardwall()` admits for task `t`, in zonelist order: its
    /// cpuset's, or every zone for an OOM victim.
    fn hardwall_zonelist(&self, t: usize) -> &[u16] {
        let task = &self.tasks[t];
        if task.memdie {
            &task.zonelist
        } else {
            &task.mems_zonelist
        }
    }

    /// Allocates one order-0 page for task `t` with `gfp_mask`, resuming a slow path in progress.
    pub fn alloc_page(&mut self, t: usize, gfp_mask: u32) -> Alloc {
        self.tasks[t].pending_cpu_ns += self.granularity.cost(super::cost::ALLOC_PAGE);
        if self.tasks[t].alloc.is_none() {
            // Fast path: the low watermark, strictly within the cpuset.
            let page = if gfp_mask & gfp::WRITE == 0 && !self.tasks[t].memdie {
                self.get_page_fast(t)
            } else {
                let f = alloc_flags::WMARK_LOW | alloc_flags::CPUSET;
                self.get_page_from_freelist(t, gfp_mask | gfp::HARDWALL, f)
            };
            if let Some(id) = page {
                return Alloc::Page(id);
            }
            self.tasks[t].alloc = Some(AllocCtx {
                gfp: gfp_mask,
                phase: AllocPhase::Restart,
                pages_reclaimed: 0,
                progress: 0,
                reclaim: None,
                no_progress_loops: 0,
            });
        }
        let r = self.alloc_pages_slowpath(t);
        if r != Alloc::Sleep {
            self.tasks[t].alloc = None;
        }
        r
    }

    /// `__alloc_pages_slowpath()` (reclaim-oom §2.5), resumable.
    fn alloc_pages_slowpath(&mut self, t: usize) -> Alloc {
        // Every iteration that does not sleep either returns or changes phase; the bound is a
        // guard against a bug turning into a hang.
        for _ in 0..1_000 {
            let (gfp_mask, phase) = {
                let ctx = self.tasks[t]
                    .alloc
                    .as_ref()
                    .expect("slow path without context");
                (ctx.gfp, ctx.phase)
            };
            match phase {
                AllocPhase::Restart => {
                    self.wake_all_kswapd(t);
                    if self.switches.fair_zone_alloc == FairZoneAlloc::FastPath {
                        // 3.12–3.14 prepare_slowpath(): the local batches are refilled here.
                        let node = self.mem.zones[self.tasks[t].mems_zonelist[0] as usize].node;
                        self.mem.reset_alloc_batches(node);
                    }
                    let f = self.gfp_to_alloc_flags(t, gfp_mask);
                    if let Some(id) =
                        self.get_page_from_freelist(t, gfp_mask, f & !alloc_flags::NO_WATERMARKS)
                    {
                        return Alloc::Page(id);
                    }
                    self.set_phase(t, AllocPhase::Rebalance);
                }
                AllocPhase::Rebalance => {
                    let f = self.gfp_to_alloc_flags(t, gfp_mask);
                    if f & alloc_flags::NO_WATERMARKS != 0 {
                        // __alloc_pages_high_priority(): every allowed zone, no watermark.
                        if let Some(id) = self.get_page_from_freelist(t, gfp_mask, f) {
                            return Alloc::Page(id);
                        }
                    }
                    if self.tasks[t].memdie {
                        return Alloc::Fail; // an OOM victim fails rather than loops
                    }
                    self.tasks[t].pf |= super::pf::MEMALLOC;
                    let dr = self.try_to_free_pages_start(t, gfp_mask);
                    let c = self.tasks[t].alloc.as_mut().expect("ctx");
                    c.reclaim = Some(dr);
                    c.phase = AllocPhase::Reclaiming;
                }
                AllocPhase::Reclaiming => {
                    let Some(progress) = self.try_to_free_pages_step(t) else {
                        return Alloc::Sleep;
                    };
                    self.tasks[t].pf &= !super::pf::MEMALLOC;
                    if let Some(r) = self.after_direct_reclaim(t, gfp_mask, progress) {
                        return r;
                    }
                }
                AllocPhase::OomSleepHoldingLock => {
                    self.clear_zonelist_oom(t);
                    self.set_phase(t, AllocPhase::Restart);
                }
                AllocPhase::OomLockBusySleep => self.set_phase(t, AllocPhase::Restart),
                AllocPhase::RetrySleep => {
                    self.leave_congestion_wait(Actor::Task(t));
                    // 2.6.36 `goto rebalance`; [4.7+] `goto retry` (kswapd, the freelist again).
                    let next = if self.switches.alloc_retry == AllocRetry::ShouldAllocRetry {
                        AllocPhase::Rebalance
                    } else {
                        AllocPhase::Restart
                    };
                    self.set_phase(t, next);
                }
            }
        }
        unreachable!("allocator slow path made no progress in 1000 steps");
    }

    fn set_phase(&mut self, t: usize, phase: AllocPhase) {
        self.tasks[t].alloc.as_mut().expect("ctx").phase = phase;
    }

    /// The rest of `__alloc_pages_direct_reclaim()` and slow-path steps 8–10 once a
    /// `try_to_free_pages` pass returned `progress`. `None`: carry on in the new phase.
    fn after_direct_reclaim(&mut self, t: usize, gfp_mask: u32, progress: u64) -> Option<Alloc> {
        if progress == 0 {
            self.stats.counters.reclaim_no_progress += 1;
            self.observe_no_progress(t);
        }
        let f = self.gfp_to_alloc_flags(t, gfp_mask) & !alloc_flags::NO_WATERMARKS;
        if progress > 0 {
            if let Some(id) = self.get_page_from_freelist(t, gfp_mask, f) {
                return Some(Alloc::Page(id));
            }
            if self.switches.drain_pcp_after_reclaim {
                // Drain every CPU's lists and try once more.
                self.drain_all_pages();
                if let Some(id) = self.get_page_from_freelist(t, gfp_mask, f) {
                    return Some(Alloc::Page(id));
                }
            }
        }
        {
            let c = self.tasks[t].alloc.as_mut().expect("ctx");
            c.progress = progress;
            c.reclaim = None;
        }
        if self.switches.alloc_retry != AllocRetry::ShouldAllocRetry {
            return self.reclaim_retry(t, gfp_mask, progress);
        }
        if progress == 0 && gfp_mask & gfp::FS != 0 && gfp_mask & gfp::NORETRY == 0 {
            return self.alloc_pages_may_oom(t, gfp_mask);
        }
        // should_alloc_retry(): order 0 always retries, after congestion_wait(HZ/50).
        let c = self.tasks[t].alloc.as_mut().expect("ctx");
        c.pages_reclaimed += progress;
        c.phase = AllocPhase::RetrySleep;
        let cpu = std::mem::take(&mut self.tasks[t].pending_cpu_ns);
        self.congestion_wait(Actor::Task(t), 20 * MSEC, cpu);
        Some(Alloc::Sleep)
    }

    /// [4.7+] the slow path after a direct-reclaim pass: `no_progress_loops`, then
    /// `should_reclaim_retry()` (research 14 §2.1): retry while fewer than 17 consecutive passes
    /// freed nothing and some allowed zone would pass its min watermark with its reclaimable
    /// pages counted as free; otherwise `__alloc_pages_may_oom()`. `None`: retry at once.
    fn reclaim_retry(&mut self, t: usize, gfp_mask: u32, progress: u64) -> Option<Alloc> {
        let loops = {
            let c = self.tasks[t].alloc.as_mut().expect("ctx");
            c.no_progress_loops = if progress > 0 {
                0
            } else {
                c.no_progress_loops + 1
            };
            c.no_progress_loops
        };
        let longest = &mut self.stats.counters.no_progress_loops_max;
        *longest = (*longest).max(u64::from(loops));
        if loops > MAX_RECLAIM_RETRIES {
            return self.alloc_pages_may_oom(t, gfp_mask);
        }
        let Some(zid) = self.reclaim_retry_zone(t, gfp_mask, loops) else {
            return self.alloc_pages_may_oom(t, gfp_mask);
        };
        let z = &self.mem.zones[zid];
        let write_pending = z.stat.nr_writeback + z.stat.nr_dirty;
        if progress == 0
            && self.switches.alloc_retry != AllocRetry::ReclaimRetryNosleep
            && 2 * write_pending > self.mem.zone_reclaimable_pages(zid)
        {
            // [4.7–5.15] "wait for some write requests to complete then retry".
            self.set_phase(t, AllocPhase::RetrySleep);
            let cpu = std::mem::take(&mut self.tasks[t].pending_cpu_ns);
            self.congestion_wait(Actor::Task(t), 100 * MSEC, cpu);
            return Some(Alloc::Sleep);
        }
        // cond_resched() and `goto retry`.
        self.set_phase(t, AllocPhase::Restart);
        None
    }

    /// `should_reclaim_retry()`'s zone walk: the first zone of the task's cpuset whose free
    /// pages plus `zone_reclaimable_pages()` (dirty and writeback pages included; [4.7–4.11]
    /// less `⌈loops × reclaimable / 16⌉`) pass its min watermark with the caller's flags.
    fn reclaim_retry_zone(&self, t: usize, gfp_mask: u32, loops: u32) -> Option<usize> {
        let f = self.gfp_to_alloc_flags(t, gfp_mask);
        let (high, harder) = (f & alloc_flags::HIGH != 0, f & alloc_flags::HARDER != 0);
        let classzone = self.tasks[t].classzone;
        let backoff = self.switches.alloc_retry == AllocRetry::ReclaimRetryBackoff;
        self.hardwall_zonelist(t)
            .iter()
            .map(|&z| z as usize)
            .find(|&zid| {
                let reclaimable = self.mem.zone_reclaimable_pages(zid);
                let mut available = reclaimable;
                if backoff {
                    let n = u64::from(loops);
                    available -= (n * reclaimable).div_ceil(u64::from(MAX_RECLAIM_RETRIES));
                }
                let z = &self.mem.zones[zid];
                available += z.nr_free();
                zone_watermark_ok(
                    available,
                    z.watermark[alloc_flags::WMARK_MIN as usize],
                    z.lowmem_reserve[classzone],
                    high,
                    harder,
                )
            })
    }

    /// `__alloc_pages_may_oom()` (reclaim-oom §2.7).
    fn alloc_pages_may_oom(&mut self, t: usize, gfp_mask: u32) -> Option<Alloc> {
        let modern = self.switches.alloc_retry != AllocRetry::ShouldAllocRetry;
        if modern {
            // Every way back to `retry` from here sets did_some_progress: no_progress_loops = 0.
            self.tasks[t].alloc.as_mut().expect("ctx").no_progress_loops = 0;
        }
        if !self.try_set_zonelist_oom(t) {
            self.set_phase(t, AllocPhase::OomLockBusySleep);
            self.task_sleep(t, self.clock.jiffy);
            return Some(Alloc::Sleep);
        }
        // "Catch a parallel OOM kill": any allowed zone above its high watermark.
        let f = alloc_flags::WMARK_HIGH | alloc_flags::CPUSET;
        if let Some(id) = self.get_page_from_freelist(t, gfp_mask | gfp::HARDWALL, f) {
            self.clear_zonelist_oom(t);
            return Some(Alloc::Page(id));
        }
        if modern && gfp_mask & gfp::FS == 0 {
            // [4.6+] out_of_memory(): "The OOM killer does not compensate for IO-less reclaim":
            // no kill, return true, and the allocation retries without sleeping.
            self.stats.counters.oom_nofs_no_kill += 1;
            self.clear_zonelist_oom(t);
            self.set_phase(t, AllocPhase::Restart);
            return None;
        }
        self.out_of_memory(t, gfp_mask);
        if self.run.outcome.is_some() && self.options.stop_at_first_oom {
            self.clear_zonelist_oom(t);
            self.set_phase(t, AllocPhase::Restart);
            return Some(Alloc::Sleep);
        }
        if self.tasks[t].memdie {
            self.clear_zonelist_oom(t);
            self.set_phase(t, AllocPhase::Restart);
            return None;
        }
        // out_of_memory() ends with schedule_timeout_uninterruptible(1) while the lock is held.
        self.set_phase(t, AllocPhase::OomSleepHoldingLock);
        self.task_sleep(t, self.clock.jiffy);
        Some(Alloc::Sleep)
    }

    /// `try_set_zone_oom()`: fails if any zone of the zonelist is already OOM-locked.
    fn try_set_zonelist_oom(&mut self, t: usize) -> bool {
        let zl = &self.tasks[t].zonelist;
        if zl.iter().any(|&z| self.mem.zones[z as usize].oom_locked) {
            return false;
        }
        for &z in zl {
            self.mem.zones[z as usize].oom_locked = true;
        }
        true
    }

    /// `clear_zonelist_oom()`.
    fn clear_zonelist_oom(&mut self, t: usize) {
        for k in 0..self.tasks[t].zonelist.len() {
            let z = self.tasks[t].zonelist[k] as usize;
            self.mem.zones[z].oom_locked = false;
        }
    }

    /// Puts task `t` to sleep for `timeout` (uninterruptible), after its pending CPU time.
    pub fn task_sleep(&mut self, t: usize, timeout: u64) {
        let cpu = std::mem::take(&mut self.tasks[t].pending_cpu_ns);
        self.schedule(self.clock.now + cpu + timeout, Actor::Task(t));
    }
}

/// What a zone walk of `get_page_from_freelist()` found.
#[derive(Default)]
struct Walk {
    /// The first zone that passed, as `(position in the zonelist, zone)`.
    found: Option<(usize, usize)>,
    /// Zones skipped over their dirty limit on the way.
    dirty_skips: u64,
    /// [3.12–4.7] The fair pass skipped a local zone that used its `NR_ALLOC_BATCH`.
    fair_skipped: bool,
}

/// `pcp->batch` as a count.
fn z_batch(b: usize) -> usize {
    b.max(1)
}

/// The parts of this file that read or change memory only.
impl super::memory::Memory {
    /// [3.12–4.7] `reset_alloc_batches()`: every zone of `node` may take high − low pages again.
    fn reset_alloc_batches(&mut self, node: u32) {
        for z in self.zones.iter_mut().filter(|z| z.node == node) {
            z.alloc_batch = (z.watermark[2] - z.watermark[1]) as i64;
        }
    }

    /// `buffered_rmqueue()` order 0: from this CPU's list, refilled by `rmqueue_bulk`.
    fn buffered_rmqueue(&mut self, zid: usize, cpu: usize) -> Option<PageId> {
        let z = &mut self.zones[zid];
        let pcp = &mut z.pcp[cpu];
        if pcp.is_empty() {
            // rmqueue_bulk(): `batch` pages off the top of the buddy list, the topmost first.
            let from = z.free.len() - z.pcp_batch.min(z.free.len());
            for &id in &z.free[from..] {
                self.pages[id as usize].place = Place::Pcp;
            }
            self.vm_stat.nr_free -= (z.free.len() - from) as u64;
            pcp.extend(z.free.drain(from..).rev());
        }
        let id = pcp.pop()?;
        z.stat.pgalloc += 1;
        z.alloc_batch -= 1; // [3.12–4.7] NR_ALLOC_BATCH; unread by other kernels
        let p = &mut self.pages[id as usize];
        p.place = Place::Held;
        p.flags = 0;
        Some(id)
    }
}
