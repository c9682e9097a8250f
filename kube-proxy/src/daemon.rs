//! The daemon: flags, informers on Services and Endpoints, and the sync loop.
//!
//! Informer handlers only set a dirty flag and wake the loop. The loop syncs at most once
//! per `--min-sync-period` (a burst of changes costs one sync), at least once per
//! `--sync-period` (a no-op when nothing changed: the plan is empty and no restore runs), and
//! rewrites everything once per `--full-sync-period`, at start and after a failed sync.
//! Rendering and applying run on the blocking pool, never on the runtime's two workers.

use crate::backend::{Backend, Desired};
use crate::error::Error;
use crate::iptables::{Iptables, IptablesBackend, Ruleset};
use crate::metrics::Metrics;
use crate::model::NodeConfig;
use crate::nftables::{Nft, NftBackend, NftRuleset};
use crate::{ipvs, model};
use client::{Api, Backoff, Client, Informer, InformerConfig};
use proto::k8s::{Endpoints, Service};
use std::collections::HashSet;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{Notify, watch};
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    Iptables,
    /// Kubernetes' name since 1.29: its own `ip kube-proxy` table, verdict maps.
    Nftables,
    Ipvs,
}

/// Flags (Kubernetes' names and defaults where Kubernetes has the flag).
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "kube-proxy",
    about = "Programs the node's kernel so Service addresses balance over ready endpoints"
)]
pub struct Config {
    /// How to reach the apiserver: `--kubeconfig FILE` (server, CA, credentials) and/or
    /// `--server URL` (without a kubeconfig: plaintext, http://127.0.0.1:6443 by default).
    #[command(flatten)]
    pub connection: client::daemon::ConnectionFlags,
    /// This node's name (default: the host name); used in logs.
    #[arg(long, env = "NODE_NAME")]
    pub node_name: Option<String>,
    /// Proxy backend. nftables: its own table with verdict maps (fast updates at 10000
    /// services); ipvs needs the kernel's IP Virtual Server support.
    #[arg(long, value_enum, default_value = "iptables")]
    pub mode: Mode,
    /// Remove every rule and chain kube-proxy made, then exit.
    #[arg(long)]
    pub cleanup: bool,
    /// The pods' range: traffic to a cluster IP from outside it is masqueraded.
    #[arg(long)]
    pub cluster_cidr: Option<String>,
    /// Minimum time between syncs: a burst of changes within it costs one sync.
    #[arg(long, default_value = "1s", value_parser = proto::duration::parse_flag)]
    pub min_sync_period: Duration,
    /// Maximum time between syncs (a sync with nothing changed runs no restore).
    #[arg(long, default_value = "30s", value_parser = proto::duration::parse_flag)]
    pub sync_period: Duration,
    /// How often every chain is rewritten regardless of what changed.
    #[arg(long, default_value = "1h", value_parser = proto::duration::parse_flag)]
    pub full_sync_period: Duration,
    /// Prometheus metrics (`/metrics`) and `/healthz`; empty disables.
    #[arg(long, default_value = "127.0.0.1:10249")]
    pub metrics_bind_address: String,
    /// Lines per iptables-restore transaction when a sync writes many chains.
    #[arg(long, default_value_t = crate::iptables::plan::DEFAULT_MAX_LINES)]
    pub max_restore_lines: usize,
}

impl Config {
    /// Defaults, for tests and tools that start the daemon in-process.
    pub fn new(server: &str) -> Self {
        Config {
            connection: client::daemon::ConnectionFlags::plaintext(server),
            node_name: None,
            mode: Mode::Iptables,
            cleanup: false,
            cluster_cidr: None,
            min_sync_period: Duration::from_secs(1),
            sync_period: Duration::from_secs(30),
            full_sync_period: Duration::from_secs(3600),
            metrics_bind_address: String::new(),
            max_restore_lines: crate::iptables::plan::DEFAULT_MAX_LINES,
        }
    }

    pub fn node_name(&self) -> String {
        self.node_name
            .clone()
            .unwrap_or_else(|| client::daemon::host_name().unwrap_or_default())
    }

    fn validate(&self) -> Result<(), Error> {
        if let Some(cidr) = &self.cluster_cidr {
            let ok = cidr.split_once('/').is_some_and(|(ip, len)| {
                ip.parse::<std::net::Ipv4Addr>().is_ok() && len.parse::<u8>().is_ok_and(|l| l <= 32)
            });
            if !ok {
                return Err(Error::InvalidFlag {
                    flag: "--cluster-cidr",
                    reason: format!("{cidr:?} is not an IPv4 CIDR"),
                });
            }
        }
        if self.sync_period.is_zero() {
            return Err(Error::InvalidFlag {
                flag: "--sync-period",
                reason: "must be positive".into(),
            });
        }
        Ok(())
    }
}

