//! `--margin PATH=LO..HI[:RES]` (on `run`, and in `study`): for each cell and policy, the value
//! of PATH at which survival turns into OOM, found by bisection over replicas: each probe runs
//! the cell's replicas at one value, and the threshold is where the OOM rate crosses 50 %, given
//! with its bracket (the last value below 50 % and the first at or above it).
//!
//! Every cell and policy is bisected at once, round by round, so a round's runs share the
//! runner's threads and policy twins are reused as in any run. The replicas of a probe are the
//! scenario's (`--replicas`): their seeds do not depend on the value, so the rate at each value
//! is a deterministic function of the value, and a fine grid over the same replicas reproduces
//! the bracket (tests/suite/margin.rs) when the rate is monotone in the value.

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::bail;
use serde::{Deserialize, Serialize};

use crate::outcome::OutcomeKind;
use crate::run::{Job, Runner};
use crate::scenario::error::Source;
use crate::scenario::matrix::{label, Vary};
use crate::scenario::{load_source_varied, Overrides, Scenario};
use crate::spec::{Policy, TaskKind};
use crate::sweep::{parse_range, Range};

/// A parsed `--margin`.
#[derive(Clone, Debug)]
pub struct MarginArg {
    /// The searched path (`None`: the first pinning task's size).
    pub path: Option<String>,
    /// The range; `step` is the resolution.
    pub range: Range,
}

/// Parses `--margin [PATH=]LO..HI[:RES]` (default resolution: 1/32 of the range).
pub fn parse(arg: &str) -> anyhow::Result<MarginArg> {
    let (path, range) = match arg.split_once('=') {
        Some((p, r)) if !p.trim().is_empty() => (Some(p.trim().to_string()), r),
        Some(_) => bail!("`--margin {arg}`: the path before `=` is empty"),
        None => (None, arg),
    };
    let (lo, hi) = match range.split_once("..") {
        Some((lo, rest)) => (lo, rest.split(':').next().unwrap_or(rest)),
        None => ("", ""),
    };
    let span_step = move |sizes: bool| -> Option<u64> {
        let parse = |t: &str| {
            if sizes {
                crate::scenario::units::parse_size(t).ok()
            } else {
                t.trim().parse::<u64>().ok()
            }
        };
        Some((parse(hi)?.saturating_sub(parse(lo)?) / 32).max(1))
    };
    let range = parse_range(range, span_step, None)
        .map_err(|e| anyhow::anyhow!("in `--margin {arg}`: {e}"))?;
    Ok(MarginArg { path, range })
}

/// One probe's result: the value and its OOM count.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Probe {
    /// The value, as the loader reads it.
    pub value: String,
    /// Runs that went OOM.
    pub oom: u32,
    /// Runs (replicas).
    pub runs: u32,
}

impl Probe {
    fn oom_side(&self) -> bool {
        2 * self.oom >= self.runs
    }
}

/// The margin of one cell and policy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MarginRecord {
    /// The cell label without the policy and the searched path (the scenario name when empty).
    pub cell: String,
    /// The policy.
    #[serde(with = "crate::report::document::policy_name")]
    #[schemars(with = "crate::report::document::PolicyName")]
    pub policy: Policy,
    /// The searched path.
    pub path: String,
    /// The first value whose OOM rate is on the other side of 50 % from the low end's (`None`:
    /// the whole range is on one side).
    pub threshold: Option<String>,
    /// The last value on the low end's side.
    pub below: Probe,
    /// The first value on the other side (the high end when there is no crossing).
    pub above: Probe,
    /// Values probed.
    pub probes: u32,
    /// Every probe, in the order of the values (what `study --html` plots).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub points: Vec<Probe>,
}

/// One cell and policy being bisected: indices into the range's points.
struct Item {
    cell: Vec<String>,
    policy: Policy,
    lo: u64,
    hi: u64,
    below: Option<Probe>,
    above: Option<Probe>,
    probes: u32,
    /// Every probe with its point.
    points: Vec<(u64, Probe)>,
}

