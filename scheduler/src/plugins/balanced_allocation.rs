//! NodeResourcesBalancedAllocation: prefers nodes where, with the pod placed, cpu and
//! memory would be used in similar proportions (Kubernetes: `(1 - std) * 100` over the
//! requested fractions; for two resources std is half their difference).

use crate::framework::{CycleState, MAX_NODE_SCORE, Plugin, ScorePlugin};
use crate::nodeinfo::NodeInfo;
use crate::podinfo::PodInfo;

pub const NAME: &str = "NodeResourcesBalancedAllocation";

pub struct BalancedAllocation;

impl Plugin for BalancedAllocation {
    fn name(&self) -> &'static str {
        NAME
    }
}

fn fraction(requested: i64, capacity: i64) -> f64 {
    if capacity <= 0 {
        return 1.0;
    }
    (requested as f64 / capacity as f64).min(1.0)
}

impl ScorePlugin for BalancedAllocation {
    fn score(&self, _: &CycleState, pod: &PodInfo, node: &NodeInfo) -> i64 {
        let cpu = fraction(
            node.requested.milli_cpu + pod.requests.milli_cpu,
            node.allocatable.milli_cpu,
        );
        let mem = fraction(
            node.requested.memory + pod.requests.memory,
            node.allocatable.memory,
        );
        let std = (cpu - mem).abs() / 2.0;
        ((1.0 - std) * MAX_NODE_SCORE as f64) as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::testutil::*;

    #[test]
    fn table() {
        // Nodes have 4 cpu and 8Gi.
        let cases = [
            (
                "empty node, zero pod: perfectly balanced",
                vec![],
                pod_with(|_| {}),
                100,
            ),
            ("half cpu, half memory", vec![], requesting("2", "4Gi"), 100),
            ("all cpu, no memory", vec![], requesting("4", "0"), 50),
            (
                "existing pods count",
                vec![requesting("2", "0")],
                requesting("0", "4Gi"),
                100,
            ),
            (
                "quarter vs three quarters",
                vec![],
                requesting("1", "6Gi"),
                75,
            ),
        ];
        for (name, existing, pod, want) in cases {
            let n = node_info(node("n"), existing);
            assert_eq!(
                BalancedAllocation.score(&CycleState::default(), &pod, &n),
                want,
                "{name}"
            );
        }
    }
}
