//! The schema of every message, read from the descriptor set the build script writes (with
//! source info, so proto comments become descriptions). The HTTP API uses it to find fields a
//! client sent that no kind has (`fieldValidation`), to write objects as Kubernetes does
//! (int64 as numbers, required fields even at their zero value), and to generate OpenAPI;
//! strategic merge patch uses it to know each nested message type.
//!
//! Facts only Kubernetes knows (definition names, required fields, which strings are
//! quantities or int-or-strings) live in `schema/facts.rs`; Kubernetes' own documentation of
//! each kind and field (what `kubectl explain` prints) in `schema/descriptions.rs`.

mod descriptions;
mod facts;

use crate::KindInfo;
use prost::Message as _;
use prost_types::field_descriptor_proto::{Label, Type};
use prost_types::{DescriptorProto, FileDescriptorSet, SourceCodeInfo};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::OnceLock;

static DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/descriptor.bin"));

/// Messages whose JSON is hand-written serde, not their proto fields (`ExtraValue` is a bare
/// array of strings, `FieldsV1` and `RawExtension` raw JSON): validation and normalization do not look inside.
const OPAQUE: &[&str] = &["k8s.ExtraValue", "k8s.FieldsV1", "k8s.RawExtension"];

/// One message: its fields in declaration order (oneof members as plain fields, as pbjson
/// flattens them into the message's JSON).
#[derive(Debug)]
pub struct MessageSchema {
    /// Package-qualified: "k8s.PodSpec".
    pub full_name: String,
    pub fields: Vec<FieldSchema>,
    /// The message's leading proto comment.
    pub description: String,
    by_json: HashMap<String, usize>,
}

#[derive(Debug)]
pub struct FieldSchema {
    /// The JSON (Kubernetes) name: "containerPort", "podCIDR".
    pub json_name: String,
    pub proto_name: String,
    pub kind: FieldKind,
    /// A list (never set for maps: a map is `FieldKind::Map`).
    pub repeated: bool,
    /// The field's proto comment (leading, else trailing).
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldKind {
    /// Also enums (written by name).
    String,
    Bool,
    /// Every 32-bit integer type.
    Int32,
    Int64,
    UInt64,
    /// Also float.
    Double,
    Bytes,
    /// A nested message, by full name ("k8s.Container").
    Message(String),
    /// `map<string, V>`.
    Map(Box<FieldKind>),
}

/// What Kubernetes' OpenAPI says a string field really is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Special {
    /// `io.k8s.apimachinery.pkg.util.intstr.IntOrString`.
    IntOrString,
    /// `io.k8s.apimachinery.pkg.api.resource.Quantity` (for a map, each value).
    Quantity,
    /// `io.k8s.apimachinery.pkg.apis.meta.v1.Time`.
    Time,
    /// `io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime`.
    MicroTime,
}

impl MessageSchema {
    /// The field with this JSON name.
    pub fn field(&self, json_name: &str) -> Option<&FieldSchema> {
        self.by_json.get(json_name).map(|&i| &self.fields[i])
    }

    /// Kubernetes' OpenAPI definition name (`io.k8s.api.core.v1.Pod`); None for messages
    /// that exist only in this project's gRPC API.
    pub fn definition_name(&self) -> Option<&'static str> {
        index().facts.get(self.full_name.as_str()).map(|f| f.0)
    }

    /// JSON names of the fields Kubernetes marks required.
    pub fn required(&self) -> &'static [&'static str] {
        index()
            .facts
            .get(self.full_name.as_str())
            .map_or(&[], |f| f.1)
    }
}

struct Index {
    messages: HashMap<String, MessageSchema>,
    facts: HashMap<&'static str, (&'static str, &'static [&'static str])>,
    special: HashMap<(&'static str, &'static str), Special>,
}

