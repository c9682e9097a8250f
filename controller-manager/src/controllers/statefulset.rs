//! StatefulSet controller (Kubernetes' `pkg/controller/statefulset`, apps/v1): pods with a
//! stable identity `<set>-<ordinal>` and stable storage `<claim>-<set>-<ordinal>`.
//!
//! - `plan_statefulset` is the pure decision (Kubernetes' `updateStatefulSet` of
//!   `stateful_set_control.go`): which ordinals to create, which pods to delete, and the
//!   status. With `podManagementPolicy: OrderedReady` (monotonic) a sync does at most one
//!   thing and stops at the first pod that is not Running and Ready; `Parallel` does
//!   everything at once.
//! - Revisions: each distinct template is a ControllerRevision `<set>-<hash>`
//!   (`crate::history`; the hash is the deployment's pod-template-hash helper, with
//!   `collisionCount`); a template equal to an older revision (a rollback) reuses it,
//!   renumbered. Pods carry their revision's name in `controller-revision-hash`; status
//!   names `currentRevision` and `updateRevision`. With RollingUpdate an ordinal below the
//!   `partition` is (re)created from the current revision's stored template, the others
//!   from the update revision. Revisions no pod uses beyond `revisionHistoryLimit` go.
//! - Creating by a fixed name cannot duplicate a pod; AlreadyExists counts as done.
//!   Expectations (as the ReplicaSet's) still keep a lagging cache from deleting twice or
//!   from acting on a pod it has not seen come back.

use crate::context::Context;
use crate::controllers::deployment::util::pod_template_hash;
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
    ControllerRevision, OwnerReference, PersistentVolumeClaim, PersistentVolumeClaimVolumeSource,
    Pod, PodTemplateSpec, StatefulSet, StatefulSetStatus, Volume, volume::VolumeSource,
};
use proto::selector::LabelSelector;
use proto::{Reason, Resource};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio_util::sync::CancellationToken;

pub const NAME: &str = "statefulset";
const SOURCE: &str = "statefulset-controller";
/// The pod label naming its revision (`<set>-<hash>`).
pub const REVISION_HASH: &str = history::REVISION_HASH;
/// The pod label with the pod's own name (so a Service can select one member).
pub const POD_NAME_LABEL: &str = "statefulset.kubernetes.io/pod-name";
/// The pod label with the pod's ordinal.
pub const POD_INDEX_LABEL: &str = "apps.kubernetes.io/pod-index";

pub fn start(
    ctx: Arc<Context>,
    cancel: CancellationToken,
) -> BoxFuture<'static, Result<(), Error>> {
    Box::pin(run(ctx, cancel))
}

struct StatefulSetController {
    ctx: Arc<Context>,
    sets: Store<StatefulSet>,
    pods: Store<Pod>,
    claims: Store<PersistentVolumeClaim>,
    revisions: Store<ControllerRevision>,
    expectations: Expectations,
    queue: WorkQueue<String>,
}

