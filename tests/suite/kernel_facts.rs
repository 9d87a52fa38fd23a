//! Kernel facts of 2.6.32–2.6.36 reclaim, writeback and the OOM killer, each checked on a tiny
//! machine built inline and driven through the engine's public API. Every test is named after the
//! fact it checks; the section of `/work/shared/model/*.md` it follows is cited above it.

use crate::common::*;

// ---------------------------------------------------------------------------------------------
// 1. Watermarks (reclaim-oom §1.1, §1.2).
// ---------------------------------------------------------------------------------------------

#[test]
fn a_128mib_fake_numa_node_on_a_32gib_box_has_watermarks_min_22_low_27_high_33() {
    let spec = run_spec(
        Release::V2_6_36,
        Policy::Redirty,
        MachineSpec {
            memory_bytes: 32 << 30,
            kernel_reserved_bytes: 0,
            layout: NodeLayout::FakeNuma {
                node_bytes: 128 * MIB,
            },
            swap_bytes: 0,
            swap_disk: None,
            hz: 1000,
            cpus: 1,
            page_bytes: PAGE,
            slab: Default::default(),
        },
        vec![],
        vec![],
        vec![],
    );
    let m = boot(&spec);
    assert_eq!(m.mem.min_free_kbytes, 23170, "int_sqrt(32 GiB in KiB × 16)");
    assert_eq!(m.mem.nodes.len(), 256);
    // Node 0 holds ZONE_DMA (16 MiB) and a 112 MiB DMA32 zone; every other node is one 128 MiB
    // zone (DMA32 below 4 GiB, Normal above).
    let mut full = 0;
    for z in &m.mem.zones {
        if z.present == 128 * MIB / PAGE {
            assert_eq!(z.watermark, [22, 27, 33], "node {} {:?}", z.node, z.ztype);
            full += 1;
        }
    }
    assert_eq!(full, 255);
    m.check_invariants();
}

// ---------------------------------------------------------------------------------------------
// 2. btrfs refuses writepage under PF_MEMALLOC (writeback-fs §C.3, reclaim-oom §5 step 12, §6).
// ---------------------------------------------------------------------------------------------

#[test]
fn btrfs_refuses_writepage_from_kswapd_so_dirty_pages_met_twice_stay_dirty_and_nothing_is_submitted(
) {
    for release in Release::ALL {
        let spec = one_writer(release, Policy::Redirty, FsType::Btrfs, MIB);
        let mut m = boot(&spec);
        finish_task(&mut m, 0);
        let pages = file_pages(&m, 0);
        assert_eq!(pages.len(), 256);
        assert!(pages
            .iter()
            .all(|&p| m.mem.pages[p as usize].has(pg::DIRTY)));

        // First trip: the writer's mark_page_accessed left PG_referenced, so every dirty page is
        // kept without a writepage call and loses the reference.
        let mut sc = kswapd_sc();
        m.shrink_zone(0, 0, &mut sc);
        assert_eq!(
            m.stats.counters.writepage_refused, 0,
            "{release:?}: first trip writes nothing"
        );
        assert_eq!(nr_vmscan_write(&m), 0);
        assert!(pages
            .iter()
            .all(|&p| !m.mem.pages[p as usize].has(pg::REFERENCED)));

        // Second trip: pageout → btrfs_writepage under PF_MEMALLOC → redirty.
        m.shrink_zone(0, 0, &mut sc);
        assert_eq!(m.stats.counters.writepage_refused, 256, "{release:?}");
        assert_eq!(
            nr_vmscan_write(&m),
            256,
            "{release:?}: counted though unwritten"
        );
        assert_eq!(sc.nr_reclaimed, 0);
        for &p in &pages {
            let f = m.mem.pages[p as usize].flags;
            assert!(f & pg::DIRTY != 0, "{release:?}: page {p} was cleaned");
            assert!(f & (pg::WRITEBACK | pg::RECLAIM) == 0);
            assert_eq!(m.mem.pages[p as usize].place, Place::Lru);
        }
        assert_eq!(m.mem.global(|z| z.stat.nr_dirty), 256);
        assert_eq!(m.mem.global(|z| z.stat.nr_writeback), 0);
        assert_eq!(m.stats.counters.pages_written_by_reclaim, 0);
        m.unplug_all();
        assert!(disk_idle(&m), "{release:?}: something reached the disk");
        m.check_invariants();
    }
}

// ---------------------------------------------------------------------------------------------
// 3. XFS per release (writeback-fs §C.4).
// ---------------------------------------------------------------------------------------------

/// Who reclaims in the XFS tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reclaimer {
    Kswapd,
    /// Task 0 in direct reclaim (PF_MEMALLOC), GFP_KERNEL.
    Direct,
}

/// An XFS file of 256 dirty delalloc pages met twice by `who` in full-list `shrink_zone` passes.
fn xfs_reclaim_twice(release: Release, who: Reclaimer) -> Machine {
    let spec = one_writer(release, Policy::Redirty, FsType::Xfs, MIB);
    let mut m = boot(&spec);
    finish_task(&mut m, 0);
    let mut sc = match who {
        Reclaimer::Kswapd => kswapd_sc(),
        Reclaimer::Direct => {
            m.tasks[0].pf |= pf::MEMALLOC;
            direct_sc(0, gfp::GFP_KERNEL)
        }
    };
    m.shrink_zone(0, 0, &mut sc);
    assert_eq!(m.stats.counters.writepage_refused + nr_vmscan_write(&m), 0);
    m.shrink_zone(0, 0, &mut sc);
    m.tasks[0].pf &= !pf::MEMALLOC;
    m.unplug_all();
    m
}

