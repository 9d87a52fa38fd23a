//! `study --html FILE`: the study as one self-contained page a maintainer can attach to a
//! mailing-list thread. No script, no external style sheet, font or image: the tables are HTML,
//! the plots inline SVG, the styles one `<style>` element. The page is well-formed XML
//! (XHTML syntax in an HTML5 document), so any XML parser reads it, and it renders the same with
//! JavaScript off.
//!
//! Per scenario: the answer lines; the per-kernel grid (an SVG heat map of the OOM rate of
//! every kernel × cell × policy, and the same as a table with the verdicts); the time-to-OOM
//! distributions (one dot per replica that went OOM, per kernel, cell and policy); with
//! `--margin`, the OOM rate against the searched value (by default the pinned memory), one line
//! per policy, per kernel and cell; the margin and history lines.

use crate::report::svg::xml;
use std::fmt::Write as _;

use crate::compare::OomTimes;
use crate::margin::MarginRecord;
use crate::spec::Policy;
use crate::study::{ReleaseStudy, ScenarioStudy, StudyDocument};

/// Colours readable in print and for the common colour-vision deficiencies (as `svg.rs`):
/// survival blue, OOM orange.
const SURVIVED: (u8, u8, u8) = (0x44, 0x77, 0xaa);
const OOM: (u8, u8, u8) = (0xee, 0x77, 0x33);

/// The page.
pub fn render(doc: &StudyDocument) -> String {
    let names: Vec<&str> = doc.scenarios.iter().map(|s| s.name.as_str()).collect();
    let mut out = String::new();
    out += "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n";
    out += "<meta charset=\"utf-8\"/>\n";
    let _ = writeln!(
        out,
        "<title>wbsim study: {}</title>\n<style>{STYLE}</style>\n</head>\n<body>",
        xml(&names.join(", "))
    );
    let _ = writeln!(
        out,
        "<h1>wbsim study: {}</h1>\n<p class=\"meta\">wbsim {} — would returning \
         <code>AOP_WRITEPAGE_ACTIVATE</code> instead of redirtying turn the OOM into survival, \
         on which kernel, by what margin?</p>",
        xml(&names.join(", ")),
        xml(&doc.wbsim_version)
    );
    for s in &doc.scenarios {
        out += &scenario(s);
    }
    out += "</body>\n</html>\n";
    out
}

const STYLE: &str = "body{font-family:sans-serif;margin:1.5em;max-width:72em;color:#222}\
table{border-collapse:collapse;margin:0.5em 0 1em}\
th,td{border:1px solid #bbb;padding:2px 8px;text-align:left}\
td.n{text-align:right}th{background:#eee}.meta{color:#555}\
svg{display:block;margin:0.5em 0 1em}";

fn scenario(s: &ScenarioStudy) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<section>\n<h2>{} <small>({})</small></h2>\n<p class=\"meta\">{} replicas per cell and \
         policy, {} kernels; noise: {}</p>",
        xml(&s.name),
        xml(&s.file),
        s.replicas,
        s.releases.len(),
        xml(&s.noise.describe())
    );
    out += "<h3>Answer</h3>\n";
    out += &list(&s.answer);
    out += "<h3>Per-kernel grid</h3>\n";
    out += &kernel_grid(s);
    out += &verdict_table(s);
    out += "<h3>Time to OOM</h3>\n";
    out += &oom_distributions(s);
    out += "<h3>Margin</h3>\n";
    out += &margins(s);
    out += "<h3>History</h3>\n";
    if s.history.is_empty() {
        out += "<p>No outcome changes between consecutive kernels in the deterministic runs (one \
                run per cell and kernel, no noise).</p>\n";
    } else {
        out += "<p>Outcome changes between consecutive kernels, with the change that caused \
                each (one deterministic run per cell and kernel):</p>\n";
        out += &list(&s.history);
    }
    out += "</section>\n";
    out
}

