//! The daemon in-process against an in-process apiserver: real UDP and TCP queries built
//! here answer Services created through the API, follow their deletion, and the server
//! registers as kube-system/kube-dns (also when the apiserver comes up after it).

use apiserver::testing::TestServer;
use client::{Api, Client, DeleteParams};
use cluster_dns::codec::{
    self, Message, RCODE_NOERROR, RCODE_NXDOMAIN, RCODE_REFUSED, RData, TYPE_A, TYPE_SRV,
};
use cluster_dns::{Config, start};
use proto::k8s::{
    EndpointAddress, EndpointPort, EndpointSubset, Endpoints, ObjectMeta, Service, ServicePort,
    ServiceSpec,
};
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const WAIT: Duration = Duration::from_secs(20);

fn meta(ns: &str, name: &str) -> Option<ObjectMeta> {
    Some(ObjectMeta {
        name: name.into(),
        namespace: ns.into(),
        ..Default::default()
    })
}

fn service(name: &str, cluster_ip: &str) -> Service {
    Service {
        metadata: meta("default", name),
        spec: Some(ServiceSpec {
            cluster_ip: cluster_ip.into(),
            selector: [("app".to_string(), name.to_string())].into(),
            ports: vec![ServicePort {
                name: "http".into(),
                protocol: "TCP".into(),
                port: 80,
                target_port: "8080".into(),
                ..Default::default()
            }],
            ..Default::default()
        }),
        ..Default::default()
    }
}

async fn udp_query(server: SocketAddr, name: &str, qtype: u16) -> Message {
    let sock = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let id = rand_id(name);
    sock.send_to(&codec::query(id, name, qtype), server)
        .await
        .unwrap();
    let mut buf = [0u8; 1500];
    let (n, _) = tokio::time::timeout(Duration::from_secs(3), sock.recv_from(&mut buf))
        .await
        .expect("an answer within 3s")
        .unwrap();
    let m = codec::decode_response(&buf[..n]).unwrap();
    assert_eq!(m.header.id, id);
    assert!(m.header.qr);
    m
}

async fn tcp_query(server: SocketAddr, name: &str, qtype: u16) -> Message {
    let mut s = tokio::net::TcpStream::connect(server).await.unwrap();
    let q = codec::query(77, name, qtype);
    s.write_all(&(q.len() as u16).to_be_bytes()).await.unwrap();
    s.write_all(&q).await.unwrap();
    let mut len = [0u8; 2];
    s.read_exact(&mut len).await.unwrap();
    let mut buf = vec![0u8; usize::from(u16::from_be_bytes(len))];
    s.read_exact(&mut buf).await.unwrap();
    codec::decode_response(&buf).unwrap()
}

fn rand_id(name: &str) -> u16 {
    name.bytes()
        .fold(0x5a5au16, |h, b| h.rotate_left(5) ^ u16::from(b))
}

fn a_records(m: &Message) -> Vec<Ipv4Addr> {
    let mut v: Vec<Ipv4Addr> = m
        .answers
        .iter()
        .filter_map(|r| match r.data {
            RData::A(ip) => Some(ip),
            _ => None,
        })
        .collect();
    v.sort();
    v
}

