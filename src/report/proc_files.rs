//! The final `/proc/vmstat` and `/proc/meminfo` of a run, as the kernel prints them.
//!
//! `/proc/vmstat` is `name value` per line in `vmstat_text[]` order (the release's names and
//! per-zone suffixes come from `mm/vmstat.rs`). `/proc/meminfo` follows `meminfo_proc_show()`
//! (`fs/proc/meminfo.c` 2.6.32–2.6.36): `"%-16s%8lu kB"`, in its order, up to `Committed_AS`
//! (the values come from `engine::result`).

use crate::outcome::{Meminfo, Vmstat};

/// `/proc/vmstat` text.
pub fn render_vmstat(vmstat: &Vmstat) -> String {
    let mut out = String::new();
    for (n, v) in vmstat.iter() {
        out.push_str(&format!("{n} {v}\n"));
    }
    out
}

/// `/proc/meminfo` text (`"%-16s%8lu kB"` per line, the name with its colon).
pub fn render_meminfo(meminfo: &Meminfo) -> String {
    let mut out = String::new();
    for (n, kb) in meminfo.iter() {
        out.push_str(&format!("{:<16}{kb:>8} kB\n", format!("{n}:")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meminfo_pads_names_to_16_and_values_to_8() {
        let vmstat = Vmstat::new(vec![("nr_free_pages".into(), 12)]);
        let meminfo = Meminfo::new(vec![
            ("MemTotal".into(), 1048576),
            ("Inactive(anon)".into(), 4),
        ]);
        assert_eq!(
            render_meminfo(&meminfo),
            "MemTotal:        1048576 kB\nInactive(anon):        4 kB\n"
        );
        assert_eq!(render_vmstat(&vmstat), "nr_free_pages 12\n");
    }
}