fn list(lines: &[String]) -> String {
    let mut out = String::from("<ul>\n");
    for l in lines {
        let _ = writeln!(out, "<li>{}</li>", xml(l));
    }
    out += "</ul>\n";
    out
}

/// Every (cell, policy) pair of the study, in first-seen order.
fn columns(s: &ScenarioStudy) -> Vec<(String, Policy)> {
    let mut cols: Vec<(String, Policy)> = Vec::new();
    for r in &s.releases {
        for x in &r.summaries {
            if !cols.iter().any(|(c, p)| *c == x.cell && *p == x.policy) {
                cols.push((x.cell.clone(), x.policy));
            }
        }
    }
    cols
}

/// The heat map: a row per kernel, a column per cell and policy, each square coloured from
/// blue (no replica went OOM) to orange (every replica did), with `oom/runs` in it.
fn kernel_grid(s: &ScenarioStudy) -> String {
    let cols = columns(s);
    let (cw, rh, left, top) = (96.0, 24.0, 110.0, 120.0);
    // Room for the last rotated column label and for the legend.
    let width = (left + cw * cols.len() as f64 + 90.0).max(left + 330.0);
    let height = top + rh * s.releases.len() as f64 + 40.0;
    let mut out = svg_open("per-kernel grid: OOM rate", width, height);
    for (j, (cell, policy)) in cols.iter().enumerate() {
        let x = left + cw * (j as f64 + 0.5);
        let _ = writeln!(
            out,
            "<text x=\"{x:.1}\" y=\"{:.1}\" transform=\"rotate(-35 {x:.1} {:.1})\">{}/{}</text>",
            top - 8.0,
            top - 8.0,
            xml(cell),
            policy.name()
        );
    }
    for (i, r) in s.releases.iter().enumerate() {
        let y = top + rh * i as f64;
        let _ = writeln!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            left - 8.0,
            y + rh * 0.68,
            xml(&r.release)
        );
        for (j, (cell, policy)) in cols.iter().enumerate() {
            let Some(x) = r
                .summaries
                .iter()
                .find(|x| x.cell == *cell && x.policy == *policy)
            else {
                continue;
            };
            let fx = left + cw * j as f64;
            let _ = writeln!(
                out,
                "<rect x=\"{fx:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{}\" \
                 stroke=\"white\"><title>{} {}/{}: {}/{} OOM</title></rect>\n<text x=\"{:.1}\" \
                 y=\"{:.1}\" text-anchor=\"middle\" fill=\"white\">{}/{}</text>",
                cw - 2.0,
                rh - 2.0,
                mix(x.oom_rate),
                xml(&r.release),
                xml(cell),
                policy.name(),
                x.oom,
                x.runs,
                fx + cw / 2.0,
                y + rh * 0.68,
                x.oom,
                x.runs
            );
        }
    }
    let ly = height - 14.0;
    let _ = writeln!(
        out,
        "<rect x=\"{left:.1}\" y=\"{:.1}\" width=\"12\" height=\"12\" fill=\"{}\"/><text \
         x=\"{:.1}\" y=\"{ly:.1}\">no replica OOM</text><rect x=\"{:.1}\" y=\"{:.1}\" width=\"12\" \
         height=\"12\" fill=\"{}\"/><text x=\"{:.1}\" y=\"{ly:.1}\">every replica OOM</text>",
        ly - 10.0,
        mix(0.0),
        left + 16.0,
        left + 160.0,
        ly - 10.0,
        mix(1.0),
        left + 176.0
    );
    out += "</svg>\n";
    out
}

/// The grid as a table, with each cell's verdict.
fn verdict_table(s: &ScenarioStudy) -> String {
    let mut out = String::from(
        "<table>\n<thead><tr><th>kernel</th><th>cell</th><th>redirty OOM</th>\
         <th>activate OOM</th><th>verdict</th></tr></thead>\n<tbody>\n",
    );
    for r in &s.releases {
        for c in &r.comparisons {
            let count = |p: Policy| {
                r.summaries
                    .iter()
                    .find(|x| x.cell == c.label && x.policy == p)
                    .map_or_else(String::new, |x| format!("{}/{}", x.oom, x.runs))
            };
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
                 <td>{}</td></tr>",
                xml(&r.release),
                xml(&c.label),
                count(c.from),
                count(c.to),
                xml(&c.verdict.words(c.shift_s))
            );
        }
    }
    out += "</tbody>\n</table>\n";
    out
}

