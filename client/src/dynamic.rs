//! `Client`: the untyped connection. Resources are named by their plural; objects travel as
//! the `Object` oneof. `ctl` uses this directly; typed code goes through `Api<K>`.

use proto::k8s::api_client::ApiClient;
use proto::k8s::{
    BindRequest, Binding, CreateRequest, DeleteRequest, GetRequest, GetScaleRequest, ListRequest,
    ListResponse, Object, PatchRequest, Scale, UpdateRequest, UpdateScaleRequest, WatchEvent,
    WatchRequest,
};
use proto::{ApiError, Reason};
use std::time::Duration;
use tonic::transport::{Channel, Endpoint};

/// Cheap to clone: clones share one HTTP/2 connection.
#[derive(Clone, Debug)]
pub struct Client {
    inner: ApiClient<Channel>,
    server: String,
    warnings: crate::WarningHandler,
}

/// Big enough for the largest object the API accepts (1.5 MiB) and long lists.
const MAX_MESSAGE: usize = 256 * 1024 * 1024;

fn endpoint(server: &str) -> Result<Endpoint, ApiError> {
    Endpoint::from_shared(server.to_string())
        .map_err(|e| ApiError::bad_request(format!("invalid server address {server:?}: {e}")))
        .map(|e| {
            e.connect_timeout(Duration::from_secs(3))
                .tcp_nodelay(true)
                .http2_keep_alive_interval(Duration::from_secs(30))
                .keep_alive_while_idle(true)
        })
}

impl Client {
    /// Connects now; an unreachable server is a one-line `Unavailable` error.
    pub async fn connect(server: &str) -> Result<Client, ApiError> {
        let channel = endpoint(server)?.connect().await.map_err(|e| {
            ApiError::new(
                Reason::Unavailable,
                format!("cannot reach the apiserver at {server}: {}", root_cause(&e)),
            )
        })?;
        Ok(Self::from_channel(channel, server))
    }

    /// Connects on first use and reconnects after failures: for daemons, which retry.
    pub fn lazy(server: &str) -> Result<Client, ApiError> {
        Ok(Self::from_channel(endpoint(server)?.connect_lazy(), server))
    }

    fn from_channel(channel: Channel, server: &str) -> Client {
        let inner = ApiClient::new(channel)
            .max_decoding_message_size(MAX_MESSAGE)
            .max_encoding_message_size(MAX_MESSAGE);
        Client {
            inner,
            server: server.to_string(),
            warnings: crate::WarningHandler::default(),
        }
    }

    /// What to do with the warnings the apiserver sends with successful responses (by
    /// default they are logged).
    pub fn with_warning_handler(mut self, handler: crate::WarningHandler) -> Client {
        self.warnings = handler;
        self
    }

    pub fn server(&self) -> &str {
        &self.server
    }

    pub async fn create(&self, object: Object) -> Result<Object, ApiError> {
        let req = CreateRequest {
            object: Some(object),
            dry_run: false,
        };
        self.call(|mut c| async move { c.create(req).await }).await
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
        self.call(|mut c| async move { c.get(req).await }).await
    }

    pub async fn list(&self, req: ListRequest) -> Result<ListResponse, ApiError> {
        self.call(|mut c| async move { c.list(req).await }).await
    }

    /// `subresource` is "" or "status".
    pub async fn update(&self, object: Object, subresource: &str) -> Result<Object, ApiError> {
        let req = UpdateRequest {
            object: Some(object),
            subresource: subresource.to_string(),
            dry_run: false,
        };
        self.call(|mut c| async move { c.update(req).await }).await
    }

    pub async fn patch(&self, req: PatchRequest) -> Result<Object, ApiError> {
        self.call(|mut c| async move { c.patch(req).await }).await
    }

    pub async fn delete(&self, req: DeleteRequest) -> Result<Object, ApiError> {
        self.call(|mut c| async move { c.delete(req).await }).await
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
        self.call(|mut c| async move { c.get_scale(req).await })
            .await
    }

    pub async fn update_scale(&self, resource: &str, scale: Scale) -> Result<Scale, ApiError> {
        let req = UpdateScaleRequest {
            resource: resource.to_string(),
            scale: Some(scale),
        };
        self.call(|mut c| async move { c.update_scale(req).await })
            .await
    }

    pub async fn bind(&self, binding: Binding) -> Result<(), ApiError> {
        let req = BindRequest {
            binding: Some(binding),
        };
        self.call(|mut c| async move { c.bind(req).await })
            .await
            .map(|_| ())
    }

    /// A server stream of events; ends with an error item when the server cuts it off.
    pub async fn watch(&self, req: WatchRequest) -> Result<tonic::Streaming<WatchEvent>, ApiError> {
        self.call(|mut c| async move { c.watch(req).await }).await
    }

    async fn call<T, F, Fut>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(ApiClient<Channel>) -> Fut,
        Fut: std::future::Future<Output = Result<tonic::Response<T>, tonic::Status>>,
    {
        match f(self.inner.clone()).await {
            Ok(resp) => {
                for w in crate::warnings::from_metadata(resp.metadata()) {
                    self.warnings.handle(&w);
                }
                Ok(resp.into_inner())
            }
            Err(status) => {
                let mut e = ApiError::from_status(&status);
                if e.reason == Reason::Unavailable && status.code() == tonic::Code::Unavailable {
                    e.message = format!(
                        "cannot reach the apiserver at {}: {}",
                        self.server, e.message
                    );
                }
                Err(e)
            }
        }
    }
}

/// The innermost cause of a transport error: "Connection refused (os error 111)", not
/// "transport error".
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}
