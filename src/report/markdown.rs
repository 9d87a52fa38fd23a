//! GitHub-flavoured Markdown (`--format markdown`, for pull-request comments): a `###` heading
//! per grid, a pipe table, notes as a list; commands go in code spans so they copy cleanly.

use super::grid::Grid;

/// The Markdown text of `grids`.
pub fn render(grids: &[Grid]) -> String {
    let mut out = String::new();
    for (i, g) in grids.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        if !g.title.is_empty() {
            out.push_str(&format!("### {}\n\n", escape(&g.title)));
        }
        if !g.columns.is_empty() {
            out.push_str(&table(g));
        }
        if !g.notes.is_empty() {
            if !g.columns.is_empty() {
                out.push('\n');
            }
            for n in &g.notes {
                out.push_str(&format!("- {}\n", note(n)));
            }
        }
    }
    out
}

/// The pipe table of one grid; right-aligned columns get `---:`.
fn table(g: &Grid) -> String {
    let head: Vec<String> = g.columns.iter().map(|c| escape(&c.name)).collect();
    let mut out = format!("| {} |\n", head.join(" | "));
    let rule: Vec<&str> = g
        .columns
        .iter()
        .map(|c| if c.right { "---:" } else { "---" })
        .collect();
    out.push_str(&format!("|{}|\n", rule.join("|")));
    for row in &g.rows {
        let cells: Vec<String> = row.iter().map(|f| cell(&f.display())).collect();
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    out
}

/// A note: commands (`wbsim …` after a colon) go in code spans.
fn note(n: &str) -> String {
    match n.find("wbsim ") {
        Some(i) if !n[i..].contains('`') => format!("{}`{}`", escape(&n[..i]), &n[i..]),
        _ => escape(n),
    }
}

/// A cell: a command goes in a code span.
fn cell(s: &str) -> String {
    if s.starts_with("wbsim ") && !s.contains('`') {
        format!("`{}`", escape(s))
    } else {
        escape(s)
    }
}

fn escape(s: &str) -> String {
    s.replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::grid::tests::grid;

    #[test]
    fn markdown_escapes_pipes_and_quotes_commands() {
        assert_eq!(
            render(&[grid()]),
            "### t — x\n\n| name | n | at |\n|---|---:|---:|\n| a,b | 3 | 1.2 |\n| q\"\\| | - | 2.0 |\n\n\
             - a: reproduce: `wbsim run x --seed 1`\n"
        );
    }
}
