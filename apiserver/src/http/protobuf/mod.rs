//! Kubernetes' protobuf request bodies (`application/vnd.kubernetes.protobuf`: `k8s\0` then a
//! `runtime.Unknown` wrapping the object), read into the JSON document the object is. kubectl
//! 1.30+ sends its typed writes this way (`create configmap`, `auth can-i`, `drain`) and does
//! not fall back to JSON, so the front door turns them into JSON before anything else
//! reads the body. Answers are always JSON (clients accept it).
//!
//! The message layouts come from Kubernetes' generated.proto files (`fields.rs`, written by
//! `generate.py`).

use std::time::{Duration, UNIX_EPOCH};

use base64::Engine;
use serde_json::{Map, Value};

mod fields;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Label {
    Single,
    Repeated,
    Map,
}

#[derive(Debug)]
pub(super) struct Field {
    pub number: u32,
    /// The JSON name; empty for an embedded struct whose fields JSON inlines.
    pub name: &'static str,
    pub label: Label,
    /// A scalar type name or a message's full name; the key type for maps.
    pub ty: &'static str,
    /// The value type of a map.
    pub value: &'static str,
}

const MAGIC: &[u8] = b"k8s\0";
const META: &str = "k8s.io.apimachinery.pkg.apis.meta.v1.";

pub(crate) const MEDIA_TYPE: &str = "application/vnd.kubernetes.protobuf";

fn message(name: &str) -> Option<&'static [Field]> {
    fields::MESSAGES
        .binary_search_by(|(n, _)| (*n).cmp(name))
        .ok()
        .map(|i| fields::MESSAGES[i].1)
}

/// The proto message of a kind in a group-version (`apps/v1` `Deployment`).
fn message_of(api_version: &str, kind: &str) -> String {
    let (group, version) = match api_version.split_once('/') {
        Some((g, v)) => (g, v),
        None => ("core", api_version),
    };
    // Options travel under every group-version (`v1 DeleteOptions` from the core client).
    if group == "meta.k8s.io" || kind.ends_with("Options") {
        return format!("{META}{kind}");
    }
    // `rbac.authorization.k8s.io` -> `rbac`, `networking.k8s.io` -> `networking`.
    let package = group.split('.').next().unwrap_or(group);
    format!("k8s.io.api.{package}.{version}.{kind}")
}

/// The JSON document a protobuf body holds, `apiVersion` and `kind` included.
pub(crate) fn to_json(body: &[u8]) -> Result<Value, String> {
    let rest = body
        .strip_prefix(MAGIC)
        .ok_or("the body does not start with Kubernetes' protobuf prefix")?;
    let (mut api_version, mut kind, mut raw) = (String::new(), String::new(), &[][..]);
    let mut r = Reader(rest);
    while let Some((number, wire)) = r.key()? {
        match (number, wire) {
            (1, Wire::Bytes(type_meta)) => {
                let mut t = Reader(type_meta);
                while let Some((n, w)) = t.key()? {
                    match (n, w) {
                        (1, Wire::Bytes(b)) => api_version = String::from_utf8_lossy(b).into(),
                        (2, Wire::Bytes(b)) => kind = String::from_utf8_lossy(b).into(),
                        _ => {}
                    }
                }
            }
            (2, Wire::Bytes(b)) => raw = b,
            _ => {}
        }
    }
    let name = message_of(&api_version, &kind);
    let schema = message(&name).ok_or_else(|| {
        format!("no protobuf decoding for {api_version} {kind}: send it as application/json")
    })?;
    let mut value = decode(schema, raw, 0)?;
    if let Value::Object(map) = &mut value {
        map.insert("apiVersion".into(), Value::from(api_version));
        map.insert("kind".into(), Value::from(kind));
    }
    Ok(value)
}

const MAX_DEPTH: usize = 64;