/// A strip plot: a row per kernel, cell and policy with an OOM, a dot per replica at its OOM
/// time, a bar at the median.
fn oom_distributions(s: &ScenarioStudy) -> String {
    let rows: Vec<(&ReleaseStudy, &OomTimes)> = s
        .releases
        .iter()
        .flat_map(|r| r.oom_times.iter().map(move |t| (r, t)))
        .filter(|(_, t)| !t.at_s.is_empty())
        .collect();
    let (rh, left, plot_w, top) = (18.0, 230.0, 560.0, 30.0);
    let max_s = rows
        .iter()
        .flat_map(|(_, t)| t.at_s.iter().copied())
        .fold(0.0_f64, f64::max);
    let x_max = nice_ceiling(max_s.max(1.0));
    let height = top + rh * rows.len().max(1) as f64 + 50.0;
    let mut out = svg_open("time to OOM per replica", left + plot_w + 30.0, height);
    if rows.is_empty() {
        let _ = writeln!(
            out,
            "<text x=\"{left:.1}\" y=\"{:.1}\">no replica went OOM on any kernel</text>",
            top + rh * 0.7
        );
    }
    for (i, (r, t)) in rows.iter().enumerate() {
        let y = top + rh * i as f64 + rh / 2.0;
        let colour = if t.policy == Policy::Activate {
            rgb(OOM)
        } else {
            rgb(SURVIVED)
        };
        let _ = writeln!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{} {}/{}</text>",
            left - 8.0,
            y + 4.0,
            xml(&r.release),
            xml(&t.cell),
            t.policy.name()
        );
        for &v in &t.at_s {
            let _ = writeln!(
                out,
                "<circle cx=\"{:.1}\" cy=\"{y:.1}\" r=\"3.5\" fill=\"{colour}\" \
                 fill-opacity=\"0.6\"><title>OOM at {v:.1} s</title></circle>",
                left + plot_w * v / x_max
            );
        }
        if let Some(m) = crate::report::document::Spread::of(&t.at_s) {
            let mx = left + plot_w * m.median / x_max;
            let _ = writeln!(
                out,
                "<line x1=\"{mx:.1}\" y1=\"{:.1}\" x2=\"{mx:.1}\" y2=\"{:.1}\" stroke=\"black\" \
                 stroke-width=\"2\"><title>median {:.1} s</title></line>",
                y - 7.0,
                y + 7.0,
                m.median
            );
        }
    }
    let axis_y = top + rh * rows.len().max(1) as f64 + 4.0;
    out += &x_axis(
        left,
        plot_w,
        axis_y,
        (0.0, x_max),
        "s",
        "simulated seconds to the OOM kill",
    );
    out += "</svg>\n";
    out
}

/// The OOM rate against the searched value: per kernel and cell with a margin, one line per
/// policy through every probe of the bisection.
fn margins(s: &ScenarioStudy) -> String {
    let with: Vec<&ReleaseStudy> = s.releases.iter().filter(|r| r.margins.is_some()).collect();
    if with.is_empty() {
        return "<p>No margin searched: <code>wbsim study FILE --margin LO..HI</code> bisects \
                each kernel, cell and policy for the pinned memory where the OOM rate crosses \
                50 %, and plots the rate here.</p>\n"
            .into();
    }
    let mut out = String::new();
    let mut lines = Vec::new();
    for r in &with {
        let records = r.margins.as_deref().unwrap_or(&[]);
        let mut cells: Vec<&str> = Vec::new();
        for m in records {
            if !cells.contains(&m.cell.as_str()) {
                cells.push(&m.cell);
            }
        }
        for cell in cells {
            let of_cell: Vec<&MarginRecord> = records.iter().filter(|m| m.cell == cell).collect();
            out += &rate_plot(&r.release, cell, &of_cell);
        }
        lines.extend(
            crate::margin::answer_lines(records)
                .into_iter()
                .map(|l| format!("{}: {l}", r.release)),
        );
    }
    out += &list(&lines);
    out
}

