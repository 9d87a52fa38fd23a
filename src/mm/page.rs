//! `struct page` reduced to what reclaim and writeback read, and the LRU lists threaded through it.
//!
//! Mirrors `include/linux/page-flags.h`, `include/linux/mm_inline.h` and the list handling of
//! `mm/swap.c` / `mm/vmscan.c` (2.6.32–2.6.36). Lists are intrusive and doubly linked through the
//! page array, so every move (head, tail, unlink) is O(1) with no allocation. "Head" is where the
//! kernel's `list_add` puts pages (most recent); reclaim scans from the tail (`lru.prev`).

/// Index of a page in the machine's page array (its pfn).
pub type PageId = u32;

/// "No page": the end of a list.
pub const NIL: PageId = u32::MAX;

/// Page flags. The kernel's `PG_*` bits plus a few filesystem-private states that the kernel keeps
/// in buffer heads (`BH_Delay`, clean buffers of a dirty page, buffers locked by the journal).
pub mod pg {
    /// On an LRU list (`PageLRU`).
    pub const LRU: u32 = 1 << 0;
    /// `PG_active`.
    pub const ACTIVE: u32 = 1 << 1;
    /// `PG_referenced`.
    pub const REFERENCED: u32 = 1 << 2;
    /// `PG_dirty`.
    pub const DIRTY: u32 = 1 << 3;
    /// `PG_writeback`.
    pub const WRITEBACK: u32 = 1 << 4;
    /// `PG_reclaim`: reclaim asked for this page's IO; rotate to the inactive tail on completion.
    pub const RECLAIM: u32 = 1 << 5;
    /// `PG_unevictable`: on the unevictable list.
    pub const UNEVICTABLE: u32 = 1 << 6;
    /// `PG_swapbacked`: anon or shmem page (on the anon LRU lists).
    pub const SWAPBACKED: u32 = 1 << 7;
    /// `PageAnon`: private anonymous memory of one task.
    pub const ANON: u32 = 1 << 8;
    /// `PG_swapcache`: in the swap cache, with a swap slot.
    pub const SWAPCACHE: u32 = 1 << 9;
    /// `PG_mlocked`.
    pub const MLOCKED: u32 = 1 << 10;
    /// `PG_locked`: held across an event only by reads in flight.
    pub const LOCKED: u32 = 1 << 11;
    /// `page_mapped()`: some task maps it (anon, attached shm).
    pub const MAPPED: u32 = 1 << 12;
    /// A young pte maps it (what `page_referenced()` test-and-clears).
    pub const YOUNG: u32 = 1 << 13;
    /// Has buffer heads (`PagePrivate`): every block-filesystem page-cache page.
    pub const PRIVATE: u32 = 1 << 14;
    /// Its dirty buffers are delayed-allocation (`BH_Delay`): no disk blocks yet.
    pub const DELALLOC: u32 = 1 << 15;
    /// ext3 ordered: the journal wrote its data buffers; `PG_dirty` is still set.
    pub const BUFFERS_CLEAN: u32 = 1 << 16;
    /// Its buffers are locked by journal (kjournald) data IO.
    pub const JOURNAL_IO: u32 = 1 << 17;
    /// A page-cache page of a regular file (mapping is an inode).
    pub const FILE: u32 = 1 << 18;
    /// A shmem/SysV-shm page (mapping is a segment).
    pub const SHMEM: u32 = 1 << 19;
    /// Kernel memory on no LRU (slab, page tables, GFP_KERNEL buffers held by a task).
    pub const KERNEL: u32 = 1 << 20;
    /// A hugetlbfs page: on no LRU, never free.
    pub const HUGETLB: u32 = 1 << 21;
    /// A journal commit's `filemap_fdatawait()` sleeps on this page's writeback (not a kernel
    /// page flag: the wait queue of `PG_writeback`).
    pub const JOURNAL_WAIT: u32 = 1 << 22;
    /// A slab page of a `SLAB_RECLAIM_ACCOUNT` cache (with [`KERNEL`]): `NR_SLAB_RECLAIMABLE`.
    pub const SLAB: u32 = 1 << 23;
    /// The page's buffer heads are objects of the `buffer_head` slab cache (`mm/slab.rs`).
    pub const BH: u32 = 1 << 24;
}

/// Where a page is: exactly one of these at every moment (checked by the invariant checker).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Place {
    /// On its zone's buddy free list.
    Buddy,
    /// On a per-CPU free list of its zone.
    Pcp,
    /// On one of its zone's LRU lists (which one: [`Page::lru`]).
    Lru,
    /// Isolated from the LRU by reclaim (only inside one event).
    Isolated,
    /// Held outside the LRU: kernel memory, hugetlb pages, reads in flight before they join.
    Held,
}

/// The five LRU lists of a zone (`enum lru_list`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum LruList {
    /// `LRU_INACTIVE_ANON`.
    InactiveAnon = 0,
    /// `LRU_ACTIVE_ANON`.
    ActiveAnon = 1,
    /// `LRU_INACTIVE_FILE`.
    InactiveFile = 2,
    /// `LRU_ACTIVE_FILE`.
    ActiveFile = 3,
    /// `LRU_UNEVICTABLE`.
    Unevictable = 4,
}

impl LruList {
    /// The four evictable lists in `for_each_evictable_lru` order.
    pub const EVICTABLE: [LruList; 4] = [
        LruList::InactiveAnon,
        LruList::ActiveAnon,
        LruList::InactiveFile,
        LruList::ActiveFile,
    ];

