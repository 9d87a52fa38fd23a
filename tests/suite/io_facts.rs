//! Kernel facts of the IO path (issue 13, part A): the request pool every submitter, kswapd
//! included, sleeps in (`get_request_wait`, block/blk-core.c 2.6.32), the congestion wake-up and
//! blk-mq's absence of it, CFQ's sync preference, swap-out accounting, the zone rules of
//! 2.6.32, the memory map, the block-device writer and the device kinds.

use crate::common::*;
use wbsim::block::Waiter;
use wbsim::spec::WorkingSet;

/// A 48 MiB node, one 2 MB/s disk of `nr_requests` requests with two ext3 `data=writeback`
/// mounts and a writer on each, dirty limits so high that reclaim meets dirty pages, kupdate
/// off.
fn two_writers_on_a_small_queue(nr_requests: u32) -> RunSpec {
    two_writers(FsType::Ext3, nr_requests)
}

/// [`two_writers_on_a_small_queue`] with mounts of `fs`.
fn two_writers(fs: FsType, nr_requests: u32) -> RunSpec {
    let mut d = disk(2_000_000);
    d.nr_requests = nr_requests;
    let mut a = mount(fs);
    a.data_mode = DataMode::Writeback;
    let mut b = a.clone();
    b.name = "data2".into();
    let mut w2 = writer(64 * MIB);
    w2.name = "writer2".into();
    if let TaskKind::StreamWrite(s) = &mut w2.kind {
        s.mount = 1;
    }
    let mut spec = run_spec(
        Release::V2_6_32,
        Policy::Redirty,
        machine(&[48 * MIB]),
        vec![d],
        vec![a, b],
        vec![writer(64 * MIB), w2],
    );
    spec.vm.dirty_ratio = 95;
    spec.vm.dirty_background_ratio = 90;
    spec.vm.dirty_writeback_centisecs = 0;
    spec
}

#[test]
fn kswapd_sleeps_in_get_request_wait_when_the_pool_is_exhausted_and_never_holds_more_than_half_again(
) {
    let mut m = boot(&two_writers_on_a_small_queue(4));
    let kswapd_asleep_in_request_wait = |m: &Machine| {
        m.io.disks[0].rl[wbsim::block::BLK_RW_ASYNC]
            .waiters
            .iter()
            .any(|(a, _, _)| *a == Actor::Kswapd(0))
    };
    let frozen_scan: std::cell::Cell<Option<u64>> = std::cell::Cell::new(None);
    run_until(&mut m, 20 * SEC, |m| {
        // ⌊3·4/2⌋ = 6: the hard ceiling, whoever submits.
        assert!(
            m.io.disks[0].allocated() <= 6,
            "{} requests",
            m.io.disks[0].allocated()
        );
        let scanned = m.mem.global(|z| z.stat.pgscan_kswapd);
        // kswapd asleep in the request wait scans nothing.
        if kswapd_asleep_in_request_wait(m) {
            if let Some(s) = frozen_scan.get() {
                assert_eq!(
                    s, scanned,
                    "kswapd scanned while asleep in get_request_wait"
                );
            }
            frozen_scan.set(Some(scanned));
        } else {
            frozen_scan.set(None);
        }
        m.io.wait_stats.sleeps[Waiter::Kswapd as usize] >= 3 && nr_vmscan_write(m) > 0
    });
    assert_eq!(m.io.wait_stats.max_allocated, 6);
}

/// 2.6.32's `__freed_request()` calls `blk_clear_queue_congested()` for every request freed
/// below the congestion-off threshold, and `clear_bdi_congested()` wakes the
/// `congestion_wait(BLK_RW_ASYNC)` sleepers whether or not the queue was congested: a reclaim
/// nap on a queue that is not congested ends at the next async completion, not after `HZ/10`.
#[test]
fn a_reclaim_nap_on_a_queue_that_is_not_congested_ends_at_the_next_async_completion() {
    let mut m = boot(&two_writers(FsType::Ext3, 128));
    let async_list = |m: &Machine| {
        let rl = &m.io.disks[0].rl[wbsim::block::BLK_RW_ASYNC];
        (rl.count, rl.congested)
    };
    let (mut ended_early, mut steps) = (0, 0u64);
    while ended_early < 10 && steps < 5_000_000 && step(&mut m, 20 * SEC) {
        steps += 1;
        let ((count, congested), napping) = (async_list(&m), !m.wb.congestion_waiters.is_empty());
        if !napping || congested || !step(&mut m, 20 * SEC) {
            continue;
        }
        steps += 1;
        if async_list(&m).0 + 1 == count {
            // An async request was freed: every napper is woken at once.
            assert!(
                m.wb.congestion_waiters.is_empty(),
                "{:?} still nap after an async request was freed at {} ns",
                m.wb.congestion_waiters,
                m.clock.now
            );
            ended_early += 1;
        }
    }
    assert!(
        ended_early >= 10,
        "{ended_early} naps ended by a completion"
    );
}

