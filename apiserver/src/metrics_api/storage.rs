//! The samples kept between scrapes and the usage computed from them, as metrics-server's
//! storage: for every node and container the last point and the one before it; cpu is the
//! rate of the cumulative counter between the two, memory the last working set, the
//! window the time between them and the timestamp the later one's. Each round replaces
//! the whole store, so a node that failed its scrape has no usage until it answers twice.

use std::collections::BTreeMap;

use proto::quantity::{Format, Quantity};

use super::parse::{Batch, PodRef, Point};

/// A container younger than this has no usable counter yet (metrics-server's
/// `freshContainerMinMetricsResolution`).
const FRESH_CONTAINER_MIN_MS: i64 = 10_000;

/// Usage of a node or container over a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    /// Billionths of a core.
    pub nanocores: u64,
    pub memory_bytes: u64,
    /// The later sample's time (ms since the epoch).
    pub timestamp_ms: i64,
    pub window_ms: i64,
}

impl Usage {
    /// `{"cpu": ..., "memory": ...}` as metrics-server writes them: cpu in nanocores
    /// (`123456789n`, canonical, so `250m` when exact), memory in bytes (`1200Ki`).
    pub fn resource_list(&self) -> BTreeMap<String, String> {
        BTreeMap::from([
            ("cpu".to_string(), format_cpu(self.nanocores)),
            ("memory".to_string(), format_memory(self.memory_bytes)),
        ])
    }
}

pub fn format_cpu(nanocores: u64) -> String {
    Quantity::from_nano(i128::from(nanocores), Format::DecimalSI).to_string()
}

pub fn format_memory(bytes: u64) -> String {
    Quantity::from_nano(i128::from(bytes) * 1_000_000_000, Format::BinarySI).to_string()
}

/// Go's `Duration.String()` of a window in milliseconds (`15s`, `14.998s`, `1m0s`).
pub fn format_window(ms: i64) -> String {
    proto::duration::Duration::from_nanos(ms.saturating_mul(1_000_000)).to_string()
}

/// Usage between two points of the same counter; `None` when the counter went back (a
/// restart metrics-server did not see) or time did not move forward.
pub fn usage(last: &Point, prev: &Point) -> Option<Usage> {
    let window_ms = last.timestamp_ms - prev.timestamp_ms;
    if window_ms <= 0 || last.cpu_ns < prev.cpu_ns {
        return None;
    }
    let delta = u128::from(last.cpu_ns - prev.cpu_ns);
    // ns of cpu per second of wall time = nanocores.
    let nanocores = delta * 1000 / window_ms as u128;
    Some(Usage {
        nanocores: u64::try_from(nanocores).unwrap_or(u64::MAX),
        memory_bytes: last.memory,
        timestamp_ms: last.timestamp_ms,
        window_ms,
    })
}

/// A pod's usage: per container, with the earliest container's time window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodUsage {
    pub containers: BTreeMap<String, Usage>,
    pub timestamp_ms: i64,
    pub window_ms: i64,
}

#[derive(Debug, Default)]
pub struct Storage {
    last: Batch,
    prev: Batch,
}

impl Storage {
    /// Replaces the store with `batch` (one round over every node), keeping from the
    /// previous round what serves as each point's predecessor. `resolution_ms` is the
    /// scrape interval: a container that started less than that ago gets its start (at
    /// zero cpu) as predecessor, so it shows usage after one scrape, as in metrics-server.
    pub fn store(&mut self, batch: Batch, resolution_ms: i64) {
        let mut prev = Batch::default();
        for (node, point) in &batch.nodes {
            let old_last = self.last.nodes.get(node);
            let old_prev = self.prev.nodes.get(node);
            if let Some(p) = predecessor(point, old_last, old_prev) {
                prev.nodes.insert(node.clone(), p);
            }
        }
        for (pod, containers) in &batch.pods {
            let mut before = BTreeMap::new();
            for (name, point) in containers {
                let p = if let Some(start) = point
                    .start_ms
                    .filter(|s| fresh(*s, point.timestamp_ms, resolution_ms))
                {
                    Some(Point {
                        timestamp_ms: start,
                        cpu_ns: 0,
                        ..*point
                    })
                } else {
                    let old_last = self.last.pods.get(pod).and_then(|c| c.get(name));
                    let old_prev = self.prev.pods.get(pod).and_then(|c| c.get(name));
                    // A container that started after the last point is a new one (its
                    // counter began again): nothing before it counts.
                    let restarted = old_last
                        .is_some_and(|l| point.start_ms.is_some_and(|s| s >= l.timestamp_ms));
                    if restarted {
                        None
                    } else {
                        predecessor(point, old_last, old_prev)
                    }
                };
                if let Some(p) = p {
                    before.insert(name.clone(), p);
                }
            }
            if !before.is_empty() {
                prev.pods.insert(pod.clone(), before);
            }
        }
        self.last = batch;
        self.prev = prev;
    }

