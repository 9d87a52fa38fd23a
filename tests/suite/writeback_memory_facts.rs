//! The memory writeback itself needs (issue 13 item 3): the flusher thread allocates as a kernel
//! thread with `PF_FLUSHER | PF_SWAPWRITE` (`bdi_start_fn()`, mm/backing-dev.c 2.6.32), never
//! `PF_MEMALLOC`, and ext4's block allocation loads each new group's bitmap and buddy pages
//! `GFP_NOFS` (`ext4_mb_load_buddy()`, fs/ext4/mballoc.c 2.6.32).

use crate::common::*;

fn run_for(m: &mut Machine, ns: u64) {
    let limit = m.clock.now + ns;
    while step(m, limit) {}
}

/// A 64 MiB box whose writer has left 8 MiB of dirty pages of `fs` (nothing written yet, no
/// ext4 block group loaded), then every zone's watermarks raised so that its free pages are at or
/// below min.
fn dirty_box_below_min(fs: FsType) -> Machine {
    let mut spec = one_writer(Release::V2_6_32, Policy::Redirty, fs, 8 * MIB);
    // A reader at 3 s: clean page-cache pages, the first thing reclaim can free.
    let mut reader = task(
        "reader",
        TaskKind::StreamRead(StreamRead {
            mount: 0,
            bytes: 4 * MIB,
            rate_bytes_per_sec: 1 << 40,
            read_bytes: 128 * 1024,
        }),
    );
    reader.start_ns = 3 * SEC;
    spec.tasks.push(reader);
    let mut m = boot(&spec);
    finish_task(&mut m, 0);
    assert_eq!(m.stats.counters.pages_written_by_writeback, 0);
    // ext4 loads its group at writeback; ext3 loaded its bitmap at `write()`.
    let loaded = usize::from(fs == FsType::Ext3);
    assert_eq!(m.vfs.mounts[0].mb_groups.len(), loaded);
    for z in &mut m.mem.zones {
        let min = z.nr_free() + 16;
        z.watermark = [min, min + min / 4, min + min / 2];
    }
    m
}

fn written(m: &Machine) -> u64 {
    let c = &m.stats.counters;
    c.pages_written_by_writeback + c.pages_written_by_reclaim
}

/// With every zone at or below min and the inactive list all dirty delayed-allocation pages, the
/// ext4 flusher's first extent needs its group's pages: it enters `GFP_NOFS` direct reclaim (the
/// allocstalls are its own), which cannot write those pages and frees nothing, so it retries
/// without ever calling the OOM killer (2.6.32 `__alloc_pages_slowpath()`: no `__GFP_FS`, no OOM;
/// order 0 retries forever) and submits nothing — kswapd cannot either (ext4 refuses it). A zone
/// above min again is not enough: a pass that frees nothing never looks at the free lists
/// (`__alloc_pages_direct_reclaim()` returns at once), and clean pages are not either while the
/// zone is all_unreclaimable (only the DEF_PRIORITY pass scans it, `lru >> 12` pages: none); it
/// writes once its reclaim can free a page. On ext3 the blocks were allocated at `write()`: its
/// flusher needs no memory to write, and writes.
#[test]
fn below_min_the_ext4_flusher_stalls_in_nofs_reclaim_without_oom_while_the_ext3_flusher_writes() {
    let mut m = dirty_box_below_min(FsType::Ext4);
    m.wakeup_flusher_threads(1024);
    let allocstall = m.stats.vm_events.allocstall;
    run_for(&mut m, 2 * SEC);
    let c = &m.stats.counters;
    assert!(c.flusher_allocstall > 10, "{}", c.flusher_allocstall);
    assert_eq!(
        m.stats.vm_events.allocstall - allocstall,
        c.flusher_allocstall
    );
    assert!(m.run.oom_reports.is_empty() && m.run.outcome.is_none());
    assert_eq!(
        written(&m),
        0,
        "nothing is submitted while the flusher waits for memory"
    );
    assert!(
        c.writepage_refused > 0,
        "kswapd met the pages and ext4 refused them"
    );
    // A zone above min again: the flusher gets its pages and writes.
    for z in &mut m.mem.zones {
        z.watermark = [16, 20, 24];
    }
    for t in &mut m.tasks {
        t.fast_skip = 0; // the fast path's known-low prefix, for the new watermarks
    }
    run_for(&mut m, 900 * MSEC);
    assert_eq!(
        written(&m),
        0,
        "free pages above min do not wake a pass that frees nothing"
    );
    // The reader's clean pages (from 3 s), and a page freed to the zone (which clears
    // all_unreclaimable and pages_scanned in `free_pcppages_bulk`): its reclaim frees a page.
    run_for(&mut m, 1200 * MSEC);
    assert_eq!(written(&m), 0);
    for z in &mut m.mem.zones {
        z.all_unreclaimable = false;
        z.pages_scanned = 0;
    }
    run_for(&mut m, 2 * SEC);
    assert!(written(&m) > 0);
    assert_eq!(
        m.vfs.mounts[0].mb_groups.len(),
        1,
        "the group's pages are loaded"
    );

    let mut m = dirty_box_below_min(FsType::Ext3);
    m.wakeup_flusher_threads(1024);
    run_for(&mut m, 2 * SEC);
    assert_eq!(m.stats.counters.flusher_allocstall, 0);
    assert!(m.stats.counters.pages_written_by_writeback >= 1024);
    assert!(m.run.oom_reports.is_empty());
}

/// ext3's `read_block_bitmap()` reads a group's bitmap the first time the writer allocates in it
/// (`bh_submit_read()` → `submit_bh(READ)`, fs/ext3/balloc.c 2.6.32): one synchronous 4 KiB read
/// per group, at the group's first block, while the writer sleeps holding its journal handle.
#[test]
fn an_ext3_writer_reads_each_new_groups_bitmap_synchronously_holding_its_handle() {
    // 300 MiB: groups 0, 1 and 2 (128 MiB each), on a disk busy with the flusher's writes.
    let mut spec = one_writer(Release::V2_6_32, Policy::Redirty, FsType::Ext3, 300 * MIB);
    spec.vm.dirty_background_ratio = 1;
    let mut m = boot(&spec);
    let (mut reads, mut last) = (0, None);
    while step(&mut m, 60 * SEC) {
        let disk = &m.io.disks[0];
        let in_flight = disk.in_flight.first().map(|(_, _, r)| (r.kind, r.lba));
        if let Some((wbsim::block::ReqKind::MetaRead { task }, lba)) = in_flight {
            if last != Some(lba) {
                last = Some(lba);
                reads += 1;
                assert!(
                    m.holds_handle(Actor::Task(task), 0),
                    "the writer let go of its handle"
                );
                assert_eq!(lba % (128 * MIB / PAGE), 0, "not the group's first block");
            }
        }
    }
    assert_eq!(reads, 3, "one read per group");
    assert_eq!(m.vfs.mounts[0].mb_groups.len(), 3);
}
