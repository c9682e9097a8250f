//! Per-kind validation with Kubernetes' rules and wording (`pkg/apis/*/validation`), for
//! the fields users get wrong most. Metadata (names, labels, annotations) is checked by
//! [`crate::validation`]; this module checks everything under it. Fields that defaulting
//! fills (imagePullPolicy, dnsPolicy, ...) are checked only when set, so a manifest can be
//! validated before or after defaults.

use crate::k8s::{
    self, Container, EnvVar, JobSpec, LabelSelector, PersistentVolumeClaimSpec, PodSpec,
    PodTemplateSpec, Probe, object::Kind,
};
use crate::quantity::Quantity;
use crate::selector;
pub use crate::validation::FieldError;
use crate::validation::is_dns1123_label;
use std::collections::{BTreeMap, BTreeSet};

type Errors = Vec<FieldError>;

/// Every broken rule of the object's spec (and kind-level fields), with its path.
pub fn validate(object: &k8s::Object) -> Vec<FieldError> {
    let mut e = Errors::new();
    let Some(kind) = &object.kind else {
        e.push(FieldError::required("kind", ""));
        return e;
    };
    match kind {
        Kind::Pod(pod) => match &pod.spec {
            Some(spec) => pod_spec(spec, "spec", RestartRule::Any, &mut e),
            None => e.push(FieldError::required("spec", "")),
        },
        Kind::Service(svc) => match &svc.spec {
            Some(spec) => service_spec(spec, &mut e),
            None => e.push(FieldError::required("spec", "")),
        },
        Kind::ReplicaSet(rs) => {
            let spec = rs.spec.clone().unwrap_or_default();
            replicas(spec.replicas, &mut e);
            workload(
                "replicaset",
                spec.selector.as_ref(),
                spec.template.as_ref(),
                &mut e,
            );
        }
        Kind::Deployment(d) => deployment(&d.spec.clone().unwrap_or_default(), &mut e),
        Kind::DaemonSet(ds) => {
            let spec = ds.spec.clone().unwrap_or_default();
            workload(
                "daemonset",
                spec.selector.as_ref(),
                spec.template.as_ref(),
                &mut e,
            );
            if let Some(s) = &spec.update_strategy {
                supported(
                    "spec.updateStrategy.type",
                    &s.r#type,
                    &["OnDelete", "RollingUpdate"],
                    &mut e,
                );
                if let Some(ru) = &s.rolling_update {
                    rolling_update(
                        "spec.updateStrategy.rollingUpdate",
                        &ru.max_surge,
                        &ru.max_unavailable,
                        &mut e,
                    );
                }
            }
        }
        Kind::StatefulSet(sts) => stateful_set(&sts.spec.clone().unwrap_or_default(), &mut e),
        Kind::Job(job) => job_spec(&job.spec.clone().unwrap_or_default(), "spec", &mut e),
        Kind::CronJob(cj) => cron_job(&cj.spec.clone().unwrap_or_default(), &mut e),
        Kind::HorizontalPodAutoscaler(hpa) => {
            hpa_spec(&hpa.spec.clone().unwrap_or_default(), &mut e)
        }
        Kind::ConfigMap(cm) => {
            let binary: BTreeMap<String, usize> = cm
                .binary_data
                .iter()
                .map(|(k, v)| (k.clone(), v.len()))
                .collect();
            data_keys("data", cm.data.keys(), &mut e);
            data_keys("binaryData", binary.keys(), &mut e);
            for k in cm.data.keys().filter(|k| binary.contains_key(*k)) {
                e.push(FieldError::invalid(
                    format!("data[{k}]"),
                    k,
                    "duplicate of key present in binaryData",
                ));
            }
            let size: usize = cm
                .data
                .iter()
                .map(|(k, v)| k.len() + v.len())
                .sum::<usize>()
                + binary.values().sum::<usize>();
            if size > MAX_DATA_SIZE {
                e.push(FieldError::too_long("", MAX_DATA_SIZE));
            }
        }
        Kind::Secret(s) => {
            data_keys("data", s.data.keys(), &mut e);
            data_keys("stringData", s.string_data.keys(), &mut e);
            let size: usize = s.data.iter().map(|(k, v)| k.len() + v.len()).sum();
            if size > MAX_DATA_SIZE {
                e.push(FieldError::too_long("data", MAX_DATA_SIZE));
            }
            if s.r#type == "kubernetes.io/tls" {
                for key in ["tls.crt", "tls.key"] {
                    if !s.data.contains_key(key) && !s.string_data.contains_key(key) {
                        e.push(FieldError::required(format!("data[{key}]"), ""));
                    }
                }
            }
        }
        Kind::PersistentVolume(pv) => pv_spec(&pv.spec.clone().unwrap_or_default(), &mut e),
        Kind::PersistentVolumeClaim(pvc) => {
            pvc_spec(&pvc.spec.clone().unwrap_or_default(), "spec", &mut e)
        }
        Kind::Node(node) => {
            for (i, t) in node.spec.iter().flat_map(|s| s.taints.iter()).enumerate() {
                let p = format!("spec.taints[{i}]");
                if t.key.is_empty() {
                    e.push(FieldError::required(format!("{p}.key"), ""));
                }
                supported(&format!("{p}.effect"), &t.effect, TAINT_EFFECTS, &mut e);
            }
        }
        Kind::Endpoints(ep) => {
            for (i, subset) in ep.subsets.iter().enumerate() {
                let p = format!("subsets[{i}]");
                for (j, a) in subset.addresses.iter().enumerate() {
                    ip_address(&format!("{p}.addresses[{j}].ip"), &a.ip, &mut e);
                }
                for (j, a) in subset.not_ready_addresses.iter().enumerate() {
                    ip_address(&format!("{p}.notReadyAddresses[{j}].ip"), &a.ip, &mut e);
                }
                for (j, port) in subset.ports.iter().enumerate() {
                    port_number(&format!("{p}.ports[{j}].port"), port.port, &mut e);
                }
            }
        }
        Kind::ResourceQuota(q) => {
            if let Some(spec) = &q.spec {
                quantities("spec.hard", &spec.hard, &mut e);
            }
        }
        Kind::LimitRange(lr) => {
            for (i, item) in lr.spec.iter().flat_map(|s| s.limits.iter()).enumerate() {
                let p = format!("spec.limits[{i}]");
                supported(
                    &format!("{p}.type"),
                    &item.r#type,
                    &["Container", "PersistentVolumeClaim", "Pod"],
                    &mut e,
                );
                for (name, map) in [
                    ("max", &item.max),
                    ("min", &item.min),
                    ("default", &item.default),
                    ("defaultRequest", &item.default_request),
                    ("maxLimitRequestRatio", &item.max_limit_request_ratio),
                ] {
                    quantities(&format!("{p}.{name}"), map, &mut e);
                }
                for (res, min) in &item.min {
                    if let (Ok(lo), Some(Ok(hi))) = (
                        min.parse::<Quantity>(),
                        item.max.get(res).map(|m| m.parse::<Quantity>()),
                    ) && lo > hi
                    {
                        e.push(FieldError::invalid(
                            format!("{p}.min[{res}]"),
                            min,
                            format!(
                                "min value {min} is greater than max value {}",
                                item.max[res]
                            ),
                        ));
                    }
                }
            }
        }
        Kind::Ingress(ing) => ingress_spec(&ing.spec.clone().unwrap_or_default(), &mut e),
        Kind::Lease(lease) => {
            if let Some(d) = lease.spec.as_ref().and_then(|s| s.lease_duration_seconds)
                && d <= 0
            {
                e.push(FieldError::invalid(
                    "spec.leaseDurationSeconds",
                    d,
                    "must be greater than 0",
                ));
            }
        }
        Kind::Namespace(_) | Kind::ServiceAccount(_) | Kind::Event(_) => {}
    }
    e
}

