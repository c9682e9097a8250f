//! `ctl events` (to be built).

use super::Ctx;
use anyhow::{Result, bail};
use clap::Args;

#[derive(Args, Debug, Clone)]
pub struct EventsArgs {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
}

pub async fn events(_ctx: &Ctx, _args: &EventsArgs) -> Result<()> {
    bail!("`ctl events` is not built yet")
}
