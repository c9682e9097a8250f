//! `plan_sync`: the `nft -f` input that moves the table from the last applied state to the
//! desired one, as ONE transaction (nft applies a whole file atomically). Pure.
//!
//! - Full (nothing applied, or after a failure, or periodically): `add table` + `delete
//!   table` (so a table left by an earlier run, whatever it holds, goes), then the skeleton
//!   and every service's sets, chains and map elements. The old and the new table swap in
//!   one commit: traffic never sees a half-programmed state.
//! - Incremental: only service ports whose objects changed (one pointer compare for the
//!   others). New chains are added, changed chains flushed and refilled; map elements no
//!   longer wanted are deleted before new ones are added (so a key may move between maps or
//!   services in one sync); chains no longer wanted are flushed and deleted last, after the
//!   elements that jumped to them are gone; then their affinity sets.
//!
//! A sync that replaces one service's endpoint is therefore a few element lines in the
//! shared endpoint maps and no rule; a changed endpoint count rewrites its service chain
//! (two rules: the mark and `goto dnat-<proto>-<N>`). The shared `dnat-<proto>-<N>` chains
//! are written before the first service chain that jumps to one and deleted after the last
//! one has gone (see docs/kube-proxy.md for the layout and its figures).

use super::render::{
    Dispatch, Element, HAIRPIN_SET, NftRuleset, ServiceObjects, TABLE, write_skeleton,
};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::net::Ipv4Addr;

/// Elements per `add element` / `delete element` command.
const ELEMENTS_PER_COMMAND: usize = 1000;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NftPlan {
    /// The `nft -f` input; empty when nothing changed.
    pub text: String,
    /// The plan rebuilds the whole table.
    pub full: bool,
    pub chains_written: usize,
    pub rules_written: usize,
    pub chains_deleted: usize,
    pub elements_added: usize,
    pub elements_deleted: usize,
}

impl NftPlan {
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    pub fn lines(&self) -> usize {
        self.text.lines().count()
    }
}

/// The plan from `applied` (None: unknown, rebuild the table) to `desired`.
pub fn plan_sync(applied: Option<&NftRuleset>, desired: &NftRuleset) -> NftPlan {
    match applied {
        Some(a) => incremental(a, desired).unwrap_or_else(|| full(desired)),
        None => full(desired),
    }
}

fn write_chain(out: &mut String, plan: &mut NftPlan, verb: &str, chain: &str, rules: &[String]) {
    let _ = writeln!(out, "{verb} chain ip {TABLE} {chain}");
    for r in rules {
        let _ = writeln!(out, "add rule ip {TABLE} {chain} {r}");
    }
    plan.chains_written += 1;
    plan.rules_written += rules.len();
}

fn write_set(out: &mut String, name: &str, timeout: u32) {
    let _ = writeln!(
        out,
        "add set ip {TABLE} {name} {{ type ipv4_addr; flags dynamic,timeout; timeout {timeout}s; }}"
    );
}

/// `add element` (with values) or `delete element` (keys only) commands, grouped per map.
fn write_elements(out: &mut String, add: bool, elements: &[&Element]) {
    let mut by_map: BTreeMap<&str, Vec<&Element>> = BTreeMap::new();
    for e in elements {
        by_map.entry(e.map).or_default().push(e);
    }
    for (map, elems) in by_map {
        for chunk in elems.chunks(ELEMENTS_PER_COMMAND) {
            let verb = if add { "add" } else { "delete" };
            let _ = write!(out, "{verb} element ip {TABLE} {map} {{ ");
            for (i, e) in chunk.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&e.key);
                if add {
                    out.push_str(" : ");
                    out.push_str(&e.value);
                }
            }
            out.push_str(" }\n");
        }
    }
}

fn write_dispatch(out: &mut String, plan: &mut NftPlan, d: &Dispatch) {
    write_chain(out, plan, "add", &d.chain(), &d.rules());
}

/// `add element` / `delete element` for the hairpin set (`ip . ip`).
fn write_hairpin(out: &mut String, add: bool, ips: &[Ipv4Addr]) {
    let verb = if add { "add" } else { "delete" };
    for chunk in ips.chunks(ELEMENTS_PER_COMMAND) {
        let _ = write!(out, "{verb} element ip {TABLE} {HAIRPIN_SET} {{ ");
        for (i, ip) in chunk.iter().enumerate() {
            let sep = if i == 0 { "" } else { ", " };
            let _ = write!(out, "{sep}{ip} . {ip}");
        }
        out.push_str(" }\n");
    }
}

