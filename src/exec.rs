//! Running many simulations at once: a rayon pool of `--jobs` threads, results in input order.
//!
//! Each run is independent and deterministic (its own machine, its own seeded RNG), so the
//! results do not depend on the number of threads or on which thread ran what; collecting an
//! indexed parallel iterator keeps the input order. `--jobs 1` does not start a pool at all.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;

use crate::outcome::RunResult;
use crate::spec::RunSpec;

/// One simulation to run, with the name the progress bar shows.
pub struct Job<'a> {
    /// The input.
    pub spec: &'a RunSpec,
    /// `scenario cell/policy`.
    pub name: String,
}

/// The number of threads: `--jobs N`, else the number of available cores.
pub fn jobs(requested: Option<u32>) -> usize {
    requested.map_or_else(
        || std::thread::available_parallelism().map_or(1, |n| n.get()),
        |n| n.max(1) as usize,
    )
}

/// A progress bar on stderr when there is more than one run and stderr is a terminal (hidden
/// otherwise, so logs and CI output stay clean).
pub fn progress(total: usize) -> ProgressBar {
    if total > 1 && std::io::stderr().is_terminal() {
        let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} {wide_msg}") {
            bar.set_style(style);
        }
        bar
    } else {
        ProgressBar::hidden()
    }
}

/// Runs every job on `threads` threads; the results are in the order of `jobs`.
pub fn run_all(jobs: &[Job<'_>], threads: usize, bar: &ProgressBar) -> Vec<RunResult> {
    if let [job] = jobs {
        if std::io::stderr().is_terminal() {
            return vec![run_one_with_bar(job)];
        }
    }
    let one = |job: &Job<'_>| {
        let r = crate::engine::simulate(job.spec);
        bar.set_message(job.name.clone());
        bar.inc(1);
        r
    };
    if threads <= 1 || jobs.len() <= 1 {
        return jobs.iter().map(one).collect();
    }
    match rayon::ThreadPoolBuilder::new()
        .num_threads(threads.min(jobs.len()))
        .build()
    {
        // One job per task so that an idle thread can take any job still waiting.
        Ok(pool) => pool.install(|| jobs.par_iter().with_max_len(1).map(one).collect()),
        Err(e) => {
            eprintln!("warning: cannot start {threads} threads ({e}); running serially");
            jobs.iter().map(one).collect()
        }
    }
}

/// What to verify while running: `--check-invariants` (recount after every event, or every
/// 4096th on large machines, also in release builds) and `--check-determinism` (run twice and
/// compare the full results).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Checks {
    /// `--check-invariants`.
    pub invariants: bool,
    /// `--check-determinism`.
    pub determinism: bool,
}

/// A run that broke an invariant or came out differently the second time: a bug in wbsim.
#[derive(Clone, Debug)]
pub struct CheckFailure {
    /// Index of the job.
    pub job: usize,
    /// What went wrong (seed, release and event included).
    pub message: String,
}

/// One job under `checks`.
fn run_one_checked(spec: &RunSpec, checks: Checks) -> Result<RunResult, String> {
    let options = crate::mm::Options {
        check_invariants: checks.invariants || cfg!(debug_assertions),
        ..Default::default()
    };
    if checks.determinism {
        match crate::engine::check_determinism(spec, options) {
            Ok(Ok(r)) => Ok(r),
            Ok(Err(m)) => Err(m.to_string()),
            Err(v) => Err(v.to_string()),
        }
    } else {
        crate::engine::simulate_checked(spec, options).map_err(|v| v.to_string())
    }
}

/// [`run_with_progress`] under `checks`; the first failure (in job order) when any run fails.
pub fn run_checked(
    jobs: &[Job<'_>],
    threads: usize,
    checks: Checks,
) -> Result<Vec<RunResult>, CheckFailure> {
    if checks == Checks::default() {
        return Ok(run_with_progress(jobs, threads));
    }
    let bar = progress(jobs.len());
    let one = |job: &Job<'_>| {
        let r = run_one_checked(job.spec, checks);
        bar.set_message(job.name.clone());
        bar.inc(1);
        r
    };
    let results: Vec<Result<RunResult, String>> = if threads <= 1 || jobs.len() <= 1 {
        jobs.iter().map(one).collect()
    } else {
        match rayon::ThreadPoolBuilder::new()
            .num_threads(threads.min(jobs.len()))
            .build()
        {
            Ok(pool) => pool.install(|| jobs.par_iter().with_max_len(1).map(one).collect()),
            Err(_) => jobs.iter().map(one).collect(),
        }
    };
    bar.finish_and_clear();
    results
        .into_iter()
        .enumerate()
        .map(|(job, r)| r.map_err(|message| CheckFailure { job, message }))
        .collect()
}

/// A single run on a terminal: a bar of simulated seconds, so a long run shows it is moving.
fn run_one_with_bar(job: &Job<'_>) -> RunResult {
    let limit_s = (job.spec.limits.sim_time_ns / crate::sim::SEC).max(1);
    let bar = ProgressBar::with_draw_target(Some(limit_s), ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("{bar:30} {pos}/{len} simulated s  {elapsed} {wide_msg}")
    {
        bar.set_style(style);
    }
    bar.set_message(job.name.clone());
    let b = bar.clone();
    let r = crate::engine::simulate_with_progress(
        job.spec,
        Box::new(move |now| b.set_position(now / crate::sim::SEC)),
    );
    bar.finish_and_clear();
    r
}

/// Runs jobs and hides the progress bar afterwards.
pub fn run_with_progress(jobs: &[Job<'_>], threads: usize) -> Vec<RunResult> {
    let bar = progress(jobs.len());
    let out = run_all(jobs, threads, &bar);
    bar.finish_and_clear();
    out
}
