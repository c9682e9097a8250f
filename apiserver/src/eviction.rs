//! The `pods/eviction` subresource (Kubernetes' `pkg/registry/core/pod/storage/eviction.go`):
//! a pod is deleted only if no PodDisruptionBudget covering it would break. A budget is spent
//! with a compare-and-swap on its status (disruptionsAllowed - 1, the pod recorded in
//! disruptedPods) before the pod is deleted, so concurrent evictions never overdraw it; the
//! disruption controller later recomputes the budget from the pods themselves.
//!
//! The decisions are pure functions below; [`Registry::evict`] reads, decides and writes.

use proto::disruption::{self, ALWAYS_ALLOW};
use proto::k8s::{
    DeleteOptions, DeleteRequest, Eviction, ListRequest, Pod, PodDisruptionBudget, Preconditions,
};
use proto::{ApiError, Object, Reason, Resource};
use tracing::debug;

use crate::error::Result;
use crate::registry::{ConflictRetry, Registry};
use crate::store::Store;

/// Kubernetes' message for an eviction the budget refuses (HTTP 429).
pub const BUDGET_MESSAGE: &str =
    "Cannot evict pod as it would violate the pod's disruption budget.";
/// Kubernetes' answer (HTTP 500) when several budgets cover the pod.
pub const MANY_BUDGETS_MESSAGE: &str = "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.";
/// Budgets with more unconfirmed evictions than this refuse more (Kubernetes'
/// MaxDisruptedPodSize): the controller has fallen behind.
const MAX_DISRUPTED_PODS: usize = 2000;
/// The `details.causes[].reason` of a budget refusal.
pub const DISRUPTION_BUDGET_CAUSE: &str = "DisruptionBudget";

/// An eviction refused: the API error (with the seconds a client should wait, when
/// Kubernetes names them) and, for a budget refusal, the cause Kubernetes lists in the
/// Status' details.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub error: ApiError,
    pub cause: Option<String>,
}

impl From<ApiError> for Refusal {
    fn from(error: ApiError) -> Self {
        Refusal { error, cause: None }
    }
}

fn too_many_requests(cause: String, retry_after_seconds: u32) -> Refusal {
    Refusal {
        error: ApiError::new(Reason::TooManyRequests, BUDGET_MESSAGE)
            .with_retry_after(retry_after_seconds),
        cause: Some(cause),
    }
}

/// gRPC metadata carrying a refusal's cause beside its status, so the HTTP API can answer
/// Kubernetes' Status with `details.causes` (the retry delay travels in the error itself).
const CAUSE_KEY: &str = "x-eviction-cause";

/// The gRPC status of a refusal, its cause in metadata.
pub fn refusal_status(refusal: Refusal) -> tonic::Status {
    let mut status: tonic::Status = refusal.error.into();
    if let Some(cause) = refusal
        .cause
        .and_then(|c| tonic::metadata::MetadataValue::try_from(c.as_str()).ok())
    {
        status.metadata_mut().insert(CAUSE_KEY, cause);
    }
    status
}

/// The refusal a gRPC status carries (the inverse of [`refusal_status`]).
pub fn refusal_of(status: &tonic::Status) -> Refusal {
    let text = |key: &str| {
        status
            .metadata()
            .get(key)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    Refusal {
        error: ApiError::from_status(status),
        cause: text(CAUSE_KEY),
    }
}

/// Terminal pods, pending pods and pods already being deleted disrupt nothing more by
/// going: they are deleted without consulting any budget.
pub fn can_ignore_budgets(pod: &Pod) -> bool {
    let phase = pod.status.as_ref().map_or("", |s| s.phase.as_str());
    matches!(phase, "Succeeded" | "Failed" | "Pending") || being_deleted(pod)
}

fn being_deleted(pod: &Pod) -> bool {
    !pod.meta().deletion_timestamp.is_empty()
}

/// Whether the delete must be guarded by the pod's resourceVersion: a running pod might
/// turn Ready between our decision and the delete (terminal or deleted pods cannot).
pub fn enforce_resource_version(pod: &Pod) -> bool {
    let phase = pod.status.as_ref().map_or("", |s| s.phase.as_str());
    !matches!(phase, "Succeeded" | "Failed") && !being_deleted(pod)
}

/// The budgets of the pod's namespace that cover it.
pub fn covering<'a>(pod: &Pod, budgets: &'a [PodDisruptionBudget]) -> Vec<&'a PodDisruptionBudget> {
    budgets
        .iter()
        .filter(|b| b.meta().namespace == pod.meta().namespace)
        .filter(|b| disruption::selects(b, &pod.meta().labels))
        .collect()
}

