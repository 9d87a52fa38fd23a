//! Reporting results. Every command's runs become one typed [`document::Document`] (the
//! `wbsim/run/1` JSON, built by [`build`]); each output format is one renderer file:
//!
//! | file | format |
//! |------|--------|
//! | `table.rs` | `--format table`: box-drawn text tables, `check`'s PASS/FAIL lines |
//! | `csv.rs` | `--format csv` |
//! | `markdown.rs` | `--format markdown` |
//! | `json.rs` | `--format json` |
//! | `junit.rs` | `check --junit` |
//! | `svg.rs` | `sweep --plot`'s outcome maps |
//! | `html.rs` | `study --html`: one self-contained page, tables and inline SVG plots |
//! | `oom_report.rs` | `--oom-report`: the kernel's OOM report |
//! | `proc_files.rs` | `--vmstat`: `/proc/vmstat` and `/proc/meminfo` |
//!
//! Tables, CSV and Markdown render [`grid::Grid`]s, which [`grids`] builds from the document (and
//! `history` from its own results), so a merged document renders exactly like the unsharded run.
//! `mmtests.rs` computes mmtests' derived rows, a part of each run's record.

pub mod build;
pub mod csv;
pub mod document;
pub mod grid;
pub mod grids;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod mmtests;
pub mod oom_report;
pub mod proc_files;
pub mod svg;
pub mod table;

use document::Document;
use grid::Grid;

/// Output formats (`--format`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Human-readable tables (one per scenario file).
    Table,
    /// One JSON document (schema `wbsim/run/1`).
    Json,
    /// Comma-separated values: a header, then one flat row per run (or check, or threshold).
    Csv,
    /// GitHub-flavoured Markdown tables, for pull-request comments.
    Markdown,
}

/// How much of a run table to show (`--wide`, `--mmtests`); machine formats show everything.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct View {
    /// `--wide`: every field of every run (the table before issue 15) and mmtests' rows.
    pub wide: bool,
    /// `--mmtests`: mmtests' derived rows after the table.
    pub mmtests: bool,
}

/// What a document holds, which decides how tables, CSV and Markdown show it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Content {
    /// Runs (`run`, grid `sweep`).
    Runs,
    /// Runs with check verdicts (`check`): tables show the verdict lines.
    Checks,
    /// Threshold searches (`sweep --find-threshold`).
    Thresholds,
}

impl Content {
    /// What a (merged) document holds, read from the document itself.
    pub fn of(doc: &Document) -> Content {
        if doc.scenarios.iter().any(|s| s.thresholds.is_some()) {
            Content::Thresholds
        } else if doc.scenarios.iter().any(|s| s.checks.is_some()) {
            Content::Checks
        } else {
            Content::Runs
        }
    }
}

/// The document in `format`, the default view.
pub fn render(doc: &Document, content: Content, format: Format) -> String {
    render_view(doc, content, format, View::default())
}

/// The document in `format` and `view`.
pub fn render_view(doc: &Document, content: Content, format: Format, view: View) -> String {
    let csv = format == Format::Csv;
    let grids = match (content, format) {
        (_, Format::Json) => return json::render(doc),
        (Content::Checks, Format::Table) => return table::check_lines(doc),
        (Content::Checks, _) => grids::check_grids(doc, csv),
        (Content::Thresholds, _) => grids::threshold_grids(doc, csv),
        (Content::Runs, Format::Csv) => grids::flat_grids(doc),
        (Content::Runs, _) => grids::run_grids(doc, view),
    };
    render_grids(format, "", serde_json::Map::new(), &grids)
}

/// Grids in `format`: the entry point for a command whose results are grids (`history`);
/// `schema` and `meta` go into the JSON document only.
pub fn render_grids(
    format: Format,
    schema: &str,
    meta: serde_json::Map<String, serde_json::Value>,
    grids: &[Grid],
) -> String {
    match format {
        Format::Table => table::render(grids),
        Format::Markdown => markdown::render(grids),
        Format::Csv => csv::render(grids),
        Format::Json => json::pretty(&json::grids(schema, meta, grids)),
    }
}

/// Nanoseconds as seconds with one decimal: `42.0`.
pub fn secs(ns: u64) -> String {
    format!("{:.1}", ns as f64 / 1e9)
}

/// Quotes a word for a POSIX shell when it needs it (reproduce commands). The quoting is the
/// `shlex` crate's (quotes that read the same in POSIX shells, bash, zsh and fish); a word made
/// only of characters that are literal in an argument position stays bare even where `shlex`
/// would quote it (`=`, `,`, `%`: `--set vm.dirty_ratio=10` reads as the user typed it).
pub fn quote(s: &str) -> String {
    let bare = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if bare {
        return s.to_string();
    }
    // shlex refuses only a NUL, which no command-line argument can hold: it is dropped.
    shlex::try_quote(&s.replace('\0', ""))
        .map(std::borrow::Cow::into_owned)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(quote("a/b.toml"), "a/b.toml");
        assert_eq!(
            quote("scenario.duration=1h 30m"),
            "'scenario.duration=1h 30m'"
        );
        assert_eq!(quote("it's"), "\"it's\"");
        assert_eq!(quote("a b'c$"), "\"a b'c\"'$'");
        assert_eq!(quote(""), "''");
    }

    #[test]
    fn render_dispatches_on_the_format() {
        let g = [grid::tests::grid()];
        assert_eq!(
            render_grids(Format::Csv, "x", serde_json::Map::new(), &g),
            csv::render(&g)
        );
        let text = render_grids(Format::Json, "wbsim/x/1", serde_json::Map::new(), &g);
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(json["schema"], "wbsim/x/1");
        assert_eq!(json["tables"][0]["title"], "t — x");
    }
}
