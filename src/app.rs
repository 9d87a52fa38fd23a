//! What each subcommand does: load and validate scenarios, run them through the one
//! [`Runner`], build the results document, render it in the requested format, and decide the
//! exit status.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::CommandFactory;

use crate::cli::{
    CheckArgs, Cli, Command, FailOn, Format, HistoryArgs, MergeArgs, RunOpts, SweepArgs,
};
use crate::observe::args::ObserveArgs;
use crate::observe::session::{self, ObservedRun, ObservedScenario};
use crate::report::build::{self, Extras};
use crate::report::document::{self, Document, Plan, PlanCommand};
use crate::report::{grids, junit, Content};
use crate::run::{Job, Output, Runner};
use crate::scenario::{self, Overrides, Scenario};

/// Runs a parsed command line; `Err` is bad input (exit 2) or a bug found by a check (exit 3),
/// printed by `main`.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Run(args) => run_cmd(&args.files, &args.opts, &args.observe, &args.margin),
        Command::Check(args) => check_cmd(&args),
        Command::History(args) => history_cmd(&args),
        Command::Study(args) => study_cmd(&args),
        Command::Explain(args) => crate::observe::explain::command(&args),
        Command::Sweep(args) => sweep_cmd(&args),
        Command::Merge(args) => merge_cmd(&args),
        Command::Validate { files } => validate(&files),
        Command::List { format } => emit(&match format {
            crate::cli::ListFormat::Text => crate::list::text(),
            crate::cli::ListFormat::Json => crate::list::json(),
        }),
        Command::Completions { shell } => {
            let mut buf = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "wbsim", &mut buf);
            std::io::stdout().lock().write_all(&buf)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Man { command, out_dir } => man(command.as_deref(), out_dir.as_deref()),
    }
}

