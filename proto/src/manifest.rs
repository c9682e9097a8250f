//! Kubernetes-style manifests in and out: YAML (one or more `---` documents), JSON, and
//! `kind: List` documents, parsed into typed `Object`s with errors that name the document
//! and the field path; and the documents written back as kubectl writes them.

use crate::k8s::Object;
use crate::resource::{ALL_KINDS, KindInfo, kind_by_type};
use serde::Serialize;
use serde::ser::SerializeMap;
use serde_json::{Map, Value};

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("yaml: line {line}, column {column}: {message}")]
    Yaml {
        line: u64,
        column: u64,
        message: String,
    },
    #[error("json: line {line}, column {column}: {message}")]
    Json {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("document is not an object (found {found})")]
    NotAnObject { found: &'static str },
    #[error("missing apiVersion")]
    MissingApiVersion,
    #[error("missing kind")]
    MissingKind,
    // Quoted with escapes: a kind or apiVersion holding a newline must not split the line.
    #[error("no kind {kind:?} is registered for apiVersion {api_version:?}{hint}")]
    UnknownKind {
        api_version: String,
        kind: String,
        /// ` (did you mean apps/v1?)` when the kind exists under another apiVersion.
        hint: String,
    },
    #[error("{path}: {message}")]
    Field { path: String, message: String },
    #[error("document {index}: {source}")]
    InDocument {
        /// 1-based, counting every document of the file, empty ones included.
        index: usize,
        #[source]
        source: Box<ManifestError>,
    },
}

/// Parses every object of a manifest. JSON (a document starting with `{` or `[`) and YAML
/// are both accepted; `kind: List` documents contribute their `items`; empty documents are
/// skipped.
pub fn load_documents(text: &str) -> Result<Vec<Object>, ManifestError> {
    let documents = parse_documents(text)?;
    let counted = documents.len();
    let mut out = Vec::new();
    for (index, doc) in documents {
        let Some(value) = doc else { continue };
        load_value(value, &mut out).map_err(|e| in_document(e, index, counted))?;
    }
    Ok(out)
}

/// One document of a manifest read on its own: the document as written (for the name and
/// namespace an error names) and its objects, or why it has none (named `document N` when
/// the file has several).
pub struct LoadedDocument {
    pub value: Value,
    pub objects: Result<Vec<Object>, ManifestError>,
}

/// Every non-empty document of a manifest, each loaded on its own: an unknown kind or a bad
/// field in one leaves the others, as kubectl goes on with the rest of a file. A syntax error
/// fails the whole text.
pub fn load_each_document(text: &str) -> Result<Vec<LoadedDocument>, ManifestError> {
    let documents = parse_documents(text)?;
    let counted = documents.len();
    Ok(documents
        .into_iter()
        .filter_map(|(index, doc)| {
            let value = doc?;
            let mut objects = Vec::new();
            let loaded = load_value(value.clone(), &mut objects)
                .map(|()| objects)
                .map_err(|e| in_document(e, index, counted));
            Some(LoadedDocument {
                value,
                objects: loaded,
            })
        })
        .collect())
}

/// Parses one JSON value (an object, or a `List`) into objects; for callers that already
/// hold JSON (the apiserver's patch path, `ctl`).
pub fn load_value(value: Value, out: &mut Vec<Object>) -> Result<(), ManifestError> {
    let value = strip_nulls(value);
    let Value::Object(map) = &value else {
        return Err(ManifestError::NotAnObject {
            found: type_name(&value),
        });
    };
    let kind = map.get("kind").and_then(Value::as_str).unwrap_or("");
    // `v1 List` is kubectl's own wrapper; any `*List` kind works the same way there.
    if kind == "List" || (kind.ends_with("List") && map.contains_key("items")) {
        let items = match map.get("items") {
            Some(Value::Array(items)) => items.clone(),
            None => Vec::new(),
            Some(other) => {
                return Err(ManifestError::Field {
                    path: "items".into(),
                    message: format!("invalid type: {}, expected a list", type_name(other)),
                });
            }
        };
        for (i, item) in items.into_iter().enumerate() {
            load_value(item, out).map_err(|e| prefix_path(e, &format!("items[{i}]")))?;
        }
        return Ok(());
    }
    out.push(object_from_value(value)?);
    Ok(())
}

/// One Kubernetes object document (not a List) into its typed kind.
pub fn object_from_value(value: Value) -> Result<Object, ManifestError> {
    // A served version that is not stored (autoscaling/v1 HPA) reads as the stored one.
    let value = crate::convert::to_storage_document(strip_nulls(value))?;
    let info = kind_of(&value)?;
    let value = normalize(value);
    Object::from_json_as(info, value.clone()).map_err(|e| field_error(&value, e))
}

/// The registered kind a document's `apiVersion` and `kind` name.
pub fn kind_of(value: &Value) -> Result<&'static KindInfo, ManifestError> {
    let Value::Object(map) = value else {
        return Err(ManifestError::NotAnObject {
            found: type_name(value),
        });
    };
    let api_version = match map.get("apiVersion") {
        Some(Value::String(s)) if !s.is_empty() => s.as_str(),
        _ => return Err(ManifestError::MissingApiVersion),
    };
    let kind = match map.get("kind") {
        Some(Value::String(s)) if !s.is_empty() => s.as_str(),
        _ => return Err(ManifestError::MissingKind),
    };
    kind_by_type(api_version, kind).ok_or_else(|| {
        let hint = ALL_KINDS
            .iter()
            .find(|k| k.kind == kind)
            .map(|k| format!(" (did you mean {}?)", k.api_version))
            .unwrap_or_default();
        ManifestError::UnknownKind {
            api_version: api_version.to_string(),
            kind: kind.to_string(),
            hint,
        }
    })
}

