//! ext4's unwritten-extent io_ends (`fs/ext4/page-io.c`, `ext4_end_io_rsv_work()`), used when a
//! mount writes with `dioread_nolock` (the default for 4 KiB blocks from 5.6, 244adf6426ee;
//! never without delalloc, c8980e1980cc): delayed-allocation writeback allocates *unwritten*
//! extents, one `io_end` per extent mapping unit of `ext4_writepages()` (≤ 2048 blocks,
//! `MAX_WRITEPAGES_EXTENT_LEN`), and a page stays PG_writeback after its bio completed until
//! every bio of its io_end has, and the conversion work converted the extent (3.11,
//! b0857d309fae "ext4: defer clearing of PageWriteback after extent conversion"); only then
//! `end_page_writeback()` (research 14 §6).
//!
//! Simplification (docs/MODEL.md 20): the conversion runs at the instant the io_end's last page
//! completes, with no CPU cost and no workqueue (`ext4-rsv-conversion`, `max_active = 1`): the
//! kernel's conversion is about 10 µs per io_end (an estimate, §6.3), against the tens of
//! milliseconds an 8 MiB io_end takes to write, so what reclaim sees is the granularity.

use std::collections::HashMap;

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
        let e = &mut self.wb.io_ends;
        e.page_io_end.insert(page, (id, false));
        let io = &mut e.io_ends[id as usize];
        io.pages.push(page);
        io.pending += 1;
    }

    /// `ext4_put_io_end_defer()` by `ext4_writepages()`: no more pages; converts at once if
    /// every page already completed.
    pub fn io_end_close(&mut self, id: u32) {
        let io = &mut self.wb.io_ends.io_ends[id as usize];
        io.open = false;
        if io.pending == 0 {
            self.io_end_convert(id);
        }
    }

    /// A write request completed page `id`: `end_page_writeback()`, unless the page belongs to
    /// an unwritten io_end (`ext4_end_bio()` parks the bio), which converts once its last page
    /// is done.
    pub fn end_page_writeback_or_park(&mut self, id: PageId) {
        let Some((e, parked)) = self.wb.io_ends.page_io_end.get_mut(&id) else {
            return self.end_page_writeback(id);
        };
        *parked = true;
        let e = *e;
        let io = &mut self.wb.io_ends.io_ends[e as usize];
        io.pending -= 1;
        if io.pending == 0 && !io.open {
            self.io_end_convert(e);
        }
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
