//! Slab caches and their shrinkers: the page accounting of `mm/slub.c` (`allocate_slab`,
//! `__free_slab`) and `mm/slab.c` (`kmem_getpages`, `kmem_freepages`), `shrink_slab()`
//! (`mm/vmscan.c` 2.6.32 :184-262, the same logic to 2.6.36), and the dcache and icache
//! shrinkers (`shrink_dcache_memory`, `shrink_icache_memory`, `fs/dcache.c`, `fs/inode.c`),
//! research 13b §1.
//!
//! A cache's slab pages are real pages of the model's allocator, taken with the allocating
//! call site's gfp by its task (so a NOFS writer sleeps in the slow path for a slab page like
//! for any page), counted in `NR_SLAB_RECLAIMABLE` (`SLAB_RECLAIM_ACCOUNT` caches) or
//! `NR_SLAB_UNRECLAIMABLE` (`ZoneStat::nr_kernel` counts both; `nr_slab_reclaimable` the first).
//! Objects are packed perfectly (FIFO): a cache holds `ceil(objects / per page)` pages, freeing
//! the *oldest* page when the count drops past a page boundary: a slab page is discarded only
//! once all its objects are free (`discard_slab`), and buffer heads are freed with their pages
//! in the LRU's oldest-first order, so the page that empties is the one filled first, in the
//! zone the writer allocated from then (docs/MODEL.md simplification 2).
//!
//! The caches:
//! - `buffer_head` (104 B, SLUB object 112 B with its constructor `init_buffer_head` moving the
//!   free pointer out of the object: 36 per 4 KiB page; SLAB: 37): one per page-cache page of a
//!   block filesystem, allocated `GFP_NOFS` at `write_begin` under the journal handle
//!   (`alloc_page_buffers` from `create_empty_buffers`, fs/buffer.c), freed only with the page
//!   (`try_to_free_buffers`): no shrinker.
//! - `journal_head` (112 B, 36 per page): one per ext3 ordered data page in a transaction
//!   (`journal_dirty_data` → `journal_add_journal_head`, GFP_NOFS), freed when the commit has
//!   written it.
//! - `dentry` (192 B, 21 per page) and the filesystem's inode cache (ext3 784 B, ext4 904 B;
//!   SLUB order-2 slabs of 20 and 17, taken here as 5 and 4.25 per 4 KiB page): the cached,
//!   unused objects a scenario starts with (`[machine.slab]`), shrunk by their shrinkers.
//! - not a slab cache: ext4's block-group bitmap and buddy pages (`mm/ext4_mballoc.rs`) and
//!   ext3's bitmap pages (`mm/ext3_balloc.rs`), never freed during a run; jbd's frozen copies of
//!   metadata buffers and ext3's undo copies of bitmaps (`fs/jbd.rs`, freed when the commit
//!   that needed them ends), one "object" per 4 KiB page, kept here so that they are counted,
//!   allocated and checked the same way.
//! - `kmalloc-256` (16 per page): the journal's `transaction_t`s, `kzalloc(sizeof(transaction_t),
//!   GFP_NOFS|__GFP_NOFAIL)` in `start_this_handle()` when no transaction runs (2.6.32
//!   fs/jbd2/transaction.c:104-107, fs/jbd/transaction.c the same; jbd2's `struct transaction_s`
//!   is about 220 B on x86_64 in 2.6.32, so the 256-byte cache), freed when its commit ends
//!   (`fs/jbd.rs`; the kernel keeps a transaction with metadata until it is checkpointed,
//!   docs/MODEL.md simplification 2).

use super::page::{pg, PageId, Place};
use super::{gfp, Actor, Machine};

/// `SHRINK_BATCH`.
pub const SHRINK_BATCH: u64 = 128;
/// `DEFAULT_SEEKS` (dcache and icache register with it).
pub const DEFAULT_SEEKS: u64 = 2;

/// Which cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheId {
    /// `buffer_head`.
    BufferHead = 0,
    /// `journal_head` (jbd) / `jbd2_journal_head`.
    JournalHead = 1,
    /// `dentry`.
    Dentry = 2,
    /// `ext3_inode_cache` / `ext4_inode_cache`.
    Inode = 3,
    /// Not a slab cache: filesystem metadata pages the block allocators and the journal hold —
    /// ext4's block-group bitmap and buddy pages (`mm/ext4_mballoc.rs`), ext3's bitmap pages
    /// (`mm/ext3_balloc.rs`), jbd's frozen and undo copies (`fs/jbd.rs`) — one "object" per
    /// 4 KiB page, kept with the kernel's memory.
    FsMetadata = 4,
    /// `kmalloc-256`: jbd/jbd2 `transaction_t`s (`fs/jbd.rs`).
    Transaction = 5,
}

