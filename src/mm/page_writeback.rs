//! Dirty pages and their limits: `mm/page-writeback.c` 2.6.32–2.6.36 (writeback-fs §A).
//!
//! Dirtying (`account_page_dirtied`, `__set_page_dirty_nobuffers`, `redirty_page_for_writepage`),
//! cleaning (`clear_page_dirty_for_io`, `set_page_writeback`), the global limits
//! (`determine_dirtyable_memory`, `get_dirty_limits` / `global_dirty_limits`, the per-bdi and
//! per-task shares), `balance_dirty_pages` as a resumable state machine, and `Machine::writepage`,
//! which applies a filesystem's decision (`fs::Filesystem::writepage`) under the run's policy.
//!
//! The per-bdi and per-task floating proportions (`lib/proportions.c`) are computed as exact
//! shares of decayed event counts, halved every period of `2^calc_period_shift()` events; with
//! one disk and one dirtier both shares are 1, as in the kernel.

use super::fs_writeback::WbCursor;
use super::granularity::KernelPages;
use super::page::{pg, LruList, PageId};
use super::zone::Wmark;
use super::{Actor, Machine};
use crate::block::ReqKind;
use crate::fs::{Decision, FsType, WritepageCall, WritepageCaller, WritepageResult};
use crate::kernel::{DirtyExceeded, DirtyThrottle, ZoneDirtyLimits};
use crate::spec::Policy;

/// A floating proportion: per-item event counts halved every period.
#[derive(Clone, Debug, Default)]
pub struct Prop {
    counts: Vec<u64>,
    since_decay: u64,
    period: u64,
}

impl Prop {
    /// A proportion over `n` items with a decay period of `period` events.
    pub fn new(n: usize, period: u64) -> Prop {
        Prop {
            counts: vec![0; n],
            since_decay: 0,
            period: period.max(1),
        }
    }

    /// Counts one event for item `i`.
    pub fn inc(&mut self, i: usize) {
        if i >= self.counts.len() {
            self.counts.resize(i + 1, 0);
        }
        self.counts[i] += 1;
        self.since_decay += 1;
        if self.since_decay >= self.period {
            self.since_decay = 0;
            for c in &mut self.counts {
                *c /= 2;
            }
        }
    }

    /// `(numerator, denominator)` of item `i`'s share; `(0, 1)` before any event.
    pub fn fraction(&self, i: usize) -> (u64, u64) {
        let total: u64 = self.counts.iter().sum();
        if total == 0 {
            return (0, 1);
        }
        (self.counts.get(i).copied().unwrap_or(0), total)
    }
}

/// Where `balance_dirty_pages` resumes.
#[derive(Clone, Debug)]
pub enum BdpPhase {
    /// Top of the loop.
    Check,
    /// Writing back this bdi's inodes (`writeback_inodes_wbc`), possibly blocked on the queue.
    Writing(Box<WbCursor>),
    /// After the writeback, the re-check.
    AfterWrite,
    /// After the `io_schedule_timeout(pause)` sleep.
    Slept,
}

/// `INIT_BW`: 100 MB/s in (4 KiB) pages per second, the estimate a bdi starts with [3.2].
const INIT_BW: KernelPages = KernelPages((100 << 20) / 4096);
/// `BANDWIDTH_INTERVAL`: the estimates are refreshed at most every 200 ms.
const BANDWIDTH_INTERVAL_MS: u64 = 200;
/// `RATELIMIT_CALC_SHIFT`: fixed-point shift of `pos_ratio`.
const RATELIMIT_CALC_SHIFT: u32 = 10;

/// A bdi's write bandwidth and dirty rate limit (3.2 `bdi_update_bandwidth()`), pages/s.
#[derive(Clone, Debug)]
pub struct Bandwidth {
    /// `bdi->avg_write_bandwidth`.
    pub avg_write_bw: u64,
    /// `bdi->write_bandwidth`.
    pub write_bw: u64,
    /// `bdi->dirty_ratelimit`.
    pub dirty_ratelimit: u64,
    /// `bdi->balanced_dirty_ratelimit`.
    pub balanced_dirty_ratelimit: u64,
    /// `bdi->bw_time_stamp`, ns.
    pub stamp: u64,
    /// `bdi->written_stamp`.
    pub written_stamp: u64,
    /// `bdi->dirtied_stamp`.
    pub dirtied_stamp: u64,
    /// BDI_WRITTEN: pages that finished writeback.
    pub written: u64,
    /// BDI_DIRTIED: pages dirtied.
    pub dirtied: u64,
}

impl Bandwidth {
    /// A bdi's first estimate, in simulated pages per second (a rate of bytes: `INIT_BW`'s
    /// 100 MB/s).
    pub fn new(granularity: super::granularity::Granularity) -> Self {
        let init = granularity.batch(INIT_BW);
        Bandwidth {
            avg_write_bw: init,
            write_bw: init,
            dirty_ratelimit: init,
            balanced_dirty_ratelimit: init,
            stamp: 0,
            written_stamp: 0,
            dirtied_stamp: 0,
            written: 0,
            dirtied: 0,
        }
    }
}

