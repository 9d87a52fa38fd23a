//! Slab caches and shrinkers (research 13b §1; mm/vmscan.c `shrink_slab`, fs/dcache.c,
//! fs/inode.c, fs/buffer.c, mm/slub.c, 2.6.32).

use crate::common::*;
use wbsim::mm::slab::CacheId;

/// A box of `memory` with no disk and one task, "app", faulting `bytes` of anonymous memory.
fn app_alone(memory: u64, bytes: u64) -> RunSpec {
    run_spec(
        Release::V2_6_32,
        Policy::Redirty,
        machine(&[memory]),
        vec![],
        vec![],
        vec![anon("app", bytes)],
    )
}

fn slab_reclaimable(m: &Machine) -> u64 {
    m.mem.zones.iter().map(|z| z.stat.nr_slab_reclaimable).sum()
}

/// `create_empty_buffers()` gives every page a block filesystem's writer puts in the page cache
/// a `buffer_head` (104 B; 112 B in SLUB with its constructor: 36 per page) from a
/// `SLAB_RECLAIM_ACCOUNT` cache, and ext3 `data=ordered` files each page's buffer with a
/// `journal_head` (36 per page) that the commit frees: 3600 pages written are 100 pages of
/// buffer heads (ext4) or 200 with the journal heads (ext3), 100 after the commit.
#[test]
fn every_written_page_carries_a_buffer_head_and_ext3_ordered_a_journal_head_until_its_commit() {
    for fs in [FsType::Ext4, FsType::Ext3] {
        let spec = one_writer(Release::V2_6_32, Policy::Redirty, fs, 3600 * PAGE);
        let mut m = boot(&spec);
        finish_task(&mut m, 0);
        let c = &m.slab.caches;
        assert_eq!(c[CacheId::BufferHead as usize].objects, 3600, "{fs:?}");
        let with_jh = if fs == FsType::Ext3 { 200 } else { 100 };
        assert_eq!(slab_reclaimable(&m), with_jh, "{fs:?}");
        run_until(&mut m, 30 * SEC, |m| {
            m.vfs.mounts[0].journal.stats.commits > 0 && m.vfs.mounts[0].journal.commit.is_none()
        });
        assert_eq!(slab_reclaimable(&m), 100, "{fs:?}");
        let vmstat = m.vmstat();
        let reported = vmstat.iter().find(|(k, _)| k == "nr_slab_reclaimable");
        assert_eq!(reported.map(|x| x.1), Some(100), "{fs:?}");
    }
}

/// `shrink_slab(32, gfp, 10000)` with 100 000 unused inodes (count `(nr_unused/100)·100`) asks
/// the icache for `64·100000/10001 = 639` objects: a NOFS caller is refused
/// (`shrink_icache_memory` returns -1), so the 639 are carried in `shrinker->nr` and nothing is
/// scanned; the next GFP_KERNEL call scans 1278 → 9 batches of 128 (1152) and carries 126.
#[test]
fn a_nofs_reclaimer_prunes_no_inodes_but_leaves_its_pressure_for_the_next_fs_reclaimer() {
    let spec = one_writer(Release::V2_6_32, Policy::Redirty, FsType::Ext3, PAGE);
    let mut m = boot(&spec);
    m.slab.inode_unused = 100_000;
    let kswapd = Actor::Kswapd(0);
    assert_eq!(m.shrink_slab(32, gfp::GFP_NOFS, 10_000, kswapd), 0);
    assert_eq!(m.slab.slabs_scanned, 0);
    assert_eq!(m.slab.shrinkers[1].nr, 639);
    let freed = m.shrink_slab(32, gfp::GFP_KERNEL, 10_000, kswapd);
    assert_eq!(m.slab.slabs_scanned, 1152);
    assert_eq!(m.slab.shrinkers[1].nr, 126);
    assert_eq!(m.slab.inode_unused, 100_000 - 1152);
    // The count the shrinker reports fell by 1152 rounded to its /100 granularity.
    assert_eq!(freed, 100_000 - (100_000 - 1152) / 100 * 100);
}