fn dirty_pages_of_file0(m: &Machine) -> usize {
    file_pages(m, 0)
        .iter()
        .filter(|&&p| m.mem.pages[p as usize].has(pg::DIRTY))
        .count()
}

#[test]
fn xfs_2_6_36_writes_from_kswapd_clustering_32_pages_per_writepage() {
    let m = xfs_reclaim_twice(Release::V2_6_36, Reclaimer::Kswapd);
    assert_eq!(m.stats.counters.writepage_refused, 0);
    assert_eq!(dirty_pages_of_file0(&m), 0);
    assert_eq!(m.stats.counters.pages_written_by_reclaim, 256);
    // Each ->writepage writes its page and clusters the 31 that follow (nr_to_write = 32).
    assert_eq!(nr_vmscan_write(&m), 256 / 32);
    assert_eq!(m.mem.global(|z| z.stat.nr_writeback), 256);
    m.check_invariants();
}

#[test]
fn xfs_2_6_36_refuses_writepage_from_direct_reclaim() {
    let m = xfs_reclaim_twice(Release::V2_6_36, Reclaimer::Direct);
    assert_eq!(m.stats.counters.writepage_refused, 256);
    assert_eq!(dirty_pages_of_file0(&m), 256);
    assert_eq!(m.stats.counters.pages_written_by_reclaim, 0);
    assert!(disk_idle(&m));
    m.check_invariants();
}

#[test]
fn xfs_2_6_35_refuses_writepage_from_kswapd_and_from_direct_reclaim() {
    for who in [Reclaimer::Kswapd, Reclaimer::Direct] {
        let m = xfs_reclaim_twice(Release::V2_6_35, who);
        assert_eq!(m.stats.counters.writepage_refused, 256, "{who:?}");
        assert_eq!(dirty_pages_of_file0(&m), 256, "{who:?}");
        assert_eq!(m.stats.counters.pages_written_by_reclaim, 0, "{who:?}");
        assert!(disk_idle(&m), "{who:?}");
        m.check_invariants();
    }
}

#[test]
fn xfs_2_6_32_writes_from_direct_reclaim_clustering_up_to_128_pages_per_writepage() {
    let m = xfs_reclaim_twice(Release::V2_6_32, Reclaimer::Direct);
    assert_eq!(m.stats.counters.writepage_refused, 0);
    assert_eq!(dirty_pages_of_file0(&m), 0);
    assert_eq!(m.stats.counters.pages_written_by_reclaim, 256);
    // wbc->nr_to_write *= 4 from reclaim: 4 × 32 pages per call, the victim included.
    assert_eq!(nr_vmscan_write(&m), 256 / 128);
    m.check_invariants();
}

// ---------------------------------------------------------------------------------------------
// 5. Where a refused page goes, per policy (reclaim-oom §5, §6 table).
// ---------------------------------------------------------------------------------------------

/// An ext4 (delalloc) file of 64 dirty pages, scanned 32 pages at a time by kswapd at priority 1
/// three times: the first two calls meet every page once (PG_referenced cleared, kept), the
/// third meets pages 0..31 again and calls ->writepage on them, which ext4 refuses.
fn ext4_refusal(release: Release, policy: Policy) -> (Machine, Vec<PageId>) {
    let spec = one_writer(release, policy, FsType::Ext4, 64 * PAGE);
    let mut m = boot(&spec);
    finish_task(&mut m, 0);
    let pages = file_pages(&m, 0);
    assert_eq!(
        m.mem.zones[0].lru[LruList::InactiveFile.idx()].tail,
        pages[0]
    );
    let mut sc = kswapd_sc();
    for _ in 0..2 {
        m.shrink_zone(1, 0, &mut sc);
    }
    assert_eq!(m.stats.counters.writepage_refused, 0);
    assert_eq!(
        m.mem.zones[0].lru[LruList::InactiveFile.idx()].tail,
        pages[0]
    );
    m.shrink_zone(1, 0, &mut sc);
    assert_eq!(
        m.stats.counters.writepage_refused, 32,
        "{release:?} {policy:?}"
    );
    (m, pages)
}

#[test]
fn under_redirty_a_refused_page_returns_to_the_inactive_head_and_counts_nr_vmscan_write() {
    for release in Release::ALL {
        let (m, pages) = ext4_refusal(release, Policy::Redirty);
        let inactive = list_pages(&m, 0, LruList::InactiveFile);
        let refused: Vec<PageId> = pages[..32].iter().rev().copied().collect();
        let unscanned: Vec<PageId> = pages[32..].iter().rev().copied().collect();
        assert_eq!(
            inactive[..32],
            refused[..],
            "{release:?}: refused pages at the head"
        );
        assert_eq!(inactive[32..], unscanned[..], "{release:?}");
        assert_eq!(m.mem.zones[0].lru[LruList::ActiveFile.idx()].len, 0);
        for &p in &pages[..32] {
            let f = m.mem.pages[p as usize].flags;
            assert!(f & pg::DIRTY != 0 && f & pg::DELALLOC != 0);
            assert!(f & (pg::ACTIVE | pg::RECLAIM | pg::WRITEBACK) == 0);
        }
        assert_eq!(nr_vmscan_write(&m), 32, "{release:?}");
        assert_eq!(m.stats.vm_events.pgactivate, 0, "{release:?}");
        m.check_invariants();
    }
}