fn full(desired: &NftRuleset) -> NftPlan {
    let mut plan = NftPlan {
        full: true,
        ..Default::default()
    };
    let mut out = String::with_capacity(desired.services.len() * 600 + 4096);
    // Made first so the delete never fails, whether or not a table exists.
    let _ = writeln!(out, "add table ip {TABLE}");
    let _ = writeln!(out, "delete table ip {TABLE}");
    write_skeleton(&mut out);
    for d in desired.dispatches() {
        write_dispatch(&mut out, &mut plan, &d);
    }
    for s in desired.services.values() {
        for (set, timeout) in &s.sets {
            write_set(&mut out, set, *timeout);
        }
        for (c, rules) in &s.chains {
            write_chain(&mut out, &mut plan, "add", c, rules);
        }
    }
    let elements: Vec<&Element> = desired
        .services
        .values()
        .flat_map(|s| s.elements.iter())
        .collect();
    write_elements(&mut out, true, &elements);
    let mut ips: Vec<Ipv4Addr> = desired.endpoint_ips.keys().copied().collect();
    ips.sort_unstable();
    write_hairpin(&mut out, true, &ips);
    plan.elements_added = elements.len() + ips.len();
    plan.text = out;
    plan
}

/// None when the change cannot be made incrementally (an affinity set's timeout changed:
/// a set cannot be redefined while rules use it).
fn incremental(applied: &NftRuleset, desired: &NftRuleset) -> Option<NftPlan> {
    let mut plan = NftPlan::default();
    let mut out = String::new();
    let empty = ServiceObjects::default();
    let mut del_elements: Vec<&Element> = Vec::new();
    let mut add_elements: Vec<&Element> = Vec::new();
    let mut stale_chains: Vec<&str> = Vec::new();
    let mut stale_sets: Vec<&str> = Vec::new();
    let mut changed: Vec<(&ServiceObjects, &ServiceObjects)> = Vec::new();
    let mut touched_ips: BTreeSet<Ipv4Addr> = BTreeSet::new();
    for (key, want) in &desired.services {
        match applied.services.get(key) {
            Some(had) if std::sync::Arc::ptr_eq(had, want) || had == want => {}
            Some(had) => changed.push((had, want)),
            None => changed.push((&empty, want)),
        }
    }
    for (key, had) in &applied.services {
        if !desired.services.contains_key(key) {
            changed.push((had, &empty));
        }
    }
    if changed.is_empty() {
        return Some(plan);
    }
    // The shared dnat chains: made before the service chains that jump to them, deleted
    // after the last one went. Walks every service port only when a count changed.
    let mut new_dispatch: BTreeSet<Dispatch> = BTreeSet::new();
    let mut stale_dispatch: BTreeSet<Dispatch> = BTreeSet::new();
    if changed.iter().any(|(h, w)| h.dispatch != w.dispatch) {
        let (was, is) = (applied.dispatches(), desired.dispatches());
        new_dispatch = is.difference(&was).copied().collect();
        stale_dispatch = was.difference(&is).copied().collect();
    }
    for d in &new_dispatch {
        write_dispatch(&mut out, &mut plan, d);
    }
    for (had, want) in &changed {
        let had_sets: HashMap<&str, u32> = had.sets.iter().map(|(n, t)| (n.as_str(), *t)).collect();
        for (set, timeout) in &want.sets {
            match had_sets.get(set.as_str()) {
                None => write_set(&mut out, set, *timeout),
                Some(t) if t != timeout => return None,
                Some(_) => {}
            }
        }
        for (c, rules) in &want.chains {
            match had.chains.iter().find(|(hc, _)| hc == c) {
                None => write_chain(&mut out, &mut plan, "add", c, rules),
                Some((_, hr)) if hr != rules => write_chain(&mut out, &mut plan, "flush", c, rules),
                Some(_) => {}
            }
        }
        let want_chains: BTreeSet<&str> = want.chains.iter().map(|(c, _)| c.as_str()).collect();
        // Referrers before the chains they jump to (reverse creation order).
        stale_chains.extend(
            had.chains
                .iter()
                .rev()
                .map(|(c, _)| c.as_str())
                .filter(|c| !want_chains.contains(c)),
        );
        let want_sets: BTreeSet<&str> = want.sets.iter().map(|(s, _)| s.as_str()).collect();
        stale_sets.extend(
            had.sets
                .iter()
                .map(|(s, _)| s.as_str())
                .filter(|s| !want_sets.contains(s)),
        );
        touched_ips.extend(had.endpoint_ips.iter().chain(&want.endpoint_ips));
        let had_el: BTreeSet<&Element> = had.elements.iter().collect();
        let want_el: BTreeSet<&Element> = want.elements.iter().collect();
        del_elements.extend(had_el.difference(&want_el));
        add_elements.extend(want_el.difference(&had_el));
    }
    let live = |r: &NftRuleset, ip: &Ipv4Addr| r.endpoint_ips.get(ip).is_some_and(|c| *c > 0);
    let (mut hair_del, mut hair_add) = (Vec::new(), Vec::new());
    for ip in &touched_ips {
        match (live(applied, ip), live(desired, ip)) {
            (true, false) => hair_del.push(*ip),
            (false, true) => hair_add.push(*ip),
            _ => {}
        }
    }
    write_elements(&mut out, false, &del_elements);
    write_hairpin(&mut out, false, &hair_del);
    write_elements(&mut out, true, &add_elements);
    write_hairpin(&mut out, true, &hair_add);
    let stale_dispatch: Vec<String> = stale_dispatch.iter().map(Dispatch::chain).collect();
    stale_chains.extend(stale_dispatch.iter().map(String::as_str));
    for c in &stale_chains {
        let _ = writeln!(out, "flush chain ip {TABLE} {c}");
    }
    for c in &stale_chains {
        let _ = writeln!(out, "delete chain ip {TABLE} {c}");
    }
    for s in &stale_sets {
        let _ = writeln!(out, "delete set ip {TABLE} {s}");
    }
    plan.chains_deleted = stale_chains.len();
    plan.elements_added += add_elements.len() + hair_add.len();
    plan.elements_deleted += del_elements.len() + hair_del.len();
    plan.text = out;
    Some(plan)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Endpoint, Protocol, ServicePort};
    use crate::nftables::render::{NodeConfig, render};

    pub(crate) fn sp(i: usize, endpoints: usize) -> ServicePort {
        ServicePort {
            namespace: "ns".into(),
            name: format!("s{i}"),
            port_name: String::new(),
            protocol: Protocol::Tcp,
            cluster_ip: [10, 96, (i / 256) as u8, (i % 256) as u8].into(),
            port: 80,
            node_port: i.is_multiple_of(3).then_some(30000 + i as u16),
            external_ips: vec![],
            affinity_timeout: None,
            endpoints: (0..endpoints)
                .map(|e| Endpoint {
                    ip: [10, 244, (i % 250) as u8, e as u8 + 1].into(),
                    port: 8080,
                })
                .collect(),
        }
    }

    fn node() -> NodeConfig {
        NodeConfig {
            cluster_cidr: Some("10.244.0.0/16".into()),
        }
    }

    #[test]
    fn one_endpoint_replaced_is_element_changes_in_the_shared_map_and_no_rule() {
        let mut ports: Vec<ServicePort> = (0..50).map(|i| sp(i, 3)).collect();
        let before = render(&ports, &node());
        ports[7].endpoints[2].ip = [10, 250, 0, 9].into();
        let after = render(&ports, &node());
        let plan = plan_sync(Some(&before), &after);
        assert!(!plan.full);
        assert_eq!(
            plan.text,
            "delete element ip kube-proxy service-endpoints-tcp { 10.96.0.7 . 80 . 2 }\n\
             delete element ip kube-proxy hairpin { 10.244.7.3 . 10.244.7.3 }\n\
             add element ip kube-proxy service-endpoints-tcp { 10.96.0.7 . 80 . 2 : 10.250.0.9 . 8080 }\n\
             add element ip kube-proxy hairpin { 10.250.0.9 . 10.250.0.9 }\n"
        );
        assert_eq!((plan.chains_written, plan.elements_added), (0, 2));
        assert!(plan_sync(Some(&after), &after).is_empty());
    }

    #[test]
    fn one_endpoint_more_makes_its_dnat_chain_and_rewrites_the_service_chain() {
        let mut ports: Vec<ServicePort> = (0..5).map(|i| sp(i, 2)).collect();
        let before = render(&ports, &node());
        ports[1].endpoints.push(crate::model::Endpoint {
            ip: [10, 244, 1, 9].into(),
            port: 8080,
        });
        let after = render(&ports, &node());
        let plan = plan_sync(Some(&before), &after);
        let base = crate::chain_names::nft_service_base("ns", "s1", "tcp", "");
        // The first service port with 3 endpoints: its shared dnat chain comes first.
        assert_eq!(
            plan.text,
            format!(
                "add chain ip kube-proxy dnat-tcp-3\n\
                 add rule ip kube-proxy dnat-tcp-3 meta l4proto tcp dnat ip to ip daddr . tcp dport . numgen random mod 3 map @service-endpoints-tcp\n\
                 add rule ip kube-proxy dnat-tcp-3 meta l4proto tcp dnat ip to tcp dport . numgen random mod 3 map @nodeport-endpoints-tcp\n\
                 flush chain ip kube-proxy service-{base}\n\
                 add rule ip kube-proxy service-{base} ip daddr 10.96.0.1 tcp dport 80 ip saddr != 10.244.0.0/16 meta mark set meta mark | 0x4000\n\
                 add rule ip kube-proxy service-{base} goto dnat-tcp-3\n\
                 add element ip kube-proxy service-endpoints-tcp {{ 10.96.0.1 . 80 . 2 : 10.244.1.9 . 8080 }}\n\
                 add element ip kube-proxy hairpin {{ 10.244.1.9 . 10.244.1.9 }}\n"
            )
        );
        // Back to 2: the chain nobody jumps to any more goes, after the service chain.
        let back = plan_sync(Some(&after), &before);
        assert!(
            back.text.ends_with(
                "flush chain ip kube-proxy dnat-tcp-3\ndelete chain ip kube-proxy dnat-tcp-3\n"
            ),
            "{}",
            back.text
        );
        assert_eq!(back.chains_deleted, 1);
    }

    #[test]
    fn losing_all_endpoints_moves_the_key_to_the_reject_map_and_deletes_the_chains() {
        let mut ports: Vec<ServicePort> = (0..4).map(|i| sp(i, 2)).collect();
        let before = render(&ports, &node());
        ports[3].endpoints.clear();
        let after = render(&ports, &node());
        let plan = plan_sync(Some(&before), &after);
        let base = crate::chain_names::nft_service_base("ns", "s3", "tcp", "");
        assert_eq!(
            plan.text,
            format!(
                "delete element ip kube-proxy nodeport-endpoints-tcp {{ 30003 . 0, 30003 . 1 }}\n\
                 delete element ip kube-proxy service-endpoints-tcp {{ 10.96.0.3 . 80 . 0, 10.96.0.3 . 80 . 1 }}\n\
                 delete element ip kube-proxy service-ips {{ 10.96.0.3 . tcp . 80 }}\n\
                 delete element ip kube-proxy service-nodeports {{ tcp . 30003 }}\n\
                 delete element ip kube-proxy hairpin {{ 10.244.3.1 . 10.244.3.1, 10.244.3.2 . 10.244.3.2 }}\n\
                 add element ip kube-proxy no-endpoint-nodeports {{ tcp . 30003 : goto reject-chain }}\n\
                 add element ip kube-proxy no-endpoint-services {{ 10.96.0.3 . tcp . 80 : goto reject-chain }}\n\
                 flush chain ip kube-proxy external-{base}\n\
                 flush chain ip kube-proxy service-{base}\n\
                 delete chain ip kube-proxy external-{base}\n\
                 delete chain ip kube-proxy service-{base}\n"
            )
        );
        assert_eq!(plan.chains_deleted, 2);
    }

    #[test]
    fn an_affinity_timeout_change_falls_back_to_a_full_plan() {
        let mut a = sp(1, 2);
        a.affinity_timeout = Some(60);
        let before = render(std::slice::from_ref(&a), &node());
        a.affinity_timeout = Some(120);
        let after = render(&[a], &node());
        let plan = plan_sync(Some(&before), &after);
        assert!(plan.full);
        assert!(
            plan.text
                .starts_with("add table ip kube-proxy\ndelete table ip kube-proxy\n")
        );
    }
}
