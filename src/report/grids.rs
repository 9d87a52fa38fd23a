//! What the rows are: the grids every format but JSON renders from the document. Per scenario,
//! the OOM-versus-survive table with one line per policy pair (text and Markdown) and mmtests'
//! rows, the flat one-row-per-run table (CSV), the threshold table, and the check table.

use super::document::{Document, RunRecord, ScenarioRecord, ThresholdPlan, ThresholdRecord};
use super::grid::{Column, Field, Grid};
use super::mmtests::MmtestsValue;
use super::View;
use crate::outcome::OutcomeKind;

/// The title line of a scenario: `name — release R, seed S (file)`, with `, page granularity G`
/// before the file when its runs simulate pages coarser than 4 KiB (never silently).
pub fn title(sc: &ScenarioRecord) -> String {
    let release = sc.release.as_deref().unwrap_or("(varies)");
    let seed = sc
        .seed
        .map_or_else(|| "(varies)".to_string(), |s| s.to_string());
    let page =
        crate::spec::coarse_page_summary(sc.runs.iter().map(|r| r.page_granularity.as_deref()))
            .map_or_else(String::new, |p| format!(", page granularity {p}"));
    let replicas = match sc.plan.replicas {
        0 | 1 => String::new(),
        n => format!(" × {n} replicas"),
    };
    let mut t = format!(
        "{} — release {release}, seed {seed}{replicas}{page} ({})",
        sc.name, sc.file
    );
    if let Some(s) = &sc.shard {
        t.push_str(&format!(
            " [shard {}/{}: {} of {}]",
            s.index,
            s.count,
            s.items.len(),
            s.total
        ));
    }
    t
}

/// The non-policy axes' column headings: the last path component, or the whole path when two
/// axes share it.
fn axis_headings(sc: &ScenarioRecord) -> Vec<String> {
    let heading = |p: &str| p.rsplit('.').next().unwrap_or(p).to_string();
    let axes = sc.plan.cell_paths();
    axes.iter()
        .map(|p| {
            let h = heading(p);
            if axes.iter().filter(|q| heading(q) == h).count() > 1 {
                p.clone()
            } else {
                h
            }
        })
        .collect()
}

/// A stream writer's progress: `42.0 s` when it finished, else the percentage of bytes written.
pub fn writer_progress(result: &RunRecord, name: &str) -> String {
    let Some(report) = result.tasks.iter().find(|t| t.name == name) else {
        return "-".into();
    };
    if let Some(at) = report.finished_at_ns {
        return format!("{} s", super::secs(at));
    }
    let Some(total) = report.total_bytes else {
        return "-".into();
    };
    let total = total.max(1);
    let percent = u128::from(report.done_bytes.min(total)) * 100 / u128::from(total);
    format!("{percent}%")
}

/// Per scenario: the table `wbsim run` prints (the narrow one, or per cell and policy over the
/// replicas, or with `--wide` every field of every run), then mmtests' derived rows with
/// `--mmtests` or `--wide`.
pub fn run_grids(doc: &Document, view: View) -> Vec<Grid> {
    doc.scenarios
        .iter()
        .flat_map(|sc| {
            let main = if view.wide {
                run_grid(sc)
            } else if sc.plan.replicas > 1 {
                summary_grid(sc)
            } else {
                narrow_grid(sc)
            };
            let mmtests = (view.wide || view.mmtests).then(|| mmtests_grid(sc));
            let margins = sc.margins.as_deref().map(margin_grid);
            std::iter::once(main)
                .chain(margins)
                .chain(mmtests.flatten())
        })
        .collect()
}

