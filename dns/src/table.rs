//! The records the server answers from: a pure function of the Services and Endpoints,
//! following Kubernetes' DNS specification
//! (<https://github.com/kubernetes/dns/blob/master/docs/specification.md>), rebuilt whole
//! on every informer change (cheap next to a network round trip at cluster sizes this
//! project runs) and swapped in as one `Arc`.

use crate::codec::{RData, Record, TYPE_ANY, TYPE_SOA};
use proto::k8s::{Endpoints, Service};
use proto::resource::Resource;
use std::collections::{BTreeSet, HashMap};
use std::net::Ipv4Addr;
use std::sync::Arc;

/// Kubernetes' DNS spec: 5 seconds for every record.
pub const TTL: u32 = 5;

/// What a name and type resolve to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    Answer(Vec<Record>),
    /// The name exists (or is an empty non-terminal) but has no record of the type.
    NoData,
    /// Inside the cluster domain and unknown.
    NxDomain,
    /// Outside what this server owns: forward it or refuse it.
    NotOurs,
}

#[derive(Debug, Clone, Default)]
pub struct Table {
    domain: String,
    /// Owner name (lowercase, no trailing dot) to its records.
    records: HashMap<String, Vec<RData>>,
    /// Every name inside the domain that exists, including empty non-terminals such as
    /// `svc.<domain>` and `<ns>.svc.<domain>` (they answer NODATA, not NXDOMAIN).
    names: BTreeSet<String>,
}

fn reverse_name(ip: Ipv4Addr) -> String {
    let o = ip.octets();
    format!("{}.{}.{}.{}.in-addr.arpa", o[3], o[2], o[1], o[0])
}

fn protocol(p: &str) -> String {
    if p.is_empty() {
        "tcp".into()
    } else {
        p.to_ascii_lowercase()
    }
}

/// A name the spec allows as a label (DNS-1123): what a Service, namespace, port name or
/// endpoint hostname must be to be served. Anything else from the API is skipped.
fn is_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

impl Table {
    pub fn build(
        domain: &str,
        services: &[Arc<Service>],
        endpoints: &HashMap<String, Arc<Endpoints>>,
    ) -> Table {
        let domain = domain.trim_end_matches('.').to_ascii_lowercase();
        let mut t = Table {
            names: [domain.clone(), format!("svc.{domain}")].into(),
            domain,
            ..Default::default()
        };
        for svc in services {
            t.add_service(svc, endpoints);
        }
        for list in t.records.values_mut() {
            list.sort_by_key(|r| format!("{r:?}"));
            list.dedup();
        }
        t
    }

    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// Records and distinct names held (logs).
    pub fn len(&self) -> usize {
        self.records.values().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    fn add(&mut self, name: String, data: RData) {
        self.add_name(&name);
        self.records.entry(name).or_default().push(data);
    }

    fn add_service(&mut self, svc: &Service, endpoints: &HashMap<String, Arc<Endpoints>>) {
        let meta = svc.meta();
        let Some(spec) = svc.spec.as_ref() else {
            return;
        };
        if !is_label(&meta.name) || !is_label(&meta.namespace) {
            return;
        }
        let base = format!("{}.{}.svc.{}", meta.name, meta.namespace, self.domain);
        if spec.r#type == "ExternalName" {
            // The spec: a CNAME to spec.externalName; the client's resolver follows it.
            let target = spec.external_name.trim_end_matches('.');
            let valid = !target.is_empty()
                && target.len() <= 253
                && target.split('.').all(|l| {
                    !l.is_empty()
                        && l.len() <= 63
                        && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                });
            if valid {
                self.add(base, RData::Cname(target.to_ascii_lowercase()));
            }
            return;
        }
        self.add_name(&base);
        if spec.cluster_ip == "None" {
            let key = format!("{}/{}", meta.namespace, meta.name);
            if let Some(ep) = endpoints.get(&key) {
                self.add_headless(&base, ep, spec.publish_not_ready_addresses);
            }
            return;
        }
        let Ok(ip) = spec.cluster_ip.parse::<Ipv4Addr>() else {
            // Not allocated yet (or IPv6): the name exists without an address.
            return;
        };
        self.add(base.clone(), RData::A(ip));
        self.add(reverse_name(ip), RData::Ptr(base.clone()));
        for p in &spec.ports {
            let Ok(port) = u16::try_from(p.port) else {
                continue;
            };
            if !is_label(&p.name) {
                continue;
            }
            self.add(
                format!("_{}._{}.{base}", p.name, protocol(&p.protocol)),
                RData::Srv {
                    priority: 0,
                    weight: 100,
                    port,
                    target: base.clone(),
                },
            );
        }
    }

