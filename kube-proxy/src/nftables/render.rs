//! The desired nftables state as a pure function of the service ports and the node, shaped
//! like Kubernetes' nftables proxier (pkg/proxy/nftables), in its own table `ip kube-proxy`
//! so it never touches Docker's or iptables' tables:
//!
//! - `service-ips` (verdict map, `ipv4_addr . inet_proto . inet_service`): cluster IP and
//!   external IPs of every service port with ready endpoints -> `goto service-…` (cluster
//!   IP) or `goto external-…` (external IPs). Looked up by the `services` chain, which the
//!   nat prerouting and output base chains jump to.
//! - `service-nodeports` (`inet_proto . inet_service`): node ports -> `goto external-…`,
//!   looked up only for local destinations (`fib daddr type local`).
//! - `service-<hash>-<ns>/<name>/<proto>/<port>`: masquerade mark for sources outside
//!   `--cluster-cidr` (set inline, not by a jump), then one
//!   `dnat ip to numgen random mod N map @endpoints-<hash>-…` rule over a named map
//!   `{ i : ip . port }`: even balancing with no per-endpoint chain, which keeps a
//!   10000-service load in one transaction affordable (per-endpoint chains cost 10x, see
//!   docs/kube-proxy.md), and an endpoint replaced is a map element change, not a rule.
//! - `hairpin` (set of `ipv4_addr . ipv4_addr`): `ip . ip` for every ready endpoint address;
//!   nat postrouting masquerades DNATed connections whose source and destination are that
//!   pair (a pod that reached itself through its service), as Kubernetes' per-endpoint
//!   `ip saddr <ep> jump mark-for-masquerade` does, without a chain per endpoint. Several
//!   service ports may share an address, so the renderer keeps a count per address and the
//!   planner adds/removes an element only when the count crosses zero.
//! - `external-…`: marks for masquerade, then `goto service-…`.
//! - sessionAffinity ClientIP (only there): per endpoint an `affinity-…` set (dynamic,
//!   timeout) and an `endpoint-…` chain that records the client (`update @set { ip saddr }`)
//!   and DNATs; the service chain first sends known clients to their endpoint's chain, then
//!   picks one with `numgen random mod N vmap`. As Kubernetes does.
//! - `no-endpoint-services` / `no-endpoint-nodeports`: service ports without ready
//!   endpoints -> `goto reject-chain`, looked up by filter chains hooked before NAT for new
//!   connections (input, forward, output), so a client is refused at once.
//! - `masquerading` (from nat postrouting): masquerade what carries mark 0x4000.

use crate::chain_names;
use crate::model::{Endpoint, ServicePort};
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::net::Ipv4Addr;
use std::sync::Arc;

pub use crate::model::{NodeConfig, service_key};

/// The table (family `ip`).
pub const TABLE: &str = "kube-proxy";
pub const SERVICE_IPS: &str = "service-ips";
pub const SERVICE_NODEPORTS: &str = "service-nodeports";
pub const NO_ENDPOINT_SERVICES: &str = "no-endpoint-services";
pub const NO_ENDPOINT_NODEPORTS: &str = "no-endpoint-nodeports";
pub const MARK_FOR_MASQUERADE: &str = "mark-for-masquerade";
pub const REJECT_CHAIN: &str = "reject-chain";
pub const HAIRPIN_SET: &str = "hairpin";
/// The masquerade mark, set inline (Kubernetes' `mark-for-masquerade` chain does the same).
pub const MARK_MASQ: &str = "meta mark set meta mark | 0x4000";

/// One element of one of the four maps: `key : verdict`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Element {
    pub map: &'static str,
    pub key: String,
    pub value: String,
}

/// Everything one service port owns in the table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceObjects {
    /// (chain, rules) in creation order: endpoint chains (affinity only), the service
    /// chain, the external chain; each chain only jumps to chains before it.
    pub chains: Vec<(String, Vec<String>)>,
    /// Affinity sets: (name, timeout seconds).
    pub sets: Vec<(String, u32)>,
    /// Its entries in the shared maps.
    pub elements: Vec<Element>,
    /// Its ready endpoints' addresses, sorted, without duplicates (hairpin set).
    pub endpoint_ips: Vec<Ipv4Addr>,
    /// The named map its DNAT rule picks from (`numgen random mod N map @name`): name, the
    /// `typeof` line, and endpoint i at index i (written `ip . port`). Without session
    /// affinity.
    pub endpoint_map: Option<EndpointMap>,
    /// UDP service ports only: what conntrack cleanup needs when an endpoint goes away.
    pub udp: Option<UdpFlows>,
}

