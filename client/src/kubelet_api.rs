//! A typed client of the kubelet API (`proto::kubelet_api`: logs, exec, stats). The same
//! service is served by every kubelet and by the apiserver, whose kubelet proxy forwards
//! each call to the kubelet of the pod's (or the named) node; [`KubeletApi::via_apiserver`]
//! and [`KubeletApi::direct`] differ only in where they dial. Errors are [`ApiError`]s, as
//! everywhere in `client`, so callers see the reason the kubelet or the proxy gave.

use proto::kubelet_api::kubelet_client::KubeletClient;
pub use proto::kubelet_api::{
    ExecRequest, ExecResponse, LogChunk, LogsRequest, StatsRequest, StatsResponse,
};
use proto::{ApiError, Reason};
use std::time::Duration;
use tonic::transport::{Channel, Endpoint};

/// Cheap to clone: clones share one HTTP/2 connection.
#[derive(Clone, Debug)]
pub struct KubeletApi {
    inner: KubeletClient<Channel>,
    target: String,
}

impl KubeletApi {
    /// Through the apiserver at `server` (its URL, as `Client::connect` takes): the proxy
    /// finds the node of the pod named in each request.
    pub async fn via_apiserver(server: &str) -> Result<Self, ApiError> {
        Self::connect(server, "the apiserver").await
    }

    /// Straight to one kubelet (`http://<node address>:<kubelet port>`).
    pub async fn direct(kubelet: &str) -> Result<Self, ApiError> {
        Self::connect(kubelet, "the kubelet").await
    }

    async fn connect(url: &str, what: &str) -> Result<Self, ApiError> {
        let endpoint = Endpoint::from_shared(url.to_string())
            .map_err(|e| ApiError::bad_request(format!("invalid address {url:?}: {e}")))?
            .connect_timeout(Duration::from_secs(3))
            .tcp_nodelay(true);
        let channel = endpoint.connect().await.map_err(|e| {
            ApiError::new(
                Reason::Unavailable,
                format!("cannot reach {what} at {url}: {}", root_cause(&e)),
            )
        })?;
        Ok(KubeletApi {
            inner: KubeletClient::new(channel),
            target: url.to_string(),
        })
    }

    /// Where this client dials.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// A container's log as it arrives (with `follow`, until the container stops or the
    /// stream is dropped).
    pub async fn logs(&self, req: LogsRequest) -> Result<LogStream, ApiError> {
        let s = self.inner.clone().logs(req).await?.into_inner();
        Ok(LogStream { inner: s })
    }

    /// Runs a command in a running container; its output and exit code.
    pub async fn exec(&self, req: ExecRequest) -> Result<ExecResponse, ApiError> {
        Ok(self.inner.clone().exec(req).await?.into_inner())
    }

    /// CPU and memory of a node's pods (one pod when `req.pod` is set).
    pub async fn stats(&self, req: StatsRequest) -> Result<StatsResponse, ApiError> {
        Ok(self.inner.clone().stats(req).await?.into_inner())
    }
}

/// The chunks of one log, in order.
#[derive(Debug)]
pub struct LogStream {
    inner: tonic::Streaming<LogChunk>,
}

impl LogStream {
    /// The next chunk; `None` when the log ended.
    pub async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, ApiError> {
        Ok(self.inner.message().await?.map(|c| c.data))
    }
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_unreachable_kubelet_is_unavailable_and_named() {
        // Port 9 on loopback: nothing listens there in a test environment.
        let e = KubeletApi::direct("http://127.0.0.1:9").await.unwrap_err();
        assert!(e.is(Reason::Unavailable), "{e:?}");
        assert!(
            e.message
                .starts_with("cannot reach the kubelet at http://127.0.0.1:9: "),
            "{}",
            e.message
        );
        let e = KubeletApi::via_apiserver("not a url").await.unwrap_err();
        assert!(e.is(Reason::BadRequest), "{e:?}");
    }
}
