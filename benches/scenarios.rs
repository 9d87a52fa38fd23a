//! Whole-run benchmark: every shipped scenario, every run of its matrix, serially on one core.
//!
//! `cargo bench --bench scenarios [-- FILE...]` prints, per scenario: wall time, simulated page
//! lifecycles (pages allocated) per wall second, simulated GiB written per wall second, events
//! per second, and the scenario's own peak RSS per simulated page. Figures go to
//! docs/PERFORMANCE.md.
//!
//! Each scenario runs in a child process: this binary re-executed with `WBSIM_BENCH_CHILD=FILE`.
//! The child loads the scenario, reads its `VmHWM` before any machine boots (the baseline: the
//! binary, the allocator, the parsed scenario), runs every cell of the matrix one after another,
//! reads its `VmHWM` again (the peak) and prints one `key=value` line for the parent. So a
//! scenario's peak is its own, not the running maximum of every scenario before it.
//!
//! The child reports its own `VmHWM` rather than the parent reading `ru_maxrss` of the child
//! (`wait4`, `getrusage(RUSAGE_CHILDREN)`): on Linux, exec records the high-water mark of the
//! address space it replaces into the child's `maxrss`, so `ru_maxrss` of a spawned child is at
//! least the parent's own peak at the time of the spawn.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use wbsim::engine::simulate;
use wbsim::scenario::{load, Overrides};
use wbsim::spec::TaskKind;

/// Set in the environment of a child: the scenario file it runs.
const CHILD_ENV: &str = "WBSIM_BENCH_CHILD";
/// The first word of the child's result line.
const CHILD_TAG: &str = "wbsim-bench-child";

/// Peak resident set size of this process so far, bytes (`VmHWM` of /proc/self/status; 0 where
/// there is no such file).
fn peak_rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|kb| kb.parse::<u64>().ok())
            })
        })
        .map_or(0, |kb| kb * 1024)
}

/// What one child measured for one scenario.
#[derive(Debug, Default)]
struct Measured {
    name: String,
    runs: u64,
    wall_ns: u64,
    /// Simulated pages allocated (`pgalloc_*` summed), every run.
    pages: u64,
    /// Bytes written by stream-write tasks, every run.
    written: u64,
    /// Events handled, every run.
    events: u64,
    /// Pages of the largest machine of the matrix.
    sim_pages: u64,
    /// `VmHWM` after loading the scenario, before any machine boots.
    baseline_rss: u64,
    /// `VmHWM` after the last run.
    peak_rss: u64,
}

impl Measured {
    fn to_line(&self) -> String {
        format!(
            "{CHILD_TAG} name={} runs={} wall_ns={} pages={} written={} events={} sim_pages={} \
             baseline_rss={} peak_rss={}",
            self.name,
            self.runs,
            self.wall_ns,
            self.pages,
            self.written,
            self.events,
            self.sim_pages,
            self.baseline_rss,
            self.peak_rss
        )
    }

    fn from_line(line: &str) -> Option<Measured> {
        let mut words = line.split_whitespace();
        if words.next() != Some(CHILD_TAG) {
            return None;
        }
        let mut m = Measured::default();
        for w in words {
            let (k, v) = w.split_once('=')?;
            let n = || v.parse::<u64>().ok();
            match k {
                "name" => m.name = v.to_string(),
                "runs" => m.runs = n()?,
                "wall_ns" => m.wall_ns = n()?,
                "pages" => m.pages = n()?,
                "written" => m.written = n()?,
                "events" => m.events = n()?,
                "sim_pages" => m.sim_pages = n()?,
                "baseline_rss" => m.baseline_rss = n()?,
                "peak_rss" => m.peak_rss = n()?,
                _ => return None,
            }
        }
        Some(m)
    }
}

