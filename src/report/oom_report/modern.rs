//! The OOM report as the kernels from 3.10 on print it, each profile in its own release's layout
//! (`Layout`: one method per line that changed, citing the change), the `mainline` profile in the
//! layout of v6.11 and later (the `CPU: N UID: U PID: P Comm:` line of "lib/dump_stack: report
//! process UID in dump_stack_print_info()", d2917ff, 6.11), which OOMAnalyser's newest kernel
//! configuration reads.
//!
//! Sources (torvalds/linux, 6.x): `mm/oom_kill.c` `dump_header()` (the `invoked oom-killer` line
//! with `%pGg` flag names, `dump_stack()`, `__show_mem()`, `dump_tasks()` with its
//! `Tasks state (memory values in pages):` header, `dump_oom_summary()`'s `oom-kill:` line),
//! `__oom_kill_process()` (`Out of memory: Killed process …`), `lib/dump_stack.c`
//! `dump_stack_print_info()`, `mm/show_mem.c` `__show_free_areas()` (the global counts, one
//! line per node, one line per zone with `boost:`, `reserved_highatomic:`, `writepending:`,
//! `managed:`, `free_pcp:`, `local_pcp:`; `lowmem_reserve[]` over `MAX_NR_ZONES`; the buddy lists
//! with their migrate types; `hugepages_total=` per node) and `__show_mem()` (`pages RAM`,
//! `pages HighMem/MovableOnly`, `pages reserved`, `pages cma reserved`, `pages hwpoisoned`).
//!
//! What the model cannot know is printed as the kernel prints its neutral value, and said here:
//! the call trace names the functions of the path the invoking task's kind allocates through,
//! without offsets (there is no kernel image to take them from) and without the user registers;
//! uid is 0; pagetables, kernel stacks, THP, CMA and boost are 0; the gfp mask is the model's
//! 2.6.32 mask with each bit moved to its current position (`gfp_types.h`) from 4.6 on; every
//! process is in the root memory cgroup. Not per release: the call trace names 6.1's functions in
//! the layouts before 6.1; the zone line's `reserved_highatomic:`, the `(M)` migrate type, the
//! `show_mem()` totals and the no-killable-task panic are the current ones from 3.10 on. The OOM
//! reaper's line (4.6–5.17, [`Layout::oom_reaper`]) is the one it prints when it reaches the
//! victim's mm before the victim's own exit does: the run ends at the kill, so the race (which
//! the victim wins only if it gets to `exit_mmap()` first; a victim asleep in the allocator or on
//! IO does not) is not simulated.

use super::{k, nodelist, page_cache_and_swap, pcp_pages, sum, Lines};
use crate::mm::gfp;
use crate::outcome::{Constraint, OomReport, OomTaskRow, ZoneReport};
use crate::spec::RunSpec;

/// The kernel version the `CPU:` line names: the profile is mainline after the removal of
/// `->writepage` (v6.18).
pub const MAINLINE_VERSION: &str = "6.18.0";

/// The release whose layout a report takes: every line that changed between 3.10 and the current
/// kernel is printed as this release printed it (each difference cites the kernel change that
/// made it, in the method that decides it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Major and minor release; `mainline` is 6.18.
    pub release: (u32, u32),
}

impl Layout {
    /// The `mainline` profile's.
    pub const MAINLINE: Layout = Layout { release: (6, 18) };

    /// The layout of kernel profile `name` (`4.12`, `mainline`), if it is 3.10 or later: the
    /// releases whose `dump_stack_print_info()` prints the `CPU: N PID: P Comm:` line (3.10,
    /// 196779b9b4ce) that OOMAnalyser's oldest configuration reads. `None` for 2.6.x and 3.0–3.9.
    pub fn of_profile(name: &str) -> Option<Layout> {
        if name == "mainline" {
            return Some(Layout::MAINLINE);
        }
        let release = release_of(name)?;
        (release >= (3, 10)).then_some(Layout { release })
    }

    /// Whether the release is `major.minor` or later.
    fn since(self, major: u32, minor: u32) -> bool {
        self.release >= (major, minor)
    }

    /// The release the `CPU:` line names.
    fn version(self) -> String {
        if self == Layout::MAINLINE {
            MAINLINE_VERSION.to_string()
        } else {
            format!("{}.{}.0", self.release.0, self.release.1)
        }
    }

    /// `CPU: N UID: U PID:` ("lib/dump_stack: report process UID in dump_stack_print_info()",
    /// d2917ff, 6.11).
    fn uid(self) -> bool {
        self.since(6, 11)
    }

