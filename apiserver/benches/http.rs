//! What Kubernetes' HTTP/JSON API costs against gRPC: the same create/get/list/watch load
//! through both, against one in-process apiserver (plaintext HTTP/2 on loopback, both on
//! the one listener), interleaved so drift of the machine hits both alike. The HTTP client
//! is what client-go is on the wire: HTTP/2, one connection per client, JSON bodies encoded
//! and decoded per request. Target: HTTP at least 0.7 of gRPC.
//!
//! `cargo bench -p apiserver --bench http` (env BENCH_SCALE=0.2 for a quick run)

mod common;
use common::{Figures, cm, measure, pct, scale};

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::StreamExt;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use proto::Resource;
use proto::k8s::api_client::ApiClient;
use proto::k8s::*;
use tonic::transport::Channel;

const NS: &str = "bench";
/// Each side's connections (one per client, as separate processes would hold).
const CONNECTIONS: usize = 4;

type Http = HyperClient<HttpConnector, Full<Bytes>>;

async fn grpc_clients(url: &str) -> Arc<Vec<ApiClient<Channel>>> {
    let mut out = Vec::new();
    for _ in 0..CONNECTIONS {
        let ch = Channel::from_shared(url.to_string())
            .expect("url")
            .connect()
            .await
            .expect("connect");
        out.push(ApiClient::new(ch).max_decoding_message_size(512 << 20));
    }
    Arc::new(out)
}

/// HTTP/2 with prior knowledge (plaintext), one connection per client.
fn http_clients() -> Arc<Vec<Http>> {
    Arc::new(
        (0..CONNECTIONS)
            .map(|_| {
                {
                    // TCP_NODELAY as Go's net package (client-go) and tonic set it: without
                    // it a request's HEADERS and DATA frames, written separately, wait on
                    // the delayed ACK (~40 ms per create).
                    let mut connector = HttpConnector::new();
                    connector.set_nodelay(true);
                    HyperClient::builder(TokioExecutor::new())
                        .http2_only(true)
                        .build(connector)
                }
            })
            .collect(),
    )
}

/// One HTTP API call; panics unless it answers `expect`. The answer is decoded as JSON,
/// since every real client decodes what it gets.
async fn call(
    client: &Http,
    method: http::Method,
    uri: &str,
    body: Option<Vec<u8>>,
    expect: http::StatusCode,
) -> serde_json::Value {
    let bytes = call_raw(client, method, uri, body, expect).await;
    serde_json::from_slice(&bytes).expect("JSON answer")
}

/// `call` without decoding the answer: the server's share of a call.
async fn call_raw(
    client: &Http,
    method: http::Method,
    uri: &str,
    body: Option<Vec<u8>>,
    expect: http::StatusCode,
) -> Bytes {
    let request = http::Request::builder()
        .method(method)
        .uri(uri)
        .header(http::header::ACCEPT, "application/json")
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body.unwrap_or_default())))
        .expect("request");
    let response = client.request(request).await.expect("HTTP call");
    let status = response.status();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("response body")
        .to_bytes();
    assert_eq!(status, expect, "{uri}: {}", String::from_utf8_lossy(&bytes));
    bytes
}

/// The ConfigMap of `common::cm` as the JSON a client would send.
fn cm_json(ns: &str, name: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": ns},
        "data": {"payload": "x".repeat(1000)},
    }))
    .expect("JSON")
}

fn line(what: &str, g: &Figures, h: &Figures) {
    println!(
        "{what:<24} gRPC {:>8.0}/s p50 {:>6.2} ms p99 {:>6.2} ms | HTTP {:>8.0}/s p50 {:>6.2} ms p99 {:>6.2} ms | HTTP/gRPC {:.2}",
        g.per_second,
        g.p50.as_secs_f64() * 1e3,
        g.p99.as_secs_f64() * 1e3,
        h.per_second,
        h.p50.as_secs_f64() * 1e3,
        h.p99.as_secs_f64() * 1e3,
        h.per_second / g.per_second
    );
}

async fn namespace(grpc: &ApiClient<Channel>, name: &str) {
    let mut n = Namespace::default();
    n.meta_mut().name = name.into();
    grpc.clone()
        .create(CreateRequest {
            object: Some(n.into_object()),
            ..Default::default()
        })
        .await
        .expect("namespace");
}

