//! kubeadm's join by token: read the apiserver's certificate chain without trusting it, keep
//! the CA whose public key hash is `--ca-cert-hash` (refusing on mismatch), then, trusting
//! that CA and authenticated by the bootstrap token (`system:bootstrap:<id>`), ask for the
//! node's client certificate through a CSR and write it with the kubeconfig naming it.

use super::files::{self, Paths};
use crate::certificate::request::{Issued, WAIT_TIMEOUT, request_certificate};
use crate::certificate::shape;
use crate::error::{Error, Result};
use client::{Client, ConnectionConfig, Credentials};
use proto::bootstrap_token::BootstrapToken;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// The one-line refusal when no certificate of the chain matches the pin.
pub fn mismatch_message(addr: &str, wanted: &str, presented: &[String]) -> String {
    format!(
        "the cluster CA presented by {addr} does not match --ca-cert-hash: expected {wanted}, \
         the apiserver presented {}",
        if presented.is_empty() {
            "no CA certificate".to_string()
        } else {
            presented.join(", ")
        }
    )
}

/// Sleeps `d` unless cancelled first (then false).
async fn pause(d: Duration, cancel: &CancellationToken) -> bool {
    tokio::select! {
        _ = cancel.cancelled() => false,
        _ = tokio::time::sleep(d) => true,
    }
}

/// The pinned CA (PEM) from the apiserver at `addr`; retries while the apiserver cannot be
/// reached, refuses at once on a hash mismatch. None when cancelled.
pub async fn discover_ca(
    addr: &str,
    ca_cert_hash: &str,
    cancel: &CancellationToken,
) -> Result<Option<String>> {
    let mut backoff = client::Backoff::new(Duration::from_millis(500), Duration::from_secs(10));
    let chain = loop {
        match pki::tls::fetch_server_chain(addr).await {
            Ok(chain) => break chain,
            Err(e) => {
                let d = backoff.next_delay();
                tracing::warn!(apiserver = %addr, error = %e, retry_in = ?d, "reading the apiserver's certificates failed");
                if !pause(d, cancel).await {
                    return Ok(None);
                }
            }
        }
    };
    if let Some(ca) = pki::tls::ca_from_chain(&chain, ca_cert_hash) {
        return Ok(Some(ca));
    }
    let presented: Vec<String> = chain
        .iter()
        .filter(|der| pki::inspect::parse_der(der).is_ok_and(|i| i.is_ca))
        .filter_map(|der| pki::hash::ca_cert_hash_der(der).ok())
        .collect();
    Err(Error::Certificate(mismatch_message(
        addr,
        ca_cert_hash,
        &presented,
    )))
}

/// The whole join; None when cancelled. Writes `R/pki/kubelet-client-current.pem`,
/// `R/pki/ca.crt` and `R/kubelet.kubeconfig`.
pub async fn join(
    server: &str,
    token: &BootstrapToken,
    ca_cert_hash: &str,
    node_name: &str,
    paths: &Paths,
    cancel: &CancellationToken,
) -> Result<Option<(Issued, String)>> {
    let addr = super::source::https_authority(server).map_err(Error::Config)?;
    let Some(ca_pem) = discover_ca(&addr, ca_cert_hash, cancel).await? else {
        return Ok(None);
    };
    tracing::info!(apiserver = %server, ca = %ca_cert_hash, user = %token.user_name(), "cluster CA pinned; requesting the node's client certificate");
    let boot = ConnectionConfig {
        server: server.to_string(),
        trust: Some(pki::tls::ServerTrust::Ca(ca_pem.clone())),
        credentials: Credentials::Token(token.to_string()),
        tls_server_name: None,
    };
    let client = Client::lazy_with(&boot)?;
    let wanted = shape::client(node_name);
    let mut backoff = client::Backoff::new(Duration::from_secs(1), Duration::from_secs(60));
    let issued = loop {
        match request_certificate(&client, &wanted, true, WAIT_TIMEOUT, cancel).await {
            Ok(i) => break i,
            Err(e) => {
                if cancel.is_cancelled() {
                    return Ok(None);
                }
                let d = backoff.next_delay();
                tracing::warn!(node = %node_name, error = %e, retry_in = ?d, "bootstrap certificate request failed");
                if !pause(d, cancel).await {
                    return Ok(None);
                }
            }
        }
    };
    files::write_pair(&paths.client_cert(), &issued.cert_pem, &issued.key_pem)?;
    files::write_ca(paths, &ca_pem)?;
    files::write_kubeconfig(paths, server)?;
    tracing::info!(node = %node_name, kubeconfig = %paths.kubeconfig().display(), "joined: client certificate written");
    Ok(Some((issued, ca_pem)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mismatch_names_both_hashes() {
        let m = mismatch_message("10.0.0.1:6443", "sha256:aa", &["sha256:bb".into()]);
        assert_eq!(
            m,
            "the cluster CA presented by 10.0.0.1:6443 does not match --ca-cert-hash: expected \
             sha256:aa, the apiserver presented sha256:bb"
        );
        assert!(mismatch_message("a:1", "sha256:aa", &[]).ends_with("presented no CA certificate"));
    }
}