/// The object as a YAML document, `apiVersion` and `kind` first (no leading `---`).
pub fn to_yaml(object: &Object) -> String {
    let json = to_document(object);
    // Serializing a JSON value cannot fail: every key is a string.
    serde_saphyr::to_string(&KubernetesOrder(&json)).unwrap_or_default()
}

/// The object as indented JSON, `apiVersion` and `kind` first.
pub fn to_json_pretty(object: &Object) -> String {
    let json = to_document(object);
    serde_json::to_string_pretty(&KubernetesOrder(&json)).unwrap_or_default()
}

/// Writes a document's top-level keys as kubectl does (`apiVersion`, `kind`, `metadata`,
/// then the rest, `status` last); nested maps keep their sorted order.
struct KubernetesOrder<'a>(&'a Value);

impl Serialize for KubernetesOrder<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let Value::Object(map) = self.0 else {
            return self.0.serialize(serializer);
        };
        const FIRST: [&str; 3] = ["apiVersion", "kind", "metadata"];
        let mut out = serializer.serialize_map(Some(map.len()))?;
        for key in FIRST {
            if let Some(v) = map.get(key) {
                out.serialize_entry(key, v)?;
            }
        }
        for (k, v) in map {
            if !FIRST.contains(&k.as_str()) && k != "status" {
                out.serialize_entry(k, v)?;
            }
        }
        if let Some(v) = map.get("status") {
            out.serialize_entry("status", v)?;
        }
        out.end()
    }
}

// ---------------------------------------------------------------------------------------
// Parsing documents

/// Every document of the text with its 1-based index; `None` for an empty one.
///
/// As Kubernetes' YAMLOrJSONDecoder (kubectl's reader): a text starting with `{` (or `[`)
/// is read as a JSON stream first; when that fails before a second value was read, the
/// rest is read as YAML, of which JSON and KYAML (flow style, unquoted keys, trailing
/// commas, comments) are both part. When the YAML reading fails too, the JSON error is
/// the one reported, as Kubernetes does.
fn parse_documents(text: &str) -> Result<Vec<(usize, Option<Value>)>, ManifestError> {
    let trimmed = text.trim_start();
    if !(trimmed.starts_with('{') || trimmed.starts_with('[')) {
        return parse_yaml_documents(text, 0, 0);
    }
    let stream = parse_json_stream(text);
    let Some(error) = stream.error else {
        return Ok(stream.documents);
    };
    // Two values read make the text a JSON stream for good.
    if stream.values > 1 {
        return Err(error);
    }
    let rest = &text[stream.consumed..];
    let first_line = text[..stream.consumed].matches('\n').count();
    match parse_yaml_documents(rest, first_line, stream.values) {
        Ok(more) => {
            let mut documents = stream.documents;
            documents.extend(more);
            Ok(documents)
        }
        Err(_) => Err(error),
    }
}

/// YAML documents split at `---`, numbered from `numbered + 1`, their lines counted from
/// `first_line` of the whole text.
fn parse_yaml_documents(
    text: &str,
    first_line: usize,
    numbered: usize,
) -> Result<Vec<(usize, Option<Value>)>, ManifestError> {
    let chunks = split_yaml_documents(text);
    let counted = chunks.len() + numbered;
    let mut out = Vec::with_capacity(chunks.len());
    for (i, chunk) in chunks.into_iter().enumerate() {
        let index = numbered + i + 1;
        let value = parse_yaml_chunk(&chunk.text, chunk.first_line + first_line)
            .map_err(|e| in_document(e, index, counted))?;
        out.push((index, value));
    }
    Ok(out)
}

struct JsonStream {
    documents: Vec<(usize, Option<Value>)>,
    /// Top-level values read (a `[...]` of documents is one).
    values: usize,
    /// Bytes of the text those values and the whitespace after them take.
    consumed: usize,
    error: Option<ManifestError>,
}

/// JSON: one value, or several concatenated (`kubectl get -o json` output piped together).
fn parse_json_stream(text: &str) -> JsonStream {
    let mut stream = JsonStream {
        documents: Vec::new(),
        values: 0,
        consumed: 0,
        error: None,
    };
    let mut values = serde_json::Deserializer::from_str(text).into_iter::<Value>();
    loop {
        let value = match values.next() {
            None => break,
            Some(Ok(v)) => v,
            Some(Err(e)) => {
                stream.error = Some(ManifestError::Json {
                    line: e.line(),
                    column: e.column(),
                    message: strip_json_position(&e.to_string()),
                });
                break;
            }
        };
        stream.values += 1;
        stream.consumed = values.byte_offset();
        let index = stream.values;
        // A top-level JSON array is a list of documents.
        match value {
            Value::Array(items) => stream
                .documents
                .extend(items.into_iter().map(|v| (index, Some(v)))),
            v => stream.documents.push((index, Some(v))),
        }
    }
    stream
}

struct YamlChunk {
    text: String,
    /// 0-based line of the chunk's first line in the whole text.
    first_line: usize,
}

