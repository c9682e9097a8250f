//! What the kubelet asks for in its CertificateSigningRequests (Kubernetes' kubelet and the
//! csrapprover's expectations): pure, so the shape is checked without an apiserver.

use std::net::IpAddr;

/// Signer of the kubelet's client certificate (bootstrap and renewal).
pub const CLIENT_SIGNER: &str = "kubernetes.io/kube-apiserver-client-kubelet";
/// Signer of the kubelet's serving certificate.
pub const SERVING_SIGNER: &str = "kubernetes.io/kubelet-serving";
/// The group of every node identity.
pub const NODES_GROUP: &str = "system:nodes";

/// The subject, SANs, signer and usages of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsrShape {
    pub common_name: String,
    pub organizations: Vec<String>,
    pub dns_names: Vec<String>,
    pub ip_addresses: Vec<IpAddr>,
    pub signer_name: &'static str,
    pub usages: Vec<&'static str>,
}

/// `system:node:<name>`, the user a node authenticates as.
pub fn node_user(node_name: &str) -> String {
    format!("system:node:{node_name}")
}

/// The client certificate: CN `system:node:<name>`, O `system:nodes`, no SANs (the
/// csrapprover refuses a kubelet client CSR with any).
pub fn client(node_name: &str) -> CsrShape {
    CsrShape {
        common_name: node_user(node_name),
        organizations: vec![NODES_GROUP.to_string()],
        dns_names: Vec::new(),
        ip_addresses: Vec::new(),
        signer_name: CLIENT_SIGNER,
        usages: vec!["digital signature", "key encipherment", "client auth"],
    }
}

/// The serving certificate: same subject, DNS SAN = the node name, IP SANs = the node's
/// addresses (each must be among the Node's status.addresses for the approver).
pub fn serving(node_name: &str, ips: &[IpAddr]) -> CsrShape {
    let mut ip_addresses: Vec<IpAddr> = Vec::new();
    for ip in ips {
        if !ip.is_unspecified() && !ip_addresses.contains(ip) {
            ip_addresses.push(*ip);
        }
    }
    CsrShape {
        common_name: node_user(node_name),
        organizations: vec![NODES_GROUP.to_string()],
        dns_names: vec![node_name.to_string()],
        ip_addresses,
        signer_name: SERVING_SIGNER,
        usages: vec!["digital signature", "key encipherment", "server auth"],
    }
}

/// A fresh CSR object name: `node-csr-<random>` for the bootstrap request (kubeadm's
/// prefix), `csr-<random>` for renewals (client-go's generateName).
pub fn object_name(bootstrap: bool) -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut rng = rand::rng();
    let suffix: String = (0..10)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect();
    if bootstrap {
        format!("node-csr-{suffix}")
    } else {
        format!("csr-{suffix}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_request_is_what_the_approver_accepts() {
        let s = client("node-a");
        assert_eq!(s.common_name, "system:node:node-a");
        assert_eq!(s.organizations, vec!["system:nodes".to_string()]);
        assert!(s.dns_names.is_empty() && s.ip_addresses.is_empty());
        assert_eq!(s.signer_name, "kubernetes.io/kube-apiserver-client-kubelet");
        assert!(s.usages.contains(&"client auth"));
        assert!(!s.usages.contains(&"server auth"));
    }

    #[test]
    fn serving_request_names_the_node_and_its_addresses_once() {
        let ip: IpAddr = "10.0.0.7".parse().unwrap();
        let s = serving("node-a", &[ip, ip, "0.0.0.0".parse().unwrap()]);
        assert_eq!(s.common_name, "system:node:node-a");
        assert_eq!(s.dns_names, vec!["node-a".to_string()]);
        assert_eq!(s.ip_addresses, vec![ip]);
        assert_eq!(s.signer_name, "kubernetes.io/kubelet-serving");
        assert!(s.usages.contains(&"server auth"));
        assert!(!s.usages.contains(&"client auth"));
    }

    #[test]
    fn object_names_are_distinct_dns_labels() {
        let a = object_name(true);
        let b = object_name(true);
        assert!(a.starts_with("node-csr-") && a.len() == 19, "{a}");
        assert_ne!(a, b);
        assert!(object_name(false).starts_with("csr-"));
        assert!(
            a.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        );
    }
}
