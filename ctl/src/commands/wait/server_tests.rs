//! `wait` and `events` against an in-process apiserver: conditions set later by the test,
//! deletions, creations, timeouts.

use super::{WaitArgs, wait};
use crate::commands::Ctx;
use crate::errors::render_error;
use apiserver::testing::TestServer;
use client::Api;
use proto::Resource;
use proto::k8s::{ConfigMap, Pod};
use std::time::{Duration, Instant};

fn load<K: Resource>(yaml: &str) -> K {
    K::try_from_object(proto::manifest::load_documents(yaml).unwrap().remove(0)).unwrap()
}

fn args(targets: &[&str], for_: &str, timeout: &str) -> WaitArgs {
    WaitArgs {
        args: targets.iter().map(|s| s.to_string()).collect(),
        for_: for_.into(),
        timeout: timeout.into(),
        ..Default::default()
    }
}

async fn pod(client: &client::Client, name: &str) -> Api<Pod> {
    let pods = Api::<Pod>::namespaced(client.clone(), "default");
    let p: Pod = load(&format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: default}}\nspec: {{containers: [{{name: c, image: img}}]}}\n"
    ));
    pods.create(&p).await.unwrap();
    pods
}

#[tokio::test]
async fn wait_sees_a_condition_set_later_and_times_out_on_one_never_set() {
    let server = TestServer::start().await;
    let client = client::Client::connect(&server.url).await.unwrap();
    let ctx = Ctx::for_test(&server.url, None);
    let pods = pod(&client, "wait-cond").await;

    let writer = {
        let pods = pods.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            let patch = serde_json::json!({"status": {"phase": "Running",
                "conditions": [{"type": "Ready", "status": "True"}]}});
            pods.patch_merge_status("wait-cond", &patch).await.unwrap();
        })
    };
    let started = Instant::now();
    wait(&ctx, &args(&["pod/wait-cond"], "condition=Ready", "20s"))
        .await
        .unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "waited for the write"
    );
    writer.await.unwrap();
    // Met already: at once; jsonpath too.
    wait(
        &ctx,
        &args(&["pods", "wait-cond"], "condition=ready=TRUE", "1s"),
    )
    .await
    .unwrap();
    wait(
        &ctx,
        &args(&["pod/wait-cond"], "jsonpath={.status.phase}=Running", "1s"),
    )
    .await
    .unwrap();

    let started = Instant::now();
    let err = wait(
        &ctx,
        &args(&["pod/wait-cond"], "condition=Ready=false", "700ms"),
    )
    .await
    .unwrap_err();
    assert!(started.elapsed() >= Duration::from_millis(650));
    assert!(started.elapsed() < Duration::from_secs(5));
    // Reported per object, then exit 1 (Reported); the line was kubectl's.
    assert!(err.is::<crate::commands::Reported>(), "{err:#}");
    let err = super::wait_condition(
        ctx.api().await.unwrap(),
        &super::Target {
            kind: proto::resource::find_kind("po").unwrap(),
            namespace: "default".into(),
            name: "wait-cond".into(),
        },
        &super::condition::parse_for("condition=Ready=false").unwrap(),
        Duration::from_millis(300),
        tokio::time::Instant::now() + Duration::from_millis(300),
    )
    .await
    .unwrap_err();
    assert_eq!(
        render_error(&err),
        "error: timed out waiting for the condition on pods/wait-cond"
    );
    // A missing object is the server's NotFound.
    let err = wait(&ctx, &args(&["pod/none"], "condition=Ready", "1s"))
        .await
        .unwrap_err();
    assert_eq!(
        render_error(&err),
        "Error from server (NotFound): pods \"none\" not found"
    );
    // A selector that matches nothing.
    let ctx_sel = {
        let mut c = Ctx::for_test(&server.url, None);
        c.global.selector = Some("app=none".into());
        c
    };
    let err = wait(&ctx_sel, &args(&["pods"], "condition=Ready", "1s"))
        .await
        .unwrap_err();
    assert_eq!(render_error(&err), "error: no matching resources found");
}

#[tokio::test]
async fn wait_for_delete_and_for_create() {
    let server = TestServer::start().await;
    let client = client::Client::connect(&server.url).await.unwrap();
    let ctx = Ctx::for_test(&server.url, None);
    let cms = Api::<ConfigMap>::namespaced(client.clone(), "default");
    let cm: ConfigMap =
        load("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: wait-del, namespace: default}\n");
    cms.create(&cm).await.unwrap();

    let deleter = {
        let cms = cms.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            cms.delete("wait-del", &client::DeleteParams::default())
                .await
                .unwrap();
        })
    };
    let started = Instant::now();
    wait(&ctx, &args(&["configmap/wait-del"], "delete", "20s"))
        .await
        .unwrap();
    assert!(started.elapsed() >= Duration::from_millis(250));
    deleter.await.unwrap();
    // Gone already (or never there): nothing to wait for, as kubectl.
    wait(&ctx, &args(&["cm/wait-del"], "delete", "1s"))
        .await
        .unwrap();

    // Still there at the deadline.
    cms.create(&cm).await.unwrap();
    let err = wait(&ctx, &args(&["cm/wait-del"], "delete", "300ms"))
        .await
        .unwrap_err();
    assert!(err.is::<crate::commands::Reported>(), "{err:#}");
    // The same object named by its manifest.
    let dir = tempfile::Builder::new()
        .prefix("wait_for_delete_and_for_create")
        .tempdir()
        .unwrap();
    let file = dir.path().join("cm.yaml");
    std::fs::write(
        &file,
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: wait-del}\n",
    )
    .unwrap();
    let by_file = WaitArgs {
        files: vec![file.display().to_string()],
        ..args(&[], "jsonpath={.metadata.name}=wait-del", "1s")
    };
    wait(&ctx, &by_file).await.unwrap();
    let both = WaitArgs {
        files: vec![file.display().to_string()],
        ..args(&["cm/x"], "delete", "1s")
    };
    assert!(wait(&ctx, &both).await.is_err());

    // Created later.
    let creator = {
        let cms = cms.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            let cm: ConfigMap = load(
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: wait-new, namespace: default}\ndata: {k: v}\n",
            );
            cms.create(&cm).await.unwrap();
        })
    };
    wait(&ctx, &args(&["configmap/wait-new"], "create", "20s"))
        .await
        .unwrap();
    creator.await.unwrap();
    wait(&ctx, &args(&["cm/wait-new"], "jsonpath={.data.k}=v", "1s"))
        .await
        .unwrap();
    let err = wait(&ctx, &args(&["cm/wait-never"], "create", "300ms"))
        .await
        .unwrap_err();
    assert_eq!(
        render_error(&err),
        "error: timed out waiting for the condition"
    );
}
