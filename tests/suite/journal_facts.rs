//! jbd (ext3) and jbd2 (ext4): handles, the commit timer, `T_LOCKED` and the commit's data wait
//! (research 13a §2; `fs/jbd2/transaction.c`, `fs/jbd2/commit.c`, `kernel/timer.c` 2.6.32).

use crate::common::*;
use wbsim::fs::jbd::CommitPhase;
use wbsim::mm::slab::CacheId;

/// One writer of `bytes` to `fs` at 4 MB/s in 64 KiB `write()`s: a commit every 5 s while it
/// writes, with pages still being dirtied during each.
fn slow_writer(fs: FsType, bytes: u64) -> RunSpec {
    let mut spec = one_writer(Release::V2_6_32, Policy::Redirty, fs, bytes);
    if let TaskKind::StreamWrite(w) = &mut spec.tasks[0].kind {
        w.rate_bytes_per_sec = 4_000_000;
        w.write_bytes = 64 * 1024;
    }
    spec
}

/// `jbd2_get_transaction()` sets `t_expires = jiffies + j_commit_interval` at the first handle
/// and arms the commit timer at `round_jiffies_up(t_expires)`: the next whole second of jiffies,
/// and jiffies start at `INITIAL_JIFFIES` (-300·HZ as a 32-bit value: 296 jiffies past a whole
/// second at HZ=1000). A writer whose only handles are at 2.3 s gets its commit at 7.704 s, not
/// 5 s after boot nor 7.3 s; with no handle there is no commit at all.
#[test]
fn the_commit_timer_fires_on_the_first_whole_second_of_jiffies_after_the_interval_from_the_first_handle(
) {
    for fs in [FsType::Ext3, FsType::Ext4] {
        let mut spec = one_writer(Release::V2_6_32, Policy::Redirty, fs, 64 * 1024);
        spec.tasks[0].start_ns = 2_300 * MSEC;
        let mut m = boot(&spec);
        let mut locked_at = None;
        while step(&mut m, 20 * SEC) {
            let j = &m.vfs.mounts[0].journal;
            if locked_at.is_none() && j.stats.commits > 0 {
                locked_at = Some(m.clock.now);
            }
        }
        assert_eq!(locked_at, Some(7_704 * MSEC), "{fs:?}");
        assert_eq!(m.vfs.mounts[0].journal.stats.commits, 1, "{fs:?}");

        // No writer: no transaction, no commit.
        spec.tasks.clear();
        let mut idle = boot(&spec);
        while step(&mut idle, 20 * SEC) {}
        assert_eq!(idle.vfs.mounts[0].journal.stats.commits, 0, "{fs:?}");
    }
}

/// Two ext4 writers confined to an 8 MiB node of a 64 MiB box on a 4 MB/s disk, `commit=1`: the
/// writers' NOFS page-cache allocations sleep in the slow path. (On a 1 MB/s disk the first
/// commit's data wait ends at the very completion that ends the writers' `congestion_wait()`,
/// so the second commit locks and unlocks at one instant; from 2 to 10 MB/s commits stay
/// `T_LOCKED` 100–270 ms behind a writer in the allocator.)
fn two_starved_writers(fs: FsType) -> RunSpec {
    let mut a = writer(64 * MIB);
    a.cpuset_nodes = Some(vec![0]);
    let mut b = writer(64 * MIB);
    b.name = "second".into();
    b.cpuset_nodes = Some(vec![0]);
    b.start_ns = 200 * MSEC;
    let mut mnt = mount(fs);
    mnt.commit_interval_ns = SEC;
    let mut spec = run_spec(
        Release::V2_6_32,
        Policy::Redirty,
        machine(&[8 * MIB, 56 * MIB]),
        vec![disk(4_000_000)],
        vec![mnt],
        vec![a, b],
    );
    spec.limits.sim_time_ns = 20 * SEC;
    spec
}

