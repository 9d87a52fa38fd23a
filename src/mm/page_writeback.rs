//! Dirty pages and their limits: `mm/page-writeback.c` 2.6.32–2.6.36 (writeback-fs §A).
//!
//! Dirtying (`account_page_dirtied`, `__set_page_dirty_nobuffers`, `redirty_page_for_writepage`),
//! cleaning (`clear_page_dirty_for_io`, `set_page_writeback`), the global limits
//! (`determine_dirtyable_memory`, `get_dirty_limits` / `global_dirty_limits`, the per-bdi and
//! per-task shares), `balance_dirty_pages` as a resumable state machine, and `Machine::writepage`,
//! which applies a filesystem's decision (`fs::writepage_decision`) under the run's policy.
//!
//! The per-bdi and per-task floating proportions (`lib/proportions.c`) are computed as exact
//! shares of decayed event counts, halved every period of `2^calc_period_shift()` events; with
//! one disk and one dirtier both shares are 1, as in the kernel.

use super::fs_writeback::WbCursor;
use super::page::{pg, PageId};
use super::{Actor, Machine};
use crate::block::ReqKind;
use crate::fs::{self, Decision, WritepageCaller, WritepageResult};
use crate::spec::{FsType, Policy};

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
    /// `global_reclaimable_pages()`: file LRUs, plus anon LRUs while free swap slots remain.
    pub fn global_reclaimable_pages(&self) -> u64 {
        (0..self.zones.len())
            .map(|z| self.zone_reclaimable_pages(z))
            .sum()
    }

    /// `determine_dirtyable_memory()`: free + reclaimable + 1 (no highmem on x86_64).
    pub fn dirtyable_memory(&self) -> u64 {
        self.global_free() + self.global_reclaimable_pages() + 1
    }

    /// `get_dirty_limits()` / `global_dirty_limits()`: `(background, dirty)` pages.
    pub fn global_dirty_limits(&self) -> (u64, u64) {
        let vm = &self.spec.vm;
        let available = self.dirtyable_memory();
        let dirty = if vm.dirty_bytes > 0 {
            vm.dirty_bytes.div_ceil(4096)
        } else {
            u64::from(vm.dirty_ratio.max(5)) * available / 100
        };
        let mut bg = if vm.dirty_background_bytes > 0 {
            vm.dirty_background_bytes.div_ceil(4096)
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
        let (num, den) = self.bdi_prop.fraction(bdi);
        let mut bdi_dirty = if den == 1 && num == 0 {
            0
        } else {
            dirty * num / den
        };
        if self.release.minor() <= 35 {
            // clip_bdi_dirty_limit()
            let global = self.global(|z| z.stat.nr_dirty + z.stat.nr_writeback);
            let avail = dirty.saturating_sub(global);
            let b = &self.bdis[bdi];
            bdi_dirty = bdi_dirty.min(avail + b.reclaimable + b.writeback);
        }
        let (tn, td) = self.task_prop.fraction(t);
        let inv = (bdi_dirty >> 3) * tn / td;
        (bdi_dirty - inv).max(bdi_dirty / 2)
    }

    fn dirty_state(&self, bdi: usize, t: usize) -> DirtyState {
        let (bg, dirty) = self.global_dirty_limits();
        DirtyState {
            bg,
            dirty,
            bdi_thresh: self.bdi_task_dirty_limit(bdi, t, dirty),
            nr_reclaimable: self.global(|z| z.stat.nr_dirty),
            nr_writeback: self.global(|z| z.stat.nr_writeback),
            bdi_reclaimable: self.bdis[bdi].reclaimable,
            bdi_writeback: self.bdis[bdi].writeback,
        }
    }

    /// `__bdi_writeout_inc()`: a completed writeback counts toward the bdi's share.
    pub fn bdi_writeout_inc(&mut self, bdi: usize) {
        self.bdi_prop.inc(bdi);
    }

    /// `__set_page_dirty_nobuffers()` + `account_page_dirtied()` for a file page: PG_dirty,
    /// NR_FILE_DIRTY, BDI_RECLAIMABLE, the dirty tag, the task's dirtier share, and
    /// `__mark_inode_dirty(I_DIRTY_PAGES)`. Returns whether the page was clean before.
    pub fn set_page_dirty(&mut self, id: PageId, dirtier: Option<usize>) -> bool {
        let p = self.pages[id as usize];
        if p.has(pg::DIRTY) {
            return false;
        }
        self.pages[id as usize].flags |= pg::DIRTY;
        if !p.has(pg::FILE) {
            return true; // shmem/swap cache: no dirty accounting
        }
        self.zones[p.zone as usize].stat.nr_dirty += 1;
        let ino = p.owner as usize;
        self.inodes[ino].tag_dirty(p.index, true);
        if let Some(b) = self.mounts[self.inodes[ino].mount].spec.disk {
            self.bdis[b].reclaimable += 1;
        }
        if let Some(t) = dirtier {
            self.task_prop.inc(t);
        }
        self.mark_inode_dirty(ino);
        true
    }

    /// `clear_page_dirty_for_io()`: ClearPageReclaim, then clear PG_dirty with its accounting.
    /// Returns whether the page was dirty.
    pub fn clear_page_dirty_for_io(&mut self, id: PageId) -> bool {
        let p = &mut self.pages[id as usize];
        p.flags &= !pg::RECLAIM;
        if !p.has(pg::DIRTY) {
            return false;
        }
        p.flags &= !pg::DIRTY;
        let p = *p;
        if p.has(pg::FILE) {
            self.zones[p.zone as usize].stat.nr_dirty -= 1;
            let ino = p.owner as usize;
            self.inodes[ino].tag_dirty(p.index, false);
            if let Some(b) = self.mounts[self.inodes[ino].mount].spec.disk {
                self.bdis[b].reclaimable -= 1;
            }
        }
        true
    }

    /// `set_page_writeback()` and submission of the page's IO to its disk.
    pub fn set_page_writeback_and_submit(&mut self, id: PageId) {
        let p = self.pages[id as usize];
        debug_assert!(!p.has(pg::WRITEBACK));
        self.pages[id as usize].flags |= pg::WRITEBACK;
        self.zones[p.zone as usize].stat.nr_writeback += 1;
        let b = self.page_bdi(id).expect("writeback of a page with no disk");
        self.bdis[b].writeback += 1;
        let lba = self.page_lba(id);
        self.disk_submit(b, ReqKind::Write, lba, id);
    }

    /// The disk block of a page: its file's region, or a swap slot.
    pub fn page_lba(&self, id: PageId) -> u64 {
        let p = &self.pages[id as usize];
        if p.has(pg::SWAPCACHE) {
            // The page's index is its swap slot once it is written (assign_swap_slot).
            (1 << 40) + u64::from(p.index)
        } else {
            self.inodes[p.owner as usize].disk_base + u64::from(p.index)
        }
    }

    /// `scan_swap_map()` hands out slots in order, so pages swapped out together are contiguous on
    /// the swap device and merge into requests. The page is unmapped by now, so its `index` (the
    /// owner's slot or the segment index) is free to hold the swap slot.
    fn assign_swap_slot(&mut self, id: PageId) {
        self.pages[id as usize].index = self.next_swap_slot;
        self.next_swap_slot = self.next_swap_slot.wrapping_add(1);
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
        let p = self.pages[id as usize];
        let (fs_type, locked) = if p.has(pg::SHMEM) && !p.has(pg::SWAPCACHE) {
            (FsType::Tmpfs, self.segments[p.owner as usize].locked)
        } else if p.has(pg::SWAPCACHE) {
            // swap_writepage(): always writes.
            self.assign_swap_slot(id);
            self.ev.pswpout += 1;
            self.set_page_writeback_and_submit(id);
            return WritepageResult::Written;
        } else {
            (
                self.mounts[self.inodes[p.owner as usize].mount].spec.fs,
                false,
            )
        };
        let swap_ok = self.swap.total > 0 && self.swap.free > 0;
        let d = fs::writepage_decision(
            fs_type,
            self.release,
            p.flags,
            caller,
            self.actor_pf(actor),
            locked,
            swap_ok,
        );
        match d {
            Decision::Write { cluster } => {
                self.write_one(id, actor);
                if cluster > 0 {
                    self.xfs_cluster_write(id, cluster, actor);
                }
                WritepageResult::Written
            }
            Decision::NothingToWrite => {
                // set_page_writeback() then end_page_writeback() with nothing submitted.
                let f = &mut self.pages[id as usize].flags;
                *f &= !(pg::RECLAIM | pg::BUFFERS_CLEAN | pg::JOURNAL_IO);
                WritepageResult::Written
            }
            Decision::Busy => {
                self.set_page_dirty(id, None);
                WritepageResult::Redirtied
            }
            Decision::Refuse => {
                self.rc.writepage_refused += 1;
                self.observe_refused(fs_type, caller);
                self.set_page_dirty(id, actor_task(actor));
                if for_reclaim && self.policy == Policy::Activate {
                    WritepageResult::Activate
                } else {
                    WritepageResult::Redirtied
                }
            }
            Decision::ShmemActivate => {
                self.pages[id as usize].flags |= pg::DIRTY;
                if for_reclaim {
                    WritepageResult::Activate
                } else {
                    WritepageResult::Redirtied
                }
            }
            Decision::SwapOut => {
                self.shmem_to_swap_cache(id);
                self.assign_swap_slot(id);
                self.ev.pswpout += 1;
                self.set_page_writeback_and_submit(id);
                WritepageResult::Written
            }
        }
    }

    /// Block allocation (for delayed pages) and IO submission of one page.
    fn write_one(&mut self, id: PageId, actor: Actor) {
        if self.pages[id as usize].has(pg::DELALLOC) {
            self.pages[id as usize].flags &= !pg::DELALLOC;
        }
        self.pages[id as usize].flags &= !(pg::BUFFERS_CLEAN | pg::JOURNAL_IO);
        self.charge_actor(actor, super::cost::SUBMIT_PAGE);
        self.set_page_writeback_and_submit(id);
        match actor {
            Actor::Kswapd(_) | Actor::Task(_) if self.in_reclaim(actor) => {
                self.rc.pages_written_by_reclaim += 1;
            }
            Actor::Journal(_) => self.rc.pages_written_by_journal += 1,
            _ => self.rc.pages_written_by_writeback += 1,
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
        let p = self.pages[id as usize];
        let ino = p.owner as usize;
        let bdi = self.page_bdi(id).expect("xfs page without disk");
        for idx in (p.index + 1..).take(max as usize) {
            if self.disks[bdi].congested {
                break;
            }
            let Some(&next) = self.inodes[ino].pages.get(idx as usize) else {
                break;
            };
            if next == super::page::NIL {
                break;
            }
            let f = self.pages[next as usize].flags;
            if f & pg::DIRTY == 0 || f & pg::WRITEBACK != 0 {
                break;
            }
            self.clear_page_dirty_for_io(next);
            self.write_one(next, actor);
        }
    }

    /// Charges CPU time to any actor.
    pub fn charge_actor(&mut self, actor: Actor, ns: u64) {
        match actor {
            Actor::Task(t) => self.tasks[t].pending_cpu_ns += ns,
            Actor::Kswapd(n) => self.nodes[n].kswapd_cpu_ns += ns,
            Actor::Flusher(b) => self.bdis[b].cpu_ns += ns,
            Actor::Journal(m) => self.mounts[m].cpu_ns += ns,
        }
    }

    /// `balance_dirty_pages_ratelimited()` after task `t` dirtied a page of `bdi`: every
    /// `ratelimit_pages` (8 once the bdi's limit was exceeded) start `balance_dirty_pages`.
    /// Returns whether the task must now run the throttling loop.
    pub fn balance_dirty_pages_ratelimited(&mut self, t: usize, bdi: usize) -> bool {
        let ratelimit = if self.bdis[bdi].dirty_exceeded {
            8
        } else {
            self.ratelimit_pages
        };
        let cpu = self.tasks[t].cpu;
        self.bdp_ratelimits[cpu] += 1;
        if self.bdp_ratelimits[cpu] < ratelimit {
            return false;
        }
        let n = std::mem::take(&mut self.bdp_ratelimits[cpu]);
        // sync_writeback_pages(): max(n, ratelimit_pages) * 3/2
        let d = n.max(self.ratelimit_pages);
        self.tasks[t].bdp = Some(Bdp {
            bdi,
            write_chunk: d + d / 2,
            pages_written: 0,
            pause: 1,
            phase: BdpPhase::Check,
        });
        true
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
        let v36 = self.release.minor() >= 36;
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
                    self.bdis[b.bdi].dirty_exceeded = true;
                    if s.bdi_reclaimable > s.bdi_thresh {
                        let c = WbCursor::for_writer(b.bdi, b.write_chunk, self.now);
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
                    let sleep = b.pause * self.jiffy;
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
        let s = self.dirty_state(b.bdi, t);
        if s.bdi_reclaimable + s.bdi_writeback < s.bdi_thresh {
            self.bdis[b.bdi].dirty_exceeded = false;
        }
        if self.bdis[b.bdi].writeback_in_progress() {
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
