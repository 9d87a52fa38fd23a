//! `--check-invariants` and `--check-determinism` as a user runs them.

use assert_cmd::Command;

fn run(extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "run",
        "scenarios/shmem-no-swap.toml",
        "--format",
        "json",
        "--jobs",
        "2",
    ];
    args.extend_from_slice(extra);
    Command::cargo_bin("wbsim")
        .unwrap()
        .args(&args)
        .output()
        .unwrap()
}

#[test]
fn the_checks_pass_on_a_shipped_scenario_and_do_not_change_its_output() {
    let plain = run(&[]);
    assert!(plain.status.success());
    let checked = run(&["--check-invariants", "--check-determinism"]);
    assert!(
        checked.status.success(),
        "{}",
        String::from_utf8_lossy(&checked.stderr)
    );
    assert_eq!(plain.stdout, checked.stdout);
}

#[test]
fn the_check_flags_are_documented_in_the_help_with_their_exit_status() {
    let out = Command::cargo_bin("wbsim")
        .unwrap()
        .args(["run", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    assert!(help.contains("--check-invariants"), "{help}");
    assert!(help.contains("--check-determinism"), "{help}");
    assert!(help.contains("exits 3"), "{help}");
}

#[test]
fn a_progress_callback_sees_simulated_time_advance_and_changes_nothing() {
    use std::sync::{Arc, Mutex};
    let sc = wbsim::scenario::load(
        std::path::Path::new("scenarios/shmem-no-swap.toml"),
        &wbsim::scenario::Overrides::default(),
    )
    .unwrap();
    let spec = &sc.runs[0].spec;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s2 = Arc::clone(&seen);
    let mut setup = wbsim::engine::Setup::new(wbsim::mm::Options::default());
    setup.progress = Some(Box::new(move |now| s2.lock().unwrap().push(now)));
    let with = wbsim::engine::execute(spec, setup).unwrap().result;
    assert_eq!(with, wbsim::engine::simulate(spec));
    let seen = seen.lock().unwrap();
    assert!(
        !seen.is_empty(),
        "ticked at least once ({} events)",
        with.events
    );
    assert!(seen.windows(2).all(|w| w[0] <= w[1]));
}
