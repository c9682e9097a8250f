//! What the API benchmarks share: the run's size, the object they write, and a load of
//! operations measured as throughput and latency quantiles.
// Each bench binary uses a part of this module.
#![allow(dead_code)]

use std::time::{Duration, Instant};

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

pub struct Figures {
    pub per_second: f64,
    pub p50: Duration,
    pub p99: Duration,
}

/// `total` operations over `concurrency` tasks; `op(task, i)` performs operation `i`.
pub async fn measure<F, Fut>(concurrency: usize, total: usize, op: F) -> Figures
where
    F: Fn(usize, usize) -> Fut + Send + Sync + Clone + 'static,
    Fut: Future<Output = ()> + Send,
{
    let start = Instant::now();
    let mut tasks = Vec::new();
    for t in 0..concurrency {
        let op = op.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut i = t;
            while i < total {
                let t0 = Instant::now();
                op(t, i).await;
                latencies.push(t0.elapsed());
                i += concurrency;
            }
            latencies
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("bench task"));
    }
    let per_second = total as f64 / start.elapsed().as_secs_f64();
    all.sort();
    Figures {
        per_second,
        p50: pct(&all, 0.5),
        p99: pct(&all, 0.99),
    }
}
