//! `wbsim history`: every cell of a scenario under a series of kernels, and for each step between
//! consecutive kernels that changes an outcome, the switch responsible (writeback-fs §D).
//!
//! Attribution is by experiment, not by table lookup: when a step turns on several switches, the
//! cell is run again under the earlier kernel with each of those switches alone; a switch that
//! flips the outcome by itself is named. When none does alone, the step's switches are reported as
//! a combination. Every difference between two kernels is a switch (`crate::kernel`), the
//! 2.6.32–2.6.36 releases included, so every flip is attributed to switches.

use serde::Serialize;
use serde_json::Value;

use crate::compare::{verdict_of_runs, Change};
use crate::kernel::{self, Kernel, SWITCHES};
use crate::outcome::{Outcome, OutcomeKind, RunResult};
use crate::report::grid::{Column, Field, Grid};
use crate::run::{Job, Runner};
use crate::scenario::Scenario;
use crate::spec::{Policy, Release, RunSpec};

/// The kernels `history` runs when none are named: the first and last modelled 2.6.3x releases,
/// then every later release.
pub fn default_releases() -> Vec<String> {
    let mut v = vec!["2.6.32".to_string(), "2.6.36".to_string()];
    v.extend(kernel::LATER.iter().map(|l| l.name.to_string()));
    v
}

/// The schema tag of `history --format json`.
pub const SCHEMA: &str = "wbsim/history/1";

/// `history --format json` (`schemas/history.schema.json`).
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct HistoryDocument {
    /// [`SCHEMA`].
    pub schema: String,
    /// `scenario.name`.
    pub scenario: String,
    /// The file as given.
    pub file: String,
    /// `machine.page_granularity` when coarser than 4 KiB.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_granularity: Option<String>,
    /// The kernels, oldest first.
    pub releases: Vec<String>,
    /// Each cell's outcome under each kernel.
    pub cells: Vec<HistoryCell>,
    /// Every outcome change between consecutive kernels, with the switches behind it.
    pub flips: Vec<FlipRecord>,
    /// Each cell's redirty/activate verdict under each kernel.
    pub verdicts: Vec<VerdictRecord>,
    /// The verdicts, one line per cell.
    pub verdict_lines: Vec<String>,
    /// Runs simulated (table runs plus attribution runs).
    pub runs: usize,
    /// What produced it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provenance: Option<crate::report::document::Provenance>,
}

/// One cell (policy included) under every kernel.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct HistoryCell {
    /// The cell label.
    pub cell: String,
    /// Under each kernel, in `releases` order.
    pub outcomes: Vec<ReleaseOutcome>,
}

/// How a cell ended under one kernel.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct ReleaseOutcome {
    /// The kernel.
    pub release: String,
    /// `survived`, `OOM`, `stalled`, …
    pub outcome: String,
    /// When the run ended, seconds.
    pub at_s: f64,
    /// The OOM victim, if any.
    pub victim: Option<String>,
}

/// An outcome change between two consecutive kernels.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct FlipRecord {
    /// The cell label.
    pub cell: String,
    /// The earlier kernel.
    pub from: String,
    /// The later kernel.
    pub to: String,
    /// The outcome under `from`.
    pub before: String,
    /// The outcome under `to`.
    pub after: String,
    /// `alone` (each switch flips it by itself) or `combination`.
    pub cause: String,
    /// The switches.
    pub switches: Vec<SwitchSetting>,
}

/// A switch setting named as a cause.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct SwitchSetting {
    /// The switch key.
    pub switch: String,
    /// Its value under the later kernel.
    pub value: String,
    /// What that value means, with the release and commit.
    pub describe: String,
}

/// A cell's redirty/activate verdict under one kernel.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct VerdictRecord {
    /// The cell label without the policy.
    pub cell: String,
    /// The kernel.
    pub release: String,
    /// `fix`, `regression`, `delayed`, `earlier`, `unchanged`.
    pub verdict: String,
    /// The shift of the OOM time for `delayed`/`earlier`, seconds.
    pub shift_s: Option<f64>,
}

