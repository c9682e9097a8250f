//! The kubelet API's HTTP endpoints, served beside its gRPC service on the same port
//! (HTTP/1.1 and HTTP/2): `/metrics` (the process's registry: `kubelet_*`, process and
//! client metrics), `/metrics/cadvisor` and `/metrics/resource` (the node's containers,
//! read from the runtime at scrape time) and `/healthz`. In secure mode every request is
//! authenticated by its client certificate and authorized as Kubernetes' kubelet does
//! (`/metrics*` -> `get nodes/metrics`, `/healthz` -> `nodes/healthz` or `nodes/proxy`);
//! without security (plaintext development mode) every caller is let in.
//!
//! `/healthz` is also served without authentication on `--healthz-bind-address`:
//! `--healthz-port` ([`serve_healthz`]).

use crate::apiauth::authz;
use crate::metrics::{self, cadvisor, resource, text};
use crate::runtime::{Runtime, labels};
use crate::server::ApiSecurity;
use crate::stats::{self, Readings};
use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Response, StatusCode, Uri, header};
use axum::middleware::{self as mw, Next};
use axum::routing::get;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::SystemTime;
use telemetry::health::Health;
use tokio_util::sync::CancellationToken;

/// What the handlers read.
pub struct HttpApi<R: Runtime> {
    pub runtime: Arc<R>,
    pub node: String,
    /// None: plaintext development mode, every caller allowed.
    pub security: Option<Arc<ApiSecurity>>,
    pub health: Health,
}

/// Go's `http.Error` and Kubernetes' healthz handlers answer in this type.
const TEXT_PLAIN: &str = "text/plain; charset=utf-8";

/// The HTTP routes, each request admitted first (the caller adds a 404 fallback for every
/// other path).
pub fn router<R: Runtime>(api: Arc<HttpApi<R>>) -> Router {
    Router::new()
        .route("/metrics", get(metrics_handler::<R>))
        .route("/metrics/cadvisor", get(cadvisor_handler::<R>))
        .route("/metrics/resource", get(resource_handler::<R>))
        .route("/healthz", get(health_handler::<R>))
        .route("/healthz/{check}", get(health_handler::<R>))
        .route_layer(mw::from_fn_with_state(api.clone(), admit::<R>))
        .with_state(api)
}

/// Go's `http.NotFound`.
pub async fn not_found() -> Response<Body> {
    text_response(
        StatusCode::NOT_FOUND,
        TEXT_PLAIN,
        "404 page not found\n".into(),
    )
}

fn text_response(code: StatusCode, content_type: &str, body: String) -> Response<Body> {
    Response::builder()
        .status(code)
        .header(header::CONTENT_TYPE, content_type)
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .body(Body::from(body))
        .unwrap_or_default()
}

