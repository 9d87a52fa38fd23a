//! Issue 16, results a script can trust: provenance in every document and `merge` refusing what
//! one command could not have produced, the two panics the attack found, silent drops and late
//! failures, base values under matrix axes, wrong results without an error, misleading error
//! suffixes, and bounded work around every simulation. One test (or more) per numbered item,
//! each named by what it guarantees.

use crate::support::{json_of, stdout_of, wbsim, Scratch};
use serde_json::Value;

/// A 256 MiB machine with a disk-backed mount `d` and a tmpfs mount `shm`; `tasks` is TOML.
fn scenario(tasks: &str) -> String {
    format!(
        "[scenario]\nname = \"t\"\nduration = \"2s\"\nseed = 3\n\n[machine]\nmemory = \"256MiB\"\n\n\
         [disk.sdb]\nbandwidth = \"100MB/s\"\n\n[mount.d]\nfs = \"ext4\"\ndisk = \"sdb\"\n\n\
         [mount.shm]\nfs = \"tmpfs\"\n\n{tasks}"
    )
}

/// A writer of 8 MiB on `mount` and a truncate of its file starting at `start`.
fn writer_and_truncate(mount: &str, start: &str) -> String {
    scenario(&format!(
        "[task.writer]\nkind = \"stream-write\"\nmount = \"{mount}\"\nsize = \"8MiB\"\n\
         rate = \"100MiB/s\"\n\n[task.cut]\nkind = \"truncate\"\ntarget = \"writer\"\n\
         start = \"{start}\"\n"
    ))
}

/// Writes `text` to `name` in `dir` and returns its path as an argument.
fn file(dir: &Scratch, name: &str, text: &str) -> String {
    std::fs::write(dir.path(name), text).expect("a scratch file");
    dir.arg(name)
}

/// `wbsim ARGS`: exit code 2, and stderr (which must not hold a panic).
fn refused(args: &[&str]) -> String {
    let out = wbsim().args(args).output().expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    stderr
}

// ---------------------------------------------------------------------------------------------
// Item 5: the two panics.
// ---------------------------------------------------------------------------------------------

#[test]
fn a_truncate_of_a_file_on_tmpfs_is_a_located_error_in_every_command_not_a_panic() {
    let dir = Scratch::new("trunc-tmpfs");
    let f = file(&dir, "t.toml", &writer_and_truncate("shm", "10ms"));
    for args in [
        vec!["validate", &f],
        vec!["run", &f],
        vec!["check", &f],
        vec!["explain", &f],
        vec!["sweep", &f, "--vary", "vm.dirty_ratio=10,20"],
        vec!["history", &f],
    ] {
        let stderr = refused(&args);
        assert!(
            stderr.contains(":27:10: `task.cut.target`: `writer` writes on `shm`, a tmpfs mount"),
            "{args:?}: {stderr}"
        );
    }
}

/// The shard documents of `f` (two shards), as JSON values.
fn shards(f: &str, extra: &[&str]) -> (Value, Value) {
    let shard = |i: &str| {
        let mut args = vec!["run", f, "--shard", i, "--format", "json"];
        args.extend_from_slice(extra);
        json_of(&args)
    };
    (shard("1/2"), shard("2/2"))
}

#[test]
fn merging_a_shard_whose_items_list_more_runs_than_it_holds_exits_2_not_a_panic() {
    let dir = Scratch::new("merge-items");
    let (mut a, b) = shards("tests/fixtures/minimal.toml", &[]);
    a["scenarios"][0]["shard"]["items"] = serde_json::json!([0, 1]);
    let (fa, fb) = (dir.arg("a.json"), dir.arg("b.json"));
    std::fs::write(&fa, a.to_string()).unwrap();
    std::fs::write(&fb, b.to_string()).unwrap();
    let stderr = refused(&["merge", &fa, &fb]);
    assert!(
        stderr.contains("`shard.items` lists 2 items but the document holds 1"),
        "{stderr}"
    );
}

// ---------------------------------------------------------------------------------------------
// Item 1: provenance, and merge refusing what one command could not have produced.
// ---------------------------------------------------------------------------------------------

/// The document of `wbsim COMMAND oracle.toml ARGS --format json --set vm.dirty_ratio=30
/// --seed 9 --policy redirty`.
fn oracle_doc(command: &str, args: &[&str]) -> Value {
    let f = "tests/fixtures/oracle.toml";
    let mut all = vec![command, f];
    all.extend_from_slice(args);
    all.extend([
        "--format",
        "json",
        "--set",
        "vm.dirty_ratio=30",
        "--seed",
        "9",
        "--policy",
        "redirty",
    ]);
    json_of(&all)
}

