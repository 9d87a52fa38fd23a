//! `--trace FILE.json`: the Chrome trace-event format (the JSON Object Format with
//! `traceEvents`) that Perfetto and chrome://tracing open.
//!
//! Each run is a process (named by its scenario and cell label); each task, kswapd, flusher and
//! disk is a thread. States are complete events (`"ph":"X"`) that nest: a task's
//! `__alloc_pages_slowpath` holds its `try_to_free_pages`, which holds its `congestion_wait`
//! sleeps; `balance_dirty_pages` holds its `io_schedule_timeout` pauses; kswapd's
//! `balance_pgdat`, a flusher's `wb_writeback`, and each disk request (`write`, `journal data`,
//! `read`, with its page count). OOM kills are instant events (`"ph":"i"`), and the global free,
//! dirty and writeback memory are counters (`"ph":"C"`, MiB) at each timeline sample.
//! Timestamps are microseconds of simulated time.

use serde_json::{json, Value};

use super::{MarkKind, Recorder, TrackKind};

fn us(ns: u64) -> f64 {
    ns as f64 / 1000.0
}

fn category(k: TrackKind) -> &'static str {
    match k {
        TrackKind::Task(_) => "task",
        TrackKind::Kswapd(_) => "kswapd",
        TrackKind::Flusher(_) => "writeback",
        TrackKind::Disk(_) => "block",
    }
}

/// The events of one run (process `pid`).
fn run_events(pid: usize, label: &str, recorder: &Recorder, out: &mut Vec<Value>) {
    out.push(json!({"name": "process_name", "ph": "M", "pid": pid, "args": {"name": label}}));
    for (i, t) in recorder.tracks.iter().enumerate() {
        out.push(
            json!({"name": "thread_name", "ph": "M", "pid": pid, "tid": t.pid,
                        "args": {"name": t.name}}),
        );
        out.push(
            json!({"name": "thread_sort_index", "ph": "M", "pid": pid, "tid": t.pid,
                        "args": {"sort_index": i}}),
        );
    }
    for s in &recorder.spans {
        let t = &recorder.tracks[s.track];
        let mut e = json!({"name": s.name, "cat": category(t.kind), "ph": "X", "ts": us(s.start),
                           "dur": us(s.end - s.start), "pid": pid, "tid": t.pid});
        if s.pages > 0 {
            e["args"] = json!({"pages": s.pages, "KiB": s.pages * 4});
        }
        out.push(e);
    }
    for m in &recorder.marks {
        if let MarkKind::OomKill { .. } = m.kind {
            let t = &recorder.tracks[m.track];
            out.push(
                json!({"name": m.kind.label(), "cat": "oom", "ph": "i", "s": "p",
                            "ts": us(m.t), "pid": pid, "tid": t.pid}),
            );
        }
    }
    for s in &recorder.samples {
        let sum = |f: usize| s.zones.iter().map(|z| z[f]).sum::<u64>();
        let mib = |p: u64| (p as f64 * 4096.0 / 1048576.0 * 10.0).round() / 10.0;
        out.push(
            json!({"name": "memory (MiB)", "ph": "C", "ts": us(s.t), "pid": pid,
                        "args": {"free": mib(sum(0)), "dirty": mib(sum(9)),
                                 "writeback": mib(sum(10))}}),
        );
    }
}

/// The whole document: one process per run.
pub fn render(runs: &[(String, &Recorder)]) -> String {
    let mut events = vec![];
    for (i, (label, recorder)) in runs.iter().enumerate() {
        run_events(i + 1, label, recorder, &mut events);
    }
    let mut out = String::from("{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n");
    for (i, e) in events.iter().enumerate() {
        if i > 0 {
            out.push_str(",\n");
        }
        out.push_str(&e.to_string());
    }
    out.push_str("\n]}\n");
    out
}
