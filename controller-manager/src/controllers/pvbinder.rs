//! PersistentVolume binder (Kubernetes' persistentvolume-binder, static provisioning): a
//! pending claim is bound to the smallest available volume that satisfies its request,
//! access modes, storageClassName, volumeMode and selector (or to the volume it names, or
//! that names it); both get phase Bound. When the claim goes the volume's reclaim policy
//! applies: Retain makes it Released; Delete deletes a hostPath volume's API object
//! (emptying the directory is the node's job, as Kubernetes leaves it to a deleter);
//! anything else that cannot be reclaimed here turns Failed.

use crate::context::Context;
use crate::error::Error;
use client::InformerEvent;
use client::runtime::{Action, Controller, OnConflict, Request, backoff, update_status_if_changed};
use client::store::{make_key, split_key};
use futures::FutureExt;
use futures::future::BoxFuture;
use proto::k8s::{
    ObjectReference, PersistentVolume, PersistentVolumeClaim, PersistentVolumeClaimStatus,
    PersistentVolumeStatus, StorageClass,
};
use proto::quantity::Quantity;
use proto::selector::LabelSelector;
use proto::{Reason, Resource};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

pub const NAME: &str = "persistentvolume-binder";

pub const ANN_BOUND_BY_CONTROLLER: &str = "pv.kubernetes.io/bound-by-controller";
pub const ANN_BIND_COMPLETED: &str = "pv.kubernetes.io/bind-completed";
pub use proto::local_path::ANN_PROVISIONED_BY;

/// Kubernetes resyncs volumes and claims this often, so a claim waiting for a volume
/// finds one made meanwhile even if an event was missed.
const RESYNC: Duration = Duration::from_secs(15);

/// The binder, the provisioner and quota read classes and sizes alike (`proto::claims`).
pub use proto::claims::{claim_class, claim_request, volume_capacity as pv_capacity, volume_class};

fn volume_mode(m: Option<&String>) -> &str {
    m.map_or(
        "Filesystem",
        |s| if s.is_empty() { "Filesystem" } else { s },
    )
}

/// True when `pv.spec.claimRef` names this claim (and its uid, if the ref has one).
pub fn volume_bound_to_claim(pv: &PersistentVolume, pvc: &PersistentVolumeClaim) -> bool {
    let Some(r) = pv.spec.as_ref().and_then(|s| s.claim_ref.as_ref()) else {
        return false;
    };
    let m = pvc.meta();
    r.name == m.name && r.namespace == m.namespace && (r.uid.is_empty() || r.uid == m.uid)
}

/// Kubernetes' `checkVolumeSatisfyClaim`: size, class, volume mode and access modes.
pub fn volume_satisfies_claim(
    pv: &PersistentVolume,
    pvc: &PersistentVolumeClaim,
) -> Result<(), String> {
    let (Some(vs), Some(cs)) = (pv.spec.as_ref(), pvc.spec.as_ref()) else {
        return Err("missing spec".into());
    };
    let cap = pv_capacity(pv).unwrap_or_default();
    let req = claim_request(pvc);
    if cap < req {
        return Err(format!(
            "requested storage {req} is more than the volume's {cap}"
        ));
    }
    if volume_class(pv) != claim_class(pvc) {
        return Err(format!(
            "storageClassName {:?} does not match the claim's {:?}",
            volume_class(pv),
            claim_class(pvc)
        ));
    }
    if volume_mode(vs.volume_mode.as_ref()) != volume_mode(cs.volume_mode.as_ref()) {
        return Err("volumeMode does not match".into());
    }
    if let Some(m) = cs
        .access_modes
        .iter()
        .find(|m| !vs.access_modes.contains(m))
    {
        return Err(format!("access mode {m} is not offered"));
    }
    Ok(())
}

