//! The journal ext3 (jbd) and ext4 (jbd2) share: `kjournald`'s periodic commit of the running
//! transaction's ordered data (writeback-fs §B.8), and the `data=` / `commit=` mount options both
//! filesystems take (`fs/ext3/super.c`, `fs/ext4/super.c` `parse_options()`).
//!
//! Modelled: a commit every `commit=` seconds writes the file data the transaction holds
//! ([`OrderedData`]), and the next commit waits until that IO completed. Not modelled: journal
//! handles, `T_LOCKED`, the log blocks themselves and their IO (the issue 13 mechanisms would
//! live here: a handle count and the commit's state machine on [`Journal`]).

use super::{MountOption, OrderedData, WritepageCaller};
use crate::block::ReqKind;
use crate::mm::page::{pg, NIL};
use crate::mm::{Actor, Machine};
use crate::spec::{DataMode, MountSpec};

/// The options of both ext3 and ext4, as listed.
pub const OPTIONS: &[&str] = &["data=ordered", "data=writeback", "commit=SECONDS"];

/// Applies `data=` and `commit=` (the journal's options).
pub fn mount_option(option: &str, mount: &mut MountSpec) -> MountOption {
    match option {
        "data=ordered" => mount.data_mode = DataMode::Ordered,
        "data=writeback" => mount.data_mode = DataMode::Writeback,
        _ => {
            let Some(secs) = option.strip_prefix("commit=") else {
                return MountOption::NotMine;
            };
            match secs.parse::<u64>() {
                Ok(s @ 1..=300) => mount.commit_interval_ns = s * 1_000_000_000,
                _ => {
                    return MountOption::Invalid(format!(
                        "found `{option}`; expected `commit=SECONDS` with SECONDS in 1..=300"
                    ))
                }
            }
        }
    }
    MountOption::Applied
}

/// A mount's journal: the running transaction's ordered data and the commit in progress.
#[derive(Clone, Debug, Default)]
pub struct Journal {
    /// Event generation of its commit thread (kjournald).
    pub gen: u32,
    /// Commit-thread CPU time not yet charged.
    pub cpu_ns: u64,
    /// [`OrderedData::Buffers`]: pages whose buffers the running transaction must write,
    /// `(inode, index)`.
    pub data_list: Vec<(usize, u32)>,
    /// Journal data pages in flight.
    pub outstanding: u64,
    /// A commit is due but waits for the previous one's IO.
    pub commit_waiting: bool,
    /// Pages of the committing transaction still to submit (when the queue filled), last first.
    committing: Vec<(usize, u32)>,
}

impl Machine {
    /// Files page `index` of inode `ino`, just dirtied by a buffered write, with the running
    /// transaction of mount `m` (`journal_dirty_data()` for ext3, `jbd2_journal_file_inode()`
    /// for ext4).
    pub fn journal_file_data(&mut self, m: usize, ino: usize, index: u32) {
        match self.vfs.mounts[m].ordered_data {
            OrderedData::None => {}
            OrderedData::Buffers => self.vfs.mounts[m].journal.data_list.push((ino, index)),
            OrderedData::Inodes => self.vfs.inodes[ino].in_transaction = true,
        }
    }

