//! The journal ext3 (jbd) and ext4 (jbd2) share: handles, the running transaction and its commit
//! timer, `T_LOCKED` and the waits it causes, and the commit's ordered-data flush and wait
//! (writeback-fs §B.8; research 13a §2). The mount options both filesystems take (`data=`,
//! `commit=`) are parsed here too (`fs/ext3/super.c`, `fs/ext4/super.c` `parse_options()`).
//!
//! - `journal_start()` / `start_this_handle()` (K32 `fs/jbd2/transaction.c:86-247`, jbd
//!   `fs/jbd/transaction.c`): the first handle after a commit creates the running transaction
//!   (`jbd2_get_transaction()`: `t_expires = jiffies + j_commit_interval`, the commit timer armed
//!   at `round_jiffies_up(t_expires)`); a handle on a `T_LOCKED` transaction sleeps
//!   uninterruptibly on `j_wait_transaction_locked` until the commit reaches `T_FLUSH`;
//!   otherwise `t_updates++`.
//! - `journal_stop()` (K32 `jbd2_journal_stop()` :1234-1361): `t_updates--`, the committing
//!   thread is woken when it reaches 0, and a handle stopped at or after `t_expires` asks for the
//!   commit at once (`__jbd2_log_start_commit`).
//! - The commit (`jbd2_journal_commit_transaction()`, K32 `fs/jbd2/commit.c`; jbd's
//!   `journal_commit_transaction()`): `T_LOCKED`, wait for `t_updates == 0`, `T_FLUSH` (wakes every
//!   locked-out handle; the next handle starts a new transaction), the ordered data: ext3's data
//!   buffers (`journal_submit_data_buffers`, then the wait on `t_locked_list`), ext4's filed inodes
//!   (`journal_submit_inode_data_buffers` = `generic_writepages(WB_SYNC_ALL)`, then
//!   `journal_finish_inode_data_buffers` = `filemap_fdatawait()` over the whole file). kjournald
//!   commits one transaction at a time, so the next commit starts only after this one's data
//!   wait.
//!
//! Not modelled (docs/MODEL.md): the log blocks and their IO, the "log full" and
//! `j_max_transaction_buffers` branches of `start_this_handle`, `BJ_Shadow` waits, the nesting
//! of handles (`h_ref`), and handle credits.

use super::{MountOption, OrderedData, WritepageCaller};
use crate::block::ReqKind;
use crate::mm::page::{pg, PageId, NIL};
use crate::mm::slab::CacheId;
use crate::mm::{cost, Actor, Machine};
use crate::sim::SimTime;
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

/// When a buffered writer starts its journal handle relative to its page-cache allocation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteBeginHandle {
    /// No journal (or none modelled).
    None,
    /// `ext4_da_write_begin()` / `ext4_write_begin()`: the handle first, then the page
    /// (`AOP_FLAG_NOFS`), so the handle is held while the allocation sleeps (K32
    /// `fs/ext4/inode.c:3065-3074`, :1560-1570).
    BeforePage,
    /// `ext3_write_begin()`: the page first, then `ext3_journal_start()` (K32
    /// `fs/ext3/inode.c:1174-1179`).
    AfterPage,
}

/// `jiffies` at boot: `INITIAL_JIFFIES` = `(unsigned long)(unsigned int)(-300*HZ)`
/// (`include/linux/jiffies.h`), so a "whole second" of jiffies is not a whole second of uptime.
pub fn initial_jiffies(hz: u64) -> u64 {
    (1u64 << 32) - 300 * hz
}

/// `round_jiffies_up(j)` on CPU `cpu` (`round_jiffies_common(j, cpu, true)`, kernel/timer.c):
/// skewed by 3 jiffies per CPU, always up to the next whole second of jiffies (even from an exact
/// one), the skew taken off again; the original value if rounding ate the timeout.
pub fn round_jiffies_up(j: u64, now_j: u64, hz: u64, cpu: u64) -> u64 {
    let skewed = j + 3 * cpu;
    let rounded = skewed - skewed % hz + hz - 3 * cpu;
    if rounded <= now_j {
        j
    } else {
        rounded
    }
}