    pub fn node(&self, name: &str) -> Option<Usage> {
        usage(self.last.nodes.get(name)?, self.prev.nodes.get(name)?)
    }

    /// A pod's usage when every container has two points; a container whose counter went
    /// back is left out (metrics-server logs and skips it).
    pub fn pod(&self, namespace: &str, name: &str) -> Option<PodUsage> {
        let key: PodRef = (namespace.to_string(), name.to_string());
        let last = self.last.pods.get(&key)?;
        let prev = self.prev.pods.get(&key)?;
        let mut containers = BTreeMap::new();
        let mut earliest: Option<(i64, i64)> = None;
        for (c, l) in last {
            let p = prev.get(c)?;
            let Some(u) = usage(l, p) else {
                tracing::debug!(namespace, pod = name, container = %c, "counter went back; container skipped");
                continue;
            };
            if earliest.is_none_or(|(t, _)| u.timestamp_ms < t) {
                earliest = Some((u.timestamp_ms, u.window_ms));
            }
            containers.insert(c.clone(), u);
        }
        let (timestamp_ms, window_ms) = earliest?;
        Some(PodUsage {
            containers,
            timestamp_ms,
            window_ms,
        })
    }

    /// How many nodes and pods have a usage now (for the scraper's log line).
    pub fn counts(&self) -> (usize, usize) {
        let nodes = self.last.nodes.keys().filter(|n| self.node(n).is_some());
        let pods = self
            .last
            .pods
            .keys()
            .filter(|(ns, p)| self.pod(ns, p).is_some());
        (nodes.count(), pods.count())
    }
}

fn fresh(start_ms: i64, timestamp_ms: i64, resolution_ms: i64) -> bool {
    let age = timestamp_ms - start_ms;
    age > 0 && age < resolution_ms && age >= FRESH_CONTAINER_MIN_MS
}