/// Searches every cell and policy of the scenario in `src` under `ov`.
pub fn search(
    src: &Arc<Source>,
    ov: &Overrides,
    arg: &MarginArg,
    runner: &Runner,
) -> anyhow::Result<Vec<MarginRecord>> {
    let r = arg.range;
    let mut loaded: HashMap<u64, Scenario> = HashMap::new();
    let base = crate::scenario::load_source(src, ov)?;
    let path = match &arg.path {
        Some(p) => p.clone(),
        None => default_path(&base)?,
    };
    let load = |loaded: &mut HashMap<u64, Scenario>, k: u64| -> anyhow::Result<()> {
        if let std::collections::hash_map::Entry::Vacant(slot) = loaded.entry(k) {
            let vary = Vary {
                path: path.clone(),
                values: vec![r.show(r.value(k))],
                arg: format!("--margin {path}"),
            };
            slot.insert(load_source_varied(src, ov, &[vary])?);
        }
        Ok(())
    };
    load(&mut loaded, 0)?;
    let mut items = items_of(&loaded[&0], &path, r.count() - 1);
    let mut round = 0;
    while let Some(wanted) = next_probes(&items, round) {
        for &(_, k) in &wanted {
            load(&mut loaded, k)?;
        }
        let probes = probe_all(&items, &wanted, &loaded, &path, runner, r)?;
        for ((i, k), p) in wanted.into_iter().zip(probes) {
            update(&mut items[i], k, p, round);
        }
        round += 1;
    }
    Ok(items
        .into_iter()
        .map(|it| record(it, &path, &base.name))
        .collect())
}

/// The first pinning task's `size` (the seed's question is about pinned memory).
fn default_path(sc: &Scenario) -> anyhow::Result<String> {
    let tasks = sc.runs.first().map(|r| &r.spec.tasks[..]).unwrap_or(&[]);
    match tasks.iter().find(|t| matches!(t.kind, TaskKind::Pin(_))) {
        Some(t) => Ok(format!("task.{}.size", t.name)),
        None => bail!(
            "{}: --margin LO..HI searches the pinned memory, but no task pins; give PATH=LO..HI",
            sc.file
        ),
    }
}

/// The cell of a run: its components without the policy and the searched path.
fn cell_of(sc: &Scenario, components: &[String], path: &str) -> Vec<String> {
    sc.axes
        .iter()
        .zip(components)
        .filter(|(a, _)| !a.is_policy() && a.path != path)
        .map(|(_, c)| c.clone())
        .collect()
}

fn items_of(sc: &Scenario, path: &str, last: u64) -> Vec<Item> {
    let mut items: Vec<Item> = Vec::new();
    for run in &sc.runs {
        let cell = cell_of(sc, &run.components, path);
        let policy = run.spec.policy;
        if !items.iter().any(|i| i.cell == cell && i.policy == policy) {
            items.push(Item {
                cell,
                policy,
                lo: 0,
                hi: last,
                below: None,
                above: None,
                probes: 0,
                points: Vec::new(),
            });
        }
    }
    items
}

/// The (item, point) pairs of a round: both ends first, then each unfinished item's midpoint.
fn next_probes(items: &[Item], round: u32) -> Option<Vec<(usize, u64)>> {
    let mut out = Vec::new();
    for (i, it) in items.iter().enumerate() {
        if round == 0 {
            out.push((i, it.lo));
            if it.hi != it.lo {
                out.push((i, it.hi));
            }
        } else if crosses(it) && it.hi - it.lo > 1 {
            out.push((i, it.lo + (it.hi - it.lo) / 2));
        }
    }
    (!out.is_empty()).then_some(out)
}

fn crosses(it: &Item) -> bool {
    match (&it.below, &it.above) {
        (Some(b), Some(a)) => b.oom_side() != a.oom_side(),
        _ => false,
    }
}

/// Runs every wanted probe's replicas in one batch; the OOM count of each.
fn probe_all(
    items: &[Item],
    wanted: &[(usize, u64)],
    loaded: &HashMap<u64, Scenario>,
    path: &str,
    runner: &Runner,
    r: Range,
) -> anyhow::Result<Vec<Probe>> {
    let mut jobs = Vec::new();
    let mut owner = Vec::new();
    for (w, &(i, k)) in wanted.iter().enumerate() {
        let sc = &loaded[&k];
        for run in &sc.runs {
            if run.spec.policy == items[i].policy
                && cell_of(sc, &run.components, path) == items[i].cell
            {
                jobs.push(Job {
                    spec: &run.spec,
                    name: format!("margin {} {}", run.label, r.show(r.value(k))),
                });
                owner.push(w);
            }
        }
    }
    let outputs = runner
        .run(&jobs)
        .map_err(|f| anyhow::anyhow!("margin: {}", f.message))?;
    let mut probes: Vec<Probe> = wanted
        .iter()
        .map(|&(_, k)| Probe {
            value: r.show(r.value(k)),
            oom: 0,
            runs: 0,
        })
        .collect();
    for (w, out) in owner.into_iter().zip(outputs) {
        probes[w].runs += 1;
        probes[w].oom += u32::from(out.result.outcome.kind() == OutcomeKind::Oom);
    }
    Ok(probes)
}

