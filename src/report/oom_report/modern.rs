//! The OOM report as a current kernel prints it, for the `mainline` profile: the layout of
//! v6.11 and later (the `CPU: N UID: U PID: P Comm:` line of "lib/dump_stack: report process UID
//! in dump_stack_print_info()", d2917ff, 6.11), which OOMAnalyser's newest kernel configuration
//! reads.
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
//! 2.6.32 mask with each bit moved to its current position (`gfp_types.h`); every process is in
//! the root memory cgroup.

use super::{k, nodelist, page_cache_and_swap, pcp_pages, sum, Lines};
use crate::mm::gfp;
use crate::outcome::{Constraint, OomReport, OomTaskRow, ZoneReport};
use crate::spec::RunSpec;

/// The kernel version the `CPU:` line names: the profile is mainline after the removal of
/// `->writepage` (v6.18).
pub const MAINLINE_VERSION: &str = "6.18.0";

/// What differs between the current layout and 6.1's (the `6.1` profile), each from the kernel
/// change that made it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// The release the `CPU:` line names.
    pub version: &'static str,
    /// `CPU: N UID: U PID:` ("lib/dump_stack: report process UID in dump_stack_print_info()",
    /// d2917ff, 6.11); 6.1 prints `CPU: N PID:`.
    pub uid: bool,
    /// `shmem_thp:0kB` in the node line, as the current mm/show_mem.c prints it; 6.1's
    /// `show_free_areas()` (mm/page_alloc.c) printed `shmem_thp: %lukB shmem_pmdmapped: %lukB
    /// anon_thp: %lukB`, spaces a later mm/show_mem.c patch removed.
    pub thp_without_space: bool,
    /// The allocator's `_noprof` entry points (memory allocation profiling, 6.10) and
    /// `alloc_pages_mpol()` (6.7) in the call trace; 6.1 calls `__alloc_pages()` from
    /// `folio_alloc()`/`vma_alloc_folio()`.
    pub noprof: bool,
}

impl Layout {
    /// The `mainline` profile's.
    pub const MAINLINE: Layout = Layout {
        version: MAINLINE_VERSION,
        uid: true,
        thp_without_space: true,
        noprof: true,
    };
    /// The `6.1` profile's.
    pub const V6_1: Layout = Layout {
        version: "6.1.0",
        uid: false,
        thp_without_space: false,
        noprof: false,
    };
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
    mem_info(&mut o, r);
    for node in nodes(r) {
        node_line(&mut o, r, node, layout);
    }
    for z in &r.zones {
        zone_line(&mut o, r, z);
    }
    buddy_lists(&mut o, r);
    show_mem_totals(&mut o, r, spec);
    task_table(&mut o, r);
    summary_and_kill(&mut o, r, spec);
    o.0
}

/// The invoking task's row (its CPU), if it still has an mm.
fn invoker_row(r: &OomReport) -> Option<&OomTaskRow> {
    r.tasks.iter().find(|t| t.pid == r.invoker_pid)
}

/// `dump_header()`'s first line and `dump_stack()`.
fn header(o: &mut Lines, r: &OomReport, spec: &RunSpec, layout: Layout) {
    let mask = modern_gfp(r.gfp_mask);
    o.line(format!(
        "{} invoked oom-killer: gfp_mask={mask:#x}({}), order={}, oom_score_adj={}",
        r.invoker,
        gfp_names(mask),
        r.order,
        r.invoker_oom_score_adj
    ));
    let cpu = invoker_row(r).map_or(0, |t| t.cpu);
    let uid = if layout.uid { "UID: 0 " } else { "" };
    o.line(format!(
        "CPU: {cpu} {uid}PID: {} Comm: {} Not tainted {} #1",
        r.invoker_pid, r.invoker, layout.version
    ));
    o.line("Hardware name: wbsim simulated machine");
    o.line("Call Trace:");
    o.line(" <TASK>");
    for frame in call_trace(kind_of(r, spec)) {
        if layout.noprof {
            o.line(format!(" {frame}"));
        } else if frame != "alloc_pages_mpol_noprof" {
            o.line(format!(" {}", frame.trim_end_matches("_noprof")));
        }
    }
    o.line(" </TASK>");
}

/// The kind (`stream-write`, `anon`, …) of the task that invoked the killer.
fn kind_of<'a>(r: &OomReport, spec: &'a RunSpec) -> &'a str {
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