const MAX_DATA_SIZE: usize = 1024 * 1024;
const PROTOCOLS: &[&str] = &["SCTP", "TCP", "UDP"];
const TAINT_EFFECTS: &[&str] = &["NoExecute", "NoSchedule", "PreferNoSchedule"];
const ACCESS_MODES: &[&str] = &[
    "ReadOnlyMany",
    "ReadWriteMany",
    "ReadWriteOnce",
    "ReadWriteOncePod",
];
const PORT_RANGE_MSG: &str = "must be between 1 and 65535, inclusive";

// ---------------------------------------------------------------------------------------
// Pods

#[derive(Clone, Copy, PartialEq)]
enum RestartRule {
    /// A bare pod: any of the three policies.
    Any,
    /// A workload's template: pods are always restarted.
    Always,
    /// A Job's template: the job controller, not the kubelet, replaces failed pods.
    Job,
}

fn pod_spec(spec: &PodSpec, path: &str, restart: RestartRule, e: &mut Errors) {
    let volumes = volumes(spec, path, e);
    if spec.containers.is_empty() {
        e.push(FieldError::required(format!("{path}.containers"), ""));
    }
    let mut names = BTreeSet::new();
    for (field, list) in [
        ("initContainers", &spec.init_containers),
        ("containers", &spec.containers),
    ] {
        for (i, c) in list.iter().enumerate() {
            container(c, &format!("{path}.{field}[{i}]"), &volumes, &mut names, e);
        }
    }
    let rp = format!("{path}.restartPolicy");
    match restart {
        RestartRule::Any => {
            if !spec.restart_policy.is_empty() {
                supported(
                    &rp,
                    &spec.restart_policy,
                    &["Always", "OnFailure", "Never"],
                    e,
                );
            }
        }
        RestartRule::Always => {
            if !spec.restart_policy.is_empty() {
                supported(&rp, &spec.restart_policy, &["Always"], e);
            }
        }
        RestartRule::Job => {
            if spec.restart_policy.is_empty() {
                e.push(FieldError::required(
                    rp,
                    "valid values: \"OnFailure\", \"Never\"",
                ));
            } else {
                supported(&rp, &spec.restart_policy, &["OnFailure", "Never"], e);
            }
        }
    }
    if !spec.dns_policy.is_empty() {
        supported(
            &format!("{path}.dnsPolicy"),
            &spec.dns_policy,
            &["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"],
            e,
        );
    }
    if let Some(t) = spec.termination_grace_period_seconds
        && t < 0
    {
        e.push(FieldError::invalid(
            format!("{path}.terminationGracePeriodSeconds"),
            t,
            "must be greater than or equal to 0",
        ));
    }
    if let Some(t) = spec.active_deadline_seconds
        && t < 1
    {
        e.push(FieldError::invalid(
            format!("{path}.activeDeadlineSeconds"),
            t,
            "must be between 1 and 2147483647, inclusive",
        ));
    }
    for (i, t) in spec.tolerations.iter().enumerate() {
        toleration(t, &format!("{path}.tolerations[{i}]"), e);
    }
    for (field, v) in [("hostname", &spec.hostname), ("subdomain", &spec.subdomain)] {
        if !v.is_empty() {
            for msg in is_dns1123_label(v) {
                e.push(FieldError::invalid(format!("{path}.{field}"), v, msg));
            }
        }
    }
    for (i, c) in spec.topology_spread_constraints.iter().enumerate() {
        let p = format!("{path}.topologySpreadConstraints[{i}]");
        if c.max_skew <= 0 {
            e.push(FieldError::invalid(
                format!("{p}.maxSkew"),
                c.max_skew,
                "must be greater than zero",
            ));
        }
        if c.topology_key.is_empty() {
            e.push(FieldError::required(
                format!("{p}.topologyKey"),
                "can not be empty",
            ));
        }
        supported(
            &format!("{p}.whenUnsatisfiable"),
            &c.when_unsatisfiable,
            &["DoNotSchedule", "ScheduleAnyway"],
            e,
        );
    }
}

/// Checks volumes and returns their names, for volume mounts to refer to.
fn volumes(spec: &PodSpec, path: &str, e: &mut Errors) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for (i, v) in spec.volumes.iter().enumerate() {
        let p = format!("{path}.volumes[{i}]");
        if v.name.is_empty() {
            e.push(FieldError::required(format!("{p}.name"), ""));
        } else {
            for msg in is_dns1123_label(&v.name) {
                e.push(FieldError::invalid(format!("{p}.name"), &v.name, msg));
            }
            if !names.insert(v.name.clone()) {
                e.push(FieldError::duplicate(format!("{p}.name"), &v.name));
            }
        }
        use k8s::volume::VolumeSource as S;
        match &v.volume_source {
            None => e.push(FieldError::required(p, "must specify a volume type")),
            Some(S::HostPath(h)) if h.path.is_empty() => {
                e.push(FieldError::required(format!("{p}.hostPath.path"), ""))
            }
            Some(S::PersistentVolumeClaim(c)) if c.claim_name.is_empty() => e.push(
                FieldError::required(format!("{p}.persistentVolumeClaim.claimName"), ""),
            ),
            Some(S::Secret(s)) if s.secret_name.is_empty() => {
                e.push(FieldError::required(format!("{p}.secret.secretName"), ""))
            }
            Some(S::ConfigMap(c)) if c.name.is_empty() => {
                e.push(FieldError::required(format!("{p}.configMap.name"), ""))
            }
            Some(S::EmptyDir(d)) => {
                if let Some(limit) = &d.size_limit {
                    quantity(&format!("{p}.emptyDir.sizeLimit"), limit, e);
                }
            }
            Some(_) => {}
        }
    }
    names
}

