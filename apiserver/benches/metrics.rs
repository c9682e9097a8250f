//! What the apiserver's metrics cost (issue 23's target: under 3%): the same calls against
//! two in-process apiservers of one run, one counting (request layer, watch events, timed
//! store) and one built without (`Config::metrics = false`), in rounds that alternate which
//! goes first so the machine's drift hits both alike. Overhead = 1 - with/without, from
//! the calls summed over the rounds.
//!
//! `cargo bench -p apiserver --bench metrics` (env BENCH_SCALE=0.2 for a quick run)

mod common;
use common::{Figures, cm, measure, scale};

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use proto::Resource;
use proto::k8s::api_client::ApiClient;
use proto::k8s::*;
use tonic::transport::Channel;

const NS: &str = "bench";
const CONNECTIONS: usize = 4;
const CONCURRENCY: usize = 16;
/// Objects each server holds for the gets, and the small namespace the lists read.
const OBJECTS: usize = 500;
const LISTED: usize = 20;

type Http = HyperClient<HttpConnector, Full<Bytes>>;

struct Side {
    name: &'static str,
    grpc: Arc<Vec<ApiClient<Channel>>>,
    http: Arc<Vec<Http>>,
    base: Arc<String>,
    server: apiserver::RunningServer,
}

async fn side(name: &'static str, dir: &std::path::Path, metrics: bool) -> Side {
    let mut config =
        apiserver::Config::for_dir(dir.join(name), "127.0.0.1:0".parse().expect("addr"));
    config.metrics = metrics;
    let server = apiserver::start(config).await.expect("apiserver");
    let url = server.url();
    let mut grpc = Vec::new();
    for _ in 0..CONNECTIONS {
        let ch = Channel::from_shared(url.clone())
            .expect("url")
            .connect()
            .await
            .expect("connect");
        grpc.push(ApiClient::new(ch).max_decoding_message_size(512 << 20));
    }
    let http = (0..CONNECTIONS)
        .map(|_| {
            let mut connector = HttpConnector::new();
            connector.set_nodelay(true);
            HyperClient::builder(TokioExecutor::new())
                .http2_only(true)
                .build(connector)
        })
        .collect();
    let side = Side {
        name,
        grpc: Arc::new(grpc),
        http: Arc::new(http),
        base: Arc::new(url.trim_end_matches('/').to_string()),
        server,
    };
    for ns in [NS, "small"] {
        let mut n = Namespace::default();
        n.meta_mut().name = ns.into();
        side.grpc[0]
            .clone()
            .create(CreateRequest {
                object: Some(n.into_object()),
                ..Default::default()
            })
            .await
            .expect("namespace");
    }
    let grpc = side.grpc.clone();
    measure(CONCURRENCY, OBJECTS, move |t, i| {
        let mut c = grpc[t % CONNECTIONS].clone();
        async move {
            c.create(CreateRequest {
                object: Some(cm(NS, &format!("obj-{i}"))),
                ..Default::default()
            })
            .await
            .expect("seed");
        }
    })
    .await;
    for i in 0..LISTED {
        side.grpc[0]
            .clone()
            .create(CreateRequest {
                object: Some(cm("small", &format!("obj-{i}"))),
                ..Default::default()
            })
            .await
            .expect("seed");
    }
    side
}

#[derive(Clone, Copy)]
enum Load {
    GrpcGet,
    GrpcCreate,
    GrpcList,
    HttpGet,
    HttpList,
}

const LOADS: [(Load, &str); 5] = [
    (Load::GrpcGet, "gRPC get"),
    (Load::GrpcCreate, "gRPC create"),
    (Load::GrpcList, "gRPC list (20 objects)"),
    (Load::HttpGet, "HTTP get"),
    (Load::HttpList, "HTTP list (20 objects)"),
];

async fn run(side: &Side, load: Load, round: usize, total: usize) -> Figures {
    let (grpc, http, base) = (side.grpc.clone(), side.http.clone(), side.base.clone());
    measure(CONCURRENCY, total, move |t, i| {
        let (mut c, h, base) = (
            grpc[t % CONNECTIONS].clone(),
            http[t % CONNECTIONS].clone(),
            base.clone(),
        );
        async move {
            match load {
                Load::GrpcGet => {
                    c.get(GetRequest {
                        resource: "configmaps".into(),
                        namespace: NS.into(),
                        name: format!("obj-{}", i % OBJECTS),
                    })
                    .await
                    .expect("get");
                }
                Load::GrpcCreate => {
                    c.create(CreateRequest {
                        object: Some(cm(NS, &format!("r{round}-{i}"))),
                        ..Default::default()
                    })
                    .await
                    .expect("create");
                }
                Load::GrpcList => {
                    c.list(ListRequest {
                        resource: "configmaps".into(),
                        namespace: "small".into(),
                        ..Default::default()
                    })
                    .await
                    .expect("list");
                }
                Load::HttpGet => {
                    http_get(
                        &h,
                        &format!(
                            "{base}/api/v1/namespaces/{NS}/configmaps/obj-{}",
                            i % OBJECTS
                        ),
                    )
                    .await
                }
                Load::HttpList => {
                    http_get(&h, &format!("{base}/api/v1/namespaces/small/configmaps")).await
                }
            }
        }
    })
    .await
}

async fn http_get(client: &Http, uri: &str) {
    let request = http::Request::get(uri)
        .header(http::header::ACCEPT, "application/json")
        .body(Full::new(Bytes::new()))
        .expect("request");
    let response = client.request(request).await.expect("HTTP call");
    assert_eq!(response.status(), http::StatusCode::OK, "{uri}");
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    // Decoded, as every real client does with what it gets.
    let _: serde_json::Value = serde_json::from_slice(&bytes).expect("JSON");
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let dir = tempfile::Builder::new().prefix("metrics-bench-").tempdir().expect("temp dir");
        let without = side("without", dir.path(), false).await;
        let with = side("with", dir.path(), true).await;
        let rounds = 6;
        println!("# apiserver metrics overhead: the same calls with and without metrics, {rounds} alternating rounds");
        for (load, what) in LOADS {
            let total = match load {
                Load::GrpcCreate => scale(1500),
                _ => scale(6000),
            };
            let (mut off, mut on) = (Vec::new(), Vec::new());
            for round in 0..rounds {
                let order = if round % 2 == 0 { [&without, &with] } else { [&with, &without] };
                for side in order {
                    let f = run(side, load, round, total).await;
                    if side.name == "with" { on.push(f) } else { off.push(f) }
                }
            }
            let rate = |v: &[Figures]| v.iter().map(|f| f.per_second).sum::<f64>() / v.len() as f64;
            let p50 = |v: &[Figures]| {
                let mut p: Vec<f64> = v.iter().map(|f| f.p50.as_secs_f64() * 1e3).collect();
                p.sort_by(f64::total_cmp);
                p[p.len() / 2]
            };
            let (r_off, r_on) = (rate(&off), rate(&on));
            println!(
                "{what:<24} without {r_off:>8.0}/s p50 {:>6.3} ms | with {r_on:>8.0}/s p50 {:>6.3} ms | with/without {:.3} (overhead {:+.1}%)",
                p50(&off),
                p50(&on),
                r_on / r_off,
                (1.0 - r_on / r_off) * 100.0
            );
        }
        with.server.shutdown().await.expect("shutdown");
        without.server.shutdown().await.expect("shutdown");
    });
}
