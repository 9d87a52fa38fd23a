//! The grids of `run` and `sweep`: per scenario, the OOM-versus-survive table with one line per
//! policy pair (text and Markdown), the flat one-row-per-run table (CSV), and the threshold table.

use super::doc::{Document, RunDoc, ScenarioDoc};
use super::grid::{Column, Field, Grid};
use super::{counters, outcome_word, writer_progress};
use crate::scenario::matrix::POLICY_AXIS;

/// The title line of a scenario: `name — release R, seed S (file)`, with `, page granularity G`
/// before the file when its runs simulate pages coarser than 4 KiB (never silently).
pub fn title(sc: &ScenarioDoc) -> String {
    let release = sc.release.as_deref().unwrap_or("(varies)");
    let seed = sc
        .seed
        .map_or_else(|| "(varies)".to_string(), |s| s.to_string());
    let page =
        crate::spec::coarse_page_summary(sc.runs.iter().map(|r| r.page_granularity.as_deref()))
            .map_or_else(String::new, |p| format!(", page granularity {p}"));
    let mut t = format!(
        "{} — release {release}, seed {seed}{page} ({})",
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
fn axis_headings(sc: &ScenarioDoc) -> Vec<String> {
    let heading = |p: &str| p.rsplit('.').next().unwrap_or(p).to_string();
    let axes: Vec<&str> = sc
        .plan
        .axes
        .iter()
        .filter(|a| a.path != POLICY_AXIS)
        .map(|a| a.path.as_str())
        .collect();
    axes.iter()
        .map(|p| {
            let h = heading(p);
            if axes.iter().filter(|q| heading(q) == h).count() > 1 {
                (*p).to_string()
            } else {
                h
            }
        })
        .collect()
}

/// Per scenario: the table `wbsim run` prints, then mmtests' derived rows when the runs carry
/// them (`extra.mmtests`).
pub fn run_grids(doc: &Document) -> Vec<Grid> {
    doc.scenarios
        .iter()
        .flat_map(|sc| std::iter::once(run_grid(sc)).chain(mmtests_grid(sc)))
        .collect()
}

/// mmtests' compare layout: one row per derived label, one column per run.
fn mmtests_grid(sc: &ScenarioDoc) -> Option<Grid> {
    let per_run: Vec<&serde_json::Map<String, serde_json::Value>> = sc
        .runs
        .iter()
        .map(|r| r.extra.get("mmtests").and_then(|v| v.as_object()))
        .collect::<Option<_>>()?;
    let first = per_run.first()?;
    let mut columns = vec![Column::left("mmtests vmstat")];
    columns.extend(sc.runs.iter().map(|r| Column::right(&r.label)));
    let rows = first
        .keys()
        .map(|label| {
            let mut row = vec![Field::text(label)];
            row.extend(per_run.iter().map(|m| match m.get(label) {
                Some(v) if v.is_u64() => Field::UInt(v.as_u64().unwrap_or(0)),
                Some(v) => Field::float(v.as_f64().unwrap_or(0.0), 2),
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

fn run_grid(sc: &ScenarioDoc) -> Grid {
    let mut columns: Vec<Column> = axis_headings(sc).into_iter().map(Column::left).collect();
    columns.extend(["policy", "outcome"].map(Column::left));
    columns.push(Column::right("at"));
    columns.extend(["victim", "invoker", "constraint"].map(Column::left));
    columns.extend(
        sc.plan
            .stream_writers
            .iter()
            .map(|w| Column::right(format!("{w} done"))),
    );
    columns.extend(
        [
            "pgscan",
            "pgsteal",
            "nr_vmscan_write",
            "refused",
            "pgrotated",
            "allocstall",
            "flusher MiB",
        ]
        .map(Column::right),
    );
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
            row.push(Field::text(&run.policy));
            row.extend(outcome_fields(run));
            row.extend(
                sc.plan
                    .stream_writers
                    .iter()
                    .map(|w| Field::Text(writer_progress(run, w))),
            );
            let c = counters(run);
            row.extend(
                [
                    c.pgscan,
                    c.pgsteal,
                    c.nr_vmscan_write,
                    c.refused,
                    c.pgrotated,
                    c.allocstall,
                ]
                .map(Field::UInt),
            );
            row.push(Field::float(c.flusher_mib, 1));
            row
        })
        .collect();
    let notes = sc
        .comparisons
        .iter()
        .map(|c| {
            let mut line = format!(
                "{}: redirty → activate: {} → {}",
                c.label,
                outcome_word(&c.before),
                outcome_word(&c.after)
            );
            if c.verdict == "fix" || c.verdict == "regression" {
                line.push_str(&format!(" ({})", c.verdict));
            }
            line
        })
        .collect();
    Grid {
        title: title(sc),
        columns,
        rows,
        notes,
    }
}

/// outcome, at, victim, invoker, constraint.
fn outcome_fields(run: &RunDoc) -> Vec<Field> {
    let o = &run.outcome;
    let mut v = vec![Field::text(outcome_word(&o.kind)), Field::float(o.at_s, 1)];
    if o.kind == "oom" {
        v.push(Field::text(match o.victim.as_deref() {
            None | Some("") => "(panic)",
            Some(x) => x,
        }));
        v.push(Field::opt_text(o.invoker.as_deref()));
        v.push(Field::Text(
            o.constraint
                .as_deref()
                .unwrap_or("")
                .trim_start_matches("CONSTRAINT_")
                .to_ascii_lowercase(),
        ));
    } else {
        v.extend([Field::Null, Field::Null, Field::Null]);
    }
    v
}

/// One grid per scenario with one flat row per run (CSV): every field of the run with the
/// axes under their full paths, and the command that reproduces the run.
pub fn flat_grids(doc: &Document) -> Vec<Grid> {
    doc.scenarios
        .iter()
        .map(|sc| {
            let axes: Vec<String> = sc
                .plan
                .axes
                .iter()
                .filter(|a| a.path != POLICY_AXIS)
                .map(|a| a.path.clone())
                .collect();
            let mut columns: Vec<Column> = ["file", "scenario", "label"]
                .into_iter()
                .map(Column::left)
                .collect();
            columns.extend(axes.iter().map(Column::left));
            columns.extend(flat_columns());
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
                    row.extend(
                        sc.plan
                            .without_policy(components)
                            .into_iter()
                            .map(Field::Text),
                    );
                    row.extend(flat_fields(run));
                    row.push(Field::Text(
                        sc.plan.reproduce(&sc.file, components, run.seed, None),
                    ));
                    row
                })
                .collect();
            Grid {
                title: title(sc),
                columns,
                rows,
                notes: Vec::new(),
            }
        })
        .collect()
}

fn flat_columns() -> Vec<Column> {
    [
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
    ]
    .into_iter()
    .map(Column::left)
    .collect()
}

fn flat_fields(run: &RunDoc) -> Vec<Field> {
    let o = &run.outcome;
    let c = counters(run);
    vec![
        Field::text(&run.policy),
        Field::text(&run.release),
        Field::UInt(run.seed),
        Field::text(&o.kind),
        Field::float(o.at_s, 1),
        Field::opt_text(o.victim.as_deref()),
        o.victim_pid
            .map_or(Field::Null, |p| Field::UInt(u64::from(p))),
        Field::opt_text(o.invoker.as_deref()),
        Field::opt_text(o.constraint.as_deref()),
        Field::opt_text(o.reason.as_deref()),
        Field::float(run.sim_seconds, 1),
        Field::UInt(run.events),
        Field::UInt(c.pgscan),
        Field::UInt(c.pgsteal),
        Field::UInt(c.nr_vmscan_write),
        Field::UInt(run.counters.writepage_refused),
        Field::UInt(c.pgrotated),
        Field::UInt(c.allocstall),
        Field::UInt(run.counters.pages_written_by_writeback),
        Field::UInt(run.counters.pages_written_by_reclaim),
        Field::UInt(run.counters.pages_written_by_journal),
        Field::UInt(run.counters.reclaim_no_progress),
    ]
}

/// One grid per scenario of a threshold search: a row per cell and policy. `flat` adds the
/// file, the bracketing runs' details and their reproduce commands (CSV); otherwise the
/// commands that reproduce each flip are notes.
pub fn threshold_grids(doc: &Document, flat: bool) -> Vec<Grid> {
    doc.scenarios
        .iter()
        .map(|sc| {
            let Some(plan) = &sc.plan.threshold else {
                return Grid::default();
            };
            let mut columns: Vec<Column> = Vec::new();
            if flat {
                columns.extend(["file", "scenario", "label"].map(Column::left));
            }
            let headings = if flat {
                sc.plan
                    .axes
                    .iter()
                    .filter(|a| a.path != POLICY_AXIS)
                    .map(|a| a.path.clone())
                    .collect()
            } else {
                axis_headings(sc)
            };
            columns.extend(headings.into_iter().map(Column::left));
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
            let mut notes = Vec::new();
            let items = sc.item_indices();
            let rows = items
                .iter()
                .zip(sc.thresholds.iter().flatten())
                .map(|(&i, t)| {
                    let components = sc.plan.components(i);
                    let mut row = Vec::new();
                    if flat {
                        row.extend([
                            Field::text(&sc.file),
                            Field::text(&sc.name),
                            Field::text(&t.label),
                        ]);
                    }
                    row.extend(
                        sc.plan
                            .without_policy(&components)
                            .into_iter()
                            .map(Field::Text),
                    );
                    row.extend([
                        Field::text(&t.policy),
                        Field::text(&t.path),
                        Field::text(&t.from),
                        Field::text(&t.to),
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
                    match &t.threshold {
                        Some(v) => notes.push(format!(
                            "{}: {} → {} at {} = {v} ({} at {}); reproduce: {}",
                            t.label, t.from, t.to, t.path, t.from, t.below.value, t.above.reproduce
                        )),
                        None => notes.push(format!(
                            "{}: {} over the whole range {}..{} (no flip)",
                            t.label, t.from, plan.lo, plan.hi
                        )),
                    }
                    row
                })
                .collect();
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
                notes: if flat { Vec::new() } else { notes },
            }
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::outcome::{Constraint, Outcome, RunResult, TaskReport};
    use crate::report::doc::{document, scenario_doc, Plan};
    use crate::report::grid::to_table;
    use crate::scenario::{error::Source, load_source, Overrides};
    use std::sync::Arc;

    /// A run record of a result, for counter tests.
    pub(crate) fn run_doc_of(r: RunResult) -> RunDoc {
        let sc = scenario();
        crate::report::doc::run_doc(&sc.runs[0], &r)
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
            vmstat: vec![
                ("pgscan_direct_normal".into(), 12),
                ("allocstall".into(), 3),
            ],
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
        let results = vec![
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
        let plan = Plan::of(&sc, "run", &[]);
        document(vec![scenario_doc(&sc, plan, &[0, 1, 2, 3], &results, None)])
    }

    #[test]
    fn rows_and_comparisons() {
        let out = to_table(&run_grids(&fixture()));
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
        assert!(out.contains("xfs: redirty → activate: OOM → survived (fix)\nbtrfs: redirty → activate: survived → stalled\n"), "{out}");
        assert!(
            out.contains("│ mmtests vmstat "),
            "mmtests rows follow: {out}"
        );
    }
}
