use clap::Parser;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

fn main() -> anyhow::Result<()> {
    client::daemon::build_runtime()?.block_on(run())
}

async fn run() -> anyhow::Result<()> {
    let cfg = kubelet::config::Config::parse();
    let _trace = client::daemon::init_telemetry("kubelet", &cfg.telemetry);
    telemetry::process::register_process_metrics();
    if cfg.telemetry.metrics_bind_address.is_some() {
        tracing::warn!(
            "--metrics-bind-address is not used by the kubelet: its metrics are served on its API port (--port)"
        );
    }
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
