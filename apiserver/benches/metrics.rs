//! What the apiserver's metrics cost (issue 23's target: under 3%): the same calls against
//! two in-process apiservers of one run, one counting (request layer, watch events, timed
//! store) and one built without (`Config::metrics = false`), in rounds that alternate which
//! goes first so the machine's drift hits both alike. Overhead = 1 - with/without, from
//! the calls summed over the rounds.
//!
//! `cargo bench -p apiserver --bench metrics` (env BENCH_SCALE=0.2 for a quick run,
//! BENCH_ONLY=get for the loads whose name contains "get")

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
    grpc: Arc<Vec<ApiClient<Channel>>>,
    http: Arc<Vec<Http>>,
    base: Arc<String>,
    /// The server's runtime thread (its requests are served there), by its Linux tid.
    tid: u64,
    stop: tokio::sync::oneshot::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

/// Nanoseconds thread `tid` of this process has run (`/proc/.../schedstat`): what the
/// server spent, apart from the clients and the other servers on the same cores.
fn cpu_ns(tid: u64) -> u64 {
    std::fs::read_to_string(format!("/proc/self/task/{tid}/schedstat"))
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .expect("schedstat")
}

/// An apiserver on a runtime of one thread of its own, so that its CPU time can be read.
async fn side(name: &'static str, dir: &std::path::Path, metrics: bool) -> Side {
    let mut config =
        apiserver::Config::for_dir(dir.join(name), "127.0.0.1:0".parse().expect("addr"));
    config.metrics = metrics;
    let (started_tx, started_rx) = tokio::sync::oneshot::channel();
    let (stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("server runtime");
        rt.block_on(async move {
            let server = apiserver::start(config).await.expect("apiserver");
            let tid: u64 = std::fs::read_to_string("/proc/thread-self/stat")
                .ok()
                .and_then(|s| s.split_whitespace().next()?.parse().ok())
                .expect("own tid");
            let _ = started_tx.send((server.url(), tid));
            let _ = stop_rx.await;
            server.shutdown().await.expect("shutdown");
        });
    });
    let (url, tid) = started_rx.await.expect("server started");
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
        grpc: Arc::new(grpc),
        http: Arc::new(http),
        base: Arc::new(url.trim_end_matches('/').to_string()),
        tid,
        stop,
        thread,
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

/// The calls' figures, and the server's CPU nanoseconds per call.
async fn run(side: &Side, load: Load, round: usize, total: usize) -> (Figures, f64) {
    let (grpc, http, base) = (side.grpc.clone(), side.http.clone(), side.base.clone());
    let cpu = cpu_ns(side.tid);
    let figures = measure(CONCURRENCY, total, move |t, i| {
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
    .await;
    (figures, (cpu_ns(side.tid) - cpu) as f64 / total as f64)
}

/// What `apiserver_storage_objects` costs at start: one pass over the stored keys (after
/// that, creates and deletes keep the counts).
async fn count_at_start(dir: &std::path::Path) {
    use apiserver::metrics::storage::Instrumented;
    use apiserver::store::Store;
    use apiserver::store::sled_store::{SledOptions, SledStore};
    let n = scale(20000);
    let path = dir.join("count");
    let store = Arc::new(SledStore::open(&path, SledOptions::default()).expect("sled"));
    let value = Bytes::from(vec![b'x'; 1024]);
    let writer = store.clone();
    measure(CONCURRENCY, n, move |_, i| {
        let (s, v) = (writer.clone(), value.clone());
        async move {
            s.create(&format!("/registry/configmaps/ns{}/obj-{i}", i % 10), v)
                .await
                .expect("write");
        }
    })
    .await;
    let store = Arc::into_inner(store).expect("one owner");
    let counted = Instrumented::new(store, true);
    let start = std::time::Instant::now();
    counted.count_objects().await.expect("count");
    println!(
        "apiserver_storage_objects at start: {n} objects counted in {:.1} ms",
        start.elapsed().as_secs_f64() * 1e3
    );
    counted.close().await.expect("close");
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
        let dir = tempfile::Builder::new()
            .prefix("metrics-bench-")
            .tempdir()
            .expect("temp dir");
        // The control is a second server without metrics: how far two identical servers
        // of this run differ is the noise floor of the comparison.
        let sides = [
            side("without", dir.path(), false).await,
            side("with", dir.path(), true).await,
            side("control", dir.path(), false).await,
        ];
        let rounds = 8;
        println!(
            "# apiserver metrics overhead: the same calls against servers with and without metrics, and a second one without (the control), {rounds} rounds rotating the order; each server on a runtime thread of its own, whose CPU time per call is the figure (throughput moves with whatever else this machine runs)"
        );
        // BENCH_ONLY=get: only the loads whose name contains it (a callgrind run of one).
        let only = std::env::var("BENCH_ONLY").unwrap_or_default();
        for (load, what) in LOADS.into_iter().filter(|(_, w)| w.contains(only.as_str())) {
            let total = match load {
                Load::GrpcCreate => scale(1000),
                _ => scale(4000),
            };
            let mut rates: [Vec<f64>; 3] = Default::default();
            let mut cpu: [Vec<f64>; 3] = Default::default();
            for round in 0..rounds {
                for k in 0..3 {
                    let i = (round + k) % 3;
                    let (f, ns) = run(&sides[i], load, round * 3 + i, total).await;
                    rates[i].push(f.per_second);
                    cpu[i].push(ns);
                }
            }
            let median = |v: &[f64]| {
                let mut v = v.to_vec();
                v.sort_by(f64::total_cmp);
                v[v.len() / 2]
            };
            let [off, on, control] = [median(&cpu[0]), median(&cpu[1]), median(&cpu[2])];
            println!(
                "{what:<24} server CPU/call: without {:>6.1} us  with {:>6.1} us  control {:>6.1} us | with/without {:.3} (overhead {:+.1}%), control/without {:.3} | calls/s without {:.0} with {:.0}",
                off / 1e3,
                on / 1e3,
                control / 1e3,
                on / off,
                (on / off - 1.0) * 100.0,
                control / off,
                median(&rates[0]),
                median(&rates[1]),
            );
        }
        for side in sides {
            let _ = side.stop.send(());
            tokio::task::spawn_blocking(move || side.thread.join().expect("server thread"))
                .await
                .expect("join");
        }
        count_at_start(dir.path()).await;
    });
}
