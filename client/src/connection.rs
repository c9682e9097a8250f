//! How to reach the apiserver: its URL, whom to trust (`None`: plaintext HTTP/2), and the
//! credentials to present. TLS is done by `pki::tls::Connector` under a tonic channel whose
//! URI scheme stays `http` (the connector, not tonic, speaks TLS); bearer tokens travel in
//! the `authorization` header, added by [`BearerAuth`] to every request.

use proto::{ApiError, Reason};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tonic::metadata::{Ascii, MetadataValue};
use tonic::transport::{Channel, Endpoint};

/// What a client proves itself with.
#[derive(Clone, Default)]
pub enum Credentials {
    #[default]
    None,
    /// A client certificate and its key (PEM), as a kubeconfig embeds them.
    ClientCert { cert_pem: String, key_pem: String },
    /// A client certificate that may be replaced while connected (rotation): new
    /// connections present the current one.
    Identity(pki::tls::ClientIdentity),
    /// A bearer token.
    Token(String),
    /// A bearer token read from a file, re-read when the copy in hand is a minute old
    /// (projected ServiceAccount tokens are rotated in place).
    TokenFile(PathBuf),
}

impl std::fmt::Debug for Credentials {
    /// Never prints a key or a token.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::None => f.write_str("None"),
            Credentials::ClientCert { .. } => f.write_str("ClientCert(..)"),
            Credentials::Identity(_) => f.write_str("Identity(..)"),
            Credentials::Token(_) => f.write_str("Token(REDACTED)"),
            Credentials::TokenFile(p) => write!(f, "TokenFile({})", p.display()),
        }
    }
}

#[derive(Clone, Debug)]
pub struct ConnectionConfig {
    /// `https://host:port` (TLS, `trust` required) or `http://host:port` (plaintext).
    pub server: String,
    /// `None`: plaintext HTTP/2 (development and in-process tests).
    pub trust: Option<pki::tls::ServerTrust>,
    pub credentials: Credentials,
    /// The name the server's certificate must carry, when not the URL's host.
    pub tls_server_name: Option<String>,
}

/// Where a pod finds its ServiceAccount's token and the cluster CA.
pub const SERVICE_ACCOUNT_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// Between re-reads of a token file (client-go's cachingTokenSource period).
pub const TOKEN_FILE_REFRESH: Duration = Duration::from_secs(60);

impl ConnectionConfig {
    /// No TLS, no credentials: the development mode and in-process test servers.
    pub fn plaintext(server: &str) -> Self {
        ConnectionConfig {
            server: server.to_string(),
            trust: None,
            credentials: Credentials::None,
            tls_server_name: None,
        }
    }

    /// Inside a pod: `KUBERNETES_SERVICE_HOST`/`KUBERNETES_SERVICE_PORT`, the mounted
    /// token (re-read as the kubelet rotates it) and CA (client-go's InClusterConfig).
    pub fn in_cluster() -> Result<Self, ApiError> {
        let host = std::env::var("KUBERNETES_SERVICE_HOST").ok();
        let port = std::env::var("KUBERNETES_SERVICE_PORT").ok();
        Self::in_cluster_from(
            host.as_deref(),
            port.as_deref(),
            Path::new(SERVICE_ACCOUNT_DIR),
        )
    }

    pub(crate) fn in_cluster_from(
        host: Option<&str>,
        port: Option<&str>,
        dir: &Path,
    ) -> Result<Self, ApiError> {
        let (Some(host), Some(port)) = (
            host.filter(|h| !h.is_empty()),
            port.filter(|p| !p.is_empty()),
        ) else {
            return Err(ApiError::bad_request(
                "unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST and \
                 KUBERNETES_SERVICE_PORT must be defined",
            ));
        };
        let token = dir.join("token");
        // Read once now so that a pod without a token fails at start, not at each call.
        std::fs::read_to_string(&token).map_err(|e| {
            ApiError::bad_request(format!(
                "cannot read the service account token {}: {e}",
                token.display()
            ))
        })?;
        let ca_path = dir.join("ca.crt");
        let ca = std::fs::read_to_string(&ca_path).map_err(|e| {
            ApiError::bad_request(format!(
                "cannot read the cluster CA {}: {e}",
                ca_path.display()
            ))
        })?;
        let host = if host.contains(':') && !host.starts_with('[') {
            format!("[{host}]")
        } else {
            host.to_string()
        };
        Ok(ConnectionConfig {
            server: format!("https://{host}:{port}"),
            trust: Some(pki::tls::ServerTrust::Ca(ca)),
            credentials: Credentials::TokenFile(token),
            tls_server_name: None,
        })
    }

