//! The results document (schema `wbsim/run/1`): what `run`, `check` and `sweep` produce, what
//! `--format json` prints, and what every other format is rendered from.
//!
//! It is typed: outcome kinds, policies, comparison verdicts and constraints are enums, counters
//! are numbers in named lists; strings appear only when it is written ([`super::json`]) or
//! rendered. Rendering tables, CSV and Markdown from this document rather than from the engine's
//! results is what lets `wbsim merge` re-render shards: a merged document renders byte for byte
//! like the document of the unsharded run. Besides the per-run records (documented in
//! docs/SCENARIO_FORMAT.md) each scenario carries its `plan` (the axes, `--set` arguments and
//! `[expect]` entries, enough to rebuild cell labels, checks and reproduce commands) and, when
//! sharded, which runs it holds. [`super::build`] makes it from runs.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::mmtests::{Mmtests, MmtestsLabels};
use crate::compare::Change;
use crate::outcome::{
    Constraint, LaterCounters, Meminfo, OutcomeKind, RequestWaitCounters, TaskReport, Vmstat,
};
use crate::scenario::matrix::POLICY_AXIS;
use crate::spec::Policy;

/// The schema tag of the document.
pub const SCHEMA: &str = "wbsim/run/1";

/// The whole document.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Document {
    /// [`SCHEMA`].
    pub schema: String,
    /// The version of wbsim that wrote it.
    pub wbsim_version: String,
    /// One entry per scenario file, in command-line order.
    pub scenarios: Vec<ScenarioRecord>,
    /// The compare-kernels label of each key of the runs' `mmtests` rows.
    #[serde(default)]
    pub mmtests_labels: MmtestsLabels,
}

/// One scenario file's results.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ScenarioRecord {
    /// The path as given.
    pub file: String,
    /// `scenario.name`.
    pub name: String,
    /// The release when every run shares one.
    pub release: Option<String>,
    /// The seed when every run shares one.
    pub seed: Option<u64>,
    /// The runs, in matrix order.
    pub runs: Vec<RunRecord>,
    /// Every redirty/activate pair.
    pub comparisons: Vec<Comparison>,
    /// With replicas: each cell and policy over its replicas (OOM rate, interval, times).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub summaries: Vec<Summary>,
    /// `wbsim check`: each expectation applied to each cell it matches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checks: Option<Vec<CheckRecord>>,
    /// `run --margin`: where each cell and policy's OOM rate crosses 50 %.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub margins: Option<Vec<crate::margin::MarginRecord>>,
    /// `wbsim sweep --find-threshold`: one entry per cell and policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thresholds: Option<Vec<ThresholdRecord>>,
    /// What was run.
    pub plan: Plan,
    /// `--shard I/N`: which items (runs, or threshold searches) this document holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardRecord>,
    /// What produced it: the file's bytes and every argument that changes a result. Every
    /// document wbsim writes has it; `merge` refuses documents without it, or whose provenance
    /// differs. Optional when read, so documents of earlier versions still parse.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provenance: Option<Provenance>,
}

/// Where a scenario's results came from: with these, one command reproduces them all. `merge`
/// joins only documents whose provenance is equal field by field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Provenance {
    /// The command: `run`, `check`, `sweep` or `history`.
    pub command: String,
    /// SHA-256 of the scenario file's bytes, lowercase hex.
    pub scenario_sha256: String,
    /// Every `--set PATH=VALUE`, as resolved (path trimmed), in command-line order.
    pub sets: Vec<String>,
    /// `--seed` (`None`: each run's seed is the file's).
    pub seed: Option<u64>,
    /// `--policy` (empty: every policy of the file).
    pub policies: Vec<String>,
    /// Runs per cell and policy (`--replicas`, or the file's `scenario.replicas`).
    pub replicas: u32,
    /// The kernel profile (with its `[kernel]` overrides) of every planned run, each once, in
    /// plan order.
    pub kernels: Vec<String>,
    /// The version of wbsim that ran it.
    pub wbsim_version: String,
}

