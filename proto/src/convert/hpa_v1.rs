//! `autoscaling/v1` HorizontalPodAutoscaler to and from the stored `autoscaling/v2` form, by
//! Kubernetes' rules (`pkg/apis/autoscaling/v1/conversion.go`):
//!
//! - `targetCPUUtilizationPercentage` is the `Resource` `cpu` metric with a `Utilization`
//!   target; an HPA converted from v1 with no metric at all scales on 80% CPU.
//! - Whatever else v2 holds travels in v1 as JSON annotations: the other metrics
//!   (`autoscaling.alpha.kubernetes.io/metrics`, in v1's metric form), every current metric
//!   (`.../current-metrics`), the behavior (`.../behavior`, written as Go writes its internal
//!   type: field names capitalised, read back case-insensitively as `encoding/json` does) and
//!   the conditions (`.../conditions`). So a v1 client that reads, edits and writes back an
//!   object keeps its v2 metrics.
//! - `status.currentCPUUtilizationPercentage` is the CPU metric's current utilization.
//! - Those annotations never reach the store: converting to v2 consumes them, and converting
//!   to v1 replaces whatever a client sent with the object's own.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use super::{ConvertError, Version};
use crate::KindInfo;
use crate::k8s::{
    self, CrossVersionObjectReference, CrossVersionObjectReferenceV1,
    HorizontalPodAutoscaler as V2, HorizontalPodAutoscalerSpecV1, HorizontalPodAutoscalerStatusV1,
    HorizontalPodAutoscalerV1 as V1, LabelSelector, MetricIdentifier, MetricSpec, MetricStatus,
    MetricTarget, MetricValueStatus,
};

/// `autoscaling.MetricSpecsAnnotation`: the v2 metrics v1 has no field for.
pub const METRICS_ANNOTATION: &str = "autoscaling.alpha.kubernetes.io/metrics";
/// `autoscaling.MetricStatusesAnnotation`: every current metric.
pub const CURRENT_METRICS_ANNOTATION: &str = "autoscaling.alpha.kubernetes.io/current-metrics";
/// `autoscaling.BehaviorSpecsAnnotation`: `spec.behavior`.
pub const BEHAVIOR_ANNOTATION: &str = "autoscaling.alpha.kubernetes.io/behavior";
/// `autoscaling.HorizontalPodAutoscalerConditionsAnnotation`: `status.conditions`.
pub const CONDITIONS_ANNOTATION: &str = "autoscaling.alpha.kubernetes.io/conditions";
/// `autoscaling.DefaultCPUUtilization`: what an HPA without metrics scales on.
pub const DEFAULT_CPU_UTILIZATION: i32 = 80;

const ROUND_TRIP_ANNOTATIONS: [&str; 4] = [
    METRICS_ANNOTATION,
    CURRENT_METRICS_ANNOTATION,
    BEHAVIOR_ANNOTATION,
    CONDITIONS_ANNOTATION,
];

/// `autoscaling/v1` HorizontalPodAutoscaler: the stored kind's facts, version v1.
pub static INFO: KindInfo = KindInfo {
    kind: "HorizontalPodAutoscaler",
    group: "autoscaling",
    version: "v1",
    api_version: "autoscaling/v1",
    plural: "horizontalpodautoscalers",
    singular: "horizontalpodautoscaler",
    short_names: &["hpa"],
    namespaced: true,
    has_status: true,
    has_scale: false,
    categories: &["all"],
};

pub static VERSION: Version = Version {
    info: &INFO,
    storage: &crate::resource::info::HorizontalPodAutoscaler,
    message: "k8s.HorizontalPodAutoscalerV1",
    definitions: &[
        (
            "k8s.HorizontalPodAutoscalerV1",
            "io.k8s.api.autoscaling.v1.HorizontalPodAutoscaler",
            &[],
        ),
        (
            "k8s.HorizontalPodAutoscalerSpecV1",
            "io.k8s.api.autoscaling.v1.HorizontalPodAutoscalerSpec",
            &["maxReplicas", "scaleTargetRef"],
        ),
        (
            "k8s.CrossVersionObjectReferenceV1",
            "io.k8s.api.autoscaling.v1.CrossVersionObjectReference",
            &["kind", "name"],
        ),
        (
            "k8s.HorizontalPodAutoscalerStatusV1",
            "io.k8s.api.autoscaling.v1.HorizontalPodAutoscalerStatus",
            &["currentReplicas", "desiredReplicas"],
        ),
    ],
    to_storage: to_storage_json,
    from_storage: from_storage_json,
    config_to_storage: config_to_storage_json,
};

// ---------------------------------------------------------------------------------------
// Typed conversion

