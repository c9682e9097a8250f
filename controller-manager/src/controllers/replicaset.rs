//! ReplicaSet controller (Kubernetes' `pkg/controller/replicaset`): keeps exactly
//! `spec.replicas` active pods matching the selector and owned by the ReplicaSet.
//!
//! - Claiming: pods matching the selector without a controller are adopted (an owner
//!   reference with `controller: true` added, guarded by the pod's resourceVersion); owned
//!   pods that stopped matching are released. Adoption re-reads the ReplicaSet first, so a
//!   ReplicaSet being deleted never adopts.
//! - Creates go in slow-start batches (1, 2, 4, ...), so a failing create (quota, a
//!   terminating namespace) costs one request, not hundreds; at most 500 per sync.
//! - Surplus pods are deleted in Kubernetes' ActivePods order (`pods::deletion_order`).
//! - Expectations: after creating or deleting, the ReplicaSet is not acted on again until
//!   the informer has seen every one of those pods appear or go, so a lagging cache never
//!   causes a duplicate create or a second delete.
//! - Status: replicas, fullyLabeledReplicas, readyReplicas, availableReplicas
//!   (minReadySeconds), observedGeneration, and the ReplicaFailure condition.

use crate::context::Context;
use crate::error::Error;
use crate::pods::{self, controller_ref, deletion_order_ranked, is_active};
use client::runtime::{
    Action, Controller, Expectations, OnConflict, backoff, resolve_controller_ref,
    update_status_if_changed,
};
use client::store::{key_of, split_key};
use client::{InformerEvent, Store, WorkQueue};
use futures::future::{BoxFuture, join_all};
use proto::k8s::{Pod, ReplicaSet, ReplicaSetCondition, ReplicaSetStatus};
use proto::selector::LabelSelector;
use proto::{Reason, Resource};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio_util::sync::CancellationToken;

/// Kubernetes' BurstReplicas: creates or deletes per sync.
pub const BURST_REPLICAS: usize = 500;
/// Kubernetes' SlowStartInitialBatchSize.
pub const SLOW_START_INITIAL_BATCH: usize = 1;
/// The Events' source, as Kubernetes names it.
const SOURCE: &str = "replicaset-controller";
pub const NAME: &str = "replicaset";

pub fn start(
    ctx: Arc<Context>,
    cancel: CancellationToken,
) -> BoxFuture<'static, Result<(), Error>> {
    Box::pin(run(ctx, cancel))
}

struct ReplicaSetController {
    ctx: Arc<Context>,
    rs_store: Store<ReplicaSet>,
    pod_store: Store<Pod>,
    expectations: Expectations,
    queue: WorkQueue<String>,
}

async fn run(ctx: Arc<Context>, cancel: CancellationToken) -> Result<(), Error> {
    let rs_informer = ctx.informer::<ReplicaSet>();
    let pod_informer = ctx.informer::<Pod>();
    let runtime =
        Controller::new(NAME, rs_informer.clone()).workers(ctx.config.concurrent_replicaset_syncs);
    let c = Arc::new(ReplicaSetController {
        ctx: ctx.clone(),
        rs_store: rs_informer.store(),
        pod_store: pod_informer.store(),
        expectations: Expectations::new(),
        queue: runtime.queue(),
    });
    let (rc, pc) = (c.clone(), c.clone());
    runtime
        .watches_with(rs_informer, move |ev, _| {
            if let InformerEvent::Deleted(rs) = ev {
                rc.expectations.delete(&key_of(rs.as_ref()));
            }
        })
        .watches_with(pod_informer, move |ev, _| pc.on_pod(ev.clone()))
        .run(
            |req, c| async move { c.sync(&req.key).await },
            backoff,
            c,
            cancel,
        )
        .await;
    Ok(())
}

impl ReplicaSetController {
    /// The ReplicaSet key a pod's controller reference names, if that ReplicaSet is cached
    /// with the same uid.
    fn resolve_owner(&self, pod: &Pod) -> Option<String> {
        resolve_controller_ref(&self.rs_store, pod.meta()).map(|rs| key_of(rs.as_ref()))
    }