    /// `is_file_lru()`.
    pub fn is_file(self) -> bool {
        matches!(self, LruList::InactiveFile | LruList::ActiveFile)
    }

    /// `is_active_lru()`.
    pub fn is_active(self) -> bool {
        matches!(self, LruList::ActiveAnon | LruList::ActiveFile)
    }

    /// The list of a type (`file`) and activity.
    pub fn of(file: bool, active: bool) -> LruList {
        match (file, active) {
            (false, false) => LruList::InactiveAnon,
            (false, true) => LruList::ActiveAnon,
            (true, false) => LruList::InactiveFile,
            (true, true) => LruList::ActiveFile,
        }
    }

    /// Index into per-list arrays.
    pub fn idx(self) -> usize {
        self as usize
    }
}

/// One simulated 4 KiB page: 24 bytes.
#[derive(Clone, Copy, Debug)]
pub struct Page {
    /// `pg::*` bits.
    pub flags: u32,
    /// Previous page on its list (towards the head), or NIL.
    pub prev: PageId,
    /// Next page on its list (towards the tail), or NIL.
    pub next: PageId,
    /// Owner: inode id (file), segment id (shmem), task id (anon, kernel).
    pub owner: u32,
    /// Page index in its file or segment.
    pub index: u32,
    /// Zone id.
    pub zone: u16,
    /// Which place it is in.
    pub place: Place,
    /// Which LRU list, when `place == Lru`.
    pub lru: LruList,
}

impl Page {
    /// A page of zone `zone`, not yet placed anywhere.
    pub fn new(zone: u16) -> Page {
        Page {
            flags: 0,
            prev: NIL,
            next: NIL,
            owner: u32::MAX,
            index: 0,
            zone,
            place: Place::Held,
            lru: LruList::InactiveFile,
        }
    }

    /// Tests a flag.
    #[inline]
    pub fn has(&self, flag: u32) -> bool {
        self.flags & flag != 0
    }

    /// `page_is_file_cache()`: not swap-backed.
    #[inline]
    pub fn is_file_cache(&self) -> bool {
        !self.has(pg::SWAPBACKED)
    }
}

/// The head of one intrusive list: head is the most recently added end.
#[derive(Clone, Copy, Debug)]
pub struct ListHead {
    /// First page (the head end), or NIL.
    pub head: PageId,
    /// Last page (the tail end, where reclaim scans), or NIL.
    pub tail: PageId,
    /// Number of pages.
    pub len: u64,
}

impl Default for ListHead {
    fn default() -> Self {
        ListHead {
            head: NIL,
            tail: NIL,
            len: 0,
        }
    }
}

/// `list_add`: puts `id` at the head of `list`.
pub fn list_add_head(pages: &mut [Page], list: &mut ListHead, id: PageId) {
    let old = list.head;
    {
        let p = &mut pages[id as usize];
        p.prev = NIL;
        p.next = old;
    }
    if old == NIL {
        list.tail = id;
    } else {
        pages[old as usize].prev = id;
    }
    list.head = id;
    list.len += 1;
}

/// `list_add_tail`: puts `id` at the tail of `list`.
pub fn list_add_tail(pages: &mut [Page], list: &mut ListHead, id: PageId) {
    let old = list.tail;
    {
        let p = &mut pages[id as usize];
        p.next = NIL;
        p.prev = old;
    }
    if old == NIL {
        list.head = id;
    } else {
        pages[old as usize].next = id;
    }
    list.tail = id;
    list.len += 1;
}

/// `list_del`: unlinks `id` from `list`.
pub fn list_del(pages: &mut [Page], list: &mut ListHead, id: PageId) {
    let (prev, next) = {
        let p = &pages[id as usize];
        (p.prev, p.next)
    };
    if prev == NIL {
        debug_assert_eq!(list.head, id);
        list.head = next;
    } else {
        pages[prev as usize].next = next;
    }
    if next == NIL {
        debug_assert_eq!(list.tail, id);
        list.tail = prev;
    } else {
        pages[next as usize].prev = prev;
    }
    let p = &mut pages[id as usize];
    p.prev = NIL;
    p.next = NIL;
    list.len -= 1;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walk(pages: &[Page], list: &ListHead) -> Vec<PageId> {
        let mut out = vec![];
        let mut id = list.head;
        while id != NIL {
            out.push(id);
            id = pages[id as usize].next;
        }
        out
    }

    #[test]
    fn head_and_tail_inserts_and_unlinks_keep_order_and_length() {
        let mut pages = vec![Page::new(0); 5];
        let mut l = ListHead::default();
        list_add_head(&mut pages, &mut l, 0);
        list_add_head(&mut pages, &mut l, 1);
        list_add_tail(&mut pages, &mut l, 2);
        list_add_head(&mut pages, &mut l, 3);
        assert_eq!(walk(&pages, &l), vec![3, 1, 0, 2]);
        list_del(&mut pages, &mut l, 1);
        list_del(&mut pages, &mut l, 2);
        assert_eq!(walk(&pages, &l), vec![3, 0]);
        assert_eq!(l.tail, 0);
        assert_eq!(l.len, 2);
        list_del(&mut pages, &mut l, 3);
        list_del(&mut pages, &mut l, 0);
        assert_eq!((l.head, l.tail, l.len), (NIL, NIL, 0));
    }
}
