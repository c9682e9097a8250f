//! Deployment controller (Kubernetes' `pkg/controller/deployment`): owns ReplicaSets
//! named `<deployment>-<pod-template-hash>`, one per template, and moves pods from the old
//! ones to the new one by the strategy: RollingUpdate (maxSurge / maxUnavailable) or
//! Recreate. Keeps the revision annotations and history (revisionHistoryLimit), scales
//! proportionally when replicas change mid-rollout, honours `paused`, and reports status
//! with the Available and Progressing conditions (progressDeadlineSeconds).
//!
//! Rollback is done by clients (as modern kubectl does): copying an old ReplicaSet's
//! template into the deployment makes that ReplicaSet the new one again, with the next
//! revision number.

pub mod util;

use crate::context::Context;
use crate::controllers::replicaset::{Claim, claim_decision};
use crate::error::Error;
use crate::pods::controller_ref;
use client::runtime::{
    Action, Controller, OnConflict, backoff, resolve_controller_ref, update_status_if_changed,
    write_status,
};
use client::store::key_of;
use client::{DeleteParams, InformerEvent, Store, WorkQueue};
use futures::future::BoxFuture;
use proto::k8s::{Deployment, DeploymentStatus, Pod, ReplicaSet};
use proto::selector::LabelSelector;
use proto::{Reason, Resource};
use std::sync::Arc;
use tokio_util::sync::CancellationToken;
use util::*;

/// The Events' source, as Kubernetes names it.
const SOURCE: &str = "deployment-controller";
pub const NAME: &str = "deployment";

pub fn start(
    ctx: Arc<Context>,
    cancel: CancellationToken,
) -> BoxFuture<'static, Result<(), Error>> {
    Box::pin(run(ctx, cancel))
}

struct DeploymentController {
    ctx: Arc<Context>,
    d_store: Store<Deployment>,
    rs_store: Store<ReplicaSet>,
    pod_store: Store<Pod>,
    queue: WorkQueue<String>,
}