/// Switch settings, `(key, value)`.
type Settings = Vec<(&'static str, &'static str)>;

/// How a cell ended under one kernel, as the history table shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CellOutcome {
    /// Its kind.
    pub kind: OutcomeKind,
    /// When the run ended, ns.
    pub at_ns: u64,
    /// The OOM victim, if any.
    pub victim: Option<String>,
}

impl CellOutcome {
    fn of(r: &RunResult) -> CellOutcome {
        CellOutcome {
            kind: r.outcome.kind(),
            at_ns: r.outcome.at_ns(),
            victim: match &r.outcome {
                Outcome::Oom { victim, .. } => Some(victim.clone()),
                _ => None,
            },
        }
    }

    fn short(&self) -> String {
        let secs = format!("{:.1}s", self.at_ns as f64 / 1e9);
        match self.kind {
            OutcomeKind::Oom => format!("OOM {secs}"),
            OutcomeKind::Stalled => format!("stalled {secs}"),
            OutcomeKind::Survived => "survived".to_string(),
        }
    }
}

/// Why an outcome changed between two consecutive kernels.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cause {
    /// These switches each flip the outcome alone, `(key, value)`.
    Alone(Settings),
    /// No single switch flips it; together these do.
    Combination(Settings),
}

/// One outcome change.
#[derive(Clone, Debug)]
pub struct Flip {
    /// Index of the cell.
    pub cell: usize,
    /// Index of the earlier kernel in `releases`.
    pub step: usize,
    /// The cause.
    pub cause: Cause,
}

/// The history of one scenario.
#[derive(Clone, Debug)]
pub struct History {
    /// `scenario.name`.
    pub name: String,
    /// The file.
    pub file: String,
    /// The kernels, in order.
    pub releases: Vec<String>,
    /// Cell labels (policy included).
    pub cells: Vec<String>,
    /// Each cell's label without the policy (the scenario name when the policy is the only
    /// axis) and its policy: what the compact table and the policy verdicts group by.
    pub sides: Vec<(String, Policy)>,
    /// `outcomes[cell][release]`.
    pub outcomes: Vec<Vec<CellOutcome>>,
    /// Every outcome change, by cell then step.
    pub flips: Vec<Flip>,
    /// How many runs it took (table runs plus attribution runs).
    pub runs: usize,
    /// `machine.page_granularity` when coarser than 4 KiB (`spec::coarse_page_summary`).
    pub page_granularity: Option<String>,
}

/// The run spec of `base` under kernel profile `name`, keeping the scenario's `[kernel]` settings.
fn under(base: &RunSpec, name: &str) -> anyhow::Result<RunSpec> {
    let mut k = Kernel::profile(name).ok_or_else(|| {
        anyhow::anyhow!(
            "`{name}` is not a kernel release; expected one of {}",
            Kernel::profile_names().join(", ")
        )
    })?;
    for o in &base.kernel.overrides {
        let (key, value) = o.split_once('=').expect("overrides are key=value");
        k.set(key, value).map_err(anyhow::Error::msg)?;
    }
    let mut spec = base.clone();
    spec.release = k.base;
    spec.kernel = k;
    Ok(spec)
}

/// One history: the scenario, the kernels and the runner, and how to reproduce a run of it.
struct Study<'a> {
    sc: &'a Scenario,
    releases: &'a [String],
    runner: &'a Runner,
}

