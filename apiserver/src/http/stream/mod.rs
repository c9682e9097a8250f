//! Pod logs, exec, attach and port-forward over HTTP: logs stream as `text/plain`; exec
//! and attach upgrade to WebSocket with Kubernetes' channel protocols (`v5.channel.k8s.io`,
//! `v4.channel.k8s.io`, their base64 forms), or to SPDY/3.1 with `v4.channel.k8s.io`
//! (kubectl 1.29 and older, and newer ones' fallback), bridged to the kubelet's
//! `ExecStream`. Everything goes through the kubelet proxy, which authorizes as Kubernetes
//! does (`get pods/log`, `create pods/exec`, `create pods/attach`).
//!
//! Not served: port-forward (SPDY streams of its own, in 1.31+ tunnelled in a WebSocket):
//! such requests get a Status saying so.

pub(crate) mod channel;
pub(crate) mod exec;
pub(crate) mod log;
pub(crate) mod spdy;

use crate::http::{Body, HttpApi, HttpResponse, api_error_response};
use crate::store::Store;
use proto::ApiError;

pub(crate) async fn pod_log<S: Store>(
    http: &HttpApi<S>,
    parts: &::http::request::Parts,
    namespace: &str,
    name: &str,
) -> HttpResponse {
    log::serve(http, parts, namespace, name).await
}

pub(crate) async fn pod_exec<S: Store>(
    http: &HttpApi<S>,
    request: ::http::Request<Body>,
    namespace: &str,
    name: &str,
    attach: bool,
) -> HttpResponse {
    exec::serve(http, request, namespace, name, attach).await
}

/// Resolves when the apiserver begins to shut down (or its shutdown signal is gone): long
/// streams (followed logs, exec sessions) end then instead of holding the process.
pub(crate) async fn shutting_down(mut shutdown: tokio::sync::watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

/// The refusal port-forward clients get.
pub const PORT_FORWARD_REFUSED: &str = "port-forward is not supported by this server: it needs SPDY/3.1 framing (also inside a WebSocket, SPDY/3.1+portforward.k8s.io), which is not implemented";

pub(crate) async fn pod_port_forward<S: Store>(
    http: &HttpApi<S>,
    request: ::http::Request<Body>,
    namespace: &str,
    name: &str,
) -> HttpResponse {
    // Checked first as Kubernetes would (authorized, the pod exists and has a node), so
    // the refusal tells nothing to those who may not port-forward anyway.
    let (parts, _) = request.into_parts();
    let attrs = crate::auth::Attributes::resource("create", "", "pods", namespace, name)
        .with_subresource("portforward");
    let caller = crate::http::grpc(&parts, ());
    let check = http.kubelet.check_pod_target(&caller, &attrs, "");
    if let Err(s) = check.await {
        return crate::http::status_response(&s);
    }
    api_error_response(&ApiError::bad_request(PORT_FORWARD_REFUSED))
}
