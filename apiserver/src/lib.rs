//! The apiserver: one generic gRPC service over every kind, validation and defaulting,
//! storage behind the `Store` trait (sled embedded), watch fan-out, subresources, and
//! Kubernetes' HTTP/JSON API on the same listener (`http`).

pub mod admission;
pub mod allocator;
pub mod audit;
pub mod auth;
pub mod cluster_pki;
pub mod codec;
pub mod csr_admission;
pub mod default_service;
pub mod default_storage_class;
pub mod encryption;
pub mod error;
pub mod event_ttl;
pub mod eviction;
pub mod fields;
pub mod filter;
pub mod flowcontrol;
pub mod http;
pub mod keys;
pub mod kubelet_proxy;
pub mod limit_ranger;
pub mod metrics;
pub mod metrics_api;
pub mod node_restriction;
pub mod patch;
pub mod pod_security;
pub mod private_dir;
pub mod pvc_resize;
pub mod quota;
pub mod rbac_escalation;
pub mod registry;
pub mod server;
pub mod service;
pub mod serviceaccount_admission;
pub mod store;
pub mod subresources;
pub mod testing;
pub mod tls;
pub mod warnings;
pub mod watch;

pub use server::{Config, RunningServer, start};
