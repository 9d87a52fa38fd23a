//! `--plot FILE.svg`: the timeline drawn as a hand-written, deterministic SVG.
//!
//! Runs that differ only by policy sit side by side (one column per policy, same axes); each
//! zone under pressure gets two panels: free memory against the min/low/high watermarks (MiB, log
//! scale, shaded where the node's kswapd was running), and the LRU lists with dirty and writeback
//! pages (MiB, linear, with a strip where the flusher had work). The OOM kill is a red line
//! across both panels. Zones shown are those reclaim scanned in some run of the row (at most
//! [`MAX_ZONES`], most scanned first); with none, the zone that came closest to its high
//! watermark. Axes are simulated seconds and MiB.

use crate::report::svg::xml;
use std::fmt::Write;

use super::{MarkKind, Recorder, TrackKind};

/// Most zones drawn per row of runs.
pub const MAX_ZONES: usize = 4;

const PANEL_W: f64 = 520.0;
const FREE_H: f64 = 170.0;
const LRU_H: f64 = 190.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 20.0;
const COL_W: f64 = LEFT + PANEL_W + RIGHT;
const LEGEND_H: f64 = 34.0;
const TITLE_H: f64 = 20.0;
const AXIS_H: f64 = 38.0;

/// A run to draw: its policy (column title), its cell label (row title), its outcome line.
pub struct PlotRun<'a> {
    /// The cell label without the policy (runs with equal labels share a row).
    pub cell: String,
    /// The column title (the policy).
    pub column: String,
    /// One line on the outcome (`OOM at 19.0 s`).
    pub outcome: String,
    /// What it recorded.
    pub recorder: &'a Recorder,
}

const FREE_SERIES: [(usize, &str, &str); 4] = [
    (0, "free", "#1f77b4"),
    (1, "min", "#d62728"),
    (2, "low", "#ff7f0e"),
    (3, "high", "#2ca02c"),
];

const LRU_SERIES: [(usize, &str, &str); 7] = [
    (4, "active_anon", "#9467bd"),
    (5, "inactive_anon", "#c5b0d5"),
    (6, "active_file", "#8c564b"),
    (7, "inactive_file", "#e377c2"),
    (8, "unevictable", "#7f7f7f"),
    (9, "dirty", "#ff7f0e"),
    (10, "writeback", "#17becf"),
];

fn mib(pages: u64) -> f64 {
    pages as f64 * 4096.0 / 1048576.0
}

/// Zones to draw for a row: those reclaim scanned (pgscan), most scanned first; with none, the
/// zone whose free memory came closest to its high watermark. The flag says which rule applied.
fn pick_zones(runs: &[&PlotRun<'_>]) -> (Vec<usize>, bool) {
    let nz = runs.first().map_or(0, |r| r.recorder.zones.len());
    let samples = || runs.iter().flat_map(|r| r.recorder.samples.iter());
    let mut scanned: Vec<(u64, usize)> = (0..nz)
        .map(|z| {
            let total = runs
                .iter()
                .filter_map(|r| r.recorder.samples.last())
                .map(|s| s.zones[z][13])
                .sum::<u64>();
            (total, z)
        })
        .filter(|&(n, _)| n > 0)
        .collect();
    scanned.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    if !scanned.is_empty() {
        return (
            scanned.iter().take(MAX_ZONES).map(|&(_, z)| z).collect(),
            true,
        );
    }
    let closest = (0..nz).min_by(|&a, &b| {
        let worst = |z: usize| {
            samples()
                .map(|s| s.zones[z][0] as f64 / s.zones[z][3].max(1) as f64)
                .fold(f64::INFINITY, f64::min)
        };
        worst(a).total_cmp(&worst(b)).then(a.cmp(&b))
    });
    (closest.into_iter().collect(), false)
}

/// "Nice" linear ticks from 0 to at least `max`.
fn lin_ticks(max: f64) -> (f64, Vec<f64>) {
    let max = if max > 0.0 { max } else { 1.0 };
    let raw = max / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| s * 5.0 >= max)
        .unwrap_or(10.0 * mag);
    let top = (max / step).ceil() * step;
    let n = (top / step).round() as usize;
    (top, (0..=n).map(|i| i as f64 * step).collect())
}

