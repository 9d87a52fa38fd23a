//! Properties over generated inputs (proptest): the loader answers any text with a scenario or a
//! located error and never panics; the engine keeps every invariant on small arbitrary machines;
//! the same spec and seed give the same result. The fuzzers in `fuzz/` run the same ideas for
//! millions of inputs; these keep a few hundred in the normal test suite.

use std::sync::Arc;

use proptest::prelude::*;
use wbsim::engine::simulate_checked;
use wbsim::mm::Options;
use wbsim::scenario::error::Source;
use wbsim::scenario::{load_source, Overrides, Scenario};

fn load(text: &str, ov: &Overrides) -> Result<Scenario, String> {
    let src = Arc::new(Source {
        name: "prop.toml".into(),
        text: text.into(),
    });
    load_source(&src, ov).map_err(|d| d.to_string())
}

/// Table headers, keys and values that reach every branch of validation: the right ones, near
/// misses, wrong types, zero, negative, huge and overflowing.
const HEADERS: &[&str] = &[
    "scenario",
    "machine",
    "vm",
    "disk.sda",
    "mount.data",
    "mount.shm",
    "task.a",
    "task.b",
    "matrix",
    "expect",
    "machne",
];
const KEYS: &[&str] = &[
    "name",
    "duration",
    "seed",
    "max_events",
    "release",
    "memory",
    "kernel_reserved",
    "swap",
    "swap_disk",
    "fake_numa_node_size",
    "nodes",
    "hz",
    "cpus",
    "dirty_ratio",
    "dirty_bytes",
    "min_free_kbytes",
    "swappiness",
    "bandwidth",
    "nr_requests",
    "seek",
    "fs",
    "disk",
    "options",
    "kind",
    "size",
    "rate",
    "method",
    "mount",
    "target",
    "parent",
    "attach",
    "cpuset",
    "start",
    "hold",
    "extra_vm",
    "\"vm.dirty_ratio\"",
    "\"machine.memory\"",
    "policy",
    "redirty",
    "\"*/activate\"",
    "memroy",
];
const VALUES: &[&str] = &[
    "\"1GiB\"",
    "\"64MiB\"",
    "\"1PiB\"",
    "\"99999999999EiB\"",
    "\"0MB/s\"",
    "\"100MB/s\"",
    "\"1B/s\"",
    "\"1s\"",
    "\"400days\"",
    "\"2.6.36\"",
    "\"ext3\"",
    "\"tmpfs\"",
    "\"sda\"",
    "\"data\"",
    "\"a\"",
    "\"b\"",
    "\"anon\"",
    "\"pin\"",
    "\"stream-write\"",
    "\"truncate\"",
    "\"shm\"",
    "\"oom\"",
    "0",
    "-1",
    "1",
    "7",
    "250",
    "9223372036854775807",
    "true",
    "[]",
    "[0, 1]",
    "[\"512MiB\", \"512MiB\"]",
    "[10, 20]",
    "[\"redirty\"]",
    "[\"data=writeback\", \"commit=0\"]",
    "{ outcome = \"oom\", victim = \"a\" }",
    "1s",
    "\"",
];

prop_compose! {
    /// A scenario-shaped text: lines drawn from the tables above, in any order.
    fn scenario_text()(lines in prop::collection::vec(
        (0..HEADERS.len(), 0..KEYS.len(), 0..VALUES.len(), 0..6u8), 0..40)) -> String {
        let mut text = String::from("[scenario]\nname = \"p\"\nduration = \"1s\"\n[machine]\nmemory = \"1GiB\"\n");
        for (h, k, v, shape) in lines {
            match shape {
                0 => text.push_str(&format!("[{}]\n", HEADERS[h])),
                _ => text.push_str(&format!("{} = {}\n", KEYS[k], VALUES[v])),
            }
        }
        text
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    /// Any bytes: a scenario or an error, never a panic; an error renders.
    #[test]
    fn the_loader_never_panics_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = load(&text, &Overrides::default());
    }

    /// Scenario-shaped text, with a `--set`: a scenario whose runs are all valid, or an error
    /// that names the file.
    #[test]
    fn the_loader_never_panics_on_scenario_shaped_text(
        text in scenario_text(),
        set in (0..KEYS.len(), 0..VALUES.len()),
    ) {
        match load(&text, &Overrides::default()) {
            Ok(sc) => prop_assert!(!sc.runs.is_empty()),
            Err(e) => prop_assert!(e.starts_with("prop.toml"), "{}", e),
        }
        let ov = Overrides {
            sets: vec![(format!("vm.{}", KEYS[set.0]), VALUES[set.1].to_string())],
            ..Overrides::default()
        };
        if let Err(e) = load(&text, &ov) {
            prop_assert!(e.starts_with("prop.toml"), "{}", e);
        }
    }
}