/// A slab page goes back to the allocator only when every object on it is freed
/// (`__slab_free` → `discard_slab`, mm/slub.c; `free_block` → `slab_destroy`, mm/slab.c,
/// 2.6.32). Buffer heads are allocated in `write_begin` order and freed with their pages, which
/// reclaim takes from the LRU's cold end, oldest first: the slab page that empties is the one
/// filled first, in the zone the writer was allocating from then. Freeing the newest slab page
/// instead handed a page to the zone under pressure now, and that free cleared its
/// `pages_scanned` and `all_unreclaimable` (`free_pcppages_bulk`), so a zone whose LRU was all
/// under writeback never became all_unreclaimable and its cpuset never went OOM
/// (tests/fixtures/reports.toml: OOM in 2 of 16 noisy replicas of redirty, against 9 of 16 on
/// the model without slab).
#[test]
fn freeing_the_oldest_buffer_heads_returns_the_oldest_slab_page_to_its_own_zone() {
    let mut spec = one_writer(Release::V2_6_32, Policy::Redirty, FsType::Ext4, MIB);
    spec.machine = machine(&[64 * MIB; 2]);
    let mut first = anon("first", 0);
    first.cpuset_nodes = Some(vec![0]);
    let mut second = anon("second", 0);
    second.cpuset_nodes = Some(vec![1]);
    spec.tasks = vec![first, second];
    let mut m = boot(&spec);
    let per_page = 36;
    // One slab page of buffer heads filled in node 0, the next in node 1.
    assert!(m.slab_alloc(0, CacheId::BufferHead, per_page, gfp::GFP_NOFS));
    assert!(m.slab_alloc(1, CacheId::BufferHead, per_page, gfp::GFP_NOFS));
    let slab_in = |m: &Machine, node: u32| -> u64 {
        m.mem
            .zones
            .iter()
            .filter(|z| z.node == node)
            .map(|z| z.stat.nr_slab_reclaimable)
            .sum()
    };
    assert_eq!((slab_in(&m, 0), slab_in(&m, 1)), (1, 1));
    // The first page's objects are freed (their pages reclaimed): node 0's slab page goes.
    assert_eq!(m.slab_free(CacheId::BufferHead, per_page, None, 0), 1);
    assert_eq!((slab_in(&m, 0), slab_in(&m, 1)), (0, 1));
}

/// `[machine.slab]` boots the caches a running box has: 200 000 dentries (192 B, 21 per 4 KiB
/// SLUB page: 9524 pages) and 150 000 ext3 inodes (784 B, 20 per order-2 slab: 30 000 pages),
/// all `NR_SLAB_RECLAIMABLE`; every dentry unused and referenced (`dput()`), holding one inode
/// each up to the inodes there are, so no inode starts unused.
#[test]
fn machine_slab_boots_unused_dentries_holding_their_inodes_as_reclaimable_slab() {
    let mut spec = one_writer(Release::V2_6_32, Policy::Redirty, FsType::Ext3, PAGE);
    spec.machine = machine(&[256 * MIB]);
    spec.machine.slab = SlabSpec {
        dentries: 200_000,
        inodes: 150_000,
    };
    let m = boot(&spec);
    assert_eq!(slab_reclaimable(&m), 9524 + 30_000);
    assert_eq!(m.slab.caches[CacheId::Dentry as usize].objects, 200_000);
    assert_eq!(m.slab.caches[CacheId::Inode as usize].objects, 150_000);
    assert_eq!(
        (m.slab.dentry_unused, m.slab.dentry_referenced),
        (200_000, 200_000)
    );
    assert_eq!((m.slab.inode_pinned, m.slab.inode_unused), (150_000, 0));
}

/// `shrink_dcache_memory()` reports `(dentry_stat.nr_unused / 100) * sysctl_vfs_cache_pressure`
/// objects to `shrink_slab()` (fs/dcache.c 2.6.32): at `vm.vfs_cache_pressure = 0` the dcache
/// is never scanned. 30 MiB of unused dentries in a 64 MiB box and a task faulting 50 MiB of
/// anonymous memory without swap: at the default 100 kswapd prunes the dentries and the task
/// finishes; at 0 nothing is reclaimable and the task is OOM-killed with the dcache whole.
#[test]
fn with_vfs_cache_pressure_0_the_dcache_is_never_shrunk_and_the_task_it_would_make_room_for_is_oom_killed(
) {
    let dentries = 30 * 256 * 21;
    let run = |pressure: u32| {
        let mut spec = app_alone(64 * MIB, 50 * MIB);
        spec.machine.slab.dentries = dentries;
        spec.vm.vfs_cache_pressure = pressure;
        let mut m = boot(&spec);
        run_until(&mut m, 20 * SEC, |m| {
            m.run.outcome.is_some() || m.tasks[0].finished_at.is_some()
        });
        m
    };
    let m = run(100);
    assert!(m.run.outcome.is_none(), "{:?}", m.run.outcome);
    assert!(m.slab.slabs_scanned > 0);
    assert!(m.slab.caches[CacheId::Dentry as usize].objects < dentries - 16 * 256 * 21);
    let m = run(0);
    assert_eq!(oom_victim(&m).0, "app");
    assert_eq!(m.slab.slabs_scanned, 0);
    assert_eq!(m.slab.caches[CacheId::Dentry as usize].objects, dentries);
}

