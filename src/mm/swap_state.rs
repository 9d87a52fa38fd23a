//! Swap-in of a hot page: `do_swap_page()` (mm/memory.c), `shmem_getpage()` (mm/shmem.c) →
//! `swapin_readahead()` → `read_swap_cache_async()` (mm/swap_state.c) → `swap_readpage()`
//! (mm/page_io.c), 2.6.32.
//!
//! A hot page that reclaim swapped out anyway (touched less often than it stays on the inactive
//! list) is touched again at its next sweep time (`mm/hot.rs`), and the task faults on its swap
//! entry. If the page is still in the swap cache (its write not started, in flight, or done and
//! the page not yet freed), `lookup_swap_cache()` finds it and the fault maps it without a read
//! (PGFAULT only); a private page under its write stays in the swap cache with its slot
//! (`reuse_swap_page()` does not delete a page under writeback). Otherwise `do_swap_page()`
//! calls `swapin_readahead()`, which reads the aligned cluster of `1 << page_cluster` slots
//! around the entry: for each slot in
//! use, `read_swap_cache_async()` allocates a page (`alloc_page_vma(GFP_HIGHUSER_MOVABLE)`, which
//! may reclaim; the fault's own page may end in the OOM killer), adds it locked to the swap
//! cache (NR_FILE_PAGES), puts it on the inactive anon list (`lru_cache_add_anon`) and submits
//! its read (`swap_readpage`: PSWPIN). The fault counts PGMAJFAULT and waits in `lock_page()`,
//! uninterruptibly, for the read. Then it maps the page: MM_ANONPAGES + 1, MM_SWAPENTS − 1, and,
//! since the touch is a write (a session writes its work areas), `reuse_swap_page()` takes the
//! page out of the swap cache and frees its slot: the data is only in memory again.
//!
//! A hot shm page swapped out is faulted back the same way by the segment's owner
//! (`shmem_getpage()` → `shmem_swapin()` → `swapin_readahead()`; then
//! `add_to_page_cache_locked()` at its index, `delete_from_swap_cache()`, `set_page_dirty()`,
//! `swap_free()`: the page is shmem again and its slot free).
//!
//! What the model reads ahead (docs/MODEL.md simplification 10): the task's other hot pages
//! swapped out near the same slot, mapped with the fault's page (the kernel maps each at its own
//! touch, within one `touch_interval`, as a minor fault on the swap cache); not the cluster's
//! cold neighbours. A swapped-out page's place on the device is the swap slot counter when it
//! was unmapped, which is where it is written unless its write is put off; the page itself is
//! recognised in the swap cache by its frame's swap-out number (`mm/hot.rs`).

use super::granularity::KernelPages;
use super::hot::{Fault, Region};
use super::page::{pg, LruList, PageId};
use super::task::Slice;
use super::{gfp, Actor, Machine};
use crate::block::ReqKind;
use crate::sim::SimTime;

/// `page_cluster` (mm/swap.c `swap_setup()`: 3 on machines above 16 MiB):
/// `swapin_readahead()` reads `1 << page_cluster` base pages around the fault's slot.
const PAGE_CLUSTER: u64 = 3;

impl Machine {
    /// Whether task `t` is in a swap-in fault or owes one now for `region`.
    pub(crate) fn swap_in_due(&self, t: usize, region: Region) -> bool {
        !self.tasks[t].read_pages.is_empty()
            || (self.mem.hot.any()
                && self
                    .mem
                    .hot
                    .next_fault(region)
                    .is_some_and(|due| due <= self.clock.now))
    }

    /// `at`, or `region`'s next swap-in fault if that comes sooner: when a task that faults for
    /// the region must wake.
    #[inline]
    pub(crate) fn wake_by(&self, region: Region, at: SimTime) -> SimTime {
        if !self.mem.hot.any() {
            return at;
        }
        self.mem
            .hot
            .next_fault(region)
            .map_or(at, |due| at.min(due))
    }

    /// A hot page of `region` was just swapped out: the task that faults for it, if it sleeps
    /// (paced, holding, or idle) past the page's next touch, wakes for the fault.
    pub(crate) fn wake_for_swap_in(&mut self, region: Region) {
        let t = match region {
            Region::Task(t) => t,
            Region::Segment(s) => self.vfs.segments[s].owner,
        };
        let task = &self.tasks[t];
        if !task.interruptible || task.dead || task.memdie {
            return; // a running task checks at its next page; a dying one faults no more
        }
        if let Some(due) = self
            .mem
            .hot
            .next_fault(region)
            .filter(|&d| d < task.wakes_at)
        {
            self.tasks[t].wakes_at = due;
            self.schedule(due, Actor::Task(t));
        }
    }

