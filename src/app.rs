//! What each subcommand does: load and validate scenarios, run them (in parallel), build the
//! results document, render it in the requested format, and decide the exit status.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::CommandFactory;

use crate::cli::{
    CheckArgs, Cli, Command, FailOn, Format, HistoryArgs, MergeArgs, RunOpts, SweepArgs,
};
use crate::exec::{self, Job};
use crate::observe::args::ObserveArgs;
use crate::observe::session::{ScenarioResults, Session};
use crate::report::doc::{self, Document, Plan};
use crate::report::{check, grid, junit, table};
use crate::scenario::{self, schema, Overrides, Scenario};
use crate::spec::{FsType, PinMethod, Policy, Release};

/// Runs a parsed command line; `Err` is bad input (exit 2), printed by `main`.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Run(args) => run_cmd(&args.files, &args.opts, &args.observe),
        Command::Check(args) => check_cmd(&args),
        Command::History(args) => history_cmd(&args),
        Command::Explain(args) => crate::observe::explain::command(&args),
        Command::Sweep(args) => sweep_cmd(&args),
        Command::Merge(args) => merge_cmd(&args),
        Command::Validate { files } => {
            let mut out = std::io::stdout().lock();
            for f in &files {
                let sc = scenario::load(f, &Overrides::default())?;
                writeln!(
                    out,
                    "{}: ok ({} run{})",
                    f.display(),
                    sc.runs.len(),
                    if sc.runs.len() == 1 { "" } else { "s" }
                )?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::List => emit(&list()),
        Command::Completions { shell } => {
            let mut buf = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "wbsim", &mut buf);
            std::io::stdout().lock().write_all(&buf)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Man { command, out_dir } => man(command.as_deref(), out_dir.as_deref()),
    }
}

/// `wbsim man`: one page to stdout, or every page into a directory. Every page ends with the
/// exit status paragraph.
fn man(command: Option<&str>, out_dir: Option<&Path>) -> anyhow::Result<ExitCode> {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    let with_exit = |c: clap::Command| c.after_help(crate::cli::EXIT_STATUS);
    if let Some(dir) = out_dir {
        let mut pages = vec![with_exit(cmd.clone())];
        pages.extend(cmd.get_subcommands().cloned().map(with_exit));
        for page in pages {
            let path = page_of(page)
                .generate_to(dir)
                .with_context(|| format!("{}: cannot write the man pages", dir.display()))?;
            eprintln!("wrote {}", path.display());
        }
        return Ok(ExitCode::SUCCESS);
    }
    let page = match command {
        None => cmd,
        Some(name) => match cmd.find_subcommand(name) {
            Some(sub) => with_exit(sub.clone()),
            None => {
                let names: Vec<&str> = cmd.get_subcommands().map(|c| c.get_name()).collect();
                bail!(
                    "`{name}` is not a wbsim command; commands: {}",
                    names.join(", ")
                );
            }
        },
    };
    let mut buf = Vec::new();
    page_of(page)
        .render(&mut buf)
        .context("rendering the man page")?;
    std::io::stdout().lock().write_all(&buf)?;
    Ok(ExitCode::SUCCESS)
}

/// A page whose footer names wbsim and its version (subcommands have no version of their own).
fn page_of(cmd: clap::Command) -> clap_mangen::Man {
    clap_mangen::Man::new(cmd)
        .source(format!("wbsim {}", env!("CARGO_PKG_VERSION")))
        .manual("wbsim manual")
}

/// What a document holds, which decides how tables, CSV and Markdown show it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// Runs (`run`, grid `sweep`).
    Runs,
    /// Runs with check verdicts (`check`): tables show the verdict lines.
    Checks,
    /// Threshold searches (`sweep --find-threshold`).
    Thresholds,
}

fn overrides(opts: &RunOpts) -> Overrides {
    opts.scenario.overrides()
}

