//! Kernel facts of the switches of `wbsim::kernel` (writeback-fs §D for the later kernels): one or
//! more tests per switch, each on a tiny machine, each named after the rule it checks. Every test
//! also checks the behaviour it departs from, so it fails if the switch does nothing; the last ones
//! show `history` naming the switch behind a 2.6.3x flip.

use crate::common::*;
use wbsim::kernel::{CongestionSleep, ReclaimFsWrite};
use wbsim::mm::vmscan::Throttle;
use wbsim::mm::zone::Wmark;

/// A finished ext3 writer of 64 pages on a 64 MiB box under `profile`, and its pages.
fn ext3_file(profile: &str) -> (Machine, Vec<PageId>) {
    let spec = under(
        one_writer(Release::V2_6_36, Policy::Redirty, FsType::Ext3, 64 * PAGE),
        profile,
    );
    let mut m = boot(&spec);
    finish_task(&mut m, 0);
    let pages = file_pages(&m, 0);
    (m, pages)
}

/// Dirty pages of file 0.
fn dirty_of(m: &Machine, pages: &[PageId]) -> usize {
    pages
        .iter()
        .filter(|&&p| m.mem.pages[p as usize].flags & pg::DIRTY != 0)
        .count()
}

// §D.3 ---------------------------------------------------------------------------------------

#[test]
fn from_2_6_39_pg_reclaim_survives_clear_page_dirty_for_io_and_set_page_dirty_clears_it() {
    for (profile, survives) in [("2.6.36", false), ("2.6.39", true)] {
        let (mut m, pages) = ext3_file(profile);
        let p = pages[0];
        m.mem.pages[p as usize].flags |= pg::RECLAIM;
        assert!(m.clear_page_dirty_for_io(p));
        assert_eq!(
            m.mem.pages[p as usize].flags & pg::RECLAIM != 0,
            survives,
            "{profile}"
        );
        m.set_page_dirty(p, None);
        assert_eq!(m.mem.pages[p as usize].flags & pg::RECLAIM, 0, "{profile}");
        m.check_invariants();
    }
}

// §D.4 ---------------------------------------------------------------------------------------

#[test]
fn from_3_2_direct_reclaim_marks_dirty_file_pages_for_immediate_reclaim_instead_of_writing() {
    for (profile, written) in [("2.6.36", true), ("3.2", false)] {
        let (mut m, pages) = ext3_file(profile);
        let mut sc = direct_sc(0, gfp::GFP_KERNEL);
        for _ in 0..3 {
            m.shrink_zone(1, 0, &mut sc);
        }
        if written {
            assert_eq!(nr_vmscan_write(&m), 32, "{profile}");
            assert_eq!(m.stats.counters.vmscan_immediate, 0);
        } else {
            assert_eq!(nr_vmscan_write(&m), 0, "{profile}");
            // Three batches of 32, each marked: the dirty test follows the references test.
            assert_eq!(m.stats.counters.vmscan_immediate, 96);
            assert_eq!(dirty_of(&m, &pages), 64, "nothing cleaned");
            for &p in &pages[..32] {
                assert_ne!(m.mem.pages[p as usize].flags & pg::RECLAIM, 0, "marked");
            }
        }
        m.check_invariants();
    }
}

#[test]
fn from_3_2_kswapd_writes_file_pages_only_below_priority_10() {
    for (prio, written) in [(12, 0), (10, 0), (9, 32)] {
        let (mut m, _) = ext3_file("3.2");
        let mut sc = kswapd_sc();
        for _ in 0..3 {
            m.shrink_zone(1, 0, &mut sc); // meet every page once (references)
        }
        let before = m.stats.counters.pages_written_by_reclaim;
        let mut sc = kswapd_sc();
        // Priority `prio` scans 64 >> prio pages; drive the writes at that priority directly.
        for _ in 0..2 {
            let mut nr = [0u64; 4];
            nr[LruList::InactiveFile.idx()] = 32;
            sc.resume = Some((0, nr));
            m.shrink_zone(prio, 0, &mut sc);
        }
        assert_eq!(
            m.stats.counters.pages_written_by_reclaim - before,
            written,
            "priority {prio}"
        );
        m.check_invariants();
    }
}

