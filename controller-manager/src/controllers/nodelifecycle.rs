//! Node lifecycle (Kubernetes' node lifecycle controller with its taint-eviction manager).
//!
//! - Health: a node whose heartbeat (its Lease in `kube-node-lease`, or its Ready
//!   condition's lastHeartbeatTime) has not changed for `--node-monitor-grace-period`, as
//!   this controller observes it, gets every condition set to Unknown (status
//!   subresource). As in Kubernetes, the time is when the controller *saw* the heartbeat
//!   change, so clock skew between nodes and controller does not matter, and a restarted
//!   controller gives every node a full grace period.
//! - Taints follow the Ready condition: False -> `node.kubernetes.io/not-ready`, Unknown ->
//!   `node.kubernetes.io/unreachable`, each with NoSchedule and NoExecute; True -> none.
//!   Pods on a node that turns Unknown are marked not Ready (so endpoints drop them).
//! - Eviction (taint manager): for every NoExecute taint on a node, a pod that does not
//!   tolerate it is deleted at once; one that tolerates all of them with tolerationSeconds
//!   is deleted that long after the taint was added (the shortest such toleration wins);
//!   tolerations without seconds keep the pod for ever. This applies to taints users add
//!   too. Admission gives every pod 300 s tolerations of not-ready and unreachable.

use crate::context::Context;
use crate::error::Error;
use client::InformerEvent;
use client::runtime::{Action, Controller, Request, backoff};
use futures::FutureExt;
use futures::future::BoxFuture;
use proto::defaults::{TAINT_NODE_NOT_READY, TAINT_NODE_UNREACHABLE};
use proto::k8s::{Lease, Node, NodeCondition, Pod, PodCondition, Taint, Toleration};
use proto::time::{format_rfc3339, parse_rfc3339};
use proto::{Reason, Resource};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use tokio_util::sync::CancellationToken;

pub const NAME: &str = "nodelifecycle";
pub const LEASE_NAMESPACE: &str = "kube-node-lease";

// ---------------------------------------------------------------------------------------
// decisions

/// What marks a heartbeat: the lease's renewTime and the Ready condition's
/// lastHeartbeatTime. A change of either is a heartbeat.
pub fn heartbeat_marker(node: &Node, lease: Option<&Lease>) -> String {
    let renew = lease
        .and_then(|l| l.spec.as_ref())
        .map_or("", |s| s.renew_time.as_str());
    let ready = ready_condition(node).map_or("", |c| c.last_heartbeat_time.as_str());
    format!("{renew}|{ready}")
}

/// When the controller last saw the heartbeat change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    pub marker: String,
    pub observed: SystemTime,
}

/// Updates the probe: a new marker is a heartbeat seen `now`.
pub fn observe(prev: Option<&Probe>, marker: String, now: SystemTime) -> Probe {
    match prev {
        Some(p) if p.marker == marker => p.clone(),
        _ => Probe {
            marker,
            observed: now,
        },
    }
}

