//! Pod addresses: the node's podCIDR and the IPAM that hands its addresses out. Addresses
//! are persisted under the root dir, one file per address, created exclusively, so an
//! address is never handed out twice, also across kubelet restarts, and is released when
//! its pod goes.

use crate::error::{Error, Result};
use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// An IPv4 network (`10.244.1.0/24`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cidr {
    pub net: Ipv4Addr,
    pub prefix: u8,
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.net, self.prefix)
    }
}

impl std::str::FromStr for Cidr {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let bad = || Error::Config(format!("invalid CIDR {s:?}"));
        let (ip, p) = s.split_once('/').ok_or_else(bad)?;
        let ip: Ipv4Addr = ip.parse().map_err(|_| bad())?;
        let prefix: u8 = p.parse().map_err(|_| bad())?;
        if !(8..=30).contains(&prefix) {
            return Err(Error::Config(format!(
                "CIDR {s:?}: prefix must be /8 to /30"
            )));
        }
        let mask = u32::MAX << (32 - prefix);
        Ok(Cidr {
            net: Ipv4Addr::from(u32::from(ip) & mask),
            prefix,
        })
    }
}

impl Cidr {
    fn mask(&self) -> u32 {
        u32::MAX << (32 - self.prefix)
    }
    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        u32::from(ip) & self.mask() == u32::from(self.net)
    }
    /// The first host address: the bridge's.
    pub fn gateway(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.net) + 1)
    }
    /// The addresses pods may get: after the gateway, before the broadcast address.
    pub fn pod_range(&self) -> (u32, u32) {
        let net = u32::from(self.net);
        (net + 2, (net | !self.mask()) - 1)
    }
}

/// The order in which free addresses are tried: after the last one handed out, wrapping
/// around (as host-local IPAM does, so a released address is not reused at once).
pub fn candidates(cidr: Cidr, last: Option<Ipv4Addr>) -> impl Iterator<Item = Ipv4Addr> {
    let (first, end) = cidr.pod_range();
    let start = match last.map(u32::from) {
        Some(l) if l >= first && l < end => l + 1,
        _ => first,
    };
    (start..=end).chain(first..start).map(Ipv4Addr::from)
}

/// Address allocation persisted as one file per address holding the owner's pod uid.
#[derive(Debug)]
pub struct Ipam {
    dir: PathBuf,
    cidr: Cidr,
    lock: Mutex<()>,
}

impl Ipam {
    pub fn new(root: &Path, cidr: Cidr) -> Result<Self> {
        let dir = root
            .join("ipam")
            .join(format!("{}_{}", cidr.net, cidr.prefix));
        std::fs::create_dir_all(&dir)
            .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
        Ok(Ipam {
            dir,
            cidr,
            lock: Mutex::new(()),
        })
    }

    pub fn cidr(&self) -> Cidr {
        self.cidr
    }

    /// Every allocation: address -> pod uid.
    pub fn allocated(&self) -> BTreeMap<Ipv4Addr, String> {
        let mut out = BTreeMap::new();
        if let Ok(rd) = std::fs::read_dir(&self.dir) {
            for e in rd.flatten() {
                if let Ok(ip) = e.file_name().to_string_lossy().parse::<Ipv4Addr>() {
                    let uid = std::fs::read_to_string(e.path()).unwrap_or_default();
                    out.insert(ip, uid.trim().to_string());
                }
            }
        }
        out
    }

    pub fn lookup(&self, uid: &str) -> Option<Ipv4Addr> {
        self.allocated()
            .into_iter()
            .find(|(_, u)| u == uid)
            .map(|(ip, _)| ip)
    }