fn container(
    c: &Container,
    path: &str,
    volumes: &BTreeSet<String>,
    names: &mut BTreeSet<String>,
    e: &mut Errors,
) {
    if c.name.is_empty() {
        e.push(FieldError::required(format!("{path}.name"), ""));
    } else {
        for msg in is_dns1123_label(&c.name) {
            e.push(FieldError::invalid(format!("{path}.name"), &c.name, msg));
        }
        if !names.insert(c.name.clone()) {
            e.push(FieldError::duplicate(format!("{path}.name"), &c.name));
        }
    }
    if c.image.trim().is_empty() {
        e.push(FieldError::required(format!("{path}.image"), ""));
    }
    if !c.image_pull_policy.is_empty() {
        supported(
            &format!("{path}.imagePullPolicy"),
            &c.image_pull_policy,
            &["Always", "IfNotPresent", "Never"],
            e,
        );
    }
    if !c.termination_message_policy.is_empty() {
        supported(
            &format!("{path}.terminationMessagePolicy"),
            &c.termination_message_policy,
            &["File", "FallbackToLogsOnError"],
            e,
        );
    }
    let mut port_names = BTreeSet::new();
    for (i, port) in c.ports.iter().enumerate() {
        let p = format!("{path}.ports[{i}]");
        if !port.name.is_empty() {
            for msg in is_iana_svc_name(&port.name) {
                e.push(FieldError::invalid(format!("{p}.name"), &port.name, msg));
            }
            if !port_names.insert(port.name.as_str()) {
                e.push(FieldError::duplicate(format!("{p}.name"), &port.name));
            }
        }
        if port.container_port == 0 {
            e.push(FieldError::required(format!("{p}.containerPort"), ""));
        } else {
            port_number(&format!("{p}.containerPort"), port.container_port, e);
        }
        if port.host_port != 0 {
            port_number(&format!("{p}.hostPort"), port.host_port, e);
        }
        if !port.protocol.is_empty() {
            supported(&format!("{p}.protocol"), &port.protocol, PROTOCOLS, e);
        }
    }
    for (i, env) in c.env.iter().enumerate() {
        env_var(env, &format!("{path}.env[{i}]"), e);
    }
    for (i, from) in c.env_from.iter().enumerate() {
        let p = format!("{path}.envFrom[{i}]");
        let sources = from.config_map_ref.is_some() as u8 + from.secret_ref.is_some() as u8;
        if sources == 0 {
            e.push(FieldError::invalid(
                p.clone(),
                "",
                "must specify one of: `configMapRef` or `secretRef`",
            ));
        } else if sources > 1 {
            e.push(FieldError::invalid(
                p.clone(),
                "",
                "may not have more than one field specified at a time",
            ));
        }
        if !from.prefix.is_empty() {
            for msg in is_env_var_name(&from.prefix) {
                e.push(FieldError::invalid(
                    format!("{p}.prefix"),
                    &from.prefix,
                    msg,
                ));
            }
        }
    }
    if let Some(res) = &c.resources {
        resources(res, &format!("{path}.resources"), e);
    }
    let mut mount_paths = BTreeSet::new();
    for (i, m) in c.volume_mounts.iter().enumerate() {
        let p = format!("{path}.volumeMounts[{i}]");
        if m.name.is_empty() {
            e.push(FieldError::required(format!("{p}.name"), ""));
        } else if !volumes.contains(&m.name) {
            e.push(FieldError::new(
                format!("{p}.name"),
                format!("Not found: {:?}", m.name),
            ));
        }
        if m.mount_path.is_empty() {
            e.push(FieldError::required(format!("{p}.mountPath"), ""));
        } else if !mount_paths.insert(m.mount_path.as_str()) {
            e.push(FieldError::invalid(
                format!("{p}.mountPath"),
                &m.mount_path,
                "must be unique",
            ));
        }
        if m.sub_path.starts_with('/') || m.sub_path.split('/').any(|s| s == "..") {
            e.push(FieldError::invalid(
                format!("{p}.subPath"),
                &m.sub_path,
                "must be a relative path without '..'",
            ));
        }
    }
    for (name, probe) in [
        ("livenessProbe", &c.liveness_probe),
        ("readinessProbe", &c.readiness_probe),
        ("startupProbe", &c.startup_probe),
    ] {
        if let Some(probe) = probe {
            probe_rules(
                probe,
                &format!("{path}.{name}"),
                name != "readinessProbe",
                e,
            );
        }
    }
    if let Some(lc) = &c.lifecycle {
        for (name, h) in [("postStart", &lc.post_start), ("preStop", &lc.pre_stop)] {
            if let Some(h) = h {
                let set = [
                    ("exec", h.exec.is_some()),
                    ("httpGet", h.http_get.is_some()),
                    ("tcpSocket", h.tcp_socket.is_some()),
                    ("sleep", h.sleep.is_some()),
                ];
                one_handler(&format!("{path}.lifecycle.{name}"), &set, e);
            }
        }
    }
}