    /// `shmem_thp:0kB` in the node line as the current mm/show_mem.c prints it; 6.1's
    /// `show_free_areas()` (mm/page_alloc.c, and every release back to 4.8) printed
    /// `shmem_thp: %lukB`. Only the two ends are read: the releases between 6.1 and mainline take
    /// 6.1's spacing.
    fn thp_without_space(self) -> bool {
        self == Layout::MAINLINE
    }

    /// The allocator's `_noprof` entry points (memory allocation profiling, 6.10) and
    /// `alloc_pages_mpol()` (6.7) in the call trace.
    fn noprof(self) -> bool {
        self.since(6, 10)
    }

    /// The `<TASK>`/`</TASK>` markers around the call trace: printed from 6.1 (read in 6.1's
    /// arch/x86/kernel/dumpstack.c); the release that added them is not established here, so
    /// earlier layouts print the frames without them.
    fn task_markers(self) -> bool {
        self.since(6, 1)
    }

    /// `gfp_mask=%#x(%pGg)`: symbolic flag names ("mm, oom: print symbolic gfp_flags in oom
    /// warning", 4.6); before, `gfp_mask=0x%x` of the old bit layout (the model's, 2.6.32's
    /// positions, which `__GFP_WAIT`'s split in 4.4, d0164adc89f6, renumbered).
    fn symbolic_gfp(self) -> bool {
        self.since(4, 6)
    }

    /// `nodemask=%*pbl, ` in the `invoked oom-killer` line ("oom: print nodemask in the oom
    /// report", 82e7d3abec86, 4.9) until "mm, oom: reorganize the oom report in dump_header"
    /// (ef8444ea01d7, 4.19) moved it to the `oom-kill:` line.
    fn nodemask_in_header(self) -> bool {
        self.since(4, 9) && !self.since(4, 19)
    }

    /// Per-CPU list lines (`CPU    0: hi: … btch: … usd: …`) and the old global block (` free:`
    /// before `slab_reclaimable:`, ` free_cma:` on its own line): until "mm: hide per-cpu lists
    /// in output of show_mem()" (Konstantin Khlebnikov, 4.1) put ` free:%lu free_pcp:%lu
    /// free_cma:%lu` last, dropped the per-CPU lines and added the zone's `free_pcp:`/`local_pcp:`.
    fn per_cpu_lines(self) -> bool {
        !self.since(4, 1)
    }

    /// ` unstable:%lu` after `writeback:` until "mm/writeback: discard NR_UNSTABLE_NFS, use
    /// NR_WRITEBACK instead" (8d92890bd6b8, 5.8).
    fn unstable(self) -> bool {
        !self.since(5, 8)
    }

    /// ` sec_pagetables:%lu bounce:%lu` and ` kernel_misc_reclaimable:%lu` lines ("mm: add
    /// NR_SECONDARY_PAGETABLE to count secondary page table uses", ebc97a52b5d6, 6.1); before,
    /// ` mapped:%lu shmem:%lu pagetables:%lu bounce:%lu` then the ` free:` line.
    fn sec_pagetables(self) -> bool {
        self.since(6, 1)
    }

    /// One line per node ("mm, vmscan: move LRU lists to node", 599d0c954f91, 4.8); before, the
    /// zone line carries the LRU sizes.
    fn node_lines(self) -> bool {
        self.since(4, 8)
    }

    /// `dump_tasks()`'s `Tasks state (memory values in pages):` title, the `oom-kill:` summary
    /// line and the wider `[  pid  ]` column (ef8444ea01d7, 4.19).
    fn oom_summary(self) -> bool {
        self.since(4, 19)
    }

