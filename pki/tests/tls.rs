//! Real TLS round trips on 127.0.0.1: a tonic health service served through
//! `pki::tls::incoming`, called through `pki::tls::Connector`, with the client certificate
//! checked after the handshake from the `TlsConnectInfo` request extension (as the
//! apiserver's authentication layer does).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use pki::ca::{Ca, CertSpec, Issued, Usage};
use pki::tls::{
    ClientIdentity, Connector, ServerTrust, ServingCert, TlsConnectInfo, client_config,
    server_config,
};
use pki::verify::{ClientVerifier, Subject};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::transport::{Endpoint, Server};
use tonic::{Code, Request, Status};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

const HOUR: Duration = Duration::from_secs(3600);

fn spec(cn: &str, orgs: &[&str], usages: &[Usage]) -> CertSpec {
    CertSpec {
        common_name: cn.into(),
        organizations: orgs.iter().map(|o| o.to_string()).collect(),
        dns_names: vec!["localhost".into(), "kubernetes.default.svc".into()],
        ip_addresses: vec!["127.0.0.1".parse().unwrap()],
        usages: usages.to_vec(),
        validity: HOUR,
    }
}

fn client_cert(ca: &Ca, cn: &str, orgs: &[&str]) -> ClientIdentity {
    let issued = ca.issue(&spec(cn, orgs, &[Usage::ClientAuth])).unwrap();
    ClientIdentity::from_pem(&issued.cert_pem, &issued.key_pem).unwrap()
}

/// What the server saw of one request.
#[derive(Debug, Clone)]
struct Seen {
    remote_addr: Option<SocketAddr>,
    certificates: usize,
    subject: Option<Subject>,
}

struct TestServer {
    addr: SocketAddr,
    serving: ServingCert,
    seen: Arc<Mutex<Vec<Seen>>>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), tonic::transport::Error>>>,
}

impl TestServer {
    async fn start(ca: &Ca, serving: &Issued) -> TestServer {
        let chain = format!("{}{}", serving.cert_pem, ca.cert_pem());
        let cert = ServingCert::from_pem(&chain, &serving.key_pem).unwrap();
        let config = server_config(cert.clone(), &[b"h2"]).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let verifier = ClientVerifier::new(ca.cert_pem()).unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = seen.clone();
        // The authentication step of the apiserver, reduced to its x509 part.
        let authenticate = move |request: Request<()>| -> Result<Request<()>, Status> {
            let info = request
                .extensions()
                .get::<TlsConnectInfo>()
                .cloned()
                .ok_or_else(|| Status::internal("no TlsConnectInfo"))?;
            let chain = info.peer_certificates.clone().unwrap_or_default();
            let verified = if chain.is_empty() {
                None
            } else {
                Some(verifier.verify(&chain, SystemTime::now()))
            };
            record.lock().unwrap().push(Seen {
                remote_addr: info.remote_addr,
                certificates: chain.len(),
                subject: verified.clone().and_then(Result::ok),
            });
            match verified {
                None => Err(Status::unauthenticated(
                    "Unauthorized: no client certificate",
                )),
                Some(Err(e)) => Err(Status::unauthenticated(format!("Unauthorized: {e}"))),
                Some(Ok(_)) => Ok(request),
            }
        };
        let (_reporter, health) = tonic_health::server::health_reporter();
        let (tx, rx) = oneshot::channel::<()>();
        let incoming = pki::tls::incoming(listener, config);
        let task = tokio::spawn(
            Server::builder()
                .layer(tonic::service::InterceptorLayer::new(authenticate))
                .add_service(health)
                .serve_with_incoming_shutdown(incoming, async {
                    let _ = rx.await;
                }),
        );
        TestServer {
            addr,
            serving: cert,
            seen,
            shutdown: Some(tx),
            task: Some(task),
        }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let result = tokio::time::timeout(Duration::from_secs(10), task)
                .await
                .expect("server stops")
                .unwrap();
            result.expect("server ended without error");
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

async fn check(
    addr: SocketAddr,
    trust: &ServerTrust,
    identity: Option<ClientIdentity>,
    server_name: Option<&str>,
) -> Result<i32, Status> {
    let config = client_config(trust, identity).unwrap();
    let channel = Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(10))
        .connect_with_connector_lazy(Connector::new(config, server_name.map(String::from)));
    let response = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await?;
    Ok(response.into_inner().status)
}

fn serving_cert(ca: &Ca, cn: &str) -> Issued {
    ca.issue(&spec(cn, &[], &[Usage::ServerAuth])).unwrap()
}

#[tokio::test]
async fn client_certificate_reaches_the_handler_through_connect_info() {
    let ca = Ca::generate("kubernetes", HOUR).unwrap();
    let server = TestServer::start(&ca, &serving_cert(&ca, "kube-apiserver")).await;
    let trust = ServerTrust::Ca(ca.cert_pem().to_string());
    let alice = client_cert(&ca, "alice", &["devs", "system:masters"]);

    let status = check(server.addr, &trust, Some(alice), None).await.unwrap();
    assert_eq!(status, ServingStatus::Serving as i32);

    let seen = server.seen();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].certificates, 1);
    assert_eq!(
        seen[0].subject,
        Some(Subject {
            common_name: "alice".into(),
            organizations: vec!["devs".into(), "system:masters".into()],
        })
    );
    let remote = seen[0].remote_addr.expect("remote address");
    assert!(remote.ip().is_loopback());
    assert_ne!(remote.port(), server.addr.port());
    server.stop().await;
}

