//! DaemonSet controller (Kubernetes' `pkg/controller/daemon`, apps/v1): one pod per node
//! that should run it.
//!
//! - A node should run the pod (Kubernetes' NodeShouldRunDaemonPod) when the template's
//!   `nodeName` (if any), `nodeSelector` and required node affinity match it and the pod,
//!   with the DaemonSet default tolerations added, tolerates every NoSchedule and NoExecute
//!   taint; a pod already there may continue while it tolerates the NoExecute ones.
//! - Pods are bound directly: `spec.nodeName` is set at create, plus the required node
//!   affinity `matchFields metadata.name In [node]` Kubernetes sets (so anything that reads
//!   the affinity agrees). Kubernetes leaves binding to the scheduler; binding here keeps the
//!   controller independent of which scheduler runs (resources are not checked: the
//!   kubelet's admission is the judge).
//! - Each distinct template is a ControllerRevision `<ds>-<hash>` (`crate::history`; the
//!   hash is the deployment's pod-template-hash of the template). Pods carry the update
//!   revision's hash in `controller-revision-hash`; a template equal to an older revision
//!   (a rollback) reuses it, renumbered, with its hash. Revisions no pod uses beyond
//!   `revisionHistoryLimit` are deleted. RollingUpdate deletes old-hash pods while at most `maxUnavailable`
//!   of the desired nodes lack an available pod; the node then gets a new pod. OnDelete
//!   replaces a pod only when someone deletes it.
//! - `plan_daemonset` is the pure decision; expectations as the ReplicaSet's.

use crate::context::Context;
use crate::controllers::deployment::util::{pod_template_hash, scaled_value};
use crate::error::Error;
use crate::history;
use crate::pods::{self, controller_ref};
use client::runtime::{
    Action, Controller, Expectations, OnConflict, backoff, resolve_controller_ref,
    update_status_if_changed,
};
use client::store::{key_of, split_key};
use client::{InformerEvent, Store, WorkQueue};
use futures::future::{BoxFuture, join_all};
use proto::k8s::{
    ControllerRevision, DaemonSet, DaemonSetStatus, Node, NodeSelectorRequirement,
    NodeSelectorTerm, Pod, PodSpec, Taint, Toleration,
};
use proto::selector::LabelSelector;
use proto::time::parse_rfc3339;
use proto::{Reason, Resource};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio_util::sync::CancellationToken;

pub const NAME: &str = "daemonset";
const SOURCE: &str = "daemonset-controller";
/// The label with the update revision's hash (its ControllerRevision's).
pub const REVISION_HASH: &str = history::REVISION_HASH;

pub fn start(
    ctx: Arc<Context>,
    cancel: CancellationToken,
) -> BoxFuture<'static, Result<(), Error>> {
    Box::pin(run(ctx, cancel))
}

struct DaemonSetController {
    ctx: Arc<Context>,
    sets: Store<DaemonSet>,
    pods: Store<Pod>,
    nodes: Store<Node>,
    revisions: Store<ControllerRevision>,
    expectations: Expectations,
    queue: WorkQueue<String>,
}

async fn run(ctx: Arc<Context>, cancel: CancellationToken) -> Result<(), Error> {
    let ds_informer = ctx.informer::<DaemonSet>();
    let pod_informer = ctx.informer::<Pod>();
    let node_informer = ctx.informer::<Node>();
    let revision_informer = ctx.informer::<ControllerRevision>();
    let runtime = Controller::new(NAME, ds_informer.clone()).workers(ctx.config.concurrent_workers);
    let c = Arc::new(DaemonSetController {
        ctx: ctx.clone(),
        sets: ds_informer.store(),
        pods: pod_informer.store(),
        nodes: node_informer.store(),
        revisions: revision_informer.store(),
        expectations: Expectations::new(),
        queue: runtime.queue(),
    });
    let (dc, pc, sets) = (c.clone(), c.clone(), c.sets.clone());
    runtime
        .watches_with(ds_informer, move |ev, _| {
            if let InformerEvent::Deleted(ds) = ev {
                dc.expectations.delete(&key_of(ds.as_ref()));
            }
        })
        .watches_with(pod_informer, move |ev, _| pc.on_pod(ev.clone()))
        .watches_with(node_informer, move |ev, queue| {
            let relevant = match ev {
                InformerEvent::Modified { old, new } => node_changed(old, new),
                InformerEvent::Sync(_) => false,
                _ => true,
            };
            if relevant {
                for ds in sets.list() {
                    queue.add(key_of(ds.as_ref()));
                }
            }
        })
        .watches_with(revision_informer, |ev, queue| {
            // A revision deleted by someone else: its owner writes it again.
            if let InformerEvent::Deleted(r) = ev
                && let Some(owner) = controller_ref(r.meta()).filter(|o| o.kind == "DaemonSet")
            {
                queue.add(format!("{}/{}", r.meta().namespace, owner.name));
            }
        })
        .run(
            |req, c| async move { c.sync(&req.key).await },
            backoff,
            c,
            cancel,
        )
        .await;
    Ok(())
}

