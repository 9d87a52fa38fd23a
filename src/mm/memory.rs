//! Physical memory (`include/linux/mmzone.h`): the page array, zones and nodes (`pg_data_t`), the
//! global page counts kept beside the zones' (`vm_stat[]`), swap space, and the LRU list
//! operations every path uses (`add_page_to_lru_list`, `del_page_from_lru_list`).

use super::page::{self, pg, LruList, Page, PageId, Place};
use super::sched::Actor;
use super::vmscan::Kswapd;
use super::zone::Zone;

/// The machine's memory: every page, zone and node, their global counts, and swap.
pub struct Memory {
    /// [4.8+] `lru_lists = node`: each node's lowest zone holds the node's lruvec.
    pub node_lru: bool,
    /// Every page, by pfn.
    pub pages: Vec<Page>,
    /// Every zone.
    pub zones: Vec<Zone>,
    /// For each zone, the tasks whose `mems_zonelist` holds it and at which position: whom
    /// `free_pcppages_bulk` must tell that the zone's free pages grew (see `Task::fast_skip`).
    pub zone_users: Vec<Vec<(u32, u32)>>,
    /// Every node.
    pub nodes: Vec<Node>,
    /// Machine-wide page counts (`vm_stat[]`), kept with the zones' own.
    pub vm_stat: VmStat,
    /// Swap.
    pub swap: Swap,
    /// The next swap slot `scan_swap_map()` hands out.
    pub next_swap_slot: u32,
    /// Pages carved for the hugetlb pools at boot (never freed).
    pub hugetlb_pages: u64,
    /// `min_free_kbytes` in force (KiB, the kernel's unit).
    pub min_free_kbytes: u64,
    /// A reusable buffer for isolated pages (no allocation in the scan loop).
    pub scratch: Vec<PageId>,
    /// [4.8+] A reusable buffer for the pages `isolate_lru_pages` skips.
    pub scratch_skip: Vec<PageId>,
    /// A reusable buffer for the pages a `shrink_page_list` batch keeps.
    pub scratch_keep: Vec<PageId>,
    /// The working sets the workload touches again (`touch_interval`).
    pub hot: super::hot::HotMemory,
    /// Per shm segment, whether the swap token's holder attached it (`mm/thrash.rs`): its pages
    /// are among those the holder maps.
    pub token_segments: Vec<bool>,
    /// Tasks asleep in `wait_on_page_writeback()` (2.6.32 `shmem_getpage()` on a swap-cache
    /// page under its write, truncation's second pass), with the page: `end_page_writeback()`
    /// wakes them.
    pub writeback_waiters: Vec<(PageId, usize)>,
    /// Tasks asleep in `lock_page()` on a page locked for its read (`PG_locked`), or in
    /// `lock_buffer()` on a page whose buffers the journal is writing (`PG_journal_io`), with
    /// the page: the read's completion or the journal data request's wakes them.
    pub lock_waiters: Vec<(PageId, usize)>,
}

/// One node (`pg_data_t`).
#[derive(Debug)]
pub struct Node {
    /// Zone ids of this node, lowest type first.
    pub zones: Vec<u16>,
    /// Its kswapd.
    pub kswapd: Kswapd,
    /// kswapd CPU time not yet charged.
    pub kswapd_cpu_ns: u64,
    /// Pages spanned (for the 2.6.36 cpuset `totalpages`).
    pub spanned: u64,
    /// Reclaimers in `reclaim_throttle(VMSCAN_THROTTLE_WRITEBACK)` on this node [5.16].
    pub throttled: Vec<Actor>,
    /// Pages of this node that finished writeback since the first of them slept [5.16].
    pub throttled_written: u64,
    /// `pgdat->kswapd_failures` [4.12]: `balance_pgdat()` runs in a row that freed nothing.
    pub kswapd_failures: u32,
    /// `NR_PAGES_SCANNED` of the node [4.8–4.11]: LRU pages reclaim walked on this node's list
    /// since a page of any of its zones last went back to the buddy allocator
    /// (`free_pcppages_bulk()` / `free_one_page()` reset it). Counted only under node lists.
    pub pages_scanned: u64,
    /// [4.8+] `PGDAT_DIRTY`, `PGDAT_WRITEBACK`, `PGDAT_CONGESTED` / `LRUVEC_CONGESTED`: the
    /// zone flags moved to the node (used when `kswapd_balance` is not `zones`).
    pub flags: super::zone::ReclaimFlags,
}

/// Swap space.
#[derive(Debug, Default)]
pub struct Swap {
    /// `total_swap_pages`.
    pub total: u64,
    /// `nr_swap_pages`: free slots.
    pub free: u64,
    /// The bdi (disk) of the swap area.
    pub bdi: Option<usize>,
}

/// The global page counts the kernel keeps beside each zone's (`vm_stat[]`, read by
/// `global_page_state()`): every change to a zone's count changes these too, so a machine-wide
/// figure costs one read instead of a walk over the zones (128 of them on a 16 GiB fake-NUMA
/// box). The invariant checker recounts them from the zones.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct VmStat {
    /// NR_FREE_PAGES (the buddy lists).
    pub nr_free: u64,
    /// NR_FILE_DIRTY.
    pub nr_dirty: u64,
    /// NR_WRITEBACK.
    pub nr_writeback: u64,
    /// NR_INACTIVE_ANON … NR_UNEVICTABLE: pages on each LRU list.
    pub nr_lru: [u64; 5],
}

