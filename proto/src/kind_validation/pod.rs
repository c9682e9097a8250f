//! Core API group, Pods: the pod spec, its containers, volumes, probes and tolerations
//! (`pkg/apis/core/validation`); workloads and jobs check their templates with it.

use super::Errors;
use super::rules::*;
use crate::k8s::{self, Container, EnvVar, PodSpec, Probe};
use crate::quantity::Quantity;
use crate::validation::FieldError;
use crate::validation::is_dns1123_label;
use std::collections::BTreeSet;

#[derive(Clone, Copy, PartialEq)]
pub(super) enum RestartRule {
    /// A bare pod: any of the three policies.
    Any,
    /// A workload's template: pods are always restarted.
    Always,
    /// A Job's template: the job controller, not the kubelet, replaces failed pods.
    Job,
}

pub(super) fn pod_spec(spec: &PodSpec, path: &str, restart: RestartRule, e: &mut Errors) {
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
pub(super) fn volumes(spec: &PodSpec, path: &str, e: &mut Errors) -> BTreeSet<String> {
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
        super::volumes::volume_source(v.volume_source.as_ref(), &p, e);
    }
    names
}

pub(super) fn container(
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

pub(super) fn env_var(env: &EnvVar, path: &str, e: &mut Errors) {
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

pub(super) fn resources(res: &k8s::ResourceRequirements, path: &str, e: &mut Errors) {
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

pub(super) fn probe_rules(p: &Probe, path: &str, success_must_be_one: bool, e: &mut Errors) {
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
pub(super) fn one_handler(path: &str, set: &[(&str, bool)], e: &mut Errors) {
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

pub(super) fn toleration(t: &k8s::Toleration, path: &str, e: &mut Errors) {
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
