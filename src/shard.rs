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

/// A scenario being merged: its record so far, and each item seen with the file it came from.
type Merging = (ScenarioRecord, Vec<(usize, String)>);

/// Merges the documents of sharded runs into the document of the unsharded run. Scenario entries
/// are matched by file, name and plan; every item of each must be present exactly once.
/// Each document comes with its file name, for messages.
pub fn merge(docs: Vec<(String, Document)>) -> anyhow::Result<Document> {
    let mut merged: Vec<Merging> = Vec::new();
    let mut version: Option<String> = None;
    for (name, d) in docs {
        if d.schema != SCHEMA {
            bail!(
                "{name}: schema `{}`; wbsim {} merges `{SCHEMA}` documents",
                d.schema,
                env!("CARGO_PKG_VERSION"),
            );
        }
        match &version {
            Some(v) if *v != d.wbsim_version => bail!(
                "{name}: written by wbsim {}, the others by {v}; shards must come from the same version",
                d.wbsim_version
            ),
            _ => version = Some(d.wbsim_version.clone()),
        }
        for sc in d.scenarios {
            add(&mut merged, &name, sc)?;
        }
    }
    let scenarios = merged
        .into_iter()
        .map(|(sc, seen)| finish(sc, &seen))
        .collect::<anyhow::Result<_>>()?;
    Ok(document(scenarios))
}

/// Adds the items of one document's scenario record (from file `name`) to its scenario.
fn add(merged: &mut Vec<Merging>, name: &str, sc: ScenarioRecord) -> anyhow::Result<()> {
    let items = sc.item_indices();
    let slot = merged
        .iter()
        .position(|(m, _)| m.file == sc.file && m.name == sc.name && m.plan == sc.plan);
    let slot = slot.unwrap_or_else(|| {
        let mut empty = sc.clone();
        empty.runs.clear();
        empty.thresholds = sc.thresholds.as_ref().map(|_| Vec::new());
        empty.shard = None;
        merged.push((empty, Vec::new()));
        merged.len() - 1
    });
    let (target, seen) = &mut merged[slot];
    let total = target.plan.total();
    for (k, &i) in items.iter().enumerate() {
        if i >= total {
            bail!(
                "{name}: {}: item {i} is outside the plan ({total} items)",
                sc.file
            );
        }
        if let Some((_, other)) = seen.iter().find(|(j, _)| *j == i) {
            bail!(
                "{name}: {}: item {i} is also in {other}; was a shard merged twice?",
                sc.file
            );
        }
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
    let total = sc.plan.total();
    if seen.len() != total {
        let missing: Vec<String> = (0..total)
            .filter(|i| !seen.iter().any(|(j, _)| j == i))
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
