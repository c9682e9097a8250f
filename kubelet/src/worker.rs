//! One pod worker per pod: it reads the runtime's containers of its pod, asks
//! `compute_pod_actions` what to do, does it (sandbox, images, containers, kills, graceful
//! termination), and writes the pod's status when it changed.

use crate::actions::{self, Actions, Context, PodRuntimeState, StartContainer, backoff_key};
use crate::backoff::Backoff;
use crate::error::{Error, Result};
use crate::events::{Recorder, container_field_path};
use crate::network::PodNetwork;
use crate::probes::{self, ProbeResults};
use crate::runtime::{ContainerConfig, ContainerInfo, ContainerKind, NetworkMode, Runtime, labels};
use crate::spec::{self, Sources};
use crate::status::{self, StatusInput};
use crate::volumes;
use client::{Api, Client, DeleteParams, DeletePreconditions};
use proto::k8s::{ConfigMap, Container, LifecycleHandler, Pod, Secret};
use proto::{Reason, Resource};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// What every worker shares.
pub struct Shared<R: Runtime> {
    pub runtime: Arc<R>,
    pub client: Client,
    pub node_name: String,
    pub node_ip: String,
    pub root_dir: PathBuf,
    pub prefix: String,
    pub pause_image: String,
    pub events: Recorder,
    /// Set once the node's pod network is set up for its podCIDR (possibly after start,
    /// when the controller-manager assigns it); `None` leaves sandboxes on the runtime's
    /// default bridge.
    pub network: std::sync::RwLock<Option<Arc<dyn PodNetwork>>>,
    /// Sync period while nothing happens (container exits are noticed within it).
    pub resync: Duration,
    /// `--cluster-dns` and friends: the pods' resolv.conf.
    pub dns: crate::dns::DnsSettings,
    /// Every Service, for the containers' service-link variables.
    pub services: client::Store<proto::k8s::Service>,
    /// What the node enforces of the pods' securityContext.
    pub security: crate::security::NodeSecurity,
    /// The pods' bound ServiceAccount tokens (serviceAccountToken projections).
    pub tokens: Arc<volumes::token::TokenManager>,
}

impl<R: Runtime> Shared<R> {
    pub fn network(&self) -> Option<Arc<dyn PodNetwork>> {
        self.network
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// How often configMap/secret volumes are refreshed.
const VOLUME_REFRESH: Duration = Duration::from_secs(5);
/// Dead instances kept per container (the latest and the one before, for lastState).
const KEEP_DEAD: usize = 2;
/// Back-off of a pod that cannot start (volume setup or container config failing): as
/// Kubernetes' volume operations (500 ms doubling to 2 min 2 s), so an unbound claim or a
/// missing configMap is retried a few times a minute, not on every sync.
const START_BACKOFF_INITIAL: Duration = Duration::from_millis(500);
const START_BACKOFF_MAX: Duration = Duration::from_secs(122);
/// Back-off key of the pod's volume setup (per container: `config/<name>`).
const VOLUMES_KEY: &str = "volumes";

pub struct PodWorker<R: Runtime> {
    shared: Arc<Shared<R>>,
    uid: String,
    key: String,
    pod_rx: watch::Receiver<Option<Arc<Pod>>>,
    backoff: Backoff,
    image_backoff: Backoff,
    image_failed_at: HashMap<String, SystemTime>,
    /// Waiting reasons by container name (image pull, config errors).
    waiting: BTreeMap<String, (String, String)>,
    backoff_reported: HashSet<(String, i32)>,
    probes: ProbeResults,
    probe_tasks: HashMap<String, CancellationToken>,
    pod_ip: String,
    volumes: Option<HashMap<String, String>>,
    volumes_at: Option<Instant>,
    /// Volume setup and container config failures: back-off and when each last failed.
    start_backoff: Backoff,
    start_failed_at: HashMap<String, SystemTime>,
    /// Everything stopped and the pod object deleted: wait for its DELETED event.
    finished: bool,
    /// The trace context of the latest watch event for the pod, the parent of the next
    /// sync's span (set by the kubelet's dispatch, taken by the sync).
    trace: TraceSlot,
    /// The pod's start, for the startup latency metrics.
    startup: crate::metrics::startup::StartupTracker,
    /// When the pod's containers were last listed (`kubelet_pleg_relist_interval_seconds`).
    listed_at: Option<Instant>,
}

/// Where the dispatcher leaves the trace context of a pod's latest event for its worker.
pub type TraceSlot = Arc<std::sync::Mutex<Option<telemetry::trace::TraceParent>>>;

fn grace_of(pod: &Pod) -> i64 {
    let meta = pod.metadata.as_ref();
    meta.and_then(|m| m.deletion_grace_period_seconds)
        .or_else(|| {
            pod.spec
                .as_ref()
                .and_then(|s| s.termination_grace_period_seconds)
        })
        .map(i64::from)
        .unwrap_or(30)
        .max(0)
}

/// The name of the container a start action is for.
fn spec_container_name(pod: &Pod, s: &StartContainer) -> String {
    let Some(spec) = pod.spec.as_ref() else {
        return String::new();
    };
    let list = if s.kind == ContainerKind::Init {
        &spec.init_containers
    } else {
        &spec.containers
    };
    list.get(s.index)
        .map(|c| c.name.clone())
        .unwrap_or_default()
}

fn spec_container<'a>(pod: &'a Pod, kind: ContainerKind, name: &str) -> Option<&'a Container> {
    let spec = pod.spec.as_ref()?;
    let list = if kind == ContainerKind::Init {
        &spec.init_containers
    } else {
        &spec.containers
    };
    list.iter().find(|c| c.name == name)
}

