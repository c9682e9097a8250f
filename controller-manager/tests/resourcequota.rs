//! ResourceQuota controller against an in-process apiserver (whose admission charges the
//! quotas): status.hard follows spec, status.used is recounted from the namespace's objects
//! and released when they go; a Deployment over its quota shows Kubernetes' FailedCreate
//! events on its ReplicaSet and completes once the quota allows.

mod common;

use client::{Api, DeleteParams};
use common::{Cluster, list_pods, wait_for};
use proto::Resource;
use proto::k8s::{
    ConfigMap, Deployment, Event, Pod, ReplicaSet, ResourceQuota, ResourceQuotaStatus, Service,
};
use std::collections::BTreeMap;
use std::time::Duration;

const T: Duration = Duration::from_secs(30);

fn map(entries: &[(&str, &str)]) -> BTreeMap<String, String> {
    entries
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Waits until the quota's status is `used` (and its hard is its spec's).
async fn used_becomes(c: &Cluster, ns: &str, name: &str, used: &[(&str, &str)]) {
    let api: Api<ResourceQuota> = c.api(ns);
    let want = map(used);
    wait_for(&format!("{ns}/{name} used = {want:?}"), T, || async {
        let q = api.get(name).await.ok()?;
        let status = q.status.clone().unwrap_or_default();
        (status.used == want && Some(&status.hard) == q.spec.as_ref().map(|s| &s.hard))
            .then_some(())
    })
    .await;
}

fn pod(ns: &str, name: &str, cpu: &str) -> Pod {
    serde_json::from_value(serde_json::json!({
        "metadata": {"name": name, "namespace": ns},
        "spec": {"containers": [{"name": "app", "image": "busybox",
            "resources": {"requests": {"cpu": cpu}}}]},
    }))
    .expect("valid pod")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn used_is_recounted_and_released_when_objects_go() {
    // No kubelet: pods stay unbound, so deleting one removes it at once and a test may
    // write its phase.
    let c = Cluster::builder()
        .no_kubelet()
        .controllers(&["resourcequota"])
        .start()
        .await;
    c.namespace("rq").await;
    let quota: ResourceQuota = c
        .apply_yaml(
            r#"
apiVersion: v1
kind: ResourceQuota
metadata: {name: q, namespace: rq}
spec:
  hard: {pods: "3", requests.cpu: "2", count/configmaps: "5", count/deployments.apps: "2", services: "2"}
"#,
        )
        .await;
    let zero = [
        ("count/configmaps", "0"),
        ("count/deployments.apps", "0"),
        ("pods", "0"),
        ("requests.cpu", "0"),
        ("services", "0"),
    ];
    used_becomes(&c, "rq", "q", &zero).await;

    let pods: Api<Pod> = c.api("rq");
    pods.create(&pod("rq", "a", "500m")).await.expect("pod a");
    pods.create(&pod("rq", "b", "500m")).await.expect("pod b");
    let cm: ConfigMap = c
        .apply_yaml("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: rq}\n")
        .await;
    let deployment: Deployment = c
        .apply_yaml(
            r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: rq}
spec:
  replicas: 0
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: app, image: busybox, resources: {requests: {cpu: 100m}}}]}
"#,
        )
        .await;
    let svc: Service = c
        .apply_yaml(
            "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: rq}\nspec: {ports: [{port: 80}]}\n",
        )
        .await;
    used_becomes(
        &c,
        "rq",
        "q",
        &[
            ("count/configmaps", "1"),
            ("count/deployments.apps", "1"),
            ("pods", "2"),
            ("requests.cpu", "1"),
            ("services", "1"),
        ],
    )
    .await;

    // A finished pod and a deleted one no longer count; nor do the deleted others.
    let mut b = pods.get("b").await.expect("b");
    b.status.get_or_insert_with(Default::default).phase = "Succeeded".into();
    pods.update_status(&b).await.expect("b succeeded");
    pods.delete("a", &DeleteParams::default())
        .await
        .expect("delete a");
    let none = DeleteParams::default();
    c.api::<ConfigMap>("rq")
        .delete(&cm.meta().name, &none)
        .await
        .expect("delete configmap");
    c.api::<Deployment>("rq")
        .delete(&deployment.meta().name, &none)
        .await
        .expect("delete deployment");
    c.api::<Service>("rq")
        .delete(&svc.meta().name, &none)
        .await
        .expect("delete service");
    used_becomes(&c, "rq", "q", &zero).await;

    // A charge nothing stands behind (a create that failed after admission) is corrected
    // at the next sync (here the one a new hard limit brings), and the limit is mirrored.
    let api: Api<ResourceQuota> = c.api("rq");
    let mut stale = api.get("q").await.expect("quota");
    stale.status = Some(ResourceQuotaStatus {
        hard: quota.spec.clone().unwrap_or_default().hard,
        used: map(&[
            ("count/configmaps", "0"),
            ("count/deployments.apps", "0"),
            ("pods", "3"),
            ("requests.cpu", "2"),
            ("services", "0"),
        ]),
    });
    let mut raised = api.update_status(&stale).await.expect("stale status");
    raised
        .spec
        .as_mut()
        .expect("spec")
        .hard
        .insert("pods".into(), "4".into());
    api.update(&raised).await.expect("raise pods");
    used_becomes(&c, "rq", "q", &zero).await;
    assert_eq!(
        api.get("q").await.expect("quota").status.unwrap().hard["pods"],
        "4"
    );
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deployment_over_quota_shows_failed_create_until_the_quota_allows() {
    let c = Cluster::start(&["deployment", "replicaset", "resourcequota"]).await;
    c.namespace("shop").await;
    let _: ResourceQuota = c
        .apply_yaml(
            "apiVersion: v1\nkind: ResourceQuota\nmetadata: {name: pods, namespace: shop}\nspec: {hard: {pods: \"2\"}}\n",
        )
        .await;
    used_becomes(&c, "shop", "pods", &[("pods", "0")]).await;
    let _: Deployment = c
        .apply_yaml(
            r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: app, image: busybox}]}
