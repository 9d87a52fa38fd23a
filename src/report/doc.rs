//! The results document (schema `wbsim/run/1`): what `run`, `check` and `sweep` produce, what
//! `--format json` prints, and what every other format is rendered from.
//!
//! Rendering tables, CSV and Markdown from this document rather than from the engine's results
//! is what lets `wbsim merge` re-render shards: a merged document renders byte for byte like the
//! document of the unsharded run. Besides the per-run records (documented in
//! docs/SCENARIO_FORMAT.md) each scenario carries its `plan` (the axes, `--set` arguments and
//! `[expect]` entries, enough to rebuild cell labels, checks and reproduce commands) and, when
//! sharded, which runs it holds.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::outcome::{Outcome, RunResult};
use crate::scenario::matrix::{pattern_matches, POLICY_AXIS};
use crate::scenario::{PlannedRun, Scenario};
use crate::spec::TaskKind;

/// The schema tag of the document.
pub const SCHEMA: &str = "wbsim/run/1";

/// The whole document.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Document {
    /// [`SCHEMA`].
    pub schema: String,
    /// The version of wbsim that wrote it.
    pub wbsim_version: String,
    /// One entry per scenario file, in command-line order.
    pub scenarios: Vec<ScenarioDoc>,
}

/// One scenario file's results.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScenarioDoc {
    /// The path as given.
    pub file: String,
    /// `scenario.name`.
    pub name: String,
    /// The release when every run shares one.
    pub release: Option<String>,
    /// The seed when every run shares one.
    pub seed: Option<u64>,
    /// The runs, in matrix order.
    pub runs: Vec<RunDoc>,
    /// Every redirty/activate pair.
    pub comparisons: Vec<ComparisonDoc>,
    /// `wbsim check`: each expectation applied to each cell it matches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checks: Option<Vec<CheckDoc>>,
    /// `wbsim sweep --find-threshold`: one entry per cell and policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thresholds: Option<Vec<ThresholdDoc>>,
    /// What was run.
    pub plan: Plan,
    /// `--shard I/N`: which items (runs, or threshold searches) this document holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardDoc>,
}

/// One run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunDoc {
    /// Non-policy axis path → value (TOML type kept).
    pub cell: Map<String, Value>,
    /// The cell label with the policy.
    pub label: String,
    /// `redirty` or `activate`.
    pub policy: String,
    /// The release.
    pub release: String,
    /// The seed.
    pub seed: u64,
    /// `machine.page_granularity` when coarser than 4 KiB (omitted at 4 KiB): the run simulated
    /// pages of this size, each standing for several kernel pages (counters stay in 4 KiB pages).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_granularity: Option<String>,
    /// How it ended.
    pub outcome: OutcomeDoc,
    /// Simulated time at the end, s.
    pub sim_seconds: f64,
    /// Events handled.
    pub events: u64,
    /// Per task.
    pub tasks: Vec<TaskDoc>,
    /// Writeback and reclaim counters.
    pub counters: CountersDoc,
    /// The final /proc/vmstat, in the release's order.
    pub vmstat: Map<String, Value>,
    /// Fields added by other commands or options; kept through `merge`.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutcomeDoc {
    /// `oom`, `survived` or `stalled`.
    pub kind: String,
    /// When, s.
    pub at_s: f64,
    /// The victim (`""`: the killer panicked).
    pub victim: Option<String>,
    /// Its pid.
    pub victim_pid: Option<u32>,
    /// The task whose allocation invoked the killer.
    pub invoker: Option<String>,
    /// `CONSTRAINT_NONE` or `CONSTRAINT_CPUSET`.
    pub constraint: Option<String>,
    /// Why it stalled.
    pub reason: Option<String>,
}

/// One task's progress: the engine's own report, serialised as is.
pub use crate::outcome::TaskReport as TaskDoc;

/// The run's own counters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CountersDoc {
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
    /// What the later-kernel mechanisms did (all 0 under 2.6.3x rules but
    /// `pages_written_by_dirtier`).
    #[serde(
        default,
        skip_serializing_if = "crate::outcome::LaterCounters::is_zero"
    )]
    pub later: crate::outcome::LaterCounters,
}

/// A redirty/activate pair and its verdict.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ComparisonDoc {
    /// The cell label without the policy (the scenario name when the policy is the only axis).
    pub label: String,
    /// `redirty`.
    pub from: String,
    /// `activate`.
    pub to: String,
    /// The redirty run's outcome kind.
    pub before: String,
    /// The activate run's outcome kind.
    pub after: String,
    /// `fix`, `regression`, `unchanged` or `changed` (see [`crate::verdict`]).
    pub verdict: String,
}

/// One expectation applied to one cell.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckDoc {
    /// The `[expect]` key.
    pub expect: String,
    /// The cell label.
    pub cell: String,
    /// Whether the result matched.
    pub pass: bool,
    /// What was expected.
    pub expected: String,
    /// What happened.
    pub got: String,
    /// The command that reproduces the cell.
    pub reproduce: String,
}