    /// Task `t` has nothing to do but touch `region`: it sleeps until the region's next swap-in
    /// fault, or until a hot page of it is swapped out ([`Machine::wake_for_swap_in`]).
    pub(crate) fn sleep_touching(&mut self, t: usize, region: Region) -> Slice {
        match self.mem.hot.next_fault(region) {
            Some(due) => self.sleep_until(t, due),
            None => {
                let cpu = std::mem::take(&mut self.tasks[t].pending_cpu_ns);
                self.tasks[t].cpu_ns += cpu;
                self.tasks[t].interruptible = true;
                self.tasks[t].wakes_at = SimTime::MAX;
                self.bump_gen(Actor::Task(t));
                Slice::Sleeping
            }
        }
    }

    /// The swap-in fault task `t` owes `region` now or is in: the slice's end if it sleeps in
    /// it, `None` once the fault is done (or none is due) and the task goes on. Its reads are
    /// in flight when it waits for pages whose slots it no longer holds
    /// ([`Machine::swap_readpage`] took them).
    pub(crate) fn swap_in(&mut self, t: usize, region: Region) -> Option<Slice> {
        let task = &self.tasks[t];
        if !task.read_pages.is_empty() && task.swap_in_slots.is_empty() {
            self.bump_gen(Actor::Task(t)); // woken by the next completion
            return Some(Slice::Sleeping);
        }
        if !self.swap_in_due(t, region) {
            return None;
        }
        self.do_swap_page(t, region)
    }

    /// `do_swap_page()` / `shmem_getpage()` for task `t`'s next fault on `region`: a page still
    /// in the swap cache is mapped at once (`None`: the task goes on); otherwise allocates the
    /// fault's page and then its cluster's, one at a time (each allocation may sleep in
    /// reclaim, and the slice resumes here), then submits their reads and waits.
    fn do_swap_page(&mut self, t: usize, region: Region) -> Option<Slice> {
        let cluster = self
            .granularity
            .batch(KernelPages(1 << PAGE_CLUSTER))
            .trailing_zeros();
        loop {
            let of = self.tasks[t].swap_in_slots.first().copied();
            if of.is_some() && self.tasks[t].read_pages.len() as u64 >= 1 << cluster {
                break;
            }
            let Some(next) = self.mem.hot.peek_fault(region, of, cluster) else {
                break;
            };
            if self.shm_page_under_write(region, next) {
                if of.is_some() {
                    break; // a neighbour in the swap cache is not read again
                }
                // shmem_getpage(): lookup_swap_cache() finds it, wait_on_page_writeback().
                self.mem.writeback_waiters.push((next.page, t));
                self.bump_gen(Actor::Task(t));
                return Some(Slice::Sleeping);
            }
            if self.swap_cache_hit(region, next) {
                // lookup_swap_cache() / read_swap_cache_async() find it: no read.
                self.mem.hot.take_fault(region, of, cluster);
                self.swap_cache_minor_fault(t, region, next);
                // The fault's own page (no cluster yet): a minor fault, and done.
                of?;
                continue;
            }
            if of.is_none() && self.tasks[t].alloc.is_none() && matches!(region, Region::Task(_)) {
                // A major fault, not resumed after a sleep in the allocator: "Contend for token
                // _before_ read-in" (do_swap_page(); shmem_getpage() does not contend).
                self.grab_swap_token(t);
            }
            let Some(id) = self.task_alloc(t, gfp::GFP_HIGHUSER_MOVABLE) else {
                return Some(Slice::Sleeping); // in reclaim: the slice resumes here
            };
            let Some(fault) = self.mem.hot.take_fault(region, of, cluster) else {
                unreachable!("a pending fault vanished while its page was allocated")
            };
            // The cluster's pages are contiguous on the device, after the fault's.
            let n = self.tasks[t].read_pages.len() as u32;
            let slot = of.map_or(fault.slot, |s| s.wrapping_add(n));
            self.read_swap_cache_async(t, region, id, Fault { slot, ..fault });
        }
        Some(self.swap_readpage(t))
    }

    /// Whether `fault`'s page is still in memory, in the swap cache and not under its write or
    /// a read: a touch finds it there (`lookup_swap_cache()`).
    fn swap_cache_hit(&self, region: Region, fault: Fault) -> bool {
        if !self.mem.hot.still_swap_cache(fault) {
            return false;
        }
        let p = &self.mem.pages[fault.page as usize];
        let ours = match region {
            Region::Task(t) => p.has(pg::ANON) && p.owner as usize == t,
            Region::Segment(s) => p.has(pg::SHMEM) && p.owner as usize == s,
        };
        // A private page under its write is found too: do_swap_page() maps it (below); shmem
        // waits for the write first ([`Machine::shm_page_under_write`]).
        let busy = match region {
            Region::Task(_) => pg::MAPPED | pg::LOCKED,
            Region::Segment(_) => pg::MAPPED | pg::WRITEBACK | pg::LOCKED,
        };
        ours && p.flags & (pg::SWAPCACHE | busy) == pg::SWAPCACHE
            && p.place == super::page::Place::Lru
    }

