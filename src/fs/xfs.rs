//! XFS (`fs/xfs/linux-2.6/xfs_aops.c` `xfs_vm_writepage()`, writeback-fs §C.4): delayed allocation
//! for every buffered write; from reclaim, per the `xfs_reclaim_writepage` switch, it allocates
//! and clusters (2.6.32–2.6.34), refuses every `PF_MEMALLOC` caller (2.6.35), or refuses direct
//! reclaim only while kswapd writes and clusters (2.6.36). Its writer allocates page cache with
//! the mapping's full mask in 2.6.32–2.6.35 and, from 2.6.36, without `__GFP_FS`
//! (`xfs_vm_write_begin()` passes `AOP_FLAG_NOFS`; switch `xfs_write_begin_nofs`).

use super::{Decision, Filesystem, WritepageCall, Writepages};
use crate::kernel::{Switches, XfsReclaimWritepage};
use crate::mm::{gfp, pf};
use crate::spec::MountSpec;

/// XFS.
pub struct Xfs;

impl Filesystem for Xfs {
    fn name(&self) -> &'static str {
        "xfs"
    }

    /// `xfs_vm_writepage()`.
    fn writepage(&self, call: &WritepageCall, switches: &Switches) -> Decision {
        let memalloc = call.current_pf & pf::MEMALLOC != 0;
        let kswapd = call.current_pf & pf::KSWAPD != 0;
        let reclaim = call.caller.is_reclaim();
        match switches.xfs_reclaim_writepage {
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

    /// `xfs_vm_writepages()` = `generic_writepages()`, whose `->writepage` allocates the delayed
    /// extent (modelled as ext4's extent per 8 MiB).
    fn writepages(&self, _mount: &MountSpec) -> Writepages {
        Writepages {
            nr_to_write_bump: None,
            extent_pages: Some(super::ext4::EXTENT_PAGES),
            // Its allocator's own metadata (btree blocks, buffers) is not modelled
            // (docs/MODEL.md simplification 2).
            group_metadata: false,
        }
    }

    fn writer_gfp(&self, switches: &Switches) -> u32 {
        if switches.xfs_write_begin_nofs {
            gfp::GFP_HIGHUSER_MOVABLE & !gfp::FS
        } else {
            gfp::GFP_HIGHUSER_MOVABLE
        }
    }

    fn delalloc(&self, _mount: &MountSpec) -> bool {
        true
    }

    fn refusal_rule(&self, switches: &Switches) -> &'static str {
        if switches.xfs_reclaim_writepage == XfsReclaimWritepage::RefuseMemalloc {
            "xfs_vm_writepage() skips writeback from reclaim context (PF_MEMALLOC)"
        } else {
            "xfs_vm_writepage() skips writeback from direct reclaim (PF_MEMALLOC without PF_KSWAPD)"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{decide, KSWAPD_PF};
    use super::super::{Decision, FsType, WritepageCaller};
    use crate::mm::page::pg;
    use crate::mm::pf::MEMALLOC;

    const F: u32 = pg::DIRTY | pg::DELALLOC;

    #[test]
    fn xfs_2_6_36_writes_from_kswapd_but_not_from_direct_reclaim() {
        let k = decide(FsType::Xfs, "2.6.36", F, WritepageCaller::Kswapd, KSWAPD_PF);
        assert!(matches!(k, Decision::Write { .. }));
        let d = decide(
            FsType::Xfs,
            "2.6.36",
            F,
            WritepageCaller::DirectReclaim,
            MEMALLOC,
        );
        assert_eq!(d, Decision::Refuse);
    }

    #[test]
    fn the_xfs_writer_allocates_nofs_from_2_6_36() {
        let gfp_of = |p| {
            let switches = crate::kernel::Kernel::profile(p).unwrap().switches;
            FsType::Xfs.ops().writer_gfp(&switches)
        };
        assert_ne!(gfp_of("2.6.35") & crate::mm::gfp::FS, 0);
        assert_eq!(gfp_of("2.6.36") & crate::mm::gfp::FS, 0);
        assert_eq!(gfp_of("mainline") & crate::mm::gfp::FS, 0);
    }

    #[test]
    fn xfs_2_6_35_refuses_kswapd_and_2_6_32_writes_from_reclaim() {
        let k = decide(FsType::Xfs, "2.6.35", F, WritepageCaller::Kswapd, KSWAPD_PF);
        assert_eq!(k, Decision::Refuse);
        let d = decide(
            FsType::Xfs,
            "2.6.32",
            F,
            WritepageCaller::DirectReclaim,
            MEMALLOC,
        );
        assert_eq!(d, Decision::Write { cluster: 127 });
    }
}
