//! Property-based fuzzing (proptest) of the patch engines the apiserver runs on a client's
//! body: RFC 7386 merge patch, Kubernetes' strategic merge patch, RFC 6902 JSON patch, and
//! the parsing of each body. Nothing may panic on any document or patch; an error is one
//! line; merge patch keeps the algebra of RFC 7386. A longer run:
//! `PROPTEST_CASES=100000 cargo test --release -p apiserver --test fuzz_patch`.

use apiserver::patch::{self, PatchType, json_patch, merge_patch, strategic};
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence};
use serde_json::{Map, Value, json};

fn config() -> Config {
    Config {
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..Config::default()
    }
}

/// Keys that collide often (so patches meet the document's keys), strategic directives,
/// and the field names whose schema gives lists a merge key.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(vec!["a", "b", "c"]).prop_map(str::to_string),
        2 => prop::sample::select(vec![
            "metadata", "labels", "spec", "containers", "name", "image", "ports",
            "containerPort", "env", "value", "volumes", "finalizers", "tolerations",
            "volumeMounts", "mountPath", "protocol", "status", "conditions", "type",
        ])
        .prop_map(str::to_string),
        1 => prop::sample::select(vec![
            "$patch", "$retainKeys", "$deleteFromPrimitiveList/finalizers",
            "$setElementOrder/containers", "$setElementOrder/finalizers",
            "$deleteFromPrimitiveList/a", "$setElementOrder/a",
        ])
        .prop_map(str::to_string),
        1 => "\\PC{0,6}",
    ]
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (-3i64..3).prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        prop::sample::select(vec!["replace", "delete", "merge", "x", "", "web", "TCP"])
            .prop_map(Value::from),
        "\\PC{0,6}".prop_map(Value::from),
    ]
}

