//! PodTopologySpread: `topologySpreadConstraints` keep a workload's pods evenly spread
//! over topology domains (nodes, zones). `whenUnsatisfiable: DoNotSchedule` constraints
//! filter: placing the pod must not make its domain exceed the least loaded eligible domain
//! by more than `maxSkew`. `ScheduleAnyway` constraints only score: fewer matching pods in
//! the node's domains is better.
//!
//! A pod without constraints that a controller owns (a ReplicaSet, StatefulSet, Job...) gets
//! the system defaults as soft constraints, as Kubernetes does: spread by hostname
//! (maxSkew 3) and by zone (maxSkew 5), counting the pods of the same owner.

use crate::cache::Snapshot;
use crate::framework::{
    ClusterEvent, CycleState, FilterPlugin, MAX_NODE_SCORE, Plugin, ScorePlugin, Status,
};
use crate::nodeinfo::NodeInfo;
use crate::plugins::node_affinity::RequiredNodeAffinity;
use crate::plugins::taint_toleration::find_untolerated;
use crate::podinfo::PodInfo;
use proto::Resource;
use proto::selector::{LabelSelector, Operator, Requirement};
use std::collections::{HashMap, HashSet};

pub const NAME: &str = "PodTopologySpread";
pub const REASON: &str = "node(s) didn't match pod topology spread constraints";
pub const REASON_MISSING_LABEL: &str =
    "node(s) didn't match pod topology spread constraints (missing required label)";
pub const HOSTNAME_KEY: &str = "kubernetes.io/hostname";
pub const ZONE_KEY: &str = "topology.kubernetes.io/zone";
const SCORE_KEY: &str = "PodTopologySpread/score";

/// Which pods a constraint counts.
#[derive(Debug, Clone)]
enum Selects {
    /// The constraint's labelSelector (with matchLabelKeys merged); none counts nothing.
    Labels(Option<LabelSelector>),
    /// System default spreading: pods of the same controller.
    Owner(String),
}

#[derive(Debug, Clone)]
struct Constraint {
    max_skew: i64,
    key: String,
    selects: Selects,
    min_domains: i64,
    honor_node_affinity: bool,
    honor_taints: bool,
}

impl Constraint {
    fn counts(&self, namespace: &str, pod: &PodInfo) -> bool {
        if pod.namespace() != namespace || pod.is_terminating() {
            return false;
        }
        match &self.selects {
            Selects::Labels(sel) => sel.as_ref().is_some_and(|s| s.matches(pod.labels())),
            Selects::Owner(uid) => controller_uid(pod) == Some(uid.as_str()),
        }
    }

    fn matching_on(&self, namespace: &str, node: &NodeInfo) -> i64 {
        node.pods
            .iter()
            .filter(|p| self.counts(namespace, p))
            .count() as i64
    }
}

fn controller_uid(pod: &PodInfo) -> Option<&str> {
    pod.pod
        .meta()
        .owner_references
        .iter()
        .find(|r| r.controller == Some(true))
        .map(|r| r.uid.as_str())
}

/// The pod's constraints with `whenUnsatisfiable` == `when`, or the system defaults.
fn constraints(pod: &PodInfo, hard: bool) -> Result<Vec<Constraint>, String> {
    let spec = pod.spec();
    if spec.topology_spread_constraints.is_empty() {
        if hard {
            return Ok(Vec::new());
        }
        return Ok(match controller_uid(pod) {
            None => Vec::new(),
            Some(uid) => [(HOSTNAME_KEY, 3), (ZONE_KEY, 5)]
                .into_iter()
                .map(|(key, skew)| Constraint {
                    max_skew: skew,
                    key: key.into(),
                    selects: Selects::Owner(uid.to_string()),
                    min_domains: 1,
                    honor_node_affinity: true,
                    honor_taints: false,
                })
                .collect(),
        });
    }
    let want = if hard {
        "DoNotSchedule"
    } else {
        "ScheduleAnyway"
    };
    let mut out = Vec::new();
    for c in &spec.topology_spread_constraints {
        if c.when_unsatisfiable != want {
            continue;
        }
        let selector = match &c.label_selector {
            None => None,
            Some(sel) => {
                let base = LabelSelector::from_proto(sel).map_err(|e| e.to_string())?;
                let mut reqs = base.requirements().to_vec();
                for key in &c.match_label_keys {
                    if let Some(v) = pod.labels().get(key) {
                        reqs.push(
                            Requirement::new(key.clone(), Operator::In, [v.clone()])
                                .map_err(|e| e.to_string())?,
                        );
                    }
                }
                Some(LabelSelector::new(reqs))
            }
        };
        out.push(Constraint {
            max_skew: i64::from(c.max_skew.max(1)),
            key: c.topology_key.clone(),
            selects: Selects::Labels(selector),
            min_domains: i64::from(c.min_domains.unwrap_or(1).max(1)),
            honor_node_affinity: c.node_affinity_policy.as_deref() != Some("Ignore"),
            honor_taints: c.node_taints_policy.as_deref() == Some("Honor"),
        });
    }
    Ok(out)
}