/// One slab cache.
#[derive(Clone, Debug)]
pub struct SlabCache {
    /// `/proc/slabinfo` name.
    pub name: &'static str,
    /// Objects per 4 KiB page, times 4 (order-2 inode slabs hold a fractional count per page).
    pub objs_per_4_pages: u64,
    /// `SLAB_RECLAIM_ACCOUNT`.
    pub reclaimable: bool,
    /// Objects allocated (kernel objects).
    pub objects: u64,
    /// Its slab pages (simulated pages), oldest first.
    pub pages: std::collections::VecDeque<PageId>,
}

impl SlabCache {
    const fn new(name: &'static str, objs_per_4_pages: u64) -> SlabCache {
        SlabCache {
            name,
            objs_per_4_pages,
            reclaimable: true,
            objects: 0,
            pages: std::collections::VecDeque::new(),
        }
    }

    /// Simulated pages `objects` need (`g` kernel pages each).
    pub(crate) fn pages_for(&self, objects: u64, g: u64) -> u64 {
        (objects * 4).div_ceil(self.objs_per_4_pages * g)
    }
}

/// A shrinker's carried scan count (`shrinker->nr`).
#[derive(Clone, Copy, Debug, Default)]
pub struct Shrinker {
    /// `nr`: work carried to the next call.
    pub nr: u64,
}

/// Every slab cache of the machine and the VFS caches' shrinkers.
#[derive(Clone, Debug)]
pub struct Slab {
    /// The caches, by [`CacheId`].
    pub caches: [SlabCache; 6],
    /// `dentry_stat.nr_unused`: unused dentries on the LRU.
    pub dentry_unused: u64,
    /// Of those, the ones still carrying `DCACHE_REFERENCED` (their second chance).
    pub dentry_referenced: u64,
    /// `inodes_stat.nr_unused`.
    pub inode_unused: u64,
    /// Cached inodes in use because a cached dentry holds them (`i_count > 0`).
    pub inode_pinned: u64,
    /// The dcache's and the icache's shrinkers, in registration order.
    pub shrinkers: [Shrinker; 2],
    /// `vm.vfs_cache_pressure`.
    pub vfs_cache_pressure: u64,
    /// `slabs_scanned`.
    pub slabs_scanned: u64,
}

impl Slab {
    /// The 2.6.32 x86_64 SLUB caches, empty; `inode_objs_per_4_pages`: the filesystem's inode
    /// objects per 4 pages (ext3 20, ext4 17).
    pub fn new(inode_objs_per_4_pages: u64, vfs_cache_pressure: u64) -> Slab {
        Slab {
            caches: [
                SlabCache::new("buffer_head", 144),
                SlabCache::new("journal_head", 144),
                SlabCache::new("dentry", 84),
                SlabCache::new("inode_cache", inode_objs_per_4_pages),
                SlabCache {
                    reclaimable: false,
                    ..SlabCache::new("fs_metadata_pages", 4)
                },
                SlabCache {
                    reclaimable: false,
                    ..SlabCache::new("kmalloc-256", 64)
                },
            ],
            inode_pinned: 0,
            dentry_unused: 0,
            dentry_referenced: 0,
            inode_unused: 0,
            shrinkers: [Shrinker::default(); 2],
            vfs_cache_pressure,
            slabs_scanned: 0,
        }
    }
}

/// Objects per 4 pages of the inode cache of `fs` (2.6.32 x86_64 SLUB, order-2 slabs):
/// `ext3_inode_cache` 784 B (20 per 16 KiB slab), `ext4_inode_cache` 904 B (17); the other
/// filesystems are taken at ext4's size, the larger (docs/MODEL.md simplification 2).
pub fn inode_objs_per_4_pages(fs: crate::spec::FsType) -> u64 {
    if fs == crate::spec::FsType::Ext3 {
        20
    } else {
        17
    }
}

/// Bytes of the slab pages `[machine.slab]` fills at boot, at most (inodes at ext4's size), in
/// whole simulated pages of `page_bytes`: what validation checks against the memory.
pub fn boot_slab_bytes(spec: &crate::spec::SlabSpec, page_bytes: u64) -> u64 {
    let g = (page_bytes / 4096).max(1);
    let dentry = SlabCache::new("dentry", 84);
    let inode = SlabCache::new("inode_cache", 17);
    let pages = dentry
        .pages_for(spec.dentries, g)
        .saturating_add(inode.pages_for(spec.inodes, g));
    pages.saturating_mul(page_bytes)
}