/// `wbsim validate`: loads each file, stopping at the first bad one.
fn validate(files: &[PathBuf]) -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    for f in files {
        let sc = scenario::load(f, &Overrides::default())?;
        let n = sc.runs.len();
        let s = if n == 1 { "" } else { "s" };
        writeln!(out, "{}: ok ({n} run{s})", f.display())?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `wbsim man`: one page to stdout, or every page into a directory. Every page ends with the
/// EXIT STATUS, ENVIRONMENT and EXAMPLES sections.
fn man(command: Option<&str>, out_dir: Option<&Path>) -> anyhow::Result<ExitCode> {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    // The exit status is a section of its own (`man_sections`), not --help's paragraph.
    let with_exit = |c: clap::Command| c.after_help(None::<&str>);
    if let Some(dir) = out_dir {
        let mut pages = vec![with_exit(cmd.clone())];
        pages.extend(cmd.get_subcommands().cloned().map(with_exit));
        for page in pages {
            let name = page.get_name().to_string();
            let path = page_of(page)
                .generate_to(dir)
                .with_context(|| format!("{}: cannot write the man pages", dir.display()))?;
            let mut text = std::fs::read(&path)?;
            text.extend_from_slice(man_sections(&name).as_bytes());
            write_file(&path, &String::from_utf8_lossy(&text))?;
            eprintln!("wrote {}", path.display());
        }
        return Ok(ExitCode::SUCCESS);
    }
    let page = match command {
        None => with_exit(cmd),
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
    let name = page.get_name().to_string();
    let mut buf = Vec::new();
    page_of(page)
        .render(&mut buf)
        .context("rendering the man page")?;
    buf.extend_from_slice(man_sections(&name).as_bytes());
    std::io::stdout().lock().write_all(&buf)?;
    Ok(ExitCode::SUCCESS)
}

/// The sections clap_mangen does not write: EXIT STATUS, ENVIRONMENT and EXAMPLES (roff).
fn man_sections(command: &str) -> String {
    let sub = if command == "wbsim" { "run" } else { command };
    let example = match sub {
        "check" => "wbsim check scenarios/*.toml --junit report.xml\n\
                    wbsim check - -q < generated.toml",
        "sweep" => "wbsim sweep scenarios/oracle-backup.toml --vary vm.dirty_ratio=10..40:10\n\
                    wbsim sweep scenarios/oracle-backup.toml --find-threshold machine.memory=512MiB..2GiB",
        "history" => "wbsim history scenarios/fake-numa-128m.toml",
        "explain" => "wbsim explain scenarios/oracle-backup.toml --set mount.backup.fs=ext4",
        "merge" => "wbsim run big.toml --shard 1/2 --format json > a.json\n\
                    wbsim run big.toml --shard 2/2 --format json > b.json\n\
                    wbsim merge a.json b.json",
        _ => "wbsim run scenarios/oracle-backup.toml\n\
              wbsim run scenarios/oracle-backup.toml --format json -o result.json\n\
              wbsim run scenarios/oracle-backup.toml --oom-report --ftrace trace-{label}.txt\n\
              cat scenario.toml | wbsim run - --fail-on regression",
    };
    let examples: String = example
        .split("\\n")
        .map(|l| format!("{}\n", l.trim().replace('-', "\\-")))
        .collect();
    format!(
        ".SH \"EXIT STATUS\"\n\
         .TP\n0\nsuccess; an OOM is a result, not a failure\n\
         .TP\n1\ncheck found a result that differs from [expect], or a \\-\\-fail\\-on condition \
         occurred\n\
         .TP\n2\nbad input: the command line, a scenario (file, line, column, key, what is \
         accepted), a JSON document for merge\n\
         .TP\n3\na bug in wbsim found by \\-\\-check\\-invariants or \\-\\-check\\-determinism; \
         the seed and the command that reproduces it are printed\n\
         .SH ENVIRONMENT\n\
         wbsim reads no environment variable: the same scenario and seed print the same bytes \
         everywhere. Output has no colour, so NO_COLOR and TERM change nothing. The default of \
         \\-\\-jobs is the number of CPUs this process may use (affinity, cgroup quota).\n\
         .SH EXAMPLES\n.nf\n{examples}.fi\n"
    )
}

/// A page whose footer names wbsim and its version (subcommands have no version of their own).
fn page_of(cmd: clap::Command) -> clap_mangen::Man {
    clap_mangen::Man::new(cmd)
        .source(format!("wbsim {}", env!("CARGO_PKG_VERSION")))
        .manual("wbsim manual")
}

/// Scenarios whose runs were executed: for each scenario, the plan index of each held run
/// (those of `--shard`) with its output, and the document of them all.
struct Executed {
    held: Vec<Vec<(usize, Output)>>,
    document: Document,
}

/// Runs every planned run of the scenarios (those of `--shard` only) through one runner and
/// builds the document; runs are recorded when `observe` asks for a file that needs it.
fn execute(
    command: &str,
    scenarios: &[Scenario],
    plans: Vec<Plan>,
    opts: &RunOpts,
    observe: &ObserveArgs,
) -> anyhow::Result<Executed> {
    let mut jobs = Vec::new();
    let mut origin: Vec<(usize, usize)> = Vec::new();
    let mut position = 0usize;
    for (s, sc) in scenarios.iter().enumerate() {
        for (i, run) in sc.runs.iter().enumerate() {
            if opts.shard.map_or(true, |shard| shard.holds(position)) {
                origin.push((s, i));
                let name = format!("{} {}", sc.name, run.label);
                jobs.push(Job {
                    spec: &run.spec,
                    name,
                });
            }
            position += 1;
        }
    }
    let runner = Runner::new(opts.jobs, opts.checks.checks())
        .observing(observe.recording())
        .quiet(opts.quiet);
    let outputs = runner.run(&jobs).map_err(|failed| {
        let (s, i) = origin[failed.job];
        let (sc, plan) = (&scenarios[s], &plans[s]);
        let seed = sc.runs[i].spec.seed;
        let command = plan.reproduce(&sc.file, &plan.components(i), seed, None);
        failed.with_reproduce(&(command + &runner.checks.flags()))
    })?;
    let mut held: Vec<Vec<(usize, Output)>> = scenarios.iter().map(|_| Vec::new()).collect();
    for ((s, i), out) in origin.into_iter().zip(outputs) {
        held[s].push((i, out));
    }
    let records = scenarios
        .iter()
        .zip(plans)
        .zip(&held)
        .map(|((sc, plan), runs)| {
            let mut r = record(sc, plan, runs, opts, observe.extras());
            r.provenance = Some(build::provenance(sc, &opts.scenario.overrides(), command));
            r
        })
        .collect();
    Ok(Executed {
        held,
        document: document::document(records),
    })
}

/// The record of one scenario's held runs.
fn record(
    sc: &Scenario,
    plan: Plan,
    runs: &[(usize, Output)],
    opts: &RunOpts,
    extras: Extras,
) -> document::ScenarioRecord {
    let indices: Vec<usize> = runs.iter().map(|(i, _)| *i).collect();
    let results: Vec<_> = runs.iter().map(|(_, out)| &out.result).collect();
    build::scenario_record(sc, plan, &indices, &results, opts.shard, extras)
}

impl Executed {
    /// The runs of each scenario with their results and recordings, as the observers read them.
    fn observed<'a>(&'a self, scenarios: &'a [Scenario]) -> Vec<ObservedScenario<'a>> {
        scenarios
            .iter()
            .zip(&self.held)
            .map(|(sc, runs)| ObservedScenario {
                name: &sc.name,
                runs: runs
                    .iter()
                    .map(|(i, out)| ObservedRun {
                        scenario: &sc.name,
                        run: &sc.runs[*i],
                        result: &out.result,
                        recorder: out.recorder.as_deref(),
                    })
                    .collect(),
            })
            .collect()
    }

    /// Writes the observation files, prints the rendered document, then the
    /// `--oom-report`/`--vmstat` sections after a table.
    fn emit(
        &self,
        scenarios: &[Scenario],
        observe: &ObserveArgs,
        content: Content,
        opts: &RunOpts,
    ) -> anyhow::Result<()> {
        let format = opts.format;
        let observed = self.observed(scenarios);
        session::write_files(observe, &observed)?;
        write_json(opts, &self.document, content)?;
        let mut out = output(opts.output.as_deref())?;
        out.write_all(
            crate::report::render_view(&self.document, content, format, opts.view()).as_bytes(),
        )?;
        if format == Format::Table {
            session::print_sections(observe, &observed, &mut out)?;
        }
        out.flush()?;
        Ok(())
    }
}

/// Loads every file before running any, so a bad file fails before the first run.
fn load_all(files: &[PathBuf], opts: &RunOpts) -> anyhow::Result<Vec<Scenario>> {
    let overrides = opts.scenario.overrides();
    files
        .iter()
        .map(|f| scenario::load(f, &overrides))
        .collect()
}

/// Refuses, before any simulation, what would otherwise be dropped or fail after it: an
/// `--oom-report`/`--vmstat` the format has no place for, and an output file that cannot be
/// written.
fn preflight(opts: &RunOpts, observe: &ObserveArgs, junit: Option<&Path>) -> anyhow::Result<()> {
    if matches!(opts.format, Format::Csv | Format::Markdown) {
        for (flag, on) in [
            ("--oom-report", observe.oom_report),
            ("--vmstat", observe.vmstat),
        ] {
            if on {
                bail!(
                    "{flag} is printed after the tables (--format table) or carried in the JSON \
                     document (--format json); --format {} has no place for it",
                    if opts.format == Format::Csv {
                        "csv"
                    } else {
                        "markdown"
                    }
                );
            }
        }
    }
    let outputs = [
        ("--timeline", observe.timeline.as_deref()),
        ("--plot", observe.plot.as_deref()),
        ("--trace", observe.trace.as_deref()),
        ("--ftrace", observe.ftrace.as_deref()),
        ("--junit", junit),
        ("--json", opts.json.as_deref()),
    ];
    for (flag, path) in outputs {
        if let Some(path) = path {
            check_writable(flag, path)?;
        }
    }
    Ok(())
}

/// Whether `path` can be written, found out without leaving anything behind: an existing file
/// is opened for writing (not truncated), a new one is created and removed.
fn check_writable(flag: &str, path: &Path) -> anyhow::Result<()> {
    let name = path.display();
    let cannot = |e: std::io::Error| anyhow::anyhow!("{flag} {name}: cannot write: {e}");
    if path.is_dir() {
        bail!("{flag} {name}: is a directory; give a file name");
    }
    if path.exists() {
        std::fs::OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(cannot)?;
    } else {
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(cannot)?;
        std::fs::remove_file(path).map_err(cannot)?;
    }
    Ok(())
}

/// The simulated durations of the runs a command will hold (those of `--shard`).
fn held_durations<'a>(
    scenarios: &'a [Scenario],
    opts: &'a RunOpts,
) -> impl Iterator<Item = u64> + 'a {
    scenarios
        .iter()
        .flat_map(|sc| sc.runs.iter())
        .enumerate()
        .filter(|(k, _)| opts.shard.map_or(true, |s| s.holds(*k)))
        .map(|(_, r)| r.spec.limits.sim_time_ns)
}