// §D.12 --------------------------------------------------------------------------------------

#[test]
fn in_mainline_pageout_activates_a_regular_file_page_instead_of_writing_it() {
    for (profile, expect) in [
        ("5.16", wbsim::mm::vmscan::PageoutOutcome::Success),
        ("mainline", wbsim::mm::vmscan::PageoutOutcome::Activate),
    ] {
        let (mut m, pages) = ext3_file(profile);
        let p = pages[0];
        m.mem.lru_del(p, Place::Isolated);
        m.mem.zones[0].stat.nr_isolated_file += 1;
        let mut sc = kswapd_sc();
        assert_eq!(m.pageout(p, &mut sc), expect, "{profile}");
        m.mem.lru_add_head(p, LruList::InactiveFile);
        m.mem.zones[0].stat.nr_isolated_file -= 1;
        assert_eq!(
            m.switches.reclaim_fs_writepage == ReclaimFsWrite::Never,
            profile == "mainline"
        );
    }
}

// §D.9 ---------------------------------------------------------------------------------------

#[test]
fn from_4_11_kswapd_writes_a_dirty_page_only_when_seen_twice_in_a_dirty_zone_and_activates_it_otherwise(
) {
    let (mut m, pages) = ext3_file("4.11");
    let mut sc = kswapd_sc();
    for _ in 0..3 {
        m.shrink_zone(1, 0, &mut sc);
    }
    // First sight: marked PG_reclaim and activated out of the way (the dirty test comes before
    // the PG_referenced one); the zone's tail was all unqueued dirty pages, so it is flagged.
    assert_eq!(m.stats.counters.pages_written_by_reclaim, 0);
    assert_eq!(m.stats.counters.vmscan_immediate, 64);
    for &p in &pages {
        assert_ne!(m.mem.pages[p as usize].flags & pg::RECLAIM, 0, "page {p}");
    }
    assert!(
        m.stats.vm_events.pgactivate >= 32,
        "activated out of the way"
    );
    assert!(m.reclaim_flags(0).tail_lru_dirty, "PGDAT_DIRTY from 4.8");
    // Seen twice (PG_reclaim already set) in a dirty zone: kswapd writes it.
    for &p in &pages {
        m.mem.lru_del(p, Place::Held);
        m.mem.pages[p as usize].flags &= !pg::ACTIVE;
        m.mem.lru_add_tail(p, LruList::InactiveFile);
    }
    m.shrink_zone(1, 0, &mut sc);
    assert!(m.stats.counters.pages_written_by_reclaim >= 32);
    assert_eq!(
        m.stats.counters.vmscan_immediate, 64,
        "no page was refused twice"
    );
    m.check_invariants();
}

#[test]
fn from_4_11_a_batch_of_only_unqueued_dirty_pages_wakes_the_flushers() {
    for (profile, woken) in [("3.14", false), ("4.11", true)] {
        let (mut m, _) = ext3_file(profile);
        // The writer's own background work is done or absent: empty the work list first.
        let had = !m.wb.bdis[0].works.is_empty();
        let mut sc = direct_sc(0, gfp::GFP_KERNEL);
        for _ in 0..3 {
            m.shrink_zone(1, 0, &mut sc);
        }
        assert_eq!(
            !m.wb.bdis[0].works.is_empty() && !had,
            woken,
            "{profile}: flusher work queued by reclaim"
        );
    }
}

// §D.5 ---------------------------------------------------------------------------------------

/// The 64 pages of an ext3 file, all under writeback (submitted, not completed).
fn under_writeback(profile: &str) -> (Machine, Vec<PageId>) {
    let (mut m, pages) = ext3_file(profile);
    for &p in &pages {
        if m.clear_page_dirty_for_io(p) {
            m.set_page_writeback_and_submit(p, Actor::Flusher(0));
        }
    }
    (m, pages)
}

