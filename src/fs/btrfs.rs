//! btrfs (`fs/btrfs/inode.c` 2.6.32–2.6.36, writeback-fs §C.3): every buffered write is delayed
//! allocation (extents are allocated by `->writepages`), and `btrfs_writepage()` refuses any
//! `PF_MEMALLOC` caller, kswapd included ("we can't write from reclaim, the transaction may
//! need memory").

use super::{Decision, Filesystem, WritepageCall, Writepages};
use crate::kernel::Switches;
use crate::mm::pf;
use crate::spec::MountSpec;

/// btrfs.
pub struct Btrfs;

impl Filesystem for Btrfs {
    /// btrfs keeps extent state, not buffer heads, in a page's private field
    /// (`set_page_extent_mapped`).
    fn buffer_heads(&self) -> bool {
        false
    }

    fn name(&self) -> &'static str {
        "btrfs"
    }

    /// `btrfs_writepage()`: `if (current->flags & PF_MEMALLOC) { redirty; unlock; return 0; }`.
    fn writepage(&self, call: &WritepageCall, _sw: &Switches) -> Decision {
        if call.current_pf & pf::MEMALLOC != 0 {
            Decision::Refuse
        } else {
            Decision::Write { cluster: 0 }
        }
    }

    /// `extent_writepages()`: delayed pages get an extent per 8 MiB, as ext4's do.
    fn writepages(&self, _mount: &MountSpec) -> Writepages {
        Writepages {
            nr_to_write_bump: None,
            extent_pages: Some(super::ext4::EXTENT_PAGES),
            // Its allocator's own metadata (btree blocks, buffers) is not modelled
            // (docs/MODEL.md simplification 2).
            group_metadata: false,
        }
    }

    fn delalloc(&self, _mount: &MountSpec) -> bool {
        true
    }

    fn refusal_rule(&self, _sw: &Switches) -> &'static str {
        "btrfs_writepage() declines any PF_MEMALLOC caller"
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{decide, KSWAPD_PF};
    use super::super::{Decision, FsType, WritepageCaller};
    use crate::mm::page::pg;
    use crate::mm::pf::{MEMALLOC, SWAPWRITE};

    #[test]
    fn btrfs_refuses_writepage_from_kswapd_and_direct_reclaim() {
        let f = pg::DIRTY | pg::DELALLOC;
        let btrfs = |c, pf| decide(FsType::Btrfs, "2.6.36", f, c, pf);
        assert_eq!(btrfs(WritepageCaller::Kswapd, KSWAPD_PF), Decision::Refuse);
        assert_eq!(
            btrfs(WritepageCaller::DirectReclaim, MEMALLOC),
            Decision::Refuse
        );
        assert!(matches!(
            btrfs(WritepageCaller::Flusher, SWAPWRITE),
            Decision::Write { .. }
        ));
    }
}
