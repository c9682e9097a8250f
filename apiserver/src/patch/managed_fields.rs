//! Field sets and managers (server-side apply's bookkeeping): which manager set which
//! fields of an object, in Kubernetes' FieldsV1 encoding (`f:<field>`, `k:<key JSON>` for an
//! element of a keyed list, `v:<value JSON>` for an element of a set, `.` for a container
//! that is itself owned). A path is the list of those tokens; a set holds every owned path.

use std::collections::BTreeSet;

use proto::k8s::{FieldsV1, ManagedFieldsEntry};
use proto::schema::{FieldKind, MessageSchema};
use serde_json::{Map, Value};

pub type Path = Vec<String>;
pub type FieldSet = BTreeSet<Path>;

/// Structs Kubernetes marks `+structType=atomic`: owned and replaced whole.
const ATOMIC_STRUCTS: &[&str] = &["k8s.LabelSelector"];

/// Metadata the server owns: never part of anyone's field set.
const SERVER_METADATA: &[&str] = &[
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "managedFields",
    "selfLink",
];

pub fn from_fields_v1(fields: &Value) -> FieldSet {
    let mut out = FieldSet::new();
    let mut path = Vec::new();
    collect(fields, &mut path, &mut out);
    out
}

fn collect(node: &Value, path: &mut Path, out: &mut FieldSet) {
    let Value::Object(m) = node else { return };
    if !path.is_empty() && (m.is_empty() || m.contains_key(".")) {
        out.insert(path.clone());
    }
    for (k, v) in m {
        if k == "." {
            continue;
        }
        path.push(k.clone());
        collect(v, path, out);
        path.pop();
    }
}

pub fn to_fields_v1(set: &FieldSet) -> Value {
    #[derive(Default)]
    struct Node {
        member: bool,
        children: std::collections::BTreeMap<String, Node>,
    }
    fn render(node: &Node) -> Value {
        let mut m = Map::new();
        if node.member && !node.children.is_empty() {
            m.insert(".".into(), Value::Object(Map::new()));
        }
        for (k, child) in &node.children {
            m.insert(k.clone(), render(child));
        }
        Value::Object(m)
    }
    let mut root = Node::default();
    for path in set {
        let mut node = &mut root;
        for token in path {
            node = node.children.entry(token.clone()).or_default();
        }
        node.member = true;
    }
    render(&root)
}

fn list_keys(message: &str, field: &str) -> Option<Vec<&'static str>> {
    let meta = proto::patch_meta::field(message, field)?;
    match meta.list_type {
        Some("map") if !meta.list_map_keys.is_empty() => Some(meta.list_map_keys.to_vec()),
        Some("atomic") | Some("set") => None,
        _ if meta.strategy.merges() => meta.merge_key.map(|k| vec![k]),
        _ => None,
    }
}

fn is_set(message: &str, field: &str) -> bool {
    proto::patch_meta::field(message, field).is_some_and(|m| {
        m.list_type == Some("set")
            || (m.list_type.is_none() && m.strategy.merges() && m.merge_key.is_none())
    })
}

/// The `k:` token of a keyed list element: its key fields as compact JSON, sorted.
fn key_token(item: &Value, keys: &[&str]) -> Option<String> {
    let Value::Object(m) = item else { return None };
    let mut parts = Vec::new();
    let mut sorted: Vec<&&str> = keys.iter().collect();
    sorted.sort();
    for k in sorted {
        if let Some(v) = m.get(*k).or_else(|| key_default(k)) {
            parts.push(format!("{}:{}", Value::String(k.to_string()), v));
        }
    }
    if parts.is_empty() {
        return None;
    }
    Some(format!("k:{{{}}}", parts.join(",")))
}

/// Every path set in `value`, an object of message `message`.
fn walk(
    value: &Value,
    message: Option<&'static MessageSchema>,
    path: &mut Path,
    out: &mut FieldSet,
) {
    let Value::Object(m) = value else { return };
    for (k, v) in m {
        if v.is_null() {
            continue;
        }
        path.push(format!("f:{k}"));
        let field = message.and_then(|s| s.field(k));
        match field {
            Some(f) if f.repeated => {
                let name = message.map_or("", |s| s.full_name.as_str());
                walk_list(v, name, k, &f.kind, path, out);
            }
            Some(f) => walk_kind(v, &f.kind, path, out),
            None => {
                out.insert(path.clone());
            }
        }
        path.pop();
    }
}

