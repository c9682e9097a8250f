//! apps API group: ReplicaSet, Deployment, DaemonSet, StatefulSet (`pkg/apis/apps/validation`).

use super::Errors;
use super::core::pvc_spec;
use super::pod::{RestartRule, pod_spec};
use super::rules::*;
use crate::k8s::{self, LabelSelector, PodTemplateSpec};
use crate::selector;
use crate::validation::FieldError;
use std::collections::BTreeMap;

pub(super) fn replica_set(rs: &k8s::ReplicaSet, e: &mut Errors) {
    let spec = rs.spec.clone().unwrap_or_default();
    replicas(spec.replicas, e);
    workload(
        "replicaset",
        spec.selector.as_ref(),
        spec.template.as_ref(),
        e,
    );
}

pub(super) fn daemon_set(ds: &k8s::DaemonSet, e: &mut Errors) {
    let spec = ds.spec.clone().unwrap_or_default();
    workload(
        "daemonset",
        spec.selector.as_ref(),
        spec.template.as_ref(),
        e,
    );
    if let Some(s) = &spec.update_strategy {
        supported(
            "spec.updateStrategy.type",
            &s.r#type,
            &["OnDelete", "RollingUpdate"],
            e,
        );
        if let Some(ru) = &s.rolling_update {
            rolling_update(
                "spec.updateStrategy.rollingUpdate",
                &ru.max_surge,
                &ru.max_unavailable,
                e,
            );
        }
    }
}

pub(super) fn replicas(r: Option<i32>, e: &mut Errors) {
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
pub(super) fn workload(
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

pub(super) fn selector_matches_template(
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

pub(super) fn template_spec(
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

pub(super) fn deployment(spec: &k8s::DeploymentSpec, e: &mut Errors) {
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
pub(super) fn rolling_update(path: &str, max_surge: &str, max_unavailable: &str, e: &mut Errors) {
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
pub(super) fn int_or_percent(path: &str, v: &str, e: &mut Errors) -> Option<(i64, bool)> {
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

pub(super) fn stateful_set(spec: &k8s::StatefulSetSpec, e: &mut Errors) {
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

/// Kubernetes' ValidateControllerRevision: data is required, revision is not negative (the
/// name is a DNS subdomain, checked with the metadata).
pub(super) fn controller_revision(cr: &k8s::ControllerRevision, e: &mut Errors) {
    if cr.data.as_ref().is_none_or(|d| d.to_value().is_null()) {
        e.push(FieldError::required("data", "data is mandatory"));
    }
    if cr.revision < 0 {
        e.push(FieldError::invalid(
            "revision",
            cr.revision,
            "must be greater than or equal to 0",
        ));
    }
}

/// Kubernetes' ValidateControllerRevisionUpdate: a revision's data never changes (its
/// revision number may: a rollback to it renumbers it).
pub(super) fn controller_revision_update(
    new: &k8s::ControllerRevision,
    cur: &k8s::ControllerRevision,
    e: &mut Errors,
) {
    let value = |c: &k8s::ControllerRevision| c.data.as_ref().map(|d| d.to_value());
    if value(new) != value(cur) {
        e.push(FieldError::invalid("data", "", "field is immutable"));
    }
}

#[cfg(test)]
mod controller_revision_tests {
    use crate::k8s::{ControllerRevision, RawExtension};
    use crate::{Resource, kind_validation};
    use serde_json::json;

    fn revision(data: Option<serde_json::Value>, revision: i32) -> ControllerRevision {
        let mut cr = ControllerRevision {
            data: data.map(|d| RawExtension::from_value(&d)),
            revision,
            ..Default::default()
        };
        cr.meta_mut().name = "web-abc".into();
        cr
    }

    #[test]
    fn data_required_revision_not_negative_data_immutable() {
        let ok = revision(Some(json!({"spec": {}})), 1);
        assert!(kind_validation::validate(&ok.clone().into_object()).is_empty());
        let errs = kind_validation::validate(&revision(None, -1).into_object());
        let fields: Vec<&str> = errs.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(fields, ["data", "revision"]);
        let renumbered = revision(Some(json!({"spec": {}})), 7);
        assert!(
            kind_validation::validate_update(&renumbered.into_object(), &ok.clone().into_object())
                .is_empty()
        );
        let changed = revision(Some(json!({"spec": {"x": 1}})), 1);
        let errs = kind_validation::validate_update(&changed.into_object(), &ok.into_object());
        assert_eq!(errs.len(), 1);
        assert!(
            errs[0].to_string().contains("field is immutable"),
            "{}",
            errs[0]
        );
    }
}
