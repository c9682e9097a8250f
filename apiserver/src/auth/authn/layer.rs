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
    impersonation: Option<Arc<dyn crate::auth::Authorizer>>,
}

impl AuthnLayer {
    pub fn new(authenticator: Arc<Authenticator>) -> Self {
        AuthnLayer {
            authenticator,
            impersonation: None,
        }
    }

    /// Honours Kubernetes' `Impersonate-User` / `Impersonate-Group` / `Impersonate-Uid` /
    /// `Impersonate-Extra-*` headers (`kubectl --as`), each authorized with `authorizer`
    /// as the `impersonate` verb. Without it the headers are refused.
    pub fn with_impersonation(mut self, authorizer: Arc<dyn crate::auth::Authorizer>) -> Self {
        self.impersonation = Some(authorizer);
        self
    }
}

impl<S> tower_layer::Layer<S> for AuthnLayer {
    type Service = Authn<S>;

    fn layer(&self, inner: S) -> Authn<S> {
        Authn {
            inner,
            authenticator: self.authenticator.clone(),
            impersonation: self.impersonation.clone(),
        }
    }
}

#[derive(Clone)]
pub struct Authn<S> {
    inner: S,
    authenticator: Arc<Authenticator>,
    impersonation: Option<Arc<dyn crate::auth::Authorizer>>,
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
        let impersonation = self.impersonation.clone();
        let span = request_span(&request);
        let serve: Self::Future = Box::pin(async move {
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
                    let user = match impersonate(user, request.headers(), impersonation.as_deref())
                        .await
                    {
                        Ok(user) => user,
                        Err(e) => {
                            let status: tonic::Status = e.into();
                            return Ok(if is_grpc(&request) {
                                status.into_http()
                            } else {
                                crate::http::status_response(&status)
                            });
                        }
                    };
                    request
                        .extensions_mut()
                        .insert(Authenticated(Arc::new(user)));
                    inner.call(request).await
                }
                Err(e) => {
                    tracing::debug!(path = %request.uri().path(), error = %e, "request not authenticated");
                    if is_grpc(&request) {
                        Ok(e.to_status().into_http())
                    } else if matches!(e, super::AuthnError::Lookup(_)) {
                        Ok(crate::http::status_response(&e.to_status()))
                    } else {
                        // Kubernetes' exact answer (kubectl: "You must be logged in to the
                        // server (Unauthorized)"); the cause is in the debug log above.
                        Ok(crate::http::api_error_response(
                            &proto::ApiError::unauthorized("Unauthorized"),
                        ))
                    }
                }
            }
        });
        if span.is_none() {
            return serve;
        }
        Box::pin(tracing::Instrument::instrument(serve, span))
    }
}

/// The span of one request, gRPC or HTTP, whose parent is the caller's W3C `traceparent`
/// (so a client's call and the apiserver's work are one trace), when this apiserver
/// exports traces. Otherwise none: the handlers' own spans are what there was before,
/// and no header is read.
fn request_span<B>(request: &http::Request<B>) -> tracing::Span {
    if !telemetry::trace::exporting() {
        return tracing::Span::none();
    }
    let path = request.uri().path();
    // OpenTelemetry's names: `package.Service/Method` for gRPC, `METHOD path` for HTTP.
    let name = if is_grpc(request) {
        path.trim_start_matches('/').to_string()
    } else {
        format!("{} {path}", request.method())
    };
    let span = tracing::info_span!(
        "request",
        otel.name = %name,
        otel.kind = "server",
        http.method = %request.method(),
        path = %path,
    );
    telemetry::trace::set_parent_from_headers(&span, request.headers());
    span
}

/// gRPC requests say so in their Content-Type (`application/grpc`, `application/grpc+proto`).
fn is_grpc<B>(request: &http::Request<B>) -> bool {
    request
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/grpc"))
}

const IMPERSONATE_USER: &str = "impersonate-user";
const IMPERSONATE_GROUP: &str = "impersonate-group";
const IMPERSONATE_UID: &str = "impersonate-uid";
const IMPERSONATE_EXTRA: &str = "impersonate-extra-";