fn env_var(env: &EnvVar, path: &str, e: &mut Errors) {
    if env.name.is_empty() {
        e.push(FieldError::required(format!("{path}.name"), ""));
    } else {
        for msg in is_env_var_name(&env.name) {
            e.push(FieldError::invalid(format!("{path}.name"), &env.name, msg));
        }
    }
    let Some(from) = &env.value_from else { return };
    let p = format!("{path}.valueFrom");
    if !env.value.is_empty() {
        e.push(FieldError::invalid(
            p.clone(),
            "",
            "may not be specified when `value` is not empty",
        ));
    }
    let n = from.field_ref.is_some() as u8
        + from.resource_field_ref.is_some() as u8
        + from.config_map_key_ref.is_some() as u8
        + from.secret_key_ref.is_some() as u8;
    if n == 0 {
        e.push(FieldError::invalid(
            p.clone(),
            "",
            "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`",
        ));
    } else if n > 1 {
        e.push(FieldError::invalid(
            p.clone(),
            "",
            "may not have more than one field specified at a time",
        ));
    }
    if let Some(r) = &from.config_map_key_ref
        && r.key.is_empty()
    {
        e.push(FieldError::required(format!("{p}.configMapKeyRef.key"), ""));
    }
    if let Some(r) = &from.secret_key_ref
        && r.key.is_empty()
    {
        e.push(FieldError::required(format!("{p}.secretKeyRef.key"), ""));
    }
    if let Some(r) = &from.field_ref
        && r.field_path.is_empty()
    {
        e.push(FieldError::required(format!("{p}.fieldRef.fieldPath"), ""));
    }
}

fn resources(res: &k8s::ResourceRequirements, path: &str, e: &mut Errors) {
    quantities(&format!("{path}.limits"), &res.limits, e);
    quantities(&format!("{path}.requests"), &res.requests, e);
    for (name, request) in &res.requests {
        let (Ok(req), Some(Ok(lim))) = (
            request.parse::<Quantity>(),
            res.limits.get(name).map(|l| l.parse::<Quantity>()),
        ) else {
            continue;
        };
        if req > lim {
            e.push(FieldError::invalid(
                format!("{path}.requests[{name}]"),
                request,
                format!(
                    "must be less than or equal to {name} limit of {}",
                    res.limits[name]
                ),
            ));
        }
    }
}

fn probe_rules(p: &Probe, path: &str, success_must_be_one: bool, e: &mut Errors) {
    let set = [
        ("exec", p.exec.is_some()),
        ("httpGet", p.http_get.is_some()),
        ("tcpSocket", p.tcp_socket.is_some()),
        ("grpc", p.grpc.is_some()),
    ];
    one_handler(path, &set, e);
    for (field, v) in [
        ("initialDelaySeconds", p.initial_delay_seconds),
        ("timeoutSeconds", p.timeout_seconds),
        ("periodSeconds", p.period_seconds),
        ("successThreshold", p.success_threshold),
        ("failureThreshold", p.failure_threshold),
    ] {
        if v < 0 {
            e.push(FieldError::invalid(
                format!("{path}.{field}"),
                v,
                "must be greater than or equal to 0",
            ));
        }
    }
    if success_must_be_one && p.success_threshold > 1 {
        e.push(FieldError::invalid(
            format!("{path}.successThreshold"),
            p.success_threshold,
            "must be 1",
        ));
    }
    if let Some(get) = &p.http_get {
        int_or_port_name(&format!("{path}.httpGet.port"), &get.port, e);
        if !get.scheme.is_empty() {
            supported(
                &format!("{path}.httpGet.scheme"),
                &get.scheme,
                &["HTTP", "HTTPS"],
                e,
            );
        }
    }
    if let Some(tcp) = &p.tcp_socket {
        int_or_port_name(&format!("{path}.tcpSocket.port"), &tcp.port, e);
    }
    if let Some(g) = &p.grpc {
        port_number(&format!("{path}.grpc.port"), g.port, e);
    }
}

/// Exactly one handler: none is "Required", a second one is "Forbidden" at its own path.
fn one_handler(path: &str, set: &[(&str, bool)], e: &mut Errors) {
    let mut seen = false;
    for (name, present) in set {
        if *present {
            if seen {
                e.push(FieldError::forbidden(
                    format!("{path}.{name}"),
                    "may not specify more than 1 handler type",
                ));
            }
            seen = true;
        }
    }
    if !seen {
        e.push(FieldError::required(path, "must specify a handler type"));
    }
}

fn toleration(t: &k8s::Toleration, path: &str, e: &mut Errors) {
    match t.operator.as_str() {
        "" | "Equal" => {
            if t.key.is_empty() {
                e.push(FieldError::invalid(
                    format!("{path}.operator"),
                    &t.operator,
                    "operator must be Exists when `key` is empty, which means \"match all values and all keys\"",
                ));
            }
        }
        "Exists" => {
            if !t.value.is_empty() {
                e.push(FieldError::invalid(
                    format!("{path}.operator"),
                    &t.value,
                    "value must be empty when `operator` is 'Exists'",
                ));
            }
        }
        other => e.push(FieldError::not_supported(
            format!("{path}.operator"),
            other,
            &["Equal", "Exists"],
        )),
    }
    if !t.effect.is_empty() {
        supported(&format!("{path}.effect"), &t.effect, TAINT_EFFECTS, e);
    }
    if t.toleration_seconds.is_some() && t.effect != "NoExecute" {
        e.push(FieldError::invalid(
            format!("{path}.effect"),
            &t.effect,
            "effect must be 'NoExecute' when `tolerationSeconds` is set",
        ));
    }
}

// ---------------------------------------------------------------------------------------
// Workloads

fn replicas(r: Option<i32>, e: &mut Errors) {
    if let Some(r) = r
        && r < 0
    {
        e.push(FieldError::invalid(
            "spec.replicas",
            r,
            "must be greater than or equal to 0",
        ));
    }
}

/// Selector present, non-empty, and matching the template's labels; template valid with
/// restartPolicy Always.
fn workload(
    kind: &str,
    selector: Option<&LabelSelector>,
    template: Option<&PodTemplateSpec>,
    e: &mut Errors,
) {
    match selector {
        None => e.push(FieldError::required("spec.selector", "")),
        Some(s) if s.match_labels.is_empty() && s.match_expressions.is_empty() => {
            e.push(FieldError::invalid(
                "spec.selector",
                "",
                format!("empty selector is invalid for {kind}"),
            ))
        }
        Some(s) => selector_matches_template(s, template, "spec", e),
    }
    template_spec(template, "spec.template", RestartRule::Always, e);
}

fn selector_matches_template(
    s: &LabelSelector,
    template: Option<&PodTemplateSpec>,
    path: &str,
    e: &mut Errors,
) {
    match selector::LabelSelector::from_proto(s) {
        Err(err) => e.push(FieldError::invalid(
            format!("{path}.selector"),
            "",
            err.to_string(),
        )),
        Ok(sel) => {
            let empty = BTreeMap::new();
            let labels = template
                .and_then(|t| t.metadata.as_ref())
                .map(|m| &m.labels)
                .unwrap_or(&empty);
            if !sel.matches(labels) {
                e.push(FieldError::new(
                    format!("{path}.template.metadata.labels"),
                    format!(
                        "Invalid value: {}: `selector` does not match template `labels`",
                        go_map(labels)
                    ),
                ));
            }
        }
    }
}

