//! `--mode nftables` on the real kernel, in network namespaces this test makes (see
//! `common/topology.rs`: node, pods, client, and a pod namespace of its own for hairpin).
//! The daemon runs in-process; its `nft -f` runs inside the node namespace through
//! `ip netns exec`. No packet leaves the namespaces; the host's tables are never touched.

mod common;

use apiserver::testing::TestServer;
use client::{Api, Client, DeleteParams};
use common::topology::{Topology, WAIT, counts};
use common::{endpoints, service, wait_nft_applied};
use kube_proxy::nftables::{Nft, RealNft, cleanup};
use kube_proxy::{Config, daemon};
use proto::k8s::{ClientIpConfig, Endpoints, Service, SessionAffinityConfig};
use std::sync::Arc;
use std::time::Duration;
use testkit::Prereq;

fn keys(m: &std::collections::BTreeMap<String, usize>) -> Vec<String> {
    m.keys().cloned().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn services_work_through_real_nftables_in_namespaces() {
    if !testkit::require(
        "services_work_through_real_nftables_in_namespaces",
        &[Prereq::Root, Prereq::NetnsTool("nft")],
    ) {
        return;
    }
    let mut topo = Topology::build().expect("test topology");
    let own_pod = topo.add_own_pod().expect("own pod namespace");
    for (i, ip) in ["10.244.1.1", "10.244.1.2", "10.244.1.3"]
        .iter()
        .enumerate()
    {
        topo.start_backend(&format!("{ip}:8080"), &format!("backend-{}", i + 1));
    }
    topo.start_backend_in(&own_pod, "10.244.2.1:8080", "backend-own");

    let server = TestServer::start().await;
    let client = Client::connect(&server.url).await.unwrap();
    let services: Api<Service> = Api::namespaced(client.clone(), "default");
    let eps: Api<Endpoints> = Api::namespaced(client.clone(), "default");
    let web = services
        .create(&service("web", "NodePort", 80, 0))
        .await
        .unwrap();
    let spec = web.spec.unwrap();
    let vip = format!("{}:80", spec.cluster_ip);
    let np = format!("10.250.1.1:{}", spec.ports[0].node_port);
    eps.create(&endpoints(
        "web",
        &["10.244.1.1", "10.244.1.2", "10.244.1.3"],
        &[],
        8080,
    ))
    .await
    .unwrap();
    let empty = services
        .create(&service("empty", "ClusterIP", 80, 0))
        .await
        .unwrap();
    let dead = format!("{}:80", empty.spec.unwrap().cluster_ip);
    // Hairpin: the own pod is an endpoint of "hair" and calls it.
    let hair = services
        .create(&service("hair", "ClusterIP", 80, 0))
        .await
        .unwrap();
    let hair_vip = format!("{}:80", hair.spec.unwrap().cluster_ip);
    eps.create(&endpoints("hair", &["10.244.2.1", "10.244.1.1"], &[], 8080))
        .await
        .unwrap();
    // Session affinity ClientIP over three endpoints.
    let mut sticky = service("sticky", "ClusterIP", 80, 0);
    if let Some(s) = sticky.spec.as_mut() {
        s.session_affinity = "ClientIP".into();
        s.session_affinity_config = Some(SessionAffinityConfig {
            client_ip: Some(ClientIpConfig {
                timeout_seconds: Some(300),
            }),
        });
    }
    let sticky = services.create(&sticky).await.unwrap();
    let sticky_vip = format!("{}:80", sticky.spec.unwrap().cluster_ip);
    eps.create(&endpoints(
        "sticky",
        &["10.244.1.1", "10.244.1.2", "10.244.1.3"],
        &[],
        8080,
    ))
    .await
    .unwrap();

    let nft = Arc::new(RealNft::in_netns(&topo.node));
    let mut config = Config::new(&server.url);
    config.min_sync_period = Duration::from_millis(100);
    config.cluster_cidr = Some("10.244.0.0/16".into());
    let running = daemon::start_nftables(config, nft.clone()).await.unwrap();
    let mut status = running.status.clone();
    wait_nft_applied(&mut status, WAIT, "all services", |r| {
        (1..=3).all(|i| r.dnats_to(&format!("10.244.1.{i}:8080")))
            && r.dnats_to("10.244.2.1:8080")
            && r.services.len() == 4
    })
    .await;
    let listed = nft.list_table().unwrap();
    assert!(listed.contains("map service-ips"), "{listed}");

    // ClusterIP from another namespace (forwarded) and from the node itself (output hook).
    let all3 = ["backend-1", "backend-2", "backend-3"];
    assert_eq!(keys(&topo.probe(&topo.client, &vip, 60)), all3);
    assert_eq!(keys(&topo.probe(&topo.node, &vip, 45)), all3);
    // NodePort on the node's address.
    assert_eq!(keys(&topo.probe(&topo.client, &np, 60)), all3);

    // No endpoints: refused at once, from outside and on the node.
    assert_eq!(
        topo.probe(&topo.client, &dead, 3),
        counts(&[("ERR ConnectionRefused", 3)])
    );
    assert_eq!(
        topo.probe(&topo.node, &dead, 3),
        counts(&[("ERR ConnectionRefused", 3)])
    );

    // Hairpin: the pod reaches its own service and gets itself about half the time; that
    // only works when the node masquerades the connection (else the pod drops a packet
    // from its own address arriving from outside and the connect times out).
    let got = topo.probe(&own_pod, &hair_vip, 40);
    assert_eq!(keys(&got), ["backend-1", "backend-own"], "{got:?}");

    // Session affinity: one client sticks to one endpoint.
    let got = topo.probe(&topo.client, &sticky_vip, 20);
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(!keys(&got)[0].starts_with("ERR"), "{got:?}");

    // backend-3 goes not ready: it stops receiving traffic.
    eps.update(&{
        let mut e = eps.get("web").await.unwrap();
        e.subsets = endpoints("web", &["10.244.1.1", "10.244.1.2"], &["10.244.1.3"], 8080).subsets;
        e
    })
    .await
    .unwrap();
    wait_nft_applied(&mut status, WAIT, "backend-3 gone from web", |r| {
        r.services
            .get("default/web:http/tcp")
            .is_some_and(|s| !s.dnats_to("10.244.1.3:8080"))
    })
    .await;
    assert_eq!(
        keys(&topo.probe(&topo.client, &vip, 60)),
        ["backend-1", "backend-2"]
    );
    assert_eq!(
        keys(&topo.probe(&topo.client, &np, 30)),
        ["backend-1", "backend-2"]
    );

    // An endpoint replaced by another (same count: only the endpoint map's element changes,
    // no rule): traffic follows.
    eps.update(&{
        let mut e = eps.get("web").await.unwrap();
        e.subsets = endpoints("web", &["10.244.1.1", "10.244.1.3"], &["10.244.1.2"], 8080).subsets;
        e
    })
    .await
    .unwrap();
    wait_nft_applied(&mut status, WAIT, "backend-2 replaced by backend-3", |r| {
        r.services
            .get("default/web:http/tcp")
            .is_some_and(|s| !s.dnats_to("10.244.1.2:8080") && s.dnats_to("10.244.1.3:8080"))
    })
    .await;
    assert_eq!(
        keys(&topo.probe(&topo.client, &vip, 60)),
        ["backend-1", "backend-3"]
    );

    // The empty service gets an endpoint: it answers, the reject is gone.
    eps.create(&endpoints("empty", &["10.244.1.3"], &[], 8080))
        .await
        .unwrap();
    wait_nft_applied(&mut status, WAIT, "empty served", |r| {
        r.services.contains_key("default/empty:http/tcp")
            && r.services["default/empty:http/tcp"].chains.len() == 1
    })
    .await;
    assert_eq!(
        topo.probe(&topo.client, &dead, 5),
        counts(&[("backend-3", 5)])
    );

    // Deleting the service removes its chains and map elements from the kernel.
    assert!(nft.list_table().unwrap().contains("default/web/tcp/http"));
    services
        .delete("web", &DeleteParams::default())
        .await
        .unwrap();
    wait_nft_applied(&mut status, WAIT, "web gone", |r| {
        !r.services.contains_key("default/web:http/tcp")
    })
    .await;
    let listed = nft.list_table().unwrap();
    assert!(!listed.contains("default/web/"), "{listed}");
    assert!(!listed.contains(&spec.cluster_ip), "{listed}");
    assert_eq!(
        topo.probe(&topo.client, &dead, 3),
        counts(&[("backend-3", 3)]),
        "other services unaffected"
    );

    // --cleanup deletes the table.
    running.stop().await.unwrap();
    assert!(nft.table_exists().unwrap());
    assert!(cleanup(nft.as_ref()).unwrap());
    assert!(!nft.table_exists().unwrap());
    let all = topo.exec(&topo.node, &["nft", "list", "ruleset"]).unwrap();
    assert!(!all.contains("kube-proxy"), "{all}");
    server.stop().await;
}