/// Who the request acts as: `user`, or the user its `Impersonate-*` headers name once
/// `user` may impersonate each part (Kubernetes' impersonation filter).
async fn impersonate(
    user: crate::auth::User,
    headers: &http::HeaderMap,
    authorizer: Option<&dyn crate::auth::Authorizer>,
) -> Result<crate::auth::User, proto::ApiError> {
    use crate::auth::user::names;
    use crate::auth::{Attributes, Decision};
    let values = |name: &str| -> Vec<String> {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_string))
            .collect()
    };
    let target = values(IMPERSONATE_USER);
    let groups = values(IMPERSONATE_GROUP);
    let uid = values(IMPERSONATE_UID);
    let extra: Vec<(String, String)> = headers
        .iter()
        .filter_map(|(k, v)| {
            let key = k.as_str().strip_prefix(IMPERSONATE_EXTRA)?;
            Some((key.to_string(), v.to_str().ok()?.to_string()))
        })
        .collect();
    if target.is_empty() {
        if !groups.is_empty() || !uid.is_empty() || !extra.is_empty() {
            return Err(proto::ApiError::internal(
                "requested impersonation is not allowed without impersonating a user".to_string(),
            ));
        }
        return Ok(user);
    }
    let Some(authorizer) = authorizer else {
        return Err(proto::ApiError::forbidden(
            "impersonation is not supported by this server",
        ));
    };
    let name = target[0].clone();
    let mut checks = Vec::new();
    match name
        .strip_prefix(names::SERVICEACCOUNT_USER_PREFIX)
        .and_then(|rest| rest.split_once(':'))
    {
        Some((ns, sa)) => checks.push(Attributes::resource(
            "impersonate",
            "",
            "serviceaccounts",
            ns,
            sa,
        )),
        None => checks.push(Attributes::resource("impersonate", "", "users", "", &name)),
    }
    for g in &groups {
        checks.push(Attributes::resource("impersonate", "", "groups", "", g));
    }
    for u in &uid {
        checks.push(Attributes::resource(
            "impersonate",
            "authentication.k8s.io",
            "uids",
            "",
            u,
        ));
    }
    for (key, value) in &extra {
        checks.push(
            Attributes::resource(
                "impersonate",
                "authentication.k8s.io",
                "userextras",
                "",
                value,
            )
            .with_subresource(key),
        );
    }
    for attrs in &checks {
        if authorizer.authorize(&user, attrs).await != Decision::Allow {
            let what = if attrs.subresource.is_empty() {
                attrs.resource.clone()
            } else {
                format!("{}/{}", attrs.resource, attrs.subresource)
            };
            let group = if attrs.api_group.is_empty() {
                String::new()
            } else {
                format!(".{}", attrs.api_group)
            };
            return Err(proto::ApiError::forbidden(format!(
                "{what}{group} {:?} is forbidden: User {:?} cannot impersonate resource {:?} in API group {:?}{}",
                attrs.name,
                user.name,
                attrs.resource,
                attrs.api_group,
                if attrs.namespace.is_empty() {
                    " at the cluster scope".to_string()
                } else {
                    format!(" in the namespace {:?}", attrs.namespace)
                }
            )));
        }
    }
    let mut as_user = crate::auth::User {
        name: name.clone(),
        uid: uid.first().cloned().unwrap_or_default(),
        groups,
        ..crate::auth::User::default()
    };
    for (key, value) in extra {
        as_user.extra.entry(key).or_default().push(value);
    }
    if let Some(rest) = name.strip_prefix(names::SERVICEACCOUNT_USER_PREFIX)
        && let Some((ns, _)) = rest.split_once(':')
        && as_user.groups.is_empty()
    {
        as_user.groups = vec![
            names::SYSTEM_SERVICEACCOUNTS.to_string(),
            format!("{}:{ns}", names::SYSTEM_SERVICEACCOUNTS),
        ];
    }
    if name != names::ANONYMOUS && !as_user.in_group(names::SYSTEM_AUTHENTICATED) {
        as_user.groups.push(names::SYSTEM_AUTHENTICATED.to_string());
    }
    Ok(as_user)
}
