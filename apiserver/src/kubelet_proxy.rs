//! The kubelet API (`proto::kubelet_api`) served by the apiserver as a proxy: a call naming a
//! pod goes to the kubelet of the pod's node, found through the Node's InternalIP and
//! `status.daemonEndpoints.kubeletEndpoint.Port`, so clients (ctl logs/exec/top) need only
//! the apiserver's address.
//!
//! The target comes from a Node object, which node owners write: the proxy dials only the
//! registered InternalIP on the published kubelet port, refuses loopback, unspecified,
//! multicast and broadcast addresses (which would turn the apiserver into a way to reach
//! its own host's services) unless `--kubelet-allow-loopback` says the nodes really are on
//! this host (tests), and bounds the connection (`--kubelet-timeout`) and every call.
//!
//! Every call is authorized first, as Kubernetes maps these subresources: exec is
//! `create pods/exec` (an interactive attach `create pods/attach`), logs `get pods/log`,
//! port-forward `create pods/portforward`, stats of a node `get nodes/stats` (of a pod:
//! `get pods`). With a cluster PKI the kubelet is dialed over TLS: its serving certificate
//! checked against the kubelet CA, the apiserver presenting its kubelet-client certificate.

use crate::auth::context::user_of;
use crate::auth::{Attributes, Authorizer, Decision};
use crate::registry::Registry;
use crate::store::Store;
use futures::StreamExt;
use proto::Resource;
use proto::k8s::{Node, Pod};
use proto::kubelet_api::kubelet_client::KubeletClient;
use proto::kubelet_api::kubelet_server::Kubelet;
use proto::kubelet_api::{
    ExecRequest, ExecResponse, ExecStreamOpen, ExecStreamRequest, ExecStreamResponse, LogChunk,
    LogsRequest, PortForwardOpen, PortForwardRequest, StatsRequest, StatsResponse,
    exec_stream_request, port_forward_request,
};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tonic::transport::{Channel, Endpoint};
use tonic::{Request, Response, Status};

/// Deadline of an exec call through the proxy (the kubelet bounds the command's output and
/// idle time itself; this bounds what the apiserver holds for it).
pub const EXEC_DEADLINE: Duration = Duration::from_secs(600);

#[derive(Debug, Clone)]
pub struct ProxyOptions {
    /// Connecting to the kubelet, and the whole of a stats call.
    pub timeout: Duration,
    /// Dial loopback (and unspecified) node addresses: nodes on the apiserver's own host.
    pub allow_loopback: bool,
    /// TLS towards kubelets (trust and client certificate); `None`: plaintext (tests).
    pub tls: Option<pki::tls::Connector>,
}

impl Default for ProxyOptions {
    fn default() -> Self {
        ProxyOptions {
            timeout: Duration::from_secs(5),
            allow_loopback: false,
            tls: None,
        }
    }
}

/// What a kubelet API call asks to do, in Kubernetes' terms.
pub fn exec_attributes(r: &ExecRequest) -> Attributes {
    Attributes::resource("create", "", "pods", &r.namespace, &r.pod).with_subresource("exec")
}

/// An interactive session: `create pods/attach` for an attach, else `create pods/exec`.
pub fn exec_stream_attributes(open: &ExecStreamOpen) -> Attributes {
    let sub = if open.attach { "attach" } else { "exec" };
    Attributes::resource("create", "", "pods", &open.namespace, &open.pod).with_subresource(sub)
}

/// How long the kubelet may take to start an interactive session (the session itself runs
/// as long as both ends want).
pub const EXEC_START_DEADLINE: Duration = Duration::from_secs(30);

/// An exec/attach session's output as the kubelet sends it: stdout and stderr chunks, then
/// `exit`.
pub type ExecOutputStream =
    std::pin::Pin<Box<dyn futures::Stream<Item = Result<ExecStreamResponse, Status>> + Send>>;

/// A forwarded connection: `create pods/portforward`, as Kubernetes authorizes it.
pub fn port_forward_attributes(open: &PortForwardOpen) -> Attributes {
    Attributes::resource("create", "", "pods", &open.namespace, &open.pod)
        .with_subresource("portforward")
}

