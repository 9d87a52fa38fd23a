//! A run that differs from an earlier one only in its policy reuses that run's result when the
//! earlier run never let the policy decide anything, and is simulated when it did: either way the
//! results equal simulating every run on its own. Likewise a paced task's sleeps that nothing
//! else would interrupt are accounted for without their events (`Machine::wake_inline`).

use std::path::Path;

use wbsim::engine::simulate;
use wbsim::exec::policy_twins;
use wbsim::run::{Checks, Job, Runner};
use wbsim::scenario::{load, Overrides};

/// A runner of two threads with no checks, no observation, no progress bar.
fn two_threads() -> Runner {
    Runner {
        threads: 2,
        checks: Checks::default(),
        observe: None,
        progress: false,
        tally: Default::default(),
    }
}

/// One job per run of `sc`, named by its label.
fn jobs_of(sc: &wbsim::scenario::Scenario) -> Vec<Job<'_>> {
    sc.runs
        .iter()
        .map(|r| Job {
            spec: &r.spec,
            name: r.label.clone(),
        })
        .collect()
}

/// fake-numa-128m on a 2 GiB box (16 nodes) with the 20MB/s disk: ext4 refuses reclaim's
/// writepage, ext3 never does. (At 100MB/s, with the slab and jbd handles of this branch, reclaim
/// never meets a dirty ext4 page: writepage_refused 0, the flusher wrote 127813 pages; main 0ccf3c1
/// refused 3807 with 108107 written, so that cell no longer lets the policy decide anything.)
fn small_fake_numa() -> wbsim::scenario::Scenario {
    let sets = [
        ("machine.memory", "2GiB"),
        ("task.batch.size", "512MiB"),
        ("task.batch.cpuset", "[8, 9, 10, 11, 12, 13, 14, 15]"),
        ("task.logger.size", "512MiB"),
        ("disk.sda.bandwidth", "20MB/s"),
    ];
    let o = Overrides {
        sets: sets
            .iter()
            .map(|(p, v)| ((*p).to_string(), (*v).to_string()))
            .collect(),
        ..Default::default()
    };
    load(Path::new("scenarios/fake-numa-128m.toml"), &o).expect("scenario loads")
}

#[test]
fn reused_and_simulated_runs_equal_simulating_every_run_on_its_own() {
    let sc = small_fake_numa();
    let jobs = jobs_of(&sc);
    let labels: Vec<&str> = sc.runs.iter().map(|r| r.label.as_str()).collect();
    assert_eq!(
        labels,
        [
            "20MB/s/ext4/redirty",
            "20MB/s/ext4/activate",
            "20MB/s/ext3/redirty",
            "20MB/s/ext3/activate"
        ]
    );
    // Each activate run is paired with its redirty run.
    let specs: Vec<_> = jobs.iter().map(|j| j.spec).collect();
    assert_eq!(policy_twins(&specs), [None, Some(0), None, Some(2)]);
    let runner = two_threads();
    let together: Vec<_> = runner
        .run(&jobs)
        .expect("no check asked for")
        .into_iter()
        .map(|out| out.result)
        .collect();
    let alone: Vec<_> = sc.runs.iter().map(|r| simulate(&r.spec)).collect();
    assert!(together == alone, "results differ from simulating each run");
    // ext4 let the policy decide (the activate run differs, so it was simulated); ext3 never did.
    assert!(alone[0].policy_decisions > 0 && alone[0].writepage_refused > 0);
    assert!(alone[0] != alone[1]);
    assert_eq!(alone[2].policy_decisions, 0);
    assert!(alone[2] == alone[3]);
}

#[test]
fn kernels_with_the_same_switches_are_one_run_and_a_switch_apart_are_two() {
    // 6.1 is 5.18's rules under its own name; mainline adds reclaim_fs_writepage=never.
    let spec = |profile: &str| {
        let mut s = small_fake_numa().runs[2].spec.clone();
        let k = wbsim::kernel::Kernel::profile(profile).expect("a profile");
        s.release = k.base;
        s.kernel = k;
        s
    };
    let (a, b, c) = (spec("5.18"), spec("6.1"), spec("mainline"));
    let mut b_activate = b.clone();
    b_activate.policy = wbsim::spec::Policy::Activate;
    assert_eq!(
        policy_twins(&[&a, &b, &c, &b_activate]),
        [None, Some(0), None, Some(0)]
    );
    // The twin's run is the first one's: the engine never reads the profile's name.
    assert!(simulate(&a) == simulate(&b));
}

