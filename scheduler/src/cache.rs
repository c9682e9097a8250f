//! The scheduler's cache: node infos with the pods bound or assumed on them, updated
//! incrementally from watch events, and the assume/forget protocol of asynchronous binding.
//!
//! The scheduling loop owns the cache and applies watch events only between cycles, so a
//! cycle reads one consistent view (`Snapshot`) without copying it. (Kubernetes' handlers
//! run concurrently with the cycle, which is why it copies changed node infos by
//! generation; a single owner makes that copy unnecessary.)

use crate::nodeinfo::NodeInfo;
use crate::plugins::volume_binding::StorageCache;
use crate::podinfo::{Labels, PodInfo};
use proto::Resource;
use proto::k8s::{Namespace, Node};
use std::collections::HashMap;
use std::sync::Arc;

/// What plugins read during a cycle.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// Storage; plugins iterate it in any order.
    pub nodes: Vec<NodeInfo>,
    index: HashMap<String, usize>,
    /// The order the search visits nodes in: zones interleaved (a1, b1, c1, a2, ...), as
    /// Kubernetes' node tree lists them, so a sample of the nodes covers every zone.
    order: Vec<usize>,
    order_dirty: bool,
    /// Labels of every namespace, for affinity terms with a namespaceSelector.
    pub namespaces: HashMap<String, Labels>,
    /// Pods in the cluster with any (anti-)affinity term, and with required anti-affinity:
    /// when zero, InterPodAffinity has nothing to check for pods without terms.
    pub pods_with_affinity: usize,
    pub pods_with_required_anti_affinity: usize,
    /// Pending pods nominated to a node by preemption, by node: the room freed for them is
    /// held against pods of lower or equal priority.
    pub nominated: HashMap<String, Vec<Arc<PodInfo>>>,
    /// Claims, volumes and storage classes, for VolumeBinding.
    pub storage: StorageCache,
}

/// The zone a node is in, for interleaving (region and zone, as Kubernetes' node tree).
fn zone_key(node: &NodeInfo) -> String {
    let l = node.labels();
    let get = |a: &str, b: &str| l.get(a).or_else(|| l.get(b)).cloned().unwrap_or_default();
    format!(
        "{}:\x00:{}",
        get(
            "topology.kubernetes.io/region",
            "failure-domain.beta.kubernetes.io/region"
        ),
        get(
            "topology.kubernetes.io/zone",
            "failure-domain.beta.kubernetes.io/zone"
        )
    )
}

impl Snapshot {
    /// The index (into `nodes`) of the `i`-th node in search order.
    pub fn ordered(&self, i: usize) -> usize {
        if self.order.len() == self.nodes.len() {
            self.order[i]
        } else {
            i
        }
    }

    /// Rebuilds the zone-interleaved search order if nodes came, went or moved zone.
    pub fn prepare(&mut self) {
        if !self.order_dirty && self.order.len() == self.nodes.len() {
            return;
        }
        let mut zones: Vec<(String, Vec<usize>)> = Vec::new();
        let mut by_zone: HashMap<String, usize> = HashMap::new();
        for (i, n) in self.nodes.iter().enumerate() {
            let z = zone_key(n);
            let slot = *by_zone.entry(z.clone()).or_insert_with(|| {
                zones.push((z, Vec::new()));
                zones.len() - 1
            });
            zones[slot].1.push(i);
        }
        // Stable across rebuilds: zones by name, nodes by name within a zone.
        zones.sort_by(|a, b| a.0.cmp(&b.0));
        for (_, nodes) in &mut zones {
            nodes.sort_by(|a, b| self.nodes[*a].name().cmp(self.nodes[*b].name()));
        }
        self.order.clear();
        let longest = zones.iter().map(|(_, n)| n.len()).max().unwrap_or(0);
        for round in 0..longest {
            for (_, nodes) in &zones {
                if let Some(&i) = nodes.get(round) {
                    self.order.push(i);
                }
            }
        }
        self.order_dirty = false;
    }