    /// ReplicaSets in the pod's namespace whose selector matches it (orphan adoption).
    fn matching_replicasets(&self, pod: &Pod) -> Vec<String> {
        self.rs_store
            .by_namespace(&pod.meta().namespace)
            .into_iter()
            .filter(|rs| {
                rs.spec
                    .as_ref()
                    .and_then(|s| s.selector.as_ref())
                    .and_then(|s| LabelSelector::from_proto(s).ok())
                    .is_some_and(|s| !s.is_empty() && s.matches(&pod.meta().labels))
            })
            .map(|rs| key_of(rs.as_ref()))
            .collect()
    }

    fn on_pod(&self, ev: InformerEvent<Pod>) {
        match ev {
            InformerEvent::Added(pod) => {
                if !pod.meta().deletion_timestamp.is_empty() {
                    // Seen for the first time already going (a relist).
                    return self.pod_gone(&pod);
                }
                if controller_ref(pod.meta()).is_some() {
                    if let Some(key) = self.resolve_owner(&pod) {
                        self.expectations.creation_observed(&key);
                        self.queue.add(key);
                    }
                    return;
                }
                for key in self.matching_replicasets(&pod) {
                    self.queue.add(key);
                }
            }
            InformerEvent::Sync(pod) => {
                if let Some(key) = self.resolve_owner(&pod) {
                    self.queue.add(key);
                }
            }
            InformerEvent::Modified { old, new } => self.pod_updated(&old, &new),
            InformerEvent::Deleted(pod) => self.pod_gone(&pod),
        }
    }

    fn pod_updated(&self, old: &Pod, new: &Pod) {
        if old.meta().resource_version == new.meta().resource_version {
            return;
        }
        let labels_changed = old.meta().labels != new.meta().labels;
        if !new.meta().deletion_timestamp.is_empty() {
            // Being deleted counts as gone: the ReplicaSet replaces it at once.
            self.pod_gone(new);
            if labels_changed {
                self.pod_gone(old);
            }
            return;
        }
        let old_ref = controller_ref(old.meta());
        let new_ref = controller_ref(new.meta());
        let ref_changed = old_ref.map(|r| &r.uid) != new_ref.map(|r| &r.uid);
        if ref_changed && let Some(key) = self.resolve_owner(old) {
            self.queue.add(key);
        }
        if new_ref.is_some() {
            if let Some(key) = self.resolve_owner(new) {
                let min_ready = self
                    .rs_store
                    .get(&key)
                    .and_then(|rs| rs.spec.as_ref().map(|s| s.min_ready_seconds))
                    .unwrap_or(0);
                if min_ready > 0 && !pods::is_ready(old) && pods::is_ready(new) {
                    // Look again when it becomes available.
                    self.queue.add_after(
                        key.clone(),
                        Duration::from_secs(u64::try_from(min_ready).unwrap_or(0))
                            + Duration::from_millis(100),
                    );
                }
                self.queue.add(key);
            }
            return;
        }
        if labels_changed || ref_changed {
            for key in self.matching_replicasets(new) {
                self.queue.add(key);
            }
        }
    }

    fn pod_gone(&self, pod: &Pod) {
        if let Some(key) = self.resolve_owner(pod) {
            self.expectations.deletion_observed(&key, &key_of(pod));
            self.queue.add(key);
        }
    }

