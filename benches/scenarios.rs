//! Whole-run benchmark: every shipped scenario, every run of its matrix, on one core.
//!
//! `cargo bench --bench scenarios [-- FILE...]` prints, per scenario: wall time, simulated page
//! lifecycles (pages allocated) per wall second, simulated GiB written per wall second, events
//! per second, and the process's peak RSS per simulated page. Figures go to docs/PERFORMANCE.md.

use std::path::Path;
use std::time::Instant;

use wbsim::engine::simulate;
use wbsim::scenario::{load, Overrides};

/// Peak resident set size of this process, bytes (`VmHWM` of /proc/self/status).
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

fn main() {
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
    println!(
        "{:<28} {:>5} {:>8} {:>14} {:>11} {:>12} {:>14}",
        "scenario", "runs", "wall s", "pages/s", "GiB wr/s", "events/s", "RSS B/page"
    );
    for f in files {
        let sc = load(Path::new(&f), &Overrides::default()).expect("scenario loads");
        let t0 = Instant::now();
        let (mut pages, mut written, mut events, mut sim_pages) = (0u64, 0u64, 0u64, 0u64);
        for r in &sc.runs {
            let res = simulate(&r.spec);
            pages += res
                .vmstat
                .iter()
                .filter(|(n, _)| n.starts_with("pgalloc_"))
                .map(|(_, v)| v)
                .sum::<u64>();
            written += res
                .tasks
                .iter()
                .zip(&r.spec.tasks)
                .filter(|(_, s)| matches!(s.kind, wbsim::spec::TaskKind::StreamWrite { .. }))
                .map(|(t, _)| t.done_bytes)
                .sum::<u64>();
            events += res.events;
            sim_pages = sim_pages.max(r.spec.machine.memory_bytes / 4096);
        }
        let wall = t0.elapsed().as_secs_f64();
        println!(
            "{:<28} {:>5} {:>8.2} {:>14.0} {:>11.2} {:>12.0} {:>14.1}",
            sc.name,
            sc.runs.len(),
            wall,
            pages as f64 / wall,
            written as f64 / wall / f64::from(1u32 << 30),
            events as f64 / wall,
            peak_rss_bytes() as f64 / sim_pages.max(1) as f64
        );
    }
}
