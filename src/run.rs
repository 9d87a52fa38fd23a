//! The one way to run simulations: every command that simulates (`run`, `check`, `sweep`'s grid
//! and threshold search, `history`, `explain`) hands its runs to a [`Runner`], which composes
//! what the command line asked for:
//!
//! - `--jobs N`: runs share out over N threads (`exec.rs`), results in job order, so the output
//!   is the same for any N;
//! - `--check-invariants`: the invariant checks in any build, the structure checks after every
//!   event and the page recount at a stride ([`Recount::Sampled`], what a debug build does
//!   without it); `--check-invariants=every-event` recounts after every event ([`Recount::Full`]);
//!   a violation is located to its first event either way;
//! - `--check-determinism`: each run twice, the full results compared;
//! - observation (`--timeline`, `--plot`, `--trace`, `--ftrace`, `explain`): a
//!   [`Recorder`] probe on every run, handed back with its result;
//! - twins (`exec::policy_twins`): a run whose engine input equals an earlier one's takes that
//!   run's result (and recording). The engine input is the spec without the kernel profile's name
//!   (read only by the reports: 6.1 is 5.18's switches) and without the filesystem-only switches
//!   of filesystems the run does not mount (`exec::FILESYSTEM_SWITCHES`: an ext3 cell under 3.9
//!   is the same run as under 3.4). A run that differs from an earlier one only in its policy
//!   takes its result when its policy decided nothing (`RunResult::policy_decisions == 0`: the
//!   policy is read nowhere else, so the run would follow the first event for event). Under a
//!   check every run is simulated: a check must not assume what it checks. [`Runner::tally`]
//!   counts what was simulated and what was reused;
//! - progress: a bar on stderr when stderr is a terminal.
//!
//! A broken invariant or a non-deterministic run is a [`CheckFailed`] naming the job; the command
//! adds the line that reproduces it and returns a [`BugFound`], for which `main` exits 3.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::engine::{self, Recount, Setup};
use crate::mm::Options;
use crate::observe::{ObserveConfig, Recorder};
use crate::outcome::RunResult;
use crate::spec::RunSpec;

/// What to verify while running (`--check-invariants`, `--check-determinism`), and the test
/// hook that proves the recount is on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Checks {
    /// `--check-invariants`.
    pub invariants: bool,
    /// `--check-invariants=every-event`: the page recount after every event too.
    pub every_event: bool,
    /// `--check-determinism`.
    pub determinism: bool,
    /// `--inject-drift-at EVENT` (hidden, for tests): a counter drift after that event of every
    /// run, which the recount must report (docs/CLI.md).
    pub inject_drift_at: Option<u64>,
}

impl Checks {
    /// Whether any check is asked for (then every run is simulated, none reused).
    pub fn any(&self) -> bool {
        self.invariants || self.determinism
    }

    /// The flags that repeat these checks, for a reproduce line (` --check-invariants`…).
    pub fn flags(&self) -> String {
        let mut s = String::new();
        if self.every_event {
            s.push_str(" --check-invariants=every-event");
        } else if self.invariants {
            s.push_str(" --check-invariants");
        }
        if self.determinism {
            s.push_str(" --check-determinism");
        }
        s
    }
}

/// One simulation to run, with the name the progress bar shows.
pub struct Job<'a> {
    /// The input.
    pub spec: &'a RunSpec,
    /// `scenario cell/policy`.
    pub name: String,
}

/// What one run produced: its result and, when observed, what the recorder saw.
#[derive(Clone, Debug)]
pub struct Output {
    /// The result.
    pub result: RunResult,
    /// The recording (`Runner::observe` set).
    pub recorder: Option<Box<Recorder>>,
}

/// A run broke an invariant or came out differently the second time.
#[derive(Clone, Debug)]
pub struct CheckFailed {
    /// Index of the job.
    pub job: usize,
    /// What went wrong (seed, release and event included).
    pub message: String,
}

