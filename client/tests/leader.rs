//! Two leader electors against one real apiserver.

mod common;

use apiserver::testing::TestServer;
use client::leader::{LeaderElectionConfig, LeaderElector};
use client::{Api, Client, FakeClock};
use common::connect;
use proto::Resource;
use proto::k8s::{Lease, LeaseSpec};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

fn config(identity: &str) -> LeaderElectionConfig {
    LeaderElectionConfig {
        lease_duration: Duration::from_secs(3),
        renew_deadline: Duration::from_secs(2),
        retry_period: Duration::from_millis(200),
        ..LeaderElectionConfig::new("kube-system", "test-lease", identity)
    }
}

fn elector(client: &Client, identity: &str) -> Arc<LeaderElector> {
    Arc::new(LeaderElector::new(client.clone(), config(identity)).unwrap())
}

async fn wait_leader(e: &LeaderElector, within: Duration) -> bool {
    let mut rx = e.subscribe();
    tokio::time::timeout(within, rx.wait_for(|l| *l))
        .await
        .is_ok()
}

async fn holder(client: &Client) -> String {
    let lease = Api::<Lease>::namespaced(client.clone(), "kube-system")
        .get("test-lease")
        .await
        .unwrap();
    lease.spec.unwrap_or_default().holder_identity
}

#[tokio::test]
async fn one_leads_the_other_takes_over_on_release_and_on_expiry() {
    let server = TestServer::start().await;
    let client = connect(&server.url).await;
    let a = elector(&client, "a");
    let b = elector(&client, "b");

    let cancel_a = CancellationToken::new();
    let run_a = tokio::spawn({
        let (a, c) = (a.clone(), cancel_a.clone());
        async move { a.run(c).await }
    });
    assert!(
        wait_leader(&a, Duration::from_secs(5)).await,
        "a should lead an absent lease"
    );
    let cancel_b = CancellationToken::new();
    let run_b = tokio::spawn({
        let (b, c) = (b.clone(), cancel_b.clone());
        async move { b.run(c).await }
    });
    // Longer than the lease duration: a keeps renewing, so b must never lead.
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert!(a.is_leader() && !b.is_leader());
    assert_eq!(holder(&client).await, "a");

    // a releases on shutdown: b takes over well before a's lease would have expired.
    let released = tokio::time::Instant::now();
    cancel_a.cancel();
    run_a.await.unwrap();
    assert!(!a.is_leader());
    assert!(
        wait_leader(&b, Duration::from_secs(2)).await,
        "b should take over after release"
    );
    assert!(released.elapsed() < Duration::from_secs(2));
    assert_eq!(holder(&client).await, "b");

    // b dies without releasing (task aborted): c waits for the lease to expire.
    run_b.abort();
    let died = tokio::time::Instant::now();
    let c = elector(&client, "c");
    let cancel_c = CancellationToken::new();
    let run_c = tokio::spawn({
        let (c, t) = (c.clone(), cancel_c.clone());
        async move { c.run(t).await }
    });
    assert!(
        wait_leader(&c, Duration::from_secs(8)).await,
        "c should take over an expired lease"
    );
    assert!(
        died.elapsed() >= Duration::from_millis(2500),
        "c took over after {:?}, before b's lease expired",
        died.elapsed()
    );
    assert_eq!(holder(&client).await, "c");
    cancel_c.cancel();
    run_c.await.unwrap();
    cancel_b.cancel();
}

