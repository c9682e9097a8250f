//! Component tests: the apiserver in-process on a temporary sled store, driven through real
//! gRPC with the generated client. Each test asserts API semantics a Kubernetes user relies on.

use std::time::Duration;

use apiserver::testing::TestServer;
use futures::StreamExt;
use proto::k8s::api_client::ApiClient;
use proto::k8s::*;
use proto::{ApiError, Reason, Resource};
use tonic::transport::Channel;

mod common;
use common::*;

fn labelled(mut o: Object, labels: &[(&str, &str)]) -> Object {
    for (k, v) in labels {
        o.meta_mut().labels.insert((*k).into(), (*v).into());
    }
    o
}

async fn delete(
    c: &mut ApiClient<Channel>,
    res: &str,
    ns: &str,
    name: &str,
) -> Result<Object, ApiError> {
    c.delete(DeleteRequest {
        resource: res.into(),
        namespace: ns.into(),
        name: name.into(),
        ..Default::default()
    })
    .await
    .map(|r| r.into_inner())
    .map_err(err)
}

fn names(items: &[Object]) -> Vec<String> {
    items.iter().map(|o| o.meta().name.clone()).collect()
}

#[tokio::test]
async fn system_namespaces_exist_and_cannot_be_deleted() {
    let s = TestServer::start().await;
    let mut c = connect(&s).await;
    for ns in ["default", "kube-system"] {
        let o = get(&mut c, "namespaces", "", ns)
            .await
            .expect("system namespace exists");
        let Some(object::Kind::Namespace(n)) = o.kind else {
            panic!("not a namespace")
        };
        assert_eq!(n.status.unwrap().phase, "Active");
    }
    let e = delete(&mut c, "namespaces", "", "default")
        .await
        .unwrap_err();
    assert_eq!(e.reason, Reason::Forbidden);
}

#[tokio::test]
async fn create_sets_server_fields_and_refuses_duplicates() {
    let s = TestServer::start().await;
    let mut c = connect(&s).await;
    let o = create(&mut c, cm("default", "a", &[("k", "v")]))
        .await
        .unwrap();
    let m = o.meta();
    assert_eq!(m.uid.len(), 36);
    assert!(proto::time::parse_rfc3339(&m.creation_timestamp).is_some());
    assert!(m.resource_version.parse::<u64>().unwrap() > 0);
    assert_eq!(
        m.generation, 0,
        "ConfigMaps carry no generation, as in Kubernetes"
    );
    let json = o.to_json();
    assert_eq!(json["apiVersion"], "v1");
    assert_eq!(json["kind"], "ConfigMap");
    assert!(json["metadata"].get("generation").is_none());

    let e = create(&mut c, cm("default", "a", &[])).await.unwrap_err();
    assert_eq!(e.reason, Reason::AlreadyExists);
    assert_eq!(e.message, "configmaps \"a\" already exists");
    let e = c
        .create(CreateRequest {
            object: Some(cm("default", "a", &[])),
            dry_run: true,
            ..Default::default()
        })
        .await
        .map_err(err)
        .unwrap_err();
    assert_eq!(
        e.reason,
        Reason::AlreadyExists,
        "a dry run answers as the real create would"
    );
    // The failed create changed nothing.
    let again = get(&mut c, "configmaps", "default", "a").await.unwrap();
    assert_eq!(again, o);
}

#[tokio::test]
async fn generate_name_makes_unique_names() {
    let s = TestServer::start().await;
    let mut c = connect(&s).await;
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..20 {
        let mut o = cm("default", "", &[]);
        o.meta_mut().generate_name = "gen-".into();
        let made = create(&mut c, o).await.unwrap();
        assert!(made.meta().name.starts_with("gen-") && made.meta().name.len() == 9);
        assert!(seen.insert(made.meta().name.clone()));
    }
}

