//! JSON (`--format json`): the results document as it is (`wbsim/run/1`, pretty-printed), or,
//! for a command whose results are grids (`history`'s flat form), `{ "schema", "wbsim_version",
//! "meta", "tables": [{ "title", "rows": [{…}], "notes" }] }` with rows keyed by column name.

use serde_json::{json, Map, Value};

use super::document::Document;
use super::grid::Grid;

/// The document's JSON text, with a final newline.
pub fn render(doc: &Document) -> String {
    pretty(doc)
}

/// Any value as pretty JSON text with a final newline.
pub fn pretty(value: &impl serde::Serialize) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_else(|_| "null".into());
    text.push('\n');
    text
}

/// Grids as one JSON document (`schema` and `meta` name what they are).
pub fn grids(schema: &str, meta: Map<String, Value>, grids: &[Grid]) -> Value {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::grid::tests::grid;

    #[test]
    fn json_rows_are_keyed_in_column_order() {
        let v = grids("wbsim/x/1", Map::new(), &[grid()]);
        assert_eq!(v["schema"], "wbsim/x/1");
        assert_eq!(v["tables"][0]["title"], "t — x");
        assert_eq!(v["tables"][0]["rows"][0]["at"], 1.25);
        assert_eq!(v["tables"][0]["rows"][1]["n"], Value::Null);
        let keys: Vec<&String> = v["tables"][0]["rows"][0]
            .as_object()
            .unwrap()
            .keys()
            .collect();
        assert_eq!(keys, ["name", "n", "at"]);
    }
}
