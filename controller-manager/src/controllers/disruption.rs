//! Disruption (Kubernetes' disruption controller): keeps each PodDisruptionBudget's status
//! true to the pods it covers: how many pods are expected (the scale of their controllers
//! for percentages and maxUnavailable, else the pods themselves), how many must stay
//! healthy, how many are healthy (Ready, not being deleted, not just evicted), and so how
//! many disruptions the eviction subresource may allow now, with the `DisruptionAllowed`
//! condition. Evictions the apiserver admitted stay in `disruptedPods` until their pod is
//! seen going, or for two minutes.
//!
//! A budget is synced when it changes and when a pod it covers (before or after the change)
//! is added, changed or deleted. The status is written with the budget's resourceVersion:
//! an eviction that spent the budget meanwhile makes the write a Conflict, and the key is
//! retried on the fresher copy, so an eviction is never forgotten.

use crate::context::Context;
use crate::error::Error;
use client::runtime::{Action, Controller, Request, backoff};
use client::store::{Store, key_of};
use client::{InformerEvent, WorkQueue};
use futures::FutureExt;
use futures::future::BoxFuture;
use proto::Resource;
use proto::disruption::{self, DELETION_TIMEOUT};
use proto::k8s::{
    Deployment, OwnerReference, Pod, PodDisruptionBudget, PodDisruptionBudgetStatus, ReplicaSet,
    StatefulSet,
};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio_util::sync::CancellationToken;
use tracing::debug;

pub const NAME: &str = "disruption";
/// The source of this controller's events, as Kubernetes names it.
const SOURCE: &str = "controllermanager";

pub fn start(
    ctx: Arc<Context>,
    cancel: CancellationToken,
) -> BoxFuture<'static, Result<(), Error>> {
    run(ctx, cancel).boxed()
}

struct Caches {
    pods: Store<Pod>,
    replica_sets: Store<ReplicaSet>,
    deployments: Store<Deployment>,
    stateful_sets: Store<StatefulSet>,
}

struct DisruptionController {
    ctx: Arc<Context>,
    caches: Caches,
}

async fn run(ctx: Arc<Context>, cancel: CancellationToken) -> Result<(), Error> {
    let budgets = ctx.informer::<PodDisruptionBudget>();
    let pods = ctx.informer::<Pod>();
    let replica_sets = ctx.informer::<ReplicaSet>();
    let deployments = ctx.informer::<Deployment>();
    let stateful_sets = ctx.informer::<StatefulSet>();
    let budget_store = budgets.store();
    let controller = Controller::new(NAME, budgets)
        .watches_with(pods.clone(), budgets_of_pod(&budget_store))
        .reads(replica_sets.clone())
        .reads(deployments.clone())
        .reads(stateful_sets.clone())
        .workers(ctx.config.concurrent_workers);
    let state = Arc::new(DisruptionController {
        ctx: ctx.clone(),
        caches: Caches {
            pods: pods.store(),
            replica_sets: replica_sets.store(),
            deployments: deployments.store(),
            stateful_sets: stateful_sets.store(),
        },
    });
    controller.run(reconcile, backoff, state, cancel).await;
    Ok(())
}

/// A pod event queues the budgets covering the pod, as it was and as it is.
fn budgets_of_pod(
    budgets: &Store<PodDisruptionBudget>,
) -> impl Fn(&InformerEvent<Pod>, &WorkQueue<String>) + Send + Sync + 'static {
    let budgets = budgets.clone();
    move |ev, queue| {
        let mut pods: Vec<&Pod> = vec![ev.object().as_ref()];
        if let InformerEvent::Modified { old, .. } = ev {
            pods.push(old.as_ref());
        }
        for pod in pods {
            for b in budgets.by_namespace(&pod.meta().namespace) {
                if disruption::selects(&b, &pod.meta().labels) {
                    queue.add(key_of(b.as_ref()));
                }
            }
        }
    }
}

/// A controller's identity and scale: what percentages of a budget are taken of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControllerScale {
    pub uid: String,
    pub replicas: i32,
}

/// Finds the scale of a pod's controller: `Ok(None)` when the controller is not there (or
/// is another object of that name), `Err` when its kind has no scale.
pub type ScaleFinder<'a> =
    dyn Fn(&OwnerReference, &str) -> Result<Option<ControllerScale>, String> + 'a;

