//! Connections to a port inside a pod (CRI's `PortForward`): made from inside the pod's
//! network namespace to its localhost, as Kubernetes' runtimes do, so a server listening
//! only on the pod's 127.0.0.1 is reached too, and the pod's address need not be routable
//! from where the kubelet runs.
//!
//! The socket is opened by a short-lived thread that joins the namespace of the sandbox's
//! process (`/proc/<pid>/ns/net`): a socket keeps the namespace it was made in, so the
//! connection is then driven by the caller's runtime; the thread, the only one whose
//! namespace changed, ends. A sandbox in the kubelet's own namespace (host network) is
//! dialed without joining anything.

use crate::error::{Error, Result};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};

/// How long a connection to the pod's localhost may take (it is local: refused or accepted
/// at once unless the server's backlog is full).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Both directions of a connection to a pod's port.
pub trait PortConnection: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> PortConnection for T {}

pub type PortStream = Box<dyn PortConnection>;

/// Where a pod's port is dialed, in order: IPv4 localhost, then IPv6 (Kubernetes' order).
pub fn localhost_targets(port: u16) -> [SocketAddr; 2] {
    [
        SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
        SocketAddr::from((Ipv6Addr::LOCALHOST, port)),
    ]
}

/// The first target that accepts, or an error naming why each failed.
fn dial_first(targets: &[SocketAddr], timeout: Duration) -> Result<std::net::TcpStream> {
    let mut failures = Vec::new();
    for t in targets {
        match std::net::TcpStream::connect_timeout(t, timeout) {
            Ok(s) => return Ok(s),
            Err(e) => failures.push(format!(
                "{} {t}: {e}",
                if t.is_ipv4() { "IPv4" } else { "IPv6" }
            )),
        }
    }
    let port = targets.first().map(|t| t.port()).unwrap_or(0);
    Err(Error::Network(format!(
        "failed to connect to localhost:{port} inside the pod's network namespace: {}",
        failures.join("; ")
    )))
}

/// Whether `/proc/<pid>/ns/net` is the namespace this process is in.
fn same_namespace(path: &str) -> Result<bool> {
    use std::os::unix::fs::MetadataExt;
    let theirs = std::fs::metadata(path).map_err(|e| Error::io(format!("reading {path}"), e))?;
    let ours = std::fs::metadata("/proc/self/ns/net")
        .map_err(|e| Error::io("reading /proc/self/ns/net", e))?;
    Ok((theirs.dev(), theirs.ino()) == (ours.dev(), ours.ino()))
}

/// A TCP connection to `port` on the localhost of the network namespace of process `pid`
/// (a sandbox's main process).
pub async fn connect_in_namespace_of(pid: u32, port: u16) -> Result<PortStream> {
    let path = format!("/proc/{pid}/ns/net");
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name(format!("portfwd-{pid}"))
        .spawn(move || {
            let r = (|| -> Result<std::net::TcpStream> {
                if !same_namespace(&path)? {
                    let f = std::fs::File::open(&path)
                        .map_err(|e| Error::io(format!("opening {path}"), e))?;
                    nix::sched::setns(&f, nix::sched::CloneFlags::CLONE_NEWNET)
                        .map_err(|e| Error::Network(format!("setns into {path}: {e}")))?;
                }
                let s = dial_first(&localhost_targets(port), CONNECT_TIMEOUT)?;
                s.set_nonblocking(true)
                    .map_err(|e| Error::io("making the pod connection non-blocking", e))?;
                Ok(s)
            })();
            let _ = tx.send(r);
        })
        .map_err(|e| Error::io("starting the port-forward thread", e))?;
    let s = rx
        .await
        .map_err(|_| Error::Network("the port-forward thread died".into()))??;
    let s = tokio::net::TcpStream::from_std(s)
        .map_err(|e| Error::io("registering the pod connection", e))?;
    let _ = s.set_nodelay(true);
    Ok(Box::new(s))
}

/// The fake runtime's pod port: an in-memory connection whose far side echoes every byte
/// back and closes its side once the caller closed theirs (after echoing everything).
pub fn echo() -> PortStream {
    let (near, mut far) = tokio::io::duplex(64 * 1024);
    tokio::spawn(async move {
        let (mut r, mut w) = tokio::io::split(&mut far);
        let _ = tokio::io::copy(&mut r, &mut w).await;
        let _ = tokio::io::AsyncWriteExt::shutdown(&mut w).await;
    });
    Box::new(near)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[test]
    fn a_refused_port_names_both_families() {
        // A port nothing listens on: bind one, learn its number, close it.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let e = dial_first(&localhost_targets(port), Duration::from_secs(2))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(&format!(
                "failed to connect to localhost:{port} inside the pod's network namespace"
            )) && e.contains("IPv4 127.0.0.1:")
                && e.contains("IPv6 [::1]:"),
            "{e}"
        );
    }

    #[tokio::test]
    async fn the_own_namespace_is_dialed_without_joining_it() {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = l.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            let (mut s, _) = l.accept().await.unwrap();
            s.write_all(b"hello").await.unwrap();
        });
        let mut c = connect_in_namespace_of(std::process::id(), port)
            .await
            .unwrap();
        let mut got = Vec::new();
        c.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, b"hello");
        server.await.unwrap();
    }

    #[tokio::test]
    async fn the_fake_port_echoes_and_closes_after_the_caller() {
        let mut c = echo();
        c.write_all(b"ping").await.unwrap();
        c.shutdown().await.unwrap();
        let mut got = Vec::new();
        c.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, b"ping");
    }
}
