//! Which routes this node installs to other nodes' pods: a pure function of the Node
//! objects, applied by the network implementation.

use super::cidr::Cidr;
use crate::error::Error;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

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

#[cfg(test)]
mod tests {
    use super::*;

    fn cidr(s: &str) -> Cidr {
        s.parse().unwrap()
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
}
