//! Real iptables in network namespaces this test makes: a node namespace running the
//! proxy's rules (the daemon runs in-process, its `iptables-restore` runs inside the node
//! namespace through `ip netns exec`), a "pods" namespace holding three backends (the test
//! helper's TCP server, one per address), and a client namespace. Service and pod ranges
//! are routed only between these namespaces; none has a default route to the host, so no
//! packet leaves them. The host's own iptables are never touched. Everything is named after
//! the run and removed on drop, also when an assertion fails.

mod common;

use apiserver::testing::TestServer;
use client::{Api, Client, DeleteParams};
use common::topology::{Topology, WAIT, counts};
use common::{dnats_to, endpoints, service, wait_applied};
use kube_proxy::iptables::{RealIptables, cleanup};
use kube_proxy::{Config, daemon};
use proto::k8s::{Endpoints, Service};
use std::sync::Arc;
use std::time::Duration;
use testkit::Prereq;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn services_work_through_real_iptables_in_namespaces() {
    if !testkit::require(
        "services_work_through_real_iptables_in_namespaces",
        &[Prereq::Root, Prereq::NetnsTool("iptables-restore")],
    ) {
        return;
    }
    let mut topo = Topology::build().expect("test topology");
    for (i, ip) in ["10.244.1.1", "10.244.1.2", "10.244.1.3"]
        .iter()
        .enumerate()
    {
        topo.start_backend(&format!("{ip}:8080"), &format!("backend-{}", i + 1));
    }

    let server = TestServer::start().await;
    let client = Client::connect(&server.url).await.unwrap();
    let services: Api<Service> = Api::namespaced(client.clone(), "default");
    let eps: Api<Endpoints> = Api::namespaced(client.clone(), "default");
    let web = services
        .create(&service("web", "NodePort", 80, 0))
        .await
        .unwrap();
    let spec = web.spec.unwrap();
    let cluster_ip = spec.cluster_ip.clone();
    let node_port = spec.ports[0].node_port;
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
    let empty_ip = empty.spec.unwrap().cluster_ip;

    let ipt = Arc::new(RealIptables::in_netns(&topo.node));
    let mut config = Config::new(&server.url);
    config.min_sync_period = Duration::from_millis(100);
    config.cluster_cidr = Some("10.244.0.0/16".into());
    let running = daemon::start(config, ipt.clone()).await.unwrap();
    let mut status = running.status.clone();
    wait_applied(&mut status, WAIT, "three endpoints", |r| {
        (1..=3).all(|i| dnats_to(r, &format!("10.244.1.{i}:8080")))
    })
    .await;

    // ClusterIP from another namespace (nat PREROUTING, forwarded) and from the node
    // itself (nat OUTPUT): every backend answers, nothing fails.
    let vip = format!("{cluster_ip}:80");
    let got = topo.probe(&topo.client, &vip, 60);
    assert_eq!(
        got.keys().cloned().collect::<Vec<_>>(),
        ["backend-1", "backend-2", "backend-3"],
        "{got:?}"
    );
    let got = topo.probe(&topo.node, &vip, 45);
    assert_eq!(got.len(), 3, "from the node itself: {got:?}");
    assert!(!got.keys().any(|k| k.starts_with("ERR")), "{got:?}");
    // NodePort on the node's address.
    let np = format!("10.250.1.1:{node_port}");
    let got = topo.probe(&topo.client, &np, 60);
    assert_eq!(
        got.keys().cloned().collect::<Vec<_>>(),
        ["backend-1", "backend-2", "backend-3"],
        "{got:?}"
    );

    // No endpoints: refused at once (REJECT), from outside and on the node.
    let dead = format!("{empty_ip}:80");
    assert_eq!(
        topo.probe(&topo.client, &dead, 3),
        counts(&[("ERR ConnectionRefused", 3)])
    );
    assert_eq!(
        topo.probe(&topo.node, &dead, 3),
        counts(&[("ERR ConnectionRefused", 3)])
    );

    // backend-3 goes not ready: it stops receiving traffic.
    eps.update(&{
        let mut e = eps.get("web").await.unwrap();
        e.subsets = endpoints("web", &["10.244.1.1", "10.244.1.2"], &["10.244.1.3"], 8080).subsets;
        e
    })
    .await
    .unwrap();
    wait_applied(&mut status, WAIT, "backend-3 gone", |r| {
        !dnats_to(r, "10.244.1.3:8080")
    })
    .await;
    let got = topo.probe(&topo.client, &vip, 60);
    assert_eq!(
        got.keys().cloned().collect::<Vec<_>>(),
        ["backend-1", "backend-2"],
        "{got:?}"
    );
    let got = topo.probe(&topo.client, &np, 30);
    assert_eq!(
        got.keys().cloned().collect::<Vec<_>>(),
        ["backend-1", "backend-2"],
        "{got:?}"
    );

    // The empty service gets an endpoint: it answers, the REJECT is gone.
    eps.create(&endpoints("empty", &["10.244.1.3"], &[], 8080))
        .await
        .unwrap();
    wait_applied(&mut status, WAIT, "empty served", |r| {
        dnats_to(r, "10.244.1.3:8080")
    })
    .await;
    assert_eq!(
        topo.probe(&topo.client, &dead, 5),
        counts(&[("backend-3", 5)])
    );

    // Deleting the service removes its rules from the kernel.
    let web_chain = kube_proxy::chain_names::service_chain("default/web:http", "tcp");
    assert!(topo.save_nat().contains(&web_chain));
    services
        .delete("web", &DeleteParams::default())
        .await
        .unwrap();
    wait_applied(&mut status, WAIT, "web gone", |r| {
        !r.to_restore_text().contains("default/web")
    })
    .await;
    let saved = topo.save_nat();
    assert!(!saved.contains(&web_chain), "{saved}");
    assert!(!saved.contains("default/web"), "{saved}");
    assert!(!saved.contains("10.244.1.1:8080"), "{saved}");
    let got = topo.probe(&topo.client, &dead, 3);
    assert_eq!(
        got,
        counts(&[("backend-3", 3)]),
        "other services unaffected"
    );

    // --cleanup removes everything it made in the namespace.
    running.stop().await.unwrap();
    let n = cleanup(ipt.as_ref(), 1500).unwrap();
    assert!(n > 7, "{n}");
    let saved = topo.save_nat()
        + &topo
            .exec(&topo.node, &["iptables-save", "-t", "filter"])
            .unwrap();
    assert!(!saved.contains("KUBE-"), "{saved}");
    server.stop().await;
}
