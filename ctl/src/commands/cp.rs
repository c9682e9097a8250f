//! `ctl cp` (to be built).

use super::Ctx;
use anyhow::{Result, bail};
use clap::Args;

#[derive(Args, Debug, Clone)]
pub struct CpArgs {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
}

pub async fn cp(_ctx: &Ctx, _args: &CpArgs) -> Result<()> {
    bail!("`ctl cp` is not built yet")
}
