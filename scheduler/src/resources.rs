//! Resource arithmetic as the scheduler counts it: a pod's effective requests (Kubernetes'
//! `resourcehelper.PodRequests`, init and sidecar containers included, plus overhead) and a
//! node's allocatable resources. Pure functions; quantities are parsed once per pod or node.

use proto::k8s::{Container, Node, PodSpec};
use proto::quantity::{parse_bytes, parse_cpu_millis};
use std::collections::BTreeMap;

/// Requests a container without a cpu request is counted with when spreading load
/// (Kubernetes' `DefaultMilliCPURequest`).
pub const DEFAULT_MILLI_CPU_REQUEST: i64 = 100;
/// Likewise for memory: 200 MiB (`DefaultMemoryRequest`).
pub const DEFAULT_MEMORY_REQUEST: i64 = 200 * 1024 * 1024;

/// An amount of every resource the scheduler tracks. `scalar` holds extended resources
/// (`nvidia.com/gpu`, `hugepages-2Mi`, ...), sorted by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resources {
    pub milli_cpu: i64,
    pub memory: i64,
    pub ephemeral_storage: i64,
    /// The `pods` resource: only meaningful for a node's allocatable.
    pub pods: i64,
    pub scalar: Vec<(String, i64)>,
}

impl Resources {
    /// From a resource list (`{"cpu": "500m", "memory": "1Gi"}`); unparsable quantities
    /// (which validation refuses anyway) count as zero.
    pub fn from_map(map: &BTreeMap<String, String>) -> Resources {
        let mut r = Resources::default();
        for (name, value) in map {
            r.set(name, parse_quantity(name, value));
        }
        r
    }

    pub fn get(&self, name: &str) -> i64 {
        match name {
            "cpu" => self.milli_cpu,
            "memory" => self.memory,
            "ephemeral-storage" => self.ephemeral_storage,
            "pods" => self.pods,
            other => self
                .scalar
                .iter()
                .find(|(n, _)| n == other)
                .map_or(0, |(_, v)| *v),
        }
    }

    pub fn set(&mut self, name: &str, value: i64) {
        match name {
            "cpu" => self.milli_cpu = value,
            "memory" => self.memory = value,
            "ephemeral-storage" => self.ephemeral_storage = value,
            "pods" => self.pods = value,
            other => match self.scalar.binary_search_by(|(n, _)| n.as_str().cmp(other)) {
                Ok(i) => self.scalar[i].1 = value,
                Err(i) => self.scalar.insert(i, (other.to_string(), value)),
            },
        }
    }

    /// Adds every amount of `other` (saturating).
    pub fn add(&mut self, other: &Resources) {
        self.combine(other, i64::saturating_add);
    }

    /// Subtracts every amount of `other` (saturating; may go negative only by bugs, so
    /// it is clamped at zero).
    pub fn sub(&mut self, other: &Resources) {
        self.combine(other, |a, b| a.saturating_sub(b).max(0));
    }

    /// The larger of each amount.
    pub fn max_with(&mut self, other: &Resources) {
        self.combine(other, i64::max);
    }

    fn combine(&mut self, other: &Resources, f: impl Fn(i64, i64) -> i64) {
        self.milli_cpu = f(self.milli_cpu, other.milli_cpu);
        self.memory = f(self.memory, other.memory);
        self.ephemeral_storage = f(self.ephemeral_storage, other.ephemeral_storage);
        self.pods = f(self.pods, other.pods);
        for (name, v) in &other.scalar {
            let cur = self.get(name);
            self.set(name, f(cur, *v));
        }
    }

    /// True when no amount is positive.
    pub fn is_zero(&self) -> bool {
        self.milli_cpu <= 0
            && self.memory <= 0
            && self.ephemeral_storage <= 0
            && self.scalar.iter().all(|(_, v)| *v <= 0)
    }
}

fn parse_quantity(name: &str, value: &str) -> i64 {
    let parsed = if name == "cpu" {
        parse_cpu_millis(value)
    } else {
        parse_bytes(value)
    };
    parsed.unwrap_or(0)
}