fn index() -> &'static Index {
    static INDEX: OnceLock<Index> = OnceLock::new();
    INDEX.get_or_init(|| {
        // The build script wrote this file from the same protos this crate compiled: it
        // always decodes; an empty index would only make every field "unknown".
        let set = FileDescriptorSet::decode(DESCRIPTOR_SET).unwrap_or_default();
        let mut messages = HashMap::new();
        for file in &set.file {
            let package = file.package();
            let empty = SourceCodeInfo::default();
            let info = file.source_code_info.as_ref().unwrap_or(&empty);
            let comments: HashMap<&[i32], &str> = info
                .location
                .iter()
                .filter_map(|l| {
                    let text = l
                        .leading_comments
                        .as_deref()
                        .filter(|c| !c.trim().is_empty());
                    let text = text.or(l.trailing_comments.as_deref())?;
                    Some((l.path.as_slice(), text))
                })
                .collect();
            for (i, message) in file.message_type.iter().enumerate() {
                add_message(&mut messages, package, message, &[4, i as i32], &comments);
            }
        }
        // Kubernetes' documentation where it has some: users read it in `kubectl explain`.
        for (name, text) in descriptions::MESSAGES {
            if let Some(m) = messages.get_mut(*name) {
                m.description = (*text).to_string();
            }
        }
        for (name, field, text) in descriptions::FIELDS {
            if let Some(m) = messages.get_mut(*name)
                && let Some(&i) = m.by_json.get(*field)
            {
                m.fields[i].description = (*text).to_string();
            }
        }
        Index {
            messages,
            facts: facts::DEFINITIONS
                .iter()
                .map(|&(m, d, r)| (m, (d, r)))
                .collect(),
            special: facts::SPECIAL_FIELDS
                .iter()
                .map(|&(m, f, s)| ((m, f), s))
                .collect(),
        }
    })
}

fn add_message(
    out: &mut HashMap<String, MessageSchema>,
    prefix: &str,
    message: &DescriptorProto,
    path: &[i32],
    comments: &HashMap<&[i32], &str>,
) {
    let full_name = format!("{prefix}.{}", message.name());
    // Map entry messages: field kinds of maps, resolved by their full name below.
    let entries: HashMap<String, &DescriptorProto> = message
        .nested_type
        .iter()
        .filter(|n| n.options.as_ref().is_some_and(|o| o.map_entry()))
        .map(|n| (format!(".{full_name}.{}", n.name()), n))
        .collect();
    let mut fields = Vec::with_capacity(message.field.len());
    for (j, f) in message.field.iter().enumerate() {
        let mut field_path = path.to_vec();
        field_path.extend([2, j as i32]);
        let (kind, repeated) = match entries.get(f.type_name()) {
            Some(entry) => {
                let value = entry.field.iter().find(|x| x.number() == 2);
                (
                    FieldKind::Map(Box::new(value.map_or(FieldKind::String, scalar_kind))),
                    false,
                )
            }
            None => (scalar_kind(f), f.label() == Label::Repeated),
        };
        fields.push(FieldSchema {
            json_name: f.json_name.clone().unwrap_or_else(|| f.name().to_string()),
            proto_name: f.name().to_string(),
            kind,
            repeated,
            description: comments
                .get(field_path.as_slice())
                .map(|c| clean_comment(c))
                .unwrap_or_default(),
        });
    }
    for (k, nested) in message.nested_type.iter().enumerate() {
        if nested.options.as_ref().is_some_and(|o| o.map_entry()) {
            continue;
        }
        let mut nested_path = path.to_vec();
        nested_path.extend([3, k as i32]);
        add_message(out, &full_name, nested, &nested_path, comments);
    }
    let by_json = fields
        .iter()
        .enumerate()
        .map(|(i, f)| (f.json_name.clone(), i))
        .collect();
    out.insert(
        full_name.clone(),
        MessageSchema {
            description: comments
                .get(path)
                .map(|c| clean_comment(c))
                .unwrap_or_default(),
            full_name,
            fields,
            by_json,
        },
    );
}

fn scalar_kind(f: &prost_types::FieldDescriptorProto) -> FieldKind {
    match f.r#type() {
        Type::String | Type::Enum => FieldKind::String,
        Type::Bool => FieldKind::Bool,
        Type::Int64 | Type::Sint64 | Type::Sfixed64 => FieldKind::Int64,
        Type::Uint64 | Type::Fixed64 => FieldKind::UInt64,
        Type::Double | Type::Float => FieldKind::Double,
        Type::Bytes => FieldKind::Bytes,
        Type::Message | Type::Group => {
            FieldKind::Message(f.type_name().trim_start_matches('.').to_string())
        }
        Type::Int32 | Type::Sint32 | Type::Sfixed32 | Type::Uint32 | Type::Fixed32 => {
            FieldKind::Int32
        }
    }
}

/// A proto comment as one paragraph per blank-line-separated block.
fn clean_comment(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() {
            if !out.is_empty() && !out.ends_with("\n\n") {
                out.push_str("\n\n");
            }
        } else {
            if !out.is_empty() && !out.ends_with('\n') {
                out.push(' ');
            }
            out.push_str(line);
        }
    }
    out.trim_end().to_string()
}

/// The message with this full name ("k8s.PodSpec").
pub fn message(full_name: &str) -> Option<&'static MessageSchema> {
    index().messages.get(full_name)
}

