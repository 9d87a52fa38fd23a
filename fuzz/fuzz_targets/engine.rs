//! Fuzz target: small arbitrary scenarios, loaded through the validator and run with
//! `--check-invariants`' checks. The input is a typed description of a scenario file (arbitrary
//! bytes decoded by `arbitrary`) whose cross-references are drawn from what the description
//! already declares: mounts on disks that exist, readers on mounts with a disk, truncates aimed at
//! stream writers (on tmpfs too), `attach` at shm pinners, parents among earlier tasks, `membind`
//! inside the cpuset, `hot_size` inside its region, matrix axes on paths the file has, with
//! `[[matrix.tied]]`, `exclude` and `include` naming axis values that exist. So most inputs
//! validate and reach the engine: every kernel profile, `[kernel]` switches from the library's
//! table, page granularities up to 128 KiB, `N%` sizes, `[noise]` and replicas. Each input is
//! bounded (at most ~9000 simulated pages, 4000 events, a scan budget), so it runs in
//! milliseconds. Any panic or invariant violation is a finding; `WBSIM_FUZZ_PRINT=1` prints the
//! scenario of an input and what became of it.
#![no_main]

use std::fmt::Write;
use std::sync::Arc;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use wbsim::engine::{execute, Recount, Setup};
use wbsim::fs::{Backing, FsType};
use wbsim::kernel::{Kernel, SWITCHES};
use wbsim::mm::Options;
use wbsim::scenario::error::Source;
use wbsim::scenario::schema::TASK_KINDS;
use wbsim::scenario::{load_source, Overrides};
use wbsim::spec::PinMethod;

#[derive(Arbitrary, Debug)]
struct Input {
    scenario: ScenarioKeys,
    machine: MachineKeys,
    vm: VmKeys,
    switches: Vec<(u8, u8)>,
    noise: Option<NoiseKeys>,
    disks: Vec<Disk>,
    mounts: Vec<Mount>,
    tasks: Vec<Task>,
    axes: Vec<Axis>,
    tied: Option<Tied>,
    exclude: Option<(u8, u8, u8, u8)>,
    include: Option<Include>,
    /// Which planned run (cell, policy, replica) is simulated.
    run: u16,
    stop_at_first_oom: bool,
    /// `--check-invariants=every-event` when `% 4 == 0`, `--check-invariants` otherwise.
    recount: u8,
}

#[derive(Arbitrary, Debug)]
struct ScenarioKeys {
    release: u8,
    seed: u16,
    duration_ms: u16,
    max_events: u16,
    max_scanned: Option<u16>,
    replicas: u8,
}

#[derive(Arbitrary, Debug)]
struct MachineKeys {
    memory: u8,
    granularity: u8,
    layout: u8,
    pci_hole: u8,
    kernel_reserved: Option<u8>,
    swap_mib: u8,
    hz: u8,
    cpus: u8,
}

#[derive(Arbitrary, Debug)]
struct VmKeys {
    dirty_ratio: u8,
    dirty_background_ratio: u8,
    dirty_bytes: Option<Size>,
    dirty_background_bytes: Option<Size>,
    expire_centisecs: Option<u16>,
    writeback_centisecs: Option<u16>,
    swappiness: u8,
    min_free_kbytes: Option<u16>,
    oom_kill_allocating_task: bool,
    panic_on_oom: u8,
}

#[derive(Arbitrary, Debug)]
struct NoiseKeys {
    start_ms: u16,
    rate_percent: u8,
    disk_percent: u8,
    wakeup_order: bool,
}

#[derive(Arbitrary, Debug)]
struct Disk {
    bandwidth_kib: u16,
    seek_us: u16,
    nr_requests: u8,
    latency_us: Option<u16>,
    queue_depth: Option<u8>,
    random_write_iops: Option<u16>,
}

#[derive(Arbitrary, Debug)]
struct Mount {
    fs: u8,
    disk: u8,
    options: u8,
}

/// A size: KiB, or a share of `machine.memory` (`N%`).
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Size {
    Kib(u16),
    Percent(u8),
}

