//! Kubernetes' protobuf encoding of the request kinds kubectl 1.33 sends that way (its typed
//! clients for reviews and TokenRequest post `application/vnd.kubernetes.protobuf` and do not
//! fall back to JSON): `k8s\0` then a `runtime.Unknown` whose `raw` is the object in
//! k8s.io/api's `generated.proto` numbering. Only the fields our kinds have are read, into the
//! JSON shape the JSON path decodes; answers go back as JSON (the client accepts both).

use serde_json::{Map, Value};

const MAGIC: &[u8] = b"k8s\0";

/// Field types of the few messages read here.
enum T {
    Str,
    Int,
    Strs,
    Msg(&'static [F]),
}

/// (field number, JSON name, type)
struct F(u32, &'static str, T);

const META: &[F] = &[
    F(1, "name", T::Str),
    F(2, "generateName", T::Str),
    F(3, "namespace", T::Str),
];
const RESOURCE_ATTRIBUTES: &[F] = &[
    F(1, "namespace", T::Str),
    F(2, "verb", T::Str),
    F(3, "group", T::Str),
    F(4, "version", T::Str),
    F(5, "resource", T::Str),
    F(6, "subresource", T::Str),
    F(7, "name", T::Str),
];
const NON_RESOURCE_ATTRIBUTES: &[F] = &[F(1, "path", T::Str), F(2, "verb", T::Str)];
const SELF_SUBJECT_ACCESS_REVIEW: &[F] = &[
    F(1, "metadata", T::Msg(META)),
    F(
        2,
        "spec",
        T::Msg(&[
            F(1, "resourceAttributes", T::Msg(RESOURCE_ATTRIBUTES)),
            F(2, "nonResourceAttributes", T::Msg(NON_RESOURCE_ATTRIBUTES)),
        ]),
    ),
];
const SUBJECT_ACCESS_REVIEW: &[F] = &[
    F(1, "metadata", T::Msg(META)),
    F(
        2,
        "spec",
        T::Msg(&[
            F(1, "resourceAttributes", T::Msg(RESOURCE_ATTRIBUTES)),
            F(2, "nonResourceAttributes", T::Msg(NON_RESOURCE_ATTRIBUTES)),
            F(3, "user", T::Str),
            F(4, "groups", T::Strs),
            F(6, "uid", T::Str),
        ]),
    ),
];
const TOKEN_REVIEW: &[F] = &[
    F(1, "metadata", T::Msg(META)),
    F(
        2,
        "spec",
        T::Msg(&[F(1, "token", T::Str), F(2, "audiences", T::Strs)]),
    ),
];
const SELF_SUBJECT_RULES_REVIEW: &[F] = &[
    F(1, "metadata", T::Msg(META)),
    F(2, "spec", T::Msg(&[F(1, "namespace", T::Str)])),
];
const SELF_SUBJECT_REVIEW: &[F] = &[F(1, "metadata", T::Msg(META))];
const TOKEN_REQUEST: &[F] = &[
    F(1, "metadata", T::Msg(META)),
    F(
        2,
        "spec",
        T::Msg(&[
            F(1, "audiences", T::Strs),
            F(
                3,
                "boundObjectRef",
                T::Msg(&[
                    F(1, "kind", T::Str),
                    F(2, "apiVersion", T::Str),
                    F(3, "name", T::Str),
                    F(4, "uid", T::Str),
                ]),
            ),
            F(4, "expirationSeconds", T::Int),
        ]),
    ),
];

/// The fields of our messages' protobuf forms, by our message name.
fn fields_of(message: &str) -> Option<&'static [F]> {
    Some(match message {
        "k8s.SelfSubjectAccessReview" => SELF_SUBJECT_ACCESS_REVIEW,
        "k8s.SubjectAccessReview" => SUBJECT_ACCESS_REVIEW,
        "k8s.TokenReview" => TOKEN_REVIEW,
        "k8s.SelfSubjectReview" => SELF_SUBJECT_REVIEW,
        "k8s.TokenRequest" => TOKEN_REQUEST,
        "k8s.SelfSubjectRulesReview" => SELF_SUBJECT_RULES_REVIEW,
        _ => return None,
    })
}

/// Whether a Content-Type is Kubernetes' protobuf.
pub(super) fn is_protobuf(content_type: &str) -> bool {
    content_type.starts_with("application/vnd.kubernetes.protobuf")
}

/// The object a protobuf body carries, as JSON of `message`'s shape.
pub(super) fn decode(body: &[u8], message: &str) -> Result<Value, String> {
    let fields = fields_of(message).ok_or("no protobuf form for this kind")?;
    let unknown = body
        .strip_prefix(MAGIC)
        .ok_or("the body does not start with the protobuf envelope's magic number")?;
    // runtime.Unknown: typeMeta = 1, raw = 2.
    let raw = read(unknown)?
        .into_iter()
        .find_map(|(n, w)| match (n, w) {
            (2, Wire::Bytes(b)) => Some(b),
            _ => None,
        })
        .unwrap_or(&[]);
    message_json(raw, fields)
}

enum Wire<'a> {
    Varint(u64),
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
        match key & 7 {
            0 => out.push((field, Wire::Varint(varint(buf, &mut pos)?))),
            2 => {
                let len = usize::try_from(varint(buf, &mut pos)?).map_err(|_| "length")?;
                let end = pos.checked_add(len).filter(|e| *e <= buf.len());
                let end = end.ok_or("truncated field")?;
                out.push((field, Wire::Bytes(&buf[pos..end])));
                pos = end;
            }
            1 => pos += 8,
            5 => pos += 4,
            w => return Err(format!("unsupported wire type {w}")),
        }
    }
    Ok(out)
}