#[test]
fn under_activate_a_refused_page_goes_to_the_active_head_counting_pgactivate_not_nr_vmscan_write() {
    for release in Release::ALL {
        let (m, pages) = ext4_refusal(release, Policy::Activate);
        let active = list_pages(&m, 0, LruList::ActiveFile);
        let refused: Vec<PageId> = pages[..32].iter().rev().copied().collect();
        assert_eq!(
            active, refused,
            "{release:?}: refused pages on the active list"
        );
        let inactive = list_pages(&m, 0, LruList::InactiveFile);
        let unscanned: Vec<PageId> = pages[32..].iter().rev().copied().collect();
        assert_eq!(inactive, unscanned, "{release:?}");
        for &p in &pages[..32] {
            let f = m.mem.pages[p as usize].flags;
            assert!(f & pg::DIRTY != 0 && f & pg::ACTIVE != 0);
            assert!(f & (pg::RECLAIM | pg::WRITEBACK) == 0);
        }
        assert_eq!(m.stats.vm_events.pgactivate, 32, "{release:?}");
        assert_eq!(nr_vmscan_write(&m), 0, "{release:?}");
        m.check_invariants();
    }
}

// ---------------------------------------------------------------------------------------------
// 6. PG_reclaim rotation on IO completion (reclaim-oom §7).
// ---------------------------------------------------------------------------------------------

#[test]
fn a_reclaim_written_ext3_page_rotates_to_the_inactive_tail_when_its_io_completes() {
    let spec = one_writer(Release::V2_6_32, Policy::Redirty, FsType::Ext3, 64 * PAGE);
    let mut m = boot(&spec);
    finish_task(&mut m, 0);
    let pages = file_pages(&m, 0);
    let mut sc = kswapd_sc();
    for _ in 0..3 {
        m.shrink_zone(1, 0, &mut sc);
    }
    // The third call wrote pages 0..31 and kept them at the inactive head with PG_reclaim.
    assert_eq!(m.stats.counters.pages_written_by_reclaim, 32);
    assert_eq!(nr_vmscan_write(&m), 32);
    let inactive = list_pages(&m, 0, LruList::InactiveFile);
    let written_rev: Vec<PageId> = pages[..32].iter().rev().copied().collect();
    assert_eq!(inactive[..32], written_rev[..]);
    for &p in &pages[..32] {
        let f = m.mem.pages[p as usize].flags;
        assert!(f & pg::WRITEBACK != 0 && f & pg::RECLAIM != 0 && f & pg::DIRTY == 0);
    }
    assert_eq!(m.stats.vm_events.pgrotated, 0);
    m.unplug_all();
    m.check_invariants();

    // Drive the disk: the request's completion ends writeback on each page in block order.
    run_until(&mut m, SEC, |m| m.mem.global(|z| z.stat.nr_writeback) == 0);
    assert!(m.clock.now < 5 * SEC, "no journal commit or kupdate ran");
    assert_eq!(m.stats.vm_events.pgrotated, 32);
    let inactive = list_pages(&m, 0, LruList::InactiveFile);
    let unscanned: Vec<PageId> = pages[32..].iter().rev().copied().collect();
    assert_eq!(inactive[..32], unscanned[..]);
    assert_eq!(
        inactive[32..],
        pages[..32],
        "rotated to the tail, completion order"
    );
    for &p in &pages[..32] {
        assert!(m.mem.pages[p as usize].flags & (pg::WRITEBACK | pg::RECLAIM | pg::DIRTY) == 0);
    }
    m.check_invariants();
}

#[test]
fn a_flusher_written_ext3_page_does_not_rotate_when_its_io_completes() {
    let spec = one_writer(Release::V2_6_32, Policy::Redirty, FsType::Ext3, 64 * PAGE);
    let mut m = boot(&spec);
    finish_task(&mut m, 0);
    let before = list_pages(&m, 0, LruList::InactiveFile);
    m.wakeup_flusher_threads(64);
    run_until(&mut m, SEC, |m| {
        m.stats.counters.pages_written_by_writeback == 64
            && m.mem.global(|z| z.stat.nr_writeback) == 0
    });
    assert!(m.clock.now < 5 * SEC);
    assert_eq!(m.mem.global(|z| z.stat.nr_dirty), 0);
    assert_eq!(m.stats.vm_events.pgrotated, 0);
    assert_eq!(list_pages(&m, 0, LruList::InactiveFile), before);
    m.check_invariants();
}

// ---------------------------------------------------------------------------------------------
// 4. The ext4 writer allocates GFP_NOFS and never invokes the OOM killer (writeback-fs §A.12,
//    reclaim-oom §2.5 step 8).
// ---------------------------------------------------------------------------------------------

/// A writer confined (cpuset) to an 8 MiB node of a 64 MiB box, on a 1 MB/s disk: the global
/// dirty limit (20 % of 64 MiB) is larger than its node, so the node fills with dirty pages.
fn starved_writer(release: Release, fs: FsType) -> RunSpec {
    let mut w = writer(64 * MIB);
    w.cpuset_nodes = Some(vec![0]);
    let mut spec = run_spec(
        release,
        Policy::Redirty,
        machine(&[8 * MIB, 56 * MIB]),
        vec![disk(1_000_000)],
        vec![mount(fs)],
        vec![w],
    );
    spec.limits.sim_time_ns = 30 * SEC;
    spec
}