/// What a DaemonSet's placement depends on changed (labels, taints, readiness aside).
fn node_changed(old: &Node, new: &Node) -> bool {
    old.meta().labels != new.meta().labels
        || old.spec.as_ref().map(|s| (&s.taints, s.unschedulable))
            != new.spec.as_ref().map(|s| (&s.taints, s.unschedulable))
}

impl DaemonSetController {
    fn owner(&self, pod: &Pod) -> Option<String> {
        resolve_controller_ref(&self.sets, pod.meta()).map(|ds| key_of(ds.as_ref()))
    }

    fn on_pod(&self, ev: InformerEvent<Pod>) {
        let pod = ev.object().clone();
        let Some(key) = self.owner(&pod) else {
            if controller_ref(pod.meta()).is_none() && !matches!(ev, InformerEvent::Deleted(_)) {
                // An orphan: the DaemonSets that could adopt it.
                for ds in self.sets.by_namespace(&pod.meta().namespace) {
                    if selector(&ds).is_some_and(|s| !s.is_empty() && s.matches(&pod.meta().labels))
                    {
                        self.queue.add(key_of(ds.as_ref()));
                    }
                }
            }
            return;
        };
        match &ev {
            InformerEvent::Added(p) if p.meta().deletion_timestamp.is_empty() => {
                self.expectations.creation_observed(&key)
            }
            InformerEvent::Added(p) | InformerEvent::Deleted(p) => self
                .expectations
                .deletion_observed(&key, &key_of(p.as_ref())),
            InformerEvent::Modified { old, new } => {
                if old.meta().resource_version == new.meta().resource_version {
                    return;
                }
                if !new.meta().deletion_timestamp.is_empty() {
                    self.expectations
                        .deletion_observed(&key, &key_of(new.as_ref()));
                }
                let min_ready = self
                    .sets
                    .get(&key)
                    .and_then(|d| d.spec.as_ref().map(|s| s.min_ready_seconds))
                    .unwrap_or(0);
                if min_ready > 0 && !pods::is_ready(old) && pods::is_ready(new) {
                    self.queue.add_after(
                        key.clone(),
                        Duration::from_secs(u64::try_from(min_ready).unwrap_or(0))
                            + Duration::from_millis(100),
                    );
                }
            }
            InformerEvent::Sync(_) => {}
        }
        self.queue.add(key);
    }

    async fn sync(&self, key: &str) -> Result<Action, Error> {
        let Some(ds) = self.sets.get(key) else {
            self.expectations.delete(key);
            return Ok(Action::Done);
        };
        let Some(sel) = selector(&ds) else {
            tracing::warn!("daemonset without a valid selector; not syncing");
            return Ok(Action::Done);
        };
        let (namespace, _) = split_key(key);
        let owned = self
            .claim(&ds, &sel, self.pods.by_namespace(namespace))
            .await?;
        let nodes = self.nodes.list();
        let now = self.ctx.clock.now();
        let template = ds
            .spec
            .as_ref()
            .and_then(|s| s.template.clone())
            .unwrap_or_default();
        let owner = history::Owner {
            meta: ds.meta(),
            kind: "DaemonSet",
            template: &template,
            hash: template_hash(&ds),
        };
        let revisions =
            history::owned_revisions(self.revisions.by_namespace(namespace), &ds.meta().uid);
        let update = history::plan_update_revision(&owner, &revisions);
        let revision_api = self.ctx.api_in::<ControllerRevision>(namespace);
        if ds.meta().deletion_timestamp.is_empty() {
            history::sync_revisions(&revision_api, &owner, &update).await?;
        }
        let plan = plan_daemonset(&ds, &nodes, &owned, &update.hash, now);
        let mut err = None;
        if self.expectations.satisfied(key) && ds.meta().deletion_timestamp.is_empty() {
            if !plan.delete.is_empty()
                && let Err(e) = self.delete_pods(key, &ds, &plan.delete).await
            {
                err = Some(e);
            }
            if !plan.create_on.is_empty()
                && let Err(e) = self
                    .create_pods(key, &ds, &plan.create_on, &update.hash)
                    .await
            {
                err.get_or_insert(e);
            }
            let doomed = history_to_delete(&ds, &revisions, &owned, &update.name);
            if let Err(e) = history::truncate(&revision_api, &doomed).await {
                err.get_or_insert(e);
            }
        }
        self.update_status(&ds, plan.status).await?;
        if let Some(e) = err {
            return Err(e);
        }
        Ok(match plan.requeue {
            Some(d) => Action::RequeueAfter(d + Duration::from_millis(100)),
            None => Action::Done,
        })
    }

