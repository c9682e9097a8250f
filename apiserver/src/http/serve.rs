//! The accept loop: one listener, TLS (ALPN `h2` and `http/1.1`) or plaintext, HTTP/1.1 and
//! HTTP/2 on each connection with upgrades (WebSocket and SPDY exec need them, and tonic's
//! own server cannot do them), the router behind the authentication layer, and graceful
//! shutdown as tonic did it: stop accepting, ask each connection to finish, wait for them.
//!
//! Each HTTP/2 connection is pinged when quiet (a peer that vanished without closing is
//! noticed and dropped) and, with a maximum age, told to go away (GOAWAY) after that age
//! plus or minus 10%, as gRPC's MaxConnectionAge: in-flight requests finish, new ones go
//! to a new connection, which a load balancer may send to another apiserver.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

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

/// How connections are kept and retired (the `--http2-keepalive-*` and
/// `--max-connection-age*` flags).
#[derive(Clone, Debug)]
pub struct ConnectionOptions {
    /// Ping an HTTP/2 peer after this long without a frame from it (`None`: never).
    pub keepalive_interval: Option<Duration>,
    /// Close the connection when a ping is not answered within this.
    pub keepalive_timeout: Duration,
    /// Send GOAWAY after this age, jittered by +-10% (`None`: connections never age).
    pub max_connection_age: Option<Duration>,
    /// After GOAWAY, how long in-flight requests (watches included) may go on before the
    /// connection is closed under them.
    pub max_connection_age_grace: Duration,
}

impl Default for ConnectionOptions {
    fn default() -> Self {
        ConnectionOptions {
            keepalive_interval: Some(DEFAULT_KEEPALIVE_INTERVAL),
            keepalive_timeout: DEFAULT_KEEPALIVE_TIMEOUT,
            max_connection_age: None,
            max_connection_age_grace: DEFAULT_MAX_CONNECTION_AGE_GRACE,
        }
    }
}

/// client-go's HTTP/2 health check (ReadIdleTimeout 30 s, PingTimeout 15 s), from this end:
/// one ping per quiet connection every 30 s costs nothing, and a dead peer (a node that
/// lost power, a partition) is dropped within 45 s with its watches, rather than never.
pub const DEFAULT_KEEPALIVE_INTERVAL: Duration = Duration::from_secs(30);
pub const DEFAULT_KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(15);
/// Long enough for a list or a rewatch to finish; watches still open then end and their
/// clients watch again on a new connection.
pub const DEFAULT_MAX_CONNECTION_AGE_GRACE: Duration = Duration::from_secs(60);

/// gRPC's MaxConnectionAge jitter: connections made together do not all go away together.
const AGE_JITTER: f64 = 0.1;

/// `age` moved by `unit` (in -1..=1) times the jitter: a pure function of its draw.
pub fn jittered_age(age: Duration, unit: f64) -> Duration {
    age.mul_f64(1.0 + AGE_JITTER * unit.clamp(-1.0, 1.0))
}

/// The per-connection settings tonic had, for both protocols, and the keepalive pings.
fn builder(options: &ConnectionOptions) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(MAX_CONCURRENT_STREAMS)
        .keep_alive_interval(options.keepalive_interval)
        .keep_alive_timeout(options.keepalive_timeout);
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
    options: ConnectionOptions,
    mut shutdown: watch::Receiver<bool>,
) where
    Svc: Service<::http::Request<Body>, Response = ::http::Response<Body>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    Svc::Future: Send + 'static,
{
    let builder = builder(&options);
    let age = options.max_connection_age;
    let grace = options.max_connection_age_grace;
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
                        spawn(&mut connections, &builder, conn, Extra::Tls(info), service.clone(), Retire::new(age, grace), stop_rx.clone());
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
                        spawn(&mut connections, &builder, tcp, Extra::Tcp(info), service.clone(), Retire::new(age, grace), stop_rx.clone());
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

/// When one connection is told to go away, and when it is closed after that.
struct Retire {
    at: Option<tokio::time::Instant>,
    grace: Duration,
}

impl Retire {
    fn new(age: Option<Duration>, grace: Duration) -> Self {
        let at = age.map(|age| {
            use rand::Rng;
            let unit = rand::rng().random_range(-1.0..=1.0);
            tokio::time::Instant::now() + jittered_age(age, unit)
        });
        Retire { at, grace }
    }
}

/// Resolves at `at`, never without one.
async fn at_or_never(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

fn spawn<IO, Svc>(
    connections: &mut JoinSet<()>,
    builder: &auto::Builder<TokioExecutor>,
    io: IO,
    extra: Extra,
    service: Svc,
    retire: Retire,
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
        // Set once the connection is told to go away for its age: the grace's end.
        let mut close_at = None;
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
                _ = at_or_never(retire.at), if !stopping => {
                    tracing::debug!(remote = ?remote, "connection reached its maximum age: going away");
                    stopping = true;
                    close_at = Some(tokio::time::Instant::now() + retire.grace);
                    conn.as_mut().graceful_shutdown();
                }
                _ = at_or_never(close_at), if close_at.is_some() => {
                    tracing::debug!(remote = ?remote, "connection's grace after its maximum age is over: closing it");
                    break;
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_age_is_jittered_by_ten_percent_either_way() {
        let age = Duration::from_secs(100);
        assert_eq!(jittered_age(age, 0.0), age);
        assert_eq!(jittered_age(age, -1.0), Duration::from_secs(90));
        assert_eq!(jittered_age(age, 1.0), Duration::from_secs(110));
        // A draw outside the range cannot push the age further.
        assert_eq!(jittered_age(age, 7.0), Duration::from_secs(110));
        assert_eq!(jittered_age(age, -7.0), Duration::from_secs(90));
    }
}
