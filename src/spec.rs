//! The validated input of one simulated run: everything the engine needs, with units resolved.
//!
//! `scenario/` turns a TOML file (plus `--set` overrides and one cell of its `[matrix]`) into a
//! [`RunSpec`]; the engine (`engine::simulate`) sees nothing else. No user error can arise after
//! this point: every field here has already been checked, so the engine asserts instead of
//! returning errors. Sizes are bytes (`u64`), times are nanoseconds (`u64`), rates are bytes per
//! second.

use serde::Serialize;

/// The largest file a task reads or writes: page indices are 32-bit (16 TiB).
pub const MAX_FILE_BYTES: u64 = 1 << 44;
/// The largest address space of a task (`extra_vm`, an `anon` size): the x86_64 user address
/// space (`TASK_SIZE`, 128 TiB).
pub const MAX_VM_BYTES: u64 = 1 << 47;

/// A modelled 2.6.3x release (`scenario.release`): the profile names of `crate::kernel`'s
/// 2.6.32–2.6.36 profiles, and the release whose output formats (the OOM report's lines) a run
/// prints. Its rules are the profile's switches.
///
/// `V2_6_32_0` is mainline 2.6.32 before the 2.6.32-stable fix to `shrink_list()` (reclaim-oom §4.4):
/// an active list's budget is spent scanning the inactive list when the inactive list is not low.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Release {
    /// 2.6.32 as released (mainline .0).
    V2_6_32_0,
    /// 2.6.32 with the -stable `shrink_list()` fix (the default meaning of "2.6.32").
    V2_6_32,
    /// 2.6.33.
    V2_6_33,
    /// 2.6.34.
    V2_6_34,
    /// 2.6.35.
    V2_6_35,
    /// 2.6.36.
    V2_6_36,
}

impl Release {
    /// Every release, oldest first.
    pub const ALL: [Release; 6] = [
        Release::V2_6_32_0,
        Release::V2_6_32,
        Release::V2_6_33,
        Release::V2_6_34,
        Release::V2_6_35,
        Release::V2_6_36,
    ];

    /// The name used in scenario files and output: `2.6.32.0`, `2.6.32`, … `2.6.36`.
    pub fn name(self) -> &'static str {
        match self {
            Release::V2_6_32_0 => "2.6.32.0",
            Release::V2_6_32 => "2.6.32",
            Release::V2_6_33 => "2.6.33",
            Release::V2_6_34 => "2.6.34",
            Release::V2_6_35 => "2.6.35",
            Release::V2_6_36 => "2.6.36",
        }
    }

    /// Parses a release name as written in scenario files.
    pub fn from_name(name: &str) -> Option<Release> {
        Release::ALL.into_iter().find(|r| r.name() == name)
    }

    /// The minor number (32..=36); `2.6.32.0` counts as 32. For output formats only (the OOM
    /// report's lines): the engine's rules are the switches of `crate::kernel`, never this
    /// number; a format test reads better as `release >= Release::V2_6_36`.
    pub fn minor(self) -> u32 {
        match self {
            Release::V2_6_32_0 | Release::V2_6_32 => 32,
            Release::V2_6_33 => 33,
            Release::V2_6_34 => 34,
            Release::V2_6_35 => 35,
            Release::V2_6_36 => 36,
        }
    }
}

/// What a filesystem that declines to write a page from reclaim does (the seed's question).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Policy {
    /// `redirty_page_for_writepage()`, unlock, return 0: the kernel as it was.
    Redirty,
    /// Keep the page locked, redirty it, return `AOP_WRITEPAGE_ACTIVATE`: what Ts'o proposed.
    Activate,
}

impl Policy {
    /// Both policies, in the order runs are reported.
    pub const ALL: [Policy; 2] = [Policy::Redirty, Policy::Activate];

    /// `redirty` or `activate`.
    pub fn name(self) -> &'static str {
        match self {
            Policy::Redirty => "redirty",
            Policy::Activate => "activate",
        }
    }

    /// Parses `redirty` / `activate`.
    pub fn from_name(name: &str) -> Option<Policy> {
        Policy::ALL.into_iter().find(|p| p.name() == name)
    }
}

pub use crate::fs::FsType;

/// The journalling mode of an ext3/ext4 mount (`data=`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum DataMode {
    /// `data=ordered` (the default): data is written before the metadata that refers to it.
    Ordered,
    /// `data=writeback`: no data ordering, no commit-time data flush.
    Writeback,
}

