//! Assembles and runs the apiserver: opens the store, makes sure the system namespaces
//! exist, serves the API and gRPC health on one listener, and shuts down in order (stop
//! accepting, end watches, finish in-flight requests, make every write durable).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use proto::Resource;
use proto::k8s::api_server::ApiServer;
use proto::k8s::{Namespace, Object};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tonic::transport::server::TcpIncoming;
use tracing::{info, warn};

// Section C's modules, declared here until their lines move to `lib.rs` / `auth/mod.rs`
// (owned by another section while this lands); paths stay relative to `src/`.
#[path = "auth/authn/mod.rs"]
pub mod authn;

use crate::admission::SYSTEM_NAMESPACES;
use crate::allocator::{self, ServiceAllocator};
use crate::registry::Registry;
use crate::service::ApiService;
use crate::store::Store;
use crate::store::encrypted::{EncryptedStore, rewrite_stale};
use crate::store::sled_store::{SledOptions, SledStore};
use crate::watch::WatchConfig;

#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "apiserver",
    about = "The cluster's API server, on an embedded sled store"
)]
pub struct Config {
    /// Address to serve the gRPC API on.
    #[arg(long, default_value = "127.0.0.1:6443")]
    pub listen: SocketAddr,
    /// Where the store keeps its data; created if missing.
    #[arg(long, default_value = "./data/apiserver")]
    pub data_dir: PathBuf,
    /// Range Service cluster IPs are allocated from.
    #[arg(long, default_value = "10.96.0.0/12")]
    pub service_cidr: String,
    /// Range NodePorts are allocated from.
    #[arg(long, default_value = "30000-32767")]
    pub node_port_range: String,
    /// Store events kept so watches can resume (also across restarts).
    #[arg(long, default_value_t = 100_000)]
    pub history_limit: u64,
    /// Store cache size in MiB.
    #[arg(long, default_value_t = 64)]
    pub cache_mb: u64,
    /// Seconds in-flight requests get to finish on shutdown.
    #[arg(long, default_value_t = 10)]
    pub shutdown_grace_seconds: u64,
    /// tolerationSeconds of the `node.kubernetes.io/not-ready:NoExecute` toleration added to
    /// every pod that has none (Kubernetes' DefaultTolerationSeconds admission).
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(i32).range(0..))]
    pub default_not_ready_toleration_seconds: i32,
    /// tolerationSeconds of the `node.kubernetes.io/unreachable:NoExecute` toleration added to
    /// every pod that has none.
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(i32).range(0..))]
    pub default_unreachable_toleration_seconds: i32,
    /// How long Events are kept after their last write (Kubernetes' `--event-ttl`).
    #[arg(long, default_value = "1h", value_parser = proto::duration::parse_flag)]
    pub event_ttl: Duration,
    /// Seconds to connect to a kubelet (logs, exec, stats through the apiserver), and the
    /// deadline of a stats call (Kubernetes' `--kubelet-timeout`).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..))]
    pub kubelet_timeout: u64,
    /// Dial nodes whose InternalIP is loopback or unspecified (nodes on this very host, as
    /// in tests); without it such nodes are refused.
    #[arg(long)]
    pub kubelet_allow_loopback: bool,
    /// Pod Security level enforced in namespaces without a
    /// `pod-security.kubernetes.io/enforce` label: privileged, baseline or restricted.
    #[arg(long, default_value = "privileged", value_name = "LEVEL")]
    pub pod_security_enforce: crate::pod_security::Level,
    /// Pod Security level warned about (to the client) in namespaces without a
    /// `pod-security.kubernetes.io/warn` label.
    #[arg(long, default_value = "privileged", value_name = "LEVEL")]
    pub pod_security_warn: crate::pod_security::Level,
    /// Pod Security level audited (logged) in namespaces without a
    /// `pod-security.kubernetes.io/audit` label.
    #[arg(long, default_value = "privileged", value_name = "LEVEL")]
    pub pod_security_audit: crate::pod_security::Level,
    /// Namespaces Pod Security admission never checks (comma-separated; "" for none).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "kube-system",
        value_name = "NAMESPACES"
    )]
    pub pod_security_exempt_namespaces: Vec<String>,
    /// Kubernetes' EncryptionConfiguration file (apiserver.config.k8s.io/v1): which resources
    /// are encrypted at rest, and with which providers and keys (the first one encrypts).
    #[arg(long, value_name = "FILE")]
    pub encryption_provider_config: Option<PathBuf>,
    /// At startup, before serving, rewrite every object of the encrypted resources that is
    /// not stored with the current write key (plain, or an older key). Idempotent.
    #[arg(long, requires = "encryption_provider_config")]
    pub rewrite_encrypted_resources: bool,
    /// At startup, rebuild the store's files from the live objects (after the rewrite, when
    /// asked for), dropping the watch history and every stale copy sled still keeps of
    /// earlier values. Watches from before it get Expired and relist.
    #[arg(long)]
    pub compact_store: bool,
}

