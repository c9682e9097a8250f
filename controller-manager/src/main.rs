use clap::Parser;
use client::daemon;
use tokio_util::sync::CancellationToken;

fn main() -> anyhow::Result<()> {
    daemon::build_runtime()?.block_on(run())
}

async fn run() -> anyhow::Result<()> {
    daemon::init_tracing();
    let config = controller_manager::Config::parse();
    let shutdown = CancellationToken::new();
    // Without signal handlers the daemon still runs (as before), it just cannot be
    // stopped gracefully.
    let signals = daemon::cancel_on_signal(shutdown.clone(), "shutting down")
        .inspect_err(|e| tracing::error!(error = %e, "cannot listen for signals"))
        .ok();
    let result = controller_manager::run(config, shutdown).await;
    if let Some(signals) = signals {
        signals.abort();
    }
    Ok(result?)
}
