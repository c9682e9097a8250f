//! The kubelet's metrics, with Kubernetes' names (`pkg/kubelet/metrics/metrics.go`),
//! registered once in the process's registry (`telemetry::metrics`), and the renderers of
//! the kubelet's per-container endpoints (`/metrics/resource`, `/metrics/cadvisor`).
//!
//! Several kubelets in one process (hollow-node tests) share the registry: their counts add
//! up and `kubelet_node_name` has one series per node.

pub mod cadvisor;
pub mod resource;
pub mod startup;
pub mod text;

use crate::runtime::{ContainerInfo, ContainerKind, ContainerState};
use std::sync::LazyLock;
use telemetry::metrics::{Counter, Family, Gauge, Histogram, exponential_buckets, register};

type Labels = [(&'static str, String); 1];
type HistogramFamily = Family<Labels, Histogram, fn() -> Histogram>;

/// Kubernetes' `podStartupDurationBuckets`: round numbers from half a second to an hour.
pub const POD_START_BUCKETS: [f64; 25] = [
    0.5, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 20.0, 30.0, 45.0, 60.0, 120.0, 180.0, 240.0,
    300.0, 360.0, 480.0, 600.0, 900.0, 1200.0, 1800.0, 2700.0, 3600.0,
];
/// Prometheus' default buckets (`metrics.DefBuckets`), used by the PLEG histograms.
pub const DEFAULT_BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// `kubelet_running_containers`' states, as Kubernetes names them.
pub const CONTAINER_STATES: [&str; 4] = ["created", "running", "exited", "unknown"];

pub struct KubeletMetrics {
    pub node_name: Family<Labels, Gauge>,
    pub running_pods: Gauge,
    pub running_containers: Family<Labels, Gauge>,
    pub pod_start_sli_duration: Histogram,
    pub pod_start_duration: Histogram,
    pub runtime_operations: Family<Labels, Counter>,
    pub runtime_operations_duration: HistogramFamily,
    pub runtime_operations_errors: Family<Labels, Counter>,
    pub pleg_relist_duration: Histogram,
    pub pleg_relist_interval: Histogram,
    pub started_pods: Counter,
    pub started_containers: Family<Labels, Counter>,
}

fn runtime_operation_histogram() -> Histogram {
    // Kubernetes: ExponentialBuckets(.005, 2.5, 14), 5 ms to about 3.5 h.
    Histogram::new(exponential_buckets(0.005, 2.5, 14))
}

static METRICS: LazyLock<KubeletMetrics> = LazyLock::new(|| KubeletMetrics {
    node_name: register(
        "kubelet_node_name",
        "[ALPHA] The node's name. The count is always 1",
        Family::default(),
    ),
    running_pods: register(
        "kubelet_running_pods",
        "[ALPHA] Number of pods that have a running pod sandbox",
        Gauge::default(),
    ),
    running_containers: register(
        "kubelet_running_containers",
        "[ALPHA] Number of containers currently running",
        Family::default(),
    ),
    pod_start_sli_duration: register(
        "kubelet_pod_start_sli_duration_seconds",
        "[ALPHA] Duration in seconds to start a pod, excluding time to pull images and run init containers, measured from pod creation timestamp to when all its containers are reported as started and observed via watch",
        Histogram::new(POD_START_BUCKETS),
    ),
    pod_start_duration: register(
        "kubelet_pod_start_duration_seconds",
        "[ALPHA] Duration in seconds from kubelet seeing a pod for the first time to the pod starting to run",
        Histogram::new(POD_START_BUCKETS),
    ),
    runtime_operations: register(
        "kubelet_runtime_operations",
        "[ALPHA] Cumulative number of runtime operations by operation type",
        Family::default(),
    ),
    runtime_operations_duration: register(
        "kubelet_runtime_operations_duration_seconds",
        "[ALPHA] Duration in seconds of runtime operations. Broken down by operation type",
        Family::new_with_constructor(runtime_operation_histogram as fn() -> Histogram),
    ),
    runtime_operations_errors: register(
        "kubelet_runtime_operations_errors",
        "[ALPHA] Cumulative number of runtime operation errors by operation type",
        Family::default(),
    ),
    pleg_relist_duration: register(
        "kubelet_pleg_relist_duration_seconds",
        "[ALPHA] Duration in seconds for relisting pods in PLEG",
        Histogram::new(DEFAULT_BUCKETS),
    ),
    pleg_relist_interval: register(
        "kubelet_pleg_relist_interval_seconds",
        "[ALPHA] Interval in seconds between relisting in PLEG",
        Histogram::new(DEFAULT_BUCKETS),
    ),
    started_pods: register(
        "kubelet_started_pods",
        "[ALPHA] Cumulative number of pods started",
        Counter::default(),
    ),
    started_containers: register(
        "kubelet_started_containers",
        "[ALPHA] Cumulative number of containers started",
        Family::default(),
    ),
});

/// The process's kubelet metrics (registered on first use).
pub fn metrics() -> &'static KubeletMetrics {
    &METRICS
}

impl KubeletMetrics {
    /// `kubelet_node_name{node}` = 1 for this kubelet's node.
    pub fn set_node_name(&self, node: &str) {
        self.node_name
            .get_or_create(&[("node", node.to_string())])
            .set(1);
    }

    /// The running gauges from a listing of the node's containers.
    pub fn set_running(&self, counts: &RunningCounts) {
        self.running_pods.set(counts.pods);
        for (state, n) in CONTAINER_STATES.iter().zip(counts.containers) {
            self.running_containers
                .get_or_create(&[("container_state", (*state).to_string())])
                .set(n);
        }
    }

    /// One runtime call of `operation` that took `seconds`.
    pub fn observe_runtime_operation(&self, operation: &'static str, seconds: f64, failed: bool) {
        let labels = [("operation_type", operation.to_string())];
        self.runtime_operations.get_or_create(&labels).inc();
        self.runtime_operations_duration
            .get_or_create(&labels)
            .observe(seconds);
        if failed {
            self.runtime_operations_errors.get_or_create(&labels).inc();
        }
    }

    /// A container started; `kind` is Kubernetes' `container_type` (`container`,
    /// `init_container`).
    pub fn container_started(&self, kind: ContainerKind) {
        let label = match kind {
            ContainerKind::Init => "init_container",
            ContainerKind::App | ContainerKind::Sandbox => "container",
        };
        self.started_containers
            .get_or_create(&[("container_type", label.to_string())])
            .inc();
    }
}

/// What the running gauges say: pods with a running sandbox, and the node's pod
/// containers (sandboxes apart) by state, in [`CONTAINER_STATES`]' order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RunningCounts {
    pub pods: i64,
    pub containers: [i64; 4],
}