/// metrics-server's rule: a newer point moves the stored one back; a repeated point keeps
/// the stored predecessor if it is older still.
fn predecessor(new: &Point, old_last: Option<&Point>, old_prev: Option<&Point>) -> Option<Point> {
    let last = old_last?;
    if new.timestamp_ms > last.timestamp_ms {
        return Some(*last);
    }
    old_prev
        .filter(|p| p.timestamp_ms < new.timestamp_ms)
        .copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(ts: i64, cpu_ns: u64, memory: u64, start: Option<i64>) -> Point {
        Point {
            timestamp_ms: ts,
            cpu_ns,
            memory,
            start_ms: start,
        }
    }

    fn batch(node: Option<Point>, containers: &[(&str, &str, &str, Point)]) -> Batch {
        let mut b = Batch::default();
        if let Some(p) = node {
            b.nodes.insert("n1".into(), p);
        }
        for (ns, pod, c, p) in containers {
            b.pods
                .entry((ns.to_string(), pod.to_string()))
                .or_default()
                .insert(c.to_string(), *p);
        }
        b
    }

    #[test]
    fn quantities_read_as_metrics_server_writes_them() {
        assert_eq!(format_cpu(123_456_789), "123456789n");
        assert_eq!(format_cpu(250_000_000), "250m");
        assert_eq!(format_cpu(2_000_000_000), "2");
        assert_eq!(format_cpu(0), "0");
        assert_eq!(format_cpu(1_500), "1500n");
        assert_eq!(format_memory(1_228_800), "1200Ki");
        assert_eq!(format_memory(1_048_576), "1Mi");
        assert_eq!(format_memory(1_234_567), "1234567");
        assert_eq!(format_memory(0), "0");
        assert_eq!(format_window(15_000), "15s");
        assert_eq!(format_window(14_998), "14.998s");
        assert_eq!(format_window(60_000), "1m0s");
        // Every form parses back as a Kubernetes quantity (what kubectl top reads).
        for q in ["123456789n", "250m", "1200Ki", "1234567"] {
            assert!(q.parse::<Quantity>().is_ok(), "{q}");
        }
    }

    #[test]
    fn cpu_is_the_counters_rate_memory_the_last_value() {
        // 0.5 core-seconds over 10 s = 50 millicores.
        let u = usage(
            &point(20_000, 1_500_000_000, 7, None),
            &point(10_000, 1_000_000_000, 5, None),
        )
        .unwrap();
        assert_eq!(
            u,
            Usage {
                nanocores: 50_000_000,
                memory_bytes: 7,
                timestamp_ms: 20_000,
                window_ms: 10_000
            }
        );
        assert_eq!(u.resource_list()["cpu"], "50m");
        assert!(usage(&point(20_000, 1, 7, None), &point(10_000, 2, 5, None)).is_none());
        assert!(usage(&point(10_000, 2, 7, None), &point(10_000, 1, 5, None)).is_none());
    }

    #[test]
    fn usage_needs_two_rounds_and_follows_the_latest_two() {
        let mut s = Storage::default();
        let started = Some(0);
        s.store(
            batch(
                Some(point(100_000, 10_000_000_000, 100, None)),
                &[("ns", "p", "c", point(100_000, 1_000_000_000, 50, started))],
            ),
            15_000,
        );
        assert_eq!((s.node("n1"), s.pod("ns", "p")), (None, None));
        assert_eq!(s.counts(), (0, 0));
        s.store(
            batch(
                Some(point(115_000, 25_000_000_000, 200, None)),
                &[("ns", "p", "c", point(115_000, 1_300_000_000, 60, started))],
            ),
            15_000,
        );
        let n = s.node("n1").unwrap();
        assert_eq!(
            (n.nanocores, n.memory_bytes, n.window_ms),
            (1_000_000_000, 200, 15_000)
        );
        let p = s.pod("ns", "p").unwrap();
        assert_eq!(p.containers["c"].nanocores, 20_000_000);
        assert_eq!((p.timestamp_ms, p.window_ms), (115_000, 15_000));
        assert_eq!(s.counts(), (1, 1));
        // The same point again (the kubelet did not refresh): the predecessor is kept.
        s.store(
            batch(
                Some(point(115_000, 25_000_000_000, 200, None)),
                &[("ns", "p", "c", point(115_000, 1_300_000_000, 60, started))],
            ),
            15_000,
        );
        assert_eq!(s.node("n1").unwrap().nanocores, 1_000_000_000);
        // A round without the node (its scrape failed): no usage until two more.
        s.store(batch(None, &[]), 15_000);
        assert_eq!((s.node("n1"), s.pod("ns", "p")), (None, None));
    }

    #[test]
    fn a_restarted_container_waits_for_two_new_samples() {
        let mut s = Storage::default();
        let p1 = |ts, cpu| point(ts, cpu, 10, Some(0));
        s.store(
            batch(None, &[("ns", "p", "c", p1(100_000, 9_000_000_000))]),
            15_000,
        );
        s.store(
            batch(None, &[("ns", "p", "c", p1(115_000, 9_500_000_000))]),
            15_000,
        );
        assert!(s.pod("ns", "p").is_some());
        // Started again at 120 s, after the last point: its old samples do not count. Its
        // start, 10 s before its sample and within one resolution, serves as the first
        // sample at zero cpu (metrics-server's fresh-container rule).
        s.store(
            batch(
                None,
                &[(
                    "ns",
                    "p",
                    "c",
                    point(130_000, 100_000_000, 10, Some(120_000)),
                )],
            ),
            15_000,
        );
        let u = s.pod("ns", "p").unwrap();
        assert_eq!(
            (u.containers["c"].nanocores, u.window_ms),
            (10_000_000, 10_000)
        );
        // Started again 2 s before the point: too fresh for a rate, and its counter
        // restarted: no usage until the next round.
        s.store(
            batch(
                None,
                &[("ns", "p", "c", point(145_000, 1_000_000, 10, Some(143_000)))],
            ),
            15_000,
        );
        assert_eq!(s.pod("ns", "p"), None);
        s.store(
            batch(
                None,
                &[(
                    "ns",
                    "p",
                    "c",
                    point(160_000, 151_000_000, 10, Some(143_000)),
                )],
            ),
            15_000,
        );
        assert_eq!(
            s.pod("ns", "p").unwrap().containers["c"].nanocores,
            10_000_000
        );
    }

    #[test]
    fn a_pod_shows_only_when_every_container_has_two_points() {
        let mut s = Storage::default();
        s.store(
            batch(None, &[("ns", "p", "a", point(0, 0, 1, None))]),
            15_000,
        );
        s.store(
            batch(
                None,
                &[
                    ("ns", "p", "a", point(15_000, 150_000_000, 1, None)),
                    ("ns", "p", "b", point(15_000, 1, 1, None)),
                ],
            ),
            15_000,
        );
        assert_eq!(s.pod("ns", "p"), None);
        // A counter that went back (no start time to tell a restart): that container is
        // left out, the others shown.
        s.store(
            batch(
                None,
                &[
                    ("ns", "p", "a", point(30_000, 100, 1, None)),
                    ("ns", "p", "b", point(30_000, 15_000_001, 1, None)),
                ],
            ),
            15_000,
        );
        let u = s.pod("ns", "p").unwrap();
        assert_eq!(u.containers.keys().collect::<Vec<_>>(), ["b"]);
        assert_eq!(u.containers["b"].nanocores, 1_000_000);
    }
}
