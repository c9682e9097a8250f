use clap::Parser;
use client::daemon;

/// The apiserver's own flags and the telemetry flags every daemon has. Its metrics and
/// health endpoints are on its API port, so `--metrics-bind-address` is accepted and
/// ignored.
#[derive(Debug, Parser)]
#[command(
    name = "apiserver",
    about = "The cluster's API server, on an embedded sled store",
    mut_arg("metrics_bind_address", |a| a.help(
        "Ignored: the apiserver serves /metrics (authorized as the non-resource URL \
         `get /metrics`, which the system:monitoring group holds) and /healthz, /livez, \
         /readyz on its API port (--listen)"
    ))
)]
struct Flags {
    #[command(flatten)]
    config: apiserver::Config,
    #[command(flatten)]
    telemetry: daemon::TelemetryFlags,
}

fn main() -> anyhow::Result<()> {
    daemon::build_runtime()?.block_on(run())
}

async fn run() -> anyhow::Result<()> {
    // `apiserver init [flags]` (kubeadm's `init phase certs/kubeconfig`): writes the PKI
    // and the kubeconfigs into --data-dir, as the first start would, then exits.
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let init = args.get(1).is_some_and(|a| a == "init");
    if init {
        args.remove(1);
    }
    let Flags { config, telemetry } = Flags::parse_from(args);
    let _trace = daemon::init_telemetry("apiserver", &telemetry);
    if telemetry.metrics_bind_address.is_some() {
        tracing::info!("--metrics-bind-address is ignored: /metrics is served on the API port");
    }
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
