//! What an object is charged against a quota (Kubernetes' quota evaluators: `pods.go`,
//! `services.go`, `persistent_volume_claims.go` and the generic object counter).

use super::ResourceList;
use crate::k8s::{Container, Object, PersistentVolumeClaim, Pod, Service, object::Kind as K};
use crate::quantity::{Format, Quantity};
use crate::resource::{ALL_KINDS, KindInfo};
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, SystemTime};

/// A pod's compute resources in its containers' requests and limits.
const POD_RESOURCES: &[&str] = &[
    "count/pods",
    "cpu",
    "memory",
    "ephemeral-storage",
    "requests.cpu",
    "requests.memory",
    "requests.ephemeral-storage",
    "limits.cpu",
    "limits.memory",
    "limits.ephemeral-storage",
    "pods",
];

/// Resources whose quota makes every container state its own amount (Kubernetes calls
/// this a mistake it keeps for compatibility, and adds nothing to it).
const MUST_SPECIFY: &[&str] = &[
    "cpu",
    "memory",
    "requests.cpu",
    "requests.memory",
    "limits.cpu",
    "limits.memory",
];

const SERVICE_RESOURCES: &[&str] = &[
    "count/services",
    "services",
    "services.nodeports",
    "services.loadbalancers",
];

const PVC_RESOURCES: &[&str] = &[
    "count/persistentvolumeclaims",
    "persistentvolumeclaims",
    "requests.storage",
];

/// `<class>.storageclass.storage.k8s.io/<resource>`: a PVC resource per storage class.
pub const STORAGE_CLASS_SUFFIX: &str = ".storageclass.storage.k8s.io/";

/// Kinds quota never counts: events were never quota-ed (Kubernetes' ignored resources).
pub fn ignored(kind: &KindInfo) -> bool {
    !kind.namespaced || kind.plural == "events"
}

/// The names quota counted these kinds under before `count/<resource>` existed.
fn legacy_alias(kind: &KindInfo) -> Option<&'static str> {
    if !kind.group.is_empty() {
        return None;
    }
    match kind.plural {
        "configmaps" => Some("configmaps"),
        "resourcequotas" => Some("resourcequotas"),
        "replicationcontrollers" => Some("replicationcontrollers"),
        "secrets" => Some("secrets"),
        _ => None,
    }
}

/// `count/<resource>` for the core group, `count/<resource>.<group>` otherwise.
pub fn object_count_name(kind: &KindInfo) -> String {
    if kind.group.is_empty() {
        format!("count/{}", kind.plural)
    } else {
        format!("count/{}.{}", kind.plural, kind.group)
    }
}

/// Kubernetes' IsNativeResource: unqualified, or in a `kubernetes.io/` domain.
fn is_native(name: &str) -> bool {
    !name.contains('/') || name.contains("kubernetes.io/")
}

/// Which of a quota's `hard` resource names objects of `kind` are charged for (Kubernetes'
/// `MatchingResources`). Empty: the quota does not concern this kind.
pub fn matching_resources(kind: &KindInfo, hard: &[String]) -> Vec<String> {
    let kept = |pred: &dyn Fn(&str) -> bool| -> Vec<String> {
        hard.iter().filter(|n| pred(n)).cloned().collect()
    };
    if ignored(kind) {
        return Vec::new();
    }
    match (kind.group, kind.plural) {
        ("", "pods") => kept(&|n| {
            POD_RESOURCES.contains(&n)
                || n.starts_with("hugepages-")
                || n.starts_with("requests.hugepages-")
                || (!is_native(n) && n.starts_with("requests."))
        }),
        ("", "services") => kept(&|n| SERVICE_RESOURCES.contains(&n)),
        ("", "persistentvolumeclaims") => kept(&|n| {
            PVC_RESOURCES.contains(&n)
                || ["persistentvolumeclaims", "requests.storage"]
                    .iter()
                    .any(|r| n.ends_with(&format!("{STORAGE_CLASS_SUFFIX}{r}")))
        }),
        _ => {
            let count = object_count_name(kind);
            let alias = legacy_alias(kind);
            kept(&|n| n == count || Some(n) == alias)
        }
    }
}

/// The kinds charged for any of `hard`'s resources (whose objects a quota's usage sums).
pub fn tracked_kinds(hard: &[String]) -> Vec<&'static KindInfo> {
    ALL_KINDS
        .iter()
        .copied()
        .filter(|k| !matching_resources(k, hard).is_empty())
        .collect()
}

/// Whether quota looks at this write at all (Kubernetes' evaluators' `Handles`): every
/// create; updates only of Services (their type may change) and PersistentVolumeClaims
/// (their size may grow). Pods are charged at creation only.
pub fn handles(kind: &KindInfo, update: bool) -> bool {
    if ignored(kind) {
        return false;
    }
    !update
        || (kind.group.is_empty() && matches!(kind.plural, "services" | "persistentvolumeclaims"))
}

