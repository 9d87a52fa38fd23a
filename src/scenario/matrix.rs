//! `[matrix]` axes, `--set`/`--policy` restrictions, cell labels and `[expect]` patterns.

use super::error::{did_you_mean, list_of, one_of, Diag, Loc, Source};
use super::schema;
use super::tree::{Entry, Node, Value};
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
    /// The `[[matrix.tied]]` group it belongs to: the axes of one group advance together.
    pub tie: Option<usize>,
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
        tie: None,
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

/// The reserved keys of `[matrix]` (an axis is a dotted path or `policy`, so none is one).
pub const RESERVED: &[&str] = &["tied", "exclude", "include"];

/// One `[[matrix.exclude]]` or `[[matrix.include]]` entry: its keys and values, in order.
#[derive(Clone, Debug)]
pub struct Rule {
    /// `matrix.exclude[N]` / `matrix.include[N]`, for messages.
    pub key: String,
    /// Where the entry is written.
    pub loc: Loc,
    /// The path, where the key is written, and the value.
    pub pairs: Vec<(String, Loc, Node)>,
}

/// What `[matrix]` says besides its axes.
#[derive(Clone, Debug, Default)]
pub struct Rules {
    /// `[[matrix.exclude]]`: combinations to remove (a partial match counts).
    pub exclude: Vec<Rule>,
    /// `[[matrix.include]]`: values added to combinations, or combinations added.
    pub include: Vec<Rule>,
    /// Whether some axes are tied (`[[matrix.tied]]`).
    pub tied: bool,
}

impl Rules {
    /// Whether the matrix is every combination of its axes (no tie, exclude or include).
    pub fn is_product(&self) -> bool {
        !self.tied && self.exclude.is_empty() && self.include.is_empty()
    }
}

/// One combination of a matrix that is not a plain product: an index into each axis' values,
/// and the further settings `[[matrix.include]]` gave it (paths that are not axes).
#[derive(Clone, Debug)]
pub struct Combination {
    /// The value of each axis (index into its values).
    pub index: Vec<usize>,
    /// `(path, value)` set on top of the axes' values.
    pub extra: Vec<(String, Node)>,
}

/// Reads the `[matrix]` table into axes (the policy axis appended when not declared) and its
/// `tied`/`exclude`/`include` rules.
pub fn axes(
    src: &Arc<Source>,
    root: &Node,
    matrix: Option<&Node>,
) -> Result<(Vec<Axis>, Rules), Diag> {
    let mut axes = Vec::new();
    let mut rules = Rules::default();
    let Some(matrix) = matrix else {
        return Ok((vec![implicit_policy_axis()], rules));
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
        match e.key.as_str() {
            "tied" => {
                for group in tables_of(
                    src,
                    e,
                    "[[matrix.tied]]",
                    "\"task.a.size\" = [\"1GiB\", \"2GiB\"]",
                )? {
                    let tie = axes
                        .iter()
                        .filter_map(|a: &Axis| a.tie)
                        .max()
                        .map_or(0, |t| t + 1);
                    tied_group(src, root, group, tie, &mut axes)?;
                    rules.tied = true;
                }
                continue;
            }
            "exclude" | "include" => {
                read_rules(src, e, &mut rules)?;
                continue;
            }
            _ => {}
        }
        // A dotted path is quoted (`matrix."vm.dirty_ratio"`); `policy` is a bare key, spelt
        // `matrix.policy` as `--policy`'s messages spell it.
        let key = axis_key(&e.key);
        check_axis_path(src, root, &axes, e)?;
        let items = axis_items(src, e, &key)?;
        let values = axis_values(src, &e.key, &key, items, true)?;
        axes.push(Axis {
            path: e.key.clone(),
            values,
            declared: true,
            tie: None,
        });
    }
    if !axes.iter().any(Axis::is_policy) {
        axes.push(implicit_policy_axis());
    }
    Ok((axes, rules))
}

