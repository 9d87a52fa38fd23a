//! One `run`/`check` invocation's observation: which runs get a recorder, and writing what was
//! asked for once every run is done (files first, so a bad path fails before stdout is used;
//! then the stdout sections after the tables, or extra fields in the JSON document).

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use serde_json::{json, Value};

use super::args::ObserveArgs;
use super::{
    chrome_trace, ftrace, oom_report, plot, timeline, vmstat_print, ObserveConfig, Recorder,
};
use crate::outcome::{Outcome, RunResult};
use crate::scenario::PlannedRun;
use crate::spec::RunSpec;

/// One scenario's runs as they were executed (the held ones when sharded), with their results.
pub struct ScenarioResults<'a> {
    /// `scenario.name`.
    pub name: &'a str,
    /// Each run with its result, in execution order.
    pub runs: Vec<(&'a PlannedRun, &'a RunResult)>,
}

impl ScenarioResults<'_> {
    fn pairs(&self) -> impl Iterator<Item = (&PlannedRun, &RunResult)> {
        self.runs.iter().copied()
    }

    fn release(&self) -> Option<String> {
        let mut it = self.runs.iter().map(|(r, _)| r.spec.kernel.display_name());
        let first = it.next()?;
        it.all(|x| x == first).then_some(first)
    }
}

/// The observation state of one invocation.
pub struct Session {
    args: ObserveArgs,
    /// One recorder per run, in execution order (`None` when nothing is recorded).
    recorders: Vec<Option<Box<Recorder>>>,
}

impl Session {
    /// A session for these options.
    pub fn new(args: &ObserveArgs) -> Session {
        Session {
            args: args.clone(),
            recorders: vec![],
        }
    }

    /// Runs one spec, with a recorder when an output needs one. The result is the same either way.
    pub fn simulate(&mut self, spec: &RunSpec) -> RunResult {
        if self.args.records() {
            let cfg = ObserveConfig {
                sample_ns: self.args.sample_interval.max(1),
            };
            let (r, rec) = super::simulate_observed(spec, crate::mm::Options::default(), cfg);
            self.recorders.push(Some(rec));
            r
        } else {
            self.recorders.push(None);
            crate::engine::simulate(spec)
        }
    }