/// blk-mq (the only block layer from 5.0) tracks no congestion: no request list is ever
/// congested, however many requests are allocated, and a `congestion_wait()` nap outlasts the
/// async completions that end it under the legacy request lists (the `block_congestion`
/// switch, the 5.6 profile's `never`).
#[test]
fn under_blk_mq_no_queue_congests_and_an_async_completion_ends_no_reclaim_nap() {
    let spec = with_switch(two_writers(FsType::Ext3, 16), "block_congestion", "never");
    let mut m = boot(&spec);
    let on = m.io.disks[0].congestion_on(); // 15 of 16 under the request lists
    let count = |m: &Machine| m.io.disks[0].rl[wbsim::block::BLK_RW_ASYNC].count;
    let (mut outlasted, mut steps, mut most) = (0, 0u64, 0);
    while (outlasted < 10 || most < on) && steps < 5_000_000 && step(&mut m, 20 * SEC) {
        steps += 1;
        most = most.max(count(&m));
        assert!(!m.io.disks[0].write_congested(), "a blk-mq queue congested");
        let (before, napping) = (count(&m), !m.wb.congestion_waiters.is_empty());
        if !napping || !step(&mut m, 20 * SEC) {
            continue;
        }
        steps += 1;
        if count(&m) + 1 == before && !m.wb.congestion_waiters.is_empty() {
            outlasted += 1; // an async request was freed and the nap goes on
        }
    }
    assert!(
        most >= on,
        "the async list never reached the legacy threshold ({most})"
    );
    assert!(outlasted >= 10, "{outlasted} naps outlasted a completion");
}

/// A 64 MiB node with 128 MiB of swap on the disk of an ext3 mount, and an anon task of
/// `anon_bytes`.
fn swap_on_the_file_disk(anon_bytes: u64) -> RunSpec {
    let mut mm = machine(&[64 * MIB]);
    mm.swap_bytes = 128 * MIB;
    mm.swap_disk = Some(0);
    run_spec(
        Release::V2_6_32,
        Policy::Redirty,
        mm,
        vec![disk(10_000_000)],
        vec![mount(FsType::Ext3)],
        vec![anon("db", anon_bytes)],
    )
}

fn swap_pages_under_writeback(m: &Machine) -> u64 {
    m.mem
        .pages
        .iter()
        .filter(|p| p.has(pg::SWAPCACHE) && p.has(pg::WRITEBACK))
        .count() as u64
}

#[test]
fn swap_out_changes_no_bdi_writeback_count_and_no_bdi_proportion_but_counts_in_nr_writeback() {
    let mut m = boot(&swap_on_the_file_disk(96 * MIB));
    run_until(&mut m, 20 * SEC, |m| swap_pages_under_writeback(m) > 0);
    let swapping = swap_pages_under_writeback(&m);
    assert_eq!(
        m.wb.bdis[0].writeback, 0,
        "swap-out in the disk's BDI_WRITEBACK"
    );
    assert_eq!(m.mem.vm_stat.nr_writeback, swapping);
    assert_eq!(m.mem.global(|z| z.stat.nr_writeback), swapping);
    run_until(&mut m, 30 * SEC, |m| {
        m.stats.vm_events.pswpout > 2 * swapping && disk_idle(m)
    });
    assert_eq!(
        m.wb.bdis[0].bw.written, 0,
        "swap-out completions in BDI_WRITTEN"
    );
    assert_eq!(
        m.wb.bdi_prop.fraction(0).0,
        0,
        "swap-out in the writeout proportion"
    );
}

