//! Client certificate chains, checked after the handshake as kube-apiserver's x509
//! authenticator does: signed by the client CA, valid now, usable for client auth. The
//! subject becomes the user (CN) and groups (O).

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use rustls_pki_types::{CertificateDer, TrustAnchor, UnixTime};
use webpki::{EndEntityCert, KeyUsage};

use crate::Error;
use crate::names::subject_of;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    pub common_name: String,
    pub organizations: Vec<String>,
}

/// Why a client certificate is refused, in Go's x509 words (Kubernetes' messages).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("x509: certificate has expired or is not yet valid")]
    Expired,
    #[error("x509: certificate signed by unknown authority")]
    UnknownAuthority,
    #[error("x509: certificate specifies an incompatible key usage")]
    Usage,
    #[error("x509: malformed certificate: {0}")]
    Malformed(String),
}

#[derive(Clone)]
pub struct ClientVerifier {
    anchors: Arc<Vec<TrustAnchor<'static>>>,
}

impl std::fmt::Debug for ClientVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientVerifier")
            .field("anchors", &self.anchors.len())
            .finish()
    }
}

impl ClientVerifier {
    /// Trusts every certificate in `ca_pem` (a bundle is allowed).
    pub fn new(ca_pem: &str) -> Result<Self, Error> {
        let anchors = crate::pem::certificates(ca_pem)?
            .iter()
            .map(|der| {
                webpki::anchor_from_trusted_cert(der)
                    .map(|a| a.to_owned())
                    .map_err(|e| Error::Certificate(format!("CA certificate: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ClientVerifier {
            anchors: Arc::new(anchors),
        })
    }

    /// Verifies `chain` (leaf first, then any intermediates) at `now` for client auth, and
    /// returns the leaf's subject.
    pub fn verify(
        &self,
        chain: &[CertificateDer<'_>],
        now: SystemTime,
    ) -> Result<Subject, VerifyError> {
        let (leaf, intermediates) = chain
            .split_first()
            .ok_or_else(|| VerifyError::Malformed("no certificate".into()))?;
        let end_entity =
            EndEntityCert::try_from(leaf).map_err(|e| VerifyError::Malformed(e.to_string()))?;
        let since_epoch = now
            .duration_since(UNIX_EPOCH)
            .map_err(|_| VerifyError::Expired)?;
        end_entity
            .verify_for_usage(
                webpki::ALL_VERIFICATION_ALGS,
                &self.anchors,
                intermediates,
                UnixTime::since_unix_epoch(since_epoch),
                KeyUsage::client_auth(),
                None,
                None,
            )
            .map_err(classify)?;
        let cert =
            crate::inspect::parse_x509(leaf).map_err(|e| VerifyError::Malformed(e.to_string()))?;
        let (common_name, organizations) = subject_of(cert.subject());
        Ok(Subject {
            common_name,
            organizations,
        })
    }
}

/// webpki's reasons folded into Go's four answers.
// RequiredEkuNotFound is deprecated in favour of its Context variant but may still be returned.
#[allow(deprecated)]
fn classify(error: webpki::Error) -> VerifyError {
    use webpki::Error as E;
    match error {
        E::CertExpired { .. } | E::CertNotValidYet { .. } | E::InvalidCertValidity => {
            VerifyError::Expired
        }
        E::UnknownIssuer
        | E::InvalidSignatureForPublicKey
        | E::CertDistrusted
        | E::PathLenConstraintViolated
        | E::NameConstraintViolation
        | E::MaximumPathDepthExceeded
        | E::MaximumPathBuildCallsExceeded
        | E::MaximumSignatureChecksExceeded => VerifyError::UnknownAuthority,
        E::RequiredEkuNotFound
        | E::RequiredEkuNotFoundContext(_)
        | E::EmptyEkuExtension
        | E::CaUsedAsEndEntity => VerifyError::Usage,
        other => VerifyError::Malformed(format!("{other:?}")),
    }
}