/// Kubernetes' default pull policy: Always for `:latest` or untagged images.
pub fn pull_policy(c: &Container) -> &str {
    if !c.image_pull_policy.is_empty() {
        return &c.image_pull_policy;
    }
    let last = c.image.rsplit('/').next().unwrap_or(&c.image);
    if c.image.contains('@') {
        "IfNotPresent"
    } else {
        match last.split_once(':') {
            Some((_, "latest")) | None => "Always",
            Some(_) => "IfNotPresent",
        }
    }
}

impl<R: Runtime> PodWorker<R> {
    pub fn new(
        shared: Arc<Shared<R>>,
        uid: String,
        pod_rx: watch::Receiver<Option<Arc<Pod>>>,
    ) -> Self {
        let key = pod_rx
            .borrow()
            .as_ref()
            .map(|p| client::store::key_of(p.as_ref()))
            .unwrap_or_default();
        PodWorker {
            shared,
            uid,
            key,
            pod_rx,
            backoff: Backoff::default(),
            image_backoff: Backoff::default(),
            image_failed_at: HashMap::new(),
            waiting: BTreeMap::new(),
            backoff_reported: HashSet::new(),
            probes: ProbeResults::default(),
            probe_tasks: HashMap::new(),
            pod_ip: String::new(),
            volumes: None,
            volumes_at: None,
            start_backoff: Backoff::new(
                START_BACKOFF_INITIAL,
                START_BACKOFF_MAX,
                crate::backoff::RESET_AFTER,
            ),
            start_failed_at: HashMap::new(),
            finished: false,
            trace: TraceSlot::default(),
            startup: crate::metrics::startup::StartupTracker::new(SystemTime::now()),
            listed_at: None,
        }
    }

    /// Takes the trace context of the pod's events from `slot`.
    pub fn traced_by(mut self, slot: TraceSlot) -> Self {
        self.trace = slot;
        self
    }

    /// Runs until the pod is gone (then its containers are removed) or `cancel` (kubelet
    /// shutdown: containers keep running and are adopted at the next start).
    pub async fn run(mut self, cancel: CancellationToken) {
        loop {
            let pod = self.pod_rx.borrow_and_update().clone();
            let Some(pod) = pod else {
                self.teardown_gone().await;
                break;
            };
            let next = if self.finished {
                Duration::from_secs(5)
            } else {
                // One span per sync, a child of the write that changed the pod if any.
                let span = tracing::info_span!("sync_pod", pod = %self.key);
                let parent = self.trace.lock().unwrap_or_else(|p| p.into_inner()).take();
                telemetry::trace::set_parent(&span, parent.as_ref());
                match tracing::Instrument::instrument(self.sync(&pod), span).await {
                    Ok(d) => d,
                    Err(e) => {
                        tracing::warn!(pod = %self.key, error = %e, "pod sync failed");
                        Duration::from_secs(1)
                    }
                }
            };
            let changed = self.probes.changed.clone();
            tokio::select! {
                _ = cancel.cancelled() => break,
                r = self.pod_rx.changed() => if r.is_err() { break },
                _ = changed.notified() => {}
                _ = tokio::time::sleep(next) => {}
            }
        }
        for (_, t) in self.probe_tasks.drain() {
            t.cancel();
        }
    }

    /// The pod's containers as the runtime has them: this kubelet's relist (Kubernetes'
    /// PLEG lists the whole node every second; here each pod worker lists its pod at each
    /// sync), timed as `kubelet_pleg_relist_*`.
    async fn list(&mut self) -> Result<PodRuntimeState> {
        let node = self.shared.node_name.as_str();
        let started = Instant::now();
        let m = crate::metrics::metrics();
        if let Some(previous) = self.listed_at.replace(started) {
            m.pleg_relist_interval
                .observe(started.duration_since(previous).as_secs_f64());
        }
        let all = self
            .shared
            .runtime
            .list_containers(&[(labels::NODE, node), (labels::POD_UID, self.uid.as_str())])
            .await;
        m.pleg_relist_duration
            .observe(started.elapsed().as_secs_f64());
        Ok(PodRuntimeState::from_containers(all?))
    }

