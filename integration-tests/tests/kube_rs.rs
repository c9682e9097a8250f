//! kube-rs, the Rust ecosystem's Kubernetes client, against the apiserver's HTTP API: the
//! real apiserver binary serving TLS, kube-rs configured from the `admin.kubeconfig` the
//! apiserver wrote (client certificate, cluster CA), typed objects from k8s-openapi. Every
//! response must decode into k8s-openapi's types, so a field rendered in a shape Kubernetes
//! does not use (an int64 as a string, a missing required field) fails here.
//!
//! Each test runs its own apiserver, so one broken verb does not hide the others.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use futures::{Stream, StreamExt, TryStreamExt};
use integration_tests::{Process, free_addr, spawn_tls_apiserver, wait_ready_tls};
use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec};
use k8s_openapi::api::core::v1::{ConfigMap, Container, Pod, PodSpec, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::api::{
    Api, DeleteParams, ListParams, ObjectMeta, Patch, PatchParams, PostParams, WatchEvent,
    WatchParams,
};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::core::GroupVersionKind;
use kube::discovery::{Discovery, Scope};
use kube::runtime::watcher;
use kube::{Client, Config, ResourceExt};
use serde_json::json;

/// How long any single call may take before the test fails instead of hanging.
const CALL: Duration = Duration::from_secs(30);

/// An apiserver of its own for one test, and a kube-rs client for its admin.
struct Server {
    client: Client,
    _process: Process,
    _dir: tempfile::TempDir,
}

async fn server(test: &str) -> Server {
    let dir = tempfile::Builder::new()
        .prefix(&format!("kube-rs-{test}-"))
        .tempdir()
        .expect("temp dir");
    let data = dir.path().join("apiserver");
    let mut process = spawn_tls_apiserver(&data, free_addr(), dir.path().join("apiserver.log"));
    wait_ready_tls(&data, &mut process, Duration::from_secs(60)).await;
    let client = kube_client(&data.join("admin.kubeconfig")).await;
    Server {
        client,
        _process: process,
        _dir: dir,
    }
}

/// kube-rs's own kubeconfig loader on our file: what a user pointing kube-rs at the cluster
/// gets.
async fn kube_client(path: &Path) -> Client {
    let kubeconfig = Kubeconfig::read_from(path).expect("kube-rs reads admin.kubeconfig");
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("kube-rs config from admin.kubeconfig");
    Client::try_from(config).expect("kube-rs client")
}

async fn within<T>(what: &str, f: impl Future<Output = T>) -> T {
    tokio::time::timeout(CALL, f)
        .await
        .unwrap_or_else(|_| panic!("{what}: no answer within {CALL:?}"))
}

fn meta(name: &str, labels: &[(&str, &str)]) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.into()),
        labels: (!labels.is_empty()).then(|| {
            labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        }),
        ..Default::default()
    }
}

fn config_map(name: &str, labels: &[(&str, &str)], data: &[(&str, &str)]) -> ConfigMap {
    ConfigMap {
        metadata: meta(name, labels),
        data: Some(
            data.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        ),
        ..Default::default()
    }
}