/// Each scenario's executed runs, `(run index, result)`.
type Kept = Vec<Vec<(usize, crate::outcome::RunResult)>>;

/// Runs every planned run of the scenarios (those of `--shard` only) and builds the document.
fn execute(scenarios: &[Scenario], plans: Vec<Plan>, opts: &RunOpts) -> anyhow::Result<Document> {
    let mut session = Session::new(&ObserveArgs::default());
    Ok(execute_observed(scenarios, plans, opts, &mut session)?.0)
}

/// [`execute`], observed: runs that need a recorder go through the session (one at a time);
/// the document's runs carry the session's extra fields. Also returns each scenario's results.
fn execute_observed(
    scenarios: &[Scenario],
    plans: Vec<Plan>,
    opts: &RunOpts,
    session: &mut Session,
) -> anyhow::Result<(Document, Kept)> {
    let mut jobs = Vec::new();
    let mut origin: Vec<(usize, usize)> = Vec::new();
    let mut held: Vec<Vec<usize>> = vec![Vec::new(); scenarios.len()];
    let mut position = 0usize;
    for (s, sc) in scenarios.iter().enumerate() {
        for (i, run) in sc.runs.iter().enumerate() {
            if opts.shard.map_or(true, |sh| sh.holds(position)) {
                held[s].push(i);
                origin.push((s, i));
                jobs.push(Job {
                    spec: &run.spec,
                    name: format!("{} {}", sc.name, run.label),
                });
            }
            position += 1;
        }
    }
    let all = if session.records() {
        let bar = exec::progress(jobs.len());
        let r = jobs
            .iter()
            .map(|j| {
                bar.set_message(j.name.clone());
                let r = session.simulate(j.spec);
                bar.inc(1);
                r
            })
            .collect::<Vec<_>>();
        bar.finish_and_clear();
        r
    } else {
        let checks = exec::Checks {
            invariants: opts.check_invariants,
            determinism: opts.check_determinism,
        };
        exec::run_checked(&jobs, exec::jobs(opts.jobs), checks).map_err(|f| {
            let (s, i) = origin[f.job];
            let sc = &scenarios[s];
            let plan = &plans[s];
            let mut cmd = plan.reproduce(&sc.file, &plan.components(i), sc.runs[i].spec.seed, None);
            if opts.check_invariants {
                cmd.push_str(" --check-invariants");
            }
            if opts.check_determinism {
                cmd.push_str(" --check-determinism");
            }
            anyhow::Error::new(BugFound(format!(
                "{}\n  reproduce: {cmd}\n  please report this with the scenario file",
                f.message
            )))
        })?
    };
    let mut results = all.into_iter();
    let mut kept = Vec::new();
    let docs = scenarios
        .iter()
        .zip(plans)
        .zip(&held)
        .map(|((sc, plan), held)| {
            let res: Vec<_> = results.by_ref().take(held.len()).collect();
            let mut d = doc::scenario_doc(sc, plan, held, &res, opts.shard);
            for ((run, &i), r) in d.runs.iter_mut().zip(held).zip(&res) {
                run.extra.extend(session.run_extras(&sc.runs[i].spec, r));
            }
            kept.push(held.iter().copied().zip(res).collect());
            d
        })
        .collect();
    Ok((doc::document(docs), kept))
}

/// A run broke an invariant or was not deterministic (`--check-invariants`,
/// `--check-determinism`): a bug in wbsim, not in the input. `main` exits 3 for it.
#[derive(Debug)]
pub struct BugFound(pub String);

impl std::fmt::Display for BugFound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BugFound {}

/// The runs of each scenario with their results, as the observation session reads them.
fn observed<'a>(scenarios: &'a [Scenario], kept: &'a Kept) -> Vec<ScenarioResults<'a>> {
    scenarios
        .iter()
        .zip(kept)
        .map(|(sc, runs)| ScenarioResults {
            name: &sc.name,
            runs: runs.iter().map(|(i, r)| (&sc.runs[*i], r)).collect(),
        })
        .collect()
}

