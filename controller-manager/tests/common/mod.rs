//! Test harness for controller tests: an in-process apiserver (real gRPC, real sled on a
//! temp dir), the controller-manager's controllers started in-process, fake Ready nodes, and
//! a fake kubelet that schedules pods round-robin onto the fake nodes, marks them
//! Running + Ready with a pod IP through the status subresource, finishes graceful deletes,
//! and renews node Leases. Knobs: keep a pod not ready, delay readiness, stop a node (no
//! heartbeats, pods left alone), make the controllers' cache lag behind their writes.
//!
//! Use from a test file with `mod common;` (and `#[path = "../tests/common/mod.rs"] mod
//! common;` from a bench). Not every test uses every helper.
#![allow(dead_code)]

use apiserver::testing::TestServer;
use client::runtime::ReconcileObserver;
use client::store::key_of;
use client::{Api, Client, DeleteParams, Informer, InformerConfig, InformerEvent, WorkQueue};
use controller_manager::{Config, Context, RunningControllers};
use proto::Resource;
use proto::k8s::{
    Binding, Lease, LeaseSpec, Namespace, Node, NodeAddress, NodeCondition, NodeStatus,
    ObjectReference, Pod, PodCondition, PodIp, PodStatus,
};
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Logs to the test's output when `RUST_LOG` is set.
pub fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}

/// A change to the controller-manager's flags.
type Configure = Box<dyn FnOnce(&mut Config) + Send>;

pub struct ClusterBuilder {
    nodes: usize,
    controllers: Vec<String>,
    kubelet: bool,
    scheduler: bool,
    informer_delay: Option<Duration>,
    ready_delay: Duration,
    heartbeat: Option<Duration>,
    clock: Option<client::FakeClock>,
    configure: Vec<Configure>,
}

impl ClusterBuilder {
    /// Fake nodes `node-0` .. `node-{n-1}` (default 3).
    pub fn nodes(mut self, n: usize) -> Self {
        self.nodes = n;
        self
    }
    /// Controllers to start (names as `--controllers`); none by default.
    pub fn controllers(mut self, names: &[&str]) -> Self {
        self.controllers = names.iter().map(|s| s.to_string()).collect();
        self
    }
    /// Without the fake kubelet (pods stay Pending and unscheduled).
    pub fn no_kubelet(mut self) -> Self {
        self.kubelet = false;
        self
    }
    /// The fake kubelet leaves scheduling to someone else (it still runs bound pods).
    pub fn no_scheduler(mut self) -> Self {
        self.scheduler = false;
        self
    }
    /// The controllers' informers see every change this much later than it happens
    /// (their list/watch connection goes through a delaying proxy; writes do not).
    pub fn informer_delay(mut self, d: Duration) -> Self {
        self.informer_delay = Some(d);
        self
    }
    /// The fake kubelet reports a bound pod Running + Ready this long after binding.
    pub fn ready_delay(mut self, d: Duration) -> Self {
        self.ready_delay = d;
        self
    }
    /// The fake kubelet renews each node's Lease (kube-node-lease) this often.
    pub fn heartbeat(mut self, every: Duration) -> Self {
        self.heartbeat = Some(every);
        self
    }
    /// The controllers read wall time from this clock (`ctx.clock`) instead of the
    /// machine's, so a test moves it rather than sleeping. Only the controllers: the fake
    /// kubelet and the apiserver still stamp real time.
    pub fn clock(mut self, clock: client::FakeClock) -> Self {
        self.clock = Some(clock);
        self
    }
    /// Changes controller-manager flags.
    pub fn configure(mut self, f: impl FnOnce(&mut Config) + Send + 'static) -> Self {
        self.configure.push(Box::new(f));
        self
    }

