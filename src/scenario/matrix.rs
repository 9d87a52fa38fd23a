//! `[matrix]` axes, `--set`/`--policy` restrictions, cell labels and `[expect]` patterns.

use super::error::{did_you_mean, list_of, one_of, Diag, Loc, Source};
use super::schema;
use super::tree::{Node, Value};
use crate::spec::Policy;
use std::sync::Arc;

/// The name of the policy axis.
pub const POLICY_AXIS: &str = "policy";

/// One axis of the matrix.
#[derive(Clone, Debug)]
pub struct Axis {
    /// The dotted path (`mount.backup.fs`), or `policy`.
    pub path: String,
    /// The values, in declaration order (each located at its place in `[matrix]`).
    pub values: Vec<Node>,
    /// Whether the file declared it (the policy axis may be implicit).
    pub declared: bool,
}

impl Axis {
    /// Whether this is the policy axis.
    pub fn is_policy(&self) -> bool {
        self.path == POLICY_AXIS
    }

    /// The column heading: the last path component.
    pub fn heading(&self) -> &str {
        self.path.rsplit('.').next().unwrap_or(&self.path)
    }

    /// The labels of the values.
    pub fn labels(&self) -> Vec<String> {
        self.values.iter().map(|v| v.value.label()).collect()
    }
}

/// The implicit policy axis: both policies, in report order.
pub fn implicit_policy_axis() -> Axis {
    Axis {
        path: POLICY_AXIS.into(),
        values: Policy::ALL
            .iter()
            .map(|p| Node {
                value: Value::Str(p.name().into()),
                loc: Loc::None,
            })
            .collect(),
        declared: false,
    }
}

/// Every combination of one value per axis, first axis outermost: indices into each axis.
pub fn cells(axes: &[Axis]) -> Vec<Vec<usize>> {
    axes.iter().fold(vec![Vec::new()], |acc, axis| {
        acc.iter()
            .flat_map(|prefix| {
                (0..axis.values.len()).map(move |i| {
                    let mut c = prefix.clone();
                    c.push(i);
                    c
                })
            })
            .collect()
    })
}

/// A cell's label: its values joined by `/`.
pub fn label(components: &[String]) -> String {
    components.join("/")
}

/// Whether an `[expect]` key matches a cell: components separated by `/`, `*` matching any one
/// value. Values may themselves contain `/` (`100MB/s`), so matching is done per component.
pub fn pattern_matches(pattern: &str, components: &[String]) -> bool {
    matches_levels(pattern, components, std::slice::from_ref)
}

/// Whether an `[expect]` key matches some cell of the axes whose value labels are `axes`
/// (outermost first), without listing the cells: component by component, `*` or a value of
/// that axis.
pub fn pattern_matches_axes(pattern: &str, axes: &[Vec<String>]) -> bool {
    matches_levels(pattern, axes, Vec::as_slice)
}

/// The matching both share: at each level (a cell's component, or an axis), `*` or one of the
/// level's `values`, then `/` and the next level.
fn matches_levels<T>(pattern: &str, levels: &[T], values: fn(&T) -> &[String]) -> bool {
    let Some((level, rest)) = levels.split_first() else {
        return pattern.is_empty();
    };
    let tail = |t: &str| -> bool {
        if rest.is_empty() {
            t.is_empty()
        } else {
            t.strip_prefix('/')
                .is_some_and(|t| matches_levels(t, rest, values))
        }
    };
    (pattern.starts_with('*') && tail(&pattern[1..]))
        || values(level)
            .iter()
            .any(|v| pattern.strip_prefix(v.as_str()).is_some_and(tail))
}

/// The value labels of cell `index` (mixed radix, first axis outermost).
pub fn cell_labels(axes: &[Vec<String>], index: usize) -> Vec<String> {
    let mut rest = index;
    let mut out = vec![String::new(); axes.len()];
    for (i, values) in axes.iter().enumerate().rev() {
        let n = values.len().max(1);
        out[i] = values.get(rest % n).cloned().unwrap_or_default();
        rest /= n;
    }
    out
}

/// Checks that a dotted path names a value the format has (present or optional). Returns a
/// message and a hint when it does not.
pub fn resolve_path(root: &Node, path: &str) -> Result<(), (String, Option<String>)> {
    let parts: Vec<&str> = path.split('.').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err((
            format!("`{path}` is not a dotted path such as `vm.dirty_ratio` or `task.backup.size`"),
            None,
        ));
    }
    let tables: Vec<&str> = schema::TOP_LEVEL
        .iter()
        .copied()
        .filter(|t| !matches!(*t, "matrix" | "expect"))
        .collect();
    let top = parts[0];
    let (keys, depth): (Vec<&str>, usize) = match top {
        "scenario" => (schema::SCENARIO.to_vec(), 2),
        "machine" => (schema::MACHINE.to_vec(), 2),
        "vm" => (schema::VM.to_vec(), 2),
        "noise" => (schema::NOISE.to_vec(), 2),
        "kernel" => (schema::kernel_keys(), 2),
        "disk" | "mount" | "task" => (named_table_keys(root, path, &parts)?, 3),
        _ => {
            return Err((
                format!(
                    "`{path}` does not start with a table of the format; expected one of {}",
                    one_of(&tables)
                ),
                did_you_mean(top, tables.iter().copied()),
            ));
        }
    };
    if parts.len() < depth {
        return Err((
            format!(
                "`{path}` names a table, not a value; its keys are: {}",
                keys.join(", ")
            ),
            None,
        ));
    }
    let key = parts[depth - 1];
    if !keys.contains(&key) {
        let table = parts[..depth - 1].join(".");
        return Err((
            format!(
                "`[{table}]` has no key `{key}`; its keys are: {}",
                keys.join(", ")
            ),
            did_you_mean(key, keys.iter().copied()),
        ));
    }
    if parts.len() > depth {
        return Err((
            format!("`{}` is a value, not a table", parts[..depth].join(".")),
            None,
        ));
    }
    Ok(())
}

