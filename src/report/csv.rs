//! CSV (RFC 4180, `--format csv`): one header naming the union of every grid's columns
//! (first-seen order), then every row of every grid; a grid without a column leaves it empty.
//! Titles and notes are not data and are left out; numbers keep their exact values.

use super::grid::{Field, Grid};

/// The CSV text of `grids`.
pub fn render(grids: &[Grid]) -> String {
    let mut header: Vec<&str> = Vec::new();
    for g in grids {
        for c in &g.columns {
            if !header.contains(&c.name.as_str()) {
                header.push(&c.name);
            }
        }
    }
    let mut out = line(header.iter().map(|h| h.to_string()));
    for g in grids {
        for row in &g.rows {
            out.push_str(&line(header.iter().map(|h| {
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

/// One record, quoting the fields that need it.
fn line(fields: impl Iterator<Item = String>) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::grid::tests::grid;
    use crate::report::grid::Column;

    #[test]
    fn csv_quotes_and_keeps_exact_numbers() {
        let other = Grid {
            columns: vec![Column::left("name"), Column::left("extra")],
            rows: vec![vec![Field::text("z"), Field::Bool(true)]],
            ..Grid::default()
        };
        assert_eq!(
            render(&[grid(), other]),
            "name,n,at,extra\n\"a,b\",3,1.25,\n\"q\"\"|\",,2,\nz,,,true\n"
        );
    }
}
