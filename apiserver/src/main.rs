use clap::Parser;
use client::daemon;

fn main() -> anyhow::Result<()> {
    daemon::build_runtime()?.block_on(run())
}

async fn run() -> anyhow::Result<()> {
    daemon::init_tracing();
    let config = apiserver::Config::parse();
    let server = apiserver::start(config).await?;
    daemon::termination_signal()?.await;
    tracing::info!("shutting down");
    server.shutdown().await?;
    Ok(())
}
