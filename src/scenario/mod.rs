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

use std::io::Read;
use std::path::Path;
use std::sync::Arc;

pub use error::Diag;
use error::{did_you_mean, list_of, one_of, Loc, Source};
use matrix::Axis;
use tree::{Node, Value};

use crate::noise::Noise;
use crate::spec::{Policy, RunSpec};

/// The most runs one file may expand to.
pub const MAX_RUNS: usize = 100_000;
/// The most runs × tasks one file may expand to (each run carries its own task list).
pub const MAX_TASK_RUNS: usize = 1_000_000;
/// The largest scenario file read (a scenario is a few KiB; this stops `/dev/zero`).
pub const MAX_FILE_BYTES: u64 = 16 << 20;

/// What the command line changes in a scenario.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    /// `--set PATH=VALUE`, in order.
    pub sets: Vec<(String, String)>,
    /// `--policy NAME` (empty: every policy of the axis).
    pub policies: Vec<Policy>,
    /// `--seed N`.
    pub seed: Option<u64>,
    /// `--replicas N` (overrides `scenario.replicas`).
    pub replicas: Option<u32>,
    /// `--noise on|off` (default: on when there is more than one replica).
    pub noise: Option<bool>,
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
    /// Which replica of its cell and policy (0 when there is one).
    pub replica: u32,
    /// Whether its cell has more than one replica.
    pub many_replicas: bool,
    /// The validated input (its seed the replica's, its noise applied).
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
    /// The value labels of each combination, in run order, when the matrix is not every
    /// combination of its axes (`[[matrix.tied]]`, `exclude`, `include`); `None` for a product.
    pub cells: Option<Vec<Vec<String>>>,
    /// The runs, cell by cell (first axis outermost), each cell's replicas innermost.
    pub runs: Vec<PlannedRun>,
    /// Runs per cell and policy (`scenario.replicas`, `--replicas`).
    pub replicas: u32,
    /// The noise applied to the runs ([`Noise::ZERO`] when off).
    pub noise: Noise,
    /// `[expect]` entries (`None`: the file has no `[expect]`).
    pub expectations: Option<Vec<Expectation>>,
    /// `--set` arguments that are not axis restrictions (`PATH=VALUE`), for reproduce lines.
    pub plain_sets: Vec<String>,
    /// SHA-256 of the file's bytes, lowercase hex (the results' provenance).
    pub sha256: String,
}

/// SHA-256 of `bytes`, lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Reads a file's text, with clear errors for missing files, directories and non-UTF-8 bytes.
pub fn read_source(path: &Path) -> anyhow::Result<Arc<Source>> {
    if path == Path::new("-") {
        return stdin_source();
    }
    let name = path.display().to_string();
    if path.is_dir() {
        anyhow::bail!("{name}: is a directory, not a scenario file (expected a .toml file)");
    }
    let file = open_input(path)
        .map_err(|e| anyhow::anyhow!("{name}: cannot read the scenario file: {e}"))?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| anyhow::anyhow!("{name}: cannot read the scenario file: {e}"))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        anyhow::bail!(
            "{name}: larger than 16MiB; a scenario file is a few KiB of TOML (is this the right file?)"
        );
    }
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => anyhow::bail!(error::utf8_error(&name, e.as_bytes(), &e.utf8_error())),
    };
    Ok(Arc::new(Source { name, text }))
}

/// How long opening a FIFO may wait for its writer.
pub const OPEN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Opens `path` for reading. Opening a FIFO blocks until something opens it for writing; a
/// FIFO nothing writes to within [`OPEN_TIMEOUT`] is an error, not a hang (the opening thread
/// is left blocked; the process ends soon after). Process substitution (`<(…)`) still works.
pub fn open_input(path: &Path) -> std::io::Result<std::fs::File> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let fifo = std::fs::metadata(path).is_ok_and(|m| m.file_type().is_fifo());
        if fifo {
            let (tx, rx) = std::sync::mpsc::channel();
            let p = path.to_path_buf();
            std::thread::spawn(move || {
                let _ = tx.send(std::fs::File::open(p));
            });
            return rx.recv_timeout(OPEN_TIMEOUT).unwrap_or_else(|_| {
                Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "a FIFO that nothing opened for writing within 10 s",
                ))
            });
        }
    }
    std::fs::File::open(path)
}

