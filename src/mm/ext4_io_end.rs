//! ext4's unwritten-extent io_ends (`fs/ext4/page-io.c`, `ext4_end_io_rsv_work()`), used when a
//! mount writes with `dioread_nolock` (the default for 4 KiB blocks from 5.6, 244adf6426ee;
//! never without delalloc, c8980e1980cc): delayed-allocation writeback allocates *unwritten*
//! extents, one `io_end` per extent mapping unit of `ext4_writepages()` (≤ 2048 blocks,
//! `MAX_WRITEPAGES_EXTENT_LEN`), and a page stays PG_writeback after its bio completed until
//! every bio of its io_end has, and the conversion work converted the extent (3.11,
//! b0857d309fae "ext4: defer clearing of PageWriteback after extent conversion"); only then
//! `end_page_writeback()` (research 14 §6).
//!
//!
//! The conversion is the `ext4-rsv-conversion` work of the filesystem (3.11+ and 6.1
//! `fs/ext4/page-io.c`): `ext4_end_bio()` → `ext4_put_io_end_defer()` → `ext4_add_complete_io()`
//! queues the io_end on `EXT4_SB(sb)->rsv_conversion_wq`, allocated by `ext4_fill_super()` as
//! `alloc_workqueue("ext4-rsv-conversion", WQ_MEM_RECLAIM | WQ_UNBOUND, 1)`: one work item in
//! flight per filesystem, and `ext4_end_io_rsv_work()` → `ext4_do_flush_completed_IO()` converts
//! the queued io_ends one after another (`ext4_end_io_end()` →
//! `ext4_convert_unwritten_io_end_vec()`), each [`CONVERT_IO_END`] of CPU, before its pages end
//! writeback. The worker is an actor of its own (`Actor::Ext4Rsv`, packed with the journal's kind
//! in the event word, so it costs no third kind bit). Its handle is the reserved one
//! (`jbd2_journal_start_reserved()`, 6.1 `fs/jbd2/transaction.c`: "Unlike jbd2_journal_start()
//! this function cannot block on journal commit"; `start_this_handle()` lets a reserved handle
//! join a `T_LOCKED` transaction and waits only for `T_SWITCH`, which the model's commit passes
//! in an instant), so the work never waits for the journal, and it holds the handle within one
//! instant, so it never delays a commit's `T_LOCKED` either.
//!
//! Not modelled (docs/MODEL.md 20): the conversion's GFP_NOFS allocations (extent path arrays,
//! journal heads), and the worker's CPU competing with the tasks' (it is charged to the worker,
//! as kjournald's is to the journal).

use std::collections::{HashMap, VecDeque};

use super::sched::Actor;
use crate::sim::SimTime;

/// CPU of one io_end's conversion, ns: `ext4_convert_unwritten_io_end_vec()` maps the io_end's
/// extent once with `EXT4_GET_BLOCKS_IO_CONVERT_EXT` (an extent-tree walk, a split or a merge,
/// `ext4_ext_dirty()` → the journal's `get_write_access`/`dirty_metadata`) and
/// `ext4_mark_inode_dirty()`: an estimate of half of [`super::cost::ALLOC_EXTENT`], which also
/// pays mballoc's search, on the same era's hardware (cost.rs).
pub const CONVERT_IO_END: u64 = 10_000;

/// The `ext4-rsv-conversion` work of one mount (`max_active = 1`).
#[derive(Debug, Default)]
pub struct RsvWorker {
    /// Completed io_ends waiting for the work (`ei->i_rsv_conversion_list`s), with the time each
    /// was queued.
    queue: VecDeque<(u32, SimTime)>,
    /// The io_end being converted, and when it was queued.
    converting: Option<(u32, SimTime)>,
    /// The actor's generation (`sched`).
    pub gen: u32,
    /// CPU used, ns.
    pub cpu_ns: u64,
}

use super::page::PageId;
use super::Machine;
use crate::spec::FsType;

/// One `ext4_io_end`: its pages, how many are still in a write request, and whether
/// `ext4_writepages()` may still add pages (it holds a reference until the extent is mapped).
#[derive(Debug, Default)]
pub struct IoEnd {
    pages: Vec<PageId>,
    pending: u32,
    open: bool,
    /// The mount of its file (whose work converts it).
    mount: usize,
}

/// Every io_end in flight.
#[derive(Debug, Default)]
pub struct IoEnds {
    /// The io_end of each page it holds, and whether the page's request completed (parked).
    page_io_end: HashMap<PageId, (u32, bool)>,
    io_ends: Vec<IoEnd>,
    free: Vec<u32>,
    /// io_ends converted (`ext4_end_io_rsv_work` runs), for the reports.
    pub conversions: u64,
    /// Time io_ends spent between their last completion and the end of their conversion, ns.
    pub conversion_wait_ns: u64,
    /// The longest such time, ns.
    pub max_conversion_wait_ns: u64,
    /// The conversion work of each mount (grown as mounts queue io_ends).
    workers: Vec<RsvWorker>,
}

impl IoEnds {
    /// Whether no page waits for a conversion (the completion path's fast test).
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.page_io_end.is_empty()
    }

    /// The pages whose request completed and that wait for their io_end's conversion, for the
    /// invariant checker: PG_writeback without a request.
    pub fn held(&self) -> impl Iterator<Item = PageId> + '_ {
        self.page_io_end
            .iter()
            .filter(|(_, &(_, parked))| parked)
            .map(|(&p, _)| p)
    }

    /// The conversion work of mount `m`.
    pub fn worker_mut(&mut self, m: usize) -> &mut RsvWorker {
        if self.workers.len() <= m {
            self.workers.resize_with(m + 1, RsvWorker::default);
        }
        &mut self.workers[m]
    }

    /// The generation of mount `m`'s conversion work.
    pub fn worker_gen(&self, m: usize) -> u32 {
        self.workers.get(m).map_or(0, |w| w.gen)
    }

    /// io_ends whose pages all completed and that wait for (or are in) their conversion.
    pub fn queued(&self) -> usize {
        self.workers
            .iter()
            .map(|w| w.queue.len() + usize::from(w.converting.is_some()))
            .sum()
    }
}