fn walk_kind(v: &Value, kind: &'static FieldKind, path: &mut Path, out: &mut FieldSet) {
    match (kind, v) {
        (FieldKind::Map(inner), Value::Object(entries)) if !entries.is_empty() => {
            out.insert(path.clone());
            for (mk, mv) in entries {
                path.push(format!("f:{mk}"));
                walk_kind(mv, inner, path, out);
                path.pop();
            }
        }
        (FieldKind::Message(name), Value::Object(fields))
            if !fields.is_empty() && !ATOMIC_STRUCTS.contains(&name.as_str()) =>
        {
            let before = out.len();
            walk(v, proto::schema::message(name), path, out);
            if out.len() == before {
                out.insert(path.clone());
            }
        }
        _ => {
            out.insert(path.clone());
        }
    }
}

fn walk_list(
    v: &Value,
    message: &str,
    field: &str,
    kind: &'static FieldKind,
    path: &mut Path,
    out: &mut FieldSet,
) {
    let Value::Array(items) = v else {
        out.insert(path.clone());
        return;
    };
    if items.is_empty() {
        out.insert(path.clone());
        return;
    }
    if let Some(keys) = list_keys(message, field) {
        let tokens: Option<Vec<String>> = items.iter().map(|i| key_token(i, &keys)).collect();
        if let Some(tokens) = tokens {
            let element = match kind {
                FieldKind::Message(name) => proto::schema::message(name),
                _ => None,
            };
            for (item, token) in items.iter().zip(tokens) {
                path.push(token);
                out.insert(path.clone());
                walk(item, element, path, out);
                path.pop();
            }
            return;
        }
    } else if is_set(message, field) {
        for item in items {
            path.push(format!("v:{item}"));
            out.insert(path.clone());
            path.pop();
        }
        return;
    }
    out.insert(path.clone());
}

/// The fields an object (its Kubernetes JSON) sets, less what the server owns: the status
/// for the main resource, everything but the status for the `status` subresource.
pub fn of_object(info: &proto::KindInfo, object: &Value, subresource: &str) -> FieldSet {
    let mut out = FieldSet::new();
    walk(
        object,
        Some(proto::schema::kind_message(info)),
        &mut Vec::new(),
        &mut out,
    );
    out.retain(|p| owned_by_clients(p, subresource));
    out
}

fn owned_by_clients(path: &Path, subresource: &str) -> bool {
    let first = path.first().map(String::as_str).unwrap_or_default();
    if subresource == "status" {
        return first == "f:status";
    }
    match first {
        "f:apiVersion" | "f:kind" | "f:status" => false,
        "f:metadata" => match path.get(1) {
            None => false,
            Some(f) => !SERVER_METADATA
                .iter()
                .any(|m| f.strip_prefix("f:") == Some(m)),
        },
        _ => true,
    }
}

/// The value a path names in a document.
pub fn value_at<'a>(doc: &'a Value, path: &[String]) -> Option<&'a Value> {
    let mut node = doc;
    for token in path {
        node = step(node, token)?;
    }
    Some(node)
}

fn matches_key(item: &Value, key: &Map<String, Value>) -> bool {
    key.iter().all(|(k, v)| {
        item.get(k)
            .or_else(|| key_default(k))
            .is_some_and(|x| loosely_equal(x, v))
    })
}

/// The default of a list-map key an applied configuration may leave out: a port's protocol
/// is TCP, so `{containerPort: 80}` names the element the server stores as
/// `{containerPort: 80, protocol: TCP}` (Kubernetes keys the defaulted object).
fn key_default(key: &str) -> Option<&'static Value> {
    static TCP: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    (key == "protocol").then(|| TCP.get_or_init(|| Value::String("TCP".into())))
}

fn position(items: &[Value], token: &str) -> Option<usize> {
    if let Some(k) = token.strip_prefix("k:") {
        let key: Map<String, Value> = serde_json::from_str(k).ok()?;
        return items.iter().position(|i| matches_key(i, &key));
    }
    if let Some(v) = token.strip_prefix("v:") {
        let value: Value = serde_json::from_str(v).ok()?;
        return items.iter().position(|i| *i == value);
    }
    token.strip_prefix("i:")?.parse().ok()
}