    pub async fn start(self) -> Cluster {
        init_tracing();
        let server = TestServer::start().await;
        let client = Client::connect(&server.url)
            .await
            .expect("connect to the test apiserver");
        let nodes: Vec<String> = (0..self.nodes).map(|i| format!("node-{i}")).collect();
        for (i, n) in nodes.iter().enumerate() {
            create_node(&client, n, i).await;
        }
        let kubelet = self.kubelet.then(|| {
            FakeKubelet::start(
                client.clone(),
                nodes.clone(),
                self.scheduler,
                self.ready_delay,
                self.heartbeat,
            )
        });
        let mut config = Config {
            server: server.url.clone(),
            leader_election: client::daemon::LeaderElectionFlags::disabled(),
            controllers: self.controllers.clone(),
            ..Default::default()
        };
        for f in self.configure {
            f(&mut config);
        }
        let proxy = match self.informer_delay {
            Some(d) => Some(DelayProxy::start(server.addr(), d).await),
            None => None,
        };
        let reconciles = ReconcileObserver::new();
        let mut ctx = Context::new(client.clone(), Arc::new(config))
            .with_reconcile_observer(reconciles.clone());
        if let Some(clock) = self.clock {
            ctx = ctx.with_clock(Arc::new(clock));
        }
        if let Some(p) = &proxy {
            ctx = ctx.with_informer_client(Client::lazy(&p.url).expect("proxy client"));
        }
        let ctx = Arc::new(ctx);
        let controllers = if self.controllers.is_empty() {
            None
        } else {
            Some(controller_manager::start_controllers(ctx.clone()).expect("controllers start"))
        };
        Cluster {
            client,
            nodes,
            kubelet,
            ctx,
            reconciles,
            controllers,
            _proxy: proxy,
            server,
        }
    }
}

pub struct Cluster {
    pub client: Client,
    /// Names of the fake nodes.
    pub nodes: Vec<String>,
    pub kubelet: Option<FakeKubelet>,
    pub ctx: Arc<Context>,
    /// Finished reconciles per controller and key (`reconciles`, `reconciled`).
    pub reconciles: ReconcileObserver,
    controllers: Option<RunningControllers>,
    _proxy: Option<DelayProxy>,
    pub server: TestServer,
}

impl Cluster {
    pub fn builder() -> ClusterBuilder {
        ClusterBuilder {
            nodes: 3,
            controllers: Vec::new(),
            kubelet: true,
            scheduler: true,
            informer_delay: None,
            ready_delay: Duration::ZERO,
            heartbeat: None,
            clock: None,
            configure: Vec::new(),
        }
    }

    /// 3 nodes, the fake kubelet, and these controllers.
    pub async fn start(controllers: &[&str]) -> Cluster {
        Self::builder().controllers(controllers).start().await
    }

    pub fn api<K: Resource>(&self, namespace: &str) -> Api<K> {
        Api::namespaced(self.client.clone(), namespace)
    }

    pub fn kubelet(&self) -> &FakeKubelet {
        self.kubelet
            .as_ref()
            .expect("cluster started with the fake kubelet")
    }

    /// Creates a namespace.
    pub async fn namespace(&self, name: &str) {
        let mut ns = Namespace::default();
        ns.meta_mut().name = name.into();
        Api::<Namespace>::all(self.client.clone())
            .create(&ns)
            .await
            .expect("create namespace");
    }

    /// Creates one more Ready fake node (the kubelet serves it too).
    pub async fn add_node(&mut self, name: &str) {
        create_node(&self.client, name, self.nodes.len()).await;
        self.nodes.push(name.to_string());
        if let Some(k) = &self.kubelet {
            k.add_node(name);
        }
    }

    /// Creates a typed object from a YAML manifest.
    pub async fn apply_yaml<K: Resource>(&self, yaml: &str) -> K {
        let docs = proto::manifest::load_documents(yaml).expect("manifest parses");
        let first = docs.into_iter().next().expect("one document");
        let obj =
            K::try_from_object(first).unwrap_or_else(|_| panic!("manifest is a {}", K::INFO.kind));
        self.api::<K>(&obj.meta().namespace.clone())
            .create(&obj)
            .await
            .expect("create from manifest")
    }

    /// How many reconciles of `key` `controller` has finished: take it before a change,
    /// then `reconciled(controller, key, before)` once the change is made.
    pub fn reconciles(&self, controller: &'static str, key: &str) -> u64 {
        self.reconciles.count(controller, key)
    }

    /// Waits until `controller` has finished reconciling `key` after the first `before`
    /// reconciles, so that a following "nothing happened" assertion is about a controller
    /// that looked; panics after 10 s.
    pub async fn reconciled(&self, controller: &'static str, key: &str, before: u64) {
        let limit = Duration::from_secs(10);
        if tokio::time::timeout(
            limit,
            self.reconciles.wait_reconciled(controller, key, before),
        )
        .await
        .is_err()
        {
            panic!("{controller} did not reconcile {key} within {limit:?}");
        }
    }

