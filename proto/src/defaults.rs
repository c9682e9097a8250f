//! Kubernetes' defaults (the `SetDefaults_*` functions of each API group, plus the
//! DefaultTolerationSeconds, ServiceAccount and Priority admission steps that fill fields
//! the same way), applied to an object before validation and storage. Every rule only
//! fills what is unset, so applying defaults twice changes nothing.

use crate::k8s::{
    self, Container, HttpGetAction, JobSpec, PersistentVolumeClaimSpec, PodSpec, PodTemplateSpec,
    Probe, object::Kind,
};
use std::collections::BTreeMap;

/// Seconds a pod stays bound to a node that became not-ready or unreachable (the
/// apiserver's DefaultTolerationSeconds admission adds the tolerations, to pods only).
pub const DEFAULT_TOLERATION_SECONDS: i32 = 300;
pub const DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS: i32 = 30;
pub const DEFAULT_SCHEDULER_NAME: &str = "default-scheduler";
/// 0644, the mode of projected files unless the manifest says otherwise.
const DEFAULT_FILE_MODE: i32 = 0o644;
/// The taints the node lifecycle controller puts on failing nodes.
pub const TAINT_NODE_NOT_READY: &str = "node.kubernetes.io/not-ready";
pub const TAINT_NODE_UNREACHABLE: &str = "node.kubernetes.io/unreachable";