#[test]
fn a_direct_reclaimer_writes_swap_cache_pages_even_when_the_swap_disk_is_congested() {
    let mut spec = swap_on_the_file_disk(4 * MIB);
    spec.tasks.push(writer(MIB));
    let mut m = boot(&spec);
    run_until(&mut m, 10 * SEC, |m| {
        m.tasks[1].finished_at.is_some() && m.tasks[0].done_bytes >= 4 * MIB
    });
    m.io.disks[0].rl[wbsim::block::BLK_RW_ASYNC].congested = true;
    // A mapped anon page added to the swap cache (dirty), as shrink_page_list does.
    let anon = (0..m.mem.pages.len() as u32)
        .find(|&id| m.mem.pages[id as usize].has(pg::ANON))
        .expect("an anon page");
    assert!(m.add_to_swap(anon));
    m.try_to_unmap(anon);
    let mut sc = direct_sc(0, gfp::GFP_KERNEL);
    assert_eq!(
        m.pageout(anon, &mut sc),
        wbsim::mm::vmscan::PageoutOutcome::Success
    );
    assert!(m.mem.pages[anon as usize].has(pg::WRITEBACK));
    // The control: a dirty file page of the same (congested) disk is kept by a task that is
    // not writing to it and has no PF_SWAPWRITE.
    let file = file_page(&m, 0, 0);
    m.set_page_dirty(file, None);
    assert_eq!(
        m.pageout(file, &mut sc),
        wbsim::mm::vmscan::PageoutOutcome::Keep
    );
}

// The memory map and the zone rules of 2.6.32 ------------------------------------------------

use wbsim::mm::vmscan::KswapdState;
use wbsim::mm::zone::{Wmark, ZoneType};

/// A one-node x86_64 box of `memory` bytes with a PCI hole of `hole` bytes below 4 GiB, no
/// kernel memory, no swap; task 0 never runs (the allocating context of the tests).
fn x86_64_box(memory: u64, hole: u64) -> RunSpec {
    let mut mm = machine(&[memory]);
    mm.layout = NodeLayout::X86_64 {
        pci_hole_bytes: hole,
    };
    let mut idle = anon("idle", 0);
    idle.start_ns = 1000 * SEC;
    run_spec(
        Release::V2_6_32,
        Policy::Redirty,
        mm,
        vec![disk(100_000_000)],
        vec![mount(FsType::Ext3)],
        vec![idle],
    )
}

#[test]
fn a_4gib_box_with_a_768mib_pci_hole_has_dma32_up_to_3_25gib_and_a_768mib_normal_zone() {
    let m = boot(&x86_64_box(4 << 30, 768 * MIB));
    let zones: Vec<_> = m.mem.zones.iter().map(|z| (z.ztype, z.present)).collect();
    assert_eq!(
        zones,
        [
            (ZoneType::Dma, 4096),
            (ZoneType::Dma32, 847_872),
            (ZoneType::Normal, 196_608)
        ]
    );
    // init_per_zone_wmark_min(): int_sqrt(4 GiB in KiB × 16) = 8192; setup_per_zone_wmarks()
    // shares pages_min = 2048 by present pages: tmp, tmp + tmp/4, tmp + tmp/2.
    assert_eq!(m.mem.min_free_kbytes, 8192);
    let w = |z: usize| {
        let z = &m.mem.zones[z];
        [Wmark::Min, Wmark::Low, Wmark::High].map(|w| z.wmark(w))
    };
    assert_eq!(w(0), [8, 10, 12]);
    assert_eq!(w(1), [1656, 2070, 2484]);
    assert_eq!(w(2), [384, 480, 576]);
    // setup_per_zone_lowmem_reserve(): ratio 256 against Normal-class allocations.
    assert_eq!(
        m.mem.zones[1].lowmem_reserve[ZoneType::Normal as usize],
        768
    );
    assert_eq!(
        m.mem.zones[0].lowmem_reserve[ZoneType::Normal as usize],
        (847_872 + 196_608) / 256
    );
    // Without a hole the same 4 GiB is DMA and DMA32 only: no Normal zone at all.
    let flat = boot(&x86_64_box(4 << 30, 0));
    assert_eq!(flat.mem.zones.len(), 2);
}

