//! Kernel facts of the modern kernel's switches (issue 14, `notes/research/14-modern.md`): the
//! 4.7 OOM detection rework, `throttle_vm_writeout()`'s hard limit (3.4) and removal (4.9),
//! hopeless nodes (4.12) and ext4's `dioread_nolock` default (5.6). Each test also runs the release before the change, so it fails if the
//! switch does nothing.

use crate::common::*;

/// A 32 MiB box whose 16 MiB of ext3 file pages are all under writeback on a disk too slow to
/// complete any request within the test, and an anonymous task (task 1) that starts at 1 s and
/// faults in more than the box has: with no swap, nothing on the box is reclaimable at once.
fn all_under_writeback(profile: &str) -> Machine {
    let mut spec = under(
        run_spec(
            Release::V2_6_36,
            Policy::Redirty,
            machine(&[32 * MIB]),
            vec![disk(1_000)],
            vec![mount(FsType::Ext3)],
            vec![writer(16 * MIB), {
                // After the writer: ext3 reads its group's bitmap first, 4 KiB at 1 kB/s.
                let mut a = anon("eater", 64 * MIB);
                a.start_ns = 10 * SEC;
                a
            }],
        ),
        profile,
    );
    spec.vm.dirty_ratio = 100;
    spec.vm.dirty_background_ratio = 100;
    spec.limits.sim_time_ns = 600 * SEC;
    let mut m = boot(&spec);
    run_until(&mut m, 10 * SEC, |m| m.tasks[0].finished_at.is_some());
    for p in file_pages(&m, 0) {
        if m.clear_page_dirty_for_io(p) {
            m.set_page_writeback_and_submit(p, wbsim::mm::Actor::Flusher(0));
        }
    }
    m.unplug_all();
    m
}

/// Runs `m` until the first OOM; returns the time of the first direct-reclaim pass and of the
/// OOM.
fn until_oom(m: &mut Machine) -> (u64, u64) {
    run_until(m, 600 * SEC, |m| {
        m.stats.vm_events.allocstall > 0 || m.run.outcome.is_some()
    });
    let first = m.clock.now;
    run_until(m, 600 * SEC, |m| m.run.outcome.is_some());
    (first, m.clock.now)
}

#[test]
fn a_6_1_profile_ends_an_order_0_fs_allocation_in_the_oom_path_after_17_passes_that_reclaim_nothing(
) {
    let mut m = all_under_writeback("6.1");
    until_oom(&mut m);
    let (victim, invoker, _) = oom_victim(&m);
    assert_eq!((victim.as_str(), invoker.as_str()), ("eater", "eater"));
    // Every pass met only pages under writeback: 17 in a row freed nothing, and the retry test
    // held for the first 16 (free + 4096 file pages > min).
    assert_eq!(m.stats.vm_events.allocstall, 17);
    assert_eq!(m.stats.counters.reclaim_no_progress, 17);
    assert_eq!(m.stats.counters.no_progress_loops_max, 17);
    assert!(m.mem.zone_reclaimable_pages(0) >= 4096);
    // 2.6.36 keeps retrying while the zone is reclaimable: it goes OOM only once pages_scanned
    // reached 6 × the reclaimable pages, after a different number of passes.
    let mut old = all_under_writeback("2.6.36");
    until_oom(&mut old);
    assert_ne!(old.stats.vm_events.allocstall, 17);
    assert!(old.mem.zones[0].all_unreclaimable);
}

#[test]
fn from_4_7_to_5_15_the_retry_sleeps_a_tenth_of_a_second_when_half_the_reclaimable_pages_wait_for_writeback(
) {
    // 4.12 (no back-off) and 5.16 take the same 17 passes; 4.12 sleeps congestion_wait(HZ/10)
    // after each of the first 16 (2 × (writeback + dirty) > reclaimable), 5.16 does not.
    let mut m = all_under_writeback("4.12");
    let (first, oom) = until_oom(&mut m);
    assert_eq!(m.stats.vm_events.allocstall, 17);
    let slept = oom - first;
    assert!(slept >= 1600 * MSEC, "4.12: {slept} ns");
    let mut new = all_under_writeback("5.16");
    let (first, oom) = until_oom(&mut new);
    assert_eq!(new.stats.vm_events.allocstall, 17);
    assert!(oom - first < 800 * MSEC, "5.16: {} ns", oom - first);
}

#[test]
fn the_4_7_back_off_discounts_reclaimable_pages_by_the_no_progress_count() {
    // available = reclaimable − ⌈n × reclaimable / 16⌉ + free: at n = 16 only the free pages
    // are left, below min, so 4.7 goes OOM after 16 passes; 4.12 (no back-off) after 17.
    let mut m = all_under_writeback("4.7");
    until_oom(&mut m);
    assert_eq!(m.stats.vm_events.allocstall, 16);
    assert_eq!(m.stats.counters.no_progress_loops_max, 16);
    let mut later = all_under_writeback("4.12");
    until_oom(&mut later);
    assert_eq!(later.stats.vm_events.allocstall, 17);
}

