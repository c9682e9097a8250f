//! Who may ask: the pod range (`--cluster-cidr`), the nodes (their InternalIPs, from the
//! apiserver), loopback, and `--allowed-client-cidrs`. Anyone else gets REFUSED, for the
//! cluster's names and for forwarded ones alike, so the server is neither an open resolver
//! (reflection, amplification, cache poisoning through it) nor a directory of the
//! cluster's Services for outsiders.

use crate::codec::{self, Header, Message, RCODE_REFUSED};
use crate::server::Outcome;
use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr};

/// An IPv4 network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Net {
    net: u32,
    prefix: u8,
}

impl Net {
    fn mask(&self) -> u32 {
        if self.prefix == 0 {
            0
        } else {
            u32::MAX << (32 - self.prefix)
        }
    }

    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        u32::from(ip) & self.mask() == self.net
    }
}

impl std::fmt::Display for Net {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", Ipv4Addr::from(self.net), self.prefix)
    }
}

impl std::str::FromStr for Net {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("{s:?} is not an IPv4 CIDR (a.b.c.d/n)");
        let (ip, p) = s.trim().split_once('/').ok_or_else(bad)?;
        let ip: Ipv4Addr = ip.parse().map_err(|_| bad())?;
        let prefix: u8 = p.parse().map_err(|_| bad())?;
        if prefix > 32 {
            return Err(bad());
        }
        let mut n = Net { net: 0, prefix };
        n.net = u32::from(ip) & n.mask();
        Ok(n)
    }
}

/// The clients this server answers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Acl {
    pub nets: Vec<Net>,
    pub nodes: BTreeSet<Ipv4Addr>,
}

impl Acl {
    pub fn allows(&self, client: IpAddr) -> bool {
        let v4 = match client {
            IpAddr::V4(ip) => ip,
            IpAddr::V6(ip) => match ip.to_ipv4_mapped() {
                Some(ip) => ip,
                None => return ip.is_loopback(),
            },
        };
        v4.is_loopback() || self.nodes.contains(&v4) || self.nets.iter().any(|n| n.contains(v4))
    }
}

/// The nodes' InternalIPs.
pub fn node_addresses<'a>(
    nodes: impl IntoIterator<Item = &'a proto::k8s::Node>,
) -> BTreeSet<Ipv4Addr> {
    nodes
        .into_iter()
        .filter_map(|n| n.status.as_ref())
        .flat_map(|s| s.addresses.iter())
        .filter(|a| a.r#type == "InternalIP")
        .filter_map(|a| a.address.parse().ok())
        .collect()
}

/// What a client outside the ACL gets: REFUSED for a query (so its resolver moves on at
/// once), nothing for what is not one.
pub fn refuse(packet: &[u8]) -> Outcome {
    let Some(id) = codec::peek_id(packet) else {
        return Outcome::Drop;
    };
    if packet.len() < 12 || packet[2] & 0x80 != 0 {
        return Outcome::Drop;
    }
    let questions = codec::decode_query(packet)
        .map(|q| q.questions)
        .unwrap_or_default();
    Outcome::Reply(Message {
        header: Header {
            id,
            qr: true,
            opcode: (packet[2] >> 3) & 0x0f,
            aa: false,
            tc: false,
            rd: packet[2] & 0x01 != 0,
            ra: false,
            rcode: RCODE_REFUSED,
        },
        questions,
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{TYPE_A, decode_response, query};

    #[test]
    fn pods_nodes_loopback_and_extra_ranges_only() {
        let acl = Acl {
            nets: vec![
                "10.244.0.0/16".parse().unwrap(),
                "172.17.0.0/16".parse().unwrap(),
            ],
            nodes: [Ipv4Addr::new(192, 168, 1, 5)].into_iter().collect(),
        };
        let cases: &[(&str, bool)] = &[
            ("10.244.3.7", true),
            ("10.245.0.1", false),
            ("172.17.0.2", true),
            ("192.168.1.5", true),
            ("192.168.1.6", false),
            ("127.0.0.1", true),
            ("127.8.9.1", true),
            ("8.8.8.8", false),
            ("::1", true),
            ("::ffff:10.244.0.9", true),
            ("::ffff:8.8.8.8", false),
            ("2001:db8::1", false),
        ];
        for (ip, want) in cases {
            assert_eq!(acl.allows(ip.parse().unwrap()), *want, "{ip}");
        }
        assert!(!Acl::default().allows("10.0.0.1".parse().unwrap()));
    }

    #[test]
    fn nets_parse_strictly() {
        let n: Net = "10.244.1.9/16".parse().unwrap();
        assert_eq!(n.to_string(), "10.244.0.0/16");
        assert!("10.244.0.0".parse::<Net>().is_err());
        assert!("10.244.0.0/33".parse::<Net>().is_err());
        assert!("x/8".parse::<Net>().is_err());
        let all: Net = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(Ipv4Addr::new(1, 2, 3, 4)));
    }

    #[test]
    fn refused_keeps_the_id_and_question() {
        let Outcome::Reply(m) = refuse(&query(42, "example.com", TYPE_A)) else {
            panic!("a query gets an answer")
        };
        let m = decode_response(&m.encode()).unwrap();
        assert_eq!(m.header.id, 42);
        assert_eq!(m.header.rcode, RCODE_REFUSED);
        assert!(m.answers.is_empty());
        assert_eq!(m.questions[0].name, "example.com");
        assert_eq!(refuse(&[1, 2, 3]), Outcome::Drop);
    }
}
