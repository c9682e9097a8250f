//! A daemon's own endpoints: `/metrics`, `/healthz`, `/livez`, `/readyz`, served on
//! `--metrics-bind-address` as Kubernetes' components serve them, and the flags every
//! daemon shares for metrics and traces.
//!
//! The scheduler and the controller-manager serve HTTPS with delegated authentication and
//! authorization ([`Serving::Delegated`]: the caller's client certificate or bearer token,
//! checked with the apiserver, then a SubjectAccessReview for `get` on the path);
//! kube-proxy and cluster-dns serve plain HTTP ([`Serving::Plain`]), as Kubernetes'
//! kube-proxy and CoreDNS do.

pub mod auth;
pub mod cert;
mod listen;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Flattened into every daemon's flags (`#[command(flatten)]`).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct TelemetryFlags {
    /// Where to serve /metrics and the health endpoints (host:port; port 0 picks a free
    /// port); "0" or "" disables them [default: the daemon's].
    #[arg(long)]
    pub metrics_bind_address: Option<String>,
    /// OTLP/gRPC collector to export spans to (http://host:4317); unset: no export.
    #[arg(long)]
    pub tracing_endpoint: Option<String>,
}

/// The checks of a leader-elected controller daemon, as kube-scheduler's and
/// kube-controller-manager's: `leaderElection` on /livez (this replica leads but has not
/// renewed its lease in time: restart it) and `informer-sync` on /readyz (not ready until
/// `synced` says the caches have their first list).
pub fn controller_health(
    leader: crate::leader::HealthzAdaptor,
    synced: impl Fn() -> bool + Send + Sync + 'static,
) -> telemetry::health::Health {
    use telemetry::health::{Health, Probe};
    let health = Health::new();
    health.add_check("leaderElection", Probe::Livez, move || leader.check());
    health.add_check("informer-sync", Probe::Readyz, move || {
        if synced() {
            Ok(())
        } else {
            Err("the informers' caches have not synced yet".into())
        }
    });
    health
}

/// Logs (and traces when `--tracing-endpoint` is set) for `service`; replaces
/// [`crate::daemon::init_tracing`] in mains, after the flags are parsed. Keep the guard
/// until the end of `main`: dropping it flushes the spans still queued.
pub fn init_telemetry(
    service: &'static str,
    flags: &TelemetryFlags,
) -> Option<telemetry::trace::TraceGuard> {
    telemetry::trace::init_subscriber(service, flags.tracing_endpoint.as_deref())
}

/// How the endpoints are protected.
// Built once per process: the size difference of the variants costs nothing.
#[allow(clippy::large_enum_variant)]
pub enum Serving {
    /// Plain HTTP, no authentication (kube-proxy, CoreDNS).
    Plain,
    /// HTTPS, callers authenticated and authorized by the apiserver this `client` talks to
    /// (Kubernetes' delegated authentication and authorization). Falls back to plain HTTP,
    /// logged, when `connection` is plaintext: there is then no CA to trust callers by.
    Delegated {
        client: crate::Client,
        connection: crate::ConnectionConfig,
    },
}

