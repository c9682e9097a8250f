//! Stable chain names, derived as Kubernetes' iptables proxier derives them: the first 16
//! characters of the base32 (RFC 4648, upper case) encoding of a SHA-256 over the service
//! port's name and protocol (and, for an endpoint, its `ip:port`). The same service port
//! always gets the same chain, on every node and across restarts, which is what lets a sync
//! rewrite only the chains that changed.

use sha2::{Digest, Sha256};

/// `namespace/name` plus `:port-name` when the port is named (Kubernetes'
/// `ServicePortName.String()`).
pub fn service_port_name(namespace: &str, name: &str, port_name: &str) -> String {
    if port_name.is_empty() {
        format!("{namespace}/{name}")
    } else {
        format!("{namespace}/{name}:{port_name}")
    }
}

/// `KUBE-SVC-<hash>`: the service port's load-balancing chain. `protocol` is lower case.
pub fn service_chain(svc_port_name: &str, protocol: &str) -> String {
    format!("KUBE-SVC-{}", port_proto_hash(svc_port_name, protocol))
}

/// `KUBE-EXT-<hash>`: where external traffic (NodePort, external IPs) enters the service.
pub fn external_chain(svc_port_name: &str, protocol: &str) -> String {
    format!("KUBE-EXT-{}", port_proto_hash(svc_port_name, protocol))
}

/// `KUBE-SEP-<hash>`: one endpoint (`ip:port`) of one service port.
pub fn endpoint_chain(svc_port_name: &str, protocol: &str, endpoint: &str) -> String {
    let mut h = Sha256::new();
    h.update(svc_port_name.as_bytes());
    h.update(protocol.as_bytes());
    h.update(endpoint.as_bytes());
    format!("KUBE-SEP-{}", base32_16(&h.finalize()))
}

/// The nftables backend's name base for a service port, as Kubernetes' nftables proxier
/// spells it: `<hash8>-<namespace>/<name>/<protocol>/<port-name>`, where hash8 is the first
/// 8 base32 characters of the SHA-256 of the text after the dash. The readable part makes
/// `nft list table` legible; the hash keeps names distinct after truncation.
pub fn nft_service_base(namespace: &str, name: &str, protocol: &str, port_name: &str) -> String {
    nft_hashed(&format!("{namespace}/{name}/{protocol}/{port_name}"))
}

/// The name base of one endpoint of a service port (affinity chains and sets):
/// `<hash8>-<namespace>/<name>/<protocol>/<port-name>__<ip>/<port>`.
pub fn nft_endpoint_base(
    namespace: &str,
    name: &str,
    protocol: &str,
    port_name: &str,
    endpoint: &str,
) -> String {
    let ep = endpoint.replace(':', "/");
    nft_hashed(&format!("{namespace}/{name}/{protocol}/{port_name}__{ep}"))
}

fn nft_hashed(readable: &str) -> String {
    let mut h = Sha256::new();
    h.update(readable.as_bytes());
    let hash = base32_16(&h.finalize());
    format!("{}-{readable}", &hash[..8])
}

fn port_proto_hash(svc_port_name: &str, protocol: &str) -> String {
    let mut h = Sha256::new();
    h.update(svc_port_name.as_bytes());
    h.update(protocol.as_bytes());
    base32_16(&h.finalize())
}

/// The hash state after a service port's name and protocol: the service, external and
/// endpoint chain names of one service port all start from it, so rendering a service port
/// hashes its name once, not once per endpoint, and writes each name with one allocation.
pub struct PortHasher {
    state: Sha256,
    hash: [u8; 16],
}

impl PortHasher {
    pub fn new(svc_port_name: &str, protocol: &str) -> Self {
        let mut state = Sha256::new();
        state.update(svc_port_name.as_bytes());
        state.update(protocol.as_bytes());
        let mut hash = [0u8; 16];
        push_base32_16(&state.clone().finalize(), &mut hash);
        PortHasher { state, hash }
    }

    /// `<prefix><hash>`, e.g. `KUBE-SVC-` + 16 characters (same as `service_chain`).
    pub fn chain(&self, prefix: &str) -> String {
        let mut out = String::with_capacity(prefix.len() + 16);
        out.push_str(prefix);
        // The alphabet is ASCII.
        out.extend(self.hash.iter().map(|b| char::from(*b)));
        out
    }