    /// Each run's label (`scenario/cell`), spec, result and recorder, in execution order.
    fn runs<'a>(
        &'a self,
        all: &'a [ScenarioResults<'_>],
    ) -> Vec<(String, &'a RunSpec, &'a RunResult, Option<&'a Recorder>)> {
        let mut out = vec![];
        let mut i = 0;
        for sr in all {
            for (run, res) in sr.pairs() {
                let label = format!("{}/{}", sr.name, run.label);
                let rec = self.recorders.get(i).and_then(|r| r.as_deref());
                out.push((label, &run.spec, res, rec));
                i += 1;
            }
        }
        out
    }

    /// Writes the requested files.
    pub fn write_files(&self, all: &[ScenarioResults<'_>]) -> anyhow::Result<()> {
        let runs = self.runs(all);
        let recorded: Vec<(String, &Recorder)> = runs
            .iter()
            .filter_map(|(l, _, _, r)| r.map(|r| (l.clone(), r)))
            .collect();
        for (l, r) in &recorded {
            if r.truncated {
                eprintln!(
                    "warning: {l}: more than {} trace records; the rest were not recorded",
                    super::MAX_RECORDS
                );
            }
        }
        if let Some(p) = &self.args.timeline {
            write(p, &timeline::render_csv(&recorded))?;
        }
        if let Some(p) = &self.args.trace {
            write(p, &chrome_trace::render(&recorded))?;
        }
        if let Some(p) = &self.args.ftrace {
            let mut text = String::new();
            for (l, r) in &recorded {
                if recorded.len() > 1 {
                    text.push_str(&format!("# run: {l}\n"));
                }
                text.push_str(&ftrace::render(r));
            }
            write(p, &text)?;
        }
        if let Some(p) = &self.args.plot {
            let mut plot_runs = vec![];
            let mut i = 0;
            for sr in all {
                for (run, res) in sr.pairs() {
                    if let Some(Some(rec)) = self.recorders.get(i) {
                        plot_runs.push(plot::PlotRun {
                            cell: if run.label_without_policy.is_empty() {
                                sr.name.to_string()
                            } else {
                                format!("{} {}", sr.name, run.label_without_policy)
                            },
                            column: format!("policy {}", run.spec.policy.name()),
                            outcome: outcome_line(&res.outcome),
                            rec,
                        });
                    }
                    i += 1;
                }
            }
            let names: Vec<&str> = all.iter().map(|s| s.name).collect();
            let title = format!("wbsim: {} (release {})", names.join(", "), release_of(all));
            write(p, &plot::render(&title, &plot_runs))?;
        }
        Ok(())
    }

    /// The stdout sections after the tables (`--oom-report`, `--vmstat`).
    pub fn print_sections(
        &self,
        all: &[ScenarioResults<'_>],
        out: &mut impl Write,
    ) -> anyhow::Result<()> {
        for (label, spec, res, _) in self.runs(all) {
            if self.args.oom_report {
                let n = res.oom_reports.len();
                for (k, rep) in res.oom_reports.iter().enumerate() {
                    writeln!(
                        out,
                        "\n== {label}: OOM report {} of {n} at {} s ==",
                        k + 1,
                        super::secs3(rep.at_ns)
                    )?;
                    write!(out, "{}", oom_report::render(rep, spec.release, &spec.vm))?;
                }
            }
            if self.args.vmstat {
                writeln!(out, "\n== {label}: /proc/vmstat ==")?;
                write!(out, "{}", vmstat_print::render_vmstat(res))?;
                writeln!(out, "\n== {label}: /proc/meminfo ==")?;
                write!(out, "{}", vmstat_print::render_meminfo(res))?;
            }
        }
        Ok(())
    }

    /// Whether any run needs a recorder (then runs go through [`Session::simulate`]).
    pub fn records(&self) -> bool {
        self.args.records()
    }

    /// The fields `--oom-report` (`oom_reports`: each report as a list of lines) and `--vmstat`
    /// (`meminfo_kb`: `{name: kB}`) add to a run's JSON record.
    pub fn run_extras(&self, spec: &RunSpec, res: &RunResult) -> serde_json::Map<String, Value> {
        let mut m = serde_json::Map::new();
        if self.args.oom_report {
            let reps: Vec<Value> = res
                .oom_reports
                .iter()
                .map(|r| {
                    let text = oom_report::render(r, spec.release, &spec.vm);
                    json!(text.lines().collect::<Vec<_>>())
                })
                .collect();
            m.insert("oom_reports".into(), Value::Array(reps));
        }
        if self.args.vmstat {
            let mi: serde_json::Map<String, Value> = res
                .meminfo
                .iter()
                .map(|(n, v)| (n.clone(), json!(v)))
                .collect();
            m.insert("meminfo_kb".into(), Value::Object(mi));
        }
        m
    }
}

fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

fn release_of(all: &[ScenarioResults<'_>]) -> String {
    let rels: Vec<String> = all.iter().filter_map(|s| s.release()).collect();
    if rels.is_empty() || rels.iter().any(|r| *r != rels[0]) {
        "varies".into()
    } else {
        rels[0].clone()
    }
}

/// `OOM at 19.0 s (victim batch)`, `survived (37.1 s)`, `stalled at 600.0 s`.
pub fn outcome_line(o: &Outcome) -> String {
    match o {
        Outcome::Oom { at_ns, victim, .. } => {
            format!("OOM at {} s, victim {victim}", crate::report::secs(*at_ns))
        }
        Outcome::Survived { at_ns } => format!("survived ({} s)", crate::report::secs(*at_ns)),
        Outcome::Stalled { at_ns, .. } => format!("stalled at {} s", crate::report::secs(*at_ns)),
    }
}
