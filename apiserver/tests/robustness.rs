//! Hostile-input tests: the apiserver in-process on a temporary sled store, attacked through
//! real gRPC with every malformed, oversized, forged or racing request we could think of.
//! Each attack asserts three things: the call fails with a reason a client can act on and a
//! one-line message naming the cause; the server still serves afterwards; nothing partial
//! was stored (objects and their resourceVersions are as before).
//!
//! Each test here that once found a bug now guards its fix.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use apiserver::registry::MAX_OBJECT_BYTES;
use apiserver::testing::TestServer;
use futures::StreamExt;
use prost::Message;
use proto::k8s::*;
use proto::{ApiError, Reason, Resource};
use tonic::transport::Channel;

mod common;
use common::*;

// ---------------------------------------------------------------------------------------
// Helpers

async fn patch(
    c: &mut Client,
    res: &str,
    ns: &str,
    name: &str,
    body: &str,
    sub: &str,
) -> Result<Object, ApiError> {
    c.patch(PatchRequest {
        resource: res.into(),
        namespace: ns.into(),
        name: name.into(),
        patch_type: "merge".into(),
        patch: body.into(),
        subresource: sub.into(),
        dry_run: false,
        ..Default::default()
    })
    .await
    .map(|r| r.into_inner())
    .map_err(err)
}

async fn delete(c: &mut Client, req: DeleteRequest) -> Result<Object, ApiError> {
    c.delete(req).await.map(|r| r.into_inner()).map_err(err)
}

fn list_req(resource: &str, ns: &str) -> ListRequest {
    ListRequest {
        resource: resource.into(),
        namespace: ns.into(),
        ..Default::default()
    }
}

async fn bind(c: &mut Client, binding: Option<Binding>) -> Result<(), ApiError> {
    c.bind(BindRequest { binding })
        .await
        .map(|_| ())
        .map_err(err)
}