    /// The page-table columns of `dump_tasks()`: `nr_ptes` (3.x), `nr_ptes nr_pmds` ("mm:
    /// account pmd page tables to the process", dc6c9a35b66b, 4.0), `pgtables_bytes` ("mm:
    /// consolidate page table accounting", af5b0f6a09e4, 4.15).
    fn page_table_columns(self) -> &'static str {
        if self.since(4, 15) {
            "pgtables_bytes"
        } else if self.since(4, 0) {
            "nr_ptes nr_pmds"
        } else {
            "nr_ptes"
        }
    }

    /// `Out of memory: Kill process … or sacrifice child` then `Killed process …`, until "mm,
    /// oom: remove 'prefer children over parent' heuristic" (bbbe48029720, 5.1) made it one
    /// `Out of memory: Killed process …` line.
    fn sacrifice_child(self) -> bool {
        !self.since(5, 1)
    }

    /// `, shmem-rss:%lukB` in the kill line ("mm, oom: report shmem rss", 4.5).
    fn shmem_rss(self) -> bool {
        self.since(4, 5)
    }

    /// The OOM reaper's `oom_reaper: reaped process …` line after the kill lines: the reaper
    /// thread ("mm, oom: introduce oom reaper", aac453635549, and "mm, oom_reaper: report
    /// success/failure", bc448e897b6d, 4.6) is woken by the kill and reaps at once, until
    /// "oom_kill.c: futex: delay the OOM reaper to allow time for proper futex cleanup"
    /// (e4a38402c36e, 5.18) made it wait `OOM_REAPER_DELAY` (2 s). In that time a victim that
    /// exits unmaps its own mm (`exit_mmap()` reaps an OOM victim's mm itself from 4.17,
    /// 27ae357fa82b, and sets MMF_OOM_SKIP), and the reaper then prints nothing; a victim stuck
    /// longer would still be reaped, but the run ends at the kill, so from 5.18 the line is not
    /// printed.
    fn oom_reaper(self) -> bool {
        self.since(4, 6) && !self.since(5, 18)
    }

    /// `, UID:%u pgtables:%lukB oom_score_adj:%hd` in the kill line (8ac3f8f and
    /// 70cb6d267790, 5.4).
    fn kill_line_uid(self) -> bool {
        self.since(5, 4)
    }
}

