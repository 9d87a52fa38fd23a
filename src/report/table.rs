//! The comfy-table rendering: one table per scenario file, then one line per policy pair.

use comfy_table::{presets, Cell, CellAlignment, ContentArrangement, Table};

use super::{
    comparisons, counters, outcome_word, secs, stream_writers, writer_progress, ScenarioResults,
};
use crate::outcome::Outcome;

/// Renders one scenario's results (title, table, comparison lines), ending with a newline.
pub fn render(sr: &ScenarioResults<'_>) -> String {
    let sc = sr.scenario;
    let release = sr.release().unwrap_or_else(|| "(varies)".to_string());
    let seed = sr
        .seed()
        .map_or_else(|| "(varies)".to_string(), |s| s.to_string());
    let mut out = format!(
        "{} — release {release}, seed {seed} ({})\n",
        sc.name, sc.file
    );

    let axes: Vec<_> = sc.axes.iter().filter(|a| !a.is_policy()).collect();
    let headings: Vec<String> = axes
        .iter()
        .map(|a| {
            let h = a.heading();
            if axes.iter().filter(|b| b.heading() == h).count() > 1 {
                a.path.clone()
            } else {
                h.to_string()
            }
        })
        .collect();
    let writers = stream_writers(sr);
    let mut header: Vec<String> = headings;
    header.extend(["policy", "outcome", "at", "victim", "invoker", "constraint"].map(String::from));
    header.extend(writers.iter().map(|w| format!("{w} done")));
    header.extend(
        [
            "pgscan",
            "pgsteal",
            "nr_vmscan_write",
            "refused",
            "pgrotated",
            "allocstall",
            "flusher MiB",
        ]
        .map(String::from),
    );
    // Right-aligned: `at`, the writers' progress and the counters.
    let right = |i: usize| i == axes.len() + 2 || i >= axes.len() + 6;

    let mut table = Table::new();
    table
        .load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Disabled)
        .force_no_tty();
    table.set_header(header.iter().map(Cell::new));
    for (run, res) in sr.pairs() {
        let mut row: Vec<String> = run
            .components
            .iter()
            .zip(&sc.axes)
            .filter(|(_, a)| !a.is_policy())
            .map(|(c, _)| c.clone())
            .collect();
        row.push(run.spec.policy.name().to_string());
        row.push(outcome_word(&res.outcome).to_string());
        row.push(secs(res.outcome.at_ns()));
        match &res.outcome {
            Outcome::Oom {
                victim,
                invoker,
                constraint,
                ..
            } => {
                row.push(if victim.is_empty() {
                    "(panic)".into()
                } else {
                    victim.clone()
                });
                row.push(invoker.clone());
                row.push(
                    constraint
                        .name()
                        .trim_start_matches("CONSTRAINT_")
                        .to_ascii_lowercase(),
                );
            }
            _ => row.extend(["-", "-", "-"].map(String::from)),
        }
        row.extend(writers.iter().map(|w| writer_progress(run, res, w)));
        let c = counters(res);
        row.extend(
            [
                c.pgscan,
                c.pgsteal,
                c.nr_vmscan_write,
                c.refused,
                c.pgrotated,
                c.allocstall,
            ]
            .map(|v| v.to_string()),
        );
        row.push(format!("{:.1}", c.flusher_mib));
        table.add_row(row.into_iter().enumerate().map(|(i, v)| {
            let cell = Cell::new(v);
            if right(i) {
                cell.set_alignment(CellAlignment::Right)
            } else {
                cell
            }
        }));
    }
    out.push_str(&table.to_string());
    out.push('\n');
    let labels: Vec<String> = sr.pairs().map(|(run, _)| run.label.clone()).collect();
    out.push_str(&crate::observe::mmtests::render_table(
        &labels,
        &sr.results.iter().collect::<Vec<_>>(),
    ));
    for c in comparisons(sr) {
        out.push_str(&format!(
            "{}: redirty → activate: {} → {}\n",
            c.label,
            outcome_word(c.before),
            outcome_word(c.after)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::{Constraint, RunResult, TaskReport};
    use crate::scenario::{error::Source, load_source, Overrides};
    use std::sync::Arc;

    fn result(outcome: Outcome, done: u64, finished: Option<u64>) -> RunResult {
        RunResult {
            outcome,
            sim_ns: 0,
            events: 0,
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
            pages_written_by_reclaim: 0,
            pages_written_by_journal: 0,
            reclaim_no_progress: 0,
            later: Default::default(),
            oom_reports: Vec::new(),
            meminfo: Vec::new(),
        }
    }

    #[test]
    fn rows_and_comparisons() {
        let text = "[scenario]\nname = \"t\"\nduration = \"1min\"\n[machine]\nmemory = \"1GiB\"\n\
                    [disk.d]\nbandwidth = \"10MB/s\"\n[mount.m]\nfs = \"xfs\"\ndisk = \"d\"\n\
                    [task.dd]\nkind = \"stream-write\"\nmount = \"m\"\nsize = \"1GiB\"\nrate = \"1GiB/s\"\n\
                    [matrix]\n\"mount.m.fs\" = [\"xfs\", \"btrfs\"]\n";
        let src = Arc::new(Source {
            name: "t.toml".into(),
            text: text.into(),
        });
        let sc = load_source(&src, &Overrides::default()).unwrap();
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
        let out = render(&ScenarioResults {
            scenario: &sc,
            results,
        });
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
        assert!(out.ends_with("xfs: redirty → activate: OOM → survived\nbtrfs: redirty → activate: survived → stalled\n"), "{out}");
    }
}