/// How the physical memory is laid out in nodes and zones (`machine.*`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum NodeLayout {
    /// One node, x86_64 zones by physical address: DMA below 16 MiB, DMA32 below 4 GiB, Normal
    /// above. A zone with no pages is not created.
    X86_64 {
        /// The PCI hole below 4 GiB (`machine.pci_hole`), bytes: memory below 4 GiB ends at
        /// 4 GiB minus the hole and the rest is remapped above 4 GiB, as the BIOS's e820 map
        /// does, so that part is a Normal zone (`zone_sizes_init`, arch/x86/mm/init_64.c).
        pci_hole_bytes: u64,
    },
    /// `numa=fake=<node_bytes>`: memory cut into nodes of this size, each node's zones placed by
    /// physical address as above (node 0 holds DMA; the last node may be smaller).
    FakeNuma {
        /// Bytes per node.
        node_bytes: u64,
    },
    /// Explicit nodes, each with one Normal zone of the given size (`machine.nodes = [..]`).
    Explicit {
        /// Bytes per node, node 0 first.
        node_bytes: Vec<u64>,
    },
}

/// The simulated machine (`[machine]`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MachineSpec {
    /// Physical memory, bytes (a multiple of `page_bytes`).
    pub memory_bytes: u64,
    /// Memory the kernel holds at boot (text, mem_map, slab, page tables): never free and never on
    /// an LRU. Taken from each zone in proportion to its size.
    pub kernel_reserved_bytes: u64,
    /// Node and zone layout.
    pub layout: NodeLayout,
    /// Swap space, bytes (0: no swap).
    pub swap_bytes: u64,
    /// The disk that holds the swap area (index into `RunSpec::disks`); `None` when no swap.
    pub swap_disk: Option<usize>,
    /// CONFIG_HZ: the length of a jiffy is `1e9 / hz` ns.
    pub hz: u32,
    /// Online CPUs (used by `ratelimit_pages` and the per-CPU page lists).
    pub cpus: u32,
    /// The simulated page (`machine.page_granularity`), bytes: 4096 (every kernel page simulated,
    /// the default) or a power of two up to 2 MiB, each simulated page standing for
    /// `page_bytes / 4096` kernel pages (`mm::granularity`, docs/MODEL.md simplification 21).
    pub page_bytes: u64,
    /// The VFS caches the machine starts with (`[machine.slab]`; empty by default).
    pub slab: SlabSpec,
}

/// `[machine.slab]`: the dentry and inode objects cached at the start, all unused (on the
/// dcache and icache LRUs) so `shrink_slab()` can free them (`mm/slab.rs`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SlabSpec {
    /// `dentries`: unused dentries (`dentry_stat.nr_unused`).
    pub dentries: u64,
    /// `inodes`: cached inodes; as many as there are dentries are held by them (positive
    /// dentries), the rest are unused (`inodes_stat.nr_unused`).
    pub inodes: u64,
}

impl MachineSpec {
    /// The simulated page's [`crate::mm::granularity::Granularity`].
    pub fn granularity(&self) -> crate::mm::granularity::Granularity {
        crate::mm::granularity::Granularity::of_bytes(self.page_bytes)
    }

    /// `machine.page_granularity` as a scenario writes it, when coarser than 4 KiB (`None` at the
    /// default: outputs name the granularity only when it is not the kernel's).
    pub fn coarse_page(&self) -> Option<String> {
        let g = self.granularity();
        (!g.is_base()).then(|| g.name())
    }
}

/// What a heading says of the simulated pages of several runs: `None` when every run simulates
/// 4 KiB pages, the granularity when they share a coarser one, `(varies)` otherwise.
pub fn coarse_page_summary<'a>(pages: impl IntoIterator<Item = Option<&'a str>>) -> Option<String> {
    let all: Vec<Option<&str>> = pages.into_iter().collect();
    if all.iter().all(Option::is_none) {
        return None;
    }
    let first = all[0];
    Some(if all.iter().all(|p| *p == first) {
        first.unwrap_or("4KiB").to_string()
    } else {
        "(varies)".to_string()
    })
}