/// The metadata buffers one block allocation modifies: the block bitmap, the group descriptor
/// block and the inode's block (its inode table block or extent leaf).
pub const METADATA_BUFFERS: u64 = 3;

/// A running transaction (`transaction_t` in `T_RUNNING` or `T_LOCKED`).
#[derive(Clone, Debug)]
pub struct Transaction {
    /// `t_tid`.
    pub tid: u32,
    /// `t_state == T_LOCKED`: no new handle may join.
    pub locked: bool,
    /// `t_expires`, in jiffies.
    pub expires_j: u64,
    /// When the commit timer fires (`round_jiffies_up(t_expires)`), ns.
    pub timer_at: SimTime,
    /// When the commit locked it.
    pub locked_at: SimTime,
    /// `t_handle_count`.
    pub handles: u64,
    /// Its handles modified block-allocation metadata (bitmap, group descriptor, inode block):
    /// the buffers a handle of the next transaction must copy out while this one commits.
    pub metadata: bool,
}

/// Where a commit in progress is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommitPhase {
    /// `T_LOCKED`: waiting for `t_updates` to drain.
    WaitUpdates,
    /// `T_FLUSH`: submitting the ordered data (may sleep for a request).
    Submit,
    /// Waiting for the ordered data's IO (ext3 `t_locked_list`, ext4 `filemap_fdatawait`).
    WaitData,
}

/// What the journals of a run did (jbd2's `/proc/fs/jbd2/*/info` quantities).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JournalStats {
    /// Commits that reached `T_FLUSH`.
    pub commits: u64,
    /// Time transactions spent `T_LOCKED` (waiting for `t_updates`), ns.
    pub locked_ns: u64,
    /// The longest single `T_LOCKED`, ns.
    pub max_locked_ns: u64,
    /// Handles that slept in `start_this_handle()` on a `T_LOCKED` transaction.
    pub handle_waits: u64,
    /// Their time asleep, ns.
    pub handle_wait_ns: u64,
    /// Handles started.
    pub handles: u64,
    /// Frozen copies made (4 KiB pages).
    pub frozen_copies: u64,
    /// Undo copies of block bitmaps made (`b_committed_data`, 4 KiB pages).
    pub undo_copies: u64,
}

impl JournalStats {
    /// Adds another mount's statistics (the run's counters are the sum over the mounts; the
    /// longest `T_LOCKED` is the longest of any).
    pub fn add(&mut self, s: &JournalStats) {
        self.commits += s.commits;
        self.locked_ns += s.locked_ns;
        self.max_locked_ns = self.max_locked_ns.max(s.max_locked_ns);
        self.handle_waits += s.handle_waits;
        self.handle_wait_ns += s.handle_wait_ns;
        self.handles += s.handles;
        self.frozen_copies += s.frozen_copies;
        self.undo_copies += s.undo_copies;
    }
}

/// A mount's journal.
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
    /// Pages of the committing transaction still to submit (when the queue filled), last first.
    committing: Vec<(usize, u32)>,
    /// `j_running_transaction`.
    pub running: Option<Transaction>,
    /// The commit in progress (`j_committing_transaction`'s state).
    pub commit: Option<CommitPhase>,
    /// `j_commit_request` for the running transaction (a handle stopped after `t_expires`).
    pub commit_request: bool,
    /// The actors holding a handle on the running transaction: `t_updates` is its length.
    pub holders: Vec<Actor>,
    /// `j_wait_transaction_locked`: who sleeps in `start_this_handle`, and since when.
    pub locked_waiters: Vec<(Actor, SimTime)>,
    /// The inodes whose writeback the commit waits for (`t_inode_list`), with the wait's
    /// cursor (the next index `filemap_fdatawait` looks at) and its end (`i_size` when the wait
    /// on that inode began; `u32::MAX` before), last first.
    wait_inodes: Vec<(usize, u32, u32)>,
    /// `j_transaction_sequence`.
    next_tid: u32,
    /// ext3: the committing transaction's data pages, whose `journal_head`s are freed when
    /// the commit ends.
    journal_heads: u64,
    /// The committing transaction modified allocation metadata (its `Transaction::metadata`).
    committing_metadata: bool,
    /// Frozen copies the running transaction's handles made of the committing transaction's
    /// metadata buffers, 4 KiB pages (`jbd2_alloc`), freed when the commit ends; and how many
    /// of the next set are allocated so far.
    pub frozen: u64,
    frozen_loading: u64,
    /// ext3: the block groups whose bitmap's undo copy (`b_committed_data`) the running
    /// transaction's allocations use. A group also in `undo_committing` uses the committing
    /// transaction's copy, handed over when its commit ends; the others made their own.
    pub undo: Vec<u64>,
    /// ext3: the groups whose undo copies the committing transaction made.
    pub undo_committing: Vec<u64>,
    /// Who is allocating a new `transaction_t` in `start_this_handle()` (asleep in the
    /// allocator; it finishes that allocation even if another handle started a transaction).
    transaction_allocators: Vec<Actor>,
    /// What it did.
    pub stats: JournalStats,
}