/// A v1 object as the stored v2 object.
pub fn to_v2(v1: V1) -> V2 {
    let mut metadata = v1.metadata;
    let annotations = metadata
        .as_ref()
        .map(|m| m.annotations.clone())
        .unwrap_or_default();
    let mut spec = v1.spec.map(spec_to_v2).unwrap_or_default();
    let mut status = v1.status.map(status_to_v2);
    // A malformed annotation is ignored, as Kubernetes ignores it.
    if let Some(others) = annotation::<Vec<MetricSpecV1>>(&annotations, METRICS_ANNOTATION) {
        let mut metrics: Vec<MetricSpec> = others.into_iter().map(MetricSpecV1::into_v2).collect();
        // The CPU target of the spec goes after the others.
        metrics.extend(spec.metrics.first().cloned());
        spec.metrics = metrics;
    }
    if let Some(behavior) = annotations
        .get(BEHAVIOR_ANNOTATION)
        .and_then(|text| behavior_from_annotation(text))
    {
        spec.behavior = Some(behavior);
    }
    if let Some(current) =
        annotation::<Vec<MetricStatusV1>>(&annotations, CURRENT_METRICS_ANNOTATION)
    {
        // These hold more than currentCPUUtilizationPercentage: they win.
        status.get_or_insert_default().current_metrics =
            current.into_iter().map(MetricStatusV1::into_v2).collect();
    }
    // v1 scaled on CPU when nothing else was asked for; v2 says so.
    if spec.metrics.is_empty() {
        spec.metrics.push(cpu_metric(DEFAULT_CPU_UTILIZATION));
    }
    if let Some(conditions) = annotation::<Vec<ConditionV1>>(&annotations, CONDITIONS_ANNOTATION) {
        status.get_or_insert_default().conditions =
            conditions.into_iter().map(ConditionV1::into_v2).collect();
    }
    if let Some(m) = metadata.as_mut() {
        drop_round_trip_annotations(&mut m.annotations);
    }
    V2 {
        api_version: VERSION.storage.api_version.to_string(),
        kind: INFO.kind.to_string(),
        metadata,
        spec: Some(spec),
        status,
    }
}

/// The stored v2 object as a v1 object.
pub fn from_v2(v2: V2) -> V1 {
    let mut metadata = v2.metadata;
    if let Some(m) = metadata.as_mut() {
        drop_round_trip_annotations(&mut m.annotations);
    }
    let mut added: BTreeMap<String, String> = BTreeMap::new();
    let spec = v2.spec.map(|s| {
        let others: Vec<MetricSpecV1> = s
            .metrics
            .iter()
            .filter(|m| cpu_utilization_target(m).is_none())
            .map(MetricSpecV1::from_v2)
            .collect();
        if !others.is_empty() {
            added.insert(METRICS_ANNOTATION.into(), go_json(&others));
        }
        if let Some(b) = &s.behavior {
            added.insert(BEHAVIOR_ANNOTATION.into(), behavior_annotation(b));
        }
        HorizontalPodAutoscalerSpecV1 {
            scale_target_ref: s.scale_target_ref.map(|r| CrossVersionObjectReferenceV1 {
                kind: r.kind,
                name: r.name,
                api_version: r.api_version,
            }),
            min_replicas: s.min_replicas,
            max_replicas: s.max_replicas,
            target_cpu_utilization_percentage: s.metrics.iter().find_map(cpu_utilization_target),
        }
    });
    let status = v2.status.map(|st| {
        if !st.current_metrics.is_empty() {
            let current: Vec<MetricStatusV1> = st
                .current_metrics
                .iter()
                .map(MetricStatusV1::from_v2)
                .collect();
            added.insert(CURRENT_METRICS_ANNOTATION.into(), go_json(&current));
        }
        if !st.conditions.is_empty() {
            let conditions: Vec<ConditionV1> =
                st.conditions.iter().map(ConditionV1::from_v2).collect();
            added.insert(CONDITIONS_ANNOTATION.into(), go_json(&conditions));
        }
        // Kubernetes' loop does not stop at the first CPU metric: the last one wins.
        let current_cpu = st
            .current_metrics
            .iter()
            .filter(|m| m.r#type == "Resource")
            .filter_map(|m| m.resource.as_ref())
            .filter(|r| r.name == "cpu")
            .filter_map(|r| r.current.as_ref().and_then(|c| c.average_utilization))
            .next_back();
        HorizontalPodAutoscalerStatusV1 {
            observed_generation: st.observed_generation,
            last_scale_time: st.last_scale_time,
            current_replicas: st.current_replicas,
            desired_replicas: st.desired_replicas,
            current_cpu_utilization_percentage: current_cpu,
        }
    });
    if !added.is_empty() {
        metadata.get_or_insert_default().annotations.extend(added);
    }
    V1 {
        api_version: INFO.api_version.to_string(),
        kind: INFO.kind.to_string(),
        metadata,
        spec,
        status,
    }
}

fn spec_to_v2(s: HorizontalPodAutoscalerSpecV1) -> k8s::HorizontalPodAutoscalerSpec {
    k8s::HorizontalPodAutoscalerSpec {
        min_replicas: s.min_replicas,
        max_replicas: s.max_replicas,
        scale_target_ref: s.scale_target_ref.map(|r| CrossVersionObjectReference {
            kind: r.kind,
            name: r.name,
            api_version: r.api_version,
        }),
        metrics: s
            .target_cpu_utilization_percentage
            .map(cpu_metric)
            .into_iter()
            .collect(),
        behavior: None,
    }
}

fn status_to_v2(s: HorizontalPodAutoscalerStatusV1) -> k8s::HorizontalPodAutoscalerStatus {
    k8s::HorizontalPodAutoscalerStatus {
        observed_generation: s.observed_generation,
        last_scale_time: s.last_scale_time,
        current_replicas: s.current_replicas,
        desired_replicas: s.desired_replicas,
        current_metrics: s
            .current_cpu_utilization_percentage
            .map(|u| MetricStatus {
                r#type: "Resource".into(),
                resource: Some(k8s::ResourceMetricStatus {
                    name: "cpu".into(),
                    current: Some(MetricValueStatus {
                        average_utilization: Some(u),
                        ..Default::default()
                    }),
                }),
                ..Default::default()
            })
            .into_iter()
            .collect(),
        conditions: Vec::new(),
    }
}

fn cpu_metric(utilization: i32) -> MetricSpec {
    MetricSpec {
        r#type: "Resource".into(),
        resource: Some(k8s::ResourceMetricSource {
            name: "cpu".into(),
            target: Some(MetricTarget {
                r#type: "Utilization".into(),
                average_utilization: Some(utilization),
                ..Default::default()
            }),
        }),
        ..Default::default()
    }
}

/// The utilization a `Resource` `cpu` metric targets: what v1's one field holds.
fn cpu_utilization_target(m: &MetricSpec) -> Option<i32> {
    let r = m.resource.as_ref().filter(|_| m.r#type == "Resource")?;
    if r.name != "cpu" {
        return None;
    }
    r.target.as_ref()?.average_utilization
}

fn drop_round_trip_annotations(annotations: &mut BTreeMap<String, String>) {
    for a in ROUND_TRIP_ANNOTATIONS {
        annotations.remove(a);
    }
}

fn annotation<T: serde::de::DeserializeOwned>(
    annotations: &BTreeMap<String, String>,
    key: &str,
) -> Option<T> {
    serde_json::from_str(annotations.get(key)?).ok()
}

/// JSON as Go's `encoding/json` writes it: struct fields in declaration order, and `<`, `>`
/// and `&` escaped.
fn go_json<T: Serialize>(value: &T) -> String {
    // Serializing plain structs of strings and numbers cannot fail.
    serde_json::to_string(value)
        .unwrap_or_default()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

// ---------------------------------------------------------------------------------------
// v1's metric forms, as the annotations hold them (`k8s.io/api/autoscaling/v1` types: Go
// field order, Go's omitempty). Quantities that v1 holds by value are "0" when v2 has none,
// and come back as "0", as in Kubernetes.

fn null_as_default<'de, D: Deserializer<'de>, T: Default + Deserialize<'de>>(
    d: D,
) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A quantity as Go reads one: a string, or a bare number.
fn quantity<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::String(s)) => s,
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    })
}