#[tokio::test]
async fn bad_client_certificates_get_an_answer_naming_the_cause() {
    let ca = Ca::generate("kubernetes", HOUR).unwrap();
    let other = Ca::generate("kubernetes", HOUR).unwrap();
    let server = TestServer::start(&ca, &serving_cert(&ca, "kube-apiserver")).await;
    let trust = ServerTrust::Ca(ca.cert_pem().to_string());

    // No certificate: the handshake succeeds, the request is refused.
    let status = check(server.addr, &trust, None, None).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    assert_eq!(status.message(), "Unauthorized: no client certificate");

    // A certificate of another CA.
    let mallory = client_cert(&other, "mallory", &["system:masters"]);
    let status = check(server.addr, &trust, Some(mallory), None)
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    assert_eq!(
        status.message(),
        "Unauthorized: x509: certificate signed by unknown authority"
    );

    // An expired certificate of the right CA.
    let now = SystemTime::now();
    let expired = ca
        .issue_with_validity(
            &spec("old", &[], &[Usage::ClientAuth]),
            now - 2 * HOUR,
            now - HOUR,
        )
        .unwrap();
    let identity = ClientIdentity::from_pem(&expired.cert_pem, &expired.key_pem).unwrap();
    let status = check(server.addr, &trust, Some(identity), None)
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    assert_eq!(
        status.message(),
        "Unauthorized: x509: certificate has expired or is not yet valid"
    );

    let seen = server.seen();
    assert_eq!(seen.len(), 3);
    assert_eq!(seen[0].certificates, 0);
    assert!(seen.iter().all(|s| s.subject.is_none()));
    server.stop().await;
}

#[tokio::test]
async fn the_server_is_verified_against_the_trusted_ca_and_name() {
    let ca = Ca::generate("kubernetes", HOUR).unwrap();
    let other = Ca::generate("kubernetes", HOUR).unwrap();
    let server = TestServer::start(&ca, &serving_cert(&ca, "kube-apiserver")).await;
    let alice = || Some(client_cert(&ca, "alice", &[]));

    // Trusting another CA: the connection fails, and the rustls reason can be found. Every
    // cluster's CA is called "kubernetes": with the same name the other CA is tried as the
    // issuer and its signature does not fit (BadSignature); with another name it is simply
    // not found (UnknownIssuer).
    let wrong = ServerTrust::Ca(other.cert_pem().to_string());
    let status = check(server.addr, &wrong, alice(), None).await.unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    let reason = pki::tls::rustls_error(&status).unwrap_or_else(|| panic!("{status:?}"));
    assert!(
        matches!(
            reason,
            rustls::Error::InvalidCertificate(rustls::CertificateError::BadSignature)
        ),
        "{reason:?}"
    );
    let stranger = Ca::generate("stranger", HOUR).unwrap();
    let wrong = ServerTrust::Ca(stranger.cert_pem().to_string());
    let status = check(server.addr, &wrong, alice(), None).await.unwrap_err();
    let reason = pki::tls::rustls_error(&status).unwrap_or_else(|| panic!("{status:?}"));
    assert!(
        matches!(
            reason,
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer)
        ),
        "{reason:?}"
    );

    // A DNS name from the certificate's SANs instead of the dialled IP.
    let trust = ServerTrust::Ca(ca.cert_pem().to_string());
    let ok = check(server.addr, &trust, alice(), Some("kubernetes.default.svc")).await;
    assert_eq!(ok.unwrap(), ServingStatus::Serving as i32);

    // A name the certificate does not carry.
    let status = check(server.addr, &trust, alice(), Some("evil.example"))
        .await
        .unwrap_err();
    let reason = pki::tls::rustls_error(&status).unwrap_or_else(|| panic!("{status:?}"));
    assert!(
        matches!(
            reason,
            rustls::Error::InvalidCertificate(
                rustls::CertificateError::NotValidForNameContext { .. }
            ) | rustls::Error::InvalidCertificate(rustls::CertificateError::NotValidForName)
        ),
        "{reason:?}"
    );

    // insecure-skip-tls-verify accepts the server whatever the CA.
    let ok = check(server.addr, &ServerTrust::InsecureSkipVerify, alice(), None).await;
    assert_eq!(ok.unwrap(), ServingStatus::Serving as i32);
    server.stop().await;
}