/// The HTTP answer to a refusal, with the kubelet's text.
fn refusal(status: &tonic::Status) -> Response<Body> {
    let code = match status.code() {
        tonic::Code::Unauthenticated => StatusCode::UNAUTHORIZED,
        tonic::Code::PermissionDenied => StatusCode::FORBIDDEN,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    text_response(code, TEXT_PLAIN, format!("{}\n", status.message()))
}

/// Authentication (client certificate) and authorization (any of the path's checks).
async fn admit<R: Runtime>(
    State(api): State<Arc<HttpApi<R>>>,
    request: Request,
    next: Next,
) -> Response<Body> {
    if let Some(security) = &api.security {
        let info = request.extensions().get::<pki::tls::TlsConnectInfo>();
        let user = match security.authn.authenticate_connection(info) {
            Ok(u) => u,
            Err(e) => return refusal(&e),
        };
        let checks =
            authz::checks_for_http(request.method().as_str(), request.uri().path(), &api.node);
        if let Err(e) = security.authz.authorize_any(&user, &checks).await {
            tracing::debug!(user = %user.name, path = %request.uri().path(), "kubelet HTTP request refused");
            return refusal(&e);
        }
    }
    next.run(request).await
}

async fn metrics_handler<R: Runtime>(State(api): State<Arc<HttpApi<R>>>) -> Response<Body> {
    // The running gauges are a listing of the node's containers, taken now.
    match api
        .runtime
        .list_containers(&[(labels::NODE, api.node.as_str())])
        .await
    {
        Ok(list) => metrics::metrics().set_running(&metrics::running_counts(&list)),
        Err(e) => {
            tracing::warn!(node = %api.node, error = %e, "listing containers for the running gauges failed")
        }
    }
    text_response(
        StatusCode::OK,
        telemetry::metrics::CONTENT_TYPE,
        telemetry::metrics::encode(),
    )
}

async fn readings<R: Runtime>(api: &HttpApi<R>) -> crate::Result<Readings> {
    stats::collect(api.runtime.as_ref(), &api.node, &[]).await
}

async fn resource_handler<R: Runtime>(State(api): State<Arc<HttpApi<R>>>) -> Response<Body> {
    let r = readings(&api).await.unwrap_or_else(|e| {
        tracing::warn!(node = %api.node, error = %e, "reading container stats failed");
        Readings {
            readings: Vec::new(),
            failed: true,
            at: SystemTime::now(),
        }
    });
    let body = resource::render(&resource::Snapshot::from_readings(&r));
    text_response(StatusCode::OK, text::CONTENT_TYPE, body)
}

async fn cadvisor_handler<R: Runtime>(State(api): State<Arc<HttpApi<R>>>) -> Response<Body> {
    match readings(&api).await {
        Ok(r) => text_response(StatusCode::OK, text::CONTENT_TYPE, cadvisor::render(&r)),
        Err(e) => text_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            TEXT_PLAIN,
            format!("error gathering container metrics: {e}\n"),
        ),
    }
}

async fn health_handler<R: Runtime>(
    State(api): State<Arc<HttpApi<R>>>,
    uri: Uri,
) -> Response<Body> {
    health_response(&api.health, &uri)
}

fn health_response(health: &Health, uri: &Uri) -> Response<Body> {
    let (code, body) = health.answer(uri.path(), uri.query());
    text_response(
        StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        TEXT_PLAIN,
        body,
    )
}

/// `/healthz` (and `/healthz/<check>`) alone, without authentication: the healthz port.
pub fn healthz_router(health: Health) -> Router {
    let answer = move |uri: Uri| {
        let health = health.clone();
        async move { health_response(&health, &uri) }
    };
    Router::new()
        .route("/healthz", get(answer.clone()))
        .route("/healthz/{check}", get(answer))
        .fallback(not_found)
}

