//! `PodInfo`: a pod with everything the plugins need parsed once (requests, host ports,
//! affinity terms with their selectors), so a scheduling cycle never re-parses a quantity
//! or a selector per node.

use crate::resources::{Resources, pod_requests};
use proto::k8s::{Pod, PodAffinityTerm, PodSpec, WeightedPodAffinityTerm};
use proto::selector::{LabelSelector, Operator, Requirement};
use proto::{Resource, k8s};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

pub type Labels = BTreeMap<String, String>;

/// A required (anti-)affinity term, ready to match.
#[derive(Debug, Clone)]
pub struct AffinityTerm {
    /// `None` (no labelSelector) matches no pod, as in Kubernetes.
    pub selector: Option<LabelSelector>,
    /// Namespaces named by the term; with no namespaceSelector and no names, the owning
    /// pod's own namespace.
    pub namespaces: BTreeSet<String>,
    /// Matches namespaces by their labels; an empty selector matches every namespace.
    pub namespace_selector: Option<LabelSelector>,
    pub topology_key: String,
}

impl AffinityTerm {
    /// Whether a pod in `namespace` with `labels` is selected by this term.
    /// `namespace_labels` are the labels of that namespace, when known.
    pub fn matches(
        &self,
        namespace: &str,
        labels: &Labels,
        namespace_labels: Option<&Labels>,
    ) -> bool {
        let ns_ok = self.namespaces.contains(namespace)
            || self
                .namespace_selector
                .as_ref()
                .is_some_and(|s| s.is_empty() || namespace_labels.is_some_and(|l| s.matches(l)));
        ns_ok && self.selector.as_ref().is_some_and(|s| s.matches(labels))
    }

    fn parse(term: &PodAffinityTerm, owner: &Pod) -> Result<AffinityTerm, String> {
        let meta = owner.meta();
        let selector = match &term.label_selector {
            None => None,
            Some(sel) => {
                let base = LabelSelector::from_proto(sel).map_err(|e| e.to_string())?;
                let mut reqs = base.requirements().to_vec();
                // matchLabelKeys / mismatchLabelKeys take their values from the pod's own
                // labels (Kubernetes 1.29+).
                for (keys, op) in [
                    (&term.match_label_keys, Operator::In),
                    (&term.mismatch_label_keys, Operator::NotIn),
                ] {
                    for key in keys {
                        if let Some(v) = meta.labels.get(key) {
                            reqs.push(
                                Requirement::new(key.clone(), op, [v.clone()])
                                    .map_err(|e| e.to_string())?,
                            );
                        }
                    }
                }
                Some(LabelSelector::new(reqs))
            }
        };
        let namespace_selector = match &term.namespace_selector {
            None => None,
            Some(sel) => Some(LabelSelector::from_proto(sel).map_err(|e| e.to_string())?),
        };
        let mut namespaces: BTreeSet<String> = term.namespaces.iter().cloned().collect();
        if namespaces.is_empty() && namespace_selector.is_none() {
            namespaces.insert(meta.namespace.clone());
        }
        Ok(AffinityTerm {
            selector,
            namespaces,
            namespace_selector,
            topology_key: term.topology_key.clone(),
        })
    }
}

#[derive(Debug, Clone)]
pub struct WeightedAffinityTerm {
    pub weight: i64,
    pub term: AffinityTerm,
}

/// A host port a container asks for: conflicts are per protocol and port, and per IP
/// unless either side listens on every address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPort {
    pub ip: String,
    pub protocol: String,
    pub port: i32,
}

impl HostPort {
    pub fn conflicts(&self, other: &HostPort) -> bool {
        let any = |ip: &str| ip.is_empty() || ip == "0.0.0.0" || ip == "::";
        self.port == other.port
            && self.protocol == other.protocol
            && (any(&self.ip) || any(&other.ip) || self.ip == other.ip)
    }
}