    /// Marks the name and each parent up to the domain as existing.
    fn add_name(&mut self, name: &str) {
        if let Some(rest) = name.strip_suffix(&self.domain)
            && rest.ends_with('.')
        {
            let mut parent = rest.trim_end_matches('.');
            while !parent.is_empty() {
                self.names.insert(format!("{parent}.{}", self.domain));
                parent = parent.split_once('.').map(|(_, p)| p).unwrap_or("");
            }
        }
    }

    /// A headless Service: its name lists the ready endpoints; each endpoint has a name
    /// (its hostname, or its IP with dashes as CoreDNS does) with A, PTR and SRV targets.
    fn add_headless(&mut self, base: &str, ep: &Endpoints, publish_not_ready: bool) {
        for subset in &ep.subsets {
            let mut addrs: Vec<(Ipv4Addr, String)> = Vec::new();
            let not_ready = publish_not_ready.then_some(&subset.not_ready_addresses);
            for a in subset
                .addresses
                .iter()
                .chain(not_ready.into_iter().flatten())
            {
                let Ok(ip) = a.ip.parse::<Ipv4Addr>() else {
                    continue;
                };
                let host = if is_label(&a.hostname) {
                    a.hostname.clone()
                } else {
                    a.ip.replace('.', "-")
                };
                addrs.push((ip, format!("{host}.{base}")));
            }
            let weight = (100 / addrs.len().max(1)).max(1) as u16;
            for (ip, name) in &addrs {
                self.add(base.to_string(), RData::A(*ip));
                self.add(name.clone(), RData::A(*ip));
                self.add(reverse_name(*ip), RData::Ptr(name.clone()));
            }
            for p in &subset.ports {
                let Ok(port) = u16::try_from(p.port) else {
                    continue;
                };
                if !is_label(&p.name) {
                    continue;
                }
                let srv = format!("_{}._{}.{base}", p.name, protocol(&p.protocol));
                self.add_name(&srv);
                for (_, name) in &addrs {
                    self.add(
                        srv.clone(),
                        RData::Srv {
                            priority: 0,
                            weight,
                            port,
                            target: name.clone(),
                        },
                    );
                }
            }
        }
    }

    fn in_domain(&self, name: &str) -> bool {
        name == self.domain
            || name
                .strip_suffix(&self.domain)
                .is_some_and(|rest| rest.ends_with('.'))
    }

    /// The zone's SOA record, for the authority section of negative answers (its minimum
    /// is the negative-caching TTL).
    pub fn soa(&self) -> Record {
        Record {
            name: self.domain.clone(),
            ttl: TTL,
            data: RData::Soa {
                mname: format!("ns.dns.{}", self.domain),
                rname: format!("hostmaster.{}", self.domain),
                serial: 1,
                refresh: 7200,
                retry: 1800,
                expire: 86400,
                minimum: TTL,
            },
        }
    }

