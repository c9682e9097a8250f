//! metrics.k8s.io/v1beta1, the resource metrics API `kubectl top` and the HPA read, served
//! by the apiserver itself where Kubernetes runs metrics-server behind an APIService: a
//! scraper reads every kubelet's `/metrics/resource` each `--metric-resolution` (`scrape`,
//! `parse`), usage is computed from the last two samples (`storage`), and the answers go
//! out over gRPC (`ResourceMetrics`, `service`) and HTTP (`/apis/metrics.k8s.io/v1beta1/...`,
//! `http`) behind the same authentication and authorization as every other request
//! (resources `nodes` and `pods` of the group `metrics.k8s.io`, verbs `get` and `list`).

pub mod http;
pub mod parse;
pub mod scrape;
pub mod service;
pub mod storage;

use std::sync::{Arc, RwLock};
use std::time::{Duration, UNIX_EPOCH};

use proto::k8s::{
    ContainerMetrics, ListMetricsRequest, ListRequest, NodeMetrics, NodeMetricsList, ObjectMeta,
    PodMetrics, PodMetricsList,
};
use proto::{ApiError, Reason};

use crate::auth::{Attributes, Authorizer, Decision, User};
use crate::kubelet_proxy::KubeletProxy;
use crate::registry::Registry;
use crate::store::Store;
use storage::Storage;

pub const GROUP: &str = "metrics.k8s.io";
pub const VERSION: &str = "v1beta1";
pub const API_VERSION: &str = "metrics.k8s.io/v1beta1";

/// The metrics API's state: the samples, and what answers need (objects' labels, the
/// authorizer).
pub struct MetricsApi<S> {
    registry: Registry<S>,
    authorizer: Arc<dyn Authorizer>,
    storage: Arc<RwLock<Storage>>,
}

impl<S: Store> MetricsApi<S> {
    pub fn new(registry: Registry<S>, authorizer: Arc<dyn Authorizer>) -> Self {
        MetricsApi {
            registry,
            authorizer,
            storage: Arc::default(),
        }
    }

    /// Starts the scraper; it stops when `shutdown` turns true.
    pub fn spawn_scraper(
        &self,
        kubelet: Arc<KubeletProxy<S>>,
        options: scrape::ScrapeOptions,
        shutdown: tokio::sync::watch::Receiver<bool>,
    ) -> tokio::task::JoinHandle<()> {
        tokio::spawn(scrape::run(
            self.registry.clone(),
            kubelet,
            self.storage.clone(),
            options,
            shutdown,
        ))
    }

    async fn authorize(&self, user: &User, attrs: &Attributes) -> Result<(), ApiError> {
        match self.authorizer.authorize(user, attrs).await {
            Decision::Allow => Ok(()),
            Decision::Deny(reason) | Decision::NoOpinion(reason) => Err(ApiError::forbidden(
                crate::auth::authz::forbidden_message(user, attrs, &reason),
            )),
        }
    }

    fn read_storage(&self) -> std::sync::RwLockReadGuard<'_, Storage> {
        self.storage.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Nodes' usage (one node's when `name` is set), for `user`.
    pub async fn nodes(
        &self,
        user: &User,
        req: &ListMetricsRequest,
    ) -> Result<NodeMetricsList, ApiError> {
        let attrs = attributes("nodes", "", &req.name);
        self.authorize(user, &attrs).await?;
        let nodes = if req.name.is_empty() {
            self.registry
                .list(&list_request("nodes", "", req))
                .await?
                .items
        } else {
            vec![self.registry.get("nodes", "", &req.name).await?]
        };
        let now = proto::time::now_rfc3339();
        let storage = self.read_storage();
        let items: Vec<NodeMetrics> = nodes
            .iter()
            .filter_map(|n| {
                let m = n.meta();
                let u = storage.node(&m.name)?;
                Some(NodeMetrics {
                    api_version: API_VERSION.into(),
                    kind: "NodeMetrics".into(),
                    metadata: Some(item_meta(&m.name, "", &m.labels, &now)),
                    timestamp: time(u.timestamp_ms),
                    window: storage::format_window(u.window_ms),
                    usage: u.resource_list(),
                })
            })
            .collect();
        if !req.name.is_empty() && items.is_empty() {
            return Err(no_sample("nodemetrics", &req.name));
        }
        Ok(NodeMetricsList {
            api_version: API_VERSION.into(),
            kind: "NodeMetricsList".into(),
            items,
        })
    }

    /// Pods' usage per container (in `namespace`, or every namespace; one pod's when `name`
    /// is set), for `user`.
    pub async fn pods(
        &self,
        user: &User,
        req: &ListMetricsRequest,
    ) -> Result<PodMetricsList, ApiError> {
        let attrs = attributes("pods", &req.namespace, &req.name);
        self.authorize(user, &attrs).await?;
        let pods = if req.name.is_empty() {
            self.registry
                .list(&list_request("pods", &req.namespace, req))
                .await?
                .items
        } else if req.namespace.is_empty() {
            return Err(ApiError::bad_request(
                "a pod's metrics are asked for by namespace and name",
            ));
        } else {
            vec![self.registry.get("pods", &req.namespace, &req.name).await?]
        };
        let now = proto::time::now_rfc3339();
        let storage = self.read_storage();
        let items: Vec<PodMetrics> = pods
            .iter()
            .filter_map(|p| {
                let m = p.meta();
                let u = storage.pod(&m.namespace, &m.name)?;
                Some(PodMetrics {
                    api_version: API_VERSION.into(),
                    kind: "PodMetrics".into(),
                    metadata: Some(item_meta(&m.name, &m.namespace, &m.labels, &now)),
                    timestamp: time(u.timestamp_ms),
                    window: storage::format_window(u.window_ms),
                    containers: u
                        .containers
                        .iter()
                        .map(|(name, c)| ContainerMetrics {
                            name: name.clone(),
                            usage: c.resource_list(),
                        })
                        .collect(),
                })
            })
            .collect();
        if !req.name.is_empty() && items.is_empty() {
            return Err(no_sample("podmetrics", &req.name));
        }
        Ok(PodMetricsList {
            api_version: API_VERSION.into(),
            kind: "PodMetricsList".into(),
            items,
        })
    }
}

