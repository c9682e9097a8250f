//! Serving: a pure decision per query ([`answer`]) and the UDP and TCP loops around it.
//! Names outside the cluster domain go to the upstream server (over the transport the
//! client used) or are refused when there is none.

use crate::acl::{self, Acl};
use crate::codec::{
    self, CLASS_IN, Header, Message, RCODE_FORMERR, RCODE_NOERROR, RCODE_NOTIMP, RCODE_NXDOMAIN,
    RCODE_REFUSED, RCODE_SERVFAIL, TYPE_ANY,
};
use crate::metrics::{self, Report};
use crate::table::{Lookup, Table};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// How long an upstream server has to answer a forwarded query.
pub const FORWARD_TIMEOUT: Duration = Duration::from_secs(2);
/// A TCP connection with no query for this long is closed.
const TCP_IDLE: Duration = Duration::from_secs(10);

/// The table the loops read; `None` until the informers have synced (queries get
/// SERVFAIL then, so a resolver tries again rather than caching a wrong NXDOMAIN).
pub type TableRx = watch::Receiver<Option<Arc<Table>>>;
/// Who may ask (see [`crate::acl`]).
pub type AclRx = watch::Receiver<Arc<Acl>>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Reply(Message),
    /// Send the query as it came to the upstream server.
    Forward,
    /// Not a query (a response, or too short to answer): say nothing.
    Drop,
}

fn reply(query: &Message, rcode: u8, aa: bool, ra: bool) -> Message {
    Message {
        header: Header {
            id: query.header.id,
            qr: true,
            opcode: query.header.opcode,
            aa,
            tc: false,
            rd: query.header.rd,
            ra,
            rcode,
        },
        questions: query.questions.clone(),
        ..Default::default()
    }
}

/// What to do with one query packet.
pub fn answer(table: Option<&Table>, packet: &[u8], has_upstream: bool) -> Outcome {
    let query = match codec::decode_query(packet) {
        Ok(q) => q,
        Err(_) => {
            let Some(id) = codec::peek_id(packet) else {
                return Outcome::Drop;
            };
            if packet.len() < 12 || packet[2] & 0x80 != 0 {
                return Outcome::Drop;
            }
            let mut m = Message::default();
            m.header.id = id;
            return Outcome::Reply(reply(&m, RCODE_FORMERR, false, has_upstream));
        }
    };
    if query.header.qr {
        return Outcome::Drop;
    }
    if query.header.opcode != 0 {
        return Outcome::Reply(reply(&query, RCODE_NOTIMP, false, has_upstream));
    }
    let [q] = query.questions.as_slice() else {
        return Outcome::Reply(reply(&query, RCODE_FORMERR, false, has_upstream));
    };
    let Some(table) = table else {
        return Outcome::Reply(reply(&query, RCODE_SERVFAIL, false, has_upstream));
    };
    let lookup = if q.qclass == CLASS_IN || q.qclass == TYPE_ANY {
        table.lookup(&q.name, q.qtype)
    } else {
        Lookup::NotOurs
    };
    let mut m = match lookup {
        Lookup::Answer(records) => {
            let mut m = reply(&query, RCODE_NOERROR, true, has_upstream);
            m.answers = records;
            m
        }
        Lookup::NoData => {
            let mut m = reply(&query, RCODE_NOERROR, true, has_upstream);
            m.authority.push(table.soa());
            m
        }
        Lookup::NxDomain => {
            let mut m = reply(&query, RCODE_NXDOMAIN, true, has_upstream);
            m.authority.push(table.soa());
            m
        }
        Lookup::NotOurs if has_upstream => return Outcome::Forward,
        Lookup::NotOurs => reply(&query, RCODE_REFUSED, false, false),
    };
    m.header.ra = has_upstream;
    Outcome::Reply(m)
}