/// Serves [`healthz_router`] in plain HTTP on `addr` until `cancel`; returns the bound
/// address.
pub async fn serve_healthz(
    addr: SocketAddr,
    health: Health,
    cancel: CancellationToken,
) -> crate::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let (listener, bound) = crate::server::bind(addr).await?;
    let incoming = tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true));
    let routes = tonic::service::Routes::from(healthz_router(health));
    let task = tokio::spawn(async move {
        let r = tonic::transport::Server::builder()
            .accept_http1(true)
            .add_routes(routes)
            .serve_with_incoming_shutdown(incoming, cancel.cancelled_owned())
            .await;
        if let Err(e) = r {
            tracing::error!(error = %e, "kubelet healthz server failed");
        }
    });
    tracing::info!(%bound, "kubelet healthz serving (plain HTTP)");
    Ok((bound, task))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apiauth::authn::Authenticator;
    use crate::apiauth::authz::{AccessReviewer, Authorizer, ResourceCheck, UserInfo, Verdict};
    use crate::runtime::fake::FakeRuntime;
    use axum::http::Request as HttpRequest;
    use std::time::Duration;
    use tower_service::Service;

    async fn call(router: &mut Router, request: HttpRequest<Body>) -> (u16, String, String) {
        let response = router.call(request).await.unwrap();
        let code = response.status().as_u16();
        let ctype = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 24)
            .await
            .unwrap();
        (code, ctype, String::from_utf8(bytes.to_vec()).unwrap())
    }

    fn get_req(path: &str) -> HttpRequest<Body> {
        HttpRequest::get(path).body(Body::empty()).unwrap()
    }

    fn app(security: Option<ApiSecurity>) -> Router {
        let api = Arc::new(HttpApi {
            runtime: Arc::new(FakeRuntime::new()),
            node: "n1".into(),
            security: security.map(Arc::new),
            health: Health::new(),
        });
        router(api).fallback(not_found)
    }

    #[tokio::test]
    async fn plaintext_mode_serves_every_endpoint_and_404s_the_rest() {
        let mut app = app(None);
        let (code, ctype, body) = call(&mut app, get_req("/metrics/resource")).await;
        assert_eq!((code, ctype.as_str()), (200, text::CONTENT_TYPE));
        assert!(body.contains("node_cpu_usage_seconds_total 0 "), "{body}");
        assert!(body.ends_with("resource_scrape_error 0\n"), "{body}");
        let (code, _, body) = call(&mut app, get_req("/metrics/cadvisor")).await;
        assert_eq!(code, 200);
        assert!(body.contains(r#"id="/""#), "{body}");
        let (code, ctype, body) = call(&mut app, get_req("/metrics")).await;
        assert_eq!(
            (code, ctype.as_str()),
            (200, telemetry::metrics::CONTENT_TYPE)
        );
        assert!(body.contains("kubelet_running_pods"), "{body}");
        let (code, _, body) = call(&mut app, get_req("/healthz")).await;
        assert_eq!((code, body.as_str()), (200, "ok"));
        let (code, _, _) = call(&mut app, get_req("/configz")).await;
        assert_eq!(code, 404);
    }

    /// Allows only `nodes/proxy`.
    struct ProxyOnly;

    #[tonic::async_trait]
    impl AccessReviewer for ProxyOnly {
        async fn review(&self, _: &UserInfo, check: &ResourceCheck) -> Result<Verdict, String> {
            Ok(Verdict {
                allowed: check.subresource == "proxy",
                reason: String::new(),
            })
        }
    }

    #[tokio::test]
    async fn secure_mode_needs_a_certificate_and_the_paths_subresource() {
        let ca = pki::ca::Ca::generate("kubernetes", Duration::from_secs(3600)).unwrap();
        let security = ApiSecurity {
            authn: Authenticator {
                verifier: pki::verify::ClientVerifier::new(ca.cert_pem()).unwrap(),
                anonymous: false,
            },
            authz: Authorizer::webhook(Arc::new(ProxyOnly)),
        };
        let mut app = app(Some(security));
        // No connection info at all: no certificate.
        let (code, _, body) = call(&mut app, get_req("/metrics")).await;
        assert_eq!(code, 401, "{body}");
        let cert = ca
            .issue(&pki::ca::CertSpec {
                common_name: "bob".into(),
                organizations: vec![],
                dns_names: vec![],
                ip_addresses: vec![],
                usages: vec![pki::ca::Usage::ClientAuth],
                validity: Duration::from_secs(600),
            })
            .unwrap();
        let chain = pki::inspect::certs_from_pem(&cert.cert_pem).unwrap();
        let with_cert = |path: &str| {
            let mut r = get_req(path);
            r.extensions_mut().insert(pki::tls::TlsConnectInfo {
                remote_addr: None,
                peer_certificates: Some(Arc::new(
                    chain.iter().map(|c| c.clone().into_owned()).collect(),
                )),
            });
            r
        };
        let (code, _, body) = call(&mut app, with_cert("/metrics/resource")).await;
        assert_eq!(code, 403);
        assert_eq!(
            body,
            "Forbidden (user=bob, verb=get, resource=nodes, subresource(s)=[metrics])\n"
        );
        // healthz falls back to nodes/proxy, which bob has.
        let (code, _, body) = call(&mut app, with_cert("/healthz")).await;
        assert_eq!((code, body.as_str()), (200, "ok"));
    }

    #[tokio::test]
    async fn the_healthz_port_answers_healthz_only() {
        let health = Health::new();
        health.add_check("syncloop", telemetry::health::Probe::Livez, || {
            Err("stuck".into())
        });
        let mut app = healthz_router(health);
        let (code, _, body) = call(&mut app, get_req("/healthz?verbose")).await;
        assert_eq!(code, 500);
        assert!(
            body.contains("[-]syncloop failed: reason withheld"),
            "{body}"
        );
        let (code, _, _) = call(&mut app, get_req("/healthz/ping")).await;
        assert_eq!(code, 200);
        let (code, _, _) = call(&mut app, get_req("/metrics")).await;
        assert_eq!(code, 404);
    }
}
