//! The command line (clap derive): flags only, no logic.

use std::path::PathBuf;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::spec::Policy;

/// Reproduce Linux 2.6.32–2.6.36 OOM scenarios in a deterministic model of reclaim and writeback,
/// once per writepage-refusal policy.
#[derive(Debug, Parser)]
#[command(name = "wbsim", version, about, long_about = None)]
#[command(
    after_help = "Exit status: 0 success (an OOM is a result, not a failure), \
1 `check` found a result that differs from [expect], 2 bad input (command line or scenario)."
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run scenarios and print OOM-versus-survive tables.
    Run(RunArgs),
    /// Run scenarios and compare the outcomes with their [expect] tables (exit 1 on a mismatch).
    Check(RunArgs),
    /// Run each scenario cell under a series of kernels (2.6.32 … mainline) and name the
    /// switch behind every outcome change between consecutive kernels.
    History(HistoryArgs),
    /// Load and validate scenarios without running them.
    Validate {
        /// Scenario files.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// List releases, filesystems, policies, task kinds (with their keys) and pin methods.
    List,
    /// Run a scenario and explain each outcome from the run's own counters and events.
    Explain(crate::observe::args::ExplainArgs),
}

/// Options of `run` and `check`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Scenario files.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Override a value (`vm.dirty_ratio=40`), or restrict a [matrix] axis to one of its values
    /// (`mount.backup.fs=ext4`; repeat to keep several). VALUE is TOML (`40`, `true`, `"x"`) or a
    /// bare string (`ext4`, `4GiB`).
    #[arg(long = "set", value_name = "PATH=VALUE", value_parser = parse_set)]
    pub set: Vec<(String, String)>,
    /// Run only this policy (repeatable).
    #[arg(long, value_name = "NAME",
          value_parser = PossibleValuesParser::new(["redirty", "activate"])
              .map(|s| Policy::from_name(&s).expect("a possible value")))]
    pub policy: Vec<Policy>,
    /// The seed of every run (overrides scenario.seed).
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Reports, timelines and traces (docs/REPORTS.md).
    #[command(flatten)]
    pub observe: crate::observe::args::ObserveArgs,
}

/// Output formats.
/// Arguments of `wbsim history`.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// The scenario file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Override a scenario value (as for `run`).
    #[arg(long = "set", value_name = "PATH=VALUE", value_parser = parse_set)]
    pub set: Vec<(String, String)>,
    /// Only this policy (repeatable; default: the scenario's policy axis).
    #[arg(long, value_name = "NAME",
          value_parser = PossibleValuesParser::new(["redirty", "activate"])
              .map(|s| Policy::from_name(&s).expect("a possible value")))]
    pub policy: Vec<Policy>,
    /// Override `scenario.seed`.
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// The kernels, oldest first, comma-separated (default: 2.6.32, 2.6.36 and every later
    /// release; `wbsim list` names them).
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub releases: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One table per scenario file.
    Table,
    /// One JSON document (schema `wbsim/run/1`).
    Json,
}

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
