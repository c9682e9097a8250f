//! serviceAccountToken projections get their tokens from the TokenRequest API: bound to
//! the pod, for the audience asked, cached by the kubelet's token manager, and accepted by
//! the apiserver's TokenReview as the pod's ServiceAccount.

use apiserver::testing::TestServer;
use client::{Api, Client};
use kubelet::volumes::token::{ApiTokenRequester, TokenKey, TokenManager, TokenRequester};
use proto::Resource;
use proto::k8s::{ObjectMeta, Pod, PodSpec, ServiceAccount, TokenReview, TokenReviewSpec};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

#[tokio::test]
async fn projected_tokens_come_from_token_requests_bound_to_the_pod() {
    let server = TestServer::start_with(|c| c.insecure_plaintext = false).await;
    let d = server.data_dir().to_path_buf();
    let mut conn = client::Kubeconfig::load(&d.join("admin.kubeconfig"))
        .unwrap()
        .connection(None)
        .unwrap();
    conn.server = server.url.clone();
    let admin = Client::connect_with(&conn).await.unwrap();

    let sa = Api::<ServiceAccount>::namespaced(admin.clone(), "default")
        .create(&ServiceAccount {
            metadata: Some(ObjectMeta {
                name: "builder".into(),
                namespace: "default".into(),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(!sa.meta().uid.is_empty());
    let pod = Api::<Pod>::namespaced(admin.clone(), "default")
        .create(&Pod {
            metadata: Some(ObjectMeta {
                name: "p".into(),
                namespace: "default".into(),
                ..Default::default()
            }),
            spec: Some(PodSpec {
                service_account_name: "builder".into(),
                containers: vec![proto::k8s::Container {
                    name: "c".into(),
                    image: "busybox".into(),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap();
    let key = TokenKey {
        namespace: "default".into(),
        service_account: kubelet::volumes::service_account_of(&pod),
        pod_name: "p".into(),
        pod_uid: pod.meta().uid.clone(),
        audience: String::new(),
        expiration_seconds: 3607,
    };

    let requester = ApiTokenRequester {
        client: admin.clone(),
    };
    let before = SystemTime::now();
    let t = requester.request(&key).await.unwrap();
    assert!(!t.token.is_empty());
    assert_eq!(t.expiration_seconds, 3607);
    let lifetime = t.expires.duration_since(before).unwrap();
    assert!(
        lifetime > Duration::from_secs(3500) && lifetime <= Duration::from_secs(3608),
        "{lifetime:?}"
    );

    let review = admin
        .create_token_review(TokenReview {
            spec: Some(TokenReviewSpec {
                token: t.token.clone(),
                audiences: Vec::new(),
            }),
            ..Default::default()
        })
        .await
        .unwrap();
    let status = review.status.unwrap();
    assert!(status.authenticated, "{}", status.error);
    let user = status.user.unwrap();
    assert_eq!(user.username, "system:serviceaccount:default:builder");
    assert_eq!(
        user.extra
            .get("authentication.kubernetes.io/pod-name")
            .map(|v| v.items.clone()),
        Some(vec!["p".to_string()]),
        "bound to the pod"
    );

    // The manager asks once and hands out the cached token until it is due.
    let manager = TokenManager::new(Arc::new(requester));
    let a = manager.token(&key).await.unwrap();
    let b = manager.token(&key).await.unwrap();
    assert_eq!(a, b);
    assert_eq!(manager.len(), 1);

    // A pod that does not exist gets no token.
    let e = manager
        .token(&TokenKey {
            pod_name: "ghost".into(),
            pod_uid: "no-such-uid".into(),
            ..key
        })
        .await
        .unwrap_err();
    assert!(e.starts_with("failed to fetch token"), "{e}");
    server.stop().await;
}
