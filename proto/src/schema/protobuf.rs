//! Kubernetes' protobuf encoding (`application/vnd.kubernetes.protobuf`) read into the JSON
//! our kinds decode from. kubectl 1.32+ sends the objects its `create` generators build
//! (`kubectl create configmap|deployment|secret|serviceaccount ...`) and its reviews this
//! way and does not fall back to JSON. The body is `k8s\0` then a `runtime.Unknown`
//! (`typeMeta` = 1, `raw` = 2) whose `raw` is the object in k8s.io/api's `generated.proto`
//! numbering (`wire.rs`); types come from our schema. Fields we do not have are skipped;
//! structs Kubernetes inlines in JSON but nests in protobuf (`Volume.volumeSource`,
//! `Probe.handler`) are merged into their parent.

use super::{FieldKind, MessageSchema, Special, message, special, wire::MESSAGES};
use base64::Engine as _;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::{Duration, UNIX_EPOCH};

const MAGIC: &[u8] = b"k8s\0";

/// Whether a Content-Type is Kubernetes' protobuf.
pub fn is_k8s_protobuf(content_type: &str) -> bool {
    content_type
        .trim_start()
        .starts_with("application/vnd.kubernetes.protobuf")
}

type Fields = HashMap<u32, (&'static str, &'static str)>;

fn table() -> &'static HashMap<&'static str, Fields> {
    static TABLE: OnceLock<HashMap<&'static str, Fields>> = OnceLock::new();
    TABLE.get_or_init(|| {
        MESSAGES
            .iter()
            .map(|(name, fields)| {
                (
                    *name,
                    fields.iter().map(|(n, j, t)| (*n, (*j, *t))).collect(),
                )
            })
            .collect()
    })
}

/// Kubernetes' protobuf message name of one of our messages.
fn wire_name(schema: &MessageSchema) -> Option<String> {
    let def = schema.definition_name()?;
    let rest = def.strip_prefix("io.k8s.")?;
    Some(format!("k8s.io.{rest}"))
}

/// Decodes a whole protobuf body (envelope included) as the message `message` ("k8s.Pod"),
/// with `apiVersion` and `kind` from the envelope.
pub fn from_k8s_protobuf(message_name: &str, body: &[u8]) -> Result<Value, String> {
    let schema = message(message_name).ok_or("no schema for this kind")?;
    let (type_meta, raw) = envelope(body)?;
    object(schema, type_meta, raw)
}

/// `from_k8s_protobuf` for the kind the envelope names (`typeMeta.kind`): the HTTP API's
/// create, update and subresource bodies.
pub fn from_k8s_protobuf_any(body: &[u8]) -> Result<Value, String> {
    let (type_meta, raw) = envelope(body)?;
    let kind = type_meta
        .get("kind")
        .and_then(Value::as_str)
        .ok_or("the protobuf envelope names no kind")?;
    let schema = message(&format!("k8s.{kind}"))
        .ok_or_else(|| format!("no kind {kind} is served in protobuf"))?;
    object(schema, type_meta, raw)
}

fn object(
    schema: &'static MessageSchema,
    type_meta: Map<String, Value>,
    raw: &[u8],
) -> Result<Value, String> {
    let name = wire_name(schema).ok_or("this kind has no protobuf form")?;
    let mut value = Map::new();
    decode_into(raw, schema, &name, &mut value)?;
    for (k, v) in type_meta {
        value.insert(k, v);
    }
    Ok(Value::Object(value))
}

/// The envelope's `typeMeta` (apiVersion, kind) and `raw` object bytes.
fn envelope(body: &[u8]) -> Result<(Map<String, Value>, &[u8]), String> {
    let unknown = body
        .strip_prefix(MAGIC)
        .ok_or("the body does not start with Kubernetes' protobuf magic number")?;
    let mut raw: &[u8] = &[];
    let mut type_meta = Map::new();
    for (n, w) in read(unknown)? {
        match (n, w) {
            (1, Wire::Bytes(b)) => {
                for (n, w) in read(b)? {
                    if let Wire::Bytes(s) = w {
                        let key = if n == 1 { "apiVersion" } else { "kind" };
                        type_meta.insert(key.into(), Value::from(text(s)?));
                    }
                }
            }
            (2, Wire::Bytes(b)) => raw = b,
            _ => {}
        }
    }
    Ok((type_meta, raw))
}