impl Config {
    /// A config for tests and tools: everything default but where to listen and store.
    pub fn for_dir(data_dir: PathBuf, listen: SocketAddr) -> Config {
        Config {
            listen,
            data_dir,
            service_cidr: "10.96.0.0/12".to_string(),
            node_port_range: "30000-32767".to_string(),
            history_limit: 100_000,
            cache_mb: 64,
            shutdown_grace_seconds: 10,
            default_not_ready_toleration_seconds: 300,
            default_unreachable_toleration_seconds: 300,
            event_ttl: Duration::from_secs(3600),
            kubelet_timeout: 5,
            // In-process servers run their nodes on loopback.
            kubelet_allow_loopback: true,
            pod_security_enforce: crate::pod_security::Level::Privileged,
            pod_security_warn: crate::pod_security::Level::Privileged,
            pod_security_audit: crate::pod_security::Level::Privileged,
            pod_security_exempt_namespaces: vec!["kube-system".to_string()],
            encryption_provider_config: None,
            rewrite_encrypted_resources: false,
            compact_store: false,
        }
    }
}

/// What the apiserver serves from: sled beneath encryption at rest.
pub type ServerStore = EncryptedStore<SledStore>;

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot open the store in {dir}: {source}")]
    Store {
        dir: PathBuf,
        #[source]
        source: crate::store::Error,
    },
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("--{flag}: {source}")]
    Flag {
        flag: &'static str,
        #[source]
        source: allocator::Error,
    },
    #[error("--encryption-provider-config: {0}")]
    Encryption(crate::encryption::Error),
    #[error("cannot rewrite the encrypted resources: {0}")]
    Rewrite(crate::store::Error),
    #[error("cannot create the system namespaces: {0}")]
    Bootstrap(proto::ApiError),
    #[error("cannot repair service IP and port reservations: {0}")]
    Repair(proto::ApiError),
    #[error("serving failed: {0}")]
    Transport(#[from] tonic::transport::Error),
}

/// A started apiserver. Dropping it does not stop it: call `shutdown`.
pub struct RunningServer {
    addr: SocketAddr,
    shutdown_tx: watch::Sender<bool>,
    serve: JoinHandle<Result<(), tonic::transport::Error>>,
    store: Arc<ServerStore>,
    grace: Duration,
}

impl RunningServer {
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, ends watches, gives in-flight requests the grace period, then makes
    /// every acknowledged write durable and closes the store.
    pub async fn shutdown(self) -> Result<(), ServerError> {
        let _ = self.shutdown_tx.send(true);
        let mut serve = self.serve;
        match tokio::time::timeout(self.grace, &mut serve).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => warn!(error = %e, "server ended with an error"),
            Ok(Err(e)) => warn!(error = %e, "server task failed"),
            Err(_) => {
                warn!(grace = ?self.grace, "in-flight requests did not finish within the grace period; cutting them off");
                // Nothing may be served once the store starts closing.
                serve.abort();
                let _ = serve.await;
            }
        }
        self.store
            .close()
            .await
            .map_err(|source| ServerError::Store {
                dir: PathBuf::new(),
                source,
            })?;
        info!("store closed");
        Ok(())
    }
}

