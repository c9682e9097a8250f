//! The kubelet's API: its gRPC service (`proto/kubelet.proto`: container logs (follow,
//! tail, previous), exec, port-forward and CPU/memory stats, answered from the runtime by
//! the pod's labels) and, on the same port, its HTTP endpoints (metrics, healthz: [`crate::http`]).

use crate::apiauth::authn::Authenticator;
use crate::apiauth::authz::{self, ApiCall, Authorizer};
use crate::runtime::{ContainerInfo, ContainerKind, LogOptions, Runtime, labels};
use futures::StreamExt;
use std::net::SocketAddr;
use std::sync::Arc;
use telemetry::health::Health;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

/// The API's types, client and server (generated in `proto` from `protos/kubelet.proto`).
pub use proto::kubelet_api as api;

use api::kubelet_server::{Kubelet, KubeletServer};
use api::{
    ContainerStats, ExecRequest, ExecResponse, ExecStreamRequest, ExecStreamResponse, LogChunk,
    LogsRequest, PodStats, StatsRequest, StatsResponse,
};

/// Deadline of an exec call (output is also bounded: [`crate::runtime::bounded`]); the
/// apiserver's proxy waits a little longer, so this error is the one the caller sees.
pub const EXEC_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(300);

/// Who may call (secure mode): the caller's client certificate, then an authorization of
/// the node subresource the call touches.
#[derive(Clone)]
pub struct ApiSecurity {
    pub authn: Authenticator,
    pub authz: Authorizer,
}

pub struct KubeletService<R: Runtime> {
    runtime: Arc<R>,
    node: String,
    /// None: plaintext development mode, every caller allowed.
    security: Option<Arc<ApiSecurity>>,
}

impl<R: Runtime> KubeletService<R> {
    pub fn new(runtime: Arc<R>, node: &str) -> Self {
        KubeletService {
            runtime,
            node: node.to_string(),
            security: None,
        }
    }

    pub fn with_security(mut self, security: ApiSecurity) -> Self {
        self.security = Some(Arc::new(security));
        self
    }

    /// Authenticates and authorizes `call`; Ok without security.
    async fn admit<T>(&self, req: &Request<T>, call: ApiCall) -> Result<(), Status> {
        let Some(sec) = &self.security else {
            return Ok(());
        };
        let user = sec.authn.authenticate(req)?;
        sec.authz
            .authorize(&user, &authz::check_for(call, &self.node))
            .await
    }

    /// The pod's app containers, newest instance first per name.
    async fn pod_containers(&self, ns: &str, pod: &str) -> Result<Vec<ContainerInfo>, Status> {
        let mut v = self
            .runtime
            .list_containers(&[
                (labels::NODE, self.node.as_str()),
                (labels::POD_NAMESPACE, ns),
                (labels::POD_NAME, pod),
            ])
            .await
            .map_err(|e| Status::unavailable(e.to_string()))?;
        v.retain(|c| c.kind() == Some(ContainerKind::App) || c.kind() == Some(ContainerKind::Init));
        if v.is_empty() {
            return Err(Status::not_found(format!(
                "pod {ns}/{pod} has no containers on node {}",
                self.node
            )));
        }
        v.sort_by_key(|c| std::cmp::Reverse((c.restart_count(), c.created_at)));
        Ok(v)
    }

    /// The pod's running sandbox (the newest attempt): its network namespace is the pod's.
    async fn running_sandbox(&self, ns: &str, pod: &str) -> Result<ContainerInfo, Status> {
        let mut v = self
            .runtime
            .list_containers(&[
                (labels::NODE, self.node.as_str()),
                (labels::POD_NAMESPACE, ns),
                (labels::POD_NAME, pod),
            ])
            .await
            .map_err(|e| Status::unavailable(e.to_string()))?;
        v.retain(|c| c.kind() == Some(ContainerKind::Sandbox) && c.is_running());
        v.sort_by_key(|c| std::cmp::Reverse((c.sandbox_attempt(), c.created_at)));
        v.into_iter().next().ok_or_else(|| {
            Status::not_found(format!(
                "pod {ns}/{pod} is not running on node {}",
                self.node
            ))
        })
    }

