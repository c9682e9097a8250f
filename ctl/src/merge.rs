//! The three-way merge behind `apply`, as pure functions over JSON documents.
//!
//! kubectl computes a patch from three documents: the configuration applied last time
//! (kept in an annotation), the new manifest, and the live object. Keys the user removed
//! since last time are deleted; keys in the manifest are set; everything else in the live
//! object (status, fields written by controllers or defaulting) is left alone.
//!
//! kubectl uses strategic merge for built-in kinds, which merges lists by key; we send RFC
//! 7386 merge patches, where lists replace. So that defaulting inside list items (e.g. a
//! container's `imagePullPolicy`) does not make every apply look like a change, a list is
//! sent only when the user changed it since last time, or when the live list no longer
//! contains what the manifest asks for.

use serde_json::{Map, Value};

pub const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Metadata the server owns: a manifest copied from `get -o yaml` must not carry them into
/// the applied configuration.
const SERVER_METADATA: &[&str] = &[
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "managedFields",
];

/// The manifest as apply sends it: without server-owned fields and status, and with the
/// last-applied annotation holding its own compact JSON (minus that annotation).
pub fn modified_configuration(manifest: &Value) -> Value {
    let mut m = manifest.clone();
    if let Some(obj) = m.as_object_mut() {
        obj.remove("status");
        if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
            for k in SERVER_METADATA {
                meta.remove(*k);
            }
            let annotations_empty = match meta.get_mut("annotations").and_then(Value::as_object_mut)
            {
                Some(a) => {
                    a.remove(LAST_APPLIED);
                    a.is_empty()
                }
                None => false,
            };
            if annotations_empty {
                meta.remove("annotations");
            }
        }
    }
    let applied = serde_json::to_string(&m).unwrap_or_default();
    if let Some(obj) = m.as_object_mut() {
        let meta = obj
            .entry("metadata")
            .or_insert_with(|| Value::Object(Map::new()));
        if !meta.is_object() {
            *meta = Value::Object(Map::new());
        }
        if let Some(meta) = meta.as_object_mut() {
            let ann = meta
                .entry("annotations")
                .or_insert_with(|| Value::Object(Map::new()));
            if !ann.is_object() {
                *ann = Value::Object(Map::new());
            }
            if let Some(ann) = ann.as_object_mut() {
                ann.insert(LAST_APPLIED.to_string(), Value::String(applied));
            }
        }
    }
    m
}

/// The configuration applied last time, from the live object's annotation. `None` when
/// absent or unreadable: then nothing can be known to have been removed.
pub fn last_applied(live: &Value) -> Option<Value> {
    let text = live
        .pointer("/metadata/annotations")?
        .get(LAST_APPLIED)?
        .as_str()?;
    serde_json::from_str(text).ok().filter(Value::is_object)
}

/// The merge patch that takes `current` to what `modified` asks for, deleting what
/// `original` had and `modified` dropped. An empty object means nothing would change.
pub fn three_way_patch(original: Option<&Value>, modified: &Value, current: &Value) -> Value {
    let (Some(m), Some(c)) = (modified.as_object(), current.as_object()) else {
        return modified.clone();
    };
    Value::Object(diff(original.and_then(Value::as_object), m, c))
}

fn diff(
    original: Option<&Map<String, Value>>,
    modified: &Map<String, Value>,
    current: &Map<String, Value>,
) -> Map<String, Value> {
    let mut patch = Map::new();
    if let Some(orig) = original {
        for k in orig.keys() {
            // Deleting what is already gone would be a change that changes nothing.
            if !modified.contains_key(k) && current.contains_key(k) {
                patch.insert(k.clone(), Value::Null);
            }
        }
    }
    for (k, mv) in modified {
        let ov = original.and_then(|o| o.get(k));
        let Some(cv) = current.get(k) else {
            patch.insert(k.clone(), mv.clone());
            continue;
        };
        match (mv, cv) {
            (Value::Object(m), Value::Object(c)) => {
                let sub = diff(ov.and_then(Value::as_object), m, c);
                if !sub.is_empty() {
                    patch.insert(k.clone(), Value::Object(sub));
                }
            }
            (Value::Array(_), _) => {
                let user_changed = ov.is_some_and(|o| o != mv);
                if user_changed || !contains(cv, mv) {
                    patch.insert(k.clone(), mv.clone());
                }
            }
            _ => {
                if mv != cv {
                    patch.insert(k.clone(), mv.clone());
                }
            }
        }
    }
    patch
}

