//! Output formats, verdicts and conventions, end to end.
//!
//! Snapshots render stored documents (`tests/fixtures/docs/*.json`) through `wbsim merge`, so
//! they test the renderers byte for byte without depending on what the engine computes. After an
//! intended change of a format, regenerate them with `UPDATE_SNAPSHOTS=1 cargo test --test
//! formats` and review the diff of `tests/snapshots/`.

use crate::support::{stdout_of, wbsim, Scratch};
use predicates::prelude::*;
use predicates::str::contains;

/// Compares `got` with `tests/snapshots/NAME` (or rewrites it under UPDATE_SNAPSHOTS=1).
fn snapshot(name: &str, got: &[u8]) {
    let path = format!("{}/tests/snapshots/{name}", env!("CARGO_MANIFEST_DIR"));
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, got).expect("writing the snapshot");
        return;
    }
    let want = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert!(
        want == got,
        "{name} differs from its snapshot:\n--- want\n{}\n--- got\n{}",
        String::from_utf8_lossy(&want),
        String::from_utf8_lossy(got)
    );
}

/// (stored document, the exit status of `merge`: two expectations fail in `check.json`).
const DOCS: [(&str, i32); 4] = [("run", 0), ("check", 1), ("sweep", 0), ("threshold", 0)];

#[test]
fn every_format_of_every_kind_of_document() {
    for (doc, code) in DOCS {
        for (format, ext) in [
            ("table", "txt"),
            ("csv", "csv"),
            ("markdown", "md"),
            ("json", "json"),
        ] {
            let path = format!("tests/fixtures/docs/{doc}.json");
            let out = stdout_of(&["merge", &path, "--format", format], code);
            snapshot(&format!("{doc}.{ext}"), out.as_bytes());
        }
    }
}

#[test]
fn a_document_merges_to_itself() {
    for (doc, code) in DOCS {
        let path = format!("tests/fixtures/docs/{doc}.json");
        let out = stdout_of(&["merge", &path, "--format", "json"], code);
        let stored = std::fs::read(format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap();
        assert_eq!(out, String::from_utf8_lossy(&stored));
    }
}

#[test]
fn csv_has_one_flat_row_per_run_with_a_header() {
    let out = stdout_of(&["run", "tests/fixtures/stalls.toml", "--format", "csv"], 0);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 5, "{out}");
    assert!(lines[0]
        .starts_with("file,scenario,label,vm.dirty_ratio,policy,release,seed,outcome,at_s,"));
    assert!(lines[0].ends_with(",reproduce"));
    let n = lines[0].split(',').count();
    for l in &lines[1..] {
        assert!(
            l.starts_with("tests/fixtures/stalls.toml,cannot-finish,"),
            "{l}"
        );
        assert!(l.ends_with("--seed 1"), "{l}");
        // No field of this fixture holds a comma or a quote: the row splits into the header's
        // fields.
        assert_eq!(l.split(',').count(), n, "{l}");
    }
}

#[test]
fn stdout_is_only_the_artefact() {
    // A warning (no [expect]) and the check summary go to stderr; stdout parses as JSON (exit
    // 32: nothing was checked).
    let out = wbsim()
        .args(["check", "tests/fixtures/minimal.toml", "--format", "json"])
        .assert()
        .code(32)
        .stderr(contains(
            "warning: tests/fixtures/minimal.toml: no [expect] table",
        ))
        .get_output()
        .stdout
        .clone();
    let doc: serde_json::Value = serde_json::from_slice(&out).expect("only JSON on stdout");
    assert_eq!(doc["schema"], "wbsim/run/1");
    // Markdown tables start at the first byte.
    let md = stdout_of(
        &["run", "tests/fixtures/stalls.toml", "--format", "markdown"],
        0,
    );
    assert!(md.starts_with("### cannot-finish"));
}