/// `matrix.exclude` or `matrix.include` (entry `e`) into `rules`.
fn read_rules(src: &Arc<Source>, e: &Entry, rules: &mut Rules) -> Result<(), Diag> {
    let example = "\"mount.backup.fs\" = \"ext3\"";
    let header = format!("[[matrix.{}]]", e.key);
    for (i, t) in tables_of(src, e, &header, example)?.into_iter().enumerate() {
        let rule = Rule {
            key: format!("matrix.{}[{i}]", e.key),
            loc: t.loc.clone(),
            pairs: t
                .entries()
                .unwrap_or_default()
                .iter()
                .map(|p| (p.key.clone(), p.key_loc.clone(), p.node.clone()))
                .collect(),
        };
        if e.key == "exclude" {
            rules.exclude.push(rule);
        } else {
            rules.include.push(rule);
        }
    }
    Ok(())
}

/// How messages spell the `[matrix]` key of axis `path`.
fn axis_key(path: &str) -> String {
    if path == POLICY_AXIS {
        format!("matrix.{POLICY_AXIS}")
    } else {
        format!("matrix.\"{path}\"")
    }
}

/// An axis' path must be one the format has, and not already an axis.
fn check_axis_path(src: &Arc<Source>, root: &Node, axes: &[Axis], e: &Entry) -> Result<(), Diag> {
    let key = axis_key(&e.key);
    if e.key != POLICY_AXIS {
        resolve_path(root, &e.key).map_err(|(m, h)| {
            let m = if RESERVED
                .iter()
                .any(|r| did_you_mean(&e.key, [*r]).is_some())
            {
                format!("{m}; the other keys of [matrix] are `tied`, `exclude` and `include`")
            } else {
                m
            };
            Diag::new(
                src,
                e.key_loc.clone(),
                &key,
                format!("unknown matrix axis: {m}"),
            )
            .help(h)
        })?;
    }
    if axes.iter().any(|a| a.path == e.key) {
        return Err(Diag::new(
            src,
            e.key_loc.clone(),
            &key,
            "this axis is declared twice in [matrix] (a tied axis is declared once, in its `[[matrix.tied]]` group)",
        ));
    }
    Ok(())
}

/// An axis' values: a non-empty array.
fn axis_items<'n>(src: &Arc<Source>, e: &'n Entry, key: &str) -> Result<&'n [Node], Diag> {
    let Value::Array(items) = &e.node.value else {
        return Err(Diag::new(
            src,
            e.node.loc.clone(),
            key,
            format!(
                "found {} `{}`; expected an array of the values to try, e.g. [\"ext3\", \"ext4\"]",
                e.node.value.type_name(),
                e.node.value.toml()
            ),
        ));
    };
    if items.is_empty() {
        return Err(Diag::new(
            src,
            e.node.loc.clone(),
            key,
            "the list of values is empty; give at least one value",
        ));
    }
    Ok(items)
}

/// The tables of `matrix.tied`/`exclude`/`include`: an array of non-empty tables.
fn tables_of<'n>(
    src: &Arc<Source>,
    e: &'n Entry,
    header: &str,
    example: &str,
) -> Result<Vec<&'n Node>, Diag> {
    let key = format!("matrix.{}", e.key);
    let expected = format!(
        "expected an array of tables: `{header}` lines, each followed by keys such as `{example}`"
    );
    let Value::Array(items) = &e.node.value else {
        return Err(Diag::new(
            src,
            e.node.loc.clone(),
            &key,
            format!("found {}; {expected}", e.node.value.type_name()),
        ));
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match item.entries() {
            Some(entries) if !entries.is_empty() => out.push(item),
            Some(_) => {
                return Err(Diag::new(
                    src,
                    item.loc.clone(),
                    format!("{key}[{i}]"),
                    format!("the table is empty; {expected}"),
                ))
            }
            None => {
                return Err(Diag::new(
                    src,
                    item.loc.clone(),
                    format!("{key}[{i}]"),
                    format!("found {}; {expected}", item.value.type_name()),
                ))
            }
        }
    }
    Ok(out)
}