impl Provenance {
    /// Each field's name and its value as a message shows it, in declaration order.
    pub fn fields(&self) -> [(&'static str, String); 8] {
        let list = |v: &[String]| {
            if v.is_empty() {
                "none".to_string()
            } else {
                v.join(" ")
            }
        };
        [
            ("command", self.command.clone()),
            ("scenario_sha256", self.scenario_sha256.clone()),
            ("sets", list(&self.sets)),
            ("seed", self.seed.map_or("none".into(), |s| s.to_string())),
            ("policies", list(&self.policies)),
            ("replicas", self.replicas.to_string()),
            ("kernels", list(&self.kernels)),
            ("wbsim_version", self.wbsim_version.clone()),
        ]
    }
}

/// One run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RunRecord {
    /// Non-policy axis path → value (TOML type kept).
    pub cell: Map<String, Value>,
    /// The cell label with the policy.
    pub label: String,
    /// The policy.
    #[serde(with = "policy_name")]
    #[schemars(with = "PolicyName")]
    pub policy: Policy,
    /// The release.
    pub release: String,
    /// The seed.
    pub seed: u64,
    /// Which replica of its cell and policy (only with more than one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replica: Option<u32>,
    /// `machine.page_granularity` when coarser than 4 KiB (omitted at 4 KiB): the run simulated
    /// pages of this size, each standing for several kernel pages (counters stay in 4 KiB pages).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_granularity: Option<String>,
    /// How it ended.
    pub outcome: OutcomeRecord,
    /// Simulated time at the end, s.
    pub sim_seconds: f64,
    /// Events handled.
    pub events: u64,
    /// Per task.
    pub tasks: Vec<TaskReport>,
    /// Writeback and reclaim counters.
    pub counters: CountersRecord,
    /// The final /proc/vmstat, in the release's order.
    pub vmstat: Vmstat,
    /// mmtests' derived reclaim rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mmtests: Option<Mmtests>,
    /// `--oom-report`: each OOM report, one string per kernel line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oom_reports: Option<Vec<Vec<String>>>,
    /// `--vmstat`: the final /proc/meminfo, kB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meminfo_kb: Option<Meminfo>,
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct OutcomeRecord {
    /// Its kind.
    pub kind: OutcomeKind,
    /// When, s.
    pub at_s: f64,
    /// The victim (`""`: the killer panicked).
    pub victim: Option<String>,
    /// Its pid.
    pub victim_pid: Option<u32>,
    /// The task whose allocation invoked the killer.
    pub invoker: Option<String>,
    /// `constrained_alloc()`'s verdict.
    pub constraint: Option<Constraint>,
    /// Why it stalled.
    pub reason: Option<String>,
}

/// The run's own counters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CountersRecord {
    /// Writepage calls from reclaim that the filesystem declined.
    pub writepage_refused: u64,
    /// Pages the flusher threads and throttled writers submitted.
    pub pages_written_by_writeback: u64,
    /// Pages reclaim's pageout() submitted.
    pub pages_written_by_reclaim: u64,
    /// Pages a journal commit wrote.
    pub pages_written_by_journal: u64,
    /// Direct-reclaim passes without progress.
    pub reclaim_no_progress: u64,
    /// Direct-reclaim passes the flusher threads entered for their own allocations (ext4's
    /// block-group pages, `GFP_NOFS`): part of `allocstall`.
    pub flusher_allocstall: u64,
    /// What the later-kernel mechanisms did (all 0 under 2.6.3x rules but
    /// `pages_written_by_dirtier`).
    #[serde(default, skip_serializing_if = "LaterCounters::is_zero")]
    pub later: LaterCounters,
    /// Sleeps and time in `get_request_wait()`, by who slept (absent when nobody slept).
    #[serde(default, skip_serializing_if = "RequestWaitCounters::is_zero")]
    pub request_wait: RequestWaitCounters,
}

