//! Deployment controller (with the ReplicaSet controller) against an in-process apiserver,
//! fake nodes and the fake kubelet.

mod common;

use client::Api;
use common::{Cluster, is_ready, is_terminating, list_pods, wait_for};
use controller_manager::controllers::deployment::NAME as DEPLOYMENT;
use controller_manager::controllers::deployment::util::{
    POD_TEMPLATE_HASH, REVISION, REVISION_HISTORY, template_for_rollback,
};
use futures::StreamExt;
use proto::Resource;
use proto::k8s::{Deployment, Pod, ReplicaSet};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const T: Duration = Duration::from_secs(60);

fn deploy_yaml(name: &str, replicas: i32, image: &str, strategy: &str) -> String {
    format!(
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}, namespace: default}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: {name}}}}}
  {strategy}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      containers: [{{name: c, image: "{image}"}}]
"#
    )
}

fn image_of(p: &Pod) -> String {
    p.spec
        .as_ref()
        .map(|s| s.containers[0].image.clone())
        .unwrap_or_default()
}

async fn set_image(c: &Cluster, name: &str, image: &str) {
    let patch = serde_json::json!({"spec": {"template": {"spec": {"containers": [{"name": "c", "image": image}]}}}});
    c.api::<Deployment>("default")
        .patch_merge(name, &patch)
        .await
        .unwrap();
}

async fn owned_rs(c: &Cluster, d: &str) -> Vec<ReplicaSet> {
    let dep = c.api::<Deployment>("default").get(d).await.unwrap();
    c.api::<ReplicaSet>("default")
        .list(&Default::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|rs| {
            rs.meta()
                .owner_references
                .iter()
                .any(|r| r.uid == dep.meta().uid)
        })
        .collect()
}