#[tokio::test]
async fn racing_for_an_expired_lease_exactly_one_wins() {
    let server = TestServer::start().await;
    let client = connect(&server.url).await;
    let leases = Api::<Lease>::namespaced(client.clone(), "kube-system");
    let mut stale = Lease::default();
    stale.meta_mut().name = "test-lease".into();
    stale.spec = Some(LeaseSpec {
        holder_identity: "gone".into(),
        lease_duration_seconds: Some(1),
        renew_time: "2020-01-01T00:00:00.000000Z".into(),
        ..Default::default()
    });
    leases.create(&stale).await.unwrap();

    for round in 0..5 {
        // Expiry is judged on the electors' clock (a fake one here, moved by hand rather
        // than waited for).
        let clock = FakeClock::starting_now();
        let electors: Vec<_> = (0..4)
            .map(|i| {
                let e = LeaderElector::new(client.clone(), config(&format!("r{round}-{i}")))
                    .unwrap()
                    .with_clock(Arc::new(clock.clone()));
                Arc::new(e)
            })
            .collect();
        // Expire whoever won the previous round.
        let mut cur = leases.get("test-lease").await.unwrap();
        cur.spec.as_mut().unwrap().renew_time = "2020-01-01T00:00:00.000000Z".into();
        cur.spec.as_mut().unwrap().lease_duration_seconds = Some(1);
        leases.update(&cur).await.unwrap();
        // Expiry is judged on each elector's own clock from when it first saw the record
        // (clock-skew safe, as client-go): a first look starts the count, none may win yet.
        for e in &electors {
            assert!(
                !e.try_acquire_or_renew().await.unwrap(),
                "round {round}: took a lease it had not yet seen expire"
            );
        }
        clock.advance(Duration::from_millis(1100));
        let results =
            futures::future::join_all(electors.iter().map(|e| e.try_acquire_or_renew())).await;
        let winners: Vec<_> = results
            .into_iter()
            .zip(&electors)
            .filter_map(|(r, e)| r.unwrap().then(|| e.identity().to_string()))
            .collect();
        assert_eq!(winners.len(), 1, "round {round}: winners {winners:?}");
        assert_eq!(holder(&client).await, winners[0]);
    }
}

/// One series' value in the process's registry (`name{labels}` exactly as encoded).
fn sample(series: &str) -> Option<f64> {
    telemetry::metrics::encode().lines().find_map(|l| {
        let rest = l.strip_prefix(series)?.strip_prefix(' ')?;
        rest.split(' ').next()?.parse().ok()
    })
}

#[tokio::test]
async fn leading_shows_in_the_master_status_gauge_and_the_calls_in_rest_client_metrics() {
    let server = TestServer::start().await;
    let client = connect(&server.url).await;
    let cfg = LeaderElectionConfig {
        lease_name: "metrics-test-lease".into(),
        ..config("m")
    };
    let e = Arc::new(LeaderElector::new(client.clone(), cfg).unwrap());
    let status = r#"leader_election_master_status{name="metrics-test-lease"}"#;
    assert_eq!(sample(status), Some(0.0), "a new elector is a backup");
    let host = server
        .url
        .split_once("://")
        .map_or(server.url.as_str(), |(_, h)| h);
    let puts = format!(r#"rest_client_requests_total{{code="200",host="{host}",method="PUT"}}"#);
    let creates =
        format!(r#"rest_client_requests_total{{code="201",host="{host}",method="POST"}}"#);
    let puts_before = sample(&puts).unwrap_or(0.0);
    let cancel = CancellationToken::new();
    let run = tokio::spawn({
        let (e, c) = (e.clone(), cancel.clone());
        async move { e.run(c).await }
    });
    assert!(wait_leader(&e, Duration::from_secs(5)).await);
    assert_eq!(sample(status), Some(1.0));
    assert!(
        e.check(Duration::ZERO).is_ok(),
        "{:?}",
        e.check(Duration::ZERO)
    );
    // Renewals are updates: PUT, 200.
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(
        sample(&puts).unwrap_or(0.0) > puts_before,
        "renewals counted"
    );
    assert!(
        sample(&creates).unwrap_or(0.0) >= 1.0,
        "the lease's create counted as 201"
    );
    cancel.cancel();
    run.await.unwrap();
    assert_eq!(sample(status), Some(0.0), "released");
}
