//! Informers against a real in-process apiserver: events for changes made through `Api`,
//! and relisting with a diff after the server restarts.

mod common;

use apiserver::testing::TestServer;
use client::informer::{Informer, InformerConfig, InformerEvent};
use client::{Api, Backoff, DeleteParams, Reason, WatchParams};
use common::{config_map, connect, eventually, namespace};
use futures::StreamExt;
use proto::Resource;
use proto::k8s::ConfigMap;
use std::collections::BTreeSet;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedReceiver;

const WAIT: Duration = Duration::from_secs(15);

async fn next(rx: &mut UnboundedReceiver<InformerEvent<ConfigMap>>) -> InformerEvent<ConfigMap> {
    tokio::time::timeout(WAIT, rx.recv())
        .await
        .expect("informer event in time")
        .expect("informer running")
}

fn describe(ev: &InformerEvent<ConfigMap>) -> String {
    match ev {
        InformerEvent::Added(o) => format!("added {}", o.meta().name),
        InformerEvent::Modified { old, new } => {
            assert_ne!(old.meta().resource_version, new.meta().resource_version);
            format!("modified {}", new.meta().name)
        }
        InformerEvent::Deleted(o) => format!("deleted {}", o.meta().name),
        InformerEvent::Sync(o) => format!("sync {}", o.meta().name),
    }
}

#[tokio::test]
async fn informer_sees_create_update_delete_and_filters_by_label() {
    let server = TestServer::start().await;
    let client = connect(&server.url).await;
    namespace(&client, "inf").await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "inf");
    cms.create(&config_map("before", &[("app", "web")]))
        .await
        .unwrap();

    let informer = Informer::new(cms.clone(), InformerConfig::default());
    let mut rx = informer.subscribe();
    let web = Informer::new(
        cms.clone(),
        InformerConfig {
            label_selector: "app=web".into(),
            ..Default::default()
        },
    );
    let mut web_rx = web.subscribe();
    informer.start();
    web.start();
    assert!(
        tokio::time::timeout(WAIT, informer.wait_until_synced())
            .await
            .unwrap()
    );
    assert!(informer.has_synced());
    assert_eq!(describe(&next(&mut rx).await), "added before");

    let a = cms
        .create(&config_map("a", &[("app", "web")]))
        .await
        .unwrap();
    assert_eq!(describe(&next(&mut rx).await), "added a");
    cms.create(&config_map("other", &[("app", "db")]))
        .await
        .unwrap();
    assert_eq!(describe(&next(&mut rx).await), "added other");

    let mut changed = a.clone();
    changed.data.insert("k".into(), "v2".into());
    cms.update(&changed).await.unwrap();
    match next(&mut rx).await {
        InformerEvent::Modified { old, new } => {
            assert_eq!(old.data["k"], "v");
            assert_eq!(new.data["k"], "v2");
        }
        other => panic!("expected Modified, got {}", describe(&other)),
    }
    assert_eq!(informer.store().get("inf/a").unwrap().data["k"], "v2");
    assert_eq!(informer.store().by_label("app", "web").len(), 2);

    cms.delete("a", &DeleteParams::default()).await.unwrap();
    assert_eq!(describe(&next(&mut rx).await), "deleted a");
    assert!(informer.store().get("inf/a").is_none());
    assert_eq!(informer.store().len(), 2);

    // The label-filtered informer never saw "other".
    let mut web_seen = Vec::new();
    while web_seen.last().map(String::as_str) != Some("deleted a") {
        web_seen.push(describe(&next(&mut web_rx).await));
    }
    assert_eq!(
        web_seen,
        ["added before", "added a", "modified a", "deleted a"]
    );
    assert_eq!(web.store().keys(), vec!["inf/before".to_string()]);

    // Stopping ends the task: no more events, the channel closes.
    informer.stop();
    drop(informer);
    let closed = tokio::time::timeout(WAIT, async { while rx.recv().await.is_some() {} }).await;
    assert!(
        closed.is_ok(),
        "the informer's channel should close once it stops"
    );
}

