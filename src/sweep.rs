//! `wbsim sweep`: `--vary` value lists and ranges, the `--find-threshold` bisection, and the
//! `--plot` outcome map.
//!
//! A sweep is a scenario with more matrix axes: `--vary` goes through the loader's matrix
//! machinery ([`crate::scenario::matrix::vary`]), so values are validated exactly like
//! `[matrix]` values. A threshold search bisects one path between two values for each cell and
//! policy, assuming the outcome changes once over the range; the report gives the bracketing
//! runs so the assumption can be checked (or a grid run over the same range).

use std::sync::Arc;

use anyhow::bail;

use crate::report::build::{self, Extras};
use crate::report::document::{
    Bracket, Plan, PlanCommand, RunRecord, ScenarioRecord, ShardRecord, ThresholdPlan,
    ThresholdRecord,
};
use crate::report::svg::{svg, Band};
use crate::run::{CheckFailed, Runner};
use crate::scenario::error::Source;
use crate::scenario::matrix::{Vary, POLICY_AXIS};
use crate::scenario::units::parse_size;
use crate::scenario::{load_source_varied, Overrides, Scenario};
use crate::shard::Shard;

/// The most values one `--vary` range may expand to.
pub const MAX_RANGE_VALUES: u64 = 10_000;

/// A numeric range `LO..HI:STEP` of integers or sizes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Range {
    /// Low end.
    pub lo: u64,
    /// High end (inclusive).
    pub hi: u64,
    /// Step (or bisection resolution).
    pub step: u64,
    /// Sizes (shown as `1.25GiB`) rather than plain integers.
    pub sizes: bool,
}

impl Range {
    /// A value as the loader reads it.
    pub fn show(&self, v: u64) -> String {
        if self.sizes {
            format_size(v)
        } else {
            v.to_string()
        }
    }

    /// How many points `lo, lo+step, …, hi` has (`hi` is included even off-step).
    pub fn count(&self) -> u64 {
        (self.hi - self.lo).div_ceil(self.step) + 1
    }

    /// Point `k` of `0..count()`.
    pub fn value(&self, k: u64) -> u64 {
        self.lo
            .saturating_add(k.saturating_mul(self.step))
            .min(self.hi)
    }

    /// Every point.
    pub fn points(&self) -> Vec<u64> {
        (0..self.count()).map(|k| self.value(k)).collect()
    }
}

/// Bytes as the shortest exact size: `1GiB`, `1.25GiB`, `1025MiB`, `4097`.
pub fn format_size(bytes: u64) -> String {
    for (unit, mult) in [("GiB", 1u64 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)] {
        if bytes >= mult && (u128::from(bytes) * 100) % u128::from(mult) == 0 {
            let hundredths = u128::from(bytes) * 100 / u128::from(mult);
            let (whole, frac) = (hundredths / 100, hundredths % 100);
            return match frac {
                0 => format!("{whole}{unit}"),
                f if f % 10 == 0 => format!("{whole}.{}{unit}", f / 10),
                f => format!("{whole}.{f:02}{unit}"),
            };
        }
    }
    bytes.to_string()
}

/// Parses `LO..HI` with an optional `:STEP`: integers (`10..40:5`) or sizes
/// (`1GiB..3.75GiB:256MiB`). `default_step` applies when STEP is omitted (`None`: required);
/// `max_points` bounds the number of points (a grid runs each; a bisection does not).
pub fn parse_range(
    text: &str,
    default_step: impl Fn(bool) -> Option<u64>,
    max_points: Option<u64>,
) -> Result<Range, String> {
    let (lo, rest) = text
        .split_once("..")
        .ok_or_else(|| format!("`{text}` is not a range LO..HI:STEP"))?;
    let (hi, step) = match rest.split_once(':') {
        Some((h, s)) => (h, Some(s)),
        None => (rest, None),
    };
    let ints = [lo, hi]
        .iter()
        .chain(step.iter())
        .all(|t| t.trim().parse::<u64>().is_ok());
    let num = |t: &str| -> Result<u64, String> {
        if ints {
            t.trim().parse().map_err(|e| format!("`{t}`: {e}"))
        } else {
            parse_size(t).map_err(|e| {
                if crate::scenario::units::parse_duration(t).is_ok() {
                    format!(
                        "`{t}` is a duration; durations are not searchable or ranged: a range is \
                         of sizes (`1GiB..4GiB:256MiB`) or integers (`10..40:5`); list durations \
                         instead (`--vary PATH=1s,2s,5s`)"
                    )
                } else {
                    e
                }
            })
        }
    };
    let (lo, hi) = (num(lo)?, num(hi)?);
    let step = match step {
        Some(s) => num(s)?,
        None => default_step(!ints).ok_or_else(|| {
            format!(
                "`{text}`: give a step, e.g. `{}..{}:256MiB`",
                format_size(lo),
                format_size(hi)
            )
        })?,
    };
    if step == 0 {
        return Err(format!("`{text}`: the step must be greater than zero"));
    }
    if hi < lo {
        return Err(format!("`{text}`: the high end is below the low end"));
    }
    if let Some(max) = max_points {
        if (hi - lo) / step >= max {
            return Err(format!(
                "`{text}` has more than {max} values; use a larger step"
            ));
        }
    }
    Ok(Range {
        lo,
        hi,
        step,
        sizes: !ints,
    })
}