/// Write-to-delivery latency for `watchers` watchers of one fresh namespace, over gRPC or
/// HTTP; the writes go through gRPC either way, so only the delivery path differs.
async fn watch_latency(
    url: &str,
    base: &str,
    http: bool,
    watchers: usize,
    writes: usize,
) -> (Duration, Duration, usize) {
    let writer = grpc_clients(url).await;
    let ns = format!("watch-{}-{watchers}", if http { "http" } else { "grpc" });
    namespace(&writer[0], &ns).await;
    let rv = writer[0]
        .clone()
        .list(ListRequest {
            resource: "configmaps".into(),
            namespace: ns.clone(),
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner()
        .resource_version;

    let written: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let latencies: Arc<Mutex<Vec<Duration>>> = Arc::default();
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel::<()>(watchers);
    let grpc = grpc_clients(url).await;
    let hyper = http_clients();
    let mut tasks = Vec::new();
    for w in 0..watchers {
        let (written, latencies, ready) = (written.clone(), latencies.clone(), ready_tx.clone());
        let (grpc, hyper, ns, rv) = (grpc.clone(), hyper.clone(), ns.clone(), rv.clone());
        let uri = format!(
            "{base}/api/v1/namespaces/{ns}/configmaps?watch=true&resourceVersion={rv}&timeoutSeconds=300"
        );
        tasks.push(tokio::spawn(async move {
            let mut local = Vec::with_capacity(writes);
            let record = |name: &str, local: &mut Vec<Duration>| {
                let now = Instant::now();
                if let Some(t0) = written.lock().expect("lock").get(name) {
                    local.push(now - *t0);
                }
            };
            if http {
                let request = http::Request::builder()
                    .uri(&uri)
                    .header(http::header::ACCEPT, "application/json")
                    .body(Full::new(Bytes::new()))
                    .expect("request");
                let response = hyper[w % CONNECTIONS]
                    .request(request)
                    .await
                    .expect("HTTP watch");
                assert_eq!(response.status(), http::StatusCode::OK, "watch");
                ready.send(()).await.ok();
                let mut body = response.into_body();
                let mut buffer = Vec::new();
                let mut got = 0;
                while got < writes {
                    let frame =
                        match tokio::time::timeout(Duration::from_secs(60), body.frame()).await {
                            Ok(Some(Ok(f))) => f,
                            _ => break,
                        };
                    let Ok(data) = frame.into_data() else {
                        continue;
                    };
                    buffer.extend_from_slice(&data);
                    while let Some(end) = buffer.iter().position(|b| *b == b'\n') {
                        let line: Vec<u8> = buffer.drain(..=end).collect();
                        let event: serde_json::Value =
                            serde_json::from_slice(&line).expect("watch event JSON");
                        if event["type"] == "BOOKMARK" {
                            continue;
                        }
                        let name = event["object"]["metadata"]["name"].as_str().unwrap_or("");
                        record(name, &mut local);
                        got += 1;
                    }
                }
            } else {
                let mut stream = grpc[w % CONNECTIONS]
                    .clone()
                    .watch(WatchRequest {
                        resource: "configmaps".into(),
                        namespace: ns,
                        resource_version: rv,
                        ..Default::default()
                    })
                    .await
                    .expect("gRPC watch")
                    .into_inner();
                ready.send(()).await.ok();
                let mut got = 0;
                while got < writes {
                    match tokio::time::timeout(Duration::from_secs(60), stream.next()).await {
                        Ok(Some(Ok(ev))) => {
                            if let Some(o) = ev.object {
                                record(&o.meta().name, &mut local);
                            }
                            got += 1;
                        }
                        _ => break,
                    }
                }
            }
            latencies.lock().expect("lock").extend(local);
        }));
    }
    for _ in 0..watchers {
        ready_rx.recv().await;
    }
    // Writers: 4 concurrent, paced so the run measures delivery, not a backlog.
    let per = writes / 4;
    let mut ws = Vec::new();
    for t in 0..4 {
        let mut c = writer[t % writer.len()].clone();
        let (written, ns) = (written.clone(), ns.clone());
        ws.push(tokio::spawn(async move {
            for i in 0..per {
                let name = format!("w{t}-{i}");
                written
                    .lock()
                    .expect("lock")
                    .insert(name.clone(), Instant::now());
                c.create(CreateRequest {
                    object: Some(cm(&ns, &name)),
                    ..Default::default()
                })
                .await
                .expect("create");
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }));
    }
    for w in ws {
        w.await.expect("writer");
    }
    for t in tasks {
        let _ = tokio::time::timeout(Duration::from_secs(120), t).await;
    }
    let mut l = latencies.lock().expect("lock").clone();
    l.sort();
    (pct(&l, 0.5), pct(&l, 0.99), l.len())
}

/// Where an HTTP list's time goes beyond gRPC's: each step of rendering the listed objects
/// as Kubernetes JSON (what `http::object_json` and the list handler do), against gRPC's
/// protobuf encoding, and each side's client decoding; one thread, per whole list.
async fn breakdown(grpc: &ApiClient<Channel>, objects: usize) {
    use prost::Message;
    let list = grpc
        .clone()
        .list(ListRequest {
            resource: "configmaps".into(),
            namespace: NS.into(),
            ..Default::default()
        })
        .await
        .expect("gRPC list")
        .into_inner();
    let info = proto::resource::kind_by_plural("configmaps").expect("configmaps kind");
    let rounds = scale(20).max(3);
    let time = |what: &str, f: &mut dyn FnMut()| {
        let start = Instant::now();
        for _ in 0..rounds {
            f();
        }
        let ms = start.elapsed().as_secs_f64() * 1e3 / rounds as f64;
        println!("  {what:<52} {ms:>7.2} ms per list of {objects}");
    };
    println!("# where an HTTP list's time goes (one thread, per list)");
    time("gRPC: protobuf encode (server)", &mut || {
        std::hint::black_box(list.encode_to_vec());
    });
    let encoded = list.encode_to_vec();
    time("gRPC: protobuf decode (client)", &mut || {
        std::hint::black_box(ListResponse::decode(encoded.as_slice()).expect("decode"));
    });
    // The server renders an object the first time it sends it at a revision (pbjson, the
    // int-or-string presentation, normalize_output, to bytes) and keeps the bytes; a list
    // of objects it has sent before is the concatenation of their bytes.
    time("HTTP: Object::to_json (pbjson to Value)", &mut || {
        for o in &list.items {
            std::hint::black_box(o.to_json());
        }
    });
    let render = |o: &Object| {
        let mut d = proto::manifest::to_document(o);
        proto::schema::normalize_output(info, &mut d);
        serde_json::to_vec(&d).expect("to_vec")
    };
    time("HTTP: render every object (uncached, server)", &mut || {
        for o in &list.items {
            std::hint::black_box(render(o));
        }
    });
    let rendered: Vec<Vec<u8>> = list.items.iter().map(render).collect();
    time(
        "HTTP: the list from rendered objects (cached, server)",
        &mut || {
            let mut out =
                Vec::with_capacity(rendered.iter().map(|r| r.len() + 1).sum::<usize>() + 64);
            out.extend_from_slice(br#"{"apiVersion":"v1","items":["#);
            for (i, r) in rendered.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(r);
            }
            out.extend_from_slice(br#"],"kind":"ConfigMapList","metadata":{}}"#);
            std::hint::black_box(out);
        },
    );
    let documents: Vec<serde_json::Value> = list
        .items
        .iter()
        .map(proto::manifest::to_document)
        .collect();
    let body = serde_json::json!({"kind": "ConfigMapList", "apiVersion": "v1", "items": documents});
    let bytes = serde_json::to_vec(&body).expect("to_vec");
    time(
        "HTTP: serde_json::from_slice to Value (client)",
        &mut || {
            std::hint::black_box(
                serde_json::from_slice::<serde_json::Value>(&bytes).expect("JSON"),
            );
        },
    );
    println!(
        "  sizes: protobuf {} KiB, JSON {} KiB",
        encoded.len() / 1024,
        bytes.len() / 1024
    );
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let dir = tempfile::Builder::new()
            .prefix("http-bench-")
            .tempdir()
            .expect("temp dir");
        let server = apiserver::start(apiserver::Config::for_dir(
            dir.path().join("api"),
            "127.0.0.1:0".parse().expect("addr"),
        ))
        .await
        .expect("apiserver");
        let url = server.url();
        let base = url.trim_end_matches('/').to_string();
        let grpc = grpc_clients(&url).await;
        let hyper = http_clients();
        namespace(&grpc[0], NS).await;
        let collection = Arc::new(format!("{base}/api/v1/namespaces/{NS}/configmaps"));

        println!("# gRPC vs HTTP/JSON API, one in-process apiserver, same run (compare ratios)");
        let n1 = scale(1000);
        let n16 = scale(4000);

        let create_grpc = |prefix: &'static str| {
            let grpc = grpc.clone();
            move |t: usize, i: usize| {
                let mut c = grpc[t % CONNECTIONS].clone();
                async move {
                    c.create(CreateRequest {
                        object: Some(cm(NS, &format!("{prefix}-{i}"))),
                        ..Default::default()
                    })
                    .await
                    .expect("gRPC create");
                }
            }
        };
        let create_http = |prefix: &'static str| {
            let (hyper, collection) = (hyper.clone(), collection.clone());
            move |t: usize, i: usize| {
                let (hyper, collection) = (hyper.clone(), collection.clone());
                async move {
                    let body = cm_json(NS, &format!("{prefix}-{i}"));
                    call(
                        &hyper[t % CONNECTIONS],
                        http::Method::POST,
                        &collection,
                        Some(body),
                        http::StatusCode::CREATED,
                    )
                    .await;
                }
            }
        };
        let g1 = measure(1, n1, create_grpc("g1")).await;
        let h1 = measure(1, n1, create_http("h1")).await;
        let g16 = measure(16, n16, create_grpc("g16")).await;
        let h16 = measure(16, n16, create_http("h16")).await;
        line("create, 1 client", &g1, &h1);
        line("create, 16 clients", &g16, &h16);

        let gets = scale(20000);
        let get_grpc = {
            let grpc = grpc.clone();
            move |t: usize, i: usize| {
                let mut c = grpc[t % CONNECTIONS].clone();
                async move {
                    c.get(GetRequest {
                        resource: "configmaps".into(),
                        namespace: NS.into(),
                        name: format!("g16-{}", i % n16),
                    })
                    .await
                    .expect("gRPC get");
                }
            }
        };
        let get_http = {
            let (hyper, collection) = (hyper.clone(), collection.clone());
            move |t: usize, i: usize| {
                let (hyper, collection) = (hyper.clone(), collection.clone());
                async move {
                    let uri = format!("{collection}/h16-{}", i % n16);
                    call(
                        &hyper[t % CONNECTIONS],
                        http::Method::GET,
                        &uri,
                        None,
                        http::StatusCode::OK,
                    )
                    .await;
                }
            }
        };
        let g = measure(16, gets, get_grpc).await;
        let h = measure(16, gets, get_http).await;
        line("get, 16 clients", &g, &h);

        // Lists of the whole namespace (every object both sides created).
        let objects = 2 * (n1 + n16);
        let lists = scale(20).max(2);
        let list_grpc = {
            let grpc = grpc.clone();
            move |t: usize, _: usize| {
                let mut c = grpc[t % CONNECTIONS].clone();
                async move {
                    let list = c
                        .list(ListRequest {
                            resource: "configmaps".into(),
                            namespace: NS.into(),
                            ..Default::default()
                        })
                        .await
                        .expect("gRPC list")
                        .into_inner();
                    assert_eq!(list.items.len(), objects);
                }
            }
        };
        let list_http = {
            let (hyper, collection) = (hyper.clone(), collection.clone());
            move |t: usize, _: usize| {
                let (hyper, collection) = (hyper.clone(), collection.clone());
                async move {
                    let list = call(
                        &hyper[t % CONNECTIONS],
                        http::Method::GET,
                        &collection,
                        None,
                        http::StatusCode::OK,
                    )
                    .await;
                    assert_eq!(list["items"].as_array().map(Vec::len), Some(objects));
                }
            }
        };
        let list_http_raw = {
            let (hyper, collection) = (hyper.clone(), collection.clone());
            move |t: usize, _: usize| {
                let (hyper, collection) = (hyper.clone(), collection.clone());
                async move {
                    call_raw(
                        &hyper[t % CONNECTIONS],
                        http::Method::GET,
                        &collection,
                        None,
                        http::StatusCode::OK,
                    )
                    .await;
                }
            }
        };
        let g = measure(2, lists, list_grpc).await;
        let h = measure(2, lists, list_http).await;
        let raw = measure(2, lists, list_http_raw).await;
        line(&format!("list {objects}, 2 clients"), &g, &h);
        line("  the same, not decoded", &g, &raw);
        breakdown(&grpc[0], objects).await;

        for watchers in [1, 100] {
            let writes = scale(400).max(4) / 4 * 4;
            let (gp50, gp99, gn) = watch_latency(&url, &base, false, watchers, writes).await;
            let (hp50, hp99, hn) = watch_latency(&url, &base, true, watchers, writes).await;
            println!(
                "watch {watchers:>3} watchers         gRPC p50 {:>6.2} ms p99 {:>6.2} ms ({gn} deliveries) | HTTP p50 {:>6.2} ms p99 {:>6.2} ms ({hn} deliveries)",
                gp50.as_secs_f64() * 1e3,
                gp99.as_secs_f64() * 1e3,
                hp50.as_secs_f64() * 1e3,
                hp99.as_secs_f64() * 1e3,
            );
        }
        server.shutdown().await.expect("shutdown");
    });
}