#[derive(Arbitrary, Debug)]
struct Task {
    kind: u8,
    size: Size,
    rate_kib: u16,
    io_kib: Option<u8>,
    mount: u8,
    start_ms: u16,
    cpuset: u8,
    hardwall: bool,
    membind: Option<u8>,
    oom_score_adj: i16,
    parent: Option<u8>,
    attach: Option<u8>,
    extra_vm_kib: Option<u16>,
    cycle: bool,
    hold_ms: u16,
    kernel_gfp: bool,
    method: u8,
    target: u8,
    touch: Option<(u16, Option<u8>)>,
}

/// A `[matrix]` axis: one of the paths the file has (`path` picks it) and up to 3 values.
#[derive(Arbitrary, Debug)]
struct Axis {
    path: u8,
    values: [u8; 3],
    count: u8,
}

/// `[[matrix.tied]]`: the sizes of two tasks, stepped together.
#[derive(Arbitrary, Debug)]
struct Tied {
    first: u8,
    second: u8,
    steps: [(u8, u8); 3],
    count: u8,
}

/// `[[matrix.include]]`: an axis value (possibly one the axis lacks, which adds a combination)
/// and a setting that is no axis.
#[derive(Arbitrary, Debug)]
struct Include {
    axis: u8,
    value: u8,
    setting: u8,
    setting_value: u8,
}

/// Picks one of `items` by `i` (the lists come from the library, so a new kernel profile,
/// switch, filesystem, pin method or task kind is fuzzed without touching this file).
fn pick<T: Copy>(items: &[T], i: u8) -> T {
    items[usize::from(i) % items.len()]
}

const MAX_DISKS: usize = 3;
const MAX_MOUNTS: usize = 4;
const MAX_TASKS: usize = 6;
/// Machines up to this many simulated pages are sometimes recounted after every event.
const FULL_RECOUNT_PAGES: u64 = 1024;

/// What the rendering decided, for the cross-references.
struct Plan<'a> {
    input: &'a Input,
    memory_mib: u32,
    nodes: u32,
    disks: usize,
    /// Per mount: its filesystem and whether it has a disk.
    mounts: Vec<(FsType, bool)>,
    /// Per task: its kind.
    kinds: Vec<&'static str>,
}

