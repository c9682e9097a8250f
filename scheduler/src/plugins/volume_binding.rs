//! VolumeBinding (Kubernetes' `volumebinding` plugin): a pod's PersistentVolumeClaims decide
//! where it may run, and the claims still waiting for their first consumer are bound for the
//! node chosen.
//!
//! - PreFilter (`pod_claims`): a missing claim, a lost one, one being deleted, or an unbound
//!   claim of an Immediate class (or of no class) rejects the pod on every node; the PV
//!   binder or a provisioner has to bind it first.
//! - Filter (`find_pod_volumes`), per node: a bound claim's volume must accept the node (its
//!   required node affinity); an unbound WaitForFirstConsumer claim needs an Available
//!   volume that fits it on this node (static), or a class with a provisioner whose
//!   allowedTopologies admit the node (dynamic).
//! - Reserve (`VolumeBinding::reserve`, once a node is chosen): the writes to make (a static
//!   volume pre-bound through its claimRef, or the claim annotated with the selected node),
//!   assumed at once in the `StorageCache` so the next pod does not take the same volume.
//! - PreBind (the scheduler's binding task): writes the plan, then waits, as Kubernetes
//!   does, until `check_bindings` says every claim is bound, before the pod is bound.
//!
//! Everything here is pure; the API calls are in `scheduler.rs`.

use crate::cache::Snapshot;
use crate::framework::{ClusterEvent, CycleState, FilterPlugin, Plugin, Status};
use crate::nodeinfo::NodeInfo;
use crate::podinfo::PodInfo;
use proto::Resource;
pub use proto::claims::claim_class;
use proto::claims::{claim_request, volume_class};
use proto::k8s::volume::VolumeSource;
use proto::k8s::{
    Node, ObjectReference, PersistentVolume, PersistentVolumeClaim, Pod, StorageClass,
};
use proto::node_affinity::Term;
use proto::quantity::Quantity;
use proto::selector::LabelSelector;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

pub const NAME: &str = "VolumeBinding";

pub const ANN_SELECTED_NODE: &str = "volume.kubernetes.io/selected-node";
pub const ANN_BIND_COMPLETED: &str = "pv.kubernetes.io/bind-completed";
pub const ANN_BOUND_BY_CONTROLLER: &str = "pv.kubernetes.io/bound-by-controller";
/// The class annotation older manifests use; it wins over `storageClassName`, as in
/// Kubernetes.
/// A class with this provisioner (or none) has static volumes only.
pub const NO_PROVISIONER: &str = "kubernetes.io/no-provisioner";

pub const UNBOUND_IMMEDIATE: &str = "pod has unbound immediate PersistentVolumeClaims";
pub const NODE_CONFLICT: &str = "node(s) had volume node affinity conflict";
pub const BIND_CONFLICT: &str = "node(s) didn't find available persistent volumes to bind";
pub const PV_NOT_EXIST: &str =
    "node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)";

/// Kubernetes' `bindTimeoutSeconds` default: how long PreBind waits for the claims.
pub const DEFAULT_BIND_TIMEOUT: Duration = Duration::from_secs(600);

const STATE_KEY: &str = NAME;

/// `pluginConfig` args, as Kubernetes' VolumeBindingArgs (without `shape`, which only the
/// alpha capacity scoring reads).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Args {
    #[serde(default)]
    pub bind_timeout_seconds: Option<u64>,
}

pub struct VolumeBinding {
    pub bind_timeout: Duration,
}

impl Default for VolumeBinding {
    fn default() -> Self {
        VolumeBinding {
            bind_timeout: DEFAULT_BIND_TIMEOUT,
        }
    }
}

impl VolumeBinding {
    pub fn from_args(args: Args) -> VolumeBinding {
        VolumeBinding {
            bind_timeout: args
                .bind_timeout_seconds
                .map_or(DEFAULT_BIND_TIMEOUT, Duration::from_secs),
        }
    }

    /// Kubernetes' Reserve: the writes that bind the pod's waiting claims on `node`,
    /// assumed in `storage` at once. `None` when every claim is bound already (or the pod
    /// has none). An error means the pod no longer fits the node it was chosen for.
    pub fn reserve(
        &self,
        pod: &Pod,
        node: &Arc<Node>,
        storage: &mut StorageCache,
    ) -> Result<Option<VolumePlan>, String> {
        let claims = match pod_claims(pod, storage) {
            PreFilter::Skip => return Ok(None),
            PreFilter::Claims(c) => c,
            PreFilter::Reject(m) | PreFilter::Error(m) => return Err(m),
        };
        if claims.delayed.is_empty() {
            return Ok(None);
        }
        let volumes = match find_pod_volumes(&claims, node) {
            NodeFit::Fits(v) => v,
            NodeFit::Conflict(r) => return Err(r.join(", ")),
        };
        let plan = plan(&volumes, node.clone(), self.bind_timeout);
        storage.assume(&plan);
        Ok(Some(plan))
    }
}

impl Plugin for VolumeBinding {
    fn name(&self) -> &'static str {
        NAME
    }
    /// A claim or volume made or changed (bound, provisioned, freed), a class made or its
    /// topologies changed, a node that may match a volume's affinity.
    fn events(&self) -> &'static [ClusterEvent] {
        &[
            ClusterEvent::NodeAdd,
            ClusterEvent::NodeLabelChange,
            ClusterEvent::NodeTaintChange,
            ClusterEvent::PersistentVolumeClaimAdd,
            ClusterEvent::PersistentVolumeClaimUpdate,
            ClusterEvent::PersistentVolumeAdd,
            ClusterEvent::PersistentVolumeUpdate,
            ClusterEvent::StorageClassAdd,
            ClusterEvent::StorageClassUpdate,
        ]
    }
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

impl FilterPlugin for VolumeBinding {
    fn pre_filter(&self, state: &mut CycleState, pod: &PodInfo, snap: &Snapshot) -> Status {
        match pod_claims(&pod.pod, &snap.storage) {
            PreFilter::Skip => Status::skip(),
            PreFilter::Claims(c) => {
                state.write(STATE_KEY, c);
                Status::success()
            }
            PreFilter::Reject(m) => Status::unresolvable(m),
            PreFilter::Error(m) => Status::error(m),
        }
    }

    fn filter(&self, state: &CycleState, _: &PodInfo, node: &NodeInfo) -> Status {
        let Some(claims) = state.read::<PodClaims>(STATE_KEY) else {
            return Status::success();
        };
        match find_pod_volumes(claims, &node.node) {
            NodeFit::Fits(_) => Status::success(),
            NodeFit::Conflict(reasons) => Status {
                code: crate::framework::Code::UnschedulableAndUnresolvable,
                reasons: reasons.into_iter().map(String::from).collect(),
            },
        }
    }
}

// ---------------------------------------------------------------------------------------
// The storage objects the scheduler watches

/// An object assumed by the scheduler, and the resourceVersion it was derived from: any
/// newer version from the watch replaces it (Kubernetes' assume cache).
#[derive(Debug, Clone)]
struct Assumed<T> {
    object: Arc<T>,
    base_version: String,
}

/// Claims, volumes and classes as the watch reports them, with the scheduler's assumed
/// writes on top (a volume pre-bound or a claim annotated for a pod whose binding is in
/// flight), so the next decision sees them before the watch does.
#[derive(Debug, Default)]
pub struct StorageCache {
    claims: HashMap<String, Arc<PersistentVolumeClaim>>,
    volumes: HashMap<String, Arc<PersistentVolume>>,
    classes: HashMap<String, Arc<StorageClass>>,
    assumed_claims: HashMap<String, Assumed<PersistentVolumeClaim>>,
    assumed_volumes: HashMap<String, Assumed<PersistentVolume>>,
}