/// A `balance_dirty_pages` call in progress.
#[derive(Clone, Debug)]
pub struct Bdp {
    /// The bdi being written to.
    pub bdi: usize,
    /// `write_chunk`.
    pub write_chunk: u64,
    /// Pages written by this call.
    pub pages_written: u64,
    /// The next pause, jiffies.
    pub pause: u64,
    /// [3.2+] `pages_dirtied`: what this call pays for.
    pub pages_dirtied: u64,
    /// Where to resume.
    pub phase: BdpPhase,
}

/// The numbers one round of `balance_dirty_pages` compares.
#[derive(Clone, Copy, Debug)]
struct DirtyState {
    bg: u64,
    dirty: u64,
    bdi_thresh: u64,
    nr_reclaimable: u64,
    nr_writeback: u64,
    bdi_reclaimable: u64,
    bdi_writeback: u64,
}

impl Machine {
    /// `determine_dirtyable_memory()`: free + reclaimable + 1 (no highmem on x86_64);
    /// [3.3+] minus `dirty_balance_reserve`; [3.14+] `global_dirtyable_memory()`: free minus
    /// the reserve, plus the file LRUs only. From the global counters.
    pub fn dirtyable_memory(&self) -> u64 {
        let lru = &self.mem.vm_stat.nr_lru;
        let file = lru[LruList::ActiveFile.idx()] + lru[LruList::InactiveFile.idx()];
        self.dirtyable(
            self.mem.vm_stat.nr_free,
            file,
            self.mem.global_reclaimable_pages(),
            self.wb.dirty_balance_reserve,
        ) + 1
    }

    /// Dirtyable memory of some zones (a zone or a node) under the run's rules.
    fn dirtyable_of(&self, zones: impl Iterator<Item = usize> + Clone) -> u64 {
        let sum = |f: &dyn Fn(usize) -> u64| zones.clone().map(f).sum::<u64>();
        let file = sum(&|z| {
            let zn = &self.mem.zones[z];
            zn.nr_lru(LruList::ActiveFile) + zn.nr_lru(LruList::InactiveFile)
        });
        self.dirtyable(
            sum(&|z| self.mem.zones[z].nr_free()),
            file,
            sum(&|z| self.mem.zone_reclaimable_pages(z)),
            sum(&|z| self.mem.zone_dirty_balance_reserve(z)),
        )
    }

    /// The dirtyable-memory rule over counts of free pages, file LRU pages, reclaimable pages
    /// and `dirty_balance_reserve` (used from 3.3).
    fn dirtyable(&self, free: u64, file: u64, reclaimable: u64, reserve: u64) -> u64 {
        let reserve = if self.switches.dirtyable_minus_reserves {
            reserve
        } else {
            0
        };
        if self.switches.dirtyable_excludes_anon {
            return free - free.min(reserve) + file;
        }
        let x = free + reclaimable;
        x - x.min(reserve)
    }

    /// `zone_dirty_ok()` [3.3] / `node_dirty_ok()` [4.8]: the zone's (node's) dirty and
    /// writeback pages within `vm_dirty_ratio` of its own dirtyable memory (`dirty_bytes`
    /// scaled by its share of the global dirtyable memory).
    pub fn zone_dirty_ok(&self, zid: usize) -> bool {
        let one = [zid as u16];
        let ids: &[u16] = match self.switches.per_zone_dirty_limits {
            ZoneDirtyLimits::Off => return true,
            ZoneDirtyLimits::Zone => &one,
            ZoneDirtyLimits::Node => &self.mem.nodes[self.mem.zones[zid].node as usize].zones,
        };
        let zones = ids.iter().map(|&z| z as usize);
        let memory = self.dirtyable_of(zones.clone());
        let vm = &self.spec.vm;
        let limit = if vm.dirty_bytes > 0 {
            self.granularity.pages_ceil(vm.dirty_bytes) * memory / self.dirtyable_memory()
        } else {
            u64::from(vm.dirty_ratio) * memory / 100
        };
        let used: u64 = zones
            .map(|z| self.mem.zones[z].stat.nr_dirty + self.mem.zones[z].stat.nr_writeback)
            .sum();
        used <= limit
    }

    /// `get_dirty_limits()` / `global_dirty_limits()`: `(background, dirty)` pages.
    pub fn global_dirty_limits(&self) -> (u64, u64) {
        let vm = &self.spec.vm;
        let available = self.dirtyable_memory();
        // Bytes to pages as the kernel does (DIV_ROUND_UP by the page size); the ratios apply to
        // simulated-page counts unconverted.
        let dirty = if vm.dirty_bytes > 0 {
            self.granularity.pages_ceil(vm.dirty_bytes)
        } else {
            u64::from(vm.dirty_ratio.max(5)) * available / 100
        };
        let mut bg = if vm.dirty_background_bytes > 0 {
            self.granularity.pages_ceil(vm.dirty_background_bytes)
        } else {
            u64::from(vm.dirty_background_ratio) * available / 100
        };
        if bg >= dirty {
            bg = dirty / 2;
        }
        (bg, dirty)
    }

