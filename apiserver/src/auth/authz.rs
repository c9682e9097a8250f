//! Authorization's shape (Kubernetes' `authorizer.Attributes` and `Decision`) and the
//! authorizer chain the `--authorization-mode` flag builds.

use std::sync::Arc;

use super::user::User;

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