fn decode(schema: &[Field], bytes: &[u8], depth: usize) -> Result<Value, String> {
    if depth > MAX_DEPTH {
        return Err("protobuf body nested too deeply".into());
    }
    let mut out = Map::new();
    let mut r = Reader(bytes);
    while let Some((number, wire)) = r.key()? {
        let Some(field) = schema.iter().find(|f| f.number == number) else {
            continue;
        };
        match field.label {
            Label::Map => {
                let Wire::Bytes(entry) = wire else {
                    return Err(format!(
                        "field {}: a map entry must be length-delimited",
                        field.name
                    ));
                };
                let (mut key, mut value) = (String::new(), Value::Null);
                let mut e = Reader(entry);
                while let Some((n, w)) = e.key()? {
                    match n {
                        1 => key = scalar(field.ty, w)?.as_str().unwrap_or("").to_string(),
                        2 => value = typed(field.value, w, depth)?,
                        _ => {}
                    }
                }
                if value.is_null() {
                    value = zero(field.value);
                }
                let map = out
                    .entry(field.name)
                    .or_insert_with(|| Value::Object(Map::new()));
                if let Value::Object(m) = map {
                    m.insert(key, value);
                }
            }
            Label::Repeated => {
                let list = out
                    .entry(field.name)
                    .or_insert_with(|| Value::Array(Vec::new()));
                let Value::Array(list) = list else { continue };
                match wire {
                    // Packed numbers.
                    Wire::Bytes(b) if is_numeric(field.ty) => {
                        let mut p = Reader(b);
                        while !p.0.is_empty() {
                            let w = if matches!(field.ty, "double" | "fixed64" | "sfixed64") {
                                Wire::Fixed64(p.fixed::<8>()?)
                            } else if matches!(field.ty, "float" | "fixed32" | "sfixed32") {
                                Wire::Fixed32(p.fixed::<4>()?)
                            } else {
                                Wire::Varint(p.varint()?)
                            };
                            list.push(scalar(field.ty, w)?);
                        }
                    }
                    w => {
                        let v = typed(field.ty, w, depth)?;
                        list.push(if v.is_null() { zero(field.ty) } else { v });
                    }
                }
            }
            Label::Single => {
                let v = typed(field.ty, wire, depth)?;
                if field.name.is_empty() {
                    // An embedded struct JSON inlines (`LocalObjectReference`, `VolumeSource`).
                    if let Value::Object(inner) = v {
                        out.extend(inner);
                    }
                } else if !is_zero(&v) {
                    // Go writes every non-pointer field, zero or not; JSON clients leave
                    // empty ones out, and so does this.
                    out.insert(field.name.to_string(), v);
                }
            }
        }
    }
    Ok(Value::Object(out))
}

fn is_zero(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::String(s) => s.is_empty(),
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::Array(a) => a.is_empty(),
        Value::Object(_) => false,
    }
}

fn zero(ty: &str) -> Value {
    match ty {
        "string" | "bytes" => Value::from(""),
        "bool" => Value::from(false),
        t if is_numeric(t) => Value::from(0),
        _ => Value::Object(Map::new()),
    }
}

fn is_numeric(ty: &str) -> bool {
    matches!(
        ty,
        "bool"
            | "int32"
            | "int64"
            | "uint32"
            | "uint64"
            | "sint32"
            | "sint64"
            | "double"
            | "float"
            | "fixed32"
            | "fixed64"
            | "sfixed32"
            | "sfixed64"
    )
}

/// A field's value: a scalar, or a message (Kubernetes' special ones in their JSON form).
fn typed(ty: &str, wire: Wire<'_>, depth: usize) -> Result<Value, String> {
    if !ty.contains('.') {
        return scalar(ty, wire);
    }
    let Wire::Bytes(bytes) = wire else {
        return Err(format!("a {ty} must be length-delimited"));
    };
    let Some(schema) = message(ty) else {
        // A message of a group not served here (alpha fields): left out.
        return Ok(Value::Null);
    };
    let v = decode(schema, bytes, depth + 1)?;
    Ok(special(ty, v))
}