    /// `qname` as the client wrote it (any case, trailing dot or not). Answer records
    /// carry the client's spelling of the name.
    pub fn lookup(&self, qname: &str, qtype: u16) -> Lookup {
        let name = qname.trim_end_matches('.').to_ascii_lowercase();
        if let Some(list) = self.records.get(&name) {
            // A CNAME answers every type (a name with a CNAME has no other records).
            let answers: Vec<Record> = list
                .iter()
                .filter(|d| qtype == TYPE_ANY || d.rtype() == qtype || matches!(d, RData::Cname(_)))
                .map(|d| Record {
                    name: qname.trim_end_matches('.').to_string(),
                    ttl: TTL,
                    data: d.clone(),
                })
                .collect();
            return if answers.is_empty() {
                Lookup::NoData
            } else {
                Lookup::Answer(answers)
            };
        }
        if !self.in_domain(&name) {
            return Lookup::NotOurs;
        }
        if name == self.domain && (qtype == TYPE_SOA || qtype == TYPE_ANY) {
            let mut soa = self.soa();
            soa.name = qname.trim_end_matches('.').to_string();
            return Lookup::Answer(vec![soa]);
        }
        if self.names.contains(&name) {
            Lookup::NoData
        } else {
            Lookup::NxDomain
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{TYPE_A, TYPE_AAAA, TYPE_PTR, TYPE_SRV};
    use proto::k8s::{
        EndpointAddress, EndpointPort, EndpointSubset, ObjectMeta, ServicePort, ServiceSpec,
    };

    fn meta(ns: &str, name: &str) -> Option<ObjectMeta> {
        Some(ObjectMeta {
            name: name.into(),
            namespace: ns.into(),
            ..Default::default()
        })
    }

    fn svc(ns: &str, name: &str, ip: &str, ports: &[(&str, &str, i32)]) -> Arc<Service> {
        Arc::new(Service {
            metadata: meta(ns, name),
            spec: Some(ServiceSpec {
                cluster_ip: ip.into(),
                ports: ports
                    .iter()
                    .map(|(n, p, port)| ServicePort {
                        name: n.to_string(),
                        protocol: p.to_string(),
                        port: *port,
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }),
            ..Default::default()
        })
    }

    fn addr(ip: &str, host: &str) -> EndpointAddress {
        EndpointAddress {
            ip: ip.into(),
            hostname: host.into(),
            ..Default::default()
        }
    }

    fn eps(ns: &str, name: &str, ready: &[(&str, &str)], not_ready: &[&str]) -> Arc<Endpoints> {
        Arc::new(Endpoints {
            metadata: meta(ns, name),
            subsets: vec![EndpointSubset {
                addresses: ready.iter().map(|(ip, h)| addr(ip, h)).collect(),
                not_ready_addresses: not_ready.iter().map(|ip| addr(ip, "")).collect(),
                ports: vec![EndpointPort {
                    name: "http".into(),
                    port: 8080,
                    protocol: "TCP".into(),
                    ..Default::default()
                }],
            }],
            ..Default::default()
        })
    }

    fn table() -> Table {
        let services = vec![
            svc(
                "default",
                "web",
                "10.96.0.7",
                &[("http", "TCP", 80), ("dns", "UDP", 53), ("", "TCP", 81)],
            ),
            svc("db", "pg", "None", &[("http", "TCP", 8080)]),
            svc("default", "pending", "", &[]),
            svc("default", "Bad_Name", "10.96.0.9", &[]),
        ];
        let mut endpoints = HashMap::new();
        endpoints.insert(
            "db/pg".to_string(),
            eps(
                "db",
                "pg",
                &[("10.244.1.5", "pg-0"), ("10.244.2.6", "")],
                &["10.244.3.7"],
            ),
        );
        // Endpoints of a ClusterIP Service are not published in DNS.
        endpoints.insert(
            "default/web".to_string(),
            eps("default", "web", &[("10.244.9.9", "x")], &[]),
        );
        Table::build("cluster.local", &services, &endpoints)
    }

    fn answers(t: &Table, name: &str, qtype: u16) -> Vec<RData> {
        match t.lookup(name, qtype) {
            Lookup::Answer(r) => r.into_iter().map(|r| r.data).collect(),
            other => panic!("{name}: {other:?}"),
        }
    }

    fn a(s: &str) -> RData {
        RData::A(s.parse().unwrap())
    }

    #[test]
    fn cluster_ip_service_a_srv_and_ptr() {
        let t = table();
        assert_eq!(
            answers(&t, "web.default.svc.cluster.local", TYPE_A),
            vec![a("10.96.0.7")]
        );
        // Any case, trailing dot; the answer keeps the client's spelling.
        match t.lookup("WEB.Default.svc.cluster.local.", TYPE_A) {
            Lookup::Answer(r) => assert_eq!(r[0].name, "WEB.Default.svc.cluster.local"),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            answers(&t, "_http._tcp.web.default.svc.cluster.local", TYPE_SRV),
            vec![RData::Srv {
                priority: 0,
                weight: 100,
                port: 80,
                target: "web.default.svc.cluster.local".into()
            }]
        );
        assert_eq!(
            answers(&t, "_dns._udp.web.default.svc.cluster.local", TYPE_SRV).len(),
            1
        );
        assert_eq!(
            answers(&t, "7.0.96.10.in-addr.arpa", TYPE_PTR),
            vec![RData::Ptr("web.default.svc.cluster.local".into())]
        );
        // The endpoints of a ClusterIP Service have no names.
        assert_eq!(
            t.lookup("x.web.default.svc.cluster.local", TYPE_A),
            Lookup::NxDomain
        );
        assert_eq!(
            t.lookup("9.9.244.10.in-addr.arpa", TYPE_PTR),
            Lookup::NotOurs
        );
    }

    #[test]
    fn headless_service_lists_ready_endpoints_with_names() {
        let t = table();
        assert_eq!(
            answers(&t, "pg.db.svc.cluster.local", TYPE_A),
            vec![a("10.244.1.5"), a("10.244.2.6")]
        );
        assert_eq!(
            answers(&t, "pg-0.pg.db.svc.cluster.local", TYPE_A),
            vec![a("10.244.1.5")]
        );
        assert_eq!(
            answers(&t, "10-244-2-6.pg.db.svc.cluster.local", TYPE_A),
            vec![a("10.244.2.6")]
        );
        assert_eq!(
            t.lookup("10-244-3-7.pg.db.svc.cluster.local", TYPE_A),
            Lookup::NxDomain,
            "a not-ready endpoint is not published"
        );
        let srv = answers(&t, "_http._tcp.pg.db.svc.cluster.local", TYPE_SRV);
        assert_eq!(srv.len(), 2);
        assert!(srv.contains(&RData::Srv {
            priority: 0,
            weight: 50,
            port: 8080,
            target: "pg-0.pg.db.svc.cluster.local".into()
        }));
        assert_eq!(
            answers(&t, "5.1.244.10.in-addr.arpa", TYPE_PTR),
            vec![RData::Ptr("pg-0.pg.db.svc.cluster.local".into())]
        );
    }

    #[test]
    fn publish_not_ready_addresses_includes_them() {
        let mut s = (*svc("db", "pg", "None", &[])).clone();
        if let Some(spec) = s.spec.as_mut() {
            spec.publish_not_ready_addresses = true;
        }
        let mut endpoints = HashMap::new();
        endpoints.insert("db/pg".into(), eps("db", "pg", &[], &["10.244.3.7"]));
        let t = Table::build("cluster.local", &[Arc::new(s)], &endpoints);
        assert_eq!(
            answers(&t, "pg.db.svc.cluster.local", TYPE_A),
            vec![a("10.244.3.7")]
        );
    }

    #[test]
    fn negative_answers() {
        let t = table();
        // Existing names without the type, and empty non-terminals: NODATA.
        for (name, qtype) in [
            ("web.default.svc.cluster.local", TYPE_AAAA),
            ("default.svc.cluster.local", TYPE_A),
            ("svc.cluster.local", TYPE_A),
            ("cluster.local", TYPE_A),
            ("_tcp.web.default.svc.cluster.local", TYPE_SRV),
            ("pending.default.svc.cluster.local", TYPE_A),
        ] {
            assert_eq!(t.lookup(name, qtype), Lookup::NoData, "{name}");
        }
        for name in [
            "nope.default.svc.cluster.local",
            "web.default.svc.cluster.local.default.svc.cluster.local",
            "web.other.svc.cluster.local",
            "bad_name.default.svc.cluster.local",
            "pod.cluster.local",
        ] {
            assert_eq!(t.lookup(name, TYPE_A), Lookup::NxDomain, "{name}");
        }
        for name in ["example.com", "notcluster.local", "local", ""] {
            assert_eq!(t.lookup(name, TYPE_A), Lookup::NotOurs, "{name:?}");
        }
        assert!(matches!(
            t.lookup("cluster.local", TYPE_SOA),
            Lookup::Answer(r) if r[0].data.rtype() == TYPE_SOA
        ));
    }

    #[test]
    fn external_name_is_a_cname() {
        let mut s = (*svc("default", "ext", "", &[])).clone();
        if let Some(spec) = s.spec.as_mut() {
            spec.r#type = "ExternalName".into();
            spec.external_name = "db.Example.com.".into();
        }
        let mut bad = s.clone();
        bad.metadata = meta("default", "bad");
        if let Some(spec) = bad.spec.as_mut() {
            spec.external_name = "two words".into();
        }
        let t = Table::build(
            "cluster.local",
            &[Arc::new(s), Arc::new(bad)],
            &HashMap::new(),
        );
        for qtype in [TYPE_A, TYPE_AAAA, TYPE_SRV] {
            assert_eq!(
                answers(&t, "ext.default.svc.cluster.local", qtype),
                vec![RData::Cname("db.example.com".into())]
            );
        }
        assert_eq!(
            t.lookup("bad.default.svc.cluster.local", TYPE_A),
            Lookup::NxDomain
        );
    }

    #[test]
    fn another_domain_and_unlabelled_ports() {
        let services = vec![svc("ns", "s", "10.96.0.8", &[("", "TCP", 80)])];
        let t = Table::build("corp.example.", &services, &HashMap::new());
        assert_eq!(
            answers(&t, "s.ns.svc.corp.example", TYPE_A),
            vec![a("10.96.0.8")]
        );
        assert_eq!(t.lookup("s.ns.svc.cluster.local", TYPE_A), Lookup::NotOurs);
        // No SRV for an unnamed port (the spec names SRV by port name).
        assert_eq!(
            t.lookup("_._tcp.s.ns.svc.corp.example", TYPE_SRV),
            Lookup::NxDomain
        );
    }
}
