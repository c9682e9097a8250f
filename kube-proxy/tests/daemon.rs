//! The daemon in-process against an in-process apiserver, with the fake iptables: API
//! changes become rule changes, bursts coalesce, deletes clean up, an absent apiserver is
//! waited for.

mod common;

use apiserver::testing::TestServer;
use client::{Api, Client, DeleteParams};
use common::{dnats_to, endpoints, service, wait_applied};
use kube_proxy::iptables::runner::Call;
use kube_proxy::iptables::{FakeIptables, Iptables};
use kube_proxy::metrics::LAST_CHANGE_TRIGGER_TIME;
use kube_proxy::{Config, daemon};
use proto::k8s::{Endpoints, Service};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const WAIT: Duration = Duration::from_secs(20);
const PROGRAMMING: &str =
    r#"kubeproxy_network_programming_duration_seconds_count{ip_family="IPv4"}"#;

/// One plain HTTP/1.1 GET; the whole response (status line, headers, body).
async fn get(addr: SocketAddr, path: &str) -> String {
    let mut c = tokio::net::TcpStream::connect(addr).await.unwrap();
    c.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut out = String::new();
    c.read_to_string(&mut out).await.unwrap();
    out
}

/// The value of the sample `series` (name and labels as exposed); 0 when absent.
fn metric(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0)
}

