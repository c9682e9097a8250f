//! `ctl patch` (to be built).

use super::Ctx;
use anyhow::{Result, bail};
use clap::Args;

#[derive(Args, Debug, Clone)]
pub struct PatchArgs {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
}

pub async fn patch(_ctx: &Ctx, _args: &PatchArgs) -> Result<()> {
    bail!("`ctl patch` is not built yet")
}