impl Study<'_> {
    /// Runs `specs` (each of cell `cells[i]`); a failed check names the cell and reproduces the
    /// whole history of it.
    fn run_all(&self, specs: &[RunSpec], cells: &[usize]) -> anyhow::Result<Vec<RunResult>> {
        let jobs: Vec<Job<'_>> = specs
            .iter()
            .map(|spec| Job {
                spec,
                name: format!("{} {}", self.sc.name, spec.kernel.display_name()),
            })
            .collect();
        let outputs = self.runner.run(&jobs).map_err(|failed| {
            let run = &self.sc.runs[cells[failed.job]];
            let command = self.reproduce(run);
            failed.with_reproduce(&command)
        })?;
        Ok(outputs.into_iter().map(|o| o.result).collect())
    }

    /// `wbsim history FILE --set … --policy P --seed N --releases … [checks]` for one cell.
    fn reproduce(&self, run: &crate::scenario::PlannedRun) -> String {
        let plan =
            crate::report::build::plan(self.sc, crate::report::document::PlanCommand::Run, &[]);
        let cell = plan.reproduce(&self.sc.file, &run.components, run.spec.seed, None);
        format!(
            "{} --releases {}{}",
            cell.replacen("wbsim run ", "wbsim history ", 1),
            self.releases.join(","),
            self.runner.checks.flags()
        )
    }
}

/// Runs the history of `sc` over `releases` with `runner`.
pub fn history(sc: &Scenario, releases: &[String], runner: &Runner) -> anyhow::Result<History> {
    if let Some(a) = sc
        .axes
        .iter()
        .find(|a| a.path == "scenario.release" || a.path.starts_with("kernel."))
    {
        anyhow::bail!(
            "{}: `history` varies the kernel itself; remove the `{}` axis from [matrix] (or restrict it with --set {}=VALUE)",
            sc.file,
            a.path,
            a.path
        );
    }
    if releases.len() < 2 {
        anyhow::bail!("`history` needs at least two releases to compare");
    }
    let study = Study {
        sc,
        releases,
        runner,
    };
    let n = releases.len();
    let mut specs = Vec::new();
    for run in &sc.runs {
        for r in releases {
            specs.push(under(&run.spec, r)?);
        }
    }
    let cells: Vec<usize> = (0..specs.len()).map(|i| i / n).collect();
    let results = study.run_all(&specs, &cells)?;
    let outcomes: Vec<Vec<CellOutcome>> = results
        .chunks(n)
        .map(|row| row.iter().map(CellOutcome::of).collect())
        .collect();
    let (flips, probe_runs) = attribute(&study, &specs, &outcomes)?;
    Ok(History {
        name: sc.name.clone(),
        file: sc.file.clone(),
        releases: releases.to_vec(),
        cells: sc.runs.iter().map(|r| r.label.clone()).collect(),
        sides: sides_of(sc),
        outcomes,
        flips,
        runs: results.len() + probe_runs,
        page_granularity: crate::spec::coarse_page_summary(
            sc.runs
                .iter()
                .map(|r| r.spec.machine.coarse_page())
                .collect::<Vec<_>>()
                .iter()
                .map(Option::as_deref),
        ),
    })
}

/// Each run's cell label without the policy (the scenario name when nothing else varies) and
/// its policy.
pub fn sides_of(sc: &Scenario) -> Vec<(String, Policy)> {
    sc.runs
        .iter()
        .map(|run| {
            let key = if run.label_without_policy.is_empty() {
                sc.name.clone()
            } else {
                run.label_without_policy.clone()
            };
            (key, run.spec.policy)
        })
        .collect()
}

