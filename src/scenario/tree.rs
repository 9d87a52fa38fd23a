//! The scenario file as a tree of values that remember where they came from (a span of the file,
//! a `[matrix]` entry or a `--set` argument), so that errors found after substitution still point
//! at the right place.

use super::error::Loc;

/// One value.
#[derive(Clone, Debug)]
pub struct Node {
    /// The value.
    pub value: Value,
    /// Where it came from.
    pub loc: Loc,
}

/// A TOML value.
#[derive(Clone, Debug)]
pub enum Value {
    /// A string.
    Str(String),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A boolean.
    Bool(bool),
    /// A date-time, kept as written.
    Datetime(String),
    /// An array.
    Array(Vec<Node>),
    /// A table (or inline table), in declaration order.
    Table(Vec<Entry>),
}

/// One `key = value` of a table.
#[derive(Clone, Debug)]
pub struct Entry {
    /// The key.
    pub key: String,
    /// Where the key is written.
    pub key_loc: Loc,
    /// The value.
    pub node: Node,
}

impl Value {
    /// "a string", "an integer", … for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "a string",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a float",
            Value::Bool(_) => "a boolean",
            Value::Datetime(_) => "a date-time",
            Value::Array(_) => "an array",
            Value::Table(_) => "a table",
        }
    }

    /// The value as it appears in labels and messages: strings bare, others in TOML syntax.
    pub fn label(&self) -> String {
        match self {
            Value::Str(s) => s.clone(),
            other => other.toml(),
        }
    }

    /// The value in TOML syntax.
    pub fn toml(&self) -> String {
        match self {
            Value::Str(s) => toml_edit::Value::from(s.as_str()).to_string(),
            Value::Int(i) => i.to_string(),
            Value::Float(x) => toml_edit::Value::from(*x).to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Datetime(d) => d.clone(),
            Value::Array(items) => {
                let parts: Vec<String> = items.iter().map(|n| n.value.toml()).collect();
                format!("[{}]", parts.join(", "))
            }
            Value::Table(entries) => {
                let parts: Vec<String> = entries
                    .iter()
                    .map(|e| format!("{} = {}", e.key, e.node.value.toml()))
                    .collect();
                format!("{{ {} }}", parts.join(", "))
            }
        }
    }

    /// The value as JSON (for the `cell` object of the JSON report).
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Str(s) | Value::Datetime(s) => serde_json::Value::from(s.as_str()),
            Value::Int(i) => serde_json::Value::from(*i),
            Value::Float(x) => serde_json::Value::from(*x),
            Value::Bool(b) => serde_json::Value::from(*b),
            Value::Array(items) => items.iter().map(|n| n.value.to_json()).collect(),
            Value::Table(entries) => serde_json::Value::Object(
                entries
                    .iter()
                    .map(|e| (e.key.clone(), e.node.value.to_json()))
                    .collect(),
            ),
        }
    }
}

impl Node {
    /// The entries when this is a table.
    pub fn entries(&self) -> Option<&[Entry]> {
        match &self.value {
            Value::Table(e) => Some(e),
            _ => None,
        }
    }

    /// The entry `key` of this table.
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        self.entries()?.iter().find(|e| e.key == key)
    }

    /// The value at `key` of this table.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|e| &e.node)
    }

    /// The node at a path of keys.
    pub fn at(&self, path: &[&str]) -> Option<&Node> {
        path.iter().try_fold(self, |node, key| node.get(key))
    }

    /// Sets the value at `path`, creating missing tables on the way. Returns false when some
    /// step of the path is not a table.
    pub fn set(&mut self, path: &[&str], node: Node) -> bool {
        let Some((first, rest)) = path.split_first() else {
            *self = node;
            return true;
        };
        let Value::Table(entries) = &mut self.value else {
            return false;
        };
        if let Some(e) = entries.iter_mut().find(|e| e.key == *first) {
            return e.node.set(rest, node);
        }
        let mut child = if rest.is_empty() {
            node.clone()
        } else {
            Node {
                value: Value::Table(Vec::new()),
                loc: Loc::None,
            }
        };
        if !rest.is_empty() && !child.set(rest, node) {
            return false;
        }
        entries.push(Entry {
            key: (*first).to_string(),
            key_loc: Loc::None,
            node: child,
        });
        true
    }

    /// Removes the entry `key` of this table.
    pub fn remove(&mut self, key: &str) -> Option<Node> {
        let Value::Table(entries) = &mut self.value else {
            return None;
        };
        let i = entries.iter().position(|e| e.key == key)?;
        Some(entries.remove(i).node)
    }

    /// Marks every value of this subtree as coming from `loc` (substitutions).
    pub fn relocate(&mut self, loc: &Loc) {
        self.loc = loc.clone();
        match &mut self.value {
            Value::Array(items) => items.iter_mut().for_each(|n| n.relocate(loc)),
            Value::Table(entries) => entries.iter_mut().for_each(|e| {
                e.key_loc = loc.clone();
                e.node.relocate(loc);
            }),
            _ => {}
        }
    }
}

/// Converts a parsed document into a tree.
pub fn from_document(table: &toml_edit::Table) -> Node {
    from_table(table)
}

fn from_table(table: &toml_edit::Table) -> Node {
    let entries = table
        .iter()
        .filter_map(|(k, item)| {
            let (key, _) = table.get_key_value(k)?;
            let node = from_item(item)?;
            Some(Entry {
                key: k.to_string(),
                key_loc: Loc::file(key.span()),
                node,
            })
        })
        .collect();
    Node {
        value: Value::Table(entries),
        loc: Loc::file(table.span()),
    }
}

fn from_item(item: &toml_edit::Item) -> Option<Node> {
    match item {
        toml_edit::Item::None => None,
        toml_edit::Item::Value(v) => Some(from_value(v)),
        toml_edit::Item::Table(t) => Some(from_table(t)),
        toml_edit::Item::ArrayOfTables(a) => Some(Node {
            value: Value::Array(a.iter().map(from_table).collect()),
            loc: Loc::file(a.span()),
        }),
    }
}

/// Converts one parsed value.
pub fn from_value(v: &toml_edit::Value) -> Node {
    use toml_edit::Value as V;
    let value = match v {
        V::String(s) => Value::Str(s.value().clone()),
        V::Integer(i) => Value::Int(*i.value()),
        V::Float(x) => Value::Float(*x.value()),
        V::Boolean(b) => Value::Bool(*b.value()),
        V::Datetime(d) => Value::Datetime(d.value().to_string()),
        V::Array(a) => Value::Array(a.iter().map(from_value).collect()),
        V::InlineTable(t) => Value::Table(
            t.iter()
                .filter_map(|(k, item)| {
                    let (key, _) = t.get_key_value(k)?;
                    Some(Entry {
                        key: k.to_string(),
                        key_loc: Loc::file(key.span()),
                        node: from_value(item),
                    })
                })
                .collect(),
        ),
    };
    Node {
        value,
        loc: Loc::file(v.span()),
    }
}

/// The value of a `--set PATH=VALUE` argument: TOML syntax when it parses as a TOML value
/// (`20`, `true`, `"x"`, `["a", "b"]`), otherwise the text as a string (`ext4`, `4GiB`).
pub fn parse_cli_value(text: &str, loc: &Loc) -> Node {
    let mut node = match text.trim().parse::<toml_edit::Value>() {
        Ok(v) => from_value(&v),
        Err(_) => Node {
            value: Value::Str(text.to_string()),
            loc: Loc::None,
        },
    };
    node.relocate(loc);
    node
}
