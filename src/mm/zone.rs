//! Zones, nodes and watermarks at boot, and `zone_watermark_ok()`.
//!
//! Mirrors `mm/page_alloc.c` of 2.6.32–2.6.36: `init_per_zone_wmark_min()`,
//! `setup_per_zone_wmarks()`, `setup_per_zone_lowmem_reserve()`, `zone_batchsize()`,
//! `calculate_zone_inactive_ratio()` and `zone_watermark_ok()` (reclaim-oom §1). The functions are
//! identical in every release of the range.

use super::page::{ListHead, PageId};
use crate::spec::NodeLayout;

/// Pages per GiB / MiB (4 KiB pages).
pub const PAGES_PER_MIB: u64 = 256;

/// `enum zone_type` on x86_64 (no HIGHMEM, no MOVABLE zone configured).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ZoneType {
    /// ZONE_DMA: below 16 MiB.
    Dma = 0,
    /// ZONE_DMA32: below 4 GiB.
    Dma32 = 1,
    /// ZONE_NORMAL: above 4 GiB.
    Normal = 2,
}

impl ZoneType {
    /// The zone's name as `/proc/zoneinfo` and the OOM report print it.
    pub fn name(self) -> &'static str {
        match self {
            ZoneType::Dma => "DMA",
            ZoneType::Dma32 => "DMA32",
            ZoneType::Normal => "Normal",
        }
    }

    /// The per-zone suffix of `/proc/vmstat` event counters.
    pub fn suffix(self) -> &'static str {
        match self {
            ZoneType::Dma => "dma",
            ZoneType::Dma32 => "dma32",
            ZoneType::Normal => "normal",
        }
    }

    /// `sysctl_lowmem_reserve_ratio[]` for this zone as the *lower* zone.
    fn lowmem_reserve_ratio(self) -> u64 {
        match self {
            ZoneType::Dma | ZoneType::Dma32 => 256,
            ZoneType::Normal => 32,
        }
    }
}

/// `WMARK_MIN`, `WMARK_LOW`, `WMARK_HIGH`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wmark {
    /// The min watermark.
    Min = 0,
    /// The low watermark.
    Low = 1,
    /// The high watermark.
    High = 2,
}

/// Per-zone counters of `enum zone_stat_item` that the model maintains.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ZoneStat {
    /// NR_MLOCK.
    pub nr_mlock: u64,
    /// NR_ANON_PAGES.
    pub nr_anon_pages: u64,
    /// NR_FILE_MAPPED.
    pub nr_mapped: u64,
    /// NR_FILE_PAGES (page cache, including shmem and swap cache).
    pub nr_file_pages: u64,
    /// NR_FILE_DIRTY.
    pub nr_dirty: u64,
    /// NR_WRITEBACK.
    pub nr_writeback: u64,
    /// Kernel memory on no LRU (NR_SLAB_RECLAIMABLE + NR_SLAB_UNRECLAIMABLE: the boot
    /// reservation and page tables count as unreclaimable slab).
    pub nr_kernel: u64,
    /// NR_SLAB_RECLAIMABLE (part of `nr_kernel`).
    pub nr_slab_reclaimable: u64,
    /// NR_VMSCAN_WRITE (monotonic).
    pub nr_vmscan_write: u64,
    /// NR_ISOLATED_ANON.
    pub nr_isolated_anon: u64,
    /// NR_ISOLATED_FILE.
    pub nr_isolated_file: u64,
    /// NR_SHMEM.
    pub nr_shmem: u64,
    /// pgalloc_<zone>.
    pub pgalloc: u64,
    /// pgrefill_<zone>.
    pub pgrefill: u64,
    /// pgsteal_<zone>.
    pub pgsteal: u64,
    /// pgscan_kswapd_<zone>.
    pub pgscan_kswapd: u64,
    /// pgscan_direct_<zone>.
    pub pgscan_direct: u64,
    /// pgskip_<zone> [4.8+]: pages of this zone `isolate_lru_pages()` stepped over because the
    /// zone is above `sc->reclaim_idx` (PGSCAN_SKIP).
    pub pgskip: u64,
}