/// Waits until the deployment reports a finished rollout of its current generation.
async fn wait_complete(c: &Cluster, name: &str, replicas: i32) -> Deployment {
    let api = c.api::<Deployment>("default");
    wait_for(&format!("deployment {name} complete"), T, || async {
        let d = api.get(name).await.ok()?;
        let s = d.status.clone()?;
        let progressing = s.conditions.iter().find(|c| c.r#type == "Progressing")?;
        (s.observed_generation >= d.meta().generation
            && s.updated_replicas == replicas
            && s.replicas == replicas
            && s.available_replicas == replicas
            && progressing.reason == "NewReplicaSetAvailable")
            .then_some(d)
    })
    .await
}

async fn active_pods(c: &Cluster, app: &str) -> Vec<Pod> {
    list_pods(&c.client, "default", &format!("app={app}"))
        .await
        .into_iter()
        .filter(|p| !is_terminating(p))
        .collect()
}

/// Live view of the pods of one app, from a watch, checking `invariant` on every event.
struct PodWatch {
    violations: Arc<Mutex<Vec<String>>>,
    events: Arc<Mutex<usize>>,
    task: tokio::task::JoinHandle<()>,
}

impl PodWatch {
    async fn start(
        c: &Cluster,
        app: &str,
        invariant: impl Fn(&HashMap<String, Pod>) -> Option<String> + Send + 'static,
    ) -> PodWatch {
        let api: Api<Pod> = c.api("default");
        let list = api
            .list(&client::ListParams::labels(&format!("app={app}")))
            .await
            .unwrap();
        let mut pods: HashMap<String, Pod> = list
            .items
            .into_iter()
            .map(|p| (p.meta().uid.clone(), p))
            .collect();
        let mut stream = api
            .watch(&client::WatchParams {
                resource_version: list.resource_version,
                label_selector: format!("app={app}"),
                ..Default::default()
            })
            .await
            .unwrap();
        let violations: Arc<Mutex<Vec<String>>> = Arc::default();
        let events: Arc<Mutex<usize>> = Arc::default();
        let (v, e) = (violations.clone(), events.clone());
        let task = tokio::spawn(async move {
            while let Some(Ok(ev)) = stream.next().await {
                match ev {
                    client::WatchEvent::Added(p) | client::WatchEvent::Modified(p) => {
                        pods.insert(p.meta().uid.clone(), p);
                    }
                    client::WatchEvent::Deleted(p) => {
                        pods.remove(&p.meta().uid);
                    }
                    client::WatchEvent::Bookmark(_) => continue,
                }
                *e.lock().unwrap() += 1;
                if let Some(msg) = invariant(&pods) {
                    v.lock().unwrap().push(msg);
                }
            }
        });
        PodWatch {
            violations,
            events,
            task,
        }
    }

    fn check(&self) -> usize {
        let v = self.violations.lock().unwrap();
        assert!(
            v.is_empty(),
            "invariant broken {} times, first: {}",
            v.len(),
            v[0]
        );
        *self.events.lock().unwrap()
    }
}

impl Drop for PodWatch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rolling_update_stays_within_max_surge_and_max_unavailable_at_every_step() {
    let c = Cluster::builder()
        .controllers(&["replicaset", "deployment"])
        .ready_delay(Duration::from_millis(150))
        .start()
        .await;
    // 8 replicas, 25%/25% (defaults): at most 10 pods, at least 6 available.
    c.apply_yaml::<Deployment>(&deploy_yaml("web", 8, "nginx:1", ""))
        .await;
    let d = wait_complete(&c, "web", 8).await;
    let ru = d
        .spec
        .as_ref()
        .unwrap()
        .strategy
        .as_ref()
        .unwrap()
        .rolling_update
        .as_ref()
        .unwrap();
    assert_eq!(
        (ru.max_surge.as_str(), ru.max_unavailable.as_str()),
        ("25%", "25%")
    );
    assert_eq!(d.meta().annotations[REVISION], "1");
    let first = owned_rs(&c, "web").await;
    assert_eq!(first.len(), 1);
    let hash = &first[0].meta().labels[POD_TEMPLATE_HASH];
    assert_eq!(first[0].meta().name, format!("web-{hash}"));

    let max_seen = Arc::new(Mutex::new((0usize, usize::MAX)));
    let ms = max_seen.clone();
    let watch = PodWatch::start(&c, "web", move |pods| {
        let active: Vec<&Pod> = pods.values().filter(|p| !is_terminating(p)).collect();
        let ready = active.iter().filter(|p| is_ready(p)).count();
        let mut m = ms.lock().unwrap();
        m.0 = m.0.max(active.len());
        m.1 = m.1.min(ready);
        if active.len() > 10 {
            return Some(format!("{} active pods > 8 + maxSurge 2", active.len()));
        }
        if ready < 6 {
            return Some(format!("{ready} ready pods < 8 - maxUnavailable 2"));
        }
        None
    })
    .await;
    set_image(&c, "web", "nginx:2").await;
    let d = wait_complete(&c, "web", 8).await;
    let pods = active_pods(&c, "web").await;
    assert_eq!(pods.len(), 8);
    assert!(pods.iter().all(|p| image_of(p) == "nginx:2"));
    assert_eq!(d.meta().annotations[REVISION], "2");
    let events = watch.check();
    assert!(events > 16, "the watch saw the rollout ({events} events)");
    let (most, least_ready) = *max_seen.lock().unwrap();
    assert!(most > 8, "the rollout surged ({most} pods at most)");
    assert!(
        least_ready < 8,
        "the rollout used its unavailability budget ({least_ready})"
    );
    let rss = owned_rs(&c, "web").await;
    assert_eq!(rss.len(), 2, "old ReplicaSet kept as history");
    let old = rss
        .iter()
        .find(|r| r.meta().uid == first[0].meta().uid)
        .unwrap();
    assert_eq!(old.spec.as_ref().unwrap().replicas, Some(0));
    let events: Api<proto::k8s::Event> = c.api("default");
    let scaling: Vec<String> = events
        .list(&Default::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|e| e.reason == "ScalingReplicaSet")
        .map(|e| e.message)
        .collect();
    let first_name = first[0].meta().name.clone();
    assert!(
        scaling.contains(&format!("Scaled up replica set {first_name} from 0 to 8")),
        "{scaling:?}"
    );
    assert!(
        scaling
            .iter()
            .any(|m| m.starts_with(&format!("Scaled down replica set {first_name} from 8 to "))),
        "{scaling:?}"
    );
    let s = d.status.unwrap();
    assert_eq!(
        (s.updated_replicas, s.ready_replicas, s.unavailable_replicas),
        (8, 8, 0)
    );
    assert!(
        s.conditions
            .iter()
            .any(|c| c.r#type == "Available" && c.status == "True")
    );
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_unavailable_zero_never_drops_a_ready_pod_before_its_replacement() {
    let c = Cluster::builder()
        .controllers(&["replicaset", "deployment"])
        .ready_delay(Duration::from_millis(100))
        .start()
        .await;
    let strategy =
        "strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}";
    c.apply_yaml::<Deployment>(&deploy_yaml("safe", 4, "a:1", strategy))
        .await;
    wait_complete(&c, "safe", 4).await;
    let watch = PodWatch::start(&c, "safe", |pods| {
        let active: Vec<&Pod> = pods.values().filter(|p| !is_terminating(p)).collect();
        let ready = active.iter().filter(|p| is_ready(p)).count();
        if active.len() > 5 {
            return Some(format!("{} active pods > 4 + 1", active.len()));
        }
        (ready < 4).then(|| format!("{ready} ready pods < 4"))
    })
    .await;
    set_image(&c, "safe", "a:2").await;
    wait_complete(&c, "safe", 4).await;
    assert!(watch.check() > 8);
    assert!(
        active_pods(&c, "safe")
            .await
            .iter()
            .all(|p| image_of(p) == "a:2")
    );
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollback_restores_the_old_template_as_a_new_revision() {
    let c = Cluster::start(&["replicaset", "deployment"]).await;
    c.apply_yaml::<Deployment>(&deploy_yaml("app", 3, "img:1", ""))
        .await;
    wait_complete(&c, "app", 3).await;
    set_image(&c, "app", "img:2").await;
    wait_complete(&c, "app", 3).await;
    let rss = owned_rs(&c, "app").await;
    let rev1 = rss
        .iter()
        .find(|r| r.meta().annotations[REVISION] == "1")
        .unwrap()
        .clone();
    // What `ctl rollout undo --to-revision 1` does: copy that template into the deployment.
    let api = c.api::<Deployment>("default");
    let mut d = api.get("app").await.unwrap();
    d.spec.as_mut().unwrap().template = template_for_rollback(&rev1);
    api.update(&d).await.unwrap();
    let d = wait_complete(&c, "app", 3).await;
    assert_eq!(d.meta().annotations[REVISION], "3");
    let pods = active_pods(&c, "app").await;
    assert!(pods.iter().all(|p| image_of(p) == "img:1"));
    let rss = owned_rs(&c, "app").await;
    assert_eq!(
        rss.len(),
        2,
        "the old ReplicaSet is reused, not a third one made"
    );
    let reused = rss
        .iter()
        .find(|r| r.meta().uid == rev1.meta().uid)
        .unwrap();
    assert_eq!(reused.meta().annotations[REVISION], "3");
    assert_eq!(reused.meta().annotations[REVISION_HISTORY], "1");
    assert_eq!(reused.spec.as_ref().unwrap().replicas, Some(3));
    let hash = &reused.meta().labels[POD_TEMPLATE_HASH];
    assert!(
        pods.iter()
            .all(|p| &p.meta().labels[POD_TEMPLATE_HASH] == hash)
    );
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_deployment_makes_no_new_replicaset_until_resumed() {
    let c = Cluster::start(&["replicaset", "deployment"]).await;
    c.apply_yaml::<Deployment>(&deploy_yaml("p", 2, "img:1", ""))
        .await;
    wait_complete(&c, "p", 2).await;
    let api = c.api::<Deployment>("default");
    api.patch_merge("p", &serde_json::json!({"spec": {"paused": true}}))
        .await
        .unwrap();
    set_image(&c, "p", "img:2").await;
    // Scaling still applies while paused, and the status follows the generation.
    api.patch_merge("p", &serde_json::json!({"spec": {"replicas": 3}}))
        .await
        .unwrap();
    let d = wait_for("paused status observed", T, || async {
        let d = api.get("p").await.ok()?;
        let s = d.status.clone()?;
        let cond = s.conditions.iter().find(|c| c.r#type == "Progressing")?;
        (s.observed_generation == d.meta().generation
            && cond.reason == "DeploymentPaused"
            && s.available_replicas == 3)
            .then_some(d)
    })
    .await;
    // The controller has looked at the paused deployment since that status reached its
    // cache, and has nothing left to do.
    c.settled(
        DEPLOYMENT,
        "default/p",
        0,
        |st: &client::Store<Deployment>| {
            st.get("default/p").is_some_and(|d| {
                d.status.as_ref().is_some_and(|s| {
                    s.observed_generation == d.meta().generation
                        && s.available_replicas == 3
                        && s.conditions
                            .iter()
                            .any(|c| c.r#type == "Progressing" && c.reason == "DeploymentPaused")
                })
            })
        },
    )
    .await;
    assert_eq!(
        owned_rs(&c, "p").await.len(),
        1,
        "no new ReplicaSet while paused"
    );
    assert!(
        active_pods(&c, "p")
            .await
            .iter()
            .all(|p| image_of(p) == "img:1")
    );
    assert_eq!(d.status.unwrap().replicas, 3);
    api.patch_merge("p", &serde_json::json!({"spec": {"paused": false}}))
        .await
        .unwrap();
    wait_complete(&c, "p", 3).await;
    assert_eq!(owned_rs(&c, "p").await.len(), 2);
    let pods = active_pods(&c, "p").await;
    assert_eq!(pods.len(), 3);
    assert!(pods.iter().all(|p| image_of(p) == "img:2"));
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recreate_stops_every_old_pod_before_starting_new_ones() {
    let c = Cluster::builder()
        .controllers(&["replicaset", "deployment"])
        .ready_delay(Duration::from_millis(100))
        .start()
        .await;
    c.apply_yaml::<Deployment>(&deploy_yaml("r", 3, "img:1", "strategy: {type: Recreate}"))
        .await;
    wait_complete(&c, "r", 3).await;
    let watch = PodWatch::start(&c, "r", |pods| {
        // Any old pod (terminating or not) alongside any new one breaks Recreate.
        let old = pods.values().filter(|p| image_of(p) == "img:1").count();
        let new = pods.values().filter(|p| image_of(p) == "img:2").count();
        (old > 0 && new > 0).then(|| format!("{old} old and {new} new pods at once"))
    })
    .await;
    set_image(&c, "r", "img:2").await;
    wait_complete(&c, "r", 3).await;
    assert!(watch.check() >= 6);
    assert!(
        active_pods(&c, "r")
            .await
            .iter()
            .all(|p| image_of(p) == "img:2")
    );
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revision_history_limit_deletes_the_oldest_replicasets() {
    let c = Cluster::start(&["replicaset", "deployment"]).await;
    let yaml = deploy_yaml("h", 1, "img:1", "revisionHistoryLimit: 1");
    c.apply_yaml::<Deployment>(&yaml).await;
    wait_complete(&c, "h", 1).await;
    for v in 2..=4 {
        set_image(&c, "h", &format!("img:{v}")).await;
        wait_complete(&c, "h", 1).await;
    }
    let rss = wait_for("two ReplicaSets left", T, || async {
        let rss = owned_rs(&c, "h").await;
        (rss.len() == 2).then_some(rss)
    })
    .await;
    let mut revs: Vec<String> = rss
        .iter()
        .map(|r| r.meta().annotations[REVISION].clone())
        .collect();
    revs.sort();
    assert_eq!(revs, ["3", "4"]);
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_deadline_marks_a_stuck_rollout_and_scaling_propagates() {
    let c = Cluster::start(&["replicaset", "deployment"]).await;
    let yaml = deploy_yaml("s", 2, "img:1", "progressDeadlineSeconds: 2");
    c.apply_yaml::<Deployment>(&yaml).await;
    wait_complete(&c, "s", 2).await;
    // Scale: the ReplicaSet follows.
    let api = c.api::<Deployment>("default");
    let mut scale = api.get_scale("s").await.unwrap();
    scale.spec.get_or_insert_with(Default::default).replicas = 4;
    api.replace_scale("s", &scale).await.unwrap();
    wait_complete(&c, "s", 4).await;
    assert_eq!(active_pods(&c, "s").await.len(), 4);
    // New pods never become ready: the rollout times out.
    c.kubelet().set_ready_delay(Duration::from_secs(3600));
    set_image(&c, "s", "img:2").await;
    let d = wait_for("ProgressDeadlineExceeded", T, || async {
        let d = api.get("s").await.ok()?;
        let cond = d
            .status
            .as_ref()?
            .conditions
            .iter()
            .find(|c| c.r#type == "Progressing")?
            .clone();
        (cond.status == "False" && cond.reason == "ProgressDeadlineExceeded").then_some(d)
    })
    .await;
    let s = d.status.unwrap();
    assert!(
        s.available_replicas >= 3,
        "availability kept: {}",
        s.available_replicas
    );
    assert!(s.unavailable_replicas > 0);
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scaling_mid_rollout_grows_both_replicasets_in_proportion() {
    let c = Cluster::start(&["replicaset", "deployment"]).await;
    let strategy =
        "strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}";
    c.apply_yaml::<Deployment>(&deploy_yaml("prop", 4, "img:1", strategy))
        .await;
    wait_complete(&c, "prop", 4).await;
    // The new pods never become ready: the rollout stalls at 4 old + 1 new.
    c.kubelet().set_ready_delay(Duration::from_secs(3600));
    set_image(&c, "prop", "img:2").await;
    let specs = |rss: &[ReplicaSet]| {
        let mut v: Vec<(String, i32)> = rss
            .iter()
            .map(|r| {
                let img = r
                    .spec
                    .as_ref()
                    .unwrap()
                    .template
                    .as_ref()
                    .unwrap()
                    .spec
                    .as_ref()
                    .unwrap()
                    .containers[0]
                    .image
                    .clone();
                (img, r.spec.as_ref().unwrap().replicas.unwrap_or(0))
            })
            .collect();
        v.sort();
        v
    };
    wait_for("rollout stalled at 4 + 1", T, || async {
        (specs(&owned_rs(&c, "prop").await) == [("img:1".to_string(), 4), ("img:2".to_string(), 1)])
            .then_some(())
    })
    .await;
    let api = c.api::<Deployment>("default");
    api.patch_merge("prop", &serde_json::json!({"spec": {"replicas": 8}}))
        .await
        .unwrap();
    // 8 + maxSurge 1 = 9 pods allowed, shared by size: the old ReplicaSet takes most.
    let got = wait_for("proportional scale-up", T, || async {
        let s = specs(&owned_rs(&c, "prop").await);
        (s.iter().map(|(_, r)| r).sum::<i32>() == 9).then_some(s)
    })
    .await;
    assert_eq!(got, [("img:1".to_string(), 8), ("img:2".to_string(), 1)]);
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lagging_cache_makes_no_extra_replicaset_nor_breaks_the_limits() {
    let c = Cluster::builder()
        .controllers(&["replicaset", "deployment"])
        .informer_delay(Duration::from_millis(300))
        .ready_delay(Duration::from_millis(100))
        .start()
        .await;
    c.apply_yaml::<Deployment>(&deploy_yaml("lag", 6, "img:1", ""))
        .await;
    wait_complete(&c, "lag", 6).await;
    // 6 replicas, 25%/25%: at most 8 pods, at least 5 ready.
    let watch = PodWatch::start(&c, "lag", |pods| {
        let active: Vec<&Pod> = pods.values().filter(|p| !is_terminating(p)).collect();
        let ready = active.iter().filter(|p| is_ready(p)).count();
        if active.len() > 8 {
            return Some(format!("{} active pods > 6 + 2", active.len()));
        }
        (ready < 5).then(|| format!("{ready} ready pods < 6 - 1"))
    })
    .await;
    set_image(&c, "lag", "img:2").await;
    wait_complete(&c, "lag", 6).await;
    assert!(watch.check() > 12);
    assert_eq!(
        owned_rs(&c, "lag").await.len(),
        2,
        "one ReplicaSet per template"
    );
    let pods = active_pods(&c, "lag").await;
    assert_eq!(pods.len(), 6);
    assert!(pods.iter().all(|p| image_of(p) == "img:2"));
    c.stop().await;
}
