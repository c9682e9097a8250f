//! Owner lookup (Kubernetes' `resolveControllerRef`): an object's controller reference is
//! trusted only when an object of that kind, name and uid is in the cache, so a reference to
//! a deleted owner that was recreated under the same name never counts.

use crate::store::Store;
use proto::Resource;
use proto::k8s::{ObjectMeta, OwnerReference};
use std::sync::Arc;

/// The owner reference with `controller: true`, if any.
pub fn controller_ref(meta: &ObjectMeta) -> Option<&OwnerReference> {
    meta.owner_references
        .iter()
        .find(|r| r.controller == Some(true))
}

/// The cached `O` that `meta`'s controller reference names (same namespace, kind, name
/// and uid), if any.
pub fn resolve_controller_ref<O: Resource>(store: &Store<O>, meta: &ObjectMeta) -> Option<Arc<O>> {
    let r = controller_ref(meta)?;
    if r.kind != O::INFO.kind {
        return None;
    }
    let owner = if O::INFO.namespaced {
        store.get_in(&meta.namespace, &r.name)?
    } else {
        store.get(&r.name)?
    };
    (owner.meta().uid == r.uid).then_some(owner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::k8s::{Pod, ReplicaSet};

    fn rs(name: &str, uid: &str) -> Arc<ReplicaSet> {
        let mut r = ReplicaSet::default();
        let m = r.meta_mut();
        m.name = name.into();
        m.namespace = "d".into();
        m.uid = uid.into();
        Arc::new(r)
    }

    fn pod_of(kind: &str, name: &str, uid: &str, controller: bool) -> Pod {
        let mut p = Pod::default();
        let m = p.meta_mut();
        m.name = "p".into();
        m.namespace = "d".into();
        m.owner_references.push(OwnerReference {
            kind: kind.into(),
            name: name.into(),
            uid: uid.into(),
            controller: Some(controller),
            ..Default::default()
        });
        p
    }

    #[test]
    fn a_controller_ref_resolves_only_to_the_same_kind_name_and_uid() {
        let store = Store::new();
        store.upsert(rs("web", "u1"));
        let got = resolve_controller_ref(&store, pod_of("ReplicaSet", "web", "u1", true).meta());
        assert_eq!(got.map(|r| r.meta().uid.clone()).as_deref(), Some("u1"));
        for pod in [
            pod_of("ReplicaSet", "web", "old", true),
            pod_of("StatefulSet", "web", "u1", true),
            pod_of("ReplicaSet", "other", "u1", true),
            pod_of("ReplicaSet", "web", "u1", false),
        ] {
            assert!(resolve_controller_ref(&store, pod.meta()).is_none());
        }
    }
}
