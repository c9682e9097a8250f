//! `ctl port-forward` (to be built).

use super::Ctx;
use anyhow::{Result, bail};
use clap::Args;

#[derive(Args, Debug, Clone)]
pub struct PortForwardArgs {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
}

pub async fn port_forward(_ctx: &Ctx, _args: &PortForwardArgs) -> Result<()> {
    bail!("`ctl port-forward` is not built yet")
}