fn fmt_tick(v: f64) -> String {
    if v == 0.0 {
        "0".into()
    } else if v.abs() >= 10.0 {
        format!("{v:.0}")
    } else if v.abs() >= 1.0 {
        format!("{v:.1}")
    } else if v.abs() >= 0.1 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

struct Frame {
    x: f64,
    y: f64,
    w: f64,
    h: f64,
    t_max: f64,
}

impl Frame {
    fn px(&self, t_ns: u64) -> f64 {
        self.x + (t_ns as f64 / 1e9) / self.t_max * self.w
    }
}

fn x_axis(svg: &mut String, f: &Frame) {
    let (top, ticks) = lin_ticks(f.t_max);
    let _ = top;
    for t in ticks.iter().filter(|&&t| t <= f.t_max + 1e-9) {
        let x = f.x + t / f.t_max * f.w;
        let _ = write!(
            svg,
            r##"<line x1="{x:.1}" y1="{y1:.1}" x2="{x:.1}" y2="{y2:.1}" stroke="#ddd"/><text x="{x:.1}" y="{ty:.1}" text-anchor="middle" class="tick">{}</text>"##,
            fmt_tick(*t),
            y1 = f.y,
            y2 = f.y + f.h,
            ty = f.y + f.h + 14.0
        );
    }
    let _ = write!(
        svg,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" class="axis">simulated time (s)</text>"#,
        f.x + f.w / 2.0,
        f.y + f.h + 30.0
    );
}

fn frame_box(svg: &mut String, f: &Frame) {
    let _ = write!(
        svg,
        r##"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="none" stroke="#444"/>"##,
        f.x, f.y, f.w, f.h
    );
}

/// One legend entry per series, wrapping onto a second line past the panel's width.
fn legend(svg: &mut String, x: f64, y: f64, items: &[(&str, &str, bool)]) {
    let mut cx = x;
    let mut y = y;
    for (name, color, dashed) in items {
        let w = 30.0 + name.len() as f64 * 6.6;
        if cx + w > x + PANEL_W && cx > x {
            cx = x;
            y += 14.0;
        }
        let dash = if *dashed {
            r#" stroke-dasharray="4 3""#
        } else {
            ""
        };
        let _ = write!(
            svg,
            r#"<line x1="{cx:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="{color}" stroke-width="2.5"{dash}/><text x="{:.1}" y="{:.1}" class="legend">{}</text>"#,
            cx + 18.0,
            cx + 22.0,
            y + 4.0,
            xml(name)
        );
        cx += w;
    }
}

/// Shaded intervals (merged when closer than a pixel) for the spans named `name` on `track`.
fn bands(recorder: &Recorder, track: usize, name: &str, f: &Frame) -> Vec<(f64, f64)> {
    let mut out: Vec<(f64, f64)> = vec![];
    for s in recorder
        .spans
        .iter()
        .filter(|s| s.track == track && s.name == name)
    {
        let (a, b) = (f.px(s.start), f.px(s.end).max(f.px(s.start) + 0.5));
        match out.last_mut() {
            Some(last) if a <= last.1 + 1.0 => last.1 = last.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out
}

fn oom_line(svg: &mut String, recorder: &Recorder, f: &Frame, label: bool) {
    for m in &recorder.marks {
        if let MarkKind::OomKill { .. } = m.kind {
            let x = f.px(m.t);
            let _ = write!(
                svg,
                r##"<line x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}" stroke="#d00" stroke-width="2" stroke-dasharray="6 3"/>"##,
                f.y,
                f.y + f.h
            );
            if label {
                let _ = write!(
                    svg,
                    r##"<text x="{:.1}" y="{:.1}" text-anchor="end" class="oom">{}</text>"##,
                    x - 4.0,
                    f.y + 14.0,
                    xml(&m.kind.label())
                );
            }
        }
    }
}

fn polyline(svg: &mut String, pts: &[(f64, f64)], color: &str, dashed: bool) {
    if pts.is_empty() {
        return;
    }
    let dash = if dashed {
        r#" stroke-dasharray="4 3""#
    } else {
        ""
    };
    let _ = write!(
        svg,
        r#"<polyline fill="none" stroke="{color}" stroke-width="1.8"{dash} points=""#
    );
    for (x, y) in pts {
        let _ = write!(svg, "{x:.1},{y:.1} ");
    }
    svg.push_str("\"/>");
}

/// Panel A: free vs watermarks, log MiB, kswapd shading.
fn free_panel(svg: &mut String, run: &PlotRun<'_>, z: usize, f: &Frame, lo: f64, hi: f64) {
    let recorder = run.recorder;
    let node = recorder.zones[z].0 as usize;
    if let Some(track) = recorder
        .tracks
        .iter()
        .position(|t| t.kind == TrackKind::Kswapd(node))
    {
        for (a, b) in bands(recorder, track, "balance_pgdat", f) {
            let _ = write!(
                svg,
                r##"<rect x="{a:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="#cfe3f5"/>"##,
                f.y,
                b - a,
                f.h
            );
        }
    }
    let (llo, lhi) = (lo.log10(), hi.log10());
    let py = |v: f64| f.y + f.h - (v.max(lo).log10() - llo) / (lhi - llo) * f.h;
    let mut d = llo.floor() as i32;
    while f64::from(d) <= lhi {
        for m in [1.0, 2.0, 5.0] {
            let v = 10f64.powi(d) * m;
            if v >= lo && v <= hi {
                let y = py(v);
                grid_line(svg, f, y, v);
            }
        }
        d += 1;
    }
    for (field, _, color) in FREE_SERIES {
        let pts: Vec<(f64, f64)> = recorder
            .samples
            .iter()
            .map(|s| (f.px(s.t), py(mib(s.zones[z][field]))))
            .collect();
        polyline(svg, &pts, color, field != 0);
    }
    oom_line(svg, recorder, f, true);
    frame_box(svg, f);
    y_axis_label(svg, f, "MiB (log)");
}

/// The vertical axis title of frame `f`.
fn y_axis_label(svg: &mut String, f: &Frame, text: &str) {
    let (x, y) = (f.x - 52.0, f.y + f.h / 2.0);
    let _ = write!(
        svg,
        r#"<text x="{x:.1}" y="{y:.1}" text-anchor="middle" class="axis" transform="rotate(-90 {x:.1} {y:.1})">{text}</text>"#
    );
}

/// A horizontal grid line at `y` across frame `f`, labelled `v` on the left.
fn grid_line(svg: &mut String, f: &Frame, y: f64, v: f64) {
    let _ = write!(
        svg,
        r##"<line x1="{:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#eee"/><text x="{:.1}" y="{:.1}" text-anchor="end" class="tick">{}</text>"##,
        f.x,
        f.x + f.w,
        f.x - 5.0,
        y + 4.0,
        fmt_tick(v)
    );
}

/// Panel B: LRU lists, dirty, writeback, linear MiB, flusher strip.
fn lru_panel(svg: &mut String, run: &PlotRun<'_>, z: usize, f: &Frame, top: f64, ticks: &[f64]) {
    let recorder = run.recorder;
    let py = |v: f64| f.y + f.h - v / top * f.h;
    for &v in ticks {
        let y = py(v);
        grid_line(svg, f, y, v);
    }
    for (i, t) in recorder.tracks.iter().enumerate() {
        if let TrackKind::Flusher(_) = t.kind {
            for (a, b) in bands(recorder, i, "wb_writeback", f) {
                let _ = write!(
                    svg,
                    r##"<rect x="{a:.1}" y="{:.1}" width="{:.1}" height="5" fill="#f5b041"/>"##,
                    f.y + 1.0,
                    b - a
                );
            }
        }
    }
    for (field, _, color) in LRU_SERIES {
        if recorder.samples.iter().all(|s| s.zones[z][field] == 0) {
            continue;
        }
        let pts: Vec<(f64, f64)> = recorder
            .samples
            .iter()
            .map(|s| (f.px(s.t), py(mib(s.zones[z][field]))))
            .collect();
        polyline(svg, &pts, color, field >= 9);
    }
    oom_line(svg, recorder, f, false);
    frame_box(svg, f);
    y_axis_label(svg, f, "MiB");
}

/// The runs grouped by cell, in first-seen order (the rows); each row's runs are its columns.
fn rows<'a, 'r>(runs: &'a [PlotRun<'r>]) -> Vec<Vec<&'a PlotRun<'r>>> {
    let mut rows: Vec<Vec<&PlotRun<'_>>> = vec![];
    for r in runs {
        match rows.iter_mut().find(|g| g[0].cell == r.cell) {
            Some(g) => g.push(r),
            None => rows.push(vec![r]),
        }
    }
    rows
}

/// The whole picture.
pub fn render(title: &str, runs: &[PlotRun<'_>]) -> String {
    let rows = rows(runs);
    let cols = rows.iter().map(Vec::len).max().unwrap_or(1).max(1);
    let width = COL_W * cols as f64;
    let mut body = String::new();
    let mut y = 34.0;
    let zone_block = LEGEND_H + TITLE_H + FREE_H + AXIS_H + LEGEND_H + LRU_H + AXIS_H + 14.0;
    for row in &rows {
        let (zones, under) = pick_zones(row);
        y = row_heading(&mut body, row, zones.len(), under, y);
        let t_max = row
            .iter()
            .flat_map(|r| r.recorder.samples.last())
            .map(|s| s.t as f64 / 1e9)
            .fold(0.0, f64::max)
            .max(1e-3);
        for &z in &zones {
            let scales = Scales::of(row, z);
            for (c, run) in row.iter().enumerate() {
                let x = c as f64 * COL_W + LEFT;
                zone_panels(&mut body, row, run, z, (x, y), t_max, &scales);
            }
            y += zone_block;
        }
        y += 10.0;
    }
    let height = y + 10.0;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" font-family="DejaVu Sans, Arial, sans-serif">
<style>.tick{{font-size:10px;fill:#333}} .axis{{font-size:11px;fill:#333}} .legend{{font-size:11px;fill:#222}} .title{{font-size:12px;font-weight:bold;fill:#222}} .col{{font-size:13px;font-weight:bold;fill:#000}} .row{{font-size:12px;fill:#444}} .oom{{font-size:11px;font-weight:bold;fill:#d00}} .head{{font-size:15px;font-weight:bold}}</style>
<rect width="100%" height="100%" fill="white"/>
<text x="10" y="22" class="head">{}</text>
"##,
        xml(title)
    );
    svg.push_str(&body);
    svg.push_str("\n</svg>\n");
    svg
}

/// A row's heading (its cell and which zones are shown) and its columns' headings; returns the
/// `y` below them.
fn row_heading(body: &mut String, row: &[&PlotRun<'_>], shown: usize, under: bool, y: f64) -> f64 {
    let nz = row[0].recorder.zones.len();
    let cell = if row[0].cell.is_empty() {
        String::new()
    } else {
        format!("{} — ", row[0].cell)
    };
    let which = if under {
        format!("{shown} of {nz} zone(s) shown: those reclaim scanned, most scanned first")
    } else {
        format!("reclaim scanned no zone; the one closest to its high watermark of {nz} shown")
    };
    let _ = write!(
        body,
        r#"<text x="10" y="{:.1}" class="row">{}</text>"#,
        y + 14.0,
        xml(&format!("{cell}{which}"))
    );
    let y = y + 24.0;
    for (c, run) in row.iter().enumerate() {
        let _ = write!(
            body,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" class="col">{}</text>"#,
            c as f64 * COL_W + LEFT + PANEL_W / 2.0,
            y + 12.0,
            xml(&format!("{} — {}", run.column, run.outcome))
        );
    }
    y + 22.0
}

/// The y scales a zone's panels share across a row: free memory (log, `lo..hi` MiB) and the LRU
/// lists (linear, `0..top` MiB with `ticks`).
struct Scales {
    lo: f64,
    hi: f64,
    top: f64,
    ticks: Vec<f64>,
}

impl Scales {
    fn of(row: &[&PlotRun<'_>], z: usize) -> Scales {
        let all = || row.iter().flat_map(|r| r.recorder.samples.iter());
        let hi = all()
            .map(|s| mib(s.zones[z][0].max(s.zones[z][3])))
            .fold(0.0, f64::max)
            * 1.3;
        let lo = all()
            .map(|s| mib(s.zones[z][1].max(1)) / 4.0)
            .fold(f64::INFINITY, f64::min)
            .min(hi / 10.0)
            .max(1e-3);
        let lru_max = all()
            .flat_map(|s| LRU_SERIES.iter().map(move |&(f, _, _)| mib(s.zones[z][f])))
            .fold(0.0, f64::max);
        let (top, ticks) = lin_ticks(lru_max);
        Scales { lo, hi, top, ticks }
    }
}

/// Zone `z` of `run`, its panel pair at `(x, y)`: free memory and watermarks over the LRU lists,
/// each with its legend.
fn zone_panels(
    body: &mut String,
    row: &[&PlotRun<'_>],
    run: &PlotRun<'_>,
    z: usize,
    (x, y): (f64, f64),
    t_max: f64,
    scales: &Scales,
) {
    let (node, zone) = row[0].recorder.zones[z];
    let free_items: Vec<(&str, &str, bool)> = FREE_SERIES
        .iter()
        .map(|&(f, n, col)| (n, col, f != 0))
        .chain([("kswapd running", "#cfe3f5", false)])
        .collect();
    legend(body, x, y + 8.0, &free_items);
    let y = y + LEGEND_H;
    let _ = write!(
        body,
        r#"<text x="{x:.1}" y="{:.1}" class="title">{}</text>"#,
        y + 12.0,
        xml(&format!("Node {node} {zone}: free memory and watermarks"))
    );
    let y = y + TITLE_H;
    let (w, h) = (PANEL_W, FREE_H);
    let f = Frame { x, y, w, h, t_max };
    free_panel(body, run, z, &f, scales.lo, scales.hi);
    x_axis(body, &f);
    let y = y + FREE_H + AXIS_H;
    let lru_items: Vec<(&str, &str, bool)> = LRU_SERIES
        .iter()
        .filter(|&&(f, _, _)| {
            row.iter()
                .any(|r| r.recorder.samples.iter().any(|s| s.zones[z][f] > 0))
        })
        .map(|&(f, n, col)| (n, col, f >= 9))
        .chain([("flusher busy", "#f5b041", false)])
        .collect();
    legend(body, x, y + 8.0, &lru_items);
    let y = y + LEGEND_H;
    let h = LRU_H;
    let f = Frame { x, y, w, h, t_max };
    lru_panel(body, run, z, &f, scales.top, &scales.ticks);
    x_axis(body, &f);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_ticks_are_round_and_cover_the_maximum() {
        assert_eq!(lin_ticks(9.0), (10.0, vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]));
        assert_eq!(lin_ticks(130.0).0, 150.0);
        assert_eq!(fmt_tick(0.25), "0.25");
        assert_eq!(fmt_tick(12.0), "12");
    }
}