/// `ext4_da_write_begin()` starts its handle and then allocates the page NOFS while holding it
/// (K32 fs/ext4/inode.c:3065-3074). A commit that locks the transaction then waits for that
/// handle (`t_updates`), and while it is `T_LOCKED` no handle starts: the flusher's next extent
/// (`ext4_da_writepages`) and the other writer's `write_begin` sleep in `start_this_handle()`.
#[test]
fn a_commit_tick_while_an_ext4_writer_holds_a_handle_in_the_allocator_locks_out_the_flusher_and_other_writers(
) {
    let spec = two_starved_writers(FsType::Ext4);
    let mut m = boot(&spec);
    let mut locked_with_writer_in_allocator = 0;
    let mut locked_since: Option<(u64, u64, u64)> = None; // (handles, done of the other, at)
    while step(&mut m, spec.limits.sim_time_ns) {
        let j = &m.vfs.mounts[0].journal;
        let locked = j.running.as_ref().is_some_and(|t| t.locked);
        if !locked {
            locked_since = None;
            continue;
        }
        match locked_since {
            None => {
                for t in 0..2 {
                    let in_alloc = m.tasks[t].alloc.is_some();
                    if in_alloc && j.holders.contains(&Actor::Task(t)) {
                        locked_with_writer_in_allocator += 1;
                        // The other writer may finish the one page it already holds a handle
                        // for; it starts no new one.
                        let held = j.holders.contains(&Actor::Task(1 - t));
                        let other = m.tasks[1 - t].done_bytes + if held { PAGE } else { 0 };
                        locked_since = Some((j.stats.handles, other, t as u64));
                    }
                }
            }
            Some((handles, other_done, t)) => {
                assert_eq!(
                    j.stats.handles, handles,
                    "a handle started on a locked transaction at {}",
                    m.clock.now
                );
                assert!(m.tasks[1 - t as usize].done_bytes <= other_done);
            }
        }
    }
    let s = m.vfs.mounts[0].journal.stats;
    assert!(
        locked_with_writer_in_allocator > 0,
        "no commit locked while a writer slept in the allocator holding its handle: {s:?}"
    );
    assert!(s.handle_waits > 0 && s.max_locked_ns > 0, "{s:?}");
}

/// `ext3_write_begin()` allocates its page before `ext3_journal_start()` (K32
/// fs/ext3/inode.c:1174-1179): the same starved writers never hold a handle while their
/// allocation sleeps, so every commit passes `T_LOCKED` at once and no handle ever waits.
#[test]
fn an_ext3_writer_in_the_allocator_holds_no_handle_so_its_commits_lock_for_no_time() {
    let spec = two_starved_writers(FsType::Ext3);
    let mut m = boot(&spec);
    let mut slept_in_allocator = false;
    while step(&mut m, spec.limits.sim_time_ns) {
        for t in 0..2 {
            if m.tasks[t].alloc.is_some() {
                slept_in_allocator = true;
                assert!(!m.vfs.mounts[0].journal.holders.contains(&Actor::Task(t)));
            }
        }
    }
    let s = m.vfs.mounts[0].journal.stats;
    assert!(slept_in_allocator);
    assert!(s.commits > 0, "{s:?}");
    assert_eq!((s.max_locked_ns, s.handle_waits), (0, 0), "{s:?}");
}

/// jbd2's ordered commit files the inodes the flusher allocated blocks for and ends with
/// `journal_finish_inode_data_buffers()` → `filemap_fdatawait()` over each file up to its
/// `i_size` at the call (K32 fs/jbd2/commit.c:274-301, mm/filemap.c:341-350): every page of the
/// file below that size that was under writeback when the wait began has completed when it ends.
#[test]
fn an_ext4_ordered_commit_waits_for_all_writeback_of_the_inodes_it_filed() {
    let mut spec = one_writer(Release::V2_6_32, Policy::Redirty, FsType::Ext4, 48 * MIB);
    spec.disks[0].bandwidth_bytes_per_sec = 4_000_000;
    spec.mounts[0].commit_interval_ns = SEC;
    spec.limits.sim_time_ns = 30 * SEC;
    let mut m = boot(&spec);
    let (mut waits, mut was_waiting, mut waited_ns, mut since) = (0, false, 0, 0);
    let mut at_start: Vec<PageId> = vec![];
    while step(&mut m, spec.limits.sim_time_ns) {
        let waiting = m.vfs.mounts[0].journal.commit == Some(CommitPhase::WaitData);
        if waiting && !was_waiting {
            since = m.clock.now;
            let inode = &m.vfs.inodes[0];
            at_start = (0..inode.size_pages)
                .map(|i| inode.pages.get(i))
                .filter(|&id| id != NIL && m.mem.pages[id as usize].flags & pg::WRITEBACK != 0)
                .collect();
        }
        if was_waiting && !waiting {
            waits += 1;
            waited_ns += m.clock.now - since;
            for &id in &at_start {
                assert!(
                    m.mem.pages[id as usize].flags & pg::WRITEBACK == 0
                        || m.mem.pages[id as usize].owner != 0,
                    "the commit's data wait ended at {} before page {id} completed",
                    m.clock.now
                );
            }
        }
        was_waiting = waiting;
    }
    assert!(waits > 0 && waited_ns > 0, "{waits} waits, {waited_ns} ns");
}

