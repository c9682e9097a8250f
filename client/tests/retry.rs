//! Calls that back off and try again, against a real in-process apiserver: through a
//! restart (stopped, started again on the same address and data), and behind a proxy that
//! answers 429 with a Retry-After, as an overloaded apiserver does.

mod common;

use apiserver::testing::TestServer;
use client::{Api, Client, Reason};
use common::{config_map, connect, eventually, namespace};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use proto::k8s::{ConfigMap, Eviction, Pod};
use proto::{ApiError, Resource};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tower_service::Service;

const WAIT: Duration = Duration::from_secs(20);

/// The `host` label of `url` in the client's metrics.
fn host(url: &str) -> String {
    url.split_once("://").map_or(url, |(_, r)| r).to_string()
}

/// The sum of `metric` over the series that carry every one of `labels`.
fn count(metric: &str, labels: &[(&str, &str)]) -> f64 {
    let labels: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
    telemetry::metrics::encode()
        .lines()
        .filter(|l| l.starts_with(&format!("{metric}{{")))
        .filter(|l| labels.iter().all(|want| l.contains(want.as_str())))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

fn retries(host: &str, verb: &str) -> f64 {
    count(
        "rest_client_request_retries_total",
        &[("host", host), ("verb", verb)],
    )
}

#[tokio::test]
async fn calls_made_while_the_apiserver_restarts_succeed_after_retrying() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut server = TestServer::start_in(&data, "127.0.0.1:0".parse().unwrap()).await;
    let client = connect(&server.url).await;
    let host = host(&server.url);
    namespace(&client, "restart").await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "restart");
    cms.create(&config_map("a", &[])).await.unwrap();

    server.stop_in_place().await;
    // A read, then a write, both sent while nothing listens: each is refused at least
    // once before the server is back.
    let read = tokio::spawn({
        let cms = cms.clone();
        async move { cms.get("a").await }
    });
    eventually(WAIT, "the read refused and retried", || {
        retries(&host, "GET") >= 1.0
    })
    .await;
    let write = tokio::spawn({
        let cms = cms.clone();
        async move { cms.create(&config_map("b", &[])).await }
    });
    eventually(WAIT, "the write refused and retried", || {
        retries(&host, "POST") >= 1.0
    })
    .await;
    assert!(!read.is_finished() && !write.is_finished());

    server.start_again().await;
    let got = tokio::time::timeout(WAIT, read).await.unwrap().unwrap();
    assert_eq!(
        got.expect("the read succeeds once the server is back")
            .meta()
            .name,
        "a"
    );
    let made = tokio::time::timeout(WAIT, write).await.unwrap().unwrap();
    assert_eq!(made.expect("the write succeeds too").meta().name, "b");
    let names: Vec<String> = cms
        .list(&Default::default())
        .await
        .unwrap()
        .items
        .iter()
        .map(|c| c.meta().name.clone())
        .collect();
    assert_eq!(names, ["a", "b"], "the write was executed exactly once");
}

#[tokio::test]
async fn a_429_with_retry_after_is_retried_but_an_eviction_refusal_is_not() {
    let server = TestServer::start().await;
    let admin = connect(&server.url).await;
    namespace(&admin, "throttled").await;
    Api::<ConfigMap>::namespaced(admin.clone(), "throttled")
        .create(&config_map("a", &[]))
        .await
        .unwrap();
    let proxy = Throttle::start(&server.url).await;
    let client = Client::connect(&proxy.url).await.unwrap();
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "throttled");
    let host = host(&proxy.url);

    // A read refused twice by overload protection: it waits the Retry-After (1 s) each
    // time and then succeeds.
    proxy.refuse_next(2);
    let started = std::time::Instant::now();
    let got = tokio::time::timeout(WAIT, cms.get("a")).await.unwrap();
    assert_eq!(got.unwrap().meta().name, "a");
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "waited as told: {:?}",
        started.elapsed()
    );
    assert_eq!(proxy.seen.load(Ordering::SeqCst), 3);
    assert_eq!(retries(&host, "GET"), 2.0);
    let code = |code: &str| {
        count(
            "rest_client_requests_total",
            &[("code", code), ("host", &host), ("method", "GET")],
        )
    };
    assert_eq!(
        (code("429"), code("200")),
        (2.0, 1.0),
        "each attempt counted"
    );

    // A write refused before it ran is sent again, and executed once.
    proxy.refuse_next(1);
    cms.create(&config_map("b", &[])).await.unwrap();
    assert_eq!(retries(&host, "POST"), 1.0);
    assert_eq!(
        Api::<ConfigMap>::namespaced(admin, "throttled")
            .list(&Default::default())
            .await
            .unwrap()
            .items
            .len(),
        2
    );

    // A disruption budget's 429 goes straight back to the caller (ctl drain waits and
    // tries again itself).
    let pods: Api<Pod> = Api::namespaced(client, "throttled");
    let err = pods.evict("web", &Eviction::default()).await.unwrap_err();
    assert_eq!(err.reason, Reason::TooManyRequests);
    assert_eq!(err.retry_after_seconds, Some(1));
    assert_eq!(proxy.evictions.load(Ordering::SeqCst), 1, "sent once");
}