#[tokio::test]
async fn invalid_objects_are_refused_with_field_paths() {
    let s = TestServer::start().await;
    let mut c = connect(&s).await;
    let e = create(&mut c, cm("default", "Bad_Name", &[]))
        .await
        .unwrap_err();
    assert_eq!(e.reason, Reason::Invalid);
    assert!(
        e.message
            .starts_with("ConfigMap \"Bad_Name\" is invalid: metadata.name: Invalid value"),
        "{}",
        e.message
    );

    let mut d = deployment("web", 1);
    if let Some(object::Kind::Deployment(dep)) = &mut d.kind {
        dep.spec
            .as_mut()
            .unwrap()
            .template
            .as_mut()
            .unwrap()
            .metadata
            .as_mut()
            .unwrap()
            .labels
            .insert("app".into(), "other".into());
    }
    let e = create(&mut c, d).await.unwrap_err();
    assert_eq!(e.reason, Reason::Invalid);
    assert!(
        e.message.contains("spec.template.metadata.labels"),
        "{}",
        e.message
    );
    assert!(
        get(&mut c, "deployments", "default", "web").await.is_err(),
        "an invalid object must not be stored"
    );
}

#[tokio::test]
async fn missing_and_terminating_namespaces_refuse_content() {
    let s = TestServer::start().await;
    let mut c = connect(&s).await;
    let e = create(&mut c, cm("nope", "a", &[])).await.unwrap_err();
    assert_eq!(e.reason, Reason::NotFound);
    assert!(
        e.message.contains("namespaces \"nope\" not found"),
        "{}",
        e.message
    );

    let mut ns = Namespace::default();
    ns.meta_mut().name = "team".into();
    create(&mut c, ns.into_object()).await.unwrap();
    create(&mut c, cm("team", "a", &[])).await.unwrap();
    let deleted = delete(&mut c, "namespaces", "", "team").await.unwrap();
    let Some(object::Kind::Namespace(n)) = deleted.kind else {
        panic!()
    };
    assert_eq!(n.status.unwrap().phase, "Terminating");
    assert!(!n.metadata.unwrap().deletion_timestamp.is_empty());
    let e = create(&mut c, cm("team", "b", &[])).await.unwrap_err();
    assert_eq!(e.reason, Reason::Forbidden);
    // Existing content stays until the namespace controller empties it.
    assert!(get(&mut c, "configmaps", "team", "a").await.is_ok());
}

#[tokio::test]
async fn stale_updates_conflict_and_change_nothing() {
    let s = TestServer::start().await;
    let mut c = connect(&s).await;
    let v1 = create(&mut c, cm("default", "a", &[("k", "1")]))
        .await
        .unwrap();
    let mut mine = v1.clone();
    let Some(object::Kind::ConfigMap(x)) = &mut mine.kind else {
        panic!()
    };
    x.data.insert("k".into(), "2".into());
    let v2 = update(&mut c, mine.clone(), "").await.unwrap();
    assert!(
        v2.meta().resource_version.parse::<u64>().unwrap()
            > v1.meta().resource_version.parse::<u64>().unwrap()
    );
    // The same stale copy again: Conflict, and the stored object is v2.
    let e = update(&mut c, mine, "").await.unwrap_err();
    assert_eq!(e.reason, Reason::Conflict);
    assert!(
        e.message.contains("the object has been modified"),
        "{}",
        e.message
    );
    assert_eq!(get(&mut c, "configmaps", "default", "a").await.unwrap(), v2);
    // An update that changes nothing writes nothing.
    let v3 = update(&mut c, v2.clone(), "").await.unwrap();
    assert_eq!(v3.meta().resource_version, v2.meta().resource_version);
}