/// jbd's `do_get_write_access()` (2.6.32 fs/jbd/transaction.c; jbd2's :681 the same): a handle
/// that modifies a metadata buffer the committing transaction still holds makes a frozen copy
/// of it, `jbd_alloc(size, GFP_NOFS)` (a page per 4 KiB buffer), kept until the commit has
/// written the buffer. An ext3 writer allocates blocks at `write_begin` under its handle
/// (bitmap, group descriptor, inode block): while the commit of its previous transaction writes,
/// its first page of the new transaction copies the three out, once per commit; they are freed
/// when the commit ends.
#[test]
fn a_handle_that_modifies_metadata_a_commit_still_writes_makes_frozen_copies_until_the_commit_ends()
{
    let spec = slow_writer(FsType::Ext3, 64 * MIB);
    let mut m = boot(&spec);
    let frozen = |m: &Machine| m.vfs.mounts[0].journal.frozen;
    // Beside the frozen copies the cache holds the group's bitmap and its undo copy
    // (`ext3_bitmaps_are_copied_out_once_per_transaction_that_allocates_until_its_commit_ends`).
    let metadata_pages = |m: &Machine| {
        let mt = &m.vfs.mounts[0];
        let others = mt.mb_groups.len() as u64 + mt.journal.undo_pages();
        m.slab.caches[CacheId::FsMetadata as usize].objects - others
    };
    while frozen(&m) == 0 {
        assert!(step(&mut m, 20 * SEC), "no frozen copy by 20 s");
    }
    let j = &m.vfs.mounts[0].journal;
    assert!(matches!(
        j.commit,
        Some(CommitPhase::Submit | CommitPhase::WaitData)
    ));
    assert_eq!(frozen(&m), 3);
    assert_eq!(metadata_pages(&m), 3);
    let commits = j.stats.commits;
    while m.vfs.mounts[0].journal.commit.is_some() {
        assert!(step(&mut m, 30 * SEC));
        assert!(frozen(&m) <= 3, "one set per commit");
    }
    assert_eq!(m.vfs.mounts[0].journal.stats.commits, commits);
    assert_eq!(frozen(&m), 0);
    assert_eq!(metadata_pages(&m), 0, "freed when the commit ended");
    assert_eq!(m.vfs.mounts[0].journal.stats.frozen_copies, 3);
}

/// `start_this_handle()` allocates the transaction it is about to start when none runs:
/// `kzalloc(sizeof(*new_transaction), GFP_NOFS|__GFP_NOFAIL)` (2.6.32 fs/jbd2/transaction.c
/// :104-107, jbd the same), a `kmalloc-256` object taken by the allocating thread; it lives
/// until its commit ends. A writer's first handle makes the first (one slab page, ext3 and
/// ext4); while an ext3 commit past `T_FLUSH` writes its ordered data, the writer's next handle
/// starts a second; the commit's end frees one.
#[test]
fn the_handle_that_starts_a_transaction_allocates_it_and_its_commit_frees_it() {
    for fs in [FsType::Ext3, FsType::Ext4] {
        let spec = slow_writer(fs, 64 * MIB);
        let mut m = boot(&spec);
        let cache = |m: &Machine| {
            let c = &m.slab.caches[CacheId::Transaction as usize];
            (c.objects, c.pages.len())
        };
        assert_eq!(cache(&m), (0, 0), "{fs:?}");
        while m.vfs.mounts[0].journal.running.is_none() {
            assert!(step(&mut m, 20 * SEC), "{fs:?}: no transaction by 20 s");
        }
        assert_eq!(cache(&m), (1, 1), "{fs:?}");
        if fs == FsType::Ext4 {
            continue; // its commits write no ordered data: no handle starts during one
        }
        let both = |m: &Machine| {
            let j = &m.vfs.mounts[0].journal;
            j.running.is_some()
                && matches!(j.commit, Some(CommitPhase::Submit | CommitPhase::WaitData))
        };
        while !both(&m) {
            assert!(
                step(&mut m, 30 * SEC),
                "{fs:?}: no handle during a commit by 30 s"
            );
        }
        assert_eq!(
            cache(&m),
            (2, 1),
            "{fs:?}: two transaction_t in one slab page"
        );
        while m.vfs.mounts[0].journal.commit.is_some() {
            assert!(step(&mut m, 40 * SEC), "{fs:?}");
        }
        assert_eq!(cache(&m).0, 1, "{fs:?}: the committed one is freed");
    }
}

