//! The Service IP range (`--service-cidr`): parsing, membership, and choosing a free address.
//! IPv4 only, as the rest of the cluster.

use std::collections::HashSet;
use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use super::Error;

/// Kubernetes caps an IPv4 service range at /12 (a million addresses) so its bitmap stays
/// small; a /30 is the smallest that leaves an address to hand out.
const MIN_PREFIX: u8 = 12;
const MAX_PREFIX: u8 = 30;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Cidr {
    network: u32,
    prefix: u8,
}

impl Ipv4Cidr {
    /// Kubernetes' default service range, 10.96.0.0/12.
    pub const DEFAULT: Ipv4Cidr = Ipv4Cidr {
        network: u32::from_be_bytes([10, 96, 0, 0]),
        prefix: 12,
    };

    fn size(&self) -> u32 {
        1u32 << (32 - self.prefix)
    }

    fn broadcast(&self) -> u32 {
        self.network + (self.size() - 1)
    }

    /// Whether `ip` may be held by a Service: inside the range, neither its network nor
    /// its broadcast address.
    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        let ip = u32::from(ip);
        ip > self.network && ip < self.broadcast()
    }

    /// The address Kubernetes gives the `kubernetes` Service; never handed out dynamically.
    pub fn first(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.network + 1)
    }

    /// A free address for dynamic allocation, scanning from `start` (any number: taken
    /// modulo the number of candidates) and wrapping; `None` when every one is used.
    pub fn choose_free(&self, used: &HashSet<Ipv4Addr>, start: u32) -> Option<Ipv4Addr> {
        // Candidates: network+2 ..= broadcast-1.
        let base = self.network + 2;
        let count = self.size() - 3;
        (0..count)
            .map(|i| Ipv4Addr::from(base + (start % count + i) % count))
            .find(|ip| !used.contains(ip))
    }
}

impl fmt::Display for Ipv4Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", Ipv4Addr::from(self.network), self.prefix)
    }
}

impl FromStr for Ipv4Cidr {
    type Err = Error;

    /// `10.96.0.0/12`. Host bits are masked off, as Go's `net.ParseCIDR` does for
    /// Kubernetes.
    fn from_str(s: &str) -> Result<Self, Error> {
        let bad = |reason: String| Error::Cidr {
            value: s.to_string(),
            reason,
        };
        let (addr, prefix) = s
            .split_once('/')
            .ok_or_else(|| bad("expected an IPv4 CIDR such as 10.96.0.0/12".into()))?;
        let addr: Ipv4Addr = addr
            .parse()
            .map_err(|_| bad(format!("{addr:?} is not an IPv4 address")))?;
        let prefix: u8 = prefix
            .parse()
            .map_err(|_| bad(format!("{prefix:?} is not a prefix length")))?;
        if prefix > 32 {
            return Err(bad(format!("prefix length {prefix} is over 32")));
        }
        if prefix < MIN_PREFIX {
            return Err(bad(format!(
                "the range is too large: the prefix length must be at least {MIN_PREFIX}"
            )));
        }
        if prefix > MAX_PREFIX {
            return Err(bad(format!(
                "the range is too small: the prefix length must be at most {MAX_PREFIX}"
            )));
        }
        let mask = u32::MAX << (32 - prefix);
        Ok(Ipv4Cidr {
            network: u32::from(addr) & mask,
            prefix,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    #[test]
    fn parses_cidrs_and_refuses_bad_ones_with_the_cause() {
        let table: &[(&str, Result<&str, &str>)] = &[
            ("10.96.0.0/12", Ok("10.96.0.0/12")),
            ("10.96.0.1/12", Ok("10.96.0.0/12")),
            ("192.168.5.0/29", Ok("192.168.5.0/29")),
            ("10.96.0.0", Err("expected an IPv4 CIDR")),
            ("10.96.0/12", Err("is not an IPv4 address")),
            ("fd00::/108", Err("is not an IPv4 address")),
            ("10.96.0.0/x", Err("is not a prefix length")),
            ("10.96.0.0/33", Err("over 32")),
            ("10.0.0.0/8", Err("too large")),
            ("10.96.0.0/31", Err("too small")),
        ];
        for (input, want) in table {
            let got = input.parse::<Ipv4Cidr>();
            match (want, got) {
                (Ok(w), Ok(c)) => assert_eq!(c.to_string(), *w, "{input}"),
                (Err(w), Err(e)) => {
                    let msg = e.to_string();
                    assert!(msg.contains(w) && msg.contains(input), "{input}: {msg}");
                }
                (w, g) => panic!("{input}: want {w:?}, got {g:?}"),
            }
        }
    }

    #[test]
    fn membership_excludes_network_and_broadcast() {
        let c: Ipv4Cidr = "10.96.0.0/12".parse().unwrap();
        let table = [
            ("10.96.0.0", false),
            ("10.96.0.1", true),
            ("10.100.3.4", true),
            ("10.111.255.254", true),
            ("10.111.255.255", false),
            ("10.112.0.0", false),
            ("10.0.0.1", false),
        ];
        for (a, want) in table {
            assert_eq!(c.contains(ip(a)), want, "{a}");
        }
        assert_eq!(c.first(), ip("10.96.0.1"));
    }

    #[test]
    fn choosing_skips_used_and_reserved_addresses_and_reports_full() {
        let c: Ipv4Cidr = "10.0.0.0/29".parse().unwrap();
        let mut used = HashSet::new();
        let mut got = Vec::new();
        for start in 0..5 {
            let a = c.choose_free(&used, start * 7).expect("room left");
            assert!(c.contains(a) && a != c.first(), "{a}");
            assert!(used.insert(a), "{a} handed out twice");
            got.push(a);
        }
        got.sort();
        let want: Vec<Ipv4Addr> = (2..=6).map(|i| Ipv4Addr::new(10, 0, 0, i)).collect();
        assert_eq!(got, want);
        assert_eq!(c.choose_free(&used, 3), None);
    }

    #[test]
    fn choosing_wraps_around_from_the_start() {
        let c: Ipv4Cidr = "10.0.0.0/29".parse().unwrap();
        let used: HashSet<_> = [ip("10.0.0.5"), ip("10.0.0.6")].into();
        // Start at offset 3 (10.0.0.5): 5 and 6 are used, so it wraps to 10.0.0.2.
        assert_eq!(c.choose_free(&used, 3), Some(ip("10.0.0.2")));
    }
}
