//! The gRPC face of the registry: decodes requests, authorizes each one (Kubernetes'
//! verb/resource/subresource/namespace/name attributes), opens a span with the object key,
//! calls the registry as the request's user (so admission sees who asks), maps its
//! `ApiError`s to statuses (through `proto::error`, the one place that mapping lives), and
//! writes the audit line.

use std::future::Future;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::SystemTime;

use proto::k8s::api_server::Api;
use proto::k8s::{
    BindRequest, BindResponse, CreateRequest, DeleteRequest, EvictRequest, EvictResponse,
    GetRequest, GetScaleRequest, ListRequest, ListResponse, Object, PatchRequest, Scale,
    UpdateRequest, UpdateScaleRequest, WatchRequest,
};
use tokio::sync::watch;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};
use tracing::{Instrument, info_span};

use crate::audit::{Audit, Level, Record};
use crate::auth::authz::{AlwaysAllow, forbidden_message};
use crate::auth::context::{scope, user_of};
use crate::auth::{Attributes, Authorizer, Decision, User};
use crate::registry::Registry;
use crate::store::Store;
use crate::watch::{EventResult, WatchConfig};

pub struct ApiService<S> {
    registry: Registry<S>,
    watch_config: WatchConfig,
    shutdown: watch::Receiver<bool>,
    authorizer: Arc<dyn Authorizer>,
    audit: Audit,
}

impl<S: Store> ApiService<S> {
    /// Allows every request and audits nothing until `with_authorizer` / `with_audit`.
    pub fn new(
        registry: Registry<S>,
        watch_config: WatchConfig,
        shutdown: watch::Receiver<bool>,
    ) -> Self {
        ApiService {
            registry,
            watch_config,
            shutdown,
            authorizer: Arc::new(AlwaysAllow),
            audit: Audit::disabled(),
        }
    }

    pub fn with_authorizer(mut self, authorizer: Arc<dyn Authorizer>) -> Self {
        self.authorizer = authorizer;
        self
    }

