//! `MetricsApi`: a typed client of the resource metrics API (metrics.k8s.io/v1beta1, the
//! apiserver's `ResourceMetrics` gRPC service), what `ctl top` and the HPA read. It rides
//! on a [`Client`]'s connection and credentials, as `Api<K>` does, and its errors are the
//! same [`ApiError`]s (a node or pod without a sample yet is `NotFound`).

use crate::connection::ConnectionConfig;
use crate::dynamic::{AuthChannel, Client};
use crate::retry::Verb;
use proto::k8s::resource_metrics_client::ResourceMetricsClient;
pub use proto::k8s::{
    ContainerMetrics, ListMetricsRequest, NodeMetrics, NodeMetricsList, PodMetrics, PodMetricsList,
};
use proto::quantity::Quantity;
use proto::{ApiError, Reason};
use std::collections::BTreeMap;

/// Cheap to clone: clones share the client's HTTP/2 connection.
#[derive(Clone, Debug)]
pub struct MetricsApi {
    client: Client,
    inner: ResourceMetricsClient<AuthChannel>,
}

impl MetricsApi {
    /// On `client`'s connection, with its credentials.
    pub fn new(client: Client) -> Self {
        let inner = ResourceMetricsClient::new(client.auth_channel());
        MetricsApi { client, inner }
    }

    /// Connects now with this server, trust and credentials.
    pub async fn connect_with(config: &ConnectionConfig) -> Result<Self, ApiError> {
        Ok(Self::new(Client::connect_with(config).await?))
    }

