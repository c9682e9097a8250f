//! LimitRanger admission (Kubernetes' `LimitRanger` plugin): the LimitRanges of a
//! namespace give a new pod's containers their default requests and limits, and refuse
//! pods and claims outside their min, max and maxLimitRequestRatio, as 403 Forbidden.
//!
//! - `decision`: what to default and what is refused, with Kubernetes' messages (pure).
//! - here: the registry's glue (lists the namespace's LimitRanges, acts on the answer).
//!
//! Kubernetes runs the plugin on pod creates (pod updates cannot change resources) and on
//! claim creates and updates, never on subresources, and lets updates of objects being
//! deleted through.

pub mod decision;

#[cfg(test)]
mod tests;

use futures::future::BoxFuture;
use proto::k8s::{LimitRange, ListRequest, Object, object::Kind as K};
use proto::{ApiError, Reason, Resource};
use tracing::debug;

use crate::error::{Result, object_ref};
use crate::registry::Registry;
use crate::store::Store;

/// The plugin's name for `--disable-admission-plugins`.
pub const NAME: &str = "LimitRanger";

impl<S: Store> Registry<S> {
    /// LimitRanger admission of a create (`old` is None) or an update of `subresource`
    /// (`""`: the object itself): defaults first, then the checks, so a default outside a
    /// range is refused as a value written by hand would be.
    ///
    /// Boxed: the create and update paths are deep futures already, and a debug build's
    /// poll frames hold every awaited future inline.
    pub(crate) fn admit_limit_ranges<'a>(
        &'a self,
        object: &'a mut Object,
        old: Option<&'a Object>,
        subresource: &str,
    ) -> BoxFuture<'a, Result<()>> {
        let applies = match (&object.kind, old) {
            (Some(K::Pod(_)), None) => true,
            (Some(K::PersistentVolumeClaim(_)), None) => true,
            // Kubernetes lets updates of claims being deleted through.
            (Some(K::PersistentVolumeClaim(_)), Some(old)) => {
                old.meta().deletion_timestamp.is_empty()
            }
            _ => false,
        };
        if !applies || !subresource.is_empty() || !self.admission_enabled(NAME) {
            return Box::pin(std::future::ready(Ok(())));
        }
        Box::pin(self.enforce_limit_ranges(object, old))
    }

    async fn enforce_limit_ranges(&self, object: &mut Object, old: Option<&Object>) -> Result<()> {
        let ranges = self.limit_ranges(&object.meta().namespace).await?;
        if ranges.is_empty() {
            return Ok(());
        }
        let span = tracing::debug_span!(
            "limit_ranger",
            namespace = %object.meta().namespace,
            name = %object.meta().name
        );
        let _enter = span.enter();
        if let Some(K::Pod(pod)) = &mut object.kind {
            for lr in &ranges {
                if let Some(set) = decision::apply_defaults(lr, pod) {
                    debug!(limit_range = %lr.meta().name, %set, "defaults applied");
                }
            }
        }
        // The first range with violations answers, as Kubernetes' plugin returns at once.
        for lr in &ranges {
            let violations = match (&object.kind, old.map(|o| &o.kind)) {
                (Some(K::Pod(pod)), _) => decision::pod_violations(lr, pod),
                (
                    Some(K::PersistentVolumeClaim(claim)),
                    Some(Some(K::PersistentVolumeClaim(o))),
                ) => decision::claim_violations(lr, claim, Some(o)),
                (Some(K::PersistentVolumeClaim(claim)), _) => {
                    decision::claim_violations(lr, claim, None)
                }
                _ => Vec::new(),
            };
            if let Some(message) = decision::aggregate(&violations) {
                let Some(info) = object.info() else {
                    return Ok(());
                };
                // Kubernetes validates the object before this check: an invalid one is
                // refused as Invalid (by the registry's validation, right after this).
                if old.is_none() && crate::admission::validate_create(info, object).is_err() {
                    return Ok(());
                }
                debug!(limit_range = %lr.meta().name, %message, "refused");
                let what = object_ref(info, &object.meta().name);
                return Err(ApiError::new(
                    Reason::Forbidden,
                    format!("{what} is forbidden: {message}"),
                ));
            }
        }
        Ok(())
    }

    /// The LimitRanges of `namespace`, by name.
    async fn limit_ranges(&self, namespace: &str) -> Result<Vec<LimitRange>> {
        let list = self
            .list(&ListRequest {
                resource: proto::resource::info::LimitRange.plural.to_string(),
                namespace: namespace.to_string(),
                ..Default::default()
            })
            .await?;
        Ok(list
            .items
            .into_iter()
            .filter_map(|o| match o.kind {
                Some(K::LimitRange(lr)) => Some(lr),
                _ => None,
            })
            .collect())
    }
}