/// `small_fake_numa()`'s run `index` under kernel `profile`.
fn under(index: usize, profile: &str) -> wbsim::spec::RunSpec {
    let mut s = small_fake_numa().runs[index].spec.clone();
    let k = wbsim::kernel::Kernel::profile(profile).expect("a profile");
    s.release = k.base;
    s.kernel = k;
    s
}

/// [`under`] 4.17 on blk-mq (`io_scheduler = "mq-deadline"`, `block_congestion = "never"`): the kernel
/// that 5.6 differs from only in `ext4_dioread_nolock_default`.
fn under_4_17_blk_mq(index: usize) -> wbsim::spec::RunSpec {
    let mut s = under(index, "4.17");
    for (key, value) in [
        ("io_scheduler", "mq-deadline"),
        ("block_congestion", "never"),
    ] {
        s.kernel.set(key, value).expect("a switch value");
    }
    s
}

#[test]
fn kernels_a_switch_of_an_unmounted_filesystem_apart_are_one_run() {
    // 5.6 differs from 4.17 on blk-mq only in ext4_dioread_nolock_default, which only an ext4
    // mount reads: the ext3 cell is one run under both, the ext4 cell two.
    let (ext3_old, ext3_new) = (under_4_17_blk_mq(2), under(2, "5.6"));
    let (ext4_old, ext4_new) = (under_4_17_blk_mq(0), under(0, "5.6"));
    let mut ext3_new_activate = ext3_new.clone();
    ext3_new_activate.policy = wbsim::spec::Policy::Activate;
    assert_eq!(
        policy_twins(&[
            &ext3_old,
            &ext3_new,
            &ext4_old,
            &ext4_new,
            &ext3_new_activate
        ]),
        [None, Some(0), None, None, Some(0)]
    );
    // The same run: the engine never reads the switch without an ext4 mount.
    assert!(simulate(&ext3_old) == simulate(&ext3_new));
}

#[test]
fn a_run_with_the_same_engine_input_is_reused_whatever_its_policy_decided() {
    // The ext4 cell lets the policy decide (writepage refused), so its activate run under 3.4 is
    // simulated, while 6.1's run is 5.18's (the same switches) and 5.6's ext3 run is 4.17's on
    // blk-mq (5.6 adds only ext4's dioread_nolock default to that): those two take the earlier
    // result although the policy decided something there.
    let mut specs = [
        under(0, "3.4"),
        under(0, "3.4"),
        under(0, "5.18"),
        under(0, "6.1"),
        under_4_17_blk_mq(2),
        under(2, "5.6"),
    ];
    specs[1].policy = wbsim::spec::Policy::Activate;
    let jobs: Vec<Job<'_>> = specs
        .iter()
        .map(|spec| Job {
            spec,
            name: String::new(),
        })
        .collect();
    let runner = two_threads();
    let together: Vec<_> = runner
        .run(&jobs)
        .expect("no check asked for")
        .into_iter()
        .map(|out| out.result)
        .collect();
    assert!(together[0].policy_decisions > 0 && together[2].policy_decisions > 0);
    let alone: Vec<_> = specs.iter().map(simulate).collect();
    assert!(together == alone, "results differ from simulating each run");
    let t = &runner.tally;
    assert_eq!(
        (t.simulated(), t.exact_twins(), t.policy_twins()),
        (4, 2, 0)
    );
}

#[test]
fn a_study_simulates_each_distinct_run_once() {
    // 4 runs per kernel (2 cells × 2 policies) × 2 replicas, and history's deterministic runs
    // (4 per kernel): 24 runs over 4.17 and 5.6, both on blk-mq (its scheduler and congestion
    // switches set). The ext3
    // cell's runs under 5.6 are 4.17's (5.6 adds only ext4's dioread_nolock default to that):
    // 6 exact twins (4 study, 2 history); the ext3
    // activate runs are policy twins (the policy decides nothing there): 3 under 4.17, none
    // left to reuse under 5.6.
    let src = wbsim::scenario::read_source(Path::new("scenarios/fake-numa-128m.toml"))
        .expect("the scenario reads");
    let mut ov = Overrides {
        sets: [
            ("machine.memory", "2GiB"),
            ("task.batch.size", "512MiB"),
            ("task.batch.cpuset", "[8, 9, 10, 11, 12, 13, 14, 15]"),
            ("task.logger.size", "512MiB"),
            ("disk.sda.bandwidth", "20MB/s"),
            ("kernel.io_scheduler", "mq-deadline"),
            ("kernel.block_congestion", "never"),
        ]
        .iter()
        .map(|(p, v)| ((*p).to_string(), (*v).to_string()))
        .collect(),
        ..Default::default()
    };
    ov.replicas = Some(2);
    let runner = two_threads();
    let releases = ["4.17".to_string(), "5.6".to_string()];
    let study = wbsim::study::study(&src, &ov, &releases, None, &runner).expect("a study");
    assert_eq!(study.releases.len(), 2);
    let t = &runner.tally;
    assert_eq!(t.simulated() + t.exact_twins() + t.policy_twins(), 24);
    assert_eq!(t.exact_twins(), 6);
    assert_eq!(t.policy_twins(), 3);
    assert_eq!(t.simulated(), 15);
}

