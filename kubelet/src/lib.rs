//! The kubelet: registers its Node, runs the pods bound to it through a container runtime
//! (Docker), wires their network, probes them and reports their status.
//!
//! Secure mode (a `--kubeconfig`, or a join with `--bootstrap-token` and `--ca-cert-hash`):
//! TLS to the apiserver as `system:node:<name>` with a client certificate obtained through
//! a CSR ([`bootstrap`]) and renewed before expiry ([`certificate`]); the kubelet API served
//! with TLS, callers authenticated by client certificate and authorized by
//! SubjectAccessReview ([`api_tls`], [`apiauth`]); projected ServiceAccount tokens from the
//! TokenRequest API ([`volumes::token`]). Without either flag: plaintext, as in development
//! and in-process tests.

pub mod actions;
pub mod api_tls;
pub mod apiauth;
pub mod backoff;
pub mod bootstrap;
pub mod certificate;
pub mod config;
pub mod dns;
pub mod error;
pub mod events;
pub mod exec_stream;
pub mod http;
pub mod image_gc;
pub mod images;
pub mod kubelet;
pub mod metrics;
pub mod network;
pub mod node;
pub mod port_forward;
pub mod probes;
pub mod runtime;
pub mod security;
pub mod server;
pub mod spec;
pub mod stats;
pub mod status;
pub mod syncloop;
pub mod volumes;
pub mod worker;

pub use error::{Error, Result};
