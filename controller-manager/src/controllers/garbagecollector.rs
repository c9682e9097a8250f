//! Garbage collector (Kubernetes' garbagecollector controller): the ownerReferences graph
//! over every kind the API serves (Events aside), read from the shared informer caches,
//! whose owner index gives each object's dependents.
//!
//! - Background: a dependent whose owners are all gone (absent, or present with another
//!   uid) is deleted. Absence is confirmed with a live read, so a lagging cache never
//!   deletes the dependents of an owner that was just created.
//! - Foreground: an owner with a deletionTimestamp and the `foregroundDeletion` finalizer
//!   has its dependents deleted (in the foreground too); once no dependent with
//!   `blockOwnerDeletion: true` is left, the finalizer is removed and the owner goes.
//! - Orphan: an owner with the `orphan` finalizer has its ownerReference removed from every
//!   dependent, then the finalizer removed.
//!
//! A dependent that still has a live owner only loses its references to owners that are
//! gone or deleting in the foreground, as in Kubernetes.

use crate::context::Context;
use crate::error::Error;
use client::runtime::{Action, Controller, Request, backoff};
use client::{InformerEvent, Store, WorkQueue};
use futures::FutureExt;
use futures::future::BoxFuture;
use proto::k8s::{self, DeleteRequest, ObjectMeta, OwnerReference, Preconditions};
use proto::resource::{ALL_KINDS, kind_by_plural, kind_by_type};
use proto::{KindInfo, Reason, Resource};
use std::collections::BTreeSet;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

pub const NAME: &str = "garbagecollector";
pub const FOREGROUND_FINALIZER: &str = "foregroundDeletion";
pub const ORPHAN_FINALIZER: &str = "orphan";

/// What the collector needs to know of one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct View {
    pub info: &'static KindInfo,
    pub namespace: String,
    pub name: String,
    pub uid: String,
    pub owners: Vec<OwnerReference>,
    pub finalizers: Vec<String>,
    pub deleting: bool,
}

impl View {
    pub fn of(info: &'static KindInfo, m: &ObjectMeta) -> View {
        View {
            info,
            namespace: m.namespace.clone(),
            name: m.name.clone(),
            uid: m.uid.clone(),
            owners: m.owner_references.clone(),
            finalizers: m.finalizers.clone(),
            deleting: !m.deletion_timestamp.is_empty(),
        }
    }

    fn has_finalizer(&self, f: &str) -> bool {
        self.finalizers.iter().any(|x| x == f)
    }

    /// Deleting with the `foregroundDeletion` finalizer: waiting for its dependents.
    pub fn deleting_dependents(&self) -> bool {
        self.deleting && self.has_finalizer(FOREGROUND_FINALIZER)
    }

    pub fn orphaning(&self) -> bool {
        self.deleting && self.has_finalizer(ORPHAN_FINALIZER)
    }
}

/// The kind an ownerReference names (by apiVersion and kind; by kind alone if the
/// apiVersion is one this API does not serve).
pub fn owner_kind(r: &OwnerReference) -> Option<&'static KindInfo> {
    kind_by_type(&r.api_version, &r.kind)
        .or_else(|| ALL_KINDS.iter().copied().find(|k| k.kind == r.kind))
}

