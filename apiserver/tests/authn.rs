//! Authentication through a real TLS server in-process: client certificates (the cluster
//! CA's, another CA's, an expired one), bearer tokens of every kind, anonymous requests,
//! and the Authentication service (TokenRequest, TokenReview, SelfSubjectReview). Each
//! refusal is checked for the exact gRPC code and message a caller sees.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use apiserver::testing::TestServer;
use client::{Client, ConnectionConfig, Credentials};
use pki::ca::{Ca, CertSpec, Usage};
use pki::tls::ServerTrust;
use proto::k8s::*;
use proto::{ApiError, Reason, Resource};

/// A TLS test server (not the plaintext default), with a static token file.
async fn secure_server(
    configure: impl FnOnce(&mut apiserver::Config),
) -> (TestServer, tempfile::TempDir) {
    let files = tempfile::Builder::new()
        .prefix("authn-test-")
        .tempdir()
        .expect("temp dir");
    let tokens = files.path().join("tokens.csv");
    std::fs::write(&tokens, "static-token-1,alice,uid-alice,\"dev,ops\"\n").expect("token file");
    let server = TestServer::start_with(|c| {
        c.insecure_plaintext = false;
        c.token_auth_file = Some(tokens);
        configure(c);
    })
    .await;
    assert!(server.url.starts_with("https://"), "{}", server.url);
    (server, files)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn ca_pem(server: &TestServer) -> String {
    read(&server.data_dir().join("pki/ca.crt"))
}

fn connection(server: &TestServer, credentials: Credentials) -> ConnectionConfig {
    ConnectionConfig {
        server: server.url.clone(),
        trust: Some(ServerTrust::Ca(ca_pem(server))),
        credentials,
        tls_server_name: None,
    }
}

async fn client(server: &TestServer, credentials: Credentials) -> Client {
    Client::connect_with(&connection(server, credentials))
        .await
        .expect("connects over TLS")
}

/// The admin of `admin.kubeconfig`, dialing the test's loopback address.
async fn admin(server: &TestServer) -> Client {
    let kubeconfig = client::Kubeconfig::load(&server.data_dir().join("admin.kubeconfig"))
        .expect("admin.kubeconfig");
    let mut conn = kubeconfig.connection(None).expect("connection");
    conn.server = server.url.clone();
    Client::connect_with(&conn).await.expect("admin connects")
}

async fn whoami(c: &Client) -> Result<UserInfo, ApiError> {
    c.create_self_subject_review(SelfSubjectReview::default())
        .await
        .map(|r| r.status.unwrap_or_default().user_info.unwrap_or_default())
}

fn assert_unauthorized(result: Result<UserInfo, ApiError>, message: &str) {
    match result {
        Err(e) => {
            assert_eq!(e.reason, Reason::Unauthorized, "{e:?}");
            assert_eq!(e.message, message);
        }
        Ok(u) => panic!("authenticated as {u:?}; wanted {message:?}"),
    }
}

fn client_cert(ca: &Ca, cn: &str, groups: &[&str]) -> Credentials {
    let issued = ca
        .issue(&client_spec(cn, groups))
        .expect("client certificate");
    Credentials::ClientCert {
        cert_pem: issued.cert_pem,
        key_pem: issued.key_pem,
    }
}

fn client_spec(cn: &str, groups: &[&str]) -> CertSpec {
    CertSpec {
        common_name: cn.into(),
        organizations: groups.iter().map(|g| g.to_string()).collect(),
        dns_names: vec![],
        ip_addresses: vec![],
        usages: vec![Usage::ClientAuth],
        validity: Duration::from_secs(3600),
    }
}

fn cluster_ca(server: &TestServer) -> Ca {
    Ca::from_pem(
        &ca_pem(server),
        &read(&server.data_dir().join("pki/ca.key")),
    )
    .expect("cluster CA")
}

fn token(t: &str) -> Credentials {
    Credentials::Token(t.to_string())
}

async fn service_account(admin: &Client, ns: &str, name: &str) -> ServiceAccount {
    let mut sa = ServiceAccount::default();
    sa.meta_mut().namespace = ns.into();
    sa.meta_mut().name = name.into();
    ServiceAccount::try_from_object(admin.create(sa.into_object()).await.expect("create SA"))
        .expect("a ServiceAccount")
}

async fn delete(admin: &Client, resource: &str, ns: &str, name: &str) {
    admin
        .delete(DeleteRequest {
            resource: resource.into(),
            namespace: ns.into(),
            name: name.into(),
            ..Default::default()
        })
        .await
        .unwrap_or_else(|e| panic!("delete {resource} {ns}/{name}: {e}"));
}

async fn token_for(admin: &Client, ns: &str, sa: &str, spec: TokenRequestSpec) -> String {
    let mut tr = TokenRequest {
        spec: Some(spec),
        ..Default::default()
    };
    let meta = tr.metadata.get_or_insert_with(Default::default);
    meta.namespace = ns.into();
    meta.name = sa.into();
    let got = admin.create_token(tr).await.expect("TokenRequest");
    got.status.expect("status").token
}

#[tokio::test]
async fn client_certificates_from_the_cluster_ca_only_and_only_while_valid() {
    let (server, _files) = secure_server(|_| {}).await;

    let me = whoami(&admin(&server).await).await.expect("admin");
    assert_eq!(me.username, "kubernetes-admin");
    assert_eq!(me.groups, ["system:masters", "system:authenticated"]);

    let ca = cluster_ca(&server);
    let node = client(
        &server,
        client_cert(&ca, "system:node:n1", &["system:nodes"]),
    )
    .await;
    let me = whoami(&node).await.expect("node");
    assert_eq!(me.username, "system:node:n1");
    assert_eq!(me.groups, ["system:nodes", "system:authenticated"]);

    let other = Ca::generate("other", Duration::from_secs(3600)).expect("other CA");
    let stranger = client(
        &server,
        client_cert(&other, "kubernetes-admin", &["system:masters"]),
    )
    .await;
    assert_unauthorized(
        whoami(&stranger).await,
        "Unauthorized: x509: certificate signed by unknown authority",
    );

    let now = SystemTime::now();
    let expired = ca
        .issue_with_validity(
            &client_spec("late", &[]),
            now - Duration::from_secs(7200),
            now - Duration::from_secs(3600),
        )
        .expect("expired certificate");
    let late = client(
        &server,
        Credentials::ClientCert {
            cert_pem: expired.cert_pem,
            key_pem: expired.key_pem,
        },
    )
    .await;
    assert_unauthorized(
        whoami(&late).await,
        "Unauthorized: x509: certificate has expired or is not yet valid",
    );

    // A serving certificate is not a client certificate.
    let serving = ca
        .issue(&CertSpec {
            usages: vec![Usage::ServerAuth],
            ..client_spec("server", &[])
        })
        .expect("serving certificate");
    let wrong_usage = client(
        &server,
        Credentials::ClientCert {
            cert_pem: serving.cert_pem,
            key_pem: serving.key_pem,
        },
    )
    .await;
    assert_unauthorized(
        whoami(&wrong_usage).await,
        "Unauthorized: x509: certificate specifies an incompatible key usage",
    );

    // No credentials at all: anonymous (allowed here), never an error.
    let anonymous = whoami(&client(&server, Credentials::None).await)
        .await
        .expect("anonymous");
    assert_eq!(anonymous.username, "system:anonymous");
    assert_eq!(anonymous.groups, ["system:unauthenticated"]);
    server.stop().await;
}

#[tokio::test]
async fn anonymous_requests_can_be_turned_off() {
    let (server, _files) = secure_server(|c| c.anonymous_auth = false).await;
    assert_unauthorized(
        whoami(&client(&server, Credentials::None).await).await,
        "Unauthorized: no client certificate or bearer token presented, and anonymous requests are disabled",
    );
    // Credentials still work.
    assert!(whoami(&admin(&server).await).await.is_ok());
    // The API itself is behind the same layer.
    let e = client(&server, Credentials::None)
        .await
        .get("namespaces", "", "default")
        .await
        .unwrap_err();
    assert_eq!(e.reason, Reason::Unauthorized, "{e:?}");
    server.stop().await;
}

#[tokio::test]
async fn static_and_bootstrap_tokens() {
    let (server, _files) = secure_server(|_| {}).await;
    let admin = admin(&server).await;

    let alice = whoami(&client(&server, token("static-token-1")).await)
        .await
        .expect("static token");
    assert_eq!(alice.username, "alice");
    assert_eq!(alice.uid, "uid-alice");
    assert_eq!(alice.groups, ["dev", "ops", "system:authenticated"]);
    assert_unauthorized(
        whoami(&client(&server, token("no-such-token")).await).await,
        "Unauthorized: invalid bearer token: token is not known",
    );

    let now = SystemTime::now();
    let good = proto::bootstrap_token::generate();
    let secret =
        proto::bootstrap_token::secret_for(&good, Some(Duration::from_secs(3600)), now, "test");
    admin
        .create(secret.into_object())
        .await
        .expect("bootstrap secret");
    let joiner = whoami(&client(&server, token(&good.to_string())).await)
        .await
        .expect("bootstrap token");
    assert_eq!(joiner.username, format!("system:bootstrap:{}", good.id));
    assert!(
        joiner.groups.contains(&"system:bootstrappers".to_string()),
        "{joiner:?}"
    );
    assert!(
        joiner.groups.contains(&"system:authenticated".to_string()),
        "{joiner:?}"
    );

    let old = proto::bootstrap_token::generate();
    let secret = proto::bootstrap_token::secret_for(
        &old,
        Some(Duration::from_secs(3600)),
        now - Duration::from_secs(7200),
        "expired",
    );
    admin
        .create(secret.into_object())
        .await
        .expect("expired bootstrap secret");
    assert_unauthorized(
        whoami(&client(&server, token(&old.to_string())).await).await,
        "Unauthorized: invalid bearer token: bootstrap token has expired",
    );
    let unknown = proto::bootstrap_token::generate();
    assert_unauthorized(
        whoami(&client(&server, token(&unknown.to_string())).await).await,
        "Unauthorized: invalid bearer token: bootstrap token is not known",
    );
    let wrong_secret = format!("{}.{}", good.id, "0000000000000000");
    assert_unauthorized(
        whoami(&client(&server, token(&wrong_secret)).await).await,
        "Unauthorized: invalid bearer token: bootstrap token secret does not match",
    );
    server.stop().await;
}

#[tokio::test]
async fn service_account_tokens_bound_checked_and_revoked_with_their_objects() {
    let (server, _files) = secure_server(|_| {}).await;
    let admin = admin(&server).await;
    let sa = service_account(&admin, "default", "builder").await;

    let t = token_for(&admin, "default", "builder", TokenRequestSpec::default()).await;
    let me = whoami(&client(&server, token(&t)).await)
        .await
        .expect("SA token");
    assert_eq!(me.username, "system:serviceaccount:default:builder");
    assert_eq!(me.uid, sa.meta().uid);
    assert_eq!(
        me.groups,
        [
            "system:serviceaccounts",
            "system:serviceaccounts:default",
            "system:authenticated"
        ]
    );

    // Bound to a pod running as the account: the pod's name and uid travel as extra.
    let mut pod = Pod::default();
    pod.meta_mut().namespace = "default".into();
    pod.meta_mut().name = "web".into();
    pod.spec = Some(PodSpec {
        service_account_name: "builder".into(),
        containers: vec![Container {
            name: "c".into(),
            image: "busybox".into(),
            ..Default::default()
        }],
        ..Default::default()
    });
    let pod = Pod::try_from_object(admin.create(pod.into_object()).await.expect("pod")).unwrap();
    let bound = token_for(
        &admin,
        "default",
        "builder",
        TokenRequestSpec {
            bound_object_ref: Some(BoundObjectReference {
                kind: "Pod".into(),
                api_version: "v1".into(),
                name: "web".into(),
                uid: pod.meta().uid.clone(),
            }),
            ..Default::default()
        },
    )
    .await;
    let me = whoami(&client(&server, token(&bound)).await)
        .await
        .expect("bound token");
    let extra = |k: &str| me.extra.get(k).map(|v| v.items.clone()).unwrap_or_default();
    assert_eq!(extra("authentication.kubernetes.io/pod-name"), ["web"]);
    assert_eq!(
        extra("authentication.kubernetes.io/pod-uid"),
        [pod.meta().uid.clone()]
    );

    // Another audience than the API's is not accepted by the API.
    let vault = token_for(
        &admin,
        "default",
        "builder",
        TokenRequestSpec {
            audiences: vec!["vault".into()],
            ..Default::default()
        },
    )
    .await;
    assert_unauthorized(
        whoami(&client(&server, token(&vault)).await).await,
        "Unauthorized: invalid bearer token: token audience is not accepted",
    );

    // Signed by someone else.
    let key = proto::satoken::private_key_from_seed([7; 32]);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let claims = proto::satoken::BoundClaims::new(
        apiserver::server::DEFAULT_ISSUER,
        &[apiserver::server::DEFAULT_ISSUER.to_string()],
        "default",
        "builder",
        &sa.meta().uid,
        now,
        3600,
    );
    let forged = proto::satoken::sign_bound(&claims, &key);
    assert_unauthorized(
        whoami(&client(&server, token(&forged)).await).await,
        "Unauthorized: invalid bearer token: token signature does not verify",
    );
    // Signed with the cluster's key, but expired.
    let sa_key = proto::satoken::decode_private_key(&read(&server.data_dir().join("pki/sa.key")))
        .expect("sa.key");
    let expired = proto::satoken::BoundClaims::new(
        apiserver::server::DEFAULT_ISSUER,
        &[apiserver::server::DEFAULT_ISSUER.to_string()],
        "default",
        "builder",
        &sa.meta().uid,
        now - 7200,
        3600,
    );
    assert_unauthorized(
        whoami(
            &client(
                &server,
                token(&proto::satoken::sign_bound(&expired, &sa_key)),
            )
            .await,
        )
        .await,
        "Unauthorized: invalid bearer token: token has expired",
    );

    // TokenReview answers for a token without using it.
    let review = admin
        .create_token_review(TokenReview {
            spec: Some(TokenReviewSpec {
                token: t.clone(),
                audiences: vec![],
            }),
            ..Default::default()
        })
        .await
        .expect("TokenReview");
    let status = review.status.expect("status");
    assert!(status.authenticated, "{status:?}");
    assert_eq!(
        status.user.expect("user").username,
        "system:serviceaccount:default:builder"
    );

    // Deleting the pod revokes its bound token; deleting the account revokes all.
    delete(&admin, "pods", "default", "web").await;
    assert_unauthorized(
        whoami(&client(&server, token(&bound)).await).await,
        "Unauthorized: invalid bearer token: pod default/web has been deleted",
    );
    delete(&admin, "serviceaccounts", "default", "builder").await;
    assert_unauthorized(
        whoami(&client(&server, token(&t)).await).await,
        "Unauthorized: invalid bearer token: service account default/builder has been deleted",
    );
    // A TokenRequest for an account that does not exist.
    let mut tr = TokenRequest::default();
    let meta = tr.metadata.get_or_insert_with(Default::default);
    meta.namespace = "default".into();
    meta.name = "builder".into();
    let e = admin.create_token(tr).await.unwrap_err();
    assert_eq!(e.reason, Reason::NotFound, "{e:?}");
    assert_eq!(e.message, "serviceaccounts \"builder\" not found");
    server.stop().await;
}

#[tokio::test]
async fn plaintext_test_servers_still_authenticate_tokens() {
    let files = tempfile::tempdir().expect("temp dir");
    let tokens = files.path().join("tokens.csv");
    std::fs::write(&tokens, "t-bob,bob,uid-bob\n").expect("token file");
    let server = TestServer::start_with(|c| c.token_auth_file = Some(tokens)).await;
    assert!(server.url.starts_with("http://"));
    let plain = Client::connect(&server.url).await.expect("plaintext");
    assert_eq!(
        whoami(&plain).await.expect("anonymous").username,
        "system:anonymous"
    );
    let mut conn = ConnectionConfig::plaintext(&server.url);
    conn.credentials = token("t-bob");
    let bob = Client::connect_with(&conn)
        .await
        .expect("plaintext with token");
    assert_eq!(whoami(&bob).await.expect("bob").username, "bob");
    server.stop().await;
}

#[tokio::test]
async fn the_binarys_defaults_authorize_with_node_and_rbac_and_publish_the_kubernetes_service() {
    let (server, _files) = secure_server(|c| {
        c.authorization_mode = vec!["Node".into(), "RBAC".into()];
        c.default_kubernetes_service = true;
    })
    .await;
    let admin = admin(&server).await;
    let ca = cluster_ca(&server);
    let nobody = client(&server, client_cert(&ca, "nobody", &[])).await;

    // Known but not allowed: PermissionDenied with Kubernetes' message.
    let e = nobody.get("secrets", "default", "s").await.unwrap_err();
    assert_eq!(e.reason, Reason::Forbidden, "{e:?}");
    assert_eq!(
        e.message,
        "secrets \"s\" is forbidden: User \"nobody\" cannot get resource \"secrets\" in API group \"\" in the namespace \"default\""
    );
    // Anyone authenticated may ask who they are; anonymous callers may not.
    assert_eq!(whoami(&nobody).await.expect("whoami").username, "nobody");
    let e = whoami(&client(&server, Credentials::None).await)
        .await
        .unwrap_err();
    assert_eq!(e.reason, Reason::Forbidden, "{e:?}");

    // The kubelet proxy authorizes before dialing anything.
    let kubelet = client::KubeletApi::via_apiserver_with(&connection(
        &server,
        client_cert(&ca, "nobody", &[]),
    ))
    .await
    .expect("kubelet API through the apiserver");
    let e = kubelet
        .exec(proto::kubelet_api::ExecRequest {
            namespace: "default".into(),
            pod: "web".into(),
            command: vec!["id".into()],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(e.reason, Reason::Forbidden, "{e:?}");
    assert_eq!(
        e.message,
        "pods \"web\" is forbidden: User \"nobody\" cannot create resource \"pods/exec\" in API group \"\" in the namespace \"default\""
    );
    let e = kubelet
        .port_forward(
            proto::kubelet_api::PortForwardOpen {
                namespace: "default".into(),
                pod: "web".into(),
                port: 80,
            },
            futures::stream::empty(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.reason, Reason::Forbidden, "{e:?}");
    assert_eq!(
        e.message,
        "pods \"web\" is forbidden: User \"nobody\" cannot create resource \"pods/portforward\" in API group \"\" in the namespace \"default\""
    );

    // Service and Endpoints default/kubernetes point at this apiserver.
    let svc = Service::try_from_object(
        admin
            .get("services", "default", "kubernetes")
            .await
            .expect("service"),
    )
    .unwrap();
    let spec = svc.spec.unwrap();
    assert_eq!(spec.cluster_ip, "10.96.0.1");
    assert_eq!(spec.ports[0].port, 443);
    assert_eq!(spec.ports[0].target_port, server.addr().port().to_string());
    let ep = Endpoints::try_from_object(
        admin
            .get("endpoints", "default", "kubernetes")
            .await
            .expect("endpoints"),
    )
    .unwrap();
    assert_eq!(ep.subsets[0].ports[0].port, i32::from(server.addr().port()));
    assert_eq!(ep.subsets.len(), 1);
    server.stop().await;
}

/// A kubelet that answers exec with the common name of the client certificate it saw.
struct FakeKubelet;

#[tonic::async_trait]
impl proto::kubelet_api::kubelet_server::Kubelet for FakeKubelet {
    type LogsStream = futures::stream::Empty<Result<proto::kubelet_api::LogChunk, tonic::Status>>;

    async fn logs(
        &self,
        _: tonic::Request<proto::kubelet_api::LogsRequest>,
    ) -> Result<tonic::Response<Self::LogsStream>, tonic::Status> {
        Ok(tonic::Response::new(futures::stream::empty()))
    }

    async fn exec(
        &self,
        request: tonic::Request<proto::kubelet_api::ExecRequest>,
    ) -> Result<tonic::Response<proto::kubelet_api::ExecResponse>, tonic::Status> {
        let peer = request
            .extensions()
            .get::<pki::tls::TlsConnectInfo>()
            .and_then(|i| i.peer_certificates.clone())
            .and_then(|chain| chain.first().map(|c| pki::inspect::parse_der(c)))
            .transpose()
            .map_err(|e| tonic::Status::internal(e.to_string()))?
            .map(|info| info.common_name)
            .unwrap_or_else(|| "<no certificate>".into());
        Ok(tonic::Response::new(proto::kubelet_api::ExecResponse {
            exit_code: 0,
            output: peer.into_bytes(),
            truncated: false,
        }))
    }

    async fn stats(
        &self,
        _: tonic::Request<proto::kubelet_api::StatsRequest>,
    ) -> Result<tonic::Response<proto::kubelet_api::StatsResponse>, tonic::Status> {
        Ok(tonic::Response::new(Default::default()))
    }

    type ExecStreamStream =
        futures::stream::Empty<Result<proto::kubelet_api::ExecStreamResponse, tonic::Status>>;

    async fn exec_stream(
        &self,
        _: tonic::Request<tonic::Streaming<proto::kubelet_api::ExecStreamRequest>>,
    ) -> Result<tonic::Response<Self::ExecStreamStream>, tonic::Status> {
        Err(tonic::Status::unimplemented("stub"))
    }

    type PortForwardStream =
        futures::stream::Empty<Result<proto::kubelet_api::PortForwardResponse, tonic::Status>>;

    async fn port_forward(
        &self,
        _: tonic::Request<tonic::Streaming<proto::kubelet_api::PortForwardRequest>>,
    ) -> Result<tonic::Response<Self::PortForwardStream>, tonic::Status> {
        Err(tonic::Status::unimplemented("stub"))
    }
}

#[tokio::test]
async fn the_kubelet_proxy_dials_kubelets_over_tls_with_its_kubelet_client_certificate() {
    let (server, _files) = secure_server(|_| {}).await;
    let admin = admin(&server).await;
    let ca = cluster_ca(&server);

    // A kubelet on loopback serving a certificate of the cluster CA for 127.0.0.1.
    let serving = ca
        .issue(&CertSpec {
            common_name: "system:node:n1".into(),
            organizations: vec!["system:nodes".into()],
            dns_names: vec!["n1".into()],
            ip_addresses: vec!["127.0.0.1".parse().unwrap()],
            usages: vec![Usage::ServerAuth],
            validity: Duration::from_secs(3600),
        })
        .expect("kubelet serving certificate");
    let chain = format!("{}{}", serving.cert_pem, ca.cert_pem());
    let tls = pki::tls::server_config(
        pki::tls::ServingCert::from_pem(&chain, &serving.key_pem).expect("serving cert"),
        &[b"h2"],
    )
    .expect("TLS config");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let kubelet = tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(proto::kubelet_api::kubelet_server::KubeletServer::new(
                FakeKubelet,
            ))
            .serve_with_incoming(pki::tls::incoming(listener, tls)),
    );

    let node = Node {
        metadata: Some(ObjectMeta {
            name: "n1".into(),
            ..Default::default()
        }),
        ..Default::default()
    };
    let created =
        Node::try_from_object(admin.create(node.into_object()).await.expect("node")).unwrap();
    let mut node = created;
    node.status = Some(NodeStatus {
        addresses: vec![NodeAddress {
            r#type: "InternalIP".into(),
            address: "127.0.0.1".into(),
        }],
        daemon_endpoints: Some(NodeDaemonEndpoints {
            kubelet_endpoint: Some(DaemonEndpoint {
                port: i32::from(port),
            }),
        }),
        ..Default::default()
    });
    admin
        .update(node.into_object(), "status")
        .await
        .expect("node status");
    let mut pod = Pod::default();
    pod.meta_mut().namespace = "default".into();
    pod.meta_mut().name = "web".into();
    pod.spec = Some(PodSpec {
        node_name: "n1".into(),
        containers: vec![Container {
            name: "c".into(),
            image: "busybox".into(),
            ..Default::default()
        }],
        ..Default::default()
    });
    admin.create(pod.into_object()).await.expect("pod");

    let api = client::KubeletApi::via_apiserver_with(&connection(
        &server,
        client_cert(&ca, "kubernetes-admin", &["system:masters"]),
    ))
    .await
    .expect("kubelet API through the apiserver");
    let out = api
        .exec(proto::kubelet_api::ExecRequest {
            namespace: "default".into(),
            pod: "web".into(),
            command: vec!["id".into()],
            ..Default::default()
        })
        .await
        .expect("exec through the proxy");
    assert_eq!(
        String::from_utf8_lossy(&out.output),
        "kube-apiserver-kubelet-client"
    );
    kubelet.abort();
    server.stop().await;
}
