//! The recorder end to end on paused time, against the fake sink.

use super::*;
use crate::clock::FakeClock;
use proto::Reason;
use std::time::Duration;

fn pod_ref(name: &str) -> ObjectReference {
    ObjectReference {
        kind: "Pod".into(),
        namespace: "default".into(),
        name: name.into(),
        uid: format!("uid-{name}"),
        api_version: "v1".into(),
        ..Default::default()
    }
}

struct Running {
    rec: Recorder,
    sink: FakeSink,
    clock: FakeClock,
    cancel: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

fn start(config: RecorderConfig) -> Running {
    let clock = FakeClock::new(SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000));
    let (rec, b) = recorder(config, Arc::new(clock.clone()));
    let sink = FakeSink::default();
    let cancel = CancellationToken::new();
    let task = tokio::spawn(b.run(sink.clone(), cancel.clone()));
    Running {
        rec,
        sink,
        clock,
        cancel,
        task,
    }
}

/// Lets the broadcaster take what was recorded (paused time moves only when all wait).
async fn settle() {
    tokio::time::sleep(Duration::from_millis(1)).await;
}

fn config() -> RecorderConfig {
    RecorderConfig::new("kubelet", "node-1", "node-1")
}

#[tokio::test(start_paused = true)]
async fn two_minutes_of_a_failing_pod_are_one_event_with_a_growing_count() {
    let r = start(config());
    // A retry every 2 s for two minutes.
    for _ in 0..60 {
        r.rec.record(
            pod_ref("web"),
            EventType::Warning,
            "FailedMount",
            "configmap \"cfg\" not found".into(),
            "",
        );
        tokio::time::sleep(Duration::from_secs(2)).await;
        r.clock.advance(Duration::from_secs(2));
    }
    tokio::time::sleep(Duration::from_secs(300)).await;
    let events = r.sink.events();
    assert_eq!(events.len(), 1, "{events:?}");
    let ev = &events[0];
    assert_eq!(ev.count, 60);
    assert_eq!(ev.series.as_ref().map(|s| s.count), Some(60));
    assert_eq!(ev.first_timestamp, "2027-01-15T08:00:00Z");
    assert_eq!(ev.last_timestamp, "2027-01-15T08:01:58Z");
    assert_eq!(ev.source.as_ref().unwrap().host, "node-1");
    let patches = r
        .sink
        .calls()
        .iter()
        .filter(|c| matches!(c, SinkCall::Patch(_)))
        .count();
    // Rewrites 10 s, 30 s, 70 s, 150 s after the first write (the last flushes the rest).
    assert_eq!(patches, 4);
    r.cancel.cancel();
    r.task.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn retriable_failures_are_tried_again_and_others_dropped() {
    let r = start(config());
    r.sink.fail_next(&[Reason::Unavailable, Reason::Internal]);
    r.rec
        .record(pod_ref("a"), EventType::Normal, "Pulled", "m".into(), "");
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(r.sink.calls().len(), 3, "two failures then success");
    assert_eq!(r.sink.events().len(), 1);

    r.sink.fail_next(&[Reason::Invalid]);
    r.rec
        .record(pod_ref("b"), EventType::Normal, "Pulled", "m".into(), "");
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(r.sink.calls().len(), 4, "not retried");
    assert_eq!(r.sink.events().len(), 1);
    // The failed create is forgotten: the repeat makes the object.
    r.rec
        .record(pod_ref("b"), EventType::Normal, "Pulled", "m".into(), "");
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(r.sink.events().len(), 2);

    r.sink.fail_next(&[Reason::Unavailable; 10]);
    r.rec
        .record(pod_ref("c"), EventType::Normal, "Pulled", "m".into(), "");
    tokio::time::sleep(Duration::from_secs(60)).await;
    assert_eq!(r.sink.calls().len(), 5 + 4, "four tries, then given up");
    r.cancel.cancel();
}

#[tokio::test(start_paused = true)]
async fn an_expired_event_is_made_again_and_later_repeats_patch_the_new_one() {
    let r = start(config());
    let again = || {
        r.rec
            .record(pod_ref("a"), EventType::Warning, "BackOff", "m".into(), "")
    };
    again();
    settle().await;
    let first = r.sink.events()[0].metadata.clone().unwrap().name;
    r.sink.expire_all();
    again();
    tokio::time::sleep(Duration::from_secs(11)).await;
    let events = r.sink.events();
    assert_eq!(events.len(), 1);
    let second = events[0].metadata.clone().unwrap().name;
    assert_ne!(first, second);
    assert_eq!(events[0].count, 2, "the count carries over");
    again();
    tokio::time::sleep(Duration::from_secs(30)).await;
    let events = r.sink.events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].metadata.clone().unwrap().name, second);
    assert_eq!(events[0].count, 3);
    r.cancel.cancel();
}

#[tokio::test(start_paused = true)]
async fn a_stuck_apiserver_never_blocks_the_caller_and_the_overflow_is_dropped() {
    let mut cfg = config();
    cfg.queue = 8;
    let r = start(cfg);
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    r.sink.gate(gate.clone());
    let t0 = std::time::Instant::now();
    for i in 0..10_000 {
        r.rec.record(
            pod_ref(&format!("p{i}")),
            EventType::Normal,
            "Scheduled",
            "m".into(),
            "",
        );
    }
    assert!(
        t0.elapsed() < Duration::from_secs(5),
        "recording did not wait"
    );
    gate.add_permits(100_000);
    tokio::time::sleep(Duration::from_secs(60)).await;
    let n = r.sink.events().len();
    // One in the writer's hands plus a full queue; the rest dropped.
    assert!((8..=9).contains(&n), "{n}");
    r.cancel.cancel();
}

#[tokio::test(start_paused = true)]
async fn writes_are_paced_by_the_rate_limit() {
    let mut cfg = config();
    cfg.sink.qps = 10.0;
    cfg.sink.burst = 5.0;
    let r = start(cfg);
    let t0 = Instant::now();
    for i in 0..25 {
        r.rec.record(
            pod_ref(&format!("p{i}")),
            EventType::Normal,
            "Pulled",
            "m".into(),
            "",
        );
    }
    while r.sink.events().len() < 25 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // 5 at once, then 20 at 10 a second.
    let took = t0.elapsed();
    assert!(
        took >= Duration::from_millis(1900) && took <= Duration::from_millis(2200),
        "{took:?}"
    );
    r.cancel.cancel();
}

#[tokio::test(start_paused = true)]
async fn components_share_the_queue_with_their_own_source() {
    let r = start(config());
    let rs = r.rec.with_component("replicaset-controller");
    rs.record(
        ObjectReference {
            kind: "Node".into(),
            name: "n1".into(),
            uid: "u".into(),
            ..Default::default()
        },
        EventType::Normal,
        "R",
        "m".into(),
        "Act",
    );
    settle().await;
    let ev = &r.sink.events()[0];
    assert_eq!(
        ev.source.as_ref().unwrap().component,
        "replicaset-controller"
    );
    assert_eq!(ev.reporting_component, "replicaset-controller");
    assert_eq!(ev.action, "Act");
    assert_eq!(
        ev.metadata.as_ref().unwrap().namespace,
        "default",
        "cluster-scoped objects' events live in default"
    );
    assert!(ev.metadata.as_ref().unwrap().name.starts_with("n1."));
    r.cancel.cancel();
}