/// The `vm.*` sysctls, in the kernel's own names and units.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct VmSpec {
    /// `vm.dirty_ratio`, percent (the kernel clamps to ≥ 5).
    pub dirty_ratio: u32,
    /// `vm.dirty_background_ratio`, percent.
    pub dirty_background_ratio: u32,
    /// `vm.dirty_bytes` (0: use the ratio).
    pub dirty_bytes: u64,
    /// `vm.dirty_background_bytes` (0: use the ratio).
    pub dirty_background_bytes: u64,
    /// `vm.dirty_expire_centisecs`.
    pub dirty_expire_centisecs: u32,
    /// `vm.dirty_writeback_centisecs` (0 disables kupdate).
    pub dirty_writeback_centisecs: u32,
    /// `vm.min_free_kbytes`; `None`: derived at boot as `init_per_zone_wmark_min()` does.
    pub min_free_kbytes: Option<u64>,
    /// `vm.swappiness`.
    pub swappiness: u32,
    /// `vm.panic_on_oom` (0, 1 or 2).
    pub panic_on_oom: u32,
    /// `vm.oom_kill_allocating_task`.
    pub oom_kill_allocating_task: bool,
    /// `vm.vfs_cache_pressure`: the dcache's and icache's shrinkers report
    /// `(nr_unused / 100) * vfs_cache_pressure` objects (0: never shrunk).
    pub vfs_cache_pressure: u32,
    /// `vm.watermark_scale_factor` (4.6+, switch `watermark_gap`): the gap between the
    /// watermarks in ten-thousandths of a zone's pages.
    pub watermark_scale_factor: u32,
}

impl Default for VmSpec {
    /// The kernel's defaults.
    fn default() -> Self {
        VmSpec {
            dirty_ratio: 20,
            dirty_background_ratio: 10,
            dirty_bytes: 0,
            dirty_background_bytes: 0,
            dirty_expire_centisecs: 3000,
            dirty_writeback_centisecs: 500,
            min_free_kbytes: None,
            swappiness: 60,
            panic_on_oom: 0,
            oom_kill_allocating_task: false,
            vfs_cache_pressure: 100,
            watermark_scale_factor: 10,
        }
    }
}

/// A block device (`[disk.NAME]`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DiskSpec {
    /// The table name, e.g. `sdb`.
    pub name: String,
    /// Sequential bandwidth, bytes per second.
    pub bandwidth_bytes_per_sec: u64,
    /// Cost of a request that does not start where the previous one ended, ns.
    pub seek_ns: u64,
    /// `/sys/block/*/queue/nr_requests` (128 by default).
    pub nr_requests: u32,
    /// Time every request takes from dispatch to completion besides its transfer, ns
    /// (`latency`; 0 by default: the rotating disk's cost is its seek).
    pub latency_ns: u64,
    /// Requests the device serves at once, completing in parallel (`queue_depth`; 1 by default:
    /// one at a time). A null_blk-like device is a latency and a depth.
    pub queue_depth: u32,
    /// A flash device's random-write rate (`random_write_iops`; 0 by default: none): a request
    /// that does not start where the previous one ended costs `1e9 / iops` ns for its first
    /// 4 KiB instead of a seek, so small random writes cost more than streaming ones.
    pub random_write_iops: u64,
}

/// A mounted filesystem (`[mount.NAME]`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MountSpec {
    /// The table name, e.g. `backup`.
    pub name: String,
    /// The filesystem.
    pub fs: FsType,
    /// The disk it lives on (index into `RunSpec::disks`); `None` only for tmpfs.
    pub disk: Option<usize>,
    /// ext4 delayed allocation (`delalloc`, the default, or `nodelalloc`); ignored elsewhere.
    pub delalloc: bool,
    /// ext3/ext4 `data=` mode.
    pub data_mode: DataMode,
    /// Journal commit interval (`commit=`), ns; 5 s by default.
    pub commit_interval_ns: u64,
    /// ext4 `dioread_nolock` / `nodioread_nolock`; `None`: the release's default
    /// (`ext4_dioread_nolock_default`).
    pub dioread_nolock: Option<bool>,
}

impl MountSpec {
    /// A mount of `fs` with the kernel's default options (ext4 `delalloc`, `data=ordered`,
    /// `commit=5`), named `""`, on no disk yet.
    pub fn default_for(fs: FsType) -> MountSpec {
        MountSpec {
            name: String::new(),
            fs,
            disk: None,
            delalloc: true,
            data_mode: DataMode::Ordered,
            commit_interval_ns: 5_000_000_000,
            dioread_nolock: None,
        }
    }
}

