//! The client side: whom to trust, and a client certificate that can be swapped (rotation).

use std::sync::{Arc, RwLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{ResolvesClientCert, Resumption};
use rustls::sign::CertifiedKey;
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};

use crate::Error;

#[derive(Debug, Clone)]
pub enum ServerTrust {
    /// Servers whose chain leads to a certificate in this PEM (one or more CAs).
    Ca(String),
    /// Any server (kubeconfig's `insecure-skip-tls-verify`); the handshake signature is
    /// still checked, nothing else.
    InsecureSkipVerify,
}

/// A client certificate that can be replaced (rotation); new connections use the current one.
#[derive(Clone, Default)]
pub struct ClientIdentity(Arc<RwLock<Option<Current>>>);

#[derive(Clone)]
struct Current {
    key: Arc<CertifiedKey>,
    cert_pem: String,
    /// Counts replacements, so connections made with an older certificate can tell.
    generation: u64,
}

impl std::fmt::Debug for ClientIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientIdentity")
            .field("has_cert", &self.current().is_some())
            .finish()
    }
}

impl ClientIdentity {
    pub fn from_pem(cert_pem: &str, key_pem: &str) -> Result<Self, Error> {
        let identity = ClientIdentity::default();
        identity.set_pem(cert_pem, key_pem)?;
        Ok(identity)
    }

    /// Replaces the certificate for the connections made from now on; a bad pair leaves the
    /// current one in place.
    pub fn set_pem(&self, cert_pem: &str, key_pem: &str) -> Result<(), Error> {
        let key = super::server::certified_key(cert_pem, key_pem)?;
        // A poisoned lock only means a writer panicked between two whole values.
        let mut current = self.0.write().unwrap_or_else(|e| e.into_inner());
        let generation = current.as_ref().map_or(0, |c| c.generation + 1);
        *current = Some(Current {
            key,
            cert_pem: cert_pem.to_string(),
            generation,
        });
        Ok(())
    }

    /// How many times the certificate was replaced; connections compare it with the value
    /// at their handshake ([`super::Connector::rotating_with`]).
    pub fn generation(&self) -> u64 {
        self.current().map_or(0, |c| c.generation)
    }

    /// The current certificate (PEM as given), if any.
    pub fn cert_pem(&self) -> Option<String> {
        self.current().map(|c| c.cert_pem)
    }

    fn current(&self) -> Option<Current> {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl ResolvesClientCert for ClientIdentity {
    fn resolve(
        &self,
        _root_hint_subjects: &[&[u8]],
        _sigschemes: &[SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        self.current().map(|c| c.key)
    }

    fn has_certs(&self) -> bool {
        self.current().is_some()
    }
}

/// A client config offering ALPN h2, trusting `trust`, presenting `identity` when given.
/// Session resumption is off: a resumed session would carry the identity of the first
/// handshake, past a certificate rotation.
pub fn client_config(
    trust: &ServerTrust,
    identity: Option<ClientIdentity>,
) -> Result<Arc<rustls::ClientConfig>, Error> {
    let provider = super::provider();
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?;
    let builder =
        match trust {
            ServerTrust::Ca(pem) => {
                let mut roots = RootCertStore::empty();
                for cert in crate::pem::certificates(pem)? {
                    roots.add(cert)?;
                }
                builder.with_root_certificates(roots)
            }
            ServerTrust::InsecureSkipVerify => builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AnyServerCert {
                    signatures: super::HandshakeSignatures(provider),
                })),
        };
    let mut config = match identity {
        Some(identity) => builder.with_client_cert_resolver(Arc::new(identity)),
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"h2".to_vec()];
    config.resumption = Resumption::disabled();
    Ok(Arc::new(config))
}

/// Accepts any server certificate; proves only that the server holds its key.
#[derive(Debug)]
pub(super) struct AnyServerCert {
    pub(super) signatures: super::HandshakeSignatures,
}

impl ServerCertVerifier for AnyServerCert {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.signatures.tls12(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.signatures.tls13(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.signatures.schemes()
    }
}
