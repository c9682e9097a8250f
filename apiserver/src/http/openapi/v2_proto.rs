//! The Swagger 2.0 document in gnostic's protobuf form (`openapi.v2.Document`), which
//! client-go's `OpenAPISchema()` asks for (`application/com.github.proto-openapi.spec.v2@v1.0+protobuf`)
//! and decodes as protobuf only: kubectl 1.27 reads it for `explain`, for `apply`'s patch
//! metadata and for client-side validation. Written with the wire format directly from the
//! JSON document (field numbers from gnostic's `OpenAPIv2.proto`); vendor extensions carry
//! their value as YAML text, and JSON is YAML.

use serde_json::Value;

const VARINT: u32 = 0;
const LEN: u32 = 2;

#[derive(Default)]
struct Msg(Vec<u8>);

impl Msg {
    fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.0.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }

    fn key(&mut self, field: u32, wire: u32) {
        self.varint(u64::from((field << 3) | wire));
    }

    fn bytes(&mut self, field: u32, data: &[u8]) {
        self.key(field, LEN);
        self.varint(data.len() as u64);
        self.0.extend_from_slice(data);
    }

    fn string(&mut self, field: u32, s: &str) {
        if !s.is_empty() {
            self.bytes(field, s.as_bytes());
        }
    }

    fn str_of(&mut self, field: u32, v: &Value) {
        if let Some(s) = v.as_str() {
            self.string(field, s);
        }
    }

    fn boolean(&mut self, field: u32, b: bool) {
        if b {
            self.key(field, VARINT);
            self.varint(1);
        }
    }

    fn message(&mut self, field: u32, m: Msg) {
        self.bytes(field, &m.0);
    }

    fn strings(&mut self, field: u32, v: &Value) {
        for s in v.as_array().into_iter().flatten() {
            if let Some(s) = s.as_str() {
                self.bytes(field, s.as_bytes());
            }
        }
    }
}

/// `NamedAny { name, value: Any { yaml } }` for each `x-` key of an object.
fn vendor_extensions(out: &mut Msg, field: u32, v: &Value) {
    for (k, x) in v.as_object().into_iter().flatten() {
        if k.starts_with("x-") {
            let mut any = Msg::default();
            any.string(2, &x.to_string());
            let mut named = Msg::default();
            named.string(1, k);
            named.message(2, any);
            out.message(field, named);
        }
    }
}

fn schema(v: &Value) -> Msg {
    let mut m = Msg::default();
    m.str_of(1, &v["$ref"]);
    m.str_of(2, &v["format"]);
    m.str_of(4, &v["description"]);
    m.boolean(16, v["uniqueItems"].as_bool().unwrap_or(false));
    m.strings(19, &v["required"]);
    if let Some(a) = v.get("additionalProperties") {
        let mut item = Msg::default();
        match a {
            Value::Bool(b) => {
                item.key(2, VARINT);
                item.varint(u64::from(*b));
            }
            a => item.message(1, schema(a)),
        }
        m.message(21, item);
    }
    if let Some(t) = v["type"].as_str() {
        let mut ty = Msg::default();
        ty.string(1, t);
        m.message(22, ty);
    }
    if let Some(items) = v.get("items") {
        let mut item = Msg::default();
        item.message(1, schema(items));
        m.message(23, item);
    }
    for a in v["allOf"].as_array().into_iter().flatten() {
        m.message(24, schema(a));
    }
    if let Some(props) = v["properties"].as_object() {
        let mut p = Msg::default();
        for (name, s) in props {
            let mut named = Msg::default();
            named.string(1, name);
            named.message(2, schema(s));
            p.message(1, named);
        }
        m.message(25, p);
    }
    vendor_extensions(&mut m, 31, v);
    m
}

