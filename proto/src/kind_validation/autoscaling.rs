//! autoscaling API group: HorizontalPodAutoscaler (`pkg/apis/autoscaling/validation`).

use super::Errors;
use super::rules::*;
use crate::k8s;
use crate::validation::FieldError;

pub(super) fn hpa_spec(spec: &k8s::HorizontalPodAutoscalerSpec, e: &mut Errors) {
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