/// Kubernetes types whose JSON is not their protobuf message's.
fn special(ty: &str, v: Value) -> Value {
    let get_i64 = |k: &str| v.get(k).and_then(Value::as_i64).unwrap_or(0);
    match ty.strip_prefix(META) {
        Some("Time") | Some("MicroTime") => {
            let (s, n) = (get_i64("seconds"), get_i64("nanos"));
            if s == 0 && n == 0 {
                return Value::Null;
            }
            let Ok(secs) = u64::try_from(s) else {
                return Value::Null;
            };
            let t = UNIX_EPOCH + Duration::new(secs, u32::try_from(n).unwrap_or(0));
            if ty.ends_with("MicroTime") {
                Value::from(proto::time::format_rfc3339_micros(t))
            } else {
                Value::from(proto::time::format_rfc3339(t))
            }
        }
        Some("Duration") => Value::from(format!("{}s", get_i64("duration") / 1_000_000_000)),
        Some("FieldsV1") => raw_json(v.get("Raw")),
        _ => match ty {
            "k8s.io.apimachinery.pkg.util.intstr.IntOrString" => {
                if get_i64("type") == 1 {
                    v.get("strVal").cloned().unwrap_or_else(|| Value::from(""))
                } else {
                    Value::from(get_i64("intVal"))
                }
            }
            "k8s.io.apimachinery.pkg.api.resource.Quantity" => {
                v.get("string").cloned().unwrap_or_else(|| Value::from("0"))
            }
            "k8s.io.apimachinery.pkg.runtime.RawExtension" => raw_json(v.get("raw")),
            _ => slice_alias(ty, v),
        },
    }
}

/// go-to-protobuf writes a named slice type (`type ExtraValue []string`) as a message with
/// one repeated `items` field; its JSON is the list.
fn slice_alias(ty: &str, v: Value) -> Value {
    let alias = message(ty).is_some_and(|f| {
        f.len() == 1
            && f[0].name == "items"
            && f[0].label == Label::Repeated
            && !ty.ends_with("List")
    });
    if alias {
        v.get("items")
            .cloned()
            .unwrap_or_else(|| Value::Array(Vec::new()))
    } else {
        v
    }
}

/// Raw JSON bytes (base64 in the decoded message) parsed back.
fn raw_json(v: Option<&Value>) -> Value {
    v.and_then(Value::as_str)
        .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
        .and_then(|raw| serde_json::from_slice(&raw).ok())
        .unwrap_or(Value::Null)
}

fn scalar(ty: &str, wire: Wire<'_>) -> Result<Value, String> {
    Ok(match (ty, wire) {
        ("string", Wire::Bytes(b)) => Value::from(String::from_utf8_lossy(b).into_owned()),
        ("bytes", Wire::Bytes(b)) => {
            Value::from(base64::engine::general_purpose::STANDARD.encode(b))
        }
        ("bool", Wire::Varint(n)) => Value::from(n != 0),
        ("int32", Wire::Varint(n)) => Value::from(n as i64 as i32),
        ("int64", Wire::Varint(n)) => Value::from(n as i64),
        ("uint32", Wire::Varint(n)) => Value::from(n as u32),
        ("uint64", Wire::Varint(n)) => Value::from(n),
        ("sint32" | "sint64", Wire::Varint(n)) => Value::from((n >> 1) as i64 ^ -((n & 1) as i64)),
        ("double", Wire::Fixed64(b)) => Value::from(f64::from_le_bytes(b)),
        ("fixed64", Wire::Fixed64(b)) => Value::from(u64::from_le_bytes(b)),
        ("sfixed64", Wire::Fixed64(b)) => Value::from(i64::from_le_bytes(b)),
        ("float", Wire::Fixed32(b)) => Value::from(f32::from_le_bytes(b) as f64),
        ("fixed32", Wire::Fixed32(b)) => Value::from(u32::from_le_bytes(b)),
        ("sfixed32", Wire::Fixed32(b)) => Value::from(i32::from_le_bytes(b)),
        (ty, _) => return Err(format!("a {ty} field has the wrong wire type")),
    })
}

