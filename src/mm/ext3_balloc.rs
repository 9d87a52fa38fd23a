//! The memory ext3's block allocator needs while a buffered writer allocates at `write_begin`
//! (`fs/ext3/balloc.c` 2.6.32, the same until ext3 left the tree in 4.3): `ext3_get_block()` →
//! `ext3_get_blocks_handle()` → `ext3_new_blocks()`, under the writer's journal handle.
//!
//! - `read_block_bitmap()` takes the group's block bitmap with `sb_getblk()`: a page of the
//!   block device's cache (`grow_dev_page()`, the bdev mapping's mask without `__GFP_FS`), read
//!   from the disk the first time: `bh_submit_read()` → `submit_bh(READ)`, a sync request of
//!   one block at the group's start, and the writer sleeps in `wait_on_buffer()` until it
//!   completes, still holding its handle (under CFQ the read goes ahead of the queued writes:
//!   `block/cfq.rs`). One block per group of 32 768 blocks (128 MiB with 4 KiB
//!   blocks, `EXT3_BLOCKS_PER_GROUP` = 8 × block size). Every allocation touches it
//!   (`touch_buffer()` → `mark_page_accessed()`), so a streaming writer's reclaim does not
//!   take it: kept for the run with ext4's group pages (docs/MODEL.md simplification 2).
//! - `ext3_try_to_allocate_with_rsv()` then takes the bitmap with `journal_get_undo_access()`
//!   ("make sure we use undo access for the bitmap"), which copies it out the first time a
//!   transaction allocates in the group: `b_committed_data`, `jbd_alloc(size, GFP_NOFS)` =
//!   `__get_free_pages()`, one page for 4 KiB blocks; the copy lives until that transaction's
//!   commit ends (`fs/jbd.rs`, `Machine::journal_get_undo_access`).
//!
//! Both are taken by the writer in its own context, holding its handle: a writer asleep in the
//! allocator here keeps the running transaction from committing. ext4's allocator has no undo
//! copies (mballoc takes the bitmap with `ext4_journal_get_write_access()`).

use super::ext4_mballoc::GROUP_PAGES;
use super::slab::CacheId;
use super::{gfp, Machine};

impl Machine {
    /// The memory `ext3_new_blocks()` takes for a block at `lba` on mount `m` by task `t`
    /// (holding its handle): the group's bitmap page the first time, then the running
    /// transaction's undo copy of it. `false`: `t` sleeps in the allocator (call again).
    pub fn ext3_new_blocks(&mut self, t: usize, m: usize, lba: u64) -> bool {
        let group = lba / self.granularity.batch(GROUP_PAGES);
        self.read_block_bitmap(t, m, group) && self.journal_get_undo_access(m, t, group)
    }

    /// `read_block_bitmap()` → `sb_getblk()` for `group` on mount `m`, `GFP_NOFS`, then
    /// `bh_submit_read()`: `false` while `t` sleeps for the block's read (it is woken at its
    /// completion and calls again; the group is loaded by then).
    fn read_block_bitmap(&mut self, t: usize, m: usize, group: u64) -> bool {
        if self.vfs.mounts[m].group_loaded(group) {
            return true;
        }
        let pages = self.vfs.mounts[m].group_metadata_pages;
        if !self.slab_alloc(t, CacheId::FsMetadata, pages, gfp::GFP_NOFS) {
            return false;
        }
        self.vfs.mounts[m].mb_groups.push(group);
        let Some(b) = self.vfs.mounts[m].spec.disk else {
            return true;
        };
        // The group's bitmap is its first block (the model keeps no superblock backups).
        let lba = group * self.granularity.batch(GROUP_PAGES);
        let now_j = self.jiffies();
        if !self.io.submit_meta_read(b, lba, t, now_j) {
            return true;
        }
        let _ = self.bump_gen(super::Actor::Task(t)); // asleep until the read completes
        false
    }
}