/// Splits at `---` document markers (and `...` ends) at the start of a line. The YAML spec
/// forbids those markers inside any scalar, so splitting here keeps every document whole,
/// while letting errors name the document in the file's own numbering.
fn split_yaml_documents(text: &str) -> Vec<YamlChunk> {
    let mut chunks = Vec::new();
    let mut current = String::new();
    let mut first_line = 0;
    let mut started = false;
    for (n, line) in text.lines().enumerate() {
        let is_marker = |m: &str| {
            line.strip_prefix(m)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t']))
        };
        if is_marker("---") {
            if started || !current.trim().is_empty() {
                chunks.push(YamlChunk {
                    text: std::mem::take(&mut current),
                    first_line,
                });
            }
            started = true;
            first_line = n;
            // Keep content after the marker (`--- {a: 1}`), columns intact.
            current.push_str("   ");
            current.push_str(&line[3..]);
            current.push('\n');
        } else if is_marker("...") {
            current.push('\n');
        } else {
            if current.is_empty() {
                first_line = n;
            }
            current.push_str(line);
            current.push('\n');
        }
    }
    if started || !current.trim().is_empty() || chunks.is_empty() {
        chunks.push(YamlChunk {
            text: current,
            first_line,
        });
    }
    chunks
}

fn parse_yaml_chunk(text: &str, first_line: usize) -> Result<Option<Value>, ManifestError> {
    if text
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
    {
        return Ok(None);
    }
    let value = yaml_value(text).map_err(|e| {
        let (line, column) = e
            .location()
            .map(|l| (l.line(), l.column()))
            .unwrap_or((0, 0));
        ManifestError::Yaml {
            line: line + first_line as u64,
            column,
            message: one_line_yaml_message(&e),
        }
    })?;
    Ok(match value {
        Value::Null => None,
        v => Some(v),
    })
}

/// A YAML value read as go-yaml v2 reads it into `interface{}`: scalars resolved by YAML
/// 1.1 (serde-saphyr's untyped reading with [`yaml_options`] agrees), and mapping keys
/// resolved too, then written as sigs.k8s.io/yaml writes a non-string key: a plain `on:`
/// or `yes:` is the key "true", `0755:` is "493"; a quoted key stays as written.
struct GoYaml(Value);

struct GoYamlKey(String);

impl<'de> serde::Deserialize<'de> for GoYaml {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(GoYamlVisitor)
    }
}

struct GoYamlVisitor;

impl<'de> serde::de::Visitor<'de> for GoYamlVisitor {
    type Value = GoYaml;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a YAML value")
    }
    fn visit_bool<E>(self, b: bool) -> Result<GoYaml, E> {
        Ok(GoYaml(Value::Bool(b)))
    }
    fn visit_i64<E>(self, n: i64) -> Result<GoYaml, E> {
        Ok(GoYaml(n.into()))
    }
    fn visit_u64<E>(self, n: u64) -> Result<GoYaml, E> {
        Ok(GoYaml(n.into()))
    }
    fn visit_i128<E: serde::de::Error>(self, n: i128) -> Result<GoYaml, E> {
        self.visit_f64(n as f64)
    }
    fn visit_u128<E: serde::de::Error>(self, n: u128) -> Result<GoYaml, E> {
        self.visit_f64(n as f64)
    }
    fn visit_f64<E>(self, n: f64) -> Result<GoYaml, E> {
        // Non-finite floats never get here: the options refuse them, as Go's JSON
        // encoder does.
        Ok(GoYaml(
            serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number),
        ))
    }
    fn visit_str<E>(self, s: &str) -> Result<GoYaml, E> {
        Ok(GoYaml(Value::String(s.to_string())))
    }
    fn visit_string<E>(self, s: String) -> Result<GoYaml, E> {
        Ok(GoYaml(Value::String(s)))
    }
    fn visit_unit<E>(self) -> Result<GoYaml, E> {
        Ok(GoYaml(Value::Null))
    }
    fn visit_none<E>(self) -> Result<GoYaml, E> {
        Ok(GoYaml(Value::Null))
    }
    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<GoYaml, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<GoYaml, A::Error> {
        let mut items = Vec::new();
        while let Some(GoYaml(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(GoYaml(Value::Array(items)))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<GoYaml, A::Error> {
        let mut out = Map::new();
        // go-yaml v2 keeps the last of two keys that resolve alike (`on:` and `yes:`).
        while let Some((GoYamlKey(k), GoYaml(v))) = map.next_entry()? {
            out.insert(k, v);
        }
        Ok(GoYaml(Value::Object(out)))
    }
}

impl<'de> serde::Deserialize<'de> for GoYamlKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl serde::de::Visitor<'_> for KeyVisitor {
            type Value = GoYamlKey;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a scalar mapping key")
            }
            fn visit_bool<E>(self, b: bool) -> Result<GoYamlKey, E> {
                Ok(GoYamlKey(b.to_string()))
            }
            fn visit_i64<E>(self, n: i64) -> Result<GoYamlKey, E> {
                Ok(GoYamlKey(n.to_string()))
            }
            fn visit_u64<E>(self, n: u64) -> Result<GoYamlKey, E> {
                Ok(GoYamlKey(n.to_string()))
            }
            fn visit_f64<E>(self, n: f64) -> Result<GoYamlKey, E> {
                Ok(GoYamlKey(go_float_key(n)))
            }
            fn visit_str<E>(self, s: &str) -> Result<GoYamlKey, E> {
                Ok(GoYamlKey(s.to_string()))
            }
            fn visit_string<E>(self, s: String) -> Result<GoYamlKey, E> {
                Ok(GoYamlKey(s))
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<GoYamlKey, E> {
                Err(E::custom("unsupported map key: null"))
            }
        }
        d.deserialize_any(KeyVisitor)
    }
}

