//! mmtests' vmstat summary, as `compare-kernels.sh` prints it: the rows, labels and order of
//! `bin/lib/MMTests/MonitorMmtestsvmstat.pm` (`%_fieldNameMap`, `@_fieldOrder`,
//! `extractReport`; gormanm/mmtests 638401e0), computed from a run's final `/proc/vmstat`.
//!
//! compare-kernels prints each row as `Ops <label>` (the module is a `SummariseSingleops`, whose
//! one statistic `_value` is named after `_Opname`, "Ops"); [`DerivedRow::compare_label`] is that
//! text. The rows stop at "Kswapd skipped wait": the THP, compaction and NUMA-balancing rows
//! that follow in mmtests' order count mechanisms wbsim does not model, and a column of zeros
//! would read as a measurement.
//!
//! Per-zone counters are summed over their zones as mmtests does (`Vmstat::zone_sum`; x86_64 has
//! no HighMem zone, so mmtests' `_high` suffix never occurs); on 2.6.32–2.6.36 there is no
//! `pgsteal_kswapd_*`, so "Kswapd pages reclaimed" is `kswapd_steal` and "Direct pages
//! reclaimed" is `pgsteal_*` minus `kswapd_steal`, exactly mmtests' arithmetic for old kernels.
//! "Allocation stalls" is `allocstall` plus any `allocstall_<zone>` (mmtests renames the per-zone
//! counters of 4.8+ to `allocstall`; summing them is what that row means). Efficiencies are
//! percentages (100 when nothing was scanned, as mmtests returns); velocities are pages scanned
//! per second of simulated time (mmtests divides by the test's elapsed time).
//!
//! In JSON a run's rows are `{key: value}`, the key being mmtests' own field name without its
//! `mmtests_` prefix (`kswapd_efficiency`, `pgmajfault`): no spaces, so `jq .mmtests.allocstall`
//! works. The labels are a separate field of the document ([`labels`]).

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

/// mmtests' rows, in `@_fieldOrder`: (key, label, unit). The key is mmtests' field name without
/// its `mmtests_` prefix.
pub const ROWS: [(&str, &str, Unit); 30] = [
    ("minor_faults", "Minor Faults", Unit::Count),
    ("pgmajfault", "Major Faults", Unit::Count),
    ("pswpin", "Swap Ins", Unit::Count),
    ("pswpout", "Swap Outs", Unit::Count),
    ("allocstall", "Allocation stalls", Unit::Count),
    ("fragment_stall", "Fragmentation stalls", Unit::Count),
    ("pgalloc_dma", "DMA allocs", Unit::Count),
    ("pgalloc_dma32", "DMA32 allocs", Unit::Count),
    ("pgalloc_normal", "Normal allocs", Unit::Count),
    ("pgalloc_movable", "Movable allocs", Unit::Count),
    ("direct_scan", "Direct pages scanned", Unit::Count),
    ("kswapd_scan", "Kswapd pages scanned", Unit::Count),
    ("kswapd_steal", "Kswapd pages reclaimed", Unit::Count),
    ("direct_steal", "Direct pages reclaimed", Unit::Count),
    ("kswapd_efficiency", "Kswapd efficiency %", Unit::Percent),
    ("kswapd_velocity", "Kswapd velocity", Unit::PerSec),
    ("direct_efficiency", "Direct efficiency %", Unit::Percent),
    ("direct_velocity", "Direct velocity", Unit::PerSec),
    (
        "direct_percentage",
        "Percentage direct scans",
        Unit::Percent,
    ),
    ("nr_vmscan_write", "Page writes by reclaim", Unit::Count),
    ("vmscan_write_file", "Page writes file", Unit::Count),
    ("vmscan_write_anon", "Page writes anon", Unit::Count),
    (
        "nr_vmscan_immediate_reclaim",
        "Page reclaim immediate",
        Unit::Count,
    ),
    ("pgpgin", "Sector Reads", Unit::Count),
    ("pgpgout", "Sector Writes", Unit::Count),
    ("pgrescued", "Page rescued immediate", Unit::Count),
    ("slabs_scanned", "Slabs scanned", Unit::Count),
    ("pginodesteal", "Direct inode steals", Unit::Count),
    ("kswapd_inodesteal", "Kswapd inode steals", Unit::Count),
    (
        "kswapd_skip_congestion_wait",
        "Kswapd skipped wait",
        Unit::Count,
    ),
];