    /// Records the pod's start once all its containers run.
    fn observe_startup(&mut self, pod: &Pod, state: &PodRuntimeState) {
        use crate::metrics::startup;
        let running = startup::all_running(pod, state);
        let Some(s) = self.startup.observe(
            running,
            startup::created(pod),
            startup::stateless(pod),
            SystemTime::now(),
        ) else {
            return;
        };
        let m = crate::metrics::metrics();
        m.pod_start_duration.observe(s.start.as_secs_f64());
        if let Some(sli) = s.sli {
            m.pod_start_sli_duration.observe(sli.as_secs_f64());
        }
        tracing::debug!(pod = %self.key, start = ?s.start, sli = ?s.sli, "pod started");
    }

    /// One pass: act, then report. Returns when to look again.
    pub async fn sync(&mut self, pod: &Pod) -> Result<Duration> {
        let state = self.list().await?;
        self.observe_startup(pod, &state);
        self.reconcile_probes(pod, &state);
        let liveness_failed = self.probes.liveness_failed();
        let host_network = pod.spec.as_ref().is_some_and(|s| s.host_network);
        let sandbox_without_ip = !host_network
            && self.shared.network().is_some()
            && state.running_sandbox().is_some()
            && self.ip_of(state.running_sandbox()).is_empty();
        if sandbox_without_ip {
            tracing::info!(pod = %self.key, "the running sandbox has no pod address; making a new one");
        }
        let now = SystemTime::now();
        let actions = actions::compute_pod_actions(
            pod,
            &state,
            Context {
                now,
                backoff: &self.backoff,
                liveness_failed: &liveness_failed,
                sandbox_without_ip,
            },
        );
        let acted = self.apply(pod, &state, &actions).await?;
        if self.finished {
            return Ok(Duration::from_secs(5));
        }
        let state = if acted { self.list().await? } else { state };
        self.refresh_volumes(pod).await;
        self.write_status(pod, &state, &actions).await?;
        self.observe_startup(pod, &state);
        let mut next = self.shared.resync;
        if let Some(r) = actions.requeue_after {
            next = next.min(r + Duration::from_millis(50));
        }
        if acted {
            next = next.min(Duration::from_millis(200));
        }
        Ok(next)
    }

    fn reconcile_probes(&mut self, pod: &Pod, state: &PodRuntimeState) {
        let running: HashMap<&str, &ContainerInfo> = state
            .containers
            .iter()
            .filter(|c| c.is_running() && c.kind() == Some(ContainerKind::App))
            .map(|c| (c.id.as_str(), c))
            .collect();
        let gone: Vec<String> = self
            .probe_tasks
            .keys()
            .filter(|id| !running.contains_key(id.as_str()))
            .cloned()
            .collect();
        for id in gone {
            if let Some(t) = self.probe_tasks.remove(&id) {
                t.cancel();
            }
            self.probes.remove(&id);
        }
        if self.pod_ip.is_empty() && state.running_sandbox().is_some() {
            self.pod_ip = self.ip_of(state.running_sandbox());
        }
        for (id, info) in running {
            if self.probe_tasks.contains_key(id) {
                continue;
            }
            let Some(c) = spec_container(pod, ContainerKind::App, info.container_name()) else {
                continue;
            };
            if c.liveness_probe.is_none()
                && c.readiness_probe.is_none()
                && c.startup_probe.is_none()
            {
                continue;
            }
            let token = CancellationToken::new();
            let events = self.shared.events.clone();
            let pod_for_events = pod.clone();
            let name = c.name.clone();
            let on_failure: probes::OnFailure = Arc::new(move |kind, msg| {
                let what = match kind {
                    probes::Kind::Liveness => "Liveness",
                    probes::Kind::Readiness => "Readiness",
                    probes::Kind::Startup => "Startup",
                };
                events.pod_event(
                    &pod_for_events,
                    true,
                    "Unhealthy",
                    &container_field_path(ContainerKind::App, &name),
                    format!("{what} probe failed: {msg}"),
                );
            });
            probes::spawn(
                self.shared.runtime.clone(),
                c.clone(),
                probes::Target {
                    container_id: id.to_string(),
                    pod_ip: self.pod_ip.clone(),
                },
                self.probes.clone(),
                on_failure,
                token.clone(),
            );
            self.probe_tasks.insert(id.to_string(), token);
        }
    }

    fn ip_of(&self, sandbox: Option<&ContainerInfo>) -> String {
        if let Some(net) = &self.shared.network() {
            return net.address_of(&self.uid).unwrap_or_default();
        }
        sandbox.and_then(|s| s.ip.clone()).unwrap_or_default()
    }

