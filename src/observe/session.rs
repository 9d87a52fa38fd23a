//! What `run`/`check` write of their observed runs once every run is done: the files first
//! (`--timeline`, `--plot`, `--trace`, `--ftrace`), so a bad path fails before stdout is used;
//! then, after the tables, the stdout sections (`--oom-report`, `--vmstat`).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;

use super::args::ObserveArgs;
use super::{chrome_trace, ftrace, plot, timeline, Recorder};
use crate::outcome::{Outcome, RunResult};
use crate::report::{oom_report, proc_files};
use crate::scenario::PlannedRun;

/// One scenario file's runs as they were executed (the held ones when sharded).
pub struct ObservedScenario<'a> {
    /// `scenario.name`.
    pub name: &'a str,
    /// Its runs, in execution order.
    pub runs: Vec<ObservedRun<'a>>,
}

impl ObservedScenario<'_> {
    /// The release of every run (`None`: they differ, or there is none).
    fn release(&self) -> Option<String> {
        let mut releases = self.runs.iter().map(|r| r.run.spec.kernel.display_name());
        let first = releases.next()?;
        releases.all(|r| r == first).then_some(first)
    }
}

/// One run as it was executed.
#[derive(Clone, Copy)]
pub struct ObservedRun<'a> {
    /// `scenario.name`.
    pub scenario: &'a str,
    /// The run.
    pub run: &'a PlannedRun,
    /// Its result.
    pub result: &'a RunResult,
    /// What its recorder saw (when an output needs one).
    pub recorder: Option<&'a Recorder>,
}

impl ObservedRun<'_> {
    /// `scenario/cell`.
    fn label(&self) -> String {
        format!("{}/{}", self.scenario, self.run.label)
    }
}

/// Every run of every scenario, in execution order.
fn all_runs<'a>(scenarios: &[ObservedScenario<'a>]) -> Vec<ObservedRun<'a>> {
    scenarios
        .iter()
        .flat_map(|s| s.runs.iter().copied())
        .collect()
}