/// A redirty/activate pair and its verdict.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Comparison {
    /// The cell label without the policy (the scenario name when the policy is the only axis).
    pub label: String,
    /// `redirty`.
    #[serde(with = "policy_name")]
    #[schemars(with = "PolicyName")]
    pub from: Policy,
    /// `activate`.
    #[serde(with = "policy_name")]
    #[schemars(with = "PolicyName")]
    pub to: Policy,
    /// The redirty run's outcome kind.
    pub before: OutcomeKind,
    /// The activate run's outcome kind.
    pub after: OutcomeKind,
    /// What the change of policy did.
    pub verdict: Change,
    /// When the redirty runs ended, s (the median over replicas).
    #[serde(default)]
    pub before_at_s: f64,
    /// When the activate runs ended, s (the median over replicas).
    #[serde(default)]
    pub after_at_s: f64,
    /// `delayed`/`earlier`: how far the (median) OOM moved, s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shift_s: Option<f64>,
    /// With replicas: the OOM counts each side.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rates: Option<Rates>,
}

/// OOMs out of runs on each side of a comparison, with 95 % Wilson intervals.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Rates {
    /// Runs each side.
    pub runs: u32,
    /// OOMs under redirty.
    pub before_oom: u32,
    /// OOMs under activate.
    pub after_oom: u32,
    /// The redirty OOM rate's interval.
    pub before_interval: (f64, f64),
    /// The activate OOM rate's interval.
    pub after_interval: (f64, f64),
}

/// One cell and policy over its replicas.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Summary {
    /// The cell label without the policy (the scenario name when the policy is the only axis).
    pub cell: String,
    /// The policy.
    #[serde(with = "policy_name")]
    #[schemars(with = "PolicyName")]
    pub policy: Policy,
    /// Runs (replicas).
    pub runs: u32,
    /// Runs that ended in an OOM kill or panic.
    pub oom: u32,
    /// Runs that stalled.
    pub stalled: u32,
    /// `oom / runs`.
    pub oom_rate: f64,
    /// Its 95 % Wilson interval.
    pub oom_interval: (f64, f64),
    /// Time to OOM over the runs that went OOM, s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oom_at_s: Option<Spread>,
    /// Completion time over the runs that survived, s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub survived_at_s: Option<Spread>,
}

/// A median and range.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Spread {
    /// The median.
    pub median: f64,
    /// The least.
    pub min: f64,
    /// The most.
    pub max: f64,
}

impl Spread {
    /// Of `values` (`None` when empty).
    pub fn of(values: &[f64]) -> Option<Spread> {
        crate::noise::median_range(values).map(|(median, min, max)| Spread { median, min, max })
    }
}

/// One expectation applied to one cell.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CheckRecord {
    /// The `[expect]` key.
    pub expect: String,
    /// The cell label.
    pub cell: String,
    /// Whether the result matched.
    pub pass: bool,
    /// What was expected, in words.
    pub expected: String,
    /// What happened, in words.
    pub got: String,
    /// The command that reproduces the cell.
    pub reproduce: String,
}

/// The value at which a cell's outcome flips.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ThresholdRecord {
    /// The cell label with the policy, without the searched value.
    pub label: String,
    /// The policy.
    #[serde(with = "policy_name")]
    #[schemars(with = "PolicyName")]
    pub policy: Policy,
    /// The searched path.
    pub path: String,
    /// The first value whose outcome differs from the low end's (`None`: no flip in the range).
    pub threshold: Option<String>,
    /// The outcome kind at the low side.
    pub from: OutcomeKind,
    /// The outcome kind at the high side.
    pub to: OutcomeKind,
    /// Simulations run for this search.
    pub probes: usize,
    /// The run just below the flip (the low end of the range when there is none).
    pub below: Bracket,
    /// The run at the flip (the high end of the range when there is none).
    pub above: Bracket,
}

/// One bracketing run of a threshold search.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Bracket {
    /// The searched path's value.
    pub value: String,
    /// The command that reproduces it.
    pub reproduce: String,
    /// The run.
    pub run: RunRecord,
}

/// The command a plan's reproduce lines use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PlanCommand {
    /// `wbsim run` (and `check`).
    Run,
    /// `wbsim sweep`.
    Sweep,
}