fn optional_quantity<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Some(quantity(d)?).filter(|s| !s.is_empty()))
}

fn zero_if_empty(q: &str) -> String {
    if q.is_empty() { "0".into() } else { q.into() }
}

fn some_if_set(q: &str) -> Option<String> {
    Some(q.to_string()).filter(|q| !q.is_empty())
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RefV1 {
    #[serde(default, deserialize_with = "null_as_default")]
    kind: String,
    #[serde(default, deserialize_with = "null_as_default")]
    name: String,
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "String::is_empty"
    )]
    api_version: String,
}

impl RefV1 {
    fn from_v2(r: Option<&CrossVersionObjectReference>) -> RefV1 {
        r.map(|r| RefV1 {
            kind: r.kind.clone(),
            name: r.name.clone(),
            api_version: r.api_version.clone(),
        })
        .unwrap_or_default()
    }

    fn into_v2(self) -> CrossVersionObjectReference {
        CrossVersionObjectReference {
            kind: self.kind,
            name: self.name,
            api_version: self.api_version,
        }
    }
}

fn identifier(name: String, selector: Option<LabelSelector>) -> Option<MetricIdentifier> {
    Some(MetricIdentifier { name, selector })
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct MetricSpecV1 {
    #[serde(rename = "type", default, deserialize_with = "null_as_default")]
    kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    object: Option<ObjectSourceV1>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pods: Option<PodsSourceV1>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    resource: Option<ResourceSourceV1>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    container_resource: Option<ContainerResourceSourceV1>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    external: Option<ExternalSourceV1>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ObjectSourceV1 {
    #[serde(default, deserialize_with = "null_as_default")]
    target: RefV1,
    #[serde(default, deserialize_with = "null_as_default")]
    metric_name: String,
    #[serde(default, deserialize_with = "quantity")]
    target_value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    selector: Option<LabelSelector>,
    #[serde(
        default,
        deserialize_with = "optional_quantity",
        skip_serializing_if = "Option::is_none"
    )]
    average_value: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PodsSourceV1 {
    #[serde(default, deserialize_with = "null_as_default")]
    metric_name: String,
    #[serde(default, deserialize_with = "quantity")]
    target_average_value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    selector: Option<LabelSelector>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResourceSourceV1 {
    #[serde(default, deserialize_with = "null_as_default")]
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    target_average_utilization: Option<i32>,
    #[serde(
        default,
        deserialize_with = "optional_quantity",
        skip_serializing_if = "Option::is_none"
    )]
    target_average_value: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ContainerResourceSourceV1 {
    #[serde(default, deserialize_with = "null_as_default")]
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    target_average_utilization: Option<i32>,
    #[serde(
        default,
        deserialize_with = "optional_quantity",
        skip_serializing_if = "Option::is_none"
    )]
    target_average_value: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    container: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExternalSourceV1 {
    #[serde(default, deserialize_with = "null_as_default")]
    metric_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    metric_selector: Option<LabelSelector>,
    #[serde(
        default,
        deserialize_with = "optional_quantity",
        skip_serializing_if = "Option::is_none"
    )]
    target_value: Option<String>,
    #[serde(
        default,
        deserialize_with = "optional_quantity",
        skip_serializing_if = "Option::is_none"
    )]
    target_average_value: Option<String>,
}

fn target_of(t: Option<&MetricTarget>) -> MetricTarget {
    t.cloned().unwrap_or_default()
}

fn target_type(set: bool, if_set: &str, otherwise: &str) -> String {
    if set { if_set } else { otherwise }.to_string()
}