fn data(cm: &ConfigMap) -> BTreeMap<String, String> {
    cm.data.clone().unwrap_or_default()
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn pod(name: &str, labels: &[(&str, &str)]) -> Pod {
    Pod {
        metadata: meta(name, labels),
        spec: Some(PodSpec {
            containers: vec![Container {
                name: "app".into(),
                image: Some("busybox:1.36".into()),
                command: Some(vec!["sleep".into(), "3600".into()]),
                ..Default::default()
            }],
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn deployment(name: &str, replicas: i32) -> Deployment {
    let labels = [("app", name)];
    Deployment {
        metadata: meta(name, &labels),
        spec: Some(DeploymentSpec {
            replicas: Some(replicas),
            selector: LabelSelector {
                match_labels: Some(map(&labels)),
                ..Default::default()
            },
            template: PodTemplateSpec {
                metadata: Some(meta("", &labels)),
                spec: pod("", &[]).spec,
            },
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The Status of a failed call, or a panic naming what else came back.
fn api_error<T: std::fmt::Debug>(result: Result<T, kube::Error>, what: &str) -> kube::core::Status {
    match result {
        Err(kube::Error::Api(status)) => *status,
        other => panic!("{what}: expected an API error (metav1.Status), got {other:?}"),
    }
}

#[tokio::test]
async fn version_and_discovery() {
    let s = server("discovery").await;
    let version = within("GET /version", s.client.apiserver_version())
        .await
        .expect("GET /version decodes as version.Info");
    assert_eq!(version.major, "1", "{version:?}");
    assert_eq!(version.minor, "33", "{version:?}");
    assert!(version.git_version.starts_with("v1.33."), "{version:?}");

    let discovery = within("discovery", Discovery::new(s.client.clone()).run())
        .await
        .expect("kube-rs discovery of every group");
    let (resource, caps) = discovery
        .resolve_gvk(&GroupVersionKind::gvk("apps", "v1", "Deployment"))
        .expect("apps/v1 Deployment discovered");
    assert_eq!(resource.plural, "deployments");
    assert_eq!(caps.scope, Scope::Namespaced);
    assert!(
        caps.subresources
            .iter()
            .any(|(r, _)| r.plural == "deployments/scale" || r.plural == "scale"),
        "deployments/scale not discovered: {:?}",
        caps.subresources
            .iter()
            .map(|(r, _)| &r.plural)
            .collect::<Vec<_>>()
    );
    for verb in [
        "create", "delete", "get", "list", "patch", "update", "watch",
    ] {
        assert!(
            caps.supports_operation(verb),
            "deployments lack verb {verb}"
        );
    }
    // The untyped client on what discovery found: create and list a Deployment as a
    // DynamicObject.
    let dynamic: Api<kube::core::DynamicObject> =
        Api::namespaced_with(s.client.clone(), "default", &resource);
    let object: kube::core::DynamicObject =
        serde_json::from_value(serde_json::to_value(deployment("dyn", 1)).expect("to JSON"))
            .expect("DynamicObject");
    within(
        "dynamic create",
        dynamic.create(&PostParams::default(), &object),
    )
    .await
    .expect("create a Deployment as DynamicObject");
    let listed = within("dynamic list", dynamic.list(&ListParams::default()))
        .await
        .expect("list deployments as DynamicObject");
    assert_eq!(
        listed
            .items
            .iter()
            .map(|o| o.name_any())
            .collect::<Vec<_>>(),
        ["dyn"]
    );
    let types = listed.items[0]
        .types
        .clone()
        .expect("apiVersion and kind on list items");
    assert_eq!(
        (types.api_version.as_str(), types.kind.as_str()),
        ("apps/v1", "Deployment")
    );
    assert_eq!(listed.items[0].data["spec"]["replicas"], json!(1));

    let (pods, caps) = discovery
        .resolve_gvk(&GroupVersionKind::gvk("", "v1", "Pod"))
        .expect("v1 Pod discovered");
    assert_eq!(pods.plural, "pods");
    assert_eq!(caps.scope, Scope::Namespaced);
    let (nodes, caps) = discovery
        .resolve_gvk(&GroupVersionKind::gvk("", "v1", "Node"))
        .expect("v1 Node discovered");
    assert_eq!(nodes.plural, "nodes");
    assert_eq!(caps.scope, Scope::Cluster);
}

#[tokio::test]
async fn list_pods_and_configmaps() {
    let s = server("list").await;
    let pods: Api<Pod> = Api::default_namespaced(s.client.clone());
    let cms: Api<ConfigMap> = Api::default_namespaced(s.client.clone());
    let pp = PostParams::default();

    for (name, tier) in [("web-1", "web"), ("web-2", "web"), ("db-1", "db")] {
        let created = within(
            "create pod",
            pods.create(&pp, &pod(name, &[("tier", tier)])),
        )
        .await
        .unwrap_or_else(|e| panic!("create pod {name}: {e}"));
        assert_eq!(created.name_any(), name);
        assert_eq!(created.namespace().as_deref(), Some("default"));
        assert!(created.uid().is_some(), "created pod has no uid");
        assert!(
            created.resource_version().is_some(),
            "created pod has no resourceVersion"
        );
        assert!(
            created.creation_timestamp().is_some(),
            "no creationTimestamp"
        );
    }
    let web = within(
        "list pods",
        pods.list(&ListParams::default().labels("tier=web")),
    )
    .await
    .expect("list pods tier=web");
    let mut names: Vec<_> = web.items.iter().map(|p| p.name_any()).collect();
    names.sort();
    assert_eq!(names, ["web-1", "web-2"]);
    assert!(
        web.metadata
            .resource_version
            .as_deref()
            .is_some_and(|rv| !rv.is_empty()),
        "list without a resourceVersion: {:?}",
        web.metadata
    );
    let spec = web.items[0].spec.as_ref().expect("listed pod has a spec");
    assert_eq!(spec.containers[0].image.as_deref(), Some("busybox:1.36"));
    assert_eq!(
        spec.containers[0].command.as_deref(),
        Some(&["sleep".to_string(), "3600".to_string()][..])
    );
    // Defaulted as Kubernetes does.
    assert_eq!(spec.restart_policy.as_deref(), Some("Always"));
    assert_eq!(spec.termination_grace_period_seconds, Some(30));
    assert_eq!(spec.dns_policy.as_deref(), Some("ClusterFirst"));

    // Paging: limit 2 of 3 gives a continue token that yields the rest.
    let page = within("list limit", pods.list(&ListParams::default().limit(2)))
        .await
        .expect("list pods limit=2");
    assert_eq!(page.items.len(), 2);
    let token = page
        .metadata
        .continue_
        .clone()
        .expect("continue token for a partial list");
    let rest = within(
        "list continue",
        pods.list(&ListParams::default().limit(2).continue_token(&token)),
    )
    .await
    .expect("list pods continue");
    assert_eq!(rest.items.len(), 1);

    // Field selector.
    let one = within(
        "list fieldSelector",
        pods.list(&ListParams::default().fields("metadata.name=db-1")),
    )
    .await
    .expect("list pods by metadata.name");
    assert_eq!(
        one.items.iter().map(|p| p.name_any()).collect::<Vec<_>>(),
        ["db-1"]
    );

    within(
        "create configmap",
        cms.create(
            &pp,
            &config_map("settings", &[("app", "x")], &[("a", "1"), ("b", "two")]),
        ),
    )
    .await
    .expect("create configmap");
    let listed = within(
        "list configmaps",
        cms.list(&ListParams::default().labels("app=x")),
    )
    .await
    .expect("list configmaps");
    assert_eq!(listed.items.len(), 1);
    assert_eq!(data(&listed.items[0]), map(&[("a", "1"), ("b", "two")]));
    let got = within("get configmap", cms.get("settings"))
        .await
        .expect("get configmap");
    assert_eq!(got.labels().get("app").map(String::as_str), Some("x"));

    // Cluster-scoped: namespaces.
    let namespaces: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(s.client.clone());
    let all = within("list namespaces", namespaces.list(&ListParams::default()))
        .await
        .expect("list namespaces");
    let names: Vec<_> = all.items.iter().map(|n| n.name_any()).collect();
    assert!(
        names.iter().any(|n| n == "default") && names.iter().any(|n| n == "kube-system"),
        "{names:?}"
    );
    let default = all
        .items
        .iter()
        .find(|n| n.name_any() == "default")
        .expect("default");
    assert_eq!(
        default.status.as_ref().and_then(|s| s.phase.as_deref()),
        Some("Active")
    );

    let missing = api_error(
        within("get missing", cms.get("missing")).await,
        "get missing",
    );
    assert_eq!(missing.code, 404, "{missing:?}");
    assert_eq!(missing.reason, "NotFound", "{missing:?}");
    assert_eq!(missing.message, r#"configmaps "missing" not found"#);

    let conflict = api_error(
        within(
            "create twice",
            cms.create(&pp, &config_map("settings", &[], &[])),
        )
        .await,
        "create an existing name",
    );
    assert_eq!(conflict.code, 409, "{conflict:?}");
    assert_eq!(conflict.reason, "AlreadyExists", "{conflict:?}");
    assert_eq!(conflict.message, r#"configmaps "settings" already exists"#);

    let deleted = within("delete", cms.delete("settings", &DeleteParams::default()))
        .await
        .expect("delete configmap");
    // Kubernetes answers the object while it still stands (finalizers, grace), else a
    // Status Success naming it.
    deleted.either(
        |cm| assert_eq!(cm.name_any(), "settings"),
        |status| {
            assert!(status.is_success(), "{status:?}");
            assert_eq!(
                status.details.as_ref().map(|d| d.name.as_str()),
                Some("settings"),
                "{status:?}"
            );
        },
    );
    assert!(
        within("get deleted", cms.get_opt("settings"))
            .await
            .expect("get_opt")
            .is_none()
    );
}

/// Next event that is not a BOOKMARK.
async fn next_event<S>(stream: &mut S) -> WatchEvent<ConfigMap>
where
    S: Stream<Item = Result<WatchEvent<ConfigMap>, kube::Error>> + Unpin,
{
    loop {
        match within("watch event", stream.next()).await {
            Some(Ok(WatchEvent::Bookmark(_))) => continue,
            Some(Ok(event)) => return event,
            Some(Err(e)) => panic!("watch stream error: {e}"),
            None => panic!("watch stream ended"),
        }
    }
}

#[tokio::test]
async fn watch_receives_changes() {
    let s = server("watch").await;
    let cms: Api<ConfigMap> = Api::default_namespaced(s.client.clone());
    let pp = PostParams::default();

    // The raw watch, from a list's resourceVersion.
    let list = within("list", cms.list(&ListParams::default()))
        .await
        .expect("list");
    let rv = list
        .metadata
        .resource_version
        .expect("list resourceVersion");
    let mut stream = within("watch", cms.watch(&WatchParams::default().timeout(60), &rv))
        .await
        .expect("start watch")
        .boxed();
    within(
        "create",
        cms.create(&pp, &config_map("w", &[("w", "1")], &[("v", "1")])),
    )
    .await
    .expect("create");
    match next_event(&mut stream).await {
        WatchEvent::Added(cm) => {
            assert_eq!(cm.name_any(), "w");
            assert_eq!(data(&cm), map(&[("v", "1")]));
        }
        other => panic!("expected ADDED w, got {other:?}"),
    }
    within(
        "patch",
        cms.patch(
            "w",
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {"v": "2"}})),
        ),
    )
    .await
    .expect("merge patch");
    match next_event(&mut stream).await {
        WatchEvent::Modified(cm) => assert_eq!(data(&cm), map(&[("v", "2")])),
        other => panic!("expected MODIFIED w, got {other:?}"),
    }
    within("delete", cms.delete("w", &DeleteParams::default()))
        .await
        .expect("delete");
    match next_event(&mut stream).await {
        WatchEvent::Deleted(cm) => assert_eq!(cm.name_any(), "w"),
        other => panic!("expected DELETED w, got {other:?}"),
    }

    // A resourceVersion long compacted away or from the future is Kubernetes' 410 Expired
    // as an ERROR event or a 410 answer; kube-rs surfaces both as a Status.
    // (Not asserted: whether our store keeps history back to "1" is the store's policy.)

    // kube-runtime's watcher (list then watch, what controllers use), both initial list
    // strategies: paged list + watch, and the streaming list (sendInitialEvents).
    within(
        "create",
        cms.create(&pp, &config_map("before", &[("rt", "1")], &[])),
    )
    .await
    .expect("create before");
    for (strategy, config) in [
        ("ListWatch", watcher::Config::default().labels("rt=1")),
        (
            "StreamingList",
            watcher::Config::default().labels("rt=1").streaming_lists(),
        ),
    ] {
        let mut events = watcher(cms.clone(), config).boxed();
        let mut initial = Vec::new();
        loop {
            match within(strategy, events.try_next()).await {
                Ok(Some(watcher::Event::Init)) => {}
                Ok(Some(watcher::Event::InitApply(cm))) => initial.push(cm.name_any()),
                Ok(Some(watcher::Event::InitDone)) => break,
                other => panic!("{strategy}: during the initial list got {other:?}"),
            }
        }
        assert_eq!(initial, ["before"], "{strategy}: initial objects");
        let name = format!("after-{}", strategy.to_lowercase());
        within(
            "create",
            cms.create(&pp, &config_map(&name, &[("rt", "1")], &[("k", "v")])),
        )
        .await
        .expect("create after");
        match within(strategy, events.try_next()).await {
            Ok(Some(watcher::Event::Apply(cm))) => {
                assert_eq!(cm.name_any(), name, "{strategy}");
                assert_eq!(data(&cm), map(&[("k", "v")]), "{strategy}");
            }
            other => panic!("{strategy}: expected Apply({name}), got {other:?}"),
        }
        within("delete", cms.delete(&name, &DeleteParams::default()))
            .await
            .expect("delete after");
        match within(strategy, events.try_next()).await {
            Ok(Some(watcher::Event::Delete(cm))) => assert_eq!(cm.name_any(), name),
            other => panic!("{strategy}: expected Delete({name}), got {other:?}"),
        }
    }
}

#[tokio::test]
async fn patch_merge_json_strategic_and_apply() {
    let s = server("patch").await;
    let cms: Api<ConfigMap> = Api::default_namespaced(s.client.clone());
    let deploys: Api<Deployment> = Api::default_namespaced(s.client.clone());
    let pp = PostParams::default();
    within(
        "create",
        cms.create(&pp, &config_map("p", &[], &[("a", "1"), ("b", "1")])),
    )
    .await
    .expect("create");

    // Merge patch: set one key, delete another with null.
    let merged = within(
        "merge patch",
        cms.patch(
            "p",
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {"b": null, "c": "3"}})),
        ),
    )
    .await
    .expect("merge patch");
    assert_eq!(data(&merged), map(&[("a", "1"), ("c", "3")]));

    // JSON patch (RFC 6902).
    let ops = serde_json::from_value(json!([
        {"op": "test", "path": "/data/a", "value": "1"},
        {"op": "replace", "path": "/data/a", "value": "10"},
        {"op": "add", "path": "/metadata/labels", "value": {"patched": "json"}},
    ]))
    .expect("json patch document");
    let patched = within(
        "json patch",
        cms.patch("p", &PatchParams::default(), &Patch::<()>::Json(ops)),
    )
    .await
    .expect("json patch");
    assert_eq!(data(&patched), map(&[("a", "10"), ("c", "3")]));
    assert_eq!(
        patched.labels().get("patched").map(String::as_str),
        Some("json")
    );
    let failing =
        serde_json::from_value(json!([{"op": "test", "path": "/data/a", "value": "nope"}]))
            .expect("json patch document");
    let refused = api_error(
        within(
            "failing json patch",
            cms.patch("p", &PatchParams::default(), &Patch::<()>::Json(failing)),
        )
        .await,
        "a json patch whose test fails",
    );
    assert_eq!(refused.code, 422, "{refused:?}");

    // Strategic merge patch: containers merge by name, so adding one keeps the other.
    within(
        "create deployment",
        deploys.create(&pp, &deployment("sm", 1)),
    )
    .await
    .expect("create deployment");
    let strategic = within(
        "strategic patch",
        deploys.patch(
            "sm",
            &PatchParams::default(),
            &Patch::Strategic(json!({"spec": {"template": {"spec": {"containers": [
                {"name": "sidecar", "image": "busybox:1.37"}
            ]}}}})),
        ),
    )
    .await
    .expect("strategic merge patch");
    let containers = &strategic
        .spec
        .expect("spec")
        .template
        .spec
        .expect("pod spec")
        .containers;
    let mut names: Vec<_> = containers.iter().map(|c| c.name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["app", "sidecar"]);

    // Server-side apply of a typed object that does not exist yet creates it.
    let manager = PatchParams::apply("kube-rs-test");
    let applied = within(
        "apply",
        cms.patch(
            "applied",
            &manager,
            &Patch::Apply(config_map("applied", &[], &[("k", "v")])),
        ),
    )
    .await
    .expect("server-side apply (create)");
    assert_eq!(data(&applied), map(&[("k", "v")]));
    let fields = applied.metadata.managed_fields.clone().unwrap_or_default();
    let entry = fields
        .iter()
        .find(|f| f.manager.as_deref() == Some("kube-rs-test"))
        .unwrap_or_else(|| panic!("no managedFields entry for kube-rs-test: {fields:?}"));
    assert_eq!(entry.operation.as_deref(), Some("Apply"));
    assert_eq!(entry.api_version.as_deref(), Some("v1"));
    assert_eq!(entry.fields_type.as_deref(), Some("FieldsV1"));
    let owned = serde_json::to_value(&entry.fields_v1).expect("fieldsV1");
    assert!(
        owned.pointer("/f:data/f:k").is_some(),
        "kube-rs-test should own .data.k: {owned}"
    );

    // Apply again with a change and an added key: updated in place.
    let reapplied = within(
        "re-apply",
        cms.patch(
            "applied",
            &manager,
            &Patch::Apply(json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "applied"}, "data": {"k": "v2", "l": "w"}})),
        ),
    )
    .await
    .expect("server-side apply (update)");
    assert_eq!(data(&reapplied), map(&[("k", "v2"), ("l", "w")]));

    // Another manager applying the same field with another value conflicts...
    let other = PatchParams::apply("other-manager");
    let theirs = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "applied"}, "data": {"k": "theirs"}});
    let conflict = api_error(
        within(
            "conflicting apply",
            cms.patch("applied", &other, &Patch::Apply(&theirs)),
        )
        .await,
        "apply of a field another manager owns",
    );
    assert_eq!(conflict.code, 409, "{conflict:?}");
    assert_eq!(conflict.reason, "Conflict", "{conflict:?}");
    assert!(
        conflict.message.contains(r#"conflict with "kube-rs-test""#)
            && conflict.message.contains(".data.k"),
        "{conflict:?}"
    );
    // ...unless forced, which takes the field over.
    let forced = within(
        "forced apply",
        cms.patch("applied", &other.clone().force(), &Patch::Apply(&theirs)),
    )
    .await
    .expect("forced apply");
    assert_eq!(data(&forced), map(&[("k", "theirs"), ("l", "w")]));

    // Dry run changes nothing.
    within(
        "dry-run patch",
        cms.patch(
            "p",
            &PatchParams::default().dry_run(),
            &Patch::Merge(json!({"data": {"a": "dry"}})),
        ),
    )
    .await
    .expect("dry-run merge patch");
    let after = within("get", cms.get("p")).await.expect("get");
    assert_eq!(data(&after).get("a").map(String::as_str), Some("10"));
}

