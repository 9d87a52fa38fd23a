//! Kernel facts of the IO path (issue 13, part A): the request pool every submitter, kswapd
//! included, sleeps in (`get_request_wait`, block/blk-core.c 2.6.32), swap-out accounting,
//! the zone rules of 2.6.32, the memory map, the block-device writer and the device kinds.

use crate::common::*;
use wbsim::block::Waiter;

/// A 48 MiB node, one 2 MB/s disk of `nr_requests` requests with two ext3 `data=writeback`
/// mounts and a writer on each, dirty limits so high that reclaim meets dirty pages, kupdate
/// off.
fn two_writers_on_a_small_queue(nr_requests: u32) -> RunSpec {
    let mut d = disk(2_000_000);
    d.nr_requests = nr_requests;
    let mut a = mount(FsType::Ext3);
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
        m.io.disks[0]
            .full_waiters
            .iter()
            .any(|(a, _, _)| *a == Actor::Kswapd(0))
    };
    let frozen_scan: std::cell::Cell<Option<u64>> = std::cell::Cell::new(None);
    run_until(&mut m, 20 * SEC, |m| {
        // ⌊3·4/2⌋ = 6: the hard ceiling, whoever submits.
        assert!(
            m.io.disks[0].allocated <= 6,
            "{} requests",
            m.io.disks[0].allocated
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
    m.io.disks[0].congested = true;
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
