//! Port-forward through the kubelet API on a hollow node (the fake runtime, whose pod ports
//! echo): through the apiserver's proxy, which finds the pod's node, and straight to the
//! kubelet. Connections are independent streams; each side's close is a half-close.

use apiserver::testing::TestServer;
use client::kubelet_api::{self, PortForwardOpen};
use client::{Api, DeleteParams};
use proto::Resource;
use proto::k8s::{Node, Pod};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

async fn wait_for<T>(what: &str, timeout: Duration, mut f: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < deadline, "{what}: not within {timeout:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn pod(name: &str, node: &str) -> Pod {
    let yaml = format!(
        r#"
apiVersion: v1
kind: Pod
metadata: {{name: {name}, namespace: default}}
spec:
  nodeName: {node}
  terminationGracePeriodSeconds: 0
  containers:
  - {{name: app, image: local/busybox:1}}
"#
    );
    let obj = proto::manifest::load_documents(&yaml).unwrap().remove(0);
    Pod::try_from_object(obj).unwrap()
}

fn open(pod: &str, port: u32) -> PortForwardOpen {
    PortForwardOpen {
        namespace: "default".into(),
        pod: pod.into(),
        port,
    }
}

/// Sends `data` over a forwarded connection, half-closes, and reads the answer to its end.
async fn round_trip(api: &client::KubeletApi, pod: &str, port: u32, data: &[u8]) -> Vec<u8> {
    let (mut local, far) = tokio::io::duplex(4096);
    let api = api.clone();
    let o = open(pod, port);
    let fwd = tokio::spawn(async move { kubelet_api::forward(&api, o, far).await });
    local.write_all(data).await.unwrap();
    local.shutdown().await.unwrap();
    let mut got = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), local.read_to_end(&mut got))
        .await
        .expect("the echo ends after our close")
        .unwrap();
    fwd.await.unwrap().unwrap();
    got
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn port_forward_through_the_proxy_and_straight_to_the_kubelet() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let busybox = dir.path().join("busybox");
    std::fs::write(&busybox, b"not really busybox").unwrap();
    let node = "hollow-pf";
    let cfg = <kubelet::config::Config as clap::Parser>::parse_from([
        "kubelet",
        "--server",
        &server.url,
        "--node-name",
        node,
        "--node-ip",
        "127.0.0.1",
        "--root-dir",
        dir.path().join("root").to_str().unwrap(),
        "--busybox",
        busybox.to_str().unwrap(),
        "--sync-frequency",
        "100ms",
        "--address",
        "127.0.0.1",
        "--port",
        "0",
        "--healthz-port",
        "0",
    ]);
    let rt = kubelet::runtime::fake::FakeRuntime::new();
    rt.close_port(81);
    let cancel = CancellationToken::new();
    let task = tokio::spawn(kubelet::kubelet::run(
        cfg,
        Arc::new(rt.clone()),
        None,
        cancel.clone(),
    ));
    let c = client::Client::connect(&server.url).await.unwrap();
    let pods: Api<Pod> = Api::namespaced(c.clone(), "default");
    pods.create(&pod("web", node)).await.unwrap();
    wait_for("pod Running", Duration::from_secs(10), async || {
        pods.get("web")
            .await
            .ok()
            .filter(|p| p.status.as_ref().is_some_and(|s| s.phase == "Running"))
    })
    .await;

    let via = client::KubeletApi::via_apiserver(&server.url)
        .await
        .unwrap();
    // Several connections at once, each its own stream with its own bytes.
    let answers = futures::future::join_all((0..4).map(|i| {
        let via = via.clone();
        async move {
            let data = format!("connection {i} ").repeat(5000).into_bytes();
            (round_trip(&via, "web", 80, &data).await, data)
        }
    }))
    .await;
    for (got, sent) in answers {
        assert_eq!(got.len(), sent.len());
        assert!(got == sent, "each connection gets its own bytes back");
    }

    // Straight to the kubelet, on its published port.
    let port = Api::<Node>::all(c.clone())
        .get(node)
        .await
        .unwrap()
        .status
        .unwrap()
        .daemon_endpoints
        .unwrap()
        .kubelet_endpoint
        .unwrap()
        .port;
    let direct = client::KubeletApi::direct(&format!("http://127.0.0.1:{port}"))
        .await
        .unwrap();
    assert_eq!(round_trip(&direct, "web", 8080, b"direct").await, b"direct");

    // Errors before the connection is made are the call's, in the kubelet's words.
    let refused = via
        .port_forward(open("web", 81), futures::stream::empty())
        .await
        .unwrap_err();
    assert!(
        refused.message.starts_with(
            "error forwarding port 81 to pod default/web: failed to connect to localhost:81"
        ),
        "{}",
        refused.message
    );
    let bad = via
        .port_forward(open("web", 70000), futures::stream::empty())
        .await
        .unwrap_err();
    assert!(
        bad.message.contains("invalid port 70000"),
        "{}",
        bad.message
    );
    let missing = via
        .port_forward(open("nope", 80), futures::stream::empty())
        .await
        .unwrap_err();
    assert!(missing.is(proto::Reason::NotFound), "{missing:?}");

    // A pod that went is not found.
    pods.delete("web", &DeleteParams::default()).await.unwrap();
    wait_for("pod web gone", Duration::from_secs(10), async || {
        pods.get("web").await.is_err().then_some(())
    })
    .await;
    let gone = via
        .port_forward(open("web", 80), futures::stream::empty())
        .await
        .unwrap_err();
    assert!(gone.is(proto::Reason::NotFound), "{gone:?}");
    cancel.cancel();
    task.await.unwrap().unwrap();
}