/// One zone.
#[derive(Debug)]
pub struct Zone {
    /// Node id.
    pub node: u32,
    /// Type.
    pub ztype: ZoneType,
    /// First pfn.
    pub start_pfn: u64,
    /// `present_pages`.
    pub present: u64,
    /// min/low/high.
    pub watermark: [u64; 3],
    /// `lowmem_reserve[classzone_idx]`.
    pub lowmem_reserve: [u64; 3],
    /// The buddy free list (order 0 only).
    pub free: Vec<PageId>,
    /// One per-CPU free list per CPU.
    pub pcp: Vec<Vec<PageId>>,
    /// `pcp->high`.
    pub pcp_high: usize,
    /// `pcp->batch`.
    pub pcp_batch: usize,
    /// [3.12–4.7] `NR_ALLOC_BATCH`: pages the fair fast path may still take from this zone
    /// before the other local zones had theirs; high − low watermark when refilled
    /// (`__setup_per_zone_wmarks`, `reset_alloc_batches`), one less per page allocated.
    pub alloc_batch: i64,
    /// The five LRU lists of the lruvec this zone holds: its own [≤4.7]; from 4.8
    /// (`lru_lists = node`) the lowest zone of each node holds the node's lruvec, with the pages
    /// of every zone of the node, and the other zones' lists stay empty.
    pub lru: [ListHead; 5],
    /// The zone holding this zone's pages' lists (itself, or its node's lowest zone [4.8+]).
    pub lruvec: u16,
    /// `NR_ZONE_{IN,}ACTIVE_{ANON,FILE}`, `NR_ZONE_UNEVICTABLE`: this zone's pages on each list,
    /// wherever the list lives.
    pub nr_zone_lru: [u64; 5],
    /// `reclaim_stat.recent_scanned[anon, file]`.
    pub recent_scanned: [u64; 2],
    /// `reclaim_stat.recent_rotated[anon, file]`.
    pub recent_rotated: [u64; 2],
    /// `reclaim_stat.nr_saved_scan[lru]`, in base (4 KiB) pages: scan credit below one batch.
    pub nr_saved_scan: [u64; 5],
    /// `zone->pages_scanned`.
    pub pages_scanned: u64,
    /// ZONE_ALL_UNRECLAIMABLE / `zone->all_unreclaimable`.
    pub all_unreclaimable: bool,
    /// ZONE_OOM_LOCKED.
    pub oom_locked: bool,
    /// `zone->inactive_ratio`.
    pub inactive_ratio: u64,
    /// The later kernels' reclaim flags (`ZONE_CONGESTED`, `ZONE_TAIL_LRU_DIRTY`,
    /// `ZONE_WRITEBACK`; per node from 4.8 as `PGDAT_*`).
    pub flags: ReclaimFlags,
    /// Counters.
    pub stat: ZoneStat,
}

/// `ZONE_CONGESTED` (2.6.37), `ZONE_TAIL_LRU_DIRTY` and `ZONE_WRITEBACK` (3.11): set by
/// `shrink_inactive_list()` from what one batch met, cleared when kswapd finds the zone balanced.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReclaimFlags {
    /// Every dirty page met was backed by a congested queue.
    pub congested: bool,
    /// Every isolated page was dirty and not queued for IO.
    pub tail_lru_dirty: bool,
    /// Every isolated page was under writeback.
    pub writeback: bool,
}

impl Zone {
    /// NR_FREE_PAGES: the buddy lists only (per-CPU lists are not counted).
    #[inline]
    pub fn nr_free(&self) -> u64 {
        self.free.len() as u64
    }

    /// Pages on one LRU list.
    #[inline]
    pub fn nr_lru(&self, l: super::page::LruList) -> u64 {
        self.nr_zone_lru[l.idx()]
    }

    /// A watermark, pages.
    #[inline]
    pub fn wmark(&self, w: Wmark) -> u64 {
        self.watermark[w as usize]
    }
}

/// `zone_watermark_ok()` for order 0: `free > mark (lowered by ALLOC_HIGH/HARDER) + reserve`.
#[inline]
pub fn zone_watermark_ok(
    free: u64,
    mark: u64,
    lowmem_reserve: u64,
    alloc_high: bool,
    alloc_harder: bool,
) -> bool {
    // free = NR_FREE_PAGES - (1 << order) + 1 == NR_FREE_PAGES for order 0.
    let mut min = mark;
    if alloc_high {
        min -= min / 2;
    }
    if alloc_harder {
        min -= min / 4;
    }
    free > min + lowmem_reserve
}