impl std::fmt::Debug for Serving {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Serving::Plain => f.write_str("Plain"),
            Serving::Delegated { connection, .. } => f
                .debug_struct("Delegated")
                .field("server", &connection.server)
                .finish_non_exhaustive(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EndpointError {
    #[error("invalid --metrics-bind-address {value:?}: {reason}")]
    InvalidBindAddress { value: String, reason: String },
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot set up TLS for the endpoints: {0}")]
    Tls(#[from] pki::Error),
}

/// Where to listen: `flag` when given, else `default`. None when disabled ("0" or "").
/// A bare IP takes the default's port.
pub fn bind_address(
    flag: Option<&str>,
    default: &str,
) -> Result<Option<SocketAddr>, EndpointError> {
    let value = flag.unwrap_or(default).trim();
    if value.is_empty() || value == "0" {
        return Ok(None);
    }
    let invalid = |reason: &str| EndpointError::InvalidBindAddress {
        value: value.to_string(),
        reason: reason.to_string(),
    };
    if let Ok(addr) = value.parse::<SocketAddr>() {
        return Ok(Some(addr));
    }
    let bare = value.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<IpAddr>() {
        let port = default
            .parse::<SocketAddr>()
            .map(|d| d.port())
            .map_err(|_| invalid("no port given and the default has none"))?;
        return Ok(Some(SocketAddr::new(ip, port)));
    }
    Err(invalid(
        "want host:port with an IP address, or 0 to disable",
    ))
}

/// Binds (`default_bind` unless `--metrics-bind-address` says otherwise), spawns the
/// server (it stops with `shutdown`) and returns the bound address; None when disabled.
/// Also registers the process metrics.
pub async fn serve_endpoints(
    service: &'static str,
    flags: &TelemetryFlags,
    default_bind: &str,
    health: telemetry::health::Health,
    serving: Serving,
    shutdown: CancellationToken,
) -> Result<Option<SocketAddr>, EndpointError> {
    let Some(addr) = bind_address(flags.metrics_bind_address.as_deref(), default_bind)? else {
        tracing::info!(service, "metrics and health endpoints disabled");
        return Ok(None);
    };
    telemetry::process::register_process_metrics();
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| EndpointError::Bind { addr, source })?;
    let bound = listener
        .local_addr()
        .map_err(|source| EndpointError::Bind { addr, source })?;
    let router = telemetry::serve::router(health);
    let (handler, tls, scheme) = match serving {
        Serving::Plain => (plain_handler(router), None, "http"),
        Serving::Delegated { client, connection } => match &connection.trust {
            None => {
                tracing::warn!(
                    service,
                    server = %connection.server,
                    "the apiserver connection is plaintext, so callers cannot be authenticated: serving the endpoints over plain HTTP without authorization"
                );
                (plain_handler(router), None, "http")
            }
            Some(trust) => {
                let verifier = match trust {
                    pki::tls::ServerTrust::Ca(pem) => Some(pki::verify::ClientVerifier::new(pem)?),
                    // No CA to check client certificates with: bearer tokens only.
                    pki::tls::ServerTrust::InsecureSkipVerify => None,
                };
                let delegated = Arc::new(auth::Delegated::new(
                    verifier,
                    Arc::new(auth::ApiReviewer { client }),
                ));
                let config =
                    pki::tls::server_config(cert::self_signed(bound)?, &[b"h2", b"http/1.1"])?;
                (delegated_handler(router, delegated), Some(config), "https")
            }
        },
    };
    tokio::spawn(listen::serve(listener, tls, handler, shutdown));
    tracing::info!(service, address = %bound, scheme, "serving /metrics, /healthz, /livez, /readyz");
    Ok(Some(bound))
}

fn plain_handler(router: axum::Router) -> listen::Handler {
    Arc::new(move |request| {
        let router = router.clone();
        Box::pin(route(router, request))
    })
}

async fn route(
    mut router: axum::Router,
    request: http::Request<axum::body::Body>,
) -> http::Response<axum::body::Body> {
    use tower_service::Service;
    match router.call(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

/// Authenticates, authorizes, then routes.
fn delegated_handler(router: axum::Router, delegated: Arc<auth::Delegated>) -> listen::Handler {
    Arc::new(move |request| {
        let router = router.clone();
        let delegated = delegated.clone();
        Box::pin(async move {
            let chain = request
                .extensions()
                .get::<pki::tls::TlsConnectInfo>()
                .and_then(|i| i.peer_certificates.clone());
            let Ok(user) = delegated
                .authenticate(chain.as_deref().map(Vec::as_slice), request.headers())
                .await
            else {
                return auth::refusal_response(&auth::Refusal::Unauthorized);
            };
            let verb = auth::verb_of(request.method());
            let uri = request
                .uri()
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/")
                .to_string();
            if let Err(refusal) = delegated
                .authorize(&user, &verb, request.uri().path(), &uri)
                .await
            {
                return auth::refusal_response(&refusal);
            }
            route(router, request).await
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bind_address_defaults_disables_and_parses() {
        let d = "0.0.0.0:10259";
        assert_eq!(
            bind_address(None, d).unwrap(),
            Some("0.0.0.0:10259".parse().unwrap())
        );
        assert_eq!(bind_address(Some("0"), d).unwrap(), None);
        assert_eq!(bind_address(Some(""), d).unwrap(), None);
        assert_eq!(
            bind_address(Some("127.0.0.1:0"), d).unwrap(),
            Some("127.0.0.1:0".parse().unwrap())
        );
        assert_eq!(
            bind_address(Some("127.0.0.1"), d).unwrap(),
            Some("127.0.0.1:10259".parse().unwrap())
        );
        assert_eq!(
            bind_address(Some("[::1]:9"), d).unwrap(),
            Some("[::1]:9".parse().unwrap())
        );
        assert_eq!(
            bind_address(Some("::"), d).unwrap(),
            Some("[::]:10259".parse().unwrap())
        );
        let e = bind_address(Some("localhost:1"), d).unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid --metrics-bind-address \"localhost:1\": want host:port with an IP address, or 0 to disable"
        );
    }

    async fn get(addr: SocketAddr, path: &str) -> (u16, String) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        tcp.write_all(
            format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await
        .unwrap();
        let mut text = String::new();
        tcp.read_to_string(&mut text).await.unwrap();
        let code = text[9..12].parse().unwrap();
        let body = text
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default();
        (code, body)
    }

    #[tokio::test]
    async fn plain_endpoints_serve_metrics_and_health_until_shutdown() {
        let flags = TelemetryFlags {
            metrics_bind_address: Some("127.0.0.1:0".into()),
            ..Default::default()
        };
        let health = telemetry::health::Health::new();
        let stop = CancellationToken::new();
        let addr = serve_endpoints(
            "test",
            &flags,
            "0.0.0.0:1",
            health,
            Serving::Plain,
            stop.clone(),
        )
        .await
        .unwrap()
        .unwrap();
        assert_ne!(addr.port(), 0);
        let (code, body) = get(addr, "/metrics").await;
        assert_eq!(code, 200);
        assert!(body.contains("process_open_fds"), "{body}");
        assert_eq!(get(addr, "/healthz").await, (200, "ok".to_string()));
        stop.cancel();
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        assert!(
            tokio::net::TcpStream::connect(addr).await.is_err(),
            "listener closed"
        );
        let off = TelemetryFlags {
            metrics_bind_address: Some("0".into()),
            ..Default::default()
        };
        let none = serve_endpoints(
            "test",
            &off,
            "0.0.0.0:1",
            telemetry::health::Health::new(),
            Serving::Plain,
            CancellationToken::new(),
        )
        .await
        .unwrap();
        assert_eq!(none, None);
    }

    /// GET over TLS (HTTP/1.1), optionally with a client identity and a bearer token.
    async fn get_tls(
        addr: SocketAddr,
        path: &str,
        identity: Option<pki::tls::ClientIdentity>,
        token: Option<&str>,
    ) -> (u16, String) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let config =
            pki::tls::client_config(&pki::tls::ServerTrust::InsecureSkipVerify, identity).unwrap();
        let mut config = (*config).clone();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        let mut tls = tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(name, tcp)
            .await
            .unwrap();
        let auth = token
            .map(|t| format!("Authorization: Bearer {t}\r\n"))
            .unwrap_or_default();
        tls.write_all(
            format!("GET {path} HTTP/1.1\r\nHost: x\r\n{auth}Connection: close\r\n\r\n").as_bytes(),
        )
        .await
        .unwrap();
        let mut bytes = Vec::new();
        // A TLS close without close_notify is fine here: the body is read by then.
        let _ = tls.read_to_end(&mut bytes).await;
        let text = String::from_utf8_lossy(&bytes).to_string();
        let code = text[9..12].parse().unwrap();
        let body = text
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default();
        (code, body)
    }

    struct Reviews;

    #[tonic::async_trait]
    impl auth::Reviewer for Reviews {
        async fn token_review(&self, token: &str) -> Result<Option<auth::User>, String> {
            Ok((token == "monitor").then(|| auth::User {
                name: "prometheus".into(),
                uid: String::new(),
                groups: vec!["system:monitoring".into(), "system:authenticated".into()],
            }))
        }
        async fn access_review(
            &self,
            user: &auth::User,
            path: &str,
            verb: &str,
        ) -> Result<auth::Verdict, String> {
            Ok(auth::Verdict {
                allowed: user.groups.iter().any(|g| g == "system:monitoring")
                    && path == "/metrics"
                    && verb == "get",
                reason: String::new(),
            })
        }
    }

    #[tokio::test]
    async fn delegated_endpoints_authenticate_and_authorize_over_tls() {
        let ca = pki::ca::Ca::generate("kubernetes", std::time::Duration::from_secs(3600)).unwrap();
        let admin = ca
            .issue(&pki::ca::CertSpec {
                common_name: "kubernetes-admin".into(),
                organizations: vec!["system:masters".into()],
                dns_names: vec![],
                ip_addresses: vec![],
                usages: vec![pki::ca::Usage::ClientAuth],
                validity: std::time::Duration::from_secs(3600),
            })
            .unwrap();
        let admin = pki::tls::ClientIdentity::from_pem(&admin.cert_pem, &admin.key_pem).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let delegated = Arc::new(auth::Delegated::new(
            Some(pki::verify::ClientVerifier::new(ca.cert_pem()).unwrap()),
            Arc::new(Reviews),
        ));
        telemetry::process::register_process_metrics();
        let handler = delegated_handler(
            telemetry::serve::router(telemetry::health::Health::new()),
            delegated,
        );
        let config =
            pki::tls::server_config(cert::self_signed(addr).unwrap(), &[b"h2", b"http/1.1"])
                .unwrap();
        let stop = CancellationToken::new();
        tokio::spawn(listen::serve(listener, Some(config), handler, stop.clone()));

        // Anonymous: health yes, metrics no.
        assert_eq!(
            get_tls(addr, "/healthz", None, None).await,
            (200, "ok".into())
        );
        let (code, body) = get_tls(addr, "/metrics", None, None).await;
        assert_eq!(code, 403);
        assert!(
            body.contains(r#"forbidden: User \"system:anonymous\" cannot get path \"/metrics\""#),
            "{body}"
        );
        assert_eq!(get_tls(addr, "/livez/ping", None, None).await.0, 403);
        // A token the apiserver does not know: 401 even for health.
        assert_eq!(get_tls(addr, "/healthz", None, Some("nope")).await.0, 401);
        // A monitoring token, and the admin's certificate (system:masters).
        let (code, body) = get_tls(addr, "/metrics", None, Some("monitor")).await;
        assert_eq!(code, 200);
        assert!(body.contains("process_open_fds"), "{body}");
        assert_eq!(
            get_tls(addr, "/metrics", Some(admin.clone()), None).await.0,
            200
        );
        assert_eq!(
            get_tls(addr, "/readyz/ping", Some(admin), None).await,
            (200, "ok".into())
        );
        stop.cancel();
    }
}
