//! Kubernetes' HTTP/JSON API, served on the same listener as gRPC. A translator only: it
//! parses the URL, query and body, calls the gRPC service's own methods (so authorization,
//! admission, audit and the registry run exactly as for a gRPC call) and renders the answer
//! as Kubernetes JSON (objects, lists, `metav1.Status` errors, watch event lines).

use std::sync::Arc;

use axum::extract::Request;

use crate::auth::{Attributes, Authorizer, Decision};
use crate::service::ApiService;
use crate::store::Store;

pub(crate) mod discovery;
pub(crate) mod health;
pub(crate) mod openapi;
pub(crate) mod path;
pub(crate) mod protobuf;
pub(crate) mod query;
pub(crate) mod rendered;
pub(crate) mod reviews;
pub mod serve;
pub(crate) mod status;
pub(crate) mod stream;
pub(crate) mod subresources;
pub(crate) mod table;
pub(crate) mod verbs;
pub(crate) mod versions;
pub(crate) mod watch;

pub type Body = axum::body::Body;
pub type HttpResponse = ::http::Response<Body>;

/// Request bodies up to this size are read; the registry refuses objects over 1.5 MiB with
/// a clear error, as over gRPC.
pub(crate) const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// Everything the HTTP handlers need; cheap to clone (Arcs).
pub struct HttpApi<S: Store> {
    pub(crate) api: Arc<ApiService<S>>,
    pub(crate) kubelet: Arc<crate::kubelet_proxy::KubeletProxy<S>>,
    pub(crate) authentication: Arc<crate::auth::authn::service::AuthenticationService>,
    pub(crate) authorization: Arc<crate::auth::authz_service::AuthorizationService>,
    pub(crate) authorizer: Arc<dyn Authorizer>,
    pub(crate) shutdown: tokio::sync::watch::Receiver<bool>,
    /// Objects already rendered as JSON, for lists and watches.
    pub(crate) rendered: Arc<rendered::RenderCache>,
}

// Not derived: the derive would ask `S: Clone`, which stores are not.
impl<S: Store> Clone for HttpApi<S> {
    fn clone(&self) -> Self {
        HttpApi {
            api: self.api.clone(),
            kubelet: self.kubelet.clone(),
            authentication: self.authentication.clone(),
            authorization: self.authorization.clone(),
            authorizer: self.authorizer.clone(),
            shutdown: self.shutdown.clone(),
            rendered: self.rendered.clone(),
        }
    }
}

impl<S: Store> HttpApi<S> {
    pub fn new(
        api: Arc<ApiService<S>>,
        kubelet: Arc<crate::kubelet_proxy::KubeletProxy<S>>,
        authentication: Arc<crate::auth::authn::service::AuthenticationService>,
        authorization: Arc<crate::auth::authz_service::AuthorizationService>,
        authorizer: Arc<dyn Authorizer>,
        shutdown: tokio::sync::watch::Receiver<bool>,
    ) -> Self {
        HttpApi {
            api,
            kubelet,
            authentication,
            authorization,
            authorizer,
            shutdown,
            rendered: Arc::default(),
        }
    }

    /// `routes` (tonic's gRPC services) with every other path served as the HTTP API.
    pub fn router(self, routes: tonic::service::Routes) -> axum::Router {
        routes.into_axum_router().fallback(move |request: Request| {
            let http = self.clone();
            async move { http.handle(request).await }
        })
    }