impl Default for Slab {
    fn default() -> Self {
        Slab::new(17, 100)
    }
}

impl Machine {
    /// `[machine.slab]` at boot: the dentries and inodes a running system has cached, in slab
    /// pages taken from the free lists (`NR_SLAB_RECLAIMABLE`), interleaved over the nodes from
    /// each node's highest zone with free pages (GFP_KERNEL's zonelist order). Every dentry is
    /// unused and on the LRU with `DCACHE_REFERENCED` (`dput()` sets it when the count drops to
    /// 0, fs/dcache.c 2.6.32); each holds one inode (`i_count > 0`) up to the number of inodes
    /// (the rest are negative dentries), and the inodes no dentry holds are unused
    /// (`inodes_stat.nr_unused`). Stops, with fewer objects, when the free lists run out.
    pub(crate) fn boot_slab(&mut self) {
        let want = self.spec.machine.slab;
        if let Some(fs) = self.spec.mounts.first().map(|m| m.fs) {
            self.slab.caches[CacheId::Inode as usize].objs_per_4_pages = inode_objs_per_4_pages(fs);
        }
        self.slab.vfs_cache_pressure = u64::from(self.spec.vm.vfs_cache_pressure);
        let dentries = self.boot_slab_objects(CacheId::Dentry, want.dentries);
        let inodes = self.boot_slab_objects(CacheId::Inode, want.inodes);
        let sl = &mut self.slab;
        sl.dentry_unused = dentries;
        sl.dentry_referenced = dentries;
        sl.inode_pinned = dentries.min(inodes);
        sl.inode_unused = inodes - sl.inode_pinned;
    }