    /// The client identity to present in the TLS handshake, if any.
    fn identity(&self) -> Result<Option<pki::tls::ClientIdentity>, ApiError> {
        match &self.credentials {
            Credentials::ClientCert { cert_pem, key_pem } => {
                pki::tls::ClientIdentity::from_pem(cert_pem, key_pem)
                    .map(Some)
                    .map_err(|e| {
                        ApiError::bad_request(format!("invalid client certificate or key: {e}"))
                    })
            }
            Credentials::Identity(i) => Ok(Some(i.clone())),
            _ => Ok(None),
        }
    }

    /// How to dial `url` (`self.server`, or a kubelet dialled directly) with this trust and
    /// identity. Nothing is dialled yet.
    pub(crate) fn dial(&self, url: &str) -> Result<Dial, ApiError> {
        let tls = self.trust.as_ref();
        let plain_url = match (tls, url.strip_prefix("https://")) {
            (Some(_), Some(rest)) => format!("http://{rest}"),
            (None, Some(_)) => {
                return Err(ApiError::bad_request(format!(
                    "{url} is https but no certificate authority is configured to verify it"
                )));
            }
            (Some(_), None) => {
                return Err(ApiError::bad_request(format!(
                    "{url} is not an https:// address, but a certificate authority is configured for it"
                )));
            }
            (None, None) => url.to_string(),
        };
        let endpoint = endpoint(&plain_url, url)?;
        let connector = match tls {
            None => None,
            Some(trust) => {
                let identity = self.identity()?;
                let config = pki::tls::client_config(trust, identity.clone()).map_err(|e| {
                    ApiError::bad_request(format!("cannot set up TLS for {url}: {e}"))
                })?;
                let connector = pki::tls::Connector::new(config, self.tls_server_name.clone());
                // A rotated certificate (the kubelet's) must not stay behind on an open
                // connection: the apiserver checks it on every request.
                Some(match identity {
                    Some(identity) => connector.rotating_with(identity),
                    None => connector,
                })
            }
        };
        Ok(Dial {
            endpoint,
            connector,
            url: url.to_string(),
            tls: tls.is_some(),
        })
    }

    /// The interceptor that presents this config's bearer token, if it has one.
    pub(crate) fn bearer(&self) -> Result<BearerAuth, ApiError> {
        match &self.credentials {
            Credentials::Token(t) => BearerAuth::token(t),
            Credentials::TokenFile(p) => Ok(BearerAuth::file(p)),
            _ => Ok(BearerAuth::default()),
        }
    }
}

/// A prepared channel: plaintext, or TLS through `pki::tls::Connector`.
pub(crate) struct Dial {
    endpoint: Endpoint,
    connector: Option<pki::tls::Connector>,
    url: String,
    tls: bool,
}

impl Dial {
    /// Connects on first use and reconnects after failures.
    pub(crate) fn lazy(self) -> Channel {
        match self.connector {
            Some(c) => self.endpoint.connect_with_connector_lazy(c),
            None => self.endpoint.connect_lazy(),
        }
    }

    /// Connects now; a failure is a one-line `Unavailable` naming `what` and the cause.
    pub(crate) async fn connect(self, what: &str) -> Result<Channel, ApiError> {
        let res = match self.connector {
            Some(c) => self.endpoint.connect_with_connector(c).await,
            None => self.endpoint.connect().await,
        };
        res.map_err(|e| {
            ApiError::new(
                Reason::Unavailable,
                format!(
                    "cannot reach {what} at {}: {}",
                    self.url,
                    explain(&root_cause(&e), self.tls)
                ),
            )
        })
    }
}

fn endpoint(url: &str, shown: &str) -> Result<Endpoint, ApiError> {
    Endpoint::from_shared(url.to_string())
        .map_err(|e| ApiError::bad_request(format!("invalid server address {shown:?}: {e}")))
        .map(|e| {
            e.connect_timeout(Duration::from_secs(3))
                .tcp_nodelay(true)
                .http2_keep_alive_interval(Duration::from_secs(30))
                .keep_alive_while_idle(true)
        })
}

