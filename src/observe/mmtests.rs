//! mmtests' derived reclaim rows, with its labels (`bin/lib/MMTests/MonitorProcvmstat.pm`,
//! `%_fieldNameMap` and `parseVMStat`), computed from a run's final `/proc/vmstat`.
//!
//! Per-zone counters are summed over their suffixes as mmtests does; on 2.6.32–2.6.36 there is
//! no `pgsteal_kswapd_*`, so "Kswapd pages reclaimed" is `kswapd_steal` and "Direct pages
//! reclaimed" is `pgsteal_*` minus `kswapd_steal`, exactly mmtests' arithmetic for old kernels.
//! Efficiencies are percentages (100 when nothing was scanned, as mmtests returns); velocities
//! are pages scanned per second of simulated time.

use crate::outcome::RunResult;

/// How a row's value reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// A count.
    Count,
    /// A percentage.
    Percent,
    /// Pages per second.
    PerSec,
}

/// One derived row.
#[derive(Clone, Debug, PartialEq)]
pub struct DerivedRow {
    /// mmtests' label.
    pub label: &'static str,
    /// The value.
    pub value: f64,
    /// Its unit.
    pub unit: Unit,
}

impl DerivedRow {
    /// The value as the table prints it: `123`, `45%`, `678.90`.
    pub fn display(&self) -> String {
        match self.unit {
            Unit::Count => format!("{}", self.value as u64),
            Unit::Percent => format!("{:.0}%", self.value),
            Unit::PerSec => format!("{:.2}", self.value),
        }
    }
}

/// Sums the counters of a family over its zone suffixes (`pgscan_kswapd_dma` …) and the plain
/// name, as mmtests' key lists do.
fn family(r: &RunResult, name: &str) -> u64 {
    ["", "_dma", "_dma32", "_normal", "_movable", "_high"]
        .iter()
        .map(|sfx| r.vmstat(&format!("{name}{sfx}")))
        .sum()
}

fn ratio(num: u64, den: u64) -> f64 {
    if den == 0 {
        100.0
    } else {
        num as f64 * 100.0 / den as f64
    }
}

/// The rows, in mmtests' order.
pub fn derived_rows(r: &RunResult) -> Vec<DerivedRow> {
    let secs = (r.sim_ns as f64 / 1e9).max(1e-9);
    let direct_scan = family(r, "pgscan_direct");
    let kswapd_scan = family(r, "pgscan_kswapd");
    let kswapd_steal = r.vmstat("kswapd_steal") + family(r, "pgsteal_kswapd");
    let direct_steal = (family(r, "pgsteal") + family(r, "pgsteal_direct"))
        .saturating_sub(r.vmstat("kswapd_steal"));
    let writes = r.vmstat("nr_vmscan_write");
    let swapout = r.vmstat("pswpout");
    let c = |label, v: u64| DerivedRow {
        label,
        value: v as f64,
        unit: Unit::Count,
    };
    vec![
        c(
            "Minor Faults",
            r.vmstat("pgfault").saturating_sub(r.vmstat("pgmajfault")),
        ),
        c("Major Faults", r.vmstat("pgmajfault")),
        c("Swap Ins", r.vmstat("pswpin")),
        c("Swap Outs", swapout),
        c("Sector Reads", r.vmstat("pgpgin")),
        c("Sector Writes", r.vmstat("pgpgout")),
        c("Direct pages scanned", direct_scan),
        c("Kswapd pages scanned", kswapd_scan),
        c("Kswapd pages reclaimed", kswapd_steal),
        c("Direct pages reclaimed", direct_steal),
        DerivedRow {
            label: "Kswapd efficiency",
            value: ratio(kswapd_steal, kswapd_scan),
            unit: Unit::Percent,
        },
        DerivedRow {
            label: "Kswapd velocity",
            value: kswapd_scan as f64 / secs,
            unit: Unit::PerSec,
        },
        DerivedRow {
            label: "Direct efficiency",
            value: ratio(direct_steal, direct_scan),
            unit: Unit::Percent,
        },
        DerivedRow {
            label: "Direct velocity",
            value: direct_scan as f64 / secs,
            unit: Unit::PerSec,
        },
        DerivedRow {
            label: "Percentage direct scans",
            value: if direct_scan + kswapd_scan == 0 {
                0.0
            } else {
                direct_scan as f64 * 100.0 / (direct_scan + kswapd_scan) as f64
            },
            unit: Unit::Percent,
        },
        c("Page writes by reclaim", writes),
        c("Page writes file", writes.saturating_sub(swapout)),
        c("Page writes anon", swapout),
        c(
            "Page reclaim immediate",
            r.vmstat("nr_vmscan_immediate_reclaim"),
        ),
        c("Page rescued immediate", r.vmstat("pgrescued")),
        c("Slabs scanned", r.vmstat("slabs_scanned")),
        c("Direct inode steals", r.vmstat("pginodesteal")),
        c("Kswapd inode steals", r.vmstat("kswapd_inodesteal")),
        c(
            "Kswapd skipped wait",
            r.vmstat("kswapd_skip_congestion_wait"),
        ),
    ]
}

