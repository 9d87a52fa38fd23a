//! The simulated page (`machine.page_granularity`, docs/MODEL.md simplification 21).
//!
//! Every kernel constant and every quantity of the model is defined in 4 KiB kernel ("base")
//! pages or in bytes. At the default granularity one simulated page is one base page and every
//! conversion below is the identity, so a 4 KiB run is exactly the page-granular model. A
//! coarser simulated page of `G = page_granularity / 4 KiB` base pages lets a machine beyond
//! [`crate::scenario::validate::MAX_PAGES`] base pages run; each site that turns a kernel
//! quantity into a count of simulated pages says which of these rules it uses and why:
//!
//! | rule | used for | why |
//! |------|----------|-----|
//! | [`Granularity::pages_ceil`] | sizes a task touches (file, anon, pin, shm, `write()`/`read()` calls, `dirty_bytes`) | the kernel rounds bytes up to whole pages (`DIV_ROUND_UP(x, PAGE_SIZE)`) |
//! | [`Granularity::pages_floor`] | capacities (memory, nodes, swap, kernel memory) | never more than configured |
//! | [`Granularity::floor`] | thresholds a count must exceed (watermarks, `lowmem_reserve`, `> 48` scanned) | `n·G > x ⇔ n > ⌊x/G⌋`: exact for `>` |
//! | [`Granularity::batch`] | batches and chunks (`SWAP_CLUSTER_MAX`, `MAX_WRITEBACK_PAGES`, pcp batch/high, `ratelimit_pages`, request size) | the same bytes per batch, to the nearest page, at least one page |
//! | [`Granularity::base`] | reports, and kernel formulas that read page counts (`min_free_kbytes`, `inactive_ratio`, `zone_batchsize`, badness) | kernel units in and out |
//! | [`Granularity::cost`] | per-page CPU costs (`mm::cost`) | one simulated page is `G` pages of work |
//!
//! Ratios (priority shifts, percentages, the 6× all-unreclaimable rule, `inactive_ratio`, OOM
//! points per mille) compare counts of the same unit and keep their meaning unconverted.

/// The kernel's page size on x86_64: the unit of every kernel constant.
pub const BASE_PAGE: u64 = 4096;

/// A count of kernel (4 KiB) pages: the unit of every kernel constant and of the kernel's own
/// formulas. The engine counts simulated pages (plain `u64`); a kernel count becomes simulated
/// pages only through [`Granularity::floor`] or [`Granularity::batch`], so the two cannot be
/// mixed up by accident.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct KernelPages(pub u64);
/// The largest simulated page accepted: 128 KiB, `SWAP_CLUSTER_MAX` (32) kernel pages. Reclaim's
/// batch and goal must stay a whole number of simulated pages: past it one simulated page is
/// more than reclaim takes at once in the kernel, every direct-reclaim pass frees more and sleeps
/// less per byte, and kswapd's share of the work collapses (docs/MODEL.md simplification 21).
pub const MAX_PAGE_GRANULARITY: u64 = 128 << 10;

/// How many base pages one simulated page stands for (a power of two).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Granularity {
    shift: u32,
}

impl Default for Granularity {
    fn default() -> Self {
        Granularity::BASE
    }
}

impl Granularity {
    /// One simulated page per base page: the kernel's own granularity.
    pub const BASE: Granularity = Granularity { shift: 0 };

    /// The granularity of a simulated page of `page_bytes` (validated: a power of two from 4 KiB
    /// to [`MAX_PAGE_GRANULARITY`]).
    pub fn of_bytes(page_bytes: u64) -> Granularity {
        assert!(
            page_bytes.is_power_of_two()
                && (BASE_PAGE..=MAX_PAGE_GRANULARITY).contains(&page_bytes),
            "page granularity {page_bytes} passed validation"
        );
        Granularity {
            shift: page_bytes.trailing_zeros() - BASE_PAGE.trailing_zeros(),
        }
    }

    /// `G`: base pages per simulated page.
    #[inline]
    pub fn factor(self) -> u64 {
        1 << self.shift
    }

    /// Bytes of one simulated page.
    #[inline]
    pub fn page_bytes(self) -> u64 {
        BASE_PAGE << self.shift
    }

    /// Whether every simulated page is one kernel page.
    #[inline]
    pub fn is_base(self) -> bool {
        self.shift == 0
    }

    /// Bytes → simulated pages, rounded up.
    #[inline]
    pub fn pages_ceil(self, bytes: u64) -> u64 {
        bytes.div_ceil(self.page_bytes())
    }

    /// Bytes → simulated pages, rounded down.
    #[inline]
    pub fn pages_floor(self, bytes: u64) -> u64 {
        bytes / self.page_bytes()
    }

    /// Base pages → simulated pages, rounded down.
    #[inline]
    pub fn floor(self, base: KernelPages) -> u64 {
        base.0 >> self.shift
    }

    /// A batch of base pages → simulated pages: to the nearest page, at least one (the identity
    /// at 4 KiB, zero included).
    #[inline]
    pub fn batch(self, base: KernelPages) -> u64 {
        let base = base.0;
        if self.shift == 0 {
            return base;
        }
        ((base + (1 << (self.shift - 1))) >> self.shift).max(1)
    }

    /// Simulated pages → base pages.
    #[inline]
    pub fn base(self, sim: u64) -> u64 {
        sim << self.shift
    }

    /// A CPU cost per base page → the cost of one simulated page.
    #[inline]
    pub fn cost(self, ns_per_base_page: u64) -> u64 {
        ns_per_base_page << self.shift
    }

    /// How a scenario writes this granularity (`4KiB`, `64KiB`, `2MiB`).
    pub fn name(self) -> String {
        let b = self.page_bytes();
        if b >= 1 << 20 {
            format!("{}MiB", b >> 20)
        } else {
            format!("{}KiB", b >> 10)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_conversion_is_the_identity_at_4_kib() {
        let g = Granularity::BASE;
        for x in [0, 1, 7, 31, 32, 186, 1024, 32_768] {
            let k = KernelPages(x);
            assert_eq!((g.floor(k), g.batch(k), g.base(x), g.cost(x)), (x, x, x, x));
            assert_eq!(g.pages_ceil(x * 4096 + 1), x + 1);
        }
    }

    #[test]
    fn a_64_kib_page_is_16_base_pages_and_batches_round_to_the_nearest_page() {
        let g = Granularity::of_bytes(64 << 10);
        assert_eq!((g.factor(), g.name()), (16, "64KiB".to_string()));
        let k = KernelPages;
        assert_eq!(g.batch(k(32)), 2); // SWAP_CLUSTER_MAX
        assert_eq!(g.batch(k(1024)), 64); // MAX_WRITEBACK_PAGES
        assert_eq!(g.batch(k(31)), 2); // a pcp batch: 1.94 pages
        assert_eq!(g.batch(k(8)), 1); // half a page rounds up
        assert_eq!(g.batch(k(1)), 1); // never zero
        assert_eq!(g.floor(k(27)), 1);
        assert_eq!(g.pages_ceil(1), 1);
        assert_eq!(Granularity::of_bytes(MAX_PAGE_GRANULARITY).name(), "128KiB");
    }
}
