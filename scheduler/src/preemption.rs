//! Preemption (Kubernetes' DefaultPreemption post-filter, the core of it): when no node
//! fits a pod, find a node where evicting pods of lower priority would make it fit, with
//! the fewest and least important victims. Pure over the snapshot; the caller deletes the
//! victims and records the node as the pod's `nominatedNodeName`.
//!
//! Victims are chosen per node as Kubernetes does: remove every lower-priority pod, check
//! that the pod fits then, and add back ("reprieve") the most important ones while it still
//! fits. Nodes are ranked by the highest victim priority, then the sum of victim
//! priorities, then the number of victims.

use crate::cache::Snapshot;
use crate::framework::{Code, CycleState, Framework};
use crate::podinfo::PodInfo;
use crate::schedule::{FitError, histogram, run_filters};
use std::collections::BTreeMap;
use std::sync::Arc;

pub const NO_VICTIMS: &str = "No preemption victims found for incoming pod";
pub const NOT_HELPFUL: &str = "Preemption is not helpful for scheduling";

#[derive(Debug, Clone)]
pub struct Preemption {
    pub node: String,
    pub victims: Vec<Arc<PodInfo>>,
}

#[derive(Debug)]
pub enum Outcome {
    Preempt(Preemption),
    /// Nothing to evict would help; the message is appended to the failure.
    NotHelpful(String),
    /// The pod may not preempt (policy Never, or earlier victims still terminating).
    NotEligible,
}

/// Whether `pod` may preempt now: not with `preemptionPolicy: Never`, and not while
/// lower-priority pods on its nominated node are still terminating (an earlier
/// preemption is in progress).
fn eligible(pod: &PodInfo, snap: &Snapshot) -> bool {
    if pod.spec().preemption_policy.as_deref() == Some("Never") {
        return false;
    }
    let nominated = pod
        .pod
        .status
        .as_ref()
        .map_or("", |s| s.nominated_node_name.as_str());
    if let Some(node) = snap.node(nominated)
        && node
            .pods
            .iter()
            .any(|p| p.is_terminating() && p.priority < pod.priority)
    {
        return false;
    }
    true
}

