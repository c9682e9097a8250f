//! NodeRestriction admission (Kubernetes' `plugin/pkg/admission/noderestriction`): a kubelet
//! may write only its own Node (not its taints once registered, not labels under
//! `node-restriction.kubernetes.io/`, not its podCIDR once set), the status of and deletion
//! of pods bound to it, and its own Lease. The Node authorizer lets kubelets reach these
//! kinds at all; this decides which objects. Pure.

use std::collections::BTreeSet;

use proto::ApiError;
use proto::k8s::{Object, object::Kind as K};

use crate::auth::User;

pub const NAME: &str = "NodeRestriction";
const RESTRICTED_LABEL_DOMAIN: &str = "node-restriction.kubernetes.io";
const MIRROR_ANNOTATION: &str = "kubernetes.io/config.mirror";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Create,
    Update,
    Delete,
}

fn forbidden(plural: &str, name: &str, why: String) -> ApiError {
    if name.is_empty() {
        ApiError::forbidden(format!("{plural} is forbidden: {why}"))
    } else {
        ApiError::forbidden(format!("{plural} {name:?} is forbidden: {why}"))
    }
}

fn restricted_label(key: &str) -> bool {
    let Some((prefix, _)) = key.split_once('/') else {
        return false;
    };
    prefix == RESTRICTED_LABEL_DOMAIN || prefix.ends_with(&format!(".{RESTRICTED_LABEL_DOMAIN}"))
}

fn node_name_of(o: &Object) -> &str {
    match &o.kind {
        Some(K::Pod(p)) => p.spec.as_ref().map_or("", |s| s.node_name.as_str()),
        _ => "",
    }
}