/// Kubernetes' `findMatchingVolume`: a volume pre-bound to this claim wins if it fits;
/// otherwise the smallest free, Available (or new) volume that satisfies the claim and its
/// selector. Ties go to the name that sorts first. With `delay_binding` (the claim's class
/// binds WaitForFirstConsumer) only a pre-bound volume matches: the scheduler chooses a
/// free one for the claim's first pod, where that pod can run.
pub fn find_best_match<'a>(
    pvc: &PersistentVolumeClaim,
    volumes: &[&'a PersistentVolume],
    delay_binding: bool,
) -> Option<&'a PersistentVolume> {
    let selector = pvc
        .spec
        .as_ref()
        .and_then(|s| s.selector.as_ref())
        .map(LabelSelector::from_proto);
    let selector = match selector {
        Some(Ok(s)) => Some(s),
        Some(Err(_)) => return None, // an invalid selector matches nothing
        None => None,
    };
    let mut best: Option<(&PersistentVolume, Quantity)> = None;
    for pv in volumes {
        if !pv.meta().deletion_timestamp.is_empty() || volume_satisfies_claim(pv, pvc).is_err() {
            continue;
        }
        if volume_bound_to_claim(pv, pvc) {
            return Some(pv);
        }
        if delay_binding {
            continue;
        }
        let spec = pv.spec.as_ref();
        if spec.and_then(|s| s.claim_ref.as_ref()).is_some() {
            continue;
        }
        let phase = pv.status.as_ref().map_or("", |s| s.phase.as_str());
        if !matches!(phase, "" | "Pending" | "Available") {
            continue;
        }
        if let Some(sel) = &selector
            && !sel.matches(&pv.meta().labels)
        {
            continue;
        }
        let cap = pv_capacity(pv).unwrap_or_default();
        let better = match &best {
            None => true,
            Some((b, bcap)) => cap < *bcap || (cap == *bcap && pv.meta().name < b.meta().name),
        };
        if better {
            best = Some((pv, cap));
        }
    }
    best.map(|(pv, _)| pv)
}

/// What to do with a volume, given the claim its claimRef names (looked up by
/// namespace/name; `None` if absent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VolumeAction {
    Nothing,
    SetPhase(&'static str, String),
    /// Reclaim policy Delete on a volume whose claim is gone.
    Delete,
    /// The claim is bound elsewhere: clear a claimRef this controller set.
    Unbind,
}

pub fn plan_volume(pv: &PersistentVolume, claim: Option<&PersistentVolumeClaim>) -> VolumeAction {
    let phase = pv.status.as_ref().map_or("", |s| s.phase.as_str());
    let set = |p: &'static str, msg: &str| {
        if phase == p {
            VolumeAction::Nothing
        } else {
            VolumeAction::SetPhase(p, msg.to_string())
        }
    };
    if !pv.meta().deletion_timestamp.is_empty() {
        return VolumeAction::Nothing;
    }
    let spec = pv.spec.clone().unwrap_or_default();
    let Some(r) = spec.claim_ref.as_ref() else {
        return set("Available", "");
    };
    if r.uid.is_empty() {
        // Pre-bound by a user, not bound yet: free for that claim only.
        return set("Available", "");
    }
    let claim_alive = claim.is_some_and(|c| c.meta().uid == r.uid);
    if !claim_alive {
        if phase == "Failed" {
            return VolumeAction::Nothing;
        }
        return match spec.persistent_volume_reclaim_policy.as_str() {
            // A provisioner's volume: its deleter (for local-path, the kubelet of its node)
            // removes the data, then the volume.
            "Delete" if pv.meta().annotations.contains_key(ANN_PROVISIONED_BY) => {
                set("Released", "")
            }
            "Delete" if spec.host_path.is_some() => VolumeAction::Delete,
            "Delete" => set(
                "Failed",
                "no deleter for this volume type (only hostPath volumes are deleted)",
            ),
            "Recycle" => set("Failed", "Recycle is not supported"),
            // Retain (the default for static volumes)
            _ => set("Released", ""),
        };
    }
    let Some(claim) = claim else {
        return VolumeAction::Nothing;
    };
    let volume_name = claim.spec.as_ref().map_or("", |s| s.volume_name.as_str());
    if volume_name.is_empty() || volume_name == pv.meta().name {
        // Bound, or the claim's half of the binding is still to be written.
        return set("Bound", "");
    }
    // The claim is bound to another volume.
    if pv.meta().annotations.contains_key(ANN_BOUND_BY_CONTROLLER) {
        VolumeAction::Unbind
    } else {
        set("Released", "")
    }
}

/// What to do with a claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimAction {
    Nothing,
    /// Pending with no volume to bind (phase Pending).
    Pending,
    /// Bind to this volume (each step is idempotent and skipped if done).
    Bind(String),
    /// Its volume is gone or taken by another claim.
    Lost,
}