/// The default table: one row per run, at most 100 columns for any shipped scenario: the cell,
/// the policy, how it ended, the victim and invoker, the stream writers' progress, and the two
/// counters that tell a refusal story from a capacity one (`refused`: writepage calls reclaim
/// could not use; `allocstall`: direct reclaim entries).
fn narrow_grid(sc: &ScenarioRecord) -> Grid {
    let mut columns = vec![Column::left("cell"), Column::left("policy")];
    columns.push(Column::left("outcome"));
    columns.push(Column::right("at s"));
    columns.push(Column::left("killed/by"));
    let writers = &sc.plan.stream_writers;
    columns.extend(writers.iter().map(Column::right));
    columns.extend(["refused", "allocstall"].map(Column::right));
    let rows = sc
        .runs_with_components()
        .iter()
        .map(|(components, run)| {
            let cell = crate::scenario::matrix::label(&sc.plan.without_policy(components));
            let o = &run.outcome;
            let mut row = vec![
                Field::Text(if cell.is_empty() {
                    sc.name.clone()
                } else {
                    cell
                }),
                Field::text(run.policy.name()),
                Field::text(o.kind.word()),
                Field::float(o.at_s, 1),
                killed(run),
            ];
            row.extend(writers.iter().map(|w| Field::Text(writer_progress(run, w))));
            let r = run.vmstat.reclaim();
            row.push(Field::UInt(run.counters.writepage_refused));
            row.push(Field::UInt(r.allocstall));
            row
        })
        .collect();
    Grid {
        title: title(sc),
        columns,
        rows,
        notes: comparison_lines(sc),
    }
}

/// `victim/invoker` (heading `killed/by`) of an OOM (`(panic)/dd` when the killer panicked), nothing otherwise.
fn killed(run: &RunRecord) -> Field {
    let o = &run.outcome;
    if o.kind != OutcomeKind::Oom {
        return Field::Null;
    }
    let victim = match o.victim.as_deref() {
        None | Some("") => "(panic)",
        Some(v) => v,
    };
    Field::Text(format!("{victim}/{}", o.invoker.as_deref().unwrap_or("?")))
}

/// `--margin`: per cell and policy, the bracket where the OOM rate crosses 50 %, then the answer
/// lines.
fn margin_grid(margins: &[crate::margin::MarginRecord]) -> Grid {
    let probe =
        |p: &crate::margin::Probe| Field::Text(format!("{} ({}/{})", p.value, p.oom, p.runs));
    let rows = margins
        .iter()
        .map(|m| {
            vec![
                Field::text(&m.cell),
                Field::text(m.policy.name()),
                probe(&m.below),
                probe(&m.above),
                Field::opt_text(m.threshold.as_deref()),
                Field::UInt(u64::from(m.probes)),
            ]
        })
        .collect();
    let path = margins.first().map_or("", |m| m.path.as_str());
    Grid {
        title: format!("margin of {path}: where the OOM rate crosses 50 % (OOMs/replicas)"),
        columns: vec![
            Column::left("cell"),
            Column::left("policy"),
            Column::right("below"),
            Column::right("above"),
            Column::right("threshold"),
            Column::right("probes"),
        ],
        rows,
        notes: crate::margin::answer_lines(margins),
    }
}

/// With replicas: one row per cell and policy with the OOM count, its 95 % Wilson interval, and
/// the median (range) of the time to OOM and of the survivors' completion.
fn summary_grid(sc: &ScenarioRecord) -> Grid {
    let mut columns = vec![Column::left("cell"), Column::left("policy")];
    columns.extend(["OOM", "95% interval", "OOM at s", "survived at s"].map(Column::right));
    let spread = |s: &Option<super::document::Spread>| match s {
        Some(s) if s.min == s.max => Field::Text(format!("{:.1}", s.median)),
        Some(s) => Field::Text(format!("{:.1} ({:.1}–{:.1})", s.median, s.min, s.max)),
        None => Field::Null,
    };
    let rows = sc
        .summaries
        .iter()
        .map(|s| {
            vec![
                Field::text(&s.cell),
                Field::text(s.policy.name()),
                Field::Text(format!("{}/{}", s.oom, s.runs)),
                Field::Text(format!(
                    "{:.0}–{:.0} %",
                    s.oom_interval.0 * 100.0,
                    s.oom_interval.1 * 100.0
                )),
                spread(&s.oom_at_s),
                spread(&s.survived_at_s),
            ]
        })
        .collect();
    let mut notes = vec![format!(
        "noise: {}",
        sc.plan.noise.map_or("none".into(), |n| n.describe())
    )];
    notes.extend(comparison_lines(sc));
    if let Some((components, run)) = sc.runs_with_components().into_iter().nth(1) {
        notes.push(format!(
            "every replica's seed: --wide or --format csv; replica {} of {} alone:",
            run.replica.unwrap_or(0),
            run.label,
        ));
        notes.push(format!(
            "  {}",
            sc.plan.reproduce(&sc.file, &components, run.seed, None)
        ));
    }
    Grid {
        title: title(sc),
        columns,
        rows,
        notes,
    }
}

