//! `NodeInfo`: a node and what the pods on it (bound or assumed) take from it, kept up to
//! date incrementally as pods come and go: adding or removing one pod adjusts the sums, so
//! nothing is ever recomputed from all pods.

use crate::podinfo::{HostPort, Labels, PodInfo};
use crate::resources::{Resources, node_allocatable};
use proto::Resource;
use proto::k8s::{Node, Taint};
use std::sync::Arc;

#[derive(Debug, Clone)]
pub struct NodeInfo {
    pub node: Arc<Node>,
    pub allocatable: Resources,
    /// Sum of the requests of the pods on the node.
    pub requested: Resources,
    /// The same with defaults for missing cpu/memory requests (for scoring).
    pub non_zero_requested: Resources,
    pub pods: Vec<Arc<PodInfo>>,
    /// Pods on the node with any (anti-)affinity term.
    pub pods_with_affinity: usize,
    /// Pods on the node with required anti-affinity terms.
    pub pods_with_required_anti_affinity: usize,
    pub used_ports: Vec<HostPort>,
    /// Bumped on every change.
    pub generation: u64,
    /// The Ready condition's status ("True", "False", "Unknown"), None without one: read
    /// once per node update, not per filter call.
    pub ready: Option<String>,
}

fn ready_of(node: &Node) -> Option<String> {
    node.status
        .as_ref()?
        .conditions
        .iter()
        .find(|c| c.r#type == "Ready")
        .map(|c| c.status.clone())
}

static EMPTY_TAINTS: Vec<Taint> = Vec::new();

impl NodeInfo {
    pub fn new(node: Arc<Node>) -> NodeInfo {
        NodeInfo {
            allocatable: node_allocatable(&node),
            ready: ready_of(&node),
            node,
            requested: Resources::default(),
            non_zero_requested: Resources::default(),
            pods: Vec::new(),
            pods_with_affinity: 0,
            pods_with_required_anti_affinity: 0,
            used_ports: Vec::new(),
            generation: 0,
        }
    }

    pub fn name(&self) -> &str {
        &self.node.meta().name
    }

    pub fn labels(&self) -> &Labels {
        &self.node.meta().labels
    }

    pub fn taints(&self) -> &[Taint] {
        self.node.spec.as_ref().map_or(&EMPTY_TAINTS, |s| &s.taints)
    }

    /// Replaces the Node object (a watch update); the pods stay.
    pub fn set_node(&mut self, node: Arc<Node>) {
        self.allocatable = node_allocatable(&node);
        self.ready = ready_of(&node);
        self.node = node;
        self.generation += 1;
    }

    pub fn add_pod(&mut self, pod: Arc<PodInfo>) {
        self.requested.add(&pod.requests);
        self.non_zero_requested.add(&pod.non_zero);
        if pod.has_affinity() {
            self.pods_with_affinity += 1;
        }
        if !pod.required_anti_affinity.is_empty() {
            self.pods_with_required_anti_affinity += 1;
        }
        self.used_ports.extend(pod.host_ports.iter().cloned());
        self.pods.push(pod);
        self.generation += 1;
    }

    /// Removes the pod with `key`; returns it if it was here.
    pub fn remove_pod(&mut self, key: &str) -> Option<Arc<PodInfo>> {
        let i = self.pods.iter().position(|p| p.key == key)?;
        let pod = self.pods.swap_remove(i);
        self.requested.sub(&pod.requests);
        self.non_zero_requested.sub(&pod.non_zero);
        if pod.has_affinity() {
            self.pods_with_affinity -= 1;
        }
        if !pod.required_anti_affinity.is_empty() {
            self.pods_with_required_anti_affinity -= 1;
        }
        for hp in &pod.host_ports {
            if let Some(j) = self.used_ports.iter().position(|u| u == hp) {
                self.used_ports.swap_remove(j);
            }
        }
        self.generation += 1;
        Some(pod)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::k8s::{Container, ContainerPort, Pod, PodSpec, ResourceRequirements};

    fn pod(name: &str, cpu: &str, host_port: i32) -> Arc<PodInfo> {
        let mut p = Pod::default();
        p.meta_mut().name = name.into();
        p.meta_mut().namespace = "d".into();
        p.spec = Some(PodSpec {
            containers: vec![Container {
                resources: Some(ResourceRequirements {
                    requests: [("cpu".to_string(), cpu.to_string())].into(),
                    ..Default::default()
                }),
                ports: if host_port > 0 {
                    vec![ContainerPort {
                        host_port,
                        ..Default::default()
                    }]
                } else {
                    vec![]
                },
                ..Default::default()
            }],
            ..Default::default()
        });
        Arc::new(PodInfo::new(Arc::new(p)))
    }

    #[test]
    fn sums_follow_adds_and_removes() {
        let mut n = NodeInfo::new(Arc::new(Node::default()));
        n.add_pod(pod("a", "500m", 80));
        n.add_pod(pod("b", "250m", 0));
        assert_eq!(n.requested.milli_cpu, 750);
        assert_eq!(n.non_zero_requested.memory, 2 * 200 * 1024 * 1024);
        assert_eq!(n.used_ports.len(), 1);
        assert!(n.remove_pod("d/a").is_some());
        assert!(n.remove_pod("d/a").is_none());
        assert_eq!(n.requested.milli_cpu, 250);
        assert!(n.used_ports.is_empty());
        assert_eq!(n.pods.len(), 1);
        assert_eq!(n.generation, 3);
    }
}
