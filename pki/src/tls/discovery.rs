//! kubeadm's discovery by token: the joining node reads the server's chain without trusting
//! it, then keeps only the CA whose public key matches the pinned hash.

use std::sync::Arc;
use std::time::Duration;

use rustls_pki_types::CertificateDer;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use super::client::AnyServerCert;
use crate::Error;

const DISCOVERY_TIMEOUT: Duration = Duration::from_secs(10);

/// The certificates a TLS server presents, without verifying them (kubeadm's discovery: the
/// caller pins the CA by hash with `ca_from_chain`).
pub async fn fetch_server_chain(addr: &str) -> Result<Vec<CertificateDer<'static>>, Error> {
    let (host, _port) = addr
        .rsplit_once(':')
        .ok_or_else(|| Error::Unsupported(format!("address {addr:?} has no port")))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let name = super::connector::server_name_for(host)?;
    let provider = super::provider();
    let mut config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyServerCert {
            signatures: super::HandshakeSignatures(provider),
        }))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec()];
    let connect = async {
        let tcp = TcpStream::connect(addr).await?;
        let tls = TlsConnector::from(Arc::new(config))
            .connect(name, tcp)
            .await?;
        let chain = tls
            .get_ref()
            .1
            .peer_certificates()
            .map(|certs| certs.iter().map(|c| c.clone().into_owned()).collect())
            .unwrap_or_default();
        Ok::<_, std::io::Error>(chain)
    };
    let chain: Vec<CertificateDer<'static>> = tokio::time::timeout(DISCOVERY_TIMEOUT, connect)
        .await
        .map_err(|_| {
            std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("no TLS handshake with {addr} within {DISCOVERY_TIMEOUT:?}"),
            )
        })??;
    if chain.is_empty() {
        return Err(Error::Certificate(format!(
            "{addr} presented no certificate"
        )));
    }
    Ok(chain)
}

/// The CA certificate (PEM) in `chain` whose public key hash is `hash` ("sha256:<hex>",
/// case-insensitive), if any.
pub fn ca_from_chain(chain: &[CertificateDer<'_>], hash: &str) -> Option<String> {
    let wanted = hash.trim().to_ascii_lowercase();
    chain.iter().find_map(|der| {
        let info = crate::inspect::parse_der(der).ok()?;
        let pin = crate::hash::ca_cert_hash_der(der).ok()?;
        (info.is_ca && pin == wanted).then(|| crate::pem::encode("CERTIFICATE", der))
    })
}