#[derive(Debug, Clone, Copy)]
enum Wire<'a> {
    Varint(u64),
    Fixed64([u8; 8]),
    Bytes(&'a [u8]),
    Fixed32([u8; 4]),
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn varint(&mut self) -> Result<u64, String> {
        let mut out = 0u64;
        for i in 0..10 {
            let Some((&b, rest)) = self.0.split_first() else {
                return Err("truncated protobuf varint".into());
            };
            self.0 = rest;
            out |= u64::from(b & 0x7f) << (7 * i);
            if b < 0x80 {
                return Ok(out);
            }
        }
        Err("protobuf varint too long".into())
    }

    fn fixed<const N: usize>(&mut self) -> Result<[u8; N], String> {
        if self.0.len() < N {
            return Err("truncated protobuf field".into());
        }
        let (head, rest) = self.0.split_at(N);
        self.0 = rest;
        let mut out = [0u8; N];
        out.copy_from_slice(head);
        Ok(out)
    }

    /// The next field's number and value, or None at the end.
    fn key(&mut self) -> Result<Option<(u32, Wire<'a>)>, String> {
        if self.0.is_empty() {
            return Ok(None);
        }
        let key = self.varint()?;
        let number = u32::try_from(key >> 3).map_err(|_| "protobuf field number too large")?;
        let wire = match key & 7 {
            0 => Wire::Varint(self.varint()?),
            1 => Wire::Fixed64(self.fixed::<8>()?),
            2 => {
                let len = usize::try_from(self.varint()?).map_err(|_| "length too large")?;
                if self.0.len() < len {
                    return Err("truncated protobuf field".into());
                }
                let (b, rest) = self.0.split_at(len);
                self.0 = rest;
                Wire::Bytes(b)
            }
            5 => Wire::Fixed32(self.fixed::<4>()?),
            other => return Err(format!("unsupported protobuf wire type {other}")),
        };
        Ok(Some((number, wire)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_table_is_sorted_for_binary_search() {
        assert!(fields::MESSAGES.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(message("k8s.io.api.core.v1.ConfigMap").is_some());
        assert_eq!(
            message_of("rbac.authorization.k8s.io/v1", "Role"),
            "k8s.io.api.rbac.v1.Role"
        );
        assert_eq!(message_of("v1", "Pod"), "k8s.io.api.core.v1.Pod");
        assert_eq!(
            message_of("v1", "DeleteOptions"),
            "k8s.io.apimachinery.pkg.apis.meta.v1.DeleteOptions"
        );
    }

    #[test]
    fn kubectl_create_configmap_body() {
        // What kubectl 1.33 sends for `create cm w1 --from-literal=a=b`.
        let body: &[u8] = &[
            0x6b, 0x38, 0x73, 0x00, 0x0a, 0x0f, 0x0a, 0x02, 0x76, 0x31, 0x12, 0x09, 0x43, 0x6f,
            0x6e, 0x66, 0x69, 0x67, 0x4d, 0x61, 0x70, 0x12, 0x1c, 0x0a, 0x12, 0x0a, 0x02, 0x77,
            0x31, 0x12, 0x00, 0x1a, 0x00, 0x22, 0x00, 0x2a, 0x00, 0x32, 0x00, 0x38, 0x00, 0x42,
            0x00, 0x12, 0x06, 0x0a, 0x01, 0x61, 0x12, 0x01, 0x62, 0x1a, 0x00, 0x22, 0x00,
        ];
        let v = to_json(body).unwrap();
        assert_eq!(
            v,
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "w1"}, "data": {"a": "b"}})
        );
        assert!(to_json(b"{}").is_err());
        assert!(to_json(b"k8s\0\x0a\xff").is_err(), "truncated");
    }
}
