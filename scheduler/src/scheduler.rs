//! The daemon: informers feed the cache and the queue; one loop owns both and, between
//! applying events, pops a pod, runs the plugins over the snapshot, assumes the winner in
//! the cache and hands the binding to a background task. A failed binding un-assumes the
//! pod and puts it back in back-off. Only the leader schedules.

use crate::cache::Cache;
use crate::error::Error;
use crate::framework::{ClusterEvent, Framework};
use crate::metrics::{self, AttemptResult};
use crate::plugins::volume_binding::{self, Observed, VolumeBinding, VolumePlan, check_bindings};
use crate::podinfo::PodInfo;
use crate::preemption::{Outcome, preempt};
use crate::queue::{QueuedPod, SchedulingQueue, event_name};
use crate::report::Reporter;
use crate::schedule::{ScheduleError, schedule_pod};
use client::{
    Api, Client, Informer, InformerConfig, InformerEvent, LeaderElectionConfig, LeaderElector,
    Store,
};
use futures::future::BoxFuture;
use proto::k8s::{
    Binding, Namespace, Node, ObjectMeta, ObjectReference, PersistentVolume, PersistentVolumeClaim,
    Pod, StorageClass,
};
use proto::{ApiError, Resource};
use rand::SeedableRng;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

/// How long the loop waits for the first list of claims, volumes and classes.
const STORAGE_SYNC_GRACE: Duration = Duration::from_secs(10);

/// The writes a decision makes: a binding (through the binding subresource), or a
/// preemption (the preemptor's nominatedNodeName, then the victims' deletion). The real
/// one calls the API; tests use fakes.
pub trait Binder: Send + Sync + 'static {
    fn bind(&self, pod: &Pod, node: &str) -> BoxFuture<'static, Result<(), ApiError>>;
    /// VolumeBinding's PreBind: writes the plan and waits until the pod's claims are bound
    /// (an error says why the pod must be scheduled again). Binders of tests without
    /// volumes need not implement it.
    fn bind_volumes(
        &self,
        _pod: Arc<Pod>,
        _plan: VolumePlan,
    ) -> BoxFuture<'static, Result<(), ApiError>> {
        Box::pin(async { Ok(()) })
    }
    fn preempt(
        &self,
        preemptor: &Pod,
        node: &str,
        victims: Vec<Arc<Pod>>,
    ) -> BoxFuture<'static, Result<(), ApiError>>;
}

pub struct ApiBinder(pub Client);

impl Binder for ApiBinder {
    fn bind(&self, pod: &Pod, node: &str) -> BoxFuture<'static, Result<(), ApiError>> {
        let m = pod.meta();
        let binding = Binding {
            metadata: Some(ObjectMeta {
                name: m.name.clone(),
                namespace: m.namespace.clone(),
                uid: m.uid.clone(),
                ..Default::default()
            }),
            target: Some(ObjectReference {
                kind: "Node".into(),
                name: node.to_string(),
                api_version: "v1".into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let client = self.0.clone();
        Box::pin(async move { client.bind(binding).await })
    }

    fn bind_volumes(
        &self,
        pod: Arc<Pod>,
        plan: VolumePlan,
    ) -> BoxFuture<'static, Result<(), ApiError>> {
        let client = self.0.clone();
        Box::pin(async move {
            bind_pod_volumes(&client, &pod, &plan).await.map_err(|e| {
                ApiError::new(
                    e.reason,
                    format!(
                        "running PreBind plugin \"{}\": {}",
                        volume_binding::NAME,
                        e.message
                    ),
                )
            })
        })
    }

    fn preempt(
        &self,
        preemptor: &Pod,
        node: &str,
        victims: Vec<Arc<Pod>>,
    ) -> BoxFuture<'static, Result<(), ApiError>> {
        let client = self.0.clone();
        let m = preemptor.meta();
        let (ns, name) = (m.namespace.clone(), m.name.clone());
        let node = node.to_string();
        Box::pin(async move {
            let pods: Api<Pod> = Api::namespaced(client.clone(), &ns);
            let patch = serde_json::json!({"status": {"nominatedNodeName": node}});
            pods.patch_merge_status(&name, &patch).await?;
            for v in victims {
                let vm = v.meta();
                let api: Api<Pod> = Api::namespaced(client.clone(), &vm.namespace);
                let params = client::DeleteParams {
                    preconditions: Some(client::DeletePreconditions {
                        uid: vm.uid.clone(),
                        ..Default::default()
                    }),
                    ..Default::default()
                };
                match api.delete(&vm.name, &params).await {
                    Ok(_) => {}
                    Err(e) if e.is(proto::Reason::NotFound) => {}
                    Err(e) => return Err(e),
                }
            }
            Ok(())
        })
    }
}

/// Kubernetes' `BindPodVolumes`: pre-binds the chosen static volumes and annotates the
/// claims to provision (each write guarded by the resourceVersion the decision read), then
/// polls every second, as Kubernetes, until the claims are bound (`check_bindings`), the
/// binding is undone, the pod is gone, or the plan's timeout passes.
async fn bind_pod_volumes(client: &Client, pod: &Pod, plan: &VolumePlan) -> Result<(), ApiError> {
    let volumes: Api<PersistentVolume> = Api::all(client.clone());
    for b in plan.bindings.iter().filter(|b| b.write) {
        tracing::debug!(pv = %b.volume.meta().name, claim = %b.claim.meta().name, "pre-binding volume");
        volumes.update(&b.volume).await?;
    }
    for p in plan.provisions.iter().filter(|p| p.write) {
        let m = p.claim.meta();
        tracing::debug!(claim = %m.name, node = %plan.node.meta().name, "selecting node for provisioning");
        let claims: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), &m.namespace);
        claims.update(&p.claim).await?;
    }
    let pods: Api<Pod> = Api::namespaced(client.clone(), &pod.meta().namespace);
    let deadline = tokio::time::Instant::now() + plan.bind_timeout;
    let failed =
        |m: String| ApiError::new(proto::Reason::Conflict, format!("binding volumes: {m}"));
    loop {
        if pods.get_opt(&pod.meta().name).await?.is_none() {
            return Err(failed("pod does not exist any more".into()));
        }
        let mut observed = Observed::default();
        for (ns, name) in plan.claims() {
            let claims: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), ns);
            if let Some(c) = claims.get_opt(name).await? {
                observed.claims.insert(format!("{ns}/{name}"), c);
            }
        }
        let names: Vec<String> = plan
            .volumes_to_read(&observed)
            .into_iter()
            .map(String::from)
            .collect();
        for name in names {
            if let Some(v) = volumes.get_opt(&name).await? {
                observed.volumes.insert(name, v);
            }
        }
        match check_bindings(plan, &observed) {
            Ok(true) => return Ok(()),
            Ok(false) => {}
            Err(m) => return Err(failed(m)),
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(failed("context deadline exceeded".into()));
        }
        tokio::time::sleep_until(
            deadline.min(tokio::time::Instant::now() + Duration::from_secs(1)),
        )
        .await;
    }
}

