//! The accept loop: one listener, TLS (ALPN `h2` and `http/1.1`) or plaintext, HTTP/1.1 and
//! HTTP/2 on each connection with upgrades (WebSocket and SPDY exec need them, and tonic's
//! own server cannot do them), the router behind the authentication layer, and graceful
//! shutdown as tonic did it: stop accepting, ask each connection to finish, wait for them.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use futures::StreamExt;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tower_service::Service;

use super::Body;

/// Every informer is a stream; many share one connection.
const MAX_CONCURRENT_STREAMS: u32 = 10_000;

/// The per-connection settings tonic had, for both protocols.
fn builder() -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(MAX_CONCURRENT_STREAMS);
    // hyper enforces its HTTP/1 header read timeout (30 s) only with a timer.
    builder.http1().timer(TokioTimer::new());
    builder
}

/// Serves `service` on `listener` until `shutdown` turns true, then lets the open
/// connections finish (the caller bounds how long). Dropping the returned future (aborting
/// its task) drops every connection.
pub async fn serve<Svc>(
    listener: TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    service: Svc,
    mut shutdown: watch::Receiver<bool>,
) where
    Svc: Service<::http::Request<Body>, Response = ::http::Response<Body>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    Svc::Future: Send + 'static,
{
    let builder = builder();
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut connections = JoinSet::new();
    let stopped = async move {
        let _ = shutdown.wait_for(|s| *s).await;
    };
    tokio::pin!(stopped);
    match tls {
        Some(config) => {
            let incoming = pki::tls::incoming(listener, config);
            tokio::pin!(incoming);
            loop {
                tokio::select! {
                    _ = &mut stopped => break,
                    Some(conn) = incoming.next() => {
                        let Ok(conn) = conn else { continue };
                        let info = conn.info().clone();
                        spawn(&mut connections, &builder, conn, Extra::Tls(info), service.clone(), stop_rx.clone());
                    }
                    Some(_) = connections.join_next(), if !connections.is_empty() => {}
                }
            }
        }
        None => loop {
            tokio::select! {
                _ = &mut stopped => break,
                accepted = listener.accept() => match accepted {
                    Ok((tcp, remote)) => {
                        // Without it Nagle plus delayed ACKs add ~40 ms to small responses.
                        let _ = tcp.set_nodelay(true);
                        let info = tonic::transport::server::TcpConnectInfo {
                            local_addr: tcp.local_addr().ok(),
                            remote_addr: Some(remote),
                        };
                        spawn(&mut connections, &builder, tcp, Extra::Tcp(info), service.clone(), stop_rx.clone());
                    }
                    Err(error) => {
                        tracing::warn!(%error, "accepting a connection failed");
                        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    }
                },
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
            }
        },
    }
    // The listener is closed (dropped above): new clients are refused at once.
    let _ = stop_tx.send(true);
    while connections.join_next().await.is_some() {}
}

/// What the request extensions carry about the connection, as tonic's `Connected` put it
/// there (the authentication layer and the audit's source IP read it).
#[derive(Clone)]
enum Extra {
    Tls(pki::tls::TlsConnectInfo),
    Tcp(tonic::transport::server::TcpConnectInfo),
}

impl Extra {
    fn insert(&self, extensions: &mut ::http::Extensions) {
        match self {
            Extra::Tls(i) => {
                extensions.insert(i.clone());
            }
            Extra::Tcp(i) => {
                extensions.insert(i.clone());
            }
        }
    }

    fn remote(&self) -> Option<SocketAddr> {
        match self {
            Extra::Tls(i) => i.remote_addr,
            Extra::Tcp(i) => i.remote_addr,
        }
    }
}

fn spawn<IO, Svc>(
    connections: &mut JoinSet<()>,
    builder: &auto::Builder<TokioExecutor>,
    io: IO,
    extra: Extra,
    service: Svc,
    mut stop: watch::Receiver<bool>,
) where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    Svc: Service<::http::Request<Body>, Response = ::http::Response<Body>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    Svc::Future: Send + 'static,
{
    let builder = builder.clone();
    let remote = extra.remote();
    let hyper_service = hyper::service::service_fn(move |request: ::http::Request<Incoming>| {
        let mut request = request.map(Body::new);
        extra.insert(request.extensions_mut());
        let mut service = service.clone();
        async move {
            std::future::poll_fn(|cx| service.poll_ready(cx)).await?;
            service.call(request).await
        }
    });
    connections.spawn(async move {
        let conn = builder.serve_connection_with_upgrades(TokioIo::new(io), hyper_service);
        tokio::pin!(conn);
        let mut stopping = false;
        loop {
            tokio::select! {
                result = conn.as_mut() => {
                    if let Err(error) = result {
                        tracing::debug!(remote = ?remote, %error, "connection ended with an error");
                    }
                    break;
                }
                changed = stop.wait_for(|s| *s), if !stopping => {
                    let _ = changed;
                    stopping = true;
                    conn.as_mut().graceful_shutdown();
                }
            }
        }
    });
}