/// One container's requests. A resource with a limit but no request counts the limit
/// (what Kubernetes' defaulting writes into the request). With `non_zero`, a missing cpu or
/// memory request counts as the defaults above, as Kubernetes does for scoring.
fn container_requests(c: &Container, non_zero: bool) -> Resources {
    let mut r = Resources::default();
    let (requests, limits) = match &c.resources {
        Some(res) => (Some(&res.requests), Some(&res.limits)),
        None => (None, None),
    };
    if let Some(limits) = limits {
        for (name, v) in limits {
            if requests.is_none_or(|req| !req.contains_key(name)) {
                r.set(name, parse_quantity(name, v));
            }
        }
    }
    if let Some(requests) = requests {
        for (name, v) in requests {
            r.set(name, parse_quantity(name, v));
        }
    }
    if non_zero {
        let has = |name: &str| {
            requests.is_some_and(|m| m.contains_key(name))
                || limits.is_some_and(|m| m.contains_key(name))
        };
        if !has("cpu") {
            r.milli_cpu = DEFAULT_MILLI_CPU_REQUEST;
        }
        if !has("memory") {
            r.memory = DEFAULT_MEMORY_REQUEST;
        }
    }
    r
}

/// The pod's effective requests (Kubernetes' `PodRequests`): the sum of its containers and
/// of its sidecars (init containers with `restartPolicy: Always`, which keep running), or,
/// if larger, what the init phase needs at its peak (each ordinary init container runs
/// alone, beside the sidecars started before it), plus the pod overhead.
pub fn pod_requests(spec: &PodSpec, non_zero: bool) -> Resources {
    let mut reqs = Resources::default();
    for c in &spec.containers {
        reqs.add(&container_requests(c, non_zero));
    }
    let mut sidecars = Resources::default();
    let mut init_peak = Resources::default();
    for c in &spec.init_containers {
        let r = container_requests(c, non_zero);
        if c.restart_policy.as_deref() == Some("Always") {
            sidecars.add(&r);
            init_peak.max_with(&sidecars);
        } else {
            let mut during = r;
            during.add(&sidecars);
            init_peak.max_with(&during);
        }
    }
    reqs.add(&sidecars);
    reqs.max_with(&init_peak);
    if !spec.overhead.is_empty() {
        reqs.add(&Resources::from_map(&spec.overhead));
    }
    reqs
}

