//! Patches and server-side apply, as pure functions over Kubernetes JSON: RFC 6902 JSON
//! patch, RFC 7386 merge patch, Kubernetes' strategic merge patch, and server-side apply with
//! its managedFields bookkeeping. The registry reads, patches and writes; nothing here does
//! I/O.

pub mod apply;
pub mod json_patch;
pub mod managed_fields;
pub mod merge;
pub mod strategic;

pub use merge::merge_patch;

use proto::ApiError;
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchType {
    Json,
    Merge,
    Strategic,
    Apply,
}

/// The patch type a request names, by our short name or by its HTTP media type.
pub fn patch_type(name: &str) -> Result<PatchType, ApiError> {
    match name {
        "json" | "application/json-patch+json" => Ok(PatchType::Json),
        "" | "merge" | "application/merge-patch+json" => Ok(PatchType::Merge),
        "strategic" | "application/strategic-merge-patch+json" => Ok(PatchType::Strategic),
        "apply" | "application/apply-patch+yaml" => Ok(PatchType::Apply),
        other => Err(ApiError::bad_request(format!(
            "patch type {other:?} is not supported: use \"json\", \"merge\", \"strategic\" or \"apply\""
        ))),
    }
}

/// Parses a patch body: JSON for json, merge and strategic patches; YAML or JSON for apply.
pub fn parse(patch_type: PatchType, patch: &str) -> Result<Value, ApiError> {
    let value: Value = if patch_type == PatchType::Apply && !patch.trim_start().starts_with('{') {
        proto::manifest::yaml_value(patch).map_err(|e| {
            ApiError::bad_request(format!(
                "error decoding YAML: {}",
                proto::manifest::yaml_error_line(&e)
            ))
        })?
    } else {
        serde_json::from_str(patch)
            .map_err(|e| ApiError::bad_request(format!("patch is not valid JSON: {e}")))?
    };
    match (patch_type, &value) {
        (PatchType::Json, Value::Array(_)) => Ok(value),
        (PatchType::Json, _) => Err(ApiError::bad_request(
            "json: cannot unmarshal object into Go value of type jsonpatch.Patch",
        )),
        (PatchType::Merge, Value::Object(_)) => Ok(value),
        (PatchType::Merge, _) => Err(ApiError::bad_request("a merge patch must be a JSON object")),
        (_, Value::Object(_)) => Ok(value),
        (PatchType::Strategic, _) => Err(ApiError::bad_request(
            "a strategic merge patch must be a JSON object",
        )),
        (PatchType::Apply, _) => Err(ApiError::bad_request(
            "error decoding YAML: the applied configuration must be an object",
        )),
    }
}

/// Applies a parsed json, merge or strategic patch to a document of the proto message
/// `message` ("k8s.Deployment"); an apply patch here merges like a strategic one (the
/// caller does managed-fields apply itself where it tracks them).
pub fn patch_value(
    patch_type: PatchType,
    message: &str,
    doc: &Value,
    patch: &Value,
) -> Result<Value, ApiError> {
    match patch_type {
        PatchType::Merge => {
            let mut out = doc.clone();
            merge_patch(&mut out, patch);
            Ok(out)
        }
        PatchType::Json => json_patch::apply(doc, patch).map_err(|e| match e {
            json_patch::Error::Decode(m) => ApiError::bad_request(m),
            json_patch::Error::Apply(m) => ApiError::invalid(m),
        }),
        PatchType::Strategic | PatchType::Apply => {
            strategic::apply(doc, patch, &strategic::ProtoSchema::for_message(message)).map_err(
                |e| {
                    if e.bad_request {
                        ApiError::bad_request(e.message)
                    } else {
                        ApiError::invalid(e.message)
                    }
                },
            )
        }
    }
}

