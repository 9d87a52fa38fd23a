//! Every class of bad input, end to end: exit code 2, nothing on stdout, and on stderr the file,
//! line and column with a caret excerpt, the dotted key, what was found and what is accepted, and
//! a "did you mean" where a near miss is likely. One test per class, each on a fixture in
//! `tests/fixtures/bad/` (or a command line) a reader can open.

use crate::support::wbsim;
use predicates::prelude::*;
use predicates::str::contains;

/// What a rejected fixture's message must hold.
struct Expect<'a> {
    /// `:line:col` after the file name.
    at: &'a str,
    /// The dotted key.
    key: &'a str,
    /// Pieces of the message: what was found and what is accepted.
    says: &'a [&'a str],
    /// The "did you mean" hint, when one is expected.
    hint: Option<&'a str>,
}

/// `wbsim validate`, `run` and `check` each reject `tests/fixtures/bad/<name>.toml` as `e` says.
fn rejects(name: &str, e: Expect<'_>) {
    let file = format!("tests/fixtures/bad/{name}.toml");
    for cmd in ["validate", "run", "check"] {
        let out = wbsim().args([cmd, &file]).output().expect("runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{cmd} {file}: {stderr}");
        assert!(out.stdout.is_empty(), "{cmd} {file}: stdout is data only");
        let head = format!("error: {file}{}: `{}`: ", e.at, e.key);
        assert!(
            stderr.starts_with(&head),
            "{cmd} {file}: want `{head}…`, got:\n{stderr}"
        );
        for piece in e.says {
            assert!(
                stderr.contains(piece),
                "{cmd} {file}: want `{piece}` in:\n{stderr}"
            );
        }
        let line = e.at.split(':').nth(1).expect(":line:col");
        assert!(
            stderr.contains(&format!("\n{line} | ")) && stderr.contains('^'),
            "{cmd} {file}: a caret excerpt of line {line}:\n{stderr}"
        );
        if let Some(hint) = e.hint {
            assert!(
                stderr.contains(hint),
                "{cmd} {file}: want `{hint}` in:\n{stderr}"
            );
        }
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn a_toml_syntax_error_points_at_the_bad_token() {
    rejects(
        "syntax",
        Expect {
            at: ":3:13",
            key: "scenario.duration",
            says: &["TOML syntax error: expected newline, `#`"],
            hint: Some("did you mean `duration = \"1s\"`? sizes, rates, durations and names are strings in quotes"),
        },
    );
}

#[test]
fn an_unknown_key_lists_the_accepted_keys_and_the_near_miss() {
    rejects(
        "unknown-key",
        Expect {
            at: ":6:1",
            key: "machine.memroy",
            says: &["unknown key `memroy`", "accepted keys: memory"],
            hint: Some("did you mean `memory`?"),
        },
    );
}

#[test]
fn a_key_of_another_task_kind_says_which_kinds_take_it() {
    rejects(
        "wrong-kind-key",
        Expect {
            at: ":12:1",
            key: "task.sga.rate",
            says: &["`pin` tasks take: kind, start"],
            hint: None,
        },
    );
}

#[test]
fn a_wrong_type_says_what_was_found_and_what_is_expected() {
    rejects(
        "wrong-type",
        Expect {
            at: ":9:15",
            key: "vm.dirty_ratio",
            says: &["found a string `\"20\"`", "expected an integer in 0..=100"],
            hint: None,
        },
    );
}

#[test]
fn a_size_with_a_misspelt_unit_suggests_the_unit() {
    rejects(
        "bad-size",
        Expect {
            at: ":6:10",
            key: "machine.memory",
            says: &["unknown unit", "units are B, KiB, MiB, GiB"],
            hint: Some("did you mean `GiB`?"),
        },
    );
}

#[test]
fn a_rate_with_a_misspelt_unit_suggests_the_unit() {
    rejects(
        "bad-rate",
        Expect {
            at: ":9:13",
            key: "disk.sdb.bandwidth",
            says: &["unknown unit `Mb`", "in the rate `100Mb/s`"],
            hint: Some("did you mean `MB`?"),
        },
    );
}

#[test]
fn a_bad_duration_shows_the_accepted_forms() {
    rejects(
        "bad-duration",
        Expect {
            at: ":3:12",
            key: "scenario.duration",
            says: &["is not a duration", "expected a duration such as `8ms`"],
            hint: None,
        },
    );
}

#[test]
fn a_negative_size_is_refused() {
    rejects(
        "negative-size",
        Expect {
            at: ":10:8",
            key: "task.hog.size",
            says: &[
                "found -5",
                "sizes cannot be negative",
                "expected a size such as",
            ],
            hint: None,
        },
    );
}

#[test]
fn a_zero_bandwidth_is_refused() {
    rejects(
        "zero-bandwidth",
        Expect {
            at: ":9:13",
            key: "disk.sdb.bandwidth",
            says: &["found \"0MB/s\"", "must be greater than zero"],
            hint: None,
        },
    );
}

#[test]
fn a_size_beyond_u64_is_an_overflow_not_a_wrap() {
    rejects(
        "overflow",
        Expect {
            at: ":6:10",
            key: "machine.memory",
            says: &["`99999999999EiB` is too large", "16EiB"],
            hint: None,
        },
    );
}

#[test]
fn memory_beyond_the_kernels_is_refused_with_a_way_forward() {
    rejects(
        "huge-memory",
        Expect {
            at: ":6:10",
            key: "machine.memory",
            says: &[
                "at most 64TiB",
                "Scale the machine and its workload down together",
            ],
            hint: None,
        },
    );
}

#[test]
fn a_machine_too_large_to_simulate_page_by_page_is_refused_before_allocating() {
    rejects(
        "too-many-pages",
        Expect {
            at: ":6:10",
            key: "machine.memory",
            says: &[
                "(67108864 pages)",
                "at most 16777216 pages (64GiB) per run",
                "Set machine.page_granularity = \"16KiB\"",
                "a factor of 4 gives memory = \"64GiB\"",
            ],
            hint: None,
        },
    );
}

#[test]
fn a_page_granularity_that_is_not_a_power_of_two_lists_the_accepted_sizes() {
    rejects(
        "bad-granularity",
        Expect {
            at: ":7:20",
            key: "machine.page_granularity",
            says: &[
                "found \"48KiB\" (49152 bytes)",
                "a power of two from 4KiB",
                "4KiB, 8KiB, 16KiB, 32KiB, 64KiB, 128KiB",
            ],
            hint: None,
        },
    );
}

#[test]
fn a_page_granularity_past_128_kib_says_why_that_is_the_limit() {
    rejects(
        "granularity-too-coarse",
        Expect {
            at: ":7:20",
            key: "machine.page_granularity",
            says: &["found \"2MiB\"", "to 128KiB (SWAP_CLUSTER_MAX kernel pages"],
            hint: None,
        },
    );
}

#[test]
fn memory_in_part_of_a_simulated_page_gives_the_nearest_whole_sizes() {
    rejects(
        "memory-not-whole-pages",
        Expect {
            at: ":6:10",
            key: "machine.memory",
            says: &[
                "not a multiple of the 65536-byte simulated page (machine.page_granularity = \"64KiB\")",
                "\"1000064KiB\" or \"1000128KiB\"",
            ],
            hint: None,
        },
    );
}

#[test]
fn a_page_granularity_that_would_merge_watermarks_names_the_zone_and_the_finest_that_fits() {
    rejects(
        "granularity-merges-watermarks",
        Expect {
            at: ":11:20",
            key: "machine.page_granularity",
            says: &[
                "node 0's DMA32 zone (112MiB) has min/low/high watermarks of 28/35/42 kernel pages",
                "round down to 1/2/2",
                "Expected at most \"32KiB\" for this machine",
            ],
            hint: None,
        },
    );
}

#[test]
fn set_page_granularity_with_a_bad_size_names_the_argument() {
    wbsim()
        .args([
            "run",
            "tests/fixtures/minimal.toml",
            "--set",
            "machine.page_granularity=3KiB",
        ])
        .assert()
        .code(2)
        .stdout("")
        .stderr(
            contains("in `--set machine.page_granularity=3KiB`")
                .and(contains("`machine.page_granularity`: found \"3KiB\""))
                .and(contains("panicked").not()),
        );
}

#[test]
fn pinning_more_than_memory_is_refused() {
    rejects(
        "pinned-too-much",
        Expect {
            at: ":11:8",
            key: "task.sga.size",
            says: &["pinned memory", "must be less than machine.memory"],
            hint: None,
        },
    );
}

#[test]
fn a_node_larger_than_memory_is_refused() {
    rejects(
        "node-too-large",
        Expect {
            at: ":7:23",
            key: "machine.fake_numa_node_size",
            says: &[
                "found 2147483648 bytes",
                "cannot be larger than machine.memory",
            ],
            hint: None,
        },
    );
}

#[test]
fn node_sizes_that_exceed_memory_are_refused() {
    rejects(
        "nodes-exceed-memory",
        Expect {
            at: ":7:9",
            key: "machine.nodes",
            says: &["add up to 1610612736 bytes", "they must be equal"],
            hint: None,
        },
    );
}

#[test]
fn a_reserve_larger_than_memory_is_refused() {
    rejects(
        "reserve-too-large",
        Expect {
            at: ":9:19",
            key: "vm.min_free_kbytes",
            says: &["found 2000000", "smaller than machine.memory (1048576 KiB)"],
            hint: None,
        },
    );
}

#[test]
fn a_duration_longer_than_a_year_is_refused() {
    rejects(
        "too-long",
        Expect {
            at: ":3:12",
            key: "scenario.duration",
            says: &["found \"400days\"", "at most `365days`"],
            hint: None,
        },
    );
}

#[test]
fn an_event_limit_beyond_the_maximum_is_refused() {
    rejects(
        "too-many-events",
        Expect {
            at: ":4:14",
            key: "scenario.max_events",
            says: &["found 99999999999", "an integer in 1..=10000000000"],
            hint: None,
        },
    );
}

#[test]
fn a_rate_too_slow_to_finish_in_any_run_is_refused() {
    rejects(
        "too-slow",
        Expect {
            at: ":11:8",
            key: "task.hog.rate",
            says: &[
                "found \"1B/s\"",
                "more than the longest run",
                "expected a faster rate",
            ],
            hint: None,
        },
    );
}

#[test]
fn a_reference_to_a_missing_disk_names_the_declared_ones() {
    rejects(
        "missing-disk",
        Expect {
            at: ":13:8",
            key: "mount.backup.disk",
            says: &["there is no disk", "declared: `sdb`"],
            hint: Some("did you mean `sdb`?"),
        },
    );
}

#[test]
fn a_reference_to_a_missing_mount_names_the_declared_ones() {
    rejects(
        "missing-mount",
        Expect {
            at: ":17:9",
            key: "task.dd.mount",
            says: &["there is no mount", "declared: `backup`"],
            hint: Some("did you mean `backup`?"),
        },
    );
}

#[test]
fn a_reference_to_a_missing_task_names_the_declared_ones() {
    rejects(
        "missing-task",
        Expect {
            at: ":12:10",
            key: "task.oracle.parent",
            says: &["there is no task"],
            hint: Some("did you mean `oracle`?"),
        },
    );
}

#[test]
fn a_cpuset_naming_a_nonexistent_node_gives_the_node_range() {
    rejects(
        "missing-node",
        Expect {
            at: ":13:14",
            key: "task.hog.cpuset",
            says: &[
                "there is no node 4",
                "node ids in 0..4 (the machine has 4 nodes)",
            ],
            hint: None,
        },
    );
}

#[test]
fn mpol_bind_outside_the_cpuset_is_refused_at_load() {
    // set_mempolicy(MPOL_BIND) with no node of the cpuset fails (mpol_set_nodemask()).
    rejects(
        "membind-outside-cpuset",
        Expect {
            at: ":14:11",
            key: "task.hog.membind",
            says: &["shares no node with the task's `cpuset`"],
            hint: None,
        },
    );
}

#[test]
fn a_misspelt_value_suggests_the_value() {
    rejects(
        "bad-enum",
        Expect {
            at: ":12:6",
            key: "mount.backup.fs",
            says: &[
                "found `ext5`",
                "`ext3`, `ext4`, `btrfs`, `xfs`, `tmpfs` or `blockdev`",
            ],
            hint: Some("did you mean `ext4`?"),
        },
    );
}

#[test]
fn an_empty_matrix_axis_is_refused() {
    rejects(
        "empty-matrix",
        Expect {
            at: ":9:20",
            key: "matrix.\"vm.dirty_ratio\"",
            says: &["give at least one value"],
            hint: None,
        },
    );
}

#[test]
fn a_matrix_axis_on_an_unknown_path_suggests_the_key() {
    rejects(
        "unknown-matrix-path",
        Expect {
            at: ":9:1",
            key: "matrix.\"vm.dirty_ration\"",
            says: &["dirty_ration"],
            hint: Some("did you mean `dirty_ratio`?"),
        },
    );
}

#[test]
fn a_bad_matrix_value_names_the_axis_and_the_cell() {
    rejects(
        "matrix-value",
        Expect {
            at: ":9:25",
            key: "vm.dirty_ratio",
            says: &[
                "expected an integer in 0..=100",
                "value of matrix axis `vm.dirty_ratio`, in cell `200/redirty`",
                "9 | \"vm.dirty_ratio\" = [20, 200]\n  |                         ^^^",
            ],
            hint: None,
        },
    );
}

#[test]
fn an_expectation_naming_an_unknown_cell_lists_the_cells() {
    rejects(
        "expect-no-cell",
        Expect {
            at: ":12:1",
            key: "expect.\"30/redirty\"",
            says: &["matches no cell", "cells are: 10/redirty, 10/activate"],
            hint: None,
        },
    );
}

#[test]
fn set_on_a_path_that_does_not_exist_suggests_the_key() {
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
            contains(
                "error: tests/fixtures/minimal.toml: in `--set vm.swapiness=0`: `vm.swapiness`",
            )
            .and(contains("did you mean `swappiness`?"))
            .and(contains("panicked").not()),
        );
}

#[test]
fn set_with_a_value_of_the_wrong_type_names_the_argument_and_the_range() {
    wbsim()
        .args([
            "run",
            "tests/fixtures/minimal.toml",
            "--set",
            "vm.dirty_ratio=lots",
        ])
        .assert()
        .code(2)
        .stdout("")
        .stderr(
            contains("in `--set vm.dirty_ratio=lots`")
                .and(contains("`vm.dirty_ratio`"))
                .and(contains("expected an integer in 0..=100")),
        );
}

#[test]
fn a_missing_file_is_named() {
    wbsim()
        .args(["validate", "tests/fixtures/no-such-file.toml"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(
            contains("error: tests/fixtures/no-such-file.toml: cannot read the scenario file")
                .and(contains("No such file")),
        );
}

#[test]
fn an_unreadable_path_is_named() {
    // A path through a regular file: unreadable for any user, root included.
    wbsim()
        .args(["run", "tests/fixtures/minimal.toml/inner.toml"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(
            contains("tests/fixtures/minimal.toml/inner.toml: cannot read the scenario file")
                .and(contains("Not a directory")),
        );
}

#[test]
fn a_directory_given_as_a_file_is_named() {
    wbsim()
        .args(["check", "tests/fixtures"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(contains(
            "error: tests/fixtures: is a directory, not a scenario file (expected a .toml file)",
        ));
}

#[test]
fn a_non_utf8_file_gives_the_position_of_the_first_bad_byte() {
    wbsim()
        .args(["validate", "tests/fixtures/non-utf8.bin"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(
            contains("error: tests/fixtures/non-utf8.bin:2:12: the file is not valid UTF-8")
                .and(contains("scenario files must be UTF-8 text")),
        );
}

#[cfg(unix)]
#[test]
fn an_endless_file_is_refused_after_16_mib() {
    wbsim()
        .args(["validate", "/dev/zero"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(contains("error: /dev/zero: larger than 16MiB"));
}

#[test]
fn a_reader_on_a_diskless_mount_is_refused() {
    // Found by tests/properties.rs: the engine used to reach `unreachable!` here.
    rejects(
        "read-from-tmpfs",
        Expect {
            at: ":13:9",
            key: "task.reader.mount",
            says: &[
                "`shm` is a tmpfs mount",
                "needs a mount with a disk (there is none)",
            ],
            hint: None,
        },
    );
}

#[test]
fn a_hugetlb_pool_larger_than_the_zones_it_comes_from_is_refused() {
    // 60 MiB is less than memory, but the pool comes from DMA32 only (DMA holds 16 MiB): the
    // engine used to panic carving it at boot.
    rejects(
        "hugetlb-beyond-zones",
        Expect {
            at: ":11:8",
            key: "task.pool.size",
            says: &[
                "the hugetlb pools need 15360 pages",
                "highest zone of each node",
                "at most 46MiB",
            ],
            hint: None,
        },
    );
}

#[test]
fn a_touch_interval_on_memory_reclaim_never_tests_is_refused() {
    rejects(
        "touch-on-hugetlb",
        Expect {
            at: ":12:18",
            key: "task.sga.touch_interval",
            says: &["never tests its", "`method = \"shm\"`"],
            hint: None,
        },
    );
}

#[test]
fn a_hot_size_beyond_the_region_is_refused() {
    rejects(
        "hot-size-beyond-size",
        Expect {
            at: ":13:12",
            key: "task.pga.hot_size",
            says: &["found \"300MiB\"", "at most its size"],
            hint: None,
        },
    );
}

#[test]
fn a_boot_slab_larger_than_memory_is_refused_at_its_inodes() {
    rejects(
        "slab-too-large",
        Expect {
            at: ":10:10",
            key: "machine.slab.inodes",
            says: &[
                "found 200000 dentries and 5000000 inodes",
                "must be less than machine.memory (1073741824 bytes)",
            ],
            hint: None,
        },
    );
}

#[test]
fn an_unknown_machine_slab_key_lists_dentries_and_inodes() {
    rejects(
        "slab-unknown-key",
        Expect {
            at: ":9:1",
            key: "machine.slab.dentry",
            says: &["unknown key `dentry`", "accepted keys: dentries, inodes"],
            hint: Some("did you mean `dentries`?"),
        },
    );
}
