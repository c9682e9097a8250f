//! Bootstrap tokens (Kubernetes' bootstrap authenticator, what `kubelet --bootstrap-token`
//! presents to join): `<id>.<secret>` checked against the Secret
//! `kube-system/bootstrap-token-<id>`; the user is `system:bootstrap:<id>`.

use std::time::SystemTime;

use proto::bootstrap_token;
use proto::k8s::Secret;

use super::AuthnError;
use super::objects::{Objects, get_typed};
use crate::auth::User;

/// `None` when `token` is not shaped like a bootstrap token (another authenticator's).
pub async fn authenticate(
    token: &str,
    objects: &dyn Objects,
    now: SystemTime,
) -> Option<Result<User, AuthnError>> {
    let parsed = bootstrap_token::parse(token).ok()?;
    Some(check(&parsed, objects, now).await)
}

async fn check(
    token: &bootstrap_token::BootstrapToken,
    objects: &dyn Objects,
    now: SystemTime,
) -> Result<User, AuthnError> {
    let name = bootstrap_token::secret_name(&token.id);
    let secret = get_typed::<Secret>(objects, bootstrap_token::NAMESPACE, &name)
        .await
        .map_err(|e| AuthnError::Lookup(e.message))?
        // Which ids exist is not told to a caller who does not know one.
        .ok_or_else(|| AuthnError::Token("bootstrap token is not known".into()))?;
    let groups = bootstrap_token::check(&secret, token, now).map_err(AuthnError::Token)?;
    Ok(User {
        name: token.user_name(),
        groups,
        ..User::default()
    })
}
