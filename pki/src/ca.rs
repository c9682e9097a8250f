//! The cluster certificate authority: ECDSA P-256, issues serving and client certificates
//! and signs CSRs (the controller-manager's signers and kubeadm's init phase).

use std::net::IpAddr;
use std::time::{Duration, SystemTime};

use rcgen::{
    BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, PKCS_ECDSA_P256_SHA256, PublicKeyData, SerialNumber, SubjectPublicKeyInfo,
};
use rustls_pki_types::CertificateDer;

use crate::Error;
use crate::names::{distinguished_name, san_types};

/// Clock skew allowance: certificates are valid from five minutes ago, as kubeadm's.
const BACKDATE: Duration = Duration::from_secs(5 * 60);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Usage {
    ServerAuth,
    ClientAuth,
}

#[derive(Debug, Clone)]
pub struct CertSpec {
    pub common_name: String,
    pub organizations: Vec<String>,
    pub dns_names: Vec<String>,
    pub ip_addresses: Vec<IpAddr>,
    pub usages: Vec<Usage>,
    /// not_before is now minus five minutes (clock skew), not_after now plus this.
    pub validity: Duration,
}

#[derive(Debug, Clone)]
pub struct Issued {
    pub cert_pem: String,
    pub key_pem: String,
}

pub struct Ca {
    cert_pem: String,
    key_pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl std::fmt::Debug for Ca {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ca").finish_non_exhaustive()
    }
}

impl Ca {
    /// A new self-signed CA with a fresh ECDSA P-256 key (kubeadm: CN "kubernetes", 10 years).
    pub fn generate(common_name: &str, validity: Duration) -> Result<Ca, Error> {
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
        let now = SystemTime::now();
        let mut params = CertificateParams::default();
        params.distinguished_name = distinguished_name(common_name, &[])?;
        // kubeadm puts the CA's name in its SANs too.
        params.subject_alt_names = san_types(&[common_name.to_string()], &[], &[], &[])?;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
            KeyUsagePurpose::KeyCertSign,
        ];
        params.not_before = (now - BACKDATE).into();
        params.not_after = (now + validity).into();
        params.serial_number = Some(random_serial());
        let cert = params.self_signed(&key)?;
        let cert_pem = cert.pem();
        let key_pem = key.serialize_pem();
        let issuer = Issuer::new(params, key);
        Ok(Ca {
            cert_pem,
            key_pem,
            issuer,
        })
    }

    /// A CA from its files. Refuses a certificate that is not a CA or a key that is not the
    /// certificate's.
    pub fn from_pem(cert_pem: &str, key_pem: &str) -> Result<Ca, Error> {
        let certs = crate::pem::certificates(cert_pem)?;
        let cert_der: &CertificateDer<'_> = &certs[0];
        let cert = crate::inspect::parse_x509(cert_der)?;
        let is_ca = cert
            .basic_constraints()
            .map_err(|e| Error::Certificate(format!("basic constraints: {e}")))?
            .is_some_and(|ext| ext.value.ca);
        if !is_ca {
            return Err(Error::Certificate("not a CA certificate".into()));
        }
        let key = KeyPair::try_from(&crate::pem::pkcs8_private_key(key_pem)?)
            .map_err(|e| Error::Key(e.to_string()))?;
        if key.subject_public_key_info() != cert.tbs_certificate.subject_pki.raw {
            return Err(Error::Key(
                "the private key does not match the CA certificate".into(),
            ));
        }
        let issuer = Issuer::from_ca_cert_der(cert_der, key)?;
        Ok(Ca {
            cert_pem: crate::pem::encode("CERTIFICATE", cert_der),
            key_pem: key_pem.to_string(),
            issuer,
        })
    }

    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    pub fn key_pem(&self) -> &str {
        &self.key_pem
    }

    /// A certificate for a fresh ECDSA P-256 key, valid from five minutes ago.
    pub fn issue(&self, spec: &CertSpec) -> Result<Issued, Error> {
        let now = SystemTime::now();
        self.issue_with_validity(spec, now - BACKDATE, now + spec.validity)
    }

    /// As [`Ca::issue`] with explicit dates (`spec.validity` ignored): tests make expired and
    /// not-yet-valid certificates with it.
    pub fn issue_with_validity(
        &self,
        spec: &CertSpec,
        not_before: SystemTime,
        not_after: SystemTime,
    ) -> Result<Issued, Error> {
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
        let params = leaf_params(
            &spec.common_name,
            &spec.organizations,
            san_types(&spec.dns_names, &spec.ip_addresses, &[], &[])?,
            &spec.usages,
            not_before,
            not_after,
        )?;
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok(Issued {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        })
    }

    /// Signs a PEM CSR (its signature checked): subject and SANs from the CSR, the usages and
    /// validity given here. Returns the certificate PEM.
    pub fn sign_csr(
        &self,
        csr_pem: &str,
        usages: &[Usage],
        validity: Duration,
    ) -> Result<String, Error> {
        let der = crate::pem::csr_der(csr_pem.as_bytes())?;
        let request = crate::csr::parse_verified(&der)?;
        let info = &request.info;
        let now = SystemTime::now();
        let params = leaf_params(
            &info.common_name,
            &info.organizations,
            san_types(
                &info.dns_names,
                &info.ip_addresses,
                &info.email_addresses,
                &info.uris,
            )?,
            usages,
            now - BACKDATE,
            now + validity,
        )?;
        let public_key = SubjectPublicKeyInfo::from_der(&request.spki_der)
            .map_err(|e| Error::Csr(format!("public key: {e}")))?;
        Ok(params.signed_by(&public_key, &self.issuer)?.pem())
    }
}

