//! Versions of a kind other than the one the kind registry stores, and their conversion, as
//! Kubernetes serves `autoscaling/v1` HorizontalPodAutoscalers next to the stored
//! `autoscaling/v2` form. A version exists only at the edges that speak JSON: manifests
//! (`manifest::object_from_value` converts a document of such a version when it reads it)
//! and the HTTP API (which converts requests in and answers out). `Object`, the registry,
//! the store and gRPC know the stored version alone, so an object is stored once.
//!
//! Adding a version of any kind: one file here with its `Version` (its `KindInfo`, the proto
//! message of its JSON, its OpenAPI facts and the two conversions), and one line in
//! `VERSIONS`. Discovery, OpenAPI, the HTTP verbs and manifests pick it up from the table.

use crate::KindInfo;
use crate::schema::{FieldKind, MessageSchema};
use serde_json::Value;

pub mod hpa_v1;

/// One served version of a stored kind.
#[derive(Debug)]
pub struct Version {
    /// This version's facts: the stored kind's, with its own `version` and `api_version`.
    pub info: &'static KindInfo,
    /// The kind as the registry stores it.
    pub storage: &'static KindInfo,
    /// The proto message whose JSON this version's objects are ("k8s.HorizontalPodAutoscalerV1"):
    /// unknown fields, patches and OpenAPI use its schema.
    pub message: &'static str,
    /// Kubernetes' OpenAPI facts of this version's own messages: (message, definition name,
    /// required fields), as `schema/facts.rs` holds them for stored kinds.
    pub definitions: &'static [(&'static str, &'static str, &'static [&'static str])],
    /// A whole document of this version to the stored version's JSON.
    pub to_storage: fn(Value) -> Result<Value, ConvertError>,
    /// A document of the stored version (as the HTTP API renders it) to this version's JSON.
    pub from_storage: fn(Value) -> Result<Value, ConvertError>,
    /// A partial document of this version (a server-side apply configuration) to the stored
    /// version's JSON, stating only what it states: no defaults the whole-object conversion
    /// adds.
    pub config_to_storage: fn(Value) -> Result<Value, ConvertError>,
}

/// Every version served besides the stored ones.
pub static VERSIONS: &[&Version] = &[&hpa_v1::VERSION];

/// A document that does not convert: the field it fails at and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ConvertError {
    /// Kubernetes' field path ("spec.maxReplicas"); "" for the document itself.
    pub path: String,
    pub message: String,
}

impl ConvertError {
    pub(crate) fn of<E: std::fmt::Display>(e: serde_path_to_error::Error<E>) -> ConvertError {
        let path = e.path().to_string();
        ConvertError {
            path: if path == "." { String::new() } else { path },
            message: e.inner().to_string(),
        }
    }
}

impl From<ConvertError> for crate::manifest::ManifestError {
    fn from(e: ConvertError) -> Self {
        crate::manifest::ManifestError::Field {
            path: e.path,
            message: e.message,
        }
    }
}

/// The served version an API path names (`autoscaling`, `v1`, `horizontalpodautoscalers`).
pub fn by_path(group: &str, version: &str, plural: &str) -> Option<&'static Version> {
    VERSIONS
        .iter()
        .copied()
        .find(|v| v.info.group == group && v.info.version == version && v.info.plural == plural)
}

/// The served version a document's `apiVersion` and `kind` name.
pub fn by_type(api_version: &str, kind: &str) -> Option<&'static Version> {
    VERSIONS
        .iter()
        .copied()
        .find(|v| v.info.api_version == api_version && v.info.kind == kind)
}

/// The served version whose JSON is this proto message.
pub fn by_message(message: &str) -> Option<&'static Version> {
    VERSIONS.iter().copied().find(|v| v.message == message)
}

