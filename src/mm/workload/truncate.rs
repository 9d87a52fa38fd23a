//! `truncate`: at its start time, truncates (unlinks) the file a `stream-write` task writes
//! (`truncate_inode_pages()`, `mm/truncate.c`): clean and dirty pages go at once (a dirty one
//! with `cancel_dirty_page()`, releasing its delayed allocation), pages under writeback or held
//! by the journal are waited for, a jiffy at a time.

use serde::Serialize;

use super::{KindInfo, Progress, TaskKeys, TaskKind, Workload};
use crate::fs::Backing;
use crate::mm::page::{pg, Place, NIL};
use crate::mm::task::Slice;
use crate::mm::{cost, Machine};

/// The kind's keys.
pub const KIND: KindInfo = KindInfo {
    kind: "truncate",
    required: &["target"],
    optional: &[],
};

/// A `truncate` task.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Truncate {
    /// Index into `RunSpec::tasks` of the `stream-write` task whose file is truncated.
    pub target: usize,
}

/// How far the truncation is.
#[derive(Clone, Debug)]
pub struct State {
    /// Indices the last pass left (under writeback), to look at again.
    pub left: Vec<u32>,
    /// Indices below this were all examined by an earlier pass.
    pub scanned_to: usize,
}

/// `target`: a stream-write task.
pub fn parse<K: TaskKeys + ?Sized>(keys: &mut K) -> Result<Truncate, K::Error> {
    let target = keys.task_of_kind(
        "target",
        super::stream_write::KIND.kind,
        "a truncate target",
    )?;
    Ok(Truncate { target })
}

impl Workload for Truncate {
    fn is_finite(&self) -> bool {
        true
    }

    fn start(&self, _m: &mut Machine, _t: usize) -> Progress {
        Progress::Truncate(State {
            left: Vec::new(),
            scanned_to: 0,
        })
    }

    fn slice(&self, m: &mut Machine, t: usize) -> Slice {
        let target = &m.tasks[self.target];
        let TaskKind::StreamWrite(w) = target.kind else {
            unreachable!("validation makes a truncate target a stream-write task")
        };
        if m.vfs.mounts[w.mount].backing == Backing::Swap {
            // Validation refuses a tmpfs target (shmem truncation is not modelled); a target
            // file of a swap-backed mount is a segment, not an inode.
            return Slice::Finished;
        }
        // The writer's file outlives the writer: a truncate that starts after it finished
        // truncates what it left in the page cache.
        let Some(ino) = target.file else {
            if target.dead || target.finished_at.is_some() {
                return Slice::Finished; // killed before it created its file
            }
            // The writer has not started: nothing to truncate yet, look again when it has.
            let at = target.start_ns.max(m.clock.now + crate::sim::MSEC);
            return m.sleep_until(t, at);
        };
        if m.truncate_inode_pages(t, ino) {
            Slice::Finished
        } else {
            // Pass 2 waits on pages under writeback: retry after a jiffy.
            let j = m.clock.jiffy;
            m.sleep_until(t, m.clock.now + j)
        }
    }
}

impl Machine {
    /// `truncate_inode_pages()`: drops every cached page not under writeback (dirty ones with
    /// `cancel_dirty_page`, releasing delayed allocations), and reports whether none is left.
    ///
    /// A retry re-examines only the pages the last pass left and the indices written since
    /// (the writer only appends), which is what rescanning the whole range would find.
    fn truncate_inode_pages(&mut self, t: usize, ino: usize) -> bool {
        let cpu = self.tasks[t].cpu;
        let Progress::Truncate(st) = &mut self.tasks[t].progress else {
            unreachable!("a truncate task's progress")
        };
        // The indices left busy last time, then the cached ones added since (in index order,
        // as the kernel's pagevec_lookup() walk).
        let n = self.vfs.inodes[ino].pages.end() as usize;
        let added = self.vfs.inodes[ino]
            .pages
            .cached_in(st.scanned_to as u32, n as u32);
        let candidates: Vec<usize> = std::mem::take(&mut st.left)
            .into_iter()
            .chain(added)
            .map(|i| i as usize)
            .collect();
        st.scanned_to = n;
        let mut still = Vec::new();
        for idx in candidates {
            let id = self.vfs.inodes[ino].pages.get(idx as u32);
            if id == NIL {
                continue;
            }
            let f = self.mem.pages[id as usize].flags;
            if f & (pg::WRITEBACK | pg::LOCKED | pg::JOURNAL_IO) != 0 {
                still.push(idx as u32);
                continue;
            }
            if f & pg::DIRTY != 0 {
                self.clear_page_dirty_for_io(id); // cancel_dirty_page(): no IO
            }
            if self.mem.pages[id as usize].place == Place::Lru {
                self.mem.lru_del(id, Place::Held);
            }
            self.vfs.inodes[ino].pages.remove(idx as u32);
            let zid = self.mem.pages[id as usize].zone as usize;
            self.mem.zones[zid].stat.nr_file_pages -= 1;
            let buffers = self.mem.pages[id as usize].has(pg::BH);
            self.mem.pages[id as usize].flags &= pg::MLOCKED;
            self.free_page(id, cpu);
            if buffers {
                let g = self.granularity.factor();
                self.slab_free(crate::mm::slab::CacheId::BufferHead, g, None, cpu);
            }
            self.tasks[t].pending_cpu_ns += self.granularity.cost(cost::FREE_PAGE);
        }
        let left = !still.is_empty();
        if let Progress::Truncate(st) = &mut self.tasks[t].progress {
            st.left = still;
        }
        if !left {
            self.vfs.inodes[ino].writeback_index = 0;
            self.tasks[t].done_bytes = 4096;
        }
        !left
    }
}