/// Polls until `ok` holds for the UDP answer, or panics with the last one.
async fn wait_answer(
    server: SocketAddr,
    name: &str,
    qtype: u16,
    what: &str,
    ok: impl Fn(&Message) -> bool,
) -> Message {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let m = udp_query(server, name, qtype).await;
        if ok(&m) {
            return m;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("{what}: last answer {m:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// One plain HTTP/1.1 GET; the whole response (status line, headers, body).
async fn http_get(addr: SocketAddr, path: &str) -> String {
    let mut c = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    c.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    c.read_to_string(&mut out).await.unwrap();
    out
}

/// The value of `name` with exactly `labels` (as exposed); 0 when absent.
fn sample(text: &str, name: &str, labels: &str) -> f64 {
    let series = format!("{name}{labels} ");
    text.lines()
        .find_map(|l| l.strip_prefix(series.as_str()))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0)
}

fn local_config(url: &str) -> Config {
    let mut c = Config::new(url);
    c.listen = Some("127.0.0.1:0".parse().unwrap());
    c.advertise_address = Some(Ipv4Addr::LOCALHOST);
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_services_from_the_api_and_follows_deletion() {
    let server = TestServer::start().await;
    let client = Client::connect(&server.url).await.unwrap();
    let services: Api<Service> = Api::namespaced(client.clone(), "default");
    let web = services.create(&service("web", "")).await.unwrap();
    let ip: Ipv4Addr = web.spec.unwrap().cluster_ip.parse().unwrap();

    let mut cfg = local_config(&server.url);
    cfg.telemetry.metrics_bind_address = Some("127.0.0.1:0".into());
    let running = start(cfg).await.unwrap();
    let metrics_addr = running.metrics_addr.expect("metrics served on a free port");
    let dns = running.udp_addr;
    let name = "web.default.svc.cluster.local";
    let m = wait_answer(dns, name, TYPE_A, "the Service's cluster IP", |m| {
        a_records(m) == vec![ip]
    })
    .await;
    assert!(m.header.aa);
    assert_eq!(m.answers[0].ttl, 5);
    // The same over TCP, and the port's SRV record.
    assert_eq!(
        a_records(&tcp_query(running.tcp_addr, name, TYPE_A).await),
        vec![ip]
    );
    let srv = udp_query(dns, "_http._tcp.web.default.svc.cluster.local", TYPE_SRV).await;
    assert_eq!(
        srv.answers[0].data,
        RData::Srv {
            priority: 0,
            weight: 100,
            port: 80,
            target: name.into()
        }
    );
    // A figure: sequential queries over one socket (debug build, loopback).
    let sock = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let q = codec::query(1, name, TYPE_A);
    let mut buf = [0u8; 512];
    let t = std::time::Instant::now();
    for _ in 0..1000 {
        sock.send_to(&q, dns).await.unwrap();
        tokio::time::timeout(Duration::from_secs(3), sock.recv_from(&mut buf))
            .await
            .expect("answer")
            .unwrap();
    }
    let took = t.elapsed();
    eprintln!(
        "1000 sequential UDP A queries: {took:?} ({:?} each)",
        took / 1000
    );
    assert!(took < Duration::from_secs(10), "{took:?}");
    // Outside the domain without --upstream: refused.
    assert_eq!(
        udp_query(dns, "example.com", TYPE_A).await.header.rcode,
        RCODE_REFUSED
    );
    // CoreDNS' metrics count what was asked and answered, by this server's label. A
    // query's duration is observed after its answer is sent (as CoreDNS does), so the
    // last query's sample may land just after the client has its answer: read until it is in.
    let labels = |rest: &str| format!(r#"{{server="dns://{dns}",zone=".",view="",{rest}}}"#);
    let timed_series = labels("").replace(",}", "}");
    let deadline = tokio::time::Instant::now() + WAIT;
    let text = loop {
        let text = http_get(metrics_addr, "/metrics").await;
        let timed = sample(
            &text,
            "coredns_dns_request_duration_seconds_count",
            &timed_series,
        );
        if timed >= 1005.0 || tokio::time::Instant::now() > deadline {
            break text;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let udp_a = sample(
        &text,
        "coredns_dns_requests_total",
        &labels(r#"proto="udp",family="1",type="A""#),
    );
    assert!(udp_a >= 1002.0, "{udp_a} UDP A queries\n{text}");
    let tcp_a = sample(
        &text,
        "coredns_dns_requests_total",
        &labels(r#"proto="tcp",family="1",type="A""#),
    );
    assert_eq!(tcp_a, 1.0, "{text}");
    let srv = sample(
        &text,
        "coredns_dns_requests_total",
        &labels(r#"proto="udp",family="1",type="SRV""#),
    );
    assert_eq!(srv, 1.0, "{text}");
    let refused = sample(
        &text,
        "coredns_dns_responses_total",
        &labels(r#"rcode="REFUSED",plugin="""#),
    );
    assert_eq!(refused, 1.0, "{text}");
    let answered = sample(
        &text,
        "coredns_dns_responses_total",
        &labels(r#"rcode="NOERROR",plugin="kubernetes""#),
    );
    assert!(answered >= 1003.0, "{text}");
    let timed = sample(
        &text,
        "coredns_dns_request_duration_seconds_count",
        &timed_series,
    );
    assert!(timed >= 1005.0, "{text}");
    let ready = http_get(metrics_addr, "/readyz?verbose").await;
    assert!(
        ready.starts_with("HTTP/1.1 200") && ready.contains("[+]informer-sync ok"),
        "{ready}"
    );

    // A headless Service lists its ready endpoints.
    services.create(&service("db", "None")).await.unwrap();
    Api::<Endpoints>::namespaced(client.clone(), "default")
        .create(&Endpoints {
            metadata: meta("default", "db"),
            subsets: vec![EndpointSubset {
                addresses: vec![
                    EndpointAddress {
                        ip: "10.244.1.5".into(),
                        hostname: "db-0".into(),
                        ..Default::default()
                    },
                    EndpointAddress {
                        ip: "10.244.2.6".into(),
                        ..Default::default()
                    },
                ],
                not_ready_addresses: vec![EndpointAddress {
                    ip: "10.244.3.7".into(),
                    ..Default::default()
                }],
                ports: vec![EndpointPort {
                    name: "http".into(),
                    port: 8080,
                    protocol: "TCP".into(),
                    ..Default::default()
                }],
            }],
            ..Default::default()
        })
        .await
        .unwrap();
    wait_answer(
        dns,
        "db.default.svc.cluster.local",
        TYPE_A,
        "the headless endpoints",
        |m| a_records(m) == vec![Ipv4Addr::new(10, 244, 1, 5), Ipv4Addr::new(10, 244, 2, 6)],
    )
    .await;
    assert_eq!(
        a_records(&udp_query(dns, "db-0.db.default.svc.cluster.local", TYPE_A).await),
        vec![Ipv4Addr::new(10, 244, 1, 5)]
    );

    // Registered as kube-system/kube-dns.
    let kube_dns = Api::<Service>::namespaced(client.clone(), "kube-system")
        .get("kube-dns")
        .await
        .unwrap();
    let spec = kube_dns.spec.unwrap();
    assert_eq!(spec.cluster_ip, "10.96.0.10");
    assert!(spec.selector.is_empty());
    let kube_dns_eps = Api::<Endpoints>::namespaced(client.clone(), "kube-system");
    let deadline = tokio::time::Instant::now() + WAIT;
    let ep = loop {
        if let Some(ep) = kube_dns_eps.get_opt("kube-dns").await.unwrap() {
            break ep;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no kube-dns Endpoints"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(ep.subsets[0].addresses[0].ip, "127.0.0.1");
    assert_eq!(ep.subsets[0].ports[0].port, i32::from(dns.port()));
    // Its own name resolves too.
    wait_answer(
        dns,
        "kube-dns.kube-system.svc.cluster.local",
        TYPE_A,
        "kube-dns",
        |m| a_records(m) == vec![Ipv4Addr::new(10, 96, 0, 10)],
    )
    .await;

    // Deleted: NXDOMAIN with the zone's SOA.
    services
        .delete("web", &DeleteParams::background())
        .await
        .unwrap();
    let m = wait_answer(dns, name, TYPE_A, "NXDOMAIN after deletion", |m| {
        m.header.rcode == RCODE_NXDOMAIN
    })
    .await;
    assert!(m.answers.is_empty());
    assert_eq!(m.authority.len(), 1);
    // The namespace still has a Service: its name is an empty non-terminal.
    assert_eq!(
        udp_query(dns, "default.svc.cluster.local", TYPE_A)
            .await
            .header
            .rcode,
        RCODE_NOERROR
    );

    // Stopping takes the server out of the Endpoints.
    running.stop().await.unwrap();
    let ep = kube_dns_eps.get("kube-dns").await.unwrap();
    assert!(ep.subsets.iter().all(|s| s.addresses.is_empty()), "{ep:?}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waits_for_a_late_apiserver_then_registers() {
    let dir = tempfile::tempdir().unwrap();
    let addr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let running = start(local_config(&format!("http://{addr}")))
        .await
        .unwrap();
    // Not synced yet: SERVFAIL, not a cached NXDOMAIN.
    let m = udp_query(running.udp_addr, "web.default.svc.cluster.local", TYPE_A).await;
    assert_eq!(m.header.rcode, codec::RCODE_SERVFAIL);
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let server = TestServer::start_in(&dir.path().join("data"), addr).await;
    let client = Client::connect(&server.url).await.unwrap();
    wait_answer(
        running.udp_addr,
        "kube-dns.kube-system.svc.cluster.local",
        TYPE_A,
        "kube-dns after the apiserver came up",
        |m| a_records(m) == vec![Ipv4Addr::new(10, 96, 0, 10)],
    )
    .await;
    let ep = Api::<Endpoints>::namespaced(client, "kube-system")
        .get_opt("kube-dns")
        .await
        .unwrap();
    assert!(ep.is_some());
    running.stop().await.unwrap();
    server.stop().await;
}

/// A non-loopback address of this machine (the source of the default route; nothing is
/// sent), so queries come from outside loopback's always-allowed range.
fn local_non_loopback() -> Option<Ipv4Addr> {
    let s = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    s.connect("192.0.2.1:9").ok()?;
    match s.local_addr().ok()?.ip() {
        std::net::IpAddr::V4(ip) if !ip.is_loopback() => Some(ip),
        _ => None,
    }
}

async fn query_from(src: Ipv4Addr, server: SocketAddr, name: &str) -> Message {
    let sock = tokio::net::UdpSocket::bind((src, 0)).await.unwrap();
    sock.send_to(&codec::query(9, name, TYPE_A), server)
        .await
        .unwrap();
    let mut buf = [0u8; 1500];
    let (n, _) = tokio::time::timeout(Duration::from_secs(3), sock.recv_from(&mut buf))
        .await
        .expect("an answer within 3s")
        .unwrap();
    codec::decode_response(&buf[..n]).unwrap()
}

/// A stand-in upstream on loopback answering every query with 192.0.2.99, counting them.
async fn fake_upstream() -> (SocketAddr, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    let sock = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = sock.local_addr().unwrap();
    let seen = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let s = seen.clone();
    tokio::spawn(async move {
        let mut buf = [0u8; 1500];
        while let Ok((n, peer)) = sock.recv_from(&mut buf).await {
            s.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let q = codec::decode_query(&buf[..n]).unwrap();
            let mut m = q.clone();
            m.header.qr = true;
            m.header.ra = true;
            m.answers.push(codec::Record {
                name: q.questions[0].name.clone(),
                ttl: 30,
                data: RData::A(Ipv4Addr::new(192, 0, 2, 99)),
            });
            let _ = sock.send_to(&m.encode(), peer).await;
        }
    });
    (addr, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_pods_nodes_and_allowed_ranges_are_answered_or_forwarded() {
    let Some(me) = local_non_loopback() else {
        testkit::unmet(
            "only_pods_nodes_and_allowed_ranges_are_answered_or_forwarded",
            "this machine has no non-loopback IPv4 address",
        );
        return;
    };
    let server = TestServer::start().await;
    let client = Client::connect(&server.url).await.unwrap();
    let services: Api<Service> = Api::namespaced(client.clone(), "default");
    services.create(&service("web", "")).await.unwrap();
    let (upstream, forwarded) = fake_upstream().await;
    let mut cfg = Config::new(&server.url);
    cfg.listen = Some("0.0.0.0:0".parse().unwrap());
    cfg.upstream = Some(upstream);
    // The pod range does not hold this machine's address.
    cfg.cluster_cidr = "10.251.0.0/16".parse().unwrap();
    let running = start(cfg).await.unwrap();
    let port = running.udp_addr.port();
    let dns = SocketAddr::from((me, port));
    let svc = "web.default.svc.cluster.local";
    // Loopback is always allowed: the table is there, and forwarding works.
    let lo = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    wait_answer(lo, svc, TYPE_A, "loopback gets the Service", |m| {
        m.header.rcode == RCODE_NOERROR && !m.answers.is_empty()
    })
    .await;
    let m = udp_query(lo, "example.org", TYPE_A).await;
    assert_eq!(a_records(&m), vec![Ipv4Addr::new(192, 0, 2, 99)]);
    let before = forwarded.load(std::sync::atomic::Ordering::SeqCst);

    // From this machine's address, which is neither a pod nor a node: REFUSED, for both
    // kinds of name, and nothing reaches the upstream.
    for name in ["example.org", svc] {
        let m = query_from(me, dns, name).await;
        assert_eq!(m.header.rcode, RCODE_REFUSED, "{name} from {me}: {m:?}");
        assert!(m.answers.is_empty());
    }
    // A bound instead of a pause: a loopback query sent after them is forwarded, and once
    // its answer is back the upstream has counted it, and nothing else.
    let m = udp_query(lo, "marker.example.org", TYPE_A).await;
    assert_eq!(a_records(&m), vec![Ipv4Addr::new(192, 0, 2, 99)]);
    assert_eq!(
        forwarded.load(std::sync::atomic::Ordering::SeqCst),
        before + 1,
        "only the loopback query reached the upstream"
    );

    // Once a Node has that address as its InternalIP, it is a node: answered.
    let nodes: Api<proto::k8s::Node> = Api::all(client.clone());
    let mut node = nodes
        .create(&proto::k8s::Node {
            metadata: Some(ObjectMeta {
                name: "acl-test-node".into(),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap();
    node.status = Some(proto::k8s::NodeStatus {
        addresses: vec![proto::k8s::NodeAddress {
            r#type: "InternalIP".into(),
            address: me.to_string(),
        }],
        ..Default::default()
    });
    nodes.update_status(&node).await.unwrap();
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let m = query_from(me, dns, "example.org").await;
        if m.header.rcode == RCODE_NOERROR {
            assert_eq!(a_records(&m), vec![Ipv4Addr::new(192, 0, 2, 99)]);
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the node was never allowed: {m:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let m = query_from(me, dns, svc).await;
    assert_eq!(m.header.rcode, RCODE_NOERROR);
    assert!(!m.answers.is_empty());
    running.stop().await.unwrap();
    server.stop().await;
}
