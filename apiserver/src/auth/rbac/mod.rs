//! Role-based access control (`--authorization-mode RBAC`): Roles and ClusterRoles say what
//! may be done, RoleBindings and ClusterRoleBindings say who may do it. `rules` matches one
//! request against one rule, `policy` resolves what a user holds, `cache` keeps the objects
//! in memory, `covers` is the escalation comparator, `bootstrap` the default policy.

pub mod bootstrap;
pub mod cache;
pub mod covers;
pub mod policy;
pub mod rules;

use std::sync::Arc;

use crate::auth::{Attributes, Authorizer, Decision, User};
use cache::RbacCache;

pub struct RbacAuthorizer {
    cache: Arc<RbacCache>,
}

impl RbacAuthorizer {
    pub fn new(cache: Arc<RbacCache>) -> Self {
        RbacAuthorizer { cache }
    }
}

#[tonic::async_trait]
impl Authorizer for RbacAuthorizer {
    async fn authorize(&self, user: &User, attributes: &Attributes) -> Decision {
        if self.cache.read(|p| p.allows(user, attributes)) {
            return Decision::Allow;
        }
        // The binding that allows this may have been written a moment ago.
        self.cache.sync().await;
        if self.cache.read(|p| p.allows(user, attributes)) {
            Decision::Allow
        } else {
            Decision::NoOpinion(String::new())
        }
    }
}