#[test]
fn every_results_document_carries_the_provenance_of_the_command_that_wrote_it() {
    let bytes = std::fs::read("tests/fixtures/oracle.toml").unwrap();
    let sha = wbsim::scenario::sha256_hex(&bytes);
    let docs = [
        ("run", oracle_doc("run", &[])),
        (
            "sweep",
            oracle_doc("sweep", &["--vary", "vm.swappiness=0,60"]),
        ),
        (
            "history",
            oracle_doc("history", &["--releases", "2.6.32,2.6.36"]),
        ),
    ];
    for (command, doc) in &docs {
        let p = if *command == "history" {
            &doc["provenance"]
        } else {
            &doc["scenarios"][0]["provenance"]
        };
        let want = serde_json::json!({
            "command": command,
            "scenario_sha256": sha,
            "sets": ["vm.dirty_ratio=30"],
            "seed": 9,
            "policies": ["redirty"],
            "replicas": 1,
            "kernels": ["2.6.32"],
            "wbsim_version": env!("CARGO_PKG_VERSION"),
        });
        assert_eq!(*p, want, "{command}");
    }
    // `check` too, exit 0 or 1: its document is still whole.
    let out = wbsim()
        .args(["check", "tests/fixtures/oracle.toml", "--format", "json"])
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["scenarios"][0]["provenance"]["command"], "check");
}

#[test]
fn merge_refuses_shards_of_a_file_edited_between_them_naming_the_field_and_both_files() {
    let dir = Scratch::new("merge-edited");
    let text = std::fs::read_to_string("tests/fixtures/minimal.toml").unwrap();
    let f = file(&dir, "s.toml", &text);
    let a = json_of(&["run", &f, "--shard", "1/2", "--format", "json"]);
    file(&dir, "s.toml", &text.replace("1GiB", "2GiB"));
    let b = json_of(&["run", &f, "--shard", "2/2", "--format", "json"]);
    let (fa, fb) = (dir.arg("a.json"), dir.arg("b.json"));
    std::fs::write(&fa, a.to_string()).unwrap();
    std::fs::write(&fb, b.to_string()).unwrap();
    let stderr = refused(&["merge", &fa, &fb]);
    assert!(
        stderr.contains("`provenance.scenario_sha256` differs"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("in {fa}")) && stderr.contains(&format!("in {fb}")),
        "{stderr}"
    );
}

/// Merges shard 1/2 (with `one`) and shard 2/2 (with `two`) of the minimal scenario: stderr.
fn merge_refusal(name: &str, one: &[&str], two: &[&str]) -> String {
    let dir = Scratch::new(name);
    let f = "tests/fixtures/minimal.toml";
    let a = json_of(&[&["run", f, "--shard", "1/2", "--format", "json"][..], one].concat());
    let b = json_of(&[&["run", f, "--shard", "2/2", "--format", "json"][..], two].concat());
    let (fa, fb) = (dir.arg("a.json"), dir.arg("b.json"));
    std::fs::write(&fa, a.to_string()).unwrap();
    std::fs::write(&fb, b.to_string()).unwrap();
    refused(&["merge", &fa, &fb])
}

#[test]
fn merge_refuses_shards_run_with_different_seeds() {
    let stderr = merge_refusal("merge-seed", &[], &["--seed", "2"]);
    assert!(
        stderr.contains("`provenance.seed` differs: `none` in"),
        "{stderr}"
    );
}

#[test]
fn merge_of_shards_with_different_sets_names_the_sets_not_missing_items() {
    let stderr = merge_refusal("merge-set", &["--set", "vm.dirty_ratio=30"], &[]);
    assert!(
        stderr.contains("`provenance.sets` differs: `vm.dirty_ratio=30` in"),
        "{stderr}"
    );
    assert!(!stderr.contains("missing"), "{stderr}");
}

#[test]
fn merge_refuses_a_document_without_provenance() {
    let dir = Scratch::new("merge-noprov");
    let (mut a, b) = shards("tests/fixtures/minimal.toml", &[]);
    a["scenarios"][0]
        .as_object_mut()
        .unwrap()
        .remove("provenance");
    let (fa, fb) = (dir.arg("a.json"), dir.arg("b.json"));
    std::fs::write(&fa, a.to_string()).unwrap();
    std::fs::write(&fb, b.to_string()).unwrap();
    let stderr = refused(&["merge", &fa, &fb]);
    assert!(stderr.contains("no `provenance`"), "{stderr}");
}

