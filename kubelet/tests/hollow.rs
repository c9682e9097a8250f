//! The kubelet in-process with the fake runtime (a "hollow" node) against an in-process
//! apiserver: registration, lease, pod lifecycle and status through real gRPC, with no
//! container engine. The same wiring serves simulated nodes for scale tests.

use apiserver::testing::TestServer;
use client::{Api, DeleteParams};
use kubelet::network::fake::RecordingNetwork;
use kubelet::runtime::Runtime;
use kubelet::runtime::fake::FakeRuntime;
use kubelet::runtime::labels;
use proto::Resource;
use proto::k8s::{Lease, Node, Pod};
use std::sync::Arc;
use std::time::{Duration, Instant};
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

fn pod(name: &str, node: &str, policy: &str) -> Pod {
    let yaml = format!(
        r#"
apiVersion: v1
kind: Pod
metadata: {{name: {name}, namespace: default}}
spec:
  nodeName: {node}
  restartPolicy: {policy}
  terminationGracePeriodSeconds: 5
  containers:
  - {{name: app, image: local/busybox:1}}
  - {{name: side, image: local/busybox:1}}
"#
    );
    let obj = proto::manifest::load_documents(&yaml).unwrap().remove(0);
    Pod::try_from_object(obj).unwrap()
}

struct Hollow {
    server: TestServer,
    rt: FakeRuntime,
    net: RecordingNetwork,
    cancel: CancellationToken,
    task: tokio::task::JoinHandle<kubelet::Result<()>>,
    _dir: tempfile::TempDir,
}

async fn hollow(node: &str) -> Hollow {
    hollow_at(node, "192.0.2.7").await
}

async fn hollow_at(node: &str, node_ip: &str) -> Hollow {
    hollow_with(node, node_ip, &[]).await
}