/// One `[[matrix.tied]]` group: its keys become axes of tie `tie`, all with as many values; the
/// i-th values of every key make the group's i-th step, and no step is listed twice.
fn tied_group(
    src: &Arc<Source>,
    root: &Node,
    group: &Node,
    tie: usize,
    axes: &mut Vec<Axis>,
) -> Result<(), Diag> {
    let entries = group.entries().unwrap_or_default();
    let mut len: Option<(usize, &str)> = None;
    let first = axes.len();
    for e in entries {
        let key = axis_key(&e.key);
        if e.key == POLICY_AXIS {
            return Err(Diag::new(src, e.key_loc.clone(), &key, "the policy axis cannot be tied; declare it in [matrix], or restrict it in [[matrix.exclude]]"));
        }
        check_axis_path(src, root, axes, e)?;
        let items = axis_items(src, e, &key)?;
        if let Some((n, other)) = len {
            if items.len() != n {
                return Err(Diag::new(src, e.node.loc.clone(), &key, format!("a tied axis has {} values but `{other}` in the same [[matrix.tied]] group has {n}; tied axes step together, so each needs one value per step", items.len())));
            }
        }
        len = Some((items.len(), e.key.as_str()));
        let values = axis_values(src, &e.key, &key, items, false)?;
        axes.push(Axis {
            path: e.key.clone(),
            values,
            declared: true,
            tie: Some(tie),
        });
    }
    let mut seen = std::collections::HashSet::new();
    for i in 0..len.map_or(0, |(n, _)| n) {
        let step: Vec<String> = axes[first..]
            .iter()
            .map(|a| a.values[i].value.label())
            .collect();
        if !seen.insert(step.clone()) {
            let a = &axes[first];
            return Err(Diag::new(
                src,
                a.values[i].loc.clone(),
                axis_key(&a.path),
                format!("the tied step `{}` is listed twice", label(&step)),
            ));
        }
    }
    Ok(())
}

/// The values of axis `axis` (`key` for messages): no table, no value twice, policies named;
/// each relocated to its place in `[matrix]` for later messages.
fn axis_values(
    src: &Arc<Source>,
    axis: &str,
    key: &str,
    items: &[Node],
    unique: bool,
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
        if !seen.insert(item.value.label()) && unique {
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
            if axis.tie.is_some() {
                return Err(Diag::new(
                    src,
                    loc,
                    &v.path,
                    "this axis is tied to others in [[matrix.tied]]; vary the group in the file, or restrict it with --set",
                ));
            }
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
                tie: None,
            },
        );
    }
    Ok(())
}

/// The combinations of a matrix that is not a plain product (`None` for a plain product):
/// every combination of the axes (a tied group counting as one axis), less those an exclude
/// matches, with each include applied (GitHub Actions' rules: an include whose axis values a
/// combination has adds its other keys to it; one that fits no combination adds one). `varied`
/// are the `--vary` paths, whose values an exclude or include need not name.
pub fn combinations(
    src: &Arc<Source>,
    root: &Node,
    axes: &mut [Axis],
    rules: &Rules,
    varied: &[String],
) -> Result<Option<Vec<Combination>>, Diag> {
    if rules.is_product() {
        return Ok(None);
    }
    // Groups of axes stepping together, outermost first: (first axis, axes, steps).
    let mut groups: Vec<(Vec<usize>, usize)> = Vec::new();
    for (i, a) in axes.iter().enumerate() {
        match groups.last_mut() {
            Some((members, _)) if a.tie.is_some() && axes[members[0]].tie == a.tie => {
                members.push(i)
            }
            _ => groups.push((vec![i], a.values.len())),
        }
    }
    let count = groups
        .iter()
        .try_fold(1usize, |n, (_, len)| n.checked_mul(*len));
    if count.map_or(true, |n| n > super::MAX_RUNS) {
        return Err(Diag::new(
            src,
            Loc::None,
            "matrix",
            format!(
                "the matrix has more than {} combinations; split it or narrow it",
                super::MAX_RUNS
            ),
        ));
    }
    let mut combos: Vec<Combination> = groups
        .iter()
        .fold(vec![vec![0; axes.len()]], |acc, (members, len)| {
            acc.iter()
                .flat_map(|prefix| {
                    (0..*len).map(move |step| {
                        let mut c = prefix.clone();
                        members.iter().for_each(|&m| c[m] = step);
                        c
                    })
                })
                .collect()
        })
        .into_iter()
        .map(|index| Combination {
            index,
            extra: Vec::new(),
        })
        .collect();
    for rule in &rules.exclude {
        let wanted = exclude_pairs(src, axes, rule, varied)?;
        combos.retain(|c| {
            !wanted
                .iter()
                .all(|(a, l)| axes[*a].values[c.index[*a]].value.label() == *l)
        });
    }
    include(src, root, axes, &rules.include, &mut combos)?;
    if combos.is_empty() {
        return Err(Diag::new(
            src,
            rules.exclude.last().map_or(Loc::None, |r| r.loc.clone()),
            "matrix.exclude",
            "the excludes remove every combination of the matrix; nothing would run",
        ));
    }
    Ok(Some(combos))
}