/// Every message (for OpenAPI), in no particular order.
pub fn messages() -> impl Iterator<Item = &'static MessageSchema> {
    index().messages.values()
}

/// The top-level message of a kind ("k8s.Pod").
pub fn kind_message(info: &KindInfo) -> &'static MessageSchema {
    static EMPTY: OnceLock<MessageSchema> = OnceLock::new();
    message(&format!("k8s.{}", info.kind)).unwrap_or_else(|| {
        // Unreachable: every kind is a message (tested); an empty schema is the safe answer.
        EMPTY.get_or_init(|| MessageSchema {
            full_name: String::new(),
            fields: Vec::new(),
            description: String::new(),
            by_json: HashMap::new(),
        })
    })
}

/// What Kubernetes' type of a string field is when it is more than a string.
pub fn special(message: &str, json_field: &str) -> Option<Special> {
    index().special.get(&(message, json_field)).copied()
}

/// Paths ("spec.foo", "spec.containers[0].bar") of fields the schema does not know, in
/// document order, as Kubernetes' strict decoding names them.
pub fn unknown_fields(info: &KindInfo, value: &Value) -> Vec<String> {
    let mut out = Vec::new();
    find_unknown(kind_message(info), value, "", &mut out);
    out
}

/// Removes the fields `unknown_fields` names; returns their paths.
pub fn prune_unknown(info: &KindInfo, value: &mut Value) -> Vec<String> {
    let mut out = Vec::new();
    prune(kind_message(info), value, "", &mut out);
    out
}

/// `prune_unknown` for any message's JSON (request kinds that are not stored: reviews,
/// TokenRequest).
pub fn prune_unknown_message(schema: &MessageSchema, value: &mut Value) -> Vec<String> {
    let mut out = Vec::new();
    prune(schema, value, "", &mut out);
    out
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// The nested message of a field, unless opaque.
fn nested(kind: &FieldKind) -> Option<&'static MessageSchema> {
    let name = name_of(kind);
    if name.is_empty() || OPAQUE.contains(&name) {
        None
    } else {
        message(name)
    }
}

fn name_of(kind: &FieldKind) -> &str {
    match kind {
        FieldKind::Message(name) => name,
        FieldKind::Map(inner) => name_of(inner),
        _ => "",
    }
}

fn find_unknown(schema: &MessageSchema, value: &Value, path: &str, out: &mut Vec<String>) {
    let Value::Object(map) = value else { return };
    for (key, v) in map {
        let Some(field) = schema.field(key) else {
            out.push(join(path, key));
            continue;
        };
        let Some(inner) = nested(&field.kind) else {
            continue;
        };
        let here = join(path, key);
        match (v, &field.kind) {
            (Value::Object(m), FieldKind::Map(_)) => {
                for (k, item) in m {
                    find_unknown(inner, item, &join(&here, k), out);
                }
            }
            (Value::Array(items), _) if field.repeated => {
                for (i, item) in items.iter().enumerate() {
                    find_unknown(inner, item, &format!("{here}[{i}]"), out);
                }
            }
            _ => find_unknown(inner, v, &here, out),
        }
    }
}

fn prune(schema: &MessageSchema, value: &mut Value, path: &str, out: &mut Vec<String>) {
    let Value::Object(map) = value else { return };
    map.retain(|key, _| {
        let known = schema.field(key).is_some();
        if !known {
            out.push(join(path, key));
        }
        known
    });
    for (key, v) in map.iter_mut() {
        let Some(field) = schema.field(key) else {
            continue;
        };
        let Some(inner) = nested(&field.kind) else {
            continue;
        };
        let here = join(path, key);
        match (v, &field.kind) {
            (Value::Object(m), FieldKind::Map(_)) => {
                for (k, item) in m.iter_mut() {
                    prune(inner, item, &join(&here, k), out);
                }
            }
            (Value::Array(items), _) if field.repeated => {
                for (i, item) in items.iter_mut().enumerate() {
                    prune(inner, item, &format!("{here}[{i}]"), out);
                }
            }
            (v, _) => prune(inner, v, &here, out),
        }
    }
}

/// For the HTTP wire: int64/uint64 values the proto3 JSON mapping writes as strings become
/// JSON numbers; fields Kubernetes' OpenAPI marks `required` but pbjson omitted because they
/// hold the default (e.g. ContainerStatus.ready=false, restartCount=0) are written out, so
/// strict clients (k8s-openapi) can decode every object.
pub fn normalize_output(info: &KindInfo, value: &mut Value) {
    normalize(kind_message(info), value);
}