/// Each step that flips an outcome, with its cause: the one switch the step turns on, or, when it turns on several, each switch tried alone under
/// the earlier kernel (the runs this costs are the second value).
fn attribute(
    study: &Study<'_>,
    specs: &[RunSpec],
    outcomes: &[Vec<CellOutcome>],
) -> anyhow::Result<(Vec<Flip>, usize)> {
    let n = study.releases.len();
    let mut probes: Vec<(usize, usize, &'static str, &'static str)> = Vec::new();
    let mut pending: Vec<(usize, usize, Settings)> = Vec::new();
    let mut flips = Vec::new();
    for (c, row) in outcomes.iter().enumerate() {
        for step in (0..n - 1).filter(|&s| row[s].kind != row[s + 1].kind) {
            let (a, b) = (&specs[c * n + step], &specs[c * n + step + 1]);
            let changed: Settings = kernel::diff(&a.kernel.switches, &b.kernel.switches)
                .into_iter()
                .map(|(k, _, to)| (k, to))
                .collect();
            // Kernels with the same switches run the same rules: an outcome cannot differ.
            debug_assert!(
                !changed.is_empty(),
                "a flip between kernels with equal switches"
            );
            let cause = if changed.len() <= 1 {
                Cause::Alone(changed)
            } else {
                probes.extend(changed.iter().map(|&(k, v)| (c, step, k, v)));
                pending.push((c, step, changed));
                continue;
            };
            flips.push(Flip {
                cell: c,
                step,
                cause,
            });
        }
    }
    let probe_specs: Vec<RunSpec> = probes
        .iter()
        .map(|&(c, step, k, v)| {
            let mut s = specs[c * n + step].clone();
            s.kernel.set(k, v).expect("a switch value from the table");
            s
        })
        .collect();
    let cells: Vec<usize> = probes.iter().map(|p| p.0).collect();
    let probe_results = study.run_all(&probe_specs, &cells)?;
    for (c, step, changed) in pending {
        let before = outcomes[c][step].kind;
        let alone: Settings = probes
            .iter()
            .zip(&probe_results)
            .filter(|((pc, ps, _, _), r)| *pc == c && *ps == step && r.outcome.kind() != before)
            .map(|((_, _, k, v), _)| (*k, *v))
            .collect();
        let cause = if alone.is_empty() {
            Cause::Combination(changed)
        } else {
            Cause::Alone(alone)
        };
        flips.push(Flip {
            cell: c,
            step,
            cause,
        });
    }
    flips.sort_by_key(|f| (f.cell, f.step));
    Ok((flips, probe_results.len()))
}

/// `key=value (since, cite)` for a switch setting.
fn describe(key: &str, value: &str) -> String {
    let info = SWITCHES
        .iter()
        .find(|s| s.key == key)
        .expect("a switch of the table");
    let i = info.values.iter().position(|v| *v == value);
    let since = i.map_or("?", |i| info.since[i]);
    let cite = i.map_or("", |i| info.cites[i]);
    format!("{key}={value} ({since}: {cite})")
}

impl History {
    /// One line per flip: `cell: A → B: OOM → survived — cause`.
    pub fn flip_lines(&self) -> Vec<String> {
        self.flips
            .iter()
            .map(|f| {
                let (a, b) = (&self.releases[f.step], &self.releases[f.step + 1]);
                let (va, vb) = (
                    &self.outcomes[f.cell][f.step],
                    &self.outcomes[f.cell][f.step + 1],
                );
                let cause = match &f.cause {
                    Cause::Alone(v) => v
                        .iter()
                        .map(|(k, x)| describe(k, x))
                        .collect::<Vec<_>>()
                        .join("; or alone: "),
                    Cause::Combination(v) => format!(
                        "only together: {}",
                        v.iter()
                            .map(|(k, x)| describe(k, x))
                            .collect::<Vec<_>>()
                            .join(" + ")
                    ),
                };
                format!(
                    "{}: {a} → {b}: {} → {} — {cause}",
                    self.cells[f.cell],
                    va.kind.word(),
                    vb.kind.word()
                )
            })
            .collect()
    }

    /// The cells without their policy, in first-seen order, each with the index of its cell
    /// under each policy present.
    fn keys(&self) -> Vec<(&str, Vec<(Policy, usize)>)> {
        let mut keys: Vec<(&str, Vec<(Policy, usize)>)> = Vec::new();
        for (c, (key, policy)) in self.sides.iter().enumerate() {
            match keys.iter_mut().find(|(k, _)| k == key) {
                Some((_, v)) => v.push((*policy, c)),
                None => keys.push((key, vec![(*policy, c)])),
            }
        }
        keys
    }