/// Counts as Kubernetes' PLEG does after a relist: sandboxes that run, containers by state.
pub fn running_counts(containers: &[ContainerInfo]) -> RunningCounts {
    let mut out = RunningCounts::default();
    let mut pods = std::collections::HashSet::new();
    for c in containers {
        match c.kind() {
            Some(ContainerKind::Sandbox) if c.is_running() => {
                pods.insert(c.pod_uid());
            }
            Some(ContainerKind::Sandbox) => {}
            Some(_) => {
                let i = match c.state {
                    ContainerState::Created => 0,
                    ContainerState::Running => 1,
                    ContainerState::Exited => 2,
                    ContainerState::Unknown => 3,
                };
                out.containers[i] += 1;
            }
            None => {}
        }
    }
    out.pods = i64::try_from(pods.len()).unwrap_or(i64::MAX);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::labels;

    pub(crate) fn container(
        uid: &str,
        kind: ContainerKind,
        state: ContainerState,
    ) -> ContainerInfo {
        ContainerInfo {
            id: format!("{uid}-{}", kind.as_label()),
            name: String::new(),
            image: String::new(),
            image_id: String::new(),
            labels: [
                (labels::POD_UID.to_string(), uid.to_string()),
                (
                    labels::CONTAINER_TYPE.to_string(),
                    kind.as_label().to_string(),
                ),
            ]
            .into_iter()
            .collect(),
            state,
            exit_code: 0,
            oom_killed: false,
            error: String::new(),
            created_at: None,
            started_at: None,
            finished_at: None,
            pid: None,
            ip: None,
        }
    }

    #[test]
    fn running_pods_are_running_sandboxes_and_containers_count_by_state() {
        use ContainerKind::*;
        use ContainerState::*;
        let list = vec![
            container("a", Sandbox, Running),
            container("a", App, Running),
            container("a", Init, Exited),
            container("b", Sandbox, Exited),
            container("b", App, Exited),
            container("c", Sandbox, Running),
            container("c", App, Created),
            container("c", App, Unknown),
        ];
        assert_eq!(
            running_counts(&list),
            RunningCounts {
                pods: 2,
                containers: [1, 1, 2, 1]
            }
        );
    }

    #[test]
    fn kubelet_metrics_carry_kubernetes_names() {
        let m = metrics();
        m.set_node_name("metrics-test-node");
        m.observe_runtime_operation("version", 0.003, false);
        m.observe_runtime_operation("pull_image", 0.2, true);
        m.container_started(ContainerKind::Init);
        m.set_running(&RunningCounts {
            pods: 1,
            containers: [0, 2, 0, 0],
        });
        let text = telemetry::metrics::encode();
        for want in [
            r#"kubelet_node_name{node="metrics-test-node"} 1"#,
            r#"kubelet_runtime_operations_total{operation_type="version"}"#,
            r#"kubelet_runtime_operations_errors_total{operation_type="pull_image"} 1"#,
            r#"kubelet_runtime_operations_duration_seconds_bucket{le="0.005",operation_type="version"}"#,
            r#"kubelet_started_containers_total{container_type="init_container"}"#,
            r#"kubelet_running_containers{container_state="running"} 2"#,
            "kubelet_running_pods 1",
            "# TYPE kubelet_pod_start_sli_duration_seconds histogram",
            r#"kubelet_pod_start_sli_duration_seconds_bucket{le="3600.0"}"#,
            "# TYPE kubelet_pleg_relist_interval_seconds histogram",
        ] {
            assert!(text.contains(want), "{want} missing from:\n{text}");
        }
    }
}
