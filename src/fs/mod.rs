//! What each filesystem's `->writepage` does with a page, per caller, per release
//! (writeback-fs §C, reclaim-oom §14). The decisions are pure functions of the page state, the
//! caller and `current->flags`; `Machine::writepage` applies them.
//!
//! | fs | `->writepage` refuses | source |
//! |----|-----------------------|--------|
//! | ext4 | any dirty delayed-allocation page, for every caller | `ext4_writepage()` K32/K36 |
//! | ext3 | nothing, except buffers locked by a journal commit when called non-blocking | `ext3_ordered_writepage()`, `__block_write_full_page()` |
//! | btrfs | any `PF_MEMALLOC` caller (kswapd and direct reclaim) | `btrfs_writepage()` K32/K36 |
//! | XFS 2.6.32–34 | nothing (allocates and clusters from reclaim) | `xfs_vm_writepage()` K32 |
//! | XFS 2.6.35 | any `PF_MEMALLOC` caller | "xfs: skip writeback from reclaim context" |
//! | XFS 2.6.36 | direct reclaim only (`PF_MEMALLOC` without `PF_KSWAPD`) | "xfs: allow writeback from kswapd" |
//! | tmpfs | SHM_LOCK'd or no swap: `AOP_WRITEPAGE_ACTIVATE` when for reclaim | `shmem_writepage()` |

use crate::kernel::{Switches, XfsReclaimWritepage};
use crate::mm::gfp;
use crate::mm::page::pg;
use crate::mm::pf;
use crate::spec::FsType;

/// Who calls `->writepage` / `->writepages`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WritepageCaller {
    /// kswapd's `pageout()`.
    Kswapd,
    /// A direct reclaimer's `pageout()`.
    DirectReclaim,
    /// The flusher thread (`->writepages`).
    Flusher,
    /// A writer throttled in `balance_dirty_pages` (`->writepages`).
    Writer,
    /// A journal commit (ordered data).
    Journal,
}

/// What `->writepage` decides for one page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Start IO: `set_page_writeback`, submit, unlock, return 0. `cluster`: also write up to
    /// this many following dirty pages of the file (XFS `xfs_cluster_write`).
    Write {
        /// Extra pages to cluster.
        cluster: u32,
    },
    /// The filesystem declines by design (the subject of the policy): redirty and return 0, or
    /// return `AOP_WRITEPAGE_ACTIVATE` under the `activate` policy when called for reclaim.
    Refuse,
    /// Declines because a buffer is busy (non-blocking trylock failed): always redirty.
    Busy,
    /// Nothing to write (ext3 ordered: the journal already wrote the buffers): the page goes
    /// clean at once through `set_page_writeback` + `end_page_writeback`.
    NothingToWrite,
    /// shmem: move to the swap cache and write to swap.
    SwapOut,
    /// shmem: cannot be written (SHM_LOCK, no swap, swap full): `set_page_dirty`, and
    /// `AOP_WRITEPAGE_ACTIVATE` when for reclaim, whatever the policy (shmem's own behaviour).
    ShmemActivate,
}

/// What applying a decision produced, as `pageout()` sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WritepageResult {
    /// IO started (or the page went clean at once).
    Written,
    /// Redirtied, unlocked, returned 0.
    Redirtied,
    /// Returned `AOP_WRITEPAGE_ACTIVATE` with the page locked.
    Activate,
}

/// The gfp mask of a buffered writer's page-cache allocation on `fs` (reclaim-oom §14.1).
///
/// ext4 starts its journal handle before `grab_cache_page_write_begin(…, AOP_FLAG_NOFS)`, so its
/// pages are allocated without `__GFP_FS`; ext3 and XFS (which passes `flags` unchanged in
/// 2.6.32–36) allocate with the mapping's full mask.
pub fn writer_gfp(fs: FsType) -> u32 {
    match fs {
        FsType::Ext4 => gfp::GFP_HIGHUSER_MOVABLE & !gfp::FS,
        _ => gfp::GFP_HIGHUSER_MOVABLE,
    }
}