/// A pod that is not Ready goes without spending the budget when the budget says
/// AlwaysAllow, or (IfHealthyBudget, the default) while the guarded application is healthy
/// enough anyway.
pub fn unhealthy_may_go(pod: &Pod, budget: &PodDisruptionBudget) -> bool {
    if disruption::is_pod_ready(pod) {
        return false;
    }
    let policy = budget
        .spec
        .as_ref()
        .and_then(|s| s.unhealthy_pod_eviction_policy.as_deref());
    if policy == Some(ALWAYS_ALLOW) {
        return true;
    }
    let status = budget.status.clone().unwrap_or_default();
    status.current_healthy >= status.desired_healthy && status.desired_healthy > 0
}

/// The budget with this eviction spent (Kubernetes' checkAndDecrement): one disruption
/// fewer, and (unless a dry run) the pod recorded as disrupted at `now`. Refused with 429
/// when nothing is left or the controller has not yet seen the budget's latest spec.
pub fn spend(
    budget: &PodDisruptionBudget,
    pod_name: &str,
    now: &str,
    dry_run: bool,
) -> std::result::Result<PodDisruptionBudget, Refusal> {
    let name = &budget.meta().name;
    let status = budget.status.clone().unwrap_or_default();
    if status.observed_generation < budget.meta().generation {
        return Err(too_many_requests(
            format!("The disruption budget {name} is still being processed by the server."),
            10,
        ));
    }
    if status.disruptions_allowed < 0 {
        return Err(ApiError::forbidden(format!(
            "poddisruptionbudgets.policy \"{name}\" is forbidden: pdb disruptions allowed is negative"
        ))
        .into());
    }
    if status.disrupted_pods.len() > MAX_DISRUPTED_PODS {
        return Err(ApiError::forbidden(format!(
            "poddisruptionbudgets.policy \"{name}\" is forbidden: DisruptedPods map too big - too many evictions not confirmed by PDB controller"
        ))
        .into());
    }
    if status.disruptions_allowed == 0 {
        return Err(too_many_requests(
            format!(
                "The disruption budget {name} needs {} healthy pods and has {} currently",
                status.desired_healthy, status.current_healthy
            ),
            0,
        ));
    }
    let mut spent = budget.clone();
    let status = spent.status.get_or_insert_with(Default::default);
    status.disruptions_allowed -= 1;
    if status.disruptions_allowed == 0 {
        disruption::set_disruption_allowed(status, now);
    }
    if !dry_run {
        status
            .disrupted_pods
            .insert(pod_name.to_string(), now.to_string());
    }
    Ok(spent)
}

/// Only `All` is a dry-run value (Kubernetes' ValidateDeleteOptions).
fn dry_run(options: &DeleteOptions) -> Result<bool> {
    for v in &options.dry_run {
        if v != "All" {
            return Err(ApiError::bad_request(format!(
                "Invalid dryRun value: {v:?}: supported values: \"All\""
            )));
        }
    }
    Ok(!options.dry_run.is_empty())
}

fn caller_resource_version(options: &DeleteOptions) -> bool {
    options
        .preconditions
        .as_ref()
        .is_some_and(|p| !p.resource_version.is_empty())
}