enum Wire<'a> {
    Varint(u64),
    Fixed64(u64),
    Bytes(&'a [u8]),
}

fn varint(buf: &[u8], pos: &mut usize) -> Result<u64, String> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *buf.get(*pos).ok_or("truncated varint")?;
        *pos += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err("varint too long".into())
}

fn read(buf: &[u8]) -> Result<Vec<(u32, Wire<'_>)>, String> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < buf.len() {
        let key = varint(buf, &mut pos)?;
        let field = u32::try_from(key >> 3).map_err(|_| "field number too large")?;
        let take = |pos: &mut usize, len: usize| -> Result<&[u8], String> {
            let end = pos
                .checked_add(len)
                .filter(|e| *e <= buf.len())
                .ok_or("truncated field")?;
            let s = &buf[*pos..end];
            *pos = end;
            Ok(s)
        };
        match key & 7 {
            0 => out.push((field, Wire::Varint(varint(buf, &mut pos)?))),
            1 => {
                let b = take(&mut pos, 8)?;
                let mut a = [0u8; 8];
                a.copy_from_slice(b);
                out.push((field, Wire::Fixed64(u64::from_le_bytes(a))));
            }
            2 => {
                let len = usize::try_from(varint(buf, &mut pos)?).map_err(|_| "length")?;
                out.push((field, Wire::Bytes(take(&mut pos, len)?)));
            }
            5 => {
                take(&mut pos, 4)?;
            }
            w => return Err(format!("unsupported wire type {w}")),
        }
    }
    Ok(out)
}

fn text(b: &[u8]) -> Result<String, String> {
    String::from_utf8(b.to_vec()).map_err(|_| "invalid UTF-8 in a string".to_string())
}

fn decode_into(
    raw: &[u8],
    schema: &'static MessageSchema,
    wire: &str,
    out: &mut Map<String, Value>,
) -> Result<(), String> {
    let Some(fields) = table().get(wire) else {
        return Ok(());
    };
    for (n, w) in read(raw)? {
        let Some(&(json, ktype)) = fields.get(&n) else {
            continue;
        };
        let Some(field) = schema.field(json) else {
            // A struct Kubernetes inlines in JSON: its fields are ours.
            if let Wire::Bytes(b) = w
                && table().contains_key(ktype)
            {
                decode_into(b, schema, ktype, out)?;
            }
            continue;
        };
        let sp = special(&schema.full_name, json);
        match &field.kind {
            FieldKind::Map(inner) => {
                let Wire::Bytes(entry) = w else { continue };
                let (mut key, mut value) = (String::new(), Value::Null);
                for (en, ew) in read(entry)? {
                    match (en, ew) {
                        (1, Wire::Bytes(k)) => key = text(k)?,
                        (2, ew) => value = scalar(inner, sp, ew)?,
                        _ => {}
                    }
                }
                if value.is_null() {
                    value = zero(inner);
                }
                let map = out.entry(json).or_insert_with(|| Value::Object(Map::new()));
                if let Value::Object(m) = map {
                    m.insert(key, value);
                }
            }
            kind if field.repeated => {
                let list = out.entry(json).or_insert_with(|| Value::Array(Vec::new()));
                let Value::Array(items) = list else { continue };
                match (kind, w) {
                    // Packed numbers.
                    (
                        FieldKind::Int32 | FieldKind::Int64 | FieldKind::UInt64 | FieldKind::Bool,
                        Wire::Bytes(b),
                    ) => {
                        let mut pos = 0;
                        while pos < b.len() {
                            let v = varint(b, &mut pos)?;
                            items.push(scalar(kind, sp, Wire::Varint(v))?);
                        }
                    }
                    (kind, w) => items.push(scalar(kind, sp, w)?),
                }
            }
            kind => {
                let v = scalar(kind, sp, w)?;
                if !v.is_null() {
                    out.insert(json.to_string(), v);
                }
            }
        }
    }
    Ok(())
}

fn zero(kind: &FieldKind) -> Value {
    match kind {
        FieldKind::Message(_) => Value::Object(Map::new()),
        _ => Value::from(""),
    }
}