/// Writes the observation files, renders the document, then the `--oom-report`/`--vmstat`
/// sections after a table.
fn emit_observed(
    scenarios: &[Scenario],
    kept: &Kept,
    session: &Session,
    text: String,
    format: Format,
) -> anyhow::Result<()> {
    let all = observed(scenarios, kept);
    session.write_files(&all)?;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    if format == Format::Table {
        session.print_sections(&all, &mut out)?;
    }
    out.flush()?;
    Ok(())
}

fn run_cmd(
    files: &[std::path::PathBuf],
    opts: &RunOpts,
    observe: &ObserveArgs,
) -> anyhow::Result<ExitCode> {
    let ov = overrides(opts);
    // Validate every file before running any.
    let scenarios: Vec<Scenario> = files
        .iter()
        .map(|f| scenario::load(f, &ov))
        .collect::<anyhow::Result<_>>()?;
    let plans = scenarios.iter().map(|s| Plan::of(s, "run", &[])).collect();
    let mut session = Session::new(observe);
    let (doc, kept) = execute_observed(&scenarios, plans, opts, &mut session)?;
    let text = render(&doc, Kind::Runs, opts.format)?;
    emit_observed(&scenarios, &kept, &session, text, opts.format)?;
    Ok(fail_on(&doc, &opts.fail_on, false))
}

fn check_cmd(args: &CheckArgs) -> anyhow::Result<ExitCode> {
    let ov = overrides(&args.opts);
    let scenarios: Vec<Scenario> = args
        .files
        .iter()
        .map(|f| scenario::load(f, &ov))
        .collect::<anyhow::Result<_>>()?;
    for sc in &scenarios {
        if sc.expectations.is_none() {
            eprintln!("warning: {}: no [expect] table; nothing to check", sc.file);
        }
    }
    let plans = scenarios.iter().map(|s| Plan::of(s, "run", &[])).collect();
    let mut session = Session::new(&args.observe);
    let (mut doc, kept) = execute_observed(&scenarios, plans, &args.opts, &mut session)?;
    for sc in &mut doc.scenarios {
        sc.checks = Some(doc::checks(sc));
    }
    if let Some(path) = &args.junit {
        write_file(path, &junit::render(&doc))?;
    }
    let text = render(&doc, Kind::Checks, args.opts.format)?;
    emit_observed(&scenarios, &kept, &session, text, args.opts.format)?;
    Ok(fail_on(&doc, &args.opts.fail_on, true))
}

fn sweep_cmd(args: &SweepArgs) -> anyhow::Result<ExitCode> {
    let opts = &args.opts;
    let ov = overrides(opts);
    let vary: Vec<_> = args
        .vary
        .iter()
        .map(|v| crate::sweep::parse_vary(v))
        .collect::<anyhow::Result<_>>()?;
    for (i, v) in vary.iter().enumerate() {
        if vary[..i].iter().any(|w| w.path == v.path) {
            bail!(
                "`--vary {}` is given twice; list every value in one --vary",
                v.path
            );
        }
    }
    let threshold = args
        .find_threshold
        .as_deref()
        .map(crate::sweep::parse_threshold)
        .transpose()?;
    if vary.is_empty() && threshold.is_none() {
        bail!(
            "nothing to sweep: give --vary PATH=LIST_OR_RANGE and/or --find-threshold PATH=LO..HI"
        );
    }
    let src = scenario::read_source(&args.file)?;
    let doc = if let Some(t) = &threshold {
        if vary.iter().any(|v| v.path == t.path) {
            bail!("`{}` is both varied and searched; drop its --vary", t.path);
        }
        let search = crate::sweep::Search {
            src,
            ov: &ov,
            vary: &vary,
            threshold: t,
        };
        doc::document(vec![search.run(exec::jobs(opts.jobs), opts.shard)?])
    } else {
        let sc = scenario::load_source_varied(&src, &ov, &vary)?;
        let varied: Vec<String> = vary.iter().map(|v| v.path.clone()).collect();
        let plan = Plan::of(&sc, "sweep", &varied);
        execute(std::slice::from_ref(&sc), vec![plan], opts)?
    };
    if let Some(path) = &args.plot {
        let sc = &doc.scenarios[0];
        let svg = match &threshold {
            Some(t) => crate::sweep::threshold_map(sc, &t.range),
            None => crate::sweep::grid_map(sc)?,
        };
        write_file(path, &svg)?;
    }
    let kind = if threshold.is_some() {
        Kind::Thresholds
    } else {
        Kind::Runs
    };
    emit(&render(&doc, kind, opts.format)?)?;
    Ok(fail_on(&doc, &opts.fail_on, false))
}