pub fn logs_attributes(r: &LogsRequest) -> Attributes {
    Attributes::resource("get", "", "pods", &r.namespace, &r.pod).with_subresource("log")
}

pub fn stats_attributes(r: &StatsRequest) -> Attributes {
    if r.node.is_empty() {
        Attributes::resource("get", "", "pods", &r.namespace, &r.pod)
    } else {
        Attributes::resource("get", "", "nodes", "", &r.node).with_subresource("stats")
    }
}

/// Where to dial for a node with these addresses and published port, or why not.
pub fn dial_target(
    node: &str,
    addresses: &[proto::k8s::NodeAddress],
    port: i32,
    allow_loopback: bool,
) -> Result<SocketAddr, String> {
    let ip = addresses
        .iter()
        .find(|a| a.r#type == "InternalIP")
        .map(|a| a.address.as_str())
        .ok_or_else(|| format!("node {node} has no InternalIP"))?;
    let ip: IpAddr = ip
        .parse()
        .map_err(|_| format!("node {node}: InternalIP {ip:?} is not an IP address"))?;
    let port = u16::try_from(port)
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| format!("node {node} publishes no kubelet port"))?;
    let local = ip.is_loopback() || ip.is_unspecified();
    let never = ip.is_multicast() || matches!(ip, IpAddr::V4(v4) if v4.is_broadcast());
    if never || (local && !allow_loopback) {
        return Err(format!(
            "node {node}: refusing to dial its InternalIP {ip}: not a node address (loopback, unspecified, multicast or broadcast; --kubelet-allow-loopback allows loopback)"
        ));
    }
    Ok(SocketAddr::new(ip, port))
}

pub struct KubeletProxy<S> {
    registry: Registry<S>,
    options: ProxyOptions,
    authorizer: Arc<dyn Authorizer>,
}

impl<S: Store> KubeletProxy<S> {
    /// Every caller allowed until [`with_authorizer`](Self::with_authorizer).
    pub fn new(registry: Registry<S>, options: ProxyOptions) -> Self {
        KubeletProxy {
            registry,
            options,
            authorizer: Arc::new(crate::auth::authz::AlwaysAllow),
        }
    }

    pub fn with_authorizer(mut self, authorizer: Arc<dyn Authorizer>) -> Self {
        self.authorizer = authorizer;
        self
    }

    async fn authorize<T>(
        &self,
        request: &Request<T>,
        attributes: &Attributes,
    ) -> Result<(), Status> {
        if let Some(slot) = crate::metrics::Slot::current() {
            slot.set(|| crate::metrics::request::from_attributes(attributes, false, false));
        }
        let user = user_of(request);
        match self.authorizer.authorize(&user, attributes).await {
            Decision::Allow => Ok(()),
            Decision::Deny(reason) | Decision::NoOpinion(reason) => {
                tracing::debug!(user = %user.name, ?attributes, "kubelet API call refused");
                Err(proto::ApiError::new(
                    proto::Reason::Forbidden,
                    crate::auth::authz::forbidden_message(&user, attributes, &reason),
                )
                .into())
            }
        }
    }

    async fn node_client(&self, node: &str) -> Result<KubeletClient<Channel>, Status> {
        self.node_channel(node).await.map(KubeletClient::new)
    }