    async fn claim(
        &self,
        ds: &DaemonSet,
        sel: &LabelSelector,
        candidates: Vec<Arc<Pod>>,
    ) -> Result<Vec<Arc<Pod>>, Error> {
        let ns = &ds.meta().namespace;
        let claimer = crate::pods::Claimer {
            owner: ds,
            owners: &self.ctx.api_in::<DaemonSet>(ns),
            api_version: "apps/v1",
            kind: "DaemonSet",
            may_adopt: &|_| true,
        };
        let pods = self.ctx.api_in::<Pod>(ns);
        Ok(crate::pods::claim_pods(&claimer, &pods, sel, candidates).await?)
    }

    async fn create_pods(
        &self,
        key: &str,
        ds: &DaemonSet,
        nodes: &[String],
        hash: &str,
    ) -> Result<(), Error> {
        let api = self.ctx.api_in::<Pod>(&ds.meta().namespace);
        self.expectations.expect_creations(key, nodes.len());
        let results = join_all(nodes.iter().map(|node| {
            let api = api.clone();
            let pod = pod_for_node(ds, node, hash);
            async move { api.create(&pod).await }
        }))
        .await;
        let mut first_err = None;
        for r in results {
            match r {
                Ok(p) => self.ctx.events.event(
                    SOURCE,
                    ds,
                    false,
                    "SuccessfulCreate",
                    format!("Created pod: {}", p.meta().name),
                ),
                Err(e) => {
                    self.expectations.creation_observed(key);
                    self.ctx.events.event(
                        SOURCE,
                        ds,
                        true,
                        "FailedCreate",
                        format!("Error creating: {e}"),
                    );
                    first_err.get_or_insert(e);
                }
            }
        }
        match first_err {
            Some(e) => Err(e.into()),
            None => Ok(()),
        }
    }

    async fn delete_pods(
        &self,
        key: &str,
        ds: &DaemonSet,
        victims: &[Arc<Pod>],
    ) -> Result<(), Error> {
        let api = self.ctx.api_in::<Pod>(&ds.meta().namespace);
        let results = crate::pods::delete_expected(&api, &self.expectations, key, victims).await;
        let mut first_err = None;
        for (p, r) in results {
            match r {
                Ok(_) => self.ctx.events.event(
                    SOURCE,
                    ds,
                    false,
                    "SuccessfulDelete",
                    format!("Deleted pod: {}", p.meta().name),
                ),
                Err(e) => {
                    if !e.is(Reason::NotFound) {
                        first_err.get_or_insert(e);
                    }
                }
            }
        }
        match first_err {
            Some(e) => Err(e.into()),
            None => Ok(()),
        }
    }

    async fn update_status(&self, ds: &DaemonSet, status: DaemonSetStatus) -> Result<(), Error> {
        let api = self.ctx.api_in::<DaemonSet>(&ds.meta().namespace);
        update_status_if_changed(&api, ds, status, OnConflict::Fail).await?;
        Ok(())
    }
}

/// Pure: Kubernetes' cleanupHistory: revisions beyond `revisionHistoryLimit` that neither
/// are the update revision nor carry the hash of a pod of the DaemonSet.
pub fn history_to_delete(
    ds: &DaemonSet,
    revisions: &[Arc<ControllerRevision>],
    owned: &[Arc<Pod>],
    update: &str,
) -> Vec<String> {
    let pod_hashes: HashSet<&str> = owned.iter().filter_map(|p| pod_hash(p)).collect();
    let mut live: HashSet<String> = [update.to_string()].into();
    for r in revisions {
        if r.meta()
            .labels
            .get(REVISION_HASH)
            .is_some_and(|h| pod_hashes.contains(h.as_str()))
        {
            live.insert(r.meta().name.clone());
        }
    }
    let limit = ds.spec.as_ref().and_then(|s| s.revision_history_limit);
    history::revisions_to_delete(revisions, &live, limit)
}

