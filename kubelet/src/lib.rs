//! The kubelet: registers its Node, runs the pods bound to it through a container runtime
//! (Docker), wires their network, probes them and reports their status.

pub mod actions;
pub mod backoff;
pub mod error;
pub mod images;
pub mod probes;
pub mod runtime;
pub mod spec;
pub mod status;
pub mod volumes;

pub use error::{Error, Result};
