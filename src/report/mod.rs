//! Rendering results. Every command's results become a [`doc::Document`] (the `wbsim/run/1`
//! JSON); tables, CSV and Markdown are [`grid::Grid`]s built from it, so a merged document renders
//! exactly like the unsharded run.

pub mod check;
pub mod doc;
pub mod grid;
pub mod junit;
pub mod table;

use doc::RunDoc;

/// `OOM`, `survived` or `stalled`, as the table shows outcome kinds.
pub fn outcome_word(kind: &str) -> &'static str {
    match kind {
        "oom" => "OOM",
        "survived" => "survived",
        _ => "stalled",
    }
}

/// Nanoseconds as seconds with one decimal: `42.0`.
pub fn secs(ns: u64) -> String {
    format!("{:.1}", ns as f64 / 1e9)
}

/// The counters of the table, summed over zone suffixes.
#[derive(Debug, Default, PartialEq)]
pub struct Counters {
    /// pgscan_kswapd_* + pgscan_direct_*.
    pub pgscan: u64,
    /// pgsteal_*.
    pub pgsteal: u64,
    /// nr_vmscan_write.
    pub nr_vmscan_write: u64,
    /// RunResult::writepage_refused.
    pub refused: u64,
    /// pgrotated.
    pub pgrotated: u64,
    /// allocstall (summed over zones where the release splits it).
    pub allocstall: u64,
    /// Pages written by the flusher threads and throttled writers, in MiB.
    pub flusher_mib: f64,
}

fn vmstat(r: &RunDoc, name: &str) -> u64 {
    r.vmstat.get(name).and_then(|v| v.as_u64()).unwrap_or(0)
}

fn sum_family(r: &RunDoc, family: &str) -> u64 {
    let prefix = format!("{family}_");
    r.vmstat
        .iter()
        .filter(|(n, _)| *n == family || n.starts_with(&prefix))
        .fold(0u64, |a, (_, v)| a.saturating_add(v.as_u64().unwrap_or(0)))
}

/// Computes the table's counters.
pub fn counters(r: &RunDoc) -> Counters {
    Counters {
        pgscan: sum_family(r, "pgscan_kswapd").saturating_add(sum_family(r, "pgscan_direct")),
        pgsteal: sum_family(r, "pgsteal"),
        nr_vmscan_write: vmstat(r, "nr_vmscan_write"),
        refused: r.counters.writepage_refused,
        pgrotated: vmstat(r, "pgrotated"),
        allocstall: sum_family(r, "allocstall"),
        flusher_mib: r.counters.pages_written_by_writeback as f64 * 4096.0 / f64::from(1u32 << 20),
    }
}

/// A stream writer's progress: `42.0 s` when it finished, else the percentage of bytes written.
pub fn writer_progress(res: &RunDoc, name: &str) -> String {
    let Some(rep) = res.tasks.iter().find(|t| t.name == name) else {
        return "-".into();
    };
    if let Some(at) = rep.finished_at_ns {
        return format!("{} s", secs(at));
    }
    let Some(total) = rep.total_bytes else {
        return "-".into();
    };
    let total = total.max(1);
    let pct = u128::from(rep.done_bytes.min(total)) * 100 / u128::from(total);
    format!("{pct}%")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::RunResult;

    #[test]
    fn counter_families() {
        let r = RunResult {
            vmstat: [
                ("pgscan_kswapd_dma", 1),
                ("pgscan_kswapd_normal", 2),
                ("pgscan_direct_dma32", 4),
                ("pgsteal_normal", 8),
                ("pgsteal_dma", 16),
                ("allocstall", 3),
                ("pgrotated", 5),
                ("nr_vmscan_write", 6),
                ("pgscan_kswapdx", 100),
            ]
            .iter()
            .map(|(n, v)| ((*n).to_string(), *v))
            .collect(),
            writepage_refused: 7,
            pages_written_by_writeback: 512,
            ..RunResult::empty()
        };
        let doc = table::tests::run_doc_of(r);
        let c = counters(&doc);
        assert_eq!(
            c,
            Counters {
                pgscan: 7,
                pgsteal: 24,
                nr_vmscan_write: 6,
                refused: 7,
                pgrotated: 5,
                allocstall: 3,
                flusher_mib: 2.0
            }
        );
    }
}
