//! Local-path provisioner (`rancher.io/local-path`, as k3s ships it): a pending claim of a
//! class with this provisioner gets a hostPath PersistentVolume on one node, a directory
//! `<root>/pvc-<claim uid>_<namespace>_<name>` (made by the kubelet when a pod mounts it),
//! pinned to that node by node affinity and pre-bound to the claim; the binder then binds
//! both. `WaitForFirstConsumer` claims wait for the scheduler's `selected-node`
//! annotation; `Immediate` ones get a Ready, schedulable node chosen here. Reclaim: the
//! binder leaves provisioned volumes Released and the kubelet of their node removes the
//! directory (Delete) before deleting the volume.
//!
//! At start, when the cluster has no StorageClass at all, the default class `local-path`
//! is created (k3s' `local-storage`), unless `--default-storage-class=false`.

use crate::context::Context;
use crate::controllers::pvbinder::{
    claim_class, claim_request, delays_binding, find_best_match, pv_capacity,
};
use crate::error::Error;
use client::InformerEvent;
use client::runtime::{Action, Controller, Request, backoff};
use client::store::make_key;
use futures::FutureExt;
use futures::future::BoxFuture;
use proto::k8s::{
    HostPathVolumeSource, Node, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm,
    ObjectReference, PersistentVolume, PersistentVolumeClaim, PersistentVolumeSpec, StorageClass,
    VolumeNodeAffinity,
};
use proto::{Reason, Resource};
use std::collections::BTreeMap;
use std::path::{Component, Path};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

pub const NAME: &str = "local-path-provisioner";

pub use proto::local_path::{HOSTNAME_LABEL, PROVISIONER, is_local_path, volume_node};
/// The class made at start when there is none (k3s' name).
pub const DEFAULT_CLASS: &str = "local-path";
/// A class parameter (as local-path-provisioner's): the root directory of its volumes.
pub const PARAM_NODE_PATH: &str = "nodePath";

pub const ANN_SELECTED_NODE: &str = "volume.kubernetes.io/selected-node";
pub const ANN_STORAGE_PROVISIONER: &str = "volume.kubernetes.io/storage-provisioner";
pub const ANN_BETA_STORAGE_PROVISIONER: &str = "volume.beta.kubernetes.io/storage-provisioner";
pub const ANN_PROVISIONED_BY: &str = crate::controllers::pvbinder::ANN_PROVISIONED_BY;
pub const ANN_IS_DEFAULT_CLASS: &str = "storageclass.kubernetes.io/is-default-class";

/// Claims waiting for a node or a class are looked at again this often, so a missed event
/// (a node turning Ready) delays them, never strands them.
const RESYNC: Duration = Duration::from_secs(15);

/// The name of the volume provisioned for a claim (Kubernetes' `pvc-<uid>`).
pub fn volume_name(claim: &PersistentVolumeClaim) -> String {
    format!("pvc-{}", claim.meta().uid)
}

/// `<root>/pvc-<uid>_<namespace>_<name>`: the volume's directory on its node. The root must
/// be absolute and plain (no `.`/`..`); namespace and name are DNS names and the uid is
/// the apiserver's, so the last component cannot leave the root.
pub fn volume_dir(root: &Path, claim: &PersistentVolumeClaim) -> Result<String, String> {
    if !root.is_absolute()
        || root
            .components()
            .any(|c| matches!(c, Component::ParentDir | Component::CurDir))
    {
        return Err(format!(
            "local-path root {root:?} must be an absolute path without . or .."
        ));
    }
    let m = claim.meta();
    let leaf = format!("{}_{}_{}", volume_name(claim), m.namespace, m.name);
    if [&m.uid, &m.namespace, &m.name]
        .iter()
        .any(|s| s.is_empty() || s.contains('/') || s.contains('\0') || s.starts_with('.'))
    {
        return Err(format!("claim {:?} cannot name a directory", leaf));
    }
    Ok(root.join(leaf).to_string_lossy().into_owned())
}

/// What to do with a claim, from the caches.
#[derive(Debug, Clone, PartialEq)]
pub enum Plan {
    /// Not ours, already bound, or a volume exists for it (the binder's turn).
    Nothing,
    /// WaitForFirstConsumer without a selected node yet (Kubernetes' event on the claim).
    WaitForConsumer,
    /// Immediate, but no Ready schedulable node to put it on.
    NoNode,
    /// The class cannot be provisioned from (a bad nodePath).
    Invalid(String),
    Provision(Box<PersistentVolume>),
}

