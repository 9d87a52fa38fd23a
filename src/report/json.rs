//! The `--format json` document (schema `wbsim/run/1`, documented in docs/SCENARIO_FORMAT.md).

use serde_json::{json, Map, Value};

use super::check::CheckLine;
use super::{comparisons, ScenarioResults};
use crate::outcome::{Outcome, RunResult};

/// The schema tag of the document.
pub const SCHEMA: &str = "wbsim/run/1";

/// The whole document; `checks` (one list per scenario) is added by `wbsim check`.
pub fn document(all: &[ScenarioResults<'_>], checks: Option<&[Vec<CheckLine>]>) -> Value {
    let scenarios: Vec<Value> = all
        .iter()
        .enumerate()
        .map(|(i, sr)| {
            let mut s = scenario(sr);
            if let (Some(checks), Value::Object(m)) = (checks, &mut s) {
                m.insert(
                    "checks".into(),
                    checks
                        .get(i)
                        .map_or(Value::Array(Vec::new()), |c| check_lines(c)),
                );
            }
            s
        })
        .collect();
    json!({
        "schema": SCHEMA,
        "wbsim_version": env!("CARGO_PKG_VERSION"),
        "scenarios": scenarios,
    })
}

fn scenario(sr: &ScenarioResults<'_>) -> Value {
    let runs: Vec<Value> = sr
        .pairs()
        .map(|(run, res)| {
            let cell: Map<String, Value> = run.cell.iter().map(|(p, v)| (p.clone(), v.to_json())).collect();
            json!({
                "cell": cell,
                "label": run.label,
                "policy": run.spec.policy.name(),
                "release": run.spec.kernel.display_name(),
                "seed": run.spec.seed,
                "outcome": outcome(&res.outcome),
                "sim_seconds": res.sim_ns as f64 / 1e9,
                "events": res.events,
                "tasks": serde_json::to_value(&res.tasks).unwrap_or(Value::Null),
                "counters": counters(res),
                "vmstat": res.vmstat.iter().map(|(n, v)| (n.clone(), Value::from(*v))).collect::<Map<String, Value>>(),
                "mmtests": crate::observe::mmtests::json(res),
            })
        })
        .collect();
    let comparisons: Vec<Value> = comparisons(sr)
        .iter()
        .map(|c| {
            json!({
                "label": c.label,
                "from": "redirty",
                "to": "activate",
                "before": c.before.kind(),
                "after": c.after.kind(),
            })
        })
        .collect();
    json!({
        "file": sr.scenario.file,
        "name": sr.scenario.name,
        "release": sr.release(),
        "seed": sr.seed(),
        "runs": runs,
        "comparisons": comparisons,
    })
}

fn outcome(o: &Outcome) -> Value {
    let (victim, victim_pid, invoker, constraint, reason) = match o {
        Outcome::Oom {
            victim,
            victim_pid,
            invoker,
            constraint,
            ..
        } => (
            json!(victim),
            json!(victim_pid),
            json!(invoker),
            json!(constraint.name()),
            Value::Null,
        ),
        Outcome::Survived { .. } => (
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null,
        ),
        Outcome::Stalled { reason, .. } => (
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null,
            json!(reason),
        ),
    };
    json!({
        "kind": o.kind(),
        "at_s": o.at_ns() as f64 / 1e9,
        "victim": victim,
        "victim_pid": victim_pid,
        "invoker": invoker,
        "constraint": constraint,
        "reason": reason,
    })
}

fn counters(r: &RunResult) -> Value {
    json!({
        "writepage_refused": r.writepage_refused,
        "pages_written_by_writeback": r.pages_written_by_writeback,
        "pages_written_by_reclaim": r.pages_written_by_reclaim,
        "pages_written_by_journal": r.pages_written_by_journal,
        "reclaim_no_progress": r.reclaim_no_progress,
        "later": r.later,
    })
}

fn check_lines(lines: &[CheckLine]) -> Value {
    lines
        .iter()
        .map(|l| {
            json!({
                "expect": l.pattern,
                "cell": l.cell,
                "pass": l.pass,
                "expected": l.expected,
                "got": l.got,
                "reproduce": l.reproduce,
            })
        })
        .collect()
}
