//! Parallel runs, sweeps, threshold searches, shards and merge, end to end.
//!
//! Most cases use `tests/fixtures/stalls.toml` with a 2 s duration: whether a writer of a given
//! size finishes in 2 s is a question with a threshold, and each run takes milliseconds.

use crate::support::{stdout_of, wbsim, Scratch};
use predicates::str::contains;

const STALLS: &str = "tests/fixtures/stalls.toml";
const SHORT: &str = "scenario.duration=2s";

#[test]
fn parallel_results_equal_serial_results() {
    for format in ["json", "table"] {
        let args = |jobs: &'static str| {
            vec![
                "sweep",
                STALLS,
                "--set",
                SHORT,
                "--vary",
                "task.writer.size=128MiB..640MiB:128MiB",
                "--format",
                format,
                "--jobs",
                jobs,
            ]
        };
        let serial = stdout_of(&args("1"), 0);
        assert_eq!(serial, stdout_of(&args("3"), 0), "{format}");
        assert_eq!(serial, stdout_of(&args("2"), 0), "{format}");
    }
    let run = |jobs: &str| {
        stdout_of(
            &[
                "run",
                "tests/fixtures/oracle.toml",
                "--format",
                "json",
                "--jobs",
                jobs,
            ],
            0,
        )
    };
    assert_eq!(run("1"), run("2"));
}

#[test]
fn a_sweep_adds_axes_and_replaces_values() {
    let doc: serde_json::Value = serde_json::from_str(&stdout_of(
        &[
            "sweep",
            STALLS,
            "--set",
            SHORT,
            "--vary",
            "vm.dirty_ratio=20,30",
            "--vary",
            "task.writer.size=1GiB..1.5GiB:256MiB",
            "--policy",
            "activate",
            "--format",
            "json",
        ],
        0,
    ))
    .unwrap();
    let sc = &doc["scenarios"][0];
    let labels: Vec<&str> = sc["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["label"].as_str().unwrap())
        .collect();
    assert_eq!(
        labels,
        [
            "20/1GiB/activate",
            "20/1.25GiB/activate",
            "20/1.5GiB/activate",
            "30/1GiB/activate",
            "30/1.25GiB/activate",
            "30/1.5GiB/activate"
        ]
    );
    assert_eq!(sc["runs"][1]["cell"]["task.writer.size"], "1.25GiB");
    assert_eq!(sc["plan"]["command"], "sweep");
    // A sweep's grid is not the file's: [expect] is not applied.
    assert_eq!(sc["plan"]["expect"], serde_json::Value::Null);
}

#[test]
fn sweep_cells_reproduce_with_the_printed_command() {
    let csv = stdout_of(
        &[
            "sweep",
            STALLS,
            "--set",
            SHORT,
            "--vary",
            "task.writer.size=256MiB,512MiB",
            "--policy",
            "redirty",
            "--format",
            "csv",
        ],
        0,
    );
    for line in csv.lines().skip(1) {
        let outcome = line.split(',').nth(8).unwrap();
        let cmd = line.rsplit(',').next().unwrap();
        assert!(cmd.starts_with("wbsim sweep tests/fixtures/stalls.toml --set scenario.duration=2s --set vm.dirty_ratio="), "{cmd}");
        let args: Vec<&str> = cmd.split(' ').skip(1).collect();
        let again = stdout_of(&[&args[..], &["--format", "csv"]].concat(), 0);
        let row = again.lines().nth(1).unwrap();
        assert_eq!(row.split(',').nth(8).unwrap(), outcome, "{cmd}");
    }
}

/// `wbsim sweep STALLS --set SHORT FLAG task.writer.size=RANGE --format json`.
fn sweep_json(flag: &str, range: &str) -> serde_json::Value {
    let path = format!("task.writer.size={range}");
    let args = [
        "sweep", STALLS, "--set", SHORT, flag, &path, "--format", "json",
    ];
    serde_json::from_str(&stdout_of(&args, 0)).unwrap()
}

/// The grid's runs of a threshold's cell (`dirty ratio/policy`), in increasing size:
/// `(size, outcome kind)`.
fn grid_cell<'a>(runs: &'a [serde_json::Value], label: &str) -> Vec<(&'a str, &'a str)> {
    let (ratio, policy) = label.split_once('/').unwrap();
    runs.iter()
        .filter(|r| {
            let r_ratio = r["cell"]["vm.dirty_ratio"].as_u64().map(|v| v.to_string());
            r_ratio.as_deref() == Some(ratio) && r["policy"] == policy
        })
        .map(|r| {
            (
                r["cell"]["task.writer.size"].as_str().unwrap(),
                r["outcome"]["kind"].as_str().unwrap(),
            )
        })
        .collect()
}