/// The scenario on standard input (`wbsim run -`), named `<stdin>` in messages. Read once and
/// kept: every later read of `-` in the same command gets the same text.
fn stdin_source() -> anyhow::Result<Arc<Source>> {
    static STDIN: std::sync::OnceLock<Result<String, String>> = std::sync::OnceLock::new();
    let read = STDIN.get_or_init(|| {
        let mut bytes = Vec::new();
        std::io::stdin()
            .take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| format!("<stdin>: cannot read the scenario: {e}"))?;
        if bytes.len() as u64 > MAX_FILE_BYTES {
            return Err("<stdin>: larger than 16MiB; a scenario is a few KiB of TOML".into());
        }
        String::from_utf8(bytes)
            .map_err(|e| error::utf8_error("<stdin>", e.as_bytes(), &e.utf8_error()).to_string())
    });
    match read {
        Ok(text) => Ok(Arc::new(Source {
            name: "<stdin>".into(),
            text: text.clone(),
        })),
        Err(e) => anyhow::bail!("{e}"),
    }
}

/// Loads and validates a scenario file.
pub fn load(path: &Path, ov: &Overrides) -> anyhow::Result<Scenario> {
    let src = read_source(path)?;
    Ok(load_source(&src, ov)?)
}

/// Validates a scenario's text.
pub fn load_source(src: &Arc<Source>, ov: &Overrides) -> Result<Scenario, Diag> {
    load_source_varied(src, ov, &[])
}

/// Validates a scenario's text with `--vary` axes. A sweep's grid is not the file's, so its
/// `[expect]` is not read when there are any.
pub fn load_source_varied(
    src: &Arc<Source>,
    ov: &Overrides,
    vary: &[matrix::Vary],
) -> Result<Scenario, Diag> {
    let doc = toml_edit::ImDocument::parse(src.text.as_str()).map_err(|e| syntax_error(src, &e))?;
    let mut root = tree::from_document(doc.as_table());
    let matrix = root.remove("matrix");
    let expect = root.remove("expect").filter(|_| vary.is_empty());
    let (mut axes, rules) = matrix::axes(src, &root, matrix.as_ref())?;
    matrix::vary(src, &root, &mut axes, vary)?;
    let varied: Vec<String> = vary.iter().map(|v| v.path.clone()).collect();
    let mut combos = matrix::combinations(src, &root, &mut axes, &rules, &varied)?;

    // The axes' labels before restrictions: `[expect]` keys are checked against the full cell
    // set, matched axis by axis for a plain product (its cells are never listed: a 10^10-cell
    // matrix is refused by the run count, not by memory), against the combinations otherwise.
    let full_axes: Vec<Vec<String>> = axes.iter().map(Axis::labels).collect();
    let full_cells = combos
        .as_ref()
        .map(|c| matrix::combination_components(&axes, c));
    let plain_sets = apply_overrides(src, ov, &mut root, &mut axes, combos.as_mut())?;
    let (replicas, noise) = replicas_and_noise(src, ov, &root)?;
    check_run_count(
        src,
        &root,
        &axes,
        combos.as_deref(),
        matrix.as_ref(),
        replicas,
    )?;
    let runs = plan_runs(src, ov, &root, &axes, combos.as_deref(), (replicas, noise))?;
    check_base_values(src, &root, &axes)?;
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
        Some(e) => Some(expectations(
            src,
            &e,
            (&full_axes, full_cells.as_deref()),
            &task_names,
        )?),
    };
    Ok(Scenario {
        file: src.name.clone(),
        name,
        cells: combos
            .as_ref()
            .map(|c| matrix::combination_components(&axes, c)),
        axes,
        runs,
        replicas,
        noise,
        expectations,
        plain_sets,
        sha256: sha256_hex(src.text.as_bytes()),
    })
}

/// The replicas (the file's, or `--replicas`) and the noise they get: the file's `[noise]` (or
/// the defaults) when there is more than one replica or `--noise on`, none otherwise or with
/// `--noise off`.
fn replicas_and_noise(
    src: &Arc<Source>,
    ov: &Overrides,
    root: &Node,
) -> Result<(u32, Noise), Diag> {
    let (file_replicas, table) = validate::Validator::new(src).replicas_and_noise(root)?;
    let replicas = ov.replicas.unwrap_or(file_replicas);
    if !(1..=validate::MAX_REPLICAS as u32).contains(&replicas) {
        return Err(Diag::new(
            src,
            Loc::None,
            "scenario.replicas",
            format!("found {replicas}; expected 1 to {}", validate::MAX_REPLICAS),
        ));
    }
    let on = ov.noise.unwrap_or(replicas > 1);
    let noise = if on {
        table.unwrap_or(Noise::DEFAULT)
    } else {
        Noise::ZERO
    };
    Ok((replicas, noise))
}

