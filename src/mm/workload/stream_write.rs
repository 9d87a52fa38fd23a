//! `stream-write`: a buffered streaming writer (no fallocate, no O_DIRECT), the seed's backup:
//! `write()` calls of `write_size` into one new file, at most `rate` bytes per second, `size` in
//! all. Each page goes through `generic_perform_write()` (`write_begin` allocates it with the
//! filesystem's gfp mask, it is copied, dirtied, filed with the journal) and
//! `balance_dirty_pages_ratelimited()` (writeback-fs §A.5, reclaim-oom §14.1). On tmpfs the file
//! is a shmem segment.

use serde::Serialize;

use super::{KindInfo, Progress, TaskKeys, Workload};
use crate::fs::jbd::WriteBeginHandle;
use crate::fs::Backing;
use crate::kernel::ZoneDirtyLimits;
use crate::mm::page::{pg, LruList, PageId, NIL};
use crate::mm::slab::CacheId;
use crate::mm::task::Slice;
use crate::mm::{cost, gfp, Actor, Machine};
use crate::spec::MAX_FILE_BYTES;

/// The kind's keys.
pub const KIND: KindInfo = KindInfo {
    kind: "stream-write",
    required: &["mount", "size", "rate"],
    optional: &["write_size"],
};

/// A `stream-write` task.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct StreamWrite {
    /// Index into `RunSpec::mounts`.
    pub mount: usize,
    /// Total bytes to write.
    pub bytes: u64,
    /// The producer's rate, bytes per second.
    pub rate_bytes_per_sec: u64,
    /// Bytes per `write()` call.
    pub write_bytes: u64,
}

/// How far the writing is.
#[derive(Clone, Copy, Debug)]
pub struct State {
    /// The file (inode index), or on tmpfs the segment index.
    pub ino: usize,
    /// Pages to write.
    pub total: u64,
    /// Written so far.
    pub done: u64,
    /// Pages left in the current `write()` call.
    pub call_left: u64,
    /// ext3: the page `write_begin` allocated before `ext3_journal_start()` slept on a locked
    /// transaction (NIL: none).
    pub page: PageId,
}

/// `mount`, `size`, `rate`, `write_size` (1 MiB by default).
pub fn parse<K: TaskKeys + ?Sized>(keys: &mut K) -> Result<StreamWrite, K::Error> {
    let mount = keys.mount("mount", None)?;
    let (bytes, rate) = keys.size_and_rate(
        MAX_FILE_BYTES,
        "a file is at most 16TiB (page indices are 32-bit); expected a size up to `16TiB`",
    )?;
    let write_bytes = keys
        .optional_size("write_size", "the write size")?
        .unwrap_or(1 << 20);
    Ok(StreamWrite {
        mount,
        bytes,
        rate_bytes_per_sec: rate,
        write_bytes,
    })
}

impl Workload for StreamWrite {
    fn is_finite(&self) -> bool {
        true
    }

    fn total_bytes(&self) -> Option<u64> {
        Some(self.bytes)
    }

    /// Its user buffer of one `write()` call.
    fn total_vm(&self, anon: u64) -> u64 {
        anon + self.write_bytes.div_ceil(crate::mm::granularity::BASE_PAGE)
    }

    fn start(&self, m: &mut Machine, t: usize) -> Progress {
        let total = m.granularity.pages_ceil(self.bytes);
        let ino = if m.vfs.mounts[self.mount].backing == Backing::Swap {
            m.new_segment(t, false)
        } else {
            let ino = m.new_inode(self.mount, total);
            m.tasks[t].file = Some(ino);
            ino
        };
        Progress::StreamWrite(State {
            ino,
            total,
            done: 0,
            call_left: 0,
            page: NIL,
        })
    }

    fn slice(&self, m: &mut Machine, t: usize) -> Slice {
        m.write_slice(t, self)
    }
}

impl Machine {
    /// The gfp mask of a buffered write's page-cache allocation on mount `mount`: the
    /// filesystem's (`Filesystem::writer_gfp`), with `__GFP_WRITE` from 3.3
    /// (`grab_cache_page_write_begin()`).
    fn write_gfp(&self, mount: usize) -> u32 {
        let mut g = self.vfs.mounts[mount].ops().writer_gfp(&self.switches);
        if self.switches.per_zone_dirty_limits != ZoneDirtyLimits::Off {
            g |= gfp::WRITE;
        }
        g
    }

    /// One slice of `write()` calls: paced by the producer, each page allocated, copied and
    /// dirtied, then `balance_dirty_pages_ratelimited()`.
    fn write_slice(&mut self, t: usize, w: &StreamWrite) -> Slice {
        let Progress::StreamWrite(mut st) = self.tasks[t].progress else {
            unreachable!("a stream-write task's progress")
        };
        let shmem = self.vfs.mounts[w.mount].backing == Backing::Swap;
        let bdi = self.vfs.mounts[w.mount].spec.disk;
        let gfp_mask = self.write_gfp(w.mount);
        let mut r = Slice::Yield;
        for _ in 0..self.slice_pages() {
            if self.tasks[t].bdp.is_some() && !self.balance_dirty_pages_step(t) {
                r = Slice::Sleeping;
                break;
            }
            if st.call_left == 0 {
                self.tasks[t].backing_dev = None;
                if st.done >= st.total {
                    r = Slice::Finished;
                    break;
                }
                let at = self.paced(t, self.tasks[t].start_ns, st.done, w.rate_bytes_per_sec);
                if self.clock.now < at {
                    self.tasks[t].progress = Progress::StreamWrite(st);
                    return self.sleep_until(t, at);
                }
                st.call_left = self
                    .granularity
                    .pages_ceil(w.write_bytes)
                    .max(1)
                    .min(st.total - st.done);
                self.tasks[t].backing_dev = bdi;
            }
            let Some(id) = self.write_begin(t, w.mount, gfp_mask, &mut st) else {
                r = Slice::Sleeping;
                break;
            };
            self.tasks[t].pending_cpu_ns += self.granularity.cost(cost::COPY_PAGE);
            if shmem {
                self.add_shm_page(st.ino, id, false);
            } else {
                self.add_written_file_page(t, st.ino, st.done as u32, id);
            }
            // write_end: journal_stop(), before balance_dirty_pages_ratelimited().
            self.journal_stop(Actor::Task(t), w.mount);
            st.done += 1;
            st.call_left -= 1;
            let pb = self.granularity.page_bytes();
            self.tasks[t].done_bytes = (st.done * pb).min(st.total * pb);
            if let Some(b) = bdi {
                self.balance_dirty_pages_ratelimited(t, b);
            }
        }
        self.tasks[t].progress = Progress::StreamWrite(st);
        r
    }

