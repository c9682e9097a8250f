//! Dialling a TLS server for a tonic channel.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

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
        }
    }
}

impl tower_service::Service<Uri> for Connector {
    type Response = TokioIo<TlsStream<TcpStream>>;
    type Error = std::io::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let config = self.config.clone();
        let server_name = self.server_name.clone();
        Box::pin(async move {
            let (host, port) = host_port(&uri)?;
            let name = server_name_for(server_name.as_deref().unwrap_or(&host))?;
            let tcp = TcpStream::connect((host.as_str(), port)).await?;
            tcp.set_nodelay(true)?;
            let tls = TlsConnector::from(config).connect(name, tcp).await?;
            Ok(TokioIo::new(tls))
        })
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
