//! Issue 17 item 6: `[matrix]` with GitHub Actions' `exclude`/`include`, tied axes
//! (`[[matrix.tied]]`) and sizes as a percentage of MemTotal, from the loader (which cells, which
//! values) and from the command line (one file, one command; bad input is exit 2 with the file,
//! line, key and what is accepted).

use crate::support::{json_of, wbsim};
use std::sync::Arc;
use wbsim::scenario::error::Source;
use wbsim::scenario::{load_source, Overrides, Scenario};

const LAB: &str = "tests/fixtures/lab-study.toml";

fn lab_text() -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(LAB);
    std::fs::read_to_string(path).expect("the fixture")
}

fn load(text: &str, sets: &[(&str, &str)]) -> Result<Scenario, String> {
    let src = Arc::new(Source {
        name: "t.toml".into(),
        text: text.into(),
    });
    let ov = Overrides {
        sets: sets
            .iter()
            .map(|(p, v)| (p.to_string(), v.to_string()))
            .collect(),
        ..Overrides::default()
    };
    load_source(&src, &ov).map_err(|d| d.to_string())
}

fn labels(sc: &Scenario) -> Vec<String> {
    sc.runs.iter().map(|r| r.label.clone()).collect()
}

/// The lab fixture with its `[matrix]` replaced by `matrix`.
fn with_matrix(matrix: &str) -> String {
    let text = lab_text();
    let base = &text[..text.find("[matrix]").expect("a [matrix]")];
    format!("{base}[matrix]\n{matrix}\n")
}

#[test]
fn exclude_removes_every_combination_a_partial_entry_matches() {
    let sc = load(
        &with_matrix(
            "\"mount.data.fs\" = [\"ext3\", \"ext4\"]\n\"vm.dirty_ratio\" = [10, 40]\n\
             [[matrix.exclude]]\n\"mount.data.fs\" = \"ext3\"\n\
             [[matrix.exclude]]\n\"vm.dirty_ratio\" = 40\npolicy = \"activate\"\n",
        ),
        &[],
    )
    .unwrap();
    assert_eq!(
        labels(&sc),
        ["ext4/10/redirty", "ext4/10/activate", "ext4/40/redirty"]
    );
}

#[test]
fn include_extends_the_combinations_it_fits_and_adds_one_when_it_fits_none() {
    let sc = load(
        &with_matrix(
            "\"vm.dirty_ratio\" = [10, 40]\npolicy = [\"redirty\"]\n\
             [[matrix.include]]\n\"vm.dirty_ratio\" = 10\n\"vm.dirty_background_ratio\" = 2\n\
             [[matrix.include]]\n\"vm.dirty_ratio\" = 60\n\"mount.data.fs\" = \"xfs\"\n\
             [[matrix.include]]\n\"vm.dirty_background_ratio\" = 3\n",
        ),
        &[],
    )
    .unwrap();
    assert_eq!(labels(&sc), ["10/redirty", "40/redirty", "60/redirty"]);
    let background: Vec<u32> = sc
        .runs
        .iter()
        .map(|r| r.spec.vm.dirty_background_ratio)
        .collect();
    // The third entry names no axis, so it fits (and extends) every original combination,
    // overwriting the value the first added; the combination the second added is not extended
    // (GitHub Actions' rule), and keeps the file's value.
    assert_eq!(background, [3, 3, 10]);
    let fs: Vec<String> = sc
        .runs
        .iter()
        .map(|r| format!("{:?}", r.spec.mounts[0].fs))
        .collect();
    assert_eq!(fs[0], fs[1]);
    assert_ne!(fs[2], fs[0], "the added combination has its own filesystem");
}

#[test]
fn an_include_without_a_policy_adds_a_combination_per_policy() {
    let sc = load(
        &with_matrix("\"vm.dirty_ratio\" = [10]\n[[matrix.include]]\n\"vm.dirty_ratio\" = 60\n"),
        &[],
    )
    .unwrap();
    assert_eq!(
        labels(&sc),
        ["10/redirty", "10/activate", "60/redirty", "60/activate"]
    );
}

#[test]
fn tied_axes_step_together_and_each_is_a_column_of_the_label() {
    let sc = load(
        &with_matrix(
            "\"mount.data.fs\" = [\"ext3\", \"ext4\"]\npolicy = [\"activate\"]\n\
             [[matrix.tied]]\n\"task.pin0.size\" = [\"64MiB\", \"128MiB\", \"128MiB\"]\n\
             \"task.pin1.size\" = [\"64MiB\", \"64MiB\", \"128MiB\"]\n",
        ),
        &[],
    )
    .unwrap();
    assert_eq!(
        labels(&sc),
        [
            "ext3/activate/64MiB/64MiB",
            "ext3/activate/128MiB/64MiB",
            "ext3/activate/128MiB/128MiB",
            "ext4/activate/64MiB/64MiB",
            "ext4/activate/128MiB/64MiB",
            "ext4/activate/128MiB/128MiB"
        ]
    );
}

#[test]
fn set_restricts_the_listed_combinations() {
    let sc = load(&lab_text(), &[("mount.data.fs", "xfs")]).unwrap();
    assert_eq!(labels(&sc), ["xfs/20/25%/25%/redirty"]);
    let err = load(
        &lab_text(),
        &[("mount.data.fs", "ext3"), ("vm.dirty_ratio", "40")],
    )
    .unwrap_err();
    assert!(err.contains("no combination of the matrix"), "{err}");
}

