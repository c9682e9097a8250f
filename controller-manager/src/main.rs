use anyhow::Context as _;
use clap::Parser;
use client::daemon::{self, Serving};
use tokio_util::sync::CancellationToken;

fn main() -> anyhow::Result<()> {
    daemon::build_runtime()?.block_on(run())
}

async fn run() -> anyhow::Result<()> {
    let config = controller_manager::Config::parse();
    // Held until the end of `run`: dropping it flushes the spans still queued.
    let _trace = daemon::init_telemetry("controller-manager", &config.telemetry);
    let shutdown = CancellationToken::new();
    // Without signal handlers the daemon still runs (as before), it just cannot be
    // stopped gracefully.
    let signals = daemon::cancel_on_signal(shutdown.clone(), "shutting down")
        .inspect_err(|e| tracing::error!(error = %e, "cannot listen for signals"))
        .ok();
    let probes = controller_manager::Probes::default();
    // The endpoints' own connection, for delegated authentication (lazy: no I/O yet).
    let client = config
        .connection_flags()
        .client()
        .context("cannot set up the connection to the apiserver")?;
    let serving = if client.connection().trust.is_some() {
        Serving::Delegated {
            connection: client.connection().clone(),
            client,
        }
    } else {
        Serving::Plain
    };
    daemon::serve_endpoints(
        "controller-manager",
        &config.telemetry,
        controller_manager::config::DEFAULT_METRICS_BIND,
        probes.health(),
        serving,
        shutdown.clone(),
    )
    .await
    .context("cannot serve the metrics and health endpoints")?;
    let result = controller_manager::run_with_probes(config, shutdown.clone(), probes).await;
    // Stops the endpoints too.
    shutdown.cancel();
    if let Some(signals) = signals {
        signals.abort();
    }
    Ok(result?)
}