    /// The bound for "nothing happened": after a change to a `K`, waits until the
    /// controllers' shared cache of `K` shows it (`seen`) and every handler has had the
    /// event, then until `controller` has finished a reconcile of `key` beyond the first
    /// `before` (take it with `reconciles` before the change) and its queue is idle, so
    /// whatever the change made it do is done. Panics after 10 s.
    pub async fn settled<K: Resource>(
        &self,
        controller: &'static str,
        key: &str,
        before: u64,
        seen: impl Fn(&client::Store<K>) -> bool,
    ) {
        self.quiet(controller, key, before, seen, false).await
    }

    /// As `settled`, and until no key of `controller` waits out a delay either (a
    /// back-off's next attempt included). Only for a controller with no periodic requeue.
    pub async fn drained<K: Resource>(
        &self,
        controller: &'static str,
        key: &str,
        before: u64,
        seen: impl Fn(&client::Store<K>) -> bool,
    ) {
        self.quiet(controller, key, before, seen, true).await
    }

    async fn quiet<K: Resource>(
        &self,
        controller: &'static str,
        key: &str,
        before: u64,
        seen: impl Fn(&client::Store<K>) -> bool,
        drained: bool,
    ) {
        let informer = self.ctx.informer::<K>();
        let store = informer.store();
        wait_for(
            "the change in the controllers' cache",
            Duration::from_secs(10),
            || {
                let ok = seen(&store);
                async move { ok.then_some(()) }
            },
        )
        .await;
        // The store changes and the handlers run under one lock: once we hold it, the
        // event that made `seen` true has been handed to every handler (keys enqueued).
        let _ = informer.handler_count();
        let limit = Duration::from_secs(10);
        let obs = &self.reconciles;
        let wait = async {
            if drained {
                obs.wait_drained(controller, key, before).await
            } else {
                obs.wait_settled(controller, key, before).await
            }
        };
        if tokio::time::timeout(limit, wait).await.is_err() {
            panic!("{controller} did not reconcile {key} and go quiet within {limit:?}");
        }
    }

    /// Stops the controllers (draining reconciles) and the kubelet.
    pub async fn stop(mut self) {
        if let Some(c) = self.controllers.take() {
            c.stop(Duration::from_secs(5)).await;
        }
        self.ctx.stop_informers();
        if let Some(k) = self.kubelet.take() {
            k.stop();
        }
    }
}

