//! Every `wbsim …` command in the README's `sh` blocks runs, exits 0 and prints something: the
//! commands are read from README.md itself, so the test cannot drift from it. Part of `cargo
//! test`: with the test profile's optimised binary (debug assertions and the sampled invariant
//! checks on) the examples take about 50 s on 2 cores, against 40 s in release — less than a
//! separate release build of the crate would cost CI.

use crate::support::wbsim;

/// The `wbsim` commands of the README's `sh` code blocks, without trailing comments.
fn readme_commands() -> Vec<String> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let mut out = Vec::new();
    let mut in_sh = false;
    for line in text.lines() {
        if line.starts_with("```") {
            in_sh = !in_sh && line.trim() == "```sh";
            continue;
        }
        let command = line.split("  #").next().unwrap_or("").trim();
        if in_sh && command.starts_with("wbsim ") {
            out.push(command.to_string());
        }
    }
    out
}

#[test]
fn every_readme_example_command_runs_and_prints_something() {
    let commands = readme_commands();
    assert!(
        commands
            .iter()
            .any(|c| c == "wbsim run scenarios/oracle-backup.toml"),
        "the README leads with the user's command: {commands:?}"
    );
    assert!(commands.iter().any(|c| c.starts_with("wbsim study ")));
    for command in &commands {
        let args: Vec<&str> = command.split_whitespace().skip(1).collect();
        let out = wbsim().args(&args).output().expect("wbsim runs");
        assert!(
            out.status.success(),
            "`{command}` failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!out.stdout.is_empty(), "`{command}` printed nothing");
    }
}

#[test]
fn the_readme_shows_the_real_output_of_its_lead_command() {
    // The block after the lead command is the golden table of oracle-backup, byte for byte
    // (without the --oom-report/--vmstat sections the golden file adds).
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let golden = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/golden/oracle-backup.txt"
    ))
    .unwrap();
    let shown = text
        .split("```\noracle-backup — ")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("the README shows the lead command's output");
    let table = format!("oracle-backup — {shown}");
    assert!(
        golden.starts_with(&table),
        "README's table differs from the golden output:\n{table}"
    );
}
