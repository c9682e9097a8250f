//! `ctl wait` (to be built).

use super::Ctx;
use anyhow::{Result, bail};
use clap::Args;

#[derive(Args, Debug, Clone)]
pub struct WaitArgs {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
}

pub async fn wait(_ctx: &Ctx, _args: &WaitArgs) -> Result<()> {
    bail!("`ctl wait` is not built yet")
}
