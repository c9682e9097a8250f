use anyhow::Context;
use clap::Parser;
use kube_proxy::iptables::{RealIptables, cleanup};
use kube_proxy::nftables::RealNft;
use kube_proxy::{Config, Mode, daemon};
use std::sync::Arc;
use std::time::Duration;

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // One line, whatever RUST_LOG and RUST_BACKTRACE say (a start-up error such as
            // missing IPVS must be readable at a glance).
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
    let _trace = client::daemon::init_telemetry("kube-proxy", &config.telemetry);
    let ipt = Arc::new(RealIptables::new());
    if config.cleanup {
        let max = config.max_restore_lines;
        let n = tokio::task::spawn_blocking(move || cleanup(ipt.as_ref(), max))
            .await
            .context("cleanup task")??;
        tracing::info!(
            chains = n,
            "cleaned up every iptables rule and chain kube-proxy made"
        );
        // Whatever the mode, as Kubernetes' --cleanup: the nftables table goes too. A host
        // without nft has no such table; that is not an error.
        let nft = RealNft::new();
        match tokio::task::spawn_blocking(move || kube_proxy::nftables::cleanup(&nft))
            .await
            .context("cleanup task")?
        {
            Ok(true) => tracing::info!("deleted nftables table ip kube-proxy"),
            Ok(false) => {}
            Err(e) if config.mode == Mode::Nftables => return Err(e.into()),
            Err(e) => tracing::warn!(error = %e, "nftables cleanup skipped"),
        }
        return Ok(());
    }
    let mut running = if config.mode == Mode::Nftables {
        let nft = RealNft::with(None, config.nftables_backend);
        tracing::info!(backend = ?config.nftables_backend, "nftables mode");
        daemon::start_nftables(config, Arc::new(nft)).await?
    } else {
        daemon::start(config, ipt).await?
    };
    let signal = client::daemon::termination_signal().context("signal handlers")?;
    tokio::select! {
        name = signal => tracing::info!(signal = name, "stopping"),
        r = running.wait() => return r.map_err(Into::into),
    }
    // A sync in progress finishes (one restore); the rules stay in place, as Kubernetes
    // leaves them, so traffic keeps flowing while the proxy restarts.
    client::daemon::drain(
        "the sync in progress",
        Duration::from_secs(30),
        running.stop(),
    )
    .await??;
    Ok(())
}
