//! RFC 6902 JSON patch: add, remove, replace, move, copy and test operations on JSON
//! pointers (RFC 6901), `-` meaning the end of an array. Error messages follow
//! evanphx/json-patch, which Kubernetes uses.

use serde_json::Value;

/// A patch that is not a list of well-formed operations (Kubernetes answers 400).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    Decode(String),
    /// An operation that does not apply to this document (422).
    Apply(String),
}

type Result<T> = std::result::Result<T, Error>;

/// Applies `patch` (a JSON array of operations) to `doc`.
pub fn apply(doc: &Value, patch: &Value) -> Result<Value> {
    let Value::Array(ops) = patch else {
        return Err(Error::Decode(
            "json: cannot unmarshal object into Go value of type jsonpatch.Patch".into(),
        ));
    };
    let mut doc = doc.clone();
    for op in ops {
        let Value::Object(op) = op else {
            return Err(Error::Decode(
                "json: cannot unmarshal into Go value of type jsonpatch.Operation".into(),
            ));
        };
        let kind = op.get("op").and_then(Value::as_str).unwrap_or_default();
        let path = || -> Result<&str> {
            op.get("path")
                .and_then(Value::as_str)
                .ok_or_else(|| Error::Apply(format!("{kind} operation missing path")))
        };
        let from = || -> Result<&str> {
            op.get("from")
                .and_then(Value::as_str)
                .ok_or_else(|| Error::Apply(format!("{kind} operation missing from")))
        };
        let value = || -> Result<Value> {
            op.get("value")
                .cloned()
                .ok_or_else(|| Error::Apply(format!("{kind} operation missing value")))
        };
        match kind {
            "add" => add(&mut doc, path()?, value()?, "add")?,
            "remove" => {
                remove(&mut doc, path()?, "remove")?;
            }
            "replace" => {
                let p = path()?;
                let target = pointer_mut(&mut doc, p).ok_or_else(|| {
                    Error::Apply(format!(
                        "replace operation does not apply: doc is missing key: {p}: missing value"
                    ))
                })?;
                *target = value()?;
            }
            "move" => {
                let (f, p) = (from()?, path()?);
                if p.starts_with(&format!("{f}/")) {
                    return Err(Error::Apply(format!(
                        "move operation does not apply: from {f:?} is a prefix of path {p:?}"
                    )));
                }
                let v = remove(&mut doc, f, "move")?;
                add(&mut doc, p, v, "move")?;
            }
            "copy" => {
                let f = from()?;
                let v = doc.pointer(f).cloned().ok_or_else(|| {
                    Error::Apply(format!(
                        "copy operation does not apply: doc is missing from path: {f}: missing value"
                    ))
                })?;
                add(&mut doc, path()?, v, "copy")?;
            }
            "test" => {
                let p = path()?;
                let want = value()?;
                let have = if p.is_empty() {
                    Some(&doc)
                } else {
                    doc.pointer(p)
                };
                let equal = match have {
                    Some(h) => *h == want,
                    None => want.is_null(),
                };
                if !equal {
                    return Err(Error::Apply(format!(
                        "testing value {p} failed: test failed"
                    )));
                }
            }
            other => {
                return Err(Error::Apply(format!("Unexpected kind: {other}")));
            }
        }
    }
    Ok(doc)
}

fn unescape(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

/// The parent container of `path` and its last token.
fn split(path: &str) -> Option<(&str, String)> {
    let i = path.rfind('/')?;
    Some((&path[..i], unescape(&path[i + 1..])))
}

fn pointer_mut<'a>(doc: &'a mut Value, path: &str) -> Option<&'a mut Value> {
    if path.is_empty() {
        return Some(doc);
    }
    doc.pointer_mut(path)
}

fn missing(op: &str, path: &str) -> Error {
    Error::Apply(format!(
        "{op} operation does not apply: doc is missing path: \"{path}\": missing value"
    ))
}

fn array_index(token: &str, len: usize, allow_end: bool, op: &str, path: &str) -> Result<usize> {
    if allow_end && token == "-" {
        return Ok(len);
    }
    let bad = || {
        Error::Apply(format!(
            "{op} operation does not apply: doc is missing path: \"{path}\": invalid index referenced: {token}"
        ))
    };
    if token.starts_with('+') || (token.len() > 1 && token.starts_with('0')) {
        return Err(bad());
    }
    let i: usize = token.parse().map_err(|_| bad())?;
    let max = if allow_end {
        len
    } else {
        len.saturating_sub(1)
    };
    if i > max || (!allow_end && len == 0) {
        return Err(Error::Apply(format!(
            "{op} operation does not apply: doc is missing path: \"{path}\": Unable to access invalid index: {i}"
        )));
    }
    Ok(i)
}

fn add(doc: &mut Value, path: &str, value: Value, op: &str) -> Result<()> {
    if path.is_empty() {
        *doc = value;
        return Ok(());
    }
    let (parent, token) = split(path).ok_or_else(|| missing(op, path))?;
    let container = pointer_mut(doc, parent).ok_or_else(|| missing(op, path))?;
    match container {
        Value::Object(m) => {
            m.insert(token, value);
        }
        Value::Array(a) => {
            let i = array_index(&token, a.len(), true, op, path)?;
            a.insert(i, value);
        }
        _ => return Err(missing(op, path)),
    }
    Ok(())
}

