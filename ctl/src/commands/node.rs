//! `cordon`, `uncordon` and `drain`, as kubectl does them. Drain evicts the pods through
//! the `pods/eviction` subresource, all at once, each retried every 5 s while its
//! PodDisruptionBudget refuses (429), then waits for them to be gone; `--disable-eviction`
//! deletes them instead, past any budget.

use super::Ctx;
use crate::args::{DrainArgs, DryRun, NodeArgs, parse_duration};
use anyhow::{Result, anyhow, bail};
use client::{Api as TypedApi, DeleteParams, DeletePreconditions, ListParams};
use proto::Reason;
use proto::Resource;
use proto::k8s::volume::VolumeSource;
use proto::k8s::{DeleteOptions, Eviction, Node, ObjectMeta, PatchRequest, Pod};
use std::time::{Duration, Instant};

const MIRROR_POD: &str = "kubernetes.io/config.mirror";

/// Sets `spec.unschedulable`; prints kubectl's lines (with its dry-run suffix: under
/// `--dry-run=client` nothing is sent, under `server` the server checks the change and
/// stores nothing). Returns whether it changed.
async fn set_unschedulable(ctx: &Ctx, node: &str, on: bool) -> Result<bool> {
    let conn = ctx.api().await?;
    let api: TypedApi<Node> = TypedApi::all(conn.client().clone());
    let n = conn.call(api.get(node)).await?;
    let current = n.spec.as_ref().is_some_and(|s| s.unschedulable);
    let verb = if on { "cordoned" } else { "uncordoned" };
    let suffix = ctx.dry_run_suffix();
    if current == on {
        println!("node/{node} already {verb}{suffix}");
        return Ok(false);
    }
    let patch = serde_json::json!({"spec": {"unschedulable": on}});
    match ctx.dry_run() {
        DryRun::None => {
            conn.call(api.patch_merge(node, &patch)).await?;
        }
        DryRun::Client => {}
        DryRun::Server => {
            let req = PatchRequest {
                resource: "nodes".into(),
                name: node.to_string(),
                patch_type: "merge".into(),
                patch: patch.to_string(),
                dry_run: true,
                ..Default::default()
            };
            conn.patch(req).await?;
        }
    }
    println!("node/{node} {verb}{suffix}");
    Ok(true)
}

pub async fn cordon(ctx: &Ctx, args: &NodeArgs, on: bool) -> Result<()> {
    let mut failures = 0;
    for node in &args.nodes {
        if let Err(e) = set_unschedulable(ctx, node, on).await {
            super::report(&mut failures, &e);
        }
    }
    super::finish(failures)
}

/// What drain does with the pods on a node.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct DrainPlan {
    /// `namespace/name` of the pods to delete.
    pub delete: Vec<(String, String)>,
    /// Warnings to print (pods left alone or deleted despite a risk).
    pub warnings: Vec<String>,
    /// Reasons drain must refuse (each names the pods and the flag that overrides it).
    pub errors: Vec<String>,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct DrainFlags {
    pub ignore_daemonsets: bool,
    pub force: bool,
    pub delete_emptydir_data: bool,
}

fn finished(p: &Pod) -> bool {
    matches!(
        p.status.as_ref().map(|s| s.phase.as_str()),
        Some("Succeeded" | "Failed")
    )
}