    /// The per-bdi limit: the bdi's share of recent writeout completions, clipped [32–35] to what
    /// is globally still available, then lowered for a heavy dirtier (`task_dirty_limit`).
    fn bdi_task_dirty_limit(&self, bdi: usize, t: usize, dirty: u64) -> u64 {
        let (num, den) = self.wb.bdi_prop.fraction(bdi);
        let mut bdi_dirty = if den == 1 && num == 0 {
            0
        } else {
            dirty * num / den
        };
        if self.switches.dirty_exceeded == DirtyExceeded::BdiLimit {
            // clip_bdi_dirty_limit()
            let global = self.mem.vm_stat.nr_dirty + self.mem.vm_stat.nr_writeback;
            let avail = dirty.saturating_sub(global);
            let b = &self.wb.bdis[bdi];
            bdi_dirty = bdi_dirty.min(avail + b.reclaimable + b.writeback);
        }
        let (tn, td) = self.wb.task_prop.fraction(t);
        let inv = (bdi_dirty >> 3) * tn / td;
        (bdi_dirty - inv).max(bdi_dirty / 2)
    }

    fn dirty_state(&self, bdi: usize, t: usize) -> DirtyState {
        let (bg, dirty) = self.global_dirty_limits();
        DirtyState {
            bg,
            dirty,
            bdi_thresh: self.bdi_task_dirty_limit(bdi, t, dirty),
            nr_reclaimable: self.mem.vm_stat.nr_dirty,
            nr_writeback: self.mem.vm_stat.nr_writeback,
            bdi_reclaimable: self.wb.bdis[bdi].reclaimable,
            bdi_writeback: self.wb.bdis[bdi].writeback,
        }
    }

    /// `__bdi_writeout_inc()`: a completed writeback counts toward the bdi's share.
    pub fn bdi_writeout_inc(&mut self, bdi: usize) {
        self.wb.bdi_prop.inc(bdi);
        self.wb.bdis[bdi].bw.written += 1;
    }

    /// `__set_page_dirty_nobuffers()` + `account_page_dirtied()` for a file page: PG_dirty,
    /// NR_FILE_DIRTY, BDI_RECLAIMABLE, the dirty tag, the task's dirtier share, and
    /// `__mark_inode_dirty(I_DIRTY_PAGES)`. Returns whether the page was clean before.
    pub fn set_page_dirty(&mut self, id: PageId, dirtier: Option<usize>) -> bool {
        if self.switches.pg_reclaim_survives_flusher_write {
            // [2.6.39+] "if the page is redirty, the flag will be reset".
            self.mem.pages[id as usize].flags &= !pg::RECLAIM;
        }
        let p = self.mem.pages[id as usize];
        if p.has(pg::DIRTY) {
            return false;
        }
        self.mem.pages[id as usize].flags |= pg::DIRTY;
        if !p.has(pg::FILE) {
            return true; // shmem/swap cache: no dirty accounting
        }
        self.mem.zones[p.zone as usize].stat.nr_dirty += 1;
        self.mem.vm_stat.nr_dirty += 1;
        let ino = p.owner as usize;
        self.vfs.inodes[ino].tag_dirty(p.index, true);
        if let Some(b) = self.vfs.mounts[self.vfs.inodes[ino].mount].spec.disk {
            self.wb.bdis[b].reclaimable += 1;
        }
        if let Some(t) = dirtier {
            self.wb.task_prop.inc(t);
        }
        self.mark_inode_dirty(ino);
        true
    }

    /// `clear_page_dirty_for_io()`: ClearPageReclaim [≤2.6.38], then clear PG_dirty with its
    /// accounting. Returns whether the page was dirty.
    pub fn clear_page_dirty_for_io(&mut self, id: PageId) -> bool {
        let survives = self.switches.pg_reclaim_survives_flusher_write;
        let p = &mut self.mem.pages[id as usize];
        if !survives {
            p.flags &= !pg::RECLAIM;
        }
        if !p.has(pg::DIRTY) {
            return false;
        }
        p.flags &= !pg::DIRTY;
        let p = *p;
        if p.has(pg::FILE) {
            self.mem.zones[p.zone as usize].stat.nr_dirty -= 1;
            self.mem.vm_stat.nr_dirty -= 1;
            let ino = p.owner as usize;
            self.vfs.inodes[ino].tag_dirty(p.index, false);
            if let Some(b) = self.vfs.mounts[self.vfs.inodes[ino].mount].spec.disk {
                self.wb.bdis[b].reclaimable -= 1;
            }
        }
        true
    }

    /// `set_page_writeback()` and submission of the page's IO to its disk by `actor`. The page is
    /// under writeback before its bio looks for a request, as `__block_write_full_page` sets it
    /// before `submit_bh`; a bio that finds none is parked and the caller sleeps in
    /// `get_request_wait()` ([`Machine::parked_disk`]).
    pub fn set_page_writeback_and_submit(&mut self, id: PageId, actor: Actor) {
        let p = self.mem.pages[id as usize];
        debug_assert!(!p.has(pg::WRITEBACK));
        self.mem.pages[id as usize].flags |= pg::WRITEBACK;
        self.mem.zones[p.zone as usize].stat.nr_writeback += 1;
        self.mem.vm_stat.nr_writeback += 1;
        if p.has(pg::FILE) {
            self.vfs.inodes[p.owner as usize].nr_writeback += 1;
        }
        let b = self.page_bdi(id).expect("writeback of a page with no disk");
        if self.page_accounts_writeback(id) {
            self.wb.bdis[b].writeback += 1;
        }
        let lba = self.page_lba(id);
        // The one WB_SYNC_ALL ->writepage caller here is jbd2's commit
        // (journal_submit_inode_data_buffers): __block_write_full_page() submits it
        // WRITE_SYNC_PLUG, a sync request; reclaim, the flusher and a throttled writer write
        // WB_SYNC_NONE (WRITE), as swap_writepage() does for them (mm/page_io.c 2.6.32).
        let kind = if matches!(actor, Actor::Journal(_)) {
            ReqKind::SyncWrite
        } else {
            ReqKind::Write
        };
        self.submit_bio(b, kind, lba, id, actor);
    }

