//! The per-bdi flusher threads and the inode walk they share with throttled writers:
//! `fs/fs-writeback.c` 2.6.32–2.6.36 (writeback-fs §B), and `write_cache_pages()` with what a
//! filesystem's `->writepages` adds to it (§A.8; `fs::Writepages`).
//!
//! Disk submission lives here too: pages are plugged during an event and the queue is unplugged
//! at its end, so pages submitted together merge into requests as the kernel's plugging allows.

use std::collections::VecDeque;

use super::granularity::KernelPages;
use super::page::{pg, NIL};
use super::{cost, Actor, Machine};
use crate::block::ReqKind;
use crate::fs::WritepageCaller;
use crate::sim::{SimTime, MSEC};

/// `MAX_WRITEBACK_PAGES`: 1024 (4 KiB) pages per `wb_writeback` round.
pub const MAX_WRITEBACK_PAGES: KernelPages = KernelPages(1024);
/// Queued works are merged past this many (memory bound; merged works write the same pages).
const MAX_QUEUED_WORKS: usize = 4_096;

/// Which inode list an inode is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InodeList {
    /// None (clean).
    None,
    /// `b_dirty`.
    Dirty,
    /// `b_io`.
    Io,
    /// `b_more_io`.
    MoreIo,
}

/// A queued writeback request (`struct bdi_work` / `wb_writeback_work`).
#[derive(Clone, Copy, Debug)]
pub struct WritebackWork {
    /// Pages to write (LONG_MAX for background).
    pub nr_pages: i64,
    /// kupdate (expired inodes only).
    pub for_kupdate: bool,
    /// Background: stop below the background threshold.
    pub for_background: bool,
    /// Continue at each file's `writeback_index`.
    pub range_cyclic: bool,
}

/// A `wb_writeback()` in progress.
#[derive(Clone, Debug)]
struct ActiveWork {
    work: WritebackWork,
    cursor: Option<WbCursor>,
}

/// One file being written by `writeback_single_inode()` → `do_writepages()`.
#[derive(Clone, Debug)]
struct InodeWb {
    ino: usize,
    next: u32,
    end: u32,
    start: u32,
    wrapped: bool,
    budget: i64,
    processed: i64,
    skipped: u64,
    extent_left: u32,
    /// [ext4 dioread_nolock] the io_end of the extent being written (`mpd->io_submit.io_end`).
    io_end: Option<u32>,
}

/// `writeback_inodes_wb()` with its `writeback_control`, resumable when the queue is full.
#[derive(Clone, Debug)]
pub struct WbCursor {
    /// The bdi.
    pub bdi: usize,
    /// `wbc.nr_to_write`.
    pub nr_to_write: i64,
    /// Pages processed (`write_chunk - wbc.nr_to_write` for the caller).
    pub written: u64,
    /// `wbc.for_kupdate`.
    pub for_kupdate: bool,
    /// `wbc.range_cyclic`.
    pub range_cyclic: bool,
    /// `wbc.older_than_this`.
    pub older_than: Option<SimTime>,
    /// When the walk started (livelock avoidance).
    pub started: SimTime,
    /// `wbc.more_io`.
    pub more_io: bool,
    queued: bool,
    cur: Option<InodeWb>,
}

impl WbCursor {
    fn new(
        bdi: usize,
        nr_to_write: i64,
        work: &WritebackWork,
        older_than: Option<SimTime>,
        now: SimTime,
    ) -> WbCursor {
        WbCursor {
            bdi,
            nr_to_write,
            written: 0,
            for_kupdate: work.for_kupdate,
            range_cyclic: work.range_cyclic,
            older_than,
            started: now,
            more_io: false,
            queued: false,
            cur: None,
        }
    }

    /// The walk a throttled writer makes in `balance_dirty_pages` (`writeback_inodes_wbc`).
    pub fn for_writer(bdi: usize, write_chunk: u64, now: SimTime) -> WbCursor {
        let w = WritebackWork {
            nr_pages: 0,
            for_kupdate: false,
            for_background: false,
            range_cyclic: true,
        };
        WbCursor::new(bdi, write_chunk as i64, &w, None, now)
    }
}