/// mmtests' compare layout: one row per derived row, labelled as compare-kernels prints it
/// (`Ops Kswapd efficiency %`), one column per run.
fn mmtests_grid(sc: &ScenarioRecord) -> Option<Grid> {
    let per_run: Vec<_> = sc
        .runs
        .iter()
        .map(|r| r.mmtests.as_ref())
        .collect::<Option<_>>()?;
    let first = per_run.first()?;
    let mut columns = vec![Column::left("mmtests vmstat")];
    columns.extend(sc.runs.iter().map(|r| Column::right(&r.label)));
    let rows = first
        .iter()
        .map(|(key, _)| {
            let label = super::mmtests::label_of(key).unwrap_or(key);
            let mut row = vec![Field::text(super::mmtests::compare_label(label))];
            row.extend(per_run.iter().map(|m| match m.get(key) {
                Some(MmtestsValue::Count(n)) => Field::UInt(n),
                Some(MmtestsValue::Number(x)) => Field::float(x, 2),
                None => Field::Null,
            }));
            row
        })
        .collect();
    Some(Grid {
        title: String::new(),
        columns,
        rows,
        notes: vec![],
    })
}

/// The counter columns of the run table, after the writers' progress.
const COUNTER_COLUMNS: [&str; 7] = [
    "pgscan",
    "pgsteal",
    "nr_vmscan_write",
    "refused",
    "pgrotated",
    "allocstall",
    "flusher MiB",
];

fn run_grid(sc: &ScenarioRecord) -> Grid {
    let mut columns: Vec<Column> = axis_headings(sc).into_iter().map(Column::left).collect();
    columns.push(Column::left("policy"));
    if sc.plan.replicas > 1 {
        columns.push(Column::right("seed"));
    }
    columns.push(Column::left("outcome"));
    columns.push(Column::right("at"));
    columns.extend(["victim", "invoker", "constraint"].map(Column::left));
    columns.extend(
        sc.plan
            .stream_writers
            .iter()
            .map(|w| Column::right(format!("{w} done"))),
    );
    columns.extend(COUNTER_COLUMNS.map(Column::right));
    let rows = sc
        .runs_with_components()
        .iter()
        .map(|(components, run)| {
            let mut row: Vec<Field> = sc
                .plan
                .without_policy(components)
                .into_iter()
                .map(Field::Text)
                .collect();
            row.push(Field::text(run.policy.name()));
            if sc.plan.replicas > 1 {
                row.push(Field::UInt(run.seed));
            }
            row.extend(outcome_fields(run));
            let writers = sc.plan.stream_writers.iter();
            row.extend(writers.map(|w| Field::Text(writer_progress(run, w))));
            row.extend(counter_fields(run));
            row
        })
        .collect();
    Grid {
        title: title(sc),
        columns,
        rows,
        notes: comparison_lines(sc),
    }
}

/// One line per redirty/activate pair ([`crate::compare::line`]).
fn comparison_lines(sc: &ScenarioRecord) -> Vec<String> {
    sc.comparisons.iter().map(crate::compare::line).collect()
}

/// outcome, at, victim, invoker, constraint.
fn outcome_fields(run: &RunRecord) -> Vec<Field> {
    let o = &run.outcome;
    let mut v = vec![Field::text(o.kind.word()), Field::float(o.at_s, 1)];
    if o.kind == OutcomeKind::Oom {
        v.push(Field::text(match o.victim.as_deref() {
            None | Some("") => "(panic)",
            Some(x) => x,
        }));
        v.push(Field::opt_text(o.invoker.as_deref()));
        v.push(Field::text(match o.constraint {
            Some(crate::outcome::Constraint::Cpuset) => "cpuset",
            Some(crate::outcome::Constraint::MemoryPolicy) => "mempolicy",
            Some(crate::outcome::Constraint::None) => "none",
            None => "",
        }));
    } else {
        v.extend([Field::Null, Field::Null, Field::Null]);
    }
    v
}

