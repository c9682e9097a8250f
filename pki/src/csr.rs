//! Certificate signing requests: made by kubelets (client and serving certificates), read
//! and checked by the apiserver and the controller-manager's signer.

use std::net::IpAddr;

use rcgen::{CertificateParams, KeyPair, PKCS_ECDSA_P256_SHA256};
use x509_parser::certification_request::X509CertificationRequest;
use x509_parser::extensions::ParsedExtension;
use x509_parser::prelude::FromDer;

use crate::Error;
use crate::names::{Sans, distinguished_name, san_types, subject_of};

/// A fresh ECDSA P-256 key and a CSR for it: (CSR PEM, key PEM).
pub fn generate(
    common_name: &str,
    organizations: &[String],
    dns_names: &[String],
    ips: &[IpAddr],
) -> Result<(String, String), Error> {
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
    let mut params = CertificateParams::default();
    params.distinguished_name = distinguished_name(common_name, organizations)?;
    params.subject_alt_names = san_types(dns_names, ips, &[], &[])?;
    let csr = params.serialize_request(&key)?;
    Ok((csr.pem()?, key.serialize_pem()))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsrInfo {
    pub common_name: String,
    pub organizations: Vec<String>,
    pub dns_names: Vec<String>,
    pub ip_addresses: Vec<IpAddr>,
    pub email_addresses: Vec<String>,
    pub uris: Vec<String>,
}

/// What a CSR asks for; PEM or DER; refused unless its self-signature verifies (the
/// requester holds the key).
pub fn parse(csr_pem: &[u8]) -> Result<CsrInfo, Error> {
    let der = crate::pem::csr_der(csr_pem)?;
    Ok(parse_verified(&der)?.info)
}

/// A parsed CSR whose signature has been checked, with its public key for signing.
pub(crate) struct Verified {
    pub info: CsrInfo,
    /// The DER SubjectPublicKeyInfo.
    pub spki_der: Vec<u8>,
}

pub(crate) fn parse_verified(der: &[u8]) -> Result<Verified, Error> {
    let csr = match X509CertificationRequest::from_der(der) {
        Ok((rest, csr)) if rest.is_empty() => csr,
        Ok(_) => return Err(Error::Csr("trailing data after the request".into())),
        Err(e) => return Err(Error::Csr(e.to_string())),
    };
    csr.verify_signature()
        .map_err(|e| Error::Csr(format!("signature does not verify: {e}")))?;
    let request_info = &csr.certification_request_info;
    let (common_name, organizations) = subject_of(&request_info.subject);
    let mut sans = Sans::default();
    if let Some(extensions) = csr.requested_extensions() {
        for extension in extensions {
            if let ParsedExtension::SubjectAlternativeName(san) = extension {
                let more = Sans::from_general_names(&san.general_names).map_err(Error::Csr)?;
                sans.dns_names.extend(more.dns_names);
                sans.ip_addresses.extend(more.ip_addresses);
                sans.email_addresses.extend(more.email_addresses);
                sans.uris.extend(more.uris);
            }
        }
    }
    Ok(Verified {
        info: CsrInfo {
            common_name,
            organizations,
            dns_names: sans.dns_names,
            ip_addresses: sans.ip_addresses,
            email_addresses: sans.email_addresses,
            uris: sans.uris,
        },
        spki_der: request_info.subject_pki.raw.to_vec(),
    })
}
