//! The metrics API over HTTP, as metrics-server serves it behind Kubernetes' aggregator:
//! `GET /apis/metrics.k8s.io/v1beta1/nodes[/NAME]`, `.../pods`,
//! `.../namespaces/NS/pods[/NAME]`, with `labelSelector` and `fieldSelector`; lists are
//! `NodeMetricsList`/`PodMetricsList` (items without kind, `metadata: {}`), a named get the
//! object with its kind. The group-version's discovery documents are `crate::http::discovery`'s.

use std::sync::Arc;

use ::http::{Method, StatusCode};
use axum::extract::Request;
use proto::k8s::{ListMetricsRequest, NodeMetrics, ObjectMeta, PodMetrics};
use serde_json::{Map, Value, json};

use super::{API_VERSION, MetricsApi};
use crate::http::HttpResponse;
use crate::store::Store;

/// Everything under this prefix is the metrics API's to answer.
pub const PREFIX: &str = "/apis/metrics.k8s.io/v1beta1/";

/// What a path under [`PREFIX`] names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Nodes { name: String },
    Pods { namespace: String, name: String },
}

/// The target of `path`, or `None` for a path the API does not serve (404).
pub fn target(path: &str) -> Option<Target> {
    let rest = path.strip_prefix(PREFIX)?.trim_end_matches('/');
    let segments: Vec<&str> = rest.split('/').collect();
    if segments.iter().any(|s| s.is_empty()) {
        return None;
    }
    let s = |x: &str| x.to_string();
    match segments.as_slice() {
        ["nodes"] => Some(Target::Nodes { name: s("") }),
        ["nodes", name] => Some(Target::Nodes { name: s(name) }),
        ["pods"] => Some(Target::Pods {
            namespace: s(""),
            name: s(""),
        }),
        ["namespaces", ns, "pods"] => Some(Target::Pods {
            namespace: s(ns),
            name: s(""),
        }),
        ["namespaces", ns, "pods", name] => Some(Target::Pods {
            namespace: s(ns),
            name: s(name),
        }),
        _ => None,
    }
}

/// Adds the metrics API's paths to `router` (before the authentication layer wraps it).
pub fn route<S: Store>(router: axum::Router, api: Arc<MetricsApi<S>>) -> axum::Router {
    router.route(
        "/apis/metrics.k8s.io/v1beta1/{*rest}",
        axum::routing::any(move |request: Request| {
            let api = api.clone();
            async move { serve(&api, request).await }
        }),
    )
}

pub async fn serve<S: Store>(api: &MetricsApi<S>, request: Request) -> HttpResponse {
    let (parts, _) = request.into_parts();
    let Some(target) = target(parts.uri.path()) else {
        return crate::http::status::not_found_path();
    };
    if !matches!(parts.method, Method::GET | Method::HEAD) {
        return crate::http::verbs::method_not_allowed();
    }
    let query = crate::http::query::Query::parse(parts.uri.query().unwrap_or(""));
    let user = crate::http::user_of(&parts);
    let answer = match target {
        Target::Nodes { name } => {
            let req = ListMetricsRequest {
                name: name.clone(),
                label_selector: query.str("labelSelector"),
                field_selector: query.str("fieldSelector"),
                ..Default::default()
            };
            api.nodes(&user, &req).await.map(|list| {
                if name.is_empty() {
                    list_json("NodeMetricsList", list.items.iter().map(node_json))
                } else {
                    typed(list.items.first().map(node_json), "NodeMetrics")
                }
            })
        }
        Target::Pods { namespace, name } => {
            let req = ListMetricsRequest {
                namespace,
                name: name.clone(),
                label_selector: query.str("labelSelector"),
                field_selector: query.str("fieldSelector"),
            };
            api.pods(&user, &req).await.map(|list| {
                if name.is_empty() {
                    list_json("PodMetricsList", list.items.iter().map(pod_json))
                } else {
                    typed(list.items.first().map(pod_json), "PodMetrics")
                }
            })
        }
    };
    match answer {
        Ok(v) => crate::http::json_response(StatusCode::OK, &v),
        Err(e) => crate::http::api_error_response(&e),
    }
}

fn list_json(kind: &str, items: impl Iterator<Item = Value>) -> Value {
    json!({
        "kind": kind,
        "apiVersion": API_VERSION,
        "metadata": {},
        "items": items.collect::<Vec<_>>(),
    })
}

/// A single object: the item with its kind and apiVersion.
fn typed(item: Option<Value>, kind: &str) -> Value {
    let mut out = Map::new();
    out.insert("kind".into(), Value::from(kind));
    out.insert("apiVersion".into(), Value::from(API_VERSION));
    if let Some(Value::Object(fields)) = item {
        out.extend(fields);
    }
    Value::Object(out)
}

