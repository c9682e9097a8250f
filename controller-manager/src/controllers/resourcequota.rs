//! ResourceQuota (Kubernetes' resourcequota controller): keeps each quota's `status.hard`
//! equal to `spec.hard` and recomputes `status.used` from the objects of its namespace
//! (`proto::quota`, the accounting the apiserver's admission charges by). Admission only
//! ever adds; this controller is what releases usage when objects go or pods finish, and
//! corrects charges for creates that failed after admission.
//!
//! A quota is synced when its spec changes, when an object of a kind it counts is deleted
//! or changes its usage in its namespace (pods, services, claims, configmaps, secrets and
//! the workload kinds, through shared informers), and every `RESYNC`; other kinds counted
//! by `count/<resource>` are listed live, so their deletions show at the next resync.

use crate::context::Context;
use crate::error::Error;
use client::runtime::{Action, Controller, OnConflict, Request, backoff, update_status_if_changed};
use client::store::{Store, key_of};
use client::{InformerEvent, WorkQueue};
use futures::FutureExt;
use futures::future::BoxFuture;
use proto::k8s::{
    ConfigMap, CronJob, DaemonSet, Deployment, Job, ListRequest, Object, PersistentVolumeClaim,
    Pod, ReplicaSet, ResourceQuota, ResourceQuotaStatus, Secret, Service, StatefulSet,
};
use proto::{KindInfo, Resource};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio_util::sync::CancellationToken;

pub const NAME: &str = "resourcequota";

/// Kubernetes' `--resource-quota-sync-period` default: a full recount of every quota.
pub const RESYNC: Duration = Duration::from_secs(5 * 60);

pub fn start(
    ctx: Arc<Context>,
    cancel: CancellationToken,
) -> BoxFuture<'static, Result<(), Error>> {
    run(ctx, cancel).boxed()
}

/// A namespace's objects of one kind as the recount reads them (from a shared cache).
type Lister = Box<dyn Fn(&str) -> Vec<Object> + Send + Sync>;

struct QuotaController {
    ctx: Arc<Context>,
    /// By kind name; kinds without one are listed live.
    listers: HashMap<&'static str, Lister>,
}

async fn run(ctx: Arc<Context>, cancel: CancellationToken) -> Result<(), Error> {
    let quotas = ctx.informer::<ResourceQuota>();
    let quota_store = quotas.store();
    let mut listers = HashMap::new();
    // Status-only changes are admission's charges (or this controller's own writes): a
    // recount then, from caches that may not hold the object being admitted yet, would
    // hand its charge back (Kubernetes enqueues on spec changes only, for this reason).
    let controller = Controller::new_with(NAME, quotas, |ev, queue| match ev {
        InformerEvent::Modified { old, new } if old.spec == new.spec => {}
        InformerEvent::Deleted(_) => {}
        _ => queue.add(ev.key()),
    });
    // The kinds quota charges by more than a count, and those whose counts users quota
    // most: each one's changes queue the quotas of its namespace.
    let controller = counted::<Pod>(controller, &ctx, &quota_store, &mut listers);
    let controller = counted::<Service>(controller, &ctx, &quota_store, &mut listers);
    let controller = counted::<PersistentVolumeClaim>(controller, &ctx, &quota_store, &mut listers);
    let controller = counted::<ConfigMap>(controller, &ctx, &quota_store, &mut listers);
    let controller = counted::<Secret>(controller, &ctx, &quota_store, &mut listers);
    let controller = counted::<Deployment>(controller, &ctx, &quota_store, &mut listers);
    let controller = counted::<ReplicaSet>(controller, &ctx, &quota_store, &mut listers);
    let controller = counted::<StatefulSet>(controller, &ctx, &quota_store, &mut listers);
    let controller = counted::<DaemonSet>(controller, &ctx, &quota_store, &mut listers);
    let controller = counted::<Job>(controller, &ctx, &quota_store, &mut listers);
    let controller = counted::<CronJob>(controller, &ctx, &quota_store, &mut listers);
    let store = quota_store.clone();
    listers.insert(ResourceQuota::INFO.kind, lister(store));
    let controller = controller
        .resync_every(RESYNC)
        .workers(ctx.config.concurrent_workers);
    let state = Arc::new(QuotaController {
        ctx: ctx.clone(),
        listers,
    });
    controller.run(reconcile, backoff, state, cancel).await;
    Ok(())
}

fn lister<K: Resource>(store: Store<K>) -> Lister {
    Box::new(move |namespace| {
        store
            .by_namespace(namespace)
            .iter()
            .map(|o| o.as_ref().clone().into_object())
            .collect()
    })
}

/// Watches `K` through the shared informer (its changes queue its namespace's quotas) and
/// reads its objects from that informer's cache.
fn counted<K: Resource>(
    controller: Controller<ResourceQuota>,
    ctx: &Context,
    quotas: &Store<ResourceQuota>,
    listers: &mut HashMap<&'static str, Lister>,
) -> Controller<ResourceQuota> {
    let informer = ctx.informer::<K>();
    listers.insert(K::INFO.kind, lister(informer.store()));
    controller.watches_with(informer, replenish(quotas))
}