    /// Pods nominated to `node` that `pod` must leave room for (priority at least its
    /// own, not itself).
    pub fn nominated_for<'a>(
        &'a self,
        node: &str,
        pod: &'a PodInfo,
    ) -> impl Iterator<Item = &'a Arc<PodInfo>> + 'a {
        self.nominated
            .get(node)
            .into_iter()
            .flatten()
            .filter(move |n| n.key != pod.key && n.priority >= pod.priority)
    }

    pub fn node(&self, name: &str) -> Option<&NodeInfo> {
        self.index.get(name).map(|&i| &self.nodes[i])
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// For tests and tools: a snapshot of these nodes and pods (each pod on the node its
    /// `spec.nodeName` names).
    pub fn from_parts(nodes: Vec<Arc<Node>>, pods: Vec<Arc<PodInfo>>) -> Snapshot {
        let mut cache = Cache::default();
        for n in nodes {
            cache.add_node(n);
        }
        for p in pods {
            cache.add_pod(p);
        }
        cache.snapshot.prepare();
        cache.snapshot
    }
}

#[derive(Debug)]
struct PodState {
    info: Arc<PodInfo>,
    node: String,
    assumed: bool,
}

#[derive(Debug, Default)]
pub struct Cache {
    snapshot: Snapshot,
    pods: HashMap<String, PodState>,
    /// Pods bound to nodes the cache does not know (yet): counted once the node appears.
    orphans: HashMap<String, Vec<Arc<PodInfo>>>,
}

impl Cache {
    pub fn snapshot(&self) -> &Snapshot {
        &self.snapshot
    }

    /// The snapshot, with its search order brought up to date: what a cycle reads.
    pub fn prepared_snapshot(&mut self) -> &Snapshot {
        self.snapshot.prepare();
        &self.snapshot
    }

    pub fn storage_mut(&mut self) -> &mut StorageCache {
        &mut self.snapshot.storage
    }

    pub fn node_count(&self) -> usize {
        self.snapshot.nodes.len()
    }

    pub fn pod_count(&self) -> usize {
        self.pods.len()
    }

    /// Adds the node or replaces its object.
    pub fn add_node(&mut self, node: Arc<Node>) {
        let name = node.meta().name.clone();
        if let Some(&i) = self.snapshot.index.get(&name) {
            let before = zone_key(&self.snapshot.nodes[i]);
            self.snapshot.nodes[i].set_node(node);
            if zone_key(&self.snapshot.nodes[i]) != before {
                self.snapshot.order_dirty = true;
            }
            return;
        }
        self.snapshot.order_dirty = true;
        let mut info = NodeInfo::new(node);
        for p in self.orphans.remove(&name).unwrap_or_default() {
            info.add_pod(p);
        }
        self.snapshot.index.insert(name, self.snapshot.nodes.len());
        self.snapshot.nodes.push(info);
    }

    /// Removes the node; pods still bound to it wait as orphans until deleted.
    pub fn remove_node(&mut self, name: &str) {
        let Some(i) = self.snapshot.index.remove(name) else {
            return;
        };
        self.snapshot.order_dirty = true;
        let info = self.snapshot.nodes.swap_remove(i);
        if i < self.snapshot.nodes.len() {
            let moved = self.snapshot.nodes[i].name().to_string();
            self.snapshot.index.insert(moved, i);
        }
        if !info.pods.is_empty() {
            self.orphans.insert(name.to_string(), info.pods);
        }
    }

    pub fn set_namespace(&mut self, ns: &Namespace) {
        self.snapshot
            .namespaces
            .insert(ns.meta().name.clone(), ns.meta().labels.clone());
    }

    pub fn remove_namespace(&mut self, name: &str) {
        self.snapshot.namespaces.remove(name);
    }

    /// Records that `info` waits for room on `node` (empty: no nomination).
    pub fn nominate(&mut self, info: Arc<PodInfo>, node: &str) {
        self.clear_nomination(&info.key);
        if !node.is_empty() {
            self.snapshot
                .nominated
                .entry(node.to_string())
                .or_default()
                .push(info);
        }
    }

