//! TLS connections for `tonic::transport::Server::serve_with_incoming`.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::future::BoxFuture;
use futures::stream::{FuturesUnordered, StreamExt};
use futures::{FutureExt, Stream};
use rustls_pki_types::CertificateDer;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tonic::transport::server::Connected;

/// A handshake that has not finished by then is dropped (slowloris).
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Pause after a failed accept (out of file descriptors): retrying at once would spin.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);

/// What a gRPC handler can learn about the connection, from the request extensions:
/// `request.extensions().get::<TlsConnectInfo>()`.
#[derive(Debug, Clone)]
pub struct TlsConnectInfo {
    pub remote_addr: Option<SocketAddr>,
    /// The client's certificate chain (leaf first) as presented, not yet verified.
    pub peer_certificates: Option<Arc<Vec<CertificateDer<'static>>>>,
}

/// A server-side TLS connection whose handshake has completed.
pub struct TlsConn {
    stream: TlsStream<TcpStream>,
    info: TlsConnectInfo,
}

impl TlsConn {
    pub fn info(&self) -> &TlsConnectInfo {
        &self.info
    }
}

impl Connected for TlsConn {
    type ConnectInfo = TlsConnectInfo;

    fn connect_info(&self) -> TlsConnectInfo {
        self.info.clone()
    }
}

impl AsyncRead for TlsConn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for TlsConn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

struct Accepting {
    listener: TcpListener,
    acceptor: TlsAcceptor,
    handshakes: FuturesUnordered<BoxFuture<'static, Option<TlsConn>>>,
}

/// TLS connections from `listener`, handshakes run concurrently (10 s timeout); a failed
/// handshake is logged at debug and skipped, never yielded (an Err would stop tonic's server).
/// Dropping the stream closes the listener and abandons handshakes in progress.
pub fn incoming(
    listener: TcpListener,
    config: Arc<rustls::ServerConfig>,
) -> impl Stream<Item = Result<TlsConn, std::io::Error>> + Send + 'static {
    let state = Accepting {
        listener,
        acceptor: TlsAcceptor::from(config),
        handshakes: FuturesUnordered::new(),
    };
    futures::stream::unfold(state, |mut state| async move {
        loop {
            tokio::select! {
                accepted = state.listener.accept() => match accepted {
                    Ok((tcp, remote)) => {
                        state.handshakes.push(handshake(state.acceptor.clone(), tcp, remote).boxed());
                    }
                    Err(error) => {
                        tracing::warn!(%error, "accepting a connection failed");
                        tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                    }
                },
                Some(done) = state.handshakes.next(), if !state.handshakes.is_empty() => {
                    if let Some(conn) = done {
                        return Some((Ok(conn), state));
                    }
                }
            }
        }
    })
}

async fn handshake(acceptor: TlsAcceptor, tcp: TcpStream, remote: SocketAddr) -> Option<TlsConn> {
    // gRPC frames are small and latency-bound, as tonic's own listener sets it.
    if let Err(error) = tcp.set_nodelay(true) {
        tracing::debug!(%remote, %error, "cannot set TCP_NODELAY");
    }
    let stream = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(error)) => {
            tracing::debug!(%remote, %error, "tls handshake failed");
            return None;
        }
        Err(_) => {
            tracing::debug!(%remote, "tls handshake timed out");
            return None;
        }
    };
    let peer_certificates = stream
        .get_ref()
        .1
        .peer_certificates()
        .map(|certs| Arc::new(certs.iter().map(|c| c.clone().into_owned()).collect()));
    Some(TlsConn {
        stream,
        info: TlsConnectInfo {
            remote_addr: Some(remote),
            peer_certificates,
        },
    })
}
