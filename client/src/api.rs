//! `Api<K>`: typed access to one kind, in one namespace or across all. Converts between `K`
//! and the wire's `Object` oneof, and names the resource by `K::INFO.plural`.

use crate::dynamic::Client;
use futures::stream::{BoxStream, StreamExt};
use proto::k8s::{
    self, DeleteRequest, ListRequest, PatchRequest, Preconditions, Scale, WatchRequest,
};
use proto::{ApiError, Reason, Resource};
use std::marker::PhantomData;

/// Typed handle; cheap to clone (shares the client's connection).
pub struct Api<K> {
    client: Client,
    /// "" means all namespaces (or a cluster-scoped kind).
    namespace: String,
    _kind: PhantomData<fn() -> K>,
}

impl<K> Clone for Api<K> {
    fn clone(&self) -> Self {
        Api {
            client: self.client.clone(),
            namespace: self.namespace.clone(),
            _kind: PhantomData,
        }
    }
}

impl<K> std::fmt::Debug for Api<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api")
            .field("namespace", &self.namespace)
            .finish()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListParams {
    pub label_selector: String,
    pub field_selector: String,
    /// 0: no limit.
    pub limit: i64,
    pub continue_token: String,
}

impl ListParams {
    pub fn labels(selector: &str) -> Self {
        ListParams {
            label_selector: selector.to_string(),
            ..Default::default()
        }
    }
    pub fn fields(selector: &str) -> Self {
        ListParams {
            field_selector: selector.to_string(),
            ..Default::default()
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ObjectList<K> {
    pub items: Vec<K>,
    /// The revision the list reflects: where a watch continues from.
    pub resource_version: String,
    /// Non-empty when more pages follow; pass it as `ListParams::continue_token`.
    pub continue_token: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeleteParams {
    pub grace_period_seconds: Option<i64>,
    /// "Background" (the server's default when empty), "Foreground" or "Orphan".
    pub propagation_policy: String,
    pub preconditions: Option<DeletePreconditions>,
}

impl DeleteParams {
    pub fn background() -> Self {
        DeleteParams {
            propagation_policy: "Background".into(),
            ..Default::default()
        }
    }
    pub fn foreground() -> Self {
        DeleteParams {
            propagation_policy: "Foreground".into(),
            ..Default::default()
        }
    }
    pub fn orphan() -> Self {
        DeleteParams {
            propagation_policy: "Orphan".into(),
            ..Default::default()
        }
    }
}

/// Delete only if the object still has this uid / resourceVersion (else Conflict).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeletePreconditions {
    pub uid: String,
    pub resource_version: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WatchParams {
    /// Deliver every change after this revision; empty: from now, no replay.
    pub resource_version: String,
    pub label_selector: String,
    pub field_selector: String,
    pub bookmarks: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum WatchEvent<K> {
    Added(K),
    Modified(K),
    /// The object's last state.
    Deleted(K),
    /// The revision the watch has reached, with nothing to deliver.
    Bookmark(String),
}

impl<K: Resource> WatchEvent<K> {
    /// The revision this event reflects.
    pub fn resource_version(&self) -> &str {
        match self {
            WatchEvent::Added(o) | WatchEvent::Modified(o) | WatchEvent::Deleted(o) => {
                &o.meta().resource_version
            }
            WatchEvent::Bookmark(rv) => rv,
        }
    }
}

pub type WatchStream<K> = BoxStream<'static, Result<WatchEvent<K>, ApiError>>;

pub(crate) type TracedWatchStream<K> =
    BoxStream<'static, Result<(WatchEvent<K>, Option<telemetry::trace::TraceParent>), ApiError>>;

impl<K: Resource> Api<K> {
    /// For a cluster-scoped kind the namespace is ignored.
    pub fn namespaced(client: Client, namespace: &str) -> Self {
        let namespace = if K::INFO.namespaced {
            namespace.to_string()
        } else {
            String::new()
        };
        Api {
            client,
            namespace,
            _kind: PhantomData,
        }
    }

    /// Every namespace (list, watch; writes use the object's own namespace), or a
    /// cluster-scoped kind.
    pub fn all(client: Client) -> Self {
        Api {
            client,
            namespace: String::new(),
            _kind: PhantomData,
        }
    }

    /// "" for all namespaces.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The namespace for a call that names one object.
    fn target_namespace(&self, name: &str) -> Result<&str, ApiError> {
        if K::INFO.namespaced && self.namespace.is_empty() {
            return Err(ApiError::bad_request(format!(
                "{} {name:?}: a namespace is required (this Api spans all namespaces)",
                K::INFO.singular
            )));
        }
        Ok(&self.namespace)
    }

    pub async fn get(&self, name: &str) -> Result<K, ApiError> {
        let ns = self.target_namespace(name)?;
        let obj = self.client.get(K::INFO.plural, ns, name).await?;
        from_object(obj)
    }

    /// `None` when the object does not exist.
    pub async fn get_opt(&self, name: &str) -> Result<Option<K>, ApiError> {
        match self.get(name).await {
            Ok(o) => Ok(Some(o)),
            Err(e) if e.is(Reason::NotFound) => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub async fn list(&self, params: &ListParams) -> Result<ObjectList<K>, ApiError> {
        let resp = self
            .client
            .list(ListRequest {
                resource: K::INFO.plural.to_string(),
                namespace: self.namespace.clone(),
                label_selector: params.label_selector.clone(),
                field_selector: params.field_selector.clone(),
                limit: params.limit,
                r#continue: params.continue_token.clone(),
            })
            .await?;
        let items = resp
            .items
            .into_iter()
            .map(from_object)
            .collect::<Result<Vec<K>, _>>()?;
        Ok(ObjectList {
            items,
            resource_version: resp.resource_version,
            continue_token: resp.r#continue,
        })
    }

    /// Fills in this Api's namespace when the object names none.
    pub async fn create(&self, object: &K) -> Result<K, ApiError> {
        let obj = self.with_namespace(object.clone())?;
        from_object(self.client.create(obj.into_object()).await?)
    }

    /// Replaces spec and metadata; fails with Conflict if the object changed since it was
    /// read (its resourceVersion is stale).
    pub async fn update(&self, object: &K) -> Result<K, ApiError> {
        let obj = self.with_namespace(object.clone())?;
        from_object(self.client.update(obj.into_object(), "").await?)
    }

    /// Writes `status` only, through the status subresource.
    pub async fn update_status(&self, object: &K) -> Result<K, ApiError> {
        let obj = self.with_namespace(object.clone())?;
        from_object(self.client.update(obj.into_object(), "status").await?)
    }

    /// RFC 7386 JSON merge patch of the main resource.
    pub async fn patch_merge(&self, name: &str, patch: &serde_json::Value) -> Result<K, ApiError> {
        self.patch_merge_sub(name, patch, "").await
    }

    /// RFC 7386 JSON merge patch of the status subresource.
    pub async fn patch_merge_status(
        &self,
        name: &str,
        patch: &serde_json::Value,
    ) -> Result<K, ApiError> {
        self.patch_merge_sub(name, patch, "status").await
    }

    async fn patch_merge_sub(
        &self,
        name: &str,
        patch: &serde_json::Value,
        subresource: &str,
    ) -> Result<K, ApiError> {
        let ns = self.target_namespace(name)?;
        let req = PatchRequest {
            resource: K::INFO.plural.to_string(),
            namespace: ns.to_string(),
            name: name.to_string(),
            patch_type: "merge".to_string(),
            patch: patch.to_string(),
            subresource: subresource.to_string(),
            dry_run: false,
            ..Default::default()
        };
        from_object(self.client.patch(req).await?)
    }

    /// Returns the object as it stands after the call: still present (with a
    /// deletionTimestamp) while finalizers or a grace period hold it.
    pub async fn delete(&self, name: &str, params: &DeleteParams) -> Result<K, ApiError> {
        let ns = self.target_namespace(name)?;
        let req = DeleteRequest {
            resource: K::INFO.plural.to_string(),
            namespace: ns.to_string(),
            name: name.to_string(),
            preconditions: params.preconditions.as_ref().map(|p| Preconditions {
                uid: p.uid.clone(),
                resource_version: p.resource_version.clone(),
            }),
            grace_period_seconds: params.grace_period_seconds,
            propagation_policy: params.propagation_policy.clone(),
            dry_run: false,
        };
        from_object(self.client.delete(req).await?)
    }

    /// A stream of changes; it ends with an error item when the server cuts it off
    /// (`Reason::Expired` when `resource_version` is older than the retained history).
    pub async fn watch(&self, params: &WatchParams) -> Result<WatchStream<K>, ApiError> {
        Ok(self
            .watch_traced(params)
            .await?
            .map(|item| item.map(|(ev, _)| ev))
            .boxed())
    }

    /// As `watch`, each event with the trace context of the write that produced it (when
    /// the apiserver and this process export traces): what informers hand on.
    pub(crate) async fn watch_traced(
        &self,
        params: &WatchParams,
    ) -> Result<TracedWatchStream<K>, ApiError> {
        let stream = self
            .client
            .watch(WatchRequest {
                resource: K::INFO.plural.to_string(),
                namespace: self.namespace.clone(),
                label_selector: params.label_selector.clone(),
                field_selector: params.field_selector.clone(),
                resource_version: params.resource_version.clone(),
                allow_watch_bookmarks: params.bookmarks,
            })
            .await?;
        Ok(stream
            .map(|item| match item {
                Ok(ev) => {
                    let parent = if telemetry::trace::exporting() {
                        telemetry::trace::TraceParent::parse(&ev.trace_parent)
                    } else {
                        None
                    };
                    from_wire_event(ev).map(|ev| (ev, parent))
                }
                Err(status) => Err(ApiError::from_status(&status)),
            })
            .boxed())
    }

    /// Fails with BadRequest for kinds without a scale subresource.
    pub async fn get_scale(&self, name: &str) -> Result<Scale, ApiError> {
        self.require_scale()?;
        let ns = self.target_namespace(name)?;
        self.client.get_scale(K::INFO.plural, ns, name).await
    }

    /// Sets `spec.replicas` through the scale subresource; the scale's resourceVersion,
    /// when set, guards against a concurrent change (Conflict).
    pub async fn replace_scale(&self, name: &str, scale: &Scale) -> Result<Scale, ApiError> {
        self.require_scale()?;
        let ns = self.target_namespace(name)?.to_string();
        let mut scale = scale.clone();
        let meta = scale.metadata.get_or_insert_with(Default::default);
        meta.name = name.to_string();
        if meta.namespace.is_empty() {
            meta.namespace = ns;
        }
        self.client.update_scale(K::INFO.plural, scale).await
    }

    fn require_scale(&self) -> Result<(), ApiError> {
        if K::INFO.has_scale {
            Ok(())
        } else {
            Err(ApiError::bad_request(format!(
                "{} has no scale subresource",
                K::INFO.qualified_singular()
            )))
        }
    }

    fn with_namespace(&self, mut object: K) -> Result<K, ApiError> {
        set_namespace(&mut object, &self.namespace)?;
        Ok(object)
    }
}

/// Gives `object` this Api's namespace if it names none; refuses a different one, which
/// would otherwise be written somewhere the caller did not ask for.
fn set_namespace<K: Resource>(object: &mut K, api_namespace: &str) -> Result<(), ApiError> {
    if !K::INFO.namespaced || api_namespace.is_empty() {
        return Ok(());
    }
    let meta = object.meta_mut();
    if meta.namespace.is_empty() {
        meta.namespace = api_namespace.to_string();
    } else if meta.namespace != api_namespace {
        return Err(ApiError::bad_request(format!(
            "{} {:?}: namespace {:?} does not match the request's namespace {api_namespace:?}",
            K::INFO.singular,
            meta.name,
            meta.namespace
        )));
    }
    Ok(())
}

fn from_object<K: Resource>(object: k8s::Object) -> Result<K, ApiError> {
    K::try_from_object(object).map_err(|other| {
        ApiError::internal(format!(
            "the server returned a {} where a {} was expected",
            other.info().map_or("empty object", |i| i.kind),
            K::INFO.kind
        ))
    })
}

fn from_wire_event<K: Resource>(ev: k8s::WatchEvent) -> Result<WatchEvent<K>, ApiError> {
    let object = || {
        ev.object.clone().ok_or_else(|| {
            ApiError::internal(format!("watch event {} carries no object", ev.r#type))
        })
    };
    match ev.r#type.as_str() {
        "ADDED" => Ok(WatchEvent::Added(from_object(object()?)?)),
        "MODIFIED" => Ok(WatchEvent::Modified(from_object(object()?)?)),
        "DELETED" => Ok(WatchEvent::Deleted(from_object(object()?)?)),
        "BOOKMARK" => Ok(WatchEvent::Bookmark(ev.resource_version)),
        other => Err(ApiError::internal(format!(
            "unknown watch event type {other:?}"
        ))),
    }
}

impl Api<k8s::Pod> {
    /// Evicts the pod through its `eviction` subresource (kubectl drain's way): refused
    /// with `Reason::TooManyRequests` while that would break a PodDisruptionBudget.
    pub async fn evict(&self, name: &str, eviction: &k8s::Eviction) -> Result<(), ApiError> {
        let ns = self.target_namespace(name)?.to_string();
        let mut eviction = eviction.clone();
        let meta = eviction.metadata.get_or_insert_with(Default::default);
        if meta.name.is_empty() {
            meta.name = name.to_string();
        }
        if meta.namespace.is_empty() {
            meta.namespace = ns.clone();
        }
        self.client.evict(&ns, name, eviction).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::k8s::{ConfigMap, Namespace, Pod};

    fn pod(ns: &str, name: &str) -> Pod {
        let mut p = Pod::default();
        p.meta_mut().name = name.into();
        p.meta_mut().namespace = ns.into();
        p
    }

    #[test]
    fn namespace_is_filled_in_and_mismatch_refused() {
        let mut p = pod("", "a");
        set_namespace(&mut p, "ns1").unwrap();
        assert_eq!(p.meta().namespace, "ns1");
        let mut q = pod("ns2", "b");
        let err = set_namespace(&mut q, "ns1").unwrap_err();
        assert_eq!(err.reason, Reason::BadRequest);
        assert!(
            err.message.contains("ns2") && err.message.contains("ns1"),
            "{err}"
        );
        let mut r = pod("ns2", "c");
        set_namespace(&mut r, "").unwrap();
        assert_eq!(r.meta().namespace, "ns2");
        let mut n = Namespace::default();
        set_namespace(&mut n, "ns1").unwrap();
        assert_eq!(n.meta().namespace, "");
    }

    #[test]
    fn wire_events_convert() {
        let ev = |t: &str, obj: Option<k8s::Object>| k8s::WatchEvent {
            r#type: t.into(),
            object: obj,
            resource_version: "7".into(),
            trace_parent: String::new(),
        };
        let added: WatchEvent<Pod> =
            from_wire_event(ev("ADDED", Some(pod("d", "a").into_object()))).unwrap();
        assert_eq!(added, WatchEvent::Added(pod("d", "a")));
        let bm: WatchEvent<Pod> = from_wire_event(ev("BOOKMARK", None)).unwrap();
        assert_eq!(bm, WatchEvent::Bookmark("7".into()));
        assert_eq!(bm.resource_version(), "7");
        let wrong =
            from_wire_event::<Pod>(ev("MODIFIED", Some(ConfigMap::default().into_object())));
        assert!(wrong.unwrap_err().message.contains("ConfigMap"));
        assert!(from_wire_event::<Pod>(ev("DELETED", None)).is_err());
        assert!(from_wire_event::<Pod>(ev("ERROR", None)).is_err());
    }

    #[tokio::test]
    async fn name_calls_on_an_all_namespaces_api_are_refused_before_any_io() {
        let client = Client::lazy("http://127.0.0.1:1").unwrap();
        let pods: Api<Pod> = Api::all(client.clone());
        let err = pods.get("x").await.unwrap_err();
        assert_eq!(err.reason, Reason::BadRequest);
        let cms: Api<ConfigMap> = Api::namespaced(client, "d");
        assert_eq!(
            cms.get_scale("x").await.unwrap_err().reason,
            Reason::BadRequest
        );
    }
}
