//! What the API benchmarks share: the run's size and the object they write.

use std::time::Duration;

use proto::Resource;
use proto::k8s::{ConfigMap, Object};

/// `n` scaled by `BENCH_SCALE` (0.2 for a quick run), at least 1.
pub fn scale(n: usize) -> usize {
    let f: f64 = std::env::var("BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0);
    ((n as f64) * f).max(1.0) as usize
}

/// A ConfigMap with about 1 KiB of data, like the raw sled baseline's values.
pub fn cm(ns: &str, name: &str) -> Object {
    let mut c = ConfigMap::default();
    c.meta_mut().name = name.into();
    c.meta_mut().namespace = ns.into();
    c.data.insert("payload".into(), "x".repeat(1000));
    c.into_object()
}

/// The `p` quantile of sorted durations (zero for none).
pub fn pct(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}