impl Journal {
    /// Frozen copies of the next set allocated so far.
    pub fn frozen_loading(&self) -> u64 {
        self.frozen_loading
    }

    /// The undo copies it holds, 4 KiB pages.
    pub fn undo_pages(&self) -> u64 {
        let committing = &self.undo_committing;
        let running = self.undo.iter().filter(|g| !committing.contains(g)).count();
        (running + committing.len()) as u64
    }

    /// Its `transaction_t`s: the running one and the one committing past `T_FLUSH`.
    pub fn live_transactions(&self) -> u64 {
        let committing = matches!(
            self.commit,
            Some(CommitPhase::Submit | CommitPhase::WaitData)
        );
        u64::from(self.running.is_some()) + u64::from(committing)
    }

    /// `t_updates` of the running transaction.
    pub fn t_updates(&self) -> usize {
        self.holders.len()
    }
}

impl Machine {
    /// `jiffies` now, counted as the kernel counts it (from `INITIAL_JIFFIES`; the block
    /// layer's batching compares only differences and uses [`Machine::jiffies`]).
    fn kernel_jiffies(&self) -> u64 {
        initial_jiffies(self.hz()) + self.clock.now / self.clock.jiffy
    }

    fn hz(&self) -> u64 {
        crate::sim::SEC / self.clock.jiffy
    }

    /// The CPU an actor runs on (the commit timer's skew): tasks' own, kernel threads' 0.
    fn actor_cpu(&self, actor: Actor) -> u64 {
        match actor {
            Actor::Task(t) => self.tasks[t].cpu as u64,
            _ => 0,
        }
    }

    /// Whether `actor` holds a handle on mount `m`'s running transaction.
    pub fn holds_handle(&self, actor: Actor, m: usize) -> bool {
        self.vfs.mounts[m].journal.holders.contains(&actor)
    }

    /// `journal_start()` → `start_this_handle()` for `actor` on mount `m`. `false`: the running
    /// transaction is `T_LOCKED` and the actor now sleeps on `j_wait_transaction_locked` (woken
    /// at the commit's `T_FLUSH`; it must call again). A mount without a journal always succeeds.
    pub fn journal_start(&mut self, actor: Actor, m: usize) -> bool {
        if !self.vfs.mounts[m].journalled || self.holds_handle(actor, m) {
            return true;
        }
        let j = &self.vfs.mounts[m].journal;
        if j.running.is_none() || j.transaction_allocators.contains(&actor) {
            if !self.alloc_transaction(actor, m) {
                return false;
            }
            if self.vfs.mounts[m].journal.running.is_none() {
                self.jbd2_get_transaction(m, actor);
            } else {
                // Another handle started one meanwhile: `kfree(new_transaction)`.
                self.slab_free(CacheId::Transaction, 1, None, 0);
            }
        }
        let now = self.clock.now;
        let j = &mut self.vfs.mounts[m].journal;
        let txn = j.running.as_mut().expect("a running transaction");
        if txn.locked {
            if !j.locked_waiters.iter().any(|&(a, _)| a == actor) {
                j.locked_waiters.push((actor, now));
                j.stats.handle_waits += 1;
            }
            self.bump_gen(actor);
            return false;
        }
        txn.handles += 1;
        j.stats.handles += 1;
        j.holders.push(actor);
        true
    }

