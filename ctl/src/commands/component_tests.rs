//! The commands against an in-process apiserver (real gRPC, real store): the flows whose
//! correctness depends on what the server does with what `ctl` sends.

use super::Ctx;
use super::apply::{Outcome, apply_one};
use super::meta::{Changes, Field, label_one};
use crate::api::reason_of;
use crate::errors::render_error;
use crate::manifests::Doc;
use crate::merge::with_resource_version;
use apiserver::testing::TestServer;
use proto::Reason;
use proto::k8s::{PatchRequest, ScaleSpec};
use proto::resource::find_kind;
use serde_json::Value;

fn doc(yaml: &str) -> Doc {
    let mut objects = proto::manifest::load_documents(yaml).unwrap();
    Doc {
        source: "test.yaml".into(),
        object: objects.remove(0),
    }
}

fn deployment(image: &str, labels: &str, replicas: Option<i32>) -> Doc {
    let replicas = replicas
        .map(|r| format!("  replicas: {r}\n"))
        .unwrap_or_default();
    doc(&format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels: {{{labels}}}\nspec:\n{replicas}  selector:\n    matchLabels: {{app: web}}\n  template:\n    metadata:\n      labels: {{app: web}}\n    spec:\n      containers:\n      - name: web\n        image: {image}\n"
    ))
}

async fn live(ctx: &Ctx) -> Value {
    ctx.api()
        .await
        .unwrap()
        .get("deployments", "default", "web")
        .await
        .unwrap()
        .to_json()
}

#[tokio::test]
async fn apply_creates_then_is_unchanged_then_merges_three_ways() {
    let server = TestServer::start().await;
    let ctx = Ctx::for_test(&server.url, None);

    let (_, _, o) = apply_one(&ctx, deployment("nginx:1", "app: web, tier: front", None))
        .await
        .unwrap();
    assert_eq!(o, Outcome::Created);
    // Server defaulting (imagePullPolicy, strategy, ...) does not count as a change.
    let (_, _, o) = apply_one(&ctx, deployment("nginx:1", "app: web, tier: front", None))
        .await
        .unwrap();
    assert_eq!(o, Outcome::Unchanged);

    // `scale` changes replicas, which the manifest does not mention.
    let api = ctx.api().await.unwrap();
    let mut scale = api
        .get_scale("deployments", "default", "web")
        .await
        .unwrap();
    scale.spec = Some(ScaleSpec { replicas: 5 });
    api.update_scale("deployments", scale).await.unwrap();

    let (_, _, o) = apply_one(&ctx, deployment("nginx:2", "app: web", None))
        .await
        .unwrap();
    assert_eq!(o, Outcome::Configured);
    let d = live(&ctx).await;
    assert_eq!(
        d["metadata"]["labels"],
        serde_json::json!({"app": "web"}),
        "removed label is deleted"
    );
    assert_eq!(d["spec"]["replicas"], 5, "replicas set by scale are kept");
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:2"
    );
    assert_eq!(
        d["spec"]["strategy"]["type"], "RollingUpdate",
        "defaulted fields are kept"
    );

    let (_, _, o) = apply_one(&ctx, deployment("nginx:2", "app: web", None))
        .await
        .unwrap();
    assert_eq!(o, Outcome::Unchanged);

    // A namespace in the manifest that contradicts -n is refused before any request.
    let ctx_other = Ctx::for_test(&server.url, Some("other"));
    let with_ns = doc("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: prod\n");
    let err = apply_one(&ctx_other, with_ns).await.unwrap_err();
    assert!(render_error(&err).contains("does not match the namespace \"other\""));
}