#[test]
fn check_formats_and_junit() {
    let dir = Scratch::new("junit");
    let xml = dir.path("report.xml");
    wbsim()
        .args([
            "check",
            "tests/fixtures/stalls.toml",
            "--format",
            "csv",
            "--junit",
        ])
        .arg(&xml)
        .assert()
        .code(1)
        .stdout(contains(
            "file,scenario,result,expect,cell,expected,got,reproduce\n",
        ))
        .stdout(contains(
            "tests/fixtures/stalls.toml,cannot-finish,FAIL,10/*,10/redirty,survived,",
        ))
        .stderr(contains("check: 1 passed, 2 failed"));
    let text = std::fs::read_to_string(&xml).unwrap();
    assert!(text.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"wbsim check\" tests=\"3\" skipped=\"0\" failures=\"2\" errors=\"0\" time=\""), "{text}");
    assert!(
        text.contains(
            "<testcase name=\"40/activate [expect 40/activate]\" classname=\"cannot-finish\">"
        ),
        "{text}"
    );
    assert_eq!(text.matches("<failure ").count(), 2, "{text}");
    assert!(text.contains(">reproduce: wbsim run tests/fixtures/stalls.toml --set vm.dirty_ratio=10 --policy redirty --seed 1</failure>"), "{text}");
}

#[test]
fn fail_on_matching_outcomes_exits_1_with_reproduce_lines() {
    // Every run of stalls.toml stalls (10GiB cannot be written in 1ms).
    wbsim()
        .args(["run", "tests/fixtures/stalls.toml", "--fail-on", "stall"])
        .assert()
        .code(1)
        .stderr(contains("fail-on stall: tests/fixtures/stalls.toml 10/redirty: stalled at 0.0 s"))
        .stderr(contains(
            "  reproduce: wbsim run tests/fixtures/stalls.toml --set vm.dirty_ratio=40 --policy activate --seed 1\n",
        ));
    wbsim()
        .args([
            "run",
            "tests/fixtures/stalls.toml",
            "--fail-on",
            "oom,regression",
        ])
        .assert()
        .code(0)
        .stderr(contains("fail-on").not());
}

#[test]
fn fail_on_regression_names_both_runs() {
    wbsim()
        .args([
            "merge",
            "tests/fixtures/docs/run.json",
            "--format",
            "csv",
            "--fail-on",
            "regression",
        ])
        .assert()
        .code(1)
        .stderr(contains(
            "fail-on regression: scen.toml 40: redirty → activate: survived → oom\n\
             \x20 reproduce: wbsim run scen.toml --set 'scenario.duration=1h 30m' --set vm.dirty_ratio=40 --policy redirty --seed 1\n\
             \x20 reproduce: wbsim run scen.toml --set 'scenario.duration=1h 30m' --set vm.dirty_ratio=40 --policy activate --seed 1\n",
        ))
        // The fix in cell 10 is not a failure.
        .stderr(contains("scen.toml 10").not());
}

#[test]
fn completions_and_man_page() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let text = stdout_of(&["completions", shell], 0);
        assert!(text.contains("wbsim"), "{shell}");
        assert!(text.contains("find-threshold"), "{shell}");
    }
    let man = stdout_of(&["man"], 0);
    assert!(man.contains(".TH wbsim 1  \"wbsim "), "{man}");
    for section in [".SH \"EXIT STATUS\"", ".SH ENVIRONMENT", ".SH EXAMPLES"] {
        assert!(man.contains(section), "{section}: {man}");
    }
    assert!(
        man.contains(".TP\n3\na bug in wbsim"),
        "exit status 3: {man}"
    );
    let sweep = stdout_of(&["man", "sweep"], 0);
    assert!(sweep.contains(".TH wbsim-sweep 1"), "{sweep}");
    assert!(
        sweep.contains("find\\-threshold") && sweep.contains(".SH \"EXIT STATUS\""),
        "{sweep}"
    );
    assert!(
        sweep.contains("wbsim sweep scenarios/oracle\\-backup.toml"),
        "{sweep}"
    );
    for command in ["run", "check", "sweep", "history", "explain"] {
        let help = stdout_of(&[command, "--help"], 0);
        // clap wraps the paragraph at the terminal width.
        let help = help.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            help.contains("3 a bug in wbsim"),
            "{command} --help: {help}"
        );
    }
    wbsim()
        .args(["man", "swep"])
        .assert()
        .code(2)
        .stderr(contains("commands: run, check, sweep"));
    wbsim()
        .args(["completions", "tcsh"])
        .assert()
        .code(2)
        .stderr(contains("bash"));
}

#[test]
fn bad_shard_and_jobs_are_usage_errors() {
    for args in [
        ["--shard", "0/2"],
        ["--shard", "3/2"],
        ["--shard", "x"],
        ["--jobs", "0"],
        ["--fail-on", "crash"],
    ] {
        wbsim()
            .args(["run", "tests/fixtures/minimal.toml"])
            .args(args)
            .assert()
            .code(2)
            .stdout("");
    }
}