/// Sends `packet` to `upstream` over UDP and returns its answer (same id).
pub async fn forward(upstream: SocketAddr, packet: &[u8]) -> std::io::Result<Vec<u8>> {
    let bind: SocketAddr = if upstream.is_ipv4() {
        ([0, 0, 0, 0], 0).into()
    } else {
        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let sock = UdpSocket::bind(bind).await?;
    sock.connect(upstream).await?;
    sock.send(packet).await?;
    let mut buf = vec![0u8; 65535];
    let deadline = tokio::time::Instant::now() + FORWARD_TIMEOUT;
    loop {
        let n = tokio::time::timeout_at(deadline, sock.recv(&mut buf))
            .await
            .map_err(|_| {
                std::io::Error::new(std::io::ErrorKind::TimedOut, "upstream timed out")
            })??;
        // A stray datagram with another id is not our answer.
        if n >= 2 && buf[..2] == packet[..2] {
            buf.truncate(n);
            return Ok(buf);
        }
    }
}

/// Sends `packet` to `upstream` over TCP (for a query that came over TCP, whose answer may
/// not fit a UDP datagram) and returns its answer.
pub async fn forward_tcp(upstream: SocketAddr, packet: &[u8]) -> std::io::Result<Vec<u8>> {
    let exchange = async {
        let mut s = TcpStream::connect(upstream).await?;
        let len = u16::try_from(packet.len())
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidInput, "query too long"))?;
        s.write_all(&len.to_be_bytes()).await?;
        s.write_all(packet).await?;
        let mut len = [0u8; 2];
        s.read_exact(&mut len).await?;
        let mut buf = vec![0u8; usize::from(u16::from_be_bytes(len))];
        s.read_exact(&mut buf).await?;
        Ok(buf)
    };
    tokio::time::timeout(FORWARD_TIMEOUT, exchange)
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "upstream timed out"))?
}

/// SERVFAIL for a query the upstream did not answer.
fn servfail(packet: &[u8]) -> Option<Vec<u8>> {
    let q = codec::decode_query(packet).ok()?;
    Some(reply(&q, RCODE_SERVFAIL, false, true).encode())
}

/// Who wrote a local answer, as CoreDNS' `plugin` label: the table's answers are
/// authoritative (the kubernetes plugin's); the rest the server wrote itself.
fn local_plugin(m: &Message) -> &'static str {
    if m.header.aa { "kubernetes" } else { "" }
}

/// The answer to `packet` and who wrote it (see [`local_plugin`]); None: say nothing.
async fn respond(
    table: &TableRx,
    upstream: Option<SocketAddr>,
    packet: &[u8],
    udp: bool,
) -> Option<(Vec<u8>, &'static str)> {
    let table = table.borrow().clone();
    match answer(table.as_deref(), packet, upstream.is_some()) {
        Outcome::Reply(m) if udp => Some((m.encode_udp(codec::UDP_LIMIT), local_plugin(&m))),
        Outcome::Reply(m) => Some((m.encode(), local_plugin(&m))),
        Outcome::Drop => None,
        Outcome::Forward => {
            let up = upstream?;
            let res = if udp {
                forward(up, packet).await
            } else {
                forward_tcp(up, packet).await
            };
            match res {
                Ok(r) => Some((r, "forward")),
                Err(e) => {
                    tracing::debug!(upstream = %up, error = %e, "forwarding failed");
                    servfail(packet).map(|r| (r, ""))
                }
            }
        }
    }
}

/// Records one response sent (CoreDNS' metrics).
fn report(
    server: &Arc<String>,
    udp: bool,
    peer: IpAddr,
    query: &[u8],
    response: &[u8],
    plugin: &'static str,
    started: Instant,
) {
    metrics::dns().report(&Report::new(
        server,
        udp,
        peer,
        query,
        response,
        plugin,
        started.elapsed(),
    ));
}

/// Answers UDP queries until cancelled. Local answers are sent inline; forwarded ones in
/// their own task so a slow upstream does not hold up the cluster's names.
pub async fn serve_udp(
    sock: Arc<UdpSocket>,
    table: TableRx,
    acl: AclRx,
    upstream: Option<SocketAddr>,
    cancel: CancellationToken,
) {
    let mut buf = vec![0u8; 65535];
    let mut forwards = JoinSet::new();
    let server = Arc::new(
        sock.local_addr()
            .map(metrics::server_label)
            .unwrap_or_default(),
    );
    loop {
        let (n, peer) = tokio::select! {
            _ = cancel.cancelled() => return,
            Some(_) = forwards.join_next(), if !forwards.is_empty() => continue,
            r = sock.recv_from(&mut buf) => match r {
                Ok(x) => x,
                Err(e) => {
                    // ICMP errors from earlier sends surface here on Linux; keep serving.
                    tracing::debug!(error = %e, "udp receive");
                    continue;
                }
            },
        };
        let started = Instant::now();
        let packet = buf[..n].to_vec();
        let (outcome, refused) = if acl.borrow().allows(peer.ip()) {
            let table_now = table.borrow().clone();
            (
                answer(table_now.as_deref(), &packet, upstream.is_some()),
                false,
            )
        } else {
            tracing::debug!(peer = %peer, "query from outside the allowed clients refused");
            (acl::refuse(&packet), true)
        };
        match outcome {
            Outcome::Reply(m) => {
                let r = m.encode_udp(codec::UDP_LIMIT);
                if let Err(e) = sock.send_to(&r, peer).await {
                    tracing::debug!(peer = %peer, error = %e, "udp send");
                }
                let plugin = if refused { "acl" } else { local_plugin(&m) };
                report(&server, true, peer.ip(), &packet, &r, plugin, started);
            }
            Outcome::Drop => {}
            Outcome::Forward => {
                let (sock, table, server) = (sock.clone(), table.clone(), server.clone());
                forwards.spawn(async move {
                    if let Some((r, plugin)) = respond(&table, upstream, &packet, true).await {
                        let _ = sock.send_to(&r, peer).await;
                        report(&server, true, peer.ip(), &packet, &r, plugin, started);
                    }
                });
            }
        }
    }
}