/// What the node offers pods: `status.allocatable`, or `status.capacity` when the node
/// reports no allocatable. A node reporting neither offers nothing (as in Kubernetes).
pub fn node_allocatable(node: &Node) -> Resources {
    let Some(status) = &node.status else {
        return Resources::default();
    };
    if status.allocatable.is_empty() {
        Resources::from_map(&status.capacity)
    } else {
        Resources::from_map(&status.allocatable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::k8s::ResourceRequirements;

    fn container(requests: &[(&str, &str)], limits: &[(&str, &str)]) -> Container {
        let m = |v: &[(&str, &str)]| {
            v.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        Container {
            resources: Some(ResourceRequirements {
                requests: m(requests),
                limits: m(limits),
            }),
            ..Default::default()
        }
    }

    fn sidecar(requests: &[(&str, &str)]) -> Container {
        Container {
            restart_policy: Some("Always".into()),
            ..container(requests, &[])
        }
    }

    #[test]
    fn pod_requests_table() {
        struct Case {
            name: &'static str,
            containers: Vec<Container>,
            init: Vec<Container>,
            overhead: &'static [(&'static str, &'static str)],
            want_cpu: i64,
            want_mem: i64,
            want_nonzero_cpu: i64,
            want_nonzero_mem: i64,
        }
        let mi = 1024 * 1024;
        let cases = vec![
            Case {
                name: "no requests: zero, non-zero gets the defaults",
                containers: vec![Container::default()],
                init: vec![],
                overhead: &[],
                want_cpu: 0,
                want_mem: 0,
                want_nonzero_cpu: 100,
                want_nonzero_mem: 200 * mi,
            },
            Case {
                name: "explicit zero stays zero even for scoring",
                containers: vec![container(&[("cpu", "0"), ("memory", "0")], &[])],
                init: vec![],
                overhead: &[],
                want_cpu: 0,
                want_mem: 0,
                want_nonzero_cpu: 0,
                want_nonzero_mem: 0,
            },
            Case {
                name: "containers add up",
                containers: vec![
                    container(&[("cpu", "250m"), ("memory", "64Mi")], &[]),
                    container(&[("cpu", "750m")], &[]),
                ],
                init: vec![],
                overhead: &[],
                want_cpu: 1000,
                want_mem: 64 * mi,
                want_nonzero_cpu: 1000,
                want_nonzero_mem: 264 * mi,
            },
            Case {
                name: "limit without request counts the limit",
                containers: vec![container(&[], &[("cpu", "2"), ("memory", "1Gi")])],
                init: vec![],
                overhead: &[],
                want_cpu: 2000,
                want_mem: 1024 * mi,
                want_nonzero_cpu: 2000,
                want_nonzero_mem: 1024 * mi,
            },
            Case {
                name: "init container larger than the app: its peak wins per resource",
                containers: vec![container(&[("cpu", "500m"), ("memory", "1Gi")], &[])],
                init: vec![
                    container(&[("cpu", "2"), ("memory", "100Mi")], &[]),
                    container(&[("cpu", "1")], &[]),
                ],
                overhead: &[],
                want_cpu: 2000,
                want_mem: 1024 * mi,
                want_nonzero_cpu: 2000,
                want_nonzero_mem: 1024 * mi,
            },
            Case {
                name: "sidecars add to the app and to later init containers",
                containers: vec![container(&[("cpu", "500m")], &[])],
                init: vec![sidecar(&[("cpu", "300m")]), container(&[("cpu", "1")], &[])],
                overhead: &[],
                want_cpu: 1300,
                want_mem: 0,
                want_nonzero_cpu: 1300,
                want_nonzero_mem: 400 * mi,
            },
            Case {
                name: "overhead is added",
                containers: vec![container(&[("cpu", "100m")], &[])],
                init: vec![],
                overhead: &[("cpu", "50m"), ("memory", "10Mi")],
                want_cpu: 150,
                want_mem: 10 * mi,
                want_nonzero_cpu: 150,
                want_nonzero_mem: 210 * mi,
            },
        ];
        for c in cases {
            let spec = PodSpec {
                containers: c.containers,
                init_containers: c.init,
                overhead: c
                    .overhead
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                ..Default::default()
            };
            let r = pod_requests(&spec, false);
            assert_eq!(
                (r.milli_cpu, r.memory),
                (c.want_cpu, c.want_mem),
                "{}",
                c.name
            );
            let nz = pod_requests(&spec, true);
            assert_eq!(
                (nz.milli_cpu, nz.memory),
                (c.want_nonzero_cpu, c.want_nonzero_mem),
                "{} (non-zero)",
                c.name
            );
        }
    }

    #[test]
    fn extended_resources_and_arithmetic() {
        let mut a = Resources::from_map(
            &[("nvidia.com/gpu", "2"), ("cpu", "1"), ("pods", "110")]
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        );
        assert_eq!(a.get("nvidia.com/gpu"), 2);
        assert_eq!(a.get("pods"), 110);
        let mut b = Resources::default();
        b.set("nvidia.com/gpu", 1);
        b.milli_cpu = 300;
        a.sub(&b);
        assert_eq!((a.milli_cpu, a.get("nvidia.com/gpu")), (700, 1));
        a.sub(&b);
        a.sub(&b);
        assert_eq!(
            (a.milli_cpu, a.get("nvidia.com/gpu")),
            (100, 0),
            "clamped at 0"
        );
        assert!(!a.is_zero());
        assert!(Resources::default().is_zero());
    }

    #[test]
    fn allocatable_falls_back_to_capacity() {
        let mut n = Node::default();
        assert_eq!(node_allocatable(&n), Resources::default());
        let st = n.status.get_or_insert_with(Default::default);
        st.capacity.insert("cpu".into(), "4".into());
        assert_eq!(node_allocatable(&n).milli_cpu, 4000);
        let st = n.status.get_or_insert_with(Default::default);
        st.allocatable.insert("cpu".into(), "3500m".into());
        assert_eq!(node_allocatable(&n).milli_cpu, 3500);
    }
}
