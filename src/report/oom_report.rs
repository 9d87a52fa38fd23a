//! The OOM report ("splat") in the selected release's format, from an [`OomReport`] captured
//! when the killer decided.
//!
//! Sources (2.6.32–2.6.36): `mm/oom_kill.c` `dump_header()` (the `invoked oom-killer` line,
//! `cpuset_print_task_mems_allowed()`, `show_mem()`, `dump_tasks()` when `oom_dump_tasks`, which
//! defaults to 0 before 2.6.36 and 1 in 2.6.36), `oom_kill_process()` / `oom_kill_task()` (the kill
//! lines), `lib/show_mem.c` (`Mem-Info:`), `mm/page_alloc.c` `show_free_areas()` (per-CPU lists,
//! the global line, one line per zone, `lowmem_reserve[]`, the buddy lists, the page cache total)
//! and `mm/swap_state.c` `show_swap_cache_info()`.
//!
//! `lib/show_mem.c` `show_mem()` ends with its page totals: `pages RAM`, `pages reserved`,
//! `pages shared`, `pages non-shared` (x86_64 has no HighMem and no quicklists). They count
//! `struct page`s: reserved is the model's boot memory (the kernel's `PageReserved` pages); a
//! mapped file page has `page_count()` 2 (the page cache and one mapper: the model's tasks do not
//! share mappings), so each adds 1 to `shared`; every other allocated page (anon, unmapped page
//! cache) has count 1 and is `non-shared`; free pages, per-CPU free pages and the hugetlb pool
//! have count 0 and are in neither.
//!
//! `dump_stack()` prints the `Pid:` line and the call trace of the invoking task's path in
//! 2.6.32's function names, without addresses or offsets ([`dump_stack`]). Not printed: the
//! swap-cache hit statistics (not modelled). The model's allocations are all order 0, so every
//! free page is on the order-0 buddy list.
//!
//! Profiles 2.6.37–3.9 print 2.6.36's layout with the lines their release changed ([`Era`]):
//! `dump_tasks()`'s `nr_ptes swapents` columns in place of `cpu oom_adj` (de34d965a80d, 3.6),
//! the header without `oom_adj` (01dc52ebdf47, 3.7), `free_cma` in the global counts and the zone
//! line (d1ce749a0db1, 3.7) and the zone's `managed:` (9feedc9d831e, 3.8). Their `show_mem()`
//! totals and kill lines are 2.6.36's, as in those releases. Profiles from 3.10 on print their
//! own release's layout instead ([`modern`]: the `CPU:` line of `dump_stack_print_info()`, the
//! release's `Mem-Info`, task table and kill lines): the layout a maintainer pastes into
//! OOMAnalyser.

mod modern;

pub use modern::{gfp_names, modern_gfp, MAINLINE_VERSION};

use crate::mm::oom_kill::oom_adj_of;
use crate::outcome::{OomReport, OomTaskRow, ZoneReport};
use crate::spec::{RunSpec, VmSpec};

/// `MAX_ORDER` on x86_64.
const MAX_ORDER: u32 = 11;

pub(super) fn k(pages: u64) -> u64 {
    pages * 4
}

/// `nodelist_scnprintf()`: `2-3,8`.
pub fn nodelist(nodes: &[u32]) -> String {
    let mut parts = vec![];
    let mut i = 0;
    while i < nodes.len() {
        let mut j = i;
        while j + 1 < nodes.len() && nodes[j + 1] == nodes[j] + 1 {
            j += 1;
        }
        parts.push(if j > i {
            format!("{}-{}", nodes[i], nodes[j])
        } else {
            nodes[i].to_string()
        });
        i = j + 1;
    }
    parts.join(",")
}

/// The text of a report, one kernel line at a time.
pub(super) struct Lines(pub(super) String);

impl Lines {
    pub(super) fn line(&mut self, s: impl AsRef<str>) {
        self.0.push_str(s.as_ref());
        self.0.push('\n');
    }
}

/// The report of a run, in the layout of its kernel: current for `mainline`, else its release's.
pub fn render(r: &OomReport, spec: &RunSpec) -> String {
    match modern::Layout::of_profile(&spec.kernel.profile) {
        Some(layout) => modern::render(r, spec, layout),
        None => render_release(r, spec),
    }
}

