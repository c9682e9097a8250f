//! The runtime's usage figures of the node's running pod containers, read once per request:
//! what the Stats rpc, `/metrics/resource` and `/metrics/cadvisor` answer from.

use crate::error::Result;
use crate::runtime::{ContainerInfo, ContainerKind, ContainerStats, Runtime, labels};
use std::time::SystemTime;

/// One running container and its figures.
#[derive(Debug, Clone)]
pub struct Reading {
    pub info: ContainerInfo,
    pub stats: ContainerStats,
}

/// The node's readings at `at`; `failed` when the runtime gave no figures for some
/// running container (it may have stopped in between).
#[derive(Debug, Clone)]
pub struct Readings {
    pub readings: Vec<Reading>,
    pub failed: bool,
    pub at: SystemTime,
}

/// The running app and init containers of `node` matching `filter` (more labels), with
/// their stats, asked of the runtime concurrently.
pub async fn collect<R: Runtime>(
    runtime: &R,
    node: &str,
    filter: &[(&str, &str)],
) -> Result<Readings> {
    let mut labels_wanted = vec![(labels::NODE, node)];
    labels_wanted.extend_from_slice(filter);
    let containers = runtime.list_containers(&labels_wanted).await?;
    let results = futures::future::join_all(
        containers
            .into_iter()
            .filter(|c| c.is_running() && c.kind() != Some(ContainerKind::Sandbox))
            .map(|c| async move {
                let st = runtime.stats(&c.id).await;
                (c, st)
            }),
    )
    .await;
    let mut out = Readings {
        readings: Vec::with_capacity(results.len()),
        failed: false,
        at: SystemTime::now(),
    };
    for (info, st) in results {
        match st {
            Ok(stats) => out.readings.push(Reading { info, stats }),
            Err(e) => {
                tracing::debug!(container = %info.name, error = %e, "no stats for a running container");
                out.failed = true;
            }
        }
    }
    Ok(out)
}
