//! Pod startup latency for a burst of pods on one node, with images present: from the
//! create call to every container running, as observed through a watch (Kubernetes' pod
//! startup SLO measures the same span). Real Docker, an in-process apiserver and kubelet.
//!
//! Baseline in the same run: the runtime floor, i.e. the same number of sandbox + container
//! pairs created and started directly through the same Docker runtime, concurrently, with
//! no apiserver or kubelet in between.
//!
//!     cargo bench -p kubelet --bench startup            # 50 pods
//!     BENCH_PODS=20 cargo bench -p kubelet --bench startup

use apiserver::testing::TestServer;
use client::{Api, WatchEvent, WatchParams};
use futures::StreamExt;
use kubelet::runtime::docker::DockerRuntime;
use kubelet::runtime::{ContainerConfig, NetworkMode, Runtime};
use proto::Resource;
use proto::k8s::Pod;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

fn pct(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn report(name: &str, mut v: Vec<Duration>) -> (Duration, Duration) {
    v.sort();
    let (p50, p99) = (pct(&v, 0.5), pct(&v, 0.99));
    println!(
        "{name:<34} n={:<3} p50={:>7.0}ms p99={:>7.0}ms max={:>7.0}ms",
        v.len(),
        p50.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3,
        v.last().copied().unwrap_or_default().as_secs_f64() * 1e3
    );
    (p50, p99)
}

fn all_running(p: &Pod) -> bool {
    p.status.as_ref().is_some_and(|s| {
        !s.container_statuses.is_empty()
            && s.container_statuses
                .iter()
                .all(|c| c.state.as_ref().is_some_and(|st| st.running.is_some()))
    })
}

async fn remove_by_label(rt: &DockerRuntime, key: &str, value: &str) {
    if let Ok(cs) = rt.list_containers(&[(key, value)]).await {
        let removals = cs.iter().map(|c| rt.remove_container(&c.id));
        futures::future::join_all(removals).await;
    }
}

/// The runtime floor: `n` sandbox + app container pairs straight through Docker.
async fn baseline(rt: &Arc<DockerRuntime>, n: usize, tag: &str) -> Vec<Duration> {
    let tasks = (0..n).map(|i| {
        let rt = rt.clone();
        let tag = tag.to_string();
        async move {
            let t0 = Instant::now();
            let labels: std::collections::BTreeMap<String, String> =
                [("io.kubelet.bench".to_string(), tag.clone())].into();
            let sb = rt
                .create_container(&ContainerConfig {
                    name: format!("{tag}_sb_{i}"),
                    image: kubelet::images::PAUSE_IMAGE.into(),
                    labels: labels.clone(),
                    network: Some(NetworkMode::None),
                    ipc_shareable: true,
                    ..Default::default()
                })
                .await
                .expect("create sandbox");
            rt.start_container(&sb).await.expect("start sandbox");
            let c = rt
                .create_container(&ContainerConfig {
                    name: format!("{tag}_c_{i}"),
                    image: kubelet::images::BUSYBOX_IMAGE.into(),
                    cmd: Some(vec!["sleep".into(), "3600".into()]),
                    labels,
                    network: Some(NetworkMode::Container(sb.clone())),
                    ipc_container: Some(sb),
                    ..Default::default()
                })
                .await
                .expect("create container");
            rt.start_container(&c).await.expect("start container");
            t0.elapsed()
        }
    });
    futures::future::join_all(tasks).await
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n: usize = std::env::var("BENCH_PODS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(50);
    let rt = match DockerRuntime::connect().await {
        Ok(rt) => Arc::new(rt),
        Err(e) => {
            println!("startup bench: no Docker engine ({e}); nothing measured");
            return;
        }
    };
    let tag = format!("bench{}", std::process::id());
    let dir = tempfile::tempdir().expect("temp dir");
    kubelet::images::ensure_local_images(rt.as_ref(), std::path::Path::new("/bin/busybox"))
        .await
        .expect("local images (needs /bin/busybox from busybox-static)");

    // Baseline first (warms Docker the same way for both).
    let base = baseline(&rt, n, &tag).await;
    remove_by_label(&rt, "io.kubelet.bench", &tag).await;

    let server = TestServer::start().await;
    let node = format!("{tag}-node");
    let bridge = format!("kb{:08x}", std::process::id());
    let cidr = format!(
        "10.{}.{}.0/24",
        200 + std::process::id() % 50,
        std::process::id() % 256
    );
    let cfg = <kubelet::config::Config as clap::Parser>::parse_from([
        "kubelet",
        "--server",
        &server.url,
        "--node-name",
        &node,
        "--node-ip",
        "127.0.0.1",
        "--root-dir",
        dir.path().join("root").to_str().expect("utf-8 path"),
        "--container-prefix",
        &tag,
        "--pod-cidr",
        &cidr,
        "--bridge-name",
        &bridge,
    ]);
    let cancel = CancellationToken::new();
    let network: Arc<dyn kubelet::network::PodNetwork> = Arc::new(
        kubelet::network::HostNetwork::new(&bridge, &dir.path().join("root")),
    );
    let kubelet_task = tokio::spawn(kubelet::kubelet::run(
        cfg,
        rt.clone(),
        Some(network),
        cancel.clone(),
    ));
    let c = client::Client::connect(&server.url).await.expect("connect");
    let pods: Api<Pod> = Api::namespaced(c.clone(), "default");
    // Wait for the node (the kubelet is up).
    let nodes: Api<proto::k8s::Node> = Api::all(c.clone());
    while nodes.get_opt(&node).await.ok().flatten().is_none() {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;

    let mut watch = pods.watch(&WatchParams::default()).await.expect("watch");
    let mut created: HashMap<String, Instant> = HashMap::new();
    let burst = Instant::now();
    for i in 0..n {
        let yaml = format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: p{i}, namespace: default}}\nspec:\n  nodeName: {node}\n  terminationGracePeriodSeconds: 0\n  containers:\n  - {{name: c, image: {}, command: [sleep, '3600']}}\n",
            kubelet::images::BUSYBOX_IMAGE
        );
        let obj = proto::manifest::load_documents(&yaml)
            .expect("yaml")
            .remove(0);
        let p = Pod::try_from_object(obj).expect("pod");
        created.insert(format!("p{i}"), Instant::now());
        pods.create(&p).await.expect("create pod");
    }
    let mut lat: HashMap<String, Duration> = HashMap::new();
    let deadline = Instant::now() + Duration::from_secs(300);
    while lat.len() < n && Instant::now() < deadline {
        let ev = tokio::time::timeout(Duration::from_secs(30), watch.next()).await;
        let Ok(Some(Ok(ev))) = ev else { break };
        if let WatchEvent::Modified(p) | WatchEvent::Added(p) = ev {
            let name = p.meta().name.clone();
            if all_running(&p)
                && !lat.contains_key(&name)
                && let Some(t) = created.get(&name)
            {
                lat.insert(name, t.elapsed());
            }
        }
    }
    let all = burst.elapsed();
    println!("pod startup, burst of {n} pods on one node (Docker, 2 cores):");
    let (b50, b99) = report("baseline: Docker create+start pairs", base);
    let (k50, k99) = report(
        "kubelet: create -> all running",
        lat.values().copied().collect(),
    );
    println!(
        "whole burst running after {:.1}s; {} of {n} observed running",
        all.as_secs_f64(),
        lat.len()
    );
    println!(
        "ratio kubelet/baseline: p50 {:.2}x, p99 {:.2}x",
        k50.as_secs_f64() / b50.as_secs_f64().max(1e-9),
        k99.as_secs_f64() / b99.as_secs_f64().max(1e-9)
    );

    // Clean-up: the kubelet stops, everything of the node goes.
    cancel.cancel();
    let _ = kubelet_task.await;
    remove_by_label(&rt, kubelet::runtime::labels::NODE, &node).await;
    let _ = std::process::Command::new("ip")
        .args(["link", "del", &bridge])
        .output();
    kubelet::network::remove_forwarding(&bridge).await;
    server.stop().await;
}
