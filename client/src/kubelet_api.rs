//! A typed client of the kubelet API (`proto::kubelet_api`: logs, exec, stats). The same
//! service is served by every kubelet and by the apiserver, whose kubelet proxy forwards
//! each call to the kubelet of the pod's (or the named) node; [`KubeletApi::via_apiserver`]
//! and [`KubeletApi::direct`] differ only in where they dial. Errors are [`ApiError`]s, as
//! everywhere in `client`, so callers see the reason the kubelet or the proxy gave.

use crate::connection::{BearerAuth, ConnectionConfig};
use crate::dynamic::AuthChannel;
use proto::ApiError;
use proto::kubelet_api::kubelet_client::KubeletClient;
pub use proto::kubelet_api::{
    ExecExit, ExecStreamOpen, ExecStreamRequest, ExecStreamResponse, TerminalSize,
    exec_stream_request, exec_stream_response,
};
pub use proto::kubelet_api::{
    ExecRequest, ExecResponse, LogChunk, LogsRequest, StatsRequest, StatsResponse,
};

mod port_forward;
pub use port_forward::{
    ForwardError, PortForwardOpen, PortForwardRequest, PortForwardResponse, PortForwardSession,
    forward, port_forward_request, port_forward_response,
};

/// Cheap to clone: clones share one HTTP/2 connection.
#[derive(Clone, Debug)]
pub struct KubeletApi {
    inner: KubeletClient<AuthChannel>,
    target: String,
}

impl KubeletApi {
    /// Through the apiserver at `server` (plaintext, as `Client::connect` takes): the proxy
    /// finds the node of the pod named in each request.
    pub async fn via_apiserver(server: &str) -> Result<Self, ApiError> {
        Self::via_apiserver_with(&ConnectionConfig::plaintext(server)).await
    }

    /// Through the apiserver, with the trust and credentials of `config`.
    pub async fn via_apiserver_with(config: &ConnectionConfig) -> Result<Self, ApiError> {
        let auth = config.bearer()?;
        Self::connect(config, &config.server, auth, "the apiserver").await
    }

    /// Straight to one kubelet (`http://<node address>:<kubelet port>`), plaintext.
    pub async fn direct(kubelet: &str) -> Result<Self, ApiError> {
        Self::direct_with(kubelet, &ConnectionConfig::plaintext(kubelet)).await
    }

    /// Straight to one kubelet at `url` (`https://...`), trusting `config.trust` and
    /// presenting its client certificate. Bearer tokens are not sent: a kubelet
    /// authenticates its callers by certificate, and a token is not handed to whoever
    /// answers at a node's address.
    pub async fn direct_with(url: &str, config: &ConnectionConfig) -> Result<Self, ApiError> {
        Self::connect(config, url, BearerAuth::default(), "the kubelet").await
    }

    async fn connect(
        config: &ConnectionConfig,
        url: &str,
        auth: BearerAuth,
        what: &str,
    ) -> Result<Self, ApiError> {
        let channel = config.dial(url)?.connect(what).await?;
        Ok(KubeletApi {
            inner: KubeletClient::with_interceptor(channel, auth),
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

    /// An interactive exec or attach session: `open` is sent first, then what `input`
    /// yields (stdin chunks, stdin's close, terminal resizes). Errors before the process
    /// starts are the result's; the answer is stdout/stderr chunks, then `exit`.
    pub async fn exec_stream(
        &self,
        open: ExecStreamOpen,
        input: impl futures::Stream<Item = ExecStreamRequest> + Send + 'static,
    ) -> Result<ExecSession, ApiError> {
        use futures::StreamExt;
        let first = ExecStreamRequest {
            kind: Some(exec_stream_request::Kind::Open(open)),
        };
        let requests = futures::stream::once(futures::future::ready(first)).chain(input);
        let s = self.inner.clone().exec_stream(requests).await?.into_inner();
        Ok(ExecSession { inner: s })
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

/// The output of an exec stream, in order: stdout/stderr chunks, then `exit`.
#[derive(Debug)]
pub struct ExecSession {
    inner: tonic::Streaming<ExecStreamResponse>,
}

impl ExecSession {
    /// The next message; `None` when the stream ended.
    pub async fn next(&mut self) -> Result<Option<exec_stream_response::Kind>, ApiError> {
        loop {
            match self.inner.message().await? {
                None => return Ok(None),
                Some(ExecStreamResponse { kind: Some(k) }) => return Ok(Some(k)),
                // An empty message carries nothing; skip it.
                Some(ExecStreamResponse { kind: None }) => continue,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::Reason;

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
