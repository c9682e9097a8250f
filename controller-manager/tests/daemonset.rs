//! DaemonSet controller against an in-process apiserver, fake nodes and the fake kubelet
//! (which runs the pods the controller binds to its nodes).

mod common;

use client::Api;
use common::{Cluster, at_rv, cached, is_ready, is_terminating, list_pods, wait_for};
use controller_manager::controllers::daemonset::{NAME, REVISION_HASH};
use proto::Resource;
use proto::k8s::{DaemonSet, Node, Pod};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

const T: Duration = Duration::from_secs(30);

fn ds_yaml(name: &str, node_selector: &str) -> String {
    format!(
        r#"
apiVersion: apps/v1
kind: DaemonSet
metadata: {{name: {name}, namespace: default}}
spec:
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      nodeSelector: {{{node_selector}}}
      containers: [{{name: c, image: busybox}}]
"#
    )
}

fn node_of(p: &Pod) -> String {
    p.spec
        .as_ref()
        .map(|s| s.node_name.clone())
        .unwrap_or_default()
}

/// Live (not terminating) pods of the app by node.
async fn pods_by_node(c: &Cluster, app: &str) -> BTreeMap<String, Vec<Pod>> {
    let mut m: BTreeMap<String, Vec<Pod>> = BTreeMap::new();
    for p in list_pods(&c.client, "default", &format!("app={app}")).await {
        if !is_terminating(&p) {
            m.entry(node_of(&p)).or_default().push(p);
        }
    }
    m
}

