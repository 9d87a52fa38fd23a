//! Kernel facts about the memory a workload holds: hot working sets (`mm/hot.rs`).

use crate::common::*;
use wbsim::spec::WorkingSet;

/// A 128 MiB node with 256 MiB of swap: a 48 MiB database (`touch` its working set, or cold)
/// faults in first; at 1 s a 100 MiB anon hog (20 MiB/s) pushes the box into swap. Runs until
/// the hog has faulted everything and the disk is idle, or an OOM kill.
fn db_then_hog(release: Release, touch: Option<WorkingSet>) -> Machine {
    db_then_hog_on(release, touch, 100_000_000)
}

/// [`db_then_hog`] with a swap disk of `bandwidth` bytes/s.
fn db_then_hog_on(release: Release, touch: Option<WorkingSet>, bandwidth: u64) -> Machine {
    then_hog(release, hot_db(touch), bandwidth)
}

/// The 48 MiB database, its working set touched as `touch` says.
fn hot_db(touch: Option<WorkingSet>) -> TaskSpec {
    let mut db = anon("db", 48 * MIB);
    if let TaskKind::Anon(a) = &mut db.kind {
        a.working_set = touch;
    }
    db
}

/// A 48 MiB SGA held by `method`, all of it touched every `touch_interval`, then the hog.
fn sga_then_hog(release: Release, method: PinMethod, touch_interval: u64) -> Machine {
    let sga = task(
        "sga",
        TaskKind::Pin(Pin {
            bytes: 48 * MIB,
            method,
            working_set: Some(WorkingSet {
                touch_interval_ns: touch_interval,
                hot_bytes: 48 * MIB,
            }),
        }),
    );
    then_hog(release, sga, 100_000_000)
}

/// `first` on the 128 MiB node with 256 MiB of swap on a disk of `bandwidth` bytes/s, and at
/// 1 s the 100 MiB anon hog (20 MiB/s).
fn then_hog(release: Release, first: TaskSpec, bandwidth: u64) -> Machine {
    then_hog_with(release, first, bandwidth, |_| {})
}

/// [`then_hog`] with `tweak` applied to the run's spec (a switch set by hand).
fn then_hog_with(
    release: Release,
    first: TaskSpec,
    bandwidth: u64,
    tweak: impl FnOnce(&mut wbsim::spec::RunSpec),
) -> Machine {
    let mut spec = then_hog_spec(release, first, bandwidth);
    tweak(&mut spec);
    let mut m = boot(&spec);
    run_until(&mut m, 60 * SEC, |m| {
        m.run.outcome.is_some() || (m.tasks[1].done_bytes >= 100 * MIB && disk_idle(m))
    });
    m
}

/// The run spec of [`then_hog`].
fn then_hog_spec(release: Release, first: TaskSpec, bandwidth: u64) -> wbsim::spec::RunSpec {
    let mut mm = machine(&[128 * MIB]);
    mm.swap_bytes = 256 * MIB;
    mm.swap_disk = Some(0);
    let mut hog = anon("hog", 100 * MIB);
    if let TaskKind::Anon(a) = &mut hog.kind {
        a.rate_bytes_per_sec = 20 * MIB;
    }
    hog.start_ns = SEC;
    run_spec(
        release,
        Policy::Redirty,
        mm,
        vec![disk(bandwidth)],
        vec![mount(FsType::Ext3)],
        vec![first, hog],
    )
}

fn swapped_out(m: &Machine, t: usize) -> u64 {
    m.tasks[t].swap_ents
}