/// Whether `have` holds everything `want` asks for: objects may carry extra keys (defaults).
/// Lists of objects with a merge key (`name`, or `mountPath` for volume mounts, as
/// strategic merge keys them) may carry extra items the server added, such as the
/// ServiceAccount token volume and its mounts; other lists must match item for item.
fn contains(have: &Value, want: &Value) -> bool {
    match (have, want) {
        (Value::Object(h), Value::Object(w)) => w
            .iter()
            .all(|(k, wv)| h.get(k).is_some_and(|hv| contains(hv, wv))),
        (Value::Array(h), Value::Array(w)) => match merge_key(w) {
            Some(key) => w.iter().all(|wv| {
                h.iter()
                    .find(|hv| hv.get(key) == wv.get(key))
                    .is_some_and(|hv| contains(hv, wv))
            }),
            None => h.len() == w.len() && h.iter().zip(w).all(|(hv, wv)| contains(hv, wv)),
        },
        _ => have == want,
    }
}

/// The key every item of a list of objects carries, if any: what strategic merge patch
/// merges containers, volumes, env, ports (`name`) and volume mounts (`mountPath`) by.
fn merge_key(items: &[Value]) -> Option<&'static str> {
    ["name", "mountPath"].into_iter().find(|key| {
        !items.is_empty()
            && items
                .iter()
                .all(|i| i.get(key).is_some_and(Value::is_string))
    })
}

pub fn is_empty_patch(patch: &Value) -> bool {
    patch.as_object().is_some_and(Map::is_empty)
}

