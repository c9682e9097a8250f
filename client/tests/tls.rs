//! The client over TLS (`pki::tls`) against an in-process stub of the Authentication
//! service, which answers `CreateSelfSubjectReview` with what it saw: the verified client
//! certificate's CN, or the bearer token. Proves trust, client certificates, bearer tokens
//! (static and from a file), the server name override, the kubeconfig path and the
//! one-line errors for a server signed by another CA or named otherwise.

use client::KubeletApi;
use client::kubelet_api::{
    ExecRequest, ExecResponse, LogChunk, LogsRequest, StatsRequest, StatsResponse,
};
use client::{Client, ConnectionConfig, Credentials, Kubeconfig};
use pki::ca::{Ca, CertSpec, Usage};
use pki::tls::{ServerTrust, ServingCert, TlsConnectInfo};
use proto::k8s::authentication_server::{Authentication, AuthenticationServer};
use proto::k8s::{SelfSubjectReview, SelfSubjectReviewStatus, TokenRequest, TokenReview, UserInfo};
use proto::kubelet_api::kubelet_server::{Kubelet, KubeletServer};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, SystemTime};
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

struct Stub {
    verifier: pki::verify::ClientVerifier,
}

#[tonic::async_trait]
impl Authentication for Stub {
    async fn create_token(
        &self,
        _: Request<TokenRequest>,
    ) -> Result<Response<TokenRequest>, Status> {
        Err(Status::unimplemented("stub"))
    }
    async fn create_token_review(
        &self,
        _: Request<TokenReview>,
    ) -> Result<Response<TokenReview>, Status> {
        Err(Status::unimplemented("stub"))
    }
    async fn create_self_subject_review(
        &self,
        req: Request<SelfSubjectReview>,
    ) -> Result<Response<SelfSubjectReview>, Status> {
        let chain = req
            .extensions()
            .get::<TlsConnectInfo>()
            .and_then(|i| i.peer_certificates.clone());
        let username = match (chain, req.metadata().get("authorization")) {
            (Some(chain), _) => {
                let subject = self
                    .verifier
                    .verify(&chain, SystemTime::now())
                    .map_err(|e| Status::unauthenticated(format!("Unauthorized: {e}")))?;
                format!("cert:{}", subject.common_name)
            }
            (None, Some(v)) => format!("header:{}", v.to_str().unwrap_or("?")),
            (None, None) => "anonymous".into(),
        };
        Ok(Response::new(SelfSubjectReview {
            status: Some(SelfSubjectReviewStatus {
                user_info: Some(UserInfo {
                    username,
                    ..Default::default()
                }),
            }),
            ..Default::default()
        }))
    }
}

/// The kubelet API: `exec` answers with who called (certificate CN, bearer header).
struct KubeletStub {
    verifier: pki::verify::ClientVerifier,
}

#[tonic::async_trait]
impl Kubelet for KubeletStub {
    type LogsStream = futures::stream::BoxStream<'static, Result<LogChunk, Status>>;
    async fn logs(&self, _: Request<LogsRequest>) -> Result<Response<Self::LogsStream>, Status> {
        Err(Status::unimplemented("stub"))
    }
    async fn exec(&self, req: Request<ExecRequest>) -> Result<Response<ExecResponse>, Status> {
        let cn = req
            .extensions()
            .get::<TlsConnectInfo>()
            .and_then(|i| i.peer_certificates.clone())
            .and_then(|chain| self.verifier.verify(&chain, SystemTime::now()).ok())
            .map(|s| s.common_name)
            .unwrap_or_default();
        let header = req
            .metadata()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        Ok(Response::new(ExecResponse {
            output: format!("{cn}|{header}").into_bytes(),
            ..Default::default()
        }))
    }
    async fn stats(&self, _: Request<StatsRequest>) -> Result<Response<StatsResponse>, Status> {
        Err(Status::unimplemented("stub"))
    }
    type ExecStreamStream =
        futures::stream::BoxStream<'static, Result<proto::kubelet_api::ExecStreamResponse, Status>>;
    async fn exec_stream(
        &self,
        _: Request<tonic::Streaming<proto::kubelet_api::ExecStreamRequest>>,
    ) -> Result<Response<Self::ExecStreamStream>, Status> {
        Err(Status::unimplemented("stub"))
    }
    type PortForwardStream = futures::stream::BoxStream<
        'static,
        Result<proto::kubelet_api::PortForwardResponse, Status>,
    >;
    async fn port_forward(
        &self,
        _: Request<tonic::Streaming<proto::kubelet_api::PortForwardRequest>>,
    ) -> Result<Response<Self::PortForwardStream>, Status> {
        Err(Status::unimplemented("stub"))
    }
}