"#,
        )
        .await;
    let rs_api: Api<ReplicaSet> = c.api("shop");
    let rs = wait_for("the Deployment's ReplicaSet", T, || async {
        rs_api.list(&Default::default()).await.ok()?.items.pop()
    })
    .await;
    let rs_name = rs.meta().name.clone();
    let events: Api<Event> = c.api("shop");
    let message = wait_for("a FailedCreate event on the ReplicaSet", T, || async {
        events
            .list(&Default::default())
            .await
            .ok()?
            .items
            .into_iter()
            .find(|e| {
                e.reason == "FailedCreate"
                    && e.involved_object
                        .as_ref()
                        .is_some_and(|o| o.kind == "ReplicaSet" && o.name == rs_name)
            })
            .map(|e| e.message)
    })
    .await;
    // `Error creating: pods "web-<hash>-<5>" is forbidden: exceeded quota: ...`.
    let name = message
        .strip_prefix("Error creating: pods \"")
        .and_then(|m| m.split_once('"'))
        .map(|(n, _)| n.to_string())
        .unwrap_or_else(|| panic!("unexpected message: {message}"));
    assert!(
        name.starts_with(&format!("{rs_name}-")) && name.len() == rs_name.len() + 6,
        "{message}"
    );
    assert_eq!(
        message,
        format!(
            "Error creating: pods {name:?} is forbidden: exceeded quota: pods, requested: pods=1, used: pods=2, limited: pods=2"
        )
    );
    assert_eq!(list_pods(&c.client, "shop", "app=web").await.len(), 2);
    used_becomes(&c, "shop", "pods", &[("pods", "2")]).await;

    // Room for one more: the ReplicaSet's retry creates it.
    let api: Api<ResourceQuota> = c.api("shop");
    let mut q = api.get("pods").await.expect("quota");
    q.spec
        .as_mut()
        .expect("spec")
        .hard
        .insert("pods".into(), "3".into());
    api.update(&q).await.expect("raise");
    wait_for("the third pod", T, || async {
        (list_pods(&c.client, "shop", "app=web").await.len() == 3).then_some(())
    })
    .await;
    used_becomes(&c, "shop", "pods", &[("pods", "3")]).await;
    c.stop().await;
}
