//! client-go's metrics under client-go's names, registered in the process's one registry
//! (`telemetry::metrics`) the first time they are used: calls to the apiserver
//! (`rest_client_*`, counted by the HTTP method and status Kubernetes would have used),
//! work queues by name (`workqueue_*`) and leader election (`leader_election_master_status`).

use std::sync::LazyLock;
use std::sync::atomic::AtomicU64;
use std::time::Duration;
use telemetry::metrics::{Counter, Family, Gauge, Histogram, exponential_buckets, register};

type Labels<const N: usize> = [(&'static str, String); N];
type HistogramFamily<const N: usize> = Family<Labels<N>, Histogram, fn() -> Histogram>;

/// A gauge of seconds (fractional).
pub(crate) type SecondsGauge = Gauge<f64, AtomicU64>;

/// client-go's `rest_client_request_duration_seconds` buckets (since Kubernetes 1.24).
const REST_CLIENT_BUCKETS: [f64; 12] = [
    0.005, 0.025, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0,
];

struct RestClient {
    requests: Family<Labels<3>, Counter>,
    duration: HistogramFamily<2>,
    retries: Family<Labels<3>, Counter>,
}

static REST_CLIENT: LazyLock<RestClient> = LazyLock::new(|| RestClient {
    requests: register(
        "rest_client_requests",
        "Number of HTTP requests, partitioned by status code, method, and host.",
        Family::default(),
    ),
    duration: register(
        "rest_client_request_duration_seconds",
        "Request latency in seconds. Broken down by verb, and host.",
        Family::new_with_constructor(|| Histogram::new(REST_CLIENT_BUCKETS)),
    ),
    retries: register(
        "rest_client_request_retries",
        "Number of request retries, partitioned by status code, verb, and host.",
        Family::default(),
    ),
});

/// One finished call to the apiserver: `method` is the HTTP method Kubernetes would use,
/// `code` the HTTP status it would answer.
pub(crate) fn observe_request(host: &str, method: &'static str, code: u16, elapsed: Duration) {
    let m = &*REST_CLIENT;
    m.requests
        .get_or_create(&[
            ("code", code.to_string()),
            ("host", host.to_string()),
            ("method", method.to_string()),
        ])
        .inc();
    m.duration
        .get_or_create(&[("host", host.to_string()), ("verb", method.to_string())])
        .observe(elapsed.as_secs_f64());
}

/// One retry of a call that failed with `code` (client-go's `rest_client_request_retries_total`,
/// since Kubernetes 1.27); the attempts themselves are each counted by `observe_request`.
pub(crate) fn observe_retry(host: &str, method: &'static str, code: u16) {
    REST_CLIENT
        .retries
        .get_or_create(&[
            ("code", code.to_string()),
            ("host", host.to_string()),
            ("verb", method.to_string()),
        ])
        .inc();
}

/// The `host` label of a server URL: its host and port (client-go labels by `url.Host`).
pub(crate) fn host_of(server: &str) -> String {
    let rest = server.split_once("://").map_or(server, |(_, r)| r);
    rest.split(['/', '?']).next().unwrap_or(rest).to_string()
}

struct WorkQueues {
    depth: Family<Labels<1>, Gauge>,
    adds: Family<Labels<1>, Counter>,
    queue_duration: HistogramFamily<1>,
    work_duration: HistogramFamily<1>,
    unfinished: Family<Labels<1>, SecondsGauge>,
    longest: Family<Labels<1>, SecondsGauge>,
    retries: Family<Labels<1>, Counter>,
}

/// Kubernetes' work-queue latency buckets: 10 ns to 10 s by decades (1e-8, x10, 10 buckets).
fn queue_latency() -> Histogram {
    Histogram::new(exponential_buckets(1e-8, 10.0, 10))
}

static WORK_QUEUES: LazyLock<WorkQueues> = LazyLock::new(|| WorkQueues {
    depth: register(
        "workqueue_depth",
        "Current depth of workqueue",
        Family::default(),
    ),
    adds: register(
        "workqueue_adds",
        "Total number of adds handled by workqueue",
        Family::default(),
    ),
    queue_duration: register(
        "workqueue_queue_duration_seconds",
        "How long in seconds an item stays in workqueue before being requested.",
        Family::new_with_constructor(queue_latency),
    ),
    work_duration: register(
        "workqueue_work_duration_seconds",
        "How long in seconds processing an item from workqueue takes.",
        Family::new_with_constructor(queue_latency),
    ),
    unfinished: register(
        "workqueue_unfinished_work_seconds",
        "How many seconds of work has done that is in progress and hasn't been observed by \
         work_duration. Large values indicate stuck threads. One can deduce the number of \
         stuck threads by observing the rate at which this increases.",
        Family::default(),
    ),
    longest: register(
        "workqueue_longest_running_processor_seconds",
        "How many seconds has the longest running processor for workqueue been running.",
        Family::default(),
    ),
    retries: register(
        "workqueue_retries",
        "Total number of retries handled by workqueue",
        Family::default(),
    ),
});

/// One named queue's series (handles: clones share the values).
#[derive(Clone, Debug)]
pub(crate) struct QueueMetrics {
    pub depth: Gauge,
    pub adds: Counter,
    pub queue_duration: Histogram,
    pub work_duration: Histogram,
    pub unfinished: SecondsGauge,
    pub longest: SecondsGauge,
    pub retries: Counter,
}

pub(crate) fn queue_metrics(name: &str) -> QueueMetrics {
    let m = &*WORK_QUEUES;
    let l = [("name", name.to_string())];
    QueueMetrics {
        depth: m.depth.get_or_create_owned(&l),
        adds: m.adds.get_or_create_owned(&l),
        queue_duration: m.queue_duration.get_or_create_owned(&l),
        work_duration: m.work_duration.get_or_create_owned(&l),
        unfinished: m.unfinished.get_or_create_owned(&l),
        longest: m.longest.get_or_create_owned(&l),
        retries: m.retries.get_or_create_owned(&l),
    }
}

static LEADER: LazyLock<Family<Labels<1>, Gauge>> = LazyLock::new(|| {
    register(
        "leader_election_master_status",
        "Gauge of if the reporting system is master of the relevant lease, 0 indicates \
         backup, 1 indicates master. 'name' is the string used to identify the lease.",
        Family::default(),
    )
});

/// `leader_election_master_status{name}` of the lease `name`.
pub(crate) fn leader_status(name: &str) -> Gauge {
    LEADER.get_or_create_owned(&[("name", name.to_string())])
}

/// Tests: the value of one series in the encoded registry (`name{labels}` exactly as
/// written, or a bare name).
#[cfg(test)]
pub(crate) fn sample(series: &str) -> Option<f64> {
    let text = telemetry::metrics::encode();
    text.lines().find_map(|l| {
        let rest = l.strip_prefix(series)?.strip_prefix(' ')?;
        rest.split(' ').next()?.parse().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_host_and_port() {
        assert_eq!(host_of("https://10.0.0.1:6443"), "10.0.0.1:6443");
        assert_eq!(host_of("http://127.0.0.1:6443/"), "127.0.0.1:6443");
        assert_eq!(host_of("apiserver:6443"), "apiserver:6443");
    }

    #[test]
    fn a_request_is_counted_by_code_method_and_host() {
        let host = "metrics-test-a-request:1";
        let count =
            format!(r#"rest_client_requests_total{{code="404",host="{host}",method="GET"}}"#);
        let hist =
            format!(r#"rest_client_request_duration_seconds_count{{host="{host}",verb="GET"}}"#);
        observe_request(host, "GET", 404, Duration::from_millis(3));
        observe_request(host, "GET", 404, Duration::from_millis(30));
        assert_eq!(sample(&count), Some(2.0));
        assert_eq!(sample(&hist), Some(2.0));
        let le = format!(
            r#"rest_client_request_duration_seconds_bucket{{le="0.005",host="{host}",verb="GET"}}"#
        );
        assert_eq!(sample(&le), Some(1.0), "3ms falls in the first bucket only");
    }
}