fn leaf_params(
    common_name: &str,
    organizations: &[String],
    sans: Vec<rcgen::SanType>,
    usages: &[Usage],
    not_before: SystemTime,
    not_after: SystemTime,
) -> Result<CertificateParams, Error> {
    let mut params = CertificateParams::default();
    params.distinguished_name = distinguished_name(common_name, organizations)?;
    params.subject_alt_names = sans;
    params.is_ca = IsCa::ExplicitNoCa;
    // kubeadm's leaf key usages, whatever the key type.
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = usages
        .iter()
        .map(|u| match u {
            Usage::ServerAuth => ExtendedKeyUsagePurpose::ServerAuth,
            Usage::ClientAuth => ExtendedKeyUsagePurpose::ClientAuth,
        })
        .collect();
    params.use_authority_key_identifier_extension = true;
    params.not_before = not_before.into();
    params.not_after = not_after.into();
    params.serial_number = Some(random_serial());
    Ok(params)
}

/// 128 random bits, positive (top bit clear) as RFC 5280 wants.
fn random_serial() -> SerialNumber {
    let mut bytes: [u8; 16] = rand::random();
    bytes[0] &= 0x7f;
    // A leading zero byte would make the DER integer non-minimal: keep it non-zero.
    bytes[0] |= 0x01;
    SerialNumber::from_slice(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inspect::parse_pem;
    use x509_parser::prelude::FromDer;

    const YEAR: Duration = Duration::from_secs(365 * 24 * 3600);

    fn spec(cn: &str, usages: &[Usage]) -> CertSpec {
        CertSpec {
            common_name: cn.into(),
            organizations: vec!["system:masters".into(), "devs".into()],
            dns_names: vec!["localhost".into(), "kubernetes.default.svc".into()],
            ip_addresses: vec!["127.0.0.1".parse().unwrap(), "::1".parse().unwrap()],
            usages: usages.to_vec(),
            validity: YEAR,
        }
    }

    /// (server auth, client auth) flags of the certificate's extended key usage.
    fn eku(cert_pem: &str) -> (bool, bool) {
        let der = crate::pem::certificates(cert_pem).unwrap().remove(0);
        let (_, cert) = x509_parser::certificate::X509Certificate::from_der(&der).unwrap();
        let eku = cert.extended_key_usage().unwrap().unwrap().value;
        (eku.server_auth, eku.client_auth)
    }

    fn near(a: SystemTime, b: SystemTime) -> bool {
        let d = a.duration_since(b).unwrap_or_else(|e| e.duration());
        d < Duration::from_secs(5)
    }

    #[test]
    fn generated_ca_is_a_ca_with_its_name() {
        let ca = Ca::generate("kubernetes", 10 * YEAR).unwrap();
        let info = parse_pem(ca.cert_pem()).unwrap().remove(0);
        assert!(info.is_ca);
        assert_eq!(info.common_name, "kubernetes");
        assert_eq!(info.dns_names, vec!["kubernetes".to_string()]);
        let now = SystemTime::now();
        assert!(near(info.not_before, now - BACKDATE));
        assert!(near(info.not_after, now + 10 * YEAR));
        assert!(ca.key_pem().contains("PRIVATE KEY"));
    }

    #[test]
    fn issued_certificate_carries_the_spec() {
        let ca = Ca::generate("kubernetes", YEAR).unwrap();
        let issued = ca
            .issue(&spec("kube-apiserver", &[Usage::ServerAuth]))
            .unwrap();
        let info = parse_pem(&issued.cert_pem).unwrap().remove(0);
        assert_eq!(info.common_name, "kube-apiserver");
        assert_eq!(info.organizations, vec!["system:masters", "devs"]);
        assert_eq!(info.dns_names, vec!["localhost", "kubernetes.default.svc"]);
        assert_eq!(info.ip_addresses, spec("", &[]).ip_addresses);
        assert!(!info.is_ca);
        let now = SystemTime::now();
        assert!(near(info.not_before, now - BACKDATE));
        assert!(near(info.not_after, now + YEAR));
        assert_eq!(eku(&issued.cert_pem), (true, false));
        let both = ca
            .issue(&spec("x", &[Usage::ServerAuth, Usage::ClientAuth]))
            .unwrap();
        assert_eq!(eku(&both.cert_pem), (true, true));
        // Each certificate gets its own key.
        let again = ca
            .issue(&spec("kube-apiserver", &[Usage::ServerAuth]))
            .unwrap();
        assert_ne!(again.key_pem, issued.key_pem);
    }

    #[test]
    fn explicit_validity_is_kept() {
        let ca = Ca::generate("kubernetes", YEAR).unwrap();
        let from = at(1_600_000_000);
        let to = at(1_600_086_400);
        let issued = ca
            .issue_with_validity(&spec("old", &[Usage::ClientAuth]), from, to)
            .unwrap();
        let info = parse_pem(&issued.cert_pem).unwrap().remove(0);
        assert_eq!(info.not_before, from);
        assert_eq!(info.not_after, to);
    }

    fn at(secs: u64) -> SystemTime {
        std::time::UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn ca_reloaded_from_pem_issues_certificates_the_original_verifies() {
        let ca = Ca::generate("kubernetes", YEAR).unwrap();
        let reloaded = Ca::from_pem(ca.cert_pem(), ca.key_pem()).unwrap();
        assert_eq!(reloaded.cert_pem(), ca.cert_pem());
        let issued = reloaded
            .issue(&spec("alice", &[Usage::ClientAuth]))
            .unwrap();
        let verifier = crate::verify::ClientVerifier::new(ca.cert_pem()).unwrap();
        let chain = crate::inspect::certs_from_pem(&issued.cert_pem).unwrap();
        let subject = verifier.verify(&chain, SystemTime::now()).unwrap();
        assert_eq!(subject.common_name, "alice");
    }

    #[test]
    fn from_pem_refuses_a_foreign_key_and_a_leaf() {
        let ca = Ca::generate("kubernetes", YEAR).unwrap();
        let other = Ca::generate("other", YEAR).unwrap();
        let err = Ca::from_pem(ca.cert_pem(), other.key_pem()).unwrap_err();
        assert!(err.to_string().contains("does not match"), "{err}");
        let leaf = ca.issue(&spec("leaf", &[Usage::ServerAuth])).unwrap();
        let err = Ca::from_pem(&leaf.cert_pem, &leaf.key_pem).unwrap_err();
        assert!(err.to_string().contains("not a CA"), "{err}");
        assert!(Ca::from_pem("garbage", ca.key_pem()).is_err());
        assert!(Ca::from_pem(ca.cert_pem(), "garbage").is_err());
    }

    #[test]
    fn sign_csr_takes_names_from_the_request_and_usages_from_the_signer() {
        let ca = Ca::generate("kubernetes", YEAR).unwrap();
        let (csr, key) = crate::csr::generate(
            "system:node:n1",
            &["system:nodes".into()],
            &["n1".into()],
            &["10.1.2.3".parse().unwrap()],
        )
        .unwrap();
        let cert = ca.sign_csr(&csr, &[Usage::ClientAuth], YEAR).unwrap();
        let info = parse_pem(&cert).unwrap().remove(0);
        assert_eq!(info.common_name, "system:node:n1");
        assert_eq!(info.organizations, vec!["system:nodes"]);
        assert_eq!(info.dns_names, vec!["n1"]);
        assert_eq!(
            info.ip_addresses,
            vec!["10.1.2.3".parse::<IpAddr>().unwrap()]
        );
        assert!(near(info.not_after, SystemTime::now() + YEAR));
        assert_eq!(eku(&cert), (false, true));
        // The certificate is for the requester's key: rustls accepts the pair.
        crate::tls::ClientIdentity::from_pem(&cert, &key).unwrap();
    }

    #[test]
    fn sign_csr_refuses_a_tampered_request() {
        let ca = Ca::generate("kubernetes", YEAR).unwrap();
        let (csr, _) = crate::csr::generate("alice", &[], &[], &[]).unwrap();
        let mut der = crate::pem::csr_der(csr.as_bytes()).unwrap();
        // Change one byte of the subject ("alice" -> "blice"): the signature no longer fits.
        let at = der.windows(5).position(|w| w == b"alice").unwrap();
        der[at] = b'b';
        let tampered = crate::pem::encode("CERTIFICATE REQUEST", &der);
        let err = ca
            .sign_csr(&tampered, &[Usage::ClientAuth], YEAR)
            .unwrap_err();
        assert!(err.to_string().contains("signature"), "{err}");
        assert!(ca.sign_csr("garbage", &[Usage::ClientAuth], YEAR).is_err());
    }
}
