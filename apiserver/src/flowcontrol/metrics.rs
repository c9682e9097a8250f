//! Kubernetes' flow-control metrics, under its names and labels, in the process's one
//! registry. The per-level series are looked up once, when the levels are built, so a
//! request moves atomics and one histogram, never a family's map.

use std::sync::LazyLock;

use telemetry::metrics::{Counter, Family, Gauge, Histogram, register};

type Labels<const N: usize> = [(&'static str, &'static str); N];

pub(crate) struct Metrics {
    pub rejected: Family<Labels<3>, Counter>,
    pub inqueue: Family<Labels<1>, Gauge>,
    pub executing: Family<Labels<1>, Gauge>,
    pub wait: Family<Labels<2>, Histogram, fn() -> Histogram>,
    pub nominal: Family<Labels<1>, Gauge>,
    pub timeouts: Counter,
}

/// Kubernetes' `apiserver_flowcontrol_request_wait_duration_seconds` buckets.
const WAIT_BUCKETS: [f64; 9] = [0.0, 0.005, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0];

pub(crate) static METRICS: LazyLock<Metrics> = LazyLock::new(|| Metrics {
    rejected: register(
        "apiserver_flowcontrol_rejected_requests",
        "Number of requests rejected by API Priority and Fairness subsystem",
        Family::default(),
    ),
    inqueue: register(
        "apiserver_flowcontrol_current_inqueue_requests",
        "Number of requests currently pending in queues of the API Priority and Fairness subsystem",
        Family::default(),
    ),
    executing: register(
        "apiserver_flowcontrol_current_executing_requests",
        "Number of requests in initial (for a WATCH) or any (for a non-WATCH) execution stage in the API Priority and Fairness subsystem",
        Family::default(),
    ),
    wait: register(
        "apiserver_flowcontrol_request_wait_duration_seconds",
        "Length of time a request spent waiting in its queue",
        Family::new_with_constructor(|| Histogram::new(WAIT_BUCKETS)),
    ),
    nominal: register(
        "apiserver_flowcontrol_nominal_limit_seats",
        "Nominal number of execution seats configured for each priority level",
        Family::default(),
    ),
    timeouts: register(
        "apiserver_request_timeouts",
        "Number of requests which timed out",
        Counter::default(),
    ),
});

/// Why a request was refused (the `reason` label).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rejection {
    /// Its queue was at the queue length limit.
    QueueFull,
    /// A level that does not queue had no seat (catch-all).
    ConcurrencyLimit,
    /// It waited longer than the wait limit.
    TimeOut,
}

impl Rejection {
    pub fn label(self) -> &'static str {
        match self {
            Rejection::QueueFull => "queue-full",
            Rejection::ConcurrencyLimit => "concurrency-limit",
            Rejection::TimeOut => "time-out",
        }
    }
}

/// One level's series.
#[derive(Clone)]
pub(crate) struct LevelMetrics {
    pub name: &'static str,
    pub inqueue: Gauge,
    pub executing: Gauge,
    pub waited: Histogram,
    pub not_executed: Histogram,
}

impl LevelMetrics {
    pub fn new(name: &'static str, nominal_seats: u32) -> Self {
        let m = &*METRICS;
        let level = [("priority_level", name)];
        m.nominal
            .get_or_create(&level)
            .set(i64::from(nominal_seats));
        LevelMetrics {
            name,
            inqueue: m.inqueue.get_or_create_owned(&level),
            executing: m.executing.get_or_create_owned(&level),
            waited: m
                .wait
                .get_or_create_owned(&[("priority_level", name), ("execute", "true")]),
            not_executed: m
                .wait
                .get_or_create_owned(&[("priority_level", name), ("execute", "false")]),
        }
    }

    pub fn rejected(&self, flow_schema: &'static str, why: Rejection) {
        METRICS
            .rejected
            .get_or_create(&[
                ("flow_schema", flow_schema),
                ("priority_level", self.name),
                ("reason", why.label()),
            ])
            .inc();
    }
}

pub(crate) fn timed_out() {
    METRICS.timeouts.inc();
}
