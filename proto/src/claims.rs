//! What a PersistentVolumeClaim asks for and a PersistentVolume offers, read one way for the
//! binder, the provisioner, the scheduler's VolumeBinding and quota (Kubernetes'
//! `storage/util` helpers: the beta class annotation wins over `storageClassName`).

use crate::Resource;
use crate::k8s::{PersistentVolume, PersistentVolumeClaim};
use crate::quantity::Quantity;

pub const ANN_BETA_STORAGE_CLASS: &str = "volume.beta.kubernetes.io/storage-class";

/// Kubernetes' `GetPersistentVolumeClaimClass`: "" for none.
pub fn claim_class(pvc: &PersistentVolumeClaim) -> &str {
    if let Some(c) = pvc.meta().annotations.get(ANN_BETA_STORAGE_CLASS) {
        return c;
    }
    pvc.spec
        .as_ref()
        .and_then(|s| s.storage_class_name.as_deref())
        .unwrap_or("")
}

/// Kubernetes' `GetPersistentVolumeClass`: "" for none.
pub fn volume_class(pv: &PersistentVolume) -> &str {
    if let Some(c) = pv.meta().annotations.get(ANN_BETA_STORAGE_CLASS) {
        return c;
    }
    pv.spec
        .as_ref()
        .map_or("", |s| s.storage_class_name.as_str())
}

/// The claim's `requests.storage`; zero when absent or unreadable.
pub fn claim_request(pvc: &PersistentVolumeClaim) -> Quantity {
    pvc.spec
        .as_ref()
        .and_then(|s| s.resources.as_ref())
        .and_then(|r| r.requests.get("storage"))
        .and_then(|q| q.parse().ok())
        .unwrap_or_default()
}

/// The volume's `capacity.storage`, if readable.
pub fn volume_capacity(pv: &PersistentVolume) -> Option<Quantity> {
    pv.spec
        .as_ref()
        .and_then(|s| s.capacity.get("storage"))
        .and_then(|q| q.parse().ok())
}
