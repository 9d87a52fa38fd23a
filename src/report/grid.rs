//! A format-neutral table: titled, named and typed columns, rows of [`Field`]s, notes under it.
//! Commands say what their rows are ([`super::grids`], `history`); the renderers
//! ([`super::table`], [`super::markdown`], [`super::csv`], [`super::json`]) say how they look.

use serde_json::{json, Value};

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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A grid with a comma, a quote and a pipe in its text, a missing value and a command note.
    pub(crate) fn grid() -> Grid {
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
}
