//! policy API group: PodDisruptionBudget (`pkg/apis/policy/validation`).

use super::Errors;
use super::apps::int_or_percent;
use super::rules::non_negative;
use crate::k8s;
use crate::selector;
use crate::validation::FieldError;

/// The values `spec.unhealthyPodEvictionPolicy` may take.
pub const UNHEALTHY_POD_EVICTION_POLICIES: &[&str] = &["AlwaysAllow", "IfHealthyBudget"];

/// Kubernetes' ValidatePodDisruptionBudgetSpec and the status' non-negative counts.
pub(super) fn pod_disruption_budget(pdb: &k8s::PodDisruptionBudget, e: &mut Errors) {
    let spec = pdb.spec.clone().unwrap_or_default();
    if !spec.min_available.is_empty() && !spec.max_unavailable.is_empty() {
        e.push(FieldError::invalid(
            "spec",
            format!(
                "minAvailable: {}, maxUnavailable: {}",
                spec.min_available, spec.max_unavailable
            ),
            "minAvailable and maxUnavailable cannot be both set",
        ));
    }
    for (field, value) in [
        ("spec.minAvailable", &spec.min_available),
        ("spec.maxUnavailable", &spec.max_unavailable),
    ] {
        if let Some((n, true)) = int_or_percent(field, value, e)
            && n > 100
        {
            e.push(FieldError::invalid(
                field,
                value.as_str(),
                "must not be greater than 100%",
            ));
        }
    }
    if let Some(s) = &spec.selector
        && let Err(err) = selector::LabelSelector::from_proto(s)
    {
        e.push(FieldError::invalid("spec.selector", "", err.to_string()));
    }
    if let Some(policy) = &spec.unhealthy_pod_eviction_policy
        && !UNHEALTHY_POD_EVICTION_POLICIES.contains(&policy.as_str())
    {
        e.push(FieldError::not_supported(
            "spec.unhealthyPodEvictionPolicy",
            policy,
            UNHEALTHY_POD_EVICTION_POLICIES,
        ));
    }
    if let Some(status) = &pdb.status {
        for (field, v) in [
            ("status.disruptionsAllowed", status.disruptions_allowed),
            ("status.currentHealthy", status.current_healthy),
            ("status.desiredHealthy", status.desired_healthy),
            ("status.expectedPods", status.expected_pods),
        ] {
            non_negative(field, Some(v), e);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::k8s::{LabelSelector, PodDisruptionBudget, PodDisruptionBudgetSpec};
    use crate::{Resource, kind_validation};

    fn pdb(min: &str, max: &str, policy: Option<&str>) -> PodDisruptionBudget {
        let mut p = PodDisruptionBudget {
            spec: Some(PodDisruptionBudgetSpec {
                min_available: min.into(),
                max_unavailable: max.into(),
                selector: Some(LabelSelector {
                    match_labels: [("app".to_string(), "web".to_string())].into(),
                    ..Default::default()
                }),
                unhealthy_pod_eviction_policy: policy.map(String::from),
            }),
            ..Default::default()
        };
        p.meta_mut().name = "web".into();
        p
    }

    fn errors(p: PodDisruptionBudget) -> Vec<String> {
        kind_validation::validate(&p.into_object())
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn valid_budgets_pass() {
        for (min, max) in [("2", ""), ("50%", ""), ("", "1"), ("", "100%"), ("", "")] {
            assert!(errors(pdb(min, max, None)).is_empty(), "{min:?} {max:?}");
        }
        for policy in ["IfHealthyBudget", "AlwaysAllow"] {
            assert!(errors(pdb("1", "", Some(policy))).is_empty());
        }
    }

    #[test]
    fn both_set_bad_values_and_policy_are_refused() {
        let e = errors(pdb("1", "1", None));
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(
            e[0].starts_with("spec: Invalid value")
                && e[0].ends_with("minAvailable and maxUnavailable cannot be both set"),
            "{e:?}"
        );
        assert_eq!(
            errors(pdb("-1", "", None)),
            ["spec.minAvailable: Invalid value: \"-1\": must be greater than or equal to 0"]
        );
        assert_eq!(
            errors(pdb("", "150%", None)),
            ["spec.maxUnavailable: Invalid value: \"150%\": must not be greater than 100%"]
        );
        assert!(errors(pdb("x", "", None))[0].contains("a valid percent string"));
        assert_eq!(
            errors(pdb("1", "", Some("Sometimes"))),
            [
                "spec.unhealthyPodEvictionPolicy: Unsupported value: \"Sometimes\": supported values: \"AlwaysAllow\", \"IfHealthyBudget\""
            ]
        );
    }

    #[test]
    fn negative_status_counts_are_refused() {
        let mut p = pdb("1", "", None);
        p.status = Some(crate::k8s::PodDisruptionBudgetStatus {
            disruptions_allowed: -1,
            ..Default::default()
        });
        assert_eq!(
            errors(p),
            ["status.disruptionsAllowed: Invalid value: -1: must be greater than or equal to 0"]
        );
    }
}
