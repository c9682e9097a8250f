//! The kind registry: for every kind its API group, version, plural, short names and scope,
//! the `Resource` trait typed code builds on, and the generic accessors the apiserver uses on
//! the `Object` oneof. One table (`kinds!` below) is the only place a kind is listed.

use crate::k8s::{self, Object, ObjectMeta, object::Kind as K};
use serde::{Serialize, de::DeserializeOwned};
use std::sync::OnceLock;

/// What the API knows about a kind, independent of its fields.
#[derive(Debug, PartialEq, Eq)]
pub struct KindInfo {
    pub kind: &'static str,
    /// "" for the core group.
    pub group: &'static str,
    pub version: &'static str,
    /// `group/version`, or `version` for the core group: the manifest's `apiVersion`.
    pub api_version: &'static str,
    pub plural: &'static str,
    pub singular: &'static str,
    pub short_names: &'static [&'static str],
    pub namespaced: bool,
    /// Has a `status` written only through the status subresource.
    pub has_status: bool,
    /// Serves the scale subresource (`spec.replicas`).
    pub has_scale: bool,
    /// Discovery categories (`kubectl get all` lists the kinds in `all`).
    pub categories: &'static [&'static str],
}

impl KindInfo {
    /// `deployment.apps`, as kubectl names a kind in its messages.
    pub fn qualified_singular(&self) -> String {
        if self.group.is_empty() {
            self.singular.to_string()
        } else {
            format!("{}.{}", self.singular, self.group)
        }
    }

    /// Matches what a user may type for a kind: plural, singular, short name or Kind,
    /// case-insensitively, optionally qualified by group (`deployments.apps`).
    pub fn matches_name(&self, name: &str) -> bool {
        let lower = name.to_ascii_lowercase();
        let (base, group) = match lower.split_once('.') {
            Some((b, g)) => (b.to_string(), Some(g.to_string())),
            None => (lower, None),
        };
        if let Some(g) = group
            && g != self.group
        {
            return false;
        }
        base == self.plural
            || base == self.singular
            || base == self.kind.to_ascii_lowercase()
            || self.short_names.contains(&base.as_str())
    }
}

/// A typed kind: what `client::Api<K>` and the controllers are generic over.
pub trait Resource:
    prost::Message + Default + Clone + PartialEq + Serialize + DeserializeOwned + Send + Sync + 'static
{
    const INFO: &'static KindInfo;
    fn meta(&self) -> &ObjectMeta;
    fn meta_mut(&mut self) -> &mut ObjectMeta;
    fn into_object(self) -> Object;
    /// Gives the object back unchanged when it is of another kind.
    // Handing the object back is the point; boxing it would cost every successful call.
    #[allow(clippy::result_large_err)]
    fn try_from_object(object: Object) -> Result<Self, Object>;
}

fn empty_meta() -> &'static ObjectMeta {
    static EMPTY: OnceLock<ObjectMeta> = OnceLock::new();
    EMPTY.get_or_init(ObjectMeta::default)
}

macro_rules! if_status {
    (yes, $($body:tt)*) => { $($body)* };
    (no, $($body:tt)*) => {};
}