/// An exclude entry as (axis, value label) pairs: every key an axis, every value one of its
/// values (unless `--vary` replaced them).
fn exclude_pairs(
    src: &Arc<Source>,
    axes: &[Axis],
    rule: &Rule,
    varied: &[String],
) -> Result<Vec<(usize, String)>, Diag> {
    let mut out = Vec::new();
    for (path, key_loc, node) in &rule.pairs {
        let key = format!("{}.\"{path}\"", rule.key);
        let Some(a) = axes.iter().position(|a| a.path == *path) else {
            let paths: Vec<&str> = axes.iter().map(|a| a.path.as_str()).collect();
            return Err(Diag::new(
                src,
                key_loc.clone(),
                &key,
                format!(
                    "`{path}` is not an axis of the matrix; an exclude names axes: {}",
                    list_of(&paths)
                ),
            )
            .help(did_you_mean(path, paths.iter().copied())));
        };
        let value = node.value.label();
        let labels = axes[a].labels();
        if !labels.contains(&value) && !varied.contains(path) {
            return Err(Diag::new(
                src,
                node.loc.clone(),
                &key,
                format!(
                    "the axis `{path}` has no value `{value}`; its values are {}",
                    list_of(&labels)
                ),
            )
            .help(did_you_mean(&value, labels.iter().map(String::as_str))));
        }
        out.push((a, value));
    }
    Ok(out)
}

/// Applies the include entries to `combos`, in order (see [`combinations`]).
fn include(
    src: &Arc<Source>,
    root: &Node,
    axes: &mut [Axis],
    rules: &[Rule],
    combos: &mut Vec<Combination>,
) -> Result<(), Diag> {
    let original = combos.len();
    let mut labels: std::collections::HashSet<String> =
        combos.iter().map(|c| combination_label(axes, c)).collect();
    for rule in rules {
        let (on_axes, extra) = include_pairs(src, root, axes, rule)?;
        let mut fitted = false;
        for c in combos[..original].iter_mut() {
            let fits = on_axes
                .iter()
                .all(|(a, n)| axes[*a].values[c.index[*a]].value.label() == n.value.label());
            if fits {
                fitted = true;
                for (path, node) in &extra {
                    c.extra.retain(|(p, _)| p != path);
                    c.extra.push((path.clone(), node.clone()));
                }
            }
        }
        if fitted {
            continue;
        }
        for index in new_indices(src, root, axes, rule, &on_axes)? {
            let c = Combination {
                index,
                extra: extra.clone(),
            };
            let l = combination_label(axes, &c);
            if !labels.insert(l.clone()) {
                return Err(Diag::new(src, rule.loc.clone(), &rule.key, format!("adds the combination `{l}`, which an earlier include already added; give it different values")));
            }
            combos.push(c);
        }
    }
    Ok(())
}

/// A combination's label (its axis values joined by `/`).
fn combination_label(axes: &[Axis], c: &Combination) -> String {
    let components: Vec<String> = axes
        .iter()
        .zip(&c.index)
        .map(|(a, &i)| a.values[i].value.label())
        .collect();
    label(&components)
}

/// An include entry split into its axis values `(axis, value)` and its other settings
/// `(path, value)`, each relocated to its place in `[matrix]`.
#[allow(clippy::type_complexity)]
fn include_pairs(
    src: &Arc<Source>,
    root: &Node,
    axes: &[Axis],
    rule: &Rule,
) -> Result<(Vec<(usize, Node)>, Vec<(String, Node)>), Diag> {
    let (mut on_axes, mut extra) = (Vec::new(), Vec::new());
    for (path, key_loc, node) in &rule.pairs {
        let key = format!("{}.\"{path}\"", rule.key);
        let mut node = node.clone();
        let span = match &node.loc {
            Loc::File(s) => s.clone(),
            _ => 0..0,
        };
        node.relocate(&Loc::Matrix {
            span,
            axis: path.clone(),
        });
        if matches!(node.value, Value::Table(_)) {
            return Err(Diag::new(
                src,
                node.loc.clone(),
                &key,
                "a matrix value cannot be a table",
            ));
        }
        if let Some(a) = axes.iter().position(|a| a.path == *path) {
            if axes[a].is_policy() && Policy::from_name(&node.value.label()).is_none() {
                let names: Vec<&str> = Policy::ALL.iter().map(|p| p.name()).collect();
                return Err(Diag::new(
                    src,
                    node.loc.clone(),
                    &key,
                    format!(
                        "found `{}`; expected one of {}",
                        node.value.label(),
                        one_of(&names)
                    ),
                ));
            }
            on_axes.push((a, node));
        } else {
            resolve_path(root, path)
                .map_err(|(m, h)| Diag::new(src, key_loc.clone(), &key, m).help(h))?;
            extra.push((path.clone(), node));
        }
    }
    Ok((on_axes, extra))
}

