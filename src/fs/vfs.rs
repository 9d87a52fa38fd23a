//! The VFS objects a run creates: mounts (`struct super_block`, with their journal), regular
//! files (`struct inode` + `address_space`: the page cache by index, the dirty tags, the inode's
//! writeback state) and SysV shm segments (shmem inodes). Every file and segment lives here for
//! the whole run, so a page's `owner` indexes them.

use super::page_index::PageIndex;
use super::{jbd, Backing, Filesystem, OrderedData, Writepages};
use crate::mm::fs_writeback::InodeList;
use crate::mm::page::PageId;
use crate::sim::SimTime;
use crate::spec::MountSpec;

/// Every mount, file and segment.
#[derive(Debug, Default)]
pub struct Vfs {
    /// Every regular file.
    pub inodes: Vec<Inode>,
    /// Every shm segment.
    pub segments: Vec<Segment>,
    /// Every mount.
    pub mounts: Vec<Mount>,
}

/// A mounted filesystem (`struct super_block`): its parameters, what its filesystem says about
/// them (kept here so the per-page paths read a field instead of asking), and its journal.
#[derive(Clone, Debug)]
pub struct Mount {
    /// Its parameters.
    pub spec: MountSpec,
    /// A written page waits for its blocks until writeback ([`Filesystem::delalloc`]).
    pub delalloc: bool,
    /// What a journal commit writes ([`Filesystem::ordered_data`]).
    pub ordered_data: OrderedData,
    /// What `->writepages` adds ([`Filesystem::writepages`]).
    pub writepages: Writepages,
    /// Its backing store ([`Filesystem::backing`]).
    pub backing: Backing,
    /// Its journal (ext3/ext4).
    pub journal: jbd::Journal,
    /// It has a journal whose handles and commits run ([`Filesystem::journalled`], on a disk).
    pub journalled: bool,
    /// When its buffered writer starts a handle ([`Filesystem::write_begin_handle`]).
    pub write_begin_handle: jbd::WriteBeginHandle,
    /// Its written pages carry buffer heads ([`Filesystem::buffer_heads`]).
    pub buffer_heads: bool,
    /// [ext3/ext4] The block groups whose metadata pages are loaded (`mm/ext4_mballoc.rs`,
    /// `mm/ext3_balloc.rs`), most recent last.
    pub mb_groups: Vec<u64>,
    /// [ext4] Pages of the next group's metadata allocated so far.
    pub mb_loading: u64,
    /// Pages each group in `mb_groups` holds ([`crate::fs::Filesystem::group_metadata_pages`]).
    pub group_metadata_pages: u64,
    /// Its allocator takes bitmaps with `journal_get_undo_access()`
    /// ([`crate::fs::Filesystem::bitmap_undo_access`]).
    pub bitmap_undo_access: bool,
}

impl Mount {
    /// A mount of `spec` with an empty journal.
    pub fn new(spec: MountSpec) -> Mount {
        let ops = spec.fs.ops();
        Mount {
            delalloc: ops.delalloc(&spec),
            ordered_data: ops.ordered_data(&spec),
            writepages: ops.writepages(&spec),
            backing: ops.backing(),
            journal: jbd::Journal::default(),
            journalled: ops.journalled() && spec.disk.is_some(),
            buffer_heads: ops.buffer_heads(),
            write_begin_handle: if ops.journalled() && spec.disk.is_some() {
                ops.write_begin_handle()
            } else {
                jbd::WriteBeginHandle::None
            },
            spec,
            mb_groups: vec![],
            mb_loading: 0,
            group_metadata_pages: ops.group_metadata_pages(),
            bitmap_undo_access: ops.bitmap_undo_access(),
        }
    }

    /// Whether block group `group`'s metadata pages are loaded (most recent groups first: a
    /// streaming writer asks about the one it loaded last).
    pub fn group_loaded(&self, group: u64) -> bool {
        self.mb_groups.iter().rev().any(|&g| g == group)
    }

    /// Its filesystem.
    pub fn ops(&self) -> &'static dyn Filesystem {
        self.spec.fs.ops()
    }
}

/// A regular file's page cache and writeback state (`struct inode` + `address_space`).
#[derive(Debug)]
pub struct Inode {
    /// The mount it lives on.
    pub mount: usize,
    /// Cached pages by index, with their PAGECACHE_TAG_DIRTY tags (only cached pages cost
    /// memory).
    pub pages: PageIndex,
    /// Pages tagged dirty.
    pub nr_dirty: u64,
    /// Pages under writeback (PAGECACHE_TAG_WRITEBACK).
    pub nr_writeback: u64,
    /// `inode->dirtied_when`, while the inode is dirty (I_DIRTY_PAGES).
    pub dirtied_when: Option<SimTime>,
    /// `mapping->writeback_index`.
    pub writeback_index: u32,
    /// i_size in pages.
    pub size_pages: u32,
    /// First disk block (in pages) of the file's data.
    pub disk_base: u64,
    /// Truncated/unlinked: its pages are gone.
    pub truncated: bool,
    /// I_SYNC: someone is inside `writeback_single_inode()`.
    pub i_sync: bool,
    /// Attached to the running transaction (ext3/ext4 ordered data).
    pub in_transaction: bool,
    /// I_DIRTY_PAGES.
    pub i_dirty: bool,
    /// Which of its bdi's inode lists it is on.
    pub list: InodeList,
}

impl Inode {
    /// Sets or clears the dirty tag of `index`, counting the tags in `nr_dirty`.
    pub fn tag_dirty(&mut self, index: u32, on: bool) {
        if self.pages.tag(index, on) {
            if on {
                self.nr_dirty += 1;
            } else {
                self.nr_dirty -= 1;
            }
        }
    }

    /// The first index ≥ `from` tagged dirty (`find_get_pages_tag`), below `end`.
    pub fn next_dirty(&self, from: u32, end: u32) -> Option<u32> {
        self.pages.next_dirty(from, end)
    }
}

/// A SysV shm segment (shmem inode).
#[derive(Debug)]
pub struct Segment {
    /// The pin task that created it.
    pub owner: usize,
    /// SHM_LOCK'd: `mapping_unevictable`, `info->flags & VM_LOCKED`.
    pub locked: bool,
    /// Pages by index (NIL: not resident: swapped out or not yet faulted).
    pub pages: Vec<PageId>,
    /// Resident pages.
    pub resident: u64,
    /// Pages out on swap.
    pub swapped: u64,
    /// Resident pages mapped by its attachers.
    pub mapped: u64,
}
