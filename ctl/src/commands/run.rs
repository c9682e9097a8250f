//! `ctl run` (to be built).

use super::Ctx;
use anyhow::{Result, bail};
use clap::Args;

#[derive(Args, Debug, Clone)]
pub struct RunArgs {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
}

pub async fn run(_ctx: &Ctx, _args: &RunArgs) -> Result<()> {
    bail!("`ctl run` is not built yet")
}
