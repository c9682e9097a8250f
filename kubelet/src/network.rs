//! The pod network, made with rtnetlink (no `ip` commands): a bridge per node holding the
//! gateway address of the node's podCIDR, a veth pair per pod whose inner end is moved into
//! the sandbox's network namespace (`/proc/<pause pid>/ns/net`) as `eth0` with an address
//! from the podCIDR and a default route via the gateway, and routes to other nodes'
//! podCIDRs via their node IPs. Addresses come from `Ipam`, persisted under the root dir:
//! one file per address, created exclusively, so an address is never handed out twice, also
//! across kubelet restarts, and is released when its pod goes.

use crate::error::{Error, Result};
use crate::worker::PodNetwork;
use futures::TryStreamExt;
use futures::future::BoxFuture;
use rtnetlink::{Handle, LinkBridge, LinkUnspec, LinkVeth, RouteMessageBuilder};
use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use tokio::task::JoinHandle;

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

/// Routes this node installs to other nodes' pods, and the Node objects it ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoutePlan {
    pub routes: BTreeMap<Cidr, Ipv4Addr>,
    /// (node, why its podCIDR gets no route).
    pub ignored: Vec<(String, String)>,
}

/// A podCIDR exactly as the node IPAM controller writes it: `a.b.c.d/n` with no host bits.
fn strict_cidr(s: &str) -> std::result::Result<Cidr, String> {
    let c: Cidr = s.parse().map_err(|e: Error| e.to_string())?;
    let ip: Ipv4Addr = s
        .split_once('/')
        .and_then(|(ip, _)| ip.parse().ok())
        .ok_or_else(|| format!("invalid CIDR {s:?}"))?;
    if ip != c.net {
        return Err(format!("podCIDR {s} has host bits set"));
    }
    Ok(c)
}

fn overlaps(a: Cidr, b: Cidr) -> bool {
    a.contains(b.net) || b.contains(a.net)
}

