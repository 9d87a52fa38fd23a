//! The `wbsim` binary: parse the command line, run, print errors, map to an exit code
//! (0 success, 1 `check` mismatch or `--fail-on` hit, 2 bad input, 3 a bug found by
//! `--check-invariants` / `--check-determinism`).

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = wbsim::cli::Cli::parse();
    match wbsim::app::run(cli) {
        Ok(code) => code,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) if e.downcast_ref::<wbsim::run::BugFound>().is_some() => {
            eprintln!("error: {e:#}");
            ExitCode::from(3)
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// `wbsim run … | head` closing the pipe early is not an error.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
