//! One scheduling decision (Kubernetes' `schedulePod`): pre-filter, filter nodes from a
//! round-robin start until enough feasible ones are found, score those, pick the best
//! (ties at random). Pure over the snapshot; the caller assumes and binds.

use crate::cache::Snapshot;
use crate::framework::{Code, CycleState, Framework, Status};
use crate::nodeinfo::NodeInfo;
use crate::podinfo::PodInfo;
use rand::Rng;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// Below this many nodes every node is checked.
pub const MIN_FEASIBLE_NODES_TO_FIND: usize = 100;
/// The adaptive percentage never goes below this.
pub const MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND: usize = 5;

/// How many feasible nodes to look for (Kubernetes' `numFeasibleNodesToFind`): all of
/// them below 100 nodes; otherwise `percentage` of the nodes, adaptive when 0
/// (50% - nodes/125, at least 5%), never fewer than 100.
pub fn num_feasible_nodes_to_find(percentage: u32, num_all_nodes: usize) -> usize {
    if num_all_nodes < MIN_FEASIBLE_NODES_TO_FIND {
        return num_all_nodes;
    }
    let mut pct = percentage as usize;
    if pct == 0 {
        pct = 50usize
            .saturating_sub(num_all_nodes / 125)
            .max(MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND);
    }
    let n = num_all_nodes * pct.min(100) / 100;
    n.max(MIN_FEASIBLE_NODES_TO_FIND)
}

/// Why no node fits, in the form Kubernetes reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FitError {
    pub num_all_nodes: usize,
    /// Reason -> number of nodes that gave it.
    pub reasons: BTreeMap<String, usize>,
    /// A rejection of the pod as a whole (pre-filter), instead of per node.
    pub pre_filter_message: Option<String>,
    /// Plugins that rejected it: the events that may help are theirs.
    pub rejected_by: BTreeSet<&'static str>,
    /// Nodes (snapshot indices) rejected as `Unschedulable`, where removing pods could
    /// help: the preemption candidates.
    pub resolvable: Vec<usize>,
    /// What preemption found, appended to the message (`preemption: ...`).
    pub post_filter_message: Option<String>,
}

impl fmt::Display for FitError {
    /// `0/5 nodes are available: 2 node(s) had untolerated taint {dedicated: gpu}, 3
    /// Insufficient cpu.` (reasons with their counts, sorted as strings, as Kubernetes).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.num_all_nodes == 0 {
            return write!(f, "no nodes available to schedule pods");
        }
        write!(f, "0/{} nodes are available:", self.num_all_nodes)?;
        match &self.pre_filter_message {
            // Rejected as a whole: the per-node reasons would repeat it.
            Some(m) => write!(f, " {m}.")?,
            None => write!(f, "{}", histogram(&self.reasons))?,
        }
        if let Some(m) = &self.post_filter_message {
            write!(f, " {m}")?;
        }
        Ok(())
    }
}

/// ` 2 reason a, 3 reason b.`: counts with their reasons, sorted as strings.
pub fn histogram(reasons: &BTreeMap<String, usize>) -> String {
    let mut parts: Vec<String> = reasons
        .iter()
        .map(|(reason, n)| format!("{n} {reason}"))
        .collect();
    parts.sort();
    if parts.is_empty() {
        String::new()
    } else {
        format!(" {}.", parts.join(", "))
    }
}