fn run_cmd(
    files: &[PathBuf],
    opts: &RunOpts,
    observe: &ObserveArgs,
    margin: &Option<String>,
) -> anyhow::Result<ExitCode> {
    preflight(opts, observe, None)?;
    let margin = margin.as_deref().map(crate::margin::parse).transpose()?;
    let scenarios = load_all(files, opts)?;
    observe.check_samples(held_durations(&scenarios, opts))?;
    let plans = scenarios
        .iter()
        .map(|s| build::plan(s, PlanCommand::Run, &[]))
        .collect();
    let mut executed = execute("run", &scenarios, plans, opts, observe)?;
    if let Some(m) = &margin {
        let runner = Runner::new(opts.jobs, opts.checks.checks());
        let overrides = opts.scenario.overrides();
        for (file, record) in files.iter().zip(&mut executed.document.scenarios) {
            let src = scenario::read_source(file)?;
            record.margins = Some(crate::margin::search(&src, &overrides, m, &runner)?);
        }
    }
    executed.emit(&scenarios, observe, Content::Runs, opts)?;
    Ok(fail_on(&executed.document, &opts.fail_on, false))
}

fn check_cmd(args: &CheckArgs) -> anyhow::Result<ExitCode> {
    preflight(&args.opts, &args.observe, args.junit.as_deref())?;
    let scenarios = load_all(&args.files, &args.opts)?;
    args.observe
        .check_samples(held_durations(&scenarios, &args.opts))?;
    let unchecked: Vec<&str> = scenarios
        .iter()
        .filter(|sc| sc.expectations.is_none())
        .map(|sc| sc.file.as_str())
        .collect();
    for file in unchecked.iter().filter(|_| !args.opts.quiet) {
        eprintln!(
            "warning: {file}: no [expect] table; nothing to check (exit status {} unless a \
             check fails)",
            crate::cli::NOTHING_CHECKED
        );
    }
    let plans = scenarios
        .iter()
        .map(|s| build::plan(s, PlanCommand::Run, &[]))
        .collect();
    // The JUnit report's `time`: what CI reporters show as the suite's duration.
    let started = std::time::Instant::now();
    let mut executed = execute("check", &scenarios, plans, &args.opts, &args.observe)?;
    for sc in &mut executed.document.scenarios {
        sc.checks = Some(build::checks(sc));
    }
    if let Some(path) = &args.junit {
        write_file(
            path,
            &junit::render(&executed.document, Some(started.elapsed())),
        )?;
    }
    executed.emit(&scenarios, &args.observe, Content::Checks, &args.opts)?;
    let code = fail_on(&executed.document, &args.opts.fail_on, true);
    if code == ExitCode::SUCCESS && !unchecked.is_empty() {
        // LTP's TCONF: the test did not apply, which is neither a pass nor a failure.
        return Ok(ExitCode::from(crate::cli::NOTHING_CHECKED));
    }
    Ok(code)
}

