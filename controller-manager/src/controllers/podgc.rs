//! Pod garbage collection (the orphan part of Kubernetes' podgc controller): a pod bound to
//! a node that no longer exists has no kubelet to run or finish it, so it is deleted with
//! grace 0. Absence of the node is confirmed with a live read (a node registering a moment
//! ago may not be in the cache yet). Terminated-pod thresholds are not implemented.

use crate::context::Context;
use crate::error::Error;
use client::runtime::{Action, Controller, Request, backoff};
use client::store::split_key;
use client::{InformerEvent, Store};
use futures::FutureExt;
use futures::future::BoxFuture;
use proto::k8s::{Node, Pod};
use proto::{Reason, Resource};
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

pub const NAME: &str = "podgc";

/// The node a pod is bound to, if it is bound and its node is not known.
pub fn orphan_of(pod: &Pod, node_known: impl Fn(&str) -> bool) -> Option<&str> {
    let node = pod.spec.as_ref().map(|s| s.node_name.as_str())?;
    (!node.is_empty() && !node_known(node)).then_some(node)
}

pub fn start(
    ctx: Arc<Context>,
    cancel: CancellationToken,
) -> BoxFuture<'static, Result<(), Error>> {
    run(ctx, cancel).boxed()
}

async fn run(ctx: Arc<Context>, cancel: CancellationToken) -> Result<(), Error> {
    let nodes = ctx.informer::<Node>();
    let pods = ctx.informer::<Pod>();
    let pod_store = pods.store();
    let controller = Controller::new_with(NAME, pods, |ev, q| {
        if !matches!(ev, InformerEvent::Deleted(_)) {
            q.add(ev.key());
        }
    })
    // A deleted node: its pods.
    .watches_with(nodes.clone(), move |ev: &InformerEvent<Node>, q| {
        if let InformerEvent::Deleted(n) = ev {
            for p in pod_store.by_node(&n.meta().name) {
                q.add(client::store::key_of(p.as_ref()));
            }
        }
    })
    .workers(ctx.config.concurrent_workers);
    let gc = Arc::new(PodGc {
        ctx: ctx.clone(),
        nodes: nodes.store(),
    });
    controller.run(reconcile, backoff, gc, cancel).await;
    Ok(())
}

struct PodGc {
    ctx: Arc<Context>,
    nodes: Store<Node>,
}

async fn reconcile(req: Request<Pod>, gc: Arc<PodGc>) -> Result<Action, Error> {
    let Some(pod) = req.object else {
        return Ok(Action::Done);
    };
    let Some(node) = orphan_of(&pod, |name| gc.nodes.get(name).is_some()) else {
        return Ok(Action::Done);
    };
    let ctx = &gc.ctx;
    if ctx.api::<Node>().get_opt(node).await?.is_some() {
        return Ok(Action::Done);
    }
    let (ns, name) = split_key(&req.key);
    let params = client::DeleteParams {
        grace_period_seconds: Some(0),
        preconditions: Some(client::DeletePreconditions {
            uid: pod.meta().uid.clone(),
            ..Default::default()
        }),
        ..Default::default()
    };
    match ctx.api_in::<Pod>(ns).delete(name, &params).await {
        Ok(_) => tracing::info!(%node, "node gone: orphaned pod deleted"),
        Err(e) if e.is(Reason::NotFound) || e.is(Reason::Conflict) => {}
        Err(e) => return Err(e.into()),
    }
    Ok(Action::Done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::k8s::PodSpec;

    #[test]
    fn orphans() {
        let pod = |node: &str| Pod {
            spec: Some(PodSpec {
                node_name: node.into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let known = |n: &str| n == "alive";
        assert_eq!(orphan_of(&pod("gone"), known), Some("gone"));
        assert_eq!(orphan_of(&pod("alive"), known), None);
        assert_eq!(
            orphan_of(&pod(""), known),
            None,
            "unscheduled pods are not orphans"
        );
        assert_eq!(orphan_of(&Pod::default(), known), None);
    }
}
