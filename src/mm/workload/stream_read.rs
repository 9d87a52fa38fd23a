//! `stream-read`: a buffered sequential reader of an existing, clean, uncached file of `size` on
//! `mount`: `read()` calls of `read_size`, at most `rate` bytes per second. Each call allocates
//! its pages into the page cache (locked, on the inactive file list), submits one read and waits;
//! `do_generic_file_read()` copies each page out as its request completes, with
//! `mark_page_accessed()` once per page (reclaim-oom §11).

use serde::Serialize;

use super::{KindInfo, Progress, TaskKeys, Workload};
use crate::block::ReqKind;
use crate::mm::page::{pg, LruList, PageId};
use crate::mm::task::Slice;
use crate::mm::{cost, gfp, Actor, Machine};
use crate::spec::MAX_FILE_BYTES;

/// The kind's keys.
pub const KIND: KindInfo = KindInfo {
    kind: "stream-read",
    required: &["mount", "size", "rate"],
    optional: &["read_size"],
};

/// A `stream-read` task.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct StreamRead {
    /// Index into `RunSpec::mounts` (a mount with a disk).
    pub mount: usize,
    /// Total bytes to read.
    pub bytes: u64,
    /// The consumer's rate, bytes per second.
    pub rate_bytes_per_sec: u64,
    /// Bytes per `read()` call.
    pub read_bytes: u64,
}

/// How far the reading is.
#[derive(Clone, Copy, Debug)]
pub struct State {
    /// The file.
    pub ino: usize,
    /// Pages to read.
    pub total: u64,
    /// Read so far.
    pub done: u64,
    /// Pages of the current `read()` call still to allocate.
    pub call_left: u64,
    /// A read request is in flight for `Task::read_pages`.
    pub inflight: bool,
}

/// `mount` (with a disk), `size`, `rate`, `read_size` (128 KiB by default).
pub fn parse<K: TaskKeys + ?Sized>(keys: &mut K) -> Result<StreamRead, K::Error> {
    let mount = keys.mount(
        "mount",
        Some("a stream-read task reads an existing file from a disk"),
    )?;
    let (bytes, rate) = keys.size_and_rate(
        MAX_FILE_BYTES,
        "a file is at most 16TiB (page indices are 32-bit); expected a size up to `16TiB`",
    )?;
    let read_bytes = keys
        .optional_size("read_size", "the read size")?
        .unwrap_or(128 << 10);
    Ok(StreamRead {
        mount,
        bytes,
        rate_bytes_per_sec: rate,
        read_bytes,
    })
}

impl Workload for StreamRead {
    fn is_finite(&self) -> bool {
        true
    }

    fn total_bytes(&self) -> Option<u64> {
        Some(self.bytes)
    }

    /// Its user buffer of one `read()` call.
    fn total_vm(&self, anon: u64) -> u64 {
        anon + self.read_bytes.div_ceil(crate::mm::granularity::BASE_PAGE)
    }

    fn start(&self, m: &mut Machine, _t: usize) -> Progress {
        let total = m.granularity.pages_ceil(self.bytes);
        let ino = m.new_inode(self.mount, total);
        Progress::StreamRead(State {
            ino,
            total,
            done: 0,
            call_left: 0,
            inflight: false,
        })
    }

    fn slice(&self, m: &mut Machine, t: usize) -> Slice {
        m.read_slice(t, self)
    }
}

impl Machine {
    /// One step of the reader: copy out what completed, start the next call when paced, allocate
    /// its pages, submit the read and wait.
    fn read_slice(&mut self, t: usize, r: &StreamRead) -> Slice {
        let Progress::StreamRead(mut st) = self.tasks[t].progress else {
            unreachable!("a stream-read task's progress")
        };
        if st.inflight {
            if !self.copy_out_completed(t, &mut st) {
                self.tasks[t].progress = Progress::StreamRead(st);
                self.bump_gen(Actor::Task(t)); // woken by the next completion
                return Slice::Sleeping;
            }
            st.inflight = false;
        }
        if st.call_left == 0 && self.tasks[t].read_pages.is_empty() {
            if st.done >= st.total {
                self.tasks[t].progress = Progress::StreamRead(st);
                return Slice::Finished;
            }
            let at = self.paced(t, self.tasks[t].start_ns, st.done, r.rate_bytes_per_sec);
            if self.clock.now < at {
                self.tasks[t].progress = Progress::StreamRead(st);
                return self.sleep_until(t, at);
            }
            st.call_left = self
                .granularity
                .pages_ceil(r.read_bytes)
                .max(1)
                .min(st.total - st.done);
        }
        while st.call_left > 0 {
            let Some(id) = self.task_alloc(t, gfp::GFP_HIGHUSER_MOVABLE) else {
                self.tasks[t].progress = Progress::StreamRead(st);
                return Slice::Sleeping;
            };
            self.add_read_page(t, &st, id);
            st.call_left -= 1;
        }
        // Submit the read and wait for it.
        let Some(b) = self.vfs.mounts[r.mount].spec.disk else {
            unreachable!("validation rejects reads from diskless mounts")
        };
        let pages = self.tasks[t].read_pages.clone();
        for &id in &pages {
            let lba = self.page_lba(id);
            self.submit_bio(b, ReqKind::Read { task: t }, lba, id, Actor::Task(t));
        }
        st.inflight = true;
        self.tasks[t].progress = Progress::StreamRead(st);
        if self.parked_disk(Actor::Task(t)).is_some() {
            // The sync list is exhausted: get_request_wait() until a read request is freed;
            // then the completion of its read wakes it as before.
            self.get_request_wait(b, Actor::Task(t), crate::block::BLK_RW_SYNC);
            return Slice::Sleeping;
        }
        self.bump_gen(Actor::Task(t));
        Slice::Sleeping
    }

    /// `do_generic_file_read()`: copy out, in order, each page whose read has completed
    /// (PG_locked clear; `mark_page_accessed` once per page). Whether every page of the call
    /// was: a call larger than one request completes request by request.
    fn copy_out_completed(&mut self, t: usize, st: &mut State) -> bool {
        let pages = &self.tasks[t].read_pages;
        let ready = pages
            .iter()
            .take_while(|&&id| !self.mem.pages[id as usize].has(pg::LOCKED))
            .count();
        let copied: Vec<PageId> = self.tasks[t].read_pages.drain(..ready).collect();
        for &id in &copied {
            self.mark_page_accessed(id);
            self.tasks[t].pending_cpu_ns += self.granularity.cost(cost::COPY_PAGE);
        }
        st.done += copied.len() as u64;
        self.tasks[t].done_bytes = st.done * self.granularity.page_bytes();
        self.tasks[t].read_pages.is_empty()
    }

    /// A page of the read in progress: locked (`PG_locked` until its read completes), in the
    /// page cache at the next index, on the inactive file list.
    fn add_read_page(&mut self, t: usize, st: &State, id: PageId) {
        let index = (st.done + self.tasks[t].read_pages.len() as u64) as u32;
        let p = &mut self.mem.pages[id as usize];
        p.flags = pg::FILE | pg::PRIVATE | pg::LOCKED;
        p.owner = st.ino as u32;
        p.index = index;
        let zid = p.zone as usize;
        self.mem.zones[zid].stat.nr_file_pages += 1;
        let inode = &mut self.vfs.inodes[st.ino];
        inode.pages.insert(index, id);
        self.lru_cache_add(id, LruList::InactiveFile);
        self.tasks[t].read_pages.push(id);
    }
}
