//! Server-side apply: merges a manager's applied configuration into the live object, with
//! conflicts against fields other managers own (unless forced), removal of fields the
//! manager stopped applying that no one else owns, and the managedFields bookkeeping.

use proto::k8s::ManagedFieldsEntry;
use proto::schema::{FieldKind, MessageSchema};
use proto::{ApiError, KindInfo, Reason};
use serde_json::Value;

use super::managed_fields::{
    FieldSet, Path, display, entry_set, is_leaf, loosely_equal, of_object, owns_at_or_below,
    remove_at, set_entry, value_at,
};

/// The object after the apply (Kubernetes JSON, without managedFields) and the new
/// managedFields.
pub struct Applied {
    pub object: Value,
    pub managed_fields: Vec<ManagedFieldsEntry>,
}

/// A field another manager owns and the apply would change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    pub manager: String,
    pub operation: String,
    pub api_version: String,
    pub time: String,
    pub subresource: String,
    pub path: Path,
}

impl Conflict {
    /// As Kubernetes prints a manager: `"x"`, `"x" using apps/v1` for updaters.
    fn manager_text(&self) -> String {
        let mut s = format!("{:?}", self.manager);
        if !self.subresource.is_empty() {
            s = format!("{s} with subresource {:?}", self.subresource);
        }
        // Kubernetes names an updater by its API version, never its time.
        if self.operation == "Update" {
            s = format!("{s} using {}", self.api_version);
        }
        s
    }
}

/// Kubernetes' message for apply conflicts.
pub fn conflict_message(conflicts: &[Conflict]) -> String {
    if let [c] = conflicts {
        return format!(
            "Apply failed with 1 conflict: conflict with {}: {}",
            c.manager_text(),
            display(&c.path)
        );
    }
    let mut managers: Vec<String> = conflicts.iter().map(Conflict::manager_text).collect();
    managers.sort();
    managers.dedup();
    let mut lines = Vec::new();
    for m in &managers {
        lines.push(format!("conflicts with {m}:"));
        for c in conflicts.iter().filter(|c| &c.manager_text() == m) {
            lines.push(format!("- {}", display(&c.path)));
        }
    }
    format!(
        "Apply failed with {} conflicts: {}",
        conflicts.len(),
        lines.join("\n")
    )
}

fn same_manager(e: &ManagedFieldsEntry, manager: &str, subresource: &str) -> bool {
    e.manager == manager && e.operation == "Apply" && e.subresource == subresource
}

/// Applies `config` (the manager's whole intent for the object) to `live` (None: the object
/// does not exist yet).
#[allow(clippy::too_many_arguments)]
pub fn apply(
    info: &'static KindInfo,
    live: Option<&Value>,
    config: &Value,
    entries: &[ManagedFieldsEntry],
    manager: &str,
    subresource: &str,
    force: bool,
    now: &str,
) -> Result<Applied, ApiError> {
    if !config.is_object() {
        return Err(ApiError::bad_request(
            "error decoding YAML: the applied configuration must be an object",
        ));
    }
    let api_version = config
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let kind = config
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if kind != info.kind || api_version != info.api_version {
        return Err(ApiError::bad_request(format!(
            "the API version in the data ({api_version}) does not match the expected API version ({})",
            info.api_version
        ))
        .with_kind_hint(kind, info));
    }
    let config = proto::manifest::normalize(config.clone());
    let applied = of_object(info, &config, subresource);
    let empty = Value::Object(Default::default());
    let live_doc = live.unwrap_or(&empty);
    let mut entries: Vec<ManagedFieldsEntry> = entries.to_vec();

    let mut conflicts = Vec::new();
    for e in entries.iter().filter(|e| e.manager != manager) {
        let theirs = entry_set(e);
        for p in applied.intersection(&theirs) {
            if !is_leaf(&applied, p) {
                continue;
            }
            let differs = match (value_at(&config, p), value_at(live_doc, p)) {
                (Some(a), Some(b)) => !loosely_equal(a, b),
                (Some(_), None) => true,
                _ => false,
            };
            if differs {
                conflicts.push(Conflict {
                    manager: e.manager.clone(),
                    operation: e.operation.clone(),
                    api_version: e.api_version.clone(),
                    time: e.time.clone(),
                    subresource: e.subresource.clone(),
                    path: p.clone(),
                });
            }
        }
    }
    if !conflicts.is_empty() {
        if !force {
            return Err(ApiError::new(
                Reason::Conflict,
                conflict_message(&conflicts),
            ));
        }
        for e in entries.iter_mut().filter(|e| e.manager != manager) {
            let mut set = entry_set(e);
            let before = set.len();
            set.retain(|p| !conflicts.iter().any(|c| &c.path == p));
            if set.len() != before {
                set_entry(e, &set);
            }
        }
    }

    let previous: FieldSet = entries
        .iter()
        .find(|e| same_manager(e, manager, subresource))
        .map(entry_set)
        .unwrap_or_default();
    let mut object = live_doc.clone();
    merge(
        &mut object,
        &config,
        Some(proto::schema::kind_message(info)),
    );
    if let Some(Value::Object(meta)) = object.get_mut("metadata") {
        meta.remove("managedFields");
    }

    // Fields this manager applied before and no longer does go, unless someone else owns
    // them (or something below them); deepest first.
    let others: FieldSet = entries
        .iter()
        .filter(|e| !same_manager(e, manager, subresource))
        .flat_map(entry_set)
        .collect();
    let mut dropped: Vec<&Path> = previous
        .iter()
        .filter(|p| !owns_at_or_below(&applied, p) && !owns_at_or_below(&others, p))
        .collect();
    dropped.sort_by_key(|p| std::cmp::Reverse(p.len()));
    for p in dropped {
        remove_at(&mut object, p);
    }

    match entries
        .iter_mut()
        .find(|e| same_manager(e, manager, subresource))
    {
        Some(e) => {
            set_entry(e, &applied);
            e.time = now.to_string();
            e.api_version = info.api_version.to_string();
        }
        None => {
            let mut e = ManagedFieldsEntry {
                manager: manager.to_string(),
                operation: "Apply".into(),
                api_version: info.api_version.to_string(),
                time: now.to_string(),
                subresource: subresource.to_string(),
                ..Default::default()
            };
            set_entry(&mut e, &applied);
            entries.push(e);
        }
    }
    entries.retain(|e| !entry_set(e).is_empty());
    Ok(Applied {
        object,
        managed_fields: entries,
    })
}