/// `int_sqrt()`: the integer square root (floor).
pub fn int_sqrt(x: u64) -> u64 {
    if x == 0 {
        return 0;
    }
    let mut r = (x as f64).sqrt() as u64;
    // Correct any floating-point rounding so the result is exactly floor(sqrt(x)).
    while r * r > x {
        r -= 1;
    }
    while (r + 1) * (r + 1) <= x {
        r += 1;
    }
    r
}

/// `init_per_zone_wmark_min()`: min_free_kbytes = int_sqrt(lowmem_kbytes * 16), clamped to
/// [128, 65536]. At boot every high watermark is 0, so lowmem is every present page.
pub fn default_min_free_kbytes(total_present_pages: u64) -> u64 {
    let lowmem_kbytes = total_present_pages * 4;
    int_sqrt(lowmem_kbytes * 16).clamp(128, 65536)
}

/// `setup_per_zone_wmarks()` for one zone: `[min, low, high]`, 4 KiB pages from 4 KiB pages.
/// `scale_factor`: `vm.watermark_scale_factor` where the kernel has it (4.6,
/// `__setup_per_zone_wmarks()`: the gap above min is the larger of min/4 and that many
/// ten-thousandths of the zone's managed pages); `None`: 2.6.32's min/4 and min/2.
pub fn zone_wmarks(
    min_free_kbytes: u64,
    present: u64,
    lowmem_pages: u64,
    scale_factor: Option<u64>,
) -> [u64; 3] {
    let pages_min = min_free_kbytes >> 2;
    let tmp = pages_min * present / lowmem_pages.max(1);
    match scale_factor {
        None => [tmp, tmp + (tmp >> 2), tmp + (tmp >> 1)],
        Some(factor) => {
            let gap = (tmp >> 2).max(present * factor / 10_000);
            [tmp, tmp + gap, tmp + 2 * gap]
        }
    }
}

/// `zone_batchsize()` and `setup_pageset()`: `(batch, high)` of the per-CPU lists, 4 KiB pages
/// from a zone's 4 KiB pages.
pub fn zone_pcp(present: u64) -> (usize, usize) {
    let mut batch = present / 1024;
    if batch * 4096 > 512 * 1024 {
        batch = (512 * 1024) / 4096;
    }
    batch /= 4;
    if batch < 1 {
        batch = 1;
    }
    let b = batch + batch / 2;
    let pow = if b == 0 {
        0
    } else {
        1u64 << (63 - b.leading_zeros())
    };
    let batch = pow.saturating_sub(1);
    let high = 6 * batch;
    (batch.max(1) as usize, high as usize)
}

/// `calculate_zone_inactive_ratio()`: int_sqrt(10 * GiB), 1 under 1 GiB (`present` in 4 KiB
/// pages).
pub fn inactive_ratio(present: u64) -> u64 {
    let gb = present >> (30 - 12);
    if gb == 0 {
        1
    } else {
        int_sqrt(10 * gb).max(1)
    }
}

/// The zones of one node before they are populated: `(type, start_pfn, pages)`.
pub type ZoneExtent = (ZoneType, u64, u64);

/// Splits `[start, end)` (pages of `page_bytes`, counted from the first byte of memory) into
/// x86_64 zones by physical address, with `pci_hole` bytes of addresses below 4 GiB holding no
/// memory: the memory that would sit there is remapped above 4 GiB, into Normal. Page numbers
/// stay dense (a zone's `start_pfn` is its first page's index, not its physical pfn).
fn split_by_address(start: u64, end: u64, page_bytes: u64, pci_hole: u64) -> Vec<ZoneExtent> {
    // The boundaries are physical addresses (16 MiB, 4 GiB less the hole): whole simulated
    // pages at every accepted granularity (the hole is validated a multiple of the page).
    let dma_end = 16 * PAGES_PER_MIB * 4096 / page_bytes;
    let dma32_end = (4 * 1024 * PAGES_PER_MIB * 4096 - pci_hole) / page_bytes;
    let mut out = vec![];
    for (t, lo, hi) in [
        (ZoneType::Dma, 0, dma_end),
        (ZoneType::Dma32, dma_end, dma32_end),
        (ZoneType::Normal, dma32_end, u64::MAX),
    ] {
        let s = start.max(lo);
        let e = end.min(hi);
        if e > s {
            out.push((t, s, e - s));
        }
    }
    out
}

