use clap::Parser;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        // Colours only on a terminal: the log usually goes to a file.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cfg = kubelet::config::Config::parse();
    let cancel = CancellationToken::new();
    {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            let mut term =
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(s) => s,
                    Err(e) => {
                        tracing::error!(error = %e, "installing the SIGTERM handler failed");
                        return;
                    }
                };
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            tracing::info!("signal received; stopping (pods keep running)");
            cancel.cancel();
        });
    }
    let runtime = Arc::new(kubelet::runtime::docker::DockerRuntime::connect().await?);
    let network: Arc<dyn kubelet::network::PodNetwork> = Arc::new(
        kubelet::network::HostNetwork::new(&cfg.bridge_name, &cfg.root_dir),
    );
    kubelet::kubelet::run(cfg, runtime, Some(network), cancel).await?;
    Ok(())
}