fn template_spec(
    template: Option<&PodTemplateSpec>,
    path: &str,
    restart: RestartRule,
    e: &mut Errors,
) {
    match template.and_then(|t| t.spec.as_ref()) {
        Some(spec) => pod_spec(spec, &format!("{path}.spec"), restart, e),
        None => e.push(FieldError::required(format!("{path}.spec.containers"), "")),
    }
}

fn deployment(spec: &k8s::DeploymentSpec, e: &mut Errors) {
    replicas(spec.replicas, e);
    workload(
        "deployment",
        spec.selector.as_ref(),
        spec.template.as_ref(),
        e,
    );
    if let Some(s) = &spec.strategy {
        if !s.r#type.is_empty() {
            supported(
                "spec.strategy.type",
                &s.r#type,
                &["Recreate", "RollingUpdate"],
                e,
            );
        }
        match (&s.rolling_update, s.r#type.as_str()) {
            (Some(_), "Recreate") => e.push(FieldError::forbidden(
                "spec.strategy.rollingUpdate",
                "may not be specified when strategy `type` is 'Recreate'",
            )),
            (Some(ru), _) => rolling_update(
                "spec.strategy.rollingUpdate",
                &ru.max_surge,
                &ru.max_unavailable,
                e,
            ),
            (None, _) => {}
        }
    }
    non_negative("spec.revisionHistoryLimit", spec.revision_history_limit, e);
    non_negative("spec.minReadySeconds", Some(spec.min_ready_seconds), e);
    if let Some(p) = spec.progress_deadline_seconds
        && p <= spec.min_ready_seconds
    {
        e.push(FieldError::invalid(
            "spec.progressDeadlineSeconds",
            p,
            "must be greater than minReadySeconds",
        ));
    }
}

/// maxSurge and maxUnavailable: counts or percentages, not both zero.
fn rolling_update(path: &str, max_surge: &str, max_unavailable: &str, e: &mut Errors) {
    let surge = int_or_percent(&format!("{path}.maxSurge"), max_surge, e);
    let unavailable = int_or_percent(&format!("{path}.maxUnavailable"), max_unavailable, e);
    if let Some((n, true)) = unavailable
        && n > 100
    {
        e.push(FieldError::invalid(
            format!("{path}.maxUnavailable"),
            max_unavailable,
            "must not be greater than 100%",
        ));
    }
    if matches!(surge, Some((0, _))) && matches!(unavailable, Some((0, _))) {
        e.push(FieldError::new(
            format!("{path}.maxUnavailable"),
            "Invalid value: 0: may not be 0 when `maxSurge` is 0",
        ));
    }
}

/// Parses an int-or-percent ("" counts as unset); returns (value, is_percent).
fn int_or_percent(path: &str, v: &str, e: &mut Errors) -> Option<(i64, bool)> {
    if v.is_empty() {
        return None;
    }
    let (digits, percent) = match v.strip_suffix('%') {
        Some(d) => (d, true),
        None => (v, false),
    };
    match digits.parse::<i64>() {
        Ok(n) if n >= 0 && (percent || !digits.starts_with('+')) => Some((n, percent)),
        Ok(n) if n < 0 => {
            e.push(FieldError::invalid(
                path,
                v,
                "must be greater than or equal to 0",
            ));
            None
        }
        _ => {
            e.push(FieldError::invalid(
                path,
                v,
                "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%', or '93%', regex used for validation is '[0-9]+%')",
            ));
            None
        }
    }
}

fn stateful_set(spec: &k8s::StatefulSetSpec, e: &mut Errors) {
    replicas(spec.replicas, e);
    // Containers mount the claims made from volumeClaimTemplates as volumes of that name.
    let mut template = spec.template.clone();
    if let Some(pod) = template.as_mut().and_then(|t| t.spec.as_mut()) {
        for pvc in &spec.volume_claim_templates {
            let name = pvc
                .metadata
                .as_ref()
                .map(|m| m.name.clone())
                .unwrap_or_default();
            pod.volumes.push(k8s::Volume {
                name: name.clone(),
                volume_source: Some(k8s::volume::VolumeSource::PersistentVolumeClaim(
                    k8s::PersistentVolumeClaimVolumeSource {
                        claim_name: name,
                        read_only: false,
                    },
                )),
            });
        }
    }
    workload("statefulset", spec.selector.as_ref(), template.as_ref(), e);
    if !spec.pod_management_policy.is_empty() {
        supported(
            "spec.podManagementPolicy",
            &spec.pod_management_policy,
            &["OrderedReady", "Parallel"],
            e,
        );
    }
    if let Some(s) = &spec.update_strategy
        && !s.r#type.is_empty()
    {
        supported(
            "spec.updateStrategy.type",
            &s.r#type,
            &["OnDelete", "RollingUpdate"],
            e,
        );
        if let Some(p) = s.rolling_update.as_ref().and_then(|r| r.partition) {
            non_negative("spec.updateStrategy.rollingUpdate.partition", Some(p), e);
        }
    }
    for (i, pvc) in spec.volume_claim_templates.iter().enumerate() {
        let p = format!("spec.volumeClaimTemplates[{i}]");
        if pvc.metadata.as_ref().is_none_or(|m| m.name.is_empty()) {
            e.push(FieldError::required(format!("{p}.metadata.name"), ""));
        }
        pvc_spec(
            &pvc.spec.clone().unwrap_or_default(),
            &format!("{p}.spec"),
            e,
        );
    }
}

fn job_spec(spec: &JobSpec, path: &str, e: &mut Errors) {
    for (field, v) in [
        ("parallelism", spec.parallelism),
        ("completions", spec.completions),
        ("backoffLimit", spec.backoff_limit),
        ("ttlSecondsAfterFinished", spec.ttl_seconds_after_finished),
    ] {
        non_negative(&format!("{path}.{field}"), v, e);
    }
    if let Some(d) = spec.active_deadline_seconds
        && d <= 0
    {
        e.push(FieldError::invalid(
            format!("{path}.activeDeadlineSeconds"),
            d,
            "must be greater than 0",
        ));
    }
    if let Some(mode) = &spec.completion_mode {
        supported(
            &format!("{path}.completionMode"),
            mode,
            &["NonIndexed", "Indexed"],
            e,
        );
        if mode == "Indexed" && spec.completions.is_none() {
            e.push(FieldError::required(
                format!("{path}.completions"),
                "when completion mode is Indexed",
            ));
        }
    }
    // Without a selector the server generates one from the job's uid.
    if let Some(s) = &spec.selector {
        if s.match_labels.is_empty() && s.match_expressions.is_empty() {
            e.push(FieldError::invalid(
                format!("{path}.selector"),
                "",
                "empty selector is invalid for job",
            ));
        } else {
            selector_matches_template(s, spec.template.as_ref(), path, e);
        }
    }
    template_spec(
        spec.template.as_ref(),
        &format!("{path}.template"),
        RestartRule::Job,
        e,
    );
}

