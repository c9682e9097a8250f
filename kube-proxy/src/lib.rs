//! The `kube-proxy` daemon as a library: Services and Endpoints in, kernel rules out.
//!
//! - [`model`]: Services and Endpoints reduced to what the proxy programs (one entry per
//!   service port, only ready endpoints), a pure function of the API objects; the node's
//!   configuration and a sync's outcome, which every backend shares.
//! - [`backend`]: the `Backend` trait the sync loop drives (render, sync full or partial,
//!   clean up), implemented by each backend below.
//! - [`iptables`]: `render_rules` (the desired ruleset, pure), `plan_sync` (the
//!   `iptables-restore` input that moves the kernel from the last applied ruleset to the
//!   desired one, pure), the `Iptables` trait (real and fake) and the proxier that applies it.
//! - [`nftables`]: the nftables backend (`--mode nftables`): its own table, verdict maps,
//!   one `nft -f` transaction per sync with only what changed.
//! - [`ipvs`]: the IPVS backend's computation (virtual and real servers) and the kernel check.
//! - [`daemon`]: flags, informers, the rate-limited sync loop, metrics and shutdown.
//! - [`metrics`]: Kubernetes' kube-proxy metrics; [`health`]: its proxier health check.

pub mod backend;
pub mod chain_names;
pub mod daemon;
pub mod error;
pub mod health;
pub mod iptables;
pub mod ipvs;
pub mod memo;
pub mod metrics;
pub mod model;
pub mod nftables;
pub mod parallel;

pub use daemon::{Config, Mode};
pub use error::Error;