/// `normalize_output` for any message's JSON (a list item, a nested object).
pub fn normalize_message(schema: &MessageSchema, value: &mut Value) {
    normalize(schema, value);
}

fn normalize(schema: &MessageSchema, value: &mut Value) {
    let Value::Object(map) = value else { return };
    for (key, v) in map.iter_mut() {
        let Some(field) = schema.field(key) else {
            continue;
        };
        match &field.kind {
            FieldKind::Int64 | FieldKind::UInt64 => each_value(v, field.repeated, &mut to_number),
            FieldKind::Map(inner) if matches!(**inner, FieldKind::Int64 | FieldKind::UInt64) => {
                if let Value::Object(m) = v {
                    m.values_mut().for_each(to_number);
                }
            }
            kind => {
                if let Some(inner) = nested(kind) {
                    match v {
                        Value::Object(m) if matches!(kind, FieldKind::Map(_)) => {
                            m.values_mut().for_each(|x| normalize(inner, x));
                        }
                        v => each_value(v, field.repeated, &mut |x| normalize(inner, x)),
                    }
                }
            }
        }
    }
    for name in schema.required() {
        if map.contains_key(*name) {
            continue;
        }
        let Some(field) = schema.field(name) else {
            continue;
        };
        let zero = match &field.kind {
            _ if field.repeated => Value::Array(Vec::new()),
            FieldKind::String | FieldKind::Bytes => Value::String(String::new()),
            FieldKind::Bool => Value::Bool(false),
            FieldKind::Int32 | FieldKind::Int64 | FieldKind::UInt64 => Value::from(0),
            FieldKind::Double => Value::from(0.0),
            FieldKind::Map(_) => Value::Object(serde_json::Map::new()),
            // A missing required object is an invalid object, not a default pbjson hid.
            FieldKind::Message(_) => continue,
        };
        map.insert((*name).to_string(), zero);
    }
}

fn each_value(v: &mut Value, repeated: bool, f: &mut dyn FnMut(&mut Value)) {
    match v {
        Value::Array(items) if repeated => items.iter_mut().for_each(f),
        v => f(v),
    }
}