/// Whether `node` counts for `c`: it has every constraint's key, matches the pod's node
/// affinity (policy Honor) and has no untolerated taint (policy Honor).
fn eligible(
    c: &Constraint,
    all: &[Constraint],
    pod: &PodInfo,
    affinity: &RequiredNodeAffinity,
    node: &NodeInfo,
) -> bool {
    let labels = node.labels();
    all.iter().all(|c| labels.contains_key(&c.key))
        && (!c.honor_node_affinity || affinity.matches(&node.node))
        && (!c.honor_taints
            || find_untolerated(
                node.taints(),
                &pod.spec().tolerations,
                &["NoSchedule", "NoExecute"],
            )
            .is_none())
}

#[derive(Debug)]
struct FilterState {
    constraints: Vec<Constraint>,
    /// Per constraint: domain value -> matching pods.
    counts: Vec<HashMap<String, i64>>,
    /// Per constraint: the smallest count over eligible domains (0 below minDomains).
    min: Vec<i64>,
}

pub struct PodTopologySpread;

impl Plugin for PodTopologySpread {
    fn name(&self) -> &'static str {
        NAME
    }
    fn events(&self) -> &'static [ClusterEvent] {
        &[
            ClusterEvent::NodeAdd,
            ClusterEvent::NodeLabelChange,
            ClusterEvent::NodeTaintChange,
            ClusterEvent::AssignedPodAdd,
            ClusterEvent::AssignedPodUpdate,
            ClusterEvent::AssignedPodDelete,
        ]
    }
}

impl FilterPlugin for PodTopologySpread {
    fn pre_filter(&self, state: &mut CycleState, pod: &PodInfo, snap: &Snapshot) -> Status {
        let cs = match constraints(pod, true) {
            Ok(cs) if cs.is_empty() => return Status::skip(),
            Ok(cs) => cs,
            Err(e) => {
                return Status::unresolvable(format!("invalid topology spread constraint: {e}"));
            }
        };
        let affinity = RequiredNodeAffinity::from_spec(pod.spec()).unwrap_or_default();
        let mut counts: Vec<HashMap<String, i64>> = vec![HashMap::new(); cs.len()];
        for node in &snap.nodes {
            for (i, c) in cs.iter().enumerate() {
                if !eligible(c, &cs, pod, &affinity, node) {
                    continue;
                }
                let Some(value) = node.labels().get(&c.key) else {
                    continue;
                };
                *counts[i].entry(value.clone()).or_default() +=
                    c.matching_on(pod.namespace(), node);
            }
        }
        let min = cs
            .iter()
            .zip(&counts)
            .map(|(c, m)| {
                if (m.len() as i64) < c.min_domains {
                    0
                } else {
                    m.values().copied().min().unwrap_or(0)
                }
            })
            .collect();
        state.write(
            NAME,
            FilterState {
                constraints: cs,
                counts,
                min,
            },
        );
        Status::success()
    }

    fn filter(&self, state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status {
        let Some(s) = state.read::<FilterState>(NAME) else {
            return Status::success();
        };
        for (i, c) in s.constraints.iter().enumerate() {
            let Some(value) = node.labels().get(&c.key) else {
                return Status::unresolvable(REASON_MISSING_LABEL);
            };
            let self_match = i64::from(c.counts(pod.namespace(), pod));
            let matching = s.counts[i].get(value).copied().unwrap_or(0);
            if matching + self_match - s.min[i] > c.max_skew {
                return Status::unschedulable(REASON);
            }
        }
        Status::success()
    }
}

#[derive(Debug)]
struct ScoreState {
    constraints: Vec<Constraint>,
    counts: Vec<HashMap<String, i64>>,
    weights: Vec<f64>,
    /// Feasible nodes missing a constraint's key: scored 0.
    ignored: HashSet<String>,
}

impl ScorePlugin for PodTopologySpread {
    fn pre_score(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        snap: &Snapshot,
        feasible: &[&NodeInfo],
    ) -> Status {
        let cs = match constraints(pod, false) {
            Ok(cs) if cs.is_empty() => return Status::skip(),
            Ok(cs) => cs,
            Err(e) => return Status::error(format!("invalid topology spread constraint: {e}")),
        };
        let mut ignored = HashSet::new();
        let mut domains: Vec<HashSet<&str>> = vec![HashSet::new(); cs.len()];
        for n in feasible {
            if cs.iter().any(|c| !n.labels().contains_key(&c.key)) {
                ignored.insert(n.name().to_string());
                continue;
            }
            for (i, c) in cs.iter().enumerate() {
                if let Some(v) = n.labels().get(&c.key) {
                    domains[i].insert(v.as_str());
                }
            }
        }
        let affinity = RequiredNodeAffinity::from_spec(pod.spec()).unwrap_or_default();
        let mut counts: Vec<HashMap<String, i64>> = vec![HashMap::new(); cs.len()];
        for node in &snap.nodes {
            for (i, c) in cs.iter().enumerate() {
                if !eligible(c, &cs, pod, &affinity, node) {
                    continue;
                }
                let Some(value) = node.labels().get(&c.key) else {
                    continue;
                };
                if !domains[i].contains(value.as_str()) {
                    continue;
                }
                *counts[i].entry(value.clone()).or_default() +=
                    c.matching_on(pod.namespace(), node);
            }
        }
        let weights = domains
            .iter()
            .map(|d| ((d.len() + 2) as f64).ln())
            .collect();
        state.write(
            SCORE_KEY,
            ScoreState {
                constraints: cs,
                counts,
                weights,
                ignored,
            },
        );
        Status::success()
    }