/// Writes the files `args` asks for.
pub fn write_files(args: &ObserveArgs, scenarios: &[ObservedScenario<'_>]) -> anyhow::Result<()> {
    let runs = all_runs(scenarios);
    let recorded: Vec<(String, &Recorder)> = runs
        .iter()
        .filter_map(|r| r.recorder.map(|recorder| (r.label(), recorder)))
        .collect();
    for (label, recorder) in &recorded {
        if recorder.truncated {
            eprintln!(
                "warning: {label}: more than {} trace records; the rest were not recorded",
                super::MAX_RECORDS
            );
        }
    }
    if let Some(path) = &args.timeline {
        write(path, &timeline::render_csv(&recorded))?;
    }
    if let Some(path) = &args.trace {
        write(path, &chrome_trace::render(&recorded))?;
    }
    if let Some(path) = &args.ftrace {
        let labels: Vec<String> = recorded.iter().map(|(l, _)| l.clone()).collect();
        for (file, (_, recorder)) in ftrace_paths(path, &labels)?.iter().zip(&recorded) {
            write(file, &ftrace::render(recorder))?;
        }
    }
    if let Some(path) = &args.plot {
        write(path, &plot_of(scenarios))?;
    }
    Ok(())
}

/// A run's label as a file name: `backup/512MiB/ext3/redirty` → `backup_512MiB_ext3_redirty`.
pub fn file_label(label: &str) -> String {
    label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Where `--ftrace PATH` writes each run's trace, one file per run (the trace of one boot, as
/// `trace-vmscan-postprocess.pl` expects): PATH with `{label}` replaced by the run's
/// [`file_label`]; `LABEL.txt` in PATH when PATH is a directory (or ends with `/`); PATH itself
/// when there is one run.
pub fn ftrace_paths(path: &Path, labels: &[String]) -> anyhow::Result<Vec<PathBuf>> {
    let text = path.to_string_lossy();
    let paths: Vec<PathBuf> = if text.contains("{label}") {
        labels
            .iter()
            .map(|l| PathBuf::from(text.replace("{label}", &file_label(l))))
            .collect()
    } else if path.is_dir() || text.ends_with('/') {
        std::fs::create_dir_all(path)
            .with_context(|| format!("--ftrace {text}: cannot create the directory"))?;
        labels
            .iter()
            .map(|l| path.join(format!("{}.txt", file_label(l))))
            .collect()
    } else if labels.len() <= 1 {
        vec![path.to_path_buf()]
    } else {
        anyhow::bail!(
            "--ftrace {text}: {} runs, one trace each; give a directory or a path with {{label}} \
             (e.g. `--ftrace trace-{{label}}.txt`)",
            labels.len()
        );
    };
    let mut seen = std::collections::HashSet::new();
    if let Some(dup) = paths.iter().find(|p| !seen.insert(*p)) {
        anyhow::bail!("--ftrace {text}: two runs would write {}", dup.display());
    }
    Ok(paths)
}

/// `--plot`: the policies side by side, one panel pair per zone under pressure.
fn plot_of(scenarios: &[ObservedScenario<'_>]) -> String {
    let plot_runs: Vec<plot::PlotRun<'_>> = all_runs(scenarios)
        .iter()
        .filter_map(|r| {
            Some(plot::PlotRun {
                cell: if r.run.label_without_policy.is_empty() {
                    r.scenario.to_string()
                } else {
                    format!("{} {}", r.scenario, r.run.label_without_policy)
                },
                column: format!("policy {}", r.run.spec.policy.name()),
                outcome: outcome_line(&r.result.outcome),
                recorder: r.recorder?,
            })
        })
        .collect();
    let names: Vec<&str> = scenarios.iter().map(|s| s.name).collect();
    let title = format!(
        "wbsim: {} (release {})",
        names.join(", "),
        release_of(scenarios)
    );
    plot::render(&title, &plot_runs)
}

/// The stdout sections after the tables (`--oom-report`, `--vmstat`).
pub fn print_sections(
    args: &ObserveArgs,
    scenarios: &[ObservedScenario<'_>],
    out: &mut impl Write,
) -> anyhow::Result<()> {
    for r in all_runs(scenarios) {
        let (label, spec, result) = (r.label(), &r.run.spec, r.result);
        if args.oom_report {
            let n = result.oom_reports.len();
            for (k, report) in result.oom_reports.iter().enumerate() {
                writeln!(
                    out,
                    "\n== {label}: OOM report {} of {n} at {} s ==",
                    k + 1,
                    super::secs3(report.at_ns)
                )?;
                write!(out, "{}", oom_report::render(report, spec))?;
            }
        }
        if args.vmstat {
            writeln!(out, "\n== {label}: /proc/vmstat ==")?;
            write!(out, "{}", proc_files::render_vmstat(&result.vmstat))?;
            writeln!(out, "\n== {label}: /proc/meminfo ==")?;
            write!(out, "{}", proc_files::render_meminfo(&result.meminfo))?;
        }
    }
    Ok(())
}

fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

/// The release shared by every scenario whose runs share one, or `varies`.
fn release_of(scenarios: &[ObservedScenario<'_>]) -> String {
    let releases: Vec<String> = scenarios.iter().filter_map(|s| s.release()).collect();
    match releases.first() {
        Some(first) if releases.iter().all(|r| r == first) => first.clone(),
        _ => "varies".into(),
    }
}

/// `OOM at 19.0 s, victim batch`, `survived (37.1 s)`, `stalled at 600.0 s`.
pub fn outcome_line(o: &Outcome) -> String {
    match o {
        Outcome::Oom { at_ns, victim, .. } => {
            format!("OOM at {} s, victim {victim}", crate::report::secs(*at_ns))
        }
        Outcome::Survived { at_ns } => format!("survived ({} s)", crate::report::secs(*at_ns)),
        Outcome::Stalled { at_ns, .. } => format!("stalled at {} s", crate::report::secs(*at_ns)),
    }
}
