//! `Api<K>` against a real in-process apiserver.

mod common;

use apiserver::testing::TestServer;
use client::{Api, DeleteParams, ListParams, Reason, WatchEvent, WatchParams};
use common::{config_map, connect, namespace};
use futures::StreamExt;
use proto::Resource;
use proto::k8s::ConfigMap;
use std::time::Duration;

#[tokio::test]
async fn crud_conflict_patch_and_watch() {
    let server = TestServer::start().await;
    let client = connect(&server.url).await;
    namespace(&client, "api-test").await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "api-test");

    assert!(cms.get_opt("a").await.unwrap().is_none());
    let created = cms
        .create(&config_map("a", &[("app", "web")]))
        .await
        .unwrap();
    assert_eq!(created.meta().namespace, "api-test");
    assert!(!created.meta().uid.is_empty() && !created.meta().resource_version.is_empty());
    cms.create(&config_map("b", &[("app", "db")]))
        .await
        .unwrap();
    let err = cms.create(&config_map("a", &[])).await.unwrap_err();
    assert_eq!(err.reason, Reason::AlreadyExists);

    let web = cms.list(&ListParams::labels("app=web")).await.unwrap();
    assert_eq!(web.items.len(), 1);
    assert_eq!(web.items[0].meta().name, "a");
    assert!(!web.resource_version.is_empty());

    let mut stream = cms
        .watch(&WatchParams {
            resource_version: web.resource_version.clone(),
            ..Default::default()
        })
        .await
        .unwrap();

    let mut changed = created.clone();
    changed.data.insert("k".into(), "v2".into());
    let updated = cms.update(&changed).await.unwrap();
    assert_eq!(updated.data["k"], "v2");
    // The first read's resourceVersion is stale now: the write must be refused.
    changed.data.insert("k".into(), "v3".into());
    assert_eq!(
        cms.update(&changed).await.unwrap_err().reason,
        Reason::Conflict
    );

    let patched = cms
        .patch_merge("a", &serde_json::json!({"data": {"extra": "x"}}))
        .await
        .unwrap();
    assert_eq!(
        (patched.data["k"].as_str(), patched.data["extra"].as_str()),
        ("v2", "x")
    );

    cms.delete("a", &DeleteParams::default()).await.unwrap();
    assert_eq!(cms.get("a").await.unwrap_err().reason, Reason::NotFound);

    let mut seen = Vec::new();
    while seen.len() < 3 {
        let ev = tokio::time::timeout(Duration::from_secs(10), stream.next())
            .await
            .expect("watch event in time")
            .expect("stream open")
            .expect("no watch error");
        match ev {
            WatchEvent::Modified(o) => seen.push(format!("modified {}", o.meta().name)),
            WatchEvent::Deleted(o) => seen.push(format!("deleted {}", o.meta().name)),
            WatchEvent::Added(o) => seen.push(format!("added {}", o.meta().name)),
            WatchEvent::Bookmark(_) => {}
        }
    }
    assert_eq!(seen, ["modified a", "modified a", "deleted a"]);

    let all: Api<ConfigMap> = Api::all(client);
    let everywhere = all.list(&ListParams::default()).await.unwrap();
    assert!(everywhere.items.iter().any(|c| c.meta().name == "b"));
}

#[tokio::test]
async fn scale_subresource_round_trips() {
    use proto::k8s::{
        Container, Deployment, DeploymentSpec, LabelSelector, PodSpec, PodTemplateSpec,
    };
    let server = TestServer::start().await;
    let client = connect(&server.url).await;
    namespace(&client, "scale").await;
    let deploys: Api<Deployment> = Api::namespaced(client.clone(), "scale");
    let labels: std::collections::BTreeMap<String, String> =
        [("app".to_string(), "web".to_string())].into();
    let mut d = Deployment::default();
    d.meta_mut().name = "web".into();
    d.spec = Some(DeploymentSpec {
        replicas: Some(1),
        selector: Some(LabelSelector {
            match_labels: labels.clone().into_iter().collect(),
            ..Default::default()
        }),
        template: Some(PodTemplateSpec {
            metadata: Some(proto::k8s::ObjectMeta {
                labels: labels.into_iter().collect(),
                ..Default::default()
            }),
            spec: Some(PodSpec {
                containers: vec![Container {
                    name: "c".into(),
                    image: "busybox".into(),
                    ..Default::default()
                }],
                ..Default::default()
            }),
        }),
        ..Default::default()
    });
    deploys.create(&d).await.unwrap();
    let mut scale = deploys.get_scale("web").await.unwrap();
    assert_eq!(scale.spec.as_ref().map(|s| s.replicas), Some(1));
    scale.spec.get_or_insert_with(Default::default).replicas = 4;
    let after = deploys.replace_scale("web", &scale).await.unwrap();
    assert_eq!(after.spec.map(|s| s.replicas), Some(4));
    assert_eq!(
        deploys.get("web").await.unwrap().spec.unwrap().replicas,
        Some(4)
    );
}
