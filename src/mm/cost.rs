//! CPU cost constants (reclaim-oom §15.3), ns: charged to the actor that does the work. The
//! per-page costs are per 4 KiB page; a simulated page costs `Granularity::cost` of them. Each is
//! an estimate of the era's hardware (reclaim-oom §15.3 gives the basis); no outcome is tuned by
//! them.

/// Examining one page in `shrink_page_list` (unmapped).
pub const SCAN_PAGE: u64 = 200;
/// Extra for a mapped page (rmap walk).
pub const SCAN_MAPPED: u64 = 1_000;
/// Isolating or putting back one page.
pub const ISOLATE_PAGE: u64 = 50;
/// Allocating one page on the fast path.
pub const ALLOC_PAGE: u64 = 100;
/// Copying one page in `write()`/`read()`.
pub const COPY_PAGE: u64 = 1_000;
/// Submitting one page for IO in `->writepage(s)`.
pub const SUBMIT_PAGE: u64 = 300;
/// One delalloc extent allocation (journal handle + mballoc) in ext4/btrfs/xfs writepages.
pub const ALLOC_EXTENT: u64 = 20_000;
/// Freeing one page of an exiting task or a truncated file.
pub const FREE_PAGE: u64 = 100;
/// The floor of any loop iteration of kswapd or the flusher, so time always advances.
pub const LOOP_MIN: u64 = 1_000;
