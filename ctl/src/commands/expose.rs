//! `ctl expose` (to be built).

use super::Ctx;
use anyhow::{Result, bail};
use clap::Args;

#[derive(Args, Debug, Clone)]
pub struct ExposeArgs {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
}

pub async fn expose(_ctx: &Ctx, _args: &ExposeArgs) -> Result<()> {
    bail!("`ctl expose` is not built yet")
}