    /// `alloc_transaction:` in `start_this_handle()` — `kzalloc(sizeof(*new_transaction),
    /// GFP_NOFS|__GFP_NOFAIL)` when no transaction runs (2.6.32 fs/jbd2/transaction.c:104-107;
    /// jbd the same; from 2.6.39 `kmem_cache_alloc(transaction_cache, GFP_NOFS)` retried after
    /// `congestion_wait(HZ/50)` when it fails, the same loop for an order-0 page) by the
    /// allocating thread of `actor`. An order-0 `GFP_NOFS` allocation retries until it succeeds
    /// in every modelled profile, so `__GFP_NOFAIL` adds nothing here. `false`: it sleeps in
    /// the allocator, holding no handle yet.
    fn alloc_transaction(&mut self, actor: Actor, m: usize) -> bool {
        let t = self.allocating_task(actor);
        if !self.slab_alloc(t, CacheId::Transaction, 1, crate::mm::gfp::GFP_NOFS) {
            let waiting = &mut self.vfs.mounts[m].journal.transaction_allocators;
            if !waiting.contains(&actor) {
                waiting.push(actor);
            }
            return false;
        }
        let waiting = &mut self.vfs.mounts[m].journal.transaction_allocators;
        waiting.retain(|&a| a != actor);
        true
    }

    /// `jbd2_get_transaction()`: a new running transaction, its `t_expires` and its commit
    /// timer; kjournald is woken by the timer (if it is not busy committing: it looks at the
    /// running transaction when the commit in progress ends).
    fn jbd2_get_transaction(&mut self, m: usize, actor: Actor) {
        let hz = self.hz();
        let now_j = self.kernel_jiffies();
        let interval_j = self.vfs.mounts[m].spec.commit_interval_ns / self.clock.jiffy;
        let expires_j = now_j + interval_j;
        let timer_j = round_jiffies_up(expires_j, now_j, hz, self.actor_cpu(actor));
        let timer_at = self.clock.now + (timer_j - now_j) * self.clock.jiffy;
        let j = &mut self.vfs.mounts[m].journal;
        j.running = Some(Transaction {
            tid: j.next_tid,
            locked: false,
            expires_j,
            timer_at,
            locked_at: 0,
            handles: 0,
            metadata: false,
        });
        j.next_tid = j.next_tid.wrapping_add(1);
        j.commit_request = false;
        if j.commit.is_none() {
            self.schedule(timer_at, Actor::Journal(m));
        }
    }

    /// `journal_stop()`: `t_updates--`; the last handle of a locked transaction wakes the
    /// commit; a handle stopped at or after `t_expires` asks for the commit now.
    pub fn journal_stop(&mut self, actor: Actor, m: usize) {
        let now_j = self.kernel_jiffies();
        let j = &mut self.vfs.mounts[m].journal;
        let Some(pos) = j.holders.iter().position(|&a| a == actor) else {
            return;
        };
        j.holders.swap_remove(pos);
        let txn = j.running.as_ref().expect("a handle without a transaction");
        let wake_commit = j.holders.is_empty() && j.commit == Some(CommitPhase::WaitUpdates);
        let expired = !txn.locked && now_j >= txn.expires_j && !j.commit_request;
        if expired {
            j.commit_request = true;
        }
        if wake_commit || expired && j.commit.is_none() {
            self.schedule(self.clock.now, Actor::Journal(m));
        }
    }