#[test]
fn from_3_2_reclaim_throttles_when_the_isolated_pages_are_under_writeback() {
    for (profile, sleep) in [
        ("2.6.36", None),
        ("3.2", None), // wait_iff_congested: the zone is not flagged congested
    ] {
        let (mut m, _) = under_writeback(profile);
        let mut sc = direct_sc(0, gfp::GFP_KERNEL);
        m.shrink_zone(1, 0, &mut sc);
        assert_eq!(sc.throttle, sleep, "{profile}");
    }
    // With congestion_wait as the sleep primitive (2.6.36's), 3.2's test sleeps at once.
    let spec = with_switch(
        under(
            one_writer(Release::V2_6_36, Policy::Redirty, FsType::Ext3, 64 * PAGE),
            "3.2",
        ),
        "congestion_sleep",
        "always",
    );
    let mut m = boot(&spec);
    finish_task(&mut m, 0);
    for p in file_pages(&m, 0) {
        if m.clear_page_dirty_for_io(p) {
            m.set_page_writeback_and_submit(p, Actor::Flusher(0));
        }
    }
    let mut sc = direct_sc(0, gfp::GFP_KERNEL);
    m.shrink_zone(12, 0, &mut sc);
    let mut nr = [0u64; 4];
    nr[LruList::InactiveFile.idx()] = 32;
    sc.resume = Some((0, nr));
    m.shrink_zone(12, 0, &mut sc);
    assert_eq!(sc.throttle, Some(Throttle::Writeback));
    assert!(sc.resume.is_some(), "the zone resumes after the sleep");
}

#[test]
fn from_3_11_a_batch_all_under_writeback_flags_the_zone_and_kswapd_stalls_on_marked_pages() {
    let (mut m, pages) = under_writeback("3.11");
    let mut sc = kswapd_sc();
    m.shrink_zone(1, 0, &mut sc);
    assert!(m.mem.zones[0].flags.writeback, "ZONE_WRITEBACK");
    assert_eq!(sc.throttle, None, "first sight: PG_reclaim set, no stall");
    assert!(pages[..32]
        .iter()
        .all(|&p| m.mem.pages[p as usize].flags & pg::RECLAIM != 0));
    let mut nr = [0u64; 4];
    nr[LruList::InactiveFile.idx()] = 64;
    sc.resume = Some((0, nr));
    m.shrink_zone(1, 0, &mut sc);
    assert_eq!(sc.throttle, Some(Throttle::Immediate), "nr_immediate > 0");
}

// §D.2 / §D.10 -------------------------------------------------------------------------------

#[test]
fn in_5_16_a_writeback_throttled_reclaimer_wakes_after_32_pages_per_sleeper_finish_writeback() {
    let (mut m, _) = ext3_file("5.16");
    assert_eq!(
        m.switches.congestion_sleep,
        CongestionSleep::ReclaimThrottle
    );
    m.throttle_sleep(Actor::Task(0), 0, Throttle::Immediate, 0);
    assert_eq!(m.mem.nodes[0].throttled, vec![Actor::Task(0)]);
    for _ in 0..31 {
        m.acct_reclaim_writeback(0);
    }
    assert_eq!(m.mem.nodes[0].throttled.len(), 1);
    m.acct_reclaim_writeback(0);
    assert!(m.mem.nodes[0].throttled.is_empty(), "woken early");
}

#[test]
fn from_2_6_37_wait_iff_congested_does_not_sleep_between_priorities_when_no_queue_is_congested() {
    for (release, profile, sleeps) in [
        (Release::V2_6_36, "2.6.36", true),
        (Release::V2_6_36, "2.6.37", false),
    ] {
        let spec = under(
            one_writer(release, Policy::Redirty, FsType::Ext4, 2 * MIB),
            profile,
        );
        let mut spec = spec;
        let mut r = anon("reclaimer", 0);
        r.start_ns = 1000 * SEC;
        spec.tasks.push(r);
        let mut m = boot(&spec);
        finish_task(&mut m, 0);
        assert!(m.io.disks.iter().all(|d| !d.write_congested()));
        CONGESTION_SLEEPS.with(|c| c.set(0));
        direct_reclaim_pass(&mut m, 1, gfp::GFP_KERNEL);
        let n = CONGESTION_SLEEPS.with(|c| c.get());
        assert_eq!(n > 0, sleeps, "{profile}: {n} congestion_wait sleeps");
    }
}

