//! `Client`: the untyped connection. Resources are named by their plural; objects travel as
//! the `Object` oneof. `ctl` uses this directly; typed code goes through `Api<K>`.

use crate::connection::{BearerAuth, ConnectionConfig, explain, root_cause};
use crate::retry::{Decision, RetryPolicy, Verb};
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
    /// When a failed call is sent again (`crate::retry`).
    retry: Arc<RetryPolicy>,
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
            retry: Arc::new(RetryPolicy::default()),
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

    /// When failed calls are sent again (by default [`RetryPolicy::default`]: 429s and
    /// refused connections for every call, broken connections for reads, at most 10
    /// retries within 30 s). `RetryPolicy::none()` turns retrying off.
    pub fn with_retry_policy(mut self, policy: RetryPolicy) -> Client {
        self.retry = Arc::new(policy);
        self
    }

    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.retry
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
        self.call(Verb::Create, req, |mut c, req| async move {
            c.create(req).await
        })
        .await
    }

    /// A create with every option of the request (dry run, field manager).
    pub async fn create_with(&self, req: CreateRequest) -> Result<Object, ApiError> {
        self.call(Verb::Create, req, |mut c, req| async move {
            c.create(req).await
        })
        .await
    }

    /// An update with every option of the request (dry run, field manager).
    pub async fn update_with(&self, req: UpdateRequest) -> Result<Object, ApiError> {
        self.call(Verb::Update, req, |mut c, req| async move {
            c.update(req).await
        })
        .await
    }

    /// A scale update with every option of the request (dry run, field manager).
    pub async fn update_scale_with(&self, req: UpdateScaleRequest) -> Result<Scale, ApiError> {
        self.call(Verb::Update, req, |mut c, req| async move {
            c.update_scale(req).await
        })
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
        self.call(Verb::Get, req, |mut c, req| async move { c.get(req).await })
            .await
    }

    pub async fn list(&self, req: ListRequest) -> Result<ListResponse, ApiError> {
        self.call(
            Verb::List,
            req,
            |mut c, req| async move { c.list(req).await },
        )
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
        self.call(Verb::Update, req, |mut c, req| async move {
            c.update(req).await
        })
        .await
    }

    pub async fn patch(&self, req: PatchRequest) -> Result<Object, ApiError> {
        self.call(
            Verb::Patch,
            req,
            |mut c, req| async move { c.patch(req).await },
        )
        .await
    }

    pub async fn delete(&self, req: DeleteRequest) -> Result<Object, ApiError> {
        self.call(Verb::Delete, req, |mut c, req| async move {
            c.delete(req).await
        })
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
        self.call(Verb::Get, req, |mut c, req| async move {
            c.get_scale(req).await
        })
        .await
    }

    pub async fn update_scale(&self, resource: &str, scale: Scale) -> Result<Scale, ApiError> {
        let req = UpdateScaleRequest {
            resource: resource.to_string(),
            scale: Some(scale),
            ..Default::default()
        };
        self.call(Verb::Update, req, |mut c, req| async move {
            c.update_scale(req).await
        })
        .await
    }

    pub async fn bind(&self, binding: Binding) -> Result<(), ApiError> {
        let req = BindRequest {
            binding: Some(binding),
        };
        self.call(
            Verb::Create,
            req,
            |mut c, req| async move { c.bind(req).await },
        )
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
        self.call(
            Verb::Evict,
            req,
            |mut c, req| async move { c.evict(req).await },
        )
        .await
        .map(|_| ())
    }

    /// A server stream of events; ends with an error item when the server cuts it off.
    pub async fn watch(&self, req: WatchRequest) -> Result<tonic::Streaming<WatchEvent>, ApiError> {
        self.call(
            Verb::Watch,
            req,
            |mut c, req| async move { c.watch(req).await },
        )
        .await
    }

    /// Whether `attributes` are allowed for the user and groups the review names (the
    /// caller needs `create subjectaccessreviews`).
    pub async fn create_subject_access_review(
        &self,
        r: SubjectAccessReview,
    ) -> Result<SubjectAccessReview, ApiError> {
        self.retrying(Verb::Create, r, |r| {
            let mut c =
                AuthorizationClient::with_interceptor(self.channel.clone(), self.auth.clone());
            async move { c.create_subject_access_review(r).await }
        })
        .await
    }

    /// Whether the caller itself may do something (`ctl auth can-i`).
    pub async fn create_self_subject_access_review(
        &self,
        r: SelfSubjectAccessReview,
    ) -> Result<SelfSubjectAccessReview, ApiError> {
        self.retrying(Verb::Create, r, |r| {
            let mut c =
                AuthorizationClient::with_interceptor(self.channel.clone(), self.auth.clone());
            async move { c.create_self_subject_access_review(r).await }
        })
        .await
    }

    /// Who the server takes the caller for (`ctl auth whoami`).
    pub async fn create_self_subject_review(
        &self,
        r: SelfSubjectReview,
    ) -> Result<SelfSubjectReview, ApiError> {
        self.retrying(Verb::Create, r, |r| {
            let mut c =
                AuthenticationClient::with_interceptor(self.channel.clone(), self.auth.clone());
            async move { c.create_self_subject_review(r).await }
        })
        .await
    }

    /// A token for the ServiceAccount `r.metadata` names (`serviceaccounts/token`).
    pub async fn create_token(&self, r: TokenRequest) -> Result<TokenRequest, ApiError> {
        self.retrying(Verb::Create, r, |r| {
            let mut c =
                AuthenticationClient::with_interceptor(self.channel.clone(), self.auth.clone());
            async move { c.create_token(r).await }
        })
        .await
    }

    /// Who a token belongs to, if anyone.
    pub async fn create_token_review(&self, r: TokenReview) -> Result<TokenReview, ApiError> {
        self.retrying(Verb::Create, r, |r| {
            let mut c =
                AuthenticationClient::with_interceptor(self.channel.clone(), self.auth.clone());
            async move { c.create_token_review(r).await }
        })
        .await
    }

    /// The connection's channel with its credentials, for a typed client of another of the
    /// apiserver's gRPC services (`MetricsApi`) that shares this connection.
    pub(crate) fn auth_channel(&self) -> AuthChannel {
        InterceptedService::new(self.channel.clone(), self.auth.clone())
    }

    /// One call of the `Api` service, sent again as the retry policy says.
    async fn call<Req, T, F, Fut>(&self, verb: Verb, req: Req, f: F) -> Result<T, ApiError>
    where
        Req: Clone,
        F: Fn(ApiClient<AuthChannel>, Req) -> Fut,
        Fut: std::future::Future<Output = Result<tonic::Response<T>, tonic::Status>>,
    {
        self.retrying(verb, req, |req| f(self.inner.clone(), req))
            .await
    }

    /// Every call to the apiserver goes through here: `f` makes one attempt of the call
    /// with (a copy of) `req`; each attempt is counted in client-go's `rest_client_*`
    /// metrics under the HTTP method and status Kubernetes would have seen, and a failed
    /// one is sent again after the delay `crate::retry::decide` gives (a watch counts
    /// once, when its stream opens). The error returned is the last attempt's.
    pub(crate) async fn retrying<Req, T, F, Fut>(
        &self,
        verb: Verb,
        req: Req,
        f: F,
    ) -> Result<T, ApiError>
    where
        Req: Clone,
        F: Fn(Req) -> Fut,
        Fut: std::future::Future<Output = Result<tonic::Response<T>, tonic::Status>>,
    {
        // On the heap, as each attempt is: the loop keeps the request for the next try,
        // and nested inline in a reconcile's future it would weigh on a worker's stack.
        Box::pin(self.retry_loop(verb, req, f)).await
    }

    async fn retry_loop<Req, T, F, Fut>(&self, verb: Verb, req: Req, f: F) -> Result<T, ApiError>
    where
        Req: Clone,
        F: Fn(Req) -> Fut,
        Fut: std::future::Future<Output = Result<tonic::Response<T>, tonic::Status>>,
    {
        let method = verb.method();
        let first = tokio::time::Instant::now();
        let mut retries = 0;
        loop {
            let status = match self.attempt(method, f(req.clone())).await {
                Ok(resp) => return Ok(self.finish(resp)),
                Err(status) => status,
            };
            let decision = crate::retry::decide(
                &self.retry,
                verb,
                &crate::retry::classify(&status),
                retries,
                first.elapsed(),
                crate::retry::random(),
            );
            let error = status_error(&status, &self.connection);
            let Decision::Retry { after, why } = decision else {
                return Err(error);
            };
            retries += 1;
            crate::metrics::observe_retry(&self.host, method, proto::error::http_code(&status));
            tracing::warn!(
                verb = ?verb,
                reason = error.reason.as_str(),
                error = %error.message,
                retry_in = ?after,
                retry = retries,
                "{why}; retrying"
            );
            drop((status, error));
            tokio::time::sleep(after).await;
        }
    }

    /// One attempt, counted in `rest_client_requests_total` and its latency histogram.
    async fn attempt<T>(
        &self,
        method: &'static str,
        call: impl std::future::Future<Output = Result<tonic::Response<T>, tonic::Status>>,
    ) -> Result<tonic::Response<T>, tonic::Status> {
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
        res
    }

    /// A successful answer's message; its warnings go to the warning handler.
    fn finish<T>(&self, resp: tonic::Response<T>) -> T {
        for w in crate::warnings::from_metadata(resp.metadata()) {
            self.warnings.handle(&w);
        }
        resp.into_inner()
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
