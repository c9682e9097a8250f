//! `ctl edit` (to be built).

use super::Ctx;
use anyhow::{Result, bail};
use clap::Args;

#[derive(Args, Debug, Clone)]
pub struct EditArgs {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
}

pub async fn edit(_ctx: &Ctx, _args: &EditArgs) -> Result<()> {
    bail!("`ctl edit` is not built yet")
}
