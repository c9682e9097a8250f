//! `Client`: the untyped connection. Resources are named by their plural; objects travel as
//! the `Object` oneof. `ctl` uses this directly; typed code goes through `Api<K>`.

use crate::connection::{BearerAuth, ConnectionConfig, explain, root_cause};
use proto::k8s::api_client::ApiClient;
use proto::k8s::authentication_client::AuthenticationClient;
use proto::k8s::authorization_client::AuthorizationClient;
use proto::k8s::{
    BindRequest, Binding, CreateRequest, DeleteRequest, EvictRequest, Eviction, GetRequest,
    GetScaleRequest, ListRequest, ListResponse, Object, PatchRequest, Scale,
    SelfSubjectAccessReview, SelfSubjectReview, SubjectAccessReview, TokenRequest, TokenReview,
    UpdateRequest, UpdateScaleRequest, WatchEvent, WatchRequest,
};
use proto::{ApiError, Reason};
use std::sync::Arc;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

/// A channel whose requests carry the bearer token, if the connection has one.
pub(crate) type AuthChannel = InterceptedService<Channel, BearerAuth>;

/// Cheap to clone: clones share one HTTP/2 connection.
#[derive(Clone, Debug)]
pub struct Client {
    inner: ApiClient<AuthChannel>,
    channel: Channel,
    auth: BearerAuth,
    connection: Arc<ConnectionConfig>,
    warnings: crate::WarningHandler,
    /// The server's host:port, the `host` label of this client's request metrics.
    host: Arc<str>,
}

/// Big enough for the largest object the API accepts (1.5 MiB) and long lists.
const MAX_MESSAGE: usize = 256 * 1024 * 1024;

impl Client {
    /// Plaintext, no credentials (development, in-process tests). Connects now; an
    /// unreachable server is a one-line `Unavailable` error.
    pub async fn connect(server: &str) -> Result<Client, ApiError> {
        Self::connect_with(&ConnectionConfig::plaintext(server)).await
    }

    /// Plaintext, no credentials; connects on first use and reconnects after failures.
    pub fn lazy(server: &str) -> Result<Client, ApiError> {
        Self::lazy_with(&ConnectionConfig::plaintext(server))
    }

    /// Connects now with this server, trust and credentials.
    pub async fn connect_with(config: &ConnectionConfig) -> Result<Client, ApiError> {
        let auth = config.bearer()?;
        let channel = config
            .dial(&config.server)?
            .connect("the apiserver")
            .await?;
        Ok(Self::from_channel(channel, auth, config))
    }

    /// Connects on first use and reconnects after failures: for daemons, which retry.
    pub fn lazy_with(config: &ConnectionConfig) -> Result<Client, ApiError> {
        let auth = config.bearer()?;
        let channel = config.dial(&config.server)?.lazy();
        Ok(Self::from_channel(channel, auth, config))
    }

    fn from_channel(channel: Channel, auth: BearerAuth, config: &ConnectionConfig) -> Client {
        let inner = ApiClient::with_interceptor(channel.clone(), auth.clone())
            .max_decoding_message_size(MAX_MESSAGE)
            .max_encoding_message_size(MAX_MESSAGE);
        Client {
            inner,
            channel,
            auth,
            connection: Arc::new(config.clone()),
            warnings: crate::WarningHandler::default(),
            host: crate::metrics::host_of(&config.server).into(),
        }
    }

    /// The server, trust and credentials this client was made with.
    pub fn connection(&self) -> &ConnectionConfig {
        &self.connection
    }

    /// What to do with the warnings the apiserver sends with successful responses (by
    /// default they are logged).
    pub fn with_warning_handler(mut self, handler: crate::WarningHandler) -> Client {
        self.warnings = handler;
        self
    }

    pub fn server(&self) -> &str {
        &self.connection.server
    }

    pub async fn create(&self, object: Object) -> Result<Object, ApiError> {
        let req = CreateRequest {
            object: Some(object),
            dry_run: false,
            ..Default::default()
        };
        self.call("POST", |mut c| async move { c.create(req).await })
            .await
    }