    /// Does what `actions` says; returns whether it changed anything.
    async fn apply(&mut self, pod: &Pod, state: &PodRuntimeState, a: &Actions) -> Result<bool> {
        let mut acted = false;
        let deleting = pod
            .metadata
            .as_ref()
            .is_some_and(|m| !m.deletion_timestamp.is_empty());
        if a.kill_pod {
            acted |= self
                .kill_pod(pod, state, grace_of(pod), deleting || a.create_sandbox)
                .await?;
            if deleting {
                self.finish_deletion(pod, state).await?;
                return Ok(true);
            }
            if a.terminal {
                // Finished: the address goes back, the exited containers stay for status/logs.
                if let Some(net) = &self.shared.network() {
                    net.detach(&self.uid).await?;
                }
            }
        }
        for k in &a.kill {
            acted = true;
            let info = state.containers.iter().find(|c| c.id == k.id);
            let kind = info
                .and_then(ContainerInfo::kind)
                .unwrap_or(ContainerKind::App);
            if k.reason == "Replaced" {
                self.shared.runtime.remove_container(&k.id).await?;
                continue;
            }
            let spec_c = spec_container(pod, kind, &k.name);
            let grace = spec_c
                .and_then(|c| c.liveness_probe.as_ref())
                .and_then(|p| p.termination_grace_period_seconds)
                .filter(|_| k.reason == "Unhealthy")
                .map(i64::from)
                .unwrap_or_else(|| grace_of(pod));
            self.shared.events.pod_event(
                pod,
                false,
                "Killing",
                &container_field_path(kind, &k.name),
                k.message.clone(),
            );
            if let Some(info) = info {
                self.stop_one(pod, spec_c, info, grace).await;
            }
            if let Some(t) = self.probe_tasks.remove(&k.id) {
                t.cancel();
            }
            self.probes.remove(&k.id);
        }
        let mut sandbox = state.running_sandbox().cloned();
        if a.create_sandbox {
            acted = true;
            sandbox = Some(self.create_sandbox(pod, a.sandbox_attempt).await?);
        }
        // Crash-looping containers: one BackOff event per restart count.
        for (name, w) in &a.waiting {
            let count = state
                .latest(name, ContainerKind::App)
                .or_else(|| state.latest(name, ContainerKind::Init))
                .map(|c| c.restart_count())
                .unwrap_or(0);
            if self.backoff_reported.insert((name.clone(), count)) {
                let kind = if spec_container(pod, ContainerKind::Init, name).is_some() {
                    ContainerKind::Init
                } else {
                    ContainerKind::App
                };
                self.shared.events.pod_event(
                    pod,
                    true,
                    "BackOff",
                    &container_field_path(kind, name),
                    format!(
                        "Back-off restarting failed container {name} in pod {}",
                        pod.meta().name
                    ),
                );
            }
            let _ = w;
        }
        if !a.start.is_empty()
            && let Some(sb) = sandbox.as_ref()
        {
            let sources = self.sources(pod).await;
            // Without its volumes no container can start: wait for the volume back-off
            // (FailedMount says why) rather than failing every container on every sync.
            let ready = self.volumes.is_some();
            for s in a.start.iter().filter(|_| ready) {
                let name = spec_container_name(pod, s);
                if self.start_held(&format!("config/{name}")) {
                    continue;
                }
                acted = true;
                self.start_one(pod, sb, s, &sources).await;
            }
        }
        acted |= self.gc_dead(state).await;
        Ok(acted)
    }

    /// ConfigMaps, Secrets and volumes the pod's containers read.
    async fn sources(&mut self, pod: &Pod) -> Sources {
        let ns = pod.meta().namespace.clone();
        let services = self
            .shared
            .services
            .list()
            .iter()
            .filter(|s| {
                let m = s.meta();
                m.namespace == ns || (m.namespace == "default" && m.name == "kubernetes")
            })
            .map(|s| s.as_ref().clone())
            .collect();
        let mut src = Sources {
            pod_ip: self.pod_ip.clone(),
            host_ip: self.shared.node_ip.clone(),
            services,
            ..Default::default()
        };
        let spec = pod.spec.clone().unwrap_or_default();
        let mut cms = std::collections::BTreeSet::new();
        let mut secrets = std::collections::BTreeSet::new();
        for c in spec.init_containers.iter().chain(spec.containers.iter()) {
            let (a, b) = spec::referenced_objects(c);
            cms.extend(a);
            secrets.extend(b);
        }
        let cm_api: Api<ConfigMap> = Api::namespaced(self.shared.client.clone(), &ns);
        for name in cms {
            if let Ok(Some(cm)) = cm_api.get_opt(&name).await {
                src.config_maps.insert(name, cm);
            }
        }
        let sec_api: Api<Secret> = Api::namespaced(self.shared.client.clone(), &ns);
        for name in secrets {
            if let Ok(Some(s)) = sec_api.get_opt(&name).await {
                src.secrets.insert(name, s);
            }
        }
        if self.volumes.is_none() {
            self.refresh_volumes_now(pod).await;
        }
        src.volumes = self.volumes.clone().unwrap_or_default();
        src
    }

    async fn refresh_volumes(&mut self, pod: &Pod) {
        if self.volumes.is_some()
            && self
                .volumes_at
                .is_some_and(|t| t.elapsed() < VOLUME_REFRESH)
        {
            return;
        }
        let has_projected = pod.spec.as_ref().is_some_and(|s| {
            s.volumes.iter().any(|v| {
                matches!(
                    v.volume_source,
                    Some(
                        proto::k8s::volume::VolumeSource::ConfigMap(_)
                            | proto::k8s::volume::VolumeSource::Secret(_)
                            | proto::k8s::volume::VolumeSource::DownwardApi(_)
                            | proto::k8s::volume::VolumeSource::Projected(_)
                    )
                )
            })
        });
        if self.volumes.is_some() && !has_projected {
            return;
        }
        self.refresh_volumes_now(pod).await;
    }