/// `__show_free_areas()`'s global counts (pages).
fn mem_info(o: &mut Lines, r: &OomReport) {
    o.line("Mem-Info:");
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
        " unevictable:{} dirty:{} writeback:{}",
        sum(r, |z| z.base.unevictable),
        sum(r, |z| z.base.dirty),
        sum(r, |z| z.base.writeback)
    ));
    o.line(format!(
        " slab_reclaimable:0 slab_unreclaimable:{}",
        sum(r, |z| z.slab_unreclaimable)
    ));
    o.line(format!(
        " mapped:{} shmem:{} pagetables:0",
        sum(r, |z| z.mapped),
        sum(r, |z| z.shmem)
    ));
    o.line(" sec_pagetables:0 bounce:0");
    o.line(" kernel_misc_reclaimable:0");
    o.line(format!(
        " free:{} free_pcp:{} free_cma:0",
        sum(r, |z| z.base.free),
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
    let thp = if layout.thp_without_space {
        "shmem_thp:0kB shmem_pmdmapped:0kB anon_thp:0kB"
    } else {
        "shmem_thp: 0kB shmem_pmdmapped: 0kB anon_thp: 0kB"
    };
    o.line(format!(
        "Node {node} active_anon:{}kB inactive_anon:{}kB active_file:{}kB inactive_file:{}kB \
         unevictable:{}kB isolated(anon):{}kB isolated(file):{}kB mapped:{}kB dirty:{}kB \
         writeback:{}kB shmem:{}kB {thp} \
         writeback_tmp:0kB kernel_stack:0kB pagetables:0kB sec_pagetables:0kB \
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
        if unreclaimable { "yes" } else { "no" }
    ));
}

/// `__show_free_areas()`'s line of one zone (kB) and its `lowmem_reserve[]`.
fn zone_line(o: &mut Lines, r: &OomReport, z: &ZoneReport) {
    let b = &z.base;
    let cpu = invoker_row(r).map_or(0, |t| t.cpu as usize);
    let local = z.pcp.get(cpu).map_or(0, |(count, _, _)| *count);
    o.line(format!(
        "Node {} {} free:{}kB boost:0kB min:{}kB low:{}kB high:{}kB reserved_highatomic:0KB \
         active_anon:{}kB inactive_anon:{}kB active_file:{}kB inactive_file:{}kB \
         unevictable:{}kB writepending:{}kB present:{}kB managed:{}kB mlocked:{}kB bounce:0kB \
         free_pcp:{}kB local_pcp:{}kB free_cma:0kB",
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
    let mut reserve: Vec<String> = z.lowmem_reserve.iter().map(u64::to_string).collect();
    // Movable and Device are never populated: their reserve repeats the highest zone's.
    let last = z.lowmem_reserve[2];
    reserve.resize(MAX_NR_ZONES, last.to_string());
    o.line(format!("lowmem_reserve[]: {}", reserve.join(" ")));
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

/// `dump_tasks()`.
fn task_table(o: &mut Lines, r: &OomReport) {
    o.line("Tasks state (memory values in pages):");
    o.line("[  pid  ]   uid  tgid total_vm      rss pgtables_bytes swapents oom_score_adj name");
    for t in &r.tasks {
        o.line(format!(
            "[{:7}] {:5} {:5} {:8} {:8} {:8} {:8} {:5} {}",
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
}

/// `dump_oom_summary()` and `__oom_kill_process()`, or the panic: `check_panic_on_oom()`'s, or
/// `out_of_memory()`'s when nothing was killable.
fn summary_and_kill(o: &mut Lines, r: &OomReport, spec: &RunSpec) {
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
    // `oc->nodemask` is the allocation's: an MPOL_BIND task's nodes (`policy_nodemask()`, for
    // the movable and Normal allocations the model makes), else NULL.
    let constraint = r.constraint.name();
    let nodemask = spec
        .tasks
        .iter()
        .find(|t| t.name == r.invoker)
        .and_then(|t| t.membind.as_deref())
        .map_or("(null)".to_string(), nodelist);
    let cpuset = if r.invoker_root_cpuset {
        "/".to_string()
    } else {
        format!("/{}", r.invoker)
    };
    o.line(format!(
        "oom-kill:constraint={constraint},nodemask={nodemask},cpuset={cpuset},mems_allowed={},\
         global_oom,task_memcg=/,task={victim},pid={pid},uid=0",
        nodelist(&r.invoker_mems)
    ));
    let row = r.tasks.iter().find(|t| t.pid == *pid);
    let (vm, anon, file) = row.map_or((0, 0, 0), |t| (k(t.total_vm), k(t.anon_rss), k(t.file_rss)));
    let adj = row.map_or(0, |t| t.oom_score_adj);
    o.line(format!(
        "Out of memory: Killed process {pid} ({victim}) total-vm:{vm}kB, anon-rss:{anon}kB, \
         file-rss:{file}kB, shmem-rss:0kB, UID:0 pgtables:0kB oom_score_adj:{adj}"
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_model_gfp_moves_to_current_bits_and_prints_the_kernel_names() {
        let m = modern_gfp(gfp::GFP_HIGHUSER_MOVABLE);
        assert_eq!(m, 0x100cca);
        assert_eq!(gfp_names(m), "GFP_HIGHUSER_MOVABLE");
        let nofs = modern_gfp(gfp::GFP_NOFS | gfp::WRITE);
        assert_eq!(gfp_names(nofs), "GFP_NOFS|__GFP_WRITE");
    }
}
