//! PodDisruptionBudget rules the eviction subresource and the disruption controller share
//! (Kubernetes' `component-helpers/apps/poddisruptionbudget` and `intstr` helpers): which
//! pods a budget covers, what counts as healthy, how a bound scales, and the
//! `DisruptionAllowed` condition. Pure functions, no I/O.

use crate::k8s::{Condition, Pod, PodDisruptionBudget, PodDisruptionBudgetStatus};
use crate::selector::LabelSelector;
use std::collections::BTreeMap;

/// The condition type the disruption controller and the eviction subresource keep.
pub const DISRUPTION_ALLOWED: &str = "DisruptionAllowed";
pub const SUFFICIENT_PODS: &str = "SufficientPods";
pub const INSUFFICIENT_PODS: &str = "InsufficientPods";
pub const SYNC_FAILED: &str = "SyncFailed";
/// `spec.unhealthyPodEvictionPolicy` letting not-ready pods go whatever the budget says.
pub const ALWAYS_ALLOW: &str = "AlwaysAllow";
/// How long an eviction the apiserver admitted counts against the budget before the
/// controller gives up waiting for the pod's deletion (Kubernetes' DeletionTimeout).
pub const DELETION_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

/// Whether the budget covers a pod with these labels: a missing selector covers nothing,
/// an empty one (`{}`) every pod of the namespace (policy/v1), a malformed one nothing.
pub fn selects(pdb: &PodDisruptionBudget, labels: &BTreeMap<String, String>) -> bool {
    let Some(selector) = pdb.spec.as_ref().and_then(|s| s.selector.as_ref()) else {
        return false;
    };
    LabelSelector::from_proto(selector).is_ok_and(|s| s.matches(labels))
}