#[tokio::test]
async fn rotated_certificates_are_used_by_new_connections() {
    let ca = Ca::generate("kubernetes", HOUR).unwrap();
    let server = TestServer::start(&ca, &serving_cert(&ca, "first")).await;
    let trust = ServerTrust::Ca(ca.cert_pem().to_string());

    // Serving certificate.
    let leaf_cn = |chain: &[rustls_pki_types::CertificateDer<'_>]| {
        pki::inspect::parse_der(&chain[0]).unwrap().common_name
    };
    let before = pki::tls::fetch_server_chain(&server.addr.to_string())
        .await
        .unwrap();
    assert_eq!(leaf_cn(&before), "first");
    let second = serving_cert(&ca, "second");
    server
        .serving
        .set_pem(
            &format!("{}{}", second.cert_pem, ca.cert_pem()),
            &second.key_pem,
        )
        .unwrap();
    let after = pki::tls::fetch_server_chain(&server.addr.to_string())
        .await
        .unwrap();
    assert_eq!(leaf_cn(&after), "second");
    // A key that is not the certificate's is refused and the current pair stays.
    let third = serving_cert(&ca, "third");
    assert!(
        server
            .serving
            .set_pem(&third.cert_pem, &second.key_pem)
            .is_err()
    );

    // Client identity: one config, the identity swapped underneath.
    let identity = client_cert(&ca, "alice", &[]);
    let config = client_config(&trust, Some(identity.clone())).unwrap();
    let call = |config: Arc<rustls::ClientConfig>| async move {
        let channel = Endpoint::from_shared(format!("http://{}", server.addr))
            .unwrap()
            .connect_with_connector_lazy(Connector::new(config, None));
        HealthClient::new(channel)
            .check(HealthCheckRequest {
                service: String::new(),
            })
            .await
    };
    call(config.clone()).await.unwrap();
    let bob = ca.issue(&spec("bob", &[], &[Usage::ClientAuth])).unwrap();
    identity.set_pem(&bob.cert_pem, &bob.key_pem).unwrap();
    assert_eq!(identity.cert_pem().as_deref(), Some(bob.cert_pem.as_str()));
    call(config).await.unwrap();
    let names: Vec<String> = server
        .seen()
        .into_iter()
        .map(|s| s.subject.unwrap().common_name)
        .collect();
    assert_eq!(names, vec!["alice", "bob"]);
    server.stop().await;
}

#[tokio::test]
async fn a_rotating_connector_ends_the_connection_made_with_the_old_certificate() {
    let ca = Ca::generate("kubernetes", HOUR).unwrap();
    let server = TestServer::start(&ca, &serving_cert(&ca, "server")).await;
    let trust = ServerTrust::Ca(ca.cert_pem().to_string());
    let identity = client_cert(&ca, "alice", &[]);
    let config = client_config(&trust, Some(identity.clone())).unwrap();
    // One channel, one connection, kept across the rotation.
    let channel = Endpoint::from_shared(format!("http://{}", server.addr))
        .unwrap()
        .connect_with_connector_lazy(Connector::new(config, None).rotating_with(identity.clone()));
    let mut health = HealthClient::new(channel);
    let check = HealthCheckRequest {
        service: String::new(),
    };
    health.check(check.clone()).await.unwrap();
    health.check(check.clone()).await.unwrap();
    let bob = ca.issue(&spec("bob", &[], &[Usage::ClientAuth])).unwrap();
    identity.set_pem(&bob.cert_pem, &bob.key_pem).unwrap();
    // The old connection fails its next write; the channel dials again with bob. Only the
    // call that met the closed connection may fail.
    let mut answered = 0;
    for _ in 0..3 {
        if health.check(check.clone()).await.is_ok() {
            answered += 1;
        }
    }
    assert!(
        answered >= 2,
        "the channel did not reconnect after the rotation"
    );
    let names: Vec<String> = server
        .seen()
        .into_iter()
        .map(|s| s.subject.unwrap().common_name)
        .collect();
    assert_eq!(names[..2], ["alice", "alice"]);
    assert!(
        names[2..].iter().all(|n| n == "bob") && names.len() >= 4,
        "after the rotation every request must present bob: {names:?}"
    );
    server.stop().await;
}