    /// Whether `fault` is of a shm segment's page still in the swap cache under its write, not
    /// mapped or locked: 2.6.32's `shmem_getpage()` finds it (`lookup_swap_cache()`) and waits
    /// for the write to end (`wait_on_page_writeback()`) before taking it back.
    fn shm_page_under_write(&self, region: Region, fault: Fault) -> bool {
        let Region::Segment(s) = region else {
            return false;
        };
        if !self.mem.hot.still_swap_cache(fault) {
            return false;
        }
        let p = &self.mem.pages[fault.page as usize];
        let state = pg::SHMEM | pg::SWAPCACHE | pg::WRITEBACK | pg::MAPPED | pg::LOCKED;
        p.owner as usize == s
            && p.flags & state == pg::SHMEM | pg::SWAPCACHE | pg::WRITEBACK
            && p.place == super::page::Place::Lru
    }

    /// `end_page_writeback()`'s `wake_up_page(page, PG_writeback)`: the tasks waiting for page
    /// `id`'s write run again (and retry their fault).
    pub(crate) fn wake_page_writeback_waiters(&mut self, id: PageId) {
        let mut waiters = std::mem::take(&mut self.mem.writeback_waiters);
        self.wake_waiters_of(id, &mut waiters);
        self.mem.writeback_waiters = waiters;
    }

    /// `unlock_page()`'s or `unlock_buffer()`'s wake-up: the tasks in `lock_page()` or
    /// `lock_buffer()` on page `id` run again once it is neither locked nor under the
    /// journal's data write.
    pub(crate) fn wake_page_lock_waiters(&mut self, id: PageId) {
        if self.mem.lock_waiters.is_empty()
            || self.mem.pages[id as usize].flags & (pg::LOCKED | pg::JOURNAL_IO) != 0
        {
            return;
        }
        let mut waiters = std::mem::take(&mut self.mem.lock_waiters);
        self.wake_waiters_of(id, &mut waiters);
        self.mem.lock_waiters = waiters;
    }

    /// Schedules, in order, every task of `waiters` waiting on page `id`, and takes it off.
    fn wake_waiters_of(&mut self, id: PageId, waiters: &mut Vec<(PageId, usize)>) {
        waiters.retain(|&(page, t)| {
            if page == id {
                self.schedule(self.clock.now, Actor::Task(t));
            }
            page != id
        });
    }

    /// The touch of a page still in the swap cache: mapped again without a read (PGFAULT, not
    /// PGMAJFAULT). A private page leaves the swap cache with its slot freed unless it is still
    /// under its write: 2.6.32's `reuse_swap_page()` then maps it writable without a copy but
    /// keeps it in the swap cache with its slot (`count == 1 && !PageWriteback(page)` guards
    /// `delete_from_swap_cache()`), its pte dirty.
    fn swap_cache_minor_fault(&mut self, t: usize, region: Region, fault: Fault) {
        let id = fault.page;
        self.stats.vm_events.pgfault += 1;
        match region {
            Region::Segment(_) => {
                self.mem.pages[id as usize].index = fault.index;
                self.shmem_swap_in_done(id);
            }
            Region::Task(_) => {
                self.mem.pages[id as usize].flags &= !pg::DIRTY;
                let behind = self.tasks[t].read_pages.len() as u64 + 1;
                self.map_swapped_anon(t, id, behind);
            }
        }
    }

    /// Task `t` exits: if it is in a swap-in fault whose reads were not submitted, its pages,
    /// locked in the swap cache, are unlocked and left to reclaim (reads in flight end in
    /// [`Machine::swap_in_done`]).
    pub(crate) fn swap_in_abandon(&mut self, t: usize) {
        if self.tasks[t].swap_in_slots.is_empty() {
            return; // no fault, a `stream-read` call, or reads in flight
        }
        self.tasks[t].swap_in_slots.clear();
        for id in std::mem::take(&mut self.tasks[t].read_pages) {
            self.mem.pages[id as usize].flags &= !pg::LOCKED;
        }
    }

    /// `read_swap_cache_async()`'s new page for `fault` of `region`: locked in the swap cache,
    /// on the inactive anon list, to be read. A private page's index is its slot; a shm page's
    /// is its index in the segment, where it goes back.
    fn read_swap_cache_async(&mut self, t: usize, region: Region, id: PageId, fault: Fault) {
        let p = &mut self.mem.pages[id as usize];
        (p.flags, p.owner, p.index) = match region {
            Region::Task(t) => (pg::ANON, t as u32, fault.slot),
            Region::Segment(s) => (pg::SHMEM, s as u32, fault.index),
        };
        p.flags |= pg::SWAPBACKED | pg::SWAPCACHE | pg::LOCKED;
        let zid = p.zone as usize;
        self.mem.zones[zid].stat.nr_file_pages += 1;
        self.lru_cache_add(id, LruList::InactiveAnon);
        self.tasks[t].read_pages.push(id);
        self.tasks[t].swap_in_slots.push(fault.slot);
    }

