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