impl CheckFailed {
    /// The error `main` exits 3 for, with the command that reproduces the run.
    pub fn with_reproduce(self, command: &str) -> anyhow::Error {
        anyhow::Error::new(BugFound(format!(
            "{}\n  reproduce: {command}\n  please report this with the scenario file",
            self.message
        )))
    }
}

/// A run broke an invariant or was not deterministic (`--check-invariants`,
/// `--check-determinism`): a bug in wbsim, not in the input. `main` exits 3 for it.
#[derive(Debug)]
pub struct BugFound(pub String);

impl std::fmt::Display for BugFound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BugFound {}

/// How a command runs its simulations.
#[derive(Clone, Debug)]
pub struct Runner {
    /// Threads (`--jobs`, else every core).
    pub threads: usize,
    /// What to verify.
    pub checks: Checks,
    /// Attach a recorder to every run.
    pub observe: Option<ObserveConfig>,
    /// Show progress on stderr (when it is a terminal).
    pub progress: bool,
    /// How many runs it simulated and reused, over every batch (shared by its clones).
    pub tally: Tally,
}

/// Runs handed to a [`Runner`]: how many it simulated and how many took an earlier run's result
/// (an exact twin: the same engine input; a policy twin: its policy decided nothing), and the
/// results of its earlier batches (unobserved and unchecked) for the later ones to take: a margin
/// probe at a cell's own value, or a study's second look at a run, is the run already done.
#[derive(Clone, Default)]
pub struct Tally(std::sync::Arc<Ledger>);

/// What a [`Tally`] shares between the runner's clones.
#[derive(Default)]
struct Ledger {
    counts: [std::sync::atomic::AtomicUsize; 3],
    /// Every result so far, by the engine input without its policy (`exec::engine_input`).
    done: std::sync::Mutex<std::collections::HashMap<String, Vec<(RunSpec, Output)>>>,
}

impl std::fmt::Debug for Tally {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tally")
            .field("simulated", &self.simulated())
            .field("exact_twins", &self.exact_twins())
            .field("policy_twins", &self.policy_twins())
            .finish()
    }
}

