//! InterPodAffinity: required pod affinity (the pod must share a topology domain, e.g. a
//! zone or a node, with pods matching its terms), required anti-affinity (it must not),
//! and the symmetric rule that existing pods' anti-affinity keeps matching pods away
//! (filter). Preferred terms, the pod's and existing pods', add or subtract their weight
//! for every matching pod in the node's domains (score).
//!
//! Counts are computed once per cycle (pre-filter) by topology domain, so the per-node
//! check is a few map lookups.

use crate::cache::Snapshot;
use crate::framework::{
    ClusterEvent, CycleState, FilterPlugin, MAX_NODE_SCORE, Plugin, ScorePlugin, Status,
};
use crate::nodeinfo::NodeInfo;
use crate::podinfo::{AffinityTerm, Labels, PodInfo};
use std::collections::HashMap;

pub const NAME: &str = "InterPodAffinity";
pub const REASON_AFFINITY: &str = "node(s) didn't match pod affinity rules";
pub const REASON_ANTI_AFFINITY: &str = "node(s) didn't match pod anti-affinity rules";
pub const REASON_EXISTING_ANTI_AFFINITY: &str =
    "node(s) didn't satisfy existing pods anti-affinity rules";
/// Weight of an existing pod's *required* affinity term when scoring (Kubernetes'
/// hardPodAffinityWeight default).
pub const HARD_POD_AFFINITY_WEIGHT: i64 = 1;
const SCORE_KEY: &str = "InterPodAffinity/score";

/// topology key -> topology value -> count.
#[derive(Debug, Default)]
struct TopologyCounts(HashMap<String, HashMap<String, i64>>);

impl TopologyCounts {
    fn add(&mut self, node: &NodeInfo, key: &str, n: i64) {
        if let Some(v) = node.labels().get(key) {
            *self
                .0
                .entry(key.to_string())
                .or_default()
                .entry(v.clone())
                .or_default() += n;
        }
    }
    fn get(&self, node: &NodeInfo, key: &str) -> i64 {
        node.labels()
            .get(key)
            .and_then(|v| self.0.get(key)?.get(v))
            .copied()
            .unwrap_or(0)
    }
    fn is_empty(&self) -> bool {
        self.0.values().all(|m| m.values().all(|c| *c == 0))
    }
}

#[derive(Debug, Default)]
struct FilterState {
    /// Domains holding existing pods whose required anti-affinity matches the new pod.
    existing_anti: TopologyCounts,
    /// Domains holding pods that match all of the new pod's affinity terms.
    affinity: TopologyCounts,
    /// Domains holding pods that match one of the new pod's anti-affinity terms.
    anti: TopologyCounts,
    /// The new pod matches all its own affinity terms (it may start a group).
    matches_own_affinity: bool,
}

pub struct InterPodAffinity;

impl Plugin for InterPodAffinity {
    fn name(&self) -> &'static str {
        NAME
    }
    fn events(&self) -> &'static [ClusterEvent] {
        &[
            ClusterEvent::NodeAdd,
            ClusterEvent::NodeLabelChange,
            ClusterEvent::AssignedPodAdd,
            ClusterEvent::AssignedPodUpdate,
            ClusterEvent::AssignedPodDelete,
            ClusterEvent::NamespaceChange,
        ]
    }
}

fn term_matches(term: &AffinityTerm, pod: &PodInfo, snap: &Snapshot) -> bool {
    term.matches(
        pod.namespace(),
        pod.labels(),
        snap.namespaces.get(pod.namespace()),
    )
}