#[tokio::test]
async fn generation_tracks_spec_and_status_has_its_own_subresource() {
    let s = TestServer::start().await;
    let mut c = connect(&s).await;
    let d = create(&mut c, deployment("web", 1)).await.unwrap();
    assert_eq!(d.meta().generation, 1);

    // A label change is not a spec change.
    let mut l = d.clone();
    l.meta_mut().labels.insert("team".into(), "a".into());
    let l = update(&mut c, l, "").await.unwrap();
    assert_eq!(l.meta().generation, 1);

    // Status written through the main resource is ignored...
    let mut st = l.clone();
    if let Some(object::Kind::Deployment(x)) = &mut st.kind {
        x.status.get_or_insert_with(Default::default).replicas = 7;
    }
    let ignored = update(&mut c, st.clone(), "").await.unwrap();
    let Some(object::Kind::Deployment(x)) = &ignored.kind else {
        panic!()
    };
    assert_eq!(x.status.as_ref().map_or(0, |s| s.replicas), 0);
    // ...and taken through the status subresource, without touching spec or generation.
    st.meta_mut().resource_version = ignored.meta().resource_version.clone();
    if let Some(object::Kind::Deployment(x)) = &mut st.kind {
        x.spec.as_mut().unwrap().replicas = Some(99);
    }
    let written = update(&mut c, st, "status").await.unwrap();
    let Some(object::Kind::Deployment(x)) = &written.kind else {
        panic!()
    };
    assert_eq!(x.status.as_ref().unwrap().replicas, 7);
    assert_eq!(x.spec.as_ref().unwrap().replicas, Some(1));
    assert_eq!(written.meta().generation, 1);

    // A spec change bumps generation.
    let mut sp = written.clone();
    if let Some(object::Kind::Deployment(x)) = &mut sp.kind {
        x.spec.as_mut().unwrap().replicas = Some(3);
    }
    let sp = update(&mut c, sp, "").await.unwrap();
    assert_eq!(sp.meta().generation, 2);
}

#[tokio::test]
async fn merge_patch_with_and_without_precondition() {
    let s = TestServer::start().await;
    let mut c = connect(&s).await;
    let v1 = create(&mut c, cm("default", "a", &[("k", "1"), ("gone", "x")]))
        .await
        .unwrap();
    let patch = |p: serde_json::Value| PatchRequest {
        resource: "configmaps".into(),
        namespace: "default".into(),
        name: "a".into(),
        patch_type: "merge".into(),
        patch: p.to_string(),
        ..Default::default()
    };
    let out = c
        .patch(patch(serde_json::json!({"data": {"k": "2", "gone": null}, "metadata": {"labels": {"x": "y"}}})))
        .await
        .unwrap()
        .into_inner();
    let Some(object::Kind::ConfigMap(x)) = &out.kind else {
        panic!()
    };
    assert_eq!(x.data.get("k").map(String::as_str), Some("2"));
    assert!(!x.data.contains_key("gone"));
    assert_eq!(out.meta().labels.get("x").map(String::as_str), Some("y"));
    assert_eq!(out.meta().uid, v1.meta().uid);

    let stale = serde_json::json!({"metadata": {"resourceVersion": v1.meta().resource_version}, "data": {"k": "3"}});
    let e = err(c.patch(patch(stale)).await.unwrap_err());
    assert_eq!(e.reason, Reason::Conflict);

    let bad = err(c
        .patch(patch(serde_json::json!({"data": {"k": 5}, "bogus": 1})))
        .await
        .unwrap_err());
    assert!(
        matches!(bad.reason, Reason::Invalid | Reason::BadRequest),
        "{bad:?}"
    );
    let not_json = PatchRequest {
        patch: "{".into(),
        ..patch(serde_json::json!({}))
    };
    assert_eq!(
        err(c.patch(not_json).await.unwrap_err()).reason,
        Reason::BadRequest
    );
}