#[tokio::test]
async fn a_429_is_given_up_once_retries_are_turned_off() {
    let server = TestServer::start().await;
    let proxy = Throttle::start(&server.url).await;
    let client = Client::connect(&proxy.url)
        .await
        .unwrap()
        .with_retry_policy(client::RetryPolicy::none());
    proxy.refuse_next(1);
    let err = client.get("namespaces", "", "default").await.unwrap_err();
    assert_eq!(err.reason, Reason::TooManyRequests);
    assert_eq!(proxy.seen.load(Ordering::SeqCst), 1);
}

/// A gRPC proxy in front of the apiserver that answers the next `refuse_next` calls as an
/// overloaded apiserver does (429, Retry-After 1 s) and every eviction as a disruption
/// budget does (429, Retry-After 1 s), forwarding everything else.
struct Throttle {
    url: String,
    refuse: Arc<AtomicUsize>,
    seen: Arc<AtomicUsize>,
    evictions: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Throttle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Throttle {
    async fn start(upstream: &str) -> Throttle {
        let channel = tonic::transport::Endpoint::from_shared(upstream.to_string())
            .unwrap()
            .connect()
            .await
            .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let refuse = Arc::new(AtomicUsize::new(0));
        let seen = Arc::new(AtomicUsize::new(0));
        let evictions = Arc::new(AtomicUsize::new(0));
        let state = (
            Arc::clone(&refuse),
            Arc::clone(&seen),
            Arc::clone(&evictions),
        );
        let task = tokio::spawn(async move {
            while let Ok((io, _)) = listener.accept().await {
                let channel = channel.clone();
                let (refuse, seen, evictions) = state.clone();
                let service = hyper::service::service_fn(move |req: http::Request<Incoming>| {
                    let mut channel = channel.clone();
                    let (refuse, seen, evictions) =
                        (refuse.clone(), seen.clone(), evictions.clone());
                    async move {
                        if req.uri().path().ends_with("/Evict") {
                            evictions.fetch_add(1, Ordering::SeqCst);
                            return Ok(too_many(
                                "Cannot evict pod as it would violate the pod's disruption budget.",
                            ));
                        }
                        seen.fetch_add(1, Ordering::SeqCst);
                        let refused = refuse
                            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                            .is_ok();
                        if refused {
                            return Ok(too_many("the server is busy"));
                        }
                        std::future::poll_fn(|cx| channel.poll_ready(cx)).await?;
                        channel.call(req.map(tonic::body::Body::new)).await
                    }
                });
                tokio::spawn(async move {
                    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(io), service)
                        .await;
                });
            }
        });
        Throttle {
            url,
            refuse,
            seen,
            evictions,
            task,
        }
    }

    fn refuse_next(&self, n: usize) {
        self.refuse.store(n, Ordering::SeqCst);
        self.seen.store(0, Ordering::SeqCst);
    }
}

fn too_many(message: &str) -> http::Response<tonic::body::Body> {
    let status: tonic::Status = ApiError::new(Reason::TooManyRequests, message)
        .with_retry_after(1)
        .into();
    status.into_http()
}