#[derive(Debug)]
pub enum ScheduleError {
    /// No node fits: the pod waits in the unschedulable set.
    Unschedulable(Box<FitError>),
    /// A plugin failed: the pod retries after back-off.
    Internal(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleResult {
    pub node: String,
    /// Nodes filtered and nodes found feasible.
    pub evaluated: usize,
    pub feasible: usize,
}

/// Picks a node for `pod`. `next_start` is the round-robin position, advanced past the
/// nodes examined.
pub fn schedule_pod(
    fw: &Framework,
    snap: &Snapshot,
    pod: &PodInfo,
    next_start: &mut usize,
    rng: &mut impl Rng,
) -> Result<ScheduleResult, ScheduleError> {
    let n = snap.nodes.len();
    if n == 0 {
        return Err(ScheduleError::Unschedulable(Box::default()));
    }
    let mut state = CycleState::default();
    let mut active = Vec::with_capacity(fw.filters.len());
    for f in &fw.filters {
        let st = f.pre_filter(&mut state, pod, snap);
        match st.code {
            Code::Success => active.push(f),
            Code::Skip => {}
            Code::Error => {
                return Err(ScheduleError::Internal(format!(
                    "{}: {}",
                    f.name(),
                    st.reasons.join(", ")
                )));
            }
            Code::Unschedulable | Code::UnschedulableAndUnresolvable => {
                return Err(ScheduleError::Unschedulable(Box::new(FitError {
                    num_all_nodes: n,
                    reasons: BTreeMap::new(),
                    pre_filter_message: Some(st.reasons.join(", ")),
                    rejected_by: [f.name()].into(),
                    ..Default::default()
                })));
            }
        }
    }

    let want = num_feasible_nodes_to_find(fw.percentage_of_nodes_to_score, n);
    let start = *next_start % n;
    let mut feasible: Vec<&NodeInfo> = Vec::with_capacity(want.min(n));
    let mut fit_error = FitError {
        num_all_nodes: n,
        ..Default::default()
    };
    let mut processed = 0;
    for i in 0..n {
        let index = snap.ordered((start + i) % n);
        let node = &snap.nodes[index];
        processed += 1;
        match filter_node(&active, &state, snap, pod, node) {
            None => {
                feasible.push(node);
                if feasible.len() >= want {
                    break;
                }
            }
            Some((plugin, st)) => {
                if st.code == Code::Error {
                    return Err(ScheduleError::Internal(format!(
                        "{plugin} on node {}: {}",
                        node.name(),
                        st.reasons.join(", ")
                    )));
                }
                fit_error.rejected_by.insert(plugin);
                if st.code == Code::Unschedulable {
                    fit_error.resolvable.push(index);
                }
                for r in st.reasons {
                    *fit_error.reasons.entry(r).or_default() += 1;
                }
            }
        }
    }
    *next_start = (start + processed) % n;
    if feasible.is_empty() {
        return Err(ScheduleError::Unschedulable(Box::new(fit_error)));
    }
    let evaluated = processed;
    if feasible.len() == 1 {
        return Ok(ScheduleResult {
            node: feasible[0].name().to_string(),
            evaluated,
            feasible: 1,
        });
    }
    let totals = score_nodes(fw, &mut state, pod, snap, &feasible)?;
    let best = select_host(&totals, rng);
    Ok(ScheduleResult {
        node: feasible[best].name().to_string(),
        evaluated,
        feasible: feasible.len(),
    })
}

/// Filters `node` with the pods nominated to it counted as if they ran there (Kubernetes'
/// addNominatedPods), so room freed by preemption is not taken by a less important pod.
fn filter_node(
    active: &[&std::sync::Arc<dyn crate::framework::FilterPlugin>],
    state: &CycleState,
    snap: &Snapshot,
    pod: &PodInfo,
    node: &NodeInfo,
) -> Option<(&'static str, Status)> {
    if snap.nominated.is_empty() || snap.nominated_for(node.name(), pod).next().is_none() {
        return run_filters(active, state, pod, node);
    }
    let mut with_nominated = node.clone();
    for n in snap.nominated_for(node.name(), pod) {
        with_nominated.add_pod(n.clone());
    }
    run_filters(active, state, pod, &with_nominated)
}

pub(crate) fn run_filters(
    active: &[&std::sync::Arc<dyn crate::framework::FilterPlugin>],
    state: &CycleState,
    pod: &PodInfo,
    node: &NodeInfo,
) -> Option<(&'static str, Status)> {
    for f in active {
        let st = f.filter(state, pod, node);
        if !st.is_success() {
            return Some((f.name(), st));
        }
    }
    None
}

/// The weighted sum of every score plugin's normalized scores, per feasible node.
pub fn score_nodes(
    fw: &Framework,
    state: &mut CycleState,
    pod: &PodInfo,
    snap: &Snapshot,
    feasible: &[&NodeInfo],
) -> Result<Vec<i64>, ScheduleError> {
    let mut totals = vec![0i64; feasible.len()];
    let mut scores = vec![0i64; feasible.len()];
    for (plugin, weight) in &fw.scores {
        let st = plugin.pre_score(state, pod, snap, feasible);
        match st.code {
            Code::Skip => continue,
            Code::Success => {}
            _ => {
                return Err(ScheduleError::Internal(format!(
                    "{}: {}",
                    plugin.name(),
                    st.reasons.join(", ")
                )));
            }
        }
        for (s, node) in scores.iter_mut().zip(feasible) {
            *s = plugin.score(state, pod, node);
        }
        plugin.normalize(state, &mut scores);
        for (t, s) in totals.iter_mut().zip(&scores) {
            *t += s * weight;
        }
    }
    Ok(totals)
}

/// The index of the highest total; among equal totals each is equally likely (reservoir
/// sampling, as Kubernetes' selectHost).
pub fn select_host(totals: &[i64], rng: &mut impl Rng) -> usize {
    let mut best = 0;
    let mut ties = 0u32;
    for (i, &t) in totals.iter().enumerate() {
        if i == 0 || t > totals[best] {
            best = i;
            ties = 1;
        } else if t == totals[best] {
            ties += 1;
            if rng.random_range(0..ties) == 0 {
                best = i;
            }
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{FileConfig, build_framework};
    use crate::plugins::testutil::*;
    use proto::Resource;
    use proto::k8s::Taint;
    use rand::SeedableRng;

    #[test]
    fn feasible_node_counts() {
        let cases = [
            (0, 10, 10),
            (0, 99, 99),
            (0, 100, 100),
            (0, 200, 100),
            (0, 500, 230),
            (0, 1000, 420),
            (0, 5000, 500),
            (0, 6000, 300),
            (0, 10000, 500),
            (30, 1000, 300),
            (10, 500, 100),
            (100, 5000, 5000),
        ];
        for (pct, nodes, want) in cases {
            assert_eq!(
                num_feasible_nodes_to_find(pct, nodes),
                want,
                "{pct}% of {nodes}"
            );
        }
    }

    #[test]
    fn fit_error_message_is_kubernetes_shaped() {
        let e = FitError {
            num_all_nodes: 5,
            reasons: [
                ("Insufficient cpu".to_string(), 3),
                (
                    "node(s) had untolerated taint {dedicated: gpu}".to_string(),
                    2,
                ),
            ]
            .into(),
            ..Default::default()
        };
        assert_eq!(
            e.to_string(),
            "0/5 nodes are available: 2 node(s) had untolerated taint {dedicated: gpu}, 3 Insufficient cpu."
        );
        assert_eq!(
            FitError::default().to_string(),
            "no nodes available to schedule pods"
        );
    }

    fn fw() -> Framework {
        build_framework(&FileConfig::default()).unwrap()
    }

    #[test]
    fn picks_the_emptier_node_and_explains_failures() {
        let busy = requesting("3", "6Gi");
        let mut busy_pod = (*busy.pod).clone();
        busy_pod.spec_mut().node_name = "busy".into();
        busy_pod.meta_mut().name = "existing".into();
        let mut tainted = node("tainted");
        tainted.spec.get_or_insert_with(Default::default).taints = vec![Taint {
            key: "dedicated".into(),
            value: "gpu".into(),
            effect: "NoSchedule".into(),
            ..Default::default()
        }];
        let snap = snapshot(
            vec![node("busy"), node("free"), tainted],
            vec![PodInfo::new(std::sync::Arc::new(busy_pod))],
        );
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let mut start = 0;
        let p = requesting("500m", "1Gi");
        for _ in 0..10 {
            let r = schedule_pod(&fw(), &snap, &p, &mut start, &mut rng).unwrap();
            assert_eq!(r.node, "free");
            assert_eq!((r.evaluated, r.feasible), (3, 2));
        }
        let two = requesting("2", "1Gi");
        let r = schedule_pod(&fw(), &snap, &two, &mut start, &mut rng).unwrap();
        assert_eq!(
            (r.node.as_str(), r.feasible),
            ("free", 1),
            "busy has 1 cpu left"
        );
        let too_big = requesting("5", "1Gi");
        let err = match schedule_pod(&fw(), &snap, &too_big, &mut start, &mut rng) {
            Err(ScheduleError::Unschedulable(e)) => e,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            err.to_string(),
            "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 2 Insufficient cpu."
        );
        assert_eq!(
            err.rejected_by,
            ["NodeResourcesFit", "TaintToleration"].into()
        );
    }

    #[test]
    fn round_robin_spreads_the_search_start() {
        // 300 identical nodes: 48% (50 - 300/125) are examined per pod, from a moving start.
        let nodes: Vec<_> = (0..300).map(|i| node(&format!("n{i:03}"))).collect();
        let snap = snapshot(nodes, vec![]);
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let mut start = 0;
        let p = pod_with(|_| {});
        let r = schedule_pod(&fw(), &snap, &p, &mut start, &mut rng).unwrap();
        assert_eq!((r.evaluated, r.feasible), (144, 144));
        assert_eq!(start, 144);
        schedule_pod(&fw(), &snap, &p, &mut start, &mut rng).unwrap();
        assert_eq!(start, 288);
        schedule_pod(&fw(), &snap, &p, &mut start, &mut rng).unwrap();
        assert_eq!(start, 132, "wrapped around");
    }

    #[test]
    fn room_held_for_a_nominated_pod_is_not_given_to_a_lesser_one() {
        let mut snap = snapshot(vec![node("n1")], vec![]);
        let prio = |name: &str, cpu: &str, p: i32| {
            let mut pod = (*requesting(cpu, "0").pod).clone();
            pod.meta_mut().name = name.into();
            pod.spec_mut().priority = Some(p);
            std::sync::Arc::new(PodInfo::new(std::sync::Arc::new(pod)))
        };
        snap.nominated
            .insert("n1".into(), vec![prio("vip", "3", 100)]);
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let low = prio("low", "2", 10);
        assert!(matches!(
            schedule_pod(&fw(), &snap, &low, &mut 0, &mut rng),
            Err(ScheduleError::Unschedulable(_))
        ));
        let higher = prio("higher", "2", 200);
        assert!(schedule_pod(&fw(), &snap, &higher, &mut 0, &mut rng).is_ok());
        let vip = prio("vip", "3", 100);
        assert!(
            schedule_pod(&fw(), &snap, &vip, &mut 0, &mut rng).is_ok(),
            "its own nomination does not block it"
        );
    }

    #[test]
    fn ties_are_broken_at_random() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let mut seen = [0usize; 3];
        for _ in 0..3000 {
            seen[select_host(&[5, 9, 9, 9][1..], &mut rng)] += 1;
        }
        assert!(seen.iter().all(|&c| c > 800), "{seen:?}");
        assert_eq!(select_host(&[1, 7, 3], &mut rng), 1);
    }
}
