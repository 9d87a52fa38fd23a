//! Running many simulations at once: a rayon pool of `--jobs` threads, results in input order.
//!
//! Each run is independent and deterministic (its own machine, its own seeded RNG), so the
//! results do not depend on the number of threads or on which thread ran what; collecting an
//! indexed parallel iterator keeps the input order. `--jobs 1` does not start a pool at all.

use std::io::IsTerminal;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

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

/// `f` over `items` on `threads` threads of a rayon pool, the results in the order of `items`.
///
/// Each thread takes the next item not yet started, in input order, so the longest wait at the
/// end is one item (rayon's splitting would hand one thread the second half of the list while
/// the other works through the first, however unequal the halves). Which thread ran what never
/// shows in the output: every result goes to its item's slot.
pub fn map_in_order<T: Sync, R: Send>(
    items: &[T],
    threads: usize,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let threads = threads.min(items.len());
    if threads <= 1 {
        return items.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let done = Mutex::new(Vec::with_capacity(items.len()));
    on_threads(threads, &|| loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some(item) = items.get(i) else { break };
        let r = f(item);
        done.lock().unwrap_or_else(|e| e.into_inner()).push((i, r));
    });
    let mut done = done.into_inner().unwrap_or_else(|e| e.into_inner());
    done.sort_unstable_by_key(|&(i, _)| i);
    debug_assert_eq!(done.len(), items.len());
    done.into_iter().map(|(_, r)| r).collect()
}

/// Calls `work` once on each of `threads` threads of a new rayon pool and returns when all have
/// returned; once on this thread when `threads` is 1 or the pool cannot start.
fn on_threads(threads: usize, work: &(dyn Fn() + Sync)) {
    if threads > 1 {
        match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
            Ok(pool) => {
                return pool.scope(|scope| {
                    for _ in 0..threads {
                        scope.spawn(|_| work());
                    }
                })
            }
            Err(e) => eprintln!("warning: cannot start {threads} threads ({e}); running serially"),
        }
    }
    work();
}

/// Runs every job on `threads` threads; the results are in the order of `jobs`.
///
/// A job that differs from an earlier one only in its policy is not simulated when the earlier
/// run never let the policy decide anything (`RunResult::policy_decisions == 0`: no refused
/// `->writepage` for reclaim): the policy is read nowhere else, so the run would take the same
/// path event for event, and its result is the earlier one's. A run whose twin did consult the
/// policy is simulated once that twin is done.
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
    let twin = policy_twins(jobs);
    share_out(jobs.len(), &twin, threads, &|i| one(&jobs[i]), bar)
}

/// What `share_out`'s threads share: the results so far, the next first run to start, and the
/// twins not taken yet.
struct Board {
    results: Vec<Option<RunResult>>,
    next_first: usize,
    twins_left: Vec<usize>,
    /// A run panicked: the others stop instead of waiting for its result.
    aborted: bool,
}

/// Runs `n` jobs on `threads` threads: every first run (no twin) in order, then each twin once
/// its first run is done, reusing that result when the policy decided nothing. A thread waits
/// only when every first run has started and no twin's first run has finished.
fn share_out(
    n: usize,
    twin: &[Option<usize>],
    threads: usize,
    run: &(dyn Fn(usize) -> RunResult + Sync),
    bar: &ProgressBar,
) -> Vec<RunResult> {
    let firsts: Vec<usize> = (0..n).filter(|&i| twin[i].is_none()).collect();
    let board = Mutex::new(Board {
        results: vec![None; n],
        next_first: 0,
        twins_left: (0..n).filter(|&i| twin[i].is_some()).collect(),
        aborted: false,
    });
    let changed = std::sync::Condvar::new();
    let lock = || board.lock().unwrap_or_else(|e| e.into_inner());
    let work = || loop {
        let mut b = lock();
        let job = loop {
            if b.aborted {
                break None;
            }
            if let Some(&i) = firsts.get(b.next_first) {
                b.next_first += 1;
                break Some(i);
            }
            let ready = b
                .twins_left
                .iter()
                .position(|&i| b.results[twin[i].expect("a twin")].is_some());
            if let Some(pos) = ready {
                let i = b.twins_left.remove(pos);
                let first = b.results[twin[i].expect("a twin")].as_ref().expect("done");
                if first.policy_decisions == 0 {
                    b.results[i] = Some(first.clone());
                    bar.inc(1);
                    continue;
                }
                break Some(i);
            }
            if b.twins_left.is_empty() {
                break None;
            }
            b = changed.wait(b).unwrap_or_else(|e| e.into_inner());
        };
        drop(b);
        let Some(i) = job else {
            changed.notify_all();
            return;
        };
        // If the run panics, tell the others not to wait for it.
        let abort = AbortOnUnwind(&board, &changed);
        let r = run(i);
        std::mem::forget(abort);
        lock().results[i] = Some(r);
        changed.notify_all();
    };
    on_threads(threads.min(n), &work);
    board
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .results
        .into_iter()
        .map(|r| r.expect("every job has a result"))
        .collect()
}