/// Every row's (key, label, unit), in mmtests' order.
pub fn row_kinds() -> impl Iterator<Item = (&'static str, &'static str, Unit)> {
    ROWS.iter().copied()
}

/// The label of a key (`kswapd_efficiency` → `Kswapd efficiency %`).
pub fn label_of(key: &str) -> Option<&'static str> {
    row_kinds().find(|(k, _, _)| *k == key).map(|(_, l, _)| l)
}

/// compare-kernels' text for a label: `Ops Minor Faults`.
pub fn compare_label(label: &str) -> String {
    format!("Ops {label}")
}

/// One derived row.
#[derive(Clone, Debug, PartialEq)]
pub struct DerivedRow {
    /// mmtests' field name without its `mmtests_` prefix: the JSON key.
    pub key: &'static str,
    /// mmtests' label.
    pub label: &'static str,
    /// The value.
    pub value: f64,
    /// Its unit.
    pub unit: Unit,
}

impl DerivedRow {
    /// The value as a run's record keeps it: counts whole, the rest to two decimals (what
    /// compare-kernels prints, `%.2f`).
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

/// The value of each key, computed as `extractReport` does.
fn values(v: &Vmstat, sim_ns: u64) -> Vec<(&'static str, f64)> {
    let direct_scan = v.zone_sum("pgscan_direct");
    let kswapd_scan = v.zone_sum("pgscan_kswapd");
    let kswapd_steal = v.get("kswapd_steal") + v.zone_sum("pgsteal_kswapd");
    let direct_steal = (v.zone_sum("pgsteal") + v.zone_sum("pgsteal_direct"))
        .saturating_sub(v.get("kswapd_steal"));
    let secs = (sim_ns as f64 / 1e9).max(1e-9);
    let all_scans = direct_scan + kswapd_scan;
    let writes = v.get("nr_vmscan_write");
    let swapout = v.get("pswpout");
    let n = |x: u64| x as f64;
    vec![
        (
            "minor_faults",
            n(v.get("pgfault").saturating_sub(v.get("pgmajfault"))),
        ),
        ("allocstall", n(v.zone_sum("allocstall"))),
        ("direct_scan", n(direct_scan)),
        ("kswapd_scan", n(kswapd_scan)),
        ("kswapd_steal", n(kswapd_steal)),
        ("direct_steal", n(direct_steal)),
        ("kswapd_efficiency", ratio(kswapd_steal, kswapd_scan)),
        ("kswapd_velocity", n(kswapd_scan) / secs),
        ("direct_efficiency", ratio(direct_steal, direct_scan)),
        ("direct_velocity", n(direct_scan) / secs),
        (
            "direct_percentage",
            if all_scans == 0 {
                0.0
            } else {
                n(direct_scan) * 100.0 / n(all_scans)
            },
        ),
        ("vmscan_write_file", n(writes.saturating_sub(swapout))),
        ("vmscan_write_anon", n(swapout)),
    ]
}

/// The rows, in mmtests' order. A key without a derivation is the `/proc/vmstat` counter of that
/// name (0 when the release has none, as mmtests prints it).
pub fn derived_rows(v: &Vmstat, sim_ns: u64) -> Vec<DerivedRow> {
    let derived = values(v, sim_ns);
    row_kinds()
        .map(|(key, label, unit)| DerivedRow {
            key,
            label,
            value: derived
                .iter()
                .find(|(k, _)| *k == key)
                .map_or_else(|| v.get(key) as f64, |(_, x)| *x),
            unit,
        })
        .collect()
}

/// A derived row's value in a run's record.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum MmtestsValue {
    /// A count (written as an integer).
    Count(u64),
    /// A percentage or a velocity, to two decimals (written with a decimal point).
    Number(f64),
}

/// The rows as a run's record keeps them (field `mmtests` of `wbsim/run/1`): `{key: value}` in
/// mmtests' order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(transparent)]
pub struct Mmtests(
    #[serde(with = "named_values")]
    #[schemars(with = "std::collections::BTreeMap<String, MmtestsValue>")]
    Vec<(String, MmtestsValue)>,
);

