//! The pod network, made with rtnetlink (no `ip` commands): a bridge per node holding the
//! gateway address of the node's podCIDR, a veth pair per pod whose inner end is moved into
//! the sandbox's network namespace (`/proc/<pause pid>/ns/net`) as `eth0` with an address
//! from the podCIDR and a default route via the gateway, and routes to other nodes'
//! podCIDRs via their node IPs. Addresses come from `Ipam`, persisted under the root dir:
//! one file per address, created exclusively, so an address is never handed out twice, also
//! across kubelet restarts, and is released when its pod goes.

use super::PodNetwork;
use super::cidr::{Cidr, Ipam};
use super::routes::RoutePlan;
use crate::error::{Error, Result};
use futures::TryStreamExt;
use futures::future::BoxFuture;
use rtnetlink::{Handle, LinkBridge, LinkUnspec, LinkVeth, RouteMessageBuilder};
use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use tokio::task::JoinHandle;

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

impl BridgeNetwork {
    /// Gives the sandbox (main process `pid`) its interface and address; a half-made
    /// interface is removed again when a step fails.
    async fn attach(&self, uid: &str, pid: u32) -> Result<String> {
        let r = self.setup_inner(uid, pid).await;
        if r.is_err() {
            let _ = self.teardown_inner(uid).await;
        }
        r
    }

    fn address_of(&self, uid: &str) -> Option<String> {
        self.ipam.lookup(uid).map(|ip| ip.to_string())
    }
}

/// The real [`PodNetwork`]: the kubelet's bridge made with rtnetlink (plus the iptables
/// FORWARD rules Docker's policy needs), once the node has a podCIDR.
pub struct HostNetwork {
    bridge_name: String,
    root_dir: PathBuf,
    /// Made by `setup_node`; pods cannot be attached before.
    bridge: RwLock<Option<Arc<BridgeNetwork>>>,
}

impl HostNetwork {
    /// Nothing is touched until `setup_node`.
    pub fn new(bridge_name: &str, root_dir: &Path) -> Self {
        HostNetwork {
            bridge_name: bridge_name.to_string(),
            root_dir: root_dir.to_path_buf(),
            bridge: RwLock::new(None),
        }
    }

    fn bridge(&self) -> Option<Arc<BridgeNetwork>> {
        self.bridge
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn ready(&self) -> Result<Arc<BridgeNetwork>> {
        self.bridge().ok_or_else(|| {
            Error::Network(format!(
                "the pod network on {} is not set up (no podCIDR yet)",
                self.bridge_name
            ))
        })
    }
}

impl PodNetwork for HostNetwork {
    fn setup_node(&self, cidr: Cidr) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move {
            let b = BridgeNetwork::new(&self.bridge_name, cidr, &self.root_dir).await?;
            *self.bridge.write().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(b));
            Ok(())
        })
    }

    fn attach(&self, uid: &str, pid: u32) -> BoxFuture<'_, Result<String>> {
        let uid = uid.to_string();
        Box::pin(async move { self.ready()?.attach(&uid, pid).await })
    }

    fn detach(&self, uid: &str) -> BoxFuture<'_, Result<()>> {
        let uid = uid.to_string();
        Box::pin(async move { self.ready()?.teardown_inner(&uid).await })
    }

    fn address_of(&self, uid: &str) -> Option<String> {
        self.bridge()?.address_of(uid)
    }

    fn release_unknown(&self, live: &BTreeSet<String>) {
        if let Some(b) = self.bridge() {
            b.release_unknown(live);
        }
    }

    fn sync_routes(&self, plan: &RoutePlan) -> BoxFuture<'_, Result<()>> {
        let plan = plan.clone();
        Box::pin(async move {
            let b = self.ready()?;
            b.warn_ignored(&plan);
            b.sync_routes(plan.routes).await
        })
    }

    fn teardown_node(&self) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move {
            remove_forwarding(&self.bridge_name).await;
            let b = self
                .bridge
                .write()
                .unwrap_or_else(|p| p.into_inner())
                .take();
            let Some(b) = b else { return Ok(()) };
            match b.handle.link().del(b.bridge_index).execute().await {
                Ok(()) => Ok(()),
                Err(e) if is_errno(&e, ENODEV) => Ok(()),
                Err(e) => Err(nl(&format!("deleting bridge {}", self.bridge_name), e)),
            }
        })
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

    #[test]
    fn veth_names_fit_and_are_stable() {
        let (h, p) = veth_names("6f1c1a7e-1111-2222-3333-444455556666");
        assert!(h.len() <= 15 && p.len() <= 15);
        assert_eq!(veth_names("6f1c1a7e-1111-2222-3333-444455556666").0, h);
        assert_ne!(veth_names("other").0, h);
    }
}
