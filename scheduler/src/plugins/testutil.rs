//! Builders for plugin tests.

use crate::cache::Snapshot;
use crate::nodeinfo::NodeInfo;
use crate::podinfo::PodInfo;
use proto::Resource;
use proto::k8s::{Container, ContainerPort, Node, NodeStatus, Pod, PodSpec, ResourceRequirements};
use std::sync::Arc;

pub trait PodExt {
    fn spec_mut(&mut self) -> &mut PodSpec;
}

impl PodExt for Pod {
    fn spec_mut(&mut self) -> &mut PodSpec {
        self.spec.get_or_insert_with(Default::default)
    }
}

/// A pod "d/p" with one container without requests, changed by `f`.
pub fn pod_with(f: impl Fn(&mut Pod)) -> PodInfo {
    let mut p = Pod::default();
    p.meta_mut().name = "p".into();
    p.meta_mut().namespace = "d".into();
    p.spec = Some(PodSpec {
        containers: vec![Container {
            name: "c".into(),
            ..Default::default()
        }],
        ..Default::default()
    });
    f(&mut p);
    PodInfo::new(Arc::new(p))
}

fn requests(cpu: &str, mem: &str) -> ResourceRequirements {
    let mut r = ResourceRequirements::default();
    if !cpu.is_empty() {
        r.requests.insert("cpu".into(), cpu.into());
    }
    if !mem.is_empty() {
        r.requests.insert("memory".into(), mem.into());
    }
    r
}

pub fn requesting(cpu: &str, mem: &str) -> PodInfo {
    pod_with(|p| p.spec_mut().containers[0].resources = Some(requests(cpu, mem)))
}

/// An app container asking `app_cpu` and an init container asking `init_cpu`.
pub fn with_init(app_cpu: &str, init_cpu: &str) -> PodInfo {
    pod_with(|p| {
        p.spec_mut().containers[0].resources = Some(requests(app_cpu, ""));
        p.spec_mut().init_containers = vec![Container {
            name: "init".into(),
            resources: Some(requests(init_cpu, "")),
            ..Default::default()
        }];
    })
}

pub fn requesting_gpu(n: i64) -> PodInfo {
    pod_with(|p| {
        let mut r = ResourceRequirements::default();
        r.requests.insert("nvidia.com/gpu".into(), n.to_string());
        r.limits.insert("nvidia.com/gpu".into(), n.to_string());
        p.spec_mut().containers[0].resources = Some(r);
    })
}

/// (hostPort, protocol, hostIP) per port.
pub fn pod_with_ports(ports: &[(i32, &str, &str)]) -> PodInfo {
    let ports: Vec<ContainerPort> = ports
        .iter()
        .map(|(port, proto, ip)| ContainerPort {
            host_port: *port,
            container_port: *port,
            protocol: proto.to_string(),
            host_ip: ip.to_string(),
            ..Default::default()
        })
        .collect();
    pod_with(|p| {
        p.meta_mut().name = format!("ports-{}", rand::random::<u32>());
        p.spec_mut().containers[0].ports = ports.clone();
    })
}

/// A node with 4 cpu, 8Gi memory and room for 110 pods.
pub fn node(name: &str) -> Node {
    labeled_node(name, &[])
}

pub fn labeled_node(name: &str, labels: &[(&str, &str)]) -> Node {
    let mut n = Node::default();
    n.meta_mut().name = name.into();
    n.meta_mut().labels = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    n.status = Some(NodeStatus {
        allocatable: [
            ("cpu".to_string(), "4".to_string()),
            ("memory".to_string(), "8Gi".to_string()),
            ("pods".to_string(), "110".to_string()),
        ]
        .into(),
        ..Default::default()
    });
    n
}

pub fn node_info(node: Node, pods: Vec<PodInfo>) -> NodeInfo {
    let mut n = NodeInfo::new(Arc::new(node));
    for (i, p) in pods.into_iter().enumerate() {
        // Distinct keys, so removals in tests find the right pod.
        let mut pod = (*p.pod).clone();
        if pod.meta().name == "p" {
            pod.meta_mut().name = format!("existing-{i}");
        }
        n.add_pod(Arc::new(PodInfo::new(Arc::new(pod))));
    }
    n
}

/// A snapshot of `nodes`, each pod on the node its spec names.
pub fn snapshot(nodes: Vec<Node>, pods: Vec<PodInfo>) -> Snapshot {
    Snapshot::from_parts(
        nodes.into_iter().map(Arc::new).collect(),
        pods.into_iter().map(Arc::new).collect(),
    )
}
