use clap::Parser;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

fn main() -> anyhow::Result<()> {
    client::daemon::build_runtime()?.block_on(run())
}

async fn run() -> anyhow::Result<()> {
    client::daemon::init_tracing();
    let cfg = kubelet::config::Config::parse();
    let cancel = CancellationToken::new();
    if let Err(e) = client::daemon::cancel_on_signal(cancel.clone(), "stopping (pods keep running)")
    {
        tracing::error!(error = %e, "installing the signal handlers failed");
    }
    let runtime = Arc::new(kubelet::runtime::docker::DockerRuntime::connect().await?);
    let network: Arc<dyn kubelet::network::PodNetwork> = Arc::new(
        kubelet::network::HostNetwork::new(&cfg.bridge_name, &cfg.root_dir),
    );
    kubelet::kubelet::run(cfg, runtime, Some(network), cancel).await?;
    Ok(())
}