/// The values of [`COUNTER_COLUMNS`].
fn counter_fields(run: &RunRecord) -> Vec<Field> {
    let r = run.vmstat.reclaim();
    let flusher_mib =
        run.counters.pages_written_by_writeback as f64 * 4096.0 / f64::from(1u32 << 20);
    let mut v: Vec<Field> = [
        r.pgscan(),
        r.pgsteal,
        r.nr_vmscan_write,
        run.counters.writepage_refused,
        r.pgrotated,
        r.allocstall,
    ]
    .map(Field::UInt)
    .into();
    v.push(Field::float(flusher_mib, 1));
    v
}

/// One grid per scenario with one flat row per run (CSV): every field of the run with the
/// axes under their full paths, and the command that reproduces the run.
pub fn flat_grids(doc: &Document) -> Vec<Grid> {
    doc.scenarios
        .iter()
        .flat_map(|sc| {
            let margins = sc
                .margins
                .as_deref()
                .map(|m| margin_flat_grid(&sc.file, &sc.name, None, m));
            std::iter::once(flat_grid(sc)).chain(margins)
        })
        .collect()
}

/// `--margin` in CSV: one row per cell and policy after the runs' rows, with the searched path,
/// the bracket (each end's value, OOMs and replicas) and the threshold; the runs' columns stay
/// empty on these rows and theirs on the runs' (`margin_path` tells them apart). `release` is
/// `study`'s kernel.
pub fn margin_flat_grid(
    file: &str,
    scenario: &str,
    release: Option<&str>,
    margins: &[crate::margin::MarginRecord],
) -> Grid {
    let mut columns: Vec<Column> = vec![Column::left("file"), Column::left("scenario")];
    if release.is_some() {
        columns.push(Column::left("release"));
    }
    columns.extend(
        [
            "cell",
            "policy",
            "margin_path",
            "margin_threshold",
            "margin_below",
            "margin_below_oom",
            "margin_below_runs",
            "margin_above",
            "margin_above_oom",
            "margin_above_runs",
            "margin_probes",
        ]
        .map(Column::left),
    );
    let rows = margins
        .iter()
        .map(|m| {
            let mut row = vec![Field::text(file), Field::text(scenario)];
            row.extend(release.map(Field::text));
            row.extend([
                Field::text(&m.cell),
                Field::text(m.policy.name()),
                Field::text(&m.path),
                Field::opt_text(m.threshold.as_deref()),
                Field::text(&m.below.value),
                Field::UInt(u64::from(m.below.oom)),
                Field::UInt(u64::from(m.below.runs)),
                Field::text(&m.above.value),
                Field::UInt(u64::from(m.above.oom)),
                Field::UInt(u64::from(m.above.runs)),
                Field::UInt(u64::from(m.probes)),
            ]);
            row
        })
        .collect();
    Grid {
        title: String::new(),
        columns,
        rows,
        notes: Vec::new(),
    }
}

fn flat_grid(sc: &ScenarioRecord) -> Grid {
    let mut columns: Vec<Column> = ["file", "scenario", "label"]
        .into_iter()
        .map(Column::left)
        .collect();
    columns.extend(sc.plan.cell_paths().iter().map(Column::left));
    columns.extend(FLAT_COLUMNS.map(Column::left));
    columns.extend(["replica", "comparison", "comparison_detail"].map(Column::left));
    columns.push(Column::left("reproduce"));
    let rows = sc
        .runs_with_components()
        .iter()
        .map(|(components, run)| {
            let mut row = vec![
                Field::text(&sc.file),
                Field::text(&sc.name),
                Field::text(&run.label),
            ];
            let cell = sc.plan.without_policy(components);
            row.extend(cell.into_iter().map(Field::Text));
            row.extend(flat_fields(run));
            row.push(
                run.replica
                    .map_or(Field::Null, |k| Field::UInt(u64::from(k))),
            );
            let key = crate::scenario::matrix::label(&sc.plan.without_policy(components));
            let key = if key.is_empty() { sc.name.clone() } else { key };
            match sc.comparisons.iter().find(|c| c.label == key) {
                Some(c) => {
                    row.push(Field::text(c.verdict.name()));
                    row.push(Field::Text(crate::compare::line(c)));
                }
                None => row.extend([Field::Null, Field::Null]),
            }
            let reproduce = sc.plan.reproduce(&sc.file, components, run.seed, None);
            row.push(Field::Text(reproduce));
            row
        })
        .collect();
    Grid {
        title: title(sc),
        columns,
        rows,
        notes: Vec::new(),
    }
}