    pub fn clear_nomination(&mut self, key: &str) {
        if self.snapshot.nominated.is_empty() {
            return;
        }
        self.snapshot.nominated.retain(|_, pods| {
            pods.retain(|p| p.key != key);
            !pods.is_empty()
        });
    }

    fn place(&mut self, info: Arc<PodInfo>, node: &str) {
        if info.has_affinity() {
            self.snapshot.pods_with_affinity += 1;
        }
        if !info.required_anti_affinity.is_empty() {
            self.snapshot.pods_with_required_anti_affinity += 1;
        }
        match self.snapshot.index.get(node) {
            Some(&i) => self.snapshot.nodes[i].add_pod(info),
            None => self.orphans.entry(node.to_string()).or_default().push(info),
        }
    }

    fn unplace(&mut self, key: &str, node: &str) {
        let removed = match self.snapshot.index.get(node) {
            Some(&i) => self.snapshot.nodes[i].remove_pod(key),
            None => {
                let removed = self.orphans.get_mut(node).and_then(|pods| {
                    let j = pods.iter().position(|p| p.key == key)?;
                    Some(pods.swap_remove(j))
                });
                if self.orphans.get(node).is_some_and(|p| p.is_empty()) {
                    self.orphans.remove(node);
                }
                removed
            }
        };
        if let Some(info) = removed {
            if info.has_affinity() {
                self.snapshot.pods_with_affinity -= 1;
            }
            if !info.required_anti_affinity.is_empty() {
                self.snapshot.pods_with_required_anti_affinity -= 1;
            }
        }
    }

    /// A pod bound to a node, as the watch reports it (added or changed). Confirms an
    /// assumed pod; moves a pod whose node changed.
    pub fn add_pod(&mut self, info: Arc<PodInfo>) {
        let node = info.node_name().to_string();
        if node.is_empty() {
            return;
        }
        if let Some(old) = self.pods.remove(&info.key) {
            self.unplace(&info.key, &old.node);
        }
        self.place(info.clone(), &node);
        self.pods.insert(
            info.key.clone(),
            PodState {
                info,
                node,
                assumed: false,
            },
        );
    }

    pub fn remove_pod(&mut self, key: &str) {
        if let Some(old) = self.pods.remove(key) {
            self.unplace(key, &old.node);
        }
    }

    /// Counts the pod on `node` at once, before its binding is written.
    pub fn assume(&mut self, info: Arc<PodInfo>, node: &str) {
        self.remove_pod(&info.key);
        self.place(info.clone(), node);
        self.pods.insert(
            info.key.clone(),
            PodState {
                info,
                node: node.to_string(),
                assumed: true,
            },
        );
    }

    /// Undoes `assume` after a failed binding; a pod the watch has confirmed meanwhile
    /// stays. Returns whether anything was undone.
    pub fn forget(&mut self, key: &str) -> bool {
        match self.pods.get(key) {
            Some(s) if s.assumed => {
                self.remove_pod(key);
                true
            }
            _ => false,
        }
    }

    pub fn is_assumed(&self, key: &str) -> bool {
        self.pods.get(key).is_some_and(|s| s.assumed)
    }

    /// The node a pod is bound or assumed on.
    pub fn node_of(&self, key: &str) -> Option<&str> {
        self.pods.get(key).map(|s| s.node.as_str())
    }