    async fn sync(&self, key: &str) -> Result<Action, Error> {
        let Some(rs) = self.rs_store.get(key) else {
            self.expectations.delete(key);
            return Ok(Action::Done);
        };
        let spec = rs.spec.clone().unwrap_or_default();
        let selector = match spec.selector.as_ref().map(LabelSelector::from_proto) {
            Some(Ok(s)) => s,
            Some(Err(e)) => {
                tracing::warn!(error = %e, "invalid selector; not syncing");
                return Ok(Action::Done);
            }
            None => {
                tracing::warn!("no selector; not syncing");
                return Ok(Action::Done);
            }
        };
        let needs_sync = self.expectations.satisfied(key);
        let (namespace, _) = split_key(key);
        let active: Vec<Arc<Pod>> = self
            .pod_store
            .by_namespace(namespace)
            .into_iter()
            .filter(|p| is_active(p))
            .collect();
        let owned = self.claim_pods(&rs, &selector, active).await?;
        let mut manage_err = None;
        if needs_sync && rs.meta().deletion_timestamp.is_empty() {
            if let Err(e) = self.manage_replicas(key, &rs, &owned).await {
                manage_err = Some(e);
            }
        } else if !needs_sync {
            let (adds, dels) = self.expectations.pending(key);
            tracing::debug!(
                adds,
                dels,
                "waiting for the cache to catch up with earlier writes"
            );
        }
        let now = self.ctx.clock.now();
        let status = calculate_status(&rs, &owned, manage_err.as_ref(), now);
        self.update_status(&rs, status).await?;
        if let Some(e) = manage_err {
            return Err(e);
        }
        let min_ready = Duration::from_secs(u64::try_from(spec.min_ready_seconds).unwrap_or(0));
        if !min_ready.is_zero() {
            // A ready pod becomes available later: look again then.
            let next = owned
                .iter()
                .filter_map(|p| pods::available_in(p, min_ready, now))
                .min();
            if let Some(d) = next {
                return Ok(Action::RequeueAfter(d + Duration::from_millis(100)));
            }
        }
        Ok(Action::Done)
    }

    /// Kubernetes' ClaimPods: the active pods this ReplicaSet owns after adopting matching
    /// orphans and releasing owned pods that no longer match.
    async fn claim_pods(
        &self,
        rs: &ReplicaSet,
        selector: &LabelSelector,
        pods: Vec<Arc<Pod>>,
    ) -> Result<Vec<Arc<Pod>>, Error> {
        let ns = &rs.meta().namespace;
        let claimer = pods::Claimer {
            owner: rs,
            owners: &self.ctx.api_in::<ReplicaSet>(ns),
            api_version: "apps/v1",
            kind: "ReplicaSet",
            may_adopt: &|_| true,
        };
        Ok(pods::claim_pods(&claimer, &self.ctx.api_in::<Pod>(ns), selector, pods).await?)
    }

    async fn manage_replicas(
        &self,
        key: &str,
        rs: &ReplicaSet,
        owned: &[Arc<Pod>],
    ) -> Result<(), Error> {
        let replicas = rs
            .spec
            .as_ref()
            .and_then(|s| s.replicas)
            .unwrap_or(1)
            .max(0);
        let have = owned.len();
        let want = usize::try_from(replicas).unwrap_or(0);
        let api = self.ctx.api_in::<Pod>(&rs.meta().namespace);
        if have < want {
            let n = (want - have).min(BURST_REPLICAS);
            let pod = pod_from_template(rs);
            self.expectations.expect_creations(key, n);
            tracing::info!(creating = n, have, want, "too few replicas");
            let (created, err) = slow_start_batch(n, SLOW_START_INITIAL_BATCH, || {
                let api = api.clone();
                let pod = pod.clone();
                async move {
                    match api.create(&pod).await {
                        Ok(p) => {
                            let msg = format!("Created pod: {}", p.meta().name);
                            self.ctx
                                .events
                                .event(SOURCE, rs, false, "SuccessfulCreate", msg);
                            Ok(())
                        }
                        Err(e) => {
                            let msg = format!("Error creating: {e}");
                            self.ctx.events.event(SOURCE, rs, true, "FailedCreate", msg);
                            Err(e)
                        }
                    }
                }
            })
            .await;
            // Creates that failed or never ran will not be observed: stop expecting them.
            for _ in created..n {
                self.expectations.creation_observed(key);
            }
            if let Some(e) = err {
                return Err(e.into());
            }
        } else if have > want {
            let n = (have - want).min(BURST_REPLICAS);
            let related = self.related_pods(rs);
            let victims = pods_to_delete(owned, &related, n);
            tracing::info!(deleting = n, have, want, "too many replicas");
            let results =
                crate::pods::delete_expected(&api, &self.expectations, key, &victims).await;
            let mut first_err = None;
            for (p, r) in results {
                match &r {
                    Ok(_) => {
                        let msg = format!("Deleted pod: {}", p.meta().name);
                        self.ctx
                            .events
                            .event(SOURCE, rs, false, "SuccessfulDelete", msg);
                    }
                    Err(e) if !e.is(Reason::NotFound) => {
                        let msg = format!("Error deleting: {e}");
                        self.ctx.events.event(SOURCE, rs, true, "FailedDelete", msg);
                    }
                    Err(_) => {}
                }
                if let Err(e) = r
                    && !e.is(Reason::NotFound)
                    && first_err.is_none()
                {
                    first_err = Some(e);
                }
            }
            if let Some(e) = first_err {
                return Err(e.into());
            }
        }
        Ok(())
    }

