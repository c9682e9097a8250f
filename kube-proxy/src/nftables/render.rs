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
//!   `--cluster-cidr` (set inline, not by a jump), then `goto dnat-<proto>-<N>` (N: its
//!   number of ready endpoints).
//! - `dnat-<proto>-<N>`, one per protocol and endpoint count in use, shared by every
//!   service port with N endpoints: `dnat ip to ip daddr . <proto> dport . numgen random
//!   mod N map @service-endpoints-<proto>` (cluster and external IPs), then the same keyed
//!   `<proto> dport . numgen …` in `@nodeport-endpoints-<proto>` (node ports).
//! - `service-endpoints-<proto>` / `nodeport-endpoints-<proto>`: six shared maps,
//!   `<frontend> . <i> : ip . port` for endpoint i of every service port. Few named sets on purpose: the kernel
//!   finds a set by name walking the table's list (a named map per service made a
//!   10000-service load O(n^2): 9.6 s), creates anonymous ones the same way (upstream's
//!   `numgen … vmap { … }` per service: worse), and checks every element added to a map
//!   against every rule bound to it (so the map is looked up by a few shared rules, not
//!   one per service). An endpoint replaced is two element changes per frontend, no rule.
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
/// The protocols a service port may have, in the endpoint maps' order.
pub const PROTOCOLS: [&str; 3] = ["tcp", "udp", "sctp"];

/// Per protocol, endpoint i of a service port by its cluster or external IP (`ip . port .
/// i`) and by its node port (`port . i`). One pair per protocol because nft 1.0.6 cannot
/// add a rule against a map whose `typeof` it read back from the kernel with `th dport` in
/// it ("conflicting protocols"), so the key names the protocol's own `dport`.
pub fn endpoint_maps(proto: &str) -> (&'static str, &'static str) {
    match proto {
        "udp" => ("service-endpoints-udp", "nodeport-endpoints-udp"),
        "sctp" => ("service-endpoints-sctp", "nodeport-endpoints-sctp"),
        _ => ("service-endpoints-tcp", "nodeport-endpoints-tcp"),
    }
}
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
    /// The shared `dnat-<proto>-<N>` chain its service chain jumps to (without session
    /// affinity).
    pub dispatch: Option<Dispatch>,
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

/// A `dnat-<proto>-<N>` chain: picks endpoint `numgen random mod N` of the service port
/// the packet was sent to, from the shared endpoint maps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Dispatch {
    pub proto: &'static str,
    pub endpoints: usize,
}

impl Dispatch {
    pub fn chain(&self) -> String {
        format!("dnat-{}-{}", self.proto, self.endpoints)
    }

    pub fn rules(&self) -> [String; 2] {
        let (p, n) = (self.proto, self.endpoints);
        let (by_ip, by_port) = endpoint_maps(p);
        [
            format!(
                "meta l4proto {p} dnat ip to ip daddr . {p} dport . numgen random mod {n} map @{by_ip}"
            ),
            format!("meta l4proto {p} dnat ip to {p} dport . numgen random mod {n} map @{by_port}"),
        ]
    }
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

    /// The `dnat-<proto>-<N>` chains in use (a walk over every service port).
    pub fn dispatches(&self) -> std::collections::BTreeSet<Dispatch> {
        self.services.values().filter_map(|s| s.dispatch).collect()
    }

    pub fn chain_count(&self) -> usize {
        FIXED_CHAINS.len()
            + self.dispatches().len()
            + self
                .services
                .values()
                .map(|s| s.chains.len())
                .sum::<usize>()
    }

    pub fn rule_count(&self) -> usize {
        skeleton_rule_count()
            + 2 * self.dispatches().len()
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
        let value = format!("{ip} . {port}");
        self.elements
            .iter()
            .any(|e| e.map.starts_with("service-endpoints-") && e.value == value)
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

/// An endpoint map's `typeof` line: (by IP, by node port).
pub fn endpoint_map_types(proto: &str) -> (String, String) {
    (
        format!("ip daddr . {proto} dport . numgen random mod 1 : ip daddr . {proto} dport"),
        format!("{proto} dport . numgen random mod 1 : ip daddr . {proto} dport"),
    )
}

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
    for proto in PROTOCOLS {
        let (by_ip, by_port) = endpoint_maps(proto);
        let (ip_type, port_type) = endpoint_map_types(proto);
        let _ = writeln!(out, "add map ip {TABLE} {by_ip} {{ typeof {ip_type}; }}");
        let _ = writeln!(
            out,
            "add map ip {TABLE} {by_port} {{ typeof {port_type}; }}"
        );
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
        // Endpoint i under every frontend of the service port in the shared maps; the
        // chain only names the count. So an endpoint replaced (same count) is element
        // changes in a map no verdict depends on: no rule is added, which spares the
        // kernel's revalidation of every chain reachable from the base chains (a large
        // part of a commit's cost at 10000 services).
        let value = |e: &Endpoint| format!("{} . {}", e.ip, e.port);
        let (by_ip, by_port) = endpoint_maps(proto);
        for fe in std::iter::once(&sp.cluster_ip).chain(&sp.external_ips) {
            for (i, e) in sp.endpoints.iter().enumerate() {
                out.elements.push(Element {
                    map: by_ip,
                    key: format!("{fe} . {} . {i}", sp.port),
                    value: value(e),
                });
            }
        }
        if let Some(np) = sp.node_port {
            for (i, e) in sp.endpoints.iter().enumerate() {
                out.elements.push(Element {
                    map: by_port,
                    key: format!("{np} . {i}"),
                    value: value(e),
                });
            }
        }
        let d = Dispatch {
            proto,
            endpoints: n,
        };
        svc.push(format!("goto {}", d.chain()));
        out.dispatch = Some(d);
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