/// The columns of a run in the flat table, between its axes and its reproduce command.
const FLAT_COLUMNS: [&str; 23] = [
    "policy",
    "release",
    "seed",
    "outcome",
    "at_s",
    "victim",
    "victim_pid",
    "invoker",
    "constraint",
    "reason",
    "sim_seconds",
    "events",
    "pgscan",
    "pgsteal",
    "nr_vmscan_write",
    "writepage_refused",
    "pgrotated",
    "allocstall",
    "pages_written_by_writeback",
    "pages_written_by_reclaim",
    "pages_written_by_journal",
    "reclaim_no_progress",
    "flusher_allocstall",
];

/// The values of [`FLAT_COLUMNS`].
fn flat_fields(run: &RunRecord) -> Vec<Field> {
    let o = &run.outcome;
    let r = run.vmstat.reclaim();
    let c = &run.counters;
    vec![
        Field::text(run.policy.name()),
        Field::text(&run.release),
        Field::UInt(run.seed),
        Field::text(o.kind.name()),
        Field::float(o.at_s, 1),
        Field::opt_text(o.victim.as_deref()),
        o.victim_pid
            .map_or(Field::Null, |p| Field::UInt(u64::from(p))),
        Field::opt_text(o.invoker.as_deref()),
        Field::opt_text(o.constraint.map(constraint_name)),
        Field::opt_text(o.reason.as_deref()),
        Field::float(run.sim_seconds, 1),
        Field::UInt(run.events),
        Field::UInt(r.pgscan()),
        Field::UInt(r.pgsteal),
        Field::UInt(r.nr_vmscan_write),
        Field::UInt(c.writepage_refused),
        Field::UInt(r.pgrotated),
        Field::UInt(r.allocstall),
        Field::UInt(c.pages_written_by_writeback),
        Field::UInt(c.pages_written_by_reclaim),
        Field::UInt(c.pages_written_by_journal),
        Field::UInt(c.reclaim_no_progress),
        Field::UInt(c.flusher_allocstall),
    ]
}

/// `CONSTRAINT_NONE` or `CONSTRAINT_CPUSET`, the kernel's spelling.
fn constraint_name(c: crate::outcome::Constraint) -> &'static str {
    c.name()
}

/// One grid per scenario of a threshold search: a row per cell and policy. `flat` adds the
/// file, the bracketing runs' details and their reproduce commands (CSV); otherwise the
/// commands that reproduce each flip are notes.
pub fn threshold_grids(doc: &Document, flat: bool) -> Vec<Grid> {
    doc.scenarios
        .iter()
        .map(|sc| match &sc.plan.threshold {
            Some(plan) => threshold_grid(sc, plan, flat),
            None => Grid::default(),
        })
        .collect()
}

fn threshold_grid(sc: &ScenarioRecord, plan: &ThresholdPlan, flat: bool) -> Grid {
    let mut columns: Vec<Column> = Vec::new();
    if flat {
        columns.extend(["file", "scenario", "label"].map(Column::left));
        columns.extend(sc.plan.cell_paths().into_iter().map(Column::left));
    } else {
        columns.extend(axis_headings(sc).into_iter().map(Column::left));
    }
    columns.extend(["policy", "path", "from", "to"].map(Column::left));
    columns.extend(["threshold", "below", "above"].map(Column::right));
    columns.push(Column::right("probes"));
    if flat {
        columns.extend(
            [
                "below_at_s",
                "above_at_s",
                "above_victim",
                "below_reproduce",
                "above_reproduce",
            ]
            .map(Column::left),
        );
    }
    let searches = sc
        .item_indices()
        .into_iter()
        .zip(sc.thresholds.iter().flatten());
    let rows = searches
        .clone()
        .map(|(i, t)| threshold_row(sc, &sc.plan.components(i), t, flat))
        .collect();
    let notes = if flat {
        Vec::new()
    } else {
        searches.map(|(_, t)| threshold_note(t, plan)).collect()
    };
    Grid {
        title: format!(
            "{} — threshold of {} in {}..{} (resolution {})",
            title(sc),
            plan.path,
            plan.lo,
            plan.hi,
            plan.resolution
        ),
        columns,
        rows,
        notes,
    }
}