fn selector(ds: &DaemonSet) -> Option<LabelSelector> {
    ds.spec
        .as_ref()?
        .selector
        .as_ref()
        .and_then(|s| LabelSelector::from_proto(s).ok())
}

fn toleration(key: &str, effect: &str) -> Toleration {
    Toleration {
        key: key.into(),
        operator: "Exists".into(),
        effect: effect.into(),
        ..Default::default()
    }
}

/// Kubernetes' AddOrUpdateDaemonPodTolerations: a daemon pod stays on not-ready and
/// unreachable nodes for ever, and ignores pressure, unschedulable (and, with host
/// networking, network-unavailable) taints.
pub fn add_default_tolerations(spec: &mut PodSpec) {
    let mut wanted = vec![
        toleration("node.kubernetes.io/not-ready", "NoExecute"),
        toleration("node.kubernetes.io/unreachable", "NoExecute"),
        toleration("node.kubernetes.io/disk-pressure", "NoSchedule"),
        toleration("node.kubernetes.io/memory-pressure", "NoSchedule"),
        toleration("node.kubernetes.io/pid-pressure", "NoSchedule"),
        toleration("node.kubernetes.io/unschedulable", "NoSchedule"),
    ];
    if spec.host_network {
        wanted.push(toleration(
            "node.kubernetes.io/network-unavailable",
            "NoSchedule",
        ));
    }
    for t in wanted {
        // Replaces a toleration of the same key and effect (Kubernetes' AddOrUpdate).
        spec.tolerations
            .retain(|x| !(x.key == t.key && x.effect == t.effect));
        spec.tolerations.push(t);
    }
}

/// Pure: the template's nodeName, nodeSelector and required node affinity match the node
/// (the last two by the scheduler's own rule, so the controller and the scheduler agree).
pub fn node_matches(spec: &PodSpec, node: &Node) -> bool {
    if !spec.node_name.is_empty() && spec.node_name != node.meta().name {
        return false;
    }
    proto::node_affinity::required_affinity_matches(spec, node)
}

fn tolerated(tolerations: &[Toleration], taint: &Taint) -> bool {
    tolerations
        .iter()
        .any(|t| proto::taints::tolerates(t, taint))
}

/// Pure: Kubernetes' NodeShouldRunDaemonPod: (should run a new pod, may keep a running one).
pub fn node_should_run(template: &PodSpec, node: &Node) -> (bool, bool) {
    let mut spec = template.clone();
    add_default_tolerations(&mut spec);
    if !node_matches(&spec, node) {
        return (false, false);
    }
    let taints = node
        .spec
        .as_ref()
        .map(|s| s.taints.as_slice())
        .unwrap_or(&[]);
    let fits_execute = taints
        .iter()
        .filter(|t| t.effect == "NoExecute")
        .all(|t| tolerated(&spec.tolerations, t));
    let fits_schedule = taints
        .iter()
        .filter(|t| t.effect == "NoSchedule")
        .all(|t| tolerated(&spec.tolerations, t));
    (fits_execute && fits_schedule, fits_execute)
}

/// The template's hash (the deployment's pod-template-hash, with the collision count).
pub fn template_hash(ds: &DaemonSet) -> String {
    let template = ds
        .spec
        .as_ref()
        .and_then(|s| s.template.clone())
        .unwrap_or_default();
    pod_template_hash(
        &template,
        ds.status.as_ref().and_then(|s| s.collision_count),
    )
}

