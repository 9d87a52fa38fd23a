//! TOML scenarios: loading, validation, `[matrix]` expansion and `[expect]`.
//!
//! [`load`] turns a file plus command-line overrides into a [`Scenario`]: one [`PlannedRun`]
//! (a validated [`RunSpec`]) per matrix cell × policy. Every problem is a [`Diag`] naming the
//! file, line, column and dotted key.

pub mod error;
pub mod matrix;
pub mod schema;
pub mod tree;
pub mod units;
pub mod validate;

use std::path::Path;
use std::sync::Arc;

pub use error::Diag;
use error::{did_you_mean, list_of, one_of, Loc, Source};
use matrix::Axis;
use tree::{Node, Value};

use crate::spec::{Policy, RunSpec};

/// What the command line changes in a scenario.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    /// `--set PATH=VALUE`, in order.
    pub sets: Vec<(String, String)>,
    /// `--policy NAME` (empty: every policy of the axis).
    pub policies: Vec<Policy>,
    /// `--seed N`.
    pub seed: Option<u64>,
}

/// One run to do.
#[derive(Clone, Debug)]
pub struct PlannedRun {
    /// The label of each axis value, in axis order (policy included).
    pub components: Vec<String>,
    /// The non-policy axes' paths and values.
    pub cell: Vec<(String, Value)>,
    /// `components` joined by `/`.
    pub label: String,
    /// The label without the policy component (empty when the policy is the only axis).
    pub label_without_policy: String,
    /// The validated input.
    pub spec: RunSpec,
}

/// What one `[expect]` entry expects.
#[derive(Clone, Debug)]
pub struct Expectation {
    /// The key as written (a cell label, `*` matching any value).
    pub pattern: String,
    /// `oom`, `survived` or `stalled`.
    pub outcome: String,
    /// The expected victim, when given.
    pub victim: Option<String>,
    /// The expected invoker, when given.
    pub invoker: Option<String>,
}

impl Expectation {
    /// How the expectation reads: `oom (victim oracle)`.
    pub fn describe(&self) -> String {
        let mut extra = Vec::new();
        if let Some(v) = &self.victim {
            extra.push(format!("victim {v}"));
        }
        if let Some(i) = &self.invoker {
            extra.push(format!("invoker {i}"));
        }
        if extra.is_empty() {
            self.outcome.clone()
        } else {
            format!("{} ({})", self.outcome, extra.join(", "))
        }
    }
}

/// A loaded, validated scenario file.
#[derive(Debug)]
pub struct Scenario {
    /// The path as given.
    pub file: String,
    /// `scenario.name`.
    pub name: String,
    /// The axes (after `--set`/`--policy` restrictions), policy included.
    pub axes: Vec<Axis>,
    /// The runs, cell by cell (first axis outermost).
    pub runs: Vec<PlannedRun>,
    /// `[expect]` entries (`None`: the file has no `[expect]`).
    pub expectations: Option<Vec<Expectation>>,
    /// `--set` arguments that are not axis restrictions (`PATH=VALUE`), for reproduce lines.
    pub plain_sets: Vec<String>,
}

/// Reads a file's text, with clear errors for missing files, directories and non-UTF-8 bytes.
pub fn read_source(path: &Path) -> anyhow::Result<Arc<Source>> {
    let name = path.display().to_string();
    if path.is_dir() {
        anyhow::bail!("{name}: is a directory, not a scenario file (expected a .toml file)");
    }
    let bytes = std::fs::read(path)
        .map_err(|e| anyhow::anyhow!("{name}: cannot read the scenario file: {e}"))?;
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => anyhow::bail!(error::utf8_error(&name, e.as_bytes(), &e.utf8_error())),
    };
    Ok(Arc::new(Source { name, text }))
}

/// Loads and validates a scenario file.
pub fn load(path: &Path, ov: &Overrides) -> anyhow::Result<Scenario> {
    let src = read_source(path)?;
    Ok(load_source(&src, ov)?)
}