fn threshold_row(
    sc: &ScenarioRecord,
    components: &[String],
    t: &ThresholdRecord,
    flat: bool,
) -> Vec<Field> {
    let mut row = Vec::new();
    if flat {
        row.extend([
            Field::text(&sc.file),
            Field::text(&sc.name),
            Field::text(&t.label),
        ]);
    }
    let cell = sc.plan.without_policy(components);
    row.extend(cell.into_iter().map(Field::Text));
    row.extend([
        Field::text(t.policy.name()),
        Field::text(&t.path),
        Field::text(t.from.name()),
        Field::text(t.to.name()),
        Field::opt_text(t.threshold.as_deref()),
        Field::text(&t.below.value),
        Field::text(&t.above.value),
        Field::UInt(t.probes as u64),
    ]);
    if flat {
        row.extend([
            Field::float(t.below.run.outcome.at_s, 1),
            Field::float(t.above.run.outcome.at_s, 1),
            Field::opt_text(t.above.run.outcome.victim.as_deref()),
            Field::text(&t.below.reproduce),
            Field::text(&t.above.reproduce),
        ]);
    }
    row
}

/// `cell: oom → survived at PATH = V (oom at W); reproduce: …`, or the no-flip line.
fn threshold_note(t: &ThresholdRecord, plan: &ThresholdPlan) -> String {
    let (from, to) = (t.from.name(), t.to.name());
    match &t.threshold {
        Some(v) => format!(
            "{}: {from} → {to} at {} = {v} ({from} at {}); reproduce: {}",
            t.label, t.path, t.below.value, t.above.reproduce
        ),
        None => format!(
            "{}: {from} over the whole range {}..{} (no flip)",
            t.label, plan.lo, plan.hi
        ),
    }
}

/// The check table: one grid per scenario, a row per check. `flat` (CSV) repeats the file and
/// scenario on every row; Markdown has them in the heading.
pub fn check_grids(doc: &Document, flat: bool) -> Vec<Grid> {
    doc.scenarios
        .iter()
        .map(|sc| {
            let checks = sc.checks.as_deref().unwrap_or_default();
            let mut columns = vec!["file", "scenario"];
            if !flat {
                columns.clear();
            }
            columns.extend(["result", "expect", "cell", "expected", "got", "reproduce"]);
            let rows = checks
                .iter()
                .map(|c| {
                    let mut row = Vec::new();
                    if flat {
                        row.extend([Field::text(&sc.file), Field::text(&sc.name)]);
                    }
                    row.extend([
                        Field::text(if c.pass { "PASS" } else { "FAIL" }),
                        Field::text(&c.expect),
                        Field::text(&c.cell),
                        Field::text(&c.expected),
                        Field::text(&c.got),
                        Field::text(&c.reproduce),
                    ]);
                    row
                })
                .collect();
            Grid {
                title: format!("{} ({})", sc.name, sc.file),
                columns: columns.into_iter().map(Column::left).collect(),
                rows,
                notes: vec![check_summary(checks)],
            }
        })
        .collect()
}