/// `delay_binding`: the claim's class binds WaitForFirstConsumer ([`delays_binding`]).
pub fn plan_claim(
    pvc: &PersistentVolumeClaim,
    volumes: &[&PersistentVolume],
    delay_binding: bool,
) -> ClaimAction {
    if !pvc.meta().deletion_timestamp.is_empty() {
        return ClaimAction::Nothing;
    }
    let phase = pvc.status.as_ref().map_or("", |s| s.phase.as_str());
    let volume_name = pvc.spec.as_ref().map_or("", |s| s.volume_name.as_str());
    if volume_name.is_empty() {
        return match find_best_match(pvc, volumes, delay_binding) {
            Some(pv) => ClaimAction::Bind(pv.meta().name.clone()),
            None if phase == "Pending" => ClaimAction::Nothing,
            None => ClaimAction::Pending,
        };
    }
    let Some(pv) = volumes.iter().find(|v| v.meta().name == volume_name) else {
        return if pvc.meta().annotations.contains_key(ANN_BIND_COMPLETED) {
            if phase == "Lost" {
                ClaimAction::Nothing
            } else {
                ClaimAction::Lost
            }
        } else if phase == "Pending" {
            ClaimAction::Nothing
        } else {
            ClaimAction::Pending
        };
    };
    let claim_ref = pv.spec.as_ref().and_then(|s| s.claim_ref.as_ref());
    match claim_ref {
        // The user named a free volume: bind it if it fits.
        None => {
            if volume_satisfies_claim(pv, pvc).is_ok() {
                ClaimAction::Bind(volume_name.to_string())
            } else if phase == "Pending" {
                ClaimAction::Nothing
            } else {
                ClaimAction::Pending
            }
        }
        Some(_) if volume_bound_to_claim(pv, pvc) => {
            let pv_bound = pv.status.as_ref().is_some_and(|s| s.phase == "Bound");
            let claim_ref_uid_set = claim_ref.is_some_and(|r| !r.uid.is_empty());
            if phase == "Bound" && pv_bound && claim_ref_uid_set {
                ClaimAction::Nothing
            } else {
                ClaimAction::Bind(volume_name.to_string())
            }
        }
        Some(_) => {
            if pvc.meta().annotations.contains_key(ANN_BIND_COMPLETED) {
                if phase == "Lost" {
                    ClaimAction::Nothing
                } else {
                    ClaimAction::Lost
                }
            } else if phase == "Pending" {
                ClaimAction::Nothing
            } else {
                ClaimAction::Pending
            }
        }
    }
}

/// Kubernetes' `IsDelayBindingMode`: the claim's class exists and binds
/// WaitForFirstConsumer. No class, or a class not (yet) known, binds at once.
pub fn delays_binding(pvc: &PersistentVolumeClaim, class: Option<&StorageClass>) -> bool {
    !claim_class(pvc).is_empty()
        && class.is_some_and(|c| c.volume_binding_mode.as_deref() == Some("WaitForFirstConsumer"))
}

pub fn start(
    ctx: Arc<Context>,
    cancel: CancellationToken,
) -> BoxFuture<'static, Result<(), Error>> {
    run(ctx, cancel).boxed()
}