/// 2.6.32–2.6.33: `shrink_active_list()` deactivates every anon page, referenced or not, but
/// `shrink_page_list()` re-activates a mapped page whose pte is young again
/// (`page_referenced()` && `page_mapping_inuse()`, mm/vmscan.c 2.6.32); 2.6.34+
/// `page_check_references()` activates an anon page with a young pte. Either way a page touched
/// more often than it stays on the inactive list is not swapped, and a page touched only at its
/// fault is, oldest first. (Every 10 ms is not safe here: reclaim can deactivate a page and
/// reach it at the inactive tail within a few ms, and the sampled Accessed bit misses it.)
/// 2.6.33 stands for the `page_referenced()` rule: 2.6.32 goes OOM in this run (next test).
#[test]
fn an_anon_working_set_touched_every_1ms_is_activated_not_swapped_while_a_cold_one_is_swapped() {
    let hot = Some(WorkingSet {
        touch_interval_ns: MSEC,
        hot_bytes: 48 * MIB,
    });
    for release in [Release::V2_6_33, Release::V2_6_34] {
        let cold = db_then_hog(release, None);
        let warm = db_then_hog(release, hot);
        let db_pages = 48 * MIB / PAGE;
        assert!(
            swapped_out(&cold, 0) > db_pages / 4,
            "{release:?}: a cold database lost only {} of {db_pages} pages to swap",
            swapped_out(&cold, 0)
        );
        assert!(
            swapped_out(&warm, 0) < db_pages / 50,
            "{release:?}: a hot database lost {} of {db_pages} pages to swap",
            swapped_out(&warm, 0)
        );
        assert!(
            swapped_out(&warm, 1) > swapped_out(&warm, 0),
            "{release:?}: the hog did not take the swapping over"
        );
        assert!(warm.stats.vm_events.pgactivate > cold.stats.vm_events.pgactivate + db_pages / 4);
    }
}

/// The hot database faulted first sits at the tail of the active anon list (2.6.32 puts a new
/// anon page on the active list, `page_add_new_anon_rmap()`), 12 288 pages in front of the
/// hog's. Every page a reclaim pass deactivates from there is touched again within 1 ms and
/// re-activated, and a page of it swapped out is touched while under its write and mapped back
/// (`reuse_swap_page()`), so nothing is freed until the deactivations reach the hog's pages.
/// A 2.6.32 kswapd naps `congestion_wait(HZ/10)` between its priorities below 10 and scans
/// `list >> priority` at each, so it is far from them when the hog's first direct-reclaim pass
/// runs its 13 priorities without freeing a page: `do_try_to_free_pages()` returns 0 and the
/// box goes OOM with 250 MiB of swap free. 2.6.33's kswapd skips the nap while a zone is
/// under min (bb3ab596832), reaches the hog's pages in time and swaps them.
#[test]
fn a_2_6_32_kswapd_napping_below_min_leaves_a_hot_database_in_front_of_the_hog_and_the_box_goes_oom_with_swap_free(
) {
    let hot = Some(WorkingSet {
        touch_interval_ns: MSEC,
        hot_bytes: 48 * MIB,
    });
    let old = db_then_hog(Release::V2_6_32, hot);
    let (victim, invoker, _) = oom_victim(&old);
    assert_eq!((victim.as_str(), invoker.as_str()), ("hog", "hog"));
    assert_eq!(swapped_out(&old, 1), 0, "the hog's pages were reached");
    assert!(old.mem.swap.free > 200 * MIB / PAGE, "swap filled up");
    let new = db_then_hog(Release::V2_6_33, hot);
    assert!(new.run.outcome.is_none(), "2.6.33: {:?}", new.run.outcome);
    assert!(swapped_out(&new, 1) > 20 * MIB / PAGE);
    // The switch alone: 2.6.32 with 2.6.33's kswapd survives.
    let skip = then_hog_with(Release::V2_6_32, hot_db(hot), 100_000_000, |spec| {
        spec.kernel.switches.kswapd_congestion_wait =
            wbsim::kernel::KswapdCongestionWait::SkipUnderMin;
    });
    assert!(skip.run.outcome.is_none(), "{:?}", skip.run.outcome);
}

/// Only the first `hot_size` bytes are swept: the rest of the region is as cold as an untouched
/// one, and reclaim swaps it.
#[test]
fn pages_outside_the_hot_size_are_swapped_like_cold_memory() {
    let part = Some(WorkingSet {
        touch_interval_ns: MSEC,
        hot_bytes: 8 * MIB,
    });
    let m = db_then_hog(Release::V2_6_34, part);
    let db_pages = 48 * MIB / PAGE;
    let hot_pages = 8 * MIB / PAGE;
    assert!(
        swapped_out(&m, 0) > db_pages / 4,
        "the cold part lost only {} pages",
        swapped_out(&m, 0)
    );
    let resident = m.tasks[0].anon.len() as u64;
    assert!(
        resident + hot_pages / 100 >= hot_pages,
        "only {resident} pages resident of a {hot_pages}-page working set"
    );
}

