//! NodeResourcesFit: the pod's requests (init containers counted as Kubernetes does) must
//! fit in what the node has left: cpu, memory, ephemeral storage, extended resources and
//! the number of pods (filter). Scores nodes by what would remain free after placing the
//! pod, `LeastAllocated` (default: spread load) or `MostAllocated` (bin-pack), over cpu and
//! memory with the non-zero requests Kubernetes uses for scoring.

use crate::framework::{
    ClusterEvent, CycleState, FilterPlugin, MAX_NODE_SCORE, Plugin, ScorePlugin, Status,
};
use crate::nodeinfo::NodeInfo;
use crate::podinfo::PodInfo;
use serde::Deserialize;

pub const NAME: &str = "NodeResourcesFit";
pub const TOO_MANY_PODS: &str = "Too many pods";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
pub enum Strategy {
    #[default]
    LeastAllocated,
    MostAllocated,
}

/// `pluginConfig` args, as Kubernetes' NodeResourcesFitArgs (the subset used).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Args {
    #[serde(default)]
    pub scoring_strategy: Option<ScoringStrategy>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScoringStrategy {
    #[serde(default, rename = "type")]
    pub kind: Strategy,
}

pub struct NodeResourcesFit {
    pub strategy: Strategy,
}

impl Plugin for NodeResourcesFit {
    fn name(&self) -> &'static str {
        NAME
    }
    fn events(&self) -> &'static [ClusterEvent] {
        &[
            ClusterEvent::NodeAdd,
            ClusterEvent::NodeAllocatableChange,
            ClusterEvent::AssignedPodDelete,
            ClusterEvent::AssignedPodUpdate,
        ]
    }
}

/// Every resource the pod lacks on the node, in Kubernetes' words.
pub fn insufficient(pod: &PodInfo, node: &NodeInfo) -> Vec<String> {
    let mut out = Vec::new();
    if node.pods.len() as i64 + 1 > node.allocatable.pods {
        out.push(TOO_MANY_PODS.to_string());
    }
    let want = &pod.requests;
    if want.is_zero() {
        return out;
    }
    let have = &node.allocatable;
    let used = &node.requested;
    let short = |req: i64, alloc: i64, used: i64| req > 0 && req > alloc - used;
    if short(want.milli_cpu, have.milli_cpu, used.milli_cpu) {
        out.push("Insufficient cpu".into());
    }
    if short(want.memory, have.memory, used.memory) {
        out.push("Insufficient memory".into());
    }
    if short(
        want.ephemeral_storage,
        have.ephemeral_storage,
        used.ephemeral_storage,
    ) {
        out.push("Insufficient ephemeral-storage".into());
    }
    for (name, req) in &want.scalar {
        if short(*req, have.get(name), used.get(name)) {
            out.push(format!("Insufficient {name}"));
        }
    }
    out
}

