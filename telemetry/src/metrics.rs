//! The process's one metrics registry, as Kubernetes' `legacyregistry`: a component
//! registers its metrics once (typically in a `LazyLock` of a struct of metrics) and the
//! daemon's `/metrics` endpoint encodes everything registered.
//!
//! Names follow prometheus-client's rule: a counter is registered without its `_total`
//! suffix (`register("apiserver_request", ..)` is exposed as `apiserver_request_total`).

use prometheus_client::registry::{Metric, Registry};
use std::sync::{LazyLock, Mutex, MutexGuard};

pub use prometheus_client::collector::Collector;
pub use prometheus_client::encoding::EncodeLabelSet;
pub use prometheus_client::metrics::counter::Counter;
pub use prometheus_client::metrics::family::Family;
pub use prometheus_client::metrics::gauge::Gauge;
pub use prometheus_client::metrics::histogram::{Histogram, exponential_buckets, linear_buckets};

/// What `/metrics` answers with (the OpenMetrics text format, which Prometheus reads).
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

static REGISTRY: LazyLock<Mutex<Registry>> = LazyLock::new(|| Mutex::new(Registry::default()));

fn registry() -> MutexGuard<'static, Registry> {
    // A panic while registering cannot leave the registry half-written (registration is
    // one push), so a poisoned lock is still usable.
    REGISTRY.lock().unwrap_or_else(|e| e.into_inner())
}

/// Registers `metric` under `name` and returns it (metrics are handles: clones share
/// their values). Registering the same name twice exposes it twice; register from a
/// `LazyLock` so it happens once per process.
pub fn register<M: Metric + Clone>(name: &str, help: &str, metric: M) -> M {
    // prometheus-client ends every help text with a period of its own; Kubernetes' texts,
    // copied as they are, often end with one already.
    registry().register(name, help.trim_end_matches('.'), metric.clone());
    metric
}

/// Registers a collector, asked for its metrics at every encode (process metrics, gauges
/// computed from a cache at scrape time).
pub fn register_collector(collector: Box<dyn Collector>) {
    registry().register_collector(collector);
}

/// Everything registered, in the OpenMetrics text format ([`CONTENT_TYPE`]).
pub fn encode() -> String {
    let mut out = String::new();
    if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &registry()) {
        // Only a formatting error of a collector can get here; say so in the body rather
        // than answer nothing.
        tracing::warn!(error = %e, "encoding metrics");
        out.push_str("# error encoding metrics\n# EOF\n");
    }
    out
}

/// Kubernetes' request-latency buckets (`apiserver_request_duration_seconds`,
/// `rest_client_request_duration_seconds`): 5 ms to 60 s.
pub const REQUEST_DURATION_BUCKETS: [f64; 19] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0,
    8.0, 10.0,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_registered_counter_is_encoded_with_its_total_suffix() {
        let c = register(
            "telemetry_test_things",
            "Things counted by a test.",
            Counter::<u64>::default(),
        );
        c.inc_by(3);
        let text = encode();
        assert!(
            text.contains("# TYPE telemetry_test_things counter"),
            "{text}"
        );
        assert!(text.contains("telemetry_test_things_total 3"), "{text}");
        assert!(
            text.contains("# HELP telemetry_test_things Things counted by a test.\n"),
            "one period, not two: {text}"
        );
    }

    #[test]
    fn families_carry_their_labels() {
        let f: Family<Vec<(String, String)>, Counter> = register(
            "telemetry_test_requests",
            "Requests by verb.",
            Family::default(),
        );
        f.get_or_create(&vec![("verb".to_string(), "GET".to_string())])
            .inc();
        let text = encode();
        assert!(
            text.contains(r#"telemetry_test_requests_total{verb="GET"} 1"#),
            "{text}"
        );
    }
}