/// Pure: kubectl's drain filters (mirror pods skipped; DaemonSet pods refused unless
/// ignored; pods without a controller refused unless forced; emptyDir data refused unless
/// allowed; finished pods always deletable).
pub fn plan_drain(pods: &[Pod], flags: DrainFlags) -> DrainPlan {
    let mut plan = DrainPlan::default();
    let (mut daemonset, mut unmanaged, mut local, mut ignored_ds, mut forced, mut local_ok) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    for p in pods {
        let m = p.meta();
        let id = format!("{}/{}", m.namespace, m.name);
        if m.annotations.contains_key(MIRROR_POD) {
            continue;
        }
        if !m.deletion_timestamp.is_empty() {
            // Already going: wait for it, do not delete again.
            continue;
        }
        let controller = m
            .owner_references
            .iter()
            .find(|r| r.controller == Some(true));
        if !finished(p) {
            if controller.is_some_and(|c| c.kind == "DaemonSet") {
                if flags.ignore_daemonsets {
                    ignored_ds.push(id);
                } else {
                    daemonset.push(id);
                }
                continue;
            }
            if controller.is_none() {
                if flags.force {
                    forced.push(id.clone());
                } else {
                    unmanaged.push(id);
                    continue;
                }
            }
            let has_empty_dir = p.spec.as_ref().is_some_and(|s| {
                s.volumes
                    .iter()
                    .any(|v| matches!(v.volume_source, Some(VolumeSource::EmptyDir(_))))
            });
            if has_empty_dir {
                if flags.delete_emptydir_data {
                    local_ok.push(id.clone());
                } else {
                    local.push(id);
                    continue;
                }
            }
        }
        plan.delete.push((m.namespace.clone(), m.name.clone()));
    }
    let join = |v: &[String]| v.join(", ");
    if !daemonset.is_empty() {
        plan.errors.push(format!(
            "cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): {}",
            join(&daemonset)
        ));
    }
    if !unmanaged.is_empty() {
        plan.errors.push(format!(
            "cannot delete Pods that declare no controller (use --force to override): {}",
            join(&unmanaged)
        ));
    }
    if !local.is_empty() {
        plan.errors.push(format!(
            "cannot delete Pods with local storage (use --delete-emptydir-data to override): {}",
            join(&local)
        ));
    }
    if !ignored_ds.is_empty() {
        plan.warnings.push(format!(
            "ignoring DaemonSet-managed Pods: {}",
            join(&ignored_ds)
        ));
    }
    if !forced.is_empty() {
        plan.warnings.push(format!(
            "deleting Pods that declare no controller: {}",
            join(&forced)
        ));
    }
    if !local_ok.is_empty() {
        plan.warnings.push(format!(
            "deleting Pods with local storage: {}",
            join(&local_ok)
        ));
    }
    plan
}

pub async fn drain(ctx: &Ctx, args: &DrainArgs) -> Result<()> {
    let timeout = parse_duration(&args.timeout).map_err(|e| anyhow!("--timeout: {e}"))?;
    let node = &args.node;
    set_unschedulable(ctx, node, true).await?;
    let conn = ctx.api().await?;
    let pods_api: TypedApi<Pod> = TypedApi::all(conn.client().clone());
    let on_node = ListParams::fields(&format!("spec.nodeName={node}"));
    let pods = conn.call(pods_api.list(&on_node)).await?.items;
    let plan = plan_drain(
        &pods,
        DrainFlags {
            ignore_daemonsets: args.ignore_daemonsets,
            force: args.force,
            delete_emptydir_data: args.delete_emptydir_data,
        },
    );
    if !plan.errors.is_empty() {
        bail!(
            "unable to drain node {node:?} due to error: {}, continuing command...\nThere are pending nodes to be drained:\n {node}",
            plan.errors.join(", ")
        );
    }
    for w in &plan.warnings {
        eprintln!("Warning: {w}");
    }
    if ctx.dry_run() != DryRun::None {
        // kubectl's lines: what would be evicted; nothing is deleted.
        let suffix = ctx.dry_run_suffix();
        for (ns, name) in &plan.delete {
            println!("evicting pod {ns}/{name}{suffix}");
        }
        println!("node/{node} drained{suffix}");
        return Ok(());
    }
    let grace = (args.grace_period >= 0).then_some(args.grace_period);
    let deadline = (!timeout.is_zero()).then(|| Instant::now() + timeout);
    let targets: Vec<&Pod> = plan
        .delete
        .iter()
        .filter_map(|(ns, name)| {
            pods.iter()
                .find(|p| &p.meta().namespace == ns && &p.meta().name == name)
        })
        .collect();
    let result = if args.disable_eviction {
        delete_pods(conn, &targets, grace, deadline).await
    } else {
        let evictions = targets
            .iter()
            .map(|p| evict_and_wait(conn, p, grace, deadline, timeout));
        let errors: Vec<String> = futures::future::join_all(evictions)
            .await
            .into_iter()
            .filter_map(std::result::Result::err)
            .collect();
        match errors.as_slice() {
            [] => Ok(()),
            [one] => Err(anyhow!("{one}")),
            many => Err(anyhow!("[{}]", many.join(", "))),
        }
    };
    if let Err(e) = result {
        // kubectl lists what is left before giving up on the node.
        let left = conn.call(pods_api.list(&on_node)).await.map(|l| l.items);
        if let Ok(left) = left {
            let flags = DrainFlags {
                ignore_daemonsets: args.ignore_daemonsets,
                force: args.force,
                delete_emptydir_data: args.delete_emptydir_data,
            };
            let pending = plan_drain(&left, flags).delete;
            if !pending.is_empty() {
                eprintln!("There are pending pods in node {node:?} when an error occurred: {e}");
                for (_, name) in pending {
                    eprintln!("pod/{name}");
                }
            }
        }
        bail!(
            "unable to drain node {node:?} due to error: {e}, continuing command...\nThere are pending nodes to be drained:\n {node}"
        );
    }
    println!("node/{node} drained");
    Ok(())
}