/// Answers DNS over TCP (length-prefixed messages, several per connection) until cancelled.
pub async fn serve_tcp(
    listener: TcpListener,
    table: TableRx,
    acl: AclRx,
    upstream: Option<SocketAddr>,
    cancel: CancellationToken,
) {
    let mut conns = JoinSet::new();
    let server = Arc::new(
        listener
            .local_addr()
            .map(metrics::server_label)
            .unwrap_or_default(),
    );
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
            r = listener.accept() => match r {
                Ok((stream, peer)) => {
                    let table = table.clone();
                    let allowed = acl.borrow().allows(peer.ip());
                    let server = server.clone();
                    conns.spawn(async move {
                        let client = Client { server: &server, peer: peer.ip(), allowed };
                        if let Err(e) = serve_conn(stream, table, upstream, client).await {
                            tracing::debug!(peer = %peer, error = %e, "tcp connection");
                        }
                    });
                }
                Err(e) => {
                    tracing::warn!(error = %e, "tcp accept");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
        }
    }
}

/// Who a TCP connection serves: its peer, whether the peer may ask, and the `server`
/// label of its metrics.
struct Client<'a> {
    server: &'a Arc<String>,
    peer: IpAddr,
    allowed: bool,
}

async fn serve_conn(
    mut stream: TcpStream,
    table: TableRx,
    upstream: Option<SocketAddr>,
    client: Client<'_>,
) -> std::io::Result<()> {
    loop {
        let mut len = [0u8; 2];
        match tokio::time::timeout(TCP_IDLE, stream.read_exact(&mut len)).await {
            Err(_) => return Ok(()),
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(()),
            Ok(r) => r?,
        };
        let mut packet = vec![0u8; usize::from(u16::from_be_bytes(len))];
        tokio::time::timeout(TCP_IDLE, stream.read_exact(&mut packet))
            .await
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "query body"))??;
        let started = Instant::now();
        let r = if client.allowed {
            respond(&table, upstream, &packet, false).await
        } else {
            match acl::refuse(&packet) {
                Outcome::Reply(m) => Some((m.encode(), "acl")),
                _ => None,
            }
        };
        let Some((mut r, plugin)) = r else {
            return Ok(());
        };
        r.truncate(usize::from(u16::MAX));
        stream.write_all(&(r.len() as u16).to_be_bytes()).await?;
        stream.write_all(&r).await?;
        report(
            client.server,
            false,
            client.peer,
            &packet,
            &r,
            plugin,
            started,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{RData, TYPE_A, TYPE_SOA, decode_response, query};
    use std::collections::HashMap;

    fn table() -> Table {
        let svc = proto::k8s::Service {
            metadata: Some(proto::k8s::ObjectMeta {
                name: "web".into(),
                namespace: "default".into(),
                ..Default::default()
            }),
            spec: Some(proto::k8s::ServiceSpec {
                cluster_ip: "10.96.0.7".into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        Table::build("cluster.local", &[Arc::new(svc)], &HashMap::new())
    }

    fn reply_of(o: Outcome) -> Message {
        match o {
            Outcome::Reply(m) => decode_response(&m.encode()).unwrap(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn answers_nxdomain_refused_and_forward() {
        let t = table();
        let m = reply_of(answer(
            Some(&t),
            &query(7, "web.default.svc.cluster.local", TYPE_A),
            false,
        ));
        assert_eq!(m.header.id, 7);
        assert!(m.header.qr && m.header.aa && m.header.rd && !m.header.ra);
        assert_eq!(m.answers[0].data, RData::A([10, 96, 0, 7].into()));

        let m = reply_of(answer(
            Some(&t),
            &query(8, "gone.default.svc.cluster.local", TYPE_A),
            true,
        ));
        assert_eq!(m.header.rcode, RCODE_NXDOMAIN);
        assert!(m.header.ra);
        assert_eq!(m.authority[0].data.rtype(), TYPE_SOA);

        let m = reply_of(answer(Some(&t), &query(9, "example.com", TYPE_A), false));
        assert_eq!(m.header.rcode, RCODE_REFUSED);
        assert_eq!(
            answer(Some(&t), &query(9, "example.com", TYPE_A), true),
            Outcome::Forward
        );
        // Before the caches sync.
        let m = reply_of(answer(
            None,
            &query(10, "web.default.svc.cluster.local", TYPE_A),
            false,
        ));
        assert_eq!(m.header.rcode, RCODE_SERVFAIL);
    }

    #[test]
    fn malformed_and_non_queries() {
        let t = table();
        assert_eq!(answer(Some(&t), b"\x01", false), Outcome::Drop);
        let m = reply_of(answer(
            Some(&t),
            b"\x00\x05\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03ab",
            false,
        ));
        assert_eq!((m.header.id, m.header.rcode), (5, RCODE_FORMERR));
        // A response is never answered (no reflection loops).
        let mut resp = query(6, "web.default.svc.cluster.local", TYPE_A);
        resp[2] |= 0x80;
        assert_eq!(answer(Some(&t), &resp, false), Outcome::Drop);
        // Opcode STATUS.
        let mut status = query(6, "web.default.svc.cluster.local", TYPE_A);
        status[2] |= 2 << 3;
        assert_eq!(
            reply_of(answer(Some(&t), &status, false)).header.rcode,
            RCODE_NOTIMP
        );
    }

    #[tokio::test]
    async fn forwards_to_upstream_and_servfails_when_it_is_silent() {
        // A fake upstream answering every query with one A record.
        let up = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let up_addr = up.local_addr().unwrap();
        tokio::spawn(async move {
            let mut buf = [0u8; 512];
            while let Ok((n, peer)) = up.recv_from(&mut buf).await {
                let q = codec::decode_query(&buf[..n]).unwrap();
                let mut m = reply(&q, RCODE_NOERROR, false, true);
                m.answers.push(codec::Record {
                    name: q.questions[0].name.clone(),
                    ttl: 60,
                    data: RData::A([192, 0, 2, 1].into()),
                });
                up.send_to(&m.encode(), peer).await.unwrap();
            }
        });
        let (_tx, rx) = watch::channel(Some(Arc::new(table())));
        let (r, plugin) = respond(&rx, Some(up_addr), &query(11, "example.com", TYPE_A), true)
            .await
            .unwrap();
        assert_eq!(plugin, "forward");
        let m = decode_response(&r).unwrap();
        assert_eq!(m.header.id, 11);
        assert_eq!(m.answers[0].data, RData::A([192, 0, 2, 1].into()));

        // A query over TCP goes upstream over TCP.
        let tcp_up = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let tcp_addr = tcp_up.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut s, _) = tcp_up.accept().await.unwrap();
            let mut len = [0u8; 2];
            s.read_exact(&mut len).await.unwrap();
            let mut q = vec![0u8; usize::from(u16::from_be_bytes(len))];
            s.read_exact(&mut q).await.unwrap();
            let q = codec::decode_query(&q).unwrap();
            let mut m = reply(&q, RCODE_NOERROR, false, true);
            m.answers.push(codec::Record {
                name: q.questions[0].name.clone(),
                ttl: 60,
                data: RData::A([192, 0, 2, 2].into()),
            });
            let r = m.encode();
            s.write_all(&(r.len() as u16).to_be_bytes()).await.unwrap();
            s.write_all(&r).await.unwrap();
        });
        let r = respond(
            &rx,
            Some(tcp_addr),
            &query(13, "example.net", TYPE_A),
            false,
        )
        .await
        .unwrap()
        .0;
        let m = decode_response(&r).unwrap();
        assert_eq!(m.answers[0].data, RData::A([192, 0, 2, 2].into()));

        // A silent upstream: SERVFAIL after the timeout.
        let silent = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let r = respond(
            &rx,
            Some(silent.local_addr().unwrap()),
            &query(12, "example.org", TYPE_A),
            true,
        )
        .await
        .unwrap();
        assert_eq!(r.1, "", "the server writes the SERVFAIL, not the forwarder");
        assert_eq!(decode_response(&r.0).unwrap().header.rcode, RCODE_SERVFAIL);
    }
}
