//! The kubelet's connection to the apiserver: plaintext (development), a kubeconfig, or a
//! join by bootstrap token with the CA pinned by hash, ending with a client certificate of
//! its own (`system:node:<name>`) that is rotated before it expires.

pub mod files;
pub mod join;
pub mod source;

use crate::certificate::{pem, request::Issued};
use crate::error::{Error, Result};
use client::{Client, ConnectionConfig, Credentials, Kubeconfig};
use files::Paths;
use source::Source;
use std::time::SystemTime;
use tokio_util::sync::CancellationToken;

/// How the kubelet talks to the apiserver.
#[derive(Clone)]
pub struct Connection {
    pub client: Client,
    pub config: ConnectionConfig,
    /// The CA the apiserver is trusted by (secure mode).
    pub ca_pem: Option<String>,
    /// The client certificate in use, swapped in place by rotation; None with tokens or in
    /// plaintext mode.
    pub identity: Option<pki::tls::ClientIdentity>,
}

impl Connection {
    /// TLS to the apiserver: the kubelet API is served with TLS and authentication too.
    pub fn secure(&self) -> bool {
        self.config.trust.is_some()
    }

    /// The certificate currently presented.
    pub fn current_cert_pem(&self) -> Option<String> {
        self.identity.as_ref().and_then(|i| i.cert_pem())
    }
}

/// The certificates of a PEM text that may also hold the key (a combined file read as the
/// kubeconfig's client-certificate).
fn certs_only(text: &str) -> String {
    pem::split(text)
        .map(|(c, _)| c)
        .unwrap_or_else(|_| text.to_string())
}

fn from_config(mut config: ConnectionConfig) -> Result<Connection> {
    let ca_pem = match &config.trust {
        Some(pki::tls::ServerTrust::Ca(p)) => Some(p.clone()),
        _ => None,
    };
    let identity = match &config.credentials {
        Credentials::ClientCert { cert_pem, key_pem } => {
            let cert = certs_only(cert_pem);
            let key = pem::split(key_pem)
                .map(|(_, k)| k)
                .unwrap_or_else(|_| key_pem.clone());
            let identity = pki::tls::ClientIdentity::from_pem(&cert, &key).map_err(|e| {
                Error::Certificate(format!("the kubeconfig's client certificate: {e}"))
            })?;
            Some(identity)
        }
        Credentials::Identity(i) => Some(i.clone()),
        _ => None,
    };
    if let Some(i) = &identity {
        config.credentials = Credentials::Identity(i.clone());
    }
    let client = Client::lazy_with(&config)?;
    Ok(Connection {
        client,
        config,
        ca_pem,
        identity,
    })
}

/// Decides the source and connects (joining first when asked). None when cancelled during
/// a join.
pub async fn connect(
    flags: &source::Flags<'_>,
    paths: &Paths,
    node_name: &str,
    cancel: &CancellationToken,
) -> Result<Option<Connection>> {
    let existing = files::existing_kubeconfig(paths, SystemTime::now());
    let chosen = source::choose(flags, existing.as_deref()).map_err(Error::Config)?;
    let server_override = flags.server.map(str::trim).filter(|s| !s.is_empty());
    match chosen {
        Source::Plaintext(server) => {
            tracing::warn!(apiserver = %server, "no --kubeconfig and no --bootstrap-token: talking plaintext to the apiserver and serving the kubelet API without TLS or authentication (development only)");
            let config = ConnectionConfig::plaintext(&server);
            let client = Client::lazy(&server)?;
            Ok(Some(Connection {
                client,
                config,
                ca_pem: None,
                identity: None,
            }))
        }
        Source::Existing(path) | Source::Kubeconfig(path) => {
            let mut config = Kubeconfig::load(&path)?.connection(None)?;
            if let Some(s) = server_override {
                config.server = s.to_string();
            }
            tracing::info!(kubeconfig = %path.display(), apiserver = %config.server, "connecting with the kubeconfig");
            from_config(config).map(Some)
        }
        Source::Token {
            server,
            token,
            ca_cert_hash,
        } => {
            let Some((issued, ca_pem)) =
                join::join(&server, &token, &ca_cert_hash, node_name, paths, cancel).await?
            else {
                return Ok(None);
            };
            let identity = pki::tls::ClientIdentity::from_pem(&issued.cert_pem, &issued.key_pem)
                .map_err(|e| Error::Certificate(format!("the issued client certificate: {e}")))?;
            from_config(ConnectionConfig {
                server,
                trust: Some(pki::tls::ServerTrust::Ca(ca_pem)),
                credentials: Credentials::Identity(identity),
                tls_server_name: None,
            })
            .map(Some)
        }
    }
}

/// What client rotation does with a new certificate: the file first (so a restart keeps
/// it), with the kubeconfig and CA naming it, then the live identity.
pub fn install_client(
    conn: &Connection,
    paths: &Paths,
) -> impl Fn(&Issued) -> Result<()> + Send + Sync + 'static {
    let identity = conn.identity.clone();
    let paths = paths.clone();
    let server = conn.config.server.clone();
    let ca = conn.ca_pem.clone();
    move |issued: &Issued| {
        files::write_pair(&paths.client_cert(), &issued.cert_pem, &issued.key_pem)?;
        if let Some(ca) = &ca {
            files::write_ca(&paths, ca)?;
            files::write_kubeconfig(&paths, &server)?;
        }
        if let Some(identity) = &identity {
            identity
                .set_pem(&issued.cert_pem, &issued.key_pem)
                .map_err(|e| Error::Certificate(format!("the rotated client certificate: {e}")))?;
        }
        Ok(())
    }
}