fn parameter(v: &Value) -> Msg {
    let mut p = Msg::default();
    if v["in"] == "body" {
        let mut b = Msg::default();
        b.str_of(1, &v["description"]);
        b.str_of(2, &v["name"]);
        b.str_of(3, &v["in"]);
        b.boolean(4, v["required"].as_bool().unwrap_or(false));
        b.message(5, schema(&v["schema"]));
        p.message(1, b);
    } else {
        let path = v["in"] == "path";
        let mut s = Msg::default();
        s.boolean(1, v["required"].as_bool().unwrap_or(false));
        s.str_of(2, &v["in"]);
        s.str_of(3, &v["description"]);
        s.str_of(4, &v["name"]);
        // Query sub-schemas have allow_empty_value (5) before type; path ones do not.
        let (ty, unique) = if path { (5, 19) } else { (6, 20) };
        s.str_of(ty, &v["type"]);
        s.boolean(unique, v["uniqueItems"].as_bool().unwrap_or(false));
        let mut non_body = Msg::default();
        non_body.message(if path { 4 } else { 3 }, s);
        p.message(2, non_body);
    }
    let mut item = Msg::default();
    item.message(1, p);
    item
}

fn operation(v: &Value) -> Msg {
    let mut m = Msg::default();
    m.strings(1, &v["tags"]);
    m.str_of(3, &v["description"]);
    m.str_of(5, &v["operationId"]);
    m.strings(6, &v["produces"]);
    m.strings(7, &v["consumes"]);
    for p in v["parameters"].as_array().into_iter().flatten() {
        m.message(8, parameter(p));
    }
    let mut responses = Msg::default();
    for (code, r) in v["responses"].as_object().into_iter().flatten() {
        let mut response = Msg::default();
        response.str_of(1, &r["description"]);
        if let Some(s) = r.get("schema") {
            let mut item = Msg::default();
            item.message(1, schema(s));
            response.message(2, item);
        }
        let mut value = Msg::default();
        value.message(1, response);
        let mut named = Msg::default();
        named.string(1, code);
        named.message(2, value);
        responses.message(1, named);
    }
    m.message(9, responses);
    m.strings(10, &v["schemes"]);
    vendor_extensions(&mut m, 13, v);
    m
}

/// The protobuf encoding of a Swagger 2.0 JSON document.
pub(crate) fn encode(doc: &Value) -> Vec<u8> {
    let mut d = Msg::default();
    d.str_of(1, &doc["swagger"]);
    let mut info = Msg::default();
    info.str_of(1, &doc["info"]["title"]);
    info.str_of(2, &doc["info"]["version"]);
    d.message(2, info);
    let mut paths = Msg::default();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        let mut p = Msg::default();
        for (verb, field) in [
            ("get", 2),
            ("put", 3),
            ("post", 4),
            ("delete", 5),
            ("patch", 8),
        ] {
            if let Some(op) = item.get(verb) {
                p.message(field, operation(op));
            }
        }
        for param in item["parameters"].as_array().into_iter().flatten() {
            p.message(9, parameter(param));
        }
        let mut named = Msg::default();
        named.string(1, path);
        named.message(2, p);
        paths.message(2, named);
    }
    d.message(8, paths);
    let mut defs = Msg::default();
    for (name, s) in doc["definitions"].as_object().into_iter().flatten() {
        let mut named = Msg::default();
        named.string(1, name);
        named.message(2, schema(s));
        defs.message(1, named);
    }
    d.message(9, defs);
    d.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn wire_format_of_a_small_document() {
        let doc = json!({"swagger": "2.0", "info": {"title": "T", "version": "v"},
            "paths": {}, "definitions": {"a.B": {"type": "object", "x-k": "v"}}});
        let bytes = encode(&doc);
        // swagger = 1: tag 0x0a, length 3, "2.0"
        assert_eq!(&bytes[..5], &[0x0a, 3, b'2', b'.', b'0']);
        // info = 2: tag 0x12, length 6, title (0x0a 1 'T'), version (0x12 1 'v')
        assert_eq!(&bytes[5..13], &[0x12, 6, 0x0a, 1, b'T', 0x12, 1, b'v']);
        // The definition's vendor extension carries its JSON as YAML text.
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.contains("x-k") && text.contains("\"v\""));
    }
}
