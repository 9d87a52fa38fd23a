//! The comfy-table rendering: one table per scenario file, then one line per policy pair.

use comfy_table::{presets, Cell, CellAlignment, ContentArrangement, Table};

use super::{
    comparisons, counters, outcome_word, secs, stream_writers, writer_progress, ScenarioResults,
};
use crate::outcome::Outcome;

/// Renders one scenario's results (title, table, comparison lines), ending with a newline.
pub fn render(sr: &ScenarioResults<'_>) -> String {
    let sc = sr.scenario;
    let release = sr.release().unwrap_or("(varies)");
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
