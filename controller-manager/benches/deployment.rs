//! `cargo bench -p controller-manager --bench deployment`: a Deployment of 1000 replicas
//! reaching 1000 ready pods on 100 fake nodes, then a rolling update of it, against an
//! in-process apiserver with the fake kubelet. Prints the time each took and the API
//! writes per pod (counted by watching pods, ReplicaSets, Deployments and Events: every event is one
//! write that changed something), beside a baseline from the same run: 1000 bare pods
//! created directly through the API (64 in flight) and made ready by the same fake kubelet.
//!
//! `BENCH_REPLICAS` changes the size (default 1000).

#[path = "../tests/common/mod.rs"]
mod common;

use client::Api;
use common::{Cluster, WriteCounter, is_ready, is_terminating, list_pods, wait_for};
use futures::StreamExt;
use proto::Resource;
use proto::k8s::{Deployment, Pod};
use std::time::{Duration, Instant};

const NODES: usize = 100;
const TIMEOUT: Duration = Duration::from_secs(900);

fn replicas() -> usize {
    std::env::var("BENCH_REPLICAS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000)
}

fn pod(name: &str) -> Pod {
    let yaml = format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: base, labels: {{app: base}}}}\nspec: {{containers: [{{name: c, image: busybox}}]}}\n"
    );
    let obj = proto::manifest::load_documents(&yaml).unwrap().remove(0);
    Pod::try_from_object(obj).unwrap()
}

async fn ready_count(c: &Cluster, ns: &str, app: &str, image: Option<&str>) -> usize {
    list_pods(&c.client, ns, &format!("app={app}"))
        .await
        .iter()
        .filter(|p| !is_terminating(p) && is_ready(p))
        .filter(|p| {
            image.is_none_or(|i| p.spec.as_ref().is_some_and(|s| s.containers[0].image == i))
        })
        .count()
}

fn per_pod(writes: u64, n: usize) -> f64 {
    writes as f64 / n as f64
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n = replicas();
    let c = Cluster::builder()
        .nodes(NODES)
        .controllers(&["replicaset", "deployment"])
        .start()
        .await;
    c.namespace("base").await;
    c.namespace("bench").await;

    // Baseline: bare pods straight through the API, readied by the same fake kubelet.
    let counter = WriteCounter::start(&c.client).await;
    let k0 = c.kubelet().write_count();
    let t = Instant::now();
    let api: Api<Pod> = c.api("base");
    futures::stream::iter(0..n)
        .map(|i| {
            let api = api.clone();
            async move { api.create(&pod(&format!("p{i}"))).await.unwrap() }
        })
        .buffer_unordered(64)
        .collect::<Vec<_>>()
        .await;
    let created = t.elapsed();
    wait_for("bare pods ready", TIMEOUT, || async {
        (ready_count(&c, "base", "base", None).await == n).then_some(())
    })
    .await;
    let base_ready = t.elapsed();
    let base_writes = counter.total();
    let base_kubelet = c.kubelet().write_count() - k0;
    drop(counter);

    // The deployment.
    let yaml = format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web, namespace: bench}}\nspec:\n  replicas: {n}\n  selector: {{matchLabels: {{app: web}}}}\n  template:\n    metadata: {{labels: {{app: web}}}}\n    spec: {{containers: [{{name: c, image: 'web:1'}}]}}\n"
    );
    let counter = WriteCounter::start(&c.client).await;
    let k0 = c.kubelet().write_count();
    let t = Instant::now();
    c.apply_yaml::<Deployment>(&yaml).await;
    let dapi: Api<Deployment> = c.api("bench");
    let complete = |image: &'static str| {
        let c = &c;
        let dapi = dapi.clone();
        async move {
            wait_for("rollout complete", TIMEOUT, || async {
                let d = dapi.get("web").await.ok()?;
                let s = d.status.clone()?;
                let done = s.observed_generation >= d.meta().generation
                    && s.updated_replicas as usize == n
                    && s.replicas as usize == n
                    && s.available_replicas as usize == n;
                (done && ready_count(c, "bench", "web", Some(image)).await == n).then_some(())
            })
            .await
        }
    };
    complete("web:1").await;
    let up = t.elapsed();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let up_writes = counter.counts();
    let up_total: u64 = up_writes.values().sum();
    let up_kubelet = c.kubelet().write_count() - k0;
    drop(counter);

    // Rolling update (25%/25%).
    let counter = WriteCounter::start(&c.client).await;
    let k0 = c.kubelet().write_count();
    let t = Instant::now();
    let patch = serde_json::json!({"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "web:2"}]}}}});
    dapi.patch_merge("web", &patch).await.unwrap();
    complete("web:2").await;
    let roll = t.elapsed();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let roll_writes = counter.counts();
    let roll_total: u64 = roll_writes.values().sum();
    let roll_kubelet = c.kubelet().write_count() - k0;

    println!(
        "deployment benchmark: {n} replicas on {NODES} fake nodes (in-process apiserver, fake kubelet)"
    );
    println!(
        "baseline  {n} bare pods: created in {:.2}s (64 in flight), all ready in {:.2}s; writes/pod {:.2} (kubelet {:.2})",
        created.as_secs_f64(),
        base_ready.as_secs_f64(),
        per_pod(base_writes, n),
        per_pod(base_kubelet, n)
    );
    println!(
        "scale-up  deployment 0 -> {n} ready: {:.2}s ({:.2}x baseline); writes/pod {:.2}: controllers {:.2}, kubelet {:.2}; by kind {:?}",
        up.as_secs_f64(),
        up.as_secs_f64() / base_ready.as_secs_f64(),
        per_pod(up_total, n),
        per_pod(up_total.saturating_sub(up_kubelet), n),
        per_pod(up_kubelet, n),
        up_writes
    );
    println!(
        "rollout   {n} pods replaced (25%/25%): {:.2}s ({:.2}x baseline); writes/pod {:.2}: controllers {:.2}, kubelet {:.2}; by kind {:?}",
        roll.as_secs_f64(),
        roll.as_secs_f64() / base_ready.as_secs_f64(),
        per_pod(roll_total, n),
        per_pod(roll_total.saturating_sub(roll_kubelet), n),
        per_pod(roll_kubelet, n),
        roll_writes
    );
    c.stop().await;
}