/// Keys are `pvc:<namespace>/<name>` and `pv:<name>`: volumes and claims share one queue
/// and one worker, so two claims of this process never race for one volume (a race with
/// another writer still ends in a Conflict, never a double binding). The runtime's own
/// kind is the claim, but its `Request::object` (looked up by the plain key) is not used:
/// each sync reads the caches by the key's kind.
async fn run(ctx: Arc<Context>, cancel: CancellationToken) -> Result<(), Error> {
    let pvs = ctx.informer::<PersistentVolume>();
    let pvcs = ctx.informer::<PersistentVolumeClaim>();
    let classes = ctx.informer::<StorageClass>();
    let claims = pvcs.store();
    let claims_of_class = pvcs.store();
    let (pv_keys, pvc_keys) = (pvs.store(), pvcs.store());
    let controller = Controller::new_with(NAME, pvcs.clone(), |ev, q| {
        let c = ev.object();
        q.add(format!(
            "pvc:{}",
            make_key(&c.meta().namespace, &c.meta().name)
        ));
        if let Some(v) = c.spec.as_ref().map(|s| &s.volume_name)
            && !v.is_empty()
        {
            q.add(format!("pv:{v}"));
        }
    })
    .watches_with(
        pvs.clone(),
        move |ev: &InformerEvent<PersistentVolume>, q| {
            let pv = ev.object();
            q.add(format!("pv:{}", pv.meta().name));
            if let Some(r) = pv.spec.as_ref().and_then(|s| s.claim_ref.as_ref()) {
                q.add(format!("pvc:{}", make_key(&r.namespace, &r.name)));
            }
            // A volume that may be free now: unbound claims, and those naming this volume
            // (they may have been looked at before it was in the cache), look again.
            if !matches!(ev, InformerEvent::Deleted(_)) {
                for c in claims.list() {
                    let named = c.spec.as_ref().map_or("", |s| s.volume_name.as_str());
                    if named.is_empty() || named == pv.meta().name {
                        q.add(format!(
                            "pvc:{}",
                            make_key(&c.meta().namespace, &c.meta().name)
                        ));
                    }
                }
            }
        },
    )
    // A class's binding mode decides whether its claims wait for a consumer: watched so
    // the cache is synced before the first claim is looked at, and its claims look again.
    .watches_with(
        classes.clone(),
        move |ev: &InformerEvent<StorageClass>, q| {
            let class = ev.object().meta().name.as_str();
            for c in claims_of_class.list() {
                if claim_class(&c) == class {
                    q.add(format!(
                        "pvc:{}",
                        make_key(&c.meta().namespace, &c.meta().name)
                    ));
                }
            }
        },
    )
    .resync_keys_every(RESYNC, move || {
        let volumes = pv_keys.keys().into_iter().map(|v| format!("pv:{v}"));
        let claims = pvc_keys.keys().into_iter().map(|c| format!("pvc:{c}"));
        volumes.chain(claims).collect()
    })
    .workers(1);
    let binder = Arc::new(Binder {
        ctx,
        pvs: pvs.store(),
        pvcs: pvcs.store(),
        classes: classes.store(),
    });
    controller.run(reconcile, backoff, binder, cancel).await;
    Ok(())
}

struct Binder {
    ctx: Arc<Context>,
    pvs: client::Store<PersistentVolume>,
    pvcs: client::Store<PersistentVolumeClaim>,
    classes: client::Store<StorageClass>,
}

async fn reconcile(req: Request<PersistentVolumeClaim>, b: Arc<Binder>) -> Result<Action, Error> {
    if let Some(name) = req.key.strip_prefix("pv:") {
        sync_volume(&b.ctx, &b.pvs, &b.pvcs, name).await
    } else if let Some(k) = req.key.strip_prefix("pvc:") {
        sync_claim(&b.ctx, &b.pvs, &b.pvcs, &b.classes, k).await
    } else {
        Ok(Action::Done)
    }
}

async fn sync_volume(
    ctx: &Context,
    pvs: &client::Store<PersistentVolume>,
    pvcs: &client::Store<PersistentVolumeClaim>,
    name: &str,
) -> Result<Action, Error> {
    let Some(pv) = pvs.get(name) else {
        return Ok(Action::Done);
    };
    let claim = pv
        .spec
        .as_ref()
        .and_then(|s| s.claim_ref.as_ref())
        .and_then(|r| pvcs.get_in(&r.namespace, &r.name));
    // The cache may not show a claim that was just made or deleted: confirm absence live
    // before releasing or deleting anything.
    let claim = match (&claim, pv.spec.as_ref().and_then(|s| s.claim_ref.as_ref())) {
        (None, Some(r)) if !r.uid.is_empty() => ctx
            .api_in::<PersistentVolumeClaim>(&r.namespace)
            .get_opt(&r.name)
            .await?
            .map(Arc::new),
        _ => claim,
    };
    let api = ctx.api::<PersistentVolume>();
    match plan_volume(&pv, claim.as_deref()) {
        VolumeAction::Nothing => {}
        VolumeAction::SetPhase(phase, message) => {
            let mut next = (*pv).clone();
            next.status = Some(PersistentVolumeStatus {
                phase: phase.to_string(),
                message,
                last_phase_transition_time: proto::time::format_rfc3339(ctx.clock.now()),
                ..next.status.unwrap_or_default()
            });
            api.update_status(&next).await?;
            tracing::info!(phase, "volume phase set");
        }
        VolumeAction::Delete => {
            let params = client::DeleteParams {
                preconditions: Some(client::DeletePreconditions {
                    uid: pv.meta().uid.clone(),
                    ..Default::default()
                }),
                ..Default::default()
            };
            match api.delete(name, &params).await {
                Ok(_) => tracing::info!("claim gone, reclaim policy Delete: volume deleted"),
                Err(e) if e.is(Reason::NotFound) => {}
                Err(e) => return Err(e.into()),
            }
        }
        VolumeAction::Unbind => {
            let mut next = (*pv).clone();
            if let Some(s) = next.spec.as_mut() {
                s.claim_ref = None;
            }
            next.meta_mut().annotations.remove(ANN_BOUND_BY_CONTROLLER);
            api.update(&next).await?;
            tracing::info!("claim bound elsewhere: volume unbound");
        }
    }
    Ok(Action::Done)
}

