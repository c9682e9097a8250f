//! `ctl diff` (to be built).

use super::Ctx;
use anyhow::{Result, bail};
use clap::Args;

#[derive(Args, Debug, Clone)]
pub struct DiffArgs {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
}

pub async fn diff(_ctx: &Ctx, _args: &DiffArgs) -> Result<()> {
    bail!("`ctl diff` is not built yet")
}