#[tokio::test]
async fn deployment_with_status_and_scale() {
    let s = server("deployment").await;
    let deploys: Api<Deployment> = Api::default_namespaced(s.client.clone());
    let created = within(
        "create",
        deploys.create(&PostParams::default(), &deployment("web", 2)),
    )
    .await
    .expect("create deployment");
    assert_eq!(created.metadata.generation, Some(1));
    let spec = created.spec.as_ref().expect("spec");
    // Kubernetes' defaults, decoded into k8s-openapi's types (IntOrString included).
    let strategy = spec.strategy.as_ref().expect("defaulted strategy");
    assert_eq!(strategy.type_.as_deref(), Some("RollingUpdate"));
    let rolling = strategy
        .rolling_update
        .as_ref()
        .expect("defaulted rollingUpdate");
    use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
    assert_eq!(rolling.max_surge, Some(IntOrString::String("25%".into())));
    assert_eq!(
        rolling.max_unavailable,
        Some(IntOrString::String("25%".into()))
    );
    assert_eq!(spec.revision_history_limit, Some(10));
    assert_eq!(spec.progress_deadline_seconds, Some(600));

    // What the deployment controller would write, through the status subresource.
    let status = json!({"status": {
        "observedGeneration": 1,
        "replicas": 2,
        "updatedReplicas": 2,
        "readyReplicas": 2,
        "availableReplicas": 2,
        "conditions": [{
            "type": "Available",
            "status": "True",
            "reason": "MinimumReplicasAvailable",
            "message": "Deployment has minimum availability.",
            "lastUpdateTime": "2026-01-02T03:04:05Z",
            "lastTransitionTime": "2026-01-02T03:04:05Z",
        }],
    }});
    within(
        "patch status",
        deploys.patch_status("web", &PatchParams::default(), &Patch::Merge(&status)),
    )
    .await
    .expect("merge patch of deployments/status");

    let got = within("get", deploys.get("web"))
        .await
        .expect("get deployment");
    let st = got.status.as_ref().expect("deployment status");
    assert_eq!(st.observed_generation, Some(1));
    assert_eq!(st.replicas, Some(2));
    assert_eq!(st.ready_replicas, Some(2));
    assert_eq!(st.available_replicas, Some(2));
    assert_eq!(st.updated_replicas, Some(2));
    let conditions = st.conditions.as_deref().unwrap_or_default();
    let available = conditions
        .iter()
        .find(|c| c.type_ == "Available")
        .unwrap_or_else(|| panic!("no Available condition: {conditions:?}"));
    assert_eq!(available.status, "True");
    assert_eq!(
        available.reason.as_deref(),
        Some("MinimumReplicasAvailable")
    );
    assert_eq!(
        available
            .last_transition_time
            .as_ref()
            .map(|t| t.0.to_string()),
        Some("2026-01-02T03:04:05Z".to_string())
    );
    // A status write does not bump the generation; the spec is untouched.
    assert_eq!(got.metadata.generation, Some(1));
    assert_eq!(got.spec.as_ref().and_then(|s| s.replicas), Some(2));

    let fetched = within("get status", deploys.get_status("web"))
        .await
        .expect("get deployments/status");
    assert_eq!(fetched.status.and_then(|s| s.ready_replicas), Some(2));

    // The scale subresource (autoscaling/v1 Scale).
    let scale = within("get scale", deploys.get_scale("web"))
        .await
        .expect("get deployments/scale");
    assert_eq!(scale.spec.as_ref().and_then(|s| s.replicas), Some(2));
    let scale_status = scale.status.as_ref().expect("scale status");
    assert_eq!(scale_status.replicas, 2);
    assert_eq!(scale_status.selector.as_deref(), Some("app=web"));
    within(
        "patch scale",
        deploys.patch_scale(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 5}})),
        ),
    )
    .await
    .expect("merge patch of deployments/scale");
    let scaled = within("get", deploys.get("web")).await.expect("get");
    assert_eq!(scaled.spec.as_ref().and_then(|s| s.replicas), Some(5));
    assert_eq!(scaled.metadata.generation, Some(2));
}

