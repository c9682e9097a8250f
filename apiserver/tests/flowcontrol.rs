//! Overload protection through the real server assembly (`apiserver::start`, plaintext,
//! static tokens telling the callers apart): a flooding user does not delay a kubelet's
//! Lease renewal, a burst beyond a level's queues is refused with 429 and Retry-After on
//! both transports and succeeds once retried, and a request past its deadline is answered
//! 504 Timeout.
//!
//! A request that holds a seat on purpose is one whose body never comes: the server admits
//! it, then its handler waits for the body (as Kubernetes' handlers do), seat held.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use apiserver::testing::TestServer;
use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::Frame;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use proto::k8s::api_client::ApiClient;
use proto::k8s::*;
use proto::{ApiError, Reason, Resource};
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

/// One scenario at a time: each loads the 2 cores, and the lease's latency is measured.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const TOKENS: &str = "admin-token,kubernetes-admin,u1,\"system:masters\"\n\
flood-token,flooder,u2,\n\
burst-token,burster,u3,\n\
node-token,system:node:n1,u4,\"system:nodes\"\n";

#[derive(Clone)]
struct Bearer(&'static str);

impl Interceptor for Bearer {
    fn call(&mut self, mut req: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        let value = format!("Bearer {}", self.0)
            .parse()
            .map_err(|_| tonic::Status::internal("bad token"))?;
        req.metadata_mut().insert("authorization", value);
        Ok(req)
    }
}

type Api = ApiClient<InterceptedService<Channel, Bearer>>;

async fn api(url: &str, token: &'static str) -> Api {
    let channel = Channel::from_shared(url.to_string())
        .unwrap()
        .connect()
        .await
        .expect("connect");
    ApiClient::with_interceptor(channel, Bearer(token)).max_decoding_message_size(64 << 20)
}

async fn start(configure: impl FnOnce(&mut apiserver::Config)) -> (TestServer, tempfile::TempDir) {
    let files = tempfile::Builder::new()
        .prefix("flowcontrol-test-")
        .tempdir()
        .unwrap();
    let tokens = files.path().join("tokens.csv");
    std::fs::write(&tokens, TOKENS).unwrap();
    let server = TestServer::start_with(move |c| {
        c.token_auth_file = Some(tokens);
        configure(c);
    })
    .await;
    (server, files)
}

/// 5 seats in all: every limited level gets one (ceil(5 * shares / 245)).
fn few_seats(c: &mut apiserver::Config) {
    c.max_requests_inflight = 4;
    c.max_mutating_requests_inflight = 1;
}

fn config_map(name: &str) -> Object {
    let mut c = ConfigMap::default();
    c.meta_mut().name = name.into();
    c.meta_mut().namespace = "default".into();
    c.data.insert("k".into(), "v".repeat(200));
    c.into_object()
}

async fn create(c: &mut Api, o: Object) -> Result<Object, ApiError> {
    c.create(CreateRequest {
        object: Some(o),
        ..Default::default()
    })
    .await
    .map(|r| r.into_inner())
    .map_err(|s| ApiError::from_status(&s))
}

async fn list_configmaps(c: &mut Api) -> Result<ListResponse, ApiError> {
    c.list(ListRequest {
        resource: "configmaps".into(),
        namespace: "default".into(),
        ..Default::default()
    })
    .await
    .map(|r| r.into_inner())
    .map_err(|s| ApiError::from_status(&s))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

struct FloodFigures {
    lease_p50: Duration,
    lease_p99: Duration,
    lease_max: Duration,
    flood_ok: u64,
    flood_rejected: u64,
    flood_p50: Duration,
    flood_p99: Duration,
}

/// 400 tasks listing ConfigMaps as one user, in a loop (honouring Retry-After when
/// refused), while the kubelet renews its Lease 50 times.
async fn flood_scenario(apf: bool) -> FloodFigures {
    let (server, _files) = start(|c| {
        few_seats(c);
        c.enable_priority_and_fairness = apf;
    })
    .await;
    let mut admin = api(&server.url, "admin-token").await;
    for i in 0..100 {
        create(&mut admin, config_map(&format!("flood-{i}")))
            .await
            .unwrap();
    }
    let mut node = api(&server.url, "node-token").await;
    let mut lease = Lease::default();
    lease.meta_mut().name = "n1".into();
    lease.meta_mut().namespace = "kube-node-lease".into();
    lease.spec = Some(LeaseSpec {
        holder_identity: "n1".into(),
        lease_duration_seconds: Some(40),
        ..Default::default()
    });
    let mut lease = create(&mut node, lease.into_object()).await.unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let (ok, rejected) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let latencies = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut flooders = Vec::new();
    for _ in 0..8 {
        flooders.push(api(&server.url, "flood-token").await);
    }
    let mut flood = tokio::task::JoinSet::new();
    for t in 0..400 {
        let mut c = flooders[t % flooders.len()].clone();
        let (stop, ok, rejected, latencies) = (
            stop.clone(),
            ok.clone(),
            rejected.clone(),
            latencies.clone(),
        );
        flood.spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let t0 = Instant::now();
                match list_configmaps(&mut c).await {
                    Ok(_) => {
                        ok.fetch_add(1, Ordering::Relaxed);
                        latencies.lock().unwrap().push(t0.elapsed());
                    }
                    Err(e) if e.reason == Reason::TooManyRequests => {
                        rejected.fetch_add(1, Ordering::Relaxed);
                        let wait = e.retry_after_seconds.expect("Retry-After on a 429");
                        tokio::time::sleep(Duration::from_secs(u64::from(wait))).await;
                    }
                    Err(e) => panic!("flood list: {e:?}"),
                }
            }
        });
    }
    // The flood is at full strength once lists have been answered and (with flow
    // control) refused.
    let saturated = tokio::time::timeout(Duration::from_secs(60), async {
        while ok.load(Ordering::Relaxed) < 200 || (apf && rejected.load(Ordering::Relaxed) == 0) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(
        saturated.is_ok(),
        "the flood never saturated: {} answered, {} refused",
        ok.load(Ordering::Relaxed),
        rejected.load(Ordering::Relaxed)
    );

    let mut renewals = Vec::new();
    for i in 0..50 {
        if let Some(object::Kind::Lease(l)) = &mut lease.kind
            && let Some(spec) = &mut l.spec
        {
            spec.renew_time = format!("2026-01-01T00:00:{:02}.000000Z", i % 60);
        }
        let t0 = Instant::now();
        let answer = node
            .update(UpdateRequest {
                object: Some(lease.clone()),
                ..Default::default()
            })
            .await;
        renewals.push(t0.elapsed());
        lease = answer.expect("lease renewal").into_inner();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.store(true, Ordering::Relaxed);
    flood.abort_all();
    while flood.join_next().await.is_some() {}

    renewals.sort();
    let mut flood_latencies = std::mem::take(&mut *latencies.lock().unwrap());
    flood_latencies.sort();
    server.stop().await;
    FloodFigures {
        lease_p50: percentile(&renewals, 0.50),
        lease_p99: percentile(&renewals, 0.99),
        lease_max: *renewals.last().unwrap(),
        flood_ok: ok.load(Ordering::Relaxed),
        flood_rejected: rejected.load(Ordering::Relaxed),
        flood_p50: percentile(&flood_latencies, 0.50),
        flood_p99: percentile(&flood_latencies, 0.99),
    }
}

fn print_figures(what: &str, f: &FloodFigures) {
    println!(
        "{what}: lease renewal p50 {:.1} ms p99 {:.1} ms max {:.1} ms; flood {} lists answered (p50 {:.1} ms, p99 {:.1} ms), {} refused with 429",
        ms(f.lease_p50),
        ms(f.lease_p99),
        ms(f.lease_max),
        f.flood_ok,
        ms(f.flood_p50),
        ms(f.flood_p99),
        f.flood_rejected
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flooding_client_does_not_delay_a_kubelets_lease_renewal() {
    let _serial = SERIAL.lock().await;
    let f = flood_scenario(true).await;
    print_figures("with priority and fairness", &f);
    assert!(
        f.lease_p99 < Duration::from_secs(1),
        "lease renewal p99 {:?}",
        f.lease_p99
    );
    // The flood itself was throttled: refused beyond its queues, and queued (a list alone
    // takes a few ms; queued behind its own flow's 300 it takes far longer).
    assert!(f.flood_rejected > 0, "no 429 for the flood");
    assert!(
        f.flood_p50 > f.lease_p50,
        "the flood was not queued: {:?} vs the lease's {:?}",
        f.flood_p50,
        f.lease_p50
    );
}

/// The same flood without flow control, for comparison (figures only):
/// `cargo test -p apiserver --test flowcontrol -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn the_same_flood_without_flow_control() {
    let _serial = SERIAL.lock().await;
    let f = flood_scenario(false).await;
    print_figures("without priority and fairness", &f);
}

type Stalled = Client<HttpConnector, BoxBody<Bytes, Infallible>>;
/// Holds a stalled request's body open; dropping it ends the body (empty).
type Hold = futures::channel::mpsc::UnboundedSender<Result<Frame<Bytes>, Infallible>>;

/// A request whose body does not come until `Hold` is dropped: admitted, then its handler
/// waits for the body.
fn stalled_request(
    url: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> (Hold, http::Request<BoxBody<Bytes, Infallible>>) {
    let (hold, body) = futures::channel::mpsc::unbounded();
    let mut b = http::Request::builder()
        .method(method)
        .uri(format!("{url}{path}"));
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    (hold, b.body(BodyExt::boxed(StreamBody::new(body))).unwrap())
}

/// A gRPC call whose message does not come until `Hold` is dropped, as `token`; the
/// answer when it comes.
fn stalled_grpc(
    url: &str,
    method: &str,
    token: &'static str,
    extra: &[(&str, &str)],
) -> (
    Hold,
    tokio::task::JoinHandle<http::Response<hyper::body::Incoming>>,
) {
    let client: Stalled = Client::builder(TokioExecutor::new())
        .http2_only(true)
        .build_http();
    let bearer = format!("Bearer {token}");
    let mut headers = vec![
        ("content-type", "application/grpc"),
        ("te", "trailers"),
        ("authorization", bearer.as_str()),
    ];
    headers.extend_from_slice(extra);
    let (hold, request) = stalled_request(url, "POST", method, &headers);
    let answer = tokio::spawn(async move { client.request(request).await.expect("gRPC answer") });
    (hold, answer)
}

/// The gRPC status a (trailers-only) answer carries.
fn grpc_error(response: &http::Response<hyper::body::Incoming>) -> ApiError {
    let status = tonic::Status::from_header_map(response.headers()).expect("a gRPC status");
    ApiError::from_status(&status)
}

async fn http_get(url: &str, path: &str, token: &str) -> (u16, http::HeaderMap, serde_json::Value) {
    let client: Client<HttpConnector, Full<Bytes>> =
        Client::builder(TokioExecutor::new()).build_http();
    let request = http::Request::builder()
        .uri(format!("{url}{path}"))
        .header("authorization", format!("Bearer {token}"))
        .header("accept", "application/json")
        .body(Full::new(Bytes::new()))
        .unwrap();
    let response = client.request(request).await.expect("HTTP answer");
    let code = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        code,
        headers,
        serde_json::from_slice(&bytes).unwrap_or_default(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_beyond_the_queues_gets_429_with_retry_after_then_a_retry_succeeds() {
    let _serial = SERIAL.lock().await;
    let (server, _files) = start(few_seats).await;
    let url = server.url.clone();
    // global-default's one seat, held by a create whose message does not come.
    let (hold, staller) = stalled_grpc(&url, "/k8s.Api/Create", "burst-token", &[]);
    // Its flow's queues (6 of 50) fill; then refusals.
    let mut clients = Vec::new();
    for _ in 0..4 {
        clients.push(api(&url, "burst-token").await);
    }
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut burst = tokio::task::JoinSet::new();
    let refused = tokio::time::timeout(Duration::from_secs(60), async {
        let mut sent = 0usize;
        loop {
            for _ in 0..25 {
                let mut c = clients[sent % clients.len()].clone();
                let tx = tx.clone();
                burst.spawn(async move {
                    let _ = tx.send(list_configmaps(&mut c).await);
                });
                sent += 1;
            }
            // Answers so far: queued ones have none yet.
            let deadline = tokio::time::Instant::now() + Duration::from_millis(100);
            while let Ok(Some(answer)) = tokio::time::timeout_at(deadline, rx.recv()).await {
                if let Err(e) = answer {
                    return (e, sent);
                }
            }
        }
    })
    .await;
    let (e, sent) = refused.expect("a 429 once the queues are full");
    println!("gRPC: refused after {sent} requests: {e:?}");
    assert_eq!(e.reason, Reason::TooManyRequests, "{e:?}");
    assert_eq!(e.retry_after_seconds, Some(1));
    assert!(
        sent > 300,
        "the flow's 300 queue places came first ({sent})"
    );

    // HTTP: Kubernetes' Status, Retry-After and the flow headers.
    let (code, headers, status) =
        http_get(&url, "/api/v1/namespaces/default/configmaps", "burst-token").await;
    assert_eq!(code, 429, "{status}");
    assert_eq!(headers[http::header::RETRY_AFTER], "1");
    assert_eq!(status["reason"], "TooManyRequests");
    assert_eq!(status["code"], 429);
    assert_eq!(status["details"]["retryAfterSeconds"], 1);
    assert_eq!(headers["x-kubernetes-pf-flowschema-uid"], "global-default");
    assert_eq!(
        headers["x-kubernetes-pf-prioritylevel-uid"],
        "global-default"
    );
    // Another level is not affected: the kubelet is served at once.
    let mut node = api(&url, "node-token").await;
    node.list(ListRequest {
        resource: "pods".into(),
        ..Default::default()
    })
    .await
    .expect("the kubelet's level has its own seats");

    // The seat comes back once the stalled call goes away; a client that waits as told
    // and retries gets its answer.
    drop(hold);
    let _ = staller.await;
    let mut retrier = api(&url, "burst-token").await;
    let retried = tokio::time::timeout(Duration::from_secs(60), async {
        let mut tries = 0;
        loop {
            tries += 1;
            match list_configmaps(&mut retrier).await {
                Ok(_) => return tries,
                Err(e) if e.reason == Reason::TooManyRequests => {
                    let wait = e.retry_after_seconds.expect("Retry-After");
                    tokio::time::sleep(Duration::from_secs(u64::from(wait))).await;
                }
                Err(e) => panic!("{e:?}"),
            }
        }
    })
    .await
    .expect("the retry succeeds");
    println!("the retry succeeded after {retried} tries");
    burst.abort_all();
    while burst.join_next().await.is_some() {}
    let (code, headers, _) =
        http_get(&url, "/api/v1/namespaces/default/configmaps", "burst-token").await;
    assert_eq!(code, 200);
    assert_eq!(headers["x-kubernetes-pf-flowschema-uid"], "global-default");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_past_their_deadline_get_504() {
    let _serial = SERIAL.lock().await;
    let (server, _files) = start(|c| c.request_timeout = Duration::from_secs(2)).await;
    let url = server.url.clone();

    // The client's grpc-timeout, shorter than --request-timeout, is the deadline: a read is
    // dropped and says nothing more.
    let t0 = Instant::now();
    let (_hold, answer) = stalled_grpc(
        &url,
        "/k8s.Api/Get",
        "burst-token",
        &[("grpc-timeout", "300m")],
    );
    let e = grpc_error(&answer.await.unwrap());
    assert_eq!(e.reason, Reason::Timeout, "{e:?}");
    assert!(!e.message.contains("may still"), "{}", e.message);
    assert!(
        t0.elapsed() < Duration::from_millis(1500),
        "{:?}",
        t0.elapsed()
    );

    // --request-timeout for a write: the outcome is unknown, and the answer says so.
    let t0 = Instant::now();
    let (_hold, answer) = stalled_grpc(&url, "/k8s.Api/Create", "admin-token", &[]);
    let e = grpc_error(&answer.await.unwrap());
    assert_eq!(e.reason, Reason::Timeout, "{e:?}");
    assert!(
        e.message.contains("may still be processing the request"),
        "{}",
        e.message
    );
    assert!(t0.elapsed() >= Duration::from_secs(2), "{:?}", t0.elapsed());

    // HTTP: Kubernetes' 504 Status.
    let client: Stalled = Client::builder(TokioExecutor::new()).build_http();
    let (_hold, request) = stalled_request(
        &url,
        "POST",
        "/api/v1/namespaces/default/configmaps",
        &[
            ("authorization", "Bearer burst-token"),
            ("content-type", "application/json"),
        ],
    );
    let response = client.request(request).await.expect("HTTP answer");
    assert_eq!(response.status(), 504);
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let status: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(status["reason"], "Timeout", "{status}");
    assert_eq!(status["code"], 504);
    assert!(
        status["message"]
            .as_str()
            .unwrap()
            .contains("may still be processing"),
        "{status}"
    );

    // Requests within their deadline are untouched, and the server is still serving.
    let mut c = api(&url, "burst-token").await;
    list_configmaps(&mut c).await.expect("served");
}
