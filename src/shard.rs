//! `--shard I/N`: which runs of a command belong to slice I of N.
//!
//! Runs are dealt round-robin over the command's runs in their report order (every file, every
//! cell, every policy): neighbouring cells often cost about the same (a matrix axis that doubles
//! memory doubles the work), so dealing spreads cheap and dear runs evenly over the shards. Each
//! JSON document records the indices it holds; `wbsim merge` puts them back in order.

use std::fmt;
use std::str::FromStr;

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

/// Merges the documents of sharded runs into the document of the unsharded run. Scenario entries
/// are matched by file, name and plan; every item of each must be present exactly once.
/// Each document comes with its file name, for messages.
pub fn merge(
    docs: Vec<(String, crate::report::doc::Document)>,
) -> anyhow::Result<crate::report::doc::Document> {
    use crate::report::doc::{self, ScenarioDoc};
    use anyhow::bail;

    let mut merged: Vec<(ScenarioDoc, Vec<(usize, String)>)> = Vec::new();
    let mut version: Option<String> = None;
    for (name, d) in docs {
        if d.schema != doc::SCHEMA {
            bail!(
                "{name}: schema `{}`; wbsim {} merges `{}` documents",
                d.schema,
                env!("CARGO_PKG_VERSION"),
                doc::SCHEMA
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
            let items = sc.item_indices();
            let slot = merged
                .iter_mut()
                .find(|(m, _)| m.file == sc.file && m.name == sc.name && m.plan == sc.plan);
            let (target, seen) = match slot {
                Some(s) => s,
                None => {
                    let mut empty = sc.clone();
                    empty.runs.clear();
                    empty.thresholds = sc.thresholds.as_ref().map(|_| Vec::new());
                    empty.shard = None;
                    merged.push((empty, Vec::new()));
                    merged.last_mut().expect("just pushed")
                }
            };
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
                seen.push((i, name.clone()));
                match (&mut target.thresholds, &sc.thresholds) {
                    (Some(t), Some(src)) => t.push(src[k].clone()),
                    _ => target.runs.push(sc.runs[k].clone()),
                }
            }
        }
    }
    let mut out = Vec::new();
    for (mut sc, seen) in merged {
        let total = sc.plan.total();
        let mut order: Vec<usize> = (0..seen.len()).collect();
        order.sort_by_key(|&k| seen[k].0);
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
        if let Some(t) = sc.thresholds.take() {
            sc.thresholds = Some(order.iter().map(|&k| t[k].clone()).collect());
            crate::sweep::summarise_thresholds(&mut sc);
        } else {
            let runs = std::mem::take(&mut sc.runs);
            sc.runs = order.iter().map(|&k| runs[k].clone()).collect();
            sc.summarise();
        }
        if sc.checks.is_some() {
            sc.checks = Some(doc::checks(&sc));
        }
        out.push(sc);
    }
    Ok(doc::document(out))
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