#[derive(Debug)]
pub struct PodInfo {
    pub pod: Arc<Pod>,
    /// `namespace/name`.
    pub key: String,
    pub requests: Resources,
    /// Requests with defaults for missing cpu/memory: what spreading scores count.
    pub non_zero: Resources,
    pub host_ports: Vec<HostPort>,
    pub priority: i32,
    pub required_affinity: Vec<AffinityTerm>,
    pub required_anti_affinity: Vec<AffinityTerm>,
    pub preferred_affinity: Vec<WeightedAffinityTerm>,
    pub preferred_anti_affinity: Vec<WeightedAffinityTerm>,
    /// A selector in the pod's affinity that did not parse: the pod cannot be scheduled.
    pub parse_error: Option<String>,
}

static EMPTY_SPEC: std::sync::OnceLock<PodSpec> = std::sync::OnceLock::new();

impl PodInfo {
    pub fn new(pod: Arc<Pod>) -> PodInfo {
        let meta = pod.meta();
        let key = format!("{}/{}", meta.namespace, meta.name);
        let default_spec = PodSpec::default();
        let spec = pod.spec.as_ref().unwrap_or(&default_spec);
        let requests = pod_requests(spec, false);
        let non_zero = pod_requests(spec, true);
        let mut host_ports = Vec::new();
        let restartable_init = spec
            .init_containers
            .iter()
            .filter(|c| c.restart_policy.as_deref() == Some("Always"));
        for c in spec.containers.iter().chain(restartable_init) {
            for p in &c.ports {
                if p.host_port > 0 {
                    host_ports.push(HostPort {
                        ip: p.host_ip.clone(),
                        protocol: if p.protocol.is_empty() {
                            "TCP".into()
                        } else {
                            p.protocol.clone()
                        },
                        port: p.host_port,
                    });
                }
            }
        }
        let affinity = spec.affinity.clone();
        let priority = spec.priority.unwrap_or(0);
        let mut info = PodInfo {
            key,
            requests,
            non_zero,
            host_ports,
            priority,
            required_affinity: Vec::new(),
            required_anti_affinity: Vec::new(),
            preferred_affinity: Vec::new(),
            preferred_anti_affinity: Vec::new(),
            parse_error: None,
            pod: pod.clone(),
        };
        if let Some(aff) = &affinity
            && let Err(e) = info.parse_affinity(aff)
        {
            info.parse_error = Some(e);
        }
        info
    }

    fn parse_affinity(&mut self, aff: &k8s::Affinity) -> Result<(), String> {
        let pod = self.pod.clone();
        let required = |terms: &[PodAffinityTerm]| {
            terms
                .iter()
                .map(|t| AffinityTerm::parse(t, &pod))
                .collect::<Result<Vec<_>, _>>()
        };
        let preferred = |terms: &[WeightedPodAffinityTerm]| {
            terms
                .iter()
                .filter_map(|w| {
                    w.pod_affinity_term.as_ref().map(|t| {
                        AffinityTerm::parse(t, &pod).map(|term| WeightedAffinityTerm {
                            weight: i64::from(w.weight),
                            term,
                        })
                    })
                })
                .collect::<Result<Vec<_>, _>>()
        };
        if let Some(a) = &aff.pod_affinity {
            self.required_affinity =
                required(&a.required_during_scheduling_ignored_during_execution)?;
            self.preferred_affinity =
                preferred(&a.preferred_during_scheduling_ignored_during_execution)?;
        }
        if let Some(a) = &aff.pod_anti_affinity {
            self.required_anti_affinity =
                required(&a.required_during_scheduling_ignored_during_execution)?;
            self.preferred_anti_affinity =
                preferred(&a.preferred_during_scheduling_ignored_during_execution)?;
        }
        Ok(())
    }

    pub fn spec(&self) -> &PodSpec {
        self.pod
            .spec
            .as_ref()
            .unwrap_or_else(|| EMPTY_SPEC.get_or_init(PodSpec::default))
    }