/// Parses `--vary PATH=V1,V2,…` or `--vary PATH=LO..HI:STEP`.
pub fn parse_vary(arg: &str) -> anyhow::Result<Vary> {
    let (path, list) = split_arg(arg, "--vary", "PATH=V1,V2 or PATH=LO..HI:STEP")?;
    let values = if list.contains("..") {
        let r = parse_range(list, |sizes| (!sizes).then_some(1), Some(MAX_RANGE_VALUES))
            .map_err(|e| anyhow::anyhow!("in `--vary {arg}`: {e}"))?;
        r.points().into_iter().map(|v| r.show(v)).collect()
    } else {
        let v: Vec<String> = list.split(',').map(|s| s.trim().to_string()).collect();
        if v.iter().any(String::is_empty) {
            bail!("in `--vary {arg}`: an empty value; expected PATH=V1,V2,… (e.g. `mount.backup.fs=ext3,ext4`)");
        }
        v
    };
    Ok(Vary {
        path,
        values,
        arg: format!("--vary {arg}"),
    })
}

fn split_arg<'a>(arg: &'a str, flag: &str, shape: &str) -> anyhow::Result<(String, &'a str)> {
    match arg.split_once('=') {
        Some((p, v)) if !p.trim().is_empty() && !v.trim().is_empty() => Ok((p.trim().into(), v)),
        _ => bail!("`{flag} {arg}` is not {shape}"),
    }
}

/// A parsed `--find-threshold PATH=LO..HI[:RES]`.
#[derive(Clone, Debug)]
pub struct Threshold {
    /// The path.
    pub path: String,
    /// The range; `step` is the resolution.
    pub range: Range,
}

/// Parses `--find-threshold`.
pub fn parse_threshold(arg: &str) -> anyhow::Result<Threshold> {
    let (path, range) = split_arg(
        arg,
        "--find-threshold",
        "PATH=LO..HI or PATH=LO..HI:RESOLUTION",
    )?;
    if path == POLICY_AXIS {
        bail!(
            "`--find-threshold {arg}`: the policy is not a number; every search is done per policy"
        );
    }
    let range = parse_range(range, |sizes| Some(if sizes { 1 << 20 } else { 1 }), None)
        .map_err(|e| anyhow::anyhow!("in `--find-threshold {arg}`: {e}"))?;
    Ok(Threshold { path, range })
}

/// Everything a threshold search needs to load probes.
pub struct Search<'a> {
    /// The scenario text.
    pub src: Arc<Source>,
    /// `--set`, `--policy`, `--seed`.
    pub overrides: &'a Overrides,
    /// `--vary` axes (the other cells).
    pub vary: &'a [Vary],
    /// The searched path and range.
    pub threshold: &'a Threshold,
}

/// A probe of a search: the searched value as shown, and the run's record.
type Probe = (String, RunRecord);