/// Which other nodes' podCIDRs get a route, and via what. A Node object is writable by
/// whoever can update nodes, so a route is installed only for what the node IPAM controller
/// could have assigned: a podCIDR that is a proper subnet of `--cluster-cidr`, overlaps
/// neither this node's podCIDR nor another node's (both of an overlapping pair are
/// ignored), via the node's InternalIP, which must be a unicast address outside the pod
/// range. Anything else could steer this node's traffic (to the apiserver, to the host's
/// own networks) to an address a pod or a node owner chose.
pub fn desired_routes(
    nodes: &[proto::k8s::Node],
    me: &str,
    mine: Cidr,
    cluster: Cidr,
) -> RoutePlan {
    let mut plan = RoutePlan::default();
    let mut candidates: Vec<(String, Cidr, Ipv4Addr)> = vec![];
    for n in nodes {
        let name = n.metadata.as_ref().map(|m| m.name.as_str()).unwrap_or("");
        if name == me {
            continue;
        }
        let pod_cidr = n.spec.as_ref().map(|s| s.pod_cidr.as_str()).unwrap_or("");
        if pod_cidr.is_empty() {
            // Not assigned yet: nothing to route, nothing wrong.
            continue;
        }
        let mut ignore = |why: String| plan.ignored.push((name.to_string(), why));
        let cidr = match strict_cidr(pod_cidr) {
            Ok(c) => c,
            Err(e) => {
                ignore(e);
                continue;
            }
        };
        if !(cluster.contains(cidr.net) && cidr.prefix > cluster.prefix) {
            ignore(format!(
                "podCIDR {cidr} is not a proper subnet of the cluster CIDR {cluster}"
            ));
            continue;
        }
        if overlaps(cidr, mine) {
            ignore(format!(
                "podCIDR {cidr} overlaps this node's podCIDR {mine}"
            ));
            continue;
        }
        let internal = n.status.as_ref().and_then(|s| {
            s.addresses
                .iter()
                .find(|a| a.r#type == "InternalIP")
                .map(|a| a.address.as_str())
        });
        let Some(internal) = internal.filter(|a| !a.is_empty()) else {
            // A node that has not reported its address yet.
            continue;
        };
        let ip = match internal.parse::<Ipv4Addr>() {
            Ok(ip) => ip,
            Err(_) => {
                ignore(format!("InternalIP {internal:?} is not an IPv4 address"));
                continue;
            }
        };
        if ip.is_loopback()
            || ip.is_unspecified()
            || ip.is_multicast()
            || ip.is_broadcast()
            || ip.is_link_local()
            || cluster.contains(ip)
        {
            ignore(format!(
                "InternalIP {ip} cannot be a route's gateway (loopback, unspecified, multicast, broadcast, link-local or inside the cluster CIDR)"
            ));
            continue;
        }
        candidates.push((name.to_string(), cidr, ip));
    }
    for (i, (name, cidr, ip)) in candidates.iter().enumerate() {
        let clash = candidates
            .iter()
            .enumerate()
            .find(|(j, (_, other, _))| *j != i && overlaps(*cidr, *other));
        if let Some((_, (other_name, other, _))) = clash {
            plan.ignored.push((
                name.clone(),
                format!("podCIDR {cidr} overlaps node {other_name}'s podCIDR {other}"),
            ));
            continue;
        }
        plan.routes.insert(*cidr, *ip);
    }
    plan
}

/// Host-side and temporary peer names of a pod's veth pair (15 characters at most).
pub fn veth_names(uid: &str) -> (String, String) {
    // FNV-1a: stable across runs and processes.
    let mut h: u32 = 0x811c_9dc5;
    for b in uid.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    (format!("veth{h:08x}"), format!("vtmp{h:08x}"))
}

fn nl(context: &str, e: rtnetlink::Error) -> Error {
    Error::Network(format!("{context}: {e}"))
}

fn is_errno(e: &rtnetlink::Error, errno: i32) -> bool {
    matches!(e, rtnetlink::Error::NetlinkError(m) if m.raw_code() == -errno)
}

const EEXIST: i32 = 17;
const ENODEV: i32 = 19;
const ESRCH: i32 = 3;

async fn link_index(handle: &Handle, name: &str) -> Result<Option<u32>> {
    let mut links = handle.link().get().match_name(name.to_string()).execute();
    match links.try_next().await {
        Ok(Some(l)) => Ok(Some(l.header.index)),
        Ok(None) => Ok(None),
        Err(e) if is_errno(&e, ENODEV) => Ok(None),
        Err(e) => Err(nl(&format!("looking up link {name}"), e)),
    }
}

/// A netlink connection opened inside the network namespace of process `pid`: a short-lived
/// thread joins the namespace and opens the socket there (a socket keeps the namespace it
/// was opened in); the connection then runs on the caller's runtime.
async fn netns_connection(pid: u32) -> Result<(Handle, JoinHandle<()>)> {
    let rt = tokio::runtime::Handle::current();
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let r = (|| -> Result<_> {
            let path = format!("/proc/{pid}/ns/net");
            let f =
                std::fs::File::open(&path).map_err(|e| Error::io(format!("opening {path}"), e))?;
            nix::sched::setns(&f, nix::sched::CloneFlags::CLONE_NEWNET)
                .map_err(|e| Error::Network(format!("setns into {path}: {e}")))?;
            let _enter = rt.enter();
            let (conn, handle, _) = rtnetlink::new_connection()
                .map_err(|e| Error::io("opening a netlink socket in the pod namespace", e))?;
            Ok((conn, handle))
        })();
        let _ = tx.send(r);
    });
    let (conn, handle) = rx
        .await
        .map_err(|_| Error::Network("the namespace thread died".into()))??;
    Ok((handle, tokio::spawn(conn)))
}

/// The kubelet's bridge network.
pub struct BridgeNetwork {
    handle: Handle,
    _conn: JoinHandle<()>,
    bridge: String,
    bridge_index: u32,
    cidr: Cidr,
    ipam: Ipam,
    routes: tokio::sync::Mutex<BTreeMap<Cidr, Ipv4Addr>>,
    ignored: Mutex<BTreeSet<(String, String)>>,
}