    /// `KUBE-SEP-<hash>` of one endpoint (`ip:port`), as `endpoint_chain`.
    pub fn endpoint_chain(&self, endpoint: &str) -> String {
        let mut h = self.state.clone();
        h.update(endpoint.as_bytes());
        let mut hash = [0u8; 16];
        push_base32_16(&h.finalize(), &mut hash);
        let mut out = String::with_capacity(9 + 16);
        out.push_str("KUBE-SEP-");
        out.extend(hash.iter().map(|b| char::from(*b)));
        out
    }
}

/// The first 16 RFC 4648 base32 characters of `bytes` (10 bytes suffice), into `out`.
fn push_base32_16(bytes: &[u8], out: &mut [u8; 16]) {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut buffer: u64 = 0;
    let mut bits = 0u32;
    let mut n = 0;
    for &b in bytes {
        buffer = (buffer << 8) | u64::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out[n] = ALPHABET[((buffer >> bits) & 31) as usize];
            n += 1;
            if n == 16 {
                return;
            }
        }
    }
}

/// The first 16 characters of the RFC 4648 base32 encoding of `bytes` (10 bytes suffice).
fn base32_16(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::with_capacity(16);
    let mut buffer: u64 = 0;
    let mut bits = 0u32;
    for &b in bytes {
        buffer = (buffer << 8) | u64::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 31) as usize]));
            if out.len() == 16 {
                return out;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base32_matches_rfc4648_vectors() {
        // RFC 4648 section 10: BASE32("foobar") = "MZXW6YTBOI======".
        assert_eq!(base32_16(b"foobarfoobar"), "MZXW6YTBOJTG633C");
        assert_eq!(&base32_16(b"foobarfoobar")[..10], "MZXW6YTBOJ");
    }

    #[test]
    fn names_are_stable_distinct_and_kubernetes_shaped() {
        let a = service_chain("ns1/svc1:p80", "tcp");
        assert_eq!(a, service_chain("ns1/svc1:p80", "tcp"));
        assert_ne!(a, service_chain("ns1/svc1:p80", "udp"));
        assert_ne!(a, service_chain("ns1/svc1:p81", "tcp"));
        assert!(a.starts_with("KUBE-SVC-") && a.len() == 9 + 16, "{a}");
        assert_eq!(&external_chain("ns1/svc1:p80", "tcp")[9..], &a[9..]);
        let e1 = endpoint_chain("ns1/svc1:p80", "tcp", "10.0.0.1:80");
        let e2 = endpoint_chain("ns1/svc1:p80", "tcp", "10.0.0.2:80");
        assert_ne!(e1, e2);
        assert!(
            e1.len() <= 28,
            "iptables chain names are at most 28 characters"
        );
        // Kubernetes' own name for this service port (pkg/proxy/iptables/proxier_test.go
        // uses "KUBE-SVC-XPGD46QRK7WJZT7O" for ns1/svc1:p80 tcp).
        assert_eq!(a, "KUBE-SVC-XPGD46QRK7WJZT7O");
        assert_eq!(service_port_name("ns", "s", ""), "ns/s");
        let h = PortHasher::new("ns1/svc1:p80", "tcp");
        assert_eq!(h.chain("KUBE-SVC-"), a);
        assert_eq!(h.chain("KUBE-EXT-"), external_chain("ns1/svc1:p80", "tcp"));
        assert_eq!(h.endpoint_chain("10.0.0.1:80"), e1);
    }

    #[test]
    fn nft_names_are_hash_prefixed_and_readable() {
        let b = nft_service_base("ns1", "svc1", "tcp", "p80");
        assert!(b.ends_with("-ns1/svc1/tcp/p80"), "{b}");
        assert_eq!(b.len(), 8 + 1 + "ns1/svc1/tcp/p80".len());
        assert_ne!(b, nft_service_base("ns1", "svc1", "udp", "p80"));
        let e = nft_endpoint_base("ns1", "svc1", "tcp", "p80", "10.180.0.1:80");
        assert!(e.ends_with("-ns1/svc1/tcp/p80__10.180.0.1/80"), "{e}");
    }
}