/// The value at which a cell's outcome flips.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ThresholdDoc {
    /// The cell label with the policy, without the searched value.
    pub label: String,
    /// The policy.
    pub policy: String,
    /// The searched path.
    pub path: String,
    /// The first value whose outcome differs from the low end's (`None`: no flip in the range).
    pub threshold: Option<String>,
    /// The outcome kind at the low side.
    pub from: String,
    /// The outcome kind at the high side.
    pub to: String,
    /// Simulations run for this search.
    pub probes: usize,
    /// The run just below the flip (the low end of the range when there is none).
    pub below: BracketDoc,
    /// The run at the flip (the high end of the range when there is none).
    pub above: BracketDoc,
}

/// One bracketing run of a threshold search.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BracketDoc {
    /// The searched path's value.
    pub value: String,
    /// The command that reproduces it.
    pub reproduce: String,
    /// The run.
    pub run: RunDoc,
}

/// What was run: enough to rebuild labels, checks and reproduce commands from the runs alone.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// `run` or `sweep`: the command the reproduce lines use.
    pub command: String,
    /// `--set PATH=VALUE` arguments that are not axis restrictions.
    pub sets: Vec<String>,
    /// The axes after restrictions (policy included), outermost first; runs (or threshold
    /// searches) are every combination, in that order.
    pub axes: Vec<AxisDoc>,
    /// The stream-write tasks (the table shows their progress).
    pub stream_writers: Vec<String>,
    /// The `[expect]` entries (`None`: the file has none, or a sweep ignored them).
    pub expect: Option<Vec<ExpectDoc>>,
    /// `--find-threshold`: the searched path and range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<ThresholdPlan>,
}

/// One axis.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AxisDoc {
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
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExpectDoc {
    /// The key.
    pub pattern: String,
    /// `oom`, `survived` or `stalled`.
    pub outcome: String,
    /// The expected victim.
    pub victim: Option<String>,
    /// The expected invoker.
    pub invoker: Option<String>,
}

/// A threshold search's path and range.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShardDoc {
    /// I of I/N.
    pub index: u32,
    /// N of I/N.
    pub count: u32,
    /// How many items the unsharded scenario has.
    pub total: usize,
    /// The indices (in plan order) of the items held, ascending.
    pub items: Vec<usize>,
}

impl Plan {
    /// The plan of a loaded scenario.
    pub fn of(sc: &Scenario, command: &str, varied: &[String]) -> Plan {
        let mut stream_writers: Vec<String> = Vec::new();
        for run in &sc.runs {
            for t in &run.spec.tasks {
                if matches!(t.kind, TaskKind::StreamWrite { .. })
                    && !stream_writers.contains(&t.name)
                {
                    stream_writers.push(t.name.clone());
                }
            }
        }
        Plan {
            command: command.into(),
            sets: sc.plain_sets.clone(),
            axes: sc
                .axes
                .iter()
                .map(|a| AxisDoc {
                    path: a.path.clone(),
                    declared: a.declared,
                    varied: varied.contains(&a.path),
                    values: a.labels(),
                })
                .collect(),
            stream_writers,
            expect: sc.expectations.as_ref().map(|es| {
                es.iter()
                    .map(|e| ExpectDoc {
                        pattern: e.pattern.clone(),
                        outcome: e.outcome.clone(),
                        victim: e.victim.clone(),
                        invoker: e.invoker.clone(),
                    })
                    .collect()
            }),
            threshold: None,
        }
    }

    /// How many items (combinations of axis values) the plan has.
    pub fn total(&self) -> usize {
        self.axes.iter().map(|a| a.values.len()).product()
    }

    /// The axis value labels of item `index` (mixed radix, first axis outermost).
    pub fn components(&self, index: usize) -> Vec<String> {
        let mut rest = index;
        let mut out = vec![String::new(); self.axes.len()];
        for (i, axis) in self.axes.iter().enumerate().rev() {
            let n = axis.values.len().max(1);
            out[i] = axis.values[rest % n].clone();
            rest /= n;
        }
        out
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

    /// The command that reproduces item `components` with `seed`; `extra` is a further
    /// `--vary PATH=VALUE` (a threshold probe).
    pub fn reproduce(
        &self,
        file: &str,
        components: &[String],
        seed: u64,
        extra: Option<(&str, &str)>,
    ) -> String {
        use super::check::quote;
        let sweep = self.command == "sweep" || extra.is_some();
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
        words.join(" ")
    }
}

impl ScenarioDoc {
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
    pub fn runs_with_components(&self) -> Vec<(Vec<String>, &RunDoc)> {
        self.item_indices()
            .into_iter()
            .zip(&self.runs)
            .map(|(i, r)| (self.plan.components(i), r))
            .collect()
    }

