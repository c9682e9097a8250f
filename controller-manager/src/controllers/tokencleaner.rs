//! `tokencleaner` (Kubernetes' bootstrap token cleaner): a bootstrap token Secret
//! (`kube-system`, type `bootstrap.kubernetes.io/token`) whose `expiration` has passed is
//! deleted; one that expires later is looked at again at that moment. An expiration that
//! does not parse counts as passed, as in Kubernetes.

use crate::context::Context;
use crate::error::Error;
use client::InformerEvent;
use client::runtime::{Action, Controller, Request, backoff};
use client::{DeleteParams, DeletePreconditions};
use futures::FutureExt;
use futures::future::BoxFuture;
use proto::bootstrap_token;
use proto::k8s::Secret;
use proto::{Reason, Resource};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio_util::sync::CancellationToken;

pub const NAME: &str = "tokencleaner";

/// What to do with one Secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenAction {
    /// Not a bootstrap token, or one without an expiration.
    Keep,
    Delete,
    /// Expires this much later.
    RecheckIn(Duration),
}

/// The bootstrap token Secrets this controller looks after.
pub fn is_bootstrap_token(secret: &Secret) -> bool {
    secret.meta().namespace == bootstrap_token::NAMESPACE
        && secret.r#type == bootstrap_token::SECRET_TYPE
}

pub fn plan(secret: &Secret, now: SystemTime) -> TokenAction {
    if !is_bootstrap_token(secret) || !secret.meta().deletion_timestamp.is_empty() {
        return TokenAction::Keep;
    }
    if bootstrap_token::is_expired(secret, now) {
        return TokenAction::Delete;
    }
    match bootstrap_token::expiration(secret) {
        Ok(Some(at)) => TokenAction::RecheckIn(at.duration_since(now).unwrap_or_default()),
        _ => TokenAction::Keep,
    }
}

pub fn start(
    ctx: Arc<Context>,
    cancel: CancellationToken,
) -> BoxFuture<'static, Result<(), Error>> {
    run(ctx, cancel).boxed()
}

async fn run(ctx: Arc<Context>, cancel: CancellationToken) -> Result<(), Error> {
    let controller = Controller::new_with(NAME, ctx.informer::<Secret>(), |ev, q| {
        if !matches!(ev, InformerEvent::Deleted(_)) && is_bootstrap_token(ev.object()) {
            q.add(ev.key());
        }
    });
    controller.run(reconcile, backoff, ctx, cancel).await;
    Ok(())
}

async fn reconcile(req: Request<Secret>, ctx: Arc<Context>) -> Result<Action, Error> {
    let Some(secret) = req.object else {
        return Ok(Action::Done);
    };
    match plan(&secret, ctx.clock.now()) {
        TokenAction::Keep => Ok(Action::Done),
        // The clocks of this process and of the writer may differ a little: look again
        // just after the moment rather than just before it.
        TokenAction::RecheckIn(d) => Ok(Action::requeue(d + Duration::from_millis(100))),
        TokenAction::Delete => {
            let m = secret.meta();
            let params = DeleteParams {
                // Only the Secret that was seen expired (not a new one of the same name).
                preconditions: Some(DeletePreconditions {
                    uid: m.uid.clone(),
                    resource_version: String::new(),
                }),
                ..Default::default()
            };
            match ctx
                .api_in::<Secret>(&m.namespace)
                .delete(&m.name, &params)
                .await
            {
                Ok(_) => tracing::info!(secret = %req.key, "deleted expired bootstrap token"),
                Err(e) if e.is(Reason::NotFound) || e.is(Reason::Conflict) => {}
                Err(e) => return Err(e.into()),
            }
            Ok(Action::Done)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::bootstrap_token::{BootstrapToken, secret_for};

    fn token() -> BootstrapToken {
        bootstrap_token::parse("abcdef.0123456789abcdef").unwrap()
    }

    #[test]
    fn expired_tokens_go_and_live_ones_are_rechecked_at_expiry() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let s = secret_for(&token(), Some(Duration::from_secs(60)), now, "");
        assert_eq!(
            plan(&s, now),
            TokenAction::RecheckIn(Duration::from_secs(60))
        );
        assert_eq!(plan(&s, now + Duration::from_secs(60)), TokenAction::Delete);
        assert_eq!(
            plan(&s, now + Duration::from_secs(600)),
            TokenAction::Delete
        );

        let forever = secret_for(&token(), None, now, "");
        assert_eq!(plan(&forever, now), TokenAction::Keep);

        let mut garbled = s.clone();
        garbled
            .data
            .insert(bootstrap_token::KEY_EXPIRATION.into(), b"tomorrow".to_vec());
        assert_eq!(plan(&garbled, now), TokenAction::Delete);

        // Other namespaces and other Secret types are never touched.
        let mut elsewhere = s.clone();
        elsewhere.meta_mut().namespace = "default".into();
        assert_eq!(
            plan(&elsewhere, now + Duration::from_secs(600)),
            TokenAction::Keep
        );
        let mut opaque = s.clone();
        opaque.r#type = "Opaque".into();
        assert_eq!(
            plan(&opaque, now + Duration::from_secs(600)),
            TokenAction::Keep
        );
    }
}