impl std::fmt::Debug for BridgeNetwork {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BridgeNetwork")
            .field("bridge", &self.bridge)
            .field("cidr", &self.cidr)
            .finish()
    }
}

impl BridgeNetwork {
    /// Makes (or finds) the bridge with the gateway address, up.
    pub async fn new(bridge: &str, cidr: Cidr, root: &Path) -> Result<Self> {
        if bridge.is_empty() || bridge.len() > 15 {
            return Err(Error::Config(format!(
                "bridge name {bridge:?}: 1 to 15 characters"
            )));
        }
        let (conn, handle, _) =
            rtnetlink::new_connection().map_err(|e| Error::io("opening a netlink socket", e))?;
        let conn = tokio::spawn(conn);
        let index = match link_index(&handle, bridge).await? {
            Some(i) => i,
            None => {
                match handle
                    .link()
                    .add(LinkBridge::new(bridge).build())
                    .execute()
                    .await
                {
                    Ok(()) => {}
                    Err(e) if is_errno(&e, EEXIST) => {}
                    Err(e) => return Err(nl(&format!("creating bridge {bridge}"), e)),
                }
                link_index(&handle, bridge)
                    .await?
                    .ok_or_else(|| Error::Network(format!("bridge {bridge} vanished")))?
            }
        };
        match handle
            .address()
            .add(index, std::net::IpAddr::V4(cidr.gateway()), cidr.prefix)
            .execute()
            .await
        {
            Ok(()) => {}
            Err(e) if is_errno(&e, EEXIST) => {}
            Err(e) => return Err(nl(&format!("adding {} to {bridge}", cidr.gateway()), e)),
        }
        handle
            .link()
            .set(LinkUnspec::new_with_index(index).up().build())
            .execute()
            .await
            .map_err(|e| nl(&format!("bringing {bridge} up"), e))?;
        allow_forwarding(bridge).await;
        // Pods reach other nodes through this one: forwarding on (per network namespace, as
        // the CNI bridge plugin does).
        if let Err(e) = std::fs::write("/proc/sys/net/ipv4/ip_forward", "1") {
            tracing::warn!(error = %e, "enabling IPv4 forwarding failed; pods cannot reach other nodes");
        }
        tracing::info!(bridge, %cidr, "pod network ready");
        Ok(BridgeNetwork {
            handle,
            _conn: conn,
            bridge: bridge.to_string(),
            bridge_index: index,
            cidr,
            ipam: Ipam::new(root, cidr)?,
            routes: tokio::sync::Mutex::new(BTreeMap::new()),
            ignored: Mutex::new(BTreeSet::new()),
        })
    }

    pub fn cidr(&self) -> Cidr {
        self.cidr
    }

    async fn setup_inner(&self, uid: &str, pid: u32) -> Result<String> {
        let ip = self.ipam.allocate(uid)?;
        let (host, peer) = veth_names(uid);
        // A leftover pair from an earlier attempt goes first.
        if let Some(i) = link_index(&self.handle, &host).await? {
            let _ = self.handle.link().del(i).execute().await;
        }
        self.handle
            .link()
            .add(LinkVeth::new(&host, &peer).build())
            .execute()
            .await
            .map_err(|e| nl(&format!("creating veth {host}"), e))?;
        let host_idx = link_index(&self.handle, &host)
            .await?
            .ok_or_else(|| Error::Network(format!("veth {host} vanished")))?;
        let peer_idx = link_index(&self.handle, &peer)
            .await?
            .ok_or_else(|| Error::Network(format!("veth peer {peer} vanished")))?;
        self.handle
            .link()
            .set(
                LinkUnspec::new_with_index(host_idx)
                    .controller(self.bridge_index)
                    .up()
                    .build(),
            )
            .execute()
            .await
            .map_err(|e| nl(&format!("attaching {host} to {}", self.bridge), e))?;
        self.handle
            .link()
            .set(
                LinkUnspec::new_with_index(peer_idx)
                    .setns_by_pid(pid)
                    .build(),
            )
            .execute()
            .await
            .map_err(|e| nl(&format!("moving {peer} into the namespace of pid {pid}"), e))?;
        let (ns, conn) = netns_connection(pid).await?;
        let r = configure_pod_side(&ns, &peer, ip, self.cidr).await;
        conn.abort();
        r?;
        tracing::debug!(uid, %ip, veth = %host, "pod interface ready");
        Ok(ip.to_string())
    }

