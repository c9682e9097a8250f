//! What the proxy programs, reduced from the API objects: one [`ServicePort`] per port of
//! every Service that has a virtual address, with its ready endpoints. A pure function of
//! the Services and Endpoints. With the node's configuration and the outcome of a sync it
//! is everything the backends (iptables, nftables, IPVS) share; they depend on it, never
//! on each other.

use crate::chain_names;
use proto::k8s::{Endpoints, Service};
use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Protocol {
    Tcp,
    Udp,
    Sctp,
}

impl Protocol {
    /// Kubernetes' default when the field is empty is TCP.
    pub fn parse(s: &str) -> Option<Protocol> {
        match s {
            "" | "TCP" => Some(Protocol::Tcp),
            "UDP" => Some(Protocol::Udp),
            "SCTP" => Some(Protocol::Sctp),
            _ => None,
        }
    }

    /// As iptables and the chain-name hash spell it.
    pub fn lower(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
            Protocol::Sctp => "sctp",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Endpoint {
    pub ip: Ipv4Addr,
    pub port: u16,
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.ip, self.port)
    }
}

/// One port of one Service, with everything a backend needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServicePort {
    pub namespace: String,
    pub name: String,
    /// The port's name ("" for a single unnamed port).
    pub port_name: String,
    pub protocol: Protocol,
    pub cluster_ip: Ipv4Addr,
    pub port: u16,
    /// Set for type NodePort and LoadBalancer.
    pub node_port: Option<u16>,
    /// `spec.externalIPs` and load-balancer ingress IPs: served like the cluster IP, but as
    /// external traffic (masqueraded).
    pub external_ips: Vec<Ipv4Addr>,
    /// `sessionAffinity: ClientIP`: the timeout in seconds (Kubernetes' default 10800).
    pub affinity_timeout: Option<u32>,
    /// Ready endpoints only, sorted and without duplicates.
    pub endpoints: Vec<Endpoint>,
}

impl ServicePort {
    /// `namespace/name[:port]`, the string chain names hash.
    pub fn port_name_string(&self) -> String {
        chain_names::service_port_name(&self.namespace, &self.name, &self.port_name)
    }
}

/// Kubernetes' default `sessionAffinityConfig.clientIP.timeoutSeconds`.
pub const DEFAULT_AFFINITY_TIMEOUT: u32 = 10800;

/// Why a Service (or one of its ports) is not programmed; logged at debug, never an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skip {
    Headless,
    ExternalName,
    /// No clusterIP yet, or one this proxy cannot program (IPv6).
    NoIpv4ClusterIp(String),
    UnsupportedProtocol(String),
    InvalidPort(i32),
}

/// The programmable ports of one Service, and what was skipped. The endpoints of a port are
/// the ready addresses of every subset that has a port of the same name and protocol
/// (the Endpoints controller names endpoint ports after the service ports).
pub fn service_ports(svc: &Service, eps: Option<&Endpoints>) -> (Vec<ServicePort>, Vec<Skip>) {
    let meta = svc.metadata.as_ref();
    let namespace = meta.map(|m| m.namespace.as_str()).unwrap_or_default();
    let name = meta.map(|m| m.name.as_str()).unwrap_or_default();
    let Some(spec) = svc.spec.as_ref() else {
        return (Vec::new(), Vec::new());
    };
    if spec.r#type == "ExternalName" {
        return (Vec::new(), vec![Skip::ExternalName]);
    }
    if spec.cluster_ip == "None" {
        return (Vec::new(), vec![Skip::Headless]);
    }
    let Ok(cluster_ip) = spec.cluster_ip.parse::<Ipv4Addr>() else {
        return (
            Vec::new(),
            vec![Skip::NoIpv4ClusterIp(spec.cluster_ip.clone())],
        );
    };
    let node_ports_on = matches!(spec.r#type.as_str(), "NodePort" | "LoadBalancer");
    let mut external_ips: Vec<Ipv4Addr> = spec
        .external_ips
        .iter()
        .filter_map(|s| s.parse().ok())
        .collect();
    if let Some(lb) = svc.status.as_ref().and_then(|s| s.load_balancer.as_ref()) {
        external_ips.extend(
            lb.ingress
                .iter()
                .filter_map(|i| i.ip.parse::<Ipv4Addr>().ok()),
        );
    }
    external_ips.sort();
    external_ips.dedup();
    let affinity_timeout = (spec.session_affinity == "ClientIP").then(|| {
        spec.session_affinity_config
            .as_ref()
            .and_then(|c| c.client_ip.as_ref())
            .and_then(|c| c.timeout_seconds)
            .and_then(|t| u32::try_from(t).ok())
            .filter(|t| *t > 0)
            .unwrap_or(DEFAULT_AFFINITY_TIMEOUT)
    });
    let mut out = Vec::new();
    let mut skipped = Vec::new();
    for p in &spec.ports {
        let Some(protocol) = Protocol::parse(&p.protocol) else {
            skipped.push(Skip::UnsupportedProtocol(p.protocol.clone()));
            continue;
        };
        let Some(port) = u16::try_from(p.port).ok().filter(|p| *p != 0) else {
            skipped.push(Skip::InvalidPort(p.port));
            continue;
        };
        let node_port = if node_ports_on {
            u16::try_from(p.node_port).ok().filter(|p| *p != 0)
        } else {
            None
        };
        out.push(ServicePort {
            namespace: namespace.to_string(),
            name: name.to_string(),
            port_name: p.name.clone(),
            protocol,
            cluster_ip,
            port,
            node_port,
            external_ips: external_ips.clone(),
            affinity_timeout,
            endpoints: ready_endpoints(eps, &p.name, protocol),
        });
    }
    (out, skipped)
}