/// `page_evictable()` comes before the reference test in `shrink_page_list()` and
/// `shrink_active_list()` (mm/vmscan.c 2.6.32: `putback_lru_page` of a `mapping_unevictable`
/// page): an SHM_LOCK'ed segment is culled to the unevictable list the first time reclaim meets
/// it, however hot (2.6.32 and later); a plain shm segment as hot is kept on the anon lists by
/// its references.
#[test]
fn an_shm_lock_segment_is_culled_on_first_contact_however_hot_while_a_hot_plain_segment_stays_evictable(
) {
    for method in [PinMethod::ShmLock, PinMethod::Shm] {
        let m = sga_then_hog(Release::V2_6_34, method, MSEC);
        let seg = &m.vfs.segments[0];
        let culled = m.stats.vm_events.unevictable_pgs_culled;
        match method {
            PinMethod::ShmLock => {
                assert!(culled > 0, "reclaim never met the locked segment");
                assert_eq!(seg.swapped, 0);
            }
            _ => {
                assert_eq!(culled, 0);
                assert!(
                    seg.swapped < 48 * MIB / PAGE / 100,
                    "a hot plain segment lost {} pages to swap",
                    seg.swapped
                );
            }
        }
    }
}

/// A hot page that reclaim swaps out anyway (touched every second, less often than it stays on
/// the inactive list) is touched again at its next sweep: `do_swap_page()` reads it back
/// (`swapin_readahead()`: the fault's cluster of 8 slots, `swap_readpage()`: PSWPIN; one
/// PGMAJFAULT per read fault) and maps it, and `reuse_swap_page()` frees its slot (a write
/// touch). The cold database's swapped pages are never read.
#[test]
fn a_hot_page_swapped_out_anyway_is_faulted_back_from_swap_at_its_next_touch() {
    let slow = Some(WorkingSet {
        touch_interval_ns: SEC,
        hot_bytes: 48 * MIB,
    });
    let cold = db_then_hog(Release::V2_6_32, None);
    let warm = db_then_hog(Release::V2_6_32, slow);
    let e = &warm.stats.vm_events;
    assert_eq!(
        cold.stats.vm_events.pswpin, 0,
        "cold memory swapped out was read"
    );
    assert!(
        e.pgmajfault > 0 && e.pswpin > e.pgmajfault && e.pswpin <= 8 * e.pgmajfault,
        "{} major faults read {} pages",
        e.pgmajfault,
        e.pswpin
    );
    // Every page of the database is resident or in swap, none lost or counted twice.
    let db = &warm.tasks[0];
    assert_eq!(db.anon.len() as u64 + db.swap_ents, 48 * MIB / PAGE);
    // The pages read back hold no slot: swap in use is the two tasks' swap entries and the
    // swap cache pages still mapped.
    let mapped_swap_cache = warm
        .mem
        .pages
        .iter()
        .filter(|p| {
            p.flags & (pg::ANON | pg::SWAPCACHE | pg::MAPPED)
                == pg::ANON | pg::SWAPCACHE | pg::MAPPED
        })
        .count() as u64;
    assert_eq!(
        warm.mem.swap.total - warm.mem.swap.free,
        db.swap_ents + warm.tasks[1].swap_ents + mapped_swap_cache
    );
}