/// The keys of `[disk.NAME]`, `[mount.NAME]` or `[task.NAME]` (a task's by its kind), for a
/// path `parts` into one of them; `NAME` must be declared.
fn named_table_keys(
    root: &Node,
    path: &str,
    parts: &[&str],
) -> Result<Vec<&'static str>, (String, Option<String>)> {
    let top = parts[0];
    let names: Vec<&str> = root
        .get(top)
        .and_then(Node::entries)
        .unwrap_or_default()
        .iter()
        .map(|e| e.key.as_str())
        .collect();
    let Some(name) = parts.get(1) else {
        return Err((
            format!("`{path}` names a group of tables; expected `{top}.NAME.KEY`"),
            None,
        ));
    };
    if !names.contains(name) {
        return Err((
            format!(
                "there is no `[{top}.{name}]`; declared: {}",
                if names.is_empty() {
                    "none".into()
                } else {
                    list_of(&names)
                }
            ),
            did_you_mean(name, names.iter().copied()),
        ));
    }
    Ok(match top {
        "disk" => schema::DISK.to_vec(),
        "mount" => schema::MOUNT.to_vec(),
        _ => {
            let kind = root
                .at(&["task", name, "kind"])
                .and_then(|n| match &n.value {
                    Value::Str(s) => Some(s.as_str()),
                    _ => None,
                });
            schema::task_keys(kind)
        }
    })
}

/// Reads the `[matrix]` table into axes (the policy axis appended when not declared).
pub fn axes(src: &Arc<Source>, root: &Node, matrix: Option<&Node>) -> Result<Vec<Axis>, Diag> {
    let mut axes = Vec::new();
    let Some(matrix) = matrix else {
        return Ok(vec![implicit_policy_axis()]);
    };
    let Some(entries) = matrix.entries() else {
        return Err(Diag::new(
            src,
            matrix.loc.clone(),
            "matrix",
            format!(
                "found {}; expected a table `[matrix]`",
                matrix.value.type_name()
            ),
        ));
    };
    for e in entries {
        // A dotted path is quoted (`matrix."vm.dirty_ratio"`); `policy` is a bare key, spelt
        // `matrix.policy` as `--policy`'s messages spell it.
        let key = if e.key == POLICY_AXIS {
            format!("matrix.{POLICY_AXIS}")
        } else {
            format!("matrix.\"{}\"", e.key)
        };
        if e.key != POLICY_AXIS {
            resolve_path(root, &e.key).map_err(|(m, h)| {
                Diag::new(
                    src,
                    e.key_loc.clone(),
                    &key,
                    format!("unknown matrix axis: {m}"),
                )
                .help(h)
            })?;
        }
        let Value::Array(items) = &e.node.value else {
            return Err(Diag::new(src, e.node.loc.clone(), &key, format!("found {} `{}`; expected an array of the values to try, e.g. [\"ext3\", \"ext4\"]", e.node.value.type_name(), e.node.value.toml())));
        };
        if items.is_empty() {
            return Err(Diag::new(
                src,
                e.node.loc.clone(),
                &key,
                "the list of values is empty; give at least one value",
            ));
        }
        let values = axis_values(src, &e.key, &key, items)?;
        axes.push(Axis {
            path: e.key.clone(),
            values,
            declared: true,
        });
    }
    if !axes.iter().any(Axis::is_policy) {
        axes.push(implicit_policy_axis());
    }
    Ok(axes)
}

