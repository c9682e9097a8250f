use clap::Parser;
use client::daemon;

fn main() -> anyhow::Result<()> {
    daemon::build_runtime()?.block_on(run())
}

async fn run() -> anyhow::Result<()> {
    daemon::init_tracing();
    // `apiserver init [flags]` (kubeadm's `init phase certs/kubeconfig`): writes the PKI
    // and the kubeconfigs into --data-dir, as the first start would, then exits.
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let init = args.get(1).is_some_and(|a| a == "init");
    if init {
        args.remove(1);
    }
    let config = apiserver::Config::parse_from(args);
    if init {
        let pki = apiserver::server::init(&config)?;
        println!(
            "cluster PKI in {}; admin kubeconfig {}; server {}",
            pki.dir.display(),
            pki.admin_kubeconfig().display(),
            pki.server_url
        );
        return Ok(());
    }
    let server = apiserver::start(config).await?;
    daemon::termination_signal()?.await;
    tracing::info!("shutting down");
    server.shutdown().await?;
    Ok(())
}