    /// `do_get_write_access()` for the block-allocation metadata a handle on mount `m` is about
    /// to modify — its block bitmap, group descriptor and inode block ([`METADATA_BUFFERS`]) —
    /// by task `t` (the allocating thread's context). While the committing transaction still
    /// holds them (a commit past `T_FLUSH` whose transaction modified them), the running
    /// transaction's first handle to touch them makes their frozen copies, `jbd2_alloc(size,
    /// GFP_NOFS)`, one page each for 4 KiB blocks (2.6.32 fs/jbd2/transaction.c
    /// `do_get_write_access()` :681; jbd's `jbd_alloc` the same), freed when the commit has
    /// written the buffers. `false`: `t` sleeps in the allocator, holding its handle (call
    /// again).
    pub fn journal_get_write_access(&mut self, m: usize, t: usize) -> bool {
        if !self.vfs.mounts[m].journalled {
            return true;
        }
        let j = &self.vfs.mounts[m].journal;
        let writing = matches!(j.commit, Some(CommitPhase::Submit | CommitPhase::WaitData));
        if writing && j.committing_metadata && j.frozen == 0 {
            while self.vfs.mounts[m].journal.frozen_loading < METADATA_BUFFERS {
                if !self.slab_alloc(t, CacheId::FsMetadata, 1, crate::mm::gfp::GFP_NOFS) {
                    return false;
                }
                self.vfs.mounts[m].journal.frozen_loading += 1;
            }
            let j = &mut self.vfs.mounts[m].journal;
            j.frozen = std::mem::take(&mut j.frozen_loading);
            j.stats.frozen_copies += j.frozen;
        }
        if let Some(txn) = self.vfs.mounts[m].journal.running.as_mut() {
            txn.metadata = true;
        }
        true
    }

    /// `journal_get_undo_access()` for the block bitmap of `group` on mount `m` by task `t`
    /// (ext3's allocator, `mm/ext3_balloc.rs`): the running transaction's first allocation in
    /// the group copies the bitmap out, `b_committed_data = jbd_alloc(size, GFP_NOFS)` (2.6.32
    /// fs/jbd/transaction.c `journal_get_undo_access()`, a page per 4 KiB block) — unless the
    /// committing transaction's copy still exists, which `journal_get_undo_access()` finds
    /// and keeps: the commit's end frees it and makes the frozen copy the new
    /// `b_committed_data` (`journal_commit_transaction()`'s `t_forget` loop), the same pages
    /// as the model's handing the copy over. `false`: `t` sleeps in the allocator, holding its
    /// handle (call again).
    pub fn journal_get_undo_access(&mut self, m: usize, t: usize, group: u64) -> bool {
        let j = &self.vfs.mounts[m].journal;
        if j.undo.contains(&group) {
            return true;
        }
        let made = !j.undo_committing.contains(&group);
        if made && !self.slab_alloc(t, CacheId::FsMetadata, 1, crate::mm::gfp::GFP_NOFS) {
            return false;
        }
        let j = &mut self.vfs.mounts[m].journal;
        j.undo.push(group);
        j.stats.undo_copies += u64::from(made);
        true
    }

    /// The commit's end for the undo copies: the committed transaction's go, except those the
    /// running transaction uses, which become its own (`journal_commit_transaction()`).
    fn journal_undo_done(&mut self, m: usize) {
        let j = &mut self.vfs.mounts[m].journal;
        let committed = std::mem::take(&mut j.undo_committing);
        let freed = committed.iter().filter(|g| !j.undo.contains(g)).count();
        self.slab_free(CacheId::FsMetadata, freed as u64, None, 0);
    }

    /// Drops every handle and handle wait of `actor` (an exiting task).
    pub fn journal_forget(&mut self, actor: Actor) {
        for m in 0..self.vfs.mounts.len() {
            self.vfs.mounts[m]
                .journal
                .locked_waiters
                .retain(|&(a, _)| a != actor);
            self.vfs.mounts[m]
                .journal
                .transaction_allocators
                .retain(|&a| a != actor);
            self.journal_stop(actor, m);
        }
    }

    /// Files page `index` of inode `ino`, just dirtied by a buffered write, with the running
    /// transaction of mount `m` (`journal_dirty_data()` for ext3, `jbd2_journal_file_inode()`
    /// for ext4 without delalloc).
    pub fn journal_file_data(&mut self, m: usize, ino: usize, index: u32) {
        match self.vfs.mounts[m].ordered_data {
            OrderedData::None | OrderedData::DelallocInodes => {}
            OrderedData::Buffers => self.vfs.mounts[m].journal.data_list.push((ino, index)),
            OrderedData::Inodes => self.vfs.inodes[ino].in_transaction = true,
        }
    }