macro_rules! kinds {
    ($(
        $variant:ident {
            group: $group:literal, version: $version:literal, api_version: $api_version:literal,
            plural: $plural:literal, singular: $singular:literal, short: [$($short:literal),*],
            namespaced: $namespaced:literal, status: $status:ident, scale: $scale:literal,
            categories: [$($category:literal),*]
        }
    )*) => {
        pub mod info {
            use super::KindInfo;
            $(
                #[allow(non_upper_case_globals)]
                pub static $variant: KindInfo = KindInfo {
                    kind: stringify!($variant),
                    group: $group,
                    version: $version,
                    api_version: $api_version,
                    plural: $plural,
                    singular: $singular,
                    short_names: &[$($short),*],
                    namespaced: $namespaced,
                    has_status: matches!(stringify!($status).as_bytes(), b"yes"),
                    has_scale: $scale,
                    categories: &[$($category),*],
                };
            )*
        }

        /// Every kind the API serves, in a stable order.
        pub static ALL_KINDS: &[&KindInfo] = &[$(&info::$variant),*];

        $(
            impl Resource for k8s::$variant {
                const INFO: &'static KindInfo = &info::$variant;
                fn meta(&self) -> &ObjectMeta {
                    self.metadata.as_ref().unwrap_or_else(|| empty_meta())
                }
                fn meta_mut(&mut self) -> &mut ObjectMeta {
                    self.metadata.get_or_insert_with(ObjectMeta::default)
                }
                fn into_object(self) -> Object {
                    Object { kind: Some(K::$variant(self)) }
                }
                fn try_from_object(object: Object) -> Result<Self, Object> {
                    match object.kind {
                        Some(K::$variant(x)) => Ok(x),
                        other => Err(Object { kind: other }),
                    }
                }
            }
        )*

        impl Object {
            pub fn info(&self) -> Option<&'static KindInfo> {
                match &self.kind {
                    $(Some(K::$variant(_)) => Some(&info::$variant),)*
                    None => None,
                }
            }

            pub fn meta(&self) -> &ObjectMeta {
                match &self.kind {
                    $(Some(K::$variant(x)) => x.meta(),)*
                    None => empty_meta(),
                }
            }

            /// Panics on an empty oneof; callers check `info()` first (the apiserver
            /// refuses an empty object before it reaches any handler).
            pub fn meta_mut(&mut self) -> &mut ObjectMeta {
                match &mut self.kind {
                    $(Some(K::$variant(x)) => x.meta_mut(),)*
                    None => panic!("meta_mut on an empty Object"),
                }
            }

            /// Sets `apiVersion` and `kind` to the registry's values, as a response carries them.
            pub fn set_type_meta(&mut self) {
                match &mut self.kind {
                    $(Some(K::$variant(x)) => {
                        x.api_version = $api_version.to_string();
                        x.kind = stringify!($variant).to_string();
                    })*
                    None => {}
                }
            }

            /// The object without metadata, type meta and status: what `generation` tracks.
            pub fn spec_part(&self) -> Object {
                let mut out = self.clone();
                match &mut out.kind {
                    $(Some(K::$variant(x)) => {
                        x.metadata = None;
                        x.api_version.clear();
                        x.kind.clear();
                        if_status!($status, x.status = None;);
                    })*
                    None => {}
                }
                out
            }

            /// Copies `status` from `other` (same kind); no-op for kinds without status.
            pub fn copy_status_from(&mut self, other: &Object) {
                #[allow(unused_variables)]
                match (&mut self.kind, &other.kind) {
                    $((Some(K::$variant(x)), Some(K::$variant(y))) => {
                        if_status!($status, x.status = y.status.clone(););
                    })*
                    _ => {}
                }
            }

            /// Serializes the inner kind as a Kubernetes-style JSON document.
            pub fn to_json(&self) -> serde_json::Value {
                // The type meta goes into the document rather than into a clone of the
                // object: lists and watches render every object through here.
                let v = match &self.kind {
                    $(Some(K::$variant(x)) => serde_json::to_value(x),)*
                    None => Ok(serde_json::Value::Null),
                };
                let mut v = v.unwrap_or(serde_json::Value::Null);
                if let (Some(info), serde_json::Value::Object(map)) = (self.info(), &mut v) {
                    map.insert("apiVersion".into(), info.api_version.into());
                    map.insert("kind".into(), info.kind.into());
                }
                v
            }

            /// Parses a JSON document into the kind `info` names, reporting the path of a
            /// field that is unknown or of the wrong type.
            pub fn from_json_as(
                info: &'static KindInfo,
                value: serde_json::Value,
            ) -> Result<Object, serde_path_to_error::Error<serde_json::Error>> {
                $(
                    if std::ptr::eq(info, &info::$variant) {
                        let x: k8s::$variant = serde_path_to_error::deserialize(value)?;
                        return Ok(x.into_object());
                    }
                )*
                unreachable!("every KindInfo is one of ALL_KINDS")
            }
        }
    };
}

