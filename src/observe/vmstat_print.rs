//! The final `/proc/vmstat` and `/proc/meminfo` of a run, as the kernel prints them.
//!
//! `/proc/vmstat` is `name value` per line in `vmstat_text[]` order (the release's names and
//! per-zone suffixes come from `mm/vmstat.rs`). `/proc/meminfo` follows `meminfo_proc_show()`
//! (`fs/proc/meminfo.c` 2.6.32–2.6.36): `"%-16s%8lu kB"`, in its order, up to `Committed_AS`.

use crate::mm::page::LruList;
use crate::mm::Machine;
use crate::outcome::RunResult;

/// `vm_overcommit_ratio` default.
const OVERCOMMIT_RATIO: u64 = 50;

/// The `/proc/meminfo` lines of machine `m`, `(name, kB)`, in the kernel's order (from base
/// pages: a simulated page is its `G` kernel pages).
pub fn meminfo(m: &Machine) -> Vec<(String, u64)> {
    let b = |x: u64| m.granularity.base(x);
    let g = |f: &dyn Fn(&crate::mm::zone::Zone) -> u64| b(m.mem.zones.iter().map(f).sum::<u64>());
    let lru = |l: LruList| g(&|z| z.nr_lru(l));
    let swap_cache = b(m.mem.swap_cache_pages());
    let ram = g(&|z| z.present);
    let file_pages = g(&|z| z.stat.nr_file_pages);
    let slab = g(&|z| z.stat.nr_kernel);
    // vm_committed_as counts private writable mappings: every live task's virtual size (base
    // pages already).
    let committed: u64 = (0..m.tasks.len())
        .filter(|&t| !m.tasks[t].dead)
        .map(|t| m.total_vm(t))
        .sum();
    let pages = [
        ("MemTotal", ram),
        ("MemFree", g(&|z| z.nr_free())),
        ("Buffers", 0),
        ("Cached", file_pages.saturating_sub(swap_cache)),
        ("SwapCached", swap_cache),
        (
            "Active",
            lru(LruList::ActiveAnon) + lru(LruList::ActiveFile),
        ),
        (
            "Inactive",
            lru(LruList::InactiveAnon) + lru(LruList::InactiveFile),
        ),
        ("Active(anon)", lru(LruList::ActiveAnon)),
        ("Inactive(anon)", lru(LruList::InactiveAnon)),
        ("Active(file)", lru(LruList::ActiveFile)),
        ("Inactive(file)", lru(LruList::InactiveFile)),
        ("Unevictable", lru(LruList::Unevictable)),
        ("Mlocked", g(&|z| z.stat.nr_mlock)),
        ("SwapTotal", b(m.mem.swap.total)),
        ("SwapFree", b(m.mem.swap.free)),
        ("Dirty", g(&|z| z.stat.nr_dirty)),
        ("Writeback", g(&|z| z.stat.nr_writeback)),
        ("AnonPages", g(&|z| z.stat.nr_anon_pages)),
        ("Mapped", g(&|z| z.stat.nr_mapped)),
        ("Shmem", g(&|z| z.stat.nr_shmem)),
        ("Slab", slab),
        ("SReclaimable", 0),
        ("SUnreclaim", slab),
        ("KernelStack", 0),
        ("PageTables", 0),
        ("NFS_Unstable", 0),
        ("Bounce", 0),
        ("WritebackTmp", 0),
        (
            "CommitLimit",
            b(m.mem.swap.total) + ram * OVERCOMMIT_RATIO / 100,
        ),
        ("Committed_AS", committed),
    ];
    pages
        .iter()
        .map(|(n, p)| ((*n).to_string(), p * 4))
        .collect()
}

/// `/proc/vmstat` text.
pub fn render_vmstat(r: &RunResult) -> String {
    let mut out = String::new();
    for (n, v) in &r.vmstat {
        out.push_str(&format!("{n} {v}\n"));
    }
    out
}

/// `/proc/meminfo` text (`"%-16s%8lu kB"` per line, the name with its colon).
pub fn render_meminfo(r: &RunResult) -> String {
    let mut out = String::new();
    for (n, kb) in &r.meminfo {
        out.push_str(&format!("{:<16}{kb:>8} kB\n", format!("{n}:")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meminfo_pads_names_to_16_and_values_to_8() {
        let r = RunResult {
            vmstat: vec![("nr_free_pages".into(), 12)],
            meminfo: vec![("MemTotal".into(), 1048576), ("Inactive(anon)".into(), 4)],
            ..RunResult::empty()
        };
        assert_eq!(
            render_meminfo(&r),
            "MemTotal:        1048576 kB\nInactive(anon):        4 kB\n"
        );
        assert_eq!(render_vmstat(&r), "nr_free_pages 12\n");
    }
}
