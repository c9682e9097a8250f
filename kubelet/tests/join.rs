//! Join by bootstrap token against an in-process apiserver serving TLS: the CA pinned by
//! hash (a wrong pin refused naming both hashes), the client certificate asked for with a
//! CSR that this test approves and signs as the controller-manager would, the credentials
//! written and reused at the next start, then a rotation (the first certificate is short
//! lived) swapping the identity and the file.

use apiserver::testing::TestServer;
use client::{Api, Client, ListParams};
use kubelet::bootstrap::files::Paths;
use kubelet::bootstrap::source::Flags;
use proto::Resource;
use proto::k8s::{
    CertificateSigningRequest, CertificateSigningRequestCondition, SelfSubjectReview,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Approves and signs every pending kubelet client CSR: the first with `first_validity`,
/// later ones for an hour. Counts the certificates issued.
async fn approve_and_sign(
    admin: Client,
    ca: pki::ca::Ca,
    first_validity: Duration,
    issued: Arc<AtomicUsize>,
    cancel: CancellationToken,
) {
    let api: Api<CertificateSigningRequest> = Api::all(admin.clone());
    while !cancel.is_cancelled() {
        let list = api
            .list(&ListParams::default())
            .await
            .map(|l| l.items)
            .unwrap_or_default();
        for csr in list {
            let status = csr.status.clone().unwrap_or_default();
            if !status.certificate.is_empty() {
                continue;
            }
            let mut approved = csr.clone();
            let approved_now = !status.conditions.iter().any(|c| c.r#type == "Approved");
            if approved_now {
                approved
                    .status
                    .get_or_insert_with(Default::default)
                    .conditions
                    .push(CertificateSigningRequestCondition {
                        r#type: "Approved".into(),
                        status: "True".into(),
                        reason: "TestApproved".into(),
                        ..Default::default()
                    });
                match admin
                    .update(approved.clone().into_object(), "approval")
                    .await
                {
                    Ok(o) => approved = CertificateSigningRequest::try_from_object(o).unwrap(),
                    Err(e) => {
                        eprintln!("approval failed: {e}");
                        continue;
                    }
                }
            }
            let request = String::from_utf8(csr.spec.clone().unwrap().request).unwrap();
            let n = issued.load(Ordering::SeqCst);
            let validity = if n == 0 {
                first_validity
            } else {
                Duration::from_secs(3600)
            };
            let cert = ca
                .sign_csr(&request, &[pki::ca::Usage::ClientAuth], validity)
                .unwrap();
            approved
                .status
                .get_or_insert_with(Default::default)
                .certificate = cert.into_bytes();
            if api.update_status(&approved).await.is_ok() {
                issued.fetch_add(1, Ordering::SeqCst);
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn whoami(client: &Client) -> (String, Vec<String>) {
    let r = client
        .create_self_subject_review(SelfSubjectReview::default())
        .await
        .unwrap();
    let u = r.status.unwrap().user_info.unwrap();
    (u.username, u.groups)
}

#[tokio::test]
async fn a_kubelet_joins_with_a_token_reuses_its_credentials_and_rotates_them() {
    let server = TestServer::start_with(|c| c.insecure_plaintext = false).await;
    assert!(server.url.starts_with("https://"), "{}", server.url);
    let d = server.data_dir().to_path_buf();
    let mut admin_conn = client::Kubeconfig::load(&d.join("admin.kubeconfig"))
        .unwrap()
        .connection(None)
        .unwrap();
    // The kubeconfig names the advertise address; the test server listens on loopback.
    admin_conn.server = server.url.clone();
    let admin = Client::connect_with(&admin_conn).await.unwrap();
    let ca_pem = std::fs::read_to_string(d.join("pki/ca.crt")).unwrap();
    let ca = pki::ca::Ca::from_pem(
        &ca_pem,
        &std::fs::read_to_string(d.join("pki/ca.key")).unwrap(),
    )
    .unwrap();
    let hash = pki::hash::ca_cert_hash(&ca_pem).unwrap();

    let token = proto::bootstrap_token::generate();
    let secret = proto::bootstrap_token::secret_for(
        &token,
        Some(Duration::from_secs(3600)),
        std::time::SystemTime::now(),
        "join test",
    );
    Api::<proto::k8s::Secret>::namespaced(admin.clone(), proto::bootstrap_token::NAMESPACE)
        .create(&secret)
        .await
        .unwrap();

    let root = tempfile::tempdir().unwrap();
    let paths = Paths::new(root.path());
    let cancel = CancellationToken::new();
    let _stop = cancel.clone().drop_guard();
    let token_text = token.to_string();

    // A wrong pin: refused before anything is sent, naming both hashes.
    let wrong = format!("sha256:{}", "0".repeat(64));
    let flags = Flags {
        kubeconfig: None,
        server: Some(&server.url),
        bootstrap_token: Some(&token_text),
        ca_cert_hash: Some(&wrong),
    };
    let e = kubelet::bootstrap::connect(&flags, &paths, "n1", &cancel)
        .await
        .err()
        .expect("a wrong CA hash is refused");
    let msg = e.to_string();
    assert!(msg.contains(&wrong) && msg.contains(&hash), "{msg}");

    // The real pin: a CSR, approved and signed (briefly valid, so it is due for rotation).
    let issued = Arc::new(AtomicUsize::new(0));
    tokio::spawn(approve_and_sign(
        admin.clone(),
        ca,
        Duration::from_secs(60),
        issued.clone(),
        cancel.clone(),
    ));
    let flags = Flags {
        ca_cert_hash: Some(&hash),
        ..flags
    };
    let conn = tokio::time::timeout(
        Duration::from_secs(30),
        kubelet::bootstrap::connect(&flags, &paths, "n1", &cancel),
    )
    .await
    .expect("joined within 30 s")
    .unwrap()
    .unwrap();
    assert!(conn.secure());
    let (user, groups) = whoami(&conn.client).await;
    assert_eq!(user, "system:node:n1");
    assert!(groups.contains(&"system:nodes".to_string()), "{groups:?}");
    for p in [paths.client_cert(), paths.ca(), paths.kubeconfig()] {
        assert!(p.exists(), "{}", p.display());
    }
    let csrs = Api::<CertificateSigningRequest>::all(admin.clone())
        .list(&ListParams::default())
        .await
        .unwrap()
        .items;
    assert_eq!(csrs.len(), 1);
    let spec = csrs[0].spec.clone().unwrap();
    assert_eq!(
        spec.signer_name,
        "kubernetes.io/kube-apiserver-client-kubelet"
    );
    assert_eq!(
        spec.username,
        token.user_name(),
        "the CSR records who asked"
    );

    // Next start: no token needed, the written kubeconfig is used.
    let again = kubelet::bootstrap::connect(
        &Flags {
            server: None,
            ..Flags::default()
        },
        &paths,
        "n1",
        &cancel,
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(whoami(&again.client).await.0, "system:node:n1");

    // Rotation: the first certificate is at its deadline already (not_before is backdated
    // five minutes), so a renewal CSR goes out at once, authenticated as the node.
    let first = conn.current_cert_pem().unwrap();
    let first_file = std::fs::read_to_string(paths.client_cert()).unwrap();
    tokio::spawn(kubelet::certificate::manager::rotate(
        "client",
        conn.client.clone(),
        kubelet::certificate::shape::client("n1"),
        first.clone(),
        kubelet::bootstrap::install_client(&conn, &paths),
        cancel.clone(),
    ));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while conn.current_cert_pem().unwrap() == first {
        assert!(
            tokio::time::Instant::now() < deadline,
            "not rotated within 30 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The kubelet may see the certificate (through its watch) before the signer's status
    // write returns and it counts the issue.
    let counted = tokio::time::Instant::now() + Duration::from_secs(10);
    while issued.load(Ordering::SeqCst) < 2 && tokio::time::Instant::now() < counted {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(issued.load(Ordering::SeqCst), 2);
    assert_ne!(
        std::fs::read_to_string(paths.client_cert()).unwrap(),
        first_file
    );
    let renewal = Api::<CertificateSigningRequest>::all(admin.clone())
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .find(|c| c.meta().name.starts_with("csr-"))
        .expect("a renewal CSR");
    assert_eq!(renewal.spec.unwrap().username, "system:node:n1");
    // New connections present the new certificate.
    let fresh = Client::connect_with(&conn.config).await.unwrap();
    assert_eq!(whoami(&fresh).await.0, "system:node:n1");
    cancel.cancel();
    server.stop().await;
}