// §D.6 ---------------------------------------------------------------------------------------

#[test]
fn from_3_2_a_throttled_writer_only_sleeps_and_never_submits_io_itself() {
    for (profile, io_less) in [("2.6.39", false), ("3.2", true)] {
        let spec = under(
            run_spec(
                Release::V2_6_36,
                Policy::Redirty,
                machine(&[64 * MIB]),
                vec![disk(20_000_000)],
                vec![mount(FsType::Ext3)],
                vec![writer(40 * MIB)],
            ),
            profile,
        );
        let mut m = boot(&spec);
        run_until(&mut m, 60 * SEC, |m| m.tasks[0].finished_at.is_some());
        if io_less {
            assert_eq!(m.stats.counters.pages_written_by_dirtier, 0, "{profile}");
            assert!(
                m.stats.counters.dirty_pauses > 0,
                "{profile}: paced by pauses"
            );
        } else {
            assert!(m.stats.counters.pages_written_by_dirtier > 0, "{profile}");
            assert_eq!(m.stats.counters.dirty_pauses, 0);
        }
    }
}

#[test]
fn from_3_2_the_balanced_dirty_ratelimit_never_exceeds_the_write_bandwidth() {
    // A writer that dirties in bursts and then pauses: with little dirtied between two
    // updates, task_ratelimit × write_bw / dirty_rate is huge, and 3.2 caps it at write_bw.
    let mut w = writer(24 * MIB);
    if let TaskKind::StreamWrite(StreamWrite {
        rate_bytes_per_sec,
        write_bytes,
        ..
    }) = &mut w.kind
    {
        *rate_bytes_per_sec = 2_000_000;
        *write_bytes = MIB;
    }
    let spec = under(
        run_spec(
            Release::V2_6_36,
            Policy::Redirty,
            machine(&[16 * MIB]),
            vec![disk(1_000_000)],
            vec![mount(FsType::Ext3)],
            vec![w],
        ),
        "3.2",
    );
    let mut m = boot(&spec);
    run_until(&mut m, 60 * SEC, |m| {
        let bw = &m.wb.bdis[0].bw;
        assert!(
            bw.balanced_dirty_ratelimit <= bw.avg_write_bw.max(1 << 15),
            "balanced {} over the write bandwidth {}",
            bw.balanced_dirty_ratelimit,
            bw.avg_write_bw
        );
        assert!(
            bw.dirty_ratelimit <= 1 << 15,
            "dirty_ratelimit {}",
            bw.dirty_ratelimit
        );
        m.tasks[0].finished_at.is_some()
    });
    assert!(
        m.stats.counters.dirty_pauses > 0,
        "the writer was never throttled"
    );
}

// §D.7 / §D.8 --------------------------------------------------------------------------------

#[test]
fn from_3_3_write_allocations_skip_a_zone_over_its_dirty_limit_in_the_fast_path() {
    for (profile, skips) in [("3.2", false), ("3.3", true)] {
        let spec = under(
            run_spec(
                Release::V2_6_36,
                Policy::Redirty,
                machine(&[32 * MIB, 32 * MIB]),
                vec![disk(5_000_000)],
                vec![mount(FsType::Ext3)],
                vec![writer(24 * MIB)],
            ),
            profile,
        );
        let mut m = boot(&spec);
        run_until(&mut m, 60 * SEC, |m| m.tasks[0].finished_at.is_some());
        assert_eq!(m.stats.counters.zone_dirty_skips > 0, skips, "{profile}");
        if skips {
            // The writer's pages spread over both nodes.
            let per_zone: Vec<u64> = m.mem.zones.iter().map(|z| z.stat.nr_file_pages).collect();
            assert!(per_zone.iter().all(|&n| n > 0), "{per_zone:?}");
        }
        m.check_invariants();
    }
}