kinds! {
    Namespace { group: "", version: "v1", api_version: "v1", plural: "namespaces", singular: "namespace", short: ["ns"], namespaced: false, status: yes, scale: false, categories: [] }
    Node { group: "", version: "v1", api_version: "v1", plural: "nodes", singular: "node", short: ["no"], namespaced: false, status: yes, scale: false, categories: [] }
    Pod { group: "", version: "v1", api_version: "v1", plural: "pods", singular: "pod", short: ["po"], namespaced: true, status: yes, scale: false, categories: ["all"] }
    Service { group: "", version: "v1", api_version: "v1", plural: "services", singular: "service", short: ["svc"], namespaced: true, status: yes, scale: false, categories: ["all"] }
    Endpoints { group: "", version: "v1", api_version: "v1", plural: "endpoints", singular: "endpoints", short: ["ep"], namespaced: true, status: no, scale: false, categories: [] }
    ConfigMap { group: "", version: "v1", api_version: "v1", plural: "configmaps", singular: "configmap", short: ["cm"], namespaced: true, status: no, scale: false, categories: [] }
    Secret { group: "", version: "v1", api_version: "v1", plural: "secrets", singular: "secret", short: [], namespaced: true, status: no, scale: false, categories: [] }
    ServiceAccount { group: "", version: "v1", api_version: "v1", plural: "serviceaccounts", singular: "serviceaccount", short: ["sa"], namespaced: true, status: no, scale: false, categories: [] }
    Event { group: "", version: "v1", api_version: "v1", plural: "events", singular: "event", short: ["ev"], namespaced: true, status: no, scale: false, categories: [] }
    Lease { group: "coordination.k8s.io", version: "v1", api_version: "coordination.k8s.io/v1", plural: "leases", singular: "lease", short: [], namespaced: true, status: no, scale: false, categories: [] }
    ReplicaSet { group: "apps", version: "v1", api_version: "apps/v1", plural: "replicasets", singular: "replicaset", short: ["rs"], namespaced: true, status: yes, scale: true, categories: ["all"] }
    Deployment { group: "apps", version: "v1", api_version: "apps/v1", plural: "deployments", singular: "deployment", short: ["deploy"], namespaced: true, status: yes, scale: true, categories: ["all"] }
    DaemonSet { group: "apps", version: "v1", api_version: "apps/v1", plural: "daemonsets", singular: "daemonset", short: ["ds"], namespaced: true, status: yes, scale: false, categories: ["all"] }
    StatefulSet { group: "apps", version: "v1", api_version: "apps/v1", plural: "statefulsets", singular: "statefulset", short: ["sts"], namespaced: true, status: yes, scale: true, categories: ["all"] }
    Job { group: "batch", version: "v1", api_version: "batch/v1", plural: "jobs", singular: "job", short: [], namespaced: true, status: yes, scale: false, categories: ["all"] }
    CronJob { group: "batch", version: "v1", api_version: "batch/v1", plural: "cronjobs", singular: "cronjob", short: ["cj"], namespaced: true, status: yes, scale: false, categories: ["all"] }
    HorizontalPodAutoscaler { group: "autoscaling", version: "v2", api_version: "autoscaling/v2", plural: "horizontalpodautoscalers", singular: "horizontalpodautoscaler", short: ["hpa"], namespaced: true, status: yes, scale: false, categories: ["all"] }
    ResourceQuota { group: "", version: "v1", api_version: "v1", plural: "resourcequotas", singular: "resourcequota", short: ["quota"], namespaced: true, status: yes, scale: false, categories: [] }
    LimitRange { group: "", version: "v1", api_version: "v1", plural: "limitranges", singular: "limitrange", short: ["limits"], namespaced: true, status: no, scale: false, categories: [] }
    PersistentVolume { group: "", version: "v1", api_version: "v1", plural: "persistentvolumes", singular: "persistentvolume", short: ["pv"], namespaced: false, status: yes, scale: false, categories: [] }
    PersistentVolumeClaim { group: "", version: "v1", api_version: "v1", plural: "persistentvolumeclaims", singular: "persistentvolumeclaim", short: ["pvc"], namespaced: true, status: yes, scale: false, categories: [] }
    Ingress { group: "networking.k8s.io", version: "v1", api_version: "networking.k8s.io/v1", plural: "ingresses", singular: "ingress", short: ["ing"], namespaced: true, status: yes, scale: false, categories: [] }
    Role { group: "rbac.authorization.k8s.io", version: "v1", api_version: "rbac.authorization.k8s.io/v1", plural: "roles", singular: "role", short: [], namespaced: true, status: no, scale: false, categories: [] }
    ClusterRole { group: "rbac.authorization.k8s.io", version: "v1", api_version: "rbac.authorization.k8s.io/v1", plural: "clusterroles", singular: "clusterrole", short: [], namespaced: false, status: no, scale: false, categories: [] }
    RoleBinding { group: "rbac.authorization.k8s.io", version: "v1", api_version: "rbac.authorization.k8s.io/v1", plural: "rolebindings", singular: "rolebinding", short: [], namespaced: true, status: no, scale: false, categories: [] }
    ClusterRoleBinding { group: "rbac.authorization.k8s.io", version: "v1", api_version: "rbac.authorization.k8s.io/v1", plural: "clusterrolebindings", singular: "clusterrolebinding", short: [], namespaced: false, status: no, scale: false, categories: [] }
    CertificateSigningRequest { group: "certificates.k8s.io", version: "v1", api_version: "certificates.k8s.io/v1", plural: "certificatesigningrequests", singular: "certificatesigningrequest", short: ["csr"], namespaced: false, status: yes, scale: false, categories: [] }
    ControllerRevision { group: "apps", version: "v1", api_version: "apps/v1", plural: "controllerrevisions", singular: "controllerrevision", short: [], namespaced: true, status: no, scale: false, categories: [] }
    StorageClass { group: "storage.k8s.io", version: "v1", api_version: "storage.k8s.io/v1", plural: "storageclasses", singular: "storageclass", short: ["sc"], namespaced: false, status: no, scale: false, categories: [] }
    PodDisruptionBudget { group: "policy", version: "v1", api_version: "policy/v1", plural: "poddisruptionbudgets", singular: "poddisruptionbudget", short: ["pdb"], namespaced: true, status: yes, scale: false, categories: [] }
}

