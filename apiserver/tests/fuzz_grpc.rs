//! Property-based fuzzing (proptest) of the apiserver through its real front door: an
//! in-process server on a temporary sled store, sent random Create, Update, Patch, Get,
//! List, Watch and Delete requests over real gRPC (random resources, names, namespaces,
//! selectors, resourceVersions, patch bodies, and objects whose encoded bytes were
//! damaged at random). The properties:
//! - no request panics the server, in any task (a panic hook counts them; a failing case is
//!   shrunk by proptest to the smallest request that panics);
//! - every error is one line with a reason;
//! - the server still answers afterwards;
//! - every object it stored reads back by name as listed, and passes the API's own
//!   validation on read.
//!
//! A longer run: `PROPTEST_CASES=100000 cargo test --release -p apiserver --test fuzz_grpc`.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use apiserver::testing::TestServer;
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, TestRunner};
use prost::Message;
use proto::ApiError;
use proto::k8s::*;
use proto::resource::ALL_KINDS;

mod common;
use common::*;

/// Creates the server accepted (not dry runs).
static CREATED: AtomicUsize = AtomicUsize::new(0);

/// Panics seen in any thread of this test process since the last `take_panics`.
static PANICS: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn record_panics() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if let Ok(mut p) = PANICS.lock() {
            p.push(info.to_string());
        }
        previous(info);
    }));
}

fn take_panics() -> Vec<String> {
    PANICS
        .lock()
        .map(|mut p| std::mem::take(&mut *p))
        .unwrap_or_default()
}

/// Each case is a few requests over the network: fewer cases than proptest's default.
fn config() -> Config {
    let base = Config::default();
    Config {
        cases: (base.cases / 4).max(1),
        source_file: Some(file!()),
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..base
    }
}

const MANIFESTS: &[&str] = &[
    include_str!("../../proto/tests/manifests/configmap.yaml"),
    include_str!("../../proto/tests/manifests/deployment.yaml"),
    include_str!("../../proto/tests/manifests/service.yaml"),
    include_str!("../../proto/tests/manifests/job.yaml"),
    include_str!("../../proto/tests/manifests/cronjob.yaml"),
    include_str!("../../proto/tests/manifests/secret.yaml"),
    include_str!("../../proto/tests/manifests/list.json"),
    include_str!("../../proto/tests/manifests/pv-pvc.yaml"),
    include_str!("../../proto/tests/manifests/statefulset.yaml"),
    include_str!("../../examples/web.yaml"),
];

fn seed_objects() -> &'static [Object] {
    static SEEDS: std::sync::OnceLock<Vec<Object>> = std::sync::OnceLock::new();
    SEEDS.get_or_init(|| {
        let mut out: Vec<Object> = MANIFESTS
            .iter()
            .flat_map(|m| proto::manifest::load_documents(m).expect("seed manifests load"))
            .collect();
        let ns = proto::manifest::load_documents(
            "apiVersion: v1\nkind: Namespace\nmetadata: {name: fuzz}\n",
        )
        .expect("namespace manifest");
        out.extend(ns);
        out
    })
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(vec!["a", "b", "web", "fuzz", "default", "kubernetes"]).prop_map(str::to_string),
        1 => "[a-z0-9.-]{0,70}",
        1 => "\\PC{0,12}",
    ]
}

fn namespace() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(vec!["default", "fuzz", "", "kube-system"]).prop_map(str::to_string),
        1 => "[a-z-]{0,10}|\\PC{0,8}",
    ]
}

fn resource() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => prop::sample::select(ALL_KINDS.iter().map(|k| k.plural).collect::<Vec<_>>()).prop_map(str::to_string),
        1 => prop::sample::select(vec!["deployments.apps", "pods/status", "po", "", "Pod", "namespaces/finalize"]).prop_map(str::to_string),
        1 => "\\PC{0,10}",
    ]
}

fn resource_version() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("0".to_string()),
        (1u64..400).prop_map(|r| r.to_string()),
        any::<u64>().prop_map(|r| r.to_string()),
        "[-+0-9a-z]{0,22}",
    ]
}

