//! Golden outputs: every shipped scenario's table with the OOM reports and the final /proc/vmstat
//! (`--oom-report --vmstat`) and its results document from the same runs (`--json FILE`: what
//! `--format json --oom-report --vmstat` prints) are committed under `tests/golden/`, so each
//! scenario is simulated once. A change to any byte fails here and shows the diff; a change that is meant
//! (a bug fix, a new mechanism) is re-recorded with
//!
//! ```sh
//! WBSIM_BLESS=1 cargo test --test suite golden
//! ```
//!
//! and the commit that carries the new files says why the outputs changed.
//!
//! The same runs check every shipped scenario's `[expect]`: the results document carries the
//! plan's expectations, and `wbsim check` applies them to its runs exactly as
//! `report::build::checks` does here, so the scenarios are not simulated a second time.

use std::path::{Path, PathBuf};

use crate::support::{wbsim, Scratch};
use wbsim::report::document::Document;

fn output(args: &[&str]) -> String {
    let out = wbsim().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "wbsim {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

fn shipped() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir("scenarios")
        .expect("scenarios/")
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 7, "the shipped scenarios: {files:?}");
    files
}

/// Compares `actual` with the committed file, or writes it under `WBSIM_BLESS=1`. Returns the
/// diff of a mismatch.
fn compare(golden: &Path, actual: &str) -> Option<String> {
    if std::env::var_os("WBSIM_BLESS").is_some() {
        std::fs::write(golden, actual).unwrap();
        return None;
    }
    let expected = std::fs::read_to_string(golden).unwrap_or_default();
    if expected == actual {
        return None;
    }
    let diff = similar::TextDiff::from_lines(expected.as_str(), actual);
    let shown = diff
        .unified_diff()
        .context_radius(2)
        .header("committed", "now")
        .to_string();
    let lines: Vec<&str> = shown.lines().take(80).collect();
    Some(format!("{}:\n{}\n", golden.display(), lines.join("\n")))
}

/// The checks of every `[expect]` entry of a results document that fail, as `check` prints them.
fn failed_expectations(json: &str) -> Vec<String> {
    let doc: Document = serde_json::from_str(json).expect("a results document");
    let mut failures = Vec::new();
    for sc in &doc.scenarios {
        assert!(sc.plan.expect.is_some(), "{}: no [expect]", sc.file);
        let checks = wbsim::report::build::checks(sc);
        assert!(!checks.is_empty(), "{}: [expect] matches no cell", sc.file);
        let failed = checks.iter().filter(|c| !c.pass);
        failures.extend(failed.map(|c| wbsim::report::table::check_line(&sc.file, c)));
    }
    failures
}

#[test]
fn every_shipped_scenario_prints_its_committed_outputs_and_meets_its_expectations() {
    let mut changed = String::new();
    let mut failed = Vec::new();
    let mut too_wide = Vec::new();
    let scratch = Scratch::new("golden");
    for file in shipped() {
        let stem = file.file_stem().unwrap().to_string_lossy().into_owned();
        let path = file.display().to_string();
        let document = scratch.arg(&format!("{stem}.json"));
        let table = output(&[
            "run",
            &path,
            "--oom-report",
            "--vmstat",
            "--json",
            &document,
        ]);
        let json = std::fs::read_to_string(&document).expect("the --json document");
        failed.extend(failed_expectations(&json));
        too_wide.extend(wider_than_100(&path, &json));
        for (golden, actual) in [
            (format!("tests/golden/{stem}.json"), json),
            (format!("tests/golden/{stem}.txt"), table),
        ] {
            if let Some(diff) = compare(Path::new(&golden), &actual) {
                changed.push_str(&diff);
            }
        }
    }
    assert!(
        changed.is_empty(),
        "shipped outputs changed (re-record with WBSIM_BLESS=1 cargo test --test suite golden \
         if the change is meant, and say why in the commit):\n{changed}"
    );
    assert!(failed.is_empty(), "{}", failed.join("\n"));
    assert!(too_wide.is_empty(), "{}", too_wide.join("\n"));
}

/// The lines of the default `wbsim run` table (rendered from the results document exactly as
/// `run` prints it) wider than 100 columns.
fn wider_than_100(file: &str, json: &str) -> Vec<String> {
    use wbsim::report::{render, Content, Format};
    let doc: Document = serde_json::from_str(json).expect("a results document");
    render(&doc, Content::Runs, Format::Table)
        .lines()
        .filter(|l| l.chars().count() > 100)
        .map(|l| format!("{file}: {} columns: {l}", l.chars().count()))
        .collect()
}
