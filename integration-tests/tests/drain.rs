//! `ctl drain` against a whole cluster (real apiserver, controller-manager, scheduler, and
//! three nodes with real kubelets and Docker): a Deployment of 3 replicas, all on the node
//! being drained, guarded by a PodDisruptionBudget of minAvailable 2. The drain evicts one
//! pod at a time, hearing 429 for the others until the evicted pod's replacement is Ready
//! elsewhere; a watch on the pods shows the available pods never fall below 2, and the pods
//! end up on the other nodes.
//!
//! Needs `cargo build --bins` and the cluster prerequisites (Docker, root, busybox-static).

use client::{Api, WatchEvent, WatchParams};
use futures::StreamExt;
use integration_tests::cluster::{Cluster, Options, is_ready, is_terminating, prerequisites};
use integration_tests::text;
use proto::Resource;
use proto::k8s::{Node, Pod, PodDisruptionBudget};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const DEPLOYMENT: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: web
        image: local/busybox:1
        command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]
"#;

const BUDGET: &str = r#"apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web, namespace: default}
spec:
  minAvailable: 2
  selector: {matchLabels: {app: web}}
"#;

/// Pods available to the budget: Ready and not being deleted.
fn available(pods: &BTreeMap<String, Pod>) -> usize {
    pods.values()
        .filter(|p| is_ready(p) && !is_terminating(p))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drain_evicts_one_pod_at_a_time_within_the_budget() {
    if !prerequisites("drain_pdb") {
        return;
    }
    let c = Cluster::start("drain", Options::default()).await;
    let drained = c.nodes[0].name.clone();
    // Every replica on the node to drain: the others cordoned while the Deployment starts.
    for n in &c.nodes[1..] {
        c.ctl_ok(&["cordon", &n.name]);
    }
    c.apply(DEPLOYMENT);
    let pods = c
        .wait_ready_pods("default", "app=web", 3, Duration::from_secs(120))
        .await;
    assert!(
        pods.iter().all(|p| c.node_index(p) == Some(0)),
        "all on {drained}"
    );
    for n in &c.nodes[1..] {
        c.ctl_ok(&["uncordon", &n.name]);
    }
    c.apply(BUDGET);
    let budgets: Api<PodDisruptionBudget> = Api::namespaced(c.client.clone(), "default");
    integration_tests::cluster::wait_for(
        Duration::from_secs(30),
        "the budget allows one disruption",
        async || {
            let s = budgets.get("web").await.ok()?.status?;
            (s.disruptions_allowed == 1 && s.current_healthy == 3).then_some(())
        },
    )
    .await;

    // Watch the pods from now on: the fewest available at any moment, and every pod seen.
    let pods_api = c.pods_api("default");
    let list = pods_api
        .list(&client::ListParams::labels("app=web"))
        .await
        .expect("list pods");
    let mut seen: BTreeMap<String, Pod> = list
        .items
        .into_iter()
        .map(|p| (p.meta().name.clone(), p))
        .collect();
    let fewest = Arc::new(Mutex::new(available(&seen)));
    let mut stream = pods_api
        .watch(&WatchParams {
            label_selector: "app=web".into(),
            resource_version: list.resource_version.clone(),
            ..Default::default()
        })
        .await
        .expect("watch pods");
    let watch_fewest = fewest.clone();
    let watcher = tokio::spawn(async move {
        while let Some(Ok(ev)) = stream.next().await {
            match ev {
                WatchEvent::Added(p) | WatchEvent::Modified(p) => {
                    seen.insert(p.meta().name.clone(), p);
                }
                WatchEvent::Deleted(p) => {
                    seen.remove(&p.meta().name);
                }
                WatchEvent::Bookmark(_) => continue,
            }
            let now = available(&seen);
            let mut f = watch_fewest.lock().unwrap_or_else(|p| p.into_inner());
            *f = (*f).min(now);
        }
    });

    let kubeconfig = c.kubeconfig("admin");
    let node = drained.clone();
    let out = tokio::task::spawn_blocking(move || {
        integration_tests::ctl_kubeconfig(
            &kubeconfig,
            &["drain", &node, "--ignore-daemonsets", "--timeout", "180s"],
            None,
        )
    })
    .await
    .expect("ctl drain ran");
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "drain: {stdout}\n{stderr}");
    assert!(
        stdout.contains(&format!("node/{drained} cordoned")),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("node/{drained} drained")),
        "{stdout}"
    );
    assert_eq!(stdout.matches(" evicted\n").count(), 3, "{stdout}");
    // The budget held the other two while the first pod's replacement came up.
    assert!(
        stderr.contains(
            "(will retry after 5s): Cannot evict pod as it would violate the pod's disruption budget."
        ),
        "{stderr}"
    );

    let after = c
        .wait_ready_pods("default", "app=web", 3, Duration::from_secs(120))
        .await;
    assert!(
        after
            .iter()
            .all(|p| c.node_index(p).is_some_and(|i| i != 0)),
        "every pod moved off {drained}"
    );
    let node: Node = Api::<Node>::all(c.client.clone())
        .get(&drained)
        .await
        .expect("node");
    assert!(node.spec.is_some_and(|s| s.unschedulable), "cordoned");
    tokio::time::sleep(Duration::from_secs(1)).await;
    watcher.abort();
    let fewest = *fewest.lock().unwrap_or_else(|p| p.into_inner());
    assert!(
        fewest >= 2,
        "available pods fell to {fewest} during the drain (budget: 2)"
    );
    eprintln!("drain: fewest available pods during the drain: {fewest}");
}