/// kubectl's pause between evictions a disruption budget refused.
const EVICTION_RETRY: Duration = Duration::from_secs(5);

/// What drain does after one eviction attempt (kubectl's evictPods loop).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AfterEviction {
    /// Accepted: wait for the pod to go.
    Wait,
    /// Already gone: nothing more to do.
    Gone,
    /// A disruption budget refused (429): say so and try again in 5 s.
    Retry(String),
    /// Anything else ends this pod's eviction with an error.
    Fail(String),
}

/// Pure: the next step after evicting `ns/name` answered `result`.
pub fn after_eviction(ns: &str, name: &str, result: &Result<()>) -> AfterEviction {
    match result {
        Ok(()) => AfterEviction::Wait,
        Err(e) => match crate::api::reason_of(e) {
            Some(Reason::NotFound) => AfterEviction::Gone,
            Some(Reason::TooManyRequests) => AfterEviction::Retry(format!(
                "error when evicting pods/{name:?} -n {ns:?} (will retry after 5s): {e}"
            )),
            _ => AfterEviction::Fail(format!("error when evicting pods/{name:?} -n {ns:?}: {e}")),
        },
    }
}

/// Go's rendering of a duration (`5s`, `1m30s`, `2h0m0s`, `500ms`), as kubectl prints its
/// timeout.
pub fn go_duration(d: Duration) -> String {
    let secs = d.as_secs();
    if secs == 0 {
        return format!("{}ms", d.as_millis());
    }
    let frac = d.subsec_millis();
    let s = if frac == 0 {
        format!("{}s", secs % 60)
    } else {
        let frac = format!("{frac:03}");
        format!("{}.{}s", secs % 60, frac.trim_end_matches('0'))
    };
    match (secs / 3600, (secs / 60) % 60) {
        (0, 0) => s,
        (0, m) => format!("{m}m{s}"),
        (h, m) => format!("{h}h{m}m{s}"),
    }
}

