//! Golden tests of `render_rules`: the exact restore text for representative services.

use super::*;
use crate::model::tests::{eps, svc, with_affinity};
use crate::model::{self, Endpoint};
use proto::k8s::{Endpoints, Service};
use std::collections::HashMap;
use std::sync::Arc;

fn ports(services: Vec<Service>, endpoints: Vec<Endpoints>) -> Vec<ServicePort> {
    let services: Vec<Arc<Service>> = services.into_iter().map(Arc::new).collect();
    let endpoints: HashMap<String, Arc<Endpoints>> = endpoints
        .into_iter()
        .map(|e| {
            let m = e.metadata.clone().unwrap_or_default();
            (format!("{}/{}", m.namespace, m.name), Arc::new(e))
        })
        .collect();
    model::collect(&services, &endpoints)
}

fn cidr() -> NodeConfig {
    NodeConfig {
        cluster_cidr: Some("10.244.0.0/16".into()),
    }
}

/// The restore text without the fixed chains' rules, which every golden shares.
fn service_part(rs: &Ruleset) -> String {
    rs.to_restore_text()
        .lines()
        .filter(|l| {
            !(l.starts_with("-A KUBE-POSTROUTING")
                || l.starts_with("-A KUBE-MARK-MASQ")
                || l.starts_with("-A KUBE-FORWARD"))
        })
        .map(|l| format!("{l}\n"))
        .collect()
}

fn check(got: &str, want: &str) {
    if got != want {
        panic!("golden mismatch\n--- got ---\n{got}\n--- want ---\n{want}");
    }
}

#[test]
fn empty_cluster_has_only_the_fixed_chains() {
    let rs = render_rules(&[], &NodeConfig::default());
    check(
        &rs.to_restore_text(),
        r#"*filter
:KUBE-EXTERNAL-SERVICES - [0:0]
:KUBE-FORWARD - [0:0]
:KUBE-SERVICES - [0:0]
-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
COMMIT
*nat
:KUBE-MARK-MASQ - [0:0]
:KUBE-NODEPORTS - [0:0]
:KUBE-POSTROUTING - [0:0]
:KUBE-SERVICES - [0:0]
-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000
-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000
-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully
-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS
COMMIT
"#,
    );
}

#[test]
fn cluster_ip_service_with_three_endpoints() {
    let s = svc("ns1", "svc1", "ClusterIP", "10.96.0.41", &[("p80", 80, 0)]);
    let e = eps(
        "ns1",
        "svc1",
        &[(
            &["10.244.1.3", "10.244.1.1", "10.244.2.1"],
            &["10.244.9.9"],
            &[("p80", 8080)],
        )],
    );
    let rs = render_rules(&ports(vec![s], vec![e]), &cidr());
    check(
        &service_part(&rs),
        include_str!("golden/cluster_ip_service_with_three_endpoints.txt"),
    );
}

#[test]
fn multi_port_named_ports_no_endpoints_affinity_node_port_and_headless() {
    let web = with_affinity(
        svc(
            "ns1",
            "web",
            "NodePort",
            "10.96.0.10",
            &[("http", 80, 30080), ("https", 443, 30443)],
        ),
        Some(600),
    );
    let web_eps = eps(
        "ns1",
        "web",
        &[(
            &["10.244.1.5", "10.244.2.5"],
            &[],
            &[("http", 8080), ("https", 8443)],
        )],
    );
    let empty = svc("ns1", "empty", "NodePort", "10.96.0.11", &[("", 81, 30081)]);
    let headless = svc("ns1", "headless", "ClusterIP", "None", &[("", 80, 0)]);
    let headless_eps = eps("ns1", "headless", &[(&["10.244.1.7"], &[], &[("", 80)])]);
    let rs = render_rules(
        &ports(vec![web, empty, headless], vec![web_eps, headless_eps]),
        &NodeConfig::default(),
    );
    check(
        &service_part(&rs),
        include_str!(
            "golden/multi_port_named_ports_no_endpoints_affinity_node_port_and_headless.txt"
        ),
    );
}