/// 2.6.32's swap token (`mm/thrash.c`): the hot database, the only task whose swap-ins are
/// major faults, takes the token at its first one (`grab_swap_token()` in `do_swap_page()`),
/// and while it waits for its reads, the hog's reclaim and kswapd's count every page it maps as
/// referenced (`page_referenced_one()`) and activate it instead of swapping it out. So at most
/// it has fewer pages in swap than with the token removed (3.5): 2 510 against 4 386 at
/// 100 MB/s under CFQ. (By the hog's end both have read every page back: CFQ serves the reads
/// ahead of the queued swap-out, docs/MODEL.md 22.)
#[test]
fn the_swap_token_shields_the_pages_of_a_thrashing_task_while_it_waits_for_its_swap_ins() {
    let hot = hot_db(Some(WorkingSet {
        touch_interval_ns: SEC,
        hot_bytes: 48 * MIB,
    }));
    let mut with = boot(&then_hog_spec(Release::V2_6_32, hot.clone(), 100_000_000));
    let mut spec = then_hog_spec(Release::V2_6_32, hot, 100_000_000);
    spec.kernel.switches.swap_token = wbsim::kernel::SwapToken::Removed;
    let mut without = boot(&spec);
    let peak_with = peak_swapped(&mut with);
    let peak_without = peak_swapped(&mut without);
    assert!(
        with.stats.vm_events.pgmajfault > 0,
        "the database never faulted"
    );
    assert!(
        with.tasks[0].token.priority > 0 && without.tasks[0].token.priority == 0,
        "only the token's database contended for it"
    );
    assert!(
        peak_with < peak_without,
        "with the token the database had at most {peak_with} pages in swap; without, \
         {peak_without}"
    );
}

/// The most pages the database (task 0) had in swap at once, until the hog has written its
/// 100 MiB and the disk is idle (60 s at most).
fn peak_swapped(m: &mut Machine) -> u64 {
    let mut peak = 0;
    while step(m, 60 * SEC) && m.run.outcome.is_none() {
        peak = peak.max(m.tasks[0].swap_ents);
        if m.tasks[1].done_bytes >= 100 * MIB && disk_idle(m) {
            break;
        }
    }
    peak
}

/// A hot page of a plain shm segment that reclaim swaps out anyway is faulted back into its
/// place by the segment's owner at its next touch (`shmem_getpage()` → `shmem_swapin()`: a
/// major fault and the cluster's reads; `add_to_page_cache_locked()` at its index,
/// `delete_from_swap_cache()`, `swap_free()`).
#[test]
fn a_hot_shm_page_swapped_out_anyway_is_faulted_back_into_its_segment_at_its_next_touch() {
    let m = sga_then_hog(Release::V2_6_32, PinMethod::Shm, SEC);
    let e = &m.stats.vm_events;
    assert!(
        e.pgmajfault > 0 && e.pswpin > e.pgmajfault && e.pswpin <= 8 * e.pgmajfault,
        "{} major faults read {} pages",
        e.pgmajfault,
        e.pswpin
    );
    // Every read ended the fault: the owner waits for none, and more than one fault ran.
    assert!(m.tasks[0].read_pages.is_empty() && e.pgmajfault > 1);
    let seg = &m.vfs.segments[0];
    let resident = seg.pages.iter().filter(|&&id| id != NIL).count() as u64;
    assert_eq!(resident, seg.resident);
    assert_eq!(seg.resident + seg.swapped, 48 * MIB / PAGE);
    for (idx, &id) in seg.pages.iter().enumerate().filter(|(_, &id)| id != NIL) {
        let p = &m.mem.pages[id as usize];
        assert_eq!(
            (p.owner, p.index as usize),
            (0, idx),
            "page {id} is not at its index"
        );
        assert!(p.flags & pg::SHMEM != 0 && p.flags & pg::SWAPCACHE == 0);
    }
}

/// A hot private page touched while its swap write is still in flight is mapped where it is:
/// 2.6.32's write fault calls `reuse_swap_page()`, which makes the pte writable but leaves a page
/// under writeback in the swap cache with its slot (`count == 1 && !PageWriteback(page)` guards
/// `delete_from_swap_cache()`). No read, no second page: the page is mapped, in the swap cache
/// and under writeback at once, and when its write ends it stays mapped with its slot held.
#[test]
fn a_hot_page_touched_during_its_swap_write_is_mapped_in_place_keeping_its_swap_slot() {
    // Touched every 20 ms: a page is touched again long before its write on the 5 MB/s disk
    // ends. (At 100 ms, under CFQ, no touch falls within a write in this run.)
    let touch = Some(WorkingSet {
        touch_interval_ns: 20 * MSEC,
        hot_bytes: 48 * MIB,
    });
    let spec = then_hog_spec(Release::V2_6_33, hot_db(touch), 5_000_000);
    let mut m = boot(&spec);
    let both = pg::ANON | pg::MAPPED | pg::SWAPCACHE;
    let (mut in_write, mut after) = (0u64, 0u64);
    let mut watched: Option<PageId> = None;
    while step(&mut m, 20 * SEC) && m.run.outcome.is_none() {
        if let Some(id) = watched {
            let f = m.mem.pages[id as usize].flags;
            if f & pg::WRITEBACK == 0 {
                if f & both == both {
                    after += 1; // its write ended: still mapped, still in the swap cache
                }
                watched = None;
            }
            continue;
        }
        let hit = m.tasks[0].anon.iter().copied().find(|&id| {
            let f = m.mem.pages[id as usize].flags;
            f & (both | pg::WRITEBACK) == both | pg::WRITEBACK
        });
        if let Some(id) = hit {
            in_write += 1;
            watched = Some(id);
        }
    }
    assert!(
        in_write > 0,
        "no hot page was mapped while under its swap write"
    );
    assert!(
        after > 0,
        "no such page stayed in the swap cache after its write"
    );
}

