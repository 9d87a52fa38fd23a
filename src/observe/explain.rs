//! `wbsim explain`: a short causal account of each run's outcome, every sentence computed from
//! the run's own counters, OOM report and recorded events (no text is chosen per scenario).
//!
//! For an OOM: the invoking allocation and the zones it could use, what their inactive lists held
//! (dirty, under writeback, clean), the writepage refusals by filesystem rule and caller, how fast
//! pages were cleaned against how fast they were allocated, which release rule declared "no
//! progress" and when, and why the victim was chosen. For a survival: what kept reclaim making
//! progress and how close the tightest zone came. For a stall: why, and what the unfinished tasks
//! were doing.

use super::{mib, secs3, Recorder};
use crate::kernel::{DirectReclaimProgress, OomBadness, OomChildVictim, Switches};
use crate::outcome::{OomReport, Outcome, RunResult, ZoneReport};
use crate::spec::{FsType, Policy, RunSpec};

/// Why `fs`'s `->writepage` declines a page under the rules `sw` (the filesystem's own sentence,
/// `fs::refusal_rule`).
pub fn refusal_rule(fs: &str, sw: &Switches) -> &'static str {
    FsType::from_name(fs).map_or("the filesystem declined the page", |f| {
        crate::fs::refusal_rule(f, sw)
    })
}

/// What the policy does with a declined page.
fn policy_effect(p: Policy) -> &'static str {
    match p {
        Policy::Redirty => {
            "redirty_page_for_writepage() sent each back, still dirty, to the head of the inactive list"
        }
        Policy::Activate => {
            "AOP_WRITEPAGE_ACTIVATE moved each to the active list, out of reclaim's next passes"
        }
    }
}

/// The rule for a direct-reclaim pass that reports no progress (`do_try_to_free_pages`), by the
/// `direct_reclaim_progress` switch.
pub fn no_progress_rule(sw: &Switches) -> &'static str {
    match sw.direct_reclaim_progress {
        DirectReclaimProgress::ScAllUnreclaimable => {
            "do_try_to_free_pages() returns 0 when it freed nothing or every zone it could scan was \
             all_unreclaimable (sc->all_unreclaimable)"
        }
        DirectReclaimProgress::ShrunkAZone => {
            "do_try_to_free_pages() returns 0 only when it freed nothing and shrank no zone (every \
             zone was skipped as all_unreclaimable)"
        }
        DirectReclaimProgress::ZoneReclaimable => {
            "do_try_to_free_pages() returns 0 only when it freed nothing and all_unreclaimable() \
             holds: every allowed zone has scanned 6 times its reclaimable pages"
        }
        DirectReclaimProgress::NrReclaimed => {
            "do_try_to_free_pages() returns what it freed; should_reclaim_retry() sends the \
             allocation to the OOM killer after 16 passes in a row that freed nothing, or when no \
             zone would pass min with its reclaimable pages counted as free"
        }
    }
}

fn badness_rule(sw: &Switches) -> &'static str {
    if sw.oom_badness == OomBadness::RssPerMille {
        "2.6.36 oom_badness(): rss plus swap in thousandths of the allowed memory, plus \
         oom_score_adj; tasks whose cpuset misses the invoker's nodes are not eligible"
    } else {
        "badness(): total_vm plus half of each child's, divided by the square root of CPU time \
         and the fourth root of run time, divided by 8 outside the invoker's cpuset, shifted by \
         oom_adj"
    }
}

fn rate(pages: u64, ns: u64) -> String {
    let s = (ns as f64 / 1e9).max(1e-9);
    format!("{:.1} MiB/s", pages as f64 * 4096.0 / 1048576.0 / s)
}

/// The explanation of one run.
pub fn explain(title: &str, spec: &RunSpec, r: &RunResult, recorder: &Recorder) -> String {
    let page = spec
        .machine
        .coarse_page()
        .map_or_else(String::new, |p| format!(", page granularity {p}"));
    let mut out = format!(
        "== {title} (kernel {}, policy {}, seed {}{page}) ==\n",
        spec.kernel.display_name(),
        spec.policy.name(),
        spec.seed
    );
    let mut say = |s: String| {
        out.push_str(&s);
        out.push('\n');
    };
    match &r.outcome {
        Outcome::Oom { .. } => {
            if let Some(report) = r.oom_reports.first() {
                for s in oom_account(spec, r, recorder, report) {
                    say(s);
                }
            }
        }
        Outcome::Survived { at_ns } => {
            say(format!(
                "Outcome: survived; every task with finite work finished by {} s.",
                secs3(*at_ns)
            ));
            for s in progress_account(spec, r, recorder) {
                say(s);
            }
        }
        Outcome::Stalled { at_ns, reason } => {
            say(format!(
                "Outcome: stalled at {} s: {reason}.",
                secs3(*at_ns)
            ));
            for s in progress_account(spec, r, recorder) {
                say(s);
            }
        }
    }
    out
}

