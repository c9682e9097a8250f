//! Node IPAM (Kubernetes' range allocator): every node gets `spec.podCIDR` / `podCIDRs`, a
//! block of `--node-cidr-mask-size` bits cut from `--cluster-cidr`. A block is never given
//! twice: at start the used set is rebuilt from the nodes' existing podCIDRs, a node that
//! already has one keeps it, and a deleted node's block is freed.

use crate::context::Context;
use crate::error::Error;
use client::runtime::{Action, Controller, Request, backoff};
use futures::FutureExt;
use futures::future::BoxFuture;
use proto::k8s::Node;
use std::collections::{BTreeSet, HashMap};
use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex};
use tokio_util::sync::CancellationToken;

pub const NAME: &str = "nodeipam";

/// An IPv4 network `base/prefix` (base with host bits zero).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Net {
    pub base: u32,
    pub prefix: u8,
}

impl Ipv4Net {
    /// Parses `a.b.c.d/n`; refuses host bits set (as Kubernetes' `--cluster-cidr` check).
    pub fn parse(s: &str) -> Result<Self, String> {
        let (ip, prefix) = s
            .trim()
            .split_once('/')
            .ok_or_else(|| format!("{s:?} is not a CIDR (a.b.c.d/n)"))?;
        let ip: Ipv4Addr = ip
            .parse()
            .map_err(|_| format!("{s:?}: {ip:?} is not an IPv4 address"))?;
        let prefix: u8 = prefix
            .parse()
            .ok()
            .filter(|p| *p <= 32)
            .ok_or_else(|| format!("{s:?}: prefix must be 0..=32"))?;
        let base = u32::from(ip);
        if base & !mask(prefix) != 0 {
            return Err(format!("{s:?} has host bits set"));
        }
        Ok(Ipv4Net { base, prefix })
    }

    pub fn contains(&self, other: &Ipv4Net) -> bool {
        other.prefix >= self.prefix && other.base & mask(self.prefix) == self.base
    }
}

impl std::fmt::Display for Ipv4Net {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", Ipv4Addr::from(self.base), self.prefix)
    }
}

fn mask(prefix: u8) -> u32 {
    if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(prefix))
    }
}

/// Which blocks of the cluster CIDR are taken; allocates the lowest free one.
#[derive(Debug, Clone)]
pub struct CidrAllocator {
    cluster: Ipv4Net,
    node_prefix: u8,
    used: BTreeSet<u32>,
    /// Where the next search starts (wraps), so freed blocks are not reused at once.
    next: u32,
}

impl CidrAllocator {
    pub fn new(cluster_cidr: &str, node_prefix: u8) -> Result<Self, String> {
        let cluster = Ipv4Net::parse(cluster_cidr).map_err(|e| format!("--cluster-cidr: {e}"))?;
        if node_prefix < cluster.prefix || node_prefix > 32 {
            return Err(format!(
                "--node-cidr-mask-size {node_prefix} must be between the cluster CIDR's prefix ({}) and 32",
                cluster.prefix
            ));
        }
        if node_prefix - cluster.prefix > 24 {
            return Err(format!(
                "--node-cidr-mask-size {node_prefix}: more than 2^24 node blocks in {cluster}"
            ));
        }
        Ok(CidrAllocator {
            cluster,
            node_prefix,
            used: BTreeSet::new(),
            next: 0,
        })
    }

    /// How many blocks the cluster CIDR holds.
    pub fn capacity(&self) -> u32 {
        1u32 << (self.node_prefix - self.cluster.prefix)
    }

    fn index_of(&self, cidr: &str) -> Result<u32, String> {
        let net = Ipv4Net::parse(cidr)?;
        if net.prefix != self.node_prefix || !self.cluster.contains(&net) {
            return Err(format!(
                "{cidr} is not a /{} block of the cluster CIDR {}",
                self.node_prefix, self.cluster
            ));
        }
        Ok((net.base - self.cluster.base) >> (32 - u32::from(self.node_prefix)))
    }

    fn cidr_of(&self, index: u32) -> String {
        let base = self.cluster.base + (index << (32 - u32::from(self.node_prefix)));
        Ipv4Net {
            base,
            prefix: self.node_prefix,
        }
        .to_string()
    }

    /// Marks `cidr` taken; false if it already was (two nodes claim it).
    pub fn occupy(&mut self, cidr: &str) -> Result<bool, String> {
        let i = self.index_of(cidr)?;
        Ok(self.used.insert(i))
    }

