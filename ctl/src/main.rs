//! `ctl`: the kubectl of this project. Parses flags, runs the command on a small runtime,
//! and turns any failure into one line on stderr and exit code 1.

mod api;
mod args;
mod commands;
mod config;
mod describe;
mod errors;
mod jv;
mod kinds;
mod manifests;
mod merge;
mod printers;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
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