/// Child mode: every run of `file`'s matrix, one after another on this thread.
fn child(file: &str) -> Measured {
    let sc = load(Path::new(file), &Overrides::default())
        .unwrap_or_else(|e| panic!("{file} does not load: {e:#}"));
    let baseline_rss = peak_rss_bytes();
    let mut m = Measured {
        name: sc.name.clone(),
        runs: sc.runs.len() as u64,
        baseline_rss,
        ..Measured::default()
    };
    let t0 = Instant::now();
    for r in &sc.runs {
        let res = simulate(&r.spec);
        // /proc/vmstat counts 4 KiB pages; a coarse simulated page is `page_bytes / 4096` of them.
        let per_sim_page = (r.spec.machine.page_bytes / 4096).max(1);
        m.pages += res
            .vmstat
            .iter()
            .filter(|(n, _)| n.starts_with("pgalloc_"))
            .map(|(_, v)| v)
            .sum::<u64>()
            / per_sim_page;
        m.written += res
            .tasks
            .iter()
            .zip(&r.spec.tasks)
            .filter(|(_, s)| matches!(s.kind, TaskKind::StreamWrite { .. }))
            .map(|(t, _)| t.done_bytes)
            .sum::<u64>();
        m.events += res.events;
        m.sim_pages = m
            .sim_pages
            .max(r.spec.machine.memory_bytes / r.spec.machine.page_bytes.max(1));
    }
    m.wall_ns = t0.elapsed().as_nanos() as u64;
    m.peak_rss = peak_rss_bytes();
    m
}

/// Runs `file` in a child process and reads its result line.
fn spawn_child(file: &str) -> Measured {
    let exe = std::env::current_exe().expect("the bench binary's path");
    let out = Command::new(exe)
        .env(CHILD_ENV, file)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .expect("the bench binary re-executes itself");
    assert!(
        out.status.success(),
        "the child for {file} failed: {}",
        out.status
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(Measured::from_line)
        .unwrap_or_else(|| panic!("the child for {file} printed no result line"))
}

const MIB: f64 = (1u64 << 20) as f64;

fn main() {
    if let Ok(file) = std::env::var(CHILD_ENV) {
        println!("{}", child(&file).to_line());
        return;
    }
    // `cargo bench` passes `--bench`; every other argument is a scenario file.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let files: Vec<String> = if args.is_empty() {
        let mut v: Vec<String> = std::fs::read_dir("scenarios")
            .expect("run from the repository root")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .map(|p| p.display().to_string())
            .collect();
        v.sort();
        v
    } else {
        args
    };
    println!("One child process per scenario; its runs one after another on one core.");
    println!(
        "base MiB: the child's peak RSS after loading the scenario, before any machine boots."
    );
    println!("peak MiB: the child's peak RSS after its last run (VmHWM).");
    println!(
        "net B/page: (peak - base) / pages of the matrix's largest machine; \
         gross B/page: peak / the same."
    );
    println!();
    println!(
        "{:<22} {:>4} {:>7} {:>12} {:>9} {:>12} {:>8} {:>8} {:>10} {:>12}",
        "scenario",
        "runs",
        "wall s",
        "pages/s",
        "GiB wr/s",
        "events/s",
        "base MiB",
        "peak MiB",
        "net B/page",
        "gross B/page"
    );
    for f in files {
        let m = spawn_child(&f);
        let wall = m.wall_ns as f64 / 1e9;
        let sim_pages = m.sim_pages.max(1) as f64;
        println!(
            "{:<22} {:>4} {:>7.2} {:>12.0} {:>9.2} {:>12.0} {:>8.1} {:>8.1} {:>10.1} {:>12.1}",
            m.name,
            m.runs,
            wall,
            m.pages as f64 / wall,
            m.written as f64 / wall / f64::from(1u32 << 30),
            m.events as f64 / wall,
            m.baseline_rss as f64 / MIB,
            m.peak_rss as f64 / MIB,
            m.peak_rss.saturating_sub(m.baseline_rss) as f64 / sim_pages,
            m.peak_rss as f64 / sim_pages,
        );
    }
}
