//! Dialling a TLS server for a tonic channel.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use http::Uri;
use hyper_util::rt::TokioIo;
use rustls_pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

/// For tonic: `Endpoint::from_shared("http://host:port")?.connect_with_connector_lazy(connector)`
/// (the scheme is http because the connector does TLS). Dials the URI's host:port, verifies
/// the server as `server_name` (or the URI host; IP addresses as IP SANs).
///
/// A failed handshake is the `io::Error` tokio-rustls gives, wrapping the `rustls::Error`:
/// [`super::rustls_error`] finds it behind tonic's transport error.
#[derive(Clone)]
pub struct Connector {
    config: Arc<rustls::ClientConfig>,
    server_name: Option<String>,
    rotating: Option<super::ClientIdentity>,
}

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connector")
            .field("server_name", &self.server_name)
            .finish_non_exhaustive()
    }
}

impl Connector {
    pub fn new(config: Arc<rustls::ClientConfig>, server_name: Option<String>) -> Self {
        Connector {
            config,
            server_name,
            rotating: None,
        }
    }

    /// Ends each connection once `identity`'s certificate is replaced (as client-go closes
    /// its connections on rotation): the server checks the certificate of the handshake on
    /// every request, so a connection kept open would go on presenting the old one until it
    /// expired. The channel then dials again, with the new certificate.
    pub fn rotating_with(mut self, identity: super::ClientIdentity) -> Self {
        self.rotating = Some(identity);
        self
    }
}

impl tower_service::Service<Uri> for Connector {
    type Response = TokioIo<ClientConn>;
    type Error = std::io::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let config = self.config.clone();
        let server_name = self.server_name.clone();
        let rotating = self.rotating.clone();
        Box::pin(async move {
            let (host, port) = host_port(&uri)?;
            let name = server_name_for(server_name.as_deref().unwrap_or(&host))?;
            let tcp = TcpStream::connect((host.as_str(), port)).await?;
            tcp.set_nodelay(true)?;
            // Read before the handshake: a rotation during it must still end this connection.
            let generation = rotating.as_ref().map(|i| i.generation());
            let tls = TlsConnector::from(config).connect(name, tcp).await?;
            Ok(TokioIo::new(ClientConn {
                tls,
                identity: rotating.zip(generation),
            }))
        })
    }
}

/// A client TLS connection that fails its next read or write once the client certificate
/// it was made with has been replaced.
pub struct ClientConn {
    tls: TlsStream<TcpStream>,
    identity: Option<(super::ClientIdentity, u64)>,
}

impl ClientConn {
    fn check(&self) -> io::Result<()> {
        match &self.identity {
            Some((identity, generation)) if identity.generation() != *generation => Err(
                io::Error::new(io::ErrorKind::ConnectionReset, "client certificate rotated"),
            ),
            _ => Ok(()),
        }
    }
}

impl AsyncRead for ClientConn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.check()?;
        Pin::new(&mut self.tls).poll_read(cx, buf)
    }
}

impl AsyncWrite for ClientConn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.check()?;
        Pin::new(&mut self.tls).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tls).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tls).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.check()?;
        Pin::new(&mut self.tls).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.tls.is_write_vectored()
    }
}

/// The host (IPv6 without brackets) and port of `uri`; 443 when it names none, since what
/// is behind it speaks TLS.
fn host_port(uri: &Uri) -> Result<(String, u16), std::io::Error> {
    let host = uri.host().filter(|h| !h.is_empty()).ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{uri} names no host"),
        )
    })?;
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    Ok((host, uri.port_u16().unwrap_or(443)))
}

/// A DNS name, or an IP address (verified against IP SANs).
pub(super) fn server_name_for(name: &str) -> Result<ServerName<'static>, std::io::Error> {
    ServerName::try_from(name.to_string()).map_err(|e| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("invalid TLS server name {name:?}: {e}"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_and_port_from_uris() {
        let hp = |s: &str| host_port(&s.parse::<Uri>().unwrap()).unwrap();
        assert_eq!(hp("http://10.0.0.1:6443"), ("10.0.0.1".to_string(), 6443));
        assert_eq!(hp("http://[::1]:6443"), ("::1".to_string(), 6443));
        assert_eq!(hp("http://apiserver"), ("apiserver".to_string(), 443));
    }

    #[test]
    fn ip_names_are_ip_addresses() {
        assert!(matches!(
            server_name_for("127.0.0.1").unwrap(),
            ServerName::IpAddress(_)
        ));
        assert!(matches!(
            server_name_for("kubernetes.default.svc").unwrap(),
            ServerName::DnsName(_)
        ));
        assert!(server_name_for("not a name").is_err());
    }
}
