//! Filesystems: one file each, holding all of that filesystem's behaviour behind the
//! [`Filesystem`] trait, and the registry ([`filesystems!`]) that names them.
//!
//! A filesystem says what `->writepage` does with a page, per caller and per switch (writeback-fs
//! §C, reclaim-oom §14); what its `->writepages` adds to `write_cache_pages()`; the gfp mask of
//! its buffered writer's page-cache allocations; whether a written page is delayed-allocation;
//! its journal's ordered-data mode; its mount options and their validation; its disk (or swap);
//! and the sentence `wbsim explain` gives for a refusal. The engine (`mm/`) asks the mount's
//! filesystem, never its name; the decisions are pure functions of the page state, the caller,
//! `current->flags` and the switches, and `Machine::writepage` applies them.
//!
//! | fs | `->writepage` refuses | source |
//! |----|-----------------------|--------|
//! | ext4 | any dirty delayed-allocation page, for every caller | `ext4_writepage()` K32/K36 |
//! | ext3 | nothing, except buffers locked by a journal commit when called non-blocking | `ext3_ordered_writepage()`, `__block_write_full_page()` |
//! | btrfs | any `PF_MEMALLOC` caller (kswapd and direct reclaim) | `btrfs_writepage()` K32/K36 |
//! | XFS | per `xfs_reclaim_writepage`: nothing (2.6.32–34), any `PF_MEMALLOC` caller (2.6.35), direct reclaim only (2.6.36) | `xfs_vm_writepage()` K32/K35/K36 |
//! | tmpfs | SHM_LOCK'd or no swap: `AOP_WRITEPAGE_ACTIVATE` when for reclaim | `shmem_writepage()` |
//! | blockdev | nothing (a raw device's page cache; the writer allocates `GFP_USER`) | `blkdev_writepage()`, `bdget()` |
//!
//! `jbd.rs` is the journal ext3 and ext4 share: handles, the running transaction and its commit
//! timer, `T_LOCKED`, and kjournald's commits of ordered data and their data wait.
//!
//! **Adding a filesystem** touches exactly: a new `src/fs/<name>.rs` with a unit struct that
//! implements [`Filesystem`] (the trait's defaults are a plain block filesystem that always
//! writes), its `pub mod <name>;` line and one arm of the [`filesystems!`] table below, and a
//! scenario that mounts it (`fs = "<name>"`). Its name is then accepted by `[mount.*] fs`, listed by `wbsim list`, fuzzed,
//! and checked by the registry's unit tests; nothing in `mm/` or `scenario/` changes.

use serde::Serialize;

use crate::kernel::Switches;
use crate::mm::gfp;
use crate::mm::granularity::KernelPages;
use crate::spec::MountSpec;

