//! ResourceQuota admission: a create (or an update that raises usage, such as a bigger
//! PersistentVolumeClaim or a Service turned NodePort) that would take a namespace past
//! one of its ResourceQuotas is refused with Kubernetes' message; one that fits is charged
//! to the quotas' `status.used` by compare-and-swap before the object is stored, so
//! concurrent creates never over-admit. The controller-manager's `resourcequota`
//! controller recomputes `status.used` from the objects (releasing what deletes free).
//!
//! - `check`: the decision and its messages (pure; usage and scopes from `proto::quota`).
//! - `admit`: the registry's glue (lists the quotas, writes their status).

mod admit;
pub mod check;

pub use admit::NAME;