/// What `object` uses of every resource it can be charged for.
pub fn usage(object: &Object, now: SystemTime) -> ResourceList {
    match &object.kind {
        Some(K::Pod(pod)) => pod_usage(pod, now),
        Some(K::Service(svc)) => service_usage(svc),
        Some(K::PersistentVolumeClaim(pvc)) => pvc_usage(pvc),
        _ => {
            let Some(kind) = object.info() else {
                return ResourceList::new();
            };
            let mut out = ResourceList::new();
            out.insert(object_count_name(kind), one());
            if let Some(alias) = legacy_alias(kind) {
                out.insert(alias.to_string(), one());
            }
            out
        }
    }
}

fn one() -> Quantity {
    Quantity::from_value(1, Format::DecimalSI)
}

fn count(n: usize) -> Quantity {
    Quantity::from_value(i64::try_from(n).unwrap_or(i64::MAX), Format::DecimalSI)
}

/// Kubernetes' rule: a pod counts for compute resources (and `pods`) unless it finished
/// (Succeeded, Failed) or is stuck terminating past its deletion grace period; it always
/// counts for `count/pods`, which tracks what is stored.
pub fn pod_is_charged(pod: &Pod, now: SystemTime) -> bool {
    let status = pod.status.as_ref();
    if status.is_some_and(|s| s.phase == "Succeeded" || s.phase == "Failed") {
        return false;
    }
    let meta = pod.metadata.as_ref();
    if let Some(m) = meta
        && let (Some(deleted), Some(grace)) = (
            crate::time::parse_rfc3339(&m.deletion_timestamp),
            m.deletion_grace_period_seconds,
        )
    {
        let grace = Duration::from_secs(u64::try_from(grace).unwrap_or(0));
        if now > deleted + grace {
            return false;
        }
    }
    true
}

fn pod_usage(pod: &Pod, now: SystemTime) -> ResourceList {
    let mut out = ResourceList::new();
    out.insert("count/pods".to_string(), one());
    if !pod_is_charged(pod, now) {
        return out;
    }
    let requests = pod_requests(pod);
    let limits = pod_limits(pod);
    super::add(&out, &compute_usage(&requests, &limits))
}

/// Kubernetes' podComputeUsageHelper: the quota names of a set of requests and limits.
fn compute_usage(requests: &ResourceList, limits: &ResourceList) -> ResourceList {
    let mut out = ResourceList::new();
    out.insert("pods".to_string(), one());
    for r in ["cpu", "memory", "ephemeral-storage"] {
        if let Some(q) = requests.get(r) {
            out.insert(r.to_string(), *q);
            out.insert(format!("requests.{r}"), *q);
        }
        if let Some(q) = limits.get(r) {
            out.insert(format!("limits.{r}"), *q);
        }
    }
    for (name, q) in requests {
        if name.starts_with("hugepages-") {
            out.insert(name.clone(), *q);
            out.insert(format!("requests.{name}"), *q);
        } else if !is_native(name) && !name.starts_with("requests.") {
            // An extended resource is quota-ed by request only.
            out.insert(format!("requests.{name}"), *q);
        }
    }
    out
}

fn container_list(c: &Container, limits: bool) -> ResourceList {
    c.resources
        .as_ref()
        .map(|r| super::parse_list(if limits { &r.limits } else { &r.requests }))
        .unwrap_or_default()
}

/// Sets each entry of `list` to the larger of it and `other`'s.
fn max_into(list: &mut ResourceList, other: &ResourceList) {
    for (k, v) in other {
        if list.get(k).is_none_or(|have| v > have) {
            list.insert(k.clone(), *v);
        }
    }
}

/// Kubernetes' AggregateContainerRequests/Limits: the app containers' sum, sidecars
/// (restartable init containers) added to it, raised to what any init container needs
/// while it runs (itself plus the sidecars started before it).
fn aggregate(pod: &Pod, limits: bool) -> ResourceList {
    let Some(spec) = pod.spec.as_ref() else {
        return ResourceList::new();
    };
    let mut total = ResourceList::new();
    for c in &spec.containers {
        total = super::add(&total, &container_list(c, limits));
    }
    let mut sidecars = ResourceList::new();
    let mut init_peak = ResourceList::new();
    for c in &spec.init_containers {
        let own = container_list(c, limits);
        let running = if c.restart_policy.as_deref() == Some("Always") {
            total = super::add(&total, &own);
            sidecars = super::add(&sidecars, &own);
            sidecars.clone()
        } else {
            super::add(&own, &sidecars)
        };
        max_into(&mut init_peak, &running);
    }
    max_into(&mut total, &init_peak);
    total
}

/// What a pod requests: containers as `aggregate`, plus the pod's overhead.
pub fn pod_requests(pod: &Pod) -> ResourceList {
    let mut requests = aggregate(pod, false);
    if let Some(spec) = pod.spec.as_ref() {
        requests = super::add(&requests, &super::parse_list(&spec.overhead));
    }
    requests
}

