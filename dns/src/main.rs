use anyhow::Context;
use clap::Parser;
use cluster_dns::{Config, start};
use std::time::Duration;

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<()> {
    client::daemon::build_runtime()?.block_on(serve())
}

async fn serve() -> anyhow::Result<()> {
    let config = Config::parse();
    let _trace = client::daemon::init_telemetry("cluster-dns", &config.telemetry);
    let mut running = start(config).await?;
    let signal = client::daemon::termination_signal().context("signal handlers")?;
    tokio::select! {
        name = signal => tracing::info!(signal = name, "stopping"),
        r = running.wait() => return r.map_err(Into::into),
    }
    client::daemon::drain("DNS server", Duration::from_secs(10), running.stop()).await??;
    Ok(())
}