trait KindHint {
    fn with_kind_hint(self, kind: &str, info: &KindInfo) -> ApiError;
}

impl KindHint for ApiError {
    fn with_kind_hint(self, kind: &str, info: &KindInfo) -> ApiError {
        if kind != info.kind && !kind.is_empty() {
            return ApiError::bad_request(format!(
                "the kind in the data ({kind}) does not match the expected kind ({})",
                info.kind
            ));
        }
        self
    }
}

/// Merges an applied configuration into an object: keyed lists by their keys, sets as
/// unions, maps and structs field by field, everything else replaced.
fn merge(live: &mut Value, config: &Value, message: Option<&'static MessageSchema>) {
    let (Value::Object(l), Value::Object(c)) = (&mut *live, config) else {
        *live = config.clone();
        return;
    };
    for (k, v) in c {
        if v.is_null() {
            continue;
        }
        let Some(current) = l.get_mut(k) else {
            l.insert(k.clone(), v.clone());
            continue;
        };
        let field = message.and_then(|m| m.field(k));
        let msg_name = message.map_or("", |m| m.full_name.as_str());
        match field {
            Some(f) if f.repeated => merge_list(current, v, msg_name, k, &f.kind),
            Some(f) => merge_kind(current, v, &f.kind),
            None => *current = v.clone(),
        }
    }
}