    /// One HTTP API request, authenticated already (the AuthnLayer runs in front).
    pub async fn handle(&self, request: Request) -> HttpResponse {
        let (mut parts, body) = request.into_parts();
        let path = parts.uri.path().to_string();
        if !path::is_resource_path(&path) {
            // Non-resource paths: authorized by path first, as Kubernetes does.
            if let Some(refused) = self.authorize_path(&parts, &path).await {
                return refused;
            }
            if let Some(r) = health::serve(&parts) {
                return r;
            }
            if let Some(r) = crate::metrics::serve(&parts) {
                return r;
            }
            if let Some(r) = discovery::serve(&parts) {
                return r;
            }
            if let Some(r) = openapi::serve(&parts) {
                return r;
            }
            return status::not_found_path();
        }
        // Exec, attach, port-forward and proxy take the body (or the upgraded connection)
        // as it comes.
        if path::is_streaming(&path) || !needs_body(&parts.method) {
            return self.resource(parts, bytes::Bytes::new(), Some(body)).await;
        }
        let bytes = match read_body(body).await {
            Ok(b) => b,
            Err(r) => return r,
        };
        // Kubernetes protobuf bodies (kubectl 1.30+'s typed writes) become JSON here, for
        // every handler after.
        let bytes = if verbs::media_type(&parts) == protobuf::MEDIA_TYPE {
            match protobuf::to_json(&bytes) {
                Ok(v) => {
                    parts.headers.insert(
                        ::http::header::CONTENT_TYPE,
                        ::http::HeaderValue::from_static("application/json"),
                    );
                    serde_json::to_vec(&v).unwrap_or_default()
                }
                // A resource this server does not serve: its 404, not the body's fault.
                Err(_) if path::parse(&path).is_err() => {
                    return status::not_found_path();
                }
                Err(e) => {
                    return api_error_response(&proto::ApiError::bad_request(format!(
                        "cannot decode the protobuf body: {e}"
                    )));
                }
            }
        } else {
            bytes
        };
        if parts.method == ::http::Method::POST
            && let Some(r) = reviews::serve(self, &parts, &bytes).await
        {
            return r;
        }
        self.resource(parts, bytes::Bytes::from(bytes), None).await
    }

    /// A request under `/api/v1` or `/apis/{group}/{version}`. `stream_body` is the body
    /// not yet read (exec and port-forward upgrade the connection instead).
    async fn resource(
        &self,
        parts: ::http::request::Parts,
        bytes: bytes::Bytes,
        stream_body: Option<Body>,
    ) -> HttpResponse {
        // A served version that is not the stored one (autoscaling/v1 HPA) converts here
        // and is served as the stored version.
        if let Some(version) = versions::of_path(parts.uri.path()) {
            return Box::pin(versions::serve(self, version, parts, bytes, stream_body)).await;
        }
        self.stored_resource(parts, bytes, stream_body).await
    }

    /// A request under a stored kind's own group-version.
    pub(crate) async fn stored_resource(
        &self,
        parts: ::http::request::Parts,
        bytes: bytes::Bytes,
        stream_body: Option<Body>,
    ) -> HttpResponse {
        let parsed = match path::parse(parts.uri.path()) {
            Ok(p) => p,
            Err(r) => return r,
        };
        let query = query::Query::parse(parts.uri.query().unwrap_or(""));
        if !parsed.target.subresource.is_empty() {
            return subresources::serve(self, parts, parsed, &query, bytes, stream_body).await;
        }
        verbs::serve(self, &parts, &parsed, &query, &bytes).await
    }

    /// A non-resource request the authorizer refuses: 403 naming the path.
    async fn authorize_path(
        &self,
        parts: &::http::request::Parts,
        path: &str,
    ) -> Option<HttpResponse> {
        let user = user_of(parts);
        let verb = match parts.method {
            ::http::Method::GET | ::http::Method::HEAD => "get",
            ::http::Method::POST => "post",
            ::http::Method::PUT => "put",
            ::http::Method::DELETE => "delete",
            ::http::Method::PATCH => "patch",
            _ => "get",
        };
        let attrs = Attributes {
            verb: verb.to_string(),
            path: path.to_string(),
            ..Attributes::default()
        };
        match self.authorizer.authorize(&user, &attrs).await {
            Decision::Allow => None,
            Decision::Deny(reason) | Decision::NoOpinion(reason) => {
                let message = crate::auth::authz::forbidden_message(&user, &attrs, &reason);
                Some(api_error_response(&proto::ApiError::forbidden(message)))
            }
        }
    }

    /// Authorizes `attrs` for the request's user (verbs the gRPC methods do not check
    /// themselves: deletecollection, eviction).
    pub(crate) async fn authorize(
        &self,
        parts: &::http::request::Parts,
        attrs: &Attributes,
    ) -> Result<(), HttpResponse> {
        let user = user_of(parts);
        match self.authorizer.authorize(&user, attrs).await {
            Decision::Allow => Ok(()),
            Decision::Deny(reason) | Decision::NoOpinion(reason) => {
                let message = crate::auth::authz::forbidden_message(&user, attrs, &reason);
                Err(api_error_response(&proto::ApiError::forbidden(message)))
            }
        }
    }

