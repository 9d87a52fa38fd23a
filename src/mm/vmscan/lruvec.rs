//! [4.8+] The LRU lists of a node (`lru_lists = node`, 599d0c954f91 "mm, vmscan: move LRU lists
//! to node"): one lruvec per node, held by the node's lowest zone (`Zone::lruvec`), with the
//! pages of every zone of the node in one age order; each zone keeps its `NR_ZONE_*` counts.
//!
//! Mirrors, of 6.1 `mm/vmscan.c` (4.12 is the same): `lruvec_lru_size(lruvec, lru, zone_idx)`,
//! `isolate_lru_folios()` (:2184–2274: pages of zones above `sc->reclaim_idx` are moved aside,
//! not counted towards the batch, spliced back at the list head and counted as
//! `pgscan_skip_<zone>`; `nr_scanned` includes them) and `inactive_list_is_low()` (4.8
//! :2010–2058: the node's eligible inactive and active pages, ratio `int_sqrt(10 × GiB)` for
//! both anon and file). With per-zone lists (≤4.7) every function here is the zone's own.

use super::super::granularity::Granularity;
use super::super::memory::Memory;
use super::super::page::{self, LruList, PageId, Place, NIL};
use super::super::zone::{int_sqrt, Wmark};
use super::super::{cost, Actor, Machine};
use super::ScanControl;

/// What `get_scan_count()` reads of a lruvec.
pub(super) struct LruvecSizes {
    /// Every page on each list (`lruvec_lru_size(.., MAX_NR_ZONES)`).
    pub total: [u64; 5],
    /// The pages of eligible zones (`lruvec_lru_size(.., sc->reclaim_idx)`).
    pub eligible: [u64; 5],
    /// NR_FREE_PAGES of the lruvec's zones.
    pub free: u64,
    /// Σ high watermarks of the lruvec's zones.
    pub high: u64,
}

impl Memory {
    /// The zones whose pages lruvec `lv` holds (itself with per-zone lists).
    fn lruvec_zones(&self, lv: usize) -> std::ops::Range<usize> {
        if self.node_lru {
            // A node's zone ids are consecutive (boot.rs: node_zones).
            let zones = &self.nodes[self.zones[lv].node as usize].zones;
            zones[0] as usize..zones[zones.len() - 1] as usize + 1
        } else {
            lv..lv + 1
        }
    }

    /// The sizes `get_scan_count()` reads of lruvec `lv`.
    pub(super) fn lruvec_sizes(&self, lv: usize, reclaim_idx: usize) -> LruvecSizes {
        let mut s = LruvecSizes {
            total: [0; 5],
            eligible: [0; 5],
            free: 0,
            high: 0,
        };
        for z in self.lruvec_zones(lv) {
            let z = &self.zones[z];
            let eligible = !self.node_lru || (z.ztype as usize) <= reclaim_idx;
            for l in 0..5 {
                s.total[l] += z.nr_zone_lru[l];
                if eligible {
                    s.eligible[l] += z.nr_zone_lru[l];
                }
            }
            s.free += z.nr_free();
            s.high += z.wmark(Wmark::High);
        }
        s
    }

    /// [4.8+] `inactive_list_is_low()` of a node's lruvec: the eligible zones' pages, ratio
    /// `int_sqrt(10 × GiB)` (1 below 1 GiB) for file as for anon; anon never without swap.
    pub(super) fn node_inactive_is_low(
        &self,
        lv: usize,
        file: bool,
        reclaim_idx: usize,
        g: Granularity,
    ) -> bool {
        if !file && self.swap.total == 0 {
            return false;
        }
        let sz = self.lruvec_sizes(lv, reclaim_idx);
        let inactive = sz.eligible[LruList::of(file, false).idx()];
        let active = sz.eligible[LruList::of(file, true).idx()];
        // GiB of base pages: the caller's counts are simulated pages.
        let gb = g.base(inactive + active) >> 18;
        let ratio = if gb > 0 { int_sqrt(10 * gb) } else { 1 };
        inactive * ratio < active
    }