    /// A create with every option of the request (dry run, field manager).
    pub async fn create_with(&self, req: CreateRequest) -> Result<Object, ApiError> {
        self.call("POST", |mut c| async move { c.create(req).await })
            .await
    }

    /// An update with every option of the request (dry run, field manager).
    pub async fn update_with(&self, req: UpdateRequest) -> Result<Object, ApiError> {
        self.call("PUT", |mut c| async move { c.update(req).await })
            .await
    }

    /// A scale update with every option of the request (dry run, field manager).
    pub async fn update_scale_with(&self, req: UpdateScaleRequest) -> Result<Scale, ApiError> {
        self.call("PUT", |mut c| async move { c.update_scale(req).await })
            .await
    }

    pub async fn get(
        &self,
        resource: &str,
        namespace: &str,
        name: &str,
    ) -> Result<Object, ApiError> {
        let req = GetRequest {
            resource: resource.to_string(),
            namespace: namespace.to_string(),
            name: name.to_string(),
        };
        self.call("GET", |mut c| async move { c.get(req).await })
            .await
    }

    pub async fn list(&self, req: ListRequest) -> Result<ListResponse, ApiError> {
        self.call("GET", |mut c| async move { c.list(req).await })
            .await
    }

    /// `subresource` is "" or "status".
    pub async fn update(&self, object: Object, subresource: &str) -> Result<Object, ApiError> {
        let req = UpdateRequest {
            object: Some(object),
            subresource: subresource.to_string(),
            dry_run: false,
            ..Default::default()
        };
        self.call("PUT", |mut c| async move { c.update(req).await })
            .await
    }

    pub async fn patch(&self, req: PatchRequest) -> Result<Object, ApiError> {
        self.call("PATCH", |mut c| async move { c.patch(req).await })
            .await
    }

    pub async fn delete(&self, req: DeleteRequest) -> Result<Object, ApiError> {
        self.call("DELETE", |mut c| async move { c.delete(req).await })
            .await
    }

    pub async fn get_scale(
        &self,
        resource: &str,
        namespace: &str,
        name: &str,
    ) -> Result<Scale, ApiError> {
        let req = GetScaleRequest {
            resource: resource.to_string(),
            namespace: namespace.to_string(),
            name: name.to_string(),
        };
        self.call("GET", |mut c| async move { c.get_scale(req).await })
            .await
    }

    pub async fn update_scale(&self, resource: &str, scale: Scale) -> Result<Scale, ApiError> {
        let req = UpdateScaleRequest {
            resource: resource.to_string(),
            scale: Some(scale),
            ..Default::default()
        };
        self.call("PUT", |mut c| async move { c.update_scale(req).await })
            .await
    }

    pub async fn bind(&self, binding: Binding) -> Result<(), ApiError> {
        let req = BindRequest {
            binding: Some(binding),
        };
        self.call("POST", |mut c| async move { c.bind(req).await })
            .await
            .map(|_| ())
    }

    /// POST pods/{name}/eviction: the pod is deleted unless a disruption budget forbids it
    /// (`Reason::TooManyRequests`, Kubernetes' 429).
    pub async fn evict(
        &self,
        namespace: &str,
        name: &str,
        eviction: Eviction,
    ) -> Result<(), ApiError> {
        let req = EvictRequest {
            namespace: namespace.to_string(),
            name: name.to_string(),
            eviction: Some(eviction),
        };
        self.call("POST", |mut c| async move { c.evict(req).await })
            .await
            .map(|_| ())
    }

    /// A server stream of events; ends with an error item when the server cuts it off.
    pub async fn watch(&self, req: WatchRequest) -> Result<tonic::Streaming<WatchEvent>, ApiError> {
        self.call("GET", |mut c| async move { c.watch(req).await })
            .await
    }

    /// Whether `attributes` are allowed for the user and groups the review names (the
    /// caller needs `create subjectaccessreviews`).
    pub async fn create_subject_access_review(
        &self,
        r: SubjectAccessReview,
    ) -> Result<SubjectAccessReview, ApiError> {
        let mut c = AuthorizationClient::with_interceptor(self.channel.clone(), self.auth.clone());
        self.send("POST", c.create_subject_access_review(r)).await
    }