/// What the loop publishes after each sync (tests and the benchmark wait on it).
#[derive(Debug, Clone, Default)]
pub struct SyncStatus {
    /// Successful syncs so far.
    pub syncs: u64,
    /// The ruleset live in the kernel (iptables mode).
    pub applied: Option<Arc<Ruleset>>,
    /// The table contents live in the kernel (nftables mode).
    pub nft_applied: Option<Arc<NftRuleset>>,
    pub last_error: Option<String>,
}

/// What a started daemon offers besides stopping.
pub struct Handles {
    pub metrics: Arc<Metrics>,
    pub status: watch::Receiver<SyncStatus>,
}

/// A started daemon; dropping it does not stop it, `stop` does (a sync in progress
/// finishes first). `wait` returns only on error.
pub type Running = client::daemon::Running<Handles, Error>;

impl From<tokio::task::JoinError> for Error {
    fn from(e: tokio::task::JoinError) -> Self {
        Error::Task(e.to_string())
    }
}

/// Checks the flags and the kernel, starts the metrics endpoint and the sync loop. Errors
/// here are start-up errors (bad flag, no IPVS, metrics address taken); the apiserver
/// being down is not one: the informers retry with back-off and the loop waits for them.
pub async fn start(config: Config, ipt: Arc<dyn Iptables>) -> Result<Running, Error> {
    if config.mode == Mode::Nftables {
        return Err(Error::InvalidFlag {
            flag: "--mode",
            reason: "nftables mode is started with start_nftables".into(),
        });
    }
    let backend = IptablesBackend::new(ipt, config.max_restore_lines);
    start_backend(config, Box::new(backend)).await
}

/// `start` for `--mode nftables` (the mode in `config` is set to it).
pub async fn start_nftables(mut config: Config, nft: Arc<dyn Nft>) -> Result<Running, Error> {
    config.mode = Mode::Nftables;
    start_backend(config, Box::new(NftBackend::new(nft))).await
}

async fn start_backend(config: Config, backend: Box<dyn Backend>) -> Result<Running, Error> {
    config.validate()?;
    if config.mode == Mode::Ipvs {
        ipvs::check_kernel_support(Path::new("/proc"))?;
        // Unreachable on this machine; see ipvs.rs.
        return Err(Error::IpvsUnavailable {
            detail: "the kernel has IPVS, but this build programs it only through --mode iptables"
                .into(),
        });
    }
    let client = config.connection.client().map_err(|e| Error::InvalidFlag {
        flag: "--kubeconfig/--server",
        reason: e.to_string(),
    })?;
    let cancel = CancellationToken::new();
    let metrics = Metrics::new();
    if !config.metrics_bind_address.is_empty() {
        crate::metrics::serve(
            &config.metrics_bind_address,
            metrics.clone(),
            cancel.clone(),
        )
        .await?;
    }
    let (tx, status) = watch::channel(SyncStatus::default());
    let task = tokio::spawn(run_loop(
        config,
        client,
        backend,
        metrics.clone(),
        tx,
        cancel.clone(),
    ));
    Ok(Running::new(Handles { metrics, status }, cancel, task))
}

