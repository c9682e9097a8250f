//! ReplicaSet controller against an in-process apiserver, fake nodes and the fake kubelet.

mod common;

use client::{Api, DeleteParams};
use common::{Cluster, is_ready, is_terminating, list_pods, wait_for};
use controller_manager::controllers::replicaset::NAME;
use proto::Resource;
use proto::k8s::{Pod, ReplicaSet};
use std::time::Duration;

const T: Duration = Duration::from_secs(30);

fn rs_yaml(name: &str, replicas: i32) -> String {
    format!(
        r#"
apiVersion: apps/v1
kind: ReplicaSet
metadata: {{name: {name}, namespace: default}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      containers: [{{name: c, image: busybox}}]
"#
    )
}

async fn active_pods(c: &Cluster, app: &str) -> Vec<Pod> {
    list_pods(&c.client, "default", &format!("app={app}"))
        .await
        .into_iter()
        .filter(|p| !is_terminating(p))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replica_count_is_held_when_pods_are_deleted() {
    // One node, so that the scale-down below is decided by age alone (pods sharing a node
    // with more siblings would go first).
    let c = Cluster::builder()
        .nodes(1)
        .controllers(&["replicaset"])
        .start()
        .await;
    let rs: ReplicaSet = c.apply_yaml(&rs_yaml("web", 3)).await;
    let pods = wait_for("3 ready pods", T, || async {
        let p = active_pods(&c, "web").await;
        (p.len() == 3 && p.iter().all(is_ready)).then_some(p)
    })
    .await;
    for p in &pods {
        assert!(p.meta().name.starts_with("web-"));
        assert_eq!(p.meta().name.len(), "web-".len() + 5, "{}", p.meta().name);
        let r = &p.meta().owner_references[0];
        assert_eq!(
            (r.uid.as_str(), r.controller),
            (rs.meta().uid.as_str(), Some(true))
        );
    }
    // Delete two; two others replace them (a second later: timestamps have seconds
    // precision, and the scale-down below tells pods apart by age).
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let api: Api<Pod> = c.api("default");
    for p in &pods[..2] {
        api.delete(&p.meta().name, &DeleteParams::default())
            .await
            .unwrap();
    }
    let after = wait_for("3 ready pods again", T, || async {
        let p = active_pods(&c, "web").await;
        (p.len() == 3 && p.iter().all(is_ready)).then_some(p)
    })
    .await;
    let old: Vec<_> = pods[..2].iter().map(|p| p.meta().uid.clone()).collect();
    assert!(after.iter().all(|p| !old.contains(&p.meta().uid)));
    // Status follows.
    let rs_api: Api<ReplicaSet> = c.api("default");
    wait_for("status 3/3/3", T, || async {
        let s = rs_api.get("web").await.ok()?.status?;
        (s.replicas == 3
            && s.ready_replicas == 3
            && s.available_replicas == 3
            && s.fully_labeled_replicas == 3
            && s.observed_generation == 1)
            .then_some(())
    })
    .await;
    // Scale down via the scale subresource: the newest pods go first.
    let mut scale = rs_api.get_scale("web").await.unwrap();
    scale.spec.get_or_insert_with(Default::default).replicas = 1;
    rs_api.replace_scale("web", &scale).await.unwrap();
    let left = wait_for("1 pod", T, || async {
        let p = active_pods(&c, "web").await;
        (p.len() == 1).then_some(p)
    })
    .await;
    assert_eq!(
        left[0].meta().uid,
        pods[2].meta().uid,
        "the oldest pod stays"
    );
    // What happened is told in Events on the ReplicaSet.
    let events: Api<proto::k8s::Event> = c.api("default");
    let reasons = wait_for("events", T, || async {
        let evs = events.list(&Default::default()).await.ok()?.items;
        let mine: Vec<(String, String)> = evs
            .into_iter()
            .filter(|e| {
                e.involved_object
                    .as_ref()
                    .is_some_and(|o| o.uid == rs.meta().uid)
            })
            .map(|e| (e.reason, e.message))
            .collect();
        let created = mine.iter().filter(|(r, _)| r == "SuccessfulCreate").count();
        let deleted = mine.iter().filter(|(r, _)| r == "SuccessfulDelete").count();
        (created == 5 && deleted == 2).then_some(mine)
    })
    .await;
    assert!(
        reasons
            .iter()
            .any(|(_, m)| m.starts_with("Created pod: web-")),
        "{reasons:?}"
    );
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orphans_are_adopted_and_non_matching_pods_released() {
    let c = Cluster::builder()
        .controllers(&["replicaset"])
        .no_kubelet()
        .start()
        .await;
    let api: Api<Pod> = c.api("default");
    // An orphan that matches is adopted instead of creating a new pod.
    let orphan: Pod = c
        .apply_yaml(
            "apiVersion: v1\nkind: Pod\nmetadata: {name: orphan, namespace: default, labels: {app: web}}\nspec: {containers: [{name: c, image: busybox}]}\n",
        )
        .await;
    let rs: ReplicaSet = c.apply_yaml(&rs_yaml("web", 2)).await;
    wait_for("orphan adopted and one more created", T, || async {
        let pods = active_pods(&c, "web").await;
        let adopted = api.get("orphan").await.ok()?;
        let owned = adopted
            .meta()
            .owner_references
            .iter()
            .any(|r| r.uid == rs.meta().uid && r.controller == Some(true));
        (owned && pods.len() == 2).then_some(())
    })
    .await;
    assert_eq!(
        api.get("orphan").await.unwrap().meta().uid,
        orphan.meta().uid
    );
    // Relabel it: released, and replaced.
    let patch = serde_json::json!({"metadata": {"labels": {"app": "other"}}});
    api.patch_merge("orphan", &patch).await.unwrap();
    wait_for("released and replaced", T, || async {
        let released = api
            .get("orphan")
            .await
            .ok()?
            .meta()
            .owner_references
            .is_empty();
        (released && active_pods(&c, "web").await.len() == 2).then_some(())
    })
    .await;
    c.stop().await;
}

/// The controllers' cache sees every change 400 ms late, and a resync is forced every
/// 50 ms: without expectations the ReplicaSet would create again on each stale look.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lagging_cache_never_causes_duplicate_pods() {
    let c = Cluster::builder()
        .controllers(&["replicaset"])
        .informer_delay(Duration::from_millis(400))
        .start()
        .await;
    let rs_api: Api<ReplicaSet> = c.api("default");
    let created = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let marked = std::sync::Arc::new(tokio::sync::Notify::new());
    // Count every pod ever created (a direct watch, no lag).
    let counter = {
        use futures::StreamExt;
        let api: Api<Pod> = Api::all(c.client.clone());
        let mut stream = api
            .watch(&client::WatchParams {
                resource_version: String::new(),
                ..Default::default()
            })
            .await
            .unwrap();
        let (created, marked) = (created.clone(), marked.clone());
        tokio::spawn(async move {
            while let Some(Ok(ev)) = stream.next().await {
                if let client::WatchEvent::Added(p) = ev {
                    // The marker pod says every earlier event has come (watches are
                    // ordered); it is not one of the set's.
                    if p.meta().name == "marker" {
                        marked.notify_one();
                    } else {
                        created.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    }
                }
            }
        })
    };
    c.apply_yaml::<ReplicaSet>(&rs_yaml("lag", 20)).await;
    // Poke the ReplicaSet repeatedly (annotation changes enqueue it) while pods appear.
    for i in 0..30 {
        let patch = serde_json::json!({"metadata": {"annotations": {"poke": i.to_string()}}});
        rs_api.patch_merge("lag", &patch).await.unwrap();
        // Spread over time, so the pokes are separate syncs on the lagging cache (the
        // queue would fold back-to-back ones into one): the scenario, not a wait.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    wait_for("20 ready pods", T, || async {
        let p = active_pods(&c, "lag").await;
        (p.len() == 20 && p.iter().all(is_ready)).then_some(())
    })
    .await;
    // The controller's lagging cache shows the 20 ready pods, it has looked at the set
    // since and has nothing left to do, and the counter has every creation up to now.
    c.settled(NAME, "default/lag", 0, |st: &client::Store<Pod>| {
        st.list()
            .iter()
            .filter(|p| p.meta().labels.get("app").map(String::as_str) == Some("lag"))
            .filter(|p| is_ready(p) && !is_terminating(p))
            .count()
            == 20
    })
    .await;
    c.namespace("other").await;
    c.api::<Pod>("other")
        .create(&common::marker_pod("other", "marker"))
        .await
        .unwrap();
    tokio::time::timeout(T, marked.notified())
        .await
        .expect("the counter sees the marker pod");
    assert_eq!(
        created.load(std::sync::atomic::Ordering::SeqCst),
        20,
        "no pod was created twice"
    );
    assert_eq!(active_pods(&c, "lag").await.len(), 20);
    counter.abort();
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_ready_pods_count_as_unavailable_and_go_first() {
    let c = Cluster::start(&["replicaset"]).await;
    let rs_api: Api<ReplicaSet> = c.api("default");
    c.apply_yaml::<ReplicaSet>(&rs_yaml("mix", 3)).await;
    let pods = wait_for("3 ready pods", T, || async {
        let p = active_pods(&c, "mix").await;
        (p.len() == 3 && p.iter().all(is_ready)).then_some(p)
    })
    .await;
    let sick = pods[0].meta().name.clone();
    c.kubelet().set_not_ready(&sick, true);
    wait_for("status 3 replicas, 2 ready", T, || async {
        let s = rs_api.get("mix").await.ok()?.status?;
        (s.replicas == 3 && s.ready_replicas == 2 && s.available_replicas == 2).then_some(())
    })
    .await;
    let mut scale = rs_api.get_scale("mix").await.unwrap();
    scale.spec.get_or_insert_with(Default::default).replicas = 2;
    rs_api.replace_scale("mix", &scale).await.unwrap();
    let left = wait_for("2 pods", T, || async {
        let p = active_pods(&c, "mix").await;
        (p.len() == 2).then_some(p)
    })
    .await;
    assert!(
        left.iter().all(|p| p.meta().name != sick),
        "the not-ready pod went first"
    );
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn available_replicas_wait_for_min_ready_seconds() {
    let c = Cluster::start(&["replicaset"]).await;
    let rs_api: Api<ReplicaSet> = c.api("default");
    let yaml =
        rs_yaml("slow", 2).replace("  replicas: 2\n", "  replicas: 2\n  minReadySeconds: 2\n");
    c.apply_yaml::<ReplicaSet>(&yaml).await;
    let ready_at = wait_for("2 ready, 0 available", T, || async {
        let s = rs_api.get("slow").await.ok()?.status?;
        (s.ready_replicas == 2).then_some((std::time::Instant::now(), s.available_replicas))
    })
    .await;
    assert_eq!(ready_at.1, 0, "not available before minReadySeconds");
    wait_for("2 available", T, || async {
        let s = rs_api.get("slow").await.ok()?.status?;
        (s.available_replicas == 2).then_some(())
    })
    .await;
    // Ready condition times have whole seconds, so availability comes 1-3 s after readiness,
    // found by the controller's own requeue (nothing else changes meanwhile).
    let waited = ready_at.0.elapsed();
    assert!(waited >= Duration::from_millis(900), "{waited:?}");
    assert!(waited < Duration::from_secs(4), "{waited:?}");
    c.stop().await;
}