/// The rows as a JSON object `{label: value}` (field `mmtests` of each run in `wbsim/run/1`).
pub fn json(r: &RunResult) -> serde_json::Value {
    let mut m = serde_json::Map::new();
    for row in derived_rows(r) {
        let v = match row.unit {
            Unit::Count => serde_json::Value::from(row.value as u64),
            _ => serde_json::Value::from((row.value * 100.0).round() / 100.0),
        };
        m.insert(row.label.to_string(), v);
    }
    serde_json::Value::Object(m)
}

/// mmtests' compare layout: one row per label, one column per run.
pub fn render_table(labels: &[String], results: &[&RunResult]) -> String {
    use comfy_table::{presets, Cell, CellAlignment, ContentArrangement, Table};
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Disabled)
        .force_no_tty();
    let mut header = vec![Cell::new("mmtests vmstat")];
    header.extend(labels.iter().map(Cell::new));
    t.set_header(header);
    let rows: Vec<Vec<DerivedRow>> = results.iter().map(|r| derived_rows(r)).collect();
    for (i, first) in rows
        .first()
        .map(|r| r.as_slice())
        .unwrap_or(&[])
        .iter()
        .enumerate()
    {
        let mut row = vec![Cell::new(first.label)];
        for r in &rows {
            row.push(Cell::new(r[i].display()).set_alignment(CellAlignment::Right));
        }
        t.add_row(row);
    }
    format!("{t}\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Outcome;

    fn run(vmstat: &[(&str, u64)], sim_ns: u64) -> RunResult {
        RunResult {
            outcome: Outcome::Survived { at_ns: sim_ns },
            sim_ns,
            vmstat: vmstat.iter().map(|(n, v)| ((*n).to_string(), *v)).collect(),
            ..RunResult::empty()
        }
    }

    fn row<'a>(rows: &'a [DerivedRow], label: &str) -> &'a DerivedRow {
        rows.iter().find(|r| r.label == label).expect(label)
    }

    #[test]
    fn old_kernel_steal_split_and_efficiencies_follow_mmtests() {
        let r = run(
            &[
                ("pgscan_kswapd_dma32", 300),
                ("pgscan_kswapd_normal", 100),
                ("pgscan_direct_normal", 100),
                ("pgsteal_dma32", 250),
                ("pgsteal_normal", 50),
                ("kswapd_steal", 200),
                ("nr_vmscan_write", 30),
                ("pswpout", 10),
            ],
            2_000_000_000,
        );
        let rows = derived_rows(&r);
        assert_eq!(row(&rows, "Kswapd pages scanned").value, 400.0);
        assert_eq!(row(&rows, "Kswapd pages reclaimed").value, 200.0);
        assert_eq!(row(&rows, "Direct pages reclaimed").value, 100.0);
        assert_eq!(row(&rows, "Kswapd efficiency").display(), "50%");
        assert_eq!(row(&rows, "Direct efficiency").display(), "100%");
        assert_eq!(row(&rows, "Kswapd velocity").display(), "200.00");
        assert_eq!(row(&rows, "Percentage direct scans").display(), "20%");
        assert_eq!(row(&rows, "Page writes file").value, 20.0);
        assert_eq!(row(&rows, "Page writes anon").value, 10.0);
    }

    #[test]
    fn nothing_scanned_is_100_percent_efficient_as_in_mmtests() {
        let rows = derived_rows(&run(&[], 1));
        assert_eq!(row(&rows, "Kswapd efficiency").value, 100.0);
        assert_eq!(row(&rows, "Percentage direct scans").value, 0.0);
    }
}