impl Tally {
    /// Runs simulated (a `--check-determinism` run counts once).
    pub fn simulated(&self) -> usize {
        self.0.counts[0].load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Runs that took the result of an earlier run with the same engine input.
    pub fn exact_twins(&self) -> usize {
        self.0.counts[1].load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Runs that took the result of an earlier run under another policy that decided nothing.
    pub fn policy_twins(&self) -> usize {
        self.0.counts[2].load(std::sync::atomic::Ordering::Relaxed)
    }

    fn add(&self, which: usize) {
        self.0.counts[which].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// The engine input of `spec` and its key without the policy.
    fn key(spec: &RunSpec) -> (RunSpec, String) {
        let input = crate::exec::engine_input(spec);
        let mut general = input.clone();
        general.policy = crate::spec::Policy::Redirty;
        let key = serde_json::to_string(&general).unwrap_or_default();
        (input, key)
    }

    /// An earlier batch's result that `spec` may take (counted), as `exec::policy_twins` decides
    /// within a batch: the same engine input, else another policy's run that decided nothing.
    fn recall(&self, spec: &RunSpec) -> Option<Output> {
        let (input, key) = Tally::key(spec);
        let done = self.0.done.lock().unwrap_or_else(|e| e.into_inner());
        let same_but_policy = |other: &RunSpec| {
            let mut other = other.clone();
            other.policy = input.policy;
            other == input
        };
        let runs = done.get(&key)?;
        let (out, which) = match runs.iter().find(|(s, _)| *s == input) {
            Some((_, out)) => (out, 1),
            None => runs
                .iter()
                .find(|(s, out)| out.result.policy_decisions == 0 && same_but_policy(s))
                .map(|(_, out)| (out, 2))?,
        };
        self.add(which);
        Some(out.clone())
    }

    /// Keeps `out`, the result of `spec`, for later batches.
    fn remember(&self, spec: &RunSpec, out: &Output) {
        let (input, key) = Tally::key(spec);
        let mut done = self.0.done.lock().unwrap_or_else(|e| e.into_inner());
        let runs = done.entry(key).or_default();
        if !runs.iter().any(|(s, _)| *s == input) {
            runs.push((input, out.clone()));
        }
    }
}

impl Runner {
    /// `--jobs` threads (every core when `None`) under `checks`, with progress, unobserved.
    pub fn new(jobs: Option<u32>, checks: Checks) -> Runner {
        Runner {
            threads: crate::exec::threads(jobs),
            checks,
            observe: None,
            progress: true,
            tally: Tally::default(),
        }
    }

    /// The same runner, without its progress bar when `quiet` (`-q`).
    pub fn quiet(mut self, quiet: bool) -> Runner {
        self.progress &= !quiet;
        self
    }

    /// The same runner, recording every run with `config` (or not, for `None`).
    pub fn observing(mut self, config: Option<ObserveConfig>) -> Runner {
        self.observe = config;
        self
    }

    /// Runs every job; the outputs are in the order of `jobs`. The first failed check (in job
    /// order) is the error. Unobserved and unchecked, a job an earlier batch already ran (or its
    /// policy twin that decided nothing) takes that result.
    pub fn run(&self, jobs: &[Job<'_>]) -> Result<Vec<Output>, CheckFailed> {
        if let [job] = jobs {
            if self.progress && std::io::stderr().is_terminal() {
                return self.run_with_clock(job).map(|out| vec![out]);
            }
        }
        let remember = !self.checks.any() && self.observe.is_none();
        let mut outputs: Vec<Option<Result<Output, String>>> = jobs
            .iter()
            .map(|j| {
                remember
                    .then(|| self.tally.recall(j.spec).map(Ok))
                    .flatten()
            })
            .collect();
        let pending: Vec<usize> = (0..jobs.len()).filter(|&i| outputs[i].is_none()).collect();
        let fresh = self.run_batch(&pending.iter().map(|&i| &jobs[i]).collect::<Vec<_>>());
        for (&i, out) in pending.iter().zip(fresh) {
            if let (true, Ok(o)) = (remember, &out) {
                self.tally.remember(jobs[i].spec, o);
            }
            outputs[i] = Some(out);
        }
        outputs
            .into_iter()
            .enumerate()
            .map(|(job, out)| {
                out.expect("every job has an output")
                    .map_err(|message| CheckFailed { job, message })
            })
            .collect()
    }

    /// Simulates `jobs` on the runner's threads, each twin (`exec::policy_twins`) taking its
    /// first run's result when it may; the outputs are in the order of `jobs`.
    fn run_batch(&self, jobs: &[&Job<'_>]) -> Vec<Result<Output, String>> {
        let bar = self.bar(jobs.len());
        let twins = if self.checks.any() {
            vec![None; jobs.len()]
        } else {
            let specs: Vec<&RunSpec> = jobs.iter().map(|j| j.spec).collect();
            crate::exec::policy_twins(&specs)
        };
        let run = |i: usize| {
            let out = self.run_one(jobs[i].spec);
            bar.set_message(jobs[i].name.clone());
            bar.inc(1);
            out
        };
        // An exact twin takes any result; a policy twin only one whose policy decided nothing.
        let exact = |i: usize| twins[i].is_some_and(|t| jobs[t].spec.policy == jobs[i].spec.policy);
        let reusable = |i: usize, out: &Result<Output, String>| {
            exact(i) || out.as_ref().is_ok_and(|o| o.result.policy_decisions == 0)
        };
        let reused = |i: usize| {
            self.tally.add(if exact(i) { 1 } else { 2 });
            bar.inc(1)
        };
        let outputs = crate::exec::share_out(&twins, self.threads, &run, &reusable, &reused);
        bar.finish_and_clear();
        outputs
    }

    /// `f` over `items` on the runner's threads, each item's result in its slot, with a bar of
    /// items done: for commands whose unit of work is several runs (a threshold search calls
    /// [`Runner::run_one`] for each probe).
    pub fn map<T: Sync, R: Send>(&self, items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
        let bar = self.bar(items.len());
        let out = crate::exec::map_in_order(items, self.threads, |item| {
            let r = f(item);
            bar.inc(1);
            r
        });
        bar.finish_and_clear();
        out
    }

    /// One run on this thread, under the checks and with the recorder; `Err` is the failed
    /// check's message.
    pub fn run_one(&self, spec: &RunSpec) -> Result<Output, String> {
        self.tally.add(0);
        self.checked(spec, None)
    }

    /// [`Runner::run_one`], telling `progress` the simulated time of the (first) run.
    fn checked(
        &self,
        spec: &RunSpec,
        progress: Option<Box<dyn FnMut(u64)>>,
    ) -> Result<Output, String> {
        let first = self.simulate(spec, progress)?;
        if self.checks.determinism {
            let second = self.simulate(spec, None)?;
            if let Some(difference) = first_difference(&first.result, &second.result) {
                return Err(format!(
                    "two runs with seed {} differ ({difference})",
                    spec.seed
                ));
            }
        }
        Ok(first)
    }

    /// A single job on a terminal: a bar of simulated seconds, so a long run shows it moves.
    fn run_with_clock(&self, job: &Job<'_>) -> Result<Output, CheckFailed> {
        let limit_s = (job.spec.limits.sim_time_ns / crate::sim::SEC).max(1);
        let bar = ProgressBar::with_draw_target(Some(limit_s), ProgressDrawTarget::stderr());
        if let Ok(style) =
            ProgressStyle::with_template("{bar:30} {pos}/{len} simulated s  {elapsed} {wide_msg}")
        {
            bar.set_style(style);
        }
        bar.set_message(job.name.clone());
        let clock = bar.clone();
        let tick: Box<dyn FnMut(u64)> =
            Box::new(move |now| clock.set_position(now / crate::sim::SEC));
        self.tally.add(0);
        let out = self.checked(job.spec, Some(tick));
        bar.finish_and_clear();
        out.map_err(|message| CheckFailed { job: 0, message })
    }

    /// One simulation under the runner's options.
    fn simulate(
        &self,
        spec: &RunSpec,
        progress: Option<Box<dyn FnMut(u64)>>,
    ) -> Result<Output, String> {
        let options = Options {
            check_invariants: self.checks.invariants || cfg!(debug_assertions),
            ..Options::default()
        };
        let setup = Setup {
            options,
            recount: if self.checks.every_event {
                Recount::Full
            } else {
                Recount::Sampled
            },
            probe: self
                .observe
                .map(|config| Box::new(Recorder::new(config)) as Box<dyn crate::probe::Probe>),
            progress,
            drift_at: self.checks.inject_drift_at,
        };
        let finished = engine::execute(spec, setup).map_err(|v| v.to_string())?;
        let recorder = finished.probe.map(|p| {
            p.into_any()
                .downcast::<Recorder>()
                .expect("the runner's probe is a recorder")
        });
        Ok(Output {
            result: finished.result,
            recorder,
        })
    }

    /// A progress bar on stderr when there is more than one item, progress is wanted and stderr
    /// is a terminal (hidden otherwise, so logs and CI output stay clean).
    fn bar(&self, total: usize) -> ProgressBar {
        if !self.progress || total <= 1 || !std::io::stderr().is_terminal() {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} {wide_msg}") {
            bar.set_style(style);
        }
        bar
    }
}

/// Where two results of one spec differ: the first differing line of their JSON serialisations
/// (`None`: equal).
fn first_difference(a: &RunResult, b: &RunResult) -> Option<String> {
    if a == b {
        return None;
    }
    let render = |r: &RunResult| serde_json::to_string_pretty(r).unwrap_or_default();
    let (a, b) = (render(a), render(b));
    let found = a
        .lines()
        .zip(b.lines())
        .enumerate()
        .find(|(_, (x, y))| x != y)
        .map(|(i, (x, y))| {
            format!(
                "line {} of the run result: `{}` then `{}`",
                i + 1,
                x.trim(),
                y.trim()
            )
        });
    Some(found.unwrap_or_else(|| "equal JSON but unequal values".into()))
}
