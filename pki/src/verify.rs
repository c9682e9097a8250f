//! Client certificate chains, checked after the handshake as kube-apiserver's x509
//! authenticator does: signed by the client CA, valid now, usable for client auth. The
//! subject becomes the user (CN) and groups (O).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
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
    /// Chains already verified, by their DER bytes: a client sends the same chain with
    /// every request of a connection, and an ECDSA verification per request cost a
    /// quarter of the apiserver's throughput (`cargo bench -p apiserver --bench auth`).
    verified: Arc<Mutex<HashMap<Vec<u8>, Verified>>>,
}

/// A chain that verified, and the window in which that answer holds (the intersection of
/// its certificates' validity; the anchors never change for one verifier).
#[derive(Clone)]
struct Verified {
    subject: Subject,
    not_before: SystemTime,
    not_after: SystemTime,
}

/// Bounds the cache; past it the cache starts over (clients are few and long-lived).
const MAX_CACHED_CHAINS: usize = 4096;

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
            verified: Arc::default(),
        })
    }

    /// Verifies `chain` (leaf first, then any intermediates) at `now` for client auth, and
    /// returns the leaf's subject.
    pub fn verify(
        &self,
        chain: &[CertificateDer<'_>],
        now: SystemTime,
    ) -> Result<Subject, VerifyError> {
        let key = chain_key(chain);
        if let Some(v) = self.cached(&key)
            && now >= v.not_before
            && now <= v.not_after
        {
            return Ok(v.subject);
        }
        let subject = self.verify_uncached(chain, now)?;
        if let Some((not_before, not_after)) = chain_validity(chain) {
            let mut verified = self.verified.lock().unwrap_or_else(|p| p.into_inner());
            if verified.len() >= MAX_CACHED_CHAINS {
                verified.clear();
            }
            verified.insert(
                key,
                Verified {
                    subject: subject.clone(),
                    not_before,
                    not_after,
                },
            );
        }
        Ok(subject)
    }

    fn cached(&self, key: &[u8]) -> Option<Verified> {
        let verified = self.verified.lock().unwrap_or_else(|p| p.into_inner());
        verified.get(key).cloned()
    }

    fn verify_uncached(
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

/// The chain's certificates, each prefixed by its length, as one cache key.
fn chain_key(chain: &[CertificateDer<'_>]) -> Vec<u8> {
    let mut key = Vec::with_capacity(chain.iter().map(|c| c.len() + 4).sum());
    for cert in chain {
        key.extend_from_slice(&(cert.len() as u32).to_be_bytes());
        key.extend_from_slice(cert);
    }
    key
}

/// The latest notBefore and earliest notAfter of the chain's certificates.
fn chain_validity(chain: &[CertificateDer<'_>]) -> Option<(SystemTime, SystemTime)> {
    let mut window: Option<(SystemTime, SystemTime)> = None;
    for cert in chain {
        let info = crate::inspect::parse_der(cert).ok()?;
        window = Some(match window {
            None => (info.not_before, info.not_after),
            Some((b, a)) => (b.max(info.not_before), a.min(info.not_after)),
        });
    }
    window
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ca::{Ca, CertSpec, Issued, Usage};
    use std::time::Duration;

    const HOUR: Duration = Duration::from_secs(3600);

    fn spec(usages: &[Usage]) -> CertSpec {
        CertSpec {
            common_name: "alice".into(),
            organizations: vec!["devs".into(), "system:authenticated-ish".into()],
            dns_names: vec![],
            ip_addresses: vec![],
            usages: usages.to_vec(),
            validity: HOUR,
        }
    }

    fn chain(issued: &Issued) -> Vec<CertificateDer<'static>> {
        crate::inspect::certs_from_pem(&issued.cert_pem).unwrap()
    }

    #[test]
    fn client_certificate_of_the_ca_gives_its_subject() {
        let ca = Ca::generate("kubernetes", HOUR).unwrap();
        let verifier = ClientVerifier::new(ca.cert_pem()).unwrap();
        let issued = ca.issue(&spec(&[Usage::ClientAuth])).unwrap();
        let subject = verifier.verify(&chain(&issued), SystemTime::now()).unwrap();
        assert_eq!(
            subject,
            Subject {
                common_name: "alice".into(),
                organizations: vec!["devs".into(), "system:authenticated-ish".into()],
            }
        );
        // A chain that also carries the CA (as servers send it) verifies too.
        let mut with_ca = chain(&issued);
        with_ca.extend(crate::inspect::certs_from_pem(ca.cert_pem()).unwrap());
        assert!(verifier.verify(&with_ca, SystemTime::now()).is_ok());
        // Both usages are fine for a client.
        let both = ca
            .issue(&spec(&[Usage::ServerAuth, Usage::ClientAuth]))
            .unwrap();
        assert!(verifier.verify(&chain(&both), SystemTime::now()).is_ok());
    }

    #[test]
    fn another_ca_is_an_unknown_authority() {
        let ca = Ca::generate("kubernetes", HOUR).unwrap();
        let other = Ca::generate("kubernetes", HOUR).unwrap();
        let verifier = ClientVerifier::new(ca.cert_pem()).unwrap();
        let issued = other.issue(&spec(&[Usage::ClientAuth])).unwrap();
        let err = verifier
            .verify(&chain(&issued), SystemTime::now())
            .unwrap_err();
        assert_eq!(err, VerifyError::UnknownAuthority);
        assert_eq!(
            err.to_string(),
            "x509: certificate signed by unknown authority"
        );
        // Whether or not the foreign CA happens to share the trusted CA's name.
        let stranger = Ca::generate("stranger", HOUR).unwrap();
        let issued = stranger.issue(&spec(&[Usage::ClientAuth])).unwrap();
        let err = verifier
            .verify(&chain(&issued), SystemTime::now())
            .unwrap_err();
        assert_eq!(err, VerifyError::UnknownAuthority);
    }

    #[test]
    fn a_bundle_trusts_each_of_its_cas() {
        let a = Ca::generate("a", HOUR).unwrap();
        let b = Ca::generate("b", HOUR).unwrap();
        let verifier = ClientVerifier::new(&format!("{}{}", a.cert_pem(), b.cert_pem())).unwrap();
        for ca in [&a, &b] {
            let issued = ca.issue(&spec(&[Usage::ClientAuth])).unwrap();
            assert!(verifier.verify(&chain(&issued), SystemTime::now()).is_ok());
        }
    }

    #[test]
    fn expired_and_not_yet_valid_certificates_are_expired() {
        let ca = Ca::generate("kubernetes", HOUR).unwrap();
        let verifier = ClientVerifier::new(ca.cert_pem()).unwrap();
        let now = SystemTime::now();
        let expired = ca
            .issue_with_validity(&spec(&[Usage::ClientAuth]), now - 2 * HOUR, now - HOUR)
            .unwrap();
        let err = verifier.verify(&chain(&expired), now).unwrap_err();
        assert_eq!(err, VerifyError::Expired);
        assert_eq!(
            err.to_string(),
            "x509: certificate has expired or is not yet valid"
        );
        let future = ca
            .issue_with_validity(&spec(&[Usage::ClientAuth]), now + HOUR, now + 2 * HOUR)
            .unwrap();
        assert_eq!(
            verifier.verify(&chain(&future), now).unwrap_err(),
            VerifyError::Expired
        );
        // The same certificate is fine at a time inside its validity.
        assert!(
            verifier
                .verify(&chain(&future), now + 90 * 60 * Duration::from_secs(1))
                .is_ok()
        );
    }

    #[test]
    fn a_verified_chain_is_remembered_only_inside_its_validity() {
        let ca = Ca::generate("kubernetes", 4 * HOUR).unwrap();
        let verifier = ClientVerifier::new(ca.cert_pem()).unwrap();
        let now = SystemTime::now();
        let issued = ca
            .issue_with_validity(&spec(&[Usage::ClientAuth]), now - HOUR, now + HOUR)
            .unwrap();
        let subject = verifier.verify(&chain(&issued), now).unwrap();
        assert_eq!(verifier.verified.lock().unwrap().len(), 1);
        // A clone shares what is known, and answers the same.
        assert_eq!(
            verifier.clone().verify(&chain(&issued), now).unwrap(),
            subject
        );
        // Past the certificate's notAfter the remembered answer does not count.
        assert_eq!(
            verifier
                .verify(&chain(&issued), now + 2 * HOUR)
                .unwrap_err(),
            VerifyError::Expired
        );
        // Refusals are not remembered: another CA's certificate is refused every time.
        let other = Ca::generate("kubernetes", HOUR).unwrap();
        let foreign = other.issue(&spec(&[Usage::ClientAuth])).unwrap();
        for _ in 0..2 {
            assert_eq!(
                verifier.verify(&chain(&foreign), now).unwrap_err(),
                VerifyError::UnknownAuthority
            );
        }
        assert_eq!(verifier.verified.lock().unwrap().len(), 1);
    }

    #[test]
    fn a_serving_certificate_is_not_a_client_certificate() {
        let ca = Ca::generate("kubernetes", HOUR).unwrap();
        let verifier = ClientVerifier::new(ca.cert_pem()).unwrap();
        let server_only = ca.issue(&spec(&[Usage::ServerAuth])).unwrap();
        let err = verifier
            .verify(&chain(&server_only), SystemTime::now())
            .unwrap_err();
        assert_eq!(err, VerifyError::Usage);
        assert_eq!(
            err.to_string(),
            "x509: certificate specifies an incompatible key usage"
        );
    }

    #[test]
    fn the_ca_itself_is_not_a_client() {
        let ca = Ca::generate("kubernetes", HOUR).unwrap();
        let verifier = ClientVerifier::new(ca.cert_pem()).unwrap();
        let ca_chain = crate::inspect::certs_from_pem(ca.cert_pem()).unwrap();
        assert_eq!(
            verifier.verify(&ca_chain, SystemTime::now()).unwrap_err(),
            VerifyError::Usage
        );
    }

    #[test]
    fn no_or_garbage_certificate_is_malformed() {
        let ca = Ca::generate("kubernetes", HOUR).unwrap();
        let verifier = ClientVerifier::new(ca.cert_pem()).unwrap();
        assert!(matches!(
            verifier.verify(&[], SystemTime::now()),
            Err(VerifyError::Malformed(_))
        ));
        let garbage = CertificateDer::from(vec![0x30, 0x03, 1, 2, 3]);
        let err = verifier.verify(&[garbage], SystemTime::now()).unwrap_err();
        assert!(matches!(err, VerifyError::Malformed(_)), "{err:?}");
        assert!(err.to_string().starts_with("x509: malformed certificate: "));
        assert!(ClientVerifier::new("no pem").is_err());
    }
}