#[tokio::test]
async fn a_stale_resource_version_in_the_patch_is_a_conflict() {
    let server = TestServer::start().await;
    let ctx = Ctx::for_test(&server.url, None);
    apply_one(&ctx, deployment("nginx:1", "app: web", Some(1)))
        .await
        .unwrap();
    let stale = live(&ctx).await["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    apply_one(&ctx, deployment("nginx:2", "app: web", Some(1)))
        .await
        .unwrap();

    let patch = with_resource_version(serde_json::json!({"spec": {"replicas": 9}}), &stale);
    let req = PatchRequest {
        resource: "deployments".into(),
        namespace: "default".into(),
        name: "web".into(),
        patch_type: "merge".into(),
        patch: patch.to_string(),
        ..Default::default()
    };
    let err = ctx.api().await.unwrap().patch(req).await.unwrap_err();
    assert_eq!(reason_of(&err), Some(Reason::Conflict));
    let line = render_error(&err);
    assert!(line.starts_with("Error from server (Conflict): "), "{line}");
    assert!(line.contains("the object has been modified"), "{line}");
    assert_eq!(live(&ctx).await["spec"]["replicas"], 1);
}

#[tokio::test]
async fn labels_respect_overwrite() {
    let server = TestServer::start().await;
    let ctx = Ctx::for_test(&server.url, None);
    apply_one(&ctx, deployment("nginx:1", "app: web", Some(1)))
        .await
        .unwrap();
    let kind = find_kind("deploy").unwrap();
    let set = |k: &str, v: &str| Changes {
        set: [(k.to_string(), v.to_string())].into(),
        remove: vec![],
    };

    assert!(
        label_one(
            &ctx,
            kind,
            "default",
            "web",
            &set("env", "prod"),
            Field::Labels,
            false
        )
        .await
        .unwrap()
    );
    let err = label_one(
        &ctx,
        kind,
        "default",
        "web",
        &set("env", "dev"),
        Field::Labels,
        false,
    )
    .await
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "'env' already has a value (prod), and --overwrite is false"
    );
    assert!(
        !label_one(
            &ctx,
            kind,
            "default",
            "web",
            &set("env", "prod"),
            Field::Labels,
            false
        )
        .await
        .unwrap()
    );
    assert!(
        label_one(
            &ctx,
            kind,
            "default",
            "web",
            &set("env", "dev"),
            Field::Labels,
            true
        )
        .await
        .unwrap()
    );
    let rm = Changes {
        set: Default::default(),
        remove: vec!["env".into()],
    };
    assert!(
        label_one(&ctx, kind, "default", "web", &rm, Field::Labels, false)
            .await
            .unwrap()
    );
    assert_eq!(
        live(&ctx).await["metadata"]["labels"],
        serde_json::json!({"app": "web"})
    );

    let missing = label_one(
        &ctx,
        kind,
        "default",
        "nope",
        &set("a", "b"),
        Field::Labels,
        false,
    )
    .await
    .unwrap_err();
    assert_eq!(
        render_error(&missing),
        "Error from server (NotFound): deployments.apps \"nope\" not found"
    );
}

#[tokio::test]
async fn apply_creates_a_node_with_its_status_and_reapplies_unchanged() {
    let server = TestServer::start().await;
    let ctx = Ctx::for_test(&server.url, None);
    let node = || {
        doc(
            "apiVersion: v1\nkind: Node\nmetadata:\n  name: n1\nstatus:\n  capacity: {cpu: \"4\", memory: 8Gi, pods: \"110\"}\n  allocatable: {cpu: \"4\", memory: 8Gi, pods: \"110\"}\n",
        )
    };
    let (_, _, o) = apply_one(&ctx, node()).await.unwrap();
    assert_eq!(o, Outcome::Created);
    let live = ctx
        .api()
        .await
        .unwrap()
        .get("nodes", "", "n1")
        .await
        .unwrap()
        .to_json();
    assert_eq!(live["status"]["capacity"]["cpu"], "4", "{live}");
    assert_eq!(live["status"]["allocatable"]["memory"], "8Gi", "{live}");
    let annotation = live["metadata"]["annotations"][crate::merge::LAST_APPLIED]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        !annotation.contains("status"),
        "last-applied holds no status: {annotation}"
    );
    let (_, _, o) = apply_one(&ctx, node()).await.unwrap();
    assert_eq!(o, Outcome::Unchanged);
}
