//! The memory ext4's block allocator needs while it writes back (`fs/ext4/mballoc.c`, the same
//! from 2.6.32 to 6.1): `ext4_mb_new_blocks()` → `ext4_mb_regular_allocator()` /
//! `ext4_mb_find_by_goal()` → `ext4_mb_load_buddy()`, which takes the group's bitmap and buddy
//! pages of the buddy-cache inode with `find_or_create_page(…, GFP_NOFS)` (2.6.32
//! mballoc.c:1083 and :1114) and, the first time, fills them from the on-disk block bitmap
//! (`ext4_mb_init_cache()` → `ext4_read_block_bitmap()` → `sb_getblk()`, a page of the block
//! device's cache, `grow_dev_page()` with `__GFP_FS` cleared). With 4 KiB blocks one group is
//! 32 768 blocks (128 MiB, one bitmap block), and its buddy-cache pages are two (`block =
//! group * 2`, one block per page): three pages the first extent allocated in a new group
//! costs, taken by whoever allocates — the flusher (`Task::flusher`, `PF_FLUSHER |
//! PF_SWAPWRITE`, never `PF_MEMALLOC`: it obeys the min watermark, and its `GFP_NOFS` direct
//! reclaim cannot write a filesystem page) or a dirtier writing its own pages in
//! `balance_dirty_pages` — under the extent's journal handle. The allocating thread sleeps in
//! the allocator holding the handle, so a commit that locks the transaction waits for it.
//!
//! Once loaded the pages stay (`mark_page_accessed()` on each load puts them on the active
//! list, which a streaming writer does not shrink): they are the kernel pages of
//! `slab::CacheId::FsMetadata`, never freed during a run (docs/MODEL.md simplification 2).

use super::page_alloc::Alloc;
use super::slab::CacheId;
use super::{gfp, Actor, Machine};
use crate::mm::granularity::KernelPages;

/// 4 KiB blocks per group (`EXT4_BLOCKS_PER_GROUP` = 8 × block size): 128 MiB.
pub const GROUP_PAGES: KernelPages = KernelPages(32_768);
/// Pages a group's first allocation loads: its block bitmap (`sb_getblk`) and the buddy cache's
/// bitmap copy and buddy (`ext4_mb_load_buddy`).
pub const GROUP_METADATA_PAGES: u64 = 3;

impl Machine {
    /// `ext4_mb_load_buddy()` for the group of block `lba` on mount `m`, by `actor` (holding the
    /// extent's handle): the group's pages when they are not loaded yet, `GFP_NOFS`, one at a
    /// time. `false`: the actor sleeps in the allocator (it must call again when it runs).
    fn ext4_mb_load_buddy(&mut self, actor: Actor, m: usize, lba: u64) -> bool {
        let group = lba / self.granularity.batch(GROUP_PAGES);
        if self.vfs.mounts[m].group_loaded(group) {
            return true;
        }
        let t = self.allocating_task(actor);
        while self.vfs.mounts[m].mb_loading < GROUP_METADATA_PAGES {
            if !self.slab_alloc(t, CacheId::FsMetadata, 1, gfp::GFP_NOFS) {
                return false;
            }
            self.vfs.mounts[m].mb_loading += 1;
        }
        let mount = &mut self.vfs.mounts[m];
        mount.mb_loading = 0;
        mount.mb_groups.push(group);
        true
    }

    /// `ext4_mb_new_blocks()` for an extent at block `lba` on mount `m` by `actor`: the group's
    /// pages ([`Machine::ext4_mb_load_buddy`]), then write access to the bitmap, group descriptor
    /// and inode buffers it marks (`ext4_mb_mark_diskspace_used()`, `ext4_ext_insert_extent()`:
    /// frozen copies while a commit holds them, `Machine::journal_get_write_access`). `false`:
    /// the actor sleeps in the allocator.
    pub fn ext4_mb_new_blocks(&mut self, actor: Actor, m: usize, lba: u64) -> bool {
        if !self.vfs.mounts[m].writepages.group_metadata {
            return true;
        }
        let t = self.allocating_task(actor);
        let loaded = self.ext4_mb_load_buddy(actor, m, lba) && self.journal_get_write_access(m, t);
        if loaded {
            if let Actor::Flusher(b) = actor {
                // The allocator charged the kernel thread; the flusher is the one running.
                let cpu = std::mem::take(&mut self.tasks[t].pending_cpu_ns);
                self.wb.bdis[b].cpu_ns += cpu;
            }
        }
        loaded
    }

    /// The task whose allocation context `actor` allocates with: a task's own, the flusher's
    /// kernel thread. No other thread allocates blocks for delayed pages.
    pub(crate) fn allocating_task(&self, actor: Actor) -> usize {
        match actor {
            Actor::Task(t) => t,
            Actor::Flusher(b) => self.wb.bdis[b].kthread,
            Actor::Kswapd(_) | Actor::Journal(_) | Actor::Ext4Rsv(_) => {
                unreachable!("{actor:?} allocating blocks")
            }
        }
    }

    /// The wake-up of the flusher of bdi `b` asleep in the allocator (a congestion wait, a
    /// request for a swap write, the retry nap): the allocation resumes first; its page joins
    /// the cache it was for (a buddy-cache page `find_or_create_page` was getting, a frozen
    /// copy, the slab page of a new transaction), and the flusher carries on where it slept. A
    /// second sleep leaves it asleep.
    pub fn flusher_alloc_resume(&mut self, b: usize) {
        let t = self.wb.bdis[b].kthread;
        let Some(gfp_mask) = self.tasks[t].alloc.as_ref().map(|a| a.gfp) else {
            return; // a stale wake-up
        };
        match self.alloc_page(t, gfp_mask) {
            Alloc::Page(id) => self.slab_page_add(self.tasks[t].slab_cache, id),
            Alloc::Sleep => return,
            Alloc::Fail => unreachable!("a kernel thread is never an OOM victim"),
        }
        let cpu = std::mem::take(&mut self.tasks[t].pending_cpu_ns);
        self.wb.bdis[b].cpu_ns += cpu;
        self.run_flusher(b);
    }
}
