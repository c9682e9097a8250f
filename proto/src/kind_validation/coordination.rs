//! coordination API group: Lease (`pkg/apis/coordination/validation`).

use super::Errors;
use crate::k8s;
use crate::validation::FieldError;

pub(super) fn lease(lease: &k8s::Lease, e: &mut Errors) {
    if let Some(d) = lease.spec.as_ref().and_then(|s| s.lease_duration_seconds)
        && d <= 0
    {
        e.push(FieldError::invalid(
            "spec.leaseDurationSeconds",
            d,
            "must be greater than 0",
        ));
    }
}
