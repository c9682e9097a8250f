//! Which conntrack entries a sync made stale, as Kubernetes' conntrack cleanup: for every
//! UDP endpoint that left a service port, the flows to the service's addresses (cluster IP
//! and external IPs with the port, and its node port on any address) answered by that
//! endpoint. UDP has no connection end, so without this a client that keeps sending (a DNS
//! resolver reusing its socket) stays DNATed to the dead endpoint. Pure.

use super::netlink::conntrack::{Filter, IPPROTO_UDP};
use super::render::NftRuleset;
use std::collections::BTreeSet;
use std::sync::Arc;

/// The filters for the flows `desired` no longer serves, `previous` being what was live.
pub fn stale_udp_flows(previous: Option<&NftRuleset>, desired: &NftRuleset) -> Vec<Filter> {
    let Some(previous) = previous else {
        return Vec::new();
    };
    let mut out = BTreeSet::new();
    for (key, had) in &previous.services {
        let Some(had_udp) = &had.udp else { continue };
        let want = desired.services.get(key);
        if want.is_some_and(|w| Arc::ptr_eq(w, had)) {
            continue;
        }
        let keep: BTreeSet<_> = want
            .and_then(|w| w.udp.as_ref())
            .map(|u| u.endpoints.iter().copied().collect())
            .unwrap_or_default();
        for ep in had_udp.endpoints.iter().filter(|e| !keep.contains(e)) {
            for (ip, port) in &had_udp.destinations {
                out.insert(Filter {
                    protocol: IPPROTO_UDP,
                    orig_dst: Some(*ip),
                    orig_dport: *port,
                    reply_src: ep.ip,
                });
            }
            if let Some(np) = had_udp.node_port {
                out.insert(Filter {
                    protocol: IPPROTO_UDP,
                    orig_dst: None,
                    orig_dport: np,
                    reply_src: ep.ip,
                });
            }
        }
    }
    out.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Endpoint, Protocol, ServicePort};
    use crate::nftables::render::{NodeConfig, render};

    fn dns(protocol: Protocol, endpoints: &[[u8; 4]]) -> ServicePort {
        ServicePort {
            namespace: "kube-system".into(),
            name: "dns".into(),
            port_name: String::new(),
            protocol,
            cluster_ip: [10, 96, 0, 10].into(),
            port: 53,
            node_port: Some(30053),
            external_ips: vec![[192, 0, 2, 1].into()],
            affinity_timeout: None,
            endpoints: endpoints
                .iter()
                .map(|ip| Endpoint {
                    ip: (*ip).into(),
                    port: 5353,
                })
                .collect(),
        }
    }

    #[test]
    fn a_removed_udp_endpoint_makes_its_flows_stale_and_tcp_ones_never() {
        let node = NodeConfig::default();
        let before = render(
            &[dns(Protocol::Udp, &[[10, 244, 1, 1], [10, 244, 1, 2]])],
            &node,
        );
        let after = render(
            &[dns(Protocol::Udp, &[[10, 244, 1, 2], [10, 244, 1, 3]])],
            &node,
        );
        let f = stale_udp_flows(Some(&before), &after);
        let gone: std::net::Ipv4Addr = [10, 244, 1, 1].into();
        assert_eq!(f.len(), 3, "{f:?}");
        assert!(
            f.iter()
                .all(|f| f.reply_src == gone && f.protocol == IPPROTO_UDP)
        );
        assert!(f.contains(&Filter {
            protocol: IPPROTO_UDP,
            orig_dst: Some([10, 96, 0, 10].into()),
            orig_dport: 53,
            reply_src: gone
        }));
        assert!(
            f.iter()
                .any(|f| f.orig_dst.is_none() && f.orig_dport == 30053)
        );
        // A deleted service: all its endpoints' flows.
        assert_eq!(stale_udp_flows(Some(&after), &render(&[], &node)).len(), 6);
        // Nothing live before, or TCP: nothing.
        assert!(stale_udp_flows(None, &after).is_empty());
        let tcp = render(&[dns(Protocol::Tcp, &[[10, 244, 1, 1]])], &node);
        assert!(stale_udp_flows(Some(&tcp), &render(&[], &node)).is_empty());
    }
}
