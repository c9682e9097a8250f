//! Namespace deletion against an in-process apiserver with the fake kubelet: deleting a
//! namespace deletes everything in it (pods finish their graceful deletion on the node),
//! then the namespace itself; other namespaces are untouched.

mod common;

use client::{Api, DeleteParams};
use common::{Cluster, is_ready, list_pods, wait_for};
use proto::k8s::{ConfigMap, Namespace, Pod, Secret, Service};
use std::time::Duration;

const T: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_namespace_empties_it_then_removes_it() {
    let c = Cluster::start(&["namespace"]).await;
    c.namespace("team").await;
    c.namespace("keep").await;
    for ns in ["team", "keep"] {
        let _: ConfigMap = c
            .apply_yaml(&format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cfg, namespace: {ns}}}\ndata: {{a: b}}\n"
            ))
            .await;
        let _: Pod = c
            .apply_yaml(&format!(
                "apiVersion: v1\nkind: Pod\nmetadata: {{name: p, namespace: {ns}}}\nspec: {{containers: [{{name: c, image: busybox}}]}}\n"
            ))
            .await;
    }
    let _: Secret = c
        .apply_yaml("apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: team}\nstringData: {k: v}\n")
        .await;
    let _: Service = c
        .apply_yaml("apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: team}\nspec: {ports: [{port: 80}]}\n")
        .await;
    wait_for("the pods running", T, || async {
        let a = list_pods(&c.client, "team", "").await;
        let b = list_pods(&c.client, "keep", "").await;
        (a.iter().chain(&b).filter(|p| is_ready(p)).count() == 2).then_some(())
    })
    .await;

    let namespaces: Api<Namespace> = Api::all(c.client.clone());
    let marked = namespaces
        .delete("team", &DeleteParams::default())
        .await
        .unwrap();
    assert_eq!(marked.status.as_ref().unwrap().phase, "Terminating");
    wait_for("the namespace gone", T, || async {
        namespaces
            .get_opt("team")
            .await
            .ok()?
            .is_none()
            .then_some(())
    })
    .await;
    // Its contents went first (the namespace cannot go while anything is left in it).
    assert!(list_pods(&c.client, "team", "").await.is_empty());
    let cms: Api<ConfigMap> = c.api("team");
    assert!(
        cms.list(&Default::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    let secrets: Api<Secret> = c.api("team");
    assert!(
        secrets
            .list(&Default::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    // The other namespace is untouched.
    let keep_cms: Api<ConfigMap> = c.api("keep");
    assert!(keep_cms.get("cfg").await.is_ok());
    assert_eq!(list_pods(&c.client, "keep", "").await.len(), 1);
    assert!(namespaces.get("keep").await.is_ok());
    c.stop().await;
}