/// Polls `check` every 50 ms until it returns `Some`, or panics with `what` after
/// `timeout`.
pub async fn wait_for<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        if Instant::now() > deadline {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A pod of no app under test, for a watcher to see after every earlier event (watch
/// events come in order): proof that it has caught up.
pub fn marker_pod(namespace: &str, name: &str) -> Pod {
    let mut p = Pod::default();
    p.meta_mut().name = name.into();
    p.meta_mut().namespace = namespace.into();
    p.meta_mut().labels.insert("app".into(), "marker".into());
    p.spec = Some(proto::k8s::PodSpec {
        containers: vec![proto::k8s::Container {
            name: "c".into(),
            image: "busybox".into(),
            ..Default::default()
        }],
        ..Default::default()
    });
    p
}

/// For `Cluster::settled`: the cache holds `key` at resourceVersion `rv`.
pub fn at_rv<K: Resource>(key: &str, rv: &str) -> impl Fn(&client::Store<K>) -> bool {
    let (key, rv) = (key.to_string(), rv.to_string());
    move |s| s.get(&key).is_some_and(|o| o.meta().resource_version == rv)
}

/// For `Cluster::settled`: the cache holds `key` at `rv` or later (revisions are one
/// counter; use when the controller itself may write the object again before a poll).
pub fn since_rv<K: Resource>(key: &str, rv: &str) -> impl Fn(&client::Store<K>) -> bool {
    let key = key.to_string();
    let rv: u64 = rv.parse().expect("numeric resourceVersion");
    move |s| {
        s.get(&key).is_some_and(|o| {
            o.meta()
                .resource_version
                .parse::<u64>()
                .is_ok_and(|v| v >= rv)
        })
    }
}

/// For `Cluster::settled`: the cache holds `key` (any version).
pub fn cached<K: Resource>(key: &str) -> impl Fn(&client::Store<K>) -> bool {
    let key = key.to_string();
    move |s| s.get(&key).is_some()
}

/// All pods in a namespace matching a label selector (e.g. `app=web`).
pub async fn list_pods(client: &Client, namespace: &str, selector: &str) -> Vec<Pod> {
    Api::<Pod>::namespaced(client.clone(), namespace)
        .list(&client::ListParams::labels(selector))
        .await
        .expect("list pods")
        .items
}

pub fn is_ready(p: &Pod) -> bool {
    p.status.as_ref().is_some_and(|s| {
        s.conditions
            .iter()
            .any(|c| c.r#type == "Ready" && c.status == "True")
    })
}

pub fn is_terminating(p: &Pod) -> bool {
    !p.meta().deletion_timestamp.is_empty()
}

async fn create_node(client: &Client, name: &str, index: usize) {
    let mut node = Node {
        status: Some(NodeStatus {
            capacity: [
                ("cpu".to_string(), "64".to_string()),
                ("memory".to_string(), "256Gi".to_string()),
                ("pods".to_string(), "1000".to_string()),
            ]
            .into(),
            conditions: vec![NodeCondition {
                r#type: "Ready".into(),
                status: "True".into(),
                last_heartbeat_time: proto::time::now_rfc3339(),
                last_transition_time: proto::time::now_rfc3339(),
                reason: "KubeletReady".into(),
                message: "fake kubelet is posting ready status".into(),
            }],
            addresses: vec![NodeAddress {
                r#type: "InternalIP".into(),
                address: format!("192.0.2.{}", index % 250 + 1),
            }],
            ..Default::default()
        }),
        ..Default::default()
    };
    node.meta_mut().name = name.into();
    node.meta_mut()
        .labels
        .insert("kubernetes.io/hostname".into(), name.into());
    Api::<Node>::all(client.clone())
        .create(&node)
        .await
        .expect("create fake node");
}

#[derive(Default)]
struct Knobs {
    nodes: Vec<String>,
    /// Pods (by name) reported Running but not Ready.
    not_ready: HashSet<String>,
    /// Nodes whose kubelet is "down": no heartbeats, pods on them untouched.
    stopped: HashSet<String>,
    ready_delay: Duration,
    next_node: usize,
    /// When each pod was bound (by key), to apply `ready_delay`.
    bound_at: HashMap<String, Instant>,
    next_ip: u32,
}

/// The fake kubelet (and, unless disabled, a round-robin scheduler) for every fake node.
pub struct FakeKubelet {
    client: Client,
    knobs: Arc<Mutex<Knobs>>,
    informer: Arc<Informer<Pod>>,
    queue: WorkQueue<String>,
    cancel: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
    /// API writes the kubelet made (bindings, status updates, final deletes).
    pub writes: Arc<AtomicU64>,
}

impl FakeKubelet {
    fn start(
        client: Client,
        nodes: Vec<String>,
        scheduler: bool,
        ready_delay: Duration,
        heartbeat: Option<Duration>,
    ) -> FakeKubelet {
        let knobs = Arc::new(Mutex::new(Knobs {
            nodes,
            ready_delay,
            ..Default::default()
        }));
        let informer = Arc::new(Informer::new(
            Api::<Pod>::all(client.clone()),
            InformerConfig::default(),
        ));
        let queue: WorkQueue<String> = WorkQueue::new();
        let q = queue.clone();
        informer.add_handler(move |ev: &InformerEvent<Pod>| {
            if !matches!(ev, InformerEvent::Deleted(_)) {
                q.add(ev.key());
            }
        });
        informer.start();
        let cancel = CancellationToken::new();
        let writes = Arc::new(AtomicU64::new(0));
        let mut tasks = Vec::new();
        for _ in 0..4 {
            let worker = Worker {
                client: client.clone(),
                knobs: knobs.clone(),
                store: informer.store(),
                queue: queue.clone(),
                scheduler,
                writes: writes.clone(),
            };
            tasks.push(tokio::spawn(worker.run()));
        }
        if let Some(every) = heartbeat {
            tasks.push(tokio::spawn(heartbeats(
                client.clone(),
                knobs.clone(),
                every,
                cancel.clone(),
            )));
        }
        FakeKubelet {
            client,
            knobs,
            informer,
            queue,
            cancel,
            tasks,
            writes,
        }
    }

    fn knobs(&self) -> std::sync::MutexGuard<'_, Knobs> {
        self.knobs.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn add_node(&self, name: &str) {
        self.knobs().nodes.push(name.to_string());
    }

    /// Keeps this pod (by name) Running but not Ready (or makes it ready again).
    pub fn set_not_ready(&self, pod: &str, not_ready: bool) {
        if not_ready {
            self.knobs().not_ready.insert(pod.to_string());
        } else {
            self.knobs().not_ready.remove(pod);
        }
        for key in self.informer.store().keys() {
            if key.ends_with(&format!("/{pod}")) {
                self.queue.add(key);
            }
        }
    }

    /// Pods become Ready this long after binding from now on.
    pub fn set_ready_delay(&self, d: Duration) {
        self.knobs().ready_delay = d;
    }

    /// The node's kubelet goes silent (no heartbeats, its pods untouched) or comes back.
    pub fn set_node_stopped(&self, node: &str, stopped: bool) {
        if stopped {
            self.knobs().stopped.insert(node.to_string());
        } else {
            self.knobs().stopped.remove(node);
            for key in self.informer.store().keys() {
                self.queue.add(key);
            }
        }
    }

    pub fn write_count(&self) -> u64 {
        self.writes.load(Ordering::Relaxed)
    }

    pub fn stop(&self) {
        self.cancel.cancel();
        self.queue.shutdown();
        self.informer.stop();
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl Drop for FakeKubelet {
    fn drop(&mut self) {
        self.stop();
    }
}

struct Worker {
    client: Client,
    knobs: Arc<Mutex<Knobs>>,
    store: client::Store<Pod>,
    queue: WorkQueue<String>,
    scheduler: bool,
    writes: Arc<AtomicU64>,
}

impl Worker {
    async fn run(self) {
        while let Some(key) = self.queue.get().await {
            match self.handle(&key).await {
                Ok(Some(after)) => self.queue.add_after(key.clone(), after),
                Ok(None) => self.queue.forget(&key),
                Err(e) => {
                    tracing::debug!(%key, error = %e, "fake kubelet: retrying");
                    self.queue.add_rate_limited(key.clone());
                }
            }
            self.queue.done(&key);
        }
    }

    fn knobs(&self) -> std::sync::MutexGuard<'_, Knobs> {
        self.knobs.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Ok(Some(d)): look again after d.
    async fn handle(&self, key: &str) -> Result<Option<Duration>, proto::ApiError> {
        let Some(pod) = self.store.get(key) else {
            return Ok(None);
        };
        let ns = pod.meta().namespace.clone();
        let name = pod.meta().name.clone();
        let api = Api::<Pod>::namespaced(self.client.clone(), &ns);
        let node = pod
            .spec
            .as_ref()
            .map(|s| s.node_name.clone())
            .unwrap_or_default();
        if node.is_empty() {
            if !self.scheduler || !pod.meta().deletion_timestamp.is_empty() {
                return Ok(None);
            }
            let target = {
                let mut k = self.knobs();
                let candidates: Vec<String> = k
                    .nodes
                    .iter()
                    .filter(|n| !k.stopped.contains(*n))
                    .cloned()
                    .collect();
                if candidates.is_empty() {
                    return Ok(Some(Duration::from_millis(200)));
                }
                k.next_node += 1;
                candidates[k.next_node % candidates.len()].clone()
            };
            let mut binding = Binding {
                target: Some(ObjectReference {
                    kind: "Node".into(),
                    name: target,
                    ..Default::default()
                }),
                ..Default::default()
            };
            binding.metadata = Some(proto::k8s::ObjectMeta {
                name: name.clone(),
                namespace: ns.clone(),
                ..Default::default()
            });
            self.writes.fetch_add(1, Ordering::Relaxed);
            match self.client.bind(binding).await {
                Ok(()) => {}
                // Already bound or gone: the informer brings the news.
                Err(e) if e.is(proto::Reason::Conflict) || e.is(proto::Reason::NotFound) => {}
                Err(e) => return Err(e),
            }
            self.knobs()
                .bound_at
                .insert(key.to_string(), Instant::now());
            return Ok(None);
        }
        if self.knobs().stopped.contains(&node) {
            return Ok(None);
        }
        if !pod.meta().deletion_timestamp.is_empty() {
            // The kubelet has stopped the containers: finish the graceful delete.
            self.writes.fetch_add(1, Ordering::Relaxed);
            let params = DeleteParams {
                grace_period_seconds: Some(0),
                preconditions: Some(client::DeletePreconditions {
                    uid: pod.meta().uid.clone(),
                    resource_version: String::new(),
                }),
                ..Default::default()
            };
            return match api.delete(&name, &params).await {
                Ok(_) => Ok(None),
                Err(e) if e.is(proto::Reason::NotFound) || e.is(proto::Reason::Conflict) => {
                    Ok(None)
                }
                Err(e) => Err(e),
            };
        }
        let (want_ready, wait) = {
            let mut k = self.knobs();
            let delay = k.ready_delay;
            let bound = *k
                .bound_at
                .entry(key.to_string())
                .or_insert_with(Instant::now);
            let wait = (bound + delay).checked_duration_since(Instant::now());
            (!k.not_ready.contains(&name), wait)
        };
        if let Some(w) = wait
            && !w.is_zero()
        {
            return Ok(Some(w));
        }
        let status = pod.status.clone().unwrap_or_default();
        let ready_now = status
            .conditions
            .iter()
            .any(|c| c.r#type == "Ready" && c.status == "True");
        if status.phase == "Running" && ready_now == want_ready {
            return Ok(None);
        }
        let ip = if status.pod_ip.is_empty() {
            let mut k = self.knobs();
            k.next_ip += 1;
            let n = k.next_ip;
            format!("10.244.{}.{}", (n / 250) % 250, n % 250 + 1)
        } else {
            status.pod_ip.clone()
        };
        let now = proto::time::now_rfc3339();
        let cond = |t: &str, ok: bool| PodCondition {
            r#type: t.into(),
            status: if ok { "True" } else { "False" }.into(),
            last_transition_time: status
                .conditions
                .iter()
                .find(|c| c.r#type == t && (c.status == "True") == ok)
                .map_or_else(|| now.clone(), |c| c.last_transition_time.clone()),
            ..Default::default()
        };
        let mut new = (*pod).clone();
        new.status = Some(PodStatus {
            phase: "Running".into(),
            pod_ip: ip.clone(),
            pod_ips: vec![PodIp { ip }],
            host_ip: status.host_ip.clone(),
            start_time: if status.start_time.is_empty() {
                now.clone()
            } else {
                status.start_time.clone()
            },
            conditions: vec![
                cond("PodScheduled", true),
                cond("Initialized", true),
                cond("ContainersReady", want_ready),
                cond("Ready", want_ready),
            ],
            qos_class: status.qos_class.clone(),
            ..Default::default()
        });
        self.writes.fetch_add(1, Ordering::Relaxed);
        match api.update_status(&new).await {
            Ok(_) => Ok(None),
            Err(e) if e.is(proto::Reason::NotFound) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

async fn heartbeats(
    client: Client,
    knobs: Arc<Mutex<Knobs>>,
    every: Duration,
    cancel: CancellationToken,
) {
    let api = Api::<Lease>::namespaced(client, "kube-node-lease");
    loop {
        let nodes: Vec<String> = {
            let k = knobs.lock().unwrap_or_else(|p| p.into_inner());
            k.nodes
                .iter()
                .filter(|n| !k.stopped.contains(*n))
                .cloned()
                .collect()
        };
        for node in nodes {
            let now = proto::time::now_rfc3339_micros();
            let result = match api.get_opt(&node).await {
                Ok(Some(mut lease)) => {
                    let spec = lease.spec.get_or_insert_with(Default::default);
                    spec.renew_time = now;
                    api.update(&lease).await.map(|_| ())
                }
                Ok(None) => {
                    let mut lease = Lease {
                        spec: Some(LeaseSpec {
                            holder_identity: node.clone(),
                            lease_duration_seconds: Some(40),
                            renew_time: now,
                            ..Default::default()
                        }),
                        ..Default::default()
                    };
                    lease.meta_mut().name = node.clone();
                    lease.meta_mut().namespace = "kube-node-lease".into();
                    api.create(&lease).await.map(|_| ())
                }
                Err(e) => Err(e),
            };
            if let Err(e) = result {
                tracing::debug!(%node, error = %e, "fake kubelet: lease renewal failed");
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = cancel.cancelled() => return,
        }
    }
}

/// A TCP proxy to the apiserver that delivers the server's bytes `delay` late (in order),
/// so whatever reads through it (the controllers' informers) sees every change that much
/// after it happened, while writes made on a direct connection land at once.
pub struct DelayProxy {
    pub url: String,
    task: JoinHandle<()>,
    conns: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl DelayProxy {
    pub async fn start(upstream: std::net::SocketAddr, delay: Duration) -> DelayProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let url = format!("http://{}", listener.local_addr().expect("proxy address"));
        let conns: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let c = conns.clone();
        let task = tokio::spawn(async move {
            while let Ok((down, _)) = listener.accept().await {
                let Ok(up) = TcpStream::connect(upstream).await else {
                    continue;
                };
                let _ = down.set_nodelay(true);
                let _ = up.set_nodelay(true);
                let (dr, dw) = down.into_split();
                let (ur, uw) = up.into_split();
                let mut c = c.lock().unwrap_or_else(|p| p.into_inner());
                c.push(tokio::spawn(pipe(dr, uw, Duration::ZERO)));
                c.push(tokio::spawn(pipe(ur, dw, delay)));
            }
        });
        DelayProxy { url, task, conns }
    }
}

impl Drop for DelayProxy {
    fn drop(&mut self) {
        self.task.abort();
        for c in self.conns.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            c.abort();
        }
    }
}

async fn pipe(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    delay: Duration,
) {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(tokio::time::Instant, Vec<u8>)>();
    let reader = tokio::spawn(async move {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match from.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    if tx
                        .send((tokio::time::Instant::now() + delay, buf[..n].to_vec()))
                        .is_err()
                    {
                        return;
                    }
                }
            }
        }
    });
    while let Some((due, bytes)) = rx.recv().await {
        tokio::time::sleep_until(due).await;
        if to.write_all(&bytes).await.is_err() {
            break;
        }
    }
    reader.abort();
}

/// Counts API writes by watching pods, ReplicaSets, Deployments and Events from now on
/// (each watch event is one write that changed something).
pub struct WriteCounter {
    counts: Arc<Mutex<HashMap<&'static str, u64>>>,
    tasks: Vec<JoinHandle<()>>,
}

impl WriteCounter {
    pub async fn start(client: &Client) -> WriteCounter {
        let counts: Arc<Mutex<HashMap<&'static str, u64>>> = Arc::default();
        let tasks = vec![
            count_kind::<Pod>(client, counts.clone()).await,
            count_kind::<proto::k8s::ReplicaSet>(client, counts.clone()).await,
            count_kind::<proto::k8s::Deployment>(client, counts.clone()).await,
            count_kind::<proto::k8s::Event>(client, counts.clone()).await,
        ];
        WriteCounter { counts, tasks }
    }

    /// Writes per kind so far.
    pub fn counts(&self) -> HashMap<&'static str, u64> {
        self.counts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn total(&self) -> u64 {
        self.counts().values().sum()
    }
}

impl Drop for WriteCounter {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

async fn count_kind<K: Resource>(
    client: &Client,
    counts: Arc<Mutex<HashMap<&'static str, u64>>>,
) -> JoinHandle<()> {
    use futures::StreamExt;
    let api = Api::<K>::all(client.clone());
    let rv = api
        .list(&client::ListParams {
            limit: 1,
            ..Default::default()
        })
        .await
        .expect("list for the write counter")
        .resource_version;
    let mut stream = api
        .watch(&client::WatchParams {
            resource_version: rv,
            ..Default::default()
        })
        .await
        .expect("watch for the write counter");
    tokio::spawn(async move {
        while let Some(Ok(ev)) = stream.next().await {
            if !matches!(ev, client::WatchEvent::Bookmark(_)) {
                *counts
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .entry(K::INFO.kind)
                    .or_default() += 1;
            }
        }
    })
}

/// The key of an object, as controllers enqueue it.
pub fn key<K: Resource>(o: &K) -> String {
    key_of(o)
}
