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
    /// Timeline sample interval (simulated time) for --timeline and --plot: at least 1ms, and
    /// at most 1 000 000 samples in all the recorded runs.
    #[arg(long, value_name = "DURATION", default_value = "100ms",
          value_parser = parse_sample_interval)]
    pub sample_interval: u64,
}

/// The shortest `--sample-interval`: a sample is a few hundred bytes kept in memory, and kernel
/// counters are not sampled finer than a millisecond by any tool we emulate.
pub const MIN_SAMPLE_INTERVAL_NS: u64 = crate::sim::MSEC;

/// The most timeline samples one command keeps (about 550 bytes each, measured: ~0.5 GiB).
pub const MAX_SAMPLES: u64 = 1_000_000;

/// `--sample-interval`: a duration of at least [`MIN_SAMPLE_INTERVAL_NS`].
fn parse_sample_interval(text: &str) -> Result<u64, String> {
    let ns = crate::scenario::units::parse_duration(text)?;
    if ns < MIN_SAMPLE_INTERVAL_NS {
        return Err(format!(
            "`{text}` is shorter than 1ms; samples are kept in memory, so the interval is at \
             least `1ms`"
        ));
    }
    Ok(ns)
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

    /// Refuses a sampling that would keep more than [`MAX_SAMPLES`] samples over runs of
    /// `durations` (simulated ns each), before any run.
    pub fn check_samples(&self, durations: impl Iterator<Item = u64>) -> anyhow::Result<()> {
        if self.timeline.is_none() && self.plot.is_none() {
            return Ok(());
        }
        let samples: u64 = durations
            .map(|d| d / self.sample_interval.max(1) + 1)
            .fold(0, u64::saturating_add);
        if samples > MAX_SAMPLES {
            let total: u64 = samples.saturating_mul(self.sample_interval);
            let floor = total / MAX_SAMPLES + 1;
            anyhow::bail!(
                "--sample-interval {}: {samples} timeline samples over the recorded runs; at most \
                 {MAX_SAMPLES} are kept in memory: sample every {} or more, or record fewer runs \
                 (--set/--policy)",
                humantime::format_duration(std::time::Duration::from_nanos(self.sample_interval)),
                humantime::format_duration(std::time::Duration::from_millis(
                    floor.div_ceil(crate::sim::MSEC)
                ))
            );
        }
        Ok(())
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