async fn run(ctx: Arc<Context>, cancel: CancellationToken) -> Result<(), Error> {
    let set_informer = ctx.informer::<StatefulSet>();
    let pod_informer = ctx.informer::<Pod>();
    let claim_informer = ctx.informer::<PersistentVolumeClaim>();
    let revision_informer = ctx.informer::<ControllerRevision>();
    let runtime =
        Controller::new(NAME, set_informer.clone()).workers(ctx.config.concurrent_workers);
    let c = Arc::new(StatefulSetController {
        ctx: ctx.clone(),
        sets: set_informer.store(),
        pods: pod_informer.store(),
        claims: claim_informer.store(),
        revisions: revision_informer.store(),
        expectations: Expectations::new(),
        queue: runtime.queue(),
    });
    let (sc, pc) = (c.clone(), c.clone());
    runtime
        .watches_with(set_informer, move |ev, _| {
            if let InformerEvent::Deleted(s) = ev {
                sc.expectations.delete(&key_of(s.as_ref()));
            }
        })
        .watches_with(pod_informer, move |ev, _| pc.on_pod(ev.clone()))
        .reads(claim_informer)
        .watches_with(revision_informer, |ev, queue| {
            // A revision deleted by someone else: its owner writes it again.
            if let InformerEvent::Deleted(r) = ev
                && let Some(owner) = controller_ref(r.meta()).filter(|o| o.kind == "StatefulSet")
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

impl StatefulSetController {
    fn owner(&self, pod: &Pod) -> Option<String> {
        resolve_controller_ref(&self.sets, pod.meta()).map(|set| key_of(set.as_ref()))
    }

    fn on_pod(&self, ev: InformerEvent<Pod>) {
        let pod = ev.object().clone();
        let Some(key) = self.owner(&pod) else {
            if controller_ref(pod.meta()).is_none() && !matches!(ev, InformerEvent::Deleted(_)) {
                // An orphan: the sets that could adopt it.
                for set in self.sets.by_namespace(&pod.meta().namespace) {
                    if is_member(&set, &pod)
                        && selector(&set)
                            .is_some_and(|s| !s.is_empty() && s.matches(&pod.meta().labels))
                    {
                        self.queue.add(key_of(set.as_ref()));
                    }
                }
            }
            return;
        };
        let pod_key = key_of(pod.as_ref());
        match &ev {
            InformerEvent::Added(p) if p.meta().deletion_timestamp.is_empty() => {
                self.expectations.creation_observed(&key)
            }
            InformerEvent::Added(_) | InformerEvent::Deleted(_) => {
                self.expectations.deletion_observed(&key, &pod_key)
            }
            InformerEvent::Modified { old, new } => {
                if old.meta().resource_version == new.meta().resource_version {
                    return;
                }
                if old.meta().uid != new.meta().uid {
                    // The name was reused (a relist merged the delete and the create).
                    self.expectations.deletion_observed(&key, &pod_key);
                    self.expectations.creation_observed(&key);
                } else if !new.meta().deletion_timestamp.is_empty() {
                    self.expectations.deletion_observed(&key, &pod_key);
                }
            }
            InformerEvent::Sync(_) => {}
        }
        self.queue.add(key);
    }

    #[tracing::instrument(skip(self), fields(statefulset = %key))]
    async fn sync(&self, key: &str) -> Result<Action, Error> {
        let Some(set) = self.sets.get(key) else {
            self.expectations.delete(key);
            return Ok(Action::Done);
        };
        let Some(sel) = selector(&set) else {
            tracing::warn!("statefulset without a valid selector; not syncing");
            return Ok(Action::Done);
        };
        let (namespace, _) = split_key(key);
        let owned = self
            .claim(&set, &sel, self.pods.by_namespace(namespace))
            .await?;
        let template = set
            .spec
            .as_ref()
            .and_then(|s| s.template.clone())
            .unwrap_or_default();
        let owner = history::Owner {
            meta: set.meta(),
            kind: "StatefulSet",
            template: &template,
            hash: template_hash(&set),
        };
        let revisions =
            history::owned_revisions(self.revisions.by_namespace(namespace), &set.meta().uid);
        let update = history::plan_update_revision(&owner, &revisions);
        let revision_api = self.ctx.api_in::<ControllerRevision>(namespace);
        if set.meta().deletion_timestamp.is_empty() {
            history::sync_revisions(&revision_api, &owner, &update).await?;
        }
        let revs = Revisions::from_history(&set, &revisions, &update.name);
        let plan = plan_statefulset(&set, &owned, &revs, self.ctx.clock.now());
        let mut err = None;
        if self.expectations.satisfied(key) && set.meta().deletion_timestamp.is_empty() {
            // One kind of write per sync: expectations hold either creations or deletions,
            // and the events of the first batch bring the set back for the rest.
            if !plan.delete.is_empty() {
                for p in &plan.delete {
                    let claims = claims_released_on_scale_down(&set, p);
                    self.give_claims_to_pod(&set, p, &claims).await?;
                }
                err = self.delete_pods(key, &set, &plan.delete).await.err();
            } else if !plan.create.is_empty() {
                err = self.create_pods(key, &set, &plan.create, &revs).await.err();
            }
            let doomed = history_to_delete(&set, &revisions, &owned, &revs);
            if let Err(e) = history::truncate(&revision_api, &doomed).await {
                err.get_or_insert(e);
            }
        }
        self.update_status(&set, plan.status).await?;
        if let Some(e) = err {
            return Err(e);
        }
        Ok(match plan.requeue {
            Some(d) => Action::RequeueAfter(d + Duration::from_millis(100)),
            None => Action::Done,
        })
    }

    /// Kubernetes' ClaimPods with its isMemberOf filter: only pods named `<set>-<n>` are
    /// adopted.
    async fn claim(
        &self,
        set: &StatefulSet,
        sel: &LabelSelector,
        candidates: Vec<Arc<Pod>>,
    ) -> Result<Vec<Arc<Pod>>, Error> {
        let ns = &set.meta().namespace;
        let claimer = crate::pods::Claimer {
            owner: set,
            owners: &self.ctx.api_in::<StatefulSet>(ns),
            api_version: "apps/v1",
            kind: "StatefulSet",
            may_adopt: &|p| is_member(set, p),
        };
        let pods = self.ctx.api_in::<Pod>(ns);
        Ok(crate::pods::claim_pods(&claimer, &pods, sel, candidates).await?)
    }

    /// Kubernetes' createPersistentVolumeClaims: every claim of the pod exists (created if
    /// missing; one being deleted blocks the pod, which would otherwise get a fresh claim
    /// or none).
    async fn ensure_claims(
        &self,
        set: &StatefulSet,
        pod: &str,
        claims: &[PersistentVolumeClaim],
    ) -> Result<(), Error> {
        let api = self
            .ctx
            .api_in::<PersistentVolumeClaim>(&set.meta().namespace);
        for claim in claims {
            let name = &claim.meta().name;
            if let Some(existing) = self.claims.get_in(&set.meta().namespace, name) {
                if !existing.meta().deletion_timestamp.is_empty() {
                    return Err(Error::Other(format!(
                        "pvc {name} is being deleted; pod {pod} waits for it to go"
                    )));
                }
                continue;
            }
            match api.create(claim).await {
                Ok(_) => self.ctx.events.event(
                    SOURCE,
                    set,
                    false,
                    "SuccessfulCreate",
                    format!(
                        "create Claim {name} Pod {pod} in StatefulSet {} success",
                        set.meta().name
                    ),
                ),
                // Made before and not yet in the cache.
                Err(e) if e.is(Reason::AlreadyExists) => {}
                Err(e) => {
                    self.ctx.events.event(
                        SOURCE,
                        set,
                        true,
                        "FailedCreate",
                        format!(
                            "create Claim {name} for Pod {pod} in StatefulSet {} failed error: {e}",
                            set.meta().name
                        ),
                    );
                    return Err(e.into());
                }
            }
        }
        Ok(())
    }

    async fn create_pods(
        &self,
        key: &str,
        set: &StatefulSet,
        ordinals: &[i32],
        revs: &Revisions,
    ) -> Result<(), Error> {
        let api = self.ctx.api_in::<Pod>(&set.meta().namespace);
        self.expectations.expect_creations(key, ordinals.len());
        let results = join_all(ordinals.iter().map(|&ord| {
            let api = api.clone();
            let pod = new_pod(set, ord, revs);
            let claims = claims_for(set, ord);
            async move {
                let name = pod.meta().name.clone();
                self.ensure_claims(set, &name, &claims).await?;
                match api.create(&pod).await {
                    Ok(_) => Ok(Some(name)),
                    // A fixed name: it is there already (a lagging cache), nothing to do.
                    Err(e) if e.is(Reason::AlreadyExists) => Ok(None),
                    Err(e) => Err(Error::from(e)),
                }
            }
        }))
        .await;
        let mut first_err = None;
        for r in results {
            match r {
                Ok(Some(name)) => self.ctx.events.event(
                    SOURCE,
                    set,
                    false,
                    "SuccessfulCreate",
                    format!(
                        "create Pod {name} in StatefulSet {} successful",
                        set.meta().name
                    ),
                ),
                Ok(None) => self.expectations.creation_observed(key),
                Err(e) => {
                    self.expectations.creation_observed(key);
                    self.ctx.events.event(
                        SOURCE,
                        set,
                        true,
                        "FailedCreate",
                        format!(
                            "create Pod in StatefulSet {} failed error: {e}",
                            set.meta().name
                        ),
                    );
                    first_err.get_or_insert(e);
                }
            }
        }
        match first_err {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    async fn delete_pods(
        &self,
        key: &str,
        set: &StatefulSet,
        victims: &[Arc<Pod>],
    ) -> Result<(), Error> {
        let api = self.ctx.api_in::<Pod>(&set.meta().namespace);
        let results = crate::pods::delete_expected(&api, &self.expectations, key, victims).await;
        let mut first_err = None;
        for (p, r) in results {
            let name = &p.meta().name;
            match r {
                Ok(_) => self.ctx.events.event(
                    SOURCE,
                    set,
                    false,
                    "SuccessfulDelete",
                    format!(
                        "delete Pod {name} in StatefulSet {} successful",
                        set.meta().name
                    ),
                ),
                Err(e) => {
                    if e.is(Reason::NotFound) || e.is(Reason::Conflict) {
                        // Gone already, or replaced by another pod of that name.
                        continue;
                    }
                    self.ctx.events.event(
                        SOURCE,
                        set,
                        true,
                        "FailedDelete",
                        format!(
                            "delete Pod {name} in StatefulSet {} failed error: {e}",
                            set.meta().name
                        ),
                    );
                    first_err.get_or_insert(Error::from(e));
                }
            }
        }
        match first_err {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// `whenScaled: Delete`: the claims get an ownerReference to the pod being scaled away,
    /// so the garbage collector deletes them once the pod is gone (Kubernetes' way). A
    /// reference to the set (`whenDeleted: Delete`) is removed: the collector keeps an
    /// object while any owner lives.
    async fn give_claims_to_pod(
        &self,
        set: &StatefulSet,
        pod: &Pod,
        claims: &[String],
    ) -> Result<(), Error> {
        let api = self
            .ctx
            .api_in::<PersistentVolumeClaim>(&pod.meta().namespace);
        for name in claims {
            let Some(claim) = api.get_opt(name).await? else {
                continue;
            };
            if claim
                .meta()
                .owner_references
                .iter()
                .any(|r| r.uid == pod.meta().uid)
            {
                continue;
            }
            let mut refs = claim.meta().owner_references.clone();
            refs.retain(|r| r.uid != set.meta().uid);
            refs.push(OwnerReference {
                api_version: "v1".into(),
                kind: "Pod".into(),
                name: pod.meta().name.clone(),
                uid: pod.meta().uid.clone(),
                controller: None,
                block_owner_deletion: None,
            });
            let refs_json = serde_json::to_value(&refs)
                .map_err(|e| Error::Other(format!("encoding owner references: {e}")))?;
            let patch = serde_json::json!({"metadata": {
                "resourceVersion": claim.meta().resource_version,
                "ownerReferences": refs_json,
            }});
            match api.patch_merge(name, &patch).await {
                Ok(_) => {}
                Err(e) if e.is(Reason::NotFound) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    async fn update_status(
        &self,
        set: &StatefulSet,
        status: StatefulSetStatus,
    ) -> Result<(), Error> {
        let api = self.ctx.api_in::<StatefulSet>(&set.meta().namespace);
        update_status_if_changed(&api, set, status, OnConflict::Fail).await?;
        Ok(())
    }
}

fn selector(set: &StatefulSet) -> Option<LabelSelector> {
    set.spec
        .as_ref()?
        .selector
        .as_ref()
        .and_then(|s| LabelSelector::from_proto(s).ok())
}

/// The ordinal of a pod named `<set>-<n>` (Kubernetes' getParentNameAndOrdinal).
pub fn ordinal_of(set_name: &str, pod_name: &str) -> Option<i32> {
    let rest = pod_name.strip_prefix(set_name)?.strip_prefix('-')?;
    if rest.is_empty() || !rest.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    rest.parse().ok()
}

fn is_member(set: &StatefulSet, pod: &Pod) -> bool {
    ordinal_of(&set.meta().name, &pod.meta().name).is_some()
}

/// The hash a new revision of the set's template gets.
pub fn template_hash(set: &StatefulSet) -> String {
    let template = set
        .spec
        .as_ref()
        .and_then(|s| s.template.clone())
        .unwrap_or_default();
    // An unset collisionCount hashes as 0: the status always carries 0, and the revision
    // must not change when that is first written.
    let collisions = set.status.as_ref().and_then(|s| s.collision_count);
    pod_template_hash(&template, Some(collisions.unwrap_or(0)))
}

/// The name a new revision of the set's template gets: `<set>-<hash>`.
pub fn revision_name(set: &StatefulSet) -> String {
    format!("{}-{}", set.meta().name, template_hash(set))
}

/// The claims of one ordinal (Kubernetes' getPersistentVolumeClaims): each template named
/// `<template>-<set>-<ordinal>`, labelled with the selector's matchLabels. With
/// `whenDeleted: Delete` the set owns them (the garbage collector removes them with it).
pub fn claims_for(set: &StatefulSet, ordinal: i32) -> Vec<PersistentVolumeClaim> {
    let Some(spec) = set.spec.as_ref() else {
        return Vec::new();
    };
    let match_labels = spec
        .selector
        .as_ref()
        .map(|s| s.match_labels.clone())
        .unwrap_or_default();
    let delete_with_set = spec
        .persistent_volume_claim_retention_policy
        .as_ref()
        .is_some_and(|p| p.when_deleted == "Delete");
    spec.volume_claim_templates
        .iter()
        .map(|t| {
            let mut c = PersistentVolumeClaim {
                spec: t.spec.clone(),
                ..Default::default()
            };
            let tm = t.metadata.clone().unwrap_or_default();
            let m = c.meta_mut();
            m.name = claim_name(&tm.name, &set.meta().name, ordinal);
            m.namespace = set.meta().namespace.clone();
            m.labels = tm.labels;
            m.labels.extend(match_labels.clone());
            m.annotations = tm.annotations;
            if delete_with_set {
                m.owner_references = vec![OwnerReference {
                    api_version: "apps/v1".into(),
                    kind: "StatefulSet".into(),
                    name: set.meta().name.clone(),
                    uid: set.meta().uid.clone(),
                    controller: None,
                    block_owner_deletion: None,
                }];
            }
            c
        })
        .collect()
}

/// Pure: with `whenScaled: Delete`, the claims of a pod whose ordinal is being scaled
/// away (outside `[start, start + replicas)`); none otherwise.
pub fn claims_released_on_scale_down(set: &StatefulSet, pod: &Pod) -> Vec<String> {
    let Some(spec) = set.spec.as_ref() else {
        return Vec::new();
    };
    let delete = spec
        .persistent_volume_claim_retention_policy
        .as_ref()
        .is_some_and(|p| p.when_scaled == "Delete");
    let Some(ord) = ordinal_of(&set.meta().name, &pod.meta().name) else {
        return Vec::new();
    };
    let start = spec.ordinals.as_ref().map_or(0, |o| o.start.max(0));
    let end = start.saturating_add(spec.replicas.unwrap_or(1).max(0));
    if !delete || (start..end).contains(&ord) {
        return Vec::new();
    }
    spec.volume_claim_templates
        .iter()
        .map(|t| {
            let tname = t.metadata.as_ref().map_or("", |m| m.name.as_str());
            claim_name(tname, &set.meta().name, ord)
        })
        .collect()
}

pub fn claim_name(template: &str, set: &str, ordinal: i32) -> String {
    format!("{template}-{set}-{ordinal}")
}

/// The pod of one ordinal (Kubernetes' newVersionedStatefulSetPod): the template, named
/// `<set>-<ordinal>`, identity labels, hostname and subdomain, a volume per claim template
/// (replacing a template volume of that name), controlled by the set.
pub fn new_pod(set: &StatefulSet, ordinal: i32, revs: &Revisions) -> Pod {
    let mut spec = set.spec.clone().unwrap_or_default();
    let current = revs
        .current_template
        .as_ref()
        .filter(|_| uses_current(set, ordinal, revs));
    if let Some(t) = current {
        spec.template = Some(t.clone());
    }
    let revision = match current {
        Some(_) => revs.current.clone(),
        None => revs.update.clone(),
    };
    let mut pod =
        pods::pod_from_template(spec.template.as_ref(), set.meta(), "apps/v1", "StatefulSet");
    let name = format!("{}-{ordinal}", set.meta().name);
    let pod_spec = pod.spec.get_or_insert_with(Default::default);
    pod_spec.hostname = name.clone();
    pod_spec.subdomain = spec.service_name.clone();
    for t in &spec.volume_claim_templates {
        let tname = t
            .metadata
            .as_ref()
            .map(|m| m.name.clone())
            .unwrap_or_default();
        pod_spec.volumes.retain(|v| v.name != tname);
        pod_spec.volumes.push(Volume {
            name: tname.clone(),
            volume_source: Some(VolumeSource::PersistentVolumeClaim(
                PersistentVolumeClaimVolumeSource {
                    claim_name: claim_name(&tname, &set.meta().name, ordinal),
                    read_only: false,
                },
            )),
        });
    }
    let m = pod.meta_mut();
    // A fixed name, not generateName: the ordinal is the pod's identity.
    m.generate_name.clear();
    m.name = name.clone();
    m.labels.insert(POD_NAME_LABEL.into(), name);
    m.labels.insert(POD_INDEX_LABEL.into(), ordinal.to_string());
    m.labels.insert(REVISION_HASH.into(), revision);
    pod
}

/// Pure: Kubernetes' newVersionedStatefulSetPod choice: with RollingUpdate, an ordinal
/// below the partition (without a rollingUpdate block: below the current replicas) is
/// (re)created from the current revision; anything else from the update revision.
pub fn uses_current(set: &StatefulSet, ordinal: i32, revs: &Revisions) -> bool {
    if revs.current == revs.update {
        return false;
    }
    let Some(spec) = set.spec.as_ref() else {
        return false;
    };
    let strategy = spec.update_strategy.clone().unwrap_or_default();
    if strategy.r#type == "OnDelete" {
        return false;
    }
    let start = spec.ordinals.as_ref().map_or(0, |o| o.start.max(0));
    let below = match &strategy.rolling_update {
        Some(r) => r.partition.unwrap_or(0),
        None => set.status.as_ref().map_or(0, |s| s.current_replicas),
    };
    ordinal < start.saturating_add(below)
}

/// The revisions a sync works with.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Revisions {
    /// The update revision's name (the set's template).
    pub update: String,
    /// The current revision's name (status.currentRevision while it exists).
    pub current: String,
    /// The current revision's template, when it is another revision than the update one.
    pub current_template: Option<PodTemplateSpec>,
}

impl Revisions {
    /// Before any revision is stored: the set's template is the update revision, the
    /// status names the current one.
    pub fn of_set(set: &StatefulSet) -> Self {
        let update = revision_name(set);
        let current = set
            .status
            .as_ref()
            .map(|s| s.current_revision.clone())
            .filter(|c| !c.is_empty())
            .unwrap_or_else(|| update.clone());
        Revisions {
            update,
            current,
            current_template: None,
        }
    }

    /// Pure: Kubernetes' getStatefulSetRevisions after the update revision is known: the
    /// current revision is the stored one status.currentRevision names, else the update
    /// revision (the history starts there).
    pub fn from_history(
        set: &StatefulSet,
        revisions: &[Arc<ControllerRevision>],
        update: &str,
    ) -> Self {
        let named = set
            .status
            .as_ref()
            .map(|s| s.current_revision.as_str())
            .unwrap_or("");
        let current = revisions
            .iter()
            .filter(|r| r.meta().name == named && named != update)
            .find_map(|r| history::template_of(r).map(|t| (r.meta().name.clone(), t)));
        match current {
            Some((name, t)) => Revisions {
                update: update.to_string(),
                current: name,
                current_template: Some(t),
            },
            None => Revisions {
                update: update.to_string(),
                current: update.to_string(),
                current_template: None,
            },
        }
    }
}

/// Pure: Kubernetes' truncateHistory: revisions beyond `revisionHistoryLimit` that are
/// neither current, update, nor the revision of a pod of the set.
pub fn history_to_delete(
    set: &StatefulSet,
    revisions: &[Arc<ControllerRevision>],
    owned: &[Arc<Pod>],
    revs: &Revisions,
) -> Vec<String> {
    let mut live: HashSet<String> = [revs.current.clone(), revs.update.clone()].into();
    live.extend(owned.iter().map(|p| revision_of(p).to_string()));
    let limit = set.spec.as_ref().and_then(|s| s.revision_history_limit);
    history::revisions_to_delete(revisions, &live, limit)
}

/// The decision for one sync.
#[derive(Debug, Clone, Default)]
pub struct StatefulSetPlan {
    /// Ordinals to create (claims first, then the pod).
    pub create: Vec<i32>,
    pub delete: Vec<Arc<Pod>>,
    pub status: StatefulSetStatus,
    /// Look again (a ready pod becomes available after minReadySeconds).
    pub requeue: Option<Duration>,
}

fn phase(p: &Pod) -> &str {
    p.status.as_ref().map_or("", |s| s.phase.as_str())
}

fn terminating(p: &Pod) -> bool {
    !p.meta().deletion_timestamp.is_empty()
}

fn running_and_ready(p: &Pod) -> bool {
    phase(p) == "Running" && pods::is_ready(p)
}

fn revision_of(p: &Pod) -> &str {
    p.meta()
        .labels
        .get(REVISION_HASH)
        .map_or("", String::as_str)
}

/// Pure: Kubernetes' updateStatefulSet for one set and the pods it controls.
pub fn plan_statefulset(
    set: &StatefulSet,
    owned: &[Arc<Pod>],
    revs: &Revisions,
    now: SystemTime,
) -> StatefulSetPlan {
    let spec = set.spec.clone().unwrap_or_default();
    let replicas = spec.replicas.unwrap_or(1).max(0);
    let start = spec.ordinals.as_ref().map_or(0, |o| o.start.max(0));
    let end = start.saturating_add(replicas);
    let monotonic = spec.pod_management_policy != "Parallel";
    let rolling = spec
        .update_strategy
        .as_ref()
        .is_none_or(|s| s.r#type != "OnDelete");
    let partition = spec
        .update_strategy
        .as_ref()
        .and_then(|s| s.rolling_update.as_ref())
        .and_then(|r| r.partition)
        .unwrap_or(0)
        .max(0);
    let min_ready = Duration::from_secs(u64::try_from(spec.min_ready_seconds.max(0)).unwrap_or(0));
    let update_rev = revs.update.clone();
    let current_rev = revs.current.clone();

    // Slots for the wanted ordinals; the rest is condemned, highest ordinal first.
    let size = usize::try_from(replicas).unwrap_or(0);
    let mut slots: Vec<Option<&Arc<Pod>>> = vec![None; size];
    let mut condemned: Vec<(i32, &Arc<Pod>)> = Vec::new();
    let mut members: Vec<&Arc<Pod>> = Vec::new();
    for p in owned {
        let Some(ord) = ordinal_of(&set.meta().name, &p.meta().name) else {
            continue;
        };
        members.push(p);
        if (start..end).contains(&ord) {
            let i = usize::try_from(ord - start).unwrap_or(0);
            slots[i] = Some(p);
        } else {
            condemned.push((ord, p));
        }
    }
    condemned.sort_by_key(|c| std::cmp::Reverse(c.0));

    let mut plan = StatefulSetPlan {
        status: status_of(
            set,
            &members,
            &current_rev,
            &update_rev,
            rolling,
            min_ready,
            now,
        ),
        ..Default::default()
    };
    for p in &members {
        if running_and_ready(p)
            && let Some(d) = pods::available_in(p, min_ready, now)
        {
            plan.requeue = Some(plan.requeue.map_or(d, |r| r.min(d)));
        }
    }
    if !set.meta().deletion_timestamp.is_empty() {
        return plan;
    }
    let healthy =
        |p: &Pod| running_and_ready(p) && !terminating(p) && pods::is_available(p, min_ready, now);
    // Kubernetes' firstUnhealthyPod: the first in slot order, then condemned order.
    let first_unhealthy: Option<&str> = slots
        .iter()
        .flatten()
        .copied()
        .chain(condemned.iter().map(|(_, p)| *p))
        .find(|p| !healthy(p))
        .map(|p| p.meta().name.as_str());
    let mut deleting: HashSet<&str> = HashSet::new();

    // Wanted ordinals, lowest first.
    for (i, slot) in slots.iter().enumerate() {
        let ord = start + i32::try_from(i).unwrap_or(0);
        let Some(p) = slot else {
            plan.create.push(ord);
            if monotonic {
                return plan;
            }
            continue;
        };
        if matches!(phase(p), "Failed" | "Succeeded") {
            // Kubernetes replaces a finished pod: delete now, create on a later sync.
            if !terminating(p) {
                plan.delete.push((*p).clone());
                deleting.insert(&p.meta().name);
            }
            if monotonic {
                return plan;
            }
            continue;
        }
        if monotonic && !healthy(p) {
            // Terminating, not yet running or ready, or not yet available: wait for it.
            return plan;
        }
    }

    // Scale down: highest ordinal first; in order only while everything else is healthy.
    for (_, p) in &condemned {
        if terminating(p) {
            if monotonic {
                return plan;
            }
            continue;
        }
        if monotonic && !healthy(p) && first_unhealthy != Some(p.meta().name.as_str()) {
            return plan;
        }
        plan.delete.push((*p).clone());
        deleting.insert(&p.meta().name);
        if monotonic {
            return plan;
        }
    }

    // Rolling update: highest ordinal down to the partition, one pod at a time.
    if !rolling {
        return plan;
    }
    let update_min = usize::try_from(partition).unwrap_or(0);
    for i in (update_min..size).rev() {
        let Some(p) = slots[i] else {
            return plan;
        };
        if deleting.contains(p.meta().name.as_str()) {
            return plan;
        }
        if revision_of(p) != update_rev && !terminating(p) {
            plan.delete.push(p.clone());
            return plan;
        }
        if !healthy(p) {
            return plan;
        }
    }
    plan
}

/// Pure: Kubernetes' computeReplicaStatus plus completeRollingUpdate.
fn status_of(
    set: &StatefulSet,
    members: &[&Arc<Pod>],
    current_rev: &str,
    update_rev: &str,
    rolling: bool,
    min_ready: Duration,
    now: SystemTime,
) -> StatefulSetStatus {
    let old = set.status.clone().unwrap_or_default();
    let mut s = StatefulSetStatus {
        observed_generation: set.meta().generation,
        current_revision: current_rev.to_string(),
        update_revision: update_rev.to_string(),
        collision_count: Some(old.collision_count.unwrap_or(0)),
        conditions: old.conditions,
        ..Default::default()
    };
    for p in members {
        let created = !phase(p).is_empty();
        if created {
            s.replicas += 1;
        }
        if running_and_ready(p) {
            s.ready_replicas += 1;
            if pods::is_available(p, min_ready, now) {
                s.available_replicas += 1;
            }
        }
        if created && !terminating(p) {
            if revision_of(p) == current_rev {
                s.current_replicas += 1;
            }
            if revision_of(p) == update_rev {
                s.updated_replicas += 1;
            }
        }
    }
    if rolling && s.updated_replicas == s.replicas && s.ready_replicas == s.replicas {
        s.current_revision = s.update_revision.clone();
        s.current_replicas = s.updated_replicas;
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::k8s::{
        LabelSelector as ProtoSelector, ObjectMeta, PodCondition, PodSpec, PodStatus,
        PodTemplateSpec, RollingUpdateStatefulSetStrategy,
        StatefulSetPersistentVolumeClaimRetentionPolicy, StatefulSetSpec,
        StatefulSetUpdateStrategy,
    };

    fn set(replicas: i32) -> StatefulSet {
        let mut s = StatefulSet {
            spec: Some(StatefulSetSpec {
                replicas: Some(replicas),
                selector: Some(ProtoSelector {
                    match_labels: [("app".to_string(), "web".to_string())].into(),
                    ..Default::default()
                }),
                service_name: "nginx".into(),
                template: Some(PodTemplateSpec {
                    metadata: Some(ObjectMeta {
                        labels: [("app".to_string(), "web".to_string())].into(),
                        ..Default::default()
                    }),
                    spec: Some(PodSpec::default()),
                }),
                volume_claim_templates: vec![{
                    let mut c = PersistentVolumeClaim::default();
                    c.meta_mut().name = "www".into();
                    c
                }],
                pod_management_policy: "OrderedReady".into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        s.meta_mut().name = "web".into();
        s.meta_mut().namespace = "default".into();
        s.meta_mut().uid = "u1".into();
        s.meta_mut().generation = 3;
        s
    }

    fn with_image(mut s: StatefulSet, image: &str) -> StatefulSet {
        let t = s.spec.as_mut().unwrap().template.as_mut().unwrap();
        t.metadata
            .as_mut()
            .unwrap()
            .annotations
            .insert("image".into(), image.into());
        s
    }

    #[derive(Clone, Copy)]
    enum St {
        Ready,
        NotReady,
        Pending,
        Failed,
        Terminating,
    }

    /// A pod of `s` at `ord` in state `st`, of the revision of `rev_of`.
    fn pod(rev_of: &StatefulSet, ord: i32, st: St) -> Arc<Pod> {
        let mut p = new_pod(rev_of, ord, &Revisions::of_set(rev_of));
        let (ph, ready) = match st {
            St::Ready | St::Terminating => ("Running", true),
            St::NotReady => ("Running", false),
            St::Pending => ("Pending", false),
            St::Failed => ("Failed", false),
        };
        if matches!(st, St::Terminating) {
            p.meta_mut().deletion_timestamp = "2026-01-01T00:00:00Z".into();
        }
        p.status = Some(PodStatus {
            phase: ph.into(),
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
        v.iter().map(|p| p.meta().name.clone()).collect()
    }

    fn plan(s: &StatefulSet, pods: &[Arc<Pod>]) -> (Vec<i32>, Vec<String>) {
        let p = plan_statefulset(s, pods, &Revisions::of_set(s), SystemTime::now());
        (p.create, names(&p.delete))
    }

    #[test]
    fn ordered_ready_creates_one_ordinal_at_a_time() {
        let s = set(3);
        type Case = (&'static str, Vec<Arc<Pod>>, Vec<i32>);
        let cases: Vec<Case> = vec![
            ("nothing yet: web-0", vec![], vec![0]),
            ("web-0 pending: wait", vec![pod(&s, 0, St::Pending)], vec![]),
            (
                "web-0 not ready: wait",
                vec![pod(&s, 0, St::NotReady)],
                vec![],
            ),
            ("web-0 ready: web-1", vec![pod(&s, 0, St::Ready)], vec![1]),
            (
                "web-0, web-1 ready: web-2",
                vec![pod(&s, 0, St::Ready), pod(&s, 1, St::Ready)],
                vec![2],
            ),
            (
                "a hole at web-0 is filled first",
                vec![pod(&s, 1, St::Ready), pod(&s, 2, St::Ready)],
                vec![0],
            ),
            (
                "web-0 terminating: wait",
                vec![pod(&s, 0, St::Terminating)],
                vec![],
            ),
        ];
        for (what, pods, want) in cases {
            let (create, delete) = plan(&s, &pods);
            assert_eq!(create, want, "{what}");
            assert!(delete.is_empty(), "{what}");
        }
        // Parallel: every missing ordinal at once, whatever the others' state.
        let mut p = set(3);
        p.spec.as_mut().unwrap().pod_management_policy = "Parallel".into();
        assert_eq!(plan(&p, &[]).0, [0, 1, 2]);
        assert_eq!(plan(&p, &[pod(&p, 1, St::Pending)]).0, [0, 2]);
        // ordinals.start shifts the names.
        let mut o = set(2);
        o.spec.as_mut().unwrap().ordinals = Some(proto::k8s::StatefulSetOrdinals { start: 5 });
        assert_eq!(plan(&o, &[]).0, [5]);
        assert_eq!(plan(&o, &[pod(&o, 5, St::Ready)]).0, [6]);
    }

    #[test]
    fn failed_pods_are_deleted_to_be_recreated() {
        let s = set(2);
        let (create, delete) = plan(&s, &[pod(&s, 0, St::Failed), pod(&s, 1, St::Ready)]);
        assert_eq!((create, delete), (vec![], vec!["web-0".to_string()]));
        // Once gone, the same ordinal is created again.
        assert_eq!(plan(&s, &[pod(&s, 1, St::Ready)]).0, [0]);
    }

    #[test]
    fn scale_down_from_the_highest_ordinal_when_healthy() {
        let s = set(1);
        let all = |st2: St, st1: St| vec![pod(&s, 0, St::Ready), pod(&s, 1, st1), pod(&s, 2, st2)];
        let cases = [
            ("highest first", all(St::Ready, St::Ready), vec!["web-2"]),
            (
                "wait for web-2 to go",
                all(St::Terminating, St::Ready),
                vec![],
            ),
            // The unhealthy pod being the first unhealthy one may go.
            (
                "web-2 unhealthy goes",
                all(St::NotReady, St::Ready),
                vec!["web-2"],
            ),
            // Kubernetes checks each target: a healthy web-2 goes even when the condemned
            // web-1 is unhealthy (web-1 is next, being then the first unhealthy pod).
            (
                "web-1 unhealthy, web-2 first",
                all(St::Ready, St::NotReady),
                vec!["web-2"],
            ),
        ];
        for (what, pods, want) in cases {
            let (create, delete) = plan(&s, &pods);
            assert!(create.is_empty(), "{what}");
            assert_eq!(delete, want, "{what}");
        }
        let (_, delete) = plan(&s, &[pod(&s, 0, St::Ready), pod(&s, 1, St::NotReady)]);
        assert_eq!(delete, ["web-1"]);
        // A wanted pod unhealthy blocks scale-down.
        let (_, delete) = plan(&s, &[pod(&s, 0, St::NotReady), pod(&s, 1, St::Ready)]);
        assert!(delete.is_empty());
        // Parallel: all condemned at once.
        let mut p = set(1);
        p.spec.as_mut().unwrap().pod_management_policy = "Parallel".into();
        let pods = [
            pod(&p, 0, St::NotReady),
            pod(&p, 1, St::Ready),
            pod(&p, 2, St::Ready),
        ];
        assert_eq!(plan(&p, &pods).1, ["web-2", "web-1"]);
    }

    #[test]
    fn rolling_update_goes_down_from_the_highest_ordinal_one_at_a_time() {
        let old = set(3);
        let new = with_image(old.clone(), "v2");
        assert_ne!(revision_name(&old), revision_name(&new));
        let o = |i| pod(&old, i, St::Ready);
        let n = |i, st| pod(&new, i, st);
        let cases = [
            ("all old: web-2", vec![o(0), o(1), o(2)], vec!["web-2"]),
            (
                "web-2 terminating: wait",
                vec![o(0), o(1), pod(&old, 2, St::Terminating)],
                vec![],
            ),
            (
                "web-2 new, not ready: wait",
                vec![o(0), o(1), n(2, St::NotReady)],
                vec![],
            ),
            (
                "web-2 new, ready: web-1",
                vec![o(0), o(1), n(2, St::Ready)],
                vec!["web-1"],
            ),
            (
                "then web-0",
                vec![o(0), n(1, St::Ready), n(2, St::Ready)],
                vec!["web-0"],
            ),
            (
                "done",
                vec![n(0, St::Ready), n(1, St::Ready), n(2, St::Ready)],
                vec![],
            ),
        ];
        for (what, pods, want) in cases {
            let (create, delete) = plan(&new, &pods);
            assert!(create.is_empty(), "{what}");
            assert_eq!(delete, want, "{what}");
        }
        // A missing ordinal is recreated (from the new template) before anything rolls.
        let (create, delete) = plan(&new, &[o(0), o(2)]);
        assert_eq!((create, delete.len()), (vec![1], 0));
        let recreated = new_pod(&new, 1, &Revisions::of_set(&new));
        assert_eq!(recreated.meta().labels[REVISION_HASH], revision_name(&new));
    }

    #[test]
    fn partition_and_on_delete() {
        let old = set(3);
        let mut new = with_image(old.clone(), "v2");
        new.spec.as_mut().unwrap().update_strategy = Some(StatefulSetUpdateStrategy {
            r#type: "RollingUpdate".into(),
            rolling_update: Some(RollingUpdateStatefulSetStrategy {
                partition: Some(2),
                max_unavailable: String::new(),
            }),
        });
        let o = |i| pod(&old, i, St::Ready);
        assert_eq!(plan(&new, &[o(0), o(1), o(2)]).1, ["web-2"]);
        let below = [o(0), o(1), pod(&new, 2, St::Ready)];
        assert!(plan(&new, &below).1.is_empty(), "ordinals below 2 stay");
        // OnDelete: never deleted by the controller.
        let mut od = with_image(old.clone(), "v2");
        od.spec.as_mut().unwrap().update_strategy = Some(StatefulSetUpdateStrategy {
            r#type: "OnDelete".into(),
            rolling_update: None,
        });
        assert!(plan(&od, &[o(0), o(1), o(2)]).1.is_empty());
    }

    #[test]
    fn below_the_partition_pods_are_recreated_from_the_current_revision() {
        let old = set(3);
        let mut new = with_image(old.clone(), "v2");
        new.spec.as_mut().unwrap().update_strategy = Some(StatefulSetUpdateStrategy {
            r#type: "RollingUpdate".into(),
            rolling_update: Some(RollingUpdateStatefulSetStrategy {
                partition: Some(2),
                max_unavailable: String::new(),
            }),
        });
        let old_template = old.spec.as_ref().unwrap().template.clone().unwrap();
        let revs = Revisions {
            update: revision_name(&new),
            current: revision_name(&old),
            current_template: Some(old_template.clone()),
        };
        let below = new_pod(&new, 1, &revs);
        assert_eq!(below.meta().labels[REVISION_HASH], revision_name(&old));
        assert!(
            !below.meta().annotations.contains_key("image"),
            "old template"
        );
        let above = new_pod(&new, 2, &revs);
        assert_eq!(above.meta().labels[REVISION_HASH], revision_name(&new));
        assert_eq!(above.meta().annotations["image"], "v2");
        // OnDelete, or one revision only: always the update revision.
        let mut od = new.clone();
        od.spec.as_mut().unwrap().update_strategy = Some(StatefulSetUpdateStrategy {
            r#type: "OnDelete".into(),
            rolling_update: None,
        });
        assert!(!uses_current(&od, 0, &revs));
        assert!(!uses_current(&new, 0, &Revisions::of_set(&new)));
        // Without a rollingUpdate block: below status.currentReplicas.
        let mut nb = new.clone();
        nb.spec.as_mut().unwrap().update_strategy = None;
        nb.status = Some(StatefulSetStatus {
            current_replicas: 1,
            ..Default::default()
        });
        assert!(uses_current(&nb, 0, &revs) && !uses_current(&nb, 1, &revs));
    }

    #[test]
    fn the_current_revision_comes_from_the_history() {
        let old = set(3);
        let mut new = with_image(old.clone(), "v2");
        let template = |s: &StatefulSet| s.spec.as_ref().unwrap().template.clone().unwrap();
        let stored = |s: &StatefulSet, n: i32| {
            let t = template(s);
            let owner = history::Owner {
                meta: s.meta(),
                kind: "StatefulSet",
                template: &t,
                hash: template_hash(s),
            };
            Arc::new(history::new_revision(&owner, n))
        };
        let revisions = [stored(&old, 1), stored(&new, 2)];
        new.status = Some(StatefulSetStatus {
            current_revision: revision_name(&old),
            ..Default::default()
        });
        let revs = Revisions::from_history(&new, &revisions, &revision_name(&new));
        assert_eq!(revs.current, revision_name(&old));
        assert_eq!(revs.current_template, Some(template(&old)));
        // A current revision no longer stored: the history starts at the update revision.
        let revs = Revisions::from_history(&new, &revisions[1..], &revision_name(&new));
        assert_eq!(
            (revs.current, revs.current_template),
            (revision_name(&new), None)
        );
        // History: pods' revisions and current/update stay, the rest beyond the limit goes.
        new.spec.as_mut().unwrap().revision_history_limit = Some(0);
        let revs = Revisions::from_history(&new, &revisions, &revision_name(&new));
        assert!(history_to_delete(&new, &revisions, &[], &revs).is_empty());
        new.status.as_mut().unwrap().current_revision = revision_name(&new);
        let revs = Revisions::from_history(&new, &revisions, &revision_name(&new));
        let pods = [pod(&old, 0, St::Ready)];
        assert!(history_to_delete(&new, &revisions, &pods, &revs).is_empty());
        assert_eq!(
            history_to_delete(&new, &revisions, &[], &revs),
            [revision_name(&old)]
        );
    }

    #[test]
    fn status_counts_and_revisions() {
        let old = set(3);
        let mut new = with_image(old.clone(), "v2");
        new.status = Some(StatefulSetStatus {
            current_revision: revision_name(&old),
            ..Default::default()
        });
        let pods = [
            pod(&old, 0, St::Ready),
            pod(&old, 1, St::NotReady),
            pod(&new, 2, St::Ready),
        ];
        let s = plan_statefulset(&new, &pods, &Revisions::of_set(&new), SystemTime::now()).status;
        assert_eq!(
            (s.replicas, s.ready_replicas, s.available_replicas),
            (3, 2, 2)
        );
        assert_eq!((s.current_replicas, s.updated_replicas), (2, 1));
        assert_eq!(s.current_revision, revision_name(&old));
        assert_eq!(s.update_revision, revision_name(&new));
        assert_eq!((s.observed_generation, s.collision_count), (3, Some(0)));
        // All updated and ready: the update revision becomes current.
        let pods: Vec<_> = (0..3).map(|i| pod(&new, i, St::Ready)).collect();
        let s = plan_statefulset(&new, &pods, &Revisions::of_set(&new), SystemTime::now()).status;
        assert_eq!(s.current_revision, s.update_revision);
        assert_eq!(s.current_replicas, 3);
        // Writing collisionCount 0 into the status does not change the revision (it did
        // once, and every pod was rolled right after the first status write).
        let mut written = new.clone();
        written.status.as_mut().unwrap().collision_count = Some(0);
        assert_eq!(revision_name(&written), revision_name(&new));
        written.status.as_mut().unwrap().collision_count = Some(1);
        assert_ne!(revision_name(&written), revision_name(&new));
    }

    #[test]
    fn pod_identity_and_claims() {
        let mut s = set(3);
        let p = new_pod(&s, 1, &Revisions::of_set(&s));
        assert_eq!(p.meta().name, "web-1");
        let l = &p.meta().labels;
        assert_eq!(
            (
                l[POD_NAME_LABEL].as_str(),
                l[POD_INDEX_LABEL].as_str(),
                l["app"].as_str()
            ),
            ("web-1", "1", "web")
        );
        let spec = p.spec.as_ref().unwrap();
        assert_eq!(
            (spec.hostname.as_str(), spec.subdomain.as_str()),
            ("web-1", "nginx")
        );
        assert!(matches!(
            &spec.volumes[0].volume_source,
            Some(VolumeSource::PersistentVolumeClaim(c)) if c.claim_name == "www-web-1"
        ));
        let r = controller_ref(p.meta()).unwrap();
        assert_eq!((r.kind.as_str(), r.uid.as_str()), ("StatefulSet", "u1"));
        let c = &claims_for(&s, 1)[0];
        assert_eq!(c.meta().name, "www-web-1");
        assert_eq!(c.meta().labels["app"], "web");
        assert!(c.meta().owner_references.is_empty(), "Retain by default");
        s.spec
            .as_mut()
            .unwrap()
            .persistent_volume_claim_retention_policy =
            Some(StatefulSetPersistentVolumeClaimRetentionPolicy {
                when_deleted: "Delete".into(),
                when_scaled: "Retain".into(),
            });
        assert_eq!(claims_for(&s, 1)[0].meta().owner_references[0].uid, "u1");
        // whenScaled: only scaled-away ordinals, only with Delete.
        let web2 = new_pod(&s, 2, &Revisions::of_set(&s));
        assert!(
            claims_released_on_scale_down(&s, &web2).is_empty(),
            "Retain"
        );
        s.spec
            .as_mut()
            .unwrap()
            .persistent_volume_claim_retention_policy =
            Some(StatefulSetPersistentVolumeClaimRetentionPolicy {
                when_deleted: "Retain".into(),
                when_scaled: "Delete".into(),
            });
        assert!(
            claims_released_on_scale_down(&s, &web2).is_empty(),
            "still wanted"
        );
        s.spec.as_mut().unwrap().replicas = Some(2);
        assert_eq!(claims_released_on_scale_down(&s, &web2), ["www-web-2"]);
        assert_eq!(ordinal_of("web", "web-12"), Some(12));
        assert_eq!(ordinal_of("web", "web-x"), None);
        assert_eq!(ordinal_of("web", "webby-1"), None);
        assert_eq!(ordinal_of("web", "web-"), None);
    }
}