/// Fills every unset field Kubernetes would fill, for any kind.
pub fn apply_defaults(object: &mut k8s::Object) {
    let Some(kind) = object.kind.as_mut() else {
        return;
    };
    match kind {
        Kind::Namespace(ns) => {
            let status = ns.status.get_or_insert_with(Default::default);
            set_if_empty(&mut status.phase, "Active");
        }
        Kind::Node(node) => {
            if let Some(status) = node.status.as_mut()
                && status.allocatable.is_empty()
            {
                status.allocatable = status.capacity.clone();
            }
        }
        Kind::Pod(pod) => {
            let spec = pod.spec.get_or_insert_with(Default::default);
            default_pod_spec(spec, true);
            admit_pod_spec(spec);
            let status = pod.status.get_or_insert_with(Default::default);
            set_if_empty(&mut status.phase, "Pending");
        }
        Kind::Service(svc) => default_service(svc.spec.get_or_insert_with(Default::default)),
        Kind::Endpoints(ep) => {
            for port in ep.subsets.iter_mut().flat_map(|s| s.ports.iter_mut()) {
                set_if_empty(&mut port.protocol, "TCP");
            }
        }
        Kind::Secret(secret) => {
            set_if_empty(&mut secret.r#type, "Opaque");
            // stringData is write-only: it wins over data for the same key, then vanishes.
            for (k, v) in std::mem::take(&mut secret.string_data) {
                secret.data.insert(k, v.into_bytes());
            }
        }
        Kind::ReplicaSet(rs) => {
            let spec = rs.spec.get_or_insert_with(Default::default);
            spec.replicas.get_or_insert(1);
            default_template(spec.template.as_mut(), true);
        }
        Kind::Deployment(d) => default_deployment(d.spec.get_or_insert_with(Default::default)),
        Kind::DaemonSet(ds) => {
            let spec = ds.spec.get_or_insert_with(Default::default);
            let strategy = spec.update_strategy.get_or_insert_with(Default::default);
            set_if_empty(&mut strategy.r#type, "RollingUpdate");
            if strategy.r#type == "RollingUpdate" {
                let ru = strategy.rolling_update.get_or_insert_with(Default::default);
                set_if_empty(&mut ru.max_unavailable, "1");
                set_if_empty(&mut ru.max_surge, "0");
            }
            spec.revision_history_limit.get_or_insert(10);
            default_template(spec.template.as_mut(), true);
        }
        Kind::StatefulSet(sts) => {
            default_stateful_set(sts.spec.get_or_insert_with(Default::default))
        }
        Kind::Job(job) => default_job_spec(job.spec.get_or_insert_with(Default::default)),
        Kind::CronJob(cj) => {
            let spec = cj.spec.get_or_insert_with(Default::default);
            set_if_empty(&mut spec.concurrency_policy, "Allow");
            spec.suspend.get_or_insert(false);
            spec.successful_jobs_history_limit.get_or_insert(3);
            spec.failed_jobs_history_limit.get_or_insert(1);
            // Kubernetes defaults only the pod template of a job template; the job-level
            // fields are defaulted when the CronJob controller creates the Job.
            if let Some(jt) = spec.job_template.as_mut()
                && let Some(job_spec) = jt.spec.as_mut()
            {
                default_template(job_spec.template.as_mut(), false);
            }
        }
        Kind::HorizontalPodAutoscaler(hpa) => {
            let spec = hpa.spec.get_or_insert_with(Default::default);
            spec.min_replicas.get_or_insert(1);
            if spec.metrics.is_empty() {
                spec.metrics.push(default_cpu_metric());
            }
        }
        Kind::LimitRange(lr) => {
            for item in lr.spec.iter_mut().flat_map(|s| s.limits.iter_mut()) {
                if item.r#type != "Container" {
                    continue;
                }
                // A container without limits gets the max; without requests, the default,
                // else the min (Kubernetes' SetDefaults_LimitRangeItem).
                merge_missing(&mut item.default, &item.max);
                merge_missing(&mut item.default_request, &item.default);
                merge_missing(&mut item.default_request, &item.min);
            }
        }
        Kind::PersistentVolume(pv) => {
            let spec = pv.spec.get_or_insert_with(Default::default);
            set_if_empty(&mut spec.persistent_volume_reclaim_policy, "Retain");
            spec.volume_mode.get_or_insert_with(|| "Filesystem".into());
            default_pv_sources(spec);
            let status = pv.status.get_or_insert_with(Default::default);
            set_if_empty(&mut status.phase, "Pending");
        }
        Kind::PersistentVolumeClaim(pvc) => {
            default_pvc_spec(pvc.spec.get_or_insert_with(Default::default));
            let status = pvc.status.get_or_insert_with(Default::default);
            set_if_empty(&mut status.phase, "Pending");
        }
        Kind::RoleBinding(rb) => default_subjects(&mut rb.subjects),
        Kind::ClusterRoleBinding(crb) => default_subjects(&mut crb.subjects),
        Kind::ConfigMap(_)
        | Kind::ServiceAccount(_)
        | Kind::Event(_)
        | Kind::Lease(_)
        | Kind::ResourceQuota(_)
        | Kind::Ingress(_)
        | Kind::Role(_)
        | Kind::ClusterRole(_)
        | Kind::CertificateSigningRequest(_)
        | Kind::ControllerRevision(_)
        | Kind::PodDisruptionBudget(_) => {}
        // storage/v1 SetDefaults_StorageClass.
        Kind::StorageClass(sc) => {
            sc.reclaim_policy.get_or_insert_with(|| "Delete".into());
            sc.volume_binding_mode
                .get_or_insert_with(|| "Immediate".into());
        }
    }
}

/// rbac/v1 `SetDefaults_Subject`: User and Group subjects are in the RBAC API group.
fn default_subjects(subjects: &mut [k8s::Subject]) {
    for s in subjects {
        if s.api_group.is_empty() && (s.kind == "User" || s.kind == "Group") {
            s.api_group = crate::kind_validation::RBAC_GROUP.to_string();
        }
    }
}