    /// The disk block of a page: its file's region, or a swap slot.
    pub fn page_lba(&self, id: PageId) -> u64 {
        let p = &self.mem.pages[id as usize];
        if p.has(pg::SWAPCACHE) {
            // The page's index is its swap slot once it is written (assign_swap_slot).
            swap_lba(p.index)
        } else {
            self.vfs.inodes[p.owner as usize].disk_base + u64::from(p.index)
        }
    }

    /// `scan_swap_map()` hands out slots in order, so pages swapped out together are contiguous on
    /// the swap device and merge into requests. The page is unmapped by now, so its `index` (the
    /// owner's slot or the segment index) is free to hold the swap slot.
    fn assign_swap_slot(&mut self, id: PageId) {
        self.mem.pages[id as usize].index = self.mem.next_swap_slot;
        self.mem.next_swap_slot = self.mem.next_swap_slot.wrapping_add(1);
    }

    /// Calls `->writepage` on a page whose dirty bit `clear_page_dirty_for_io` just cleared, and
    /// applies the filesystem's decision. `for_reclaim` is `wbc->for_reclaim`.
    pub fn writepage(
        &mut self,
        id: PageId,
        caller: WritepageCaller,
        actor: Actor,
        for_reclaim: bool,
    ) -> WritepageResult {
        let p = self.mem.pages[id as usize];
        let (fs_type, locked) = if p.has(pg::SHMEM) && !p.has(pg::SWAPCACHE) {
            (FsType::Tmpfs, self.vfs.segments[p.owner as usize].locked)
        } else if p.has(pg::SWAPCACHE) {
            // swap_writepage(): always writes.
            self.assign_swap_slot(id);
            self.stats.vm_events.pswpout += 1;
            self.set_page_writeback_and_submit(id, actor);
            return WritepageResult::Written;
        } else {
            (
                self.vfs.mounts[self.vfs.inodes[p.owner as usize].mount]
                    .spec
                    .fs,
                false,
            )
        };
        let call = WritepageCall {
            flags: p.flags,
            caller,
            current_pf: self.actor_pf(actor),
            segment_locked: locked,
            swap_ok: self.mem.swap.total > 0 && self.mem.swap.free > 0,
        };
        let d = fs_type.ops().writepage(&call, &self.switches);
        self.apply_writepage(id, d, fs_type, caller, actor, for_reclaim)
    }

    /// What `->writepage`'s decision `d` does to page `id` (the policy decides a refusal from
    /// reclaim).
    fn apply_writepage(
        &mut self,
        id: PageId,
        d: Decision,
        fs_type: FsType,
        caller: WritepageCaller,
        actor: Actor,
        for_reclaim: bool,
    ) -> WritepageResult {
        match d {
            Decision::Write { cluster } => {
                // XFS clusters up to `cluster + 1` base pages with the victim: the same bytes.
                let cluster = if cluster > 0 {
                    (self.granularity.batch(KernelPages(u64::from(cluster) + 1)) - 1) as u32
                } else {
                    0
                };
                self.write_one(id, actor);
                if cluster > 0 {
                    self.xfs_cluster_write(id, cluster, actor);
                }
                WritepageResult::Written
            }
            Decision::NothingToWrite => {
                // set_page_writeback() then end_page_writeback() with nothing submitted.
                let f = &mut self.mem.pages[id as usize].flags;
                *f &= !(pg::RECLAIM | pg::BUFFERS_CLEAN | pg::JOURNAL_IO);
                self.wake_page_lock_waiters(id);
                WritepageResult::Written
            }
            Decision::Busy => {
                self.set_page_dirty(id, None);
                WritepageResult::Redirtied
            }
            Decision::Refuse => {
                self.stats.counters.writepage_refused += 1;
                self.observe_refused(fs_type, caller);
                self.set_page_dirty(id, actor_task(actor));
                if for_reclaim && self.refusal_policy() == Policy::Activate {
                    WritepageResult::Activate
                } else {
                    WritepageResult::Redirtied
                }
            }
            Decision::ShmemActivate => {
                self.mem.pages[id as usize].flags |= pg::DIRTY;
                if for_reclaim {
                    WritepageResult::Activate
                } else {
                    WritepageResult::Redirtied
                }
            }
            Decision::SwapOut => {
                self.shmem_to_swap_cache(id);
                self.assign_swap_slot(id);
                self.stats.vm_events.pswpout += 1;
                self.set_page_writeback_and_submit(id, actor);
                WritepageResult::Written
            }
        }
    }

