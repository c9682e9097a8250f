//! `scheduler`: flags -> config -> run until SIGTERM/SIGINT.

use anyhow::Context;
use clap::Parser;
use client::LeaderElectionConfig;
use scheduler::config::{self, FileConfig};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

#[derive(Parser, Debug)]
#[command(name = "scheduler", about = "Binds pending pods to nodes")]
struct Flags {
    /// The apiserver.
    #[arg(long, env = "SCHEDULER_SERVER", default_value = client::DEFAULT_SERVER)]
    server: String,
    /// KubeSchedulerConfiguration file (YAML): plugins, weights, args.
    #[arg(long)]
    config: Option<String>,
    /// Run leader election on a Lease so only one replica schedules (overrides the
    /// config file's leaderElection.leaderElect).
    #[arg(long)]
    leader_elect: Option<bool>,
    #[arg(long, default_value = "kube-scheduler")]
    leader_elect_resource_name: Option<String>,
    #[arg(long, default_value = "kube-system")]
    leader_elect_resource_namespace: Option<String>,
    /// Go-style duration, e.g. 15s.
    #[arg(long)]
    leader_elect_lease_duration: Option<String>,
    #[arg(long)]
    leader_elect_renew_deadline: Option<String>,
    #[arg(long)]
    leader_elect_retry_period: Option<String>,
    /// This replica's identity in the lease (default: hostname plus a random suffix).
    #[arg(long)]
    leader_elect_identity: Option<String>,
}

fn identity() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "scheduler".into());
    format!("{host}_{:08x}", rand::random::<u32>())
}

fn leader_config(flags: &Flags, file: &FileConfig) -> anyhow::Result<Option<LeaderElectionConfig>> {
    let le = file.leader_election.clone().unwrap_or_default();
    let enabled = flags.leader_elect.or(le.leader_elect).unwrap_or(true);
    if !enabled {
        return Ok(None);
    }
    let pick = |flag: &Option<String>, file: &Option<String>, default: &str| -> String {
        flag.clone()
            .or_else(|| file.clone())
            .unwrap_or_else(|| default.to_string())
    };
    // Flags with defaults win only when the file says nothing.
    let name = le
        .resource_name
        .clone()
        .or_else(|| flags.leader_elect_resource_name.clone())
        .unwrap_or_else(|| "kube-scheduler".into());
    let namespace = le
        .resource_namespace
        .clone()
        .or_else(|| flags.leader_elect_resource_namespace.clone())
        .unwrap_or_else(|| "kube-system".into());
    let id = flags.leader_elect_identity.clone().unwrap_or_else(identity);
    let mut cfg = LeaderElectionConfig::new(&namespace, &name, &id);
    cfg.lease_duration = config::parse_duration(&pick(
        &flags.leader_elect_lease_duration,
        &le.lease_duration,
        "15s",
    ))?;
    cfg.renew_deadline = config::parse_duration(&pick(
        &flags.leader_elect_renew_deadline,
        &le.renew_deadline,
        "10s",
    ))?;
    cfg.retry_period = config::parse_duration(&pick(
        &flags.leader_elect_retry_period,
        &le.retry_period,
        "2s",
    ))?;
    cfg.validate()?;
    Ok(Some(cfg))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        // Colour codes only for a terminal: log files stay plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let flags = Flags::parse();
    let file = match &flags.config {
        Some(path) => config::load(path)?,
        None => FileConfig::default(),
    };
    let framework = config::build_framework(&file)?;
    let leader_election = leader_config(&flags, &file)?;
    let identity = leader_election
        .as_ref()
        .map_or_else(identity, |l| l.identity.clone());
    let options = scheduler::Options {
        initial_backoff: Duration::from_secs(file.pod_initial_backoff_seconds.unwrap_or(1)),
        max_backoff: Duration::from_secs(file.pod_max_backoff_seconds.unwrap_or(10)),
        leader_election,
        ..Default::default()
    };
    let client = client::Client::lazy(&flags.server)
        .with_context(|| format!("invalid --server {}", flags.server))?;
    let cancel = CancellationToken::new();
    let (reporter, reporter_task) = scheduler::report::ApiReporter::start(
        client.clone(),
        &framework.scheduler_name,
        &identity,
        cancel.clone(),
    );
    let signals = cancel.clone();
    tokio::spawn(async move {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) else {
            tracing::error!("cannot install signal handlers");
            return;
        };
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM: shutting down"),
            _ = int.recv() => tracing::info!("SIGINT: shutting down"),
        }
        signals.cancel();
    });
    tracing::info!(server = %flags.server, identity = %identity, "scheduler starting");
    scheduler::run(client, framework, options, reporter, cancel.clone()).await?;
    cancel.cancel();
    let _ = tokio::time::timeout(Duration::from_secs(5), reporter_task).await;
    tracing::info!("scheduler stopped");
    Ok(())
}