/// The release of a 2.6.32–3.9 profile whose lines differ from 2.6.36's: `(3, 7)` for `3.7`,
/// `(2, 6)` for every 2.6.x profile (their differences go by `spec.release`).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Era((u32, u32));

impl Era {
    fn of(profile: &str) -> Era {
        Era(modern::release_of(profile).unwrap_or((2, 6)))
    }

    fn since(self, major: u32, minor: u32) -> bool {
        self.0 >= (major, minor)
    }

    /// `dump_tasks()`'s `nr_ptes swapents` in place of `cpu oom_adj` ("mm, oom: replace some
    /// information in tasklist dump", de34d965a80d, 3.6).
    fn ptes_columns(self) -> bool {
        self.since(3, 6)
    }

    /// The `invoked oom-killer` line without `oom_adj` ("oom: remove deprecated oom_adj",
    /// 01dc52ebdf47, 3.7).
    fn no_oom_adj(self) -> bool {
        self.since(3, 7)
    }

    /// ` free_cma:` in the global counts and the zone line ("cma: count free CMA pages",
    /// d1ce749a0db1, 3.7).
    fn free_cma(self) -> bool {
        self.since(3, 7)
    }

    /// The zone's ` managed:` after ` present:` (9feedc9d831e, 3.8).
    fn managed(self) -> bool {
        self.since(3, 8)
    }
}

/// The whole report as 2.6.32–3.9 print it (`spec.release`, and [`Era`] for the 3.x lines),
/// one kernel line per text line.
fn render_release(r: &OomReport, spec: &RunSpec) -> String {
    let minor = spec.release.minor();
    let era = Era::of(&spec.kernel.profile);
    let vm = &spec.vm;
    let mut o = Lines(String::new());
    header(&mut o, r, minor, era);
    dump_stack(&mut o, r, spec);
    o.line("Mem-Info:");
    per_cpu(&mut o, r);
    global_counts(&mut o, r, era);
    for z in &r.zones {
        zone_line(&mut o, z, era);
    }
    buddy_lists(&mut o, r);
    show_mem_totals(&mut o, r, spec);
    if minor >= 36 {
        task_table(&mut o, r, era);
    }
    kill_or_panic(&mut o, r, minor, vm);
    o.0
}

/// `dump_header()`'s first lines: who invoked the killer, and its cpuset.
fn header(o: &mut Lines, r: &OomReport, minor: u32, era: Era) {
    let adj = oom_adj_of(r.invoker_oom_score_adj);
    if era.no_oom_adj() {
        o.line(format!(
            "{} invoked oom-killer: gfp_mask=0x{:x}, order={}, oom_score_adj={}",
            r.invoker, r.gfp_mask, r.order, r.invoker_oom_score_adj
        ));
    } else if minor >= 36 {
        o.line(format!(
            "{} invoked oom-killer: gfp_mask=0x{:x}, order={}, oom_adj={adj}, oom_score_adj={}",
            r.invoker, r.gfp_mask, r.order, r.invoker_oom_score_adj
        ));
    } else {
        o.line(format!(
            "{} invoked oom-killer: gfp_mask=0x{:x}, order={}, oom_adj={adj}",
            r.invoker, r.gfp_mask, r.order
        ));
    }
    // The scenarios do not name cpusets: a confined task's cpuset is named after the task.
    let cpuset = if r.invoker_root_cpuset {
        "/".to_string()
    } else {
        format!("/{}", r.invoker)
    };
    o.line(format!(
        "{} cpuset={cpuset} mems_allowed={}",
        r.invoker,
        nodelist(&r.invoker_mems)
    ));
}

/// `dump_stack()` as x86_64's `arch/x86/kernel/dumpstack.c` prints it from 2.6.32 to 3.9 (the
/// `CPU: N PID:` form is 3.10's): `Pid: P, comm: C Not tainted RELEASE #1`, then `Call Trace:`
/// and the frames of the path the invoking task's kind allocates through, innermost first. The
/// kernel prints each frame as ` [<ffffffff8110a3fa>] alloc_pages_current+0x7a/0xd0`; the model
/// has no kernel image to take addresses and offsets from, so a frame is its function's name.
fn dump_stack(o: &mut Lines, r: &OomReport, spec: &RunSpec) {
    let profile = spec.kernel.profile.as_str();
    let version = match modern::release_of(profile) {
        Some((2, _)) => profile.trim_end_matches(".0").to_string(),
        Some((major, minor)) => format!("{major}.{minor}.0"),
        None => profile.to_string(),
    };
    o.line(format!(
        "Pid: {}, comm: {} Not tainted {version} #1",
        r.invoker_pid, r.invoker
    ));
    o.line("Call Trace:");
    for frame in call_trace(modern::kind_of(r, spec)) {
        o.line(format!(" {frame}"));
    }
}