    pub fn with_audit(mut self, audit: Audit) -> Self {
        self.audit = audit;
        self
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

/// The attributes of a request on `resource`: its API group from the kind registry, and no
/// namespace for cluster-scoped kinds (whatever the request carried).
pub fn attributes(
    verb: &str,
    resource: &str,
    subresource: &str,
    namespace: &str,
    name: &str,
) -> Attributes {
    let kind = proto::resource::kind_by_plural(resource);
    let group = kind.map_or("", |k| k.group);
    let namespace = match kind {
        Some(k) if !k.namespaced => "",
        // A namespaced create without a namespace lands in "default", as the registry does.
        Some(_) if namespace.is_empty() && verb == "create" => "default",
        _ => namespace,
    };
    Attributes::resource(verb, group, resource, namespace, name).with_subresource(subresource)
}

/// A watch or list narrowed to one object by `metadata.name=<x>` names that object, so
/// rules restricted to resourceNames (and the Node authorizer) can allow it.
pub fn selected_name(field_selector: &str) -> String {
    proto::selector::FieldSelector::parse(field_selector)
        .ok()
        .and_then(|s| s.exact_value("metadata.name").map(str::to_string))
        .unwrap_or_default()
}

/// The field manager a write is recorded under: the one it names, else (as Kubernetes) the
/// User-Agent up to its first `/` (`kubectl`), cut to 128 characters. gRPC clients of this
/// project (tonic's agent) name none and get none: their writes record no managedFields.
fn field_manager<T>(request: &Request<T>, named: &str) -> String {
    if !named.is_empty() {
        return named.to_string();
    }
    let agent = request
        .metadata()
        .get("user-agent")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    default_field_manager(agent)
}

fn default_field_manager(agent: &str) -> String {
    let prefix = agent.split('/').next().unwrap_or_default().trim();
    if prefix.is_empty() || prefix.starts_with("tonic") || prefix.starts_with("grpc") {
        return String::new();
    }
    prefix.chars().take(128).collect()
}

fn source_ip<T>(request: &Request<T>) -> Option<IpAddr> {
    // Over TLS the connection info is pki's; tonic's `remote_addr` knows only plain TCP.
    request
        .extensions()
        .get::<pki::tls::TlsConnectInfo>()
        .and_then(|i| i.remote_addr)
        .or_else(|| request.remote_addr())
        .map(|a| a.ip())
}

/// One request on its way through authorization, the registry and the audit log.
struct Call {
    user: Arc<User>,
    attrs: Attributes,
    received: SystemTime,
    source_ip: Option<IpAddr>,
    level: Level,
    /// The object's name when the request does not carry it in its attributes (a create),
    /// for the audit line's objectRef, as Kubernetes completes it from the body.
    object_name: String,
    /// Where a gRPC call's metrics labels go, with what the attributes do not say.
    metrics: Option<crate::metrics::Slot>,
    dry_run: bool,
    apply: bool,
}

impl Call {
    fn wants_request_body(&self) -> bool {
        self.level >= Level::Request
    }
    fn wants_response_body(&self) -> bool {
        self.level >= Level::RequestResponse
    }
}

impl<S: Store> ApiService<S> {
    fn call<T>(&self, request: &Request<T>, attrs: Attributes) -> Call {
        let user = user_of(request);
        let level = self.audit.level(&user, &attrs);
        Call {
            user,
            attrs,
            received: SystemTime::now(),
            source_ip: source_ip(request),
            level,
            object_name: String::new(),
            metrics: crate::metrics::Slot::current(),
            dry_run: false,
            apply: false,
        }
    }

    fn audit(
        &self,
        call: &Call,
        decision: &Decision,
        outcome: Result<(), &Status>,
        request_object: Option<serde_json::Value>,
        response_object: Option<serde_json::Value>,
    ) {
        if call.level == Level::None {
            return;
        }
        let created = call.attrs.verb == "create" && outcome.is_ok();
        let mut attrs = call.attrs.clone();
        if attrs.name.is_empty() {
            attrs.name = call.object_name.clone();
        }
        self.audit.log(Record {
            user: &call.user,
            attrs: &attrs,
            source_ip: call.source_ip,
            received: call.received,
            decision,
            outcome,
            created,
            request_object,
            response_object,
        });
    }

    /// Authorizes `call`, then runs `serve` as its user and audits the outcome.
    /// `response_json` renders a successful answer for RequestResponse audit lines.
    async fn serve<T, F>(
        &self,
        call: Call,
        request_object: Option<serde_json::Value>,
        serve: F,
        response_json: impl Fn(&T) -> Option<serde_json::Value>,
    ) -> Result<Response<T>, Status>
    where
        T: WireSize,
        F: Future<Output = Result<Response<T>, Status>>,
    {
        if let Some(slot) = &call.metrics {
            slot.set(|| {
                crate::metrics::request::from_attributes(&call.attrs, call.dry_run, call.apply)
            });
        }
        let decision = self.authorizer.authorize(&call.user, &call.attrs).await;
        if decision != Decision::Allow {
            let reason = match &decision {
                Decision::Deny(r) | Decision::NoOpinion(r) => r.as_str(),
                Decision::Allow => "",
            };
            let status: Status =
                proto::ApiError::forbidden(forbidden_message(&call.user, &call.attrs, reason))
                    .into();
            tracing::debug!(user = %call.user.name, verb = %call.attrs.verb, resource = %call.attrs.resource, namespace = %call.attrs.namespace, name = %call.attrs.name, "forbidden");
            self.audit(&call, &decision, Err(&status), request_object, None);
            if let Some(slot) = &call.metrics {
                slot.answered(Err::<fn() -> u64, _>(&status));
            }
            return Err(status);
        }
        let result = scope(call.user.clone(), serve).await;
        if let Some(slot) = &call.metrics {
            slot.answered(result.as_ref().map(|r| || r.get_ref().wire_size()));
        }
        match &result {
            Ok(r) => {
                let body = if call.wants_response_body() {
                    response_json(r.get_ref())
                } else {
                    None
                };
                self.audit(&call, &decision, Ok(()), request_object, body);
            }
            Err(s) => self.audit(&call, &decision, Err(s), request_object, None),
        }
        result
    }
}

/// An answer's size on the wire, for `apiserver_response_sizes`: a message in its gRPC
/// frame (5 bytes of header, uncompressed); a stream's is counted as it is sent.
trait WireSize {
    fn wire_size(&self) -> u64;
}

const GRPC_FRAME_HEADER: u64 = 5;

macro_rules! message_wire_size {
    ($($t:ty),*) => {$(
        impl WireSize for $t {
            fn wire_size(&self) -> u64 {
                GRPC_FRAME_HEADER + prost::Message::encoded_len(self) as u64
            }
        }
    )*};
}

message_wire_size!(Object, ListResponse, Scale, BindResponse, EvictResponse);

impl<T> WireSize for ReceiverStream<T> {
    fn wire_size(&self) -> u64 {
        0
    }
}

fn object_json(o: &Object) -> Option<serde_json::Value> {
    Some(o.to_json())
}

fn no_json<T>(_: &T) -> Option<serde_json::Value> {
    None
}

#[tonic::async_trait]
impl<S: Store> Api for ApiService<S> {
    async fn create(&self, request: Request<CreateRequest>) -> Result<Response<Object>, Status> {
        let (resource, namespace) = match request.get_ref().object.as_ref() {
            Some(o) => (
                o.info().map_or("", |i| i.plural).to_string(),
                o.meta().namespace.clone(),
            ),
            None => (String::new(), String::new()),
        };
        let mut call = self.call(
            &request,
            attributes("create", &resource, "", &namespace, ""),
        );
        call.dry_run = request.get_ref().dry_run;
        let manager = field_manager(&request, &request.get_ref().field_manager);
        let req = request.into_inner();
        let span = info_span!("create", key = %key_of(req.object.as_ref()));
        let object = req
            .object
            .ok_or_else(|| Status::invalid_argument("create needs an object"))?;
        call.object_name = object.meta().name.clone();
        let body = if call.wants_request_body() {
            object_json(&object)
        } else {
            None
        };
        let registry = &self.registry;
        self.serve(
            call,
            body,
            async move {
                done_warned(
                    crate::warnings::collect(
                        registry
                            .create_managed(object, req.dry_run, &manager)
                            .instrument(span),
                    )
                    .await,
                )
            },
            object_json,
        )
        .await
    }

    async fn get(&self, request: Request<GetRequest>) -> Result<Response<Object>, Status> {
        let r = request.get_ref();
        let call = self.call(
            &request,
            attributes("get", &r.resource, "", &r.namespace, &r.name),
        );
        let r = request.into_inner();
        let span = info_span!("get", key = %key(&r.resource, &r.namespace, &r.name));
        let registry = &self.registry;
        self.serve(
            call,
            None,
            async move {
                done(
                    registry
                        .get(&r.resource, &r.namespace, &r.name)
                        .instrument(span)
                        .await,
                )
            },
            object_json,
        )
        .await
    }

    async fn list(&self, request: Request<ListRequest>) -> Result<Response<ListResponse>, Status> {
        let r = request.get_ref();
        let name = selected_name(&r.field_selector);
        let call = self.call(
            &request,
            attributes("list", &r.resource, "", &r.namespace, &name),
        );
        let r = request.into_inner();
        let span = info_span!("list", key = %key(&r.resource, &r.namespace, ""));
        let registry = &self.registry;
        self.serve(
            call,
            None,
            async move { done(registry.list(&r).instrument(span).await) },
            no_json,
        )
        .await
    }

    async fn update(&self, request: Request<UpdateRequest>) -> Result<Response<Object>, Status> {
        let r = request.get_ref();
        let (resource, namespace, name) = match r.object.as_ref() {
            Some(o) => (
                o.info().map_or("", |i| i.plural).to_string(),
                o.meta().namespace.clone(),
                o.meta().name.clone(),
            ),
            None => Default::default(),
        };
        let mut call = self.call(
            &request,
            attributes("update", &resource, &r.subresource, &namespace, &name),
        );
        call.dry_run = r.dry_run;
        let manager = field_manager(&request, &request.get_ref().field_manager);
        let r = request.into_inner();
        let span =
            info_span!("update", key = %key_of(r.object.as_ref()), subresource = %r.subresource);
        let object = r
            .object
            .ok_or_else(|| Status::invalid_argument("update needs an object"))?;
        let body = if call.wants_request_body() {
            object_json(&object)
        } else {
            None
        };
        let registry = &self.registry;
        let subresource = r.subresource;
        self.serve(
            call,
            body,
            async move {
                done_warned(
                    crate::warnings::collect(
                        registry
                            .update_managed(object, &subresource, r.dry_run, &manager)
                            .instrument(span),
                    )
                    .await,
                )
            },
            object_json,
        )
        .await
    }

    async fn patch(&self, request: Request<PatchRequest>) -> Result<Response<Object>, Status> {
        let r = request.get_ref();
        let mut call = self.call(
            &request,
            attributes("patch", &r.resource, &r.subresource, &r.namespace, &r.name),
        );
        call.dry_run = r.dry_run;
        call.apply = r.patch_type == "apply" || r.patch_type.starts_with("application/apply-patch");
        let manager = field_manager(&request, &request.get_ref().field_manager);
        let mut r = request.into_inner();
        r.field_manager = manager;
        let span = info_span!("patch", key = %key(&r.resource, &r.namespace, &r.name));
        let body = if call.wants_request_body() {
            serde_json::from_str(&r.patch).ok()
        } else {
            None
        };
        let registry = &self.registry;
        self.serve(
            call,
            body,
            async move {
                done_warned(crate::warnings::collect(registry.patch(&r).instrument(span)).await)
            },
            object_json,
        )
        .await
    }

    async fn delete(&self, request: Request<DeleteRequest>) -> Result<Response<Object>, Status> {
        let r = request.get_ref();
        let mut call = self.call(
            &request,
            attributes("delete", &r.resource, "", &r.namespace, &r.name),
        );
        call.dry_run = r.dry_run;
        let r = request.into_inner();
        let span = info_span!("delete", key = %key(&r.resource, &r.namespace, &r.name));
        let registry = &self.registry;
        self.serve(
            call,
            None,
            async move { done(registry.delete(&r).instrument(span).await) },
            object_json,
        )
        .await
    }

    type WatchStream = ReceiverStream<EventResult>;

    async fn watch(
        &self,
        request: Request<WatchRequest>,
    ) -> Result<Response<Self::WatchStream>, Status> {
        let r = request.get_ref();
        let name = selected_name(&r.field_selector);
        let call = self.call(
            &request,
            attributes("watch", &r.resource, "", &r.namespace, &name),
        );
        let r = request.into_inner();
        let span = info_span!("watch", key = %key(&r.resource, &r.namespace, ""), rv = %r.resource_version);
        let registry = &self.registry;
        let (config, shutdown) = (&self.watch_config, self.shutdown.clone());
        // Audited once the watch is established (Kubernetes also logs ResponseStarted).
        self.serve(
            call,
            None,
            async move {
                let rx = registry.watch(r, config, shutdown).instrument(span).await;
                done(rx.map(ReceiverStream::new))
            },
            no_json,
        )
        .await
    }

    async fn get_scale(
        &self,
        request: Request<GetScaleRequest>,
    ) -> Result<Response<Scale>, Status> {
        let r = request.get_ref();
        let call = self.call(
            &request,
            attributes("get", &r.resource, "scale", &r.namespace, &r.name),
        );
        let r = request.into_inner();
        let span = info_span!("get_scale", key = %key(&r.resource, &r.namespace, &r.name));
        let registry = &self.registry;
        self.serve(
            call,
            None,
            async move {
                done(
                    registry
                        .get_scale(&r.resource, &r.namespace, &r.name)
                        .instrument(span)
                        .await,
                )
            },
            no_json,
        )
        .await
    }

    async fn update_scale(
        &self,
        request: Request<UpdateScaleRequest>,
    ) -> Result<Response<Scale>, Status> {
        let r = request.get_ref();
        let m = r
            .scale
            .as_ref()
            .and_then(|s| s.metadata.clone())
            .unwrap_or_default();
        let call = self.call(
            &request,
            attributes("update", &r.resource, "scale", &m.namespace, &m.name),
        );
        let manager = field_manager(&request, &request.get_ref().field_manager);
        let r = request.into_inner();
        let scale = r
            .scale
            .ok_or_else(|| Status::invalid_argument("update_scale needs a scale"))?;
        let span = info_span!("update_scale", key = %key(&r.resource, &m.namespace, &m.name));
        let registry = &self.registry;
        self.serve(
            call,
            None,
            async move {
                done(
                    registry
                        .update_scale(&r.resource, scale, &manager, r.dry_run)
                        .instrument(span)
                        .await,
                )
            },
            no_json,
        )
        .await
    }

    async fn bind(&self, request: Request<BindRequest>) -> Result<Response<BindResponse>, Status> {
        let m = request
            .get_ref()
            .binding
            .as_ref()
            .and_then(|b| b.metadata.clone())
            .unwrap_or_default();
        let call = self.call(
            &request,
            attributes("create", "pods", "binding", &m.namespace, &m.name),
        );
        let r = request.into_inner();
        let binding = r
            .binding
            .ok_or_else(|| Status::invalid_argument("bind needs a binding"))?;
        let span = info_span!("bind", key = %key("pods", &m.namespace, &m.name));
        let registry = &self.registry;
        self.serve(
            call,
            None,
            async move {
                done(
                    registry
                        .bind(binding)
                        .instrument(span)
                        .await
                        .map(|_| BindResponse {}),
                )
            },
            no_json,
        )
        .await
    }

    async fn evict(
        &self,
        request: Request<EvictRequest>,
    ) -> Result<Response<EvictResponse>, Status> {
        let r = request.get_ref();
        let call = self.call(
            &request,
            attributes("create", "pods", "eviction", &r.namespace, &r.name),
        );
        let r = request.into_inner();
        let span = info_span!("evict", key = %key("pods", &r.namespace, &r.name));
        let registry = &self.registry;
        self.serve(
            call,
            None,
            async move {
                let eviction = r.eviction.unwrap_or_default();
                // Boxed: an eviction nests several registry calls, a large future.
                let evicted = Box::pin(registry.evict(&r.namespace, &r.name, eviction));
                match evicted.instrument(span).await {
                    Ok(()) => Ok(Response::new(EvictResponse {})),
                    Err(refusal) => Err(crate::eviction::refusal_status(refusal)),
                }
            },
            no_json,
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_follow_the_kind_registry() {
        let a = attributes("get", "deployments", "scale", "team", "web");
        assert_eq!(
            (a.api_group.as_str(), a.subresource.as_str()),
            ("apps", "scale")
        );
        // Cluster-scoped kinds carry no namespace, whatever the request said.
        assert_eq!(attributes("get", "nodes", "", "team", "n1").namespace, "");
        assert_eq!(
            attributes("create", "pods", "", "", "").namespace,
            "default"
        );
        assert_eq!(
            attributes("list", "clusterroles", "", "", "").api_group,
            "rbac.authorization.k8s.io"
        );
    }

    #[test]
    fn field_managers_default_to_the_user_agent_prefix() {
        assert_eq!(
            default_field_manager("kubectl/v1.32.0 (linux/amd64) kubernetes/abc"),
            "kubectl"
        );
        assert_eq!(default_field_manager("tonic/0.14.2"), "");
        assert_eq!(default_field_manager(""), "");
        assert_eq!(default_field_manager(&"x".repeat(300)).len(), 128);
    }

    #[test]
    fn a_single_name_field_selector_names_the_object() {
        assert_eq!(selected_name("metadata.name=web"), "web");
        assert_eq!(selected_name("metadata.name=web,spec.nodeName=n1"), "web");
        assert_eq!(selected_name("spec.nodeName=n1"), "");
        assert_eq!(selected_name("metadata.name!=web"), "");
        assert_eq!(selected_name(""), "");
    }
}
