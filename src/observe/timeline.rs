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

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
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

/// The whole CSV.
pub fn render_csv(runs: &[(String, &Recorder)]) -> String {
    let tasks = task_columns(runs);
    let mut out = String::from("run,time_s,node,zone");
    for f in ZONE_FIELDS {
        out.push(',');
        out.push_str(f);
    }
    out.push_str(",dirty_background_thresh,dirty_thresh");
    for t in &tasks {
        out.push(',');
        out.push_str(&csv_field(&format!("{t}_state")));
    }
    out.push_str(",events\n");
    for (label, recorder) in runs {
        let mut prev = None;
        for s in &recorder.samples {
            let events = events_between(recorder, prev, s.t);
            prev = Some(s.t);
            for (zi, z) in s.zones.iter().enumerate() {
                let (node, name) = recorder.zones[zi];
                out.push_str(&format!(
                    "{},{},{node},{name}",
                    csv_field(label),
                    super::secs3(s.t)
                ));
                for v in z {
                    out.push_str(&format!(",{v}"));
                }
                out.push_str(&format!(",{},{}", s.dirty_limits.0, s.dirty_limits.1));
                for t in &tasks {
                    out.push(',');
                    if let Some(i) = recorder
                        .tracks
                        .iter()
                        .position(|k| matches!(k.kind, super::TrackKind::Task(_)) && &k.name == t)
                    {
                        out.push_str(s.tasks[i].name());
                    }
                }
                out.push(',');
                if zi == 0 {
                    out.push_str(&csv_field(&events));
                }
                out.push('\n');
            }
        }
    }
    out
}
