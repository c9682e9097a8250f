//! `/metrics/resource`: Kubernetes' kubelet resource metrics endpoint, the one
//! metrics-server scrapes (cumulative CPU seconds and the memory working set of each
//! container, pod and the node, each sample with its timestamp in milliseconds).
//!
//! The node's figures are those of the Stats rpc: the sum of the node's pod containers (not
//! the host's root cgroup), so simulated nodes sharing one host each report their own.

use super::text::FamilyWriter;
use crate::runtime::labels;
use crate::stats::Readings;
use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Debug, Clone, PartialEq)]
pub struct ContainerSample {
    pub namespace: String,
    pub pod: String,
    pub container: String,
    pub cpu_seconds: f64,
    pub memory_working_set_bytes: f64,
    /// Seconds since the epoch; None when the runtime did not say.
    pub start_time_seconds: Option<f64>,
}

/// Sums kept in the runtime's integer units, so adding does not drift.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Usage {
    pub cpu_ns: u64,
    pub memory_working_set_bytes: u64,
}

impl Usage {
    pub fn cpu_seconds(&self) -> f64 {
        self.cpu_ns as f64 / 1e9
    }
}

/// What one scrape reports.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Snapshot {
    pub containers: Vec<ContainerSample>,
    /// By (namespace, pod).
    pub pods: BTreeMap<(String, String), Usage>,
    pub node: Usage,
    pub scrape_error: bool,
    pub timestamp_ms: i64,
}

