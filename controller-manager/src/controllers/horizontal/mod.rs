//! HorizontalPodAutoscaler controller (Kubernetes' `pkg/controller/podautoscaler`): every
//! `--horizontal-pod-autoscaler-sync-period` each HPA's target is read through its scale
//! subresource, its pods' usage is fetched (`MetricsSource`), the Resource metrics
//! (cpu, memory; Utilization or AverageValue) propose a replica count
//! (`calculator`), stabilization, rate limits and min/max make it the count to set
//! (`normalize`), the scale is written when it differs, and the HPA's status records what
//! was seen and decided.
//!
//! - `calculator.rs`: Kubernetes' replica_calculator, pure.
//! - `normalize.rs`: stabilization windows, behavior policies, min/max, pure.
//! - `metrics.rs`: `MetricsSource`, the resource metrics API source and a fake.

pub mod calculator;
pub mod metrics;
pub mod normalize;

use crate::context::Context;
use crate::error::Error;
use calculator::{Proposal, Target};
use client::runtime::{Action, Controller, OnConflict, Request, backoff, update_status_if_changed};
use client::store::split_key;
use client::{InformerEvent, Store, WorkQueue};
use futures::future::BoxFuture;
use metrics::MetricsSource;
use normalize::{Cond, History};
use proto::Resource;
use proto::k8s::{
    ContainerResourceMetricStatus, HorizontalPodAutoscaler, HorizontalPodAutoscalerCondition,
    HorizontalPodAutoscalerStatus, MetricSpec, MetricStatus, MetricValueStatus, Pod,
    ResourceMetricStatus, Scale,
};
use proto::selector::LabelSelector;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Kubernetes' name in `--controllers`.
pub const NAME: &str = "horizontalpodautoscaling";
/// The Events' source, as Kubernetes names it.
const SOURCE: &str = "horizontal-pod-autoscaler";

pub fn start(
    ctx: Arc<Context>,
    cancel: CancellationToken,
) -> BoxFuture<'static, Result<(), Error>> {
    let source: Arc<dyn MetricsSource> = Arc::new(metrics::ResourceMetrics::new(
        client::MetricsApi::new(ctx.client.clone()),
    ));
    Box::pin(run_with(ctx, cancel, source))
}

struct Autoscaler {
    ctx: Arc<Context>,
    pod_store: Store<Pod>,
    metrics: Arc<dyn MetricsSource>,
    /// Recommendations and scale events per HPA key (lost on restart, as in Kubernetes).
    history: Arc<Mutex<HashMap<String, History>>>,
}

/// Runs the controller with this metrics source (tests pass a fake).
pub async fn run_with(
    ctx: Arc<Context>,
    cancel: CancellationToken,
    metrics: Arc<dyn MetricsSource>,
) -> Result<(), Error> {
    let pod_informer = ctx.informer::<Pod>();
    let history: Arc<Mutex<HashMap<String, History>>> = Arc::default();
    let h = history.clone();
    let controller = Controller::new_with(
        NAME,
        ctx.informer::<HorizontalPodAutoscaler>(),
        move |ev, q| on_hpa(&h, ev, q),
    )
    .reads(pod_informer.clone())
    .workers(ctx.config.concurrent_workers);
    let a = Arc::new(Autoscaler {
        ctx,
        pod_store: pod_informer.store(),
        metrics,
        history,
    });
    controller
        .run(
            |req: Request<HorizontalPodAutoscaler>, a: Arc<Autoscaler>| async move {
                a.sync(&req.key, req.object).await
            },
            backoff,
            a,
            cancel,
        )
        .await;
    Ok(())
}

fn lock_history(
    history: &Mutex<HashMap<String, History>>,
) -> std::sync::MutexGuard<'_, HashMap<String, History>> {
    history.lock().unwrap_or_else(|p| p.into_inner())
}

fn on_hpa(
    history: &Mutex<HashMap<String, History>>,
    ev: &InformerEvent<HorizontalPodAutoscaler>,
    queue: &WorkQueue<String>,
) {
    match ev {
        InformerEvent::Added(_) => queue.add(ev.key()),
        // Our own status writes change nothing to act on; the periodic requeue covers
        // the rest.
        InformerEvent::Modified { old, new } if old.spec != new.spec => queue.add(ev.key()),
        InformerEvent::Deleted(_) => {
            lock_history(history).remove(&ev.key());
            queue.add(ev.key());
        }
        _ => {}
    }
}

