//! The iptables backend.
//!
//! - [`render_rules`]: desired ruleset = f(service ports, node config), pure.
//! - [`plan::plan_sync`]: the `iptables-restore --noflush` input that turns the last applied
//!   ruleset into the desired one, writing only changed chains, pure.
//! - [`runner`]: the `Iptables` trait over the tools, with the real and a fake implementation.
//! - [`proxier`]: applies plans, remembers what is live, falls back to a full rewrite after a
//!   failure, and cleans up.
//! - [`backend`]: all of it as the daemon's [`crate::backend::Backend`].

pub mod backend;
pub mod plan;
pub mod proxier;
pub mod render;
pub mod runner;

pub use backend::IptablesBackend;
pub use plan::{SyncPlan, plan_sync};
pub use proxier::{Proxier, SyncOutcome, cleanup};
pub use render::{NodeConfig, Ruleset, Table, render_rules};
pub use runner::{FakeIptables, Iptables, RealIptables};
