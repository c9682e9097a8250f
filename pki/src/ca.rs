//! The cluster certificate authority: ECDSA P-256, issues serving and client certificates
//! and signs CSRs (the controller-manager's signers and kubeadm's init phase).

use std::net::IpAddr;
use std::time::{Duration, SystemTime};

use rcgen::{
    BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, PKCS_ECDSA_P256_SHA256, SerialNumber, SubjectPublicKeyInfo,
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
        let key = KeyPair::from_pem(key_pem).map_err(|e| Error::Key(e.to_string()))?;
        use rcgen::PublicKeyData;
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
