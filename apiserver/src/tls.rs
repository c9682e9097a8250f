//! The apiserver's transport: TLS serving (the certificate from `--tls-cert-file` or the
//! cluster PKI, client certificates requested but checked by authentication), the
//! development plaintext mode's guard, and the address advertised to the cluster.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error(
        "--insecure-plaintext serves without TLS or client certificates, so it is allowed only on a loopback --listen address, not {0}"
    )]
    PlaintextNotLoopback(SocketAddr),
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{what} {path}: {source}")]
    Pki {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: pki::Error,
    },
    #[error("--tls-cert-file and --tls-private-key-file go together")]
    HalfPair,
}

/// `--insecure-plaintext` is for development on one machine only.
pub fn check_plaintext(listen: SocketAddr) -> Result<(), TlsError> {
    if listen.ip().is_loopback() {
        Ok(())
    } else {
        Err(TlsError::PlaintextNotLoopback(listen))
    }
}

pub fn read(path: &Path) -> Result<String, TlsError> {
    std::fs::read_to_string(path).map_err(|source| TlsError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// The serving certificate: `cert_file` as given (leaf first, then any chain), else the
/// PKI's leaf followed by the CA so clients that pin only the CA see the whole chain.
pub fn serving_cert(
    cert_file: &Path,
    key_file: &Path,
    append_ca: Option<&str>,
) -> Result<pki::tls::ServingCert, TlsError> {
    let mut chain = read(cert_file)?;
    if let Some(ca) = append_ca {
        if !chain.ends_with('\n') {
            chain.push('\n');
        }
        chain.push_str(ca);
    }
    let key = read(key_file)?;
    pki::tls::ServingCert::from_pem(&chain, &key).map_err(|source| TlsError::Pki {
        what: "serving certificate",
        path: cert_file.to_path_buf(),
        source,
    })
}

/// ALPN for gRPC and HTTP/2 clients.
pub const ALPN_H2: &[u8] = b"h2";
/// ALPN for HTTP/1.1 clients (kubectl's WebSocket and SPDY exec, curl --http1.1).
pub const ALPN_HTTP11: &[u8] = b"http/1.1";

/// The default `--advertise-address`: the listen IP when it is specific and not loopback,
/// else the first global IPv4 address of the host's interfaces, else loopback.
pub fn default_advertise_address(listen: IpAddr, host_addresses: &[IpAddr]) -> IpAddr {
    if !listen.is_unspecified() && !listen.is_loopback() {
        return listen;
    }
    host_addresses
        .iter()
        .copied()
        .find(|ip| is_global_v4(*ip))
        .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))
}

fn is_global_v4(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            !(v4.is_loopback()
                || v4.is_unspecified()
                || v4.is_link_local()
                || v4.is_multicast()
                || v4.is_broadcast())
        }
        IpAddr::V6(_) => false,
    }
}

/// The IPv4 addresses of the host's interfaces that are up, in the kernel's order.
pub fn host_addresses() -> Vec<IpAddr> {
    use nix::net::if_::InterfaceFlags;
    let Ok(addrs) = nix::ifaddrs::getifaddrs() else {
        return Vec::new();
    };
    addrs
        .filter(|a| a.flags.contains(InterfaceFlags::IFF_UP))
        .filter_map(|a| {
            a.address
                .as_ref()
                .and_then(|s| s.as_sockaddr_in().map(|s| IpAddr::V4(s.ip())))
        })
        .collect()
}

/// The host's name, for the serving certificate's SANs.
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn advertise_address_defaults() {
        let host = [
            ip("127.0.0.1"),
            ip("169.254.1.1"),
            ip("10.0.0.7"),
            ip("172.17.0.1"),
        ];
        assert_eq!(
            default_advertise_address(ip("192.0.2.1"), &host),
            ip("192.0.2.1")
        );
        assert_eq!(
            default_advertise_address(ip("0.0.0.0"), &host),
            ip("10.0.0.7")
        );
        assert_eq!(
            default_advertise_address(ip("127.0.0.1"), &host),
            ip("10.0.0.7")
        );
        assert_eq!(
            default_advertise_address(ip("0.0.0.0"), &[ip("127.0.0.1")]),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn plaintext_only_on_loopback() {
        assert!(check_plaintext("127.0.0.1:6443".parse().unwrap()).is_ok());
        assert!(check_plaintext("[::1]:6443".parse().unwrap()).is_ok());
        let e = check_plaintext("0.0.0.0:6443".parse().unwrap()).unwrap_err();
        assert!(e.to_string().contains("loopback"), "{e}");
        assert!(check_plaintext("10.0.0.1:6443".parse().unwrap()).is_err());
    }

    #[test]
    fn host_addresses_include_loopback_when_up() {
        // Every test machine has lo up with 127.0.0.1.
        assert!(host_addresses().contains(&ip("127.0.0.1")));
    }
}