#[test]
fn with_normal_at_its_low_watermark_a_fast_path_allocation_comes_from_dma32_and_wakes_no_kswapd() {
    // get_page_from_freelist() at ALLOC_WMARK_LOW walks Normal, DMA32, DMA; the fast path never
    // wakes kswapd (mm/page_alloc.c 2.6.32): Normal at low is simply skipped.
    let mut m = boot(&x86_64_box(4 << 30, 768 * MIB));
    let mut from_normal = 0u64;
    let first_dma32 = loop {
        match m.alloc_page(0, gfp::GFP_HIGHUSER_MOVABLE) {
            Alloc::Page(id) if m.mem.pages[id as usize].zone == 2 => from_normal += 1,
            Alloc::Page(id) => break id,
            other => panic!("the fast path failed: {other:?}"),
        }
        assert!(
            from_normal < 200_000,
            "Normal never fell to its low watermark"
        );
    };
    assert_eq!(m.mem.pages[first_dma32 as usize].zone, 1);
    assert!(m.mem.zones[2].nr_free() <= m.mem.zones[2].wmark(Wmark::Low) + 1);
    assert_eq!(m.mem.nodes[0].kswapd.state, KswapdState::Sleeping);
    assert_eq!(m.stats.vm_events.allocstall, 0);
}

/// A 4.75 GiB x86_64 box with a 768 MiB PCI hole (one node: DMA32 and Normal), 128 KiB pages, a
/// 16 GiB backup at 200 MB/s to an 80 MB/s disk, 170 s.
fn two_zone_backup_box() -> RunSpec {
    let mut spec = x86_64_box(4864 * MIB, 768 * MIB);
    spec.machine.kernel_reserved_bytes = 96 * MIB;
    spec.machine.page_bytes = 128 << 10;
    spec.machine.cpus = 4;
    spec.disks[0].bandwidth_bytes_per_sec = 80_000_000;
    spec.disks[0].seek_ns = 8 * MSEC;
    spec.tasks = vec![task(
        "backup",
        TaskKind::StreamWrite(StreamWrite {
            mount: 0,
            bytes: 16 << 30,
            rate_bytes_per_sec: 200_000_000,
            write_bytes: MIB,
        }),
    )];
    spec.limits.sim_time_ns = 170 * SEC;
    spec
}

#[test]
fn on_a_two_zone_node_a_steady_2_6_32_writer_ages_both_zones_in_proportion_to_their_size() {
    // Issue 13 expected the preferred (Normal) zone to turn over faster than DMA32 with kswapd
    // always awake. 2.6.32's balance_pgdat() scans every zone below 8 × high at the same
    // priority ("equal pressure on every zone"), so a steady writer ages both zones in
    // proportion to their size; the imbalance came with 2.6.39's balance_gap (8afdcece4911)
    // and was fixed by 3.12's fair zone allocator (81c0a2bb515f). This asserts the source.
    let spec = two_zone_backup_box();
    let r = engine::simulate(&spec);
    let v = &r.vmstat;
    let (dma32, normal) = (3312.0 * 256.0, 1536.0 * 256.0);
    let steal_dma32 = v.get("pgsteal_dma32") as f64 / dma32;
    let steal_normal = v.get("pgsteal_normal") as f64 / normal;
    assert!(
        steal_normal > 1.0,
        "the writer turned memory over: {steal_normal}"
    );
    assert!(
        (steal_normal - steal_dma32).abs() < 0.1 * steal_dma32,
        "turnover per page: Normal {steal_normal:.3}, DMA32 {steal_dma32:.3}"
    );
    let alloc_normal = v.get("pgalloc_normal") as f64;
    let share = alloc_normal / (alloc_normal + v.get("pgalloc_dma32") as f64);
    let present_share = normal / (normal + dma32);
    assert!(
        (share - present_share).abs() < 0.1 * present_share,
        "Normal's pgalloc share {share:.3}, its share of the pages {present_share:.3}"
    );
}

/// Pages the fast path hands out from each zone of a fresh 4 GiB box with a 768 MiB hole
/// under `profile`, `fair_zone_alloc` set to `fair`, for `count` allocations.
fn fast_path_allocations_per_zone(profile: &str, fair: &str, count: u64) -> [u64; 3] {
    let spec = with_switch(
        under(x86_64_box(4 << 30, 768 * MIB), profile),
        "fair_zone_alloc",
        fair,
    );
    let mut m = boot(&spec);
    let mut per_zone = [0u64; 3];
    for _ in 0..count {
        match m.alloc_page(0, gfp::GFP_HIGHUSER_MOVABLE) {
            Alloc::Page(id) => per_zone[m.mem.pages[id as usize].zone as usize] += 1,
            other => panic!("the fast path failed: {other:?}"),
        }
    }
    per_zone
}

