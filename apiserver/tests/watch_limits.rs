//! Bounds on what one client can make the apiserver hold, against an in-process server over
//! real gRPC and HTTP on a sled store: a watcher that stops reading is closed (its stream
//! ends cleanly, it resumes from its last revision, `apiserver_terminated_watchers_total`
//! counts it) and never gets more than a bounded buffer; the watch caps answer 429 with
//! Retry-After; an unpaged list over `--max-list-response-bytes` is refused while paged
//! lists work; a connection past `--max-connection-age` gets GOAWAY while its in-flight
//! request goes on. The metrics registry is the test process's: only the first test closes
//! watchers of configmaps, so its delta is its own.

use std::time::{Duration, Instant};

use apiserver::testing::TestServer;
use bytes::Bytes;
use futures::StreamExt;
use http_body_util::{BodyExt, Empty, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use proto::k8s::{ListRequest, WatchRequest};
use proto::{ApiError, Reason};
use serde_json::Value;

mod common;

/// Generous: the machine running CI is loaded.
const WAIT: Duration = Duration::from_secs(60);

fn terminated_configmap_watchers() -> f64 {
    telemetry::metrics::encode()
        .lines()
        .filter(|l| l.starts_with("apiserver_terminated_watchers_total{resource=\"configmaps\"}"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

async fn wait_for(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn watch_from(namespace: &str, rv: &str) -> WatchRequest {
    WatchRequest {
        resource: "configmaps".into(),
        namespace: namespace.into(),
        resource_version: rv.into(),
        ..Default::default()
    }
}

async fn list_rv(api: &mut common::Client, namespace: &str) -> String {
    api.list(ListRequest {
        resource: "configmaps".into(),
        namespace: namespace.into(),
        limit: 1,
        ..Default::default()
    })
    .await
    .expect("list")
    .into_inner()
    .resource_version
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watcher_that_never_reads_is_closed_with_a_bounded_buffer_and_resumes() {
    let s = TestServer::start_with(|c| c.watch_stall_timeout = Duration::from_millis(300)).await;
    // Own connections: the stalled stream must not hold the writer's HTTP/2 window.
    let mut stalled_api = common::connect(&s).await;
    let mut writer = common::connect(&s).await;
    let start = list_rv(&mut writer, "default").await;
    let before = terminated_configmap_watchers();
    let mut stalled = stalled_api
        .watch(watch_from("default", &start))
        .await
        .expect("watch starts")
        .into_inner();

    // 1200 events of 16 KiB (19 MiB): several times what the channel (256 events), the
    // server's HTTP/2 send buffer and the client's 2 MiB stream window hold together.
    const WRITES: usize = 1200;
    let value = "x".repeat(16 * 1024);
    let mut last_rv = String::new();
    for i in 0..WRITES {
        let created = writer
            .create(proto::k8s::CreateRequest {
                object: Some(common::cm(
                    "default",
                    &format!("c{i}"),
                    &[("v", value.as_str())],
                )),
                ..Default::default()
            })
            .await
            .expect("create");
        last_rv = created.into_inner().meta().resource_version.clone();
    }
    wait_for("the stalled watcher to be closed", || {
        terminated_configmap_watchers() > before
    })
    .await;

    // What the server had buffered arrives, then the stream ends cleanly: no error, so the
    // client watches again from its last revision rather than relisting.
    let mut received = 0usize;
    let mut seen_rv = start.clone();
    let ended = tokio::time::timeout(WAIT, async {
        while let Some(item) = stalled.next().await {
            let ev = item.map_err(|s| ApiError::from_status(&s))?;
            seen_rv = ev.resource_version;
            received += 1;
        }
        Ok::<_, ApiError>(())
    })
    .await
    .expect("the closed watch's stream ends");
    ended.expect("a closed watcher's stream ends without an error");
    println!("stalled watcher: {received} of {WRITES} events were buffered for it");
    assert!(
        received < 700,
        "a client that never read got {received} of {WRITES} events: the server buffered without bound"
    );
    assert_ne!(
        seen_rv, last_rv,
        "the watcher was closed before the last write"
    );

    // Resuming from the last revision it saw delivers exactly the rest, from history.
    let mut resumed = stalled_api
        .watch(watch_from("default", &seen_rv))
        .await
        .expect("rewatch from the last revision")
        .into_inner();
    let mut rest = 0usize;
    tokio::time::timeout(WAIT, async {
        while let Some(item) = resumed.next().await {
            let ev = item.expect("resumed event");
            rest += 1;
            if ev.resource_version == last_rv {
                break;
            }
        }
    })
    .await
    .expect("the resumed watch reaches the last write");
    assert_eq!(received + rest, WRITES, "no event lost or repeated");
    s.stop().await;
}

fn http() -> Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>> {
    Client::builder(TokioExecutor::new()).build_http()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watches_over_the_cap_get_429_with_retry_after_over_grpc_and_http() {
    let s = TestServer::start_with(|c| {
        c.max_watches_per_user = 2;
    })
    .await;
    let mut api = common::connect(&s).await;
    let rv = list_rv(&mut api, "default").await;
    let first = api.watch(watch_from("default", &rv)).await.expect("1st");
    let _second = api.watch(watch_from("default", &rv)).await.expect("2nd");
    let refused = match api.watch(watch_from("default", &rv)).await {
        Ok(_) => panic!("a third watch of the same user is accepted"),
        Err(status) => ApiError::from_status(&status),
    };
    assert_eq!(refused.reason, Reason::TooManyRequests, "{refused:?}");
    assert_eq!(refused.retry_after_seconds, Some(1));
    assert!(
        refused.message.contains("--max-watches-per-user=2"),
        "{}",
        refused.message
    );

    let response = http()
        .request(
            http::Request::get(format!(
                "{}/api/v1/namespaces/default/configmaps?watch=1&resourceVersion={rv}",
                s.url
            ))
            .body(Full::new(Bytes::new()))
            .unwrap(),
        )
        .await
        .expect("HTTP watch answered");
    assert_eq!(response.status().as_u16(), 429);
    assert_eq!(
        response.headers().get("retry-after").map(|v| v.as_bytes()),
        Some(&b"1"[..])
    );
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let status: Value = serde_json::from_slice(&body).expect("a Status");
    assert_eq!(status["kind"], "Status");
    assert_eq!(status["reason"], "TooManyRequests");
    assert_eq!(status["code"], 429);

    // A watch that ends gives its slot back.
    drop(first);
    let deadline = Instant::now() + WAIT;
    loop {
        match api.watch(watch_from("default", &rv)).await {
            Ok(_) => break,
            Err(s) if ApiError::from_status(&s).reason == Reason::TooManyRequests => {
                assert!(Instant::now() < deadline, "the ended watch kept its slot");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(s) => panic!("watch failed: {s}"),
        }
    }
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unpaged_list_over_the_threshold_is_refused_and_paged_lists_work() {
    const MAX: u64 = 64 * 1024;
    let s = TestServer::start_with(|c| c.max_list_response_bytes = MAX).await;
    let mut api = common::connect(&s).await;
    let value = "y".repeat(4096);
    for i in 0..40 {
        api.create(proto::k8s::CreateRequest {
            object: Some(common::cm(
                "default",
                &format!("big{i}"),
                &[("v", value.as_str())],
            )),
            ..Default::default()
        })
        .await
        .expect("create");
    }
    let unpaged = ListRequest {
        resource: "configmaps".into(),
        namespace: "default".into(),
        ..Default::default()
    };
    let refused = ApiError::from_status(
        &api.list(unpaged.clone())
            .await
            .expect_err("an unpaged list of 160 KiB over a 64 KiB cap is refused"),
    );
    assert_eq!(refused.reason, Reason::TooLarge, "{refused:?}");
    assert!(
        refused.message.contains("limit and continue"),
        "{}",
        refused.message
    );
    assert!(!refused.message.contains('\n'));

    let response = http()
        .request(
            http::Request::get(format!("{}/api/v1/namespaces/default/configmaps", s.url))
                .body(Full::new(Bytes::new()))
                .unwrap(),
        )
        .await
        .expect("HTTP list answered");
    assert_eq!(response.status().as_u16(), 413);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let status: Value = serde_json::from_slice(&body).expect("a Status");
    assert_eq!(status["kind"], "Status");
    assert!(
        status["message"]
            .as_str()
            .unwrap_or_default()
            .contains("--max-list-response-bytes"),
        "{status}"
    );

    // Paged (kubectl's --chunk-size=500): pages end early at the cap, with a continue
    // token, and together hold every object once.
    let mut names = Vec::new();
    let mut pages = 0;
    let mut next = String::new();
    loop {
        let page = api
            .list(ListRequest {
                limit: 500,
                r#continue: next.clone(),
                ..unpaged.clone()
            })
            .await
            .expect("a page")
            .into_inner();
        pages += 1;
        let bytes: usize = page.items.iter().map(prost::Message::encoded_len).sum();
        assert!(bytes as u64 <= MAX + 8 * 1024, "a page of {bytes} bytes");
        names.extend(page.items.iter().map(|o| o.meta().name.clone()));
        if page.r#continue.is_empty() {
            break;
        }
        next = page.r#continue;
    }
    assert!(
        pages >= 3,
        "160 KiB in pages of at most 64 KiB: {pages} pages"
    );
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 40);

    // Under the cap an unpaged list is served whole, as Kubernetes serves it.
    for i in 0..3 {
        api.create(proto::k8s::CreateRequest {
            object: Some(common::cm("kube-public", &format!("small{i}"), &[])),
            ..Default::default()
        })
        .await
        .expect("create");
    }
    let small = api
        .list(ListRequest {
            namespace: "kube-public".into(),
            ..unpaged
        })
        .await
        .expect("a small unpaged list")
        .into_inner();
    assert!(small.items.len() >= 3 && small.r#continue.is_empty());
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_past_its_maximum_age_gets_goaway_while_its_watch_goes_on() {
    let s = TestServer::start_with(|c| {
        c.max_connection_age = Duration::from_secs(1);
        c.max_connection_age_grace = Duration::from_secs(60);
    })
    .await;
    let mut api = common::connect(&s).await;
    let rv = list_rv(&mut api, "default").await;

    let tcp = tokio::net::TcpStream::connect(s.addr())
        .await
        .expect("connect");
    let (mut sender, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tcp))
            .await
            .expect("HTTP/2 handshake");
    let connected = Instant::now();
    let driver = tokio::spawn(conn);
    let get = |path: String| {
        http::Request::get(format!("http://{}{path}", s.addr()))
            .body(Empty::<Bytes>::new())
            .unwrap()
    };
    let watch = sender
        .send_request(get(format!(
            "/api/v1/namespaces/default/configmaps?watch=1&resourceVersion={rv}"
        )))
        .await
        .expect("the watch starts");
    assert_eq!(watch.status().as_u16(), 200);
    let mut body = watch.into_body();

    // After the age (1 s +-10%) the server sends GOAWAY: new requests on this connection
    // are refused while the watch stays open.
    let deadline = Instant::now() + WAIT;
    loop {
        let refused = match sender.ready().await {
            Err(_) => true,
            Ok(()) => sender
                .send_request(get("/api/v1/namespaces/default/configmaps?limit=1".into()))
                .await
                .is_err(),
        };
        if refused {
            break;
        }
        assert!(Instant::now() < deadline, "no GOAWAY after the maximum age");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let went_away = connected.elapsed();
    assert!(
        went_away >= Duration::from_millis(850),
        "GOAWAY came after {went_away:?}, before the age"
    );

    // The in-flight watch still delivers.
    api.create(proto::k8s::CreateRequest {
        object: Some(common::cm("default", "after-goaway", &[])),
        ..Default::default()
    })
    .await
    .expect("create");
    let mut seen = Vec::new();
    let delivered = tokio::time::timeout(WAIT, async {
        while let Some(frame) = body.frame().await {
            let frame = frame.expect("the watch body goes on after GOAWAY");
            if let Some(data) = frame.data_ref() {
                seen.extend_from_slice(data);
                if String::from_utf8_lossy(&seen).contains("after-goaway") {
                    return true;
                }
            }
        }
        false
    })
    .await
    .expect("the watch delivers after GOAWAY");
    assert!(
        delivered,
        "the watch ended before delivering the new object"
    );

    // When the watch ends, the connection closes.
    drop(body);
    tokio::time::timeout(WAIT, driver)
        .await
        .expect("the connection closes once its last stream ends")
        .expect("connection task")
        .ok();
    s.stop().await;
}
