//! The command line end to end: exit codes, error messages, output formats.
//!
//! Every assertion on outcomes is written so that it holds for any engine (the stand-in returns
//! `stalled`; the real model may return anything), except where a fixture makes the outcome
//! certain (`stalls.toml`: 10GiB cannot be written in 1ms of simulated time).

use crate::support::{json_of, wbsim};
use predicates::prelude::*;
use predicates::str::{contains, is_match};

#[test]
fn list_names_everything() {
    wbsim()
        .arg("list")
        .assert()
        .code(0)
        .stdout(contains("2.6.32.0").and(contains("2.6.36")))
        .stdout(contains("ext4").and(contains("tmpfs")))
        .stdout(contains("redirty activate"))
        .stdout(contains("stream-write  mount size rate [write_size]"))
        .stdout(contains("hugetlb"))
        .stdout(contains(
            "page granularities: 4KiB 8KiB 16KiB 32KiB 64KiB 128KiB",
        ));
}

#[test]
fn list_as_json_names_the_same_things_for_scripts() {
    let doc = json_of(&["list", "--format", "json"]);
    assert_eq!(doc["schema"], "wbsim/list/1");
    let names = |key: &str| -> Vec<String> {
        doc[key]
            .as_array()
            .unwrap_or_else(|| panic!("{key}"))
            .iter()
            .map(|v| v.as_str().expect("a name").to_string())
            .collect()
    };
    assert!(names("releases").contains(&"2.6.32.0".to_string()));
    assert!(names("filesystems").contains(&"tmpfs".to_string()));
    assert_eq!(names("policies"), ["redirty", "activate"]);
    assert_eq!(names("page_granularities")[0], "4KiB");
    let kinds = doc["task_kinds"].as_array().expect("task kinds");
    let stream = kinds
        .iter()
        .find(|k| k["kind"] == "stream-write")
        .expect("stream-write");
    assert_eq!(
        stream["required"],
        serde_json::json!(["mount", "size", "rate"])
    );
    let switches = doc["kernel_switches"].as_array().expect("switches");
    assert_eq!(switches.len(), wbsim::kernel::SWITCHES.len());
    assert!(switches[0]["values"][0]["since"].is_string());
}

#[test]
fn validate_counts_runs() {
    wbsim()
        .args([
            "validate",
            "tests/fixtures/minimal.toml",
            "tests/fixtures/oracle.toml",
        ])
        .assert()
        .code(0)
        .stdout(
            "tests/fixtures/minimal.toml: ok (2 runs)\ntests/fixtures/oracle.toml: ok (4 runs)\n",
        );
}

#[test]
fn validate_stops_at_the_first_bad_file() {
    wbsim()
        .args([
            "validate",
            "tests/fixtures/minimal.toml",
            "tests/fixtures/bad/unknown-key.toml",
            "tests/fixtures/oracle.toml",
        ])
        .assert()
        .code(2)
        .stdout("tests/fixtures/minimal.toml: ok (2 runs)\n")
        .stderr(contains("unknown-key.toml:6:1"));
}

#[test]
fn run_prints_a_table_and_comparisons() {
    let outcome = "(OOM|survived|stalled)";
    let verdict = "(fix|regression|unchanged|changed|delayed \\+[0-9]+ s|earlier −[0-9]+ s)";
    wbsim()
        .args(["run", "tests/fixtures/oracle.toml"])
        .assert()
        .code(0)
        .stdout(contains("oracle-backup — release 2.6.32, seed 7"))
        .stdout(
            contains("cell")
                .and(contains("policy"))
                .and(contains("backup"))
                .and(contains("refused")),
        )
        .stdout(
            is_match(format!(
                "(?m)^ext3: redirty {outcome} at [0-9.]+ s → activate {outcome} at [0-9.]+ s: {verdict}$"
            ))
            .unwrap(),
        )
        .stdout(
            is_match(format!(
                "(?m)^ext4: redirty {outcome} at [0-9.]+ s → activate {outcome} at [0-9.]+ s: {verdict}$"
            ))
            .unwrap(),
        );
}

#[test]
fn without_a_matrix_the_comparison_is_named_after_the_scenario() {
    wbsim()
        .args(["run", "tests/fixtures/minimal.toml"])
        .assert()
        .code(0)
        .stdout(is_match("(?m)^minimal: redirty (OOM|survived|stalled) at [0-9.]+ s → activate (OOM|survived|stalled) at [0-9.]+ s: [a-z]+").unwrap());
}

