//! LRU entry and reference promotion (`mm/swap.c`), IO completion (`end_page_writeback` in
//! `mm/filemap.c`), and the swap/page-cache removal steps reclaim uses (`add_to_swap`,
//! `try_to_unmap`, `__remove_mapping`), 2.6.32–2.6.36 (reclaim-oom §5, §7, §11).
//!
//! The per-CPU add and rotate pagevecs (14 pages) are not modelled: a page joins its LRU list at
//! once and a completed reclaim write rotates at once. The writer's own `mark_page_accessed`
//! still only sets PG_referenced on a new page, which is what the 14-page delay produces
//! (reclaim-oom §15.2 item 12 allows exactly this simplification).

use super::hot::Region;
use super::page::{pg, LruList, PageId, Place};
use super::Machine;

impl Machine {
    /// `mark_page_accessed()`: inactive,unreferenced → inactive,referenced → active.
    pub fn mark_page_accessed(&mut self, id: PageId) {
        let p = self.mem.pages[id as usize];
        if !p.has(pg::ACTIVE)
            && !p.has(pg::UNEVICTABLE)
            && p.has(pg::REFERENCED)
            && p.place == Place::Lru
        {
            // activate_page()
            let file = p.is_file_cache();
            self.mem.lru_del(id, Place::Held);
            self.mem.pages[id as usize].flags |= pg::ACTIVE;
            self.mem.lru_add_head(id, LruList::of(file, true));
            self.stats.vm_events.pgactivate += 1;
            let lv = self.mem.zones[p.zone as usize].lruvec as usize;
            let z = &mut self.mem.zones[lv];
            z.recent_scanned[usize::from(file)] += 1;
            z.recent_rotated[usize::from(file)] += 1;
            self.mem.pages[id as usize].flags &= !pg::REFERENCED;
        } else if !p.has(pg::REFERENCED) {
            self.mem.pages[id as usize].flags |= pg::REFERENCED;
        }
    }

    /// `lru_cache_add_*()` + `____pagevec_lru_add()`: a new page at the head of its list;
    /// `update_page_reclaim_stat()` counts it as scanned (and rotated if active).
    pub fn lru_cache_add(&mut self, id: PageId, l: LruList) {
        let zid = self.mem.pages[id as usize].zone as usize;
        let lv = self.mem.zones[zid].lruvec as usize;
        if l.is_active() {
            self.mem.pages[id as usize].flags |= pg::ACTIVE;
        }
        self.mem.lru_add_head(id, l);
        if l != LruList::Unevictable {
            let z = &mut self.mem.zones[lv];
            z.recent_scanned[usize::from(l.is_file())] += 1;
            if l.is_active() {
                z.recent_rotated[usize::from(l.is_file())] += 1;
            }
        }
    }

    /// `end_page_writeback()`: rotate a reclaim-written page to the inactive tail, then
    /// `test_clear_page_writeback()`.
    pub fn end_page_writeback(&mut self, id: PageId) {
        let p = self.mem.pages[id as usize];
        debug_assert!(
            p.has(pg::WRITEBACK),
            "end_page_writeback on a page not under writeback"
        );
        if p.has(pg::RECLAIM) {
            self.mem.pages[id as usize].flags &= !pg::RECLAIM;
            self.rotate_reclaimable_page(id);
        }
        self.mem.pages[id as usize].flags &= !pg::WRITEBACK;
        if !self.mem.writeback_waiters.is_empty() {
            self.wake_page_writeback_waiters(id);
        }
        if p.has(pg::FILE) {
            self.vfs.inodes[p.owner as usize].nr_writeback -= 1;
            if p.has(pg::JOURNAL_WAIT) {
                self.journal_page_waited(id);
            }
        }
        let zid = p.zone as usize;
        self.mem.zones[zid].stat.nr_writeback -= 1;
        self.mem.vm_stat.nr_writeback -= 1;
        self.acct_reclaim_writeback(self.mem.zones[zid].node as usize);
        if let Some(b) = self
            .page_bdi(id)
            .filter(|_| self.page_accounts_writeback(id))
        {
            self.wb.bdis[b].writeback -= 1;
            self.bdi_writeout_inc(b);
        }
    }

    /// `bdi_cap_account_writeback()` of the page's mapping: false for swap cache pages, whose
    /// `swap_backing_dev_info` is `BDI_CAP_NO_ACCT_AND_WRITEBACK` (mm/swap_state.c 2.6.32), so
    /// `test_set_page_writeback`/`test_clear_page_writeback` change no bdi's BDI_WRITEBACK and
    /// no writeout proportion for them; the zone and global NR_WRITEBACK still count them.
    pub fn page_accounts_writeback(&self, id: PageId) -> bool {
        !self.mem.pages[id as usize].has(pg::SWAPCACHE)
    }