/// A UDP service port's addresses: its flows to an endpoint that went away are deleted
/// from conntrack (else a client keeps sending to the dead endpoint, see `stale.rs`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UdpFlows {
    /// Cluster IP and external IPs with the service port.
    pub destinations: Vec<(Ipv4Addr, u16)>,
    pub node_port: Option<u16>,
    /// Ready endpoints.
    pub endpoints: Vec<Endpoint>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EndpointMap {
    pub name: String,
    pub type_of: String,
    pub values: Vec<Endpoint>,
}

/// The desired (or applied) contents of the table beyond the fixed skeleton.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NftRuleset {
    /// By service-port key (`namespace/name[:port]/protocol`, as the iptables backend).
    pub services: BTreeMap<String, Arc<ServiceObjects>>,
    /// Service ports per ready endpoint address (addresses with a count are in `hairpin`).
    pub endpoint_ips: Arc<HashMap<Ipv4Addr, u32>>,
}

impl NftRuleset {
    /// From the per-service objects, counting endpoint addresses.
    pub fn from_services(services: BTreeMap<String, Arc<ServiceObjects>>) -> Self {
        let mut counts: HashMap<Ipv4Addr, u32> = HashMap::new();
        for s in services.values() {
            for ip in &s.endpoint_ips {
                *counts.entry(*ip).or_default() += 1;
            }
        }
        NftRuleset {
            services,
            endpoint_ips: Arc::new(counts),
        }
    }

    pub fn chain_count(&self) -> usize {
        FIXED_CHAINS.len()
            + self
                .services
                .values()
                .map(|s| s.chains.len())
                .sum::<usize>()
    }

    pub fn rule_count(&self) -> usize {
        skeleton_rule_count()
            + self
                .services
                .values()
                .flat_map(|s| s.chains.iter())
                .map(|(_, r)| r.len())
                .sum::<usize>()
    }

    pub fn element_count(&self) -> usize {
        self.services.values().map(|s| s.elements.len()).sum()
    }

    /// The rules of one service chain by name (linear: tests and tools).
    pub fn chain(&self, name: &str) -> Option<&Vec<String>> {
        self.services
            .values()
            .flat_map(|s| s.chains.iter())
            .find(|(c, _)| c == name)
            .map(|(_, r)| r)
    }

    /// True when some service DNATs to `ip:port` (tests and the benchmark).
    pub fn dnats_to(&self, endpoint: &str) -> bool {
        self.services.values().any(|s| s.dnats_to(endpoint))
    }
}

impl ServiceObjects {
    /// True when this service port DNATs to `ip:port`.
    pub fn dnats_to(&self, endpoint: &str) -> bool {
        let Some((ip, port)) = endpoint.split_once(':') else {
            return false;
        };
        let single = format!("dnat ip to {endpoint}");
        let in_map = |e: &Endpoint| e.ip.to_string() == ip && e.port.to_string() == port;
        self.endpoint_map
            .as_ref()
            .is_some_and(|m| m.values.iter().any(in_map))
            || self
                .chains
                .iter()
                .flat_map(|(_, r)| r.iter())
                .any(|r| r.ends_with(&single))
    }
}

/// Fixed chains: (name, base-chain spec or "", rules).
pub const FIXED_CHAINS: [(&str, &str, &[&str]); 14] = [
    (
        MARK_FOR_MASQUERADE,
        "",
        &["meta mark set meta mark | 0x4000"],
    ),
    (
        "masquerading",
        "",
        &[
            "ct status dnat ip saddr . ip daddr @hairpin masquerade fully-random",
            "meta mark & 0x4000 == 0 return",
            "meta mark set meta mark ^ 0x4000",
            "masquerade fully-random",
        ],
    ),
    (REJECT_CHAIN, "", &["reject"]),
    (
        "services",
        "",
        &[
            "ip daddr . meta l4proto . th dport vmap @service-ips",
            "fib daddr type local meta l4proto . th dport vmap @service-nodeports",
        ],
    ),
    (
        "service-endpoints-check",
        "",
        &["ip daddr . meta l4proto . th dport vmap @no-endpoint-services"],
    ),
    (
        "nodeport-endpoints-check",
        "",
        &["fib daddr type local meta l4proto . th dport vmap @no-endpoint-nodeports"],
    ),
    (
        "nat-prerouting",
        "type nat hook prerouting priority dstnat; policy accept;",
        &["jump services"],
    ),
    (
        "nat-output",
        "type nat hook output priority -100; policy accept;",
        &["jump services"],
    ),
    (
        "nat-postrouting",
        "type nat hook postrouting priority srcnat; policy accept;",
        &["jump masquerading"],
    ),
    (
        "filter-input",
        "type filter hook input priority -110; policy accept;",
        &[
            "ct state new jump nodeport-endpoints-check",
            "ct state new jump service-endpoints-check",
        ],
    ),
    (
        "filter-forward",
        "type filter hook forward priority -110; policy accept;",
        &["ct state new jump service-endpoints-check"],
    ),
    (
        "filter-output",
        "type filter hook output priority -110; policy accept;",
        &["ct state new jump service-endpoints-check"],
    ),
    // Kept empty: where Kubernetes puts its firewall (loadBalancerSourceRanges) checks.
    (
        "filter-prerouting",
        "type filter hook prerouting priority -110; policy accept;",
        &[],
    ),
    (
        "filter-output-post-dnat",
        "type filter hook output priority -90; policy accept;",
        &[],
    ),
];

