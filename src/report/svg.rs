//! SVG outcome maps (`sweep --plot`): one band per cell and policy, coloured by outcome along the
//! swept axis (or the searched range), ticks under the axis, a legend. Readable in print and for
//! the common colour-vision deficiencies.

use crate::outcome::OutcomeKind;

/// Colours of the outcome map (readable in print and for the common colour-vision deficiencies:
/// blue, orange, grey differ in lightness too).
fn colour(kind: OutcomeKind) -> &'static str {
    match kind {
        OutcomeKind::Survived => "#4477aa",
        OutcomeKind::Oom => "#ee7733",
        OutcomeKind::Stalled => "#bbbbbb",
    }
}

/// One band of the outcome map: a label and segments `(from, to, kind)` in 0..=1 of the width.
pub struct Band {
    /// The row label (cell and policy).
    pub label: String,
    /// The coloured segments.
    pub segments: Vec<(f64, f64, OutcomeKind)>,
    /// A value marked on the band (a threshold search's result): where, in 0..=1, and its text.
    pub mark: Option<(f64, String)>,
}

/// Row height and plot width, px.
const ROW: f64 = 22.0;
const WIDTH: f64 = 640.0;
/// The plot's top, px.
const TOP: f64 = 40.0;

/// The outcome map as SVG text: one band per row, ticks under the x axis.
pub fn svg(title: &str, x_label: &str, ticks: &[(f64, String)], bands: &[Band]) -> String {
    let longest = bands.iter().map(|b| b.label.chars().count()).max();
    let left = 12.0 + 7.0 * longest.unwrap_or(0) as f64;
    let height = TOP + ROW * bands.len() as f64 + 90.0;
    let total_w = left + WIDTH + 20.0;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{total_w:.0}\" height=\"{height:.0}\" \
         viewBox=\"0 0 {total_w:.0} {height:.0}\" font-family=\"sans-serif\" font-size=\"12\">\n"
    );
    s += &format!("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n<text x=\"{left:.1}\" y=\"20\" font-size=\"14\">{}</text>\n", xml(title));
    for (i, b) in bands.iter().enumerate() {
        s += &band(b, left, TOP + ROW * i as f64);
    }
    let axis_y = TOP + ROW * bands.len() as f64 + 4.0;
    for (f, text) in ticks {
        let x = left + f * WIDTH;
        s += &format!(
            "<line x1=\"{x:.1}\" y1=\"{axis_y:.1}\" x2=\"{x:.1}\" y2=\"{:.1}\" stroke=\"black\"/>\n\
             <text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"end\" transform=\"rotate(-40 {x:.1} {:.1})\">{}</text>\n",
            axis_y + 4.0,
            axis_y + 16.0,
            axis_y + 16.0,
            xml(text)
        );
    }
    s += &format!(
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>\n",
        left + WIDTH / 2.0,
        height - 22.0,
        xml(x_label)
    );
    s += &legend(left, height);
    s += "</svg>\n";
    s
}

/// One band at `y`: its label right-aligned before `left`, its coloured segments.
fn band(b: &Band, left: f64, y: f64) -> String {
    let mut s = format!(
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>\n",
        left - 6.0,
        y + ROW * 0.7,
        xml(&b.label)
    );
    for (f0, f1, kind) in &b.segments {
        s += &format!(
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{}\" stroke=\"white\"><title>{}</title></rect>\n",
            left + f0 * WIDTH,
            y + 1.0,
            (f1 - f0) * WIDTH,
            ROW - 2.0,
            colour(*kind),
            kind.name()
        );
    }
    if let Some((at, text)) = &b.mark {
        let x = left + at * WIDTH;
        s += &format!(
            "<line class=\"threshold\" x1=\"{x:.1}\" y1=\"{:.1}\" x2=\"{x:.1}\" y2=\"{:.1}\" \
             stroke=\"black\" stroke-width=\"2\"/>\n<text x=\"{:.1}\" y=\"{:.1}\">{}</text>\n",
            y,
            y + ROW,
            x + 3.0,
            y + ROW * 0.7,
            xml(text)
        );
    }
    s
}

