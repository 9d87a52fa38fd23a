//! What each subcommand does: load and validate scenarios, run them, render the results.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::cli::{Cli, Command, Format, HistoryArgs, RunArgs};
use crate::outcome::RunResult;
use crate::report::{self, check::CheckLine, ScenarioResults};
use crate::scenario::{self, schema, Overrides, Scenario};
use crate::spec::{FsType, PinMethod, Policy, Release};

/// Runs a parsed command line; `Err` is bad input (exit 2), printed by `main`.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Run(args) => run_cmd(&args, false),
        Command::Check(args) => run_cmd(&args, true),
        Command::History(args) => history_cmd(&args),
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
        Command::List => {
            std::io::stdout().lock().write_all(list().as_bytes())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Explain(args) => crate::observe::explain::command(&args),
    }
}

fn run_cmd(args: &RunArgs, check: bool) -> anyhow::Result<ExitCode> {
    let ov = Overrides {
        sets: args.set.clone(),
        policies: args.policy.clone(),
        seed: args.seed,
    };
    // Validate every file before running any.
    let scenarios: Vec<Scenario> = args
        .files
        .iter()
        .map(|f| scenario::load(f, &ov))
        .collect::<anyhow::Result<_>>()?;
    let mut session = crate::observe::session::Session::new(&args.observe);
    let results = execute(&scenarios, &mut session);
    let all: Vec<ScenarioResults<'_>> = scenarios
        .iter()
        .zip(results)
        .map(|(scenario, results)| ScenarioResults { scenario, results })
        .collect();
    session.write_files(&all)?;
    let mut out = std::io::stdout().lock();
    if !check {
        match args.format {
            Format::Table => {
                for (i, sr) in all.iter().enumerate() {
                    if i > 0 {
                        writeln!(out)?;
                    }
                    write!(out, "{}", report::table::render(sr))?;
                }
                session.print_sections(&all, &mut out)?;
            }
            Format::Json => {
                let mut doc = report::json::document(&all, None);
                session.augment_json(&all, &mut doc);
                print_json(&mut out, &doc)?
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let checks: Vec<Vec<CheckLine>> = all.iter().map(report::check::check).collect();
    for sc in &scenarios {
        if sc.expectations.is_none() {
            eprintln!("warning: {}: no [expect] table; nothing to check", sc.file);
        }
    }
    match args.format {
        Format::Json => print_json(&mut out, &report::json::document(&all, Some(&checks)))?,
        Format::Table => {
            for line in checks.iter().flatten() {
                writeln!(out, "{}", line.line())?;
                if !line.pass {
                    writeln!(out, "  reproduce: {}", line.reproduce)?;
                }
            }
        }
    }
    let failed = checks.iter().flatten().filter(|l| !l.pass).count();
    let total = checks.iter().flatten().count();
    eprintln!("check: {} passed, {failed} failed", total - failed);
    Ok(if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn history_cmd(args: &HistoryArgs) -> anyhow::Result<ExitCode> {
    let ov = Overrides {
        sets: args.set.clone(),
        policies: args.policy.clone(),
        seed: args.seed,
    };
    let sc = scenario::load(&args.file, &ov)?;
    let releases = if args.releases.is_empty() {
        crate::history::default_releases()
    } else {
        args.releases.iter().map(|r| r.trim().to_string()).collect()
    };
    if let Some(bad) = releases.iter().find(|r| !crate::history::is_release(r)) {
        anyhow::bail!(
            "--releases: `{bad}` is not a kernel release; expected one of {}",
            crate::kernel::Kernel::profile_names().join(", ")
        );
    }
    eprintln!(
        "history: {} cells × {} kernels",
        sc.runs.len(),
        releases.len()
    );
    let h = crate::history::history(&sc, &releases)?;
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Table => write!(out, "{}", h.render_table())?,
        Format::Json => print_json(&mut out, &h.to_json())?,
    }
    Ok(ExitCode::SUCCESS)
}

fn print_json(out: &mut impl Write, doc: &serde_json::Value) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(doc).context("rendering JSON")?;
    writeln!(out, "{text}")?;
    Ok(())
}

/// Runs every planned run, with a progress bar on stderr when there is more than one and stderr
/// is a terminal.
fn execute(
    scenarios: &[Scenario],
    session: &mut crate::observe::session::Session,
) -> Vec<Vec<RunResult>> {
    let total: usize = scenarios.iter().map(|s| s.runs.len()).sum();
    let bar = if total > 1 && std::io::stderr().is_terminal() {
        let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} {wide_msg}") {
            bar.set_style(style);
        }
        bar
    } else {
        ProgressBar::hidden()
    };
    let results = scenarios
        .iter()
        .map(|sc| {
            sc.runs
                .iter()
                .map(|run| {
                    bar.set_message(format!("{} {}", sc.name, run.label));
                    let r = session.simulate(&run.spec);
                    bar.inc(1);
                    r
                })
                .collect()
        })
        .collect();
    bar.finish_and_clear();
    results
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
    for l in crate::kernel::LATER {
        let ch: Vec<String> = l.changes.iter().map(|(k, v)| format!("{k}={v}")).collect();
        s += &format!("  {:<9} {}\n", l.name, ch.join(" "));
    }
    s += "kernel switches ([kernel] keys; the 2.6.3x value first):\n";
    for sw in crate::kernel::SWITCHES {
        s += &format!("  {:<34} {}\n", sw.key, sw.what);
        for ((v, r), c) in sw.values.iter().zip(sw.since).zip(sw.cites) {
            let c = if c.is_empty() { "2.6.32–2.6.36" } else { c };
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
    s += &format!("mount options: {}\n", names(schema::MOUNT_OPTIONS.to_vec()));
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