/// The four maps: (name, key type).
pub const MAPS: [(&str, &str); 4] = [
    (SERVICE_IPS, "ipv4_addr . inet_proto . inet_service"),
    (SERVICE_NODEPORTS, "inet_proto . inet_service"),
    (
        NO_ENDPOINT_SERVICES,
        "ipv4_addr . inet_proto . inet_service",
    ),
    (NO_ENDPOINT_NODEPORTS, "inet_proto . inet_service"),
];

fn skeleton_rule_count() -> usize {
    FIXED_CHAINS.iter().map(|(_, _, r)| r.len()).sum()
}

/// The table's fixed skeleton as `nft -f` commands (maps and chains before the rules that
/// use them; every name is created with `add`, which is idempotent).
pub fn write_skeleton(out: &mut String) {
    let _ = writeln!(
        out,
        "add table ip {TABLE} {{ comment \"rules for kube-proxy\"; }}"
    );
    for (name, ty) in MAPS {
        let _ = writeln!(out, "add map ip {TABLE} {name} {{ type {ty} : verdict; }}");
    }
    let _ = writeln!(
        out,
        "add set ip {TABLE} {HAIRPIN_SET} {{ type ipv4_addr . ipv4_addr; }}"
    );
    for (name, base, _) in FIXED_CHAINS {
        if base.is_empty() {
            let _ = writeln!(out, "add chain ip {TABLE} {name}");
        } else {
            let _ = writeln!(out, "add chain ip {TABLE} {name} {{ {base} }}");
        }
    }
    for (name, _, rules) in FIXED_CHAINS {
        for r in rules {
            let _ = writeln!(out, "add rule ip {TABLE} {name} {r}");
        }
    }
}

