//! `ctl create namespace|deployment|...`: objects made from flags (to be built).

use super::Ctx;
use anyhow::{Result, bail};
use clap::{Args, Subcommand};

#[derive(Subcommand, Debug, Clone)]
pub enum Generate {
    /// Create a namespace
    #[command(visible_alias = "ns")]
    Namespace(NamespaceArgs),
}

#[derive(Args, Debug, Clone)]
pub struct NamespaceArgs {
    pub name: String,
}

pub async fn create(_ctx: &Ctx, _args: &Generate) -> Result<()> {
    bail!("not built yet")
}
