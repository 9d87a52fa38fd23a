//! Which keys each table of a scenario file takes: one list used by validation, by `[matrix]` and
//! `--set` path resolution, by "did you mean" and by `wbsim list`.

/// Top-level tables.
pub const TOP_LEVEL: &[&str] = &[
    "scenario", "machine", "vm", "kernel", "disk", "mount", "task", "noise", "matrix", "expect",
];

/// `[kernel]`: the later-kernel switches (`crate::kernel::SWITCHES`).
pub fn kernel_keys() -> Vec<&'static str> {
    crate::kernel::SWITCHES.iter().map(|s| s.key).collect()
}

/// `[scenario]`.
pub const SCENARIO: &[&str] = &[
    "name",
    "description",
    "release",
    "duration",
    "seed",
    "max_events",
    "max_scanned",
    "replicas",
];

/// `[noise]`: how much replicas vary (`crate::noise`).
pub const NOISE: &[&str] = &["start", "rate_percent", "disk_percent", "wakeup_order"];

/// `[machine]`.
pub const MACHINE: &[&str] = &[
    "memory",
    "kernel_reserved",
    "fake_numa_node_size",
    "nodes",
    "pci_hole",
    "swap",
    "swap_disk",
    "hz",
    "cpus",
    "page_granularity",
    "slab",
];

/// `[machine.slab]`: the VFS caches at the start.
pub const MACHINE_SLAB: &[&str] = &["dentries", "inodes"];

/// `[vm]`.
pub const VM: &[&str] = &[
    "dirty_ratio",
    "dirty_background_ratio",
    "dirty_bytes",
    "dirty_background_bytes",
    "dirty_expire_centisecs",
    "dirty_writeback_centisecs",
    "min_free_kbytes",
    "swappiness",
    "panic_on_oom",
    "oom_kill_allocating_task",
    "vfs_cache_pressure",
    "watermark_scale_factor",
];

/// `[disk.NAME]`.
pub const DISK: &[&str] = &[
    "bandwidth",
    "seek",
    "nr_requests",
    "latency",
    "queue_depth",
    "random_write_iops",
];

/// `[mount.NAME]`.
pub const MOUNT: &[&str] = &["fs", "disk", "options"];

/// Keys every `[task.NAME]` takes.
pub const TASK_COMMON: &[&str] = &[
    "kind",
    "start",
    "cpuset",
    "cpuset_hardwall",
    "membind",
    "oom_score_adj",
    "parent",
    "attach",
    "extra_vm",
];

/// One task kind and its own keys (declared by the kind, `mm/workload/<kind>.rs`).
pub use crate::mm::workload::KindInfo as TaskKindKeys;

/// The task kinds, in registry order.
pub use crate::mm::workload::KINDS as TASK_KINDS;

/// The kind's key list, by `kind` value.
pub fn task_kind(kind: &str) -> Option<&'static TaskKindKeys> {
    crate::mm::workload::kind(kind)
}

/// All keys a task of `kind` takes (every kind's keys when the kind is unknown).
pub fn task_keys(kind: Option<&str>) -> Vec<&'static str> {
    let mut keys: Vec<&str> = TASK_COMMON.to_vec();
    let known = kind.and_then(task_kind);
    for k in TASK_KINDS
        .iter()
        .filter(|k| known.map_or(true, |known| known.kind == k.kind))
    {
        for key in k.keys() {
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
    }
    keys
}

/// Expect outcomes.
pub const OUTCOMES: &[&str] = &["oom", "survived", "stalled"];

/// Keys of an `[expect]` table value.
pub const EXPECT_KEYS: &[&str] = &["outcome", "victim", "invoker"];

#[cfg(test)]
mod tests {
    #[test]
    fn scenario_format_lists_every_kernel_switch() {
        let doc = include_str!("../../docs/SCENARIO_FORMAT.md");
        for s in crate::kernel::SWITCHES {
            let values: Vec<String> = s.values.iter().map(|v| format!("`{v}`")).collect();
            let row = format!("| `{}` | {} |", s.key, values.join(" "));
            assert!(
                doc.contains(&row),
                "docs/SCENARIO_FORMAT.md lacks the row {row}"
            );
        }
    }
}
