//! The pieces every generator shares: objects written as Kubernetes JSON (the shape kubectl's
//! Go structs print) and turned into typed objects, metadata, kubectl's random suffixes.

use anyhow::{Result, anyhow};
use proto::KindInfo;
use proto::k8s::Object;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// The typed object of `doc`, a Kubernetes JSON document of kind `info`. Numbers where the
/// schema keeps strings (`targetPort: 80`) are accepted as manifests accept them.
pub fn to_object(info: &'static KindInfo, mut doc: Value) -> Result<Object> {
    if let Value::Object(map) = &mut doc {
        map.insert("apiVersion".into(), info.api_version.into());
        map.insert("kind".into(), info.kind.into());
    }
    Object::from_json_as(info, proto::manifest::normalize(doc))
        .map_err(|e| anyhow!("cannot build the {}: {e}", info.kind))
}

/// `metadata` with a name, the namespace when one is given, and the non-empty maps.
pub fn metadata(
    name: &str,
    namespace: Option<&str>,
    labels: &BTreeMap<String, String>,
    annotations: &BTreeMap<String, String>,
) -> Value {
    let mut m = Map::new();
    m.insert("name".into(), name.into());
    if let Some(ns) = namespace.filter(|n| !n.is_empty()) {
        m.insert("namespace".into(), ns.into());
    }
    if !labels.is_empty() {
        m.insert("labels".into(), json!(labels));
    }
    if !annotations.is_empty() {
        m.insert("annotations".into(), json!(annotations));
    }
    Value::Object(m)
}

pub fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// kubectl's `utilrand.String(5)`: five characters from its alphabet without vowels (so no
/// words), for names that must not collide.
pub fn random_suffix() -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    use std::hash::{BuildHasher, Hasher};
    let mut bits = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    (0..5)
        .map(|_| {
            let c = ALPHABET[(bits % ALPHABET.len() as u64) as usize] as char;
            bits /= ALPHABET.len() as u64;
            c
        })
        .collect()
}

/// kubectl's `--labels`/`--selector` form `a=b,c=d` (equality only, as a map).
pub fn parse_labels(spec: &str) -> Result<BTreeMap<String, String>> {
    if spec.is_empty() {
        return Err(anyhow!("no label spec passed"));
    }
    let mut out = BTreeMap::new();
    for item in spec.split(',') {
        let parts: Vec<&str> = item.split('=').collect();
        if parts.len() != 2 {
            return Err(anyhow!("unexpected label spec: {item}"));
        }
        if parts[0].is_empty() {
            return Err(anyhow!("unexpected empty label key"));
        }
        out.insert(parts[0].to_string(), parts[1].to_string());
    }
    Ok(out)
}

/// A container as kubectl's generators write one: `resources: {}` included, as Go prints
/// the empty struct.
pub fn container(name: &str, image: &str, command: &[String]) -> Map<String, Value> {
    let mut c = Map::new();
    c.insert("name".into(), name.into());
    c.insert("image".into(), image.into());
    if !command.is_empty() {
        c.insert("command".into(), json!(command));
    }
    c.insert("resources".into(), json!({}));
    c
}

/// `--overrides=JSON` (`--override-type=merge`, kubectl's default): the generated object
/// with the JSON merged into it (RFC 7386), as kubectl's Overrider does before sending.
pub fn apply_overrides(object: Object, overrides: &str, override_type: &str) -> Result<Object> {
    if overrides.is_empty() {
        return Ok(object);
    }
    if override_type != "merge" {
        return Err(anyhow!(
            "--override-type={override_type} is not supported: ctl merges overrides (merge)"
        ));
    }
    let info = object
        .info()
        .ok_or_else(|| anyhow!("cannot override an empty object"))?;
    let patch: Value =
        serde_json::from_str(overrides).map_err(|e| anyhow!("--overrides: invalid JSON: {e}"))?;
    let mut doc = proto::manifest::to_document(&object);
    merge_patch(&mut doc, &patch);
    to_object(info, doc)
}

fn merge_patch(target: &mut Value, patch: &Value) {
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
                merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
    }
}

#[cfg(test)]
pub mod testing {
    //! Comparing a generated object with what kubectl 1.33 printed for the same command.
    use proto::k8s::Object;
    use serde_json::Value;

    /// kubectl's YAML as a document, without its `creationTimestamp: null` (Go prints the
    /// zero time as null; this API omits an unset time).
    pub fn kubectl_doc(yaml: &str) -> Value {
        let mut v: Value = serde_saphyr::from_str(yaml).expect("kubectl's YAML");
        drop_null_timestamps(&mut v);
        v
    }

    fn drop_null_timestamps(v: &mut Value) {
        match v {
            Value::Object(m) => {
                if m.get("creationTimestamp") == Some(&Value::Null) {
                    m.remove("creationTimestamp");
                }
                m.values_mut().for_each(drop_null_timestamps);
            }
            Value::Array(items) => items.iter_mut().for_each(drop_null_timestamps),
            _ => {}
        }
    }

    /// The object as `-o yaml|json` shows it (int-or-string numbers as numbers).
    pub trait AsDoc {
        fn doc(&self) -> Value;
    }

    impl AsDoc for Object {
        fn doc(&self) -> Value {
            proto::manifest::to_document(self)
        }
    }

    /// Asserts that `object`, as `-o yaml` prints it, is the object kubectl printed.
    #[track_caller]
    pub fn assert_same_as_kubectl(object: &Object, kubectl_yaml: &str) {
        let ours = proto::manifest::to_document(object);
        let theirs = kubectl_doc(kubectl_yaml);
        assert_eq!(
            ours,
            theirs,
            "ours:\n{}\nkubectl's:\n{kubectl_yaml}",
            proto::manifest::to_yaml(object)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_parse_as_kubectl() {
        assert_eq!(
            parse_labels("a=b,c=d").unwrap(),
            labels(&[("a", "b"), ("c", "d")])
        );
        assert_eq!(
            parse_labels("a").unwrap_err().to_string(),
            "unexpected label spec: a"
        );
        assert_eq!(
            parse_labels("=b").unwrap_err().to_string(),
            "unexpected empty label key"
        );
    }

    #[test]
    fn overrides_merge_into_the_object() {
        let pod = to_object(
            &proto::resource::info::Pod,
            json!({"metadata": {"name": "p", "labels": {"run": "p"}}, "spec": {"containers": [{"name": "p", "image": "i"}]}}),
        )
        .unwrap();
        let merged = apply_overrides(
            pod.clone(),
            r#"{"metadata": {"labels": {"run": null, "x": "y"}}, "spec": {"nodeName": "n1"}}"#,
            "merge",
        )
        .unwrap();
        let d = proto::manifest::to_document(&merged);
        assert_eq!(d["metadata"]["labels"], json!({"x": "y"}));
        assert_eq!(d["spec"]["nodeName"], "n1");
        assert_eq!(d["spec"]["containers"][0]["image"], "i");
        assert!(apply_overrides(pod.clone(), "{", "merge").is_err());
        assert!(apply_overrides(pod, "{}", "json").is_err());
    }

    #[test]
    fn suffixes_are_five_characters_of_the_alphabet() {
        let s = random_suffix();
        assert_eq!(s.len(), 5);
        assert!(
            s.bytes()
                .all(|b| b"bcdfghjklmnpqrstvwxz2456789".contains(&b))
        );
    }
}
