//! `ctl explain` (to be built).

use super::Ctx;
use anyhow::{Result, bail};
use clap::Args;

#[derive(Args, Debug, Clone)]
pub struct ExplainArgs {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
}

pub async fn explain(_ctx: &Ctx, _args: &ExplainArgs) -> Result<()> {
    bail!("`ctl explain` is not built yet")
}