fn merge_kind(live: &mut Value, config: &Value, kind: &'static FieldKind) {
    match kind {
        FieldKind::Map(inner) => {
            let (Value::Object(l), Value::Object(c)) = (&mut *live, config) else {
                *live = config.clone();
                return;
            };
            for (k, v) in c {
                match l.get_mut(k) {
                    Some(cur) if !v.is_null() => merge_kind(cur, v, inner),
                    _ if v.is_null() => {}
                    _ => {
                        l.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        FieldKind::Message(name) if name != "k8s.LabelSelector" => {
            merge(live, config, proto::schema::message(name));
        }
        _ => *live = config.clone(),
    }
}

fn merge_list(
    live: &mut Value,
    config: &Value,
    message: &str,
    field: &str,
    kind: &'static FieldKind,
) {
    let (Value::Array(l), Value::Array(c)) = (&mut *live, config) else {
        *live = config.clone();
        return;
    };
    let meta = proto::patch_meta::field(message, field);
    let keys: Option<Vec<&str>> = meta.and_then(|m| match m.list_type {
        Some("map") if !m.list_map_keys.is_empty() => Some(m.list_map_keys.to_vec()),
        Some("atomic") | Some("set") => None,
        _ if m.strategy.merges() => m.merge_key.map(|k| vec![k]),
        _ => None,
    });
    let set = meta.is_some_and(|m| {
        m.list_type == Some("set")
            || (m.list_type.is_none() && m.strategy.merges() && m.merge_key.is_none())
    });
    if let Some(keys) = keys {
        let element = match kind {
            FieldKind::Message(name) => proto::schema::message(name),
            _ => None,
        };
        for item in c {
            let found = l.iter_mut().find(|x| {
                keys.iter().filter(|k| item.get(**k).is_some()).all(|k| {
                    x.get(*k)
                        .zip(item.get(*k))
                        .is_some_and(|(a, b)| loosely_equal(a, b))
                })
            });
            match found {
                Some(x) => merge(x, item, element),
                None => l.push(item.clone()),
            }
        }
    } else if set {
        for item in c {
            if !l.contains(item) {
                l.push(item.clone());
            }
        }
    } else {
        *live = config.clone();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployments() -> &'static KindInfo {
        proto::resource::kind_by_plural("deployments").unwrap()
    }

    fn config(replicas: i64, image: &str) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
              "template": {"metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "nginx", "image": image}]}}}})
    }

    #[test]
    fn apply_creates_then_conflicts_with_another_manager_unless_forced() {
        let first = apply(
            deployments(),
            None,
            &config(2, "nginx:1"),
            &[],
            "kubectl",
            "",
            false,
            "t0",
        )
        .unwrap();
        assert_eq!(first.object["spec"]["replicas"], json!(2));
        assert_eq!(first.managed_fields.len(), 1);
        assert_eq!(first.managed_fields[0].operation, "Apply");

        // Someone else (an Update by kubectl scale) takes spec.replicas.
        let mut live = first.object.clone();
        live["spec"]["replicas"] = json!(5);
        let mut entries = first.managed_fields.clone();
        super::super::managed_fields::record_update(
            deployments(),
            &mut entries,
            Some(&first.object),
            &live,
            "kubectl-scale",
            "",
            "t1",
        );

        // Applying the same replicas as live is no conflict; a different value is.
        let e = apply(
            deployments(),
            Some(&live),
            &config(3, "nginx:1"),
            &entries,
            "kubectl",
            "",
            false,
            "t2",
        )
        .err()
        .unwrap();
        assert_eq!(e.reason, Reason::Conflict);
        assert_eq!(
            e.message,
            "Apply failed with 1 conflict: conflict with \"kubectl-scale\" using apps/v1: .spec.replicas"
        );
        let same = apply(
            deployments(),
            Some(&live),
            &config(5, "nginx:2"),
            &entries,
            "kubectl",
            "",
            false,
            "t2",
        )
        .unwrap();
        assert_eq!(
            same.object["spec"]["template"]["spec"]["containers"][0]["image"],
            json!("nginx:2")
        );

        let forced = apply(
            deployments(),
            Some(&live),
            &config(3, "nginx:1"),
            &entries,
            "kubectl",
            "",
            true,
            "t2",
        )
        .unwrap();
        assert_eq!(forced.object["spec"]["replicas"], json!(3));
        assert!(
            forced
                .managed_fields
                .iter()
                .all(|e| e.manager != "kubectl-scale"),
            "the forced field was the other manager's only one"
        );
    }

    #[test]
    fn fields_no_longer_applied_are_removed_unless_someone_else_owns_them() {
        let mut with_label = config(1, "nginx");
        with_label["metadata"]["labels"] = json!({"a": "1", "b": "2"});
        let first = apply(deployments(), None, &with_label, &[], "m", "", false, "t0").unwrap();
        let mut less = config(1, "nginx");
        less["metadata"]["labels"] = json!({"a": "1"});
        let second = apply(
            deployments(),
            Some(&first.object),
            &less,
            &first.managed_fields,
            "m",
            "",
            false,
            "t1",
        )
        .unwrap();
        assert_eq!(second.object["metadata"]["labels"], json!({"a": "1"}));

        // Another applier owning label b keeps it.
        let mut other = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "labels": {"b": "2"}}});
        let both = apply(
            deployments(),
            Some(&first.object),
            &other,
            &first.managed_fields,
            "other",
            "",
            false,
            "t1",
        )
        .unwrap();
        let third = apply(
            deployments(),
            Some(&both.object),
            &less,
            &both.managed_fields,
            "m",
            "",
            false,
            "t2",
        )
        .unwrap();
        assert_eq!(
            third.object["metadata"]["labels"],
            json!({"a": "1", "b": "2"})
        );
        other["metadata"]["labels"] = json!({});
        let _ = other;
    }

    #[test]
    fn keyed_lists_merge_by_key() {
        let first = apply(
            deployments(),
            None,
            &config(1, "nginx"),
            &[],
            "m",
            "",
            false,
            "t0",
        )
        .unwrap();
        let sidecar = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"template": {"spec": {"containers": [{"name": "sidecar", "image": "busybox"}]}}}});
        let both = apply(
            deployments(),
            Some(&first.object),
            &sidecar,
            &first.managed_fields,
            "s",
            "",
            false,
            "t1",
        )
        .unwrap();
        let names: Vec<&str> = both.object["spec"]["template"]["spec"]["containers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["nginx", "sidecar"]);
    }

    #[test]
    fn wrong_kind_is_a_bad_request() {
        let e = apply(
            deployments(),
            None,
            &json!({"apiVersion": "v1", "kind": "Pod"}),
            &[],
            "m",
            "",
            false,
            "t",
        )
        .err()
        .unwrap();
        assert_eq!(e.reason, Reason::BadRequest);
    }
}
