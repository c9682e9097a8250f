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
        Ok((rest, cert)) if rest.is_empty() => Ok(cert),
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