fn remove(doc: &mut Value, path: &str, op: &str) -> Result<Value> {
    let (parent, token) = split(path).ok_or_else(|| missing(op, path))?;
    let container = pointer_mut(doc, parent).ok_or_else(|| missing(op, path))?;
    match container {
        Value::Object(m) => m.remove(&token).ok_or_else(|| {
            Error::Apply(format!(
                "{op} operation does not apply: doc is missing key: {path}: missing value"
            ))
        }),
        Value::Array(a) => {
            let i = array_index(&token, a.len(), false, op, path)?;
            Ok(a.remove(i))
        }
        _ => Err(missing(op, path)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// RFC 6902's examples (appendix A) and evanphx/json-patch's cases.
    #[test]
    fn rfc6902_examples() {
        let ok = [
            (
                json!({"foo": "bar"}),
                json!([{"op": "add", "path": "/baz", "value": "qux"}]),
                json!({"baz": "qux", "foo": "bar"}),
            ),
            (
                json!({"foo": ["bar", "baz"]}),
                json!([{"op": "add", "path": "/foo/1", "value": "qux"}]),
                json!({"foo": ["bar", "qux", "baz"]}),
            ),
            (
                json!({"baz": "qux", "foo": "bar"}),
                json!([{"op": "remove", "path": "/baz"}]),
                json!({"foo": "bar"}),
            ),
            (
                json!({"foo": ["bar", "qux", "baz"]}),
                json!([{"op": "remove", "path": "/foo/1"}]),
                json!({"foo": ["bar", "baz"]}),
            ),
            (
                json!({"baz": "qux", "foo": "bar"}),
                json!([{"op": "replace", "path": "/baz", "value": "boo"}]),
                json!({"baz": "boo", "foo": "bar"}),
            ),
            (
                json!({"foo": {"bar": "baz", "waldo": "fred"}, "qux": {"corge": "grault"}}),
                json!([{"op": "move", "from": "/foo/waldo", "path": "/qux/thud"}]),
                json!({"foo": {"bar": "baz"}, "qux": {"corge": "grault", "thud": "fred"}}),
            ),
            (
                json!({"foo": ["all", "grass", "cows", "eat"]}),
                json!([{"op": "move", "from": "/foo/1", "path": "/foo/3"}]),
                json!({"foo": ["all", "cows", "eat", "grass"]}),
            ),
            (
                json!({"baz": "qux", "foo": ["a", 2, "c"]}),
                json!([{"op": "test", "path": "/baz", "value": "qux"}, {"op": "test", "path": "/foo/1", "value": 2}]),
                json!({"baz": "qux", "foo": ["a", 2, "c"]}),
            ),
            (
                json!({"foo": "bar"}),
                json!([{"op": "add", "path": "/child", "value": {"grandchild": {}}}]),
                json!({"foo": "bar", "child": {"grandchild": {}}}),
            ),
            (
                json!({"foo": ["bar"]}),
                json!([{"op": "add", "path": "/foo/-", "value": ["abc", "def"]}]),
                json!({"foo": ["bar", ["abc", "def"]]}),
            ),
            (
                json!({"/": 9, "~1": 10}),
                json!([{"op": "test", "path": "/~01", "value": 10}]),
                json!({"/": 9, "~1": 10}),
            ),
            (
                json!({"foo": 1}),
                json!([{"op": "copy", "from": "/foo", "path": "/bar"}]),
                json!({"foo": 1, "bar": 1}),
            ),
            (
                json!({"foo": 1}),
                json!([{"op": "add", "path": "", "value": [1]}]),
                json!([1]),
            ),
        ];
        for (doc, patch, want) in ok {
            assert_eq!(apply(&doc, &patch).unwrap(), want, "{patch}");
        }
        let refused = [
            (
                json!({"baz": "qux"}),
                json!([{"op": "test", "path": "/baz", "value": "bar"}]),
            ),
            (
                json!({"foo": "bar"}),
                json!([{"op": "add", "path": "/baz/bat", "value": "qux"}]),
            ),
            (
                json!({"foo": ["bar"]}),
                json!([{"op": "add", "path": "/foo/2", "value": 1}]),
            ),
            (
                json!({"foo": ["bar"]}),
                json!([{"op": "remove", "path": "/foo/1"}]),
            ),
            (
                json!({"foo": 1}),
                json!([{"op": "replace", "path": "/bar", "value": 2}]),
            ),
            (json!({"foo": 1}), json!([{"op": "remove", "path": "/bar"}])),
            (json!({"foo": 1}), json!([{"op": "spam", "path": "/foo"}])),
            (
                json!({"foo": ["a"]}),
                json!([{"op": "add", "path": "/foo/01", "value": 1}]),
            ),
        ];
        for (doc, patch) in refused {
            assert!(
                matches!(apply(&doc, &patch), Err(Error::Apply(_))),
                "{patch}"
            );
        }
        assert_eq!(
            apply(
                &json!({}),
                &json!([{"op": "test", "path": "/a", "value": 1}])
            ),
            Err(Error::Apply("testing value /a failed: test failed".into()))
        );
        assert!(matches!(
            apply(&json!({}), &json!({"op": "add"})),
            Err(Error::Decode(_))
        ));
    }
}
