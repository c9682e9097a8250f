//! Pure decisions of the Deployment controller (Kubernetes'
//! `pkg/controller/deployment/util`): the pod-template hash, int-or-percent resolution,
//! how far to scale the new and old ReplicaSets, revisions, status and conditions.

use proto::Resource;
use proto::k8s::{
    Deployment, DeploymentCondition, DeploymentStatus, PodTemplateSpec, ReplicaSet, ReplicaSetSpec,
};
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

pub const POD_TEMPLATE_HASH: &str = "pod-template-hash";
pub const REVISION: &str = "deployment.kubernetes.io/revision";
pub const REVISION_HISTORY: &str = "deployment.kubernetes.io/revision-history";
pub const DESIRED_REPLICAS: &str = "deployment.kubernetes.io/desired-replicas";
pub const MAX_REPLICAS: &str = "deployment.kubernetes.io/max-replicas";
pub const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Deployment annotations never copied onto its ReplicaSets.
pub const ANNOTATIONS_TO_SKIP: &[&str] = &[
    LAST_APPLIED,
    REVISION,
    REVISION_HISTORY,
    DESIRED_REPLICAS,
    MAX_REPLICAS,
    "deprecated.deployment.rollback.to",
];

// Condition reasons, as Kubernetes spells them.
pub const NEW_RS_AVAILABLE: &str = "NewReplicaSetAvailable";
pub const RS_UPDATED: &str = "ReplicaSetUpdated";
pub const NEW_RS_CREATED: &str = "NewReplicaSetCreated";
pub const FOUND_NEW_RS: &str = "FoundNewReplicaSet";
pub const TIMED_OUT: &str = "ProgressDeadlineExceeded";
pub const PAUSED: &str = "DeploymentPaused";
pub const RESUMED: &str = "DeploymentResumed";
pub const MIN_AVAILABLE: &str = "MinimumReplicasAvailable";
pub const MIN_UNAVAILABLE: &str = "MinimumReplicasUnavailable";