/// `3 passed, 1 failed`.
pub fn check_summary(checks: &[super::document::CheckRecord]) -> String {
    let failed = checks.iter().filter(|c| !c.pass).count();
    format!("{} passed, {failed} failed", checks.len() - failed)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::outcome::{Constraint, Outcome, RunResult, TaskReport, Vmstat};
    use crate::report::build::{plan, run_record, scenario_record, Extras};
    use crate::report::document::{document, PlanCommand};
    use crate::scenario::{error::Source, load_source, Overrides};
    use std::sync::Arc;

    /// A run record of a result, for counter tests.
    pub(crate) fn run_record_of(r: RunResult) -> RunRecord {
        let sc = scenario();
        run_record(&sc.runs[0], &r, Extras::default())
    }

    fn scenario() -> crate::scenario::Scenario {
        let text = "[scenario]\nname = \"t\"\nduration = \"1min\"\n[machine]\nmemory = \"1GiB\"\n\
                    [disk.d]\nbandwidth = \"10MB/s\"\n[mount.m]\nfs = \"xfs\"\ndisk = \"d\"\n\
                    [task.dd]\nkind = \"stream-write\"\nmount = \"m\"\nsize = \"1GiB\"\nrate = \"1GiB/s\"\n\
                    [matrix]\n\"mount.m.fs\" = [\"xfs\", \"btrfs\"]\n";
        let src = Arc::new(Source {
            name: "t.toml".into(),
            text: text.into(),
        });
        load_source(&src, &Overrides::default()).unwrap()
    }

    fn result(outcome: Outcome, done: u64, finished: Option<u64>) -> RunResult {
        RunResult {
            outcome,
            vmstat: Vmstat::new(vec![
                ("pgscan_direct_normal".into(), 12),
                ("allocstall".into(), 3),
            ]),
            tasks: vec![TaskReport {
                name: "dd".into(),
                pid: 1000,
                done_bytes: done,
                total_bytes: Some(1 << 30),
                finished_at_ns: finished,
                killed: false,
            }],
            writepage_refused: 4,
            pages_written_by_writeback: 256,
            ..RunResult::empty()
        }
    }

    /// The fixture document: xfs OOM → survived, btrfs survived → stalled.
    pub(crate) fn fixture() -> Document {
        let sc = scenario();
        let oom = Outcome::Oom {
            at_ns: 12_340_000_000,
            victim: "dd".into(),
            victim_pid: 1000,
            invoker: "dd".into(),
            constraint: Constraint::Cpuset,
            gfp_mask: 0x201da,
            points: 1,
            zones: Vec::new(),
        };
        let results = [
            result(oom, 370 << 20, None),
            result(
                Outcome::Survived {
                    at_ns: 42_000_000_000,
                },
                1 << 30,
                Some(42_000_000_000),
            ),
            result(Outcome::Survived { at_ns: 1 }, 1 << 30, Some(1)),
            result(
                Outcome::Stalled {
                    at_ns: 60_000_000_000,
                    reason: "x".into(),
                },
                0,
                None,
            ),
        ];
        let results: Vec<&RunResult> = results.iter().collect();
        let plan = plan(&sc, PlanCommand::Run, &[]);
        let record = scenario_record(&sc, plan, &[0, 1, 2, 3], &results, None, Extras::default());
        document(vec![record])
    }

    #[test]
    fn rows_and_comparisons() {
        let out = crate::report::table::render(&run_grids(
            &fixture(),
            View {
                wide: true,
                mmtests: true,
            },
        ));
        assert!(
            out.starts_with("t — release 2.6.32, seed 1 (t.toml)\n"),
            "{out}"
        );
        assert!(
            out.contains(
                "│ fs    ┆ policy   ┆ outcome  ┆ at   ┆ victim ┆ invoker ┆ constraint ┆ dd done ┆"
            ),
            "{out}"
        );
        assert!(
            out.contains(
                "│ xfs   ┆ redirty  ┆ OOM      ┆ 12.3 ┆ dd     ┆ dd      ┆ cpuset     ┆     36% ┆"
            ),
            "{out}"
        );
        assert!(out.contains("┆  42.0 s ┆     12 ┆       0 ┆               0 ┆       4 ┆         0 ┆          3 ┆         1.0 │"), "{out}");
        assert!(out.contains("xfs: redirty OOM at 12.3 s → activate survived at 42.0 s: fix\nbtrfs: redirty survived at 0.0 s → activate stalled at 60.0 s: changed\n"), "{out}");
        assert!(
            out.contains("│ mmtests vmstat "),
            "mmtests rows follow: {out}"
        );
    }

    #[test]
    fn the_table_sums_each_counter_over_its_zones_and_nothing_else() {
        let r = RunResult {
            vmstat: Vmstat::new(
                [
                    ("pgscan_kswapd_dma", 1),
                    ("pgscan_kswapd_normal", 2),
                    ("pgscan_direct_dma32", 4),
                    ("pgsteal_normal", 8),
                    ("pgsteal_dma", 16),
                    ("allocstall", 3),
                    ("pgrotated", 5),
                    ("nr_vmscan_write", 6),
                    ("pgscan_kswapdx", 100),
                ]
                .iter()
                .map(|(n, v)| ((*n).to_string(), *v))
                .collect(),
            ),
            writepage_refused: 7,
            pages_written_by_writeback: 512,
            ..RunResult::empty()
        };
        let fields = counter_fields(&run_record_of(r));
        let want = [7, 24, 6, 7, 5, 3].map(Field::UInt);
        assert_eq!(fields[..6], want);
        assert_eq!(fields[6], Field::float(2.0, 1));
    }
}