impl MetricSpecV1 {
    fn from_v2(m: &MetricSpec) -> MetricSpecV1 {
        MetricSpecV1 {
            kind: m.r#type.clone(),
            object: m.object.as_ref().map(|o| {
                let t = target_of(o.target.as_ref());
                let metric = o.metric.clone().unwrap_or_default();
                ObjectSourceV1 {
                    target: RefV1::from_v2(o.described_object.as_ref()),
                    metric_name: metric.name,
                    target_value: zero_if_empty(&t.value),
                    selector: metric.selector,
                    average_value: some_if_set(&t.average_value),
                }
            }),
            pods: m.pods.as_ref().map(|p| {
                let t = target_of(p.target.as_ref());
                let metric = p.metric.clone().unwrap_or_default();
                PodsSourceV1 {
                    metric_name: metric.name,
                    target_average_value: zero_if_empty(&t.average_value),
                    selector: metric.selector,
                }
            }),
            resource: m.resource.as_ref().map(|r| {
                let t = target_of(r.target.as_ref());
                ResourceSourceV1 {
                    name: r.name.clone(),
                    target_average_utilization: t.average_utilization,
                    target_average_value: some_if_set(&t.average_value),
                }
            }),
            container_resource: m.container_resource.as_ref().map(|r| {
                let t = target_of(r.target.as_ref());
                ContainerResourceSourceV1 {
                    name: r.name.clone(),
                    target_average_utilization: t.average_utilization,
                    target_average_value: some_if_set(&t.average_value),
                    container: r.container.clone(),
                }
            }),
            external: m.external.as_ref().map(|e| {
                let t = target_of(e.target.as_ref());
                let metric = e.metric.clone().unwrap_or_default();
                ExternalSourceV1 {
                    metric_name: metric.name,
                    metric_selector: metric.selector,
                    target_value: some_if_set(&t.value),
                    target_average_value: some_if_set(&t.average_value),
                }
            }),
        }
    }

    fn into_v2(self) -> MetricSpec {
        MetricSpec {
            r#type: self.kind,
            object: self.object.map(|o| k8s::ObjectMetricSource {
                described_object: Some(o.target.into_v2()),
                target: Some(MetricTarget {
                    r#type: target_type(o.average_value.is_some(), "AverageValue", "Value"),
                    value: o.target_value,
                    average_value: o.average_value.unwrap_or_default(),
                    average_utilization: None,
                }),
                metric: identifier(o.metric_name, o.selector),
            }),
            pods: self.pods.map(|p| k8s::PodsMetricSource {
                metric: identifier(p.metric_name, p.selector),
                target: Some(MetricTarget {
                    r#type: "AverageValue".into(),
                    average_value: p.target_average_value,
                    ..Default::default()
                }),
            }),
            resource: self.resource.map(|r| k8s::ResourceMetricSource {
                name: r.name,
                target: Some(MetricTarget {
                    r#type: target_type(
                        r.target_average_utilization.is_some(),
                        "Utilization",
                        "AverageValue",
                    ),
                    average_value: r.target_average_value.unwrap_or_default(),
                    average_utilization: r.target_average_utilization,
                    value: String::new(),
                }),
            }),
            container_resource: self.container_resource.map(|r| {
                k8s::ContainerResourceMetricSource {
                    name: r.name,
                    target: Some(MetricTarget {
                        r#type: target_type(
                            r.target_average_utilization.is_some(),
                            "Utilization",
                            "AverageValue",
                        ),
                        average_value: r.target_average_value.unwrap_or_default(),
                        average_utilization: r.target_average_utilization,
                        value: String::new(),
                    }),
                    container: r.container,
                }
            }),
            external: self.external.map(|e| k8s::ExternalMetricSource {
                metric: identifier(e.metric_name, e.metric_selector),
                target: Some(MetricTarget {
                    r#type: target_type(e.target_value.is_some(), "Value", "AverageValue"),
                    value: e.target_value.unwrap_or_default(),
                    average_value: e.target_average_value.unwrap_or_default(),
                    average_utilization: None,
                }),
            }),
        }
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct MetricStatusV1 {
    #[serde(rename = "type", default, deserialize_with = "null_as_default")]
    kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    object: Option<ObjectStatusV1>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pods: Option<PodsStatusV1>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    resource: Option<ResourceStatusV1>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    container_resource: Option<ContainerResourceStatusV1>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    external: Option<ExternalStatusV1>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ObjectStatusV1 {
    #[serde(default, deserialize_with = "null_as_default")]
    target: RefV1,
    #[serde(default, deserialize_with = "null_as_default")]
    metric_name: String,
    #[serde(default, deserialize_with = "quantity")]
    current_value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    selector: Option<LabelSelector>,
    #[serde(
        default,
        deserialize_with = "optional_quantity",
        skip_serializing_if = "Option::is_none"
    )]
    average_value: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PodsStatusV1 {
    #[serde(default, deserialize_with = "null_as_default")]
    metric_name: String,
    #[serde(default, deserialize_with = "quantity")]
    current_average_value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    selector: Option<LabelSelector>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResourceStatusV1 {
    #[serde(default, deserialize_with = "null_as_default")]
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    current_average_utilization: Option<i32>,
    #[serde(default, deserialize_with = "quantity")]
    current_average_value: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ContainerResourceStatusV1 {
    #[serde(default, deserialize_with = "null_as_default")]
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    current_average_utilization: Option<i32>,
    #[serde(default, deserialize_with = "quantity")]
    current_average_value: String,
    #[serde(default, deserialize_with = "null_as_default")]
    container: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExternalStatusV1 {
    #[serde(default, deserialize_with = "null_as_default")]
    metric_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    metric_selector: Option<LabelSelector>,
    #[serde(default, deserialize_with = "quantity")]
    current_value: String,
    #[serde(
        default,
        deserialize_with = "optional_quantity",
        skip_serializing_if = "Option::is_none"
    )]
    current_average_value: Option<String>,
}

fn current_of(c: Option<&MetricValueStatus>) -> MetricValueStatus {
    c.cloned().unwrap_or_default()
}

impl MetricStatusV1 {
    fn from_v2(m: &MetricStatus) -> MetricStatusV1 {
        MetricStatusV1 {
            kind: m.r#type.clone(),
            object: m.object.as_ref().map(|o| {
                let c = current_of(o.current.as_ref());
                let metric = o.metric.clone().unwrap_or_default();
                ObjectStatusV1 {
                    target: RefV1::from_v2(o.described_object.as_ref()),
                    metric_name: metric.name,
                    current_value: zero_if_empty(&c.value),
                    selector: metric.selector,
                    average_value: some_if_set(&c.average_value),
                }
            }),
            pods: m.pods.as_ref().map(|p| {
                let c = current_of(p.current.as_ref());
                let metric = p.metric.clone().unwrap_or_default();
                PodsStatusV1 {
                    metric_name: metric.name,
                    current_average_value: zero_if_empty(&c.average_value),
                    selector: metric.selector,
                }
            }),
            resource: m.resource.as_ref().map(|r| {
                let c = current_of(r.current.as_ref());
                ResourceStatusV1 {
                    name: r.name.clone(),
                    current_average_utilization: c.average_utilization,
                    current_average_value: zero_if_empty(&c.average_value),
                }
            }),
            container_resource: m.container_resource.as_ref().map(|r| {
                let c = current_of(r.current.as_ref());
                ContainerResourceStatusV1 {
                    name: r.name.clone(),
                    current_average_utilization: c.average_utilization,
                    current_average_value: zero_if_empty(&c.average_value),
                    container: r.container.clone(),
                }
            }),
            external: m.external.as_ref().map(|e| {
                let c = current_of(e.current.as_ref());
                let metric = e.metric.clone().unwrap_or_default();
                ExternalStatusV1 {
                    metric_name: metric.name,
                    metric_selector: metric.selector,
                    current_value: zero_if_empty(&c.value),
                    current_average_value: some_if_set(&c.average_value),
                }
            }),
        }
    }

    fn into_v2(self) -> MetricStatus {
        MetricStatus {
            r#type: self.kind,
            object: self.object.map(|o| k8s::ObjectMetricStatus {
                metric: identifier(o.metric_name, o.selector),
                current: Some(MetricValueStatus {
                    value: o.current_value,
                    average_value: o.average_value.unwrap_or_default(),
                    average_utilization: None,
                }),
                described_object: Some(o.target.into_v2()),
            }),
            pods: self.pods.map(|p| k8s::PodsMetricStatus {
                metric: identifier(p.metric_name, p.selector),
                current: Some(MetricValueStatus {
                    average_value: p.current_average_value,
                    ..Default::default()
                }),
            }),
            resource: self.resource.map(|r| k8s::ResourceMetricStatus {
                name: r.name,
                current: Some(MetricValueStatus {
                    average_value: r.current_average_value,
                    average_utilization: r.current_average_utilization,
                    value: String::new(),
                }),
            }),
            container_resource: self.container_resource.map(|r| {
                k8s::ContainerResourceMetricStatus {
                    name: r.name,
                    current: Some(MetricValueStatus {
                        average_value: r.current_average_value,
                        average_utilization: r.current_average_utilization,
                        value: String::new(),
                    }),
                    container: r.container,
                }
            }),
            external: self.external.map(|e| k8s::ExternalMetricStatus {
                metric: identifier(e.metric_name, e.metric_selector),
                current: Some(MetricValueStatus {
                    value: e.current_value,
                    average_value: e.current_average_value.unwrap_or_default(),
                    average_utilization: None,
                }),
            }),
        }
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConditionV1 {
    #[serde(rename = "type", default, deserialize_with = "null_as_default")]
    kind: String,
    #[serde(default, deserialize_with = "null_as_default")]
    status: String,
    // metav1.Time: null when unset, never left out.
    #[serde(default)]
    last_transition_time: Option<String>,
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "String::is_empty"
    )]
    reason: String,
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "String::is_empty"
    )]
    message: String,
}