struct Server {
    ca: Ca,
    addr: SocketAddr,
    stop: CancellationToken,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

fn spec(cn: &str, dns: &[&str], ips: &[IpAddr], usage: Usage) -> CertSpec {
    CertSpec {
        common_name: cn.into(),
        organizations: vec![],
        dns_names: dns.iter().map(|s| s.to_string()).collect(),
        ip_addresses: ips.to_vec(),
        usages: vec![usage],
        validity: Duration::from_secs(3600),
    }
}

/// A TLS server on 127.0.0.1 whose certificate names `dns` and `ips`.
async fn start(dns: &[&str], ips: &[IpAddr]) -> Server {
    let ca = Ca::generate("test-ca", Duration::from_secs(3600)).unwrap();
    let serving = ca
        .issue(&spec("apiserver", dns, ips, Usage::ServerAuth))
        .unwrap();
    let chain = format!("{}{}", serving.cert_pem, ca.cert_pem());
    let config = pki::tls::server_config(
        ServingCert::from_pem(&chain, &serving.key_pem).unwrap(),
        &[b"h2"],
    )
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = CancellationToken::new();
    let verifier = pki::verify::ClientVerifier::new(ca.cert_pem()).unwrap();
    let stub = Stub {
        verifier: verifier.clone(),
    };
    let kubelet = KubeletStub { verifier };
    let shutdown = stop.clone();
    tokio::spawn(async move {
        let _ = tonic::transport::Server::builder()
            .add_service(AuthenticationServer::new(stub))
            .add_service(KubeletServer::new(kubelet))
            .serve_with_incoming_shutdown(
                pki::tls::incoming(listener, config),
                shutdown.cancelled(),
            )
            .await;
    });
    Server { ca, addr, stop }
}

const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

fn tls(server: &Server, credentials: Credentials) -> ConnectionConfig {
    ConnectionConfig {
        server: format!("https://{}", server.addr),
        trust: Some(ServerTrust::Ca(server.ca.cert_pem().to_string())),
        credentials,
        tls_server_name: None,
    }
}

async fn who(client: &Client) -> String {
    client
        .create_self_subject_review(SelfSubjectReview::default())
        .await
        .unwrap()
        .status
        .unwrap()
        .user_info
        .unwrap()
        .username
}

#[tokio::test]
async fn client_certificate_and_tokens_reach_the_server() {
    let server = start(&["localhost"], &[LOCALHOST]).await;
    let admin = server
        .ca
        .issue(&spec("kubernetes-admin", &[], &[], Usage::ClientAuth))
        .unwrap();
    let cert = Credentials::ClientCert {
        cert_pem: admin.cert_pem.clone(),
        key_pem: admin.key_pem.clone(),
    };
    let c = Client::connect_with(&tls(&server, cert)).await.unwrap();
    assert_eq!(who(&c).await, "cert:kubernetes-admin");
    assert!(c.connection().trust.is_some());

    // A rotating identity: new connections present the current certificate.
    let identity = pki::tls::ClientIdentity::from_pem(&admin.cert_pem, &admin.key_pem).unwrap();
    let lazy = Client::lazy_with(&tls(&server, Credentials::Identity(identity))).unwrap();
    assert_eq!(who(&lazy).await, "cert:kubernetes-admin");

    let c = Client::connect_with(&tls(&server, Credentials::Token("abc".into())))
        .await
        .unwrap();
    assert_eq!(who(&c).await, "header:Bearer abc");

    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, "from-file\n").unwrap();
    let c = Client::lazy_with(&tls(&server, Credentials::TokenFile(token_file))).unwrap();
    assert_eq!(who(&c).await, "header:Bearer from-file");

    let c = Client::lazy_with(&tls(&server, Credentials::None)).unwrap();
    assert_eq!(who(&c).await, "anonymous");
}

#[tokio::test]
async fn a_kubeconfig_written_by_for_user_connects() {
    let server = start(&["localhost"], &[LOCALHOST]).await;
    let sched = server
        .ca
        .issue(&spec("system:kube-scheduler", &[], &[], Usage::ClientAuth))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scheduler.kubeconfig");
    Kubeconfig::for_user(
        "kubernetes",
        &format!("https://{}", server.addr),
        server.ca.cert_pem(),
        "system:kube-scheduler",
        &Credentials::ClientCert {
            cert_pem: sched.cert_pem,
            key_pem: sched.key_pem,
        },
    )
    .write(&path)
    .unwrap();
    let flags = client::daemon::ConnectionFlags {
        kubeconfig: Some(path.clone()),
        server: None,
    };
    assert_eq!(
        who(&flags.client().unwrap()).await,
        "cert:system:kube-scheduler"
    );
    let config = Kubeconfig::load(&path).unwrap().connection(None).unwrap();
    let c = Client::connect_with(&config).await.unwrap();
    assert_eq!(who(&c).await, "cert:system:kube-scheduler");
}