/// Pod-level defaults. `restart_always` is false for a Job's template: a Job must say
/// OnFailure or Never itself, and validation tells the user when it does not.
pub fn default_pod_spec(spec: &mut PodSpec, restart_always: bool) {
    if restart_always {
        set_if_empty(&mut spec.restart_policy, "Always");
    }
    set_if_empty(&mut spec.dns_policy, "ClusterFirst");
    set_if_empty(&mut spec.scheduler_name, DEFAULT_SCHEDULER_NAME);
    spec.termination_grace_period_seconds
        .get_or_insert(DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS);
    spec.security_context.get_or_insert_with(Default::default);
    spec.enable_service_links.get_or_insert(true);
    let host_network = spec.host_network;
    for c in spec
        .init_containers
        .iter_mut()
        .chain(spec.containers.iter_mut())
    {
        default_container(c, host_network);
    }
    for volume in &mut spec.volumes {
        default_volume(volume);
    }
}

/// What Kubernetes' admission steps (ServiceAccount, Priority, DefaultTolerationSeconds)
/// fill in on a Pod, and only on a Pod: a workload's template stays as written, so that
/// re-applying it finds nothing changed.
pub fn admit_pod_spec(spec: &mut PodSpec) {
    // The deprecated `serviceAccount` still names the account when it is the only one set;
    // the ServiceAccount admission step fills "default"; both fields then agree.
    if spec.service_account_name.is_empty() {
        spec.service_account_name = if spec.service_account.is_empty() {
            "default".into()
        } else {
            spec.service_account.clone()
        };
    }
    spec.service_account = spec.service_account_name.clone();
    // The Priority admission step: the built-in classes and the default of no class.
    if spec.priority.is_none() {
        spec.priority = match spec.priority_class_name.as_str() {
            "" => Some(0),
            "system-node-critical" => Some(2_000_001_000),
            "system-cluster-critical" => Some(2_000_000_000),
            _ => None,
        };
    }
    if spec.priority.is_some() {
        spec.preemption_policy
            .get_or_insert_with(|| "PreemptLowerPriority".into());
    }
}

fn default_container(c: &mut Container, host_network: bool) {
    if c.image_pull_policy.is_empty() {
        c.image_pull_policy = default_pull_policy(&c.image).into();
    }
    set_if_empty(&mut c.termination_message_path, "/dev/termination-log");
    set_if_empty(&mut c.termination_message_policy, "File");
    for port in &mut c.ports {
        set_if_empty(&mut port.protocol, "TCP");
        // With the host's network, the container port is the host port.
        if host_network && port.host_port == 0 {
            port.host_port = port.container_port;
        }
    }
    // A limit without a request requests the limit.
    if let Some(res) = c.resources.as_mut() {
        merge_missing(&mut res.requests, &res.limits);
    }
    for probe in [
        &mut c.liveness_probe,
        &mut c.readiness_probe,
        &mut c.startup_probe,
    ]
    .into_iter()
    .flatten()
    {
        default_probe(probe);
    }
    if let Some(lc) = c.lifecycle.as_mut() {
        for handler in [&mut lc.post_start, &mut lc.pre_stop].into_iter().flatten() {
            if let Some(get) = handler.http_get.as_mut() {
                default_http_get(get);
            }
        }
    }
}

/// `Always` for `:latest` or no tag (the image may change under the same name), else
/// `IfNotPresent`; a digest pins the image.
pub fn default_pull_policy(image: &str) -> &'static str {
    if image.contains('@') {
        return "IfNotPresent";
    }
    // The tag is after the last ':' of the last path part (`host:5000/app` has no tag).
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.rsplit_once(':') {
        Some((_, "latest")) | None => "Always",
        Some(_) => "IfNotPresent",
    }
}

fn default_probe(p: &mut Probe) {
    set_if_zero(&mut p.timeout_seconds, 1);
    set_if_zero(&mut p.period_seconds, 10);
    set_if_zero(&mut p.success_threshold, 1);
    set_if_zero(&mut p.failure_threshold, 3);
    if let Some(get) = p.http_get.as_mut() {
        default_http_get(get);
    }
}

fn default_http_get(get: &mut HttpGetAction) {
    set_if_empty(&mut get.path, "/");
    set_if_empty(&mut get.scheme, "HTTP");
}