    /// Active pods of this ReplicaSet and of the ReplicaSets sharing its controller (the
    /// other revisions of one Deployment): what `pods_to_delete` spreads across nodes.
    fn related_pods(&self, rs: &ReplicaSet) -> Vec<Arc<Pod>> {
        let siblings: Vec<String> = match controller_ref(rs.meta()) {
            Some(owner) => self
                .rs_store
                .by_owner(&owner.uid)
                .iter()
                .map(|r| r.meta().uid.clone())
                .collect(),
            None => vec![rs.meta().uid.clone()],
        };
        siblings
            .iter()
            .flat_map(|uid| self.pod_store.by_owner(uid))
            .filter(|p| is_active(p))
            .collect()
    }

    async fn update_status(&self, rs: &ReplicaSet, status: ReplicaSetStatus) -> Result<(), Error> {
        let api = self.ctx.api_in::<ReplicaSet>(&rs.meta().namespace);
        update_status_if_changed(&api, rs, status, OnConflict::RetryOnFresh).await?;
        Ok(())
    }
}

pub use crate::pods::{Claim, claim_decision};

/// The pod a ReplicaSet creates: its template, named `<rs>-<5 random characters>` by the
/// apiserver (generateName), controlled by the ReplicaSet.
pub fn pod_from_template(rs: &ReplicaSet) -> Pod {
    let template = rs.spec.as_ref().and_then(|s| s.template.as_ref());
    pods::pod_from_template(template, rs.meta(), "apps/v1", "ReplicaSet")
}

/// Kubernetes' slowStartBatch: calls `f` `count` times in batches of 1, 2, 4, ... (from
/// `initial`), the calls of a batch concurrently; stops after the first batch with an
/// error. Returns the successful calls and the first error.
pub async fn slow_start_batch<F, Fut, E>(count: usize, initial: usize, f: F) -> (usize, Option<E>)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<(), E>>,
{
    let mut remaining = count;
    let mut batch = remaining.min(initial.max(1));
    let mut successes = 0;
    while batch > 0 {
        let results = join_all((0..batch).map(|_| f())).await;
        let mut first_err = None;
        for r in results {
            match r {
                Ok(()) => successes += 1,
                Err(e) => {
                    if first_err.is_none() {
                        first_err = Some(e);
                    }
                }
            }
        }
        if first_err.is_some() {
            return (successes, first_err);
        }
        remaining -= batch;
        batch = remaining.min(batch * 2);
    }
    (successes, None)
}

/// Pure: the `n` pods to delete first (Kubernetes' getPodsToDelete): ActivePodsWithRanks
/// order, each pod ranked by how many `related` pods (of this ReplicaSet and its siblings
/// under the same Deployment) run on its node.
pub fn pods_to_delete(pods: &[Arc<Pod>], related: &[Arc<Pod>], n: usize) -> Vec<Arc<Pod>> {
    let mut per_node: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for p in related {
        if let Some(node) = p.spec.as_ref().map(|s| s.node_name.as_str())
            && !node.is_empty()
        {
            *per_node.entry(node).or_default() += 1;
        }
    }
    let rank = |p: &Pod| {
        p.spec
            .as_ref()
            .map(|s| s.node_name.as_str())
            .filter(|n| !n.is_empty())
            .and_then(|n| per_node.get(n).copied())
            .unwrap_or(0)
    };
    let mut ranked: Vec<(Arc<Pod>, usize)> = pods.iter().map(|p| (p.clone(), rank(p))).collect();
    ranked.sort_by(|(a, ra), (b, rb)| deletion_order_ranked((a, *ra), (b, *rb)));
    ranked.truncate(n);
    ranked.into_iter().map(|(p, _)| p).collect()
}