impl Search<'_> {
    /// The scenario with the searched path at one value.
    fn at(&self, value: u64) -> anyhow::Result<Scenario> {
        let mut vary = self.vary.to_vec();
        let shown = self.threshold.range.show(value);
        vary.push(Vary {
            path: self.threshold.path.clone(),
            values: vec![shown.clone()],
            arg: format!("--find-threshold {}={shown}", self.threshold.path),
        });
        Ok(load_source_varied(&self.src, self.overrides, &vary)?)
    }

    /// The plan of the search: the scenario's axes without the searched path, no `[expect]`.
    fn plan(&self, base: &Scenario) -> Plan {
        let r = self.threshold.range;
        let varied: Vec<String> = self.vary.iter().map(|v| v.path.clone()).collect();
        let mut plan = build::plan(base, PlanCommand::Sweep, &varied);
        plan.remove_axis(&self.threshold.path);
        plan.expect = None;
        plan.threshold = Some(ThresholdPlan {
            path: self.threshold.path.clone(),
            lo: r.show(r.lo),
            hi: r.show(r.hi),
            resolution: r.show(r.step),
        });
        plan
    }

    /// Runs every search (those of `shard` only, when given) with `runner` and returns the
    /// scenario's record. A probe that fails a check is a [`crate::run::BugFound`] with the
    /// command that reproduces that probe.
    pub fn run(&self, runner: &Runner, shard: Option<Shard>) -> anyhow::Result<ScenarioRecord> {
        let r = self.threshold.range;
        // Every probe value is validated up front (both ends, and an error is reported once).
        let base = self.at(r.lo)?;
        self.at(r.hi)?;
        let plan = self.plan(&base);
        let total = base.runs.len();
        let held: Vec<usize> = (0..total)
            .filter(|&g| shard.map_or(true, |s| s.holds(g)))
            .collect();
        let results = runner.map(&held, |&g| self.bisect(runner, &plan, &base.file, g));
        let thresholds = results.into_iter().collect::<anyhow::Result<Vec<_>>>()?;
        let mut record = ScenarioRecord {
            file: base.file.clone(),
            name: base.name.clone(),
            release: None,
            seed: None,
            runs: Vec::new(),
            comparisons: Vec::new(),
            summaries: Vec::new(),
            checks: None,
            margins: None,
            thresholds: Some(thresholds),
            shard: shard.map(|s| ShardRecord {
                index: s.index,
                count: s.count,
                total,
                items: held.clone(),
            }),
            plan,
            provenance: Some(crate::report::build::provenance(
                &base,
                self.overrides,
                "sweep",
            )),
        };
        record.summarise();
        Ok(record)
    }

    /// One probe of cell-and-policy `g` at point `k` of the range.
    fn probe(
        &self,
        runner: &Runner,
        plan: &Plan,
        file: &str,
        g: usize,
        k: u64,
    ) -> anyhow::Result<Probe> {
        let range = self.threshold.range;
        let shown = range.show(range.value(k));
        let sc = self.at(range.value(k))?;
        let run = &sc.runs[g];
        let out = runner.run_one(&run.spec).map_err(|message| {
            let command = self.reproduce(plan, file, g, &shown, run.spec.seed);
            CheckFailed { job: g, message }.with_reproduce(&(command + &runner.checks.flags()))
        })?;
        Ok((
            shown,
            build::run_record(run, &out.result, Extras::default()),
        ))
    }

    /// The command that reproduces cell-and-policy `g` at the searched value `value`.
    fn reproduce(&self, plan: &Plan, file: &str, g: usize, value: &str, seed: u64) -> String {
        let components = plan.components(g);
        plan.reproduce(file, &components, seed, Some((&self.threshold.path, value)))
    }

    /// Bisects the searched value for cell-and-policy `g`.
    fn bisect(
        &self,
        runner: &Runner,
        plan: &Plan,
        file: &str,
        g: usize,
    ) -> anyhow::Result<ThresholdRecord> {
        let probe = |k: u64| self.probe(runner, plan, file, g, k);
        let (mut lo, mut hi) = (0, self.threshold.range.count() - 1);
        let mut below = probe(lo)?;
        let mut above = probe(hi)?;
        let mut probes = 2;
        let flips = below.1.outcome.kind != above.1.outcome.kind;
        if flips {
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                let m = probe(mid)?;
                probes += 1;
                if m.1.outcome.kind == below.1.outcome.kind {
                    lo = mid;
                    below = m;
                } else {
                    hi = mid;
                    above = m;
                }
            }
        }
        let bracket = |(value, run): Probe| Bracket {
            reproduce: self.reproduce(plan, file, g, &value, run.seed),
            value,
            run,
        };
        Ok(ThresholdRecord {
            label: crate::scenario::matrix::label(&plan.components(g)),
            policy: below.1.policy,
            path: self.threshold.path.clone(),
            threshold: flips.then(|| above.0.clone()),
            from: below.1.outcome.kind,
            to: above.1.outcome.kind,
            probes,
            below: bracket(below),
            above: bracket(above),
        })
    }
}

/// The outcome map of a grid sweep: x is the first `--vary` axis (categorical), one band per
/// combination of the other components (policy included).
pub fn grid_map(sc: &ScenarioRecord) -> anyhow::Result<String> {
    let Some(xi) = sc
        .plan
        .axes
        .iter()
        .position(|a| a.varied && a.path != POLICY_AXIS)
    else {
        bail!("--plot needs a --vary axis (or --find-threshold) to draw along");
    };
    let xs = &sc.plan.axes[xi].values;
    let n = xs.len() as f64;
    let mut bands: Vec<Band> = Vec::new();
    for (components, run) in sc.runs_with_components() {
        let key: Vec<String> = components
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != xi)
            .map(|(_, c)| c.clone())
            .collect();
        let label = crate::scenario::matrix::label(&key);
        let x = xs.iter().position(|v| *v == components[xi]).unwrap_or(0) as f64;
        let seg = (x / n, (x + 1.0) / n, run.outcome.kind);
        match bands.iter_mut().find(|b| b.label == label) {
            Some(b) => b.segments.push(seg),
            None => bands.push(Band {
                label,
                segments: vec![seg],
                mark: None,
            }),
        }
    }
    let ticks: Vec<(f64, String)> = xs
        .iter()
        .enumerate()
        .map(|(i, v)| ((i as f64 + 0.5) / n, v.clone()))
        .collect();
    Ok(svg(
        &format!("{} — outcome over {}", sc.name, sc.plan.axes[xi].path),
        &sc.plan.axes[xi].path,
        &ticks,
        &bands,
    ))
}

