//! `wbsim study FILE...`: the seed's question answered in one command. For each scenario and
//! each kernel (2.6.32–2.6.36 and the later profiles), the OOM rate of every cell under each
//! policy over the replicas, the policy verdict per cell, optionally the margin (`--margin`), and
//! `history`'s attribution of every outcome change between consecutive kernels (which switch,
//! hence which kernel commit, turned an OOM into survival).
//!
//! Every kernel's runs go to the one runner in one batch (threads, policy twins); the history
//! attribution is `history`'s own, on the deterministic runs (one replica, no noise), so the two
//! commands never disagree about a cause.

use std::sync::Arc;

use serde::Serialize;

use crate::compare::Change;
use crate::margin::{MarginArg, MarginRecord};
use crate::noise::Noise;
use crate::report::build;
use crate::report::document::{Comparison, PlanCommand, Summary};
use crate::report::grid::{Column, Field, Grid};
use crate::run::{Job, Runner};
use crate::scenario::error::Source;
use crate::scenario::{load_source, Overrides, Scenario};

/// The schema tag of `study --format json`.
pub const SCHEMA: &str = "wbsim/study/1";

/// Replicas per cell when neither the file nor `--replicas` says (each kernel multiplies the
/// runs; docs/PERFORMANCE.md has the cost).
pub const DEFAULT_REPLICAS: u32 = 4;

/// The whole study.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct StudyDocument {
    /// [`SCHEMA`].
    pub schema: String,
    /// The version of wbsim that wrote it.
    pub wbsim_version: String,
    /// One entry per scenario file.
    pub scenarios: Vec<ScenarioStudy>,
}

/// One scenario's study.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct ScenarioStudy {
    /// The path as given.
    pub file: String,
    /// `scenario.name`.
    pub name: String,
    /// Replicas per cell and policy.
    pub replicas: u32,
    /// The noise the replicas got.
    pub noise: Noise,
    /// Per kernel, oldest first.
    pub releases: Vec<ReleaseStudy>,
    /// `history`'s outcome changes between consecutive kernels with their causes (deterministic
    /// runs), one line each.
    pub history: Vec<String>,
    /// The answer, one line per cell.
    pub answer: Vec<String>,
    /// What produced it: the file's bytes, `--set`, `--seed`, `--policy`, replicas and every
    /// kernel studied.
    pub provenance: crate::report::document::Provenance,
}

/// One kernel's results.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct ReleaseStudy {
    /// The kernel profile.
    pub release: String,
    /// Each cell and policy over the replicas.
    pub summaries: Vec<Summary>,
    /// Each cell's redirty/activate comparison.
    pub comparisons: Vec<Comparison>,
    /// Each cell and policy's OOM times over the replicas (the distributions `--html` plots).
    pub oom_times: Vec<crate::compare::OomTimes>,
    /// `--margin`: where each cell and policy's OOM rate crosses 50 %.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub margins: Option<Vec<MarginRecord>>,
}

/// The kernels a study covers by default: every profile but 2.6.32.0 (mainline before the
/// -stable fix), oldest first.
pub fn default_releases() -> Vec<String> {
    crate::kernel::Kernel::profile_names()
        .into_iter()
        .filter(|n| *n != "2.6.32.0")
        .map(str::to_string)
        .collect()
}

/// Studies one scenario file over `releases` (empty: [`default_releases`], or the file's own
/// `scenario.release` axis when it has one).
pub fn study(
    src: &Arc<Source>,
    ov: &Overrides,
    releases: &[String],
    margin: Option<&MarginArg>,
    runner: &Runner,
) -> anyhow::Result<ScenarioStudy> {
    let mut ov = ov.clone();
    let base = load_source(src, &ov)?;
    let axis = base.axes.iter().find(|a| a.path == "scenario.release");
    let releases: Vec<String> = match (releases.is_empty(), axis) {
        (false, _) => releases.to_vec(),
        (true, Some(a)) => a.labels(),
        (true, None) => default_releases(),
    };
    let releases = &releases[..];
    if ov.replicas.is_none() {
        let file_replicas = base.replicas;
        ov.replicas = Some(if file_replicas > 1 {
            file_replicas
        } else {
            DEFAULT_REPLICAS
        });
    }
    let per_release: Vec<Scenario> = releases
        .iter()
        .map(|r| load_source(src, &with_release(&ov, r)))
        .collect::<Result<_, _>>()?;
    let out = run_kernels(src, &ov, (&per_release, releases), margin, runner)?;
    let first = &per_release[0];
    let history = history_lines(src, &ov, releases, runner)?;
    let answer = answer_lines(&out, &history);
    let mut provenance = build::provenance(first, &ov, "study");
    provenance.kernels = per_release
        .iter()
        .flat_map(|sc| build::provenance(sc, &ov, "study").kernels)
        .fold(Vec::new(), |mut all, k| {
            if !all.contains(&k) {
                all.push(k);
            }
            all
        });
    Ok(ScenarioStudy {
        file: first.file.clone(),
        name: first.name.clone(),
        replicas: first.replicas,
        noise: first.noise,
        releases: out,
        history,
        answer,
        provenance,
    })
}

