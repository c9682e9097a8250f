//! rbac.authorization.k8s.io: Role, ClusterRole, RoleBinding, ClusterRoleBinding
//! (`pkg/apis/rbac/validation`).

use super::Errors;
use crate::k8s;
use crate::validation::{FieldError, is_dns1123_subdomain, is_valid_path_segment_name};

pub const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

/// Kubernetes' `ValidatePolicyRule`; `namespaced` for a Role's rules.
fn policy_rule(rule: &k8s::PolicyRule, namespaced: bool, path: &str, e: &mut Errors) {
    if rule.verbs.is_empty() {
        e.push(FieldError::required(
            format!("{path}.verbs"),
            "verbs must contain at least one value",
        ));
    }
    if !rule.non_resource_urls.is_empty() {
        let urls_path = format!("{path}.nonResourceURLs");
        if namespaced {
            e.push(FieldError::invalid(
                &urls_path,
                &rule.non_resource_urls,
                "namespaced rules cannot apply to non-resource URLs",
            ));
        }
        if !rule.api_groups.is_empty()
            || !rule.resources.is_empty()
            || !rule.resource_names.is_empty()
        {
            e.push(FieldError::invalid(
                &urls_path,
                &rule.non_resource_urls,
                "rules cannot apply to both regular resources and non-resource URLs",
            ));
        }
        return;
    }
    if rule.api_groups.is_empty() {
        e.push(FieldError::required(
            format!("{path}.apiGroups"),
            "resource rules must supply at least one api group",
        ));
    }
    if rule.resources.is_empty() {
        e.push(FieldError::required(
            format!("{path}.resources"),
            "resource rules must supply at least one resource",
        ));
    }
}

pub(super) fn role(role: &k8s::Role, e: &mut Errors) {
    for (i, rule) in role.rules.iter().enumerate() {
        policy_rule(rule, true, &format!("rules[{i}]"), e);
    }
}

pub(super) fn cluster_role(role: &k8s::ClusterRole, e: &mut Errors) {
    for (i, rule) in role.rules.iter().enumerate() {
        policy_rule(rule, false, &format!("rules[{i}]"), e);
    }
    if let Some(agg) = &role.aggregation_rule {
        if agg.cluster_role_selectors.is_empty() {
            e.push(FieldError::required(
                "aggregationRule.clusterRoleSelectors",
                "at least one clusterRoleSelector required if aggregationRule is non-nil",
            ));
        }
        for (i, sel) in agg.cluster_role_selectors.iter().enumerate() {
            if let Err(err) = crate::selector::LabelSelector::from_proto(sel) {
                e.push(FieldError::invalid(
                    format!("aggregationRule.clusterRoleSelectors[{i}]"),
                    sel.match_labels.clone(),
                    err.to_string(),
                ));
            }
        }
    }
}

fn role_ref(r: Option<&k8s::RoleRef>, kinds: &[&str], e: &mut Errors) {
    let default = k8s::RoleRef::default();
    let r = r.unwrap_or(&default);
    if r.api_group != RBAC_GROUP {
        e.push(FieldError::not_supported(
            "roleRef.apiGroup",
            &r.api_group,
            &[RBAC_GROUP],
        ));
    }
    if !kinds.contains(&r.kind.as_str()) {
        e.push(FieldError::not_supported("roleRef.kind", &r.kind, kinds));
    }
    if r.name.is_empty() {
        e.push(FieldError::required("roleRef.name", ""));
    } else {
        for msg in is_valid_path_segment_name(&r.name) {
            e.push(FieldError::invalid("roleRef.name", &r.name, msg));
        }
    }
}

/// Kubernetes' `ValidateRoleBindingSubject`; a ClusterRoleBinding's ServiceAccount
/// subjects must name their namespace.
fn subject(s: &k8s::Subject, namespaced: bool, path: &str, e: &mut Errors) {
    if s.name.is_empty() {
        e.push(FieldError::required(format!("{path}.name"), ""));
    }
    match s.kind.as_str() {
        "ServiceAccount" => {
            if !s.name.is_empty() {
                for msg in is_dns1123_subdomain(&s.name) {
                    e.push(FieldError::invalid(format!("{path}.name"), &s.name, msg));
                }
            }
            if !s.api_group.is_empty() {
                e.push(FieldError::not_supported(
                    format!("{path}.apiGroup"),
                    &s.api_group,
                    &[""],
                ));
            }
            if !namespaced && s.namespace.is_empty() {
                e.push(FieldError::required(format!("{path}.namespace"), ""));
            }
        }
        "User" | "Group" => {
            if s.api_group != RBAC_GROUP {
                e.push(FieldError::not_supported(
                    format!("{path}.apiGroup"),
                    &s.api_group,
                    &[RBAC_GROUP],
                ));
            }
        }
        _ => e.push(FieldError::not_supported(
            format!("{path}.kind"),
            &s.kind,
            &["ServiceAccount", "User", "Group"],
        )),
    }
}

pub(super) fn role_binding(rb: &k8s::RoleBinding, e: &mut Errors) {
    role_ref(rb.role_ref.as_ref(), &["Role", "ClusterRole"], e);
    for (i, s) in rb.subjects.iter().enumerate() {
        subject(s, true, &format!("subjects[{i}]"), e);
    }
}

pub(super) fn cluster_role_binding(crb: &k8s::ClusterRoleBinding, e: &mut Errors) {
    role_ref(crb.role_ref.as_ref(), &["ClusterRole"], e);
    for (i, s) in crb.subjects.iter().enumerate() {
        subject(s, false, &format!("subjects[{i}]"), e);
    }
}

/// A binding's roleRef never changes (delete and recreate the binding instead).
pub(super) fn role_ref_update(
    new: Option<&k8s::RoleRef>,
    cur: Option<&k8s::RoleRef>,
    e: &mut Errors,
) {
    if new != cur {
        let r = new.cloned().unwrap_or_default();
        e.push(FieldError::new(
            "roleRef",
            format!(
                "Invalid value: rbac.RoleRef{{APIGroup:{:?}, Kind:{:?}, Name:{:?}}}: cannot change roleRef",
                r.api_group, r.kind, r.name
            ),
        ));
    }
}