    /// True while the back-off of `key` (after its last failure) has not passed.
    fn start_held(&self, key: &str) -> bool {
        self.start_failed_at.get(key).is_some_and(|at| {
            self.start_backoff
                .in_backoff_since(key, *at, SystemTime::now())
        })
    }

    fn start_failed(&mut self, key: &str) {
        let now = SystemTime::now();
        self.start_backoff.next(key, now);
        self.start_failed_at.insert(key.to_string(), now);
    }

    /// A container whose configuration cannot be made (a refused securityContext, a missing
    /// key, a subPath leading out): Kubernetes' `CreateContainerConfigError`, a Failed
    /// event, and the start back-off so it is not retried on every sync.
    fn config_failed(&mut self, pod: &Pod, container: &str, path: &str, msg: String) {
        self.start_failed(&format!("config/{container}"));
        self.shared
            .events
            .pod_event(pod, true, "Failed", path, format!("Error: {msg}"));
        self.waiting.insert(
            container.to_string(),
            ("CreateContainerConfigError".into(), msg),
        );
    }

    fn start_succeeded(&mut self, key: &str) {
        self.start_backoff.forget(key);
        self.start_failed_at.remove(key);
    }

    async fn refresh_volumes_now(&mut self, pod: &Pod) {
        if self.start_held(VOLUMES_KEY) {
            return;
        }
        match volumes::setup(
            &self.shared.client,
            &self.shared.tokens,
            &self.shared.root_dir,
            pod,
        )
        .await
        {
            Ok(v) => {
                self.volumes = Some(v);
                self.volumes_at = Some(Instant::now());
                self.start_succeeded(VOLUMES_KEY);
            }
            Err(e) => {
                self.start_failed(VOLUMES_KEY);
                tracing::warn!(pod = %self.key, error = %e, retry_in = ?self.start_backoff.delay(VOLUMES_KEY, SystemTime::now()), "volume setup failed");
                self.shared
                    .events
                    .pod_event(pod, true, "FailedMount", "", e.to_string());
            }
        }
    }

    async fn create_sandbox(&mut self, pod: &Pod, attempt: i32) -> Result<ContainerInfo> {
        let meta = pod.meta();
        let host_network = pod.spec.as_ref().is_some_and(|s| s.host_network);
        let mut hostname = meta.name.clone();
        hostname.truncate(63);
        let network = if host_network {
            NetworkMode::Host
        } else if self.shared.network().is_some() {
            NetworkMode::None
        } else {
            NetworkMode::Bridge
        };
        let mut cfg = ContainerConfig {
            name: spec::container_name(&self.shared.prefix, pod, labels::SANDBOX_NAME, attempt),
            image: self.shared.pause_image.clone(),
            labels: spec::container_labels(
                pod,
                &self.shared.node_name,
                ContainerKind::Sandbox,
                labels::SANDBOX_NAME,
                0,
                attempt,
            ),
            network: Some(network),
            hostname: (!host_network).then_some(hostname),
            ipc_shareable: true,
            ..Default::default()
        };
        crate::security::sandbox_settings(pod, &self.shared.security).apply(&mut cfg);
        // Counted per attempt, as Kubernetes counts RunPodSandbox calls.
        crate::metrics::metrics().started_pods.inc();
        let id = self.shared.runtime.create_container(&cfg).await?;
        if let Err(e) = self.shared.runtime.start_container(&id).await {
            let _ = self.shared.runtime.remove_container(&id).await;
            self.shared.events.pod_event(
                pod,
                true,
                "FailedCreatePodSandBox",
                "",
                format!("Failed to create pod sandbox: {e}"),
            );
            return Err(e);
        }
        let info = self.shared.runtime.inspect_container(&id).await?;
        self.pod_ip = if host_network {
            self.shared.node_ip.clone()
        } else if let Some(net) = &self.shared.network() {
            let pid = info
                .pid
                .ok_or_else(|| Error::Network("the sandbox has no process".into()))?;
            match net.attach(&self.uid, pid).await {
                Ok(ip) => ip,
                Err(e) => {
                    let _ = self.shared.runtime.remove_container(&id).await;
                    self.shared.events.pod_event(
                        pod,
                        true,
                        "FailedCreatePodSandBox",
                        "",
                        format!("Failed to set up the pod network: {e}"),
                    );
                    return Err(e);
                }
            }
        } else {
            info.ip.clone().unwrap_or_default()
        };
        tracing::info!(pod = %self.key, sandbox = %id, ip = %self.pod_ip, "sandbox started");
        Ok(info)
    }