/// The registry: one arm per filesystem, `Variant => module::OpsType`, in `wbsim list` order.
/// It declares the [`FsType`] variant and the dispatch to its [`Filesystem`].
macro_rules! filesystems {
    ($( $(#[$meta:meta])* $variant:ident => $module:ident :: $ops:ident, )+) => {
        /// A filesystem type a mount can have.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
        pub enum FsType {
            $( $(#[$meta])* $variant, )+
        }

        impl FsType {
            /// Every filesystem, in registry order.
            pub const ALL: &'static [FsType] = &[$(FsType::$variant),+];

            /// Its behaviour.
            pub fn ops(self) -> &'static dyn Filesystem {
                match self {
                    $( FsType::$variant => &$module::$ops, )+
                }
            }
        }
    };
}

// The modules are declared outside the macro so that rustfmt and the tools see them.
pub mod blockdev;
pub mod btrfs;
pub mod ext3;
pub mod ext4;
pub mod jbd;
pub mod page_index;
pub mod tmpfs;
pub mod vfs;
pub mod xfs;

pub use vfs::{Inode, Mount, Segment, Vfs};

filesystems! {
    /// ext3, data=ordered by default.
    Ext3 => ext3::Ext3,
    /// ext4, delalloc by default.
    Ext4 => ext4::Ext4,
    /// btrfs.
    Btrfs => btrfs::Btrfs,
    /// XFS.
    Xfs => xfs::Xfs,
    /// tmpfs (shmem): swap-backed, no block device.
    Tmpfs => tmpfs::Tmpfs,
    /// A raw block device's page cache (`dd of=/dev/sdX`, `mkfs`): no filesystem.
    Blockdev => blockdev::Blockdev,
}

impl FsType {
    /// The name used in scenario files.
    pub fn name(self) -> &'static str {
        self.ops().name()
    }

    /// Parses a filesystem name.
    pub fn from_name(name: &str) -> Option<FsType> {
        FsType::ALL.iter().copied().find(|f| f.name() == name)
    }
}

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

impl WritepageCaller {
    /// `pageout()`'s callers: `wbc->for_reclaim`.
    pub fn is_reclaim(self) -> bool {
        matches!(
            self,
            WritepageCaller::Kswapd | WritepageCaller::DirectReclaim
        )
    }
}

/// One `->writepage` call as the filesystem sees it.
#[derive(Clone, Copy, Debug)]
pub struct WritepageCall {
    /// The page's `pg::*` flags (`PG_dirty` already cleared by `clear_page_dirty_for_io`).
    pub flags: u32,
    /// Who calls.
    pub caller: WritepageCaller,
    /// `current->flags` (`pf::*`).
    pub current_pf: u32,
    /// shmem: the segment is SHM_LOCK'd.
    pub segment_locked: bool,
    /// shmem: swap is configured and a slot is free.
    pub swap_ok: bool,
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

/// What a filesystem's `->writepages` adds to `write_cache_pages()` (writeback-fs §A.8, §C.1.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Writepages {
    /// `ext4_da_writepages()`: `nr_to_write` is raised to the dirty pages ahead of the cursor
    /// (8× a whole-file request), at most this many 4 KiB pages.
    pub nr_to_write_bump: Option<KernelPages>,
    /// Delayed-allocation pages get their blocks here, one extent allocation (`cost::ALLOC_EXTENT`
    /// of CPU) per this many 4 KiB pages.
    pub extent_pages: Option<KernelPages>,
    /// The extent allocation loads each new block group's bitmap and buddy pages, `GFP_NOFS`
    /// (ext4's mballoc, `mm/ext4_mballoc.rs`).
    pub group_metadata: bool,
}

impl Writepages {
    /// `generic_writepages()`: `->writepage` on each dirty page, nothing more.
    pub const GENERIC: Writepages = Writepages {
        nr_to_write_bump: None,
        extent_pages: None,
        group_metadata: false,
    };
}

/// How a journal commit treats a mount's file data (writeback-fs §B.8).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderedData {
    /// The commit writes no file data (`data=writeback`, or ext4's delayed allocation).
    None,
    /// ext3 `data=ordered`: each dirtied page's buffers join the running transaction; the commit
    /// writes them (`journal_submit_data_buffers`) and the page stays PG_dirty.
    Buffers,
    /// ext4 `data=ordered` without delalloc: the inode joins the transaction; the commit writes
    /// its dirty pages through `->writepage` (jbd2 `journal_submit_inode_data_buffers`) and waits
    /// for all its writeback (`journal_finish_inode_data_buffers`).
    Inodes,
    /// ext4 `data=ordered` with delalloc: the flusher files the inode when it allocates blocks
    /// (`mpage_da_map_blocks` → `ext4_jbd2_file_inode`); the commit walks its dirty pages (all
    /// delayed, so `ext4_writepage` redirties each) and waits for all its writeback.
    DelallocInodes,
}

/// What a mount's backing store is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backing {
    /// A block device (`[disk.*]`): files with page cache and a bdi.
    Disk,
    /// Swap (tmpfs): shmem segments, no disk.
    Swap,
}

/// What applying one mount option did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MountOption {
    /// Applied to the mount.
    Applied,
    /// One of this filesystem's options, with a bad value: the message says what is accepted.
    Invalid(String),
    /// Not one of this filesystem's options.
    NotMine,
}

/// Everything the engine asks a filesystem. The defaults are a plain block filesystem whose
/// `->writepage` always writes (2.6.32 `block_write_full_page()`), with no journal, no delayed
/// allocation, no mount options.
pub trait Filesystem: Sync {
    /// The name in scenario files (`fs = "ext4"`).
    fn name(&self) -> &'static str;

    /// `->writepage` for one dirty page (the page's `PG_dirty` already cleared).
    fn writepage(&self, _call: &WritepageCall, _sw: &Switches) -> Decision {
        Decision::Write { cluster: 0 }
    }

    /// `->writepages` beyond `write_cache_pages()`.
    fn writepages(&self, _mount: &MountSpec) -> Writepages {
        Writepages::GENERIC
    }

    /// The gfp mask of a buffered writer's page-cache allocation in `write_begin`
    /// (`grab_cache_page_write_begin()`; reclaim-oom §14.1), before the generic `__GFP_WRITE`.
    fn writer_gfp(&self, _sw: &Switches) -> u32 {
        gfp::GFP_HIGHUSER_MOVABLE
    }

    /// Whether a page a buffered write dirtied waits for its blocks until writeback
    /// (`BH_Delay`): delayed allocation.
    fn delalloc(&self, _mount: &MountSpec) -> bool {
        false
    }

