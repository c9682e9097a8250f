//! `--authorization-mode Node` (Kubernetes' node authorizer): a kubelet (user
//! `system:node:<name>` in `system:nodes`) may read the Secrets, ConfigMaps,
//! PersistentVolumeClaims and PersistentVolumes, and request tokens for the
//! ServiceAccounts, that pods bound to its node use; everything else it may do is the fixed
//! `NodeRules` list. Which objects belong to which node is looked up in the store at
//! request time (the pods with `spec.nodeName=<node>`), so a pod just stored counts at once.
//! NodeRestriction admission then limits the writes to the node's own objects.

pub mod graph;

use proto::k8s::{ListRequest, object::Kind as K};
use tracing::debug;

use crate::auth::rbac::bootstrap::node_rules;
use crate::auth::rbac::rules::rules_allow;
use crate::auth::user::names;
use crate::auth::{Attributes, Authorizer, Decision, User};
use crate::registry::Registry;
use crate::store::Store;
use graph::{References, references};

pub const NODE_LEASE_NAMESPACE: &str = "kube-node-lease";

/// What the request needs to be allowed for a node. Pure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    Allow,
    Refuse(&'static str),
    /// Some pod bound to the node must reference the object.
    Secret,
    ConfigMap,
    Claim,
    Volume,
    ServiceAccount,
    /// Not a graph resource: the node rules decide.
    Rules,
}

pub fn classify(attrs: &Attributes) -> Check {
    if !attrs.is_resource_request()
        || !attrs.api_group.is_empty() && attrs.api_group != "coordination.k8s.io"
    {
        return Check::Rules;
    }
    let read_namespaced = |check: Check| {
        if !matches!(attrs.verb.as_str(), "get" | "list" | "watch") {
            Check::Refuse("can only read resources of this type")
        } else if !attrs.subresource.is_empty() {
            Check::Refuse("cannot read subresource")
        } else if attrs.namespace.is_empty() {
            Check::Refuse("can only read namespaced object of this type")
        } else {
            check
        }
    };
    let get_only = |check: Check| {
        if attrs.verb != "get" {
            Check::Refuse("can only get individual resources of this type")
        } else if !attrs.subresource.is_empty() {
            Check::Refuse("cannot get subresource")
        } else {
            check
        }
    };
    match (attrs.api_group.as_str(), attrs.resource.as_str()) {
        ("", "secrets") => read_namespaced(Check::Secret),
        ("", "configmaps") => read_namespaced(Check::ConfigMap),
        ("", "persistentvolumeclaims") if attrs.subresource == "status" => {
            if matches!(attrs.verb.as_str(), "update" | "patch") {
                Check::Claim
            } else {
                Check::Refuse("can only update or patch the status of a persistent volume claim")
            }
        }
        ("", "persistentvolumeclaims") => get_only(Check::Claim),
        ("", "persistentvolumes") => get_only(Check::Volume),
        ("", "serviceaccounts") => {
            if attrs.verb != "create" || attrs.name.is_empty() {
                Check::Refuse("can only create tokens for individual service accounts")
            } else if attrs.subresource != "token" {
                Check::Refuse("can only create token subresource of serviceaccount")
            } else {
                Check::ServiceAccount
            }
        }
        ("coordination.k8s.io", "leases") => {
            if !matches!(
                attrs.verb.as_str(),
                "get" | "create" | "update" | "patch" | "delete"
            ) {
                Check::Refuse("can only get, create, update, patch, or delete a node lease")
            } else if attrs.namespace != NODE_LEASE_NAMESPACE {
                Check::Refuse("can only access leases in the kube-node-lease namespace")
            } else {
                Check::Allow
            }
        }
        _ => Check::Rules,
    }
}

pub struct NodeAuthorizer<S> {
    registry: Registry<S>,
    rules: Vec<proto::k8s::PolicyRule>,
}

impl<S: Store> NodeAuthorizer<S> {
    pub fn new(registry: Registry<S>) -> Self {
        NodeAuthorizer {
            registry,
            rules: node_rules(),
        }
    }

    /// The references of every pod bound to `node` in `namespace` ("" for all namespaces),
    /// with each pod's namespace.
    async fn bound_pods(
        &self,
        node: &str,
        namespace: &str,
    ) -> Result<Vec<(String, References)>, String> {
        let list = self
            .registry
            .list(&ListRequest {
                resource: "pods".to_string(),
                namespace: namespace.to_string(),
                field_selector: format!("spec.nodeName={node}"),
                ..ListRequest::default()
            })
            .await
            .map_err(|e| e.message)?;
        Ok(list
            .items
            .into_iter()
            .filter_map(|o| match o.kind {
                Some(K::Pod(p)) => {
                    let ns = p
                        .metadata
                        .as_ref()
                        .map(|m| m.namespace.clone())
                        .unwrap_or_default();
                    Some((ns, references(&p)))
                }
                _ => None,
            })
            .collect())
    }