fn oom_account(
    spec: &RunSpec,
    r: &RunResult,
    recorder: &Recorder,
    report: &OomReport,
) -> Vec<String> {
    let mut v = vec![invocation(report)];
    let allowed: Vec<&ZoneReport> = report.zones.iter().filter(|z| z.allowed).collect();
    v.push(zones_short(&allowed));
    v.extend(allowed.iter().map(|z| inactive_list(z)));
    v.extend(refusal_account(spec, r, recorder));
    v.extend(later_account(spec, r));
    v.extend(rates_account(spec, r));
    v.extend(no_progress_account(spec, r, recorder));
    v.push(victim_account(spec, report));
    v
}

/// Who invoked the killer, for what allocation, under which constraint.
fn invocation(report: &OomReport) -> String {
    let nodes = crate::report::oom_report::nodelist(&report.invoker_mems);
    format!(
        "Outcome: OOM at {} s. {} (pid {}) invoked the OOM killer for an order-{} allocation \
         with gfp_mask=0x{:x} ({}), constraint {}{}.",
        secs3(report.at_ns),
        report.invoker,
        report.invoker_pid,
        report.order,
        report.gfp_mask,
        super::ftrace::gfp_names(report.gfp_mask),
        report.constraint.name(),
        if report.invoker_root_cpuset {
            String::new()
        } else {
            format!(" (its cpuset holds node(s) {nodes})")
        }
    )
}

/// Which zones ran out.
fn zones_short(allowed: &[&ZoneReport]) -> String {
    let short: Vec<String> = allowed
        .iter()
        .map(|z| {
            format!(
                "Node {} {} had {} MiB free (watermarks min {}, low {}, high {} MiB){}",
                z.base.node,
                z.base.zone,
                mib(z.base.free),
                mib(z.base.min),
                mib(z.base.low),
                mib(z.base.high),
                if z.base.all_unreclaimable {
                    " and was marked all_unreclaimable"
                } else {
                    ""
                }
            )
        })
        .collect();
    let under_high = allowed.iter().all(|z| z.base.free <= z.base.high);
    format!(
        "Memory that ran out: the allocation could use {} zone(s); {}.{}",
        allowed.len(),
        short.join("; "),
        if under_high {
            " Every one was at or below its high watermark, where __alloc_pages_may_oom() makes its last attempt before calling the killer."
        } else {
            ""
        }
    )
}

/// What a zone's inactive lists held.
fn inactive_list(z: &ZoneReport) -> String {
    let b = &z.base;
    let clean = b
        .inactive_file
        .saturating_sub(z.inactive_file_dirty + z.inactive_file_writeback);
    format!(
        "Node {} {}: the inactive file list held {} MiB: {} MiB dirty (not yet under IO), \
         {} MiB under writeback, {} MiB clean; inactive anon {} MiB, active file {} MiB, \
         active anon {} MiB, unevictable {} MiB; pages_scanned {}.",
        b.node,
        b.zone,
        mib(b.inactive_file),
        mib(z.inactive_file_dirty),
        mib(z.inactive_file_writeback),
        mib(clean),
        mib(b.inactive_anon),
        mib(b.active_file),
        mib(b.active_anon),
        mib(b.unevictable),
        b.pages_scanned
    )
}

/// Why the victim was chosen (and killed first, when a child).
fn victim_account(spec: &RunSpec, report: &OomReport) -> String {
    let mut scored: Vec<&crate::outcome::OomTaskRow> =
        report.tasks.iter().filter(|t| t.eligible).collect();
    scored.sort_by(|a, b| b.points.cmp(&a.points).then(a.pid.cmp(&b.pid)));
    let list: Vec<String> = scored
        .iter()
        .take(4)
        .map(|t| format!("{} {}", t.name, t.points))
        .collect();
    let (Some((selected, _)), Some((victim, _))) = (&report.selected, &report.victim) else {
        return format!(
            "Victim: none; nothing was killable (scores: {}), so the kernel panics.",
            list.join(", ")
        );
    };
    let mut s = format!(
        "Victim: select_bad_process() chose {selected} with the highest score ({}) under {}; \
         scores: {}.",
        report.points,
        badness_rule(&spec.kernel.switches),
        list.join(", ")
    );
    if selected != victim {
        s.push_str(&format!(
            " oom_kill_process() killed {victim}, a child of {selected} with its own memory, \
             first ({}).",
            if spec.kernel.switches.oom_child_victim == OomChildVictim::HighestBadness {
                "the highest-scoring child"
            } else {
                "the first killable child"
            }
        ));
    }
    s
}