/// Requests up to this size reach the registry, which refuses objects over 1.5 MiB with a
/// clear error; larger ones tonic refuses itself.
const MAX_REQUEST_BYTES: usize = 8 * 1024 * 1024;

/// The allocator the `--service-cidr` and `--node-port-range` flags describe.
pub fn service_allocator(config: &Config) -> Result<ServiceAllocator, ServerError> {
    let cidr = config
        .service_cidr
        .parse()
        .map_err(|source| ServerError::Flag {
            flag: "service-cidr",
            source,
        })?;
    let ports = config
        .node_port_range
        .parse()
        .map_err(|source| ServerError::Flag {
            flag: "node-port-range",
            source,
        })?;
    Ok(ServiceAllocator::new(cidr, ports))
}

pub async fn start(config: Config) -> Result<RunningServer, ServerError> {
    // Bad flags fail before anything touches the data directory.
    let services = service_allocator(&config)?;
    let encryption = match &config.encryption_provider_config {
        None => crate::encryption::Encryption::none(),
        Some(path) => {
            let (encryption, unmatched) =
                crate::encryption::load(path).map_err(ServerError::Encryption)?;
            for name in unmatched {
                warn!(resource = %name, "--encryption-provider-config names a resource this apiserver does not serve");
            }
            info!(path = %path.display(), resources = ?encryption.resources(), "encryption at rest configured");
            encryption
        }
    };
    crate::store::compact::check_finished(&config.data_dir).map_err(|source| {
        ServerError::Store {
            dir: config.data_dir.clone(),
            source,
        }
    })?;
    crate::private_dir::ensure(&config.data_dir).map_err(|e| ServerError::Store {
        dir: config.data_dir.clone(),
        source: crate::store::Error::Backend(e.to_string()),
    })?;
    let options = SledOptions {
        cache_capacity_bytes: config.cache_mb * 1024 * 1024,
        history_limit: config.history_limit,
        ..SledOptions::default()
    };
    let store_error = |source| ServerError::Store {
        dir: config.data_dir.clone(),
        source,
    };
    let mut rewritten = false;
    if config.compact_store {
        if config.rewrite_encrypted_resources {
            // First, so that compaction leaves the values the rewrite replaced behind.
            let store = EncryptedStore::new(
                SledStore::open(&config.data_dir, options.clone()).map_err(store_error)?,
                encryption.clone(),
            );
            let report = rewrite_stale(&store).await.map_err(ServerError::Rewrite)?;
            store.close().await.map_err(store_error)?;
            info!(
                checked = report.checked,
                rewritten = report.rewritten,
                "--rewrite-encrypted-resources: every encrypted object is stored with the current write key"
            );
            rewritten = true;
        }
        let dir = config.data_dir.clone();
        let report = tokio::task::spawn_blocking(move || crate::store::compact::compact(&dir))
            .await
            .map_err(|e| store_error(crate::store::Error::Backend(e.to_string())))?
            .map_err(store_error)?;
        info!(
            entries = report.entries,
            bytes_before = report.bytes_before,
            bytes_after = report.bytes_after,
            "--compact-store: store rebuilt from its live objects; watch history dropped"
        );
    }
    let store = SledStore::open(&config.data_dir, options).map_err(store_error)?;
    let store = Arc::new(EncryptedStore::new(store, encryption));
    if config.rewrite_encrypted_resources && !rewritten {
        let report = rewrite_stale(&*store).await.map_err(ServerError::Rewrite)?;
        info!(
            checked = report.checked,
            rewritten = report.rewritten,
            "--rewrite-encrypted-resources: every encrypted object is stored with the current write key"
        );
    }
    let repaired = services
        .repair(&*store)
        .await
        .map_err(ServerError::Repair)?;
    info!(service_cidr = %services.cidr(), node_ports = %services.ports(), ?repaired, "service allocation ready");
    let registry = Registry::with_services(store.clone(), services)
        .with_admission(crate::admission::AdmissionConfig {
            default_not_ready_toleration_seconds: config.default_not_ready_toleration_seconds,
            default_unreachable_toleration_seconds: config.default_unreachable_toleration_seconds,
        })
        .with_pod_security(pod_security_config(&config));
    bootstrap(&registry).await.map_err(ServerError::Bootstrap)?;

    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|source| ServerError::Bind {
            addr: config.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| ServerError::Bind {
        addr: config.listen,
        source,
    })?;

    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    // The kubelet API, proxied to the pod's node (logs, exec, stats).
    let kubelet_proxy = proto::kubelet_api::kubelet_server::KubeletServer::new(
        crate::kubelet_proxy::KubeletProxy::new(
            registry.clone(),
            crate::kubelet_proxy::ProxyOptions {
                timeout: Duration::from_secs(config.kubelet_timeout),
                allow_loopback: config.kubelet_allow_loopback,
            },
        ),
    );
    tokio::spawn(crate::event_ttl::run(
        registry.clone(),
        config.event_ttl,
        shutdown_rx.clone(),
    ));
    let service = ApiService::new(registry, WatchConfig::default(), shutdown_rx.clone());
    let (health_reporter, health_service) = tonic_health::server::health_reporter();
    health_reporter
        .set_serving::<ApiServer<ApiService<ServerStore>>>()
        .await;

    let api = ApiServer::new(service)
        .max_decoding_message_size(MAX_REQUEST_BYTES)
        .max_encoding_message_size(usize::MAX);
    let mut stop = shutdown_rx;
    let serve = tokio::spawn(
        tonic::transport::Server::builder()
            .tcp_nodelay(true)
            // Every informer is a stream; many share one connection.
            .max_concurrent_streams(Some(10_000))
            .add_service(health_service)
            .add_service(api)
            .add_service(kubelet_proxy)
            .serve_with_incoming_shutdown(
                // Accepted sockets need TCP_NODELAY set here: the builder's own setting
                // applies only to listeners tonic binds itself, and without it Nagle plus
                // delayed ACKs add ~40 ms to every small response.
                TcpIncoming::from(listener).with_nodelay(Some(true)),
                async move {
                    let _ = stop.wait_for(|s| *s).await;
                },
            ),
    );
    info!(%addr, data_dir = %config.data_dir.display(), "apiserver serving");
    Ok(RunningServer {
        addr,
        shutdown_tx,
        serve,
        store,
        grace: Duration::from_secs(config.shutdown_grace_seconds),
    })
}

