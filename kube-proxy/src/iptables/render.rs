//! `render_rules`: the whole desired ruleset as a pure function of the service ports and the
//! node's configuration, shaped like Kubernetes' iptables proxier (pkg/proxy/iptables):
//!
//! nat table
//! - `KUBE-SERVICES` (from PREROUTING and OUTPUT): one rule per cluster IP / external IP
//!   and port of a service with ready endpoints, jumping to its `KUBE-SVC-*` (or, for
//!   external IPs, `KUBE-EXT-*`) chain; last, `--dst-type LOCAL` traffic to `KUBE-NODEPORTS`.
//!   Past [`BUCKET_THRESHOLD`] dispatch rules the dispatch is split by the last octet of the
//!   destination into `KUBE-SVCS-NNN` chains, so adding or removing one service rewrites a
//!   chain of a few dozen rules instead of one of ten thousand (and a packet walks at most
//!   256 + a few dozen rules instead of all of them).
//! - `KUBE-NODEPORTS`: one rule per node port, to the service's `KUBE-EXT-*` chain.
//! - `KUBE-EXT-*`: marks for masquerade, then the service chain.
//! - `KUBE-SVC-*`: masquerade mark for off-cluster sources (with `--cluster-cidr`), the
//!   session-affinity `recent` checks, then endpoint i of n chosen with
//!   `statistic --mode random --probability 1/(n-i)` (the last unconditionally).
//! - `KUBE-SEP-*`: hairpin masquerade mark, the affinity `recent --set`, `DNAT` to ip:port.
//! - `KUBE-MARK-MASQ`, `KUBE-POSTROUTING`: mark bit 0x4000, `MASQUERADE` on the way out.
//!
//! filter table
//! - `KUBE-SERVICES` (from OUTPUT and FORWARD, new connections): `REJECT` for the cluster
//!   and external IPs of services without ready endpoints, so clients are refused at once.
//! - `KUBE-EXTERNAL-SERVICES` (from INPUT and FORWARD): `REJECT` for their node ports.
//! - `KUBE-FORWARD`: accept marked and established service traffic through FORWARD (Docker
//!   sets the FORWARD policy to DROP).
//!
//! Headless and ExternalName services have no rules at all (`model` leaves them out).

use crate::chain_names;
pub use crate::model::{NodeConfig, service_key};
use crate::model::{Protocol, ServicePort};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::Ipv4Addr;
use std::sync::Arc;

/// The masquerade mark (Kubernetes' default `--iptables-masquerade-bit` 14).
pub const MASQ_MARK: &str = "0x4000/0x4000";
/// Dispatch rules in nat KUBE-SERVICES above which dispatch goes through buckets.
pub const BUCKET_THRESHOLD: usize = 1000;

pub const KUBE_SERVICES: &str = "KUBE-SERVICES";
pub const KUBE_NODEPORTS: &str = "KUBE-NODEPORTS";
pub const KUBE_POSTROUTING: &str = "KUBE-POSTROUTING";
pub const KUBE_MARK_MASQ: &str = "KUBE-MARK-MASQ";
pub const KUBE_EXTERNAL_SERVICES: &str = "KUBE-EXTERNAL-SERVICES";
pub const KUBE_FORWARD: &str = "KUBE-FORWARD";

/// Fixed chains this proxy owns, per table.
pub const NAT_CHAINS: [&str; 4] = [
    KUBE_SERVICES,
    KUBE_NODEPORTS,
    KUBE_POSTROUTING,
    KUBE_MARK_MASQ,
];
pub const FILTER_CHAINS: [&str; 3] = [KUBE_SERVICES, KUBE_EXTERNAL_SERVICES, KUBE_FORWARD];
/// Prefixes of the per-service and per-endpoint chains this proxy owns.
pub const OWNED_PREFIXES: [&str; 4] = ["KUBE-SVC-", "KUBE-SEP-", "KUBE-EXT-", "KUBE-SVCS-"];

/// Whether a chain of `table` is one this proxy made (and may delete).
pub fn is_owned(table: &str, chain: &str) -> bool {
    let fixed: &[&str] = if table == "nat" {
        &NAT_CHAINS
    } else {
        &FILTER_CHAINS
    };
    fixed.contains(&chain)
        || (table == "nat" && OWNED_PREFIXES.iter().any(|p| chain.starts_with(p)))
}

