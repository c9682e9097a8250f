//! What the server does to an object on its way in, per kind: server-set metadata,
//! defaulting, the status a new object starts with, validation, and which fields an update
//! may not change. Pure functions over `Object`; the registry calls them.

use proto::k8s::{NamespaceSpec, NamespaceStatus, Object, object::Kind as K};
use proto::validation::{FieldError, validate_object_meta};
use proto::{ApiError, KindInfo};

/// Namespaces that exist from the start and may not be deleted.
pub const SYSTEM_NAMESPACES: &[&str] =
    &["default", "kube-system", "kube-public", "kube-node-lease"];

pub fn is_protected_namespace(name: &str) -> bool {
    matches!(name, "default" | "kube-system" | "kube-public")
}

/// Admission settings a flag can change.
#[derive(Debug, Clone, Copy)]
pub struct AdmissionConfig {
    pub default_not_ready_toleration_seconds: i32,
    pub default_unreachable_toleration_seconds: i32,
}

impl Default for AdmissionConfig {
    fn default() -> Self {
        AdmissionConfig {
            default_not_ready_toleration_seconds: proto::defaults::DEFAULT_TOLERATION_SECONDS,
            default_unreachable_toleration_seconds: proto::defaults::DEFAULT_TOLERATION_SECONDS,
        }
    }
}

/// Kubernetes' DefaultTolerationSeconds admission: a pod that does not already tolerate the
/// node lifecycle controller's `not-ready` / `unreachable` NoExecute taints gets a
/// toleration for each, so its pods survive a short node outage (5 minutes by default)
/// instead of being evicted the moment the node stops reporting.
pub fn add_default_tolerations(object: &mut Object, cfg: &AdmissionConfig) {
    let Some(K::Pod(pod)) = &mut object.kind else {
        return;
    };
    let spec = pod.spec.get_or_insert_with(Default::default);
    for (key, secs) in [
        (
            proto::defaults::TAINT_NODE_NOT_READY,
            cfg.default_not_ready_toleration_seconds,
        ),
        (
            proto::defaults::TAINT_NODE_UNREACHABLE,
            cfg.default_unreachable_toleration_seconds,
        ),
    ] {
        let taint = proto::k8s::Taint {
            key: key.to_string(),
            effect: "NoExecute".to_string(),
            ..Default::default()
        };
        if spec
            .tolerations
            .iter()
            .any(|t| proto::taints::tolerates(t, &taint))
        {
            continue;
        }
        spec.tolerations.push(proto::k8s::Toleration {
            key: key.to_string(),
            operator: "Exists".to_string(),
            effect: "NoExecute".to_string(),
            toleration_seconds: Some(secs),
            ..Default::default()
        });
    }
}

/// Server-set metadata, defaults, and the status a new object starts with.
pub fn prepare_for_create(object: &mut Object) {
    {
        let m = object.meta_mut();
        m.uid = new_uid();
        m.creation_timestamp = proto::time::now_rfc3339();
        m.generation = 0;
        m.resource_version.clear();
        m.deletion_timestamp.clear();
        m.deletion_grace_period_seconds = None;
    }
    if let Some(info) = object.info()
        && tracks_generation(info)
    {
        object.meta_mut().generation = 1;
    }
    let uid = object.meta().uid.clone();
    match &mut object.kind {
        Some(K::Job(job)) => generate_job_selector(job, &uid),
        Some(K::Namespace(ns)) => {
            let spec = ns.spec.get_or_insert_with(NamespaceSpec::default);
            if !spec.finalizers.iter().any(|f| f == "kubernetes") {
                spec.finalizers.push("kubernetes".to_string());
            }
            ns.status = Some(NamespaceStatus {
                phase: "Active".to_string(),
                ..Default::default()
            });
        }
        Some(K::Pod(pod)) => {
            pod.status = Some(proto::k8s::PodStatus {
                phase: "Pending".to_string(),
                ..Default::default()
            });
        }
        Some(K::PersistentVolume(pv)) => {
            pv.status = Some(proto::k8s::PersistentVolumeStatus {
                phase: "Pending".to_string(),
                ..Default::default()
            });
        }
        Some(K::PersistentVolumeClaim(pvc)) => {
            pvc.status = Some(proto::k8s::PersistentVolumeClaimStatus {
                phase: "Pending".to_string(),
                ..Default::default()
            });
        }
        // A kubelet registers its Node with its status in one call.
        Some(K::Node(_)) => {}
        // Everything else starts without status: controllers fill it in.
        _ => {}
    }
    if !matches!(
        object.kind,
        Some(
            K::Namespace(_)
                | K::Pod(_)
                | K::PersistentVolume(_)
                | K::PersistentVolumeClaim(_)
                | K::Node(_)
        )
    ) {
        clear_status(object);
    }
    label_namespace(object);
    proto::defaults::apply_defaults(object);
}

