//! A generic report: titled tables of named, typed columns with notes, and its four renderers
//! (text table, Markdown, CSV, JSON). Every command builds [`Grid`]s and picks a renderer, so a
//! new command (e.g. `history`) only has to say what its rows are.

use comfy_table::{presets, Cell, CellAlignment, ContentArrangement, Table};
use serde_json::{json, Map, Value};

/// One value of a row.
#[derive(Clone, Debug, PartialEq)]
pub enum Field {
    /// Nothing (`-` in tables, empty in CSV, `null` in JSON).
    Null,
    /// Text.
    Text(String),
    /// An integer.
    Int(i64),
    /// An unsigned integer.
    UInt(u64),
    /// A number; tables and Markdown show `decimals` places, CSV and JSON the exact value.
    Float {
        /// The value.
        value: f64,
        /// Places shown in tables.
        decimals: usize,
    },
    /// A yes/no.
    Bool(bool),
}

impl Field {
    /// Text.
    pub fn text(s: impl Into<String>) -> Field {
        Field::Text(s.into())
    }

    /// Text, or `Null` when absent.
    pub fn opt_text(s: Option<&str>) -> Field {
        s.map_or(Field::Null, Field::text)
    }

    /// A number shown with `decimals` places.
    pub fn float(value: f64, decimals: usize) -> Field {
        Field::Float { value, decimals }
    }

    /// How tables and Markdown show it.
    pub fn display(&self) -> String {
        match self {
            Field::Null => "-".into(),
            Field::Text(s) => s.clone(),
            Field::Int(i) => i.to_string(),
            Field::UInt(u) => u.to_string(),
            Field::Float { value, decimals } => format!("{value:.decimals$}"),
            Field::Bool(b) => b.to_string(),
        }
    }

    /// How CSV shows it.
    pub fn csv(&self) -> String {
        match self {
            Field::Null => String::new(),
            Field::Float { value, .. } => value.to_string(),
            other => other.display(),
        }
    }

    /// The JSON value.
    pub fn json(&self) -> Value {
        match self {
            Field::Null => Value::Null,
            Field::Text(s) => json!(s),
            Field::Int(i) => json!(i),
            Field::UInt(u) => json!(u),
            Field::Float { value, .. } => json!(value),
            Field::Bool(b) => json!(b),
        }
    }
}

/// One column.
#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    /// The heading (also the CSV header and the JSON key).
    pub name: String,
    /// Right-aligned in tables (numbers, progress).
    pub right: bool,
}

impl Column {
    /// A left-aligned column.
    pub fn left(name: impl Into<String>) -> Column {
        Column {
            name: name.into(),
            right: false,
        }
    }

    /// A right-aligned column.
    pub fn right(name: impl Into<String>) -> Column {
        Column {
            name: name.into(),
            right: true,
        }
    }
}

/// A titled table with notes under it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Grid {
    /// The line above the table (empty: none).
    pub title: String,
    /// The columns.
    pub columns: Vec<Column>,
    /// The rows (each as long as `columns`).
    pub rows: Vec<Vec<Field>>,
    /// Lines under the table.
    pub notes: Vec<String>,
}

/// Text tables, one per grid, separated by a blank line. No colour, no terminal probing: the
/// same bytes whether stdout is a terminal, a pipe or a file.
pub fn to_table(grids: &[Grid]) -> String {
    let mut out = String::new();
    for (i, g) in grids.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        if !g.title.is_empty() {
            out.push_str(&g.title);
            out.push('\n');
        }
        if !g.columns.is_empty() {
            let mut table = Table::new();
            table
                .load_preset(presets::UTF8_FULL_CONDENSED)
                .set_content_arrangement(ContentArrangement::Disabled)
                .force_no_tty();
            table.set_header(g.columns.iter().map(|c| Cell::new(&c.name)));
            for row in &g.rows {
                table.add_row(row.iter().zip(&g.columns).map(|(f, c)| {
                    let cell = Cell::new(f.display());
                    if c.right {
                        cell.set_alignment(CellAlignment::Right)
                    } else {
                        cell
                    }
                }));
            }
            out.push_str(&table.to_string());
            out.push('\n');
        }
        for n in &g.notes {
            out.push_str(n);
            out.push('\n');
        }
    }
    out
}

