//! The event recorder against a real in-process apiserver: a pod failing in a loop leaves
//! one Event whose count, lastTimestamp and series grow (what `describe` shows as
//! `(x27 over ...)`), not one object per failure; and `GET /version` over the client's own
//! connection.

mod common;

use apiserver::testing::TestServer;
use client::events::{ApiSink, CorrelatorConfig, EventType, RecorderConfig, recorder};
use client::{Api, ListParams};
use common::connect;
use proto::k8s::{ConfigMap, Event};
use std::time::{Duration, Instant};

#[tokio::test]
async fn a_repeated_event_is_one_object_with_a_count_and_both_timestamps() {
    let server = TestServer::start().await;
    let client = connect(&server.url).await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let mut cm = ConfigMap::default();
    cm.metadata.get_or_insert_default().name = "events-loop".into();
    let cm = cms.create(&cm).await.unwrap();

    let mut config = RecorderConfig::new("kubelet", "node-1", "node-1");
    // Rewrites soon, so the test does not wait client-go's ten seconds.
    config.correlator = CorrelatorConfig {
        rewrite_initial: Duration::from_millis(50),
        rewrite_max: Duration::from_millis(100),
        ..CorrelatorConfig::default()
    };
    let (rec, broadcaster) = recorder(config, std::sync::Arc::new(client::SystemClock));
    let cancel = tokio_util::sync::CancellationToken::new();
    let task = tokio::spawn(broadcaster.run(ApiSink::new(client.clone()), cancel.clone()));
    for _ in 0..27 {
        rec.event(
            &cm,
            EventType::Warning,
            "BackOff",
            "Back-off restarting".into(),
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let events: Api<Event> = Api::namespaced(client.clone(), "default");
    let deadline = Instant::now() + Duration::from_secs(10);
    let ev = loop {
        let list = events.list(&ListParams::default()).await.unwrap().items;
        if let [one] = list.as_slice()
            && one.count == 27
        {
            break one.clone();
        }
        assert!(Instant::now() < deadline, "events: {list:#?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    cancel.cancel();
    task.await.unwrap();
    assert!(
        !ev.first_timestamp.is_empty() && !ev.last_timestamp.is_empty(),
        "{ev:?}"
    );
    assert!(ev.last_timestamp >= ev.first_timestamp, "{ev:?}");
    let series = ev.series.as_ref().expect("series");
    assert_eq!(series.count, 27);
    assert!(!series.last_observed_time.is_empty());
    assert_eq!(ev.source.as_ref().unwrap().component, "kubelet");
}

#[tokio::test]
async fn server_version_over_the_same_connection() {
    let server = TestServer::start().await;
    let client = connect(&server.url).await;
    let v = client.server_version().await.unwrap();
    assert_eq!(v["major"], "1");
    assert!(v["gitVersion"].as_str().unwrap().starts_with("v1."), "{v}");
    // Nothing listening: Unavailable, naming the server.
    let gone = client::Client::lazy("http://127.0.0.1:1").unwrap();
    let err = gone.server_version().await.unwrap_err();
    assert_eq!(err.reason, client::Reason::Unavailable, "{err:?}");
    assert!(err.message.contains("127.0.0.1:1"), "{err:?}");
}
