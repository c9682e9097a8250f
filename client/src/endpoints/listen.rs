//! The accept loop of a daemon's endpoints: plaintext or TLS (ALPN `h2`, `http/1.1`),
//! HTTP/1.1 and HTTP/2 on each connection (Prometheus scrapes over HTTP/1.1, curl may use
//! either), and a graceful stop: the listener closes, open connections finish.

use axum::body::Body;
use futures::StreamExt;
use futures::future::BoxFuture;
use http::{Request, Response};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// What answers each request: the router, behind authorization when delegated.
pub(crate) type Handler =
    Arc<dyn Fn(Request<Body>) -> BoxFuture<'static, Response<Body>> + Send + Sync>;

/// Open connections get this long to finish once the endpoints stop.
const DRAIN_GRACE: Duration = Duration::from_secs(5);

fn builder() -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder.http2().timer(TokioTimer::new());
    // hyper enforces its HTTP/1 header read timeout (30 s) only with a timer.
    builder.http1().timer(TokioTimer::new());
    builder
}

/// Serves `handler` on `listener` until `shutdown` is cancelled. With `tls`, each request
/// carries the connection's `pki::tls::TlsConnectInfo` (the client's certificates) in its
/// extensions.
pub(crate) async fn serve(
    listener: TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    handler: Handler,
    shutdown: CancellationToken,
) {
    let builder = builder();
    let stop = CancellationToken::new();
    let mut connections = JoinSet::new();
    match tls {
        Some(config) => {
            let incoming = pki::tls::incoming(listener, config);
            tokio::pin!(incoming);
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    Some(conn) = incoming.next() => {
                        let Ok(conn) = conn else { continue };
                        let info = conn.info().clone();
                        spawn(&mut connections, &builder, conn, Some(info), handler.clone(), stop.clone());
                    }
                    Some(_) = connections.join_next(), if !connections.is_empty() => {}
                }
            }
        }
        None => loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                accepted = listener.accept() => match accepted {
                    Ok((tcp, _)) => {
                        let _ = tcp.set_nodelay(true);
                        spawn(&mut connections, &builder, tcp, None, handler.clone(), stop.clone());
                    }
                    Err(error) => {
                        tracing::warn!(%error, "accepting a connection failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                },
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
            }
        },
    }
    stop.cancel();
    let drained = tokio::time::timeout(DRAIN_GRACE, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        connections.abort_all();
    }
}

fn spawn<IO>(
    connections: &mut JoinSet<()>,
    builder: &auto::Builder<TokioExecutor>,
    io: IO,
    info: Option<pki::tls::TlsConnectInfo>,
    handler: Handler,
    stop: CancellationToken,
) where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let builder = builder.clone();
    let remote: Option<SocketAddr> = info.as_ref().and_then(|i| i.remote_addr);
    let service = hyper::service::service_fn(move |request: Request<Incoming>| {
        let mut request = request.map(Body::new);
        if let Some(info) = &info {
            request.extensions_mut().insert(info.clone());
        }
        let answer = handler(request);
        async move { Ok::<_, Infallible>(answer.await) }
    });
    connections.spawn(async move {
        let conn = builder.serve_connection_with_upgrades(TokioIo::new(io), service);
        tokio::pin!(conn);
        let mut stopping = false;
        loop {
            tokio::select! {
                result = conn.as_mut() => {
                    if let Err(error) = result {
                        tracing::debug!(remote = ?remote, %error, "endpoint connection ended with an error");
                    }
                    break;
                }
                _ = stop.cancelled(), if !stopping => {
                    stopping = true;
                    conn.as_mut().graceful_shutdown();
                }
            }
        }
    });
}
