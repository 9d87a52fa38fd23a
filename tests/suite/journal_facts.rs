//! jbd (ext3) and jbd2 (ext4): handles, the commit timer, `T_LOCKED` and the commit's data wait
//! (research 13a §2; `fs/jbd2/transaction.c`, `fs/jbd2/commit.c`, `kernel/timer.c` 2.6.32).

use crate::common::*;
use wbsim::fs::jbd::CommitPhase;

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

/// Two ext4 writers confined to an 8 MiB node of a 64 MiB box on a 1 MB/s disk, `commit=1`: the
/// writers' NOFS page-cache allocations sleep in the slow path.
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
        vec![disk(1_000_000)],
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

/// 2.6.32 `__alloc_pages_slowpath()` (mm/page_alloc.c): after a direct-reclaim pass, a
/// `!__GFP_FS` order-0 allocation skips `__alloc_pages_may_oom()`, `congestion_wait(HZ/50)`s and
/// goes back to `rebalance:`, i.e. to direct reclaim; `__alloc_pages_direct_reclaim()` looks at the
/// free lists only `if (likely(*did_some_progress))`, and 2.6.32's `do_try_to_free_pages()`
/// returns `sc->nr_reclaimed` (0) for a pass that freed nothing. ext4's writer allocates its
/// page-cache page and its buffer heads `GFP_NOFS` under its jbd2 handle (`ext4_da_write_begin`,
/// AOP_FLAG_NOFS; `alloc_page_buffers`).
/// On tests/fixtures/straddle.toml with ext4 (a 3 GiB SHM_LOCK'd SGA, no swap, a 902.5 MiB
/// session that frees its memory every cycle) the backup loops there from about 10 s, and so does
/// the flusher when a new block group needs its pages (`ext4_mb_load_buddy`, GFP_NOFS): nothing
/// cleans the delayed pages any more, and at 27.8 s the session's own `__GFP_FS` reclaim meets
/// only them (ext4 refuses) and the OOM killer runs. With 2.6.35's return value (1 when the last
/// priority shrank a zone: 0aeb2339e54, bb21c7ce18e) or 2.6.36's (d1908362ae0) the loops end and
/// the same run survives at 22.6 s. ext3's writer allocates before its handle, with
/// `__GFP_FS`, and the OOM killer runs earlier (the edge there is capacity).
#[test]
fn a_2_6_32_nofs_writer_whose_reclaim_frees_nothing_never_rechecks_the_free_lists() {
    let run = |sets: &[&str]| {
        let mut args = vec![
            "run",
            "tests/fixtures/straddle.toml",
            "--set",
            "scenario.duration=60s",
            "--policy",
            "redirty",
            "--format",
            "json",
        ];
        for s in sets {
            args.extend(["--set", s]);
        }
        crate::support::json_of(&args)["scenarios"][0]["runs"][0].clone()
    };
    let stuck = run(&["mount.backup.fs=ext4"]);
    let outcome = &stuck["outcome"];
    assert_eq!(outcome["kind"], "oom", "{outcome}");
    assert_eq!(outcome["invoker"], "oracle", "{outcome}");
    let counters = &stuck["counters"];
    assert!(
        counters["reclaim_no_progress"].as_u64().unwrap() > 200,
        "{counters}"
    );
    assert!(
        counters["flusher_allocstall"].as_u64().unwrap() > 100,
        "{counters}"
    );
    assert!(
        counters["writepage_refused"].as_u64().unwrap() > 0,
        "{counters}"
    );
    let retried = run(&[
        "mount.backup.fs=ext4",
        "kernel.direct_reclaim_progress=shrunk-a-zone",
    ]);
    assert_eq!(
        retried["outcome"]["kind"], "survived",
        "{}",
        retried["outcome"]
    );
    let ext3 = run(&["mount.backup.fs=ext3"]);
    assert_eq!(ext3["outcome"]["kind"], "oom", "{}", ext3["outcome"]);
}
