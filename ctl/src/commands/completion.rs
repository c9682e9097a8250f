//! `ctl completion` (to be built).

use anyhow::{Result, bail};
use clap::Args;

#[derive(Args, Debug, Clone)]
pub struct CompletionArgs {
    pub shell: String,
}

pub fn completion(_args: &CompletionArgs) -> Result<()> {
    bail!("`ctl completion` is not built yet")
}