/// A backing device: its dirty inode lists, counters and flusher thread.
#[derive(Clone, Debug)]
pub struct Bdi {
    /// Its disk.
    pub disk: usize,
    /// Flusher event generation.
    pub gen: u32,
    /// Flusher CPU time not yet charged.
    pub cpu_ns: u64,
    /// BDI_RECLAIMABLE.
    pub reclaimable: u64,
    /// BDI_WRITEBACK.
    pub writeback: u64,
    /// `bdi->dirty_exceeded`.
    pub dirty_exceeded: bool,
    /// `b_dirty`: newest at the front.
    pub b_dirty: VecDeque<usize>,
    /// `b_io`: next at the front.
    pub b_io: VecDeque<usize>,
    /// `b_more_io`.
    pub b_more_io: VecDeque<usize>,
    /// Queued works.
    pub works: VecDeque<WritebackWork>,
    active: Option<ActiveWork>,
    /// When kupdate last ran.
    pub last_old_flush: SimTime,
    /// When the next kupdate is due.
    pub next_kupdate: SimTime,
    /// Blocked in `get_request_wait`.
    pub blocked: bool,
    /// Sleeping with nothing to do.
    pub idle: bool,
    /// The IO-less throttle's bandwidth estimate [3.2+] (`bdi_update_bandwidth`).
    pub bw: super::page_writeback::Bandwidth,
    /// `MAX_WRITEBACK_PAGES` in simulated pages: the same 4 MiB per round (a batch).
    pub max_writeback_pages: i64,
    /// The flusher thread as a task: its allocation context (`Task::flusher`), set at boot.
    pub kthread: usize,
}

impl Bdi {
    /// The bdi of disk `disk`, writing pages of granularity `granularity`.
    pub fn new(disk: usize, granularity: super::granularity::Granularity) -> Bdi {
        let batch = |base: KernelPages| granularity.batch(base) as i64;
        Bdi {
            disk,
            gen: 0,
            cpu_ns: 0,
            reclaimable: 0,
            writeback: 0,
            dirty_exceeded: false,
            b_dirty: VecDeque::new(),
            b_io: VecDeque::new(),
            b_more_io: VecDeque::new(),
            works: VecDeque::new(),
            active: None,
            last_old_flush: 0,
            next_kupdate: SimTime::MAX,
            blocked: false,
            idle: true,
            bw: super::page_writeback::Bandwidth::new(granularity),
            max_writeback_pages: batch(MAX_WRITEBACK_PAGES),
            kthread: usize::MAX,
        }
    }

    /// `writeback_in_progress()`: work queued or running.
    pub fn writeback_in_progress(&self) -> bool {
        !self.works.is_empty() || self.active.is_some()
    }

    fn has_dirty_io(&self) -> bool {
        !self.b_dirty.is_empty() || !self.b_io.is_empty() || !self.b_more_io.is_empty()
    }
}

impl Machine {
    /// `__mark_inode_dirty(I_DIRTY_PAGES)`.
    pub fn mark_inode_dirty(&mut self, ino: usize) {
        let inode = &mut self.vfs.inodes[ino];
        if inode.i_dirty {
            return;
        }
        inode.i_dirty = true;
        if inode.i_sync {
            return; // the writeback in progress requeues it
        }
        inode.dirtied_when = Some(self.clock.now);
        let Some(b) = self.vfs.mounts[inode.mount].spec.disk else {
            return;
        };
        if inode.list == InodeList::None {
            inode.list = InodeList::Dirty;
            self.wb.bdis[b].b_dirty.push_front(ino);
        }
    }

    /// `redirty_tail()`: back to the head of `b_dirty`, refreshing `dirtied_when` only when it
    /// is older than the newest dirty inode's.
    fn redirty_tail(&mut self, b: usize, ino: usize) {
        self.unlist_inode(b, ino);
        if let Some(&newest) = self.wb.bdis[b].b_dirty.front() {
            if self.vfs.inodes[ino].dirtied_when < self.vfs.inodes[newest].dirtied_when {
                self.vfs.inodes[ino].dirtied_when = Some(self.clock.now);
            }
        }
        self.vfs.inodes[ino].list = InodeList::Dirty;
        self.wb.bdis[b].b_dirty.push_front(ino);
    }

    /// `requeue_io()`: to `b_more_io`.
    fn requeue_io(&mut self, b: usize, ino: usize) {
        self.unlist_inode(b, ino);
        self.vfs.inodes[ino].list = InodeList::MoreIo;
        self.wb.bdis[b].b_more_io.push_back(ino);
    }

