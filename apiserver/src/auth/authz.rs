//! Authorization's shape (Kubernetes' `authorizer.Attributes` and `Decision`) and the
//! authorizer chain the `--authorization-mode` flag builds.

use std::sync::Arc;

use super::user::{User, names};
use crate::registry::Registry;
use crate::store::Store;

/// What a request asks to do. Resource requests name a resource (plural) and optionally a
/// subresource, namespace and name; non-resource requests (health, version) name a path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attributes {
    /// get, list, watch, create, update, patch, delete, deletecollection; for subresources
    /// as Kubernetes maps them (exec is `create pods/exec`, logs `get pods/log`).
    pub verb: String,
    /// The API group ("" for core).
    pub api_group: String,
    pub resource: String,
    pub subresource: String,
    pub namespace: String,
    pub name: String,
    /// Set for non-resource requests (`/healthz`, `/version`); `resource` is then empty.
    pub path: String,
}

impl Attributes {
    pub fn resource(
        verb: &str,
        api_group: &str,
        resource: &str,
        namespace: &str,
        name: &str,
    ) -> Self {
        Attributes {
            verb: verb.to_string(),
            api_group: api_group.to_string(),
            resource: resource.to_string(),
            namespace: namespace.to_string(),
            name: name.to_string(),
            ..Attributes::default()
        }
    }

    pub fn with_subresource(mut self, subresource: &str) -> Self {
        self.subresource = subresource.to_string();
        self
    }

    pub fn is_resource_request(&self) -> bool {
        self.path.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// Refused outright: later authorizers are not asked.
    Deny(String),
    /// This authorizer has nothing to say; the next one decides. The last one's NoOpinion
    /// is a refusal.
    NoOpinion(String),
}

#[tonic::async_trait]
pub trait Authorizer: Send + Sync + 'static {
    async fn authorize(&self, user: &User, attributes: &Attributes) -> Decision;
}

/// `--authorization-mode AlwaysAllow`: every authenticated request passes (development and
/// the in-process servers unit tests use).
pub struct AlwaysAllow;

#[tonic::async_trait]
impl Authorizer for AlwaysAllow {
    async fn authorize(&self, _: &User, _: &Attributes) -> Decision {
        Decision::Allow
    }
}

/// Asks each authorizer in turn; the first Allow or Deny decides.
pub struct Chain(pub Vec<Arc<dyn Authorizer>>);

#[tonic::async_trait]
impl Authorizer for Chain {
    async fn authorize(&self, user: &User, attributes: &Attributes) -> Decision {
        let mut reasons = Vec::new();
        for a in &self.0 {
            match a.authorize(user, attributes).await {
                Decision::NoOpinion(r) => {
                    if !r.is_empty() {
                        reasons.push(r)
                    }
                }
                decided => return decided,
            }
        }
        Decision::NoOpinion(reasons.join("; "))
    }
}

/// `--authorization-mode AlwaysDeny`: nothing passes (Kubernetes answers NoOpinion with
/// this reason, so a later mode may still allow).
pub struct AlwaysDeny;

#[tonic::async_trait]
impl Authorizer for AlwaysDeny {
    async fn authorize(&self, _: &User, _: &Attributes) -> Decision {
        Decision::NoOpinion("Everything is forbidden.".to_string())
    }
}

/// Members of these groups may do anything, before any mode is asked (Kubernetes'
/// `system:masters`, whose members no RBAC change can lock out).
pub struct PrivilegedGroups(pub Vec<String>);

#[tonic::async_trait]
impl Authorizer for PrivilegedGroups {
    async fn authorize(&self, user: &User, _: &Attributes) -> Decision {
        if self.0.iter().any(|g| user.in_group(g)) {
            Decision::Allow
        } else {
            Decision::NoOpinion(String::new())
        }
    }
}

/// The authorizer `--authorization-mode` describes (modes asked in the order given:
/// `AlwaysAllow`, `AlwaysDeny`, `Node`, `RBAC`), behind the privileged group. Building
/// `RBAC` reconciles the bootstrap policy and primes its cache from the store before it
/// returns, so the first request is already decided on every stored binding.
pub async fn build<S: Store>(
    modes: &[String],
    registry: &Registry<S>,
    shutdown: tokio::sync::watch::Receiver<bool>,
) -> Result<Arc<dyn Authorizer>, String> {
    let mut chain: Vec<Arc<dyn Authorizer>> = vec![Arc::new(PrivilegedGroups(vec![
        names::SYSTEM_MASTERS.to_string(),
    ]))];
    let mut rbac = None;
    let mut seen = Vec::new();
    for mode in modes.iter().flat_map(|m| m.split(',')).map(str::trim) {
        if mode.is_empty() {
            continue;
        }
        if seen.contains(&mode) {
            return Err(format!("--authorization-mode: {mode:?} is given twice"));
        }
        seen.push(mode);
        match mode {
            "AlwaysAllow" => chain.push(Arc::new(AlwaysAllow)),
            "AlwaysDeny" => chain.push(Arc::new(AlwaysDeny)),
            "Node" => chain.push(Arc::new(crate::auth::node::NodeAuthorizer::new(
                registry.clone(),
            ))),
            "RBAC" => {
                crate::auth::rbac::bootstrap::reconcile(registry)
                    .await
                    .map_err(|e| format!("cannot reconcile the bootstrap RBAC policy: {e}"))?;
                let cache = crate::auth::rbac::cache::RbacCache::start(registry, shutdown.clone())
                    .await
                    .map_err(|e| format!("cannot read the RBAC policy: {e}"))?;
                chain.push(Arc::new(crate::auth::rbac::RbacAuthorizer::new(
                    cache.clone(),
                )));
                rbac = Some(cache);
            }
            other => {
                return Err(format!(
                    "--authorization-mode: unknown mode {other:?}: use AlwaysAllow, AlwaysDeny, Node or RBAC"
                ));
            }
        }
    }
    if seen.is_empty() {
        return Err("--authorization-mode: at least one mode is required".to_string());
    }
    let authorizer: Arc<dyn Authorizer> = Arc::new(Chain(chain));
    // Admission's RBAC escalation check asks the same authorizer (`escalate`, `bind`) and,
    // with RBAC on, the caller's own rules.
    registry.set_authorization(authorizer.clone(), rbac);
    Ok(authorizer)
}