fn claim_key(pvc: &PersistentVolumeClaim) -> String {
    format!("{}/{}", pvc.meta().namespace, pvc.meta().name)
}

impl StorageCache {
    pub fn set_claim(&mut self, pvc: Arc<PersistentVolumeClaim>) {
        let key = claim_key(&pvc);
        if self
            .assumed_claims
            .get(&key)
            .is_some_and(|a| a.base_version != pvc.meta().resource_version)
        {
            self.assumed_claims.remove(&key);
        }
        self.claims.insert(key, pvc);
    }

    pub fn remove_claim(&mut self, pvc: &PersistentVolumeClaim) {
        let key = claim_key(pvc);
        self.assumed_claims.remove(&key);
        self.claims.remove(&key);
    }

    pub fn set_volume(&mut self, pv: Arc<PersistentVolume>) {
        let name = pv.meta().name.clone();
        if self
            .assumed_volumes
            .get(&name)
            .is_some_and(|a| a.base_version != pv.meta().resource_version)
        {
            self.assumed_volumes.remove(&name);
        }
        self.volumes.insert(name, pv);
    }

    pub fn remove_volume(&mut self, name: &str) {
        self.assumed_volumes.remove(name);
        self.volumes.remove(name);
    }

    pub fn set_class(&mut self, class: Arc<StorageClass>) {
        self.classes.insert(class.meta().name.clone(), class);
    }

    pub fn remove_class(&mut self, name: &str) {
        self.classes.remove(name);
    }

    pub fn claim(&self, namespace: &str, name: &str) -> Option<&Arc<PersistentVolumeClaim>> {
        let key = format!("{namespace}/{name}");
        self.assumed_claims
            .get(&key)
            .map(|a| &a.object)
            .or_else(|| self.claims.get(&key))
    }

    pub fn volume(&self, name: &str) -> Option<&Arc<PersistentVolume>> {
        self.assumed_volumes
            .get(name)
            .map(|a| &a.object)
            .or_else(|| self.volumes.get(name))
    }

    pub fn class(&self, name: &str) -> Option<&Arc<StorageClass>> {
        self.classes.get(name)
    }

    /// Every volume of `class` (assumed versions first), as Kubernetes' `ListPVs(class)`.
    fn volumes_of_class<'a>(
        &'a self,
        class: &'a str,
    ) -> impl Iterator<Item = &'a Arc<PersistentVolume>> + 'a {
        self.volumes
            .keys()
            .filter_map(|name| self.volume(name))
            .filter(move |pv| volume_class(pv) == class)
    }

    /// Records the plan's writes before they are made.
    pub fn assume(&mut self, plan: &VolumePlan) {
        for b in &plan.bindings {
            let name = b.volume.meta().name.clone();
            let base_version = self
                .volumes
                .get(&name)
                .map(|v| v.meta().resource_version.clone())
                .unwrap_or_default();
            self.assumed_volumes.insert(
                name,
                Assumed {
                    object: b.volume.clone(),
                    base_version,
                },
            );
        }
        for p in &plan.provisions {
            let key = claim_key(&p.claim);
            let base_version = self
                .claims
                .get(&key)
                .map(|c| c.meta().resource_version.clone())
                .unwrap_or_default();
            self.assumed_claims.insert(
                key,
                Assumed {
                    object: p.claim.clone(),
                    base_version,
                },
            );
        }
    }

    /// Undoes `assume` after a failed binding: the watched objects count again.
    pub fn revert(&mut self, plan: &VolumePlan) {
        for b in &plan.bindings {
            self.assumed_volumes.remove(&b.volume.meta().name);
        }
        for p in &plan.provisions {
            self.assumed_claims.remove(&claim_key(&p.claim));
        }
    }
}

// ---------------------------------------------------------------------------------------
// Decisions

/// The pod's claims as PreFilter sorts them (Kubernetes' `GetPodVolumes`).
#[derive(Debug, Clone, Default)]
pub struct PodClaims {
    /// Bound claims with their volume (`None`: the volume is not known).
    bound: Vec<(Arc<PersistentVolumeClaim>, Option<Volume>)>,
    /// Unbound claims of WaitForFirstConsumer classes, smallest request first.
    delayed: Vec<DelayedClaim>,
}

#[derive(Debug, Clone)]
struct DelayedClaim {
    claim: Arc<PersistentVolumeClaim>,
    request: Quantity,
    class: Arc<StorageClass>,
    selector: Option<LabelSelector>,
    /// The volumes of its class, with their affinity parsed once per cycle.
    candidates: Vec<Volume>,
}

#[derive(Debug, Clone)]
struct Volume {
    pv: Arc<PersistentVolume>,
    capacity: Quantity,
    /// `None`: no required node affinity. `Some(Err)`: malformed, matches no node.
    affinity: Option<Result<Vec<Term>, ()>>,
}

impl Volume {
    fn new(pv: Arc<PersistentVolume>) -> Volume {
        let spec = pv.spec.as_ref();
        let capacity = spec
            .and_then(|s| s.capacity.get("storage"))
            .and_then(|q| q.parse().ok())
            .unwrap_or_default();
        let affinity = spec
            .and_then(|s| s.node_affinity.as_ref())
            .and_then(|a| a.required.as_ref())
            .map(|sel| {
                sel.node_selector_terms
                    .iter()
                    .map(Term::parse)
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|_| ())
            });
        Volume {
            pv,
            capacity,
            affinity,
        }
    }

    /// Kubernetes' `CheckNodeAffinity`: terms ORed, an empty list matches no node.
    fn accepts(&self, node: &Node) -> bool {
        match &self.affinity {
            None => true,
            Some(Ok(terms)) => terms.iter().any(|t| t.matches(node)),
            Some(Err(())) => false,
        }
    }
}

/// What PreFilter concludes.
#[derive(Debug)]
pub enum PreFilter {
    /// No claims: nothing to check.
    Skip,
    Claims(PodClaims),
    /// The pod fits no node until a claim changes.
    Reject(String),
    Error(String),
}

/// A claim a pod's volume uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodClaim {
    pub name: String,
    /// A generic ephemeral volume: the claim is `<pod>-<volume>`, made for the pod by the
    /// ephemeral volume controller and owned by it.
    pub ephemeral: bool,
}

/// The claims of the pod's `persistentVolumeClaim` and `ephemeral` volumes, each once.
pub fn claim_names(pod: &Pod) -> Vec<PodClaim> {
    let mut names: Vec<PodClaim> = Vec::new();
    for v in pod.spec.iter().flat_map(|s| &s.volumes) {
        let claim = match &v.volume_source {
            Some(VolumeSource::PersistentVolumeClaim(c)) => PodClaim {
                name: c.claim_name.clone(),
                ephemeral: false,
            },
            Some(VolumeSource::Ephemeral(_)) => PodClaim {
                name: format!("{}-{}", pod.meta().name, v.name),
                ephemeral: true,
            },
            _ => continue,
        };
        if !names.iter().any(|n| n.name == claim.name) {
            names.push(claim);
        }
    }
    names
}

/// Bound, as the PV controller finishes it: a volume named and the bind-completed mark.
pub fn is_claim_fully_bound(pvc: &PersistentVolumeClaim) -> bool {
    pvc.spec.as_ref().is_some_and(|s| !s.volume_name.is_empty())
        && pvc.meta().annotations.contains_key(ANN_BIND_COMPLETED)
}

