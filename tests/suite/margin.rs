//! `--margin`: the bisection over replicas finds the value where the OOM rate crosses 50 %, and a
//! fine grid over the same replicas agrees.

use crate::support::json_of;

const STRADDLE: &str = "tests/fixtures/straddle.toml";

fn oom_count(value: &str) -> (u64, u64) {
    let doc = json_of(&[
        "run",
        STRADDLE,
        "--set",
        &format!("task.oracle.size={value}"),
        "--policy",
        "redirty",
        "--replicas",
        "6",
        "--format",
        "json",
    ]);
    let s = &doc["scenarios"][0]["summaries"][0];
    (s["oom"].as_u64().unwrap(), s["runs"].as_u64().unwrap())
}

#[test]
fn the_margin_search_finds_a_threshold_that_a_fine_grid_confirms() {
    let doc = json_of(&[
        "run",
        STRADDLE,
        "--policy",
        "redirty",
        "--replicas",
        "6",
        "--margin",
        "task.oracle.size=894MiB..898MiB:256KiB",
        "--format",
        "json",
    ]);
    let m = &doc["scenarios"][0]["margins"][0];
    let threshold = m["threshold"]
        .as_str()
        .expect("the rate crosses 50 % in the range");
    assert_eq!(m["above"]["value"], threshold);
    let grid: Vec<String> = (0..=16)
        .map(|k| wbsim::sweep::format_size((894 << 20) + k * (256 << 10)))
        .collect();
    let first_oom = grid
        .iter()
        .find(|v| {
            let (oom, runs) = oom_count(v);
            2 * oom >= runs
        })
        .expect("the grid crosses 50 %");
    assert_eq!(first_oom, threshold, "{m}");
    let (oom, runs) = oom_count(m["below"]["value"].as_str().unwrap());
    assert!(2 * oom < runs);
}

/// `--format csv` carries the margin: one row per cell and policy after the runs' rows, with the
/// path, the bracket and the threshold.
#[test]
fn the_margin_rows_are_in_the_csv() {
    let csv = crate::support::stdout_of(
        &[
            "run",
            STRADDLE,
            "--policy",
            "redirty",
            "--replicas",
            "2",
            "--margin",
            "task.oracle.size=896MiB..908MiB:4MiB",
            "--format",
            "csv",
        ],
        0,
    );
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).expect(name);
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let margin: Vec<&Vec<&str>> = rows
        .iter()
        .filter(|r| !r[col("margin_path")].is_empty())
        .collect();
    assert_eq!(
        rows.len(),
        2 + 1,
        "two replicas, then the margin row:\n{csv}"
    );
    assert_eq!(margin.len(), 1, "{csv}");
    let m = margin[0];
    assert_eq!(m[col("margin_path")], "task.oracle.size");
    assert_eq!(m[col("policy")], "redirty");
    assert_eq!(m[col("margin_below_runs")], "2");
    assert!(m[col("margin_below")].ends_with("MiB"), "{csv}");
    assert!(m[col("margin_probes")].parse::<u32>().unwrap() >= 2);
}
