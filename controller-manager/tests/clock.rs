//! The context's clock drives the controllers' wall time: node lifecycle with a
//! `client::FakeClock` marks a silent node Unknown once the fake clock passes the grace
//! period, long before the real one could, and stamps the conditions with the fake time.

mod common;

use apiserver::testing::TestServer;
use client::{Api, Client, FakeClock};
use common::wait_for;
use controller_manager::{Config, Context};
use proto::Resource;
use proto::k8s::{Node, NodeCondition, NodeStatus};
use proto::time::parse_rfc3339;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

const GRACE: Duration = Duration::from_secs(600);

fn ready_condition(n: &Node) -> Option<&NodeCondition> {
    n.status
        .as_ref()
        .and_then(|s| s.conditions.iter().find(|c| c.r#type == "Ready"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fake_clock_past_the_grace_period_makes_a_silent_node_unknown() {
    common::init_tracing();
    let server = TestServer::start().await;
    let client = Client::connect(&server.url).await.expect("connect");
    let nodes = Api::<Node>::all(client.clone());
    let mut node = Node {
        status: Some(NodeStatus {
            conditions: vec![NodeCondition {
                r#type: "Ready".into(),
                status: "True".into(),
                last_heartbeat_time: proto::time::now_rfc3339(),
                ..Default::default()
            }],
            ..Default::default()
        }),
        ..Default::default()
    };
    node.meta_mut().name = "quiet".into();
    nodes.create(&node).await.expect("create node");

    let real_start = SystemTime::now();
    let clock = FakeClock::new(real_start);
    let mut config = Config::default().with_controllers(&["nodelifecycle"]);
    config.server = server.url.clone();
    config.node_monitor_grace_period = GRACE;
    config.node_monitor_period = Duration::from_millis(100);
    let ctx = Arc::new(
        Context::new(client.clone(), Arc::new(config)).with_clock(Arc::new(clock.clone())),
    );
    let running = controller_manager::start_controllers(ctx).expect("start nodelifecycle");

    // Each look moves the fake clock past the grace period: the first reconcile after the
    // controller has seen the node finds its heartbeat stale. The real clock moves seconds.
    let cond = wait_for("Ready=Unknown", Duration::from_secs(20), || {
        clock.advance(GRACE + Duration::from_secs(1));
        let nodes = nodes.clone();
        async move {
            let n = nodes.get("quiet").await.ok()?;
            let c = ready_condition(&n)?;
            (c.status == "Unknown").then(|| c.clone())
        }
    })
    .await;
    assert_eq!(cond.reason, "NodeStatusUnknown");
    let stamped = parse_rfc3339(&cond.last_transition_time).expect("a timestamp");
    assert!(
        stamped >= real_start + GRACE,
        "the transition is stamped by the fake clock ({}), not the real one",
        cond.last_transition_time
    );
    assert!(
        SystemTime::now() < real_start + GRACE,
        "the real clock did not pass the grace period"
    );
    running.stop(Duration::from_secs(5)).await;
}
