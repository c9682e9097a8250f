//! The kubelet API (`proto::kubelet_api`) served by the apiserver as a proxy: a call naming a
//! pod goes to the kubelet of the pod's node, found through the Node's InternalIP and
//! `status.daemonEndpoints.kubeletEndpoint.Port`, so clients (ctl logs/exec/top) need only
//! the apiserver's address.

use crate::registry::Registry;
use crate::store::Store;
use futures::StreamExt;
use proto::Resource;
use proto::k8s::{Node, Pod};
use proto::kubelet_api::kubelet_client::KubeletClient;
use proto::kubelet_api::kubelet_server::Kubelet;
use proto::kubelet_api::{
    ExecRequest, ExecResponse, LogChunk, LogsRequest, StatsRequest, StatsResponse,
};
use tonic::transport::Channel;
use tonic::{Request, Response, Status};

pub struct KubeletProxy<S> {
    registry: Registry<S>,
}

impl<S: Store> KubeletProxy<S> {
    pub fn new(registry: Registry<S>) -> Self {
        KubeletProxy { registry }
    }

    async fn node_client(&self, node: &str) -> Result<KubeletClient<Channel>, Status> {
        let obj = self.registry.get("nodes", "", node).await?;
        let n = Node::try_from_object(obj)
            .map_err(|_| Status::internal("the store returned a non-Node"))?;
        let status = n.status.unwrap_or_default();
        let ip = status
            .addresses
            .iter()
            .find(|a| a.r#type == "InternalIP")
            .map(|a| a.address.clone())
            .ok_or_else(|| Status::failed_precondition(format!("node {node} has no InternalIP")))?;
        let port = status
            .daemon_endpoints
            .and_then(|d| d.kubelet_endpoint)
            .map(|e| e.port)
            .filter(|p| *p > 0)
            .ok_or_else(|| {
                Status::failed_precondition(format!("node {node} publishes no kubelet port"))
            })?;
        let host = if ip.contains(':') {
            format!("[{ip}]")
        } else {
            ip
        };
        KubeletClient::connect(format!("http://{host}:{port}"))
            .await
            .map_err(|e| Status::unavailable(format!("kubelet of node {node}: {e}")))
    }

    async fn pod_client(
        &self,
        namespace: &str,
        pod: &str,
    ) -> Result<KubeletClient<Channel>, Status> {
        let obj = self.registry.get("pods", namespace, pod).await?;
        let p = Pod::try_from_object(obj)
            .map_err(|_| Status::internal("the store returned a non-Pod"))?;
        let node = p.spec.map(|s| s.node_name).unwrap_or_default();
        if node.is_empty() {
            return Err(Status::failed_precondition(format!(
                "pod {pod} is not scheduled to a node yet"
            )));
        }
        self.node_client(&node).await
    }
}

type LogStream = std::pin::Pin<Box<dyn futures::Stream<Item = Result<LogChunk, Status>> + Send>>;

#[tonic::async_trait]
impl<S: Store> Kubelet for KubeletProxy<S> {
    type LogsStream = LogStream;

    async fn logs(&self, request: Request<LogsRequest>) -> Result<Response<LogStream>, Status> {
        let r = request.into_inner();
        let mut c = self.pod_client(&r.namespace, &r.pod).await?;
        let s = c.logs(r).await?.into_inner();
        Ok(Response::new(s.boxed()))
    }

    async fn exec(&self, request: Request<ExecRequest>) -> Result<Response<ExecResponse>, Status> {
        let r = request.into_inner();
        let mut c = self.pod_client(&r.namespace, &r.pod).await?;
        c.exec(r).await
    }

    async fn stats(
        &self,
        request: Request<StatsRequest>,
    ) -> Result<Response<StatsResponse>, Status> {
        let r = request.into_inner();
        let mut c = if !r.node.is_empty() {
            self.node_client(&r.node).await?
        } else if !r.pod.is_empty() {
            self.pod_client(&r.namespace, &r.pod).await?
        } else {
            return Err(Status::invalid_argument(
                "stats through the apiserver need a node or a pod",
            ));
        };
        c.stats(r).await
    }
}