/// Every release the engine follows: the 2.6.3x rules and the later-kernel profiles.
const RELEASES: [&str; 17] = [
    "2.6.32.0", "2.6.32", "2.6.33", "2.6.34", "2.6.35", "2.6.36", "2.6.37", "2.6.39", "3.2", "3.3",
    "3.9", "3.11", "3.14", "4.8", "4.11", "5.16", "mainline",
];

prop_compose! {
    /// A small valid machine and workload: 4–19 MiB, a disk, one or two mounts, up to four
    /// tasks, at most 3000 events (every event is followed by a full recount).
    fn small_scenario()(
        release in 0..RELEASES.len(),
        seed in 0..1000u64,
        memory in 4..20u32,
        fake_numa in any::<bool>(),
        swap in 0..8u32,
        bandwidth in 1..200u32,
        fs in 0..5usize,
        dirty_ratio in 1..60u32,
        tasks in prop::collection::vec((0..4usize, 1..6000u32, 1..400u32, 0..300u32), 1..5),
    ) -> String {
        const FS: [&str; 5] = ["ext3", "ext4", "btrfs", "xfs", "tmpfs"];
        let mut s = format!(
            "[scenario]\nname = \"p\"\nrelease = \"{}\"\nseed = {seed}\nduration = \"5s\"\nmax_events = 3000\n\
             [machine]\nmemory = \"{memory}MiB\"\n",
            RELEASES[release]
        );
        if fake_numa && memory >= 8 {
            s += &format!("fake_numa_node_size = \"{}MiB\"\n", memory / 2);
        }
        if swap > 0 {
            s += &format!("swap = \"{swap}MiB\"\nswap_disk = \"sda\"\n");
        }
        s += &format!("[vm]\ndirty_ratio = {dirty_ratio}\n");
        s += &format!("[disk.sda]\nbandwidth = \"{bandwidth}MB/s\"\n");
        s += &format!("[mount.data]\nfs = \"{}\"\n", FS[fs]);
        if FS[fs] != "tmpfs" {
            s += "disk = \"sda\"\n";
        }
        for (i, (kind, kib, rate_mib, start_ms)) in tasks.iter().enumerate() {
            s += &format!("[task.t{i}]\nstart = \"{start_ms}ms\"\n");
            s += &match kind {
                0 => format!("kind = \"anon\"\nsize = \"{kib}KiB\"\nrate = \"{rate_mib}MiB/s\"\n"),
                1 => format!("kind = \"stream-write\"\nmount = \"data\"\nsize = \"{}KiB\"\nrate = \"{rate_mib}MiB/s\"\n", kib * 8),
                2 => format!("kind = \"stream-read\"\nmount = \"data\"\nsize = \"{kib}KiB\"\nrate = \"{rate_mib}MiB/s\"\n"),
                _ => format!("kind = \"pin\"\nmethod = \"mlock\"\nsize = \"{}KiB\"\n", kib / 4 + 4),
            };
        }
        s
    }
}

const CHECKED: Options = Options {
    stop_at_first_oom: true,
    check_invariants: true,
    handle_every_event: false,
};

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Every invariant holds after every event of every run of a small arbitrary scenario.
    #[test]
    fn the_engine_keeps_its_invariants(text in small_scenario()) {
        let Ok(sc) = load(&text, &Overrides::default()) else {
            return Ok(()); // e.g. pinned more than memory: refused, as it should be
        };
        for run in &sc.runs {
            if let Err(v) = simulate_checked(&run.spec, CHECKED) {
                prop_assert!(false, "{}\n--- scenario ---\n{}", v, text);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    /// The same spec and seed give the same result, counter for counter.
    #[test]
    fn the_same_seed_gives_the_same_result(text in small_scenario()) {
        let Ok(sc) = load(&text, &Overrides::default()) else {
            return Ok(());
        };
        let runner = wbsim::run::Runner {
            threads: 1,
            checks: wbsim::run::Checks { invariants: true, determinism: true, ..Default::default() },
            observe: None,
            progress: false,
            tally: Default::default(),
        };
        if let Err(message) = runner.run_one(&sc.runs[0].spec) {
            prop_assert!(false, "{}\n--- scenario ---\n{}", message, text);
        }
    }
}