    /// `ext4_jbd2_file_inode()` from `mpage_da_map_blocks()`: ext4 delalloc in `data=ordered`
    /// files the inode whose blocks the flusher just allocated with the running transaction.
    pub fn journal_file_inode(&mut self, m: usize, ino: usize) {
        if self.vfs.mounts[m].ordered_data == OrderedData::DelallocInodes {
            self.vfs.inodes[ino].in_transaction = true;
        }
    }

    /// kjournald / kjournald2: commits the running transaction when its timer fired or a commit
    /// was asked for, one commit at a time, resuming where the last sleep left it.
    pub fn run_journal(&mut self, m: usize) {
        for _ in 0..8 {
            match self.vfs.mounts[m].journal.commit {
                None => {
                    let now_j = self.kernel_jiffies();
                    let j = &self.vfs.mounts[m].journal;
                    let Some(txn) = &j.running else {
                        self.journal_sleep(m, None);
                        return;
                    };
                    if !j.commit_request && now_j < txn.expires_j {
                        let at = txn.timer_at;
                        self.journal_sleep(m, Some(at));
                        return;
                    }
                    self.journal_lock(m);
                }
                Some(CommitPhase::WaitUpdates) => {
                    if self.vfs.mounts[m].journal.t_updates() > 0 {
                        self.journal_sleep(m, None);
                        return;
                    }
                    self.journal_flush(m);
                }
                Some(CommitPhase::Submit) => {
                    if !self.journal_submit_data(m) {
                        return; // asleep in get_request_wait
                    }
                    self.vfs.mounts[m].journal.commit = Some(CommitPhase::WaitData);
                }
                Some(CommitPhase::WaitData) => {
                    if !self.journal_data_waited(m) {
                        self.journal_sleep(m, None);
                        return;
                    }
                    self.vfs.mounts[m].journal.commit = None;
                    // The committed transaction unfiles its data buffers: their journal_heads
                    // go back to the slab.
                    let n = std::mem::take(&mut self.vfs.mounts[m].journal.journal_heads);
                    let g = self.granularity.factor();
                    self.slab_free(CacheId::JournalHead, n * g, None, 0);
                    // Its metadata is written: the next transaction's frozen copies go.
                    let j = &mut self.vfs.mounts[m].journal;
                    j.committing_metadata = false;
                    // (A set still being allocated goes too: its allocator, when it wakes, finds
                    // no commit to copy out for.)
                    let frozen =
                        std::mem::take(&mut j.frozen) + std::mem::take(&mut j.frozen_loading);
                    self.slab_free(CacheId::FsMetadata, frozen, None, 0);
                    self.journal_undo_done(m);
                    // The committed transaction_t is freed (`jbd2_journal_commit_transaction()`
                    // ends with `__jbd2_journal_drop_transaction()` once nothing needs
                    // checkpointing; docs/MODEL.md simplification 2).
                    self.slab_free(CacheId::Transaction, 1, None, 0);
                }
            }
        }
        let cpu = std::mem::take(&mut self.vfs.mounts[m].journal.cpu_ns);
        self.schedule(self.clock.now + cpu.max(cost::LOOP_MIN), Actor::Journal(m));
    }

    /// kjournald sleeps: until `at` (its timer), or until woken.
    fn journal_sleep(&mut self, m: usize, at: Option<SimTime>) {
        match at {
            Some(at) => {
                let cpu = std::mem::take(&mut self.vfs.mounts[m].journal.cpu_ns);
                self.schedule(at.max(self.clock.now + cpu), Actor::Journal(m));
            }
            None => {
                self.bump_gen(Actor::Journal(m));
            }
        }
    }

    /// `t_state = T_LOCKED`: no new handle joins; the commit waits for `t_updates`.
    fn journal_lock(&mut self, m: usize) {
        let now = self.clock.now;
        let j = &mut self.vfs.mounts[m].journal;
        let txn = j.running.as_mut().expect("a running transaction");
        txn.locked = true;
        txn.locked_at = now;
        j.commit_request = false;
        j.commit = Some(CommitPhase::WaitUpdates);
    }

