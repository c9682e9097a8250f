//! Kubernetes' `replica_calculator.go` for Resource metrics, pure: from the target's pods,
//! their usage samples and the metric's target, the replica count the metric asks for.
//!
//! - Pods are grouped as Kubernetes' `groupPods`: being deleted or Failed -> ignored;
//!   Pending (or, for cpu, not Ready) -> unready; no sample -> missing; the rest are ready and count.
//!   Simplified: Kubernetes also treats a Ready pod as unready during the CPU
//!   initialization period (5 min after start) when its sample predates its readiness; here
//!   readiness alone decides.
//! - Utilization needs a request on every container of every pod (else "missing request
//!   for cpu in container C of Pod P"), and is `sum(usage) * 100 / sum(requests)` over the
//!   ready pods with samples; AverageValue is `sum(usage) / count`.
//! - Within the tolerance (|ratio - 1| <= 0.1) nothing changes. Otherwise missing pods are
//!   assumed at 100% of request (or at the target average) when scaling down and at 0%
//!   when scaling up; unready pods count at 0% when scaling up; if that flips the direction
//!   or lands in the tolerance, nothing changes; else `ceil(ratio * pods)`.

use proto::k8s::Pod;
use std::collections::HashMap;

/// Kubernetes' default `--horizontal-pod-autoscaler-tolerance`.
pub const DEFAULT_TOLERANCE: f64 = 0.1;

/// What a Resource metric aims at.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target {
    /// averageUtilization: percent of the pods' requests.
    Utilization(i32),
    /// averageValue in milli-units (millicores for cpu).
    AverageValue(i64),
}

/// The replica count one metric proposes, and what was measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Proposal {
    pub replicas: i32,
    /// Percent of request (Utilization targets only).
    pub utilization: Option<i32>,
    /// Average usage per counted pod, in milli-units.
    pub average_milli: i64,
}

fn phase(pod: &Pod) -> &str {
    pod.status.as_ref().map_or("", |s| s.phase.as_str())
}

fn ready(pod: &Pod) -> bool {
    pod.status.as_ref().is_some_and(|s| {
        s.conditions
            .iter()
            .any(|c| c.r#type == "Ready" && c.status == "True")
    })
}

fn name(pod: &Pod) -> &str {
    pod.metadata.as_ref().map_or("", |m| m.name.as_str())
}

#[derive(Debug, Default)]
struct Groups<'a> {
    ready: usize,
    unready: Vec<&'a str>,
    missing: Vec<&'a str>,
    ignored: Vec<&'a str>,
}

/// Kubernetes' groupPods (readiness simplified, see the module comment). As there, only
/// cpu samples of not-Ready pods are discarded (memory does not spike at start-up).
fn group_pods<'a>(pods: &'a [Pod], usage: &HashMap<String, i64>, resource: &str) -> Groups<'a> {
    let mut g = Groups::default();
    for pod in pods {
        let n = name(pod);
        let deleting = pod
            .metadata
            .as_ref()
            .is_some_and(|m| !m.deletion_timestamp.is_empty());
        if deleting || phase(pod) == "Failed" {
            g.ignored.push(n);
        } else if phase(pod) == "Pending" {
            g.unready.push(n);
        } else if !usage.contains_key(n) {
            g.missing.push(n);
        } else if resource == "cpu" && (!ready(pod) || phase(pod) != "Running") {
            g.unready.push(n);
        } else {
            g.ready += 1;
        }
    }
    g
}

/// Kubernetes' calculatePodRequests: the sum of every container's request for
/// `resource` (only the named container's when `container` is set), in milli-units, per
/// pod name.
pub fn pod_requests(
    pods: &[Pod],
    resource: &str,
    container: &str,
) -> Result<HashMap<String, i64>, String> {
    let mut out = HashMap::new();
    for pod in pods {
        let mut sum = 0i64;
        let containers = pod.spec.iter().flat_map(|s| s.containers.iter());
        for c in containers.filter(|c| container.is_empty() || c.name == container) {
            let q = c
                .resources
                .as_ref()
                .and_then(|r| r.requests.get(resource))
                .ok_or_else(|| {
                    format!(
                        "missing request for {resource} in container {} of Pod {}",
                        c.name,
                        name(pod)
                    )
                })?;
            let milli = q
                .parse::<proto::quantity::Quantity>()
                .ok()
                .and_then(|q| q.try_milli_value())
                .ok_or_else(|| {
                    format!(
                        "invalid {resource} request {q:?} in container {} of Pod {}",
                        c.name,
                        name(pod)
                    )
                })?;
            sum = sum.saturating_add(milli);
        }
        out.insert(name(pod).to_string(), sum);
    }
    Ok(out)
}