fn ready_endpoints(eps: Option<&Endpoints>, port_name: &str, protocol: Protocol) -> Vec<Endpoint> {
    let mut out = Vec::new();
    for subset in eps.map(|e| e.subsets.as_slice()).unwrap_or_default() {
        let Some(port) = subset
            .ports
            .iter()
            .find(|p| p.name == port_name && Protocol::parse(&p.protocol) == Some(protocol))
            .and_then(|p| u16::try_from(p.port).ok())
            .filter(|p| *p != 0)
        else {
            continue;
        };
        out.extend(
            subset
                .addresses
                .iter()
                .filter_map(|a| a.ip.parse::<Ipv4Addr>().ok())
                .map(|ip| Endpoint { ip, port }),
        );
    }
    out.sort();
    out.dedup();
    out
}

/// Every programmable service port of the cluster, in a stable order (namespace, name,
/// port name, protocol), from the informer caches' contents.
pub fn collect(
    services: &[Arc<Service>],
    endpoints: &HashMap<String, Arc<Endpoints>>,
) -> Vec<ServicePort> {
    let mut out = Vec::new();
    for svc in services {
        let key = svc
            .metadata
            .as_ref()
            .map(|m| format!("{}/{}", m.namespace, m.name))
            .unwrap_or_default();
        let (ports, skipped) = service_ports(svc, endpoints.get(&key).map(|e| e.as_ref()));
        for s in skipped {
            if !matches!(s, Skip::Headless | Skip::ExternalName) {
                tracing::debug!(service = %key, reason = ?s, "service port not programmed");
            }
        }
        out.extend(ports);
    }
    out.sort_by(|a, b| {
        (&a.namespace, &a.name, &a.port_name, a.protocol).cmp(&(
            &b.namespace,
            &b.name,
            &b.port_name,
            b.protocol,
        ))
    });
    out
}

/// What the node contributes to every backend's rules.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeConfig {
    /// `--cluster-cidr`: traffic to a cluster IP from outside it is masqueraded. Without it,
    /// only hairpin and external traffic is (Kubernetes without a local-traffic detector).
    pub cluster_cidr: Option<String>,
}

/// The key a service port's rendered output is kept under (by every backend).
pub fn service_key(sp: &ServicePort) -> String {
    format!("{}/{}", sp.port_name_string(), sp.protocol.lower())
}

