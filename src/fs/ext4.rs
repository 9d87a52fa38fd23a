//! ext4 (`fs/ext4/inode.c` 2.6.32–2.6.36, writeback-fs §C.1): delayed allocation by default, so a
//! written page has no blocks until `ext4_da_writepages()` allocates an extent for it, and
//! `ext4_writepage()` refuses any dirty delayed-allocation page whoever calls (it will not
//! allocate blocks there). Its writer starts a journal handle before
//! `grab_cache_page_write_begin(…, AOP_FLAG_NOFS)`, so the page cache is allocated without
//! `__GFP_FS` (until 3.9, switch `ext4_write_begin_nofs`). `nodelalloc` mounts allocate at
//! `write_begin` and, with `data=ordered`, their inodes join the transaction (jbd2).

use super::{jbd, Decision, Filesystem, MountOption, OrderedData, WritepageCall, Writepages};
use crate::kernel::Switches;
use crate::mm::gfp;
use crate::mm::granularity::KernelPages;
use crate::mm::page::pg;
use crate::spec::{DataMode, MountSpec};

/// ext4's `s_max_writeback_mb_bump`: 128 MiB, in 4 KiB pages.
pub const MAX_WRITEBACK_PAGES: KernelPages = KernelPages(32_768);
/// Pages (4 KiB) one extent allocation covers at most (8 MiB worth of blocks).
pub const EXTENT_PAGES: KernelPages = KernelPages(2_048);

/// ext4.
pub struct Ext4;

impl Filesystem for Ext4 {
    fn name(&self) -> &'static str {
        "ext4"
    }

    /// `ext4_writepage()`: a delayed-allocation page is redirtied; buffers under journal IO are
    /// busy for a non-blocking caller.
    fn writepage(&self, call: &WritepageCall, _sw: &Switches) -> Decision {
        if call.flags & pg::DELALLOC != 0 {
            Decision::Refuse
        } else if call.flags & pg::JOURNAL_IO != 0 && call.caller.is_reclaim() {
            Decision::Busy
        } else {
            Decision::Write { cluster: 0 }
        }
    }

    /// `ext4_da_writepages()`: `nr_to_write` raised to the dirty pages ahead (delalloc only),
    /// one extent allocation per [`EXTENT_PAGES`] of delayed pages, and mballoc's group pages
    /// (`ext4_mb_load_buddy`, `mm/ext4_mballoc.rs`).
    fn writepages(&self, mount: &MountSpec) -> Writepages {
        Writepages {
            nr_to_write_bump: mount.delalloc.then_some(MAX_WRITEBACK_PAGES),
            extent_pages: Some(EXTENT_PAGES),
            group_metadata: true,
        }
    }

    fn writer_gfp(&self, switches: &Switches) -> u32 {
        if switches.ext4_write_begin_nofs {
            gfp::GFP_HIGHUSER_MOVABLE & !gfp::FS
        } else {
            gfp::GFP_HIGHUSER_MOVABLE
        }
    }

    /// `ext4_mb_load_buddy()`'s bitmap and buddy pages and `ext4_read_block_bitmap()`'s block.
    fn group_metadata_pages(&self) -> u64 {
        crate::mm::ext4_mballoc::GROUP_METADATA_PAGES
    }

    fn delalloc(&self, mount: &MountSpec) -> bool {
        mount.delalloc
    }

    fn journalled(&self) -> bool {
        true
    }

    /// With delalloc the commit writes no data (the pages are allocated at writeback), but it
    /// waits for the writeback of the inodes the flusher filed.
    fn ordered_data(&self, mount: &MountSpec) -> OrderedData {
        match (mount.data_mode, mount.delalloc) {
            (DataMode::Ordered, false) => OrderedData::Inodes,
            (DataMode::Ordered, true) => OrderedData::DelallocInodes,
            _ => OrderedData::None,
        }
    }

    /// `ext4_da_write_begin()` / `ext4_write_begin()`: `ext4_journal_start()` before
    /// `grab_cache_page_write_begin()` (K32 `fs/ext4/inode.c:3065-3074`, :1560-1570; the same
    /// order through 2.6.36).
    fn write_begin_handle(&self) -> jbd::WriteBeginHandle {
        jbd::WriteBeginHandle::BeforePage
    }

    fn mount_options(&self) -> &'static [&'static str] {
        &[
            "delalloc",
            "nodelalloc",
            "data=ordered",
            "data=writeback",
            "commit=SECONDS",
            "dioread_nolock",
            "nodioread_nolock",
        ]
    }

    fn mount_option(&self, option: &str, mount: &mut MountSpec) -> MountOption {
        match option {
            "delalloc" => mount.delalloc = true,
            "nodelalloc" => mount.delalloc = false,
            "dioread_nolock" => mount.dioread_nolock = Some(true),
            "nodioread_nolock" | "dioread_lock" => mount.dioread_nolock = Some(false),
            _ => return jbd::mount_option(option, mount),
        }
        MountOption::Applied
    }

    fn refusal_rule(&self, _sw: &Switches) -> &'static str {
        "ext4_writepage() will not allocate blocks for delayed-allocation pages"
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{decide, KSWAPD_PF};
    use super::super::{Decision, FsType, WritepageCaller};
    use crate::kernel::Kernel;
    use crate::mm::gfp;
    use crate::mm::page::pg;

    #[test]
    fn ext4_refuses_delalloc_pages_from_every_caller() {
        for c in [
            WritepageCaller::Kswapd,
            WritepageCaller::DirectReclaim,
            WritepageCaller::Journal,
        ] {
            let d = decide(FsType::Ext4, "2.6.32", pg::DIRTY | pg::DELALLOC, c, 0);
            assert_eq!(d, Decision::Refuse);
        }
        let mapped = decide(
            FsType::Ext4,
            "2.6.32",
            pg::DIRTY,
            WritepageCaller::Kswapd,
            KSWAPD_PF,
        );
        assert_eq!(mapped, Decision::Write { cluster: 0 });
    }

    #[test]
    fn the_ext4_writer_allocates_nofs_until_3_9() {
        let gfp_of = |p| {
            FsType::Ext4
                .ops()
                .writer_gfp(&Kernel::profile(p).unwrap().switches)
        };
        assert_eq!(gfp_of("2.6.32") & gfp::FS, 0);
        assert_eq!(gfp_of("3.3") & gfp::FS, 0);
        assert_ne!(gfp_of("3.9") & gfp::FS, 0);
    }
}