/// Whether the class binds on first use. A missing class is Immediate, as Kubernetes
/// (the claim waits for the PV binder).
fn delays_binding(
    pvc: &PersistentVolumeClaim,
    storage: &StorageCache,
) -> Option<Arc<StorageClass>> {
    let class = storage.class(claim_class(pvc))?;
    (class.volume_binding_mode.as_deref() == Some("WaitForFirstConsumer")).then(|| class.clone())
}

/// PreFilter: the pod's claims looked up and sorted, or why it fits no node.
pub fn pod_claims(pod: &Pod, storage: &StorageCache) -> PreFilter {
    let names = claim_names(pod);
    if names.is_empty() {
        return PreFilter::Skip;
    }
    let ns = &pod.meta().namespace;
    let mut claims = Vec::with_capacity(names.len());
    for PodClaim { name, ephemeral } in names {
        let Some(pvc) = storage.claim(ns, &name) else {
            return PreFilter::Reject(if ephemeral {
                // Normal right after the pod is made.
                format!(
                    "waiting for ephemeral volume controller to create the persistentvolumeclaim {name:?}"
                )
            } else {
                format!("persistentvolumeclaim {name:?} not found")
            });
        };
        if pvc.status.as_ref().is_some_and(|s| s.phase == "Lost") {
            let volume = pvc.spec.as_ref().map_or("", |s| s.volume_name.as_str());
            return PreFilter::Reject(format!(
                "persistentvolumeclaim {name:?} bound to non-existent persistentvolume {volume:?}"
            ));
        }
        if !pvc.meta().deletion_timestamp.is_empty() {
            return PreFilter::Reject(format!("persistentvolumeclaim {name:?} is being deleted"));
        }
        let owned =
            pvc.meta().owner_references.iter().any(|r| {
                r.controller == Some(true) && !r.uid.is_empty() && r.uid == pod.meta().uid
            });
        if ephemeral && !owned {
            return PreFilter::Reject(format!(
                "PVC {ns}/{name} was not created for pod {ns}/{} (pod is not owner)",
                pod.meta().name
            ));
        }
        claims.push(pvc.clone());
    }
    let mut out = PodClaims::default();
    let mut unbound_immediate = false;
    for pvc in claims {
        if is_claim_fully_bound(&pvc) {
            let volume_name = pvc.spec.as_ref().map_or("", |s| s.volume_name.as_str());
            let volume = storage.volume(volume_name).cloned().map(Volume::new);
            out.bound.push((pvc, volume));
            continue;
        }
        let named = pvc.spec.as_ref().is_some_and(|s| !s.volume_name.is_empty());
        match delays_binding(&pvc, storage) {
            // A claim naming its volume is the PV binder's to finish, as an Immediate one.
            Some(class) if !named => {
                let selector = match pvc.spec.as_ref().and_then(|s| s.selector.as_ref()) {
                    None => None,
                    Some(s) => match LabelSelector::from_proto(s) {
                        Ok(s) => Some(s),
                        Err(e) => {
                            return PreFilter::Error(format!(
                                "error creating internal label selector for claim {}: {e}",
                                claim_key(&pvc)
                            ));
                        }
                    },
                };
                let request = claim_request(&pvc);
                let candidates = storage
                    .volumes_of_class(&class.meta().name)
                    .cloned()
                    .map(Volume::new)
                    .collect();
                out.delayed.push(DelayedClaim {
                    claim: pvc,
                    request,
                    class,
                    selector,
                    candidates,
                });
            }
            _ => unbound_immediate = true,
        }
    }
    if unbound_immediate {
        return PreFilter::Reject(UNBOUND_IMMEDIATE.into());
    }
    // The smallest requests choose first, so they take the smallest volumes.
    out.delayed.sort_by_key(|c| c.request);
    PreFilter::Claims(out)
}

/// A static volume chosen for a claim.
#[derive(Debug, Clone)]
pub struct StaticBinding {
    pub volume: Arc<PersistentVolume>,
    pub claim: Arc<PersistentVolumeClaim>,
}

/// What the pod's waiting claims get on one node (Kubernetes' `PodVolumes`).
#[derive(Debug, Clone, Default)]
pub struct PodVolumes {
    pub static_bindings: Vec<StaticBinding>,
    /// Claims a provisioner makes a volume for on this node.
    pub provisions: Vec<Arc<PersistentVolumeClaim>>,
}

#[derive(Debug)]
pub enum NodeFit {
    Fits(PodVolumes),
    Conflict(Vec<&'static str>),
}

/// Filter for one node (Kubernetes' `FindPodVolumes`): the bound claims' volumes accept
/// it, and every waiting claim gets a static volume here or can be provisioned here.
pub fn find_pod_volumes(claims: &PodClaims, node: &Node) -> NodeFit {
    let mut bound_ok = true;
    let mut volumes_found = true;
    for (_, volume) in &claims.bound {
        match volume {
            None => {
                volumes_found = false;
                break;
            }
            Some(v) if !v.accepts(node) => {
                bound_ok = false;
                break;
            }
            Some(_) => {}
        }
    }
    let mut volumes = PodVolumes::default();
    let unbound_ok = match_and_provision(claims, node, &mut volumes);
    // Kubernetes' order of the reasons.
    let reasons: Vec<&'static str> = [
        (!bound_ok, NODE_CONFLICT),
        (!unbound_ok, BIND_CONFLICT),
        (!volumes_found, PV_NOT_EXIST),
    ]
    .into_iter()
    .filter_map(|(failed, reason)| failed.then_some(reason))
    .collect();
    if reasons.is_empty() {
        NodeFit::Fits(volumes)
    } else {
        NodeFit::Conflict(reasons)
    }
}

/// The waiting claims on `node`: a static volume each where one fits, else provisioning;
/// false when some claim can have neither.
fn match_and_provision(claims: &PodClaims, node: &Node, volumes: &mut PodVolumes) -> bool {
    let mut to_provision: Vec<&DelayedClaim> = Vec::new();
    let mut to_match: Vec<&DelayedClaim> = Vec::new();
    for c in &claims.delayed {
        match c.claim.meta().annotations.get(ANN_SELECTED_NODE) {
            // Being provisioned for another node already.
            Some(selected) if *selected != node.meta().name => return false,
            Some(_) => to_provision.push(c),
            None => to_match.push(c),
        }
    }
    let mut chosen: HashSet<&str> = HashSet::new();
    for c in to_match {
        match find_matching_volume(c, node, &chosen) {
            Some(v) => {
                chosen.insert(&v.pv.meta().name);
                volumes.static_bindings.push(StaticBinding {
                    volume: v.pv.clone(),
                    claim: c.claim.clone(),
                });
            }
            None => to_provision.push(c),
        }
    }
    if !to_provision.iter().all(|c| can_provision(&c.class, node)) {
        return false;
    }
    volumes.provisions = to_provision.iter().map(|c| c.claim.clone()).collect();
    true
}

fn is_volume_bound_to_claim(pv: &PersistentVolume, pvc: &PersistentVolumeClaim) -> bool {
    let Some(r) = pv.spec.as_ref().and_then(|s| s.claim_ref.as_ref()) else {
        return false;
    };
    let m = pvc.meta();
    r.name == m.name && r.namespace == m.namespace && (r.uid.is_empty() || r.uid == m.uid)
}

fn volume_mode(m: Option<&String>) -> &str {
    match m.map(String::as_str) {
        None | Some("") => "Filesystem",
        Some(m) => m,
    }
}

