//! The block-device page cache (`fs/block_dev.c` 2.6.32–2.6.36, 13a §5): `dd of=/dev/sdX` or
//! `mkfs` writing through the page cache of the device's own inode. `bdget()` gives that mapping
//! `GFP_USER` (`mapping_set_gfp_mask(&inode->i_data, GFP_USER)`: `__GFP_FS` and `__GFP_IO`, no
//! `__GFP_HIGHMEM`, no `__GFP_MOVABLE`) and, once opened, the disk queue's bdi, shared with any
//! filesystem on that disk (one flusher writes both). `def_blk_aops` has `blkdev_writepage` =
//! `block_write_full_page(page, blkdev_get_block, wbc)`: every block below the device end is
//! mapped, so it always writes, for every caller; no journal, no handle, no delayed allocation.

use super::{Decision, Filesystem, WritepageCall};
use crate::kernel::Switches;
use crate::mm::gfp;

/// A raw block device's page cache.
pub struct Blockdev;

impl Filesystem for Blockdev {
    fn name(&self) -> &'static str {
        "blockdev"
    }

    /// `blkdev_writepage()`: always writes.
    fn writepage(&self, _call: &WritepageCall, _sw: &Switches) -> Decision {
        Decision::Write { cluster: 0 }
    }

    /// `bdget()`'s mapping mask, GFP_USER: the writer's own reclaim may enter the filesystem
    /// (and write its dirty pages) and may call the OOM killer.
    fn writer_gfp(&self, _sw: &Switches) -> u32 {
        gfp::GFP_USER
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{decide, KSWAPD_PF};
    use super::super::{Decision, FsType, WritepageCaller};
    use crate::mm::gfp;
    use crate::mm::page::pg;
    use crate::mm::pf::MEMALLOC;

    #[test]
    fn a_block_device_page_is_written_by_every_caller() {
        for (caller, pf) in [
            (WritepageCaller::Kswapd, KSWAPD_PF),
            (WritepageCaller::DirectReclaim, MEMALLOC),
            (WritepageCaller::Flusher, 0),
        ] {
            assert_eq!(
                decide(FsType::Blockdev, "2.6.32", pg::DIRTY, caller, pf),
                Decision::Write { cluster: 0 }
            );
        }
    }

    #[test]
    fn a_block_device_writer_allocates_gfp_user_with_fs_and_without_highmem_or_movable() {
        let g = FsType::Blockdev
            .ops()
            .writer_gfp(&crate::kernel::Switches::BASE);
        assert_eq!(g, gfp::GFP_USER);
        assert_ne!(g & gfp::FS, 0);
        assert_eq!(g & (gfp::HIGHMEM | gfp::MOVABLE), 0);
    }
}