/// The frames from `dump_header()` down to the system call or fault that allocated, in 2.6.32's
/// function names (x86_64, NUMA: `alloc_pages_current()`, `alloc_page_vma()`); the
/// filesystem's own `write_begin`/`aio_write` frames are left out, as in the later layouts.
/// 2.6.32's `__alloc_pages_slowpath()` and `__alloc_pages_may_oom()` are `static inline`, so
/// `out_of_memory()`'s caller is `__alloc_pages_nodemask()`.
fn call_trace(kind: &str) -> Vec<&'static str> {
    let mut frames = vec![
        "dump_header",
        "oom_kill_process",
        "__out_of_memory",
        "out_of_memory",
        "__alloc_pages_nodemask",
    ];
    frames.extend_from_slice(match kind {
        "stream-write" => &[
            "alloc_pages_current",
            "__page_cache_alloc",
            "grab_cache_page_write_begin",
            "generic_file_buffered_write",
            "__generic_file_aio_write",
            "generic_file_aio_write",
            "do_sync_write",
            "vfs_write",
            "sys_write",
            "system_call_fastpath",
        ][..],
        "stream-read" => &[
            "alloc_pages_current",
            "__page_cache_alloc",
            "__do_page_cache_readahead",
            "ra_submit",
            "ondemand_readahead",
            "page_cache_sync_readahead",
            "generic_file_aio_read",
            "do_sync_read",
            "vfs_read",
            "sys_read",
            "system_call_fastpath",
        ],
        "pin" => &[
            "alloc_page_vma",
            "handle_mm_fault",
            "__get_user_pages",
            "__mlock_vma_pages_range",
            "mlock_fixup",
            "do_mlock",
            "sys_mlock",
            "system_call_fastpath",
        ],
        _ => &[
            "alloc_page_vma",
            "handle_mm_fault",
            "do_page_fault",
            "page_fault",
        ],
    });
    frames
}

/// `show_free_areas()`'s per-CPU lists of every zone.
pub(super) fn per_cpu(o: &mut Lines, r: &OomReport) {
    for z in &r.zones {
        o.line(format!("Node {} {} per-cpu:", z.base.node, z.base.zone));
        for (cpu, (count, high, batch)) in z.pcp.iter().enumerate() {
            o.line(format!(
                "CPU {cpu:4}: hi:{high:5}, btch:{batch:4} usd:{count:4}"
            ));
        }
    }
}

/// A count summed over every zone.
fn sum(r: &OomReport, f: impl Fn(&ZoneReport) -> u64) -> u64 {
    r.zones.iter().map(f).sum()
}

/// Pages on every per-CPU free list of a zone.
fn pcp_pages(z: &ZoneReport) -> u64 {
    z.pcp.iter().map(|(count, _, _)| count).sum()
}

/// The page-cache and swap lines that end `show_free_areas()` in every release.
fn page_cache_and_swap(o: &mut Lines, r: &OomReport) {
    o.line(format!(
        "{} total pagecache pages",
        sum(r, |z| z.file_pages)
    ));
    o.line(format!("{} pages in swap cache", r.swap_cache));
    o.line(format!("Free swap  = {}kB", k(r.swap_free)));
    o.line(format!("Total swap = {}kB", k(r.swap_total)));
}

