//! Kubernetes' apiserver metrics under Kubernetes' names and labels (help texts without
//! their final period: the registry adds one), registered in the
//! process's one registry (`telemetry::metrics`) and served on the API port at `/metrics`
//! (authorized as the non-resource URL `get /metrics`, which `system:monitoring` grants):
//!
//! - requests, gRPC and HTTP alike ([`layer`]): `apiserver_request_total`,
//!   `apiserver_request_duration_seconds`, `apiserver_response_sizes`,
//!   `apiserver_longrunning_requests`, `apiserver_current_inflight_requests`;
//! - watches (`crate::watch`): `apiserver_watch_events_total`, `apiserver_watch_events_sizes`;
//! - storage ([`storage`]): `etcd_request_duration_seconds` around either store,
//!   `apiserver_storage_objects`, `apiserver_storage_db_total_size_in_bytes`.

use std::borrow::Cow;
use std::sync::LazyLock;

use telemetry::metrics::{Counter, Family, Gauge, Histogram, exponential_buckets, register};

mod handles;
pub mod inflight;
mod label_set;
pub mod layer;
pub mod request;
mod series;
pub mod storage;

pub use layer::{MetricsLayer, Slot};

/// Kubernetes' `apiserver_request_duration_seconds` (and `etcd_request_duration_seconds`)
/// buckets: 5 ms to 60 s.
pub const DURATION_BUCKETS: [f64; 23] = [
    0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0,
    10.0, 15.0, 20.0, 30.0, 45.0, 60.0,
];

type Labels<const N: usize> = [(&'static str, Cow<'static, str>); N];
type HistogramFamily<const N: usize> = Family<Labels<N>, Histogram, fn() -> Histogram>;

pub(crate) struct Metrics {
    pub requests: Family<Labels<9>, Counter>,
    pub duration: HistogramFamily<8>,
    pub response_sizes: HistogramFamily<7>,
    pub longrunning: Family<Labels<7>, Gauge>,
    pub inflight: Family<[(&'static str, &'static str); 1], Gauge>,
    pub watch_events: Family<Labels<3>, Counter>,
    pub watch_event_sizes: HistogramFamily<3>,
    pub etcd_duration: HistogramFamily<2>,
    pub storage_objects: Family<Labels<1>, Gauge>,
    pub db_size: Family<Labels<1>, Gauge>,
}

pub(crate) static METRICS: LazyLock<Metrics> = LazyLock::new(|| Metrics {
    requests: register(
        "apiserver_request",
        "Counter of apiserver requests broken out for each verb, dry run value, group, version, resource, scope, component, and HTTP response code",
        Family::default(),
    ),
    duration: register(
        "apiserver_request_duration_seconds",
        "Response latency distribution in seconds for each verb, dry run value, group, version, resource, subresource, scope and component",
        Family::new_with_constructor(|| Histogram::new(DURATION_BUCKETS)),
    ),
    response_sizes: register(
        "apiserver_response_sizes",
        "Response size distribution in bytes for each group, version, verb, resource, subresource, scope and component",
        Family::new_with_constructor(|| Histogram::new(exponential_buckets(1000.0, 10.0, 7))),
    ),
    longrunning: register(
        "apiserver_longrunning_requests",
        "Gauge of all active long-running apiserver requests broken out by verb, group, version, resource, scope and component. Not all requests are tracked this way",
        Family::default(),
    ),
    inflight: register(
        "apiserver_current_inflight_requests",
        "Maximal number of currently used inflight request limit of this apiserver per request kind in last second",
        Family::default(),
    ),
    watch_events: register(
        "apiserver_watch_events",
        "Number of events sent in watch clients",
        Family::default(),
    ),
    watch_event_sizes: register(
        "apiserver_watch_events_sizes",
        "Watch event size distribution in bytes",
        Family::new_with_constructor(|| Histogram::new(exponential_buckets(1024.0, 2.0, 8))),
    ),
    etcd_duration: register(
        "etcd_request_duration_seconds",
        "Etcd request latency in seconds for each operation and object type",
        Family::new_with_constructor(|| Histogram::new(DURATION_BUCKETS)),
    ),
    storage_objects: register(
        "apiserver_storage_objects",
        "Number of stored objects at the time of last check split by kind. In case of a fetching error, the value will be -1",
        Family::default(),
    ),
    db_size: register(
        "apiserver_storage_db_total_size_in_bytes",
        "Total size of the storage database file physically allocated in bytes",
        Family::default(),
    ),
});

/// One event sent to a watcher of `info`'s kind, `bytes` long in protobuf.
pub(crate) fn watch_event(info: &'static proto::KindInfo, bytes: usize) {
    let labels: Labels<3> = [
        ("group", Cow::Borrowed(info.group)),
        ("version", Cow::Borrowed(info.version)),
        ("kind", Cow::Borrowed(info.kind)),
    ];
    let m = &*METRICS;
    m.watch_events.get_or_create(&labels).inc();
    m.watch_event_sizes
        .get_or_create(&labels)
        .observe(bytes as f64);
}

/// `GET /metrics`: everything this process registered, in the OpenMetrics text format.
/// The caller has authorized the path already.
pub(crate) fn serve(parts: &::http::request::Parts) -> Option<crate::http::HttpResponse> {
    if parts.uri.path() != "/metrics" {
        return None;
    }
    if !matches!(parts.method, ::http::Method::GET | ::http::Method::HEAD) {
        return Some(crate::http::verbs::method_not_allowed());
    }
    let mut response = ::http::Response::new(crate::http::Body::from(telemetry::metrics::encode()));
    response.headers_mut().insert(
        ::http::header::CONTENT_TYPE,
        ::http::HeaderValue::from_static(telemetry::metrics::CONTENT_TYPE),
    );
    Some(response)
}

/// How often the store's size on disk is read again.
const DB_SIZE_EVERY: u32 = 15;

/// The gauges refreshed on a clock: the in-flight watermark every second, the size of the
/// store in `data_dir` every 15 s. Ends (and drops the store's size series) at shutdown.
pub async fn run(data_dir: std::path::PathBuf, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    let endpoint: Labels<1> = [("endpoint", Cow::Owned(data_dir.display().to_string()))];
    let mut ticker = tokio::time::interval(std::time::Duration::from_secs(1));
    let mut ticks = 0u32;
    loop {
        tokio::select! {
            _ = ticker.tick() => {
                inflight::publish();
                if ticks.is_multiple_of(DB_SIZE_EVERY) {
                    let dir = data_dir.clone();
                    if let Ok(size) = tokio::task::spawn_blocking(move || storage::db_size(&dir)).await {
                        METRICS.db_size.get_or_create(&endpoint).set(size as i64);
                    }
                }
                ticks = ticks.wrapping_add(1);
            }
            _ = async { let _ = shutdown.wait_for(|s| *s).await; } => break,
        }
    }
    METRICS.db_size.remove(&endpoint);
}