/// The `(major, minor)` of a numbered profile name: `3.4` → (3, 4), `2.6.36` → (2, 6).
pub(super) fn release_of(name: &str) -> Option<(u32, u32)> {
    let mut parts = name.split('.');
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

/// `MAX_NR_ZONES` on a current x86_64 (DMA, DMA32, Normal, Movable, Device).
const MAX_NR_ZONES: usize = 5;

/// `NR_PAGE_ORDERS` (`MAX_PAGE_ORDER` 10, plus one).
const NR_PAGE_ORDERS: u32 = 11;

/// The model's 2.6.32 gfp bits and where `gfp_types.h` puts them now.
const GFP_MOVED: [(u32, u32); 9] = [
    (gfp::HIGHMEM, 0x02),
    (gfp::MOVABLE, 0x08),
    (gfp::HIGH, 0x20),
    (gfp::IO, 0x40),
    (gfp::FS, 0x80),
    // __GFP_WAIT became __GFP_DIRECT_RECLAIM | __GFP_KSWAPD_RECLAIM (4.4, d0164adc89f6).
    (gfp::WAIT, 0x400 | 0x800),
    (gfp::WRITE, 0x1000),
    (gfp::NORETRY, 0x10000),
    (gfp::HARDWALL, 0x100000),
];

/// `%pGg`'s names (`include/trace/events/mmflags.h` `__def_gfpflag_names`), composites first:
/// `format_flags()` prints each whose bits are all set and clears them.
const GFP_NAMES: [(u32, &str); 16] = [
    (0x100cca, "GFP_HIGHUSER_MOVABLE"),
    (0x100cc2, "GFP_HIGHUSER"),
    (0x100cc0, "GFP_USER"),
    (0xcc0, "GFP_KERNEL"),
    (0xc40, "GFP_NOFS"),
    (0xc00, "GFP_NOIO"),
    (0x02, "__GFP_HIGHMEM"),
    (0x08, "__GFP_MOVABLE"),
    (0x20, "__GFP_HIGH"),
    (0x40, "__GFP_IO"),
    (0x80, "__GFP_FS"),
    (0x1000, "__GFP_WRITE"),
    (0x10000, "__GFP_NORETRY"),
    (0x100000, "__GFP_HARDWALL"),
    (0x400, "__GFP_DIRECT_RECLAIM"),
    (0x800, "__GFP_KSWAPD_RECLAIM"),
];

/// The model's gfp mask at its current bit positions.
pub fn modern_gfp(mask: u32) -> u32 {
    GFP_MOVED
        .iter()
        .filter(|(old, _)| mask & old == *old)
        .fold(0, |acc, (_, new)| acc | new)
}

/// `%pGg`: `GFP_HIGHUSER_MOVABLE|__GFP_WRITE`.
pub fn gfp_names(mut mask: u32) -> String {
    let mut names = vec![];
    for (bits, name) in GFP_NAMES {
        if mask & bits == bits {
            names.push(name);
            mask &= !bits;
        }
    }
    names.join("|")
}

/// The whole report, one kernel line per text line.
pub fn render(r: &OomReport, spec: &RunSpec, layout: Layout) -> String {
    let mut o = Lines(String::new());
    header(&mut o, r, spec, layout);
    mem_info(&mut o, r, layout);
    if layout.node_lines() {
        for node in nodes(r) {
            node_line(&mut o, r, node, layout);
        }
    }
    for z in &r.zones {
        if layout.node_lines() {
            zone_line(&mut o, r, z, layout);
        } else {
            zone_line_with_lru(&mut o, r, z, layout);
        }
    }
    buddy_lists(&mut o, r);
    show_mem_totals(&mut o, r, spec);
    task_table(&mut o, r, layout);
    summary_and_kill(&mut o, r, spec, layout);
    o.0
}

/// The invoking task's row (its CPU), if it still has an mm.
fn invoker_row(r: &OomReport) -> Option<&OomTaskRow> {
    r.tasks.iter().find(|t| t.pid == r.invoker_pid)
}

/// `dump_header()`'s first line and `dump_stack()`.
fn header(o: &mut Lines, r: &OomReport, spec: &RunSpec, layout: Layout) {
    let gfp = if layout.symbolic_gfp() {
        let mask = modern_gfp(r.gfp_mask);
        format!("{mask:#x}({})", gfp_names(mask))
    } else {
        format!("0x{:x}", r.gfp_mask)
    };
    let nodemask = if layout.nodemask_in_header() {
        format!("nodemask={}, ", allocation_nodemask(r, spec))
    } else {
        String::new()
    };
    o.line(format!(
        "{} invoked oom-killer: gfp_mask={gfp}, {nodemask}order={}, oom_score_adj={}",
        r.invoker, r.order, r.invoker_oom_score_adj
    ));
    if !layout.oom_summary() {
        // `cpuset_print_current_mems_allowed()` until ef8444ea01d7 (4.19) moved the cpuset and
        // mems_allowed into the `oom-kill:` line.
        o.line(format!(
            "{} cpuset={} mems_allowed={}",
            r.invoker,
            cpuset_name(r),
            nodelist(&r.invoker_mems)
        ));
    }
    let cpu = invoker_row(r).map_or(0, |t| t.cpu);
    let uid = if layout.uid() { "UID: 0 " } else { "" };
    o.line(format!(
        "CPU: {cpu} {uid}PID: {} Comm: {} Not tainted {} #1",
        r.invoker_pid,
        r.invoker,
        layout.version()
    ));
    o.line("Hardware name: wbsim simulated machine");
    o.line("Call Trace:");
    if layout.task_markers() {
        o.line(" <TASK>");
    }
    for frame in call_trace(kind_of(r, spec)) {
        if layout.noprof() {
            o.line(format!(" {frame}"));
        } else if frame != "alloc_pages_mpol_noprof" {
            o.line(format!(" {}", frame.trim_end_matches("_noprof")));
        }
    }
    if layout.task_markers() {
        o.line(" </TASK>");
    }
}

/// The kind (`stream-write`, `anon`, …) of the task that invoked the killer.
pub(super) fn kind_of<'a>(r: &OomReport, spec: &'a RunSpec) -> &'a str {
    spec.tasks
        .iter()
        .find(|t| t.name == r.invoker)
        .map_or("", |t| t.kind.name())
}

/// The frames from `dump_stack_lvl` down to the system call or fault that allocated, innermost
/// first, for the path each task kind allocates through (6.x function names).
fn call_trace(kind: &str) -> Vec<&'static str> {
    let mut frames = vec![
        "dump_stack_lvl",
        "dump_header",
        "oom_kill_process",
        "out_of_memory",
        "__alloc_pages_slowpath",
        "__alloc_pages_noprof",
        "alloc_pages_mpol_noprof",
    ];
    frames.extend_from_slice(match kind {
        "stream-write" => &[
            "folio_alloc_noprof",
            "__filemap_get_folio",
            "generic_perform_write",
            "generic_file_write_iter",
            "vfs_write",
            "ksys_write",
            "do_syscall_64",
            "entry_SYSCALL_64_after_hwframe",
        ][..],
        "stream-read" => &[
            "folio_alloc_noprof",
            "page_cache_ra_unbounded",
            "filemap_get_pages",
            "filemap_read",
            "vfs_read",
            "ksys_read",
            "do_syscall_64",
            "entry_SYSCALL_64_after_hwframe",
        ],
        "pin" => &[
            "vma_alloc_folio_noprof",
            "do_anonymous_page",
            "__handle_mm_fault",
            "handle_mm_fault",
            "__get_user_pages",
            "populate_vma_page_range",
            "__mm_populate",
            "do_mlock",
            "__x64_sys_mlock",
            "do_syscall_64",
            "entry_SYSCALL_64_after_hwframe",
        ],
        _ => &[
            "vma_alloc_folio_noprof",
            "do_anonymous_page",
            "__handle_mm_fault",
            "handle_mm_fault",
            "do_user_addr_fault",
            "exc_page_fault",
            "asm_exc_page_fault",
        ],
    });
    frames
}