    /// Block allocation (for delayed pages) and IO submission of one page.
    fn write_one(&mut self, id: PageId, actor: Actor) {
        if self.mem.pages[id as usize].has(pg::DELALLOC) {
            self.mem.pages[id as usize].flags &= !pg::DELALLOC;
        }
        self.mem.pages[id as usize].flags &= !(pg::BUFFERS_CLEAN | pg::JOURNAL_IO);
        self.charge_actor(actor, self.granularity.cost(super::cost::SUBMIT_PAGE));
        self.set_page_writeback_and_submit(id, actor);
        // A waiter for the journal's write now waits for this one (it finds PG_writeback).
        self.wake_page_lock_waiters(id);
        match actor {
            Actor::Kswapd(_) | Actor::Task(_) if self.in_reclaim(actor) => {
                self.stats.counters.pages_written_by_reclaim += 1;
            }
            Actor::Journal(_) => self.stats.counters.pages_written_by_journal += 1,
            Actor::Task(_) => {
                self.stats.counters.pages_written_by_writeback += 1;
                self.stats.counters.pages_written_by_dirtier += 1;
            }
            Actor::Flusher(_) | Actor::Kswapd(_) => {
                self.stats.counters.pages_written_by_writeback += 1
            }
            Actor::Ext4Rsv(_) => unreachable!("the ext4 conversion work writes no page"),
        }
    }

    fn in_reclaim(&self, actor: Actor) -> bool {
        match actor {
            Actor::Kswapd(_) => true,
            Actor::Task(t) => self.tasks[t].pf & super::pf::MEMALLOC != 0,
            _ => false,
        }
    }

    /// `xfs_cluster_write()`: the dirty pages following `id` in its file, up to `max`, while the
    /// queue is not congested (reclaim's wbc is non-blocking).
    fn xfs_cluster_write(&mut self, id: PageId, max: u32, actor: Actor) {
        let p = self.mem.pages[id as usize];
        let ino = p.owner as usize;
        let bdi = self.page_bdi(id).expect("xfs page without disk");
        for idx in (p.index + 1..).take(max as usize) {
            if self.io.disks[bdi].write_congested() {
                break;
            }
            let next = self.vfs.inodes[ino].pages.get(idx);
            if next == super::page::NIL {
                break;
            }
            let f = self.mem.pages[next as usize].flags;
            if f & pg::DIRTY == 0 || f & pg::WRITEBACK != 0 {
                break;
            }
            self.clear_page_dirty_for_io(next);
            self.write_one(next, actor);
        }
    }

    /// `balance_dirty_pages_ratelimited()` after task `t` dirtied a page of `bdi`: every
    /// `ratelimit_pages` (8 once the bdi's limit was exceeded) start `balance_dirty_pages`.
    /// Returns whether the task must now run the throttling loop.
    pub fn balance_dirty_pages_ratelimited(&mut self, t: usize, bdi: usize) -> bool {
        self.wb.bdis[bdi].bw.dirtied += 1;
        if self.switches.dirty_throttle == DirtyThrottle::IoLess {
            return self.io_less_ratelimited(t, bdi);
        }
        let ratelimit = if self.wb.bdis[bdi].dirty_exceeded {
            self.granularity.batch(KernelPages(8)) // 8 pages: a batch
        } else {
            self.wb.ratelimit_pages
        };
        let cpu = self.tasks[t].cpu;
        self.wb.bdp_ratelimits[cpu] += 1;
        if self.wb.bdp_ratelimits[cpu] < ratelimit {
            return false;
        }
        let n = std::mem::take(&mut self.wb.bdp_ratelimits[cpu]);
        // sync_writeback_pages(): max(n, ratelimit_pages) * 3/2
        let d = n.max(self.wb.ratelimit_pages);
        self.tasks[t].bdp = Some(Bdp {
            bdi,
            write_chunk: d + d / 2,
            pages_written: 0,
            pause: 1,
            pages_dirtied: 0,
            phase: BdpPhase::Check,
        });
        true
    }

    /// [3.2+] `balance_dirty_pages_ratelimited_nr()`: every `nr_dirtied_pause` pages a task
    /// dirtied (32 KiB while the bdi's limit is exceeded) start `balance_dirty_pages`.
    fn io_less_ratelimited(&mut self, t: usize, bdi: usize) -> bool {
        let task = &mut self.tasks[t];
        task.nr_dirtied += 1;
        let mut ratelimit = task.nr_dirtied_pause;
        if self.wb.bdis[bdi].dirty_exceeded {
            ratelimit = ratelimit.min(self.granularity.batch(KernelPages(8))); // 32 KiB: a batch
        }
        if task.nr_dirtied < ratelimit {
            return false;
        }
        task.bdp = Some(Bdp {
            bdi,
            write_chunk: 0,
            pages_written: 0,
            pause: 0,
            pages_dirtied: task.nr_dirtied,
            phase: BdpPhase::Check,
        });
        true
    }

    /// `__bdi_update_bandwidth()` [3.2], from `balance_dirty_pages`: at most every 200 ms,
    /// `global_update_bandwidth()` (the hard limit), `bdi_update_dirty_ratelimit()`, then
    /// `bdi_update_write_bandwidth()`, then new stamps.
    fn bdi_update_bandwidth(&mut self, b: usize, s: &DirtyState, nr_dirty: u64) {
        let elapsed_ns = self.clock.now.saturating_sub(self.wb.bdis[b].bw.stamp);
        if elapsed_ns < BANDWIDTH_INTERVAL_MS * super::MSEC_NS {
            return;
        }
        let elapsed = (elapsed_ns / self.clock.jiffy).max(1); // jiffies
        if s.dirty > 0 {
            self.global_update_bandwidth(s.dirty, nr_dirty);
            self.bdi_update_dirty_ratelimit(b, s, nr_dirty, elapsed);
        }
        self.bdi_update_write_bandwidth(b, elapsed);
        let bw = &mut self.wb.bdis[b].bw;
        bw.dirtied_stamp = bw.dirtied;
        bw.written_stamp = bw.written;
        bw.stamp = self.clock.now;
    }

