//! `--timeline FILE.csv`: the sampled state of each run over simulated time.
//!
//! One row per run, sample and zone: `run,time_s,node,zone`, the zone's values in pages
//! ([`super::ZONE_FIELDS`]: free, the three watermarks, each LRU list, dirty, writeback,
//! pages_scanned, all_unreclaimable 0/1, cumulative pgscan), the global dirty limits, then one column per task with its
//! state (`running`, `throttled`, `direct_reclaim`, `congestion_wait`, …; empty when the run has no
//! such task), then `events`: what happened since the previous sample (kswapd wake/sleep, flusher
//! work, OOM kill), on the first zone row of the sample only.

use super::{Recorder, ZONE_FIELDS};

/// The task names across runs, in first-seen order.
pub fn task_columns(runs: &[(String, &Recorder)]) -> Vec<String> {
    let mut names: Vec<String> = vec![];
    for (_, recorder) in runs {
        for t in &recorder.tracks {
            if matches!(t.kind, super::TrackKind::Task(_)) && !names.contains(&t.name) {
                names.push(t.name.clone());
            }
        }
    }
    names
}

/// The events of `recorder` in `(from, to]`, as `who what` joined by `; `.
pub fn events_between(recorder: &Recorder, from: Option<u64>, to: u64) -> String {
    recorder
        .marks
        .iter()
        .filter(|m| from.map_or(true, |f| m.t > f) && m.t <= to)
        .map(|m| format!("{} {}", recorder.tracks[m.track].name, m.kind.label()))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The whole CSV (quoted by [`crate::report::csv::Records`]).
pub fn render_csv(runs: &[(String, &Recorder)]) -> String {
    let tasks = task_columns(runs);
    let mut header: Vec<String> = ["run", "time_s", "node", "zone"].map(String::from).to_vec();
    header.extend(ZONE_FIELDS.iter().map(|f| f.to_string()));
    header.extend(["dirty_background_thresh", "dirty_thresh"].map(String::from));
    header.extend(tasks.iter().map(|t| format!("{t}_state")));
    header.push("events".into());
    let mut out = crate::report::csv::Records::default();
    out.push(&header);
    for (label, recorder) in runs {
        let mut prev = None;
        for s in &recorder.samples {
            let events = events_between(recorder, prev, s.t);
            prev = Some(s.t);
            for (zi, z) in s.zones.iter().enumerate() {
                let (node, name) = recorder.zones[zi];
                let mut row = vec![
                    label.clone(),
                    super::secs3(s.t),
                    node.to_string(),
                    name.to_string(),
                ];
                row.extend(z.iter().map(|v| v.to_string()));
                row.push(s.dirty_limits.0.to_string());
                row.push(s.dirty_limits.1.to_string());
                for t in &tasks {
                    let task = recorder
                        .tracks
                        .iter()
                        .position(|k| matches!(k.kind, super::TrackKind::Task(_)) && &k.name == t);
                    row.push(task.map_or("", |i| s.tasks[i].name()).to_string());
                }
                row.push(if zi == 0 {
                    events.clone()
                } else {
                    String::new()
                });
                out.push(&row);
            }
        }
    }
    out.finish()
}
