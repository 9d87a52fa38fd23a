//! mmtests' derived reclaim rows, with its labels (`bin/lib/MMTests/MonitorProcvmstat.pm`,
//! `%_fieldNameMap` and `parseVMStat`), computed from a run's final `/proc/vmstat`.
//!
//! Per-zone counters are summed over their zones as mmtests does (`Vmstat::zone_sum`; x86_64 has
//! no HighMem zone, so mmtests' `_high` suffix never occurs); on 2.6.32–2.6.36 there is no
//! `pgsteal_kswapd_*`, so "Kswapd pages reclaimed" is `kswapd_steal` and "Direct pages
//! reclaimed" is `pgsteal_*` minus `kswapd_steal`, exactly mmtests' arithmetic for old kernels.
//! Efficiencies are percentages (100 when nothing was scanned, as mmtests returns); velocities
//! are pages scanned per second of simulated time.

use serde::{Deserialize, Serialize};

use crate::outcome::{named_values, Vmstat};

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

    /// The value as a run's record keeps it: counts whole, the rest to two decimals.
    fn recorded(&self) -> MmtestsValue {
        match self.unit {
            Unit::Count => MmtestsValue::Count(self.value as u64),
            _ => MmtestsValue::Number((self.value * 100.0).round() / 100.0),
        }
    }
}

fn ratio(num: u64, den: u64) -> f64 {
    if den == 0 {
        100.0
    } else {
        num as f64 * 100.0 / den as f64
    }
}

fn count(label: &'static str, value: u64) -> DerivedRow {
    DerivedRow {
        label,
        value: value as f64,
        unit: Unit::Count,
    }
}

/// The rows, in mmtests' order.
pub fn derived_rows(v: &Vmstat, sim_ns: u64) -> Vec<DerivedRow> {
    let direct_scan = v.zone_sum("pgscan_direct");
    let kswapd_scan = v.zone_sum("pgscan_kswapd");
    let kswapd_steal = v.get("kswapd_steal") + v.zone_sum("pgsteal_kswapd");
    let direct_steal = (v.zone_sum("pgsteal") + v.zone_sum("pgsteal_direct"))
        .saturating_sub(v.get("kswapd_steal"));
    let mut rows = vec![
        count(
            "Minor Faults",
            v.get("pgfault").saturating_sub(v.get("pgmajfault")),
        ),
        count("Major Faults", v.get("pgmajfault")),
        count("Swap Ins", v.get("pswpin")),
        count("Swap Outs", v.get("pswpout")),
        count("Sector Reads", v.get("pgpgin")),
        count("Sector Writes", v.get("pgpgout")),
        count("Direct pages scanned", direct_scan),
        count("Kswapd pages scanned", kswapd_scan),
        count("Kswapd pages reclaimed", kswapd_steal),
        count("Direct pages reclaimed", direct_steal),
    ];
    let secs = (sim_ns as f64 / 1e9).max(1e-9);
    rows.extend(efficiency_rows(
        (kswapd_scan, kswapd_steal),
        (direct_scan, direct_steal),
        secs,
    ));
    rows.extend(write_rows(v));
    rows
}

/// Efficiencies and velocities of kswapd and direct reclaim: `(scanned, reclaimed)` each.
fn efficiency_rows(kswapd: (u64, u64), direct: (u64, u64), secs: f64) -> Vec<DerivedRow> {
    let row = |label, value, unit| DerivedRow { label, value, unit };
    let all_scans = direct.0 + kswapd.0;
    vec![
        row(
            "Kswapd efficiency",
            ratio(kswapd.1, kswapd.0),
            Unit::Percent,
        ),
        row("Kswapd velocity", kswapd.0 as f64 / secs, Unit::PerSec),
        row(
            "Direct efficiency",
            ratio(direct.1, direct.0),
            Unit::Percent,
        ),
        row("Direct velocity", direct.0 as f64 / secs, Unit::PerSec),
        row(
            "Percentage direct scans",
            if all_scans == 0 {
                0.0
            } else {
                direct.0 as f64 * 100.0 / all_scans as f64
            },
            Unit::Percent,
        ),
    ]
}

