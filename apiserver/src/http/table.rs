//! `metav1.Table` responses: what a client gets when its Accept header asks
//! `application/json;as=Table;v=v1;g=meta.k8s.io` (kubectl get does, and prints the table
//! as it comes). Columns and cells are Kubernetes' for each kind (`proto::printers`, shared
//! with ctl); every column is sent, `-o wide` ones included (priority 1), as Kubernetes
//! does: clients choose which to show.

use std::time::SystemTime;

use proto::KindInfo;
use proto::printers::{Cell, columns, row_cells};
use serde_json::{Value, json};

/// What each row carries besides its cells (`?includeObject=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IncludeObject {
    None,
    /// The default: the object's metadata as a `PartialObjectMetadata` (kubectl reads
    /// namespaces and labels from it).
    Metadata,
    Object,
}

/// A `metav1.Table` (`apiVersion` `meta.k8s.io/v1` or `v1beta1`, as asked) of `objects`,
/// all of kind `info`, each in its wire JSON form; `list_meta` is the table's `metadata`
/// (resourceVersion, continue, remainingItemCount).
pub(crate) fn table(
    info: &'static KindInfo,
    objects: &[Value],
    list_meta: Value,
    include: IncludeObject,
    api_version: &str,
    now: SystemTime,
) -> Value {
    let column_definitions: Vec<Value> = columns(info.kind)
        .iter()
        .map(|c| {
            json!({
                "name": c.name,
                "type": c.type_,
                "format": c.format,
                "description": c.description,
                "priority": c.priority,
            })
        })
        .collect();
    let rows: Vec<Value> = objects
        .iter()
        .map(|o| row(info, o, include, api_version, now))
        .collect();
    json!({
        "kind": "Table",
        "apiVersion": api_version,
        "metadata": list_meta,
        "columnDefinitions": column_definitions,
        "rows": rows,
    })
}

fn row(
    info: &'static KindInfo,
    object: &Value,
    include: IncludeObject,
    api_version: &str,
    now: SystemTime,
) -> Value {
    let cells: Vec<Value> = row_cells(info.kind, object, now)
        .iter()
        .map(Cell::to_json)
        .collect();
    let mut row = json!({ "cells": cells });
    if let Some(conditions) = row_conditions(info, object) {
        row["conditions"] = conditions;
    }
    row["object"] = match include {
        IncludeObject::None => Value::Null,
        IncludeObject::Metadata => json!({
            "kind": "PartialObjectMetadata",
            "apiVersion": api_version,
            "metadata": object.get("metadata").cloned().unwrap_or_else(|| json!({})),
        }),
        IncludeObject::Object => object.clone(),
    };
    row
}

/// A finished pod's row says so (`Completed`), as Kubernetes marks it.
fn row_conditions(info: &KindInfo, object: &Value) -> Option<Value> {
    if info.kind != "Pod" {
        return None;
    }
    let (reason, message) = match object.pointer("/status/phase").and_then(Value::as_str) {
        Some("Succeeded") => ("Succeeded", "The pod has completed successfully."),
        Some("Failed") => ("Failed", "The pod failed."),
        _ => return None,
    };
    Some(json!([{
        "type": "Completed",
        "status": "True",
        "reason": reason,
        "message": message,
    }]))
}

/// Which Table version the Accept header asks for, if any (`"v1"` or `"v1beta1"`): the
/// first media range carrying `as=Table;g=meta.k8s.io` with a version we serve. The answer
/// is JSON whatever the media type (clients asking protobuf accept JSON too).
pub(crate) fn wants_table(headers: &::http::HeaderMap) -> Option<&'static str> {
    headers
        .get_all(::http::header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find_map(table_version)
}

fn table_version(media_range: &str) -> Option<&'static str> {
    let (mut as_table, mut group, mut version) = (false, false, None);
    for param in media_range.split(';').skip(1) {
        let Some((key, value)) = param.split_once('=') else {
            continue;
        };
        let value = value.trim().trim_matches('"');
        match key.trim().to_ascii_lowercase().as_str() {
            "as" => as_table = value == "Table",
            "g" => group = value == "meta.k8s.io",
            "v" => {
                version = match value {
                    "v1" => Some("v1"),
                    "v1beta1" => Some("v1beta1"),
                    _ => None,
                }
            }
            _ => {}
        }
    }
    if as_table && group { version } else { None }
}