/// The starved writer of `kernel_facts`: confined to an 8 MiB node, on a 1 MB/s disk.
fn starved_ext4_writer(profile: &str, nofs: bool) -> Machine {
    let mut w = writer(64 * MIB);
    w.cpuset_nodes = Some(vec![0]);
    let spec = under(
        run_spec(
            Release::V2_6_36,
            Policy::Redirty,
            machine(&[8 * MIB, 56 * MIB]),
            vec![disk(1_000)],
            vec![mount(FsType::Ext4)],
            vec![w],
        ),
        profile,
    );
    let mut spec = with_switch(
        spec,
        "ext4_write_begin_nofs",
        if nofs { "true" } else { "false" },
    );
    spec.limits.sim_time_ns = 30 * SEC;
    boot(&spec)
}

#[test]
fn from_4_7_a_nofs_allocation_reaching_the_oom_path_kills_nothing_and_retries_at_once() {
    let mut m = starved_ext4_writer("6.1", true);
    run_until(&mut m, 30 * SEC, |m| {
        m.stats.counters.oom_nofs_no_kill > 0 || m.run.outcome.is_some()
    });
    assert!(m.run.outcome.is_none(), "{:?}", m.run.outcome);
    // The retry starts over with no_progress_loops = 0: the next OOM-path visit needs 17 more
    // fruitless passes, and none slept in the allocator.
    let stalls = m.stats.vm_events.allocstall;
    assert!(m.tasks[0].alloc.as_ref().unwrap().no_progress_loops == 0);
    run_until(&mut m, 30 * SEC, |m| {
        m.stats.counters.oom_nofs_no_kill > 1 || m.run.outcome.is_some()
    });
    assert!(m.run.outcome.is_none(), "{:?}", m.run.outcome);
    assert!(m.stats.vm_events.allocstall >= stalls + 17);
    // 2.6.36 never calls __alloc_pages_may_oom for a NOFS allocation.
    let mut old = starved_ext4_writer("2.6.36", true);
    run_until(&mut old, 30 * SEC, |m| {
        m.stats.counters.reclaim_no_progress > 40 || m.run.outcome.is_some()
    });
    assert!(old.run.outcome.is_none());
    assert_eq!(old.stats.counters.oom_nofs_no_kill, 0);
}

#[test]
fn from_3_4_throttle_vm_writeout_compares_writeback_with_the_hard_limit_and_from_4_9_never_sleeps()
{
    for (profile, hard_limit_0, hard_limit_high) in [
        ("3.3", true, true),
        ("3.4", true, false),
        ("4.8", true, false),
        ("4.9", false, false),
        ("mainline", false, false),
    ] {
        let spec = under(
            one_writer(Release::V2_6_36, Policy::Redirty, FsType::Ext3, 64 * PAGE),
            profile,
        );
        let mut m = boot(&spec);
        finish_task(&mut m, 0);
        m.spec.vm.dirty_bytes = 40 * PAGE; // threshold 40 pages; 110 % is 44 < 64
        for p in file_pages(&m, 0) {
            if m.clear_page_dirty_for_io(p) {
                m.set_page_writeback_and_submit(p, wbsim::mm::Actor::Flusher(0));
            }
        }
        assert_eq!(m.global_dirty_limits().1, 40, "{profile}");
        assert_eq!(m.mem.vm_stat.nr_writeback, 64, "{profile}");
        m.wb.global_dirty_limit = 0;
        assert_eq!(m.throttle_vm_writeout_over(), hard_limit_0, "{profile}");
        m.wb.global_dirty_limit = 10_000; // hard_dirty_limit() = max(40, 10 000)
        assert_eq!(m.throttle_vm_writeout_over(), hard_limit_high, "{profile}");
    }
}

#[test]
fn from_3_9_the_global_dirty_limit_starts_at_the_boot_time_threshold_so_a_writer_after_a_pin_dirties_past_the_new_threshold(
) {
    // writeback_set_ratelimit() at boot: "global_dirty_limit = dirty_thresh". A 128 MiB box
    // without swap: a task pins 96 MiB at once, then a writer streams 48 MiB to a 10 MB/s disk.
    for (profile, init) in [("3.4", false), ("3.9", true)] {
        let mut writer = writer(48 * MIB);
        writer.start_ns = SEC;
        let spec = under(
            run_spec(
                Release::V2_6_36,
                Policy::Redirty,
                machine(&[128 * MIB]),
                vec![disk(10_000_000)],
                vec![mount(FsType::Ext3)],
                vec![anon("pin", 96 * MIB), writer],
            ),
            profile,
        );
        let mut m = boot(&spec);
        let (_, boot_thresh) = m.global_dirty_limits();
        assert_eq!(m.wb.global_dirty_limit, if init { boot_thresh } else { 0 });
        let mut most = 0;
        while m.clock.now < 3 * SEC && m.run.outcome.is_none() {
            let until = m.clock.now + 10 * MSEC;
            while step(&mut m, until) {}
            m.clock.now = until;
            let v = &m.mem.vm_stat;
            most = most.max(v.nr_dirty + v.nr_writeback);
        }
        // The pin cut the threshold to under a quarter of the boot one (6445 → ~1450 pages).
        let (_, thresh) = m.global_dirty_limits();
        assert!(
            4 * thresh < boot_thresh,
            "{profile}: {thresh} of {boot_thresh}"
        );
        if init {
            // The hard limit descends by 1/32 of its distance to max(thresh, dirty) per 200 ms:
            // the writer's setpoint stays far above the new threshold.
            assert!(m.wb.global_dirty_limit > 3 * thresh, "{profile}");
            assert!(
                most > 3 * thresh,
                "{profile}: {most} dirty+writeback, thresh {thresh}"
            );
        } else {
            // 0 rises to the threshold at the first update_dirty_limit().
            assert!(m.wb.global_dirty_limit <= thresh + thresh / 10, "{profile}");
            assert!(
                most <= thresh + thresh / 5,
                "{profile}: {most}, thresh {thresh}"
            );
        }
    }
}