    async fn ensure_image(
        &mut self,
        pod: &Pod,
        c: &Container,
        kind: ContainerKind,
    ) -> std::result::Result<(), (String, String)> {
        let rt = &self.shared.runtime;
        let policy = pull_policy(c).to_string();
        let present = rt
            .inspect_image(&c.image)
            .await
            .map_err(|e| ("ErrImageInspect".to_string(), e.to_string()))?;
        let path = container_field_path(kind, &c.name);
        if present.is_some() && policy != "Always" {
            self.shared.events.pod_event(
                pod,
                false,
                "Pulled",
                &path,
                format!("Container image \"{}\" already present on machine", c.image),
            );
            return Ok(());
        }
        if policy == "Never" {
            let msg = format!(
                "Container image \"{}\" is not present with pull policy of Never",
                c.image
            );
            self.shared
                .events
                .pod_event(pod, true, "ErrImageNeverPull", &path, msg.clone());
            return Err(("ErrImageNeverPull".into(), msg));
        }
        let key = format!("image/{}", c.image);
        let now = SystemTime::now();
        if let Some(at) = self.image_failed_at.get(&key)
            && self.image_backoff.in_backoff_since(&key, *at, now)
        {
            let msg = format!("Back-off pulling image \"{}\"", c.image);
            return Err(("ImagePullBackOff".into(), msg));
        }
        self.shared.events.pod_event(
            pod,
            false,
            "Pulling",
            &path,
            format!("Pulling image \"{}\"", c.image),
        );
        let started = Instant::now();
        self.startup.pull_started(SystemTime::now());
        let pulled = rt.pull_image(&c.image).await;
        self.startup.pull_finished(SystemTime::now());
        match pulled {
            Ok(()) => {
                self.image_backoff.forget(&key);
                self.image_failed_at.remove(&key);
                self.shared.events.pod_event(
                    pod,
                    false,
                    "Pulled",
                    &path,
                    format!(
                        "Successfully pulled image \"{}\" in {:?}",
                        c.image,
                        started.elapsed()
                    ),
                );
                Ok(())
            }
            Err(e) => {
                self.image_backoff.next(&key, now);
                self.image_failed_at.insert(key, now);
                let msg = format!("Failed to pull image \"{}\": {e}", c.image);
                self.shared
                    .events
                    .pod_event(pod, true, "Failed", &path, msg.clone());
                Err(("ErrImagePull".into(), msg))
            }
        }
    }

    async fn start_one(
        &mut self,
        pod: &Pod,
        sandbox: &ContainerInfo,
        s: &StartContainer,
        sources: &Sources,
    ) {
        let spec = pod.spec.clone().unwrap_or_default();
        let list = if s.kind == ContainerKind::Init {
            &spec.init_containers
        } else {
            &spec.containers
        };
        let Some(c) = list.get(s.index) else { return };
        let path = container_field_path(s.kind, &c.name);
        if let Err(w) = self.ensure_image(pod, c, s.kind).await {
            self.waiting.insert(c.name.clone(), w);
            return;
        }
        let security = crate::security::for_container(
            self.shared.runtime.as_ref(),
            &self.shared.security,
            pod,
            c,
            &sandbox.id,
        )
        .await;
        let (security, security_opt) = match security {
            Ok(s) => s,
            Err(e) => {
                self.config_failed(pod, &c.name, &path, e.to_string());
                return;
            }
        };
        let mut cfg = match spec::container_config(
            &self.shared.prefix,
            &self.shared.node_name,
            pod,
            c,
            s.kind,
            s.restart_count,
            sandbox,
            sources,
        )
        .and_then(|mut cfg| {
            let dns =
                crate::dns::pod_mount(&self.shared.dns, &self.shared.root_dir, &self.uid, pod)?;
            cfg.mounts.extend(dns);
            volumes::subpath::prepare_mounts(
                &self.shared.root_dir,
                &self.uid,
                &c.name,
                &mut cfg.mounts,
            )?;
            Ok(cfg)
        }) {
            Ok(cfg) => cfg,
            Err(e) => {
                self.config_failed(pod, &c.name, &path, e.to_string());
                return;
            }
        };
        security.apply(&mut cfg, security_opt);
        self.start_succeeded(&format!("config/{}", c.name));
        if s.is_restart {
            self.backoff
                .next(&backoff_key(&self.uid, &c.name), SystemTime::now());
        }
        let rt = &self.shared.runtime;
        let id = match rt.create_container(&cfg).await {
            Ok(id) => id,
            Err(e) => {
                let msg = e.to_string();
                self.shared
                    .events
                    .pod_event(pod, true, "Failed", &path, format!("Error: {msg}"));
                self.waiting
                    .insert(c.name.clone(), ("CreateContainerError".into(), msg));
                return;
            }
        };
        self.shared.events.pod_event(
            pod,
            false,
            "Created",
            &path,
            format!("Created container {}", c.name),
        );
        crate::metrics::metrics().container_started(s.kind);
        if let Err(e) = rt.start_container(&id).await {
            let msg = e.to_string();
            self.shared
                .events
                .pod_event(pod, true, "Failed", &path, format!("Error: {msg}"));
            self.waiting
                .insert(c.name.clone(), ("RunContainerError".into(), msg));
            return;
        }
        self.waiting.remove(&c.name);
        self.shared.events.pod_event(
            pod,
            false,
            "Started",
            &path,
            format!("Started container {}", c.name),
        );
        tracing::info!(pod = %self.key, container = %c.name, restart_count = s.restart_count, id = %id, "container started");
    }

