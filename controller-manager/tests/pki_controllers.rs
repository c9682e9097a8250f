//! The controllers of cluster security against an in-process apiserver: csrsigning signs
//! approved kubelet CSRs with the cluster CA and fails requests that do not fit their
//! signer; csrapproving approves a kubelet's join CSR after a SubjectAccessReview;
//! root-ca-cert-publisher keeps `kube-root-ca.crt` in every namespace; tokencleaner
//! deletes expired bootstrap tokens.

mod common;

use client::{Api, DeleteParams};
use common::{Cluster, wait_for};
use controller_manager::controllers::csrapproving::{MESSAGE_CLIENT, REASON_AUTO_APPROVED};
use controller_manager::controllers::csrsigning::REASON_VALIDATION_FAILED;
use controller_manager::controllers::rootcacertpublisher::{CONFIG_MAP_NAME, DATA_KEY};
use pki::ca::Ca;
use proto::Resource;
use proto::bootstrap_token;
use proto::k8s::{CertificateSigningRequest, CertificateSigningRequestSpec, ConfigMap, Secret};
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

const T: Duration = Duration::from_secs(20);
const KUBELET_CLIENT: &str = "kubernetes.io/kube-apiserver-client-kubelet";
const CLIENT_USAGES: &[&str] = &["digital signature", "key encipherment", "client auth"];

/// A CA written to `dir` as ca.crt / ca.key.
fn write_ca(dir: &std::path::Path) -> (Ca, PathBuf, PathBuf) {
    let ca = Ca::generate("kubernetes", Duration::from_secs(10 * 365 * 24 * 3600)).unwrap();
    let (crt, key) = (dir.join("ca.crt"), dir.join("ca.key"));
    std::fs::write(&crt, ca.cert_pem()).unwrap();
    std::fs::write(&key, ca.key_pem()).unwrap();
    (ca, crt, key)
}

fn csr(name: &str, cn: &str, orgs: &[&str], signer: &str) -> CertificateSigningRequest {
    let orgs: Vec<String> = orgs.iter().map(|s| s.to_string()).collect();
    let (request, _key) = pki::csr::generate(cn, &orgs, &[], &[]).unwrap();
    let mut c = CertificateSigningRequest {
        spec: Some(CertificateSigningRequestSpec {
            request: request.into_bytes(),
            signer_name: signer.into(),
            usages: CLIENT_USAGES.iter().map(|s| s.to_string()).collect(),
            expiration_seconds: Some(3600),
            ..Default::default()
        }),
        ..Default::default()
    };
    c.meta_mut().name = name.into();
    c
}

/// What `ctl certificate approve` does: an Approved condition through `approval`.
async fn approve(c: &Cluster, name: &str) {
    let api = Api::<CertificateSigningRequest>::all(c.client.clone());
    let mut cur = api.get(name).await.unwrap();
    cur.status
        .get_or_insert_with(Default::default)
        .conditions
        .push(proto::k8s::CertificateSigningRequestCondition {
            r#type: "Approved".into(),
            status: "True".into(),
            reason: "AdminApproved".into(),
            message: "approved by the test".into(),
            ..Default::default()
        });
    c.client
        .update(cur.into_object(), "approval")
        .await
        .expect("approve through the approval subresource");
}