/// RFC 7386: what the server does with the patch; the tests check patches by applying them.
#[cfg(test)]
pub fn apply_merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(p) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(t) = target {
        for (k, v) in p {
            if v.is_null() {
                t.remove(k);
            } else {
                apply_merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
    }
}

/// Adds the live resourceVersion to a patch, so the server refuses it (Conflict) if the
/// object changed after it was read.
pub fn with_resource_version(mut patch: Value, resource_version: &str) -> Value {
    if let Some(p) = patch.as_object_mut() {
        let meta = p
            .entry("metadata")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Some(meta) = meta.as_object_mut() {
            meta.insert(
                "resourceVersion".to_string(),
                Value::String(resource_version.to_string()),
            );
        }
    }
    patch
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment(replicas: Option<i64>, image: &str, labels: Value) -> Value {
        let mut spec = json!({
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                         "spec": {"containers": [{"name": "web", "image": image}]}}
        });
        if let Some(r) = replicas {
            spec["replicas"] = json!(r);
        }
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
               "metadata": {"name": "web", "namespace": "default", "labels": labels},
               "spec": spec})
    }

    /// What the server would hold after `apply` created the object from `manifest`,
    /// plus what defaulting and controllers add.
    fn live_after_create(manifest: &Value) -> Value {
        let mut live = modified_configuration(manifest);
        live["metadata"]["uid"] = json!("u1");
        live["metadata"]["resourceVersion"] = json!("7");
        live["status"] = json!({"replicas": 3, "readyReplicas": 3});
        live["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] =
            json!("IfNotPresent");
        live["spec"]["strategy"] = json!({"type": "RollingUpdate"});
        live
    }

    fn apply_step(manifest: &Value, live: &Value) -> (Value, Value) {
        let modified = modified_configuration(manifest);
        let patch = three_way_patch(last_applied(live).as_ref(), &modified, live);
        let mut next = live.clone();
        apply_merge_patch(&mut next, &patch);
        (patch, next)
    }

    #[test]
    fn same_manifest_is_unchanged_despite_defaults_and_status() {
        let m = deployment(Some(3), "nginx:1", json!({"app": "web"}));
        let live = live_after_create(&m);
        let (patch, _) = apply_step(&m, &live);
        assert!(is_empty_patch(&patch), "patch: {patch}");
    }

    #[test]
    fn removed_key_is_deleted() {
        let m1 = deployment(Some(3), "nginx:1", json!({"app": "web", "tier": "front"}));
        let live = live_after_create(&m1);
        let m2 = deployment(Some(3), "nginx:1", json!({"app": "web"}));
        let (patch, next) = apply_step(&m2, &live);
        assert_eq!(patch["metadata"]["labels"], json!({"tier": null}));
        assert_eq!(next["metadata"]["labels"], json!({"app": "web"}));
        // The new last-applied no longer has the label either.
        assert_eq!(
            last_applied(&next).unwrap()["metadata"]["labels"],
            json!({"app": "web"})
        );
    }

    #[test]
    fn controller_fields_and_scaled_replicas_are_kept() {
        // Applied without replicas; `scale` then set 5 on the live object.
        let m = deployment(None, "nginx:1", json!({"app": "web"}));
        let mut live = live_after_create(&m);
        live["spec"]["replicas"] = json!(5);
        let m2 = deployment(None, "nginx:2", json!({"app": "web"}));
        let (patch, next) = apply_step(&m2, &live);
        assert!(patch["spec"].get("replicas").is_none(), "patch: {patch}");
        assert_eq!(next["spec"]["replicas"], json!(5));
        assert_eq!(next["status"], live["status"]);
        assert_eq!(next["spec"]["strategy"], json!({"type": "RollingUpdate"}));
        assert_eq!(next["metadata"]["uid"], json!("u1"));
        assert_eq!(
            next["spec"]["template"]["spec"]["containers"][0]["image"],
            json!("nginx:2")
        );
    }

    #[test]
    fn removing_replicas_from_the_manifest_deletes_it() {
        let m = deployment(Some(3), "nginx:1", json!({"app": "web"}));
        let live = live_after_create(&m);
        let (patch, _) = apply_step(&deployment(None, "nginx:1", json!({"app": "web"})), &live);
        assert_eq!(patch["spec"]["replicas"], Value::Null);
        assert!(patch["spec"].as_object().unwrap().contains_key("replicas"));
    }

    #[test]
    fn arrays_are_replaced_whole() {
        let m = deployment(Some(1), "nginx:1", json!({"app": "web"}));
        let live = live_after_create(&m);
        let mut m2 = m.clone();
        m2["spec"]["template"]["spec"]["containers"] =
            json!([{"name": "web", "image": "nginx:1"}, {"name": "side", "image": "busybox"}]);
        let (patch, next) = apply_step(&m2, &live);
        assert_eq!(
            patch["spec"]["template"]["spec"]["containers"],
            m2["spec"]["template"]["spec"]["containers"]
        );
        // The replacement drops the defaulted field; the server defaults it again.
        assert_eq!(
            next["spec"]["template"]["spec"]["containers"],
            m2["spec"]["template"]["spec"]["containers"]
        );
    }

    #[test]
    fn field_removed_inside_a_list_item_is_sent() {
        let mut m1 = deployment(Some(1), "nginx:1", json!({"app": "web"}));
        m1["spec"]["template"]["spec"]["containers"][0]["args"] = json!(["-v"]);
        let live = live_after_create(&m1);
        let m2 = deployment(Some(1), "nginx:1", json!({"app": "web"}));
        let (patch, next) = apply_step(&m2, &live);
        assert_eq!(
            patch["spec"]["template"]["spec"]["containers"],
            json!([{"name": "web", "image": "nginx:1"}])
        );
        assert!(
            next["spec"]["template"]["spec"]["containers"][0]
                .get("args")
                .is_none()
        );
    }

    #[test]
    fn live_drift_in_a_list_is_restored() {
        let m = deployment(Some(1), "nginx:1", json!({"app": "web"}));
        let mut live = live_after_create(&m);
        live["spec"]["template"]["spec"]["containers"][0]["image"] = json!("edited");
        let (patch, _) = apply_step(&m, &live);
        assert_eq!(
            patch["spec"]["template"]["spec"]["containers"][0]["image"],
            json!("nginx:1")
        );
    }

    #[test]
    fn items_the_server_added_to_a_keyed_list_are_not_drift() {
        // A pod as applied, and as live after ServiceAccount admission added its token
        // volume and mount: applying the same manifest again changes nothing.
        let m = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "c", "image": "i",
                "volumeMounts": [{"name": "cfg", "mountPath": "/cfg"}]}],
            "volumes": [{"name": "cfg", "configMap": {"name": "x"}}]}});
        let mut live = modified_configuration(&m);
        let spec = &mut live["spec"];
        spec["volumes"]
            .as_array_mut()
            .unwrap()
            .push(json!({"name": "kube-api-access-abcde", "projected": {"sources": []}}));
        spec["containers"][0]["volumeMounts"]
            .as_array_mut()
            .unwrap()
            .push(json!({
                "name": "kube-api-access-abcde",
                "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
                "readOnly": true
            }));
        let (patch, _) = apply_step(&m, &live);
        assert!(is_empty_patch(&patch), "{patch}");
        // An item the manifest asks for and the live list lacks is still sent.
        let mut gone = live.clone();
        gone["spec"]["volumes"].as_array_mut().unwrap().remove(0);
        let (patch, _) = apply_step(&m, &gone);
        assert_eq!(patch["spec"]["volumes"], m["spec"]["volumes"]);
        // Unkeyed lists still compare item for item.
        let mut args = m.clone();
        args["spec"]["containers"][0]["args"] = json!(["a"]);
        let mut live_args = modified_configuration(&args);
        live_args["spec"]["containers"][0]["args"] = json!(["a", "b"]);
        let (patch, _) = apply_step(&args, &live_args);
        assert_eq!(patch["spec"]["containers"], args["spec"]["containers"]);
    }

    #[test]
    fn without_last_applied_nothing_is_deleted() {
        let m = deployment(Some(1), "nginx:1", json!({"app": "web"}));
        let mut live = m.clone();
        live["metadata"]["labels"]["extra"] = json!("x");
        let modified = modified_configuration(&m);
        let patch = three_way_patch(None, &modified, &live);
        // Only the annotation is new; the unknown extra label stays.
        assert_eq!(
            patch.as_object().unwrap().keys().collect::<Vec<_>>(),
            ["metadata"]
        );
        assert!(patch["metadata"].get("labels").is_none());
        assert!(patch["metadata"]["annotations"][LAST_APPLIED].is_string());
    }

    #[test]
    fn modified_configuration_strips_server_fields_and_embeds_itself() {
        let m = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "c", "resourceVersion": "9", "uid": "u",
                         "annotations": {LAST_APPLIED: "old"}},
            "data": {"a": "1"}, "status": {"x": 1}});
        let out = modified_configuration(&m);
        assert!(out["metadata"].get("resourceVersion").is_none());
        assert!(out.get("status").is_none());
        let embedded: Value = serde_json::from_str(
            out["metadata"]["annotations"][LAST_APPLIED]
                .as_str()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            embedded,
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "1"}})
        );
    }

    #[test]
    fn resource_version_goes_into_metadata() {
        let p = with_resource_version(json!({"spec": {"a": 1}}), "42");
        assert_eq!(
            p,
            json!({"spec": {"a": 1}, "metadata": {"resourceVersion": "42"}})
        );
    }
}