/// Reclaim's writes and the slab and inode rows.
fn write_rows(v: &Vmstat) -> Vec<DerivedRow> {
    let writes = v.get("nr_vmscan_write");
    let swapout = v.get("pswpout");
    vec![
        count("Page writes by reclaim", writes),
        count("Page writes file", writes.saturating_sub(swapout)),
        count("Page writes anon", swapout),
        count(
            "Page reclaim immediate",
            v.get("nr_vmscan_immediate_reclaim"),
        ),
        count("Page rescued immediate", v.get("pgrescued")),
        count("Slabs scanned", v.get("slabs_scanned")),
        count("Direct inode steals", v.get("pginodesteal")),
        count("Kswapd inode steals", v.get("kswapd_inodesteal")),
        count("Kswapd skipped wait", v.get("kswapd_skip_congestion_wait")),
    ]
}

/// A derived row's value in a run's record.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum MmtestsValue {
    /// A count (written as an integer).
    Count(u64),
    /// A percentage or a velocity, to two decimals (written with a decimal point).
    Number(f64),
}

/// The rows as a run's record keeps them (field `mmtests` of `wbsim/run/1`): `{label: value}` in
/// mmtests' order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Mmtests(#[serde(with = "named_values")] Vec<(String, MmtestsValue)>);

impl Mmtests {
    /// The rows of a run that ended at `sim_ns` with `vmstat`.
    pub fn of(vmstat: &Vmstat, sim_ns: u64) -> Mmtests {
        Mmtests(
            derived_rows(vmstat, sim_ns)
                .iter()
                .map(|row| (row.label.to_string(), row.recorded()))
                .collect(),
        )
    }

    /// Every `(label, value)`, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, MmtestsValue)> {
        self.0.iter().map(|(l, v)| (l.as_str(), *v))
    }

    /// A row's value by its label.
    pub fn get(&self, label: &str) -> Option<MmtestsValue> {
        self.0.iter().find(|(l, _)| l == label).map(|(_, v)| *v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vmstat(counters: &[(&str, u64)]) -> Vmstat {
        Vmstat::new(
            counters
                .iter()
                .map(|(n, v)| ((*n).to_string(), *v))
                .collect(),
        )
    }

    fn row<'a>(rows: &'a [DerivedRow], label: &str) -> &'a DerivedRow {
        rows.iter().find(|r| r.label == label).expect(label)
    }

    #[test]
    fn old_kernel_steal_split_and_efficiencies_follow_mmtests() {
        let v = vmstat(&[
            ("pgscan_kswapd_dma32", 300),
            ("pgscan_kswapd_normal", 100),
            ("pgscan_direct_normal", 100),
            ("pgsteal_dma32", 250),
            ("pgsteal_normal", 50),
            ("kswapd_steal", 200),
            ("nr_vmscan_write", 30),
            ("pswpout", 10),
        ]);
        let rows = derived_rows(&v, 2_000_000_000);
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
        let rows = derived_rows(&vmstat(&[]), 1);
        assert_eq!(row(&rows, "Kswapd efficiency").value, 100.0);
        assert_eq!(row(&rows, "Percentage direct scans").value, 0.0);
    }

    #[test]
    fn the_record_keeps_counts_whole_and_the_rest_to_two_decimals_through_json() {
        let m = Mmtests::of(&vmstat(&[("pgscan_kswapd_normal", 3)]), 7_000_000_000);
        let text = serde_json::to_string(&m).unwrap();
        assert!(text.starts_with("{\"Minor Faults\":0,"), "{text}");
        assert!(text.contains("\"Kswapd velocity\":0.43,"), "{text}");
        assert!(text.contains("\"Kswapd efficiency\":0.0,"), "{text}");
        let back: Mmtests = serde_json::from_str(&text).unwrap();
        assert_eq!(back, m);
    }
}
