//! Assembles and runs the apiserver: opens the store, makes sure the system namespaces
//! exist, serves the API and gRPC health on one listener, and shuts down in order (stop
//! accepting, end watches, finish in-flight requests, make every write durable).

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use proto::Resource;
use proto::k8s::api_server::ApiServer;
use proto::k8s::{Namespace, Object};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::{info, warn};

use crate::admission::SYSTEM_NAMESPACES;
use crate::allocator::{self, ServiceAllocator};
use crate::auth::authn;
use crate::metrics::storage::Instrumented;
use crate::registry::Registry;
use crate::service::ApiService;
use crate::store::Store;
use crate::store::encrypted::{EncryptedStore, rewrite_stale};
use crate::store::sled_store::{SledOptions, SledStore};
use crate::watch::WatchConfig;
use crate::{cluster_pki, default_service, tls};
use cluster_pki::{ClusterPki, PkiOptions};

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
    /// How often the metrics API (metrics.k8s.io) scrapes every kubelet's
    /// `/metrics/resource` (metrics-server's `--metric-resolution`); cpu usage is the rate
    /// between the last two scrapes.
    #[arg(long, default_value = "15s", value_parser = crate::metrics_api::parse_resolution)]
    pub metric_resolution: Duration,
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

    // --- Watches, lists and connections: bounds on what one client holds ---
    /// Open watches allowed in total; over it a watch is refused with 429 (0: no cap).
    #[arg(long, default_value_t = crate::watch::DEFAULT_MAX_WATCHES)]
    pub max_watches: usize,
    /// Open watches allowed per user (by authenticated name); over it 429 (0: no cap).
    #[arg(long, default_value_t = crate::watch::DEFAULT_MAX_WATCHES_PER_USER)]
    pub max_watches_per_user: usize,
    /// How long a watch's buffer toward its client may stay full before the watcher is
    /// closed (the client watches again from its last revision).
    #[arg(long, default_value = "5s", value_parser = proto::duration::parse_flag, value_name = "DURATION")]
    pub watch_stall_timeout: Duration,
    /// The largest list answer, in bytes of stored objects: an unpaged list over it is
    /// refused (413, page with limit/continue), a paged one ends its page early with a
    /// continue token. 0: no cap.
    #[arg(long, default_value_t = crate::registry::DEFAULT_MAX_LIST_BYTES, value_name = "BYTES")]
    pub max_list_response_bytes: u64,
    /// Ping an HTTP/2 client after this long without a frame from it ("0s": never).
    #[arg(long, default_value = "30s", value_parser = proto::duration::parse_flag, value_name = "DURATION")]
    pub http2_keepalive_interval: Duration,
    /// Close a connection whose ping is not answered within this.
    #[arg(long, default_value = "15s", value_parser = proto::duration::parse_flag, value_name = "DURATION")]
    pub http2_keepalive_timeout: Duration,
    /// Send GOAWAY to a connection after this age, +-10% jitter (gRPC's MaxConnectionAge),
    /// so clients reconnect and spread over apiservers ("0s": never, the default, as
    /// Kubernetes' --goaway-chance=0).
    #[arg(long, default_value = "0s", value_parser = proto::duration::parse_flag, value_name = "DURATION")]
    pub max_connection_age: Duration,
    /// After that GOAWAY, how long in-flight requests and watches may go on before the
    /// connection is closed.
    #[arg(long, default_value = "60s", value_parser = proto::duration::parse_flag, value_name = "DURATION")]
    pub max_connection_age_grace: Duration,

    // --- Overload protection (Kubernetes' API Priority and Fairness) ---
    /// With --max-mutating-requests-inflight, the requests served at once, shared by the
    /// priority levels in proportion to their shares (Kubernetes sums the two under APF).
    #[arg(long, default_value_t = 400, value_name = "N")]
    pub max_requests_inflight: u32,
    /// Added to --max-requests-inflight for the server's total of seats.
    #[arg(long, default_value_t = 200, value_name = "N")]
    pub max_mutating_requests_inflight: u32,
    /// Classify requests into priority levels with fair queuing per flow; 429 with
    /// Retry-After beyond a level's queues. Off: Kubernetes' plain in-flight limits.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub enable_priority_and_fairness: bool,
    /// Deadline of a non-long-running request (504 Timeout past it); a quarter of it is
    /// the longest a request waits in a queue.
    #[arg(long, default_value = "60s", value_parser = proto::duration::parse_flag, value_name = "DURATION")]
    pub request_timeout: Duration,

    // --- Transport and identity (Kubernetes' flag names) ---
    /// The address members of the cluster reach this apiserver on (Service
    /// default/kubernetes, kubeconfigs, the serving certificate). Default: the --listen IP
    /// when it is specific and not loopback, else the host's first global IPv4 address.
    #[arg(long, value_name = "IP")]
    pub advertise_address: Option<IpAddr>,
    /// Serving certificate (PEM, leaf first). Default: DATA_DIR/pki/apiserver.crt, made
    /// with the cluster CA if missing.
    #[arg(long, value_name = "FILE", requires = "tls_private_key_file")]
    pub tls_cert_file: Option<PathBuf>,
    #[arg(long, value_name = "FILE", requires = "tls_cert_file")]
    pub tls_private_key_file: Option<PathBuf>,
    /// CA bundle that signs client certificates (user = CN, groups = O). Default:
    /// DATA_DIR/pki/ca.crt.
    #[arg(long, value_name = "FILE")]
    pub client_ca_file: Option<PathBuf>,
    /// Extra subject alternative names (IP or DNS) for the serving certificate made on
    /// first start. Repeatable.
    #[arg(long = "tls-san", value_name = "SAN")]
    pub tls_sans: Vec<String>,
    /// Client certificate presented to kubelets. Default:
    /// DATA_DIR/pki/apiserver-kubelet-client.crt.
    #[arg(long, value_name = "FILE", requires = "kubelet_client_key")]
    pub kubelet_client_certificate: Option<PathBuf>,
    #[arg(long, value_name = "FILE", requires = "kubelet_client_certificate")]
    pub kubelet_client_key: Option<PathBuf>,
    /// CA that signs kubelets' serving certificates. Default: DATA_DIR/pki/ca.crt.
    #[arg(long, value_name = "FILE")]
    pub kubelet_certificate_authority: Option<PathBuf>,
    /// Public keys (proto::satoken key files) that verify ServiceAccount tokens, besides
    /// the signing key's own. Repeatable.
    #[arg(long = "service-account-key-file", value_name = "FILE")]
    pub service_account_key_files: Vec<PathBuf>,
    /// Private key that signs the tokens of TokenRequests. Default: DATA_DIR/pki/sa.key,
    /// made if missing.
    #[arg(long, value_name = "FILE")]
    pub service_account_signing_key_file: Option<PathBuf>,
    /// Issuer (`iss`) of the tokens this apiserver signs; repeated values are also accepted
    /// from tokens (the first one issues).
    #[arg(long, value_name = "URL", default_value = DEFAULT_ISSUER)]
    pub service_account_issuer: Vec<String>,
    /// Audiences a token must name one of (comma-separated). Default: the issuers.
    #[arg(long, value_delimiter = ',', value_name = "AUDIENCES")]
    pub api_audiences: Vec<String>,
    /// The longest lifetime a TokenRequest gets (longer requests are cut to it).
    #[arg(long, value_parser = proto::duration::parse_flag, value_name = "DURATION")]
    pub service_account_max_token_expiration: Option<Duration>,
    /// Static tokens, Kubernetes' CSV: `token,user,uid,"group1,group2"`.
    #[arg(long, value_name = "FILE")]
    pub token_auth_file: Option<PathBuf>,
    /// Requests without credentials are `system:anonymous` (else refused as Unauthorized).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub anonymous_auth: bool,
    /// Authorizers, in order: AlwaysAllow, AlwaysDeny, Node, RBAC.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "Node,RBAC",
        value_name = "MODES"
    )]
    pub authorization_mode: Vec<String>,
    /// DEVELOPMENT ONLY: serve without TLS (no client certificates; tokens still work).
    /// Refused unless --listen is a loopback address.
    #[arg(long)]
    pub insecure_plaintext: bool,
    /// Admission plugins to turn on (all known ones are on by default): NodeRestriction,
    /// ServiceAccount, PodSecurity.
    #[arg(long, value_delimiter = ',', value_name = "PLUGINS")]
    pub enable_admission_plugins: Vec<String>,
    /// Admission plugins to turn off.
    #[arg(long, value_delimiter = ',', value_name = "PLUGINS")]
    pub disable_admission_plugins: Vec<String>,
    /// Audit log file (one JSON line per request); "-" for standard output.
    #[arg(long, value_name = "FILE")]
    pub audit_log_path: Option<PathBuf>,
    /// Kubernetes' audit Policy file (audit.k8s.io/v1).
    #[arg(long, value_name = "FILE")]
    pub audit_policy_file: Option<PathBuf>,
    /// Make and keep Service and Endpoints `default/kubernetes`. Not a flag: always on for
    /// the binary; in-process test servers leave it off so they hold only their own
    /// Services.
    #[arg(skip = true)]
    pub default_kubernetes_service: bool,
    /// Count requests, watch events and store calls (`/metrics`). Not a flag: always on;
    /// only the overhead benchmark turns it off, for its baseline.
    #[arg(skip = true)]
    pub metrics: bool,
}