/// Evicts one pod, retrying while its budget refuses, then waits for it to be gone
/// (kubectl's per-pod goroutine). The error is kubectl's line for this pod.
async fn evict_and_wait(
    conn: &crate::api::Api,
    pod: &Pod,
    grace: Option<i64>,
    deadline: Option<Instant>,
    timeout: Duration,
) -> std::result::Result<(), String> {
    let (ns, name) = (&pod.meta().namespace, &pod.meta().name);
    let api: TypedApi<Pod> = TypedApi::namespaced(conn.client().clone(), ns);
    let eviction = Eviction {
        api_version: "policy/v1".into(),
        kind: "Eviction".into(),
        metadata: Some(ObjectMeta {
            name: name.clone(),
            namespace: ns.clone(),
            ..Default::default()
        }),
        delete_options: Some(DeleteOptions {
            grace_period_seconds: grace,
            ..Default::default()
        }),
    };
    let global_timeout = || {
        format!(
            "error when evicting pods/{name:?} -n {ns:?}: global timeout reached: {}",
            go_duration(timeout)
        )
    };
    loop {
        println!("evicting pod {ns}/{name}");
        if deadline.is_some_and(|t| Instant::now() >= t) {
            return Err(global_timeout());
        }
        let result = conn.call(api.evict(name, &eviction)).await;
        match after_eviction(ns, name, &result) {
            AfterEviction::Wait => break,
            AfterEviction::Gone => return Ok(()),
            AfterEviction::Retry(line) => {
                eprintln!("{line}");
                tokio::time::sleep(EVICTION_RETRY).await;
            }
            AfterEviction::Fail(line) => return Err(line),
        }
    }
    // Gone, or replaced by another pod of the same name.
    loop {
        match conn.call(api.get_opt(name)).await {
            Ok(Some(p)) if p.meta().uid == pod.meta().uid => {}
            Ok(_) => {
                println!("pod/{name} evicted");
                return Ok(());
            }
            Err(e) => {
                return Err(format!(
                    "error when waiting for pod {name:?} in namespace {ns:?} to terminate: {e}"
                ));
            }
        }
        if deadline.is_some_and(|t| Instant::now() >= t) {
            return Err(format!(
                "error when waiting for pod {name:?} in namespace {ns:?} to terminate: global timeout reached: {}",
                go_duration(timeout)
            ));
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// `--disable-eviction`: deletes the pods (past any budget) and waits for them to go.
async fn delete_pods(
    conn: &crate::api::Api,
    targets: &[&Pod],
    grace: Option<i64>,
    deadline: Option<Instant>,
) -> Result<()> {
    let mut deleted = Vec::new();
    for pod in targets {
        let (ns, name, uid) = (
            pod.meta().namespace.clone(),
            pod.meta().name.clone(),
            pod.meta().uid.clone(),
        );
        let api: TypedApi<Pod> = TypedApi::namespaced(conn.client().clone(), &ns);
        println!("deleting pod {ns}/{name}");
        let params = DeleteParams {
            grace_period_seconds: grace,
            preconditions: Some(DeletePreconditions {
                uid: uid.clone(),
                resource_version: String::new(),
            }),
            ..Default::default()
        };
        match conn.call(api.delete(&name, &params)).await {
            Ok(_) => deleted.push((ns, name, uid)),
            Err(e) if crate::api::reason_of(&e) == Some(Reason::NotFound) => {}
            Err(e) => return Err(e),
        }
    }
    // Wait for them to be gone (a new pod of the same name is another pod).
    let mut pending = deleted;
    while !pending.is_empty() {
        let mut still = Vec::new();
        for (ns, name, uid) in pending {
            let api: TypedApi<Pod> = TypedApi::namespaced(conn.client().clone(), &ns);
            match conn.call(api.get_opt(&name)).await? {
                Some(p) if p.meta().uid == uid => still.push((ns, name, uid)),
                _ => println!("pod/{name} deleted"),
            }
        }
        pending = still;
        if pending.is_empty() {
            break;
        }
        if deadline.is_some_and(|t| Instant::now() >= t) {
            let names: Vec<String> = pending.iter().map(|(n, p, _)| format!("{n}/{p}")).collect();
            bail!(
                "timed out waiting for pods to be deleted: {}",
                names.join(", ")
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::k8s::volume::VolumeSource;
    use proto::k8s::{EmptyDirVolumeSource, OwnerReference, PodSpec, PodStatus, Volume};

    fn pod(name: &str, owner: Option<&str>, phase: &str, empty_dir: bool) -> Pod {
        let mut p = Pod {
            spec: Some(PodSpec {
                volumes: if empty_dir {
                    vec![Volume {
                        name: "scratch".into(),
                        volume_source: Some(
                            VolumeSource::EmptyDir(EmptyDirVolumeSource::default()),
                        ),
                    }]
                } else {
                    vec![]
                },
                ..Default::default()
            }),
            status: Some(PodStatus {
                phase: phase.into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        p.meta_mut().name = name.into();
        p.meta_mut().namespace = "ns".into();
        if let Some(kind) = owner {
            p.meta_mut().owner_references.push(OwnerReference {
                kind: kind.into(),
                name: "o".into(),
                controller: Some(true),
                ..Default::default()
            });
        }
        p
    }

    #[test]
    fn drain_refuses_like_kubectl_unless_told_otherwise() {
        let mut mirror = pod("mirror", None, "Running", false);
        mirror
            .meta_mut()
            .annotations
            .insert(MIRROR_POD.into(), "x".into());
        let pods = vec![
            pod("rs", Some("ReplicaSet"), "Running", false),
            pod("ds", Some("DaemonSet"), "Running", false),
            pod("bare", None, "Running", false),
            pod("done", None, "Succeeded", false),
            pod("scratch", Some("ReplicaSet"), "Running", true),
            mirror,
        ];
        let plan = plan_drain(&pods, DrainFlags::default());
        assert_eq!(plan.errors.len(), 3, "{:?}", plan.errors);
        assert!(
            plan.errors[0].contains("--ignore-daemonsets") && plan.errors[0].ends_with("ns/ds")
        );
        assert!(plan.errors[1].contains("--force") && plan.errors[1].ends_with("ns/bare"));
        assert!(plan.errors[2].contains("--delete-emptydir-data"));
        let names = |p: &DrainPlan| p.delete.iter().map(|(_, n)| n.clone()).collect::<Vec<_>>();
        assert_eq!(names(&plan), ["rs", "done"]);

        let all = DrainFlags {
            ignore_daemonsets: true,
            force: true,
            delete_emptydir_data: true,
        };
        let plan = plan_drain(&pods, all);
        assert!(plan.errors.is_empty());
        assert_eq!(names(&plan), ["rs", "bare", "done", "scratch"]);
        assert_eq!(
            plan.warnings,
            [
                "ignoring DaemonSet-managed Pods: ns/ds",
                "deleting Pods that declare no controller: ns/bare",
                "deleting Pods with local storage: ns/scratch"
            ]
        );
    }

    #[test]
    fn evictions_retry_on_429_and_end_otherwise() {
        let api = |reason: Reason, message: &str| -> Result<()> {
            Err(anyhow::Error::new(proto::ApiError::new(reason, message)))
        };
        assert_eq!(after_eviction("ns", "web", &Ok(())), AfterEviction::Wait);
        assert_eq!(
            after_eviction("ns", "web", &api(Reason::NotFound, "gone")),
            AfterEviction::Gone
        );
        assert_eq!(
            after_eviction(
                "ns",
                "web",
                &api(
                    Reason::TooManyRequests,
                    "Cannot evict pod as it would violate the pod's disruption budget."
                )
            ),
            AfterEviction::Retry(
                "error when evicting pods/\"web\" -n \"ns\" (will retry after 5s): Cannot evict pod as it would violate the pod's disruption budget.".into()
            )
        );
        assert!(matches!(
            after_eviction("ns", "web", &api(Reason::Internal, "two budgets")),
            AfterEviction::Fail(line) if line == "error when evicting pods/\"web\" -n \"ns\": two budgets"
        ));
    }

    #[test]
    fn durations_print_as_go_does() {
        assert_eq!(go_duration(Duration::from_secs(7)), "7s");
        assert_eq!(go_duration(Duration::from_secs(90)), "1m30s");
        assert_eq!(go_duration(Duration::from_secs(120)), "2m0s");
        assert_eq!(go_duration(Duration::from_secs(3600)), "1h0m0s");
        assert_eq!(go_duration(Duration::from_millis(500)), "500ms");
        assert_eq!(go_duration(Duration::from_millis(1500)), "1.5s");
    }
}
