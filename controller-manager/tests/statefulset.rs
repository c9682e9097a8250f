//! StatefulSet controller against an in-process apiserver and the fake kubelet (which
//! schedules, runs and readies the pods). A pod informer in the test records the order of
//! what happens (pod added, became Ready, started terminating) as the apiserver's watch
//! delivers it, so ordering claims are checked on the event stream, not by sampling.

mod common;

use client::{Api, Informer, InformerConfig, InformerEvent};
use common::{Cluster, is_ready, is_terminating, list_pods, wait_for};
use controller_manager::controllers::statefulset::{
    NAME, POD_INDEX_LABEL, POD_NAME_LABEL, REVISION_HASH,
};
use proto::Resource;
use proto::k8s::{PersistentVolumeClaim, Pod, StatefulSet, volume::VolumeSource};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const T: Duration = Duration::from_secs(30);

fn sts_yaml(name: &str, replicas: i32, image: &str) -> String {
    format!(
        r#"
apiVersion: apps/v1
kind: StatefulSet
metadata: {{name: {name}, namespace: default}}
spec:
  replicas: {replicas}
  serviceName: {name}-svc
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      containers: [{{name: c, image: {image}, volumeMounts: [{{name: data, mountPath: /data}}]}}]
  volumeClaimTemplates:
  - metadata: {{name: data}}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {{requests: {{storage: 1Gi}}}}
"#
    )
}

/// The pod event stream of one app, as `add:web-0`, `ready:web-0`, `del:web-0`.
struct Recorder {
    log: Arc<Mutex<Vec<String>>>,
    informer: Arc<Informer<Pod>>,
}

impl Recorder {
    fn start(c: &Cluster, app: &str) -> Recorder {
        let informer = Arc::new(Informer::new(
            Api::<Pod>::namespaced(c.client.clone(), "default"),
            InformerConfig::default(),
        ));
        let log = Arc::new(Mutex::new(Vec::new()));
        let l = log.clone();
        let app = app.to_string();
        informer.add_handler(move |ev: &InformerEvent<Pod>| {
            let mine = |p: &Pod| p.meta().labels.get("app") == Some(&app);
            let mut log = l.lock().unwrap();
            match ev {
                InformerEvent::Added(p) if mine(p) => {
                    log.push(format!("add:{}", p.meta().name));
                    if is_ready(p) {
                        log.push(format!("ready:{}", p.meta().name));
                    }
                }
                InformerEvent::Modified { old, new } if mine(new) => {
                    if old.meta().uid != new.meta().uid {
                        log.push(format!("add:{}", new.meta().name));
                    }
                    if !is_ready(old) && is_ready(new) {
                        log.push(format!("ready:{}", new.meta().name));
                    }
                    if !is_terminating(old) && is_terminating(new) {
                        log.push(format!("del:{}", new.meta().name));
                    }
                }
                InformerEvent::Deleted(p) if mine(p) && !is_terminating(p) => {
                    log.push(format!("del:{}", p.meta().name));
                }
                _ => {}
            }
        });
        informer.start();
        Recorder { log, informer }
    }

    /// Returns once the recorder has every pod event written before this call: a marker
    /// pod (not of any app under test) is created, and watch events come in order.
    async fn caught_up(&self, c: &Cluster, marker: &str) {
        let p = common::marker_pod("default", marker);
        c.api::<Pod>("default").create(&p).await.unwrap();
        let key = format!("default/{marker}");
        let store = self.informer.store();
        wait_for("the recorder caught up", T, || {
            let seen = store.get(&key).is_some();
            async move { seen.then_some(()) }
        })
        .await;
    }

    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.log.lock().unwrap())
    }

    /// The entries of these kinds (`add`, `ready`, `del`), in order.
    fn only(log: &[String], kinds: &[&str]) -> Vec<String> {
        log.iter()
            .filter(|e| kinds.iter().any(|k| e.starts_with(&format!("{k}:"))))
            .cloned()
            .collect()
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.informer.stop();
    }
}

