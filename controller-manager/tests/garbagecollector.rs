//! Garbage collection against an in-process apiserver: dependents (pods owned by a
//! ReplicaSet, here without the ReplicaSet controller so only the collector acts) are
//! deleted after their owner in the background, before it in the foreground (waiting for
//! those with blockOwnerDeletion), or orphaned.

mod common;

use client::{Api, DeleteParams};
use common::{Cluster, at_rv, cached, wait_for};
use controller_manager::controllers::garbagecollector::{NAME, item_key};
use proto::Resource;
use proto::k8s::{ConfigMap, OwnerReference, Pod, ReplicaSet};
use std::time::Duration;

const T: Duration = Duration::from_secs(20);

async fn owner(c: &Cluster, name: &str) -> ReplicaSet {
    c.apply_yaml(&format!(
        r#"
apiVersion: apps/v1
kind: ReplicaSet
metadata: {{name: {name}, namespace: default}}
spec:
  replicas: 0
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec: {{containers: [{{name: c, image: busybox}}]}}
"#
    ))
    .await
}

/// An unbound pod (no kubelet: deletes are immediate) owned by `owner`.
async fn dependent(
    c: &Cluster,
    name: &str,
    owner: &ReplicaSet,
    block: bool,
    finalizers: &[&str],
) -> Pod {
    let mut p: Pod = proto::manifest::load_documents(&format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: default}}\nspec: {{containers: [{{name: c, image: busybox}}]}}\n"
    ))
    .unwrap()
    .into_iter()
    .next()
    .and_then(|o| Pod::try_from_object(o).ok())
    .unwrap();
    let m = p.meta_mut();
    m.owner_references.push(OwnerReference {
        api_version: "apps/v1".into(),
        kind: "ReplicaSet".into(),
        name: owner.meta().name.clone(),
        uid: owner.meta().uid.clone(),
        controller: Some(true),
        block_owner_deletion: Some(block),
    });
    m.finalizers = finalizers.iter().map(|s| s.to_string()).collect();
    c.api::<Pod>("default").create(&p).await.unwrap()
}

/// The collector's queue key of an object.
fn item<K: Resource>(o: &K) -> String {
    let m = o.meta();
    item_key(K::INFO, &m.namespace, &m.name, &m.uid)
}