    /// `->write_begin` of one page: the page-cache allocation and the journal handle in the
    /// filesystem's order ([`WriteBeginHandle`]). `None`: the task sleeps (in the allocator,
    /// holding an ext4 handle; or on a locked transaction, holding an ext3 page in `st.page`).
    fn write_begin(&mut self, t: usize, m: usize, gfp_mask: u32, st: &mut State) -> Option<PageId> {
        let order = self.vfs.mounts[m].write_begin_handle;
        if order == WriteBeginHandle::BeforePage && !self.journal_start(Actor::Task(t), m) {
            return None;
        }
        let id = if st.page != NIL {
            std::mem::replace(&mut st.page, NIL)
        } else {
            self.task_alloc(t, gfp_mask)?
        };
        if order == WriteBeginHandle::AfterPage && !self.journal_start(Actor::Task(t), m) {
            st.page = id;
            return None;
        }
        let allocates = self.vfs.mounts[m].journalled && !self.vfs.mounts[m].delalloc;
        if allocates && !self.write_begin_get_block(t, m, st) {
            st.page = id;
            return None;
        }
        if !self.write_begin_slab(t, m) {
            st.page = id;
            return None;
        }
        Some(id)
    }

    /// `->get_block` of a mount that allocates blocks now (ext3, ext4 nodelalloc), under the
    /// handle, for the page at `st.done`: ext3's `ext3_new_blocks()` takes the group's bitmap
    /// and its undo copy (`mm/ext3_balloc.rs`), ext4's `ext4_mb_new_blocks()` the group's bitmap
    /// and buddy pages (`mm/ext4_mballoc.rs`); both then modify the bitmap, group descriptor
    /// and inode (frozen copies while a commit writes them). `false`: the task sleeps in the
    /// allocator.
    fn write_begin_get_block(&mut self, t: usize, m: usize, st: &State) -> bool {
        let lba = self.vfs.inodes[st.ino].disk_base + st.done;
        let mount = &self.vfs.mounts[m];
        if mount.bitmap_undo_access {
            self.ext3_new_blocks(t, m, lba) && self.journal_get_write_access(m, t)
        } else if mount.writepages.group_metadata {
            self.ext4_mb_new_blocks(Actor::Task(t), m, lba)
        } else {
            self.journal_get_write_access(m, t)
        }
    }

    /// The slab objects `write_begin`/`write_end` allocate under the handle, `GFP_NOFS`: the
    /// page's buffer heads (`create_empty_buffers` → `alloc_page_buffers`), and on ext3
    /// `data=ordered` its `journal_head` (`journal_dirty_data`, at `write_end` in the kernel,
    /// taken here with the buffer heads so that every sleep is in `write_begin`). `false`: the
    /// task sleeps in the allocator.
    fn write_begin_slab(&mut self, t: usize, m: usize) -> bool {
        let g = self.granularity.factor();
        let mount = &self.vfs.mounts[m];
        let (bh, jh) = (
            mount.buffer_heads,
            mount.ordered_data == crate::fs::OrderedData::Buffers,
        );
        if bh && !self.slab_alloc(t, CacheId::BufferHead, g, gfp::GFP_NOFS) {
            return false;
        }
        if jh && !self.slab_alloc(t, CacheId::JournalHead, g, gfp::GFP_NOFS) {
            if bh {
                self.slab_free(CacheId::BufferHead, g, None, self.tasks[t].cpu);
            }
            return false;
        }
        true
    }

    /// `generic_perform_write()` for one page of a new file: into the page cache (inactive
    /// file list), dirtied (delayed allocation where the filesystem says so, blocks allocated
    /// now elsewhere), filed with the journal, `mark_page_accessed`.
    fn add_written_file_page(&mut self, t: usize, ino: usize, index: u32, id: PageId) {
        let mount = self.vfs.inodes[ino].mount;
        let delayed = self.vfs.mounts[mount].delalloc;
        let bh = self.vfs.mounts[mount].buffer_heads;
        let p = &mut self.mem.pages[id as usize];
        p.flags = pg::FILE
            | pg::PRIVATE
            | if delayed { pg::DELALLOC } else { 0 }
            | if bh { pg::BH } else { 0 };
        p.owner = ino as u32;
        p.index = index;
        let zid = p.zone as usize;
        self.mem.zones[zid].stat.nr_file_pages += 1;
        let inode = &mut self.vfs.inodes[ino];
        inode.pages.insert(index, id);
        inode.size_pages = inode.size_pages.max(index + 1);
        self.lru_cache_add(id, LruList::InactiveFile);
        self.set_page_dirty(id, Some(t));
        self.journal_file_data(mount, ino, index);
        self.mark_page_accessed(id);
    }
}