async fn sync_claim(
    ctx: &Context,
    pvs: &client::Store<PersistentVolume>,
    pvcs: &client::Store<PersistentVolumeClaim>,
    classes: &client::Store<StorageClass>,
    key: &str,
) -> Result<Action, Error> {
    let Some(pvc) = pvcs.get(key) else {
        return Ok(Action::Done);
    };
    let class = classes.get(claim_class(&pvc));
    let delay_binding = delays_binding(&pvc, class.as_deref());
    let (ns, _) = split_key(key);
    let volumes = pvs.list();
    let refs: Vec<&PersistentVolume> = volumes.iter().map(|v| v.as_ref()).collect();
    let claim_api = ctx.api_in::<PersistentVolumeClaim>(ns);
    let plan = plan_claim(&pvc, &refs, delay_binding);
    match plan {
        ClaimAction::Nothing => Ok(Action::Done),
        ClaimAction::Pending | ClaimAction::Lost => {
            let phase = if plan == ClaimAction::Lost {
                "Lost"
            } else {
                "Pending"
            };
            let mut next = (*pvc).clone();
            next.status.get_or_insert_with(Default::default).phase = phase.into();
            claim_api.update_status(&next).await?;
            tracing::debug!(phase, "claim phase set");
            Ok(Action::Done)
        }
        ClaimAction::Bind(volume) => {
            let Some(pv) = pvs.get(&volume) else {
                return Ok(Action::Done);
            };
            bind(ctx, &pv, &pvc).await?;
            Ok(Action::Done)
        }
    }
}