/// `__show_free_areas()`'s global counts (pages), in the release's lines.
fn mem_info(o: &mut Lines, r: &OomReport, layout: Layout) {
    o.line("Mem-Info:");
    if layout.per_cpu_lines() {
        super::per_cpu(o, r);
    }
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
        " unevictable:{} dirty:{} writeback:{}{}",
        sum(r, |z| z.base.unevictable),
        sum(r, |z| z.base.dirty),
        sum(r, |z| z.base.writeback),
        if layout.unstable() { " unstable:0" } else { "" }
    ));
    let free = sum(r, |z| z.base.free);
    let slab = sum(r, |z| z.slab_unreclaimable);
    let (mapped, shmem) = (sum(r, |z| z.mapped), sum(r, |z| z.shmem));
    if layout.per_cpu_lines() {
        o.line(format!(
            " free:{free} slab_reclaimable:0 slab_unreclaimable:{slab}"
        ));
        o.line(format!(
            " mapped:{mapped} shmem:{shmem} pagetables:0 bounce:0"
        ));
        o.line(" free_cma:0");
        return;
    }
    o.line(format!(" slab_reclaimable:0 slab_unreclaimable:{slab}"));
    if layout.sec_pagetables() {
        o.line(format!(" mapped:{mapped} shmem:{shmem} pagetables:0"));
        o.line(" sec_pagetables:0 bounce:0");
        o.line(" kernel_misc_reclaimable:0");
    } else {
        o.line(format!(
            " mapped:{mapped} shmem:{shmem} pagetables:0 bounce:0"
        ));
    }
    o.line(format!(
        " free:{free} free_pcp:{} free_cma:0",
        sum(r, pcp_pages)
    ));
}

/// The nodes that have zones, in order.
fn nodes(r: &OomReport) -> Vec<u32> {
    let mut nodes: Vec<u32> = r.zones.iter().map(|z| z.base.node).collect();
    nodes.dedup();
    nodes
}

/// `__show_free_areas()`'s line of one node (kB).
fn node_line(o: &mut Lines, r: &OomReport, node: u32, layout: Layout) {
    let zones: Vec<&ZoneReport> = r.zones.iter().filter(|z| z.base.node == node).collect();
    let s = |f: fn(&ZoneReport) -> u64| k(zones.iter().map(|z| f(z)).sum());
    let unreclaimable = zones.iter().all(|z| z.base.all_unreclaimable);
    let thp = if layout.thp_without_space() {
        "shmem_thp:0kB shmem_pmdmapped:0kB anon_thp:0kB"
    } else {
        "shmem_thp: 0kB shmem_pmdmapped: 0kB anon_thp: 0kB"
    };
    let mut tail = String::new();
    if layout.unstable() {
        tail.push_str(" unstable:0kB");
    }
    if let Some(scanned) = r.node_pages_scanned.get(node as usize) {
        // `pages_scanned:%lu` (NR_PAGES_SCANNED, 4.8's node line; gone with the counter in
        // 4.12, c822f6223d03).
        tail.push_str(&format!(" pages_scanned:{scanned}"));
    }
    if layout.since(5, 9) {
        // "mm: memcontrol: account kernel stack per node" (991e7673859e, 5.9).
        tail.push_str(" kernel_stack:0kB");
    }
    if layout.since(5, 11) {
        // "mm: memcontrol: account pagetables per node" (f0c0c115fb81, 5.11).
        tail.push_str(" pagetables:0kB");
    }
    o.line(format!(
        "Node {node} active_anon:{}kB inactive_anon:{}kB active_file:{}kB inactive_file:{}kB \
         unevictable:{}kB isolated(anon):{}kB isolated(file):{}kB mapped:{}kB dirty:{}kB \
         writeback:{}kB shmem:{}kB {thp} \
         writeback_tmp:0kB{tail} {}\
         all_unreclaimable? {}",
        s(|z| z.base.active_anon),
        s(|z| z.base.inactive_anon),
        s(|z| z.base.active_file),
        s(|z| z.base.inactive_file),
        s(|z| z.base.unevictable),
        s(|z| z.isolated_anon),
        s(|z| z.isolated_file),
        s(|z| z.mapped),
        s(|z| z.base.dirty),
        s(|z| z.base.writeback),
        s(|z| z.shmem),
        if layout.sec_pagetables() {
            "sec_pagetables:0kB "
        } else {
            ""
        },
        if unreclaimable { "yes" } else { "no" }
    ));
}

