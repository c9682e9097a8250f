//! Reading certificates: subject, names, validity, whether it is a CA.

use std::net::IpAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rustls_pki_types::CertificateDer;
use x509_parser::certificate::X509Certificate;
use x509_parser::prelude::FromDer;
use x509_parser::time::ASN1Time;

use crate::Error;
use crate::names::{Sans, subject_of};

#[derive(Debug, Clone)]
pub struct CertInfo {
    pub common_name: String,
    pub organizations: Vec<String>,
    pub dns_names: Vec<String>,
    pub ip_addresses: Vec<IpAddr>,
    pub not_before: SystemTime,
    pub not_after: SystemTime,
    pub is_ca: bool,
}

/// Every CERTIFICATE block of `pem`, in order (at least one).
pub fn parse_pem(pem: &str) -> Result<Vec<CertInfo>, Error> {
    certs_from_pem(pem)?
        .iter()
        .map(|der| parse_der(der))
        .collect()
}

pub fn parse_der(der: &[u8]) -> Result<CertInfo, Error> {
    let cert = parse_x509(der)?;
    let (common_name, organizations) = subject_of(cert.subject());
    let sans = match cert
        .subject_alternative_name()
        .map_err(|e| Error::Certificate(format!("subject alternative names: {e}")))?
    {
        Some(ext) => {
            Sans::from_general_names(&ext.value.general_names).map_err(Error::Certificate)?
        }
        None => Sans::default(),
    };
    let is_ca = cert
        .basic_constraints()
        .map_err(|e| Error::Certificate(format!("basic constraints: {e}")))?
        .is_some_and(|ext| ext.value.ca);
    Ok(CertInfo {
        common_name,
        organizations,
        dns_names: sans.dns_names,
        ip_addresses: sans.ip_addresses,
        not_before: system_time(cert.validity().not_before),
        not_after: system_time(cert.validity().not_after),
        is_ca,
    })
}

/// Every CERTIFICATE block of `pem` as DER, for rustls (at least one).
pub fn certs_from_pem(pem: &str) -> Result<Vec<CertificateDer<'static>>, Error> {
    crate::pem::certificates(pem)
}

/// A whole DER certificate, nothing after it.
pub(crate) fn parse_x509(der: &[u8]) -> Result<X509Certificate<'_>, Error> {
    match X509Certificate::from_der(der) {
        Ok(([], cert)) => Ok(cert),
        Ok(_) => Err(Error::Certificate(
            "trailing data after the certificate".into(),
        )),
        Err(e) => Err(Error::Certificate(e.to_string())),
    }
}

pub(crate) fn system_time(t: ASN1Time) -> SystemTime {
    let secs = t.timestamp();
    if secs >= 0 {
        UNIX_EPOCH + Duration::from_secs(secs.unsigned_abs())
    } else {
        UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ca::{Ca, CertSpec, Usage};

    #[test]
    fn every_block_of_a_chain_in_order() {
        let ca = Ca::generate("kubernetes", Duration::from_secs(3600)).unwrap();
        let leaf = ca
            .issue(&CertSpec {
                common_name: "kube-apiserver".into(),
                organizations: vec![],
                dns_names: vec!["kubernetes".into()],
                ip_addresses: vec!["10.96.0.1".parse().unwrap()],
                usages: vec![Usage::ServerAuth],
                validity: Duration::from_secs(3600),
            })
            .unwrap();
        let chain = format!("{}{}", leaf.cert_pem, ca.cert_pem());
        let infos = parse_pem(&chain).unwrap();
        assert_eq!(infos.len(), 2);
        assert_eq!(infos[0].common_name, "kube-apiserver");
        assert!(!infos[0].is_ca);
        assert_eq!(
            infos[0].ip_addresses,
            vec!["10.96.0.1".parse::<IpAddr>().unwrap()]
        );
        assert_eq!(infos[1].common_name, "kubernetes");
        assert!(infos[1].is_ca);
        assert!(infos[0].not_before < infos[0].not_after);
        assert_eq!(certs_from_pem(&chain).unwrap().len(), 2);
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(parse_pem("").is_err());
        assert!(parse_der(&[0x30, 0x03, 1, 2, 3]).is_err());
        let ca = Ca::generate("kubernetes", Duration::from_secs(3600)).unwrap();
        let mut der = certs_from_pem(ca.cert_pem()).unwrap().remove(0).to_vec();
        der.push(0);
        let err = parse_der(&der).unwrap_err();
        assert!(err.to_string().contains("trailing data"), "{err}");
    }
}
