//! What Pod Security admission decides for one request, as Kubernetes'
//! pod-security-admission `admission` package does: refuse (enforce), warn the client and
//! log for audit; pods are enforced, workload templates only warned and audited; a
//! namespace relabelled to a stricter enforce level warns about the pods already in it.
//! Pure functions: the registry reads the namespace and pods and acts on the answer.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use proto::k8s::{Object, ObjectMeta, Pod, PodSpec, object::Kind as K};

use super::checks::{self, Violation};
use super::policy::{Level, LevelVersion, Policy};

/// The cluster-wide settings (Kubernetes' PodSecurityConfiguration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The policy of a namespace without labels, and of each label a namespace leaves out.
    pub defaults: Policy,
    /// Namespaces never checked.
    pub exempt_namespaces: BTreeSet<String>,
}

impl Default for Config {
    /// Kubernetes' defaults (privileged everywhere), with kube-system exempt: the node
    /// agents and add-ons there need host access whatever the cluster default is.
    fn default() -> Self {
        Config {
            defaults: Policy::default(),
            exempt_namespaces: ["kube-system".to_string()].into(),
        }
    }
}

impl Config {
    pub fn is_exempt(&self, namespace: &str) -> bool {
        self.exempt_namespaces.contains(namespace)
    }
}

/// The outcome for one pod or template.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Decision {
    /// `violates PodSecurity "baseline:latest": ...` when the pod is refused.
    pub refusal: Option<String>,
    /// For the client, as `Warning:` lines.
    pub warnings: Vec<String>,
    /// For the audit log (Kubernetes' `pod-security.kubernetes.io/audit-violations`).
    pub audit: Option<String>,
}

/// Kubernetes' EvaluatePod: enforce (pods only), audit, and warn unless refused. Levels that
/// repeat an earlier one reuse its result.
pub fn evaluate(policy: &Policy, meta: &ObjectMeta, spec: &PodSpec, enforce: bool) -> Decision {
    let mut cache: HashMap<LevelVersion, Vec<Violation>> = HashMap::new();
    let mut run = |lv: LevelVersion| -> Vec<Violation> {
        cache
            .entry(lv)
            .or_insert_with(|| checks::evaluate(lv, meta, spec))
            .clone()
    };
    let mut decision = Decision::default();
    if enforce {
        let v = run(policy.enforce);
        if !v.is_empty() {
            decision.refusal = Some(format!(
                "violates PodSecurity {:?}: {}",
                policy.enforce.to_string(),
                checks::forbidden_detail(&v)
            ));
        }
    }
    let v = run(policy.audit);
    if !v.is_empty() {
        decision.audit = Some(would_violate(policy.audit, &v));
    }
    // A request that is refused carries the error, not warnings too.
    if decision.refusal.is_none() {
        let v = run(policy.warn);
        if !v.is_empty() {
            decision.warnings.push(would_violate(policy.warn, &v));
        }
    }
    decision
}

fn would_violate(lv: LevelVersion, v: &[Violation]) -> String {
    format!(
        "would violate PodSecurity {:?}: {}",
        lv.to_string(),
        checks::forbidden_detail(v)
    )
}

/// The pod template of a workload kind (Deployment, ReplicaSet, StatefulSet, DaemonSet, Job,
/// CronJob), which admission warns and audits about but never refuses: refusing the pods the
/// controller makes from it is enough, and existing workloads keep updating.
pub fn template_of(object: &Object) -> Option<(Option<&ObjectMeta>, &PodSpec)> {
    let template = match &object.kind {
        Some(K::Deployment(x)) => x.spec.as_ref()?.template.as_ref(),
        Some(K::ReplicaSet(x)) => x.spec.as_ref()?.template.as_ref(),
        Some(K::StatefulSet(x)) => x.spec.as_ref()?.template.as_ref(),
        Some(K::DaemonSet(x)) => x.spec.as_ref()?.template.as_ref(),
        Some(K::Job(x)) => x.spec.as_ref()?.template.as_ref(),
        Some(K::CronJob(x)) => x
            .spec
            .as_ref()?
            .job_template
            .as_ref()?
            .spec
            .as_ref()?
            .template
            .as_ref(),
        _ => None,
    }?;
    Some((template.metadata.as_ref(), template.spec.as_ref()?))
}

const SECCOMP_CONTAINER_ANNOTATION_PREFIX: &str = "container.seccomp.security.alpha.kubernetes.io/";

/// Kubernetes' isSignificantPodUpdate: an update is checked again only when it changes what
/// the checks could see through the fields a pod update may change: an image, a container's
/// seccomp annotation, or the number of containers. Everything else a pod update may change
/// (labels, annotations, tolerations, activeDeadlineSeconds) passes unchecked, so a pod
/// admitted before a namespace turned stricter can still be labelled or finalized.
pub fn pod_update_is_significant(new: &Pod, old: &Pod) -> bool {
    let empty_meta = ObjectMeta::default();
    let empty_spec = PodSpec::default();
    let (nm, om) = (
        new.metadata.as_ref().unwrap_or(&empty_meta),
        old.metadata.as_ref().unwrap_or(&empty_meta),
    );
    let (ns, os) = (
        new.spec.as_ref().unwrap_or(&empty_spec),
        old.spec.as_ref().unwrap_or(&empty_spec),
    );
    if ns.containers.len() != os.containers.len()
        || ns.init_containers.len() != os.init_containers.len()
    {
        return true;
    }
    let pairs = ns
        .containers
        .iter()
        .zip(&os.containers)
        .chain(ns.init_containers.iter().zip(&os.init_containers));
    for (n, o) in pairs {
        if n.image != o.image {
            return true;
        }
        let key = format!("{SECCOMP_CONTAINER_ANNOTATION_PREFIX}{}", n.name);
        if nm.annotations.get(&key) != om.annotations.get(&key) {
            return true;
        }
    }
    false
}