#[test]
fn sixteen_fruitless_kswapd_runs_make_the_node_hopeless_and_kswapd_sleeps_below_min() {
    // After the OOM (the run stops there, the eater parked) kswapd goes on failing: each
    // balance_pgdat() run meets only pages under writeback. The 16th failure puts it to sleep
    // with the zone below min, and it stays asleep.
    let mut m = all_under_writeback("6.1");
    until_oom(&mut m);
    let limit = m.clock.now + 60 * SEC;
    run_until(&mut m, limit, |m| m.pgdat_hopeless(0));
    let hopeless_at = m.clock.now;
    assert_eq!(m.mem.nodes[0].kswapd_failures, 16);
    // The HZ/10 nap, then sleep for good: the zone is still below min.
    run_until(&mut m, hopeless_at + SEC, |m| {
        m.mem.nodes[0].kswapd.state == wbsim::mm::vmscan::KswapdState::Sleeping
    });
    assert_eq!(m.mem.nodes[0].kswapd_failures, 16);
    assert!(!m.mem.zones[0].all_unreclaimable, "no 2.6.3x marking");
    // 4.7 has no kswapd_failures: the count never moves.
    let mut old = all_under_writeback("4.7");
    until_oom(&mut old);
    // There kswapd stops on 2.6.3x's all_unreclaimable marking instead.
    let limit = old.clock.now + 60 * SEC;
    run_until(&mut old, limit, |m| {
        m.mem.nodes[0].kswapd.state == wbsim::mm::vmscan::KswapdState::Sleeping
    });
    assert!(old.mem.zones[0].all_unreclaimable);
    assert_eq!(old.mem.nodes[0].kswapd_failures, 0);
}

#[test]
fn with_kswapd_failures_at_16_kswapd_is_not_woken_and_the_noprogress_throttle_returns_at_once() {
    let mut m = all_under_writeback("6.1");
    until_oom(&mut m);
    for failures in [16, 0] {
        m.mem.nodes[0].kswapd_failures = failures;
        m.mem.nodes[0].kswapd.state = wbsim::mm::vmscan::KswapdState::Sleeping;
        let queued = m.clock.queue.len();
        m.wakeup_kswapd(0, None);
        assert_eq!(m.clock.queue.len() > queued, failures == 0, "{failures}");
        let before = m.stats.counters.reclaim_throttled;
        direct_reclaim_pass(&mut m, 1, gfp::GFP_KERNEL);
        // A fruitless pass reaches priority 1 with nothing reclaimed: reclaim_throttle(
        // NOPROGRESS) sleeps one jiffy unless the node is hopeless.
        let throttled = m.stats.counters.reclaim_throttled - before;
        assert_eq!(throttled == 0, failures == 16, "{failures}: {throttled}");
    }
}

#[test]
fn a_shrink_zone_that_frees_a_page_resets_kswapd_failures() {
    for (profile, reset) in [("4.12", true), ("4.11", false)] {
        let mut spec = under(
            one_writer(Release::V2_6_36, Policy::Redirty, FsType::Ext3, 64 * PAGE),
            profile,
        );
        spec.tasks[0].kind = TaskKind::StreamRead(StreamRead {
            mount: 0,
            bytes: 64 * PAGE,
            rate_bytes_per_sec: 1 << 40,
            read_bytes: 64 * PAGE,
        });
        let mut m = boot(&spec);
        run_until(&mut m, 10 * SEC, |m| m.tasks[0].finished_at.is_some());
        m.mem.nodes[0].kswapd_failures = 16;
        let mut sc = direct_sc(0, gfp::GFP_KERNEL);
        m.shrink_zone(0, 0, &mut sc);
        assert!(
            sc.nr_reclaimed > 0,
            "{profile}: clean read pages were freed"
        );
        assert_eq!(m.mem.nodes[0].kswapd_failures == 0, reset, "{profile}");
    }
}