#[test]
fn from_3_3_dirtyable_memory_excludes_the_reserves_and_from_3_14_the_anon_pages() {
    let spec = |profile| {
        let mut mspec = machine(&[64 * MIB]);
        mspec.swap_bytes = 64 * MIB;
        mspec.swap_disk = Some(0);
        under(
            run_spec(
                Release::V2_6_36,
                Policy::Redirty,
                mspec,
                vec![disk(100_000_000)],
                vec![],
                vec![anon("a", 16 * MIB)],
            ),
            profile,
        )
    };
    let mut vals = vec![];
    for profile in ["3.2", "3.3", "3.14"] {
        let mut m = boot(&spec(profile));
        finish_task(&mut m, 0);
        vals.push((m.dirtyable_memory(), m.mem.zone_dirty_balance_reserve(0)));
    }
    let (v32, reserve) = vals[0];
    assert_eq!(
        vals[1].0,
        v32 - reserve,
        "3.3 subtracts dirty_balance_reserve"
    );
    assert!(
        vals[2].0 + 4000 < vals[1].0,
        "3.14 drops the 4096 anon pages: {vals:?}"
    );
}

// ext4 write_begin (3.9) -------------------------------------------------------------------

#[test]
fn from_3_9_a_starved_ext4_writer_allocates_with_gfp_fs_and_may_invoke_the_oom_killer() {
    for (profile, writer_invokes) in [("3.3", false), ("3.9", true)] {
        let mut w = writer(64 * MIB);
        w.cpuset_nodes = Some(vec![0]);
        let mut spec = under(
            run_spec(
                Release::V2_6_36,
                Policy::Redirty,
                machine(&[8 * MIB, 56 * MIB]),
                vec![disk(1_000_000)],
                vec![mount(FsType::Ext4)],
                vec![w],
            ),
            profile,
        );
        spec.limits.sim_time_ns = 30 * SEC;
        let r = engine::simulate(&spec);
        let invoker = match &r.outcome {
            Outcome::Oom { invoker, .. } => Some(invoker.as_str()),
            _ => None,
        };
        assert_eq!(
            invoker == Some("writer"),
            writer_invokes,
            "{profile}: {:?}",
            r.outcome
        );
    }
}

#[test]
fn from_3_11_kswapd_writes_file_pages_only_once_a_batch_has_flagged_the_zone_tail_dirty() {
    let (mut m, _) = ext3_file("3.11");
    assert!(!m.mem.zones[0].flags.tail_lru_dirty);
    let mut sc = kswapd_sc();
    let mut nr = [0u64; 4];
    nr[LruList::InactiveFile.idx()] = 32;
    sc.resume = Some((0, nr));
    m.shrink_zone(1, 0, &mut sc);
    // The first batch met 32 dirty, unqueued pages: none written, the zone flagged.
    assert_eq!(nr_vmscan_write(&m), 0);
    assert_eq!(m.stats.counters.vmscan_immediate, 32);
    assert!(m.mem.zones[0].flags.tail_lru_dirty);
    // The next batch meets fresh pages (PG_referenced: kept); the one after meets the first 32
    // again, unreferenced now, in a flagged zone: written.
    for _ in 0..2 {
        sc.resume = Some((0, nr));
        m.shrink_zone(1, 0, &mut sc);
    }
    assert_eq!(
        nr_vmscan_write(&m),
        32,
        "the flagged zone's pages are written"
    );
    m.check_invariants();
}

// 2.6.32–2.6.36 as switches ----------------------------------------------------------------

/// A writer confined to an 8 MiB node of a 64 MiB box, on a 1 MB/s disk, as a scenario file.
const STARVED_EXT3_WRITER: &str = r#"
[scenario]
name = "starved"
release = "2.6.32"
duration = "30s"
[machine]
memory = "64MiB"
nodes = ["8MiB", "56MiB"]
kernel_reserved = 0
cpus = 1
[disk.sdb]
bandwidth = "1MB/s"
seek = "5ms"
[mount.data]
fs = "ext3"
disk = "sdb"
[task.writer]
kind = "stream-write"
mount = "data"
size = "64MiB"
rate = "1TiB/s"
write_size = "64MiB"
cpuset = [0]
"#;

