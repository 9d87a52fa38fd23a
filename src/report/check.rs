//! `wbsim check`: compares results with `[expect]` and builds the command that reproduces a cell.

use super::{secs, ScenarioResults};
use crate::outcome::Outcome;
use crate::scenario::{Expectation, PlannedRun, Scenario};

/// One expectation applied to one cell.
#[derive(Debug, Clone)]
pub struct CheckLine {
    /// Whether the result matched.
    pub pass: bool,
    /// The file.
    pub file: String,
    /// The `[expect]` key.
    pub pattern: String,
    /// The cell label.
    pub cell: String,
    /// What was expected.
    pub expected: String,
    /// What happened.
    pub got: String,
    /// The command that reproduces this cell.
    pub reproduce: String,
}

impl CheckLine {
    /// `PASS file cell: expected …, got …`.
    pub fn line(&self) -> String {
        format!(
            "{} {} {}: expected {}, got {}",
            if self.pass { "PASS" } else { "FAIL" },
            self.file,
            self.cell,
            self.expected,
            self.got
        )
    }
}

/// Checks every expectation against every run it matches (runs removed by `--set`/`--policy`
/// are not checked).
pub fn check(sr: &ScenarioResults<'_>) -> Vec<CheckLine> {
    let mut out = Vec::new();
    for exp in sr.scenario.expectations.iter().flatten() {
        for (run, res) in sr.pairs() {
            if !crate::scenario::matrix::pattern_matches(&exp.pattern, &run.components) {
                continue;
            }
            out.push(CheckLine {
                pass: holds(exp, &res.outcome),
                file: sr.scenario.file.clone(),
                pattern: exp.pattern.clone(),
                cell: run.label.clone(),
                expected: exp.describe(),
                got: describe(&res.outcome),
                reproduce: reproduce(sr.scenario, run),
            });
        }
    }
    out
}

fn holds(exp: &Expectation, o: &Outcome) -> bool {
    if exp.outcome != o.kind() {
        return false;
    }
    match o {
        Outcome::Oom {
            victim, invoker, ..
        } => {
            exp.victim.as_ref().map_or(true, |v| v == victim)
                && exp.invoker.as_ref().map_or(true, |i| i == invoker)
        }
        _ => true,
    }
}

/// How an outcome reads in a check line.
pub fn describe(o: &Outcome) -> String {
    match o {
        Outcome::Oom {
            at_ns,
            victim,
            invoker,
            ..
        } => {
            format!(
                "oom (victim {}, invoker {invoker}) at {} s",
                if victim.is_empty() {
                    "none: panic"
                } else {
                    victim
                },
                secs(*at_ns)
            )
        }
        Outcome::Survived { at_ns } => format!("survived at {} s", secs(*at_ns)),
        Outcome::Stalled { at_ns, reason } => format!("stalled at {} s ({reason})", secs(*at_ns)),
    }
}

/// `wbsim run FILE --set AXIS=VALUE … --policy P --seed N`.
pub fn reproduce(sc: &Scenario, run: &PlannedRun) -> String {
    let mut words = vec!["wbsim".to_string(), "run".into(), quote(&sc.file)];
    for s in &sc.plain_sets {
        words.push("--set".into());
        words.push(quote(s));
    }
    for (axis, comp) in sc.axes.iter().zip(&run.components) {
        if !axis.is_policy() && axis.declared {
            words.push("--set".into());
            words.push(quote(&format!("{}={comp}", axis.path)));
        }
    }
    words.push("--policy".into());
    words.push(run.spec.policy.name().into());
    words.push("--seed".into());
    words.push(run.spec.seed.to_string());
    words.join(" ")
}

/// Quotes a word for a POSIX shell when it needs it.
pub fn quote(s: &str) -> String {
    let safe = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if safe {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn quoting() {
        assert_eq!(quote("a/b.toml"), "a/b.toml");
        assert_eq!(
            quote("scenario.duration=1h 30m"),
            "'scenario.duration=1h 30m'"
        );
        assert_eq!(quote("it's"), "'it'\\''s'");
    }
}