    fn unlist_inode(&mut self, b: usize, ino: usize) {
        let bdi = &mut self.wb.bdis[b];
        match self.vfs.inodes[ino].list {
            InodeList::None => {}
            InodeList::Dirty => bdi.b_dirty.retain(|&i| i != ino),
            InodeList::Io => bdi.b_io.retain(|&i| i != ino),
            InodeList::MoreIo => bdi.b_more_io.retain(|&i| i != ino),
        }
        self.vfs.inodes[ino].list = InodeList::None;
    }

    /// `queue_io()`: `b_more_io` first, then the expired inodes of `b_dirty`, oldest first.
    fn queue_io(&mut self, b: usize, older_than: Option<SimTime>) {
        while let Some(ino) = self.wb.bdis[b].b_more_io.pop_front() {
            self.vfs.inodes[ino].list = InodeList::Io;
            self.wb.bdis[b].b_io.push_back(ino);
        }
        while let Some(&ino) = self.wb.bdis[b].b_dirty.back() {
            let expired = match (older_than, self.vfs.inodes[ino].dirtied_when) {
                (Some(limit), Some(when)) => when <= limit,
                _ => true,
            };
            if !expired {
                break;
            }
            self.wb.bdis[b].b_dirty.pop_back();
            self.vfs.inodes[ino].list = InodeList::Io;
            self.wb.bdis[b].b_io.push_back(ino);
        }
    }

    /// `writeback_inodes_wb()`: writes inodes from `b_io` until `nr_to_write` is used up.
    /// Returns `false` when `actor` blocked on a full request queue (it is woken later).
    pub fn writeback_inodes_wb(&mut self, actor: Actor, c: &mut WbCursor) -> bool {
        let b = c.bdi;
        if !c.queued {
            if !c.for_kupdate || self.wb.bdis[b].b_io.is_empty() {
                self.queue_io(b, c.older_than);
            }
            c.queued = true;
        }
        loop {
            if let Some(mut iw) = c.cur.take() {
                if !self.write_inode_pages(actor, c, &mut iw) {
                    c.cur = Some(iw);
                    return false;
                }
                self.finish_inode(c, &iw);
                if c.nr_to_write <= 0 {
                    c.more_io = true;
                    return true;
                }
                continue;
            }
            if c.nr_to_write <= 0 {
                return true;
            }
            let Some(&ino) = self.wb.bdis[b].b_io.front() else {
                return true;
            };
            if self.vfs.inodes[ino]
                .dirtied_when
                .is_some_and(|w| w > c.started)
            {
                return true; // dirtied after this walk began
            }
            self.wb.bdis[b].b_io.pop_front();
            self.vfs.inodes[ino].list = InodeList::None;
            if self.vfs.inodes[ino].i_sync {
                self.requeue_io(b, ino);
                c.more_io = true;
                continue;
            }
            c.cur = Some(self.start_inode_writeback(c, ino));
        }
    }

    /// `writeback_single_inode()` up to `do_writepages()`: I_SYNC, clear I_DIRTY, the range, and
    /// ext4's budget bump.
    fn start_inode_writeback(&mut self, c: &WbCursor, ino: usize) -> InodeWb {
        let inode = &mut self.vfs.inodes[ino];
        inode.i_sync = true;
        inode.i_dirty = false;
        let size = inode.pages.end();
        let start = if c.range_cyclic {
            inode.writeback_index.min(size)
        } else {
            0
        };
        let mut budget = c.nr_to_write;
        if let Some(max) = self.vfs.mounts[inode.mount].writepages.nr_to_write_bump {
            // ext4_da_writepages(): raise nr_to_write to the dirty pages ahead (or 8× for a
            // whole-file, non-cyclic request), at most 128 MiB (a batch of simulated pages).
            let ext4_max = self.granularity.batch(max) as i64;
            let desired = if c.range_cyclic {
                let mut n = 0;
                let mut i = start;
                while n < ext4_max {
                    match inode.next_dirty(i, size) {
                        Some(j) => {
                            n += 1;
                            i = j + 1;
                        }
                        None => break,
                    }
                }
                n
            } else {
                budget.saturating_mul(8)
            }
            .min(ext4_max);
            budget = budget.max(desired);
        }
        InodeWb {
            ino,
            next: start,
            end: size,
            start,
            wrapped: false,
            budget,
            processed: 0,
            skipped: 0,
            extent_left: 0,
            io_end: None,
        }
    }