#[test]
fn a_3_12_fast_path_spreads_allocations_over_dma32_and_normal_in_proportion_to_their_size() {
    // 81c0a2bb515f (3.12) get_page_from_freelist(): a local zone whose NR_ALLOC_BATCH
    // (high − low: 96 pages for Normal, 414 for DMA32) is used up is skipped until every local
    // zone used its batch, then reset_alloc_batches() refills them. DMA gives only its pages
    // above low + lowmem_reserve against Normal allocations (4096 − 10 − 4080). Without the
    // policy the preferred zone, Normal, takes everything until its low watermark.
    let fair = fast_path_allocations_per_zone("3.12", "zone", 102_000);
    assert_eq!(fair[0], 6);
    let share = fair[2] as f64 / (fair[1] + fair[2]) as f64;
    let present_share = 196_608.0 / (847_872.0 + 196_608.0);
    assert!(
        (share - present_share).abs() < 0.01,
        "Normal's share {share:.4}, its share of the pages {present_share:.4}: {fair:?}"
    );
    let unfair = fast_path_allocations_per_zone("3.12", "off", 102_000);
    assert_eq!(unfair, [0, 0, 102_000]);
}

#[test]
fn a_4_7_writer_on_a_two_zone_node_allocates_in_proportion_to_the_zone_sizes_only_with_the_fair_policy(
) {
    // The steady writer of the 2.6.32 test above under 4.7 (the last release with the fair zone
    // allocator) and with the policy off, as in 2.6.39–3.11: without it Normal, the preferred
    // zone, takes 0.339 of the allocations for 0.317 of the pages; with it 0.316.
    let share = |fair: &str| {
        let spec = two_zone_backup_box();
        let r = engine::simulate(&with_switch(under(spec, "4.7"), "fair_zone_alloc", fair));
        let normal = r.vmstat.get("pgalloc_normal") as f64;
        normal / (normal + r.vmstat.get("pgalloc_dma32") as f64)
    };
    let present_share = 1536.0 / (1536.0 + 3312.0);
    let (fair, unfair) = (share("zone"), share("off"));
    assert!(
        (fair - present_share).abs() < 0.005,
        "fair: Normal's pgalloc share {fair:.3}, its share of the pages {present_share:.3}"
    );
    assert!(
        unfair > present_share + 0.015,
        "unfair: Normal's pgalloc share {unfair:.3}, its share of the pages {present_share:.3}"
    );
}

// The 2.6.32 writer cadence -----------------------------------------------------------------

#[test]
fn a_2_6_32_writer_over_its_bdi_threshold_pauses_1_2_4_8_16_32_64_100_jiffies_after_4_mib_bursts() {
    // balance_dirty_pages() (mm/page-writeback.c 2.6.32, 87c6a9b2535): the pause doubles from
    // one jiffy to HZ/10 while the bdi stays over its threshold; the writer enters it every
    // ratelimit_pages = min(vm_total_pages / (CPUs × 32), 4 MiB) pages.
    let mut spec = one_writer(Release::V2_6_32, Policy::Redirty, FsType::Ext3, 256 * MIB);
    spec.disks[0].bandwidth_bytes_per_sec = 1_000_000;
    spec.machine.memory_bytes = 256 * MIB;
    spec.machine.layout = NodeLayout::Explicit {
        node_bytes: vec![256 * MIB],
    };
    let mut m = boot(&spec);
    assert_eq!(m.wb.ratelimit_pages, 1024, "4 MiB bursts");
    // The pause each sleep leaves for the next one, per balance_dirty_pages() call.
    let runs: std::cell::RefCell<Vec<Vec<u64>>> = Default::default();
    // A new sleep reschedules the task: its generation moves.
    let last_gen = std::cell::Cell::new(u32::MAX);
    run_until(&mut m, 60 * SEC, |m| {
        let t = &m.tasks[0];
        let asleep = t
            .bdp
            .as_ref()
            .filter(|b| matches!(b.phase, wbsim::mm::page_writeback::BdpPhase::Slept));
        if let Some(b) = asleep.filter(|_| t.gen != last_gen.get()) {
            let mut r = runs.borrow_mut();
            if b.pause == 2 || r.is_empty() {
                r.push(vec![]);
            }
            r.last_mut().expect("a run").push(b.pause);
        }
        last_gen.set(t.gen);
        runs.borrow().iter().any(|r| r.ends_with(&[100, 100]))
    });
    // The sleeps were 1, 2, 4 … 64, then 100 jiffies (HZ/10) each.
    let canonical = [2, 4, 8, 16, 32, 64, 100];
    for r in runs.borrow().iter() {
        for (k, &p) in r.iter().enumerate() {
            assert_eq!(p, canonical[k.min(6)], "the pauses of one call: {r:?}");
        }
    }
}