/// A scenario of three short writers' sizes, one excluded by `[[matrix.exclude]]` (so the plan
/// lists its cells), for `merge` tests with replicas.
fn excluded_cell_scenario() -> String {
    scenario(
        "[task.writer]\nkind = \"stream-write\"\nmount = \"d\"\nsize = \"8MiB\"\n\
         rate = \"100MiB/s\"\n\n[matrix]\n\"task.writer.size\" = [\"4MiB\", \"8MiB\", \"16MiB\"]\n\n\
         [[matrix.exclude]]\n\"task.writer.size\" = \"8MiB\"\n",
    )
}

/// `merge` of the two shards of `args` gives the unsharded document (`stdout`s compared).
fn merged_equals_whole(dir: &Scratch, f: &str, args: &[&str]) {
    let run = |shard: Option<&str>| {
        let mut all = vec!["run", f, "--format", "json"];
        all.extend_from_slice(args);
        if let Some(s) = shard {
            all.extend(["--shard", s]);
        }
        json_of(&all)
    };
    let (fa, fb) = (dir.arg("a.json"), dir.arg("b.json"));
    std::fs::write(&fa, run(Some("1/2")).to_string()).unwrap();
    std::fs::write(&fb, run(Some("2/2")).to_string()).unwrap();
    let merged = json_of(&["merge", &fa, &fb, "--format", "json"]);
    assert_eq!(merged["scenarios"], run(None)["scenarios"], "{args:?}");
}

#[test]
fn shards_run_with_replicas_or_a_filtered_matrix_merge_into_the_unsharded_document() {
    let dir = Scratch::new("merge-replicas");
    let f = file(&dir, "s.toml", &excluded_cell_scenario());
    merged_equals_whole(&dir, &f, &[]);
    merged_equals_whole(&dir, &f, &["--replicas", "3"]);
    let doc = json_of(&["run", &f, "--format", "json", "--replicas", "3"]);
    assert_eq!(doc["scenarios"][0]["provenance"]["replicas"], 3);
}

#[test]
fn merge_refuses_shards_run_with_different_replicas_naming_the_field() {
    let dir = Scratch::new("merge-replicas-differ");
    let f = file(&dir, "s.toml", &excluded_cell_scenario());
    let shard = |s: &str, n: &str| {
        json_of(&["run", &f, "--format", "json", "--shard", s, "--replicas", n]).to_string()
    };
    let (fa, fb) = (dir.arg("a.json"), dir.arg("b.json"));
    std::fs::write(&fa, shard("1/2", "2")).unwrap();
    std::fs::write(&fb, shard("2/2", "3")).unwrap();
    let stderr = refused(&["merge", &fa, &fb]);
    assert!(
        stderr.contains("`provenance.replicas` differs: `2` in"),
        "{stderr}"
    );
}

// ---------------------------------------------------------------------------------------------
// Item 2: a value under a key a [matrix] axis overrides is validated too.
// ---------------------------------------------------------------------------------------------

