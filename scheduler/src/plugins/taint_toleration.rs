//! TaintToleration: a node's NoSchedule and NoExecute taints keep off pods that do not
//! tolerate them (filter); PreferNoSchedule taints only lower the node's score, by how
//! many of them the pod does not tolerate.

use crate::cache::Snapshot;
use crate::framework::{
    ClusterEvent, CycleState, FilterPlugin, Plugin, ScorePlugin, Status, default_normalize,
};
use crate::nodeinfo::NodeInfo;
use crate::podinfo::PodInfo;
use proto::k8s::{Taint, Toleration};

pub const NAME: &str = "TaintToleration";

pub struct TaintToleration;

pub use proto::taints::tolerates;

/// The first taint with one of `effects` that no toleration tolerates.
pub fn find_untolerated<'a>(
    taints: &'a [Taint],
    tolerations: &[Toleration],
    effects: &[&str],
) -> Option<&'a Taint> {
    taints.iter().find(|taint| {
        effects.contains(&taint.effect.as_str()) && !tolerations.iter().any(|t| tolerates(t, taint))
    })
}

impl Plugin for TaintToleration {
    fn name(&self) -> &'static str {
        NAME
    }
    fn events(&self) -> &'static [ClusterEvent] {
        &[ClusterEvent::NodeAdd, ClusterEvent::NodeTaintChange]
    }
}

impl FilterPlugin for TaintToleration {
    fn filter(&self, _: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status {
        match find_untolerated(
            node.taints(),
            &pod.spec().tolerations,
            &["NoSchedule", "NoExecute"],
        ) {
            None => Status::success(),
            Some(t) => Status::unresolvable(format!(
                "node(s) had untolerated taint {{{}: {}}}",
                t.key, t.value
            )),
        }
    }
}

impl ScorePlugin for TaintToleration {
    fn pre_score(
        &self,
        _: &mut CycleState,
        _: &PodInfo,
        _: &Snapshot,
        nodes: &[&NodeInfo],
    ) -> Status {
        if nodes
            .iter()
            .all(|n| n.taints().iter().all(|t| t.effect != "PreferNoSchedule"))
        {
            Status::skip()
        } else {
            Status::success()
        }
    }

    /// The number of PreferNoSchedule taints the pod does not tolerate (lower is better).
    /// (`tolerates` already rejects a toleration whose effect is neither empty nor
    /// PreferNoSchedule, so no per-node pre-filtered copy of the tolerations is needed.)
    fn score(&self, _: &CycleState, pod: &PodInfo, node: &NodeInfo) -> i64 {
        let tolerations = &pod.spec().tolerations;
        node.taints()
            .iter()
            .filter(|taint| {
                taint.effect == "PreferNoSchedule"
                    && !tolerations.iter().any(|t| tolerates(t, taint))
            })
            .count() as i64
    }