fn binding(ns: &str, name: &str, node: &str) -> Binding {
    Binding {
        metadata: Some(ObjectMeta {
            name: name.into(),
            namespace: ns.into(),
            ..Default::default()
        }),
        target: Some(ObjectReference {
            kind: "Node".into(),
            name: node.into(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn rv(o: &Object) -> u64 {
    o.meta()
        .resource_version
        .parse()
        .expect("numeric resourceVersion")
}

fn cm_data(o: &Object) -> BTreeMap<String, String> {
    match &o.kind {
        Some(object::Kind::ConfigMap(c)) => c.data.clone(),
        other => panic!("expected a ConfigMap, got {other:?}"),
    }
}

/// A message a person can read in a log line: present, one line, not a Debug dump, and of
/// a size a gRPC trailer carries comfortably.
fn assert_one_line(message: &str) {
    assert!(!message.trim().is_empty(), "empty error message");
    assert!(
        !message.contains('\n') && !message.contains('\r'),
        "error message spans lines: {message:?}"
    );
    for dump in ["Status {", "ApiError {", "Error {", "Some(", "code: "] {
        assert!(
            !message.contains(dump),
            "error message looks like a Debug dump: {message:?}"
        );
    }
}

/// The call failed with one of `reasons` and a clean message that mentions `cause`
/// (case-insensitively).
#[track_caller]
fn assert_refused<T: std::fmt::Debug>(r: Result<T, ApiError>, reasons: &[Reason], cause: &str) {
    refused_for("", r, reasons, cause)
}

/// `assert_refused`, naming the input (`what`) in the failure.
#[track_caller]
fn refused_for<T: std::fmt::Debug>(
    what: &str,
    r: Result<T, ApiError>,
    reasons: &[Reason],
    cause: &str,
) {
    let e = match r {
        Ok(v) => panic!("{what}: expected {reasons:?} naming {cause:?}, got success: {v:?}"),
        Err(e) => e,
    };
    assert!(
        reasons.contains(&e.reason),
        "{what}: expected {reasons:?}, got {:?}: {}",
        e.reason,
        e.message
    );
    assert_one_line(&e.message);
    assert!(
        e.message.to_lowercase().contains(&cause.to_lowercase()),
        "{what}: message does not name the cause {cause:?}: {}",
        e.message
    );
}

/// name -> resourceVersion of every object of `resource` in `ns` ("" = all namespaces).
async fn snapshot(c: &mut Client, resource: &str, ns: &str) -> BTreeMap<String, String> {
    list(c, list_req(resource, ns))
        .await
        .expect("list for a snapshot")
        .items
        .iter()
        .map(|o| {
            let m = o.meta();
            (
                format!("{}/{}", m.namespace, m.name),
                m.resource_version.clone(),
            )
        })
        .collect()
}

/// A fresh connection can still read and write: the server survived.
async fn assert_serves(server: &TestServer) {
    let mut c = connect(server).await;
    get(&mut c, "namespaces", "", "default")
        .await
        .expect("server still answers a get");
    list(&mut c, list_req("configmaps", ""))
        .await
        .expect("server still answers a list");
    let name = format!("alive-{}", rand_suffix());
    create(&mut c, cm("default", &name, &[]))
        .await
        .expect("server still accepts a write");
    delete(
        &mut c,
        DeleteRequest {
            resource: "configmaps".into(),
            namespace: "default".into(),
            name,
            ..Default::default()
        },
    )
    .await
    .expect("server still accepts a delete");
}

fn rand_suffix() -> String {
    format!(
        "{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos()
            & 0xffff_ffff
    )
}

// ---------------------------------------------------------------------------------------
// Objects without a kind, with odd type meta, with bad names and scopes

#[tokio::test]
async fn objects_without_a_kind_are_bad_requests() {
    let server = TestServer::start().await;
    let mut c = connect(&server).await;
    let before = snapshot(&mut c, "configmaps", "").await;

    let r = c
        .create(CreateRequest {
            object: None,
            dry_run: false,
            ..Default::default()
        })
        .await
        .map_err(err);
    assert_refused(r, &[Reason::BadRequest], "object");
    assert_refused(
        create(&mut c, Object { kind: None }).await,
        &[Reason::BadRequest],
        "kind",
    );
    let r = c
        .update(UpdateRequest {
            object: None,
            subresource: String::new(),
            dry_run: false,
            ..Default::default()
        })
        .await
        .map_err(err);
    assert_refused(r, &[Reason::BadRequest], "object");
    assert_refused(
        update(&mut c, Object { kind: None }, "").await,
        &[Reason::BadRequest],
        "kind",
    );
    assert_refused(
        update(&mut c, Object { kind: None }, "status").await,
        &[Reason::BadRequest],
        "kind",
    );

    assert_eq!(snapshot(&mut c, "configmaps", "").await, before);
    assert_serves(&server).await;
}

#[tokio::test]
async fn type_meta_that_contradicts_the_oneof_does_not_change_the_kind() {
    let server = TestServer::start().await;
    let mut c = connect(&server).await;
    // The oneof says ConfigMap; the strings claim a Deployment.
    let mut o = ConfigMap {
        api_version: "apps/v1".into(),
        kind: "Deployment".into(),
        ..Default::default()
    };
    o.meta_mut().name = "liar".into();
    o.meta_mut().namespace = "default".into();
    match create(&mut c, o.into_object()).await {
        Ok(created) => {
            let got = get(&mut c, "configmaps", "default", "liar").await.unwrap();
            assert_eq!(got, created);
            let Some(object::Kind::ConfigMap(cm)) = &got.kind else {
                panic!("stored as something else: {got:?}");
            };
            assert_eq!(
                (cm.api_version.as_str(), cm.kind.as_str()),
                ("v1", "ConfigMap")
            );
            assert_refused(
                get(&mut c, "deployments", "default", "liar").await,
                &[Reason::NotFound],
                "liar",
            );
        }
        Err(e) => {
            assert!(
                matches!(e.reason, Reason::Invalid | Reason::BadRequest),
                "{e:?}"
            );
            assert_one_line(&e.message);
            assert!(snapshot(&mut c, "configmaps", "default").await.is_empty());
        }
    }
    assert_serves(&server).await;
}

#[tokio::test]
async fn bad_names_are_invalid_and_store_nothing() {
    let server = TestServer::start().await;
    let mut c = connect(&server).await;
    let long_253 = format!("{}.{}", "a".repeat(126), "b".repeat(126));
    let long_254 = format!("{}.{}", "a".repeat(127), "b".repeat(126));
    for name in [
        long_254.as_str(),
        ".",
        "..",
        "a/b",
        "../etc",
        "%00",
        "a\u{0}b",
        "UPPER",
        "été",
        "名前",
        " ",
        "a b",
        "-a",
        "a-",
        "a..b",
        "a_b",
        "\u{202e}abc",
    ] {
        assert_refused(
            create(&mut c, cm("default", name, &[])).await,
            &[Reason::Invalid],
            "metadata.name",
        );
    }
    // A Service name is an RFC 1035 label: 63 at most, starting with a letter.
    let mut svc = Service::default();
    svc.meta_mut().name = "1abc".into();
    svc.meta_mut().namespace = "default".into();
    assert_refused(
        create(&mut c, svc.into_object()).await,
        &[Reason::Invalid],
        "metadata.name",
    );
    // Neither name nor generateName.
    assert_refused(
        create(&mut c, cm("default", "", &[])).await,
        &[Reason::Invalid],
        "metadata.name",
    );
    // A generateName that could never make a valid name.
    let mut g = ConfigMap::default();
    g.meta_mut().generate_name = "Ünïcode-".repeat(20);
    g.meta_mut().namespace = "default".into();
    assert_refused(
        create(&mut c, g.into_object()).await,
        &[Reason::Invalid],
        "metadata.generateName",
    );
    assert!(
        snapshot(&mut c, "configmaps", "").await.is_empty(),
        "a refused name left something behind"
    );

    // The boundary itself is accepted, and reads back under exactly that name.
    create(&mut c, cm("default", &long_253, &[])).await.unwrap();
    get(&mut c, "configmaps", "default", &long_253)
        .await
        .unwrap();
    // Reads by names that cannot exist are NotFound (or BadRequest), not path tricks.
    for name in [
        "..",
        "a/b",
        "../default/x",
        &format!("{long_253}/x"),
        "%2e%2e",
    ] {
        let r = get(&mut c, "configmaps", "default", name).await;
        assert!(
            matches!(&r, Err(e) if matches!(e.reason, Reason::NotFound | Reason::BadRequest)),
            "get {name:?}: {r:?}"
        );
    }
    // A namespace with a '/' must not reach into another key.
    let r = get(&mut c, "configmaps", "default/aaaa", "x").await;
    assert!(r.is_err(), "{r:?}");
    let l = list(&mut c, list_req("configmaps", "defaul"))
        .await
        .unwrap();
    assert!(l.items.is_empty(), "namespace prefix leaked: {:?}", l.items);
    assert_serves(&server).await;
}

#[tokio::test]
async fn scope_mistakes_are_refused_or_defaulted() {
    let server = TestServer::start().await;
    let mut c = connect(&server).await;
    let before_ns = snapshot(&mut c, "namespaces", "").await;

    // A namespace on a cluster-scoped kind.
    let mut ns = Namespace::default();
    ns.meta_mut().name = "scoped".into();
    ns.meta_mut().namespace = "default".into();
    assert_refused(
        create(&mut c, ns.into_object()).await,
        &[Reason::Invalid],
        "metadata.namespace",
    );
    let mut node = Node::default();
    node.meta_mut().name = "n1".into();
    node.meta_mut().namespace = "kube-system".into();
    assert_refused(
        create(&mut c, node.into_object()).await,
        &[Reason::Invalid],
        "metadata.namespace",
    );
    assert_eq!(snapshot(&mut c, "namespaces", "").await, before_ns);
    assert!(snapshot(&mut c, "nodes", "").await.is_empty());

    // No namespace on a namespaced kind: "default", as kubectl does.
    let made = create(&mut c, cm("", "nons", &[])).await.unwrap();
    assert_eq!(made.meta().namespace, "default");
    // Namespaces that are not labels, or do not exist.
    for bad in ["Default", "a/b", "a.b", "..", "ns-é"] {
        assert_refused(
            create(&mut c, cm(bad, "x", &[])).await,
            &[Reason::Invalid],
            "metadata.namespace",
        );
    }
    assert_refused(
        create(&mut c, cm("missing", "x", &[])).await,
        &[Reason::NotFound],
        "missing",
    );
    // Reads of namespaced kinds need a namespace; cluster-scoped ones ignore it.
    assert_refused(
        get(&mut c, "configmaps", "", "nons").await,
        &[Reason::BadRequest],
        "namespace",
    );
    get(&mut c, "namespaces", "whatever", "default")
        .await
        .expect("a namespace on a cluster-scoped get is ignored");
    // An update of a namespaced object without a namespace addresses nothing.
    let mut moved = made.clone();
    moved.meta_mut().namespace.clear();
    assert_refused(
        update(&mut c, moved, "").await,
        &[Reason::BadRequest],
        "namespace",
    );
    let after = snapshot(&mut c, "configmaps", "").await;
    assert_eq!(after.len(), 1);
    assert_eq!(after["default/nons"], made.meta().resource_version);
    assert_serves(&server).await;
}

#[tokio::test]
async fn resource_strings_that_name_nothing_are_not_found() {
    let server = TestServer::start().await;
    let mut c = connect(&server).await;
    for res in [
        "",
        "pods/status",
        "../x",
        "Pods",
        "pod",
        "po",
        "deployments.apps",
        "ｐｏｄｓ",
        "configmaps\u{0}",
        " configmaps",
        "configmaps\n",
    ] {
        assert_refused(
            get(&mut c, res, "default", "x").await,
            &[Reason::NotFound, Reason::BadRequest],
            "resource",
        );
        let mut l = list_req(res, "default");
        l.limit = 1;
        assert_refused(
            list(&mut c, l).await,
            &[Reason::NotFound, Reason::BadRequest],
            "resource",
        );
        assert_refused(
            patch(&mut c, res, "default", "x", "{}", "").await,
            &[Reason::NotFound, Reason::BadRequest],
            "resource",
        );
        assert_refused(
            delete(
                &mut c,
                DeleteRequest {
                    resource: res.into(),
                    namespace: "default".into(),
                    name: "x".into(),
                    ..Default::default()
                },
            )
            .await,
            &[Reason::NotFound, Reason::BadRequest],
            "resource",
        );
        let r = c
            .watch(WatchRequest {
                resource: res.into(),
                namespace: "default".into(),
                ..Default::default()
            })
            .await
            .map(|_| ())
            .map_err(err);
        assert_refused(r, &[Reason::NotFound, Reason::BadRequest], "resource");
        let r = c
            .get_scale(GetScaleRequest {
                resource: res.into(),
                namespace: "default".into(),
                name: "x".into(),
            })
            .await
            .map(|_| ())
            .map_err(err);
        assert_refused(r, &[Reason::NotFound, Reason::BadRequest], "resource");
    }
    assert_serves(&server).await;
}

// ---------------------------------------------------------------------------------------
// resourceVersions

#[tokio::test]
async fn resource_versions_that_are_not_numbers_are_bad_requests() {
    let server = TestServer::start().await;
    let mut c = connect(&server).await;
    let made = create(&mut c, cm("default", "rv", &[("k", "v")]))
        .await
        .unwrap();
    let d = create(&mut c, deployment("web", 1)).await.unwrap();

    for bad in [
        "abc",
        "-1",
        "18446744073709551616",
        " 1",
        "1e3",
        "0x10",
        "１",
    ] {
        let mut o = made.clone();
        o.meta_mut().resource_version = bad.into();
        if let Some(object::Kind::ConfigMap(x)) = &mut o.kind {
            x.data.insert("k".into(), "changed".into());
        }
        assert_refused(
            update(&mut c, o, "").await,
            &[Reason::BadRequest],
            "resourceVersion",
        );
        let body = serde_json::json!({"metadata": {"resourceVersion": bad}, "data": {"k": "x"}});
        assert_refused(
            patch(&mut c, "configmaps", "default", "rv", &body.to_string(), "").await,
            &[Reason::BadRequest],
            "resourceVersion",
        );
        assert_refused(
            delete(
                &mut c,
                DeleteRequest {
                    resource: "configmaps".into(),
                    namespace: "default".into(),
                    name: "rv".into(),
                    preconditions: Some(Preconditions {
                        uid: String::new(),
                        resource_version: bad.into(),
                    }),
                    ..Default::default()
                },
            )
            .await,
            &[Reason::BadRequest],
            "resourceVersion",
        );
        let r = c
            .watch(WatchRequest {
                resource: "configmaps".into(),
                namespace: "default".into(),
                resource_version: bad.into(),
                ..Default::default()
            })
            .await
            .map(|_| ())
            .map_err(err);
        assert_refused(r, &[Reason::BadRequest], "resourceVersion");
        let mut scale_meta = d.meta().clone();
        scale_meta.resource_version = bad.into();
        let r = c
            .update_scale(UpdateScaleRequest {
                resource: "deployments".into(),
                scale: Some(Scale {
                    metadata: Some(scale_meta),
                    spec: Some(ScaleSpec { replicas: 3 }),
                    ..Default::default()
                }),
                ..Default::default()
            })
            .await
            .map(|_| ())
            .map_err(err);
        assert_refused(r, &[Reason::BadRequest], "resourceVersion");
    }
    // "0" and a far-future version never match the stored one.
    for stale in ["0", "99999999", &u64::MAX.to_string()] {
        let mut o = made.clone();
        o.meta_mut().resource_version = stale.into();
        if let Some(object::Kind::ConfigMap(x)) = &mut o.kind {
            x.data.insert("k".into(), "changed".into());
        }
        // Kubernetes reads "0" as "unconditional"; a Conflict is the stricter, safe answer.
        match update(&mut c, o, "").await {
            Err(e) => {
                assert_eq!(e.reason, Reason::Conflict, "{stale}: {e:?}");
                assert_one_line(&e.message);
            }
            Ok(o) => assert_eq!(stale, "0", "rv {stale} matched: {o:?}"),
        }
    }
    let now = get(&mut c, "configmaps", "default", "rv").await.unwrap();
    if now.meta().resource_version == made.meta().resource_version {
        assert_eq!(cm_data(&now)["k"], "v");
    }
    assert_eq!(
        get(&mut c, "deployments", "default", "web").await.unwrap(),
        d,
        "the deployment changed"
    );
    assert_serves(&server).await;
}

// ---------------------------------------------------------------------------------------
// Selectors, continue tokens, limits

#[tokio::test]
async fn label_selectors_with_syntax_errors_are_bad_requests() {
    let server = TestServer::start().await;
    let mut c = connect(&server).await;
    let mut a = ConfigMap::default();
    a.meta_mut().name = "a".into();
    a.meta_mut().namespace = "default".into();
    a.meta_mut().labels.insert("app".into(), "web".into());
    create(&mut c, a.into_object()).await.unwrap();

    let long_value = format!("app={}", "v".repeat(64));
    for sel in [
        "app in (web",
        "app in web)",
        "app in",
        "app notin",
        "app in ()",
        "(app=web)",
        "app=(web)",
        "app=web,",
        ",app=web",
        "app=web,,x=y",
        "app!",
        "!",
        "!!app",
        "!app=web",
        "app=web=x",
        "=web",
        "app<>1",
        "app>x",
        "app<1.5",
        "app in (a b)",
        "a b",
        "app=we b",
        "bad key=x",
        "-app=web",
        "app=-web",
        "a/b/c=x",
        "ünï=x",
        "x=ünï",
        long_value.as_str(),
        "app=web)",
        ")",
        "(",
    ] {
        let mut l = list_req("configmaps", "default");
        l.label_selector = sel.into();
        refused_for(
            sel,
            list(&mut c, l).await,
            &[Reason::BadRequest],
            "selector",
        );
        let r = c
            .watch(WatchRequest {
                resource: "configmaps".into(),
                namespace: "default".into(),
                label_selector: sel.into(),
                ..Default::default()
            })
            .await
            .map(|_| ())
            .map_err(err);
        refused_for(sel, r, &[Reason::BadRequest], "selector");
    }

    // 10k requirements that all hold: slow input, but valid, and it still filters.
    let many: Vec<String> = (0..10_000).map(|i| format!("k{i}!=x")).collect();
    let mut l = list_req("configmaps", "default");
    l.label_selector = format!("app=web,{}", many.join(","));
    let t = Instant::now();
    let got = list(&mut c, l).await.unwrap();
    assert_eq!(got.items.len(), 1);
    assert!(
        t.elapsed() < Duration::from_secs(10),
        "took {:?}",
        t.elapsed()
    );
    let mut l = list_req("configmaps", "default");
    l.label_selector = format!("app=db,{}", many.join(","));
    assert!(list(&mut c, l).await.unwrap().items.is_empty());
    assert_serves(&server).await;
}

#[tokio::test]
async fn field_selectors_unsupported_or_malformed_are_bad_requests() {
    let server = TestServer::start().await;
    let mut c = connect(&server).await;
    create(&mut c, cm("default", "a", &[])).await.unwrap();
    for (res, sel, cause) in [
        ("configmaps", "spec.nodeName=n1", "spec.nodeName"),
        ("configmaps", "data.k=v", "data.k"),
        ("configmaps", "metadata.labels=x", "metadata.labels"),
        ("pods", "status.podIPs=1.2.3.4", "status.podIPs"),
        ("configmaps", "metadata.name", "metadata.name"),
        ("configmaps", "=a", "field"),
        ("configmaps", "metadata.name=a=b", "metadata.name"),
        ("configmaps", "metadata.name=a,b", "field"),
        ("configmaps", "metadata.name=a\\", "metadata.name"),
        ("configmaps", "metadata.name!a", "metadata.name"),
        ("configmaps", "ünï=x", "ünï"),
    ] {
        let mut l = list_req(res, "default");
        l.field_selector = sel.into();
        refused_for(sel, list(&mut c, l).await, &[Reason::BadRequest], cause);
        let r = c
            .watch(WatchRequest {
                resource: res.into(),
                namespace: "default".into(),
                field_selector: sel.into(),
                ..Default::default()
            })
            .await
            .map(|_| ())
            .map_err(err);
        refused_for(sel, r, &[Reason::BadRequest], cause);
    }
    let mut l = list_req("configmaps", "default");
    l.field_selector = "metadata.name=a,metadata.namespace!=x".into();
    assert_eq!(list(&mut c, l).await.unwrap().items.len(), 1);
    assert_serves(&server).await;
}

#[tokio::test]
async fn forged_continue_tokens_are_bad_requests() {
    let server = TestServer::start().await;
    let mut c = connect(&server).await;
    for i in 0..5 {
        create(&mut c, cm("default", &format!("c{i}"), &[]))
            .await
            .unwrap();
    }
    let hex = |s: &str| s.bytes().map(|b| format!("{b:02x}")).collect::<String>();
    let mut page = list_req("configmaps", "default");
    page.limit = 2;
    let first = list(&mut c, page.clone()).await.unwrap();
    assert_eq!(first.items.len(), 2);
    assert!(!first.r#continue.is_empty());

    let huge = "ab".repeat(512 * 1024);
    for token in [
        "a".to_string(),
        "abc".to_string(),
        "zz".to_string(),
        "0g".to_string(),
        "+1".to_string(),
        " 2f".to_string(),
        format!("{}x", first.r#continue),
        hex("/registry/secrets/default/c1"),
        hex("/registry/configmaps/kube-system/c1"),
        hex("/registry/configmaps/defaultx/c1"),
        hex("/"),
        "ff".repeat(8),
        "c3".to_string(),
        huge,
    ] {
        let mut l = page.clone();
        l.r#continue = token.clone();
        refused_for(
            &token,
            list(&mut c, l).await,
            &[Reason::BadRequest],
            "continue",
        );
    }
    // A token from the namespace is good for all namespaces (its key is under that prefix
    // too); one from all namespaces is not good for another namespace.
    let mut all = list_req("configmaps", "");
    all.limit = 1;
    let all_first = list(&mut c, all.clone()).await.unwrap();
    let mut other = list_req("configmaps", "kube-system");
    other.r#continue = all_first.r#continue.clone();
    let r = list(&mut c, other).await;
    assert!(
        matches!(&r, Err(e) if e.reason == Reason::BadRequest)
            || r.as_ref().is_ok_and(|l| l.items.is_empty()),
        "{r:?}"
    );
    // The real token still works after all that.
    let mut l = page.clone();
    l.r#continue = first.r#continue.clone();
    let second = list(&mut c, l).await.unwrap();
    assert_eq!(second.items.len(), 2);
    assert_ne!(second.items[0].meta().name, first.items[0].meta().name);
    assert_serves(&server).await;
}

#[tokio::test]
async fn continue_tokens_with_non_ascii_characters_are_bad_requests() {
    let server = TestServer::start().await;
    let mut c = connect(&server).await;
    create(&mut c, cm("default", "a", &[])).await.unwrap();
    for token in ["aéa", "éé", "2fé0", "😀😀"] {
        let mut l = list_req("configmaps", "default");
        l.limit = 1;
        l.r#continue = token.into();
        // A fresh connection per attempt: a panicking handler may take the stream down.
        let mut c = connect(&server).await;
        assert_refused(list(&mut c, l).await, &[Reason::BadRequest], "continue");
    }
    assert_serves(&server).await;
}

#[tokio::test]
async fn negative_and_huge_limits_list_everything() {
    let server = TestServer::start().await;
    let mut c = connect(&server).await;
    for i in 0..3 {
        create(&mut c, cm("default", &format!("l{i}"), &[]))
            .await
            .unwrap();
    }
    for limit in [-1, -1000, i64::MIN, i64::MAX, i64::MAX - 1, 1 << 40] {
        let mut l = list_req("configmaps", "default");
        l.limit = limit;
        let got = list(&mut c, l)
            .await
            .unwrap_or_else(|e| panic!("limit {limit}: {e:?}"));
        assert_eq!(got.items.len(), 3, "limit {limit}");
        assert!(got.r#continue.is_empty(), "limit {limit}");
    }
    assert_serves(&server).await;
}

// ---------------------------------------------------------------------------------------
// Patches

#[tokio::test]
async fn malformed_patches_are_bad_requests() {
    let server = TestServer::start().await;
    let mut c = connect(&server).await;
    let made = create(&mut c, cm("default", "p", &[("k", "v")]))
        .await
        .unwrap();

    let deep_object = format!("{}1{}", "{\"a\":".repeat(10_000), "}".repeat(10_000));
    let deep_array = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let deep_in_data = format!(
        "{{\"data\":{{\"k\":{}\"x\"{}}}}}",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let unclosed = "{\"a\":".repeat(50_000);
    for body in [
        "",
        " ",
        "not json",
        "{",
        "{\"data\":}",
        "[1,2]",
        "[]",
        "null",
        "42",
        "\"s\"",
        "true",
        "{\"a\":1}{\"b\":2}",
        "{\"data\":{\"k\":\"\\ud800\"}}",
        deep_object.as_str(),
        deep_array.as_str(),
        deep_in_data.as_str(),
        unclosed.as_str(),
    ] {
        assert_refused(
            patch(&mut c, "configmaps", "default", "p", body, "").await,
            &[Reason::BadRequest, Reason::Invalid],
            "patch",
        );
    }
    // "{}" is no JSON patch (a list), nor an apply without a field manager; the others are
    // no patch types.
    for (ty, cause) in [
        ("json", "jsonpatch.Patch"),
        ("yaml", "patch type"),
        ("application/json-patch+json", "jsonpatch.Patch"),
        ("apply", "fieldManager"),
        ("MERGE ", "patch type"),
    ] {
        let r = c
            .patch(PatchRequest {
                resource: "configmaps".into(),
                namespace: "default".into(),
                name: "p".into(),
                patch_type: ty.into(),
                patch: "{}".into(),
                ..Default::default()
            })
            .await
            .map_err(err);
        assert_refused(r, &[Reason::BadRequest], cause);
    }
    // Patches to nothing.
    assert_refused(
        patch(&mut c, "configmaps", "default", "nope", "{}", "").await,
        &[Reason::NotFound],
        "nope",
    );
    assert_refused(
        patch(&mut c, "configmaps", "default", "", "{}", "").await,
        &[Reason::BadRequest],
        "name",
    );
    assert_eq!(
        get(&mut c, "configmaps", "default", "p").await.unwrap(),
        made,
        "a refused patch changed the object"
    );
    assert_serves(&server).await;
}

#[tokio::test]
async fn patches_cannot_change_identity_or_server_fields() {
    let server = TestServer::start().await;
    let mut c = connect(&server).await;
    let made = create(&mut c, cm("default", "id", &[("k", "v")]))
        .await
        .unwrap();
    let m = made.meta().clone();
    for body in [
        serde_json::json!({"kind": "Secret"}),
        serde_json::json!({"apiVersion": "apps/v1"}),
        serde_json::json!({"kind": "Deployment", "apiVersion": "apps/v1"}),
        serde_json::json!({"metadata": {"name": "other"}}),
        serde_json::json!({"metadata": {"namespace": "kube-system"}}),
        serde_json::json!({"metadata": {"name": null, "namespace": null}}),
        serde_json::json!({"metadata": {"uid": "00000000-0000-0000-0000-000000000000"}}),
        serde_json::json!({"metadata": {"uid": null}}),
        serde_json::json!({"metadata": {"creationTimestamp": "1999-01-01T00:00:00Z"}}),
        serde_json::json!({"metadata": {"deletionTimestamp": "2000-01-01T00:00:00Z"}}),
        serde_json::json!({"metadata": {"deletionGracePeriodSeconds": 0}}),
        serde_json::json!({"metadata": {"generation": 99}}),
        serde_json::json!({"metadata": {"generation": -2147483648}}),
        serde_json::json!({"metadata": {"generateName": "x-"}}),
    ] {
        let r = patch(&mut c, "configmaps", "default", "id", &body.to_string(), "").await;
        match r {
            Ok(o) => {
                let got = o.meta();
                assert_eq!(
                    (&got.name, &got.namespace, &got.uid, &got.creation_timestamp),
                    (&m.name, &m.namespace, &m.uid, &m.creation_timestamp),
                    "patch {body} changed identity"
                );
                assert_eq!(got.generation, m.generation, "patch {body}");
                assert!(got.deletion_timestamp.is_empty(), "patch {body}");
                assert_eq!(got.deletion_grace_period_seconds, None, "patch {body}");
                assert!(got.generate_name.is_empty(), "patch {body}");
                assert!(matches!(o.kind, Some(object::Kind::ConfigMap(_))));
            }
            Err(e) => {
                assert!(
                    matches!(e.reason, Reason::Invalid | Reason::BadRequest),
                    "{body}: {e:?}"
                );
                assert_one_line(&e.message);
            }
        }
    }
    let now = get(&mut c, "configmaps", "default", "id").await.unwrap();
    let Some(object::Kind::ConfigMap(x)) = &now.kind else {
        panic!("kind changed: {now:?}");
    };
    assert_eq!(
        (x.api_version.as_str(), x.kind.as_str()),
        ("v1", "ConfigMap")
    );
    assert_eq!(now.meta().uid, m.uid);
    assert_eq!(cm_data(&now)["k"], "v");
    // Nothing was created under the names or namespaces the patches named.
    let all = snapshot(&mut c, "configmaps", "").await;
    assert_eq!(all.keys().collect::<Vec<_>>(), vec!["default/id"]);
    assert!(snapshot(&mut c, "secrets", "").await.is_empty());
    assert!(snapshot(&mut c, "deployments", "").await.is_empty());
    assert_serves(&server).await;
}

#[tokio::test]
async fn patches_that_make_the_object_invalid_change_nothing() {
    let server = TestServer::start().await;
    let mut c = connect(&server).await;
    let made = create(&mut c, cm("default", "v", &[("k", "v")]))
        .await
        .unwrap();
    let d = create(&mut c, deployment("web", 2)).await.unwrap();
    for (body, cause) in [
        (
            serde_json::json!({"metadata": {"labels": {"bad key": "x"}}}),
            "metadata.labels",
        ),
        (
            serde_json::json!({"metadata": {"labels": {"k": "bad value!"}}}),
            "metadata.labels",
        ),
        (
            serde_json::json!({"metadata": {"labels": {"k": 5}}}),
            "metadata.labels",
        ),
        (
            serde_json::json!({"metadata": {"labels": ["k"]}}),
            "metadata.labels",
        ),
        (
            serde_json::json!({"metadata": {"finalizers": ["bad finalizer"]}}),
            "metadata.finalizers",
        ),
        (
            serde_json::json!({"metadata": {"annotations": {"a": "x".repeat(300 * 1024)}}}),
            "metadata.annotations",
        ),
        (
            serde_json::json!({"metadata": {"ownerReferences": [{"name": "x"}]}}),
            "metadata.ownerReferences",
        ),
        (serde_json::json!({"data": {"k": 1}}), "data"),
        (serde_json::json!({"data": "string"}), "data"),
        (
            serde_json::json!({"binaryData": {"k": "not base64!"}}),
            "binaryData",
        ),
        (serde_json::json!({"unknownField": 1}), "unknownField"),
        (serde_json::json!({"metadata": 7}), "metadata"),
    ] {
        assert_refused(
            patch(&mut c, "configmaps", "default", "v", &body.to_string(), "").await,
            &[Reason::Invalid, Reason::BadRequest],
            cause,
        );
    }
    for (body, cause) in [
        (
            serde_json::json!({"spec": {"replicas": 2147483648i64}}),
            "spec.replicas",
        ),
        (
            serde_json::json!({"spec": {"replicas": "many"}}),
            "spec.replicas",
        ),
        (
            serde_json::json!({"spec": {"replicas": 1.5}}),
            "spec.replicas",
        ),
        (
            serde_json::json!({"spec": {"selector": {"matchLabels": {"app": "other"}}}}),
            "spec.selector",
        ),
    ] {
        assert_refused(
            patch(
                &mut c,
                "deployments",
                "default",
                "web",
                &body.to_string(),
                "",
            )
            .await,
            &[Reason::Invalid, Reason::BadRequest],
            cause,
        );
    }
    assert_eq!(
        get(&mut c, "configmaps", "default", "v").await.unwrap(),
        made
    );
    assert_eq!(
        get(&mut c, "deployments", "default", "web").await.unwrap(),
        d
    );
    assert_serves(&server).await;
}

#[tokio::test]
async fn status_through_the_main_resource_is_ignored() {
    let server = TestServer::start().await;
    let mut c = connect(&server).await;
    let d = create(&mut c, deployment("web", 2)).await.unwrap();
    // Patch and update of the main resource carry a status: it must not land.
    let after_patch = patch(
        &mut c,
        "deployments",
        "default",
        "web",
        r#"{"status":{"replicas":5,"readyReplicas":5,"observedGeneration":2147483647}}"#,
        "",
    )
    .await
    .unwrap();
    let status = |o: &Object| match &o.kind {
        Some(object::Kind::Deployment(x)) => x.status.clone(),
        _ => panic!("not a deployment"),
    };
    assert_eq!(status(&after_patch), status(&d));
    assert_eq!(after_patch.meta().generation, d.meta().generation);
    assert_eq!(rv(&after_patch), rv(&d), "a no-op patch must not write");

    let p = create(&mut c, pod("p", "")).await.unwrap();
    let mut forged = p.clone();
    if let Some(object::Kind::Pod(x)) = &mut forged.kind {
        x.status.get_or_insert_with(Default::default).phase = "Succeeded".into();
    }
    let r = update(&mut c, forged, "").await.unwrap();
    let phase = |o: &Object| match &o.kind {
        Some(object::Kind::Pod(x)) => x.status.clone().unwrap_or_default().phase,
        _ => panic!("not a pod"),
    };
    assert_eq!(phase(&r), "Pending");
    assert_eq!(
        phase(&get(&mut c, "pods", "default", "p").await.unwrap()),
        "Pending"
    );
    // And spec through the status subresource is ignored the same way.
    let r = patch(
        &mut c,
        "deployments",
        "default",
        "web",
        r#"{"spec":{"replicas":7},"status":{"replicas":1}}"#,
        "status",
    )
    .await
    .unwrap();
    let replicas = |o: &Object| match &o.kind {
        Some(object::Kind::Deployment(x)) => x.spec.as_ref().and_then(|s| s.replicas),
        _ => panic!("not a deployment"),
    };
    assert_eq!(replicas(&r), Some(2));
    assert_eq!(status(&r).map(|s| s.replicas), Some(1));
    assert_serves(&server).await;
}

// ---------------------------------------------------------------------------------------
// Updates

#[tokio::test]
async fn updates_cannot_change_server_set_metadata() {
    let server = TestServer::start().await;
    let mut c = connect(&server).await;
    let made = create(&mut c, cm("default", "u", &[("k", "v")]))
        .await
        .unwrap();
    let m = made.meta().clone();
    let forgeries: &[fn(&mut ObjectMeta)] = &[
        |m| m.uid = "00000000-0000-0000-0000-000000000000".into(),
        |m| m.uid.clear(),
        |m| m.creation_timestamp = "1999-01-01T00:00:00Z".into(),
        |m| m.creation_timestamp = "yesterday".into(),
        |m| m.deletion_timestamp = "2000-01-01T00:00:00Z".into(),
        |m| m.deletion_grace_period_seconds = Some(-5),
        |m| m.generation = 42,
        |m| m.generation = i32::MIN,
        |m| m.generation = i32::MAX,
        |m| m.generate_name = "x-".into(),
    ];
    for (i, forge) in forgeries.iter().enumerate() {
        let cur = get(&mut c, "configmaps", "default", "u").await.unwrap();
        let mut o = cur.clone();
        forge(o.meta_mut());
        if let Some(object::Kind::ConfigMap(x)) = &mut o.kind {
            x.data.insert("k".into(), format!("v{i}"));
        }
        match update(&mut c, o, "").await {
            Ok(u) => {
                let got = u.meta();
                assert_eq!(got.uid, m.uid, "forgery {i}");
                assert_eq!(got.creation_timestamp, m.creation_timestamp, "forgery {i}");
                assert!(got.deletion_timestamp.is_empty(), "forgery {i}");
                assert_eq!(got.deletion_grace_period_seconds, None, "forgery {i}");
                // The data change may bump generation by one; the forged value never lands.
                let g = cur.meta().generation;
                assert!(
                    got.generation == g || got.generation == g + 1,
                    "forgery {i}: generation {} after {g}",
                    got.generation
                );
                assert!(got.generate_name.is_empty(), "forgery {i}");
                assert_eq!(get(&mut c, "configmaps", "default", "u").await.unwrap(), u);
            }
            Err(e) => {
                assert!(
                    matches!(
                        e.reason,
                        Reason::Conflict | Reason::Invalid | Reason::BadRequest
                    ),
                    "forgery {i}: {e:?}"
                );
                assert_one_line(&e.message);
                assert_eq!(
                    get(&mut c, "configmaps", "default", "u").await.unwrap(),
                    cur
                );
            }
        }
    }
    assert_serves(&server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_updates_with_one_resource_version_have_one_winner() {
    let server = TestServer::start().await;
    let mut c = connect(&server).await;
    let made = create(&mut c, cm("default", "race", &[("k", "0")]))
        .await
        .unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..16 {
        let mut c = connect(&server).await;
        let mut o = made.clone();
        if let Some(object::Kind::ConfigMap(x)) = &mut o.kind {
            x.data.insert("k".into(), format!("writer-{i}"));
        }
        tasks.spawn(async move { (i, update(&mut c, o, "").await) });
    }
    let mut winners = Vec::new();
    while let Some(r) = tasks.join_next().await {
        let (i, r) = r.unwrap();
        match r {
            Ok(o) => winners.push((i, o)),
            Err(e) => {
                assert_eq!(e.reason, Reason::Conflict, "writer {i}: {e:?}");
                assert_one_line(&e.message);
            }
        }
    }
    assert_eq!(winners.len(), 1, "exactly one writer wins: {winners:?}");
    let (i, won) = &winners[0];
    let now = get(&mut c, "configmaps", "default", "race").await.unwrap();
    assert_eq!(&now, won);
    assert_eq!(cm_data(&now)["k"], format!("writer-{i}"));
    assert!(rv(&now) > rv(&made));
    assert_serves(&server).await;
}

// ---------------------------------------------------------------------------------------
// Subresources: status, scale, binding

#[tokio::test]
async fn subresources_on_kinds_without_them_are_bad_requests() {
    let server = TestServer::start().await;
    let mut c = connect(&server).await;
    let made = create(&mut c, cm("default", "s", &[("k", "v")]))
        .await
        .unwrap();
    let d = create(&mut c, deployment("web", 2)).await.unwrap();
    let p = create(&mut c, pod("p", "")).await.unwrap();

    assert_refused(
        update(&mut c, made.clone(), "status").await,
        &[Reason::BadRequest],
        "status",
    );
    for sub in [
        "scale",
        "binding",
        "Status",
        "status/",
        "../status",
        "ｓｔａｔｕｓ",
    ] {
        assert_refused(
            update(&mut c, d.clone(), sub).await,
            &[Reason::BadRequest],
            "subresource",
        );
        assert_refused(
            patch(&mut c, "deployments", "default", "web", "{}", sub).await,
            &[Reason::BadRequest],
            "subresource",
        );
    }
    assert_refused(
        patch(
            &mut c,
            "configmaps",
            "default",
            "s",
            r#"{"data":{"k":"x"}}"#,
            "status",
        )
        .await,
        &[Reason::BadRequest],
        "status",
    );
    // Scale on kinds without it.
    for (res, name) in [
        ("configmaps", "s"),
        ("pods", "p"),
        ("daemonsets", "x"),
        ("nodes", "n"),
    ] {
        let r = c
            .get_scale(GetScaleRequest {
                resource: res.into(),
                namespace: "default".into(),
                name: name.into(),
            })
            .await
            .map_err(err);
        assert_refused(r, &[Reason::BadRequest], "scale");
        let r = c
            .update_scale(UpdateScaleRequest {
                resource: res.into(),
                scale: Some(Scale {
                    metadata: Some(ObjectMeta {
                        name: name.into(),
                        namespace: "default".into(),
                        ..Default::default()
                    }),
                    spec: Some(ScaleSpec { replicas: 3 }),
                    ..Default::default()
                }),
                ..Default::default()
            })
            .await
            .map_err(err);
        assert_refused(r, &[Reason::BadRequest], "scale");
    }
    // Negative replicas, a scale without a scale, and scales that address nothing.
    let scale = |name: &str, ns: &str, replicas: i32| UpdateScaleRequest {
        resource: "deployments".into(),
        scale: Some(Scale {
            metadata: Some(ObjectMeta {
                name: name.into(),
                namespace: ns.into(),
                ..Default::default()
            }),
            spec: Some(ScaleSpec { replicas }),
            ..Default::default()
        }),
        ..Default::default()
    };
    for replicas in [-1, i32::MIN] {
        let r = c
            .update_scale(scale("web", "default", replicas))
            .await
            .map_err(err);
        assert_refused(r, &[Reason::Invalid], "spec.replicas");
    }
    let r = c
        .update_scale(UpdateScaleRequest {
            resource: "deployments".into(),
            scale: None,
            ..Default::default()
        })
        .await
        .map_err(err);
    assert_refused(r, &[Reason::BadRequest], "scale");
    let r = c
        .update_scale(scale("nope", "default", 1))
        .await
        .map_err(err);
    assert_refused(r, &[Reason::NotFound], "nope");
    let r = c.update_scale(scale("", "default", 1)).await.map_err(err);
    assert!(
        matches!(&r, Err(e) if matches!(e.reason, Reason::BadRequest | Reason::NotFound)),
        "{r:?}"
    );
    let r = c.update_scale(scale("web", "", 1)).await.map_err(err);
    assert!(
        matches!(&r, Err(e) if matches!(e.reason, Reason::BadRequest | Reason::NotFound)),
        "{r:?}"
    );

    assert_eq!(
        get(&mut c, "configmaps", "default", "s").await.unwrap(),
        made
    );
    assert_eq!(
        get(&mut c, "deployments", "default", "web").await.unwrap(),
        d
    );
    assert_eq!(get(&mut c, "pods", "default", "p").await.unwrap(), p);
    // The largest replica count is a legal scale.
    let r = c
        .update_scale(scale("web", "default", i32::MAX))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r.spec.map(|s| s.replicas), Some(i32::MAX));
    assert_serves(&server).await;
}

#[tokio::test]
async fn bindings_with_missing_parts_or_pods_are_refused() {
    let server = TestServer::start().await;
    let mut c = connect(&server).await;
    let p = create(&mut c, pod("p", "")).await.unwrap();
    assert_refused(bind(&mut c, None).await, &[Reason::BadRequest], "binding");
    for b in [
        Binding::default(),
        Binding {
            metadata: None,
            ..binding("default", "p", "n1")
        },
        Binding {
            target: None,
            ..binding("default", "p", "n1")
        },
        binding("", "p", "n1"),
        binding("default", "", "n1"),
        binding("default", "p", ""),
    ] {
        assert_refused(
            bind(&mut c, Some(b)).await,
            &[Reason::BadRequest],
            "binding",
        );
    }
    assert_refused(
        bind(&mut c, Some(binding("default", "ghost", "n1"))).await,
        &[Reason::NotFound],
        "ghost",
    );
    assert_refused(
        bind(&mut c, Some(binding("nowhere", "p", "n1"))).await,
        &[Reason::NotFound],
        "not found",
    );
    let mut wrong_uid = binding("default", "p", "n1");
    wrong_uid.metadata.as_mut().unwrap().uid = "someone-else".into();
    assert_refused(
        bind(&mut c, Some(wrong_uid)).await,
        &[Reason::Conflict],
        "uid",
    );
    assert_eq!(get(&mut c, "pods", "default", "p").await.unwrap(), p);
    assert_serves(&server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_bindings_have_exactly_one_winner() {
    let server = TestServer::start().await;
    let mut c = connect(&server).await;
    create(&mut c, pod("p", "")).await.unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..10 {
        let mut c = connect(&server).await;
        tasks.spawn(async move {
            (
                i,
                bind(&mut c, Some(binding("default", "p", &format!("node-{i}")))).await,
            )
        });
    }
    let mut winners = Vec::new();
    while let Some(r) = tasks.join_next().await {
        let (i, r) = r.unwrap();
        match r {
            Ok(()) => winners.push(i),
            Err(e) => {
                assert_eq!(e.reason, Reason::Conflict, "binder {i}: {e:?}");
                assert_one_line(&e.message);
            }
        }
    }
    assert_eq!(winners.len(), 1, "exactly one binding wins: {winners:?}");
    let now = get(&mut c, "pods", "default", "p").await.unwrap();
    let Some(object::Kind::Pod(x)) = &now.kind else {
        panic!("not a pod");
    };
    let spec = x.spec.as_ref().unwrap();
    assert_eq!(spec.node_name, format!("node-{}", winners[0]));
    let scheduled = x
        .status
        .as_ref()
        .unwrap()
        .conditions
        .iter()
        .filter(|c| c.r#type == "PodScheduled")
        .count();
    assert_eq!(scheduled, 1);
    assert_serves(&server).await;
}

#[tokio::test]
async fn bindings_obey_the_size_limit_and_name_rules() {
    let server = TestServer::start().await;
    let mut c = connect(&server).await;
    let p = create(&mut c, pod("p", "")).await.unwrap();
    let huge = "n".repeat(2 * 1024 * 1024);
    let r = bind(&mut c, Some(binding("default", "p", &huge))).await;
    let e = r.expect_err("a binding that makes the pod larger than 1.5 MiB must be refused");
    assert!(
        matches!(e.reason, Reason::TooLarge | Reason::Invalid),
        "{e:?}"
    );
    assert_one_line(&e.message);
    assert_eq!(get(&mut c, "pods", "default", "p").await.unwrap(), p);
    // A node name that can never be a Node's name.
    let r = bind(&mut c, Some(binding("default", "p", "../Bad Node"))).await;
    assert!(matches!(&r, Err(e) if e.reason == Reason::Invalid), "{r:?}");
    assert_eq!(get(&mut c, "pods", "default", "p").await.unwrap(), p);
}

// ---------------------------------------------------------------------------------------
// Delete

#[tokio::test]
async fn deletes_with_bad_options_change_nothing() {
    let server = TestServer::start().await;
    let mut c = connect(&server).await;
    let made = create(&mut c, cm("default", "d", &[])).await.unwrap();
    let req = |f: &dyn Fn(&mut DeleteRequest)| {
        let mut r = DeleteRequest {
            resource: "configmaps".into(),
            namespace: "default".into(),
            name: "d".into(),
            ..Default::default()
        };
        f(&mut r);
        r
    };
    for policy in [
        "background",
        "foreground",
        "Delete",
        " Orphan",
        "Orphan\n",
        "ünï",
    ] {
        assert_refused(
            delete(&mut c, req(&|r| r.propagation_policy = policy.into())).await,
            &[Reason::BadRequest],
            "propagationPolicy",
        );
    }
    for grace in [-1, i64::MIN] {
        assert_refused(
            delete(&mut c, req(&|r| r.grace_period_seconds = Some(grace))).await,
            &[Reason::Invalid],
            "gracePeriodSeconds",
        );
    }
    assert_refused(
        delete(
            &mut c,
            req(&|r| {
                r.preconditions = Some(Preconditions {
                    uid: "not-the-uid".into(),
                    resource_version: String::new(),
                })
            }),
        )
        .await,
        &[Reason::Conflict],
        "uid",
    );
    let stale = (rv(&made) - 1).to_string();
    assert_refused(
        delete(
            &mut c,
            req(&|r| {
                r.preconditions = Some(Preconditions {
                    uid: String::new(),
                    resource_version: stale.clone(),
                })
            }),
        )
        .await,
        &[Reason::Conflict],
        "resourceversion",
    );
    assert_refused(
        delete(&mut c, req(&|r| r.name.clear())).await,
        &[Reason::BadRequest],
        "name",
    );
    assert_refused(
        delete(&mut c, req(&|r| r.namespace.clear())).await,
        &[Reason::BadRequest],
        "namespace",
    );
    assert_refused(
        delete(&mut c, req(&|r| r.name = "ghost".into())).await,
        &[Reason::NotFound],
        "ghost",
    );
    assert_eq!(
        get(&mut c, "configmaps", "default", "d").await.unwrap(),
        made
    );
    // Dry run deletes nothing.
    delete(&mut c, req(&|r| r.dry_run = true)).await.unwrap();
    assert_eq!(
        get(&mut c, "configmaps", "default", "d").await.unwrap(),
        made
    );
    assert_serves(&server).await;
}

#[tokio::test]
async fn huge_grace_periods_do_not_crash_deletion() {
    let server = TestServer::start().await;
    let mut c = connect(&server).await;
    let p = create(&mut c, pod("p", "node-1")).await.unwrap();
    for grace in [i64::MAX, i64::MAX / 2, 1 << 62] {
        let mut c = connect(&server).await;
        let r = delete(
            &mut c,
            DeleteRequest {
                resource: "pods".into(),
                namespace: "default".into(),
                name: "p".into(),
                grace_period_seconds: Some(grace),
                ..Default::default()
            },
        )
        .await;
        match r {
            Ok(o) => assert!(!o.meta().deletion_timestamp.is_empty()),
            Err(e) => {
                assert_eq!(e.reason, Reason::Invalid, "grace {grace}: {e:?}");
                assert_one_line(&e.message);
            }
        }
    }
    let now = get(&mut c, "pods", "default", "p").await.unwrap();
    assert_eq!(now.meta().uid, p.meta().uid);
    assert_serves(&server).await;
}

// ---------------------------------------------------------------------------------------
// Sizes

fn event(name: &str, message: &str) -> Object {
    from_json(
        &proto::resource::info::Event,
        serde_json::json!({
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": name, "namespace": "default"},
            "involvedObject": {"kind": "Pod", "namespace": "default", "name": "p"},
            "reason": "Test", "type": "Normal", "message": message
        }),
    )
}

fn event_message(o: &Object) -> &str {
    match &o.kind {
        Some(object::Kind::Event(e)) => &e.message,
        _ => panic!("not an event"),
    }
}

#[tokio::test]
async fn the_size_limit_is_exact_and_large_requests_do_not_crash() {
    let server = TestServer::start().await;
    let mut c = connect(&server).await;
    // An Event's message has no limit of its own, so only the object limit applies. Learn
    // the server-set fields from a small probe with a name of the same length, then compute
    // the message that makes the stored object exactly MAX_OBJECT_BYTES.
    let probe = create(&mut c, event("big-probe0", "")).await.unwrap();
    let stored_len = |name: &str, payload: usize| {
        let mut o = probe.clone();
        o.meta_mut().resource_version.clear();
        o.meta_mut().name = name.into();
        if let Some(object::Kind::Event(x)) = &mut o.kind {
            x.message = "x".repeat(payload);
        }
        o.encoded_len()
    };
    let base = stored_len("big-accept", 1024 * 1024);
    let fit = 1024 * 1024 + (MAX_OBJECT_BYTES - base);
    assert_eq!(stored_len("big-accept", fit), MAX_OBJECT_BYTES);

    let at_limit = create(&mut c, event("big-accept", &"x".repeat(fit)))
        .await
        .expect("an object of exactly the limit is accepted");
    assert_eq!(event_message(&at_limit).len(), fit);
    let over = create(&mut c, event("big-reject", &"x".repeat(fit + 1))).await;
    assert_refused(over, &[Reason::TooLarge], "too large");
    assert_refused(
        get(&mut c, "events", "default", "big-reject").await,
        &[Reason::NotFound],
        "big-reject",
    );
    // Growing the accepted one past the limit: by update and by patch.
    let mut grown = at_limit.clone();
    if let Some(object::Kind::Event(x)) = &mut grown.kind {
        x.message.push('y');
    }
    assert_refused(
        update(&mut c, grown, "").await,
        &[Reason::TooLarge],
        "too large",
    );
    let body = serde_json::json!({"action": "y"}).to_string();
    assert_refused(
        patch(&mut c, "events", "default", "big-accept", &body, "").await,
        &[Reason::TooLarge],
        "too large",
    );
    assert_eq!(
        get(&mut c, "events", "default", "big-accept")
            .await
            .unwrap(),
        at_limit
    );
    // A ConfigMap's data has its own, smaller limit (1 MiB): Invalid, not TooLarge.
    let r = create(
        &mut c,
        cm("default", "cm-big", &[("k", &"x".repeat(1024 * 1024))]),
    )
    .await;
    assert_refused(r, &[Reason::Invalid], "too long");

    // 10 MiB: past what the transport accepts. Refused, and the server lives on.
    let ten = create(&mut c, event("ten", &"x".repeat(10 << 20))).await;
    let e = ten.expect_err("a 10 MiB request is refused");
    assert_one_line(&e.message);
    let mut c = connect(&server).await;
    assert_refused(
        get(&mut c, "events", "default", "ten").await,
        &[Reason::NotFound],
        "ten",
    );
    let names: Vec<String> = snapshot(&mut c, "events", "").await.into_keys().collect();
    assert_eq!(names, vec!["default/big-accept", "default/big-probe0"]);
    assert!(snapshot(&mut c, "configmaps", "").await.is_empty());
    assert_serves(&server).await;
}

#[tokio::test]
async fn requests_over_the_transport_limit_are_too_large() {
    let server = TestServer::start().await;
    let mut c = connect(&server).await;
    let r = create(
        &mut c,
        cm("default", "ten", &[("k", &"x".repeat(10 << 20))]),
    )
    .await;
    assert_refused(r, &[Reason::TooLarge], "too large");
}

#[tokio::test]
async fn many_labels_and_huge_annotations() {
    let server = TestServer::start().await;
    let mut c = connect(&server).await;
    // 10k valid labels: accepted, stored whole, selectable.
    let mut o = ConfigMap::default();
    o.meta_mut().name = "labels".into();
    o.meta_mut().namespace = "default".into();
    for i in 0..10_000 {
        o.meta_mut().labels.insert(format!("l{i}"), format!("v{i}"));
    }
    let made = create(&mut c, o.into_object()).await.unwrap();
    assert_eq!(made.meta().labels.len(), 10_000);
    let got = get(&mut c, "configmaps", "default", "labels")
        .await
        .unwrap();
    assert_eq!(got, made);
    let mut l = list_req("configmaps", "default");
    l.label_selector = "l9999=v9999,l0=v0".into();
    assert_eq!(list(&mut c, l).await.unwrap().items.len(), 1);

    // Annotations: 256 KiB of keys and values in total is the limit.
    let limit = 256 * 1024;
    let annotated = |name: &str, total: usize| {
        let mut o = ConfigMap::default();
        o.meta_mut().name = name.into();
        o.meta_mut().namespace = "default".into();
        let per = total / 4;
        for i in 0..4 {
            let key = format!("a{i}");
            let len = if i == 3 { total - 3 * per } else { per } - key.len();
            o.meta_mut().annotations.insert(key, "x".repeat(len));
        }
        o.into_object()
    };
    create(&mut c, annotated("at-limit", limit))
        .await
        .expect("exactly 256 KiB is accepted");
    assert_refused(
        create(&mut c, annotated("over-limit", limit + 1)).await,
        &[Reason::Invalid],
        "metadata.annotations",
    );
    assert_refused(
        create(&mut c, annotated("way-over", 1024 * 1024)).await,
        &[Reason::Invalid],
        "metadata.annotations",
    );
    // Growing by patch past the limit fails too, and changes nothing.
    let before = get(&mut c, "configmaps", "default", "at-limit")
        .await
        .unwrap();
    assert_refused(
        patch(
            &mut c,
            "configmaps",
            "default",
            "at-limit",
            r#"{"metadata":{"annotations":{"z":"y"}}}"#,
            "",
        )
        .await,
        &[Reason::Invalid],
        "metadata.annotations",
    );
    assert_eq!(
        get(&mut c, "configmaps", "default", "at-limit")
            .await
            .unwrap(),
        before
    );
    let names: Vec<String> = snapshot(&mut c, "configmaps", "")
        .await
        .into_keys()
        .collect();
    assert_eq!(names, vec!["default/at-limit", "default/labels"]);
    assert_serves(&server).await;
}

// ---------------------------------------------------------------------------------------
// Error messages built from client input

#[tokio::test]
async fn names_with_control_characters_give_one_line_errors() {
    let server = TestServer::start().await;
    let mut c = connect(&server).await;
    let e = get(&mut c, "configmaps", "default", "a\nb")
        .await
        .unwrap_err();
    assert_eq!(e.reason, Reason::NotFound);
    assert_one_line(&e.message);
    let e = create(&mut c, cm("default", "x\ny", &[]))
        .await
        .unwrap_err();
    assert_eq!(e.reason, Reason::Invalid);
    assert_one_line(&e.message);
}

#[tokio::test]
async fn huge_inputs_are_not_echoed_whole_into_errors() {
    let server = TestServer::start().await;
    let big = "a".repeat(1024 * 1024);
    let mut c = connect(&server).await;
    let attempts: Vec<(&str, Result<(), ApiError>)> = vec![
        (
            "get name",
            get(&mut c, "configmaps", "default", &big).await.map(|_| ()),
        ),
        (
            "get resource",
            get(&mut c, &big, "default", "x").await.map(|_| ()),
        ),
        ("label selector", {
            let mut l = list_req("configmaps", "default");
            l.label_selector = format!("app={big}");
            list(&mut c, l).await.map(|_| ())
        }),
        ("field selector", {
            let mut l = list_req("configmaps", "default");
            l.field_selector = format!("{big}=x");
            list(&mut c, l).await.map(|_| ())
        }),
        (
            "create name",
            create(&mut c, cm("default", &big, &[])).await.map(|_| ()),
        ),
        ("10k requirements, then a syntax error", {
            let many: Vec<String> = (0..10_000).map(|i| format!("k{i}!=x")).collect();
            let mut l = list_req("configmaps", "default");
            l.label_selector = format!("{},(", many.join(","));
            list(&mut c, l).await.map(|_| ())
        }),
        ("2000 invalid labels", {
            let mut o = ConfigMap::default();
            o.meta_mut().name = "many-bad".into();
            o.meta_mut().namespace = "default".into();
            for i in 0..2000 {
                o.meta_mut()
                    .labels
                    .insert(format!("bad key {i}"), "x".into());
            }
            create(&mut c, o.into_object()).await.map(|_| ())
        }),
    ];
    for (what, r) in attempts {
        let e = r.expect_err(what);
        assert!(
            matches!(
                e.reason,
                Reason::NotFound | Reason::BadRequest | Reason::Invalid
            ),
            "{what}: {:?} {}",
            e.reason,
            &e.message[..e.message.len().min(200)]
        );
        assert!(
            e.message.len() <= 4096,
            "{what}: a {} byte error message",
            e.message.len()
        );
        assert_one_line(&e.message);
    }
    assert_serves(&server).await;
}

// ---------------------------------------------------------------------------------------
// Watch

#[tokio::test]
async fn watches_with_bad_starting_points_are_refused() {
    let server = TestServer::start().await;
    let mut c = connect(&server).await;
    let watch = |resource: &str, rv: &str| WatchRequest {
        resource: resource.into(),
        namespace: "default".into(),
        resource_version: rv.into(),
        ..Default::default()
    };
    for rv in ["abc", "-1", "18446744073709551616", "1.0", " "] {
        let r = c
            .watch(watch("configmaps", rv))
            .await
            .map(|_| ())
            .map_err(err);
        assert_refused(r, &[Reason::BadRequest], "resourceVersion");
    }
    for res in ["", "configmap", "pods/log", "../../x"] {
        let r = c.watch(watch(res, "")).await.map(|_| ()).map_err(err);
        assert_refused(r, &[Reason::NotFound, Reason::BadRequest], "resource");
    }
    // u64::MAX parses: it must neither crash nor leak into anything else.
    let _maybe = c.watch(watch("configmaps", &u64::MAX.to_string())).await;
    assert_serves(&server).await;
}

#[tokio::test]
async fn watches_from_the_future_fail_promptly() {
    let server = TestServer::start().await;
    let mut c = connect(&server).await;
    let made = create(&mut c, cm("default", "w", &[])).await.unwrap();
    let future = (rv(&made) + 1_000_000).to_string();
    let r = c
        .watch(WatchRequest {
            resource: "configmaps".into(),
            namespace: "default".into(),
            resource_version: future,
            ..Default::default()
        })
        .await;
    let mut stream = match r {
        Err(s) => {
            let e = err(s);
            assert_one_line(&e.message);
            return;
        }
        Ok(s) => s.into_inner(),
    };
    // Writes go on; a watch that can never deliver them must end with an error.
    create(&mut c, cm("default", "w2", &[])).await.unwrap();
    let next = tokio::time::timeout(Duration::from_secs(5), stream.next()).await;
    match next {
        Ok(Some(Err(s))) => assert_one_line(&err(s).message),
        Ok(Some(Ok(ev))) => panic!("an event from the future watch: {ev:?}"),
        Ok(None) => panic!("the watch ended without saying why"),
        Err(_) => panic!("the watch from the future stayed silent for 5 s"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_watcher_that_never_reads_does_not_stall_writers() {
    let server = TestServer::start().await;
    // Its own connection, so HTTP/2 flow control on it cannot touch the writers'.
    let mut lazy = connect(&server).await;
    let mut stalled = lazy
        .watch(WatchRequest {
            resource: "configmaps".into(),
            namespace: String::new(),
            resource_version: "0".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    const WRITES: usize = 20_000;
    const WRITERS: usize = 32;
    let payload = "p".repeat(200);
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for w in 0..WRITERS {
        let mut c = connect(&server).await;
        let payload = payload.clone();
        tasks.spawn(async move {
            for i in (w..WRITES).step_by(WRITERS) {
                create(&mut c, cm("default", &format!("w-{i}"), &[("p", &payload)]))
                    .await
                    .unwrap_or_else(|e| panic!("write {i}: {e:?}"));
            }
        });
    }
    let all = tokio::time::timeout(Duration::from_secs(120), async {
        while let Some(r) = tasks.join_next().await {
            r.expect("writer task");
        }
    })
    .await;
    assert!(
        all.is_ok(),
        "writers stalled behind a watcher that never reads"
    );
    let took = started.elapsed();
    eprintln!("{WRITES} writes beside a stalled watcher took {took:?}");
    // The server still serves, lists see every write, and a fresh watch works.
    let mut c = connect(&server).await;
    let mut l = list_req("configmaps", "default");
    l.limit = 500;
    let mut total = 0;
    loop {
        let page = list(&mut c, l.clone()).await.unwrap();
        total += page.items.len();
        if page.r#continue.is_empty() {
            break;
        }
        l.r#continue = page.r#continue;
    }
    assert_eq!(total, WRITES);
    let head = list(&mut c, {
        let mut l = list_req("configmaps", "default");
        l.limit = 1;
        l
    })
    .await
    .unwrap()
    .resource_version;
    let mut fresh = c
        .watch(WatchRequest {
            resource: "configmaps".into(),
            namespace: "default".into(),
            resource_version: head,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    create(&mut c, cm("default", "after", &[])).await.unwrap();
    let ev = tokio::time::timeout(Duration::from_secs(10), fresh.next())
        .await
        .expect("a fresh watch delivers")
        .expect("stream open")
        .expect("an event");
    assert_eq!(ev.r#type, "ADDED");
    assert_eq!(ev.object.unwrap().meta().name, "after");

    // The stalled watch, read at last: a gapless prefix of the writes, then (if it was
    // cut off) either a clean end, after which the client watches again from the last
    // revision it saw (Kubernetes' cacher closes a stalled watcher so), or an error a
    // client understands as "relist"; never a silent gap.
    enum Ending {
        Closed,
        Failed(ApiError),
        Idle,
    }
    let mut last: Option<u64> = None;
    let mut seen = 0usize;
    let ending = loop {
        match tokio::time::timeout(Duration::from_secs(5), stalled.next()).await {
            Ok(Some(Ok(ev))) => {
                assert_eq!(ev.r#type, "ADDED", "{ev:?}");
                let r: u64 = ev.resource_version.parse().unwrap();
                if let Some(prev) = last {
                    assert_eq!(r, prev + 1, "the stalled watch skipped events");
                }
                last = Some(r);
                seen += 1;
            }
            Ok(Some(Err(s))) => break Ending::Failed(err(s)),
            Ok(None) => break Ending::Closed,
            Err(_) => break Ending::Idle,
        }
    };
    eprintln!("the stalled watch delivered {seen} events");
    if seen < WRITES + 1 {
        match ending {
            Ending::Idle => panic!("the stalled watch lost events and stayed open"),
            Ending::Failed(e) => {
                assert_eq!(e.reason, Reason::Expired, "{e:?}");
                assert_one_line(&e.message);
            }
            Ending::Closed => {
                // Resuming from the last revision delivered replays the rest, gapless.
                let from = last.map_or_else(|| "0".to_string(), |r| r.to_string());
                let mut resumed = c
                    .watch(WatchRequest {
                        resource: "configmaps".into(),
                        namespace: String::new(),
                        resource_version: from,
                        ..Default::default()
                    })
                    .await
                    .unwrap()
                    .into_inner();
                let ev = tokio::time::timeout(Duration::from_secs(10), resumed.next())
                    .await
                    .expect("a resumed watch delivers")
                    .expect("stream open")
                    .expect("an event");
                let r: u64 = ev.resource_version.parse().unwrap();
                if let Some(prev) = last {
                    assert_eq!(r, prev + 1, "resuming skipped events");
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Payloads: arbitrary bytes and numeric extremes

#[tokio::test]
async fn secret_data_keeps_arbitrary_bytes_through_every_path() {
    let server = TestServer::start().await;
    let mut c = connect(&server).await;
    let all_bytes: Vec<u8> = (0..=255u8).collect();
    let invalid_utf8 = vec![0xff, 0xfe, 0x00, 0xc3, 0x28, 0xed, 0xa0, 0x80];
    let mut s = Secret::default();
    s.meta_mut().name = "bytes".into();
    s.meta_mut().namespace = "default".into();
    s.data.insert("all".into(), all_bytes.clone());
    s.data.insert("invalid-utf8".into(), invalid_utf8.clone());
    s.data.insert("empty".into(), Vec::new());
    s.data.insert("nul".into(), vec![0; 4096]);
    let want = s.data.clone();
    let data = |o: &Object| match &o.kind {
        Some(object::Kind::Secret(x)) => x.data.clone(),
        _ => panic!("not a secret"),
    };
    let head = list(&mut c, list_req("secrets", "default"))
        .await
        .unwrap()
        .resource_version;
    let mut w = c
        .watch(WatchRequest {
            resource: "secrets".into(),
            namespace: "default".into(),
            resource_version: head,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let made = create(&mut c, s.into_object()).await.unwrap();
    assert_eq!(data(&made), want);
    assert_eq!(
        data(&get(&mut c, "secrets", "default", "bytes").await.unwrap()),
        want
    );
    let listed = list(&mut c, list_req("secrets", "default")).await.unwrap();
    assert_eq!(data(&listed.items[0]), want);
    let ev = tokio::time::timeout(Duration::from_secs(5), w.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(data(&ev.object.unwrap()), want);
    // A merge patch goes through JSON (base64): the bytes must survive it.
    let patched = patch(
        &mut c,
        "secrets",
        "default",
        "bytes",
        r#"{"metadata":{"labels":{"x":"y"}}}"#,
        "",
    )
    .await
    .unwrap();
    assert_eq!(data(&patched), want);
    assert_eq!(
        data(&get(&mut c, "secrets", "default", "bytes").await.unwrap()),
        want
    );
    // Base64 that is not base64 is refused.
    assert_refused(
        patch(
            &mut c,
            "secrets",
            "default",
            "bytes",
            r#"{"data":{"k":"%%%"}}"#,
            "",
        )
        .await,
        &[Reason::Invalid, Reason::BadRequest],
        "data",
    );
    assert_serves(&server).await;
}

#[tokio::test]
async fn int64_extremes_survive_storage_and_patches() {
    let server = TestServer::start().await;
    let mut c = connect(&server).await;
    let node = from_json(
        &proto::resource::info::Node,
        serde_json::json!({
            "apiVersion": "v1", "kind": "Node",
            "metadata": {"name": "n1", "generation": 2147483647},
            "status": {"images": [
                {"names": ["max"], "sizeBytes": "9223372036854775807"},
                {"names": ["min"], "sizeBytes": "-9223372036854775808"},
                {"names": ["zero"], "sizeBytes": "0"}
            ]}
        }),
    );
    let sizes = |o: &Object| match &o.kind {
        Some(object::Kind::Node(n)) => n
            .status
            .as_ref()
            .map(|s| s.images.iter().map(|i| i.size_bytes).collect::<Vec<_>>())
            .unwrap_or_default(),
        _ => panic!("not a node"),
    };
    let made = create(&mut c, node).await.unwrap();
    assert_eq!(
        made.meta().generation,
        0,
        "the server sets generation (Nodes carry none)"
    );
    assert_eq!(sizes(&made), vec![i64::MAX, i64::MIN, 0]);
    let patched = patch(
        &mut c,
        "nodes",
        "",
        "n1",
        r#"{"metadata":{"labels":{"a":"b"}}}"#,
        "",
    )
    .await
    .unwrap();
    assert_eq!(sizes(&patched), vec![i64::MAX, i64::MIN, 0]);
    // Past int64 in a patch: refused, nothing written.
    for body in [
        r#"{"status":{"images":[{"names":["x"],"sizeBytes":"9223372036854775808"}]}}"#,
        r#"{"status":{"images":[{"names":["x"],"sizeBytes":9223372036854775808}]}}"#,
        r#"{"status":{"images":[{"names":["x"],"sizeBytes":1e400}]}}"#,
        r#"{"status":{"images":[{"names":["x"],"sizeBytes":-1e30}]}}"#,
    ] {
        let r = patch(&mut c, "nodes", "", "n1", body, "status").await;
        assert!(
            matches!(&r, Err(e) if matches!(e.reason, Reason::Invalid | Reason::BadRequest)),
            "{body}: {r:?}"
        );
        assert_one_line(&r.unwrap_err().message);
    }
    assert_eq!(get(&mut c, "nodes", "", "n1").await.unwrap(), patched);
    // int32 extremes in a spec are carried exactly (validation of their meaning is the
    // kind's business), and a value past int32 is refused.
    let d = create(&mut c, deployment("web", i32::MAX)).await.unwrap();
    let r = patch(
        &mut c,
        "deployments",
        "default",
        "web",
        r#"{"spec":{"replicas":-2147483649}}"#,
        "",
    )
    .await;
    assert!(matches!(&r, Err(e) if e.reason == Reason::Invalid), "{r:?}");
    assert_eq!(
        get(&mut c, "deployments", "default", "web").await.unwrap(),
        d
    );
    assert_serves(&server).await;
}

// ---------------------------------------------------------------------------------------
// Races the registry retries internally, dry runs, and bytes that are not protobuf

/// `n` merge patches without a resourceVersion, all at once, each adding its own key.
/// Returns the ones that failed.
async fn patch_storm(server: &TestServer, n: usize) -> Vec<(usize, ApiError)> {
    let mut c = connect(server).await;
    create(&mut c, cm("default", "hot", &[])).await.unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..n {
        let mut c = connect(server).await;
        tasks.spawn(async move {
            let body = serde_json::json!({"data": {format!("k{i}"): "v"}}).to_string();
            (
                i,
                patch(&mut c, "configmaps", "default", "hot", &body, "").await,
            )
        });
    }
    let mut failed = Vec::new();
    while let Some(r) = tasks.join_next().await {
        let (i, r) = r.unwrap();
        if let Err(e) = r {
            assert_one_line(&e.message);
            failed.push((i, e));
        }
    }
    let now = get(&mut c, "configmaps", "default", "hot").await.unwrap();
    assert_eq!(
        cm_data(&now).len(),
        n - failed.len(),
        "a patch that succeeded was lost, or a failed one landed"
    );
    failed
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_patches_without_preconditions_all_land() {
    // Each loss means another patcher won, so 8 patchers fit the registry's 8 attempts.
    let server = TestServer::start().await;
    let failed = patch_storm(&server, 8).await;
    assert!(
        failed.is_empty(),
        "patches failed under contention: {failed:?}"
    );
    assert_serves(&server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn heavily_contended_patches_without_preconditions_all_land() {
    // Kubernetes' GuaranteedUpdate retries an unconditional patch until it lands.
    let server = TestServer::start().await;
    let failed = patch_storm(&server, 128).await;
    assert!(
        failed.is_empty(),
        "{} of 128 patches failed, first: {:?}",
        failed.len(),
        failed.first()
    );
    assert_serves(&server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creates_of_one_name_have_one_winner() {
    let server = TestServer::start().await;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..10 {
        let mut c = connect(&server).await;
        tasks.spawn(async move {
            let o = cm("default", "same", &[("writer", &i.to_string())]);
            (i, create(&mut c, o).await)
        });
    }
    let mut winners = Vec::new();
    while let Some(r) = tasks.join_next().await {
        let (i, r) = r.unwrap();
        match r {
            Ok(o) => winners.push((i, o)),
            Err(e) => {
                assert_eq!(e.reason, Reason::AlreadyExists, "creator {i}: {e:?}");
                assert_one_line(&e.message);
            }
        }
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    let mut c = connect(&server).await;
    let now = get(&mut c, "configmaps", "default", "same").await.unwrap();
    assert_eq!(now, winners[0].1);
    assert_serves(&server).await;
}

#[tokio::test]
async fn dry_runs_store_nothing() {
    let server = TestServer::start().await;
    let mut c = connect(&server).await;
    let made = create(&mut c, cm("default", "dry", &[("k", "v")]))
        .await
        .unwrap();
    let before = snapshot(&mut c, "configmaps", "").await;
    let r = c
        .create(CreateRequest {
            object: Some(cm("default", "dry-new", &[])),
            dry_run: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r.meta().name, "dry-new");
    let mut changed = made.clone();
    if let Some(object::Kind::ConfigMap(x)) = &mut changed.kind {
        x.data.insert("k".into(), "dry".into());
    }
    let r = c
        .update(UpdateRequest {
            object: Some(changed),
            subresource: String::new(),
            dry_run: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(cm_data(&r)["k"], "dry");
    c.patch(PatchRequest {
        resource: "configmaps".into(),
        namespace: "default".into(),
        name: "dry".into(),
        patch: r#"{"data":{"k":"dry"}}"#.into(),
        dry_run: true,
        ..Default::default()
    })
    .await
    .unwrap();
    // A dry run still validates.
    let r = c
        .create(CreateRequest {
            object: Some(cm("default", "Bad_Name", &[])),
            dry_run: true,
            ..Default::default()
        })
        .await
        .map_err(err);
    assert_refused(r, &[Reason::Invalid], "metadata.name");
    assert_eq!(snapshot(&mut c, "configmaps", "").await, before);
    assert_eq!(
        get(&mut c, "configmaps", "default", "dry").await.unwrap(),
        made
    );
    assert_serves(&server).await;
}

/// Sends and receives raw bytes, to put what no generated client would send on the wire.
#[derive(Clone, Copy, Default)]
struct RawCodec;

struct RawEncoder;
struct RawDecoder;

impl tonic::codec::Codec for RawCodec {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = RawEncoder;
    type Decoder = RawDecoder;
    fn encoder(&mut self) -> RawEncoder {
        RawEncoder
    }
    fn decoder(&mut self) -> RawDecoder {
        RawDecoder
    }
}

impl tonic::codec::Encoder for RawEncoder {
    type Item = Vec<u8>;
    type Error = tonic::Status;
    fn encode(
        &mut self,
        item: Vec<u8>,
        dst: &mut tonic::codec::EncodeBuf<'_>,
    ) -> Result<(), tonic::Status> {
        use bytes::BufMut;
        dst.put_slice(&item);
        Ok(())
    }
}

impl tonic::codec::Decoder for RawDecoder {
    type Item = Vec<u8>;
    type Error = tonic::Status;
    fn decode(
        &mut self,
        src: &mut tonic::codec::DecodeBuf<'_>,
    ) -> Result<Option<Vec<u8>>, tonic::Status> {
        use bytes::Buf;
        let mut out = vec![0; src.remaining()];
        src.copy_to_slice(&mut out);
        Ok(Some(out))
    }
}

async fn raw_unary(
    channel: Channel,
    method: &'static str,
    body: Vec<u8>,
) -> Result<Vec<u8>, tonic::Status> {
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready()
        .await
        .map_err(|e| tonic::Status::unavailable(e.to_string()))?;
    let path = tonic::codegen::http::uri::PathAndQuery::from_static(method);
    grpc.unary(tonic::Request::new(body), path, RawCodec)
        .await
        .map(|r| r.into_inner())
}

#[tokio::test]
async fn bytes_that_are_not_protobuf_do_not_hurt_the_server() {
    use rand::{Rng, SeedableRng};
    let server = TestServer::start().await;
    let mut c = connect(&server).await;
    let made = create(&mut c, cm("default", "keep", &[("k", "v")]))
        .await
        .unwrap();
    let channel = Channel::from_shared(server.url.clone())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let methods = [
        "/k8s.Api/Create",
        "/k8s.Api/Get",
        "/k8s.Api/List",
        "/k8s.Api/Update",
        "/k8s.Api/Patch",
        "/k8s.Api/Delete",
        "/k8s.Api/GetScale",
        "/k8s.Api/UpdateScale",
        "/k8s.Api/Bind",
    ];
    // Field 1 as a string that is not UTF-8; a truncated varint; a length past the end;
    // an end-group without a start; a deeply nested unknown group.
    let mut crafted: Vec<Vec<u8>> = vec![
        vec![0x0a, 0x02, 0xff, 0xfe],
        vec![0x08, 0xff, 0xff, 0xff],
        vec![0x0a, 0x7f, b'a'],
        vec![0x0c],
        vec![0xff; 16],
    ];
    let mut nested = Vec::new();
    for _ in 0..10_000 {
        nested.push(0xfb); // field 31, start group
        nested.push(0x01);
    }
    crafted.push(nested);
    // Deterministic noise.
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    for _ in 0..40 {
        let len = rng.random_range(1..256);
        crafted.push((0..len).map(|_| rng.random::<u8>()).collect());
    }
    for method in methods {
        for body in &crafted {
            let r = raw_unary(channel.clone(), method, body.clone()).await;
            if let Err(s) = r {
                let e = err(s);
                // A decode failure is Internal per the gRPC spec; a transport failure here
                // would mean the handler died.
                assert!(
                    !e.message.contains("h2 protocol error")
                        && !e.message.contains("transport error"),
                    "{method} {body:02x?}: {e:?}"
                );
                assert_one_line(&e.message);
            }
        }
    }
    assert_eq!(
        get(&mut c, "configmaps", "default", "keep").await.unwrap(),
        made
    );
    assert_serves(&server).await;
}
