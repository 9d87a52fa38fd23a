//! The command line (clap derive): flags only, no logic.
//!
//! Options shared by every command that runs simulations live in [`RunOpts`], flattened into each
//! command, so a new shared flag is one field in one place.

use std::path::PathBuf;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand, ValueEnum};

pub use crate::compare::FailOn;
pub use crate::report::Format;
use crate::run::Checks;
use crate::shard::Shard;
use crate::spec::Policy;

/// `wbsim list --format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ListFormat {
    /// Aligned text.
    Text,
    /// One JSON document.
    Json,
}

/// The exit-status paragraph of `--help` and of the man page.
pub const EXIT_STATUS: &str = "Exit status: 0 success (an OOM is a result, not a failure); \
1 `check` found a result that differs from [expect], or a --fail-on condition occurred; \
2 bad input (command line or scenario); \
3 a bug in wbsim found by --check-invariants or --check-determinism; \
32 `check` checked nothing: a file has no [expect] table and no check failed (LTP's TCONF).";

/// `check`'s exit status when a file has no `[expect]` and no check failed: the test did not
/// apply (LTP's `TCONF`, 32), so a CI job does not turn green for nothing.
pub const NOTHING_CHECKED: u8 = 32;

/// Reproduce Linux 2.6.32–2.6.36 OOM scenarios in a deterministic model of reclaim and writeback,
/// once per writepage-refusal policy.
#[derive(Debug, Parser)]
#[command(name = "wbsim", version, about, long_about = None)]
#[command(after_help = EXIT_STATUS)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run scenarios and print OOM-versus-survive tables.
    #[command(after_help = EXIT_STATUS)]
    Run(RunArgs),
    /// Run scenarios and compare the outcomes with their [expect] tables (exit 1 on a mismatch).
    #[command(after_help = EXIT_STATUS)]
    Check(CheckArgs),
    /// Run a scenario over a grid of values (--vary), or bisect for the value at which the
    /// outcome flips (--find-threshold).
    #[command(after_help = EXIT_STATUS)]
    Sweep(SweepArgs),
    /// Merge the JSON documents of `--shard` runs into one report.
    Merge(MergeArgs),
    /// Run each scenario cell under a series of kernels (2.6.32 … mainline) and name the
    /// switch behind every outcome change between consecutive kernels.
    #[command(after_help = EXIT_STATUS)]
    History(HistoryArgs),
    /// Answer the question for every kernel: OOM rates over replicas per cell and policy on
    /// 2.6.32–2.6.36 and the later kernels, the policy verdicts, margins, and which kernel change
    /// turned an OOM into survival.
    Study(StudyArgs),
    /// Run a scenario and explain each outcome from the run's own counters and events.
    #[command(after_help = EXIT_STATUS)]
    Explain(crate::observe::args::ExplainArgs),
    /// Load and validate scenarios without running them.
    Validate {
        /// Scenario files.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// List releases, filesystems, policies, task kinds (with their keys) and pin methods.
    List {
        /// `text` (for reading) or `json` (one document, `wbsim/list/1`, for scripts).
        #[arg(long, value_enum, default_value_t = ListFormat::Text)]
        format: ListFormat,
    },
    /// Print a shell completion script to stdout.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) to stdout: wbsim(1), or wbsim-COMMAND(1).
    Man {
        /// The command whose page to print (`run`, `sweep`, …).
        #[arg(value_name = "COMMAND")]
        command: Option<String>,
        /// Write every page (wbsim.1 and wbsim-COMMAND.1) into this directory instead.
        #[arg(long, value_name = "DIR", conflicts_with = "command")]
        out_dir: Option<PathBuf>,
    },
}

/// Options of `run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Scenario files.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// For each cell and policy, bisect PATH between LO and HI for where the OOM rate (over
    /// the replicas) crosses 50 %: `PATH=LO..HI[:RES]`, or `LO..HI` for the first pinning task's
    /// size (default resolution: 1/32 of the range).
    #[arg(long, value_name = "[PATH=]LO..HI[:RES]")]
    pub margin: Option<String>,
    /// Options shared by every command that runs simulations.
    #[command(flatten)]
    pub opts: RunOpts,
    /// Reports, timelines and traces (docs/REPORTS.md).
    #[command(flatten)]
    pub observe: crate::observe::args::ObserveArgs,
}

/// Options of `check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Scenario files.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Also write a JUnit XML report (one test case per expectation and cell) to this file.
    #[arg(long, value_name = "FILE.xml")]
    pub junit: Option<PathBuf>,
    /// Options shared by every command that runs simulations.
    #[command(flatten)]
    pub opts: RunOpts,
    /// Reports, timelines and traces (docs/REPORTS.md).
    #[command(flatten)]
    pub observe: crate::observe::args::ObserveArgs,
}