/// What one sync of a backend did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncOutcome {
    pub full: bool,
    /// False when nothing changed and no restore ran.
    pub restored: bool,
    pub transactions: usize,
    pub chains_written: usize,
    pub rules_written: usize,
    pub chains_deleted: usize,
    pub restore_lines: usize,
    pub restore_time: std::time::Duration,
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proto::k8s::{
        ClientIpConfig, EndpointAddress, EndpointPort, EndpointSubset, ObjectMeta,
        ServicePort as ApiPort, ServiceSpec, SessionAffinityConfig,
    };

    pub fn svc(ns: &str, name: &str, ty: &str, ip: &str, ports: &[(&str, i32, i32)]) -> Service {
        Service {
            metadata: Some(ObjectMeta {
                namespace: ns.into(),
                name: name.into(),
                ..Default::default()
            }),
            spec: Some(ServiceSpec {
                r#type: ty.into(),
                cluster_ip: ip.into(),
                ports: ports
                    .iter()
                    .map(|(n, port, node_port)| ApiPort {
                        name: n.to_string(),
                        protocol: "TCP".into(),
                        port: *port,
                        node_port: *node_port,
                        target_port: port.to_string(),
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    pub fn with_affinity(mut s: Service, timeout: Option<i32>) -> Service {
        if let Some(spec) = s.spec.as_mut() {
            spec.session_affinity = "ClientIP".into();
            spec.session_affinity_config = timeout.map(|t| SessionAffinityConfig {
                client_ip: Some(ClientIpConfig {
                    timeout_seconds: Some(t),
                }),
            });
        }
        s
    }

    /// (ready ips, not-ready ips, ports (name, port)).
    pub type Subset<'a> = (&'a [&'a str], &'a [&'a str], &'a [(&'a str, i32)]);

    pub fn eps(ns: &str, name: &str, subsets: &[Subset]) -> Endpoints {
        let addr = |ip: &&str| EndpointAddress {
            ip: ip.to_string(),
            ..Default::default()
        };
        Endpoints {
            metadata: Some(ObjectMeta {
                namespace: ns.into(),
                name: name.into(),
                ..Default::default()
            }),
            subsets: subsets
                .iter()
                .map(|(ready, not_ready, ports)| EndpointSubset {
                    addresses: ready.iter().map(addr).collect(),
                    not_ready_addresses: not_ready.iter().map(addr).collect(),
                    ports: ports
                        .iter()
                        .map(|(n, p)| EndpointPort {
                            name: n.to_string(),
                            port: *p,
                            protocol: "TCP".into(),
                            ..Default::default()
                        })
                        .collect(),
                })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn named_ports_take_their_endpoints_by_name_and_only_ready_ones() {
        let s = svc(
            "ns",
            "web",
            "ClusterIP",
            "10.96.0.5",
            &[("http", 80, 0), ("metrics", 9090, 0)],
        );
        let e = eps(
            "ns",
            "web",
            &[
                (
                    &["10.244.0.2", "10.244.0.1"],
                    &["10.244.0.9"],
                    &[("http", 8080), ("metrics", 9100)],
                ),
                (&["10.244.1.1"], &[], &[("http", 8081)]),
            ],
        );
        let (ports, skipped) = service_ports(&s, Some(&e));
        assert!(skipped.is_empty());
        let got: Vec<(String, Vec<String>)> = ports
            .iter()
            .map(|p| {
                (
                    p.port_name.clone(),
                    p.endpoints.iter().map(|e| e.to_string()).collect(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (
                    "http".to_string(),
                    vec![
                        "10.244.0.1:8080".to_string(),
                        "10.244.0.2:8080".into(),
                        "10.244.1.1:8081".into()
                    ]
                ),
                (
                    "metrics".to_string(),
                    vec!["10.244.0.1:9100".to_string(), "10.244.0.2:9100".into()]
                ),
            ]
        );
    }

    #[test]
    fn headless_external_name_and_unallocated_services_are_skipped() {
        let h = svc("ns", "h", "ClusterIP", "None", &[("", 80, 0)]);
        assert_eq!(service_ports(&h, None), (vec![], vec![Skip::Headless]));
        let x = svc("ns", "x", "ExternalName", "", &[]);
        assert_eq!(service_ports(&x, None), (vec![], vec![Skip::ExternalName]));
        let u = svc("ns", "u", "ClusterIP", "", &[("", 80, 0)]);
        assert_eq!(
            service_ports(&u, None).1,
            vec![Skip::NoIpv4ClusterIp(String::new())]
        );
    }

    #[test]
    fn node_ports_only_for_node_port_types_and_affinity_defaults() {
        let c = svc("ns", "c", "ClusterIP", "10.96.0.1", &[("", 80, 30001)]);
        assert_eq!(service_ports(&c, None).0[0].node_port, None);
        let n = with_affinity(
            svc("ns", "n", "NodePort", "10.96.0.2", &[("", 80, 30001)]),
            None,
        );
        let p = &service_ports(&n, None).0[0];
        assert_eq!(p.node_port, Some(30001));
        assert_eq!(p.affinity_timeout, Some(DEFAULT_AFFINITY_TIMEOUT));
        let t = with_affinity(
            svc("ns", "t", "LoadBalancer", "10.96.0.3", &[("", 80, 30002)]),
            Some(60),
        );
        let p = &service_ports(&t, None).0[0];
        assert_eq!((p.node_port, p.affinity_timeout), (Some(30002), Some(60)));
    }
}