    /// `global_update_bandwidth()` + `update_dirty_limit()` [3.2]: at most every 200 ms, the hard
    /// limit follows the threshold up at once and down by 1/32 toward `max(thresh, dirty)`, so it
    /// stays above the dirty pages.
    fn global_update_bandwidth(&mut self, thresh: u64, dirty: u64) {
        if self.clock.now < self.wb.dirty_limit_stamp + BANDWIDTH_INTERVAL_MS * super::MSEC_NS {
            return;
        }
        let limit = self.wb.global_dirty_limit;
        let target = thresh.max(dirty);
        if limit < thresh {
            self.wb.global_dirty_limit = thresh;
        } else if limit > target {
            self.wb.global_dirty_limit = limit - ((limit - target) >> 5);
        }
        self.wb.dirty_limit_stamp = self.clock.now;
    }

    /// `bdi_update_dirty_ratelimit()` [3.2]: `balanced_dirty_ratelimit = task_ratelimit ×
    /// write_bw / dirty_rate` (≈ write_bw / N dirtiers, at most write_bw), and `dirty_ratelimit`
    /// moved toward it only while both the balanced and the task rate lie beyond it, by an
    /// eighth of the gap, less when the gap is small relative to the rate.
    fn bdi_update_dirty_ratelimit(&mut self, b: usize, s: &DirtyState, dirty: u64, elapsed: u64) {
        let limit = self.wb.global_dirty_limit.max(s.dirty);
        let setpoint = ((s.dirty + s.bg) / 2 + limit) / 2;
        let pos_ratio = self.bdi_position_ratio(b, s, dirty);
        let hz = u64::from(self.spec.machine.hz.max(1));
        let bw = &mut self.wb.bdis[b].bw;
        let write_bw = bw.avg_write_bw;
        let dirty_ratelimit = bw.dirty_ratelimit;
        let dirty_rate = (bw.dirtied - bw.dirtied_stamp) * hz / elapsed;
        let task_ratelimit = ((u128::from(dirty_ratelimit) * u128::from(pos_ratio))
            >> RATELIMIT_CALC_SHIFT) as u64
            + 1;
        let balanced = (u128::from(task_ratelimit) * u128::from(write_bw)
            / u128::from(dirty_rate | 1))
        .min(u128::from(write_bw)) as u64;
        let x = if dirty < setpoint {
            bw.balanced_dirty_ratelimit
                .min(balanced)
                .min(task_ratelimit)
        } else {
            bw.balanced_dirty_ratelimit
                .max(balanced)
                .max(task_ratelimit)
        };
        let mut step = if dirty < setpoint {
            x.saturating_sub(dirty_ratelimit)
        } else {
            dirty_ratelimit.saturating_sub(x)
        };
        // `step >>= dirty_ratelimit / (2 * step + 1)`; a shift past the word is 0, as later
        // kernels spell it out.
        let shift = dirty_ratelimit / (2 * step + 1);
        step = if shift < 64 { step >> shift } else { 0 };
        step = step.div_ceil(8);
        let rate = if dirty_ratelimit < balanced {
            dirty_ratelimit + step
        } else {
            dirty_ratelimit.saturating_sub(step)
        };
        bw.dirty_ratelimit = rate.max(1);
        bw.balanced_dirty_ratelimit = balanced;
    }

    /// `bdi_update_write_bandwidth()` [3.2]: `write_bandwidth` is completed writeback averaged
    /// over `roundup_pow_of_two(3 * HZ)` jiffies; `avg_write_bandwidth` follows it by an eighth
    /// of the gap, and only when the old value lies between them (filtering spikes).
    fn bdi_update_write_bandwidth(&mut self, b: usize, elapsed: u64) {
        let hz = u64::from(self.spec.machine.hz.max(1));
        let period = (3 * hz).next_power_of_two();
        let bw = &mut self.wb.bdis[b].bw;
        let (mut avg, old) = (bw.avg_write_bw, bw.write_bw);
        let mut rate = (bw.written - bw.written_stamp) * hz;
        if elapsed > period {
            rate /= elapsed;
            avg = rate;
        } else {
            rate += old * (period - elapsed);
            rate >>= period.ilog2();
            if avg > old && old >= rate {
                avg -= (avg - old) >> 3;
            }
            if avg < old && old <= rate {
                avg += (old - avg) >> 3;
            }
        }
        bw.write_bw = rate;
        bw.avg_write_bw = avg;
    }