    /// The instance of `container` (or the pod's only container) to read.
    async fn pick(
        &self,
        ns: &str,
        pod: &str,
        container: &str,
        previous: bool,
    ) -> Result<ContainerInfo, Status> {
        let all = self.pod_containers(ns, pod).await?;
        let mut names: Vec<String> = all
            .iter()
            .filter(|c| c.kind() == Some(ContainerKind::App))
            .map(|c| c.container_name().to_string())
            .collect();
        names.sort();
        names.dedup();
        let name = if container.is_empty() {
            match names.as_slice() {
                [one] => one.clone(),
                _ => {
                    return Err(Status::invalid_argument(format!(
                        "a container name must be specified for pod {pod}, choose one of: [{}]",
                        names.join(" ")
                    )));
                }
            }
        } else {
            container.to_string()
        };
        let instances: Vec<&ContainerInfo> =
            all.iter().filter(|c| c.container_name() == name).collect();
        if instances.is_empty() {
            // Kubernetes answers BadRequest for a container the pod does not have.
            return Err(Status::invalid_argument(format!(
                "container {name} is not valid for pod {pod}"
            )));
        }
        let picked = if previous {
            instances.get(1)
        } else {
            instances.first()
        };
        picked.map(|c| (*c).clone()).ok_or_else(|| {
            Status::not_found(format!(
                "previous terminated container \"{name}\" in pod \"{pod}\" not found"
            ))
        })
    }
}

type LogStream = std::pin::Pin<Box<dyn futures::Stream<Item = Result<LogChunk, Status>> + Send>>;
type ExecStream =
    std::pin::Pin<Box<dyn futures::Stream<Item = Result<ExecStreamResponse, Status>> + Send>>;
type PortForwardStream =
    std::pin::Pin<Box<dyn futures::Stream<Item = Result<api::PortForwardResponse, Status>> + Send>>;

/// Aborts the task when dropped: the stdin pump of an exec session ends with its output.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[tonic::async_trait]
impl<R: Runtime> Kubelet for KubeletService<R> {
    type LogsStream = LogStream;
    type ExecStreamStream = ExecStream;
    type PortForwardStream = PortForwardStream;

    async fn logs(&self, req: Request<LogsRequest>) -> Result<Response<LogStream>, Status> {
        self.admit(&req, ApiCall::Logs).await?;
        let r = req.into_inner();
        let c = self
            .pick(&r.namespace, &r.pod, &r.container, r.previous)
            .await?;
        let opts = LogOptions {
            follow: r.follow && !r.previous,
            tail: r.tail_lines.and_then(|t| u64::try_from(t).ok()),
            timestamps: r.timestamps,
            since_seconds: r.since_seconds.and_then(|s| u64::try_from(s).ok()),
        };
        let s = self
            .runtime
            .logs(&c.id, &opts)
            .await
            .map_err(|e| Status::unavailable(e.to_string()))?;
        Ok(Response::new(
            s.map(|item| {
                item.map(|b| LogChunk { data: b.to_vec() })
                    .map_err(|e| Status::unavailable(e.to_string()))
            })
            .boxed(),
        ))
    }

    async fn exec(&self, req: Request<ExecRequest>) -> Result<Response<ExecResponse>, Status> {
        self.admit(&req, ApiCall::Exec).await?;
        let r = req.into_inner();
        if r.command.is_empty() {
            return Err(Status::invalid_argument("a command is required"));
        }
        let c = self.pick(&r.namespace, &r.pod, &r.container, false).await?;
        if !c.is_running() {
            return Err(Status::failed_precondition(format!(
                "container {} is not running",
                c.container_name()
            )));
        }
        let out = tokio::time::timeout(EXEC_TIMEOUT, self.runtime.exec(&c.id, &r.command))
            .await
            .map_err(|_| {
                Status::deadline_exceeded(format!(
                    "exec in {}: no result within {EXEC_TIMEOUT:?} (the command may still run in the container)",
                    c.container_name()
                ))
            })?
            .map_err(|e| Status::unavailable(e.to_string()))?;
        if out.truncated {
            tracing::info!(pod = %format!("{}/{}", r.namespace, r.pod), container = %c.container_name(), "exec output truncated");
        }
        Ok(Response::new(ExecResponse {
            exit_code: i32::try_from(out.exit_code).unwrap_or(-1),
            output: out.output,
            truncated: out.truncated,
        }))
    }