/// Kubernetes' node readiness for placement: Ready=True and not cordoned.
pub fn node_usable(node: &Node) -> bool {
    let ready = node.status.as_ref().is_some_and(|s| {
        s.conditions
            .iter()
            .any(|c| c.r#type == "Ready" && c.status == "True")
    });
    ready && !node.spec.as_ref().is_some_and(|s| s.unschedulable)
}

/// For an Immediate claim: the usable node holding the fewest local-path volumes, ties to
/// the name that sorts first (spreads claims without randomness).
pub fn choose_node<'a>(nodes: &[&'a Node], volumes: &[&PersistentVolume]) -> Option<&'a Node> {
    nodes
        .iter()
        .copied()
        .filter(|n| node_usable(n))
        .min_by_key(|n| {
            let held = volumes
                .iter()
                .filter(|v| {
                    is_local_path(v)
                        && volume_node(v).is_some_and(|h| h == hostname_of(Some(n), &n.meta().name))
                })
                .count();
            (held, n.meta().name.clone())
        })
}

/// The volume for `claim` of `class` on `node` (its hostname label value): capacity the
/// claim's request, access modes and volume mode the claim's, the class's reclaim policy
/// and mount options, a DirectoryOrCreate hostPath under `root` (or the class's
/// `nodePath`), node affinity to the node, claimRef pre-bound to the claim.
pub fn volume_for(
    claim: &PersistentVolumeClaim,
    class: &StorageClass,
    hostname: &str,
    root: &Path,
) -> Result<PersistentVolume, String> {
    let root = class
        .parameters
        .get(PARAM_NODE_PATH)
        .map(Path::new)
        .unwrap_or(root);
    let path = volume_dir(root, claim)?;
    let cspec = claim.spec.clone().unwrap_or_default();
    let m = claim.meta();
    let capacity: BTreeMap<String, String> = cspec
        .resources
        .as_ref()
        .and_then(|r| r.requests.get("storage"))
        .map(|q| [("storage".to_string(), q.clone())].into())
        .unwrap_or_default();
    let mut pv = PersistentVolume {
        spec: Some(PersistentVolumeSpec {
            capacity,
            host_path: Some(HostPathVolumeSource {
                path,
                r#type: Some("DirectoryOrCreate".into()),
            }),
            access_modes: cspec.access_modes.clone(),
            claim_ref: Some(ObjectReference {
                kind: "PersistentVolumeClaim".into(),
                api_version: "v1".into(),
                namespace: m.namespace.clone(),
                name: m.name.clone(),
                uid: m.uid.clone(),
                resource_version: m.resource_version.clone(),
                ..Default::default()
            }),
            persistent_volume_reclaim_policy: class
                .reclaim_policy
                .clone()
                .filter(|p| !p.is_empty())
                .unwrap_or_else(|| "Delete".into()),
            storage_class_name: class.meta().name.clone(),
            mount_options: class.mount_options.clone(),
            volume_mode: cspec.volume_mode.clone(),
            node_affinity: Some(VolumeNodeAffinity {
                required: Some(NodeSelector {
                    node_selector_terms: vec![NodeSelectorTerm {
                        match_expressions: vec![NodeSelectorRequirement {
                            key: HOSTNAME_LABEL.into(),
                            operator: "In".into(),
                            values: vec![hostname.to_string()],
                        }],
                        match_fields: vec![],
                    }],
                }),
            }),
            ..Default::default()
        }),
        ..Default::default()
    };
    let pm = pv.meta_mut();
    pm.name = volume_name(claim);
    pm.annotations
        .insert(ANN_PROVISIONED_BY.into(), PROVISIONER.into());
    Ok(pv)
}

/// The hostname label value of a node (its name when the label is missing).
fn hostname_of(node: Option<&Node>, name: &str) -> String {
    node.and_then(|n| n.meta().labels.get(HOSTNAME_LABEL).cloned())
        .unwrap_or_else(|| name.to_string())
}

