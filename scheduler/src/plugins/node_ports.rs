//! NodePorts: a pod asking for host ports fits only where none of them is taken.

use crate::cache::Snapshot;
use crate::framework::{ClusterEvent, CycleState, FilterPlugin, Plugin, Status};
use crate::nodeinfo::NodeInfo;
use crate::podinfo::PodInfo;

pub const NAME: &str = "NodePorts";
pub const REASON: &str = "node(s) didn't have free ports for the requested pod ports";

pub struct NodePorts;

impl Plugin for NodePorts {
    fn name(&self) -> &'static str {
        NAME
    }
    fn events(&self) -> &'static [ClusterEvent] {
        &[ClusterEvent::NodeAdd, ClusterEvent::AssignedPodDelete]
    }
}

impl FilterPlugin for NodePorts {
    fn pre_filter(&self, _: &mut CycleState, pod: &PodInfo, _: &Snapshot) -> Status {
        if pod.host_ports.is_empty() {
            Status::skip()
        } else {
            Status::success()
        }
    }

    fn filter(&self, _: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status {
        let conflict = pod
            .host_ports
            .iter()
            .any(|want| node.used_ports.iter().any(|used| used.conflicts(want)));
        if conflict {
            Status::unschedulable(REASON)
        } else {
            Status::success()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::testutil::*;

    #[test]
    fn table() {
        let cases = [
            (
                "free port",
                vec![(8080, "TCP", "")],
                vec![(9090, "TCP", "")],
                true,
            ),
            (
                "taken port",
                vec![(8080, "TCP", "")],
                vec![(8080, "TCP", "")],
                false,
            ),
            (
                "other protocol",
                vec![(53, "UDP", "")],
                vec![(53, "TCP", "")],
                true,
            ),
            (
                "other ip",
                vec![(80, "TCP", "10.0.0.1")],
                vec![(80, "TCP", "10.0.0.2")],
                true,
            ),
            (
                "wildcard ip conflicts",
                vec![(80, "TCP", "10.0.0.1")],
                vec![(80, "TCP", "0.0.0.0")],
                false,
            ),
            ("no ports asked", vec![], vec![(80, "TCP", "")], true),
        ];
        for (name, want, used, fits) in cases {
            let p = pod_with_ports(&want);
            let existing = pod_with_ports(&used);
            let n = node_info(node("n1"), vec![existing]);
            let mut st = CycleState::default();
            let pre = NodePorts.pre_filter(&mut st, &p, &Snapshot::default());
            let ok = pre.code == crate::framework::Code::Skip
                || NodePorts.filter(&st, &p, &n).is_success();
            assert_eq!(ok, fits, "{name}");
        }
    }
}