impl Mmtests {
    /// The rows of a run that ended at `sim_ns` with `vmstat`.
    pub fn of(vmstat: &Vmstat, sim_ns: u64) -> Mmtests {
        Mmtests(
            derived_rows(vmstat, sim_ns)
                .iter()
                .map(|row| (row.key.to_string(), row.recorded()))
                .collect(),
        )
    }

    /// Every `(key, value)`, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, MmtestsValue)> {
        self.0.iter().map(|(k, v)| (k.as_str(), *v))
    }

    /// A row's value by its key.
    pub fn get(&self, key: &str) -> Option<MmtestsValue> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| *v)
    }
}

/// The document's `mmtests_labels`: `{key: compare-kernels label}` for every row, in order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(transparent)]
pub struct MmtestsLabels(pub serde_json::Map<String, serde_json::Value>);

/// The labels of every row, as the document carries them.
pub fn labels() -> MmtestsLabels {
    MmtestsLabels(
        row_kinds()
            .map(|(key, label, _)| (key.to_string(), compare_label(label).into()))
            .collect(),
    )
}

impl Default for MmtestsLabels {
    fn default() -> Self {
        labels()
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
            ("allocstall", 7),
            ("pgalloc_dma32", 5),
        ]);
        let rows = derived_rows(&v, 2_000_000_000);
        assert_eq!(row(&rows, "Kswapd pages scanned").value, 400.0);
        assert_eq!(row(&rows, "Kswapd pages reclaimed").value, 200.0);
        assert_eq!(row(&rows, "Direct pages reclaimed").value, 100.0);
        assert_eq!(row(&rows, "Kswapd efficiency %").value, 50.0);
        assert_eq!(row(&rows, "Direct efficiency %").value, 100.0);
        assert_eq!(row(&rows, "Kswapd velocity").value, 200.0);
        assert_eq!(row(&rows, "Percentage direct scans").value, 20.0);
        assert_eq!(row(&rows, "Page writes file").value, 20.0);
        assert_eq!(row(&rows, "Page writes anon").value, 10.0);
        assert_eq!(row(&rows, "Allocation stalls").value, 7.0);
        assert_eq!(row(&rows, "DMA32 allocs").value, 5.0);
    }

    #[test]
    fn the_rows_follow_monitor_mmtests_vmstat_field_order_and_labels() {
        let labels: Vec<_> = derived_rows(&vmstat(&[]), 1)
            .iter()
            .map(|r| compare_label(r.label))
            .collect();
        // @_fieldOrder of MonitorMmtestsvmstat.pm, its zone velocities commented out there.
        assert_eq!(
            labels[..6],
            [
                "Ops Minor Faults",
                "Ops Major Faults",
                "Ops Swap Ins",
                "Ops Swap Outs",
                "Ops Allocation stalls",
                "Ops Fragmentation stalls"
            ]
        );
        let at = |l: &str| labels.iter().position(|x| x == l).expect(l);
        assert_eq!(at("Ops Kswapd efficiency %") + 1, at("Ops Kswapd velocity"));
        assert!(at("Ops Page reclaim immediate") < at("Ops Sector Reads"));
        assert_eq!(labels.last().unwrap(), "Ops Kswapd skipped wait");
    }

    #[test]
    fn nothing_scanned_is_100_percent_efficient_as_in_mmtests() {
        let rows = derived_rows(&vmstat(&[]), 1);
        assert_eq!(row(&rows, "Kswapd efficiency %").value, 100.0);
        assert_eq!(row(&rows, "Percentage direct scans").value, 0.0);
    }

    #[test]
    fn the_record_keys_have_no_spaces_and_keep_two_decimals_through_json() {
        let m = Mmtests::of(&vmstat(&[("pgscan_kswapd_normal", 3)]), 7_000_000_000);
        let text = serde_json::to_string(&m).unwrap();
        assert!(text.starts_with("{\"minor_faults\":0,"), "{text}");
        assert!(text.contains("\"kswapd_velocity\":0.43,"), "{text}");
        assert!(text.contains("\"kswapd_efficiency\":0.0,"), "{text}");
        assert!(m.iter().all(|(k, _)| !k.contains(' ')));
        let back: Mmtests = serde_json::from_str(&text).unwrap();
        assert_eq!(back, m);
        assert_eq!(labels().0["kswapd_efficiency"], "Ops Kswapd efficiency %");
    }
}