fn sweep_cmd(args: &SweepArgs) -> anyhow::Result<ExitCode> {
    let opts = &args.opts;
    let overrides = opts.scenario.overrides();
    let vary = parse_vary_args(&args.vary)?;
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
    for (flag, path) in [("--plot", &args.plot), ("--json", &opts.json)] {
        if let Some(path) = path {
            check_writable(flag, path)?;
        }
    }
    let src = scenario::read_source(&args.file)?;
    let (doc, content) = if let Some(t) = &threshold {
        if vary.iter().any(|v| v.path == t.path) {
            bail!("`{}` is both varied and searched; drop its --vary", t.path);
        }
        let search = crate::sweep::Search {
            src,
            overrides: &overrides,
            vary: &vary,
            threshold: t,
        };
        let runner = Runner::new(opts.jobs, opts.checks.checks()).quiet(opts.quiet);
        let record = search.run(&runner, opts.shard)?;
        (document::document(vec![record]), Content::Thresholds)
    } else {
        let sc = scenario::load_source_varied(&src, &overrides, &vary)?;
        let varied: Vec<String> = vary.iter().map(|v| v.path.clone()).collect();
        let plan = build::plan(&sc, PlanCommand::Sweep, &varied);
        let executed = execute(
            "sweep",
            std::slice::from_ref(&sc),
            vec![plan],
            opts,
            &ObserveArgs::default(),
        )?;
        (executed.document, Content::Runs)
    };
    if let Some(path) = &args.plot {
        let sc = &doc.scenarios[0];
        let svg = match &threshold {
            Some(t) => crate::sweep::threshold_map(sc, &t.range),
            None => crate::sweep::grid_map(sc)?,
        };
        write_file(path, &svg)?;
    }
    write_json(opts, &doc, content)?;
    let mut out = output(opts.output.as_deref())?;
    out.write_all(crate::report::render_view(&doc, content, opts.format, opts.view()).as_bytes())?;
    out.flush()?;
    Ok(fail_on(&doc, &opts.fail_on, false))
}

