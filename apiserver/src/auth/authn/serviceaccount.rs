//! ServiceAccount JWTs (Kubernetes' serviceaccount authenticator): the signature against
//! the `--service-account-key-file` keys, then for bound tokens issuer, audience and time,
//! and for both kinds that the objects the token names still exist with the same uid.

use std::time::{SystemTime, UNIX_EPOCH};

use proto::k8s::{Pod, Secret, ServiceAccount};
use proto::satoken::{self, BoundClaims, Claims, PublicKey, Token, TokenError};

use super::AuthnError;
use super::objects::{Objects, get_typed};
use crate::auth::User;
use crate::auth::user::names;

/// Extra keys Kubernetes sets on a user authenticated by a pod-bound token.
pub const EXTRA_POD_NAME: &str = "authentication.kubernetes.io/pod-name";
pub const EXTRA_POD_UID: &str = "authentication.kubernetes.io/pod-uid";

#[derive(Debug, Clone)]
pub struct ServiceAccountTokens {
    pub keys: Vec<PublicKey>,
    /// Accepted `iss` of bound tokens (`--service-account-issuer`).
    pub issuers: Vec<String>,
    /// Accepted audiences (`--api-audiences`).
    pub audiences: Vec<String>,
}

/// Whether `token` has the shape of a JWT (three base64url parts), so that this
/// authenticator, not another one, answers for it.
pub fn looks_like_jwt(token: &str) -> bool {
    let parts: Vec<&str> = token.split('.').collect();
    parts.len() == 3 && parts[..2].iter().all(|p| !p.is_empty())
}

fn unix(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn invalid(cause: impl std::fmt::Display) -> AuthnError {
    AuthnError::Token(cause.to_string())
}

fn token_error(e: TokenError) -> AuthnError {
    invalid(e)
}

fn lookup(e: proto::ApiError) -> AuthnError {
    AuthnError::Lookup(e.message)
}

fn is_deleting(meta: Option<&proto::k8s::ObjectMeta>) -> bool {
    meta.is_some_and(|m| !m.deletion_timestamp.is_empty())
}

impl ServiceAccountTokens {
    /// The user `token` stands for at `now`, with `audiences` as the accepted audiences
    /// (the apiserver's own, or a TokenReview's).
    pub async fn authenticate(
        &self,
        token: &str,
        audiences: &[String],
        objects: &dyn Objects,
        now: SystemTime,
    ) -> Result<User, AuthnError> {
        match satoken::verify_any(token, &self.keys).map_err(token_error)? {
            Token::Bound(claims) => self.bound(&claims, audiences, objects, now).await,
            Token::Legacy(claims) => legacy(token, &claims, objects).await,
        }
    }

    async fn bound(
        &self,
        claims: &BoundClaims,
        audiences: &[String],
        objects: &dyn Objects,
        now: SystemTime,
    ) -> Result<User, AuthnError> {
        claims
            .validate(unix(now), &self.issuers, audiences)
            .map_err(token_error)?;
        let k = &claims.kubernetes;
        let ns = &k.namespace;
        service_account(objects, ns, &k.serviceaccount.name, &k.serviceaccount.uid).await?;
        if let Some(pod) = &k.pod {
            let p = get_typed::<Pod>(objects, ns, &pod.name)
                .await
                .map_err(lookup)?
                .ok_or_else(|| invalid(format!("pod {ns}/{} has been deleted", pod.name)))?;
            let uid = p.metadata.as_ref().map(|m| m.uid.as_str()).unwrap_or("");
            if uid != pod.uid {
                return Err(invalid(format!(
                    "pod UID ({uid}) does not match claim ({})",
                    pod.uid
                )));
            }
        }
        if let Some(secret) = &k.secret {
            let s = get_typed::<Secret>(objects, ns, &secret.name)
                .await
                .map_err(lookup)?
                .ok_or_else(|| invalid(format!("secret {ns}/{} has been deleted", secret.name)))?;
            let uid = s.metadata.as_ref().map(|m| m.uid.as_str()).unwrap_or("");
            if uid != secret.uid {
                return Err(invalid(format!(
                    "secret UID ({uid}) does not match claim ({})",
                    secret.uid
                )));
            }
        }
        let mut user = user(ns, &k.serviceaccount.name, &k.serviceaccount.uid);
        if let Some(pod) = &k.pod {
            user.extra
                .insert(EXTRA_POD_NAME.to_string(), vec![pod.name.clone()]);
            user.extra
                .insert(EXTRA_POD_UID.to_string(), vec![pod.uid.clone()]);
        }
        Ok(user)
    }
}

/// A legacy token is valid while its Secret still holds exactly this token and the
/// ServiceAccount still exists with the uid it names (Kubernetes' legacy validator).
async fn legacy(token: &str, claims: &Claims, objects: &dyn Objects) -> Result<User, AuthnError> {
    if claims.iss != satoken::LEGACY_ISSUER {
        return Err(invalid("token issuer is not accepted"));
    }
    let ns = &claims.namespace;
    let secret = get_typed::<Secret>(objects, ns, &claims.secret_name)
        .await
        .map_err(lookup)?
        .ok_or_else(|| {
            invalid(format!(
                "secret {ns}/{} has been deleted",
                claims.secret_name
            ))
        })?;
    if is_deleting(secret.metadata.as_ref()) {
        return Err(invalid(format!(
            "secret {ns}/{} has been deleted",
            claims.secret_name
        )));
    }
    let stored = secret
        .data
        .get("token")
        .map(|t| t.as_slice())
        .unwrap_or(&[]);
    if stored != token.trim().as_bytes() {
        return Err(invalid("token does not match server's copy"));
    }
    service_account(
        objects,
        ns,
        &claims.service_account_name,
        &claims.service_account_uid,
    )
    .await?;
    Ok(user(
        ns,
        &claims.service_account_name,
        &claims.service_account_uid,
    ))
}

async fn service_account(
    objects: &dyn Objects,
    ns: &str,
    name: &str,
    uid: &str,
) -> Result<(), AuthnError> {
    let deleted = || invalid(format!("service account {ns}/{name} has been deleted"));
    let sa = get_typed::<ServiceAccount>(objects, ns, name)
        .await
        .map_err(lookup)?
        .ok_or_else(deleted)?;
    if is_deleting(sa.metadata.as_ref()) {
        return Err(deleted());
    }
    let found = sa.metadata.as_ref().map(|m| m.uid.as_str()).unwrap_or("");
    if found != uid {
        return Err(invalid(format!(
            "service account UID ({found}) does not match claim ({uid})"
        )));
    }
    Ok(())
}

/// `system:serviceaccount:<ns>:<name>` in `system:serviceaccounts` and
/// `system:serviceaccounts:<ns>`.
pub fn user(namespace: &str, name: &str, uid: &str) -> User {
    User {
        name: format!("{}{namespace}:{name}", names::SERVICEACCOUNT_USER_PREFIX),
        uid: uid.to_string(),
        groups: vec![
            names::SYSTEM_SERVICEACCOUNTS.to_string(),
            format!("{}:{namespace}", names::SYSTEM_SERVICEACCOUNTS),
        ],
        ..User::default()
    }
}
