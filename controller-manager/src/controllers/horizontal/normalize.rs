//! From the metrics' proposal to the replica count to set (Kubernetes'
//! `normalizeDesiredReplicas` and `normalizeDesiredReplicasWithBehaviors`), pure apart from
//! the per-HPA history passed in: stabilization over recent recommendations, the scale
//! rate limits, and the min/max clamp, each with the condition Kubernetes reports.

use proto::k8s::{HorizontalPodAutoscalerBehavior, HpaScalingPolicy, HpaScalingRules};
use std::time::{Duration, SystemTime};

/// A recommendation or a scale event, as remembered per HPA, stamped by the controller's
/// clock (wall time, as Kubernetes' `time.Now()`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    pub at: SystemTime,
    pub value: i32,
}

/// What one HPA's earlier syncs left behind.
#[derive(Debug, Default, Clone)]
pub struct History {
    pub recommendations: Vec<Sample>,
    /// Replicas added by each scale-up (behavior rate limits).
    pub scale_ups: Vec<Sample>,
    /// Replicas removed by each scale-down.
    pub scale_downs: Vec<Sample>,
}

/// A condition to set: (status True?, reason, message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cond {
    pub status: bool,
    pub reason: &'static str,
    pub message: String,
}

impl Cond {
    fn new(status: bool, reason: &'static str, message: impl Into<String>) -> Self {
        Cond {
            status,
            reason,
            message: message.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Normalized {
    pub replicas: i32,
    pub able_to_scale: Cond,
    pub scaling_limited: Cond,
}

fn within_range() -> Cond {
    Cond::new(
        false,
        "DesiredWithinRange",
        "the desired count is within the acceptable range",
    )
}

fn ready_for_new_scale() -> Cond {
    Cond::new(
        true,
        "ReadyForNewScale",
        "recommended size matches current size",
    )
}

/// How long before `now` a sample was taken; zero for one stamped later (the wall clock
/// was set back), so such a sample counts as recent rather than failing.
fn age(now: SystemTime, at: SystemTime) -> Duration {
    now.duration_since(at).unwrap_or_default()
}

/// Remembers `value` at `now`, reusing the slot of a sample older than `keep` (as
/// Kubernetes does, so the list stays as long as the window holds samples).
fn remember(list: &mut Vec<Sample>, value: i32, now: SystemTime, keep: Duration) {
    let sample = Sample { at: now, value };
    match list.iter().position(|s| age(now, s.at) > keep) {
        Some(i) => list[i] = sample,
        None => list.push(sample),
    }
}

/// Without `behavior` (Kubernetes' normalizeDesiredReplicas): the highest recommendation
/// of the downscale stabilization window, then min/max and the scale-up limit
/// `max(2 * current, 4)`.
pub fn without_behavior(
    history: &mut History,
    current: i32,
    proposed: i32,
    min: i32,
    max: i32,
    downscale_window: Duration,
    now: SystemTime,
) -> Normalized {
    let mut stabilized = proposed;
    for r in &history.recommendations {
        if age(now, r.at) <= downscale_window {
            stabilized = stabilized.max(r.value);
        }
    }
    remember(
        &mut history.recommendations,
        proposed,
        now,
        downscale_window,
    );
    let able_to_scale = if stabilized != proposed {
        Cond::new(
            true,
            "ScaleDownStabilized",
            "recent recommendations were higher than current one, applying the highest recent recommendation",
        )
    } else {
        ready_for_new_scale()
    };
    let scale_up_limit = current.saturating_mul(2).max(4);
    let (upper, upper_cond) = if max > scale_up_limit {
        (
            scale_up_limit,
            Cond::new(
                true,
                "ScaleUpLimit",
                "the desired replica count is increasing faster than the maximum scale rate",
            ),
        )
    } else {
        (
            max,
            Cond::new(
                true,
                "TooManyReplicas",
                "the desired replica count is more than the maximum replica count",
            ),
        )
    };
    let (replicas, scaling_limited) = if stabilized < min {
        (
            min,
            Cond::new(
                true,
                "TooFewReplicas",
                "the desired replica count is less than the minimum replica count",
            ),
        )
    } else if stabilized > upper {
        (upper, upper_cond)
    } else {
        (stabilized, within_range())
    };
    Normalized {
        replicas,
        able_to_scale,
        scaling_limited,
    }
}

/// Kubernetes' defaults for a behavior section (SetDefaults_HorizontalPodAutoscalerBehavior):
/// scale-up immediately by max(4 pods, 100%) per 15 s; scale-down over the window
/// (unset: `downscale_window`), by at most 100% per 15 s.
pub fn defaulted_rules(
    behavior: &HorizontalPodAutoscalerBehavior,
    downscale_window: Duration,
) -> (HpaScalingRules, HpaScalingRules) {
    let policy = |t: &str, value: i32| HpaScalingPolicy {
        r#type: t.into(),
        value,
        period_seconds: 15,
    };
    let mut up = behavior.scale_up.clone().unwrap_or_default();
    up.stabilization_window_seconds.get_or_insert(0);
    up.select_policy.get_or_insert_with(|| "Max".into());
    if up.policies.is_empty() {
        up.policies = vec![policy("Pods", 4), policy("Percent", 100)];
    }
    let mut down = behavior.scale_down.clone().unwrap_or_default();
    down.stabilization_window_seconds
        .get_or_insert(i32::try_from(downscale_window.as_secs()).unwrap_or(i32::MAX));
    down.select_policy.get_or_insert_with(|| "Max".into());
    if down.policies.is_empty() {
        down.policies = vec![policy("Percent", 100)];
    }
    (up, down)
}

fn secs(s: Option<i32>) -> Duration {
    Duration::from_secs(u64::try_from(s.unwrap_or(0)).unwrap_or(0))
}

/// Replicas changed by the events of the last `period`.
fn changed_within(events: &[Sample], period: Duration, now: SystemTime) -> i32 {
    events
        .iter()
        .filter(|e| age(now, e.at) < period)
        .fold(0i32, |a, e| a.saturating_add(e.value))
}

/// Kubernetes' calculateScaleUpLimitWithScalingRules / calculateScaleDownLimitWithBehaviors.
fn rate_limit(
    current: i32,
    history: &History,
    rules: &HpaScalingRules,
    up: bool,
    now: SystemTime,
) -> i32 {
    let select = rules.select_policy.as_deref().unwrap_or("Max");
    if select == "Disabled" {
        return current;
    }
    // "Max" picks the policy allowing the most change.
    let most_change = select != "Min";
    let mut result: Option<i32> = None;
    for p in &rules.policies {
        let period = secs(Some(p.period_seconds));
        let added = changed_within(&history.scale_ups, period, now);
        let removed = changed_within(&history.scale_downs, period, now);
        let start = f64::from(current - added + removed);
        let proposed = match (up, p.r#type.as_str()) {
            (true, "Pods") => start + f64::from(p.value),
            (true, _) => (start * (1.0 + f64::from(p.value) / 100.0)).ceil(),
            (false, "Pods") => start - f64::from(p.value),
            (false, _) => (start * (1.0 - f64::from(p.value) / 100.0)).trunc(),
        } as i32;
        let pick_larger = most_change == up;
        result = Some(match result {
            None => proposed,
            Some(r) if pick_larger => r.max(proposed),
            Some(r) => r.min(proposed),
        });
    }
    result.unwrap_or(current)
}

/// With `behavior` (Kubernetes' normalizeDesiredReplicasWithBehaviors): the lowest recent
/// recommendation over the scale-up window when going up, the highest over the scale-down
/// window when going down, then the policies' rate limits and min/max.
#[allow(clippy::too_many_arguments)]
pub fn with_behavior(
    history: &mut History,
    current: i32,
    proposed: i32,
    min: i32,
    max: i32,
    behavior: &HorizontalPodAutoscalerBehavior,
    downscale_window: Duration,
    now: SystemTime,
) -> Normalized {
    let (up, down) = defaulted_rules(behavior, downscale_window);
    let up_window = secs(up.stabilization_window_seconds);
    let down_window = secs(down.stabilization_window_seconds);
    let going_up = proposed >= current;
    let window = if going_up { up_window } else { down_window };
    let mut stabilized = proposed;
    for r in &history.recommendations {
        if age(now, r.at) < window {
            stabilized = if going_up {
                stabilized.min(r.value)
            } else {
                stabilized.max(r.value)
            };
        }
    }
    remember(
        &mut history.recommendations,
        proposed,
        now,
        up_window.max(down_window),
    );
    let able_to_scale = if stabilized == proposed {
        ready_for_new_scale()
    } else if going_up {
        Cond::new(
            true,
            "ScaleUpStabilized",
            "recent recommendations were lower than current one, applying the lowest recent recommendation",
        )
    } else {
        Cond::new(
            true,
            "ScaleDownStabilized",
            "recent recommendations were higher than current one, applying the highest recent recommendation",
        )
    };
    let limited = |replicas: i32, reason: &'static str, message: &str| Normalized {
        replicas,
        able_to_scale: able_to_scale.clone(),
        scaling_limited: Cond::new(true, reason, message),
    };
    if stabilized > current {
        let limit = rate_limit(current, history, &up, true, now).max(current);
        let (upper, reason, message) = if max > limit {
            (
                limit,
                "ScaleUpLimit",
                "the desired replica count is increasing faster than the maximum scale rate",
            )
        } else {
            (
                max,
                "TooManyReplicas",
                "the desired replica count is more than the maximum replica count",
            )
        };
        if stabilized > upper {
            return limited(upper, reason, message);
        }
    } else if stabilized < current {
        let limit = rate_limit(current, history, &down, false, now).min(current);
        let (lower, reason, message) = if min < limit {
            (
                limit,
                "ScaleDownLimit",
                "the desired replica count is decreasing faster than the maximum scale rate",
            )
        } else {
            (
                min,
                "TooFewReplicas",
                "the desired replica count is less than the minimum replica count",
            )
        };
        if stabilized < lower {
            return limited(lower, reason, message);
        }
    }
    Normalized {
        replicas: stabilized,
        able_to_scale,
        scaling_limited: within_range(),
    }
}

/// Notes a rescale from `from` to `to` for the behavior rate limits (Kubernetes'
/// storeScaleEvent), forgetting events older than the longest policy period.
pub fn record_scale(history: &mut History, from: i32, to: i32, keep: Duration, now: SystemTime) {
    if to > from {
        remember(&mut history.scale_ups, to - from, now, keep);
    } else if to < from {
        remember(&mut history.scale_downs, from - to, now, keep);
    }
}