    fn normalize(&self, _: &CycleState, scores: &mut [i64]) {
        default_normalize(scores, true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::testutil::*;

    fn taint(key: &str, value: &str, effect: &str) -> Taint {
        Taint {
            key: key.into(),
            value: value.into(),
            effect: effect.into(),
            ..Default::default()
        }
    }
    fn tol(key: &str, op: &str, value: &str, effect: &str) -> Toleration {
        Toleration {
            key: key.into(),
            operator: op.into(),
            value: value.into(),
            effect: effect.into(),
            ..Default::default()
        }
    }

    #[test]
    fn tolerates_table() {
        let t = taint("dedicated", "gpu", "NoSchedule");
        let cases = [
            (
                "equal, same value and effect",
                tol("dedicated", "Equal", "gpu", "NoSchedule"),
                true,
            ),
            (
                "no operator means Equal",
                tol("dedicated", "", "gpu", "NoSchedule"),
                true,
            ),
            (
                "different value",
                tol("dedicated", "Equal", "db", "NoSchedule"),
                false,
            ),
            (
                "exists ignores value",
                tol("dedicated", "Exists", "", "NoSchedule"),
                true,
            ),
            (
                "empty effect matches all effects",
                tol("dedicated", "Exists", "", ""),
                true,
            ),
            (
                "effect mismatch",
                tol("dedicated", "Exists", "", "NoExecute"),
                false,
            ),
            (
                "effect mismatch (PreferNoSchedule)",
                tol("dedicated", "Equal", "gpu", "PreferNoSchedule"),
                false,
            ),
            (
                "empty key + Exists tolerates everything",
                tol("", "Exists", "", ""),
                true,
            ),
            ("other key", tol("zone", "Exists", "", ""), false),
            (
                "unknown operator",
                tol("dedicated", "Like", "gpu", ""),
                false,
            ),
        ];
        for (name, toleration, want) in cases {
            assert_eq!(tolerates(&toleration, &t), want, "{name}");
        }
    }

    #[test]
    fn filter_table() {
        let cases = [
            ("no taints", vec![], vec![], None),
            (
                "untolerated NoSchedule",
                vec![taint("dedicated", "gpu", "NoSchedule")],
                vec![],
                Some("node(s) had untolerated taint {dedicated: gpu}"),
            ),
            (
                "untolerated NoExecute",
                vec![taint("maintenance", "", "NoExecute")],
                vec![],
                Some("node(s) had untolerated taint {maintenance: }"),
            ),
            (
                "PreferNoSchedule never filters",
                vec![taint("a", "b", "PreferNoSchedule")],
                vec![],
                None,
            ),
            (
                "tolerated",
                vec![taint("dedicated", "gpu", "NoSchedule")],
                vec![tol("dedicated", "Equal", "gpu", "NoSchedule")],
                None,
            ),
            (
                "toleration for the wrong effect",
                vec![taint("dedicated", "gpu", "NoSchedule")],
                vec![tol("dedicated", "Equal", "gpu", "NoExecute")],
                Some("node(s) had untolerated taint {dedicated: gpu}"),
            ),
            (
                "one of two tolerated",
                vec![taint("a", "1", "NoSchedule"), taint("b", "2", "NoSchedule")],
                vec![tol("a", "Exists", "", "")],
                Some("node(s) had untolerated taint {b: 2}"),
            ),
        ];
        for (name, taints, tolerations, want) in cases {
            let p = pod_with(|p| p.spec_mut().tolerations = tolerations.clone());
            let mut n = node("n1");
            n.spec.get_or_insert_with(Default::default).taints = taints;
            let st = TaintToleration.filter(&CycleState::default(), &p, &node_info(n, vec![]));
            match want {
                None => assert!(st.is_success(), "{name}: {st:?}"),
                Some(reason) => {
                    assert_eq!(st.reasons, [reason], "{name}");
                    assert_eq!(
                        st.code,
                        crate::framework::Code::UnschedulableAndUnresolvable
                    );
                }
            }
        }
    }

    #[test]
    fn score_prefers_fewer_untolerated_prefer_no_schedule_taints() {
        let p = pod_with(|p| {
            p.spec_mut().tolerations = vec![tol("ok", "Exists", "", "PreferNoSchedule")]
        });
        let mk = |taints: Vec<Taint>| {
            let mut n = node("n");
            n.spec.get_or_insert_with(Default::default).taints = taints;
            node_info(n, vec![])
        };
        let nodes = [
            mk(vec![]),
            mk(vec![taint("bad", "", "PreferNoSchedule")]),
            mk(vec![
                taint("bad", "", "PreferNoSchedule"),
                taint("worse", "", "PreferNoSchedule"),
            ]),
            mk(vec![taint("ok", "", "PreferNoSchedule")]),
        ];
        let st = CycleState::default();
        let mut scores: Vec<i64> = nodes
            .iter()
            .map(|n| TaintToleration.score(&st, &p, n))
            .collect();
        assert_eq!(scores, [0, 1, 2, 0]);
        TaintToleration.normalize(&st, &mut scores);
        assert_eq!(scores, [100, 50, 0, 100]);
    }
}