impl FilterPlugin for NodeResourcesFit {
    fn filter(&self, _: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status {
        let reasons = insufficient(pod, node);
        if reasons.is_empty() {
            Status::success()
        } else {
            Status {
                code: crate::framework::Code::Unschedulable,
                reasons,
            }
        }
    }
}

/// Free share (least allocated) or used share (most allocated) of one resource, 0..=100.
fn resource_score(strategy: Strategy, requested: i64, capacity: i64) -> i64 {
    if capacity <= 0 || requested > capacity {
        return 0;
    }
    match strategy {
        Strategy::LeastAllocated => (capacity - requested) * MAX_NODE_SCORE / capacity,
        Strategy::MostAllocated => requested * MAX_NODE_SCORE / capacity,
    }
}

impl ScorePlugin for NodeResourcesFit {
    fn score(&self, _: &CycleState, pod: &PodInfo, node: &NodeInfo) -> i64 {
        let cpu = resource_score(
            self.strategy,
            node.non_zero_requested.milli_cpu + pod.non_zero.milli_cpu,
            node.allocatable.milli_cpu,
        );
        let mem = resource_score(
            self.strategy,
            node.non_zero_requested.memory + pod.non_zero.memory,
            node.allocatable.memory,
        );
        (cpu + mem) / 2
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::testutil::*;

    #[test]
    fn filter_table() {
        // Nodes: 4 cpu, 8Gi, 110 pods (testutil defaults) unless changed.
        struct Case {
            name: &'static str,
            pod: PodInfo,
            existing: Vec<PodInfo>,
            max_pods: Option<&'static str>,
            gpus: Option<&'static str>,
            want: Vec<&'static str>,
        }
        let cases = vec![
            Case {
                name: "zero requests fit a full node",
                pod: pod_with(|_| {}),
                existing: vec![requesting("4", "8Gi")],
                max_pods: None,
                gpus: None,
                want: vec![],
            },
            Case {
                name: "fits exactly",
                pod: requesting("1", "1Gi"),
                existing: vec![requesting("3", "7Gi")],
                max_pods: None,
                gpus: None,
                want: vec![],
            },
            Case {
                name: "insufficient cpu",
                pod: requesting("2", "1Gi"),
                existing: vec![requesting("3", "1Gi")],
                max_pods: None,
                gpus: None,
                want: vec!["Insufficient cpu"],
            },
            Case {
                name: "insufficient cpu and memory",
                pod: requesting("2", "4Gi"),
                existing: vec![requesting("3", "5Gi")],
                max_pods: None,
                gpus: None,
                want: vec!["Insufficient cpu", "Insufficient memory"],
            },
            Case {
                name: "init container peak counts",
                pod: with_init("500m", "5"),
                existing: vec![],
                max_pods: None,
                gpus: None,
                want: vec!["Insufficient cpu"],
            },
            Case {
                name: "init container below the app does not add",
                pod: with_init("3", "1"),
                existing: vec![requesting("1", "0")],
                max_pods: None,
                gpus: None,
                want: vec![],
            },
            Case {
                name: "too many pods, even with zero requests",
                pod: pod_with(|_| {}),
                existing: vec![pod_with(|_| {})],
                max_pods: Some("1"),
                gpus: None,
                want: vec![TOO_MANY_PODS],
            },
            Case {
                name: "extended resource missing on the node",
                pod: requesting_gpu(1),
                existing: vec![],
                max_pods: None,
                gpus: None,
                want: vec!["Insufficient nvidia.com/gpu"],
            },
            Case {
                name: "extended resource present",
                pod: requesting_gpu(1),
                existing: vec![],
                max_pods: None,
                gpus: Some("2"),
                want: vec![],
            },
        ];
        for c in cases {
            let mut n = node("n1");
            let alloc = &mut n.status.get_or_insert_with(Default::default).allocatable;
            if let Some(m) = c.max_pods {
                alloc.insert("pods".into(), m.into());
            }
            if let Some(g) = c.gpus {
                alloc.insert("nvidia.com/gpu".into(), g.into());
            }
            let ni = node_info(n, c.existing);
            let fit = NodeResourcesFit {
                strategy: Strategy::LeastAllocated,
            };
            let st = fit.filter(&CycleState::default(), &c.pod, &ni);
            assert_eq!(st.reasons, c.want, "{}", c.name);
            assert_eq!(st.is_success(), c.want.is_empty(), "{}", c.name);
        }
    }

    #[test]
    fn scores_least_and_most_allocated() {
        // 4 cpu, 8Gi node; the pod asks 1 cpu 2Gi; the node already runs 1 cpu 2Gi.
        let n = node_info(node("n"), vec![requesting("1", "2Gi")]);
        let p = requesting("1", "2Gi");
        let st = CycleState::default();
        let least = NodeResourcesFit {
            strategy: Strategy::LeastAllocated,
        };
        let most = NodeResourcesFit {
            strategy: Strategy::MostAllocated,
        };
        assert_eq!(least.score(&st, &p, &n), 50);
        assert_eq!(most.score(&st, &p, &n), 50);
        let empty = node_info(node("e"), vec![]);
        assert_eq!(least.score(&st, &p, &empty), 75);
        assert_eq!(most.score(&st, &p, &empty), 25);
        // Zero requests count as 100m / 200Mi for scoring.
        let zero = pod_with(|_| {});
        assert_eq!(least.score(&st, &zero, &empty), (97 + 97) / 2);
        // Over capacity scores 0 for that resource.
        let big = requesting("8", "0");
        assert_eq!(least.score(&st, &big, &empty), 100 / 2);
    }
}