/// Kubernetes checks existing pods against a namespace's new enforce level only when it got
/// stricter: not when unchanged, not for privileged, not when the level was relaxed at the
/// same version.
pub fn namespace_update_needs_pod_check(old: &Policy, new: &Policy) -> bool {
    if new.enforce == old.enforce || new.enforce.level == Level::Privileged {
        return false;
    }
    !(new.enforce.version == old.enforce.version && new.enforce.level <= old.enforce.level)
}

/// Kubernetes' exemptNamespaceWarning: labels asking an exempt namespace for a policy other
/// than the cluster default are accepted but will not be applied; say so, naming the modes
/// the labels set.
pub fn exempt_namespace_warning(
    namespace: &str,
    policy: &Policy,
    defaults: &Policy,
    labels: &BTreeMap<String, String>,
) -> Option<String> {
    let privileged = |lv: &LevelVersion| lv.level == Level::Privileged;
    let same = |a: &LevelVersion, b: &LevelVersion| {
        a.level == b.level && (a.level == Level::Privileged || a.version == b.version)
    };
    let fully_privileged =
        privileged(&policy.enforce) && privileged(&policy.audit) && privileged(&policy.warn);
    let equivalent = same(&policy.enforce, &defaults.enforce)
        && same(&policy.audit, &defaults.audit)
        && same(&policy.warn, &defaults.warn);
    if fully_privileged || equivalent {
        return None;
    }
    use super::policy::*;
    let modes = [
        (
            "enforce",
            &policy.enforce,
            ENFORCE_LEVEL_LABEL,
            ENFORCE_VERSION_LABEL,
        ),
        (
            "audit",
            &policy.audit,
            AUDIT_LEVEL_LABEL,
            AUDIT_VERSION_LABEL,
        ),
        ("warn", &policy.warn, WARN_LEVEL_LABEL, WARN_VERSION_LABEL),
    ];
    let set: Vec<String> = modes
        .iter()
        .filter(|(_, lv, level, version)| {
            !privileged(lv) && (labels.contains_key(*level) || labels.contains_key(*version))
        })
        .map(|(mode, lv, _, _)| format!("{mode}={lv}"))
        .collect();
    Some(format!(
        "namespace {namespace:?} is exempt from Pod Security, and the policy ({}) will be ignored",
        set.join(", ")
    ))
}

/// Kubernetes checks at most this many existing pods when a namespace is relabelled.
pub const NAMESPACE_MAX_PODS: usize = 3000;

/// Kubernetes' EvaluatePodsInNamespace: one warning heading the list when pods violate the
/// new enforce level, then one per distinct set of reasons, named by its first pod (and how
/// many others share it), sorted.
pub fn namespace_pod_warnings(namespace: &str, enforce: LevelVersion, pods: &[Pod]) -> Vec<String> {
    let prioritized = prioritize(pods);
    let total = prioritized.len();
    let checked = &prioritized[..total.min(NAMESPACE_MAX_PODS)];
    let empty_meta = ObjectMeta::default();
    let empty_spec = PodSpec::default();
    // reason -> (alphabetically first pod, count)
    let mut by_reason: BTreeMap<String, (String, usize)> = BTreeMap::new();
    for pod in checked {
        let meta = pod.metadata.as_ref().unwrap_or(&empty_meta);
        let spec = pod.spec.as_ref().unwrap_or(&empty_spec);
        let v = checks::evaluate(enforce, meta, spec);
        if v.is_empty() {
            continue;
        }
        let entry = by_reason
            .entry(checks::forbidden_reason(&v))
            .or_insert_with(|| (meta.name.clone(), 0));
        if meta.name < entry.0 {
            entry.0 = meta.name.clone();
        }
        entry.1 += 1;
    }
    let mut warnings = Vec::new();
    if checked.len() < total {
        warnings.push(format!(
            "new PodSecurity enforce level only checked against the first {} of {total} existing pods",
            checked.len()
        ));
    }
    if !by_reason.is_empty() {
        warnings.push(format!(
            "existing pods in namespace {namespace:?} violate the new PodSecurity enforce level {:?}",
            enforce.to_string()
        ));
    }
    let mut pod_warnings: Vec<String> = by_reason
        .into_iter()
        .map(|(reason, (pod, count))| match count {
            1 => format!("{pod}: {reason}"),
            2 => format!("{pod} (and 1 other pod): {reason}"),
            n => format!("{pod} (and {} other pods): {reason}", n - 1),
        })
        .collect();
    pod_warnings.sort();
    warnings.extend(pod_warnings);
    warnings
}

/// One pod per controller first (a Deployment's pods share a template, so one stands for
/// all), then the rest: when only the first pods are checked, they cover the most workloads.
fn prioritize(pods: &[Pod]) -> Vec<&Pod> {
    let mut seen = BTreeSet::new();
    let (mut first, mut rest) = (Vec::new(), Vec::new());
    for pod in pods {
        let owner = pod
            .metadata
            .as_ref()
            .and_then(|m| {
                m.owner_references
                    .iter()
                    .find(|o| o.controller == Some(true))
            })
            .map(|o| o.uid.as_str());
        match owner {
            Some(uid) if !seen.insert(uid) => rest.push(pod),
            _ => first.push(pod),
        }
    }
    first.extend(rest);
    first
}