/// 1024 pages of an ext4 file under `profile` with the mount `options`, after the first write
/// request of the flusher completed: `(pages that ended writeback then, conversions at the end)`.
fn ext4_first_completion(profile: &str, delalloc: bool, dioread: Option<bool>) -> (usize, u64) {
    let mut spec = under(
        one_writer(Release::V2_6_36, Policy::Redirty, FsType::Ext4, 1024 * PAGE),
        profile,
    );
    spec.mounts[0].delalloc = delalloc;
    spec.mounts[0].dioread_nolock = dioread;
    let mut m = boot(&spec);
    finish_task(&mut m, 0);
    run_until(&mut m, 60 * SEC, |m| m.stats.vm_events.pgpgout > 0);
    let pages = file_pages(&m, 0);
    let ended = pages
        .iter()
        .filter(|&&p| m.mem.pages[p as usize].flags & (pg::DIRTY | pg::WRITEBACK) == 0)
        .count();
    run_until(&mut m, 60 * SEC, |m| {
        m.mem.vm_stat.nr_writeback == 0 && m.mem.vm_stat.nr_dirty == 0
    });
    (ended, m.wb.io_ends.conversions)
}

#[test]
fn from_5_6_an_ext4_delalloc_page_written_into_a_new_extent_stays_under_writeback_after_its_request_completes_until_the_extent_converts(
) {
    // 5.6: dioread_nolock by default; one 2048-block extent holds all 1024 pages, so none ends
    // writeback until the last request of the io_end completed, then all do.
    let (ended, conversions) = ext4_first_completion("5.6", true, None);
    assert_eq!((ended, conversions), (0, 1));
    // Before 5.6 (the default off), with nodioread_nolock, or with nodelalloc: at completion.
    for (profile, delalloc, dioread) in [
        ("4.12", true, None),
        ("5.6", true, Some(false)),
        ("5.6", false, None),
    ] {
        let (ended, conversions) = ext4_first_completion(profile, delalloc, dioread);
        assert!(ended > 0, "{profile} {delalloc} {dioread:?}");
        assert_eq!(conversions, 0);
    }
    // The mount option turns it on in any release.
    let (ended, conversions) = ext4_first_completion("4.12", true, Some(true));
    assert_eq!((ended, conversions), (0, 1));
}

// Node-form kswapd (4.8+, research 14 §4) -----------------------------------------------------

/// 64 MiB x86-64 (DMA 16 MiB + DMA32 48 MiB) under `profile`, booted and idle, with DMA's free
/// pages cut to `dma_free` and DMA32's to `dma32_free` (the rest held by nobody).
fn two_zone_box(profile: &str, dma_free: &dyn Fn(&Machine) -> u64, dma32_free: u64) -> Machine {
    let mut spec = under(
        one_writer(Release::V2_6_36, Policy::Redirty, FsType::Ext3, PAGE),
        profile,
    );
    spec.machine.layout = NodeLayout::X86_64 { pci_hole_bytes: 0 };
    let mut m = boot(&spec);
    assert_eq!(m.mem.zones.len(), 2, "DMA and DMA32");
    let want = [dma_free(&m), dma32_free];
    for (zid, &n) in want.iter().enumerate() {
        let z = &mut m.mem.zones[zid];
        assert!(
            z.free.len() as u64 >= n,
            "zone {zid} has {} free",
            z.free.len()
        );
        while z.free.len() as u64 > n {
            let id = z.free.pop().unwrap();
            m.mem.pages[id as usize].place = Place::Held;
            m.mem.vm_stat.nr_free -= 1;
        }
    }
    m
}

#[test]
fn pgdat_balanced_is_true_when_dma_alone_exceeds_high_plus_its_reserve_while_dma32_is_below_low() {
    // DMA: free = high + lowmem_reserve[DMA32] + 1; DMA32: free = low − 1.
    let dma = |m: &Machine| m.mem.zones[0].watermark[2] + m.mem.zones[0].lowmem_reserve[1] + 1;
    let woken = |profile: &str| {
        let mut m = two_zone_box(profile, &dma, 0);
        let low = m.mem.zones[1].watermark[1];
        m = two_zone_box(profile, &dma, low - 1);
        let queued = m.clock.queue.len();
        m.wakeup_kswapd(1, None);
        (
            m.clock.queue.len() > queued,
            m.pgdat_balanced(0, 1),
            m.prepare_kswapd_sleep(0),
        )
    };
    // 4.12: pgdat_balanced() holds on DMA alone: kswapd is not woken, and would sleep.
    assert_eq!(woken("4.12"), (false, true, true));
    // 4.8: not woken either (any zone balanced), but it would not sleep: prepare_kswapd_sleep()
    // still wants every zone up to the classzone above high.
    assert_eq!(woken("4.8"), (false, true, false));
    // 4.7: DMA32 below its low watermark wakes kswapd.
    assert!(woken("4.7").0);
}