/// int-or-string fields keep their JSON type (an int stays an int: client-go reads a string
/// `"8080"` as a named port) and quantities their text.
#[tokio::test]
async fn int_or_string_and_quantities() {
    use k8s_openapi::api::core::v1::{ResourceRequirements, Service, ServicePort, ServiceSpec};
    use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
    use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

    let s = server("intstr").await;
    let pp = PostParams::default();
    let services: Api<Service> = Api::default_namespaced(s.client.clone());
    let service = Service {
        metadata: meta("svc", &[]),
        spec: Some(ServiceSpec {
            selector: Some(map(&[("app", "web")])),
            ports: Some(vec![
                ServicePort {
                    name: Some("http".into()),
                    port: 80,
                    target_port: Some(IntOrString::Int(8080)),
                    ..Default::default()
                },
                ServicePort {
                    name: Some("https".into()),
                    port: 443,
                    target_port: Some(IntOrString::String("https".into())),
                    ..Default::default()
                },
            ]),
            ..Default::default()
        }),
        ..Default::default()
    };
    within("create service", services.create(&pp, &service))
        .await
        .expect("create service");
    let got = within("get service", services.get("svc"))
        .await
        .expect("get service");
    let spec = got.spec.expect("service spec");
    let ports = spec.ports.expect("service ports");
    assert_eq!(ports[0].target_port, Some(IntOrString::Int(8080)));
    assert_eq!(
        ports[1].target_port,
        Some(IntOrString::String("https".into()))
    );
    assert_eq!(ports[0].protocol.as_deref(), Some("TCP"));
    assert_eq!(spec.type_.as_deref(), Some("ClusterIP"));
    assert!(
        spec.cluster_ip
            .as_deref()
            .is_some_and(|ip| ip.parse::<std::net::IpAddr>().is_ok()),
        "no clusterIP allocated: {:?}",
        spec.cluster_ip
    );

    let deploys: Api<Deployment> = Api::default_namespaced(s.client.clone());
    let mut d = deployment("intstr", 1);
    if let Some(spec) = d.spec.as_mut() {
        spec.strategy = Some(k8s_openapi::api::apps::v1::DeploymentStrategy {
            type_: Some("RollingUpdate".into()),
            rolling_update: Some(k8s_openapi::api::apps::v1::RollingUpdateDeployment {
                max_surge: Some(IntOrString::Int(1)),
                max_unavailable: Some(IntOrString::Int(0)),
            }),
        });
        if let Some(pod) = spec.template.spec.as_mut() {
            pod.containers[0].resources = Some(ResourceRequirements {
                limits: Some(
                    [
                        ("cpu".to_string(), Quantity("500m".into())),
                        ("memory".to_string(), Quantity("128Mi".into())),
                    ]
                    .into(),
                ),
                ..Default::default()
            });
        }
    }
    within("create deployment", deploys.create(&pp, &d))
        .await
        .expect("create deployment");
    let got = within("get deployment", deploys.get("intstr"))
        .await
        .expect("get deployment");
    let spec = got.spec.expect("spec");
    let rolling = spec
        .strategy
        .and_then(|s| s.rolling_update)
        .expect("rollingUpdate");
    assert_eq!(rolling.max_surge, Some(IntOrString::Int(1)));
    assert_eq!(rolling.max_unavailable, Some(IntOrString::Int(0)));
    let limits = spec.template.spec.expect("pod spec").containers[0]
        .resources
        .clone()
        .and_then(|r| r.limits)
        .expect("limits");
    assert_eq!(limits.get("cpu"), Some(&Quantity("500m".into())));
    assert_eq!(limits.get("memory"), Some(&Quantity("128Mi".into())));
}
