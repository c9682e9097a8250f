//! The apiserver's `GET /version` (Kubernetes' `version.Info`), read over the client's own
//! connection: the apiserver serves its HTTP API on the gRPC listener, so a plain HTTP/2
//! GET on the same channel, with the same TLS and credentials, reaches it. No second
//! connection and no HTTP client of its own.

use crate::dynamic::Client;
use proto::{ApiError, Reason};
use tower_service::Service;

/// `version.Info` answers are small; anything bigger is not one.
const MAX_BODY: usize = 64 * 1024;

impl Client {
    /// The server's `version.Info` document (`major`, `minor`, `gitVersion`, ...).
    pub async fn server_version(&self) -> Result<serde_json::Value, ApiError> {
        let req = http::Request::get("/version")
            .header(http::header::ACCEPT, "application/json")
            .body(tonic::body::Body::empty())
            .map_err(|e| ApiError::new(Reason::Internal, format!("GET /version: {e}")))?;
        let mut channel = self.auth_channel();
        std::future::poll_fn(|cx| channel.poll_ready(cx))
            .await
            .map_err(|e| unreachable(self, &e.to_string()))?;
        let resp = channel
            .call(req)
            .await
            .map_err(|e| unreachable(self, &e.to_string()))?;
        let status = resp.status();
        let body = axum::body::to_bytes(axum::body::Body::new(resp.into_body()), MAX_BODY)
            .await
            .map_err(|e| unreachable(self, &e.to_string()))?;
        if !status.is_success() {
            let text = String::from_utf8_lossy(&body);
            let reason = match status.as_u16() {
                401 => Reason::Unauthorized,
                403 => Reason::Forbidden,
                404 => Reason::NotFound,
                _ => Reason::Internal,
            };
            return Err(ApiError::new(
                reason,
                format!("GET /version: {status}: {}", text.trim()),
            ));
        }
        serde_json::from_slice(&body).map_err(|e| {
            ApiError::new(
                Reason::Internal,
                format!("GET /version: the answer is not version JSON: {e}"),
            )
        })
    }
}

fn unreachable(c: &Client, cause: &str) -> ApiError {
    ApiError::new(
        Reason::Unavailable,
        format!("cannot reach the apiserver at {}: {cause}", c.server()),
    )
}