fn default_volume(volume: &mut k8s::Volume) {
    use k8s::volume::VolumeSource as S;
    match volume.volume_source.as_mut() {
        Some(S::HostPath(h)) => {
            h.r#type.get_or_insert_with(String::new);
        }
        Some(S::ConfigMap(c)) => {
            c.default_mode.get_or_insert(DEFAULT_FILE_MODE);
        }
        Some(S::Secret(s)) => {
            s.default_mode.get_or_insert(DEFAULT_FILE_MODE);
        }
        Some(S::DownwardApi(d)) => {
            d.default_mode.get_or_insert(DEFAULT_FILE_MODE);
        }
        Some(S::Projected(p)) => {
            p.default_mode.get_or_insert(DEFAULT_FILE_MODE);
        }
        Some(S::AzureDisk(d)) => default_azure_disk(d),
        Some(S::Iscsi(i)) => {
            set_if_empty(&mut i.iscsi_interface, "default");
            i.lun.get_or_insert(0);
        }
        Some(S::Rbd(r)) => default_rbd(&mut r.pool, &mut r.user, &mut r.keyring),
        Some(S::ScaleIo(s)) => default_scale_io(&mut s.storage_mode, &mut s.fs_type),
        Some(S::Image(i)) if i.pull_policy.is_empty() => {
            i.pull_policy = default_pull_policy(&i.reference).into();
        }
        // A volume that names no source is an emptyDir (Kubernetes' SetDefaults_Volume).
        None => volume.volume_source = Some(S::EmptyDir(Default::default())),
        Some(_) => {}
    }
}

/// Kubernetes' defaults of the PersistentVolume sources that have some (the same as their
/// pod volume forms).
fn default_pv_sources(spec: &mut k8s::PersistentVolumeSpec) {
    if let Some(d) = spec.azure_disk.as_mut() {
        default_azure_disk(d);
    }
    if let Some(i) = spec.iscsi.as_mut() {
        set_if_empty(&mut i.iscsi_interface, "default");
        i.lun.get_or_insert(0);
    }
    if let Some(r) = spec.rbd.as_mut() {
        default_rbd(&mut r.pool, &mut r.user, &mut r.keyring);
    }
    if let Some(s) = spec.scale_io.as_mut() {
        default_scale_io(&mut s.storage_mode, &mut s.fs_type);
    }
}

fn default_azure_disk(d: &mut k8s::AzureDiskVolumeSource) {
    d.caching_mode.get_or_insert_with(|| "ReadWrite".into());
    d.kind.get_or_insert_with(|| "Shared".into());
    d.fs_type.get_or_insert_with(|| "ext4".into());
    d.read_only.get_or_insert(false);
}

fn default_rbd(pool: &mut String, user: &mut String, keyring: &mut String) {
    set_if_empty(pool, "rbd");
    set_if_empty(user, "admin");
    set_if_empty(keyring, "/etc/ceph/keyring");
}

fn default_scale_io(storage_mode: &mut String, fs_type: &mut String) {
    set_if_empty(storage_mode, "ThinProvisioned");
    set_if_empty(fs_type, "xfs");
}

fn default_template(template: Option<&mut PodTemplateSpec>, restart_always: bool) {
    if let Some(t) = template {
        default_pod_spec(t.spec.get_or_insert_with(Default::default), restart_always);
    }
}

fn default_service(spec: &mut k8s::ServiceSpec) {
    set_if_empty(&mut spec.r#type, "ClusterIP");
    set_if_empty(&mut spec.session_affinity, "None");
    if spec.session_affinity == "ClientIP" {
        let cfg = spec
            .session_affinity_config
            .get_or_insert_with(Default::default);
        let client = cfg.client_ip.get_or_insert_with(Default::default);
        // Three hours, Kubernetes' default sticky time.
        client.timeout_seconds.get_or_insert(10_800);
    }
    if matches!(spec.r#type.as_str(), "NodePort" | "LoadBalancer") {
        set_if_empty(&mut spec.external_traffic_policy, "Cluster");
    }
    if spec.r#type != "ExternalName" {
        spec.internal_traffic_policy
            .get_or_insert_with(|| "Cluster".into());
    }
    for port in &mut spec.ports {
        set_if_empty(&mut port.protocol, "TCP");
        if port.target_port.is_empty() || port.target_port == "0" {
            port.target_port = port.port.to_string();
        }
    }
}