fn step<'a>(node: &'a Value, token: &str) -> Option<&'a Value> {
    match node {
        Value::Object(m) => m.get(token.strip_prefix("f:")?),
        Value::Array(items) => items.get(position(items, token)?),
        _ => None,
    }
}

/// Removes what `path` names from `doc` (nothing when it is not there).
pub fn remove_at(doc: &mut Value, path: &[String]) {
    let Some((last, parent)) = path.split_last() else {
        return;
    };
    let mut node = doc;
    for token in parent {
        let next = match node {
            Value::Object(m) => token.strip_prefix("f:").and_then(|f| m.get_mut(f)),
            Value::Array(items) => match position(items, token) {
                Some(i) => items.get_mut(i),
                None => None,
            },
            _ => None,
        };
        let Some(next) = next else { return };
        node = next;
    }
    match node {
        Value::Object(m) => {
            if let Some(f) = last.strip_prefix("f:") {
                m.remove(f);
            }
        }
        Value::Array(items) => {
            if let Some(i) = position(items, last)
                && i < items.len()
            {
                items.remove(i);
            }
        }
        _ => {}
    }
}

/// Equal as Kubernetes values: the proto JSON mapping writes some numbers as strings.
pub fn loosely_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(s), Value::Number(n)) | (Value::Number(n), Value::String(s)) => {
            *s == n.to_string()
        }
        _ => a == b,
    }
}

/// A path as Kubernetes prints it in conflicts: `.spec.containers[name="a"].image`.
pub fn display(path: &Path) -> String {
    let mut out = String::new();
    for token in path {
        if let Some(f) = token.strip_prefix("f:") {
            out.push('.');
            out.push_str(f);
        } else if let Some(k) = token.strip_prefix("k:") {
            let key: Map<String, Value> = serde_json::from_str(k).unwrap_or_default();
            let parts: Vec<String> = key.iter().map(|(k, v)| format!("{k}={v}")).collect();
            out.push_str(&format!("[{}]", parts.join(",")));
        } else if let Some(v) = token.strip_prefix("v:") {
            out.push_str(&format!("[={v}]"));
        } else if let Some(i) = token.strip_prefix("i:") {
            out.push_str(&format!("[{i}]"));
        }
    }
    out
}

/// Whether `set` holds `path` or anything under it.
pub fn owns_at_or_below(set: &FieldSet, path: &Path) -> bool {
    set.range(path.clone()..)
        .next()
        .is_some_and(|p| p.starts_with(path))
}

/// Whether `path` is a leaf of `set` (nothing of `set` lies below it).
pub fn is_leaf(set: &FieldSet, path: &Path) -> bool {
    set.range(path.clone()..)
        .nth(1)
        .is_none_or(|p| !p.starts_with(path))
}

pub fn entry_set(entry: &ManagedFieldsEntry) -> FieldSet {
    entry
        .fields_v1
        .as_ref()
        .map(|f| from_fields_v1(&f.to_value()))
        .unwrap_or_default()
}

pub fn set_entry(entry: &mut ManagedFieldsEntry, set: &FieldSet) {
    entry.fields_type = "FieldsV1".into();
    entry.fields_v1 = Some(FieldsV1::from_value(&to_fields_v1(set)));
}