/// The metric's name in events and conditions, as Kubernetes words it (a
/// ContainerResource utilization says so; its average value is worded as a Resource's).
fn metric_name(resource: &str, container: &str, target: Target) -> String {
    match target {
        Target::Utilization(_) if !container.is_empty() => {
            format!("{resource} container resource utilization (percentage of request)")
        }
        Target::Utilization(_) => {
            format!("{resource} resource utilization (percentage of request)")
        }
        Target::AverageValue(_) => format!("{resource} resource"),
    }
}

/// A milli-value as a quantity string: `250m`, `2`.
fn quantity(milli: i64) -> String {
    if milli % 1000 == 0 {
        (milli / 1000).to_string()
    } else {
        format!("{milli}m")
    }
}

/// The resource, container ("" for a Resource metric, the whole pod) and target of a
/// metric this controller can compute, or why not.
pub fn resource_target(m: &MetricSpec) -> Result<(String, String, Target), String> {
    let (name, container, target) = match (m.r#type.as_str(), &m.container_resource) {
        ("Resource", _) => {
            let r = m
                .resource
                .as_ref()
                .ok_or("invalid resource metric source: no resource")?;
            (&r.name, "", &r.target)
        }
        ("ContainerResource", Some(r)) if !r.container.is_empty() => {
            (&r.name, r.container.as_str(), &r.target)
        }
        ("ContainerResource", _) => {
            return Err("invalid container resource metric source: no container".into());
        }
        (other, _) => {
            return Err(format!(
                "metric type {other:?} is not supported (only Resource and ContainerResource)"
            ));
        }
    };
    if name != metrics::CPU && name != metrics::MEMORY {
        return Err(format!(
            "resource {name:?} is not supported (cpu or memory)"
        ));
    }
    let t = target.clone().unwrap_or_default();
    let target = match (t.r#type.as_str(), t.average_utilization) {
        ("Utilization", Some(u)) => Target::Utilization(u),
        ("AverageValue", _) if !t.average_value.is_empty() => {
            let milli = t
                .average_value
                .parse::<proto::quantity::Quantity>()
                .ok()
                .and_then(|q| q.try_milli_value())
                .ok_or_else(|| format!("invalid averageValue {:?}", t.average_value))?;
            Target::AverageValue(milli)
        }
        _ => {
            return Err(
                "invalid resource metric source: neither a utilization target nor a value target was set"
                    .into(),
            );
        }
    };
    Ok((name.clone(), container.to_string(), target))
}

/// Sets a condition as Kubernetes' setCondition: the transition time moves only when the
/// status changes.
fn set_condition(
    conds: &mut Vec<HorizontalPodAutoscalerCondition>,
    kind: &str,
    c: &Cond,
    now: &str,
) {
    let status = if c.status { "True" } else { "False" };
    match conds.iter_mut().find(|x| x.r#type == kind) {
        Some(x) => {
            if x.status != status {
                x.last_transition_time = now.to_string();
            }
            x.status = status.into();
            x.reason = c.reason.into();
            x.message = c.message.clone();
        }
        None => conds.push(HorizontalPodAutoscalerCondition {
            r#type: kind.into(),
            status: status.into(),
            last_transition_time: now.to_string(),
            reason: c.reason.into(),
            message: c.message.clone(),
        }),
    }
}

fn cond(status: bool, reason: &'static str, message: impl Into<String>) -> Cond {
    Cond {
        status,
        reason,
        message: message.into(),
    }
}

/// What the metrics said.
struct Computed {
    replicas: i32,
    metric_name: String,
    statuses: Vec<MetricStatus>,
}