fn history_cmd(args: &HistoryArgs) -> anyhow::Result<ExitCode> {
    let ov = args.scenario.overrides();
    let sc = scenario::load(&args.file, &ov)?;
    let releases = if args.releases.is_empty() {
        crate::history::default_releases()
    } else {
        args.releases.iter().map(|r| r.trim().to_string()).collect()
    };
    if let Some(bad) = releases.iter().find(|r| !crate::history::is_release(r)) {
        bail!(
            "--releases: `{bad}` is not a kernel release; expected one of {}",
            crate::kernel::Kernel::profile_names().join(", ")
        );
    }
    eprintln!(
        "history: {} cells × {} kernels",
        sc.runs.len(),
        releases.len()
    );
    let h = crate::history::history(&sc, &releases, exec::jobs(args.jobs))?;
    let text = match args.format {
        Format::Json => {
            let mut t = serde_json::to_string_pretty(&h.to_json()).context("rendering JSON")?;
            t.push('\n');
            t
        }
        Format::Csv => grid::to_csv(&[h.flat_grid()]),
        Format::Markdown => grid::to_markdown(&[h.grid()]),
        Format::Table => grid::to_table(&[h.grid()]),
    };
    emit(&text)
}

fn merge_cmd(args: &MergeArgs) -> anyhow::Result<ExitCode> {
    let mut docs = Vec::new();
    for f in &args.files {
        let name = f.display().to_string();
        let text = std::fs::read_to_string(f)
            .with_context(|| format!("{name}: cannot read the JSON document"))?;
        let d: Document = serde_json::from_str(&text).with_context(|| {
            format!("{name}: not a wbsim results document (write shards with --format json)")
        })?;
        docs.push((name, d));
    }
    let doc = crate::shard::merge(docs)?;
    let kind = if doc.scenarios.iter().any(|s| s.thresholds.is_some()) {
        Kind::Thresholds
    } else if doc.scenarios.iter().any(|s| s.checks.is_some()) {
        Kind::Checks
    } else {
        Kind::Runs
    };
    emit(&render(&doc, kind, args.format)?)?;
    Ok(fail_on(&doc, &args.fail_on, kind == Kind::Checks))
}

/// The requested artefact.
fn render(doc: &Document, kind: Kind, format: Format) -> anyhow::Result<String> {
    if format == Format::Json {
        let mut text = serde_json::to_string_pretty(doc).context("rendering JSON")?;
        text.push('\n');
        return Ok(text);
    }
    let grids = match (kind, format) {
        (Kind::Checks, Format::Table) => return Ok(check::lines(doc)),
        (Kind::Checks, f) => check::grids(doc, f == Format::Csv),
        (Kind::Thresholds, f) => table::threshold_grids(doc, f == Format::Csv),
        (Kind::Runs, Format::Csv) => table::flat_grids(doc),
        (Kind::Runs, _) => table::run_grids(doc),
    };
    Ok(match format {
        Format::Csv => grid::to_csv(&grids),
        Format::Markdown => grid::to_markdown(&grids),
        _ => grid::to_table(&grids),
    })
}

