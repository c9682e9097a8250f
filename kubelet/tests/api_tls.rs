//! The kubelet API in secure mode, in-process: TLS with a serving certificate from a test
//! CA, callers told apart by their client certificates, calls authorized through an
//! access reviewer (a fake standing in for the apiserver's SubjectAccessReview) whose
//! answers are cached.

use kubelet::apiauth::authn::Authenticator;
use kubelet::apiauth::authz::{AccessReviewer, Authorizer, ResourceCheck, UserInfo, Verdict};
use kubelet::runtime::fake::FakeRuntime;
use kubelet::server::{ApiSecurity, api};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Allows `allowed` to read stats only; records every review.
struct Reviews {
    calls: AtomicUsize,
    seen: Mutex<Vec<(String, Vec<String>, String)>>,
}

#[tonic::async_trait]
impl AccessReviewer for Reviews {
    async fn review(&self, user: &UserInfo, check: &ResourceCheck) -> Result<Verdict, String> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.seen.lock().unwrap().push((
            user.name.clone(),
            user.groups.clone(),
            format!(
                "{} {}/{} {}",
                check.verb, check.resource, check.subresource, check.name
            ),
        ));
        Ok(Verdict {
            allowed: user.name == "allowed" && check.subresource == "stats",
            reason: String::new(),
        })
    }
}

fn spec(cn: &str, usage: pki::ca::Usage) -> pki::ca::CertSpec {
    pki::ca::CertSpec {
        common_name: cn.into(),
        organizations: vec!["testers".into()],
        dns_names: vec!["localhost".into()],
        ip_addresses: vec!["127.0.0.1".parse().unwrap()],
        usages: vec![usage],
        validity: Duration::from_secs(3600),
    }
}

async fn kubelet_api(
    url: &str,
    ca: &pki::ca::Ca,
    client: Option<&pki::ca::Issued>,
) -> client::KubeletApi {
    let config = client::ConnectionConfig {
        server: url.to_string(),
        trust: Some(pki::tls::ServerTrust::Ca(ca.cert_pem().to_string())),
        credentials: match client {
            Some(c) => client::Credentials::ClientCert {
                cert_pem: c.cert_pem.clone(),
                key_pem: c.key_pem.clone(),
            },
            None => client::Credentials::None,
        },
        tls_server_name: None,
    };
    client::KubeletApi::direct_with(url, &config).await.unwrap()
}

#[tokio::test]
async fn secure_kubelet_api_authenticates_by_certificate_and_authorizes_through_reviews() {
    let ca = pki::ca::Ca::generate("kubernetes", Duration::from_secs(7200)).unwrap();
    let other_ca = pki::ca::Ca::generate("other", Duration::from_secs(7200)).unwrap();
    let serving = ca
        .issue(&spec("system:node:n1", pki::ca::Usage::ServerAuth))
        .unwrap();
    let allowed = ca
        .issue(&spec("allowed", pki::ca::Usage::ClientAuth))
        .unwrap();
    let denied = ca
        .issue(&spec("denied", pki::ca::Usage::ClientAuth))
        .unwrap();
    let stranger = other_ca
        .issue(&spec("allowed", pki::ca::Usage::ClientAuth))
        .unwrap();

    let reviews = Arc::new(Reviews {
        calls: AtomicUsize::new(0),
        seen: Mutex::new(Vec::new()),
    });
    let security = ApiSecurity {
        authn: Authenticator {
            verifier: pki::verify::ClientVerifier::new(ca.cert_pem()).unwrap(),
            anonymous: false,
        },
        authz: Authorizer::webhook(reviews.clone()),
    };
    let chain = kubelet::api_tls::serving_chain(&serving.cert_pem, Some(ca.cert_pem()));
    let serving_cert = pki::tls::ServingCert::from_pem(&chain, &serving.key_pem).unwrap();
    let (listener, addr) = kubelet::server::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let cancel = CancellationToken::new();
    let _stop = cancel.clone().drop_guard();
    let task = kubelet::server::serve_tls(
        Arc::new(FakeRuntime::new()),
        "n1",
        listener,
        serving_cert,
        security,
        telemetry::health::Health::new(),
        cancel.clone(),
    )
    .unwrap();
    let url = format!("https://127.0.0.1:{}", addr.port());

    // Allowed: stats answered; asked again, the cached answer is used.
    let api = kubelet_api(&url, &ca, Some(&allowed)).await;
    for _ in 0..3 {
        api.stats(api::StatsRequest::default()).await.unwrap();
    }
    assert_eq!(reviews.calls.load(Ordering::SeqCst), 1);
    {
        let seen = reviews.seen.lock().unwrap();
        assert_eq!(seen[0].0, "allowed");
        assert_eq!(seen[0].1, vec!["testers", "system:authenticated"]);
        assert_eq!(seen[0].2, "get nodes/stats n1");
    }

    // The same user may not exec (nodes/proxy).
    let e = api
        .exec(api::ExecRequest {
            namespace: "default".into(),
            pod: "p".into(),
            command: vec!["true".into()],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(e.reason, proto::Reason::Forbidden, "{e}");
    assert_eq!(
        e.message,
        "Forbidden (user=allowed, verb=get, resource=nodes, subresource=proxy)"
    );

    // Another user: refused, and the refusal is cached too.
    let api = kubelet_api(&url, &ca, Some(&denied)).await;
    for _ in 0..2 {
        let e = api.stats(api::StatsRequest::default()).await.unwrap_err();
        assert_eq!(e.reason, proto::Reason::Forbidden, "{e}");
        assert_eq!(
            e.message,
            "Forbidden (user=denied, verb=get, resource=nodes, subresource=stats)"
        );
    }
    assert_eq!(reviews.calls.load(Ordering::SeqCst), 3);

    // A certificate from another CA, and none at all: Unauthorized, no review asked.
    let api = kubelet_api(&url, &ca, Some(&stranger)).await;
    let e = api.stats(api::StatsRequest::default()).await.unwrap_err();
    assert_eq!(e.reason, proto::Reason::Unauthorized, "{e}");
    assert_eq!(
        e.message,
        "Unauthorized: x509: certificate signed by unknown authority"
    );
    let api = kubelet_api(&url, &ca, None).await;
    let e = api.stats(api::StatsRequest::default()).await.unwrap_err();
    assert_eq!(e.reason, proto::Reason::Unauthorized, "{e}");
    assert_eq!(reviews.calls.load(Ordering::SeqCst), 3);

    // Plaintext callers get no answer from a TLS server.
    let plain = client::KubeletApi::direct(&format!("http://127.0.0.1:{}", addr.port())).await;
    if let Ok(api) = plain {
        assert!(api.stats(api::StatsRequest::default()).await.is_err());
    }

    cancel.cancel();
    let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
}