    pub fn is_used(&self, cidr: &str) -> bool {
        self.index_of(cidr).is_ok_and(|i| self.used.contains(&i))
    }

    /// The next free block, marked taken; None when the range is full.
    pub fn allocate(&mut self) -> Option<String> {
        let cap = self.capacity();
        for step in 0..cap {
            let i = (self.next + step) % cap;
            if !self.used.contains(&i) {
                self.used.insert(i);
                self.next = (i + 1) % cap;
                return Some(self.cidr_of(i));
            }
        }
        None
    }

    pub fn release(&mut self, cidr: &str) -> Result<(), String> {
        let i = self.index_of(cidr)?;
        self.used.remove(&i);
        Ok(())
    }

    pub fn used_count(&self) -> usize {
        self.used.len()
    }
}

/// The allocator plus which node holds which block (so a deleted node's block can be
/// freed, and a node whose write has not reached the cache yet keeps the block it got).
struct State {
    alloc: CidrAllocator,
    by_node: HashMap<String, String>,
}

pub fn start(
    ctx: Arc<Context>,
    cancel: CancellationToken,
) -> BoxFuture<'static, Result<(), Error>> {
    run(ctx, cancel).boxed()
}

async fn run(ctx: Arc<Context>, cancel: CancellationToken) -> Result<(), Error> {
    let alloc = CidrAllocator::new(&ctx.config.cluster_cidr, ctx.config.node_cidr_mask_size)
        .map_err(Error::Config)?;
    let nodes = ctx.informer::<Node>();
    // The used set is rebuilt from the synced cache before any handler or worker runs,
    // so the runtime's own wait comes too late for it: wait here, raced with the token.
    let synced = tokio::select! {
        s = nodes.wait_until_synced() => s,
        _ = cancel.cancelled() => false,
    };
    if !synced {
        return Ok(());
    }
    // Rebuild the used set from the nodes as they are before handing anything out.
    let mut state = State {
        alloc,
        by_node: HashMap::new(),
    };
    for node in nodes.store().list() {
        let name = node
            .metadata
            .as_ref()
            .map(|m| m.name.clone())
            .unwrap_or_default();
        for cidr in node_cidrs(&node) {
            match state.alloc.occupy(&cidr) {
                Ok(true) => {
                    state.by_node.insert(name.clone(), cidr);
                }
                Ok(false) => {
                    tracing::warn!(node = %name, %cidr, "podCIDR already used by another node")
                }
                Err(e) => {
                    tracing::warn!(node = %name, %cidr, error = %e, "podCIDR outside the cluster CIDR; left alone")
                }
            }
        }
    }
    tracing::info!(
        used = state.alloc.used_count(),
        capacity = state.alloc.capacity(),
        cluster_cidr = %ctx.config.cluster_cidr,
        "node podCIDRs rebuilt"
    );
    let state = Arc::new(Mutex::new(state));
    // One worker: one allocator; one writer keeps decisions simple and ordered.
    let controller = Controller::new(NAME, nodes).workers(1);
    let ipam = Arc::new(Ipam { ctx, state });
    controller
        .run(
            |req: Request<Node>, c: Arc<Ipam>| async move {
                reconcile(&c.ctx, req.object.as_deref(), &c.state, &req.key).await
            },
            backoff,
            ipam,
            cancel,
        )
        .await;
    Ok(())
}

struct Ipam {
    ctx: Arc<Context>,
    state: Arc<Mutex<State>>,
}

fn node_cidrs(node: &Node) -> Vec<String> {
    let Some(spec) = node.spec.as_ref() else {
        return Vec::new();
    };
    let mut out: Vec<String> = spec.pod_cidrs.clone();
    if !spec.pod_cidr.is_empty() && !out.contains(&spec.pod_cidr) {
        out.insert(0, spec.pod_cidr.clone());
    }
    out
}

fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|p| p.into_inner())
}

