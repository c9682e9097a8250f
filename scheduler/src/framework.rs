//! The plugin framework (Kubernetes' scheduling framework, the parts this scheduler runs):
//! filter plugins decide whether a pod may run on a node, score plugins rank the nodes that
//! may. Plugins are pure: they read the pod, a node and the cycle's snapshot, and return a
//! `Status` or a score. Which plugins run, and with what weight, comes from the config
//! (`config.rs`) through the registry (`plugins/mod.rs`).

use crate::cache::Snapshot;
use crate::nodeinfo::NodeInfo;
use crate::podinfo::PodInfo;
use std::any::Any;
use std::collections::HashMap;
use std::sync::Arc;

/// The highest score a plugin gives a node after normalization.
pub const MAX_NODE_SCORE: i64 = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    Success,
    /// The node does not fit now, but could after preemption.
    Unschedulable,
    /// The node does not fit and preemption on it would not help.
    UnschedulableAndUnresolvable,
    /// Something is wrong (a bad selector), not a property of the node.
    Error,
    /// From pre-filter/pre-score: this plugin has nothing to check for this pod.
    Skip,
}

/// A plugin's verdict, with the reasons shown to users when it rejects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub code: Code,
    pub reasons: Vec<String>,
}

impl Status {
    pub fn success() -> Status {
        Status {
            code: Code::Success,
            reasons: Vec::new(),
        }
    }
    pub fn skip() -> Status {
        Status {
            code: Code::Skip,
            reasons: Vec::new(),
        }
    }
    pub fn unschedulable(reason: impl Into<String>) -> Status {
        Status {
            code: Code::Unschedulable,
            reasons: vec![reason.into()],
        }
    }
    pub fn unresolvable(reason: impl Into<String>) -> Status {
        Status {
            code: Code::UnschedulableAndUnresolvable,
            reasons: vec![reason.into()],
        }
    }
    pub fn error(message: impl Into<String>) -> Status {
        Status {
            code: Code::Error,
            reasons: vec![message.into()],
        }
    }
    pub fn is_success(&self) -> bool {
        self.code == Code::Success
    }
    pub fn is_rejection(&self) -> bool {
        matches!(
            self.code,
            Code::Unschedulable | Code::UnschedulableAndUnresolvable
        )
    }
}

/// Cluster changes that can make a rejected pod schedulable. Each filter plugin names the
/// ones that matter to it, so an unschedulable pod is retried only when something that
/// rejected it may have changed (Kubernetes' EventsToRegister).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ClusterEvent {
    NodeAdd,
    NodeAllocatableChange,
    NodeLabelChange,
    NodeTaintChange,
    NodeUnschedulableChange,
    NodeConditionChange,
    AssignedPodAdd,
    AssignedPodUpdate,
    AssignedPodDelete,
    NamespaceChange,
    PersistentVolumeClaimAdd,
    PersistentVolumeClaimUpdate,
    PersistentVolumeAdd,
    PersistentVolumeUpdate,
    StorageClassAdd,
    StorageClassUpdate,
}

/// Data plugins compute once per cycle (in pre-filter / pre-score) and read per node.
#[derive(Default)]
pub struct CycleState {
    data: HashMap<&'static str, Box<dyn Any + Send + Sync>>,
}

impl CycleState {
    pub fn write<T: Any + Send + Sync>(&mut self, key: &'static str, value: T) {
        self.data.insert(key, Box::new(value));
    }
    pub fn read<T: Any>(&self, key: &'static str) -> Option<&T> {
        self.data.get(key).and_then(|b| b.downcast_ref::<T>())
    }
}

pub trait Plugin: Send + Sync {
    fn name(&self) -> &'static str;
    /// Events after which a pod this plugin rejected is worth retrying.
    fn events(&self) -> &'static [ClusterEvent] {
        &[]
    }
    /// The plugin itself, for the loop to reach a plugin's own steps beyond filter and
    /// score (VolumeBinding's reserve).
    fn as_any(&self) -> Option<&dyn Any> {
        None
    }
}

pub trait FilterPlugin: Plugin {
    /// Once per cycle, before any node: compute state, or return Skip when the pod asks
    /// nothing of this plugin, or a rejection that holds for every node.
    fn pre_filter(&self, _state: &mut CycleState, _pod: &PodInfo, _snap: &Snapshot) -> Status {
        Status::success()
    }
    fn filter(&self, state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status;
}

pub trait ScorePlugin: Plugin {
    /// Once per cycle with the feasible nodes; Skip leaves this plugin out of the sum.
    fn pre_score(
        &self,
        _state: &mut CycleState,
        _pod: &PodInfo,
        _snap: &Snapshot,
        _feasible: &[&NodeInfo],
    ) -> Status {
        Status::success()
    }
    fn score(&self, state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> i64;
    /// Brings the raw scores to 0..=MAX_NODE_SCORE; the default assumes they already are.
    fn normalize(&self, _state: &CycleState, _scores: &mut [i64]) {}
}

/// Scales scores to 0..=100 by their maximum (`reverse`: the highest raw score gets 0),
/// Kubernetes' `DefaultNormalizeScore`.
pub fn default_normalize(scores: &mut [i64], reverse: bool) {
    let max = scores.iter().copied().max().unwrap_or(0);
    if max <= 0 {
        if reverse {
            scores.iter_mut().for_each(|s| *s = MAX_NODE_SCORE);
        }
        return;
    }
    for s in scores.iter_mut() {
        let v = MAX_NODE_SCORE * *s / max;
        *s = if reverse { MAX_NODE_SCORE - v } else { v };
    }
}

/// The plugins of one profile, in order, with score weights.
pub struct Framework {
    pub scheduler_name: String,
    pub filters: Vec<Arc<dyn FilterPlugin>>,
    pub scores: Vec<(Arc<dyn ScorePlugin>, i64)>,
    /// 0: adaptive (Kubernetes' formula).
    pub percentage_of_nodes_to_score: u32,
    /// The DefaultPreemption post-filter runs when no node fits.
    pub preemption: bool,
}

impl Framework {
    /// The filter plugins interested in `event`.
    pub fn plugins_for(&self, event: ClusterEvent) -> impl Iterator<Item = &'static str> + '_ {
        self.filters
            .iter()
            .filter(move |p| p.events().contains(&event))
            .map(|p| p.name())
    }

    pub fn filter_names(&self) -> Vec<&'static str> {
        self.filters.iter().map(|p| p.name()).collect()
    }

    pub fn score_names(&self) -> Vec<(&'static str, i64)> {
        self.scores.iter().map(|(p, w)| (p.name(), *w)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_scales_by_max() {
        let mut s = vec![0, 5, 10];
        default_normalize(&mut s, false);
        assert_eq!(s, [0, 50, 100]);
        let mut s = vec![0, 5, 10];
        default_normalize(&mut s, true);
        assert_eq!(s, [100, 50, 0]);
        let mut s = vec![0, 0];
        default_normalize(&mut s, true);
        assert_eq!(s, [100, 100], "nothing to avoid anywhere: all best");
        let mut s = vec![0, 0];
        default_normalize(&mut s, false);
        assert_eq!(s, [0, 0]);
    }
}