#[test]
fn a_bad_base_value_under_a_matrix_axis_is_refused_where_it_is_written() {
    let dir = Scratch::new("base-values");
    let oracle = std::fs::read_to_string("tests/fixtures/oracle.toml").unwrap();
    let fs = file(
        &dir,
        "fs.toml",
        &oracle.replace("fs = \"ext4\"", "fs = \"ext5\""),
    );
    let stderr = refused(&["validate", &fs]);
    assert!(
        stderr.contains("`mount.backup.fs`: found `ext5`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("matrix axis `mount.backup.fs` overrides"),
        "{stderr}"
    );
    let text = format!(
        "{}[matrix]\n\"task.writer.size\" = [\"1MiB\", \"2MiB\"]\n",
        writer_and_truncate("d", "1s").replace("size = \"8MiB\"", "size = \"5 parsecs\"")
    );
    let size = file(&dir, "size.toml", &text);
    let stderr = refused(&["validate", &size]);
    assert!(stderr.contains("`task.writer.size`"), "{stderr}");
    assert!(stderr.contains("parsecs"), "{stderr}");
}

// ---------------------------------------------------------------------------------------------
// Item 3: silent drops and late failures.
// ---------------------------------------------------------------------------------------------

#[test]
fn oom_report_and_vmstat_are_refused_with_csv_and_markdown_instead_of_dropped() {
    for flag in ["--oom-report", "--vmstat"] {
        for format in ["csv", "markdown"] {
            let stderr = refused(&[
                "run",
                "tests/fixtures/minimal.toml",
                flag,
                "--format",
                format,
            ]);
            assert!(
                stderr.contains(&format!("{flag} is printed after the tables")),
                "{stderr}"
            );
        }
    }
}

#[test]
fn an_unwritable_output_path_is_refused_before_the_first_simulation() {
    // A 10-minute simulated run would take seconds; the refusal must come first, with no output.
    for flag in ["--plot", "--trace", "--timeline", "--ftrace"] {
        let out = wbsim()
            .args([
                "run",
                "tests/fixtures/oracle.toml",
                flag,
                "/nonexistent-dir/x",
            ])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flag}: {stderr}");
        assert!(out.stdout.is_empty(), "{flag}: nothing simulated");
        assert!(
            stderr.contains(&format!("{flag} /nonexistent-dir/x: cannot write")),
            "{stderr}"
        );
    }
    let stderr = refused(&[
        "sweep",
        "tests/fixtures/minimal.toml",
        "--vary",
        "vm.dirty_ratio=10,20",
        "--plot",
        "/nonexistent-dir/x.svg",
    ]);
    assert!(
        stderr.contains("--plot /nonexistent-dir/x.svg: cannot write"),
        "{stderr}"
    );
}

#[test]
fn check_of_a_file_without_expect_exits_32_and_junit_counts_it_skipped() {
    let dir = Scratch::new("tconf");
    let junit = dir.arg("j.xml");
    let out = wbsim()
        .args(["check", "tests/fixtures/minimal.toml", "--junit", &junit])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(32),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("skipped=\"1\""), "{xml}");
    assert!(
        xml.contains("<skipped message=\"the file has no [expect] table"),
        "{xml}"
    );
}

#[test]
fn history_refuses_releases_not_oldest_first() {
    let stderr = refused(&[
        "history",
        "tests/fixtures/minimal.toml",
        "--releases",
        "3.2,2.6.32",
    ]);
    assert!(
        stderr.contains("`2.6.32` after `3.2`; list the kernels oldest first"),
        "{stderr}"
    );
    refused(&[
        "history",
        "tests/fixtures/minimal.toml",
        "--releases",
        "2.6.32,2.6.32",
    ]);
}

// ---------------------------------------------------------------------------------------------
// Item 4: error suffixes that mislead.
// ---------------------------------------------------------------------------------------------

#[test]
fn an_error_in_a_key_outside_the_matrix_names_no_matrix_cell() {
    let dir = Scratch::new("suffix");
    let oracle = std::fs::read_to_string("tests/fixtures/oracle.toml").unwrap();
    let f = file(
        &dir,
        "o.toml",
        &oracle.replace("dirty_ratio = 20", "dirty_ratio = \"lots\""),
    );
    let stderr = refused(&["validate", &f]);
    assert!(stderr.contains("`vm.dirty_ratio`"), "{stderr}");
    assert!(!stderr.contains("matrix cell"), "{stderr}");
}

// ---------------------------------------------------------------------------------------------
// Item 6: wrong results without an error.
// ---------------------------------------------------------------------------------------------

#[test]
fn a_truncate_that_starts_after_its_writer_finished_truncates_the_file() {
    let dir = Scratch::new("late-truncate");
    let f = file(&dir, "t.toml", &writer_and_truncate("d", "1s"));
    let doc = json_of(&["run", &f, "--format", "json", "--policy", "redirty"]);
    let run = &doc["scenarios"][0]["runs"][0];
    assert_eq!(run["outcome"]["kind"], "survived", "{run}");
    let cut = &run["tasks"][1];
    assert_eq!(cut["name"], "cut");
    let at = cut["finished_at_ns"]
        .as_u64()
        .expect("the truncate finished");
    assert!((1_000_000_000..1_100_000_000).contains(&at), "{cut}");
}