    /// `rotate_reclaimable_page()` + `pagevec_move_tail()`.
    fn rotate_reclaimable_page(&mut self, id: PageId) {
        let p = self.mem.pages[id as usize];
        if p.flags & (pg::LOCKED | pg::DIRTY | pg::ACTIVE | pg::UNEVICTABLE) == 0
            && p.place == Place::Lru
        {
            let l = p.lru;
            self.mem.lru_del(id, Place::Held);
            self.mem.lru_add_tail(id, l);
            self.stats.vm_events.pgrotated += 1;
        }
    }

    /// The bdi (disk index) a page is written to: its file's disk, or the swap disk for swap
    /// cache pages; `None` for shmem pages (their writepage needs no queue until they are swap
    /// cache) and pages of diskless mounts.
    pub fn page_bdi(&self, id: PageId) -> Option<usize> {
        let p = &self.mem.pages[id as usize];
        if p.has(pg::SWAPCACHE) {
            return self.mem.swap.bdi;
        }
        if p.has(pg::FILE) {
            let ino = &self.vfs.inodes[p.owner as usize];
            return self.vfs.mounts[ino.mount].spec.disk;
        }
        None
    }

    /// `add_to_swap()` for a private anon page: a swap slot and the swap cache; the page is dirty.
    pub fn add_to_swap(&mut self, id: PageId) -> bool {
        if self.mem.swap.free == 0 {
            return false;
        }
        self.mem.swap.free -= 1;
        let zid = self.mem.pages[id as usize].zone as usize;
        self.mem.pages[id as usize].flags |= pg::SWAPCACHE | pg::DIRTY;
        self.mem.zones[zid].stat.nr_file_pages += 1;
        true
    }

    /// `try_to_unmap()`: drop every pte; anon rss becomes a swap entry, shm rss drops.
    pub fn try_to_unmap(&mut self, id: PageId) {
        let p = self.mem.pages[id as usize];
        if p.has(pg::ANON) {
            let t = p.owner as usize;
            let hot_end = self.hot_swapped_out(Region::Task(t), id, p.index);
            self.task_forget_anon_page(t, id, hot_end);
            self.tasks[t].swap_ents += 1;
            self.mem.zones[p.zone as usize].stat.nr_anon_pages -= 1;
        } else if p.has(pg::SHMEM) {
            self.vfs.segments[p.owner as usize].mapped -= 1;
            self.mem.zones[p.zone as usize].stat.nr_mapped -= 1;
        }
        let p = &mut self.mem.pages[id as usize];
        p.flags &= !(pg::MAPPED | pg::YOUNG);
        if p.has(pg::SHMEM) || p.has(pg::SWAPCACHE) {
            // The pte dirty bit moves to the page: every touch of a hot page is a write, so an
            // anon page mapped again from the swap cache was written since.
            p.flags |= pg::DIRTY;
        }
    }

    /// `__remove_mapping()` for a clean, unmapped page: out of the page cache or swap cache.
    pub fn remove_mapping(&mut self, id: PageId) {
        let p = self.mem.pages[id as usize];
        let z = &mut self.mem.zones[p.zone as usize].stat;
        if p.has(pg::SWAPCACHE) {
            z.nr_file_pages -= 1;
            // The slot keeps the data; the owner's swap entry or the segment's swapped count
            // already records it.
        } else if p.has(pg::FILE) {
            z.nr_file_pages -= 1;
            let ino = &mut self.vfs.inodes[p.owner as usize];
            ino.pages.remove(p.index);
        } else if p.has(pg::SHMEM) {
            unreachable!("a resident shmem page is always dirty; it leaves through the swap cache");
        }
        self.mem.pages[id as usize].flags &= !(pg::PRIVATE | pg::BUFFERS_CLEAN);
    }

    /// `shmem_writepage()` with a swap slot: the page leaves the segment for the swap cache.
    pub fn shmem_to_swap_cache(&mut self, id: PageId) {
        debug_assert!(self.mem.swap.free > 0);
        self.mem.swap.free -= 1;
        let p = self.mem.pages[id as usize];
        self.hot_swapped_out(Region::Segment(p.owner as usize), id, p.index);
        let s = &mut self.vfs.segments[p.owner as usize];
        s.pages[p.index as usize] = super::page::NIL;
        s.resident -= 1;
        s.swapped += 1;
        self.mem.pages[id as usize].flags |= pg::SWAPCACHE;
        self.mem.zones[p.zone as usize].stat.nr_shmem -= 1;
    }

    /// Page `id` of `region` at `index` leaves it for swap: if it is hot, its swap-in fault is
    /// recorded (`mm/hot.rs`) and the task that faults for the region woken for it. Returns the
    /// region's hot set end before, if the page was hot.
    fn hot_swapped_out(&mut self, region: Region, id: PageId, index: u32) -> Option<u64> {
        if !self.mem.hot.any() {
            return None;
        }
        let (hint, now) = (self.mem.next_swap_slot, self.clock.now);
        let hot_end = self
            .mem
            .hot
            .swapped_out(region, id, u64::from(index), hint, now)?;
        self.wake_for_swap_in(region);
        Some(hot_end)
    }
}