#[test]
fn a_percentage_size_is_a_share_of_machine_memory_rounded_down_to_a_byte() {
    let sc = load(&lab_text(), &[("mount.data.fs", "xfs")]).unwrap();
    let spec = &sc.runs[0].spec;
    let size = |name: &str| {
        let t = spec.tasks.iter().find(|t| t.name == name).expect("task");
        format!("{:?}", t.kind)
    };
    // 25 % and 150 % of 512 MiB.
    assert!(size("pin0").contains("134217728"), "{}", size("pin0"));
    assert!(size("backup").contains("805306368"), "{}", size("backup"));
    let sc = load(
        &lab_text(),
        &[("mount.data.fs", "xfs"), ("task.pin0.size", "12.5%")],
    )
    .unwrap_err();
    assert!(
        sc.contains("task.pin0.size"),
        "a tied axis is restricted, not set: {sc}"
    );
    let sc = load(
        &with_matrix("policy = [\"redirty\"]"),
        &[("task.pin0.size", "12.5%")],
    )
    .unwrap();
    let t = format!("{:?}", sc.runs[0].spec.tasks[0].kind);
    assert!(t.contains("67108864"), "12.5 % of 512 MiB: {t}");
}

#[test]
fn a_lab_study_is_one_file_and_one_command() {
    let doc = json_of(&["run", LAB, "--format", "json", "-q"]);
    let sc = &doc["scenarios"][0];
    let runs = sc["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 13);
    let cells = sc["plan"]["cells"]
        .as_array()
        .expect("plan.cells lists them");
    assert_eq!(cells.len(), 13);
    assert_eq!(runs[12]["label"], "xfs/20/25%/25%/redirty");
    assert_eq!(runs[0]["cell"]["vm.dirty_background_ratio"], 2);
}

/// `wbsim validate` of the lab fixture with `matrix` as its `[matrix]`: exit 2, and stderr
/// holds each of `says`.
fn refused(matrix: &str, says: &[&str]) {
    let dir = crate::support::Scratch::new("matrix-bad");
    let file = dir.path("bad.toml");
    std::fs::write(&file, with_matrix(matrix)).expect("write");
    let out = wbsim()
        .args(["validate", &file.display().to_string()])
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(out.stdout.is_empty());
    for s in says {
        assert!(stderr.contains(s), "want `{s}` in:\n{stderr}");
    }
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn bad_matrix_rules_name_the_file_line_key_and_what_is_accepted() {
    refused(
        "\"vm.dirty_ratio\" = [10, 40]\n[[matrix.exclude]]\n\"vm.dirty_ratio\" = 30\n",
        &[
            "bad.toml:42:20: `matrix.exclude[0].\"vm.dirty_ratio\"`",
            "the axis `vm.dirty_ratio` has no value `30`; its values are `10`, `40`",
        ],
    );
    refused(
        "\"vm.dirty_ratio\" = [10, 40]\n[[matrix.exclude]]\n\"vm.dirty_background_ratio\" = 3\n",
        &[
            "bad.toml:42:1:",
            "is not an axis of the matrix; an exclude names axes: `vm.dirty_ratio`, `policy`",
            "did you mean `vm.dirty_ratio`?",
        ],
    );
    refused(
        "\"vm.dirty_ratio\" = [10]\n[[matrix.exclude]]\n\"vm.dirty_ratio\" = 10\n",
        &["`matrix.exclude`: the excludes remove every combination"],
    );
    refused(
        "[[matrix.tied]]\n\"task.pin0.size\" = [\"1MiB\", \"2MiB\"]\n\"task.pin1.size\" = [\"1MiB\"]\n",
        &[
            "bad.toml:42:20: `matrix.\"task.pin1.size\"`",
            "a tied axis has 1 values but `task.pin0.size`",
        ],
    );
    refused(
        "[[matrix.tied]]\n\"task.pin0.size\" = [\"1MiB\", \"1MiB\"]\n\"task.pin1.size\" = [\"1MiB\", \"1MiB\"]\n",
        &["the tied step `1MiB/1MiB` is listed twice"],
    );
    refused(
        "\"vm.dirty_ratio\" = [10]\n[[matrix.include]]\n\"vm.dirty_ratio\" = 60\n\
         [[matrix.include]]\n\"vm.dirty_ratio\" = 60\n",
        &["`matrix.include[1]`: adds the combination `60/redirty`, which an earlier include already added"],
    );
    refused(
        "\"vm.dirty_ratio\" = [10]\n[[matrix.include]]\n\"mount.data.fs\" = \"xfs\"\n\
         \"vm.swappiness\" = 300\n",
        &["bad.toml:43:19: `vm.swappiness`", "expected"],
    );
    refused(
        "\"vm.dirty_ratio\" = [10]\nexclude = 3\n",
        &["`matrix.exclude`: found an integer; expected an array of tables: `[[matrix.exclude]]`"],
    );
}

#[test]
fn a_percentage_is_refused_where_memory_is_not_yet_known_and_when_malformed() {
    let dir = crate::support::Scratch::new("matrix-pct");
    let file = dir.arg("p.toml");
    std::fs::write(&file, with_matrix("policy = [\"redirty\"]")).expect("write");
    for (set, says) in [
        (
            "machine.swap=10%",
            "a percentage of memory is accepted for the sizes of tasks and of `[vm]`",
        ),
        (
            "task.pin0.size=ten%",
            "`ten%` is not a percentage; expected a percentage of MemTotal",
        ),
        ("task.pin0.size=1.1234567%", "is not a percentage"),
    ] {
        let out = wbsim()
            .args(["run", &file, "-q", "--set", set])
            .output()
            .expect("runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(says), "want `{says}` in:\n{stderr}");
    }
}
