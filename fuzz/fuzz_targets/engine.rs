//! Fuzz target: small arbitrary machines and workloads, run with every invariant checked after
//! every event. The input is decoded into a scenario file (so only what the loader accepts
//! reaches the engine, as in real use); any panic or invariant violation is a finding.
#![no_main]

use std::fmt::Write;
use std::sync::Arc;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use wbsim::engine::simulate_checked;
use wbsim::fs::{Backing, FsType};
use wbsim::kernel::Kernel;
use wbsim::mm::Options;
use wbsim::scenario::error::Source;
use wbsim::scenario::schema::TASK_KINDS;
use wbsim::scenario::{load_source, Overrides};
use wbsim::spec::PinMethod;

#[derive(Arbitrary, Debug)]
struct Input {
    release: u8,
    seed: u16,
    memory_mib: u8,
    layout: u8,
    swap_mib: u8,
    hz: u8,
    cpus: u8,
    dirty_ratio: u8,
    dirty_background_ratio: u8,
    dirty_bytes_kib: Option<u16>,
    swappiness: u8,
    min_free_kbytes: Option<u16>,
    oom_kill_allocating_task: bool,
    panic_on_oom: u8,
    duration_ms: u16,
    policy: bool,
    disks: Vec<Disk>,
    mounts: Vec<Mount>,
    tasks: Vec<Task>,
}

#[derive(Arbitrary, Debug)]
struct Disk {
    bandwidth_kib: u16,
    seek_us: u16,
    nr_requests: u8,
}

#[derive(Arbitrary, Debug)]
struct Mount {
    fs: u8,
    disk: u8,
    options: u8,
}

#[derive(Arbitrary, Debug)]
struct Task {
    kind: u8,
    size_kib: u16,
    rate_kib: u16,
    io_kib: u8,
    mount: u8,
    start_ms: u16,
    cpuset: u8,
    hardwall: bool,
    oom_score_adj: i16,
    parent: Option<u8>,
    attach: Option<u8>,
    cycle: bool,
    hold_ms: u16,
    kernel_gfp: bool,
    method: u8,
    target: u8,
}

/// Picks one of `items` by `i` (the lists come from the library, so a new kernel profile,
/// filesystem, pin method or task kind is fuzzed without touching this file).
fn pick<T: Copy>(items: &[T], i: u8) -> T {
    items[usize::from(i) % items.len()]
}

/// The scenario file an input stands for: at most 3 disks, 4 mounts, 6 tasks, 4–35 MiB, 5000
/// events (every event is followed by a full recount, so runs must stay small).
fn render(i: &Input) -> String {
    let mut s = render_machine(i);
    render_devices(i, &mut s);
    let kinds: Vec<&str> = TASK_KINDS.iter().map(|k| k.kind).collect();
    for (n, t) in i.tasks.iter().take(6).enumerate() {
        render_task(i, n, t, &kinds, &mut s);
    }
    s
}

/// `[scenario]`, `[machine]` and `[vm]`.
fn render_machine(i: &Input) -> String {
    let mut s = String::new();
    let memory = 4 + u32::from(i.memory_mib % 32);
    let nodes = 1 + u32::from(i.layout % 4);
    let _ = writeln!(
        s,
        "[scenario]\nname = \"fuzz\"\nrelease = \"{}\"\nseed = {}\nduration = \"{}ms\"\nmax_events = 5000",
        pick(&Kernel::profile_names(), i.release),
        i.seed,
        1 + u32::from(i.duration_ms)
    );
    let _ = writeln!(s, "[machine]\nmemory = \"{memory}MiB\"");
    match i.layout / 4 % 3 {
        1 if nodes > 1 => {
            let _ = writeln!(s, "fake_numa_node_size = \"{}MiB\"", memory.div_ceil(nodes));
        }
        2 if nodes > 1 => {
            let first = memory - (nodes - 1);
            let sizes: Vec<String> = (0..nodes)
                .map(|n| format!("\"{}MiB\"", if n == 0 { first } else { 1 }))
                .collect();
            let _ = writeln!(s, "nodes = [{}]", sizes.join(", "));
        }
        _ => {}
    }
    let disks = i.disks.len().min(3);
    if i.swap_mib % 4 != 0 && disks > 0 {
        let _ = writeln!(s, "swap = \"{}MiB\"\nswap_disk = \"d0\"", i.swap_mib % 32);
    }
    let _ = writeln!(
        s,
        "hz = {}\ncpus = {}",
        [100, 250, 300, 1000][usize::from(i.hz) % 4],
        1 + i.cpus % 4
    );
    let _ = writeln!(
        s,
        "[vm]\ndirty_ratio = {}\ndirty_background_ratio = {}\nswappiness = {}\noom_kill_allocating_task = {}\npanic_on_oom = {}",
        i.dirty_ratio % 101,
        i.dirty_background_ratio % 101,
        i.swappiness % 101,
        i.oom_kill_allocating_task,
        i.panic_on_oom % 3
    );
    if let Some(b) = i.dirty_bytes_kib {
        let _ = writeln!(s, "dirty_bytes = \"{}KiB\"", u32::from(b) * 4);
    }
    if let Some(k) = i.min_free_kbytes {
        let _ = writeln!(s, "min_free_kbytes = {}", k % 4096);
    }
    s
}

