//! PersistentVolumes, PersistentVolumeClaims and ResourceQuotas.

use super::super::jv::{arr_at, bool_at, obj_at, scalar_text, str_at};
use super::Cell;
use serde_json::Value;

/// `RWO,ROX` as Kubernetes abbreviates access modes.
fn access_modes(modes: &[Value]) -> String {
    let short: Vec<&str> = modes
        .iter()
        .filter_map(Value::as_str)
        .map(|m| match m {
            "ReadWriteOnce" => "RWO",
            "ReadOnlyMany" => "ROX",
            "ReadWriteMany" => "RWX",
            "ReadWriteOncePod" => "RWOP",
            other => other,
        })
        .collect();
    short.join(",")
}

/// Kubernetes defaults `volumeMode` to Filesystem.
fn volume_mode(o: &Value) -> String {
    match str_at(o, "/spec/volumeMode") {
        "" => "Filesystem".into(),
        m => m.into(),
    }
}

fn attributes_class(o: &Value) -> String {
    match str_at(o, "/spec/volumeAttributesClassName") {
        "" => "<unset>".into(),
        c => c.into(),
    }
}

/// The storage class: the field, else the beta annotation older objects carry.
fn storage_class(o: &Value) -> String {
    match str_at(o, "/spec/storageClassName") {
        "" => obj_at(o, "/metadata/annotations")
            .and_then(|a| a.get("volume.beta.kubernetes.io/storage-class"))
            .map(scalar_text)
            .unwrap_or_default(),
        c => c.to_string(),
    }
}

/// The phase, or Terminating once deletion started.
fn phase(o: &Value) -> String {
    if str_at(o, "/metadata/deletionTimestamp").is_empty() {
        str_at(o, "/status/phase").to_string()
    } else {
        "Terminating".to_string()
    }
}

pub(super) fn persistent_volume(o: &Value, created: Cell) -> Vec<Cell> {
    let claim = match o.pointer("/spec/claimRef") {
        Some(r) if r.is_object() => {
            format!("{}/{}", str_at(r, "/namespace"), str_at(r, "/name"))
        }
        _ => String::new(),
    };
    // Kubernetes defaults the policy of a volume made by hand to Retain.
    let reclaim = match str_at(o, "/spec/persistentVolumeReclaimPolicy") {
        "" => "Retain",
        p => p,
    };
    vec![
        str_at(o, "/spec/capacity/storage").into(),
        access_modes(arr_at(o, "/spec/accessModes")).into(),
        reclaim.into(),
        phase(o).into(),
        claim.into(),
        storage_class(o).into(),
        attributes_class(o).into(),
        str_at(o, "/status/reason").into(),
        created,
        volume_mode(o).into(),
    ]
}

pub(super) fn persistent_volume_claim(o: &Value, created: Cell) -> Vec<Cell> {
    // Capacity and access modes are the bound volume's: none before binding.
    let (capacity, modes) = if str_at(o, "/spec/volumeName").is_empty() {
        (String::new(), String::new())
    } else {
        (
            str_at(o, "/status/capacity/storage").to_string(),
            access_modes(arr_at(o, "/status/accessModes")),
        )
    };
    vec![
        phase(o).into(),
        str_at(o, "/spec/volumeName").into(),
        capacity.into(),
        modes.into(),
        storage_class(o).into(),
        attributes_class(o).into(),
        created,
        volume_mode(o).into(),
    ]
}

/// REQUEST and LIMIT: `resource: used/hard` for each hard limit in name order, `limits.*`
/// resources in LIMIT and all others in REQUEST.
pub(super) fn resource_quota(o: &Value, created: Cell) -> Vec<Cell> {
    let mut requests: Vec<String> = Vec::new();
    let mut limits: Vec<String> = Vec::new();
    let used = obj_at(o, "/status/used");
    let mut hard: Vec<(&String, &Value)> =
        obj_at(o, "/status/hard").into_iter().flatten().collect();
    hard.sort_by(|a, b| a.0.cmp(b.0));
    for (resource, hard) in hard {
        let used = used
            .and_then(|u| u.get(resource))
            .map_or("0".to_string(), scalar_text);
        let entry = format!("{resource}: {used}/{}", scalar_text(hard));
        if resource.split('.').next() == Some("limits") && resource.contains('.') {
            limits.push(entry);
        } else {
            requests.push(entry);
        }
    }
    vec![
        requests.join(", ").into(),
        limits.join(", ").into(),
        created,
    ]
}

/// Kubernetes' `storageutil.IsDefaultAnnotation`: the GA annotation, or the beta one.
fn is_default_class(o: &Value) -> bool {
    let ann = |k: &str| str_at(o, &format!("/metadata/annotations/{k}")) == "true";
    ann("storageclass.kubernetes.io~1is-default-class")
        || ann("storageclass.beta.kubernetes.io~1is-default-class")
}

/// The whole row: the default class's NAME reads `local-path (default)`; an unset policy,
/// binding mode or expansion shows Kubernetes' default (Delete, Immediate, false).
pub(super) fn storage_class_row(o: &Value, created: Cell) -> Vec<Cell> {
    let mut name = str_at(o, "/metadata/name").to_string();
    if is_default_class(o) {
        name.push_str(" (default)");
    }
    let or = |v: &str, d: &str| {
        if v.is_empty() {
            d.to_string()
        } else {
            v.to_string()
        }
    };
    let expansion = bool_at(o, "/allowVolumeExpansion");
    vec![
        name.into(),
        str_at(o, "/provisioner").into(),
        or(str_at(o, "/reclaimPolicy"), "Delete").into(),
        or(str_at(o, "/volumeBindingMode"), "Immediate").into(),
        expansion.to_string().into(),
        created,
    ]
}