fn selector() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[a-z]{1,4}(=|==|!=)[a-z0-9]{0,4}",
        "[a-z]{1,4} (in|notin) \\([a-z,]{0,8}\\)",
        "(metadata\\.name|metadata\\.namespace|spec\\.nodeName|status\\.phase|spec\\.x)(=|!=)[a-z\\\\,=]{0,5}",
        "\\PC{0,16}",
    ]
}

/// A seed object with random metadata, whose encoding then has random bytes overwritten
/// (kept when it still decodes as an `Object`): random values in any field, deep inside.
fn object() -> impl Strategy<Value = Object> {
    (
        any::<prop::sample::Index>(),
        name(),
        namespace(),
        resource_version(),
        prop::collection::btree_map("[a-z./]{0,8}|\\PC{0,4}", "[a-z0-9]{0,6}|\\PC{0,4}", 0..3),
        prop::collection::vec("[a-z./-]{0,20}|\\PC{0,5}", 0..2),
        prop::option::of(prop::sample::select(vec![
            "2026-01-01T00:00:00Z",
            "garbage",
            "",
        ])),
        prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
    )
        .prop_map(|(i, name, ns, rv, labels, finalizers, deleted, flips)| {
            let seeds = seed_objects();
            let mut o = seeds[i.index(seeds.len())].clone();
            let m = o.meta_mut();
            m.name = name;
            m.namespace = ns;
            m.resource_version = rv;
            m.labels.extend(labels);
            m.finalizers = finalizers;
            if let Some(d) = deleted {
                m.deletion_timestamp = d.to_string();
            }
            let mut bytes = o.encode_to_vec();
            for (at, b) in flips {
                let n = bytes.len();
                bytes[at.index(n)] = b;
            }
            Object::decode(bytes.as_slice()).unwrap_or(o)
        })
}

