//! The pod network (bridge, veth per pod, IPAM): not built yet. Until it is, sandboxes use
//! Docker's default bridge and pods get Docker's addresses.

use crate::config::Config;
use crate::error::Result;
use crate::worker::PodNetwork;
use std::sync::Arc;

pub async fn from_config(_cfg: &Config) -> Result<Option<Arc<dyn PodNetwork>>> {
    Ok(None)
}