/// Pure: the status the ReplicaSet should show for these owned active pods.
pub fn calculate_status(
    rs: &ReplicaSet,
    pods: &[Arc<Pod>],
    manage_err: Option<&Error>,
    now: SystemTime,
) -> ReplicaSetStatus {
    let spec = rs.spec.clone().unwrap_or_default();
    let template_labels = spec
        .template
        .as_ref()
        .and_then(|t| t.metadata.as_ref())
        .map(|m| m.labels.clone())
        .unwrap_or_default();
    let min_ready = Duration::from_secs(u64::try_from(spec.min_ready_seconds).unwrap_or(0));
    let count = |f: &dyn Fn(&Pod) -> bool| {
        i32::try_from(pods.iter().filter(|p| f(p)).count()).unwrap_or(i32::MAX)
    };
    let old = rs.status.clone().unwrap_or_default();
    let mut conditions = old.conditions.clone();
    let failure = conditions.iter().position(|c| c.r#type == "ReplicaFailure");
    match (manage_err, failure) {
        (Some(e), None) => {
            let replicas = spec.replicas.unwrap_or(1);
            let have = pods.len();
            let reason = if usize::try_from(replicas).unwrap_or(0) > have {
                "FailedCreate"
            } else {
                "FailedDelete"
            };
            conditions.push(ReplicaSetCondition {
                r#type: "ReplicaFailure".into(),
                status: "True".into(),
                last_transition_time: proto::time::format_rfc3339(now),
                reason: reason.into(),
                message: e.to_string(),
            });
        }
        (None, Some(i)) => {
            conditions.remove(i);
        }
        _ => {}
    }
    ReplicaSetStatus {
        replicas: count(&|_| true),
        fully_labeled_replicas: count(&|p| {
            template_labels
                .iter()
                .all(|(k, v)| p.meta().labels.get(k) == Some(v))
        }),
        ready_replicas: count(&pods::is_ready),
        available_replicas: count(&|p| pods::is_available(p, min_ready, now)),
        observed_generation: rs.meta().generation,
        conditions,
        terminating_replicas: old.terminating_replicas,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pods::tests::pod;
    use proto::k8s::{ObjectMeta, OwnerReference, PodTemplateSpec, ReplicaSetSpec};
    use std::sync::Mutex;

    fn meta_with_ref(uid: Option<&str>, deleting: bool) -> ObjectMeta {
        ObjectMeta {
            owner_references: uid
                .map(|u| OwnerReference {
                    uid: u.into(),
                    controller: Some(true),
                    kind: "ReplicaSet".into(),
                    ..Default::default()
                })
                .into_iter()
                .collect(),
            deletion_timestamp: if deleting {
                "2026-01-01T00:00:00Z".into()
            } else {
                String::new()
            },
            ..Default::default()
        }
    }

    #[test]
    fn claim_decisions_follow_controller_ref_manager() {
        use Claim::*;
        // (pod owner, pod deleting, selector matches, owner deleting) -> decision
        let cases = [
            (Some("me"), false, true, false, Owned),
            (Some("me"), false, false, false, Release),
            (Some("me"), false, false, true, Ignore),
            (Some("other"), false, true, false, Ignore),
            (None, false, true, false, Adopt),
            (None, false, true, true, Ignore),
            (None, true, true, false, Ignore),
            (None, false, false, false, Ignore),
        ];
        for (owner, pod_deleting, matches, owner_deleting, want) in cases {
            let m = meta_with_ref(owner, pod_deleting);
            assert_eq!(
                claim_decision(&m, "me", matches, owner_deleting),
                want,
                "{owner:?} {pod_deleting} {matches} {owner_deleting}"
            );
        }
    }

    #[tokio::test]
    async fn slow_start_doubles_and_stops_at_the_first_failing_batch() {
        let calls = Mutex::new(0usize);
        let (ok, err) = slow_start_batch(10, 1, || {
            let n = {
                let mut c = calls.lock().unwrap();
                *c += 1;
                *c
            };
            async move { if n == 5 { Err("boom") } else { Ok(()) } }
        })
        .await;
        // Batches 1, 2, 4: the fifth call is in the third batch, which still runs fully.
        assert_eq!(*calls.lock().unwrap(), 7);
        assert_eq!(ok, 6);
        assert_eq!(err, Some("boom"));
        let calls = Mutex::new(0usize);
        let (ok, err) = slow_start_batch::<_, _, ()>(10, 1, || {
            *calls.lock().unwrap() += 1;
            async { Ok(()) }
        })
        .await;
        assert_eq!((ok, err, *calls.lock().unwrap()), (10, None, 10));
    }

    fn rs(replicas: i32, min_ready: i32) -> ReplicaSet {
        let mut rs = ReplicaSet {
            spec: Some(ReplicaSetSpec {
                replicas: Some(replicas),
                min_ready_seconds: min_ready,
                template: Some(PodTemplateSpec {
                    metadata: Some(ObjectMeta {
                        labels: [("app".to_string(), "web".to_string())].into(),
                        ..Default::default()
                    }),
                    spec: Some(Default::default()),
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        rs.meta_mut().name = "web".into();
        rs.meta_mut().namespace = "ns".into();
        rs.meta_mut().uid = "u1".into();
        rs.meta_mut().generation = 3;
        rs
    }

    #[test]
    fn status_counts_ready_available_and_fully_labeled() {
        let mut labeled = pod("a", "n", "Running", Some(10), 0);
        labeled.meta_mut().labels.insert("app".into(), "web".into());
        let pods: Vec<Arc<Pod>> = vec![
            Arc::new(labeled),
            Arc::new(pod("b", "n", "Running", Some(18), 0)),
            Arc::new(pod("c", "n", "Pending", None, 0)),
        ];
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_020);
        let s = calculate_status(&rs(3, 5), &pods, None, now);
        assert_eq!(s.replicas, 3);
        assert_eq!(s.fully_labeled_replicas, 1);
        assert_eq!(s.ready_replicas, 2);
        assert_eq!(s.available_replicas, 1, "b has been ready 2s of 5");
        assert_eq!(s.observed_generation, 3);
        assert!(s.conditions.is_empty());
        let err = Error::Other("quota".into());
        let s = calculate_status(&rs(5, 0), &pods, Some(&err), now);
        assert_eq!(s.conditions[0].reason, "FailedCreate");
        let mut with_failure = rs(5, 0);
        with_failure.status = Some(s);
        assert!(
            calculate_status(&with_failure, &pods, None, now)
                .conditions
                .is_empty()
        );
    }

    #[test]
    fn pods_from_the_template_are_named_after_and_owned_by_the_replicaset() {
        let p = pod_from_template(&rs(1, 0));
        assert_eq!(p.meta().generate_name, "web-");
        assert!(p.meta().name.is_empty());
        assert_eq!(p.meta().labels["app"], "web");
        let r = controller_ref(p.meta()).unwrap();
        assert_eq!(
            (r.kind.as_str(), r.uid.as_str(), r.name.as_str()),
            ("ReplicaSet", "u1", "web")
        );
    }

    #[test]
    fn surplus_pods_go_in_active_pods_order() {
        let pods: Vec<Arc<Pod>> = vec![
            Arc::new(pod("ready-old", "n", "Running", Some(1), 0)),
            Arc::new(pod("pending", "n", "Pending", None, 3)),
            Arc::new(pod("unscheduled", "", "Pending", None, 2)),
            Arc::new(pod("ready-new", "n", "Running", Some(1), 9)),
        ];
        let names: Vec<_> = pods_to_delete(&pods, &pods, 3)
            .iter()
            .map(|p| p.meta().name.clone())
            .collect();
        assert_eq!(names, ["unscheduled", "pending", "ready-new"]);
    }

    #[test]
    fn surplus_pods_on_crowded_nodes_go_first() {
        let alone = Arc::new(pod("alone", "n1", "Running", Some(1), 5));
        let crowded = Arc::new(pod("crowded", "n2", "Running", Some(1), 0));
        // A sibling ReplicaSet's pod shares n2.
        let sibling = Arc::new(pod("sibling", "n2", "Running", Some(1), 0));
        let owned = vec![alone.clone(), crowded.clone()];
        let related = vec![alone, crowded, sibling];
        let first = &pods_to_delete(&owned, &related, 1)[0];
        assert_eq!(first.meta().name, "crowded", "rank beats age");
        let first = &pods_to_delete(&owned, &owned, 1)[0];
        assert_eq!(first.meta().name, "alone", "equal ranks: the newer goes");
    }
}