/// Kubernetes' `bind`: volume's claimRef, volume Bound, claim's volumeName, claim Bound;
/// each step skipped when already done, so an interrupted binding completes on retry.
async fn bind(
    ctx: &Context,
    pv: &PersistentVolume,
    pvc: &PersistentVolumeClaim,
) -> Result<(), Error> {
    let pv_api = ctx.api::<PersistentVolume>();
    let claim_api = ctx.api_in::<PersistentVolumeClaim>(&pvc.meta().namespace);
    let m = pvc.meta();
    let mut pv = pv.clone();
    let ref_done = pv
        .spec
        .as_ref()
        .and_then(|s| s.claim_ref.as_ref())
        .is_some_and(|r| r.uid == m.uid && r.name == m.name && r.namespace == m.namespace);
    if !ref_done {
        let spec = pv.spec.get_or_insert_with(Default::default);
        let was_set = spec.claim_ref.is_some();
        spec.claim_ref = Some(ObjectReference {
            kind: "PersistentVolumeClaim".into(),
            api_version: "v1".into(),
            namespace: m.namespace.clone(),
            name: m.name.clone(),
            uid: m.uid.clone(),
            resource_version: m.resource_version.clone(),
            ..Default::default()
        });
        if !was_set {
            pv.meta_mut()
                .annotations
                .insert(ANN_BOUND_BY_CONTROLLER.into(), "yes".into());
        }
        // Guarded by the resourceVersion read: a volume another claim took meanwhile
        // is a Conflict, never a double binding.
        pv = pv_api.update(&pv).await?;
    }
    if pv.status.as_ref().is_none_or(|s| s.phase != "Bound") {
        pv.status = Some(PersistentVolumeStatus {
            phase: "Bound".into(),
            last_phase_transition_time: proto::time::format_rfc3339(ctx.clock.now()),
            ..Default::default()
        });
        pv = pv_api.update_status(&pv).await?;
    }
    let mut claim = pvc.clone();
    let spec = claim.spec.get_or_insert_with(Default::default);
    let bound_by_us = spec.volume_name.is_empty();
    if spec.volume_name != pv.meta().name
        || !claim.meta().annotations.contains_key(ANN_BIND_COMPLETED)
    {
        let spec = claim.spec.get_or_insert_with(Default::default);
        spec.volume_name = pv.meta().name.clone();
        let ann = &mut claim.meta_mut().annotations;
        ann.insert(ANN_BIND_COMPLETED.into(), "yes".into());
        if bound_by_us {
            ann.insert(ANN_BOUND_BY_CONTROLLER.into(), "yes".into());
        }
        claim = claim_api.update(&claim).await?;
    }
    let vspec = pv.spec.clone().unwrap_or_default();
    let want = PersistentVolumeClaimStatus {
        phase: "Bound".into(),
        access_modes: vspec.access_modes.clone(),
        capacity: vspec
            .capacity
            .get("storage")
            .map(|q| [("storage".to_string(), q.clone())].into())
            .unwrap_or_default(),
        conditions: claim
            .status
            .as_ref()
            .map(|s| s.conditions.clone())
            .unwrap_or_default(),
    };
    update_status_if_changed(&claim_api, &claim, want, OnConflict::Fail).await?;
    tracing::info!(volume = %pv.meta().name, "claim bound");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::k8s::{
        HostPathVolumeSource, LabelSelector as PLabelSelector, ObjectMeta,
        PersistentVolumeClaimSpec, PersistentVolumeSpec, VolumeResourceRequirements,
    };

    fn pv(name: &str, size: &str, modes: &[&str], class: &str) -> PersistentVolume {
        PersistentVolume {
            metadata: Some(ObjectMeta {
                name: name.into(),
                uid: format!("pv-{name}"),
                ..Default::default()
            }),
            spec: Some(PersistentVolumeSpec {
                capacity: [("storage".to_string(), size.to_string())].into(),
                access_modes: modes.iter().map(|s| s.to_string()).collect(),
                storage_class_name: class.into(),
                persistent_volume_reclaim_policy: "Retain".into(),
                host_path: Some(HostPathVolumeSource {
                    path: format!("/tmp/{name}"),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            status: Some(PersistentVolumeStatus {
                phase: "Available".into(),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn pvc(name: &str, size: &str, modes: &[&str], class: Option<&str>) -> PersistentVolumeClaim {
        PersistentVolumeClaim {
            metadata: Some(ObjectMeta {
                name: name.into(),
                namespace: "ns".into(),
                uid: format!("uid-{name}"),
                ..Default::default()
            }),
            spec: Some(PersistentVolumeClaimSpec {
                access_modes: modes.iter().map(|s| s.to_string()).collect(),
                resources: Some(VolumeResourceRequirements {
                    requests: [("storage".to_string(), size.to_string())].into(),
                    ..Default::default()
                }),
                storage_class_name: class.map(String::from),
                ..Default::default()
            }),
            status: Some(PersistentVolumeClaimStatus {
                phase: "Pending".into(),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn claim_ref(pv: &mut PersistentVolume, ns: &str, name: &str, uid: &str) {
        pv.spec.as_mut().unwrap().claim_ref = Some(ObjectReference {
            namespace: ns.into(),
            name: name.into(),
            uid: uid.into(),
            ..Default::default()
        });
    }

    #[test]
    fn best_match_table() {
        let rwo = &["ReadWriteOnce"][..];
        let small = pv("small", "1Gi", rwo, "");
        let mid = pv("mid", "5Gi", &["ReadWriteOnce", "ReadOnlyMany"], "");
        let big = pv("big", "10Gi", rwo, "");
        let fast = pv("fast", "2Gi", rwo, "fast");
        let mut taken = pv("taken", "2Gi", rwo, "");
        claim_ref(&mut taken, "ns", "other", "uid-other");
        let mut released = pv("released", "2Gi", rwo, "");
        released.status.as_mut().unwrap().phase = "Released".into();
        let mut labeled = pv("labeled", "3Gi", rwo, "");
        labeled
            .meta_mut()
            .labels
            .insert("tier".into(), "gold".into());
        let mut prebound = pv("prebound", "20Gi", rwo, "");
        claim_ref(&mut prebound, "ns", "want", "");
        let mut mi = pv("mi", "1500Mi", rwo, "");
        mi.meta_mut().name = "mi".into();

        let all = [&small, &mid, &big, &fast, &taken, &released, &labeled, &mi];
        let mut with_selector = pvc("sel", "1Gi", rwo, None);
        with_selector.spec.as_mut().unwrap().selector = Some(PLabelSelector {
            match_labels: [("tier".to_string(), "gold".to_string())].into(),
            ..Default::default()
        });
        let cases: Vec<(
            &str,
            PersistentVolumeClaim,
            Vec<&PersistentVolume>,
            Option<&str>,
        )> = vec![
            (
                "smallest that fits",
                pvc("a", "1Gi", rwo, None),
                all.to_vec(),
                Some("small"),
            ),
            (
                "quantities compare across units",
                pvc("a", "1200Mi", rwo, None),
                all.to_vec(),
                Some("mi"),
            ),
            (
                "bigger request",
                pvc("a", "4Gi", rwo, None),
                all.to_vec(),
                Some("mid"),
            ),
            (
                "access modes",
                pvc("a", "1Gi", &["ReadOnlyMany"], None),
                all.to_vec(),
                Some("mid"),
            ),
            (
                "class",
                pvc("a", "1Gi", rwo, Some("fast")),
                all.to_vec(),
                Some("fast"),
            ),
            (
                "unset class is no class",
                pvc("a", "1800Mi", rwo, Some("")),
                all.to_vec(),
                Some("labeled"),
            ),
            (
                "too big for all",
                pvc("a", "100Gi", rwo, None),
                all.to_vec(),
                None,
            ),
            ("selector", with_selector, all.to_vec(), Some("labeled")),
            (
                "pre-bound volume wins over smaller",
                pvc("want", "1Gi", rwo, None),
                vec![&small, &prebound],
                Some("prebound"),
            ),
            (
                "pre-bound to another claim is skipped",
                pvc("a", "1Gi", rwo, None),
                vec![&prebound],
                None,
            ),
            (
                "bound and released are skipped",
                pvc("a", "1Gi", rwo, None),
                vec![&taken, &released],
                None,
            ),
        ];
        for (name, claim, vols, want) in cases {
            let got = find_best_match(&claim, &vols, false).map(|v| v.meta().name.as_str());
            assert_eq!(got, want, "{name}");
        }
    }

    #[test]
    fn a_claim_waiting_for_its_first_consumer_takes_only_a_pre_bound_volume() {
        let rwo = &["ReadWriteOnce"][..];
        let free = pv("free", "1Gi", rwo, "slow");
        let claim = pvc("c", "1Gi", rwo, Some("slow"));
        // The scheduler pre-binds a volume on the node it chose for the first pod.
        let mut chosen = pv("chosen", "1Gi", rwo, "slow");
        claim_ref(&mut chosen, "ns", "c", "");
        assert_eq!(plan_claim(&claim, &[&free], true), ClaimAction::Nothing);
        assert_eq!(
            plan_claim(&claim, &[&free, &chosen], true),
            ClaimAction::Bind("chosen".into())
        );
        assert_eq!(
            plan_claim(&claim, &[&free], false),
            ClaimAction::Bind("free".into())
        );
        let class = |mode: &str| StorageClass {
            volume_binding_mode: Some(mode.into()),
            ..Default::default()
        };
        assert!(delays_binding(&claim, Some(&class("WaitForFirstConsumer"))));
        assert!(!delays_binding(&claim, Some(&class("Immediate"))));
        assert!(!delays_binding(&claim, None));
        let classless = pvc("c", "1Gi", rwo, None);
        assert!(!delays_binding(
            &classless,
            Some(&class("WaitForFirstConsumer"))
        ));
    }

    #[test]
    fn claim_plans() {
        let rwo = &["ReadWriteOnce"][..];
        let free = pv("free", "1Gi", rwo, "");
        let mut mine = pv("mine", "1Gi", rwo, "");
        claim_ref(&mut mine, "ns", "c", "uid-c");
        mine.status.as_mut().unwrap().phase = "Bound".into();
        let mut theirs = pv("theirs", "1Gi", rwo, "");
        claim_ref(&mut theirs, "ns", "x", "uid-x");

        let mut named_free = pvc("c", "1Gi", rwo, None);
        named_free.spec.as_mut().unwrap().volume_name = "free".into();
        let mut bound = pvc("c", "1Gi", rwo, None);
        bound.spec.as_mut().unwrap().volume_name = "mine".into();
        bound.status.as_mut().unwrap().phase = "Bound".into();
        let mut half = bound.clone();
        half.status.as_mut().unwrap().phase = "Pending".into();
        let mut lost = bound.clone();
        lost.meta_mut()
            .annotations
            .insert(ANN_BIND_COMPLETED.into(), "yes".into());
        let mut stolen = lost.clone();
        stolen.spec.as_mut().unwrap().volume_name = "theirs".into();
        let mut new_claim = pvc("c", "5Gi", rwo, None);
        new_claim.status = None;

        let cases: Vec<(
            &str,
            PersistentVolumeClaim,
            Vec<&PersistentVolume>,
            ClaimAction,
        )> = vec![
            (
                "unbound finds a volume",
                pvc("c", "1Gi", rwo, None),
                vec![&free],
                ClaimAction::Bind("free".into()),
            ),
            (
                "nothing fits, already pending",
                pvc("c", "5Gi", rwo, None),
                vec![&free],
                ClaimAction::Nothing,
            ),
            (
                "nothing fits, new claim",
                new_claim,
                vec![&free],
                ClaimAction::Pending,
            ),
            (
                "names a free volume",
                named_free,
                vec![&free],
                ClaimAction::Bind("free".into()),
            ),
            ("bound both ways", bound, vec![&mine], ClaimAction::Nothing),
            (
                "half bound completes",
                half,
                vec![&mine],
                ClaimAction::Bind("mine".into()),
            ),
            ("bound volume gone", lost, vec![], ClaimAction::Lost),
            (
                "volume taken by another",
                stolen,
                vec![&theirs],
                ClaimAction::Lost,
            ),
        ];
        for (name, claim, vols, want) in cases {
            assert_eq!(plan_claim(&claim, &vols, false), want, "{name}");
        }
    }

    #[test]
    fn volume_plans() {
        let rwo = &["ReadWriteOnce"][..];
        let claim = pvc("c", "1Gi", rwo, None);
        let mut new = pv("v", "1Gi", rwo, "");
        new.status = None;
        let mut bound = pv("v", "1Gi", rwo, "");
        claim_ref(&mut bound, "ns", "c", "uid-c");
        let mut retain_gone = bound.clone();
        retain_gone.status.as_mut().unwrap().phase = "Bound".into();
        let mut delete_gone = retain_gone.clone();
        delete_gone
            .spec
            .as_mut()
            .unwrap()
            .persistent_volume_reclaim_policy = "Delete".into();
        let mut delete_nfs = delete_gone.clone();
        delete_nfs.spec.as_mut().unwrap().host_path = None;
        let mut recreated = pvc("c", "1Gi", rwo, None);
        recreated.meta_mut().uid = "uid-new".into();
        let mut elsewhere = claim.clone();
        elsewhere.spec.as_mut().unwrap().volume_name = "other".into();
        let mut ours = retain_gone.clone();
        ours.meta_mut()
            .annotations
            .insert(ANN_BOUND_BY_CONTROLLER.into(), "yes".into());

        let cases: Vec<(
            &str,
            PersistentVolume,
            Option<&PersistentVolumeClaim>,
            VolumeAction,
        )> = vec![
            (
                "new volume becomes Available",
                new,
                None,
                VolumeAction::SetPhase("Available", String::new()),
            ),
            (
                "bound to a live claim",
                bound.clone(),
                Some(&claim),
                VolumeAction::SetPhase("Bound", String::new()),
            ),
            (
                "Retain: claim gone -> Released",
                retain_gone.clone(),
                None,
                VolumeAction::SetPhase("Released", String::new()),
            ),
            (
                "claim recreated with another uid is gone too",
                retain_gone.clone(),
                Some(&recreated),
                VolumeAction::SetPhase("Released", String::new()),
            ),
            (
                "Delete with hostPath",
                delete_gone,
                None,
                VolumeAction::Delete,
            ),
            (
                "Delete without a deleter fails",
                delete_nfs.clone(),
                None,
                VolumeAction::SetPhase(
                    "Failed",
                    "no deleter for this volume type (only hostPath volumes are deleted)".into(),
                ),
            ),
            (
                "claim bound elsewhere: unbind ours",
                ours,
                Some(&elsewhere),
                VolumeAction::Unbind,
            ),
        ];
        for (name, v, c, want) in cases {
            assert_eq!(plan_volume(&v, c), want, "{name}");
        }
        let mut failed = delete_nfs;
        failed.status.as_mut().unwrap().phase = "Failed".into();
        assert_eq!(plan_volume(&failed, None), VolumeAction::Nothing);
        let mut provisioned = failed;
        provisioned.status.as_mut().unwrap().phase = "Bound".into();
        provisioned
            .meta_mut()
            .annotations
            .insert(ANN_PROVISIONED_BY.into(), "rancher.io/local-path".into());
        assert_eq!(
            plan_volume(&provisioned, None),
            VolumeAction::SetPhase("Released", String::new()),
            "a provisioner's volume is left to its deleter"
        );
    }
}