pub fn seconds_since_epoch(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

impl Snapshot {
    /// Containers as read, pods and the node as their sums.
    pub fn from_readings(r: &Readings) -> Snapshot {
        let mut s = Snapshot {
            scrape_error: r.failed,
            timestamp_ms: r
                .at
                .duration_since(UNIX_EPOCH)
                .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
                .unwrap_or(0),
            ..Default::default()
        };
        for reading in &r.readings {
            let c = &reading.info;
            let cpu_ns = reading.stats.cpu_usage_ns;
            let mem = reading.stats.memory_bytes;
            let sample = ContainerSample {
                namespace: c.label(labels::POD_NAMESPACE).to_string(),
                pod: c.label(labels::POD_NAME).to_string(),
                container: c.container_name().to_string(),
                cpu_seconds: cpu_ns as f64 / 1e9,
                memory_working_set_bytes: mem as f64,
                start_time_seconds: c.started_at.map(seconds_since_epoch),
            };
            let pod = s
                .pods
                .entry((sample.namespace.clone(), sample.pod.clone()))
                .or_default();
            pod.cpu_ns = pod.cpu_ns.saturating_add(cpu_ns);
            pod.memory_working_set_bytes = pod.memory_working_set_bytes.saturating_add(mem);
            s.node.cpu_ns = s.node.cpu_ns.saturating_add(cpu_ns);
            s.node.memory_working_set_bytes = s.node.memory_working_set_bytes.saturating_add(mem);
            s.containers.push(sample);
        }
        s.containers.sort_by(|a, b| {
            (&a.container, &a.namespace, &a.pod).cmp(&(&b.container, &b.namespace, &b.pod))
        });
        s
    }
}

/// The endpoint's body (text format 0.0.4), families in name order as Go's registry
/// writes them; a family without samples is left out. A container's start time carries
/// the start time itself as its timestamp, as Kubernetes' collector gives it.
pub fn render(s: &Snapshot) -> String {
    let mut out = String::new();
    let ts = Some(s.timestamp_ms);
    container_family(
        &mut out,
        &s.containers,
        "container_cpu_usage_seconds_total",
        "counter",
        "[STABLE] Cumulative cpu time consumed by the container in core-seconds",
        |c| Some((c.cpu_seconds, ts)),
    );
    container_family(
        &mut out,
        &s.containers,
        "container_memory_working_set_bytes",
        "gauge",
        "[STABLE] Current working set of the container in bytes",
        |c| Some((c.memory_working_set_bytes, ts)),
    );
    container_family(
        &mut out,
        &s.containers,
        "container_start_time_seconds",
        "gauge",
        "[STABLE] Start time of the container since unix epoch in seconds",
        |c| {
            let t = c.start_time_seconds.filter(|t| *t > 0.0)?;
            Some((t, Some((t * 1000.0) as i64)))
        },
    );
    FamilyWriter::new(
        &mut out,
        "node_cpu_usage_seconds_total",
        "counter",
        "[STABLE] Cumulative cpu time consumed by the node in core-seconds",
    )
    .sample(&[], s.node.cpu_seconds(), ts);
    FamilyWriter::new(
        &mut out,
        "node_memory_working_set_bytes",
        "gauge",
        "[STABLE] Current working set of the node in bytes",
    )
    .sample(&[], s.node.memory_working_set_bytes as f64, ts);
    if !s.pods.is_empty() {
        let mut f = FamilyWriter::new(
            &mut out,
            "pod_cpu_usage_seconds_total",
            "counter",
            "[STABLE] Cumulative cpu time consumed by the pod in core-seconds",
        );
        for ((ns, pod), u) in &s.pods {
            f.sample(&[("namespace", ns), ("pod", pod)], u.cpu_seconds(), ts);
        }
        let mut f = FamilyWriter::new(
            &mut out,
            "pod_memory_working_set_bytes",
            "gauge",
            "[STABLE] Current working set of the pod in bytes",
        );
        for ((ns, pod), u) in &s.pods {
            f.sample(
                &[("namespace", ns), ("pod", pod)],
                u.memory_working_set_bytes as f64,
                ts,
            );
        }
    }
    FamilyWriter::new(
        &mut out,
        "resource_scrape_error",
        "gauge",
        "[STABLE] 1 if there was an error while getting container metrics, 0 otherwise",
    )
    .sample(&[], if s.scrape_error { 1.0 } else { 0.0 }, None);
    out
}

/// One per-container family, its samples labelled `container, namespace, pod`; `value`
/// gives a sample's value and timestamp, or None to leave the container out.
fn container_family(
    out: &mut String,
    containers: &[ContainerSample],
    name: &'static str,
    kind: &str,
    help: &str,
    value: impl Fn(&ContainerSample) -> Option<(f64, Option<i64>)>,
) {
    let samples: Vec<_> = containers
        .iter()
        .filter_map(|c| value(c).map(|v| (c, v)))
        .collect();
    if samples.is_empty() {
        return;
    }
    let mut f = FamilyWriter::new(out, name, kind, help);
    for (c, (v, t)) in samples {
        f.sample(
            &[
                ("container", &c.container),
                ("namespace", &c.namespace),
                ("pod", &c.pod),
            ],
            v,
            t,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::{ContainerInfo, ContainerState, ContainerStats};
    use crate::stats::Reading;
    use std::time::Duration;

    fn reading(ns: &str, pod: &str, name: &str, cpu_ns: u64, mem: u64, started: u64) -> Reading {
        let labels = [
            (labels::POD_NAMESPACE, ns),
            (labels::POD_NAME, pod),
            (labels::CONTAINER_NAME, name),
            (labels::POD_UID, pod),
            (labels::CONTAINER_TYPE, "app"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        Reading {
            info: ContainerInfo {
                id: format!("id-{pod}-{name}"),
                name: format!("k8s_{name}_{pod}_{ns}_{pod}_0"),
                image: "local/busybox:1".into(),
                image_id: String::new(),
                labels,
                state: ContainerState::Running,
                exit_code: 0,
                oom_killed: false,
                error: String::new(),
                created_at: None,
                started_at: Some(UNIX_EPOCH + Duration::from_secs(started)),
                finished_at: None,
                pid: Some(1),
                ip: None,
            },
            stats: ContainerStats {
                cpu_usage_ns: cpu_ns,
                cpu_millicores: 0,
                memory_bytes: mem,
                memory_usage_bytes: mem * 2,
            },
        }
    }

    /// Kubernetes' output for these figures (1.33 kubelet: family and label order, HELP
    /// texts, Go's number format, millisecond timestamps, a start time stamped with itself).
    const GOLDEN: &str = r#"# HELP container_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the container in core-seconds
# TYPE container_cpu_usage_seconds_total counter
container_cpu_usage_seconds_total{container="sidecar",namespace="default",pod="web-0"} 0.007655 1733484000000
container_cpu_usage_seconds_total{container="web",namespace="default",pod="web-0"} 0.012345 1733484000000
container_cpu_usage_seconds_total{container="web",namespace="kube-system",pod="web-1"} 123.45 1733484000000
# HELP container_memory_working_set_bytes [STABLE] Current working set of the container in bytes
# TYPE container_memory_working_set_bytes gauge
container_memory_working_set_bytes{container="sidecar",namespace="default",pod="web-0"} 1.2655e+06 1733484000000
container_memory_working_set_bytes{container="web",namespace="default",pod="web-0"} 1.2345e+06 1733484000000
container_memory_working_set_bytes{container="web",namespace="kube-system",pod="web-1"} 4096 1733484000000
# HELP container_start_time_seconds [STABLE] Start time of the container since unix epoch in seconds
# TYPE container_start_time_seconds gauge
container_start_time_seconds{container="sidecar",namespace="default",pod="web-0"} 1.7334839e+09 1733483900000
container_start_time_seconds{container="web",namespace="default",pod="web-0"} 1.7334839e+09 1733483900000
container_start_time_seconds{container="web",namespace="kube-system",pod="web-1"} 1.733483e+09 1733483000000
# HELP node_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the node in core-seconds
# TYPE node_cpu_usage_seconds_total counter
node_cpu_usage_seconds_total 123.47 1733484000000
# HELP node_memory_working_set_bytes [STABLE] Current working set of the node in bytes
# TYPE node_memory_working_set_bytes gauge
node_memory_working_set_bytes 2.504096e+06 1733484000000
# HELP pod_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the pod in core-seconds
# TYPE pod_cpu_usage_seconds_total counter
pod_cpu_usage_seconds_total{namespace="default",pod="web-0"} 0.02 1733484000000
pod_cpu_usage_seconds_total{namespace="kube-system",pod="web-1"} 123.45 1733484000000
# HELP pod_memory_working_set_bytes [STABLE] Current working set of the pod in bytes
# TYPE pod_memory_working_set_bytes gauge
pod_memory_working_set_bytes{namespace="default",pod="web-0"} 2.5e+06 1733484000000
pod_memory_working_set_bytes{namespace="kube-system",pod="web-1"} 4096 1733484000000
# HELP resource_scrape_error [STABLE] 1 if there was an error while getting container metrics, 0 otherwise
# TYPE resource_scrape_error gauge
resource_scrape_error 0
"#;

    #[test]
    fn resource_metrics_are_kubernetes_format() {
        let readings = Readings {
            readings: vec![
                reading(
                    "kube-system",
                    "web-1",
                    "web",
                    123_450_000_000,
                    4096,
                    1_733_483_000,
                ),
                reading(
                    "default",
                    "web-0",
                    "web",
                    12_345_000,
                    1_234_500,
                    1_733_483_900,
                ),
                reading(
                    "default",
                    "web-0",
                    "sidecar",
                    7_655_000,
                    1_265_500,
                    1_733_483_900,
                ),
            ],
            failed: false,
            at: UNIX_EPOCH + Duration::from_millis(1_733_484_000_000),
        };
        let s = Snapshot::from_readings(&readings);
        assert_eq!(render(&s), GOLDEN);
    }

    #[test]
    fn an_empty_node_still_reports_itself_and_errors_show() {
        let s = Snapshot::from_readings(&Readings {
            readings: vec![],
            failed: true,
            at: UNIX_EPOCH + Duration::from_millis(5),
        });
        assert_eq!(
            render(&s),
            "# HELP node_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the node in core-seconds\n\
             # TYPE node_cpu_usage_seconds_total counter\n\
             node_cpu_usage_seconds_total 0 5\n\
             # HELP node_memory_working_set_bytes [STABLE] Current working set of the node in bytes\n\
             # TYPE node_memory_working_set_bytes gauge\n\
             node_memory_working_set_bytes 0 5\n\
             # HELP resource_scrape_error [STABLE] 1 if there was an error while getting container metrics, 0 otherwise\n\
             # TYPE resource_scrape_error gauge\n\
             resource_scrape_error 1\n"
        );
    }
}