fn delete_request(
    namespace: &str,
    name: &str,
    options: &DeleteOptions,
    dry_run: bool,
    guard: Option<&str>,
) -> DeleteRequest {
    let mut preconditions = options.preconditions.clone();
    if let Some(rv) = guard {
        preconditions
            .get_or_insert_with(Preconditions::default)
            .resource_version = rv.to_string();
    }
    DeleteRequest {
        resource: "pods".into(),
        namespace: namespace.into(),
        name: name.into(),
        preconditions,
        grace_period_seconds: options.grace_period_seconds,
        propagation_policy: options.propagation_policy.clone().unwrap_or_default(),
        dry_run,
    }
}

/// The pod condition an eviction leaves on the pod it deletes.
pub const DISRUPTION_TARGET: &str = "DisruptionTarget";

/// Sets `DisruptionTarget=True` (EvictionByEvictionAPI), keeping the transition time when
/// it already said so (Kubernetes' UpdatePodCondition).
pub fn mark_disruption_target(pod: &mut Pod, now: &str) {
    let status = pod.status.get_or_insert_with(Default::default);
    let condition = proto::k8s::PodCondition {
        r#type: DISRUPTION_TARGET.to_string(),
        status: "True".into(),
        reason: "EvictionByEvictionAPI".into(),
        message: "Eviction API: evicting".into(),
        last_transition_time: now.to_string(),
        ..Default::default()
    };
    match status
        .conditions
        .iter_mut()
        .find(|c| c.r#type == DISRUPTION_TARGET)
    {
        Some(c) if c.status == "True" => {
            c.reason = condition.reason;
            c.message = condition.message;
        }
        Some(c) => *c = condition,
        None => status.conditions.push(condition),
    }
}

/// A delete's preconditions against the pod as stored (Kubernetes' wording).
fn check_preconditions(pod: &Pod, preconditions: Option<&Preconditions>) -> Result<()> {
    let Some(p) = preconditions else {
        return Ok(());
    };
    let m = pod.meta();
    if !p.uid.is_empty() && p.uid != m.uid {
        return Err(crate::registry::uid_precondition_failed(&p.uid, &m.uid));
    }
    if !p.resource_version.is_empty() && p.resource_version != m.resource_version {
        return Err(ApiError::conflict(format!(
            "Precondition failed: ResourceVersion in precondition: {}, ResourceVersion in object meta: {}",
            p.resource_version, m.resource_version
        )));
    }
    Ok(())
}

impl<S: Store> Registry<S> {
    /// Evicts the pod `namespace/name`: deletes it with the Eviction's deleteOptions unless
    /// that would break the one budget covering it.
    pub async fn evict(
        &self,
        namespace: &str,
        name: &str,
        eviction: Eviction,
    ) -> std::result::Result<(), Refusal> {
        let named = eviction.metadata.as_ref().map_or("", |m| m.name.as_str());
        if !named.is_empty() && named != name {
            return Err(ApiError::bad_request(
                "name in URL does not match name in Eviction object",
            )
            .into());
        }
        let options = eviction.delete_options.unwrap_or_default();
        let dry_run = dry_run(&options)?;
        let caller_rv = caller_resource_version(&options);
        let mut retry = ConflictRetry::new();
        // Pods that may go without a budget's say are deleted here, retried on conflicts
        // (unless the caller's own resourceVersion precondition failed).
        let pod = loop {
            let pod = Box::pin(self.pod(namespace, name)).await?;
            if !can_ignore_budgets(&pod) {
                break pod;
            }
            let rv = pod.meta().resource_version.clone();
            let guard = (enforce_resource_version(&pod) && !caller_rv).then_some(rv.as_str());
            let req = delete_request(namespace, name, &options, dry_run, guard);
            // Boxed here and below: the registry's futures are large, and an eviction
            // nests several (a test thread's 2 MiB stack overflowed without).
            match Box::pin(self.mark_and_delete(req)).await {
                Ok(_) => return Ok(()),
                Err(e) if e.is(Reason::Conflict) && !caller_rv && retry.again().await => continue,
                Err(e) => return Err(e.into()),
            }
        };
        let budgets = Box::pin(self.budgets(namespace)).await?;
        let covering = covering(&pod, &budgets);
        let mut guard = None;
        match covering.as_slice() {
            [] => {}
            [_, _, ..] => return Err(ApiError::internal(MANY_BUDGETS_MESSAGE).into()),
            [budget] if unhealthy_may_go(&pod, budget) => {
                guard = Some(pod.meta().resource_version.clone());
            }
            [budget] => Box::pin(self.spend_budget(budget, name, dry_run)).await?,
        }
        let req = delete_request(namespace, name, &options, dry_run, guard.as_deref());
        match Box::pin(self.mark_and_delete(req)).await {
            Ok(_) => Ok(()),
            // The not-ready pod changed since we decided (it may be Ready now): the client
            // asks again and we decide again.
            Err(e) if e.is(Reason::Conflict) && guard.is_some() && !caller_rv => {
                let budget = &covering[0].meta().name;
                Err(too_many_requests(
                    format!(
                        "The disruption budget {budget} is still being processed by the server."
                    ),
                    10,
                ))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Kubernetes' addConditionAndDeletePod: the pod is marked with the DisruptionTarget
    /// condition (reason EvictionByEvictionAPI) through its status, then deleted. The
    /// request's preconditions are checked against the pod as it was before the mark, and a
    /// resourceVersion precondition moves to the marked pod's. A dry run marks nothing.
    async fn mark_and_delete(&self, mut req: DeleteRequest) -> Result<Object> {
        if !req.dry_run {
            let mut retry = ConflictRetry::new();
            let marked = loop {
                let pod = Box::pin(self.pod(&req.namespace, &req.name)).await?;
                check_preconditions(&pod, req.preconditions.as_ref())?;
                let mut next = pod.clone();
                mark_disruption_target(&mut next, &proto::time::now_rfc3339());
                // The read's resourceVersion guards the write; a status write that got
                // there first (the kubelet's) is read again, as Kubernetes' GuaranteedUpdate.
                match Box::pin(self.update(next.into_object(), "status", false)).await {
                    Ok(o) => break o,
                    Err(e) if e.is(Reason::Conflict) && retry.again().await => continue,
                    Err(e) => return Err(e),
                }
            };
            if let Some(p) = req.preconditions.as_mut()
                && !p.resource_version.is_empty()
            {
                p.resource_version = marked.meta().resource_version.clone();
            }
        }
        Box::pin(self.delete(&req)).await
    }

    /// Spends one disruption of `budget` with a compare-and-swap on its status, reading it
    /// again after each lost race.
    async fn spend_budget(
        &self,
        budget: &PodDisruptionBudget,
        pod_name: &str,
        dry_run: bool,
    ) -> std::result::Result<(), Refusal> {
        let (namespace, name) = (&budget.meta().namespace, &budget.meta().name);
        let mut budget = budget.clone();
        let mut retry = ConflictRetry::new();
        loop {
            let spent = spend(&budget, pod_name, &proto::time::now_rfc3339(), dry_run)?;
            if dry_run {
                return Ok(());
            }
            // The budget's resourceVersion rides along: a concurrent eviction's write makes
            // ours a Conflict instead of a second spend of the same disruption.
            match Box::pin(self.update(spent.into_object(), "status", false)).await {
                Ok(_) => {
                    debug!(pdb = %name, pod = %pod_name, "disruption budget spent");
                    return Ok(());
                }
                Err(e) if e.is(Reason::Conflict) && retry.again().await => {
                    let fresh = self.get("poddisruptionbudgets", namespace, name).await?;
                    budget = typed(fresh)?;
                }
                Err(e) if e.is(Reason::Conflict) => {
                    return Err(ApiError::new(
                        Reason::Unavailable,
                        format!("couldn't update PodDisruptionBudget {name:?} due to conflicts"),
                    )
                    .into());
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    async fn pod(&self, namespace: &str, name: &str) -> Result<Pod> {
        typed(self.get("pods", namespace, name).await?)
    }

    async fn budgets(&self, namespace: &str) -> Result<Vec<PodDisruptionBudget>> {
        let list = self
            .list(&ListRequest {
                resource: "poddisruptionbudgets".into(),
                namespace: namespace.into(),
                ..Default::default()
            })
            .await?;
        list.items.into_iter().map(typed).collect()
    }
}

fn typed<K: Resource>(object: Object) -> Result<K> {
    K::try_from_object(object)
        .map_err(|_| ApiError::internal(format!("stored object is not a {}", K::INFO.kind)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::k8s::{
        LabelSelector, ObjectMeta, PodCondition, PodDisruptionBudgetSpec,
        PodDisruptionBudgetStatus, PodStatus,
    };

    fn pod(phase: &str, ready: bool) -> Pod {
        Pod {
            metadata: Some(ObjectMeta {
                name: "web-1".into(),
                namespace: "shop".into(),
                labels: [("app".to_string(), "web".to_string())].into(),
                ..Default::default()
            }),
            status: Some(PodStatus {
                phase: phase.into(),
                conditions: vec![PodCondition {
                    r#type: "Ready".into(),
                    status: if ready { "True" } else { "False" }.into(),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn budget(
        allowed: i32,
        current: i32,
        desired: i32,
        policy: Option<&str>,
    ) -> PodDisruptionBudget {
        PodDisruptionBudget {
            metadata: Some(ObjectMeta {
                name: "web".into(),
                namespace: "shop".into(),
                generation: 1,
                ..Default::default()
            }),
            spec: Some(PodDisruptionBudgetSpec {
                selector: Some(LabelSelector {
                    match_labels: [("app".to_string(), "web".to_string())].into(),
                    ..Default::default()
                }),
                unhealthy_pod_eviction_policy: policy.map(String::from),
                ..Default::default()
            }),
            status: Some(PodDisruptionBudgetStatus {
                observed_generation: 1,
                disruptions_allowed: allowed,
                current_healthy: current,
                desired_healthy: desired,
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn terminal_pending_and_deleted_pods_skip_the_budgets() {
        assert!(can_ignore_budgets(&pod("Succeeded", false)));
        assert!(can_ignore_budgets(&pod("Failed", false)));
        assert!(can_ignore_budgets(&pod("Pending", false)));
        assert!(!can_ignore_budgets(&pod("Running", true)));
        let mut deleted = pod("Running", true);
        deleted.meta_mut().deletion_timestamp = "2026-01-01T00:00:00Z".into();
        assert!(can_ignore_budgets(&deleted));
        assert!(!enforce_resource_version(&deleted));
        assert!(enforce_resource_version(&pod("Pending", false)));
        assert!(!enforce_resource_version(&pod("Failed", false)));
    }

    #[test]
    fn budgets_cover_pods_of_their_namespace_by_selector() {
        let mut other_ns = budget(1, 3, 2, None);
        other_ns.meta_mut().namespace = "other".into();
        let mut no_selector = budget(1, 3, 2, None);
        no_selector.spec.as_mut().unwrap().selector = None;
        let budgets = [budget(1, 3, 2, None), other_ns, no_selector];
        assert_eq!(covering(&pod("Running", true), &budgets).len(), 1);
    }

    #[test]
    fn spending_decrements_records_the_pod_and_refuses_when_spent() {
        let spent = spend(&budget(1, 3, 2, None), "web-1", "t", false).unwrap();
        let status = spent.status.unwrap();
        assert_eq!(status.disruptions_allowed, 0);
        assert_eq!(
            status.disrupted_pods.get("web-1").map(String::as_str),
            Some("t")
        );
        assert_eq!(status.conditions[0].reason, "InsufficientPods");
        let dry = spend(&budget(2, 3, 1, None), "web-1", "t", true).unwrap();
        assert!(dry.status.unwrap().disrupted_pods.is_empty());
        let refused = spend(&budget(0, 2, 2, None), "web-1", "t", false).unwrap_err();
        assert_eq!(refused.error.reason, Reason::TooManyRequests);
        assert_eq!(refused.error.message, BUDGET_MESSAGE);
        assert_eq!(
            refused.cause.as_deref(),
            Some("The disruption budget web needs 2 healthy pods and has 2 currently")
        );
        let mut stale = budget(1, 3, 2, None);
        stale.meta_mut().generation = 2;
        let refused = spend(&stale, "web-1", "t", false).unwrap_err();
        assert_eq!(refused.error.retry_after_seconds, Some(10));
        assert!(
            spend(&budget(-1, 0, 0, None), "web-1", "t", false)
                .unwrap_err()
                .error
                .is(Reason::Forbidden)
        );
    }

    #[test]
    fn unhealthy_pods_go_by_the_policy() {
        // Ready pods always spend the budget.
        assert!(!unhealthy_may_go(
            &pod("Running", true),
            &budget(0, 3, 2, Some(ALWAYS_ALLOW))
        ));
        // IfHealthyBudget (default): only while the application is healthy enough.
        assert!(unhealthy_may_go(
            &pod("Running", false),
            &budget(0, 2, 2, None)
        ));
        assert!(!unhealthy_may_go(
            &pod("Running", false),
            &budget(0, 1, 2, None)
        ));
        assert!(!unhealthy_may_go(
            &pod("Running", false),
            &budget(0, 1, 2, Some("IfHealthyBudget"))
        ));
        assert!(!unhealthy_may_go(
            &pod("Running", false),
            &budget(0, 0, 0, None)
        ));
        // AlwaysAllow: whatever the budget says.
        assert!(unhealthy_may_go(
            &pod("Running", false),
            &budget(0, 1, 2, Some(ALWAYS_ALLOW))
        ));
    }

    #[test]
    fn a_refusal_survives_the_wire() {
        let refusal = too_many_requests("The disruption budget web needs 2".into(), 10);
        let back = refusal_of(&refusal_status(refusal.clone()));
        assert_eq!(back, refusal);
        let plain = Refusal::from(ApiError::internal(MANY_BUDGETS_MESSAGE));
        assert_eq!(refusal_of(&refusal_status(plain.clone())), plain);
    }

    #[test]
    fn evicted_pods_are_marked_and_preconditions_checked() {
        let mut p = pod("Running", true);
        mark_disruption_target(&mut p, "t1");
        mark_disruption_target(&mut p, "t2");
        let marks: Vec<_> = p
            .status
            .as_ref()
            .unwrap()
            .conditions
            .iter()
            .filter(|c| c.r#type == DISRUPTION_TARGET)
            .collect();
        assert_eq!(marks.len(), 1);
        assert_eq!(
            (
                marks[0].status.as_str(),
                marks[0].reason.as_str(),
                marks[0].last_transition_time.as_str()
            ),
            ("True", "EvictionByEvictionAPI", "t1")
        );
        p.meta_mut().resource_version = "7".into();
        p.meta_mut().uid = "u".into();
        let pre = |uid: &str, rv: &str| Preconditions {
            uid: uid.into(),
            resource_version: rv.into(),
        };
        assert!(check_preconditions(&p, None).is_ok());
        assert!(check_preconditions(&p, Some(&pre("u", "7"))).is_ok());
        assert!(
            check_preconditions(&p, Some(&pre("", "6")))
                .unwrap_err()
                .is(Reason::Conflict)
        );
        assert!(check_preconditions(&p, Some(&pre("x", ""))).is_err());
    }

    #[test]
    fn only_all_is_a_dry_run_value() {
        let opts = |v: &[&str]| DeleteOptions {
            dry_run: v.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        };
        assert_eq!(dry_run(&opts(&[])), Ok(false));
        assert_eq!(dry_run(&opts(&["All"])), Ok(true));
        assert!(dry_run(&opts(&["Some"])).is_err());
    }
}