    /// Recomputes the release/seed summary and the comparisons from the runs.
    pub fn summarise(&mut self) {
        self.release = uniform(self.runs.iter().map(|r| r.release.clone()));
        self.seed = uniform(self.runs.iter().map(|r| r.seed));
        self.comparisons = crate::verdict::comparisons(self);
    }
}

fn uniform<T: PartialEq>(mut it: impl Iterator<Item = T>) -> Option<T> {
    let first = it.next()?;
    it.all(|x| x == first).then_some(first)
}

/// The record of one run.
pub fn run_doc(run: &PlannedRun, res: &RunResult) -> RunDoc {
    RunDoc {
        cell: run
            .cell
            .iter()
            .map(|(p, v)| (p.clone(), v.to_json()))
            .collect(),
        label: run.label.clone(),
        policy: run.spec.policy.name().into(),
        release: run.spec.kernel.display_name(),
        seed: run.spec.seed,
        page_granularity: run.spec.machine.coarse_page(),
        outcome: outcome_doc(&res.outcome),
        sim_seconds: res.sim_ns as f64 / 1e9,
        events: res.events,
        tasks: res.tasks.clone(),
        counters: CountersDoc {
            writepage_refused: res.writepage_refused,
            pages_written_by_writeback: res.pages_written_by_writeback,
            pages_written_by_reclaim: res.pages_written_by_reclaim,
            pages_written_by_journal: res.pages_written_by_journal,
            reclaim_no_progress: res.reclaim_no_progress,
            later: res.later.clone(),
        },
        vmstat: res
            .vmstat
            .iter()
            .map(|(n, v)| (n.clone(), Value::from(*v)))
            .collect(),
        extra: [("mmtests".to_string(), crate::observe::mmtests::json(res))]
            .into_iter()
            .collect(),
    }
}

fn outcome_doc(o: &Outcome) -> OutcomeDoc {
    let mut d = OutcomeDoc {
        kind: o.kind().into(),
        at_s: o.at_ns() as f64 / 1e9,
        victim: None,
        victim_pid: None,
        invoker: None,
        constraint: None,
        reason: None,
    };
    match o {
        Outcome::Oom {
            victim,
            victim_pid,
            invoker,
            constraint,
            ..
        } => {
            d.victim = Some(victim.clone());
            d.victim_pid = Some(*victim_pid);
            d.invoker = Some(invoker.clone());
            d.constraint = Some(constraint.name().into());
        }
        Outcome::Stalled { reason, .. } => d.reason = Some(reason.clone()),
        Outcome::Survived { .. } => {}
    }
    d
}

/// The document of one scenario's runs. `held` is the plan index of each result (all of them,
/// in order, when unsharded).
pub fn scenario_doc(
    sc: &Scenario,
    plan: Plan,
    held: &[usize],
    results: &[RunResult],
    shard: Option<crate::shard::Shard>,
) -> ScenarioDoc {
    let runs = held
        .iter()
        .zip(results)
        .map(|(&i, res)| run_doc(&sc.runs[i], res))
        .collect();
    let mut doc = ScenarioDoc {
        file: sc.file.clone(),
        name: sc.name.clone(),
        release: None,
        seed: None,
        runs,
        comparisons: Vec::new(),
        checks: None,
        thresholds: None,
        shard: shard.map(|s| ShardDoc {
            index: s.index,
            count: s.count,
            total: sc.runs.len(),
            items: held.to_vec(),
        }),
        plan,
    };
    doc.summarise();
    doc
}

/// Whether an expectation holds for a run.
pub fn holds(exp: &ExpectDoc, o: &OutcomeDoc) -> bool {
    exp.outcome == o.kind
        && (o.kind != "oom"
            || (exp
                .victim
                .as_ref()
                .map_or(true, |v| Some(v) == o.victim.as_ref())
                && exp
                    .invoker
                    .as_ref()
                    .map_or(true, |i| Some(i) == o.invoker.as_ref())))
}

/// Applies every expectation to every run it matches (expectation order, then run order).
pub fn checks(sc: &ScenarioDoc) -> Vec<CheckDoc> {
    let mut out = Vec::new();
    let runs = sc.runs_with_components();
    for exp in sc.plan.expect.iter().flatten() {
        for (components, run) in &runs {
            if !pattern_matches(&exp.pattern, components) {
                continue;
            }
            out.push(CheckDoc {
                expect: exp.pattern.clone(),
                cell: run.label.clone(),
                pass: holds(exp, &run.outcome),
                expected: describe_expect(exp),
                got: super::check::describe(&run.outcome),
                reproduce: sc.plan.reproduce(&sc.file, components, run.seed, None),
            });
        }
    }
    out
}

fn describe_expect(e: &ExpectDoc) -> String {
    let mut extra = Vec::new();
    if let Some(v) = &e.victim {
        extra.push(format!("victim {v}"));
    }
    if let Some(i) = &e.invoker {
        extra.push(format!("invoker {i}"));
    }
    if extra.is_empty() {
        e.outcome.clone()
    } else {
        format!("{} ({})", e.outcome, extra.join(", "))
    }
}

/// A document around scenario entries.
pub fn document(scenarios: Vec<ScenarioDoc>) -> Document {
    Document {
        schema: SCHEMA.into(),
        wbsim_version: env!("CARGO_PKG_VERSION").into(),
        scenarios,
    }
}
