//! The nftables backend (`--mode nftables`), modelled on Kubernetes' nftables proxier.
//!
//! - [`render::render`]: desired table contents = f(service ports, node config), pure.
//! - [`plan::plan_sync`]: the `nft -f` transaction from the applied state to the desired
//!   one (a full rebuild or only what changed), pure.
//! - [`runner`]: the `Nft` trait, `RealNft` (`nft -f -`, optionally in a netns) and a fake.
//! - [`proxier`]: applies plans, remembers what is live, rebuilds after a failure.
//! - [`backend`]: all of it as the daemon's [`crate::backend::Backend`].

pub mod backend;
pub mod plan;
pub mod proxier;
pub mod render;
pub mod runner;

pub use backend::NftBackend;
pub use plan::{NftPlan, plan_sync};
pub use proxier::{NftProxier, cleanup};
pub use render::{NftRuleset, Renderer, render};
pub use runner::{FakeNft, Nft, RealNft};
