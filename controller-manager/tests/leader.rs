//! The daemon's `run` in-process: it acts only while it holds the lease, stops acting when
//! another replica takes it, and waits for an unreachable apiserver without failing.

mod common;

use apiserver::testing::TestServer;
use client::Api;
use controller_manager::{Config, Error};
use proto::Resource;
use proto::k8s::{Lease, Pod, ReplicaSet};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

fn config(server: &str) -> Config {
    Config {
        server: server.to_string(),
        controllers: vec!["replicaset".into()],
        leader_election: client::daemon::LeaderElectionFlags {
            leader_elect_identity: Some("me".into()),
            leader_elect_lease_duration: Some(Duration::from_secs(2)),
            leader_elect_renew_deadline: Some(Duration::from_secs(1)),
            leader_elect_retry_period: Some(Duration::from_millis(200)),
            ..Default::default()
        },
        ..Default::default()
    }
}

fn rs(name: &str) -> ReplicaSet {
    let yaml = format!(
        "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {{name: {name}, namespace: default}}\nspec:\n  replicas: 2\n  selector: {{matchLabels: {{app: {name}}}}}\n  template:\n    metadata: {{labels: {{app: {name}}}}}\n    spec: {{containers: [{{name: c, image: busybox}}]}}\n"
    );
    ReplicaSet::try_from_object(proto::manifest::load_documents(&yaml).unwrap().remove(0)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn losing_the_lease_stops_the_controllers_and_ends_run() {
    common::init_tracing();
    let server = TestServer::start().await;
    let client = client::Client::connect(&server.url).await.unwrap();
    let shutdown = CancellationToken::new();
    let run = tokio::spawn(controller_manager::run(
        config(&server.url),
        shutdown.clone(),
    ));
    let leases: Api<Lease> = Api::namespaced(client.clone(), "kube-system");
    common::wait_for("the lease taken", Duration::from_secs(10), || async {
        let l = leases.get_opt("kube-controller-manager").await.ok()??;
        (l.spec?.holder_identity == "me").then_some(())
    })
    .await;
    let rs_api: Api<ReplicaSet> = Api::namespaced(client.clone(), "default");
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    rs_api.create(&rs("before")).await.unwrap();
    common::wait_for("the leader acts", Duration::from_secs(10), || async {
        let n = pods
            .list(&client::ListParams::labels("app=before"))
            .await
            .ok()?
            .items
            .len();
        (n == 2).then_some(())
    })
    .await;

    // Another replica takes the lease (as if ours had expired).
    let mut lease = leases.get("kube-controller-manager").await.unwrap();
    let spec = lease.spec.get_or_insert_with(Default::default);
    spec.holder_identity = "thief".into();
    spec.lease_duration_seconds = Some(60);
    spec.renew_time = proto::time::now_rfc3339_micros();
    leases.update(&lease).await.unwrap();
    let result = tokio::time::timeout(Duration::from_secs(5), run)
        .await
        .expect("run ends after losing the lease")
        .unwrap();
    assert!(matches!(result, Err(Error::LeadershipLost)), "{result:?}");
    // Nothing acts any more.
    rs_api.create(&rs("after")).await.unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let n = pods
        .list(&client::ListParams::labels("app=after"))
        .await
        .unwrap()
        .items
        .len();
    assert_eq!(n, 0, "a replica that lost the lease must not act");
    let holder = leases
        .get("kube-controller-manager")
        .await
        .unwrap()
        .spec
        .unwrap()
        .holder_identity;
    assert_eq!(holder, "thief", "the lease is left to its new holder");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_apiserver_is_waited_for_and_shutdown_still_works() {
    common::init_tracing();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let shutdown = CancellationToken::new();
    let run = tokio::spawn(controller_manager::run(
        config(&format!("http://127.0.0.1:{port}")),
        shutdown.clone(),
    ));
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(!run.is_finished(), "it keeps retrying instead of failing");
    shutdown.cancel();
    let result = tokio::time::timeout(Duration::from_secs(5), run)
        .await
        .unwrap()
        .unwrap();
    assert!(result.is_ok(), "{result:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_controllers_are_refused() {
    let mut c = config("http://127.0.0.1:1");
    c.controllers = vec!["*".into(), "-replicaset".into(), "replicaset-typo".into()];
    let err = controller_manager::run(c, CancellationToken::new())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("replicaset-typo"), "{err}");
}