/// `->writepage` of `fs` for a dirty page with `flags`, called by `caller` whose task flags are
/// `current_pf`, under the rules `sw`. `swap_ok` (shmem only): swap is configured and a slot is free.
pub fn writepage_decision(
    fs: FsType,
    sw: &Switches,
    flags: u32,
    caller: WritepageCaller,
    current_pf: u32,
    segment_locked: bool,
    swap_ok: bool,
) -> Decision {
    let reclaim = matches!(
        caller,
        WritepageCaller::Kswapd | WritepageCaller::DirectReclaim
    );
    match fs {
        FsType::Ext4 => {
            if flags & pg::DELALLOC != 0 {
                Decision::Refuse
            } else if flags & pg::JOURNAL_IO != 0 && reclaim {
                Decision::Busy
            } else {
                Decision::Write { cluster: 0 }
            }
        }
        FsType::Ext3 => {
            if flags & pg::JOURNAL_IO != 0 && reclaim {
                Decision::Busy
            } else if flags & (pg::BUFFERS_CLEAN | pg::JOURNAL_IO) != 0 {
                Decision::NothingToWrite
            } else {
                Decision::Write { cluster: 0 }
            }
        }
        FsType::Btrfs => {
            if current_pf & pf::MEMALLOC != 0 {
                Decision::Refuse
            } else {
                Decision::Write { cluster: 0 }
            }
        }
        FsType::Xfs => xfs_decision(sw.xfs_reclaim_writepage, caller, current_pf),
        FsType::Tmpfs => {
            if segment_locked || !swap_ok {
                Decision::ShmemActivate
            } else {
                Decision::SwapOut
            }
        }
    }
}

/// Why `fs`'s `->writepage` declines a page under the rules `sw`, for `wbsim explain`.
pub fn refusal_rule(fs: FsType, sw: &Switches) -> &'static str {
    match (fs, sw.xfs_reclaim_writepage) {
        (FsType::Ext4, _) => {
            "ext4_writepage() will not allocate blocks for delayed-allocation pages"
        }
        (FsType::Btrfs, _) => "btrfs_writepage() declines any PF_MEMALLOC caller",
        (FsType::Xfs, XfsReclaimWritepage::RefuseMemalloc) => {
            "xfs_vm_writepage() skips writeback from reclaim context (PF_MEMALLOC)"
        }
        (FsType::Xfs, _) => {
            "xfs_vm_writepage() skips writeback from direct reclaim (PF_MEMALLOC without PF_KSWAPD)"
        }
        _ => "the filesystem declined the page",
    }
}