async fn reconcile(
    ctx: &Context,
    node: Option<&Node>,
    state: &Mutex<State>,
    name: &str,
) -> Result<Action, Error> {
    let Some(node) = node else {
        // Deleted: free its block.
        let mut st = lock(state);
        if let Some(cidr) = st.by_node.remove(name) {
            let _ = st.alloc.release(&cidr);
            tracing::info!(node = %name, %cidr, "node deleted: podCIDR released");
        }
        return Ok(Action::Done);
    };
    let existing = node_cidrs(node);
    if let Some(first) = existing.first() {
        let mut st = lock(state);
        if st.by_node.get(name) != Some(first) {
            // Set by someone else (or before a restart): record it.
            if let Some(old) = st.by_node.remove(name) {
                let _ = st.alloc.release(&old);
            }
            if st.alloc.occupy(first).is_ok() {
                st.by_node.insert(name.to_string(), first.clone());
            }
        }
        return Ok(Action::Done);
    }
    // Reuse a block handed out earlier whose write the cache has not shown yet.
    let cidr = {
        let mut st = lock(state);
        match st.by_node.get(name) {
            Some(c) => c.clone(),
            None => match st.alloc.allocate() {
                Some(c) => {
                    st.by_node.insert(name.to_string(), c.clone());
                    c
                }
                None => {
                    tracing::warn!(node = %name, "no podCIDR left in the cluster CIDR");
                    return Err(Error::Other(format!(
                        "node {name}: the cluster CIDR {} has no free /{} block",
                        ctx.config.cluster_cidr, ctx.config.node_cidr_mask_size
                    )));
                }
            },
        }
    };
    let mut updated = node.clone();
    let spec = updated.spec.get_or_insert_with(Default::default);
    spec.pod_cidr = cidr.clone();
    spec.pod_cidrs = vec![cidr.clone()];
    match ctx.api::<Node>().update(&updated).await {
        Ok(_) => {
            tracing::info!(node = %name, %cidr, "podCIDR assigned");
            Ok(Action::Done)
        }
        Err(e) if e.is(proto::Reason::NotFound) => {
            let mut st = lock(state);
            if st.by_node.remove(name).is_some() {
                let _ = st.alloc.release(&cidr);
            }
            Ok(Action::Done)
        }
        // Conflict: the cache was stale; the block stays reserved for this node.
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_cidrs() {
        let cases = [
            ("10.244.0.0/16", Ok((0x0af4_0000, 16))),
            ("10.244.1.0/24", Ok((0x0af4_0100, 24))),
            ("0.0.0.0/0", Ok((0, 0))),
            ("10.244.1.0/16", Err("host bits")),
            ("10.244.0.0", Err("not a CIDR")),
            ("10.244.0.0/33", Err("prefix")),
            ("fd00::/64", Err("IPv4")),
        ];
        for (input, want) in cases {
            match (Ipv4Net::parse(input), want) {
                (Ok(n), Ok((b, p))) => assert_eq!((n.base, n.prefix), (b, p), "{input}"),
                (Err(e), Err(w)) => assert!(e.contains(w), "{input}: {e}"),
                (got, want) => panic!("{input}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn allocates_in_order_never_twice_and_reuses_freed_blocks_last() {
        let mut a = CidrAllocator::new("10.244.0.0/22", 24).unwrap();
        assert_eq!(a.capacity(), 4);
        a.occupy("10.244.1.0/24").unwrap();
        let got: Vec<_> = (0..3).map(|_| a.allocate().unwrap()).collect();
        assert_eq!(got, ["10.244.0.0/24", "10.244.2.0/24", "10.244.3.0/24"]);
        assert_eq!(a.allocate(), None, "full");
        a.release("10.244.2.0/24").unwrap();
        assert_eq!(a.allocate().as_deref(), Some("10.244.2.0/24"));
        assert!(!a.occupy("10.244.2.0/24").unwrap(), "already taken");
    }

    #[test]
    fn refuses_blocks_outside_the_range_and_bad_sizes() {
        let mut a = CidrAllocator::new("10.244.0.0/16", 24).unwrap();
        assert!(a.occupy("10.245.0.0/24").is_err());
        assert!(a.occupy("10.244.0.0/25").is_err());
        assert!(a.release("192.168.0.0/24").is_err());
        assert!(CidrAllocator::new("10.244.0.0/16", 8).is_err());
        assert!(CidrAllocator::new("10.244.0.0/16", 33).is_err());
        assert!(
            CidrAllocator::new("10.0.0.0/7", 32).is_err(),
            "2^24 blocks at most"
        );
        let a = CidrAllocator::new("10.0.0.0/8", 24).unwrap();
        assert_eq!(a.capacity(), 65536);
    }

    #[test]
    fn default_range_gives_256_distinct_blocks() {
        let mut a = CidrAllocator::new("10.244.0.0/16", 24).unwrap();
        let mut seen = std::collections::HashSet::new();
        while let Some(c) = a.allocate() {
            assert!(seen.insert(c));
        }
        assert_eq!(seen.len(), 256);
        assert!(seen.contains("10.244.255.0/24"));
    }
}