/// `show_free_areas()`'s global counts.
fn global_counts(o: &mut Lines, r: &OomReport, era: Era) {
    o.line(format!(
        "active_anon:{} inactive_anon:{} isolated_anon:{}",
        sum(r, |z| z.base.active_anon),
        sum(r, |z| z.base.inactive_anon),
        sum(r, |z| z.isolated_anon)
    ));
    o.line(format!(
        " active_file:{} inactive_file:{} isolated_file:{}",
        sum(r, |z| z.base.active_file),
        sum(r, |z| z.base.inactive_file),
        sum(r, |z| z.isolated_file)
    ));
    o.line(format!(
        " unevictable:{} dirty:{} writeback:{} unstable:0",
        sum(r, |z| z.base.unevictable),
        sum(r, |z| z.base.dirty),
        sum(r, |z| z.base.writeback)
    ));
    o.line(format!(
        " free:{} slab_reclaimable:0 slab_unreclaimable:{}",
        sum(r, |z| z.base.free),
        sum(r, |z| z.slab_unreclaimable)
    ));
    o.line(format!(
        " mapped:{} shmem:{} pagetables:0 bounce:0",
        sum(r, |z| z.mapped),
        sum(r, |z| z.shmem)
    ));
    if era.free_cma() {
        o.line(" free_cma:0");
    }
}

/// `show_free_areas()`'s line of one zone and its `lowmem_reserve[]`.
fn zone_line(o: &mut Lines, z: &ZoneReport, era: Era) {
    let b = &z.base;
    let managed = if era.managed() {
        format!(" managed:{}kB", k(z.present))
    } else {
        String::new()
    };
    let cma = if era.free_cma() { " free_cma:0kB" } else { "" };
    o.line(format!(
        "Node {} {} free:{}kB min:{}kB low:{}kB high:{}kB active_anon:{}kB inactive_anon:{}kB \
         active_file:{}kB inactive_file:{}kB unevictable:{}kB isolated(anon):{}kB \
         isolated(file):{}kB present:{}kB{managed} mlocked:{}kB dirty:{}kB writeback:{}kB \
         mapped:{}kB shmem:{}kB slab_reclaimable:0kB slab_unreclaimable:{}kB kernel_stack:0kB \
         pagetables:0kB unstable:0kB bounce:0kB{cma} writeback_tmp:0kB pages_scanned:{} \
         all_unreclaimable? {}",
        b.node,
        b.zone,
        k(b.free),
        k(b.min),
        k(b.low),
        k(b.high),
        k(b.active_anon),
        k(b.inactive_anon),
        k(b.active_file),
        k(b.inactive_file),
        k(b.unevictable),
        k(z.isolated_anon),
        k(z.isolated_file),
        k(z.present),
        k(z.mlocked),
        k(b.dirty),
        k(b.writeback),
        k(z.mapped),
        k(z.shmem),
        k(z.slab_unreclaimable),
        b.pages_scanned,
        if b.all_unreclaimable { "yes" } else { "no" }
    ));
    // MAX_NR_ZONES is 4 on x86_64 (DMA, DMA32, Normal, Movable); Movable is never populated.
    o.line(format!(
        "lowmem_reserve[]: {} {} {} 0",
        z.lowmem_reserve[0], z.lowmem_reserve[1], z.lowmem_reserve[2]
    ));
}

/// The buddy lists (every free page is order 0), the page cache, swap and RAM totals.
fn buddy_lists(o: &mut Lines, r: &OomReport) {
    for z in &r.zones {
        let mut s = format!("Node {} {}: {}*4kB ", z.base.node, z.base.zone, z.base.free);
        for order in 1..MAX_ORDER {
            s.push_str(&format!("0*{}kB ", 4u64 << order));
        }
        s.push_str(&format!("= {}kB", k(z.base.free)));
        o.line(s);
    }
    page_cache_and_swap(o, r);
}

/// `show_mem()`'s page totals: `(reserved, shared, non-shared)` as the module header derives
/// them. Reserved is the boot memory (`machine.kernel_reserved_bytes`), which the report's
/// kernel memory includes.
pub fn page_counts(r: &OomReport, spec: &RunSpec) -> (u64, u64, u64) {
    let boot = spec.machine.kernel_reserved_bytes / 4096;
    let reserved = sum(r, |z| z.slab_unreclaimable).min(boot);
    let shared = sum(r, |z| z.mapped);
    let free = sum(r, |z| z.base.free + pcp_pages(z));
    let nonshared = r
        .ram_pages
        .saturating_sub(reserved + free + r.hugetlb_pages + shared);
    (reserved, shared, nonshared)
}

