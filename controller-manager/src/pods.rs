//! Pod and ownership helpers shared by the workload controllers (Kubernetes'
//! `pkg/api/v1/pod` and `controller_utils.go`): readiness, availability, the order in which
//! surplus pods are deleted, and controller references.

use client::store::key_of;
use client::{Api, ApiError};
use proto::Reason;
use proto::k8s::{ObjectMeta, OwnerReference, Pod, PodTemplateSpec};
use proto::selector::LabelSelector;
use proto::time::parse_rfc3339;
use std::cmp::Ordering;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// The annotation that ranks pods for deletion (lower cost goes first).
pub const POD_DELETION_COST: &str = "controller.kubernetes.io/pod-deletion-cost";

pub use client::runtime::controller_ref;

/// A controller reference to `owner` (blockOwnerDeletion set, as Kubernetes does).
pub fn new_controller_ref(api_version: &str, kind: &str, owner: &ObjectMeta) -> OwnerReference {
    OwnerReference {
        api_version: api_version.to_string(),
        kind: kind.to_string(),
        name: owner.name.clone(),
        uid: owner.uid.clone(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

/// Kubernetes' GetPodFromTemplate: the template's spec, labels, annotations and finalizers,
/// `generateName: <owner>-` in the owner's namespace, controlled by the owner. Workloads
/// that need more (a node, a fixed name, a revision label) change the result.
pub fn pod_from_template(
    template: Option<&PodTemplateSpec>,
    owner: &ObjectMeta,
    api_version: &str,
    kind: &str,
) -> Pod {
    let template = template.cloned().unwrap_or_default();
    let tm = template.metadata.unwrap_or_default();
    let mut pod = Pod {
        spec: Some(template.spec.unwrap_or_default()),
        ..Default::default()
    };
    let m = pod.meta_mut();
    m.generate_name = format!("{}-", owner.name);
    m.namespace = owner.namespace.clone();
    m.labels = tm.labels;
    m.annotations = tm.annotations;
    m.finalizers = tm.finalizers;
    m.owner_references = vec![new_controller_ref(api_version, kind, owner)];
    pod
}

/// Kubernetes' `RecheckDeletionTimestamp` before adopting: a live read (the cache may be
/// stale) confirms the owner `name` still exists as the same object (`uid`) and is not
/// being deleted.
pub async fn owner_can_adopt<K: Resource>(
    api: &Api<K>,
    name: &str,
    uid: &str,
) -> Result<bool, ApiError> {
    let fresh = api.get_opt(name).await?;
    Ok(fresh.is_some_and(|f| f.meta().uid == uid && f.meta().deletion_timestamp.is_empty()))
}

/// What claiming does with one pod.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    Owned,
    Adopt,
    Release,
    Ignore,
}

/// Pure: Kubernetes' ClaimObject for one pod.
pub fn claim_decision(
    pod: &ObjectMeta,
    owner_uid: &str,
    selector_matches: bool,
    owner_deleting: bool,
) -> Claim {
    match controller_ref(pod) {
        Some(r) if r.uid == owner_uid => {
            if selector_matches {
                Claim::Owned
            } else if owner_deleting {
                Claim::Ignore
            } else {
                Claim::Release
            }
        }
        Some(_) => Claim::Ignore,
        None if selector_matches && !owner_deleting && pod.deletion_timestamp.is_empty() => {
            Claim::Adopt
        }
        None => Claim::Ignore,
    }
}

/// The workload that claims pods: its object (for a live re-read before adopting), its
/// controller reference's `apiVersion`/`kind`, and which orphans it may adopt at all
/// (a StatefulSet only adopts pods named after it).
pub struct Claimer<'a, K: Resource> {
    pub owner: &'a K,
    pub owners: &'a Api<K>,
    pub api_version: &'static str,
    pub kind: &'static str,
    pub may_adopt: &'a (dyn Fn(&Pod) -> bool + Sync),
}

/// Kubernetes' ControllerRefManager.ClaimPods: the pods `owner` controls after adopting
/// matching orphans (once a live read confirms the owner is not being deleted) and
/// releasing owned pods that stopped matching. One copy for every workload controller.
pub async fn claim_pods<K: Resource>(
    c: &Claimer<'_, K>,
    pods: &Api<Pod>,
    selector: &LabelSelector,
    candidates: Vec<Arc<Pod>>,
) -> Result<Vec<Arc<Pod>>, ApiError> {
    let meta = c.owner.meta();
    let uid = meta.uid.as_str();
    let deleting = !meta.deletion_timestamp.is_empty();
    let mut owned = Vec::new();
    let mut can_adopt: Option<bool> = None;
    for pod in candidates {
        let matches = selector.matches(&pod.meta().labels);
        let refs = match claim_decision(pod.meta(), uid, matches, deleting) {
            Claim::Owned => {
                owned.push(pod);
                continue;
            }
            Claim::Ignore => continue,
            Claim::Release => {
                tracing::info!(pod = %pod.meta().name, "releasing pod that no longer matches the selector");
                pod.meta()
                    .owner_references
                    .iter()
                    .filter(|r| r.uid != uid)
                    .cloned()
                    .collect::<Vec<_>>()
            }
            Claim::Adopt => {
                if !(c.may_adopt)(&pod) {
                    continue;
                }
                if can_adopt.is_none() {
                    can_adopt = Some(owner_can_adopt(c.owners, &meta.name, uid).await?);
                }
                if can_adopt != Some(true) {
                    continue;
                }
                tracing::info!(pod = %pod.meta().name, "adopting orphan pod");
                let mut refs = pod.meta().owner_references.clone();
                refs.push(new_controller_ref(c.api_version, c.kind, meta));
                refs
            }
        };
        match patch_owner_refs(pods, &pod, &refs).await {
            Ok(p) if controller_ref(p.meta()).is_some_and(|r| r.uid == uid) => {
                owned.push(Arc::new(p));
            }
            Ok(_) => {}
            Err(e) if e.is(Reason::NotFound) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(owned)
}

/// Sets a pod's owner references, guarded by its resourceVersion and uid (a pod changed
/// or replaced meanwhile fails with a conflict instead of being claimed blindly).
async fn patch_owner_refs(
    api: &Api<Pod>,
    pod: &Pod,
    refs: &[OwnerReference],
) -> Result<Pod, ApiError> {
    let refs = serde_json::to_value(refs)
        .map_err(|e| ApiError::internal(format!("encoding owner references: {e}")))?;
    let patch = serde_json::json!({
        "metadata": {
            "resourceVersion": pod.meta().resource_version,
            "uid": pod.meta().uid,
            "ownerReferences": refs,
        }
    });
    api.patch_merge(&pod.meta().name, &patch).await
}

/// Kubernetes' PodControl.DeletePod for a batch: records the expected deletions, deletes
/// each victim guarded by its uid (a pod recreated under the same name is not touched), and
/// marks a failed deletion as observed so the owner is not stuck waiting for it. Returns
/// each victim with its result; events and which error counts stay with the caller.
pub async fn delete_expected(
    api: &Api<Pod>,
    expectations: &client::runtime::Expectations,
    key: &str,
    victims: &[Arc<Pod>],
) -> Vec<(Arc<Pod>, Result<Pod, ApiError>)> {
    expectations.expect_deletions(key, victims.iter().map(|p| key_of(p.as_ref())));
    let results = futures::future::join_all(victims.iter().map(|p| async move {
        let params = client::DeleteParams {
            preconditions: Some(client::DeletePreconditions {
                uid: p.meta().uid.clone(),
                resource_version: String::new(),
            }),
            ..Default::default()
        };
        (p.clone(), api.delete(&p.meta().name, &params).await)
    }))
    .await;
    for (p, r) in &results {
        if r.is_err() {
            expectations.deletion_observed(key, &key_of(p.as_ref()));
        }
    }
    results
}

fn phase(pod: &Pod) -> &str {
    pod.status.as_ref().map_or("", |s| s.phase.as_str())
}

/// Kubernetes' IsPodActive: not finished and not being deleted.
pub fn is_active(pod: &Pod) -> bool {
    !matches!(phase(pod), "Succeeded" | "Failed") && pod.meta().deletion_timestamp.is_empty()
}

use proto::Resource;

/// The `Ready` condition's transition time when it is True.
fn ready_since(pod: &Pod) -> Option<Option<SystemTime>> {
    pod.status
        .as_ref()?
        .conditions
        .iter()
        .find(|c| c.r#type == "Ready" && c.status == "True")
        .map(|c| parse_rfc3339(&c.last_transition_time))
}

pub fn is_ready(pod: &Pod) -> bool {
    ready_since(pod).is_some()
}

/// Kubernetes' IsPodAvailable: ready, and for at least `min_ready` (by the Ready
/// condition's lastTransitionTime) when that is non-zero.
pub fn is_available(pod: &Pod, min_ready: Duration, now: SystemTime) -> bool {
    match ready_since(pod) {
        None => false,
        Some(_) if min_ready.is_zero() => true,
        Some(Some(since)) => since + min_ready <= now,
        Some(None) => false,
    }
}

/// When a pod that is ready but not yet available becomes available (None if never/now).
pub fn available_in(pod: &Pod, min_ready: Duration, now: SystemTime) -> Option<Duration> {
    let since = ready_since(pod)??;
    (since + min_ready).duration_since(now).ok()
}

fn phase_rank(pod: &Pod) -> u8 {
    match phase(pod) {
        "Pending" | "" => 0,
        "Unknown" => 1,
        "Running" => 2,
        _ => 3,
    }
}

fn deletion_cost(pod: &Pod) -> i64 {
    pod.meta()
        .annotations
        .get(POD_DELETION_COST)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn restarts(pod: &Pod) -> i32 {
    pod.status.as_ref().map_or(0, |s| {
        s.container_statuses
            .iter()
            .map(|c| c.restart_count)
            .max()
            .unwrap_or(0)
    })
}

/// Kubernetes' ActivePods ordering: the pod to delete first sorts first. Unscheduled <
/// scheduled; Pending < Unknown < Running; not ready < ready; lower deletion cost <
/// higher; ready for less time < longer; more restarts < fewer; newer < older. (Ready
/// times and ages compare exactly, as without Kubernetes' LogarithmicScaleDown.)
pub fn deletion_order(a: &Pod, b: &Pod) -> Ordering {
    deletion_order_ranked((a, 0), (b, 0))
}

/// Kubernetes' ActivePodsWithRanks: as `deletion_order`, and after the deletion cost a pod
/// with a higher rank (more related pods on its node) goes first, so scaling down spreads
/// what is left across nodes.
pub fn deletion_order_ranked((a, rank_a): (&Pod, usize), (b, rank_b): (&Pod, usize)) -> Ordering {
    let node = |p: &Pod| !p.spec.as_ref().is_none_or(|s| s.node_name.is_empty());
    node(a)
        .cmp(&node(b))
        .then_with(|| phase_rank(a).cmp(&phase_rank(b)))
        .then_with(|| is_ready(a).cmp(&is_ready(b)))
        .then_with(|| deletion_cost(a).cmp(&deletion_cost(b)))
        .then_with(|| rank_b.cmp(&rank_a))
        .then_with(|| {
            // Both ready: the one ready more recently goes first.
            match (ready_since(a).flatten(), ready_since(b).flatten()) {
                (Some(ta), Some(tb)) => tb.cmp(&ta),
                _ => Ordering::Equal,
            }
        })
        .then_with(|| restarts(b).cmp(&restarts(a)))
        .then_with(|| {
            let created = |p: &Pod| parse_rfc3339(&p.meta().creation_timestamp);
            match (created(a), created(b)) {
                (None, Some(_)) => Ordering::Less,
                (Some(_), None) => Ordering::Greater,
                // Newer (later) first.
                (Some(ta), Some(tb)) => tb.cmp(&ta),
                (None, None) => Ordering::Equal,
            }
        })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proto::k8s::{PodCondition, PodSpec, PodStatus};

    /// A pod for tests: `node` "" is unscheduled; `ready_at` seconds after the epoch+1e9.
    pub fn pod(name: &str, node: &str, phase: &str, ready_at: Option<u64>, created: u64) -> Pod {
        let t = |s: u64| {
            proto::time::format_rfc3339(
                SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000 + s),
            )
        };
        let mut p = Pod {
            spec: Some(PodSpec {
                node_name: node.into(),
                ..Default::default()
            }),
            status: Some(PodStatus {
                phase: phase.into(),
                conditions: ready_at
                    .map(|r| PodCondition {
                        r#type: "Ready".into(),
                        status: "True".into(),
                        last_transition_time: t(r),
                        ..Default::default()
                    })
                    .into_iter()
                    .collect(),
                ..Default::default()
            }),
            ..Default::default()
        };
        p.meta_mut().name = name.into();
        p.meta_mut().creation_timestamp = t(created);
        p
    }

    #[test]
    fn deletion_order_is_kubernetes_active_pods() {
        let mut pods = [
            pod("old-ready", "n", "Running", Some(10), 0),
            pod("new-ready", "n", "Running", Some(10), 5),
            pod("recently-ready", "n", "Running", Some(20), 0),
            pod("running-not-ready", "n", "Running", None, 0),
            pod("unknown", "n", "Unknown", None, 0),
            pod("pending", "n", "Pending", None, 0),
            pod("unscheduled", "", "Pending", None, 0),
        ];
        pods.sort_by(deletion_order);
        let names: Vec<_> = pods.iter().map(|p| p.meta().name.as_str()).collect();
        assert_eq!(
            names,
            [
                "unscheduled",
                "pending",
                "unknown",
                "running-not-ready",
                "recently-ready",
                "new-ready",
                "old-ready"
            ]
        );
    }

    #[test]
    fn deletion_cost_ranks_before_age() {
        let mut cheap = pod("cheap", "n", "Running", Some(10), 0);
        cheap
            .meta_mut()
            .annotations
            .insert(POD_DELETION_COST.into(), "-5".into());
        let newer = pod("newer", "n", "Running", Some(10), 9);
        assert_eq!(deletion_order(&cheap, &newer), Ordering::Less);
    }

    #[test]
    fn availability_waits_min_ready_seconds() {
        let p = pod("p", "n", "Running", Some(10), 0);
        let ready = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_010);
        assert!(is_available(&p, Duration::ZERO, ready));
        assert!(!is_available(
            &p,
            Duration::from_secs(5),
            ready + Duration::from_secs(4)
        ));
        assert!(is_available(
            &p,
            Duration::from_secs(5),
            ready + Duration::from_secs(5)
        ));
        assert_eq!(
            available_in(&p, Duration::from_secs(5), ready + Duration::from_secs(1)),
            Some(Duration::from_secs(4))
        );
        let not_ready = pod("q", "n", "Running", None, 0);
        assert!(!is_available(&not_ready, Duration::ZERO, ready));
        let mut done = pod("d", "n", "Succeeded", None, 0);
        assert!(!is_active(&done));
        done.status.as_mut().unwrap().phase = "Running".into();
        done.meta_mut().deletion_timestamp = "2026-01-01T00:00:00Z".into();
        assert!(!is_active(&done));
    }
}