    pub(crate) fn api(&self) -> &ApiService<S> {
        &self.api
    }
}

/// The methods whose body the verbs read (everything but GET, HEAD, and upgrades).
fn needs_body(method: &::http::Method) -> bool {
    !matches!(*method, ::http::Method::GET | ::http::Method::HEAD)
}

/// The user the AuthnLayer put into the request, else the apiserver's own (in-process
/// routers without the layer, as unit tests build them).
pub(crate) fn user_of(parts: &::http::request::Parts) -> Arc<crate::auth::User> {
    parts
        .extensions
        .get::<crate::auth::Authenticated>()
        .map(|a| a.0.clone())
        .unwrap_or_else(|| Arc::new(crate::auth::User::internal()))
}

/// Reads a request body whole, refusing one over `MAX_BODY_BYTES` with 413.
pub(crate) async fn read_body(body: Body) -> Result<Vec<u8>, HttpResponse> {
    match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(b) => Ok(b.to_vec()),
        Err(e) => {
            let too_large = std::error::Error::source(&e)
                .map(|s| s.to_string().contains("length limit"))
                .unwrap_or(false)
                || e.to_string().contains("length limit");
            if too_large {
                Err(api_error_response(&proto::ApiError::new(
                    proto::Reason::TooLarge,
                    "the request is too large",
                )))
            } else {
                Err(api_error_response(&proto::ApiError::bad_request(format!(
                    "cannot read the request body: {e}"
                ))))
            }
        }
    }
}

/// A tonic request carrying the HTTP request's extensions (the authenticated user, the TLS
/// connection info) and its headers as metadata, so the gRPC service sees the same caller.
pub(crate) fn grpc<T>(parts: &::http::request::Parts, message: T) -> tonic::Request<T> {
    tonic::Request::from_parts(
        tonic::metadata::MetadataMap::from_headers(parts.headers.clone()),
        parts.extensions.clone(),
        message,
    )
}

/// metav1.Status for a failed call.
pub(crate) fn status_response(status: &tonic::Status) -> HttpResponse {
    api_error_response(&proto::ApiError::from_status(status))
}

pub(crate) fn api_error_response(e: &proto::ApiError) -> HttpResponse {
    status::error_response(e, None)
}

pub(crate) fn json_response(code: ::http::StatusCode, value: &serde_json::Value) -> HttpResponse {
    json_bytes_response(code, serde_json::to_vec(value).unwrap_or_default())
}

/// A JSON answer already serialized.
pub(crate) fn json_bytes_response(code: ::http::StatusCode, body: Vec<u8>) -> HttpResponse {
    let mut response = ::http::Response::new(Body::from(body));
    *response.status_mut() = code;
    response.headers_mut().insert(
        ::http::header::CONTENT_TYPE,
        ::http::HeaderValue::from_static("application/json"),
    );
    response
}

/// `Warning: 299 - "<text>"` headers for each admission warning.
pub(crate) fn add_warnings(response: &mut HttpResponse, warnings: &[String]) {
    for w in warnings {
        let text = crate::warnings::header_safe(w)
            .replace('\\', "\\\\")
            .replace('"', "\\\"");
        if let Ok(v) = ::http::HeaderValue::from_str(&format!("299 - \"{text}\"")) {
            response.headers_mut().append(::http::header::WARNING, v);
        }
    }
}

/// The warnings a tonic response carries as `warning` metadata.
pub(crate) fn warnings_of(metadata: &tonic::metadata::MetadataMap) -> Vec<String> {
    metadata
        .get_all(crate::warnings::METADATA_KEY)
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_string))
        .collect()
}

/// Converts an object for the wire.
pub(crate) fn object_json(object: &proto::k8s::Object) -> serde_json::Value {
    let mut value = proto::manifest::to_document(object);
    if let Some(info) = object.info() {
        proto::schema::normalize_output(info, &mut value);
    }
    value
}

/// Everything `Api` offers, named for the handlers (the trait's methods are generic).
pub(crate) use proto::k8s::api_server::Api as GrpcApi;
