//! The kubelet API in secure mode: TLS with a serving certificate (`--tls-cert-file`, else
//! one requested from signer kubernetes.io/kubelet-serving once the Node is registered,
//! then rotated), client certificates checked against the client CA, and calls authorized
//! through SubjectAccessReviews (or AlwaysAllow).

use crate::apiauth::authn::Authenticator;
use crate::apiauth::authz::Authorizer;
use crate::apiauth::review::ApiReviewer;
use crate::bootstrap::Connection;
use crate::bootstrap::files::{self, Paths};
use crate::certificate::request::{Issued, WAIT_TIMEOUT, request_certificate};
use crate::certificate::{manager, shape};
use crate::config::{AuthorizationMode, Config};
use crate::error::{Error, Result};
use crate::runtime::Runtime;
use crate::server::{ApiSecurity, serve_tls};
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio_util::sync::CancellationToken;

/// Authentication and authorization from the flags: the client CA is `--client-ca-file`,
/// else the CA the apiserver is trusted by.
pub fn security(cfg: &Config, conn: &Connection) -> Result<ApiSecurity> {
    let ca_pem = match &cfg.client_ca_file {
        Some(p) => std::fs::read_to_string(p)
            .map_err(|e| Error::io(format!("reading --client-ca-file {}", p.display()), e))?,
        None => conn.ca_pem.clone().ok_or_else(|| {
            Error::Config(
                "the kubelet API needs a client CA: give --client-ca-file (the kubeconfig \
                 names no certificate-authority)"
                    .into(),
            )
        })?,
    };
    let verifier = pki::verify::ClientVerifier::new(&ca_pem)
        .map_err(|e| Error::Certificate(format!("client CA: {e}")))?;
    let authz = match cfg.authorization_mode {
        AuthorizationMode::AlwaysAllow => Authorizer::AlwaysAllow,
        AuthorizationMode::Webhook => Authorizer::webhook(Arc::new(ApiReviewer {
            client: conn.client.clone(),
        })),
    };
    Ok(ApiSecurity {
        authn: Authenticator {
            verifier,
            anonymous: cfg.anonymous_auth,
        },
        authz,
    })
}

/// The chain to serve: the leaf, then the CA when the signer gave the leaf alone.
pub fn serving_chain(cert_pem: &str, ca_pem: Option<&str>) -> String {
    let count = cert_pem.matches("-----BEGIN CERTIFICATE-----").count();
    match ca_pem {
        Some(ca) if count == 1 => format!("{}\n{}", cert_pem.trim_end(), ca.trim_start()),
        _ => cert_pem.to_string(),
    }
}

/// Where the serving certificate comes from.
pub struct ServingSource {
    pub tls_files: Option<(PathBuf, PathBuf)>,
    pub node_name: String,
    pub node_ips: Vec<IpAddr>,
    pub rotate: bool,
}

/// What the secure API serves, and on which listener.
pub struct SecureApi<R: Runtime> {
    pub runtime: Arc<R>,
    pub listener: tokio::net::TcpListener,
    pub security: ApiSecurity,
    pub health: telemetry::health::Health,
}

/// Waits for a serving certificate (an earlier one still valid, or a new CSR), serves the
/// API until `cancel`, rotating the certificate when asked.
pub async fn run<R: Runtime>(
    api: SecureApi<R>,
    conn: Connection,
    paths: Paths,
    source: ServingSource,
    cancel: CancellationToken,
) {
    let SecureApi {
        runtime,
        listener,
        security,
        health,
    } = api;
    let ca = conn.ca_pem.clone();
    let wanted = shape::serving(&source.node_name, &source.node_ips);
    let (chain, key, requested) = match &source.tls_files {
        Some((cert, key)) => {
            let read = |p: &PathBuf| {
                std::fs::read_to_string(p)
                    .map_err(|e| tracing::error!(path = %p.display(), error = %e, "reading the kubelet API's serving certificate failed"))
                    .ok()
            };
            let (Some(c), Some(k)) = (read(cert), read(key)) else {
                return;
            };
            (c, k, None)
        }
        None => {
            let Some(issued) = obtain(&conn, &paths, &wanted, &cancel).await else {
                return;
            };
            (
                serving_chain(&issued.cert_pem, ca.as_deref()),
                issued.key_pem.clone(),
                Some(issued.cert_pem),
            )
        }
    };
    let serving = match pki::tls::ServingCert::from_pem(&chain, &key) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "the kubelet API's serving certificate is unusable");
            return;
        }
    };
    let task = match serve_tls(
        runtime,
        &source.node_name,
        listener,
        serving.clone(),
        security,
        health,
        cancel.clone(),
    ) {
        Ok(t) => t,
        Err(e) => {
            tracing::error!(error = %e, "serving the kubelet API failed");
            return;
        }
    };
    if let (Some(current), true) = (requested, source.rotate) {
        let paths = paths.clone();
        let install = move |issued: &Issued| -> Result<()> {
            files::write_pair(&paths.server_cert(), &issued.cert_pem, &issued.key_pem)?;
            serving
                .set_pem(
                    &serving_chain(&issued.cert_pem, ca.as_deref()),
                    &issued.key_pem,
                )
                .map_err(|e| Error::Certificate(format!("the rotated serving certificate: {e}")))
        };
        tokio::spawn(manager::rotate(
            "serving",
            conn.client.clone(),
            wanted,
            current,
            install,
            cancel.clone(),
        ));
    }
    let _ = task.await;
}

/// The serving certificate on disk when still valid, else a new one through a CSR
/// (retried with back-off until `cancel`).
async fn obtain(
    conn: &Connection,
    paths: &Paths,
    wanted: &shape::CsrShape,
    cancel: &CancellationToken,
) -> Option<Issued> {
    if let Some((cert, key)) = files::valid_pair(&paths.server_cert(), SystemTime::now()) {
        return Some(Issued {
            cert_pem: cert,
            key_pem: key,
        });
    }
    let mut backoff = client::Backoff::new(Duration::from_secs(1), Duration::from_secs(60));
    loop {
        match request_certificate(&conn.client, wanted, false, WAIT_TIMEOUT, cancel).await {
            Ok(issued) => {
                if let Err(e) =
                    files::write_pair(&paths.server_cert(), &issued.cert_pem, &issued.key_pem)
                {
                    tracing::warn!(error = %e, "writing the serving certificate failed");
                }
                return Some(issued);
            }
            Err(e) => {
                if cancel.is_cancelled() {
                    return None;
                }
                let d = backoff.next_delay();
                tracing::warn!(error = %e, retry_in = ?d, "requesting the kubelet API's serving certificate failed");
                tokio::select! {
                    _ = cancel.cancelled() => return None,
                    _ = tokio::time::sleep(d) => {}
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_gets_the_ca_only_after_a_lone_leaf() {
        let leaf = "-----BEGIN CERTIFICATE-----\nA\n-----END CERTIFICATE-----\n";
        let ca = "-----BEGIN CERTIFICATE-----\nB\n-----END CERTIFICATE-----\n";
        assert_eq!(
            serving_chain(leaf, Some(ca)),
            format!("{}\n{ca}", leaf.trim_end())
        );
        let both = format!("{leaf}{ca}");
        assert_eq!(serving_chain(&both, Some(ca)), both);
        assert_eq!(serving_chain(leaf, None), leaf);
    }
}