/// Any JSON, nested a few levels, with object keys from [`key`].
fn value() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(5, 40, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(key(), inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn object() -> impl Strategy<Value = Value> {
    prop::collection::btree_map(key(), value(), 0..6)
        .prop_map(|m| Value::Object(m.into_iter().collect()))
}

/// JSON without null anywhere: what a merge patch can produce as a result (RFC 7386:
/// a null in the target cannot be written by a merge patch).
fn value_without_nulls() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        any::<bool>().prop_map(Value::Bool),
        (-3i64..3).prop_map(Value::from),
        "[a-c]{0,2}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 30, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            prop::collection::btree_map("[a-d]", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// The merge patch that takes `from` to `to` (RFC 7386 section 3's converse): keys removed
/// become null, changed objects recurse, everything else is replaced whole.
fn merge_diff(from: &Value, to: &Value) -> Value {
    match (from, to) {
        (Value::Object(f), Value::Object(t)) => {
            let mut out = Map::new();
            for k in f.keys() {
                if !t.contains_key(k) {
                    out.insert(k.clone(), Value::Null);
                }
            }
            for (k, tv) in t {
                match f.get(k) {
                    Some(fv) if fv == tv => {}
                    Some(fv) if fv.is_object() && tv.is_object() => {
                        out.insert(k.clone(), merge_diff(fv, tv));
                    }
                    _ => {
                        out.insert(k.clone(), tv.clone());
                    }
                }
            }
            Value::Object(out)
        }
        _ => to.clone(),
    }
}

/// Pod-like documents, so strategic merge meets real merge keys (containers by name, ports
/// by containerPort, env by name).
fn pod_document() -> impl Strategy<Value = Value> {
    let container = (
        prop::sample::select(vec!["a", "b", "c"]),
        prop::option::of(value()),
        prop::collection::vec((0i64..3, prop::sample::select(vec!["TCP", "UDP"])), 0..3),
        prop::collection::vec((prop::sample::select(vec!["X", "Y"]), value()), 0..3),
    )
        .prop_map(|(name, image, ports, env)| {
            let mut c = json!({
                "name": name,
                "ports": ports.iter().map(|(p, proto)| json!({"containerPort": p, "protocol": proto})).collect::<Vec<_>>(),
                "env": env.iter().map(|(n, v)| json!({"name": n, "value": v})).collect::<Vec<_>>(),
            });
            if let Some(i) = image {
                c["image"] = i;
            }
            c
        });
    (
        prop::collection::vec(container, 0..3),
        prop::collection::vec(prop::sample::select(vec!["f1", "f2", "f3"]), 0..3),
        value(),
    )
        .prop_map(|(containers, finalizers, extra)| {
            json!({
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": "p", "finalizers": finalizers, "labels": {"a": "b"}},
                "spec": {"containers": containers, "extra": extra},
            })
        })
}

/// A strategic patch for a pod: random values where a pod has merge-keyed lists, with
/// directives mixed in.
fn pod_patch() -> impl Strategy<Value = Value> {
    (pod_document(), object(), any::<bool>()).prop_map(|(doc, noise, mix)| {
        let mut p = doc;
        if mix && let (Value::Object(p), Value::Object(noise)) = (&mut p, noise) {
            p.extend(noise);
        }
        p
    })
}

fn assert_one_line(message: &str) -> Result<(), TestCaseError> {
    prop_assert!(!message.contains('\n'), "error spans lines: {message:?}");
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    /// RFC 7386: applying diff(a, b) to a gives b, whenever b holds no null.
    #[test]
    fn merge_patch_of_a_diff_gives_the_target(a in value_without_nulls(), b in value_without_nulls()) {
        let p = merge_diff(&a, &b);
        let mut out = a.clone();
        merge_patch(&mut out, &p);
        prop_assert_eq!(&out, &b, "patch {}", p);
    }

    /// A merge patch is idempotent, and its result holds none of the patch's nulls in
    /// object members.
    #[test]
    fn merge_patch_is_idempotent(target in value(), patch in value()) {
        let mut once = target.clone();
        merge_patch(&mut once, &patch);
        let mut twice = once.clone();
        merge_patch(&mut twice, &patch);
        prop_assert_eq!(&once, &twice);
        if let (Value::Object(o), Value::Object(p)) = (&once, &patch) {
            for (k, v) in p {
                if v.is_null() {
                    prop_assert!(!o.contains_key(k), "{k} was deleted by the patch");
                }
            }
        }
    }

    /// Strategic merge over any document and patch, with the schema of a real kind or
    /// none: a result or a one-line error, never a panic; a second application of the
    /// same patch does not fail where the first succeeded with a plain map patch.
    #[test]
    fn strategic_merge_never_panics(
        doc in prop_oneof![object(), pod_document()],
        patch in prop_oneof![object(), pod_patch(), value()],
        message in prop::sample::select(vec!["k8s.Pod", "k8s.Deployment", "k8s.Service", "k8s.Node", "k8s.ConfigMap", "k8s.Nothing"]),
    ) {
        let schema = strategic::ProtoSchema::for_message(message);
        match strategic::apply(&doc, &patch, &schema) {
            Ok(out) => {
                let again = strategic::apply(&out, &patch, &schema);
                if let Err(e) = again {
                    assert_one_line(&e.message)?;
                }
            }
            Err(e) => assert_one_line(&e.message)?,
        }
        match patch::patch_value(PatchType::Strategic, message, &doc, &patch) {
            Ok(_) => {}
            Err(e) => assert_one_line(&e.message)?,
        }
    }

    /// Without lists or directives, a strategic merge patch is a merge patch.
    #[test]
    fn strategic_merge_without_lists_is_a_merge_patch(doc in object(), patch in object()) {
        fn plain(v: &Value) -> bool {
            match v {
                Value::Array(_) => false,
                Value::Object(m) => m.iter().all(|(k, v)| !k.starts_with('$') && plain(v)),
                _ => true,
            }
        }
        prop_assume!(plain(&patch));
        let schema = strategic::ProtoSchema::for_message("k8s.Pod");
        let got = strategic::apply(&doc, &patch, &schema)
            .map_err(|e| TestCaseError::fail(e.message))?;
        let mut want = doc.clone();
        merge_patch(&mut want, &patch);
        prop_assert_eq!(got, want);
    }

    /// RFC 6902 operations with random paths and values: a result or a one-line error.
    #[test]
    fn json_patch_never_panics(
        doc in prop_oneof![value(), pod_document()],
        ops in prop::collection::vec(
            (
                prop::sample::select(vec!["add", "remove", "replace", "move", "copy", "test", "bogus"]),
                "(/([a-c]|0|1|-|~0|~1|spec|containers|metadata|name|[0-9]{1,3})){0,4}|\\PC{0,6}",
                "(/([a-c]|0|1|-|spec|containers)){0,3}",
                prop::option::of(value()),
            ),
            0..5,
        ),
    ) {
        let patch = Value::Array(ops.into_iter().map(|(op, path, from, value)| {
            let mut o = json!({"op": op, "path": path, "from": from});
            if let Some(v) = value {
                o["value"] = v;
            }
            o
        }).collect());
        match json_patch::apply(&doc, &patch) {
            Ok(_) => {}
            Err(json_patch::Error::Decode(m) | json_patch::Error::Apply(m)) => assert_one_line(&m)?,
        }
        // A patch of any other shape is refused, not applied.
        let _ = json_patch::apply(&doc, &doc);
    }

    /// Bodies as the client sends them, of every patch type, through the parse and apply
    /// steps the registry runs.
    #[test]
    fn patch_bodies_parse_or_refuse(
        body in prop_oneof![
            "\\PC{0,80}",
            value().prop_map(|v| v.to_string()),
            value().prop_map(|v| serde_saphyr::to_string(&v).unwrap_or_default()),
        ],
        ty in prop::sample::select(vec!["json", "merge", "strategic", "apply", "", "bogus"]),
        doc in pod_document(),
    ) {
        match patch::apply_to_json(ty, "k8s.Pod", &doc, &body) {
            Ok(_) => {}
            Err(e) => assert_one_line(&e.message)?,
        }
    }
}