/// What was run: enough to rebuild labels, checks and reproduce commands from the runs alone.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Plan {
    /// The command the reproduce lines use.
    pub command: PlanCommand,
    /// `--set PATH=VALUE` arguments that are not axis restrictions.
    pub sets: Vec<String>,
    /// The axes after restrictions (policy included), outermost first; runs (or threshold
    /// searches) are every combination, in that order, unless `cells` lists them.
    pub axes: Vec<AxisRecord>,
    /// The combinations (each one value label per axis), in run order, when the matrix is not
    /// every combination of its axes (`[[matrix.tied]]`, `exclude`, `include`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cells: Option<Vec<Vec<String>>>,
    /// The stream-write tasks (the table shows their progress).
    pub stream_writers: Vec<String>,
    /// The `[expect]` entries (`None`: the file has none, or a sweep ignored them).
    pub expect: Option<Vec<ExpectRecord>>,
    /// `--find-threshold`: the searched path and range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<ThresholdPlan>,
    /// Runs per item (`--replicas`); each item's replicas are consecutive runs.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub replicas: u32,
    /// The noise the runs got (absent: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub noise: Option<crate::noise::Noise>,
}

fn one() -> u32 {
    1
}

fn is_one(n: &u32) -> bool {
    *n == 1
}

/// One axis.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AxisRecord {
    /// The dotted path, or `policy`.
    pub path: String,
    /// The file declared it in `[matrix]` (the policy axis may be implicit).
    pub declared: bool,
    /// `--vary` set its values (reproduce with `sweep --vary`).
    pub varied: bool,
    /// The value labels.
    pub values: Vec<String>,
}

/// One `[expect]` entry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ExpectRecord {
    /// The key.
    pub pattern: String,
    /// The expected outcome kind.
    pub outcome: OutcomeKind,
    /// The expected victim.
    pub victim: Option<String>,
    /// The expected invoker.
    pub invoker: Option<String>,
}

/// A threshold search's path and range.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ThresholdPlan {
    /// The dotted path.
    pub path: String,
    /// The low end, as given.
    pub lo: String,
    /// The high end, as given.
    pub hi: String,
    /// The resolution, as given or defaulted.
    pub resolution: String,
}

/// Which items a sharded document holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ShardRecord {
    /// I of I/N.
    pub index: u32,
    /// N of I/N.
    pub count: u32,
    /// How many items the unsharded scenario has.
    pub total: usize,
    /// The indices (in plan order) of the items held, ascending.
    pub items: Vec<usize>,
}

/// How a policy is written in the document, for the JSON Schema: its name.
#[derive(schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)] // only its schema is used
pub(crate) enum PolicyName {
    Redirty,
    Activate,
}

/// A [`Policy`] by its name (`redirty`, `activate`).
pub(crate) mod policy_name {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::spec::Policy;

    pub fn serialize<S: Serializer>(p: &Policy, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(p.name())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Policy, D::Error> {
        let name = String::deserialize(d)?;
        Policy::from_name(&name).ok_or_else(|| {
            serde::de::Error::custom(format!("`{name}` is not a policy (redirty, activate)"))
        })
    }
}

impl Plan {
    /// How many items (combinations of axis values) the plan has.
    pub fn total(&self) -> usize {
        let cells = match &self.cells {
            Some(c) => c.len(),
            None => self.axes.iter().map(|a| a.values.len()).product::<usize>(),
        };
        cells * self.replicas.max(1) as usize
    }

    /// The axis value labels of item `index` (the listed cells, or mixed radix, first axis
    /// outermost).
    pub fn components(&self, index: usize) -> Vec<String> {
        let mut rest = index / self.replicas.max(1) as usize;
        if let Some(cells) = &self.cells {
            return cells[rest].clone();
        }
        let mut out = vec![String::new(); self.axes.len()];
        for (i, axis) in self.axes.iter().enumerate().rev() {
            let n = axis.values.len().max(1);
            out[i] = axis.values[rest % n].clone();
            rest /= n;
        }
        out
    }

    /// Drops axis `path` (and its component of every listed cell).
    pub fn remove_axis(&mut self, path: &str) {
        let Some(i) = self.axes.iter().position(|a| a.path == path) else {
            return;
        };
        self.axes.remove(i);
        if let Some(cells) = &mut self.cells {
            cells.iter_mut().for_each(|c| {
                c.remove(i);
            });
        }
    }