/// The outcome map of a threshold search: x is the searched range (linear), each band coloured
/// with the low-end outcome up to the threshold and the other outcome from it.
pub fn threshold_map(sc: &ScenarioRecord, range: &Range) -> String {
    let span = (range.hi - range.lo).max(1) as f64;
    let frac = |v: &str| -> f64 {
        let x = if range.sizes {
            parse_size(v).unwrap_or(range.lo)
        } else {
            v.parse().unwrap_or(range.lo)
        };
        (x.saturating_sub(range.lo)) as f64 / span
    };
    let bands: Vec<Band> = sc
        .thresholds
        .iter()
        .flatten()
        .map(|t| Band {
            label: t.label.clone(),
            segments: match &t.threshold {
                Some(v) => {
                    // The flip lies between the bracketing values; draw it at the midpoint.
                    let at = (frac(&t.below.value) + frac(v)) / 2.0;
                    vec![(0.0, at, t.from), (at, 1.0, t.to)]
                }
                None => vec![(0.0, 1.0, t.from)],
            },
            // The threshold itself, marked where the outcome first differs, with its value.
            mark: t
                .threshold
                .as_ref()
                .map(|v| (frac(v), format!("{} from {v}", t.to.name()))),
        })
        .collect();
    let ticks: Vec<(f64, String)> =
        crate::report::svg::round_ticks(range.lo, range.hi, range.sizes)
            .into_iter()
            .map(|v| ((v - range.lo) as f64 / span, range.show(v)))
            .collect();
    let path = sc
        .plan
        .threshold
        .as_ref()
        .map_or(String::new(), |t| t.path.clone());
    svg(
        &format!("{} — outcome over {path}", sc.name),
        &path,
        &ticks,
        &bands,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_print_short_and_exact() {
        assert_eq!(format_size(1 << 30), "1GiB");
        assert_eq!(format_size(5 << 28), "1.25GiB");
        assert_eq!(format_size(3 << 29), "1.5GiB");
        assert_eq!(format_size((1 << 30) + (1 << 20)), "1025MiB");
        assert_eq!(format_size(4097), "4097");
        for b in [1u64 << 30, 5 << 28, 3 << 29, 1025 << 20, 4097, 123 << 10] {
            assert_eq!(parse_size(&format_size(b)), Ok(b), "{b}");
        }
    }

    #[test]
    fn ranges() {
        let r = parse_range("1GiB..3.75GiB:256MiB", |_| None, Some(MAX_RANGE_VALUES)).unwrap();
        let shown: Vec<String> = r.points().iter().map(|&v| r.show(v)).collect();
        assert_eq!(shown.len(), 12);
        assert_eq!(shown[..3], ["1GiB", "1.25GiB", "1.5GiB"]);
        assert_eq!(shown[11], "3.75GiB");
        let r = parse_range("10..25:10", |_| None, Some(MAX_RANGE_VALUES)).unwrap();
        assert_eq!(r.points(), [10, 20, 25]);
        assert!(!r.sizes);
        assert!(parse_range("1GiB..2GiB", |_| None, Some(MAX_RANGE_VALUES))
            .unwrap_err()
            .contains("give a step"));
        assert!(parse_range("5..1:1", |_| None, Some(MAX_RANGE_VALUES))
            .unwrap_err()
            .contains("below"));
        assert!(parse_range("1..5:0", |_| None, Some(MAX_RANGE_VALUES))
            .unwrap_err()
            .contains("greater than zero"));
        assert!(parse_range("0..100000:1", |_| None, Some(MAX_RANGE_VALUES))
            .unwrap_err()
            .contains("more than"));
        assert!(parse_range("1..x:1", |_| None, Some(MAX_RANGE_VALUES)).is_err());
    }

    #[test]
    fn vary_arguments() {
        let v = parse_vary("mount.backup.fs=ext3,ext4").unwrap();
        assert_eq!((v.path.as_str(), v.values.len()), ("mount.backup.fs", 2));
        let v = parse_vary("vm.dirty_ratio=10..30:10").unwrap();
        assert_eq!(v.values, ["10", "20", "30"]);
        assert!(parse_vary("vm.dirty_ratio").is_err());
        assert!(parse_vary("vm.dirty_ratio=10,,20").is_err());
        let t = parse_threshold("task.db.size=1GiB..2GiB").unwrap();
        assert_eq!(t.range.step, 1 << 20);
        assert!(parse_threshold("policy=1..2").is_err());
    }
}