/// The pod for one node: the template, default tolerations, the update revision's hash
/// label, bound to the node (nodeName and the matchFields affinity), controlled by the
/// DaemonSet.
pub fn pod_for_node(ds: &DaemonSet, node: &str, hash: &str) -> Pod {
    let template = ds.spec.as_ref().and_then(|s| s.template.as_ref());
    let mut pod = pods::pod_from_template(template, ds.meta(), "apps/v1", "DaemonSet");
    let spec = pod.spec.get_or_insert_with(Default::default);
    add_default_tolerations(spec);
    let affinity = spec.affinity.get_or_insert_with(Default::default);
    let na = affinity.node_affinity.get_or_insert_with(Default::default);
    // Kubernetes' ReplaceDaemonSetPodNodeNameNodeAffinity: the controller has checked the
    // user's terms; the pod keeps only the one naming its node.
    na.required_during_scheduling_ignored_during_execution = Some(proto::k8s::NodeSelector {
        node_selector_terms: vec![NodeSelectorTerm {
            match_fields: vec![NodeSelectorRequirement {
                key: "metadata.name".into(),
                operator: "In".into(),
                values: vec![node.to_string()],
            }],
            ..Default::default()
        }],
    });
    spec.node_name = node.to_string();
    pod.meta_mut()
        .labels
        .insert(REVISION_HASH.into(), hash.to_string());
    pod
}

/// The decision for one sync.
#[derive(Debug, Clone, Default)]
pub struct DaemonSetPlan {
    /// Nodes that get a new pod.
    pub create_on: Vec<String>,
    pub delete: Vec<Arc<Pod>>,
    pub status: DaemonSetStatus,
    /// Look again (a ready pod becomes available after minReadySeconds).
    pub requeue: Option<Duration>,
}

fn pod_hash(p: &Pod) -> Option<&str> {
    p.meta().labels.get(REVISION_HASH).map(String::as_str)
}

