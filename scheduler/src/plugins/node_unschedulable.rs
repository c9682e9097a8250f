//! NodeUnschedulable: a cordoned node (`spec.unschedulable`) takes only pods that tolerate
//! the `node.kubernetes.io/unschedulable:NoSchedule` taint.

use crate::framework::{ClusterEvent, CycleState, FilterPlugin, Plugin, Status};
use crate::nodeinfo::NodeInfo;
use crate::plugins::taint_toleration::tolerates;
use crate::podinfo::PodInfo;
use proto::k8s::Taint;

pub const NAME: &str = "NodeUnschedulable";
pub const REASON: &str = "node(s) were unschedulable";
pub const TAINT_KEY: &str = "node.kubernetes.io/unschedulable";

pub struct NodeUnschedulable;

impl Plugin for NodeUnschedulable {
    fn name(&self) -> &'static str {
        NAME
    }
    fn events(&self) -> &'static [ClusterEvent] {
        &[
            ClusterEvent::NodeAdd,
            ClusterEvent::NodeUnschedulableChange,
            ClusterEvent::NodeTaintChange,
        ]
    }
}

impl FilterPlugin for NodeUnschedulable {
    fn filter(&self, _: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status {
        let cordoned = node.node.spec.as_ref().is_some_and(|s| s.unschedulable);
        if !cordoned {
            return Status::success();
        }
        let taint = Taint {
            key: TAINT_KEY.into(),
            effect: "NoSchedule".into(),
            ..Default::default()
        };
        if pod.spec().tolerations.iter().any(|t| tolerates(t, &taint)) {
            Status::success()
        } else {
            Status::unresolvable(REASON)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::testutil::*;
    use proto::k8s::Toleration;

    #[test]
    fn table() {
        let tol = |key: &str, op: &str, effect: &str| Toleration {
            key: key.into(),
            operator: op.into(),
            effect: effect.into(),
            ..Default::default()
        };
        let cases = [
            ("schedulable node", false, vec![], true),
            ("cordoned", true, vec![], false),
            (
                "cordoned, tolerated",
                true,
                vec![tol(TAINT_KEY, "Exists", "NoSchedule")],
                true,
            ),
            (
                "cordoned, tolerate-everything",
                true,
                vec![tol("", "Exists", "")],
                true,
            ),
            (
                "cordoned, wrong effect",
                true,
                vec![tol(TAINT_KEY, "Exists", "NoExecute")],
                false,
            ),
        ];
        for (name, cordoned, tolerations, fits) in cases {
            let p = pod_with(|p| p.spec_mut().tolerations = tolerations.clone());
            let mut n = node("n1");
            n.spec.get_or_insert_with(Default::default).unschedulable = cordoned;
            let st = NodeUnschedulable.filter(&CycleState::default(), &p, &node_info(n, vec![]));
            assert_eq!(st.is_success(), fits, "{name}");
            if !fits {
                assert_eq!(st.reasons, [REASON]);
            }
        }
    }
}