/// An event handler queueing the quotas of the object's namespace when the object went or
/// changed what it uses (a pod finishing, a claim growing). Creations were charged by
/// admission; other changes (a pod's conditions) leave the quotas alone.
fn replenish<O: Resource>(
    quotas: &Store<ResourceQuota>,
) -> impl Fn(&InformerEvent<O>, &WorkQueue<String>) + Send + Sync + 'static {
    let quotas = quotas.clone();
    move |ev, queue| {
        let relevant = match ev {
            InformerEvent::Deleted(_) => true,
            InformerEvent::Modified { old, new } => usage_changed(old.as_ref(), new.as_ref()),
            InformerEvent::Added(_) | InformerEvent::Sync(_) => false,
        };
        if !relevant {
            return;
        }
        for q in quotas.by_namespace(&ev.object().meta().namespace) {
            queue.add(key_of(q.as_ref()));
        }
    }
}

/// Whether an update changed what the object is charged (pure).
pub fn usage_changed<O: Resource>(old: &O, new: &O) -> bool {
    let now = SystemTime::now();
    let usage = |o: &O| proto::quota::usage::usage(&o.clone().into_object(), now);
    usage(old) != usage(new)
}

/// The status a quota should have: `hard` as its spec says, `used` recounted from
/// `objects` (the namespace's objects of the kinds the quota counts). Pure.
pub fn desired_status(
    quota: &ResourceQuota,
    objects: &[Object],
    now: SystemTime,
) -> ResourceQuotaStatus {
    let spec = quota.spec.clone().unwrap_or_default();
    let previous = quota
        .status
        .as_ref()
        .map(|s| s.used.clone())
        .unwrap_or_default();
    let used = proto::quota::calculate_used(&spec, &previous, objects, now);
    ResourceQuotaStatus {
        hard: spec.hard,
        used: proto::quota::format_list(&used),
    }
}

async fn reconcile(req: Request<ResourceQuota>, c: Arc<QuotaController>) -> Result<Action, Error> {
    let Some(quota) = req.object else {
        return Ok(Action::Done);
    };
    let namespace = quota.meta().namespace.clone();
    let hard: Vec<String> = quota
        .spec
        .as_ref()
        .map(|s| s.hard.keys().cloned().collect())
        .unwrap_or_default();
    let mut objects = Vec::new();
    for kind in proto::quota::usage::tracked_kinds(&hard) {
        objects.extend(c.objects(kind, &namespace).await?);
    }
    let status = desired_status(&quota, &objects, c.ctx.clock.now());
    // A Conflict means admission charged (or someone wrote) meanwhile: the key is retried
    // with back-off on a fresher cache, never written over what admission charged.
    let api = c.ctx.api_in::<ResourceQuota>(&namespace);
    if update_status_if_changed(&api, &quota, status, OnConflict::Fail)
        .await?
        .is_some()
    {
        tracing::debug!("quota status updated");
    }
    Ok(Action::Done)
}

impl QuotaController {
    /// The namespace's objects of `kind`: from a cache when one is kept, else listed live.
    async fn objects(
        &self,
        kind: &'static KindInfo,
        namespace: &str,
    ) -> Result<Vec<Object>, Error> {
        match self.listers.get(kind.kind) {
            Some(list) => Ok(list(namespace)),
            None => self.list_live(kind, namespace).await,
        }
    }

    async fn list_live(
        &self,
        kind: &'static KindInfo,
        namespace: &str,
    ) -> Result<Vec<Object>, Error> {
        let list = self
            .ctx
            .client
            .list(ListRequest {
                resource: kind.plural.to_string(),
                namespace: namespace.to_string(),
                ..Default::default()
            })
            .await?;
        Ok(list.items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quota(hard: &[(&str, &str)], used: &[(&str, &str)]) -> ResourceQuota {
        let map = |l: &[(&str, &str)]| {
            l.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        ResourceQuota {
            spec: Some(proto::k8s::ResourceQuotaSpec {
                hard: map(hard),
                ..Default::default()
            }),
            status: Some(ResourceQuotaStatus {
                hard: Default::default(),
                used: map(used),
            }),
            ..Default::default()
        }
    }

    fn pod(phase: &str) -> Pod {
        let mut p: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "p", "namespace": "ns"},
            "spec": {"containers": [{"name": "a", "image": "x", "resources": {"requests": {"cpu": "1"}}}]},
        }))
        .expect("valid pod");
        p.status.get_or_insert_with(Default::default).phase = phase.into();
        p
    }

    #[test]
    fn status_mirrors_hard_and_recounts_used_releasing_what_is_gone() {
        let q = quota(
            &[("pods", "5"), ("requests.cpu", "4"), ("count/pods", "9")],
            &[("pods", "3"), ("requests.cpu", "3")],
        );
        let objects = [pod("Running").into_object(), pod("Succeeded").into_object()];
        let s = desired_status(&q, &objects, SystemTime::now());
        assert_eq!(s.hard, q.spec.as_ref().unwrap().hard);
        let used: Vec<String> = s.used.iter().map(|(k, v)| format!("{k}={v}")).collect();
        assert_eq!(used, ["count/pods=2", "pods=1", "requests.cpu=1"]);
    }

    #[test]
    fn only_changes_of_usage_queue_the_quotas() {
        let running = pod("Running");
        let mut ready = running.clone();
        ready.status.as_mut().unwrap().host_ip = "10.0.0.1".into();
        assert!(!usage_changed(&running, &ready));
        assert!(usage_changed(&running, &pod("Failed")));
    }
}
