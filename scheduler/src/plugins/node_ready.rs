//! NodeReady: a node whose Ready condition is not True (NotReady or Unknown) takes only
//! pods that tolerate the `node.kubernetes.io/not-ready` (or `unreachable`) taint with
//! effect NoSchedule or NoExecute, as DaemonSet pods do. Kubernetes gets the same effect
//! from the taints its node lifecycle controller adds; this filter does not wait for them.
//! A node reporting no Ready condition at all (created by hand, no kubelet yet) counts as
//! ready.

use crate::framework::{ClusterEvent, CycleState, FilterPlugin, Plugin, Status};
use crate::nodeinfo::NodeInfo;
use crate::plugins::taint_toleration::tolerates;
use crate::podinfo::PodInfo;
use proto::k8s::Taint;

pub const NAME: &str = "NodeReady";
pub const REASON: &str = "node(s) were not ready";

pub struct NodeReady;

impl Plugin for NodeReady {
    fn name(&self) -> &'static str {
        NAME
    }
    fn events(&self) -> &'static [ClusterEvent] {
        &[ClusterEvent::NodeAdd, ClusterEvent::NodeConditionChange]
    }
}

/// "True", "False", "Unknown", or None when the node reports no Ready condition.
pub fn ready_status(node: &NodeInfo) -> Option<&str> {
    node.ready.as_deref()
}

impl FilterPlugin for NodeReady {
    fn filter(&self, _: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status {
        let key = match ready_status(node) {
            None | Some("True") => return Status::success(),
            Some("False") => "node.kubernetes.io/not-ready",
            Some(_) => "node.kubernetes.io/unreachable",
        };
        let tolerated = ["NoSchedule", "NoExecute"].iter().all(|effect| {
            let taint = Taint {
                key: key.into(),
                effect: (*effect).into(),
                ..Default::default()
            };
            pod.spec().tolerations.iter().any(|t| tolerates(t, &taint))
        });
        if tolerated {
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
    use proto::k8s::{NodeCondition, Toleration};

    #[test]
    fn table() {
        let tol = |key: &str, effect: &str, secs: Option<i32>| Toleration {
            key: key.into(),
            operator: "Exists".into(),
            effect: effect.into(),
            toleration_seconds: secs,
            ..Default::default()
        };
        let not_ready = "node.kubernetes.io/not-ready";
        let cases = [
            ("no condition counts as ready", None, vec![], true),
            ("ready", Some("True"), vec![], true),
            ("not ready", Some("False"), vec![], false),
            ("unknown", Some("Unknown"), vec![], false),
            (
                "default 300s NoExecute toleration is not enough (NoSchedule not tolerated)",
                Some("False"),
                vec![tol(not_ready, "NoExecute", Some(300))],
                false,
            ),
            (
                "daemonset-style tolerations",
                Some("False"),
                vec![
                    tol(not_ready, "NoExecute", None),
                    tol(not_ready, "NoSchedule", None),
                ],
                true,
            ),
            (
                "tolerate everything",
                Some("Unknown"),
                vec![tol("", "", None)],
                true,
            ),
        ];
        for (name, status, tolerations, fits) in cases {
            let p = pod_with(|p| p.spec_mut().tolerations = tolerations.clone());
            let mut n = node("n1");
            if let Some(s) = status {
                n.status.get_or_insert_with(Default::default).conditions = vec![NodeCondition {
                    r#type: "Ready".into(),
                    status: s.into(),
                    ..Default::default()
                }];
            }
            let st = NodeReady.filter(&CycleState::default(), &p, &node_info(n, vec![]));
            assert_eq!(st.is_success(), fits, "{name}");
        }
    }
}