/// Kubernetes' `FindMatchingVolume` on the scheduler's path: a volume pre-bound to the
/// claim wins if the node suits it; otherwise the smallest Available volume of the class
/// that is big enough, of the same volume mode, matches the claim's selector, accepts the
/// node and offers the claim's access modes (ties to the name sorting first).
fn find_matching_volume<'a>(
    c: &'a DelayedClaim,
    node: &Node,
    excluded: &HashSet<&str>,
) -> Option<&'a Volume> {
    let spec = c.claim.spec.clone().unwrap_or_default();
    let mut best: Option<&Volume> = None;
    for v in &c.candidates {
        let pv = &v.pv;
        let Some(vspec) = pv.spec.as_ref() else {
            continue;
        };
        if excluded.contains(pv.meta().name.as_str()) {
            continue;
        }
        let prebound = is_volume_bound_to_claim(pv, &c.claim);
        if vspec.claim_ref.is_some() && !prebound {
            continue;
        }
        if v.capacity < c.request
            || volume_mode(spec.volume_mode.as_ref()) != volume_mode(vspec.volume_mode.as_ref())
            || !pv.meta().deletion_timestamp.is_empty()
        {
            continue;
        }
        let fits_node = v.accepts(node);
        if prebound {
            return fits_node.then_some(v);
        }
        if pv.status.as_ref().is_none_or(|s| s.phase != "Available") {
            continue;
        }
        if c.selector
            .as_ref()
            .is_some_and(|s| !s.matches(&pv.meta().labels))
        {
            continue;
        }
        if !fits_node
            || spec
                .access_modes
                .iter()
                .any(|m| !vspec.access_modes.contains(m))
        {
            continue;
        }
        let better =
            best.is_none_or(|b| (v.capacity, &pv.meta().name) < (b.capacity, &b.pv.meta().name));
        if better {
            best = Some(v);
        }
    }
    best
}

/// Kubernetes' `checkVolumeProvisions` (without CSI capacity): the class has a provisioner
/// and its allowedTopologies admit the node.
fn can_provision(class: &StorageClass, node: &Node) -> bool {
    if class.provisioner.is_empty() || class.provisioner == NO_PROVISIONER {
        return false;
    }
    topology_matches(class, &node.meta().labels)
}

/// Kubernetes' `MatchTopologySelectorTerms`: no terms admit every node; otherwise any term
/// whose every requirement has the label with one of its values.
fn topology_matches(class: &StorageClass, labels: &BTreeMap<String, String>) -> bool {
    class.allowed_topologies.is_empty()
        || class.allowed_topologies.iter().any(|t| {
            t.match_label_expressions
                .iter()
                .all(|r| labels.get(&r.key).is_some_and(|v| r.values.contains(v)))
        })
}

// ---------------------------------------------------------------------------------------
// Reserve and PreBind

/// A volume to write pre-bound to a claim; `write` is false when it already is.
#[derive(Debug, Clone)]
pub struct PlannedBinding {
    pub volume: Arc<PersistentVolume>,
    pub claim: Arc<PersistentVolumeClaim>,
    pub write: bool,
}

/// A claim to write with the selected node; `write` is false when it already has it.
#[derive(Debug, Clone)]
pub struct PlannedProvision {
    pub claim: Arc<PersistentVolumeClaim>,
    pub write: bool,
}

/// The writes PreBind makes for a pod on its node, and how long it then waits.
#[derive(Debug, Clone)]
pub struct VolumePlan {
    pub node: Arc<Node>,
    pub bindings: Vec<PlannedBinding>,
    pub provisions: Vec<PlannedProvision>,
    pub bind_timeout: Duration,
}

/// Kubernetes' `GetBindVolumeToClaim`: the volume with its claimRef naming the claim (and
/// the bound-by-controller mark when the scheduler, not a user, chose it). `None` when the
/// volume already says so.
pub fn bind_volume_to_claim(
    pv: &PersistentVolume,
    pvc: &PersistentVolumeClaim,
) -> Option<PersistentVolume> {
    let m = pvc.meta();
    let chosen_here = !is_volume_bound_to_claim(pv, pvc);
    let mut out = pv.clone();
    let mut dirty = false;
    let current = pv.spec.as_ref().and_then(|s| s.claim_ref.as_ref());
    if current.is_none_or(|r| r.name != m.name || r.namespace != m.namespace || r.uid != m.uid) {
        out.spec.get_or_insert_with(Default::default).claim_ref = Some(ObjectReference {
            kind: "PersistentVolumeClaim".into(),
            api_version: "v1".into(),
            namespace: m.namespace.clone(),
            name: m.name.clone(),
            uid: m.uid.clone(),
            resource_version: m.resource_version.clone(),
            ..Default::default()
        });
        dirty = true;
    }
    if chosen_here && !out.meta().annotations.contains_key(ANN_BOUND_BY_CONTROLLER) {
        out.meta_mut()
            .annotations
            .insert(ANN_BOUND_BY_CONTROLLER.into(), "yes".into());
        dirty = true;
    }
    dirty.then_some(out)
}

/// The writes for `volumes` on `node`: static volumes pre-bound, claims to provision
/// annotated with the node.
pub fn plan(volumes: &PodVolumes, node: Arc<Node>, bind_timeout: Duration) -> VolumePlan {
    let node_name = node.meta().name.clone();
    let bindings = volumes
        .static_bindings
        .iter()
        .map(|b| match bind_volume_to_claim(&b.volume, &b.claim) {
            Some(pv) => PlannedBinding {
                volume: Arc::new(pv),
                claim: b.claim.clone(),
                write: true,
            },
            None => PlannedBinding {
                volume: b.volume.clone(),
                claim: b.claim.clone(),
                write: false,
            },
        })
        .collect();
    let provisions = volumes
        .provisions
        .iter()
        .map(|c| {
            if c.meta().annotations.get(ANN_SELECTED_NODE) == Some(&node_name) {
                return PlannedProvision {
                    claim: c.clone(),
                    write: false,
                };
            }
            let mut claim = (**c).clone();
            claim
                .meta_mut()
                .annotations
                .insert(ANN_SELECTED_NODE.into(), node_name.clone());
            PlannedProvision {
                claim: Arc::new(claim),
                write: true,
            }
        })
        .collect();
    VolumePlan {
        node,
        bindings,
        provisions,
        bind_timeout,
    }
}

/// The claims and volumes as the API has them now, read by PreBind while it waits.
#[derive(Debug, Default)]
pub struct Observed {
    /// By `namespace/name`.
    pub claims: HashMap<String, PersistentVolumeClaim>,
    pub volumes: HashMap<String, PersistentVolume>,
}

impl VolumePlan {
    /// The volumes PreBind must read besides the plan's own: those the provisioned claims
    /// got bound to.
    pub fn volumes_to_read<'a>(&'a self, observed: &'a Observed) -> Vec<&'a str> {
        let mut names: Vec<&str> = self
            .bindings
            .iter()
            .map(|b| b.volume.meta().name.as_str())
            .collect();
        for p in &self.provisions {
            if let Some(c) = observed.claims.get(&claim_key(&p.claim))
                && let Some(s) = &c.spec
                && !s.volume_name.is_empty()
            {
                names.push(&s.volume_name);
            }
        }
        names
    }

    /// Every claim of the plan, `(namespace, name)`.
    pub fn claims(&self) -> impl Iterator<Item = (&str, &str)> {
        self.bindings
            .iter()
            .map(|b| &b.claim)
            .chain(self.provisions.iter().map(|p| &p.claim))
            .map(|c| (c.meta().namespace.as_str(), c.meta().name.as_str()))
    }
}

