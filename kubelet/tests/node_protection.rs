//! The apiserver protects nodes and itself from what the API holds: Events expire after
//! `--event-ttl` (tiny here), and the kubelet proxy dials only a node's registered unicast
//! InternalIP, giving up on a kubelet that never answers.
//! (Here, among the kubelet's tests, for the typed client the apiserver's own tests lack.)

use apiserver::testing::TestServer;
use client::{Api, Client};
use proto::k8s::{
    DaemonEndpoint, Event, Node, NodeAddress, NodeDaemonEndpoints, NodeStatus, ObjectMeta,
    ObjectReference,
};
use proto::kubelet_api::StatsRequest;
use proto::kubelet_api::kubelet_client::KubeletClient;
use std::time::{Duration, Instant};

fn event(name: &str) -> Event {
    let now = proto::time::now_rfc3339();
    Event {
        metadata: Some(ObjectMeta {
            name: name.into(),
            namespace: "default".into(),
            ..Default::default()
        }),
        involved_object: Some(ObjectReference {
            kind: "Pod".into(),
            namespace: "default".into(),
            name: "p".into(),
            ..Default::default()
        }),
        reason: "Test".into(),
        message: "m".into(),
        count: 1,
        first_timestamp: now.clone(),
        last_timestamp: now,
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_expire_after_the_ttl_unless_rewritten() {
    let server = TestServer::start_with(|c| c.event_ttl = Duration::from_secs(2)).await;
    let c = Client::connect(&server.url).await.unwrap();
    let events: Api<Event> = Api::namespaced(c.clone(), "default");
    events.create(&event("once")).await.unwrap();
    events.create(&event("repeated")).await.unwrap();
    let start = Instant::now();
    // "repeated" is raised every 500 ms (as the kubelet's correlator patches count and
    // lastTimestamp), "once" is left alone.
    let mut count = 1;
    let mut once_gone = None;
    while start.elapsed() < Duration::from_secs(6) {
        count += 1;
        events
            .patch_merge(
                "repeated",
                &serde_json::json!({"count": count, "lastTimestamp": proto::time::now_rfc3339()}),
            )
            .await
            .unwrap();
        if once_gone.is_none() && events.get_opt("once").await.unwrap().is_none() {
            once_gone = Some(start.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let gone = once_gone.expect("the untouched event expired");
    assert!(
        gone >= Duration::from_secs(2) && gone < Duration::from_secs(5),
        "expired after {gone:?}, TTL 2 s, sweep every 1 s"
    );
    assert!(
        events.get_opt("repeated").await.unwrap().is_some(),
        "an event rewritten within the TTL is kept"
    );
    // Left alone, it goes too.
    let deadline = Instant::now() + Duration::from_secs(6);
    while events.get_opt("repeated").await.unwrap().is_some() {
        assert!(
            Instant::now() < deadline,
            "the rewritten event never expired"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    server.stop().await;
}

async fn node_at(c: &Client, name: &str, ip: &str, port: i32) {
    let nodes: Api<Node> = Api::all(c.clone());
    let mut n = nodes
        .create(&Node {
            metadata: Some(ObjectMeta {
                name: name.into(),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap();
    n.status = Some(NodeStatus {
        addresses: vec![NodeAddress {
            r#type: "InternalIP".into(),
            address: ip.into(),
        }],
        daemon_endpoints: Some(NodeDaemonEndpoints {
            kubelet_endpoint: Some(DaemonEndpoint { port }),
        }),
        ..Default::default()
    });
    nodes.update_status(&n).await.unwrap();
}

fn stats(node: &str) -> StatsRequest {
    StatsRequest {
        node: node.into(),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kubelet_proxy_refuses_loopback_nodes_by_default() {
    let server = TestServer::start_with(|c| c.kubelet_allow_loopback = false).await;
    let c = Client::connect(&server.url).await.unwrap();
    // Something on the apiserver's host that a Node object could point at.
    let local = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = i32::from(local.local_addr().unwrap().port());
    node_at(&c, "sneaky", "127.0.0.1", port).await;
    node_at(&c, "nowhere", "224.0.0.1", 10250).await;
    let mut proxy = KubeletClient::connect(server.url.clone()).await.unwrap();
    for node in ["sneaky", "nowhere"] {
        let e = proxy.stats(stats(node)).await.unwrap_err();
        assert_eq!(e.code(), tonic::Code::FailedPrecondition, "{node}: {e:?}");
        assert!(e.message().contains("refusing"), "{node}: {}", e.message());
    }
    // Nothing was dialled.
    let accepted = tokio::time::timeout(Duration::from_millis(200), local.accept()).await;
    assert!(
        accepted.is_err(),
        "the proxy connected to the loopback listener"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kubelet_proxy_gives_up_on_a_kubelet_that_never_answers() {
    let server = TestServer::start_with(|c| c.kubelet_timeout = 1).await;
    let c = Client::connect(&server.url).await.unwrap();
    // A black hole: accepts connections and never says a word.
    let hole = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = i32::from(hole.local_addr().unwrap().port());
    let held = tokio::spawn(async move {
        let mut conns = vec![];
        while let Ok((s, _)) = hole.accept().await {
            conns.push(s);
        }
    });
    node_at(&c, "hole", "127.0.0.1", port).await;
    let mut proxy = KubeletClient::connect(server.url.clone()).await.unwrap();
    let start = Instant::now();
    let e = proxy.stats(stats("hole")).await.unwrap_err();
    let took = start.elapsed();
    assert!(
        matches!(
            e.code(),
            tonic::Code::DeadlineExceeded | tonic::Code::Unavailable
        ),
        "{e:?}"
    );
    assert!(
        took < Duration::from_secs(4),
        "gave up after {took:?} (timeout 1 s)"
    );
    held.abort();
    server.stop().await;
}