#[test]
fn headless_and_external_name_services_have_no_rules() {
    let headless = svc("ns", "h", "ClusterIP", "None", &[("", 80, 0)]);
    let x = svc("ns", "x", "ExternalName", "", &[]);
    let e = eps("ns", "h", &[(&["10.244.1.7"], &[], &[("", 80)])]);
    let rs = render_rules(&ports(vec![headless, x], vec![e]), &cidr());
    assert_eq!(rs, render_rules(&[], &cidr()));
}

#[test]
fn probabilities_split_evenly_for_n_endpoints() {
    for n in 1..=12usize {
        let sp = ServicePort {
            namespace: "ns".into(),
            name: "s".into(),
            port_name: String::new(),
            protocol: crate::model::Protocol::Tcp,
            cluster_ip: [10, 96, 0, 1].into(),
            port: 80,
            node_port: None,
            external_ips: vec![],
            affinity_timeout: None,
            endpoints: (0..n)
                .map(|i| Endpoint {
                    ip: [10, 244, 0, i as u8 + 1].into(),
                    port: 80,
                })
                .collect(),
        };
        let rs = render_rules(&[sp], &NodeConfig::default());
        let svc_chain = chain_names::service_chain("ns/s", "tcp");
        let rules = rs.nat_chain(&svc_chain).unwrap();
        assert_eq!(rules.len(), n);
        // P(endpoint i) = prod_{j<i}(1 - p_j) * p_i must be 1/n for every i.
        let mut remaining = 1.0f64;
        for (i, r) in rules.iter().enumerate() {
            let p = if i + 1 == n {
                assert!(!r.contains("statistic"), "last rule is unconditional: {r}");
                1.0
            } else {
                let v: f64 = r
                    .split_whitespace()
                    .skip_while(|w| *w != "--probability")
                    .nth(1)
                    .and_then(|v| v.parse().ok())
                    .unwrap_or_else(|| panic!("no probability in {r}"));
                assert_eq!(format!("{v:.10}"), probability(i, n));
                v
            };
            let share = remaining * p;
            assert!(
                (share - 1.0 / n as f64).abs() < 1e-9,
                "n={n} i={i} share={share}"
            );
            remaining -= share;
        }
        assert!(remaining.abs() < 1e-9);
    }
    assert_eq!(probability(0, 3), "0.3333333333");
    assert_eq!(probability(1, 3), "0.5000000000");
    assert_eq!(probability(0, 10), "0.1000000000");
}

#[test]
fn large_clusters_dispatch_through_buckets_by_last_octet() {
    let n = BUCKET_THRESHOLD + 10;
    let sps: Vec<ServicePort> = (0..n)
        .map(|i| ServicePort {
            namespace: "ns".into(),
            name: format!("s{i}"),
            port_name: String::new(),
            protocol: crate::model::Protocol::Tcp,
            cluster_ip: [10, 96, (i / 256) as u8, (i % 256) as u8].into(),
            port: 80,
            node_port: None,
            external_ips: vec![],
            affinity_timeout: None,
            endpoints: vec![Endpoint {
                ip: [10, 244, 0, 1].into(),
                port: 80,
            }],
        })
        .collect();
    let rs = render_rules(&sps, &NodeConfig::default());
    let top = &rs.nat.chains[KUBE_SERVICES];
    assert_eq!(
        top.len(),
        256 + 1,
        "one rule per bucket plus the node-port rule"
    );
    assert_eq!(top[7], "-d 0.0.0.7/0.0.0.255 -j KUBE-SVCS-007");
    let bucket = &rs.nat.chains["KUBE-SVCS-007"];
    assert!(bucket.iter().all(|r| r.contains(".7/32 ")), "{bucket:?}");
    let dispatched: usize = (0..=255u8)
        .filter_map(|o| rs.nat.chains.get(&format!("KUBE-SVCS-{o:03}")))
        .map(Vec::len)
        .sum();
    assert_eq!(dispatched, n, "every service is dispatched exactly once");
    // Below the threshold: flat, as Kubernetes.
    let small = render_rules(&sps[..10], &NodeConfig::default());
    assert_eq!(small.nat.chains[KUBE_SERVICES].len(), 11);
    assert!(!small.nat.chains.keys().any(|c| c.starts_with("KUBE-SVCS-")));
}

