//! kube-scheduler's metrics (pkg/scheduler/metrics), under its names and buckets, in the
//! process's one registry. The scheduling loop and the queue record; the planners
//! (`schedule`, `preemption`) stay pure.

use std::sync::LazyLock;
use std::time::Duration;
use telemetry::metrics::{Counter, Family, Gauge, Histogram, exponential_buckets, register};

type Labels<const N: usize> = [(&'static str, String); N];

/// An attempt's result label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptResult {
    Scheduled,
    /// No node fits (a plugin rejected every node).
    Unschedulable,
    /// An internal problem: a plugin error, a failed binding.
    Error,
}

impl AttemptResult {
    pub fn as_str(self) -> &'static str {
        match self {
            AttemptResult::Scheduled => "scheduled",
            AttemptResult::Unschedulable => "unschedulable",
            AttemptResult::Error => "error",
        }
    }
}

struct Metrics {
    attempts: Family<Labels<2>, Counter>,
    attempt_duration: Family<Labels<2>, Histogram, fn() -> Histogram>,
    pending: Family<Labels<1>, Gauge>,
    preemption_attempts: Counter,
    preemption_victims: Histogram,
    pod_attempts: Histogram,
    incoming: Family<Labels<2>, Counter>,
}

static METRICS: LazyLock<Metrics> = LazyLock::new(|| Metrics {
    attempts: register(
        "scheduler_schedule_attempts",
        "Number of attempts to schedule pods, by the result. 'unschedulable' means a pod \
         could not be scheduled, while 'error' means an internal scheduler problem.",
        Family::default(),
    ),
    attempt_duration: register(
        "scheduler_scheduling_attempt_duration_seconds",
        "Scheduling attempt latency in seconds (scheduling algorithm + binding)",
        Family::new_with_constructor(|| Histogram::new(exponential_buckets(0.001, 2.0, 15))),
    ),
    pending: register(
        "scheduler_pending_pods",
        "Number of pending pods, by the queue type. 'active' means number of pods in \
         activeQ; 'backoff' means number of pods in backoffQ; 'unschedulable' means number \
         of pods in unschedulablePods that the scheduler attempted to schedule and failed; \
         'gated' is the number of unschedulable pods that the scheduler never attempted to \
         schedule because they are gated.",
        Family::default(),
    ),
    preemption_attempts: register(
        "scheduler_preemption_attempts",
        "Total preemption attempts in the cluster till now",
        Counter::default(),
    ),
    preemption_victims: register(
        "scheduler_preemption_victims",
        "Number of selected preemption victims",
        Histogram::new(exponential_buckets(1.0, 2.0, 7)),
    ),
    pod_attempts: register(
        "scheduler_pod_scheduling_attempts",
        "Number of attempts to successfully schedule a pod.",
        Histogram::new(exponential_buckets(1.0, 2.0, 5)),
    ),
    incoming: register(
        "scheduler_queue_incoming_pods",
        "Number of pods added to scheduling queues by event and queue type.",
        Family::default(),
    ),
});

/// One scheduling attempt of `profile` finished with `result` after `elapsed` (for a
/// scheduled pod: the algorithm plus its binding, as Kubernetes measures).
pub fn attempt(result: AttemptResult, profile: &str, elapsed: Duration) {
    let labels = [
        ("result", result.as_str().to_string()),
        ("profile", profile.to_string()),
    ];
    METRICS.attempts.get_or_create(&labels).inc();
    METRICS
        .attempt_duration
        .get_or_create(&labels)
        .observe(elapsed.as_secs_f64());
}

/// A pod was bound after `attempts` attempts.
pub fn scheduled_after(attempts: u32) {
    METRICS.pod_attempts.observe(f64::from(attempts));
}

/// The queue's sizes now. Nothing here gates pods (no scheduling gates yet): `gated` is 0.
pub fn pending(active: usize, backoff: usize, unschedulable: usize) {
    let n = |v: usize| i64::try_from(v).unwrap_or(i64::MAX);
    for (queue, v) in [
        ("active", n(active)),
        ("backoff", n(backoff)),
        ("unschedulable", n(unschedulable)),
        ("gated", 0),
    ] {
        METRICS
            .pending
            .get_or_create(&[("queue", queue.to_string())])
            .set(v);
    }
}

/// PostFilter (DefaultPreemption) ran for an unschedulable pod.
pub fn preemption_attempt() {
    METRICS.preemption_attempts.inc();
}

/// A preemption chose `n` victims.
pub fn preemption_victims(n: usize) {
    METRICS.preemption_victims.observe(n as f64);
}

/// A pod entered `queue` ("active", "backoff", "unschedulable") because of `event`
/// (PodAdd, ScheduleAttemptFailure, BackoffComplete, a cluster event's name, ...).
pub fn incoming(queue: &'static str, event: &'static str) {
    METRICS
        .incoming
        .get_or_create(&[("queue", queue.to_string()), ("event", event.to_string())])
        .inc();
}

/// Tests: one series' value in the encoded registry (`name{labels}` exactly as written).
#[cfg(test)]
pub(crate) fn sample(series: &str) -> Option<f64> {
    telemetry::metrics::encode().lines().find_map(|l| {
        let rest = l.strip_prefix(series)?.strip_prefix(' ')?;
        rest.split(' ').next()?.parse().ok()
    })
}
