//! A pod whose volume source no plugin of this node mounts (here `cinder`, from the
//! Kubernetes examples' mysql pod): the apiserver accepts it as Kubernetes does, and the
//! hollow kubelet (fake runtime, in-process apiserver) reports FailedMount with
//! Kubernetes' "no volume plugin matched" and starts none of its containers, instead of
//! running them on a stand-in directory.

use apiserver::testing::TestServer;
use client::{Api, ListParams};
use kubelet::runtime::fake::{Call, FakeRuntime};
use proto::Resource;
use proto::k8s::{Event, Pod};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_volume_no_plugin_mounts_fails_with_failed_mount_and_starts_nothing() {
    let server = TestServer::start().await;
    let dir = tempfile::Builder::new()
        .prefix("kubelet-unsupported-volume-")
        .tempdir()
        .unwrap();
    let busybox = dir.path().join("busybox");
    std::fs::write(&busybox, b"not really busybox").unwrap();
    let cfg = <kubelet::config::Config as clap::Parser>::parse_from([
        "kubelet",
        "--server",
        &server.url,
        "--node-name",
        "cinder-node",
        "--node-ip",
        "192.0.2.10",
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
    let rt = FakeRuntime::new();
    let cancel = CancellationToken::new();
    let task = tokio::spawn(kubelet::kubelet::run(
        cfg,
        Arc::new(rt.clone()),
        None,
        cancel.clone(),
    ));
    let c = client::Client::connect(&server.url).await.unwrap();
    let yaml = r#"
apiVersion: v1
kind: Pod
metadata: {name: mysql, namespace: default}
spec:
  nodeName: cinder-node
  containers:
  - name: mysql
    image: local/mysql:1
    volumeMounts: [{name: mysql-persistent-storage, mountPath: /var/lib/mysql}]
  volumes:
  - name: mysql-persistent-storage
    cinder: {volumeID: bd82f7e2-wece-4c01-a505-4acf60b07f4a, fsType: ext4}
"#;
    let obj = proto::manifest::load_documents(yaml).unwrap().remove(0);
    let pods: Api<Pod> = Api::namespaced(c.clone(), "default");
    pods.create(&Pod::try_from_object(obj).unwrap())
        .await
        .unwrap();
    let events: Api<Event> = Api::namespaced(c.clone(), "default");
    let start = Instant::now();
    let mut failed_mount = Vec::new();
    while start.elapsed() < Duration::from_secs(10) && failed_mount.is_empty() {
        tokio::time::sleep(Duration::from_millis(100)).await;
        failed_mount = events
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .into_iter()
            .filter(|e| {
                e.reason == "FailedMount"
                    && e.involved_object
                        .as_ref()
                        .is_some_and(|o| o.name == "mysql")
            })
            .map(|e| e.message)
            .collect();
    }
    assert_eq!(
        failed_mount,
        [
            "volume \"mysql-persistent-storage\": failed to get Plugin from volumeSpec for volume \"mysql-persistent-storage\" err=no volume plugin matched (cinder volumes cannot be mounted on this node)"
        ],
    );
    // A few more syncs: still nothing of the pod's own started.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let started: Vec<Call> = rt
        .calls()
        .into_iter()
        .filter(|c| matches!(c, Call::Create(n) | Call::Start(n) if n.contains("mysql_") && !n.contains("POD")))
        .collect();
    assert!(
        started.is_empty(),
        "containers run without their volume: {started:?}"
    );
    let pod = pods.get("mysql").await.unwrap();
    let phase = pod.status.map(|s| s.phase).unwrap_or_default();
    assert!(phase.is_empty() || phase == "Pending", "phase {phase}");
    cancel.cancel();
    let _ = tokio::time::timeout(Duration::from_secs(10), task).await;
}
