//! `--shard I/N`: which runs of a command belong to slice I of N.
//!
//! Runs are dealt round-robin over the command's runs in their report order (every file, every
//! cell, every policy): neighbouring cells often cost about the same (a matrix axis that doubles
//! memory doubles the work), so dealing spreads cheap and dear runs evenly over the shards. Each
//! JSON document records the indices it holds; `wbsim merge` puts them back in order.

use std::fmt;
use std::str::FromStr;

use anyhow::bail;

use crate::report::build::checks;
use crate::report::document::{document, Document, ScenarioRecord, SCHEMA};

/// Slice `index` (1-based) of `count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// 1..=count.
    pub index: u32,
    /// How many slices.
    pub count: u32,
}

impl Shard {
    /// Whether the run at `position` (0-based, over every run of the command) is in this slice.
    pub fn holds(self, position: usize) -> bool {
        position % self.count as usize == (self.index - 1) as usize
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Shard, String> {
        let bad = || {
            format!("`{s}` is not I/N with 1 <= I <= N (e.g. `1/4` for the first of four slices)")
        };
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let index: u32 = i.trim().parse().map_err(|_| bad())?;
        let count: u32 = n.trim().parse().map_err(|_| bad())?;
        if index == 0 || count == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

/// A scenario being merged: its record so far, the document it first came from, and each item
/// seen with the document it came from.
struct Merging {
    record: ScenarioRecord,
    origin: String,
    seen: Vec<(usize, String)>,
    /// Where each seen item came from (the duplicate check is linear, not quadratic).
    owner: std::collections::HashMap<usize, String>,
}

/// Merges the documents of sharded runs into the document of the unsharded run. Scenario entries
/// are matched by file; two entries of one file must have equal provenance (the file's bytes,
/// every `--set`, `--seed`, `--policy`, replicas, kernels, wbsim's version), name, plan and
/// shard count, so that one command could have produced them all; every item must be present
/// exactly once. Each document comes with its file name, for messages.
pub fn merge(docs: Vec<(String, Document)>) -> anyhow::Result<Document> {
    let mut merged: Vec<Merging> = Vec::new();
    let mut version: Option<(String, String)> = None;
    for (name, d) in docs {
        if d.schema != SCHEMA {
            bail!(
                "{name}: schema `{}`; wbsim {} merges `{SCHEMA}` documents",
                d.schema,
                env!("CARGO_PKG_VERSION"),
            );
        }
        match &version {
            Some((v, first)) if *v != d.wbsim_version => bail!(
                "{name}: written by wbsim {}, {first} by {v}; shards must come from the same version",
                d.wbsim_version
            ),
            Some(_) => {}
            None => version = Some((d.wbsim_version.clone(), name.clone())),
        }
        for sc in d.scenarios {
            add(&mut merged, &name, sc)?;
        }
    }
    let scenarios = merged
        .into_iter()
        .map(|m| finish(m.record, &m.seen))
        .collect::<anyhow::Result<_>>()?;
    Ok(document(scenarios))
}

/// Refuses a record that one command could not have written beside `first` (from `origin`):
/// names the first field that differs and both documents.
fn same_command(
    first: &ScenarioRecord,
    origin: &str,
    sc: &ScenarioRecord,
    name: &str,
) -> anyhow::Result<()> {
    let file = &sc.file;
    let refuse = |field: &str, a: &str, b: &str| -> anyhow::Result<()> {
        bail!(
            "{file}: `{field}` differs: `{a}` in {origin}, `{b}` in {name}; merge joins only the \
             shards of one command (same file bytes, --set, --seed, --policy, kernels, version)"
        )
    };
    let (Some(p), Some(q)) = (&first.provenance, &sc.provenance) else {
        unreachable!("add() refuses records without provenance")
    };
    for ((field, a), (_, b)) in p.fields().into_iter().zip(q.fields()) {
        if a != b {
            return refuse(&format!("provenance.{field}"), &a, &b);
        }
    }
    if first.name != sc.name {
        return refuse("name", &first.name, &sc.name);
    }
    if first.plan != sc.plan {
        let json = |p: &crate::report::document::Plan| serde_json::to_string(p).unwrap_or_default();
        return refuse("plan", &json(&first.plan), &json(&sc.plan));
    }
    let kind = |r: &ScenarioRecord| match (&r.checks, &r.thresholds) {
        (Some(_), _) => "checks",
        (_, Some(_)) => "thresholds",
        _ => "runs",
    };
    if kind(first) != kind(sc) {
        return refuse("content", kind(first), kind(sc));
    }
    let count = |r: &ScenarioRecord| {
        r.shard
            .as_ref()
            .map_or("none".into(), |s| format!("of {}", s.count))
    };
    if count(first) != count(sc) {
        return refuse("shard", &count(first), &count(sc));
    }
    Ok(())
}

/// Checks that a record's shard entry describes what it holds: as many items as runs (or
/// threshold searches), ascending, inside the plan, of a shard of the plan's size.
fn check_shard(name: &str, sc: &ScenarioRecord) -> anyhow::Result<()> {
    let held = sc.thresholds.as_ref().map_or(sc.runs.len(), Vec::len);
    let file = &sc.file;
    // The plan's items: its listed combinations (a tied or filtered matrix) or every
    // combination of its axes, each run `replicas` times (consecutively, `Plan::replicas`).
    let cells = match &sc.plan.cells {
        Some(cells) => Some(cells.len()),
        None => sc
            .plan
            .axes
            .iter()
            .try_fold(1usize, |n, a| n.checked_mul(a.values.len())),
    };
    let total = cells
        .and_then(|n| n.checked_mul(sc.plan.replicas as usize))
        .filter(|&n| n <= crate::scenario::MAX_RUNS)
        .ok_or_else(|| {
            anyhow::anyhow!(
                "{name}: {file}: the plan has more than {} items; the document was edited",
                crate::scenario::MAX_RUNS
            )
        })?;
    let Some(s) = &sc.shard else {
        return Ok(());
    };
    if s.items.len() != held {
        bail!(
            "{name}: {file}: `shard.items` lists {} items but the document holds {held}; the \
             document was edited or truncated",
            s.items.len()
        );
    }
    if s.total != total {
        bail!(
            "{name}: {file}: `shard.total` is {} but the plan has {total} items; the document \
             was edited",
            s.total
        );
    }
    if s.index == 0 || s.index > s.count || s.items.windows(2).any(|w| w[0] >= w[1]) {
        bail!(
            "{name}: {file}: `shard` is not a valid slice (index {} of {}, items ascending \
             and each once); the document was edited",
            s.index,
            s.count
        );
    }
    Ok(())
}

/// Adds the items of one document's scenario record (from file `name`) to its scenario.
fn add(merged: &mut Vec<Merging>, name: &str, sc: ScenarioRecord) -> anyhow::Result<()> {
    if sc.provenance.is_none() {
        bail!(
            "{name}: {}: no `provenance` (written by a wbsim before 0.1.0's provenance); \
             re-run the shards with this wbsim",
            sc.file
        );
    }
    check_shard(name, &sc)?;
    let items = sc.item_indices();
    let slot = match merged.iter().position(|m| m.record.file == sc.file) {
        Some(i) => {
            same_command(&merged[i].record, &merged[i].origin, &sc, name)?;
            i
        }
        None => {
            let mut empty = sc.clone();
            empty.runs.clear();
            // `shard` stays until `finish`: later records are compared with its count.
            empty.thresholds = sc.thresholds.as_ref().map(|_| Vec::new());
            merged.push(Merging {
                record: empty,
                origin: name.to_string(),
                seen: Vec::new(),
                owner: Default::default(),
            });
            merged.len() - 1
        }
    };
    let Merging {
        record: target,
        seen,
        owner,
        ..
    } = &mut merged[slot];
    let total = target.plan.total();
    for (k, &i) in items.iter().enumerate() {
        if i >= total {
            bail!(
                "{name}: {}: item {i} is outside the plan ({total} items)",
                sc.file
            );
        }
        if let Some(other) = owner.get(&i) {
            bail!(
                "{name}: {}: item {i} is also in {other}; was a shard merged twice?",
                sc.file
            );
        }
        owner.insert(i, name.to_string());
        seen.push((i, name.to_string()));
        match (&mut target.thresholds, &sc.thresholds) {
            (Some(t), Some(src)) => t.push(src[k].clone()),
            _ => target.runs.push(sc.runs[k].clone()),
        }
    }
    Ok(())
}

/// A merged scenario: every item present, put in plan order, the summary, comparisons and
/// checks recomputed.
fn finish(mut sc: ScenarioRecord, seen: &[(usize, String)]) -> anyhow::Result<ScenarioRecord> {
    sc.shard = None;
    let total = sc.plan.total();
    if seen.len() != total {
        let held: std::collections::HashSet<usize> = seen.iter().map(|(j, _)| *j).collect();
        let missing: Vec<String> = (0..total)
            .filter(|i| !held.contains(i))
            .take(10)
            .map(|i| i.to_string())
            .collect();
        bail!(
            "{}: {} of {total} items are missing (first: {}); merge every shard's document",
            sc.file,
            total - seen.len(),
            missing.join(", ")
        );
    }
    let mut order: Vec<usize> = (0..seen.len()).collect();
    order.sort_by_key(|&k| seen[k].0);
    if let Some(t) = sc.thresholds.take() {
        sc.thresholds = Some(order.iter().map(|&k| t[k].clone()).collect());
    } else {
        let runs = std::mem::take(&mut sc.runs);
        sc.runs = order.iter().map(|&k| runs[k].clone()).collect();
    }
    sc.summarise();
    if sc.checks.is_some() {
        sc.checks = Some(checks(&sc));
    }
    Ok(sc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsing() {
        assert_eq!("2/4".parse(), Ok(Shard { index: 2, count: 4 }));
        assert_eq!("1/1".parse(), Ok(Shard { index: 1, count: 1 }));
        for bad in ["0/4", "5/4", "1/0", "1", "a/b", "1/2/3", ""] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }

    #[test]
    fn every_position_is_in_exactly_one_slice() {
        for count in 1..6u32 {
            for pos in 0..20usize {
                let holders = (1..=count)
                    .filter(|&index| Shard { index, count }.holds(pos))
                    .count();
                assert_eq!(holders, 1, "{pos} in {count}");
            }
        }
        assert!(Shard { index: 2, count: 3 }.holds(4));
    }
}