async fn gone<K: Resource>(api: &Api<K>, name: &str) -> bool {
    matches!(api.get_opt(name).await, Ok(None))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn background_deletion_removes_dependents_after_the_owner() {
    let c = Cluster::builder()
        .no_kubelet()
        .controllers(&["garbagecollector"])
        .start()
        .await;
    let rs = owner(&c, "bg").await;
    dependent(&c, "bg-1", &rs, true, &[]).await;
    dependent(&c, "bg-2", &rs, false, &[]).await;
    // A dependent of a live owner stays (also one just created: no lagging-cache deletes).
    let live = owner(&c, "live").await;
    dependent(&c, "live-1", &live, true, &[]).await;
    // A ConfigMap owned by the same ReplicaSet: any kind is collected.
    let mut cm = ConfigMap::default();
    cm.meta_mut().name = "bg-config".into();
    cm.meta_mut().owner_references.push(OwnerReference {
        api_version: "apps/v1".into(),
        kind: "ReplicaSet".into(),
        name: "bg".into(),
        uid: rs.meta().uid.clone(),
        ..Default::default()
    });
    let cms: Api<ConfigMap> = c.api("default");
    cms.create(&cm).await.unwrap();

    let rss: Api<ReplicaSet> = c.api("default");
    rss.delete("bg", &DeleteParams::background()).await.unwrap();
    assert!(gone(&rss, "bg").await, "background: the owner goes at once");
    let pods: Api<Pod> = c.api("default");
    wait_for("dependents collected", T, || async {
        (gone(&pods, "bg-1").await && gone(&pods, "bg-2").await && gone(&cms, "bg-config").await)
            .then_some(())
    })
    .await;
    // The collector has looked at live-1 since the cache held it, and has nothing left.
    let live_1 = pods
        .get("live-1")
        .await
        .expect("the dependent of a live owner stays");
    c.settled(NAME, &item(&live_1), 0, cached::<Pod>("default/live-1"))
        .await;
    assert!(
        pods.get("live-1").await.is_ok(),
        "the dependent of a live owner stays"
    );

    // An owner recreated under the same name is another object: the old dependents go.
    let again = owner(&c, "bg").await;
    assert_ne!(again.meta().uid, rs.meta().uid);
    dependent(&c, "stale", &rs, false, &[]).await;
    wait_for("dependent of the old uid collected", T, || async {
        gone(&pods, "stale").await.then_some(())
    })
    .await;
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foreground_deletion_waits_for_blocking_dependents() {
    let c = Cluster::builder()
        .no_kubelet()
        .controllers(&["garbagecollector"])
        .start()
        .await;
    let rs = owner(&c, "fg").await;
    // The blocking dependent holds a finalizer of the test's, so its deletion is visible.
    dependent(&c, "fg-block", &rs, true, &["example.com/hold"]).await;
    dependent(&c, "fg-loose", &rs, false, &[]).await;
    let rss: Api<ReplicaSet> = c.api("default");
    let pods: Api<Pod> = c.api("default");
    let marked = rss.delete("fg", &DeleteParams::foreground()).await.unwrap();
    assert!(
        marked
            .meta()
            .finalizers
            .iter()
            .any(|f| f == "foregroundDeletion")
    );
    wait_for("dependents deleted first", T, || async {
        let b = pods.get("fg-block").await.ok()?;
        (!b.meta().deletion_timestamp.is_empty() && gone(&pods, "fg-loose").await).then_some(())
    })
    .await;
    // The blocking dependent is still there: so is the owner, once the collector has
    // seen the loose one go and looked at the owner.
    let fg = rss
        .get("fg")
        .await
        .expect("owner waits for its blocking dependent");
    c.settled(NAME, &item(&fg), 0, |s: &client::Store<Pod>| {
        s.get("default/fg-loose").is_none()
            && s.get("default/fg-block")
                .is_some_and(|b| !b.meta().deletion_timestamp.is_empty())
    })
    .await;
    let waiting = rss
        .get("fg")
        .await
        .expect("owner waits for its blocking dependent");
    assert!(!waiting.meta().deletion_timestamp.is_empty());
    // Release it: the dependent goes, then the owner.
    let mut b = pods.get("fg-block").await.unwrap();
    b.meta_mut().finalizers.clear();
    pods.update(&b).await.unwrap();
    wait_for("owner gone after its dependents", T, || async {
        (gone(&pods, "fg-block").await && gone(&rss, "fg").await).then_some(())
    })
    .await;
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orphan_deletion_keeps_dependents_without_the_reference() {
    let c = Cluster::builder()
        .no_kubelet()
        .controllers(&["garbagecollector"])
        .start()
        .await;
    let rs = owner(&c, "or").await;
    let other = owner(&c, "other").await;
    dependent(&c, "or-1", &rs, true, &[]).await;
    // Two owners: only the orphaning one's reference goes.
    let mut two = dependent(&c, "or-2", &rs, false, &[]).await;
    let pods: Api<Pod> = c.api("default");
    two.meta_mut().owner_references.push(OwnerReference {
        api_version: "apps/v1".into(),
        kind: "ReplicaSet".into(),
        name: "other".into(),
        uid: other.meta().uid.clone(),
        ..Default::default()
    });
    pods.update(&two).await.unwrap();
    let rss: Api<ReplicaSet> = c.api("default");
    let marked = rss.delete("or", &DeleteParams::orphan()).await.unwrap();
    assert!(marked.meta().finalizers.iter().any(|f| f == "orphan"));
    wait_for("owner gone", T, || async {
        gone(&rss, "or").await.then_some(())
    })
    .await;
    let p1 = pods.get("or-1").await.expect("orphaned, not deleted");
    assert!(p1.meta().owner_references.is_empty());
    let p2 = pods.get("or-2").await.unwrap();
    let uids: Vec<&str> = p2
        .meta()
        .owner_references
        .iter()
        .map(|r| r.uid.as_str())
        .collect();
    assert_eq!(uids, [other.meta().uid.as_str()]);
    // Still there once the collector has looked at it as an orphan: nothing collects
    // orphans.
    c.settled(
        NAME,
        &item(&p1),
        0,
        at_rv::<Pod>("default/or-1", &p1.meta().resource_version),
    )
    .await;
    assert!(pods.get("or-1").await.is_ok());
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicaset_cascade_with_the_real_controllers() {
    let c = Cluster::start(&["replicaset", "garbagecollector"]).await;
    let rss: Api<ReplicaSet> = c.api("default");
    let yaml = |name: &str| {
        format!(
            r#"
apiVersion: apps/v1
kind: ReplicaSet
metadata: {{name: {name}, namespace: default}}
spec:
  replicas: 3
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec: {{containers: [{{name: c, image: busybox}}]}}
"#
        )
    };
    let running = |app: &'static str| {
        let client = c.client.clone();
        async move {
            let p = common::list_pods(&client, "default", &format!("app={app}")).await;
            (p.len() == 3 && p.iter().all(common::is_ready)).then_some(p)
        }
    };
    let _: ReplicaSet = c.apply_yaml(&yaml("fgrs")).await;
    let _: ReplicaSet = c.apply_yaml(&yaml("bgrs")).await;
    wait_for("fgrs pods", T, || running("fgrs")).await;
    wait_for("bgrs pods", T, || running("bgrs")).await;

    // Foreground: the ReplicaSet is still there (deleting) while its pods are.
    rss.delete("fgrs", &DeleteParams::foreground())
        .await
        .unwrap();
    let saw = std::sync::atomic::AtomicBool::new(false);
    let (saw_ref, rss_ref, client) = (&saw, &rss, &c.client);
    wait_for("pods then ReplicaSet gone", T, || async move {
        let pods = common::list_pods(client, "default", "app=fgrs").await;
        let owner = rss_ref.get_opt("fgrs").await.ok()?;
        if !pods.is_empty() && owner.is_some() {
            saw_ref.store(true, std::sync::atomic::Ordering::Relaxed);
        }
        assert!(
            owner.is_some() || pods.is_empty(),
            "the owner went before its blocking pods"
        );
        (pods.is_empty() && owner.is_none()).then_some(())
    })
    .await;
    assert!(
        saw.load(std::sync::atomic::Ordering::Relaxed),
        "the owner waited for its pods"
    );

    // Background: the ReplicaSet goes at once, its pods after.
    rss.delete("bgrs", &DeleteParams::background())
        .await
        .unwrap();
    assert!(gone(&rss, "bgrs").await);
    wait_for("bgrs pods collected", T, || async {
        common::list_pods(&c.client, "default", "app=bgrs")
            .await
            .is_empty()
            .then_some(())
    })
    .await;
    c.stop().await;
}