/// Kubernetes' SafeEncodeString alphabet (no vowels, no look-alikes).
const ALPHANUMS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// FNV-1a, 32 bits.
fn fnv32a(bytes: &[u8]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in bytes {
        h ^= u32::from(*b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// The pod-template hash (Kubernetes' ComputeHash): FNV-1a of the template's canonical
/// encoding plus the collision count, written in the safe alphabet.
pub fn pod_template_hash(template: &PodTemplateSpec, collision_count: Option<i32>) -> String {
    let mut bytes = prost::Message::encode_to_vec(template);
    if let Some(c) = collision_count {
        bytes.extend_from_slice(&c.to_le_bytes());
    }
    fnv32a(&bytes)
        .to_string()
        .bytes()
        .map(|b| ALPHANUMS[usize::from(b) % ALPHANUMS.len()] as char)
        .collect()
}

fn without_hash(t: &PodTemplateSpec) -> PodTemplateSpec {
    let mut t = t.clone();
    if let Some(m) = t.metadata.as_mut() {
        m.labels.remove(POD_TEMPLATE_HASH);
    }
    t
}

/// Kubernetes' EqualIgnoreHash: the templates are equal but for the pod-template-hash
/// label.
pub fn equal_ignore_hash(a: &PodTemplateSpec, b: &PodTemplateSpec) -> bool {
    without_hash(a) == without_hash(b)
}

/// The template a rollback copies into the deployment: the ReplicaSet's, hash label
/// removed.
pub fn template_for_rollback(rs: &ReplicaSet) -> Option<PodTemplateSpec> {
    rs.spec.as_ref()?.template.as_ref().map(without_hash)
}

/// Kubernetes' GetScaledValueFromIntOrPercent: `"25%"` of `total`, rounded up or down, or
/// a plain count.
pub fn scaled_value(value: &str, total: i32, round_up: bool) -> Result<i32, String> {
    let v = value.trim();
    if v.is_empty() {
        return Ok(0);
    }
    if let Some(p) = v.strip_suffix('%') {
        let pct: i64 = p
            .parse()
            .map_err(|_| format!("invalid value for IntOrString: invalid value {value:?}"))?;
        let prod = pct * i64::from(total);
        let r = if round_up {
            (prod + 99).div_euclid(100)
        } else {
            prod.div_euclid(100)
        };
        return Ok(i32::try_from(r).unwrap_or(i32::MAX));
    }
    v.parse().map_err(|_| {
        format!(
            "invalid value for IntOrString: invalid type: string is not a percentage: {value:?}"
        )
    })
}

pub fn replicas(d: &Deployment) -> i32 {
    d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)
}

pub fn is_rolling(d: &Deployment) -> bool {
    d.spec
        .as_ref()
        .and_then(|s| s.strategy.as_ref())
        .is_none_or(|s| s.r#type != "Recreate")
}

/// Kubernetes' ResolveFenceposts: (maxSurge rounded up, maxUnavailable rounded down); both
/// zero would deadlock, so maxUnavailable becomes 1.
pub fn resolve_fenceposts(d: &Deployment) -> (i32, i32) {
    let desired = replicas(d);
    let ru = d
        .spec
        .as_ref()
        .and_then(|s| s.strategy.as_ref())
        .and_then(|s| s.rolling_update.clone())
        .unwrap_or_default();
    let surge_s = if ru.max_surge.is_empty() {
        "25%"
    } else {
        &ru.max_surge
    };
    let unavail_s = if ru.max_unavailable.is_empty() {
        "25%"
    } else {
        &ru.max_unavailable
    };
    let surge = scaled_value(surge_s, desired, true).unwrap_or(0).max(0);
    let mut unavailable = scaled_value(unavail_s, desired, false).unwrap_or(0).max(0);
    if surge == 0 && unavailable == 0 {
        unavailable = 1;
    }
    (surge, unavailable)
}

pub fn max_surge(d: &Deployment) -> i32 {
    if !is_rolling(d) {
        return 0;
    }
    resolve_fenceposts(d).0
}

/// Kubernetes' MaxUnavailable: never more than the replicas.
pub fn max_unavailable(d: &Deployment) -> i32 {
    if !is_rolling(d) || replicas(d) == 0 {
        return 0;
    }
    resolve_fenceposts(d).1.min(replicas(d))
}

pub fn rs_replicas(rs: &ReplicaSet) -> i32 {
    rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(0)
}

/// Active pods a ReplicaSet may have: its spec, or more while surplus pods are still
/// counted in its status (not yet deleted). An upper bound on its active pods, so surge
/// is never exceeded in pods, not only in specs.
pub fn rs_pods_upper_bound(rs: &ReplicaSet) -> i32 {
    rs_replicas(rs).max(rs.status.as_ref().map_or(0, |s| s.replicas))
}

/// Available pods a ReplicaSet surely has: its status, but no more than its spec (pods
/// beyond the spec are being deleted even if the status has not caught up).
pub fn rs_available_lower_bound(rs: &ReplicaSet) -> i32 {
    rs.status
        .as_ref()
        .map_or(0, |s| s.available_replicas)
        .min(rs_replicas(rs))
}

/// Kubernetes' NewRSNewReplicas: the new ReplicaSet's size for this step.
pub fn new_rs_new_replicas(d: &Deployment, all: &[&ReplicaSet], new_rs: &ReplicaSet) -> i32 {
    let desired = replicas(d);
    if !is_rolling(d) {
        return desired;
    }
    let current = rs_replicas(new_rs);
    let surge = max_surge(d);
    let current_pods: i32 = all.iter().map(|rs| rs_pods_upper_bound(rs)).sum();
    let max_total = desired + surge;
    if current_pods >= max_total {
        return current;
    }
    let up = (max_total - current_pods).min(desired - current).max(0);
    current + up
}

/// The total scale-down old ReplicaSets may take now (Kubernetes'
/// reconcileOldReplicaSets): `allPods - minAvailable - newRSUnavailable`.
pub fn max_scaled_down(d: &Deployment, all: &[&ReplicaSet], new_rs: Option<&ReplicaSet>) -> i32 {
    let all_pods: i32 = all.iter().map(|rs| rs_replicas(rs)).sum();
    let min_available = replicas(d) - max_unavailable(d);
    let new_unavailable = new_rs.map_or(0, |rs| {
        rs_replicas(rs) - rs.status.as_ref().map_or(0, |s| s.available_replicas)
    });
    all_pods - min_available - new_unavailable.max(0)
}

/// Kubernetes' cleanupUnhealthyReplicas: new sizes for old ReplicaSets (oldest first) that
/// drop their unavailable pods, up to `max_cleanup` in all. Returns (index, new size).
pub fn cleanup_unhealthy(old: &[&ReplicaSet], max_cleanup: i32) -> Vec<(usize, i32)> {
    let mut total = 0;
    let mut out = Vec::new();
    for (i, rs) in old.iter().enumerate() {
        if total >= max_cleanup {
            break;
        }
        let spec = rs_replicas(rs);
        if spec == 0 {
            continue;
        }
        let available = rs_available_lower_bound(rs);
        if spec == available {
            continue;
        }
        let down = (max_cleanup - total).min(spec - available);
        if down <= 0 {
            continue;
        }
        total += down;
        out.push((i, spec - down));
    }
    out
}

/// Kubernetes' scaleDownOldReplicaSetsForRollingUpdate: new sizes for old ReplicaSets
/// (oldest first) so that availability stays at or above `replicas - maxUnavailable`.
pub fn scale_down_old(
    d: &Deployment,
    all: &[&ReplicaSet],
    old: &[&ReplicaSet],
) -> Vec<(usize, i32)> {
    let min_available = replicas(d) - max_unavailable(d);
    let available: i32 = all.iter().map(|rs| rs_available_lower_bound(rs)).sum();
    if available <= min_available {
        return Vec::new();
    }
    let total = available - min_available;
    let mut done = 0;
    let mut out = Vec::new();
    for (i, rs) in old.iter().enumerate() {
        if done >= total {
            break;
        }
        let spec = rs_replicas(rs);
        if spec == 0 {
            continue;
        }
        let down = spec.min(total - done);
        done += down;
        out.push((i, spec - down));
    }
    out
}

/// Proportional scaling (Kubernetes' `scale` with several active ReplicaSets): spreads
/// `to_add` (negative: to remove) over ReplicaSets in proportion to their size; the
/// rounding leftover goes to the first (the largest / newest when growing). Returns the new
/// sizes in the given order.
pub fn proportional_sizes(sizes: &[i32], to_add: i32) -> Vec<i32> {
    let total: i32 = sizes.iter().sum();
    if total == 0 || sizes.is_empty() {
        let mut out = sizes.to_vec();
        if let Some(first) = out.first_mut() {
            *first = (*first + to_add).max(0);
        }
        return out;
    }
    let mut out = Vec::with_capacity(sizes.len());
    let mut added = 0;
    for &s in sizes {
        let share = i32::try_from(i64::from(s) * i64::from(to_add) / i64::from(total)).unwrap_or(0);
        // Never remove more than an RS has.
        let share = share.max(-s);
        added += share;
        out.push(s + share);
    }
    let mut leftover = to_add - added;
    for size in out.iter_mut() {
        if leftover == 0 {
            break;
        }
        let change = if leftover > 0 {
            leftover
        } else {
            leftover.max(-*size)
        };
        *size += change;
        leftover -= change;
    }
    out
}

pub fn revision_of(rs: &ReplicaSet) -> i64 {
    rs.meta()
        .annotations
        .get(REVISION)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

pub fn max_revision(rss: &[&ReplicaSet]) -> i64 {
    rss.iter().map(|rs| revision_of(rs)).max().unwrap_or(0)
}

/// Kubernetes' SetNewReplicaSetAnnotations + copy of the deployment's annotations: the
/// revision is raised to `new_revision` (the old number goes into the revision history);
/// returns whether anything changed.
pub fn set_new_rs_annotations(
    d: &Deployment,
    rs: &mut ReplicaSet,
    new_revision: i64,
    exists: bool,
) -> bool {
    let mut changed = copy_annotations(d, rs);
    let ann = &mut rs.meta_mut().annotations;
    let old = ann.get(REVISION).cloned().unwrap_or_default();
    let old_n: i64 = old.parse().unwrap_or(0);
    if old_n < new_revision {
        ann.insert(REVISION.into(), new_revision.to_string());
        changed = true;
        if !old.is_empty() && exists {
            let history = match ann.get(REVISION_HISTORY) {
                Some(h) if !h.is_empty() => format!("{h},{old}"),
                _ => old,
            };
            ann.insert(REVISION_HISTORY.into(), history);
        }
    }
    if !exists {
        changed |= set_replicas_annotations(rs, replicas(d), replicas(d) + max_surge(d));
    }
    changed
}

fn copy_annotations(d: &Deployment, rs: &mut ReplicaSet) -> bool {
    let mut changed = false;
    for (k, v) in &d.meta().annotations {
        if ANNOTATIONS_TO_SKIP.contains(&k.as_str()) {
            continue;
        }
        if rs.meta().annotations.get(k) != Some(v) {
            rs.meta_mut().annotations.insert(k.clone(), v.clone());
            changed = true;
        }
    }
    changed
}

/// The desired-replicas and max-replicas annotations proportional scaling reads.
pub fn set_replicas_annotations(rs: &mut ReplicaSet, desired: i32, max: i32) -> bool {
    let ann = &mut rs.meta_mut().annotations;
    let mut changed = false;
    for (k, v) in [(DESIRED_REPLICAS, desired), (MAX_REPLICAS, max)] {
        let v = v.to_string();
        if ann.get(k) != Some(&v) {
            ann.insert(k.into(), v);
            changed = true;
        }
    }
    changed
}

/// Kubernetes' isScalingEvent: an active ReplicaSet was sized for another replica count.
pub fn is_scaling_event(d: &Deployment, rss: &[&ReplicaSet]) -> bool {
    let want = replicas(d).to_string();
    rss.iter().filter(|rs| rs_replicas(rs) > 0).any(|rs| {
        rs.meta()
            .annotations
            .get(DESIRED_REPLICAS)
            .is_some_and(|v| *v != want)
    })
}

/// The ReplicaSet for the deployment's current template (the oldest such, as Kubernetes).
pub fn find_new_rs<'a>(d: &Deployment, rss: &[&'a ReplicaSet]) -> Option<&'a ReplicaSet> {
    let template = d.spec.as_ref()?.template.as_ref()?;
    let mut sorted: Vec<&ReplicaSet> = rss.to_vec();
    sorted.sort_by(|a, b| {
        a.meta()
            .creation_timestamp
            .cmp(&b.meta().creation_timestamp)
            .then_with(|| a.meta().name.cmp(&b.meta().name))
    });
    sorted.into_iter().find(|rs| {
        rs.spec
            .as_ref()
            .and_then(|s| s.template.as_ref())
            .is_some_and(|t| equal_ignore_hash(t, template))
    })
}

/// The new ReplicaSet for the deployment's template (not yet created): named
/// `<deployment>-<hash>`, the hash label added to its selector, template and labels.
pub fn new_replicaset(d: &Deployment, hash: &str) -> ReplicaSet {
    let spec = d.spec.clone().unwrap_or_default();
    let mut template = spec.template.clone().unwrap_or_default();
    let tm = template.metadata.get_or_insert_with(Default::default);
    tm.labels.insert(POD_TEMPLATE_HASH.into(), hash.to_string());
    let labels = tm.labels.clone();
    let mut selector = spec.selector.clone().unwrap_or_default();
    selector
        .match_labels
        .insert(POD_TEMPLATE_HASH.into(), hash.to_string());
    let mut rs = ReplicaSet {
        spec: Some(ReplicaSetSpec {
            replicas: Some(0),
            selector: Some(selector),
            template: Some(template),
            min_ready_seconds: spec.min_ready_seconds,
        }),
        ..Default::default()
    };
    let m = rs.meta_mut();
    m.name = format!("{}-{hash}", d.meta().name);
    m.namespace = d.meta().namespace.clone();
    m.labels = labels;
    m.owner_references = vec![crate::pods::new_controller_ref(
        "apps/v1",
        "Deployment",
        d.meta(),
    )];
    rs
}

fn condition<'a>(status: &'a DeploymentStatus, kind: &str) -> Option<&'a DeploymentCondition> {
    status.conditions.iter().find(|c| c.r#type == kind)
}