impl FilterPlugin for InterPodAffinity {
    fn pre_filter(&self, state: &mut CycleState, pod: &PodInfo, snap: &Snapshot) -> Status {
        if let Some(e) = &pod.parse_error {
            return Status::unresolvable(format!("invalid pod affinity: {e}"));
        }
        let own_terms = !pod.required_affinity.is_empty() || !pod.required_anti_affinity.is_empty();
        if !own_terms && snap.pods_with_required_anti_affinity == 0 {
            return Status::skip();
        }
        let mut s = FilterState::default();
        let pod_ns_labels: Option<&Labels> = snap.namespaces.get(pod.namespace());
        for node in &snap.nodes {
            if node.pods_with_required_anti_affinity > 0 {
                for existing in node
                    .pods
                    .iter()
                    .filter(|p| !p.required_anti_affinity.is_empty())
                {
                    for t in &existing.required_anti_affinity {
                        if t.matches(pod.namespace(), pod.labels(), pod_ns_labels) {
                            s.existing_anti.add(node, &t.topology_key, 1);
                        }
                    }
                }
            }
            if !own_terms {
                continue;
            }
            for existing in &node.pods {
                if existing.is_terminating() {
                    continue;
                }
                if !pod.required_affinity.is_empty()
                    && pod
                        .required_affinity
                        .iter()
                        .all(|t| term_matches(t, existing, snap))
                {
                    for t in &pod.required_affinity {
                        s.affinity.add(node, &t.topology_key, 1);
                    }
                }
                for t in &pod.required_anti_affinity {
                    if term_matches(t, existing, snap) {
                        s.anti.add(node, &t.topology_key, 1);
                    }
                }
            }
        }
        s.matches_own_affinity = !pod.required_affinity.is_empty()
            && pod
                .required_affinity
                .iter()
                .all(|t| t.matches(pod.namespace(), pod.labels(), pod_ns_labels));
        state.write(NAME, s);
        Status::success()
    }

    fn filter(&self, state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status {
        let Some(s) = state.read::<FilterState>(NAME) else {
            return Status::success();
        };
        if !pod.required_affinity.is_empty() {
            let satisfied = pod
                .required_affinity
                .iter()
                .all(|t| s.affinity.get(node, &t.topology_key) > 0);
            if !satisfied {
                // The first pod of a group that selects itself may go anywhere that has the
                // topology keys: otherwise no such group could ever start.
                let first_of_group = s.affinity.is_empty()
                    && s.matches_own_affinity
                    && pod
                        .required_affinity
                        .iter()
                        .all(|t| node.labels().contains_key(&t.topology_key));
                if !first_of_group {
                    return Status::unresolvable(REASON_AFFINITY);
                }
            }
        }
        if pod
            .required_anti_affinity
            .iter()
            .any(|t| s.anti.get(node, &t.topology_key) > 0)
        {
            return Status::unschedulable(REASON_ANTI_AFFINITY);
        }
        if s.existing_anti
            .0
            .keys()
            .any(|key| s.existing_anti.get(node, key) > 0)
        {
            return Status::unschedulable(REASON_EXISTING_ANTI_AFFINITY);
        }
        Status::success()
    }
}

impl ScorePlugin for InterPodAffinity {
    fn pre_score(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        snap: &Snapshot,
        _: &[&NodeInfo],
    ) -> Status {
        let own_preferred =
            !pod.preferred_affinity.is_empty() || !pod.preferred_anti_affinity.is_empty();
        if !own_preferred && snap.pods_with_affinity == 0 {
            return Status::skip();
        }
        let mut scores = TopologyCounts::default();
        for node in &snap.nodes {
            if !own_preferred && node.pods_with_affinity == 0 {
                continue;
            }
            for existing in &node.pods {
                if existing.is_terminating() {
                    continue;
                }
                for w in &pod.preferred_affinity {
                    if term_matches(&w.term, existing, snap) {
                        scores.add(node, &w.term.topology_key, w.weight);
                    }
                }
                for w in &pod.preferred_anti_affinity {
                    if term_matches(&w.term, existing, snap) {
                        scores.add(node, &w.term.topology_key, -w.weight);
                    }
                }
                if !existing.has_affinity() {
                    continue;
                }
                for t in &existing.required_affinity {
                    if term_matches(t, pod, snap) {
                        scores.add(node, &t.topology_key, HARD_POD_AFFINITY_WEIGHT);
                    }
                }
                for w in &existing.preferred_affinity {
                    if term_matches(&w.term, pod, snap) {
                        scores.add(node, &w.term.topology_key, w.weight);
                    }
                }
                for w in &existing.preferred_anti_affinity {
                    if term_matches(&w.term, pod, snap) {
                        scores.add(node, &w.term.topology_key, -w.weight);
                    }
                }
            }
        }
        if scores.0.is_empty() {
            return Status::skip();
        }
        state.write(SCORE_KEY, scores);
        Status::success()
    }