    /// A connection to the kubelet of `node` (TLS with the kubelet-client certificate when
    /// the cluster has a PKI); also a tower Service of plain HTTP/2 requests, as the
    /// metrics API's scraper uses it for `/metrics/resource`.
    pub async fn node_channel(&self, node: &str) -> Result<Channel, Status> {
        let obj = self.registry.get("nodes", "", node).await?;
        let n = Node::try_from_object(obj)
            .map_err(|_| Status::internal("the store returned a non-Node"))?;
        let status = n.status.unwrap_or_default();
        let port = status
            .daemon_endpoints
            .and_then(|d| d.kubelet_endpoint)
            .map(|e| e.port)
            .unwrap_or(0);
        let target = dial_target(node, &status.addresses, port, self.options.allow_loopback)
            .map_err(Status::failed_precondition)?;
        let endpoint = Endpoint::from_shared(format!("http://{target}"))
            .map_err(|e| Status::internal(format!("kubelet address {target}: {e}")))?
            .connect_timeout(self.options.timeout);
        tracing::debug!(node, %target, tls = self.options.tls.is_some(), "dialing the kubelet");
        let connect = async {
            match &self.options.tls {
                // The URI stays http: the connector does TLS beneath it.
                Some(tls) => endpoint.connect_with_connector(tls.clone()).await,
                None => endpoint.connect().await,
            }
        };
        match tokio::time::timeout(self.options.timeout, connect).await {
            Ok(Ok(ch)) => Ok(ch),
            Ok(Err(e)) => Err(Status::unavailable(format!(
                "kubelet of node {node} at {target}: {e}"
            ))),
            Err(_) => Err(Status::deadline_exceeded(format!(
                "kubelet of node {node} at {target}: no connection within {:?}",
                self.options.timeout
            ))),
        }
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

impl<S: Store> KubeletProxy<S> {
    /// What Kubernetes checks before it streams to a pod's kubelet, without streaming:
    /// `caller` may do `attributes`, the pod exists and has a node, and `container` (when
    /// not empty) is one of its containers. Errors as Kubernetes words them.
    pub async fn check_pod_target<T>(
        &self,
        caller: &Request<T>,
        attributes: &Attributes,
        container: &str,
    ) -> Result<(), Status> {
        self.authorize(caller, attributes).await?;
        let (namespace, pod) = (&attributes.namespace, &attributes.name);
        let obj = self.registry.get("pods", namespace, pod).await?;
        let p = Pod::try_from_object(obj)
            .map_err(|_| Status::internal("the store returned a non-Pod"))?;
        let spec = p.spec.unwrap_or_default();
        let known = spec
            .containers
            .iter()
            .chain(&spec.init_containers)
            .any(|c| c.name == container);
        if !container.is_empty() && !known {
            return Err(proto::ApiError::bad_request(format!(
                "container {container} is not valid for pod {pod}"
            ))
            .into());
        }
        if spec.node_name.is_empty() {
            return Err(proto::ApiError::bad_request(format!(
                "pod {pod} does not have a host assigned"
            ))
            .into());
        }
        Ok(())
    }

    /// Authorizes `caller` (its extensions carry the user) and opens an exec or attach
    /// session on the pod's kubelet; `input` carries what follows `open` (stdin, its close,
    /// resizes). Errors before the session starts (refused, no pod, no node, no such
    /// container) are the result's; later ones arrive as the stream's `exit`.
    pub async fn open_exec_stream<T>(
        &self,
        caller: &Request<T>,
        open: ExecStreamOpen,
        input: impl futures::Stream<Item = ExecStreamRequest> + Send + 'static,
    ) -> Result<ExecOutputStream, Status> {
        self.authorize(caller, &exec_stream_attributes(&open))
            .await?;
        let mut c = self.pod_client(&open.namespace, &open.pod).await?;
        let first = ExecStreamRequest {
            kind: Some(exec_stream_request::Kind::Open(open)),
        };
        let requests = futures::stream::once(futures::future::ready(first)).chain(input);
        let s = deadline(
            self.options.timeout.max(EXEC_START_DEADLINE),
            "exec",
            c.exec_stream(requests),
        )
        .await?
        .into_inner();
        Ok(s.boxed())
    }
}

/// The next message of a client stream; its end or an error ends it.
async fn next_message<T>(mut s: tonic::Streaming<T>) -> Option<(T, tonic::Streaming<T>)> {
    match s.message().await {
        Ok(Some(m)) => Some((m, s)),
        _ => None,
    }
}

/// A unary call to the kubelet that must answer within `d`.
async fn deadline<T>(
    d: Duration,
    what: &str,
    call: impl std::future::Future<Output = Result<Response<T>, Status>>,
) -> Result<Response<T>, Status> {
    tokio::time::timeout(d, call).await.unwrap_or_else(|_| {
        Err(Status::deadline_exceeded(format!(
            "the kubelet did not answer {what} within {d:?}"
        )))
    })
}

/// A call to a kubelet carrying the request's trace context (`traceparent`), so the
/// kubelet's span joins the caller's trace (when the apiserver exports traces).
fn traced<T>(message: T) -> Request<T> {
    let mut request = Request::new(message);
    telemetry::trace::inject(request.metadata_mut().as_mut());
    request
}

type LogStream = std::pin::Pin<Box<dyn futures::Stream<Item = Result<LogChunk, Status>> + Send>>;

/// A forwarded connection's data from the pod, as the kubelet sends it.
pub type PortForwardStream = std::pin::Pin<
    Box<dyn futures::Stream<Item = Result<proto::kubelet_api::PortForwardResponse, Status>> + Send>,
>;

#[tonic::async_trait]
impl<S: Store> Kubelet for KubeletProxy<S> {
    type LogsStream = LogStream;
    type ExecStreamStream = ExecOutputStream;
    type PortForwardStream = PortForwardStream;

    async fn logs(&self, request: Request<LogsRequest>) -> Result<Response<LogStream>, Status> {
        self.authorize(&request, &logs_attributes(request.get_ref()))
            .await?;
        let r = request.into_inner();
        let mut c = self.pod_client(&r.namespace, &r.pod).await?;
        // The stream may follow for long; its start is bounded.
        let s = deadline(self.options.timeout, "logs", c.logs(traced(r)))
            .await?
            .into_inner();
        Ok(Response::new(s.boxed()))
    }

    async fn exec(&self, request: Request<ExecRequest>) -> Result<Response<ExecResponse>, Status> {
        self.authorize(&request, &exec_attributes(request.get_ref()))
            .await?;
        let r = request.into_inner();
        let mut c = self.pod_client(&r.namespace, &r.pod).await?;
        deadline(EXEC_DEADLINE, "exec", c.exec(traced(r))).await
    }

    async fn exec_stream(
        &self,
        request: Request<tonic::Streaming<ExecStreamRequest>>,
    ) -> Result<Response<ExecOutputStream>, Status> {
        let (meta, extensions, mut incoming) = request.into_parts();
        let open = match incoming.message().await?.and_then(|m| m.kind) {
            Some(exec_stream_request::Kind::Open(open)) => open,
            _ => {
                return Err(Status::invalid_argument(
                    "the first message of an exec stream must be `open`",
                ));
            }
        };
        let caller = Request::from_parts(meta, extensions, ());
        let input = futures::stream::unfold(incoming, next_message);
        let out = self.open_exec_stream(&caller, open, input).await?;
        Ok(Response::new(out))
    }

    async fn port_forward(
        &self,
        request: Request<tonic::Streaming<PortForwardRequest>>,
    ) -> Result<Response<PortForwardStream>, Status> {
        let (meta, extensions, mut incoming) = request.into_parts();
        let open = match incoming.message().await?.and_then(|m| m.kind) {
            Some(port_forward_request::Kind::Open(open)) => open,
            _ => {
                return Err(Status::invalid_argument(
                    "the first message of a port-forward stream must be `open`",
                ));
            }
        };
        let caller = Request::from_parts(meta, extensions, ());
        self.authorize(&caller, &port_forward_attributes(&open))
            .await?;
        let mut c = self.pod_client(&open.namespace, &open.pod).await?;
        let first = PortForwardRequest {
            kind: Some(port_forward_request::Kind::Open(open)),
        };
        // The caller's end (or its going away) ends what the kubelet reads: a half-close.
        let rest = futures::stream::unfold(incoming, next_message);
        let requests = futures::stream::once(futures::future::ready(first)).chain(rest);
        let s = deadline(
            self.options.timeout.max(EXEC_START_DEADLINE),
            "port-forward",
            c.port_forward(traced(requests)),
        )
        .await?
        .into_inner();
        Ok(Response::new(s.boxed()))
    }

    async fn stats(
        &self,
        request: Request<StatsRequest>,
    ) -> Result<Response<StatsResponse>, Status> {
        self.authorize(&request, &stats_attributes(request.get_ref()))
            .await?;
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
        deadline(self.options.timeout, "stats", c.stats(traced(r))).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::k8s::NodeAddress;

    #[test]
    fn kubelet_calls_map_to_kubernetes_attributes() {
        let exec = exec_attributes(&ExecRequest {
            namespace: "ns".into(),
            pod: "p".into(),
            ..Default::default()
        });
        assert_eq!(
            (
                exec.verb.as_str(),
                exec.resource.as_str(),
                exec.subresource.as_str()
            ),
            ("create", "pods", "exec")
        );
        assert_eq!((exec.namespace.as_str(), exec.name.as_str()), ("ns", "p"));
        let attach = exec_stream_attributes(&ExecStreamOpen {
            namespace: "ns".into(),
            pod: "p".into(),
            attach: true,
            ..Default::default()
        });
        assert_eq!(
            (
                attach.verb.as_str(),
                attach.subresource.as_str(),
                attach.name.as_str()
            ),
            ("create", "attach", "p")
        );
        let exec = exec_stream_attributes(&ExecStreamOpen {
            namespace: "ns".into(),
            pod: "p".into(),
            command: vec!["sh".into()],
            ..Default::default()
        });
        assert_eq!(
            (exec.verb.as_str(), exec.subresource.as_str()),
            ("create", "exec")
        );
        let pf = port_forward_attributes(&PortForwardOpen {
            namespace: "ns".into(),
            pod: "p".into(),
            port: 80,
        });
        assert_eq!(
            (
                pf.verb.as_str(),
                pf.resource.as_str(),
                pf.subresource.as_str(),
                pf.namespace.as_str(),
                pf.name.as_str()
            ),
            ("create", "pods", "portforward", "ns", "p")
        );
        let logs = logs_attributes(&LogsRequest {
            namespace: "ns".into(),
            pod: "p".into(),
            ..Default::default()
        });
        assert_eq!(
            (logs.verb.as_str(), logs.subresource.as_str()),
            ("get", "log")
        );
        let node = stats_attributes(&StatsRequest {
            node: "n1".into(),
            ..Default::default()
        });
        assert_eq!(
            (
                node.resource.as_str(),
                node.subresource.as_str(),
                node.name.as_str(),
                node.namespace.as_str()
            ),
            ("nodes", "stats", "n1", "")
        );
        let pod = stats_attributes(&StatsRequest {
            namespace: "ns".into(),
            pod: "p".into(),
            ..Default::default()
        });
        assert_eq!(
            (
                pod.verb.as_str(),
                pod.resource.as_str(),
                pod.subresource.as_str()
            ),
            ("get", "pods", "")
        );
    }

    fn addrs(list: &[(&str, &str)]) -> Vec<NodeAddress> {
        list.iter()
            .map(|(t, a)| NodeAddress {
                r#type: t.to_string(),
                address: a.to_string(),
            })
            .collect()
    }

    #[test]
    fn only_a_unicast_internal_ip_on_the_published_port() {
        let ok = |a: &[(&str, &str)], port, lo| dial_target("n", &addrs(a), port, lo);
        assert_eq!(
            ok(
                &[("Hostname", "h"), ("InternalIP", "10.0.0.5")],
                10250,
                false
            ),
            Ok("10.0.0.5:10250".parse().unwrap())
        );
        assert_eq!(
            ok(&[("InternalIP", "fd00::5")], 10250, false),
            Ok("[fd00::5]:10250".parse().unwrap())
        );
        let refused = [
            (
                vec![("ExternalIP", "10.0.0.5")],
                10250,
                false,
                "no InternalIP",
            ),
            (
                vec![("InternalIP", "kubelet.example")],
                10250,
                false,
                "not an IP",
            ),
            (
                vec![("InternalIP", "10.0.0.5")],
                0,
                false,
                "no kubelet port",
            ),
            (
                vec![("InternalIP", "10.0.0.5")],
                70000,
                false,
                "no kubelet port",
            ),
            (vec![("InternalIP", "127.0.0.1")], 10250, false, "refusing"),
            (vec![("InternalIP", "::1")], 10250, false, "refusing"),
            (vec![("InternalIP", "0.0.0.0")], 10250, false, "refusing"),
            (vec![("InternalIP", "224.0.0.1")], 10250, true, "refusing"),
            (
                vec![("InternalIP", "255.255.255.255")],
                10250,
                true,
                "refusing",
            ),
        ];
        for (a, port, lo, words) in refused {
            let e = ok(&a, port, lo).unwrap_err();
            assert!(e.contains(words), "{a:?}: {e}");
        }
        assert_eq!(
            ok(&[("InternalIP", "127.0.0.1")], 10250, true),
            Ok("127.0.0.1:10250".parse().unwrap())
        );
    }
}
