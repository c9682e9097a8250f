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
        Ok(([], csr)) => csr,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_request_parses_back() {
        let (csr, key) = generate(
            "system:node:n1",
            &["system:nodes".into(), "extra".into()],
            &["n1".into(), "n1.cluster".into()],
            &["10.0.0.5".parse().unwrap(), "fd00::5".parse().unwrap()],
        )
        .unwrap();
        assert!(csr.starts_with("-----BEGIN CERTIFICATE REQUEST-----"));
        assert!(key.contains("PRIVATE KEY"));
        let info = parse(csr.as_bytes()).unwrap();
        assert_eq!(
            info,
            CsrInfo {
                common_name: "system:node:n1".into(),
                organizations: vec!["system:nodes".into(), "extra".into()],
                dns_names: vec!["n1".into(), "n1.cluster".into()],
                ip_addresses: vec!["10.0.0.5".parse().unwrap(), "fd00::5".parse().unwrap()],
                email_addresses: vec![],
                uris: vec![],
            }
        );
        // DER works as well as PEM.
        let der = crate::pem::csr_der(csr.as_bytes()).unwrap();
        assert_eq!(parse(&der).unwrap(), info);
    }

    #[test]
    fn request_without_names_has_empty_lists() {
        let (csr, _) = generate("bob", &[], &[], &[]).unwrap();
        let info = parse(csr.as_bytes()).unwrap();
        assert_eq!(info.common_name, "bob");
        assert!(info.organizations.is_empty() && info.dns_names.is_empty());
        assert!(info.ip_addresses.is_empty());
    }

    #[test]
    fn bad_signature_and_garbage_are_refused() {
        let (csr, _) = generate("mallory", &[], &[], &[]).unwrap();
        let mut der = crate::pem::csr_der(csr.as_bytes()).unwrap();
        let last = der.len() - 1;
        der[last] ^= 0x01;
        let err = parse(&der).unwrap_err();
        assert!(
            err.to_string().contains("signature does not verify"),
            "{err}"
        );
        assert!(parse(b"not a request").is_err());
        assert!(
            parse(
                b"-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n"
            )
            .is_err()
        );
    }
}