pub use crate::mm::workload::{
    Anon, AnonGfp, Pin, PinMethod, StreamRead, StreamWrite, TaskKind, Truncate, WorkingSet,
};

/// One task (`[task.NAME]`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TaskSpec {
    /// The table name, used as the process name (`comm`) in reports.
    pub name: String,
    /// What it does.
    pub kind: TaskKind,
    /// `cpuset.mems`: the nodes it may allocate from; `None`: every node.
    pub cpuset_nodes: Option<Vec<u32>>,
    /// `cpuset.mem_hardwall` (or `mem_exclusive`): GFP_KERNEL allocations are confined too.
    pub cpuset_hardwall: bool,
    /// `set_mempolicy(MPOL_BIND, nodes)` (`numactl --membind`): every allocation of the task
    /// is confined to these nodes, reclaim and the OOM killer included; `None`: the default
    /// (local) policy.
    pub membind: Option<Vec<u32>>,
    /// `/proc/PID/oom_score_adj` (−1000..=1000); 2.6.32–35 use `oom_adj` = adj·17/1000.
    pub oom_score_adj: i32,
    /// When it starts, ns.
    pub start_ns: u64,
    /// Its parent task (index into `RunSpec::tasks`), for badness and kill-a-child-first.
    pub parent: Option<usize>,
    /// Shared segments it maps (indices of `pin` tasks with method shm/shm_lock): they count in
    /// its `total_vm` (2.6.32–35 badness) and, when faulted, its rss (2.6.36 `oom_badness`).
    pub attach: Vec<usize>,
    /// Virtual size beyond what it touches (untouched reservations, libraries), bytes: counts in
    /// `total_vm` only.
    pub extra_vm_bytes: u64,
}

impl TaskSpec {
    /// A task of `kind` named `name` with no cpuset, no policy, no parent, nothing attached,
    /// starting at 0.
    pub fn new(name: &str, kind: TaskKind) -> TaskSpec {
        TaskSpec {
            name: name.into(),
            kind,
            cpuset_nodes: None,
            cpuset_hardwall: false,
            membind: None,
            oom_score_adj: 0,
            start_ns: 0,
            parent: None,
            attach: vec![],
            extra_vm_bytes: 0,
        }
    }
}

/// Bounds that make every run end.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Limits {
    /// Simulated-time limit, ns (`scenario.duration`).
    pub sim_time_ns: u64,
    /// Event limit; reaching it ends the run as `stalled`.
    pub max_events: u64,
    /// Pages scanned by reclaim (pgscan_kswapd + pgscan_direct); reaching it ends the run as
    /// `stalled`. An event may scan thousands of pages, so events alone do not bound the work.
    pub max_scanned: u64,
}

/// Everything one run needs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RunSpec {
    /// The release whose output formats apply (`kernel.base`); the rules are `kernel.switches`.
    pub release: Release,
    /// The kernel profile and its switches.
    pub kernel: crate::kernel::Kernel,
    /// The writepage-refusal policy.
    pub policy: Policy,
    /// The seed of every random stream.
    pub seed: u64,
    /// Bounds.
    pub limits: Limits,
    /// The machine.
    pub machine: MachineSpec,
    /// Sysctls.
    pub vm: VmSpec,
    /// Disks, in declaration order.
    pub disks: Vec<DiskSpec>,
    /// Mounts, in declaration order.
    pub mounts: Vec<MountSpec>,
    /// Tasks, in declaration order (pids are assigned in this order, from 1000).
    pub tasks: Vec<TaskSpec>,
    /// Wake-up-order noise (`[noise] wakeup_order`, set by `noise::perturb`): events due at the
    /// same later instant pop in an order drawn from the seed.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub shuffle_wakeups: bool,
}

impl RunSpec {
    /// `vm.watermark_scale_factor` where the kernel's `setup_per_zone_wmarks()` reads it
    /// (switch `watermark_gap`), `None` before 4.6.
    pub fn watermark_scale_factor(&self) -> Option<u64> {
        (self.kernel.switches.watermark_gap == crate::kernel::WatermarkGap::ScaleFactor)
            .then_some(u64::from(self.vm.watermark_scale_factor))
    }
}