/// ext3's allocator takes the group's block bitmap with `journal_get_undo_access()`
/// (`ext3_try_to_allocate_with_rsv()`, 2.6.32 fs/ext3/balloc.c), which copies it out the first
/// time a transaction allocates in the group: `b_committed_data = jbd_alloc(size, GFP_NOFS)`,
/// one page, beside the bitmap's own page (`read_block_bitmap()`). While a commit holds a copy
/// the next transaction uses it (no second page); when the commit ends the copy stays with the
/// transaction that uses it, or goes if none does. ext4's mballoc makes no undo copy.
#[test]
fn ext3_bitmaps_are_copied_out_once_per_transaction_that_allocates_until_its_commit_ends() {
    let metadata = |m: &Machine| m.slab.caches[CacheId::FsMetadata as usize].objects;
    // 8 MiB at 4 MB/s: done in about 2 s, well before the first commit at about 5 s.
    let spec = slow_writer(FsType::Ext3, 8 * MIB);
    let mut m = boot(&spec);
    // The first page written: its handle read the group's bitmap and took its undo copy.
    run_until(&mut m, 2 * SEC, |m| m.tasks[0].done_bytes > 0);
    let j = &m.vfs.mounts[0].journal;
    assert_eq!((j.undo_pages(), j.stats.undo_copies), (1, 1));
    assert_eq!(m.vfs.mounts[0].mb_groups.len(), 1);
    assert_eq!(metadata(&m), 2, "the bitmap and its undo copy");
    run_until(&mut m, 20 * SEC, |m| {
        let j = &m.vfs.mounts[0].journal;
        j.stats.commits > 0 && j.commit.is_none()
    });
    let j = &m.vfs.mounts[0].journal;
    assert_eq!(
        (j.undo_pages(), j.stats.undo_copies),
        (0, 1),
        "freed by the commit"
    );
    assert_eq!(metadata(&m), 1, "the bitmap stays");

    // A writer still allocating during the commit uses the committing transaction's copy.
    let spec = slow_writer(FsType::Ext3, 64 * MIB);
    let mut m = boot(&spec);
    run_until(&mut m, 20 * SEC, |m| {
        let j = &m.vfs.mounts[0].journal;
        j.commit.is_some() && !j.undo_committing.is_empty() && !j.undo.is_empty()
    });
    let j = &m.vfs.mounts[0].journal;
    assert_eq!(j.undo, j.undo_committing, "shared, not copied again");
    assert_eq!((j.undo_pages(), j.stats.undo_copies), (1, 1));
    run_until(&mut m, 20 * SEC, |m| {
        m.vfs.mounts[0].journal.commit.is_none()
    });
    let j = &m.vfs.mounts[0].journal;
    assert!(
        !j.undo.is_empty() && j.undo_committing.is_empty(),
        "handed over at the commit's end"
    );
    assert_eq!((j.undo_pages(), j.stats.undo_copies), (1, 1));

    // ext4 (mballoc) makes none.
    let mut spec = one_writer(Release::V2_6_32, Policy::Redirty, FsType::Ext4, 8 * MIB);
    spec.limits.sim_time_ns = 20 * SEC;
    let mut m = boot(&spec);
    while step(&mut m, 20 * SEC) {}
    assert_eq!(m.vfs.mounts[0].journal.stats.undo_copies, 0);
}
