//! The project's client-go: a connection to the apiserver (`Client`), typed access per kind
//! (`Api<K>`), informers, a work queue and leader election. Every daemon and `ctl` build on
//! this; none talks to the generated gRPC stub directly.

pub mod api;
pub mod backoff;
pub mod clock;
pub mod connection;
pub mod daemon;
pub mod dynamic;
pub mod endpoints;
pub mod events;
pub mod informer;
pub mod kubeconfig;
pub mod kubelet_api;
pub mod leader;
mod metrics;
pub mod metrics_api;
pub mod retry;
pub mod runtime;
pub mod store;
pub mod version;
pub mod warnings;
pub mod workqueue;

pub use api::{
    Api, DeleteParams, DeletePreconditions, ListParams, ObjectList, WatchEvent, WatchParams,
    WatchStream,
};
pub use backoff::Backoff;
pub use clock::{Clock, FakeClock, SystemClock};
pub use connection::{ConnectionConfig, Credentials};
pub use dynamic::Client;
pub use informer::{HandlerId, Informer, InformerConfig, InformerEvent};
pub use kubeconfig::Kubeconfig;
pub use kubelet_api::KubeletApi;
pub use leader::{LeaderElectionConfig, LeaderElector};
pub use metrics_api::MetricsApi;
pub use proto::{ApiError, Reason};
pub use retry::RetryPolicy;
pub use store::Store;
pub use warnings::WarningHandler;
pub use workqueue::WorkQueue;

/// The apiserver address when nothing else names one.
pub const DEFAULT_SERVER: &str = "http://127.0.0.1:6443";
