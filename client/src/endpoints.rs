//! A daemon's own endpoints: `/metrics`, `/healthz`, `/livez`, `/readyz`, served on
//! `--metrics-bind-address` as Kubernetes' components serve them, and the flags every
//! daemon shares for metrics and traces.
//!
//! The scheduler and the controller-manager serve HTTPS with delegated authentication and
//! authorization ([`Serving::Delegated`]: the caller's client certificate or bearer token,
//! checked with the apiserver, then a SubjectAccessReview for `get` on the path);
//! kube-proxy and cluster-dns serve plain HTTP ([`Serving::Plain`]), as Kubernetes'
//! kube-proxy and CoreDNS do.

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
    let handler: listen::Handler = Arc::new(move |request| {
        let mut router = router.clone();
        Box::pin(async move {
            use tower_service::Service;
            match router.call(request).await {
                Ok(response) => response,
                Err(never) => match never {},
            }
        })
    });
    let (tls, scheme) = match serving {
        Serving::Plain => (None, "http"),
        Serving::Delegated { .. } => {
            tracing::warn!(
                service,
                "delegated authentication is not available yet; serving the endpoints over plain HTTP"
            );
            (None, "http")
        }
    };
    tokio::spawn(listen::serve(listener, tls, handler, shutdown));
    tracing::info!(service, address = %bound, scheme, "serving /metrics, /healthz, /livez, /readyz");
    Ok(Some(bound))
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
}
