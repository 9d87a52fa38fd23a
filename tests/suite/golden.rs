//! Golden outputs: every shipped scenario's results document (`--format json`) and its table with
//! the OOM reports and the final /proc/vmstat (`--oom-report --vmstat`) are committed under
//! `tests/golden/`. A change to any byte fails here and shows the diff; a change that is meant
//! (a bug fix, a new mechanism) is re-recorded with
//!
//! ```sh
//! WBSIM_BLESS=1 cargo test --test golden
//! ```
//!
//! and the commit that carries the new files says why the outputs changed.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

fn shipped() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir("scenarios")
        .expect("scenarios/")
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    files.sort();
    files
}

fn output(args: &[&str]) -> String {
    let out = Command::cargo_bin("wbsim")
        .unwrap()
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "wbsim {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
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

#[test]
fn every_shipped_scenario_prints_its_committed_outputs() {
    let mut failures = String::new();
    for file in shipped() {
        let stem = file.file_stem().unwrap().to_string_lossy().into_owned();
        let path = file.display().to_string();
        let json = output(&["run", &path, "--format", "json"]);
        let table = output(&["run", &path, "--oom-report", "--vmstat"]);
        for (golden, actual) in [
            (format!("tests/golden/{stem}.json"), json),
            (format!("tests/golden/{stem}.txt"), table),
        ] {
            if let Some(diff) = compare(Path::new(&golden), &actual) {
                failures.push_str(&diff);
            }
        }
    }
    assert!(
        failures.is_empty(),
        "shipped outputs changed (re-record with WBSIM_BLESS=1 cargo test --test golden \
         if the change is meant, and say why in the commit):\n{failures}"
    );
}