    /// Connects on first use and reconnects after failures (daemons, which retry).
    pub fn lazy_with(config: &ConnectionConfig) -> Result<Self, ApiError> {
        Ok(Self::new(Client::lazy_with(config)?))
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Every node's usage (those matching `label_selector`; "" for all) that has a sample.
    pub async fn nodes(&self, label_selector: &str) -> Result<Vec<NodeMetrics>, ApiError> {
        let req = ListMetricsRequest {
            label_selector: label_selector.to_string(),
            ..Default::default()
        };
        Ok(self
            .client
            .retrying(Verb::List, req, |req| {
                let mut c = self.inner.clone();
                async move { c.list_node_metrics(req).await }
            })
            .await?
            .items)
    }

    /// One node's usage; `NotFound` when it has no sample (yet).
    pub async fn node(&self, name: &str) -> Result<NodeMetrics, ApiError> {
        let req = ListMetricsRequest {
            name: name.to_string(),
            ..Default::default()
        };
        let items = self
            .client
            .retrying(Verb::List, req, |req| {
                let mut c = self.inner.clone();
                async move { c.list_node_metrics(req).await }
            })
            .await?
            .items;
        one(items, "nodemetrics", name, name, |m| m.metadata.as_ref())
    }

    /// The usage of pods in `namespace` ("" for every namespace) matching
    /// `label_selector` ("" for all), per container.
    pub async fn pods(
        &self,
        namespace: &str,
        label_selector: &str,
    ) -> Result<Vec<PodMetrics>, ApiError> {
        self.list_pods(ListMetricsRequest {
            namespace: namespace.to_string(),
            label_selector: label_selector.to_string(),
            ..Default::default()
        })
        .await
    }

    /// Pods' usage as `req` asks (namespace, label and field selectors).
    pub async fn list_pods(&self, req: ListMetricsRequest) -> Result<Vec<PodMetrics>, ApiError> {
        Ok(self
            .client
            .retrying(Verb::List, req, |req| {
                let mut c = self.inner.clone();
                async move { c.list_pod_metrics(req).await }
            })
            .await?
            .items)
    }

    /// One pod's usage; `NotFound` when it has no sample (yet).
    pub async fn pod(&self, namespace: &str, name: &str) -> Result<PodMetrics, ApiError> {
        if namespace.is_empty() {
            return Err(ApiError::bad_request(format!(
                "pods {name:?}: a namespace is required"
            )));
        }
        let req = ListMetricsRequest {
            namespace: namespace.to_string(),
            name: name.to_string(),
            ..Default::default()
        };
        let items = self
            .client
            .retrying(Verb::List, req, |req| {
                let mut c = self.inner.clone();
                async move { c.list_pod_metrics(req).await }
            })
            .await?
            .items;
        let shown = format!("{namespace}/{name}");
        one(items, "podmetrics", name, &shown, |m| m.metadata.as_ref())
    }
}

/// The one item a by-name call answers; a server that answers with none means no sample,
/// which metrics-server reports as NotFound (`podmetrics.metrics.k8s.io "ns/name"`).
fn one<T>(
    items: Vec<T>,
    resource: &str,
    name: &str,
    shown: &str,
    meta: impl Fn(&T) -> Option<&proto::k8s::ObjectMeta>,
) -> Result<T, ApiError> {
    items
        .into_iter()
        .find(|m| meta(m).is_some_and(|m| m.name == name))
        .ok_or_else(|| {
            ApiError::new(
                Reason::NotFound,
                format!("{resource}.metrics.k8s.io {shown:?} not found"),
            )
        })
}

/// One resource of a usage map as a quantity; `None` when absent or unreadable.
pub fn usage_of(usage: &BTreeMap<String, String>, resource: &str) -> Option<Quantity> {
    usage.get(resource).and_then(|q| q.parse().ok())
}

/// A pod's usage of `resource`, the sum of its containers' as Kubernetes' HPA and
/// `kubectl top` add them; `None` when the pod has no container or one lacks the resource.
pub fn pod_total(pod: &PodMetrics, resource: &str) -> Option<Quantity> {
    if pod.containers.is_empty() {
        return None;
    }
    pod.containers
        .iter()
        .map(|c| usage_of(&c.usage, resource))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::k8s::ObjectMeta;
    use proto::k8s::resource_metrics_server::{ResourceMetrics, ResourceMetricsServer};
    use std::sync::{Arc, Mutex};
    use tonic::{Request, Response, Status};

    fn container(name: &str, cpu: &str, memory: &str) -> ContainerMetrics {
        ContainerMetrics {
            name: name.into(),
            usage: [("cpu", cpu), ("memory", memory)]
                .into_iter()
                .filter(|(_, v)| !v.is_empty())
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    fn pod(ns: &str, name: &str, containers: Vec<ContainerMetrics>) -> PodMetrics {
        PodMetrics {
            metadata: Some(ObjectMeta {
                name: name.into(),
                namespace: ns.into(),
                ..Default::default()
            }),
            containers,
            ..Default::default()
        }
    }

    #[test]
    fn a_pods_usage_is_the_sum_of_its_containers() {
        let p = pod(
            "default",
            "web",
            vec![
                container("a", "1500000n", "10Mi"),
                container("b", "250m", "1024Ki"),
            ],
        );
        assert_eq!(pod_total(&p, "cpu").map(|q| q.milli_value()), Some(252));
        assert_eq!(
            pod_total(&p, "memory").map(|q| q.value()),
            Some(11 * 1024 * 1024)
        );
        // A container without the resource: the pod has no figure for it.
        let p = pod("default", "web", vec![container("a", "1m", "")]);
        assert_eq!(pod_total(&p, "memory"), None);
        assert_eq!(pod_total(&pod("d", "empty", vec![]), "cpu"), None);
    }

    /// Records the requests and answers from fixed lists, or with an error.
    #[derive(Default, Clone)]
    struct Fake {
        seen: Arc<Mutex<Vec<ListMetricsRequest>>>,
        pods: Vec<PodMetrics>,
        error: Option<Status>,
    }

    #[tonic::async_trait]
    impl ResourceMetrics for Fake {
        async fn list_node_metrics(
            &self,
            req: Request<ListMetricsRequest>,
        ) -> Result<Response<NodeMetricsList>, Status> {
            self.seen.lock().unwrap().push(req.into_inner());
            if let Some(e) = &self.error {
                return Err(e.clone());
            }
            Ok(Response::new(NodeMetricsList::default()))
        }
        async fn list_pod_metrics(
            &self,
            req: Request<ListMetricsRequest>,
        ) -> Result<Response<PodMetricsList>, Status> {
            let req = req.into_inner();
            self.seen.lock().unwrap().push(req.clone());
            if let Some(e) = &self.error {
                return Err(e.clone());
            }
            let items = self
                .pods
                .iter()
                .filter(|p| {
                    let m = p.metadata.as_ref().expect("meta");
                    (req.namespace.is_empty() || m.namespace == req.namespace)
                        && (req.name.is_empty() || m.name == req.name)
                })
                .cloned()
                .collect();
            Ok(Response::new(PodMetricsList {
                items,
                ..Default::default()
            }))
        }
    }

    async fn serve(fake: Fake) -> (String, tokio_util::sync::CancellationToken) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let stop = tokio_util::sync::CancellationToken::new();
        let s = stop.clone();
        tokio::spawn(async move {
            tonic::transport::Server::builder()
                .add_service(ResourceMetricsServer::new(fake))
                .serve_with_incoming_shutdown(
                    tokio_stream::wrappers::TcpListenerStream::new(listener),
                    s.cancelled_owned(),
                )
                .await
        });
        (url, stop)
    }

    #[tokio::test]
    async fn calls_carry_namespace_name_and_selector_and_errors_are_api_errors() {
        let fake = Fake {
            pods: vec![pod("a", "web", vec![container("c", "5m", "1Mi")])],
            ..Default::default()
        };
        let seen = fake.seen.clone();
        let (url, stop) = serve(fake).await;
        let api = MetricsApi::connect_with(&ConnectionConfig::plaintext(&url))
            .await
            .unwrap();

        let all = api.pods("", "app=web").await.unwrap();
        assert_eq!(all.len(), 1);
        let one = api.pod("a", "web").await.unwrap();
        assert_eq!(one.containers[0].name, "c");
        // No sample: NotFound, named as metrics-server names it.
        let e = api.pod("a", "db").await.unwrap_err();
        assert!(e.is(Reason::NotFound), "{e:?}");
        assert_eq!(e.message, "podmetrics.metrics.k8s.io \"a/db\" not found");
        let e = api.node("node-0").await.unwrap_err();
        assert!(e.is(Reason::NotFound), "{e:?}");
        assert!(api.nodes("role=x").await.unwrap().is_empty());
        // A pod by name needs its namespace; nothing is sent.
        let e = api.pod("", "web").await.unwrap_err();
        assert!(e.is(Reason::BadRequest), "{e:?}");

        let seen = seen.lock().unwrap().clone();
        let by = |ns: &str, name: &str, sel: &str| ListMetricsRequest {
            namespace: ns.into(),
            name: name.into(),
            label_selector: sel.into(),
            field_selector: String::new(),
        };
        assert_eq!(
            seen,
            vec![
                by("", "", "app=web"),
                by("a", "web", ""),
                by("a", "db", ""),
                by("", "node-0", ""),
                by("", "", "role=x"),
            ]
        );
        stop.cancel();
    }

    #[tokio::test]
    async fn a_refusal_keeps_its_reason() {
        let fake = Fake {
            error: Some(Status::permission_denied(
                "nodes.metrics.k8s.io is forbidden",
            )),
            ..Default::default()
        };
        let (url, stop) = serve(fake).await;
        let api = MetricsApi::connect_with(&ConnectionConfig::plaintext(&url))
            .await
            .unwrap();
        let e = api.nodes("").await.unwrap_err();
        assert!(e.is(Reason::Forbidden), "{e:?}");
        stop.cancel();
    }
}
