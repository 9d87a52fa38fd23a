//! `wbsim check`: how outcomes read in check lines, the check table in each format, and shell
//! quoting for reproduce commands.

use super::doc::{CheckDoc, Document, OutcomeDoc};
use super::grid::{Column, Field, Grid};

/// `PASS file cell: expected …, got …`.
pub fn line(file: &str, c: &CheckDoc) -> String {
    format!(
        "{} {} {}: expected {}, got {}",
        if c.pass { "PASS" } else { "FAIL" },
        file,
        c.cell,
        c.expected,
        c.got
    )
}

/// The text of `check --format table`: one line per check, each failure followed by the
/// command that reproduces it.
pub fn lines(doc: &Document) -> String {
    let mut out = String::new();
    for sc in &doc.scenarios {
        for c in sc.checks.iter().flatten() {
            out.push_str(&line(&sc.file, c));
            out.push('\n');
            if !c.pass {
                out.push_str(&format!("  reproduce: {}\n", c.reproduce));
            }
        }
    }
    out
}

/// One grid per scenario: a row per check. `flat` (CSV) repeats the file and scenario on every
/// row; Markdown has them in the heading.
pub fn grids(doc: &Document, flat: bool) -> Vec<Grid> {
    doc.scenarios
        .iter()
        .map(|sc| {
            let checks = sc.checks.as_deref().unwrap_or_default();
            Grid {
                title: format!("{} ({})", sc.name, sc.file),
                columns: [
                    "file",
                    "scenario",
                    "result",
                    "expect",
                    "cell",
                    "expected",
                    "got",
                    "reproduce",
                ]
                .into_iter()
                .map(Column::left)
                .collect(),
                rows: checks
                    .iter()
                    .map(|c| {
                        vec![
                            Field::text(&sc.file),
                            Field::text(&sc.name),
                            Field::text(if c.pass { "PASS" } else { "FAIL" }),
                            Field::text(&c.expect),
                            Field::text(&c.cell),
                            Field::text(&c.expected),
                            Field::text(&c.got),
                            Field::text(&c.reproduce),
                        ]
                    })
                    .collect(),
                notes: vec![summary(checks)],
            }
        })
        .map(|mut g: Grid| {
            if !flat {
                g.columns.drain(..2);
                for r in &mut g.rows {
                    r.drain(..2);
                }
            }
            g
        })
        .collect()
}

/// `3 passed, 1 failed`.
pub fn summary(checks: &[CheckDoc]) -> String {
    let failed = checks.iter().filter(|c| !c.pass).count();
    format!("{} passed, {failed} failed", checks.len() - failed)
}

/// How an outcome reads in a check line.
pub fn describe(o: &OutcomeDoc) -> String {
    match o.kind.as_str() {
        "oom" => format!(
            "oom (victim {}, invoker {}) at {:.1} s",
            match o.victim.as_deref() {
                None | Some("") => "none: panic",
                Some(v) => v,
            },
            o.invoker.as_deref().unwrap_or("?"),
            o.at_s
        ),
        "survived" => format!("survived at {:.1} s", o.at_s),
        _ => format!(
            "stalled at {:.1} s ({})",
            o.at_s,
            o.reason.as_deref().unwrap_or("")
        ),
    }
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