impl Autoscaler {
    fn lock_history(&self) -> std::sync::MutexGuard<'_, HashMap<String, History>> {
        lock_history(&self.history)
    }

    async fn sync(
        &self,
        key: &str,
        hpa: Option<Arc<HorizontalPodAutoscaler>>,
    ) -> Result<Action, Error> {
        let Some(hpa) = hpa else {
            self.lock_history().remove(key);
            return Ok(Action::Done);
        };
        if !hpa.meta().deletion_timestamp.is_empty() {
            return Ok(Action::Done);
        }
        self.reconcile(key, &hpa).await?;
        Ok(Action::RequeueAfter(
            self.ctx.config.horizontal_pod_autoscaler_sync_period,
        ))
    }

    fn event(&self, hpa: &HorizontalPodAutoscaler, warning: bool, reason: &str, message: String) {
        self.ctx.events.event(SOURCE, hpa, warning, reason, message);
    }

    /// Kubernetes' reconcileAutoscaler.
    async fn reconcile(&self, key: &str, hpa: &HorizontalPodAutoscaler) -> Result<(), Error> {
        let (namespace, _) = split_key(key);
        let spec = hpa.spec.clone().unwrap_or_default();
        let now = self.ctx.clock.now();
        let now_str = proto::time::format_rfc3339(now);
        let mut status = hpa.status.clone().unwrap_or_default();
        status.observed_generation = Some(hpa.meta().generation);
        let target_ref = spec.scale_target_ref.clone().unwrap_or_default();
        let plural = match target_ref.kind.as_str() {
            "Deployment" => Some("deployments"),
            "ReplicaSet" => Some("replicasets"),
            "StatefulSet" => Some("statefulsets"),
            _ => None,
        };
        let scale = match plural {
            None => Err(format!(
                "no scale subresource for kind {:?} (Deployment, ReplicaSet or StatefulSet)",
                target_ref.kind
            )),
            Some(p) => self
                .ctx
                .client
                .get_scale(p, namespace, &target_ref.name)
                .await
                .map_err(|e| e.to_string()),
        };
        let scale = match scale {
            Ok(s) => s,
            Err(e) => {
                self.event(hpa, true, "FailedGetScale", e.clone());
                set_condition(
                    &mut status.conditions,
                    "AbleToScale",
                    &cond(
                        false,
                        "FailedGetScale",
                        format!(
                            "the HPA controller was unable to get the target's current scale: {e}"
                        ),
                    ),
                    &now_str,
                );
                return self.write_status(hpa, status).await;
            }
        };
        let plural = plural.unwrap_or_default();
        set_condition(
            &mut status.conditions,
            "AbleToScale",
            &cond(
                true,
                "SucceededGetScale",
                "the HPA controller was able to get the target's current scale",
            ),
            &now_str,
        );
        // Kubernetes reports (and decides from) the target's spec.replicas.
        let current = scale.spec.as_ref().map_or(0, |s| s.replicas);
        status.current_replicas = current;
        {
            // Kubernetes' recordInitialRecommendation: a new HPA (or a restarted
            // controller) starts its window at the current size, so it does not scale
            // down at once on its first sample.
            let mut hist = self.lock_history();
            let h = hist.entry(key.to_string()).or_default();
            if h.recommendations.is_empty() {
                h.recommendations.push(normalize::Sample {
                    at: now,
                    value: current,
                });
            }
        }
        let min = spec.min_replicas.unwrap_or(1);
        let max = spec.max_replicas;
        let (desired, reason) = if current == 0 && min != 0 {
            // Kubernetes: a target scaled to zero by hand is left alone.
            status.current_metrics.clear();
            set_condition(
                &mut status.conditions,
                "ScalingActive",
                &cond(
                    false,
                    "ScalingDisabled",
                    "scaling is disabled since the replica count of the target is zero",
                ),
                &now_str,
            );
            (0, String::new())
        } else if current > max {
            (
                max,
                "Current number of replicas above Spec.MaxReplicas".into(),
            )
        } else if current < min {
            (
                min,
                "Current number of replicas below Spec.MinReplicas".into(),
            )
        } else if current == 0 {
            (
                1,
                "Current number of replicas must be greater than 0".into(),
            )
        } else {
            let computed = match self
                .compute_replicas(hpa, namespace, &scale, current, &mut status, &now_str)
                .await
            {
                Ok(c) => c,
                Err(e) => {
                    self.event(hpa, true, "FailedComputeMetricsReplicas", e);
                    return self.write_status(hpa, status).await;
                }
            };
            status.current_metrics = computed.statuses;
            let reason = if computed.replicas > current {
                format!("{} above target", computed.metric_name)
            } else {
                "All metrics below target".into()
            };
            let downscale = self
                .ctx
                .config
                .horizontal_pod_autoscaler_downscale_stabilization;
            // Read again: the metrics took a while.
            let now = self.ctx.clock.now();
            let n = {
                let mut hist = self.lock_history();
                let h = hist.entry(key.to_string()).or_default();
                match &spec.behavior {
                    Some(b) => normalize::with_behavior(
                        h,
                        current,
                        computed.replicas,
                        min,
                        max,
                        b,
                        downscale,
                        now,
                    ),
                    None => normalize::without_behavior(
                        h,
                        current,
                        computed.replicas,
                        min,
                        max,
                        downscale,
                        now,
                    ),
                }
            };
            set_condition(
                &mut status.conditions,
                "AbleToScale",
                &n.able_to_scale,
                &now_str,
            );
            set_condition(
                &mut status.conditions,
                "ScalingLimited",
                &n.scaling_limited,
                &now_str,
            );
            (n.replicas, reason)
        };
        status.desired_replicas = desired;
        if desired != current {
            let mut new_scale = scale.clone();
            new_scale.spec.get_or_insert_with(Default::default).replicas = desired;
            match self.ctx.client.update_scale(plural, new_scale).await {
                Ok(_) => {
                    tracing::info!(from = current, to = desired, %reason, "rescaled");
                    self.event(
                        hpa,
                        false,
                        "SuccessfulRescale",
                        format!("New size: {desired}; reason: {reason}"),
                    );
                    set_condition(
                        &mut status.conditions,
                        "AbleToScale",
                        &cond(
                            true,
                            "SucceededRescale",
                            format!(
                                "the HPA controller was able to update the target scale to {desired}"
                            ),
                        ),
                        &now_str,
                    );
                    status.last_scale_time = now_str.clone();
                    let keep = spec
                        .behavior
                        .iter()
                        .flat_map(|b| [&b.scale_up, &b.scale_down])
                        .flatten()
                        .flat_map(|r| r.policies.iter())
                        .map(|p| Duration::from_secs(u64::try_from(p.period_seconds).unwrap_or(0)))
                        .max()
                        .unwrap_or(Duration::from_secs(15));
                    let mut hist = self.lock_history();
                    let h = hist.entry(key.to_string()).or_default();
                    normalize::record_scale(h, current, desired, keep, self.ctx.clock.now());
                }
                Err(e) => {
                    self.event(
                        hpa,
                        true,
                        "FailedRescale",
                        format!("New size: {desired}; reason: {reason}; error: {e}"),
                    );
                    set_condition(
                        &mut status.conditions,
                        "AbleToScale",
                        &cond(
                            false,
                            "FailedUpdateScale",
                            format!(
                                "the HPA controller was unable to update the target scale: {e}"
                            ),
                        ),
                        &now_str,
                    );
                    status.desired_replicas = current;
                }
            }
        }
        self.write_status(hpa, status).await
    }

    /// Kubernetes' computeReplicasForMetrics: every metric's proposal, the largest wins.
    /// Err (with ScalingActive=False set) when no metric could be computed, or when some
    /// failed and the others would scale down.
    async fn compute_replicas(
        &self,
        hpa: &HorizontalPodAutoscaler,
        namespace: &str,
        scale: &Scale,
        current: i32,
        status: &mut HorizontalPodAutoscalerStatus,
        now: &str,
    ) -> Result<Computed, String> {
        let selector_str = scale
            .status
            .as_ref()
            .map(|s| s.selector.clone())
            .unwrap_or_default();
        let selector = match LabelSelector::parse(&selector_str) {
            Ok(s) if !selector_str.is_empty() => s,
            other => {
                let (reason, msg) = match other {
                    Err(e) => (
                        "InvalidSelector",
                        format!(
                            "couldn't convert selector into a corresponding internal selector object: {e}"
                        ),
                    ),
                    Ok(_) => (
                        "InvalidSelector",
                        "the HPA target's scale is missing a selector".to_string(),
                    ),
                };
                self.event(hpa, true, "SelectorRequired", msg.clone());
                set_condition(
                    &mut status.conditions,
                    "ScalingActive",
                    &cond(false, reason, msg.clone()),
                    now,
                );
                return Err(msg);
            }
        };
        let pods: Vec<Pod> = self
            .pod_store
            .by_namespace(namespace)
            .into_iter()
            .filter(|p| selector.matches(&p.meta().labels))
            .map(|p| p.as_ref().clone())
            .collect();
        let tolerance = self.ctx.config.horizontal_pod_autoscaler_tolerance;
        let spec = hpa.spec.clone().unwrap_or_default();
        let mut best: Option<(i32, String)> = None;
        let mut statuses = Vec::new();
        let mut invalid: Vec<(&'static str, String)> = Vec::new();
        for m in &spec.metrics {
            // Kubernetes' event reason names the kind of metric that failed.
            let failed = if m.r#type == "ContainerResource" {
                "FailedGetContainerResourceMetric"
            } else {
                "FailedGetResourceMetric"
            };
            let (resource, container, target) = match resource_target(m) {
                Ok(x) => x,
                Err(e) => {
                    self.event(hpa, true, failed, e.clone());
                    invalid.push((failed, e));
                    continue;
                }
            };
            let result = match self
                .metrics
                .pod_usage(namespace, &pods, &resource, &container)
                .await
            {
                Err(e) => Err(format!(
                    "unable to get metrics for resource {resource}: {e}"
                )),
                Ok(usage) => calculator::resource_replicas(
                    current, &pods, &usage, &resource, &container, target, tolerance,
                ),
            };
            match result {
                Ok(Proposal {
                    replicas,
                    utilization,
                    average_milli,
                }) => {
                    let name = metric_name(&resource, &container, target);
                    if best.as_ref().is_none_or(|(r, _)| replicas > *r) {
                        best = Some((replicas, name));
                    }
                    let current = Some(MetricValueStatus {
                        value: String::new(),
                        average_value: quantity(average_milli),
                        average_utilization: utilization,
                    });
                    statuses.push(if container.is_empty() {
                        MetricStatus {
                            r#type: "Resource".into(),
                            resource: Some(ResourceMetricStatus {
                                name: resource.clone(),
                                current,
                            }),
                            ..Default::default()
                        }
                    } else {
                        MetricStatus {
                            r#type: "ContainerResource".into(),
                            container_resource: Some(ContainerResourceMetricStatus {
                                name: resource.clone(),
                                current,
                                container: container.clone(),
                            }),
                            ..Default::default()
                        }
                    });
                }
                Err(e) => {
                    self.event(hpa, true, failed, e.clone());
                    invalid.push((failed, format!("failed to get {resource} utilization: {e}")));
                }
            }
        }
        let fail = |invalid: &[(&'static str, String)],
                    status: &mut HorizontalPodAutoscalerStatus| {
            let (reason, first) = invalid
                .first()
                .cloned()
                .unwrap_or(("FailedGetResourceMetric", "no metrics".to_string()));
            set_condition(
                &mut status.conditions,
                "ScalingActive",
                &cond(
                    false,
                    reason,
                    format!("the HPA was unable to compute the replica count: {first}"),
                ),
                now,
            );
            format!(
                "invalid metrics ({} invalid out of {}), first error is: {first}",
                invalid.len(),
                spec.metrics.len()
            )
        };
        let Some((replicas, metric_name)) = best else {
            return Err(fail(&invalid, status));
        };
        if !invalid.is_empty() && replicas < current {
            // Never scale down on partial information.
            return Err(fail(&invalid, status));
        }
        set_condition(
            &mut status.conditions,
            "ScalingActive",
            &cond(
                true,
                "ValidMetricFound",
                format!(
                    "the HPA was able to successfully calculate a replica count from {metric_name}"
                ),
            ),
            now,
        );
        Ok(Computed {
            replicas,
            metric_name,
            statuses,
        })
    }

    /// Writes the status when it changed (a Conflict retries the sync with back-off).
    async fn write_status(
        &self,
        hpa: &HorizontalPodAutoscaler,
        status: HorizontalPodAutoscalerStatus,
    ) -> Result<(), Error> {
        let api = self
            .ctx
            .api_in::<HorizontalPodAutoscaler>(&hpa.meta().namespace);
        update_status_if_changed(&api, hpa, status, OnConflict::Fail).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
