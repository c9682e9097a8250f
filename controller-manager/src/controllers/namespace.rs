//! Namespace (Kubernetes' namespace controller): a namespace with a deletionTimestamp
//! (phase Terminating) has every namespaced object of every kind in it deleted; once none
//! is left, the `kubernetes` finalizer is removed through the `finalize` subresource and
//! the apiserver removes the namespace.

use crate::context::Context;
use crate::error::Error;
use client::runtime::{Action, Controller, Request, backoff};
use futures::FutureExt;
use futures::future::BoxFuture;
use proto::k8s::{DeleteRequest, ListRequest, Namespace, Object, Preconditions};
use proto::resource::ALL_KINDS;
use proto::{KindInfo, Reason, Resource};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

pub const NAME: &str = "namespace";
/// The finalizer the apiserver puts in `spec.finalizers`.
pub const FINALIZER: &str = "kubernetes";

/// How often a namespace whose contents are still going is looked at again.
const RECHECK: Duration = Duration::from_secs(1);

/// An object left in a namespace: (kind plural, name, being deleted).
pub type Remaining = (&'static str, String, bool);

/// What to do with one namespace, given how many objects each kind still has in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NamespacePlan {
    /// Not being deleted, or already finalized.
    Nothing,
    /// Delete these (kind plural, name) that are not yet being deleted, then look again.
    Delete(Vec<(&'static str, String)>),
    /// Objects are going (deletionTimestamp set, grace periods or finalizers): wait.
    Wait(usize),
    /// Empty: remove the `kubernetes` finalizer.
    Finalize,
}

/// The kinds emptied from a namespace: every namespaced kind the API serves.
pub fn namespaced_kinds() -> impl Iterator<Item = &'static KindInfo> {
    ALL_KINDS.iter().copied().filter(|k| k.namespaced)
}

/// `remaining`: the objects left in the namespace, as (kind, name, being deleted).
pub fn plan_namespace(ns: &Namespace, remaining: &[(&'static str, String, bool)]) -> NamespacePlan {
    if ns.meta().deletion_timestamp.is_empty() {
        return NamespacePlan::Nothing;
    }
    let has_finalizer = ns
        .spec
        .as_ref()
        .is_some_and(|s| s.finalizers.iter().any(|f| f == FINALIZER));
    if !has_finalizer {
        return NamespacePlan::Nothing;
    }
    let to_delete: Vec<(&'static str, String)> = remaining
        .iter()
        .filter(|(_, _, deleting)| !deleting)
        .map(|(k, n, _)| (*k, n.clone()))
        .collect();
    if !to_delete.is_empty() {
        return NamespacePlan::Delete(to_delete);
    }
    if !remaining.is_empty() {
        return NamespacePlan::Wait(remaining.len());
    }
    NamespacePlan::Finalize
}

pub fn start(
    ctx: Arc<Context>,
    cancel: CancellationToken,
) -> BoxFuture<'static, Result<(), Error>> {
    run(ctx, cancel).boxed()
}

async fn run(ctx: Arc<Context>, cancel: CancellationToken) -> Result<(), Error> {
    let controller = Controller::new_with(NAME, ctx.informer::<Namespace>(), |ev, q| {
        if !ev.object().meta().deletion_timestamp.is_empty() {
            q.add(ev.key());
        }
    })
    .workers(ctx.config.concurrent_workers);
    controller
        .run(
            |req: Request<Namespace>, ctx: Arc<Context>| async move {
                match req.object {
                    Some(ns) => reconcile(&ctx, &ns).await,
                    None => Ok(Action::Done),
                }
            },
            backoff,
            ctx,
            cancel,
        )
        .await;
    Ok(())
}

async fn list_remaining(ctx: &Context, namespace: &str) -> Result<Vec<Remaining>, Error> {
    let mut out = Vec::new();
    for kind in namespaced_kinds() {
        let mut continue_token = String::new();
        loop {
            let resp = ctx
                .client
                .list(ListRequest {
                    resource: kind.plural.to_string(),
                    namespace: namespace.to_string(),
                    limit: 500,
                    r#continue: continue_token.clone(),
                    ..Default::default()
                })
                .await?;
            out.extend(resp.items.iter().map(|o: &Object| {
                let m = o.meta();
                (
                    kind.plural,
                    m.name.clone(),
                    !m.deletion_timestamp.is_empty(),
                )
            }));
            if resp.r#continue.is_empty() {
                break;
            }
            continue_token = resp.r#continue;
        }
    }
    Ok(out)
}

async fn reconcile(ctx: &Context, ns: &Namespace) -> Result<Action, Error> {
    let name = ns.meta().name.clone();
    // Quick exit before listing every kind.
    if plan_namespace(ns, &[]) == NamespacePlan::Nothing {
        return Ok(Action::Done);
    }
    let remaining = list_remaining(ctx, &name).await?;
    match plan_namespace(ns, &remaining) {
        NamespacePlan::Nothing => Ok(Action::Done),
        NamespacePlan::Delete(objects) => {
            tracing::info!(count = objects.len(), "deleting the namespace's contents");
            for (plural, obj) in objects {
                let req = DeleteRequest {
                    resource: plural.to_string(),
                    namespace: name.clone(),
                    name: obj.clone(),
                    propagation_policy: "Background".into(),
                    preconditions: None::<Preconditions>,
                    ..Default::default()
                };
                match ctx.client.delete(req).await {
                    Ok(_) => tracing::debug!(resource = plural, object = %obj, "deleted"),
                    Err(e) if e.is(Reason::NotFound) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            Ok(Action::RequeueAfter(RECHECK))
        }
        NamespacePlan::Wait(n) => {
            tracing::debug!(remaining = n, "waiting for the namespace's contents to go");
            Ok(Action::RequeueAfter(RECHECK))
        }
        NamespacePlan::Finalize => {
            // Read fresh: the finalize write is guarded by the current resourceVersion.
            let mut cur: Namespace = ctx.api::<Namespace>().get(&name).await?;
            if let Some(spec) = cur.spec.as_mut() {
                spec.finalizers.retain(|f| f != FINALIZER);
            }
            match ctx.client.update(cur.into_object(), "finalize").await {
                Ok(_) => tracing::info!("namespace emptied and finalized"),
                Err(e) if e.is(Reason::NotFound) => {}
                Err(e) => return Err(e.into()),
            }
            Ok(Action::Done)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::k8s::{NamespaceSpec, ObjectMeta};

    fn ns(deleting: bool, finalizers: &[&str]) -> Namespace {
        Namespace {
            metadata: Some(ObjectMeta {
                name: "team".into(),
                deletion_timestamp: if deleting {
                    "2026-01-01T00:00:00Z".into()
                } else {
                    String::new()
                },
                ..Default::default()
            }),
            spec: Some(NamespaceSpec {
                finalizers: finalizers.iter().map(|s| s.to_string()).collect(),
            }),
            ..Default::default()
        }
    }

    #[test]
    fn plans() {
        let pod = ("pods", "p".to_string(), false);
        let going = ("pods", "q".to_string(), true);
        let cm = ("configmaps", "c".to_string(), false);
        let cases: Vec<(&str, Namespace, Vec<Remaining>, NamespacePlan)> = vec![
            (
                "active",
                ns(false, &["kubernetes"]),
                vec![pod.clone()],
                NamespacePlan::Nothing,
            ),
            (
                "finalized already",
                ns(true, &[]),
                vec![],
                NamespacePlan::Nothing,
            ),
            (
                "delete what is not going yet",
                ns(true, &["kubernetes"]),
                vec![pod.clone(), going.clone(), cm.clone()],
                NamespacePlan::Delete(vec![("pods", "p".into()), ("configmaps", "c".into())]),
            ),
            (
                "wait for the rest",
                ns(true, &["kubernetes"]),
                vec![going],
                NamespacePlan::Wait(1),
            ),
            (
                "empty: finalize",
                ns(true, &["kubernetes", "other"]),
                vec![],
                NamespacePlan::Finalize,
            ),
        ];
        for (name, n, remaining, want) in cases {
            assert_eq!(plan_namespace(&n, &remaining), want, "{name}");
        }
    }

    #[test]
    fn every_namespaced_kind_is_emptied() {
        let plurals: Vec<&str> = namespaced_kinds().map(|k| k.plural).collect();
        for p in [
            "pods",
            "deployments",
            "replicasets",
            "secrets",
            "serviceaccounts",
            "leases",
            "events",
            "persistentvolumeclaims",
        ] {
            assert!(plurals.contains(&p), "{p}");
        }
        assert!(!plurals.contains(&"nodes") && !plurals.contains(&"namespaces"));
        assert!(!plurals.contains(&"persistentvolumes"));
    }
}