#[test]
fn bisection_finds_the_threshold_the_grid_shows() {
    let range = "16MiB..1GiB:16MiB";
    let t = sweep_json("--find-threshold", range);
    let grid = sweep_json("--vary", range);
    let thresholds = t["scenarios"][0]["thresholds"].as_array().unwrap();
    assert_eq!(thresholds.len(), 4, "two dirty ratios × two policies");
    let runs = grid["scenarios"][0]["runs"].as_array().unwrap();
    let mut flips = 0;
    for th in thresholds {
        let cell = grid_cell(runs, th["label"].as_str().unwrap());
        assert_eq!(cell.len(), 64);
        let first = cell[0].1;
        assert_eq!(th["from"], first);
        let grid_flip = cell.iter().find(|(_, k)| *k != first);
        match grid_flip {
            Some((value, kind)) => {
                flips += 1;
                assert_eq!(th["threshold"], *value, "{th}");
                assert_eq!(th["to"], *kind);
                assert_eq!(th["above"]["value"], *value);
                let i = cell.iter().position(|(v, _)| v == value).unwrap();
                assert_eq!(th["below"]["value"], cell[i - 1].0);
                assert!(th["probes"].as_u64().unwrap() <= 2 + 6, "{th}");
            }
            None => assert_eq!(th["threshold"], serde_json::Value::Null),
        }
    }
    assert!(flips >= 2, "the fixture has a threshold in range: {t}");
}

#[test]
fn shards_merge_to_the_unsharded_run() {
    let dir = Scratch::new("shards");
    let base = [
        "sweep",
        STALLS,
        "--set",
        SHORT,
        "--vary",
        "task.writer.size=128MiB..640MiB:128MiB",
    ];
    let whole_json = stdout_of(&[&base[..], &["--format", "json"]].concat(), 0);
    let whole_table = stdout_of(&base, 0);
    let mut files = Vec::new();
    for i in 1..=3 {
        let shard = format!("{i}/3");
        let out = stdout_of(
            &[&base[..], &["--shard", &shard, "--format", "json"]].concat(),
            0,
        );
        let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
        let held = doc["scenarios"][0]["runs"].as_array().unwrap().len();
        assert!((6..=7).contains(&held), "shard {shard} holds {held} of 20");
        let f = dir.path(&format!("s{i}.json"));
        std::fs::write(&f, out).unwrap();
        files.push(f.display().to_string());
    }
    // Any order of the shard files.
    let merged = |format: &str| {
        let mut args = vec!["merge", "--format", format];
        args.extend([files[2].as_str(), files[0].as_str(), files[1].as_str()]);
        stdout_of(&args, 0)
    };
    assert_eq!(merged("json"), whole_json);
    assert_eq!(merged("table"), whole_table);

    // A missing or repeated shard is an error.
    wbsim()
        .args(["merge", &files[0], &files[1]])
        .assert()
        .code(2)
        .stderr(contains("items are missing"));
    wbsim()
        .args(["merge", &files[0], &files[1], &files[2], &files[1]])
        .assert()
        .code(2)
        .stderr(contains("merged twice"));
}

#[test]
fn sharded_checks_and_thresholds_merge_too() {
    let dir = Scratch::new("shard-kinds");
    let cases: [(&[&str], i32); 2] = [
        (&["check", STALLS], 1),
        (
            &[
                "sweep",
                STALLS,
                "--set",
                SHORT,
                "--find-threshold",
                "task.writer.size=16MiB..1GiB:16MiB",
            ],
            0,
        ),
    ];
    for (k, (base, code)) in cases.iter().enumerate() {
        let whole = stdout_of(base, *code);
        let mut files = Vec::new();
        for i in 1..=2 {
            let shard = format!("{i}/2");
            let out = wbsim()
                .args(*base)
                .args(["--shard", &shard, "--format", "json"])
                .output()
                .unwrap();
            let f = dir.path(&format!("{k}-{i}.json"));
            std::fs::write(&f, &out.stdout).unwrap();
            files.push(f.display().to_string());
        }
        let mut args = vec!["merge"];
        args.extend(files.iter().map(String::as_str));
        assert_eq!(stdout_of(&args, *code), whole, "{base:?}");
    }
}