/// An owner as the collector found it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnerState {
    /// Exists (same uid) and is not deleting its dependents.
    Solid,
    /// Exists, deleting in the foreground.
    WaitingForDependents,
    /// Absent, or present with another uid.
    Dangling,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DependentAction {
    Nothing,
    /// Drop the references to these owner uids (the others keep it alive).
    RemoveOwnerRefs(Vec<String>),
    /// Delete with this propagation policy.
    Delete(&'static str),
}

/// Kubernetes' `attemptToDeleteItem` decision for an object that is not itself deleting
/// its dependents.
pub fn plan_dependent(item: &View, owners: &[(OwnerReference, OwnerState)]) -> DependentAction {
    if owners.is_empty() || item.deleting {
        return DependentAction::Nothing;
    }
    let of = |s: OwnerState| -> Vec<String> {
        owners
            .iter()
            .filter(|(_, st)| *st == s)
            .map(|(r, _)| r.uid.clone())
            .collect()
    };
    let (solid, waiting, dangling) = (
        of(OwnerState::Solid),
        of(OwnerState::WaitingForDependents),
        of(OwnerState::Dangling),
    );
    if !solid.is_empty() {
        let mut drop: Vec<String> = dangling.into_iter().chain(waiting).collect();
        drop.sort();
        drop.dedup();
        return if drop.is_empty() {
            DependentAction::Nothing
        } else {
            DependentAction::RemoveOwnerRefs(drop)
        };
    }
    if !waiting.is_empty() {
        return DependentAction::Delete("Foreground");
    }
    // Every owner is gone: delete it, keeping the policy its own finalizers ask for.
    let policy = if item.has_finalizer(ORPHAN_FINALIZER) {
        "Orphan"
    } else if item.has_finalizer(FOREGROUND_FINALIZER) {
        "Foreground"
    } else {
        "Background"
    };
    DependentAction::Delete(policy)
}

/// True when `dep` references `owner_uid` with `blockOwnerDeletion: true`.
pub fn blocks(dep: &View, owner_uid: &str) -> bool {
    dep.owners
        .iter()
        .any(|r| r.uid == owner_uid && r.block_owner_deletion == Some(true))
}

/// Foreground: the owner's finalizer may go once no blocking dependent is left.
pub fn foreground_done(owner_uid: &str, dependents: &[View]) -> bool {
    !dependents.iter().any(|d| blocks(d, owner_uid))
}

// ---------------------------------------------------------------------------------------
// the graph: every kind's cache behind one type-erased interface

trait KindStore: Send + Sync {
    fn info(&self) -> &'static KindInfo;
    fn get(&self, namespace: &str, name: &str) -> Option<View>;
    fn dependents(&self, owner_uid: &str) -> Vec<View>;
}

struct Typed<K: Resource>(Store<K>);

impl<K: Resource> KindStore for Typed<K> {
    fn info(&self) -> &'static KindInfo {
        K::INFO
    }
    fn get(&self, namespace: &str, name: &str) -> Option<View> {
        self.0
            .get_in(namespace, name)
            .map(|o| View::of(K::INFO, o.meta()))
    }
    fn dependents(&self, owner_uid: &str) -> Vec<View> {
        self.0
            .by_owner(owner_uid)
            .iter()
            .map(|o| View::of(K::INFO, o.meta()))
            .collect()
    }
}

struct Graph {
    stores: Vec<Box<dyn KindStore>>,
}

impl Graph {
    fn store(&self, info: &KindInfo) -> Option<&dyn KindStore> {
        self.stores
            .iter()
            .find(|s| std::ptr::eq(s.info(), info))
            .map(|s| s.as_ref())
    }

    fn dependents(&self, owner_uid: &str) -> Vec<View> {
        self.stores
            .iter()
            .flat_map(|s| s.dependents(owner_uid))
            .collect()
    }
}

/// Queue items name an object by kind, place and uid: `plural|namespace|name|uid`.
pub fn item_key(info: &KindInfo, namespace: &str, name: &str, uid: &str) -> String {
    format!("{}|{namespace}|{name}|{uid}", info.plural)
}

fn parse_item(key: &str) -> Option<(&'static KindInfo, &str, &str, &str)> {
    let mut it = key.splitn(4, '|');
    let info = kind_by_plural(it.next()?)?;
    Some((info, it.next()?, it.next()?, it.next()?))
}

fn owner_item(r: &OwnerReference, dependent_namespace: &str) -> Option<String> {
    let info = owner_kind(r)?;
    let ns = if info.namespaced {
        dependent_namespace
    } else {
        ""
    };
    Some(item_key(info, ns, &r.name, &r.uid))
}

