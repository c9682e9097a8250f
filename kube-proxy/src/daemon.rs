//! The daemon: flags, informers on Services and Endpoints, and the sync loop.
//!
//! Informer handlers only set a dirty flag and wake the loop. The loop syncs at most once
//! per `--min-sync-period` (a burst of changes costs one sync), at least once per
//! `--sync-period` (a no-op when nothing changed: the plan is empty and no restore runs), and
//! rewrites everything once per `--full-sync-period`, at start and after a failed sync.
//! Rendering and applying run on the blocking pool, never on the runtime's two workers.

use crate::backend::{Backend, Desired};
use crate::error::Error;
use crate::health::ProxierHealth;
use crate::iptables::{Iptables, IptablesBackend, Ruleset};
use crate::metrics;
use crate::model::NodeConfig;
use crate::nftables::{Nft, NftBackend, NftRuleset};
use crate::{ipvs, model};
use client::{Api, Backoff, Client, Informer, InformerConfig, InformerEvent};
use proto::k8s::{Endpoints, Service};
use std::collections::HashSet;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};
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
    /// nftables mode: how transactions reach the kernel. netlink: nf_tables netlink
    /// batches (a failed batch is retried with the `nft` tool); nft: `nft -f` only.
    #[arg(
        long,
        value_enum,
        default_value = "netlink",
        env = "KUBE_PROXY_NFT_BACKEND"
    )]
    pub nftables_backend: crate::nftables::NftVia,
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
    /// Lines per iptables-restore transaction when a sync writes many chains.
    #[arg(long, default_value_t = crate::iptables::plan::DEFAULT_MAX_LINES)]
    pub max_restore_lines: usize,
    /// `--metrics-bind-address` (default `127.0.0.1:10249`, Kubernetes'; "" or "0"
    /// disables): `/metrics` and `/healthz`, `/livez`, `/readyz`, plain HTTP. And
    /// `--tracing-endpoint`.
    #[command(flatten)]
    pub telemetry: client::daemon::TelemetryFlags,
}

/// Kubernetes' `metricsBindAddress` default.
pub const DEFAULT_METRICS_ADDRESS: &str = "127.0.0.1:10249";