fn cron_job(spec: &k8s::CronJobSpec, e: &mut Errors) {
    if spec.schedule.is_empty() {
        e.push(FieldError::required("spec.schedule", ""));
    } else if let Err(msg) = check_cron_schedule(&spec.schedule) {
        e.push(FieldError::invalid(
            "spec.schedule",
            &spec.schedule,
            format!("unparseable schedule: {msg}"),
        ));
    }
    if !spec.concurrency_policy.is_empty() {
        supported(
            "spec.concurrencyPolicy",
            &spec.concurrency_policy,
            &["Allow", "Forbid", "Replace"],
            e,
        );
    }
    for (field, v) in [
        ("startingDeadlineSeconds", spec.starting_deadline_seconds),
        (
            "successfulJobsHistoryLimit",
            spec.successful_jobs_history_limit,
        ),
        ("failedJobsHistoryLimit", spec.failed_jobs_history_limit),
    ] {
        non_negative(&format!("spec.{field}"), v, e);
    }
    match spec.job_template.as_ref().and_then(|t| t.spec.as_ref()) {
        Some(job) => job_spec(job, "spec.jobTemplate.spec", e),
        None => e.push(FieldError::required(
            "spec.jobTemplate.spec.template.spec.containers",
            "",
        )),
    }
}

/// A light check of the standard five-field cron syntax (and the `@hourly` macros):
/// field count, allowed characters and numeric ranges; the CronJob controller parses it
/// fully when it schedules.
pub fn check_cron_schedule(schedule: &str) -> Result<(), String> {
    let s = schedule.trim();
    if s.starts_with("TZ=") || s.starts_with("CRON_TZ=") {
        return Err("use spec.timeZone instead of TZ in the schedule".into());
    }
    if let Some(m) = s.strip_prefix('@') {
        return match m {
            "yearly" | "annually" | "monthly" | "weekly" | "daily" | "midnight" | "hourly" => {
                Ok(())
            }
            _ => Err(format!("unrecognized descriptor: {s}")),
        };
    }
    let fields: Vec<&str> = s.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(format!(
            "expected exactly 5 fields, found {}: {s}",
            fields.len()
        ));
    }
    const RANGES: [(&str, u32, u32); 5] = [
        ("minute", 0, 59),
        ("hour", 0, 23),
        ("day of month", 1, 31),
        ("month", 1, 12),
        ("day of week", 0, 7),
    ];
    for (field, (name, lo, hi)) in fields.iter().zip(RANGES) {
        for part in field.split(',') {
            let (range, step) = match part.split_once('/') {
                Some((r, st)) => (r, Some(st)),
                None => (part, None),
            };
            if let Some(st) = step
                && st.parse::<u32>().map_or(true, |n| n == 0)
            {
                return Err(format!("invalid step in {name} field: {part}"));
            }
            if range == "*" || range == "?" {
                continue;
            }
            for bound in range.split('-') {
                let ok = match bound.parse::<u32>() {
                    Ok(n) => (lo..=hi).contains(&n),
                    // Month and weekday names (JAN, mon).
                    Err(_) => {
                        (name == "month" || name == "day of week")
                            && bound.len() == 3
                            && bound.chars().all(|c| c.is_ascii_alphabetic())
                    }
                };
                if !ok {
                    return Err(format!("{name} field out of range or malformed: {part}"));
                }
            }
        }
    }
    Ok(())
}

