//! `wbsim check --junit FILE.xml`: a JUnit XML report (the dialect Jenkins, GitLab and GitHub
//! test reporters read): one `<testsuite>` per scenario file, one `<testcase>` per expectation
//! and cell, a `<failure>` carrying what was expected, what happened and the reproduce command.
//! Written by the `quick-junit` crate (nextest's), which escapes and counts; this file only maps
//! the document onto its types.

use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use super::document::{Document, RunRecord, ScenarioRecord};

/// The XML text. `elapsed` is the command's wall time, the `time` of `<testsuites>`: the cells
/// run in parallel, so no test case has a time of its own (each carries its simulated seconds
/// as a property instead).
pub fn render(doc: &Document, elapsed: Option<Duration>) -> String {
    let mut report = Report::new("wbsim check");
    if let Some(t) = elapsed {
        report.set_time(t);
    }
    for sc in &doc.scenarios {
        report.add_test_suite(suite(sc, &doc.wbsim_version));
    }
    // Serialising into a String cannot fail: the only errors are the writer's.
    report.to_string().expect("JUnit XML into a String")
}

/// One scenario file: its properties, a test case per check, a skipped one per skip.
fn suite(sc: &ScenarioRecord, version: &str) -> TestSuite {
    let mut suite = TestSuite::new(sc.file.as_str());
    suite.add_property(Property::new("wbsim_version", version));
    suite.add_property(Property::new("scenario", sc.name.as_str()));
    if let Some(release) = &sc.release {
        suite.add_property(Property::new("release", release.as_str()));
    }
    if let Some(seed) = sc.seed {
        suite.add_property(Property::new("seed", seed.to_string()));
    }
    for c in sc.checks.as_deref().unwrap_or_default() {
        let status = if c.pass {
            TestCaseStatus::success()
        } else {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            s.set_message(format!("expected {}, got {}", c.expected, c.got))
                .set_type("mismatch")
                .set_description(format!("reproduce: {}", c.reproduce));
            s
        };
        let mut case = TestCase::new(format!("{} [expect {}]", c.cell, c.expect), status);
        case.set_classname(sc.name.as_str());
        if let Some(run) = sc.runs.iter().find(|r| r.label == c.cell) {
            case.add_properties(run_properties(run));
        }
        suite.add_test_case(case);
    }
    for (name, why) in skips(sc) {
        let mut status = TestCaseStatus::skipped();
        status.set_message(why);
        let mut case = TestCase::new(name, status);
        case.set_classname(sc.name.as_str());
        suite.add_test_case(case);
    }
    suite
}

/// What a reader needs to rerun or place a cell: policy, release, seed, simulated seconds.
fn run_properties(run: &RunRecord) -> Vec<Property> {
    vec![
        Property::new("policy", run.policy.name()),
        Property::new("release", run.release.as_str()),
        Property::new("seed", run.seed.to_string()),
        Property::new("sim_seconds", format!("{:.3}", run.sim_seconds)),
    ]
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

    fn render_fixed(doc: &Document) -> String {
        render(doc, None)
    }

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
        let xml = render_fixed(&expecting_survival("xfs/*"));
        assert!(
            xml.contains(
                "<testsuites name=\"wbsim check\" tests=\"2\" skipped=\"0\" failures=\"1\" errors=\"0\">"
            ),
            "{xml}"
        );
        assert!(
            xml.contains("<testcase name=\"xfs/activate [expect xfs/*]\" classname=\"t\">"),
            "{xml}"
        );
        assert!(xml.contains("<failure message=\"expected survived, got oom (victim dd, invoker dd) at 12.3 s\" type=\"mismatch\">reproduce: wbsim run t.toml --set mount.m.fs=xfs --policy redirty --seed 1</failure>"), "{xml}");
    }

    #[test]
    fn an_expectation_that_matched_no_run_and_a_file_without_expect_are_skipped() {
        let mut doc = expecting_survival("ext3/*");
        let xml = render_fixed(&doc);
        assert!(
            xml.contains("tests=\"1\" skipped=\"1\" errors=\"0\" failures=\"0\">"),
            "{xml}"
        );
        assert!(
            xml.contains(
                "name=\"[expect ext3/*]\" classname=\"t\">\n            <skipped message=\"matches no run"
            ),
            "{xml}"
        );
        doc.scenarios[0].plan.expect = None;
        let xml = render_fixed(&doc);
        assert!(
            xml.contains("<skipped message=\"the file has no [expect] table"),
            "{xml}"
        );
    }
}