/// `show_mem()`'s lines after `show_free_areas()`.
fn show_mem_totals(o: &mut Lines, r: &OomReport, spec: &RunSpec) {
    let (reserved, shared, nonshared) = page_counts(r, spec);
    o.line(format!("{} pages RAM", r.ram_pages));
    o.line(format!("{reserved} pages reserved"));
    o.line(format!("{shared} pages shared"));
    o.line(format!("{nonshared} pages non-shared"));
}

/// `dump_tasks()` (2.6.36 dumps them by default).
fn task_table(o: &mut Lines, r: &OomReport, era: Era) {
    if era.ptes_columns() {
        // pr_info("[%5d] %5d %5d %8lu %8lu %7lu %8lu         %5hd %s\n"); the model has no page
        // tables and no swap entries per task.
        o.line("[ pid ]   uid  tgid total_vm      rss nr_ptes swapents oom_score_adj name");
        for t in &r.tasks {
            o.line(format!(
                "[{:5}] {:5} {:5} {:8} {:8} {:7} {:8}         {:5} {}",
                t.pid,
                0,
                t.pid,
                t.total_vm,
                t.anon_rss + t.file_rss,
                0,
                0,
                t.oom_score_adj,
                t.name
            ));
        }
        return;
    }
    o.line("[ pid ]   uid  tgid total_vm      rss cpu oom_adj oom_score_adj name");
    for t in &r.tasks {
        o.line(format!(
            "[{:5}] {:5} {:5} {:8} {:8} {:3}     {:3}         {:5} {}",
            t.pid,
            0,
            t.pid,
            t.total_vm,
            t.anon_rss + t.file_rss,
            t.cpu,
            t.oom_adj,
            t.oom_score_adj,
            t.name
        ));
    }
}

/// `oom_kill_process()`'s lines, or the panic when nothing was killable (or `panic_on_oom`).
fn kill_or_panic(o: &mut Lines, r: &OomReport, minor: u32, vm: &VmSpec) {
    if let (Some((selected, selected_pid)), Some((victim, victim_pid))) = (&r.selected, &r.victim) {
        if minor >= 36 {
            o.line(format!(
                "Out of memory: Kill process {selected_pid} ({selected}) score {} or sacrifice child",
                r.points
            ));
        } else {
            o.line(format!(
                "Out of memory: kill process {selected_pid} ({selected}) score {} or a child",
                r.points
            ));
        }
        let row = r.tasks.iter().find(|t| t.pid == *victim_pid);
        o.line(killed_line(minor, *victim_pid, victim, row));
        return;
    }
    let compulsory = vm.panic_on_oom == 2;
    let on_oom = vm.panic_on_oom == 2
        || vm.panic_on_oom == 1 && r.constraint == crate::outcome::Constraint::None;
    o.line(match (on_oom, minor >= 36) {
        (true, true) => format!(
            "Kernel panic - not syncing: Out of memory: {} panic_on_oom is enabled",
            if compulsory {
                "compulsory"
            } else {
                "system-wide"
            }
        ),
        (true, false) => {
            "Kernel panic - not syncing: out of memory. panic_on_oom is selected".into()
        }
        (false, _) => {
            "Kernel panic - not syncing: Out of memory and no killable processes...".into()
        }
    });
}

/// `Killed process …` as `oom_kill_task()` prints it.
fn killed_line(minor: u32, pid: u32, name: &str, row: Option<&OomTaskRow>) -> String {
    let (vm, anon, file) = row.map_or((0, 0, 0), |t| (k(t.total_vm), k(t.anon_rss), k(t.file_rss)));
    match minor {
        32 => format!("Killed process {pid} ({name})"),
        33..=35 => format!(
            "Killed process {pid} ({name}) vsz:{vm}kB, anon-rss:{anon}kB, file-rss:{file}kB"
        ),
        _ => format!(
            "Killed process {pid} ({name}) total-vm:{vm}kB, anon-rss:{anon}kB, file-rss:{file}kB"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodelists_collapse_ranges_as_the_kernel_does() {
        assert_eq!(nodelist(&[2, 3]), "2-3");
        assert_eq!(nodelist(&[0]), "0");
        assert_eq!(nodelist(&[0, 2, 3, 4, 7]), "0,2-4,7");
        assert_eq!(nodelist(&[]), "");
    }
}