    /// Matching pods in the node's domains, weighted; -1 marks an ignored node.
    fn score(&self, state: &CycleState, _: &PodInfo, node: &NodeInfo) -> i64 {
        let Some(s) = state.read::<ScoreState>(SCORE_KEY) else {
            return 0;
        };
        if s.ignored.contains(node.name()) {
            return -1;
        }
        let mut total = 0.0;
        for (i, c) in s.constraints.iter().enumerate() {
            if let Some(v) = node.labels().get(&c.key) {
                let n = s.counts[i].get(v).copied().unwrap_or(0);
                total += (n + c.max_skew - 1) as f64 * s.weights[i];
            }
        }
        total.round() as i64
    }

    /// Fewer matching pods is better: `100 * (max + min - s) / max`; ignored nodes get 0.
    fn normalize(&self, _: &CycleState, scores: &mut [i64]) {
        let valid = scores.iter().copied().filter(|s| *s >= 0);
        let (min, max) = valid.fold((i64::MAX, i64::MIN), |(lo, hi), s| (lo.min(s), hi.max(s)));
        for s in scores.iter_mut() {
            *s = if *s < 0 {
                0
            } else if max <= 0 {
                MAX_NODE_SCORE
            } else {
                MAX_NODE_SCORE * (max + min - *s) / max
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::Code;
    use crate::plugins::testutil::*;
    use proto::k8s::{self, OwnerReference, TopologySpreadConstraint};
    use std::sync::Arc;

    fn constraint(key: &str, skew: i32, when: &str) -> TopologySpreadConstraint {
        TopologySpreadConstraint {
            max_skew: skew,
            topology_key: key.into(),
            when_unsatisfiable: when.into(),
            label_selector: Some(k8s::LabelSelector {
                match_labels: [("app".to_string(), "web".to_string())].into(),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn web(node: &str) -> PodInfo {
        pod_with(|p| {
            p.meta_mut().name = format!("w-{node}-{}", rand::random::<u32>());
            p.meta_mut().labels.insert("app".into(), "web".into());
            p.spec_mut().node_name = node.into();
        })
    }

    fn incoming(cs: Vec<TopologySpreadConstraint>) -> PodInfo {
        pod_with(|p| {
            p.meta_mut().labels.insert("app".into(), "web".into());
            p.spec_mut().topology_spread_constraints = cs.clone();
        })
    }

    fn cluster(existing: Vec<PodInfo>) -> Snapshot {
        snapshot(
            vec![
                labeled_node("a1", &[(HOSTNAME_KEY, "a1"), (ZONE_KEY, "a")]),
                labeled_node("a2", &[(HOSTNAME_KEY, "a2"), (ZONE_KEY, "a")]),
                labeled_node("b1", &[(HOSTNAME_KEY, "b1"), (ZONE_KEY, "b")]),
                labeled_node("nozone", &[(HOSTNAME_KEY, "nozone")]),
            ],
            existing,
        )
    }

    fn feasible(p: &PodInfo, snap: &Snapshot) -> Vec<String> {
        let mut st = CycleState::default();
        let pre = PodTopologySpread.pre_filter(&mut st, p, snap);
        snap.nodes
            .iter()
            .filter(|n| pre.code == Code::Skip || PodTopologySpread.filter(&st, p, n).is_success())
            .map(|n| n.name().to_string())
            .collect()
    }

    #[test]
    fn do_not_schedule_table() {
        type Case = (
            &'static str,
            Vec<PodInfo>,
            Vec<TopologySpreadConstraint>,
            Vec<&'static str>,
        );
        let cases: Vec<Case> = vec![
            (
                "no constraints",
                vec![web("a1")],
                vec![],
                vec!["a1", "a2", "b1", "nozone"],
            ),
            (
                "zone skew 1: zone a has one more, so only b (nozone lacks the key)",
                vec![web("a1")],
                vec![constraint(ZONE_KEY, 1, "DoNotSchedule")],
                vec!["b1"],
            ),
            (
                "zones balanced: either",
                vec![web("a1"), web("b1")],
                vec![constraint(ZONE_KEY, 1, "DoNotSchedule")],
                vec!["a1", "a2", "b1"],
            ),
            (
                "host skew 1: nodes without pods",
                vec![web("a1"), web("b1")],
                vec![constraint(HOSTNAME_KEY, 1, "DoNotSchedule")],
                vec!["a2", "nozone"],
            ),
            (
                "host skew 2 allows one more on a loaded node",
                vec![web("a1")],
                vec![constraint(HOSTNAME_KEY, 2, "DoNotSchedule")],
                vec!["a1", "a2", "b1", "nozone"],
            ),
            (
                "ScheduleAnyway never filters",
                vec![web("a1"), web("a1"), web("a1")],
                vec![constraint(ZONE_KEY, 1, "ScheduleAnyway")],
                vec!["a1", "a2", "b1", "nozone"],
            ),
        ];
        for (name, existing, cs, want) in cases {
            let snap = cluster(existing);
            assert_eq!(feasible(&incoming(cs), &snap), want, "{name}");
        }
    }

    #[test]
    fn reasons_and_min_domains() {
        let snap = cluster(vec![web("a1")]);
        let p = incoming(vec![constraint(ZONE_KEY, 1, "DoNotSchedule")]);
        let mut st = CycleState::default();
        assert!(
            PodTopologySpread
                .pre_filter(&mut st, &p, &snap)
                .is_success()
        );
        let by_name = |n: &str| snap.node(n).unwrap();
        assert_eq!(
            PodTopologySpread.filter(&st, &p, by_name("a2")).reasons,
            [REASON]
        );
        assert_eq!(
            PodTopologySpread.filter(&st, &p, by_name("nozone")).reasons,
            [REASON_MISSING_LABEL]
        );
        // minDomains 3 with only 2 zones: the global minimum counts as 0.
        let mut c = constraint(ZONE_KEY, 1, "DoNotSchedule");
        c.min_domains = Some(3);
        let snap = cluster(vec![web("a1"), web("b1")]);
        assert!(feasible(&incoming(vec![c]), &snap).is_empty());
    }

    #[test]
    fn schedule_anyway_scores_emptier_domains_higher() {
        let snap = cluster(vec![web("a1"), web("a2"), web("a1")]);
        let p = incoming(vec![constraint(ZONE_KEY, 1, "ScheduleAnyway")]);
        let refs: Vec<&NodeInfo> = snap.nodes.iter().collect();
        let mut st = CycleState::default();
        assert!(
            PodTopologySpread
                .pre_score(&mut st, &p, &snap, &refs)
                .is_success()
        );
        let mut scores: Vec<i64> = snap
            .nodes
            .iter()
            .map(|n| PodTopologySpread.score(&st, &p, n))
            .collect();
        PodTopologySpread.normalize(&st, &mut scores);
        assert_eq!(scores[3], 0, "node without the zone label is ignored");
        assert_eq!(scores[0], scores[1]);
        assert!(scores[2] > scores[0], "{scores:?}");
        assert_eq!(scores[2], 100);
    }

    #[test]
    fn owned_pods_get_default_spreading() {
        let owner = OwnerReference {
            uid: "rs-1".into(),
            controller: Some(true),
            ..Default::default()
        };
        let owned = |node: &str| {
            let o = owner.clone();
            pod_with(move |p| {
                p.meta_mut().name = format!("o-{node}-{}", rand::random::<u32>());
                p.meta_mut().owner_references = vec![o.clone()];
                p.spec_mut().node_name = node.into();
            })
        };
        let snap = cluster(vec![owned("a1"), owned("a1"), owned("a2"), web("b1")]);
        let p = owned("");
        let refs: Vec<&NodeInfo> = snap.nodes.iter().collect();
        let mut st = CycleState::default();
        assert!(
            PodTopologySpread
                .pre_score(&mut st, &p, &snap, &refs)
                .is_success()
        );
        let raw: Vec<i64> = snap
            .nodes
            .iter()
            .map(|n| PodTopologySpread.score(&st, &p, n))
            .collect();
        assert!(
            raw[2] < raw[1] && raw[1] < raw[0],
            "b1 emptiest, a1 fullest: {raw:?}"
        );
        let unowned = Arc::new(web(""));
        assert_eq!(
            PodTopologySpread
                .pre_score(&mut CycleState::default(), &unowned, &snap, &refs)
                .code,
            Code::Skip
        );
    }
}