/// Marks the board aborted and wakes the waiting threads if dropped while unwinding.
struct AbortOnUnwind<'a>(&'a Mutex<Board>, &'a std::sync::Condvar);

impl Drop for AbortOnUnwind<'_> {
    fn drop(&mut self) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).aborted = true;
        self.1.notify_all();
    }
}

/// For each job, the first earlier job with the same spec but for the policy (found by the
/// serialised spec, confirmed field by field).
pub fn policy_twins(jobs: &[Job<'_>]) -> Vec<Option<usize>> {
    let mut first: std::collections::HashMap<String, usize> = Default::default();
    jobs.iter()
        .enumerate()
        .map(|(i, job)| {
            let mut spec = job.spec.clone();
            spec.policy = crate::spec::Policy::Redirty;
            let key = serde_json::to_string(&spec).unwrap_or_else(|_| format!("job {i}"));
            let &mut t = first.entry(key).or_insert(i);
            spec.policy = jobs[t].spec.policy;
            (t != i && spec == *jobs[t].spec).then_some(t)
        })
        .collect()
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
    let results = map_in_order(jobs, threads, one);
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A stand-in result: `events` says which job produced it.
    fn result(job: usize, decisions: u64) -> RunResult {
        RunResult {
            events: job as u64,
            policy_decisions: decisions,
            ..RunResult::empty()
        }
    }

    #[test]
    fn a_twin_reuses_its_first_run_only_when_the_policy_decided_nothing() {
        // Jobs 0, 2, 4, … are first runs; job 2k+1 is the twin of job 2k. First runs 0 and 4
        // let the policy decide, so their twins are simulated; the others are reused.
        let n = 12;
        let twin: Vec<Option<usize>> = (0..n).map(|i| (i % 2 == 1).then(|| i - 1)).collect();
        for threads in [1, 2, 3] {
            let ran = Mutex::new(Vec::new());
            let run = |i: usize| {
                ran.lock().unwrap().push(i);
                std::thread::sleep(std::time::Duration::from_micros(300 * (n - i) as u64));
                result(i, u64::from(i % 4 == 0))
            };
            let out = share_out(n, &twin, threads, &run, &ProgressBar::hidden());
            let from: Vec<u64> = out.iter().map(|r| r.events).collect();
            assert_eq!(
                from,
                [0, 1, 2, 2, 4, 5, 6, 6, 8, 9, 10, 10],
                "{threads} threads"
            );
            let mut ran = ran.into_inner().unwrap();
            ran.sort_unstable();
            assert_eq!(ran, [0, 1, 2, 4, 5, 6, 8, 9, 10], "{threads} threads");
        }
    }

    #[test]
    fn items_start_in_input_order_and_results_come_back_in_input_order() {
        let items: Vec<u64> = (0..40).collect();
        for threads in [1, 2, 3, 8] {
            let started = Mutex::new(Vec::new());
            let out = map_in_order(&items, threads, |&i| {
                started.lock().unwrap().push(i);
                // Unequal items: the early ones are the slow ones.
                std::thread::sleep(std::time::Duration::from_micros(200 * (40 - i)));
                i * i
            });
            assert_eq!(out, items.iter().map(|i| i * i).collect::<Vec<_>>());
            let started = started.into_inner().unwrap();
            assert_eq!(started.len(), items.len());
            // Each thread takes the next item when it starts one, so items start in order (the
            // threads may record their starts a little out of turn, never by a thread count).
            for (k, &i) in started.iter().enumerate() {
                assert!(
                    (i as usize).abs_diff(k) < threads,
                    "{threads} threads: item {i} started {k}th"
                );
            }
        }
    }
}