    pub fn namespace(&self) -> &str {
        &self.pod.meta().namespace
    }

    pub fn name(&self) -> &str {
        &self.pod.meta().name
    }

    pub fn uid(&self) -> &str {
        &self.pod.meta().uid
    }

    pub fn labels(&self) -> &Labels {
        &self.pod.meta().labels
    }

    pub fn node_name(&self) -> &str {
        self.pod.spec.as_ref().map_or("", |s| s.node_name.as_str())
    }

    /// Has terms other pods' placement must respect or that attract it (InterPodAffinity
    /// scoring of existing pods).
    pub fn has_affinity(&self) -> bool {
        !self.required_affinity.is_empty()
            || !self.required_anti_affinity.is_empty()
            || !self.preferred_affinity.is_empty()
            || !self.preferred_anti_affinity.is_empty()
    }

    pub fn is_terminating(&self) -> bool {
        !self.pod.meta().deletion_timestamp.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::k8s::{Affinity, Container, ContainerPort, PodAntiAffinity};

    #[test]
    fn terms_default_to_own_namespace_and_merge_match_label_keys() {
        let mut pod = Pod::default();
        pod.meta_mut().namespace = "team".into();
        pod.meta_mut().labels.insert("app".into(), "web".into());
        pod.meta_mut().labels.insert("rev".into(), "7".into());
        let term = PodAffinityTerm {
            label_selector: Some(k8s::LabelSelector {
                match_labels: [("app".to_string(), "web".to_string())].into(),
                ..Default::default()
            }),
            topology_key: "kubernetes.io/hostname".into(),
            match_label_keys: vec!["rev".into()],
            ..Default::default()
        };
        pod.spec = Some(PodSpec {
            affinity: Some(Box::new(Affinity {
                pod_anti_affinity: Some(PodAntiAffinity {
                    required_during_scheduling_ignored_during_execution: vec![term],
                    ..Default::default()
                }),
                ..Default::default()
            })),
            containers: vec![Container {
                ports: vec![ContainerPort {
                    host_port: 8080,
                    container_port: 80,
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        });
        let info = PodInfo::new(Arc::new(pod));
        assert!(info.parse_error.is_none());
        let t = &info.required_anti_affinity[0];
        let labels = |app: &str, rev: &str| -> Labels {
            [("app".into(), app.into()), ("rev".into(), rev.into())].into()
        };
        assert!(t.matches("team", &labels("web", "7"), None));
        assert!(
            !t.matches("team", &labels("web", "8"), None),
            "rev must match"
        );
        assert!(
            !t.matches("other", &labels("web", "7"), None),
            "own namespace only"
        );
        assert_eq!(
            info.host_ports,
            vec![HostPort {
                ip: String::new(),
                protocol: "TCP".into(),
                port: 8080
            }]
        );
    }

    #[test]
    fn host_port_conflicts() {
        let hp = |ip: &str, proto: &str, port| HostPort {
            ip: ip.into(),
            protocol: proto.into(),
            port,
        };
        let cases = [
            (hp("", "TCP", 80), hp("", "TCP", 80), true),
            (hp("", "TCP", 80), hp("", "UDP", 80), false),
            (hp("", "TCP", 80), hp("", "TCP", 81), false),
            (hp("10.0.0.1", "TCP", 80), hp("10.0.0.2", "TCP", 80), false),
            (hp("10.0.0.1", "TCP", 80), hp("0.0.0.0", "TCP", 80), true),
            (hp("10.0.0.1", "TCP", 80), hp("10.0.0.1", "TCP", 80), true),
        ];
        for (a, b, want) in cases {
            assert_eq!(a.conflicts(&b), want, "{a:?} vs {b:?}");
            assert_eq!(b.conflicts(&a), want, "{b:?} vs {a:?} (symmetric)");
        }
    }
}