/// Kubernetes' definition name and required fields of a version's message, if it is one.
pub fn definition(message: &str) -> Option<(&'static str, &'static [&'static str])> {
    VERSIONS
        .iter()
        .flat_map(|v| v.definitions.iter())
        .find(|(m, _, _)| *m == message)
        .map(|&(_, d, r)| (d, r))
}

/// For the wire, what `schema::normalize_output` does for a stored kind: int64 values as
/// numbers, and the fields Kubernetes marks required written even at their zero value (the
/// version's own messages by its `definitions`, shared ones such as ObjectMeta by the schema's
/// facts).
pub fn normalize_output(version: &Version, value: &mut Value) {
    let Some(schema) = crate::schema::message(version.message) else {
        return;
    };
    crate::schema::normalize_message(schema, value);
    fill_required(schema, value);
}

fn fill_required(schema: &MessageSchema, value: &mut Value) {
    let Value::Object(map) = value else { return };
    let required = definition(&schema.full_name).map_or(&[][..], |(_, r)| r);
    for name in required {
        let Some(field) = schema.field(name).filter(|_| !map.contains_key(*name)) else {
            continue;
        };
        let zero = match &field.kind {
            _ if field.repeated => Value::Array(Vec::new()),
            FieldKind::String | FieldKind::Bytes => Value::String(String::new()),
            FieldKind::Bool => Value::Bool(false),
            FieldKind::Int32 | FieldKind::Int64 | FieldKind::UInt64 => Value::from(0),
            FieldKind::Double => Value::from(0.0),
            FieldKind::Map(_) => Value::Object(serde_json::Map::new()),
            // A missing required object is an invalid object, not a default left out.
            FieldKind::Message(_) => continue,
        };
        map.insert((*name).to_string(), zero);
    }
    for (key, v) in map.iter_mut() {
        let Some(FieldKind::Message(name)) = schema.field(key).map(|f| &f.kind) else {
            continue;
        };
        // Only this version's own messages: shared ones were normalized by the schema.
        let Some(inner) = crate::schema::message(name).filter(|_| definition(name).is_some())
        else {
            continue;
        };
        match v {
            Value::Array(items) => items.iter_mut().for_each(|x| fill_required(inner, x)),
            v => fill_required(inner, v),
        }
    }
}

/// A document of a served version becomes its stored version's; any other document comes
/// back unchanged. The manifest reader's one hook.
pub fn to_storage_document(value: Value) -> Result<Value, ConvertError> {
    let version = {
        let text = |k: &str| value.get(k).and_then(Value::as_str).unwrap_or("");
        by_type(text("apiVersion"), text("kind"))
    };
    match version {
        Some(v) => (v.to_storage)(value),
        None => Ok(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn versions_are_found_by_path_type_and_message() {
        let v = by_path("autoscaling", "v1", "horizontalpodautoscalers").unwrap();
        assert_eq!(v.storage.api_version, "autoscaling/v2");
        assert!(by_path("autoscaling", "v2", "horizontalpodautoscalers").is_none());
        assert!(std::ptr::eq(
            by_type("autoscaling/v1", "HorizontalPodAutoscaler").unwrap(),
            v
        ));
        assert!(by_type("autoscaling/v2", "HorizontalPodAutoscaler").is_none());
        assert!(std::ptr::eq(by_message(v.message).unwrap(), v));
        for version in VERSIONS {
            // Every message a version names exists in the compiled schema.
            assert!(crate::schema::message(version.message).is_some());
            for (m, _, required) in version.definitions {
                let schema = crate::schema::message(m).unwrap_or_else(|| panic!("{m}"));
                for r in *required {
                    assert!(schema.field(r).is_some(), "{m}.{r}");
                }
            }
            // Same kind, same resource, another version.
            assert_eq!(version.info.kind, version.storage.kind);
            assert_eq!(version.info.plural, version.storage.plural);
            assert_ne!(version.info.version, version.storage.version);
        }
    }

    #[test]
    fn other_documents_pass_unchanged() {
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}});
        assert_eq!(to_storage_document(cm.clone()).unwrap(), cm);
        let v2 = json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler"});
        assert_eq!(to_storage_document(v2.clone()).unwrap(), v2);
    }
}