/// `--set` and `--policy`: a `--set` on an axis restricts it to that value, any other sets the
/// value in the tree; `--policy` restricts the policy axis. The plain sets, as written.
fn apply_overrides(
    src: &Arc<Source>,
    ov: &Overrides,
    root: &mut Node,
    axes: &mut [Axis],
    combos: Option<&mut Vec<matrix::Combination>>,
) -> Result<Vec<String>, Diag> {
    let mut plain_sets = Vec::new();
    let mut restrict: Vec<Vec<String>> = vec![Vec::new(); axes.len()];
    for (path, text) in &ov.sets {
        if let Some(i) = axes.iter().position(|a| a.path == *path) {
            restrict[i].push(axis_value_of_set(src, &axes[i], path, text)?);
            continue;
        }
        plain_sets.push(set_value(src, root, path, text)?);
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
    if let Some(combos) = combos {
        matrix::restrict(axes, combos, &restrict);
        if combos.is_empty() {
            return Err(Diag::new(
                src,
                Loc::None,
                "matrix",
                "no combination of the matrix has the values --set/--policy keep (an exclude removed them)",
            ));
        }
        return Ok(plain_sets);
    }
    for (axis, keep) in axes.iter_mut().zip(&restrict) {
        if !keep.is_empty() {
            axis.values.retain(|v| keep.contains(&v.value.label()));
        }
    }
    Ok(plain_sets)
}

/// `--set PATH=VALUE` on matrix axis `axis`: the value's label, which must be one of the axis'.
fn axis_value_of_set(
    src: &Arc<Source>,
    axis: &Axis,
    path: &str,
    text: &str,
) -> Result<String, Diag> {
    let loc = Loc::Set(format!("{path}={text}"));
    let label = tree::parse_cli_value(text, &loc).value.label();
    let labels = axis.labels();
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
    Ok(label)
}

/// `--set PATH=VALUE` on a path that is not an axis: the value set in the tree. `PATH=VALUE`.
fn set_value(src: &Arc<Source>, root: &mut Node, path: &str, text: &str) -> Result<String, Diag> {
    let arg = format!("{path}={text}");
    let loc = Loc::Set(arg.clone());
    let node = tree::parse_cli_value(text, &loc);
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
    matrix::resolve_path(root, path)
        .map_err(|(m, h)| Diag::new(src, loc.clone(), path, m).help(h))?;
    let parts: Vec<&str> = path.split('.').collect();
    if root
        .at(&parts)
        .is_some_and(|n| matches!(n.value, Value::Table(_)))
        || !root.set(&parts, node)
    {
        return Err(Diag::new(src, loc, path, "this path does not hold a value"));
    }
    Ok(arg)
}

/// The matrix must expand to at most `MAX_RUNS` runs and `MAX_TASK_RUNS` task-runs (every run
/// holds its own copy of the task list: the product is bounded, not just the cells).
fn check_run_count(
    src: &Arc<Source>,
    root: &Node,
    axes: &[Axis],
    combos: Option<&[matrix::Combination]>,
    matrix: Option<&Node>,
    replicas: u32,
) -> Result<(), Diag> {
    let loc = || matrix.map_or(Loc::None, |m| m.loc.clone());
    let count = match combos {
        Some(c) => c.len().checked_mul(replicas as usize),
        None => axes
            .iter()
            .try_fold(replicas as usize, |n, a| n.checked_mul(a.values.len())),
    };
    if count.map_or(true, |n| n > MAX_RUNS) {
        return Err(Diag::new(
            src,
            loc(),
            "matrix",
            format!("the matrix has more than {MAX_RUNS} cells × policies × replicas; split it or narrow it with --set/--policy"),
        ));
    }
    let tasks = root
        .get("task")
        .and_then(Node::entries)
        .map_or(0, |e| e.len());
    let runs = count.unwrap_or(MAX_RUNS);
    if runs.saturating_mul(tasks.max(1)) > MAX_TASK_RUNS {
        return Err(Diag::new(
            src,
            loc(),
            "matrix",
            format!("the matrix expands to {runs} runs of {tasks} tasks each; at most {MAX_TASK_RUNS} task-runs per file; split it or narrow it with --set/--policy"),
        ));
    }
    Ok(())
}

/// One validated run per cell of the matrix and replica: replica `k` has seed
/// `noise::replica_seed(seed, k)` and the noise drawn from it.
fn plan_runs(
    src: &Arc<Source>,
    ov: &Overrides,
    root: &Node,
    axes: &[Axis],
    combos: Option<&[matrix::Combination]>,
    (replicas, noise): (u32, Noise),
) -> Result<Vec<PlannedRun>, Diag> {
    let validator = validate::Validator::new(src);
    let mut runs = Vec::new();
    let combos = matrix::listed_or_product(axes, combos);
    let last = combos.last().map(|c| c.index.clone()).unwrap_or_default();
    for combo in &combos {
        let cell = &combo.index;
        let mut tree = root.clone();
        let mut components = Vec::new();
        let mut policy = Policy::Redirty;
        let mut values = Vec::new();
        for (axis, &i) in axes.iter().zip(cell) {
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
        for (path, v) in &combo.extra {
            let parts: Vec<&str> = path.split('.').collect();
            tree.set(&parts, v.clone());
            values.push((path.clone(), v.value.clone()));
        }
        let label = matrix::label(&components);
        let mut spec = match validator.run_spec(&tree, policy) {
            Ok(spec) => spec,
            Err(mut d) => {
                let declared = axes.iter().any(|a| a.declared && !a.is_policy());
                if declared
                    && (!runs.is_empty() || !matrix_independent(&validator, root, axes, &last, &d))
                {
                    d.cell = Some(label.clone());
                }
                return Err(d);
            }
        };
        if let Some(seed) = ov.seed {
            spec.seed = seed;
        }
        let without: Vec<String> = axes
            .iter()
            .zip(&components)
            .filter(|(a, _)| !a.is_policy())
            .map(|(_, c)| c.clone())
            .collect();
        let planned = PlannedRun {
            components,
            cell: values,
            label,
            label_without_policy: matrix::label(&without),
            replica: 0,
            many_replicas: replicas > 1,
            spec,
        };
        for k in 0..replicas {
            let mut run = planned.clone();
            run.replica = k;
            run.spec.seed = crate::noise::replica_seed(planned.spec.seed, k);
            crate::noise::perturb(&mut run.spec, &noise);
            runs.push(run);
        }
    }
    Ok(runs)
}

/// Whether the error `d` of the first cell has nothing to do with the matrix: it is about a key
/// outside every axis and the last cell (every axis at its last value) fails the same way. Such
/// an error is the file's, and a `(in matrix cell …)` suffix would send the reader to the matrix.
fn matrix_independent(
    validator: &validate::Validator<'_>,
    root: &Node,
    axes: &[Axis],
    last: &[usize],
    d: &Diag,
) -> bool {
    let under_axis = |a: &Axis| d.key == a.path || d.key.starts_with(&format!("{}.", a.path));
    if matches!(d.loc, Loc::Matrix { .. }) || axes.iter().any(under_axis) {
        return false;
    }
    let mut tree = root.clone();
    let mut policy = Policy::Redirty;
    for (axis, &i) in axes.iter().zip(last) {
        let Some(v) = axis.values.get(i) else {
            return false;
        };
        if axis.is_policy() {
            policy = Policy::from_name(&v.value.label()).unwrap_or(Policy::Redirty);
        } else {
            let parts: Vec<&str> = axis.path.split('.').collect();
            tree.set(&parts, v.clone());
        }
    }
    match validator.run_spec(&tree, policy) {
        Ok(_) => false,
        Err(e) => e.key == d.key && e.message == d.message,
    }
}

/// A value in the file under a key that a `[matrix]` axis (or `--vary`) overrides is never run,
/// but it is what a reader sees and what a `--set` on a narrower matrix falls back to: it must be
/// valid too. The file's tree, with each axis that has no base value at its first value, is
/// validated once; an error about one of the overridden keys is the file's.
fn check_base_values(src: &Arc<Source>, root: &Node, axes: &[Axis]) -> Result<(), Diag> {
    let overridden: Vec<&Axis> = axes
        .iter()
        .filter(|a| !a.is_policy())
        .filter(|a| root.at(&a.path.split('.').collect::<Vec<_>>()).is_some())
        .collect();
    if overridden.is_empty() {
        return Ok(());
    }
    let mut tree = root.clone();
    for axis in axes.iter().filter(|a| !a.is_policy()) {
        let parts: Vec<&str> = axis.path.split('.').collect();
        if root.at(&parts).is_none() {
            if let Some(v) = axis.values.first() {
                tree.set(&parts, v.clone());
            }
        }
    }
    let Err(mut d) = validate::Validator::new(src).run_spec(&tree, Policy::Redirty) else {
        return Ok(());
    };
    match overridden.iter().find(|a| d.key == a.path) {
        Some(a) => {
            d.message = format!(
                "{} (the value under the key that matrix axis `{}` overrides: no cell runs it, \
                 but it must be valid)",
                d.message, a.path
            );
            Err(d)
        }
        None => Ok(()),
    }
}

/// A TOML syntax error, located, with the dotted key of the line when it has one and, for a
/// bare value that needed quotes (`duration = 1s`), the quoted form.
fn syntax_error(src: &Arc<Source>, e: &toml_edit::TomlError) -> Diag {
    let message = format!(
        "TOML syntax error: {}",
        e.message().trim_end().replace('\n', "; ")
    );
    let Some(span) = e.span() else {
        return Diag::new(src, Loc::None, "", message);
    };
    let at = span.start.min(src.text.len());
    let line_start = src.text[..at].rfind('\n').map_or(0, |i| i + 1);
    let line_end = src.text[at..].find('\n').map_or(src.text.len(), |i| at + i);
    let line = src.text[line_start..line_end].trim_end_matches('\r');
    let Some((key, value)) = line.split_once('=') else {
        return Diag::new(src, Loc::File(span), "", message);
    };
    let key = key.trim().trim_matches('"');
    let plain_key = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if !plain_key || at < line_start + line.find('=').unwrap_or(0) {
        return Diag::new(src, Loc::File(span), "", message);
    }
    // The table the line is in: the nearest `[header]` above it.
    let header = src.text[..line_start]
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('[') && !l.starts_with("[["))
        .and_then(|l| l.strip_prefix('['))
        .and_then(|l| l.split(']').next())
        .map(|h| h.trim().to_string());
    let dotted = match header {
        Some(h) if !h.is_empty() => format!("{h}.{key}"),
        _ => key.to_string(),
    };
    let value = value.split('#').next().unwrap_or("").trim();
    let bare = !value.is_empty()
        && !value.starts_with(['"', '\'', '[', '{'])
        && value.parse::<i64>().is_err()
        && !matches!(value, "true" | "false");
    let help = bare.then(|| {
        format!(
            "did you mean `{key} = \"{value}\"`? sizes, rates, durations and names are strings in quotes"
        )
    });
    Diag::new(src, Loc::File(span), dotted, message).help(help)
}

/// `[expect]`: each key a pattern matching some cell, each value an outcome or a table of
/// outcome, victim and invoker.
fn expectations(
    src: &Arc<Source>,
    expect: &Node,
    (axes, cells): (&[Vec<String>], Option<&[Vec<String>]>),
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
    let mut out = Vec::new();
    for e in entries {
        let key = format!("expect.\"{}\"", e.key);
        let matches = match cells {
            Some(cells) => cells.iter().any(|c| matrix::pattern_matches(&e.key, c)),
            None => matrix::pattern_matches_axes(&e.key, axes),
        };
        if !matches {
            // The first cells, for the message and the near miss (never all of them).
            let total = match cells {
                Some(cells) => cells.len(),
                None => axes
                    .iter()
                    .try_fold(1usize, |n, a| n.checked_mul(a.len()))
                    .unwrap_or(usize::MAX),
            };
            let labels: Vec<String> = (0..total.min(1000))
                .map(|i| match cells {
                    Some(cells) => matrix::label(&cells[i]),
                    None => matrix::label(&matrix::cell_labels(axes, i)),
                })
                .collect();
            let shown: Vec<&str> = labels.iter().take(12).map(String::as_str).collect();
            let more = if total > 12 {
                format!(" (and {} more)", total - 12)
            } else {
                String::new()
            };
            return Err(Diag::new(src, e.key_loc.clone(), &key, format!("matches no cell of the matrix; cells are: {}{more} (`*` matches any one value)", shown.join(", ")))
                .help(did_you_mean(&e.key, labels.iter().map(String::as_str))));
        }
        let mut exp = Expectation {
            pattern: e.key.clone(),
            outcome: String::new(),
            victim: None,
            invoker: None,
        };
        match &e.node.value {
            Value::Table(fields) => expectation_table(src, e, &key, fields, tasks, &mut exp)?,
            _ => exp.outcome = expected_outcome(src, &e.node, &key)?,
        }
        out.push(exp);
    }
    Ok(out)
}

/// An expected outcome: one of `schema::OUTCOMES`.
fn expected_outcome(src: &Arc<Source>, n: &Node, key: &str) -> Result<String, Diag> {
    let outcomes = format!(
        "one of {} or a table {{ outcome = \"oom\", victim = \"…\", invoker = \"…\" }}",
        one_of(schema::OUTCOMES)
    );
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
}

/// An `[expect]` value written as a table: `outcome` (required), `victim`, `invoker` (names of
/// tasks, with outcome `oom` only).
fn expectation_table(
    src: &Arc<Source>,
    e: &tree::Entry,
    key: &str,
    fields: &[tree::Entry],
    tasks: &[String],
    exp: &mut Expectation,
) -> Result<(), Diag> {
    for f in fields {
        let fkey = format!("{key}.{}", f.key);
        match f.key.as_str() {
            "outcome" => exp.outcome = expected_outcome(src, &f.node, &fkey)?,
            "victim" | "invoker" => {
                let name = expected_task(src, &f.node, &fkey, tasks)?;
                if f.key == "victim" {
                    exp.victim = Some(name)
                } else {
                    exp.invoker = Some(name)
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
            key,
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
            key,
            "`victim` and `invoker` only make sense with outcome = \"oom\"",
        ));
    }
    Ok(())
}

/// The name of a declared task.
fn expected_task(src: &Arc<Source>, n: &Node, key: &str, tasks: &[String]) -> Result<String, Diag> {
    let Value::Str(s) = &n.value else {
        return Err(Diag::new(
            src,
            n.loc.clone(),
            key,
            format!("found {}; expected the name of a task", n.value.type_name()),
        ));
    };
    if !tasks.contains(s) {
        return Err(Diag::new(
            src,
            n.loc.clone(),
            key,
            format!("there is no task `{s}`; declared: {}", list_of(tasks)),
        )
        .help(did_you_mean(s, tasks.iter().map(String::as_str))));
    }
    Ok(s.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mm::workload::pin::Pin;
    use crate::mm::workload::truncate::Truncate;
    use crate::spec::{DataMode, NodeLayout, PinMethod, Release, TaskKind, VmSpec};

    fn load_str(text: &str, ov: &Overrides) -> Result<Scenario, Diag> {
        let src = Arc::new(Source {
            name: "t.toml".into(),
            text: text.into(),
        });
        load_source(&src, ov)
    }

    fn err(text: &str) -> String {
        load_str(text, &Overrides::default())
            .expect_err("should fail")
            .to_string()
    }

    const MIN: &str = "[scenario]\nname = \"m\"\nduration = \"1s\"\n[machine]\nmemory = \"1GiB\"\n";

    #[test]
    fn defaults() {
        let sc = load_str(MIN, &Overrides::default()).unwrap();
        let labels: Vec<&str> = sc.runs.iter().map(|r| r.label.as_str()).collect();
        assert_eq!(labels, ["redirty", "activate"]);
        assert_eq!(sc.runs[0].label_without_policy, "");
        let s = &sc.runs[1].spec;
        assert_eq!(s.policy, Policy::Activate);
        assert_eq!(s.release, Release::V2_6_32);
        assert_eq!(
            (s.seed, s.limits.sim_time_ns, s.limits.max_events),
            (1, 1_000_000_000, 500_000_000)
        );
        assert_eq!(s.machine.kernel_reserved_bytes, 16 << 20);
        assert_eq!(s.machine.layout, NodeLayout::X86_64 { pci_hole_bytes: 0 });
        assert_eq!(
            (
                s.machine.hz,
                s.machine.cpus,
                s.machine.swap_bytes,
                s.machine.swap_disk
            ),
            (1000, 2, 0, None)
        );
        assert_eq!(s.vm, VmSpec::default());
        assert!(sc.expectations.is_none());
    }

    /// A file that sets every table.
    const FULL: &str = r#"
[scenario]
name = "full"
duration = "10min"
release = "2.6.36"
seed = 9
[machine]
memory = "4GiB"
fake_numa_node_size = "1GiB"
swap = "1GiB"
swap_disk = "sda"
[vm]
min_free_kbytes = 4096
oom_kill_allocating_task = 1
dirty_bytes = "64MiB"
[disk.sda]
bandwidth = "80MiB/s"
nr_requests = 4
[mount.data]
fs = "ext3"
disk = "sda"
options = ["data=writeback", "commit=30"]
[mount.shm]
fs = "tmpfs"
[task.db]
kind = "pin"
method = "shm"
size = "3MiB"
[task.huge]
kind = "pin"
method = "hugetlb"
size = "3MiB"
[task.app]
kind = "anon"
size = "1GiB"
rate = "1GiB/s"
attach = ["db"]
parent = "dd"
cpuset = [3, 1]
gfp = "kernel"
cycle = true
hold = "2s"
[task.dd]
kind = "stream-write"
mount = "data"
size = "8GiB"
rate = "100MB/s"
[task.rm]
kind = "truncate"
target = "dd"
start = "1min"
"#;

    #[test]
    fn a_full_file() {
        let text = FULL;
        let sc = load_str(
            text,
            &Overrides {
                seed: Some(5),
                ..Overrides::default()
            },
        )
        .unwrap();
        let s = &sc.runs[0].spec;
        assert_eq!((s.release, s.seed), (Release::V2_6_36, 5));
        assert_eq!(
            s.machine.layout,
            NodeLayout::FakeNuma {
                node_bytes: 1 << 30
            }
        );
        assert_eq!(s.machine.swap_disk, Some(0));
        assert_eq!(s.vm.min_free_kbytes, Some(4096));
        assert!(s.vm.oom_kill_allocating_task);
        assert_eq!(s.vm.dirty_bytes, 64 << 20);
        assert_eq!(s.disks[0].bandwidth_bytes_per_sec, 80 << 20);
        assert_eq!(s.mounts[0].data_mode, DataMode::Writeback);
        assert_eq!(s.mounts[0].commit_interval_ns, 30_000_000_000);
        assert_eq!(s.mounts[1].disk, None);
        assert_eq!(
            s.tasks[0].kind,
            TaskKind::Pin(Pin {
                bytes: 3 << 20,
                method: PinMethod::Shm,
                working_set: None,
            })
        );
        assert_eq!(
            s.tasks[1].kind,
            TaskKind::Pin(Pin {
                bytes: 4 << 20,
                method: PinMethod::Hugetlb,
                working_set: None,
            })
        );
        assert_eq!(s.tasks[2].attach, vec![0]);
        assert_eq!(s.tasks[2].parent, Some(3));
        assert_eq!(s.tasks[2].cpuset_nodes, Some(vec![3, 1]));
        assert_eq!(s.tasks[4].kind, TaskKind::Truncate(Truncate { target: 3 }));
        assert_eq!(s.tasks[4].start_ns, 60_000_000_000);
    }

    #[test]
    fn a_declared_policy_axis_keeps_its_place() {
        let text = format!("{MIN}[matrix]\npolicy = [\"activate\"]\n\"vm.dirty_ratio\" = [10, 20]\n[expect]\n\"activate/*\" = \"oom\"\n");
        let sc = load_str(&text, &Overrides::default()).unwrap();
        let labels: Vec<&str> = sc.runs.iter().map(|r| r.label.as_str()).collect();
        assert_eq!(labels, ["activate/10", "activate/20"]);
        assert_eq!(sc.runs[1].spec.vm.dirty_ratio, 20);
        assert_eq!(sc.runs[1].label_without_policy, "20");
        assert_eq!(sc.expectations.unwrap()[0].outcome, "oom");
    }

    #[test]
    fn set_adds_optional_keys_and_restricts_axes() {
        let text = format!("{MIN}[matrix]\n\"vm.dirty_ratio\" = [10, 20]\n");
        let ov = Overrides {
            sets: vec![
                ("vm.min_free_kbytes".into(), "4096".into()),
                ("vm.dirty_ratio".into(), "20".into()),
            ],
            policies: vec![Policy::Redirty],
            ..Overrides::default()
        };
        let sc = load_str(&text, &ov).unwrap();
        assert_eq!(sc.runs.len(), 1);
        assert_eq!(sc.runs[0].label, "20/redirty");
        assert_eq!(sc.runs[0].spec.vm.min_free_kbytes, Some(4096));
        assert_eq!(sc.plain_sets, ["vm.min_free_kbytes=4096"]);
    }

    #[test]
    fn cross_checks() {
        let e = err(&format!("{MIN}[task.a]\nkind = \"anon\"\nsize = \"1MiB\"\nrate = \"1MiB/s\"\nparent = \"b\"\n[task.b]\nkind = \"anon\"\nsize = \"1MiB\"\nrate = \"1MiB/s\"\nparent = \"a\"\n"));
        assert!(e.contains("cycle: a → b → a"), "{e}");
        let e = err(&format!("{MIN}[task.a]\nkind = \"pin\"\nmethod = \"mlock\"\nsize = \"1MiB\"\n[task.b]\nkind = \"anon\"\nsize = \"1MiB\"\nrate = \"1MiB/s\"\nattach = [\"a\"]\n"));
        assert!(
            e.contains("t.toml:14:11") && e.contains("`shm` or `shm_lock`"),
            "{e}"
        );
        let e = err("[scenario]\nname = \"m\"\nduration = \"1s\"\n[machine]\nmemory = \"1GiB\"\nnodes = [\"512MiB\", \"256MiB\"]\n");
        assert!(e.contains("add up to 805306368 bytes"), "{e}");
        let e = err("[scenario]\nname = \"m\"\nduration = \"1s\"\n[machine]\nmemory = \"1GiB\"\nswap = \"1GiB\"\n");
        assert!(
            e.contains("machine.swap_disk") && e.contains("t.toml:6:"),
            "{e}"
        );
        let e =
            err("[scenario]\nname = \"m\"\nduration = \"1s\"\n[machine]\nmemory = \"1000000KB\"\n");
        assert!(e.contains("not a multiple of the 4096-byte page"), "{e}");
        let e = err("[scenario]\nname = \"m\"\nduration = \"1s\"\n");
        assert!(e.contains("missing required table `[machine]`"), "{e}");
        let e = err("[scenario]\nname = \"m\"\n[machine]\nmemory = \"1GiB\"\n");
        assert!(
            e.contains("t.toml:1:1: `scenario.duration`: missing required key"),
            "{e}"
        );
        let e = err(&format!("{MIN}[disk.d]\nbandwidth = \"0MB/s\"\n"));
        assert!(
            e.contains("disk.d.bandwidth") && e.contains("greater than zero"),
            "{e}"
        );
        let e = err(&format!(
            "{MIN}[mount.t]\nfs = \"tmpfs\"\noptions = [\"nodelalloc\"]\n"
        ));
        assert!(e.contains("option of ext4, not of tmpfs"), "{e}");
        let e = err(&format!(
            "{MIN}[task.t]\nkind = \"truncate\"\ntarget = \"t\"\n"
        ));
        assert!(e.contains("must be a stream-write task"), "{e}");
        let e = err(&format!(
            "{MIN}[expect]\nredirty = {{ outcome = \"survived\", victim = \"x\" }}\n"
        ));
        assert!(e.contains("there is no task `x`"), "{e}");
    }

    #[test]
    fn hugetlb_pools_must_fit_the_highest_zone_of_each_node() {
        // Found by the engine fuzzer (fuzz/regressions/engine/): two fake-NUMA nodes, so only
        // node 0's DMA32 and node 1's zone can hold the pool; the engine panicked at boot.
        let text = "[scenario]\nname = \"m\"\nduration = \"1s\"\n[machine]\nmemory = \"35MiB\"\nfake_numa_node_size = \"18MiB\"\n[task.t0]\nkind = \"pin\"\nsize = \"24950KiB\"\nmethod = \"hugetlb\"\n";
        let e = err(text);
        assert!(
            e.contains("t.toml:9:8: `task.t0.size`: the hugetlb pools need 6656 pages")
                && e.contains("at most 18MiB"),
            "{e}"
        );
        let fits = text.replace("24950KiB", "18MiB");
        assert!(load_str(&fits, &Overrides::default()).is_ok());
    }
}