pub fn preempt(fw: &Framework, snap: &Snapshot, pod: &PodInfo, fit: &FitError) -> Outcome {
    if !eligible(pod, snap) {
        return Outcome::NotEligible;
    }
    if fit.resolvable.is_empty() {
        // Every node rejected the pod for a reason evictions cannot fix, or a pre-filter
        // rejected it as a whole (an unbound immediate claim): Kubernetes says so per node.
        return Outcome::NotHelpful(format!(
            "preemption: 0/{n} nodes are available: {n} {NOT_HELPFUL}.",
            n = fit.num_all_nodes
        ));
    }
    let mut state = CycleState::default();
    let mut active = Vec::new();
    for f in &fw.filters {
        let st = f.pre_filter(&mut state, pod, snap);
        match st.code {
            Code::Success => active.push(f),
            Code::Skip => {}
            _ => return Outcome::NotEligible,
        }
    }
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    let not_helpful = fit.num_all_nodes.saturating_sub(fit.resolvable.len());
    if not_helpful > 0 {
        reasons.insert(NOT_HELPFUL.into(), not_helpful);
    }
    let mut best: Option<((i32, i64, usize), Preemption)> = None;
    for &idx in &fit.resolvable {
        let Some(node) = snap.nodes.get(idx) else {
            continue;
        };
        let mut potential: Vec<Arc<PodInfo>> = node
            .pods
            .iter()
            .filter(|p| p.priority < pod.priority && !p.is_terminating())
            .cloned()
            .collect();
        let mut trimmed = node.clone();
        for v in &potential {
            trimmed.remove_pod(&v.key);
        }
        if potential.is_empty() || run_filters(&active, &state, pod, &trimmed).is_some() {
            *reasons.entry(NO_VICTIMS.into()).or_default() += 1;
            continue;
        }
        // Most important first: they are the first to be reprieved.
        potential.sort_by(|a, b| b.priority.cmp(&a.priority).then_with(|| a.key.cmp(&b.key)));
        let mut victims = Vec::new();
        for v in potential {
            trimmed.add_pod(v.clone());
            if run_filters(&active, &state, pod, &trimmed).is_some() {
                trimmed.remove_pod(&v.key);
                victims.push(v);
            }
        }
        if victims.is_empty() {
            *reasons.entry(NO_VICTIMS.into()).or_default() += 1;
            continue;
        }
        let rank = (
            victims.iter().map(|v| v.priority).max().unwrap_or(i32::MIN),
            victims.iter().map(|v| i64::from(v.priority)).sum::<i64>(),
            victims.len(),
        );
        if best.as_ref().is_none_or(|(r, _)| rank < *r) {
            best = Some((
                rank,
                Preemption {
                    node: node.name().to_string(),
                    victims,
                },
            ));
        }
    }
    match best {
        Some((_, p)) => Outcome::Preempt(p),
        None => Outcome::NotHelpful(format!(
            "preemption: 0/{} nodes are available:{}",
            fit.num_all_nodes,
            histogram(&reasons)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{FileConfig, build_framework};
    use crate::plugins::testutil::*;
    use crate::schedule::{ScheduleError, schedule_pod};
    use proto::Resource;
    use proto::k8s::Taint;
    use rand::SeedableRng;

    fn prio(name: &str, node: &str, cpu: &str, priority: i32) -> PodInfo {
        let base = requesting(cpu, "0");
        let mut p = (*base.pod).clone();
        p.meta_mut().name = name.into();
        p.spec_mut().node_name = node.into();
        p.spec_mut().priority = Some(priority);
        PodInfo::new(Arc::new(p))
    }

    fn run(snap: &Snapshot, pod: &PodInfo) -> Outcome {
        let fw = build_framework(&FileConfig::default()).unwrap();
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let fit = match schedule_pod(&fw, snap, pod, &mut 0, &mut rng) {
            Err(ScheduleError::Unschedulable(f)) => f,
            other => panic!("expected unschedulable: {other:?}"),
        };
        preempt(&fw, snap, pod, &fit)
    }

    fn victims(o: &Outcome) -> (String, Vec<String>) {
        match o {
            Outcome::Preempt(p) => {
                let mut v: Vec<String> = p.victims.iter().map(|v| v.name().to_string()).collect();
                v.sort();
                (p.node.clone(), v)
            }
            other => panic!("expected a preemption: {other:?}"),
        }
    }

    #[test]
    fn evicts_the_fewest_least_important_pods() {
        // 4-cpu nodes. n1: two 2-cpu pods of priority 10 and 1. n2: one 4-cpu pod of 5.
        let snap = snapshot(
            vec![node("n1"), node("n2")],
            vec![
                prio("a", "n1", "2", 10),
                prio("b", "n1", "2", 1),
                prio("c", "n2", "4", 5),
            ],
        );
        // Needs 2 cpu at priority 100: evicting "b" alone (highest victim priority 1) is
        // better than evicting "c" (5).
        assert_eq!(
            victims(&run(&snap, &prio("p", "", "2", 100))),
            ("n1".into(), vec!["b".into()])
        );
        // Needs 3 cpu: n1 would lose both (max 10), n2 only "c" (5).
        assert_eq!(
            victims(&run(&snap, &prio("p", "", "3", 100))),
            ("n2".into(), vec!["c".into()])
        );
        // Priority 6: may evict b (1) and c (5) but not a (10): n1 cannot free 3 cpu.
        assert_eq!(
            victims(&run(&snap, &prio("p", "", "3", 6))),
            ("n2".into(), vec!["c".into()])
        );
    }

    #[test]
    fn not_helpful_is_explained() {
        let mut tainted = node("tainted");
        tainted.spec.get_or_insert_with(Default::default).taints = vec![Taint {
            key: "k".into(),
            effect: "NoSchedule".into(),
            ..Default::default()
        }];
        let snap = snapshot(
            vec![node("n1"), tainted],
            vec![prio("high", "n1", "4", 1000)],
        );
        match run(&snap, &prio("p", "", "1", 100)) {
            Outcome::NotHelpful(m) => assert_eq!(
                m,
                "preemption: 0/2 nodes are available: 1 No preemption victims found for incoming pod, 1 Preemption is not helpful for scheduling."
            ),
            other => panic!("{other:?}"),
        }
        let mut never = (*prio("p", "", "1", 2000).pod).clone();
        never.spec_mut().preemption_policy = Some("Never".into());
        assert!(matches!(
            run(&snap, &PodInfo::new(Arc::new(never))),
            Outcome::NotEligible
        ));
    }

    #[test]
    fn waits_while_earlier_victims_terminate() {
        let mut terminating = (*prio("old", "n1", "4", 1).pod).clone();
        terminating.meta_mut().deletion_timestamp = "2026-01-01T00:00:00Z".into();
        let snap = snapshot(vec![node("n1")], vec![PodInfo::new(Arc::new(terminating))]);
        let mut p = (*prio("p", "", "1", 100).pod).clone();
        p.status
            .get_or_insert_with(Default::default)
            .nominated_node_name = "n1".into();
        assert!(matches!(
            run(&snap, &PodInfo::new(Arc::new(p))),
            Outcome::NotEligible
        ));
    }
}
