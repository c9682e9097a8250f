//! A pod that cannot start does not flood the store: a hollow kubelet (fake runtime,
//! in-process apiserver) runs a pod whose configMap volume is missing. Volume setup is
//! retried with back-off, and its FailedMount events become one Event object whose count
//! grows, instead of a new object per attempt (before: ~27 objects a second, without end).

use apiserver::testing::TestServer;
use client::{Api, ListParams};
use kubelet::runtime::fake::{Call, FakeRuntime};
use proto::Resource;
use proto::k8s::{Event, Pod};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pod_with_a_missing_config_map_backs_off_and_its_events_are_counted() {
    let server = TestServer::start().await;
    let dir = tempfile::Builder::new()
        .prefix("kubelet-event-flood-")
        .tempdir()
        .unwrap();
    let busybox = dir.path().join("busybox");
    std::fs::write(&busybox, b"not really busybox").unwrap();
    let cfg = <kubelet::config::Config as clap::Parser>::parse_from([
        "kubelet",
        "--server",
        &server.url,
        "--node-name",
        "flood-node",
        "--node-ip",
        "192.0.2.9",
        "--root-dir",
        dir.path().join("root").to_str().unwrap(),
        "--busybox",
        busybox.to_str().unwrap(),
        // A pod worker looks every 100 ms: without back-off, every look is an attempt.
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
metadata: {name: flood, namespace: default}
spec:
  nodeName: flood-node
  containers:
  - name: app
    image: local/busybox:1
    volumeMounts: [{name: cfg, mountPath: /cfg}]
  - name: side
    image: local/busybox:1
    volumeMounts: [{name: cfg, mountPath: /cfg}]
  volumes:
  - name: cfg
    configMap: {name: does-not-exist}
"#;
    let obj = proto::manifest::load_documents(yaml).unwrap().remove(0);
    let pods: Api<Pod> = Api::namespaced(c.clone(), "default");
    pods.create(&Pod::try_from_object(obj).unwrap())
        .await
        .unwrap();
    let events: Api<Event> = Api::namespaced(c.clone(), "default");
    let of_pod = async || -> Vec<Event> {
        events
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .into_iter()
            .filter(|e| {
                e.involved_object
                    .as_ref()
                    .is_some_and(|o| o.name == "flood")
            })
            .collect()
    };
    let failed_mount = |evs: &[Event]| -> Vec<i32> {
        evs.iter()
            .filter(|e| e.reason == "FailedMount")
            .map(|e| e.count)
            .collect()
    };
    let start = Instant::now();
    let mut first = vec![];
    while start.elapsed() < Duration::from_secs(5) && first.is_empty() {
        tokio::time::sleep(Duration::from_millis(100)).await;
        first = failed_mount(&of_pod().await);
    }
    assert_eq!(first, vec![1], "one FailedMount event, counted once");
    // Past the correlator's first rewrite (10 s after the event was made).
    tokio::time::sleep(Duration::from_secs(12).saturating_sub(start.elapsed())).await;
    let all = of_pod().await;
    let counts = failed_mount(&all);
    eprintln!(
        "after {:?}: {} event objects about the pod, FailedMount counts {counts:?}: {:?}",
        start.elapsed(),
        all.len(),
        all.iter()
            .map(|e| (e.reason.clone(), e.count, e.message.clone()))
            .collect::<Vec<_>>()
    );
    assert!(
        all.len() <= 3,
        "a handful of objects, not a flood: {}",
        all.len()
    );
    assert_eq!(counts.len(), 1, "one object for the repeated FailedMount");
    // Back-off from 500 ms doubling: attempts at about 0, 0.5, 1.5, 3.5, 7.5 s by the
    // rewrite at 10 s; every 100 ms sync would be ~100.
    assert!(
        (3..=8).contains(&counts[0]),
        "attempts spaced by back-off: count {}",
        counts[0]
    );
    // No container was tried without its volume (each try was a "Failed" event before).
    let creates = rt
        .calls()
        .iter()
        .filter(|c| matches!(c, Call::Create(n) if !n.contains("POD") && !n.contains("pause")))
        .count();
    assert!(
        all.iter().all(|e| e.reason == "FailedMount"),
        "only FailedMount: {:?}",
        all.iter().map(|e| &e.reason).collect::<Vec<_>>()
    );
    eprintln!(
        "runtime create calls: {:?}",
        rt.calls()
            .iter()
            .filter(|c| matches!(c, Call::Create(_)))
            .collect::<Vec<_>>()
    );
    assert!(
        creates <= 1,
        "containers created without their volume: {creates}"
    );
    // The issue's proof runs two minutes (`KUBELET_EVENT_FLOOD_SECS=120`); by default the
    // test stops after the first rewrite to keep the suite short (the recorder's own tests
    // run two minutes of repeats on paused time: client::events::tests).
    let total = std::env::var("KUBELET_EVENT_FLOOD_SECS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(0);
    if total > 12 {
        tokio::time::sleep(Duration::from_secs(total).saturating_sub(start.elapsed())).await;
        let all = of_pod().await;
        let later = failed_mount(&all);
        eprintln!(
            "after {:?}: {} event objects about the pod, FailedMount counts {later:?}",
            start.elapsed(),
            all.len()
        );
        assert!(all.len() <= 3, "a handful of objects: {}", all.len());
        assert_eq!(
            later.len(),
            1,
            "still one object for the repeated FailedMount"
        );
        assert!(later[0] > counts[0], "the count grows: {later:?}");
    }
    cancel.cancel();
    task.await.unwrap().unwrap();
}
