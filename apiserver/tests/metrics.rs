//! The apiserver's `/metrics` against an in-process server: gRPC and HTTP calls move
//! `apiserver_request_total` under Kubernetes' labels, watches and the store are counted,
//! and the endpoint is authorized as the non-resource URL `get /metrics` (the bootstrap
//! `system:monitoring` role grants it). The registry is the test process's, shared by the
//! tests of this file running at once, so each test asserts deltas on series only it moves
//! (its own resource).

use std::time::Duration;

use apiserver::testing::TestServer;
use bytes::Bytes;
use futures::StreamExt;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use proto::Reason;
use proto::k8s::{ListRequest, WatchRequest};
use serde_json::json;

mod common;

type Http = Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>;

fn http() -> Http {
    Client::builder(TokioExecutor::new()).build_http()
}

struct Answer {
    code: u16,
    content_type: String,
    text: String,
}

async fn call(
    c: &Http,
    s: &TestServer,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> Answer {
    let mut request = http::Request::builder()
        .method(method)
        .uri(format!("{}{path}", s.url))
        .header("content-type", "application/json")
        .header("accept", "application/json");
    if let Some(t) = token {
        request = request.header("authorization", format!("Bearer {t}"));
    }
    let response = c
        .request(
            request
                .body(Full::new(Bytes::from(body.to_string())))
                .unwrap(),
        )
        .await
        .expect("request served");
    let code = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Answer {
        code,
        content_type,
        text: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

/// The sum of the samples of `name` whose labels include every one of `labels`.
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter_map(|l| {
            let rest = l.strip_prefix(name)?;
            let (set, value) = match rest.strip_prefix('{') {
                Some(r) => r.split_once("} ")?,
                None => ("", rest.strip_prefix(' ')?),
            };
            labels
                .iter()
                .all(|(k, v)| set.split(',').any(|p| p == format!("{k}=\"{v}\"")))
                .then(|| value.trim().parse::<f64>().ok())
                .flatten()
        })
        .sum()
}

async fn scrape(c: &Http, s: &TestServer) -> String {
    let a = call(c, s, "GET", "/metrics", None, "").await;
    assert_eq!(a.code, 200, "{}", a.text);
    a.text
}

/// `apiserver_request_total` of one resource's calls, by verb, scope and code.
fn requests(text: &str, resource: &str, verb: &str, scope: &str, code: &str) -> f64 {
    sample(
        text,
        "apiserver_request_total",
        &[
            ("verb", verb),
            ("dry_run", ""),
            ("group", ""),
            ("version", "v1"),
            ("resource", resource),
            ("subresource", ""),
            ("scope", scope),
            ("component", "apiserver"),
            ("code", code),
        ],
    )
}

#[tokio::test]
async fn grpc_calls_watches_and_the_store_are_counted() {
    let s = TestServer::start().await;
    let c = http();
    let mut api = common::connect(&s).await;
    let before = scrape(&c, &s).await;
    // ConfigMaps: only this test of the file touches them.
    common::create(&mut api, common::cm("default", "one", &[("a", "1")]))
        .await
        .unwrap();
    let again = common::create(&mut api, common::cm("default", "one", &[])).await;
    assert_eq!(again.unwrap_err().reason, Reason::AlreadyExists);
    common::get(&mut api, "configmaps", "default", "one")
        .await
        .unwrap();
    let missing = common::get(&mut api, "configmaps", "default", "nope").await;
    assert_eq!(missing.unwrap_err().reason, Reason::NotFound);
    common::list(
        &mut api,
        ListRequest {
            resource: "configmaps".into(),
            namespace: "default".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();

    let mut watch = api
        .watch(WatchRequest {
            resource: "configmaps".into(),
            namespace: "default".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    // The current state arrives as one ADDED event.
    let first = tokio::time::timeout(Duration::from_secs(5), watch.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(first.r#type, "ADDED");
    let during = scrape(&c, &s).await;
    let watch_labels = [
        ("verb", "WATCH"),
        ("resource", "configmaps"),
        ("scope", "namespace"),
        ("component", "apiserver"),
    ];
    assert_eq!(
        sample(&during, "apiserver_longrunning_requests", &watch_labels)
            - sample(&before, "apiserver_longrunning_requests", &watch_labels),
        1.0,
        "an open watch is a long-running request"
    );
    let kind = [("group", ""), ("version", "v1"), ("kind", "ConfigMap")];
    assert!(
        sample(&during, "apiserver_watch_events_total", &kind)
            > sample(&before, "apiserver_watch_events_total", &kind)
    );
    assert!(sample(&during, "apiserver_watch_events_sizes_count", &kind) > 0.0);
    drop(watch);

    // The watch is counted once it has ended (the server sees the stream go).
    let mut after = String::new();
    for _ in 0..50 {
        after = scrape(&c, &s).await;
        if requests(&after, "configmaps", "WATCH", "namespace", "200")
            > requests(&before, "configmaps", "WATCH", "namespace", "200")
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let delta = |verb: &str, scope: &str, code: &str| {
        requests(&after, "configmaps", verb, scope, code)
            - requests(&before, "configmaps", verb, scope, code)
    };
    assert_eq!(delta("CREATE", "resource", "201"), 1.0, "{after}");
    assert_eq!(delta("CREATE", "resource", "409"), 1.0);
    assert_eq!(delta("GET", "resource", "200"), 1.0);
    assert_eq!(delta("GET", "resource", "404"), 1.0);
    assert_eq!(delta("LIST", "namespace", "200"), 1.0);
    assert_eq!(delta("WATCH", "namespace", "200"), 1.0);
    assert_eq!(
        sample(&after, "apiserver_longrunning_requests", &watch_labels),
        sample(&before, "apiserver_longrunning_requests", &watch_labels),
        "the watch left the gauge"
    );
    let duration = [
        ("verb", "GET"),
        ("resource", "configmaps"),
        ("scope", "resource"),
    ];
    assert_eq!(
        sample(
            &after,
            "apiserver_request_duration_seconds_count",
            &duration
        ) - sample(
            &before,
            "apiserver_request_duration_seconds_count",
            &duration
        ),
        2.0
    );
    // The store: each object write timed, the objects counted.
    let store = [("operation", "create"), ("type", "configmaps")];
    assert!(
        sample(&after, "etcd_request_duration_seconds_count", &store)
            > sample(&before, "etcd_request_duration_seconds_count", &store)
    );
    assert!(
        sample(
            &after,
            "apiserver_storage_objects",
            &[("resource", "configmaps")]
        ) >= 1.0
    );
    assert!(sample(&after, "apiserver_storage_db_total_size_in_bytes", &[]) > 0.0);
    assert!(
        sample(
            &after,
            "apiserver_current_inflight_requests",
            &[("request_kind", "readOnly")]
        ) >= 0.0
    );
    assert!(after.contains("# TYPE apiserver_current_inflight_requests gauge"));
    s.stop().await;
}

#[tokio::test]
async fn http_calls_are_counted_as_kubernetes_counts_them() {
    let s = TestServer::start().await;
    let c = http();
    let before = scrape(&c, &s).await;
    // Secrets: only this test of the file touches them.
    let secret = |name: &str| {
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "stringData": {"k": "v"}})
            .to_string()
    };
    let base = "/api/v1/namespaces/default/secrets";
    let a = call(&c, &s, "POST", base, None, &secret("one")).await;
    assert_eq!(a.code, 201, "{}", a.text);
    let a = call(
        &c,
        &s,
        "POST",
        &format!("{base}?dryRun=All"),
        None,
        &secret("two"),
    )
    .await;
    assert_eq!(a.code, 201, "{}", a.text);
    assert_eq!(
        call(&c, &s, "GET", &format!("{base}/one"), None, "")
            .await
            .code,
        200
    );
    assert_eq!(
        call(&c, &s, "GET", &format!("{base}/nope"), None, "")
            .await
            .code,
        404
    );
    assert_eq!(call(&c, &s, "GET", base, None, "").await.code, 200);
    assert_eq!(
        call(&c, &s, "GET", "/api/v1/secrets", None, "").await.code,
        200
    );
    let a = call(&c, &s, "DELETE", &format!("{base}/one"), None, "").await;
    assert_eq!(a.code, 200, "{}", a.text);
    let after = scrape(&c, &s).await;
    let delta = |verb: &str, scope: &str, code: &str| {
        requests(&after, "secrets", verb, scope, code)
            - requests(&before, "secrets", verb, scope, code)
    };
    assert_eq!(delta("CREATE", "resource", "201"), 1.0, "{after}");
    assert_eq!(delta("GET", "resource", "200"), 1.0);
    assert_eq!(delta("GET", "resource", "404"), 1.0);
    assert_eq!(delta("LIST", "namespace", "200"), 1.0);
    assert_eq!(delta("LIST", "cluster", "200"), 1.0);
    assert_eq!(delta("DELETE", "resource", "200"), 1.0);
    let dry = [
        ("verb", "CREATE"),
        ("dry_run", "All"),
        ("resource", "secrets"),
        ("code", "201"),
    ];
    assert_eq!(
        sample(&after, "apiserver_request_total", &dry)
            - sample(&before, "apiserver_request_total", &dry),
        1.0
    );
    let sizes = [
        ("verb", "LIST"),
        ("resource", "secrets"),
        ("scope", "namespace"),
    ];
    assert!(
        sample(&after, "apiserver_response_sizes_sum", &sizes)
            > sample(&before, "apiserver_response_sizes_sum", &sizes),
        "a list's answer has a size"
    );
    // Non-resource paths served are labelled by path; the scrape itself is one.
    let metrics = [
        ("verb", "GET"),
        ("resource", ""),
        ("subresource", "/metrics"),
        ("code", "200"),
    ];
    assert!(sample(&after, "apiserver_request_total", &metrics) >= 1.0);
    s.stop().await;
}

#[tokio::test]
async fn metrics_are_for_the_monitoring_group_only() {
    let files = tempfile::tempdir().unwrap();
    let tokens = files.path().join("tokens.csv");
    std::fs::write(
        &tokens,
        "alice-token,alice,u1,\nprom-token,prometheus,u2,\"system:monitoring\"\n",
    )
    .unwrap();
    let s = TestServer::start_with(move |c| {
        c.authorization_mode = vec!["RBAC".into()];
        c.token_auth_file = Some(tokens);
    })
    .await;
    let c = http();
    let anonymous = call(&c, &s, "GET", "/metrics", None, "").await;
    assert_eq!(anonymous.code, 403, "{}", anonymous.text);
    let alice = call(&c, &s, "GET", "/metrics", Some("alice-token"), "").await;
    assert_eq!(alice.code, 403, "{}", alice.text);
    assert!(
        alice.text.contains("forbidden") && alice.text.contains("/metrics"),
        "{}",
        alice.text
    );
    let prom = call(&c, &s, "GET", "/metrics", Some("prom-token"), "").await;
    assert_eq!(prom.code, 200, "{}", prom.text);
    assert_eq!(prom.content_type, telemetry::metrics::CONTENT_TYPE);
    assert!(
        prom.text.contains("# TYPE apiserver_request counter"),
        "{}",
        prom.text
    );
    // The refusals were counted too, without the path (refused paths can be anything).
    let refused = [
        ("verb", "GET"),
        ("resource", ""),
        ("subresource", ""),
        ("code", "403"),
    ];
    assert!(sample(&prom.text, "apiserver_request_total", &refused) >= 2.0);
    // The role reads health checks too, and nothing else.
    let check = call(&c, &s, "GET", "/readyz/etcd", Some("prom-token"), "").await;
    assert_eq!(check.code, 200, "{}", check.text);
    let pods = call(&c, &s, "GET", "/api/v1/pods", Some("prom-token"), "").await;
    assert_eq!(pods.code, 403, "{}", pods.text);
    s.stop().await;
}