    async fn related(&self, node: &str, check: &Check, attrs: &Attributes) -> Result<bool, String> {
        let name = attrs.name.as_str();
        if check == &Check::Volume {
            // A volume is the node's when a claim one of its pods uses is bound to it.
            for (ns, refs) in self.bound_pods(node, "").await? {
                for claim in &refs.claims {
                    match self
                        .registry
                        .get("persistentvolumeclaims", &ns, claim)
                        .await
                    {
                        Ok(o) => {
                            if let Some(K::PersistentVolumeClaim(c)) = &o.kind
                                && c.spec.as_ref().is_some_and(|s| s.volume_name == name)
                            {
                                return Ok(true);
                            }
                        }
                        Err(e) if e.reason == proto::Reason::NotFound => {}
                        Err(e) => return Err(e.message),
                    }
                }
            }
            return Ok(false);
        }
        let pods = self.bound_pods(node, &attrs.namespace).await?;
        Ok(pods.iter().any(|(_, r)| match check {
            Check::Secret => r.secrets.contains(name),
            Check::ConfigMap => r.config_maps.contains(name),
            Check::Claim => r.claims.contains(name),
            Check::ServiceAccount => r.service_account == name,
            _ => false,
        }))
    }
}

#[tonic::async_trait]
impl<S: Store> Authorizer for NodeAuthorizer<S> {
    async fn authorize(&self, user: &User, attrs: &Attributes) -> Decision {
        let Some(node) = user.node_name() else {
            if user.in_group(names::SYSTEM_NODES) && user.name.starts_with(names::NODE_USER_PREFIX)
            {
                return Decision::NoOpinion(format!("unknown node for user {:?}", user.name));
            }
            return Decision::NoOpinion(String::new());
        };
        let check = classify(attrs);
        match check {
            Check::Allow => Decision::Allow,
            Check::Refuse(why) => Decision::NoOpinion(why.to_string()),
            Check::Rules => {
                if rules_allow(&self.rules, attrs) {
                    Decision::Allow
                } else {
                    Decision::NoOpinion(String::new())
                }
            }
            _ if attrs.name.is_empty() => Decision::NoOpinion("No Object name found".to_string()),
            _ => match self.related(node, &check, attrs).await {
                Ok(true) => Decision::Allow,
                Ok(false) => Decision::NoOpinion(format!(
                    "no relationship found between node '{node}' and this object"
                )),
                Err(e) => {
                    debug!(node, error = %e, "node authorizer cannot read the pods");
                    Decision::NoOpinion(format!("cannot read the pods of node '{node}': {e}"))
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(verb: &str, group: &str, resource: &str, sub: &str, ns: &str, name: &str) -> Attributes {
        Attributes::resource(verb, group, resource, ns, name).with_subresource(sub)
    }

    #[test]
    fn graph_resources_are_read_only_and_named() {
        assert_eq!(
            classify(&a("get", "", "secrets", "", "ns", "s")),
            Check::Secret
        );
        assert_eq!(
            classify(&a("watch", "", "configmaps", "", "ns", "c")),
            Check::ConfigMap
        );
        assert_eq!(
            classify(&a("delete", "", "secrets", "", "ns", "s")),
            Check::Refuse("can only read resources of this type")
        );
        assert_eq!(
            classify(&a("list", "", "secrets", "", "", "")),
            Check::Refuse("can only read namespaced object of this type")
        );
        assert_eq!(
            classify(&a("get", "", "persistentvolumes", "", "", "pv")),
            Check::Volume
        );
        assert_eq!(
            classify(&a("list", "", "persistentvolumeclaims", "", "ns", "")),
            Check::Refuse("can only get individual resources of this type")
        );
        assert_eq!(
            classify(&a("create", "", "serviceaccounts", "token", "ns", "sa")),
            Check::ServiceAccount
        );
        assert_eq!(
            classify(&a("get", "", "serviceaccounts", "", "ns", "sa")),
            Check::Refuse("can only create tokens for individual service accounts")
        );
    }

    #[test]
    fn leases_only_in_the_node_lease_namespace_and_the_rest_by_rules() {
        assert_eq!(
            classify(&a(
                "update",
                "coordination.k8s.io",
                "leases",
                "",
                "kube-node-lease",
                "n1"
            )),
            Check::Allow
        );
        assert_eq!(
            classify(&a(
                "update",
                "coordination.k8s.io",
                "leases",
                "",
                "kube-system",
                "x"
            )),
            Check::Refuse("can only access leases in the kube-node-lease namespace")
        );
        assert_eq!(classify(&a("list", "", "pods", "", "", "")), Check::Rules);
        let rules = node_rules();
        assert!(rules_allow(
            &rules,
            &a("patch", "", "pods", "status", "ns", "p")
        ));
        assert!(rules_allow(&rules, &a("create", "", "nodes", "", "", "n1")));
        assert!(!rules_allow(
            &rules,
            &a("create", "", "pods", "exec", "ns", "p")
        ));
        assert!(!rules_allow(
            &rules,
            &a("delete", "", "nodes", "", "", "n1")
        ));
        assert!(!rules_allow(&rules, &a("list", "", "secrets", "", "", "")));
    }
}