#[test]
fn json_has_one_run_per_cell_and_policy() {
    let doc = json_of(&["run", "tests/fixtures/oracle.toml", "--format", "json"]);
    assert_eq!(doc["schema"], "wbsim/run/1");
    assert_eq!(doc["wbsim_version"], env!("CARGO_PKG_VERSION"));
    let sc = &doc["scenarios"][0];
    assert_eq!(sc["name"], "oracle-backup");
    assert_eq!(sc["release"], "2.6.32");
    assert_eq!(sc["seed"], 7);
    let runs = sc["runs"].as_array().unwrap();
    let labels: Vec<&str> = runs.iter().map(|r| r["label"].as_str().unwrap()).collect();
    assert_eq!(
        labels,
        [
            "ext3/redirty",
            "ext3/activate",
            "ext4/redirty",
            "ext4/activate"
        ]
    );
    assert_eq!(runs[0]["cell"]["mount.backup.fs"], "ext3");
    assert_eq!(runs[1]["policy"], "activate");
    let kind = runs[0]["outcome"]["kind"].as_str().unwrap();
    assert!(["oom", "survived", "stalled"].contains(&kind));
    let keys: Vec<&String> = runs[0].as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "cell",
            "label",
            "policy",
            "release",
            "seed",
            "outcome",
            "sim_seconds",
            "events",
            "tasks",
            "counters",
            "vmstat",
            "mmtests"
        ]
    );
    assert_eq!(sc["comparisons"].as_array().unwrap().len(), 2);
    assert_eq!(sc["comparisons"][0]["label"], "ext3");
    assert_eq!(sc["comparisons"][0]["from"], "redirty");
}

#[test]
fn set_and_policy_narrow_the_runs() {
    let doc = json_of(&[
        "run",
        "tests/fixtures/oracle.toml",
        "--set",
        "mount.backup.fs=ext4",
        "--policy",
        "activate",
        "--seed",
        "42",
        "--format",
        "json",
    ]);
    let runs = doc["scenarios"][0]["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0]["label"], "ext4/activate");
    assert_eq!(runs[0]["seed"], 42);
    assert_eq!(
        doc["scenarios"][0]["comparisons"].as_array().unwrap().len(),
        0
    );

    // Repeating --set on an axis keeps several values; --set elsewhere overrides.
    let doc = json_of(&[
        "run",
        "tests/fixtures/oracle.toml",
        "--set",
        "mount.backup.fs=ext4",
        "--set",
        "mount.backup.fs=ext3",
        "--set",
        "vm.swappiness=0",
        "--format",
        "json",
    ]);
    assert_eq!(doc["scenarios"][0]["runs"].as_array().unwrap().len(), 4);
}

#[test]
fn set_accepts_optional_keys_and_rejects_unknown_paths() {
    wbsim()
        .args(["validate", "tests/fixtures/minimal.toml"])
        .assert()
        .code(0);
    wbsim()
        .args([
            "run",
            "tests/fixtures/minimal.toml",
            "--set",
            "vm.min_free_kbytes=4096",
        ])
        .assert()
        .code(0);
    wbsim()
        .args([
            "run",
            "tests/fixtures/minimal.toml",
            "--set",
            "vm.swapiness=0",
        ])
        .assert()
        .code(2)
        .stdout("")
        .stderr(
            contains("minimal.toml")
                .and(contains("--set vm.swapiness=0"))
                .and(contains("did you mean `swappiness`?")),
        );
    wbsim()
        .args([
            "run",
            "tests/fixtures/oracle.toml",
            "--set",
            "mount.backup.fs=xfs",
        ])
        .assert()
        .code(2)
        .stderr(
            contains("matrix axis `mount.backup.fs` has no value `xfs`")
                .and(contains("`ext3`, `ext4`")),
        );
    wbsim()
        .args([
            "run",
            "tests/fixtures/oracle.toml",
            "--set",
            "task.backup.size=-1",
        ])
        .assert()
        .code(2)
        .stderr(contains("task.backup.size").and(contains("negative")));
    wbsim()
        .args(["run", "tests/fixtures/minimal.toml", "--set", "novalue"])
        .assert()
        .code(2);
    wbsim()
        .args(["run", "tests/fixtures/minimal.toml", "--policy", "activ"])
        .assert()
        .code(2)
        .stderr(contains("activate"));
}

#[test]
fn check_fails_with_a_reproduce_line() {
    wbsim()
        .args(["check", "tests/fixtures/stalls.toml"])
        .assert()
        .code(1)
        .stdout(contains("PASS tests/fixtures/stalls.toml 40/activate: expected stalled, got stalled"))
        .stdout(contains("FAIL tests/fixtures/stalls.toml 10/redirty: expected survived, got stalled"))
        .stdout(contains("reproduce: wbsim run tests/fixtures/stalls.toml --set vm.dirty_ratio=10 --policy redirty --seed 1\n"))
        .stdout(contains("--set vm.dirty_ratio=10 --policy activate --seed 1"));
}

#[test]
fn check_passes_when_only_holding_cells_run() {
    wbsim()
        .args([
            "check",
            "tests/fixtures/stalls.toml",
            "--set",
            "vm.dirty_ratio=40",
            "--seed",
            "3",
        ])
        .assert()
        .code(0)
        .stdout(contains("PASS").and(contains("FAIL").not()));
}

#[test]
fn check_json_carries_the_verdicts() {
    let out = wbsim()
        .args(["check", "tests/fixtures/stalls.toml", "--format", "json"])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let doc: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let checks = doc["scenarios"][0]["checks"].as_array().unwrap();
    assert_eq!(checks.len(), 3);
    assert_eq!(checks[1]["pass"], false);
    assert!(checks[1]["reproduce"]
        .as_str()
        .unwrap()
        .ends_with("--policy redirty --seed 1"));
}

#[test]
fn usage_errors_exit_2() {
    wbsim().assert().code(2);
    wbsim().args(["run"]).assert().code(2);
    wbsim()
        .args(["run", "tests/fixtures/minimal.toml", "--format", "yaml"])
        .assert()
        .code(2);
}

#[test]
fn a_scenario_from_stdin_runs_like_its_file_and_errors_name_stdin() {
    let text = std::fs::read_to_string("tests/fixtures/minimal.toml").unwrap();
    let from_file = json_of(&["run", "tests/fixtures/minimal.toml", "--format", "json"]);
    let out = wbsim()
        .args(["run", "-", "--format", "json"])
        .write_stdin(text.clone())
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let mut from_stdin: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(from_stdin["scenarios"][0]["file"], "<stdin>");
    from_stdin["scenarios"][0]["file"] = from_file["scenarios"][0]["file"].clone();
    assert_eq!(from_stdin, from_file);
    wbsim()
        .args(["validate", "-"])
        .write_stdin(text.replace("[machine]", "[machine]\nmemroy = \"1GiB\""))
        .assert()
        .code(2)
        .stderr(contains("<stdin>:"));
}

#[test]
fn output_writes_the_document_to_a_file_and_nothing_to_stdout() {
    let dir = crate::support::Scratch::new("output");
    let file = dir.arg("out.json");
    let stdout = crate::support::stdout_of(
        &["run", "tests/fixtures/minimal.toml", "--format", "json"],
        0,
    );
    wbsim()
        .args([
            "run",
            "tests/fixtures/minimal.toml",
            "--format",
            "json",
            "-o",
            &file,
        ])
        .assert()
        .code(0)
        .stdout("");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), stdout);
}