fn update(it: &mut Item, k: u64, p: Probe, round: u32) {
    it.probes += 1;
    it.points.push((k, p.clone()));
    if round == 0 {
        if k == it.lo {
            it.below = Some(p.clone());
        }
        if k == it.hi {
            it.above = Some(p);
        }
        return;
    }
    let low_side = it.below.as_ref().map(Probe::oom_side);
    if Some(p.oom_side()) == low_side {
        it.lo = k;
        it.below = Some(p);
    } else {
        it.hi = k;
        it.above = Some(p);
    }
}

fn record(mut it: Item, path: &str, name: &str) -> MarginRecord {
    let crossed = crosses(&it);
    it.points.sort_by_key(|&(k, _)| k);
    it.points.dedup_by_key(|(k, _)| *k);
    let empty = Probe {
        value: String::new(),
        oom: 0,
        runs: 0,
    };
    let cell = label(&it.cell);
    let above = it.above.unwrap_or_else(|| empty.clone());
    MarginRecord {
        cell: if cell.is_empty() {
            name.to_string()
        } else {
            cell
        },
        policy: it.policy,
        path: path.to_string(),
        threshold: crossed.then(|| above.value.clone()),
        below: it.below.unwrap_or(empty),
        above,
        probes: it.probes,
        points: it.points.into_iter().map(|(_, p)| p).collect(),
    }
}

/// The answer lines: per cell, where each policy's OOM rate crosses 50 % and how far apart:
/// `ext4: OOM above 2.81GiB (task.sga.size) under redirty, above 3.06GiB under activate
/// (+256MiB)`.
pub fn answer_lines(margins: &[MarginRecord]) -> Vec<String> {
    let mut out = Vec::new();
    let mut cells: Vec<&str> = Vec::new();
    for m in margins {
        if !cells.contains(&m.cell.as_str()) {
            cells.push(&m.cell);
        }
    }
    for cell in cells {
        let of = |p: Policy| margins.iter().find(|m| m.cell == cell && m.policy == p);
        let side = |m: &MarginRecord| match &m.threshold {
            Some(_) if m.below.oom_side() => format!("survival above {}", m.below.value),
            Some(_) => format!("OOM above {}", m.below.value),
            None if m.below.oom_side() => {
                format!("OOM across {}..{}", m.below.value, m.above.value)
            }
            None => format!("no OOM up to {}", m.above.value),
        };
        let mut parts: Vec<String> = Vec::new();
        for p in Policy::ALL {
            if let Some(m) = of(p) {
                parts.push(format!("{} under {}", side(m), p.name()));
            }
        }
        let path = margins
            .iter()
            .find(|m| m.cell == cell)
            .map_or("", |m| m.path.as_str());
        let mut line = format!("{cell}: {} ({path})", parts.join(", "));
        if let (Some(a), Some(b)) = (of(Policy::Redirty), of(Policy::Activate)) {
            if let (Some(x), Some(y)) = (value_of(a), value_of(b)) {
                let d = y as i128 - x as i128;
                let sign = if d < 0 { "−" } else { "+" };
                line.push_str(&format!(
                    ", {sign}{} for activate",
                    crate::sweep::format_size(d.unsigned_abs() as u64)
                ));
            }
        }
        out.push(line);
    }
    out
}

/// The bracket's low value in bytes (sizes) or units, when the margin crossed.
fn value_of(m: &MarginRecord) -> Option<u64> {
    m.threshold.as_ref()?;
    number(&m.below.value)
}

/// A probed value as a number: bytes for a size, else the integer.
pub fn number(value: &str) -> Option<u64> {
    crate::scenario::units::parse_size(value)
        .ok()
        .or_else(|| value.parse().ok())
}
