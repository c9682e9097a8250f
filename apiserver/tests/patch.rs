//! Component tests of the patch types and server-side apply through the gRPC Patch call:
//! JSON patch, strategic merge patch by the API's merge keys, apply creating, conflicting,
//! forcing and removing, and managedFields recorded for named managers.

use apiserver::testing::TestServer;
use proto::k8s::*;
use proto::{ApiError, Reason};
use serde_json::json;

mod common;
use common::*;

fn req(resource: &str, name: &str, ty: &str, patch: &str) -> PatchRequest {
    PatchRequest {
        resource: resource.into(),
        namespace: "default".into(),
        name: name.into(),
        patch_type: ty.into(),
        patch: patch.into(),
        ..Default::default()
    }
}

async fn send(c: &mut Client, r: PatchRequest) -> Result<Object, ApiError> {
    c.patch(r).await.map(|r| r.into_inner()).map_err(err)
}

fn containers(o: &Object) -> Vec<(String, String)> {
    let j = o.to_json();
    j["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_string(),
                c["image"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn json_and_strategic_patches() {
    let server = TestServer::start().await;
    let mut c = connect(&server).await;
    create(&mut c, deployment("web", 1)).await.unwrap();

    // Strategic: containers merge by name, a sidecar is added beside the existing one.
    let patched = send(
        &mut c,
        req(
            "deployments",
            "web",
            "strategic",
            r#"{"spec":{"template":{"spec":{"containers":[{"name":"side","image":"busybox:2"}]}}}}"#,
        ),
    )
    .await
    .unwrap();
    let mut names = containers(&patched);
    names.sort();
    assert_eq!(
        names,
        [
            ("side".to_string(), "busybox:2".to_string()),
            ("web".to_string(), "busybox:1".to_string())
        ]
    );
    // A merge patch replaces the list whole.
    let merged = send(
        &mut c,
        req(
            "deployments",
            "web",
            "merge",
            r#"{"spec":{"template":{"spec":{"containers":[{"name":"only","image":"busybox:3"}]}}}}"#,
        ),
    )
    .await
    .unwrap();
    assert_eq!(
        containers(&merged),
        [("only".to_string(), "busybox:3".to_string())]
    );
    // JSON patch: test then replace; a failed test changes nothing (422 Invalid).
    let j = send(
        &mut c,
        req(
            "deployments",
            "web",
            "application/json-patch+json",
            r#"[{"op":"test","path":"/spec/replicas","value":1},{"op":"replace","path":"/spec/replicas","value":4}]"#,
        ),
    )
    .await
    .unwrap();
    assert_eq!(j.to_json()["spec"]["replicas"], json!(4));
    let e = send(
        &mut c,
        req(
            "deployments",
            "web",
            "json",
            r#"[{"op":"test","path":"/spec/replicas","value":1}]"#,
        ),
    )
    .await
    .unwrap_err();
    assert_eq!(e.reason, Reason::Invalid);
    // A strategic directive Kubernetes does not know is a bad request.
    let e = send(
        &mut c,
        req(
            "deployments",
            "web",
            "strategic",
            r#"{"spec":{"$patch":"nonsense"}}"#,
        ),
    )
    .await
    .unwrap_err();
    assert_eq!(e.reason, Reason::BadRequest);
}

#[tokio::test]
async fn unknown_fields_by_field_validation() {
    let server = TestServer::start().await;
    let mut c = connect(&server).await;
    create(&mut c, cm("default", "v", &[("k", "v")]))
        .await
        .unwrap();
    let body = r#"{"data":{"k":"w"},"bogus":1}"#;
    let mut strict = req("configmaps", "v", "merge", body);
    strict.field_validation = "Strict".into();
    let e = send(&mut c, strict).await.unwrap_err();
    assert_eq!(e.reason, Reason::BadRequest);
    assert!(
        e.message.contains("unknown field \"bogus\""),
        "{}",
        e.message
    );

    let mut warn = req("configmaps", "v", "merge", body);
    warn.field_validation = "Warn".into();
    let r = c.patch(warn).await.unwrap();
    let warning = r
        .metadata()
        .get("warning")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    assert!(warning.contains("unknown field"), "{warning:?}");
    assert_eq!(r.into_inner().to_json()["data"]["k"], json!("w"));
}

fn applied(replicas: i64, image: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\n  labels:\n    tier: web\nspec:\n  replicas: {replicas}\n  selector:\n    matchLabels:\n      app: api\n  template:\n    metadata:\n      labels:\n        app: api\n    spec:\n      containers:\n      - name: main\n        image: {image}\n"
    )
}

fn apply_req(manager: &str, body: String, force: bool) -> PatchRequest {
    PatchRequest {
        field_manager: manager.into(),
        force,
        ..req("deployments", "api", "apply", &body)
    }
}

fn managers(o: &Object) -> Vec<(String, String)> {
    let mut m: Vec<(String, String)> = o
        .meta()
        .managed_fields
        .iter()
        .map(|e| (e.manager.clone(), e.operation.clone()))
        .collect();
    m.sort();
    m
}

#[tokio::test]
async fn server_side_apply_creates_conflicts_forces_and_prunes() {
    let server = TestServer::start().await;
    let mut c = connect(&server).await;

    let made = send(&mut c, apply_req("alice", applied(2, "busybox:1"), false))
        .await
        .unwrap();
    assert_eq!(made.to_json()["spec"]["replicas"], json!(2));
    assert_eq!(managers(&made), [("alice".into(), "Apply".into())]);
    let fields = made.meta().managed_fields[0]
        .fields_v1
        .as_ref()
        .unwrap()
        .to_value();
    assert_eq!(fields["f:spec"]["f:replicas"], json!({}));
    assert!(
        fields["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"main\"}"]
            .is_object()
    );

    // An Update by another manager (a named merge patch) takes spec.replicas.
    let mut scale = req("deployments", "api", "merge", r#"{"spec":{"replicas":5}}"#);
    scale.field_manager = "scaler".into();
    let scaled = send(&mut c, scale).await.unwrap();
    assert_eq!(
        managers(&scaled),
        [
            ("alice".into(), "Apply".into()),
            ("scaler".into(), "Update".into())
        ]
    );

    // Re-applying another replica count conflicts; the same image change alone does not.
    let e = send(&mut c, apply_req("alice", applied(3, "busybox:1"), false))
        .await
        .unwrap_err();
    assert_eq!(e.reason, Reason::Conflict);
    assert_eq!(
        e.message,
        "Apply failed with 1 conflict: conflict with \"scaler\" using apps/v1: .spec.replicas"
    );
    let forced = send(&mut c, apply_req("alice", applied(3, "busybox:2"), true))
        .await
        .unwrap();
    assert_eq!(forced.to_json()["spec"]["replicas"], json!(3));
    assert_eq!(managers(&forced), [("alice".into(), "Apply".into())]);

    // A label alice stops applying goes.
    let without_label = applied(3, "busybox:2").replace("  labels:\n    tier: web\n", "");
    let pruned = send(&mut c, apply_req("alice", without_label, false))
        .await
        .unwrap();
    assert!(
        pruned.meta().labels.is_empty(),
        "{:?}",
        pruned.meta().labels
    );

    // Apply needs a manager and the object's own kind and name.
    let e = send(&mut c, apply_req("", applied(1, "x"), false))
        .await
        .unwrap_err();
    assert_eq!(e.reason, Reason::BadRequest);
    let e = send(
        &mut c,
        apply_req(
            "alice",
            applied(1, "x").replace("name: api", "name: other"),
            false,
        ),
    )
    .await
    .unwrap_err();
    assert_eq!(e.reason, Reason::BadRequest);
}

#[tokio::test]
async fn named_managers_are_recorded_on_create_and_update() {
    let server = TestServer::start().await;
    let mut c = connect(&server).await;
    let made = c
        .create(CreateRequest {
            object: Some(cm("default", "m", &[("a", "1")])),
            field_manager: "maker".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(managers(&made), [("maker".into(), "Update".into())]);
    let mut changed = made.clone();
    if let Some(object::Kind::ConfigMap(x)) = &mut changed.kind {
        x.data.insert("b".into(), "2".into());
    }
    let updated = c
        .update(UpdateRequest {
            object: Some(changed),
            field_manager: "editor".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        managers(&updated),
        [
            ("editor".into(), "Update".into()),
            ("maker".into(), "Update".into())
        ]
    );
    // Without a manager (this project's gRPC clients) nothing is recorded or lost.
    let plain = create(&mut c, cm("default", "plain", &[])).await.unwrap();
    assert!(plain.meta().managed_fields.is_empty());
    let again = update(&mut c, updated.clone(), "").await.unwrap();
    assert_eq!(managers(&again), managers(&updated));
}

#[tokio::test]
async fn the_scale_subresource_records_its_manager_and_apply_conflicts_with_it() {
    let server = TestServer::start().await;
    let mut c = connect(&server).await;
    send(&mut c, apply_req("alice", applied(2, "busybox:1"), false))
        .await
        .unwrap();

    let scale = c
        .get_scale(GetScaleRequest {
            resource: "deployments".into(),
            namespace: "default".into(),
            name: "api".into(),
        })
        .await
        .unwrap()
        .into_inner();
    let mut scale = Scale {
        spec: Some(ScaleSpec { replicas: 4 }),
        ..scale
    };
    scale.metadata.as_mut().unwrap().resource_version.clear();
    // A dry run answers as if scaled and writes nothing (it used to write).
    let dry = c
        .update_scale(UpdateScaleRequest {
            resource: "deployments".into(),
            scale: Some(Scale {
                spec: Some(ScaleSpec { replicas: 9 }),
                ..scale.clone()
            }),
            field_manager: "kubectl-scale".into(),
            dry_run: true,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(dry.spec.map(|s| s.replicas), Some(9));
    c.update_scale(UpdateScaleRequest {
        resource: "deployments".into(),
        scale: Some(scale),
        field_manager: "kubectl-scale".into(),
        dry_run: false,
    })
    .await
    .unwrap();
    let d = c
        .get(GetRequest {
            resource: "deployments".into(),
            namespace: "default".into(),
            name: "api".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        d.to_json()["spec"]["replicas"],
        json!(4),
        "not the dry run's 9"
    );
    let entry = d
        .meta()
        .managed_fields
        .iter()
        .find(|e| e.manager == "kubectl-scale")
        .expect("kubectl-scale recorded");
    assert_eq!(
        (entry.operation.as_str(), entry.subresource.as_str()),
        ("Update", "scale")
    );
    assert_eq!(
        entry.fields_v1.as_ref().unwrap().to_value(),
        json!({"f:spec": {"f:replicas": {}}})
    );

    // Applying another replica count now conflicts with the scaler, as in Kubernetes.
    let e = send(&mut c, apply_req("alice", applied(3, "busybox:1"), false))
        .await
        .unwrap_err();
    assert_eq!(e.reason, Reason::Conflict);
    assert_eq!(
        e.message,
        "Apply failed with 1 conflict: conflict with \"kubectl-scale\" with subresource \"scale\" using apps/v1: .spec.replicas"
    );
}