    /// The components without the policy's.
    pub fn without_policy(&self, components: &[String]) -> Vec<String> {
        self.axes
            .iter()
            .zip(components)
            .filter(|(a, _)| a.path != POLICY_AXIS)
            .map(|(_, c)| c.clone())
            .collect()
    }

    /// The non-policy axes' paths.
    pub fn cell_paths(&self) -> Vec<String> {
        self.axes
            .iter()
            .filter(|a| a.path != POLICY_AXIS)
            .map(|a| a.path.clone())
            .collect()
    }

    /// The command that reproduces item `components` with `seed`; `extra` is a further
    /// `--vary PATH=VALUE` (a threshold probe).
    pub fn reproduce(
        &self,
        file: &str,
        components: &[String],
        seed: u64,
        extra: Option<(&str, &str)>,
    ) -> String {
        use super::quote;
        let sweep = self.command == PlanCommand::Sweep || extra.is_some();
        let mut words = vec![
            "wbsim".to_string(),
            if sweep { "sweep" } else { "run" }.into(),
            quote(file),
        ];
        for s in &self.sets {
            words.push("--set".into());
            words.push(quote(s));
        }
        let mut policy = None;
        for (axis, comp) in self.axes.iter().zip(components) {
            if axis.path == POLICY_AXIS {
                policy = Some(comp.clone());
            } else if axis.varied {
                words.push("--vary".into());
                words.push(quote(&format!("{}={comp}", axis.path)));
            } else if axis.declared {
                words.push("--set".into());
                words.push(quote(&format!("{}={comp}", axis.path)));
            }
        }
        if let Some((path, value)) = extra {
            words.push("--vary".into());
            words.push(quote(&format!("{path}={value}")));
        }
        if let Some(p) = policy {
            words.push("--policy".into());
            words.push(p);
        }
        words.push("--seed".into());
        words.push(seed.to_string());
        if self.replicas > 1 {
            words.push("--replicas 1".into());
        }
        if self.noise.is_some() {
            words.push("--noise on".into());
        }
        words.join(" ")
    }
}

impl ScenarioRecord {
    /// The plan index of each run (or threshold search) this document holds.
    pub fn item_indices(&self) -> Vec<usize> {
        match &self.shard {
            Some(s) => s.items.clone(),
            None => {
                let n = self
                    .thresholds
                    .as_ref()
                    .map_or(self.runs.len(), |t| t.len());
                (0..n).collect()
            }
        }
    }

    /// Each run with its axis components.
    pub fn runs_with_components(&self) -> Vec<(Vec<String>, &RunRecord)> {
        self.item_indices()
            .into_iter()
            .zip(&self.runs)
            .map(|(i, r)| (self.plan.components(i), r))
            .collect()
    }

    /// Recomputes the release/seed summary and the comparisons from the runs (or, for a
    /// threshold search, the summary from the bracketing runs).
    pub fn summarise(&mut self) {
        let runs: Vec<&RunRecord> = match &self.thresholds {
            Some(t) => t
                .iter()
                .flat_map(|t| [&t.below.run, &t.above.run])
                .collect(),
            None => self.runs.iter().collect(),
        };
        self.release = uniform(runs.iter().map(|r| r.release.clone()));
        self.seed = uniform(
            runs.iter()
                .filter(|r| r.replica.unwrap_or(0) == 0)
                .map(|r| r.seed),
        );
        if self.thresholds.is_none() {
            self.summaries = crate::compare::summaries(self);
            self.comparisons = crate::compare::comparisons(self);
        }
    }
}

/// The value every item has, if they all have the same one.
fn uniform<T: PartialEq>(mut it: impl Iterator<Item = T>) -> Option<T> {
    let first = it.next()?;
    it.all(|x| x == first).then_some(first)
}

/// A document around scenario entries.
pub fn document(scenarios: Vec<ScenarioRecord>) -> Document {
    Document {
        schema: SCHEMA.into(),
        wbsim_version: env!("CARGO_PKG_VERSION").into(),
        scenarios,
        mmtests_labels: super::mmtests::labels(),
    }
}