    /// `bdi_position_ratio()` [3.2], fixed point (1.0 = 1 << 10): the global cubic around the
    /// setpoint between the freerun ceiling and the limit, times the bdi's linear term.
    fn bdi_position_ratio(&self, b: usize, s: &DirtyState, nr_dirty: u64) -> u64 {
        let thresh = s.dirty;
        let limit = self.wb.global_dirty_limit.max(thresh);
        let freerun = (thresh + s.bg) / 2;
        if nr_dirty >= limit {
            return 0;
        }
        let setpoint = (freerun + limit) / 2;
        let one = 1i128 << RATELIMIT_CALC_SHIFT;
        let x = ((setpoint as i128 - nr_dirty as i128) << RATELIMIT_CALC_SHIFT)
            / (limit as i128 - setpoint as i128 + 1);
        let mut pos = ((x * x * x) >> (2 * RATELIMIT_CALC_SHIFT)) + one;
        pos = pos.max(0);
        // The bdi's own control line.
        let bdi_dirty = (s.bdi_reclaimable + s.bdi_writeback) as i128;
        let bdi_thresh = s
            .bdi_thresh
            .min(thresh)
            .max(limit.saturating_sub(nr_dirty) / 8);
        let xb = (i128::from(bdi_thresh) << 16) / (thresh as i128 + 1);
        let bdi_setpoint = (setpoint as i128 * xb) >> 16;
        let write_bw = i128::from(self.wb.bdis[b].bw.avg_write_bw);
        let span = ((thresh as i128 - i128::from(bdi_thresh) + 8 * write_bw) * xb) >> 16;
        let x_intercept = bdi_setpoint + span;
        if bdi_dirty < x_intercept - span / 4 {
            pos = pos * (x_intercept - bdi_dirty) / (x_intercept - bdi_setpoint + 1);
        } else {
            pos /= 4;
        }
        let x_intercept = i128::from(bdi_thresh) / 2;
        if bdi_dirty < x_intercept {
            if bdi_dirty > x_intercept / 8 {
                pos = pos * x_intercept / bdi_dirty;
            } else {
                pos *= 8;
            }
        }
        pos.max(0) as u64
    }

    /// [3.2+] IO-less `balance_dirty_pages()`: never writes; pauses `HZ × pages_dirtied /
    /// task_ratelimit` (≤ `bdi_max_pause`, ≤ HZ/5), looping while over the hard limit.
    fn bdp_io_less(&mut self, t: usize, b: &mut Bdp) -> bool {
        let slept = matches!(b.phase, BdpPhase::Slept);
        b.phase = BdpPhase::Check;
        let s = self.dirty_state(b.bdi, t);
        let nr_dirty = s.nr_reclaimable + s.nr_writeback;
        if slept && nr_dirty < self.wb.global_dirty_limit.max(s.dirty) {
            return true;
        }
        let freerun = (s.dirty + s.bg) / 2;
        if nr_dirty <= freerun {
            // dirty_poll_interval(): √gap of base pages, then a batch of simulated pages.
            let gap = self.granularity.base(s.dirty.saturating_sub(nr_dirty));
            let pause = if gap > 0 { 1 << (gap.ilog2() / 2) } else { 1 };
            self.tasks[t].nr_dirtied_pause = self.granularity.batch(KernelPages(pause));
            return true;
        }
        if !self.wb.bdis[b.bdi].writeback_in_progress() {
            self.bdi_start_background_writeback(b.bdi);
        }
        let bdi_dirty = s.bdi_reclaimable + s.bdi_writeback;
        if bdi_dirty > s.bdi_thresh || nr_dirty > s.dirty {
            self.wb.bdis[b.bdi].dirty_exceeded = true;
        }
        self.bdi_update_bandwidth(b.bdi, &s, nr_dirty);
        let pos_ratio = self.bdi_position_ratio(b.bdi, &s, nr_dirty);
        let bw = &self.wb.bdis[b.bdi].bw;
        let task_ratelimit = ((u128::from(bw.dirty_ratelimit) * u128::from(pos_ratio))
            >> RATELIMIT_CALC_SHIFT) as u64;
        // bdi_max_pause(): bdi_dirty / (1 + bw / roundup_pow_of_two(1 + HZ/8)) + 1, ≤ HZ/5.
        let hz = self.spec.machine.hz.max(1) as u64;
        let max_pause =
            (bdi_dirty / (1 + bw.avg_write_bw / (1 + hz / 8).next_power_of_two()) + 1).min(hz / 5);
        let pause = match (hz * b.pages_dirtied).checked_div(task_ratelimit) {
            None => max_pause, // at or over the hard limit
            Some(0) => return true,
            Some(p) => {
                // Aim the next check at about a 10 ms pause (at least 32 pages).
                self.tasks[t].nr_dirtied_pause =
                    (task_ratelimit / 100).max(self.granularity.batch(KernelPages(32)));
                p.min(max_pause)
            }
        };
        self.stats.counters.dirty_pauses += 1;
        b.phase = BdpPhase::Slept;
        self.tasks[t].interruptible = true; // TASK_KILLABLE: a kill wakes it
        self.task_sleep(t, pause.max(1) * self.clock.jiffy);
        false
    }

    /// Runs `balance_dirty_pages()` for task `t`; `true` when it returned, `false` when the task
    /// sleeps (its wake-up is scheduled).
    pub fn balance_dirty_pages_step(&mut self, t: usize) -> bool {
        let mut b = self.tasks[t].bdp.take().expect("bdp state");
        let done = self.bdp_loop(t, &mut b);
        if done {
            self.bdp_finish(t, &b);
        } else {
            self.tasks[t].bdp = Some(b);
        }
        done
    }

