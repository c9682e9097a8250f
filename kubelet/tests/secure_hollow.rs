//! A hollow kubelet (fake runtime) in secure mode against an in-process TLS apiserver: it
//! joins with a bootstrap token and the CA hash, registers its Node as `system:node:<name>`,
//! gets a serving certificate through a kubelet-serving CSR, and serves its API with TLS to
//! callers holding a client certificate of the cluster CA (the apiserver's kubelet client,
//! directly and through the apiserver's proxy), each call authorized by a
//! SubjectAccessReview against the apiserver's Node,RBAC authorizer. This test approves and
//! signs the CSRs, as the controller-manager would.

use apiserver::testing::TestServer;
use client::{Api, Client, ListParams};
use kubelet::runtime::fake::FakeRuntime;
use proto::Resource;
use proto::k8s::{CertificateSigningRequest, CertificateSigningRequestCondition, Node};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

async fn approve_and_sign(admin: Client, ca: pki::ca::Ca, cancel: CancellationToken) {
    let api: Api<CertificateSigningRequest> = Api::all(admin.clone());
    while !cancel.is_cancelled() {
        let list = api
            .list(&ListParams::default())
            .await
            .map(|l| l.items)
            .unwrap_or_default();
        for csr in list {
            if !csr
                .status
                .clone()
                .unwrap_or_default()
                .certificate
                .is_empty()
            {
                continue;
            }
            let spec = csr.spec.clone().unwrap_or_default();
            let usage = match spec.signer_name.as_str() {
                "kubernetes.io/kubelet-serving" => pki::ca::Usage::ServerAuth,
                _ => pki::ca::Usage::ClientAuth,
            };
            let mut next = csr.clone();
            next.status
                .get_or_insert_with(Default::default)
                .conditions
                .push(CertificateSigningRequestCondition {
                    r#type: "Approved".into(),
                    status: "True".into(),
                    reason: "TestApproved".into(),
                    ..Default::default()
                });
            let Ok(o) = admin.update(next.into_object(), "approval").await else {
                continue;
            };
            let mut next = CertificateSigningRequest::try_from_object(o).unwrap();
            let request = String::from_utf8(spec.request).unwrap();
            let cert = ca
                .sign_csr(&request, &[usage], Duration::from_secs(3600))
                .unwrap();
            next.status.get_or_insert_with(Default::default).certificate = cert.into_bytes();
            let _ = api.update_status(&next).await;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn wait_for<T>(what: &str, timeout: Duration, mut f: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < deadline, "{what}: not within {timeout:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secure_hollow_node_joins_and_serves_its_api_with_tls() {
    // As the real cluster runs: TLS, Node and RBAC authorization.
    let server = TestServer::start_with(|c| {
        c.insecure_plaintext = false;
        c.authorization_mode = vec!["Node".into(), "RBAC".into()];
    })
    .await;
    let d = server.data_dir().to_path_buf();
    let mut admin_conn = client::Kubeconfig::load(&d.join("admin.kubeconfig"))
        .unwrap()
        .connection(None)
        .unwrap();
    admin_conn.server = server.url.clone();
    let admin = Client::connect_with(&admin_conn).await.unwrap();
    let ca_pem = std::fs::read_to_string(d.join("pki/ca.crt")).unwrap();
    let ca_key = std::fs::read_to_string(d.join("pki/ca.key")).unwrap();
    let ca = pki::ca::Ca::from_pem(&ca_pem, &ca_key).unwrap();
    let token = proto::bootstrap_token::generate();
    Api::<proto::k8s::Secret>::namespaced(admin.clone(), proto::bootstrap_token::NAMESPACE)
        .create(&proto::bootstrap_token::secret_for(
            &token,
            Some(Duration::from_secs(3600)),
            std::time::SystemTime::now(),
            "secure hollow",
        ))
        .await
        .unwrap();
    let cancel = CancellationToken::new();
    let _stop = cancel.clone().drop_guard();
    tokio::spawn(approve_and_sign(admin.clone(), ca, cancel.clone()));

    let dir = tempfile::tempdir().unwrap();
    let busybox = dir.path().join("busybox");
    std::fs::write(&busybox, b"not really busybox").unwrap();
    let root = dir.path().join("root");
    let token_text = token.to_string();
    let hash = pki::hash::ca_cert_hash(&ca_pem).unwrap();
    let cfg = <kubelet::config::Config as clap::Parser>::parse_from([
        "kubelet",
        "--server",
        &server.url,
        "--bootstrap-token",
        &token_text,
        "--ca-cert-hash",
        &hash,
        "--node-name",
        "secure-1",
        "--node-ip",
        "127.0.0.1",
        "--root-dir",
        root.to_str().unwrap(),
        "--busybox",
        busybox.to_str().unwrap(),
        "--address",
        "127.0.0.1",
        "--port",
        "0",
        "--healthz-port",
        "0",
    ]);
    let rt = FakeRuntime::new();
    let kubelet_cancel = CancellationToken::new();
    let task = tokio::spawn(kubelet::kubelet::run(
        cfg,
        Arc::new(rt),
        None,
        kubelet_cancel.clone(),
    ));

    let nodes: Api<Node> = Api::all(admin.clone());
    let port = wait_for("node registered", Duration::from_secs(30), async || {
        let n = nodes.get_opt("secure-1").await.ok().flatten()?;
        let port = n
            .status
            .as_ref()?
            .daemon_endpoints
            .as_ref()?
            .kubelet_endpoint
            .as_ref()?
            .port;
        (port > 0).then_some(port)
    })
    .await;
    let paths = kubelet::bootstrap::files::Paths::new(&root);
    wait_for("serving certificate", Duration::from_secs(30), async || {
        paths.server_cert().exists().then_some(())
    })
    .await;
    let csrs = Api::<CertificateSigningRequest>::all(admin.clone())
        .list(&ListParams::default())
        .await
        .unwrap()
        .items;
    let serving = csrs
        .iter()
        .find(|c| c.spec.as_ref().unwrap().signer_name == "kubernetes.io/kubelet-serving")
        .expect("a serving CSR");
    assert_eq!(
        serving.spec.as_ref().unwrap().username,
        "system:node:secure-1"
    );
    let info = pki::csr::parse(&serving.spec.as_ref().unwrap().request).unwrap();
    assert_eq!(info.common_name, "system:node:secure-1");
    assert_eq!(info.dns_names, vec!["secure-1".to_string()]);
    assert_eq!(
        info.ip_addresses,
        vec!["127.0.0.1".parse::<std::net::IpAddr>().unwrap()]
    );

    // Directly, as the apiserver's kubelet client.
    let url = format!("https://127.0.0.1:{port}");
    let kubelet_client = client::ConnectionConfig {
        server: url.clone(),
        trust: Some(pki::tls::ServerTrust::Ca(ca_pem.clone())),
        credentials: client::Credentials::ClientCert {
            cert_pem: std::fs::read_to_string(d.join("pki/apiserver-kubelet-client.crt")).unwrap(),
            key_pem: std::fs::read_to_string(d.join("pki/apiserver-kubelet-client.key")).unwrap(),
        },
        tls_server_name: None,
    };
    let direct = wait_for(
        "kubelet API over TLS",
        Duration::from_secs(20),
        async || {
            let api = client::KubeletApi::direct_with(&url, &kubelet_client)
                .await
                .ok()?;
            api.stats(client::kubelet_api::StatsRequest::default())
                .await
                .ok()
                .map(|_| api)
        },
    )
    .await;
    drop(direct);
    let anonymous = client::ConnectionConfig {
        credentials: client::Credentials::None,
        ..kubelet_client.clone()
    };
    let e = client::KubeletApi::direct_with(&url, &anonymous)
        .await
        .unwrap()
        .stats(client::kubelet_api::StatsRequest::default())
        .await
        .unwrap_err();
    assert_eq!(e.reason, proto::Reason::Unauthorized, "{e}");

    // A certificate of the cluster CA for a user RBAC grants nothing: authenticated, then
    // refused by the SubjectAccessReview the kubelet asks of the apiserver.
    let nobody = pki::ca::Ca::from_pem(&ca_pem, &ca_key)
        .unwrap()
        .issue(&pki::ca::CertSpec {
            common_name: "nobody".into(),
            organizations: vec![],
            dns_names: vec![],
            ip_addresses: vec![],
            usages: vec![pki::ca::Usage::ClientAuth],
            validity: Duration::from_secs(600),
        })
        .unwrap();
    let nobody = client::ConnectionConfig {
        credentials: client::Credentials::ClientCert {
            cert_pem: nobody.cert_pem,
            key_pem: nobody.key_pem,
        },
        ..kubelet_client.clone()
    };
    let e = client::KubeletApi::direct_with(&url, &nobody)
        .await
        .unwrap()
        .stats(client::kubelet_api::StatsRequest::default())
        .await
        .unwrap_err();
    assert_eq!(e.reason, proto::Reason::Forbidden, "{e}");
    assert_eq!(
        e.message,
        "Forbidden (user=nobody, verb=get, resource=nodes, subresource=stats)"
    );

    // Through the apiserver's proxy (which dials the kubelet with TLS).
    let via = client::KubeletApi::via_apiserver_with(&admin_conn)
        .await
        .unwrap();
    let stats = via
        .stats(client::kubelet_api::StatsRequest {
            node: "secure-1".into(),
            ..Default::default()
        })
        .await;
    assert!(stats.is_ok(), "{stats:?}");

    // Pods run and report status as the node (Node authorizer, NodeRestriction).
    let pods: Api<proto::k8s::Pod> = Api::namespaced(admin.clone(), "default");
    let obj = proto::manifest::load_documents(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p1, namespace: default}\nspec:\n  \
         nodeName: secure-1\n  containers:\n  - {name: app, image: local/busybox:1}\n",
    )
    .unwrap()
    .remove(0);
    pods.create(&proto::k8s::Pod::try_from_object(obj).unwrap())
        .await
        .unwrap();
    wait_for("pod Running", Duration::from_secs(20), async || {
        pods.get("p1")
            .await
            .ok()
            .filter(|p| p.status.as_ref().is_some_and(|s| s.phase == "Running"))
    })
    .await;

    kubelet_cancel.cancel();
    task.await.unwrap().unwrap();
    server.stop().await;
}
