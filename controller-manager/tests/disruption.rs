//! The disruption controller against an in-process apiserver, with the ReplicaSet and
//! Deployment controllers and the fake kubelet: a budget's status follows its pods
//! (readiness, the Deployment's scale for percentages), an eviction spends it through the
//! apiserver and the controller gives it back once the replacement is Ready, and
//! disruptedPods entries for pods gone or evicted over two minutes ago are pruned.

mod common;

use client::Api;
use common::{Cluster, list_pods, wait_for};
use proto::Resource;
use proto::k8s::{Eviction, Pod, PodDisruptionBudget, PodDisruptionBudgetStatus};
use std::time::{Duration, SystemTime};

const T: Duration = Duration::from_secs(30);
const NS: &str = "shop";

const DEPLOYMENT: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: busybox}]}
"#;

/// (expectedPods, desiredHealthy, currentHealthy, disruptionsAllowed) and the condition's
/// (status, reason).
type Shape = (i32, i32, i32, i32, &'static str, &'static str);

fn shape(s: &PodDisruptionBudgetStatus) -> (i32, i32, i32, i32, String, String) {
    let c = s.conditions.first().cloned().unwrap_or_default();
    (
        s.expected_pods,
        s.desired_healthy,
        s.current_healthy,
        s.disruptions_allowed,
        c.status,
        c.reason,
    )
}

/// Waits until the budget's status has this shape, for its current generation.
async fn status_becomes(c: &Cluster, name: &str, want: Shape) -> PodDisruptionBudget {
    let api: Api<PodDisruptionBudget> = c.api(NS);
    let want_owned = (
        want.0,
        want.1,
        want.2,
        want.3,
        want.4.to_string(),
        want.5.to_string(),
    );
    wait_for(&format!("{name} status {want:?}"), T, || async {
        let pdb = api.get(name).await.ok()?;
        let status = pdb.status.clone().unwrap_or_default();
        (shape(&status) == want_owned && status.observed_generation == pdb.meta().generation)
            .then_some(pdb)
    })
    .await
}

async fn web_ready(c: &Cluster) -> Vec<Pod> {
    wait_for("3 ready web pods", T, || async {
        let pods = list_pods(&c.client, NS, "app=web").await;
        let ready = pods
            .iter()
            .filter(|p| common::is_ready(p) && !common::is_terminating(p))
            .count();
        (ready == 3).then_some(pods)
    })
    .await
}

/// The three Ready pods of Deployment `web` and a budget `name` of minAvailable 2 over
/// them, its status computed (one disruption allowed).
async fn web_with_budget(name: &str) -> (Cluster, Vec<Pod>) {
    let c = Cluster::start(&["replicaset", "deployment", "disruption"]).await;
    c.namespace(NS).await;
    let _: proto::k8s::Deployment = c.apply_yaml(DEPLOYMENT).await;
    let pods = web_ready(&c).await;
    let _: PodDisruptionBudget = c
        .apply_yaml(&format!(
            "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {{name: {name}, namespace: shop}}\nspec: {{minAvailable: 2, selector: {{matchLabels: {{app: web}}}}}}\n"
        ))
        .await;
    status_becomes(&c, name, (3, 2, 3, 1, "True", "SufficientPods")).await;
    (c, pods)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_follows_readiness_and_the_deployment_scale() {
    let (c, pods) = web_with_budget("min2").await;

    // maxUnavailable 50% of the Deployment's 3 replicas rounds up to 2: one must stay.
    let _: PodDisruptionBudget = c
        .apply_yaml(
            "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: half, namespace: shop}\nspec: {maxUnavailable: 50%, selector: {matchLabels: {app: web}}}\n",
        )
        .await;
    status_becomes(&c, "half", (3, 1, 3, 2, "True", "SufficientPods")).await;

    // A pod turning not Ready takes the first budget's only disruption.
    c.kubelet().set_not_ready(&pods[0].meta().name, true);
    status_becomes(&c, "min2", (3, 2, 2, 0, "False", "InsufficientPods")).await;
    c.kubelet().set_not_ready(&pods[0].meta().name, false);
    status_becomes(&c, "min2", (3, 2, 3, 1, "True", "SufficientPods")).await;

    // A new spec is observed: generation and counts follow.
    let api: Api<PodDisruptionBudget> = c.api(NS);
    api.patch_merge(
        "min2",
        &serde_json::json!({"spec": {"minAvailable": "100%"}}),
    )
    .await
    .expect("patch budget");
    status_becomes(&c, "min2", (3, 3, 3, 0, "False", "InsufficientPods")).await;
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evictions_are_given_back_and_stale_disrupted_pods_pruned() {
    let (c, pods) = web_with_budget("web").await;

    // An eviction spends the budget; the pod goes, its replacement comes up Ready, and the
    // controller gives the disruption back with the entry gone from disruptedPods.
    let victim = pods[0].meta().name.clone();
    let pod_api: Api<Pod> = c.api(NS);
    pod_api
        .evict(&victim, &Eviction::default())
        .await
        .expect("eviction allowed");
    let second = pods[1].meta().name.clone();
    let refused = pod_api.evict(&second, &Eviction::default()).await;
    assert!(
        refused
            .as_ref()
            .is_err_and(|e| e.is(proto::Reason::TooManyRequests)),
        "{refused:?}"
    );
    let pdb = status_becomes(&c, "web", (3, 2, 3, 1, "True", "SufficientPods")).await;
    assert!(
        pdb.status.unwrap_or_default().disrupted_pods.is_empty(),
        "the evicted pod's entry is pruned once it is gone"
    );

    // Entries for a pod evicted three minutes ago (never deleted) and for a pod that does
    // not exist are pruned; the pod counts as healthy again.
    let api: Api<PodDisruptionBudget> = c.api(NS);
    let mut pdb = api.get("web").await.unwrap();
    let stale = proto::time::format_rfc3339(SystemTime::now() - Duration::from_secs(180));
    let status = pdb.status.get_or_insert_with(Default::default);
    status.disrupted_pods = [
        (second.clone(), stale),
        ("gone".to_string(), proto::time::now_rfc3339()),
    ]
    .into();
    status.disruptions_allowed = 0;
    api.update_status(&pdb).await.expect("write disruptedPods");
    wait_for("disruptedPods pruned", T, || async {
        let pdb = api.get("web").await.ok()?;
        let s = pdb.status.unwrap_or_default();
        (s.disrupted_pods.is_empty() && s.disruptions_allowed == 1).then_some(())
    })
    .await;

    // A recent eviction of a pod still there keeps it out of the healthy count.
    let mut pdb = api.get("web").await.unwrap();
    let status = pdb.status.get_or_insert_with(Default::default);
    status.disrupted_pods = [(second.clone(), proto::time::now_rfc3339())].into();
    api.update_status(&pdb).await.expect("write disruptedPods");
    let pdb = status_becomes(&c, "web", (3, 2, 2, 0, "False", "InsufficientPods")).await;
    assert!(
        pdb.status
            .unwrap_or_default()
            .disrupted_pods
            .contains_key(&second)
    );
    c.stop().await;
}