/// `object` is the object as it would be stored (for a delete, the stored one), `old` the
/// stored one on update.
pub fn admit(
    user: &User,
    op: Operation,
    subresource: &str,
    object: &Object,
    old: Option<&Object>,
) -> Result<(), ApiError> {
    let Some(node) = user.node_name() else {
        return Ok(());
    };
    let name = object.meta().name.as_str();
    match &object.kind {
        Some(K::Node(n)) => {
            if name != node {
                return Err(forbidden(
                    "nodes",
                    name,
                    format!("node {node:?} is not allowed to modify node {name:?}"),
                ));
            }
            let labels = &n
                .metadata
                .as_ref()
                .map(|m| m.labels.clone())
                .unwrap_or_default();
            match (
                op,
                old.and_then(|o| match &o.kind {
                    Some(K::Node(old)) => Some(old),
                    _ => None,
                }),
            ) {
                (Operation::Create, _) => {
                    let bad: BTreeSet<&String> =
                        labels.keys().filter(|k| restricted_label(k)).collect();
                    if !bad.is_empty() {
                        return Err(forbidden(
                            "nodes",
                            name,
                            format!(
                                "node {node:?} is not allowed to set the following labels: {}",
                                bad.into_iter().cloned().collect::<Vec<_>>().join(", ")
                            ),
                        ));
                    }
                }
                (Operation::Update, Some(old)) => {
                    let spec = n.spec.clone().unwrap_or_default();
                    let old_spec = old.spec.clone().unwrap_or_default();
                    if spec.taints != old_spec.taints {
                        return Err(forbidden(
                            "nodes",
                            name,
                            format!("node {node:?} is not allowed to modify taints"),
                        ));
                    }
                    if spec.pod_cidr != old_spec.pod_cidr || spec.pod_cidrs != old_spec.pod_cidrs {
                        return Err(forbidden(
                            "nodes",
                            name,
                            format!("node {node:?} is not allowed to modify podCIDR"),
                        ));
                    }
                    let old_labels = old
                        .metadata
                        .as_ref()
                        .map(|m| m.labels.clone())
                        .unwrap_or_default();
                    let bad: BTreeSet<&String> = labels
                        .keys()
                        .chain(old_labels.keys())
                        .filter(|k| restricted_label(k) && labels.get(*k) != old_labels.get(*k))
                        .collect();
                    if !bad.is_empty() {
                        return Err(forbidden(
                            "nodes",
                            name,
                            format!(
                                "is not allowed to modify labels: {}",
                                bad.into_iter().cloned().collect::<Vec<_>>().join(", ")
                            ),
                        ));
                    }
                }
                _ => {}
            }
            Ok(())
        }
        Some(K::Pod(p)) => {
            let bound_here = |o: &Object| node_name_of(o) == node;
            match (op, subresource) {
                (Operation::Create, "") => {
                    let mirror = p
                        .metadata
                        .as_ref()
                        .is_some_and(|m| m.annotations.contains_key(MIRROR_ANNOTATION));
                    if !mirror {
                        return Err(forbidden(
                            "pods",
                            name,
                            format!(
                                "pod does not have {MIRROR_ANNOTATION:?} annotation, node {node:?} can only create mirror pods"
                            ),
                        ));
                    }
                    if !bound_here(object) {
                        return Err(forbidden(
                            "pods",
                            name,
                            format!(
                                "node {node:?} can only create pods with spec.nodeName set to itself"
                            ),
                        ));
                    }
                    Ok(())
                }
                (Operation::Delete, "") => {
                    if bound_here(object) {
                        Ok(())
                    } else {
                        Err(forbidden(
                            "pods",
                            name,
                            format!(
                                "node {node:?} can only delete pods with spec.nodeName set to itself"
                            ),
                        ))
                    }
                }
                (Operation::Update, "status") => {
                    if old.is_some_and(bound_here) {
                        Ok(())
                    } else {
                        Err(forbidden(
                            "pods",
                            name,
                            format!(
                                "node {node:?} can only update pod status for pods with spec.nodeName set to itself"
                            ),
                        ))
                    }
                }
                (Operation::Update, "") => Err(forbidden(
                    "pods",
                    name,
                    format!(
                        "unexpected operation \"UPDATE\", node {node:?} can only create and delete mirror pods"
                    ),
                )),
                (_, sub) => Err(forbidden(
                    "pods",
                    name,
                    format!(
                        "unexpected pod subresource {sub:?}, only 'status' and 'eviction' are allowed"
                    ),
                )),
            }
        }
        // Nodes may list and delete volumes only to reclaim local-path volumes
        // (`system:local-path-deleter`): a node deletes a volume only when it is a
        // local-path one pinned to itself. Kubernetes' nodes delete no volume at all; its
        // provisioner runs a helper pod on the node instead.
        Some(K::PersistentVolume(pv)) => {
            let own = proto::local_path::is_local_path(pv)
                && proto::local_path::volume_node(pv) == Some(node);
            if op == Operation::Delete && !own {
                return Err(forbidden(
                    "persistentvolumes",
                    name,
                    format!("node {node:?} can only delete local-path volumes pinned to itself"),
                ));
            }
            Ok(())
        }
        Some(K::Lease(_)) => {
            if object.meta().namespace == crate::auth::node::NODE_LEASE_NAMESPACE && name != node {
                return Err(forbidden(
                    "leases.coordination.k8s.io",
                    name,
                    "can only access node lease with the same name as the requesting node"
                        .to_string(),
                ));
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::Resource;
    use proto::k8s::{Lease, Node, NodeSpec, Pod, PodSpec, Taint};

    fn kubelet() -> User {
        User::new("system:node:a", &["system:nodes", "system:authenticated"])
    }

    fn node(name: &str, labels: &[(&str, &str)], taints: Vec<Taint>) -> Object {
        let mut n = Node {
            spec: Some(NodeSpec {
                taints,
                ..Default::default()
            }),
            ..Default::default()
        };
        n.meta_mut().name = name.into();
        for (k, v) in labels {
            n.meta_mut().labels.insert(k.to_string(), v.to_string());
        }
        n.into_object()
    }

    fn pod(on: &str) -> Object {
        let mut p = Pod {
            spec: Some(PodSpec {
                node_name: on.into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        p.meta_mut().name = "p".into();
        p.meta_mut().namespace = "ns".into();
        p.into_object()
    }

    #[test]
    fn a_node_writes_only_its_own_node_object() {
        let u = kubelet();
        admit(&u, Operation::Create, "", &node("a", &[], vec![]), None).unwrap();
        let err = admit(
            &u,
            Operation::Update,
            "status",
            &node("b", &[], vec![]),
            Some(&node("b", &[], vec![])),
        )
        .unwrap_err();
        assert_eq!(err.reason, proto::Reason::Forbidden);
        assert_eq!(
            err.message,
            r#"nodes "b" is forbidden: node "a" is not allowed to modify node "b""#
        );
        // Anyone else is not this plugin's concern.
        admit(
            &User::new("alice", &[]),
            Operation::Update,
            "",
            &node("b", &[], vec![]),
            None,
        )
        .unwrap();
    }

    #[test]
    fn restricted_labels_taints_and_pod_cidr_stay_as_the_admin_set_them() {
        let u = kubelet();
        let err = admit(
            &u,
            Operation::Create,
            "",
            &node("a", &[("node-restriction.kubernetes.io/team", "x")], vec![]),
            None,
        )
        .unwrap_err();
        assert!(err.message.ends_with("node \"a\" is not allowed to set the following labels: node-restriction.kubernetes.io/team"), "{}", err.message);
        let old = node(
            "a",
            &[("example.node-restriction.kubernetes.io/z", "1")],
            vec![],
        );
        let removed = node("a", &[], vec![]);
        assert!(
            admit(&u, Operation::Update, "", &removed, Some(&old))
                .unwrap_err()
                .message
                .contains(
                    "is not allowed to modify labels: example.node-restriction.kubernetes.io/z"
                )
        );
        let relabelled = node(
            "a",
            &[
                ("example.node-restriction.kubernetes.io/z", "1"),
                ("mine", "ok"),
            ],
            vec![],
        );
        admit(&u, Operation::Update, "", &relabelled, Some(&old)).unwrap();
        let tainted = node(
            "a",
            &[("example.node-restriction.kubernetes.io/z", "1")],
            vec![Taint {
                key: "k".into(),
                effect: "NoSchedule".into(),
                ..Default::default()
            }],
        );
        assert!(
            admit(&u, Operation::Update, "", &tainted, Some(&old))
                .unwrap_err()
                .message
                .ends_with("node \"a\" is not allowed to modify taints")
        );
        let mut cidr = old.clone();
        if let Some(K::Node(n)) = &mut cidr.kind {
            n.spec.get_or_insert_with(Default::default).pod_cidr = "10.0.0.0/24".into();
        }
        assert!(admit(&u, Operation::Update, "", &cidr, Some(&old)).is_err());
    }

    #[test]
    fn a_node_deletes_only_local_path_volumes_pinned_to_itself() {
        use proto::k8s::{
            NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, PersistentVolume,
            PersistentVolumeSpec, VolumeNodeAffinity,
        };
        let volume = |on: &str, provisioner: &str| {
            let mut pv = PersistentVolume {
                spec: Some(PersistentVolumeSpec {
                    node_affinity: Some(VolumeNodeAffinity {
                        required: Some(NodeSelector {
                            node_selector_terms: vec![NodeSelectorTerm {
                                match_expressions: vec![NodeSelectorRequirement {
                                    key: proto::local_path::HOSTNAME_LABEL.into(),
                                    operator: "In".into(),
                                    values: vec![on.into()],
                                }],
                                ..Default::default()
                            }],
                        }),
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            };
            pv.meta_mut().name = "pvc-1".into();
            pv.meta_mut().annotations.insert(
                proto::local_path::ANN_PROVISIONED_BY.into(),
                provisioner.into(),
            );
            pv.into_object()
        };
        let u = kubelet();
        let local = proto::local_path::PROVISIONER;
        admit(&u, Operation::Delete, "", &volume("a", local), None).unwrap();
        let err = admit(&u, Operation::Delete, "", &volume("b", local), None).unwrap_err();
        assert!(
            err.message
                .contains("can only delete local-path volumes pinned to itself"),
            "{err:?}"
        );
        assert!(
            admit(
                &u,
                Operation::Delete,
                "",
                &volume("a", "example.com/nfs"),
                None
            )
            .is_err()
        );
    }

    #[test]
    fn pods_only_when_bound_to_the_node() {
        let u = kubelet();
        admit(&u, Operation::Update, "status", &pod("a"), Some(&pod("a"))).unwrap();
        assert_eq!(
            admit(&u, Operation::Update, "status", &pod("b"), Some(&pod("b")))
                .unwrap_err()
                .message,
            r#"pods "p" is forbidden: node "a" can only update pod status for pods with spec.nodeName set to itself"#
        );
        admit(&u, Operation::Delete, "", &pod("a"), None).unwrap();
        assert!(admit(&u, Operation::Delete, "", &pod("b"), None).is_err());
        assert!(
            admit(&u, Operation::Create, "", &pod("a"), None)
                .unwrap_err()
                .message
                .contains("can only create mirror pods")
        );
        assert!(admit(&u, Operation::Update, "", &pod("a"), Some(&pod("a"))).is_err());
    }

    #[test]
    fn only_its_own_lease() {
        let u = kubelet();
        let lease = |name: &str| {
            let mut l = Lease::default();
            l.meta_mut().name = name.into();
            l.meta_mut().namespace = "kube-node-lease".into();
            l.into_object()
        };
        admit(&u, Operation::Update, "", &lease("a"), None).unwrap();
        assert!(
            admit(&u, Operation::Create, "", &lease("b"), None)
                .unwrap_err()
                .message
                .contains("can only access node lease with the same name as the requesting node")
        );
    }
}
