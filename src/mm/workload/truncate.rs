//! `truncate`: at its start time, truncates (unlinks) the file a `stream-write` task writes
//! (`truncate_inode_pages_range()`, mm/truncate.c 2.6.32). The first pass drops, in index
//! order, every page that is not locked and not under writeback (a dirty one with
//! `cancel_dirty_page()`, releasing its delayed allocation); the second walks the indices again
//! from the start and waits on each busy page in turn (`lock_page()`,
//! `wait_on_page_writeback()`) before dropping it, until a walk from the start finds no page.
//! A page whose buffers the journal is writing (`PG_journal_io`) is waited for in either pass:
//! `journal_invalidatepage()` takes each buffer's lock, which its write holds. A wait sleeps
//! on the page (`Memory::lock_waiters`, `Memory::writeback_waiters`) until the read, the
//! journal's data write or the page's writeback ends (docs/MODEL.md 24).

use serde::Serialize;

use super::{KindInfo, Progress, TaskKeys, TaskKind, Workload};
use crate::fs::Backing;
use crate::mm::page::{pg, PageId, Place};
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
#[derive(Clone, Copy, Debug)]
pub struct State {
    /// In the second pass (the first found every page it could drop without waiting).
    pub second_pass: bool,
    /// `next`: the index the pass goes on from (the page it waits on, if any).
    pub next: u32,
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
            second_pass: false,
            next: 0,
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
            // Asleep on a busy page until it is unlocked or its write ends.
            m.bump_gen(crate::mm::Actor::Task(t));
            Slice::Sleeping
        }
    }
}

impl Machine {
    /// `truncate_inode_pages()` from where it stopped: whether the file has no page left.
    /// `false` when it waits on a busy page (the state keeps its index, the page's wait list
    /// the task).
    fn truncate_inode_pages(&mut self, t: usize, ino: usize) -> bool {
        let Progress::Truncate(mut st) = self.tasks[t].progress else {
            unreachable!("a truncate task's progress")
        };
        let done = self.truncate_passes(t, ino, &mut st);
        self.tasks[t].progress = Progress::Truncate(st);
        if done {
            self.vfs.inodes[ino].writeback_index = 0;
            self.tasks[t].done_bytes = 4096;
        }
        done
    }

    /// The two passes of `truncate_inode_pages_range()` from `st`, each page found in index
    /// order (`pagevec_lookup()`); each turn of the loop drops a page, waits, or ends a walk.
    fn truncate_passes(&mut self, t: usize, ino: usize, st: &mut State) -> bool {
        loop {
            let Some(idx) = self.vfs.inodes[ino].pages.next_cached(st.next) else {
                if st.second_pass && st.next == 0 {
                    return true; // a walk from the start found nothing
                }
                // The first pass ended, or the second goes round again from the start.
                *st = State {
                    second_pass: true,
                    next: 0,
                };
                continue;
            };
            let id = self.vfs.inodes[ino].pages.get(idx);
            let f = self.mem.pages[id as usize].flags;
            let busy = if st.second_pass {
                pg::WRITEBACK | pg::LOCKED | pg::JOURNAL_IO
            } else {
                pg::JOURNAL_IO // trylock_page() or PageWriteback() skips the others
            };
            if f & busy != 0 {
                st.next = idx;
                // lock_page() (or lock_buffer() in journal_invalidatepage()) before
                // wait_on_page_writeback().
                if f & (pg::LOCKED | pg::JOURNAL_IO) != 0 {
                    self.mem.lock_waiters.push((id, t));
                } else {
                    self.mem.writeback_waiters.push((id, t));
                }
                return false;
            }
            st.next = idx + 1;
            if f & (pg::WRITEBACK | pg::LOCKED) == 0 {
                self.truncate_inode_page(t, ino, idx, id);
            }
        }
    }

    /// `truncate_inode_page()` of page `id` at index `idx`: a dirty page's dirtiness
    /// cancelled without IO, the page off its list and out of the cache, its buffer_heads
    /// freed with it.
    fn truncate_inode_page(&mut self, t: usize, ino: usize, idx: u32, id: PageId) {
        let cpu = self.tasks[t].cpu;
        if self.mem.pages[id as usize].flags & pg::DIRTY != 0 {
            self.clear_page_dirty_for_io(id); // cancel_dirty_page(): no IO
        }
        if self.mem.pages[id as usize].place == Place::Lru {
            self.mem.lru_del(id, Place::Held);
        }
        self.vfs.inodes[ino].pages.remove(idx);
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
}