/// GitHub-flavoured Markdown: a `###` heading per grid, a pipe table, notes as a list.
pub fn to_markdown(grids: &[Grid]) -> String {
    let mut out = String::new();
    for (i, g) in grids.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        if !g.title.is_empty() {
            out.push_str(&format!("### {}\n\n", md_escape(&g.title)));
        }
        if !g.columns.is_empty() {
            let head: Vec<String> = g.columns.iter().map(|c| md_escape(&c.name)).collect();
            out.push_str(&format!("| {} |\n", head.join(" | ")));
            let rule: Vec<&str> = g
                .columns
                .iter()
                .map(|c| if c.right { "---:" } else { "---" })
                .collect();
            out.push_str(&format!("|{}|\n", rule.join("|")));
            for row in &g.rows {
                let cells: Vec<String> = row.iter().map(|f| md_cell(&f.display())).collect();
                out.push_str(&format!("| {} |\n", cells.join(" | ")));
            }
        }
        if !g.notes.is_empty() {
            if !g.columns.is_empty() {
                out.push('\n');
            }
            for n in &g.notes {
                out.push_str(&format!("- {}\n", md_note(n)));
            }
        }
    }
    out
}

/// A note: commands (`wbsim …` after a colon) go in code spans so they copy cleanly.
fn md_note(n: &str) -> String {
    match n.find("wbsim ") {
        Some(i) if !n[i..].contains('`') => format!("{}`{}`", md_escape(&n[..i]), &n[i..]),
        _ => md_escape(n),
    }
}

/// A cell: a command goes in a code span so it copies cleanly.
fn md_cell(s: &str) -> String {
    if s.starts_with("wbsim ") && !s.contains('`') {
        format!("`{}`", md_escape(s))
    } else {
        md_escape(s)
    }
}

fn md_escape(s: &str) -> String {
    s.replace('|', "\\|")
}

/// CSV (RFC 4180): one header naming the union of every grid's columns (first-seen order), then
/// every row of every grid; a grid without a column leaves it empty. Titles and notes are not
/// data and are left out.
pub fn to_csv(grids: &[Grid]) -> String {
    let mut header: Vec<&str> = Vec::new();
    for g in grids {
        for c in &g.columns {
            if !header.contains(&c.name.as_str()) {
                header.push(&c.name);
            }
        }
    }
    let mut out = csv_line(header.iter().map(|h| h.to_string()));
    for g in grids {
        for row in &g.rows {
            out.push_str(&csv_line(header.iter().map(|h| {
                g.columns
                    .iter()
                    .position(|c| c.name == *h)
                    .and_then(|i| row.get(i))
                    .map_or(String::new(), Field::csv)
            })));
        }
    }
    out
}

fn csv_line(fields: impl Iterator<Item = String>) -> String {
    let quoted: Vec<String> = fields
        .map(|f| {
            if f.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", f.replace('"', "\"\""))
            } else {
                f
            }
        })
        .collect();
    format!("{}\n", quoted.join(","))
}

/// A JSON document: `{ "schema", "wbsim_version", "meta", "tables": [{ "title", "rows": [{…}],
/// "notes" }] }`, rows keyed by column name in column order.
pub fn to_json(schema: &str, meta: Map<String, Value>, grids: &[Grid]) -> Value {
    let tables: Vec<Value> = grids
        .iter()
        .map(|g| {
            let rows: Vec<Value> = g
                .rows
                .iter()
                .map(|row| {
                    Value::Object(
                        g.columns
                            .iter()
                            .zip(row)
                            .map(|(c, f)| (c.name.clone(), f.json()))
                            .collect(),
                    )
                })
                .collect();
            json!({ "title": g.title, "rows": rows, "notes": g.notes })
        })
        .collect();
    json!({
        "schema": schema,
        "wbsim_version": env!("CARGO_PKG_VERSION"),
        "meta": meta,
        "tables": tables,
    })
}