/// Exactly one ready pod on each of these nodes and none elsewhere.
async fn one_ready_pod_on(c: &Cluster, app: &str, nodes: &[&str]) -> Option<()> {
    let m = pods_by_node(c, app).await;
    let ok = m.len() == nodes.len()
        && nodes
            .iter()
            .all(|n| m.get(*n).is_some_and(|v| v.len() == 1 && is_ready(&v[0])));
    ok.then_some(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_pod_per_node_follows_new_nodes_and_rolls_out_template_changes() {
    // Pods turn ready 300 ms after binding, so an update that replaced several at once
    // would be seen with several nodes lacking a ready pod.
    let mut c = Cluster::builder()
        .nodes(3)
        .ready_delay(Duration::from_millis(300))
        .controllers(&["daemonset"])
        .start()
        .await;
    let ds: DaemonSet = c.apply_yaml(&ds_yaml("agent", "")).await;
    wait_for("a ready pod on each of 3 nodes", T, || {
        one_ready_pod_on(&c, "agent", &["node-0", "node-1", "node-2"])
    })
    .await;
    let p = &pods_by_node(&c, "agent").await["node-0"][0];
    assert_eq!(p.meta().owner_references[0].uid, ds.meta().uid);
    assert!(p.meta().labels.contains_key(REVISION_HASH));
    // A new node gets its pod.
    c.add_node("node-3").await;
    let all = ["node-0", "node-1", "node-2", "node-3"];
    wait_for("a pod on the new node", T, || {
        one_ready_pod_on(&c, "agent", &all)
    })
    .await;
    let api: Api<DaemonSet> = c.api("default");
    wait_for("status 4/4", T, || async {
        let s = api.get("agent").await.ok()?.status?;
        (s.desired_number_scheduled == 4
            && s.current_number_scheduled == 4
            && s.number_ready == 4
            && s.number_available == 4
            && s.updated_number_scheduled == 4
            && s.number_misscheduled == 0
            && s.observed_generation == 1)
            .then_some(())
    })
    .await;
    let old_hash = p.meta().labels[REVISION_HASH].clone();

    // A template change rolls out one node at a time (maxUnavailable 1).
    let patch =
        serde_json::json!({"spec": {"template": {"metadata": {"annotations": {"v": "2"}}}}});
    api.patch_merge("agent", &patch).await.unwrap();
    let min_ready_nodes = AtomicUsize::new(usize::MAX);
    let new_hash = wait_for("all pods updated", T, || {
        let c = &c;
        let old_hash = &old_hash;
        let min = &min_ready_nodes;
        async move {
            let m = pods_by_node(c, "agent").await;
            let ready_nodes = all
                .iter()
                .filter(|n| m.get(**n).is_some_and(|v| v.iter().any(is_ready)))
                .count();
            min.fetch_min(ready_nodes, Ordering::SeqCst);
            let hashes: Vec<&String> = m
                .values()
                .flatten()
                .map(|p| &p.meta().labels[REVISION_HASH])
                .collect();
            (m.len() == 4
                && ready_nodes == 4
                && hashes.len() == 4
                && hashes.iter().all(|h| *h != old_hash))
            .then(|| hashes[0].clone())
        }
    })
    .await;
    assert_ne!(new_hash, old_hash);
    let min_ready_nodes = min_ready_nodes.load(Ordering::SeqCst);
    assert!(
        min_ready_nodes >= 3,
        "at most one node without a ready pod during the update, saw {min_ready_nodes} ready"
    );
    wait_for("status updated 4, generation 2", T, || async {
        let s = api.get("agent").await.ok()?.status?;
        (s.updated_number_scheduled == 4 && s.number_available == 4 && s.observed_generation == 2)
            .then_some(())
    })
    .await;
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_labels_and_taints_decide_where_pods_run() {
    let c = Cluster::builder()
        .nodes(3)
        .controllers(&["daemonset"])
        .start()
        .await;
    let nodes: Api<Node> = Api::all(c.client.clone());
    c.apply_yaml::<DaemonSet>(&ds_yaml("edge", "edge: \"true\""))
        .await;
    c.settled(NAME, "default/edge", 0, cached::<DaemonSet>("default/edge"))
        .await;
    assert!(pods_by_node(&c, "edge").await.is_empty(), "no node matches");
    // Label node-1: it gets a pod.
    let label = |v: serde_json::Value| serde_json::json!({"metadata": {"labels": {"edge": v}}});
    nodes
        .patch_merge("node-1", &label(serde_json::json!("true")))
        .await
        .unwrap();
    wait_for("pod on node-1", T, || {
        one_ready_pod_on(&c, "edge", &["node-1"])
    })
    .await;
    // Label node-2 as well, then unlabel node-1: its pod goes.
    nodes
        .patch_merge("node-2", &label(serde_json::json!("true")))
        .await
        .unwrap();
    wait_for("pods on node-1 and node-2", T, || {
        one_ready_pod_on(&c, "edge", &["node-1", "node-2"])
    })
    .await;
    nodes
        .patch_merge("node-1", &label(serde_json::Value::Null))
        .await
        .unwrap();
    wait_for("only node-2", T, || {
        one_ready_pod_on(&c, "edge", &["node-2"])
    })
    .await;
    // A NoExecute taint the pod does not tolerate evicts it; NoSchedule ones only keep new
    // pods away; the default tolerations let it stay on an unschedulable node.
    let taint = |effect: &str| serde_json::json!({"spec": {"taints": [{"key": "dedicated", "value": "db", "effect": effect}]}});
    let before = c.reconciles(NAME, "default/edge");
    let tainted = nodes
        .patch_merge("node-2", &taint("NoSchedule"))
        .await
        .unwrap();
    c.settled(
        NAME,
        "default/edge",
        before,
        at_rv::<Node>("node-2", &tainted.meta().resource_version),
    )
    .await;
    assert!(
        one_ready_pod_on(&c, "edge", &["node-2"]).await.is_some(),
        "NoSchedule keeps a running pod"
    );
    nodes
        .patch_merge("node-2", &taint("NoExecute"))
        .await
        .unwrap();
    wait_for("evicted by NoExecute", T, || async {
        pods_by_node(&c, "edge").await.is_empty().then_some(())
    })
    .await;
    nodes
        .patch_merge(
            "node-2",
            &serde_json::json!({"spec": {"taints": null, "unschedulable": true}}),
        )
        .await
        .unwrap();
    wait_for("back on the cordoned node", T, || {
        one_ready_pod_on(&c, "edge", &["node-2"])
    })
    .await;
    c.stop().await;
}