pub fn plan(
    claim: &PersistentVolumeClaim,
    class: Option<&StorageClass>,
    volumes: &[&PersistentVolume],
    nodes: &[&Node],
    root: &Path,
) -> Plan {
    let Some(class) = class else {
        return Plan::Nothing;
    };
    let spec = claim.spec.as_ref();
    if class.provisioner != PROVISIONER
        || !claim.meta().deletion_timestamp.is_empty()
        || spec.is_some_and(|s| !s.volume_name.is_empty())
        || claim.status.as_ref().is_some_and(|s| s.phase == "Bound")
        || claim.meta().uid.is_empty()
    {
        return Plan::Nothing;
    }
    // A volume made for it (pre-bound) or an existing one that fits: the binder binds.
    if volumes.iter().any(|v| v.meta().name == volume_name(claim))
        || find_best_match(claim, volumes, delays_binding(claim, Some(class))).is_some()
    {
        return Plan::Nothing;
    }
    let wait = class.volume_binding_mode.as_deref() == Some("WaitForFirstConsumer");
    let node_name = if wait {
        match claim.meta().annotations.get(ANN_SELECTED_NODE) {
            Some(n) if !n.is_empty() => n.clone(),
            _ => return Plan::WaitForConsumer,
        }
    } else {
        match choose_node(nodes, volumes) {
            Some(n) => n.meta().name.clone(),
            None => return Plan::NoNode,
        }
    };
    let node = nodes.iter().copied().find(|n| n.meta().name == node_name);
    match volume_for(claim, class, &hostname_of(node, &node_name), root) {
        Ok(pv) => Plan::Provision(Box::new(pv)),
        Err(e) => Plan::Invalid(e),
    }
}

/// Volume expansion (`allowVolumeExpansion`), Kubernetes' expand controller for a volume
/// whose filesystem needs nothing: the claim's request raised above its volume's capacity
/// raises the volume's capacity, then the claim's `status.capacity` follows the volume's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expansion {
    Nothing,
    /// Set the volume's capacity to this (the claim's request).
    ResizeVolume(String),
    /// Set the claim's status.capacity to this (the volume's capacity).
    FinishClaim(String),
}

pub fn plan_expansion(
    claim: &PersistentVolumeClaim,
    class: &StorageClass,
    pv: &PersistentVolume,
) -> Expansion {
    let bound = claim.status.as_ref().is_some_and(|s| s.phase == "Bound")
        && claim
            .spec
            .as_ref()
            .is_some_and(|s| s.volume_name == pv.meta().name);
    if !bound
        || class.allow_volume_expansion != Some(true)
        || !is_local_path(pv)
        || !pv.meta().deletion_timestamp.is_empty()
    {
        return Expansion::Nothing;
    }
    let want = claim_request(claim);
    let Some(have) = pv_capacity(pv) else {
        return Expansion::Nothing;
    };
    if have < want {
        let request = claim
            .spec
            .as_ref()
            .and_then(|s| s.resources.as_ref())
            .and_then(|r| r.requests.get("storage"))
            .cloned()
            .unwrap_or_default();
        return Expansion::ResizeVolume(request);
    }
    let shown = claim
        .status
        .as_ref()
        .and_then(|s| s.capacity.get("storage"))
        .and_then(|q| q.parse::<proto::quantity::Quantity>().ok())
        .unwrap_or_default();
    if shown < have {
        let capacity = pv
            .spec
            .as_ref()
            .and_then(|s| s.capacity.get("storage"))
            .cloned()
            .unwrap_or_default();
        return Expansion::FinishClaim(capacity);
    }
    Expansion::Nothing
}

/// The default class made at start.
pub fn default_class() -> StorageClass {
    let mut sc = StorageClass {
        provisioner: PROVISIONER.into(),
        reclaim_policy: Some("Delete".into()),
        volume_binding_mode: Some("WaitForFirstConsumer".into()),
        ..Default::default()
    };
    let m = sc.meta_mut();
    m.name = DEFAULT_CLASS.into();
    m.annotations
        .insert(ANN_IS_DEFAULT_CLASS.into(), "true".into());
    sc
}

pub fn start(
    ctx: Arc<Context>,
    cancel: CancellationToken,
) -> BoxFuture<'static, Result<(), Error>> {
    run(ctx, cancel).boxed()
}