/// The counts a budget's status is made of.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Counts {
    pub expected: i32,
    pub desired_healthy: i32,
    /// Covered pods without a controller (their budget's percentages are undefined).
    pub unmanaged: Vec<String>,
}

fn controller_of(pod: &Pod) -> Option<&OwnerReference> {
    pod.meta()
        .owner_references
        .iter()
        .find(|r| r.controller == Some(true))
}

/// The sum of the scales of the pods' controllers, each counted once (Kubernetes'
/// getExpectedScale). Pods without a controller are listed, not counted.
pub fn expected_scale(pods: &[&Pod], find: &ScaleFinder<'_>) -> Result<(i32, Vec<String>), String> {
    let mut scales: HashMap<String, i32> = HashMap::new();
    let mut unmanaged = Vec::new();
    for pod in pods {
        let Some(owner) = controller_of(pod) else {
            unmanaged.push(pod.meta().name.clone());
            continue;
        };
        if scales.contains_key(&owner.uid) {
            continue;
        }
        match find(owner, &pod.meta().namespace)? {
            Some(s) => {
                scales.insert(owner.uid.clone(), 0);
                scales.insert(s.uid, s.replicas);
            }
            None => {
                return Err(format!(
                    "found no controllers for pod {:?}",
                    pod.meta().name
                ));
            }
        }
    }
    Ok((scales.values().sum(), unmanaged))
}

/// expectedPods and desiredHealthy of a budget (Kubernetes' getExpectedPodCount):
/// maxUnavailable and percentages of minAvailable are taken of the controllers' scale
/// (rounded up); a count of minAvailable is taken as it is, of the pods there are.
pub fn counts(
    budget: &PodDisruptionBudget,
    pods: &[&Pod],
    find: &ScaleFinder<'_>,
) -> Result<Counts, String> {
    let spec = budget.spec.clone().unwrap_or_default();
    if !spec.max_unavailable.is_empty() {
        let (expected, unmanaged) = expected_scale(pods, find)?;
        let max = disruption::scaled_value(&spec.max_unavailable, expected, true)?;
        return Ok(Counts {
            expected,
            desired_healthy: (expected - max).max(0),
            unmanaged,
        });
    }
    if spec.min_available.is_empty() {
        return Ok(Counts::default());
    }
    if spec.min_available.ends_with('%') {
        let (expected, unmanaged) = expected_scale(pods, find)?;
        let min = disruption::scaled_value(&spec.min_available, expected, true)?;
        return Ok(Counts {
            expected,
            desired_healthy: min,
            unmanaged,
        });
    }
    Ok(Counts {
        expected: i32::try_from(pods.len()).unwrap_or(i32::MAX),
        desired_healthy: disruption::scaled_value(&spec.min_available, 0, true)?,
        unmanaged: Vec::new(),
    })
}

/// The disrupted pods still worth waiting for: evicted less than two minutes ago and still
/// there, not yet being deleted (Kubernetes' buildDisruptedPodMap). Also when the earliest
/// of them times out, for a recheck then; and the pods that timed out.
pub fn disrupted_still_pending(
    pods: &[&Pod],
    disrupted: &BTreeMap<String, String>,
    now: SystemTime,
) -> (BTreeMap<String, String>, Option<SystemTime>, Vec<String>) {
    let mut kept = BTreeMap::new();
    let mut recheck: Option<SystemTime> = None;
    let mut timed_out = Vec::new();
    for pod in pods {
        let m = pod.meta();
        if !m.deletion_timestamp.is_empty() {
            continue;
        }
        let Some(at) = disrupted.get(&m.name) else {
            continue;
        };
        let Some(when) = proto::time::parse_rfc3339(at) else {
            continue;
        };
        let expected_deletion = when + DELETION_TIMEOUT;
        if expected_deletion < now {
            timed_out.push(m.name.clone());
        } else {
            recheck = Some(recheck.map_or(expected_deletion, |r| r.min(expected_deletion)));
            kept.insert(m.name.clone(), at.clone());
        }
    }
    (kept, recheck, timed_out)
}