pub fn ready_condition(node: &Node) -> Option<&NodeCondition> {
    node.status
        .as_ref()
        .and_then(|s| s.conditions.iter().find(|c| c.r#type == "Ready"))
}

/// "True", "False" or "Unknown" (no Ready condition yet counts as Unknown).
pub fn ready_status(node: &Node) -> &str {
    ready_condition(node).map_or("Unknown", |c| c.status.as_str())
}

/// True when the heartbeat is older than the grace period and the conditions are not all
/// Unknown yet: they must be set to Unknown.
pub fn needs_unknown(node: &Node, probe: &Probe, now: SystemTime, grace: Duration) -> bool {
    let stale = now
        .duration_since(probe.observed)
        .is_ok_and(|age| age > grace);
    if !stale {
        return false;
    }
    let conds = node
        .status
        .as_ref()
        .map(|s| s.conditions.as_slice())
        .unwrap_or(&[]);
    conds.is_empty() || conds.iter().any(|c| c.status != "Unknown")
}

/// The conditions after the node stopped posting status (Kubernetes'
/// `NodeStatusUnknown`); a missing Ready condition is added.
pub fn unknown_conditions(node: &Node, now: &str) -> Vec<NodeCondition> {
    let mut conds = node
        .status
        .as_ref()
        .map(|s| s.conditions.clone())
        .unwrap_or_default();
    if !conds.iter().any(|c| c.r#type == "Ready") {
        conds.insert(
            0,
            NodeCondition {
                r#type: "Ready".into(),
                status: "Unknown".into(),
                reason: "NodeStatusNeverUpdated".into(),
                message: "Kubelet never posted node status.".into(),
                last_transition_time: now.to_string(),
                ..Default::default()
            },
        );
    }
    for c in &mut conds {
        if c.status != "Unknown" {
            c.status = "Unknown".into();
            c.reason = "NodeStatusUnknown".into();
            c.message = "Kubelet stopped posting node status.".into();
            c.last_transition_time = now.to_string();
        }
    }
    conds
}

fn is_condition_taint(t: &Taint) -> bool {
    (t.key == TAINT_NODE_NOT_READY || t.key == TAINT_NODE_UNREACHABLE)
        && (t.effect == "NoExecute" || t.effect == "NoSchedule")
}

/// The node's taints as the Ready status wants them; None when they already are. Other
/// taints are kept as they are; taints kept keep their timeAdded.
///
/// In a full disruption (no node Ready at all) the NoExecute condition taints are left off,
/// so nothing is evicted: Kubernetes then assumes the control plane lost the nodes, not that
/// every node died. When a node is Ready again they come back with a new timeAdded, so
/// tolerations count from then.
pub fn desired_taints(
    current: &[Taint],
    ready: &str,
    now: &str,
    full_disruption: bool,
) -> Option<Vec<Taint>> {
    let key = match ready {
        "True" => None,
        "False" => Some(TAINT_NODE_NOT_READY),
        _ => Some(TAINT_NODE_UNREACHABLE),
    };
    let effects: &[&str] = if full_disruption {
        &["NoSchedule"]
    } else {
        &["NoSchedule", "NoExecute"]
    };
    let mut out: Vec<Taint> = current
        .iter()
        .filter(|t| {
            !is_condition_taint(t)
                || (Some(t.key.as_str()) == key && effects.contains(&t.effect.as_str()))
        })
        .cloned()
        .collect();
    if let Some(key) = key {
        for effect in effects.iter().copied() {
            if !out.iter().any(|t| t.key == key && t.effect == effect) {
                out.push(Taint {
                    key: key.into(),
                    value: String::new(),
                    effect: effect.into(),
                    // Kubernetes stamps NoExecute taints only.
                    time_added: if effect == "NoExecute" {
                        now.to_string()
                    } else {
                        String::new()
                    },
                });
            }
        }
    }
    if out == current { None } else { Some(out) }
}

/// Kubernetes' zone state `FullDisruption` for one zone (this cluster): no node Ready and
/// at least one not (a node without a Ready condition counts as not Ready).
pub fn full_disruption<'a>(ready_statuses: impl IntoIterator<Item = Option<&'a str>>) -> bool {
    let (mut ready, mut not_ready) = (0, 0);
    for s in ready_statuses {
        if s == Some("True") {
            ready += 1;
        } else {
            not_ready += 1;
        }
    }
    ready == 0 && not_ready > 0
}

pub use proto::taints::tolerates;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Eviction {
    /// Tolerated for ever (or no NoExecute taint).
    Never,
    Now,
    At(SystemTime),
}

/// When a pod with these tolerations must leave a node with these taints. Each NoExecute
/// taint is counted from its timeAdded (`first_seen` when it has none); the earliest
/// deadline over the taints wins, and for one taint the shortest matching toleration.
pub fn eviction_deadline(
    taints: &[Taint],
    tolerations: &[Toleration],
    first_seen: SystemTime,
) -> Eviction {
    let mut earliest: Option<SystemTime> = None;
    for taint in taints.iter().filter(|t| t.effect == "NoExecute") {
        let matching: Vec<&Toleration> =
            tolerations.iter().filter(|t| tolerates(t, taint)).collect();
        if matching.is_empty() {
            return Eviction::Now;
        }
        // Any toleration without seconds tolerates it for ever.
        if matching.iter().any(|t| t.toleration_seconds.is_none()) {
            continue;
        }
        let secs = matching
            .iter()
            .filter_map(|t| t.toleration_seconds)
            .min()
            .unwrap_or(0)
            .max(0);
        let added = parse_rfc3339(&taint.time_added).unwrap_or(first_seen);
        let at = added + Duration::from_secs(u64::from(secs.unsigned_abs()));
        earliest = Some(earliest.map_or(at, |e| e.min(at)));
    }
    earliest.map_or(Eviction::Never, Eviction::At)
}

// ---------------------------------------------------------------------------------------
// controller

pub fn start(
    ctx: Arc<Context>,
    cancel: CancellationToken,
) -> BoxFuture<'static, Result<(), Error>> {
    run(ctx, cancel).boxed()
}