#[test]
fn a_write_size_beyond_max_rw_count_and_swap_beyond_2_32_pages_are_refused() {
    let dir = Scratch::new("sizes");
    let big_write =
        writer_and_truncate("d", "1s").replace("rate = ", "write_size = \"4EiB\"\nrate = ");
    let stderr = refused(&["validate", &file(&dir, "w.toml", &big_write)]);
    assert!(
        stderr.contains("`task.writer.write_size`") && stderr.contains("MAX_RW_COUNT"),
        "{stderr}"
    );
    for swap in ["1PiB", "15EiB"] {
        let text = scenario("").replace(
            "memory = \"256MiB\"",
            &format!("memory = \"256MiB\"\nswap = \"{swap}\"\nswap_disk = \"sdb\""),
        );
        let stderr = refused(&["validate", &file(&dir, "s.toml", &text)]);
        assert!(
            stderr.contains("`machine.swap`") && stderr.contains("2^32 pages"),
            "{swap}: {stderr}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Item 7: bounded work around the simulation.
// ---------------------------------------------------------------------------------------------

#[test]
fn a_legal_chain_of_4096_parent_links_validates_and_a_cycle_at_its_end_is_found() {
    let dir = Scratch::new("chain");
    let mut tasks = String::new();
    for i in 0..4096 {
        tasks.push_str(&format!(
            "[task.t{i}]\nkind = \"anon\"\nsize = \"4KiB\"\nrate = \"1MiB/s\"\n"
        ));
        if i > 0 {
            tasks.push_str(&format!("parent = \"t{}\"\n", i - 1));
        }
    }
    let f = file(&dir, "chain.toml", &scenario(&tasks));
    assert!(stdout_of(&["validate", &f], 0).contains("ok (2 runs)"));
    let cyclic = scenario(&tasks.replacen(
        "size = \"4KiB\"\n",
        "size = \"4KiB\"\nparent = \"t4095\"\n",
        1,
    ));
    let stderr = refused(&["validate", &file(&dir, "cycle.toml", &cyclic)]);
    assert!(
        stderr.contains("parent links form a cycle: t0 → t4095 → t4094"),
        "{stderr}"
    );
}

// ---------------------------------------------------------------------------------------------
// Item 8: minor.
// ---------------------------------------------------------------------------------------------

#[test]
fn help_written_to_a_full_device_exits_2() {
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full");
    let Ok(full) = full else {
        return; // no /dev/full on this system
    };
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("wbsim"))
        .arg("--help")
        .stdout(full)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_sample_interval_below_1ms_or_past_a_million_samples_is_refused_before_running() {
    let dir = Scratch::new("samples");
    let csv = dir.arg("t.csv");
    let stderr = refused(&[
        "run",
        "tests/fixtures/minimal.toml",
        "--timeline",
        &csv,
        "--sample-interval",
        "1ns",
    ]);
    assert!(stderr.contains("shorter than 1ms"), "{stderr}");
    // oracle: 4 runs of 10 minutes at 1 ms is 2.4 M samples.
    let stderr = refused(&[
        "run",
        "tests/fixtures/oracle.toml",
        "--timeline",
        &csv,
        "--sample-interval",
        "1ms",
    ]);
    assert!(
        stderr.contains("at most 1000000 are kept in memory"),
        "{stderr}"
    );
    assert!(!dir.path("t.csv").exists());
}

#[test]
fn reclaim_scanning_past_max_scanned_ends_the_run_as_stalled_saying_which_limit() {
    let doc = json_of(&[
        "run",
        "scenarios/oracle-backup.toml",
        "--set",
        "scenario.release=3.2",
        "--set",
        "vm.dirty_ratio=100",
        "--set",
        "mount.backup.fs=ext4",
        "--set",
        "scenario.max_scanned=1",
        "--policy",
        "redirty",
        "--format",
        "json",
    ]);
    let run = &doc["scenarios"][0]["runs"][0];
    assert_eq!(run["outcome"]["kind"], "stalled", "{}", run["outcome"]);
    let reason = run["outcome"]["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("scan limit (1 pages scanned by reclaim) reached"),
        "{reason}"
    );
    assert_eq!(
        run["events"].as_u64().unwrap() % 65_536,
        0,
        "looked at every 65 536 events"
    );
}

#[test]
fn an_expectation_is_checked_against_a_huge_matrix_without_listing_its_cells() {
    // 10^10 cells: refused by the run count, after the [expect] keys were matched axis by axis
    // (listing the cells took 8 GiB).
    let dir = Scratch::new("huge-matrix");
    let values: Vec<String> = (10..110).map(|v| v.to_string()).collect();
    let axis = format!("[{}]", values.join(", "));
    let text = format!(
        "{}[matrix]\n\"vm.dirty_ratio\" = {axis}\n\"vm.dirty_background_ratio\" = {axis}\n\
         \"vm.swappiness\" = {axis}\n\"vm.min_free_kbytes\" = [{}]\n\"scenario.seed\" = {axis}\n\
         [expect]\n\"*/*/*/*/*/redirty\" = \"survived\"\n",
        scenario(""),
        (1000..1100)
            .map(|v| v.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let stderr = refused(&["validate", &file(&dir, "m.toml", &text)]);
    assert!(
        stderr.contains("the matrix has more than 100000 cells"),
        "{stderr}"
    );
    // Narrowed by --set to 200 runs, the keys are matched against the full matrix's axes.
    let bad = text.replace("*/*/*/*/*/redirty", "*/*/*/*/*/redirt");
    let f = file(&dir, "m.toml", &bad);
    let mut args = vec!["check", f.as_str()];
    for set in [
        "vm.dirty_ratio=10",
        "vm.dirty_background_ratio=10",
        "vm.swappiness=10",
        "scenario.seed=10",
    ] {
        args.extend(["--set", set]);
    }
    let stderr = refused(&args);
    assert!(
        stderr.contains("matches no cell of the matrix; cells are: 10/10/10/1000/10/redirty"),
        "{stderr}"
    );
    assert!(
        stderr.contains("(and 20000000000 more)") || stderr.contains("more)"),
        "{stderr}"
    );
}

#[cfg(unix)]
#[test]
fn a_fifo_nothing_writes_to_is_an_error_not_a_hang_and_merge_reads_dev_zero_no_further_than_its_first_byte(
) {
    let dir = Scratch::new("fifo");
    let fifo = dir.arg("f.toml");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if made.is_ok_and(|s| s.success()) {
        let stderr = refused(&["validate", &fifo]);
        assert!(
            stderr.contains("nothing opened for writing within 10 s"),
            "{stderr}"
        );
    }
    let stderr = refused(&["merge", "/dev/zero"]);
    assert!(
        stderr.contains("/dev/zero: not a wbsim results document"),
        "{stderr}"
    );
}

#[test]
fn a_huge_bad_value_is_echoed_once_and_shortened() {
    let dir = Scratch::new("huge-value");
    let value = "x".repeat(1 << 20);
    let text =
        writer_and_truncate("d", "1s").replace("fs = \"ext4\"", &format!("fs = \"{value}\""));
    let stderr = refused(&["validate", &file(&dir, "v.toml", &text)]);
    assert!(stderr.len() < 4000, "{} bytes of error", stderr.len());
    assert!(stderr.contains("characters left out"), "{stderr}");
    let key = format!("{}[vm]\n{} = 1\n", scenario(""), "k".repeat(1 << 20));
    let stderr = refused(&["validate", &file(&dir, "k.toml", &key)]);
    assert!(stderr.len() < 4000, "{} bytes of error", stderr.len());
}

#[test]
fn an_oversized_pin_is_located_at_its_size() {
    let dir = Scratch::new("pin");
    let text = scenario("[task.sga]\nkind = \"pin\"\nmethod = \"mlock\"\nsize = \"300MiB\"\n");
    let stderr = refused(&["validate", &file(&dir, "p.toml", &text)]);
    assert!(
        stderr.contains(":22:8: `task.sga.size`: pinned memory"),
        "{stderr}"
    );
}

#[test]
fn a_threshold_search_on_a_duration_says_durations_are_not_searchable() {
    let stderr = refused(&[
        "sweep",
        "tests/fixtures/oracle.toml",
        "--find-threshold",
        "task.backup.start=1s..10s",
    ]);
    assert!(
        stderr.contains("`1s` is a duration; durations are not searchable"),
        "{stderr}"
    );
    assert!(!stderr.contains("unknown unit"), "{stderr}");
}

#[test]
fn a_bad_policy_axis_value_is_spelt_matrix_policy_as_the_policy_flag_spells_it() {
    let dir = Scratch::new("policy-key");
    let text = format!(
        "{}[matrix]\npolicy = [\"redirty\", \"activ\"]\n",
        scenario("")
    );
    let stderr = refused(&["validate", &file(&dir, "p.toml", &text)]);
    assert!(
        stderr.contains("`matrix.policy`: found `activ`"),
        "{stderr}"
    );
}