/// Kinds whose `metadata.generation` counts spec changes, as in Kubernetes (ConfigMaps,
/// Secrets, Services, Namespaces, Nodes and the like carry none).
pub fn tracks_generation(info: &KindInfo) -> bool {
    matches!(
        info.plural,
        "pods"
            | "replicasets"
            | "deployments"
            | "daemonsets"
            | "statefulsets"
            | "jobs"
            | "cronjobs"
            | "horizontalpodautoscalers"
            | "ingresses"
    )
}

/// Every namespace carries `kubernetes.io/metadata.name=<name>`, so selectors (network
/// policies, webhooks) can pick namespaces by name.
fn label_namespace(object: &mut Object) {
    if let Some(K::Namespace(ns)) = &mut object.kind {
        let meta = ns.metadata.get_or_insert_with(Default::default);
        let name = meta.name.clone();
        if !name.is_empty() {
            meta.labels
                .insert("kubernetes.io/metadata.name".to_string(), name);
        }
    }
}

/// Kubernetes' Job strategy: unless the user manages the selector (`manualSelector: true`),
/// the Job selects its pods by its own uid, and its template carries the matching labels.
fn generate_job_selector(job: &mut proto::k8s::Job, uid: &str) {
    let name = job
        .metadata
        .as_ref()
        .map(|m| m.name.clone())
        .unwrap_or_default();
    let Some(spec) = job.spec.as_mut() else {
        return;
    };
    if spec.manual_selector == Some(true) {
        return;
    }
    let template = spec.template.get_or_insert_with(Default::default);
    let labels = &mut template
        .metadata
        .get_or_insert_with(Default::default)
        .labels;
    for (k, v) in [
        ("batch.kubernetes.io/controller-uid", uid),
        ("batch.kubernetes.io/job-name", name.as_str()),
        ("controller-uid", uid),
        ("job-name", name.as_str()),
    ] {
        if !v.is_empty() {
            labels.insert(k.to_string(), v.to_string());
        }
    }
    let mut selector = proto::k8s::LabelSelector::default();
    selector.match_labels.insert(
        "batch.kubernetes.io/controller-uid".to_string(),
        uid.to_string(),
    );
    spec.selector = Some(selector);
}

fn clear_status(object: &mut Object) {
    // `spec_part` drops status (and metadata); copying status from it clears ours.
    let without = object.spec_part();
    object.copy_status_from(&without);
}

/// Defaults for the incoming object of an update, and what an update of the main resource
/// may not change.
pub fn prepare_for_update(_info: &KindInfo, new: &mut Object, cur: &Object) {
    // A namespace's spec.finalizers change only through the finalize subresource.
    copy_namespace_finalizers(new, cur);
    label_namespace(new);
    proto::defaults::apply_defaults(new);
}

/// Takes `spec.finalizers` of a namespace from `from`.
pub fn copy_namespace_finalizers(new: &mut Object, from: &Object) {
    if let (Some(K::Namespace(n)), Some(K::Namespace(f))) = (&mut new.kind, &from.kind) {
        let finalizers = f
            .spec
            .as_ref()
            .map(|s| s.finalizers.clone())
            .unwrap_or_default();
        n.spec.get_or_insert_with(NamespaceSpec::default).finalizers = finalizers;
    }
}

fn display_kind(info: &KindInfo) -> String {
    if info.group.is_empty() {
        info.kind.to_string()
    } else {
        format!("{}.{}", info.kind, info.group)
    }
}

fn invalid(info: &KindInfo, name: &str, errors: &[FieldError]) -> ApiError {
    ApiError::invalid(format!(
        "{} {name:?} is invalid: {}",
        display_kind(info),
        proto::validation::join(errors)
    ))
}