    /// `write_cache_pages()` / `ext4_da_writepages()` over one file. `false`: blocked.
    fn write_inode_pages(&mut self, actor: Actor, c: &mut WbCursor, iw: &mut InodeWb) -> bool {
        let b = c.bdi;
        let caller = match actor {
            Actor::Flusher(_) => WritepageCaller::Flusher,
            Actor::Journal(_) => WritepageCaller::Journal,
            _ => WritepageCaller::Writer,
        };
        // The pages (a batch) one extent allocation of this filesystem's ->writepages covers.
        let m = self.vfs.inodes[iw.ino].mount;
        let extent = self.vfs.mounts[m]
            .writepages
            .extent_pages
            .map(|base| self.granularity.batch(base) as u32);
        while iw.budget > iw.processed {
            let Some(idx) = self.vfs.inodes[iw.ino].next_dirty(iw.next, iw.end) else {
                if c.range_cyclic && !iw.wrapped && iw.start > 0 {
                    iw.wrapped = true;
                    iw.next = 0;
                    iw.end = iw.start;
                    continue;
                }
                break;
            };
            let id = self.vfs.inodes[iw.ino].pages.get(idx);
            debug_assert_ne!(id, NIL, "a dirty tag on an uncached index");
            if self.mem.pages[id as usize].has(pg::WRITEBACK) {
                iw.next = idx + 1;
                continue; // WB_SYNC_NONE skips pages under writeback
            }
            let lba = self.page_lba(id);
            if !self.may_queue(b, ReqKind::Write, lba, actor) {
                self.block_on_queue(b, actor, ReqKind::Write);
                return false;
            }
            let delayed = extent.filter(|_| self.mem.pages[id as usize].has(pg::DELALLOC));
            if let Some(extent) = delayed.filter(|_| iw.extent_left == 0) {
                if !self.start_extent(actor, m, iw, extent, lba) {
                    return false;
                }
            }
            iw.next = idx + 1;
            self.vfs.inodes[iw.ino].writeback_index = idx + 1;
            if !self.clear_page_dirty_for_io(id) {
                continue;
            }
            let mut unwritten = None;
            if delayed.is_some() {
                // The filesystem's ->writepages allocates blocks for the run (one extent per
                // `extent` pages) before calling ->writepage on mapped buffers.
                iw.extent_left -= 1;
                self.mem.pages[id as usize].flags &= !pg::DELALLOC;
                unwritten = iw.io_end;
            }
            let r = self.writepage(id, caller, actor, false);
            if r != crate::fs::WritepageResult::Written {
                iw.skipped += 1;
            } else if let Some(e) = unwritten {
                self.io_end_add(e, id);
            }
            iw.processed += 1;
            if delayed.is_some() && iw.extent_left == 0 {
                self.journal_stop(actor, m);
            }
            if let Some(d) = self.parked_disk(actor) {
                // A page of the write (XFS's cluster) found no request: sleep with it parked.
                self.block_on_queue(d, actor, ReqKind::Write);
                return false;
            }
        }
        if let Some(e) = iw.io_end.take() {
            self.io_end_close(e);
        }
        self.journal_stop(actor, m);
        true
    }

    /// ext4_da_writepages(): one journal handle per extent, held across the gather, the block
    /// allocation (which files the inode with the transaction in data=ordered, loads a new
    /// group's bitmap and buddy pages and copies out metadata a commit holds,
    /// `ext4_mb_new_blocks`) and every page's submission,
    /// get_request_wait included (K32 fs/ext4/inode.c:2907-2949). `false`: a locked
    /// transaction, or the allocator, makes the caller sleep here (an allocator sleep keeps the
    /// handle: `journal_start` finds it held when the caller comes back).
    fn start_extent(
        &mut self,
        actor: Actor,
        m: usize,
        iw: &mut InodeWb,
        extent: u32,
        lba: u64,
    ) -> bool {
        if !self.journal_start(actor, m) || !self.ext4_mb_new_blocks(actor, m, lba) {
            return false;
        }
        self.charge_actor(actor, cost::ALLOC_EXTENT);
        iw.extent_left = extent;
        self.journal_file_inode(m, iw.ino);
        self.next_io_end(iw);
        true
    }

