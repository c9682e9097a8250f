//! Rollout history of DaemonSets and StatefulSets (ControllerRevisions) against an
//! in-process apiserver and the fake kubelet.

mod common;

use client::{Api, ListParams};
use common::{Cluster, is_ready, is_terminating, list_pods, wait_for};
use controller_manager::history::{REVISION_HASH, template_of};
use proto::Resource;
use proto::k8s::{ControllerRevision, DaemonSet, Pod, StatefulSet};
use std::time::Duration;

const T: Duration = Duration::from_secs(30);

/// (name, revision, hash label) of the revisions of `app`, by revision.
async fn revisions(c: &Cluster, app: &str) -> Vec<(String, i32, String)> {
    let api: Api<ControllerRevision> = c.api("default");
    let list = api
        .list(&ListParams::labels(&format!("app={app}")))
        .await
        .unwrap();
    let mut v: Vec<_> = list
        .items
        .iter()
        .map(|r| {
            (
                r.meta().name.clone(),
                r.revision,
                r.meta()
                    .labels
                    .get(REVISION_HASH)
                    .cloned()
                    .unwrap_or_default(),
            )
        })
        .collect();
    v.sort_by_key(|r| r.1);
    v
}

/// The revision labels of the live pods of `app`, once every one is ready.
async fn ready_pod_revisions(c: &Cluster, app: &str, count: usize) -> Option<Vec<String>> {
    let pods: Vec<Pod> = list_pods(&c.client, "default", &format!("app={app}"))
        .await
        .into_iter()
        .filter(|p| !is_terminating(p))
        .collect();
    if pods.len() != count || !pods.iter().all(is_ready) {
        return None;
    }
    let mut v: Vec<String> = pods
        .iter()
        .map(|p| {
            p.meta()
                .labels
                .get(REVISION_HASH)
                .cloned()
                .unwrap_or_default()
        })
        .collect();
    v.sort();
    Some(v)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn daemonset_revisions_follow_the_template_reuse_on_rollback_and_are_truncated() {
    let c = Cluster::builder()
        .nodes(2)
        .controllers(&["daemonset"])
        .start()
        .await;
    let ds: DaemonSet = c
        .apply_yaml(
            "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: agent, namespace: default}\nspec:\n  revisionHistoryLimit: 1\n  selector: {matchLabels: {app: agent}}\n  template:\n    metadata: {labels: {app: agent}}\n    spec: {containers: [{name: c, image: busybox}]}\n",
        )
        .await;
    let first = wait_for("revision 1 and its pods", T, || async {
        let revs = revisions(&c, "agent").await;
        let pods = ready_pod_revisions(&c, "agent", 2).await?;
        (revs.len() == 1 && revs[0].1 == 1 && pods.iter().all(|h| *h == revs[0].2))
            .then(|| revs[0].clone())
    })
    .await;
    assert_eq!(first.0, format!("agent-{}", first.2));
    let api: Api<ControllerRevision> = c.api("default");
    let stored = api.get(&first.0).await.unwrap();
    let owner = &stored.meta().owner_references[0];
    assert_eq!(
        (owner.kind.as_str(), owner.uid.as_str(), owner.controller),
        ("DaemonSet", ds.meta().uid.as_str(), Some(true))
    );
    let data = stored.data.as_ref().unwrap().to_value();
    assert_eq!(data["spec"]["template"]["$patch"], "replace");
    assert_eq!(
        template_of(&stored),
        ds.spec.as_ref().unwrap().template.clone()
    );

    // A new template: revision 2, every pod moves to it.
    let sets: Api<DaemonSet> = c.api("default");
    let v2 = serde_json::json!({"spec": {"template": {"metadata": {"annotations": {"v": "2"}}}}});
    sets.patch_merge("agent", &v2).await.unwrap();
    let second = wait_for("revision 2 rolled out", T, || async {
        let revs = revisions(&c, "agent").await;
        let pods = ready_pod_revisions(&c, "agent", 2).await?;
        (revs.len() == 2 && revs[1].1 == 2 && pods.iter().all(|h| *h == revs[1].2))
            .then(|| revs[1].clone())
    })
    .await;
    assert_ne!(second.2, first.2);

    // Back to the first template (a rollback): revision 1 is reused as revision 3.
    let back = serde_json::json!({"spec": {"template": {"metadata": {"annotations": null}}}});
    sets.patch_merge("agent", &back).await.unwrap();
    wait_for(
        "the first revision renumbered 3 and rolled out",
        T,
        || async {
            let revs = revisions(&c, "agent").await;
            let pods = ready_pod_revisions(&c, "agent", 2).await?;
            (revs.len() == 2
                && revs[1] == (first.0.clone(), 3, first.2.clone())
                && pods.iter().all(|h| *h == first.2))
            .then_some(())
        },
    )
    .await;

    // History limit 0: the unused revision 2 goes.
    sets.patch_merge(
        "agent",
        &serde_json::json!({"spec": {"revisionHistoryLimit": 0}}),
    )
    .await
    .unwrap();
    wait_for("revision 2 deleted", T, || async {
        let revs = revisions(&c, "agent").await;
        (revs.len() == 1 && revs[0].0 == first.0).then_some(())
    })
    .await;
    // Level-triggered: another sync of the settled DaemonSet writes no revision.
    let rvs = |l: Vec<ControllerRevision>| -> Vec<String> {
        l.iter()
            .map(|r| r.meta().resource_version.clone())
            .collect()
    };
    let before_rvs = rvs(api.list(&Default::default()).await.unwrap().items);
    let before = c.reconciles("daemonset", "default/agent");
    let touched = sets
        .patch_merge(
            "agent",
            &serde_json::json!({"metadata": {"labels": {"touched": "1"}}}),
        )
        .await
        .unwrap();
    c.settled(
        "daemonset",
        "default/agent",
        before,
        common::since_rv::<DaemonSet>("default/agent", &touched.meta().resource_version),
    )
    .await;
    assert_eq!(
        rvs(api.list(&Default::default()).await.unwrap().items),
        before_rvs
    );
    // The current revision deleted by hand: the DaemonSet writes it again (the history
    // being empty then, as revision 1).
    api.delete(&first.0, &Default::default()).await.unwrap();
    wait_for("the current revision written again", T, || async {
        let revs = revisions(&c, "agent").await;
        (revs.len() == 1 && revs[0].0 == first.0 && revs[0].1 == 1).then_some(())
    })
    .await;
    // Status reports every pod updated.
    wait_for("status updated 2/2", T, || async {
        let s = sets.get("agent").await.ok()?.status?;
        (s.updated_number_scheduled == 2 && s.desired_number_scheduled == 2).then_some(())
    })
    .await;
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statefulset_partition_keeps_and_recreates_the_current_revision() {
    let c = Cluster::builder()
        .nodes(1)
        .controllers(&["statefulset"])
        .start()
        .await;
    c.apply_yaml::<StatefulSet>(
        "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: web, namespace: default}\nspec:\n  replicas: 3\n  serviceName: web\n  updateStrategy: {type: RollingUpdate, rollingUpdate: {partition: 2}}\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: c, image: busybox}]}\n",
    )
    .await;
    let sets: Api<StatefulSet> = c.api("default");
    let current = wait_for("three pods at revision 1", T, || async {
        let revs = revisions(&c, "web").await;
        let pods = ready_pod_revisions(&c, "web", 3).await?;
        let s = sets.get("web").await.ok()?.status?;
        (revs.len() == 1
            && pods.iter().all(|r| *r == revs[0].0)
            && s.current_revision == revs[0].0
            && s.update_revision == revs[0].0)
            .then(|| revs[0].0.clone())
    })
    .await;

    let v2 = serde_json::json!({"spec": {"template": {"metadata": {"annotations": {"v": "2"}}}}});
    sets.patch_merge("web", &v2).await.unwrap();
    let update = wait_for("web-2 updated, web-0 and web-1 kept", T, || async {
        let revs = revisions(&c, "web").await;
        let pods = ready_pod_revisions(&c, "web", 3).await?;
        let s = sets.get("web").await.ok()?.status?;
        let update = revs.get(1)?.0.clone();
        (revs.len() == 2
            && revs[1].1 == 2
            && pods.iter().filter(|r| **r == current).count() == 2
            && pods.iter().filter(|r| **r == update).count() == 1
            && s.current_revision == current
            && s.update_revision == update
            && s.updated_replicas == 1)
            .then_some(update)
    })
    .await;
    let pods: Api<Pod> = c.api("default");
    assert_eq!(
        pods.get("web-2").await.unwrap().meta().annotations["v"],
        "2"
    );

    // web-0 deleted: it comes back at the current revision, from the current template.
    let uid = pods.get("web-0").await.unwrap().meta().uid.clone();
    pods.delete("web-0", &Default::default()).await.unwrap();
    let back = wait_for("web-0 recreated", T, || async {
        let p = pods.get("web-0").await.ok()?;
        (p.meta().uid != uid && !is_terminating(&p)).then_some(p)
    })
    .await;
    assert_eq!(back.meta().labels[REVISION_HASH], current);
    assert!(
        !back.meta().annotations.contains_key("v"),
        "the old template"
    );

    // Partition 0: the rest rolls, and the update revision becomes current.
    sets.patch_merge(
        "web",
        &serde_json::json!({"spec": {"updateStrategy": {"rollingUpdate": {"partition": 0}}}}),
    )
    .await
    .unwrap();
    wait_for("all at the update revision", T, || async {
        let pods = ready_pod_revisions(&c, "web", 3).await?;
        let s = sets.get("web").await.ok()?.status?;
        (pods.iter().all(|r| *r == update) && s.current_revision == update).then_some(())
    })
    .await;
    c.stop().await;
}