/// The `--http2-keepalive-*` and `--max-connection-age*` flags ("0s" turns one off).
fn connection_options(config: &Config) -> crate::http::serve::ConnectionOptions {
    let nonzero = |d: Duration| (!d.is_zero()).then_some(d);
    crate::http::serve::ConnectionOptions {
        keepalive_interval: nonzero(config.http2_keepalive_interval),
        keepalive_timeout: config.http2_keepalive_timeout,
        max_connection_age: nonzero(config.max_connection_age),
        max_connection_age_grace: config.max_connection_age_grace,
    }
}

/// Kubernetes' default ServiceAccount token issuer.
pub const DEFAULT_ISSUER: &str = "https://kubernetes.default.svc.cluster.local";

/// The admission plugins `--enable/--disable-admission-plugins` name.
pub const ADMISSION_PLUGINS: &[&str] = &[
    "NodeRestriction",
    "ServiceAccount",
    "PodSecurity",
    "LimitRanger",
    "DefaultStorageClass",
    "PersistentVolumeClaimResize",
    "ResourceQuota",
];

/// The plugins that are off: `--disable-admission-plugins`, checked against the known
/// names and against `--enable-admission-plugins` (Kubernetes refuses a plugin in both).
pub fn disabled_admission_plugins(config: &Config) -> Result<Vec<String>, String> {
    let clean = |v: &[String]| -> Vec<String> {
        v.iter()
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty())
            .collect()
    };
    let (enable, disable) = (
        clean(&config.enable_admission_plugins),
        clean(&config.disable_admission_plugins),
    );
    for p in enable.iter().chain(&disable) {
        if !ADMISSION_PLUGINS.contains(&p.as_str()) {
            return Err(format!(
                "unknown admission plugin {p:?} (known: {})",
                ADMISSION_PLUGINS.join(", ")
            ));
        }
    }
    if let Some(p) = enable.iter().find(|p| disable.contains(p)) {
        return Err(format!(
            "{p} is in both --enable-admission-plugins and --disable-admission-plugins"
        ));
    }
    Ok(disable)
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
            metric_resolution: Duration::from_secs(15),
            pod_security_enforce: crate::pod_security::Level::Privileged,
            pod_security_warn: crate::pod_security::Level::Privileged,
            pod_security_audit: crate::pod_security::Level::Privileged,
            pod_security_exempt_namespaces: vec!["kube-system".to_string()],
            encryption_provider_config: None,
            rewrite_encrypted_resources: false,
            compact_store: false,
            max_requests_inflight: 400,
            max_mutating_requests_inflight: 200,
            enable_priority_and_fairness: true,
            request_timeout: Duration::from_secs(60),
            max_watches: crate::watch::DEFAULT_MAX_WATCHES,
            max_watches_per_user: crate::watch::DEFAULT_MAX_WATCHES_PER_USER,
            watch_stall_timeout: crate::watch::DEFAULT_STALL_TIMEOUT,
            max_list_response_bytes: crate::registry::DEFAULT_MAX_LIST_BYTES,
            http2_keepalive_interval: crate::http::serve::DEFAULT_KEEPALIVE_INTERVAL,
            http2_keepalive_timeout: crate::http::serve::DEFAULT_KEEPALIVE_TIMEOUT,
            max_connection_age: Duration::ZERO,
            max_connection_age_grace: crate::http::serve::DEFAULT_MAX_CONNECTION_AGE_GRACE,
            advertise_address: None,
            tls_cert_file: None,
            tls_private_key_file: None,
            client_ca_file: None,
            tls_sans: Vec::new(),
            kubelet_client_certificate: None,
            kubelet_client_key: None,
            kubelet_certificate_authority: None,
            service_account_key_files: Vec::new(),
            service_account_signing_key_file: None,
            service_account_issuer: vec![DEFAULT_ISSUER.to_string()],
            api_audiences: Vec::new(),
            service_account_max_token_expiration: None,
            token_auth_file: None,
            anonymous_auth: true,
            authorization_mode: vec!["AlwaysAllow".to_string()],
            // In-process servers speak plaintext to plaintext test clients and kubelets.
            insecure_plaintext: true,
            enable_admission_plugins: Vec::new(),
            // Test pods name no ServiceAccount and expect no token volume.
            disable_admission_plugins: vec!["ServiceAccount".to_string()],
            audit_log_path: None,
            audit_policy_file: None,
            default_kubernetes_service: false,
            metrics: true,
        }
    }
}