    /// `T_FLUSH`: the transaction stops running (the next handle starts a new one), every
    /// locked-out handle is woken, and the ordered data to write and wait for is gathered.
    fn journal_flush(&mut self, m: usize) {
        let now = self.clock.now;
        let j = &mut self.vfs.mounts[m].journal;
        let txn = j.running.take().expect("a locked transaction");
        j.committing_metadata = txn.metadata;
        // One commit at a time: the last one's end made every copy the transaction uses its own.
        debug_assert!(j.undo_committing.is_empty());
        j.undo_committing = std::mem::take(&mut j.undo);
        let locked = now - txn.locked_at;
        j.stats.commits += 1;
        j.stats.locked_ns += locked;
        j.stats.max_locked_ns = j.stats.max_locked_ns.max(locked);
        let waiters = std::mem::take(&mut j.locked_waiters);
        for &(_, since) in &waiters {
            j.stats.handle_wait_ns += now - since;
        }
        j.commit = Some(CommitPhase::Submit);
        for (a, _) in waiters {
            self.schedule(now, a);
        }
        let mut list = self.journal_commit_list(m);
        if self.vfs.mounts[m].ordered_data == OrderedData::Buffers {
            self.vfs.mounts[m].journal.journal_heads = list.len() as u64;
        }
        list.reverse();
        self.vfs.mounts[m].journal.committing = list;
    }

