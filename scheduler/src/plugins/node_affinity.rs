//! NodeAffinity: `spec.nodeSelector` and required node affinity decide where a pod may run
//! (filter); preferred node affinity terms add their weights to the nodes they match
//! (score). Operators In, NotIn, Exists, DoesNotExist, Gt, Lt on labels; In and NotIn on
//! the field `metadata.name`.

use crate::cache::Snapshot;
use crate::framework::{
    ClusterEvent, CycleState, FilterPlugin, Plugin, ScorePlugin, Status, default_normalize,
};
use crate::nodeinfo::NodeInfo;
use crate::podinfo::PodInfo;

pub const NAME: &str = "NodeAffinity";
pub const REASON: &str = "node(s) didn't match Pod's node affinity/selector";
const PREFERRED_KEY: &str = "NodeAffinity/preferred";

// The matching rule lives in proto, shared with the DaemonSet controller.
pub use proto::node_affinity::{RequiredNodeAffinity, Term};

pub struct NodeAffinity;

impl Plugin for NodeAffinity {
    fn name(&self) -> &'static str {
        NAME
    }
    fn events(&self) -> &'static [ClusterEvent] {
        &[ClusterEvent::NodeAdd, ClusterEvent::NodeLabelChange]
    }
}

impl FilterPlugin for NodeAffinity {
    fn pre_filter(&self, state: &mut CycleState, pod: &PodInfo, _: &Snapshot) -> Status {
        match RequiredNodeAffinity::from_spec(pod.spec()) {
            Ok(r) if r.is_empty() => Status::skip(),
            Ok(r) => {
                state.write(NAME, r);
                Status::success()
            }
            Err(e) => Status::unresolvable(format!("invalid node affinity: {e}")),
        }
    }

    fn filter(&self, state: &CycleState, _: &PodInfo, node: &NodeInfo) -> Status {
        match state.read::<RequiredNodeAffinity>(NAME) {
            Some(r) if !r.matches(&node.node) => Status::unresolvable(REASON),
            _ => Status::success(),
        }
    }
}

impl ScorePlugin for NodeAffinity {
    fn pre_score(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        _: &Snapshot,
        _: &[&NodeInfo],
    ) -> Status {
        let preferred = pod
            .spec()
            .affinity
            .as_ref()
            .and_then(|a| a.node_affinity.as_ref())
            .map(|na| &na.preferred_during_scheduling_ignored_during_execution[..])
            .unwrap_or_default();
        if preferred.is_empty() {
            return Status::skip();
        }
        let mut terms = Vec::new();
        for p in preferred {
            if p.weight == 0 {
                continue;
            }
            let Some(pref) = &p.preference else { continue };
            match Term::parse(pref) {
                Ok(t) => terms.push((i64::from(p.weight), t)),
                Err(e) => return Status::error(format!("invalid preferred node affinity: {e}")),
            }
        }
        state.write(PREFERRED_KEY, terms);
        Status::success()
    }

    fn score(&self, state: &CycleState, _: &PodInfo, node: &NodeInfo) -> i64 {
        state
            .read::<Vec<(i64, Term)>>(PREFERRED_KEY)
            .map_or(0, |terms| {
                terms
                    .iter()
                    .filter(|(_, t)| t.matches(&node.node))
                    .map(|(w, _)| *w)
                    .sum()
            })
    }