/// Kubernetes' `checkBindings`: true once every claim of the plan is bound; an error when
/// the binding was undone (the volume's claimRef cleared, the provisioner took the selected
/// node off to ask for another, a volume that does not accept the node).
pub fn check_bindings(plan: &VolumePlan, observed: &Observed) -> Result<bool, String> {
    let node = &plan.node;
    let node_name = &node.meta().name;
    let mut all_bound = true;
    for b in &plan.bindings {
        let name = &b.volume.meta().name;
        let Some(pv) = observed.volumes.get(name) else {
            return Err(format!(
                "failed to check binding: persistentvolume {name:?} not found"
            ));
        };
        let key = claim_key(&b.claim);
        let Some(pvc) = observed.claims.get(&key) else {
            return Err(format!(
                "failed to check binding: persistentvolumeclaim {key:?} not found"
            ));
        };
        if !Volume::new(Arc::new(pv.clone())).accepts(node) {
            return Err(format!(
                "pv {name:?} node affinity doesn't match node {node_name:?}"
            ));
        }
        if pv
            .spec
            .as_ref()
            .and_then(|s| s.claim_ref.as_ref())
            .is_none_or(|r| r.uid.is_empty())
        {
            return Err(format!("ClaimRef got reset for pv {name:?}"));
        }
        all_bound &= is_claim_fully_bound(pvc);
    }
    for p in &plan.provisions {
        let key = claim_key(&p.claim);
        let Some(pvc) = observed.claims.get(&key) else {
            return Err(format!(
                "failed to check provisioning pvc: persistentvolumeclaim {key:?} not found"
            ));
        };
        let name = &pvc.meta().name;
        let annotations = &pvc.meta().annotations;
        if annotations.is_empty() {
            return Err(format!("selectedNode annotation reset for PVC {name:?}"));
        }
        // The provisioner gave up on this node (it takes the annotation off): schedule
        // again.
        if annotations.get(ANN_SELECTED_NODE) != Some(node_name) {
            return Err(format!("provisioning failed for PVC {name:?}"));
        }
        let volume_name = pvc.spec.as_ref().map_or("", |s| s.volume_name.as_str());
        if !volume_name.is_empty() {
            // Not seen yet: read again next time.
            let Some(pv) = observed.volumes.get(volume_name) else {
                all_bound = false;
                continue;
            };
            if !Volume::new(Arc::new(pv.clone())).accepts(node) {
                return Err(format!(
                    "pv {volume_name:?} node affinity doesn't match node {node_name:?}"
                ));
            }
        }
        all_bound &= is_claim_fully_bound(pvc);
    }
    Ok(all_bound)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::testutil::*;
    use proto::k8s::{
        NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, PersistentVolumeClaimSpec,
        PersistentVolumeClaimStatus, PersistentVolumeClaimVolumeSource, PersistentVolumeSpec,
        PersistentVolumeStatus, TopologySelectorLabelRequirement, TopologySelectorTerm,
        VolumeNodeAffinity, VolumeResourceRequirements,
    };

    const HOSTNAME: &str = "kubernetes.io/hostname";

    fn host(name: &str) -> Arc<Node> {
        Arc::new(labeled_node(name, &[(HOSTNAME, name)]))
    }

    fn class(name: &str, mode: &str, provisioner: &str) -> StorageClass {
        let mut c = StorageClass {
            provisioner: provisioner.into(),
            volume_binding_mode: (!mode.is_empty()).then(|| mode.to_string()),
            ..Default::default()
        };
        c.meta_mut().name = name.into();
        c
    }

    fn claim(name: &str, class: Option<&str>, size: &str) -> PersistentVolumeClaim {
        let mut c = PersistentVolumeClaim {
            spec: Some(PersistentVolumeClaimSpec {
                access_modes: vec!["ReadWriteOnce".into()],
                storage_class_name: class.map(String::from),
                resources: Some(VolumeResourceRequirements {
                    requests: [("storage".to_string(), size.to_string())].into(),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            status: Some(PersistentVolumeClaimStatus {
                phase: "Pending".into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        c.meta_mut().name = name.into();
        c.meta_mut().namespace = "d".into();
        c.meta_mut().uid = format!("uid-{name}");
        c.meta_mut().resource_version = "1".into();
        c
    }

    fn bound(mut c: PersistentVolumeClaim, volume: &str) -> PersistentVolumeClaim {
        c.spec.as_mut().unwrap().volume_name = volume.into();
        c.meta_mut()
            .annotations
            .insert(ANN_BIND_COMPLETED.into(), "yes".into());
        c.status.as_mut().unwrap().phase = "Bound".into();
        c
    }

    /// An Available volume; `on` pins it to that hostname.
    fn volume(name: &str, class: &str, size: &str, on: Option<&str>) -> PersistentVolume {
        let mut v = PersistentVolume {
            spec: Some(PersistentVolumeSpec {
                capacity: [("storage".to_string(), size.to_string())].into(),
                access_modes: vec!["ReadWriteOnce".into()],
                storage_class_name: class.into(),
                node_affinity: on.map(|n| VolumeNodeAffinity {
                    required: Some(NodeSelector {
                        node_selector_terms: vec![NodeSelectorTerm {
                            match_expressions: vec![NodeSelectorRequirement {
                                key: HOSTNAME.into(),
                                operator: "In".into(),
                                values: vec![n.into()],
                            }],
                            ..Default::default()
                        }],
                    }),
                }),
                ..Default::default()
            }),
            status: Some(PersistentVolumeStatus {
                phase: "Available".into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        v.meta_mut().name = name.into();
        v.meta_mut().resource_version = "1".into();
        v
    }

    fn pod_using(claims: &[&str]) -> Pod {
        let info = pod_with(|p| {
            p.spec_mut().volumes = claims
                .iter()
                .enumerate()
                .map(|(i, c)| proto::k8s::Volume {
                    name: format!("v{i}"),
                    volume_source: Some(VolumeSource::PersistentVolumeClaim(
                        PersistentVolumeClaimVolumeSource {
                            claim_name: c.to_string(),
                            ..Default::default()
                        },
                    )),
                })
                .collect();
        });
        (*info.pod).clone()
    }

    struct World {
        storage: StorageCache,
    }

    impl World {
        fn new() -> World {
            let mut storage = StorageCache::default();
            storage.set_class(Arc::new(class(
                "wffc",
                "WaitForFirstConsumer",
                "rancher.io/local-path",
            )));
            storage.set_class(Arc::new(class(
                "static",
                "WaitForFirstConsumer",
                NO_PROVISIONER,
            )));
            storage.set_class(Arc::new(class(
                "immediate",
                "Immediate",
                "rancher.io/local-path",
            )));
            storage.set_class(Arc::new(class("default-mode", "", "rancher.io/local-path")));
            World { storage }
        }
        fn claim(mut self, c: PersistentVolumeClaim) -> World {
            self.storage.set_claim(Arc::new(c));
            self
        }
        fn volume(mut self, v: PersistentVolume) -> World {
            self.storage.set_volume(Arc::new(v));
            self
        }
        fn prefilter(&self, claims: &[&str]) -> PreFilter {
            pod_claims(&pod_using(claims), &self.storage)
        }
        fn claims(&self, claims: &[&str]) -> PodClaims {
            match self.prefilter(claims) {
                PreFilter::Claims(c) => c,
                other => panic!("expected claims: {other:?}"),
            }
        }
        /// The nodes among `nodes` the pod fits, or each one's reasons.
        fn fit(&self, claims: &[&str], node: &str) -> Result<PodVolumes, Vec<&'static str>> {
            match find_pod_volumes(&self.claims(claims), &host(node)) {
                NodeFit::Fits(v) => Ok(v),
                NodeFit::Conflict(r) => Err(r),
            }
        }
    }

    fn rejected(p: PreFilter) -> String {
        match p {
            PreFilter::Reject(m) => m,
            other => panic!("expected a rejection: {other:?}"),
        }
    }

    #[test]
    fn prefilter_rejects_missing_lost_deleted_and_unbound_immediate_claims() {
        let mut lost = bound(claim("lost", Some("wffc"), "1Gi"), "gone");
        lost.status.as_mut().unwrap().phase = "Lost".into();
        let mut deleting = claim("deleting", Some("wffc"), "1Gi");
        deleting.meta_mut().deletion_timestamp = "2026-01-01T00:00:00Z".into();
        let w = World::new()
            .claim(lost)
            .claim(deleting)
            .claim(claim("none", None, "1Gi"))
            .claim(claim("empty", Some(""), "1Gi"))
            .claim(claim("imm", Some("immediate"), "1Gi"))
            .claim(claim("defaulted", Some("default-mode"), "1Gi"))
            .claim(claim("no-such-class", Some("nope"), "1Gi"))
            .claim(claim("wait", Some("wffc"), "1Gi"));
        assert!(matches!(
            pod_claims(&(*pod_with(|_| {}).pod).clone(), &w.storage),
            PreFilter::Skip
        ));
        assert_eq!(
            rejected(w.prefilter(&["missing"])),
            r#"persistentvolumeclaim "missing" not found"#
        );
        assert_eq!(
            rejected(w.prefilter(&["lost"])),
            r#"persistentvolumeclaim "lost" bound to non-existent persistentvolume "gone""#
        );
        assert_eq!(
            rejected(w.prefilter(&["deleting"])),
            r#"persistentvolumeclaim "deleting" is being deleted"#
        );
        for c in ["none", "empty", "imm", "defaulted", "no-such-class"] {
            assert_eq!(
                rejected(w.prefilter(&["wait", c])),
                UNBOUND_IMMEDIATE,
                "{c}"
            );
        }
        // A waiting claim that names its volume is the PV binder's to finish.
        let mut named = claim("named", Some("wffc"), "1Gi");
        named.spec.as_mut().unwrap().volume_name = "pv".into();
        let w = w.claim(named);
        assert_eq!(rejected(w.prefilter(&["named"])), UNBOUND_IMMEDIATE);
        assert_eq!(
            w.claims(&["wait", "wait"]).delayed.len(),
            1,
            "each claim once"
        );
    }

    #[test]
    fn an_ephemeral_volume_waits_for_its_own_claim() {
        let mut pod = pod_using(&[]);
        pod.meta_mut().uid = "uid-pod".into();
        pod.spec.as_mut().unwrap().volumes = vec![proto::k8s::Volume {
            name: "scratch".into(),
            volume_source: Some(VolumeSource::Ephemeral(Default::default())),
        }];
        assert_eq!(
            claim_names(&pod),
            [PodClaim {
                name: "p-scratch".into(),
                ephemeral: true
            }]
        );
        let w = World::new();
        assert_eq!(
            rejected(pod_claims(&pod, &w.storage)),
            r#"waiting for ephemeral volume controller to create the persistentvolumeclaim "p-scratch""#
        );
        let stranger = claim("p-scratch", Some("wffc"), "1Gi");
        let w = w.claim(stranger.clone());
        assert_eq!(
            rejected(pod_claims(&pod, &w.storage)),
            "PVC d/p-scratch was not created for pod d/p (pod is not owner)"
        );
        let mut owned = stranger;
        owned.meta_mut().owner_references = vec![proto::k8s::OwnerReference {
            kind: "Pod".into(),
            name: "p".into(),
            uid: "uid-pod".into(),
            controller: Some(true),
            ..Default::default()
        }];
        let w = w.claim(owned);
        assert!(matches!(pod_claims(&pod, &w.storage), PreFilter::Claims(_)));
    }

    #[test]
    fn bound_claims_follow_their_volumes_affinity() {
        let w = World::new()
            .claim(bound(claim("a", Some("static"), "1Gi"), "pv-a"))
            .volume(volume("pv-a", "static", "1Gi", Some("n2")))
            .claim(bound(claim("free", None, "1Gi"), "pv-free"))
            .volume(volume("pv-free", "", "1Gi", None))
            .claim(bound(claim("dangling", None, "1Gi"), "absent"));
        assert!(w.fit(&["a"], "n2").is_ok());
        assert_eq!(w.fit(&["a"], "n1").unwrap_err(), [NODE_CONFLICT]);
        assert!(w.fit(&["free"], "n1").is_ok());
        assert_eq!(w.fit(&["dangling"], "n1").unwrap_err(), [PV_NOT_EXIST]);
        // Nothing to write for bound claims.
        let v = w.fit(&["a", "free"], "n2").unwrap();
        assert!(v.static_bindings.is_empty() && v.provisions.is_empty());
    }

    #[test]
    fn a_malformed_or_empty_volume_affinity_matches_no_node() {
        let mut bad = volume("pv-bad", "static", "1Gi", Some("n1"));
        bad.spec
            .as_mut()
            .unwrap()
            .node_affinity
            .as_mut()
            .unwrap()
            .required
            .as_mut()
            .unwrap()
            .node_selector_terms[0]
            .match_expressions[0]
            .operator = "Near".into();
        let mut empty = volume("pv-empty", "static", "1Gi", None);
        empty.spec.as_mut().unwrap().node_affinity = Some(VolumeNodeAffinity {
            required: Some(NodeSelector::default()),
        });
        let w = World::new()
            .claim(bound(claim("bad", None, "1Gi"), "pv-bad"))
            .volume(bad)
            .claim(bound(claim("empty", None, "1Gi"), "pv-empty"))
            .volume(empty);
        assert_eq!(w.fit(&["bad"], "n1").unwrap_err(), [NODE_CONFLICT]);
        assert_eq!(w.fit(&["empty"], "n1").unwrap_err(), [NODE_CONFLICT]);
    }

    #[test]
    fn waiting_claims_take_the_smallest_fitting_static_volume_on_the_node() {
        let mut rwx = volume("pv-rwx-only", "static", "1Gi", None);
        rwx.spec.as_mut().unwrap().access_modes = vec!["ReadWriteMany".into()];
        let mut taken = volume("pv-taken", "static", "1Gi", None);
        taken.spec.as_mut().unwrap().claim_ref = Some(ObjectReference {
            namespace: "d".into(),
            name: "other".into(),
            uid: "uid-other".into(),
            ..Default::default()
        });
        let mut released = volume("pv-released", "static", "1Gi", None);
        released.status.as_mut().unwrap().phase = "Released".into();
        let w = World::new()
            .claim(claim("c", Some("static"), "2Gi"))
            .volume(volume("pv-small", "static", "1Gi", None))
            .volume(volume("pv-big-n1", "static", "10Gi", Some("n1")))
            .volume(volume("pv-mid-n1", "static", "5Gi", Some("n1")))
            .volume(volume("pv-mid-n2", "static", "3Gi", Some("n2")))
            .volume(volume("pv-other-class", "wffc", "2Gi", None))
            .volume(rwx)
            .volume(taken)
            .volume(released);
        let pick = |node: &str| -> String {
            let v = w.fit(&["c"], node).unwrap();
            assert!(v.provisions.is_empty());
            v.static_bindings[0].volume.meta().name.clone()
        };
        assert_eq!(pick("n1"), "pv-mid-n1");
        assert_eq!(pick("n2"), "pv-mid-n2");
        // No volume on n3 and a class without provisioner.
        assert_eq!(w.fit(&["c"], "n3").unwrap_err(), [BIND_CONFLICT]);
    }

    #[test]
    fn two_claims_of_one_pod_never_get_the_same_volume() {
        let w = World::new()
            .claim(claim("small", Some("static"), "1Gi"))
            .claim(claim("big", Some("static"), "2Gi"))
            .volume(volume("pv-2", "static", "2Gi", Some("n1")))
            .volume(volume("pv-3", "static", "3Gi", Some("n1")));
        // The smaller request chooses first: small gets pv-2, big gets pv-3.
        let v = w.fit(&["big", "small"], "n1").unwrap();
        let got: Vec<(&str, &str)> = v
            .static_bindings
            .iter()
            .map(|b| (b.claim.meta().name.as_str(), b.volume.meta().name.as_str()))
            .collect();
        assert_eq!(got, [("small", "pv-2"), ("big", "pv-3")]);
        let w = w.claim(claim("third", Some("static"), "1Gi"));
        assert_eq!(
            w.fit(&["big", "small", "third"], "n1").unwrap_err(),
            [BIND_CONFLICT]
        );
    }

    #[test]
    fn a_volume_prebound_to_the_claim_wins_only_where_it_may_go() {
        let mut pre = volume("pv-pre", "static", "1Gi", Some("n2"));
        pre.spec.as_mut().unwrap().claim_ref = Some(ObjectReference {
            namespace: "d".into(),
            name: "c".into(),
            ..Default::default()
        });
        pre.status.as_mut().unwrap().phase = "Pending".into();
        let w = World::new()
            .claim(claim("c", Some("static"), "1Gi"))
            .volume(pre)
            .volume(volume("pv-any", "static", "1Gi", None));
        assert_eq!(
            w.fit(&["c"], "n2").unwrap().static_bindings[0]
                .volume
                .meta()
                .name,
            "pv-pre"
        );
        // Elsewhere the pre-bound volume does not fit, and Kubernetes takes no other.
        assert_eq!(w.fit(&["c"], "n1").unwrap_err(), [BIND_CONFLICT]);
    }

    #[test]
    fn dynamic_provisioning_fits_any_node_its_class_topology_admits() {
        let mut zoned = class("zoned", "WaitForFirstConsumer", "rancher.io/local-path");
        zoned.allowed_topologies = vec![TopologySelectorTerm {
            match_label_expressions: vec![TopologySelectorLabelRequirement {
                key: HOSTNAME.into(),
                values: vec!["n1".into(), "n3".into()],
            }],
        }];
        let mut w = World::new()
            .claim(claim("c", Some("wffc"), "1Gi"))
            .claim(claim("z", Some("zoned"), "1Gi"));
        w.storage.set_class(Arc::new(zoned));
        for n in ["n1", "n2"] {
            let v = w.fit(&["c"], n).unwrap();
            assert_eq!(v.provisions.len(), 1);
            assert!(v.static_bindings.is_empty());
        }
        assert!(w.fit(&["z"], "n1").is_ok());
        assert_eq!(w.fit(&["z"], "n2").unwrap_err(), [BIND_CONFLICT]);
        // A static volume that fits is preferred to provisioning.
        let w = w.volume(volume("pv", "wffc", "1Gi", Some("n2")));
        assert_eq!(w.fit(&["c"], "n2").unwrap().static_bindings.len(), 1);
        assert_eq!(w.fit(&["c"], "n1").unwrap().provisions.len(), 1);
    }

    #[test]
    fn a_claim_being_provisioned_for_a_node_holds_the_pod_there() {
        let mut c = claim("c", Some("wffc"), "1Gi");
        c.meta_mut()
            .annotations
            .insert(ANN_SELECTED_NODE.into(), "n2".into());
        let w = World::new()
            .claim(c)
            .claim(bound(claim("b", None, "1Gi"), "pv-b"))
            .volume(volume("pv-b", "", "1Gi", Some("n2")));
        assert_eq!(w.fit(&["c"], "n1").unwrap_err(), [BIND_CONFLICT]);
        assert_eq!(
            w.fit(&["b", "c"], "n1").unwrap_err(),
            [NODE_CONFLICT, BIND_CONFLICT],
            "Kubernetes' order"
        );
        assert_eq!(w.fit(&["c"], "n2").unwrap().provisions.len(), 1);
    }

    #[test]
    fn filter_reports_through_the_framework() {
        let w = World::new()
            .claim(claim("c", Some("static"), "1Gi"))
            .volume(volume("pv", "static", "1Gi", Some("n2")));
        let mut snap = snapshot(vec![(*host("n1")).clone(), (*host("n2")).clone()], vec![]);
        snap.storage = w.storage;
        let plugin = VolumeBinding::default();
        let pod = PodInfo::new(Arc::new(pod_using(&["c"])));
        let mut state = CycleState::default();
        assert!(plugin.pre_filter(&mut state, &pod, &snap).is_success());
        let n1 = plugin.filter(&state, &pod, snap.node("n1").unwrap());
        assert_eq!(
            n1.code,
            crate::framework::Code::UnschedulableAndUnresolvable
        );
        assert_eq!(n1.reasons, [BIND_CONFLICT]);
        assert!(
            plugin
                .filter(&state, &pod, snap.node("n2").unwrap())
                .is_success()
        );
        let none = PodInfo::new(Arc::new((*pod_with(|_| {}).pod).clone()));
        assert_eq!(
            plugin
                .pre_filter(&mut CycleState::default(), &none, &snap)
                .code,
            crate::framework::Code::Skip
        );
    }

    #[test]
    fn reserve_plans_the_writes_and_hides_the_volume_from_the_next_pod() {
        let mut storage = World::new()
            .claim(claim("c1", Some("wffc"), "1Gi"))
            .claim(claim("c2", Some("wffc"), "1Gi"))
            .volume(volume("pv", "wffc", "1Gi", Some("n1")))
            .storage;
        let vb = VolumeBinding::default();
        let n1 = host("n1");
        let plan = vb
            .reserve(&pod_using(&["c1"]), &n1, &mut storage)
            .unwrap()
            .expect("a plan");
        assert_eq!(plan.bindings.len(), 1);
        assert!(plan.provisions.is_empty());
        let b = &plan.bindings[0];
        assert!(b.write);
        let r = b.volume.spec.as_ref().unwrap().claim_ref.as_ref().unwrap();
        assert_eq!(
            (r.namespace.as_str(), r.name.as_str(), r.uid.as_str()),
            ("d", "c1", "uid-c1")
        );
        assert_eq!(r.kind, "PersistentVolumeClaim");
        assert_eq!(
            b.volume
                .meta()
                .annotations
                .get(ANN_BOUND_BY_CONTROLLER)
                .map(String::as_str),
            Some("yes")
        );
        // The second pod's claim no longer sees the volume: it is provisioned instead.
        let plan2 = vb
            .reserve(&pod_using(&["c2"]), &n1, &mut storage)
            .unwrap()
            .unwrap();
        assert!(plan2.bindings.is_empty());
        assert_eq!(plan2.provisions.len(), 1);
        let c = &plan2.provisions[0].claim;
        assert_eq!(
            c.meta()
                .annotations
                .get(ANN_SELECTED_NODE)
                .map(String::as_str),
            Some("n1")
        );
        assert!(
            storage
                .claim("d", "c2")
                .unwrap()
                .meta()
                .annotations
                .contains_key(ANN_SELECTED_NODE)
        );
        // A failed binding gives the volume back.
        storage.revert(&plan);
        storage.revert(&plan2);
        assert!(
            storage
                .volume("pv")
                .unwrap()
                .spec
                .as_ref()
                .unwrap()
                .claim_ref
                .is_none()
        );
        assert!(
            storage
                .claim("d", "c2")
                .unwrap()
                .meta()
                .annotations
                .is_empty()
        );
        // All bound: nothing to do.
        let mut storage = World::new()
            .claim(bound(claim("b", None, "1Gi"), "pv-b"))
            .volume(volume("pv-b", "", "1Gi", None))
            .storage;
        assert!(
            vb.reserve(&pod_using(&["b"]), &n1, &mut storage)
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn a_newer_watched_version_replaces_the_assumed_one() {
        let mut storage = World::new()
            .claim(claim("c", Some("wffc"), "1Gi"))
            .volume(volume("pv", "wffc", "1Gi", None))
            .storage;
        let plan = VolumeBinding::default()
            .reserve(&pod_using(&["c"]), &host("n1"), &mut storage)
            .unwrap()
            .unwrap();
        // A resync of the version the assumption was built on keeps it.
        storage.set_volume(Arc::new(volume("pv", "wffc", "1Gi", None)));
        assert!(
            storage
                .volume("pv")
                .unwrap()
                .spec
                .as_ref()
                .unwrap()
                .claim_ref
                .is_some()
        );
        // The write lands (version 2): the watched object is what counts from now on.
        let mut written = (*plan.bindings[0].volume).clone();
        written.meta_mut().resource_version = "2".into();
        written
            .meta_mut()
            .annotations
            .insert("seen".into(), "yes".into());
        storage.set_volume(Arc::new(written));
        assert!(
            storage
                .volume("pv")
                .unwrap()
                .meta()
                .annotations
                .contains_key("seen")
        );
        storage.revert(&plan);
        assert!(
            storage
                .volume("pv")
                .unwrap()
                .spec
                .as_ref()
                .unwrap()
                .claim_ref
                .is_some(),
            "reverting after the watch confirmed the write changes nothing"
        );
    }

    #[test]
    fn binding_to_an_already_prebound_volume_writes_nothing() {
        let c = claim("c", Some("static"), "1Gi");
        let pv = volume("pv", "static", "1Gi", None);
        let first = bind_volume_to_claim(&pv, &c).expect("claimRef and annotation set");
        assert!(bind_volume_to_claim(&first, &c).is_none());
        // A user's pre-binding without uid gets the uid, but no bound-by-controller mark.
        let mut user = pv.clone();
        user.spec.as_mut().unwrap().claim_ref = Some(ObjectReference {
            namespace: "d".into(),
            name: "c".into(),
            ..Default::default()
        });
        let out = bind_volume_to_claim(&user, &c).unwrap();
        assert_eq!(out.spec.unwrap().claim_ref.unwrap().uid, "uid-c");
        assert!(
            !out.metadata
                .unwrap()
                .annotations
                .contains_key(ANN_BOUND_BY_CONTROLLER)
        );
    }

    fn observed(claims: Vec<PersistentVolumeClaim>, volumes: Vec<PersistentVolume>) -> Observed {
        Observed {
            claims: claims.into_iter().map(|c| (claim_key(&c), c)).collect(),
            volumes: volumes
                .into_iter()
                .map(|v| (v.meta().name.clone(), v))
                .collect(),
        }
    }

    #[test]
    fn prebind_waits_for_the_claims_and_fails_when_a_binding_is_undone() {
        let mut storage = World::new()
            .claim(claim("s", Some("static"), "1Gi"))
            .claim(claim("d", Some("wffc"), "1Gi"))
            .volume(volume("pv", "static", "1Gi", None))
            .storage;
        let plan = VolumeBinding::default()
            .reserve(&pod_using(&["s", "d"]), &host("n1"), &mut storage)
            .unwrap()
            .unwrap();
        let pv = (*plan.bindings[0].volume).clone();
        let annotated = (*plan.provisions[0].claim).clone();
        let s = claim("s", Some("static"), "1Gi");
        // Written, not yet bound by the PV binder / provisioner.
        assert_eq!(
            check_bindings(
                &plan,
                &observed(vec![s.clone(), annotated.clone()], vec![pv.clone()])
            ),
            Ok(false)
        );
        // The provisioner bound "d" to a volume on n1, the binder bound "s".
        let provisioned = volume("pvc-d", "wffc", "1Gi", Some("n1"));
        let d_bound = bound(annotated.clone(), "pvc-d");
        let s_bound = bound(s.clone(), "pv");
        assert_eq!(
            check_bindings(
                &plan,
                &observed(vec![s_bound.clone(), d_bound.clone()], vec![pv.clone()])
            ),
            Ok(false),
            "the provisioned volume not read yet"
        );
        assert_eq!(
            plan.volumes_to_read(&observed(vec![d_bound.clone()], vec![])),
            ["pv", "pvc-d"]
        );
        assert_eq!(
            check_bindings(
                &plan,
                &observed(
                    vec![s_bound.clone(), d_bound.clone()],
                    vec![pv.clone(), provisioned.clone()]
                )
            ),
            Ok(true)
        );
        // The provisioner asks for another node by taking the annotation off.
        let mut gave_up = annotated.clone();
        gave_up.meta_mut().annotations.remove(ANN_SELECTED_NODE);
        assert_eq!(
            check_bindings(&plan, &observed(vec![s.clone(), gave_up], vec![pv.clone()])),
            Err(r#"selectedNode annotation reset for PVC "d""#.into())
        );
        let mut other_marks = annotated.clone();
        other_marks.meta_mut().annotations = [("team".to_string(), "a".to_string())].into();
        assert_eq!(
            check_bindings(
                &plan,
                &observed(vec![s.clone(), other_marks], vec![pv.clone()])
            ),
            Err(r#"provisioning failed for PVC "d""#.into())
        );
        let mut moved = annotated.clone();
        moved
            .meta_mut()
            .annotations
            .insert(ANN_SELECTED_NODE.into(), "n9".into());
        assert_eq!(
            check_bindings(&plan, &observed(vec![s.clone(), moved], vec![pv.clone()])),
            Err(r#"provisioning failed for PVC "d""#.into())
        );
        // The binder dropped the claimRef.
        let mut reset = pv.clone();
        reset.spec.as_mut().unwrap().claim_ref = None;
        assert_eq!(
            check_bindings(
                &plan,
                &observed(vec![s.clone(), annotated.clone()], vec![reset])
            ),
            Err(r#"ClaimRef got reset for pv "pv""#.into())
        );
        // A provisioned volume that does not accept the node.
        let elsewhere = volume("pvc-d", "wffc", "1Gi", Some("n2"));
        assert!(
            check_bindings(
                &plan,
                &observed(vec![s_bound, d_bound], vec![pv, elsewhere])
            )
            .unwrap_err()
            .contains("node affinity doesn't match node \"n1\"")
        );
    }

    #[test]
    fn args() {
        let vb = VolumeBinding::from_args(
            serde_json::from_value(serde_json::json!({"bindTimeoutSeconds": 30})).unwrap(),
        );
        assert_eq!(vb.bind_timeout, Duration::from_secs(30));
        assert_eq!(VolumeBinding::default().bind_timeout, DEFAULT_BIND_TIMEOUT);
        assert!(serde_json::from_value::<Args>(serde_json::json!({"shape": []})).is_err());
    }
}