/// Enqueues what an event may concern: the object itself and its owners (old and new).
fn enqueue_items<K: Resource>(ev: &InformerEvent<K>, q: &WorkQueue<String>) {
    let m = ev.object().meta();
    if let InformerEvent::Modified { old, .. } = ev {
        let o = old.meta();
        let relevant = o.owner_references != m.owner_references
            || o.finalizers != m.finalizers
            || o.deletion_timestamp != m.deletion_timestamp
            || o.uid != m.uid;
        if !relevant {
            return;
        }
        for r in &o.owner_references {
            if let Some(k) = owner_item(r, &o.namespace) {
                q.add(k);
            }
        }
    }
    q.add(item_key(K::INFO, &m.namespace, &m.name, &m.uid));
    for r in &m.owner_references {
        if let Some(k) = owner_item(r, &m.namespace) {
            q.add(k);
        }
    }
}

/// The graph's items are objects of every kind, keyed by kind, place and uid, so no one
/// kind is the controller's own: the runtime is given Namespace first (its `Request::object`,
/// looked up by a plain key, is never used), then every other kind the same way. It brings
/// the queue, the workers, the sync wait and the handlers' removal on stop.
struct GraphBuilder {
    controller: Controller<k8s::Namespace>,
    stores: Vec<Box<dyn KindStore>>,
}

impl GraphBuilder {
    fn new(ctx: &Context) -> Self {
        let informer = ctx.informer::<k8s::Namespace>();
        let stores: Vec<Box<dyn KindStore>> = vec![Box::new(Typed(informer.store()))];
        GraphBuilder {
            controller: Controller::new_with(NAME, informer, enqueue_items::<k8s::Namespace>),
            stores,
        }
    }

    fn kind<K: Resource>(mut self, ctx: &Context) -> Self {
        let informer = ctx.informer::<K>();
        self.stores.push(Box::new(Typed(informer.store())));
        self.controller = self.controller.watches_with(informer, enqueue_items::<K>);
        self
    }
}

fn build_graph(ctx: &Context) -> (Controller<k8s::Namespace>, Graph) {
    use k8s::*;
    // Every kind but Event (high churn, and Kubernetes' events are not owned in practice).
    let b = GraphBuilder::new(ctx)
        .kind::<Node>(ctx)
        .kind::<Pod>(ctx)
        .kind::<Service>(ctx)
        .kind::<Endpoints>(ctx)
        .kind::<ConfigMap>(ctx)
        .kind::<Secret>(ctx)
        .kind::<ServiceAccount>(ctx)
        .kind::<Lease>(ctx)
        .kind::<ReplicaSet>(ctx)
        .kind::<Deployment>(ctx)
        .kind::<DaemonSet>(ctx)
        .kind::<StatefulSet>(ctx)
        .kind::<Job>(ctx)
        .kind::<CronJob>(ctx)
        .kind::<HorizontalPodAutoscaler>(ctx)
        .kind::<ResourceQuota>(ctx)
        .kind::<LimitRange>(ctx)
        .kind::<PersistentVolume>(ctx)
        .kind::<PersistentVolumeClaim>(ctx)
        .kind::<Ingress>(ctx);
    (b.controller, Graph { stores: b.stores })
}

pub fn start(
    ctx: Arc<Context>,
    cancel: CancellationToken,
) -> BoxFuture<'static, Result<(), Error>> {
    run(ctx, cancel).boxed()
}

struct Collector {
    ctx: Arc<Context>,
    graph: Graph,
    queue: WorkQueue<String>,
}

async fn run(ctx: Arc<Context>, cancel: CancellationToken) -> Result<(), Error> {
    let (controller, graph) = build_graph(&ctx);
    let controller = controller.workers(ctx.config.concurrent_workers);
    let gc = Arc::new(Collector {
        queue: controller.queue(),
        ctx,
        graph,
    });
    controller
        .run(
            |req: Request<k8s::Namespace>, gc: Arc<Collector>| async move {
                reconcile(&gc.ctx, &gc.graph, &gc.queue, &req.key).await
            },
            backoff,
            gc,
            cancel,
        )
        .await;
    Ok(())
}