/// Applies a patch (any type, as text) to a JSON document of message `message`: for
/// subresources whose document is not a stored object (scale).
pub fn apply_to_json(
    patch_type: &str,
    message: &str,
    doc: &Value,
    patch: &str,
) -> Result<Value, ApiError> {
    let ty = self::patch_type(patch_type)?;
    let parsed = parse(ty, patch)?;
    patch_value(ty, message, doc, &parsed)
}

/// What unknown fields do (`fieldValidation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldValidation {
    Strict,
    Warn,
    Ignore,
}

impl FieldValidation {
    pub fn parse(value: &str) -> Result<Self, ApiError> {
        match value {
            "Warn" => Ok(FieldValidation::Warn),
            // gRPC callers that name no mode are told about their mistakes, as this API
            // always did; the HTTP API sends Kubernetes' default (Warn) explicitly.
            "" | "Strict" => Ok(FieldValidation::Strict),
            "Ignore" => Ok(FieldValidation::Ignore),
            other => Err(ApiError::bad_request(format!(
                "fieldValidation must be one of \"Ignore\", \"Warn\" or \"Strict\", got {other:?}"
            ))),
        }
    }

    /// Drops unknown fields from `doc` (an object of `info`'s kind); Strict refuses them,
    /// Warn returns a warning for each.
    pub fn check(self, info: &proto::KindInfo, doc: &mut Value) -> Result<Vec<String>, ApiError> {
        let unknown = proto::schema::unknown_fields(info, doc);
        if unknown.is_empty() {
            return Ok(Vec::new());
        }
        if self == FieldValidation::Strict {
            let list: Vec<String> = unknown
                .iter()
                .map(|p| format!("unknown field {p:?}"))
                .collect();
            return Err(ApiError::bad_request(format!(
                "strict decoding error: {}",
                list.join(", ")
            )));
        }
        proto::schema::prune_unknown(info, doc);
        Ok(match self {
            FieldValidation::Warn => unknown
                .iter()
                .map(|p| format!("unknown field {p:?}"))
                .collect(),
            _ => Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn types_by_name_and_media_type() {
        assert_eq!(patch_type("").unwrap(), PatchType::Merge);
        assert_eq!(
            patch_type("application/json-patch+json").unwrap(),
            PatchType::Json
        );
        assert_eq!(patch_type("strategic").unwrap(), PatchType::Strategic);
        assert_eq!(
            patch_type("application/apply-patch+yaml").unwrap(),
            PatchType::Apply
        );
        assert!(patch_type("MERGE ").is_err());
    }

    /// Found by tests/fuzz_patch.rs: a YAML apply body that does not parse gave an API error
    /// of several lines (serde-saphyr's source snippet).
    #[test]
    fn a_yaml_error_is_one_line() {
        let doc = json!({"spec": {"replicas": 1}});
        for body in ["spec: [", "a: *missing", "- a\nb: c"] {
            let e = apply_to_json("apply", "k8s.Scale", &doc, body).unwrap_err();
            assert!(!e.message.contains('\n'), "{body:?}: {:?}", e.message);
            assert!(
                e.message.starts_with("error decoding YAML: "),
                "{}",
                e.message
            );
        }
    }

    #[test]
    fn scale_documents_patch_by_every_type() {
        let doc = json!({"spec": {"replicas": 1}});
        for (ty, patch) in [
            ("merge", r#"{"spec":{"replicas":3}}"#),
            ("strategic", r#"{"spec":{"replicas":3}}"#),
            (
                "json",
                r#"[{"op":"replace","path":"/spec/replicas","value":3}]"#,
            ),
            ("apply", "spec:\n  replicas: 3\n"),
        ] {
            assert_eq!(
                apply_to_json(ty, "k8s.Scale", &doc, patch).unwrap(),
                json!({"spec": {"replicas": 3}}),
                "{ty}"
            );
        }
        assert!(apply_to_json("json", "k8s.Scale", &doc, "{}").is_err());
        assert!(apply_to_json("strategic", "k8s.Scale", &doc, "[]").is_err());
    }
}