/// The `--vary` arguments, each path at most once.
fn parse_vary_args(args: &[String]) -> anyhow::Result<Vec<crate::scenario::matrix::Vary>> {
    let vary: Vec<_> = args
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
    Ok(vary)
}

fn history_cmd(args: &HistoryArgs) -> anyhow::Result<ExitCode> {
    let sc = scenario::load(&args.file, &args.scenario.overrides())?;
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
    let order = crate::kernel::Kernel::profile_names();
    let rank = |r: &str| order.iter().position(|n| *n == r);
    if let Some(w) = releases.windows(2).find(|w| rank(&w[0]) >= rank(&w[1])) {
        bail!(
            "--releases: `{}` after `{}`; list the kernels oldest first, each once (e.g. \
             `2.6.32,2.6.36,3.2`): every flip is named between consecutive kernels",
            w[1],
            w[0]
        );
    }
    eprintln!(
        "history: {} cells × {} kernels",
        sc.runs.len(),
        releases.len()
    );
    let runner = Runner::new(args.jobs, args.checks.checks());
    let h = crate::history::history(&sc, &releases, &runner)?;
    let text = match args.format {
        Format::Json => {
            let mut doc = h.document();
            doc.provenance = Some(build::provenance(
                &sc,
                &args.scenario.overrides(),
                "history",
            ));
            crate::report::json::pretty(&doc)
        }
        Format::Csv => crate::report::csv::render(&[h.flat_grid()]),
        format => crate::report::render_grids(format, "", Default::default(), &[h.grid(args.wide)]),
    };
    emit(&text)
}