    /// [4.8+] `isolate_lru_pages()` of a node's lruvec: up to `n` pages of zones up to
    /// `reclaim_idx` from the tail of list `l` into `self.scratch`; pages of higher zones met on
    /// the way are put back at the head in their order, counted in `pgskip_<zone>` and left in
    /// `self.scratch_skip`. Returns (isolated, skipped).
    pub(super) fn isolate_node_lru_pages(
        &mut self,
        n: u64,
        lv: usize,
        l: LruList,
        reclaim_idx: usize,
    ) -> (u64, u64) {
        self.scratch.clear();
        let mut aside: Vec<PageId> = std::mem::take(&mut self.scratch_skip);
        aside.clear();
        let mut taken = 0;
        let mut cursor = self.zones[lv].lru[l.idx()].tail;
        while taken < n && cursor != NIL {
            let id = cursor;
            cursor = self.pages[id as usize].prev;
            let zid = self.pages[id as usize].zone as usize;
            if self.zones[zid].ztype as usize > reclaim_idx {
                self.zones[zid].stat.pgskip += 1;
                aside.push(id);
                continue;
            }
            taken += 1;
            self.lru_del(id, Place::Isolated);
            self.scratch.push(id);
        }
        // list_splice(&folios_skipped, src): the skipped pages, oldest nearest the rest.
        for &id in &aside {
            let lvl = &mut self.zones[lv].lru[l.idx()];
            page::list_del(&mut self.pages, lvl, id);
            page::list_add_head(&mut self.pages, lvl, id);
        }
        let skipped = aside.len() as u64;
        self.scratch_skip = aside;
        let z = &mut self.zones[lv];
        if l.is_file() {
            z.stat.nr_isolated_file += taken;
        } else {
            z.stat.nr_isolated_anon += taken;
        }
        (taken, skipped)
    }
}

impl Machine {
    /// `isolate_lru_pages()` for `shrink_active_list` (`refill`) or `shrink_inactive_list`:
    /// up to `n` pages of list `l` of lruvec `lv` into `self.mem.scratch`, CPU charged per page
    /// walked, scan counters in each page's zone. Returns the pages isolated.
    pub(super) fn isolate(
        &mut self,
        n: u64,
        lv: usize,
        l: LruList,
        sc: &mut ScanControl,
        refill: bool,
    ) -> u64 {
        let kswapd = matches!(sc.actor, Actor::Kswapd(_));
        let cost = self.granularity.cost(cost::ISOLATE_PAGE);
        if !self.mem.node_lru {
            let examined = self.mem.isolate_lru_pages(n, lv, l);
            self.charge_actor(sc.actor, examined * cost);
            let z = &mut self.mem.zones[lv];
            z.pages_scanned += examined;
            if refill {
                z.stat.pgrefill += examined;
            } else if kswapd {
                z.stat.pgscan_kswapd += examined;
            } else {
                z.stat.pgscan_direct += examined;
            }
            return examined;
        }
        let (taken, skipped) = self.mem.isolate_node_lru_pages(n, lv, l, sc.reclaim_idx);
        self.charge_actor(sc.actor, (taken + skipped) * cost);
        self.count_node_scanned(kswapd, refill);
        // [4.8–4.11] NR_PAGES_SCANNED += nr_scanned, from shrink_inactive_list() and
        // shrink_active_list() alike; skipped pages count in full, as in `sc.nr_scanned`
        // (MODEL.md simplification 20: 4.8–4.11 counted them differently).
        let node = self.mem.zones[lv].node as usize;
        self.mem.nodes[node].pages_scanned += taken + skipped;
        if !refill {
            // 4.12+ shrink_inactive_list(): sc->nr_scanned += total_scan, skipped included.
            sc.nr_scanned += skipped;
        }
        taken
    }

    /// `inactive_list_is_low()` of lruvec `lv`: the zone's 2.6.3x rule, or [4.8+] the node's.
    pub(super) fn lruvec_inactive_is_low(&self, lv: usize, file: bool, reclaim_idx: usize) -> bool {
        if self.mem.node_lru {
            self.mem
                .node_inactive_is_low(lv, file, reclaim_idx, self.granularity)
        } else {
            self.mem.inactive_list_is_low(lv, file)
        }
    }

    /// The per-zone scan counters of the pages a node's lruvec batch walked, in each page's
    /// own zone: `pgrefill_<zone>` / `pgscan_*_<zone>` for every page walked (6.1 counts
    /// `total_scan`, skipped pages included), `zone->pages_scanned` for the isolated ones.
    fn count_node_scanned(&mut self, kswapd: bool, refill: bool) {
        let isolated = self.mem.scratch.len();
        for i in 0..isolated + self.mem.scratch_skip.len() {
            let id = if i < isolated {
                self.mem.scratch[i]
            } else {
                self.mem.scratch_skip[i - isolated]
            };
            let z = &mut self.mem.zones[self.mem.pages[id as usize].zone as usize];
            z.pages_scanned += u64::from(i < isolated);
            if refill {
                z.stat.pgrefill += 1;
            } else if kswapd {
                z.stat.pgscan_kswapd += 1;
            } else {
                z.stat.pgscan_direct += 1;
            }
        }
    }
}