/// sigs.k8s.io/yaml's float key: strconv.FormatFloat(k, 'g', -1, 32), exponent form
/// from 1e+06 on and below 1e-04.
fn go_float_key(n: f64) -> String {
    let f = n as f32;
    if f == 0.0 {
        return "0".to_string();
    }
    let exp = f.abs().log10().floor() as i32;
    if (-4..6).contains(&exp) {
        return format!("{f}");
    }
    // Rust's `{:e}` is the shortest round-trip form too: `1e21`, `1.5e-7`.
    let e = format!("{f:e}");
    let (mantissa, exponent) = e.split_once('e').unwrap_or((&e, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let sign = if exponent < 0 { '-' } else { '+' };
    format!("{mantissa}e{sign}{:02}", exponent.abs())
}

/// Kubernetes converts YAML to JSON with Go's encoder, which writes a whole float64
/// without a fraction: `replicas: 1.0`, `1e3` and YAML 1.1's `08` (not octal, so a
/// float) reach the API as the integers 1, 1000 and 8. Go switches to exponent form from
/// 1e21 on; those stay floats.
fn go_json_numbers(value: Value) -> Value {
    match value {
        Value::Number(n) if n.is_f64() => {
            let f = n.as_f64().unwrap_or(f64::NAN);
            let whole = f.is_finite() && f.fract() == 0.0 && f.abs() < 1e21;
            // Within i64/u64 the cast is exact for a whole float.
            let int = if !whole {
                None
            } else if f >= i64::MIN as f64 && f < i64::MAX as f64 {
                Some(serde_json::Number::from(f as i64))
            } else if f >= 0.0 && f < u64::MAX as f64 {
                Some(serde_json::Number::from(f as u64))
            } else {
                None
            };
            Value::Number(int.unwrap_or(n))
        }
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, go_json_numbers(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(go_json_numbers).collect()),
        v => v,
    }
}

/// One YAML (or JSON) document as Kubernetes' sigs.k8s.io/yaml YAMLToJSON reads it: YAML
/// 1.1 scalars (octal `0755`, `yes`/`no`/`on`/`off` booleans) and whole floats written as
/// integers. For YAML bodies and patches read outside [`load_documents`].
pub fn yaml_value(text: &str) -> Result<Value, serde_saphyr::Error> {
    serde_saphyr::from_str_with_options::<GoYaml>(text, yaml_options())
        .map(|GoYaml(v)| go_json_numbers(v))
}

/// Kubernetes reads manifests as YAML 1.1 (go-yaml through sigs.k8s.io/yaml): a plain
/// integer with a leading 0 is octal (`defaultMode: 0755` is 493), where YAML 1.2 would
/// make it a string or refuse it. Quoted scalars stay strings either way.
pub fn yaml_options() -> serde_saphyr::Options {
    let mut options = serde_saphyr::Options::default();
    options.legacy_octal_numbers = true;
    options
}

/// A YAML error in one line, `line L, column C: cause`, for messages that must stay on one
/// line (API errors); serde-saphyr's own rendering adds a source snippet over several.
pub fn yaml_error_line(e: &serde_saphyr::Error) -> String {
    let cause = one_line_yaml_message(e);
    match e.location() {
        Some(l) => format!("line {}, column {}: {cause}", l.line(), l.column()),
        None => cause,
    }
}

/// serde-saphyr renders a source snippet over several lines; keep the one-line cause.
fn one_line_yaml_message(e: &serde_saphyr::Error) -> String {
    let rendered = e.without_snippet().to_string();
    let first = rendered.lines().next().unwrap_or("").trim();
    // Drop the position suffix: the error names it already.
    let first = match first.find(" at line ") {
        Some(i) => &first[..i],
        None => first,
    };
    // The library's advice to its own callers means nothing to a user.
    let first = match first.find(", set DuplicateKeyPolicy") {
        Some(i) => &first[..i],
        None => first,
    };
    first.trim_end_matches(['.', ':']).to_string()
}

fn strip_json_position(message: &str) -> String {
    match message.find(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

// ---------------------------------------------------------------------------------------
// Normalisation

/// Kubernetes treats `null` as absent (`creationTimestamp: null` in generated manifests);
/// the proto3 mapping refuses null for strings, so drop them.
pub fn strip_nulls(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, strip_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(strip_nulls).collect()),
        v => v,
    }
}

/// Maps of resource name to quantity.
const QUANTITY_MAPS: &[&str] = &[
    "requests",
    "limits",
    "capacity",
    "allocatable",
    "hard",
    "used",
    "min",
    "max",
    "default",
    "defaultRequest",
    "maxLimitRequestRatio",
    "overhead",
];

/// Scalar quantity or int-or-string fields, wherever they appear.
const STRING_SCALARS: &[&str] = &[
    "targetPort",
    "maxSurge",
    "maxUnavailable",
    "minAvailable",
    "sizeLimit",
    "divisor",
    "averageValue",
    "tolerance",
];

/// The object as Kubernetes shows it: its JSON with int-or-string fields that hold a number
/// written as a number (`targetPort: 8080`, `maxUnavailable: 0`), where the schema keeps a
/// string. Quantities stay strings, as Kubernetes prints them.
pub fn to_document(object: &Object) -> Value {
    let mut value = object.to_json();
    present_at(&mut value, None);
    value
}

/// Int-or-string fields, wherever they appear (and `port` inside probe handlers).
const INT_OR_STRING: &[&str] = &["targetPort", "maxSurge", "maxUnavailable", "minAvailable"];

// In place: every list and watch answer passes each object through here, and rebuilding
// the maps cost as much as serializing them.
fn present_at(value: &mut Value, parent: Option<&str>) {
    match value {
        Value::Object(map) => {
            let port_holder = matches!(parent, Some("httpGet" | "tcpSocket" | "grpc"));
            for (k, v) in map.iter_mut() {
                let int_or_string =
                    INT_OR_STRING.contains(&k.as_str()) || (port_holder && k == "port");
                match v {
                    Value::String(text) if int_or_string => {
                        if let Ok(n) = text.parse::<i64>()
                            && n.to_string() == *text
                        {
                            *v = Value::from(n);
                        }
                    }
                    v => present_at(v, Some(k)),
                }
            }
        }
        Value::Array(items) => {
            for v in items {
                present_at(v, parent);
            }
        }
        _ => {}
    }
}

/// Rewrites YAML numbers into strings where the schema holds an int-or-string or a
/// quantity (`targetPort: 8080`, `cpu: 1`, `maxSurge: 1`), as Kubernetes' own types accept
/// both. Nothing else changes.
pub fn normalize(value: Value) -> Value {
    normalize_at(value, None)
}

fn normalize_at(value: Value, parent: Option<&str>) -> Value {
    match value {
        Value::Object(map) => {
            let quantity_map = parent.is_some_and(|p| QUANTITY_MAPS.contains(&p));
            let port_holder = matches!(parent, Some("httpGet" | "tcpSocket"));
            let metric_value = matches!(parent, Some("target" | "current"));
            let out: Map<String, Value> = map
                .into_iter()
                .map(|(k, v)| {
                    let stringify = quantity_map
                        || STRING_SCALARS.contains(&k.as_str())
                        || (port_holder && k == "port")
                        || (metric_value && k == "value");
                    let v = match v {
                        Value::Number(n) if stringify => Value::String(n.to_string()),
                        v => normalize_at(v, Some(&k)),
                    };
                    (k, v)
                })
                .collect();
            Value::Object(out)
        }
        // Items of a list keep the list's key as their context only for maps of maps;
        // a list resets it (LimitRange `limits` is a list of items, not a quantity map).
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|v| normalize_at(v, parent.filter(|p| !QUANTITY_MAPS.contains(p))))
                .collect(),
        ),
        v => v,
    }
}