    /// Up to `n` objects of `cache` in pages from the free lists; returns how many fit.
    fn boot_slab_objects(&mut self, cache: CacheId, n: u64) -> u64 {
        let g = self.granularity.factor();
        let need = self.slab.caches[cache as usize].pages_for(n, g);
        let nodes: Vec<Vec<u16>> = self.mem.nodes.iter().map(|n| n.zones.clone()).collect();
        let mut got = 0;
        'fill: while got < need {
            let before = got;
            for zones in &nodes {
                if got == need {
                    break 'fill;
                }
                let Some(id) = zones
                    .iter()
                    .rev()
                    .find_map(|&z| self.mem.zones[z as usize].free.pop())
                else {
                    continue;
                };
                self.mem.vm_stat.nr_free -= 1;
                self.slab_page_add(cache, id);
                got += 1;
            }
            if got == before {
                break;
            }
        }
        let objects = if got == need {
            n
        } else {
            got * self.slab.caches[cache as usize].objs_per_4_pages * g / 4
        };
        self.slab.caches[cache as usize].objects = objects;
        objects
    }

    /// `kmem_cache_alloc()` of `n` objects of `cache` by task `t` with `gfp_mask`: a new slab
    /// page from the allocator when the last one is full. `false`: the task sleeps in the
    /// allocator (nothing was allocated; call again).
    pub fn slab_alloc(&mut self, t: usize, cache: CacheId, n: u64, gfp_mask: u32) -> bool {
        let g = self.granularity.factor();
        let c = &self.slab.caches[cache as usize];
        let need = c.pages_for(c.objects + n, g);
        if need > c.pages.len() as u64 {
            let Some(id) = self.task_alloc(t, gfp_mask) else {
                self.tasks[t].slab_cache = cache;
                return false;
            };
            self.slab_page_add(cache, id);
        }
        self.slab.caches[cache as usize].objects += n;
        true
    }

    /// A page allocated for `cache` (boot or `slab_alloc`): `NR_SLAB_*`.
    pub fn slab_page_add(&mut self, cache: CacheId, id: PageId) {
        let reclaimable = self.slab.caches[cache as usize].reclaimable;
        let p = &mut self.mem.pages[id as usize];
        p.flags = pg::KERNEL | if reclaimable { pg::SLAB } else { 0 };
        p.owner = u32::MAX;
        p.place = Place::Held;
        let z = &mut self.mem.zones[p.zone as usize].stat;
        z.nr_kernel += 1;
        if reclaimable {
            z.nr_slab_reclaimable += 1;
        }
        self.slab.caches[cache as usize].pages.push_back(id);
    }

    /// `kmem_cache_free()` of `n` objects of `cache` by `actor` on `cpu`: each slab page that
    /// empties goes back to the allocator, and to the reclaimer's `reclaimed_slab` when the
    /// actor is reclaiming (`kmem_freepages`: `current->reclaim_state`). Returns the pages freed.
    pub fn slab_free(&mut self, cache: CacheId, n: u64, actor: Option<Actor>, cpu: usize) -> u64 {
        let g = self.granularity.factor();
        let c = &mut self.slab.caches[cache as usize];
        c.objects = c.objects.saturating_sub(n);
        let need = c.pages_for(c.objects, g);
        let mut freed = 0;
        while self.slab.caches[cache as usize].pages.len() as u64 > need {
            let id = self.slab.caches[cache as usize]
                .pages
                .pop_front()
                .expect("a slab page");
            let p = &mut self.mem.pages[id as usize];
            let z = &mut self.mem.zones[p.zone as usize].stat;
            z.nr_kernel -= 1;
            if p.flags & pg::SLAB != 0 {
                z.nr_slab_reclaimable -= 1;
            }
            p.flags = 0;
            self.free_page(id, cpu);
            freed += 1;
        }
        match actor {
            Some(Actor::Task(t)) => self.tasks[t].reclaimed_slab += freed,
            Some(Actor::Kswapd(n)) => self.mem.nodes[n].kswapd.reclaimed_slab += freed,
            _ => {}
        }
        freed
    }

    /// `shrink_slab(scanned, gfp_mask, lru_pages)` (mm/vmscan.c 2.6.32 :184-262): each shrinker
    /// is asked to scan `(4·scanned/seeks)·count/(lru_pages+1)` objects more than it carried,
    /// capped at twice its count, in batches of `SHRINK_BATCH`; what is left (or refused) is
    /// carried. Returns the drop in the shrinkers' counts (`nr_slab`).
    pub fn shrink_slab(
        &mut self,
        scanned: u64,
        gfp_mask: u32,
        lru_pages: u64,
        actor: Actor,
    ) -> u64 {
        // The kernel counts in 4 KiB pages.
        let g = self.granularity.factor();
        let scanned = if scanned == 0 { 32 } else { scanned * g };
        let lru_pages = lru_pages * g;
        let mut ret = 0;
        for s in 0..2 {
            let max_pass = self.shrinker_count(s);
            let delta = (4 * scanned / DEFAULT_SEEKS) * max_pass / (lru_pages + 1);
            let nr = (self.slab.shrinkers[s].nr + delta).min(2 * max_pass);
            let mut total = nr;
            self.slab.shrinkers[s].nr = 0;
            while total >= SHRINK_BATCH {
                let before = self.shrinker_count(s);
                if gfp_mask & gfp::FS == 0 {
                    break; // shrink_dcache_memory / shrink_icache_memory return -1
                }
                self.shrinker_scan(s, SHRINK_BATCH, actor);
                ret += before.saturating_sub(self.shrinker_count(s));
                self.slab.slabs_scanned += SHRINK_BATCH;
                total -= SHRINK_BATCH;
            }
            self.slab.shrinkers[s].nr += total;
        }
        ret
    }

    /// `(nr_unused / 100) * sysctl_vfs_cache_pressure` of shrinker `s` (0: dcache, 1: icache).
    fn shrinker_count(&self, s: usize) -> u64 {
        let unused = if s == 0 {
            self.slab.dentry_unused
        } else {
            self.slab.inode_unused
        };
        unused / 100 * self.slab.vfs_cache_pressure
    }

    /// One batch of a shrinker: `prune_dcache` (a referenced dentry loses its flag and is not
    /// counted; an unreferenced one is freed, after an RCU grace period in the kernel, here at
    /// once but credited to nobody, and its inode becomes unused) or `prune_icache` (unused
    /// inodes freed at once, credited to the reclaimer).
    fn shrinker_scan(&mut self, s: usize, n: u64, actor: Actor) {
        let cpu = match actor {
            Actor::Task(t) => self.tasks[t].cpu,
            _ => 0,
        };
        if s == 0 {
            // __shrink_dcache_sb() walks the LRU from its tail: a referenced dentry loses the
            // flag without counting, so a cache still all referenced (as the scenario's start
            // is) has every flag cleared and nothing freed by the first batch that reaches it.
            let sl = &mut self.slab;
            if sl.dentry_referenced >= sl.dentry_unused {
                sl.dentry_referenced = 0;
                return;
            }
            let pruned = n.min(sl.dentry_unused - sl.dentry_referenced);
            sl.dentry_unused -= pruned;
            // dentry_iput(): the inode it held goes to inode_unused.
            let released = pruned.min(sl.inode_pinned);
            sl.inode_pinned -= released;
            sl.inode_unused += released;
            self.slab_free(CacheId::Dentry, pruned, None, cpu);
        } else {
            let pruned = n.min(self.slab.inode_unused);
            self.slab.inode_unused -= pruned;
            self.slab_free(CacheId::Inode, pruned, Some(actor), cpu);
        }
    }
}