    /// `(verdict, shift s)` of redirty → activate for cell `key`'s cells on kernel `r` (`None`
    /// when the cell does not run both policies).
    fn verdict(&self, cells: &[(Policy, usize)], r: usize) -> Option<(Change, Option<f64>)> {
        let of = |p: Policy| cells.iter().find(|(q, _)| *q == p).map(|&(_, c)| c);
        let side = |c: usize| {
            let o = &self.outcomes[c][r];
            (o.kind, o.at_ns as f64 / 1e9)
        };
        Some(verdict_of_runs(
            side(of(Policy::Redirty)?),
            side(of(Policy::Activate)?),
        ))
    }

    /// The policy verdicts across kernels, one line per cell that runs both policies: on which
    /// kernels `activate` turns the OOM into survival and on which it does not.
    pub fn verdict_lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (key, cells) in self.keys() {
            let mut by: Vec<(Change, Vec<String>)> = Vec::new();
            let mut redirty_oom = Vec::new();
            for (r, release) in self.releases.iter().enumerate() {
                let Some((v, shift)) = self.verdict(&cells, r) else {
                    continue;
                };
                let words = match v {
                    Change::Delayed | Change::Earlier => format!(
                        "{release} ({})",
                        v.words(shift).split_once(' ').map_or("", |(_, s)| s)
                    ),
                    _ => release.clone(),
                };
                match by.iter_mut().find(|(c, _)| *c == v) {
                    Some((_, list)) => list.push(words),
                    None => by.push((v, vec![words])),
                }
                let redirty = cells.iter().find(|(p, _)| *p == Policy::Redirty);
                if redirty.is_some_and(|&(_, c)| self.outcomes[c][r].kind == OutcomeKind::Oom) {
                    redirty_oom.push(release.as_str());
                }
            }
            if by.is_empty() {
                continue;
            }
            out.push(verdict_line(key, &by, &redirty_oom));
        }
        out
    }

    /// The table with the policy verdicts and flip lines under it, for text and Markdown: one
    /// row per cell and kernel, a column per policy and the verdict (fits 100 columns), or with
    /// `wide` the cells × kernels table.
    pub fn grid(&self, wide: bool) -> Grid {
        if wide {
            return self.wide_grid();
        }
        let policies: Vec<Policy> = Policy::ALL
            .into_iter()
            .filter(|p| self.sides.iter().any(|(_, q)| q == p))
            .collect();
        let both = policies.contains(&Policy::Redirty) && policies.contains(&Policy::Activate);
        let mut columns = vec![Column::left("cell"), Column::left("kernel")];
        columns.extend(policies.iter().map(|p| Column::left(p.name())));
        if both {
            columns.push(Column::left("verdict"));
        }
        let mut rows = Vec::new();
        for (key, cells) in self.keys() {
            for (r, release) in self.releases.iter().enumerate() {
                let mut row = vec![Field::text(key), Field::text(release)];
                for p in &policies {
                    row.push(
                        cells
                            .iter()
                            .find(|(q, _)| q == p)
                            .map_or(Field::Null, |&(_, c)| {
                                Field::Text(self.outcomes[c][r].short())
                            }),
                    );
                }
                if both {
                    row.push(
                        self.verdict(&cells, r)
                            .map_or(Field::Null, |(v, shift)| Field::Text(v.words(shift))),
                    );
                }
                rows.push(row);
            }
        }
        let mut grid = self.wide_grid();
        grid.columns = columns;
        grid.rows = rows;
        let mut notes = self.verdict_lines();
        notes.append(&mut grid.notes);
        grid.notes = notes.iter().flat_map(|n| wrap(n, 100)).collect();
        grid
    }

    /// The cells × kernels table with the flip lines under it (`--wide`).
    fn wide_grid(&self) -> Grid {
        let mut columns = vec![Column::left("cell")];
        columns.extend(self.releases.iter().map(Column::left));
        let rows = self
            .cells
            .iter()
            .enumerate()
            .map(|(c, label)| {
                let mut row = vec![Field::text(label)];
                row.extend(self.outcomes[c].iter().map(|v| Field::Text(v.short())));
                row
            })
            .collect();
        let mut notes = self.flip_lines();
        if notes.is_empty() {
            notes.push("no outcome changes between consecutive kernels".into());
        }
        Grid {
            title: format!(
                "{} — history over {} kernels{} ({})",
                self.name,
                self.releases.len(),
                self.page_granularity
                    .as_ref()
                    .map_or_else(String::new, |p| format!(", page granularity {p}")),
                self.file
            ),
            columns,
            rows,
            notes,
        }
    }

    /// One row per cell and kernel, for CSV.
    pub fn flat_grid(&self) -> Grid {
        let columns = vec![
            Column::left("scenario"),
            Column::left("cell"),
            Column::left("release"),
            Column::left("outcome"),
            Column::right("at_s"),
            Column::left("victim"),
        ];
        let mut rows = vec![];
        for (c, label) in self.cells.iter().enumerate() {
            for (r, v) in self.releases.iter().zip(&self.outcomes[c]) {
                rows.push(vec![
                    Field::text(&self.name),
                    Field::text(label),
                    Field::text(r),
                    Field::text(v.kind.name()),
                    Field::float(v.at_ns as f64 / 1e9, 1),
                    Field::opt_text(v.victim.as_deref()),
                ]);
            }
        }
        Grid {
            title: String::new(),
            columns,
            rows,
            notes: vec![],
        }
    }

    /// `wbsim/history/1` as a JSON value.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self.document()).expect("a history document is JSON")
    }

    /// `wbsim/history/1` (without provenance, which the command adds).
    pub fn document(&self) -> HistoryDocument {
        let cells = self
            .cells
            .iter()
            .zip(&self.outcomes)
            .map(|(label, outcomes)| HistoryCell {
                cell: label.clone(),
                outcomes: self
                    .releases
                    .iter()
                    .zip(outcomes)
                    .map(|(r, v)| ReleaseOutcome {
                        release: r.clone(),
                        outcome: v.kind.name().to_string(),
                        at_s: v.at_ns as f64 / 1e9,
                        victim: v.victim.clone(),
                    })
                    .collect(),
            })
            .collect();
        let mut verdicts = Vec::new();
        for (key, cells) in self.keys() {
            for (r, release) in self.releases.iter().enumerate() {
                if let Some((v, shift)) = self.verdict(&cells, r) {
                    verdicts.push(VerdictRecord {
                        cell: key.to_string(),
                        release: release.clone(),
                        verdict: v.name().to_string(),
                        shift_s: shift,
                    });
                }
            }
        }
        HistoryDocument {
            schema: SCHEMA.to_string(),
            scenario: self.name.clone(),
            file: self.file.clone(),
            page_granularity: self.page_granularity.clone(),
            releases: self.releases.clone(),
            cells,
            flips: self.flips.iter().map(|f| self.flip_record(f)).collect(),
            verdicts,
            verdict_lines: self.verdict_lines(),
            runs: self.runs,
            provenance: None,
        }
    }

    /// One outcome change as the document records it.
    fn flip_record(&self, f: &Flip) -> FlipRecord {
        let (cause, settings) = match &f.cause {
            Cause::Alone(v) => ("alone", v),
            Cause::Combination(v) => ("combination", v),
        };
        FlipRecord {
            cell: self.cells[f.cell].clone(),
            from: self.releases[f.step].clone(),
            to: self.releases[f.step + 1].clone(),
            before: self.outcomes[f.cell][f.step].kind.name().to_string(),
            after: self.outcomes[f.cell][f.step + 1].kind.name().to_string(),
            cause: cause.to_string(),
            switches: settings
                .iter()
                .map(|(k, v)| SwitchSetting {
                    switch: k.to_string(),
                    value: v.to_string(),
                    describe: describe(k, v),
                })
                .collect(),
        }
    }
}