    /// `journal_submit_data_buffers` (jbd) / `journal_submit_inode_data_buffers` (jbd2): writes
    /// the gathered pages. `false`: asleep on a full request queue.
    fn journal_submit_data(&mut self, m: usize) -> bool {
        let Some(b) = self.vfs.mounts[m].spec.disk else {
            self.vfs.mounts[m].journal.committing.clear();
            return true;
        };
        let buffers = self.vfs.mounts[m].ordered_data == OrderedData::Buffers;
        while let Some(&(ino, idx)) = self.vfs.mounts[m].journal.committing.last() {
            let id = self.vfs.inodes[ino].pages.get(idx);
            if id == NIL || self.vfs.inodes[ino].truncated {
                self.vfs.mounts[m].journal.committing.pop();
                continue;
            }
            let f = self.mem.pages[id as usize].flags;
            if buffers && f & pg::WRITEBACK != 0 {
                // jbd's journal_submit_data_buffers(): a buffer already locked for IO (the
                // flusher's or reclaim's write) goes to t_locked_list, and the commit waits for
                // it (wait_on_buffer) before its journal_head is released (fs/jbd/commit.c
                // 2.6.32).
                let j = &mut self.vfs.mounts[m].journal;
                j.committing.pop();
                j.wait_inodes.push((ino, idx, idx + 1));
                continue;
            }
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
                return false;
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
        true
    }

    /// The commit's data wait: ext3's data IO (`t_locked_list`), or ext4's
    /// `filemap_fdatawait()` over each filed inode: it waits, page by page in index order, for
    /// every page it finds under writeback below the file's `i_size` when the wait began
    /// (`filemap_fdatawait`, mm/filemap.c), including pages submitted while it waits ahead of its
    /// cursor. `false`: it sleeps (woken by the data IO or by the page's `end_page_writeback`).
    fn journal_data_waited(&mut self, m: usize) -> bool {
        if self.vfs.mounts[m].journal.outstanding > 0 {
            return false;
        }
        while let Some(&(ino, from, end)) = self.vfs.mounts[m].journal.wait_inodes.last() {
            let inode = &self.vfs.inodes[ino];
            let end = if end == u32::MAX {
                let size = inode.size_pages;
                let last = self.vfs.mounts[m].journal.wait_inodes.last_mut();
                last.expect("a waited inode").2 = size;
                size
            } else {
                end
            };
            let inode = &self.vfs.inodes[ino];
            let end = end.min(inode.pages.end());
            let found = if inode.truncated || inode.nr_writeback == 0 {
                None
            } else {
                (from.min(end)..end).find(|&i| {
                    let id = inode.pages.get(i);
                    id != NIL && self.mem.pages[id as usize].flags & pg::WRITEBACK != 0
                })
            };
            self.vfs.mounts[m].journal.cpu_ns += cost::SCAN_PAGE;
            match found {
                Some(idx) => {
                    let id = self.vfs.inodes[ino].pages.get(idx);
                    self.mem.pages[id as usize].flags |= pg::JOURNAL_WAIT;
                    let last = self.vfs.mounts[m].journal.wait_inodes.last_mut();
                    last.expect("a waited inode").1 = idx + 1;
                    return false;
                }
                None => {
                    self.vfs.mounts[m].journal.wait_inodes.pop();
                }
            }
        }
        true
    }

    /// `end_page_writeback()` of a page a commit's `filemap_fdatawait` sleeps on: wakes it.
    pub fn journal_page_waited(&mut self, id: PageId) {
        self.mem.pages[id as usize].flags &= !pg::JOURNAL_WAIT;
        let ino = self.mem.pages[id as usize].owner as usize;
        let m = self.vfs.inodes[ino].mount;
        self.schedule(self.clock.now, Actor::Journal(m));
    }

    /// The pages a commit must write: the data list ([`OrderedData::Buffers`]), or every dirty
    /// page of the inodes the transaction holds ([`OrderedData::Inodes`]), whose writeback it
    /// then waits for (with [`OrderedData::DelallocInodes`] every such page is delayed, so
    /// `ext4_writepage` redirties it: the walk costs CPU and writes nothing).
    fn journal_commit_list(&mut self, m: usize) -> Vec<(usize, u32)> {
        match self.vfs.mounts[m].ordered_data {
            OrderedData::None => vec![],
            OrderedData::Buffers => std::mem::take(&mut self.vfs.mounts[m].journal.data_list),
            mode @ (OrderedData::Inodes | OrderedData::DelallocInodes) => {
                let mut out = vec![];
                let mut waits = vec![];
                for ino in 0..self.vfs.inodes.len() {
                    if self.vfs.inodes[ino].mount != m || !self.vfs.inodes[ino].in_transaction {
                        continue;
                    }
                    self.vfs.inodes[ino].in_transaction = false;
                    waits.push((ino, 0, u32::MAX));
                    if mode == OrderedData::DelallocInodes {
                        let walked = self.vfs.inodes[ino].nr_dirty;
                        self.vfs.mounts[m].journal.cpu_ns +=
                            walked * self.granularity.cost(cost::SCAN_PAGE);
                        continue;
                    }
                    let size = self.vfs.inodes[ino].pages.end();
                    let mut i = 0;
                    while let Some(j) = self.vfs.inodes[ino].next_dirty(i, size) {
                        out.push((ino, j));
                        i = j + 1;
                    }
                }
                waits.reverse();
                self.vfs.mounts[m].journal.wait_inodes = waits;
                out
            }
        }
    }

    /// A journal data request completed: its pages' buffers are clean (the pages stay PG_dirty
    /// until `->writepage` finds nothing to write), and a commit waiting for them goes on.
    pub fn journal_data_done(&mut self, m: usize, pages: &[PageId]) {
        for &id in pages {
            let p = &mut self.mem.pages[id as usize];
            p.flags &= !pg::JOURNAL_IO;
            if p.has(pg::DIRTY) {
                p.flags |= pg::BUFFERS_CLEAN;
            }
            self.wake_page_lock_waiters(id);
        }
        let j = &mut self.vfs.mounts[m].journal;
        j.outstanding -= pages.len() as u64;
        if j.outstanding == 0 && j.commit == Some(CommitPhase::WaitData) {
            self.schedule(self.clock.now, Actor::Journal(m));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_commit_timer_rounds_up_to_the_next_whole_second_of_jiffies_even_from_an_exact_one() {
        let hz = 1000;
        let j0 = initial_jiffies(hz);
        // INITIAL_JIFFIES is 296 jiffies past a whole second at HZ=1000.
        assert_eq!(j0 % hz, 296);
        assert_eq!(round_jiffies_up(j0 + 5_000, j0, hz, 0), j0 + 5_704);
        let exact = j0 + 5_704;
        assert_eq!(round_jiffies_up(exact, j0, hz, 0), exact + hz);
        // CPU 1: skewed by 3 jiffies.
        assert_eq!(round_jiffies_up(j0 + 5_000, j0, hz, 1), j0 + 5_701);
    }
}