fn refusal_account(spec: &RunSpec, r: &RunResult, recorder: &Recorder) -> Vec<String> {
    if r.writepage_refused == 0 {
        return vec!["Writepage: no ->writepage call was declined by a filesystem rule.".into()];
    }
    let mut by_fs: Vec<(&str, Vec<String>, u64)> = vec![];
    for (&(fs, caller), &n) in &recorder.refusals {
        match by_fs.iter_mut().find(|e| e.0 == fs) {
            Some(e) => {
                e.1.push(format!("{n} from {caller}"));
                e.2 += n;
            }
            None => by_fs.push((fs, vec![format!("{n} from {caller}")], n)),
        }
    }
    let parts: Vec<String> = by_fs
        .iter()
        .map(|(fs, callers, _)| {
            format!(
                "{fs} ({}): {}",
                refusal_rule(fs, &spec.kernel.switches),
                callers.join(", ")
            )
        })
        .collect();
    vec![format!(
        "Writepage: {} ->writepage calls were declined: {}; {}.",
        r.writepage_refused,
        parts.join("; "),
        policy_effect(spec.policy)
    )]
}

/// What the later-kernel mechanisms did (`docs/HISTORY.md`); nothing under 2.6.3x rules.
fn later_account(spec: &RunSpec, r: &RunResult) -> Vec<String> {
    let l = &r.later;
    let mut parts = vec![];
    if l.vmscan_immediate > 0 {
        parts.push(format!(
            "reclaim left {} dirty file pages to the flushers instead of calling ->writepage, \
             marking them PG_reclaim (nr_vmscan_immediate_reclaim; rule reclaim_fs_writepage={})",
            l.vmscan_immediate,
            crate::kernel::switch_value(&spec.kernel.switches, "reclaim_fs_writepage")
                .unwrap_or("?")
        ));
    }
    if l.reclaim_throttled > 0 {
        parts.push(format!(
            "reclaimers slept {} times waiting for writeback or congestion \
             (reclaim_writeback_throttle={}, congestion_sleep={})",
            l.reclaim_throttled,
            crate::kernel::switch_value(&spec.kernel.switches, "reclaim_writeback_throttle")
                .unwrap_or("?"),
            crate::kernel::switch_value(&spec.kernel.switches, "congestion_sleep").unwrap_or("?")
        ));
    }
    if l.dirty_pauses > 0 {
        parts.push(format!(
            "the IO-less balance_dirty_pages() paused writers {} times",
            l.dirty_pauses
        ));
    }
    if l.zone_dirty_skips > 0 {
        parts.push(format!(
            "write allocations skipped a zone over its dirty limit {} times in the fast path",
            l.zone_dirty_skips
        ));
    }
    if parts.is_empty() {
        return vec![];
    }
    vec![format!("Later-kernel rules: {}.", parts.join("; "))]
}

fn rates_account(spec: &RunSpec, r: &RunResult) -> Vec<String> {
    let t = r.sim_ns;
    let allocated = r.vmstat.zone_sum("pgalloc");
    let disks: Vec<String> = spec
        .disks
        .iter()
        .map(|d| {
            format!(
                "{} at {:.1} MiB/s",
                d.name,
                d.bandwidth_bytes_per_sec as f64 / 1048576.0
            )
        })
        .collect();
    vec![format!(
        "Cleaning against allocation: in {} s the flusher threads and throttled writers \
         submitted {} MiB ({}), reclaim's pageout() {} MiB of file pages and {} MiB to swap, \
         journal commits {} MiB; tasks allocated {} MiB ({}){}.",
        secs3(t),
        mib(r.pages_written_by_writeback),
        rate(r.pages_written_by_writeback, t),
        mib(r.pages_written_by_reclaim),
        mib(r.vmstat.get("pswpout")),
        mib(r.pages_written_by_journal),
        mib(allocated),
        rate(allocated, t),
        if disks.is_empty() {
            String::new()
        } else {
            format!("; the disk(s) write {}", disks.join(", "))
        }
    )]
}