/// Runs every kernel's scenario in one batch and summarises each (with its margins when asked).
fn run_kernels(
    src: &Arc<Source>,
    ov: &Overrides,
    (per_release, releases): (&[Scenario], &[String]),
    margin: Option<&MarginArg>,
    runner: &Runner,
) -> anyhow::Result<Vec<ReleaseStudy>> {
    let jobs: Vec<Job<'_>> = per_release
        .iter()
        .flat_map(|sc| {
            sc.runs.iter().map(|run| Job {
                spec: &run.spec,
                name: format!("{} {}", sc.name, run.label),
            })
        })
        .collect();
    let outputs = runner
        .run(&jobs)
        .map_err(|f| anyhow::anyhow!("study: {}", f.message))?;
    let mut results = outputs.iter().map(|o| &o.result);
    let mut out = Vec::new();
    for (sc, release) in per_release.iter().zip(releases) {
        let mine: Vec<_> = results.by_ref().take(sc.runs.len()).collect();
        let held: Vec<usize> = (0..sc.runs.len()).collect();
        let plan = build::plan(sc, PlanCommand::Run, &[]);
        let record = build::scenario_record(sc, plan, &held, &mine, None, Default::default());
        let margins = match margin {
            Some(m) => Some(crate::margin::search(
                src,
                &with_release(ov, release),
                m,
                runner,
            )?),
            None => None,
        };
        out.push(ReleaseStudy {
            release: release.clone(),
            summaries: crate::compare::cell_summaries(&record),
            oom_times: crate::compare::oom_times(&record),
            comparisons: record.comparisons,
            margins,
        });
    }
    Ok(out)
}

/// `ov` with `--set scenario.release=R`.
fn with_release(ov: &Overrides, release: &str) -> Overrides {
    let mut ov = ov.clone();
    ov.sets
        .push(("scenario.release".to_string(), format!("\"{release}\"")));
    ov
}

/// `history`'s flip lines on the deterministic runs (none when the file varies the kernel
/// itself, which `history` refuses).
fn history_lines(
    src: &Arc<Source>,
    ov: &Overrides,
    releases: &[String],
    runner: &Runner,
) -> anyhow::Result<Vec<String>> {
    let mut one = ov.clone();
    one.replicas = Some(1);
    one.noise = Some(false);
    let sc = load_source(src, &one)?;
    let varies_kernel = sc
        .axes
        .iter()
        .any(|a| a.path == "scenario.release" || a.path.starts_with("kernel."));
    if varies_kernel || releases.len() < 2 {
        return Ok(Vec::new());
    }
    Ok(crate::history::history(&sc, releases, runner)?.flip_lines())
}

/// Per cell: on which kernels `activate` turns the OOM into survival (or not), and which later
/// change made `redirty` survive.
fn answer_lines(releases: &[ReleaseStudy], history: &[String]) -> Vec<String> {
    let mut cells: Vec<&str> = Vec::new();
    for r in releases {
        for c in &r.comparisons {
            if !cells.contains(&c.label.as_str()) {
                cells.push(&c.label);
            }
        }
    }
    cells
        .into_iter()
        .map(|cell| cell_answer(cell, releases, history))
        .collect()
}

/// The answer line of one cell.
fn cell_answer(cell: &str, releases: &[ReleaseStudy], history: &[String]) -> String {
    let with = |v: Change| -> Vec<&str> {
        releases
            .iter()
            .filter(|r| {
                r.comparisons
                    .iter()
                    .any(|c| c.label == cell && c.verdict == v)
            })
            .map(|r| r.release.as_str())
            .collect()
    };
    let any_oom = releases
        .iter()
        .flat_map(|r| &r.summaries)
        .any(|x| x.cell == cell && x.oom > 0);
    if !any_oom {
        return format!("{cell}: no OOM under either policy on any kernel");
    }
    let fixes = with(Change::Fix);
    let mut line = if fixes.is_empty() {
        format!("{cell}: activate turns OOM into survival on no kernel")
    } else {
        format!(
            "{cell}: activate turns OOM into survival on {}",
            fixes.join(", ")
        )
    };
    for (v, what) in [
        (
            Change::Inconclusive,
            "rates differ without separating (more replicas?) on",
        ),
        (Change::Delayed, "activate delays the OOM on"),
        (Change::Earlier, "activate brings the OOM earlier on"),
    ] {
        let on = with(v);
        if !on.is_empty() {
            line.push_str(&format!("; {what} {}", on.join(", ")));
        }
    }
    let regressions = with(Change::Regression);
    if !regressions.is_empty() {
        line.push_str(&format!(
            "; OOMs where redirty survives on {}",
            regressions.join(", ")
        ));
    }
    let prefix = format!("{cell}/redirty: ");
    if let Some(h) = history
        .iter()
        .find(|h| h.starts_with(&prefix) && h.contains(": OOM → survived"))
    {
        line.push_str(&format!(
            "; redirty stops going OOM at {}",
            &h[prefix.len()..]
        ));
    }
    line
}

