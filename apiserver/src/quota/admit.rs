//! ResourceQuota admission in the registry's create and update path: reads the namespace's
//! quotas, asks `check`, and charges the usage into each quota's `status.used` with a
//! compare-and-swap on the quota's resourceVersion before the object is written, so
//! concurrent creates cannot together exceed a quota (Kubernetes' quota evaluator).

use proto::k8s::{ListRequest, Object, ResourceQuota, object::Kind as K};
use proto::{ApiError, KindInfo, Reason, Resource};
use std::collections::BTreeSet;
use tracing::debug;

use super::check::{self, Charge};
use crate::error::{Result, object_ref};
use crate::registry::{ConflictRetry, Registry};
use crate::store::Store;

/// The plugin's name for `--disable-admission-plugins`.
pub const NAME: &str = "ResourceQuota";

impl<S: Store> Registry<S> {
    /// Refuses a create (`old` None) or an update of the main resource that would exceed a
    /// ResourceQuota of the object's namespace; otherwise charges it to them (not on a dry
    /// run). Called after every other admission step, right before the write.
    pub(crate) async fn admit_quota(
        &self,
        info: &'static KindInfo,
        object: &Object,
        old: Option<&Object>,
        dry_run: bool,
    ) -> Result<()> {
        if !proto::quota::usage::handles(info, old.is_some()) {
            return Ok(());
        }
        let namespace = &object.meta().namespace;
        let name = &object.meta().name;
        // Quotas already charged: a retry after a lost race re-checks only the others.
        let mut charged: BTreeSet<String> = BTreeSet::new();
        let mut retry = ConflictRetry::new();
        loop {
            let quotas: Vec<ResourceQuota> = self
                .quotas_in(namespace)
                .await?
                .into_iter()
                .filter(|q| !charged.contains(&q.meta().name))
                .collect();
            if quotas.is_empty() {
                return Ok(());
            }
            let now = std::time::SystemTime::now();
            let charges = check::check(&quotas, object, old, now).map_err(|refusal| {
                ApiError::new(
                    Reason::Forbidden,
                    format!("{} is forbidden: {refusal}", object_ref(info, name)),
                )
            })?;
            if dry_run {
                return Ok(());
            }
            let mut lost: Option<ApiError> = None;
            for Charge { index, used } in charges {
                let mut q = quotas[index].clone();
                let quota_name = q.meta().name.clone();
                q.status.get_or_insert_with(Default::default).used =
                    proto::quota::format_list(&used);
                // Guarded by the resourceVersion the check read: a quota changed meanwhile
                // (another admission's charge, the controller's recount) is a Conflict.
                // Boxed: the update path admits through here again (for Part::Main only,
                // but the compiler sees the cycle).
                match Box::pin(self.update(q.into_object(), "status", false)).await {
                    Ok(_) => {
                        debug!(%namespace, quota = %quota_name, object = %name, "charged to quota");
                        charged.insert(quota_name);
                    }
                    // Deleted meanwhile: it limits nothing any more.
                    Err(e) if e.reason == Reason::NotFound => {
                        charged.insert(quota_name);
                    }
                    Err(e) if e.reason == Reason::Conflict => lost = Some(e),
                    Err(e) => return Err(e),
                }
            }
            match lost {
                None => return Ok(()),
                Some(e) if !retry.again().await => return Err(e),
                Some(_) => {}
            }
        }
    }

    async fn quotas_in(&self, namespace: &str) -> Result<Vec<ResourceQuota>> {
        let list = self
            .list(&ListRequest {
                resource: ResourceQuota::INFO.plural.to_string(),
                namespace: namespace.to_string(),
                ..Default::default()
            })
            .await?;
        Ok(list
            .items
            .into_iter()
            .filter_map(|o| match o.kind {
                Some(K::ResourceQuota(q)) => Some(q),
                _ => None,
            })
            .collect())
    }
}