    /// A journal commit (kjournald): ordered data of the running transaction is written, and the
    /// next commit waits for it.
    pub fn run_journal(&mut self, m: usize) {
        let interval = self.vfs.mounts[m].spec.commit_interval_ns;
        if self.vfs.mounts[m].journal.committing.is_empty() {
            if self.vfs.mounts[m].journal.outstanding > 0 {
                self.vfs.mounts[m].journal.commit_waiting = true;
                self.bump_gen(Actor::Journal(m));
                return;
            }
            let mut list = self.journal_commit_list(m);
            list.reverse();
            self.vfs.mounts[m].journal.committing = list;
        }
        let Some(b) = self.vfs.mounts[m].spec.disk else {
            return;
        };
        let buffers = self.vfs.mounts[m].ordered_data == OrderedData::Buffers;
        while let Some(&(ino, idx)) = self.vfs.mounts[m].journal.committing.last() {
            let id = self.vfs.inodes[ino].pages.get(idx);
            if id == NIL || self.vfs.inodes[ino].truncated {
                self.vfs.mounts[m].journal.committing.pop();
                continue;
            }
            let f = self.mem.pages[id as usize].flags;
            if f & pg::DIRTY == 0 || f & (pg::WRITEBACK | pg::JOURNAL_IO | pg::BUFFERS_CLEAN) != 0 {
                self.vfs.mounts[m].journal.committing.pop();
                continue;
            }
            let lba = self.page_lba(id);
            // jbd's journal_submit_data_buffers() submits with `write_op = WRITE` (async);
            // jbd2's journal_submit_inode_data_buffers() writes with WB_SYNC_ALL, so
            // __block_write_full_page() submits WRITE_SYNC_PLUG (sync) (2.6.32-2.6.36).
            let kind = if buffers {
                ReqKind::JournalData { mount: m }
            } else {
                ReqKind::SyncWrite
            };
            if !self.may_queue(b, kind, lba, Actor::Journal(m)) {
                self.block_on_queue(b, Actor::Journal(m), kind);
                return;
            }
            self.vfs.mounts[m].journal.committing.pop();
            if buffers {
                // journal_submit_data_buffers(): buffer IO, the page stays PG_dirty.
                self.mem.pages[id as usize].flags |= pg::JOURNAL_IO;
                self.vfs.mounts[m].journal.outstanding += 1;
                self.stats.counters.pages_written_by_journal += 1;
                self.submit_bio(b, kind, lba, id, Actor::Journal(m));
            } else {
                // jbd2: generic_writepages() → ->writepage of the inode's mapped pages.
                self.clear_page_dirty_for_io(id);
                self.writepage(id, WritepageCaller::Journal, Actor::Journal(m), false);
            }
        }
        let cpu = std::mem::take(&mut self.vfs.mounts[m].journal.cpu_ns);
        self.schedule(self.clock.now + cpu + interval, Actor::Journal(m));
    }

    /// The pages a commit must write: the data list ([`OrderedData::Buffers`]), or every dirty
    /// page of the inodes the transaction holds ([`OrderedData::Inodes`]).
    fn journal_commit_list(&mut self, m: usize) -> Vec<(usize, u32)> {
        match self.vfs.mounts[m].ordered_data {
            OrderedData::None => vec![],
            OrderedData::Buffers => std::mem::take(&mut self.vfs.mounts[m].journal.data_list),
            OrderedData::Inodes => {
                let mut out = vec![];
                for ino in 0..self.vfs.inodes.len() {
                    if self.vfs.inodes[ino].mount == m && self.vfs.inodes[ino].in_transaction {
                        self.vfs.inodes[ino].in_transaction = false;
                        let size = self.vfs.inodes[ino].pages.end();
                        let mut i = 0;
                        while let Some(j) = self.vfs.inodes[ino].next_dirty(i, size) {
                            out.push((ino, j));
                            i = j + 1;
                        }
                    }
                }
                out
            }
        }
    }

    /// A journal data request completed: its pages' buffers are clean (the pages stay PG_dirty
    /// until `->writepage` finds nothing to write), and a waiting commit may start.
    pub fn journal_data_done(&mut self, m: usize, pages: &[crate::mm::page::PageId]) {
        for &id in pages {
            let p = &mut self.mem.pages[id as usize];
            p.flags &= !pg::JOURNAL_IO;
            if p.has(pg::DIRTY) {
                p.flags |= pg::BUFFERS_CLEAN;
            }
        }
        let j = &mut self.vfs.mounts[m].journal;
        j.outstanding -= pages.len() as u64;
        if j.outstanding == 0 && j.commit_waiting {
            j.commit_waiting = false;
            self.schedule(self.clock.now, Actor::Journal(m));
        }
    }
}
