//! The API schema of every kind (generated from `protos/`), and the API machinery every
//! component shares: the kind registry, manifest loading, label selectors, quantities,
//! validation and time stamps. No I/O lives here.

#[allow(clippy::all, clippy::pedantic, missing_docs)]
pub mod k8s {
    include!(concat!(env!("OUT_DIR"), "/k8s.rs"));
    include!(concat!(env!("OUT_DIR"), "/k8s.serde.rs"));
}

pub use k8s::*;

/// The kubelet's own gRPC API (container logs, exec, stats), served by every kubelet.
#[allow(clippy::all, clippy::pedantic, missing_docs)]
pub mod kubelet_api {
    include!(concat!(env!("OUT_DIR"), "/kubelet.v1.rs"));
}

pub mod bootstrap_token;
pub mod claims;
pub mod convert;
pub mod cron;
pub mod defaults;
pub mod disruption;
pub mod duration;
mod extra_value;
pub mod kind_validation;
pub mod local_path;
pub mod managed_fields;
pub mod manifest;
pub mod node_affinity;
pub mod patch_meta;
pub mod printers;
pub mod quota;
mod raw_extension;
pub mod resource;
pub mod satoken;
pub mod schema;
pub mod taints;
pub mod time;

pub use resource::{KindInfo, Resource};
pub mod error;
pub mod quantity;
pub mod selector;
pub mod validation;

pub use error::{ApiError, Reason};
