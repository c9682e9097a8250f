//! Quota scopes (Kubernetes' `podMatchesScopeFunc`): a quota with scopes counts only the
//! pods in all of them. Every other kind matches no scope, so a scoped quota counts pods
//! only.

use super::usage::{is_best_effort, is_terminating};
use crate::k8s::object::Kind as K;
use crate::k8s::{Object, Pod, ResourceQuotaSpec, ScopedResourceSelectorRequirement};

/// A quota's scopes as selector requirements: each of `spec.scopes` as `Exists`, then
/// `spec.scopeSelector`'s expressions.
pub fn selectors(spec: &ResourceQuotaSpec) -> Vec<ScopedResourceSelectorRequirement> {
    let mut out: Vec<_> = spec
        .scopes
        .iter()
        .map(|s| ScopedResourceSelectorRequirement {
            scope_name: s.clone(),
            operator: "Exists".to_string(),
            values: Vec::new(),
        })
        .collect();
    if let Some(sel) = &spec.scope_selector {
        out.extend(sel.match_expressions.iter().cloned());
    }
    out
}

/// Whether `object` falls in the scope `selector` names.
pub fn matches(selector: &ScopedResourceSelectorRequirement, object: &Object) -> bool {
    match &object.kind {
        Some(K::Pod(pod)) => pod_matches(selector, pod),
        _ => false,
    }
}

/// Whether the quota whose scopes are `selectors` counts `object` (no scope: every object).
pub fn in_scopes(selectors: &[ScopedResourceSelectorRequirement], object: &Object) -> bool {
    selectors.iter().all(|s| matches(s, object))
}

/// As Kubernetes: the operator matters for PriorityClass only; Terminating, NotTerminating,
/// BestEffort, NotBestEffort and CrossNamespacePodAffinity are properties of the pod.
pub fn pod_matches(selector: &ScopedResourceSelectorRequirement, pod: &Pod) -> bool {
    match selector.scope_name.as_str() {
        "Terminating" => is_terminating(pod),
        "NotTerminating" => !is_terminating(pod),
        "BestEffort" => is_best_effort(pod),
        "NotBestEffort" => !is_best_effort(pod),
        "PriorityClass" => {
            let class = pod
                .spec
                .as_ref()
                .map(|s| s.priority_class_name.as_str())
                .unwrap_or_default();
            priority_class_matches(selector, class)
        }
        "CrossNamespacePodAffinity" => uses_cross_namespace_affinity(pod),
        _ => false,
    }
}

/// The pod's priority class as the label set `{PriorityClass: <name>}` (empty when it has
/// none) against the requirement, with label selector semantics.
fn priority_class_matches(selector: &ScopedResourceSelectorRequirement, class: &str) -> bool {
    let present = !class.is_empty();
    let listed = selector.values.iter().any(|v| v == class);
    match selector.operator.as_str() {
        "In" => present && listed,
        "NotIn" => !present || !listed,
        "Exists" => present,
        "DoesNotExist" => !present,
        _ => false,
    }
}

/// A pod (anti-)affinity term that looks beyond the pod's own namespace.
fn uses_cross_namespace_affinity(pod: &Pod) -> bool {
    let Some(affinity) = pod.spec.as_ref().and_then(|s| s.affinity.as_ref()) else {
        return false;
    };
    let cross = |t: &crate::k8s::PodAffinityTerm| {
        !t.namespaces.is_empty() || t.namespace_selector.is_some()
    };
    let terms = affinity
        .pod_affinity
        .iter()
        .flat_map(|a| {
            a.required_during_scheduling_ignored_during_execution
                .iter()
                .chain(
                    a.preferred_during_scheduling_ignored_during_execution
                        .iter()
                        .filter_map(|w| w.pod_affinity_term.as_ref()),
                )
        })
        .chain(affinity.pod_anti_affinity.iter().flat_map(|a| {
            a.required_during_scheduling_ignored_during_execution
                .iter()
                .chain(
                    a.preferred_during_scheduling_ignored_during_execution
                        .iter()
                        .filter_map(|w| w.pod_affinity_term.as_ref()),
                )
        }));
    terms.into_iter().any(cross)
}
