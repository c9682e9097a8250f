//! Deployments, ReplicaSets, StatefulSets, DaemonSets, Jobs, CronJobs and
//! HorizontalPodAutoscalers.

use super::super::age::{age, human_duration, seconds_since};
use super::super::jv::{arr_at, bool_at, i64_at, map_text, obj_at, selector_text, str_at};
use super::{Cell, containers_and_images, num, title_bool};
use serde_json::Value;
use std::time::SystemTime;

const POD_SPEC: &str = "/spec/template/spec";

/// `spec.replicas`, which Kubernetes defaults to 1.
fn desired(o: &Value) -> i64 {
    i64_at(o, "/spec/replicas").unwrap_or(1)
}

pub(super) fn deployment(o: &Value, created: Cell) -> Vec<Cell> {
    let [names, images] = containers_and_images(o, POD_SPEC);
    // Printed as the selector itself (`labels.Selector.String()`): empty, not `<none>`,
    // when there is none.
    let mut selector = selector_text(o.pointer("/spec/selector"));
    if selector == "<none>" {
        selector.clear();
    }
    vec![
        format!("{}/{}", num(o, "/status/readyReplicas"), desired(o)).into(),
        Cell::Int(num(o, "/status/updatedReplicas")),
        Cell::Int(num(o, "/status/availableReplicas")),
        created,
        names,
        images,
        selector.into(),
    ]
}

pub(super) fn replica_set(o: &Value, created: Cell) -> Vec<Cell> {
    let [names, images] = containers_and_images(o, POD_SPEC);
    vec![
        Cell::Int(desired(o)),
        Cell::Int(num(o, "/status/replicas")),
        Cell::Int(num(o, "/status/readyReplicas")),
        created,
        names,
        images,
        selector_text(o.pointer("/spec/selector")).into(),
    ]
}

pub(super) fn stateful_set(o: &Value, created: Cell) -> Vec<Cell> {
    let [names, images] = containers_and_images(o, POD_SPEC);
    vec![
        format!("{}/{}", num(o, "/status/readyReplicas"), desired(o)).into(),
        created,
        names,
        images,
    ]
}

pub(super) fn daemon_set(o: &Value, created: Cell) -> Vec<Cell> {
    let [names, images] = containers_and_images(o, POD_SPEC);
    vec![
        Cell::Int(num(o, "/status/desiredNumberScheduled")),
        Cell::Int(num(o, "/status/currentNumberScheduled")),
        Cell::Int(num(o, "/status/numberReady")),
        Cell::Int(num(o, "/status/updatedNumberScheduled")),
        Cell::Int(num(o, "/status/numberAvailable")),
        map_text(obj_at(o, "/spec/template/spec/nodeSelector")).into(),
        created,
        names,
        images,
        selector_text(o.pointer("/spec/selector")).into(),
    ]
}

/// The status of the first condition of type `ty` is True.
fn job_condition(o: &Value, ty: &str) -> bool {
    arr_at(o, "/status/conditions")
        .iter()
        .find(|c| str_at(c, "/type") == ty)
        .is_some_and(|c| str_at(c, "/status") == "True")
}

pub(super) fn job(o: &Value, now: SystemTime, created: Cell) -> Vec<Cell> {
    let status = if job_condition(o, "Complete") {
        "Complete"
    } else if job_condition(o, "Failed") {
        "Failed"
    } else if !str_at(o, "/metadata/deletionTimestamp").is_empty() {
        "Terminating"
    } else if job_condition(o, "Suspended") {
        "Suspended"
    } else if job_condition(o, "FailureTarget") {
        "FailureTarget"
    } else {
        "Running"
    };
    let succeeded = num(o, "/status/succeeded");
    let completions = match i64_at(o, "/spec/completions") {
        Some(c) => format!("{succeeded}/{c}"),
        None => match i64_at(o, "/spec/parallelism").unwrap_or(1) {
            par if par > 1 => format!("{succeeded}/1 of {par}"),
            _ => format!("{succeeded}/1"),
        },
    };
    let duration = match (
        seconds_since(str_at(o, "/status/startTime"), now),
        seconds_since(str_at(o, "/status/completionTime"), now),
    ) {
        (Some(s), Some(c)) => human_duration(s - c),
        (Some(s), None) => human_duration(s),
        _ => String::new(),
    };
    let [names, images] = containers_and_images(o, POD_SPEC);
    vec![
        status.into(),
        completions.into(),
        duration.into(),
        created,
        names,
        images,
        selector_text(o.pointer("/spec/selector")).into(),
    ]
}