impl Memory {
    /// Pages in the swap cache, counted from the page flags (for the reports; without a swap
    /// area there are none, and no walk over every page).
    pub fn swap_cache_pages(&self) -> u64 {
        if self.swap.total == 0 {
            return 0;
        }
        self.pages.iter().filter(|p| p.has(pg::SWAPCACHE)).count() as u64
    }

    /// A page state summed over the zones (tests and reports; the engine reads `vm_stat`).
    pub fn global(&self, f: impl Fn(&Zone) -> u64) -> u64 {
        self.zones.iter().map(f).sum()
    }

    /// Global NR_FREE_PAGES.
    pub fn global_free(&self) -> u64 {
        self.vm_stat.nr_free
    }

    /// `zone_reclaimable_pages()`: file LRUs, plus anon LRUs while free swap slots remain.
    pub fn zone_reclaimable_pages(&self, zid: usize) -> u64 {
        let z = &self.zones[zid];
        let mut n = z.nr_lru(LruList::ActiveFile) + z.nr_lru(LruList::InactiveFile);
        if self.swap.free > 0 {
            n += z.nr_lru(LruList::ActiveAnon) + z.nr_lru(LruList::InactiveAnon);
        }
        n
    }

    /// `zone_reclaimable()` [36]: pages_scanned < 6 × reclaimable pages.
    pub fn zone_reclaimable(&self, zid: usize) -> bool {
        self.zones[zid].pages_scanned < 6 * self.zone_reclaimable_pages(zid)
    }

    /// `pgdat_reclaimable()` [4.8–4.11, 599d0c954f91; gone in 4.12, c822f6223d03]: the node's
    /// `NR_PAGES_SCANNED` < 6 × `pgdat_reclaimable_pages()`, the file pages (and the anon ones
    /// while swap has room) of all its zones. The kernel also counts the node's isolated pages,
    /// which are 0 whenever another reclaimer asks (simplification 4).
    pub fn pgdat_reclaimable(&self, n: usize) -> bool {
        let node = &self.nodes[n];
        let reclaimable: u64 = node
            .zones
            .iter()
            .map(|&z| self.zone_reclaimable_pages(z as usize))
            .sum();
        node.pages_scanned < 6 * reclaimable
    }

    /// Adds page `id` to the head of LRU list `l` of its zone's lruvec.
    pub fn lru_add_head(&mut self, id: PageId, l: LruList) {
        let zid = self.pages[id as usize].zone as usize;
        let p = &mut self.pages[id as usize];
        debug_assert!(p.place != Place::Lru);
        p.place = Place::Lru;
        p.lru = l;
        p.flags |= pg::LRU;
        if l == LruList::Unevictable {
            p.flags |= pg::UNEVICTABLE;
        }
        let lv = self.zones[zid].lruvec as usize;
        page::list_add_head(&mut self.pages, &mut self.zones[lv].lru[l.idx()], id);
        self.zones[zid].nr_zone_lru[l.idx()] += 1;
        self.vm_stat.nr_lru[l.idx()] += 1;
    }

    /// Adds page `id` to the tail of LRU list `l` of its zone's lruvec.
    pub fn lru_add_tail(&mut self, id: PageId, l: LruList) {
        let zid = self.pages[id as usize].zone as usize;
        let p = &mut self.pages[id as usize];
        p.place = Place::Lru;
        p.lru = l;
        p.flags |= pg::LRU;
        let lv = self.zones[zid].lruvec as usize;
        page::list_add_tail(&mut self.pages, &mut self.zones[lv].lru[l.idx()], id);
        self.zones[zid].nr_zone_lru[l.idx()] += 1;
        self.vm_stat.nr_lru[l.idx()] += 1;
    }

    /// Removes page `id` from its LRU list; it becomes `place`.
    pub fn lru_del(&mut self, id: PageId, place: Place) {
        let (zid, l) = {
            let p = &self.pages[id as usize];
            debug_assert_eq!(p.place, Place::Lru);
            (p.zone as usize, p.lru)
        };
        let lv = self.zones[zid].lruvec as usize;
        page::list_del(&mut self.pages, &mut self.zones[lv].lru[l.idx()], id);
        self.zones[zid].nr_zone_lru[l.idx()] -= 1;
        self.vm_stat.nr_lru[l.idx()] -= 1;
        let p = &mut self.pages[id as usize];
        p.place = place;
        p.flags &= !(pg::LRU | pg::UNEVICTABLE);
    }

    /// The task that owns anon page `id`, if it is a private anon page.
    pub fn anon_owner(&self, id: PageId) -> Option<usize> {
        let p = &self.pages[id as usize];
        (p.has(pg::ANON) || p.has(pg::KERNEL) && p.owner != u32::MAX).then_some(p.owner as usize)
    }
}