/// What the apiserver serves from: sled beneath encryption at rest.
pub type ServerStore = EncryptedStore<Instrumented<SledStore>>;

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
    #[error("cluster PKI: {0}")]
    Pki(#[from] cluster_pki::PkiError),
    #[error("{0}")]
    Tls(#[from] tls::TlsError),
    #[error("authentication: {0}")]
    Authn(String),
    #[error("authorization: {0}")]
    Authz(String),
    #[error("audit: {0}")]
    Audit(String),
    #[error("--enable/--disable-admission-plugins: {0}")]
    Admission(String),
    #[error("cannot make Service default/kubernetes: {0}")]
    DefaultService(proto::ApiError),
    #[error("{0}")]
    FlowControl(String),
}

/// A started apiserver. Dropping it does not stop it: call `shutdown`.
pub struct RunningServer {
    addr: SocketAddr,
    tls: bool,
    pki: Option<cluster_pki::ClusterPki>,
    shutdown_tx: watch::Sender<bool>,
    serve: JoinHandle<()>,
    store: Arc<ServerStore>,
    grace: Duration,
}

impl RunningServer {
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `https://` when serving TLS, `http://` with `--insecure-plaintext`.
    pub fn url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// `DATA_DIR/admin.kubeconfig` when the apiserver made its PKI (not in plaintext mode).
    pub fn admin_kubeconfig(&self) -> Option<PathBuf> {
        self.pki.as_ref().map(|p| p.admin_kubeconfig())
    }

    /// The cluster PKI, when serving TLS with it.
    pub fn pki(&self) -> Option<&cluster_pki::ClusterPki> {
        self.pki.as_ref()
    }

    /// Stops accepting, ends watches, gives in-flight requests the grace period, then makes
    /// every acknowledged write durable and closes the store.
    pub async fn shutdown(self) -> Result<(), ServerError> {
        let _ = self.shutdown_tx.send(true);
        let mut serve = self.serve;
        match tokio::time::timeout(self.grace, &mut serve).await {
            Ok(Ok(())) => {}
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

/// What the certificates and kubeconfigs of `config` name, served on `port`.
pub fn pki_options(config: &Config, port: u16, service_ip: IpAddr) -> PkiOptions {
    PkiOptions {
        advertise_address: advertise_address(config),
        port,
        listen_address: config.listen.ip(),
        service_ip,
        hostname: tls::hostname(),
        extra_sans: config.tls_sans.clone(),
    }
}

/// `--advertise-address`, or its default.
pub fn advertise_address(config: &Config) -> IpAddr {
    config.advertise_address.unwrap_or_else(|| {
        tls::default_advertise_address(config.listen.ip(), &tls::host_addresses())
    })
}

/// `apiserver init`: writes the PKI and the kubeconfigs, as the first start would.
pub fn init(config: &Config) -> Result<ClusterPki, ServerError> {
    let services = service_allocator(config)?;
    crate::private_dir::ensure(&config.data_dir).map_err(|e| ServerError::Store {
        dir: config.data_dir.clone(),
        source: crate::store::Error::Backend(e.to_string()),
    })?;
    let options = pki_options(
        config,
        config.listen.port(),
        IpAddr::V4(services.cidr().first()),
    );
    Ok(cluster_pki::ensure(&config.data_dir, &options)?)
}

fn read_key_file<T>(
    path: &std::path::Path,
    decode: impl Fn(&str) -> Result<T, proto::satoken::TokenError>,
) -> Result<T, ServerError> {
    let text = tls::read(path)?;
    decode(&text).map_err(|e| ServerError::Authn(format!("{}: {e}", path.display())))
}

/// The authenticators and the token issuer the flags describe.
fn authentication(
    config: &Config,
    pki: Option<&ClusterPki>,
    objects: Arc<dyn authn::Objects>,
) -> Result<(Arc<authn::Authenticator>, Arc<authn::TokenIssuer>), ServerError> {
    let client_ca = match (&config.client_ca_file, pki) {
        (Some(path), _) => Some(tls::read(path)?),
        (None, Some(pki)) => Some(pki.ca_cert_pem.clone()),
        (None, None) => None,
    };
    let x509 = client_ca
        .map(|pem| pki::verify::ClientVerifier::new(&pem))
        .transpose()
        .map_err(|e| ServerError::Authn(format!("client CA: {e}")))?;
    let static_tokens = match &config.token_auth_file {
        Some(path) => authn::TokenFile::load(path).map_err(ServerError::Authn)?,
        None => authn::TokenFile::default(),
    };
    let signing_key = match &config.service_account_signing_key_file {
        Some(path) => read_key_file(path, proto::satoken::decode_private_key)?,
        None => {
            let dir = config.data_dir.join("pki");
            crate::private_dir::ensure(&dir).map_err(|source| cluster_pki::PkiError::Write {
                path: dir.clone(),
                source,
            })?;
            cluster_pki::ensure_sa_key(&dir)?
        }
    };
    let mut keys = vec![signing_key.verifying_key()];
    for path in &config.service_account_key_files {
        keys.push(read_key_file(path, proto::satoken::decode_public_key)?);
    }
    let issuers: Vec<String> = config
        .service_account_issuer
        .iter()
        .filter(|i| !i.is_empty())
        .cloned()
        .collect();
    let first_issuer = issuers
        .first()
        .cloned()
        .ok_or_else(|| ServerError::Authn("--service-account-issuer is empty".into()))?;
    let audiences = if config.api_audiences.is_empty() {
        issuers.clone()
    } else {
        config.api_audiences.clone()
    };
    let issuer = authn::TokenIssuer::new(
        signing_key,
        &first_issuer,
        &audiences,
        config.service_account_max_token_expiration,
    );
    let authenticator = authn::Authenticator {
        x509,
        static_tokens,
        bootstrap_tokens: true,
        service_accounts: Some(authn::ServiceAccountTokens {
            keys,
            issuers,
            audiences,
        }),
        anonymous: config.anonymous_auth,
        objects,
    };
    Ok((Arc::new(authenticator), Arc::new(issuer)))
}

/// TLS towards kubelets: their CA, and the apiserver's kubelet-client certificate.
fn kubelet_tls(
    config: &Config,
    pki: Option<&ClusterPki>,
) -> Result<Option<pki::tls::Connector>, ServerError> {
    use cluster_pki::{CA_CERT, KUBELET_CLIENT_CERT, KUBELET_CLIENT_KEY};
    let ca = match (&config.kubelet_certificate_authority, pki) {
        (Some(path), _) => path.clone(),
        (None, Some(pki)) => pki.path(CA_CERT),
        (None, None) => return Ok(None),
    };
    let (cert, key) = match (
        &config.kubelet_client_certificate,
        &config.kubelet_client_key,
        pki,
    ) {
        (Some(c), Some(k), _) => (c.clone(), k.clone()),
        (_, _, Some(pki)) => (pki.path(KUBELET_CLIENT_CERT), pki.path(KUBELET_CLIENT_KEY)),
        _ => return Ok(None),
    };
    let pki_error = |what: &'static str, path: &std::path::Path| {
        let path = path.to_path_buf();
        move |source| tls::TlsError::Pki { what, path, source }
    };
    let identity = pki::tls::ClientIdentity::from_pem(&tls::read(&cert)?, &tls::read(&key)?)
        .map_err(pki_error("kubelet client certificate", &cert))?;
    let trust = pki::tls::ServerTrust::Ca(tls::read(&ca)?);
    let client = pki::tls::client_config(&trust, Some(identity))
        .map_err(pki_error("kubelet certificate authority", &ca))?;
    // Kubelets are dialed by IP: their serving certificates name it.
    Ok(Some(pki::tls::Connector::new(client, None)))
}

pub async fn start(config: Config) -> Result<RunningServer, ServerError> {
    // Bad flags fail before anything touches the data directory.
    let services = service_allocator(&config)?;
    let service_ip = IpAddr::V4(services.cidr().first());
    let disabled_admission = disabled_admission_plugins(&config).map_err(ServerError::Admission)?;
    let flow_control = crate::flowcontrol::FlowControlLayer::new(
        &crate::flowcontrol::Options::new(
            config.enable_priority_and_fairness,
            config.max_requests_inflight,
            config.max_mutating_requests_inflight,
            config.request_timeout,
        )
        .map_err(ServerError::FlowControl)?,
    );
    if config.insecure_plaintext {
        tls::check_plaintext(config.listen)?;
    }
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
    // Timed beneath encryption, as Kubernetes times etcd calls apart from transformation.
    let store = Instrumented::new(store, config.metrics);
    store.count_objects().await.map_err(store_error)?;
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
        .with_pod_security(pod_security_config(&config))
        .with_disabled_admission(&disabled_admission)
        .with_max_list_bytes(config.max_list_response_bytes);
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

    let advertise = advertise_address(&config);
    let cluster_pki = if config.insecure_plaintext {
        warn!(listen = %addr, "--insecure-plaintext: serving WITHOUT TLS; no client certificates, credentials travel in clear text; development on this machine only");
        None
    } else {
        Some(cluster_pki::ensure(
            &config.data_dir,
            &pki_options(&config, addr.port(), service_ip),
        )?)
    };
    let tls_config = match &cluster_pki {
        None => None,
        Some(pki) => {
            use cluster_pki::{APISERVER_CERT, APISERVER_KEY};
            let serving = match (&config.tls_cert_file, &config.tls_private_key_file) {
                (Some(cert), Some(key)) => tls::serving_cert(cert, key, None)?,
                (None, None) => tls::serving_cert(
                    &pki.path(APISERVER_CERT),
                    &pki.path(APISERVER_KEY),
                    Some(&pki.ca_cert_pem),
                )?,
                _ => return Err(tls::TlsError::HalfPair.into()),
            };
            Some(
                pki::tls::server_config(serving, &[tls::ALPN_H2, tls::ALPN_HTTP11]).map_err(
                    |source| tls::TlsError::Pki {
                        what: "TLS configuration",
                        path: pki.dir.clone(),
                        source,
                    },
                )?,
            )
        }
    };
    let (authenticator, token_issuer) =
        authentication(&config, cluster_pki.as_ref(), Arc::new(registry.clone()))?;
    if config.default_kubernetes_service {
        default_service::reconcile(
            &registry,
            &default_service::Target {
                service_ip,
                advertise_address: advertise,
                port: addr.port(),
            },
        )
        .await
        .map_err(ServerError::DefaultService)?;
    }

    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let authorizer =
        crate::auth::authz::build(&config.authorization_mode, &registry, shutdown_rx.clone())
            .await
            .map_err(ServerError::Authz)?;
    let audit = crate::audit::Audit::from_config(&config).map_err(ServerError::Audit)?;
    // The kubelet API, proxied to the pod's node (logs, exec, stats).
    let kubelet_proxy = Arc::new(
        crate::kubelet_proxy::KubeletProxy::new(
            registry.clone(),
            crate::kubelet_proxy::ProxyOptions {
                timeout: Duration::from_secs(config.kubelet_timeout),
                allow_loopback: config.kubelet_allow_loopback,
                tls: kubelet_tls(&config, cluster_pki.as_ref())?,
            },
        )
        .with_authorizer(authorizer.clone()),
    );
    // metrics.k8s.io, from samples scraped off the kubelets through the same connections.
    let metrics_api = Arc::new(crate::metrics_api::MetricsApi::new(
        registry.clone(),
        authorizer.clone(),
    ));
    metrics_api.spawn_scraper(
        kubelet_proxy.clone(),
        crate::metrics_api::scrape::ScrapeOptions {
            resolution: config.metric_resolution,
            timeout: Duration::from_secs(config.kubelet_timeout).min(config.metric_resolution),
        },
        shutdown_rx.clone(),
    );
    let authentication_service = Arc::new(authn::service::AuthenticationService::new(
        authenticator.clone(),
        Some(token_issuer),
        authorizer.clone(),
    ));
    let authorization_service = Arc::new(crate::auth::authz_service::AuthorizationService::new(
        authorizer.clone(),
    ));
    tokio::spawn(crate::event_ttl::run(
        registry.clone(),
        config.event_ttl,
        shutdown_rx.clone(),
    ));
    let service = Arc::new(
        ApiService::new(
            registry,
            WatchConfig {
                metrics: config.metrics,
                stall_timeout: config.watch_stall_timeout,
                caps: Arc::new(crate::watch::WatchCaps::new(
                    config.max_watches,
                    config.max_watches_per_user,
                )),
                ..WatchConfig::default()
            },
            shutdown_rx.clone(),
        )
        .with_authorizer(authorizer.clone())
        .with_audit(audit),
    );
    let (health_reporter, health_service) = tonic_health::server::health_reporter();
    health_reporter
        .set_serving::<ApiServer<ApiService<ServerStore>>>()
        .await;

    let api = ApiServer::from_arc(service.clone())
        .max_decoding_message_size(MAX_REQUEST_BYTES)
        .max_encoding_message_size(usize::MAX);
    let routes = tonic::service::Routes::new(health_service)
        .add_service(api)
        .add_service(proto::kubelet_api::kubelet_server::KubeletServer::from_arc(
            kubelet_proxy.clone(),
        ))
        .add_service(
            proto::k8s::authentication_server::AuthenticationServer::from_arc(
                authentication_service.clone(),
            ),
        )
        .add_service(
            proto::k8s::authorization_server::AuthorizationServer::from_arc(
                authorization_service.clone(),
            ),
        )
        .add_service(
            proto::k8s::resource_metrics_server::ResourceMetricsServer::from_arc(
                metrics_api.clone(),
            ),
        );
    let authorizer_for_layer = authorizer.clone();
    // gRPC services by path (`/k8s.Api/...`), every other path the HTTP API.
    let router = crate::http::HttpApi::new(
        service,
        kubelet_proxy,
        authentication_service,
        authorization_service,
        authorizer,
        shutdown_rx.clone(),
    )
    .router(routes);
    let router = crate::metrics_api::http::route(router, metrics_api);
    // Admitted by priority level and held to its deadline, once its caller is known.
    let router = tower_layer::Layer::layer(&flow_control, router);
    // Every request, gRPC and HTTP, health included, is authenticated first.
    let app = tower_layer::Layer::layer(
        &authn::AuthnLayer::new(authenticator).with_impersonation(authorizer_for_layer),
        router,
    );
    let tls = tls_config.is_some();
    let connections = connection_options(&config);
    let serve = if config.metrics {
        telemetry::process::register_process_metrics();
        tokio::spawn(crate::metrics::run(
            config.data_dir.clone(),
            shutdown_rx.clone(),
        ));
        // Outermost: every request counts, refused ones too, from the moment it arrives.
        let app = tower_layer::Layer::layer(&crate::metrics::MetricsLayer, app);
        tokio::spawn(crate::http::serve::serve(
            listener,
            tls_config,
            app,
            connections,
            shutdown_rx,
        ))
    } else {
        tokio::spawn(crate::http::serve::serve(
            listener,
            tls_config,
            app,
            connections,
            shutdown_rx,
        ))
    };
    info!(%addr, %advertise, tls, data_dir = %config.data_dir.display(), "apiserver serving");
    Ok(RunningServer {
        addr,
        tls,
        pki: cluster_pki,
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, Parser};

    #[test]
    fn flags_parse_as_kubernetes_spells_them() {
        Config::command().debug_assert();
        let c = Config::try_parse_from(["apiserver"]).unwrap();
        assert!(c.anonymous_auth && !c.insecure_plaintext);
        assert_eq!(c.authorization_mode, ["Node", "RBAC"]);
        assert_eq!(c.service_account_issuer, [DEFAULT_ISSUER]);
        assert!(
            c.default_kubernetes_service,
            "the binary publishes default/kubernetes"
        );
        let c = Config::try_parse_from([
            "apiserver",
            "--anonymous-auth=false",
            "--authorization-mode",
            "AlwaysAllow",
            "--advertise-address",
            "192.0.2.1",
            "--tls-san",
            "api.example",
            "--tls-san",
            "192.0.2.9",
            "--api-audiences",
            "a,b",
            "--service-account-max-token-expiration",
            "48h",
            "--disable-admission-plugins",
            "ServiceAccount,NodeRestriction",
        ])
        .unwrap();
        assert!(!c.anonymous_auth);
        assert_eq!(c.authorization_mode, ["AlwaysAllow"]);
        assert_eq!(c.advertise_address, Some("192.0.2.1".parse().unwrap()));
        assert_eq!(c.tls_sans, ["api.example", "192.0.2.9"]);
        assert_eq!(c.api_audiences, ["a", "b"]);
        assert_eq!(
            c.service_account_max_token_expiration,
            Some(Duration::from_secs(48 * 3600))
        );
        assert_eq!(
            disabled_admission_plugins(&c).unwrap(),
            ["ServiceAccount", "NodeRestriction"]
        );
        assert!(Config::try_parse_from(["apiserver", "--tls-cert-file", "x"]).is_err());
    }

    #[test]
    fn admission_plugin_flags_are_checked() {
        let mut c = Config::for_dir("/tmp/x".into(), "127.0.0.1:0".parse().unwrap());
        assert_eq!(disabled_admission_plugins(&c).unwrap(), ["ServiceAccount"]);
        c.disable_admission_plugins = vec!["Bogus".into()];
        assert!(
            disabled_admission_plugins(&c)
                .unwrap_err()
                .contains("unknown admission plugin")
        );
        c.disable_admission_plugins = vec!["PodSecurity".into()];
        c.enable_admission_plugins = vec!["PodSecurity".into()];
        assert!(disabled_admission_plugins(&c).unwrap_err().contains("both"));
    }

    #[tokio::test]
    async fn plaintext_is_refused_off_loopback() {
        let dir = tempfile::tempdir().unwrap();
        let c = Config::for_dir(dir.path().join("d"), "0.0.0.0:0".parse().unwrap());
        let Err(e) = start(c).await else {
            panic!("plaintext on 0.0.0.0 must be refused")
        };
        assert!(e.to_string().contains("loopback"), "{e}");
        assert!(
            !dir.path().join("d").exists(),
            "refused before touching the data dir"
        );
    }
}
