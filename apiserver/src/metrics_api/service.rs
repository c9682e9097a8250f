//! The `ResourceMetrics` gRPC service (proto/protos/metrics.proto): the caller the
//! authentication layer put into the request, then [`MetricsApi`]'s answer.

use proto::k8s::resource_metrics_server::ResourceMetrics;
use proto::k8s::{ListMetricsRequest, NodeMetricsList, PodMetricsList};
use tonic::{Request, Response, Status};
use tracing::Instrument;

use super::MetricsApi;
use crate::auth::context::user_of;
use crate::store::Store;

#[tonic::async_trait]
impl<S: Store> ResourceMetrics for MetricsApi<S> {
    async fn list_node_metrics(
        &self,
        request: Request<ListMetricsRequest>,
    ) -> Result<Response<NodeMetricsList>, Status> {
        let user = user_of(&request);
        label(&request, "nodes");
        let r = request.into_inner();
        let span = tracing::debug_span!("node_metrics", user = %user.name, name = %r.name);
        let list = self.nodes(&user, &r).instrument(span).await?;
        Ok(Response::new(list))
    }

    async fn list_pod_metrics(
        &self,
        request: Request<ListMetricsRequest>,
    ) -> Result<Response<PodMetricsList>, Status> {
        let user = user_of(&request);
        label(&request, "pods");
        let r = request.into_inner();
        let span = tracing::debug_span!("pod_metrics", user = %user.name, namespace = %r.namespace, name = %r.name);
        let list = self.pods(&user, &r).instrument(span).await?;
        Ok(Response::new(list))
    }
}

/// The request's labels for the apiserver's request metrics (`apiserver_request_total`):
/// the metrics group's resource, get or list, as the HTTP path would give them.
fn label(request: &Request<ListMetricsRequest>, resource: &str) {
    if let Some(slot) = crate::metrics::Slot::current() {
        let r = request.get_ref();
        let attrs = super::attributes(resource, &r.namespace, &r.name);
        slot.set(|| crate::metrics::request::from_attributes(&attrs, false, false));
    }
}
