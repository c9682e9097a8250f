//! Pod Security admission: Kubernetes' Pod Security Standards (privileged, baseline,
//! restricted) chosen per namespace by the `pod-security.kubernetes.io/*` labels, enforced
//! on pods, warned and audited on pods and workload templates.
//!
//! - `policy`: levels, versions, a namespace's policy from its labels.
//! - `checks`: the checks themselves, with Kubernetes' messages (pure).
//! - `decision`: what a request gets: refusal, warnings, audit line (pure).
//! - `admit`: the registry's glue (reads the namespace and its pods).

mod admit;
pub mod checks;
pub mod decision;
pub mod policy;

pub use decision::Config;
pub use policy::{Level, LevelVersion, Policy, Version};

#[cfg(test)]
mod tests;