#[tokio::test]
async fn informer_relists_after_a_restart_and_reports_what_it_missed() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut server = TestServer::start_in(&data, "127.0.0.1:0".parse().unwrap()).await;
    let client = connect(&server.url).await;
    namespace(&client, "relist").await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "relist");
    for n in ["a", "b", "c"] {
        cms.create(&config_map(n, &[])).await.unwrap();
    }
    // A long first back-off gives this test time to write while the informer is away.
    let config = InformerConfig {
        backoff: Backoff::new(Duration::from_millis(1500), Duration::from_secs(3)),
        ..Default::default()
    };
    let informer = Informer::new(
        Api::<ConfigMap>::namespaced(client.clone(), "relist"),
        config,
    );
    let mut rx = informer.subscribe();
    informer.start();
    assert!(
        tokio::time::timeout(WAIT, informer.wait_until_synced())
            .await
            .unwrap()
    );
    for _ in 0..3 {
        next(&mut rx).await;
    }

    server.restart().await;
    let b = cms.get("b").await.unwrap();
    cms.delete("a", &DeleteParams::default()).await.unwrap();
    let mut b2 = b.clone();
    b2.data.insert("k".into(), "changed".into());
    cms.update(&b2).await.unwrap();
    cms.create(&config_map("d", &[])).await.unwrap();

    let mut seen = BTreeSet::new();
    let want: BTreeSet<String> = ["deleted a", "modified b", "added d"]
        .into_iter()
        .map(String::from)
        .collect();
    while !want.is_subset(&seen) {
        seen.insert(describe(&next(&mut rx).await));
    }
    let store = informer.store();
    eventually(WAIT, "store matches the server", || {
        let mut keys = store.keys();
        keys.sort();
        keys == ["relist/b", "relist/c", "relist/d"]
    })
    .await;
    assert_eq!(store.get("relist/b").unwrap().data["k"], "changed");
    assert!(
        !seen.contains("deleted c"),
        "nothing happened to c: {seen:?}"
    );
}

#[tokio::test]
async fn informer_relists_after_expired_history() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let listen: std::net::SocketAddr = "127.0.0.1:0".parse().unwrap();
    let first = apiserver::start(apiserver::Config::for_dir(data.clone(), listen))
        .await
        .unwrap();
    let addr = first.local_addr();
    let client = connect(&first.url()).await;
    namespace(&client, "exp").await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "exp");
    for n in ["a", "b"] {
        cms.create(&config_map(n, &[])).await.unwrap();
    }
    let config = InformerConfig {
        backoff: Backoff::new(Duration::from_millis(1500), Duration::from_secs(3)),
        ..Default::default()
    };
    let informer = Informer::new(cms.clone(), config);
    let mut rx = informer.subscribe();
    informer.start();
    assert!(
        tokio::time::timeout(WAIT, informer.wait_until_synced())
            .await
            .unwrap()
    );
    next(&mut rx).await;
    next(&mut rx).await;

    // Back with a history too short to replay what the informer missed: its watch from
    // the old revision must fail as Expired, and only a relist can catch up.
    let old_rv = cms
        .list(&Default::default())
        .await
        .unwrap()
        .resource_version;
    first.shutdown().await.unwrap();
    let mut config = apiserver::Config::for_dir(data, addr);
    config.history_limit = 2;
    let second = apiserver::start(config).await.unwrap();
    cms.delete("a", &DeleteParams::default()).await.unwrap();
    for i in 0..10 {
        cms.create(&config_map(&format!("n{i}"), &[]))
            .await
            .unwrap();
    }

    // The premise: a watch from before the restart is refused as Expired now.
    let expired = match cms
        .watch(&WatchParams {
            resource_version: old_rv,
            ..Default::default()
        })
        .await
    {
        Err(e) => e,
        Ok(mut s) => tokio::time::timeout(WAIT, s.next())
            .await
            .expect("an answer to the stale watch")
            .expect("an item")
            .expect_err("a stale watch must fail"),
    };
    assert_eq!(expired.reason, Reason::Expired, "{expired}");

    let mut seen = BTreeSet::new();
    while !(seen.contains("deleted a") && seen.contains("added n9")) {
        seen.insert(describe(&next(&mut rx).await));
    }
    assert!(!seen.contains("deleted b"), "{seen:?}");
    assert_eq!(informer.store().len(), 11);
    second.shutdown().await.unwrap();
}

#[tokio::test]
async fn resync_redelivers_cached_objects_and_is_off_by_default() {
    let server = TestServer::start().await;
    let client = connect(&server.url).await;
    namespace(&client, "resync").await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "resync");
    cms.create(&config_map("a", &[])).await.unwrap();

    let resyncing = Informer::new(
        cms.clone(),
        InformerConfig {
            resync: Some(Duration::from_millis(300)),
            ..Default::default()
        },
    );
    let quiet = Informer::new(cms.clone(), InformerConfig::default());
    let mut rx = resyncing.subscribe();
    let mut quiet_rx = quiet.subscribe();
    resyncing.start();
    quiet.start();
    assert_eq!(describe(&next(&mut rx).await), "added a");
    assert_eq!(describe(&next(&mut quiet_rx).await), "added a");
    assert_eq!(describe(&next(&mut rx).await), "sync a");
    assert_eq!(describe(&next(&mut rx).await), "sync a");
    assert!(
        tokio::time::timeout(Duration::from_secs(1), quiet_rx.recv())
            .await
            .is_err(),
        "no resync unless configured"
    );
}