impl<'a> Plan<'a> {
    fn new(i: &'a Input) -> Plan<'a> {
        // At least one disk and one mount, so that stream tasks always have somewhere to go.
        let disks = i.disks.len().clamp(1, MAX_DISKS);
        let mounts: Vec<(FsType, bool)> = i
            .mounts
            .iter()
            .take(MAX_MOUNTS)
            .map(|m| {
                let fs = pick(FsType::ALL, m.fs);
                (fs, fs.ops().backing() == Backing::Disk)
            })
            .collect();
        let mounts = if mounts.is_empty() {
            vec![(
                FsType::ALL[0],
                FsType::ALL[0].ops().backing() == Backing::Disk,
            )]
        } else {
            mounts
        };
        let all: Vec<&str> = TASK_KINDS.iter().map(|k| k.kind).collect();
        let mut kinds: Vec<&str> = i
            .tasks
            .iter()
            .take(MAX_TASKS)
            .map(|t| pick(&all, t.kind))
            .collect();
        // A truncate needs a writer: without one, truncates become writers.
        if !kinds.contains(&"stream-write") {
            for k in kinds.iter_mut().filter(|k| **k == "truncate") {
                *k = "stream-write";
            }
        }
        let granularity_kib = granularity_kib(i.machine.granularity);
        // About 9000 simulated pages at most: small machines at 4 KiB, larger ones when coarse.
        let span = 32 * (granularity_kib / 4).min(16);
        Plan {
            input: i,
            memory_mib: 4 + u32::from(i.machine.memory) % span,
            nodes: match i.machine.layout / 4 % 3 {
                0 => 1,
                _ => 1 + u32::from(i.machine.layout % 4),
            },
            disks,
            mounts,
            kinds,
        }
    }

    fn tasks(&self) -> usize {
        self.kinds.len()
    }

    /// The pin method of task `n` (meaningful for pinners).
    fn method(&self, n: usize) -> PinMethod {
        pick(PinMethod::ALL.as_slice(), self.input.tasks[n].method)
    }

    /// Tasks `attach` may name: shm and shm_lock pinners.
    fn segments(&self) -> Vec<usize> {
        (0..self.tasks())
            .filter(|&n| {
                self.kinds[n] == "pin"
                    && matches!(self.method(n), PinMethod::Shm | PinMethod::ShmLock)
            })
            .collect()
    }

    /// Tasks a truncate may name: stream writers (on any mount: a tmpfs writer is refused).
    fn writers(&self) -> Vec<usize> {
        (0..self.tasks())
            .filter(|&n| self.kinds[n] == "stream-write")
            .collect()
    }

    /// Tasks with a `size` a percentage axis can vary.
    fn sized(&self) -> Vec<usize> {
        (0..self.tasks())
            .filter(|&n| {
                matches!(
                    self.kinds[n],
                    "pin" | "anon" | "stream-write" | "stream-read"
                )
            })
            .collect()
    }
}

/// 4 KiB for most inputs, up to 128 KiB for the rest.
fn granularity_kib(g: u8) -> u32 {
    if g < 160 {
        4
    } else {
        4 << (1 + u32::from(g) % 5)
    }
}

/// The scenario file an input stands for.
fn render(i: &Input) -> String {
    let plan = Plan::new(i);
    let mut s = String::new();
    render_scenario(&plan, &mut s);
    render_machine(&plan, &mut s);
    render_vm(&i.vm, &mut s);
    render_kernel(i, &mut s);
    render_devices(&plan, &mut s);
    for n in 0..plan.tasks() {
        render_task(&plan, n, &mut s);
    }
    render_matrix(&plan, &mut s);
    s
}

/// `[scenario]` and `[noise]`.
fn render_scenario(p: &Plan, s: &mut String) {
    let k = &p.input.scenario;
    let _ = writeln!(
        s,
        "[scenario]\nname = \"fuzz\"\nrelease = \"{}\"\nseed = {}\nduration = \"{}ms\"\nmax_events = {}\nreplicas = {}",
        pick(&Kernel::profile_names(), k.release),
        k.seed,
        1 + u32::from(k.duration_ms) % 5000,
        200 + u32::from(k.max_events) % 3800,
        1 + k.replicas % 3
    );
    if let Some(m) = k.max_scanned {
        let _ = writeln!(s, "max_scanned = {}", 1 + u32::from(m) * 4);
    }
    if let Some(n) = &p.input.noise {
        let _ = writeln!(
            s,
            "[noise]\nstart = \"{}ms\"\nrate_percent = {}\ndisk_percent = {}\nwakeup_order = {}",
            n.start_ms % 400,
            n.rate_percent % 51,
            n.disk_percent % 51,
            n.wakeup_order
        );
    }
}

/// `[machine]`: one node, fake NUMA or explicit nodes; a PCI hole, swap, granularity.
fn render_machine(p: &Plan, s: &mut String) {
    let m = &p.input.machine;
    let memory = p.memory_mib;
    let _ = writeln!(s, "[machine]\nmemory = \"{memory}MiB\"");
    let granularity = granularity_kib(m.granularity);
    if granularity > 4 || m.granularity % 8 == 0 {
        let _ = writeln!(s, "page_granularity = \"{granularity}KiB\"");
    }
    match m.layout / 4 % 3 {
        1 if p.nodes > 1 => {
            let _ = writeln!(
                s,
                "fake_numa_node_size = \"{}MiB\"",
                memory.div_ceil(p.nodes)
            );
        }
        2 if p.nodes > 1 => {
            let rest = memory / 2 / (p.nodes - 1);
            let first = memory - rest * (p.nodes - 1);
            let sizes: Vec<String> = (0..p.nodes)
                .map(|n| format!("\"{}MiB\"", if n == 0 { first } else { rest }))
                .collect();
            let _ = writeln!(s, "nodes = [{}]", sizes.join(", "));
        }
        _ if m.pci_hole % 4 == 1 => {
            let _ = writeln!(
                s,
                "pci_hole = \"{}KiB\"",
                u32::from(m.pci_hole) * granularity
            );
        }
        _ => {}
    }
    if let Some(r) = m.kernel_reserved {
        let _ = writeln!(s, "kernel_reserved = \"{}KiB\"", 4 * (1 + u32::from(r)));
    }
    if m.swap_mib % 4 != 0 && p.disks > 0 {
        let _ = writeln!(
            s,
            "swap = \"{}MiB\"\nswap_disk = \"d{}\"",
            m.swap_mib % 32,
            usize::from(m.swap_mib / 32) % p.disks
        );
    }
    let _ = writeln!(
        s,
        "hz = {}\ncpus = {}",
        [100, 250, 300, 1000][usize::from(m.hz) % 4],
        1 + m.cpus % 4
    );
}

/// A size as the file writes it.
fn size(z: Size, kib_scale: u32, percent_max: u32) -> String {
    match z {
        Size::Kib(k) => format!("{}KiB", 4 + u32::from(k) * kib_scale),
        Size::Percent(p) => format!("{}%", 1 + u32::from(p) % percent_max),
    }
}

/// `[vm]`.
fn render_vm(v: &VmKeys, s: &mut String) {
    let _ = writeln!(
        s,
        "[vm]\ndirty_ratio = {}\ndirty_background_ratio = {}\nswappiness = {}\noom_kill_allocating_task = {}\npanic_on_oom = {}",
        v.dirty_ratio % 101,
        v.dirty_background_ratio % 101,
        v.swappiness % 101,
        v.oom_kill_allocating_task,
        v.panic_on_oom % 3
    );
    if let Some(b) = v.dirty_bytes {
        let _ = writeln!(s, "dirty_bytes = \"{}\"", size(b, 4, 100));
    }
    if let Some(b) = v.dirty_background_bytes {
        let _ = writeln!(s, "dirty_background_bytes = \"{}\"", size(b, 4, 100));
    }
    if let Some(c) = v.expire_centisecs {
        let _ = writeln!(s, "dirty_expire_centisecs = {}", c % 4000);
    }
    if let Some(c) = v.writeback_centisecs {
        let _ = writeln!(s, "dirty_writeback_centisecs = {}", c % 1000);
    }
    if let Some(k) = v.min_free_kbytes {
        let _ = writeln!(s, "min_free_kbytes = {}", k % 4096);
    }
}

/// `[kernel]`: up to 4 switches of the library's table, each once.
fn render_kernel(i: &Input, s: &mut String) {
    let mut seen = Vec::new();
    for &(k, v) in i.switches.iter().take(4) {
        let info = pick(SWITCHES, k);
        if seen.contains(&info.key) {
            continue;
        }
        if seen.is_empty() {
            s.push_str("[kernel]\n");
        }
        seen.push(info.key);
        let _ = writeln!(
            s,
            "{} = {}",
            info.key,
            switch_literal(info.is_bool(), pick(info.values, v))
        );
    }
}

/// A switch value as TOML: booleans bare, the others quoted.
fn switch_literal(boolean: bool, value: &str) -> String {
    if boolean {
        value.to_string()
    } else {
        format!("\"{value}\"")
    }
}

/// `[disk.*]` and `[mount.*]`: each mount takes its filesystem's own options.
fn render_devices(p: &Plan, s: &mut String) {
    let default = Disk {
        bandwidth_kib: 4096,
        seek_us: 8000,
        nr_requests: 124,
        latency_us: None,
        queue_depth: None,
        random_write_iops: None,
    };
    let disks = p.input.disks.iter().take(MAX_DISKS);
    for (n, d) in disks.chain([&default]).take(p.disks).enumerate() {
        let _ = writeln!(
            s,
            "[disk.d{n}]\nbandwidth = \"{}KiB/s\"\nseek = \"{}us\"\nnr_requests = {}",
            64 + u32::from(d.bandwidth_kib) * 4,
            d.seek_us,
            4 + u32::from(d.nr_requests)
        );
        if let Some(l) = d.latency_us {
            let _ = writeln!(s, "latency = \"{}us\"", l % 5000);
        }
        if let Some(q) = d.queue_depth {
            let _ = writeln!(s, "queue_depth = {}", 1 + q % 64);
        }
        if let Some(r) = d.random_write_iops {
            let _ = writeln!(s, "random_write_iops = {}", 1 + u32::from(r));
        }
    }
    let default = Mount {
        fs: 0,
        disk: 0,
        options: 0,
    };
    let mounts = p.input.mounts.iter().chain([&default]);
    for (n, (m, &(fs, with_disk))) in mounts.zip(&p.mounts).enumerate() {
        let _ = writeln!(s, "[mount.m{n}]\nfs = \"{}\"", fs.name());
        if with_disk {
            let _ = writeln!(s, "disk = \"d{}\"", usize::from(m.disk) % p.disks);
        }
        // Each bit of `options` takes one of the filesystem's own options.
        let opts: Vec<String> = fs
            .ops()
            .mount_options()
            .iter()
            .enumerate()
            .filter(|(b, _)| *b < 8 && m.options >> b & 1 != 0)
            .map(|(_, o)| {
                format!(
                    "\"{}\"",
                    o.replace("SECONDS", &(1 + m.disk % 30).to_string())
                )
            })
            .collect();
        let _ = writeln!(s, "options = [{}]", opts.join(", "));
    }
}

/// `[task.tN]`: its kind's keys, then the keys every task takes.
fn render_task(p: &Plan, n: usize, s: &mut String) {
    let t = &p.input.tasks[n];
    let kind = p.kinds[n];
    let _ = writeln!(
        s,
        "[task.t{n}]\nkind = \"{kind}\"\nstart = \"{}ms\"\noom_score_adj = {}",
        t.start_ms % 3000,
        t.oom_score_adj % 1001
    );
    render_kind_keys(p, n, s);
    render_placement(p, t, s);
    let tasks = p.tasks();
    if let Some(q) = t.parent.filter(|&q| n > 0 || q >= 240) {
        // An earlier task (no cycle), or now and then any task (a cycle is refused).
        let parent = if n > 0 && q < 240 {
            usize::from(q) % n
        } else {
            usize::from(q) % tasks
        };
        let _ = writeln!(s, "parent = \"t{parent}\"");
    }
    // A shm pinner, or now and then any task (a non-segment is refused).
    let segments = p.segments();
    if let Some(a) = t.attach.filter(|&a| !segments.is_empty() || a >= 250) {
        let target = if segments.is_empty() || a >= 250 {
            usize::from(a) % tasks
        } else {
            pick(&segments, a)
        };
        let _ = writeln!(s, "attach = [\"t{target}\"]");
    }
    if let Some(e) = t.extra_vm_kib {
        let _ = writeln!(s, "extra_vm = \"{}KiB\"", u32::from(e) * 64);
    }
}

/// The keys of task `n`'s own kind.
fn render_kind_keys(p: &Plan, n: usize, s: &mut String) {
    let t = &p.input.tasks[n];
    let rate = 4 + u32::from(t.rate_kib) * 64;
    match p.kinds[n] {
        "pin" => {
            let method = p.method(n);
            let _ = writeln!(
                s,
                "size = \"{}\"\nmethod = \"{}\"",
                size(t.size, 1, 40),
                method.name()
            );
            if matches!(method, PinMethod::Shm | PinMethod::ShmLock) {
                render_touch(t, 1, 40, s);
            }
        }
        kind @ ("stream-write" | "stream-read") => {
            // Readers need a mount with a disk: pick among those when there are any.
            let with_disk: Vec<usize> = (0..p.mounts.len()).filter(|&m| p.mounts[m].1).collect();
            let mount = if kind == "stream-read" && !with_disk.is_empty() {
                pick(&with_disk, t.mount)
            } else {
                usize::from(t.mount) % p.mounts.len()
            };
            let _ = writeln!(
                s,
                "mount = \"m{mount}\"\nsize = \"{}\"\nrate = \"{rate}KiB/s\"",
                size(t.size, 16, 200)
            );
            if let Some(io) = t.io_kib {
                let key = if kind == "stream-write" {
                    "write_size"
                } else {
                    "read_size"
                };
                let _ = writeln!(s, "{key} = \"{}KiB\"", 4 + u32::from(io) * 4);
            }
        }
        "anon" => {
            let _ =
                writeln!(
                s,
                "size = \"{}\"\nrate = \"{rate}KiB/s\"\ncycle = {}\nhold = \"{}ms\"\ngfp = \"{}\"",
                size(t.size, 1, 60),
                t.cycle,
                t.hold_ms % 1000,
                if t.kernel_gfp { "kernel" } else { "highuser_movable" }
            );
            if !t.kernel_gfp {
                render_touch(t, 1, 60, s);
            }
        }
        "truncate" => {
            let writers = p.writers();
            let target = if writers.is_empty() {
                usize::from(t.target) % p.tasks()
            } else {
                pick(&writers, t.target)
            };
            let _ = writeln!(s, "target = \"t{target}\"");
        }
        _ => {}
    }
}

/// `touch_interval` and `hot_size` (at most the region's `size`, in its units).
fn render_touch(t: &Task, kib_scale: u32, percent_max: u32, s: &mut String) {
    let Some((interval, hot)) = t.touch else {
        return;
    };
    let _ = writeln!(
        s,
        "touch_interval = \"{}ms\"",
        1 + u32::from(interval) % 2000
    );
    if let Some(h) = hot {
        let hot = match t.size {
            Size::Kib(k) => format!(
                "{}KiB",
                ((4 + u32::from(k) * kib_scale) * u32::from(h) / 255).max(1)
            ),
            Size::Percent(q) => format!(
                "{}%",
                ((1 + u32::from(q) % percent_max) * u32::from(h) / 255).max(1)
            ),
        };
        let _ = writeln!(s, "hot_size = \"{hot}\"");
    }
}

/// `cpuset`, `cpuset_hardwall`, `membind` (a subset of the cpuset, or a node of it).
fn render_placement(p: &Plan, t: &Task, s: &mut String) {
    let nodes = p.nodes;
    let ids = |bits: u8| -> Vec<u32> { (0..nodes).filter(|b| bits >> b & 1 == 1).collect() };
    let list = |ids: &[u32]| -> String {
        ids.iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut cpuset: Vec<u32> = (0..nodes).collect();
    if t.cpuset % 2 == 1 {
        let chosen = ids(t.cpuset >> 1);
        if !chosen.is_empty() {
            let _ = writeln!(
                s,
                "cpuset = [{}]\ncpuset_hardwall = {}",
                list(&chosen),
                t.hardwall
            );
            cpuset = chosen;
        }
    }
    if let Some(b) = t.membind {
        let mut bind: Vec<u32> = ids(b).into_iter().filter(|n| cpuset.contains(n)).collect();
        if bind.is_empty() {
            bind.push(cpuset[usize::from(b) % cpuset.len()]);
        }
        let _ = writeln!(s, "membind = [{}]", list(&bind));
    }
}

/// An axis path the file has and its candidate values (TOML literals).
fn axis_candidates(p: &Plan) -> Vec<(String, Vec<String>)> {
    let quote = |v: &[&str]| -> Vec<String> { v.iter().map(|x| format!("\"{x}\"")).collect() };
    let mut c = vec![
        ("policy".to_string(), quote(&["redirty", "activate"])),
        (
            "vm.dirty_ratio".into(),
            (0..8).map(|x| (x * 13).to_string()).collect(),
        ),
        (
            "vm.swappiness".into(),
            (0..6).map(|x| (x * 20).to_string()).collect(),
        ),
        ("scenario.release".into(), quote(&Kernel::profile_names())),
        (
            "scenario.seed".into(),
            (1..6).map(|x| x.to_string()).collect(),
        ),
        (
            "machine.page_granularity".into(),
            quote(&["4KiB", "8KiB", "16KiB", "64KiB"]),
        ),
    ];
    for info in SWITCHES {
        let values = info
            .values
            .iter()
            .map(|v| switch_literal(info.is_bool(), v))
            .collect();
        c.push((format!("kernel.{}", info.key), values));
    }
    let disk_fs: Vec<&str> = FsType::ALL
        .iter()
        .filter(|f| f.ops().backing() == Backing::Disk)
        .map(|f| f.name())
        .collect();
    for (m, &(_, with_disk)) in p.mounts.iter().enumerate() {
        if with_disk {
            c.push((format!("mount.m{m}.fs"), quote(&disk_fs)));
        }
    }
    for n in p.sized() {
        let values = (1..9).map(|x| format!("\"{}%\"", x * 5)).collect();
        c.push((format!("task.t{n}.size"), values));
    }
    for n in 0..p.tasks() {
        c.push((
            format!("task.t{n}.start"),
            quote(&["0s", "100ms", "1s", "2500ms"]),
        ));
        let adj = ["-1000", "0", "500", "1000"].map(String::from).to_vec();
        c.push((format!("task.t{n}.oom_score_adj"), adj));
    }
    c
}

/// One declared axis: its path and values.
type Declared = (String, Vec<String>);

/// `[matrix]` with its axes, `[[matrix.tied]]`, `[[matrix.exclude]]`, `[[matrix.include]]`.
fn render_matrix(p: &Plan, s: &mut String) {
    let candidates = axis_candidates(p);
    let tied = p.input.tied.as_ref().and_then(|t| tied_group(p, t));
    let mut axes: Vec<Declared> = Vec::new();
    for a in p.input.axes.iter().take(3) {
        let (path, values) = &candidates[usize::from(a.path) % candidates.len()];
        let tied_path = tied
            .as_ref()
            .is_some_and(|g| g.iter().any(|(k, _)| k == path));
        if tied_path || axes.iter().any(|(k, _)| k == path) {
            continue;
        }
        let mut chosen: Vec<String> = Vec::new();
        for &v in a.values.iter().take(1 + usize::from(a.count % 3)) {
            let v = &values[usize::from(v) % values.len()];
            if !chosen.contains(v) {
                chosen.push(v.clone());
            }
        }
        axes.push((path.clone(), chosen));
    }
    if axes.is_empty() && tied.is_none() {
        return;
    }
    s.push_str("[matrix]\n");
    for (path, values) in &axes {
        let _ = writeln!(s, "{} = [{}]", key(path), values.join(", "));
    }
    if let Some(group) = &tied {
        s.push_str("[[matrix.tied]]\n");
        for (path, values) in group {
            let _ = writeln!(s, "{} = [{}]", key(path), values.join(", "));
        }
    }
    render_exclude(p, &axes, s);
    render_include(p, &axes, tied.is_some(), s);
}

/// A dotted path as a `[matrix]` key.
fn key(path: &str) -> String {
    if path == "policy" {
        path.to_string()
    } else {
        format!("\"{path}\"")
    }
}

/// The tied group: two sized tasks' sizes, each step distinct.
fn tied_group(p: &Plan, t: &Tied) -> Option<Vec<Declared>> {
    let sized = p.sized();
    if sized.len() < 2 {
        return None;
    }
    let a = pick(&sized, t.first);
    let b = sized
        .iter()
        .copied()
        .filter(|&x| x != a)
        .nth(usize::from(t.second) % (sized.len() - 1))?;
    let mut steps: Vec<(u8, u8)> = Vec::new();
    for &(x, y) in t.steps.iter().take(1 + usize::from(t.count % 3)) {
        let step = (1 + x % 30, 1 + y % 30);
        if !steps.contains(&step) {
            steps.push(step);
        }
    }
    let column = |f: fn(&(u8, u8)) -> u8| steps.iter().map(|s| format!("\"{}%\"", f(s))).collect();
    Some(vec![
        (format!("task.t{a}.size"), column(|s| s.0)),
        (format!("task.t{b}.size"), column(|s| s.1)),
    ])
}

/// `[[matrix.exclude]]`: one or two axis values.
fn render_exclude(p: &Plan, axes: &[Declared], s: &mut String) {
    let Some((a, v, b, w)) = p.input.exclude else {
        return;
    };
    if axes.is_empty() {
        return;
    }
    s.push_str("[[matrix.exclude]]\n");
    let (first, values) = &axes[usize::from(a) % axes.len()];
    let _ = writeln!(
        s,
        "{} = {}",
        key(first),
        values[usize::from(v) % values.len()]
    );
    let (second, values) = &axes[usize::from(b) % axes.len()];
    if second != first {
        let _ = writeln!(
            s,
            "{} = {}",
            key(second),
            values[usize::from(w) % values.len()]
        );
    }
}

/// `[[matrix.include]]`: an axis value (an existing one extends its combinations, a new one adds
/// a combination) and a setting no axis has.
fn render_include(p: &Plan, axes: &[Declared], tied: bool, s: &mut String) {
    let Some(inc) = &p.input.include else {
        return;
    };
    if axes.is_empty() {
        return;
    }
    let settings = [
        (
            "vm.dirty_background_ratio",
            (inc.setting_value % 101).to_string(),
        ),
        (
            "vm.min_free_kbytes",
            (u32::from(inc.setting_value) * 16).to_string(),
        ),
        (
            "scenario.duration",
            format!("\"{}ms\"", 1 + u32::from(inc.setting_value) * 8),
        ),
        ("machine.cpus", (1 + inc.setting_value % 8).to_string()),
    ];
    let (path, value) = &settings[usize::from(inc.setting) % settings.len()];
    if axes.iter().any(|(k, _)| k == path) {
        return;
    }
    let (axis, values) = &axes[usize::from(inc.axis) % axes.len()];
    // A value the axis lacks adds a combination, which needs a value for every other axis: only
    // with one axis.
    let candidates = axis_candidates(p);
    let all = match candidates.iter().find(|(k, _)| k == axis) {
        Some((_, v)) if axes.len() == 1 && !tied => v,
        _ => values,
    };
    s.push_str("[[matrix.include]]\n");
    let _ = writeln!(
        s,
        "{} = {}\n{} = {}",
        key(axis),
        all[usize::from(inc.value) % all.len()],
        key(path),
        value
    );
}

fuzz_target!(|input: Input| {
    let text = render(&input);
    let print = std::env::var_os("WBSIM_FUZZ_PRINT").is_some();
    if print {
        eprintln!("{text}");
    }
    let src = Arc::new(Source {
        name: "fuzz.toml".into(),
        text,
    });
    let scenario = match load_source(&src, &Overrides::default()) {
        Ok(s) => s,
        Err(e) => {
            if print {
                eprintln!("--- refused: {e:#}");
            }
            return;
        }
    };
    let run = &scenario.runs[usize::from(input.run) % scenario.runs.len()];
    let options = Options {
        stop_at_first_oom: input.stop_at_first_oom,
        check_invariants: true,
    };
    // Every event on small machines now and then (a full recount costs O(pages) per event), as
    // `--check-invariants` (sampled, a located failure) otherwise.
    let pages = run.spec.machine.memory_bytes / run.spec.machine.page_bytes;
    let every_event = input.recount % 4 == 0 && pages <= FULL_RECOUNT_PAGES;
    let setup = Setup {
        recount: if every_event {
            Recount::Full
        } else {
            Recount::Sampled
        },
        ..Setup::new(options)
    };
    match execute(&run.spec, setup) {
        Ok(f) if print => eprintln!(
            "--- ran {} of {}: {:?}",
            run.label,
            scenario.runs.len(),
            f.result.outcome
        ),
        Ok(_) => {}
        Err(v) => panic!("{v}\n--- scenario (run {}) ---\n{}", run.label, src.text),
    }
});