impl Machine {
    /// `ext4_should_dioread_nolock()` for mount `m`: ext4, delayed allocation, and the mount
    /// option, whose default is the `ext4_dioread_nolock_default` switch.
    pub fn ext4_dioread_nolock(&self, m: usize) -> bool {
        let mount = &self.vfs.mounts[m];
        mount.spec.fs == FsType::Ext4
            && mount.delalloc
            && mount
                .spec
                .dioread_nolock
                .unwrap_or(self.switches.ext4_dioread_nolock_default)
    }

    /// `ext4_init_io_end()`: a new, open io_end.
    pub fn io_end_open(&mut self) -> u32 {
        let e = &mut self.wb.io_ends;
        let id = e.free.pop().unwrap_or_else(|| {
            e.io_ends.push(IoEnd::default());
            (e.io_ends.len() - 1) as u32
        });
        e.io_ends[id as usize].open = true;
        id
    }

    /// A page written into io_end `id`'s unwritten extent was submitted.
    pub fn io_end_add(&mut self, id: u32, page: PageId) {
        let mount = self.vfs.inodes[self.mem.pages[page as usize].owner as usize].mount;
        let e = &mut self.wb.io_ends;
        e.io_ends[id as usize].mount = mount;
        e.page_io_end.insert(page, (id, false));
        let io = &mut e.io_ends[id as usize];
        io.pages.push(page);
        io.pending += 1;
    }

    /// `ext4_put_io_end_defer()` by `ext4_writepages()`: no more pages; queued for the
    /// conversion if every page already completed.
    pub fn io_end_close(&mut self, id: u32) {
        let io = &mut self.wb.io_ends.io_ends[id as usize];
        io.open = false;
        if io.pending == 0 {
            self.ext4_add_complete_io(id);
        }
    }

    /// A write request completed page `id`: `end_page_writeback()`, unless the page belongs to
    /// an unwritten io_end (`ext4_end_bio()` parks the bio), which is queued for the conversion
    /// once its last page is done.
    pub fn end_page_writeback_or_park(&mut self, id: PageId) {
        let Some((e, parked)) = self.wb.io_ends.page_io_end.get_mut(&id) else {
            return self.end_page_writeback(id);
        };
        *parked = true;
        let e = *e;
        let io = &mut self.wb.io_ends.io_ends[e as usize];
        io.pending -= 1;
        if io.pending == 0 && !io.open {
            self.ext4_add_complete_io(e);
        }
    }

    /// `ext4_add_complete_io()`: the io_end joins its mount's conversion queue; an idle work is
    /// queued (`queue_work(rsv_conversion_wq)`) and runs its first conversion.
    fn ext4_add_complete_io(&mut self, id: u32) {
        let now = self.clock.now;
        if self.wb.io_ends.io_ends[id as usize].pages.is_empty() {
            return self.io_end_convert(id); // an extent with no page submitted: nothing to do
        }
        let m = self.wb.io_ends.io_ends[id as usize].mount;
        let w = self.wb.io_ends.worker_mut(m);
        w.queue.push_back((id, now));
        if w.converting.is_none() {
            self.ext4_rsv_next(m);
        }
    }

    /// `ext4_do_flush_completed_IO()`'s loop: takes the next queued io_end and converts it for
    /// [`CONVERT_IO_END`]; the work goes idle when the queue is empty.
    fn ext4_rsv_next(&mut self, m: usize) {
        let w = self.wb.io_ends.worker_mut(m);
        w.converting = w.queue.pop_front();
        if w.converting.is_some() {
            w.cpu_ns += CONVERT_IO_END;
            self.schedule(self.clock.now + CONVERT_IO_END, Actor::Ext4Rsv(m));
        }
    }

    /// `ext4_end_io_rsv_work()` for mount `m`: the io_end in conversion is converted (its pages
    /// end writeback), then the next one starts.
    pub fn run_ext4_rsv(&mut self, m: usize) {
        let now = self.clock.now;
        let Some((id, queued)) = self.wb.io_ends.worker_mut(m).converting.take() else {
            return;
        };
        let e = &mut self.wb.io_ends;
        e.conversion_wait_ns += now - queued;
        e.max_conversion_wait_ns = e.max_conversion_wait_ns.max(now - queued);
        self.io_end_convert(id);
        self.ext4_rsv_next(m);
    }

    /// `ext4_end_io_rsv_work()` → `ext4_end_io_end()`: the extent is converted, every page of
    /// the io_end ends writeback (`ext4_finish_bio()`).
    fn io_end_convert(&mut self, id: u32) {
        let pages = std::mem::take(&mut self.wb.io_ends.io_ends[id as usize].pages);
        for &p in &pages {
            self.wb.io_ends.page_io_end.remove(&p);
            self.end_page_writeback(p);
        }
        self.wb.io_ends.conversions += u64::from(!pages.is_empty());
        let io = &mut self.wb.io_ends.io_ends[id as usize];
        io.pages = pages;
        io.pages.clear();
        self.wb.io_ends.free.push(id);
    }
}