fn meta_json(m: Option<&ObjectMeta>) -> Value {
    let mut out = Map::new();
    if let Some(m) = m {
        out.insert("name".into(), Value::from(m.name.as_str()));
        if !m.namespace.is_empty() {
            out.insert("namespace".into(), Value::from(m.namespace.as_str()));
        }
        out.insert(
            "creationTimestamp".into(),
            Value::from(m.creation_timestamp.as_str()),
        );
        if !m.labels.is_empty() {
            out.insert("labels".into(), json!(m.labels));
        }
    }
    Value::Object(out)
}

pub fn node_json(n: &NodeMetrics) -> Value {
    json!({
        "metadata": meta_json(n.metadata.as_ref()),
        "timestamp": n.timestamp,
        "window": n.window,
        "usage": n.usage,
    })
}

pub fn pod_json(p: &PodMetrics) -> Value {
    json!({
        "metadata": meta_json(p.metadata.as_ref()),
        "timestamp": p.timestamp,
        "window": p.window,
        "containers": p.containers.iter().map(|c| json!({"name": c.name, "usage": c.usage})).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::k8s::ContainerMetrics;
    use std::collections::BTreeMap;

    #[test]
    fn paths_name_what_metrics_server_serves() {
        let t = |p: &str| target(p);
        let nodes = |n: &str| {
            Some(Target::Nodes {
                name: n.to_string(),
            })
        };
        let pods = |ns: &str, n: &str| {
            Some(Target::Pods {
                namespace: ns.to_string(),
                name: n.to_string(),
            })
        };
        assert_eq!(t("/apis/metrics.k8s.io/v1beta1/nodes"), nodes(""));
        assert_eq!(t("/apis/metrics.k8s.io/v1beta1/nodes/"), nodes(""));
        assert_eq!(t("/apis/metrics.k8s.io/v1beta1/nodes/n1"), nodes("n1"));
        assert_eq!(t("/apis/metrics.k8s.io/v1beta1/pods"), pods("", ""));
        assert_eq!(
            t("/apis/metrics.k8s.io/v1beta1/namespaces/ns/pods"),
            pods("ns", "")
        );
        assert_eq!(
            t("/apis/metrics.k8s.io/v1beta1/namespaces/ns/pods/p"),
            pods("ns", "p")
        );
        for bad in [
            "/apis/metrics.k8s.io/v1beta1/",
            "/apis/metrics.k8s.io/v1beta1/nodes/n1/x",
            "/apis/metrics.k8s.io/v1beta1/pods/p",
            "/apis/metrics.k8s.io/v1beta1/namespaces/ns",
            "/apis/metrics.k8s.io/v1beta1/namespaces//pods",
            "/apis/metrics.k8s.io/v1beta1/namespaces/ns/pods/p/log",
            "/apis/metrics.k8s.io/v1beta1/services",
            "/apis/metrics.k8s.io/v1/nodes",
        ] {
            assert_eq!(t(bad), None, "{bad}");
        }
    }

    #[test]
    fn documents_have_metrics_servers_shape() {
        let meta = ObjectMeta {
            name: "p".into(),
            namespace: "ns".into(),
            labels: BTreeMap::from([("app".into(), "web".into())]),
            creation_timestamp: "2026-12-06T13:00:00Z".into(),
            ..Default::default()
        };
        let usage = BTreeMap::from([
            ("cpu".to_string(), "250m".to_string()),
            ("memory".to_string(), "1200Ki".to_string()),
        ]);
        let pod = PodMetrics {
            metadata: Some(meta),
            timestamp: "2026-12-06T12:59:59Z".into(),
            window: "15s".into(),
            containers: vec![ContainerMetrics {
                name: "web".into(),
                usage: usage.clone(),
            }],
            ..Default::default()
        };
        let list = list_json("PodMetricsList", [pod_json(&pod)].into_iter());
        assert_eq!(
            list,
            json!({
                "kind": "PodMetricsList",
                "apiVersion": "metrics.k8s.io/v1beta1",
                "metadata": {},
                "items": [{
                    "metadata": {"name": "p", "namespace": "ns", "labels": {"app": "web"},
                                 "creationTimestamp": "2026-12-06T13:00:00Z"},
                    "timestamp": "2026-12-06T12:59:59Z",
                    "window": "15s",
                    "containers": [{"name": "web", "usage": {"cpu": "250m", "memory": "1200Ki"}}],
                }],
            })
        );
        let node = NodeMetrics {
            metadata: Some(ObjectMeta {
                name: "n1".into(),
                creation_timestamp: "t".into(),
                ..Default::default()
            }),
            usage,
            ..Default::default()
        };
        let one = typed(Some(node_json(&node)), "NodeMetrics");
        assert_eq!(one["kind"], "NodeMetrics");
        assert_eq!(one["apiVersion"], "metrics.k8s.io/v1beta1");
        assert_eq!(
            one["metadata"],
            json!({"name": "n1", "creationTimestamp": "t"})
        );
        assert_eq!(one["usage"]["cpu"], "250m");
    }
}
