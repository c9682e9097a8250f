//! The gRPC face of the registry: decodes requests, opens a span with the object key, calls
//! the registry and maps its `ApiError`s to statuses (through `proto::error`, the one place
//! that mapping lives).

use proto::k8s::api_server::Api;
use proto::k8s::{
    BindRequest, BindResponse, CreateRequest, DeleteRequest, GetRequest, GetScaleRequest,
    ListRequest, ListResponse, Object, PatchRequest, Scale, UpdateRequest, UpdateScaleRequest,
    WatchRequest,
};
use tokio::sync::watch;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};
use tracing::{Instrument, info_span};

use crate::registry::Registry;
use crate::store::Store;
use crate::watch::{EventResult, WatchConfig};

pub struct ApiService<S> {
    registry: Registry<S>,
    watch_config: WatchConfig,
    shutdown: watch::Receiver<bool>,
}

impl<S: Store> ApiService<S> {
    pub fn new(
        registry: Registry<S>,
        watch_config: WatchConfig,
        shutdown: watch::Receiver<bool>,
    ) -> Self {
        ApiService {
            registry,
            watch_config,
            shutdown,
        }
    }
}

fn key_of(object: Option<&Object>) -> String {
    match object.and_then(|o| o.info().map(|i| (i, o.meta()))) {
        Some((info, m)) if m.namespace.is_empty() => format!("{}/{}", info.plural, m.name),
        Some((info, m)) => format!("{}/{}/{}", info.plural, m.namespace, m.name),
        None => "<no kind>".to_string(),
    }
}

fn key(resource: &str, namespace: &str, name: &str) -> String {
    if namespace.is_empty() {
        format!("{resource}/{name}")
    } else {
        format!("{resource}/{namespace}/{name}")
    }
}

fn done<T>(r: Result<T, proto::ApiError>) -> Result<Response<T>, Status> {
    match r {
        Ok(v) => Ok(Response::new(v)),
        Err(e) => {
            tracing::debug!(reason = e.reason.as_str(), error = %e.message, "request failed");
            Err(e.into())
        }
    }
}

/// Like `done`, with the warnings admission added while serving the request sent back as
/// `warning` metadata (only on success: a refused request carries its error instead).
fn done_warned<T>(
    (r, warnings): (Result<T, proto::ApiError>, Vec<String>),
) -> Result<Response<T>, Status> {
    let mut response = done(r)?;
    crate::warnings::attach(response.metadata_mut(), &warnings);
    Ok(response)
}

#[tonic::async_trait]
impl<S: Store> Api for ApiService<S> {
    async fn create(&self, request: Request<CreateRequest>) -> Result<Response<Object>, Status> {
        let req = request.into_inner();
        let span = info_span!("create", key = %key_of(req.object.as_ref()));
        let object = req
            .object
            .ok_or_else(|| Status::invalid_argument("create needs an object"))?;
        done_warned(
            crate::warnings::collect(self.registry.create(object, req.dry_run).instrument(span))
                .await,
        )
    }

    async fn get(&self, request: Request<GetRequest>) -> Result<Response<Object>, Status> {
        let r = request.into_inner();
        let span = info_span!("get", key = %key(&r.resource, &r.namespace, &r.name));
        done(
            self.registry
                .get(&r.resource, &r.namespace, &r.name)
                .instrument(span)
                .await,
        )
    }

    async fn list(&self, request: Request<ListRequest>) -> Result<Response<ListResponse>, Status> {
        let r = request.into_inner();
        let span = info_span!("list", key = %key(&r.resource, &r.namespace, ""));
        done(self.registry.list(&r).instrument(span).await)
    }

    async fn update(&self, request: Request<UpdateRequest>) -> Result<Response<Object>, Status> {
        let r = request.into_inner();
        let span =
            info_span!("update", key = %key_of(r.object.as_ref()), subresource = %r.subresource);
        let object = r
            .object
            .ok_or_else(|| Status::invalid_argument("update needs an object"))?;
        done_warned(
            crate::warnings::collect(
                self.registry
                    .update(object, &r.subresource, r.dry_run)
                    .instrument(span),
            )
            .await,
        )
    }

    async fn patch(&self, request: Request<PatchRequest>) -> Result<Response<Object>, Status> {
        let r = request.into_inner();
        let span = info_span!("patch", key = %key(&r.resource, &r.namespace, &r.name));
        done_warned(crate::warnings::collect(self.registry.patch(&r).instrument(span)).await)
    }

    async fn delete(&self, request: Request<DeleteRequest>) -> Result<Response<Object>, Status> {
        let r = request.into_inner();
        let span = info_span!("delete", key = %key(&r.resource, &r.namespace, &r.name));
        done(self.registry.delete(&r).instrument(span).await)
    }

    type WatchStream = ReceiverStream<EventResult>;

    async fn watch(
        &self,
        request: Request<WatchRequest>,
    ) -> Result<Response<Self::WatchStream>, Status> {
        let r = request.into_inner();
        let span = info_span!("watch", key = %key(&r.resource, &r.namespace, ""), rv = %r.resource_version);
        let rx = self
            .registry
            .watch(r, &self.watch_config, self.shutdown.clone())
            .instrument(span)
            .await;
        done(rx.map(ReceiverStream::new))
    }

    async fn get_scale(
        &self,
        request: Request<GetScaleRequest>,
    ) -> Result<Response<Scale>, Status> {
        let r = request.into_inner();
        let span = info_span!("get_scale", key = %key(&r.resource, &r.namespace, &r.name));
        done(
            self.registry
                .get_scale(&r.resource, &r.namespace, &r.name)
                .instrument(span)
                .await,
        )
    }

    async fn update_scale(
        &self,
        request: Request<UpdateScaleRequest>,
    ) -> Result<Response<Scale>, Status> {
        let r = request.into_inner();
        let scale = r
            .scale
            .ok_or_else(|| Status::invalid_argument("update_scale needs a scale"))?;
        let m = scale.metadata.clone().unwrap_or_default();
        let span = info_span!("update_scale", key = %key(&r.resource, &m.namespace, &m.name));
        done(
            self.registry
                .update_scale(&r.resource, scale)
                .instrument(span)
                .await,
        )
    }

    async fn bind(&self, request: Request<BindRequest>) -> Result<Response<BindResponse>, Status> {
        let r = request.into_inner();
        let binding = r
            .binding
            .ok_or_else(|| Status::invalid_argument("bind needs a binding"))?;
        let m = binding.metadata.clone().unwrap_or_default();
        let span = info_span!("bind", key = %key("pods", &m.namespace, &m.name));
        done(
            self.registry
                .bind(binding)
                .instrument(span)
                .await
                .map(|_| BindResponse {}),
        )
    }
}