/// The study's grids: per scenario, one row per kernel and cell with each policy's OOM count
/// and the verdict; the answer and history lines under it.
pub fn grids(doc: &StudyDocument) -> Vec<Grid> {
    doc.scenarios.iter().map(grid).collect()
}

fn grid(s: &ScenarioStudy) -> Grid {
    let columns = vec![
        Column::left("kernel"),
        Column::left("cell"),
        Column::right("redirty OOM"),
        Column::right("activate OOM"),
        Column::left("verdict"),
    ];
    let mut rows = Vec::new();
    for r in &s.releases {
        for c in &r.comparisons {
            let count = |p: crate::spec::Policy| {
                r.summaries
                    .iter()
                    .find(|x| x.cell == c.label && x.policy == p)
                    .map_or(Field::Null, |x| {
                        Field::Text(format!("{}/{}", x.oom, x.runs))
                    })
            };
            rows.push(vec![
                Field::text(&r.release),
                Field::text(&c.label),
                count(c.from),
                count(c.to),
                Field::Text(c.verdict.words(c.shift_s)),
            ]);
        }
    }
    let mut notes = vec![format!("noise: {}", s.noise.describe())];
    notes.extend(s.answer.iter().cloned());
    for r in &s.releases {
        if let Some(m) = &r.margins {
            notes.extend(
                crate::margin::answer_lines(m)
                    .into_iter()
                    .map(|l| format!("{}: {l}", r.release)),
            );
        }
    }
    if !s.history.is_empty() {
        notes.push("history (one deterministic run per cell and kernel):".into());
        notes.extend(s.history.iter().map(|h| format!("  {h}")));
    }
    Grid {
        title: format!(
            "{} — {} replicas per cell and policy, {} kernels ({})",
            s.name,
            s.replicas,
            s.releases.len(),
            s.file
        ),
        columns,
        rows,
        notes,
    }
}

/// CSV: one flat row per kernel, cell and policy, then with `--margin` one row per kernel, cell
/// and policy with its margin (`margin_*` columns).
pub fn flat_grids(doc: &StudyDocument) -> Vec<Grid> {
    let mut grids = vec![flat_grid(doc)];
    for s in &doc.scenarios {
        for r in &s.releases {
            if let Some(m) = &r.margins {
                grids.push(crate::report::grids::margin_flat_grid(
                    &s.file,
                    &s.name,
                    Some(&r.release),
                    m,
                ));
            }
        }
    }
    grids
}

/// CSV: one flat row per kernel, cell and policy.
pub fn flat_grid(doc: &StudyDocument) -> Grid {
    let columns = [
        "file",
        "scenario",
        "release",
        "cell",
        "policy",
        "runs",
        "oom",
        "oom_rate",
        "oom_rate_low",
        "oom_rate_high",
        "oom_at_s_median",
        "survived_at_s_median",
        "verdict",
        "shift_s",
    ]
    .map(Column::left)
    .to_vec();
    let mut rows = Vec::new();
    for s in &doc.scenarios {
        for r in &s.releases {
            for x in &r.summaries {
                let c = r.comparisons.iter().find(|c| c.label == x.cell);
                rows.push(vec![
                    Field::text(&s.file),
                    Field::text(&s.name),
                    Field::text(&r.release),
                    Field::text(&x.cell),
                    Field::text(x.policy.name()),
                    Field::UInt(u64::from(x.runs)),
                    Field::UInt(u64::from(x.oom)),
                    Field::float(x.oom_rate, 4),
                    Field::float(x.oom_interval.0, 4),
                    Field::float(x.oom_interval.1, 4),
                    x.oom_at_s
                        .map_or(Field::Null, |t| Field::float(t.median, 1)),
                    x.survived_at_s
                        .map_or(Field::Null, |t| Field::float(t.median, 1)),
                    c.map_or(Field::Null, |c| Field::text(c.verdict.name())),
                    c.and_then(|c| c.shift_s)
                        .map_or(Field::Null, |v| Field::float(v, 1)),
                ]);
            }
        }
    }
    Grid {
        title: String::new(),
        columns,
        rows,
        notes: Vec::new(),
    }
}