impl Config {
    /// Defaults, for tests and tools that start the daemon in-process.
    pub fn new(server: &str) -> Self {
        Config {
            connection: client::daemon::ConnectionFlags::plaintext(server),
            node_name: None,
            mode: Mode::Iptables,
            nftables_backend: crate::nftables::NftVia::from_env(),
            cleanup: false,
            cluster_cidr: None,
            min_sync_period: Duration::from_secs(1),
            sync_period: Duration::from_secs(30),
            full_sync_period: Duration::from_secs(3600),
            max_restore_lines: crate::iptables::plan::DEFAULT_MAX_LINES,
            // Off: tests run several proxies in one process.
            telemetry: client::daemon::TelemetryFlags {
                metrics_bind_address: Some(String::new()),
                tracing_endpoint: None,
            },
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
    pub status: watch::Receiver<SyncStatus>,
    /// Where `/metrics` and `/healthz` are served (None: `--metrics-bind-address ""`).
    pub metrics_addr: Option<std::net::SocketAddr>,
    /// What `/healthz` reports: unhealthy when a queued change waits past twice the sync
    /// period.
    pub health: ProxierHealth,
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
    let health = ProxierHealth::new(config.sync_period);
    // Registered before the first sync so /metrics lists them from the start, the mode's
    // own as Kubernetes' RegisterMetrics(mode).
    metrics::proxy();
    if config.mode == Mode::Nftables {
        metrics::nftables();
    } else {
        metrics::iptables();
    }
    let metrics_addr = serve_endpoints(&config, &health, cancel.clone()).await?;
    let (tx, status) = watch::channel(SyncStatus::default());
    let task = tokio::spawn(run_loop(
        config,
        client,
        backend,
        health.clone(),
        tx,
        cancel.clone(),
    ));
    Ok(Running::new(
        Handles {
            status,
            metrics_addr,
            health,
        },
        cancel,
        task,
    ))
}

/// `/metrics`, `/healthz`, `/livez`, `/readyz` on `--metrics-bind-address` (plain HTTP, as
/// Kubernetes' kube-proxy), with the proxier's sync health as a check.
async fn serve_endpoints(
    config: &Config,
    proxier: &ProxierHealth,
    cancel: CancellationToken,
) -> Result<Option<std::net::SocketAddr>, Error> {
    use client::daemon::{Serving, serve_endpoints};
    use telemetry::health::{Health, Probe};
    let health = Health::new();
    let p = proxier.clone();
    health.add_check("proxier-sync", Probe::Both, move || p.check(Instant::now()));
    // The kit logs the bound address (`serving /metrics, ...`).
    let addr = serve_endpoints(
        "kube-proxy",
        &config.telemetry,
        DEFAULT_METRICS_ADDRESS,
        health,
        Serving::Plain,
        cancel,
    )
    .await?;
    Ok(addr)
}

/// Changes seen since the last sync: the Services to re-render (their Service or their
/// Endpoints changed) and when the endpoint changes were triggered.
#[derive(Debug, Default)]
struct Pending {
    services: HashSet<String>,
    endpoints: HashSet<String>,
    triggers: Vec<SystemTime>,
}

fn lock(p: &Mutex<Pending>) -> std::sync::MutexGuard<'_, Pending> {
    // Sets and a list, each updated by one call: still whole after a panic elsewhere.
    p.lock().unwrap_or_else(|e| e.into_inner())
}

fn gauge_value(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

async fn run_loop(
    config: Config,
    client: Client,
    backend: Box<dyn Backend>,
    health: ProxierHealth,
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
    let pending: Arc<Mutex<Pending>> = Arc::default();
    let started = SystemTime::now();
    // Kubernetes' proxier.Sync(): the loop is woken and the queueing is recorded (the
    // health check's clock starts at the oldest change not yet programmed).
    let queue = {
        let (d, w, h) = (dirty.clone(), wake.clone(), health.clone());
        move || {
            d.store(true, Ordering::Release);
            metrics::proxy().queued_at(SystemTime::now());
            h.queued(Instant::now());
            w.notify_one();
        }
    };
    let (p, q) = (pending.clone(), queue.clone());
    services.add_handler(move |ev| {
        let m = metrics::proxy();
        let mut p = lock(&p);
        p.services.insert(ev.key());
        m.service_changes.inc();
        m.service_changes_pending.set(gauge_value(p.services.len()));
        drop(p);
        q();
    });
    let p = pending.clone();
    endpoints.add_handler(move |ev| {
        let trigger = match ev {
            InformerEvent::Added(new) => metrics::trigger_time(new, None, started),
            InformerEvent::Modified { old, new } => metrics::trigger_time(new, Some(old), started),
            _ => None,
        };
        let m = metrics::proxy();
        let mut p = lock(&p);
        p.endpoints.insert(ev.key());
        p.triggers.extend(trigger);
        m.endpoint_changes.inc();
        m.endpoint_changes_pending
            .set(gauge_value(p.endpoints.len()));
        drop(p);
        queue();
    });
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
        let (keys, triggers) = {
            let mut p = lock(&pending);
            let taken = std::mem::take(&mut *p);
            let m = metrics::proxy();
            m.service_changes_pending.set(0);
            m.endpoint_changes_pending.set(0);
            let keys: Vec<String> = taken.services.union(&taken.endpoints).cloned().collect();
            (keys, taken.triggers)
        };
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
        let m = metrics::proxy();
        m.observe_sync(took, res.as_ref().map_or(full, |o| o.full));
        match res {
            Ok(out) => {
                syncs_ok += 1;
                retry.reset();
                if out.full {
                    last_full = Some(start);
                }
                health.updated();
                let now = SystemTime::now();
                m.synced_at(now);
                for t in &triggers {
                    m.programmed(now.duration_since(*t).unwrap_or_default());
                }
                desired.record();
                let (rules, chains, elements) = desired.counts();
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
                if config.mode == Mode::Nftables {
                    metrics::nftables()
                        .sync_failures
                        .get_or_create(&metrics::IPV4)
                        .inc();
                } else {
                    metrics::iptables().failed(!full);
                }
                // Measured when they are programmed, by the sync that succeeds.
                lock(&pending).triggers.extend(triggers);
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
