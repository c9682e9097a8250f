//! Scheduling throughput and latency, modelled on Kubernetes' scheduler_perf
//! "SchedulingBasic": N nodes (4 cpu, 32Gi, 110 pods each) and P pods (100m cpu, 500Mi
//! each) created through a real apiserver (in-process, real gRPC on loopback, real sled),
//! scheduled by the real scheduler loop (informers, assume, asynchronous binding, events).
//!
//! Figures per node count:
//! - scheduler: pods bound per second over the run (first pod observed created -> last pod
//!   observed bound) and per-pod latency p50/p99 (creation observed -> binding observed,
//!   both by one watch);
//! - baseline, same run, same load: a binder that makes no decision (round-robin node) in
//!   place of the scheduler: what the apiserver and the pipeline allow. The ratio
//!   scheduler/baseline is the cost of scheduling decisions;
//! - decisions/s of the scheduling loop alone (fake binder, no API), the headroom.
//!
//! `cargo bench -p scheduler --bench scheduling`
//! Env: SCHED_BENCH_PODS (default 10000), SCHED_BENCH_NODES (default "500,1000,5000"),
//! SCHED_BENCH_EVENTS=0 to run the scheduler without writing Events (to see their cost).

use client::{Api, Client, WatchEvent, WatchParams};
use futures::StreamExt;
use futures::future::BoxFuture;
use proto::k8s::{
    Binding, Container, Node, NodeCondition, NodeStatus, ObjectMeta, ObjectReference, Pod, PodSpec,
    ResourceRequirements,
};
use proto::{ApiError, Resource};
use scheduler::config::{FileConfig, build_framework};
use scheduler::report::{ApiReporter, FakeReporter};
use scheduler::scheduler::{Binder, Core, Options};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

const CREATORS: usize = 32;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn node(i: usize) -> Node {
    let mut n = Node::default();
    let name = format!("node-{i:05}");
    n.meta_mut().labels = [
        ("kubernetes.io/hostname".to_string(), name.clone()),
        (
            "topology.kubernetes.io/zone".to_string(),
            format!("zone-{}", i % 10),
        ),
    ]
    .into();
    n.meta_mut().name = name;
    let res: std::collections::BTreeMap<String, String> = [
        ("cpu".to_string(), "4".to_string()),
        ("memory".to_string(), "32Gi".to_string()),
        ("pods".to_string(), "110".to_string()),
    ]
    .into();
    n.status = Some(NodeStatus {
        capacity: res.clone(),
        allocatable: res,
        conditions: vec![NodeCondition {
            r#type: "Ready".into(),
            status: "True".into(),
            ..Default::default()
        }],
        ..Default::default()
    });
    n
}

fn pod(i: usize, scheduler_name: &str) -> Pod {
    let mut p = Pod::default();
    p.meta_mut().name = format!("pod-{i:06}");
    p.meta_mut().namespace = "default".into();
    p.spec = Some(PodSpec {
        scheduler_name: scheduler_name.into(),
        containers: vec![Container {
            name: "pause".into(),
            image: "registry.k8s.io/pause:3.10".into(),
            resources: Some(ResourceRequirements {
                requests: [
                    ("cpu".to_string(), "100m".to_string()),
                    ("memory".to_string(), "500Mi".to_string()),
                ]
                .into(),
                ..Default::default()
            }),
            ..Default::default()
        }],
        ..Default::default()
    });
    p
}

/// Runs `total` calls of `op` over `CREATORS` tasks.
async fn parallel<F, Fut>(total: usize, op: F)
where
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..CREATORS {
        let (op, next) = (op.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    break;
                }
                op(i).await;
            }
        }));
    }
    for t in tasks {
        t.await.expect("worker");
    }
}