fn message_json(buf: &[u8], fields: &[F]) -> Result<Value, String> {
    let mut map = Map::new();
    for (n, wire) in read(buf)? {
        let Some(F(_, name, ty)) = fields.iter().find(|f| f.0 == n) else {
            continue;
        };
        let text = |b: &[u8]| String::from_utf8(b.to_vec()).map_err(|_| "invalid UTF-8");
        match (ty, wire) {
            (T::Str, Wire::Bytes(b)) => {
                map.insert((*name).into(), Value::from(text(b)?));
            }
            (T::Int, Wire::Varint(v)) => {
                map.insert((*name).into(), Value::from(v as i64));
            }
            (T::Strs, Wire::Bytes(b)) => {
                let list = map.entry(*name).or_insert_with(|| Value::Array(Vec::new()));
                if let Value::Array(items) = list {
                    items.push(Value::from(text(b)?));
                }
            }
            (T::Msg(inner), Wire::Bytes(b)) => {
                map.insert((*name).into(), message_json(b, inner)?);
            }
            _ => return Err(format!("field {name} has an unexpected wire type")),
        }
    }
    Ok(Value::Object(map))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(n: u8, data: &[u8]) -> Vec<u8> {
        let mut v = vec![(n << 3) | 2, data.len() as u8];
        v.extend_from_slice(data);
        v
    }

    #[test]
    fn a_self_subject_access_review_as_kubectl_sends_it() {
        let attrs = [field(2, b"create"), field(5, b"pods"), field(1, b"ns1")].concat();
        let spec = field(1, &attrs);
        let object = [field(1, &[]), field(2, &spec)].concat();
        let type_meta = [
            field(1, b"authorization.k8s.io/v1"),
            field(2, b"SelfSubjectAccessReview"),
        ]
        .concat();
        let unknown = [field(1, &type_meta), field(2, &object)].concat();
        let body = [MAGIC, &unknown].concat();
        let v = decode(&body, "k8s.SelfSubjectAccessReview").unwrap();
        assert_eq!(
            v,
            serde_json::json!({"metadata": {}, "spec": {"resourceAttributes":
                {"verb": "create", "resource": "pods", "namespace": "ns1"}}})
        );
        assert!(decode(b"{}", "k8s.SelfSubjectAccessReview").is_err());
        assert!(decode(&body[..body.len() - 2], "k8s.SelfSubjectAccessReview").is_err());
    }

    #[test]
    fn a_token_request_reads_its_expiry() {
        let spec = [field(1, b"api"), vec![4 << 3, 0x90, 0x1c]].concat();
        let object = field(2, &spec);
        let body = [MAGIC, &field(2, &object)].concat();
        let v = decode(&body, "k8s.TokenRequest").unwrap();
        assert_eq!(v["spec"]["expirationSeconds"], 3600);
        assert_eq!(v["spec"]["audiences"], serde_json::json!(["api"]));
    }
}