fn validate_common(info: &KindInfo, object: &Object) -> Vec<FieldError> {
    let rule = proto::validation::name_rule_for(info.kind);
    let mut errors = validate_object_meta(object.meta(), info.namespaced, rule);
    errors.extend(proto::kind_validation::validate(object));
    errors
}

pub fn validate_create(info: &KindInfo, object: &Object) -> Result<(), ApiError> {
    let errors = validate_common(info, object);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(invalid(info, &object.meta().name, &errors))
    }
}

pub fn validate_update(info: &KindInfo, new: &Object, cur: &Object) -> Result<(), ApiError> {
    let mut errors = validate_common(info, new);
    errors.extend(immutable_fields(new, cur));
    // Per kind (roleRef, a CSR's spec and conditions): proto's own update rules.
    errors.extend(proto::kind_validation::validate_update(new, cur));
    if errors.is_empty() {
        Ok(())
    } else {
        Err(invalid(info, &new.meta().name, &errors))
    }
}

fn immutable(path: &str) -> FieldError {
    FieldError {
        path: path.to_string(),
        message: "Invalid value: field is immutable".to_string(),
    }
}

/// Kubernetes' update rules for fields that may be set once.
fn immutable_fields(new: &Object, cur: &Object) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if workload_selector(new) != workload_selector(cur) {
        errors.push(immutable("spec.selector"));
    }
    if let (Some(K::Pod(n)), Some(K::Pod(c))) = (&new.kind, &cur.kind)
        && !tolerations_only_added(n.spec.as_ref(), c.spec.as_ref())
    {
        errors.push(FieldError {
            path: "spec.tolerations".to_string(),
            message:
                "Forbidden: existing toleration can not be modified except its tolerationSeconds"
                    .to_string(),
        });
    }
    match (&new.kind, &cur.kind) {
        (Some(K::Pod(n)), Some(K::Pod(c)))
            if pod_spec_mutable_view(n.spec.as_ref()) != pod_spec_mutable_view(c.spec.as_ref()) =>
        {
            errors.push(FieldError {
                    path: "spec".to_string(),
                    message: "Forbidden: pod updates may not change fields other than `spec.containers[*].image`, `spec.initContainers[*].image`, `spec.activeDeadlineSeconds`, `spec.tolerations` (only additions to existing tolerations) or `spec.terminationGracePeriodSeconds`".to_string(),
                });
        }
        (Some(K::Job(n)), Some(K::Job(c)))
            if n.spec.as_ref().map(|s| &s.template) != c.spec.as_ref().map(|s| &s.template) =>
        {
            errors.push(immutable("spec.template"));
        }
        (Some(K::Service(n)), Some(K::Service(c))) => {
            let cur_ip = c
                .spec
                .as_ref()
                .map(|s| s.cluster_ip.as_str())
                .unwrap_or_default();
            let new_ip = n
                .spec
                .as_ref()
                .map(|s| s.cluster_ip.as_str())
                .unwrap_or_default();
            // Becoming an ExternalName service gives the IP up, as Kubernetes allows.
            let to_external = n.spec.as_ref().is_some_and(|s| s.r#type == "ExternalName");
            let released = to_external && new_ip.is_empty();
            if !cur_ip.is_empty() && new_ip != cur_ip && !released {
                errors.push(immutable("spec.clusterIP"));
            }
        }
        (Some(K::ConfigMap(n)), Some(K::ConfigMap(c)))
            if c.immutable == Some(true)
                && (n.data != c.data || n.binary_data != c.binary_data) =>
        {
            errors.push(FieldError {
                path: "data".to_string(),
                message: "Forbidden: field is immutable when `immutable` is set".to_string(),
            });
        }
        (Some(K::Secret(n)), Some(K::Secret(c)))
            if c.immutable == Some(true) && n.data != c.data =>
        {
            errors.push(FieldError {
                path: "data".to_string(),
                message: "Forbidden: field is immutable when `immutable` is set".to_string(),
            });
        }
        _ => {}
    }
    errors
}