#[test]
fn the_ext4_writer_allocates_nofs_and_never_invokes_the_oom_killer_while_an_ext3_writer_can() {
    for release in Release::ALL {
        let mut outcomes = vec![];
        for fs in [FsType::Ext3, FsType::Ext4] {
            let spec = starved_writer(release, fs);
            let mut m = Machine::boot(
                &spec,
                Options {
                    stop_at_first_oom: true,
                    check_invariants: false,
                    handle_every_event: false,
                },
            );
            engine::run(&mut m);
            m.check_invariants();
            outcomes.push(engine::result(&m));
        }
        let (ext3, ext4) = (&outcomes[0], &outcomes[1]);
        // The ext4 writer's own direct reclaim came back empty (the node is all dirty delalloc
        // or under writeback), yet without __GFP_FS the slow path never calls
        // __alloc_pages_may_oom: it loops in congestion_wait(HZ/50) instead.
        assert!(
            ext4.reclaim_no_progress > 0,
            "{release:?}: ext4 never starved"
        );
        assert!(
            !matches!(&ext4.outcome, Outcome::Oom { invoker, .. } if invoker == "writer"),
            "{release:?}: the GFP_NOFS ext4 writer invoked the OOM killer: {:?}",
            ext4.outcome
        );
        assert!(
            ext3.reclaim_no_progress > 0,
            "{release:?}: ext3 never starved"
        );
        let skips = starved_writer(release, FsType::Ext3)
            .kernel
            .switches
            .kswapd_congestion_wait;
        if skips == wbsim::kernel::KswapdCongestionWait::SkipUnderMin {
            // kswapd skips its congestion wait under the min watermark [≥33], marks the node
            // all-unreclaimable within ~100 ms, and the writer's next GFP_HIGHUSER_MOVABLE
            // pass returns 0: the ext3 writer kills (itself, the only task).
            match &ext3.outcome {
                Outcome::Oom {
                    invoker,
                    constraint,
                    ..
                } => {
                    assert_eq!(invoker, "writer", "{release:?}");
                    assert_eq!(*constraint, wbsim::outcome::Constraint::Cpuset);
                }
                other => panic!("{release:?}: ext3 writer did not OOM: {other:?}"),
            }
        } else {
            // 2.6.32: the ext3 writer's passes do return 0 (reclaim_no_progress > 0 above) and it
            // does enter __alloc_pages_may_oom, but each time kswapd (which still naps in
            // congestion_wait at every priority in 2.6.32) has freed pages rotated by completed
            // IO in the meantime, so the "catch a parallel OOM kill" high-watermark attempt
            // succeeds (probed: free 96 > high 48 at each of the 8 no-progress returns). No kill;
            // the 1 MB/s disk makes the writer run out of time instead.
            assert!(
                !matches!(ext3.outcome, Outcome::Oom { .. }),
                "{release:?}: {:?}",
                ext3.outcome
            );
        }
    }
}