pub fn progressing(status: &DeploymentStatus) -> Option<&DeploymentCondition> {
    condition(status, "Progressing")
}

pub fn new_condition(
    kind: &str,
    status: &str,
    reason: &str,
    message: String,
    now: &str,
) -> DeploymentCondition {
    DeploymentCondition {
        r#type: kind.into(),
        status: status.into(),
        last_update_time: now.into(),
        last_transition_time: now.into(),
        reason: reason.into(),
        message,
    }
}

/// Kubernetes' SetDeploymentCondition: nothing changes when status and reason are the
/// same; an unchanged status keeps its transition time.
pub fn set_condition(status: &mut DeploymentStatus, mut cond: DeploymentCondition) {
    if let Some(i) = status
        .conditions
        .iter()
        .position(|c| c.r#type == cond.r#type)
    {
        let cur = &status.conditions[i];
        if cur.status == cond.status && cur.reason == cond.reason {
            return;
        }
        if cur.status == cond.status {
            cond.last_transition_time = cur.last_transition_time.clone();
        }
        status.conditions.remove(i);
    }
    status.conditions.push(cond);
}

pub fn remove_condition(status: &mut DeploymentStatus, kind: &str) {
    status.conditions.retain(|c| c.r#type != kind);
}

/// Kubernetes' calculateStatus: counts from the ReplicaSets' statuses, and the Available
/// condition.
pub fn calculate_status(
    d: &Deployment,
    all: &[&ReplicaSet],
    new_rs: Option<&ReplicaSet>,
    now: &str,
) -> DeploymentStatus {
    let available: i32 = all
        .iter()
        .map(|rs| rs.status.as_ref().map_or(0, |s| s.available_replicas))
        .sum();
    let total_spec: i32 = all.iter().map(|rs| rs_replicas(rs)).sum();
    let actual = |rss: &mut dyn Iterator<Item = &ReplicaSet>| -> i32 {
        rss.map(|rs| rs.status.as_ref().map_or(0, |s| s.replicas))
            .sum()
    };
    let old = d.status.clone().unwrap_or_default();
    let mut status = DeploymentStatus {
        observed_generation: d.meta().generation,
        replicas: actual(&mut all.iter().copied()),
        updated_replicas: actual(&mut new_rs.into_iter()),
        ready_replicas: all
            .iter()
            .map(|rs| rs.status.as_ref().map_or(0, |s| s.ready_replicas))
            .sum(),
        available_replicas: available,
        unavailable_replicas: (total_spec - available).max(0),
        conditions: old.conditions.clone(),
        collision_count: old.collision_count,
        terminating_replicas: old.terminating_replicas,
    };
    if available >= replicas(d) - max_unavailable(d) {
        set_condition(
            &mut status,
            new_condition(
                "Available",
                "True",
                MIN_AVAILABLE,
                "Deployment has minimum availability.".into(),
                now,
            ),
        );
    } else {
        set_condition(
            &mut status,
            new_condition(
                "Available",
                "False",
                MIN_UNAVAILABLE,
                "Deployment does not have minimum availability.".into(),
                now,
            ),
        );
    }
    status
}

/// Kubernetes' DeploymentComplete.
pub fn deployment_complete(d: &Deployment, s: &DeploymentStatus) -> bool {
    let r = replicas(d);
    s.updated_replicas == r
        && s.replicas == r
        && s.available_replicas == r
        && s.observed_generation >= d.meta().generation
}

/// Kubernetes' DeploymentProgressing: something moved since the last status.
pub fn deployment_progressing(d: &Deployment, new: &DeploymentStatus) -> bool {
    let old = d.status.clone().unwrap_or_default();
    let old_old_replicas = old.replicas - old.updated_replicas;
    let new_old_replicas = new.replicas - new.updated_replicas;
    new.updated_replicas > old.updated_replicas
        || new_old_replicas < old_old_replicas
        || new.ready_replicas > old.ready_replicas
        || new.available_replicas > old.available_replicas
}

pub fn progress_deadline(d: &Deployment) -> Option<Duration> {
    let s = d.spec.as_ref()?.progress_deadline_seconds?;
    // Kubernetes: MaxInt32 means no deadline.
    if s == i32::MAX || s <= 0 {
        return None;
    }
    Some(Duration::from_secs(u64::try_from(s).unwrap_or(0)))
}

/// Kubernetes' DeploymentTimedOut: the Progressing condition was last updated longer than
/// progressDeadlineSeconds ago (and the rollout is not complete).
pub fn deployment_timed_out(d: &Deployment, s: &DeploymentStatus, now: SystemTime) -> bool {
    let Some(deadline) = progress_deadline(d) else {
        return false;
    };
    let Some(cond) = progressing(s) else {
        return false;
    };
    if cond.reason == NEW_RS_AVAILABLE {
        return false;
    }
    if cond.reason == TIMED_OUT {
        return true;
    }
    proto::time::parse_rfc3339(&cond.last_update_time).is_some_and(|t| t + deadline < now)
}

/// When a progressing rollout hits its deadline if nothing moves (to look again then).
pub fn time_to_deadline(d: &Deployment, s: &DeploymentStatus, now: SystemTime) -> Option<Duration> {
    let deadline = progress_deadline(d)?;
    let cond = progressing(s)?;
    if cond.reason == NEW_RS_AVAILABLE || cond.reason == TIMED_OUT || deployment_complete(d, s) {
        return None;
    }
    let t = proto::time::parse_rfc3339(&cond.last_update_time)?;
    Some((t + deadline).duration_since(now).unwrap_or_default() + Duration::from_secs(1))
}

/// Labels without the pod-template-hash (for messages and rollbacks).
pub fn labels_without_hash(labels: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let mut l = labels.clone();
    l.remove(POD_TEMPLATE_HASH);
    l
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::k8s::{
        DeploymentSpec, DeploymentStrategy, ReplicaSetStatus, RollingUpdateDeployment,
    };

    pub fn deployment(replicas: i32, surge: &str, unavailable: &str) -> Deployment {
        Deployment {
            spec: Some(DeploymentSpec {
                replicas: Some(replicas),
                strategy: Some(DeploymentStrategy {
                    r#type: "RollingUpdate".into(),
                    rolling_update: Some(RollingUpdateDeployment {
                        max_surge: surge.into(),
                        max_unavailable: unavailable.into(),
                    }),
                }),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn rs(name: &str, spec: i32, status: i32, available: i32) -> ReplicaSet {
        let mut r = ReplicaSet {
            spec: Some(ReplicaSetSpec {
                replicas: Some(spec),
                ..Default::default()
            }),
            status: Some(ReplicaSetStatus {
                replicas: status,
                available_replicas: available,
                ready_replicas: available,
                ..Default::default()
            }),
            ..Default::default()
        };
        r.meta_mut().name = name.into();
        r
    }

    #[test]
    fn int_or_percent_rounds_like_kubernetes() {
        let cases = [
            ("25%", 10, true, 3),
            ("25%", 10, false, 2),
            ("25%", 1, true, 1),
            ("25%", 1, false, 0),
            ("3", 10, true, 3),
            ("0%", 10, true, 0),
            ("100%", 7, false, 7),
        ];
        for (v, total, up, want) in cases {
            assert_eq!(scaled_value(v, total, up), Ok(want), "{v} of {total}");
        }
        assert!(scaled_value("x%", 10, true).is_err());
        assert!(scaled_value("1.5", 10, true).is_err());
    }

    #[test]
    fn fenceposts_never_both_zero() {
        assert_eq!(resolve_fenceposts(&deployment(10, "", "")), (3, 2));
        assert_eq!(resolve_fenceposts(&deployment(1, "0", "0")), (0, 1));
        assert_eq!(resolve_fenceposts(&deployment(1, "0%", "10%")), (0, 1));
        assert_eq!(resolve_fenceposts(&deployment(4, "1", "0")), (1, 0));
        assert_eq!(
            max_unavailable(&deployment(2, "0", "5")),
            2,
            "capped at replicas"
        );
        let mut recreate = deployment(4, "1", "1");
        recreate
            .spec
            .as_mut()
            .unwrap()
            .strategy
            .as_mut()
            .unwrap()
            .r#type = "Recreate".into();
        assert_eq!((max_surge(&recreate), max_unavailable(&recreate)), (0, 0));
    }

    #[test]
    fn new_rs_grows_within_surge_counting_pods_not_yet_deleted() {
        let d = deployment(10, "3", "2");
        let old = rs("old", 10, 10, 10);
        let new = rs("new", 0, 0, 0);
        assert_eq!(new_rs_new_replicas(&d, &[&old, &new], &new), 3);
        // Old scaled to 8 but still has 10 pods: no room yet.
        let old = rs("old", 8, 10, 10);
        let new = rs("new", 3, 3, 0);
        assert_eq!(new_rs_new_replicas(&d, &[&old, &new], &new), 3);
        let old = rs("old", 8, 8, 8);
        assert_eq!(new_rs_new_replicas(&d, &[&old, &new], &new), 5);
        // Never beyond the desired count.
        let old = rs("old", 0, 0, 0);
        let new = rs("new", 9, 9, 9);
        assert_eq!(new_rs_new_replicas(&d, &[&old, &new], &new), 10);
    }

    #[test]
    fn old_rs_scale_down_keeps_min_available() {
        let d = deployment(10, "3", "2");
        let old = rs("old", 10, 10, 10);
        let new = rs("new", 3, 3, 0);
        // 13 pods - 8 min available - 3 new unavailable = 2.
        assert_eq!(max_scaled_down(&d, &[&old, &new], Some(&new)), 2);
        assert_eq!(scale_down_old(&d, &[&old, &new], &[&old]), vec![(0, 8)]);
        // Status says 10 available, but the spec is already 8: only 8 count.
        let old = rs("old", 8, 10, 10);
        assert_eq!(
            scale_down_old(&d, &[&old, &new], &[&old]),
            Vec::<(usize, i32)>::new()
        );
        // Unhealthy old pods go first, without touching availability.
        let sick = rs("sick", 4, 4, 1);
        assert_eq!(cleanup_unhealthy(&[&sick], 2), vec![(0, 2)]);
        assert_eq!(cleanup_unhealthy(&[&sick], 10), vec![(0, 1)]);
    }

    #[test]
    fn proportional_scaling_spreads_by_size() {
        assert_eq!(proportional_sizes(&[6, 4], 5), vec![9, 6]);
        assert_eq!(proportional_sizes(&[6, 4], -5), vec![3, 2]);
        assert_eq!(proportional_sizes(&[1, 1, 1], 1), vec![2, 1, 1]);
        assert_eq!(proportional_sizes(&[0, 0], 3), vec![3, 0]);
        assert_eq!(proportional_sizes(&[2, 1], -3), vec![0, 0]);
    }

    #[test]
    fn template_hash_is_stable_and_ignores_its_own_label() {
        let mut t = PodTemplateSpec::default();
        t.metadata
            .get_or_insert_with(Default::default)
            .labels
            .insert("app".into(), "web".into());
        let h = pod_template_hash(&t, None);
        assert_eq!(h, pod_template_hash(&t, None));
        assert!(h.chars().all(|c| ALPHANUMS.contains(&(c as u8))));
        assert_ne!(h, pod_template_hash(&t, Some(1)));
        let mut d = deployment(1, "", "");
        d.meta_mut().name = "web".into();
        d.spec.as_mut().unwrap().template = Some(t.clone());
        let new = new_replicaset(&d, &h);
        assert_eq!(new.meta().name, format!("web-{h}"));
        let rs_t = new.spec.as_ref().unwrap().template.as_ref().unwrap();
        assert_eq!(rs_t.metadata.as_ref().unwrap().labels[POD_TEMPLATE_HASH], h);
        assert!(equal_ignore_hash(rs_t, &t));
        assert_eq!(
            new.spec
                .as_ref()
                .unwrap()
                .selector
                .as_ref()
                .unwrap()
                .match_labels[POD_TEMPLATE_HASH],
            h
        );
        assert_eq!(template_for_rollback(&new).unwrap(), t);
    }

    #[test]
    fn revisions_move_to_history_when_an_old_template_returns() {
        let d = deployment(3, "", "");
        let mut old = rs("old", 0, 0, 0);
        old.meta_mut()
            .annotations
            .insert(REVISION.into(), "1".into());
        assert!(set_new_rs_annotations(&d, &mut old, 3, true));
        assert_eq!(old.meta().annotations[REVISION], "3");
        assert_eq!(old.meta().annotations[REVISION_HISTORY], "1");
        assert!(!set_new_rs_annotations(&d, &mut old, 3, true));
        let mut fresh = rs("fresh", 0, 0, 0);
        set_new_rs_annotations(&d, &mut fresh, 4, false);
        assert_eq!(fresh.meta().annotations[DESIRED_REPLICAS], "3");
        assert_eq!(fresh.meta().annotations[MAX_REPLICAS], "4");
        assert!(!fresh.meta().annotations.contains_key(REVISION_HISTORY));
    }

    #[test]
    fn conditions_keep_transition_time_and_deadline_times_out() {
        let mut s = DeploymentStatus::default();
        set_condition(
            &mut s,
            new_condition(
                "Progressing",
                "True",
                RS_UPDATED,
                "a".into(),
                "2026-01-01T00:00:00Z",
            ),
        );
        set_condition(
            &mut s,
            new_condition(
                "Progressing",
                "True",
                NEW_RS_AVAILABLE,
                "b".into(),
                "2026-01-01T00:01:00Z",
            ),
        );
        let c = progressing(&s).unwrap();
        assert_eq!(
            (c.reason.as_str(), c.last_transition_time.as_str()),
            (NEW_RS_AVAILABLE, "2026-01-01T00:00:00Z")
        );
        let mut d = deployment(3, "", "");
        d.spec.as_mut().unwrap().progress_deadline_seconds = Some(60);
        let mut s = DeploymentStatus::default();
        set_condition(
            &mut s,
            new_condition(
                "Progressing",
                "True",
                RS_UPDATED,
                "a".into(),
                "2026-01-01T00:00:00Z",
            ),
        );
        let t0 = proto::time::parse_rfc3339("2026-01-01T00:00:00Z").unwrap();
        assert!(!deployment_timed_out(&d, &s, t0 + Duration::from_secs(59)));
        assert!(deployment_timed_out(&d, &s, t0 + Duration::from_secs(61)));
        assert_eq!(
            time_to_deadline(&d, &s, t0 + Duration::from_secs(30)),
            Some(Duration::from_secs(31))
        );
    }
}
