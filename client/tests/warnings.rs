//! The apiserver's warnings reach the client's WarningHandler, through the typed `Api<K>`.

use std::sync::{Arc, Mutex};

use apiserver::testing::TestServer;
use client::{Api, WarningHandler};
use proto::Resource;
use proto::k8s::{Deployment, Namespace};

mod common;
use common::*;

#[tokio::test]
async fn pod_security_warnings_reach_the_warning_handler() {
    let server = TestServer::start().await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let c = connect(&server.url)
        .await
        .with_warning_handler(WarningHandler::new(move |w| {
            sink.lock().expect("not poisoned").push(w.to_string())
        }));
    let mut ns = Namespace::default();
    ns.meta_mut().name = "warned".into();
    ns.meta_mut()
        .labels
        .insert("pod-security.kubernetes.io/warn".into(), "baseline".into());
    Api::<Namespace>::all(c.clone()).create(&ns).await.unwrap();
    assert!(seen.lock().unwrap().is_empty());

    let d: Deployment = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "agent", "namespace": "warned"},
        "spec": {
            "selector": {"matchLabels": {"app": "agent"}},
            "template": {
                "metadata": {"labels": {"app": "agent"}},
                "spec": {"hostPID": true, "containers": [{"name": "a", "image": "busybox:1"}]}
            }
        }
    }))
    .unwrap();
    Api::<Deployment>::namespaced(c.clone(), "warned")
        .create(&d)
        .await
        .expect("a template is never refused");
    assert_eq!(
        *seen.lock().unwrap(),
        vec![r#"would violate PodSecurity "baseline:latest": host namespaces (hostPID=true)"#]
    );
    server.stop().await;
}