/// `get` with a name, else `list`, on the metrics group's resource.
pub fn attributes(resource: &str, namespace: &str, name: &str) -> Attributes {
    let verb = if name.is_empty() { "list" } else { "get" };
    Attributes::resource(verb, GROUP, resource, namespace, name)
}

fn list_request(resource: &str, namespace: &str, req: &ListMetricsRequest) -> ListRequest {
    ListRequest {
        resource: resource.into(),
        namespace: namespace.into(),
        label_selector: req.label_selector.clone(),
        field_selector: req.field_selector.clone(),
        ..Default::default()
    }
}

/// metrics-server's answer for an object without usage: its group-resource, not found.
fn no_sample(resource: &str, name: &str) -> ApiError {
    ApiError::new(
        Reason::NotFound,
        format!("{resource}.{GROUP} \"{name}\" not found"),
    )
}

/// name, namespace, labels, and creationTimestamp the time of the answer, as metrics-server.
fn item_meta(
    name: &str,
    namespace: &str,
    labels: &std::collections::BTreeMap<String, String>,
    now: &str,
) -> ObjectMeta {
    ObjectMeta {
        name: name.into(),
        namespace: namespace.into(),
        labels: labels.clone(),
        creation_timestamp: now.into(),
        ..Default::default()
    }
}

fn time(ms: i64) -> String {
    let ms = u64::try_from(ms).unwrap_or(0);
    proto::time::format_rfc3339(UNIX_EPOCH + Duration::from_millis(ms))
}

/// `--metric-resolution`: a Go duration of at least one second (metrics-server's default
/// is 15s; shorter values cost a kubelet request per node each time).
pub fn parse_resolution(s: &str) -> Result<Duration, String> {
    let d = proto::duration::parse_flag(s).map_err(|e| e.to_string())?;
    if d < Duration::from_secs(1) {
        return Err(format!("{s:?} is shorter than 1s"));
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolution_is_a_go_duration_of_a_second_or_more() {
        assert_eq!(parse_resolution("15s"), Ok(Duration::from_secs(15)));
        assert_eq!(parse_resolution("1m30s"), Ok(Duration::from_secs(90)));
        assert!(
            parse_resolution("500ms")
                .unwrap_err()
                .contains("shorter than 1s")
        );
        assert!(parse_resolution("0").is_err());
        assert!(parse_resolution("fast").is_err());
    }

    #[test]
    fn a_name_makes_it_a_get() {
        let list = attributes("pods", "ns", "");
        assert_eq!(
            (
                list.verb.as_str(),
                list.api_group.as_str(),
                list.namespace.as_str()
            ),
            ("list", "metrics.k8s.io", "ns")
        );
        let get = attributes("nodes", "", "n1");
        assert_eq!(
            (get.verb.as_str(), get.resource.as_str(), get.name.as_str()),
            ("get", "nodes", "n1")
        );
        assert_eq!(
            no_sample("podmetrics", "web-0").message,
            "podmetrics.metrics.k8s.io \"web-0\" not found"
        );
    }
}
