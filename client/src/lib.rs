//! The project's client-go: a connection to the apiserver (`Client`), typed access per kind
//! (`Api<K>`), informers, a work queue and leader election. Every daemon and `ctl` build on
//! this; none talks to the generated gRPC stub directly.

pub mod dynamic;

pub use dynamic::Client;
pub use proto::{ApiError, Reason};

/// The apiserver address when nothing else names one.
pub const DEFAULT_SERVER: &str = "http://127.0.0.1:6443";