    async fn exec_stream(
        &self,
        req: Request<tonic::Streaming<ExecStreamRequest>>,
    ) -> Result<Response<ExecStream>, Status> {
        self.admit(&req, ApiCall::Exec).await?;
        let mut incoming = req.into_inner();
        let open = crate::exec_stream::first(incoming.message().await?)?;
        let spec = crate::exec_stream::spec_of(&open)?;
        let c = self
            .pick(&open.namespace, &open.pod, &open.container, false)
            .await?;
        if !c.is_running() {
            return Err(Status::failed_precondition(format!(
                "container {} is not running",
                c.container_name()
            )));
        }
        let (tx, rx) = tokio::sync::mpsc::channel(16);
        let pump = tokio::spawn(async move {
            // The caller's end of the stream (or its going away) closes stdin.
            while let Ok(Some(m)) = incoming.message().await {
                if let Some(input) = crate::exec_stream::input_of(m)
                    && tx.send(input).await.is_err()
                {
                    return;
                }
            }
            let _ = tx
                .send(crate::runtime::stream::StreamInput::StdinClose)
                .await;
        });
        let guard = AbortOnDrop(pump);
        let outputs = self
            .runtime
            .exec_stream(&c.id, &spec, rx)
            .await
            .map_err(|e| match e {
                crate::Error::NotFound(_) => Status::not_found(e.to_string()),
                e => Status::unavailable(e.to_string()),
            })?;
        tracing::debug!(pod = %format!("{}/{}", open.namespace, open.pod), container = %c.container_name(), attach = open.attach, "exec stream started");
        let responses = outputs
            .map(crate::exec_stream::response_of)
            // Nothing follows the exit (or a failure, which is sent as one).
            .scan(false, |done, r| {
                let out = (!*done).then(|| {
                    *done = crate::exec_stream::is_last(&r);
                    r
                });
                futures::future::ready(out)
            })
            .map(move |r| {
                let _ = &guard;
                Ok(r)
            });
        Ok(Response::new(responses.boxed()))
    }

    async fn port_forward(
        &self,
        req: Request<tonic::Streaming<api::PortForwardRequest>>,
    ) -> Result<Response<PortForwardStream>, Status> {
        self.admit(&req, ApiCall::PortForward).await?;
        let mut incoming = req.into_inner();
        let (open, port) = crate::port_forward::first(incoming.message().await?)?;
        let (ns, pod) = (&open.namespace, &open.pod);
        let sandbox = self.running_sandbox(ns, pod).await?;
        let conn = self
            .runtime
            .port_forward(&sandbox.id, port)
            .await
            .map_err(|e| {
                // Kubernetes' kubelet wording, with the runtime's reason.
                let reason = match e {
                    crate::Error::Network(m) | crate::Error::Runtime(m) => m,
                    e => e.to_string(),
                };
                Status::unavailable(format!(
                    "error forwarding port {port} to pod {ns}/{pod}: {reason}"
                ))
            })?;
        tracing::debug!(pod = %format!("{ns}/{pod}"), port, "port-forward connection made");
        Ok(Response::new(
            crate::port_forward::pump(conn, incoming).boxed(),
        ))
    }