// ---------------------------------------------------------------------------------------
// Errors

fn in_document(e: ManifestError, index: usize, counted: usize) -> ManifestError {
    if counted > 1 {
        ManifestError::InDocument {
            index,
            source: Box::new(e),
        }
    } else {
        e
    }
}

fn prefix_path(e: ManifestError, prefix: &str) -> ManifestError {
    match e {
        ManifestError::Field { path, message } => ManifestError::Field {
            path: format!("{prefix}.{path}"),
            message,
        },
        other => ManifestError::Field {
            path: prefix.to_string(),
            message: other.to_string(),
        },
    }
}

fn field_error(value: &Value, e: serde_path_to_error::Error<serde_json::Error>) -> ManifestError {
    let inner = e.inner().to_string();
    let path = e.path().to_string();
    let path = path.trim_end_matches(".?").trim_end_matches('?');
    let path = if path.is_empty() || path == "." {
        "<root>".to_string()
    } else {
        path.to_string()
    };
    // `unknown field `bogusField`, expected one of ...`: the path already ends with the
    // field; leave out the list of every known field.
    if inner.starts_with("unknown field `") {
        return ManifestError::Field {
            path,
            message: "unknown field".into(),
        };
    }
    // A oneof given twice: the only way to name two sources in one volume.
    if inner.starts_with("duplicate field") && path.ends_with(']') && path.contains("volumes[") {
        return ManifestError::Field {
            path,
            message: "may not specify more than 1 volume type".into(),
        };
    }
    // The proto3 mapping reads numbers from strings too, so a word where a number belongs
    // fails in the number parser, whose message names neither the value nor the type.
    let expected = match inner.as_str() {
        m if m.contains("invalid digit") || m.contains("integer from empty string") => {
            Some("an integer")
        }
        m if m.contains("too large") || m.contains("too small") => Some("a 32-bit integer"),
        m if m.contains("invalid float literal") => Some("a number"),
        _ => None,
    };
    let message = match (expected, value_at(value, e.path())) {
        (Some(expected), Some(found)) => format!("invalid value {found}: expected {expected}"),
        (Some(expected), None) => format!("invalid value: expected {expected}"),
        // The base64 decoder's words (`Invalid symbol 32, offset 3.`), said as Kubernetes does.
        (None, _) if inner.starts_with("Invalid symbol") || inner.starts_with("Invalid byte") => {
            let offset = inner
                .rsplit("offset ")
                .next()
                .unwrap_or("")
                .trim_end_matches('.');
            format!("illegal base64 data at input byte {offset}")
        }
        (None, _)
            if inner.starts_with("Invalid last symbol")
                || inner.starts_with("Invalid padding")
                || inner.starts_with("Invalid input length") =>
        {
            "illegal base64 data: incomplete or padded wrongly".to_string()
        }
        (None, _) => strip_json_position(&inner),
    };
    ManifestError::Field { path, message }
}

