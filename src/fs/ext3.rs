//! ext3 (`fs/ext3/inode.c` 2.6.32–2.6.36, writeback-fs §C.2): blocks allocated at `write_begin`,
//! so `->writepage` always writes, except that a non-blocking caller (reclaim) finds buffers
//! locked by a journal commit busy (`__block_write_full_page()`'s trylock), and a page whose
//! buffers the commit already wrote has nothing left to write. Its writer allocates page cache
//! *before* `ext3_journal_start()`, with the mapping's full mask (`__GFP_FS`). `data=ordered`
//! (the default) files each dirtied page's buffers with the running transaction.

use super::{jbd, Decision, Filesystem, MountOption, OrderedData, WritepageCall};
use crate::kernel::Switches;
use crate::mm::page::pg;
use crate::spec::{DataMode, MountSpec};

/// ext3.
pub struct Ext3;

impl Filesystem for Ext3 {
    fn name(&self) -> &'static str {
        "ext3"
    }

    /// `ext3_ordered_writepage()`.
    fn writepage(&self, call: &WritepageCall, _sw: &Switches) -> Decision {
        let reclaim = call.caller.is_reclaim();
        if call.flags & pg::JOURNAL_IO != 0 && reclaim {
            Decision::Busy
        } else if call.flags & (pg::BUFFERS_CLEAN | pg::JOURNAL_IO) != 0 {
            Decision::NothingToWrite
        } else {
            Decision::Write { cluster: 0 }
        }
    }

    fn journalled(&self) -> bool {
        true
    }

    /// `read_block_bitmap()`: the group's block bitmap, one block.
    fn group_metadata_pages(&self) -> u64 {
        1
    }

    /// `ext3_try_to_allocate_with_rsv()` (2.6.32 fs/ext3/balloc.c).
    fn bitmap_undo_access(&self) -> bool {
        true
    }

    /// `ext3_write_begin()`: the page first, then `ext3_journal_start()` (K32
    /// `fs/ext3/inode.c:1174-1179`).
    fn write_begin_handle(&self) -> jbd::WriteBeginHandle {
        jbd::WriteBeginHandle::AfterPage
    }

    fn ordered_data(&self, mount: &MountSpec) -> OrderedData {
        match mount.data_mode {
            DataMode::Ordered => OrderedData::Buffers,
            DataMode::Writeback => OrderedData::None,
        }
    }

    fn mount_options(&self) -> &'static [&'static str] {
        jbd::OPTIONS
    }

    fn mount_option(&self, option: &str, mount: &mut MountSpec) -> MountOption {
        jbd::mount_option(option, mount)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{decide, KSWAPD_PF};
    use super::super::{FsType, WritepageCaller};
    use crate::mm::gfp;
    use crate::mm::page::pg;
    use crate::mm::pf::MEMALLOC;

    #[test]
    fn ext3_writes_from_reclaim_unless_the_journal_holds_the_buffers() {
        let ext3 = |flags, c, pf| decide(FsType::Ext3, "2.6.32", flags, c, pf);
        assert_eq!(
            ext3(pg::DIRTY, WritepageCaller::DirectReclaim, MEMALLOC),
            super::Decision::Write { cluster: 0 }
        );
        assert_eq!(
            ext3(
                pg::DIRTY | pg::JOURNAL_IO,
                WritepageCaller::Kswapd,
                KSWAPD_PF
            ),
            super::Decision::Busy
        );
        assert_eq!(
            ext3(
                pg::DIRTY | pg::BUFFERS_CLEAN,
                WritepageCaller::Kswapd,
                KSWAPD_PF
            ),
            super::Decision::NothingToWrite
        );
    }

    #[test]
    fn the_ext3_writer_allocates_with_gfp_fs() {
        let switches = crate::kernel::Switches::BASE;
        assert_ne!(FsType::Ext3.ops().writer_gfp(&switches) & gfp::FS, 0);
    }
}