    /// preStop hook, SIGTERM, wait out the grace period, SIGKILL.
    async fn stop_one(&self, pod: &Pod, c: Option<&Container>, info: &ContainerInfo, grace: i64) {
        if !info.is_running() {
            return;
        }
        let started = Instant::now();
        let pre_stop = c
            .and_then(|c| c.lifecycle.as_ref())
            .and_then(|l| l.pre_stop.clone());
        if let Some(h) = pre_stop
            && grace > 0
        {
            let budget = Duration::from_secs(u64::try_from(grace).unwrap_or(0));
            if let Err(msg) = tokio::time::timeout(budget, self.run_hook(&h, c, info))
                .await
                .unwrap_or_else(|_| Err("timed out".into()))
            {
                self.shared.events.pod_event(
                    pod,
                    true,
                    "FailedPreStopHook",
                    &container_field_path(ContainerKind::App, info.container_name()),
                    format!("PreStopHook failed: {msg}"),
                );
            }
        }
        let used = i64::try_from(started.elapsed().as_secs()).unwrap_or(0);
        // Kubernetes leaves at least 2 s for SIGTERM after a hook that used the period up.
        let remaining = if grace > 0 {
            (grace - used).max(if used > 0 { 2 } else { 0 })
        } else {
            0
        };
        if let Err(e) = self
            .shared
            .runtime
            .stop_container(&info.id, remaining)
            .await
        {
            tracing::warn!(pod = %self.key, container = %info.container_name(), error = %e, "stopping the container failed");
        }
    }

    async fn run_hook(
        &self,
        h: &LifecycleHandler,
        c: Option<&Container>,
        info: &ContainerInfo,
    ) -> std::result::Result<(), String> {
        if let Some(e) = &h.exec {
            let out = self
                .shared
                .runtime
                .exec(&info.id, &e.command)
                .await
                .map_err(|e| e.to_string())?;
            return if out.exit_code == 0 {
                Ok(())
            } else {
                Err(format!(
                    "command {:?} exited with {}",
                    e.command, out.exit_code
                ))
            };
        }
        if let Some(s) = &h.sleep {
            tokio::time::sleep(Duration::from_secs(u64::try_from(s.seconds).unwrap_or(0))).await;
            return Ok(());
        }
        if h.http_get.is_some() || h.tcp_socket.is_some() {
            let probe = proto::k8s::Probe {
                http_get: h.http_get.clone(),
                tcp_socket: h.tcp_socket.clone(),
                ..Default::default()
            };
            let target = probes::Target {
                container_id: info.id.clone(),
                pod_ip: self.pod_ip.clone(),
            };
            let default = Container::default();
            return probes::run_once(
                self.shared.runtime.as_ref(),
                &probe,
                c.unwrap_or(&default),
                &target,
                Duration::from_secs(30),
            )
            .await;
        }
        Ok(())
    }

    /// Stops every running container (apps and inits with the grace period, then the
    /// sandbox); with `remove_sandboxes`, the sandboxes go too.
    async fn kill_pod(
        &mut self,
        pod: &Pod,
        state: &PodRuntimeState,
        grace: i64,
        remove_sandboxes: bool,
    ) -> Result<bool> {
        let mut acted = false;
        let running: Vec<&ContainerInfo> =
            state.containers.iter().filter(|c| c.is_running()).collect();
        if !running.is_empty() {
            acted = true;
            let mut stops = Vec::new();
            for info in &running {
                let kind = info.kind().unwrap_or(ContainerKind::App);
                let name = info.container_name().to_string();
                self.shared.events.pod_event(
                    pod,
                    false,
                    "Killing",
                    &container_field_path(kind, &name),
                    format!("Stopping container {name}"),
                );
                stops.push(self.stop_one(
                    pod,
                    spec_container(pod, kind, info.container_name()),
                    info,
                    grace,
                ));
            }
            futures::future::join_all(stops).await;
        }
        for id in running.iter().map(|c| c.id.clone()) {
            if let Some(t) = self.probe_tasks.remove(&id) {
                t.cancel();
            }
            self.probes.remove(&id);
        }
        for sb in &state.sandboxes {
            if sb.is_running() {
                acted = true;
                self.shared.runtime.stop_container(&sb.id, 0).await?;
            }
            if remove_sandboxes {
                acted = true;
                self.shared.runtime.remove_container(&sb.id).await?;
            }
        }
        if remove_sandboxes && !state.sandboxes.is_empty() {
            if let Some(net) = &self.shared.network() {
                net.detach(&self.uid).await?;
            }
            self.pod_ip.clear();
        }
        Ok(acted)
    }