fn patch_body() -> impl Strategy<Value = (String, String)> {
    let ty = prop::sample::select(vec![
        "merge",
        "strategic",
        "json",
        "apply",
        "",
        "application/apply-patch+yaml",
        "bogus",
    ]);
    let body = prop_oneof![
        Just(r#"{"metadata":{"labels":{"fuzz":"x"}}}"#.to_string()),
        Just(r#"{"metadata":{"finalizers":["a/b"]}}"#.to_string()),
        Just(r#"{"spec":{"replicas":-1}}"#.to_string()),
        Just(r#"{"spec":{"replicas":"3"}}"#.to_string()),
        Just(r#"{"data":{"k":null},"metadata":{"resourceVersion":"1"}}"#.to_string()),
        Just(r#"[{"op":"add","path":"/metadata/labels/x","value":"y"}]"#.to_string()),
        Just(r#"[{"op":"remove","path":"/metadata"}]"#.to_string()),
        Just(r#"[{"op":"replace","path":"/kind","value":"Pod"}]"#.to_string()),
        Just(
            r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"},"data":{"x":"1"}}"#
                .to_string()
        ),
        Just("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {x: '1'}\n".to_string()),
        Just(r#"{"spec":{"containers":[{"name":"c","$patch":"delete"}]}}"#.to_string()),
        Just(r#"{"spec":{"$setElementOrder/containers":[{"name":"z"}]}}"#.to_string()),
        Just(r#"{"status":{"phase":"Running"}}"#.to_string()),
        "\\PC{0,40}",
        "[{}\\[\\]:,\" a-z0-9$/]{0,40}",
    ];
    (ty, body).prop_map(|(t, b)| (t.to_string(), b))
}

#[derive(Debug, Clone)]
enum Req {
    Create(Object, bool, String),
    Update(Object, String, bool),
    Patch(PatchRequest),
    Get(GetRequest),
    List(ListRequest),
    Watch(WatchRequest),
    Delete(DeleteRequest),
}

fn request() -> impl Strategy<Value = Req> {
    prop_oneof![
        4 => (object(), any::<bool>(), prop::sample::select(vec!["", "fuzzer", "kubectl"]))
            .prop_map(|(o, dry, fm)| Req::Create(o, dry, fm.to_string())),
        2 => (object(), prop::sample::select(vec!["", "status", "scale", "bogus"]), any::<bool>())
            .prop_map(|(o, sub, dry)| Req::Update(o, sub.to_string(), dry)),
        3 => (resource(), namespace(), name(), patch_body(),
              prop::sample::select(vec!["", "status", "scale"]), any::<bool>(), any::<bool>(),
              prop::sample::select(vec!["", "Strict", "Warn", "Ignore", "bogus"]))
            .prop_map(|(resource, namespace, name, (patch_type, patch), sub, dry, force, fv)| {
                Req::Patch(PatchRequest {
                    resource, namespace, name, patch_type, patch,
                    subresource: sub.to_string(), dry_run: dry,
                    field_manager: "fuzzer".into(), force,
                    field_validation: fv.to_string(),
                })
            }),
        1 => (resource(), namespace(), name())
            .prop_map(|(resource, namespace, name)| Req::Get(GetRequest { resource, namespace, name })),
        2 => (resource(), namespace(), selector(), selector(), any::<i64>(), prop_oneof![Just(String::new()), "\\PC{0,20}"])
            .prop_map(|(resource, namespace, l, f, limit, cont)| {
                Req::List(ListRequest {
                    resource, namespace, label_selector: l, field_selector: f,
                    limit: if limit % 3 == 0 { limit } else { limit.rem_euclid(5) },
                    r#continue: cont,
                })
            }),
        1 => (resource(), namespace(), selector(), selector(), resource_version(), any::<bool>())
            .prop_map(|(resource, namespace, l, f, rv, bm)| {
                Req::Watch(WatchRequest {
                    resource, namespace, label_selector: l, field_selector: f,
                    resource_version: rv, allow_watch_bookmarks: bm,
                })
            }),
        2 => (resource(), namespace(), name(), prop::option::of((name(), resource_version())),
              prop::option::of(prop_oneof![any::<i64>(), -1i64..3]),
              prop::sample::select(vec!["", "Foreground", "Background", "Orphan", "bogus"]), any::<bool>())
            .prop_map(|(resource, namespace, name, pre, grace, prop, dry)| {
                Req::Delete(DeleteRequest {
                    resource, namespace, name,
                    preconditions: pre.map(|(uid, resource_version)| Preconditions { uid, resource_version }),
                    grace_period_seconds: grace,
                    propagation_policy: prop.to_string(),
                    dry_run: dry,
                })
            }),
    ]
}

/// A refused request: an error a client can act on, in one line.
fn check_error(what: &str, s: tonic::Status) -> Result<(), TestCaseError> {
    let e = ApiError::from_status(&s);
    prop_assert!(
        !e.message.contains('\n'),
        "{what}: error spans lines: {:?}",
        e.message
    );
    prop_assert!(
        !matches!(s.code(), tonic::Code::Unknown | tonic::Code::Cancelled),
        "{what}: transport-level failure (a handler that died?): {s:?}"
    );
    Ok(())
}

async fn send(c: &mut Client, req: Req) -> Result<(), TestCaseError> {
    let what: String = format!("{req:?}").chars().take(300).collect();
    let what = what.as_str();
    let result = match req {
        Req::Create(o, dry_run, field_manager) => c
            .create(CreateRequest {
                object: Some(o),
                dry_run,
                field_manager,
            })
            .await
            .map(|_| {
                if !dry_run {
                    CREATED.fetch_add(1, Ordering::Relaxed);
                }
            }),
        Req::Update(o, subresource, dry_run) => c
            .update(UpdateRequest {
                object: Some(o),
                subresource,
                dry_run,
                ..Default::default()
            })
            .await
            .map(drop),
        Req::Patch(p) => c.patch(p).await.map(drop),
        Req::Get(g) => c.get(g).await.map(drop),
        Req::List(l) => c.list(l).await.map(drop),
        Req::Delete(d) => c.delete(d).await.map(drop),
        Req::Watch(w) => match c.watch(w).await {
            // Take what the server has ready (an initial listing, or the stream's end);
            // a live watch with nothing to say is simply dropped.
            Ok(stream) => {
                let mut stream = stream.into_inner();
                let mut n = 0;
                while n < 50 {
                    match tokio::time::timeout(Duration::from_millis(20), stream.message()).await {
                        Ok(Ok(Some(_))) => n += 1,
                        Ok(Ok(None)) | Err(_) => break,
                        Ok(Err(s)) => {
                            check_error(what, s)?;
                            break;
                        }
                    }
                }
                Ok(())
            }
            Err(s) => Err(s),
        },
    };
    if let Err(s) = result {
        check_error(what, s)?;
    }
    Ok(())
}

/// Everything the server stored, of every kind: listed, read back by name, and valid.
async fn check_stored(c: &mut Client) -> Result<usize, String> {
    let mut seen = 0;
    for info in ALL_KINDS {
        let listed = list(
            c,
            ListRequest {
                resource: info.plural.into(),
                ..Default::default()
            },
        )
        .await
        .map_err(|e| format!("list {}: {e}", info.plural))?;
        for o in listed.items {
            seen += 1;
            let meta = o.meta();
            let key = format!("{} {}/{}", info.plural, meta.namespace, meta.name);
            prop_assert_some(o.info().map(|i| i.kind == info.kind), &key)?;
            let got = get(c, info.plural, &meta.namespace, &meta.name)
                .await
                .map_err(|e| format!("{key} listed but not readable: {e}"))?;
            if got.meta().resource_version == meta.resource_version && got != o {
                return Err(format!(
                    "{key}: get and list disagree at the same resourceVersion"
                ));
            }
            let errors = proto::kind_validation::validate(&got);
            if !errors.is_empty() {
                return Err(format!(
                    "{key} is stored but fails validation on read: {}\n{}",
                    proto::validation::join(&errors),
                    proto::manifest::to_yaml(&got)
                ));
            }
            // And it decodes from its own encoding, as the store reads it.
            let bytes = apiserver::codec::encode(&got);
            apiserver::codec::decode(&bytes, 1).map_err(|e| format!("{key}: {e}"))?;
        }
    }
    Ok(seen)
}

fn prop_assert_some(v: Option<bool>, key: &str) -> Result<(), String> {
    match v {
        Some(true) => Ok(()),
        _ => Err(format!("{key} listed under the wrong kind")),
    }
}

#[test]
fn random_requests_through_the_real_server() {
    record_panics();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let server = rt.block_on(TestServer::start());
    let mut client = rt.block_on(connect(&server));
    // The namespace most requests name exists, so creates get past admission.
    let fuzz_ns = seed_objects().last().cloned().expect("namespace seed");
    rt.block_on(create(&mut client, fuzz_ns))
        .expect("create namespace fuzz");

    let mut runner = TestRunner::new(config());
    let strategy = prop::collection::vec(request(), 1..8);
    let result = runner.run(&strategy, |requests| {
        // A channel clone per case: the same connection, and `run` wants a `Fn`.
        let mut client = client.clone();
        rt.block_on(async {
            for r in requests {
                let what = format!("{r:?}");
                tokio::time::timeout(Duration::from_secs(60), send(&mut client, r))
                    .await
                    .map_err(|_| TestCaseError::fail(format!("no answer within 60 s: {what}")))??;
            }
            Ok::<(), TestCaseError>(())
        })?;
        let panics = take_panics();
        prop_assert!(panics.is_empty(), "the server panicked: {panics:?}");
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }

    // Still serving, and everything stored is sound.
    let stored = rt
        .block_on(check_stored(&mut client))
        .unwrap_or_else(|e| panic!("{e}"));
    let created = CREATED.load(Ordering::Relaxed);
    assert!(
        created > 0,
        "the fuzzer never got a create through ({stored} objects stored)"
    );
    eprintln!("fuzz_grpc: {created} creates accepted, {stored} objects checked on read");
    let panics = take_panics();
    assert!(panics.is_empty(), "the server panicked: {panics:?}");
    rt.block_on(server.stop());
}