/// A transport failure's cause, with a TLS verification failure said in words a user can
/// act on (rustls names them `UnknownIssuer`, `NotValidForName`, ...).
pub(crate) fn explain(cause: &str, tls: bool) -> String {
    if !tls {
        return cause.to_string();
    }
    if cause.contains("UnknownIssuer") || cause.contains("BadSignature") {
        return format!("x509: the server's certificate is not signed by the trusted CA ({cause})");
    }
    if cause.contains("NotValidForName") || cause.contains("not valid for name") {
        return format!(
            "x509: the server's certificate is not valid for the name dialled ({cause})"
        );
    }
    if [
        "Expired",
        "NotValidYet",
        "certificate expired",
        "not valid yet",
    ]
    .iter()
    .any(|p| cause.contains(p))
    {
        return format!("x509: the server's certificate has expired or is not yet valid ({cause})");
    }
    cause.to_string()
}

/// The innermost cause of a transport error: "Connection refused (os error 111)", not
/// "transport error".
pub(crate) fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

/// Adds `authorization: Bearer <token>` to each request (nothing without a token), and
/// the trace context (see the `Interceptor` impl).
#[derive(Clone, Default)]
pub struct BearerAuth {
    source: Option<Arc<TokenSource>>,
}

impl std::fmt::Debug for BearerAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.source.as_deref() {
            None => "BearerAuth(none)",
            Some(TokenSource::Static(_)) => "BearerAuth(token)",
            Some(TokenSource::File { .. }) => "BearerAuth(file)",
        })
    }
}

enum TokenSource {
    Static(MetadataValue<Ascii>),
    File {
        path: PathBuf,
        cached: Mutex<Option<(Instant, MetadataValue<Ascii>)>>,
    },
}

fn header_value(token: &str) -> Result<MetadataValue<Ascii>, String> {
    let token = token.trim();
    if token.is_empty() {
        return Err("the token is empty".into());
    }
    MetadataValue::try_from(format!("Bearer {token}"))
        .map_err(|_| "the token has characters a header cannot carry".to_string())
}

impl BearerAuth {
    pub fn token(token: &str) -> Result<Self, ApiError> {
        let v = header_value(token).map_err(ApiError::bad_request)?;
        Ok(BearerAuth {
            source: Some(Arc::new(TokenSource::Static(v))),
        })
    }

    pub fn file(path: &Path) -> Self {
        BearerAuth {
            source: Some(Arc::new(TokenSource::File {
                path: path.to_path_buf(),
                cached: Mutex::new(None),
            })),
        }
    }

    /// The header to send now: a file's token is re-read after [`TOKEN_FILE_REFRESH`]; when
    /// a re-read fails the previous token is used (it may still be valid).
    fn header(&self, now: Instant) -> Result<Option<MetadataValue<Ascii>>, String> {
        match self.source.as_deref() {
            None => Ok(None),
            Some(TokenSource::Static(v)) => Ok(Some(v.clone())),
            Some(TokenSource::File { path, cached }) => {
                let mut cached = cached.lock().unwrap_or_else(|p| p.into_inner());
                if let Some((read_at, v)) = cached.as_ref()
                    && now.saturating_duration_since(*read_at) < TOKEN_FILE_REFRESH
                {
                    return Ok(Some(v.clone()));
                }
                let read = std::fs::read_to_string(path)
                    .map_err(|e| format!("cannot read token file {}: {e}", path.display()))
                    .and_then(|t| {
                        header_value(&t).map_err(|e| format!("token file {}: {e}", path.display()))
                    });
                match (read, cached.as_ref()) {
                    (Ok(v), _) => {
                        *cached = Some((now, v.clone()));
                        Ok(Some(v))
                    }
                    (Err(e), Some((_, old))) => {
                        tracing::warn!(error = %e, "keeping the previous token");
                        Ok(Some(old.clone()))
                    }
                    (Err(e), None) => Err(e),
                }
            }
        }
    }
}

