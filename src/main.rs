//! The `wbsim` binary: parse the command line, run, print errors, map to an exit code
//! (0 success, 1 `check` mismatch or `--fail-on` hit, 2 bad input, 3 a bug found by
//! `--check-invariants` / `--check-determinism`).

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = match wbsim::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return clap_exit(&e),
    };
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

/// What clap's own exit would do, except that `--help`/`--version` whose output cannot be
/// written (`wbsim --help > /dev/full`) is an error (exit 2), not a success.
fn clap_exit(e: &clap::Error) -> ExitCode {
    use std::io::Write;
    let code = e.exit_code();
    if code != 0 {
        let _ = e.print();
        return ExitCode::from(u8::try_from(code).unwrap_or(2));
    }
    let mut out = std::io::stdout().lock();
    let written = write!(out, "{}", e.render()).and_then(|()| out.flush());
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(io) if io.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(io) => {
            eprintln!("error: cannot write the help text: {io}");
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