fn hpa_spec(spec: &k8s::HorizontalPodAutoscalerSpec, e: &mut Errors) {
    let min = spec.min_replicas.unwrap_or(1);
    if min < 1 {
        e.push(FieldError::invalid(
            "spec.minReplicas",
            min,
            "must be greater than or equal to 1",
        ));
    }
    if spec.max_replicas < 1 {
        e.push(FieldError::invalid(
            "spec.maxReplicas",
            spec.max_replicas,
            "must be greater than 0",
        ));
    } else if spec.max_replicas < min {
        e.push(FieldError::invalid(
            "spec.maxReplicas",
            spec.max_replicas,
            "must be greater than or equal to `minReplicas`",
        ));
    }
    match &spec.scale_target_ref {
        None => e.push(FieldError::required("spec.scaleTargetRef", "")),
        Some(r) => {
            if r.kind.is_empty() {
                e.push(FieldError::required("spec.scaleTargetRef.kind", ""));
            }
            if r.name.is_empty() {
                e.push(FieldError::required("spec.scaleTargetRef.name", ""));
            }
        }
    }
    for (i, m) in spec.metrics.iter().enumerate() {
        let p = format!("spec.metrics[{i}]");
        supported(
            &format!("{p}.type"),
            &m.r#type,
            &[
                "ContainerResource",
                "External",
                "Object",
                "Pods",
                "Resource",
            ],
            e,
        );
        if m.r#type == "Resource" {
            match &m.resource {
                None => e.push(FieldError::required(
                    format!("{p}.resource"),
                    "must populate information for the given metric source",
                )),
                Some(r) => {
                    if r.name.is_empty() {
                        e.push(FieldError::required(
                            format!("{p}.resource.name"),
                            "must specify a resource name",
                        ));
                    }
                    match &r.target {
                        None => e.push(FieldError::required(format!("{p}.resource.target"), "")),
                        Some(t) => {
                            supported(
                                &format!("{p}.resource.target.type"),
                                &t.r#type,
                                &["AverageValue", "Utilization", "Value"],
                                e,
                            );
                            if let Some(u) = t.average_utilization
                                && u <= 0
                            {
                                e.push(FieldError::invalid(
                                    format!("{p}.resource.target.averageUtilization"),
                                    u,
                                    "must be greater than 0",
                                ));
                            }
                            if !t.average_value.is_empty() {
                                quantity(
                                    &format!("{p}.resource.target.averageValue"),
                                    &t.average_value,
                                    e,
                                );
                            }
                        }
                    }
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Services, storage, ingress

fn service_spec(spec: &k8s::ServiceSpec, e: &mut Errors) {
    let ty = if spec.r#type.is_empty() {
        "ClusterIP"
    } else {
        spec.r#type.as_str()
    };
    supported(
        "spec.type",
        ty,
        &["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"],
        e,
    );
    if !spec.session_affinity.is_empty() {
        supported(
            "spec.sessionAffinity",
            &spec.session_affinity,
            &["ClientIP", "None"],
            e,
        );
    }
    let headless = spec.cluster_ip == "None";
    if ty == "ExternalName" {
        if spec.external_name.is_empty() {
            e.push(FieldError::required("spec.externalName", ""));
        }
    } else if spec.ports.is_empty() && !headless {
        e.push(FieldError::required("spec.ports", ""));
    }
    let mut names = BTreeSet::new();
    let many = spec.ports.len() > 1;
    for (i, port) in spec.ports.iter().enumerate() {
        let p = format!("spec.ports[{i}]");
        if port.name.is_empty() {
            if many {
                e.push(FieldError::required(format!("{p}.name"), ""));
            }
        } else {
            for msg in is_dns1123_label(&port.name) {
                e.push(FieldError::invalid(format!("{p}.name"), &port.name, msg));
            }
            if !names.insert(port.name.as_str()) {
                e.push(FieldError::duplicate(format!("{p}.name"), &port.name));
            }
        }
        port_number(&format!("{p}.port"), port.port, e);
        if !port.protocol.is_empty() {
            supported(&format!("{p}.protocol"), &port.protocol, PROTOCOLS, e);
        }
        if !port.target_port.is_empty() {
            int_or_port_name(&format!("{p}.targetPort"), &port.target_port, e);
        }
        if port.node_port != 0 {
            if ty == "ClusterIP" || ty == "ExternalName" {
                e.push(FieldError::forbidden(
                    format!("{p}.nodePort"),
                    format!("may not be used when `type` is '{ty}'"),
                ));
            } else if !(1..=65535).contains(&port.node_port) {
                // The configured range (--node-port-range) is the apiserver's allocator's to
                // check; here only what no range could allow.
                e.push(FieldError::invalid(
                    format!("{p}.nodePort"),
                    port.node_port,
                    "must be between 1 and 65535, inclusive",
                ));
            }
        }
    }
}

fn pv_spec(spec: &k8s::PersistentVolumeSpec, e: &mut Errors) {
    if spec.capacity.is_empty() {
        e.push(FieldError::required("spec.capacity", ""));
    } else if !spec.capacity.contains_key("storage") {
        e.push(FieldError::required("spec.capacity[storage]", ""));
    }
    quantities("spec.capacity", &spec.capacity, e);
    if spec.access_modes.is_empty() {
        e.push(FieldError::required("spec.accessModes", ""));
    }
    for (i, m) in spec.access_modes.iter().enumerate() {
        supported(&format!("spec.accessModes[{i}]"), m, ACCESS_MODES, e);
    }
    if !spec.persistent_volume_reclaim_policy.is_empty() {
        supported(
            "spec.persistentVolumeReclaimPolicy",
            &spec.persistent_volume_reclaim_policy,
            &["Delete", "Recycle", "Retain"],
            e,
        );
    }
    let sources = [
        ("hostPath", spec.host_path.is_some()),
        ("nfs", spec.nfs.is_some()),
        ("local", spec.local.is_some()),
    ];
    let mut seen = false;
    for (name, present) in sources {
        if present {
            if seen {
                e.push(FieldError::forbidden(
                    format!("spec.{name}"),
                    "may not specify more than 1 volume type",
                ));
            }
            seen = true;
        }
    }
    if !seen {
        e.push(FieldError::required("spec", "must specify a volume type"));
    }
    if let Some(h) = &spec.host_path
        && h.path.is_empty()
    {
        e.push(FieldError::required("spec.hostPath.path", ""));
    }
}

fn pvc_spec(spec: &PersistentVolumeClaimSpec, path: &str, e: &mut Errors) {
    if spec.access_modes.is_empty() {
        e.push(FieldError::required(
            format!("{path}.accessModes"),
            "at least 1 access mode is required",
        ));
    }
    for (i, m) in spec.access_modes.iter().enumerate() {
        supported(&format!("{path}.accessModes[{i}]"), m, ACCESS_MODES, e);
    }
    let requests = spec.resources.as_ref().map(|r| &r.requests);
    match requests.and_then(|r| r.get("storage")) {
        None => e.push(FieldError::required(
            format!("{path}.resources[storage]"),
            "",
        )),
        Some(q) => {
            quantity(&format!("{path}.resources.requests[storage]"), q, e);
            if q.parse::<Quantity>()
                .is_ok_and(|q| q <= Quantity::default())
            {
                e.push(FieldError::invalid(
                    format!("{path}.resources.requests[storage]"),
                    q,
                    "must be greater than zero",
                ));
            }
        }
    }
    if let Some(mode) = &spec.volume_mode {
        supported(
            &format!("{path}.volumeMode"),
            mode,
            &["Block", "Filesystem"],
            e,
        );
    }
}

fn ingress_spec(spec: &k8s::IngressSpec, e: &mut Errors) {
    if spec.default_backend.is_none() && spec.rules.is_empty() {
        e.push(FieldError::invalid(
            "spec",
            "",
            "either `defaultBackend` or `rules` must be specified",
        ));
    }
    if let Some(b) = &spec.default_backend {
        ingress_backend(b, "spec.defaultBackend", e);
    }
    for (i, rule) in spec.rules.iter().enumerate() {
        let Some(http) = &rule.http else { continue };
        for (j, path) in http.paths.iter().enumerate() {
            let p = format!("spec.rules[{i}].http.paths[{j}]");
            if path.path_type.is_empty() {
                e.push(FieldError::required(
                    format!("{p}.pathType"),
                    "pathType must be specified",
                ));
            } else {
                supported(
                    &format!("{p}.pathType"),
                    &path.path_type,
                    &["Exact", "ImplementationSpecific", "Prefix"],
                    e,
                );
            }
            if path.path_type != "ImplementationSpecific" && !path.path.starts_with('/') {
                e.push(FieldError::invalid(
                    format!("{p}.path"),
                    &path.path,
                    "must be an absolute path",
                ));
            }
            match &path.backend {
                Some(b) => ingress_backend(b, &format!("{p}.backend"), e),
                None => e.push(FieldError::required(format!("{p}.backend"), "")),
            }
        }
    }
}

fn ingress_backend(b: &k8s::IngressBackend, path: &str, e: &mut Errors) {
    match (&b.service, &b.resource) {
        (Some(_), Some(_)) => e.push(FieldError::invalid(
            path,
            "",
            "cannot set both resource and service backends",
        )),
        (None, None) => e.push(FieldError::invalid(
            path,
            "",
            "resource or service backend is required",
        )),
        (Some(svc), None) => {
            if svc.name.is_empty() {
                e.push(FieldError::required(format!("{path}.service.name"), ""));
            }
            match &svc.port {
                None => e.push(FieldError::required(format!("{path}.service.port"), "")),
                Some(port) => match (port.name.is_empty(), port.number) {
                    (true, 0) => e.push(FieldError::required(
                        format!("{path}.service.port"),
                        "port name or number is required",
                    )),
                    (false, n) if n != 0 => e.push(FieldError::invalid(
                        format!("{path}.service.port"),
                        "",
                        "cannot set both port name & port number",
                    )),
                    (true, n) => port_number(&format!("{path}.service.port.number"), n, e),
                    (false, _) => {
                        for msg in is_iana_svc_name(&port.name) {
                            e.push(FieldError::invalid(
                                format!("{path}.service.port.name"),
                                &port.name,
                                msg,
                            ));
                        }
                    }
                },
            }
        }
        (None, Some(_)) => {}
    }
}

// ---------------------------------------------------------------------------------------
// Value rules shared by the kinds

fn supported(path: &str, value: &str, allowed: &[&str], e: &mut Errors) {
    if value.is_empty() {
        e.push(FieldError::required(path, ""));
    } else if !allowed.contains(&value) {
        e.push(FieldError::not_supported(path, value, allowed));
    }
}

fn non_negative(path: &str, v: Option<i32>, e: &mut Errors) {
    if let Some(v) = v
        && v < 0
    {
        e.push(FieldError::invalid(
            path,
            v,
            "must be greater than or equal to 0",
        ));
    }
}

fn port_number(path: &str, port: i32, e: &mut Errors) {
    if !(1..=65535).contains(&port) {
        e.push(FieldError::invalid(path, port, PORT_RANGE_MSG));
    }
}

/// A port given as a number (1-65535) or as a container port name (IANA_SVC_NAME).
fn int_or_port_name(path: &str, v: &str, e: &mut Errors) {
    if v.is_empty() {
        e.push(FieldError::required(path, ""));
        return;
    }
    match v.parse::<i64>() {
        Ok(n) if (1..=65535).contains(&n) => {}
        Ok(n) => e.push(FieldError::invalid(path, n, PORT_RANGE_MSG)),
        Err(_) => {
            for msg in is_iana_svc_name(v) {
                e.push(FieldError::invalid(path, v, msg));
            }
        }
    }
}

fn ip_address(path: &str, ip: &str, e: &mut Errors) {
    if ip.parse::<std::net::IpAddr>().is_err() {
        e.push(FieldError::invalid(
            path,
            ip,
            "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
        ));
    }
}

fn quantity(path: &str, v: &str, e: &mut Errors) {
    match v.parse::<Quantity>() {
        Err(_) => e.push(FieldError::invalid(
            path,
            v,
            "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
        )),
        Ok(q) if q < Quantity::default() => {
            e.push(FieldError::invalid(path, v, "must be greater than or equal to 0"))
        }
        Ok(_) => {}
    }
}

fn quantities(path: &str, map: &BTreeMap<String, String>, e: &mut Errors) {
    for (name, v) in map {
        quantity(&format!("{path}[{name}]"), v, e);
    }
}

fn data_keys<'a>(path: &str, keys: impl Iterator<Item = &'a String>, e: &mut Errors) {
    for k in keys {
        for msg in is_config_map_key(k) {
            e.push(FieldError::invalid(format!("{path}[{k}]"), k, msg));
        }
    }
}

/// Go's `%#v` of a label map, as Kubernetes prints it in this message.
fn go_map(labels: &BTreeMap<String, String>) -> String {
    let body: Vec<String> = labels.iter().map(|(k, v)| format!("{k:?}:{v:?}")).collect();
    format!("map[string]string{{{}}}", body.join(", "))
}

// The string rules below are not in `validation.rs` (which covers metadata): Kubernetes'
// IsValidPortName, IsEnvVarName and IsConfigMapKey, with its messages.

/// IANA_SVC_NAME: at most 15 characters, lowercase alphanumerics and '-', at least one
/// letter, no leading, trailing or double '-'.
pub fn is_iana_svc_name(v: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if v.len() > 15 {
        errs.push("must be no more than 15 characters".to_string());
    }
    if !v
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        errs.push("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)".into());
    }
    if v.contains("--") {
        errs.push("must not contain consecutive hyphens".into());
    }
    if !v.bytes().any(|b| b.is_ascii_alphabetic()) {
        errs.push("must contain at least one letter (a-z)".into());
    }
    if v.starts_with('-') || v.ends_with('-') {
        errs.push("must not begin or end with a hyphen".into());
    }
    errs
}

/// `[-._a-zA-Z][-._a-zA-Z0-9]*`.
pub fn is_env_var_name(v: &str) -> Vec<String> {
    let ok_char = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_');
    let valid = v
        .bytes()
        .next()
        .is_some_and(|b| !b.is_ascii_digit() && ok_char(b))
        && v.bytes().all(ok_char);
    let mut errs = Vec::new();
    if !valid {
        errs.push("a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit (e.g. 'my.env-name', or 'MY_ENV.NAME', or 'MyEnvName1', regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')".to_string());
    }
    if v == "." || v == ".." || v.starts_with("..") {
        errs.push("must not be '.' or '..' or start with '..'".into());
    }
    errs
}

/// `[-._a-zA-Z0-9]+`, at most 253 characters, not `.`/`..`.
pub fn is_config_map_key(v: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if v.len() > 253 {
        errs.push("must be no more than 253 characters".to_string());
    }
    if v.is_empty()
        || !v
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
    {
        errs.push("a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name', or 'KEY_NAME', or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')".into());
    }
    if v == "." || v == ".." || v.starts_with("..") {
        errs.push("must not be '.' or '..' or start with '..'".into());
    }
    errs
}