/// Renders grids in any `--format`: the entry point for a command whose results are grids
/// (e.g. `history`); `schema` and `meta` go into the JSON document only.
pub fn render(
    format: crate::cli::Format,
    schema: &str,
    meta: Map<String, Value>,
    grids: &[Grid],
) -> String {
    use crate::cli::Format;
    match format {
        Format::Table => to_table(grids),
        Format::Markdown => to_markdown(grids),
        Format::Csv => to_csv(grids),
        Format::Json => {
            let mut text = serde_json::to_string_pretty(&to_json(schema, meta, grids))
                .unwrap_or_else(|_| "null".into());
            text.push('\n');
            text
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid() -> Grid {
        Grid {
            title: "t — x".into(),
            columns: vec![
                Column::left("name"),
                Column::right("n"),
                Column::right("at"),
            ],
            rows: vec![
                vec![Field::text("a,b"), Field::UInt(3), Field::float(1.25, 1)],
                vec![Field::text("q\"|"), Field::Null, Field::float(2.0, 1)],
            ],
            notes: vec!["a: reproduce: wbsim run x --seed 1".into()],
        }
    }

    #[test]
    fn csv_quotes_and_keeps_exact_numbers() {
        let other = Grid {
            columns: vec![Column::left("name"), Column::left("extra")],
            rows: vec![vec![Field::text("z"), Field::Bool(true)]],
            ..Grid::default()
        };
        assert_eq!(
            to_csv(&[grid(), other]),
            "name,n,at,extra\n\"a,b\",3,1.25,\n\"q\"\"|\",,2,\nz,,,true\n"
        );
    }

    #[test]
    fn markdown_escapes_pipes_and_quotes_commands() {
        assert_eq!(
            to_markdown(&[grid()]),
            "### t — x\n\n| name | n | at |\n|---|---:|---:|\n| a,b | 3 | 1.2 |\n| q\"\\| | - | 2.0 |\n\n\
             - a: reproduce: `wbsim run x --seed 1`\n"
        );
    }

    #[test]
    fn json_rows_are_keyed_in_column_order() {
        let v = to_json("wbsim/x/1", Map::new(), &[grid()]);
        assert_eq!(v["tables"][0]["rows"][0]["at"], 1.25);
        assert_eq!(v["tables"][0]["rows"][1]["n"], Value::Null);
        let keys: Vec<&String> = v["tables"][0]["rows"][0]
            .as_object()
            .unwrap()
            .keys()
            .collect();
        assert_eq!(keys, ["name", "n", "at"]);
    }

    #[test]
    fn render_dispatches_on_the_format() {
        use crate::cli::Format;
        let g = [grid()];
        assert_eq!(render(Format::Csv, "x", Map::new(), &g), to_csv(&g));
        let json: Value =
            serde_json::from_str(&render(Format::Json, "wbsim/x/1", Map::new(), &g)).unwrap();
        assert_eq!(json["schema"], "wbsim/x/1");
        assert_eq!(json["tables"][0]["title"], "t — x");
    }

    #[test]
    fn table_aligns_numbers_right() {
        let t = to_table(&[grid()]);
        assert!(t.starts_with("t — x\n┌"), "{t}");
        assert!(t.contains("│ a,b  ┆ 3 ┆ 1.2 │"), "{t}");
        assert!(t.contains("│ q\"|  ┆ - ┆ 2.0 │"), "{t}");
        assert!(t.ends_with("a: reproduce: wbsim run x --seed 1\n"), "{t}");
    }
}
