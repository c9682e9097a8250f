//! `ctl logs` and `ctl exec`: the kubelet API (`proto::kubelet_api`), called on the
//! apiserver, which forwards each call to the kubelet of the pod's node. `ctl cp` uses the
//! same exec sessions (see [`session`]).

pub mod exec;
pub mod logs;
pub mod pods;
pub mod session;
pub mod term;

pub use exec::{ExecArgs, exec};
pub use logs::{LogsArgs, logs};

use super::Ctx;
use anyhow::{Result, anyhow};
use client::KubeletApi;

/// The remote command ended with this non-zero exit code, and `command terminated with exit
/// code N` was printed: `ctl` exits with the same code, as kubectl does.
#[derive(Debug)]
pub struct RemoteExit(pub i32);

impl RemoteExit {
    /// The process exit code: the remote one when it fits a byte, else 1.
    pub fn code(&self) -> u8 {
        u8::try_from(self.0).ok().filter(|c| *c != 0).unwrap_or(1)
    }
}

impl std::fmt::Display for RemoteExit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "command terminated with exit code {}", self.0)
    }
}

impl std::error::Error for RemoteExit {}

pub(crate) async fn kubelet_api(ctx: &Ctx) -> Result<KubeletApi> {
    Ok(KubeletApi::via_apiserver_with(&ctx.connection).await?)
}

/// The kubelet's (or the proxy's) reason, as the one line the user sees.
pub(crate) fn status_error(e: client::ApiError) -> anyhow::Error {
    anyhow!("{}", e.message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_exit_codes_become_ctls() {
        assert_eq!(RemoteExit(3).code(), 3);
        assert_eq!(RemoteExit(126).code(), 126);
        // Codes a process cannot exit with still fail.
        assert_eq!(RemoteExit(-1).code(), 1);
        assert_eq!(RemoteExit(256).code(), 1);
        assert_eq!(
            RemoteExit(3).to_string(),
            "command terminated with exit code 3"
        );
    }
}