    async fn stats(&self, req: Request<StatsRequest>) -> Result<Response<StatsResponse>, Status> {
        self.admit(&req, ApiCall::Stats).await?;
        let r = req.into_inner();
        let mut filter = Vec::new();
        if !r.namespace.is_empty() {
            filter.push((labels::POD_NAMESPACE, r.namespace.as_str()));
        }
        if !r.pod.is_empty() {
            filter.push((labels::POD_NAME, r.pod.as_str()));
        }
        let readings = crate::stats::collect(self.runtime.as_ref(), &self.node, &filter)
            .await
            .map_err(|e| Status::unavailable(e.to_string()))?;
        let mut pods: std::collections::BTreeMap<String, PodStats> = Default::default();
        let mut out = StatsResponse::default();
        for crate::stats::Reading { info: c, stats: st } in readings.readings {
            let p = pods
                .entry(c.pod_uid().to_string())
                .or_insert_with(|| PodStats {
                    namespace: c.label(labels::POD_NAMESPACE).to_string(),
                    name: c.label(labels::POD_NAME).to_string(),
                    uid: c.pod_uid().to_string(),
                    ..Default::default()
                });
            p.cpu_millicores += st.cpu_millicores;
            p.memory_bytes += st.memory_bytes;
            out.node_cpu_millicores += st.cpu_millicores;
            out.node_memory_bytes += st.memory_bytes;
            p.containers.push(ContainerStats {
                name: c.container_name().to_string(),
                cpu_millicores: st.cpu_millicores,
                memory_bytes: st.memory_bytes,
                cpu_usage_ns: st.cpu_usage_ns,
            });
        }
        out.pods = pods.into_values().collect();
        Ok(Response::new(out))
    }
}

/// Binds the kubelet API's address (port 0 picks one); the bound address is what the Node
/// reports in status.daemonEndpoints.
pub async fn bind(addr: SocketAddr) -> crate::Result<(tokio::net::TcpListener, SocketAddr)> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| crate::Error::io(format!("binding the kubelet API on {addr}"), e))?;
    let bound = listener
        .local_addr()
        .map_err(|e| crate::Error::io("kubelet API address", e))?;
    Ok((listener, bound))
}

/// Binds `addr` and serves plaintext, without authentication, until `cancel` (development
/// mode and in-process tests); returns the bound address.
pub async fn serve<R: Runtime>(
    runtime: Arc<R>,
    node: &str,
    addr: SocketAddr,
    cancel: CancellationToken,
) -> crate::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let (listener, bound) = bind(addr).await?;
    Ok((
        bound,
        serve_plaintext(runtime, node, listener, Health::new(), cancel),
    ))
}

/// Where the plaintext kubelet API (no kubeconfig, no bootstrap token: development) may
/// listen. It has neither TLS nor authentication, so whoever reaches it may exec into every
/// container: loopback only. The default `--address` (unspecified) becomes loopback; a
/// specific other address is refused.
pub fn plaintext_api_address(address: std::net::IpAddr) -> crate::Result<std::net::IpAddr> {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
    if address.is_loopback() {
        return Ok(address);
    }
    if address.is_unspecified() {
        let loopback = match address {
            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
        };
        tracing::warn!(
            %loopback,
            "no kubeconfig and no bootstrap token: the kubelet API is plaintext and unauthenticated (development only), so it listens on loopback only"
        );
        return Ok(loopback);
    }
    Err(crate::Error::Config(format!(
        "--address {address}: without a kubeconfig or a bootstrap token the kubelet API has no TLS and no authentication, so it serves only on loopback (give --kubeconfig, or --bootstrap-token with --ca-cert-hash)"
    )))
}

/// The kubelet API's routes on one port: the gRPC service by its path, the HTTP
/// endpoints ([`crate::http`]) beside it, 404 for anything else.
pub fn routes<R: Runtime>(
    runtime: Arc<R>,
    node: &str,
    security: Option<ApiSecurity>,
    health: Health,
) -> tonic::service::Routes {
    let security = security.map(Arc::new);
    let grpc = KubeletServer::new(KubeletService {
        runtime: runtime.clone(),
        node: node.to_string(),
        security: security.clone(),
    });
    let http = crate::http::router(Arc::new(crate::http::HttpApi {
        runtime,
        node: node.to_string(),
        security,
        health,
    }));
    let router = tonic::service::Routes::new(grpc)
        .into_axum_router()
        .merge(http)
        .fallback(crate::http::not_found)
        .layer(axum::middleware::from_fn(traced));
    tonic::service::Routes::from(router)
}