/// The largest document `merge` reads: 100 000 runs of some KiB each fit well below it.
const MAX_DOCUMENT_BYTES: u64 = 1 << 30;

fn study_cmd(args: &crate::cli::StudyArgs) -> anyhow::Result<ExitCode> {
    use crate::study;
    let margin = args
        .margin
        .as_deref()
        .map(crate::margin::parse)
        .transpose()?;
    if let Some(bad) = args
        .releases
        .iter()
        .find(|r| !crate::history::is_release(r))
    {
        bail!(
            "--releases: `{bad}` is not a kernel release; expected one of {}",
            crate::kernel::Kernel::profile_names().join(", ")
        );
    }
    if let Some(path) = &args.html {
        check_writable("--html", path)?;
    }
    let overrides = args.scenario.overrides();
    let runner = Runner::new(args.jobs, Default::default());
    let mut scenarios = Vec::new();
    for file in &args.files {
        let src = scenario::read_source(file)?;
        let releases: Vec<String> = args.releases.iter().map(|r| r.trim().to_string()).collect();
        scenarios.push(study::study(
            &src,
            &overrides,
            &releases,
            margin.as_ref(),
            &runner,
        )?);
    }
    let doc = study::StudyDocument {
        schema: study::SCHEMA.into(),
        wbsim_version: env!("CARGO_PKG_VERSION").into(),
        scenarios,
    };
    if let Some(path) = &args.html {
        std::fs::write(path, crate::report::html::render(&doc))
            .with_context(|| format!("--html {}: cannot write the page", path.display()))?;
    }
    let text = match args.format {
        Format::Json => crate::report::json::pretty(&doc),
        Format::Csv => crate::report::csv::render(&study::flat_grids(&doc)),
        format => crate::report::render_grids(format, "", Default::default(), &study::grids(&doc)),
    };
    emit(&text)
}

fn merge_cmd(args: &MergeArgs) -> anyhow::Result<ExitCode> {
    let mut docs = Vec::new();
    for f in &args.files {
        let name = f.display().to_string();
        let file = scenario::open_input(f)
            .with_context(|| format!("{name}: cannot read the JSON document"))?;
        // Parsed as it is read, at most MAX_DOCUMENT_BYTES: `/dev/zero` fails at its first byte
        // and an endless stream of JSON at the cap, instead of filling memory.
        let reader = std::io::BufReader::new(std::io::Read::take(file, MAX_DOCUMENT_BYTES));
        let d: Document = serde_json::from_reader(reader).with_context(|| {
            format!(
                "{name}: not a wbsim results document of at most 1GiB (write shards with \
                 --format json)"
            )
        })?;
        docs.push((name, d));
    }
    let doc = crate::shard::merge(docs)?;
    let content = Content::of(&doc);
    emit(&crate::report::render(&doc, content, args.format))?;
    Ok(fail_on(&doc, &args.fail_on, content == Content::Checks))
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
        eprintln!("check: {}", grids::check_summary(&all));
        fail |= all.iter().any(|c| !c.pass);
    }
    let hits = crate::compare::hits(doc, conditions);
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

/// Where a command's output goes: `--output FILE`, or stdout.
fn output(path: Option<&Path>) -> anyhow::Result<Box<dyn Write>> {
    Ok(match path {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p)
                .with_context(|| format!("--output {}: cannot write", p.display()))?,
        )),
        None => Box::new(std::io::stdout().lock()),
    })
}

fn emit(text: &str) -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// `--json FILE`: the results document beside the output, as `--format json` prints it.
fn write_json(opts: &RunOpts, doc: &Document, content: Content) -> anyhow::Result<()> {
    match &opts.json {
        Some(path) => write_file(
            path,
            &crate::report::render_view(doc, content, Format::Json, opts.view()),
        ),
        None => Ok(()),
    }
}

fn write_file(path: &Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, text).with_context(|| format!("{}: cannot write", path.display()))
}