/// Ready pods, not being deleted and not about to be (Kubernetes' countHealthyPods).
pub fn count_healthy(pods: &[&Pod], disrupted: &BTreeMap<String, String>, now: SystemTime) -> i32 {
    let pending = |name: &str| {
        disrupted
            .get(name)
            .and_then(|at| proto::time::parse_rfc3339(at))
            .is_some_and(|when| when + DELETION_TIMEOUT > now)
    };
    let healthy = pods
        .iter()
        .filter(|p| p.meta().deletion_timestamp.is_empty())
        .filter(|p| !pending(&p.meta().name))
        .filter(|p| disruption::is_pod_ready(p))
        .count();
    i32::try_from(healthy).unwrap_or(i32::MAX)
}

/// The status a budget should have (Kubernetes' updatePdbStatus): no disruption is allowed
/// while no pod is expected, so a budget whose pods appear before this sync is safe.
pub fn desired_status(
    budget: &PodDisruptionBudget,
    counts: &Counts,
    current_healthy: i32,
    disrupted: BTreeMap<String, String>,
    now: &str,
) -> PodDisruptionBudgetStatus {
    let mut allowed = current_healthy - counts.desired_healthy;
    if counts.expected <= 0 || allowed <= 0 {
        allowed = 0;
    }
    let previous = budget.status.clone().unwrap_or_default();
    let mut status = PodDisruptionBudgetStatus {
        observed_generation: budget.meta().generation,
        disrupted_pods: disrupted,
        disruptions_allowed: allowed,
        current_healthy,
        desired_healthy: counts.desired_healthy,
        expected_pods: counts.expected,
        conditions: previous.conditions,
    };
    disruption::set_disruption_allowed(&mut status, now);
    status
}

/// The status after a failed sync (Kubernetes' failSafe): no disruption allowed, and the
/// condition says why.
pub fn fail_safe_status(
    budget: &PodDisruptionBudget,
    error: &str,
    now: &str,
) -> PodDisruptionBudgetStatus {
    let mut status = budget.status.clone().unwrap_or_default();
    status.disruptions_allowed = 0;
    disruption::set_condition(&mut status, "False", disruption::SYNC_FAILED, error, now);
    status
}

/// Whether `status` says nothing new over what the budget carries (so nothing is written).
fn unchanged(budget: &PodDisruptionBudget, status: &PodDisruptionBudgetStatus) -> bool {
    let Some(cur) = &budget.status else {
        return false;
    };
    cur.current_healthy == status.current_healthy
        && cur.desired_healthy == status.desired_healthy
        && cur.expected_pods == status.expected_pods
        && cur.disruptions_allowed == status.disruptions_allowed
        && cur.disrupted_pods == status.disrupted_pods
        && cur.observed_generation == budget.meta().generation
        && disruption::conditions_up_to_date(cur, budget.meta().generation)
}