#[tokio::test]
async fn another_ca_and_another_name_are_refused_in_one_line() {
    let server = start(&["kubernetes"], &[]).await;
    // The certificate names only `kubernetes`: dialling 127.0.0.1 does not match.
    let e = Client::connect_with(&tls(&server, Credentials::None))
        .await
        .unwrap_err();
    assert!(
        e.message.starts_with(&format!("cannot reach the apiserver at https://{}: x509: the server's certificate is not valid for the name dialled", server.addr)),
        "{}",
        e.message
    );
    let named = ConnectionConfig {
        tls_server_name: Some("kubernetes".into()),
        ..tls(&server, Credentials::None)
    };
    assert_eq!(
        who(&Client::connect_with(&named).await.unwrap()).await,
        "anonymous"
    );

    let other = Ca::generate("other", Duration::from_secs(3600)).unwrap();
    let wrong = ConnectionConfig {
        trust: Some(ServerTrust::Ca(other.cert_pem().to_string())),
        ..named.clone()
    };
    let e = Client::connect_with(&wrong).await.unwrap_err();
    assert!(e.is(client::Reason::Unavailable), "{e:?}");
    assert!(
        e.message
            .contains("x509: the server's certificate is not signed by the trusted CA"),
        "{}",
        e.message
    );
    assert!(!e.message.contains('\n'));
    // The same through a lazy client: the error comes with the first call.
    let e = Client::lazy_with(&wrong)
        .unwrap()
        .create_self_subject_review(SelfSubjectReview::default())
        .await
        .unwrap_err();
    assert!(
        e.message
            .contains("x509: the server's certificate is not signed by the trusted CA"),
        "{}",
        e.message
    );

    // A client certificate from another CA: the handshake passes, the server refuses.
    let stranger = other
        .issue(&spec("mallory", &[], &[], Usage::ClientAuth))
        .unwrap();
    let c = Client::connect_with(&ConnectionConfig {
        credentials: Credentials::ClientCert {
            cert_pem: stranger.cert_pem,
            key_pem: stranger.key_pem,
        },
        ..named
    })
    .await
    .unwrap();
    let e = c
        .create_self_subject_review(SelfSubjectReview::default())
        .await
        .unwrap_err();
    assert_eq!(
        e.message,
        "Unauthorized: x509: certificate signed by unknown authority"
    );
}

#[tokio::test]
async fn the_kubelet_api_over_tls_direct_and_through_the_apiserver() {
    let server = start(&["localhost"], &[LOCALHOST]).await;
    let apiserver_client = server
        .ca
        .issue(&spec(
            "kube-apiserver-kubelet-client",
            &[],
            &[],
            Usage::ClientAuth,
        ))
        .unwrap();
    let url = format!("https://{}", server.addr);
    let with_cert_and_token = ConnectionConfig {
        credentials: Credentials::ClientCert {
            cert_pem: apiserver_client.cert_pem,
            key_pem: apiserver_client.key_pem,
        },
        ..tls(&server, Credentials::None)
    };
    let exec = |api: KubeletApi| async move {
        let out = api.exec(ExecRequest::default()).await.unwrap().output;
        String::from_utf8(out).unwrap()
    };
    let direct = KubeletApi::direct_with(&url, &with_cert_and_token)
        .await
        .unwrap();
    assert_eq!(direct.target(), url);
    assert_eq!(exec(direct).await, "kube-apiserver-kubelet-client|");
    // Through the apiserver a token is sent; straight to a kubelet it is not.
    let token = tls(&server, Credentials::Token("abc".into()));
    let via = KubeletApi::via_apiserver_with(&token).await.unwrap();
    assert_eq!(exec(via).await, "|Bearer abc");
    let direct = KubeletApi::direct_with(&url, &token).await.unwrap();
    assert_eq!(exec(direct).await, "|");
    let other = Ca::generate("other", Duration::from_secs(3600)).unwrap();
    let e = KubeletApi::direct_with(
        &url,
        &ConnectionConfig {
            trust: Some(ServerTrust::Ca(other.cert_pem().to_string())),
            ..token
        },
    )
    .await
    .unwrap_err();
    assert!(
        e.message.starts_with(&format!("cannot reach the kubelet at {url}: x509: the server's certificate is not signed by the trusted CA")),
        "{}",
        e.message
    );
}