/// Pure: Kubernetes' manage + rollingUpdate + updateDaemonSetStatus for one DaemonSet, its
/// owned pods and all nodes; `hash` is the update revision's (pods without it are old).
pub fn plan_daemonset(
    ds: &DaemonSet,
    nodes: &[Arc<Node>],
    owned: &[Arc<Pod>],
    hash: &str,
    now: SystemTime,
) -> DaemonSetPlan {
    let spec = ds.spec.clone().unwrap_or_default();
    let template = spec
        .template
        .as_ref()
        .and_then(|t| t.spec.clone())
        .unwrap_or_default();
    let min_ready = Duration::from_secs(u64::try_from(spec.min_ready_seconds.max(0)).unwrap_or(0));
    let mut by_node: BTreeMap<&str, Vec<&Arc<Pod>>> = BTreeMap::new();
    let mut plan = DaemonSetPlan::default();
    for p in owned {
        if !p.meta().deletion_timestamp.is_empty() {
            continue;
        }
        let node = p.spec.as_ref().map_or("", |s| s.node_name.as_str());
        by_node.entry(node).or_default().push(p);
    }
    let node_names: HashMap<&str, &Arc<Node>> =
        nodes.iter().map(|n| (n.meta().name.as_str(), n)).collect();
    // Pods of nodes that are gone (or never bound): nothing will run them.
    for (node, pods) in &by_node {
        if !node_names.contains_key(node) {
            plan.delete.extend(pods.iter().map(|p| (*p).clone()));
        }
    }
    let (mut desired, mut current, mut misscheduled, mut ready, mut updated, mut available) =
        (0, 0, 0, 0, 0, 0);
    // Desired nodes whose pod is old and available (rolling-update candidates), and how
    // many desired nodes lack an available pod.
    let mut old_available: Vec<&Arc<Pod>> = Vec::new();
    let mut unavailable = 0usize;
    let rolling = spec
        .update_strategy
        .as_ref()
        .is_none_or(|s| s.r#type != "OnDelete");
    for node in nodes {
        let name = node.meta().name.as_str();
        let (should_run, may_continue) = node_should_run(&template, node);
        let pods = by_node.get(name).cloned().unwrap_or_default();
        // Failed (or, for a pod that should restart, finished) pods are deleted; the node
        // gets a new one on the next sync.
        let (running, finished): (Vec<&Arc<Pod>>, Vec<&Arc<Pod>>) =
            pods.into_iter().partition(|p| pods::is_active(p));
        plan.delete.extend(finished.into_iter().cloned());
        if should_run {
            desired += 1;
        }
        if !may_continue {
            if !running.is_empty() {
                misscheduled += 1;
            }
            plan.delete.extend(running.into_iter().cloned());
            continue;
        }
        if running.is_empty() {
            if should_run {
                plan.create_on.push(name.to_string());
                unavailable += 1;
            }
            continue;
        }
        if should_run {
            current += 1;
        } else {
            misscheduled += 1;
        }
        // More than one: keep the oldest (current revision first), delete the others.
        let mut running = running;
        running.sort_by_key(|p| {
            (
                pod_hash(p) != Some(hash),
                parse_rfc3339(&p.meta().creation_timestamp),
                p.meta().name.clone(),
            )
        });
        let keep = running[0];
        plan.delete
            .extend(running[1..].iter().map(|p| (*p).clone()));
        if pods::is_ready(keep) {
            ready += 1;
        }
        let is_available = pods::is_available(keep, min_ready, now);
        if is_available {
            available += 1;
        } else {
            if let Some(d) = pods::available_in(keep, min_ready, now) {
                plan.requeue = Some(plan.requeue.map_or(d, |r| r.min(d)));
            }
            if should_run {
                unavailable += 1;
            }
        }
        if pod_hash(keep) == Some(hash) {
            updated += 1;
        } else if rolling && should_run {
            if is_available {
                old_available.push(keep);
            } else {
                // Already unavailable: replacing it costs nothing.
                plan.delete.push(keep.clone());
            }
        }
    }
    if rolling {
        let max_unavailable = spec
            .update_strategy
            .as_ref()
            .and_then(|s| s.rolling_update.as_ref())
            .map(|r| r.max_unavailable.as_str())
            .filter(|s| !s.is_empty())
            .and_then(|s| scaled_value(s, desired, true).ok())
            .unwrap_or(1)
            .max(1);
        let budget = usize::try_from(max_unavailable)
            .unwrap_or(1)
            .saturating_sub(unavailable);
        plan.delete
            .extend(old_available.into_iter().take(budget).cloned());
    }
    let old = ds.status.clone().unwrap_or_default();
    plan.status = DaemonSetStatus {
        current_number_scheduled: current,
        number_misscheduled: misscheduled,
        desired_number_scheduled: desired,
        number_ready: ready,
        observed_generation: ds.meta().generation,
        updated_number_scheduled: updated,
        number_available: available,
        number_unavailable: (desired - available).max(0),
        collision_count: old.collision_count,
        conditions: old.conditions,
    };
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::k8s::{
        Affinity, DaemonSetSpec, DaemonSetUpdateStrategy, NodeAffinity, NodeSelector, NodeSpec,
        ObjectMeta, PodCondition, PodStatus, PodTemplateSpec, RollingUpdateDaemonSet,
    };

    fn node(name: &str, labels: &[(&str, &str)], taints: &[(&str, &str)]) -> Arc<Node> {
        let mut n = Node {
            spec: Some(NodeSpec {
                taints: taints
                    .iter()
                    .map(|(k, e)| Taint {
                        key: (*k).into(),
                        effect: (*e).into(),
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }),
            ..Default::default()
        };
        n.meta_mut().name = name.into();
        n.meta_mut().labels = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Arc::new(n)
    }

    fn ds(node_selector: &[(&str, &str)]) -> DaemonSet {
        let mut d = DaemonSet {
            spec: Some(DaemonSetSpec {
                template: Some(PodTemplateSpec {
                    metadata: Some(ObjectMeta {
                        labels: [("app".to_string(), "agent".to_string())].into(),
                        ..Default::default()
                    }),
                    spec: Some(PodSpec {
                        node_selector: node_selector
                            .iter()
                            .map(|(k, v)| (k.to_string(), v.to_string()))
                            .collect(),
                        ..Default::default()
                    }),
                }),
                update_strategy: Some(DaemonSetUpdateStrategy {
                    r#type: "RollingUpdate".into(),
                    rolling_update: Some(RollingUpdateDaemonSet {
                        max_unavailable: "1".into(),
                        max_surge: "0".into(),
                    }),
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        d.meta_mut().name = "agent".into();
        d.meta_mut().uid = "ds1".into();
        d.meta_mut().generation = 2;
        d
    }

    /// A running ready pod of `d` on `node` (with the current hash unless `old`).
    fn pod_on(d: &DaemonSet, name: &str, node: &str, old: bool, ready: bool) -> Arc<Pod> {
        let mut p = pod_for_node(d, node, &template_hash(d));
        p.meta_mut().name = name.into();
        if old {
            p.meta_mut()
                .labels
                .insert(REVISION_HASH.into(), "old".into());
        }
        p.status = Some(PodStatus {
            phase: "Running".into(),
            conditions: vec![PodCondition {
                r#type: "Ready".into(),
                status: if ready { "True" } else { "False" }.into(),
                ..Default::default()
            }],
            ..Default::default()
        });
        Arc::new(p)
    }

    fn names(v: &[Arc<Pod>]) -> Vec<String> {
        let mut n: Vec<String> = v.iter().map(|p| p.meta().name.clone()).collect();
        n.sort();
        n
    }

    #[test]
    fn which_nodes_run_the_pod() {
        let t = |sel: &[(&str, &str)]| ds(sel).spec.unwrap().template.unwrap().spec.unwrap();
        // (template, node) -> (should run, may continue)
        let cases = [
            ("plain", t(&[]), node("n", &[], &[]), (true, true)),
            (
                "selector match",
                t(&[("disk", "ssd")]),
                node("n", &[("disk", "ssd")], &[]),
                (true, true),
            ),
            (
                "selector miss",
                t(&[("disk", "ssd")]),
                node("n", &[("disk", "hdd")], &[]),
                (false, false),
            ),
            (
                "NoSchedule taint",
                t(&[]),
                node("n", &[], &[("gpu", "NoSchedule")]),
                (false, true),
            ),
            (
                "NoExecute taint",
                t(&[]),
                node("n", &[], &[("gpu", "NoExecute")]),
                (false, false),
            ),
            // The default tolerations.
            (
                "not-ready",
                t(&[]),
                node("n", &[], &[("node.kubernetes.io/not-ready", "NoExecute")]),
                (true, true),
            ),
            (
                "unreachable",
                t(&[]),
                node("n", &[], &[("node.kubernetes.io/unreachable", "NoExecute")]),
                (true, true),
            ),
            (
                "unschedulable",
                t(&[]),
                node(
                    "n",
                    &[],
                    &[("node.kubernetes.io/unschedulable", "NoSchedule")],
                ),
                (true, true),
            ),
            (
                "PreferNoSchedule ignored",
                t(&[]),
                node("n", &[], &[("x", "PreferNoSchedule")]),
                (true, true),
            ),
        ];
        for (what, spec, n, want) in cases {
            assert_eq!(node_should_run(&spec, &n), want, "{what}");
        }
        // Required node affinity: terms ORed, requirements ANDed, matchFields by name.
        let mut spec = t(&[]);
        let req = |k: &str, op: &str, v: &[&str]| NodeSelectorRequirement {
            key: k.into(),
            operator: op.into(),
            values: v.iter().map(|s| s.to_string()).collect(),
        };
        spec.affinity = Some(Box::new(Affinity {
            node_affinity: Some(NodeAffinity {
                required_during_scheduling_ignored_during_execution: Some(NodeSelector {
                    node_selector_terms: vec![
                        NodeSelectorTerm {
                            match_expressions: vec![
                                req("zone", "In", &["a", "b"]),
                                req("cores", "Gt", &["4"]),
                            ],
                            ..Default::default()
                        },
                        NodeSelectorTerm {
                            match_fields: vec![req("metadata.name", "In", &["special"])],
                            ..Default::default()
                        },
                    ],
                }),
                ..Default::default()
            }),
            ..Default::default()
        }));
        assert!(node_matches(
            &spec,
            &node("n", &[("zone", "a"), ("cores", "8")], &[])
        ));
        assert!(!node_matches(
            &spec,
            &node("n", &[("zone", "a"), ("cores", "2")], &[])
        ));
        assert!(!node_matches(
            &spec,
            &node("n", &[("zone", "c"), ("cores", "8")], &[])
        ));
        assert!(node_matches(&spec, &node("special", &[], &[])));
    }

    #[test]
    fn one_pod_per_matching_node() {
        let d = ds(&[("role", "edge")]);
        let nodes = vec![
            node("a", &[("role", "edge")], &[]),
            node("b", &[("role", "edge")], &[]),
            node("c", &[("role", "core")], &[]),
        ];
        let on_a = pod_on(&d, "pa", "a", false, true);
        let on_c = pod_on(&d, "pc", "c", false, true);
        let on_gone = pod_on(&d, "pg", "gone", false, true);
        let dup = {
            let mut p = (*pod_on(&d, "pa2", "a", false, true)).clone();
            p.meta_mut().creation_timestamp = "2030-01-01T00:00:00Z".into();
            Arc::new(p)
        };
        let plan = plan_daemonset(
            &d,
            &nodes,
            &[on_a, on_c, on_gone, dup],
            &template_hash(&d),
            SystemTime::now(),
        );
        assert_eq!(plan.create_on, ["b"]);
        assert_eq!(names(&plan.delete), ["pa2", "pc", "pg"]);
        let s = &plan.status;
        assert_eq!(
            (
                s.desired_number_scheduled,
                s.current_number_scheduled,
                s.number_misscheduled
            ),
            (2, 1, 1)
        );
        assert_eq!(
            (
                s.number_ready,
                s.number_available,
                s.updated_number_scheduled
            ),
            (1, 1, 1)
        );
        assert_eq!((s.number_unavailable, s.observed_generation), (1, 2));
    }

    #[test]
    fn rolling_update_replaces_at_most_max_unavailable() {
        let d = ds(&[]);
        let nodes: Vec<Arc<Node>> = ["a", "b", "c", "d"]
            .iter()
            .map(|n| node(n, &[], &[]))
            .collect();
        let all_old: Vec<Arc<Pod>> = ["a", "b", "c", "d"]
            .iter()
            .map(|n| pod_on(&d, &format!("p{n}"), n, true, true))
            .collect();
        let plan = plan_daemonset(&d, &nodes, &all_old, &template_hash(&d), SystemTime::now());
        assert_eq!(plan.delete.len(), 1, "maxUnavailable 1");
        assert_eq!(plan.status.updated_number_scheduled, 0);
        // One node is already without a pod: no more deletions until it is back.
        let plan = plan_daemonset(
            &d,
            &nodes,
            &all_old[1..],
            &template_hash(&d),
            SystemTime::now(),
        );
        assert_eq!((plan.create_on.len(), plan.delete.len()), (1, 0));
        // An old pod that is not ready is replaced at once, beyond the budget.
        let mut pods = all_old.clone();
        pods[3] = pod_on(&d, "pd", "d", true, false);
        let plan = plan_daemonset(&d, &nodes, &pods, &template_hash(&d), SystemTime::now());
        assert_eq!(names(&plan.delete), ["pd"]);
        // 50% of 4: two at a time.
        let mut d2 = d.clone();
        d2.spec
            .as_mut()
            .unwrap()
            .update_strategy
            .as_mut()
            .unwrap()
            .rolling_update = Some(RollingUpdateDaemonSet {
            max_unavailable: "50%".into(),
            max_surge: "0".into(),
        });
        let old2: Vec<Arc<Pod>> = all_old
            .iter()
            .map(|p| {
                let mut p = (**p).clone();
                p.meta_mut()
                    .labels
                    .insert(REVISION_HASH.into(), "old".into());
                Arc::new(p)
            })
            .collect();
        assert_eq!(
            plan_daemonset(&d2, &nodes, &old2, &template_hash(&d2), SystemTime::now())
                .delete
                .len(),
            2
        );
        // OnDelete: nothing is replaced.
        let mut d3 = d.clone();
        d3.spec.as_mut().unwrap().update_strategy = Some(DaemonSetUpdateStrategy {
            r#type: "OnDelete".into(),
            rolling_update: None,
        });
        assert!(
            plan_daemonset(
                &d3,
                &nodes,
                &all_old,
                &template_hash(&d3),
                SystemTime::now()
            )
            .delete
            .is_empty()
        );
    }

    #[test]
    fn pods_are_bound_tolerant_and_labelled() {
        let d = ds(&[]);
        let p = pod_for_node(&d, "n1", &template_hash(&d));
        let spec = p.spec.as_ref().unwrap();
        assert_eq!(spec.node_name, "n1");
        let terms = &spec
            .affinity
            .as_ref()
            .unwrap()
            .node_affinity
            .as_ref()
            .unwrap()
            .required_during_scheduling_ignored_during_execution
            .as_ref()
            .unwrap()
            .node_selector_terms;
        assert_eq!(terms[0].match_fields[0].values, ["n1"]);
        assert!(
            spec.tolerations
                .iter()
                .any(|t| t.key == "node.kubernetes.io/unreachable"
                    && t.effect == "NoExecute"
                    && t.toleration_seconds.is_none())
        );
        assert_eq!(p.meta().labels[REVISION_HASH], template_hash(&d));
        assert_eq!(p.meta().labels["app"], "agent");
        assert_eq!(controller_ref(p.meta()).unwrap().kind, "DaemonSet");
        // The hash follows the template.
        let mut d2 = d.clone();
        d2.spec
            .as_mut()
            .unwrap()
            .template
            .as_mut()
            .unwrap()
            .spec
            .as_mut()
            .unwrap()
            .host_network = true;
        assert_ne!(template_hash(&d), template_hash(&d2));
    }
}
