//! NodeName: a pod that names its node (`spec.nodeName`) fits only there.

use crate::cache::Snapshot;
use crate::framework::{ClusterEvent, CycleState, FilterPlugin, Plugin, Status};
use crate::nodeinfo::NodeInfo;
use crate::podinfo::PodInfo;

pub const NAME: &str = "NodeName";
pub const REASON: &str = "node(s) didn't match the requested node name";

pub struct NodeName;

impl Plugin for NodeName {
    fn name(&self) -> &'static str {
        NAME
    }
    fn events(&self) -> &'static [ClusterEvent] {
        &[ClusterEvent::NodeAdd]
    }
}

impl FilterPlugin for NodeName {
    fn pre_filter(&self, _: &mut CycleState, pod: &PodInfo, _: &Snapshot) -> Status {
        if pod.node_name().is_empty() {
            Status::skip()
        } else {
            Status::success()
        }
    }

    fn filter(&self, _: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status {
        let want = pod.node_name();
        if want.is_empty() || want == node.name() {
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

    #[test]
    fn table() {
        let cases = [
            ("no node name: fits anywhere", "", "n1", true),
            ("named node", "n1", "n1", true),
            ("other node", "n1", "n2", false),
        ];
        for (name, want, node_name, fits) in cases {
            let p = pod_with(|p| p.spec_mut().node_name = want.into());
            let n = node_info(node(node_name), vec![]);
            let st = NodeName.filter(&CycleState::default(), &p, &n);
            assert_eq!(st.is_success(), fits, "{name}");
            if !fits {
                assert_eq!(st.reasons, [REASON], "{name}");
            }
        }
    }
}
