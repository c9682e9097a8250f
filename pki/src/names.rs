//! Subjects and subject alternative names, both ways: into rcgen parameters when issuing,
//! out of x509-parser structures when reading.

use std::net::IpAddr;

use rcgen::string::Ia5String;
use rcgen::{DistinguishedName, DnType, DnValue, SanType};
use x509_parser::extensions::GeneralName;
use x509_parser::x509::X509Name;

use crate::Error;

/// rcgen keeps one value per attribute type, so a second organization goes in under the same
/// OID spelled as a custom type (the DER is identical); a third has nowhere to go.
const ORGANIZATION_OID: [u64; 4] = [2, 5, 4, 10];

/// The subject "O=<org>..., CN=<cn>" (Go's attribute order, as kubeadm's certificates show).
pub(crate) fn distinguished_name(
    common_name: &str,
    organizations: &[String],
) -> Result<DistinguishedName, Error> {
    let mut dn = DistinguishedName::new();
    match organizations {
        [] => {}
        [one] => dn.push(DnType::OrganizationName, utf8(one)),
        [first, second] => {
            dn.push(DnType::OrganizationName, utf8(first));
            dn.push(
                DnType::CustomDnType(ORGANIZATION_OID.to_vec()),
                utf8(second),
            );
        }
        more => {
            return Err(Error::Unsupported(format!(
                "at most 2 organizations in a subject, got {}",
                more.len()
            )));
        }
    }
    if !common_name.is_empty() {
        dn.push(DnType::CommonName, utf8(common_name));
    }
    Ok(dn)
}

fn utf8(s: &str) -> DnValue {
    DnValue::Utf8String(s.to_string())
}

/// Subject alternative names in the order DNS, IP, email, URI.
pub(crate) fn san_types(
    dns_names: &[String],
    ips: &[IpAddr],
    emails: &[String],
    uris: &[String],
) -> Result<Vec<SanType>, Error> {
    let ia5 = |s: &String| {
        Ia5String::try_from(s.as_str()).map_err(|e| Error::Name {
            name: s.clone(),
            reason: e.to_string(),
        })
    };
    let mut sans = Vec::new();
    for name in dns_names {
        sans.push(SanType::DnsName(ia5(name)?));
    }
    sans.extend(ips.iter().copied().map(SanType::IpAddress));
    for email in emails {
        sans.push(SanType::Rfc822Name(ia5(email)?));
    }
    for uri in uris {
        sans.push(SanType::URI(ia5(uri)?));
    }
    Ok(sans)
}

/// (common name, organizations) as Kubernetes reads a subject: the last CN (Go's
/// `pkix.Name` keeps the last one), every O in order. Values that are not strings are skipped.
pub(crate) fn subject_of(name: &X509Name<'_>) -> (String, Vec<String>) {
    let common_name = name
        .iter_common_name()
        .filter_map(|a| a.as_str().ok())
        .last()
        .unwrap_or_default()
        .to_string();
    let organizations = name
        .iter_organization()
        .filter_map(|a| a.as_str().ok())
        .map(str::to_string)
        .collect();
    (common_name, organizations)
}

/// Subject alternative names sorted by kind.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Sans {
    pub dns_names: Vec<String>,
    pub ip_addresses: Vec<IpAddr>,
    pub email_addresses: Vec<String>,
    pub uris: Vec<String>,
}

impl Sans {
    pub(crate) fn from_general_names(names: &[GeneralName<'_>]) -> Result<Sans, String> {
        let mut sans = Sans::default();
        for name in names {
            match name {
                GeneralName::DNSName(n) => sans.dns_names.push(n.to_string()),
                GeneralName::RFC822Name(n) => sans.email_addresses.push(n.to_string()),
                GeneralName::URI(n) => sans.uris.push(n.to_string()),
                GeneralName::IPAddress(bytes) => sans.ip_addresses.push(ip_from_bytes(bytes)?),
                // Other kinds (directory names, other names) carry no identity we use.
                _ => {}
            }
        }
        Ok(sans)
    }
}

fn ip_from_bytes(bytes: &[u8]) -> Result<IpAddr, String> {
    if let Ok(v4) = <[u8; 4]>::try_from(bytes) {
        return Ok(IpAddr::from(v4));
    }
    if let Ok(v6) = <[u8; 16]>::try_from(bytes) {
        return Ok(IpAddr::from(v6));
    }
    Err(format!("IP address SAN of {} bytes", bytes.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_organizations_are_refused() {
        let orgs = ["a", "b", "c"].map(String::from);
        let err = distinguished_name("x", &orgs).unwrap_err();
        assert!(err.to_string().contains("at most 2 organizations"), "{err}");
        assert!(distinguished_name("x", &orgs[..2]).is_ok());
    }

    #[test]
    fn non_ascii_dns_name_is_refused() {
        let err = san_types(&["bücher.example".into()], &[], &[], &[]).unwrap_err();
        assert!(err.to_string().contains("bücher.example"), "{err}");
    }

    #[test]
    fn ip_sans_of_both_families() {
        assert_eq!(
            ip_from_bytes(&[10, 0, 0, 1]).unwrap().to_string(),
            "10.0.0.1"
        );
        let mut v6 = [0u8; 16];
        v6[15] = 1;
        assert_eq!(ip_from_bytes(&v6).unwrap().to_string(), "::1");
        assert!(ip_from_bytes(&[1, 2, 3]).is_err());
    }
}