/// The values of axis `axis` (`key` for messages): no table, no value twice, policies named;
/// each relocated to its place in `[matrix]` for later messages.
fn axis_values(
    src: &Arc<Source>,
    axis: &str,
    key: &str,
    items: &[Node],
) -> Result<Vec<Node>, Diag> {
    let mut values: Vec<Node> = Vec::new();
    // Labels seen so far: a set, so a legal 50 000-value axis is not a quadratic search.
    let mut seen = std::collections::HashSet::new();
    for item in items {
        if matches!(item.value, Value::Table(_)) {
            return Err(Diag::new(
                src,
                item.loc.clone(),
                key,
                "a matrix value cannot be a table",
            ));
        }
        if axis == POLICY_AXIS {
            let names: Vec<&str> = Policy::ALL.iter().map(|p| p.name()).collect();
            let ok = matches!(&item.value, Value::Str(s) if Policy::from_name(s).is_some());
            if !ok {
                let label = item.value.label();
                return Err(Diag::new(
                    src,
                    item.loc.clone(),
                    key,
                    format!("found `{label}`; expected one of {}", one_of(&names)),
                )
                .help(did_you_mean(&label, names)));
            }
        }
        if !seen.insert(item.value.label()) {
            return Err(Diag::new(
                src,
                item.loc.clone(),
                key,
                format!("the value `{}` is listed twice", item.value.label()),
            ));
        }
        let mut v = item.clone();
        let span = match &item.loc {
            Loc::File(s) => s.clone(),
            _ => 0..0,
        };
        v.relocate(&Loc::Matrix {
            span,
            axis: axis.to_string(),
        });
        values.push(v);
    }
    Ok(values)
}

/// `wbsim sweep --vary PATH=V1,V2,…`: an axis whose values come from the command line.
#[derive(Clone, Debug)]
pub struct Vary {
    /// The dotted path (or `policy`).
    pub path: String,
    /// The values as typed (TOML, or bare strings such as `1GiB`).
    pub values: Vec<String>,
    /// The argument as written, for error messages.
    pub arg: String,
}

/// Applies `--vary` axes: replaces the values of an existing axis, or adds a new axis before an
/// implicit policy axis (after the file's own axes).
pub fn vary(
    src: &Arc<Source>,
    root: &Node,
    axes: &mut Vec<Axis>,
    vary: &[Vary],
) -> Result<(), Diag> {
    for v in vary {
        let loc = Loc::Arg(v.arg.clone());
        if v.path != POLICY_AXIS {
            resolve_path(root, &v.path)
                .map_err(|(m, h)| Diag::new(src, loc.clone(), &v.path, m).help(h))?;
        }
        let mut values: Vec<Node> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for text in &v.values {
            let node = super::tree::parse_cli_value(text, &loc);
            if v.path == POLICY_AXIS && Policy::from_name(&node.value.label()).is_none() {
                let names: Vec<&str> = Policy::ALL.iter().map(|p| p.name()).collect();
                return Err(Diag::new(
                    src,
                    loc,
                    &v.path,
                    format!("found `{text}`; expected one of {}", one_of(&names)),
                ));
            }
            if !seen.insert(node.value.label()) {
                return Err(Diag::new(
                    src,
                    loc,
                    &v.path,
                    format!("the value `{}` is listed twice", node.value.label()),
                ));
            }
            values.push(node);
        }
        if values.is_empty() {
            return Err(Diag::new(src, loc, &v.path, "no values; give at least one"));
        }
        if let Some(axis) = axes.iter_mut().find(|a| a.path == v.path) {
            axis.values = values;
            axis.declared = true;
            continue;
        }
        let at = axes
            .iter()
            .position(|a| a.is_policy() && !a.declared)
            .unwrap_or(axes.len());
        axes.insert(
            at,
            Axis {
                path: v.path.clone(),
                values,
                declared: true,
            },
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn patterns() {
        assert!(pattern_matches("ext4/redirty", &s(&["ext4", "redirty"])));
        assert!(pattern_matches("*/redirty", &s(&["ext4", "redirty"])));
        assert!(pattern_matches("*/*", &s(&["ext4", "redirty"])));
        assert!(!pattern_matches("*", &s(&["ext4", "redirty"])));
        assert!(!pattern_matches("ext4", &s(&["ext4", "redirty"])));
        assert!(!pattern_matches("ext/redirty", &s(&["ext4", "redirty"])));
        assert!(pattern_matches(
            "100MB/s/activate",
            &s(&["100MB/s", "activate"])
        ));
        assert!(pattern_matches("*/activate", &s(&["100MB/s", "activate"])));
        assert!(pattern_matches("redirty", &s(&["redirty"])));
    }

    #[test]
    fn expansion_order() {
        let axis = |path: &str, vals: &[&str]| Axis {
            path: path.into(),
            values: vals
                .iter()
                .map(|v| Node {
                    value: Value::Str((*v).into()),
                    loc: Loc::None,
                })
                .collect(),
            declared: true,
        };
        let axes = vec![
            axis("mount.b.fs", &["ext3", "ext4"]),
            axis("vm.x", &["1", "2", "3"]),
            implicit_policy_axis(),
        ];
        let cells = cells(&axes);
        assert_eq!(cells.len(), 12);
        let labels: Vec<String> = cells
            .iter()
            .map(|c| {
                label(
                    &c.iter()
                        .zip(&axes)
                        .map(|(i, a)| a.labels()[*i].clone())
                        .collect::<Vec<_>>(),
                )
            })
            .collect();
        assert_eq!(labels[0], "ext3/1/redirty");
        assert_eq!(labels[1], "ext3/1/activate");
        assert_eq!(labels[2], "ext3/2/redirty");
        assert_eq!(labels[11], "ext4/3/activate");
        assert_eq!(axes[0].heading(), "fs");
        assert_eq!(super::cells(&[implicit_policy_axis()]).len(), 2);
    }
}
