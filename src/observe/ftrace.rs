//! `--ftrace FILE.txt`: the run's tracepoint hits as `trace_pipe` prints them, so tools written
//! for real traces (`Documentation/trace/postprocess/trace-vmscan-postprocess.pl`) read them.
//!
//! The line prefix is `trace_print_context()` (`"%16s-%-5d [%03d] %5lu.%06lu: "`), then the event
//! name and its `TP_printk` text from 2.6.36's `include/trace/events/vmscan.h` and `writeback.h`
//! (the tracepoints first appeared in 2.6.36; earlier releases are printed in the same format):
//!
//! | event | where the model hits it |
//! |-------|-------------------------|
//! | `mm_vmscan_wakeup_kswapd` | an allocation finds a zone below its low watermark (`wakeup_kswapd()`) |
//! | `mm_vmscan_kswapd_wake` / `_sleep` | kswapd leaves / enters its sleep |
//! | `mm_vmscan_direct_reclaim_begin` / `_end` | a task enters / leaves `try_to_free_pages` |
//! | `mm_vmscan_lru_isolate` | each `shrink_inactive_list` batch (isolate_mode 0, order 0) |
//! | `mm_vmscan_writepage` | `pageout()` returning PAGE_SUCCESS (async, as reclaim writes are) |
//! | `writeback_exec` | a flusher starts a work item |
//! | `wbc_balance_dirty_start` / `_wait` | a writer enters `balance_dirty_pages` / pauses in it |

use super::{Recorder, TraceKind};
use crate::mm::gfp;

/// `show_gfp_flags()` (`include/trace/events/gfpflags.h`): composite masks first, each printed
/// when all its bits are set and then removed; leftover bits in hex.
pub fn gfp_names(mask: u32) -> String {
    const NAMES: [(u32, &str); 13] = [
        (gfp::GFP_HIGHUSER_MOVABLE, "GFP_HIGHUSER_MOVABLE"),
        (gfp::GFP_USER | gfp::HIGHMEM, "GFP_HIGHUSER"),
        (gfp::GFP_USER, "GFP_USER"),
        (gfp::GFP_KERNEL, "GFP_KERNEL"),
        (gfp::GFP_NOFS, "GFP_NOFS"),
        (gfp::HIGH, "GFP_ATOMIC"),
        (gfp::WAIT, "GFP_NOIO"),
        (gfp::IO, "GFP_IO"),
        (gfp::FS, "GFP_FS"),
        (gfp::NORETRY, "GFP_NORETRY"),
        (gfp::HARDWALL, "GFP_HARDWALL"),
        (gfp::MOVABLE, "GFP_MOVABLE"),
        (gfp::WRITE, "GFP_WRITE"),
    ];
    let mut left = mask;
    let mut parts = vec![];
    for (bits, name) in NAMES {
        if left & bits == bits && left != 0 {
            parts.push(name.to_string());
            left &= !bits;
        }
    }
    if left != 0 {
        parts.push(format!("0x{left:x}"));
    }
    if parts.is_empty() {
        "0".into()
    } else {
        parts.join("|")
    }
}

/// `struct page *` of a pfn as `%p` prints it: the x86_64 vmemmap base plus 56 bytes a page.
fn page_ptr(pfn: u64) -> String {
    format!("{:016x}", 0xffff_ea00_0000_0000u64 + pfn * 56)
}

/// A bdi's name (`MAJOR:MINOR` of its disk, sd* disks: 8:0, 8:16, …).
fn bdi_name(b: usize) -> String {
    format!("8:{}", b * 16)
}

/// The event name and text of one hit.
pub fn event_text(k: &TraceKind) -> (&'static str, String) {
    match k {
        TraceKind::WakeupKswapd { nid, zid } => (
            "mm_vmscan_wakeup_kswapd",
            format!("nid={nid} zid={zid} order=0"),
        ),
        TraceKind::KswapdWake { nid } => ("mm_vmscan_kswapd_wake", format!("nid={nid} order=0")),
        TraceKind::KswapdSleep { nid } => ("mm_vmscan_kswapd_sleep", format!("nid={nid}")),
        TraceKind::DirectReclaimBegin { gfp } => (
            "mm_vmscan_direct_reclaim_begin",
            format!("order=0 may_writepage=1 gfp_flags={}", gfp_names(*gfp)),
        ),
        TraceKind::DirectReclaimEnd { nr_reclaimed } => (
            "mm_vmscan_direct_reclaim_end",
            format!("nr_reclaimed={nr_reclaimed}"),
        ),
        TraceKind::LruIsolate { requested, scanned } => (
            "mm_vmscan_lru_isolate",
            format!(
                "isolate_mode=0 order=0 nr_requested={requested} nr_scanned={scanned} \
                 nr_taken={scanned} contig_taken=0 contig_dirty=0 contig_failed=0"
            ),
        ),
        TraceKind::Writepage { pfn, file } => (
            "mm_vmscan_writepage",
            format!(
                "page={} pfn={pfn} flags={}|RECLAIM_WB_ASYNC",
                page_ptr(*pfn),
                if *file {
                    "RECLAIM_WB_FILE"
                } else {
                    "RECLAIM_WB_ANON"
                }
            ),
        ),
        TraceKind::WritebackExec {
            bdi,
            nr_pages,
            kupdate,
            cyclic,
            background,
        } => (
            "writeback_exec",
            format!(
                "bdi {}: sb_dev 0:0 nr_pages={nr_pages} sync_mode=0 kupdate={} range_cyclic={} \
                 background={}",
                bdi_name(*bdi),
                u8::from(*kupdate),
                u8::from(*cyclic),
                u8::from(*background)
            ),
        ),
        TraceKind::BalanceDirtyStart { bdi, towrt } => {
            ("wbc_balance_dirty_start", wbc(*bdi, *towrt))
        }
        TraceKind::BalanceDirtyWait { bdi, towrt } => ("wbc_balance_dirty_wait", wbc(*bdi, *towrt)),
    }
}

/// The `wbc_class` text of a throttled writer's `writeback_control`.
fn wbc(bdi: usize, towrt: u64) -> String {
    format!(
        "bdi {}: towrt={towrt} skip=0 mode=0 kupd=0 bgrd=0 reclm=0 cyclic=1 more=0 older=0x0 \
         start=0x0 end=0x0",
        bdi_name(bdi)
    )
}

/// The whole file for one run: the `nop` tracer header, then one line per hit in time order.
pub fn render(recorder: &Recorder) -> String {
    let mut out = String::from(
        "# tracer: nop\n#\n#           TASK-PID    CPU#    TIMESTAMP  FUNCTION\n#              | |       |          |         |\n",
    );
    for e in &recorder.trace {
        let tr = &recorder.tracks[e.track];
        let (name, text) = event_text(&e.kind);
        let us = e.t / 1_000;
        out.push_str(&format!(
            "{:>16}-{:<5} [{:03}] {:5}.{:06}: {name}: {text}\n",
            tr.name,
            tr.pid,
            e.cpu,
            us / 1_000_000,
            us % 1_000_000
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gfp_masks_print_like_show_gfp_flags() {
        assert_eq!(gfp_names(gfp::GFP_HIGHUSER_MOVABLE), "GFP_HIGHUSER_MOVABLE");
        assert_eq!(gfp_names(gfp::GFP_KERNEL), "GFP_KERNEL");
        assert_eq!(
            gfp_names(gfp::GFP_HIGHUSER_MOVABLE & !gfp::FS),
            "GFP_NOFS|GFP_HARDWALL|GFP_MOVABLE|0x2"
        );
        assert_eq!(gfp_names(0), "0");
    }
}