/// An apiserver on its own runtime (2 workers), as a separate process would have.
struct Server {
    url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    fn start() -> Server {
        let (url_tx, url_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("apiserver runtime");
            rt.block_on(async move {
                let s = apiserver::testing::TestServer::start().await;
                url_tx.send(s.url.clone()).expect("send url");
                let _ = stop_rx.await;
                s.stop().await;
            });
        });
        let url = url_rx.recv().expect("apiserver started");
        Server {
            url,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A scheduler (or the baseline binder) on its own runtime (2 workers).
struct Component {
    cancel: CancellationToken,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Component {
    fn spawn(f: impl FnOnce(CancellationToken) -> BoxFuture<'static, ()> + Send + 'static) -> Self {
        let cancel = CancellationToken::new();
        let c = cancel.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("component runtime");
            rt.block_on(f(c));
        });
        Component {
            cancel,
            thread: Some(thread),
        }
    }
}

impl Drop for Component {
    fn drop(&mut self) {
        self.cancel.cancel();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn real_scheduler(url: String) -> Component {
    Component::spawn(move |cancel| {
        Box::pin(async move {
            let client = Client::lazy(&url).expect("client");
            let framework = build_framework(&FileConfig::default()).expect("framework");
            if std::env::var("SCHED_BENCH_EVENTS").as_deref() == Ok("0") {
                let reporter = Arc::new(FakeReporter::default());
                scheduler::run(client, framework, Options::default(), reporter, cancel)
                    .await
                    .expect("scheduler runs");
                return;
            }
            let (reporter, task) = ApiReporter::start(
                client.clone(),
                &framework.scheduler_name,
                "bench",
                cancel.clone(),
            );
            scheduler::run(client, framework, Options::default(), reporter, cancel)
                .await
                .expect("scheduler runs");
            let _ = task.await;
        })
    })
}

/// Binds every pending pod of `scheduler_name` to the next node in turn: no decision, no
/// cache, the same binding subresource and concurrency.
fn baseline_binder(url: String, nodes: usize, scheduler_name: &'static str) -> Component {
    Component::spawn(move |cancel| {
        Box::pin(async move {
            let client = Client::lazy(&url).expect("client");
            let pods: Api<Pod> = Api::all(client.clone());
            let mut stream = pods
                .watch(&WatchParams::default())
                .await
                .expect("baseline watch");
            let slots = Arc::new(tokio::sync::Semaphore::new(256));
            let mut n = 0usize;
            loop {
                let ev = tokio::select! {
                    _ = cancel.cancelled() => break,
                    ev = stream.next() => ev,
                };
                let Some(Ok(WatchEvent::Added(p))) = ev else {
                    if ev.is_none() {
                        break;
                    }
                    continue;
                };
                if p.spec.as_ref().map(|s| s.scheduler_name.as_str()) != Some(scheduler_name) {
                    continue;
                }
                let target = format!("node-{:05}", n % nodes);
                n += 1;
                let (client, slots) = (client.clone(), slots.clone());
                tokio::spawn(async move {
                    let _permit = slots.acquire_owned().await;
                    let m = p.meta();
                    let b = Binding {
                        metadata: Some(ObjectMeta {
                            name: m.name.clone(),
                            namespace: m.namespace.clone(),
                            uid: m.uid.clone(),
                            ..Default::default()
                        }),
                        target: Some(ObjectReference {
                            kind: "Node".into(),
                            name: target,
                            ..Default::default()
                        }),
                        ..Default::default()
                    };
                    if let Err(e) = client.bind(b).await {
                        eprintln!("baseline bind failed: {e}");
                    }
                });
            }
        })
    })
}

#[derive(Default)]
struct Observed {
    created: HashMap<String, Instant>,
    bound: HashMap<String, Instant>,
}

/// Watches pods and stamps when each is first seen and first seen bound.
async fn observe(
    client: Client,
    obs: Arc<Mutex<Observed>>,
    done: Arc<tokio::sync::Notify>,
    want: usize,
) {
    let pods: Api<Pod> = Api::all(client);
    let mut rv = String::new();
    loop {
        let mut stream = match pods
            .watch(&WatchParams {
                resource_version: rv.clone(),
                ..Default::default()
            })
            .await
        {
            Ok(s) => s,
            Err(e) => {
                eprintln!("observer watch: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        while let Some(ev) = stream.next().await {
            let now = Instant::now();
            let p = match ev {
                Ok(WatchEvent::Added(p) | WatchEvent::Modified(p)) => p,
                Ok(_) => continue,
                Err(e) => {
                    eprintln!("observer watch ended: {e}");
                    break;
                }
            };
            rv = p.meta().resource_version.clone();
            let name = p.meta().name.clone();
            let mut o = obs.lock().expect("observed");
            o.created.entry(name.clone()).or_insert(now);
            if p.spec.as_ref().is_some_and(|s| !s.node_name.is_empty()) {
                o.bound.entry(name).or_insert(now);
                if o.bound.len() >= want {
                    done.notify_one();
                    return;
                }
            }
        }
    }
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

struct Run {
    pods_per_sec: f64,
    p50: Duration,
    p99: Duration,
    create_per_sec: f64,
}

/// One phase: fresh apiserver, `nodes` nodes, the component, `pods` pods; waits until all
/// are bound.
async fn phase(
    nodes: usize,
    pods: usize,
    scheduler_name: &'static str,
    component: impl FnOnce(String) -> Component,
) -> Run {
    let server = Server::start();
    let client = Client::connect(&server.url).await.expect("connect");
    let api: Api<Node> = Api::all(client.clone());
    parallel(nodes, move |i| {
        let api = api.clone();
        async move {
            api.create(&node(i)).await.expect("create node");
        }
    })
    .await;
    let comp = component(server.url.clone());
    // Let the component list and start watching.
    tokio::time::sleep(Duration::from_millis(1500)).await;

    let obs = Arc::new(Mutex::new(Observed::default()));
    let done = Arc::new(tokio::sync::Notify::new());
    let watcher = tokio::spawn(observe(client.clone(), obs.clone(), done.clone(), pods));
    tokio::time::sleep(Duration::from_millis(200)).await;

    let start = Instant::now();
    let pod_api: Api<Pod> = Api::namespaced(client.clone(), "default");
    parallel(pods, move |i| {
        let api = pod_api.clone();
        async move {
            api.create(&pod(i, scheduler_name))
                .await
                .expect("create pod");
        }
    })
    .await;
    let create_per_sec = pods as f64 / start.elapsed().as_secs_f64();
    let timeout = Duration::from_secs(300);
    if tokio::time::timeout(timeout, done.notified())
        .await
        .is_err()
    {
        let o = obs.lock().expect("observed");
        panic!(
            "only {}/{} pods bound after {timeout:?}",
            o.bound.len(),
            pods
        );
    }
    watcher.abort();
    drop(comp);
    drop(server);
    let o = obs.lock().expect("observed");
    let first = o.created.values().min().copied().unwrap_or(start);
    let last = o.bound.values().max().copied().unwrap_or(start);
    let mut lat: Vec<Duration> = o
        .bound
        .iter()
        .filter_map(|(k, b)| o.created.get(k).map(|c| b.saturating_duration_since(*c)))
        .collect();
    lat.sort();
    Run {
        pods_per_sec: o.bound.len() as f64 / last.duration_since(first).as_secs_f64(),
        p50: pct(&lat, 0.5),
        p99: pct(&lat, 0.99),
        create_per_sec,
    }
}

/// The scheduling loop alone: decisions per second with a binder that succeeds at once.
async fn decisions_per_sec(nodes: usize, pods: usize) -> f64 {
    struct Instant_;
    impl Binder for Instant_ {
        fn bind(&self, _: &Pod, _: &str) -> BoxFuture<'static, Result<(), ApiError>> {
            Box::pin(async { Ok(()) })
        }
        fn preempt(
            &self,
            _: &Pod,
            _: &str,
            _: Vec<Arc<Pod>>,
        ) -> BoxFuture<'static, Result<(), ApiError>> {
            Box::pin(async { Ok(()) })
        }
    }
    let fw = Arc::new(build_framework(&FileConfig::default()).expect("framework"));
    let mut core = Core::new(
        fw,
        &Options::default(),
        client::Store::new(),
        Arc::new(Instant_),
        Arc::new(FakeReporter::default()),
    );
    for i in 0..nodes {
        core.on_node(client::InformerEvent::Added(Arc::new(node(i))));
    }
    for i in 0..pods {
        let mut p = pod(i, "default-scheduler");
        p.meta_mut().uid = format!("uid-{i}");
        core.on_pod(client::InformerEvent::Added(Arc::new(p)));
    }
    let start = Instant::now();
    let mut n = 0;
    while core.schedule_one() {
        n += 1;
        if n % 1000 == 0 {
            core.drain_binds();
        }
    }
    let secs = start.elapsed().as_secs_f64();
    core.finish_binds(Duration::from_secs(10)).await;
    assert_eq!(n, pods, "every pod scheduled");
    n as f64 / secs
}

fn main() {
    let pods = env_usize("SCHED_BENCH_PODS", 10_000);
    let node_counts: Vec<usize> = std::env::var("SCHED_BENCH_NODES")
        .unwrap_or_else(|_| "500,1000,5000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    println!(
        "# SchedulingBasic-style: nodes 4cpu/32Gi/110 pods, {pods} pods of 100m/500Mi, created by {CREATORS} clients"
    );
    println!("# throughput = pods bound / (first creation observed .. last binding observed)");
    println!(
        "# scheduler writes events: {}",
        std::env::var("SCHED_BENCH_EVENTS").as_deref() != Ok("0")
    );
    println!(
        "{:>6} {:>12} {:>10} {:>10} {:>12} {:>10} {:>10} {:>7} {:>13}",
        "nodes",
        "sched pod/s",
        "p50",
        "p99",
        "base pod/s",
        "base p50",
        "base p99",
        "ratio",
        "decisions/s"
    );
    rt.block_on(async {
        for &n in &node_counts {
            let base = phase(n, pods, "baseline-binder", move |url| {
                baseline_binder(url, n, "baseline-binder")
            })
            .await;
            let sched = phase(n, pods, "default-scheduler", real_scheduler).await;
            let dps = decisions_per_sec(n, pods).await;
            println!(
                "{:>6} {:>12.0} {:>10.1?} {:>10.1?} {:>12.0} {:>10.1?} {:>10.1?} {:>7.2} {:>13.0}",
                n,
                sched.pods_per_sec,
                sched.p50,
                sched.p99,
                base.pods_per_sec,
                base.p50,
                base.p99,
                sched.pods_per_sec / base.pods_per_sec,
                dps
            );
            println!(
                "       (pod creation rate: {:.0}/s with the scheduler, {:.0}/s with the baseline)",
                sched.create_per_sec, base.create_per_sec
            );
        }
    });
}