/// The label selector of the kinds whose selector is immutable once created.
fn workload_selector(object: &Object) -> Option<&proto::k8s::LabelSelector> {
    match &object.kind {
        Some(K::Deployment(x)) => x.spec.as_ref()?.selector.as_ref(),
        Some(K::ReplicaSet(x)) => x.spec.as_ref()?.selector.as_ref(),
        Some(K::StatefulSet(x)) => x.spec.as_ref()?.selector.as_ref(),
        Some(K::DaemonSet(x)) => x.spec.as_ref()?.selector.as_ref(),
        Some(K::Job(x)) => x.spec.as_ref()?.selector.as_ref(),
        _ => None,
    }
}

/// Kubernetes lets a pod update add tolerations and change an existing one's
/// tolerationSeconds, nothing else.
fn tolerations_only_added(
    new: Option<&proto::k8s::PodSpec>,
    cur: Option<&proto::k8s::PodSpec>,
) -> bool {
    let strip = |t: &proto::k8s::Toleration| {
        let mut t = t.clone();
        t.toleration_seconds = None;
        t
    };
    let new: Vec<_> = new
        .map(|s| s.tolerations.iter().map(strip).collect())
        .unwrap_or_default();
    cur.map(|s| s.tolerations.iter().map(strip).all(|t| new.contains(&t)))
        .unwrap_or(true)
}

/// The pod spec with the fields an update may change blanked out.
fn pod_spec_mutable_view(spec: Option<&proto::k8s::PodSpec>) -> Option<proto::k8s::PodSpec> {
    let mut s = spec.cloned()?;
    for c in s.containers.iter_mut().chain(s.init_containers.iter_mut()) {
        c.image.clear();
    }
    s.active_deadline_seconds = None;
    s.tolerations.clear();
    s.termination_grace_period_seconds = None;
    Some(s)
}

/// A random (version 4) UUID.
pub fn new_uid() -> String {
    let b: [u8; 16] = rand::random();
    let mut b = b;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::k8s::{Pod, PodSpec, Toleration};

    fn pod(tolerations: Vec<Toleration>) -> Object {
        Object {
            kind: Some(K::Pod(Pod {
                spec: Some(PodSpec {
                    tolerations,
                    ..Default::default()
                }),
                ..Default::default()
            })),
        }
    }

    fn tolerations(o: &Object) -> Vec<(String, Option<i32>)> {
        let Some(K::Pod(p)) = &o.kind else {
            return vec![];
        };
        p.spec
            .as_ref()
            .map(|s| {
                s.tolerations
                    .iter()
                    .map(|t| (t.key.clone(), t.toleration_seconds))
                    .collect()
            })
            .unwrap_or_default()
    }

    #[test]
    fn default_tolerations_are_added_unless_the_pod_already_tolerates() {
        let cfg = AdmissionConfig {
            default_not_ready_toleration_seconds: 300,
            default_unreachable_toleration_seconds: 7,
        };
        let mut bare = pod(vec![]);
        add_default_tolerations(&mut bare, &cfg);
        assert_eq!(
            tolerations(&bare),
            vec![
                ("node.kubernetes.io/not-ready".to_string(), Some(300)),
                ("node.kubernetes.io/unreachable".to_string(), Some(7)),
            ]
        );
        // Running it again changes nothing.
        let again = {
            let mut o = bare.clone();
            add_default_tolerations(&mut o, &cfg);
            o
        };
        assert_eq!(again, bare);

        let own = Toleration {
            key: "node.kubernetes.io/unreachable".into(),
            operator: "Exists".into(),
            effect: "NoExecute".into(),
            toleration_seconds: Some(2),
            ..Default::default()
        };
        let mut p = pod(vec![own]);
        add_default_tolerations(&mut p, &cfg);
        assert_eq!(
            tolerations(&p),
            vec![
                ("node.kubernetes.io/unreachable".to_string(), Some(2)),
                ("node.kubernetes.io/not-ready".to_string(), Some(300)),
            ]
        );

        // A toleration of everything (empty key, Exists) covers both.
        let mut all = pod(vec![Toleration {
            operator: "Exists".into(),
            ..Default::default()
        }]);
        add_default_tolerations(&mut all, &cfg);
        assert_eq!(tolerations(&all).len(), 1);

        // Not a pod: untouched.
        let mut cm = Object {
            kind: Some(K::ConfigMap(Default::default())),
        };
        let before = cm.clone();
        add_default_tolerations(&mut cm, &cfg);
        assert_eq!(cm, before);
    }
}
