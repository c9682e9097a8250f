//! The tower layer that authenticates every request before any gRPC service sees it (the
//! API, the kubelet proxy, authentication, authorization, health: Kubernetes' filter
//! chain), and the HTTP API. A refused request is answered here and never reaches a
//! handler (gRPC callers get an Unauthenticated status, HTTP callers Kubernetes' 401
//! `metav1.Status`); an accepted one carries [`Authenticated`] in its extensions.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::SystemTime;

use super::{Authenticator, Credentials, bearer_token};
use crate::auth::Authenticated;

#[derive(Clone)]
pub struct AuthnLayer {
    authenticator: Arc<Authenticator>,
}

impl AuthnLayer {
    pub fn new(authenticator: Arc<Authenticator>) -> Self {
        AuthnLayer { authenticator }
    }
}

impl<S> tower_layer::Layer<S> for AuthnLayer {
    type Service = Authn<S>;

    fn layer(&self, inner: S) -> Authn<S> {
        Authn {
            inner,
            authenticator: self.authenticator.clone(),
        }
    }
}

#[derive(Clone)]
pub struct Authn<S> {
    inner: S,
    authenticator: Arc<Authenticator>,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

impl<S, B> tower_service::Service<http::Request<B>> for Authn<S>
where
    S: tower_service::Service<http::Request<B>, Response = http::Response<axum::body::Body>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = http::Response<axum::body::Body>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        // The service polled ready is the one to call; a clone takes its place.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let authenticator = self.authenticator.clone();
        Box::pin(async move {
            let certificates = request
                .extensions()
                .get::<pki::tls::TlsConnectInfo>()
                .and_then(|info| info.peer_certificates.clone());
            let bearer = request
                .headers()
                .get(http::header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(bearer_token)
                .map(str::to_string);
            let credentials = Credentials {
                client_certificates: certificates.as_deref().map(|c| c.as_slice()),
                bearer: bearer.as_deref(),
            };
            match authenticator
                .authenticate(credentials, SystemTime::now())
                .await
            {
                Ok(user) => {
                    request
                        .extensions_mut()
                        .insert(Authenticated(Arc::new(user)));
                    inner.call(request).await
                }
                Err(e) => {
                    tracing::debug!(path = %request.uri().path(), error = %e, "request not authenticated");
                    if is_grpc(&request) {
                        Ok(e.to_status().into_http())
                    } else {
                        Ok(crate::http::status_response(&e.to_status()))
                    }
                }
            }
        })
    }
}

/// gRPC requests say so in their Content-Type (`application/grpc`, `application/grpc+proto`).
fn is_grpc<B>(request: &http::Request<B>) -> bool {
    request
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/grpc"))
}