fn to_number(v: &mut Value) {
    if let Value::String(s) = v {
        if let Ok(n) = s.parse::<i64>() {
            *v = Value::from(n);
        } else if let Ok(n) = s.parse::<u64>() {
            *v = Value::from(n);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::{ALL_KINDS, info};
    use serde_json::json;

    #[test]
    fn every_kind_has_a_schema_with_type_meta() {
        for k in ALL_KINDS {
            let m = kind_message(k);
            assert_eq!(m.full_name, format!("k8s.{}", k.kind));
            for f in ["apiVersion", "kind", "metadata"] {
                assert!(m.field(f).is_some(), "{} has no {f}", k.kind);
            }
            assert!(m.definition_name().is_some(), "{}", k.kind);
        }
    }

    #[test]
    fn fields_kinds_and_names() {
        let spec = message("k8s.PodSpec").unwrap();
        let c = spec.field("containers").unwrap();
        assert_eq!(c.kind, FieldKind::Message("k8s.Container".into()));
        assert!(c.repeated);
        let sel = spec.field("nodeSelector").unwrap();
        assert_eq!(sel.kind, FieldKind::Map(Box::new(FieldKind::String)));
        assert!(!sel.repeated);
        assert_eq!(spec.field("nodeName").unwrap().proto_name, "node_name");
        assert!(spec.field("node_name").is_none());
        let ns = message("k8s.NodeSpec").unwrap();
        assert!(ns.field("podCIDR").is_some());
        let img = message("k8s.ContainerImage").unwrap();
        assert_eq!(img.field("sizeBytes").unwrap().kind, FieldKind::Int64);
        assert_eq!(
            message("k8s.Secret").unwrap().field("data").unwrap().kind,
            FieldKind::Map(Box::new(FieldKind::Bytes))
        );
        // A oneof's members are plain fields of the message.
        let vol = message("k8s.Volume").unwrap();
        assert!(vol.field("hostPath").is_some() && vol.field("configMap").is_some());
        assert_eq!(
            message("k8s.Pod").unwrap().definition_name(),
            Some("io.k8s.api.core.v1.Pod")
        );
        assert_eq!(
            message("k8s.HttpGetAction").unwrap().definition_name(),
            Some("io.k8s.api.core.v1.HTTPGetAction")
        );
        assert_eq!(
            message("k8s.ObjectMeta").unwrap().definition_name(),
            Some("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")
        );
        assert_eq!(
            special("k8s.ServicePort", "targetPort"),
            Some(Special::IntOrString)
        );
        assert_eq!(
            special("k8s.ResourceRequirements", "limits"),
            Some(Special::Quantity)
        );
    }

    #[test]
    fn comments_become_descriptions() {
        let c = message("k8s.Container").unwrap();
        assert!(
            c.field("image")
                .unwrap()
                .description
                .starts_with("Container image name.")
        );
        assert!(
            message("k8s.Pod")
                .unwrap()
                .description
                .starts_with("Pod is a collection")
        );
        // A field Kubernetes does not document keeps its proto comment.
        let list = message("k8s.ListRequest").unwrap();
        assert!(
            list.field("namespace")
                .unwrap()
                .description
                .starts_with("Empty: all namespaces"),
            "{:?}",
            list.field("namespace")
        );
    }

    #[test]
    fn every_fact_names_a_message_and_its_fields() {
        let mut missing = Vec::new();
        for (m, _, required) in facts::DEFINITIONS {
            let schema = message(m).unwrap_or_else(|| panic!("{m}"));
            for r in *required {
                if schema.field(r).is_none() {
                    missing.push(format!("{m}.{r}"));
                }
            }
        }
        for (m, f, _) in facts::SPECIAL_FIELDS {
            let schema = message(m).unwrap_or_else(|| panic!("{m}"));
            if schema.field(f).is_none() {
                missing.push(format!("{m}.{f}"));
            }
        }
        assert!(missing.is_empty(), "{missing:?}");
    }

    #[test]
    fn unknown_fields_are_found_with_their_paths() {
        let doc = json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "a", "labels": {"x": "y"}, "bogus": 1},
            "spec": {
                "foo": true,
                "containers": [{"name": "c", "image": "i"}, {"name": "d", "bar": 1,
                    "ports": [{"containerPort": 80, "baz": "q"}]}],
                "volumes": [{"name": "v", "hostPath": {"path": "/x", "nope": 1}}]
            },
            "status": {"phase": "Running"}
        });
        assert_eq!(
            unknown_fields(&info::Pod, &doc),
            vec![
                "metadata.bogus",
                "spec.containers[1].bar",
                "spec.containers[1].ports[0].baz",
                "spec.foo",
                "spec.volumes[0].hostPath.nope",
            ]
        );
        let mut pruned = doc.clone();
        assert_eq!(prune_unknown(&info::Pod, &mut pruned).len(), 5);
        assert!(unknown_fields(&info::Pod, &pruned).is_empty());
        assert_eq!(pruned["spec"]["containers"][1]["name"], "d");
        assert_eq!(pruned["metadata"]["labels"]["x"], "y");
        // Snake-case proto names are unknown to Kubernetes.
        let doc = json!({"spec": {"node_name": "n"}});
        assert_eq!(unknown_fields(&info::Pod, &doc), vec!["spec.node_name"]);
        // Opaque messages (ExtraValue) and maps of strings are not looked into.
        let doc = json!({"data": {"anything": "x"}});
        assert!(unknown_fields(&info::ConfigMap, &doc).is_empty());
    }

    #[test]
    fn normalize_writes_numbers_and_required_defaults() {
        let mut doc = json!({
            "apiVersion": "v1", "kind": "Node", "metadata": {"name": "n"},
            "status": {"images": [{"names": ["a"], "sizeBytes": "123456789012"}],
                "nodeInfo": {"machineID": "m"}}
        });
        normalize_output(&info::Node, &mut doc);
        assert_eq!(
            doc["status"]["images"][0]["sizeBytes"],
            json!(123456789012_i64)
        );
        assert_eq!(doc["status"]["nodeInfo"]["bootID"], json!(""));
        assert!(doc.get("spec").is_none());

        let mut doc = json!({
            "kind": "Pod", "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "c", "ports": [{"containerPort": 80}]}]},
            "status": {"containerStatuses": [{"name": "c", "image": "i"}]}
        });
        normalize_output(&info::Pod, &mut doc);
        let cs = &doc["status"]["containerStatuses"][0];
        assert_eq!(cs["ready"], json!(false));
        assert_eq!(cs["restartCount"], json!(0));
        assert_eq!(cs["imageID"], json!(""));
        assert!(doc.get("metadata").is_some());

        let mut doc = json!({"kind": "DaemonSet", "status": {}});
        normalize_output(&info::DaemonSet, &mut doc);
        assert_eq!(doc["status"]["numberReady"], json!(0));
    }
}
