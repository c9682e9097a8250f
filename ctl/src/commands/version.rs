//! `ctl version` (to be built).

use super::Ctx;
use anyhow::{Result, bail};
use clap::Args;

#[derive(Args, Debug, Clone)]
pub struct VersionArgs {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
}

pub async fn version(_ctx: &Ctx, _args: &VersionArgs) -> Result<()> {
    bail!("`ctl version` is not built yet")
}