/// The policy verdict line of cell `key`: the kernels of each verdict, fixes first.
fn verdict_line(key: &str, by: &[(Change, Vec<String>)], redirty_oom: &[&str]) -> String {
    let on = |c: Change| by.iter().find(|(v, _)| *v == c).map(|(_, l)| l.join(", "));
    if redirty_oom.is_empty() && on(Change::Regression).is_none() {
        return format!("{key}: no OOM under redirty on any kernel, activate changes nothing");
    }
    let oom_both: Vec<&str> = by
        .iter()
        .filter(|(v, _)| matches!(v, Change::Unchanged | Change::Delayed | Change::Earlier))
        .flat_map(|(_, l)| l.iter())
        .map(|r| r.split(' ').next().unwrap_or(r))
        .filter(|r| redirty_oom.contains(r))
        .collect();
    let both = oom_both.join(", ");
    let mut line = match (on(Change::Fix), both.is_empty()) {
        (Some(list), true) => format!("{key}: activate turns the OOM into survival on {list}"),
        (Some(list), false) => format!(
            "{key}: activate turns the OOM into survival on {list}; not on {both} (OOM under both)"
        ),
        (None, true) => format!("{key}: activate turns the OOM into survival on no kernel"),
        (None, false) => format!(
            "{key}: activate turns the OOM into survival on no kernel (OOM under both on {both})"
        ),
    };
    for (c, what) in [
        (Change::Delayed, "activate delays the OOM on"),
        (Change::Earlier, "activate brings the OOM earlier on"),
        (
            Change::Regression,
            "activate OOMs where redirty survives on",
        ),
    ] {
        if let Some(list) = on(c) {
            line.push_str(&format!("; {what} {list}"));
        }
    }
    line
}

