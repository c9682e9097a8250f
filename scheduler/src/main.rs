//! `scheduler`: flags -> config -> run until SIGTERM/SIGINT.

use anyhow::Context;
use clap::Parser;
use client::LeaderElectionConfig;
use client::daemon::{self, LeaderElectionFlags, Serving, TelemetryFlags};
use scheduler::config::{self, FileConfig};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

#[derive(Parser, Debug)]
#[command(name = "scheduler", about = "Binds pending pods to nodes")]
struct Flags {
    /// How to reach the apiserver: `--kubeconfig FILE` (server, CA, credentials) and/or
    /// `--server URL` (else $SCHEDULER_SERVER; without a kubeconfig: plaintext,
    /// http://127.0.0.1:6443 by default).
    #[command(flatten)]
    connection: daemon::ConnectionFlags,
    /// KubeSchedulerConfiguration file (YAML): plugins, weights, args.
    #[arg(long)]
    config: Option<String>,
    /// Leader election on a Lease so only one replica schedules. `--leader-elect` and the
    /// durations override the config file's leaderElection; the Lease's name and namespace
    /// there override the flags.
    #[command(flatten)]
    leader: LeaderElectionFlags,
    /// `--metrics-bind-address` (default 0.0.0.0:10259, kube-scheduler's secure port):
    /// /metrics, /healthz, /livez, /readyz; `--tracing-endpoint`.
    #[command(flatten)]
    telemetry: TelemetryFlags,
}

/// kube-scheduler's secure port.
const DEFAULT_METRICS_BIND: &str = "0.0.0.0:10259";

/// The Lease's name when neither the file nor the flag names one.
const LEASE_NAME: &str = "kube-scheduler";

fn leader_config(flags: &Flags, file: &FileConfig) -> anyhow::Result<Option<LeaderElectionConfig>> {
    let le = file.leader_election.clone().unwrap_or_default();
    let enabled = flags
        .leader
        .leader_elect
        .or(le.leader_elect)
        .unwrap_or(true);
    if !enabled {
        return Ok(None);
    }
    let from_file = |field: &str, value: &Option<String>| -> anyhow::Result<Option<Duration>> {
        value
            .as_deref()
            .map(proto::duration::parse_flag)
            .transpose()
            .with_context(|| format!("leaderElection.{field}"))
    };
    let lease_duration = from_file("leaseDuration", &le.lease_duration)?;
    let renew_deadline = from_file("renewDeadline", &le.renew_deadline)?;
    let retry_period = from_file("retryPeriod", &le.retry_period)?;
    let merged = LeaderElectionFlags {
        leader_elect: Some(true),
        leader_elect_lease_duration: flags.leader.leader_elect_lease_duration.or(lease_duration),
        leader_elect_renew_deadline: flags.leader.leader_elect_renew_deadline.or(renew_deadline),
        leader_elect_retry_period: flags.leader.leader_elect_retry_period.or(retry_period),
        // The flags had defaults, so the file's name and namespace always won.
        leader_elect_resource_namespace: le
            .resource_namespace
            .or_else(|| flags.leader.leader_elect_resource_namespace.clone()),
        leader_elect_resource_name: le
            .resource_name
            .or_else(|| flags.leader.leader_elect_resource_name.clone()),
        leader_elect_identity: flags.leader.leader_elect_identity.clone(),
    };
    let cfg = merged.to_config(LEASE_NAME, "scheduler");
    if let Some(cfg) = &cfg {
        cfg.validate()?;
    }
    Ok(cfg)
}

fn main() -> anyhow::Result<()> {
    daemon::build_runtime()?.block_on(run())
}