#[tokio::test]
async fn list_filters_by_namespace_labels_and_fields_and_pages() {
    let s = TestServer::start().await;
    let mut c = connect(&s).await;
    let mut ns = Namespace::default();
    ns.meta_mut().name = "other".into();
    create(&mut c, ns.into_object()).await.unwrap();
    for i in 0..25 {
        let env = if i % 2 == 0 { "prod" } else { "dev" };
        create(
            &mut c,
            labelled(
                cm("default", &format!("c{i:02}"), &[]),
                &[("env", env), ("app", "web")],
            ),
        )
        .await
        .unwrap();
    }
    create(&mut c, cm("other", "o1", &[])).await.unwrap();

    let all = list(
        &mut c,
        ListRequest {
            resource: "configmaps".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(all.items.len(), 26);
    let ns_only = list(
        &mut c,
        ListRequest {
            resource: "configmaps".into(),
            namespace: "other".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(names(&ns_only.items), vec!["o1"]);

    let prod = list(
        &mut c,
        ListRequest {
            resource: "configmaps".into(),
            label_selector: "env=prod,app in (web)".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(prod.items.len(), 13);
    let by_name = list(
        &mut c,
        ListRequest {
            resource: "configmaps".into(),
            field_selector: "metadata.name=c03".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(names(&by_name.items), vec!["c03"]);
    let e = list(
        &mut c,
        ListRequest {
            resource: "configmaps".into(),
            field_selector: "spec.foo=x".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert_eq!(e.reason, Reason::BadRequest);
    assert!(
        e.message.contains("field label not supported"),
        "{}",
        e.message
    );
    let e = list(
        &mut c,
        ListRequest {
            resource: "configmaps".into(),
            label_selector: "env in (".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert_eq!(e.reason, Reason::BadRequest);

    // Pages of 4 over the 13 prod objects: every one exactly once, in order.
    let mut paged = Vec::new();
    let mut token = String::new();
    loop {
        let page = list(
            &mut c,
            ListRequest {
                resource: "configmaps".into(),
                namespace: "default".into(),
                label_selector: "env=prod".into(),
                limit: 4,
                r#continue: token.clone(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert!(page.items.len() <= 4);
        paged.extend(names(&page.items));
        if page.r#continue.is_empty() {
            break;
        }
        token = page.r#continue;
    }
    assert_eq!(paged, names(&prod.items));

    let e = list(
        &mut c,
        ListRequest {
            resource: "widgets".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert_eq!(e.reason, Reason::NotFound);
}

#[tokio::test]
async fn finalizers_hold_deletion_until_removed() {
    let s = TestServer::start().await;
    let mut c = connect(&s).await;
    let mut o = cm("default", "held", &[]);
    o.meta_mut().finalizers.push("example.com/hold".into());
    create(&mut c, o).await.unwrap();
    let marked = delete(&mut c, "configmaps", "default", "held")
        .await
        .unwrap();
    assert!(!marked.meta().deletion_timestamp.is_empty());
    let mut cur = get(&mut c, "configmaps", "default", "held").await.unwrap();
    cur.meta_mut().finalizers.clear();
    update(&mut c, cur, "").await.unwrap();
    assert_eq!(
        get(&mut c, "configmaps", "default", "held")
            .await
            .unwrap_err()
            .reason,
        Reason::NotFound
    );
}

#[tokio::test]
async fn delete_preconditions_and_graceful_pods() {
    let s = TestServer::start().await;
    let mut c = connect(&s).await;
    let o = create(&mut c, cm("default", "a", &[])).await.unwrap();
    let e = c
        .delete(DeleteRequest {
            resource: "configmaps".into(),
            namespace: "default".into(),
            name: "a".into(),
            preconditions: Some(Preconditions {
                uid: "wrong".into(),
                resource_version: String::new(),
            }),
            ..Default::default()
        })
        .await
        .map_err(err)
        .unwrap_err();
    assert_eq!(e.reason, Reason::Conflict);
    assert!(get(&mut c, "configmaps", "default", "a").await.is_ok());
    c.delete(DeleteRequest {
        resource: "configmaps".into(),
        namespace: "default".into(),
        name: "a".into(),
        preconditions: Some(Preconditions {
            uid: o.meta().uid.clone(),
            resource_version: o.meta().resource_version.clone(),
        }),
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!(
        get(&mut c, "configmaps", "default", "a")
            .await
            .unwrap_err()
            .reason,
        Reason::NotFound
    );

    // A pod bound to a node waits for its kubelet; an unbound one goes at once.
    create(&mut c, pod("bound", "node-1")).await.unwrap();
    create(&mut c, pod("unbound", "")).await.unwrap();
    let marked = delete(&mut c, "pods", "default", "bound").await.unwrap();
    assert_eq!(marked.meta().deletion_grace_period_seconds, Some(30));
    assert!(get(&mut c, "pods", "default", "bound").await.is_ok());
    delete(&mut c, "pods", "default", "unbound").await.unwrap();
    assert_eq!(
        get(&mut c, "pods", "default", "unbound")
            .await
            .unwrap_err()
            .reason,
        Reason::NotFound
    );
    // The kubelet's final delete with grace 0 removes it.
    c.delete(DeleteRequest {
        resource: "pods".into(),
        namespace: "default".into(),
        name: "bound".into(),
        grace_period_seconds: Some(0),
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!(
        get(&mut c, "pods", "default", "bound")
            .await
            .unwrap_err()
            .reason,
        Reason::NotFound
    );
}

#[tokio::test]
async fn binding_assigns_a_pod_once() {
    let s = TestServer::start().await;
    let mut c = connect(&s).await;
    create(&mut c, pod("p", "")).await.unwrap();
    let bind = |node: &str| BindRequest {
        binding: Some(Binding {
            metadata: Some(ObjectMeta {
                name: "p".into(),
                namespace: "default".into(),
                ..Default::default()
            }),
            target: Some(ObjectReference {
                kind: "Node".into(),
                name: node.into(),
                ..Default::default()
            }),
            ..Default::default()
        }),
    };
    c.bind(bind("node-1")).await.unwrap();
    let got = get(&mut c, "pods", "default", "p").await.unwrap();
    let Some(object::Kind::Pod(p)) = got.kind else {
        panic!()
    };
    assert_eq!(p.spec.unwrap().node_name, "node-1");
    let cond = p
        .status
        .unwrap()
        .conditions
        .into_iter()
        .find(|c| c.r#type == "PodScheduled")
        .unwrap();
    assert_eq!(cond.status, "True");
    let e = err(c.bind(bind("node-2")).await.unwrap_err());
    assert_eq!(e.reason, Reason::Conflict);
    assert!(e.message.contains("already assigned"), "{}", e.message);
}

#[tokio::test]
async fn scale_subresource_reads_and_writes_replicas() {
    let s = TestServer::start().await;
    let mut c = connect(&s).await;
    create(&mut c, deployment("web", 2)).await.unwrap();
    let sc = c
        .get_scale(GetScaleRequest {
            resource: "deployments".into(),
            namespace: "default".into(),
            name: "web".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(sc.spec.as_ref().unwrap().replicas, 2);
    assert_eq!(sc.status.as_ref().unwrap().selector, "app=web");
    let mut want = sc.clone();
    want.spec.as_mut().unwrap().replicas = 5;
    want.metadata.as_mut().unwrap().resource_version.clear();
    let out = c
        .update_scale(UpdateScaleRequest {
            resource: "deployments".into(),
            scale: Some(want),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(out.spec.unwrap().replicas, 5);
    let d = get(&mut c, "deployments", "default", "web").await.unwrap();
    let Some(object::Kind::Deployment(d)) = d.kind else {
        panic!()
    };
    assert_eq!(d.spec.unwrap().replicas, Some(5));
    let e = err(c
        .get_scale(GetScaleRequest {
            resource: "configmaps".into(),
            namespace: "default".into(),
            name: "x".into(),
        })
        .await
        .unwrap_err());
    assert_eq!(e.reason, Reason::BadRequest);
}

#[tokio::test]
async fn oversized_objects_are_refused() {
    let s = TestServer::start().await;
    let mut c = connect(&s).await;
    // ConfigMaps have their own 1 MiB data limit (Invalid, as in Kubernetes)...
    let big = "x".repeat(2 * 1024 * 1024);
    let e = create(&mut c, cm("default", "big", &[("blob", &big)]))
        .await
        .unwrap_err();
    assert_eq!(e.reason, Reason::Invalid, "{e:?}");
    assert!(
        e.message
            .contains("[]: Too long: must have at most 1048576 bytes"),
        "{}",
        e.message
    );
    // ...any object over 1.5 MiB is refused whatever its kind.
    let mut ev = Event::default();
    ev.meta_mut().name = "big".into();
    ev.meta_mut().namespace = "default".into();
    ev.message = big;
    let e = create(&mut c, ev.into_object()).await.unwrap_err();
    assert_eq!(e.reason, Reason::TooLarge, "{e:?}");
    assert!(
        e.message.starts_with("events \"big\" is too large"),
        "{}",
        e.message
    );
    assert!(get(&mut c, "configmaps", "default", "big").await.is_err());
    assert!(get(&mut c, "events", "default", "big").await.is_err());
}

#[tokio::test]
async fn watch_delivers_in_order_with_selector_transitions_and_resumes() {
    let s = TestServer::start().await;
    let mut c = connect(&s).await;
    let before = create(&mut c, labelled(cm("default", "pre", &[]), &[("w", "yes")]))
        .await
        .unwrap();
    let start_rv = before.meta().resource_version.clone();

    let mut all = c
        .watch(WatchRequest {
            resource: "configmaps".into(),
            namespace: "default".into(),
            resource_version: start_rv.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let mut selected = c
        .watch(WatchRequest {
            resource: "configmaps".into(),
            namespace: "default".into(),
            label_selector: "w=yes".into(),
            resource_version: start_rv.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();

    // a: created matching; then relabelled out (DELETED for the selector); b never matches.
    let a = create(&mut c, labelled(cm("default", "a", &[]), &[("w", "yes")]))
        .await
        .unwrap();
    create(&mut c, cm("default", "b", &[])).await.unwrap();
    let mut a2 = a.clone();
    a2.meta_mut().labels.insert("w".into(), "no".into());
    update(&mut c, a2, "").await.unwrap();
    delete(&mut c, "configmaps", "default", "a").await.unwrap();

    let mut got = Vec::new();
    for _ in 0..4 {
        let ev = tokio::time::timeout(Duration::from_secs(5), all.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        got.push((
            ev.r#type.clone(),
            ev.object.unwrap().meta().name.clone(),
            ev.resource_version.parse::<u64>().unwrap(),
        ));
    }
    let kinds: Vec<_> = got.iter().map(|(t, n, _)| format!("{t} {n}")).collect();
    assert_eq!(kinds, ["ADDED a", "ADDED b", "MODIFIED a", "DELETED a"]);
    assert!(
        got.windows(2).all(|w| w[0].2 < w[1].2),
        "revisions must increase: {got:?}"
    );

    let mut sel = Vec::new();
    for _ in 0..2 {
        let ev = tokio::time::timeout(Duration::from_secs(5), selected.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        let o = ev.object.unwrap();
        // Leaving the selector: the object as the watcher knew it, at the event's revision.
        assert_eq!(o.meta().labels.get("w").map(String::as_str), Some("yes"));
        assert_eq!(o.meta().resource_version, ev.resource_version);
        sel.push(format!("{} {}", ev.r#type, o.meta().name));
    }
    assert_eq!(sel, ["ADDED a", "DELETED a"]);

    // Resume from the middle: only what came after.
    let mid = got[1].2;
    let mut resumed = c
        .watch(WatchRequest {
            resource: "configmaps".into(),
            namespace: "default".into(),
            resource_version: mid.to_string(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let ev = tokio::time::timeout(Duration::from_secs(5), resumed.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            ev.r#type.as_str(),
            ev.resource_version.parse::<u64>().unwrap()
        ),
        ("MODIFIED", got[2].2)
    );

    // resourceVersion "" starts with the current state as ADDED events.
    let mut initial = c
        .watch(WatchRequest {
            resource: "configmaps".into(),
            namespace: "default".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let mut init_names = Vec::new();
    for _ in 0..2 {
        let ev = tokio::time::timeout(Duration::from_secs(5), initial.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(ev.r#type, "ADDED");
        init_names.push(ev.object.unwrap().meta().name.clone());
    }
    init_names.sort();
    assert_eq!(init_names, ["b", "pre"]);
}

#[tokio::test]
async fn watch_resumes_across_a_restart() {
    let mut s = TestServer::start().await;
    let mut c = connect(&s).await;
    let first = create(&mut c, cm("default", "one", &[])).await.unwrap();
    create(&mut c, cm("default", "two", &[])).await.unwrap();
    s.restart().await;
    let mut c = connect(&s).await;
    let mut w = c
        .watch(WatchRequest {
            resource: "configmaps".into(),
            namespace: "default".into(),
            resource_version: first.meta().resource_version.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let ev = tokio::time::timeout(Duration::from_secs(5), w.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(ev.object.unwrap().meta().name, "two");
    create(&mut c, cm("default", "three", &[])).await.unwrap();
    let ev = tokio::time::timeout(Duration::from_secs(5), w.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(ev.object.unwrap().meta().name, "three");
}

#[tokio::test]
async fn bookmarks_carry_progress() {
    let s = TestServer::start().await;
    let mut c = connect(&s).await;
    let o = create(&mut c, cm("default", "a", &[])).await.unwrap();
    let mut w = c
        .watch(WatchRequest {
            resource: "configmaps".into(),
            namespace: "default".into(),
            resource_version: o.meta().resource_version.clone(),
            allow_watch_bookmarks: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    create(&mut c, cm("default", "b", &[])).await.unwrap();
    let ev = tokio::time::timeout(Duration::from_secs(5), w.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(ev.r#type, "ADDED");
    let ev = tokio::time::timeout(Duration::from_secs(30), w.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(ev.r#type, "BOOKMARK");
    assert!(ev.object.is_none());
    assert!(
        ev.resource_version.parse::<u64>().unwrap()
            > o.meta().resource_version.parse::<u64>().unwrap()
    );
}

#[tokio::test]
async fn unknown_or_empty_requests_are_bad_requests_not_crashes() {
    let s = TestServer::start().await;
    let mut c = connect(&s).await;
    let e = err(c
        .create(CreateRequest {
            object: None,
            dry_run: false,
            ..Default::default()
        })
        .await
        .unwrap_err());
    assert_eq!(e.reason, Reason::BadRequest);
    let e = err(c
        .create(CreateRequest {
            object: Some(Object { kind: None }),
            dry_run: false,
            ..Default::default()
        })
        .await
        .unwrap_err());
    assert_eq!(e.reason, Reason::BadRequest);
    let e = get(&mut c, "pods", "", "x").await.unwrap_err();
    assert_eq!(e.reason, Reason::BadRequest);
    let e = err(c
        .watch(WatchRequest {
            resource: "pods".into(),
            resource_version: "abc".into(),
            ..Default::default()
        })
        .await
        .unwrap_err());
    assert_eq!(e.reason, Reason::BadRequest);
    // Still serving.
    assert!(get(&mut c, "namespaces", "", "default").await.is_ok());
}

#[tokio::test]
async fn bookmarks_advance_on_a_quiet_prefix() {
    let s = TestServer::start().await;
    let mut c = connect(&s).await;
    let o = create(&mut c, cm("default", "a", &[])).await.unwrap();
    let start: u64 = o.meta().resource_version.parse().unwrap();
    let mut w = c
        .watch(WatchRequest {
            resource: "secrets".into(),
            namespace: "default".into(),
            resource_version: start.to_string(),
            allow_watch_bookmarks: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    // Writes elsewhere only: the secrets watcher sees no event, but its bookmark moves on,
    // so a re-watch after a long quiet spell does not fall out of the history.
    for i in 0..5 {
        create(&mut c, cm("default", &format!("other-{i}"), &[]))
            .await
            .unwrap();
    }
    let ev = tokio::time::timeout(Duration::from_secs(30), w.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(ev.r#type, "BOOKMARK");
    assert!(
        ev.resource_version.parse::<u64>().unwrap() >= start + 5,
        "bookmark at {}",
        ev.resource_version
    );
}

#[tokio::test]
async fn a_namespace_goes_once_emptied_and_finalized() {
    let s = TestServer::start().await;
    let mut c = connect(&s).await;
    let mut ns = Namespace::default();
    ns.meta_mut().name = "gone".into();
    let made = create(&mut c, ns.into_object()).await.unwrap();
    let Some(object::Kind::Namespace(n)) = &made.kind else {
        panic!()
    };
    assert_eq!(
        n.spec.as_ref().unwrap().finalizers,
        vec!["kubernetes".to_string()]
    );
    delete(&mut c, "namespaces", "", "gone").await.unwrap();
    // An ordinary update cannot drop the finalizer...
    let mut cur = get(&mut c, "namespaces", "", "gone").await.unwrap();
    if let Some(object::Kind::Namespace(n)) = &mut cur.kind {
        n.spec.as_mut().unwrap().finalizers.clear();
    }
    let kept = update(&mut c, cur.clone(), "").await.unwrap();
    let Some(object::Kind::Namespace(n)) = &kept.kind else {
        panic!()
    };
    assert_eq!(n.spec.as_ref().unwrap().finalizers.len(), 1);
    // ...the finalize subresource can, and then the namespace is gone.
    cur.meta_mut().resource_version.clear();
    update(&mut c, cur, "finalize").await.unwrap();
    assert_eq!(
        get(&mut c, "namespaces", "", "gone")
            .await
            .unwrap_err()
            .reason,
        Reason::NotFound
    );
}

#[tokio::test]
async fn jobs_get_a_selector_by_uid_and_namespaces_a_name_label() {
    let s = TestServer::start().await;
    let mut c = connect(&s).await;
    let job = serde_json::json!({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": "pi", "namespace": "default"},
        "spec": {"template": {"spec": {
            "restartPolicy": "Never",
            "containers": [{"name": "pi", "image": "busybox:1"}]
        }}}
    });
    let made = create(
        &mut c,
        Object::from_json_as(&proto::resource::info::Job, job).unwrap(),
    )
    .await
    .unwrap();
    let uid = made.meta().uid.clone();
    let Some(object::Kind::Job(j)) = &made.kind else {
        panic!()
    };
    let spec = j.spec.as_ref().unwrap();
    assert_eq!(
        spec.selector
            .as_ref()
            .unwrap()
            .match_labels
            .get("batch.kubernetes.io/controller-uid"),
        Some(&uid)
    );
    let labels = &spec
        .template
        .as_ref()
        .unwrap()
        .metadata
        .as_ref()
        .unwrap()
        .labels;
    assert_eq!(
        labels
            .get("batch.kubernetes.io/job-name")
            .map(String::as_str),
        Some("pi")
    );
    assert_eq!(labels.get("controller-uid"), Some(&uid));
    assert_eq!(made.meta().generation, 1);

    let mut ns = Namespace::default();
    ns.meta_mut().name = "team-a".into();
    create(&mut c, ns.into_object()).await.unwrap();
    let by_label = list(
        &mut c,
        ListRequest {
            resource: "namespaces".into(),
            label_selector: "kubernetes.io/metadata.name=team-a".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(names(&by_label.items), vec!["team-a"]);
}

#[tokio::test]
async fn pod_updates_may_add_tolerations_but_not_drop_them() {
    let s = TestServer::start().await;
    let mut c = connect(&s).await;
    let p = create(&mut c, pod("p", "")).await.unwrap();
    let Some(object::Kind::Pod(made)) = &p.kind else {
        panic!()
    };
    assert_eq!(
        made.spec.as_ref().unwrap().tolerations.len(),
        2,
        "the default NoExecute tolerations"
    );

    let mut added = p.clone();
    if let Some(object::Kind::Pod(x)) = &mut added.kind {
        x.spec.as_mut().unwrap().tolerations.push(Toleration {
            key: "dedicated".into(),
            operator: "Equal".into(),
            value: "gpu".into(),
            effect: "NoSchedule".into(),
            ..Default::default()
        });
    }
    let added = update(&mut c, added, "")
        .await
        .expect("adding a toleration is allowed");

    let mut dropped = added.clone();
    if let Some(object::Kind::Pod(x)) = &mut dropped.kind {
        // (The default NoExecute tolerations would come back by defaulting: drop ours.)
        x.spec
            .as_mut()
            .unwrap()
            .tolerations
            .retain(|t| t.key != "dedicated");
    }
    let e = update(&mut c, dropped, "").await.unwrap_err();
    assert_eq!(e.reason, Reason::Invalid);
    assert!(
        e.message.contains("spec.tolerations: Forbidden"),
        "{}",
        e.message
    );
}

#[tokio::test]
async fn grpc_health_reports_serving() {
    use tonic_health::pb::{
        HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
    };
    let s = TestServer::start().await;
    let channel = tonic::transport::Channel::from_shared(s.url.clone())
        .unwrap()
        .connect()
        .await
        .expect("connect");
    let mut h = HealthClient::new(channel);
    for service in ["", "k8s.Api"] {
        let r = h
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap_or_else(|e| panic!("health of {service:?}: {e}"))
            .into_inner();
        assert_eq!(r.status(), ServingStatus::Serving, "{service:?}");
    }
}