/// Every call of the client (the apiserver's, a kubelet's) goes through this interceptor:
/// it also carries the caller's trace context (W3C `traceparent`) when the process
/// exports traces, so the server's span joins the caller's trace. The interceptor runs
/// as the call starts, inside the caller's span.
impl tonic::service::Interceptor for BearerAuth {
    fn call(&mut self, mut req: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        telemetry::trace::inject(req.metadata_mut().as_mut());
        match self.header(Instant::now()) {
            Ok(Some(v)) => {
                req.metadata_mut().insert("authorization", v);
                Ok(req)
            }
            Ok(None) => Ok(req),
            Err(e) => Err(tonic::Status::unauthenticated(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_cluster_reads_env_token_and_ca() {
        let dir = tempfile::tempdir().unwrap();
        let e = ConnectionConfig::in_cluster_from(None, Some("443"), dir.path()).unwrap_err();
        assert!(
            e.message.contains("KUBERNETES_SERVICE_HOST"),
            "{}",
            e.message
        );
        let e = ConnectionConfig::in_cluster_from(Some("10.96.0.1"), Some("443"), dir.path())
            .unwrap_err();
        assert!(
            e.message
                .starts_with("cannot read the service account token"),
            "{}",
            e.message
        );
        std::fs::write(dir.path().join("token"), "tok").unwrap();
        std::fs::write(dir.path().join("ca.crt"), "CA").unwrap();
        let c =
            ConnectionConfig::in_cluster_from(Some("10.96.0.1"), Some("443"), dir.path()).unwrap();
        assert_eq!(c.server, "https://10.96.0.1:443");
        assert!(matches!(c.trust, Some(pki::tls::ServerTrust::Ca(ref p)) if p == "CA"));
        assert!(
            matches!(c.credentials, Credentials::TokenFile(ref p) if *p == dir.path().join("token"))
        );
        let c =
            ConnectionConfig::in_cluster_from(Some("fd00::1"), Some("6443"), dir.path()).unwrap();
        assert_eq!(c.server, "https://[fd00::1]:6443");
    }

    #[test]
    fn a_token_file_is_reread_after_a_minute_and_kept_on_failure() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        let auth = BearerAuth::file(&path);
        let t0 = Instant::now();
        assert!(
            auth.header(t0)
                .unwrap_err()
                .starts_with("cannot read token file")
        );
        std::fs::write(&path, "one\n").unwrap();
        assert_eq!(auth.header(t0).unwrap().unwrap(), "Bearer one");
        std::fs::write(&path, "two").unwrap();
        // Within the minute, the copy in hand.
        assert_eq!(
            auth.header(t0 + Duration::from_secs(59)).unwrap().unwrap(),
            "Bearer one"
        );
        assert_eq!(
            auth.header(t0 + Duration::from_secs(61)).unwrap().unwrap(),
            "Bearer two"
        );
        std::fs::remove_file(&path).unwrap();
        assert_eq!(
            auth.header(t0 + Duration::from_secs(200)).unwrap().unwrap(),
            "Bearer two"
        );
        assert!(BearerAuth::default().header(t0).unwrap().is_none());
        assert!(BearerAuth::token(" ").is_err());
        assert!(BearerAuth::token("a\nb").is_err());
    }

    #[test]
    fn the_interceptor_sets_the_header() {
        use tonic::service::Interceptor;
        let mut auth = BearerAuth::token("abc").unwrap();
        let req = auth.call(tonic::Request::new(())).unwrap();
        assert_eq!(req.metadata().get("authorization").unwrap(), "Bearer abc");
        let mut none = BearerAuth::default();
        assert!(
            none.call(tonic::Request::new(()))
                .unwrap()
                .metadata()
                .get("authorization")
                .is_none()
        );
    }

    #[test]
    fn credentials_never_print_secrets() {
        let c = ConnectionConfig {
            credentials: Credentials::Token("s3cret".into()),
            ..ConnectionConfig::plaintext("http://h:1")
        };
        assert!(!format!("{c:?}").contains("s3cret"));
        let c = Credentials::ClientCert {
            cert_pem: "CERT".into(),
            key_pem: "KEY".into(),
        };
        assert!(!format!("{c:?}").contains("KEY"));
    }

    #[tokio::test]
    async fn scheme_and_trust_must_agree() {
        let mut c = ConnectionConfig::plaintext("https://127.0.0.1:1");
        let e = c.dial("https://127.0.0.1:1").err().unwrap();
        assert!(
            e.message.contains("no certificate authority"),
            "{}",
            e.message
        );
        c.trust = Some(pki::tls::ServerTrust::InsecureSkipVerify);
        let e = c.dial("http://127.0.0.1:1").err().unwrap();
        assert!(
            e.message.contains("not an https:// address"),
            "{}",
            e.message
        );
        let _lazy = c.dial("https://127.0.0.1:1").unwrap().lazy();
        assert_eq!(
            explain("invalid peer certificate: UnknownIssuer", true),
            "x509: the server's certificate is not signed by the trusted CA (invalid peer certificate: UnknownIssuer)"
        );
        assert_eq!(explain("UnknownIssuer", false), "UnknownIssuer");
    }
}