/// Live pods of the app, sorted by name.
async fn live_pods(c: &Cluster, app: &str) -> Vec<Pod> {
    let mut v: Vec<Pod> = list_pods(&c.client, "default", &format!("app={app}"))
        .await
        .into_iter()
        .filter(|p| !is_terminating(p))
        .collect();
    v.sort_by(|a, b| a.meta().name.cmp(&b.meta().name));
    v
}

/// Exactly these pods, all ready (and none terminating left).
async fn exactly_ready(c: &Cluster, app: &str, names: &[&str]) -> Option<Vec<Pod>> {
    let all = list_pods(&c.client, "default", &format!("app={app}")).await;
    let pods = live_pods(c, app).await;
    let got: Vec<&str> = pods.iter().map(|p| p.meta().name.as_str()).collect();
    (all.len() == names.len() && got == names && pods.iter().all(is_ready)).then_some(pods)
}

fn claim_of(p: &Pod) -> Option<String> {
    p.spec
        .as_ref()?
        .volumes
        .iter()
        .find_map(|v| match &v.volume_source {
            Some(VolumeSource::PersistentVolumeClaim(c)) if v.name == "data" => {
                Some(c.claim_name.clone())
            }
            _ => None,
        })
}

async fn claim_names(c: &Cluster) -> Vec<String> {
    let mut v: Vec<String> = c
        .api::<PersistentVolumeClaim>("default")
        .list(&client::ListParams::labels("app=web"))
        .await
        .expect("list claims")
        .items
        .iter()
        .map(|p| p.meta().name.clone())
        .collect();
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ordered_start_claims_identity_recreation_and_scale_down() {
    // Pods turn Ready 300 ms after binding: creating web-1 before web-0 is Ready would show.
    let c = Cluster::builder()
        .ready_delay(Duration::from_millis(300))
        .controllers(&["statefulset"])
        .start()
        .await;
    let rec = Recorder::start(&c, "web");
    let set: StatefulSet = c.apply_yaml(&sts_yaml("web", 3, "nginx:1")).await;
    let pods = wait_for("web-0..2 ready", T, || {
        exactly_ready(&c, "web", &["web-0", "web-1", "web-2"])
    })
    .await;
    // The recorder's own watch may trail the read above.
    rec.caught_up(&c, "marker-start").await;
    let log = rec.take();
    assert_eq!(
        Recorder::only(&log, &["add", "ready"]),
        [
            "add:web-0",
            "ready:web-0",
            "add:web-1",
            "ready:web-1",
            "add:web-2",
            "ready:web-2"
        ],
        "each ordinal is created only after the previous one is Ready"
    );
    // Identity and storage.
    for (i, p) in pods.iter().enumerate() {
        let name = format!("web-{i}");
        let l = &p.meta().labels;
        assert_eq!(l[POD_NAME_LABEL], name);
        assert_eq!(l[POD_INDEX_LABEL], i.to_string());
        assert!(l[REVISION_HASH].starts_with("web-"));
        let spec = p.spec.as_ref().unwrap();
        assert_eq!(
            (spec.hostname.as_str(), spec.subdomain.as_str()),
            (name.as_str(), "web-svc")
        );
        assert_eq!(claim_of(p), Some(format!("data-web-{i}")));
        assert_eq!(p.meta().owner_references[0].uid, set.meta().uid);
    }
    assert_eq!(
        claim_names(&c).await,
        ["data-web-0", "data-web-1", "data-web-2"]
    );
    let api: Api<StatefulSet> = c.api("default");
    let status = wait_for("status 3/3", T, || async {
        let s = api.get("web").await.ok()?.status?;
        (s.replicas == 3
            && s.ready_replicas == 3
            && s.available_replicas == 3
            && s.current_replicas == 3
            && s.updated_replicas == 3
            && s.observed_generation == 1)
            .then_some(s)
    })
    .await;
    assert_eq!(status.current_revision, status.update_revision);
    assert_eq!(status.update_revision, pods[0].meta().labels[REVISION_HASH]);
    assert_eq!(status.collision_count, Some(0));

    // A deleted pod comes back with the same name and claim (a new uid).
    let pod_api: Api<Pod> = c.api("default");
    let old_uid = pods[1].meta().uid.clone();
    pod_api.delete("web-1", &Default::default()).await.unwrap();
    let back = wait_for("web-1 back and ready", T, || async {
        let p = pod_api.get_opt("web-1").await.ok()??;
        (p.meta().uid != old_uid && is_ready(&p) && !is_terminating(&p)).then_some(p)
    })
    .await;
    assert_eq!(claim_of(&back), Some("data-web-1".to_string()));
    assert_eq!(claim_names(&c).await.len(), 3, "no new claim");
    wait_for("3 ready again", T, || {
        exactly_ready(&c, "web", &["web-0", "web-1", "web-2"])
    })
    .await;

    // Scale down to 1: web-2 goes first, then web-1; the claims stay (Retain).
    rec.take();
    api.patch_merge("web", &serde_json::json!({"spec": {"replicas": 1}}))
        .await
        .unwrap();
    wait_for("only web-0", T, || exactly_ready(&c, "web", &["web-0"])).await;
    let log = rec.take();
    assert_eq!(
        Recorder::only(&log, &["del", "add"]),
        ["del:web-2", "del:web-1"]
    );
    assert_eq!(
        claim_names(&c).await,
        ["data-web-0", "data-web-1", "data-web-2"]
    );
    wait_for("status 1", T, || async {
        let s = api.get("web").await.ok()?.status?;
        (s.replicas == 1 && s.ready_replicas == 1 && s.observed_generation == 2).then_some(())
    })
    .await;

    // Scale back up: web-1 gets its old claim again.
    api.patch_merge("web", &serde_json::json!({"spec": {"replicas": 2}}))
        .await
        .unwrap();
    let pods = wait_for("web-0, web-1", T, || {
        exactly_ready(&c, "web", &["web-0", "web-1"])
    })
    .await;
    assert_eq!(claim_of(&pods[1]), Some("data-web-1".to_string()));
    assert_eq!(claim_names(&c).await.len(), 3);
    drop(rec);
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn image_change_rolls_from_the_highest_ordinal_one_at_a_time() {
    let c = Cluster::builder()
        .ready_delay(Duration::from_millis(300))
        .controllers(&["statefulset"])
        .start()
        .await;
    let _: StatefulSet = c.apply_yaml(&sts_yaml("web", 3, "nginx:1")).await;
    let before = wait_for("3 ready", T, || {
        exactly_ready(&c, "web", &["web-0", "web-1", "web-2"])
    })
    .await;
    let old_rev = before[0].meta().labels[REVISION_HASH].clone();
    let rec = Recorder::start(&c, "web");
    // Let the recorder's first list pass (it reports the existing pods as added).
    wait_for("recorder synced", T, || async {
        (rec.log.lock().unwrap().len() >= 3).then_some(())
    })
    .await;
    rec.take();
    let api: Api<StatefulSet> = c.api("default");
    let patch = serde_json::json!({"spec": {"template": {"spec": {"containers": [
        {"name": "c", "image": "nginx:2", "volumeMounts": [{"name": "data", "mountPath": "/data"}]}
    ]}}}});
    api.patch_merge("web", &patch).await.unwrap();
    let after = wait_for("all updated and ready", T, || async {
        let pods = exactly_ready(&c, "web", &["web-0", "web-1", "web-2"]).await?;
        pods.iter()
            .all(|p| p.meta().labels[REVISION_HASH] != old_rev)
            .then_some(pods)
    })
    .await;
    let log = rec.take();
    assert_eq!(
        Recorder::only(&log, &["del", "add", "ready"]),
        [
            "del:web-2",
            "add:web-2",
            "ready:web-2",
            "del:web-1",
            "add:web-1",
            "ready:web-1",
            "del:web-0",
            "add:web-0",
            "ready:web-0"
        ],
        "one at a time, highest first, each after the previous is Ready"
    );
    for p in &after {
        let image = &p.spec.as_ref().unwrap().containers[0].image;
        assert_eq!(image, "nginx:2");
    }
    let new_rev = after[0].meta().labels[REVISION_HASH].clone();
    wait_for("revisions converge", T, || async {
        let s = api.get("web").await.ok()?.status?;
        (s.current_revision == new_rev
            && s.update_revision == new_rev
            && s.updated_replicas == 3
            && s.current_replicas == 3
            && s.ready_replicas == 3)
            .then_some(())
    })
    .await;

    // Partition 2 with another change: only web-2 moves.
    let patch = serde_json::json!({"spec": {
        "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 2}},
        "template": {"metadata": {"annotations": {"v": "3"}}}}});
    api.patch_merge("web", &patch).await.unwrap();
    let s = wait_for("web-2 updated", T, || async {
        let s = api.get("web").await.ok()?.status?;
        (s.update_revision != new_rev && s.updated_replicas == 1 && s.ready_replicas == 3)
            .then_some(s)
    })
    .await;
    // Once the controller has looked at the set since that status and has nothing left
    // to do, nothing below the partition has moved.
    let written = s.clone();
    c.settled(
        NAME,
        "default/web",
        0,
        move |st: &client::Store<StatefulSet>| {
            st.get("default/web")
                .is_some_and(|w| w.status.as_ref() == Some(&written))
        },
    )
    .await;
    let pods = exactly_ready(&c, "web", &["web-0", "web-1", "web-2"])
        .await
        .unwrap();
    let revs: Vec<&str> = pods
        .iter()
        .map(|p| p.meta().labels[REVISION_HASH].as_str())
        .collect();
    assert_eq!(
        revs,
        [
            new_rev.as_str(),
            new_rev.as_str(),
            s.update_revision.as_str()
        ]
    );
    assert_eq!(s.current_revision, new_rev);
    drop(rec);
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_with_a_lagging_cache_creates_each_pod_once() {
    // The controllers' informers see everything 300 ms late.
    let c = Cluster::builder()
        .informer_delay(Duration::from_millis(300))
        .controllers(&["statefulset"])
        .start()
        .await;
    let rec = Recorder::start(&c, "db");
    let yaml = sts_yaml("db", 5, "postgres").replace(
        "  serviceName:",
        "  podManagementPolicy: Parallel\n  serviceName:",
    );
    let _: StatefulSet = c.apply_yaml(&yaml).await;
    let names: Vec<String> = (0..5).map(|i| format!("db-{i}")).collect();
    let names_ref: Vec<&str> = names.iter().map(String::as_str).collect();
    wait_for("5 ready", T, || exactly_ready(&c, "db", &names_ref)).await;
    // The controller's (lagging) cache shows them all ready, it has looked at the set
    // since, and the recorder has every event up to now.
    let ready = names.clone();
    c.settled(NAME, "default/db", 0, move |st: &client::Store<Pod>| {
        ready.iter().all(|n| {
            st.get(&format!("default/{n}"))
                .is_some_and(|p| is_ready(&p))
        })
    })
    .await;
    rec.caught_up(&c, "marker").await;
    let log = rec.take();
    let adds = Recorder::only(&log, &["add"]);
    let dels = Recorder::only(&log, &["del"]);
    assert_eq!(adds.len(), 5, "each pod created once: {log:?}");
    assert!(dels.is_empty(), "nothing deleted: {log:?}");
    drop(rec);
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claim_retention_delete_removes_claims_on_scale_down_and_with_the_set() {
    let c = Cluster::builder()
        .controllers(&["statefulset", "garbagecollector"])
        .start()
        .await;
    let yaml = sts_yaml("web", 3, "nginx:1").replace(
        "  serviceName:",
        "  persistentVolumeClaimRetentionPolicy: {whenDeleted: Delete, whenScaled: Delete}\n  serviceName:",
    );
    let _: StatefulSet = c.apply_yaml(&yaml).await;
    wait_for("3 ready", T, || {
        exactly_ready(&c, "web", &["web-0", "web-1", "web-2"])
    })
    .await;
    assert_eq!(claim_names(&c).await.len(), 3);
    let api: Api<StatefulSet> = c.api("default");
    api.patch_merge("web", &serde_json::json!({"spec": {"replicas": 1}}))
        .await
        .unwrap();
    wait_for("claims of web-1, web-2 gone", T, || async {
        (claim_names(&c).await == ["data-web-0"]).then_some(())
    })
    .await;
    api.delete("web", &Default::default()).await.unwrap();
    wait_for("the last claim and pod gone with the set", T, || async {
        let pods = list_pods(&c.client, "default", "app=web").await;
        (claim_names(&c).await.is_empty() && pods.is_empty()).then_some(())
    })
    .await;
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_pod_is_replaced_under_the_same_name_and_claim() {
    // No kubelet (it would report the pod Running again); Parallel, so the pods need not be
    // ready for the controller to act.
    let c = Cluster::builder()
        .no_kubelet()
        .controllers(&["statefulset"])
        .start()
        .await;
    let yaml = sts_yaml("web", 2, "nginx:1").replace(
        "  serviceName:",
        "  podManagementPolicy: Parallel\n  serviceName:",
    );
    let _: StatefulSet = c.apply_yaml(&yaml).await;
    let pod_api: Api<Pod> = c.api("default");
    let mut web1 = wait_for("web-1 created", T, || async {
        pod_api.get_opt("web-1").await.ok()?
    })
    .await;
    let old_uid = web1.meta().uid.clone();
    web1.status.get_or_insert_with(Default::default).phase = "Failed".into();
    pod_api.update_status(&web1).await.unwrap();
    let back = wait_for("web-1 replaced", T, || async {
        let p = pod_api.get_opt("web-1").await.ok()??;
        (p.meta().uid != old_uid).then_some(p)
    })
    .await;
    assert_eq!(claim_of(&back), Some("data-web-1".to_string()));
    assert_eq!(claim_names(&c).await, ["data-web-0", "data-web-1"]);
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rolling_update_with_a_lagging_cache_keeps_order_and_deletes_each_pod_once() {
    let c = Cluster::builder()
        .informer_delay(Duration::from_millis(300))
        .ready_delay(Duration::from_millis(200))
        .controllers(&["statefulset"])
        .start()
        .await;
    let _: StatefulSet = c.apply_yaml(&sts_yaml("web", 3, "nginx:1")).await;
    let before = wait_for("3 ready", T, || {
        exactly_ready(&c, "web", &["web-0", "web-1", "web-2"])
    })
    .await;
    let old_rev = before[0].meta().labels[REVISION_HASH].clone();
    let rec = Recorder::start(&c, "web");
    wait_for("recorder synced", T, || async {
        (rec.log.lock().unwrap().len() >= 3).then_some(())
    })
    .await;
    rec.take();
    let api: Api<StatefulSet> = c.api("default");
    api.patch_merge(
        "web",
        &serde_json::json!({"spec": {"template": {"metadata": {"annotations": {"v": "2"}}}}}),
    )
    .await
    .unwrap();
    wait_for("all updated and ready", T, || async {
        let pods = exactly_ready(&c, "web", &["web-0", "web-1", "web-2"]).await?;
        pods.iter()
            .all(|p| p.meta().labels[REVISION_HASH] != old_rev)
            .then_some(())
    })
    .await;
    // The recorder writes in order: once a marker event recorded now is in the API, so is
    // every event the controller recorded before it (the deletions came before the new
    // pods were ready).
    let sts = api.get("web").await.unwrap();
    c.ctx.events.event(
        "test-marker",
        &sts,
        false,
        "TestFlushMarker",
        "flush".into(),
    );
    wait_for("the marker event written", T, || async {
        c.api::<proto::k8s::Event>("default")
            .list(&Default::default())
            .await
            .ok()?
            .items
            .iter()
            .any(|e| e.reason == "TestFlushMarker")
            .then_some(())
    })
    .await;
    // The controller's own deletions, by its events: one per pod.
    let deletes: i32 = c
        .api::<proto::k8s::Event>("default")
        .list(&Default::default())
        .await
        .unwrap()
        .items
        .iter()
        .filter(|e| e.reason == "SuccessfulDelete")
        .map(|e| e.count.max(1))
        .sum();
    eprintln!("SuccessfulDelete events: {deletes}");
    assert_eq!(deletes, 3, "each old pod deleted once");
    let log = rec.take();
    assert_eq!(
        Recorder::only(&log, &["del", "add", "ready"]),
        [
            "del:web-2",
            "add:web-2",
            "ready:web-2",
            "del:web-1",
            "add:web-1",
            "ready:web-1",
            "del:web-0",
            "add:web-0",
            "ready:web-0"
        ],
    );
    drop(rec);
    c.stop().await;
}