#[test]
fn from_4_8_to_4_11_kswapd_never_backs_away_from_a_node_it_cannot_balance() {
    // c73322d098e4 (4.12): "Up until 1d82de618ddd ("mm, vmscan: make kswapd reclaim in terms of
    // nodes") kswapd had such a mechanism [all_unreclaimable] ... erroneously removed". Every
    // file page is under writeback on a disk that completes nothing within the test.
    let mut m = all_under_writeback("4.11");
    until_oom(&mut m);
    // Each run goes down to priority 1, stalling 100 ms per batch of PG_reclaim pages under
    // writeback (nr_immediate), then starts over: it never naps.
    let (runs, naps) = (
        m.stats.vm_events.pageoutrun,
        m.stats.vm_events.kswapd_low_wmark_hit_quickly,
    );
    let until = m.clock.now + 30 * SEC;
    run_until(&mut m, until + SEC, |m| m.clock.now >= until);
    let ran = m.stats.vm_events.pageoutrun - runs;
    assert!(ran >= 3, "4.11 kswapd keeps running: {ran} runs");
    assert!(m.stats.vm_events.kswapd_high_wmark_hit_quickly >= ran);
    assert_eq!(m.stats.vm_events.kswapd_low_wmark_hit_quickly, naps);
    assert_eq!(m.mem.nodes[0].kswapd_failures, 0);
    assert!(!m.mem.zones.iter().any(|z| z.all_unreclaimable));
    // 4.7 marks the zones all_unreclaimable and kswapd goes to sleep.
    let mut old = all_under_writeback("4.7");
    until_oom(&mut old);
    let limit = old.clock.now + 30 * SEC;
    run_until(&mut old, limit, |m| {
        m.mem.nodes[0].kswapd.state == wbsim::mm::vmscan::KswapdState::Sleeping
    });
    assert!(old.mem.zones.iter().all(|z| z.all_unreclaimable));
}

/// The direct-reclaim passes of `m` from the first that finds its node unreclaimable to the
/// OOM: `(passes, pages they scanned)`.
fn passes_after_the_node_turns_unreclaimable(m: &mut Machine) -> (u64, u64) {
    let scanned = |m: &Machine| {
        m.mem
            .zones
            .iter()
            .map(|z| z.stat.pgscan_direct)
            .sum::<u64>()
    };
    run_until(m, 600 * SEC, |m| {
        m.run.outcome.is_some() || !m.mem.pgdat_reclaimable(0) && m.stats.vm_events.allocstall > 0
    });
    let (stalls, pages) = (m.stats.vm_events.allocstall, scanned(m));
    run_until(m, 600 * SEC, |m| m.run.outcome.is_some());
    (m.stats.vm_events.allocstall - stalls, scanned(m) - pages)
}

#[test]
fn from_4_8_to_4_11_direct_reclaim_leaves_a_node_scanned_six_times_over_to_kswapd_below_the_first_priority(
) {
    // 4.8–4.11 shrink_zones(): "if (sc->priority != DEF_PRIORITY &&
    // !pgdat_reclaimable(zone->zone_pgdat)) continue; /* Let kswapd poll it */"; c73322d098e4
    // (4.12) drops it. Nothing is ever freed here, so NR_PAGES_SCANNED only grows: once it
    // passes 6 × the node's 4096 file pages, a 4.11 pass scans at priority 12 alone (a handful
    // of pages) where a 4.12 pass scans down to priority 0 (about the whole list).
    let mut m = all_under_writeback("4.11");
    let (passes, scanned) = passes_after_the_node_turns_unreclaimable(&mut m);
    assert!(
        passes >= 2,
        "4.11: {passes} passes after the node turned unreclaimable"
    );
    assert!(
        scanned <= 64 * passes,
        "4.11: {scanned} pages in {passes} passes"
    );
    assert!(m.mem.nodes[0].pages_scanned >= 6 * 4096);
    let report = &m.run.oom_reports[0];
    assert_eq!(
        report.node_pages_scanned,
        vec![m.mem.nodes[0].pages_scanned]
    );
    assert!(report.zones.iter().all(|z| z.base.all_unreclaimable));
    let mut new = all_under_writeback("4.12");
    let (passes, scanned) = passes_after_the_node_turns_unreclaimable(&mut new);
    assert!(passes >= 2, "4.12: {passes} passes");
    assert!(
        scanned >= 2048 * passes,
        "4.12: {scanned} pages in {passes} passes"
    );
    assert!(new.run.oom_reports[0].node_pages_scanned.is_empty());
}

#[test]
fn from_4_17_only_kswapd_sets_the_node_flags_from_its_whole_shrink_node() {
    // Every file page is under writeback: a direct reclaimer's batch takes only such pages.
    for (profile, direct_sets) in [("4.12", true), ("4.17", false)] {
        let mut m = all_under_writeback(profile);
        let zid = m.mem.pages[file_pages(&m, 0)[0] as usize].zone as usize;
        let mut sc = direct_sc(1, gfp::GFP_KERNEL);
        m.shrink_zone(DEF_PRIORITY_FOR_TESTS, zid, &mut sc);
        assert!(sc.nr_scanned > 0, "{profile}");
        assert_eq!(
            m.reclaim_flags(zid).writeback,
            direct_sets,
            "{profile}: PGDAT_WRITEBACK after a direct batch"
        );
        if !direct_sets {
            // kswapd's shrink_node() over the same pages sets it.
            assert_eq!(sc.nr.writeback, sc.nr.taken);
            until_oom(&mut m);
            assert!(m.reclaim_flags(zid).writeback, "{profile}: set by kswapd");
        }
    }
}