pub(super) fn cron_job(o: &Value, now: SystemTime, created: Cell) -> Vec<Cell> {
    let last = match str_at(o, "/status/lastScheduleTime") {
        "" => "<none>".to_string(),
        t => age(t, now),
    };
    let time_zone = match str_at(o, "/spec/timeZone") {
        "" => "<none>",
        tz => tz,
    };
    let [names, images] = containers_and_images(o, "/spec/jobTemplate/spec/template/spec");
    vec![
        str_at(o, "/spec/schedule").into(),
        time_zone.into(),
        title_bool(bool_at(o, "/spec/suspend")).into(),
        Cell::Int(arr_at(o, "/status/active").len() as i64),
        last.into(),
        created,
        names,
        images,
        selector_text(o.pointer("/spec/jobTemplate/spec/selector")).into(),
    ]
}

pub(super) fn hpa(o: &Value, created: Cell) -> Vec<Cell> {
    vec![
        format!(
            "{}/{}",
            str_at(o, "/spec/scaleTargetRef/kind"),
            str_at(o, "/spec/scaleTargetRef/name")
        )
        .into(),
        hpa_targets(o).into(),
        i64_at(o, "/spec/minReplicas")
            .unwrap_or(1)
            .to_string()
            .into(),
        Cell::Int(num(o, "/spec/maxReplicas")),
        Cell::Int(num(o, "/status/currentReplicas")),
        created,
    ]
}

/// TARGETS: `cpu: 40%/50%` per metric, the current value from the status at the same
/// index, two at most then `+ N more...`.
fn hpa_targets(o: &Value) -> String {
    const MAX: usize = 2;
    let specs = arr_at(o, "/spec/metrics");
    if specs.is_empty() {
        return "<none>".into();
    }
    let statuses = arr_at(o, "/status/currentMetrics");
    let current = |i: usize, source: &str, field: &str| -> Option<String> {
        let v = statuses
            .get(i)?
            .pointer(&format!("/{source}/current/{field}"))?;
        Some(match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
    };
    let unknown = || "<unknown>".to_string();
    let list: Vec<String> = specs
        .iter()
        .enumerate()
        .map(|(i, m)| match str_at(m, "/type") {
            ty @ ("External" | "Object") => {
                let source = if ty == "External" {
                    "external"
                } else {
                    "object"
                };
                let avg = str_at(m, &format!("/{source}/target/averageValue"));
                if avg.is_empty() {
                    let cur = current(i, source, "value").unwrap_or_else(unknown);
                    format!("{cur}/{}", str_at(m, &format!("/{source}/target/value")))
                } else {
                    let cur = current(i, source, "averageValue").unwrap_or_else(unknown);
                    format!("{cur}/{avg} (avg)")
                }
            }
            "Pods" => {
                let cur = current(i, "pods", "averageValue").unwrap_or_else(unknown);
                format!("{cur}/{}", str_at(m, "/pods/target/averageValue"))
            }
            ty @ ("Resource" | "ContainerResource") => {
                let source = if ty == "Resource" {
                    "resource"
                } else {
                    "containerResource"
                };
                let name = str_at(m, &format!("/{source}/name"));
                let avg = str_at(m, &format!("/{source}/target/averageValue"));
                if avg.is_empty() {
                    let cur = current(i, source, "averageUtilization")
                        .map_or_else(unknown, |c| format!("{c}%"));
                    let target = i64_at(m, &format!("/{source}/target/averageUtilization"))
                        .map_or("<auto>".to_string(), |t| format!("{t}%"));
                    format!("{name}: {cur}/{target}")
                } else {
                    let cur = current(i, source, "averageValue").unwrap_or_else(unknown);
                    format!("{name}: {cur}/{avg}")
                }
            }
            _ => "<unknown type>".to_string(),
        })
        .collect();
    if list.len() > MAX {
        format!("{} + {} more...", list[..MAX].join(", "), list.len() - MAX)
    } else {
        list.join(", ")
    }
}