fn condition<'a>(
    csr: &'a CertificateSigningRequest,
    kind: &str,
) -> Option<&'a proto::k8s::CertificateSigningRequestCondition> {
    csr.status
        .as_ref()?
        .conditions
        .iter()
        .find(|c| c.r#type == kind)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signer_signs_approved_requests_and_fails_misfits() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, crt, key) = write_ca(dir.path());
    let c = Cluster::builder()
        .no_kubelet()
        .controllers(&["csrsigning"])
        .configure(move |cfg| {
            cfg.cluster_signing_cert_file = Some(crt);
            cfg.cluster_signing_key_file = Some(key);
        })
        .start()
        .await;
    let api = Api::<CertificateSigningRequest>::all(c.client.clone());

    // Pending: not signed.
    api.create(&csr(
        "node-a",
        "system:node:a",
        &["system:nodes"],
        KUBELET_CLIENT,
    ))
    .await
    .unwrap();
    let before = c.reconciles("csrsigning", "node-a");
    approve(&c, "node-a").await;
    let signed = wait_for("the approved CSR signed", T, || async {
        let got = api.get("node-a").await.ok()?;
        got.status
            .as_ref()
            .filter(|s| !s.certificate.is_empty())
            .map(|s| s.certificate.clone())
    })
    .await;
    // The certificate can be read before the reconcile that wrote it is counted.
    wait_for("csrsigning counted its reconcile", T, || async {
        (c.reconciles("csrsigning", "node-a") > before).then_some(())
    })
    .await;
    let pem = String::from_utf8(signed).unwrap();
    let chain = pki::inspect::certs_from_pem(&pem).unwrap();
    let subject = pki::verify::ClientVerifier::new(ca.cert_pem())
        .unwrap()
        .verify(&chain, SystemTime::now())
        .expect("a client certificate of the cluster CA");
    assert_eq!(subject.common_name, "system:node:a");
    assert_eq!(subject.organizations, ["system:nodes"]);
    let info = &pki::inspect::parse_pem(&pem).unwrap()[0];
    let left = info.not_after.duration_since(SystemTime::now()).unwrap();
    assert!(
        left <= Duration::from_secs(3600),
        "expirationSeconds honoured: {left:?}"
    );

    // A kubelet CSR asking for system:masters fails, saying why, and gets no certificate.
    api.create(&csr(
        "sneaky",
        "system:node:a",
        &["system:masters"],
        KUBELET_CLIENT,
    ))
    .await
    .unwrap();
    approve(&c, "sneaky").await;
    let failed = wait_for("the misfit CSR marked Failed", T, || async {
        let got = api.get("sneaky").await.ok()?;
        condition(&got, "Failed").is_some().then_some(got)
    })
    .await;
    let cond = condition(&failed, "Failed").unwrap();
    assert_eq!(cond.reason, REASON_VALIDATION_FAILED);
    assert_eq!(cond.message, "subject organization is not system:nodes");
    assert!(failed.status.as_ref().unwrap().certificate.is_empty());

    // Another signer's CSR is not ours, approved or not.
    api.create(&csr("other", "alice", &[], "example.com/other"))
        .await
        .unwrap();
    approve(&c, "other").await;
    let before = c.reconciles("csrsigning", "node-a");
    // Something the signer does act on, after it: proof that it looked past "other".
    api.create(&csr(
        "node-b",
        "system:node:b",
        &["system:nodes"],
        KUBELET_CLIENT,
    ))
    .await
    .unwrap();
    approve(&c, "node-b").await;
    wait_for("node-b signed", T, || async {
        let got = api.get("node-b").await.ok()?;
        (!got.status?.certificate.is_empty()).then_some(())
    })
    .await;
    let other = api.get("other").await.unwrap();
    assert!(other.status.unwrap().certificate.is_empty());
    assert_eq!(c.reconciles("csrsigning", "node-a"), before);
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn join_request_is_approved_then_signed() {
    let dir = tempfile::tempdir().unwrap();
    let (_ca, crt, key) = write_ca(dir.path());
    let c = Cluster::builder()
        .no_kubelet()
        .controllers(&["csrapproving", "csrsigning"])
        .configure(move |cfg| {
            cfg.cluster_signing_cert_file = Some(crt);
            cfg.cluster_signing_key_file = Some(key);
        })
        .start()
        .await;
    let api = Api::<CertificateSigningRequest>::all(c.client.clone());
    api.create(&csr(
        "join",
        "system:node:joiner",
        &["system:nodes"],
        KUBELET_CLIENT,
    ))
    .await
    .unwrap();
    // Not a kubelet shape: left for an admin.
    api.create(&csr(
        "admin-only",
        "alice",
        &[],
        "kubernetes.io/kube-apiserver-client",
    ))
    .await
    .unwrap();
    let done = wait_for("the join CSR approved and signed", T, || async {
        let got = api.get("join").await.ok()?;
        (!got.status.as_ref()?.certificate.is_empty()).then_some(got)
    })
    .await;
    let approved = condition(&done, "Approved").expect("approved");
    assert_eq!(approved.reason, REASON_AUTO_APPROVED);
    assert_eq!(approved.message, MESSAGE_CLIENT);
    let before = c.reconciles("csrapproving", "admin-only");
    assert!(before > 0, "the approver looked at admin-only");
    let admin_only = api.get("admin-only").await.unwrap();
    assert!(condition(&admin_only, "Approved").is_none());
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn root_ca_is_published_and_kept_in_every_namespace() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, crt, _key) = write_ca(dir.path());
    let c = Cluster::builder()
        .no_kubelet()
        .controllers(&["root-ca-cert-publisher"])
        .configure(move |cfg| cfg.root_ca_file = Some(crt))
        .start()
        .await;
    let want = ca.cert_pem().to_string();
    let published = |ns: &'static str| {
        let api: Api<ConfigMap> = c.api(ns);
        let want = want.clone();
        async move {
            wait_for(&format!("kube-root-ca.crt in {ns}"), T, || async {
                let cm = api.get_opt(CONFIG_MAP_NAME).await.ok()??;
                (cm.data.get(DATA_KEY) == Some(&want)).then_some(cm)
            })
            .await
        }
    };
    published("default").await;
    published("kube-system").await;
    c.namespace("team").await;
    let cm = published("team").await;

    // Edited: put back.
    let api: Api<ConfigMap> = c.api("team");
    let mut forged = cm.clone();
    forged.data.insert(DATA_KEY.into(), "forged".into());
    api.update(&forged).await.unwrap();
    published("team").await;
    // Deleted: made again.
    api.delete(CONFIG_MAP_NAME, &DeleteParams::default())
        .await
        .unwrap();
    let again = published("team").await;
    assert_ne!(again.meta().uid, cm.meta().uid);
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_bootstrap_tokens_are_deleted_at_their_expiry() {
    let c = Cluster::builder()
        .no_kubelet()
        .controllers(&["tokencleaner"])
        .start()
        .await;
    let secrets: Api<Secret> = c.api("kube-system");
    let now = SystemTime::now();
    let expired = bootstrap_token::generate();
    let soon = bootstrap_token::generate();
    let forever = bootstrap_token::generate();
    for (t, ttl) in [
        (&expired, None),
        (&soon, Some(Duration::from_secs(3))),
        (&forever, None),
    ] {
        let mut s = bootstrap_token::secret_for(t, ttl, now, "test");
        if std::ptr::eq(t, &expired) {
            // Expired a minute ago.
            s.data.insert(
                bootstrap_token::KEY_EXPIRATION.into(),
                proto::time::format_rfc3339(now - Duration::from_secs(60)).into_bytes(),
            );
        }
        secrets.create(&s).await.unwrap();
    }
    let name = |t: &bootstrap_token::BootstrapToken| bootstrap_token::secret_name(&t.id);
    wait_for("the expired token deleted", T, || async {
        secrets
            .get_opt(&name(&expired))
            .await
            .ok()?
            .is_none()
            .then_some(())
    })
    .await;
    // Still there before its expiry, gone after it (the controller came back on time).
    assert!(secrets.get_opt(&name(&soon)).await.unwrap().is_some());
    wait_for("the token deleted once it expired", T, || async {
        secrets
            .get_opt(&name(&soon))
            .await
            .ok()?
            .is_none()
            .then_some(())
    })
    .await;
    assert!(
        SystemTime::now() >= now + Duration::from_secs(2),
        "not deleted before its expiration"
    );
    assert!(secrets.get_opt(&name(&forever)).await.unwrap().is_some());
    c.stop().await;
}