/// `__show_free_areas()`'s line of one zone (kB) and its `lowmem_reserve[]`.
fn zone_line(o: &mut Lines, r: &OomReport, z: &ZoneReport, layout: Layout) {
    let b = &z.base;
    let local = local_pcp(r, z);
    // "mm/page_alloc.c: show watermark_boost of zone in zoneinfo" (a6ea8b5, 5.16).
    let boost = if layout.since(5, 16) {
        " boost:0kB"
    } else {
        ""
    };
    let mut kernel = String::new();
    if !layout.since(4, 13) {
        // "mm: vmstat: move slab statistics from zone to node counters" (385386cff4c6, 4.13).
        kernel.push_str(&format!(
            " slab_reclaimable:0kB slab_unreclaimable:{}kB",
            k(z.slab_unreclaimable)
        ));
    }
    if !layout.since(5, 9) {
        kernel.push_str(" kernel_stack:0kB"); // to the node line in 5.9 (991e7673859e)
    }
    if !layout.since(5, 11) {
        kernel.push_str(" pagetables:0kB"); // to the node line in 5.11 (f0c0c115fb81)
    }
    o.line(format!(
        "Node {} {} free:{}kB{boost} min:{}kB low:{}kB high:{}kB reserved_highatomic:0KB \
         active_anon:{}kB inactive_anon:{}kB active_file:{}kB inactive_file:{}kB \
         unevictable:{}kB writepending:{}kB present:{}kB managed:{}kB mlocked:{}kB{kernel} \
         bounce:0kB free_pcp:{}kB local_pcp:{}kB free_cma:0kB",
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
        k(b.dirty + b.writeback),
        k(z.present),
        k(z.present),
        k(z.mlocked),
        k(pcp_pages(z)),
        k(local)
    ));
    lowmem_reserve(o, z, layout);
}

/// The pages on the invoking task's CPU's list of a zone (`local_pcp:`).
fn local_pcp(r: &OomReport, z: &ZoneReport) -> u64 {
    let cpu = invoker_row(r).map_or(0, |t| t.cpu as usize);
    z.pcp.get(cpu).map_or(0, |(count, _, _)| *count)
}

/// `lowmem_reserve[]` over `MAX_NR_ZONES`: 5 from `ZONE_DEVICE` (033fbae988fc, 4.3), 4 before.
fn lowmem_reserve(o: &mut Lines, z: &ZoneReport, layout: Layout) {
    let mut reserve: Vec<String> = z.lowmem_reserve.iter().map(u64::to_string).collect();
    // Movable and Device are never populated: their reserve repeats the highest zone's.
    let last = z.lowmem_reserve[2];
    let zones = if layout.since(4, 3) { MAX_NR_ZONES } else { 4 };
    reserve.resize(zones, last.to_string());
    o.line(format!("lowmem_reserve[]: {}", reserve.join(" ")));
}