    /// All stopped: remove the containers and the pod's files, then delete the pod object
    /// with grace 0, as Kubernetes' status manager does.
    async fn finish_deletion(&mut self, pod: &Pod, state: &PodRuntimeState) -> Result<()> {
        for c in state.containers.iter().chain(state.sandboxes.iter()) {
            self.shared.runtime.remove_container(&c.id).await?;
        }
        if let Some(net) = &self.shared.network() {
            net.detach(&self.uid).await?;
        }
        volumes::cleanup(&self.shared.root_dir, &self.uid);
        let meta = pod.meta();
        let api: Api<Pod> = Api::namespaced(self.shared.client.clone(), &meta.namespace);
        let params = DeleteParams {
            grace_period_seconds: Some(0),
            preconditions: Some(DeletePreconditions {
                uid: meta.uid.clone(),
                resource_version: String::new(),
            }),
            ..Default::default()
        };
        match api.delete(&meta.name, &params).await {
            Ok(_) => {}
            Err(e) if e.is(Reason::NotFound) || e.is(Reason::Conflict) => {}
            Err(e) => return Err(e.into()),
        }
        tracing::info!(pod = %self.key, "pod terminated and deleted");
        self.finished = true;
        Ok(())
    }

    /// The pod object is gone (deleted by us, or force-deleted): remove whatever is left.
    async fn teardown_gone(&mut self) {
        let Ok(state) = self.list().await else { return };
        let grace = state
            .containers
            .iter()
            .find_map(|c| c.label(labels::GRACE_PERIOD).parse::<i64>().ok())
            .unwrap_or(30);
        let mut stops = Vec::new();
        for c in state.containers.iter().filter(|c| c.is_running()) {
            stops.push(self.shared.runtime.stop_container(&c.id, grace));
        }
        futures::future::join_all(stops).await;
        for c in state.containers.iter().chain(state.sandboxes.iter()) {
            if let Err(e) = self.shared.runtime.remove_container(&c.id).await {
                tracing::warn!(pod = %self.key, error = %e, "removing a container failed");
            }
        }
        if let Some(net) = &self.shared.network()
            && let Err(e) = net.detach(&self.uid).await
        {
            tracing::warn!(pod = %self.key, error = %e, "releasing the pod network failed");
        }
        volumes::cleanup(&self.shared.root_dir, &self.uid);
        tracing::info!(pod = %self.key, "pod removed from the node");
    }

    /// Removes dead instances beyond the last `KEEP_DEAD` of each container.
    async fn gc_dead(&self, state: &PodRuntimeState) -> bool {
        let mut seen: HashMap<(String, Option<ContainerKind>), usize> = HashMap::new();
        let mut sorted: Vec<&ContainerInfo> = state.containers.iter().collect();
        sorted.sort_by_key(|c| std::cmp::Reverse((c.restart_count(), c.created_at)));
        let mut acted = false;
        for c in sorted {
            let n = seen
                .entry((c.container_name().to_string(), c.kind()))
                .or_insert(0);
            *n += 1;
            if *n > KEEP_DEAD && !c.is_running() {
                acted = true;
                if let Err(e) = self.shared.runtime.remove_container(&c.id).await {
                    tracing::debug!(pod = %self.key, error = %e, "removing a dead container failed");
                }
            }
        }
        acted
    }

    async fn write_status(
        &mut self,
        pod: &Pod,
        state: &PodRuntimeState,
        a: &Actions,
    ) -> Result<()> {
        // Waiting reasons of containers that now run are stale.
        let running: HashSet<&str> = state
            .containers
            .iter()
            .filter(|c| c.is_running())
            .map(|c| c.container_name())
            .collect();
        self.waiting
            .retain(|name, _| !running.contains(name.as_str()));
        if self.pod_ip.is_empty() {
            self.pod_ip = self.ip_of(state.running_sandbox());
        }
        let mut waiting = self.waiting.clone();
        for (name, w) in &a.waiting {
            waiting.insert(name.clone(), (w.reason.clone(), w.message.clone()));
        }
        let input = StatusInput {
            ready: self.probes.ready(),
            started: self.probes.started(),
            waiting,
            pod_ip: self.pod_ip.clone(),
            host_ip: self.shared.node_ip.clone(),
            now: Some(SystemTime::now()),
        };
        // The freshest copy of the pod: its status is what the write is compared with.
        let current = self.pod_rx.borrow().clone();
        let base = current.as_deref().unwrap_or(pod);
        let new_status = status::pod_status(base, state, &input);
        if base.status.as_ref() == Some(&new_status) {
            return Ok(());
        }
        let api: Api<Pod> = Api::namespaced(self.shared.client.clone(), &base.meta().namespace);
        let mut obj = base.clone();
        obj.status = Some(new_status.clone());
        match api.update_status(&obj).await {
            Ok(_) => Ok(()),
            Err(e) if e.is(Reason::Conflict) => {
                let mut fresh = api.get(&base.meta().name).await?;
                if fresh.meta().uid != self.uid {
                    return Ok(());
                }
                let st = status::pod_status(&fresh, state, &input);
                fresh.status = Some(st);
                api.update_status(&fresh).await?;
                Ok(())
            }
            Err(e) if e.is(Reason::NotFound) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}