/// The objects of one service port: a pure function of it and the node.
pub fn render_service(sp: &ServicePort, node: &NodeConfig) -> ServiceObjects {
    let mut out = ServiceObjects::default();
    let proto = sp.protocol.lower();
    let base = chain_names::nft_service_base(&sp.namespace, &sp.name, proto, &sp.port_name);
    let svc_chain = format!("service-{base}");
    let ext_chain = format!("external-{base}");
    let has_external = sp.node_port.is_some() || !sp.external_ips.is_empty();
    let key = |ip: &std::net::Ipv4Addr| format!("{ip} . {proto} . {}", sp.port);
    if sp.protocol == crate::model::Protocol::Udp {
        out.udp = Some(UdpFlows {
            destinations: std::iter::once(&sp.cluster_ip)
                .chain(&sp.external_ips)
                .map(|ip| (*ip, sp.port))
                .collect(),
            node_port: sp.node_port,
            endpoints: sp.endpoints.clone(),
        });
    }

    if sp.endpoints.is_empty() {
        let reject = format!("goto {REJECT_CHAIN}");
        out.elements.push(Element {
            map: NO_ENDPOINT_SERVICES,
            key: key(&sp.cluster_ip),
            value: reject.clone(),
        });
        for ip in &sp.external_ips {
            out.elements.push(Element {
                map: NO_ENDPOINT_SERVICES,
                key: key(ip),
                value: reject.clone(),
            });
        }
        if let Some(np) = sp.node_port {
            out.elements.push(Element {
                map: NO_ENDPOINT_NODEPORTS,
                key: format!("{proto} . {np}"),
                value: reject,
            });
        }
        return out;
    }

    out.elements.push(Element {
        map: SERVICE_IPS,
        key: key(&sp.cluster_ip),
        value: format!("goto {svc_chain}"),
    });
    for ip in &sp.external_ips {
        out.elements.push(Element {
            map: SERVICE_IPS,
            key: key(ip),
            value: format!("goto {ext_chain}"),
        });
    }
    if let Some(np) = sp.node_port {
        out.elements.push(Element {
            map: SERVICE_NODEPORTS,
            key: format!("{proto} . {np}"),
            value: format!("goto {ext_chain}"),
        });
    }

    let n = sp.endpoints.len();
    // Endpoints are sorted by address, then port.
    out.endpoint_ips = sp.endpoints.iter().map(|e| e.ip).collect();
    out.endpoint_ips.dedup();
    let mut svc = Vec::with_capacity(3 + n);
    if let Some(cidr) = &node.cluster_cidr {
        svc.push(format!(
            "ip daddr {} {proto} dport {} ip saddr != {cidr} {MARK_MASQ}",
            sp.cluster_ip, sp.port
        ));
    }
    if let Some(timeout) = sp.affinity_timeout {
        let mut vmap = String::new();
        for (i, ep) in sp.endpoints.iter().enumerate() {
            let eb = chain_names::nft_endpoint_base(
                &sp.namespace,
                &sp.name,
                proto,
                &sp.port_name,
                &ep.to_string(),
            );
            let set = format!("affinity-{eb}");
            let chain = format!("endpoint-{eb}");
            out.sets.push((set.clone(), timeout));
            out.chains.push((
                chain.clone(),
                vec![
                    format!("update @{set} {{ ip saddr }}"),
                    format!("meta l4proto {proto} dnat ip to {ep}"),
                ],
            ));
            svc.push(format!("ip saddr @{set} goto {chain}"));
            let sep = if i == 0 { "" } else { ", " };
            let _ = write!(vmap, "{sep}{i} : goto {chain}");
        }
        svc.push(format!("numgen random mod {n} vmap {{ {vmap} }}"));
    } else {
        // The endpoints live in a named map, so an endpoint replaced (same count) is two
        // element changes: no rule is added, which spares the kernel's revalidation of
        // every chain reachable from the base chains (a large part of a commit's cost at
        // 10000 services).
        let map = format!("endpoints-{base}");
        svc.push(format!(
            "meta l4proto {proto} dnat ip to numgen random mod {n} map @{map}"
        ));
        out.endpoint_map = Some(EndpointMap {
            name: map,
            type_of: format!("numgen random mod 1 : ip daddr . {proto} dport"),
            values: sp.endpoints.clone(),
        });
    }
    out.chains.push((svc_chain.clone(), svc));
    if has_external {
        out.chains.push((
            ext_chain,
            vec![
                format!("jump {MARK_FOR_MASQUERADE}"),
                format!("goto {svc_chain}"),
            ],
        ));
    }
    out
}

/// The desired state; `ports` in a stable order (`model::collect` sorts them).
pub fn render(ports: &[ServicePort], node: &NodeConfig) -> NftRuleset {
    Renderer::default().render(ports, node)
}

/// `render` with memory, as the iptables `Renderer`: unchanged service ports keep their
/// (shared) objects, so the planner compares pointers, and a sync that knows which Services
/// changed re-renders only those.
#[derive(Debug, Default)]
pub struct Renderer {
    memo: crate::memo::Memo<ServiceObjects>,
    /// As `NftRuleset::endpoint_ips`, kept up to date by `update_service` (copied on write
    /// while the last applied ruleset shares it).
    endpoint_ips: Arc<HashMap<Ipv4Addr, u32>>,
}

impl Renderer {
    pub fn render(&mut self, ports: &[ServicePort], node: &NodeConfig) -> NftRuleset {
        self.memo.render(ports, node, render_service);
        let rs = NftRuleset::from_services(self.memo.services().clone());
        self.endpoint_ips = rs.endpoint_ips.clone();
        rs
    }

    /// Replaces the ports of one Service (`namespace/name`; empty removes it).
    pub fn update_service(&mut self, service: &str, ports: &[ServicePort]) {
        let (removed, added) = self.memo.update_service(service, ports, render_service);
        let counts = Arc::make_mut(&mut self.endpoint_ips);
        for ip in removed.iter().flat_map(|o| o.endpoint_ips.iter()) {
            if let Some(c) = counts.get_mut(ip) {
                *c -= 1;
                if *c == 0 {
                    counts.remove(ip);
                }
            }
        }
        for ip in added.iter().flat_map(|o| o.endpoint_ips.iter()) {
            *counts.entry(*ip).or_default() += 1;
        }
    }

    pub fn ruleset(&self) -> NftRuleset {
        NftRuleset {
            services: self.memo.services().clone(),
            endpoint_ips: self.endpoint_ips.clone(),
        }
    }

    /// (service ports, ready endpoints) rendered.
    pub fn counts(&self) -> (usize, usize) {
        self.memo.counts()
    }
}

#[cfg(test)]
#[path = "render_tests.rs"]
mod tests;