    /// [ext4 dioread_nolock] "For each extent of pages we use new io_end": closes the last
    /// extent's io_end and opens one for the new extent.
    fn next_io_end(&mut self, iw: &mut InodeWb) {
        if let Some(e) = iw.io_end.take() {
            self.io_end_close(e);
        }
        if self.ext4_dioread_nolock(self.vfs.inodes[iw.ino].mount) {
            iw.io_end = Some(self.io_end_open());
        }
    }

    /// The requeue decision at the end of `writeback_single_inode()` (and the pages_skipped
    /// redirty of `writeback_inodes_wb`).
    fn finish_inode(&mut self, c: &mut WbCursor, iw: &InodeWb) {
        let b = c.bdi;
        c.nr_to_write -= iw.processed;
        c.written += iw.processed as u64;
        let ino = iw.ino;
        self.vfs.inodes[ino].i_sync = false;
        if self.vfs.inodes[ino].truncated {
            return;
        }
        let dirty_pages = self.vfs.inodes[ino].nr_dirty > 0;
        if self.vfs.inodes[ino].i_dirty && c.for_kupdate {
            if c.nr_to_write <= 0 {
                self.requeue_io(b, ino);
            } else {
                self.redirty_tail(b, ino);
            }
        } else if self.vfs.inodes[ino].i_dirty {
            self.redirty_tail(b, ino);
        } else if dirty_pages {
            self.vfs.inodes[ino].i_dirty = true;
            if c.nr_to_write <= 0 {
                self.requeue_io(b, ino);
            } else {
                self.redirty_tail(b, ino);
            }
        }
        if iw.skipped > 0 && self.vfs.inodes[ino].list != InodeList::None {
            self.redirty_tail(b, ino);
        }
    }

    /// Puts `actor` in the `get_request_wait()` line of the request list a bio of `kind` takes
    /// (of its parked bio's, when it has one); it sleeps until a request is freed.
    pub fn block_on_queue(&mut self, b: usize, actor: Actor, kind: ReqKind) {
        if let Actor::Flusher(f) = actor {
            self.wb.bdis[f].blocked = true;
        }
        self.get_request_wait(b, actor, kind.dir());
    }

    /// `wakeup_flusher_threads(nr)` from direct reclaim: every bdi with dirty inodes gets a
    /// non-cyclic `nr`-page work item.
    /// `nr == 0` means every dirty page (NR_FILE_DIRTY); that form, from reclaim [4.11+], is not
    /// queued again while the bdi still has work pending (4.14 "only allow one inflight and
    /// pending full flush").
    pub fn wakeup_flusher_threads(&mut self, nr: u64) {
        let all = nr == 0;
        let nr = if all { self.mem.vm_stat.nr_dirty } else { nr };
        for b in 0..self.wb.bdis.len() {
            if all && !self.wb.bdis[b].works.is_empty() {
                continue;
            }
            if self.wb.bdis[b].has_dirty_io() {
                let w = WritebackWork {
                    nr_pages: nr as i64,
                    for_kupdate: false,
                    for_background: false,
                    range_cyclic: false,
                };
                self.bdi_queue_work(b, w);
            }
        }
    }

    /// `bdi_start_writeback(bdi, NULL, 0)` / `bdi_start_background_writeback()`.
    pub fn bdi_start_background_writeback(&mut self, b: usize) {
        let w = WritebackWork {
            nr_pages: i64::MAX,
            for_kupdate: false,
            for_background: true,
            range_cyclic: true,
        };
        self.bdi_queue_work(b, w);
    }

    fn bdi_queue_work(&mut self, b: usize, w: WritebackWork) {
        let bdi = &mut self.wb.bdis[b];
        if bdi.works.len() >= MAX_QUEUED_WORKS {
            if let Some(last) = bdi.works.back_mut() {
                last.nr_pages = last.nr_pages.saturating_add(w.nr_pages);
                return;
            }
        }
        bdi.works.push_back(w);
        if bdi.idle {
            bdi.idle = false;
            self.schedule(self.clock.now, Actor::Flusher(b));
        }
    }

    /// `over_bground_thresh()`: dirty (not writeback) pages above the background threshold.
    fn over_bground_thresh(&self) -> bool {
        let (bg, _) = self.global_dirty_limits();
        self.mem.vm_stat.nr_dirty >= bg
    }