/// A pod whose Ready condition is True (Kubernetes' IsPodReady).
pub fn is_pod_ready(pod: &Pod) -> bool {
    pod.status.as_ref().is_some_and(|s| {
        s.conditions
            .iter()
            .any(|c| c.r#type == "Ready" && c.status == "True")
    })
}

/// An int-or-percent bound scaled against `total` (Kubernetes'
/// GetScaledValueFromIntOrPercent): `"3"` is 3, `"50%"` of 5 is 3 rounded up (2 down).
pub fn scaled_value(bound: &str, total: i32, round_up: bool) -> Result<i32, String> {
    if let Some(digits) = bound.strip_suffix('%') {
        let percent: i64 = digits
            .parse()
            .map_err(|_| format!("invalid value for IntOrString: invalid value {bound:?}"))?;
        let product = percent * i64::from(total);
        let value = if round_up {
            (product + 99).div_euclid(100)
        } else {
            product.div_euclid(100)
        };
        return i32::try_from(value).map_err(|_| format!("{bound:?} of {total} is out of range"));
    }
    bound.parse::<i32>().map_err(|_| {
        "invalid value for IntOrString: invalid type: string is not a percentage".to_string()
    })
}

/// Sets `DisruptionAllowed` from `disruptionsAllowed` (Kubernetes'
/// UpdateDisruptionAllowedCondition): True/SufficientPods when disruptions are allowed,
/// False/InsufficientPods otherwise. The transition time moves only when the status does.
pub fn set_disruption_allowed(status: &mut PodDisruptionBudgetStatus, now: &str) {
    let (value, reason) = if status.disruptions_allowed > 0 {
        ("True", SUFFICIENT_PODS)
    } else {
        ("False", INSUFFICIENT_PODS)
    };
    set_condition(status, value, reason, "", now);
}

/// Sets the `DisruptionAllowed` condition (apimachinery's SetStatusCondition).
pub fn set_condition(
    status: &mut PodDisruptionBudgetStatus,
    value: &str,
    reason: &str,
    message: &str,
    now: &str,
) {
    let observed = status.observed_generation;
    let condition = Condition {
        r#type: DISRUPTION_ALLOWED.to_string(),
        status: value.to_string(),
        observed_generation: observed,
        last_transition_time: now.to_string(),
        reason: reason.to_string(),
        message: message.to_string(),
    };
    match status
        .conditions
        .iter_mut()
        .find(|c| c.r#type == DISRUPTION_ALLOWED)
    {
        Some(c) => {
            let moved = c.status != condition.status;
            let since = std::mem::take(&mut c.last_transition_time);
            *c = condition;
            if !moved && !since.is_empty() {
                c.last_transition_time = since;
            }
        }
        None => status.conditions.push(condition),
    }
}

/// Whether the condition already says what `disruptionsAllowed` says, for the budget's
/// generation (Kubernetes' ConditionsAreUpToDate).
pub fn conditions_up_to_date(status: &PodDisruptionBudgetStatus, generation: i32) -> bool {
    let Some(c) = status
        .conditions
        .iter()
        .find(|c| c.r#type == DISRUPTION_ALLOWED)
    else {
        return false;
    };
    if status.observed_generation != generation {
        return false;
    }
    if status.disruptions_allowed > 0 {
        c.status == "True" && c.reason == SUFFICIENT_PODS
    } else {
        c.status == "False" && c.reason == INSUFFICIENT_PODS
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::k8s::{LabelSelector as Sel, PodCondition, PodDisruptionBudgetSpec, PodStatus};

    fn pdb(selector: Option<Sel>) -> PodDisruptionBudget {
        PodDisruptionBudget {
            spec: Some(PodDisruptionBudgetSpec {
                selector,
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn missing_selector_covers_nothing_empty_covers_everything() {
        let labels: BTreeMap<String, String> = [("app".into(), "web".into())].into();
        assert!(!selects(&pdb(None), &labels));
        assert!(selects(&pdb(Some(Sel::default())), &labels));
        let web = Sel {
            match_labels: labels.clone(),
            ..Default::default()
        };
        assert!(selects(&pdb(Some(web.clone())), &labels));
        assert!(!selects(&pdb(Some(web)), &BTreeMap::new()));
    }

    #[test]
    fn percentages_round_as_kubernetes() {
        assert_eq!(scaled_value("3", 10, true), Ok(3));
        assert_eq!(scaled_value("50%", 5, true), Ok(3));
        assert_eq!(scaled_value("50%", 5, false), Ok(2));
        assert_eq!(scaled_value("34%", 3, true), Ok(2));
        assert_eq!(scaled_value("100%", 0, true), Ok(0));
        assert!(scaled_value("x", 3, true).is_err());
        assert!(scaled_value("x%", 3, true).is_err());
    }

    #[test]
    fn readiness_is_the_ready_condition() {
        let mut pod = Pod::default();
        assert!(!is_pod_ready(&pod));
        pod.status = Some(PodStatus {
            conditions: vec![PodCondition {
                r#type: "Ready".into(),
                status: "True".into(),
                ..Default::default()
            }],
            ..Default::default()
        });
        assert!(is_pod_ready(&pod));
    }

    #[test]
    fn the_condition_follows_disruptions_allowed_and_keeps_its_transition_time() {
        let mut status = PodDisruptionBudgetStatus {
            disruptions_allowed: 1,
            observed_generation: 2,
            ..Default::default()
        };
        assert!(!conditions_up_to_date(&status, 2));
        set_disruption_allowed(&mut status, "t1");
        assert!(conditions_up_to_date(&status, 2));
        assert!(!conditions_up_to_date(&status, 3));
        assert_eq!(
            (
                status.conditions[0].status.as_str(),
                status.conditions[0].reason.as_str()
            ),
            ("True", SUFFICIENT_PODS)
        );
        set_disruption_allowed(&mut status, "t2");
        assert_eq!(status.conditions[0].last_transition_time, "t1");
        status.disruptions_allowed = 0;
        assert!(!conditions_up_to_date(&status, 2));
        set_disruption_allowed(&mut status, "t3");
        assert_eq!(status.conditions.len(), 1);
        assert_eq!(status.conditions[0].reason, INSUFFICIENT_PODS);
        assert_eq!(status.conditions[0].last_transition_time, "t3");
    }
}