/// The kind a user named (`po`, `deployments.apps`, `Service`), if any.
pub fn find_kind(name: &str) -> Option<&'static KindInfo> {
    ALL_KINDS.iter().copied().find(|k| k.matches_name(name))
}

/// The kind served under this plural resource name.
pub fn kind_by_plural(plural: &str) -> Option<&'static KindInfo> {
    ALL_KINDS.iter().copied().find(|k| k.plural == plural)
}

/// The kind a manifest's `apiVersion` and `kind` name.
pub fn kind_by_type(api_version: &str, kind: &str) -> Option<&'static KindInfo> {
    ALL_KINDS
        .iter()
        .copied()
        .find(|k| k.api_version == api_version && k.kind == kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_names_resolve() {
        assert_eq!(find_kind("po").map(|k| k.kind), Some("Pod"));
        assert_eq!(
            find_kind("deployments.apps").map(|k| k.kind),
            Some("Deployment")
        );
        assert_eq!(find_kind("Deployment").map(|k| k.kind), Some("Deployment"));
        assert!(find_kind("deployments.batch").is_none());
        assert_eq!(
            kind_by_type("apps/v1", "ReplicaSet").map(|k| k.plural),
            Some("replicasets")
        );
        assert!(kind_by_type("v1", "Deployment").is_none());
        assert_eq!(ALL_KINDS.len(), 30);
        assert_eq!(info::Deployment.qualified_singular(), "deployment.apps");
        assert!(info::Pod.has_status && !info::ConfigMap.has_status);
        assert_eq!(info::Deployment.categories, ["all"]);
        assert!(info::ConfigMap.categories.is_empty());
    }

    #[test]
    fn spec_part_ignores_metadata_and_status() {
        let mut a = k8s::Pod::default();
        a.meta_mut().name = "a".into();
        a.spec = Some(k8s::PodSpec {
            node_name: "n1".into(),
            ..Default::default()
        });
        let mut b = a.clone();
        b.meta_mut().labels.insert("x".into(), "y".into());
        b.status = Some(k8s::PodStatus {
            phase: "Running".into(),
            ..Default::default()
        });
        let (a, mut b) = (a.into_object(), b.into_object());
        assert_eq!(a.spec_part(), b.spec_part());
        if let Some(K::Pod(p)) = &mut b.kind {
            p.spec.as_mut().unwrap().node_name = "n2".into();
        }
        assert_ne!(a.spec_part(), b.spec_part());
    }
}