/// `line` broken at spaces into lines of at most `width` columns, the continuations indented by
/// two spaces (a word longer than the width stays whole).
pub fn wrap(line: &str, width: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut cur = String::new();
    for word in line.split(' ') {
        let fresh = cur.is_empty() || (cur == "  " && !out.is_empty());
        if !fresh && cur.chars().count() + 1 + word.chars().count() > width {
            out.push(std::mem::take(&mut cur));
            cur.push_str("  ");
        } else if !fresh {
            cur.push(' ');
        }
        cur.push_str(word);
    }
    out.push(cur);
    out
}

/// Whether `name` is a kernel `history` accepts.
pub fn is_release(name: &str) -> bool {
    Kernel::profile(name).is_some() || Release::from_name(name).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_wrap_at_spaces_with_an_indent() {
        let line = "a ".repeat(60) + "end";
        let lines = wrap(&line, 100);
        assert_eq!(lines.len(), 2);
        assert!(lines.iter().all(|l| l.chars().count() <= 100));
        assert!(lines[1].starts_with("  a"));
        assert_eq!(lines.join(" ").split_whitespace().count(), 61);
        assert_eq!(wrap("short", 100), ["short"]);
    }

    #[test]
    fn the_default_series_starts_at_2_6_32_and_ends_at_mainline() {
        let r = default_releases();
        assert_eq!(r.first().map(String::as_str), Some("2.6.32"));
        assert_eq!(r.last().map(String::as_str), Some("mainline"));
        assert!(r.iter().all(|n| is_release(n)));
    }

    #[test]
    fn a_switch_is_described_with_its_release_and_commit() {
        let d = describe("reclaim_fs_writepage", "kswapd-priority");
        assert!(
            d.starts_with("reclaim_fs_writepage=kswapd-priority (3.2:"),
            "{d}"
        );
        assert!(d.contains("ee72886d8ed5"), "{d}");
    }
}