/// One value of a field (an item of a list, a map value).
fn scalar(kind: &FieldKind, sp: Option<Special>, w: Wire<'_>) -> Result<Value, String> {
    Ok(match (kind, sp, w) {
        (_, Some(Special::IntOrString), Wire::Bytes(b)) => {
            let (mut ty, mut int, mut s) = (0, 0i64, String::new());
            for (n, w) in read(b)? {
                match (n, w) {
                    (1, Wire::Varint(v)) => ty = v,
                    (2, Wire::Varint(v)) => int = v as i32 as i64,
                    (3, Wire::Bytes(b)) => s = text(b)?,
                    _ => {}
                }
            }
            Value::from(if ty == 1 { s } else { int.to_string() })
        }
        (_, Some(Special::Quantity), Wire::Bytes(b)) => {
            let mut s = String::new();
            for (n, w) in read(b)? {
                if let (1, Wire::Bytes(b)) = (n, w) {
                    s = text(b)?;
                }
            }
            Value::from(s)
        }
        (_, Some(Special::Time | Special::MicroTime), Wire::Bytes(b)) => {
            let (mut secs, mut nanos) = (0i64, 0u32);
            for (n, w) in read(b)? {
                match (n, w) {
                    (1, Wire::Varint(v)) => secs = v as i64,
                    (2, Wire::Varint(v)) => nanos = v as u32,
                    _ => {}
                }
            }
            // Go writes its zero time (year 1): Kubernetes' JSON has null, i.e. absent.
            let Ok(secs) = u64::try_from(secs) else {
                return Ok(Value::Null);
            };
            if secs == 0 && nanos == 0 {
                return Ok(Value::Null);
            }
            let t = UNIX_EPOCH + Duration::new(secs, nanos);
            Value::from(if sp == Some(Special::MicroTime) {
                crate::time::format_rfc3339_micros(t)
            } else {
                crate::time::format_rfc3339(t)
            })
        }
        (FieldKind::Message(name), _, Wire::Bytes(b)) if name == "k8s.ExtraValue" => {
            let mut items = Vec::new();
            for (n, w) in read(b)? {
                if let (1, Wire::Bytes(s)) = (n, w) {
                    items.push(Value::from(text(s)?));
                }
            }
            Value::Array(items)
        }
        (FieldKind::Message(name), _, Wire::Bytes(b)) => {
            let mut m = Map::new();
            if let Some(inner) = message(name)
                && let Some(wire) = wire_name(inner)
            {
                decode_into(b, inner, &wire, &mut m)?;
            }
            Value::Object(m)
        }
        (FieldKind::String, _, Wire::Bytes(b)) => Value::from(text(b)?),
        (FieldKind::Bytes, _, Wire::Bytes(b)) => {
            Value::from(base64::engine::general_purpose::STANDARD.encode(b))
        }
        (FieldKind::Bool, _, Wire::Varint(v)) => Value::Bool(v != 0),
        (FieldKind::Int32, _, Wire::Varint(v)) => Value::from(v as i32),
        (FieldKind::Int64, _, Wire::Varint(v)) => Value::from(v as i64),
        (FieldKind::UInt64, _, Wire::Varint(v)) => Value::from(v),
        (FieldKind::Double, _, Wire::Fixed64(v)) => Value::from(f64::from_bits(v)),
        _ => return Err("a field has an unexpected protobuf wire type".into()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn len(n: u32, data: &[u8]) -> Vec<u8> {
        let mut v = vec![((n << 3) | 2) as u8, data.len() as u8];
        v.extend_from_slice(data);
        v
    }

    fn int(n: u32, v: u8) -> Vec<u8> {
        vec![(n << 3) as u8, v]
    }

    fn envelope(api_version: &[u8], kind: &[u8], raw: &[u8]) -> Vec<u8> {
        let type_meta = [len(1, api_version), len(2, kind)].concat();
        [MAGIC, &len(1, &type_meta), &len(2, raw)].concat()
    }

    #[test]
    fn a_configmap_as_kubectl_create_sends_it() {
        // ObjectMeta: name = 1, namespace = 3, labels = 11 (map entries key 1, value 2).
        let meta = [
            len(1, b"cm1"),
            len(3, b"ns"),
            len(11, &[len(1, b"a"), len(2, b"b")].concat()),
        ]
        .concat();
        // ConfigMap: metadata = 1, data = 2.
        let raw = [
            len(1, &meta),
            len(2, &[len(1, b"k"), len(2, b"v")].concat()),
        ]
        .concat();
        let v = from_k8s_protobuf("k8s.ConfigMap", &envelope(b"v1", b"ConfigMap", &raw)).unwrap();
        assert_eq!(
            v,
            json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "cm1", "namespace": "ns", "labels": {"a": "b"}},
                "data": {"k": "v"}})
        );
    }

    #[test]
    fn a_deployment_with_inlined_and_special_fields() {
        // Container: name = 1, image = 2, ports = 6 (containerPort = 3),
        // readinessProbe = 11 (handler = 1 -> httpGet = 2 -> port = 2 IntOrString(type 0, intVal 2)),
        // resources = 8 (limits = 1: map of Quantity {string = 1}).
        let port = [int(1, 0), int(2, 80)].concat();
        let probe = len(1, &len(2, &len(2, &port)));
        let limits = len(1, &[len(1, b"cpu"), len(2, &len(1, b"500m"))].concat());
        let container = [
            len(1, b"web"),
            len(2, b"nginx"),
            len(6, &int(3, 80)),
            len(8, &limits),
            len(11, &probe),
        ]
        .concat();
        // Volume: name = 1, volumeSource = 2 -> emptyDir = 2 (empty message).
        let volume = [len(1, b"v"), len(2, &len(2, &[]))].concat();
        // PodSpec: volumes = 1, containers = 2; PodTemplateSpec: spec = 2;
        // DeploymentSpec: replicas = 1, template = 3.
        let pod_spec = [len(1, &volume), len(2, &container)].concat();
        let spec = [int(1, 3), len(3, &len(2, &pod_spec))].concat();
        let raw = [len(1, &len(1, b"d")), len(2, &spec)].concat();
        let v = from_k8s_protobuf("k8s.Deployment", &envelope(b"apps/v1", b"Deployment", &raw))
            .unwrap();
        assert_eq!(v["spec"]["replicas"], 3);
        let c = &v["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(c["ports"][0]["containerPort"], 80);
        assert_eq!(c["readinessProbe"]["httpGet"]["port"], "80");
        assert_eq!(c["resources"]["limits"]["cpu"], "500m");
        assert_eq!(
            v["spec"]["template"]["spec"]["volumes"][0],
            json!({"name": "v", "emptyDir": {}})
        );
        assert!(from_k8s_protobuf("k8s.Deployment", b"{}").is_err());
    }
}

#[cfg(test)]
mod kubectl_bodies {
    use super::*;

    #[test]
    fn what_kubectl_1_33_create_sends() {
        // `kubectl create deployment web2 --image=nginx:1.25 --port=80 --replicas=2`
        let body = include_bytes!("testdata/kubectl-1.33-create-deployment.pb");
        let v = from_k8s_protobuf("k8s.Deployment", body).unwrap();
        assert_eq!(v["kind"], "Deployment");
        assert_eq!(v["apiVersion"], "apps/v1");
        assert_eq!(v["metadata"]["name"], "web2");
        assert!(v["metadata"].get("creationTimestamp").is_none());
        assert_eq!(v["spec"]["replicas"], 2);
        let c = &v["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(c["image"], "nginx:1.25");
        assert_eq!(c["ports"][0]["containerPort"], 80);
        assert_eq!(v["spec"]["selector"]["matchLabels"]["app"], "web2");
        let object = crate::Object::from_json_as(&crate::resource::info::Deployment, v);
        assert!(object.is_ok(), "{object:?}");
        // `kubectl create secret generic s1 --from-literal=a=b`
        let body = include_bytes!("testdata/kubectl-1.33-create-secret.pb");
        let v = from_k8s_protobuf_any(body).unwrap();
        assert_eq!(v["data"]["a"], "Yg==");
        assert!(crate::Object::from_json_as(&crate::resource::info::Secret, v).is_ok());
    }
}