/// Options of `wbsim history`.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// The scenario file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// The kernels, oldest first, comma-separated (default: 2.6.32, 2.6.36 and every later
    /// release; `wbsim list` names them).
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub releases: Vec<String>,
    /// `--set`, `--policy`, `--seed`, as for `run`.
    #[command(flatten)]
    pub scenario: ScenarioOpts,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Tables: one column per kernel (cells × kernels) instead of the 100-column table of one
    /// row per cell and kernel with the policy verdict.
    #[arg(long)]
    pub wide: bool,
    /// Simulations to run at once (default: every core).
    #[arg(long, short = 'j', value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub jobs: Option<u32>,
    /// `--check-invariants`, `--check-determinism`.
    #[command(flatten)]
    pub checks: CheckFlags,
}

/// Options of `wbsim study`.
#[derive(Debug, Args)]
pub struct StudyArgs {
    /// Scenario files.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// The kernels, oldest first, comma-separated (default: 2.6.32 to 2.6.36 and every later
    /// profile; `wbsim list` names them).
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub releases: Vec<String>,
    /// `[PATH=]LO..HI[:RES]`: also bisect each kernel's margin (as `run --margin`).
    #[arg(long, value_name = "[PATH=]LO..HI[:RES]")]
    pub margin: Option<String>,
    /// `--set`, `--policy`, `--seed`, `--replicas` (default 4), `--noise`, as for `run`.
    #[command(flatten)]
    pub scenario: ScenarioOpts,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Also write the study as one self-contained HTML page (tables and inline SVG plots, no
    /// script) to FILE.
    #[arg(long, value_name = "FILE.html")]
    pub html: Option<PathBuf>,
    /// Simulations to run at once (default: every core).
    #[arg(long, short = 'j', value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub jobs: Option<u32>,
}

/// Options of `sweep`.
#[derive(Debug, Args)]
pub struct SweepArgs {
    /// The scenario file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Add a matrix axis, or replace the values of one: `PATH=V1,V2,…` or `PATH=LO..HI:STEP`
    /// (sizes such as `1GiB..3.75GiB:256MiB`, or integers such as `10..40:5`). Repeatable.
    #[arg(long, value_name = "PATH=LIST_OR_RANGE")]
    pub vary: Vec<String>,
    /// Bisect PATH between LO and HI, per policy and per matrix cell, for the value at which the
    /// outcome flips: `PATH=LO..HI` or `PATH=LO..HI:RESOLUTION` (default resolution: 1MiB for
    /// sizes, 1 for integers).
    #[arg(long, value_name = "PATH=LO..HI[:RES]")]
    pub find_threshold: Option<String>,
    /// Write an SVG outcome map (outcome over the first --vary axis, one band per policy and
    /// cell).
    #[arg(long, value_name = "FILE.svg")]
    pub plot: Option<PathBuf>,
    /// Options shared by every command that runs simulations.
    #[command(flatten)]
    pub opts: RunOpts,
}

/// Options of `merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// JSON documents written by `run`, `check` or `sweep` with `--shard I/N --format json`.
    #[arg(required = true, value_name = "FILE.json")]
    pub files: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Exit 1 when any merged run or comparison matches (oom, stall, regression; repeatable or
    /// comma-separated).
    #[arg(long, value_enum, value_name = "WHAT", value_delimiter = ',')]
    pub fail_on: Vec<FailOn>,
}

/// How the command line changes a scenario: shared by every command that loads one to run it.
#[derive(Debug, Args, Clone, Default)]
pub struct ScenarioOpts {
    /// Override a value (`vm.dirty_ratio=40`), or restrict a [matrix] axis to one of its values
    /// (`mount.backup.fs=ext4`; repeat to keep several). VALUE is TOML (`40`, `true`, `"x"`) or a
    /// bare string (`ext4`, `4GiB`).
    #[arg(long = "set", value_name = "PATH=VALUE", value_parser = parse_set)]
    pub set: Vec<(String, String)>,
    /// Run only this policy (repeatable).
    #[arg(long, value_name = "NAME",
          value_parser = PossibleValuesParser::new(Policy::ALL.map(Policy::name))
              .map(|s| Policy::from_name(&s).expect("a possible value")))]
    pub policy: Vec<Policy>,
    /// The seed of every run (overrides scenario.seed); with replicas, the seed replica 0 keeps
    /// and the others derive from.
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Runs per cell and policy (overrides scenario.replicas); with more than one, each gets its
    /// own seed and noise, and cells report OOM rates with 95 % intervals.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub replicas: Option<u32>,
    /// Run-to-run noise ([noise] table, or its defaults): on by default with more than one
    /// replica; `on` with `--replicas 1` reproduces one replica from its seed.
    #[arg(long, value_name = "on|off", value_parser = parse_on_off)]
    pub noise: Option<bool>,
}