async fn reconcile(
    ctx: &Context,
    graph: &Graph,
    queue: &WorkQueue<String>,
    key: &str,
) -> Result<Action, Error> {
    let Some((info, ns, name, uid)) = parse_item(key) else {
        return Ok(Action::Done);
    };
    let Some(store) = graph.store(info) else {
        return Ok(Action::Done);
    };
    let Some(item) = store.get(ns, name).filter(|v| v.uid == uid) else {
        // Gone (or replaced): its dependents may now be orphans.
        for d in graph.dependents(uid) {
            queue.add(item_key(d.info, &d.namespace, &d.name, &d.uid));
        }
        return Ok(Action::Done);
    };
    let dependents = graph.dependents(uid);
    if item.deleting_dependents() {
        // Foreground: every dependent is deleted (each decides how through its owners).
        for d in &dependents {
            queue.add(item_key(d.info, &d.namespace, &d.name, &d.uid));
        }
        if foreground_done(uid, &dependents) {
            // Confirm live: a blocking dependent the cache has not shown yet must still be
            // deleted before the owner.
            let live = live_dependents(ctx, graph, &item).await?;
            if !foreground_done(uid, &live) {
                for d in &live {
                    queue.add(item_key(d.info, &d.namespace, &d.name, &d.uid));
                }
                return Ok(Action::RequeueAfter(std::time::Duration::from_millis(500)));
            }
            remove_finalizer(ctx, &item, FOREGROUND_FINALIZER).await?;
        } else {
            tracing::debug!(
                blocking = dependents.iter().filter(|d| blocks(d, uid)).count(),
                "waiting for dependents that block the owner's deletion"
            );
        }
        return Ok(Action::Done);
    }
    if item.orphaning() {
        // Orphaning must not miss a dependent the cache has not shown yet (it would be
        // collected once the owner is gone): the dependents are also listed live.
        let mut all = dependents;
        for d in live_dependents(ctx, graph, &item).await? {
            if !all.iter().any(|x| x.uid == d.uid) {
                all.push(d);
            }
        }
        for d in &all {
            remove_owner_refs(ctx, d, &BTreeSet::from([uid.to_string()])).await?;
        }
        remove_finalizer(ctx, &item, ORPHAN_FINALIZER).await?;
        return Ok(Action::Done);
    }
    if item.owners.is_empty() || item.deleting {
        return Ok(Action::Done);
    }
    let mut states = Vec::with_capacity(item.owners.len());
    for r in &item.owners {
        states.push((
            r.clone(),
            owner_state(ctx, graph, r, &item.namespace).await?,
        ));
    }
    match plan_dependent(&item, &states) {
        DependentAction::Nothing => {}
        DependentAction::RemoveOwnerRefs(uids) => {
            remove_owner_refs(ctx, &item, &uids.into_iter().collect()).await?;
        }
        DependentAction::Delete(policy) => {
            let req = DeleteRequest {
                resource: info.plural.to_string(),
                namespace: ns.to_string(),
                name: name.to_string(),
                preconditions: Some(Preconditions {
                    uid: uid.to_string(),
                    resource_version: String::new(),
                }),
                propagation_policy: policy.to_string(),
                ..Default::default()
            };
            match ctx.client.delete(req).await {
                Ok(_) => tracing::info!(kind = info.kind, policy, "owner gone: dependent deleted"),
                Err(e) if e.is(Reason::NotFound) || e.is(Reason::Conflict) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(Action::Done)
}

/// The dependents of `owner` as the apiserver has them now (every watched kind, in the
/// owner's namespace, or everywhere for a cluster-scoped owner).
async fn live_dependents(ctx: &Context, graph: &Graph, owner: &View) -> Result<Vec<View>, Error> {
    let namespace = if owner.info.namespaced {
        owner.namespace.as_str()
    } else {
        ""
    };
    let mut out = Vec::new();
    for info in graph.stores.iter().map(|s| s.info()) {
        if !info.namespaced && owner.info.namespaced {
            continue; // a cluster-scoped object cannot have a namespaced owner
        }
        let mut continue_token = String::new();
        loop {
            let resp = ctx
                .client
                .list(k8s::ListRequest {
                    resource: info.plural.to_string(),
                    namespace: if info.namespaced {
                        namespace.to_string()
                    } else {
                        String::new()
                    },
                    limit: 500,
                    r#continue: continue_token.clone(),
                    ..Default::default()
                })
                .await?;
            out.extend(
                resp.items
                    .iter()
                    .map(|o| View::of(info, o.meta()))
                    .filter(|v| v.owners.iter().any(|r| r.uid == owner.uid)),
            );
            if resp.r#continue.is_empty() {
                break;
            }
            continue_token = resp.r#continue;
        }
    }
    Ok(out)
}

/// The owner's state from the cache; absence (or another uid) is confirmed live.
async fn owner_state(
    ctx: &Context,
    graph: &Graph,
    r: &OwnerReference,
    dependent_namespace: &str,
) -> Result<OwnerState, Error> {
    let Some(info) = owner_kind(r) else {
        // A kind this API does not serve: never collect on its account.
        return Ok(OwnerState::Solid);
    };
    let ns = if info.namespaced {
        dependent_namespace
    } else {
        ""
    };
    let state_of = |v: &View| {
        if v.deleting_dependents() {
            OwnerState::WaitingForDependents
        } else {
            OwnerState::Solid
        }
    };
    if let Some(v) = graph.store(info).and_then(|s| s.get(ns, &r.name))
        && v.uid == r.uid
    {
        return Ok(state_of(&v));
    }
    match ctx.client.get(info.plural, ns, &r.name).await {
        Ok(obj) => {
            let v = View::of(info, obj.meta());
            if v.uid == r.uid {
                Ok(state_of(&v))
            } else {
                Ok(OwnerState::Dangling)
            }
        }
        Err(e) if e.is(Reason::NotFound) => Ok(OwnerState::Dangling),
        Err(e) => Err(e.into()),
    }
}

/// Removes `finalizer` from the live object (same uid), which lets the apiserver delete
/// it when it was the last.
async fn remove_finalizer(ctx: &Context, item: &View, finalizer: &str) -> Result<(), Error> {
    let mut obj = match ctx
        .client
        .get(item.info.plural, &item.namespace, &item.name)
        .await
    {
        Ok(o) => o,
        Err(e) if e.is(Reason::NotFound) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    if obj.meta().uid != item.uid || !obj.meta().finalizers.iter().any(|f| f == finalizer) {
        return Ok(());
    }
    obj.meta_mut().finalizers.retain(|f| f != finalizer);
    match ctx.client.update(obj, "").await {
        Ok(_) => {
            tracing::info!(kind = item.info.kind, finalizer, "finalizer removed");
            Ok(())
        }
        Err(e) if e.is(Reason::NotFound) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Drops the references to `uids` from the live dependent.
async fn remove_owner_refs(
    ctx: &Context,
    dep: &View,
    uids: &BTreeSet<String>,
) -> Result<(), Error> {
    let mut obj = match ctx
        .client
        .get(dep.info.plural, &dep.namespace, &dep.name)
        .await
    {
        Ok(o) => o,
        Err(e) if e.is(Reason::NotFound) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    if obj.meta().uid != dep.uid {
        return Ok(());
    }
    let before = obj.meta().owner_references.len();
    obj.meta_mut()
        .owner_references
        .retain(|r| !uids.contains(&r.uid));
    if obj.meta().owner_references.len() == before {
        return Ok(());
    }
    match ctx.client.update(obj, "").await {
        Ok(_) => {
            tracing::info!(
                kind = dep.info.kind,
                dependent = %format!("{}/{}", dep.namespace, dep.name),
                "owner references removed"
            );
            Ok(())
        }
        Err(e) if e.is(Reason::NotFound) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::resource::info;

    fn oref(uid: &str, block: bool) -> OwnerReference {
        OwnerReference {
            api_version: "apps/v1".into(),
            kind: "ReplicaSet".into(),
            name: format!("rs-{uid}"),
            uid: uid.into(),
            controller: Some(true),
            block_owner_deletion: Some(block),
        }
    }

    fn view(owners: Vec<OwnerReference>, finalizers: &[&str], deleting: bool) -> View {
        View {
            info: &info::Pod,
            namespace: "ns".into(),
            name: "p".into(),
            uid: "pod-uid".into(),
            owners,
            finalizers: finalizers.iter().map(|s| s.to_string()).collect(),
            deleting,
        }
    }

    #[test]
    fn dependent_plans() {
        use OwnerState::*;
        let (a, b) = (oref("a", true), oref("b", false));
        type Case = (
            &'static str,
            View,
            Vec<(OwnerReference, OwnerState)>,
            DependentAction,
        );
        let cases: Vec<Case> = vec![
            (
                "no owners",
                view(vec![], &[], false),
                vec![],
                DependentAction::Nothing,
            ),
            (
                "owner alive",
                view(vec![a.clone()], &[], false),
                vec![(a.clone(), Solid)],
                DependentAction::Nothing,
            ),
            (
                "owner gone: background",
                view(vec![a.clone()], &[], false),
                vec![(a.clone(), Dangling)],
                DependentAction::Delete("Background"),
            ),
            (
                "owner gone, item orphans its own",
                view(vec![a.clone()], &["orphan"], false),
                vec![(a.clone(), Dangling)],
                DependentAction::Delete("Orphan"),
            ),
            (
                "owner deleting in foreground",
                view(vec![a.clone()], &[], false),
                vec![(a.clone(), WaitingForDependents)],
                DependentAction::Delete("Foreground"),
            ),
            (
                "one owner alive, one gone: drop the dangling ref only",
                view(vec![a.clone(), b.clone()], &[], false),
                vec![(a.clone(), Solid), (b.clone(), Dangling)],
                DependentAction::RemoveOwnerRefs(vec!["b".into()]),
            ),
            (
                "one owner alive, one in foreground: drop that ref",
                view(vec![a.clone(), b.clone()], &[], false),
                vec![(a.clone(), WaitingForDependents), (b.clone(), Solid)],
                DependentAction::RemoveOwnerRefs(vec!["a".into()]),
            ),
            (
                "already deleting",
                view(vec![a.clone()], &[], true),
                vec![(a, Dangling)],
                DependentAction::Nothing,
            ),
        ];
        for (name, item, owners, want) in cases {
            assert_eq!(plan_dependent(&item, &owners), want, "{name}");
        }
    }

    #[test]
    fn foreground_waits_for_blocking_dependents_only() {
        let blocking = view(vec![oref("o", true)], &[], true);
        let loose = view(vec![oref("o", false)], &[], false);
        let other = view(vec![oref("x", true)], &[], false);
        assert!(!foreground_done("o", &[blocking.clone(), loose.clone()]));
        assert!(foreground_done("o", &[loose, other]));
        assert!(foreground_done("o", &[]));
        assert!(blocks(&blocking, "o") && !blocks(&blocking, "x"));
    }

    #[test]
    fn owner_kinds_and_items() {
        assert_eq!(
            owner_kind(&oref("a", false)).map(|k| k.kind),
            Some("ReplicaSet")
        );
        let mut r = oref("a", false);
        r.api_version = "extensions/v1beta1".into();
        assert_eq!(
            owner_kind(&r).map(|k| k.kind),
            Some("ReplicaSet"),
            "by kind alone"
        );
        r.kind = "Widget".into();
        assert_eq!(owner_kind(&r), None);
        let k = item_key(&info::Pod, "ns", "p", "u1");
        assert_eq!(
            parse_item(&k).map(|(i, n, m, u)| (i.kind, n, m, u)),
            Some(("Pod", "ns", "p", "u1"))
        );
        // Cluster-scoped owners of namespaced dependents have no namespace.
        let node_ref = OwnerReference {
            api_version: "v1".into(),
            kind: "Node".into(),
            name: "n1".into(),
            uid: "nu".into(),
            ..Default::default()
        };
        assert_eq!(
            owner_item(&node_ref, "kube-node-lease").as_deref(),
            Some("nodes||n1|nu")
        );
        assert_eq!(
            owner_item(&oref("a", false), "ns").as_deref(),
            Some("replicasets|ns|rs-a|a")
        );
    }

    #[test]
    fn view_states() {
        assert!(view(vec![], &["foregroundDeletion"], true).deleting_dependents());
        assert!(!view(vec![], &["foregroundDeletion"], false).deleting_dependents());
        assert!(view(vec![], &["orphan"], true).orphaning());
    }
}