    /// Logs the nodes `plan` ignored, each once until its reason changes (node objects are
    /// rewritten every few seconds; the warning is not).
    pub fn warn_ignored(&self, plan: &RoutePlan) {
        let now: BTreeSet<(String, String)> = plan.ignored.iter().cloned().collect();
        let mut seen = self.ignored.lock().unwrap_or_else(|p| p.into_inner());
        for (node, why) in now.difference(&seen) {
            tracing::warn!(node = %node, reason = %why, "no route to this node's pods");
        }
        *seen = now;
    }

    /// Makes the routes to other nodes' podCIDRs match `want` (adds, replaces, removes the
    /// ones it added before).
    pub async fn sync_routes(&self, want: BTreeMap<Cidr, Ipv4Addr>) -> Result<()> {
        let mut have = self.routes.lock().await;
        for (cidr, via) in have.clone() {
            if want.get(&cidr) != Some(&via) {
                let msg = RouteMessageBuilder::<Ipv4Addr>::new()
                    .destination_prefix(cidr.net, cidr.prefix)
                    .gateway(via)
                    .build();
                match self.handle.route().del(msg).execute().await {
                    Ok(()) => {}
                    Err(e) if is_errno(&e, ESRCH) => {}
                    Err(e) => tracing::warn!(%cidr, error = %e, "removing a node route failed"),
                }
                have.remove(&cidr);
            }
        }
        for (cidr, via) in want {
            if have.get(&cidr) == Some(&via) {
                continue;
            }
            let msg = RouteMessageBuilder::<Ipv4Addr>::new()
                .destination_prefix(cidr.net, cidr.prefix)
                .gateway(via)
                .build();
            match self.handle.route().add(msg).replace().execute().await {
                Ok(()) => {
                    tracing::info!(%cidr, %via, "route to a node's pods");
                    have.insert(cidr, via);
                }
                Err(e) => tracing::warn!(%cidr, %via, error = %e, "adding a node route failed"),
            }
        }
        Ok(())
    }

    /// Addresses held by pods not in `live` are released (after a restart, pods that went
    /// while the kubelet was down).
    pub fn release_unknown(&self, live: &BTreeSet<String>) {
        for (_, uid) in self.ipam.allocated() {
            if !live.contains(&uid)
                && let Err(e) = self.ipam.release(&uid)
            {
                tracing::warn!(uid, error = %e, "releasing an address failed");
            }
        }
    }
}

async fn configure_pod_side(ns: &Handle, peer: &str, ip: Ipv4Addr, cidr: Cidr) -> Result<()> {
    let idx = link_index(ns, peer)
        .await?
        .ok_or_else(|| Error::Network(format!("{peer} is not in the pod namespace")))?;
    ns.link()
        .set(
            LinkUnspec::new_with_index(idx)
                .name("eth0".to_string())
                .build(),
        )
        .execute()
        .await
        .map_err(|e| nl("renaming the pod interface to eth0", e))?;
    ns.address()
        .add(idx, std::net::IpAddr::V4(ip), cidr.prefix)
        .execute()
        .await
        .map_err(|e| nl(&format!("adding {ip} in the pod"), e))?;
    ns.link()
        .set(LinkUnspec::new_with_index(idx).up().build())
        .execute()
        .await
        .map_err(|e| nl("bringing eth0 up", e))?;
    if let Some(lo) = link_index(ns, "lo").await? {
        let _ = ns
            .link()
            .set(LinkUnspec::new_with_index(lo).up().build())
            .execute()
            .await;
    }
    let route = RouteMessageBuilder::<Ipv4Addr>::new()
        .gateway(cidr.gateway())
        .output_interface(idx)
        .build();
    ns.route()
        .add(route)
        .execute()
        .await
        .map_err(|e| nl("adding the pod's default route", e))?;
    Ok(())
}