    fn normalize(&self, _: &CycleState, scores: &mut [i64]) {
        default_normalize(scores, false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::testutil::*;
    use proto::k8s::{
        Affinity, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, PreferredSchedulingTerm,
    };

    fn req(key: &str, op: &str, values: &[&str]) -> NodeSelectorRequirement {
        NodeSelectorRequirement {
            key: key.into(),
            operator: op.into(),
            values: values.iter().map(|v| v.to_string()).collect(),
        }
    }
    fn term(exprs: Vec<NodeSelectorRequirement>) -> NodeSelectorTerm {
        NodeSelectorTerm {
            match_expressions: exprs,
            ..Default::default()
        }
    }
    fn with_required(terms: Vec<NodeSelectorTerm>) -> PodInfo {
        pod_with(|p| {
            p.spec_mut().affinity = Some(Box::new(Affinity {
                node_affinity: Some(proto::k8s::NodeAffinity {
                    required_during_scheduling_ignored_during_execution: Some(NodeSelector {
                        node_selector_terms: terms.clone(),
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            }))
        })
    }
    fn run(p: &PodInfo, n: &NodeInfo) -> Status {
        let mut st = CycleState::default();
        let pre = NodeAffinity.pre_filter(&mut st, p, &Snapshot::default());
        if pre.code == crate::framework::Code::Skip {
            return Status::success();
        }
        if !pre.is_success() {
            return pre;
        }
        NodeAffinity.filter(&st, p, n)
    }

    #[test]
    fn required_table() {
        let labels = &[("zone", "a"), ("cores", "8"), ("disk", "ssd")];
        let n = node_info(labeled_node("n1", labels), vec![]);
        let cases: Vec<(&str, Vec<NodeSelectorTerm>, bool)> = vec![
            ("In", vec![term(vec![req("zone", "In", &["a", "b"])])], true),
            (
                "In miss",
                vec![term(vec![req("zone", "In", &["b"])])],
                false,
            ),
            (
                "NotIn",
                vec![term(vec![req("zone", "NotIn", &["b"])])],
                true,
            ),
            (
                "NotIn absent key holds",
                vec![term(vec![req("gpu", "NotIn", &["x"])])],
                true,
            ),
            (
                "NotIn miss",
                vec![term(vec![req("zone", "NotIn", &["a"])])],
                false,
            ),
            ("Exists", vec![term(vec![req("disk", "Exists", &[])])], true),
            (
                "Exists miss",
                vec![term(vec![req("gpu", "Exists", &[])])],
                false,
            ),
            (
                "DoesNotExist",
                vec![term(vec![req("gpu", "DoesNotExist", &[])])],
                true,
            ),
            (
                "DoesNotExist miss",
                vec![term(vec![req("disk", "DoesNotExist", &[])])],
                false,
            ),
            ("Gt", vec![term(vec![req("cores", "Gt", &["4"])])], true),
            (
                "Gt miss",
                vec![term(vec![req("cores", "Gt", &["8"])])],
                false,
            ),
            ("Lt", vec![term(vec![req("cores", "Lt", &["16"])])], true),
            (
                "Lt on absent label",
                vec![term(vec![req("mem", "Lt", &["16"])])],
                false,
            ),
            (
                "requirements in a term are ANDed",
                vec![term(vec![
                    req("zone", "In", &["a"]),
                    req("disk", "In", &["hdd"]),
                ])],
                false,
            ),
            (
                "terms are ORed",
                vec![
                    term(vec![req("zone", "In", &["b"])]),
                    term(vec![req("disk", "In", &["ssd"])]),
                ],
                true,
            ),
            ("an empty term matches nothing", vec![term(vec![])], false),
            ("no terms match nothing", vec![], false),
            (
                "matchFields metadata.name",
                vec![NodeSelectorTerm {
                    match_fields: vec![req("metadata.name", "In", &["n1"])],
                    ..Default::default()
                }],
                true,
            ),
            (
                "matchFields metadata.name NotIn",
                vec![NodeSelectorTerm {
                    match_fields: vec![req("metadata.name", "NotIn", &["n1"])],
                    ..Default::default()
                }],
                false,
            ),
        ];
        for (name, terms, fits) in cases {
            let st = run(&with_required(terms), &n);
            assert_eq!(st.is_success(), fits, "{name}: {st:?}");
            if !fits {
                assert_eq!(st.reasons, [REASON], "{name}");
            }
        }
    }

    #[test]
    fn node_selector_and_affinity_must_both_hold() {
        let n = node_info(
            labeled_node("n1", &[("zone", "a"), ("disk", "ssd")]),
            vec![],
        );
        let sel = |p: &mut PodInfo, k: &str, v: &str| {
            let mut pod = (*p.pod).clone();
            pod.spec_mut().node_selector.insert(k.into(), v.into());
            *p = PodInfo::new(std::sync::Arc::new(pod));
        };
        let mut p = pod_with(|_| {});
        assert!(run(&p, &n).is_success(), "no selector fits anywhere");
        sel(&mut p, "zone", "a");
        assert!(run(&p, &n).is_success());
        sel(&mut p, "disk", "hdd");
        assert!(!run(&p, &n).is_success());
        let mut q = with_required(vec![term(vec![req("zone", "In", &["a"])])]);
        sel(&mut q, "disk", "hdd");
        assert!(
            !run(&q, &n).is_success(),
            "affinity fits but the selector does not"
        );
    }

    #[test]
    fn preferred_terms_score_by_weight() {
        let p = pod_with(|p| {
            p.spec_mut().affinity = Some(Box::new(Affinity {
                node_affinity: Some(proto::k8s::NodeAffinity {
                    preferred_during_scheduling_ignored_during_execution: vec![
                        PreferredSchedulingTerm {
                            weight: 80,
                            preference: Some(term(vec![req("zone", "In", &["a"])])),
                        },
                        PreferredSchedulingTerm {
                            weight: 20,
                            preference: Some(term(vec![req("disk", "In", &["ssd"])])),
                        },
                    ],
                    ..Default::default()
                }),
                ..Default::default()
            }))
        });
        let nodes = [
            node_info(labeled_node("a", &[("zone", "a"), ("disk", "ssd")]), vec![]),
            node_info(labeled_node("b", &[("zone", "a")]), vec![]),
            node_info(labeled_node("c", &[("disk", "ssd")]), vec![]),
            node_info(labeled_node("d", &[]), vec![]),
        ];
        let refs: Vec<&NodeInfo> = nodes.iter().collect();
        let mut st = CycleState::default();
        assert!(
            NodeAffinity
                .pre_score(&mut st, &p, &Snapshot::default(), &refs)
                .is_success()
        );
        let mut scores: Vec<i64> = nodes
            .iter()
            .map(|n| NodeAffinity.score(&st, &p, n))
            .collect();
        assert_eq!(scores, [100, 80, 20, 0]);
        NodeAffinity.normalize(&st, &mut scores);
        assert_eq!(scores, [100, 80, 20, 0]);
        let plain = pod_with(|_| {});
        assert_eq!(
            NodeAffinity
                .pre_score(
                    &mut CycleState::default(),
                    &plain,
                    &Snapshot::default(),
                    &refs
                )
                .code,
            crate::framework::Code::Skip
        );
    }
}