/// A pod's limits: containers as `aggregate`; overhead only raises limits that are set.
pub fn pod_limits(pod: &Pod) -> ResourceList {
    let mut limits = aggregate(pod, true);
    if let Some(spec) = pod.spec.as_ref() {
        for (k, v) in super::parse_list(&spec.overhead) {
            if let Some(have) = limits.get_mut(&k) {
                *have += v;
            }
        }
    }
    limits
}

/// Kubernetes' pod evaluator `Constraints`: when a quota limits cpu or memory, every
/// container must state the amount. `required` is what the quota tracks for pods.
/// Returns Kubernetes' message (`must specify limits.cpu for: app; requests.memory for:
/// app,sidecar`).
pub fn pod_constraints(pod: &Pod, required: &[String]) -> Result<(), String> {
    let required: BTreeSet<&str> = required
        .iter()
        .map(String::as_str)
        .filter(|r| MUST_SPECIFY.contains(r))
        .collect();
    if required.is_empty() {
        return Ok(());
    }
    let mut missing: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    let spec = pod.spec.as_ref();
    let containers = spec
        .map(|s| s.containers.iter().chain(s.init_containers.iter()))
        .into_iter()
        .flatten();
    for c in containers {
        let usage = compute_usage(&container_list(c, false), &container_list(c, true));
        for r in &required {
            if !usage.contains_key(*r) {
                missing.entry(r).or_default().insert(c.name.as_str());
            }
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    let parts: Vec<String> = missing
        .iter()
        .map(|(r, names)| {
            let names: Vec<&str> = names.iter().copied().collect();
            format!("{r} for: {}", names.join(","))
        })
        .collect();
    Err(format!("must specify {}", parts.join("; ")))
}

/// Kubernetes' BestEffort QoS class: no container asks for or limits cpu or memory.
pub fn is_best_effort(pod: &Pod) -> bool {
    let Some(spec) = pod.spec.as_ref() else {
        return true;
    };
    let positive = |m: &BTreeMap<String, String>| {
        ["cpu", "memory"].iter().any(|r| {
            m.get(*r)
                .and_then(|v| v.parse::<Quantity>().ok())
                .is_some_and(|q| q > Quantity::default())
        })
    };
    !spec
        .containers
        .iter()
        .chain(spec.init_containers.iter())
        .filter_map(|c| c.resources.as_ref())
        .any(|r| positive(&r.requests) || positive(&r.limits))
}

/// Kubernetes' Terminating scope: a pod with an active deadline.
pub fn is_terminating(pod: &Pod) -> bool {
    pod.spec
        .as_ref()
        .and_then(|s| s.active_deadline_seconds)
        .is_some_and(|d| d >= 0)
}

fn service_usage(svc: &Service) -> ResourceList {
    let mut out = ResourceList::new();
    out.insert("count/services".to_string(), one());
    out.insert("services".to_string(), one());
    let spec = svc.spec.clone().unwrap_or_default();
    let (node_ports, load_balancers) = match spec.r#type.as_str() {
        "NodePort" => (count(spec.ports.len()), Quantity::default()),
        // Without node ports allocated, only those asked for by number count.
        "LoadBalancer" if spec.allocate_load_balancer_node_ports == Some(false) => (
            count(spec.ports.iter().filter(|p| p.node_port != 0).count()),
            one(),
        ),
        "LoadBalancer" => (count(spec.ports.len()), one()),
        _ => (Quantity::default(), Quantity::default()),
    };
    out.insert("services.nodeports".to_string(), node_ports);
    out.insert("services.loadbalancers".to_string(), load_balancers);
    out
}

fn pvc_usage(pvc: &PersistentVolumeClaim) -> ResourceList {
    let mut out = ResourceList::new();
    out.insert("persistentvolumeclaims".to_string(), one());
    out.insert("count/persistentvolumeclaims".to_string(), one());
    let class = crate::claims::claim_class(pvc);
    if !class.is_empty() {
        out.insert(
            format!("{class}{STORAGE_CLASS_SUFFIX}persistentvolumeclaims"),
            one(),
        );
    }
    let storage = pvc
        .spec
        .as_ref()
        .and_then(|s| s.resources.as_ref())
        .and_then(|r| r.requests.get("storage"))
        .and_then(|v| v.parse::<Quantity>().ok());
    if let Some(q) = storage {
        // Whole bytes, as Kubernetes rounds a fractional request up.
        let q = round_up_to_unit(q);
        out.insert("requests.storage".to_string(), q);
        if !class.is_empty() {
            out.insert(format!("{class}{STORAGE_CLASS_SUFFIX}requests.storage"), q);
        }
    }
    out
}

fn round_up_to_unit(q: Quantity) -> Quantity {
    const UNIT: i128 = 1_000_000_000;
    let nano = q.nano();
    if nano % UNIT == 0 {
        return q;
    }
    let whole = nano.div_euclid(UNIT) + 1;
    Quantity::from_nano(whole.saturating_mul(UNIT), q.format())
}
