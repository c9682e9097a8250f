//! Reading Kubernetes-style JSON documents by path. Printers work on the JSON form so they
//! follow the schema as it grows, and show what is there without knowing every type.

use serde_json::{Map, Value};

/// The string at a JSON pointer (`/spec/nodeName`), "" when absent or not a string.
pub fn str_at<'a>(v: &'a Value, ptr: &str) -> &'a str {
    v.pointer(ptr).and_then(Value::as_str).unwrap_or("")
}

/// An integer at a pointer; int64 fields travel as strings in proto3 JSON.
pub fn i64_at(v: &Value, ptr: &str) -> Option<i64> {
    as_i64(v.pointer(ptr)?)
}

pub fn as_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

pub fn bool_at(v: &Value, ptr: &str) -> bool {
    v.pointer(ptr).and_then(Value::as_bool).unwrap_or(false)
}

pub fn arr_at<'a>(v: &'a Value, ptr: &str) -> &'a [Value] {
    v.pointer(ptr)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

pub fn obj_at<'a>(v: &'a Value, ptr: &str) -> Option<&'a Map<String, Value>> {
    v.pointer(ptr).and_then(Value::as_object)
}

/// The number of keys of the map at `ptr`.
pub fn len_at(v: &Value, ptr: &str) -> usize {
    obj_at(v, ptr).map_or(0, Map::len)
}

/// A scalar as text (strings unquoted), "" for null or absent.
pub fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// `k=v,k2=v2` in key order, or `<none>`.
pub fn map_text(m: Option<&Map<String, Value>>) -> String {
    let mut pairs: Vec<String> = m
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}={}", scalar_text(v)))
        .collect();
    pairs.sort();
    if pairs.is_empty() {
        "<none>".to_string()
    } else {
        pairs.join(",")
    }
}

pub fn or_none(s: &str) -> String {
    if s.is_empty() {
        "<none>".to_string()
    } else {
        s.to_string()
    }
}

/// A label selector (`matchLabels` and `matchExpressions`) as Kubernetes formats one
/// (`metav1.FormatLabelSelector`): requirements sorted by key, set values sorted,
/// `<none>` when absent or empty.
pub fn selector_text(sel: Option<&Value>) -> String {
    let Some(sel) = sel else {
        return "<none>".to_string();
    };
    let mut parts: Vec<(String, String)> = Vec::new();
    if let Some(m) = obj_at(sel, "/matchLabels") {
        parts.extend(
            m.iter()
                .map(|(k, v)| (k.clone(), format!("{k}={}", scalar_text(v)))),
        );
    }
    for e in arr_at(sel, "/matchExpressions") {
        let key = str_at(e, "/key");
        let mut values: Vec<String> = arr_at(e, "/values").iter().map(scalar_text).collect();
        values.sort();
        values.dedup();
        let text = match str_at(e, "/operator") {
            "In" => format!("{key} in ({})", values.join(",")),
            "NotIn" => format!("{key} notin ({})", values.join(",")),
            "Exists" => key.to_string(),
            "DoesNotExist" => format!("!{key}"),
            op => format!("{key} {op} ({})", values.join(",")),
        };
        parts.push((key.to_string(), text));
    }
    // Stable: a key named twice keeps its requirements in the order written.
    parts.sort_by(|a, b| a.0.cmp(&b.0));
    if parts.is_empty() {
        "<none>".to_string()
    } else {
        parts
            .into_iter()
            .map(|(_, t)| t)
            .collect::<Vec<_>>()
            .join(",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads() {
        let v = json!({"a": {"b": "x", "n": "42", "m": 7, "t": true}, "l": [1, 2]});
        assert_eq!(str_at(&v, "/a/b"), "x");
        assert_eq!(str_at(&v, "/a/zz"), "");
        assert_eq!(i64_at(&v, "/a/n"), Some(42));
        assert_eq!(i64_at(&v, "/a/m"), Some(7));
        assert!(bool_at(&v, "/a/t"));
        assert_eq!(arr_at(&v, "/l").len(), 2);
        assert_eq!(len_at(&v, "/a"), 4);
        assert_eq!(
            map_text(obj_at(&json!({"b": "2", "a": "1"}), "")),
            "a=1,b=2"
        );
        assert_eq!(map_text(None), "<none>");
    }

    #[test]
    fn selectors() {
        let sel = json!({"matchLabels": {"app": "web"},
            "matchExpressions": [{"key": "env", "operator": "In", "values": ["a", "b"]},
                                 {"key": "x", "operator": "DoesNotExist"}]});
        assert_eq!(selector_text(Some(&sel)), "app=web,env in (a,b),!x");
        assert_eq!(selector_text(None), "<none>");
        let unsorted = json!({"matchLabels": {"tier": "db"},
            "matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["z", "a"]}]});
        assert_eq!(selector_text(Some(&unsorted)), "app notin (a,z),tier=db");
        assert_eq!(selector_text(Some(&json!({}))), "<none>");
    }
}
