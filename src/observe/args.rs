//! The command-line options of the observers (flattened into `run`/`check`) and of `explain`:
//! flags only, no logic.

use std::path::PathBuf;

use clap::Args;

/// What to observe and where to write it.
#[derive(Debug, Args, Default, Clone)]
pub struct ObserveArgs {
    /// After the table, print the kernel's OOM report of each OOM kill, in the release's format.
    #[arg(long)]
    pub oom_report: bool,
    /// After the table, print each run's final /proc/vmstat and /proc/meminfo.
    #[arg(long)]
    pub vmstat: bool,
    /// Write every run's sampled state (zones, LRU lists, task states, events) as CSV.
    #[arg(long, value_name = "FILE.csv")]
    pub timeline: Option<PathBuf>,
    /// Draw the timeline as SVG (policies side by side, one panel pair per zone under pressure).
    #[arg(long, value_name = "FILE.svg")]
    pub plot: Option<PathBuf>,
    /// Write a Chrome trace-event JSON (open in Perfetto or chrome://tracing).
    #[arg(long, value_name = "FILE.json")]
    pub trace: Option<PathBuf>,
    /// Write mm_vmscan_*/writeback_* tracepoint lines in the kernel's ftrace text format, one file
    /// per run: PATH with `{label}` replaced by the run's label (`trace-{label}.txt`), or
    /// LABEL.txt in the directory PATH; a plain file only for a single run.
    #[arg(long, value_name = "PATH")]
    pub ftrace: Option<PathBuf>,
    /// Timeline sample interval (simulated time) for --timeline and --plot.
    #[arg(long, value_name = "DURATION", default_value = "100ms",
          value_parser = crate::scenario::units::parse_duration)]
    pub sample_interval: u64,
}

impl ObserveArgs {
    /// Whether any output needs a recorder attached to the runs.
    pub fn records(&self) -> bool {
        self.timeline.is_some()
            || self.plot.is_some()
            || self.trace.is_some()
            || self.ftrace.is_some()
    }

    /// The recorder's configuration when an output needs one.
    pub fn recording(&self) -> Option<super::ObserveConfig> {
        self.records().then(|| super::ObserveConfig {
            sample_ns: self.sample_interval.max(1),
        })
    }

    /// What the runs' records carry besides their results.
    pub fn extras(&self) -> crate::report::build::Extras {
        crate::report::build::Extras {
            oom_reports: self.oom_report,
            meminfo: self.vmstat,
        }
    }
}

/// Options of `explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// Scenario file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// `--set`, `--policy` (explain only that policy's runs), `--seed`, as for `run`.
    #[command(flatten)]
    pub scenario: crate::cli::ScenarioOpts,
    /// Simulations to run at once (default: every core); the output does not depend on it.
    #[arg(long, short = 'j', value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub jobs: Option<u32>,
    /// `--check-invariants`, `--check-determinism`.
    #[command(flatten)]
    pub checks: crate::cli::CheckFlags,
}
