//! `ctl`: the kubectl of this project. Parses flags, runs the command on a small runtime,
//! and turns any failure into one line on stderr and exit code 1.

mod api;
mod args;
mod commands;
mod config;
mod connection;
mod describe;
mod errors;
mod jv;
mod kinds;
mod manifests;
mod merge;
mod printers;

use clap::Parser;
use clap::error::ErrorKind;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match args::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.is::<commands::Reported>() => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("{}", errors::render_error(&e));
            ExitCode::FAILURE
        }
    }
}

/// Help and version go to stdout with success; a usage mistake is one line on stderr and
/// exit code 1, like every other failure.
fn usage_error(e: clap::Error) -> ExitCode {
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = e.print();
            ExitCode::SUCCESS
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            ExitCode::FAILURE
        }
        _ => {
            eprintln!("{}", args::usage_line(&e));
            ExitCode::FAILURE
        }
    }
}
