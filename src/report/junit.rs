//! `wbsim check --junit FILE.xml`: a JUnit XML report (the dialect Jenkins, GitLab and GitHub
//! test reporters read): one `<testsuite>` per scenario file, one `<testcase>` per expectation
//! and cell, a `<failure>` carrying what was expected, what happened and the reproduce command.

use super::document::{Document, ScenarioRecord};
use crate::report::svg::xml;

/// The XML text.
pub fn render(doc: &Document) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let all: Vec<_> = doc
        .scenarios
        .iter()
        .flat_map(|s| s.checks.iter().flatten())
        .collect();
    let failures = all.iter().filter(|c| !c.pass).count();
    let skipped: usize = doc.scenarios.iter().map(|s| skips(s).len()).sum();
    out.push_str(&format!(
        "<testsuites name=\"wbsim check\" tests=\"{}\" failures=\"{failures}\" skipped=\"{skipped}\">\n",
        all.len() + skipped
    ));
    for sc in &doc.scenarios {
        let checks = sc.checks.as_deref().unwrap_or_default();
        let failed = checks.iter().filter(|c| !c.pass).count();
        let skips = skips(sc);
        out.push_str(&format!(
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failed}\" errors=\"0\" skipped=\"{}\">\n",
            xml(&sc.file),
            checks.len() + skips.len(),
            skips.len()
        ));
        for c in checks {
            let name = format!("{} [expect {}]", c.cell, c.expect);
            out.push_str(&format!(
                "    <testcase classname=\"{}\" name=\"{}\"",
                xml(&sc.name),
                xml(&name)
            ));
            if c.pass {
                out.push_str("/>\n");
            } else {
                out.push_str(">\n");
                out.push_str(&format!(
                    "      <failure message=\"expected {}, got {}\" type=\"mismatch\">reproduce: {}</failure>\n",
                    xml(&c.expected),
                    xml(&c.got),
                    xml(&c.reproduce)
                ));
                out.push_str("    </testcase>\n");
            }
        }
        for (name, why) in skips {
            out.push_str(&format!(
                "    <testcase classname=\"{}\" name=\"{}\">\n      <skipped message=\"{}\"/>\n    </testcase>\n",
                xml(&sc.name),
                xml(&name),
                xml(&why)
            ));
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

/// What a scenario did not check, as `(test case name, why)`: the whole file when it has no
/// `[expect]`, and each expectation that matched no run of the command (`--set`/`--policy`
/// left none of its cells).
fn skips(sc: &ScenarioRecord) -> Vec<(String, String)> {
    let Some(expect) = &sc.plan.expect else {
        return vec![(
            "[expect]".to_string(),
            "the file has no [expect] table; nothing was checked".to_string(),
        )];
    };
    let checks = sc.checks.as_deref().unwrap_or_default();
    expect
        .iter()
        .filter(|e| !checks.iter().any(|c| c.expect == e.pattern))
        .map(|e| {
            (
                format!("[expect {}]", e.pattern),
                "matches no run of this command (--set/--policy left none of its cells)".into(),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::OutcomeKind;
    use crate::report::build::checks;
    use crate::report::document::{Document, ExpectRecord};

    /// The grids' fixture document, checked against one expectation: `pattern` survives.
    fn expecting_survival(pattern: &str) -> Document {
        let mut doc = crate::report::grids::tests::fixture();
        let sc = &mut doc.scenarios[0];
        sc.plan.expect = Some(vec![ExpectRecord {
            pattern: pattern.into(),
            outcome: OutcomeKind::Survived,
            victim: None,
            invoker: None,
        }]);
        sc.checks = Some(checks(sc));
        doc
    }

    #[test]
    fn failures_carry_the_reproduce_command() {
        let xml = render(&expecting_survival("xfs/*"));
        assert!(
            xml.contains(
                "<testsuites name=\"wbsim check\" tests=\"2\" failures=\"1\" skipped=\"0\">"
            ),
            "{xml}"
        );
        assert!(
            xml.contains("<testcase classname=\"t\" name=\"xfs/activate [expect xfs/*]\"/>"),
            "{xml}"
        );
        assert!(xml.contains("<failure message=\"expected survived, got oom (victim dd, invoker dd) at 12.3 s\" type=\"mismatch\">reproduce: wbsim run t.toml --set mount.m.fs=xfs --policy redirty --seed 1</failure>"), "{xml}");
    }

    #[test]
    fn the_escaper_drops_characters_xml_forbids() {
        assert_eq!(xml("a<b & \"c\"\u{1}"), "a&lt;b &amp; &quot;c&quot;");
    }

    #[test]
    fn an_expectation_that_matched_no_run_and_a_file_without_expect_are_skipped() {
        let mut doc = expecting_survival("ext3/*");
        let xml = render(&doc);
        assert!(
            xml.contains("tests=\"1\" failures=\"0\" skipped=\"1\">"),
            "{xml}"
        );
        assert!(
            xml.contains("name=\"[expect ext3/*]\">\n      <skipped message=\"matches no run"),
            "{xml}"
        );
        doc.scenarios[0].plan.expect = None;
        let xml = render(&doc);
        assert!(
            xml.contains("<skipped message=\"the file has no [expect] table"),
            "{xml}"
        );
    }
}