async fn run(ctx: Arc<Context>, cancel: CancellationToken) -> Result<(), Error> {
    let d_informer = ctx.informer::<Deployment>();
    let rs_informer = ctx.informer::<ReplicaSet>();
    let pod_informer = ctx.informer::<Pod>();
    let runtime =
        Controller::new(NAME, d_informer.clone()).workers(ctx.config.concurrent_deployment_syncs);
    let c = Arc::new(DeploymentController {
        ctx: ctx.clone(),
        d_store: d_informer.store(),
        rs_store: rs_informer.store(),
        pod_store: pod_informer.store(),
        queue: runtime.queue(),
    });
    let (rc, pc) = (c.clone(), c.clone());
    runtime
        .watches_with(rs_informer, move |ev, _| rc.on_rs(ev))
        .watches_with(pod_informer, move |ev, _| {
            if let InformerEvent::Deleted(p) = ev {
                pc.on_pod_deleted(p);
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

fn selector_of(d: &Deployment) -> Option<LabelSelector> {
    d.spec
        .as_ref()
        .and_then(|s| s.selector.as_ref())
        .and_then(|s| LabelSelector::from_proto(s).ok())
}

impl DeploymentController {
    fn owner_of(&self, meta: &proto::k8s::ObjectMeta) -> Option<String> {
        resolve_controller_ref(&self.d_store, meta).map(|d| key_of(d.as_ref()))
    }

    fn matching_deployments(&self, rs: &ReplicaSet) -> Vec<String> {
        self.d_store
            .by_namespace(&rs.meta().namespace)
            .into_iter()
            .filter(|d| {
                selector_of(d).is_some_and(|s| !s.is_empty() && s.matches(&rs.meta().labels))
            })
            .map(|d| key_of(d.as_ref()))
            .collect()
    }

    fn on_rs(&self, ev: &InformerEvent<ReplicaSet>) {
        let mut keys = Vec::new();
        if let InformerEvent::Modified { old, .. } = ev {
            keys.extend(self.owner_of(old.meta()));
        }
        let rs = ev.object();
        match self.owner_of(rs.meta()) {
            Some(k) => keys.push(k),
            None if controller_ref(rs.meta()).is_none()
                && !matches!(ev, InformerEvent::Deleted(_)) =>
            {
                keys.extend(self.matching_deployments(rs));
            }
            None => {}
        }
        for k in keys {
            self.queue.add(k);
        }
    }

    /// A Recreate rollout waits for every old pod to be gone.
    fn on_pod_deleted(&self, pod: &Pod) {
        let Some(r) = controller_ref(pod.meta()) else {
            return;
        };
        if r.kind != "ReplicaSet" {
            return;
        }
        let Some(rs) = self.rs_store.get_in(&pod.meta().namespace, &r.name) else {
            return;
        };
        if let Some(key) = self.owner_of(rs.meta())
            && let Some(d) = self.d_store.get(&key)
            && !is_rolling(&d)
        {
            self.queue.add(key);
        }
    }

    async fn sync(&self, key: &str) -> Result<Action, Error> {
        let Some(d) = self.d_store.get(key) else {
            return Ok(Action::Done);
        };
        let d: Deployment = (*d).clone();
        let Some(selector) = selector_of(&d) else {
            tracing::warn!("invalid or missing selector; not syncing");
            return Ok(Action::Done);
        };
        if selector.is_empty() {
            // Kubernetes: an empty selector would select every pod; only note the generation.
            tracing::warn!("empty selector selects all pods; not syncing");
            let mut status = d.status.clone().unwrap_or_default();
            if status.observed_generation < d.meta().generation {
                status.observed_generation = d.meta().generation;
                self.write_status(&d, status).await?;
            }
            return Ok(Action::Done);
        }
        let rss = self.claim_replicasets(&d, &selector).await?;
        let refs: Vec<&ReplicaSet> = rss.iter().collect();
        if !d.meta().deletion_timestamp.is_empty() {
            return self.sync_status_only(&d, &refs).await;
        }
        let d = self.check_paused_condition(d).await?;
        let spec = d.spec.clone().unwrap_or_default();
        if spec.paused {
            return self.sync_scale(&d, &refs, true).await;
        }
        if is_scaling_event(&d, &refs) {
            return self.sync_scale(&d, &refs, false).await;
        }
        if is_rolling(&d) {
            self.rollout_rolling(&d, &refs).await
        } else {
            self.rollout_recreate(&d, &refs).await
        }
    }

    /// Kubernetes' getReplicaSetsForDeployment: the ReplicaSets this deployment controls,
    /// after adopting matching orphans and releasing those that stopped matching.
    async fn claim_replicasets(
        &self,
        d: &Deployment,
        selector: &LabelSelector,
    ) -> Result<Vec<ReplicaSet>, Error> {
        let uid = &d.meta().uid;
        let deleting = !d.meta().deletion_timestamp.is_empty();
        let api = self.ctx.api_in::<ReplicaSet>(&d.meta().namespace);
        let mut owned = Vec::new();
        let mut can_adopt: Option<bool> = None;
        for rs in self.rs_store.by_namespace(&d.meta().namespace) {
            let matches = selector.matches(&rs.meta().labels);
            match claim_decision(rs.meta(), uid, matches, deleting) {
                Claim::Owned => owned.push((*rs).clone()),
                Claim::Ignore => {}
                Claim::Release => {
                    let mut copy = (*rs).clone();
                    copy.meta_mut().owner_references.retain(|r| &r.uid != uid);
                    tracing::info!(replicaset = %rs.meta().name, "releasing ReplicaSet that no longer matches");
                    match api.update(&copy).await {
                        Ok(_) => {}
                        Err(e) if e.is(Reason::NotFound) => {}
                        Err(e) => return Err(e.into()),
                    }
                }
                Claim::Adopt => {
                    if can_adopt.is_none() {
                        let owners = self.ctx.api_in::<Deployment>(&d.meta().namespace);
                        can_adopt =
                            Some(crate::pods::owner_can_adopt(&owners, &d.meta().name, uid).await?);
                    }
                    if can_adopt != Some(true) {
                        continue;
                    }
                    let mut copy = (*rs).clone();
                    copy.meta_mut()
                        .owner_references
                        .push(crate::pods::new_controller_ref(
                            "apps/v1",
                            "Deployment",
                            d.meta(),
                        ));
                    tracing::info!(replicaset = %rs.meta().name, "adopting orphan ReplicaSet");
                    match api.update(&copy).await {
                        Ok(updated) => owned.push(updated),
                        Err(e) if e.is(Reason::NotFound) => {}
                        Err(e) => return Err(e.into()),
                    }
                }
            }
        }
        Ok(owned)
    }

    /// Kubernetes' checkPausedConditions: Progressing turns Unknown while paused.
    async fn check_paused_condition(&self, d: Deployment) -> Result<Deployment, Error> {
        if progress_deadline(&d).is_none() {
            return Ok(d);
        }
        let paused = d.spec.as_ref().is_some_and(|s| s.paused);
        let mut status = d.status.clone().unwrap_or_default();
        let reason = progressing(&status).map(|c| c.reason.clone());
        let now = proto::time::format_rfc3339(self.ctx.clock.now());
        let cond = if paused && reason.as_deref() != Some(PAUSED) {
            new_condition(
                "Progressing",
                "Unknown",
                PAUSED,
                "Deployment is paused".into(),
                &now,
            )
        } else if !paused && reason.as_deref() == Some(PAUSED) {
            new_condition(
                "Progressing",
                "Unknown",
                RESUMED,
                "Deployment is resumed".into(),
                &now,
            )
        } else {
            return Ok(d);
        };
        set_condition(&mut status, cond);
        self.write_status(&d, status).await
    }

    async fn scale_rs(
        &self,
        d: &Deployment,
        rs: &ReplicaSet,
        size: i32,
    ) -> Result<ReplicaSet, Error> {
        let mut copy = rs.clone();
        let size_changed = rs_replicas(rs) != size;
        let ann_changed =
            set_replicas_annotations(&mut copy, replicas(d), replicas(d) + max_surge(d));
        if !size_changed && !ann_changed {
            return Ok(copy);
        }
        copy.spec.get_or_insert_with(Default::default).replicas = Some(size);
        let written = self
            .ctx
            .api_in::<ReplicaSet>(&rs.meta().namespace)
            .update(&copy)
            .await?;
        if size_changed {
            let (from, to) = (rs_replicas(rs), size);
            tracing::info!(replicaset = %rs.meta().name, from, to, "scaling ReplicaSet");
            let op = if to > from { "up" } else { "down" };
            let msg = format!(
                "Scaled {op} replica set {} from {from} to {to}",
                rs.meta().name
            );
            self.ctx
                .events
                .event(SOURCE, d, false, "ScalingReplicaSet", msg);
        }
        Ok(written)
    }

    /// Kubernetes' getNewReplicaSet: finds (and updates the annotations of) the ReplicaSet
    /// for the current template, or creates it when `create`.
    async fn new_rs(
        &self,
        d: &Deployment,
        all: &[&ReplicaSet],
        create: bool,
    ) -> Result<Option<ReplicaSet>, Error> {
        let existing = find_new_rs(d, all);
        let old: Vec<&ReplicaSet> = all
            .iter()
            .copied()
            .filter(|rs| existing.is_none_or(|e| e.meta().uid != rs.meta().uid))
            .collect();
        let new_revision = max_revision(&old) + 1;
        let api = self.ctx.api_in::<ReplicaSet>(&d.meta().namespace);
        let rs = if let Some(existing) = existing {
            let mut copy = existing.clone();
            let mut changed = set_new_rs_annotations(d, &mut copy, new_revision, true);
            let min_ready = d.spec.as_ref().map_or(0, |s| s.min_ready_seconds);
            let spec = copy.spec.get_or_insert_with(Default::default);
            if spec.min_ready_seconds != min_ready {
                spec.min_ready_seconds = min_ready;
                changed = true;
            }
            if changed {
                api.update(&copy).await?
            } else {
                copy
            }
        } else {
            if !create {
                return Ok(None);
            }
            let template = d
                .spec
                .as_ref()
                .and_then(|s| s.template.clone())
                .unwrap_or_default();
            let collisions = d.status.as_ref().and_then(|s| s.collision_count);
            let hash = pod_template_hash(&template, collisions);
            let mut rs = new_replicaset(d, &hash);
            let mut with_new: Vec<&ReplicaSet> = all.to_vec();
            with_new.push(&rs);
            let size = new_rs_new_replicas(d, &with_new, &rs);
            rs.spec.get_or_insert_with(Default::default).replicas = Some(size);
            set_new_rs_annotations(d, &mut rs, new_revision, false);
            match api.create(&rs).await {
                Ok(created) => {
                    tracing::info!(replicaset = %created.meta().name, replicas = size, revision = new_revision, "created new ReplicaSet");
                    if size > 0 {
                        let msg = format!(
                            "Scaled up replica set {} from 0 to {size}",
                            created.meta().name
                        );
                        self.ctx
                            .events
                            .event(SOURCE, d, false, "ScalingReplicaSet", msg);
                    }
                    created
                }
                Err(e) if e.is(Reason::AlreadyExists) => {
                    // Our cache may lag: the same ReplicaSet, ours, with our template?
                    let found = api.get(&rs.meta().name).await?;
                    let ours = controller_ref(found.meta()).is_some_and(|r| r.uid == d.meta().uid);
                    let same = found
                        .spec
                        .as_ref()
                        .and_then(|s| s.template.as_ref())
                        .is_some_and(|t| equal_ignore_hash(t, &template));
                    if ours && same {
                        found
                    } else {
                        // A hash collision: bump collisionCount so the next hash differs.
                        let mut status = d.status.clone().unwrap_or_default();
                        status.collision_count = Some(status.collision_count.unwrap_or(0) + 1);
                        self.write_status(d, status).await?;
                        return Err(Error::Other(format!(
                            "hash collision for ReplicaSet {:?}; retrying with a new hash",
                            rs.meta().name
                        )));
                    }
                }
                Err(e) => return Err(e.into()),
            }
        };
        // The deployment carries its newest revision.
        let revision = rs
            .meta()
            .annotations
            .get(REVISION)
            .cloned()
            .unwrap_or_default();
        if d.meta().annotations.get(REVISION) != Some(&revision) {
            let patch = serde_json::json!({"metadata": {"annotations": {REVISION: revision}}});
            self.ctx
                .api_in::<Deployment>(&d.meta().namespace)
                .patch_merge(&d.meta().name, &patch)
                .await?;
        }
        Ok(Some(rs))
    }

    /// Kubernetes' `sync`: scaling only (paused, or replicas changed); no new ReplicaSet.
    async fn sync_scale(
        &self,
        d: &Deployment,
        all: &[&ReplicaSet],
        paused: bool,
    ) -> Result<Action, Error> {
        let new_rs = self.new_rs(d, all, false).await?;
        let (new_rs, old) = self.split(all, new_rs);
        let scaled = self.scale(d, new_rs.as_ref(), &old).await?;
        if paused {
            self.cleanup(d, &old).await?;
        }
        // Re-read what we just changed for the status.
        let all = self.refreshed(all, &scaled);
        let refs: Vec<&ReplicaSet> = all.iter().collect();
        let new_ref = new_rs
            .as_ref()
            .and_then(|n| refs.iter().copied().find(|r| r.meta().uid == n.meta().uid));
        let status = calculate_status(
            d,
            &refs,
            new_ref,
            &proto::time::format_rfc3339(self.ctx.clock.now()),
        );
        self.update_status_if_changed(d, status).await?;
        Ok(Action::Done)
    }

    /// The ReplicaSets with the ones just written replaced by the written versions.
    fn refreshed(&self, all: &[&ReplicaSet], written: &[ReplicaSet]) -> Vec<ReplicaSet> {
        all.iter()
            .map(|rs| {
                written
                    .iter()
                    .find(|w| w.meta().uid == rs.meta().uid)
                    .cloned()
                    .unwrap_or_else(|| (*rs).clone())
            })
            .collect()
    }

    /// (new, old) where new is the freshest copy of `new_rs` and old every other.
    fn split<'a>(
        &self,
        all: &[&'a ReplicaSet],
        new_rs: Option<ReplicaSet>,
    ) -> (Option<ReplicaSet>, Vec<&'a ReplicaSet>) {
        let old = all
            .iter()
            .copied()
            .filter(|rs| {
                new_rs
                    .as_ref()
                    .is_none_or(|n| n.meta().uid != rs.meta().uid)
            })
            .collect();
        (new_rs, old)
    }

    /// Kubernetes' `scale`: brings the active ReplicaSets to the deployment's size.
    async fn scale(
        &self,
        d: &Deployment,
        new_rs: Option<&ReplicaSet>,
        old: &[&ReplicaSet],
    ) -> Result<Vec<ReplicaSet>, Error> {
        let desired = replicas(d);
        let mut all: Vec<&ReplicaSet> = old.to_vec();
        if let Some(n) = new_rs {
            all.push(n);
        }
        let active: Vec<&ReplicaSet> = all
            .iter()
            .copied()
            .filter(|rs| rs_replicas(rs) > 0)
            .collect();
        let mut written = Vec::new();
        // One active (or none: the newest) takes the whole size.
        let target = match active.len() {
            0 => new_rs.or_else(|| newest(&all)),
            1 => Some(active[0]),
            _ => None,
        };
        if active.len() <= 1 {
            if let Some(rs) = target {
                written.push(self.scale_rs(d, rs, desired).await?);
            }
            return Ok(written);
        }
        // Saturated new ReplicaSet: the old ones go.
        if let Some(n) = new_rs
            && rs_replicas(n) == desired
            && n.status
                .as_ref()
                .is_some_and(|s| s.available_replicas == desired)
        {
            for rs in old.iter().filter(|rs| rs_replicas(rs) > 0) {
                written.push(self.scale_rs(d, rs, 0).await?);
            }
            return Ok(written);
        }
        if !is_rolling(d) {
            return Ok(written);
        }
        let allowed = if desired > 0 {
            desired + max_surge(d)
        } else {
            0
        };
        let current: i32 = active.iter().map(|rs| rs_replicas(rs)).sum();
        let to_add = allowed - current;
        let mut ordered = active.clone();
        // Growing: largest (then newest) first; shrinking: largest (then oldest) first.
        ordered.sort_by(|a, b| {
            rs_replicas(b).cmp(&rs_replicas(a)).then_with(|| {
                let (ta, tb) = (&a.meta().creation_timestamp, &b.meta().creation_timestamp);
                if to_add > 0 { tb.cmp(ta) } else { ta.cmp(tb) }
            })
        });
        let sizes: Vec<i32> = ordered.iter().map(|rs| rs_replicas(rs)).collect();
        let new_sizes = proportional_sizes(&sizes, to_add);
        for (rs, size) in ordered.iter().zip(new_sizes) {
            written.push(self.scale_rs(d, rs, size).await?);
        }
        Ok(written)
    }

    async fn rollout_rolling(&self, d: &Deployment, all: &[&ReplicaSet]) -> Result<Action, Error> {
        let Some(new_rs) = self.new_rs(d, all, true).await? else {
            return Ok(Action::Done);
        };
        let (new_rs, old) = self.split(all, Some(new_rs));
        let new_rs = new_rs.unwrap_or_default();
        let mut all_now: Vec<&ReplicaSet> = old.clone();
        all_now.push(&new_rs);

        // Scale up the new ReplicaSet within maxSurge.
        let desired = replicas(d);
        let current = rs_replicas(&new_rs);
        let target = if current > desired {
            desired
        } else {
            new_rs_new_replicas(d, &all_now, &new_rs)
        };
        if target != current {
            let written = self.scale_rs(d, &new_rs, target).await?;
            return self.sync_rollout_status(d, &old, Some(&written)).await;
        }

        // Scale down old ones within maxUnavailable.
        let mut old_sorted: Vec<&ReplicaSet> = old
            .iter()
            .copied()
            .filter(|rs| rs_replicas(rs) > 0)
            .collect();
        old_sorted.sort_by(|a, b| {
            a.meta()
                .creation_timestamp
                .cmp(&b.meta().creation_timestamp)
        });
        if !old_sorted.is_empty() {
            let budget = max_scaled_down(d, &all_now, Some(&new_rs));
            if budget > 0 {
                let mut written: Vec<ReplicaSet> = Vec::new();
                for (i, size) in cleanup_unhealthy(&old_sorted, budget) {
                    written.push(self.scale_rs(d, old_sorted[i], size).await?);
                }
                let old_after = self.refreshed(&old_sorted, &written);
                let old_refs: Vec<&ReplicaSet> = old_after.iter().collect();
                let mut all_after = old_refs.clone();
                all_after.push(&new_rs);
                let mut more = Vec::new();
                for (i, size) in scale_down_old(d, &all_after, &old_refs) {
                    more.push(self.scale_rs(d, old_refs[i], size).await?);
                }
                if !written.is_empty() || !more.is_empty() {
                    let mut w = written;
                    w.extend(more);
                    let old_final = self.refreshed(&old, &w);
                    let refs: Vec<&ReplicaSet> = old_final.iter().collect();
                    return self.sync_rollout_status(d, &refs, Some(&new_rs)).await;
                }
            }
        }

        let status = calculate_status(
            d,
            &all_now,
            Some(&new_rs),
            &proto::time::format_rfc3339(self.ctx.clock.now()),
        );
        if deployment_complete(d, &status) {
            self.cleanup(d, &old).await?;
        }
        self.sync_rollout_status(d, &old, Some(&new_rs)).await
    }

    async fn rollout_recreate(&self, d: &Deployment, all: &[&ReplicaSet]) -> Result<Action, Error> {
        let new_rs = self.new_rs(d, all, false).await?;
        let (new_rs, old) = self.split(all, new_rs);
        // Scale every old ReplicaSet to zero first.
        let mut written = Vec::new();
        for rs in old.iter().filter(|rs| rs_replicas(rs) > 0) {
            written.push(self.scale_rs(d, rs, 0).await?);
        }
        if !written.is_empty() {
            let old_after = self.refreshed(&old, &written);
            let refs: Vec<&ReplicaSet> = old_after.iter().collect();
            return self.sync_rollout_status(d, &refs, new_rs.as_ref()).await;
        }
        // ... and wait until none of their pods is left running.
        let running = old.iter().any(|rs| {
            self.pod_store.by_owner(&rs.meta().uid).iter().any(|p| {
                !matches!(
                    p.status.as_ref().map(|s| s.phase.as_str()),
                    Some("Failed" | "Succeeded")
                )
            })
        });
        if running {
            return self.sync_rollout_status(d, &old, new_rs.as_ref()).await;
        }
        let new_rs = match new_rs {
            Some(n) => n,
            None => match self.new_rs(d, all, true).await? {
                Some(n) => n,
                None => return Ok(Action::Done),
            },
        };
        let new_rs = self.scale_rs(d, &new_rs, replicas(d)).await?;
        let mut all_now = old.clone();
        all_now.push(&new_rs);
        let status = calculate_status(
            d,
            &all_now,
            Some(&new_rs),
            &proto::time::format_rfc3339(self.ctx.clock.now()),
        );
        if deployment_complete(d, &status) {
            self.cleanup(d, &old).await?;
        }
        self.sync_rollout_status(d, &old, Some(&new_rs)).await
    }

    /// Kubernetes' syncRolloutStatus: status counts plus the Progressing condition.
    async fn sync_rollout_status(
        &self,
        d: &Deployment,
        old: &[&ReplicaSet],
        new_rs: Option<&ReplicaSet>,
    ) -> Result<Action, Error> {
        let now_t = self.ctx.clock.now();
        let now = proto::time::format_rfc3339(now_t);
        let mut all: Vec<&ReplicaSet> = old.to_vec();
        if let Some(n) = new_rs {
            all.push(n);
        }
        let mut status = calculate_status(d, &all, new_rs, &now);
        if progress_deadline(d).is_none() {
            remove_condition(&mut status, "Progressing");
        } else {
            let current = progressing(&status).cloned();
            let complete_already = status.replicas == status.updated_replicas
                && current
                    .as_ref()
                    .is_some_and(|c| c.reason == NEW_RS_AVAILABLE);
            if !complete_already {
                let name = new_rs.map(|r| r.meta().name.clone()).unwrap_or_default();
                if deployment_complete(d, &status) {
                    set_condition(
                        &mut status,
                        new_condition(
                            "Progressing",
                            "True",
                            NEW_RS_AVAILABLE,
                            format!("ReplicaSet {name:?} has successfully progressed."),
                            &now,
                        ),
                    );
                } else if deployment_progressing(d, &status) {
                    let mut cond = new_condition(
                        "Progressing",
                        "True",
                        RS_UPDATED,
                        format!("ReplicaSet {name:?} is progressing."),
                        &now,
                    );
                    if let Some(cur) = &current {
                        if cur.status == "True" {
                            cond.last_transition_time = cur.last_transition_time.clone();
                        }
                        remove_condition(&mut status, "Progressing");
                    }
                    set_condition(&mut status, cond);
                } else if current.is_none() && new_rs.is_some() {
                    set_condition(
                        &mut status,
                        new_condition(
                            "Progressing",
                            "True",
                            NEW_RS_CREATED,
                            format!("Created new replica set {name:?}"),
                            &now,
                        ),
                    );
                } else if deployment_timed_out(d, &status, now_t) {
                    set_condition(
                        &mut status,
                        new_condition(
                            "Progressing",
                            "False",
                            TIMED_OUT,
                            format!("ReplicaSet {name:?} has timed out progressing."),
                            &now,
                        ),
                    );
                }
            }
        }
        // ReplicaFailure mirrors the ReplicaSets' own.
        let failure = all
            .iter()
            .filter_map(|rs| rs.status.as_ref())
            .flat_map(|s| s.conditions.iter())
            .find(|c| c.r#type == "ReplicaFailure" && c.status == "True")
            .cloned();
        match failure {
            Some(c) => set_condition(
                &mut status,
                new_condition("ReplicaFailure", &c.status, &c.reason, c.message, &now),
            ),
            None => remove_condition(&mut status, "ReplicaFailure"),
        }
        let requeue = time_to_deadline(d, &status, now_t);
        self.update_status_if_changed(d, status).await?;
        Ok(requeue.map_or(Action::Done, Action::RequeueAfter))
    }

    async fn sync_status_only(&self, d: &Deployment, all: &[&ReplicaSet]) -> Result<Action, Error> {
        let new_rs = find_new_rs(d, all).cloned();
        let status = calculate_status(
            d,
            all,
            new_rs.as_ref(),
            &proto::time::format_rfc3339(self.ctx.clock.now()),
        );
        self.update_status_if_changed(d, status).await?;
        Ok(Action::Done)
    }

    /// Kubernetes' cleanupDeployment: deletes the oldest empty ReplicaSets beyond
    /// revisionHistoryLimit.
    async fn cleanup(&self, d: &Deployment, old: &[&ReplicaSet]) -> Result<(), Error> {
        let Some(limit) = d.spec.as_ref().and_then(|s| s.revision_history_limit) else {
            return Ok(());
        };
        let mut cleanable: Vec<&ReplicaSet> = old
            .iter()
            .copied()
            .filter(|rs| rs.meta().deletion_timestamp.is_empty())
            .collect();
        let excess = i64::try_from(cleanable.len()).unwrap_or(0) - i64::from(limit.max(0));
        if excess <= 0 {
            return Ok(());
        }
        cleanable.sort_by(|a, b| {
            revision_of(a).cmp(&revision_of(b)).then_with(|| {
                a.meta()
                    .creation_timestamp
                    .cmp(&b.meta().creation_timestamp)
            })
        });
        let api = self.ctx.api_in::<ReplicaSet>(&d.meta().namespace);
        for rs in cleanable
            .into_iter()
            .take(usize::try_from(excess).unwrap_or(0))
        {
            let s = rs.status.clone().unwrap_or_default();
            if s.replicas != 0
                || rs_replicas(rs) != 0
                || rs.meta().generation > s.observed_generation
            {
                continue;
            }
            tracing::info!(replicaset = %rs.meta().name, revision = revision_of(rs), "deleting old ReplicaSet beyond revisionHistoryLimit");
            match api
                .delete(&rs.meta().name, &DeleteParams::background())
                .await
            {
                Ok(_) => {}
                Err(e) if e.is(Reason::NotFound) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    async fn update_status_if_changed(
        &self,
        d: &Deployment,
        status: DeploymentStatus,
    ) -> Result<(), Error> {
        let api = self.ctx.api_in::<Deployment>(&d.meta().namespace);
        let on_conflict = OnConflict::RetryOnFreshSameGeneration;
        update_status_if_changed(&api, d, status, on_conflict).await?;
        Ok(())
    }

    /// Writes the status onto the cached copy (a Conflict means a newer deployment: retry
    /// on a fresh copy if the spec is the one we decided on, since the annotation patch in
    /// new_rs moved the resourceVersion).
    async fn write_status(
        &self,
        d: &Deployment,
        status: DeploymentStatus,
    ) -> Result<Deployment, Error> {
        let api = self.ctx.api_in::<Deployment>(&d.meta().namespace);
        let on_conflict = OnConflict::RetryOnFreshSameGeneration;
        match write_status(&api, d, status.clone(), on_conflict).await? {
            Some(written) => Ok(written),
            None => {
                let mut copy = d.clone();
                copy.status = Some(status);
                Ok(copy)
            }
        }
    }
}

fn newest<'a>(rss: &[&'a ReplicaSet]) -> Option<&'a ReplicaSet> {
    rss.iter().copied().max_by(|a, b| {
        a.meta()
            .creation_timestamp
            .cmp(&b.meta().creation_timestamp)
    })
}