/// The exit status: 1 when a check failed (for `check`) or a `--fail-on` condition occurred;
/// each failure is reported on stderr with its reproduce command.
fn fail_on(doc: &Document, conditions: &[FailOn], checks: bool) -> ExitCode {
    let mut fail = false;
    if checks {
        let all: Vec<_> = doc
            .scenarios
            .iter()
            .flat_map(|s| s.checks.iter().flatten())
            .cloned()
            .collect();
        eprintln!("check: {}", check::summary(&all));
        fail |= all.iter().any(|c| !c.pass);
    }
    let hits = crate::verdict::hits(doc, conditions);
    for h in &hits {
        for l in h.lines() {
            eprintln!("{l}");
        }
    }
    fail |= !hits.is_empty();
    if fail {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn emit(text: &str) -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn write_file(path: &Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, text).with_context(|| format!("{}: cannot write", path.display()))
}

/// The text of `wbsim list`.
pub fn list() -> String {
    let names = |v: Vec<&str>| v.join(" ");
    let mut s = String::new();
    s += &format!(
        "releases:     {} (default 2.6.32; 2.6.32.0 is mainline before the -stable shrink_list() fix)\n",
        names(Release::ALL.iter().map(|r| r.name()).collect())
    );
    s += &format!(
        "later kernels: {} (2.6.36's rules plus the switches below, cumulatively)\n",
        names(crate::kernel::LATER.iter().map(|l| l.name).collect())
    );
    s += "kernel profiles (each adds these switch settings to the one before):\n";
    for l in crate::kernel::profiles() {
        let ch: Vec<String> = l.changes.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let ch = if ch.is_empty() {
            "(every switch at its first value)".to_string()
        } else {
            ch.join(" ")
        };
        s += &format!("  {:<9} {ch}\n", l.name);
    }
    s += "kernel switches ([kernel] keys; the 2.6.32.0 value first):\n";
    for sw in crate::kernel::SWITCHES {
        s += &format!("  {:<34} {}\n", sw.key, sw.what);
        for ((v, r), c) in sw.values.iter().zip(sw.since).zip(sw.cites) {
            let c = if c.is_empty() {
                "(the first modelled kernel)"
            } else {
                c
            };
            s += &format!("      {v:<24} {r:<9} {c}\n");
        }
    }
    s += &format!(
        "filesystems:  {}\n",
        names(FsType::ALL.iter().map(|f| f.name()).collect())
    );
    s += &format!(
        "policies:     {} (both, in this order, unless restricted)\n",
        names(Policy::ALL.iter().map(|p| p.name()).collect())
    );
    s += &format!(
        "pin methods:  {}\n",
        names(PinMethod::ALL.iter().map(|m| m.name()).collect())
    );
    s += &format!("mount options: {}\n", names(crate::fs::mount_options()));
    let mut pages = vec![];
    let mut g = crate::mm::granularity::BASE_PAGE;
    while g <= crate::mm::granularity::MAX_PAGE_GRANULARITY {
        pages.push(crate::mm::granularity::Granularity::of_bytes(g).name());
        g *= 2;
    }
    s += &format!(
        "page granularities: {} (machine.page_granularity; default 4KiB, coarser for machines past 64GiB)\n",
        pages.join(" ")
    );
    s += "task kinds (required keys, [optional keys]):\n";
    for k in schema::TASK_KINDS {
        let opt: Vec<String> = k.optional.iter().map(|o| format!("[{o}]")).collect();
        s += &format!(
            "  {:<13} {}\n",
            k.kind,
            k.required
                .iter()
                .map(|x| x.to_string())
                .chain(opt)
                .collect::<Vec<_>>()
                .join(" ")
        );
    }
    let common: Vec<String> = schema::TASK_COMMON
        .iter()
        .map(|k| {
            if *k == "kind" {
                (*k).to_string()
            } else {
                format!("[{k}]")
            }
        })
        .collect();
    s += &format!("  (every task)  {}\n", common.join(" "));
    s
}