/// What the daemon's health checks read: whether the informers' caches have synced
/// (`informer-sync` on /readyz) and the elector's renewals (`leaderElection`). Cheap to
/// clone: clones share the state.
#[derive(Clone, Debug, Default)]
pub struct Probes {
    pub leader: client::leader::HealthzAdaptor,
    synced: Arc<std::sync::atomic::AtomicBool>,
}

impl Probes {
    pub fn synced(&self) -> bool {
        self.synced.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn set_synced(&self) {
        self.synced
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

#[derive(Clone, Debug)]
pub struct Options {
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    /// None: no leader election (this replica always schedules).
    pub leader_election: Option<LeaderElectionConfig>,
    /// Bindings in flight at once.
    pub max_concurrent_binds: usize,
    /// Grace for bindings in flight at shutdown.
    pub shutdown_grace: Duration,
    /// Filled in as the scheduler starts, for the daemon's health checks.
    pub probes: Probes,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(10),
            leader_election: None,
            max_concurrent_binds: 256,
            shutdown_grace: Duration::from_secs(5),
            probes: Probes::default(),
        }
    }
}

struct BindDone {
    pod: QueuedPod,
    node: String,
    /// The volume writes assumed for this pod: undone if it fails.
    volumes: Option<VolumePlan>,
    /// Whether the failure (if any) came from PreBind rather than the binding call.
    prebind_failed: bool,
    result: Result<(), ApiError>,
    /// When the attempt's scheduling cycle began (the attempt's duration includes binding).
    started: Instant,
}

/// Whether a pod is waiting for this scheduler.
pub fn is_pending_for(pod: &Pod, scheduler_name: &str) -> bool {
    let Some(spec) = &pod.spec else {
        return false;
    };
    let phase = pod.status.as_ref().map_or("", |s| s.phase.as_str());
    spec.node_name.is_empty()
        && spec.scheduler_name == scheduler_name
        && pod.meta().deletion_timestamp.is_empty()
        && phase != "Succeeded"
        && phase != "Failed"
}

fn is_assigned(pod: &Pod) -> bool {
    pod.spec.as_ref().is_some_and(|s| !s.node_name.is_empty())
}

fn is_terminal(pod: &Pod) -> bool {
    matches!(
        pod.status.as_ref().map(|s| s.phase.as_str()),
        Some("Succeeded" | "Failed")
    )
}

/// Whether an update changes anything scheduling reads: not status (our own condition
/// writes must not wake the pod), not resourceVersion.
pub fn changed_for_scheduling(old: &Pod, new: &Pod) -> bool {
    let (a, b) = (old.meta(), new.meta());
    old.spec != new.spec
        || a.labels != b.labels
        || a.annotations != b.annotations
        || a.deletion_timestamp != b.deletion_timestamp
        || a.owner_references != b.owner_references
}

/// The cluster events a node update amounts to.
pub fn node_changes(old: &Node, new: &Node) -> Vec<ClusterEvent> {
    let mut out = Vec::new();
    let status = |n: &Node| n.status.clone().unwrap_or_default();
    let (os, ns) = (status(old), status(new));
    if os.allocatable != ns.allocatable || os.capacity != ns.capacity {
        out.push(ClusterEvent::NodeAllocatableChange);
    }
    if old.meta().labels != new.meta().labels {
        out.push(ClusterEvent::NodeLabelChange);
    }
    let spec = |n: &Node| n.spec.clone().unwrap_or_default();
    let (osp, nsp) = (spec(old), spec(new));
    if osp.taints != nsp.taints {
        out.push(ClusterEvent::NodeTaintChange);
    }
    if osp.unschedulable != nsp.unschedulable {
        out.push(ClusterEvent::NodeUnschedulableChange);
    }
    let conds = |s: &proto::k8s::NodeStatus| -> Vec<(String, String)> {
        s.conditions
            .iter()
            .map(|c| (c.r#type.clone(), c.status.clone()))
            .collect()
    };
    if conds(&os) != conds(&ns) {
        out.push(ClusterEvent::NodeConditionChange);
    }
    out
}

/// The scheduling loop's state. Public so tests can drive it event by event.
pub struct Core {
    pub framework: Arc<Framework>,
    pub cache: Cache,
    pub queue: SchedulingQueue,
    pods: Store<Pod>,
    binder: Arc<dyn Binder>,
    reporter: Arc<dyn Reporter>,
    rng: rand::rngs::StdRng,
    /// The trace context of the event that last queued each pending pod (only while the
    /// scheduler exports traces): the parent of its scheduling cycles.
    trace_parents: std::collections::HashMap<String, telemetry::trace::TraceParent>,
    next_start: usize,
    bind_tx: mpsc::UnboundedSender<BindDone>,
    bind_rx: mpsc::UnboundedReceiver<BindDone>,
    bind_slots: Arc<Semaphore>,
    binds: JoinSet<()>,
    /// Pods bound (confirmed by the binding call) since start.
    pub bound: u64,
    pub attempts: u64,
}

impl Core {
    pub fn new(
        framework: Arc<Framework>,
        options: &Options,
        pods: Store<Pod>,
        binder: Arc<dyn Binder>,
        reporter: Arc<dyn Reporter>,
    ) -> Core {
        let (bind_tx, bind_rx) = mpsc::unbounded_channel();
        Core {
            framework,
            cache: Cache::default(),
            queue: SchedulingQueue::new(options.initial_backoff, options.max_backoff),
            pods,
            binder,
            reporter,
            rng: rand::rngs::StdRng::from_os_rng(),
            trace_parents: Default::default(),
            next_start: 0,
            bind_tx,
            bind_rx,
            bind_slots: Arc::new(Semaphore::new(options.max_concurrent_binds.max(1))),
            binds: JoinSet::new(),
            bound: 0,
            attempts: 0,
        }
    }

    fn wake(&mut self, event: ClusterEvent) {
        let interested: Vec<&'static str> = self.framework.plugins_for(event).collect();
        let moved = self.queue.on_event(event, &interested, Instant::now());
        if moved > 0 {
            tracing::debug!(event = event_name(event), moved, "unschedulable pods moved");
        }
    }

    /// `on_pod` for an event with the trace context of the write that produced it: a
    /// pending pod's scheduling cycles join that trace.
    pub fn on_pod_traced(
        &mut self,
        ev: InformerEvent<Pod>,
        parent: Option<telemetry::trace::TraceParent>,
    ) {
        let pod = ev.object();
        let key = format!("{}/{}", pod.meta().namespace, pod.meta().name);
        let pending = !matches!(ev, InformerEvent::Deleted(_))
            && is_pending_for(pod, &self.framework.scheduler_name);
        match parent {
            Some(parent) if pending => {
                self.trace_parents.insert(key, parent);
            }
            _ if !pending => {
                self.trace_parents.remove(&key);
            }
            _ => {}
        }
        self.on_pod(ev);
    }

    pub fn on_pod(&mut self, ev: InformerEvent<Pod>) {
        match ev {
            InformerEvent::Added(p) | InformerEvent::Sync(p) => self.pod_upsert(None, p),
            InformerEvent::Modified { old, new } => self.pod_upsert(Some(old), new),
            InformerEvent::Deleted(p) => self.pod_delete(&p),
        }
    }

    fn pod_upsert(&mut self, old: Option<Arc<Pod>>, new: Arc<Pod>) {
        let key = format!("{}/{}", new.meta().namespace, new.meta().name);
        if is_terminal(&new) {
            self.pod_delete(&new);
            return;
        }
        if is_assigned(&new) {
            self.queue.delete(&key);
            self.cache.clear_nomination(&key);
            let was_assumed = self.cache.is_assumed(&key);
            let was_known = self.cache.node_of(&key).is_some() && !was_assumed;
            if let Some(o) = &old
                && was_known
                && !changed_for_scheduling(o, &new)
            {
                return;
            }
            self.cache.add_pod(Arc::new(PodInfo::new(new)));
            // Confirming our own assumption is an add (its resources were counted already).
            self.wake(if was_known {
                ClusterEvent::AssignedPodUpdate
            } else {
                ClusterEvent::AssignedPodAdd
            });
            return;
        }
        if !is_pending_for(&new, &self.framework.scheduler_name) {
            self.queue.delete(&key);
            self.cache.clear_nomination(&key);
            return;
        }
        if self.cache.is_assumed(&key) {
            return; // binding in flight
        }
        let info = Arc::new(PodInfo::new(new));
        let nominated = info
            .pod
            .status
            .as_ref()
            .map_or("", |s| s.nominated_node_name.as_str())
            .to_string();
        if !nominated.is_empty() || !self.cache.snapshot().nominated.is_empty() {
            self.cache.nominate(info.clone(), &nominated);
        }
        if let Some(o) = &old
            && !changed_for_scheduling(o, &info.pod)
            && self.queue.contains(&key)
        {
            // Status only (our own condition, nominatedNodeName): keep its place.
            self.queue.refresh(info);
            return;
        }
        self.queue.add(info, Instant::now());
    }

    fn pod_delete(&mut self, pod: &Pod) {
        let key = format!("{}/{}", pod.meta().namespace, pod.meta().name);
        self.queue.delete(&key);
        self.cache.clear_nomination(&key);
        if self.cache.node_of(&key).is_some() {
            self.cache.remove_pod(&key);
            self.wake(ClusterEvent::AssignedPodDelete);
        }
    }

    pub fn on_node(&mut self, ev: InformerEvent<Node>) {
        match ev {
            InformerEvent::Added(n) => {
                self.cache.add_node(n);
                self.wake(ClusterEvent::NodeAdd);
            }
            InformerEvent::Modified { old, new } => {
                let changes = node_changes(&old, &new);
                self.cache.add_node(new);
                for c in changes {
                    self.wake(c);
                }
            }
            InformerEvent::Deleted(n) => self.cache.remove_node(&n.meta().name),
            InformerEvent::Sync(_) => {}
        }
    }

    pub fn on_namespace(&mut self, ev: InformerEvent<Namespace>) {
        match ev {
            InformerEvent::Added(n) | InformerEvent::Sync(n) => self.cache.set_namespace(&n),
            InformerEvent::Modified { old, new } => {
                self.cache.set_namespace(&new);
                if old.meta().labels != new.meta().labels {
                    self.wake(ClusterEvent::NamespaceChange);
                }
            }
            InformerEvent::Deleted(n) => self.cache.remove_namespace(&n.meta().name),
        }
    }

    pub fn on_claim(&mut self, ev: InformerEvent<PersistentVolumeClaim>) {
        let storage = self.cache.storage_mut();
        match ev {
            InformerEvent::Added(c) | InformerEvent::Sync(c) => {
                storage.set_claim(c);
                self.wake(ClusterEvent::PersistentVolumeClaimAdd);
            }
            InformerEvent::Modified { new, .. } => {
                storage.set_claim(new);
                self.wake(ClusterEvent::PersistentVolumeClaimUpdate);
            }
            // A claim going helps no pod.
            InformerEvent::Deleted(c) => storage.remove_claim(&c),
        }
    }

    pub fn on_volume(&mut self, ev: InformerEvent<PersistentVolume>) {
        let storage = self.cache.storage_mut();
        match ev {
            InformerEvent::Added(v) | InformerEvent::Sync(v) => {
                storage.set_volume(v);
                self.wake(ClusterEvent::PersistentVolumeAdd);
            }
            InformerEvent::Modified { new, .. } => {
                storage.set_volume(new);
                self.wake(ClusterEvent::PersistentVolumeUpdate);
            }
            InformerEvent::Deleted(v) => storage.remove_volume(&v.meta().name),
        }
    }

    pub fn on_storage_class(&mut self, ev: InformerEvent<StorageClass>) {
        let storage = self.cache.storage_mut();
        match ev {
            InformerEvent::Added(c) | InformerEvent::Sync(c) => {
                storage.set_class(c);
                self.wake(ClusterEvent::StorageClassAdd);
            }
            InformerEvent::Modified { old, new } => {
                // Only the topologies of a class may change (its binding mode cannot).
                let topologies_changed = old.allowed_topologies != new.allowed_topologies;
                storage.set_class(new);
                if topologies_changed {
                    self.wake(ClusterEvent::StorageClassUpdate);
                }
            }
            InformerEvent::Deleted(c) => storage.remove_class(&c.meta().name),
        }
    }

    /// Time-driven queue moves (back-off expiry, the unschedulable safety flush).
    pub fn flush(&mut self) {
        let now = Instant::now();
        self.queue.flush_backoff(now);
        if self.queue.next_leftover_flush().is_some_and(|t| t <= now) {
            self.queue.flush_unschedulable_leftover(now);
        }
    }

    /// When the queue next needs `flush`.
    pub fn next_wakeup(&self) -> Option<Instant> {
        match (
            self.queue.next_backoff_expiry(),
            self.queue.next_leftover_flush(),
        ) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Schedules the next active pod; false when none is waiting.
    pub fn schedule_one(&mut self) -> bool {
        let Some(qp) = self.queue.pop() else {
            return false;
        };
        self.attempts += 1;
        let started = Instant::now();
        let key = qp.info.key.clone();
        let span = tracing::info_span!("schedule", pod = %key, attempt = qp.attempts);
        telemetry::trace::set_parent(&span, self.trace_parents.get(&key));
        let _g = span.enter();
        let result = schedule_pod(
            &self.framework,
            self.cache.prepared_snapshot(),
            &qp.info,
            &mut self.next_start,
            &mut self.rng,
        );
        match result {
            Ok(r) => {
                tracing::debug!(pod = %key, node = %r.node, evaluated = r.evaluated, feasible = r.feasible, "assumed");
                let volumes = match self.reserve_volumes(&qp.info, &r.node) {
                    Ok(v) => v,
                    Err(message) => {
                        // The snapshot changed under the decision: decide again.
                        tracing::warn!(pod = %key, %message, "reserving volumes failed; retrying after back-off");
                        metrics::attempt(
                            AttemptResult::Error,
                            &self.framework.scheduler_name,
                            started.elapsed(),
                        );
                        self.reporter.failed(
                            qp.info.pod.clone(),
                            format!(
                                "running Reserve plugin \"{}\": {message}",
                                volume_binding::NAME
                            ),
                        );
                        self.queue.add_backoff(qp, Instant::now());
                        return true;
                    }
                };
                self.cache.clear_nomination(&key);
                self.cache.assume(qp.info.clone(), &r.node);
                self.spawn_bind(qp, r.node, started, volumes);
            }
            Err(ScheduleError::Unschedulable(mut fit)) => {
                if self.framework.preemption {
                    self.try_preempt(&qp, &mut fit);
                }
                let message = fit.to_string();
                tracing::info!(pod = %key, %message, "unschedulable");
                metrics::attempt(
                    AttemptResult::Unschedulable,
                    &self.framework.scheduler_name,
                    started.elapsed(),
                );
                self.reporter.failed(qp.info.pod.clone(), message);
                self.queue
                    .add_unschedulable(qp, fit.rejected_by, Instant::now());
            }
            Err(ScheduleError::Internal(message)) => {
                tracing::warn!(pod = %key, %message, "scheduling error; retrying after back-off");
                metrics::attempt(
                    AttemptResult::Error,
                    &self.framework.scheduler_name,
                    started.elapsed(),
                );
                self.reporter.failed(qp.info.pod.clone(), message);
                self.queue.add_backoff(qp, Instant::now());
            }
        }
        true
    }

    /// Runs DefaultPreemption for a pod no node fits: evicts the chosen victims in the
    /// background, or adds why preemption cannot help to the failure message.
    fn try_preempt(&mut self, qp: &QueuedPod, fit: &mut crate::schedule::FitError) {
        metrics::preemption_attempt();
        match preempt(&self.framework, self.cache.snapshot(), &qp.info, fit) {
            Outcome::Preempt(p) => {
                metrics::preemption_victims(p.victims.len());
                // Hold the room at once, before the nomination is written.
                self.cache.nominate(qp.info.clone(), &p.node);
                let victims: Vec<String> = p.victims.iter().map(|v| v.key.clone()).collect();
                tracing::info!(pod = %qp.info.key, node = %p.node, ?victims, "preempting");
                for v in &p.victims {
                    self.reporter
                        .preempted(v.pod.clone(), qp.info.key.clone(), p.node.clone());
                }
                let fut = self.binder.preempt(
                    &qp.info.pod,
                    &p.node,
                    p.victims.iter().map(|v| v.pod.clone()).collect(),
                );
                let key = qp.info.key.clone();
                self.binds.spawn(async move {
                    if let Err(e) = fut.await {
                        tracing::warn!(pod = %key, error = %e, "preemption failed");
                    }
                });
            }
            Outcome::NotHelpful(message) => fit.post_filter_message = Some(message),
            Outcome::NotEligible => {}
        }
    }

    /// VolumeBinding's Reserve, when the profile runs it: the writes that bind the pod's
    /// waiting claims on `node`, assumed in the cache.
    fn reserve_volumes(&mut self, pod: &PodInfo, node: &str) -> Result<Option<VolumePlan>, String> {
        let framework = self.framework.clone();
        let Some(vb) = framework
            .filters
            .iter()
            .find_map(|f| f.as_any()?.downcast_ref::<VolumeBinding>())
        else {
            return Ok(None);
        };
        let Some(node) = self.cache.snapshot().node(node).map(|n| n.node.clone()) else {
            return Err(format!("node {node:?} not found"));
        };
        vb.reserve(&pod.pod, &node, self.cache.storage_mut())
    }

    fn spawn_bind(
        &mut self,
        qp: QueuedPod,
        node: String,
        started: Instant,
        volumes: Option<VolumePlan>,
    ) {
        let binder = self.binder.clone();
        let tx = self.bind_tx.clone();
        let slots = self.bind_slots.clone();
        // At info, as the cycle's: the binding call carries the trace to the kubelet.
        let span = tracing::info_span!("bind", pod = %qp.info.key, node = %node);
        self.binds.spawn(
            async move {
                let _permit = slots.acquire_owned().await;
                let mut prebind_failed = false;
                let mut result = Ok(());
                if let Some(plan) = volumes.clone() {
                    result = binder.bind_volumes(qp.info.pod.clone(), plan).await;
                    prebind_failed = result.is_err();
                }
                if result.is_ok() {
                    result = binder.bind(&qp.info.pod, &node).await;
                }
                let _ = tx.send(BindDone {
                    pod: qp,
                    node,
                    volumes,
                    prebind_failed,
                    result,
                    started,
                });
            }
            .instrument(span),
        );
    }

    fn on_bind_done(&mut self, done: BindDone) {
        let key = done.pod.info.key.clone();
        match done.result {
            Ok(()) => {
                self.bound += 1;
                metrics::attempt(
                    AttemptResult::Scheduled,
                    &self.framework.scheduler_name,
                    done.started.elapsed(),
                );
                metrics::scheduled_after(done.pod.attempts);
                tracing::debug!(pod = %key, node = %done.node, latency = ?done.pod.first_seen.elapsed(), "bound");
                self.reporter
                    .scheduled(done.pod.info.pod.clone(), done.node);
            }
            Err(e) => {
                tracing::warn!(pod = %key, node = %done.node, error = %e, "binding failed; un-assuming");
                metrics::attempt(
                    AttemptResult::Error,
                    &self.framework.scheduler_name,
                    done.started.elapsed(),
                );
                if self.cache.forget(&key) {
                    self.wake(ClusterEvent::AssignedPodDelete);
                }
                if let Some(plan) = &done.volumes {
                    // The volume assumed for this pod is free for others again.
                    self.cache.storage_mut().revert(plan);
                    self.wake(ClusterEvent::PersistentVolumeUpdate);
                }
                let current = self.pods.get(&key);
                match current {
                    Some(pod) if is_pending_for(&pod, &self.framework.scheduler_name) => {
                        let message = if done.prebind_failed {
                            e.to_string()
                        } else {
                            format!("Binding rejected: {e}")
                        };
                        self.reporter.failed(pod.clone(), message);
                        let mut qp = done.pod;
                        qp.info = Arc::new(PodInfo::new(pod));
                        self.queue.add_backoff(qp, Instant::now());
                    }
                    _ => {
                        tracing::debug!(pod = %key, "pod gone or assigned meanwhile; not requeued")
                    }
                }
            }
        }
    }

    /// Applies finished bindings without waiting.
    pub fn drain_binds(&mut self) {
        while let Ok(done) = self.bind_rx.try_recv() {
            self.on_bind_done(done);
        }
        while self.binds.try_join_next().is_some() {}
    }

    /// Waits for the bindings in flight (at most `grace`).
    pub async fn finish_binds(&mut self, grace: Duration) {
        let deadline = tokio::time::Instant::now() + grace;
        while !self.binds.is_empty() {
            match tokio::time::timeout_at(deadline, self.binds.join_next()).await {
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(_) => {
                    tracing::warn!(
                        in_flight = self.binds.len(),
                        "bindings still in flight at shutdown; abandoning them"
                    );
                    self.binds.abort_all();
                    break;
                }
            }
        }
        self.drain_binds();
    }

    pub fn binds_in_flight(&self) -> usize {
        self.binds.len()
    }

    /// Sets `scheduler_pending_pods` from the queue (its counts are kept, so this is cheap
    /// enough for every turn of the loop).
    pub fn record_pending(&self) {
        let (active, backoff, unschedulable) = self.queue.lens();
        metrics::pending(active, backoff, unschedulable);
    }
}

/// Runs the scheduler until `cancel`: informers, leader election, the loop.
pub async fn run(
    client: Client,
    framework: Framework,
    options: Options,
    reporter: Arc<dyn Reporter>,
    cancel: CancellationToken,
) -> Result<(), Error> {
    let framework = Arc::new(framework);
    let pods_inf = Informer::new(Api::<Pod>::all(client.clone()), InformerConfig::default());
    let nodes_inf = Informer::new(Api::<Node>::all(client.clone()), InformerConfig::default());
    let ns_inf = Informer::new(
        Api::<Namespace>::all(client.clone()),
        InformerConfig::default(),
    );
    let pvc_inf = Informer::new(
        Api::<PersistentVolumeClaim>::all(client.clone()),
        InformerConfig::default(),
    );
    let pv_inf = Informer::new(
        Api::<PersistentVolume>::all(client.clone()),
        InformerConfig::default(),
    );
    let sc_inf = Informer::new(
        Api::<StorageClass>::all(client.clone()),
        InformerConfig::default(),
    );
    let mut pod_rx = pods_inf.subscribe_traced();
    let mut node_rx = nodes_inf.subscribe();
    let mut ns_rx = ns_inf.subscribe();
    let mut pvc_rx = pvc_inf.subscribe();
    let mut pv_rx = pv_inf.subscribe();
    let mut sc_rx = sc_inf.subscribe();
    pods_inf.start();
    nodes_inf.start();
    ns_inf.start();
    pvc_inf.start();
    pv_inf.start();
    sc_inf.start();

    let (leading_tx, mut leading) = watch::channel(options.leader_election.is_none());
    let mut elector_task = None;
    if let Some(le) = options.leader_election.clone() {
        let elector = Arc::new(LeaderElector::new(client.clone(), le)?);
        options.probes.leader.set(elector.clone());
        let mut sub = elector.subscribe();
        let c = cancel.clone();
        let e = elector.clone();
        elector_task = Some(tokio::spawn(async move { e.run(c).await }));
        tokio::spawn(async move {
            while sub.changed().await.is_ok() {
                let v = *sub.borrow();
                if leading_tx.send(v).is_err() {
                    break;
                }
            }
        });
    }

    tracing::info!(scheduler = %framework.scheduler_name, filters = ?framework.filter_names(), scores = ?framework.score_names(), "waiting for caches to sync");
    for synced in [
        pods_inf.wait_until_synced().await,
        nodes_inf.wait_until_synced().await,
        ns_inf.wait_until_synced().await,
    ] {
        if !synced {
            return Ok(()); // cancelled before the first list
        }
    }
    // The storage caches are waited for a while only: a scheduler that may not read them
    // (RBAC) still places pods without claims; pods with claims wait for the claims'
    // events.
    let storage_synced = async {
        pvc_inf.wait_until_synced().await
            && pv_inf.wait_until_synced().await
            && sc_inf.wait_until_synced().await
    };
    tokio::select! {
        // The loop below sees the cancellation and stops.
        _ = cancel.cancelled() => {}
        synced = tokio::time::timeout(STORAGE_SYNC_GRACE, storage_synced) => {
            if synced.is_err() {
                tracing::warn!(
                    "persistentvolumeclaims, persistentvolumes or storageclasses not listed \
                     yet (may the scheduler list and watch them?); pods with claims wait for them"
                );
            }
        }
    }
    tracing::info!(
        nodes = nodes_inf.store().len(),
        pods = pods_inf.store().len(),
        "caches synced"
    );
    options.probes.set_synced();

    let binder: Arc<dyn Binder> = Arc::new(ApiBinder(client.clone()));
    let mut core = Core::new(framework, &options, pods_inf.store(), binder, reporter);
    let mut was_leading = false;
    let mut last_log = Instant::now();
    loop {
        // Apply everything that arrived, then make one decision on a consistent view.
        while let Ok(ev) = node_rx.try_recv() {
            core.on_node(ev);
        }
        while let Ok(ev) = ns_rx.try_recv() {
            core.on_namespace(ev);
        }
        while let Ok(ev) = sc_rx.try_recv() {
            core.on_storage_class(ev);
        }
        while let Ok(ev) = pv_rx.try_recv() {
            core.on_volume(ev);
        }
        while let Ok(ev) = pvc_rx.try_recv() {
            core.on_claim(ev);
        }
        while let Ok((ev, parent)) = pod_rx.try_recv() {
            core.on_pod_traced(ev, parent);
        }
        core.drain_binds();
        core.flush();
        let is_leading = *leading.borrow();
        if is_leading != was_leading {
            tracing::info!(leading = is_leading, "leadership changed");
            was_leading = is_leading;
        }
        if last_log.elapsed() >= Duration::from_secs(30) {
            let (a, b, u) = core.queue.lens();
            tracing::info!(
                active = a,
                backoff = b,
                unschedulable = u,
                bound = core.bound,
                attempts = core.attempts,
                nodes = core.cache.node_count(),
                "queue"
            );
            last_log = Instant::now();
        }
        core.record_pending();
        if cancel.is_cancelled() {
            break;
        }
        if is_leading && core.schedule_one() {
            // Let bindings and informers run between decisions.
            tokio::task::yield_now().await;
            continue;
        }
        let wakeup = core
            .next_wakeup()
            .map(tokio::time::Instant::from_std)
            .unwrap_or_else(|| tokio::time::Instant::now() + Duration::from_secs(3600));
        tokio::select! {
            _ = cancel.cancelled() => break,
            Some((ev, parent)) = pod_rx.recv() => core.on_pod_traced(ev, parent),
            Some(ev) = node_rx.recv() => core.on_node(ev),
            Some(ev) = ns_rx.recv() => core.on_namespace(ev),
            Some(ev) = pvc_rx.recv() => core.on_claim(ev),
            Some(ev) = pv_rx.recv() => core.on_volume(ev),
            Some(ev) = sc_rx.recv() => core.on_storage_class(ev),
            Some(done) = core.bind_rx.recv() => core.on_bind_done(done),
            r = leading.changed() => { if r.is_err() { break; } }
            _ = tokio::time::sleep_until(wakeup) => {}
        }
    }
    tracing::info!(in_flight = core.binds_in_flight(), "stopping");
    core.finish_binds(options.shutdown_grace).await;
    pods_inf.stop();
    nodes_inf.stop();
    ns_inf.stop();
    pvc_inf.stop();
    pv_inf.stop();
    sc_inf.stop();
    if let Some(t) = elector_task {
        // The elector releases the lease on cancel.
        let _ = tokio::time::timeout(Duration::from_secs(5), t).await;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{FileConfig, build_framework};
    use crate::report::FakeReporter;
    use proto::k8s::{NodeStatus, PodSpec};
    use std::sync::Mutex;

    /// Fails the first `fail` bindings, records the rest.
    struct FakeBinder {
        fail: Mutex<usize>,
        bound: Arc<Mutex<Vec<(String, String)>>>,
    }

    impl Binder for FakeBinder {
        fn bind(&self, pod: &Pod, node: &str) -> BoxFuture<'static, Result<(), ApiError>> {
            let key = format!("{}/{}", pod.meta().namespace, pod.meta().name);
            let mut fail = self.fail.lock().unwrap();
            let result = if *fail > 0 {
                *fail -= 1;
                Err(ApiError::new(proto::Reason::Unavailable, "apiserver down"))
            } else {
                self.bound.lock().unwrap().push((key, node.to_string()));
                Ok(())
            };
            Box::pin(async move { result })
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

    fn node(name: &str, cpu: &str) -> Arc<Node> {
        let mut n = Node::default();
        n.meta_mut().name = name.into();
        n.status = Some(NodeStatus {
            allocatable: [
                ("cpu".to_string(), cpu.to_string()),
                ("memory".to_string(), "8Gi".to_string()),
                ("pods".to_string(), "110".to_string()),
            ]
            .into(),
            ..Default::default()
        });
        Arc::new(n)
    }

    fn pod(name: &str, cpu: &str) -> Arc<Pod> {
        let mut p = Pod::default();
        p.meta_mut().name = name.into();
        p.meta_mut().namespace = "d".into();
        p.meta_mut().uid = format!("uid-{name}");
        p.spec = Some(PodSpec {
            scheduler_name: "default-scheduler".into(),
            containers: vec![proto::k8s::Container {
                name: "c".into(),
                resources: Some(proto::k8s::ResourceRequirements {
                    requests: [("cpu".to_string(), cpu.to_string())].into(),
                    ..Default::default()
                }),
                ..Default::default()
            }],
            ..Default::default()
        });
        Arc::new(p)
    }

    type Bound = Arc<Mutex<Vec<(String, String)>>>;

    fn core(fail: usize) -> (Core, Bound, Arc<FakeReporter>, Store<Pod>) {
        let bound = Arc::new(Mutex::new(Vec::new()));
        let binder = Arc::new(FakeBinder {
            fail: Mutex::new(fail),
            bound: bound.clone(),
        });
        let reporter = Arc::new(FakeReporter::default());
        let store = Store::new();
        let fw = Arc::new(build_framework(&FileConfig::default()).unwrap());
        let c = Core::new(
            fw,
            &Options::default(),
            store.clone(),
            binder,
            reporter.clone(),
        );
        (c, bound, reporter, store)
    }

    async fn settle(c: &mut Core) {
        c.finish_binds(Duration::from_secs(5)).await;
    }

    #[tokio::test]
    async fn a_pending_pod_keeps_its_events_trace_until_it_is_assigned_or_gone() {
        let (mut c, _, _, _) = core(0);
        let parent = telemetry::trace::TraceParent::parse(
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        );
        assert!(parent.is_some());
        c.on_pod_traced(InformerEvent::Added(pod("a", "1")), parent.clone());
        assert_eq!(c.trace_parents.get("d/a"), parent.as_ref());
        // An event without a context (a resync) keeps the one in hand.
        c.on_pod_traced(InformerEvent::Sync(pod("a", "1")), None);
        assert_eq!(c.trace_parents.get("d/a"), parent.as_ref());
        let mut bound = (*pod("a", "1")).clone();
        bound.spec.as_mut().unwrap().node_name = "n1".into();
        c.on_pod_traced(
            InformerEvent::Modified {
                old: pod("a", "1"),
                new: Arc::new(bound),
            },
            parent.clone(),
        );
        assert!(
            c.trace_parents.is_empty(),
            "assigned: nothing left to schedule"
        );
        c.on_pod_traced(InformerEvent::Added(pod("b", "1")), parent.clone());
        c.on_pod_traced(InformerEvent::Deleted(pod("b", "1")), None);
        assert!(c.trace_parents.is_empty(), "deleted");
    }

    #[tokio::test]
    async fn assume_then_bind_and_capacity_is_counted_before_confirmation() {
        let (mut c, bound, _, store) = core(0);
        c.on_node(InformerEvent::Added(node("n1", "1")));
        for name in ["a", "b"] {
            let p = pod(name, "600m");
            store.upsert(p.clone());
            c.on_pod(InformerEvent::Added(p));
        }
        assert!(c.schedule_one());
        // "a" is assumed on n1: "b" no longer fits even though no watch confirmed "a".
        assert!(c.schedule_one());
        settle(&mut c).await;
        assert_eq!(
            *bound.lock().unwrap(),
            [("d/a".to_string(), "n1".to_string())]
        );
        assert_eq!(c.queue.lens(), (0, 0, 1));
        // Deleting "a" (it was bound, the watch says so, then it goes) wakes "b".
        let mut a_bound = (*pod("a", "600m")).clone();
        a_bound.spec.as_mut().unwrap().node_name = "n1".into();
        let a_bound = Arc::new(a_bound);
        c.on_pod(InformerEvent::Modified {
            old: pod("a", "600m"),
            new: a_bound.clone(),
        });
        assert!(!c.cache.is_assumed("d/a"));
        assert_eq!(
            c.queue.lens(),
            (0, 0, 1),
            "an added pod does not help a cpu-starved pod"
        );
        c.on_pod(InformerEvent::Deleted(a_bound));
        let (active, backoff, unsched) = c.queue.lens();
        assert_eq!(unsched, 0);
        assert_eq!(active + backoff, 1);
    }

    #[tokio::test]
    async fn failed_binding_unassumes_and_requeues_with_backoff() {
        let (mut c, bound, reporter, store) = core(1);
        c.on_node(InformerEvent::Added(node("n1", "1")));
        let p = pod("a", "600m");
        store.upsert(p.clone());
        c.on_pod(InformerEvent::Added(p));
        assert!(c.schedule_one());
        assert!(c.cache.is_assumed("d/a"));
        settle(&mut c).await;
        assert!(!c.cache.is_assumed("d/a"));
        assert_eq!(
            c.cache.snapshot().node("n1").unwrap().requested.milli_cpu,
            0,
            "un-assumed"
        );
        assert_eq!(c.queue.lens(), (0, 1, 0), "in back-off");
        let failures = reporter.failures.lock().unwrap().clone();
        assert_eq!(failures.len(), 1);
        assert!(
            failures[0].1.starts_with("Binding rejected: "),
            "{failures:?}"
        );
        assert!(!c.schedule_one(), "not before the back-off");
        c.queue
            .flush_backoff(Instant::now() + Duration::from_secs(2));
        assert!(c.schedule_one());
        settle(&mut c).await;
        assert_eq!(
            *bound.lock().unwrap(),
            [("d/a".to_string(), "n1".to_string())]
        );
        assert_eq!(reporter.scheduled.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn other_schedulers_pods_and_status_only_updates_are_ignored() {
        let (mut c, _, _, _) = core(0);
        let mut other = (*pod("x", "1")).clone();
        other.spec.as_mut().unwrap().scheduler_name = "my-scheduler".into();
        c.on_pod(InformerEvent::Added(Arc::new(other)));
        assert_eq!(c.queue.lens(), (0, 0, 0));
        // No nodes: the pod becomes unschedulable; writing its condition must not wake it.
        let p = pod("a", "1");
        c.on_pod(InformerEvent::Added(p.clone()));
        assert!(c.schedule_one());
        assert_eq!(c.queue.lens(), (0, 0, 1));
        let mut with_status = (*p).clone();
        with_status
            .status
            .get_or_insert_with(Default::default)
            .conditions
            .push(proto::k8s::PodCondition {
                r#type: "PodScheduled".into(),
                status: "False".into(),
                ..Default::default()
            });
        with_status.meta_mut().resource_version = "99".into();
        c.on_pod(InformerEvent::Modified {
            old: p.clone(),
            new: Arc::new(with_status),
        });
        assert_eq!(c.queue.lens(), (0, 0, 1));
        // A node appearing does.
        c.on_node(InformerEvent::Added(node("n1", "4")));
        assert_eq!(c.queue.lens().2, 0);
    }

    #[tokio::test]
    async fn attempts_pending_pods_and_queue_arrivals_are_counted() {
        let profile = "metrics-test-scheduler";
        let (mut c, _, _, store) = core(1);
        let mut fw = build_framework(&FileConfig::default()).unwrap();
        fw.scheduler_name = profile.into();
        c.framework = Arc::new(fw);
        let pod_for = |name: &str, cpu: &str| {
            let mut p = (*pod(name, cpu)).clone();
            p.spec.as_mut().unwrap().scheduler_name = profile.into();
            Arc::new(p)
        };
        let series = |metric: &str, result: &str| {
            metrics::sample(&format!(
                r#"{metric}{{result="{result}",profile="{profile}"}}"#
            ))
            .unwrap_or(0.0)
        };
        c.on_node(InformerEvent::Added(node("n1", "1")));
        for p in [pod_for("a", "600m"), pod_for("big", "4")] {
            store.upsert(p.clone());
            c.on_pod(InformerEvent::Added(p));
        }
        c.record_pending();
        assert_eq!(c.queue.lens(), (2, 0, 0));
        // "a" is scheduled, but its binding fails once (an error), then succeeds; "big"
        // fits nowhere (unschedulable).
        assert!(c.schedule_one());
        assert!(c.schedule_one());
        settle(&mut c).await;
        assert_eq!(
            series("scheduler_schedule_attempts_total", "unschedulable"),
            1.0
        );
        assert_eq!(series("scheduler_schedule_attempts_total", "error"), 1.0);
        // Un-assuming "a" frees room on n1: "big" gets another chance too.
        assert_eq!(c.queue.lens(), (0, 2, 0));
        c.queue
            .flush_backoff(Instant::now() + Duration::from_secs(2));
        while c.schedule_one() {}
        settle(&mut c).await;
        assert_eq!(
            series("scheduler_schedule_attempts_total", "scheduled"),
            1.0
        );
        assert_eq!(
            series("scheduler_schedule_attempts_total", "unschedulable"),
            2.0
        );
        assert!(metrics::sample("scheduler_pod_scheduling_attempts_count").unwrap_or(0.0) >= 1.0);
        assert_eq!(
            series(
                "scheduler_scheduling_attempt_duration_seconds_count",
                "scheduled"
            ),
            1.0
        );
        // The gauge is process-wide: only this test sets it, from this core's queue.
        c.record_pending();
        let pending =
            |q: &str| metrics::sample(&format!(r#"scheduler_pending_pods{{queue="{q}"}}"#));
        assert_eq!(pending("active"), Some(0.0));
        assert_eq!(pending("backoff"), Some(0.0));
        assert_eq!(pending("unschedulable"), Some(1.0));
        assert_eq!(pending("gated"), Some(0.0));
        assert!(
            metrics::sample(
                r#"scheduler_queue_incoming_pods_total{queue="active",event="BackoffComplete"}"#
            )
            .unwrap_or(0.0)
                >= 1.0
        );
    }

    #[tokio::test]
    async fn a_claim_arriving_wakes_the_pod_waiting_for_it() {
        use proto::k8s::{PersistentVolumeClaimSpec, PersistentVolumeSpec};
        let (mut c, bound, reporter, store) = core(0);
        c.on_node(InformerEvent::Added(node("n1", "4")));
        let mut p = (*pod("a", "1")).clone();
        p.spec.as_mut().unwrap().volumes = vec![proto::k8s::Volume {
            name: "d".into(),
            volume_source: Some(proto::k8s::volume::VolumeSource::PersistentVolumeClaim(
                proto::k8s::PersistentVolumeClaimVolumeSource {
                    claim_name: "data".into(),
                    ..Default::default()
                },
            )),
        }];
        let p = Arc::new(p);
        store.upsert(p.clone());
        c.on_pod(InformerEvent::Added(p));
        assert!(c.schedule_one());
        assert_eq!(c.queue.lens(), (0, 0, 1));
        assert!(
            reporter.failures.lock().unwrap()[0]
                .1
                .contains(r#"persistentvolumeclaim "data" not found"#)
        );
        // Events VolumeBinding did not register leave it parked.
        c.on_namespace(InformerEvent::Modified {
            old: Arc::new(Namespace::default()),
            new: Arc::new({
                let mut n = Namespace::default();
                n.meta_mut().labels.insert("x".into(), "y".into());
                n
            }),
        });
        assert_eq!(c.queue.lens(), (0, 0, 1), "not woken by a namespace change");
        // The claim arrives, bound to a volume without affinity: the pod is woken, and fits
        // once the volume is known too.
        let mut pvc = PersistentVolumeClaim::default();
        pvc.meta_mut().name = "data".into();
        pvc.meta_mut().namespace = "d".into();
        pvc.meta_mut()
            .annotations
            .insert(volume_binding::ANN_BIND_COMPLETED.into(), "yes".into());
        pvc.spec = Some(PersistentVolumeClaimSpec {
            volume_name: "pv".into(),
            ..Default::default()
        });
        c.on_claim(InformerEvent::Added(Arc::new(pvc)));
        assert_eq!(c.queue.lens().2, 0, "woken");
        let mut pv = PersistentVolume::default();
        pv.meta_mut().name = "pv".into();
        pv.spec = Some(PersistentVolumeSpec::default());
        c.on_volume(InformerEvent::Added(Arc::new(pv)));
        c.queue
            .flush_backoff(Instant::now() + Duration::from_secs(2));
        assert!(c.schedule_one());
        settle(&mut c).await;
        assert_eq!(
            *bound.lock().unwrap(),
            [("d/a".to_string(), "n1".to_string())]
        );
    }

    #[test]
    fn node_change_events() {
        let a = node("n", "4");
        let mut b = (*a).clone();
        assert!(node_changes(&a, &b).is_empty());
        b.meta_mut().labels.insert("zone".into(), "a".into());
        b.spec.get_or_insert_with(Default::default).unschedulable = true;
        assert_eq!(
            node_changes(&a, &b),
            [
                ClusterEvent::NodeLabelChange,
                ClusterEvent::NodeUnschedulableChange
            ]
        );
        let mut c = (*a).clone();
        c.status
            .as_mut()
            .unwrap()
            .allocatable
            .insert("cpu".into(), "8".into());
        assert_eq!(node_changes(&a, &c), [ClusterEvent::NodeAllocatableChange]);
    }
}