fn default_deployment(spec: &mut k8s::DeploymentSpec) {
    spec.replicas.get_or_insert(1);
    let strategy = spec.strategy.get_or_insert_with(Default::default);
    set_if_empty(&mut strategy.r#type, "RollingUpdate");
    if strategy.r#type == "RollingUpdate" {
        let ru = strategy.rolling_update.get_or_insert_with(Default::default);
        set_if_empty(&mut ru.max_unavailable, "25%");
        set_if_empty(&mut ru.max_surge, "25%");
    }
    spec.revision_history_limit.get_or_insert(10);
    spec.progress_deadline_seconds.get_or_insert(600);
    default_template(spec.template.as_mut(), true);
}

fn default_stateful_set(spec: &mut k8s::StatefulSetSpec) {
    spec.replicas.get_or_insert(1);
    set_if_empty(&mut spec.pod_management_policy, "OrderedReady");
    let strategy = spec.update_strategy.get_or_insert_with(Default::default);
    set_if_empty(&mut strategy.r#type, "RollingUpdate");
    if strategy.r#type == "RollingUpdate" {
        let ru = strategy.rolling_update.get_or_insert_with(Default::default);
        ru.partition.get_or_insert(0);
    }
    spec.revision_history_limit.get_or_insert(10);
    let retention = spec
        .persistent_volume_claim_retention_policy
        .get_or_insert_with(Default::default);
    set_if_empty(&mut retention.when_deleted, "Retain");
    set_if_empty(&mut retention.when_scaled, "Retain");
    for pvc in &mut spec.volume_claim_templates {
        default_pvc_spec(pvc.spec.get_or_insert_with(Default::default));
    }
    default_template(spec.template.as_mut(), true);
}

/// Job defaults (also used by the CronJob controller on the Jobs it creates).
pub fn default_job_spec(spec: &mut JobSpec) {
    if spec.completions.is_none() && spec.parallelism.is_none() {
        spec.completions = Some(1);
    }
    spec.parallelism.get_or_insert(1);
    if spec.backoff_limit_per_index.is_none() {
        spec.backoff_limit.get_or_insert(6);
    }
    spec.completion_mode
        .get_or_insert_with(|| "NonIndexed".into());
    spec.suspend.get_or_insert(false);
    spec.pod_replacement_policy
        .get_or_insert_with(|| "TerminatingOrFailed".into());
    default_template(spec.template.as_mut(), false);
}

fn default_pvc_spec(spec: &mut PersistentVolumeClaimSpec) {
    spec.volume_mode.get_or_insert_with(|| "Filesystem".into());
}

/// autoscaling/v2: an HPA without metrics scales on 80% CPU utilization.
fn default_cpu_metric() -> k8s::MetricSpec {
    k8s::MetricSpec {
        r#type: "Resource".into(),
        resource: Some(k8s::ResourceMetricSource {
            name: "cpu".into(),
            target: Some(k8s::MetricTarget {
                r#type: "Utilization".into(),
                average_utilization: Some(80),
                ..Default::default()
            }),
        }),
        ..Default::default()
    }
}

fn set_if_empty(field: &mut String, value: &str) {
    if field.is_empty() {
        *field = value.to_string();
    }
}

fn set_if_zero(field: &mut i32, value: i32) {
    if *field == 0 {
        *field = value;
    }
}

/// Adds the entries of `from` whose keys `into` lacks.
fn merge_missing(into: &mut BTreeMap<String, String>, from: &BTreeMap<String, String>) {
    for (k, v) in from {
        into.entry(k.clone()).or_insert_with(|| v.clone());
    }
}