/// The rate plots' geometry, px: left edge, width, top and height of the plot area.
const RATE_PLOT: (f64, f64, f64, f64) = (60.0, 480.0, 30.0, 160.0);

/// A margin's probes as `(value, OOM rate, tooltip)`.
fn rate_points(m: &MarginRecord) -> Vec<(f64, f64, String)> {
    m.points
        .iter()
        .filter_map(|p| {
            let v = crate::margin::number(&p.value)? as f64;
            let rate = f64::from(p.oom) / f64::from(p.runs.max(1));
            Some((v, rate, format!("{}: {}/{} OOM", p.value, p.oom, p.runs)))
        })
        .collect()
}

/// One kernel and cell: OOM rate (0–100 %) against the value, a polyline per policy.
fn rate_plot(release: &str, cell: &str, records: &[&MarginRecord]) -> String {
    let (left, plot_w, top, plot_h) = RATE_PLOT;
    let all: Vec<f64> = records
        .iter()
        .flat_map(|m| rate_points(m))
        .map(|(v, _, _)| v)
        .collect();
    let lo = all.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = all.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let range = if lo.is_finite() && hi > lo {
        (lo, hi)
    } else {
        (0.0, 1.0)
    };
    let path = records.first().map_or("", |m| m.path.as_str());
    let title = format!("{release} {cell}: OOM rate against {path}");
    let mut out = svg_open(&title, left + plot_w + 150.0, top + plot_h + 60.0);
    for (f, label) in [(0.0, "0 %"), (0.5, "50 %"), (1.0, "100 %")] {
        let y = top + plot_h * (1.0 - f);
        let _ = writeln!(
            out,
            "<line x1=\"{left:.1}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"#ccc\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{label}</text>",
            left + plot_w,
            left - 6.0,
            y + 4.0
        );
    }
    for (n, m) in records.iter().enumerate() {
        out += &rate_series(m, n, range);
    }
    let sizes = records.iter().flat_map(|m| m.points.first()).any(|p| {
        crate::scenario::units::parse_size(&p.value).is_ok() && p.value.parse::<u64>().is_err()
    });
    out += &value_axis(range, sizes);
    out += "</svg>\n";
    out
}

/// One policy's line through its probes, a dot per probe, and its legend entry (the `n`th).
fn rate_series(m: &MarginRecord, n: usize, (lo, hi): (f64, f64)) -> String {
    let (left, plot_w, top, plot_h) = RATE_PLOT;
    let activate = m.policy == Policy::Activate;
    let colour = if activate { rgb(OOM) } else { rgb(SURVIVED) };
    let xy: Vec<(f64, f64, String)> = rate_points(m)
        .into_iter()
        .map(|(v, rate, t)| {
            let x = left + plot_w * (v - lo) / (hi - lo);
            (x, top + plot_h * (1.0 - rate), t)
        })
        .collect();
    let coords: Vec<String> = xy
        .iter()
        .map(|(x, y, _)| format!("{x:.1},{y:.1}"))
        .collect();
    let mut out = format!(
        "<polyline points=\"{}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\"{}/>\n",
        coords.join(" "),
        if activate {
            " stroke-dasharray=\"6 3\""
        } else {
            ""
        }
    );
    for (x, y, t) in &xy {
        let _ = writeln!(
            out,
            "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"3.5\" fill=\"{colour}\"><title>{}</title></circle>",
            xml(t)
        );
    }
    let ly = top + 14.0 + 18.0 * n as f64;
    let _ = writeln!(
        out,
        "<line x1=\"{:.1}\" y1=\"{ly:.1}\" x2=\"{:.1}\" y2=\"{ly:.1}\" stroke=\"{colour}\" \
         stroke-width=\"2\"/><text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
        left + plot_w + 12.0,
        left + plot_w + 36.0,
        left + plot_w + 42.0,
        ly + 4.0,
        m.policy.name()
    );
    out
}