fn config(url: &str, min_sync: Duration) -> Config {
    let mut c = Config::new(url);
    c.min_sync_period = min_sync;
    c.cluster_cidr = Some("10.244.0.0/16".into());
    c.node_name = Some("node-a".into());
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_changes_become_rules_and_bursts_coalesce() {
    let server = TestServer::start().await;
    let client = Client::connect(&server.url).await.unwrap();
    let services: Api<Service> = Api::namespaced(client.clone(), "default");
    let eps: Api<Endpoints> = Api::namespaced(client.clone(), "default");

    // The apiserver allocates the cluster IP and node port (built by the allocation work).
    let web = services
        .create(&service("web", "NodePort", 80, 0))
        .await
        .unwrap();
    let spec = web.spec.clone().unwrap();
    let ip: Ipv4Addr = spec.cluster_ip.parse().unwrap();
    assert_eq!(ip.octets()[0], 10);
    assert!((96..112).contains(&ip.octets()[1]), "in 10.96.0.0/12: {ip}");
    let node_port = spec.ports[0].node_port;
    assert!((30000..=32767).contains(&node_port), "{node_port}");
    eps.create(&endpoints(
        "web",
        &["10.244.1.2", "10.244.1.3"],
        &["10.244.1.4"],
        8080,
    ))
    .await
    .unwrap();

    let fake = Arc::new(FakeIptables::new());
    let mut cfg = config(&server.url, Duration::from_millis(500));
    cfg.telemetry.metrics_bind_address = Some("127.0.0.1:0".into());
    let running = daemon::start(cfg, fake.clone()).await.unwrap();
    let metrics_addr = running.metrics_addr.expect("metrics served on a free port");
    let mut status = running.status.clone();
    let r = wait_applied(&mut status, WAIT, "both ready endpoints", |r| {
        dnats_to(r, "10.244.1.2:8080") && dnats_to(r, "10.244.1.3:8080")
    })
    .await;
    assert!(
        !dnats_to(&r, "10.244.1.4:8080"),
        "not-ready endpoint programmed"
    );
    let nodeports = &r.nat.chains["KUBE-NODEPORTS"];
    assert!(
        nodeports[0].contains(&format!("--dport {node_port} ")),
        "{nodeports:?}"
    );
    // What the fake kernel holds is what the daemon says it applied.
    let live = fake.table("nat");
    assert_eq!(live.get("KUBE-NODEPORTS"), Some(nodeports));

    // A burst of 20 endpoint changes within the min sync period costs few restores.
    let before = fake.restore_count();
    for i in 0..20 {
        let mut e = eps.get("web").await.unwrap();
        e.subsets[0].addresses[0].ip = format!("10.244.2.{}", i + 10);
        eps.update(&e).await.unwrap();
    }
    wait_applied(&mut status, WAIT, "the last change of the burst", |r| {
        dnats_to(r, "10.244.2.29:8080")
    })
    .await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    let restores = fake.restore_count() - before;
    assert!(restores <= 4, "20 changes cost {restores} restores");
    assert!(
        !fake
            .table("nat")
            .values()
            .flatten()
            .any(|r| r.ends_with("10.244.2.28:8080")),
        "an earlier endpoint of the burst is still live"
    );

    // Endpoints emptied: REJECT instead of dispatch. The change carries the endpoints
    // controller's trigger time, so its programming is measured.
    let programmed_before = metric(&get(metrics_addr, "/metrics").await, PROGRAMMING);
    let mut e = eps.get("web").await.unwrap();
    e.subsets[0].addresses.clear();
    e.metadata.as_mut().unwrap().annotations.insert(
        LAST_CHANGE_TRIGGER_TIME.into(),
        proto::time::format_rfc3339_micros(SystemTime::now()),
    );
    eps.update(&e).await.unwrap();
    let r = wait_applied(&mut status, WAIT, "the REJECT rule", |r| {
        r.filter.chains["KUBE-SERVICES"]
            .iter()
            .any(|x| x.contains("default/web:http has no endpoints"))
    })
    .await;
    assert!(
        !r.nat.chains["KUBE-SERVICES"]
            .iter()
            .any(|x| x.contains(&spec.cluster_ip))
    );

    // Service deleted: every chain of it gone from the (fake) kernel.
    services
        .delete("web", &DeleteParams::default())
        .await
        .unwrap();
    wait_applied(&mut status, WAIT, "no rules for web", |r| {
        !r.to_restore_text().contains("default/web")
    })
    .await;
    let live = fake.table("nat");
    assert!(
        live.keys().all(|c| !c.starts_with("KUBE-SVC-")
            && !c.starts_with("KUBE-SEP-")
            && !c.starts_with("KUBE-EXT-")),
        "{:?}",
        live.keys().collect::<Vec<_>>()
    );
    // Nothing changes: the periodic sync would skip the restore (checked in unit tests).
    // The served metrics count what happened (the registry is the test process's, shared
    // with the other test: at least this test's share), and the proxy is healthy.
    let text = get(metrics_addr, "/metrics").await;
    let syncs = metric(
        &text,
        r#"kubeproxy_sync_proxy_rules_duration_seconds_count{ip_family="IPv4"}"#,
    );
    assert!(syncs >= 4.0, "{syncs} syncs\n{text}");
    let changes = metric(&text, "kubeproxy_sync_proxy_rules_endpoint_changes_total");
    assert!(changes >= 22.0, "{changes} endpoint changes\n{text}");
    assert!(metric(&text, "kubeproxy_sync_proxy_rules_service_changes_total") >= 2.0);
    assert!(metric(&text, PROGRAMMING) > programmed_before, "{text}");
    assert!(
        metric(
            &text,
            r#"kubeproxy_sync_proxy_rules_last_timestamp_seconds{ip_family="IPv4"}"#
        ) > 1.7e9
    );
    assert!(
        text.contains(
            r#"kubeproxy_sync_proxy_rules_iptables_total{ip_family="IPv4",table="nat"} "#
        ),
        "{text}"
    );
    assert!(text.contains("process_start_time_seconds"), "{text}");
    let health = get(metrics_addr, "/healthz?verbose").await;
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    assert!(health.contains("[+]proxier-sync ok"), "{health}");
    running.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waits_for_an_absent_apiserver_then_syncs() {
    let dir = tempfile::tempdir().unwrap();
    let addr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let fake = Arc::new(FakeIptables::new());
    let running = daemon::start(
        config(&format!("http://{addr}"), Duration::from_millis(100)),
        fake.clone(),
    )
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        fake.calls().is_empty(),
        "no rules before the caches are synced"
    );
    let server = TestServer::start_in(&dir.path().join("data"), addr).await;
    let client = Client::connect(&server.url).await.unwrap();
    let services: Api<Service> = Api::namespaced(client.clone(), "default");
    services
        .create(&service("late", "ClusterIP", 80, 0))
        .await
        .unwrap();
    Api::<Endpoints>::namespaced(client, "default")
        .create(&endpoints("late", &["10.244.7.7"], &[], 8080))
        .await
        .unwrap();
    let mut status = running.status.clone();
    wait_applied(
        &mut status,
        Duration::from_secs(40),
        "rules after the apiserver came up",
        |r| dnats_to(r, "10.244.7.7:8080"),
    )
    .await;
    assert!(
        fake.calls()
            .iter()
            .any(|c| matches!(c, Call::EnsureRule { .. }))
    );
    running.stop().await.unwrap();
    server.stop().await;
}

#[tokio::test]
async fn ipvs_mode_names_the_missing_kernel_feature() {
    // What it checks needs the module absent; under CI=true a kernel with IP_VS fails here
    // instead of passing without checking anything.
    if !testkit::require(
        "ipvs_mode_names_the_missing_kernel_feature",
        &[testkit::Prereq::NoIpvs],
    ) {
        return;
    }
    let mut c = Config::new("http://127.0.0.1:1");
    c.mode = kube_proxy::Mode::Ipvs;
    let fake: Arc<dyn Iptables> = Arc::new(FakeIptables::new());
    let err = daemon::start(c, fake)
        .await
        .err()
        .expect("ipvs mode must fail here")
        .to_string();
    assert!(
        err.contains("IP Virtual Server") && err.contains("CONFIG_IP_VS"),
        "{err}"
    );
}

/// `--mode nftables` with the fake nft: API changes become table changes (one `nft -f` per
/// sync), a burst coalesces, a delete removes the service's chain and map elements.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nftables_mode_follows_the_api_and_coalesces_bursts() {
    use kube_proxy::nftables::FakeNft;
    let server = TestServer::start().await;
    let client = Client::connect(&server.url).await.unwrap();
    let services: Api<Service> = Api::namespaced(client.clone(), "default");
    let eps: Api<Endpoints> = Api::namespaced(client.clone(), "default");
    let web = services
        .create(&service("web", "NodePort", 80, 0))
        .await
        .unwrap();
    let node_port = web.spec.unwrap().ports[0].node_port;
    eps.create(&endpoints("web", &["10.244.1.2"], &["10.244.1.4"], 8080))
        .await
        .unwrap();
    let fake = Arc::new(FakeNft::new());
    let running = daemon::start_nftables(
        config(&server.url, Duration::from_millis(500)),
        fake.clone(),
    )
    .await
    .unwrap();
    let mut status = running.status.clone();
    common::wait_nft_applied(&mut status, WAIT, "ready endpoint", |r| {
        r.dnats_to("10.244.1.2:8080")
    })
    .await;
    let table = fake.table().expect("table made");
    assert!(
        table.sets["service-nodeports"].contains_key(&format!("tcp . {node_port}")),
        "{:?}",
        table.sets["service-nodeports"]
    );
    assert!(
        !format!("{table:?}").contains("10.244.1.4"),
        "not-ready endpoint programmed"
    );
    let first_applies = fake.inputs().len();

    // 20 changes within the min sync period: a few transactions, not 20.
    for i in 0..20u8 {
        let mut e = eps.get("web").await.unwrap();
        e.subsets = endpoints("web", &[&format!("10.244.2.{}", i + 1)], &[], 8080).subsets;
        eps.update(&e).await.unwrap();
    }
    common::wait_nft_applied(&mut status, WAIT, "last of the burst", |r| {
        r.dnats_to("10.244.2.20:8080")
    })
    .await;
    let applies = fake.inputs().len() - first_applies;
    assert!(applies <= 4, "{applies} nft transactions for a burst of 20");
    let table = fake.table().unwrap();
    let map: Vec<&String> = table
        .sets
        .iter()
        .filter(|(n, _)| *n == "service-endpoints-tcp" || *n == "nodeport-endpoints-tcp")
        .flat_map(|(_, m)| m.values())
        .collect();
    // Index 0 under the cluster IP and under the node port.
    assert_eq!(map, [&"10.244.2.20 . 8080".to_string(); 2]);

    // Deleted: its chains and elements go.
    services
        .delete("web", &DeleteParams::default())
        .await
        .unwrap();
    common::wait_nft_applied(&mut status, WAIT, "web gone", |r| r.services.is_empty()).await;
    let table = fake.table().unwrap();
    assert!(!format!("{table:?}").contains("default/web"), "{table:?}");
    assert!(table.sets["service-nodeports"].is_empty());
    running.stop().await.unwrap();
    server.stop().await;
}