/// One table: chain name -> its rules, each rule the text after `-A <chain> `.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    pub chains: BTreeMap<String, Vec<String>>,
}

impl Table {
    fn chain(&mut self, name: &str) -> &mut Vec<String> {
        self.chains.entry(name.to_string()).or_default()
    }

    pub fn rule_count(&self) -> usize {
        self.chains.values().map(Vec::len).sum()
    }
}

/// The nat chains of one service port (`KUBE-SEP-*`, `KUBE-SVC-*`, `KUBE-EXT-*`, in write
/// order), and its entries in the shared chains. Kept per service port so that a sync
/// compares and rewrites services, not a hundred thousand chains, and so that an unchanged
/// service's rules are reused from the last render (`Renderer`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceRules {
    /// (chain, rules), endpoint chains first.
    pub chains: Vec<(String, Vec<String>)>,
    /// nat `KUBE-SERVICES` entries, by destination (the dispatch bucket is its last octet).
    pub dispatch: Vec<(Ipv4Addr, String)>,
    /// nat `KUBE-NODEPORTS` entries.
    pub node_ports: Vec<String>,
    /// filter `KUBE-SERVICES` REJECT entries (no ready endpoints).
    pub reject: Vec<String>,
    /// filter `KUBE-EXTERNAL-SERVICES` REJECT entries.
    pub reject_external: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ruleset {
    /// The shared nat chains: fixed ones and dispatch buckets.
    pub nat: Table,
    pub filter: Table,
    /// Per service port (`namespace/name[:port]/protocol`): its own nat chains.
    pub services: BTreeMap<String, Arc<ServiceRules>>,
}

impl Ruleset {
    pub fn rule_count(&self) -> usize {
        self.nat.rule_count() + self.filter.rule_count() + self.service_rule_count()
    }

    fn service_rule_count(&self) -> usize {
        self.services
            .values()
            .flat_map(|s| s.chains.iter())
            .map(|(_, r)| r.len())
            .sum()
    }

    pub fn nat_rule_count(&self) -> usize {
        self.nat.rule_count() + self.service_rule_count()
    }

    pub fn chain_count(&self) -> usize {
        self.nat.chains.len()
            + self.filter.chains.len()
            + self
                .services
                .values()
                .map(|s| s.chains.len())
                .sum::<usize>()
    }

    /// Every nat chain, shared and per service, by name (tests and tools; it copies).
    pub fn nat_chains(&self) -> BTreeMap<String, Vec<String>> {
        let mut all = self.nat.chains.clone();
        for s in self.services.values() {
            for (c, r) in &s.chains {
                all.insert(c.clone(), r.clone());
            }
        }
        all
    }

    /// The rules of one nat chain (a linear search over services: tests and tools).
    pub fn nat_chain(&self, name: &str) -> Option<&Vec<String>> {
        self.nat.chains.get(name).or_else(|| {
            self.services
                .values()
                .flat_map(|s| s.chains.iter())
                .find(|(c, _)| c == name)
                .map(|(_, r)| r)
        })
    }

    /// The whole ruleset as one `iptables-restore` input (filter then nat, chains in name
    /// order): the golden-test form, and the baseline the benchmark loads in one go.
    pub fn to_restore_text(&self) -> String {
        let mut out = String::new();
        let nat = self.nat_chains();
        for (name, chains) in [("filter", &self.filter.chains), ("nat", &nat)] {
            let _ = writeln!(out, "*{name}");
            for chain in chains.keys() {
                let _ = writeln!(out, ":{chain} - [0:0]");
            }
            for (chain, rules) in chains {
                for r in rules {
                    let _ = writeln!(out, "-A {chain} {r}");
                }
            }
            out.push_str("COMMIT\n");
        }
        out
    }
}

/// iptables' argument for a comment (quoted when it has spaces).
fn comment(text: &str) -> String {
    if text.contains(' ') {
        format!("-m comment --comment \"{text}\"")
    } else {
        format!("-m comment --comment {text}")
    }
}

/// `-p tcp -m tcp` style protocol match.
fn proto_match(p: Protocol) -> String {
    let l = p.lower();
    format!("-p {l} -m {l}")
}