    /// `swap_readpage()` of every page of the fault (PSWPIN each), PGMAJFAULT, and the wait in
    /// `lock_page()`.
    fn swap_readpage(&mut self, t: usize) -> Slice {
        let Some(b) = self.mem.swap.bdi else {
            unreachable!("a page swapped out has a swap device")
        };
        let pages = self.tasks[t].read_pages.clone();
        let slots = std::mem::take(&mut self.tasks[t].swap_in_slots);
        for (&id, &slot) in pages.iter().zip(&slots) {
            let lba = super::page_writeback::swap_lba(slot);
            self.submit_bio(b, ReqKind::Read { task: t }, lba, id, Actor::Task(t));
        }
        self.stats.vm_events.pswpin += pages.len() as u64;
        self.stats.vm_events.pgmajfault += 1;
        if self.parked_disk(Actor::Task(t)).is_some() {
            // The sync list is exhausted: get_request_wait() until a read request is freed.
            self.get_request_wait(b, Actor::Task(t), crate::block::BLK_RW_SYNC);
            return Slice::Sleeping;
        }
        self.bump_gen(Actor::Task(t));
        Slice::Sleeping
    }

    /// The read of swap-in page `id` of task `t` completed: the rest of the fault. Done at the
    /// completion rather than when the task next runs (the same instant), so reclaim cannot
    /// free the page in between: the fault holds a reference to it in the kernel.
    pub(crate) fn swap_in_done(&mut self, t: usize, id: PageId) {
        let waiting = &mut self.tasks[t].read_pages;
        let in_flight = waiting.len() as u64;
        if let Some(i) = waiting.iter().position(|&w| w == id) {
            waiting.remove(i);
        }
        self.stats.vm_events.pgfault += 1;
        if self.mem.pages[id as usize].has(pg::SHMEM) {
            return self.shmem_swap_in_done(id);
        }
        if self.tasks[t].dead {
            // Its fault ended with the task (do_exit): a clean swap cache page nobody maps,
            // whose slot went with the task's swap entries; reclaim frees it.
            self.mem.pages[id as usize].flags &= !pg::LOCKED;
            return;
        }
        self.map_swapped_anon(t, id, in_flight);
    }

    /// The end of `do_swap_page()` for task `t`'s page `id`: mapped again, and (a write fault)
    /// `reuse_swap_page()` takes it out of the swap cache and frees its slot, unless the page is
    /// under writeback (`!PageWriteback(page)` guards the delete: it stays, slot held). It takes
    /// the place its fault left in the task's hot set, `behind` slots before the hot set's end
    /// (the pages of the same fault still to map come after it).
    fn map_swapped_anon(&mut self, t: usize, id: PageId, behind: u64) {
        let p = &mut self.mem.pages[id as usize];
        let in_write = p.has(pg::WRITEBACK);
        p.flags &= !pg::LOCKED;
        if !in_write {
            p.flags &= !pg::SWAPCACHE;
        }
        p.flags |= pg::MAPPED | pg::YOUNG;
        let zid = p.zone as usize;
        let z = &mut self.mem.zones[zid].stat;
        z.nr_anon_pages += 1;
        if !in_write {
            z.nr_file_pages -= 1;
            self.mem.swap.free += 1;
        }
        self.tasks[t].swap_ents -= 1;
        let hot_end = self.mem.hot.hot_end(Region::Task(t)).unwrap_or(0);
        self.task_add_hot_anon_page(t, id, hot_end.saturating_sub(behind));
    }

    /// `shmem_getpage()` once the read is done: the page goes back into its segment's page
    /// cache at its index, out of the swap cache, dirty, mapped by the toucher; the slot is
    /// freed.
    fn shmem_swap_in_done(&mut self, id: PageId) {
        let p = &mut self.mem.pages[id as usize];
        p.flags &= !(pg::SWAPCACHE | pg::LOCKED);
        p.flags |= pg::DIRTY | pg::MAPPED | pg::YOUNG;
        let (s, idx, zid) = (p.owner as usize, p.index as usize, p.zone as usize);
        let seg = &mut self.vfs.segments[s];
        debug_assert_eq!(seg.pages[idx], super::page::NIL);
        seg.pages[idx] = id;
        seg.resident += 1;
        seg.swapped -= 1;
        seg.mapped += 1;
        let z = &mut self.mem.zones[zid].stat;
        z.nr_shmem += 1;
        z.nr_mapped += 1;
        self.mem.swap.free += 1;
    }
}