/// 512 refused dirty ext4 pages (as `refused_inactive_list`) and 8 MiB of unused ext4 inodes: the
/// LRU gives reclaim nothing, the icache does (a pruned inode is freed at once in 2.6.32, so its
/// slab page is the reclaimer's; a dentry is freed after an RCU grace period, credited to
/// nobody).
fn refused_list_and_inodes() -> Machine {
    refused_inactive_list_with(Release::V2_6_32, |spec| {
        spec.machine.slab.inodes = 8 * 256 * 17 / 4;
    })
}

/// `do_try_to_free_pages()` adds `reclaim_state->reclaimed_slab` to `sc->nr_reclaimed` after
/// `shrink_slab()` (mm/vmscan.c 2.6.32 :1768-1773): a `GFP_KERNEL` pass whose LRU frees nothing
/// (every page refused) but whose shrinkers free inodes returns progress, where the same pass
/// without them returns 0.
#[test]
fn a_direct_reclaim_pass_that_frees_only_slab_returns_progress() {
    let mut m = refused_list_and_inodes();
    let pgsteal = |m: &Machine| {
        let v = m.vmstat();
        v.iter()
            .filter(|(k, _)| k.starts_with("pgsteal"))
            .map(|x| x.1)
            .sum::<u64>()
    };
    let steal0 = pgsteal(&m);
    let progress = direct_reclaim_pass(&mut m, 1, gfp::GFP_KERNEL);
    assert_eq!(pgsteal(&m), steal0, "the LRU freed nothing");
    assert!(m.slab.slabs_scanned > 0);
    assert!(progress > 0, "slab freed is progress");
    assert_eq!(
        direct_reclaim_pass(
            &mut refused_inactive_list(Release::V2_6_32),
            1,
            gfp::GFP_KERNEL
        ),
        0
    );
}

/// `balance_pgdat()` marks a zone all_unreclaimable only in a pass whose `shrink_slab()` freed
/// nothing: `if (nr_slab == 0 && zone->pages_scanned >= zone_reclaimable_pages(zone) * 6)`
/// (mm/vmscan.c 2.6.32 :2056). A 256 MiB box without swap or file pages (no reclaimable LRU
/// page, so the scanned test always holds), 28 MiB of unused dentries and a task faulting
/// 240 MiB: at `vm.vfs_cache_pressure = 1` each kswapd pass prunes 2 % of the dentries (fewer
/// pages than the per-CPU list holds, so no `free_pcppages_bulk()` clears the flag behind it).
/// No step in which the dcache shrank turns a reclaimable zone all_unreclaimable.
#[test]
fn kswapd_does_not_mark_a_zone_all_unreclaimable_in_a_pass_whose_shrinkers_freed_slab() {
    let mut spec = app_alone(256 * MIB, 240 * MIB);
    spec.machine.slab.dentries = 150_000;
    spec.vm.vfs_cache_pressure = 1;
    let mut m = boot(&spec);
    let (mut marked_while_pruning, mut pruning_steps) = (0, 0);
    while m.run.outcome.is_none() && m.tasks[0].finished_at.is_none() {
        let objects = m.slab.caches[CacheId::Dentry as usize].objects;
        let marked: Vec<bool> = m.mem.zones.iter().map(|z| z.all_unreclaimable).collect();
        if !step(&mut m, 60 * SEC) {
            break;
        }
        if m.slab.caches[CacheId::Dentry as usize].objects < objects {
            pruning_steps += 1;
            let newly = m.mem.zones.iter().zip(&marked);
            marked_while_pruning += newly
                .filter(|(z, &was)| z.all_unreclaimable && !was)
                .count();
        }
    }
    assert!(
        pruning_steps > 10,
        "the dcache was pruned pass by pass ({pruning_steps})"
    );
    assert_eq!(marked_while_pruning, 0);
}