async fn reconcile(
    req: Request<PodDisruptionBudget>,
    c: Arc<DisruptionController>,
) -> Result<Action, Error> {
    let Some(budget) = req.object else {
        return Ok(Action::Done);
    };
    let namespace = budget.meta().namespace.clone();
    let pods: Vec<Arc<Pod>> = c
        .caches
        .pods
        .by_namespace(&namespace)
        .into_iter()
        .filter(|p| disruption::selects(&budget, &p.meta().labels))
        .collect();
    let pods: Vec<&Pod> = pods.iter().map(AsRef::as_ref).collect();
    let events = &c.ctx.events;
    if pods.is_empty() {
        events.event(
            SOURCE,
            budget.as_ref(),
            false,
            "NoPods",
            "No matching pods found".into(),
        );
    }
    let now = c.ctx.clock.now();
    let now_text = proto::time::format_rfc3339(now);
    let find = |owner: &OwnerReference, ns: &str| c.scale_of(owner, ns);
    let counts = match counts(&budget, &pods, &find) {
        Ok(counts) => counts,
        Err(e) => {
            events.event(
                SOURCE,
                budget.as_ref(),
                true,
                "CalculateExpectedPodCountFailed",
                format!("Failed to calculate the number of expected pods: {e}"),
            );
            let status = fail_safe_status(&budget, &e, &now_text);
            c.write(&budget, status).await?;
            return Err(Error::invalid(req.key, e));
        }
    };
    if !counts.unmanaged.is_empty() {
        events.event(
            SOURCE,
            budget.as_ref(),
            true,
            "UnmanagedPods",
            format!(
                "Pods selected by this PodDisruptionBudget (selector: {}) were found to be unmanaged. As a result, the status of the PDB cannot be calculated correctly, which may result in undefined behavior. To account for these pods please set \".spec.minAvailable\" field of the PDB to an integer value.",
                selector_text(&budget)
            ),
        );
    }
    let recorded = budget
        .status
        .as_ref()
        .map(|s| s.disrupted_pods.clone())
        .unwrap_or_default();
    let (disrupted, recheck, timed_out) = disrupted_still_pending(&pods, &recorded, now);
    for name in timed_out {
        if let Some(pod) = pods.iter().find(|p| p.meta().name == name) {
            events.event(
                SOURCE,
                *pod,
                true,
                "NotDeleted",
                format!(
                    "Pod was expected by PDB {}/{} to be deleted but it wasn't",
                    namespace,
                    budget.meta().name
                ),
            );
        }
    }
    let healthy = count_healthy(&pods, &disrupted, now);
    let status = desired_status(&budget, &counts, healthy, disrupted, &now_text);
    if !unchanged(&budget, &status) {
        c.write(&budget, status).await?;
    }
    Ok(match recheck {
        Some(at) => Action::requeue(at.duration_since(now).unwrap_or(Duration::ZERO)),
        None => Action::Done,
    })
}

/// The selector as Go prints a `*metav1.LabelSelector` in Kubernetes' event, near enough:
/// its canonical text form.
fn selector_text(budget: &PodDisruptionBudget) -> String {
    budget
        .spec
        .as_ref()
        .and_then(|s| s.selector.as_ref())
        .and_then(|s| proto::selector::LabelSelector::from_proto(s).ok())
        .map_or_else(|| "nil".to_string(), |s| s.to_string())
}