fn value_at<'a>(value: &'a Value, path: &serde_path_to_error::Path) -> Option<&'a Value> {
    use serde_path_to_error::Segment;
    path.iter().try_fold(value, |v, segment| match segment {
        Segment::Seq { index } => v.get(*index),
        Segment::Map { key } => v.get(key.as_str()),
        Segment::Enum { variant } => v.get(variant.as_str()),
        Segment::Unknown => None,
    })
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        match load_documents(text) {
            Ok(v) => panic!("expected an error, loaded {} objects", v.len()),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn splits_documents_and_skips_empty_ones() {
        let text = "---\n# only a comment\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n\n--- {apiVersion: v1, kind: ConfigMap, metadata: {name: b}}\n...\n";
        let objects = load_documents(text).unwrap();
        let names: Vec<_> = objects.iter().map(|o| o.meta().name.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
    }

    #[test]
    fn missing_type_meta_and_unknown_kinds() {
        assert_eq!(err("kind: Pod\n"), "missing apiVersion");
        assert_eq!(err("apiVersion: v1\n"), "missing kind");
        assert_eq!(
            err("apiVersion: v1\nkind: Deployment\n"),
            "no kind \"Deployment\" is registered for apiVersion \"v1\" (did you mean apps/v1?)"
        );
        assert_eq!(
            err("apiVersion: v1\nkind: Gizmo\n"),
            "no kind \"Gizmo\" is registered for apiVersion \"v1\""
        );
        assert_eq!(
            err("- a\n- b\n"),
            "document is not an object (found a list)"
        );
    }

    #[test]
    fn names_the_document_when_there_are_several() {
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Pod\nspec:\n  bogus: 1\n";
        assert_eq!(err(text), "document 2: spec.bogus: unknown field");
    }

    #[test]
    fn yaml_syntax_errors_give_line_and_column_in_the_file() {
        let text = "apiVersion: v1\nkind: ConfigMap\n---\napiVersion: v1\nkind: ConfigMap\ndata:\n  a: [1, 2\n";
        let e = err(text);
        assert!(e.starts_with("document 2: yaml: line "), "{e}");
        let line: u64 = e["document 2: yaml: line ".len()..]
            .split(',')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!((7..=8).contains(&line), "{e}");
        assert!(!e.contains('\n'), "{e}");
    }

    #[test]
    fn leading_zero_integers_are_octal_as_in_yaml_1_1() {
        let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c, image: i}]\n  volumes:\n  - name: a\n    secret: {secretName: s, defaultMode: 0755}\n  - name: b\n    configMap: {name: c, defaultMode: 0400}\n  - name: c\n    configMap: {name: c, defaultMode: 420}\n";
        let doc = to_document(&load_documents(text).unwrap()[0]);
        let volumes = &doc["spec"]["volumes"];
        assert_eq!(volumes[0]["secret"]["defaultMode"], serde_json::json!(493));
        assert_eq!(
            volumes[1]["configMap"]["defaultMode"],
            serde_json::json!(256)
        );
        assert_eq!(
            volumes[2]["configMap"]["defaultMode"],
            serde_json::json!(420)
        );
        // Quoted, it is a string, as in Kubernetes; `0` alone is zero.
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n  mode: \"0755\"\n  single: '0400'\n";
        let doc = to_document(&load_documents(text).unwrap()[0]);
        assert_eq!(doc["data"]["mode"], serde_json::json!("0755"));
        assert_eq!(doc["data"]["single"], serde_json::json!("0400"));
        let (_, value) = parse_documents("a: 0\nb: 0755\nc: \"0755\"\nd: 10\n")
            .unwrap()
            .remove(0);
        assert_eq!(
            value.unwrap(),
            serde_json::json!({"a": 0, "b": 493, "c": "0755", "d": 10})
        );
    }

    #[test]
    fn each_document_loads_on_its_own() {
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: x/v1\nkind: Gizmo\nmetadata: {name: g}\n---\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n";
        let docs = load_each_document(text).unwrap();
        assert_eq!(docs.len(), 3);
        assert_eq!(docs[0].objects.as_ref().unwrap()[0].meta().name, "a");
        assert_eq!(docs[1].value["metadata"]["name"], "g");
        assert_eq!(
            docs[1].objects.as_ref().unwrap_err().to_string(),
            "document 2: no kind \"Gizmo\" is registered for apiVersion \"x/v1\""
        );
        assert_eq!(docs[2].objects.as_ref().unwrap()[0].meta().name, "b");
        assert!(load_each_document("a: [\n").is_err());
    }

    #[test]
    fn json_documents_and_errors() {
        let objects =
            load_documents(r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"}}"#)
                .unwrap();
        assert_eq!(objects[0].meta().name, "a");
        // Broken as JSON and as YAML: the JSON error, as Kubernetes reports it.
        let e = err("{\"apiVersion\": \"v1\",\n \"kind\": ]");
        assert!(e.starts_with("json: line 2, column"), "{e}");
    }

    #[test]
    fn wrong_types_name_path_and_expected_type() {
        let e = err("apiVersion: apps/v1\nkind: Deployment\nspec:\n  replicas: many\n");
        assert_eq!(
            e,
            "spec.replicas: invalid value \"many\": expected an integer"
        );
        let e = err("apiVersion: v1\nkind: Pod\nspec:\n  containers: {name: a}\n");
        assert!(
            e.starts_with("spec.containers: invalid type: map, expected"),
            "{e}"
        );
        let e = err("apiVersion: v1\nkind: Pod\nspec:\n  hostNetwork: \"yes\"\n");
        assert!(
            e.starts_with("spec.hostNetwork: invalid type: string \"yes\", expected a boolean"),
            "{e}"
        );
    }

    #[test]
    fn normalizes_int_or_string_and_quantities_only_where_the_schema_says() {
        let v: Value = serde_json::json!({
            "spec": {
                "ports": [{"port": 80, "targetPort": 8080}],
                "containers": [{
                    "resources": {"limits": {"cpu": 1, "memory": "1Gi"}},
                    "livenessProbe": {"httpGet": {"port": 8080}, "periodSeconds": 5},
                    "env": [{"name": "A", "value": "1"}]
                }],
                "limits": [{"type": "Container", "max": {"cpu": 2}}]
            }
        });
        let want = serde_json::json!({
            "spec": {
                "ports": [{"port": 80, "targetPort": "8080"}],
                "containers": [{
                    "resources": {"limits": {"cpu": "1", "memory": "1Gi"}},
                    "livenessProbe": {"httpGet": {"port": "8080"}, "periodSeconds": 5},
                    "env": [{"name": "A", "value": "1"}]
                }],
                "limits": [{"type": "Container", "max": {"cpu": "2"}}]
            }
        });
        assert_eq!(normalize(v), want);
    }

    #[test]
    fn list_items_are_loaded_and_errors_name_the_item() {
        let text = "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n- {apiVersion: v1, kind: Secret, metadata: {name: b}}\n";
        assert_eq!(load_documents(text).unwrap().len(), 2);
        let bad =
            "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, foo: 1}\n";
        assert_eq!(err(bad), "items[0].foo: unknown field");
    }

    #[test]
    fn output_puts_type_meta_first() {
        let objects = load_documents(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {x: \"1\"}\n",
        )
        .unwrap();
        let yaml = to_yaml(&objects[0]);
        assert!(
            yaml.starts_with("apiVersion: v1\nkind: ConfigMap\nmetadata:"),
            "{yaml}"
        );
        let json = to_json_pretty(&objects[0]);
        assert!(
            json.starts_with("{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"ConfigMap\""),
            "{json}"
        );
        assert_eq!(load_documents(&yaml).unwrap(), objects);
    }
}

#[cfg(test)]
mod yaml_1_1_tests {
    use super::*;
    use serde_json::json;

    fn scalars(text: &str) -> Value {
        let (_, value) = parse_documents(text).unwrap().remove(0);
        value.unwrap()
    }

    #[test]
    fn plain_scalars_resolve_as_go_yaml_v2_does() {
        // go-yaml v2 resolves a plain scalar with strconv.ParseInt(s, 0, 64) after
        // dropping `_`, then as a float; what is neither stays a string.
        let v = scalars(
            "octal: 0755\nnegative: -0755\no: 0o755\nhex: 0x1F\nbin: 0b101\nunder: 1_000\nplus: +12\neight: 08\nwhole: 1.0\nexp: 1e3\nhalf: 0.5\nbig: 1e21\nzero: 0\n",
        );
        assert_eq!(
            v,
            json!({"octal": 493, "negative": -493, "o": 493, "hex": 31, "bin": 5,
                   "under": 1000, "plus": 12, "eight": 8, "whole": 1, "exp": 1000,
                   "half": 0.5, "big": 1e21, "zero": 0})
        );
        // YAML 1.1 booleans, every spelling go-yaml v2 knows; quoted, they are strings.
        let v = scalars(
            "a: yes\nb: Yes\nc: YES\nd: y\ne: Y\nf: on\ng: ON\nh: no\ni: N\nj: off\nk: 'yes'\nl: \"on\"\nm: True\n",
        );
        assert_eq!(
            v,
            json!({"a": true, "b": true, "c": true, "d": true, "e": true, "f": true,
                   "g": true, "h": false, "i": false, "j": false, "k": "yes", "l": "on",
                   "m": true})
        );
        // Timestamps, words with digits and a lone prefix stay strings.
        let v = scalars("t: 2001-12-14\nw: 123abc\nx: 0x\ne: 1e\n");
        assert_eq!(
            v,
            json!({"t": "2001-12-14", "w": "123abc", "x": "0x", "e": "1e"})
        );
        assert!(parse_documents("a: .inf\n").is_err());
    }

    #[test]
    fn booleans_and_numbers_meet_the_field_types_as_in_kubernetes() {
        // Kubernetes converts YAML to JSON without looking at the target type, so an
        // unquoted `yes` is a boolean everywhere: true in a bool field, refused in a
        // string field (`cannot unmarshal bool into ... of type string`).
        let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  hostNetwork: yes\n  enableServiceLinks: off\n  containers:\n  - name: c\n    image: i\n    tty: on\n    env:\n    - {name: A, value: \"yes\"}\n";
        let doc = to_document(&load_documents(pod).unwrap()[0]);
        assert_eq!(doc["spec"]["hostNetwork"], json!(true));
        assert_eq!(doc["spec"]["enableServiceLinks"], json!(false));
        assert_eq!(doc["spec"]["containers"][0]["tty"], json!(true));
        assert_eq!(
            doc["spec"]["containers"][0]["env"][0]["value"],
            json!("yes")
        );
        let e = load_documents(&pod.replace("value: \"yes\"", "value: yes"))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("spec.containers[0].env[0].value: invalid type: boolean `true`"),
            "{e}"
        );
        // A whole float is an integer, as Go's JSON encoder writes it.
        let d = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  replicas: 2.0\n  selector: {matchLabels: {a: b}}\n  template:\n    metadata: {labels: {a: b}}\n    spec: {containers: [{name: c, image: i, resources: {limits: {cpu: 1.0}}}]}\n";
        let doc = to_document(&load_documents(d).unwrap()[0]);
        assert_eq!(doc["spec"]["replicas"], json!(2));
        assert_eq!(
            doc["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["cpu"],
            json!("1")
        );
        let e = load_documents(&d.replace("replicas: 2.0", "replicas: 2.5"))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("spec.replicas: "), "{e}");
    }

    #[test]
    fn mapping_keys_resolve_as_go_yaml_v2_and_are_written_as_strings() {
        let v = scalars(
            "data:\n  on: a\n  'off': b\n  y: c\n  \"yes\": d\n  80: e\n  0755: f\n  1.5: g\n  1e7: h\n  plain: i\n",
        );
        assert_eq!(
            v,
            json!({"data": {"true": "c", "off": "b", "yes": "d", "80": "e", "493": "f",
                            "1.5": "g", "1e+07": "h", "plain": "i"}})
        );
        assert_eq!(go_float_key(0.0001), "0.0001");
        assert_eq!(go_float_key(0.00001), "1e-05");
        assert_eq!(go_float_key(123456.0), "123456");
        // Anchors, aliases and merge keys still work.
        let v = scalars("x: &a {b: 1}\nz:\n  <<: *a\n  c: 2\n");
        assert_eq!(v, json!({"x": {"b": 1}, "z": {"b": 1, "c": 2}}));
    }

    #[test]
    fn one_yaml_value_reads_as_kubernetes_yaml_to_json() {
        assert_eq!(
            yaml_value("{spec: {replicas: 3.0, mode: 0644, paused: off}}\n").unwrap(),
            json!({"spec": {"replicas": 3, "mode": 420, "paused": false}})
        );
        assert!(yaml_value("a: [\n").is_err());
    }

    #[test]
    fn kyaml_starting_with_a_brace_is_read_as_yaml() {
        // What `kubectl get -o kyaml` prints, without its `---` header: not JSON (unquoted
        // keys, a comment, trailing commas), so Kubernetes' reader falls back to YAML.
        let text = "{\n  apiVersion: \"v1\",\n  kind: \"Secret\",\n  metadata: {\n    name: \"basic\",\n  },\n  type: \"kubernetes.io/basic-auth\",\n  stringData: {\n    username: \"admin\", # required\n    password: \"t0p-Secret\",\n  },\n}\n";
        let objects = load_documents(text).unwrap();
        assert_eq!(objects.len(), 1);
        assert_eq!(objects[0].meta().name, "basic");
        // With the header and several documents, and octal inside flow style.
        let two = format!(
            "---\n{text}---\n{{apiVersion: v1, kind: ConfigMap, metadata: {{name: c}}, data: {{a: \"1\",}},}}\n"
        );
        let objects = load_documents(&two).unwrap();
        let names: Vec<_> = objects.iter().map(|o| o.meta().name.as_str()).collect();
        assert_eq!(names, ["basic", "c"]);
        // JSON first, then KYAML: one JSON value still leaves the stream undecided.
        let mixed = format!(
            "{{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"metadata\": {{\"name\": \"j\"}}}}\n---\n{text}"
        );
        let objects = load_documents(&mixed).unwrap();
        let names: Vec<_> = objects.iter().map(|o| o.meta().name.as_str()).collect();
        assert_eq!(names, ["j", "basic"]);
        // Two JSON values make it JSON for good: a broken third is a JSON error.
        let cm = |n: &str| {
            format!(
                "{{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"metadata\": {{\"name\": \"{n}\"}}}}\n"
            )
        };
        let e = load_documents(&format!("{}{}{{a: 1}}\n", cm("a"), cm("b")))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("json: line 3"), "{e}");
        assert_eq!(
            load_documents(&format!("{}{}", cm("a"), cm("b")))
                .unwrap()
                .len(),
            2
        );
    }
}

#[cfg(test)]
mod presentation_tests {
    use super::*;

    #[test]
    fn library_wording_is_translated() {
        let dup =
            load_documents("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  name: b\n")
                .unwrap_err()
                .to_string();
        assert!(
            dup.contains("duplicate") && !dup.contains("DuplicateKeyPolicy"),
            "{dup}"
        );
        let b64 = load_documents(
            "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata:\n  password: 'ab c'\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            b64.contains("data.password: illegal base64 data at input byte"),
            "{b64}"
        );
    }

    #[test]
    fn int_or_string_numbers_print_as_numbers_and_names_stay_names() {
        let text = "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  ports:\n  - {name: a, port: 80, targetPort: 8080}\n  - {name: b, port: 81, targetPort: http}\n";
        let objects = load_documents(text).unwrap();
        let doc = to_document(&objects[0]);
        assert_eq!(
            doc["spec"]["ports"][0]["targetPort"],
            serde_json::json!(8080)
        );
        assert_eq!(
            doc["spec"]["ports"][1]["targetPort"],
            serde_json::json!("http")
        );
        // And what it prints loads back to the same object.
        let again = load_documents(&to_yaml(&objects[0])).unwrap();
        assert_eq!(again, objects);
    }
}