#[tokio::test]
async fn bad_and_stalled_handshakes_do_not_stop_the_server() {
    let ca = Ca::generate("kubernetes", HOUR).unwrap();
    let server = TestServer::start(&ca, &serving_cert(&ca, "kube-apiserver")).await;
    let trust = ServerTrust::Ca(ca.cert_pem().to_string());

    // A client that never speaks: its handshake waits, others go on.
    let _stalled = TcpStream::connect(server.addr).await.unwrap();
    // A client that speaks plaintext HTTP/2 to the TLS port.
    let mut plaintext = TcpStream::connect(server.addr).await.unwrap();
    plaintext
        .write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
        .await
        .unwrap();
    // A plaintext gRPC client.
    let plain_channel = Endpoint::from_shared(format!("http://{}", server.addr))
        .unwrap()
        .timeout(Duration::from_secs(5))
        .connect_lazy();
    let status = HealthClient::new(plain_channel)
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .unwrap_err();
    assert_ne!(status.code(), Code::Ok);

    // Well within the 10 s handshake timeout: the stalled handshake does not hold them up.
    let good_clients = async {
        for _ in 0..3 {
            let alice = Some(client_cert(&ca, "alice", &[]));
            let ok = check(server.addr, &trust, alice, None).await;
            assert_eq!(ok.unwrap(), ServingStatus::Serving as i32);
        }
    };
    tokio::time::timeout(Duration::from_secs(5), good_clients)
        .await
        .expect("good clients are served while a handshake stalls");
    assert_eq!(server.seen().len(), 3);
    server.stop().await;
}

#[tokio::test]
async fn join_discovery_pins_the_ca_by_hash() {
    let ca = Ca::generate("kubernetes", HOUR).unwrap();
    let server = TestServer::start(&ca, &serving_cert(&ca, "kube-apiserver")).await;
    let chain = pki::tls::fetch_server_chain(&server.addr.to_string())
        .await
        .unwrap();
    assert_eq!(chain.len(), 2, "leaf then CA");

    let pin = pki::hash::ca_cert_hash(ca.cert_pem()).unwrap();
    let found = pki::tls::ca_from_chain(&chain, &pin).expect("the CA is in the chain");
    assert_eq!(found, ca.cert_pem());
    // Pins are compared without regard to case.
    assert!(
        pki::tls::ca_from_chain(&chain, &pin.to_uppercase().replace("SHA256", "sha256")).is_some()
    );

    // The leaf's own hash does not make it a CA; another CA's hash finds nothing.
    let leaf_pin = pki::hash::ca_cert_hash_der(&chain[0]).unwrap();
    assert_eq!(pki::tls::ca_from_chain(&chain, &leaf_pin), None);
    let other = Ca::generate("kubernetes", HOUR).unwrap();
    let other_pin = pki::hash::ca_cert_hash(other.cert_pem()).unwrap();
    assert_eq!(pki::tls::ca_from_chain(&chain, &other_pin), None);

    // The CA found this way is enough to trust the server.
    let ok = check(
        server.addr,
        &ServerTrust::Ca(found),
        Some(client_cert(&ca, "system:bootstrap:abcdef", &[])),
        None,
    )
    .await;
    assert_eq!(ok.unwrap(), ServingStatus::Serving as i32);
    server.stop().await;

    // Nothing listening: an error, not a hang.
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = closed.local_addr().unwrap();
    drop(closed);
    assert!(
        pki::tls::fetch_server_chain(&addr.to_string())
            .await
            .is_err()
    );
}

/// A client that never finishes its handshake is disconnected after 10 s (time is paused
/// and jumps ahead, so the test does not wait).
#[tokio::test(start_paused = true)]
async fn a_stalled_handshake_is_dropped_after_ten_seconds() {
    use tokio::io::AsyncReadExt;
    let ca = Ca::generate("kubernetes", HOUR).unwrap();
    let server = TestServer::start(&ca, &serving_cert(&ca, "kube-apiserver")).await;
    let mut stalled = TcpStream::connect(server.addr).await.unwrap();
    let started = tokio::time::Instant::now();
    let mut buf = [0u8; 16];
    // EOF (or a reset) once the server gives up on the handshake.
    let read = stalled.read(&mut buf).await;
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(10) && waited < Duration::from_secs(12),
        "{waited:?}"
    );
    server.stop().await;
}