fn no_progress_account(spec: &RunSpec, r: &RunResult, recorder: &Recorder) -> Vec<String> {
    if r.reclaim_no_progress == 0 {
        return vec!["No progress: every direct-reclaim pass reported progress.".into()];
    }
    let first = recorder.no_progress.first();
    let last = recorder.no_progress.last();
    let who = |e: Option<&(u64, usize)>| {
        e.map(|&(t, task)| {
            format!(
                "{} s ({})",
                secs3(t),
                recorder.tracks.get(task).map_or("?", |k| k.name.as_str())
            )
        })
        .unwrap_or_else(|| "?".into())
    };
    vec![format!(
        "No progress: {} direct-reclaim passes reported no progress, the first at {}, the last at \
         {}. Rule of release {}: {}; with __GFP_FS set the allocator then calls out_of_memory().",
        r.reclaim_no_progress,
        who(first),
        who(last),
        spec.release.name(),
        no_progress_rule(&spec.kernel.switches)
    )]
}

/// What kept reclaim going (survival) or what the run was doing (stall).
fn progress_account(spec: &RunSpec, r: &RunResult, recorder: &Recorder) -> Vec<String> {
    let mut v = vec![];
    let c = r.vmstat.reclaim();
    let direct_steal = c.pgsteal.saturating_sub(c.kswapd_steal);
    v.push(format!(
        "Reclaim: kswapd freed {} MiB of {} MiB scanned; direct reclaim freed {} MiB of {} MiB \
         scanned in {} stalls (allocstall); {} pages written for reclaim rotated to the \
         inactive tail when their IO completed (pgrotated).",
        mib(c.kswapd_steal),
        mib(c.pgscan_kswapd),
        mib(direct_steal),
        mib(c.pgscan_direct),
        c.allocstall,
        c.pgrotated
    ));
    v.extend(rates_account(spec, r));
    v.extend(refusal_account(spec, r, recorder));
    v.extend(later_account(spec, r));
    v.extend(no_progress_account(spec, r, recorder));
    // The closest call: the zone and moment with the least free memory relative to min.
    let mut best: Option<(f64, u64, usize, u64, u64)> = None;
    for s in &recorder.samples {
        for (z, vals) in s.zones.iter().enumerate() {
            let (free, min) = (vals[0], vals[1]);
            let ratio = free as f64 / min.max(1) as f64;
            if best.map_or(true, |b| ratio < b.0) {
                best = Some((ratio, s.t, z, free, min));
            }
        }
    }
    if let Some((_, t, z, free, min)) = best {
        let (node, name) = recorder.zones[z];
        v.push(format!(
            "Closest call: Node {node} {name} fell to {} MiB free at {} s (min watermark {} MiB){}.",
            mib(free),
            secs3(t),
            mib(min),
            if free > min {
                "; no zone went below its min watermark at a sample"
            } else {
                ""
            }
        ));
    }
    if let Some(last) = recorder.samples.last() {
        let states: Vec<String> = recorder
            .tracks
            .iter()
            .zip(&last.tasks)
            .map(|(t, s)| format!("{} {}", t.name, s.name()))
            .collect();
        if !states.is_empty() {
            v.push(format!("At the end: {}.", states.join(", ")));
        }
    }
    v
}

/// `wbsim explain FILE [--policy P] [--set …] [--seed N]`: runs every selected run of the file
/// with a recorder (on the runner's threads, under its checks) and prints one account per run.
pub fn command(args: &super::args::ExplainArgs) -> anyhow::Result<std::process::ExitCode> {
    use std::io::Write;
    let ov = args.scenario.overrides();
    let sc = crate::scenario::load(&args.file, &ov)?;
    let runner = crate::run::Runner::new(args.jobs, args.checks.checks())
        .observing(Some(super::ObserveConfig::default()));
    let jobs: Vec<crate::run::Job<'_>> = sc
        .runs
        .iter()
        .map(|run| crate::run::Job {
            spec: &run.spec,
            name: format!("{} {}", sc.name, run.label),
        })
        .collect();
    let outputs = runner.run(&jobs).map_err(|failed| {
        let run = &sc.runs[failed.job];
        let plan = crate::report::build::plan(&sc, crate::report::document::PlanCommand::Run, &[]);
        let command = plan.reproduce(&sc.file, &run.components, run.spec.seed, None);
        let command = command.replacen("wbsim run ", "wbsim explain ", 1) + &runner.checks.flags();
        failed.with_reproduce(&command)
    })?;
    let mut out = std::io::stdout().lock();
    for (i, (run, output)) in sc.runs.iter().zip(&outputs).enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        let title = format!("{} {}", sc.name, run.label);
        let recorder = output
            .recorder
            .as_deref()
            .expect("explain records every run");
        write!(
            out,
            "{}",
            explain(&title, &run.spec, &output.result, recorder)
        )?;
    }
    Ok(std::process::ExitCode::SUCCESS)
}