/// Validates a scenario's text.
pub fn load_source(src: &Arc<Source>, ov: &Overrides) -> Result<Scenario, Diag> {
    let doc = toml_edit::ImDocument::parse(src.text.as_str()).map_err(|e| {
        Diag::new(
            src,
            Loc::file(e.span()),
            "",
            format!(
                "TOML syntax error: {}",
                e.message().trim_end().replace('\n', "; ")
            ),
        )
    })?;
    let mut root = tree::from_document(doc.as_table());
    let matrix = root.remove("matrix");
    let expect = root.remove("expect");
    let mut axes = matrix::axes(src, &root, matrix.as_ref())?;

    // The full cell set, before restrictions: `[expect]` keys are checked against it.
    let full_labels: Vec<Vec<String>> = matrix::cells(&axes)
        .iter()
        .map(|c| {
            c.iter()
                .zip(&axes)
                .map(|(i, a)| a.values[*i].value.label())
                .collect()
        })
        .collect();

    // --set: restrict axes or override values.
    let mut plain_sets = Vec::new();
    let mut restrict: Vec<Vec<String>> = vec![Vec::new(); axes.len()];
    for (path, text) in &ov.sets {
        let arg = format!("{path}={text}");
        let loc = Loc::Set(arg.clone());
        let node = tree::parse_cli_value(text, &loc);
        if let Some(i) = axes.iter().position(|a| a.path == *path) {
            let label = node.value.label();
            let labels = axes[i].labels();
            if !labels.contains(&label) {
                return Err(Diag::new(
                    src,
                    loc,
                    path,
                    format!(
                        "the matrix axis `{path}` has no value `{label}`; its values are {}",
                        list_of(&labels)
                    ),
                )
                .help(did_you_mean(&label, labels.iter().map(String::as_str))));
            }
            restrict[i].push(label);
            continue;
        }
        if path == matrix::POLICY_AXIS {
            let names: Vec<&str> = Policy::ALL.iter().map(|p| p.name()).collect();
            return Err(Diag::new(
                src,
                loc,
                path,
                format!("found `{text}`; expected one of {}", one_of(&names)),
            )
            .help(did_you_mean(text, names)));
        }
        matrix::resolve_path(&root, path)
            .map_err(|(m, h)| Diag::new(src, loc.clone(), path, m).help(h))?;
        let parts: Vec<&str> = path.split('.').collect();
        if root
            .at(&parts)
            .is_some_and(|n| matches!(n.value, Value::Table(_)))
            || !root.set(&parts, node)
        {
            return Err(Diag::new(src, loc, path, "this path does not hold a value"));
        }
        plain_sets.push(arg);
    }
    if !ov.policies.is_empty() {
        let i = axes
            .iter()
            .position(Axis::is_policy)
            .expect("there is always a policy axis");
        let labels = axes[i].labels();
        for p in &ov.policies {
            if !labels.iter().any(|l| l == p.name()) {
                return Err(Diag::new(
                    src,
                    Loc::None,
                    "matrix.policy",
                    format!(
                        "`--policy {}` is not on the policy axis of this file; its values are {}",
                        p.name(),
                        list_of(&labels)
                    ),
                ));
            }
            restrict[i].push(p.name().to_string());
        }
    }
    for (axis, keep) in axes.iter_mut().zip(&restrict) {
        if !keep.is_empty() {
            axis.values.retain(|v| keep.contains(&v.value.label()));
        }
    }

    // One run per cell.
    let validator = validate::Validator::new(src);
    let mut runs = Vec::new();
    for cell in matrix::cells(&axes) {
        let mut tree = root.clone();
        let mut components = Vec::new();
        let mut policy = Policy::Redirty;
        let mut values = Vec::new();
        for (axis, &i) in axes.iter().zip(&cell) {
            let v = &axis.values[i];
            components.push(v.value.label());
            if axis.is_policy() {
                policy = Policy::from_name(&v.value.label()).expect("policy values are checked");
            } else {
                let parts: Vec<&str> = axis.path.split('.').collect();
                tree.set(&parts, v.clone());
                values.push((axis.path.clone(), v.value.clone()));
            }
        }
        let label = matrix::label(&components);
        let mut spec = validator.run_spec(&tree, policy).map_err(|mut d| {
            if axes.iter().any(|a| a.declared && !a.is_policy()) {
                d.cell = Some(label.clone());
            }
            d
        })?;
        if let Some(seed) = ov.seed {
            spec.seed = seed;
        }
        let without: Vec<String> = axes
            .iter()
            .zip(&components)
            .filter(|(a, _)| !a.is_policy())
            .map(|(_, c)| c.clone())
            .collect();
        runs.push(PlannedRun {
            components,
            cell: values,
            label,
            label_without_policy: matrix::label(&without),
            spec,
        });
    }

    let name = match root.at(&["scenario", "name"]).map(|n| &n.value) {
        Some(Value::Str(s)) => s.clone(),
        _ => String::new(),
    };
    let task_names: Vec<String> = root
        .get("task")
        .and_then(Node::entries)
        .unwrap_or_default()
        .iter()
        .map(|e| e.key.clone())
        .collect();
    let expectations = match expect {
        None => None,
        Some(e) => Some(expectations(src, &e, &full_labels, &task_names)?),
    };
    Ok(Scenario {
        file: src.name.clone(),
        name,
        axes,
        runs,
        expectations,
        plain_sets,
    })
}