/// `[disk.*]` and `[mount.*]`: each mount takes its filesystem's own options.
fn render_devices(i: &Input, s: &mut String) {
    let disks = i.disks.len().min(3);
    for (n, d) in i.disks.iter().take(3).enumerate() {
        let _ = writeln!(
            s,
            "[disk.d{n}]\nbandwidth = \"{}KiB/s\"\nseek = \"{}us\"\nnr_requests = {}",
            1 + u32::from(d.bandwidth_kib),
            d.seek_us,
            4 + u32::from(d.nr_requests)
        );
    }
    for (n, m) in i.mounts.iter().take(4).enumerate() {
        let fs = pick(FsType::ALL, m.fs);
        let _ = writeln!(s, "[mount.m{n}]\nfs = \"{}\"", fs.name());
        if fs.ops().backing() == Backing::Disk && disks > 0 {
            let _ = writeln!(s, "disk = \"d{}\"", usize::from(m.disk) % disks);
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

/// `[task.tN]`: its kind picked from the library's kinds, its kind's keys (those of the kinds
/// known here; a kind added later is picked and rejected until its keys are rendered here), and
/// the keys every task takes.
fn render_task(i: &Input, n: usize, t: &Task, kinds: &[&str], s: &mut String) {
    let nodes = 1 + u32::from(i.layout % 4);
    let mounts = i.mounts.len().min(4);
    let tasks = i.tasks.len().min(6);
    let kind = pick(kinds, t.kind);
    let _ = writeln!(
        s,
        "[task.t{n}]\nkind = \"{kind}\"\nstart = \"{}ms\"\noom_score_adj = {}",
        t.start_ms % 2000,
        t.oom_score_adj % 1001
    );
    let size = 4 + u32::from(t.size_kib);
    let rate = 1 + u32::from(t.rate_kib) * 64;
    match kind {
        "pin" => {
            let _ = writeln!(
                s,
                "size = \"{size}KiB\"\nmethod = \"{}\"",
                pick(PinMethod::ALL.as_slice(), t.method).name()
            );
        }
        "stream-write" | "stream-read" if mounts > 0 => {
            let io = if kind == "stream-write" {
                "write_size"
            } else {
                "read_size"
            };
            let _ = writeln!(
                s,
                "mount = \"m{}\"\nsize = \"{}KiB\"\nrate = \"{rate}KiB/s\"\n{io} = \"{}KiB\"",
                usize::from(t.mount) % mounts,
                size * 16,
                4 + u32::from(t.io_kib) * 4
            );
        }
        "anon" => {
            let _ = writeln!(
                s,
                "size = \"{size}KiB\"\nrate = \"{rate}KiB/s\"\ncycle = {}\nhold = \"{}ms\"\ngfp = \"{}\"",
                t.cycle,
                t.hold_ms % 1000,
                if t.kernel_gfp { "kernel" } else { "highuser_movable" }
            );
        }
        "truncate" => {
            let _ = writeln!(s, "target = \"t{}\"", usize::from(t.target) % tasks);
        }
        _ => {}
    }
    if t.cpuset % 2 == 1 {
        let ids: Vec<String> = (0..nodes)
            .filter(|b| t.cpuset >> (b + 1) & 1 == 1)
            .map(|b| b.to_string())
            .collect();
        if !ids.is_empty() {
            let _ = writeln!(
                s,
                "cpuset = [{}]\ncpuset_hardwall = {}",
                ids.join(", "),
                t.hardwall
            );
        }
    }
    if let Some(p) = t.parent {
        let _ = writeln!(s, "parent = \"t{}\"", usize::from(p) % tasks);
    }
    if let Some(a) = t.attach {
        let _ = writeln!(s, "attach = [\"t{}\"]", usize::from(a) % tasks);
    }
}

fuzz_target!(|input: Input| {
    let text = render(&input);
    if std::env::var_os("WBSIM_FUZZ_PRINT").is_some() {
        eprintln!("{text}");
    }
    let src = Arc::new(Source {
        name: "fuzz.toml".into(),
        text,
    });
    let Ok(scenario) = load_source(&src, &Overrides::default()) else {
        return;
    };
    let run = &scenario.runs[usize::from(input.policy) % scenario.runs.len()];
    let options = Options {
        stop_at_first_oom: input.seed % 2 == 0,
        check_invariants: true,
    };
    if let Err(v) = simulate_checked(&run.spec, options) {
        panic!("{v}\n--- scenario ---\n{}", src.text);
    }
});