    fn score(&self, state: &CycleState, _: &PodInfo, node: &NodeInfo) -> i64 {
        let Some(scores) = state.read::<TopologyCounts>(SCORE_KEY) else {
            return 0;
        };
        scores.0.keys().map(|key| scores.get(node, key)).sum()
    }

    /// Min-max scaling: the most attractive node gets 100, the least 0.
    fn normalize(&self, _: &CycleState, scores: &mut [i64]) {
        let (Some(min), Some(max)) = (scores.iter().min().copied(), scores.iter().max().copied())
        else {
            return;
        };
        let diff = max - min;
        for s in scores.iter_mut() {
            *s = if diff > 0 {
                MAX_NODE_SCORE * (*s - min) / diff
            } else {
                0
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::Code;
    use crate::plugins::testutil::*;
    use proto::k8s::{self, PodAffinityTerm, WeightedPodAffinityTerm};

    const HOST: &str = "kubernetes.io/hostname";
    const ZONE: &str = "topology.kubernetes.io/zone";

    fn term(app: &str, key: &str) -> PodAffinityTerm {
        PodAffinityTerm {
            label_selector: Some(k8s::LabelSelector {
                match_labels: [("app".to_string(), app.to_string())].into(),
                ..Default::default()
            }),
            topology_key: key.into(),
            ..Default::default()
        }
    }

    fn pod(
        name: &str,
        app: &str,
        node: &str,
        affinity: Vec<PodAffinityTerm>,
        anti: Vec<PodAffinityTerm>,
    ) -> PodInfo {
        pod_with(|p| {
            use proto::Resource;
            p.meta_mut().name = name.into();
            p.meta_mut().labels.insert("app".into(), app.into());
            p.spec_mut().node_name = node.into();
            p.spec_mut().affinity = Some(Box::new(k8s::Affinity {
                pod_affinity: Some(k8s::PodAffinity {
                    required_during_scheduling_ignored_during_execution: affinity.clone(),
                    ..Default::default()
                }),
                pod_anti_affinity: Some(k8s::PodAntiAffinity {
                    required_during_scheduling_ignored_during_execution: anti.clone(),
                    ..Default::default()
                }),
                node_affinity: None,
            }));
        })
    }

    fn cluster(existing: Vec<PodInfo>) -> Snapshot {
        let nodes = vec![
            labeled_node("a1", &[(HOST, "a1"), (ZONE, "a")]),
            labeled_node("a2", &[(HOST, "a2"), (ZONE, "a")]),
            labeled_node("b1", &[(HOST, "b1"), (ZONE, "b")]),
            labeled_node("nolabels", &[]),
        ];
        snapshot(nodes, existing)
    }

    /// The nodes the pod may go to, in snapshot order, and the reasons for the others.
    fn feasible(p: &PodInfo, snap: &Snapshot) -> (Vec<String>, Vec<String>) {
        let mut st = CycleState::default();
        let pre = InterPodAffinity.pre_filter(&mut st, p, snap);
        let mut ok = Vec::new();
        let mut reasons = Vec::new();
        for n in &snap.nodes {
            let s = if pre.code == Code::Skip {
                Status::success()
            } else {
                InterPodAffinity.filter(&st, p, n)
            };
            if s.is_success() {
                ok.push(n.name().to_string());
            } else {
                reasons.extend(s.reasons);
            }
        }
        ok.sort();
        reasons.sort();
        reasons.dedup();
        (ok, reasons)
    }

    #[test]
    fn filter_table() {
        type Case = (
            &'static str,
            Vec<PodInfo>,
            PodInfo,
            Vec<&'static str>,
            Vec<&'static str>,
        );
        let cases: Vec<Case> = vec![
            (
                "no terms, no existing anti-affinity: everything",
                vec![pod("db", "db", "a1", vec![], vec![])],
                pod("p", "web", "", vec![], vec![]),
                vec!["a1", "a2", "b1", "nolabels"],
                vec![],
            ),
            (
                "affinity to db by zone",
                vec![pod("db", "db", "a1", vec![], vec![])],
                pod("p", "web", "", vec![term("db", ZONE)], vec![]),
                vec!["a1", "a2"],
                vec![REASON_AFFINITY],
            ),
            (
                "affinity to db by host",
                vec![pod("db", "db", "a1", vec![], vec![])],
                pod("p", "web", "", vec![term("db", HOST)], vec![]),
                vec!["a1"],
                vec![REASON_AFFINITY],
            ),
            (
                "affinity with no match anywhere, pod does not match itself",
                vec![],
                pod("p", "web", "", vec![term("db", ZONE)], vec![]),
                vec![],
                vec![REASON_AFFINITY],
            ),
            (
                "affinity to itself: the first of the group goes anywhere with the key",
                vec![],
                pod("p", "web", "", vec![term("web", ZONE)], vec![]),
                vec!["a1", "a2", "b1"],
                vec![REASON_AFFINITY],
            ),
            (
                "affinity to itself: later ones follow the first",
                vec![pod("w0", "web", "b1", vec![term("web", ZONE)], vec![])],
                pod("p", "web", "", vec![term("web", ZONE)], vec![]),
                vec!["b1"],
                vec![REASON_AFFINITY],
            ),
            (
                "anti-affinity to db by zone",
                vec![pod("db", "db", "a1", vec![], vec![])],
                pod("p", "web", "", vec![], vec![term("db", ZONE)]),
                vec!["b1", "nolabels"],
                vec![REASON_ANTI_AFFINITY],
            ),
            (
                "anti-affinity to itself by host: one per node",
                vec![
                    pod("w0", "web", "a1", vec![], vec![term("web", HOST)]),
                    pod("w1", "web", "b1", vec![], vec![term("web", HOST)]),
                ],
                pod("p", "web", "", vec![], vec![term("web", HOST)]),
                vec!["a2", "nolabels"],
                vec![REASON_ANTI_AFFINITY],
            ),
            (
                "existing pod's anti-affinity keeps matching pods out of its zone",
                vec![pod("loner", "loner", "a1", vec![], vec![term("web", ZONE)])],
                pod("p", "web", "", vec![], vec![]),
                vec!["b1", "nolabels"],
                vec![REASON_EXISTING_ANTI_AFFINITY],
            ),
            (
                "existing anti-affinity does not apply to non-matching pods",
                vec![pod("loner", "loner", "a1", vec![], vec![term("web", ZONE)])],
                pod("p", "db", "", vec![], vec![]),
                vec!["a1", "a2", "b1", "nolabels"],
                vec![],
            ),
            (
                "existing pods in another namespace do not count",
                vec![pod_with(|p| {
                    use proto::Resource;
                    p.meta_mut().namespace = "other".into();
                    p.meta_mut().name = "db".into();
                    p.meta_mut().labels.insert("app".into(), "db".into());
                    p.spec_mut().node_name = "a1".into();
                })],
                pod("p", "web", "", vec![], vec![term("db", ZONE)]),
                vec!["a1", "a2", "b1", "nolabels"],
                vec![],
            ),
        ];
        for (name, existing, p, want, want_reasons) in cases {
            let snap = cluster(existing);
            let (ok, reasons) = feasible(&p, &snap);
            assert_eq!(ok, want, "{name}");
            assert_eq!(reasons, want_reasons, "{name}");
        }
    }

    #[test]
    fn namespace_selector_terms() {
        let mut t = term("db", ZONE);
        t.namespace_selector = Some(k8s::LabelSelector {
            match_labels: [("team".to_string(), "data".to_string())].into(),
            ..Default::default()
        });
        let existing = pod_with(|p| {
            use proto::Resource;
            p.meta_mut().namespace = "warehouse".into();
            p.meta_mut().name = "db".into();
            p.meta_mut().labels.insert("app".into(), "db".into());
            p.spec_mut().node_name = "b1".into();
        });
        let mut snap = cluster(vec![existing]);
        let p = pod("p", "web", "", vec![t], vec![]);
        assert_eq!(
            feasible(&p, &snap).0,
            Vec::<String>::new(),
            "namespace labels unknown"
        );
        snap.namespaces.insert(
            "warehouse".into(),
            [("team".to_string(), "data".to_string())].into(),
        );
        assert_eq!(feasible(&p, &snap).0, ["b1"]);
    }

    #[test]
    fn preferred_terms_score() {
        let weighted = |w: i32, t: PodAffinityTerm| WeightedPodAffinityTerm {
            weight: w,
            pod_affinity_term: Some(t),
        };
        let p = pod_with(|p| {
            use proto::Resource;
            p.meta_mut().labels.insert("app".into(), "web".into());
            p.spec_mut().affinity = Some(Box::new(k8s::Affinity {
                pod_affinity: Some(k8s::PodAffinity {
                    preferred_during_scheduling_ignored_during_execution: vec![weighted(
                        10,
                        term("cache", ZONE),
                    )],
                    ..Default::default()
                }),
                pod_anti_affinity: Some(k8s::PodAntiAffinity {
                    preferred_during_scheduling_ignored_during_execution: vec![weighted(
                        5,
                        term("web", HOST),
                    )],
                    ..Default::default()
                }),
                node_affinity: None,
            }));
        });
        let snap = cluster(vec![
            pod("cache", "cache", "a1", vec![], vec![]),
            pod("w0", "web", "a1", vec![], vec![]),
        ]);
        let refs: Vec<&NodeInfo> = snap.nodes.iter().collect();
        let mut st = CycleState::default();
        assert!(
            InterPodAffinity
                .pre_score(&mut st, &p, &snap, &refs)
                .is_success()
        );
        let mut scores: Vec<i64> = snap
            .nodes
            .iter()
            .map(|n| InterPodAffinity.score(&st, &p, n))
            .collect();
        // a1: zone a has the cache (+10), host a1 has a web pod (-5); a2: +10; b1, nolabels: 0.
        assert_eq!(scores, [5, 10, 0, 0]);
        InterPodAffinity.normalize(&st, &mut scores);
        assert_eq!(scores, [50, 100, 0, 0]);

        // Symmetry: an existing pod preferring to be near "web" attracts the new pod.
        let plain = pod("q", "web", "", vec![], vec![]);
        let attractor = pod_with(|x| {
            use proto::Resource;
            x.meta_mut().name = "attractor".into();
            x.spec_mut().node_name = "b1".into();
            x.spec_mut().affinity = Some(Box::new(k8s::Affinity {
                pod_affinity: Some(k8s::PodAffinity {
                    preferred_during_scheduling_ignored_during_execution: vec![weighted(
                        7,
                        term("web", HOST),
                    )],
                    ..Default::default()
                }),
                ..Default::default()
            }));
        });
        let snap = cluster(vec![attractor]);
        let mut st = CycleState::default();
        assert!(
            InterPodAffinity
                .pre_score(&mut st, &plain, &snap, &refs)
                .is_success()
        );
        let scores: Vec<i64> = snap
            .nodes
            .iter()
            .map(|n| InterPodAffinity.score(&st, &plain, n))
            .collect();
        assert_eq!(scores, [0, 0, 7, 0]);
    }
}
