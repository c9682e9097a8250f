//! API throughput and watch latency through real gRPC on loopback, against the raw sled
//! baseline with the same durability, measured in the same run so the API layer's cost is
//! a ratio (the machines are noisy; absolute figures move, ratios much less).
//!
//! `cargo bench -p apiserver --bench api` (env BENCH_SCALE=0.2 for a quick run)

mod common;
use common::{cm, pct, scale};

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use proto::Resource;
use proto::k8s::api_client::ApiClient;
use proto::k8s::*;
use tonic::transport::Channel;

async fn channels(url: &str, n: usize) -> Vec<ApiClient<Channel>> {
    let mut out = Vec::new();
    for _ in 0..n {
        let ch = Channel::from_shared(url.to_string())
            .unwrap()
            .connect()
            .await
            .expect("connect");
        out.push(ApiClient::new(ch).max_decoding_message_size(512 << 20));
    }
    out
}

/// Runs `total` operations over `concurrency` tasks; returns operations per second.
async fn run<F, Fut>(clients: &[ApiClient<Channel>], concurrency: usize, total: usize, op: F) -> f64
where
    F: Fn(ApiClient<Channel>, usize) -> Fut + Send + Sync + 'static + Clone,
    Fut: std::future::Future<Output = ()> + Send,
{
    let start = Instant::now();
    let mut tasks = Vec::new();
    for t in 0..concurrency {
        let c = clients[t % clients.len()].clone();
        let op = op.clone();
        tasks.push(tokio::spawn(async move {
            let mut i = t;
            while i < total {
                op(c.clone(), i).await;
                i += concurrency;
            }
        }));
    }
    for t in tasks {
        t.await.expect("bench task");
    }
    total as f64 / start.elapsed().as_secs_f64()
}

