//! The serving certificate of the endpoints when none is given: self-signed at start, as
//! Kubernetes' components make one without `--tls-cert-file`
//! (`GenerateSelfSignedCertKey`: a CA `<host>-ca@<unix time>` signing `<host>@<unix time>`
//! for a year; SANs 127.0.0.1 and either `localhost` or the specific bind address).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const VALIDITY: Duration = Duration::from_secs(365 * 24 * 3600);

/// The SANs of the certificate for a listener bound to `bind`.
pub fn alternate_names(bind: SocketAddr) -> (Vec<String>, Vec<IpAddr>) {
    let mut ips = vec![IpAddr::V4(Ipv4Addr::LOCALHOST)];
    let mut dns = vec![];
    if bind.ip().is_unspecified() {
        dns.push("localhost".to_string());
    } else if !ips.contains(&bind.ip()) {
        ips.push(bind.ip());
    }
    (dns, ips)
}

/// A fresh self-signed serving certificate (chain: leaf then its CA).
pub fn self_signed(bind: SocketAddr) -> Result<pki::tls::ServingCert, pki::Error> {
    let host = "localhost";
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let ca = pki::ca::Ca::generate(&format!("{host}-ca@{now}"), VALIDITY)?;
    let (dns_names, ip_addresses) = alternate_names(bind);
    let issued = ca.issue(&pki::ca::CertSpec {
        common_name: format!("{host}@{now}"),
        organizations: vec![],
        dns_names,
        ip_addresses,
        usages: vec![pki::ca::Usage::ServerAuth],
        validity: VALIDITY,
    })?;
    pki::tls::ServingCert::from_pem(
        &format!("{}{}", issued.cert_pem, ca.cert_pem()),
        &issued.key_pem,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_bind_address() {
        assert_eq!(
            alternate_names("0.0.0.0:10259".parse().unwrap()),
            (
                vec!["localhost".to_string()],
                vec!["127.0.0.1".parse().unwrap()]
            )
        );
        assert_eq!(
            alternate_names("10.0.0.5:10259".parse().unwrap()),
            (
                vec![],
                vec!["127.0.0.1".parse().unwrap(), "10.0.0.5".parse().unwrap()]
            )
        );
        assert_eq!(
            alternate_names("127.0.0.1:0".parse().unwrap()),
            (vec![], vec!["127.0.0.1".parse().unwrap()])
        );
        assert!(self_signed("127.0.0.1:0".parse().unwrap()).is_ok());
    }
}