/// The rate plots' x axis from `lo` to `hi`, five ticks labelled as sizes or integers.
fn value_axis((lo, hi): (f64, f64), sizes: bool) -> String {
    let (left, plot_w, top, plot_h) = RATE_PLOT;
    axis_ticks(left, plot_w, top + plot_h + 4.0, |f| {
        let v = lo + (hi - lo) * f;
        if sizes {
            crate::sweep::format_size(v as u64)
        } else {
            format!("{v:.0}")
        }
    })
}

/// An x axis from `range.0` to `range.1` with five ticks, and its label.
fn x_axis(left: f64, width: f64, y: f64, range: (f64, f64), unit: &str, label: &str) -> String {
    let mut out = axis_ticks(left, width, y, |f| {
        format!("{:.0} {unit}", range.0 + (range.1 - range.0) * f)
    });
    let _ = writeln!(
        out,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
        left + width / 2.0,
        y + 36.0,
        xml(label)
    );
    out
}

/// A horizontal axis line at `y` from `left`, `width` long, with five ticks at 0, ¼ … 1 of it,
/// each labelled by `text` of that fraction.
fn axis_ticks(left: f64, width: f64, y: f64, text: impl Fn(f64) -> String) -> String {
    let mut out = format!(
        "<line x1=\"{left:.1}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"black\"/>\n",
        left + width
    );
    for f in [0.0, 0.25, 0.5, 0.75, 1.0] {
        let x = left + width * f;
        let _ = writeln!(
            out,
            "<line x1=\"{x:.1}\" y1=\"{y:.1}\" x2=\"{x:.1}\" y2=\"{:.1}\" stroke=\"black\"/>\
             <text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            y + 4.0,
            y + 18.0,
            xml(&text(f))
        );
    }
    out
}

/// The opening of an SVG picture with a white background and its title as text and as
/// `<title>` (what a screen reader says).
fn svg_open(title: &str, width: f64, height: f64) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{height:.0}\" \
         viewBox=\"0 0 {width:.0} {height:.0}\" font-family=\"sans-serif\" font-size=\"12\" \
         role=\"img\">\n<title>{t}</title>\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"10\" y=\"18\" font-size=\"14\">{t}</text>\n",
        t = xml(title)
    )
}

/// 1, 2 or 5 × a power of ten, at least `x`.
fn nice_ceiling(x: f64) -> f64 {
    let p = 10f64.powf(x.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * p)
        .find(|&v| v >= x)
        .unwrap_or(10.0 * p)
}

/// The colour of an OOM rate: survival blue at 0, OOM orange at 1, mixed in between.
fn mix(rate: f64) -> String {
    let f = rate.clamp(0.0, 1.0);
    let c = |a: u8, b: u8| (f64::from(a) + (f64::from(b) - f64::from(a)) * f).round() as u8;
    rgb((
        c(SURVIVED.0, OOM.0),
        c(SURVIVED.1, OOM.1),
        c(SURVIVED.2, OOM.2),
    ))
}

fn rgb((r, g, b): (u8, u8, u8)) -> String {
    format!("#{r:02x}{g:02x}{b:02x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_ceilings_and_colours() {
        assert_eq!(nice_ceiling(17.0), 20.0);
        assert_eq!(nice_ceiling(161.0), 200.0);
        assert_eq!(nice_ceiling(1.0), 1.0);
        assert_eq!(nice_ceiling(0.3), 0.5);
        assert_eq!(mix(0.0), "#4477aa");
        assert_eq!(mix(1.0), "#ee7733");
        assert_eq!(xml("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
    }
}