#[test]
fn the_memoizing_renderer_equals_a_fresh_render_and_shares_unchanged_services() {
    let mk = |n: usize, shift: u8| -> Vec<ServicePort> {
        (0..n)
            .map(|i| ServicePort {
                namespace: "ns".into(),
                name: format!("s{i}"),
                port_name: String::new(),
                protocol: crate::model::Protocol::Tcp,
                cluster_ip: [10, 96, 0, i as u8].into(),
                port: 80,
                node_port: (i == 2).then_some(30002),
                external_ips: vec![],
                affinity_timeout: (i == 3).then_some(60),
                endpoints: (0..3)
                    .map(|e| Endpoint {
                        ip: [10, 244, i as u8, e + if i == 1 { shift } else { 0 }].into(),
                        port: 80,
                    })
                    .collect(),
            })
            .collect()
    };
    let mut r = Renderer::default();
    let first = r.render(&mk(5, 0), &cidr());
    assert_eq!(first, render_rules(&mk(5, 0), &cidr()));
    let second = r.render(&mk(6, 9), &cidr());
    assert_eq!(second, render_rules(&mk(6, 9), &cidr()));
    let k0 = "ns/s0/tcp";
    assert!(
        Arc::ptr_eq(&first.services[k0], &second.services[k0]),
        "unchanged service reused"
    );
    assert!(!Arc::ptr_eq(
        &first.services["ns/s1/tcp"],
        &second.services["ns/s1/tcp"]
    ));
    // A node change re-renders everything.
    let third = r.render(&mk(6, 9), &NodeConfig::default());
    assert_eq!(third, render_rules(&mk(6, 9), &NodeConfig::default()));
    assert_ne!(third, second);
}

#[test]
fn updating_one_service_at_a_time_equals_a_full_render() {
    let mk = |name: &str, ip: u8, eps: &[u8]| ServicePort {
        namespace: "ns".into(),
        name: name.into(),
        port_name: String::new(),
        protocol: crate::model::Protocol::Tcp,
        cluster_ip: [10, 96, 0, ip].into(),
        port: 80,
        node_port: None,
        external_ips: vec![],
        affinity_timeout: None,
        endpoints: eps
            .iter()
            .map(|e| Endpoint {
                ip: [10, 244, ip, *e].into(),
                port: 80,
            })
            .collect(),
    };
    let mut r = Renderer::default();
    r.render(&[mk("a", 1, &[1, 2]), mk("b", 2, &[1])], &cidr());
    r.update_service("ns/b", &[mk("b", 2, &[])]);
    r.update_service("ns/c", &[mk("c", 3, &[4])]);
    r.update_service("ns/a", &[]);
    let want = render_rules(&[mk("b", 2, &[]), mk("c", 3, &[4])], &cidr());
    assert_eq!(r.ruleset(), want);
    assert_eq!(r.counts(), (2, 1));
}

#[test]
fn a_large_first_render_on_several_threads_equals_rendering_one_by_one() {
    let ports: Vec<ServicePort> = (0..2600usize)
        .map(|i| ServicePort {
            namespace: "ns".into(),
            name: format!("s{i:05}"),
            port_name: String::new(),
            protocol: crate::model::Protocol::Tcp,
            cluster_ip: [10, 96, (i / 256) as u8, (i % 256) as u8].into(),
            port: 80,
            node_port: None,
            external_ips: vec![],
            affinity_timeout: None,
            endpoints: vec![Endpoint {
                ip: [10, 244, (i % 200) as u8, 1].into(),
                port: 80,
            }],
        })
        .collect();
    let parallel = render_rules(&ports, &cidr());
    let mut one_by_one = Renderer::default();
    one_by_one.render(&[], &cidr());
    for sp in &ports {
        one_by_one.update_service(&format!("ns/{}", sp.name), std::slice::from_ref(sp));
    }
    assert_eq!(parallel, one_by_one.ruleset());
    assert_eq!(parallel.services.len(), 2600);
}
