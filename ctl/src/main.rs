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
    quiet_on_closed_stdout();
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
    match runtime.block_on(traced(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.is::<commands::Reported>() => ExitCode::FAILURE,
        // The reader of stdout went away (`| head`): quiet, as a SIGPIPE death.
        Err(e) if closed_stdout(&e) => ExitCode::from(141),
        // `diff`: 1 means differences, so a failure is 2, as kubectl's.
        Err(e) if e.is::<commands::diff::Failed>() => {
            eprintln!("{e}");
            ExitCode::from(2)
        }
        // `exec`: the remote command's exit code, already reported.
        Err(e) if e.is::<commands::container::RemoteExit>() => ExitCode::from(
            e.downcast_ref::<commands::container::RemoteExit>()
                .map_or(1, |r| r.code()),
        ),
        Err(e) => {
            eprintln!("{}", errors::render_error(&e));
            ExitCode::FAILURE
        }
    }
}

/// kubectl has no tracing flag: OpenTelemetry's standard variable turns export on, so a
/// `ctl apply` can be followed from its start through every daemon it sets to work.
const OTLP_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";

/// The command, in a span of its own (whose trace context every call carries) when spans
/// are exported; the last spans are flushed before the process exits.
async fn traced(cli: args::Cli) -> anyhow::Result<()> {
    let endpoint = std::env::var(OTLP_ENDPOINT).ok().filter(|e| !e.is_empty());
    let Some(guard) = endpoint.and_then(|e| telemetry::trace::init_subscriber("ctl", Some(&e)))
    else {
        return commands::run(cli).await;
    };
    // `Apply(ApplyArgs { .. })` -> `apply`.
    let command = format!("{:?}", cli.command);
    let command = command
        .split(|c: char| !c.is_alphanumeric())
        .next()
        .unwrap_or_default()
        .to_lowercase();
    let span = tracing::info_span!("ctl", command = %command);
    let result = tracing::Instrument::instrument(commands::run(cli), span).await;
    // A current-thread runtime: awaited, not blocked on.
    guard.shutdown().await;
    result
}

/// `ctl get pods | head -1`: once the reader has gone, the next write to stdout fails. Go's
/// kubectl dies of SIGPIPE there, silently; Rust ignores SIGPIPE and `println!` panics
/// instead. Setting SIGPIPE back needs unsafe code, which this workspace forbids, so that one
/// panic ends the process quietly with the status a SIGPIPE death reports (128 + 13).
fn quiet_on_closed_stdout() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if message.starts_with("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(141);
        }
        default(info);
    }));
}

fn closed_stdout(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
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
