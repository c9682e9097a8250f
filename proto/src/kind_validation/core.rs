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

/// Kubernetes' ValidateLimitRange: standard or qualified types, each once; no defaults on
/// Pod items; a claim item bounds storage; per resource min <= defaultRequest <= default
/// <= max, ratios of at least 1 and at most max/min, and default = defaultRequest where
/// overcommit is not allowed (extended resources, hugepages).
pub(super) fn limit_range(lr: &k8s::LimitRange, e: &mut Errors) {
    let mut types = BTreeSet::new();
    for (i, item) in lr.spec.iter().flat_map(|s| s.limits.iter()).enumerate() {
        let p = format!("spec.limits[{i}]");
        let ty = item.r#type.as_str();
        let qualified = crate::validation::is_qualified_name(ty);
        if !qualified.is_empty() {
            for msg in qualified {
                e.push(FieldError::invalid(format!("{p}.type"), ty, msg));
            }
        } else if !ty.contains('/') && !["Container", "PersistentVolumeClaim", "Pod"].contains(&ty)
        {
            e.push(FieldError::invalid(
                format!("{p}.type"),
                ty,
                "must be a standard limit type or fully qualified",
            ));
        }
        if !types.insert(ty) {
            e.push(FieldError::duplicate(format!("{p}.type"), ty));
        }
        for (name, map) in [
            ("max", &item.max),
            ("min", &item.min),
            ("default", &item.default),
            ("defaultRequest", &item.default_request),
            ("maxLimitRequestRatio", &item.max_limit_request_ratio),
        ] {
            quantities(&format!("{p}.{name}"), map, e);
        }
        let pod = ty == "Pod";
        if pod {
            for (name, map) in [
                ("default", &item.default),
                ("defaultRequest", &item.default_request),
            ] {
                if !map.is_empty() {
                    e.push(FieldError::forbidden(
                        format!("{p}.{name}"),
                        "may not be specified when `type` is 'Pod'",
                    ));
                }
            }
        }
        if ty == "PersistentVolumeClaim"
            && !item.min.contains_key("storage")
            && !item.max.contains_key("storage")
        {
            e.push(FieldError::required(
                format!("{p}.limits"),
                "either minimum or maximum storage value is required, but neither was provided",
            ));
        }
        let parsed = |map: &BTreeMap<String, String>| -> BTreeMap<String, Quantity> {
            map.iter()
                .filter_map(|(k, v)| v.parse().ok().map(|q| (k.clone(), q)))
                .collect()
        };
        let empty = BTreeMap::new();
        let (min, max, ratio) = (
            parsed(&item.min),
            parsed(&item.max),
            parsed(&item.max_limit_request_ratio),
        );
        let (default, default_request) = if pod {
            (empty.clone(), empty)
        } else {
            (parsed(&item.default), parsed(&item.default_request))
        };
        let keys: BTreeSet<&String> = [&min, &max, &default, &default_request, &ratio]
            .into_iter()
            .flat_map(|m| m.keys())
            .collect();
        for k in keys {
            let (lo, hi, def, req, r) = (
                min.get(k),
                max.get(k),
                default.get(k),
                default_request.get(k),
                ratio.get(k),
            );
            let mut invalid = |field: &str, value: &Quantity, msg: String| {
                e.push(FieldError::invalid(
                    format!("{p}.{field}[{k}]"),
                    value.to_string(),
                    msg,
                ));
            };
            if let (Some(lo), Some(hi)) = (lo, hi)
                && lo > hi
            {
                invalid(
                    "min",
                    lo,
                    format!("min value {lo} is greater than max value {hi}"),
                );
            }
            if let (Some(req), Some(lo)) = (req, lo)
                && lo > req
            {
                invalid(
                    "defaultRequest",
                    req,
                    format!("min value {lo} is greater than default request value {req}"),
                );
            }
            if let (Some(req), Some(hi)) = (req, hi)
                && req > hi
            {
                invalid(
                    "defaultRequest",
                    req,
                    format!("default request value {req} is greater than max value {hi}"),
                );
            }
            if let (Some(req), Some(def)) = (req, def)
                && req > def
            {
                invalid(
                    "defaultRequest",
                    req,
                    format!(
                        "default request value {req} is greater than default limit value {def}"
                    ),
                );
            }
            if let (Some(def), Some(lo)) = (def, lo)
                && lo > def
            {
                invalid(
                    "default",
                    lo,
                    format!("min value {lo} is greater than default value {def}"),
                );
            }
            if let (Some(def), Some(hi)) = (def, hi)
                && def > hi
            {
                invalid(
                    "default",
                    hi,
                    format!("default value {def} is greater than max value {hi}"),
                );
            }
            if let Some(r) = r
                && *r < Quantity::from_value(1, Default::default())
            {
                invalid(
                    "maxLimitRequestRatio",
                    r,
                    format!("ratio {r} is less than 1"),
                );
            }
            if let (Some(r), Some(lo), Some(hi)) = (r, lo, hi) {
                // Kubernetes compares in milli-units as floats, and prints Go's %f.
                let bound = hi.milli_value() as f64 / lo.milli_value() as f64;
                if r.milli_value() as f64 / 1000.0 > bound {
                    invalid(
                        "maxLimitRequestRatio",
                        r,
                        format!("ratio {r} is greater than max/min = {bound:.6}"),
                    );
                }
            }
            // Extended resources and hugepages cannot be overcommitted.
            let overcommit =
                (!k.contains('/') || k.contains("kubernetes.io/")) && !k.starts_with("hugepages-");
            if let (false, Some(def), Some(req)) = (overcommit, def, req)
                && def != req
            {
                invalid(
                    "defaultRequest",
                    req,
                    format!("default value {def} must equal to defaultRequest value {req} in {k}"),
                );
            }
        }
    }
}