    pub fn pod(&self, key: &str) -> Option<&Arc<PodInfo>> {
        self.pods.get(key).map(|s| &s.info)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::k8s::{NodeStatus, Pod, PodSpec};

    fn node(name: &str) -> Arc<Node> {
        let mut n = Node::default();
        n.meta_mut().name = name.into();
        n.status = Some(NodeStatus {
            allocatable: [("cpu".to_string(), "4".to_string())].into(),
            ..Default::default()
        });
        Arc::new(n)
    }

    fn pod(name: &str, node: &str) -> Arc<PodInfo> {
        let mut p = Pod::default();
        p.meta_mut().name = name.into();
        p.meta_mut().namespace = "d".into();
        p.spec = Some(PodSpec {
            node_name: node.into(),
            containers: vec![Default::default()],
            ..Default::default()
        });
        Arc::new(PodInfo::new(Arc::new(p)))
    }

    fn pods_on(c: &Cache, node: &str) -> usize {
        c.snapshot().node(node).map_or(0, |n| n.pods.len())
    }

    #[test]
    fn assume_confirm_forget() {
        let mut c = Cache::default();
        c.add_node(node("n1"));
        c.add_node(node("n2"));
        c.assume(pod("a", ""), "n1");
        assert!(c.is_assumed("d/a"));
        assert_eq!(pods_on(&c, "n1"), 1);
        assert_eq!(
            c.snapshot()
                .node("n1")
                .unwrap()
                .non_zero_requested
                .milli_cpu,
            100
        );
        // The watch confirms the binding: counted once, no longer assumed.
        c.add_pod(pod("a", "n1"));
        assert!(!c.is_assumed("d/a"));
        assert_eq!(pods_on(&c, "n1"), 1);
        assert!(!c.forget("d/a"), "a confirmed pod is not forgotten");
        // A failed binding is undone.
        c.assume(pod("b", ""), "n2");
        assert!(c.forget("d/b"));
        assert_eq!(pods_on(&c, "n2"), 0);
        assert_eq!(
            c.snapshot()
                .node("n2")
                .unwrap()
                .non_zero_requested
                .milli_cpu,
            0
        );
        // The watch says the pod landed elsewhere than assumed: it moves.
        c.assume(pod("c", ""), "n1");
        c.add_pod(pod("c", "n2"));
        assert_eq!((pods_on(&c, "n1"), pods_on(&c, "n2")), (1, 1));
        c.remove_pod("d/c");
        c.remove_pod("d/a");
        assert_eq!((pods_on(&c, "n1"), pods_on(&c, "n2")), (0, 0));
    }

    #[test]
    fn search_order_interleaves_zones() {
        let mut c = Cache::default();
        for (name, zone) in [
            ("a1", "a"),
            ("a2", "a"),
            ("a3", "a"),
            ("b1", "b"),
            ("b2", "b"),
            ("c1", "c"),
        ] {
            let mut n = (*node(name)).clone();
            n.meta_mut()
                .labels
                .insert("topology.kubernetes.io/zone".into(), zone.into());
            c.add_node(Arc::new(n));
        }
        let order = |s: &Snapshot| -> Vec<String> {
            (0..s.len())
                .map(|i| s.nodes[s.ordered(i)].name().to_string())
                .collect()
        };
        assert_eq!(
            order(c.prepared_snapshot()),
            ["a1", "b1", "c1", "a2", "b2", "a3"]
        );
        c.remove_node("b1");
        assert_eq!(order(c.prepared_snapshot()), ["a1", "b2", "c1", "a2", "a3"]);
        // A node moving zone is re-placed.
        let mut moved = (*node("a3")).clone();
        moved
            .meta_mut()
            .labels
            .insert("topology.kubernetes.io/zone".into(), "c".into());
        c.add_node(Arc::new(moved));
        assert_eq!(order(c.prepared_snapshot()), ["a1", "b2", "a3", "a2", "c1"]);
    }

    #[test]
    fn pods_on_unknown_nodes_wait_for_them() {
        let mut c = Cache::default();
        c.add_pod(pod("a", "late"));
        assert_eq!(c.node_count(), 0);
        c.add_node(node("late"));
        assert_eq!(pods_on(&c, "late"), 1);
        c.add_node(node("other"));
        c.remove_node("late");
        assert_eq!(c.node_count(), 1);
        assert!(
            c.snapshot().node("other").is_some(),
            "index fixed after removal"
        );
        c.add_node(node("late"));
        assert_eq!(pods_on(&c, "late"), 1, "orphans come back with their node");
        c.remove_pod("d/a");
        assert_eq!(pods_on(&c, "late"), 0);
    }
}
