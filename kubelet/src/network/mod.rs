//! The pod network behind one trait, [`PodNetwork`]: the kubelet sets up the node's side once
//! it has a podCIDR, attaches each sandbox and detaches it when the pod goes, and keeps the
//! routes to other nodes' podCIDRs as the pure [`desired_routes`] plans them. The real
//! implementation is [`HostNetwork`] (rtnetlink and iptables, in `bridge`); [`fake`] records
//! the calls for tests. A kubelet given no network leaves pods on the runtime's default
//! bridge (simulated nodes).

mod bridge;
mod cidr;
pub mod fake;
mod routes;

pub use bridge::{BridgeNetwork, HostNetwork, remove_forwarding, veth_names};
pub use cidr::{Cidr, Ipam, candidates};
pub use routes::{RoutePlan, desired_routes};

use crate::error::Result;
use futures::future::BoxFuture;
use std::collections::BTreeSet;

/// What the kubelet asks of the node's pod network. Methods take `&self`: one network is
/// shared by every pod worker.
pub trait PodNetwork: Send + Sync {
    /// Makes the node's side for its podCIDR (bridge, gateway address, forwarding); until
    /// it succeeds, no pod can be attached.
    fn setup_node(&self, cidr: Cidr) -> BoxFuture<'_, Result<()>>;
    /// Gives the sandbox (main process `pid`) its interface and address; returns the IP.
    fn attach(&self, uid: &str, pid: u32) -> BoxFuture<'_, Result<String>>;
    /// Releases the pod's address and interface (idempotent: a pod may be detached twice).
    fn detach(&self, uid: &str) -> BoxFuture<'_, Result<()>>;
    /// The address the pod holds, if any (also after a kubelet restart).
    fn address_of(&self, uid: &str) -> Option<String>;
    /// Releases the addresses of pods not in `live` (pods that went while the kubelet was
    /// down).
    fn release_unknown(&self, live: &BTreeSet<String>);
    /// Makes the routes to other nodes' pods what `plan` says (and reports what it ignored).
    fn sync_routes(&self, plan: &RoutePlan) -> BoxFuture<'_, Result<()>>;
    /// Removes the node's side (tests and clean-up; a stopping kubelet leaves it, as its
    /// pods keep running).
    fn teardown_node(&self) -> BoxFuture<'_, Result<()>>;
}