/// Every request, gRPC or HTTP, in a span whose parent is the caller's W3C `traceparent`
/// (the apiserver's proxied logs/exec/stats, a scraper), when the kubelet exports traces;
/// otherwise passed on untouched.
async fn traced(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    if !telemetry::trace::exporting() {
        return next.run(request).await;
    }
    let path = request.uri().path().to_string();
    let grpc = request
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/grpc"));
    // OpenTelemetry's names: `package.Service/Method` for gRPC, `METHOD path` for HTTP.
    let name = if grpc {
        path.trim_start_matches('/').to_string()
    } else {
        format!("{} {path}", request.method())
    };
    let span =
        tracing::info_span!("request", otel.name = %name, otel.kind = "server", path = %path);
    telemetry::trace::set_parent_from_headers(&span, request.headers());
    tracing::Instrument::instrument(next.run(request), span).await
}

/// The server both protocols are answered by (HTTP/1.1 for scrapers, HTTP/2 for gRPC).
fn server() -> tonic::transport::Server {
    tonic::transport::Server::builder().accept_http1(true)
}

/// Serves plaintext on `listener` until `cancel`.
pub fn serve_plaintext<R: Runtime>(
    runtime: Arc<R>,
    node: &str,
    listener: tokio::net::TcpListener,
    health: Health,
    cancel: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    let bound = listener.local_addr().ok();
    let routes = routes(runtime, node, None, health);
    let incoming = tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true));
    let task = tokio::spawn(async move {
        let r = server()
            .add_routes(routes)
            .serve_with_incoming_shutdown(incoming, cancel.cancelled_owned())
            .await;
        if let Err(e) = r {
            tracing::error!(error = %e, "kubelet API server failed");
        }
    });
    tracing::info!(bound = ?bound, "kubelet API serving (plaintext, no authentication)");
    task
}

/// Serves TLS on `listener` with `serving` (replaceable: rotation), every call
/// authenticated and authorized by `security`, until `cancel`.
pub fn serve_tls<R: Runtime>(
    runtime: Arc<R>,
    node: &str,
    listener: tokio::net::TcpListener,
    serving: pki::tls::ServingCert,
    security: ApiSecurity,
    health: Health,
    cancel: CancellationToken,
) -> crate::Result<tokio::task::JoinHandle<()>> {
    let bound = listener.local_addr().ok();
    let config = pki::tls::server_config(serving, &[b"h2", b"http/1.1"])
        .map_err(|e| crate::Error::Certificate(format!("kubelet API TLS: {e}")))?;
    let routes = routes(runtime, node, Some(security), health);
    let incoming = pki::tls::incoming(listener, config);
    let task = tokio::spawn(async move {
        let r = server()
            .add_routes(routes)
            .serve_with_incoming_shutdown(incoming, cancel.cancelled_owned())
            .await;
        if let Err(e) = r {
            tracing::error!(error = %e, "kubelet API server failed");
        }
    });
    tracing::info!(bound = ?bound, "kubelet API serving (TLS, client certificates)");
    Ok(task)
}

#[cfg(test)]
mod tests {
    use super::plaintext_api_address;

    #[test]
    fn the_plaintext_api_listens_on_loopback_only() {
        let ip = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
        assert_eq!(
            plaintext_api_address(ip("127.0.0.1")).unwrap(),
            ip("127.0.0.1")
        );
        assert_eq!(
            plaintext_api_address(ip("0.0.0.0")).unwrap(),
            ip("127.0.0.1")
        );
        assert_eq!(plaintext_api_address(ip("::")).unwrap(), ip("::1"));
        let refused = plaintext_api_address(ip("192.0.2.10"))
            .unwrap_err()
            .to_string();
        assert!(
            refused.contains("--address 192.0.2.10") && refused.contains("serves only on loopback"),
            "{refused}"
        );
    }
}
