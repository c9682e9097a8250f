//! The crate's one error type.

use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("running {command}: {source}")]
    Spawn {
        command: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{command} failed ({status}): {stderr}")]
    Command {
        command: String,
        status: String,
        stderr: String,
    },
    #[error("{command} did not finish within {timeout:?}")]
    Timeout { command: String, timeout: Duration },
    #[error(
        "ipvs mode needs the kernel's IP Virtual Server support (CONFIG_IP_VS, module ip_vs): {detail}"
    )]
    IpvsUnavailable { detail: String },
    #[error("invalid {flag}: {reason}")]
    InvalidFlag { flag: &'static str, reason: String },
    #[error("metrics and health endpoints")]
    Endpoints(#[from] client::daemon::EndpointError),
    #[error("nftables over netlink: {0}")]
    Netlink(String),
    #[error(
        "the nftables ruleset changed while this sync was sent (another writer); the next sync rebuilds the table"
    )]
    NetlinkConflict,
    #[error("sync task failed: {0}")]
    Task(String),
}