/// Round tick values inside `lo..=hi`: multiples of a step of 1, 2 or 5 × 10^k (`sizes`: a
/// power of two bytes, from 4 KiB), the smallest step that gives at most six intervals, so
/// that every label is a round number (or a round size) and there are at least two.
pub fn round_ticks(lo: u64, hi: u64, sizes: bool) -> Vec<u64> {
    let span = hi.saturating_sub(lo).max(1);
    let steps: Box<dyn Iterator<Item = u64>> = if sizes {
        Box::new((12..64).map(|shift| 1u64 << shift))
    } else {
        Box::new(
            (0..19u32)
                .flat_map(|k| [1, 2, 5].map(|m| m * 10u64.pow(k)))
                .chain([u64::MAX]),
        )
    };
    let step = steps
        .into_iter()
        .find(|&s| span / s <= 6)
        .unwrap_or(u64::MAX);
    let first = lo.div_ceil(step).saturating_mul(step);
    let mut ticks: Vec<u64> = std::iter::successors(Some(first), |&v| v.checked_add(step))
        .take_while(|&v| v <= hi)
        .collect();
    if ticks.len() < 2 {
        ticks = vec![lo, hi];
    }
    ticks
}

/// The colour of each outcome, along the bottom of a picture `height` px high.
fn legend(left: f64, height: f64) -> String {
    let mut s = String::new();
    let kinds = [
        OutcomeKind::Survived,
        OutcomeKind::Oom,
        OutcomeKind::Stalled,
    ];
    for (i, kind) in kinds.into_iter().enumerate() {
        let x = left + 160.0 * i as f64;
        s += &format!(
            "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"12\" height=\"12\" fill=\"{}\"/><text x=\"{:.1}\" y=\"{:.1}\">{}</text>\n",
            height - 14.0,
            colour(kind),
            x + 16.0,
            height - 3.0,
            kind.name()
        );
    }
    s
}

/// The one XML escaper (SVG, the HTML page, JUnit, plots): text for an element or an attribute
/// value. Characters XML 1.0 does not allow (controls other than tab, newline, return) are dropped.
pub(crate) fn xml(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => o.push(c),
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_escaper_drops_characters_xml_forbids() {
        assert_eq!(xml("a<b & \"c\"\u{1}"), "a&lt;b &amp; &quot;c&quot;");
    }

    #[test]
    fn svg_is_well_formed_and_escaped() {
        let s = svg(
            "a <b>",
            "x",
            &[(0.5, "1GiB".into())],
            &[Band {
                label: "ext4/redirty".into(),
                segments: vec![
                    (0.0, 0.5, OutcomeKind::Survived),
                    (0.5, 1.0, OutcomeKind::Oom),
                ],
                mark: Some((0.5, "≥ 1GiB".into())),
            }],
        );
        assert!(s.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(s.contains("a &lt;b&gt;"));
        assert!(s.contains("fill=\"#ee7733\""));
        assert_eq!(s.matches("<rect").count(), 1 + 2 + 3);
        assert!(s.ends_with("</svg>\n"));
        assert!(s.contains("class=\"threshold\""));
    }

    #[test]
    fn ticks_are_round_numbers_or_power_of_two_sizes_inside_the_range() {
        assert_eq!(round_ticks(1000, 1777, false), vec![1000, 1200, 1400, 1600]);
        assert_eq!(round_ticks(10, 100, false), vec![20, 40, 60, 80, 100]);
        assert_eq!(round_ticks(3, 7, false), vec![3, 4, 5, 6, 7]);
        let mib = 1u64 << 20;
        assert_eq!(
            round_ticks(512 * mib, 960 * mib, true),
            vec![512 * mib, 640 * mib, 768 * mib, 896 * mib]
        );
        assert_eq!(round_ticks(5, 5, false), vec![5, 5]);
        assert!(round_ticks(0, u64::MAX, false).len() >= 2);
    }
}