/// The combinations an include that fits none adds: its axis values (appended to an axis that
/// lacks one), the file's value for an axis it does not name, and for the policy axis when it
/// names none, one combination per policy of the axis.
fn new_indices(
    src: &Arc<Source>,
    root: &Node,
    axes: &mut [Axis],
    rule: &Rule,
    on_axes: &[(usize, Node)],
) -> Result<Vec<Vec<usize>>, Diag> {
    let mut out: Vec<Vec<usize>> = vec![Vec::new()];
    for (a, axis) in axes.iter_mut().enumerate() {
        let choices: Vec<usize> = if let Some((_, n)) = on_axes.iter().find(|(i, _)| *i == a) {
            vec![value_index(axis, n)]
        } else if axis.is_policy() {
            (0..axis.values.len()).collect()
        } else {
            let parts: Vec<&str> = axis.path.split('.').collect();
            let Some(base) = root.at(&parts) else {
                return Err(Diag::new(src, rule.loc.clone(), &rule.key, format!("fits no combination of the matrix, so it adds one, but it gives no value for the axis `{}` and the file has none outside [matrix]; add `\"{}\" = …` to it", axis.path, axis.path)));
            };
            let base = base.clone();
            vec![value_index(axis, &base)]
        };
        out = out
            .iter()
            .flat_map(|prefix| {
                choices.iter().map(move |&i| {
                    let mut c = prefix.clone();
                    c.push(i);
                    c
                })
            })
            .collect();
    }
    Ok(out)
}

/// The index of `node`'s value on `axis`, appending it when the axis lacks it.
fn value_index(axis: &mut Axis, node: &Node) -> usize {
    let l = node.value.label();
    axis.values
        .iter()
        .position(|v| v.value.label() == l)
        .unwrap_or_else(|| {
            axis.values.push(node.clone());
            axis.values.len() - 1
        })
}

/// Keeps the combinations whose value on each axis is one of `keep`'s (an empty list keeps
/// every value), then drops the axis values no combination uses.
pub fn restrict(axes: &mut [Axis], combos: &mut Vec<Combination>, keep: &[Vec<String>]) {
    combos.retain(|c| {
        axes.iter()
            .zip(keep)
            .zip(&c.index)
            .all(|((a, k), &i)| k.is_empty() || k.contains(&a.values[i].value.label()))
    });
    for (a, axis) in axes.iter_mut().enumerate() {
        let used: Vec<bool> = (0..axis.values.len())
            .map(|v| combos.iter().any(|c| c.index[a] == v))
            .collect();
        let mut renumber = Vec::with_capacity(used.len());
        let mut next = 0;
        for &u in &used {
            renumber.push(next);
            next += usize::from(u);
        }
        let mut v = 0;
        axis.values.retain(|_| {
            v += 1;
            used[v - 1]
        });
        for c in combos.iter_mut() {
            c.index[a] = renumber[c.index[a]];
        }
    }
}

/// `combos`, or every combination of `axes` (a plain product) when there are none listed.
pub fn listed_or_product(axes: &[Axis], combos: Option<&[Combination]>) -> Vec<Combination> {
    match combos {
        Some(c) => c.to_vec(),
        None => cells(axes)
            .into_iter()
            .map(|index| Combination {
                index,
                extra: Vec::new(),
            })
            .collect(),
    }
}

/// The labels of each combination's axis values.
pub fn combination_components(axes: &[Axis], combos: &[Combination]) -> Vec<Vec<String>> {
    combos
        .iter()
        .map(|c| {
            axes.iter()
                .zip(&c.index)
                .map(|(a, &i)| a.values[i].value.label())
                .collect()
        })
        .collect()
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
            tie: None,
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