/// The zone line before the LRU lists moved to the node (4.8): 3.10–4.7's `show_free_areas()`,
/// with `managed:` (9feedc9d831e, 3.8) and, from 4.1, `free_pcp:`/`local_pcp:`.
fn zone_line_with_lru(o: &mut Lines, r: &OomReport, z: &ZoneReport, layout: Layout) {
    let b = &z.base;
    let pcp = if layout.per_cpu_lines() {
        String::new()
    } else {
        format!(
            " free_pcp:{}kB local_pcp:{}kB",
            k(pcp_pages(z)),
            k(local_pcp(r, z))
        )
    };
    o.line(format!(
        "Node {} {} free:{}kB min:{}kB low:{}kB high:{}kB active_anon:{}kB inactive_anon:{}kB \
         active_file:{}kB inactive_file:{}kB unevictable:{}kB isolated(anon):{}kB \
         isolated(file):{}kB present:{}kB managed:{}kB mlocked:{}kB dirty:{}kB writeback:{}kB \
         mapped:{}kB shmem:{}kB slab_reclaimable:0kB slab_unreclaimable:{}kB kernel_stack:0kB \
         pagetables:0kB unstable:0kB bounce:0kB{pcp} free_cma:0kB writeback_tmp:0kB \
         pages_scanned:{} all_unreclaimable? {}",
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
    lowmem_reserve(o, z, layout);
}

/// The buddy lists (every free page is order 0, movable), hugetlb per node, the page cache and
/// swap.
fn buddy_lists(o: &mut Lines, r: &OomReport) {
    for z in &r.zones {
        let free = z.base.free;
        let mut s = format!("Node {} {}: {free}*4kB ", z.base.node, z.base.zone);
        if free > 0 {
            s.push_str("(M) ");
        }
        for order in 1..NR_PAGE_ORDERS {
            s.push_str(&format!("0*{}kB ", 4u64 << order));
        }
        s.push_str(&format!("= {}kB", k(free)));
        o.line(s);
    }
    let nodes = nodes(r);
    let per_node = r.hugetlb_pages / 512 / nodes.len().max(1) as u64;
    for node in nodes {
        o.line(format!(
            "Node {node} hugepages_total={per_node} hugepages_free={per_node} \
             hugepages_surp=0 hugepages_size=2048kB"
        ));
    }
    page_cache_and_swap(o, r);
}

/// `__show_mem()`'s page totals.
fn show_mem_totals(o: &mut Lines, r: &OomReport, spec: &RunSpec) {
    o.line(format!("{} pages RAM", r.ram_pages));
    o.line("0 pages HighMem/MovableOnly");
    o.line(format!("{} pages reserved", super::page_counts(r, spec).0));
    o.line("0 pages cma reserved");
    o.line("0 pages hwpoisoned");
}

/// `dump_tasks()`, with the release's title, pid width and page-table columns.
fn task_table(o: &mut Lines, r: &OomReport, layout: Layout) {
    let columns = layout.page_table_columns();
    let pid = if layout.oom_summary() {
        o.line("Tasks state (memory values in pages):");
        "[  pid  ]"
    } else {
        "[ pid ]"
    };
    o.line(format!(
        "{pid}   uid  tgid total_vm      rss {columns} swapents oom_score_adj name"
    ));
    // The model has no page tables: every page-table column is 0.
    let tables = match columns {
        "nr_ptes nr_pmds" => format!("{:7} {:7}", 0, 0),
        "nr_ptes" => format!("{:7}", 0),
        _ => format!("{:8}", 0),
    };
    for t in &r.tasks {
        let pid = if layout.oom_summary() {
            format!("{:7}", t.pid)
        } else {
            format!("{:5}", t.pid)
        };
        // dump_tasks(): "… %8lu         %5hd %s" (swapents, nine columns, oom_score_adj).
        o.line(format!(
            "[{pid}] {:5} {:5} {:8} {:8} {tables} {:8}         {:5} {}",
            0,
            t.pid,
            t.total_vm,
            t.anon_rss + t.file_rss,
            0,
            t.oom_score_adj,
            t.name
        ));
    }
}

/// `dump_oom_summary()` and `__oom_kill_process()`, or the panic: `check_panic_on_oom()`'s, or
/// `out_of_memory()`'s when nothing was killable.
fn summary_and_kill(o: &mut Lines, r: &OomReport, spec: &RunSpec, layout: Layout) {
    let vm = &spec.vm;
    let Some((victim, pid)) = &r.victim else {
        let compulsory = vm.panic_on_oom == 2;
        let on_oom = compulsory || vm.panic_on_oom == 1 && r.constraint == Constraint::None;
        o.line(if on_oom {
            format!(
                "Kernel panic - not syncing: Out of memory: {} panic_on_oom is enabled",
                if compulsory {
                    "compulsory"
                } else {
                    "system-wide"
                }
            )
        } else {
            "Kernel panic - not syncing: System is deadlocked on memory".to_string()
        });
        return;
    };
    let row = r.tasks.iter().find(|t| t.pid == *pid);
    let (vm, anon) = row.map_or((0, 0), |t| (k(t.total_vm), k(t.anon_rss)));
    let adj = row.map_or(0, |t| t.oom_score_adj);
    if layout.oom_summary() {
        oom_kill_summary(o, r, spec, victim, *pid);
    }
    // From 4.5 shm pages are MM_SHMEMPAGES, no longer part of MM_FILEPAGES (eca56ff906bd).
    let (file, shmem) = match row {
        Some(t) if layout.shmem_rss() => (
            k(t.file_rss - t.shmem_rss),
            format!(", shmem-rss:{}kB", k(t.shmem_rss)),
        ),
        Some(t) => (k(t.file_rss), String::new()),
        None => (0, String::new()),
    };
    let uid = if layout.kill_line_uid() {
        format!(", UID:0 pgtables:0kB oom_score_adj:{adj}")
    } else {
        String::new()
    };
    let memory = format!("total-vm:{vm}kB, anon-rss:{anon}kB, file-rss:{file}kB{shmem}{uid}");
    if layout.sacrifice_child() {
        if let Some((selected, selected_pid)) = &r.selected {
            o.line(format!(
                "Out of memory: Kill process {selected_pid} ({selected}) score {} or sacrifice child",
                r.points
            ));
        }
        o.line(format!("Killed process {pid} ({victim}) {memory}"));
    } else {
        o.line(format!(
            "Out of memory: Killed process {pid} ({victim}) {memory}"
        ));
    }
    if let Some(t) = row.filter(|_| layout.oom_reaper()) {
        o.line(reaped_line(t));
    }
}

/// `__oom_reap_task()`'s line once it has unmapped the victim's private vmas: it skips VM_LOCKED
/// vmas (until a213e5cf71cb, 5.18), hugetlb and shared mappings (a shm segment is VM_SHARED),
/// so what stays is the locked anon memory (and the kernel pages the model charges to the task),
/// the shared file pages (none in the model) and every shm page.
fn reaped_line(t: &OomTaskRow) -> String {
    format!(
        "oom_reaper: reaped process {} ({}), now anon-rss:{}kB, file-rss:{}kB, shmem-rss:{}kB",
        t.pid,
        t.name,
        k(t.anon_rss_unreaped),
        k(t.file_rss - t.shmem_rss),
        k(t.shmem_rss)
    )
}

/// `oc->nodemask` is the allocation's: an MPOL_BIND task's nodes (`policy_nodemask()`, for the
/// movable and Normal allocations the model makes), else NULL.
fn allocation_nodemask(r: &OomReport, spec: &RunSpec) -> String {
    spec.tasks
        .iter()
        .find(|t| t.name == r.invoker)
        .and_then(|t| t.membind.as_deref())
        .map_or("(null)".to_string(), nodelist)
}

/// The invoking task's cpuset: the scenarios do not name cpusets, so a confined task's is named
/// after the task.
fn cpuset_name(r: &OomReport) -> String {
    if r.invoker_root_cpuset {
        "/".to_string()
    } else {
        format!("/{}", r.invoker)
    }
}

/// `dump_oom_summary()`'s `oom-kill:` line (4.19).
fn oom_kill_summary(o: &mut Lines, r: &OomReport, spec: &RunSpec, victim: &str, pid: u32) {
    let constraint = r.constraint.name();
    let nodemask = allocation_nodemask(r, spec);
    let cpuset = cpuset_name(r);
    o.line(format!(
        "oom-kill:constraint={constraint},nodemask={nodemask},cpuset={cpuset},mems_allowed={},\
         global_oom,task_memcg=/,task={victim},pid={pid},uid=0",
        nodelist(&r.invoker_mems)
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_profiles_from_3_10_take_their_own_layout_and_older_ones_none() {
        assert_eq!(Layout::of_profile("6.1"), Some(Layout { release: (6, 1) }));
        assert_eq!(Layout::of_profile("mainline"), Some(Layout::MAINLINE));
        assert_eq!(
            Layout::of_profile("4.12"),
            Some(Layout { release: (4, 12) })
        );
        assert_eq!(Layout::of_profile("3.9"), None);
        assert_eq!(Layout::of_profile("2.6.36"), None);
        assert_eq!(Layout::of_profile("2.6.32.0"), None);
        assert_eq!(Layout::MAINLINE.version(), MAINLINE_VERSION);
        assert_eq!(Layout { release: (4, 9) }.version(), "4.9.0");
    }

    #[test]
    fn the_model_gfp_moves_to_current_bits_and_prints_the_kernel_names() {
        let m = modern_gfp(gfp::GFP_HIGHUSER_MOVABLE);
        assert_eq!(m, 0x100cca);
        assert_eq!(gfp_names(m), "GFP_HIGHUSER_MOVABLE");
        let nofs = modern_gfp(gfp::GFP_NOFS | gfp::WRITE);
        assert_eq!(gfp_names(nofs), "GFP_NOFS|__GFP_WRITE");
    }
}