#[test]
fn a_pci_hole_with_fake_numa_or_reaching_below_16_mib_is_refused_at_its_line() {
    for (name, at, says) in [
        (
            "pci-hole-fake-numa",
            ":8:",
            "cannot be combined with `machine.nodes`",
        ),
        ("pci-hole-too-big", ":7:", "at most 4278185984 bytes"),
    ] {
        let file = format!("tests/fixtures/bad/{name}.toml");
        let out = crate::support::wbsim()
            .args(["validate", &file])
            .output()
            .expect("runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        let head = format!("error: {file}{at}");
        assert!(stderr.starts_with(&head), "want `{head}…`, got:\n{stderr}");
        assert!(stderr.contains("`machine.pci_hole`"), "{stderr}");
        assert!(stderr.contains(says), "want `{says}` in:\n{stderr}");
    }
}

// The block-device writer -------------------------------------------------------------------

#[test]
fn kswapd_writes_a_block_device_page_under_both_policies() {
    // blkdev_writepage() never refuses: reclaim writes a raw device's dirty page cache whatever
    // the refusal policy (fs/block_dev.c 2.6.32).
    for policy in [Policy::Redirty, Policy::Activate] {
        // A 4-request queue keeps the flusher from cleaning the cache ahead of reclaim.
        let mut spec = two_writers(FsType::Blockdev, 4);
        spec.policy = policy;
        let mut m = boot(&spec);
        run_until(&mut m, 20 * SEC, |m| {
            m.stats.counters.pages_written_by_reclaim > 0
        });
        assert!(nr_vmscan_write(&m) > 0, "{policy:?}");
        assert_eq!(m.stats.counters.writepage_refused, 0, "{policy:?}");
    }
}

/// A `stream-read` task of `bytes` on mount `mount`, 32 KiB per `read()` call, as fast as it can.
fn reader(name: &str, mount: usize, bytes: u64) -> TaskSpec {
    task(
        name,
        TaskKind::StreamRead(StreamRead {
            mount,
            bytes,
            rate_bytes_per_sec: 1 << 40,
            read_bytes: 32 << 10,
        }),
    )
}

#[test]
fn a_reader_is_not_blocked_behind_a_full_async_list() {
    // The two-writer box of the request-pool fact, with a reader on the same 4-request disk.
    let mut spec = two_writers_on_a_small_queue(4);
    spec.tasks.push(reader("reader", 0, 256 << 10));
    let mut m = boot(&spec);
    let sync = wbsim::block::BLK_RW_SYNC;
    let async_ = wbsim::block::BLK_RW_ASYNC;
    let served_while_full = std::cell::Cell::new(0u32);
    run_until(&mut m, 60 * SEC, |m| {
        let d = &m.io.disks[0];
        if d.rl[async_].full && !d.rl[async_].waiters.is_empty() && d.rl[sync].count > 0 {
            served_while_full.set(served_while_full.get() + 1);
        }
        m.tasks[2].finished_at.is_some()
    });
    assert!(
        m.tasks[2].finished_at.is_some(),
        "the reader never finished"
    );
    assert!(
        served_while_full.get() > 0,
        "no read was queued while writers slept on the full async list"
    );
    assert!(
        m.io.wait_stats.sleeps[Waiter::Flusher as usize]
            + m.io.wait_stats.sleeps[Waiter::Kswapd as usize]
            > 0
    );
    assert_eq!(m.io.wait_stats.sleeps[Waiter::Reader as usize], 0);
}

#[test]
fn readers_beyond_the_sync_list_sleep_in_get_request_wait_while_the_async_list_stays_empty() {
    // Eight readers of separate files on a slow 4-request disk: ⌊3·4/2⌋ = 6 sync requests at
    // most, so some readers sleep; writes (none here) would still find the async list empty.
    let mut d = disk(2_000_000);
    d.nr_requests = 4;
    let tasks = (0..8)
        .map(|i| reader(&format!("r{i}"), 0, 256 << 10))
        .collect();
    let spec = run_spec(
        Release::V2_6_32,
        Policy::Redirty,
        machine(&[64 * MIB]),
        vec![d],
        vec![mount(FsType::Ext3)],
        tasks,
    );
    let mut m = boot(&spec);
    let sync = wbsim::block::BLK_RW_SYNC;
    run_until(&mut m, 30 * SEC, |m| {
        let d = &m.io.disks[0];
        assert!(d.rl[sync].count <= 6, "{} sync requests", d.rl[sync].count);
        assert_eq!(d.allocated(), 0);
        assert!(!d.write_congested(), "reads made the queue write-congested");
        m.tasks[..m.user_tasks()]
            .iter()
            .all(|t| t.finished_at.is_some())
    });
    assert!(m.tasks[..m.user_tasks()]
        .iter()
        .all(|t| t.finished_at.is_some()));
    assert!(m.io.wait_stats.sleeps[Waiter::Reader as usize] > 0);
}

#[test]
fn the_jbd2_commit_writes_its_ordered_data_as_sync_requests_and_jbds_as_async() {
    // ext4 without delalloc (pages mapped at write_begin) and ext3, data=ordered: each commit
    // writes the running transaction's dirty data; kupdate and background writeback off.
    for (fs, dir) in [
        (FsType::Ext4, wbsim::block::BLK_RW_SYNC),
        (FsType::Ext3, wbsim::block::BLK_RW_ASYNC),
    ] {
        let mut spec = one_writer(Release::V2_6_32, Policy::Redirty, fs, 8 * MIB);
        spec.mounts[0].delalloc = false;
        spec.mounts[0].commit_interval_ns = SEC;
        spec.vm.dirty_background_ratio = 90;
        spec.vm.dirty_ratio = 95;
        spec.vm.dirty_writeback_centisecs = 0;
        let mut m = boot(&spec);
        let seen = std::cell::Cell::new([0u32; 2]);
        run_until(&mut m, 3 * SEC, |m| {
            let mut s = seen.get();
            for r in m.io.disks[0].queue.iter() {
                s[r.kind.dir()] += 1;
            }
            seen.set(s);
            m.stats.counters.pages_written_by_journal > 0 && disk_idle(m)
        });
        let s = seen.get();
        assert!(
            s[dir] > 0 && s[1 - dir] == 0,
            "{fs:?}: requests by direction {s:?}"
        );
    }
}

/// Pages task 0 gets from each of two 64 MiB nodes for 20 000 allocations under
/// `profile` with `fair_zone_alloc = fair`, and whether node 0's kswapd was woken.
fn two_node_allocations(profile: &str, fair: &str) -> ([u64; 2], bool) {
    let spec = run_spec(
        Release::V2_6_32,
        Policy::Redirty,
        machine(&[64 * MIB, 64 * MIB]),
        vec![disk(100_000_000)],
        vec![mount(FsType::Ext3)],
        vec![anon("a", MIB)],
    );
    let mut m = boot(&with_switch(under(spec, profile), "fair_zone_alloc", fair));
    let kswapd_gen = m.mem.nodes[0].kswapd.gen;
    let mut per_node = [0u64; 2];
    for _ in 0..20_000 {
        match m.alloc_page(0, gfp::GFP_HIGHUSER_MOVABLE) {
            Alloc::Page(id) => {
                let zid = m.mem.pages[id as usize].zone as usize;
                per_node[m.mem.zones[zid].node as usize] += 1;
            }
            other => panic!("the allocation slept: {other:?}"),
        }
    }
    // wakeup_kswapd() schedules its run (a new generation); no event runs here.
    (per_node, m.mem.nodes[0].kswapd.gen != kswapd_gen)
}

#[test]
fn from_3_12_to_3_14_a_node_at_its_low_watermark_wakes_its_kswapd_and_allocates_down_to_min_before_spilling(
) {
    // 3.12–3.14 (81c0a2bb515f, fff4068cba48): the fast path is the fair pass and never leaves
    // the preferred node, so once node 0 is at its low watermark the allocation enters the slow
    // path: prepare_slowpath() wakes node 0's kswapd and refills the batches, and the walk at
    // the min watermark still takes node 0 first. 3a025760fc15 (3.15, the 4.7 profile) walks
    // the zonelist again without fairness before the slow path: node 1 takes over at node 0's
    // low watermark and kswapd sleeps.
    let (fast_path, woken) = two_node_allocations("3.14", "fast-path");
    let (spill, spill_woken) = two_node_allocations("3.14", "zone");
    assert!(
        woken && !spill_woken,
        "kswapd woken: {woken} / {spill_woken}"
    );
    assert_eq!(fast_path[0] + fast_path[1], 20_000);
    // Node 0 gives its pages between min and low (a quarter of min: 45 of a 64 MiB node's)
    // first.
    assert!(
        fast_path[0] >= spill[0] + 40,
        "node 0 gave {} pages under 3.14's form, {} under 3.15's",
        fast_path[0],
        spill[0]
    );
}

/// The longest time task `t` waited for a swap-in (its read pages in flight), event by event.
fn longest_read_wait(m: &mut Machine, t: usize, limit: u64) -> u64 {
    let (mut since, mut longest) = (None, 0);
    while step(m, limit) && m.run.outcome.is_none() {
        match (since, m.tasks[t].read_pages.is_empty()) {
            (None, false) => since = Some(m.clock.now),
            (Some(s), true) => {
                longest = longest.max(m.clock.now - s);
                since = None;
            }
            _ => {}
        }
    }
    longest
}

/// A 48 MiB database whose pages are all touched every 100 ms, then a 100 MiB hog, on a
/// 128 MiB node swapping to a 5 MB/s disk (2.6.33), under CFQ or with no I/O scheduler at all
/// (insertion order, what the model did before CFQ: no profile has it).
fn hot_database_swapping(cfq: bool) -> Machine {
    let mut mm = machine(&[128 * MIB]);
    mm.swap_bytes = 256 * MIB;
    mm.swap_disk = Some(0);
    let mut db = anon("db", 48 * MIB);
    if let TaskKind::Anon(a) = &mut db.kind {
        a.working_set = Some(WorkingSet {
            touch_interval_ns: 100 * MSEC,
            hot_bytes: 48 * MIB,
        });
    }
    let mut hog = anon("hog", 100 * MIB);
    if let TaskKind::Anon(a) = &mut hog.kind {
        a.rate_bytes_per_sec = 20 * MIB;
    }
    hog.start_ns = SEC;
    let spec = run_spec(
        Release::V2_6_33,
        Policy::Redirty,
        mm,
        vec![disk(5_000_000)],
        vec![mount(FsType::Ext3)],
        vec![db, hog],
    );
    let mut m = boot(&spec);
    if !cfq {
        m.io.disks[0].scheduler = wbsim::block::Scheduler::Fifo;
    }
    m
}

/// CFQ (block/cfq-iosched.c 2.6.32) serves a task's swap-in before the swap-out already queued
/// on the disk: the read's sync queue preempts the async slice (`cfq_should_preempt()`) and
/// waits only for the async request in the driver to drain (`cfq_may_dispatch()`). Dispatched
/// in insertion order, the read waits behind every queued write (up to 128 requests of
/// 512 KiB, 13 s at 5 MB/s).
#[test]
fn under_cfq_a_swap_in_waits_for_the_write_in_flight_not_for_the_queued_swap_out() {
    let cfq = longest_read_wait(&mut hot_database_swapping(true), 0, 20 * SEC);
    let fifo = longest_read_wait(&mut hot_database_swapping(false), 0, 20 * SEC);
    // A 512 KiB write takes 105 ms at 5 MB/s, a read 4.8 ms (half an 8 ms seek plus its
    // transfer), so a read should wait at most one write and itself.
    assert!(
        cfq > 0 && cfq < 200 * MSEC,
        "longest swap-in under cfq: {cfq} ns"
    );
    assert!(fifo > SEC, "longest swap-in in insertion order: {fifo} ns");
}