    /// Whether the caller itself may do something (`ctl auth can-i`).
    pub async fn create_self_subject_access_review(
        &self,
        r: SelfSubjectAccessReview,
    ) -> Result<SelfSubjectAccessReview, ApiError> {
        let mut c = AuthorizationClient::with_interceptor(self.channel.clone(), self.auth.clone());
        self.send("POST", c.create_self_subject_access_review(r))
            .await
    }

    /// Who the server takes the caller for (`ctl auth whoami`).
    pub async fn create_self_subject_review(
        &self,
        r: SelfSubjectReview,
    ) -> Result<SelfSubjectReview, ApiError> {
        let mut c = AuthenticationClient::with_interceptor(self.channel.clone(), self.auth.clone());
        self.send("POST", c.create_self_subject_review(r)).await
    }

    /// A token for the ServiceAccount `r.metadata` names (`serviceaccounts/token`).
    pub async fn create_token(&self, r: TokenRequest) -> Result<TokenRequest, ApiError> {
        let mut c = AuthenticationClient::with_interceptor(self.channel.clone(), self.auth.clone());
        self.send("POST", c.create_token(r)).await
    }

    /// Who a token belongs to, if anyone.
    pub async fn create_token_review(&self, r: TokenReview) -> Result<TokenReview, ApiError> {
        let mut c = AuthenticationClient::with_interceptor(self.channel.clone(), self.auth.clone());
        self.send("POST", c.create_token_review(r)).await
    }

    /// The connection's channel with its credentials, for a typed client of another of the
    /// apiserver's gRPC services (`MetricsApi`) that shares this connection.
    pub(crate) fn auth_channel(&self) -> AuthChannel {
        InterceptedService::new(self.channel.clone(), self.auth.clone())
    }

    /// `method` is the HTTP method the call is in Kubernetes' API (for client metrics).
    async fn call<T, F, Fut>(&self, method: &'static str, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(ApiClient<AuthChannel>) -> Fut,
        Fut: std::future::Future<Output = Result<tonic::Response<T>, tonic::Status>>,
    {
        self.send(method, f(self.inner.clone())).await
    }

    /// Awaits one call, counts it in client-go's `rest_client_*` metrics under the HTTP
    /// method and status Kubernetes would have seen, and converts its outcome. Every call
    /// to the apiserver goes through here (a watch counts once, when its stream opens).
    pub(crate) async fn send<T>(
        &self,
        method: &'static str,
        call: impl std::future::Future<Output = Result<tonic::Response<T>, tonic::Status>>,
    ) -> Result<T, ApiError> {
        let started = std::time::Instant::now();
        // On the heap: a tonic call's future is large, and kept inline it made the nested
        // futures of a reconcile overflow a 2 MiB worker stack in debug builds.
        let res = Box::pin(call).await;
        let code = match &res {
            // Kubernetes answers 201 Created to every successful POST (create, binding,
            // reviews, token requests).
            Ok(_) if method == "POST" => 201,
            Ok(_) => 200,
            Err(status) => proto::error::http_code(status),
        };
        crate::metrics::observe_request(&self.host, method, code, started.elapsed());
        self.finish(res)
    }

    fn finish<T>(&self, res: Result<tonic::Response<T>, tonic::Status>) -> Result<T, ApiError> {
        match res {
            Ok(resp) => {
                for w in crate::warnings::from_metadata(resp.metadata()) {
                    self.warnings.handle(&w);
                }
                Ok(resp.into_inner())
            }
            Err(status) => Err(status_error(&status, &self.connection)),
        }
    }
}

/// An error status as an `ApiError`; one that never reached the server says where it
/// was going and why (a TLS verification failure in plain words).
pub(crate) fn status_error(status: &tonic::Status, connection: &ConnectionConfig) -> ApiError {
    let mut e = ApiError::from_status(status);
    if e.reason == Reason::Unavailable && status.code() == tonic::Code::Unavailable {
        let cause = match std::error::Error::source(status) {
            Some(src) => explain(&root_cause(src), connection.trust.is_some()),
            None => e.message.clone(),
        };
        e.message = format!(
            "cannot reach the apiserver at {}: {cause}",
            connection.server
        );
    }
    e
}