    /// The pod's address: the one it holds, else a free one (claimed by creating its file
    /// exclusively, so two claims of one address cannot both succeed).
    pub fn allocate(&self, uid: &str) -> Result<Ipv4Addr> {
        let _g = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(ip) = self.lookup(uid) {
            return Ok(ip);
        }
        let last_file = self.dir.join("last_reserved_ip");
        let last = std::fs::read_to_string(&last_file)
            .ok()
            .and_then(|s| s.trim().parse().ok());
        for ip in candidates(self.cidr, last) {
            let path = self.dir.join(ip.to_string());
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut f) => {
                    use std::io::Write;
                    f.write_all(uid.as_bytes())
                        .and_then(|()| f.sync_all())
                        .map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
                    let _ = std::fs::write(&last_file, ip.to_string());
                    return Ok(ip);
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(Error::io(format!("creating {}", path.display()), e)),
            }
        }
        Err(Error::Network(format!(
            "no free address left in {}",
            self.cidr
        )))
    }

    /// Frees whatever `uid` holds.
    pub fn release(&self, uid: &str) -> Result<()> {
        let _g = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        for (ip, owner) in self.allocated() {
            if owner == uid {
                let path = self.dir.join(ip.to_string());
                std::fs::remove_file(&path)
                    .map_err(|e| Error::io(format!("removing {}", path.display()), e))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cidr(s: &str) -> Cidr {
        s.parse().unwrap()
    }

    #[test]
    fn cidr_parses_and_normalizes() {
        let c = cidr("10.244.1.7/24");
        assert_eq!(c.to_string(), "10.244.1.0/24");
        assert_eq!(c.gateway(), Ipv4Addr::new(10, 244, 1, 1));
        assert!(c.contains(Ipv4Addr::new(10, 244, 1, 254)));
        assert!(!c.contains(Ipv4Addr::new(10, 244, 2, 1)));
        assert_eq!(
            c.pod_range(),
            (
                u32::from(Ipv4Addr::new(10, 244, 1, 2)),
                u32::from(Ipv4Addr::new(10, 244, 1, 254))
            )
        );
        assert!("10.0.0.0".parse::<Cidr>().is_err());
        assert!("10.0.0.0/31".parse::<Cidr>().is_err());
    }

    #[test]
    fn candidates_start_after_the_last_and_wrap() {
        let c = cidr("10.0.0.0/29"); // pods .2 to .6
        let v: Vec<String> = candidates(c, Some(Ipv4Addr::new(10, 0, 0, 4)))
            .map(|i| i.to_string())
            .collect();
        assert_eq!(
            v,
            ["10.0.0.5", "10.0.0.6", "10.0.0.2", "10.0.0.3", "10.0.0.4"]
        );
        assert_eq!(candidates(c, None).next(), Some(Ipv4Addr::new(10, 0, 0, 2)));
    }

    #[test]
    fn ipam_never_hands_out_an_address_twice_and_persists() {
        let d = tempfile::tempdir().unwrap();
        let c = cidr("10.9.0.0/29");
        let ipam = Ipam::new(d.path(), c).unwrap();
        let a = ipam.allocate("pod-a").unwrap();
        let b = ipam.allocate("pod-b").unwrap();
        assert_ne!(a, b);
        assert_eq!(ipam.allocate("pod-a").unwrap(), a, "idempotent per pod");
        // A second kubelet process (a restart) sees the same allocations.
        let again = Ipam::new(d.path(), c).unwrap();
        assert_eq!(again.lookup("pod-b"), Some(b));
        let cc = again.allocate("pod-c").unwrap();
        assert!(cc != a && cc != b);
        // Exhaustion: 5 pod addresses in a /29.
        again.allocate("pod-d").unwrap();
        again.allocate("pod-e").unwrap();
        let err = again.allocate("pod-f").unwrap_err().to_string();
        assert!(err.contains("no free address"), "{err}");
        again.release("pod-a").unwrap();
        assert_eq!(again.lookup("pod-a"), None);
        assert_eq!(
            again.allocate("pod-f").unwrap(),
            a,
            "a released address is reused"
        );
    }

    #[test]
    fn concurrent_allocations_get_distinct_addresses() {
        let d = tempfile::tempdir().unwrap();
        let c = cidr("10.9.0.0/24");
        let dir = d.path().to_path_buf();
        let handles: Vec<_> = (0..8)
            .map(|t| {
                let dir = dir.clone();
                // Separate Ipam values: only the exclusive file creation keeps them apart.
                std::thread::spawn(move || {
                    let ipam = Ipam::new(&dir, c).unwrap();
                    (0..10)
                        .map(|i| ipam.allocate(&format!("p{t}-{i}")).unwrap())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut all: Vec<Ipv4Addr> = handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect();
        let n = all.len();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), n, "no address given twice");
    }
}
