//! Every shipped scenario is a fixture: its `[expect]` holds (`wbsim check` exits 0), and the same
//! seed gives byte-identical JSON.

use assert_cmd::Command;

fn shipped() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir("scenarios")
        .expect("scenarios/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .map(|p| p.display().to_string())
        .collect();
    v.sort();
    assert!(v.len() >= 6, "the six seed scenarios ship");
    v
}

#[test]
fn every_shipped_scenario_meets_its_expectations() {
    for f in shipped() {
        let out = Command::cargo_bin("wbsim")
            .unwrap()
            .args(["check", &f])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{f}: wbsim check failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn the_same_seed_gives_identical_json() {
    let run = || {
        Command::cargo_bin("wbsim")
            .unwrap()
            .args([
                "run",
                "scenarios/fake-numa-128m.toml",
                "--set",
                "disk.sda.bandwidth=20MB/s",
                "--format",
                "json",
            ])
            .output()
            .unwrap()
            .stdout
    };
    let a = run();
    assert!(!a.is_empty());
    assert_eq!(a, run());
}