struct Caches {
    ctx: Arc<Context>,
    classes: client::Store<StorageClass>,
    pvs: client::Store<PersistentVolume>,
    nodes: client::Store<Node>,
}

async fn run(ctx: Arc<Context>, cancel: CancellationToken) -> Result<(), Error> {
    let pvcs = ctx.informer::<PersistentVolumeClaim>();
    let classes = ctx.informer::<StorageClass>();
    let pvs = ctx.informer::<PersistentVolume>();
    let nodes = ctx.informer::<Node>();
    if ctx.config.default_storage_class {
        tokio::select! {
            _ = cancel.cancelled() => return Ok(()),
            synced = classes.wait_until_synced() => {
                if synced && classes.store().is_empty() {
                    ensure_default_class(&ctx).await;
                }
            }
        }
    }
    let claims = pvcs.store();
    let class_claims = pvcs.store();
    let controller = Controller::new(NAME, pvcs.clone())
        // A class made or changed: its pending claims look again.
        .watches_with(
            classes.clone(),
            move |ev: &InformerEvent<StorageClass>, q| {
                let class = &ev.object().meta().name;
                for c in class_claims.list() {
                    if claim_class(&c) == class
                        && c.spec.as_ref().is_some_and(|s| s.volume_name.is_empty())
                    {
                        q.add(make_key(&c.meta().namespace, &c.meta().name));
                    }
                }
            },
        )
        // A volume gone: its claim may need a new one.
        .watches(pvs.clone(), |pv: &PersistentVolume| {
            pv.spec
                .as_ref()
                .and_then(|s| s.claim_ref.as_ref())
                .map(|r| make_key(&r.namespace, &r.name))
                .into_iter()
                .collect()
        })
        .reads(nodes.clone())
        .resync_keys_every(RESYNC, move || {
            claims
                .list()
                .iter()
                .filter(|c| c.spec.as_ref().is_some_and(|s| s.volume_name.is_empty()))
                .map(|c| make_key(&c.meta().namespace, &c.meta().name))
                .collect()
        })
        .workers(ctx.config.concurrent_workers);
    let caches = Arc::new(Caches {
        ctx,
        classes: classes.store(),
        pvs: pvs.store(),
        nodes: nodes.store(),
    });
    controller.run(reconcile, backoff, caches, cancel).await;
    Ok(())
}

/// Creates `local-path` unless it exists (another replica, or an earlier start, made it).
async fn ensure_default_class(ctx: &Context) {
    match ctx.api::<StorageClass>().create(&default_class()).await {
        Ok(_) => tracing::info!(class = DEFAULT_CLASS, "default StorageClass created"),
        Err(e) if e.reason == Reason::AlreadyExists => {}
        Err(e) => {
            tracing::warn!(class = DEFAULT_CLASS, error = %e, "creating the default StorageClass failed")
        }
    }
}

#[tracing::instrument(skip_all, fields(claim = %req.key))]
async fn reconcile(req: Request<PersistentVolumeClaim>, c: Arc<Caches>) -> Result<Action, Error> {
    let Some(claim) = req.object else {
        return Ok(Action::Done);
    };
    let class_name = claim_class(&claim);
    if class_name.is_empty() {
        return Ok(Action::Done);
    }
    let class = c.classes.get(class_name);
    let volumes = c.pvs.list();
    let volumes: Vec<&PersistentVolume> = volumes.iter().map(|v| v.as_ref()).collect();
    let nodes = c.nodes.list();
    let nodes: Vec<&Node> = nodes.iter().map(|n| n.as_ref()).collect();
    let ctx = &c.ctx;
    match plan(
        &claim,
        class.as_deref(),
        &volumes,
        &nodes,
        &ctx.config.local_path_root,
    ) {
        Plan::Nothing => match (class, claim.spec.as_ref().map(|s| s.volume_name.as_str())) {
            (Some(class), Some(volume)) if !volume.is_empty() => match c.pvs.get(volume) {
                Some(pv) => expand(ctx, &claim, &class, &pv).await,
                None => Ok(Action::Done),
            },
            _ => Ok(Action::Done),
        },
        Plan::WaitForConsumer => {
            ctx.events.event(
                NAME,
                claim.as_ref(),
                false,
                "WaitForFirstConsumer",
                "waiting for first consumer to be created before binding".into(),
            );
            Ok(Action::Done)
        }
        Plan::NoNode => {
            ctx.events.event(
                NAME,
                claim.as_ref(),
                true,
                "ProvisioningFailed",
                "no Ready schedulable node to provision a local-path volume on".into(),
            );
            Ok(Action::Done)
        }
        Plan::Invalid(message) => {
            ctx.events.event(
                NAME,
                claim.as_ref(),
                true,
                "ProvisioningFailed",
                format!("failed to provision volume with StorageClass {class_name:?}: {message}"),
            );
            Ok(Action::Done)
        }
        Plan::Provision(pv) => provision(ctx, &claim, *pv).await,
    }
}

