//! The server side: a serving certificate that can be swapped while serving, and a client
//! certificate verifier that asks for a certificate but leaves judging it to the
//! authenticator (so a bad certificate gets an answer naming the cause, not a reset).

use std::sync::{Arc, RwLock};

use rustls::client::danger::HandshakeSignatureValid;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::{DigitallySignedStruct, DistinguishedName, SignatureScheme};
use rustls_pki_types::{CertificateDer, UnixTime};

use crate::Error;

/// A serving certificate that can be replaced while serving (rotation): new handshakes use
/// the current one. Chain PEM = leaf then CA.
#[derive(Clone)]
pub struct ServingCert(Arc<RwLock<Arc<CertifiedKey>>>);

impl std::fmt::Debug for ServingCert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServingCert").finish_non_exhaustive()
    }
}

impl ServingCert {
    pub fn from_pem(chain_pem: &str, key_pem: &str) -> Result<Self, Error> {
        Ok(ServingCert(Arc::new(RwLock::new(certified_key(
            chain_pem, key_pem,
        )?))))
    }

    /// Replaces the certificate for the handshakes that follow; a bad pair leaves the current
    /// one in place.
    pub fn set_pem(&self, chain_pem: &str, key_pem: &str) -> Result<(), Error> {
        let key = certified_key(chain_pem, key_pem)?;
        // A poisoned lock only means a writer panicked between two whole values.
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = key;
        Ok(())
    }

    fn current(&self) -> Arc<CertifiedKey> {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl ResolvesServerCert for ServingCert {
    fn resolve(&self, _client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current())
    }
}

/// A certificate chain and its private key, checked to belong together.
pub(super) fn certified_key(chain_pem: &str, key_pem: &str) -> Result<Arc<CertifiedKey>, Error> {
    let chain = crate::pem::certificates(chain_pem)?;
    let key = crate::pem::private_key(key_pem)?;
    let certified = CertifiedKey::from_der(chain, key, &super::provider())?;
    Ok(Arc::new(certified))
}

/// Requests a client certificate but accepts any at the handshake (the handshake signature is
/// still checked): the chain is verified afterwards by `verify::ClientVerifier`, so that a bad
/// certificate gets an Unauthenticated answer naming the cause instead of a dropped connection.
pub fn server_config(
    serving: ServingCert,
    alpn: &[&[u8]],
) -> Result<Arc<rustls::ServerConfig>, Error> {
    let provider = super::provider();
    let mut config = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(Arc::new(AnyClientCert {
            signatures: super::HandshakeSignatures(provider),
        }))
        .with_cert_resolver(Arc::new(serving));
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Ok(Arc::new(config))
}

/// Accepts any client certificate, or none; proves only that the client holds its key.
#[derive(Debug)]
struct AnyClientCert {
    signatures: super::HandshakeSignatures,
}

impl ClientCertVerifier for AnyClientCert {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
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