#[test]
fn history_names_the_2_6_33_switch_that_turns_a_starved_ext3_writer_from_stalled_into_oom() {
    let src = std::sync::Arc::new(wbsim::scenario::error::Source {
        name: "starved.toml".into(),
        text: STARVED_EXT3_WRITER.into(),
    });
    let ov = wbsim::scenario::Overrides {
        policies: vec![Policy::Redirty],
        ..Default::default()
    };
    let sc = wbsim::scenario::load_source(&src, &ov).expect("a valid scenario");
    let releases = vec!["2.6.32".to_string(), "2.6.33".to_string()];
    let runner = wbsim::run::Runner::new(Some(1), wbsim::run::Checks::default());
    let h = wbsim::history::history(&sc, &releases, &runner).expect("history runs");
    assert_eq!(
        h.outcomes[0][0].kind,
        wbsim::outcome::OutcomeKind::Stalled,
        "{:?}",
        h.outcomes
    );
    assert_eq!(
        h.outcomes[0][1].kind,
        wbsim::outcome::OutcomeKind::Oom,
        "{:?}",
        h.outcomes
    );
    // 2.6.33 turns on three switches; run alone on 2.6.32, only kswapd's skipped congestion wait
    // under the min watermark flips the outcome (kswapd marks the node all-unreclaimable within
    // ~100 ms instead of napping at every priority).
    assert_eq!(h.flips.len(), 1);
    assert_eq!(
        h.flips[0].cause,
        wbsim::history::Cause::Alone(vec![("kswapd_congestion_wait", "skip-under-min")])
    );
    assert!(
        h.flip_lines()[0].contains("bb3ab596832"),
        "{:?}",
        h.flip_lines()
    );
}

/// A 4.75 GiB x86-64 box with a 768 MiB PCI hole (DMA, DMA32 3312 MiB, Normal 1536 MiB) booted
/// under `profile`, DMA32's free pages cut to `dma32_free(&machine)`.
fn box_with_dma32_free(profile: &str, dma32_free: &dyn Fn(&Machine) -> u64) -> Machine {
    let mut mm = machine(&[4864 * MIB]);
    mm.layout = NodeLayout::X86_64 {
        pci_hole_bytes: 768 * MIB,
    };
    let spec = under(
        run_spec(
            Release::V2_6_36,
            Policy::Redirty,
            mm,
            vec![],
            vec![],
            vec![],
        ),
        profile,
    );
    let mut m = boot(&spec);
    assert_eq!(m.mem.zones.len(), 3, "DMA, DMA32, Normal");
    let want = dma32_free(&m);
    let z = &mut m.mem.zones[1];
    while z.free.len() as u64 > want {
        let id = z.free.pop().unwrap();
        m.mem.pages[id as usize].place = Place::Held;
        m.mem.vm_stat.nr_free -= 1;
    }
    m
}

#[test]
fn from_2_6_39_kswapd_leaves_a_zone_above_high_plus_balance_gap_alone() {
    // balance_pgdat()'s walk up to end_zone (Normal): 2.6.32–2.6.38 shrink every zone below
    // 8 × high; 32a4330d4156 (2.6.39) only a zone below high + min(low, ⌈present / 100⌉).
    let gap = |m: &Machine| {
        let z = &m.mem.zones[1];
        z.wmark(Wmark::Low).min(z.present.div_ceil(100))
    };
    let between = |m: &Machine| {
        let z = &m.mem.zones[1];
        let high = z.wmark(Wmark::High);
        assert!(high + gap(m) < 8 * high);
        (high + gap(m) + 8 * high) / 2
    };
    let below = |m: &Machine| m.mem.zones[1].wmark(Wmark::High) + gap(m) - 1;
    for (profile, dma32_free, left_alone) in [
        ("2.6.37", &between as &dyn Fn(&Machine) -> u64, false),
        ("2.6.39", &between, true),
        ("2.6.39", &below, false),
    ] {
        let m = box_with_dma32_free(profile, dma32_free);
        assert_eq!(m.kswapd_zone_ok(1, 2), left_alone, "{profile}");
    }
}