/// Time comes from `ctx.clock` (tests inject another with `Context::with_clock`).
async fn run(ctx: Arc<Context>, cancel: CancellationToken) -> Result<(), Error> {
    let nodes = ctx.informer::<Node>();
    let leases = ctx.informer::<Lease>();
    let pods = ctx.informer::<Pod>();
    let controller = Controller::new(NAME, nodes.clone())
        .watches_with(leases.clone(), |ev: &InformerEvent<Lease>, q| {
            let m = ev.object().meta();
            if m.namespace == LEASE_NAMESPACE {
                q.add(m.name.clone());
            }
        })
        .watches_with(pods.clone(), |ev: &InformerEvent<Pod>, q| {
            if let Some(n) = ev.object().spec.as_ref().map(|s| &s.node_name)
                && !n.is_empty()
                && !matches!(ev, InformerEvent::Deleted(_))
            {
                q.add(n.clone());
            }
        })
        // Every monitor period, every node is looked at (health is a matter of time
        // passing, not only of events).
        .resync_every(
            ctx.config
                .node_monitor_period
                .max(Duration::from_millis(10)),
        )
        .workers(ctx.config.concurrent_workers);
    let lifecycle = Arc::new(Lifecycle {
        ctx,
        probes: Mutex::new(HashMap::new()),
        nodes: nodes.store(),
        leases: leases.store(),
        pods: pods.store(),
    });
    controller.run(reconcile, backoff, lifecycle, cancel).await;
    Ok(())
}

struct Lifecycle {
    ctx: Arc<Context>,
    /// When each node's heartbeat was last seen to change.
    probes: Mutex<HashMap<String, Probe>>,
    nodes: client::Store<Node>,
    leases: client::Store<Lease>,
    pods: client::Store<Pod>,
}

async fn reconcile(req: Request<Node>, c: Arc<Lifecycle>) -> Result<Action, Error> {
    let (ctx, nodes, leases, pods) = (&c.ctx, &c.nodes, &c.leases, &c.pods);
    let name = req.key.as_str();
    let Some(node) = req.object else {
        c.probes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(name);
        return Ok(Action::Done);
    };
    let now = ctx.clock.now();
    let now_str = format_rfc3339(now);
    let lease = leases.get_in(LEASE_NAMESPACE, name);
    let probe = {
        let mut probes = c.probes.lock().unwrap_or_else(|p| p.into_inner());
        let p = observe(
            probes.get(name),
            heartbeat_marker(&node, lease.as_deref()),
            now,
        );
        probes.insert(name.to_string(), p.clone());
        p
    };
    let grace = ctx.config.node_monitor_grace_period;
    let node_api = ctx.api::<Node>();
    let mut node = (*node).clone();

    if needs_unknown(&node, &probe, now, grace) {
        let conditions = unknown_conditions(&node, &now_str);
        node.status.get_or_insert_with(Default::default).conditions = conditions;
        node = node_api.update_status(&node).await?;
        tracing::warn!(
            last_heartbeat_seen = %format_rfc3339(probe.observed),
            "node stopped posting status: Ready=Unknown"
        );
    }
    // Also after a failed attempt: only pods still Ready are written.
    if ready_condition(&node)
        .is_some_and(|c| c.status == "Unknown" && c.reason == "NodeStatusUnknown")
    {
        mark_pods_not_ready(ctx, pods, name, &now_str).await?;
    }

    let taints = node
        .spec
        .as_ref()
        .map(|s| s.taints.clone())
        .unwrap_or_default();
    // A node that never posted a Ready condition is left untainted until its grace period
    // makes it Unknown (as Kubernetes, which waits for NodeStatusNeverUpdated).
    let disrupted = full_disruption(
        nodes
            .list()
            .iter()
            .map(|n| ready_condition(n).map(|c| c.status.as_str())),
    );
    let wanted = ready_condition(&node)
        .and_then(|c| desired_taints(&taints, &c.status, &now_str, disrupted));
    if let Some(next) = wanted {
        node.spec.get_or_insert_with(Default::default).taints = next;
        node = node_api.update(&node).await?;
        tracing::info!(ready = ready_status(&node), "node taints updated");
    }

    // Taint manager: evict what does not tolerate the NoExecute taints.
    let taints = node
        .spec
        .as_ref()
        .map(|s| s.taints.clone())
        .unwrap_or_default();
    let mut next_check: Option<SystemTime> = None;
    if taints.iter().any(|t| t.effect == "NoExecute") {
        for pod in pods.by_node(name) {
            if !pod.meta().deletion_timestamp.is_empty() {
                continue;
            }
            let tolerations = pod
                .spec
                .as_ref()
                .map(|s| s.tolerations.as_slice())
                .unwrap_or(&[]);
            match eviction_deadline(&taints, tolerations, now) {
                Eviction::Never => {}
                Eviction::At(t) if t > now => {
                    next_check = Some(next_check.map_or(t, |n| n.min(t)));
                }
                Eviction::Now | Eviction::At(_) => evict(ctx, &pod).await?,
            }
        }
    }
    // Look again when the grace period would run out; a node already out of it is looked at
    // every monitor period (and on events).
    let age = now.duration_since(probe.observed).unwrap_or_default();
    let mut wait = if age < grace {
        grace - age
    } else {
        ctx.config.node_monitor_period
    };
    if let Some(t) = next_check {
        wait = wait.min(t.duration_since(now).unwrap_or_default());
    }
    Ok(Action::RequeueAfter(wait.max(Duration::from_millis(50))))
}