/// `xfs_vm_write_begin()` passes `AOP_FLAG_NOFS` from 2.6.36 (aea1b953214, switch
/// `xfs_write_begin_nofs`): the starved XFS writer that kills in 2.6.35 loops in the allocator in
/// 2.6.36, like ext4's.
#[test]
fn from_2_6_36_the_xfs_writer_allocates_nofs_and_never_invokes_the_oom_killer() {
    for (release, nofs) in [(Release::V2_6_35, false), (Release::V2_6_36, true)] {
        let spec = starved_writer(release, FsType::Xfs);
        assert_eq!(spec.kernel.switches.xfs_write_begin_nofs, nofs);
        let r = engine::simulate(&spec);
        let writer_invoked =
            matches!(&r.outcome, Outcome::Oom { invoker, .. } if invoker == "writer");
        assert_eq!(writer_invoked, !nofs, "{release:?}: {:?}", r.outcome);
        assert!(
            r.reclaim_no_progress > 0,
            "{release:?}: the writer never starved"
        );
        // The same 2.6.36 kernel with 2.6.35's writer mask kills again.
        if nofs {
            let full = with_switch(spec.clone(), "xfs_write_begin_nofs", "false");
            assert!(matches!(
                engine::simulate(&full).outcome,
                Outcome::Oom { .. }
            ));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 7. A free resets pages_scanned and all-unreclaimable only through free_pcppages_bulk
//    (reclaim-oom §1.4, §8.5).
// ---------------------------------------------------------------------------------------------

#[test]
fn a_free_resets_pages_scanned_and_all_unreclaimable_only_when_the_per_cpu_list_overflows() {
    let mut spec = one_writer(Release::V2_6_36, Policy::Redirty, FsType::Ext4, MIB);
    spec.tasks = vec![anon("a", 0)];
    let mut m = boot(&spec);
    let (batch, high) = (m.mem.zones[0].pcp_batch, m.mem.zones[0].pcp_high);
    assert!(batch >= 1 && high > batch, "batch {batch} high {high}");
    let mut held = vec![];
    for _ in 0..high {
        match m.alloc_page(0, gfp::GFP_KERNEL) {
            Alloc::Page(id) => held.push(id),
            other => panic!("allocation failed: {other:?}"),
        }
    }
    m.drain_all_pages();
    assert!(m.mem.zones[0].pcp[0].is_empty());
    m.mem.zones[0].pages_scanned = 1000;
    m.mem.zones[0].all_unreclaimable = true;
    let buddy = m.mem.zones[0].nr_free();

    for (k, &id) in held.iter().enumerate() {
        m.free_page(id, 0);
        let z = &m.mem.zones[0];
        if k + 1 < high {
            assert_eq!(z.pages_scanned, 1000, "free #{} reset pages_scanned", k + 1);
            assert!(
                z.all_unreclaimable,
                "free #{} cleared all_unreclaimable",
                k + 1
            );
            assert_eq!(
                z.nr_free(),
                buddy,
                "free #{} reached the buddy lists",
                k + 1
            );
            assert_eq!(z.pcp[0].len(), k + 1);
        } else {
            // The free that brings the list to pcp->high moves a batch to the buddy lists.
            assert_eq!(z.pages_scanned, 0);
            assert!(!z.all_unreclaimable);
            assert_eq!(z.nr_free(), buddy + batch as u64);
            assert_eq!(z.pcp[0].len(), high - batch);
        }
    }
    m.check_invariants();
}

/// The node of the zone a page of task 0 came from.
fn alloc_node(m: &mut Machine, gfp_mask: u32) -> (PageId, u32) {
    match m.alloc_page(0, gfp_mask) {
        Alloc::Page(id) => (id, m.mem.zones[m.mem.pages[id as usize].zone as usize].node),
        other => panic!("allocation failed: {other:?}"),
    }
}

#[test]
fn the_fast_path_takes_the_first_cpuset_node_above_its_low_watermark_and_returns_to_a_node_freed_into(
) {
    // Four 64 MiB nodes; the task's cpuset is nodes 1 and 2, so its zonelist starts at node 1.
    let mut spec = one_writer(Release::V2_6_32, Policy::Redirty, FsType::Ext4, MIB);
    spec.machine = machine(&[64 * MIB; 4]);
    let mut a = anon("a", 0);
    a.cpuset_nodes = Some(vec![1, 2]);
    spec.tasks = vec![a];
    let mut m = boot(&spec);
    let low = m.mem.zones[1].watermark[1];
    let mut node1 = vec![];
    loop {
        let (id, node) = alloc_node(&mut m, gfp::GFP_HIGHUSER_MOVABLE);
        if node != 1 {
            // Node 1 is exhausted down to its low watermark; the next cpuset node serves,
            // never node 0 or 3, which are outside the cpuset.
            assert_eq!(node, 2, "page {id} came from outside the cpuset");
            assert_eq!(
                m.mem.zones[1].nr_free(),
                low,
                "left node 1 above its low watermark"
            );
            break;
        }
        node1.push(id);
    }
    for _ in 0..10 {
        assert_eq!(alloc_node(&mut m, gfp::GFP_HIGHUSER_MOVABLE).1, 2);
    }
    // Freeing node 1's pages puts a batch back on its buddy list once the per-CPU list
    // overflows: the next allocation is node 1's again.
    let high = m.mem.zones[1].pcp_high;
    for &id in &node1[..high] {
        m.free_page(id, 0);
    }
    assert!(m.mem.zones[1].nr_free() > low);
    let pcp_left = m.mem.zones[1].pcp[0].len();
    assert_eq!(alloc_node(&mut m, gfp::GFP_HIGHUSER_MOVABLE).1, 1);
    assert_eq!(
        m.mem.zones[1].pcp[0].len(),
        pcp_left - 1,
        "not from node 1's per-CPU list"
    );
    m.check_invariants();
}

/// When a reader of a 64 MiB file at 100 MB/s in `read()` calls of `read_bytes` finishes.
fn read_finish(read_bytes: u64) -> u64 {
    let mut spec = one_writer(Release::V2_6_32, Policy::Redirty, FsType::Ext3, MIB);
    spec.tasks = vec![task(
        "reader",
        TaskKind::StreamRead(StreamRead {
            mount: 0,
            bytes: 64 * MIB,
            rate_bytes_per_sec: 1 << 40,
            read_bytes,
        }),
    )];
    let mut m = boot(&spec);
    run_until(&mut m, 10 * SEC, |m| m.tasks[0].finished_at.is_some());
    assert_eq!(m.tasks[0].done_bytes, 64 * MIB);
    m.tasks[0].finished_at.expect("finished")
}

#[test]
fn a_read_call_larger_than_one_request_returns_only_when_its_last_request_completes() {
    // 64 MiB through a 100 MB/s disk takes at least 0.67 s, whatever the size of the calls:
    // a 4 MiB call is 32 requests of 512 KiB, and the reader copies each as it completes.
    let transfer = 64 * MIB * SEC / 100_000_000;
    let (small, large) = (read_finish(128 << 10), read_finish(4 * MIB));
    assert!(small >= transfer, "128 KiB calls finished at {small} ns");
    assert!(large >= transfer, "4 MiB calls finished at {large} ns");
    assert!(
        large.abs_diff(small) < transfer / 10,
        "{small} ns vs {large} ns"
    );
}

// ---------------------------------------------------------------------------------------------
// 8. The direct-reclaim progress rule of each release (reclaim-oom §3.2, §3.5).
// ---------------------------------------------------------------------------------------------

/// 2.6.32's `do_try_to_free_pages()`: "The swap token gets in the way of swapout..." — a pass
/// that frees nothing goes down to priority 0, where `disable_swap_token()` takes the token
/// from its holder; with the token removed (3.5) there is none to take.
#[test]
fn a_direct_reclaim_pass_that_reaches_priority_0_takes_the_swap_token_away() {
    let mut m = refused_inactive_list(Release::V2_6_32);
    m.swap_token.holder = Some(0);
    assert_eq!(direct_reclaim_pass(&mut m, 1, gfp::GFP_KERNEL), 0);
    assert_eq!(m.swap_token.holder, None, "the holder kept the token");
}

#[test]
fn a_full_direct_reclaim_pass_over_refused_dirty_pages_returns_0_in_2_6_32_to_2_6_34() {
    for release in [
        Release::V2_6_32_0,
        Release::V2_6_32,
        Release::V2_6_33,
        Release::V2_6_34,
    ] {
        let mut m = refused_inactive_list(release);
        let progress = direct_reclaim_pass(&mut m, 1, gfp::GFP_KERNEL);
        assert!(
            m.stats.counters.writepage_refused >= 512,
            "{release:?}: pages were not refused"
        );
        assert!(
            !m.mem.zones[0].all_unreclaimable,
            "only kswapd marks a zone"
        );
        assert!(m.mem.zone_reclaimable(0));
        assert_eq!(progress, 0, "{release:?}");
        m.check_invariants();
    }
}

#[test]
fn a_full_direct_reclaim_pass_over_refused_dirty_pages_returns_1_in_2_6_35_because_a_zone_was_shrunk(
) {
    let mut m = refused_inactive_list(Release::V2_6_35);
    for pass in 0..4 {
        let progress = direct_reclaim_pass(&mut m, 1, gfp::GFP_KERNEL);
        assert_eq!(progress, 1, "pass {pass}");
    }
    assert!(m.stats.counters.writepage_refused >= 512);
    // Even far past the 6× mark: only kswapd's all-unreclaimable flag makes 2.6.35 return 0.
    assert!(!m.mem.zone_reclaimable(0));
    assert!(!m.mem.zones[0].all_unreclaimable);
    m.check_invariants();
}

#[test]
fn a_full_direct_reclaim_pass_over_refused_dirty_pages_returns_1_in_2_6_36_until_pages_scanned_reaches_6x_reclaimable(
) {
    let mut m = refused_inactive_list(Release::V2_6_36);
    let mut results = vec![];
    for _ in 0..10 {
        let progress = direct_reclaim_pass(&mut m, 1, gfp::GFP_KERNEL);
        let scanned = m.mem.zones[0].pages_scanned;
        let reclaimable = m.mem.zone_reclaimable_pages(0);
        assert_eq!(reclaimable, 512);
        let expected = u64::from(scanned < 6 * reclaimable);
        assert_eq!(
            progress, expected,
            "pages_scanned {scanned}, reclaimable {reclaimable}"
        );
        results.push(progress);
        if progress == 0 {
            break;
        }
    }
    assert!(results.len() >= 2 && results[0] == 1, "{results:?}");
    assert_eq!(results.last(), Some(&0), "{results:?}");
    assert!(m.stats.counters.writepage_refused >= 512);

    // A free that flushes a per-CPU batch resets pages_scanned and revives "progress"
    // (`free_pcppages_bulk()` clears them before it looks at the count).
    m.free_pcppages_bulk(0, 0, 0);
    assert_eq!(m.mem.zones[0].pages_scanned, 0);
    assert_eq!(direct_reclaim_pass(&mut m, 1, gfp::GFP_KERNEL), 1);
    m.check_invariants();
}

// ---------------------------------------------------------------------------------------------
// 9. What a killed task's exit frees (reclaim-oom §9.4).
// ---------------------------------------------------------------------------------------------

#[test]
fn a_killed_victim_frees_its_private_anon_memory_but_not_page_cache_nor_shm_locked_shm() {
    let mut spec = one_writer(Release::V2_6_32, Policy::Redirty, FsType::Ext4, MIB);
    let shm = task(
        "shm_owner",
        TaskKind::Pin(Pin {
            bytes: 2 * MIB,
            method: PinMethod::ShmLock,
            working_set: None,
        }),
    );
    let mut db = anon("db", 4 * MIB);
    db.attach = vec![1];
    spec.tasks = vec![writer(MIB), shm, db];
    let mut m = boot(&spec);
    run_until(&mut m, SEC, |m| {
        m.tasks[..m.user_tasks()]
            .iter()
            .all(|t| t.finished_at.is_some())
    });
    assert_eq!(m.vfs.segments.len(), 1);
    assert!(m.vfs.segments[0].locked);
    let seg_pages = m.vfs.segments[0].pages.clone();
    assert_eq!(m.vfs.segments[0].resident, 512);
    assert_eq!(m.tasks[2].anon.len(), 1024);
    let cache_pages = file_pages(&m, 0);
    assert_eq!(cache_pages.len(), 256);
    let file_before = m.mem.global(|z| z.stat.nr_file_pages);
    let dirty_before = m.mem.global(|z| z.stat.nr_dirty);

    // The anon task exits: exactly its 1024 private pages are freed; the segment it maps stays.
    let free0 = free_pages(&m);
    m.do_exit(2);
    assert_eq!(free_pages(&m), free0 + 1024);
    assert!(m.tasks[2].anon.is_empty() && m.tasks[2].dead);
    assert_eq!(m.mem.global(|z| z.stat.nr_anon_pages), 0);
    assert_eq!(m.vfs.segments[0].resident, 512);
    m.check_invariants();

    // The writer exits: its file's page cache (dirty, not yet written) stays cached.
    let free1 = free_pages(&m);
    m.do_exit(0);
    assert_eq!(free_pages(&m), free1);
    assert_eq!(file_pages(&m, 0), cache_pages);
    assert!(cache_pages
        .iter()
        .all(|&p| m.mem.pages[p as usize].place == Place::Lru));
    assert_eq!(m.mem.global(|z| z.stat.nr_file_pages), file_before);
    assert_eq!(m.mem.global(|z| z.stat.nr_dirty), dirty_before);
    m.check_invariants();

    // The SHM_LOCK'd segment's creator exits: the segment persists until IPC_RMID.
    m.do_exit(1);
    assert_eq!(free_pages(&m), free1);
    assert_eq!(m.vfs.segments[0].resident, 512);
    assert_eq!(m.vfs.segments[0].pages, seg_pages);
    for &p in &seg_pages {
        let pg_ = &m.mem.pages[p as usize];
        assert_eq!(pg_.place, Place::Lru);
        assert!(pg_.has(pg::SHMEM));
    }
    assert_eq!(m.mem.global(|z| z.stat.nr_shmem), 512);
    m.check_invariants();
}

// ---------------------------------------------------------------------------------------------
// 10. Victim selection: kill-a-child-first and cpusets (reclaim-oom §9.2, §9.3).
// ---------------------------------------------------------------------------------------------

/// A parent (8 MiB) with a small first child (1 MiB) and a big second child (4 MiB), and an
/// invoker with no memory, all faulted in; then the invoker's GFP_HIGHUSER_MOVABLE allocation
/// calls the OOM killer.
fn family_oom(release: Release) -> Machine {
    let mut small = anon("small_child", MIB);
    small.parent = Some(0);
    let mut big = anon("big_child", 4 * MIB);
    big.parent = Some(0);
    let mut spec = one_writer(release, Policy::Redirty, FsType::Ext4, MIB);
    spec.tasks = vec![anon("parent", 8 * MIB), small, big, anon("invoker", 0)];
    let mut m = boot(&spec);
    run_until(&mut m, SEC, |m| {
        m.tasks[..m.user_tasks()]
            .iter()
            .all(|t| t.finished_at.is_some())
    });
    assert_eq!(m.tasks[0].children, vec![1, 2]);
    assert!(m.out_of_memory(3, gfp::GFP_HIGHUSER_MOVABLE));
    m
}

#[test]
fn in_2_6_32_the_oom_killer_picks_the_parent_and_kills_its_first_child_whatever_its_size() {
    for release in [
        Release::V2_6_32_0,
        Release::V2_6_32,
        Release::V2_6_33,
        Release::V2_6_34,
        Release::V2_6_35,
    ] {
        let m = family_oom(release);
        let (victim, invoker, points) = oom_victim(&m);
        assert_eq!(victim, "small_child", "{release:?}");
        assert_eq!(invoker, "invoker");
        // badness(parent) = total_vm + Σ children (total_vm/2 + 1) = 2048 + 129 + 513.
        assert_eq!(points, 2048 + (256 / 2 + 1) + (1024 / 2 + 1), "{release:?}");
        assert!(m.tasks[1].killed && m.tasks[1].memdie);
        assert!(!m.tasks[0].killed && !m.tasks[2].killed);
        m.check_invariants();
    }
}

#[test]
fn in_2_6_36_the_oom_killer_picks_the_parent_and_kills_its_highest_scoring_child() {
    let m = family_oom(Release::V2_6_36);
    let (victim, _, points) = oom_victim(&m);
    assert_eq!(victim, "big_child");
    // oom_badness(parent) = rss × 1000 / totalpages = 2048 × 1000 / 16384.
    assert_eq!(points, 125);
    assert!(m.tasks[2].killed && !m.tasks[1].killed && !m.tasks[0].killed);
    m.check_invariants();
}

/// Two 32 MiB nodes: a 16 MiB task confined to node 1, a 1 MiB task and the invoker (no memory)
/// confined to node 0; the invoker's allocation calls the OOM killer.
fn cpuset_oom(release: Release) -> Machine {
    let mut foreign = anon("foreign", 16 * MIB);
    foreign.cpuset_nodes = Some(vec![1]);
    let mut local = anon("local", MIB);
    local.cpuset_nodes = Some(vec![0]);
    let mut invoker = anon("invoker", 0);
    invoker.cpuset_nodes = Some(vec![0]);
    let spec = run_spec(
        release,
        Policy::Redirty,
        machine(&[32 * MIB, 32 * MIB]),
        vec![],
        vec![],
        vec![foreign, local, invoker],
    );
    let mut m = boot(&spec);
    run_until(&mut m, SEC, |m| {
        m.tasks[..m.user_tasks()]
            .iter()
            .all(|t| t.finished_at.is_some())
    });
    let node_of = |m: &Machine, t: usize| {
        m.mem.zones[m.mem.pages[m.tasks[t].anon[0] as usize].zone as usize].node
    };
    assert_eq!(node_of(&m, 0), 1);
    assert_eq!(node_of(&m, 1), 0);
    assert!(m.out_of_memory(2, gfp::GFP_HIGHUSER_MOVABLE));
    m
}

#[test]
fn in_2_6_32_a_task_in_a_disjoint_cpuset_stays_eligible_with_its_badness_divided_by_8() {
    let m = cpuset_oom(Release::V2_6_32);
    let (victim, _, points) = oom_victim(&m);
    assert_eq!(victim, "foreign");
    assert_eq!(
        points,
        4096 / 8,
        "4096 pages of total_vm, /8 for the foreign cpuset"
    );
    m.check_invariants();
}

#[test]
fn in_2_6_36_a_task_in_a_disjoint_cpuset_is_not_eligible() {
    let m = cpuset_oom(Release::V2_6_36);
    let (victim, _, points) = oom_victim(&m);
    assert_eq!(victim, "local");
    // CONSTRAINT_CPUSET: totalpages = node 0's 8192 pages; 256 × 1000 / 8192.
    assert_eq!(points, 31);
    assert!(!m.tasks[0].killed);
    m.check_invariants();
}

// ---------------------------------------------------------------------------------------------
// 10b. Truncation (mm/truncate.c 2.6.32, `truncate_inode_pages_range()`; docs/MODEL.md 24).
// ---------------------------------------------------------------------------------------------

/// 2.6.32, 64 MiB, an ext3 mount on a disk of `bandwidth` bytes/s: writer `w` (task 0) and a
/// truncate of its file (task 1, "cut") starting at `cut_at`.
fn truncated_on_ext3(w: TaskSpec, bandwidth: u64, cut_at: u64) -> RunSpec {
    let mut cut = task(
        "cut",
        TaskKind::Truncate(wbsim::mm::workload::Truncate { target: 0 }),
    );
    cut.start_ns = cut_at;
    run_spec(
        Release::V2_6_32,
        Policy::Redirty,
        machine(&[64 * MIB]),
        vec![disk(bandwidth)],
        vec![mount(FsType::Ext3)],
        vec![w, cut],
    )
}

#[test]
fn truncates_second_pass_sleeps_on_each_page_under_writeback_before_dropping_the_dirty_ones_after_it(
) {
    // A writer dirties 2 MB/s in 64 KiB calls to a 1 MB/s ext3 disk, the flusher writing from
    // about 3 s (the background threshold); a truncate starts at 5 s.
    // Its first pass drops every page not under writeback; its second waits, in index order,
    // on the first page under writeback, so what the writer dirties meanwhile stays cached
    // until the walk reaches it. (Dropping every idle page at each look would leave at most
    // the last call's 16 pages dirty.)
    let mut w = writer(32 * MIB);
    w.kind = TaskKind::StreamWrite(StreamWrite {
        mount: 0,
        bytes: 32 * MIB,
        rate_bytes_per_sec: 2_000_000,
        write_bytes: 64 * 1024,
    });
    let mut m = boot(&truncated_on_ext3(w, 1_000_000, 5 * SEC));
    while step(&mut m, 7 * SEC) {}
    let ino = m.tasks[0].file.expect("the writer's file");
    let cached: Vec<(u32, u32)> = m.vfs.inodes[ino]
        .pages
        .iter()
        .map(|(i, id)| (i, m.mem.pages[id as usize].flags))
        .collect();
    let waited = cached
        .iter()
        .position(|&(_, f)| f & pg::WRITEBACK != 0)
        .unwrap_or_else(|| {
            let n = |b: u32| cached.iter().filter(|&&(_, f)| f & b != 0).count();
            panic!(
                "no page under writeback: {} cached, {} dirty, {} journal io, truncate {:?}",
                cached.len(),
                n(pg::DIRTY),
                n(pg::JOURNAL_IO),
                m.tasks[1].finished_at
            )
        });
    assert!(
        cached[..waited].is_empty(),
        "the walk dropped every page before the one it waits on: {:?}",
        &cached[..waited.min(4)]
    );
    let dirty_after = cached[waited..]
        .iter()
        .filter(|&&(_, f)| f & pg::DIRTY != 0 && f & pg::WRITEBACK == 0)
        .count();
    assert!(
        dirty_after > 64,
        "{dirty_after} dirty pages after the waited-on index {}",
        cached[waited].0
    );
    assert!(m.tasks[1].finished_at.is_none(), "the truncate still waits");
    // Asleep on that page in wait_on_page_writeback(), not polling.
    let page = m.vfs.inodes[ino].pages.get(cached[waited].0);
    assert_eq!(m.mem.writeback_waiters, [(page, 1)]);
}

#[test]
fn a_truncate_meeting_a_page_the_ext3_commit_is_writing_sleeps_until_that_write_completes() {
    // 1 MiB written at once on ext3 (below the background threshold: only the commit writes
    // it, as ordered data, about 5 s in); a 100 kB/s disk takes some 10 s over it. A truncate
    // at 9 s drops the pages already written and sleeps in lock_buffer() on the first one
    // still under the commit's write (journal_invalidatepage()).
    let mut m = boot(&truncated_on_ext3(writer(MIB), 100_000, 9 * SEC));
    while step(&mut m, 9 * SEC + MSEC) {}
    let ino = m.tasks[0].file.expect("the writer's file");
    let (&(page, t), rest) = m
        .mem
        .lock_waiters
        .split_first()
        .expect("the truncate sleeps on a page");
    assert!(rest.is_empty() && t == 1);
    assert!(m.mem.pages[page as usize].flags & pg::JOURNAL_IO != 0);
    let first = m.vfs.inodes[ino].pages.iter().next().expect("pages left");
    assert_eq!(first.1, page, "everything before it was dropped");
    // The journal's data write wakes it; it drops the rest and finishes.
    run_until(&mut m, 30 * SEC, |m| m.tasks[1].finished_at.is_some());
    assert!(m.mem.lock_waiters.is_empty());
    assert_eq!(m.vfs.inodes[ino].pages.iter().count(), 0);
}

// ---------------------------------------------------------------------------------------------
// 11. Determinism.
// ---------------------------------------------------------------------------------------------

/// Two writers of 24 MiB each into a 32 MiB box on one 20 MB/s disk: throttled, reclaimed,
/// IO-paced, and seeking between the two files (the disks' seek jitter is the seeded stream).
fn determinism_spec(seed: u64) -> RunSpec {
    let mut second = writer(24 * MIB);
    second.name = "writer2".into();
    let mut spec = run_spec(
        Release::V2_6_34,
        Policy::Redirty,
        machine(&[32 * MIB]),
        vec![disk(20_000_000)],
        vec![mount(FsType::Ext3)],
        vec![writer(24 * MIB), second],
    );
    spec.seed = seed;
    spec
}

fn run_fast(spec: &RunSpec) -> wbsim::outcome::RunResult {
    let mut m = Machine::boot(
        spec,
        Options {
            stop_at_first_oom: true,
            check_invariants: false,
            handle_every_event: false,
        },
    );
    engine::run(&mut m);
    m.check_invariants();
    engine::result(&m)
}

#[test]
fn the_same_spec_and_seed_give_identical_results_and_the_seed_reaches_the_engine() {
    let a = run_fast(&determinism_spec(7));
    let b = run_fast(&determinism_spec(7));
    assert!(
        a.events > 1000,
        "too small a run to mean anything: {}",
        a.events
    );
    assert!(a == b, "two runs of one spec differ");
    // The seed drives the disks' rotational jitter: some other seed must change something,
    // or the equality above would hold for a reason other than determinism.
    let differs = (1..=4).any(|s| run_fast(&determinism_spec(s)) != a);
    assert!(differs, "no seed changed the run");
}