async fn expand(
    ctx: &Context,
    claim: &PersistentVolumeClaim,
    class: &StorageClass,
    pv: &PersistentVolume,
) -> Result<Action, Error> {
    match plan_expansion(claim, class, pv) {
        Expansion::Nothing => {}
        Expansion::ResizeVolume(size) => {
            let mut resized = pv.clone();
            resized
                .spec
                .get_or_insert_with(Default::default)
                .capacity
                .insert("storage".into(), size.clone());
            // Guarded by the resourceVersion read; the volume's event brings the claim back.
            ctx.api::<PersistentVolume>().update(&resized).await?;
            tracing::info!(volume = %pv.meta().name, %size, "volume expanded");
        }
        Expansion::FinishClaim(size) => {
            let mut done = claim.clone();
            done.status
                .get_or_insert_with(Default::default)
                .capacity
                .insert("storage".into(), size.clone());
            ctx.api_in::<PersistentVolumeClaim>(&claim.meta().namespace)
                .update_status(&done)
                .await?;
            ctx.events.event(
                NAME,
                claim,
                false,
                "VolumeResizeSuccessful",
                format!("resize volume {size} succeeded"),
            );
        }
    }
    Ok(Action::Done)
}

async fn provision(
    ctx: &Context,
    claim: &PersistentVolumeClaim,
    pv: PersistentVolume,
) -> Result<Action, Error> {
    let m = claim.meta();
    let key = format!("{}/{}", m.namespace, m.name);
    // Kubernetes' PV controller marks the claim as the provisioner's before it acts.
    let ann = &m.annotations;
    if ann.get(ANN_STORAGE_PROVISIONER).map(String::as_str) != Some(PROVISIONER)
        || ann.get(ANN_BETA_STORAGE_PROVISIONER).map(String::as_str) != Some(PROVISIONER)
    {
        let mut marked = claim.clone();
        let a = &mut marked.meta_mut().annotations;
        a.insert(ANN_STORAGE_PROVISIONER.into(), PROVISIONER.into());
        a.insert(ANN_BETA_STORAGE_PROVISIONER.into(), PROVISIONER.into());
        ctx.api_in::<PersistentVolumeClaim>(&m.namespace)
            .update(&marked)
            .await?;
        ctx.events.event(
            NAME,
            claim,
            false,
            "Provisioning",
            format!("External provisioner is provisioning volume for claim {key:?}"),
        );
        // The update's event brings the claim back with the new resourceVersion.
        return Ok(Action::Done);
    }
    let name = pv.meta().name.clone();
    match ctx.api::<PersistentVolume>().create(&pv).await {
        Ok(_) => {
            tracing::info!(volume = %name, node = ?volume_node(&pv), "volume provisioned");
            ctx.events.event(
                NAME,
                claim,
                false,
                "ProvisioningSucceeded",
                format!("Successfully provisioned volume {name}"),
            );
        }
        Err(e) if e.reason == Reason::AlreadyExists => {}
        Err(e) => return Err(e.into()),
    }
    Ok(Action::Done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::k8s::{
        NodeCondition, NodeSpec, NodeStatus, ObjectMeta, PersistentVolumeClaimSpec,
        VolumeResourceRequirements,
    };

    fn claim(ann: &[(&str, &str)]) -> PersistentVolumeClaim {
        PersistentVolumeClaim {
            metadata: Some(ObjectMeta {
                name: "www-web-0".into(),
                namespace: "shop".into(),
                uid: "1234-abcd".into(),
                resource_version: "7".into(),
                annotations: ann
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                ..Default::default()
            }),
            spec: Some(PersistentVolumeClaimSpec {
                access_modes: vec!["ReadWriteOnce".into()],
                storage_class_name: Some("local-path".into()),
                resources: Some(VolumeResourceRequirements {
                    requests: [("storage".to_string(), "1Gi".to_string())].into(),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn class(mode: &str, policy: &str) -> StorageClass {
        let mut sc = default_class();
        sc.volume_binding_mode = Some(mode.into());
        sc.reclaim_policy = Some(policy.into());
        sc
    }

    fn node(name: &str, ready: bool, cordoned: bool) -> Node {
        let mut n = Node {
            spec: Some(NodeSpec {
                unschedulable: cordoned,
                ..Default::default()
            }),
            status: Some(NodeStatus {
                conditions: vec![NodeCondition {
                    r#type: "Ready".into(),
                    status: if ready { "True" } else { "False" }.into(),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            ..Default::default()
        };
        n.meta_mut().name = name.into();
        n.meta_mut()
            .labels
            .insert(HOSTNAME_LABEL.into(), format!("host-{name}"));
        n
    }

    const ROOT: &str = "/var/lib/kubelet-local-path";

    #[test]
    fn wait_for_first_consumer_waits_for_the_selected_node() {
        let wffc = class("WaitForFirstConsumer", "Delete");
        let nodes = [node("n1", true, false)];
        let nodes: Vec<&Node> = nodes.iter().collect();
        let root = Path::new(ROOT);
        assert_eq!(
            plan(&claim(&[]), Some(&wffc), &[], &nodes, root),
            Plan::WaitForConsumer
        );
        let chosen = claim(&[(ANN_SELECTED_NODE, "n1")]);
        let Plan::Provision(pv) = plan(&chosen, Some(&wffc), &[], &nodes, root) else {
            panic!("provisions once a node is chosen");
        };
        assert_eq!(pv.meta().name, "pvc-1234-abcd");
        assert_eq!(pv.meta().annotations[ANN_PROVISIONED_BY], PROVISIONER);
        let spec = pv.spec.as_ref().unwrap();
        assert_eq!(
            spec.host_path.as_ref().unwrap().path,
            "/var/lib/kubelet-local-path/pvc-1234-abcd_shop_www-web-0"
        );
        assert_eq!(
            spec.host_path.as_ref().unwrap().r#type.as_deref(),
            Some("DirectoryOrCreate")
        );
        assert_eq!(spec.capacity["storage"], "1Gi");
        assert_eq!(spec.persistent_volume_reclaim_policy, "Delete");
        assert_eq!(spec.storage_class_name, "local-path");
        assert_eq!(spec.access_modes, ["ReadWriteOnce"]);
        let r = spec.claim_ref.as_ref().unwrap();
        assert_eq!(
            (r.namespace.as_str(), r.name.as_str(), r.uid.as_str()),
            ("shop", "www-web-0", "1234-abcd")
        );
        assert_eq!(volume_node(&pv), Some("host-n1"), "hostname label");
        // Made already: the binder's turn, nothing again.
        assert_eq!(
            plan(&chosen, Some(&wffc), &[&pv], &nodes, root),
            Plan::Nothing
        );
    }

    #[test]
    fn immediate_picks_a_usable_node_with_the_fewest_volumes() {
        let imm = class("Immediate", "Retain");
        let nodes = [
            node("a-down", false, false),
            node("b-cordoned", true, true),
            node("c", true, false),
            node("d", true, false),
        ];
        let refs: Vec<&Node> = nodes.iter().collect();
        let root = Path::new(ROOT);
        let Plan::Provision(pv) = plan(&claim(&[]), Some(&imm), &[], &refs, root) else {
            panic!("immediate provisions at once");
        };
        assert_eq!(volume_node(&pv), Some("host-c"));
        assert_eq!(
            pv.spec.as_ref().unwrap().persistent_volume_reclaim_policy,
            "Retain"
        );
        // c holds one now: d is next.
        let on_c = (*pv).clone();
        assert_eq!(
            choose_node(&refs, &[&on_c]).map(|n| n.meta().name.as_str()),
            Some("d")
        );
        let none: Vec<&Node> = nodes[..2].iter().collect();
        assert_eq!(
            plan(&claim(&[]), Some(&imm), &[], &none, root),
            Plan::NoNode
        );
    }

    #[test]
    fn other_provisioners_bound_claims_and_bad_roots_are_not_provisioned() {
        let root = Path::new(ROOT);
        let mut other = class("Immediate", "Delete");
        other.provisioner = "example.com/nfs".into();
        let nodes = [node("n1", true, false)];
        let refs: Vec<&Node> = nodes.iter().collect();
        assert_eq!(
            plan(&claim(&[]), Some(&other), &[], &refs, root),
            Plan::Nothing
        );
        assert_eq!(plan(&claim(&[]), None, &[], &refs, root), Plan::Nothing);
        let mut bound = claim(&[]);
        bound.spec.as_mut().unwrap().volume_name = "v".into();
        let imm = class("Immediate", "Delete");
        assert_eq!(plan(&bound, Some(&imm), &[], &refs, root), Plan::Nothing);
        let mut relative = imm.clone();
        relative
            .parameters
            .insert(PARAM_NODE_PATH.into(), "data/../etc".into());
        assert!(matches!(
            plan(&claim(&[]), Some(&relative), &[], &refs, root),
            Plan::Invalid(_)
        ));
        let mut custom = imm.clone();
        custom
            .parameters
            .insert(PARAM_NODE_PATH.into(), "/srv/volumes".into());
        let Plan::Provision(pv) = plan(&claim(&[]), Some(&custom), &[], &refs, root) else {
            panic!("nodePath class provisions");
        };
        assert_eq!(
            pv.spec.unwrap().host_path.unwrap().path,
            "/srv/volumes/pvc-1234-abcd_shop_www-web-0"
        );
        let mut odd = claim(&[]);
        odd.meta_mut().uid = "../x".into();
        assert!(volume_dir(root, &odd).is_err());
    }

    #[test]
    fn expansion_raises_the_volume_then_the_claim_status() {
        let mut class = class("WaitForFirstConsumer", "Delete");
        let chosen = claim(&[(ANN_SELECTED_NODE, "n1")]);
        let nodes = [node("n1", true, false)];
        let refs: Vec<&Node> = nodes.iter().collect();
        let Plan::Provision(pv) = plan(&chosen, Some(&class), &[], &refs, Path::new(ROOT)) else {
            panic!("provisions");
        };
        let mut bound = chosen.clone();
        bound.spec.as_mut().unwrap().volume_name = pv.meta().name.clone();
        bound.status = Some(proto::k8s::PersistentVolumeClaimStatus {
            phase: "Bound".into(),
            capacity: [("storage".to_string(), "1Gi".to_string())].into(),
            ..Default::default()
        });
        assert_eq!(plan_expansion(&bound, &class, &pv), Expansion::Nothing);
        let mut bigger = bound.clone();
        bigger
            .spec
            .as_mut()
            .unwrap()
            .resources
            .as_mut()
            .unwrap()
            .requests
            .insert("storage".into(), "3Gi".into());
        assert_eq!(
            plan_expansion(&bigger, &class, &pv),
            Expansion::Nothing,
            "the class does not allow expansion"
        );
        class.allow_volume_expansion = Some(true);
        assert_eq!(
            plan_expansion(&bigger, &class, &pv),
            Expansion::ResizeVolume("3Gi".into())
        );
        let mut resized = (*pv).clone();
        resized
            .spec
            .as_mut()
            .unwrap()
            .capacity
            .insert("storage".into(), "3Gi".into());
        assert_eq!(
            plan_expansion(&bigger, &class, &resized),
            Expansion::FinishClaim("3Gi".into())
        );
        let mut finished = bigger.clone();
        finished
            .status
            .as_mut()
            .unwrap()
            .capacity
            .insert("storage".into(), "3Gi".into());
        assert_eq!(
            plan_expansion(&finished, &class, &resized),
            Expansion::Nothing
        );
        let mut smaller = finished.clone();
        smaller
            .spec
            .as_mut()
            .unwrap()
            .resources
            .as_mut()
            .unwrap()
            .requests
            .insert("storage".into(), "1Gi".into());
        assert_eq!(
            plan_expansion(&smaller, &class, &resized),
            Expansion::Nothing,
            "never shrunk"
        );
    }
}