#[test]
fn json_writes_the_document_of_the_same_runs_beside_the_table() {
    let dir = crate::support::Scratch::new("json-beside");
    let (run, sweep) = (dir.arg("run.json"), dir.arg("sweep.json"));
    let f = "tests/fixtures/minimal.toml";
    let stdout = |args: &[&str]| crate::support::stdout_of(args, 0);
    let table = stdout(&["run", f, "--vmstat", "--json", &run]);
    assert_eq!(table, stdout(&["run", f, "--vmstat"]));
    let document = stdout(&["run", f, "--vmstat", "--format", "json"]);
    assert!(document.contains("\"meminfo_kb\""), "the extras asked for");
    assert_eq!(std::fs::read_to_string(&run).unwrap(), document);
    let vary = ["sweep", f, "--vary", "vm.dirty_ratio=10,20"];
    let table = stdout(&[&vary[..], &["--json", &sweep]].concat());
    assert_eq!(table, stdout(&vary));
    let document = stdout(&[&vary[..], &["--format", "json"]].concat());
    assert_eq!(std::fs::read_to_string(&sweep).unwrap(), document);
    wbsim()
        .args(["run", f, "--json", "/nonexistent/run.json"])
        .assert()
        .code(2)
        .stderr(contains("--json /nonexistent/run.json: cannot write"));
}

#[test]
fn quiet_silences_warnings_but_not_the_check_summary() {
    wbsim()
        .args(["check", "tests/fixtures/minimal.toml"])
        .assert()
        .stderr(contains("warning:").and(contains("check:")));
    wbsim()
        .args(["check", "tests/fixtures/minimal.toml", "-q"])
        .assert()
        .stderr(contains("warning:").not().and(contains("check:")));
}
