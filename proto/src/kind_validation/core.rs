//! Core API group apart from Pods: Service, PersistentVolume(Claim), ConfigMap, Secret,
//! Node, Endpoints, ResourceQuota, LimitRange (`pkg/apis/core/validation`).

use super::Errors;
use super::rules::*;
use crate::k8s::{self, PersistentVolumeClaimSpec};
use crate::quantity::Quantity;
use crate::validation::FieldError;
use crate::validation::is_dns1123_label;
use std::collections::{BTreeMap, BTreeSet};

pub(super) fn service_spec(spec: &k8s::ServiceSpec, e: &mut Errors) {
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

pub(super) fn pv_spec(spec: &k8s::PersistentVolumeSpec, e: &mut Errors) {
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
    super::volumes::pv_sources(spec, e);
}

pub(super) fn pvc_spec(spec: &PersistentVolumeClaimSpec, path: &str, e: &mut Errors) {
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

pub(super) fn config_map(cm: &k8s::ConfigMap, e: &mut Errors) {
    let binary: BTreeMap<String, usize> = cm
        .binary_data
        .iter()
        .map(|(k, v)| (k.clone(), v.len()))
        .collect();
    data_keys("data", cm.data.keys(), e);
    data_keys("binaryData", binary.keys(), e);
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

pub(super) fn secret(s: &k8s::Secret, e: &mut Errors) {
    data_keys("data", s.data.keys(), e);
    data_keys("stringData", s.string_data.keys(), e);
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

pub(super) fn node(node: &k8s::Node, e: &mut Errors) {
    for (i, t) in node.spec.iter().flat_map(|s| s.taints.iter()).enumerate() {
        let p = format!("spec.taints[{i}]");
        if t.key.is_empty() {
            e.push(FieldError::required(format!("{p}.key"), ""));
        }
        supported(&format!("{p}.effect"), &t.effect, TAINT_EFFECTS, e);
    }
}

pub(super) fn endpoints(ep: &k8s::Endpoints, e: &mut Errors) {
    for (i, subset) in ep.subsets.iter().enumerate() {
        let p = format!("subsets[{i}]");
        for (j, a) in subset.addresses.iter().enumerate() {
            ip_address(&format!("{p}.addresses[{j}].ip"), &a.ip, e);
        }
        for (j, a) in subset.not_ready_addresses.iter().enumerate() {
            ip_address(&format!("{p}.notReadyAddresses[{j}].ip"), &a.ip, e);
        }
        for (j, port) in subset.ports.iter().enumerate() {
            port_number(&format!("{p}.ports[{j}].port"), port.port, e);
        }
    }
}

pub(super) fn resource_quota(q: &k8s::ResourceQuota, e: &mut Errors) {
    if let Some(spec) = &q.spec {
        quantities("spec.hard", &spec.hard, e);
    }
}

pub(super) fn limit_range(lr: &k8s::LimitRange, e: &mut Errors) {
    for (i, item) in lr.spec.iter().flat_map(|s| s.limits.iter()).enumerate() {
        let p = format!("spec.limits[{i}]");
        supported(
            &format!("{p}.type"),
            &item.r#type,
            &["Container", "PersistentVolumeClaim", "Pod"],
            e,
        );
        for (name, map) in [
            ("max", &item.max),
            ("min", &item.min),
            ("default", &item.default),
            ("defaultRequest", &item.default_request),
            ("maxLimitRequestRatio", &item.max_limit_request_ratio),
        ] {
            quantities(&format!("{p}.{name}"), map, e);
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