#[test]
fn plots_are_svg() {
    let dir = Scratch::new("plot");
    let grid = dir.path("grid.svg");
    let search = dir.path("search.svg");
    wbsim()
        .args([
            "sweep",
            STALLS,
            "--set",
            SHORT,
            "--vary",
            "task.writer.size=128MiB,512MiB",
            "--plot",
        ])
        .arg(&grid)
        .assert()
        .code(0);
    wbsim()
        .args([
            "sweep",
            STALLS,
            "--set",
            SHORT,
            "--find-threshold",
            "task.writer.size=16MiB..1GiB:16MiB",
            "--plot",
        ])
        .arg(&search)
        .assert()
        .code(0);
    for f in [&grid, &search] {
        let s = std::fs::read_to_string(f).unwrap();
        assert!(s.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(s.ends_with("</svg>\n"));
        assert!(
            s.contains(">10/redirty</text>") && s.contains(">40/activate</text>"),
            "{s}"
        );
    }
    // The threshold map: round ticks (powers of two for sizes, not lo + span × i/4 = 268MiB …)
    // and each band's threshold marked with its value.
    let s = std::fs::read_to_string(&search).unwrap();
    for tick in [
        ">256MiB</text>",
        ">512MiB</text>",
        ">768MiB</text>",
        ">1GiB</text>",
    ] {
        assert!(s.contains(tick), "{tick}: {s}");
    }
    assert!(!s.contains(">268MiB</text>"), "{s}");
    assert_eq!(s.matches("class=\"threshold\"").count(), 4, "{s}");
    assert!(s.contains(">stalled from 288MiB</text>"), "{s}");
}

#[test]
fn sweep_errors_are_usage_errors() {
    let cases: &[(&[&str], &str)] = &[
        (&["sweep", STALLS], "nothing to sweep"),
        (
            &["sweep", STALLS, "--vary", "vm.dirty_ration=1,2"],
            "did you mean `dirty_ratio`?",
        ),
        (
            &["sweep", STALLS, "--vary", "vm.dirty_ratio"],
            "is not PATH=V1,V2",
        ),
        (
            &["sweep", STALLS, "--vary", "task.writer.size=1GiB..2GiB"],
            "give a step",
        ),
        (
            &["sweep", STALLS, "--vary", "vm.dirty_ratio=200"],
            "in `--vary vm.dirty_ratio=200`",
        ),
        (
            &[
                "sweep",
                STALLS,
                "--vary",
                "vm.dirty_ratio=1",
                "--vary",
                "vm.dirty_ratio=2",
            ],
            "given twice",
        ),
        (
            &[
                "sweep",
                STALLS,
                "--find-threshold",
                "task.writer.size=2GiB..1GiB",
            ],
            "below the low end",
        ),
        (
            &[
                "sweep",
                STALLS,
                "--vary",
                "vm.dirty_ratio=10",
                "--find-threshold",
                "vm.dirty_ratio=1..50",
            ],
            "both varied and searched",
        ),
        (
            &[
                "sweep",
                STALLS,
                "--set",
                "vm.dirty_ratio=10",
                "--plot",
                "x.svg",
            ],
            "nothing to sweep",
        ),
    ];
    for (args, msg) in cases {
        wbsim()
            .args(*args)
            .assert()
            .code(2)
            .stdout("")
            .stderr(contains(*msg));
    }
}

#[test]
fn merge_rejects_what_is_not_a_shard_document() {
    let dir = Scratch::new("merge-bad");
    let not_json = dir.path("a.json");
    std::fs::write(&not_json, "PASS x\n").unwrap();
    wbsim()
        .arg("merge")
        .arg(&not_json)
        .assert()
        .code(2)
        .stdout("")
        .stderr(contains("not a wbsim results document"));
    let doc = std::fs::read_to_string(format!(
        "{}/tests/fixtures/docs/run.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let other = dir.path("b.json");
    std::fs::write(&other, doc.replace("wbsim/run/1", "wbsim/run/9")).unwrap();
    wbsim()
        .arg("merge")
        .arg(&other)
        .assert()
        .code(2)
        .stderr(contains("schema `wbsim/run/9`"));
    let newer = dir.path("c.json");
    std::fs::write(
        &newer,
        doc.replace(
            &format!("\"wbsim_version\": \"{}\"", env!("CARGO_PKG_VERSION")),
            "\"wbsim_version\": \"9.9.9\"",
        ),
    )
    .unwrap();
    wbsim()
        .args(["merge", "tests/fixtures/docs/run.json"])
        .arg(&newer)
        .assert()
        .code(2)
        .stderr(contains("same version"));
    wbsim()
        .args(["merge", "/nonexistent/x.json"])
        .assert()
        .code(2)
        .stderr(contains("cannot read"));
}
