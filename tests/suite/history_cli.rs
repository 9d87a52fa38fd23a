//! `wbsim history` and the `[kernel]` table, as a user runs them.

use crate::support::wbsim;
use predicates::prelude::*;

#[test]
fn history_names_the_switch_that_turns_the_fake_numa_oom_into_survival() {
    let out = wbsim()
        .args([
            "history",
            "scenarios/fake-numa-128m.toml",
            "--set",
            "disk.sda.bandwidth=100MB/s",
            "--set",
            "mount.data.fs=ext4",
            "--policy",
            "redirty",
            "--releases",
            "3.9,3.11",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["schema"], "wbsim/history/1");
    assert_eq!(doc["cells"][0]["outcomes"][0]["outcome"], "oom");
    assert_eq!(doc["cells"][0]["outcomes"][1]["outcome"], "survived");
    let flip = &doc["flips"][0];
    assert_eq!(flip["from"], "3.9");
    assert_eq!(flip["to"], "3.11");
    assert_eq!(flip["cause"], "alone", "{flip}");
    assert_eq!(flip["switches"][0]["switch"], "reclaim_writeback_throttle");
    assert_eq!(flip["switches"][0]["value"], "zone-flags");
    // 2 table runs + one probe per switch of the 3.11 step.
    assert_eq!(doc["runs"], 4);
}

#[test]
fn history_refuses_a_scenario_whose_matrix_varies_the_kernel() {
    wbsim()
        .args(["history", "scenarios/later-kernels.toml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "remove the `scenario.release` axis",
        ));
}

#[test]
fn history_refuses_an_unknown_release() {
    wbsim()
        .args([
            "history",
            "scenarios/shmem-no-swap.toml",
            "--releases",
            "2.6.36,9.9",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("`9.9` is not a kernel release"))
        .stderr(predicate::str::contains("mainline"));
}

fn scenario_with(extra: &str) -> tempfile_path::TempToml {
    tempfile_path::TempToml::new(&format!(
        r#"[scenario]
name = "k"
duration = "1s"

[machine]
memory = "64MiB"

{extra}
"#
    ))
}

#[test]
fn a_kernel_switch_with_a_bad_value_names_the_line_and_the_accepted_values() {
    let f = scenario_with("[kernel]\ndirty_throttle = \"fast\"\n");
    wbsim()
        .args(["validate", f.path()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(":9:"))
        .stderr(predicate::str::contains("kernel.dirty_throttle"))
        .stderr(predicate::str::contains("`writer-writes-back`"))
        .stderr(predicate::str::contains("`io-less`"));
}

#[test]
fn a_misspelt_kernel_switch_gets_a_did_you_mean() {
    let f = scenario_with("[kernel]\ndirty_throtle = \"io-less\"\n");
    wbsim()
        .args(["validate", f.path()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("dirty_throttle"));
}

#[test]
fn a_later_release_and_a_boolean_switch_load_and_show_in_the_json() {
    let f = scenario_with("[kernel]\npg_reclaim_survives_flusher_write = false\n");
    let text = std::fs::read_to_string(f.path())
        .unwrap()
        .replace("duration = \"1s\"", "duration = \"1s\"\nrelease = \"3.2\"");
    std::fs::write(f.path(), text).unwrap();
    let out = wbsim()
        .args(["run", f.path(), "--policy", "redirty", "--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let release = &doc["scenarios"][0]["runs"][0]["release"];
    assert_eq!(release, "3.2+pg_reclaim_survives_flusher_write=false");
}

#[test]
fn wbsim_list_shows_the_later_kernels_and_their_switches() {
    wbsim()
        .arg("list")
        .assert()
        .success()
        .stdout(predicate::str::contains("later kernels:"))
        .stdout(predicate::str::contains("4.11"))
        .stdout(predicate::str::contains("reclaim_writeback_throttle"))
        .stdout(predicate::str::contains("143dfe8611a6"));
}

/// A scenario file in the system temp directory, removed on drop.
mod tempfile_path {
    pub struct TempToml(std::path::PathBuf);

    impl TempToml {
        pub fn new(text: &str) -> TempToml {
            use std::sync::atomic::{AtomicUsize, Ordering};
            static N: AtomicUsize = AtomicUsize::new(0);
            let p = std::env::temp_dir().join(format!(
                "wbsim-history-cli-{}-{}.toml",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            ));
            std::fs::write(&p, text).unwrap();
            TempToml(p)
        }

        pub fn path(&self) -> &str {
            self.0.to_str().unwrap()
        }
    }

    impl Drop for TempToml {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}

#[test]
fn history_renders_as_csv_with_one_row_per_cell_and_kernel_and_as_markdown() {
    let args = |fmt: &str| {
        wbsim()
            .args([
                "history",
                "scenarios/shmem-no-swap.toml",
                "--releases",
                "2.6.36,3.2",
                "--policy",
                "redirty",
                "--format",
            ])
            .args(fmt.split(' '))
            .output()
            .unwrap()
    };
    let csv = args("csv");
    assert!(csv.status.success());
    let text = String::from_utf8(csv.stdout).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("scenario,cell,release,outcome,at_s,victim")
    );
    // Two cells (swap sizes) × two kernels.
    assert_eq!(lines.count(), 4, "{text}");
    let md = args("markdown");
    assert!(md.status.success());
    let text = String::from_utf8(md.stdout).unwrap();
    assert!(
        text.starts_with("### shmem-no-swap — history over 2 kernels"),
        "{text}"
    );
    assert!(text.contains("| cell | kernel | redirty |"), "{text}");
    let wide = args("markdown --wide");
    assert!(wide.status.success());
    let text = String::from_utf8(wide.stdout).unwrap();
    assert!(text.contains("| cell | 2.6.36 | 3.2 |"), "{text}");
}

/// The default `history` table of every shipped scenario fits 100 columns, whatever the runs
/// give: built here from each scenario's cells over every default kernel with the widest
/// outcome the table prints (`stalled 899.9s`) and a flip per cell and step caused by the
/// widest combination of switches (no simulation needed for the layout).
#[test]
fn the_default_history_table_of_every_shipped_scenario_fits_100_columns() {
    use wbsim::history::{Cause, CellOutcome, Flip, History};
    let mut files: Vec<_> = std::fs::read_dir("scenarios")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 7);
    let causes: Vec<(&str, &str)> = wbsim::kernel::SWITCHES
        .iter()
        .map(|s| (s.key, s.values[s.values.len() - 1]))
        .collect();
    for file in files {
        let sc = wbsim::scenario::load(&file, &Default::default()).unwrap();
        let releases = wbsim::history::default_releases();
        let worst = CellOutcome {
            kind: wbsim::outcome::OutcomeKind::Stalled,
            at_ns: 899_900_000_000,
            victim: Some("a-long-task-name".into()),
        };
        let cells: Vec<String> = sc.runs.iter().map(|r| r.label.clone()).collect();
        let h = History {
            name: sc.name.clone(),
            file: sc.file.clone(),
            outcomes: vec![vec![worst.clone(); releases.len()]; cells.len()],
            flips: (0..cells.len())
                .flat_map(|cell| (0..releases.len() - 1).map(move |step| (cell, step)))
                .map(|(cell, step)| Flip {
                    cell,
                    step,
                    cause: Cause::Combination(causes.clone()),
                })
                .collect(),
            sides: wbsim::history::sides_of(&sc),
            cells,
            releases,
            runs: 0,
            page_granularity: None,
        };
        let text = wbsim::report::table::render(&[h.grid(false)]);
        for line in text.lines() {
            let n = line.chars().count();
            assert!(n <= 100, "{}: {n} columns: {line}", file.display());
        }
        let wide = wbsim::report::table::render(&[h.grid(true)]);
        assert!(
            wide.lines().any(|l| l.chars().count() > 100),
            "--wide keeps the kernel columns"
        );
    }
}

/// `history` says in one line per cell on which kernels `activate` turns the OOM into survival
/// and on which it does not, with the verdict per kernel in the table and the JSON.
#[test]
fn history_gives_the_policy_verdict_of_each_cell_on_each_kernel() {
    use wbsim::history::{CellOutcome, History};
    use wbsim::outcome::OutcomeKind::{Oom, Survived};
    let at = |kind, s: u64| CellOutcome {
        kind,
        at_ns: s * 1_000_000_000,
        victim: None,
    };
    let h = History {
        name: "s".into(),
        file: "s.toml".into(),
        releases: vec!["2.6.32".into(), "2.6.36".into(), "3.2".into()],
        cells: vec!["ext4/redirty".into(), "ext4/activate".into()],
        sides: vec![
            ("ext4".into(), wbsim::spec::Policy::Redirty),
            ("ext4".into(), wbsim::spec::Policy::Activate),
        ],
        outcomes: vec![
            vec![at(Oom, 19), at(Oom, 16), at(Oom, 20)],
            vec![at(Oom, 19), at(Survived, 100), at(Oom, 82)],
        ],
        flips: vec![],
        runs: 6,
        page_granularity: None,
    };
    assert_eq!(
        h.verdict_lines(),
        [
            "ext4: activate turns the OOM into survival on 2.6.36; not on 2.6.32, 3.2 (OOM under \
          both); activate delays the OOM on 3.2 (+62 s)"
        ]
    );
    let text = wbsim::report::table::render(&[h.grid(false)]);
    assert!(
        text.contains("│ ext4 ┆ 2.6.36 ┆ OOM 16.0s ┆ survived  ┆ fix           │"),
        "{text}"
    );
    assert!(text.contains("delayed +62 s"), "{text}");
    let json = h.to_json();
    assert_eq!(json["verdicts"][1]["verdict"], "fix");
    assert_eq!(json["verdicts"][2]["verdict"], "delayed");
    assert_eq!(json["verdicts"][2]["shift_s"], 62.0);
}
