//! "Update status if changed": a controller computes the status it wants and this writes
//! the status subresource only when that differs from what the object carries, so a sync
//! that changes nothing costs no write (and no watch event that would sync it again).

use crate::api::Api;
use proto::{ApiError, Reason, Resource};

/// A kind with a status subresource.
pub trait HasStatus: Resource {
    type Status: Clone + PartialEq + Send + Sync;
    fn status(&self) -> Option<&Self::Status>;
    fn set_status(&mut self, status: Self::Status);
}

macro_rules! has_status {
    ($($kind:ident => $status:ident),* $(,)?) => {$(
        impl HasStatus for proto::k8s::$kind {
            type Status = proto::k8s::$status;
            fn status(&self) -> Option<&Self::Status> {
                self.status.as_ref()
            }
            fn set_status(&mut self, status: Self::Status) {
                self.status = Some(status);
            }
        }
    )*};
}

has_status! {
    Namespace => NamespaceStatus,
    Node => NodeStatus,
    Pod => PodStatus,
    ReplicaSet => ReplicaSetStatus,
    Deployment => DeploymentStatus,
    DaemonSet => DaemonSetStatus,
    StatefulSet => StatefulSetStatus,
    Job => JobStatus,
    CronJob => CronJobStatus,
    HorizontalPodAutoscaler => HorizontalPodAutoscalerStatus,
    PersistentVolume => PersistentVolumeStatus,
    PersistentVolumeClaim => PersistentVolumeClaimStatus,
    ResourceQuota => ResourceQuotaStatus,
}

/// What to do when the write meets a Conflict (the cached copy was stale).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnConflict {
    /// Return the Conflict: the key is retried with back-off on a fresher cache.
    Fail,
    /// Kubernetes' ReplicaSet way: read the object once more and write the status onto it
    /// (unless it is gone or was recreated under another uid).
    RetryOnFresh,
    /// As `RetryOnFresh`, but only onto an object whose spec is the one decided on (same
    /// uid and generation); otherwise the Conflict is returned (Kubernetes' Deployment).
    RetryOnFreshSameGeneration,
}

/// Writes `status` onto `obj` through `api`'s status subresource when it differs from
/// `obj`'s. Returns the object written, or None when nothing was written (unchanged, or the
/// object is gone: a deleted object needs no status).
pub async fn update_status_if_changed<K: HasStatus>(
    api: &Api<K>,
    obj: &K,
    status: K::Status,
    on_conflict: OnConflict,
) -> Result<Option<K>, ApiError> {
    if obj.status() == Some(&status) {
        return Ok(None);
    }
    write_status(api, obj, status, on_conflict).await
}

/// Writes `status` onto `obj` whether or not it differs; None when the object is gone.
pub async fn write_status<K: HasStatus>(
    api: &Api<K>,
    obj: &K,
    status: K::Status,
    on_conflict: OnConflict,
) -> Result<Option<K>, ApiError> {
    let mut next = obj.clone();
    next.set_status(status.clone());
    match api.update_status(&next).await {
        Ok(written) => Ok(Some(written)),
        Err(e) if e.is(Reason::NotFound) => Ok(None),
        Err(e) if e.is(Reason::Conflict) && on_conflict != OnConflict::Fail => {
            let Some(mut fresh) = api.get_opt(&obj.meta().name).await? else {
                return Ok(None);
            };
            if fresh.meta().uid != obj.meta().uid {
                return match on_conflict {
                    OnConflict::RetryOnFreshSameGeneration => Err(e),
                    _ => Ok(None),
                };
            }
            if on_conflict == OnConflict::RetryOnFreshSameGeneration
                && fresh.meta().generation != obj.meta().generation
            {
                return Err(e);
            }
            fresh.set_status(status);
            api.update_status(&fresh).await.map(Some)
        }
        Err(e) => Err(e),
    }
}