/// `xfs_vm_writepage()` (writeback-fs §C.4).
fn xfs_decision(rule: XfsReclaimWritepage, caller: WritepageCaller, current_pf: u32) -> Decision {
    let memalloc = current_pf & pf::MEMALLOC != 0;
    let kswapd = current_pf & pf::KSWAPD != 0;
    let reclaim = matches!(
        caller,
        WritepageCaller::Kswapd | WritepageCaller::DirectReclaim
    );
    match rule {
        XfsReclaimWritepage::AllocateAndCluster => {
            // wbc->nr_to_write *= 4 from reclaim: up to 4 × 32 pages, the victim included.
            Decision::Write {
                cluster: if reclaim { 4 * 32 - 1 } else { 0 },
            }
        }
        XfsReclaimWritepage::RefuseMemalloc => {
            if memalloc {
                Decision::Refuse
            } else {
                Decision::Write { cluster: 0 }
            }
        }
        XfsReclaimWritepage::RefuseDirect => {
            if memalloc && !kswapd {
                Decision::Refuse
            } else {
                Decision::Write {
                    cluster: if reclaim { 32 - 1 } else { 0 },
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::Kernel;
    use crate::mm::pf::{KSWAPD, MEMALLOC, SWAPWRITE};
    use crate::spec::Release;

    const KSWAPD_PF: u32 = MEMALLOC | SWAPWRITE | KSWAPD;

    fn decide(fs: FsType, r: Release, flags: u32, c: WritepageCaller, pf: u32) -> Decision {
        let sw = Kernel::profile(r.name()).expect("a profile").switches;
        writepage_decision(fs, &sw, flags, c, pf, false, true)
    }

    #[test]
    fn ext4_refuses_delalloc_pages_from_every_caller() {
        for c in [
            WritepageCaller::Kswapd,
            WritepageCaller::DirectReclaim,
            WritepageCaller::Journal,
        ] {
            let d = decide(
                FsType::Ext4,
                Release::V2_6_32,
                pg::DIRTY | pg::DELALLOC,
                c,
                0,
            );
            assert_eq!(d, Decision::Refuse);
        }
        let mapped = decide(
            FsType::Ext4,
            Release::V2_6_32,
            pg::DIRTY,
            WritepageCaller::Kswapd,
            KSWAPD_PF,
        );
        assert_eq!(mapped, Decision::Write { cluster: 0 });
    }

    #[test]
    fn btrfs_refuses_writepage_from_kswapd_and_direct_reclaim() {
        let f = pg::DIRTY | pg::DELALLOC;
        assert_eq!(
            decide(
                FsType::Btrfs,
                Release::V2_6_36,
                f,
                WritepageCaller::Kswapd,
                KSWAPD_PF
            ),
            Decision::Refuse
        );
        assert_eq!(
            decide(
                FsType::Btrfs,
                Release::V2_6_36,
                f,
                WritepageCaller::DirectReclaim,
                MEMALLOC
            ),
            Decision::Refuse
        );
        assert!(matches!(
            decide(
                FsType::Btrfs,
                Release::V2_6_36,
                f,
                WritepageCaller::Flusher,
                SWAPWRITE
            ),
            Decision::Write { .. }
        ));
    }

    #[test]
    fn xfs_2_6_36_writes_from_kswapd_but_not_from_direct_reclaim() {
        let f = pg::DIRTY | pg::DELALLOC;
        assert!(matches!(
            decide(
                FsType::Xfs,
                Release::V2_6_36,
                f,
                WritepageCaller::Kswapd,
                KSWAPD_PF
            ),
            Decision::Write { .. }
        ));
        assert_eq!(
            decide(
                FsType::Xfs,
                Release::V2_6_36,
                f,
                WritepageCaller::DirectReclaim,
                MEMALLOC
            ),
            Decision::Refuse
        );
    }

    #[test]
    fn xfs_2_6_35_refuses_kswapd_and_2_6_32_writes_from_reclaim() {
        let f = pg::DIRTY | pg::DELALLOC;
        assert_eq!(
            decide(
                FsType::Xfs,
                Release::V2_6_35,
                f,
                WritepageCaller::Kswapd,
                KSWAPD_PF
            ),
            Decision::Refuse
        );
        assert_eq!(
            decide(
                FsType::Xfs,
                Release::V2_6_32,
                f,
                WritepageCaller::DirectReclaim,
                MEMALLOC
            ),
            Decision::Write { cluster: 127 }
        );
    }

    #[test]
    fn ext3_writes_from_reclaim_unless_the_journal_holds_the_buffers() {
        assert_eq!(
            decide(
                FsType::Ext3,
                Release::V2_6_32,
                pg::DIRTY,
                WritepageCaller::DirectReclaim,
                MEMALLOC
            ),
            Decision::Write { cluster: 0 }
        );
        assert_eq!(
            decide(
                FsType::Ext3,
                Release::V2_6_32,
                pg::DIRTY | pg::JOURNAL_IO,
                WritepageCaller::Kswapd,
                KSWAPD_PF
            ),
            Decision::Busy
        );
        assert_eq!(
            decide(
                FsType::Ext3,
                Release::V2_6_32,
                pg::DIRTY | pg::BUFFERS_CLEAN,
                WritepageCaller::Kswapd,
                KSWAPD_PF
            ),
            Decision::NothingToWrite
        );
    }

    #[test]
    fn shmem_activates_when_locked_or_without_swap() {
        let d = writepage_decision(
            FsType::Tmpfs,
            &Switches::BASE,
            pg::DIRTY,
            WritepageCaller::Kswapd,
            KSWAPD_PF,
            true,
            true,
        );
        assert_eq!(d, Decision::ShmemActivate);
        let d = writepage_decision(
            FsType::Tmpfs,
            &Switches::BASE,
            pg::DIRTY,
            WritepageCaller::Kswapd,
            KSWAPD_PF,
            false,
            false,
        );
        assert_eq!(d, Decision::ShmemActivate);
        let d = writepage_decision(
            FsType::Tmpfs,
            &Switches::BASE,
            pg::DIRTY,
            WritepageCaller::Kswapd,
            KSWAPD_PF,
            false,
            true,
        );
        assert_eq!(d, Decision::SwapOut);
    }

    #[test]
    fn the_ext4_writer_allocates_nofs_and_the_ext3_writer_does_not() {
        assert_eq!(writer_gfp(FsType::Ext4) & gfp::FS, 0);
        assert_ne!(writer_gfp(FsType::Ext3) & gfp::FS, 0);
    }
}