impl DisruptionController {
    /// Writes the status guarded by the cached budget's resourceVersion: a Conflict (an
    /// eviction spent the budget meanwhile) retries the key on a fresher cache.
    async fn write(
        &self,
        budget: &PodDisruptionBudget,
        status: PodDisruptionBudgetStatus,
    ) -> Result<(), Error> {
        let mut next = budget.clone();
        next.status = Some(status);
        let api = self
            .ctx
            .api_in::<PodDisruptionBudget>(&budget.meta().namespace);
        match api.update_status(&next).await {
            Ok(_) => {
                debug!("disruption budget status updated");
                Ok(())
            }
            Err(e) if e.is(proto::Reason::NotFound) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// The scale of a pod's controller, from the caches: a Deployment's through its
    /// ReplicaSet, a lone ReplicaSet's or StatefulSet's own (Kubernetes' finders).
    fn scale_of(
        &self,
        owner: &OwnerReference,
        namespace: &str,
    ) -> Result<Option<ControllerScale>, String> {
        let group = owner.api_version.rsplit_once('/').map_or("", |(g, _)| g);
        let c = &self.caches;
        match (group, owner.kind.as_str()) {
            ("apps", "ReplicaSet") => {
                let Some(rs) = c.replica_sets.get_in(namespace, &owner.name) else {
                    return Ok(None);
                };
                if rs.meta().uid != owner.uid {
                    return Ok(None);
                }
                let deployment = rs
                    .meta()
                    .owner_references
                    .iter()
                    .find(|r| r.controller == Some(true) && r.kind == "Deployment");
                if let Some(d_ref) = deployment {
                    let Some(d) = c.deployments.get_in(namespace, &d_ref.name) else {
                        return Ok(None);
                    };
                    if d.meta().uid != d_ref.uid {
                        return Ok(None);
                    }
                    let replicas = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
                    return Ok(Some(ControllerScale {
                        uid: d.meta().uid.clone(),
                        replicas,
                    }));
                }
                let replicas = rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
                Ok(Some(ControllerScale {
                    uid: rs.meta().uid.clone(),
                    replicas,
                }))
            }
            ("apps", "StatefulSet") => {
                let Some(sts) = c.stateful_sets.get_in(namespace, &owner.name) else {
                    return Ok(None);
                };
                if sts.meta().uid != owner.uid {
                    return Ok(None);
                }
                let replicas = sts.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
                Ok(Some(ControllerScale {
                    uid: sts.meta().uid.clone(),
                    replicas,
                }))
            }
            _ => match proto::resource::kind_by_type(&owner.api_version, &owner.kind) {
                Some(info) if !info.has_scale => Err(format!(
                    "{} does not implement the scale subresource",
                    if info.group.is_empty() {
                        info.plural.to_string()
                    } else {
                        format!("{}.{}", info.plural, info.group)
                    }
                )),
                _ => Ok(None),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::k8s::{LabelSelector, ObjectMeta, PodCondition, PodDisruptionBudgetSpec, PodStatus};

    fn now() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000)
    }

    fn at(secs_ago: u64) -> String {
        proto::time::format_rfc3339(now() - Duration::from_secs(secs_ago))
    }

    fn pod(name: &str, owner: Option<(&str, &str)>, ready: bool) -> Pod {
        Pod {
            metadata: Some(ObjectMeta {
                name: name.into(),
                namespace: "shop".into(),
                labels: [("app".to_string(), "web".to_string())].into(),
                owner_references: owner
                    .map(|(kind, uid)| OwnerReference {
                        api_version: "apps/v1".into(),
                        kind: kind.into(),
                        name: format!("{kind}-x").to_lowercase(),
                        uid: uid.into(),
                        controller: Some(true),
                        ..Default::default()
                    })
                    .into_iter()
                    .collect(),
                ..Default::default()
            }),
            status: Some(PodStatus {
                phase: "Running".into(),
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

    fn budget(min: &str, max: &str) -> PodDisruptionBudget {
        PodDisruptionBudget {
            metadata: Some(ObjectMeta {
                name: "web".into(),
                namespace: "shop".into(),
                generation: 3,
                ..Default::default()
            }),
            spec: Some(PodDisruptionBudgetSpec {
                min_available: min.into(),
                max_unavailable: max.into(),
                selector: Some(LabelSelector {
                    match_labels: [("app".to_string(), "web".to_string())].into(),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    /// Every pod of ReplicaSets "rs1" and "rs2" belongs to Deployment "d" of 5 replicas;
    /// "sts" is a StatefulSet of 4; DaemonSets have no scale.
    fn finder(owner: &OwnerReference, _ns: &str) -> Result<Option<ControllerScale>, String> {
        match (owner.kind.as_str(), owner.uid.as_str()) {
            ("ReplicaSet", "rs1" | "rs2") => Ok(Some(ControllerScale {
                uid: "d".into(),
                replicas: 5,
            })),
            ("StatefulSet", "sts") => Ok(Some(ControllerScale {
                uid: "sts".into(),
                replicas: 4,
            })),
            ("DaemonSet", _) => {
                Err("daemonsets.apps does not implement the scale subresource".into())
            }
            _ => Ok(None),
        }
    }

    #[test]
    fn controllers_are_counted_once_and_unmanaged_pods_listed() {
        let pods = [
            pod("a", Some(("ReplicaSet", "rs1")), true),
            pod("b", Some(("ReplicaSet", "rs2")), true),
            pod("c", Some(("StatefulSet", "sts")), true),
            pod("d", None, true),
        ];
        let refs: Vec<&Pod> = pods.iter().collect();
        assert_eq!(
            expected_scale(&refs, &finder),
            Ok((9, vec!["d".to_string()]))
        );
        let gone = [pod("e", Some(("ReplicaSet", "other")), true)];
        let refs: Vec<&Pod> = gone.iter().collect();
        assert_eq!(
            expected_scale(&refs, &finder),
            Err("found no controllers for pod \"e\"".to_string())
        );
    }

    #[test]
    fn counts_follow_the_bound_kind() {
        let pods: Vec<Pod> = (0..3)
            .map(|i| pod(&format!("p{i}"), Some(("ReplicaSet", "rs1")), true))
            .collect();
        let refs: Vec<&Pod> = pods.iter().collect();
        // A count of minAvailable is of the pods there are, not of the scale.
        let c = counts(&budget("2", ""), &refs, &finder).unwrap();
        assert_eq!((c.expected, c.desired_healthy), (3, 2));
        // Percentages are of the controllers' scale (5), rounded up.
        let c = counts(&budget("50%", ""), &refs, &finder).unwrap();
        assert_eq!((c.expected, c.desired_healthy), (5, 3));
        let c = counts(&budget("", "1"), &refs, &finder).unwrap();
        assert_eq!((c.expected, c.desired_healthy), (5, 4));
        let c = counts(&budget("", "30%"), &refs, &finder).unwrap();
        assert_eq!((c.expected, c.desired_healthy), (5, 3));
        let c = counts(&budget("", "100%"), &refs, &finder).unwrap();
        assert_eq!(c.desired_healthy, 0);
        assert_eq!(
            counts(&budget("", ""), &refs, &finder),
            Ok(Counts::default())
        );
        let ds = [pod("x", Some(("DaemonSet", "ds")), true)];
        let refs: Vec<&Pod> = ds.iter().collect();
        assert!(
            counts(&budget("", "1"), &refs, &finder)
                .unwrap_err()
                .contains("scale")
        );
        // A count does not need the controllers.
        assert!(counts(&budget("1", ""), &refs, &finder).is_ok());
    }

    #[test]
    fn disrupted_pods_are_kept_until_deleted_or_two_minutes_pass() {
        let fresh = pod("fresh", None, true);
        let old = pod("old", None, true);
        let mut deleting = pod("deleting", None, true);
        deleting.meta_mut().deletion_timestamp = at(1);
        let pods = [&fresh, &old, &deleting];
        let recorded: BTreeMap<String, String> = [
            ("fresh".to_string(), at(30)),
            ("old".to_string(), at(121)),
            ("deleting".to_string(), at(5)),
            ("gone".to_string(), at(5)),
        ]
        .into();
        let (kept, recheck, timed_out) = disrupted_still_pending(&pods, &recorded, now());
        assert_eq!(kept.keys().collect::<Vec<_>>(), ["fresh"]);
        assert_eq!(recheck, Some(now() + Duration::from_secs(90)));
        assert_eq!(timed_out, ["old"]);
        // Healthy: Ready, not deleting, not just evicted.
        let unready = pod("unready", None, false);
        let pods = [&fresh, &old, &deleting, &unready];
        assert_eq!(count_healthy(&pods, &kept, now()), 1);
    }

    #[test]
    fn status_allows_what_is_above_the_budget_and_nothing_without_expected_pods() {
        let b = budget("2", "");
        let counts = Counts {
            expected: 3,
            desired_healthy: 2,
            unmanaged: vec![],
        };
        let s = desired_status(&b, &counts, 3, BTreeMap::new(), "t");
        assert_eq!(
            (
                s.disruptions_allowed,
                s.current_healthy,
                s.desired_healthy,
                s.expected_pods
            ),
            (1, 3, 2, 3)
        );
        assert_eq!(s.observed_generation, 3);
        assert_eq!(
            (
                s.conditions[0].status.as_str(),
                s.conditions[0].reason.as_str()
            ),
            ("True", "SufficientPods")
        );
        let s = desired_status(&b, &counts, 2, BTreeMap::new(), "t");
        assert_eq!(s.disruptions_allowed, 0);
        assert_eq!(s.conditions[0].reason, "InsufficientPods");
        let none = Counts {
            expected: 0,
            desired_healthy: 0,
            unmanaged: vec![],
        };
        assert_eq!(
            desired_status(&b, &none, 2, BTreeMap::new(), "t").disruptions_allowed,
            0
        );
        let mut written = b.clone();
        written.status = Some(desired_status(&b, &counts, 3, BTreeMap::new(), "t"));
        let again = desired_status(&written, &counts, 3, BTreeMap::new(), "t2");
        assert!(unchanged(&written, &again));
        let failed = fail_safe_status(&written, "boom", "t3");
        assert_eq!(failed.disruptions_allowed, 0);
        assert_eq!(
            (
                failed.conditions[0].reason.as_str(),
                failed.conditions[0].message.as_str()
            ),
            ("SyncFailed", "boom")
        );
    }
}