async fn run_loop(
    config: Config,
    client: Client,
    backend: Box<dyn Backend>,
    metrics: Arc<Metrics>,
    status: watch::Sender<SyncStatus>,
    cancel: CancellationToken,
) -> Result<(), Error> {
    let node = config.node_name();
    let server = client.server().to_string();
    let services: Informer<Service> =
        Informer::new(Api::all(client.clone()), InformerConfig::default());
    let endpoints: Informer<Endpoints> = Informer::new(Api::all(client), InformerConfig::default());
    let dirty = Arc::new(AtomicBool::new(true));
    let wake = Arc::new(Notify::new());
    // `namespace/name` of Services whose Service or Endpoints changed since the last sync:
    // only those are re-rendered (a full sync re-renders everything).
    let changed_keys: Arc<Mutex<HashSet<String>>> = Arc::default();
    let on_change = {
        let (d, w, k) = (dirty.clone(), wake.clone(), changed_keys.clone());
        move |key: String| {
            k.lock().unwrap_or_else(|p| p.into_inner()).insert(key);
            d.store(true, Ordering::Release);
            w.notify_one();
        }
    };
    let h = on_change.clone();
    services.add_handler(move |ev| h(ev.key()));
    endpoints.add_handler(move |ev| on_change(ev.key()));
    services.start();
    endpoints.start();
    tracing::info!(node = %node, server = %server, "waiting for the Service and Endpoints caches");
    let synced = tokio::select! {
        _ = cancel.cancelled() => false,
        s = async { services.wait_until_synced().await && endpoints.wait_until_synced().await } => s,
    };
    if !synced {
        return Ok(());
    }
    tracing::info!(node = %node, services = services.store().len(), endpoints = endpoints.store().len(), "caches synced");

    let node_config = NodeConfig {
        cluster_cidr: config.cluster_cidr.clone(),
    };
    let mut backend = Some(backend);
    let mut last_sync: Option<Instant> = None;
    let mut last_full: Option<Instant> = None;
    let mut periodic = tokio::time::interval(config.sync_period);
    periodic.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut retry = Backoff::new(
        config.min_sync_period.max(Duration::from_millis(100)),
        config.sync_period,
    );
    let mut retry_at: Option<tokio::time::Instant> = None;
    let mut syncs_ok = 0u64;
    let mut rendered_once = false;
    loop {
        let mut due = false;
        tokio::select! {
            _ = cancel.cancelled() => break,
            _ = wake.notified() => {}
            _ = periodic.tick() => due = true,
            _ = sleep_until(retry_at) => { retry_at = None; due = true; }
        }
        if let Some(t) = last_sync {
            let earliest = t + config.min_sync_period;
            if Instant::now() < earliest {
                tokio::select! {
                    _ = cancel.cancelled() => break,
                    _ = tokio::time::sleep_until(earliest.into()) => {}
                }
            }
        }
        let changed = dirty.swap(false, Ordering::AcqRel);
        if !changed && !due {
            continue;
        }
        let full = last_full.is_none_or(|t| t.elapsed() >= config.full_sync_period);
        let keys: Vec<String> = changed_keys
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain()
            .collect();
        let rerender_all = full || !rendered_once;
        rendered_once = true;
        let (svc_store, ep_store) = (services.store(), endpoints.store());
        let node_config = node_config.clone();
        let Some(mut eng) = backend.take() else {
            return Err(Error::Task("proxier lost after a failed sync task".into()));
        };
        let start = Instant::now();
        last_sync = Some(start);
        let joined = tokio::task::spawn_blocking(move || {
            let desired = if rerender_all {
                let ports = model::collect(&svc_store.list(), &ep_store.snapshot());
                eng.render_all(&ports, &node_config)
            } else {
                for key in &keys {
                    let eps = ep_store.get(key);
                    let ports = svc_store
                        .get(key)
                        .map(|svc| model::service_ports(&svc, eps.as_deref()).0)
                        .unwrap_or_default();
                    eng.update_service(key, &ports);
                }
                eng.desired()
            };
            let counts = eng.counts();
            let computed = start.elapsed();
            let res = eng.sync(&desired, full);
            (eng, counts, desired, computed, res)
        })
        .await
        .map_err(|e| Error::Task(e.to_string()))?;
        let (eng, (port_count, endpoint_count), desired, computed, res) = joined;
        backend = Some(eng);
        let took = start.elapsed();
        metrics.observe_sync(took);
        match res {
            Ok(out) => {
                syncs_ok += 1;
                retry.reset();
                if out.full {
                    last_full = Some(start);
                    metrics.full_syncs.fetch_add(1, Ordering::Relaxed);
                }
                if !out.restored {
                    metrics.restores_skipped.fetch_add(1, Ordering::Relaxed);
                }
                desired.record(&metrics);
                let (rules, chains, elements) = desired.counts();
                metrics
                    .service_ports
                    .store(port_count as u64, Ordering::Relaxed);
                metrics
                    .endpoints
                    .store(endpoint_count as u64, Ordering::Relaxed);
                if out.restored {
                    metrics
                        .last_restore_us
                        .store(out.restore_time.as_micros() as u64, Ordering::Relaxed);
                    metrics
                        .last_restore_lines
                        .store(out.restore_lines as u64, Ordering::Relaxed);
                }
                let log = |msg: &str| {
                    tracing::info!(
                        node = %node, full = out.full, took_ms = took.as_millis() as u64,
                        compute_ms = computed.as_millis() as u64,
                        restore_ms = out.restore_time.as_millis() as u64,
                        service_ports = port_count, endpoints = endpoint_count,
                        rules, chains, elements, chains_written = out.chains_written, chains_deleted = out.chains_deleted,
                        transactions = out.transactions, "{msg}"
                    )
                };
                if out.restored {
                    log("synced proxy rules");
                } else {
                    tracing::debug!(node = %node, took_ms = took.as_millis() as u64, "nothing changed; no restore");
                }
                let (applied, nft_applied) = match desired {
                    Desired::Iptables(r) => (Some(r), None),
                    Desired::Nftables(r) => (None, Some(r)),
                    Desired::Ipvs(_) => (None, None),
                };
                status.send_replace(SyncStatus {
                    syncs: syncs_ok,
                    applied,
                    nft_applied,
                    last_error: None,
                });
            }
            Err(e) => {
                metrics.sync_failures.fetch_add(1, Ordering::Relaxed);
                let delay = retry.next_delay();
                tracing::error!(node = %node, error = %e, retry_in = ?delay, "sync failed; the next sync rewrites every chain");
                retry_at = Some(tokio::time::Instant::now() + delay);
                dirty.store(true, Ordering::Release);
                status.send_modify(|s| s.last_error = Some(e.to_string()));
            }
        }
    }
    tracing::info!(node = %node, "stopping");
    Ok(())
}

async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}