/// The Pod Security admission settings the `--pod-security-*` flags describe (Kubernetes
/// takes them from an AdmissionConfiguration file; versions are always `latest` here).
pub fn pod_security_config(config: &Config) -> crate::pod_security::Config {
    use crate::pod_security::{LevelVersion, Policy};
    crate::pod_security::Config {
        defaults: Policy {
            enforce: LevelVersion::latest(config.pod_security_enforce),
            audit: LevelVersion::latest(config.pod_security_audit),
            warn: LevelVersion::latest(config.pod_security_warn),
        },
        exempt_namespaces: config
            .pod_security_exempt_namespaces
            .iter()
            .map(|n| n.trim())
            .filter(|n| !n.is_empty())
            .map(str::to_string)
            .collect(),
    }
}

/// The namespaces Kubernetes has from the start. Idempotent: existing ones are left alone.
async fn bootstrap<S: Store>(registry: &Registry<S>) -> Result<(), proto::ApiError> {
    for name in SYSTEM_NAMESPACES {
        let mut ns = Namespace::default();
        ns.meta_mut().name = (*name).to_string();
        let object: Object = ns.into_object();
        match registry.create(object, false).await {
            Ok(_) => info!(namespace = name, "created system namespace"),
            Err(e) if e.reason == proto::Reason::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
