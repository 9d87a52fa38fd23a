//! CSV (RFC 4180, `--format csv`): one header naming the union of every grid's columns
//! (first-seen order), then every row of every grid; a grid without a column leaves it empty.
//! Titles and notes are not data and are left out; numbers keep their exact values. The quoting
//! is the `csv` crate's (a field with a comma, a quote, CR or LF is quoted, quotes doubled);
//! [`Records`] is also what `--timeline` writes with.

use super::grid::{Field, Grid};

/// CSV records written to memory, LF-terminated.
pub struct Records(csv::Writer<Vec<u8>>);

impl Default for Records {
    fn default() -> Self {
        Records(csv::WriterBuilder::new().from_writer(Vec::new()))
    }
}

impl Records {
    /// One record; every record of a document has the same number of fields.
    pub fn push<I, T>(&mut self, fields: I)
    where
        I: IntoIterator<Item = T>,
        T: AsRef<[u8]>,
    {
        self.0
            .write_record(fields)
            .expect("a CSV record written to memory with a constant field count");
    }

    /// The text.
    pub fn finish(self) -> String {
        let bytes = self.0.into_inner().expect("flushing to memory cannot fail");
        String::from_utf8(bytes).expect("every field was a str")
    }
}

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
    let mut out = Records::default();
    out.push(&header);
    for g in grids {
        for row in &g.rows {
            out.push(header.iter().map(|h| {
                g.columns
                    .iter()
                    .position(|c| c.name == *h)
                    .and_then(|i| row.get(i))
                    .map_or(String::new(), Field::csv)
            }));
        }
    }
    out.finish()
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