/// Records an Update by `manager`: it takes the fields this write changed (from whoever
/// owned them, without conflicts, as Kubernetes does); fields the write removed leave every
/// set. `old` is None for a create.
pub fn record_update(
    info: &proto::KindInfo,
    entries: &mut Vec<ManagedFieldsEntry>,
    old: Option<&Value>,
    new: &Value,
    manager: &str,
    subresource: &str,
    now: &str,
) {
    if manager.is_empty() {
        return;
    }
    let new_set = of_object(info, new, subresource);
    let old_set = old
        .map(|o| of_object(info, o, subresource))
        .unwrap_or_default();
    let changed: FieldSet = new_set
        .iter()
        .filter(|p| {
            let before = old.and_then(|o| value_at(o, p));
            match before {
                None => true,
                Some(b) => {
                    is_leaf(&new_set, p) && !value_at(new, p).is_some_and(|a| loosely_equal(a, b))
                }
            }
        })
        .cloned()
        .collect();
    let removed: FieldSet = old_set.difference(&new_set).cloned().collect();
    let mut mine = false;
    for e in entries.iter_mut() {
        let me = e.manager == manager && e.operation == "Update" && e.subresource == subresource;
        let mut set = entry_set(e);
        let before = set.len();
        set.retain(|p| !removed.contains(p));
        if me {
            mine = true;
            set.extend(changed.iter().cloned());
            if !changed.is_empty() {
                e.time = now.to_string();
            }
        } else {
            set.retain(|p| !changed.contains(p));
        }
        if me || set.len() != before {
            set_entry(e, &set);
        }
    }
    if !mine && !changed.is_empty() {
        let mut e = ManagedFieldsEntry {
            manager: manager.to_string(),
            operation: "Update".into(),
            api_version: info.api_version.to_string(),
            time: now.to_string(),
            subresource: subresource.to_string(),
            ..Default::default()
        };
        set_entry(&mut e, &changed);
        entries.push(e);
    }
    entries.retain(|e| !entry_set(e).is_empty());
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_v1_round_trips_with_dot_for_owned_containers() {
        let fields = json!({
            "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
            "f:spec": {"f:replicas": {}, "f:template": {"f:spec": {"f:containers": {
                "k:{\"name\":\"nginx\"}": {".": {}, "f:image": {}, "f:name": {}}}}}}
        });
        let set = from_fields_v1(&fields);
        assert!(set.contains(&vec!["f:spec".to_string(), "f:replicas".to_string()]));
        assert!(set.contains(&vec!["f:metadata".to_string(), "f:labels".to_string()]));
        assert_eq!(to_fields_v1(&set), fields);
    }

    #[test]
    fn deployment_field_set_as_kubernetes_writes_it() {
        let info = proto::resource::kind_by_plural("deployments").unwrap();
        let d = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "labels": {"app": "web"}},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
              "template": {"metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "nginx", "image": "nginx",
                  "ports": [{"containerPort": 80}]}]}}}});
        let got = to_fields_v1(&of_object(info, &d, ""));
        assert_eq!(
            got,
            json!({"f:metadata": {"f:labels": {".": {}, "f:app": {}}},
              "f:spec": {"f:replicas": {}, "f:selector": {},
                "f:template": {"f:metadata": {"f:labels": {".": {}, "f:app": {}}},
                  "f:spec": {"f:containers": {"k:{\"name\":\"nginx\"}": {".": {},
                    "f:image": {}, "f:name": {},
                    "f:ports": {"k:{\"containerPort\":80,\"protocol\":\"TCP\"}": {".": {},
                      "f:containerPort": {}}}}}}}}})
        );
        let path = vec![
            "f:spec".to_string(),
            "f:template".into(),
            "f:spec".into(),
            "f:containers".into(),
            "k:{\"name\":\"nginx\"}".into(),
            "f:image".into(),
        ];
        assert_eq!(value_at(&d, &path), Some(&json!("nginx")));
        assert_eq!(
            display(&path),
            ".spec.template.spec.containers[name=\"nginx\"].image"
        );
    }

    #[test]
    fn updates_take_changed_fields_from_other_managers() {
        let info = proto::resource::kind_by_plural("configmaps").unwrap();
        let old = json!({"metadata": {"name": "c"}, "data": {"a": "1", "b": "2"}});
        let mut entries = Vec::new();
        record_update(info, &mut entries, None, &old, "creator", "", "t0");
        assert_eq!(entries.len(), 1);
        let new = json!({"metadata": {"name": "c"}, "data": {"a": "9", "b": "2"}});
        record_update(info, &mut entries, Some(&old), &new, "editor", "", "t1");
        assert_eq!(entries.len(), 2);
        assert_eq!(
            entries[0].fields_v1.as_ref().unwrap().to_value(),
            json!({"f:data": {".": {}, "f:b": {}}})
        );
        assert_eq!(
            entries[1].fields_v1.as_ref().unwrap().to_value(),
            json!({"f:data": {"f:a": {}}})
        );
    }
}
