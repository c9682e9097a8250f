//! The marks of a local-path volume (k3s' `rancher.io/local-path` provisioner): read by the
//! controller-manager that makes such volumes, the kubelet that reclaims them on their
//! node, and the apiserver's NodeRestriction, which lets a node delete only its own.

use crate::Resource;
use crate::k8s::PersistentVolume;

pub const PROVISIONER: &str = "rancher.io/local-path";
pub const ANN_PROVISIONED_BY: &str = "pv.kubernetes.io/provisioned-by";
pub const HOSTNAME_LABEL: &str = "kubernetes.io/hostname";

/// Made by the local-path provisioner.
pub fn is_local_path(pv: &PersistentVolume) -> bool {
    pv.meta()
        .annotations
        .get(ANN_PROVISIONED_BY)
        .is_some_and(|p| p == PROVISIONER)
}

/// The node a volume's required node affinity names by hostname: the provisioner's one
/// term with one `kubernetes.io/hostname In [node]` expression, nothing else.
pub fn volume_node(pv: &PersistentVolume) -> Option<&str> {
    let terms = &pv
        .spec
        .as_ref()?
        .node_affinity
        .as_ref()?
        .required
        .as_ref()?
        .node_selector_terms;
    match terms.as_slice() {
        [t] => match t.match_expressions.as_slice() {
            [r] if r.key == HOSTNAME_LABEL && r.operator == "In" && r.values.len() == 1 => {
                Some(r.values[0].as_str())
            }
            _ => None,
        },
        _ => None,
    }
}