/// Kubernetes' Forbidden message for a refused request: `<resource>[.<group>] ["<name>"] is
/// forbidden: User "<u>" cannot <verb> resource "<res>[/<sub>]" in API group "<g>" in the
/// namespace "<ns>"` (or `at the cluster scope`), then `: <reason>` when there is one.
pub fn forbidden_message(user: &User, attrs: &Attributes, reason: &str) -> String {
    let what = if !attrs.is_resource_request() {
        format!(
            "User {:?} cannot {} path {:?}",
            user.name, attrs.verb, attrs.path
        )
    } else {
        let mut resource = attrs.resource.clone();
        if !attrs.subresource.is_empty() {
            resource = format!("{resource}/{}", attrs.subresource);
        }
        let scope = if attrs.namespace.is_empty() {
            "at the cluster scope".to_string()
        } else {
            format!("in the namespace {:?}", attrs.namespace)
        };
        format!(
            "User {:?} cannot {} resource {:?} in API group {:?} {scope}",
            user.name, attrs.verb, resource, attrs.api_group
        )
    };
    let detail = if reason.is_empty() {
        what
    } else {
        format!("{what}: {reason}")
    };
    let qualified = if !attrs.is_resource_request() {
        String::new()
    } else if attrs.api_group.is_empty() {
        attrs.resource.clone()
    } else {
        format!("{}.{}", attrs.resource, attrs.api_group)
    };
    match (qualified.is_empty(), attrs.name.is_empty()) {
        (true, _) => format!("forbidden: {detail}"),
        (false, true) => format!("{qualified} is forbidden: {detail}"),
        (false, false) => format!("{qualified} {:?} is forbidden: {detail}", attrs.name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forbidden_messages_read_as_kubernetes_writes_them() {
        let u = User::new("x", &[]);
        let list = Attributes::resource("list", "", "pods", "default", "");
        assert_eq!(
            forbidden_message(&u, &list, ""),
            r#"pods is forbidden: User "x" cannot list resource "pods" in API group "" in the namespace "default""#
        );
        let get = Attributes::resource("get", "", "secrets", "ns", "s");
        assert_eq!(
            forbidden_message(&u, &get, "no relationship found"),
            r#"secrets "s" is forbidden: User "x" cannot get resource "secrets" in API group "" in the namespace "ns": no relationship found"#
        );
        let cluster = Attributes::resource(
            "create",
            "rbac.authorization.k8s.io",
            "clusterroles",
            "",
            "",
        );
        assert_eq!(
            forbidden_message(&u, &cluster, ""),
            r#"clusterroles.rbac.authorization.k8s.io is forbidden: User "x" cannot create resource "clusterroles" in API group "rbac.authorization.k8s.io" at the cluster scope"#
        );
        let exec = Attributes::resource("create", "", "pods", "d", "p").with_subresource("exec");
        assert!(forbidden_message(&u, &exec, "").contains(r#"cannot create resource "pods/exec""#));
    }

    struct Fixed(Decision);

    #[tonic::async_trait]
    impl Authorizer for Fixed {
        async fn authorize(&self, _: &User, _: &Attributes) -> Decision {
            self.0.clone()
        }
    }

    #[tokio::test]
    async fn the_chain_stops_at_the_first_decision_and_keeps_the_reasons() {
        let attrs = Attributes::resource("get", "", "pods", "d", "p");
        let u = User::new("x", &[]);
        let chain = Chain(vec![
            Arc::new(Fixed(Decision::NoOpinion("a".into()))),
            Arc::new(Fixed(Decision::Deny("no".into()))),
            Arc::new(AlwaysAllow),
        ]);
        assert_eq!(
            chain.authorize(&u, &attrs).await,
            Decision::Deny("no".into())
        );
        let undecided = Chain(vec![
            Arc::new(Fixed(Decision::NoOpinion("a".into()))),
            Arc::new(AlwaysDeny),
        ]);
        assert_eq!(
            undecided.authorize(&u, &attrs).await,
            Decision::NoOpinion("a; Everything is forbidden.".into())
        );
        let masters = PrivilegedGroups(vec![names::SYSTEM_MASTERS.into()]);
        assert_eq!(
            masters.authorize(&User::internal(), &attrs).await,
            Decision::Allow
        );
        assert!(matches!(
            masters.authorize(&u, &attrs).await,
            Decision::NoOpinion(_)
        ));
    }
}