async fn evict(ctx: &Context, pod: &Pod) -> Result<(), Error> {
    let m = pod.meta();
    let params = client::DeleteParams {
        preconditions: Some(client::DeletePreconditions {
            uid: m.uid.clone(),
            ..Default::default()
        }),
        ..Default::default()
    };
    match ctx
        .api_in::<Pod>(&m.namespace)
        .delete(&m.name, &params)
        .await
    {
        Ok(_) => {
            tracing::info!(pod = %format!("{}/{}", m.namespace, m.name), "NoExecute taint: pod evicted");
            Ok(())
        }
        Err(e) if e.is(Reason::NotFound) || e.is(Reason::Conflict) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Kubernetes' `MarkPodsNotReady`: the pods of a node that stopped reporting are not Ready.
async fn mark_pods_not_ready(
    ctx: &Context,
    pods: &client::Store<Pod>,
    node: &str,
    now: &str,
) -> Result<(), Error> {
    for pod in pods.by_node(node) {
        let ready = pod.status.as_ref().and_then(|s| {
            s.conditions
                .iter()
                .position(|c| c.r#type == "Ready" && c.status != "False")
        });
        let Some(i) = ready else {
            continue;
        };
        let mut next = (*pod).clone();
        if let Some(status) = next.status.as_mut() {
            status.conditions[i] = PodCondition {
                r#type: "Ready".into(),
                status: "False".into(),
                last_transition_time: now.to_string(),
                reason: "NodeNotReady".into(),
                message: String::new(),
                ..status.conditions[i].clone()
            };
        }
        let m = pod.meta();
        match ctx.api_in::<Pod>(&m.namespace).update_status(&next).await {
            Ok(_) => {}
            Err(e) if e.is(Reason::NotFound) || e.is(Reason::Conflict) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::k8s::{LeaseSpec, NodeSpec, NodeStatus, ObjectMeta};

    fn t0() -> SystemTime {
        parse_rfc3339("2026-01-01T00:00:00Z").unwrap()
    }

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    fn node(ready: &str, taints: Vec<Taint>) -> Node {
        Node {
            metadata: Some(ObjectMeta {
                name: "n1".into(),
                ..Default::default()
            }),
            spec: Some(NodeSpec {
                taints,
                ..Default::default()
            }),
            status: Some(NodeStatus {
                conditions: vec![
                    NodeCondition {
                        r#type: "Ready".into(),
                        status: ready.into(),
                        last_heartbeat_time: "2026-01-01T00:00:00Z".into(),
                        ..Default::default()
                    },
                    NodeCondition {
                        r#type: "MemoryPressure".into(),
                        status: "False".into(),
                        ..Default::default()
                    },
                ],
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn taint(key: &str, effect: &str, added: &str) -> Taint {
        Taint {
            key: key.into(),
            value: String::new(),
            effect: effect.into(),
            time_added: added.into(),
        }
    }

    fn tol(key: &str, op: &str, effect: &str, secs: Option<i32>) -> Toleration {
        Toleration {
            key: key.into(),
            operator: op.into(),
            value: String::new(),
            effect: effect.into(),
            toleration_seconds: secs,
        }
    }

    #[test]
    fn heartbeat_is_when_the_marker_changed_as_observed() {
        let mut lease = Lease {
            spec: Some(LeaseSpec {
                renew_time: "2026-01-01T00:00:00.000001Z".into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let n = node("True", vec![]);
        let p1 = observe(None, heartbeat_marker(&n, Some(&lease)), t0());
        // Unchanged marker: the observation keeps its time.
        let p2 = observe(
            Some(&p1),
            heartbeat_marker(&n, Some(&lease)),
            t0() + secs(30),
        );
        assert_eq!(p2.observed, t0());
        assert!(!needs_unknown(&n, &p2, t0() + secs(40), secs(40)));
        assert!(needs_unknown(&n, &p2, t0() + secs(41), secs(40)));
        // A renewal moves it.
        lease.spec.as_mut().unwrap().renew_time = "2026-01-01T00:00:30Z".into();
        let p3 = observe(
            Some(&p2),
            heartbeat_marker(&n, Some(&lease)),
            t0() + secs(35),
        );
        assert_eq!(p3.observed, t0() + secs(35));
        assert!(!needs_unknown(&n, &p3, t0() + secs(60), secs(40)));
        // All Unknown already: nothing to write.
        let mut unknown = n.clone();
        unknown.status.as_mut().unwrap().conditions = unknown_conditions(&n, "x");
        assert!(!needs_unknown(&unknown, &p2, t0() + secs(100), secs(40)));
    }

    #[test]
    fn unknown_conditions_keep_types_and_stamp_reason() {
        let n = node("True", vec![]);
        let c = unknown_conditions(&n, "2026-01-01T00:01:00Z");
        assert_eq!(c.len(), 2);
        assert!(
            c.iter()
                .all(|c| c.status == "Unknown" && c.reason == "NodeStatusUnknown")
        );
        assert_eq!(c[0].last_transition_time, "2026-01-01T00:01:00Z");
        let mut bare = n.clone();
        bare.status = None;
        let c = unknown_conditions(&bare, "t");
        assert_eq!(
            (
                c[0].r#type.as_str(),
                c[0].status.as_str(),
                c[0].reason.as_str()
            ),
            ("Ready", "Unknown", "NodeStatusNeverUpdated")
        );
    }

    #[test]
    fn taints_follow_ready() {
        let user = taint("dedicated", "NoSchedule", "");
        let now = "2026-01-01T00:05:00Z";
        let keys = |v: &Option<Vec<Taint>>| {
            v.as_ref().map(|v| {
                v.iter()
                    .map(|t| format!("{}:{}", t.key, t.effect))
                    .collect::<Vec<_>>()
            })
        };
        // Unknown: unreachable, both effects; user taints kept.
        let got = desired_taints(std::slice::from_ref(&user), "Unknown", now, false);
        assert_eq!(
            keys(&got),
            Some(vec![
                "dedicated:NoSchedule".to_string(),
                format!("{TAINT_NODE_UNREACHABLE}:NoSchedule"),
                format!("{TAINT_NODE_UNREACHABLE}:NoExecute"),
            ])
        );
        let tainted = got.unwrap();
        assert_eq!(tainted[2].time_added, now);
        assert_eq!(tainted[1].time_added, "");
        // Already right: no write (and timeAdded kept).
        assert_eq!(desired_taints(&tainted, "Unknown", "later", false), None);
        // False: swapped for not-ready.
        let got = desired_taints(&tainted, "False", now, false);
        assert_eq!(
            keys(&got),
            Some(vec![
                "dedicated:NoSchedule".to_string(),
                format!("{TAINT_NODE_NOT_READY}:NoSchedule"),
                format!("{TAINT_NODE_NOT_READY}:NoExecute"),
            ])
        );
        // True: only the user's remain.
        assert_eq!(
            keys(&desired_taints(&tainted, "True", now, false)),
            Some(vec!["dedicated:NoSchedule".to_string()])
        );
        assert_eq!(desired_taints(&[user], "True", now, false), None);
    }

    #[test]
    fn full_disruption_stops_evicting_taints() {
        assert!(full_disruption([Some("Unknown"), Some("False"), None]));
        assert!(!full_disruption([Some("Unknown"), Some("True")]));
        assert!(!full_disruption(std::iter::empty::<Option<&str>>()));
        let now = "2026-01-01T00:05:00Z";
        let tainted = desired_taints(&[], "Unknown", now, false).unwrap();
        assert_eq!(tainted.len(), 2);
        // Everything down: the NoExecute taint goes, NoSchedule stays.
        let calm = desired_taints(&tainted, "Unknown", now, true).unwrap();
        assert_eq!(calm.len(), 1);
        assert_eq!(calm[0].effect, "NoSchedule");
        assert_eq!(desired_taints(&calm, "Unknown", now, true), None);
        // Back out of it: NoExecute again, stamped anew.
        let later = "2026-01-01T00:09:00Z";
        let again = desired_taints(&calm, "Unknown", later, false).unwrap();
        let ne = again.iter().find(|t| t.effect == "NoExecute").unwrap();
        assert_eq!(ne.time_added, later);
    }

    #[test]
    fn toleration_matching() {
        let t = taint("k", "NoExecute", "");
        let mut valued = t.clone();
        valued.value = "v".into();
        let cases = [
            (tol("k", "Exists", "NoExecute", None), &t, true),
            (tol("k", "Exists", "", None), &t, true),
            (tol("", "Exists", "", None), &t, true),
            (tol("k", "Exists", "NoSchedule", None), &t, false),
            (tol("other", "Exists", "", None), &t, false),
            (tol("k", "Equal", "", None), &t, true),
            (tol("k", "", "", None), &valued, false),
            (
                Toleration {
                    value: "v".into(),
                    ..tol("k", "Equal", "", None)
                },
                &valued,
                true,
            ),
        ];
        for (i, (tl, tn, want)) in cases.iter().enumerate() {
            assert_eq!(tolerates(tl, tn), *want, "case {i}");
        }
    }

    #[test]
    fn eviction_deadlines() {
        let added = "2026-01-01T00:00:00Z";
        let unreachable = taint(TAINT_NODE_UNREACHABLE, "NoExecute", added);
        let not_ready = taint(TAINT_NODE_NOT_READY, "NoExecute", added);
        let user = taint("maintenance", "NoExecute", "");
        let no_schedule = taint("x", "NoSchedule", "");
        let default_tols = vec![
            tol(TAINT_NODE_NOT_READY, "Exists", "NoExecute", Some(300)),
            tol(TAINT_NODE_UNREACHABLE, "Exists", "NoExecute", Some(300)),
        ];
        let short = vec![tol(TAINT_NODE_UNREACHABLE, "Exists", "NoExecute", Some(5))];
        let forever = vec![tol("", "Exists", "", None)];
        let two = vec![
            tol(TAINT_NODE_UNREACHABLE, "Exists", "NoExecute", Some(60)),
            tol(TAINT_NODE_UNREACHABLE, "Exists", "", Some(10)),
        ];
        let seen = t0() + secs(100);
        let cases: Vec<(&str, Vec<Taint>, Vec<Toleration>, Eviction)> = vec![
            ("no taint", vec![], vec![], Eviction::Never),
            (
                "NoSchedule only",
                vec![no_schedule],
                vec![],
                Eviction::Never,
            ),
            (
                "untolerated: now",
                vec![unreachable.clone()],
                vec![],
                Eviction::Now,
            ),
            (
                "default 300s from timeAdded",
                vec![unreachable.clone()],
                default_tols.clone(),
                Eviction::At(t0() + secs(300)),
            ),
            (
                "shortened",
                vec![unreachable.clone()],
                short.clone(),
                Eviction::At(t0() + secs(5)),
            ),
            (
                "shortest matching toleration",
                vec![unreachable.clone()],
                two,
                Eviction::At(t0() + secs(10)),
            ),
            (
                "tolerated for ever",
                vec![unreachable.clone(), user.clone()],
                forever,
                Eviction::Never,
            ),
            (
                "one untolerated taint among tolerated ones",
                vec![unreachable.clone(), user.clone()],
                default_tols.clone(),
                Eviction::Now,
            ),
            (
                "both condition taints: earliest",
                vec![unreachable, not_ready],
                vec![short[0].clone(), default_tols[0].clone()],
                Eviction::At(t0() + secs(5)),
            ),
            (
                "no timeAdded: counted from first seen",
                vec![user.clone()],
                vec![tol("maintenance", "Exists", "NoExecute", Some(7))],
                Eviction::At(seen + secs(7)),
            ),
        ];
        for (name, taints, tols, want) in cases {
            assert_eq!(eviction_deadline(&taints, &tols, seen), want, "{name}");
        }
    }
}
