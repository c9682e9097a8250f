//! The nftables backend (`--mode nftables`), modelled on Kubernetes' nftables proxier.
//!
//! - [`render::render`]: desired table contents = f(service ports, node config), pure.
//! - [`plan::plan_sync`]: the `nft -f` transaction from the applied state to the desired
//!   one (a full rebuild or only what changed), pure.
//! - [`runner`]: the `Nft` trait, `RealNft` (netlink batches, or `nft -f -`; optionally in
//!   a netns) and a fake.
//! - [`netlink`]: the nf_tables netlink backend (and ctnetlink for conntrack cleanup).
//! - [`stale`]: which UDP conntrack entries a sync made stale, pure.
//! - [`proxier`]: applies plans, remembers what is live, rebuilds after a failure.
//! - [`backend`]: all of it as the daemon's [`crate::backend::Backend`].

pub mod backend;
pub mod netlink;
pub mod plan;
pub mod proxier;
pub mod render;
pub mod runner;
pub mod stale;

pub use backend::NftBackend;
pub use netlink::NetlinkNft;
pub use plan::{NftPlan, plan_sync};
pub use proxier::{NftProxier, cleanup};
pub use render::{NftRuleset, Renderer, render};
pub use runner::{FakeNft, Nft, NftVia, RealNft};