/// The probability endpoint `i` of `n` is picked with, given the earlier ones were not:
/// 1/(n-i), printed as Kubernetes prints it (10 decimals).
pub fn probability(i: usize, n: usize) -> String {
    format!("{:.10}", 1.0 / (n - i) as f64)
}

/// `probability` without formatting a float per rule: 1/k printed once for k up to 256
/// (a rendering of 10000 services x 10 endpoints needs 90000 of them).
fn probability_str(i: usize, n: usize) -> std::borrow::Cow<'static, str> {
    static TABLE: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    let k = n - i;
    let table = TABLE.get_or_init(|| (0..=256).map(|k| probability(0, k.max(1))).collect());
    match table.get(k) {
        Some(s) => std::borrow::Cow::Borrowed(s.as_str()),
        None => std::borrow::Cow::Owned(probability(i, n)),
    }
}

/// Appends `ip` in dotted decimal without the formatting machinery.
fn push_ip(out: &mut String, ip: Ipv4Addr) {
    for (i, o) in ip.octets().iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        push_u16(out, u16::from(*o));
    }
}

fn push_u16(out: &mut String, v: u16) {
    let mut buf = [0u8; 5];
    let mut n = 0;
    let mut v = v;
    loop {
        buf[n] = b'0' + (v % 10) as u8;
        n += 1;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    for d in buf[..n].iter().rev() {
        out.push(char::from(*d));
    }
}

/// The rules of one service port: a pure function of it and the node.
pub fn render_service(sp: &ServicePort, node: &NodeConfig) -> ServiceRules {
    let mut out = ServiceRules::default();
    let spn = sp.port_name_string();
    let proto = sp.protocol.lower();
    let pm = proto_match(sp.protocol);
    let hashed = chain_names::PortHasher::new(&spn, proto);
    let svc_chain = hashed.chain("KUBE-SVC-");
    let ext_chain = hashed.chain("KUBE-EXT-");
    let has_external = sp.node_port.is_some() || !sp.external_ips.is_empty();

    if sp.endpoints.is_empty() {
        let c = comment(&format!("{spn} has no endpoints"));
        out.reject.push(format!(
            "{c} -d {}/32 {pm} --dport {} -j REJECT",
            sp.cluster_ip, sp.port
        ));
        for ip in &sp.external_ips {
            out.reject_external
                .push(format!("{c} -d {ip}/32 {pm} --dport {} -j REJECT", sp.port));
        }
        if let Some(np) = sp.node_port {
            out.reject_external.push(format!(
                "{c} -m addrtype --dst-type LOCAL {pm} --dport {np} -j REJECT"
            ));
        }
        return out;
    }

    out.dispatch.push((
        sp.cluster_ip,
        format!(
            "{} -d {}/32 {pm} --dport {} -j {svc_chain}",
            comment(&format!("{spn} cluster IP")),
            sp.cluster_ip,
            sp.port
        ),
    ));
    for ip in &sp.external_ips {
        out.dispatch.push((
            *ip,
            format!(
                "{} -d {ip}/32 {pm} --dport {} -j {ext_chain}",
                comment(&format!("{spn} external IP")),
                sp.port
            ),
        ));
    }
    if let Some(np) = sp.node_port {
        out.node_ports.push(format!(
            "{} {pm} --dport {np} -j {ext_chain}",
            comment(&spn)
        ));
    }

    // One pass over the endpoints: each endpoint chain's name is hashed from the port's
    // hash state, its rules and the service chain's rules for it written with one
    // allocation each; the name then moves into the chain list.
    let hasher = hashed;
    let n = sp.endpoints.len();
    out.chains.reserve(n + 2);
    let mut affinity_rules = Vec::new();
    let mut pick_rules = Vec::with_capacity(n);
    let mut ep_text = String::with_capacity(21);
    for (i, ep) in sp.endpoints.iter().enumerate() {
        ep_text.clear();
        push_ip(&mut ep_text, ep.ip);
        ep_text.push(':');
        push_u16(&mut ep_text, ep.port);
        let sep = hasher.endpoint_chain(&ep_text);
        // Exact capacities: no reallocation, and no more memory touched than written (a
        // render from scratch at 10000 services spends a third of its time in page faults).
        let mut masq = String::with_capacity(10 + ep_text.len() + KUBE_MARK_MASQ.len());
        masq.push_str("-s ");
        push_ip(&mut masq, ep.ip);
        masq.push_str("/32 -j ");
        masq.push_str(KUBE_MARK_MASQ);
        let recent = if sp.affinity_timeout.is_some() {
            24 + sep.len()
        } else {
            0
        };
        let mut dnat = String::with_capacity(recent + pm.len() + 27 + ep_text.len());
        if sp.affinity_timeout.is_some() {
            dnat.push_str("-m recent --name ");
            dnat.push_str(&sep);
            dnat.push_str(" --set ");
        }
        dnat.push_str(&pm);
        dnat.push_str(" -j DNAT --to-destination ");
        dnat.push_str(&ep_text);
        if let Some(timeout) = sp.affinity_timeout {
            affinity_rules.push(format!(
                "-m recent --name {sep} --rcheck --seconds {timeout} --reap -j {sep}"
            ));
        }
        let p = (i + 1 < n).then(|| probability_str(i, n));
        let mut pick =
            String::with_capacity(42 + p.as_ref().map_or(0, |p| p.len()) + 3 + sep.len());
        if let Some(p) = p {
            pick.push_str("-m statistic --mode random --probability ");
            pick.push_str(&p);
            pick.push(' ');
        }
        pick.push_str("-j ");
        pick.push_str(&sep);
        pick_rules.push(pick);
        out.chains.push((sep, vec![masq, dnat]));
    }
    let mut svc = Vec::with_capacity(affinity_rules.len() + n + 1);
    if let Some(cidr) = &node.cluster_cidr {
        svc.push(format!(
            "-d {}/32 {pm} --dport {} ! -s {cidr} -j {KUBE_MARK_MASQ}",
            sp.cluster_ip, sp.port
        ));
    }
    svc.append(&mut affinity_rules);
    svc.append(&mut pick_rules);
    out.chains.push((svc_chain.clone(), svc));
    if has_external {
        out.chains.push((
            ext_chain,
            vec![
                format!(
                    "{} -j {KUBE_MARK_MASQ}",
                    comment(&format!(
                        "masquerade traffic for {spn} external destinations"
                    ))
                ),
                format!("-j {svc_chain}"),
            ],
        ));
    }
    out
}

/// The desired ruleset. `ports` should be in a stable order (`model::collect` sorts them);
/// the output is deterministic for a given input.
pub fn render_rules(ports: &[ServicePort], node: &NodeConfig) -> Ruleset {
    Renderer::default().render(ports, node)
}

/// `render_rules` with memory: a service port equal to the one rendered last time gets the
/// same (shared) rules back instead of being rendered again, and a sync that knows which
/// Services changed re-renders only those (`update_service`, then `ruleset`). The output
/// is always equal to `render_rules`' over the same ports (tested); only the time differs.
#[derive(Debug, Default)]
pub struct Renderer {
    memo: crate::memo::Memo<ServiceRules>,
}

impl Renderer {
    /// Renders everything (reusing what did not change) and returns the ruleset.
    pub fn render(&mut self, ports: &[ServicePort], node: &NodeConfig) -> Ruleset {
        self.memo.render(ports, node, render_service);
        self.ruleset()
    }

    /// Replaces the ports of one Service (`namespace/name`; empty `ports` removes it).
    /// Call `render` once first: it sets the node.
    pub fn update_service(&mut self, service: &str, ports: &[ServicePort]) {
        self.memo.update_service(service, ports, render_service);
    }

    /// The ruleset of everything rendered so far.
    pub fn ruleset(&self) -> Ruleset {
        assemble(self.memo.services().clone())
    }

    /// (service ports, ready endpoints) rendered.
    pub fn counts(&self) -> (usize, usize) {
        self.memo.counts()
    }
}

/// The shared chains around the per-service ones.
fn assemble(services: BTreeMap<String, Arc<ServiceRules>>) -> Ruleset {
    let mut nat = Table::default();
    let mut filter = Table::default();
    for c in NAT_CHAINS {
        nat.chain(c);
    }
    for c in FILTER_CHAINS {
        filter.chain(c);
    }
    nat.chain(KUBE_POSTROUTING).extend([
        format!("-m mark ! --mark {MASQ_MARK} -j RETURN"),
        "-j MARK --xor-mark 0x4000".to_string(),
        format!(
            "{} -j MASQUERADE --random-fully",
            comment("kubernetes service traffic requiring SNAT")
        ),
    ]);
    nat.chain(KUBE_MARK_MASQ)
        .push("-j MARK --or-mark 0x4000".to_string());
    filter.chain(KUBE_FORWARD).extend([
        "-m conntrack --ctstate INVALID -j DROP".to_string(),
        format!(
            "{} -m mark --mark {MASQ_MARK} -j ACCEPT",
            comment("kubernetes forwarding rules")
        ),
        format!(
            "{} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
            comment("kubernetes forwarding conntrack rule")
        ),
    ]);
    let dispatch_count: usize = services.values().map(|s| s.dispatch.len()).sum();
    let mut buckets: BTreeMap<u8, Vec<String>> = BTreeMap::new();
    for s in services.values() {
        for (ip, rule) in &s.dispatch {
            if dispatch_count > BUCKET_THRESHOLD {
                buckets
                    .entry(ip.octets()[3])
                    .or_default()
                    .push(rule.clone());
            } else {
                nat.chain(KUBE_SERVICES).push(rule.clone());
            }
        }
        nat.chain(KUBE_NODEPORTS)
            .extend(s.node_ports.iter().cloned());
        filter.chain(KUBE_SERVICES).extend(s.reject.iter().cloned());
        filter
            .chain(KUBE_EXTERNAL_SERVICES)
            .extend(s.reject_external.iter().cloned());
    }
    for (octet, rules) in buckets {
        let chain = format!("KUBE-SVCS-{octet:03}");
        nat.chain(KUBE_SERVICES)
            .push(format!("-d 0.0.0.{octet}/0.0.0.255 -j {chain}"));
        *nat.chain(&chain) = rules;
    }
    nat.chain(KUBE_SERVICES).push(format!(
        "{} -m addrtype --dst-type LOCAL -j {KUBE_NODEPORTS}",
        comment("kubernetes service nodeports; NOTE: this must be the last rule in this chain")
    ));
    Ruleset {
        nat,
        filter,
        services,
    }
}

/// The jump rules from the built-in chains into this proxy's chains: (table, built-in
/// chain, rule arguments). Made idempotently at every full sync, removed by `--cleanup`.
pub fn jump_rules() -> Vec<(&'static str, &'static str, Vec<String>)> {
    let new = |c: &str| -> Vec<String> {
        let mut v: Vec<String> = [
            "-m",
            "conntrack",
            "--ctstate",
            "NEW",
            "-m",
            "comment",
            "--comment",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        v.push(format!("kubernetes {c}"));
        v
    };
    let jump = |mut v: Vec<String>, target: &str| {
        v.push("-j".into());
        v.push(target.into());
        v
    };
    let plain = |c: &str, target: &str| {
        vec![
            "-m".to_string(),
            "comment".into(),
            "--comment".into(),
            format!("kubernetes {c}"),
            "-j".into(),
            target.into(),
        ]
    };
    vec![
        (
            "filter",
            "INPUT",
            jump(
                new("externally-visible service portals"),
                KUBE_EXTERNAL_SERVICES,
            ),
        ),
        ("filter", "FORWARD", plain("forwarding rules", KUBE_FORWARD)),
        (
            "filter",
            "FORWARD",
            jump(new("service portals"), KUBE_SERVICES),
        ),
        (
            "filter",
            "FORWARD",
            jump(
                new("externally-visible service portals"),
                KUBE_EXTERNAL_SERVICES,
            ),
        ),
        (
            "filter",
            "OUTPUT",
            jump(new("service portals"), KUBE_SERVICES),
        ),
        ("nat", "PREROUTING", plain("service portals", KUBE_SERVICES)),
        ("nat", "OUTPUT", plain("service portals", KUBE_SERVICES)),
        (
            "nat",
            "POSTROUTING",
            plain("postrouting rules", KUBE_POSTROUTING),
        ),
    ]
}

#[cfg(test)]
#[path = "render_tests.rs"]
mod tests;