/// (usage ratio, utilization %, average usage) over the pods in `usage` that have a
/// request (Kubernetes' GetResourceUtilizationRatio).
fn utilization_ratio(
    usage: &HashMap<String, i64>,
    requests: &HashMap<String, i64>,
    target: i32,
) -> Result<(f64, i32, i64), String> {
    let (mut used, mut requested, mut n) = (0i64, 0i64, 0i64);
    for (pod, u) in usage {
        if let Some(r) = requests.get(pod) {
            used = used.saturating_add(*u);
            requested = requested.saturating_add(*r);
            n += 1;
        }
    }
    if requested == 0 {
        return Err("no metrics returned matched known pods".into());
    }
    let utilization = i32::try_from(used.saturating_mul(100) / requested).unwrap_or(i32::MAX);
    Ok((
        f64::from(utilization) / f64::from(target.max(1)),
        utilization,
        used / n,
    ))
}

fn average_ratio(usage: &HashMap<String, i64>, target: i64) -> (f64, i64) {
    let n = i64::try_from(usage.len()).unwrap_or(i64::MAX).max(1);
    let avg = usage.values().fold(0i64, |a, v| a.saturating_add(*v)) / n;
    (avg as f64 / target.max(1) as f64, avg)
}

fn ceil_replicas(ratio: f64, pods: usize) -> i32 {
    let r = (ratio * pods as f64).ceil();
    if r >= f64::from(i32::MAX) {
        i32::MAX
    } else {
        r as i32
    }
}

/// The replicas one Resource metric (or ContainerResource metric, of `container`)
/// proposes for a target at `current` replicas whose pods are `pods`, given each pod's
/// usage (milli-units, by pod name).
pub fn resource_replicas(
    current: i32,
    pods: &[Pod],
    usage: &HashMap<String, i64>,
    resource: &str,
    container: &str,
    target: Target,
    tolerance: f64,
) -> Result<Proposal, String> {
    if pods.is_empty() {
        return Err("no pods returned by selector while calculating replica count".into());
    }
    let groups = group_pods(pods, usage, resource);
    // Only ready pods' samples count at first.
    let mut samples: HashMap<String, i64> = usage
        .iter()
        .filter(|(p, _)| {
            !groups.unready.contains(&p.as_str()) && !groups.ignored.contains(&p.as_str())
        })
        .filter(|(p, _)| pods.iter().any(|pod| name(pod) == p.as_str()))
        .map(|(p, u)| (p.clone(), *u))
        .collect();
    if samples.is_empty() {
        return Err("did not receive metrics for targeted pods (pods might be unready)".into());
    }
    let requests = match target {
        Target::Utilization(_) => Some(pod_requests(pods, resource, container)?),
        Target::AverageValue(_) => None,
    };
    let ratio_of = |s: &HashMap<String, i64>| -> Result<(f64, Option<i32>, i64), String> {
        match (target, &requests) {
            (Target::Utilization(t), Some(req)) => {
                let (r, u, avg) = utilization_ratio(s, req, t)?;
                Ok((r, Some(u), avg))
            }
            (Target::AverageValue(t), _) => {
                let (r, avg) = average_ratio(s, t);
                Ok((r, None, avg))
            }
            (Target::Utilization(_), None) => Err("no requests".into()),
        }
    };
    let (ratio, utilization, average_milli) = ratio_of(&samples)?;
    let unchanged = Proposal {
        replicas: current,
        utilization,
        average_milli,
    };
    let within = |r: f64| (1.0 - r).abs() <= tolerance;
    let scale_up_with_unready = !groups.unready.is_empty() && ratio > 1.0;
    if !scale_up_with_unready && groups.missing.is_empty() {
        if within(ratio) {
            return Ok(unchanged);
        }
        return Ok(Proposal {
            replicas: ceil_replicas(ratio, groups.ready),
            ..unchanged
        });
    }
    // Missing pods: assumed at 100% (the target average) on the way down, 0% on the way up.
    for pod in &groups.missing {
        let assumed = if ratio < 1.0 {
            match (target, &requests) {
                (Target::Utilization(_), Some(req)) => req.get(*pod).copied().unwrap_or(0),
                (Target::AverageValue(t), _) => t,
                _ => 0,
            }
        } else if ratio > 1.0 {
            0
        } else {
            continue;
        };
        samples.insert(pod.to_string(), assumed);
    }
    if scale_up_with_unready {
        for pod in &groups.unready {
            samples.insert(pod.to_string(), 0);
        }
    }
    let (new_ratio, _, _) = ratio_of(&samples)?;
    if within(new_ratio) || (ratio < 1.0 && new_ratio > 1.0) || (ratio > 1.0 && new_ratio < 1.0) {
        return Ok(unchanged);
    }
    let replicas = ceil_replicas(new_ratio, samples.len());
    if (new_ratio < 1.0 && replicas > current) || (new_ratio > 1.0 && replicas < current) {
        return Ok(unchanged);
    }
    Ok(Proposal {
        replicas,
        ..unchanged
    })
}