/// Parses `on` or `off`.
fn parse_on_off(s: &str) -> Result<bool, String> {
    match s {
        "on" => Ok(true),
        "off" => Ok(false),
        _ => Err(format!("`{s}` is not `on` or `off`")),
    }
}

impl ScenarioOpts {
    /// The loader's overrides.
    pub fn overrides(&self) -> crate::scenario::Overrides {
        crate::scenario::Overrides {
            sets: self.set.clone(),
            policies: self.policy.clone(),
            seed: self.seed,
            replicas: self.replicas,
            noise: self.noise,
        }
    }
}

/// Options shared by `run`, `check` and `sweep`.
#[derive(Debug, Args, Clone)]
pub struct RunOpts {
    /// `--set`, `--policy`, `--seed`.
    #[command(flatten)]
    pub scenario: ScenarioOpts,
    /// Output format (stdout carries only this; progress and messages go to stderr).
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Tables: every field of every run (and mmtests' rows) instead of the 100-column table.
    #[arg(long)]
    pub wide: bool,
    /// Tables: mmtests' derived reclaim rows after the table.
    #[arg(long)]
    pub mmtests: bool,
    /// Simulations to run at once (default: the number of available cores; 1 runs serially).
    /// The output does not depend on it.
    #[arg(long, short = 'j', value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub jobs: Option<u32>,
    /// Run only the I-th of N slices of the runs (1-based); merge the JSON outputs with
    /// `wbsim merge`.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<Shard>,
    /// Exit 1 when a run ends in an OOM kill (`oom`), a stall (`stall`), or when a policy
    /// comparison turns survival into an OOM (`regression`). Repeatable or comma-separated.
    #[arg(long, value_enum, value_name = "WHAT", value_delimiter = ',')]
    pub fail_on: Vec<FailOn>,
    /// `--check-invariants`, `--check-determinism`.
    #[command(flatten)]
    pub checks: CheckFlags,
    /// Write the output to FILE instead of stdout (created, or truncated, once every run is
    /// done; fio's `--output`).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Also write the results document (what `--format json` prints, with the
    /// `--oom-report`/`--vmstat` extras asked for) to FILE, from the same runs: a table for the
    /// reader and the document for a script without simulating twice.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Print nothing on stderr but errors and what decides the exit status (`--fail-on` hits,
    /// the check summary): no progress bar, no warnings.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// How often `--check-invariants` recounts (docs/ROBUSTNESS.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InvariantChecks {
    /// The structure checks after every event, the page recount at a stride (the default).
    Sampled,
    /// Everything after every event (every 4096th event above 65 536 pages).
    EveryEvent,
}

/// The checks every command that simulates accepts.
#[derive(Debug, Args, Clone, Default)]
pub struct CheckFlags {
    /// Check every counter and list against page state during each run, also in release
    /// builds: the structure checks after every event and the page recount at a stride that
    /// costs about as much as the run (`=every-event`: the recount after every event, or every
    /// 4096th on large machines; slow); a violation is located to the first event after which it
    /// holds, prints the seed and the command that reproduces it and exits 3.
    #[arg(long, value_enum, value_name = "WHEN", num_args = 0..=1, require_equals = true,
          default_missing_value = "sampled")]
    pub check_invariants: Option<InvariantChecks>,
    /// Run each simulation twice and compare the full results; a difference prints the first
    /// differing line and the reproduce command and exits 3.
    #[arg(long)]
    pub check_determinism: bool,
    /// Test hook (docs/CLI.md): after event N of every run, add one page to a zone's dirty
    /// count that no page carries, so the invariant recount has something to catch.
    #[arg(long, value_name = "N", hide = true)]
    pub inject_drift_at: Option<u64>,
}

impl RunOpts {
    /// The table view `--wide` and `--mmtests` ask for.
    pub fn view(&self) -> crate::report::View {
        crate::report::View {
            wide: self.wide,
            mmtests: self.mmtests,
        }
    }
}

impl CheckFlags {
    /// What the runner verifies.
    pub fn checks(&self) -> Checks {
        Checks {
            invariants: self.check_invariants.is_some(),
            every_event: self.check_invariants == Some(InvariantChecks::EveryEvent),
            determinism: self.check_determinism,
            inject_drift_at: self.inject_drift_at,
        }
    }
}

/// Parses `--set PATH=VALUE`.
pub fn parse_set(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((path, value)) if !path.trim().is_empty() => {
            Ok((path.trim().to_string(), value.to_string()))
        }
        _ => Err(format!(
            "`{s}` is not PATH=VALUE (e.g. `vm.dirty_ratio=40` or `mount.backup.fs=ext4`)"
        )),
    }
}
