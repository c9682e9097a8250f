//! Stopping the controllers leaves nothing behind on the shared informers: every handler the
//! non-workload controllers registered (through `client::runtime::Controller`) is taken off
//! once `RunningControllers::stop` returns.

mod common;

use client::Informer;
use common::{Cluster, wait_for};
use controller_manager::Context;
use proto::Resource;
use proto::k8s::{
    Endpoints, HorizontalPodAutoscaler, Lease, Namespace, Node, PersistentVolume,
    PersistentVolumeClaim, Pod, Secret, Service, ServiceAccount,
};
use std::sync::Arc;
use std::time::Duration;

/// Handlers on each kind's shared informer, by kind.
fn handler_counts(ctx: &Context) -> Vec<(&'static str, usize)> {
    fn count<K: Resource>(ctx: &Context) -> (&'static str, usize) {
        let informer: Arc<Informer<K>> = ctx.informer::<K>();
        (K::INFO.kind, informer.handler_count())
    }
    vec![
        count::<Pod>(ctx),
        count::<Node>(ctx),
        count::<Lease>(ctx),
        count::<Service>(ctx),
        count::<Endpoints>(ctx),
        count::<Namespace>(ctx),
        count::<ServiceAccount>(ctx),
        count::<Secret>(ctx),
        count::<PersistentVolume>(ctx),
        count::<PersistentVolumeClaim>(ctx),
        count::<HorizontalPodAutoscaler>(ctx),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_handler_is_left_on_the_shared_informers_after_stop() {
    let c = Cluster::builder()
        .no_kubelet()
        .controllers(&[
            "endpoint",
            "garbagecollector",
            "horizontalpodautoscaling",
            "namespace",
            "nodeipam",
            "nodelifecycle",
            "podgc",
            "persistentvolume-binder",
            "serviceaccount",
            "serviceaccount-token",
        ])
        .start()
        .await;
    let ctx = c.ctx.clone();
    // Every kind has a handler and every cache its first list: the controllers are past
    // their sync waits, reconciling.
    wait_for("handlers on every kind", Duration::from_secs(20), || {
        let counts = handler_counts(&ctx);
        let ctx = ctx.clone();
        async move {
            (counts.iter().all(|(_, n)| *n > 0) && ctx.wait_for_sync().await).then_some(())
        }
    })
    .await;
    c.stop().await;
    let left: Vec<_> = handler_counts(&ctx)
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .collect();
    assert!(left.is_empty(), "handlers left after stop: {left:?}");
}