#[test]
fn from_5_18_nr_congested_counts_only_pages_under_writeback_with_pg_reclaim() {
    // Dirty (not yet written) pages on a congested queue: 4.17–5.17 count them as congested,
    // 5.18 (no bdi congestion) does not.
    for (profile, counted) in [("5.16", true), ("5.18", false)] {
        let mut spec = under(
            one_writer(Release::V2_6_36, Policy::Redirty, FsType::Ext3, 256 * PAGE),
            profile,
        );
        spec.vm.dirty_ratio = 100;
        spec.vm.dirty_background_ratio = 100;
        spec.vm.dirty_writeback_centisecs = 0;
        let mut m = boot(&spec);
        run_until(&mut m, 10 * SEC, |m| m.tasks[0].finished_at.is_some());
        assert!(m.mem.vm_stat.nr_dirty > 0, "{profile}");
        m.io.disks[0].rl[wbsim::block::BLK_RW_ASYNC].congested = true;
        let mut sc = direct_sc(0, gfp::GFP_KERNEL);
        m.shrink_zone(DEF_PRIORITY_FOR_TESTS, 0, &mut sc);
        assert!(sc.nr.dirty > 0, "{profile}");
        assert_eq!(sc.nr.congested > 0, counted, "{profile}: {:?}", sc.nr);
    }
}

/// A priority low enough that one `shrink_zone` call scans the tiny test lists.
const DEF_PRIORITY_FOR_TESTS: i32 = 1;

// MPOL_BIND (research 14 §9) ------------------------------------------------------------------

#[test]
fn every_zonelist_holds_every_zone_so_the_zone_oom_lock_serialises_oom_kills_as_4_2s_oom_lock_does()
{
    // 2.6.32 __alloc_pages_may_oom(): try_set_zone_oom() fails while any zone of the
    // allocation's zonelist is ZONE_OOM_LOCKED. build_zonelists() puts every node's zones in each
    // node's fallback zonelist, and a cpuset narrows the walk (cpuset_zone_allowed), not the
    // list. So two tasks confined to disjoint nodes still share every zone of their zonelists:
    // one OOM decision at a time, machine-wide, as with 4.2's global oom_lock mutex
    // (dc56401fc9f2 "mm: oom_kill: simplify OOM killer locking"), which needs no switch.
    let mut a = anon("a", MIB);
    a.cpuset_nodes = Some(vec![0]);
    let mut b = anon("b", MIB);
    b.cpuset_nodes = Some(vec![1]);
    let spec = run_spec(
        Release::V2_6_32,
        Policy::Redirty,
        machine(&[64 * MIB, 64 * MIB, 64 * MIB]),
        vec![disk(100_000_000)],
        vec![mount(FsType::Ext3)],
        vec![a, b],
    );
    let m = boot(&spec);
    let every_zone: Vec<u16> = (0..m.mem.zones.len() as u16).collect();
    for t in 0..2 {
        let mut zonelist = m.tasks[t].zonelist.clone();
        zonelist.sort_unstable();
        assert_eq!(zonelist, every_zone, "task {t}'s zonelist");
    }
    let walk = |t: usize| m.tasks[t].mems_zonelist.clone();
    assert!(
        walk(0).iter().all(|z| !walk(1).contains(z)),
        "disjoint walks"
    );
}

/// Two 64 MiB nodes, no swap: `spread` (no policy) faults in 100 MiB, node 0 then node 1; at 1 s
/// `bound` (`membind = [1]`) faults in 80 MiB, which node 1 cannot hold.
fn bound_on_node_1(profile: &str) -> Machine {
    let mut b = anon("bound", 80 * MIB);
    b.membind = Some(vec![1]);
    b.start_ns = SEC;
    let spec = under(
        run_spec(
            Release::V2_6_36,
            Policy::Redirty,
            machine(&[64 * MIB, 64 * MIB]),
            vec![disk(100_000_000)],
            vec![mount(FsType::Ext3)],
            vec![anon("spread", 100 * MIB), b],
        ),
        profile,
    );
    let mut m = boot(&spec);
    run_until(&mut m, 600 * SEC, |m| m.run.outcome.is_some());
    m
}