/// `?includeObject=None|Metadata|Object`; Metadata when absent (or not one of those).
pub(crate) fn include_object(query: &str) -> IncludeObject {
    let value = query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| *key == "includeObject")
        .map(|(_, value)| value);
    match value {
        Some("None") => IncludeObject::None,
        Some("Object") => IncludeObject::Object,
        _ => IncludeObject::Metadata,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::resource::find_kind;
    use std::time::{Duration, UNIX_EPOCH};

    fn now() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_800_000_000)
    }

    fn ago(secs: u64) -> String {
        proto::time::format_rfc3339(now() - Duration::from_secs(secs))
    }

    fn kind(name: &str) -> &'static KindInfo {
        find_kind(name).unwrap()
    }

    fn accept(value: &str) -> ::http::HeaderMap {
        let mut h = ::http::HeaderMap::new();
        h.insert(::http::header::ACCEPT, value.parse().unwrap());
        h
    }

    fn deployment() -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "default", "resourceVersion": "7",
                         "labels": {"app": "web"}, "creationTimestamp": ago(90)},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
                     "template": {"spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}},
            "status": {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2}})
    }

    #[test]
    fn a_deployment_list_as_kubernetes_sends_it() {
        let t = table(
            kind("deploy"),
            &[deployment()],
            json!({"resourceVersion": "42", "continue": "abc"}),
            IncludeObject::Metadata,
            "meta.k8s.io/v1",
            now(),
        );
        assert_eq!(t["kind"], "Table");
        assert_eq!(t["apiVersion"], "meta.k8s.io/v1");
        assert_eq!(
            t["metadata"],
            json!({"resourceVersion": "42", "continue": "abc"})
        );
        let names: Vec<&str> = t["columnDefinitions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "Name",
                "Ready",
                "Up-to-date",
                "Available",
                "Age",
                "Containers",
                "Images",
                "Selector"
            ]
        );
        let name = &t["columnDefinitions"][0];
        assert_eq!(name["type"], "string");
        assert_eq!(name["format"], "name");
        assert_eq!(name["priority"], 0);
        assert!(
            name["description"]
                .as_str()
                .unwrap()
                .starts_with("Name must be unique")
        );
        assert_eq!(t["columnDefinitions"][5]["priority"], 1);
        assert_eq!(t["columnDefinitions"][5]["format"], "");
        let row = &t["rows"][0];
        assert_eq!(
            row["cells"],
            json!(["web", "2/3", 3, 2, "90s", "web", "nginx:1.27", "app=web"])
        );
        assert_eq!(row["object"]["kind"], "PartialObjectMetadata");
        assert_eq!(row["object"]["apiVersion"], "meta.k8s.io/v1");
        assert_eq!(row["object"]["metadata"]["labels"]["app"], "web");
        assert!(row.get("conditions").is_none());
    }

    #[test]
    fn pods_services_and_include_modes() {
        let pod = json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "done", "namespace": "default", "creationTimestamp": ago(3600)},
            "spec": {"nodeName": "n1", "containers": [{"name": "a"}]},
            "status": {"phase": "Succeeded", "podIP": "10.244.0.9",
                "containerStatuses": [{"name": "a", "restartCount": 0,
                    "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]}});
        let t = table(
            kind("po"),
            std::slice::from_ref(&pod),
            json!({"resourceVersion": "5"}),
            IncludeObject::Object,
            "meta.k8s.io/v1beta1",
            now(),
        );
        assert_eq!(t["apiVersion"], "meta.k8s.io/v1beta1");
        let row = &t["rows"][0];
        assert_eq!(
            row["cells"],
            json!([
                "done",
                "0/1",
                "Completed",
                "0",
                "60m",
                "10.244.0.9",
                "n1",
                "<none>",
                "<none>"
            ])
        );
        assert_eq!(row["conditions"][0]["type"], "Completed");
        assert_eq!(row["conditions"][0]["reason"], "Succeeded");
        assert_eq!(row["object"], pod);

        let svc = json!({"metadata": {"name": "web", "creationTimestamp": ago(30)},
            "spec": {"type": "ClusterIP", "clusterIPs": ["10.96.0.20"], "ports": [{"port": 80, "protocol": "TCP"}],
                     "selector": {"app": "web"}}});
        let t = table(
            kind("svc"),
            &[svc],
            json!({}),
            IncludeObject::None,
            "meta.k8s.io/v1",
            now(),
        );
        assert_eq!(
            t["rows"][0]["cells"],
            json!([
                "web",
                "ClusterIP",
                "10.96.0.20",
                "<none>",
                "80/TCP",
                "30s",
                "app=web"
            ])
        );
        assert_eq!(t["rows"][0]["object"], Value::Null);
        // An empty list is a table with its columns and no rows.
        let t = table(
            kind("no"),
            &[],
            json!({"resourceVersion": "1"}),
            IncludeObject::Metadata,
            "meta.k8s.io/v1",
            now(),
        );
        assert_eq!(t["rows"], json!([]));
        assert_eq!(t["columnDefinitions"].as_array().unwrap().len(), 10);
    }

    #[test]
    fn accept_headers() {
        // What kubectl sends.
        let kubectl = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
        assert_eq!(wants_table(&accept(kubectl)), Some("v1"));
        assert_eq!(
            wants_table(&accept(
                "application/json; as=Table; v=v1beta1; g=meta.k8s.io"
            )),
            Some("v1beta1")
        );
        assert_eq!(
            wants_table(&accept(
                "application/json;as=Table;v=v2;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io"
            )),
            Some("v1beta1")
        );
        assert_eq!(wants_table(&accept("application/json")), None);
        assert_eq!(
            wants_table(&accept(
                "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
            )),
            None
        );
        assert_eq!(wants_table(&::http::HeaderMap::new()), None);
    }

    #[test]
    fn include_object_query() {
        assert_eq!(include_object(""), IncludeObject::Metadata);
        assert_eq!(include_object("includeObject=None"), IncludeObject::None);
        assert_eq!(
            include_object("limit=500&includeObject=Object"),
            IncludeObject::Object
        );
        assert_eq!(
            include_object("includeObject=Metadata"),
            IncludeObject::Metadata
        );
        assert_eq!(
            include_object("xincludeObject=None"),
            IncludeObject::Metadata
        );
    }
}
