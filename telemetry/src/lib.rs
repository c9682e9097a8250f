//! What a daemon tells about itself: metrics in Prometheus' format with Kubernetes' names,
//! health checks, traces. Every daemon and the `client` crate register into the one
//! registry of their process ([`metrics::register`]); the daemon kit serves it.

pub mod health;
pub mod metrics;
pub mod process;
pub mod serve;
pub mod trace;