    /// Whether the mount has a journal whose commits run every `commit=` interval.
    fn journalled(&self) -> bool {
        false
    }

    /// Whether its page-cache pages carry buffer heads from `write_begin` on
    /// (`block_write_begin` → `create_empty_buffers`): objects of the `buffer_head` slab.
    fn buffer_heads(&self) -> bool {
        self.backing() == Backing::Disk
    }

    /// Pages of kernel memory its block allocator loads the first time it allocates in a block
    /// group, kept for the run (ext4: bitmap and buddy, `mm/ext4_mballoc.rs`; ext3: bitmap,
    /// `mm/ext3_balloc.rs`).
    fn group_metadata_pages(&self) -> u64 {
        0
    }

    /// Whether its block allocator takes a group's block bitmap with `journal_get_undo_access()`
    /// (ext3: a copy of the bitmap per transaction that allocates in the group,
    /// `mm/ext3_balloc.rs`) rather than `journal_get_write_access()` (ext4's mballoc).
    fn bitmap_undo_access(&self) -> bool {
        false
    }

    /// When its buffered writer starts its journal handle (journalled filesystems).
    fn write_begin_handle(&self) -> jbd::WriteBeginHandle {
        jbd::WriteBeginHandle::None
    }

    /// What a journal commit does with file data.
    fn ordered_data(&self, _mount: &MountSpec) -> OrderedData {
        OrderedData::None
    }

    /// Its backing store.
    fn backing(&self) -> Backing {
        Backing::Disk
    }

    /// Its mount options, as `wbsim list` and error messages name them.
    fn mount_options(&self) -> &'static [&'static str] {
        &[]
    }

    /// Applies one mount option to `mount`.
    fn mount_option(&self, _option: &str, _mount: &mut MountSpec) -> MountOption {
        MountOption::NotMine
    }

    /// Why its `->writepage` declined a page under `switches`, for `wbsim explain`.
    fn refusal_rule(&self, _sw: &Switches) -> &'static str {
        "the filesystem declined the page"
    }
}

/// Why `fs`'s `->writepage` declines a page under the rules `switches`, for `wbsim explain`.
pub fn refusal_rule(fs: FsType, switches: &Switches) -> &'static str {
    fs.ops().refusal_rule(switches)
}

/// Every mount option of every filesystem, each once, in registry order.
pub fn mount_options() -> Vec<&'static str> {
    let mut all: Vec<&'static str> = vec![];
    for f in FsType::ALL {
        for o in f.ops().mount_options() {
            if !all.contains(o) {
                all.push(o);
            }
        }
    }
    all
}

/// The filesystems that take `option` (with any value), by name: "ext4", "ext3 and ext4".
pub fn owners_of_option(option: &str) -> Vec<&'static str> {
    FsType::ALL
        .iter()
        .filter(|f| {
            let mut scratch = MountSpec::default_for(**f);
            f.ops().mount_option(option, &mut scratch) != MountOption::NotMine
        })
        .map(|f| f.name())
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::kernel::Kernel;
    use crate::mm::page::pg;
    use crate::mm::pf::{KSWAPD, MEMALLOC, SWAPWRITE};

    /// kswapd's `current->flags`.
    pub const KSWAPD_PF: u32 = MEMALLOC | SWAPWRITE | KSWAPD;

    /// `fs`'s decision for a page with `flags` from `caller` under kernel `profile`.
    pub fn decide(
        fs: FsType,
        profile: &str,
        flags: u32,
        caller: WritepageCaller,
        pf: u32,
    ) -> Decision {
        let switches = Kernel::profile(profile).expect("a profile").switches;
        let call = WritepageCall {
            flags,
            caller,
            current_pf: pf,
            segment_locked: false,
            swap_ok: true,
        };
        fs.ops().writepage(&call, &switches)
    }

    #[test]
    fn every_filesystem_is_found_by_its_name_and_writes_a_plain_dirty_page_for_the_flusher() {
        for &f in FsType::ALL {
            assert_eq!(FsType::from_name(f.name()), Some(f));
            if f.ops().backing() == Backing::Disk {
                let d = decide(f, "2.6.32", pg::DIRTY, WritepageCaller::Flusher, SWAPWRITE);
                assert!(matches!(d, Decision::Write { .. }), "{}: {d:?}", f.name());
            }
        }
    }

    #[test]
    fn every_mount_option_listed_belongs_to_some_filesystem() {
        for o in mount_options() {
            let probe = o.replace("SECONDS", "5");
            assert!(!owners_of_option(&probe).is_empty(), "{o}");
        }
        assert!(owners_of_option("nosuchoption").is_empty());
    }
}