/// Docker sets the FORWARD policy to DROP and bridged packets traverse it (br_netfilter):
/// accept what enters or leaves the pod bridge. Idempotent (`-C` before `-I`).
async fn allow_forwarding(bridge: &str) {
    for dir in ["-i", "-o"] {
        let rule = ["FORWARD", dir, bridge, "-j", "ACCEPT"];
        let exists = tokio::process::Command::new("iptables")
            .args(["-w", "-C"])
            .args(rule)
            .output()
            .await
            .is_ok_and(|o| o.status.success());
        if exists {
            continue;
        }
        match tokio::process::Command::new("iptables")
            .args(["-w", "-I"])
            .args(rule)
            .output()
            .await
        {
            Ok(o) if o.status.success() => {}
            Ok(o) => {
                tracing::warn!(bridge, stderr = %String::from_utf8_lossy(&o.stderr).trim(), "iptables FORWARD rule not added")
            }
            Err(e) => {
                tracing::warn!(bridge, error = %e, "iptables not available; pod traffic may be dropped by FORWARD")
            }
        }
    }
}

/// Removes the kubelet's FORWARD rules for `bridge` (tests and `--cleanup`).
pub async fn remove_forwarding(bridge: &str) {
    for dir in ["-i", "-o"] {
        let _ = tokio::process::Command::new("iptables")
            .args(["-w", "-D", "FORWARD", dir, bridge, "-j", "ACCEPT"])
            .output()
            .await;
    }
}

impl PodNetwork for BridgeNetwork {
    fn setup(&self, uid: &str, pid: u32) -> BoxFuture<'_, Result<String>> {
        let uid = uid.to_string();
        Box::pin(async move {
            let r = self.setup_inner(&uid, pid).await;
            if r.is_err() {
                let _ = self.teardown_inner(&uid).await;
            }
            r
        })
    }

    fn teardown(&self, uid: &str) -> BoxFuture<'_, Result<()>> {
        let uid = uid.to_string();
        Box::pin(async move { self.teardown_inner(&uid).await })
    }

    fn address_of(&self, uid: &str) -> Option<String> {
        self.ipam.lookup(uid).map(|ip| ip.to_string())
    }
}