#[test]
fn a_task_bound_with_mpol_bind_to_one_node_triggers_a_constraint_memory_policy_oom_on_that_node() {
    use wbsim::outcome::Constraint;
    for (profile, constraint, victim) in [
        // 2.6.36+: selected among the tasks whose policy meets node 1; `spread` has none, so it
        // is eligible, and it has the most pages.
        ("6.1", Constraint::MemoryPolicy, "spread"),
        ("2.6.36", Constraint::MemoryPolicy, "spread"),
        // 2.6.33–2.6.35: "No available memory (MPOL_BIND)": the invoker dies.
        ("2.6.33", Constraint::MemoryPolicy, "bound"),
        // 2.6.32: constrained_alloc() reads the whole zonelist: a global OOM.
        ("2.6.32", Constraint::None, "spread"),
    ] {
        let m = bound_on_node_1(profile);
        let (v, invoker, _) = oom_victim(&m);
        assert_eq!(
            (v.as_str(), invoker.as_str()),
            (victim, "bound"),
            "{profile}"
        );
        let report = m.run.oom_reports.last().expect("an OOM report");
        assert_eq!(report.constraint, constraint, "{profile}");
        if profile == "6.1" {
            // dump_oom_summary() prints the allocation's nodemask: the bound task's node.
            let text = wbsim::report::oom_report::render(report, &m.spec);
            assert!(
                text.contains("oom-kill:constraint=CONSTRAINT_MEMORY_POLICY,nodemask=1,"),
                "{text}"
            );
        }
        // No page of the bound task ever left node 1 (one zone per node: zone 1).
        let pages = &m.tasks[1].anon;
        assert!(!pages.is_empty(), "{profile}");
        assert!(
            pages.iter().all(|&p| m.mem.pages[p as usize].zone == 1),
            "{profile}"
        );
    }
}

#[test]
fn a_kswapd_busy_loop_skipped_ahead_gives_the_same_run_as_handled_turn_by_turn() {
    // benches/tiny.toml (oracle-backup scaled down 16 times) under 4.8: one zone of the node
    // above its high mark ends balance_pgdat() at once, the other below it keeps
    // prepare_kswapd_sleep() false, so kswapd turns without reclaiming or sleeping (millions of
    // KSWAPD_HIGH_WMARK_HIT_QUICKLY). Skipped ahead and turn by turn (`handle_every_event`):
    // the same result, with and without wake-up-order noise (its draws for the skipped turns'
    // schedules).
    let mut ov = wbsim::scenario::Overrides::default();
    ov.sets
        .push(("scenario.release".to_string(), "\"4.8\"".to_string()));
    let sc = wbsim::scenario::load(std::path::Path::new("benches/tiny.toml"), &ov).unwrap();
    let mut spec = sc.runs[0].spec.clone();
    for shuffle in [false, true] {
        spec.shuffle_wakeups = shuffle;
        let run = |every_event: bool| execute(&spec, every_event, None);
        let (skipped, turned) = (run(false), run(true));
        assert_eq!(turned.skipped_events, 0);
        assert!(
            skipped.skipped_events > 1_000_000,
            "skipped {} of {} events",
            skipped.skipped_events,
            skipped.result.events
        );
        assert!(skipped.result == turned.result, "shuffle {shuffle}");
    }
}

// Node LRU lists (4.8, research 14 §4.5) -------------------------------------------------------

/// 64 MiB x86-64 (DMA + DMA32) under `profile` after an ext3 writer has filled both zones with
/// page cache.
fn written_two_zone_box(profile: &str) -> Machine {
    let mut spec = under(
        one_writer(Release::V2_6_36, Policy::Redirty, FsType::Ext3, 200 * MIB),
        profile,
    );
    spec.machine.layout = NodeLayout::X86_64 { pci_hole_bytes: 0 };
    let mut m = boot(&spec);
    assert_eq!(m.mem.zones.len(), 2, "DMA and DMA32");
    run_until(&mut m, 20 * SEC, |m| {
        m.mem.zones[0].nr_lru(LruList::InactiveFile) > 64
            && m.mem.zones[1].nr_lru(LruList::InactiveFile) > 1000
    });
    m
}