/// Every node's zones for a layout of `memory_pages` simulated pages of `page_bytes` each (node
/// sizes are whole simulated pages, validated): `nodes[node] = [(type, start_pfn, pages)]`.
pub fn layout_zones(
    layout: &NodeLayout,
    memory_pages: u64,
    page_bytes: u64,
) -> Vec<Vec<ZoneExtent>> {
    match layout {
        NodeLayout::X86_64 { pci_hole_bytes } => {
            vec![split_by_address(
                0,
                memory_pages,
                page_bytes,
                *pci_hole_bytes,
            )]
        }
        NodeLayout::FakeNuma { node_bytes } => {
            let per = (node_bytes / page_bytes).max(1);
            let mut nodes = vec![];
            let mut start = 0;
            while start < memory_pages {
                let end = (start + per).min(memory_pages);
                nodes.push(split_by_address(start, end, page_bytes, 0));
                start = end;
            }
            nodes
        }
        NodeLayout::Explicit { node_bytes } => {
            let mut start = 0;
            node_bytes
                .iter()
                .map(|b| {
                    let pages = b / page_bytes;
                    let z = vec![(ZoneType::Normal, start, pages)];
                    start += pages;
                    z
                })
                .collect()
        }
    }
}

/// `setup_per_zone_lowmem_reserve()` for one node's zones (sorted by type):
/// `reserve[j]` of a lower zone `i` = pages of zones `i+1..=j` / ratio of zone `i`.
pub fn lowmem_reserves(zones: &[(ZoneType, u64)]) -> Vec<[u64; 3]> {
    let mut out = vec![[0u64; 3]; zones.len()];
    for (i, &(ti, _)) in zones.iter().enumerate() {
        for j in (i + 1)..zones.len() {
            let upper: u64 = zones[i + 1..=j].iter().map(|&(_, p)| p).sum();
            let class = zones[j].0 as usize;
            out[i][class] = upper / ti.lowmem_reserve_ratio();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn min_free_kbytes_matches_the_kernel_comment_table() {
        // 16 MB -> 512k, 128 MB -> 1448k, 1 GB -> 4096k, 4 GB -> 8192k, 16 GB -> 16384k.
        assert_eq!(default_min_free_kbytes(16 * 256), 512);
        assert_eq!(default_min_free_kbytes(128 * 256), 1448);
        assert_eq!(default_min_free_kbytes(1024 * 256), 4096);
        assert_eq!(default_min_free_kbytes(4096 * 256), 8192);
        assert_eq!(default_min_free_kbytes(16384 * 256), 16384);
        assert_eq!(default_min_free_kbytes(32768 * 256), 23170);
    }

    #[test]
    fn watermarks_of_a_128mib_node_on_a_32gib_box_are_22_27_33_pages() {
        let total = 32 * 1024 * PAGES_PER_MIB;
        let mfk = default_min_free_kbytes(total);
        assert_eq!(
            zone_wmarks(mfk, 128 * PAGES_PER_MIB, total, None),
            [22, 27, 33]
        );
    }

    #[test]
    fn pcp_batch_is_7_for_128mib_and_31_for_big_zones() {
        assert_eq!(zone_pcp(32768), (7, 42));
        assert_eq!(zone_pcp(1 << 20), (31, 186));
    }

    #[test]
    fn inactive_ratio_is_1_below_1gib_and_5_at_3gib() {
        assert_eq!(inactive_ratio(32768), 1);
        assert_eq!(inactive_ratio(3 << 18), 5);
        assert_eq!(inactive_ratio(10 << 18), 10);
    }

    #[test]
    fn fake_numa_puts_dma_in_node_0_and_normal_above_4gib() {
        let nodes = layout_zones(
            &NodeLayout::FakeNuma {
                node_bytes: 2 << 30,
            },
            6 << 18,
            4096,
        );
        assert_eq!(nodes.len(), 3);
        assert_eq!(nodes[0][0].0, ZoneType::Dma);
        assert_eq!(nodes[0][1].0, ZoneType::Dma32);
        assert_eq!(nodes[2], vec![(ZoneType::Normal, 4 << 18, 2 << 18)]);
    }

    #[test]
    fn lowmem_reserve_protects_dma_from_normal_allocations() {
        let r = lowmem_reserves(&[
            (ZoneType::Dma, 4096),
            (ZoneType::Dma32, 1_000_000),
            (ZoneType::Normal, 2_000_000),
        ]);
        assert_eq!(r[0][ZoneType::Normal as usize], 3_000_000 / 256);
        assert_eq!(r[1][ZoneType::Normal as usize], 2_000_000 / 256);
        assert_eq!(r[2], [0, 0, 0]);
    }
}
