//! The text format (`--format table`, the default): box-drawn tables with comfy-table, each grid
//! under its title and over its notes; and `check`'s PASS/FAIL lines. No colour, no terminal
//! probing: the same bytes whether stdout is a terminal, a pipe or a file.

use comfy_table::{presets, Cell, CellAlignment, ContentArrangement, Table};

use super::document::{CheckRecord, Document};
use super::grid::Grid;

/// Text tables, one per grid, separated by a blank line.
pub fn render(grids: &[Grid]) -> String {
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
            out.push_str(&table(g).to_string());
            out.push('\n');
        }
        for n in &g.notes {
            out.push_str(n);
            out.push('\n');
        }
    }
    out
}

/// The box-drawn table of one grid; right-aligned columns are numbers and progress.
fn table(g: &Grid) -> Table {
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
    table
}

/// `PASS file cell: expected …, got …`.
pub fn check_line(file: &str, c: &CheckRecord) -> String {
    format!(
        "{} {} {}: expected {}, got {}",
        if c.pass { "PASS" } else { "FAIL" },
        file,
        c.cell,
        c.expected,
        c.got
    )
}

/// The text of `check --format table`: one line per check, each failure followed by the
/// command that reproduces it.
pub fn check_lines(doc: &Document) -> String {
    let mut out = String::new();
    for sc in &doc.scenarios {
        for c in sc.checks.iter().flatten() {
            out.push_str(&check_line(&sc.file, c));
            out.push('\n');
            if !c.pass {
                out.push_str(&format!("  reproduce: {}\n", c.reproduce));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::grid::tests::grid;

    #[test]
    fn table_aligns_numbers_right() {
        let t = render(&[grid()]);
        assert!(t.starts_with("t — x\n┌"), "{t}");
        assert!(t.contains("│ a,b  ┆ 3 ┆ 1.2 │"), "{t}");
        assert!(t.contains("│ q\"|  ┆ - ┆ 2.0 │"), "{t}");
        assert!(t.ends_with("a: reproduce: wbsim run x --seed 1\n"), "{t}");
    }
}