#[test]
fn a_margin_probe_at_a_cell_s_own_value_is_the_cell_s_run() {
    // straddle's session is 902.5MiB; the search's first probe (the range's low end) is that
    // value, so its two replicas under each policy are the table's runs, not simulated again.
    let src = wbsim::scenario::read_source(Path::new("tests/fixtures/straddle.toml"))
        .expect("the fixture reads");
    let ov = Overrides {
        replicas: Some(2),
        ..Default::default()
    };
    let sc = wbsim::scenario::load_source(&src, &ov).expect("the fixture loads");
    let jobs = jobs_of(&sc);
    let runner = two_threads();
    let table = runner.run(&jobs).expect("no check asked for");
    assert_eq!(table.len(), 4);
    // Within the table, activate may only be a policy twin; no run is another's exact twin.
    assert_eq!(runner.tally.exact_twins(), 0);
    let arg = wbsim::margin::parse("task.oracle.size=902.5MiB..904.5MiB:2MiB").expect("a range");
    let margins = wbsim::margin::search(&src, &ov, &arg, &runner).expect("a search");
    assert_eq!(margins.len(), 2);
    // Two points (both ends, no midpoint): the low end's 4 runs are the table's.
    assert_eq!(runner.tally.exact_twins(), 4, "{:?}", runner.tally);
}

#[test]
fn an_observed_run_sees_the_same_spans_samples_and_tracepoints_whether_paced_tasks_wake_inline_or_not(
) {
    // A recorder is told at an inline wake-up what the engine would have told it between the
    // two events (`Machine::wake_inline`): its timeline, spans and trace are those of the run
    // that handles every event (`handle_every_event`).
    let sc = load(Path::new("benches/tiny.toml"), &Overrides::default()).unwrap();
    let spec = sc.runs[0].spec.clone();
    let run = |every_event: bool| {
        let recorder = wbsim::observe::Recorder::new(wbsim::observe::ObserveConfig {
            sample_ns: wbsim::sim::MSEC,
        });
        let done = crate::common::execute(&spec, every_event, Some(Box::new(recorder)));
        let probe = done.probe.expect("the recorder back");
        let recorder = probe
            .into_any()
            .downcast::<wbsim::observe::Recorder>()
            .unwrap();
        let r = &*recorder;
        let seen = format!("{:?}{:?}{:?}{:?}", r.samples, r.spans, r.marks, r.trace);
        (done.skipped_events, seen)
    };
    let ((skipped, inline), (none, slept)) = (run(false), run(true));
    assert_eq!(none, 0);
    assert!(skipped > 1000, "woken inline: {skipped}");
    assert!(inline == slept, "the recorders differ");
}

#[test]
fn a_paced_task_woken_inline_gives_the_same_run_as_one_that_sleeps_for_every_page() {
    // benches/tiny.toml: the sessions fault a page every 41 us (100 MB/s), and between most two
    // of them nothing else happens. Woken inline and sleeping page by page (`handle_every_event`):
    // the same result, with and without
    // wake-up-order noise (its draws for the schedules not made).
    let sc = load(Path::new("benches/tiny.toml"), &Overrides::default()).unwrap();
    let mut spec = sc.runs[0].spec.clone();
    for shuffle in [false, true] {
        spec.shuffle_wakeups = shuffle;
        let run = |every_event: bool| crate::common::execute(&spec, every_event, None);
        let (inline, slept) = (run(false), run(true));
        assert_eq!(slept.skipped_events, 0);
        assert!(
            inline.skipped_events * 2 > inline.result.events,
            "woken inline {} of {} events",
            inline.skipped_events,
            inline.result.events
        );
        assert!(inline.result == slept.result, "shuffle {shuffle}");
    }
}