/// A hollow node with `extra` flags (a `--pod-cidr` makes it set up the recording network).
async fn hollow_with(node: &str, node_ip: &str, extra: &[&str]) -> Hollow {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let busybox = dir.path().join("busybox");
    std::fs::write(&busybox, b"not really busybox").unwrap();
    let cfg = <kubelet::config::Config as clap::Parser>::parse_from(
        [
            "kubelet",
            "--server",
            &server.url,
            "--node-name",
            node,
            "--node-ip",
            node_ip,
            "--root-dir",
            dir.path().join("root").to_str().unwrap(),
            "--busybox",
            busybox.to_str().unwrap(),
            "--node-labels",
            "zone=z1",
            "--register-with-taints",
            "dedicated=hollow:NoSchedule",
            "--sync-frequency",
            "100ms",
            "--address",
            "127.0.0.1",
            "--port",
            "0",
            "--healthz-port",
            "0",
        ]
        .into_iter()
        .chain(extra.iter().copied()),
    );
    let rt = FakeRuntime::new();
    let net = RecordingNetwork::new();
    let cancel = CancellationToken::new();
    let task = tokio::spawn(kubelet::kubelet::run(
        cfg,
        Arc::new(rt.clone()),
        Some(Arc::new(net.clone())),
        cancel.clone(),
    ));
    Hollow {
        server,
        rt,
        net,
        cancel,
        task,
        _dir: dir,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hollow_node_registers_runs_restarts_and_deletes_pods() {
    let h = hollow("hollow-1").await;
    let c = client::Client::connect(&h.server.url).await.unwrap();
    let nodes: Api<Node> = Api::all(c.clone());
    let node = wait_for(
        "node registered with status",
        Duration::from_secs(10),
        async || {
            nodes
                .get_opt("hollow-1")
                .await
                .unwrap()
                .filter(|n| n.status.is_some())
        },
    )
    .await;
    assert_eq!(node.meta().labels["zone"], "z1");
    assert_eq!(node.meta().labels["kubernetes.io/hostname"], "hollow-1");
    assert_eq!(node.spec.as_ref().unwrap().taints[0].key, "dedicated");
    let st = node.status.unwrap();
    assert!(
        st.conditions
            .iter()
            .any(|c| c.r#type == "Ready" && c.status == "True")
    );
    assert_eq!(st.node_info.unwrap().container_runtime_version, "fake://1");
    let leases: Api<Lease> = Api::namespaced(c.clone(), "kube-node-lease");
    wait_for("lease", Duration::from_secs(10), async || {
        leases.get_opt("hollow-1").await.unwrap()
    })
    .await;

    let pods: Api<Pod> = Api::namespaced(c.clone(), "default");
    pods.create(&pod("p1", "hollow-1", "Always")).await.unwrap();
    let p = wait_for("pod Running", Duration::from_secs(10), async || {
        pods.get("p1")
            .await
            .ok()
            .filter(|p| p.status.as_ref().is_some_and(|s| s.phase == "Running"))
    })
    .await;
    let status = p.status.unwrap();
    assert_eq!(status.host_ip, "192.0.2.7");
    assert!(!status.pod_ip.is_empty());
    assert!(
        status
            .conditions
            .iter()
            .any(|c| c.r#type == "Ready" && c.status == "True")
    );
    // One sandbox, two app containers, labelled with the pod and node.
    let cs = h.rt.containers();
    assert_eq!(cs.len(), 3, "{cs:#?}");
    assert!(
        cs.iter()
            .all(|c| c.label(labels::NODE) == "hollow-1" && c.label(labels::POD_NAME) == "p1")
    );
    let sandbox = cs
        .iter()
        .find(|c| c.container_name() == "POD")
        .unwrap()
        .id
        .clone();
    let app_cfg =
        h.rt.config_of(&cs.iter().find(|c| c.container_name() == "app").unwrap().id)
            .unwrap();
    assert_eq!(
        app_cfg.network,
        Some(kubelet::runtime::NetworkMode::Container(sandbox.clone())),
        "app containers join the sandbox's network"
    );

    // The kubelet API, found through the Node's daemonEndpoints.
    let node = nodes.get("hollow-1").await.unwrap();
    let port = node
        .status
        .unwrap()
        .daemon_endpoints
        .unwrap()
        .kubelet_endpoint
        .unwrap()
        .port;
    assert!(port > 0);
    // Straight to the kubelet, with the typed client.
    let kc = client::KubeletApi::direct(&format!("http://127.0.0.1:{port}"))
        .await
        .unwrap();
    let e = kc
        .exec(kubelet::server::api::ExecRequest {
            namespace: "default".into(),
            pod: "p1".into(),
            container: String::new(),
            command: vec!["true".into()],
        })
        .await
        .unwrap_err();
    assert!(
        e.message.contains("choose one of: [app side]"),
        "{}",
        e.message
    );
    let ok = kc
        .exec(kubelet::server::api::ExecRequest {
            namespace: "default".into(),
            pod: "p1".into(),
            container: "app".into(),
            command: vec!["true".into()],
        })
        .await
        .unwrap();
    assert_eq!(ok.exit_code, 0);
    let stats = kc
        .stats(kubelet::server::api::StatsRequest::default())
        .await
        .unwrap();
    assert_eq!(stats.pods.len(), 1);
    assert_eq!(stats.pods[0].containers.len(), 2);
    let missing = kc
        .exec(kubelet::server::api::ExecRequest {
            namespace: "default".into(),
            pod: "nope".into(),
            container: "app".into(),
            command: vec!["true".into()],
        })
        .await
        .unwrap_err();
    assert_eq!(tonic::Status::from(missing).code(), tonic::Code::NotFound);

    // A crash: the container comes back with restartCount 1.
    let app = cs
        .iter()
        .find(|c| c.container_name() == "app")
        .unwrap()
        .id
        .clone();
    h.rt.exit(&app, 2);
    let p = wait_for("restartCount 1", Duration::from_secs(10), async || {
        pods.get("p1").await.ok().filter(|p| {
            p.status.as_ref().is_some_and(|s| {
                s.container_statuses.iter().any(|c| {
                    c.name == "app"
                        && c.restart_count == 1
                        && c.state.as_ref().is_some_and(|x| x.running.is_some())
                })
            })
        })
    })
    .await;
    let app_status = p
        .status
        .unwrap()
        .container_statuses
        .into_iter()
        .find(|c| c.name == "app")
        .unwrap();
    assert_eq!(
        app_status.last_state.unwrap().terminated.unwrap().exit_code,
        2
    );

    // Graceful deletion: the kubelet stops everything, removes it, deletes the pod.
    pods.delete("p1", &DeleteParams::default()).await.unwrap();
    wait_for("pod gone", Duration::from_secs(10), async || {
        pods.get_opt("p1").await.unwrap().is_none().then_some(())
    })
    .await;
    wait_for("containers removed", Duration::from_secs(10), async || {
        h.rt.containers().is_empty().then_some(())
    })
    .await;
    assert!(
        h.rt.calls()
            .iter()
            .any(|c| matches!(c, kubelet::runtime::fake::Call::Stop(_, 5))),
        "stopped with the pod's grace period"
    );

    h.cancel.cancel();
    h.task.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn never_policy_pod_succeeds_and_is_not_restarted() {
    let h = hollow("hollow-2").await;
    h.rt.exit_on_start("app", 0);
    h.rt.exit_on_start("side", 0);
    let c = client::Client::connect(&h.server.url).await.unwrap();
    let pods: Api<Pod> = Api::namespaced(c.clone(), "default");
    pods.create(&pod("job", "hollow-2", "Never")).await.unwrap();
    wait_for("Succeeded", Duration::from_secs(10), async || {
        pods.get("job")
            .await
            .ok()
            .filter(|p| p.status.as_ref().is_some_and(|s| s.phase == "Succeeded"))
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let starts =
        h.rt.calls()
            .iter()
            .filter(|c| matches!(c, kubelet::runtime::fake::Call::Start(_)))
            .count();
    assert_eq!(starts, 3, "sandbox and two containers, started once each");
    let running =
        h.rt.list_containers(&[(labels::NODE, "hollow-2")])
            .await
            .unwrap()
            .into_iter()
            .filter(|c| c.is_running())
            .count();
    assert_eq!(running, 0, "the sandbox of a finished pod is stopped");
    h.cancel.cancel();
    h.task.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_apiserver_proxies_the_kubelet_api_to_the_pods_node() {
    use client::kubelet_api::{ExecRequest, StatsRequest};
    let h = hollow_at("hollow-3", "127.0.0.1").await;
    let c = client::Client::connect(&h.server.url).await.unwrap();
    let pods: Api<Pod> = Api::namespaced(c.clone(), "default");
    pods.create(&pod("p3", "hollow-3", "Always")).await.unwrap();
    wait_for("pod Running", Duration::from_secs(10), async || {
        pods.get("p3")
            .await
            .ok()
            .filter(|p| p.status.as_ref().is_some_and(|s| s.phase == "Running"))
    })
    .await;
    // Only the apiserver's address: it finds the node and its kubelet port.
    let via_api = client::KubeletApi::via_apiserver(&h.server.url)
        .await
        .unwrap();
    let app =
        h.rt.containers()
            .into_iter()
            .find(|c| c.container_name() == "app")
            .unwrap()
            .id;
    h.rt.set_exec_exit(&app, 4);
    let out = via_api
        .exec(ExecRequest {
            namespace: "default".into(),
            pod: "p3".into(),
            container: "app".into(),
            command: vec!["false".into()],
        })
        .await
        .unwrap();
    assert_eq!(
        out.exit_code, 4,
        "the exit code of the exec in the fake runtime"
    );
    assert!(h.rt.calls().iter().any(|c| matches!(c, kubelet::runtime::fake::Call::Exec(id, cmd) if *id == app && cmd == &vec!["false".to_string()])));
    let stats = via_api
        .stats(StatsRequest {
            node: "hollow-3".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(stats.pods.len(), 1);
    let missing = via_api
        .exec(ExecRequest {
            namespace: "default".into(),
            pod: "nope".into(),
            container: String::new(),
            command: vec!["x".into()],
        })
        .await
        .unwrap_err();
    assert_eq!(tonic::Status::from(missing).code(), tonic::Code::NotFound);
    let no_target = via_api.stats(StatsRequest::default()).await.unwrap_err();
    assert_eq!(
        tonic::Status::from(no_target).code(),
        tonic::Code::InvalidArgument
    );
    h.cancel.cancel();
    h.task.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hollow_node_with_a_pod_cidr_attaches_routes_and_detaches_through_its_network() {
    use kubelet::network::fake::NetCall;
    let h = hollow_with("hollow-net", "192.0.2.7", &["--pod-cidr", "10.244.3.0/24"]).await;
    let c = client::Client::connect(&h.server.url).await.unwrap();
    wait_for("node set up", Duration::from_secs(10), async || {
        h.net
            .calls()
            .contains(&NetCall::SetupNode("10.244.3.0/24".parse().unwrap()))
            .then_some(())
    })
    .await;

    // Another node's podCIDR gets a route via its InternalIP.
    let other = r#"
apiVersion: v1
kind: Node
metadata: {name: other}
spec: {podCIDR: 10.244.4.0/24}
"#;
    let mut other =
        Node::try_from_object(proto::manifest::load_documents(other).unwrap().remove(0)).unwrap();
    other.status = Some(proto::k8s::NodeStatus {
        addresses: vec![proto::k8s::NodeAddress {
            r#type: "InternalIP".into(),
            address: "192.0.2.8".into(),
        }],
        ..Default::default()
    });
    let nodes: Api<Node> = Api::all(c.clone());
    let mut created = nodes.create(&other).await.unwrap();
    if created
        .status
        .as_ref()
        .is_none_or(|s| s.addresses.is_empty())
    {
        created.status = other.status.clone();
        nodes.update_status(&created).await.unwrap();
    }
    let routes = wait_for(
        "route to the other node",
        Duration::from_secs(10),
        async || h.net.last_routes().filter(|r| !r.is_empty()),
    )
    .await;
    assert_eq!(
        routes.into_iter().collect::<Vec<_>>(),
        [(
            "10.244.4.0/24".parse().unwrap(),
            "192.0.2.8".parse::<std::net::Ipv4Addr>().unwrap()
        )]
    );

    // The sandbox is attached (no runtime network) and the pod gets the network's address.
    let pods: Api<Pod> = Api::namespaced(c.clone(), "default");
    pods.create(&pod("p1", "hollow-net", "Always"))
        .await
        .unwrap();
    let p = wait_for("pod Running", Duration::from_secs(10), async || {
        pods.get("p1")
            .await
            .ok()
            .filter(|p| p.status.as_ref().is_some_and(|s| s.phase == "Running"))
    })
    .await;
    let uid = p.meta().uid.clone();
    assert_eq!(p.status.unwrap().pod_ip, "10.244.3.2");
    assert!(
        h.net
            .calls()
            .iter()
            .any(|c| matches!(c, NetCall::Attach { uid: u, .. } if *u == uid))
    );
    let cs = h.rt.containers();
    let sandbox = cs.iter().find(|c| c.container_name() == "POD").unwrap();
    assert_eq!(
        h.rt.config_of(&sandbox.id).unwrap().network,
        Some(kubelet::runtime::NetworkMode::None),
        "the network, not the runtime, wires the sandbox"
    );

    // Deleted: the address goes back.
    pods.delete("p1", &DeleteParams::default()).await.unwrap();
    wait_for("pod detached", Duration::from_secs(10), async || {
        (h.net.calls().contains(&NetCall::Detach(uid.clone())) && h.net.addresses().is_empty())
            .then_some(())
    })
    .await;
    h.cancel.cancel();
    h.task.await.unwrap().unwrap();
}