#[test]
fn from_4_8_reclaim_for_a_dma_request_skips_the_dma32_pages_of_the_node_list_and_puts_them_back_at_its_head(
) {
    let l = LruList::InactiveFile;
    let mut m = written_two_zone_box("4.8");
    // One lruvec per node, held by its lowest zone: both zones' pages in one age order.
    let old = list_pages(&m, 0, l);
    assert!(list_pages(&m, 1, l).is_empty());
    let zone_of = |m: &Machine, id: PageId| m.mem.pages[id as usize].zone;
    assert!(old.iter().any(|&id| zone_of(&m, id) == 1));
    let k = old
        .iter()
        .rev()
        .take_while(|&&id| zone_of(&m, id) == 1)
        .count();
    assert!(
        k > 0,
        "the oldest pages are DMA32's (the writer's zonelist starts there)"
    );
    let dma32_before = m.mem.zones[1].nr_lru(l);
    let mut sc = kswapd_sc();
    sc.reclaim_idx = 0; // a DMA classzone
    m.shrink_zone(1, 1, &mut sc);
    let (dma, dma32) = (&m.mem.zones[0].stat, &m.mem.zones[1].stat);
    // The DMA32 pages walked were skipped, not taken: pgskip_dma32 counts them, pgscan counts
    // them too (6.1's total_scan), and no DMA32 page left its list.
    assert!(
        dma32.pgskip >= k as u64,
        "pgskip {} < {k}; dma {:?} {:?}",
        dma32.pgskip,
        dma,
        m.mem.zones[0].nr_zone_lru
    );
    assert_eq!(dma32.pgscan_kswapd, dma32.pgskip);
    assert_eq!(m.mem.zones[1].pages_scanned, 0);
    assert_eq!(m.mem.zones[1].nr_lru(l), dma32_before);
    assert!(dma.pgscan_kswapd > 0 && dma.pgskip == 0);
    // list_splice(&folios_skipped, src): the tail run now sits, in its order, at the head end.
    let new = list_pages(&m, 0, l);
    let run = &old[old.len() - k..];
    let at = new
        .iter()
        .position(|&id| id == run[0])
        .expect("skipped page still listed");
    assert_eq!(&new[at..at + k], run);
    assert!(at < new.len() / 2, "near the head: {at} of {}", new.len());

    // 4.7: each zone has its own lists; the DMA list holds no DMA32 page and nothing is skipped.
    let mut m = written_two_zone_box("4.7");
    assert!(list_pages(&m, 0, l).iter().all(|&id| zone_of(&m, id) == 0));
    let mut sc = kswapd_sc();
    m.shrink_zone(1, 0, &mut sc);
    assert_eq!(m.mem.zones[1].stat.pgscan_kswapd, 0);
    assert_eq!(m.mem.zones[1].stat.pgskip, 0);
}

/// The watermarks `[min, low, high]` and present pages of the largest zone of a 16 GiB box
/// booted under `profile` with `vm.watermark_scale_factor = factor`.
fn largest_zone_watermarks(profile: &str, factor: u32) -> ([u64; 3], u64) {
    let mut spec = under(
        run_spec(
            Release::V2_6_36,
            Policy::Redirty,
            machine(&[16 << 30]),
            vec![],
            vec![],
            vec![],
        ),
        profile,
    );
    spec.vm.watermark_scale_factor = factor;
    let m = boot(&spec);
    let z = m.mem.zones.iter().max_by_key(|z| z.present).unwrap();
    (z.watermark, z.present)
}

#[test]
fn from_4_6_low_and_high_sit_watermark_scale_factor_ten_thousandths_of_a_big_zone_above_min() {
    // 3.14: low = min + min/4, high = min + min/2, whatever the factor.
    let ([min, low, high], _) = largest_zone_watermarks("3.14", 10);
    assert_eq!((low - min, high - min), (min / 4, min / 2));
    assert_eq!(largest_zone_watermarks("3.14", 100).0, [min, low, high]);
    // 4.7 (795ae7a0de6b, 4.6): the gap is max(min/4, present × factor / 10000), high twice it.
    for factor in [10, 100] {
        let ([min6, low6, high6], present) = largest_zone_watermarks("4.7", factor);
        assert_eq!(min6, min, "min does not move");
        let gap = present * u64::from(factor) / 10_000;
        assert!(gap > min / 4, "on 16 GiB the scaled gap is the larger");
        assert_eq!(
            (low6 - min6, high6 - min6),
            (gap, 2 * gap),
            "factor {factor}"
        );
    }
}

#[test]
fn an_ext4_io_end_whose_pages_all_completed_keeps_them_under_writeback_until_the_rsv_conversion_work_has_converted_it(
) {
    // 5.6, dioread_nolock by default: 4096 pages are several io_ends (≤ 2048 blocks each). The conversion
    // work of the filesystem (`ext4-rsv-conversion`, max_active 1) takes each completed io_end
    // in turn and spends its CPU before the pages end writeback.
    let mut spec = under(
        one_writer(Release::V2_6_36, Policy::Redirty, FsType::Ext4, 4096 * PAGE),
        "5.6",
    );
    spec.mounts[0].delalloc = true;
    let mut m = boot(&spec);
    finish_task(&mut m, 0);
    run_until(&mut m, 60 * SEC, |m| m.wb.io_ends.queued() > 0);
    let (queued_at, converted) = (m.clock.now, m.wb.io_ends.conversions);
    let held: Vec<_> = m.wb.io_ends.held().collect();
    assert!(
        held.len() >= 1024,
        "a whole io_end completed: {}",
        held.len()
    );
    assert!(held
        .iter()
        .all(|&p| m.mem.pages[p as usize].flags & pg::WRITEBACK != 0));
    run_until(&mut m, 60 * SEC, |m| m.wb.io_ends.conversions > converted);
    assert!(m.clock.now - queued_at >= wbsim::mm::ext4_io_end::CONVERT_IO_END);
    run_until(&mut m, 60 * SEC, |m| {
        m.mem.vm_stat.nr_writeback == 0 && m.mem.vm_stat.nr_dirty == 0
    });
    let e = &m.wb.io_ends;
    assert!(e.conversions >= 2, "{}", e.conversions);
    assert!(e.conversion_wait_ns >= e.conversions * wbsim::mm::ext4_io_end::CONVERT_IO_END);
    assert_eq!(e.queued(), 0);
}