/// A hot page touched again while still in the swap cache (its write not started yet, or done
/// and the page not yet freed) is found there (`lookup_swap_cache()`): mapped again without a
/// read, a fault but not a major one. On a 5 MB/s swap disk, touched every 20 ms, the pages
/// wait long enough for their writes that every fault of the run is such a hit (2.6.33: the
/// 2.6.32 run goes OOM at 5.4 s, see the kswapd nap fact above).
#[test]
fn a_hot_page_touched_while_still_in_the_swap_cache_is_mapped_again_without_a_read() {
    let fast = Some(WorkingSet {
        touch_interval_ns: 20 * MSEC,
        hot_bytes: 48 * MIB,
    });
    let m = db_then_hog_on(Release::V2_6_33, fast, 5_000_000);
    let e = &m.stats.vm_events;
    // Every fault: the two tasks' first touches, one per page read back, and the rest found in
    // the swap cache.
    let first_touches = (m.tasks[0].done_bytes + m.tasks[1].done_bytes) / PAGE;
    let minor = e.pgfault - first_touches - e.pswpin;
    assert!(minor > 0, "no hot page was found in the swap cache");
    let db = &m.tasks[0];
    assert_eq!(db.anon.len() as u64 + db.swap_ents, 48 * MIB / PAGE);
}

/// A hot shm page touched while its swap write is in flight is waited for, not read back:
/// 2.6.32's `shmem_getpage()` finds it in the swap cache (`lookup_swap_cache()`) and sleeps in
/// `wait_on_page_writeback()`; when the write ends the same page goes back into its segment.
#[test]
fn a_hot_shm_page_touched_during_its_swap_write_is_waited_for_and_taken_back_without_a_read() {
    let sga = task(
        "sga",
        TaskKind::Pin(Pin {
            bytes: 48 * MIB,
            method: PinMethod::Shm,
            working_set: Some(WorkingSet {
                touch_interval_ns: 20 * MSEC,
                hot_bytes: 48 * MIB,
            }),
        }),
    );
    let mut m = boot(&then_hog_spec(Release::V2_6_32, sga, 5_000_000));
    let (mut waited, mut taken_back) = (0, 0);
    let mut watched: Option<PageId> = None;
    while step(&mut m, 20 * SEC) && m.run.outcome.is_none() {
        match watched {
            None => {
                if let Some(&(id, _)) = m.mem.writeback_waiters.first() {
                    assert!(m.mem.pages[id as usize].has(pg::WRITEBACK));
                    waited += 1;
                    watched = Some(id);
                }
            }
            Some(id) if !m.mem.writeback_waiters.iter().any(|&(p, _)| p == id) => {
                // Woken at the write's end; once the owner has run, the page is in its segment.
                if m.vfs.segments[0].pages.contains(&id) {
                    taken_back += 1;
                    watched = None;
                } else if !m.mem.pages[id as usize].has(pg::SWAPCACHE) {
                    watched = None; // freed before the owner ran: read from disk instead
                }
            }
            Some(_) => {}
        }
    }
    assert!(waited > 0, "no shm page was touched under its write");
    assert!(
        taken_back > 0,
        "no waited-for page went back into its segment"
    );
}