async fn watch_latency(url: &str, watchers: usize, writes: usize) -> (Duration, Duration, usize) {
    let ns = format!("watch-{watchers}");
    let mut admin = channels(url, 1).await.remove(0);
    let mut n = Namespace::default();
    n.meta_mut().name = ns.clone();
    admin
        .create(CreateRequest {
            object: Some(n.into_object()),
            dry_run: false,
            ..Default::default()
        })
        .await
        .unwrap();

    let written: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let latencies: Arc<Mutex<Vec<Duration>>> = Arc::default();
    // Spread the watchers over connections, as separate client processes would be.
    let conns = channels(url, watchers.div_ceil(100).max(1)).await;
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel::<()>(watchers);
    let mut tasks = Vec::new();
    for w in 0..watchers {
        let mut c = conns[w % conns.len()].clone();
        let (written, latencies, ready, ns) = (
            written.clone(),
            latencies.clone(),
            ready_tx.clone(),
            ns.clone(),
        );
        tasks.push(tokio::spawn(async move {
            // A thousand watches opened at once by one user overflow its priority level's
            // queues; like client-go, wait the Retry-After the 429 names and ask again.
            let request = WatchRequest {
                resource: "configmaps".into(),
                namespace: ns,
                resource_version: "1".into(),
                ..Default::default()
            };
            let mut stream = loop {
                match c.watch(request.clone()).await {
                    Ok(s) => break s.into_inner(),
                    Err(s) => {
                        let e = proto::ApiError::from_status(&s);
                        assert!(e.is(proto::Reason::TooManyRequests), "watch: {e}");
                        let secs = e.retry_after_seconds.unwrap_or(1);
                        tokio::time::sleep(Duration::from_secs(secs.into())).await;
                    }
                }
            };
            ready.send(()).await.ok();
            let mut got = 0;
            let mut local = Vec::with_capacity(writes);
            while got < writes {
                match tokio::time::timeout(Duration::from_secs(60), stream.next()).await {
                    Ok(Some(Ok(ev))) => {
                        let now = Instant::now();
                        if let Some(o) = ev.object
                            && let Some(t0) = written.lock().unwrap().get(&o.meta().name)
                        {
                            local.push(now - *t0);
                        }
                        got += 1;
                    }
                    _ => break,
                }
            }
            latencies.lock().unwrap().extend(local);
        }));
    }
    for _ in 0..watchers {
        ready_rx.recv().await;
    }
    // Writers: 4 concurrent, paced so the run measures delivery, not a backlog.
    let writer_clients = channels(url, 1).await;
    let per = writes / 4;
    let mut ws = Vec::new();
    for t in 0..4 {
        let mut c = writer_clients[0].clone();
        let (written, ns) = (written.clone(), ns.clone());
        ws.push(tokio::spawn(async move {
            for i in 0..per {
                let name = format!("w{t}-{i}");
                written.lock().unwrap().insert(name.clone(), Instant::now());
                c.create(CreateRequest {
                    object: Some(cm(&ns, &name)),
                    dry_run: false,
                    ..Default::default()
                })
                .await
                .unwrap();
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }));
    }
    for w in ws {
        w.await.unwrap();
    }
    for t in tasks {
        let _ = tokio::time::timeout(Duration::from_secs(120), t).await;
    }
    let mut l = latencies.lock().unwrap().clone();
    l.sort();
    (pct(&l, 0.5), pct(&l, 0.99), l.len())
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let dir = tempfile::Builder::new().prefix("api-bench-").tempdir().unwrap();
        let n_writes = scale(4000);

        println!("# apiserver bench (2-core machine figures are noisy; compare ratios)");
        let raw1 = apiserver::store::sled_store::bench_raw_sled(&dir.path().join("raw1"), 1, scale(1500)).unwrap();
        let raw16 = apiserver::store::sled_store::bench_raw_sled(&dir.path().join("raw16"), 16, n_writes).unwrap();
        println!("raw sled durable writes/s        1 writer: {raw1:>9.0}   16 writers: {raw16:>9.0}");

        let server = apiserver::start(apiserver::Config::for_dir(dir.path().join("api"), "127.0.0.1:0".parse().unwrap()))
            .await
            .unwrap();
        let url = server.url();
        let clients = channels(&url, 4).await;

        let c1 = run(&clients, 1, scale(1500), |mut c, i| async move {
            c.create(CreateRequest { object: Some(cm("default", &format!("seq-{i}"))), dry_run: false, ..Default::default() }).await.unwrap();
        })
        .await;
        let c16 = run(&clients, 16, n_writes, |mut c, i| async move {
            c.create(CreateRequest { object: Some(cm("default", &format!("par-{i}"))), dry_run: false, ..Default::default() }).await.unwrap();
        })
        .await;
        println!(
            "API create/s                      1 client:  {c1:>9.0}   16 clients: {c16:>9.0}   (ratio to raw sled: {:.2} / {:.2})",
            c1 / raw1,
            c16 / raw16
        );
        let u16 = run(&clients, 16, n_writes, |mut c, i| async move {
            let mut o = cm("default", &format!("par-{i}"));
            if let Some(object::Kind::ConfigMap(x)) = &mut o.kind {
                x.data.insert("v".into(), "2".into());
            }
            c.update(UpdateRequest { object: Some(o), subresource: String::new(), dry_run: false, ..Default::default() }).await.unwrap();
        })
        .await;
        println!("API update/s                                 16 clients: {u16:>9.0}   (ratio to raw sled: {:.2})", u16 / raw16);
        let g16 = run(&clients, 16, scale(20000), move |mut c, i| async move {
            c.get(GetRequest { resource: "configmaps".into(), namespace: "default".into(), name: format!("par-{}", i % n_writes) })
                .await
                .unwrap();
        })
        .await;
        println!("API get/s                                    16 clients: {g16:>9.0}");
        let total_objects = n_writes + scale(1500);
        let lists = scale(20);
        let l = run(&clients, 2, lists, |mut c, _| async move {
            c.list(ListRequest { resource: "configmaps".into(), namespace: "default".into(), ..Default::default() }).await.unwrap();
        })
        .await;
        println!("API list of {total_objects} objects/s (2 clients):          {l:>9.1}   ({:.0} objects/s)", l * total_objects as f64);

        for watchers in [1, 100, 1000] {
            let writes = scale(400).max(4) / 4 * 4;
            let (p50, p99, samples) = watch_latency(&url, watchers, writes).await;
            println!(
                "watch delivery write->watcher  {watchers:>4} watchers: p50 {:>7.2} ms  p99 {:>7.2} ms  ({samples} deliveries)",
                p50.as_secs_f64() * 1e3,
                p99.as_secs_f64() * 1e3
            );
        }
        server.shutdown().await.unwrap();
    });
}