    /// The flusher thread (`bdi_writeback_task`): run works, then kupdate, then sleep.
    pub fn run_flusher(&mut self, b: usize) {
        let kthread = self.wb.bdis[b].kthread;
        if self.tasks[kthread].alloc.is_some() {
            // Asleep in the allocator (a congestion wait, a request, the retry nap): another
            // wake-up (a work queued, the kupdate timer) finds it there; the sleep's own
            // wake-up finishes the allocation first (`flusher_alloc_resume`).
            return;
        }
        self.wb.bdis[b].blocked = false;
        self.wb.bdis[b].idle = false;
        let interval = u64::from(self.spec.vm.dirty_writeback_centisecs) * 10 * MSEC;
        for _ in 0..64 {
            if let Some(mut aw) = self.wb.bdis[b].active.take() {
                match self.wb_writeback_step(b, &mut aw) {
                    None => {
                        self.wb.bdis[b].active = Some(aw);
                        return; // blocked on the queue
                    }
                    Some(()) => continue,
                }
            }
            if let Some(w) = self.wb.bdis[b].works.pop_front() {
                self.observe_writeback_exec(b, &w);
                self.wb.bdis[b].active = Some(ActiveWork {
                    work: w,
                    cursor: None,
                });
                continue;
            }
            if interval > 0 && self.clock.now >= self.wb.bdis[b].last_old_flush + interval {
                // wb_check_old_data_flush()
                self.wb.bdis[b].last_old_flush = self.clock.now;
                self.wb.bdis[b].next_kupdate = self.clock.now + interval;
                // NR_FILE_DIRTY plus the dirty inodes, a count the kernel adds as pages: in
                // simulated pages, rounded up.
                let dirty_inodes = self.vfs.inodes.iter().filter(|i| i.i_dirty).count() as u64;
                let nr = self.mem.vm_stat.nr_dirty as i64
                    + dirty_inodes.div_ceil(self.granularity.factor()) as i64;
                let w = WritebackWork {
                    nr_pages: nr,
                    for_kupdate: true,
                    for_background: false,
                    range_cyclic: true,
                };
                self.observe_writeback_exec(b, &w);
                self.wb.bdis[b].active = Some(ActiveWork {
                    work: w,
                    cursor: None,
                });
                continue;
            }
            break;
        }
        let cpu = std::mem::take(&mut self.wb.bdis[b].cpu_ns).max(cost::LOOP_MIN);
        if self.wb.bdis[b].active.is_some() || !self.wb.bdis[b].works.is_empty() {
            self.schedule(self.clock.now + cpu, Actor::Flusher(b));
        } else if interval > 0 {
            self.wb.bdis[b].idle = true;
            let at = (self.wb.bdis[b].last_old_flush + interval).max(self.clock.now + cpu);
            self.schedule(at, Actor::Flusher(b));
        } else {
            self.wb.bdis[b].idle = true;
            self.bump_gen(Actor::Flusher(b));
        }
    }

    /// `wb_writeback()`: 1024-page rounds of `writeback_inodes_wb` until the work is done.
    /// `None` when blocked on the queue (the cursor is kept), `Some(())` when the work is over.
    fn wb_writeback_step(&mut self, b: usize, aw: &mut ActiveWork) -> Option<()> {
        loop {
            if aw.cursor.is_none() {
                if aw.work.nr_pages <= 0 || aw.work.for_background && !self.over_bground_thresh() {
                    return Some(());
                }
                let older = aw.work.for_kupdate.then(|| {
                    let expire = u64::from(self.spec.vm.dirty_expire_centisecs) * 10 * MSEC;
                    self.clock.now.saturating_sub(expire)
                });
                aw.cursor = Some(WbCursor::new(
                    b,
                    self.wb.bdis[b].max_writeback_pages,
                    &aw.work,
                    older,
                    self.clock.now,
                ));
            }
            let mut c = aw.cursor.take().expect("cursor");
            if !self.writeback_inodes_wb(Actor::Flusher(b), &mut c) {
                aw.cursor = Some(c);
                return None;
            }
            aw.work.nr_pages -= c.written as i64;
            // A used-up budget means another round; otherwise stop unless more IO is pending and
            // this round made progress.
            if c.nr_to_write > 0 && (!c.more_io || c.written == 0) {
                return Some(());
            }
        }
    }
}
