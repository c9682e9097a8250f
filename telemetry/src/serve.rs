//! The HTTP routes of a daemon's endpoints: `/metrics` (the process's registry) and the
//! health endpoints. Transport, TLS and authorization are the caller's (`client::endpoints`
//! serves them; the kubelet merges them into its own API server).

use crate::health::Health;
use axum::Router;
use axum::body::Body;
use axum::http::{Response, StatusCode, Uri, header};
use axum::routing::get;

/// Go's `http.Error` and Kubernetes' healthz handlers answer in this type.
const TEXT_PLAIN: &str = "text/plain; charset=utf-8";

/// `/metrics`, and `/healthz`, `/livez`, `/readyz` with `/<endpoint>/<check>` under each.
pub fn router(health: Health) -> Router {
    let answer = move |uri: Uri| {
        let health = health.clone();
        async move { health_response(&health, &uri) }
    };
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(answer.clone()))
        .route("/healthz/{check}", get(answer.clone()))
        .route("/livez", get(answer.clone()))
        .route("/livez/{check}", get(answer.clone()))
        .route("/readyz", get(answer.clone()))
        .route("/readyz/{check}", get(answer))
}

async fn metrics() -> Response<Body> {
    // Reading /proc and formatting text: microseconds, no reason to leave the worker.
    let body = crate::metrics::encode();
    Response::builder()
        .header(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)
        .body(Body::from(body))
        .unwrap_or_default()
}

fn health_response(health: &Health, uri: &Uri) -> Response<Body> {
    let (code, body) = health.answer(uri.path(), uri.query());
    Response::builder()
        .status(StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header(header::CONTENT_TYPE, TEXT_PLAIN)
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .body(Body::from(body))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::Probe;
    use axum::http::Request;
    use tower_service::Service;

    async fn get_text(router: &mut Router, uri: &str) -> (u16, String, String) {
        let response = router
            .call(Request::get(uri).body(Body::empty()).unwrap())
            .await
            .unwrap();
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

    #[tokio::test]
    async fn routes_answer_metrics_and_health() {
        let health = Health::new();
        health.add_check("informer-sync", Probe::Readyz, || Err("not yet".into()));
        let mut router = router(health);
        crate::process::register_process_metrics();
        let (code, ctype, body) = get_text(&mut router, "/metrics").await;
        assert_eq!((code, ctype.as_str()), (200, crate::metrics::CONTENT_TYPE));
        assert!(body.contains("process_resident_memory_bytes"), "{body}");
        assert_eq!(
            get_text(&mut router, "/livez?verbose").await,
            (
                200,
                TEXT_PLAIN.to_string(),
                "[+]ping ok\nlivez check passed\n".to_string()
            )
        );
        assert_eq!(get_text(&mut router, "/readyz").await.0, 500);
        assert_eq!(
            get_text(&mut router, "/readyz?exclude=informer-sync")
                .await
                .2,
            "ok"
        );
        assert_eq!(get_text(&mut router, "/healthz/ping").await.2, "ok");
        assert_eq!(get_text(&mut router, "/healthz/nope").await.0, 404);
        assert_eq!(get_text(&mut router, "/other").await.0, 404);
    }
}