    fn bdp_loop(&mut self, t: usize, b: &mut Bdp) -> bool {
        if self.switches.dirty_throttle == DirtyThrottle::IoLess {
            return self.bdp_io_less(t, b);
        }
        let v36 = self.switches.dirty_exceeded == DirtyExceeded::BdiOrGlobalLimit;
        for _ in 0..10_000 {
            match std::mem::replace(&mut b.phase, BdpPhase::Check) {
                BdpPhase::Check | BdpPhase::Slept => {
                    let s = self.dirty_state(b.bdi, t);
                    if v36 {
                        if s.nr_reclaimable + s.nr_writeback < (s.bg + s.dirty) / 2 {
                            return true;
                        }
                        let exceeded = s.bdi_reclaimable + s.bdi_writeback >= s.bdi_thresh
                            || s.nr_reclaimable + s.nr_writeback >= s.dirty;
                        if !exceeded {
                            return true;
                        }
                    } else {
                        if s.bdi_reclaimable + s.bdi_writeback <= s.bdi_thresh {
                            return true;
                        }
                        if s.nr_reclaimable + s.nr_writeback < (s.bg + s.dirty) / 2 {
                            return true;
                        }
                    }
                    self.wb.bdis[b.bdi].dirty_exceeded = true;
                    if s.bdi_reclaimable > s.bdi_thresh {
                        let c = WbCursor::for_writer(b.bdi, b.write_chunk, self.clock.now);
                        b.phase = BdpPhase::Writing(Box::new(c));
                    } else {
                        b.phase = BdpPhase::AfterWrite;
                    }
                }
                BdpPhase::Writing(mut c) => {
                    if !self.writeback_inodes_wb(Actor::Task(t), &mut c) {
                        b.phase = BdpPhase::Writing(c);
                        return false; // blocked on a full queue; woken by a completion
                    }
                    b.pages_written += c.written;
                    if v36 && b.pages_written >= b.write_chunk {
                        return true;
                    }
                    b.phase = BdpPhase::AfterWrite;
                }
                BdpPhase::AfterWrite => {
                    if !v36 {
                        let s = self.dirty_state(b.bdi, t);
                        if s.bdi_reclaimable + s.bdi_writeback <= s.bdi_thresh {
                            return true;
                        }
                        if b.pages_written >= b.write_chunk {
                            return true;
                        }
                    }
                    // io_schedule_timeout(pause), TASK_INTERRUPTIBLE; pause doubles to HZ/10.
                    let sleep = b.pause * self.clock.jiffy;
                    let max_pause = (self.spec.machine.hz / 10).max(1) as u64;
                    b.pause = (b.pause * 2).min(max_pause);
                    b.phase = BdpPhase::Slept;
                    self.tasks[t].interruptible = true;
                    self.task_sleep(t, sleep);
                    return false;
                }
            }
        }
        unreachable!("balance_dirty_pages looped 10000 times without sleeping");
    }

    /// The end of `balance_dirty_pages`: clear `dirty_exceeded`, kick background writeback.
    fn bdp_finish(&mut self, t: usize, b: &Bdp) {
        self.tasks[t].nr_dirtied = 0;
        let s = self.dirty_state(b.bdi, t);
        if s.bdi_reclaimable + s.bdi_writeback < s.bdi_thresh {
            self.wb.bdis[b.bdi].dirty_exceeded = false;
        }
        if self.wb.bdis[b.bdi].writeback_in_progress() {
            return;
        }
        if s.nr_reclaimable > s.bg {
            self.bdi_start_background_writeback(b.bdi);
        }
    }
}

/// The task behind an actor, if any (the dirtier charged by a redirty).
fn actor_task(actor: Actor) -> Option<usize> {
    match actor {
        Actor::Task(t) => Some(t),
        _ => None,
    }
}

/// The parts of this file that read or change memory only.
impl super::memory::Memory {
    /// `global_reclaimable_pages()`: file LRUs, plus anon LRUs while free swap slots remain.
    pub fn global_reclaimable_pages(&self) -> u64 {
        let lru = &self.vm_stat.nr_lru;
        let mut n = lru[LruList::ActiveFile.idx()] + lru[LruList::InactiveFile.idx()];
        if self.swap.free > 0 {
            n += lru[LruList::ActiveAnon.idx()] + lru[LruList::InactiveAnon.idx()];
        }
        n
    }

    /// `zone->dirty_balance_reserve` (3.3 `calculate_totalreserve_pages()`): the largest
    /// lowmem_reserve plus the high watermark, at most the zone's present pages.
    pub fn zone_dirty_balance_reserve(&self, zid: usize) -> u64 {
        let z = &self.zones[zid];
        let max = z.lowmem_reserve.iter().copied().max().unwrap_or(0) + z.wmark(Wmark::High);
        max.min(z.present)
    }
}

/// Where swap slot `slot` lies on the swap device, in the block numbers `page_lba` gives.
pub fn swap_lba(slot: u32) -> u64 {
    (1 << 40) + u64::from(slot)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_single_item_owns_the_whole_proportion_and_counts_decay() {
        let mut p = Prop::new(2, 4);
        for _ in 0..3 {
            p.inc(0);
        }
        assert_eq!(p.fraction(0), (3, 3));
        p.inc(1);
        // The fourth event ends a period: every count halves.
        assert_eq!(p.fraction(0), (1, 1));
        assert_eq!(Prop::new(1, 8).fraction(0), (0, 1));
    }
}
