//! Golden tests of the nftables rendering: the exact `nft -f` text of a full load for
//! representative services. `KP_BLESS=1 cargo test -p kube-proxy --lib nftables` rewrites
//! the golden file (review the diff before committing it).

use super::*;
use crate::model::tests::{eps, svc, with_affinity};
use crate::model::{self, Endpoint, Protocol};
use crate::nftables::plan::plan_sync;
use proto::k8s::{Endpoints, Service};
use std::collections::HashMap;

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

fn representative() -> Vec<ServicePort> {
    let web = svc(
        "ns1",
        "web",
        "NodePort",
        "10.96.0.10",
        &[("http", 80, 30080), ("https", 443, 30443)],
    );
    let mut web = web;
    if let Some(spec) = web.spec.as_mut() {
        spec.external_ips = vec!["192.0.2.10".into()];
    }
    let web_eps = eps(
        "ns1",
        "web",
        &[(
            &["10.244.1.5", "10.244.2.5", "10.244.1.3"],
            &["10.244.9.9"],
            &[("http", 8080), ("https", 8443)],
        )],
    );
    let one = svc("ns1", "one", "ClusterIP", "10.96.0.12", &[("", 53, 0)]);
    let one_eps = eps("ns1", "one", &[(&["10.244.3.3"], &[], &[("", 5353)])]);
    let sticky = with_affinity(
        svc("ns1", "sticky", "ClusterIP", "10.96.0.13", &[("", 80, 0)]),
        Some(600),
    );
    let sticky_eps = eps(
        "ns1",
        "sticky",
        &[(&["10.244.1.8", "10.244.2.8"], &[], &[("", 8080)])],
    );
    let empty = svc("ns1", "empty", "NodePort", "10.96.0.11", &[("", 81, 30081)]);
    let headless = svc("ns1", "headless", "ClusterIP", "None", &[("", 80, 0)]);
    let headless_eps = eps("ns1", "headless", &[(&["10.244.1.7"], &[], &[("", 80)])]);
    ports(
        vec![web, one, sticky, empty, headless],
        vec![web_eps, one_eps, sticky_eps, headless_eps],
    )
}

fn cidr() -> NodeConfig {
    NodeConfig {
        cluster_cidr: Some("10.244.0.0/16".into()),
    }
}

#[test]
fn full_load_of_representative_services_matches_the_golden_file() {
    let rs = render(&representative(), &cidr());
    let got = plan_sync(None, &rs).text;
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src/nftables/golden/representative.nft"
    );
    if std::env::var("KP_BLESS").is_ok_and(|v| v == "1") {
        std::fs::write(path, &got).unwrap();
    }
    let want = std::fs::read_to_string(path).unwrap_or_default();
    if got != want {
        panic!("golden mismatch ({path})\n--- got ---\n{got}\n--- want ---\n{want}");
    }
}

#[test]
fn headless_and_external_name_services_have_nothing() {
    let headless = svc("ns", "h", "ClusterIP", "None", &[("", 80, 0)]);
    let x = svc("ns", "x", "ExternalName", "", &[]);
    let e = eps("ns", "h", &[(&["10.244.1.7"], &[], &[("", 80)])]);
    let rs = render(&ports(vec![headless, x], vec![e]), &cidr());
    assert!(rs.services.is_empty());
}

#[test]
fn numgen_picks_each_endpoint_with_one_index_of_n() {
    for n in 1..=12usize {
        let sp = ServicePort {
            namespace: "ns".into(),
            name: "s".into(),
            port_name: String::new(),
            protocol: Protocol::Udp,
            cluster_ip: [10, 96, 0, 1].into(),
            port: 53,
            node_port: None,
            external_ips: vec![],
            affinity_timeout: None,
            endpoints: (0..n)
                .map(|i| Endpoint {
                    ip: [10, 244, 0, i as u8 + 1].into(),
                    port: 5353,
                })
                .collect(),
        };
        let rs = render(&[sp], &NodeConfig::default());
        let objs = &rs.services["ns/s/udp"];
        let jump = objs.chains[0].1.last().unwrap();
        assert_eq!(jump, &format!("goto dnat-udp-{n}"));
        let d = objs.dispatch.unwrap();
        assert_eq!(
            d.rules()[0],
            format!(
                "meta l4proto udp dnat ip to ip daddr . udp dport . numgen random mod {n} map @service-endpoints-udp"
            )
        );
        // numgen yields 0..n-1 uniformly: index i is endpoint i, each exactly once.
        let elements: Vec<(&str, &str)> = objs
            .elements
            .iter()
            .filter(|e| e.map == "service-endpoints-udp")
            .map(|e| (e.key.as_str(), e.value.as_str()))
            .collect();
        assert_eq!(elements.len(), n);
        for (i, (k, v)) in elements.iter().enumerate() {
            assert_eq!(*k, format!("10.96.0.1 . 53 . {i}"));
            assert_eq!(*v, format!("10.244.0.{} . 5353", i + 1));
            assert!(rs.dnats_to(&format!("10.244.0.{}:5353", i + 1)));
        }
        assert!(!rs.dnats_to("10.244.0.99:5353"));
    }
}

#[test]
fn the_memoizing_renderer_equals_a_fresh_render() {
    let mut all = representative();
    let mut r = Renderer::default();
    let first = r.render(&all, &cidr());
    assert_eq!(first, render(&all, &cidr()));
    all[0].endpoints.pop();
    let second = r.render(&all, &cidr());
    assert_eq!(second, render(&all, &cidr()));
    // Unchanged service ports keep the same objects (pointer-equal).
    let key = service_key(&all[2]);
    assert!(Arc::ptr_eq(&first.services[&key], &second.services[&key]));
    // One Service updated through update_service.
    let sticky: Vec<ServicePort> = all
        .iter()
        .filter(|p| p.name == "sticky")
        .cloned()
        .map(|mut p| {
            p.endpoints.truncate(1);
            p
        })
        .collect();
    r.update_service("ns1/sticky", &sticky);
    all.retain(|p| p.name != "sticky");
    all.extend(sticky);
    all.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    assert_eq!(r.ruleset(), render(&all, &cidr()));
    r.update_service("ns1/web", &[]);
    all.retain(|p| p.name != "web");
    assert_eq!(r.ruleset(), render(&all, &cidr()));
}