fn expectations(
    src: &Arc<Source>,
    expect: &Node,
    cells: &[Vec<String>],
    tasks: &[String],
) -> Result<Vec<Expectation>, Diag> {
    let Some(entries) = expect.entries() else {
        return Err(Diag::new(
            src,
            expect.loc.clone(),
            "expect",
            format!(
                "found {}; expected a table `[expect]`",
                expect.value.type_name()
            ),
        ));
    };
    let labels: Vec<String> = cells.iter().map(|c| matrix::label(c)).collect();
    let outcomes = format!(
        "one of {} or a table {{ outcome = \"oom\", victim = \"…\", invoker = \"…\" }}",
        one_of(schema::OUTCOMES)
    );
    let mut out = Vec::new();
    for e in entries {
        let key = format!("expect.\"{}\"", e.key);
        if !cells.iter().any(|c| matrix::pattern_matches(&e.key, c)) {
            let shown: Vec<&str> = labels.iter().take(12).map(String::as_str).collect();
            let more = if labels.len() > 12 {
                format!(" (and {} more)", labels.len() - 12)
            } else {
                String::new()
            };
            return Err(Diag::new(src, e.key_loc.clone(), &key, format!("matches no cell of the matrix; cells are: {}{more} (`*` matches any one value)", shown.join(", ")))
                .help(did_you_mean(&e.key, labels.iter().map(String::as_str))));
        }
        let check_outcome = |n: &Node, key: &str| -> Result<String, Diag> {
            match &n.value {
                Value::Str(s) if schema::OUTCOMES.contains(&s.as_str()) => Ok(s.clone()),
                Value::Str(s) => Err(Diag::new(
                    src,
                    n.loc.clone(),
                    key,
                    format!("found `{s}`; expected {outcomes}"),
                )
                .help(did_you_mean(s, schema::OUTCOMES.iter().copied()))),
                other => Err(Diag::new(
                    src,
                    n.loc.clone(),
                    key,
                    format!(
                        "found {} `{}`; expected {outcomes}",
                        other.type_name(),
                        other.toml()
                    ),
                )),
            }
        };
        let mut exp = Expectation {
            pattern: e.key.clone(),
            outcome: String::new(),
            victim: None,
            invoker: None,
        };
        match &e.node.value {
            Value::Table(fields) => {
                for f in fields {
                    let fkey = format!("{key}.{}", f.key);
                    match f.key.as_str() {
                        "outcome" => exp.outcome = check_outcome(&f.node, &fkey)?,
                        "victim" | "invoker" => {
                            let Value::Str(s) = &f.node.value else {
                                return Err(Diag::new(
                                    src,
                                    f.node.loc.clone(),
                                    &fkey,
                                    format!(
                                        "found {}; expected the name of a task",
                                        f.node.value.type_name()
                                    ),
                                ));
                            };
                            if !tasks.contains(s) {
                                return Err(Diag::new(
                                    src,
                                    f.node.loc.clone(),
                                    &fkey,
                                    format!("there is no task `{s}`; declared: {}", list_of(tasks)),
                                )
                                .help(did_you_mean(s, tasks.iter().map(String::as_str))));
                            }
                            if f.key == "victim" {
                                exp.victim = Some(s.clone())
                            } else {
                                exp.invoker = Some(s.clone())
                            }
                        }
                        other => {
                            return Err(Diag::new(
                                src,
                                f.key_loc.clone(),
                                &fkey,
                                format!(
                                    "unknown key `{other}`; accepted keys: {}",
                                    schema::EXPECT_KEYS.join(", ")
                                ),
                            )
                            .help(did_you_mean(other, schema::EXPECT_KEYS.iter().copied())));
                        }
                    }
                }
                if exp.outcome.is_empty() {
                    return Err(Diag::new(
                        src,
                        e.node.loc.clone(),
                        &key,
                        format!(
                            "missing required key `outcome`; expected {}",
                            one_of(schema::OUTCOMES)
                        ),
                    ));
                }
                if exp.outcome != "oom" && (exp.victim.is_some() || exp.invoker.is_some()) {
                    return Err(Diag::new(
                        src,
                        e.node.loc.clone(),
                        &key,
                        "`victim` and `invoker` only make sense with outcome = \"oom\"",
                    ));
                }
            }
            _ => exp.outcome = check_outcome(&e.node, &key)?,
        }
        out.push(exp);
    }
    Ok(out)
}