async fn run() -> anyhow::Result<()> {
    let mut flags = Flags::parse();
    // Held until the end of `run`: dropping it flushes the spans still queued.
    let _trace = daemon::init_telemetry("scheduler", &flags.telemetry);
    if flags.connection.server.is_none() {
        flags.connection.server = std::env::var("SCHEDULER_SERVER").ok();
    }
    let file = match &flags.config {
        Some(path) => config::load(path)?,
        None => FileConfig::default(),
    };
    let framework = config::build_framework(&file)?;
    let leader_election = leader_config(&flags, &file)?;
    let identity = leader_election.as_ref().map_or_else(
        || daemon::lease_identity("scheduler"),
        |l| l.identity.clone(),
    );
    let options = scheduler::Options {
        initial_backoff: Duration::from_secs(file.pod_initial_backoff_seconds.unwrap_or(1)),
        max_backoff: Duration::from_secs(file.pod_max_backoff_seconds.unwrap_or(10)),
        leader_election,
        ..Default::default()
    };
    let client = flags
        .connection
        .client()
        .context("cannot set up the connection to the apiserver")?;
    let cancel = CancellationToken::new();
    let (reporter, reporter_task) = scheduler::report::ApiReporter::start(
        client.clone(),
        &framework.scheduler_name,
        &identity,
        cancel.clone(),
    );
    if let Err(e) = daemon::cancel_on_signal(cancel.clone(), "shutting down") {
        tracing::error!(error = %e, "cannot install signal handlers");
    }
    let serving = if client.connection().trust.is_some() {
        Serving::Delegated {
            client: client.clone(),
            connection: client.connection().clone(),
        }
    } else {
        Serving::Plain
    };
    daemon::serve_endpoints(
        "scheduler",
        &flags.telemetry,
        DEFAULT_METRICS_BIND,
        health(&options.probes),
        serving,
        cancel.clone(),
    )
    .await
    .context("cannot serve the metrics and health endpoints")?;
    tracing::info!(server = client.server(), identity = %identity, "scheduler starting");
    scheduler::run(client, framework, options, reporter, cancel.clone()).await?;
    cancel.cancel();
    // Events still queued get a last chance to reach the apiserver.
    let _ = daemon::drain("event reporter", Duration::from_secs(5), reporter_task).await;
    tracing::info!("scheduler stopped");
    Ok(())
}

/// kube-scheduler's checks: `leaderElection` and `informer-sync`, as the kit makes them.
fn health(probes: &scheduler::Probes) -> telemetry::health::Health {
    let synced = probes.clone();
    client::endpoints::controller_health(probes.leader.clone(), move || synced.synced())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(args: &[&str]) -> Flags {
        Flags::parse_from(std::iter::once("scheduler").chain(args.iter().copied()))
    }

    fn file(yaml: &str) -> FileConfig {
        config::parse(yaml).unwrap()
    }

    #[test]
    fn not_ready_until_the_caches_sync_and_alive_without_an_elector() {
        let h = health(&scheduler::Probes::default());
        let (code, body) = h.answer("/readyz", Some("verbose"));
        assert_eq!(code, 500, "{body}");
        assert!(body.contains("[-]informer-sync failed"), "{body}");
        let (code, body) = h.answer("/livez", Some("verbose"));
        assert_eq!(code, 200, "{body}");
        assert!(body.contains("[+]leaderElection ok"), "{body}");
    }

    #[test]
    fn metrics_bind_address_is_a_flag() {
        let f = flags(&["--metrics-bind-address=127.0.0.1:0"]);
        assert_eq!(
            f.telemetry.metrics_bind_address.as_deref(),
            Some("127.0.0.1:0")
        );
    }

    #[test]
    fn leader_election_merges_flags_and_file_as_before() {
        let c = leader_config(&flags(&[]), &FileConfig::default())
            .unwrap()
            .unwrap();
        assert_eq!(
            (c.lease_namespace.as_str(), c.lease_name.as_str()),
            ("kube-system", "kube-scheduler")
        );
        assert_eq!(
            (c.lease_duration, c.renew_deadline, c.retry_period),
            (
                Duration::from_secs(15),
                Duration::from_secs(10),
                Duration::from_secs(2)
            )
        );
        let f = file(
            "leaderElection:\n  leaseDuration: 30s\n  retryPeriod: 1.5s\n  resourceName: from-file\n",
        );
        let c = leader_config(
            &flags(&[
                "--leader-elect-lease-duration=20s",
                "--leader-elect-resource-name=from-flag",
                "--leader-elect-identity=me",
            ]),
            &f,
        )
        .unwrap()
        .unwrap();
        assert_eq!(c.lease_duration, Duration::from_secs(20), "the flag wins");
        assert_eq!(c.retry_period, Duration::from_millis(1500), "then the file");
        assert_eq!(c.lease_name, "from-file", "the file's name wins");
        assert_eq!(c.identity, "me");
        let off = file("leaderElection:\n  leaderElect: false\n");
        assert!(leader_config(&flags(&[]), &off).unwrap().is_none());
        assert!(
            leader_config(&flags(&["--leader-elect=true"]), &off)
                .unwrap()
                .is_some()
        );
        let bad = file("leaderElection:\n  leaseDuration: \"15\"\n");
        assert!(leader_config(&flags(&[]), &bad).is_err());
    }
}
