//! rustls for tonic, with the ring provider passed explicitly (no process-global provider).
//!
//! Servers: [`server_config`] with a rotatable [`ServingCert`], connections from
//! [`incoming`] for `Server::serve_with_incoming`; client certificates are requested but
//! verified after the handshake by [`crate::verify::ClientVerifier`], from the
//! [`TlsConnectInfo`] in the request extensions.
//! Clients: [`client_config`] with a rotatable [`ClientIdentity`], dialled by [`Connector`]
//! through `Endpoint::connect_with_connector_lazy`.
//! Join by token: [`fetch_server_chain`] + [`ca_from_chain`].

mod client;
mod connector;
mod discovery;
mod incoming;
mod server;

use std::sync::Arc;

use rustls::crypto::CryptoProvider;

pub use client::{ClientIdentity, ServerTrust, client_config};
pub use connector::Connector;
pub use discovery::{ca_from_chain, fetch_server_chain};
pub use incoming::{TlsConn, TlsConnectInfo, incoming};
pub use server::{ServingCert, server_config};

/// The one provider every config here is built with. rustls 0.23.48 deprecates ring's
/// provider for lacking post-quantum key exchange; ring is still the choice here (no
/// aws-lc build), and TLS 1.3 with X25519 is what every peer of ours speaks.
#[allow(deprecated)]
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The rustls error behind a failed connection, if there is one: walks `error`'s source chain,
/// looking into `std::io::Error`s too (tokio-rustls reports handshake failures as an
/// `io::Error` wrapping the `rustls::Error`). Lets a client say "the server's certificate is
/// not signed by the CA in F" instead of "transport error". For a server of another CA that is
/// `InvalidCertificate(UnknownIssuer)`, or `InvalidCertificate(BadSignature)` when the trusted
/// CA has the same subject (every cluster's CA is "CN=kubernetes").
pub fn rustls_error<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    let mut current: Option<&'a (dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = current {
        if let Some(found) = e.downcast_ref::<rustls::Error>() {
            return Some(found);
        }
        if let Some(found) = e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        {
            return Some(found);
        }
        current = e.source();
    }
    None
}

/// The handshake signatures a verifier that accepts any certificate still checks: the peer
/// must hold the key of the certificate it presents, whatever the certificate is.
#[derive(Debug)]
pub(crate) struct HandshakeSignatures(pub(crate) Arc<CryptoProvider>);

impl HandshakeSignatures {
    pub(crate) fn tls12(
        &self,
        message: &[u8],
        cert: &rustls_pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    pub(crate) fn tls13(
        &self,
        message: &[u8],
        cert: &rustls_pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    pub(crate) fn schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