impl BridgeNetwork {
    async fn teardown_inner(&self, uid: &str) -> Result<()> {
        let (host, _) = veth_names(uid);
        if let Some(i) = link_index(&self.handle, &host).await? {
            match self.handle.link().del(i).execute().await {
                Ok(()) => {}
                Err(e) if is_errno(&e, ENODEV) => {}
                Err(e) => return Err(nl(&format!("deleting {host}"), e)),
            }
        }
        self.ipam.release(uid)
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

    fn node(name: &str, pod_cidr: &str, ip: &str) -> proto::k8s::Node {
        use proto::k8s::{Node, NodeAddress, NodeSpec, NodeStatus, ObjectMeta};
        Node {
            metadata: Some(ObjectMeta {
                name: name.into(),
                ..Default::default()
            }),
            spec: Some(NodeSpec {
                pod_cidr: pod_cidr.into(),
                ..Default::default()
            }),
            status: Some(NodeStatus {
                addresses: vec![NodeAddress {
                    r#type: "InternalIP".into(),
                    address: ip.into(),
                }],
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn routes_only_to_podcidrs_the_ipam_controller_could_have_assigned() {
        // (other node's podCIDR, its InternalIP, Some(route) or None with the reason's words)
        let cases: &[(&str, &str, &str, Result<(), &str>)] = &[
            ("plain", "10.244.1.0/24", "192.0.2.2", Ok(())),
            ("no cidr yet", "", "192.0.2.3", Err("")),
            ("no address yet", "10.244.3.0/24", "", Err("")),
            (
                "covers mine",
                "10.244.0.0/17",
                "192.0.2.5",
                Err("overlaps this node"),
            ),
            (
                "inside mine",
                "10.244.0.128/25",
                "192.0.2.5",
                Err("overlaps this node"),
            ),
            (
                "whole cluster",
                "10.244.0.0/16",
                "192.0.2.5",
                Err("proper subnet"),
            ),
            (
                "outside cluster",
                "10.9.0.0/24",
                "192.0.2.6",
                Err("proper subnet"),
            ),
            (
                "the apiserver's net",
                "192.0.2.0/24",
                "192.0.2.6",
                Err("proper subnet"),
            ),
            ("host bits", "10.244.4.7/24", "192.0.2.7", Err("host bits")),
            ("garbage", "ten/24", "192.0.2.7", Err("invalid CIDR")),
            ("loopback gw", "10.244.5.0/24", "127.0.0.1", Err("gateway")),
            ("unspecified gw", "10.244.5.0/24", "0.0.0.0", Err("gateway")),
            ("multicast gw", "10.244.5.0/24", "224.0.0.1", Err("gateway")),
            ("pod as gw", "10.244.5.0/24", "10.244.1.9", Err("gateway")),
            ("v6 gw", "10.244.5.0/24", "fd00::1", Err("not an IPv4")),
        ];
        let mine = cidr("10.244.0.0/24");
        let cluster = cidr("10.244.0.0/16");
        for (name, pod_cidr, ip, want) in cases {
            let nodes = vec![
                node("me", "10.244.0.0/24", "192.0.2.1"),
                node("x", pod_cidr, ip),
            ];
            let plan = desired_routes(&nodes, "me", mine, cluster);
            match want {
                Ok(()) => {
                    assert_eq!(
                        plan.routes.get(&cidr(pod_cidr)),
                        Some(&ip.parse().unwrap()),
                        "{name}"
                    );
                    assert!(plan.ignored.is_empty(), "{name}: {:?}", plan.ignored);
                }
                Err(words) => {
                    assert!(plan.routes.is_empty(), "{name}: {:?}", plan.routes);
                    if words.is_empty() {
                        assert!(plan.ignored.is_empty(), "{name}: silently skipped");
                    } else {
                        assert!(
                            plan.ignored.len() == 1 && plan.ignored[0].1.contains(words),
                            "{name}: {:?}",
                            plan.ignored
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn overlapping_nodes_both_lose_their_route() {
        let nodes = vec![
            node("b", "10.244.1.0/24", "192.0.2.2"),
            node("thief", "10.244.1.0/25", "192.0.2.66"),
            node("same", "10.244.2.0/24", "192.0.2.3"),
            node("twin", "10.244.2.0/24", "192.0.2.4"),
            node("c", "10.244.3.0/24", "192.0.2.5"),
        ];
        let plan = desired_routes(&nodes, "me", cidr("10.244.0.0/24"), cidr("10.244.0.0/16"));
        assert_eq!(
            plan.routes.into_iter().collect::<Vec<_>>(),
            vec![(cidr("10.244.3.0/24"), Ipv4Addr::new(192, 0, 2, 5))]
        );
        let mut ignored: Vec<&str> = plan.ignored.iter().map(|(n, _)| n.as_str()).collect();
        ignored.sort();
        assert_eq!(ignored, ["b", "same", "thief", "twin"]);
    }

    #[test]
    fn veth_names_fit_and_are_stable() {
        let (h, p) = veth_names("6f1c1a7e-1111-2222-3333-444455556666");
        assert!(h.len() <= 15 && p.len() <= 15);
        assert_eq!(veth_names("6f1c1a7e-1111-2222-3333-444455556666").0, h);
        assert_ne!(veth_names("other").0, h);
    }
}