impl ConditionV1 {
    fn from_v2(c: &k8s::HorizontalPodAutoscalerCondition) -> ConditionV1 {
        ConditionV1 {
            kind: c.r#type.clone(),
            status: c.status.clone(),
            last_transition_time: some_if_set(&c.last_transition_time),
            reason: c.reason.clone(),
            message: c.message.clone(),
        }
    }

    fn into_v2(self) -> k8s::HorizontalPodAutoscalerCondition {
        k8s::HorizontalPodAutoscalerCondition {
            r#type: self.kind,
            status: self.status,
            last_transition_time: self.last_transition_time.unwrap_or_default(),
            reason: self.reason,
            message: self.message,
        }
    }
}

// ---------------------------------------------------------------------------------------
// The behavior annotation: Kubernetes marshals its internal type, whose fields carry no JSON
// names, so the keys are Go's field names; `encoding/json` reads them back in any case.

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct BehaviorGo {
    scale_up: Option<RulesGo>,
    scale_down: Option<RulesGo>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct RulesGo {
    stabilization_window_seconds: Option<i32>,
    select_policy: Option<String>,
    policies: Option<Vec<PolicyGo>>,
    tolerance: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct PolicyGo {
    #[serde(rename = "Type")]
    kind: String,
    value: i32,
    period_seconds: i32,
}

fn rules_go(r: &k8s::HpaScalingRules) -> RulesGo {
    RulesGo {
        stabilization_window_seconds: r.stabilization_window_seconds,
        select_policy: r.select_policy.clone(),
        policies: Some(&r.policies).filter(|p| !p.is_empty()).map(|p| {
            p.iter()
                .map(|p| PolicyGo {
                    kind: p.r#type.clone(),
                    value: p.value,
                    period_seconds: p.period_seconds,
                })
                .collect()
        }),
        tolerance: r.tolerance.clone(),
    }
}

fn behavior_annotation(b: &k8s::HorizontalPodAutoscalerBehavior) -> String {
    go_json(&BehaviorGo {
        scale_up: b.scale_up.as_ref().map(rules_go),
        scale_down: b.scale_down.as_ref().map(rules_go),
    })
}

/// The value of `key` in `map`, its name matched case-insensitively.
fn field<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    map.get(key).or_else(|| {
        map.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

fn rules_from(v: Option<&Value>) -> Option<k8s::HpaScalingRules> {
    let map = v?.as_object()?;
    let int = |k: &str| {
        field(map, k)
            .and_then(Value::as_i64)
            .and_then(|n| i32::try_from(n).ok())
    };
    let text = |k: &str| field(map, k).and_then(Value::as_str).map(str::to_string);
    let policies = field(map, "Policies")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_object)
                .map(|p| k8s::HpaScalingPolicy {
                    r#type: field(p, "Type")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                    value: field(p, "Value")
                        .and_then(Value::as_i64)
                        .and_then(|n| i32::try_from(n).ok())
                        .unwrap_or_default(),
                    period_seconds: field(p, "PeriodSeconds")
                        .and_then(Value::as_i64)
                        .and_then(|n| i32::try_from(n).ok())
                        .unwrap_or_default(),
                })
                .collect()
        })
        .unwrap_or_default();
    let tolerance = match field(map, "Tolerance") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    Some(k8s::HpaScalingRules {
        stabilization_window_seconds: int("StabilizationWindowSeconds"),
        select_policy: text("SelectPolicy"),
        policies,
        tolerance,
    })
}

/// The behavior an annotation holds; None when it does not parse or holds neither direction
/// (Kubernetes keeps no empty behavior).
fn behavior_from_annotation(text: &str) -> Option<k8s::HorizontalPodAutoscalerBehavior> {
    let value: Value = serde_json::from_str(text).ok()?;
    let map = value.as_object()?;
    let behavior = k8s::HorizontalPodAutoscalerBehavior {
        scale_up: rules_from(field(map, "ScaleUp")),
        scale_down: rules_from(field(map, "ScaleDown")),
    };
    (behavior.scale_up.is_some() || behavior.scale_down.is_some()).then_some(behavior)
}

// ---------------------------------------------------------------------------------------
// JSON documents

fn to_json<T: Serialize>(value: &T) -> Result<Value, ConvertError> {
    serde_json::to_value(value).map_err(|e| ConvertError {
        path: String::new(),
        message: e.to_string(),
    })
}

fn to_storage_json(value: Value) -> Result<Value, ConvertError> {
    let v1: V1 = serde_path_to_error::deserialize(value).map_err(ConvertError::of)?;
    to_json(&to_v2(v1))
}

fn from_storage_json(value: Value) -> Result<Value, ConvertError> {
    let v2: V2 = serde_path_to_error::deserialize(value).map_err(ConvertError::of)?;
    let mut out = to_json(&from_v2(v2))?;
    super::normalize_output(&VERSION, &mut out);
    Ok(out)
}

/// A server-side apply configuration in v1: converted whole, then without the metrics it did
/// not state (the default CPU target the whole-object conversion adds would otherwise become
/// a field this manager applies).
fn config_to_storage_json(value: Value) -> Result<Value, ConvertError> {
    let states_metrics = value
        .pointer("/spec/targetCPUUtilizationPercentage")
        .is_some()
        || value
            .pointer("/metadata/annotations")
            .and_then(Value::as_object)
            .is_some_and(|a| a.contains_key(METRICS_ANNOTATION));
    let states_spec = value.get("spec").is_some();
    let mut out = to_storage_json(value)?;
    if let Some(spec) = out.get_mut("spec").and_then(Value::as_object_mut) {
        if !states_metrics {
            spec.remove("metrics");
        }
        if !states_spec
            && spec.is_empty()
            && let Some(map) = out.as_object_mut()
        {
            map.remove("spec");
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn v1_doc(spec: Value) -> Value {
        json!({
            "apiVersion": "autoscaling/v1",
            "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "web", "namespace": "shop"},
            "spec": spec,
        })
    }

    fn v2_of(doc: Value) -> V2 {
        serde_json::from_value(to_storage_json(doc).unwrap()).unwrap()
    }

    #[test]
    fn target_cpu_is_the_cpu_utilization_metric_both_ways() {
        let doc = v1_doc(json!({
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
            "minReplicas": 2, "maxReplicas": 10, "targetCPUUtilizationPercentage": 50,
        }));
        let v2 = v2_of(doc.clone());
        assert_eq!(v2.api_version, "autoscaling/v2");
        let spec = v2.spec.clone().unwrap();
        assert_eq!(spec.metrics, vec![cpu_metric(50)]);
        assert_eq!(
            (spec.min_replicas, spec.max_replicas),
            (Some(2), 10),
            "replica bounds carry over"
        );
        assert_eq!(spec.scale_target_ref.unwrap().kind, "Deployment");
        // Back to v1: the same document, no annotations added.
        let back = from_storage_json(serde_json::to_value(&v2).unwrap()).unwrap();
        assert_eq!(back["spec"], doc["spec"]);
        assert_eq!(back["apiVersion"], "autoscaling/v1");
        assert!(back["metadata"].get("annotations").is_none(), "{back}");
    }

    #[test]
    fn no_target_scales_on_80_percent_cpu() {
        let v2 = v2_of(v1_doc(json!({
            "scaleTargetRef": {"kind": "Deployment", "name": "web"}, "maxReplicas": 3,
        })));
        assert_eq!(v2.spec.unwrap().metrics, vec![cpu_metric(80)]);
        let v2 = v2_of(
            json!({"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "x"}}),
        );
        assert_eq!(v2.spec.unwrap().metrics, vec![cpu_metric(80)]);
    }

    fn rich_v2() -> V2 {
        serde_json::from_value(json!({
            "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "web", "namespace": "shop", "annotations": {"team": "a"}},
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                "minReplicas": 1, "maxReplicas": 20,
                "metrics": [
                    {"type": "Resource", "resource": {"name": "memory",
                        "target": {"type": "AverageValue", "averageValue": "500Mi"}}},
                    {"type": "Pods", "pods": {"metric": {"name": "rps"},
                        "target": {"type": "AverageValue", "averageValue": "10"}}},
                    {"type": "Object", "object": {
                        "describedObject": {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "name": "main"},
                        "metric": {"name": "hits", "selector": {"matchLabels": {"a": "b"}}},
                        "target": {"type": "Value", "value": "2k"}}},
                    {"type": "External", "external": {"metric": {"name": "queue"},
                        "target": {"type": "AverageValue", "averageValue": "30"}}},
                    {"type": "ContainerResource", "containerResource": {"name": "cpu", "container": "app",
                        "target": {"type": "Utilization", "averageUtilization": 60}}},
                    {"type": "Resource", "resource": {"name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": 70}}},
                ],
                "behavior": {
                    "scaleDown": {"stabilizationWindowSeconds": 120, "selectPolicy": "Min",
                        "policies": [{"type": "Pods", "value": 2, "periodSeconds": 60}]},
                },
            },
            "status": {
                "observedGeneration": 3, "currentReplicas": 4, "desiredReplicas": 5,
                "lastScaleTime": "2026-01-02T03:04:05Z",
                "currentMetrics": [
                    {"type": "Resource", "resource": {"name": "cpu",
                        "current": {"averageValue": "120m", "averageUtilization": 65}}},
                    {"type": "Pods", "pods": {"metric": {"name": "rps"}, "current": {"averageValue": "9"}}},
                ],
                "conditions": [{"type": "AbleToScale", "status": "True",
                    "lastTransitionTime": "2026-01-02T03:04:05Z", "reason": "ReadyForNewScale",
                    "message": "recommended size matches current size"}],
            },
        }))
        .unwrap()
    }

    #[test]
    fn other_metrics_behavior_status_and_conditions_travel_in_annotations() {
        let v2 = rich_v2();
        let v1 = from_v2(v2.clone());
        let spec = v1.spec.as_ref().unwrap();
        assert_eq!(spec.target_cpu_utilization_percentage, Some(70));
        let status = v1.status.as_ref().unwrap();
        assert_eq!(status.current_cpu_utilization_percentage, Some(65));
        assert_eq!((status.current_replicas, status.desired_replicas), (4, 5));
        let a = &v1.metadata.as_ref().unwrap().annotations;
        assert_eq!(a["team"], "a");
        // Kubernetes' own form: v1 metric fields, Go's field order.
        assert_eq!(
            a[METRICS_ANNOTATION],
            r#"[{"type":"Resource","resource":{"name":"memory","targetAverageValue":"500Mi"}},{"type":"Pods","pods":{"metricName":"rps","targetAverageValue":"10"}},{"type":"Object","object":{"target":{"kind":"Ingress","name":"main","apiVersion":"networking.k8s.io/v1"},"metricName":"hits","targetValue":"2k","selector":{"matchLabels":{"a":"b"}}}},{"type":"External","external":{"metricName":"queue","targetAverageValue":"30"}},{"type":"ContainerResource","containerResource":{"name":"cpu","targetAverageUtilization":60,"container":"app"}}]"#
        );
        assert_eq!(
            a[BEHAVIOR_ANNOTATION],
            r#"{"ScaleUp":null,"ScaleDown":{"StabilizationWindowSeconds":120,"SelectPolicy":"Min","Policies":[{"Type":"Pods","Value":2,"PeriodSeconds":60}],"Tolerance":null}}"#
        );
        assert_eq!(
            a[CURRENT_METRICS_ANNOTATION],
            r#"[{"type":"Resource","resource":{"name":"cpu","currentAverageUtilization":65,"currentAverageValue":"120m"}},{"type":"Pods","pods":{"metricName":"rps","currentAverageValue":"9"}}]"#
        );
        assert_eq!(
            a[CONDITIONS_ANNOTATION],
            r#"[{"type":"AbleToScale","status":"True","lastTransitionTime":"2026-01-02T03:04:05Z","reason":"ReadyForNewScale","message":"recommended size matches current size"}]"#
        );
        // And back: the v2 object as it was (the CPU target last, as Kubernetes puts it).
        let back = to_v2(v1);
        assert_eq!(back, v2);
    }

    #[test]
    fn round_trips_through_json_documents() {
        let v2 = rich_v2();
        let v2_json = serde_json::to_value(&v2).unwrap();
        let v1_json = from_storage_json(v2_json.clone()).unwrap();
        assert_eq!(v1_json["spec"]["targetCPUUtilizationPercentage"], 70);
        assert_eq!(v1_json["status"]["currentCPUUtilizationPercentage"], 65);
        let again = to_storage_json(v1_json).unwrap();
        assert_eq!(again, v2_json);
    }

    #[test]
    fn lossy_values_follow_kubernetes() {
        // v1 holds the object metric's value and the pods metric's average by value: an
        // object metric targeting an average comes back with a zero value beside it.
        let v2: V2 = serde_json::from_value(json!({
            "metadata": {"name": "x"},
            "spec": {"maxReplicas": 2, "metrics": [{"type": "Object", "object": {
                "describedObject": {"kind": "Service", "name": "s"}, "metric": {"name": "m"},
                "target": {"type": "AverageValue", "averageValue": "5"}}}]}
        }))
        .unwrap();
        let back = to_v2(from_v2(v2));
        let target = back.spec.unwrap().metrics[0]
            .object
            .clone()
            .unwrap()
            .target
            .unwrap();
        assert_eq!(
            (
                target.r#type.as_str(),
                target.value.as_str(),
                target.average_value.as_str()
            ),
            ("AverageValue", "0", "5")
        );
    }

    #[test]
    fn stale_round_trip_annotations_are_replaced_and_never_stored() {
        let mut v2 = rich_v2();
        let meta = v2.metadata.as_mut().unwrap();
        meta.annotations
            .insert(METRICS_ANNOTATION.into(), "[]".into());
        meta.annotations
            .insert(CONDITIONS_ANNOTATION.into(), "garbage".into());
        let v1 = from_v2(v2);
        let a = &v1.metadata.as_ref().unwrap().annotations;
        assert!(a[METRICS_ANNOTATION].contains("memory"));
        assert!(a[CONDITIONS_ANNOTATION].contains("AbleToScale"));
        let stored = to_v2(v1);
        let keys: Vec<&String> = stored
            .metadata
            .as_ref()
            .unwrap()
            .annotations
            .keys()
            .collect();
        assert_eq!(keys, ["team"]);
    }

    #[test]
    fn malformed_annotations_are_ignored_and_behavior_reads_in_any_case() {
        let mut doc = v1_doc(
            json!({"scaleTargetRef": {"kind": "Deployment", "name": "w"},
            "maxReplicas": 4, "targetCPUUtilizationPercentage": 40}),
        );
        doc["metadata"]["annotations"] = json!({
            METRICS_ANNOTATION: "not json",
            CURRENT_METRICS_ANNOTATION: "{}",
            BEHAVIOR_ANNOTATION: r#"{"scaleup":{"stabilizationwindowseconds":30,"policies":[{"type":"Percent","value":100,"periodseconds":15}]}}"#,
            CONDITIONS_ANNOTATION: "[1]",
        });
        let v2 = v2_of(doc);
        let spec = v2.spec.unwrap();
        assert_eq!(spec.metrics, vec![cpu_metric(40)]);
        let up = spec.behavior.unwrap().scale_up.unwrap();
        assert_eq!(up.stabilization_window_seconds, Some(30));
        assert_eq!(up.policies[0].r#type, "Percent");
        assert_eq!(up.policies[0].period_seconds, 15);
        assert!(v2.status.is_none());
        assert!(v2.metadata.unwrap().annotations.is_empty());
        // An empty behavior is none.
        assert!(behavior_from_annotation("{}").is_none());
        assert!(behavior_from_annotation(r#"{"ScaleUp":null,"ScaleDown":null}"#).is_none());
    }

    #[test]
    fn bad_documents_name_the_field() {
        let e = to_storage_json(v1_doc(json!({"maxReplicas": "many"}))).unwrap_err();
        assert_eq!(e.path, "spec.maxReplicas");
        let e = to_storage_json(json!(["not", "an", "object"])).unwrap_err();
        assert!(e.path.is_empty(), "{e}");
    }

    #[test]
    fn output_writes_required_fields_at_zero() {
        let v2: V2 = serde_json::from_value(json!({
            "metadata": {"name": "x"},
            "spec": {"maxReplicas": 2, "scaleTargetRef": {"kind": "Deployment", "name": "d"}},
            "status": {"desiredReplicas": 0}
        }))
        .unwrap();
        let v1 = from_storage_json(serde_json::to_value(v2).unwrap()).unwrap();
        assert_eq!(
            v1["status"],
            json!({"currentReplicas": 0, "desiredReplicas": 0})
        );
        assert_eq!(v1["kind"], "HorizontalPodAutoscaler");
    }

    #[test]
    fn apply_configurations_state_only_what_they_state() {
        let config = v1_doc(json!({"maxReplicas": 7}));
        let out = config_to_storage_json(config).unwrap();
        assert_eq!(out["spec"], json!({"maxReplicas": 7}));
        let config = v1_doc(json!({"maxReplicas": 7, "targetCPUUtilizationPercentage": 30}));
        let out = config_to_storage_json(config).unwrap();
        assert_eq!(
            out["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"],
            30
        );
        let meta_only = json!({"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "x", "labels": {"a": "b"}}});
        let out = config_to_storage_json(meta_only).unwrap();
        assert!(out.get("spec").is_none(), "{out}");
        assert_eq!(out["metadata"]["labels"]["a"], "b");
    }

    #[test]
    fn manifests_of_v1_read_as_the_stored_v2_kind() {
        let text = "apiVersion: autoscaling/v1\nkind: HorizontalPodAutoscaler\nmetadata: {name: web}\nspec:\n  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}\n  maxReplicas: 5\n  targetCPUUtilizationPercentage: 50\n";
        let objects = crate::manifest::load_documents(text).unwrap();
        let hpa = <V2 as crate::Resource>::try_from_object(objects[0].clone()).unwrap();
        assert_eq!(hpa.spec.unwrap().metrics, vec![cpu_metric(50)]);
        assert_eq!(objects[0].info().unwrap().api_version, "autoscaling/v2");
        let bad = "apiVersion: autoscaling/v1\nkind: HorizontalPodAutoscaler\nmetadata: {name: web}\nspec: {maxReplicas: lots}\n";
        let e = crate::manifest::load_documents(bad)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("spec.maxReplicas: "), "{e}");
    }
}
