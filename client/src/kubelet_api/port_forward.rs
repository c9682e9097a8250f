//! Port-forward through the kubelet API: one `PortForward` stream per TCP connection to a
//! pod's port ([`KubeletApi::port_forward`]), and [`forward`], which carries a local
//! connection's bytes over such a stream, half-closes included.

use super::KubeletApi;
use futures::{Stream, StreamExt};
use proto::ApiError;
pub use proto::kubelet_api::{
    PortForwardOpen, PortForwardRequest, PortForwardResponse, port_forward_request,
    port_forward_response,
};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// The largest data message [`forward`] sends.
pub const CHUNK: usize = 32 * 1024;

impl KubeletApi {
    /// A connection to `open.port` of `open.pod`, made by its kubelet inside the pod's
    /// network: `open` is sent first, then what `input` yields (data, then `close` or the
    /// stream's end, which the pod reads as EOF). Errors before the connection is made (no
    /// such pod, refused, connection refused by the pod) are the result's.
    pub async fn port_forward(
        &self,
        open: PortForwardOpen,
        input: impl Stream<Item = PortForwardRequest> + Send + 'static,
    ) -> Result<PortForwardSession, ApiError> {
        let first = PortForwardRequest {
            kind: Some(port_forward_request::Kind::Open(open)),
        };
        let requests = futures::stream::once(futures::future::ready(first)).chain(input);
        let s = self
            .inner
            .clone()
            .port_forward(requests)
            .await?
            .into_inner();
        Ok(PortForwardSession { inner: s })
    }
}

/// What comes back from the pod: data, then `close` when the pod closed its side; the
/// stream ends once both sides are closed.
#[derive(Debug)]
pub struct PortForwardSession {
    inner: tonic::Streaming<PortForwardResponse>,
}

impl PortForwardSession {
    /// The next message; `None` when the stream ended.
    pub async fn next(&mut self) -> Result<Option<port_forward_response::Kind>, ApiError> {
        loop {
            match self.inner.message().await? {
                None => return Ok(None),
                Some(PortForwardResponse { kind: Some(k) }) => return Ok(Some(k)),
                Some(PortForwardResponse { kind: None }) => continue,
            }
        }
    }
}

/// Why a forwarded connection failed: on the pod's side (the connection could not be made,
/// the kubelet or the pod failed: the reason the kubelet or the apiserver gave), or on the
/// local one.
#[derive(Debug)]
pub enum ForwardError {
    Remote(ApiError),
    Local(std::io::Error),
}

impl std::fmt::Display for ForwardError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ForwardError::Remote(e) => f.write_str(&e.message),
            ForwardError::Local(e) => write!(f, "the local connection: {e}"),
        }
    }
}

impl std::error::Error for ForwardError {}

/// Carries `local` (an accepted TCP connection, or any byte stream) to `open.port` of the
/// pod until both sides are closed: the local side's EOF is sent as a half-close, the pod's
/// close shuts `local`'s write side. An error of either side ends it.
pub async fn forward<L>(
    api: &KubeletApi,
    open: PortForwardOpen,
    local: L,
) -> Result<(), ForwardError>
where
    L: AsyncRead + AsyncWrite + Send + 'static,
{
    let (mut rd, mut wr) = tokio::io::split(local);
    let (tx, rx) = tokio::sync::mpsc::channel::<PortForwardRequest>(8);
    let mut session = api
        .port_forward(open, tokio_stream::wrappers::ReceiverStream::new(rx))
        .await
        .map_err(ForwardError::Remote)?;
    // Local to pod: ends at the local EOF (sent as `close`) or when the stream is gone.
    let upload = async move {
        let mut buf = vec![0u8; CHUNK];
        loop {
            let kind = match rd.read(&mut buf).await {
                Ok(0) => port_forward_request::Kind::Close(true),
                Ok(n) => port_forward_request::Kind::Data(buf[..n].to_vec()),
                Err(e) => return Err(ForwardError::Local(e)),
            };
            let last = matches!(kind, port_forward_request::Kind::Close(_));
            if tx
                .send(PortForwardRequest { kind: Some(kind) })
                .await
                .is_err()
                || last
            {
                // The request stream stays open (its end is the close already sent) until
                // the answer ends; dropping `tx` here would only repeat the half-close.
                std::future::pending::<()>().await;
            }
        }
    };
    // Pod to local: ends with the answer.
    let download = async move {
        while let Some(kind) = session.next().await.map_err(ForwardError::Remote)? {
            match kind {
                port_forward_response::Kind::Data(d) => {
                    wr.write_all(&d).await.map_err(ForwardError::Local)?;
                }
                port_forward_response::Kind::Close(_) => {
                    let _ = wr.shutdown().await;
                }
            }
        }
        let _ = wr.shutdown().await;
        Ok(())
    };
    tokio::pin!(upload, download);
    tokio::select! {
        r = &mut download => r,
        r = &mut upload => r,
    }
}
