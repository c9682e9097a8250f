//! Which pod and container a `logs`, `exec` or `cp` acts on, as kubectl picks them: a pod by
//! name, or the "first" pod of a workload (`deployment/web`, `job/x`, `svc/y`) in kubectl's
//! order; the container named by `-c`, else the `kubectl.kubernetes.io/default-container`
//! annotation, else the first one.

use crate::commands::Ctx;
use crate::kinds::resolve_kind;
use anyhow::{Result, anyhow, bail};
use client::{Api as TypedApi, ListParams};
use proto::Resource;
use proto::k8s::{DaemonSet, Deployment, Job, Pod, ReplicaSet, Service, StatefulSet};
use proto::selector::LabelSelector;
use std::cmp::Ordering;
use std::time::{Duration, Instant, SystemTime};

pub const DEFAULT_CONTAINER_ANNOTATION: &str = "kubectl.kubernetes.io/default-container";

/// What the command line named: `POD`, `pod/POD` or `TYPE/NAME` of a workload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Pod(String),
    /// A workload's (or service's) kind, as kubectl's `Kind`, and its name.
    Workload(&'static str, String),
}

/// Kinds whose pods a selector finds (kubectl's SelectorsForObject).
const WORKLOAD_KINDS: &[&str] = &[
    "Deployment",
    "ReplicaSet",
    "StatefulSet",
    "DaemonSet",
    "Job",
    "Service",
];

/// `what` is kubectl's verb phrase for an unsupported kind: "get the logs from" (logs),
/// "attach to" (exec).
pub fn parse_target(arg: &str, what: &str) -> Result<Target> {
    let Some((kind, name)) = arg.split_once('/') else {
        return Ok(Target::Pod(arg.to_string()));
    };
    if name.is_empty() || kind.is_empty() {
        bail!("arguments in resource/name form must have a single resource and name");
    }
    let info = resolve_kind(kind)?;
    if info.kind == "Pod" {
        return Ok(Target::Pod(name.to_string()));
    }
    match WORKLOAD_KINDS.iter().find(|k| **k == info.kind) {
        Some(k) => Ok(Target::Workload(k, name.to_string())),
        None => bail!(
            "cannot {what} *v1.{}: selector for *v1.{} not implemented",
            info.kind,
            info.kind
        ),
    }
}

/// kubectl's `AllContainerNames`: containers, then init containers marked `(init)`.
pub fn all_container_names(pod: &Pod) -> String {
    let spec = pod.spec.clone().unwrap_or_default();
    let mut names: Vec<String> = spec.containers.iter().map(|c| c.name.clone()).collect();
    names.extend(
        spec.init_containers
            .iter()
            .map(|c| format!("{} (init)", c.name)),
    );
    names.join(", ")
}

/// Whether the pod has a container (regular or init) of this name.
pub fn has_container(pod: &Pod, name: &str) -> bool {
    let Some(spec) = &pod.spec else { return false };
    spec.containers
        .iter()
        .chain(&spec.init_containers)
        .any(|c| c.name == name)
}

/// The container to use and the notice kubectl prints on stderr when it picked one itself
/// (`Defaulted container "a" out of: a, b`), or kubectl's error for a name that is not the
/// pod's.
pub fn choose_container(pod: &Pod, asked: Option<&str>) -> Result<(String, Option<String>)> {
    let name = &pod.meta().name;
    let spec = pod.spec.clone().unwrap_or_default();
    let Some(first) = spec.containers.first() else {
        bail!(
            "pod {}/{} does not have any containers",
            pod.meta().namespace,
            name
        );
    };
    if let Some(asked) = asked.filter(|a| !a.is_empty()) {
        // kubectl 1.33's (and the kubelet's) wording for a `-c` the pod does not have.
        if !has_container(pod, asked) {
            bail!("container {asked} is not valid for pod {name}");
        }
        return Ok((asked.to_string(), None));
    }
    let annotated = pod
        .meta()
        .annotations
        .get(DEFAULT_CONTAINER_ANNOTATION)
        .filter(|a| !a.is_empty());
    if let Some(asked) = annotated {
        if !has_container(pod, asked) {
            bail!(
                "container {asked} is not valid for pod {name} out of: {}",
                all_container_names(pod)
            );
        }
        return Ok((asked.to_string(), None));
    }
    let notice = (spec.containers.len() > 1 || !spec.init_containers.is_empty()).then(|| {
        format!(
            "Defaulted container {:?} out of: {}",
            first.name,
            all_container_names(pod)
        )
    });
    Ok((first.name.clone(), notice))
}

fn phase(p: &Pod) -> &str {
    p.status.as_ref().map(|s| s.phase.as_str()).unwrap_or("")
}

fn node(p: &Pod) -> &str {
    p.spec.as_ref().map(|s| s.node_name.as_str()).unwrap_or("")
}

/// When the pod became ready; `None` when it is not ready.
fn ready_since(p: &Pod) -> Option<Option<SystemTime>> {
    p.status.as_ref()?.conditions.iter().find_map(|c| {
        (c.r#type == "Ready" && c.status == "True")
            .then(|| proto::time::parse_rfc3339(&c.last_transition_time))
    })
}

fn max_restarts(p: &Pod) -> i32 {
    p.status
        .as_ref()
        .map(|s| {
            s.container_statuses
                .iter()
                .map(|c| c.restart_count)
                .max()
                .unwrap_or(0)
        })
        .unwrap_or(0)
}

fn created(p: &Pod) -> Option<SystemTime> {
    proto::time::parse_rfc3339(&p.meta().creation_timestamp)
}

/// Go's `afterOrZero(t1, t2)`: t1 after t2, a zero time counting as after any other.
fn after_or_zero(t1: Option<SystemTime>, t2: Option<SystemTime>) -> bool {
    match (t1, t2) {
        (None, _) | (_, None) => t1.is_none(),
        (Some(a), Some(b)) => a > b,
    }
}

fn less_to_ordering(less: impl Fn(&Pod, &Pod) -> bool, a: &Pod, b: &Pod) -> Ordering {
    if less(a, b) {
        Ordering::Less
    } else if less(b, a) {
        Ordering::Greater
    } else {
        Ordering::Equal
    }
}

/// kubectl's `podutils.ByLogging`: the pod `logs TYPE/NAME` reads first.
pub fn by_logging(a: &Pod, b: &Pod) -> Ordering {
    less_to_ordering(logging_less, a, b)
}

fn logging_less(a: &Pod, b: &Pod) -> bool {
    if node(a) != node(b) && (node(a).is_empty() || node(b).is_empty()) {
        return !node(a).is_empty();
    }
    let rank = |p: &Pod| match phase(p) {
        "Running" => 0,
        "Unknown" => 1,
        "Pending" => 2,
        _ => 0,
    };
    if rank(a) != rank(b) {
        return rank(a) < rank(b);
    }
    let (ra, rb) = (ready_since(a), ready_since(b));
    if ra.is_some() != rb.is_some() {
        return ra.is_some();
    }
    if let (Some(ta), Some(tb)) = (ra, rb)
        && ta != tb
    {
        return after_or_zero(tb, ta);
    }
    if max_restarts(a) != max_restarts(b) {
        return max_restarts(a) > max_restarts(b);
    }
    if created(a) != created(b) {
        return after_or_zero(created(b), created(a));
    }
    false
}

/// The reverse of kubectl's `podutils.ActivePods`: the pod `exec TYPE/NAME` enters first.
pub fn most_active_first(a: &Pod, b: &Pod) -> Ordering {
    less_to_ordering(active_less, b, a)
}

fn active_less(a: &Pod, b: &Pod) -> bool {
    if node(a) != node(b) && (node(a).is_empty() || node(b).is_empty()) {
        return node(a).is_empty();
    }
    let rank = |p: &Pod| match phase(p) {
        "Pending" => 0,
        "Unknown" => 1,
        "Running" => 2,
        _ => 0,
    };
    if rank(a) != rank(b) {
        return rank(a) < rank(b);
    }
    let (ra, rb) = (ready_since(a), ready_since(b));
    if ra.is_some() != rb.is_some() {
        return ra.is_none();
    }
    let deleting = |p: &Pod| !p.meta().deletion_timestamp.is_empty();
    if deleting(a) != deleting(b) {
        return deleting(a);
    }
    if let (Some(ta), Some(tb)) = (ra, rb)
        && ta != tb
    {
        return after_or_zero(ta, tb);
    }
    if max_restarts(a) != max_restarts(b) {
        return max_restarts(a) > max_restarts(b);
    }
    if created(a) != created(b) {
        return after_or_zero(created(a), created(b));
    }
    false
}

/// The label selector of a workload's pods, as a selector string.
async fn selector_of(ctx: &Ctx, kind: &str, name: &str) -> Result<String> {
    let api = ctx.api().await?;
    let ns = ctx.ns.effective();
    let client = api.client().clone();
    let from_proto = |s: Option<&proto::k8s::LabelSelector>| -> Result<String> {
        let s = s.ok_or_else(|| anyhow!("{kind} {name:?} has no selector"))?;
        Ok(LabelSelector::from_proto(s)
            .map_err(|e| anyhow!("invalid label selector: {e}"))?
            .to_string())
    };
    match kind {
        "Deployment" => {
            let d = api
                .call(TypedApi::<Deployment>::namespaced(client, ns).get(name))
                .await?;
            from_proto(d.spec.as_ref().and_then(|s| s.selector.as_ref()))
        }
        "ReplicaSet" => {
            let d = api
                .call(TypedApi::<ReplicaSet>::namespaced(client, ns).get(name))
                .await?;
            from_proto(d.spec.as_ref().and_then(|s| s.selector.as_ref()))
        }
        "StatefulSet" => {
            let d = api
                .call(TypedApi::<StatefulSet>::namespaced(client, ns).get(name))
                .await?;
            from_proto(d.spec.as_ref().and_then(|s| s.selector.as_ref()))
        }
        "DaemonSet" => {
            let d = api
                .call(TypedApi::<DaemonSet>::namespaced(client, ns).get(name))
                .await?;
            from_proto(d.spec.as_ref().and_then(|s| s.selector.as_ref()))
        }
        "Job" => {
            let d = api
                .call(TypedApi::<Job>::namespaced(client, ns).get(name))
                .await?;
            from_proto(d.spec.as_ref().and_then(|s| s.selector.as_ref()))
        }
        "Service" => {
            let s = api
                .call(TypedApi::<Service>::namespaced(client, ns).get(name))
                .await?;
            let sel = s.spec.map(|s| s.selector).unwrap_or_default();
            if sel.is_empty() {
                bail!("invalid service '{name}': Service is defined without a selector");
            }
            Ok(LabelSelector::from_labels(&sel)
                .map_err(|e| anyhow!("invalid label selector: {e}"))?
                .to_string())
        }
        other => bail!("selector for {other} not implemented"),
    }
}

pub fn pods_api(ctx: &Ctx, client: &client::Client) -> TypedApi<Pod> {
    TypedApi::namespaced(client.clone(), ctx.ns.effective())
}

/// One pod by name, in `namespace`.
pub async fn get_pod(ctx: &Ctx, namespace: &str, name: &str) -> Result<Pod> {
    let api = ctx.api().await?;
    let pods: TypedApi<Pod> = TypedApi::namespaced(api.client().clone(), namespace);
    api.call(pods.get(name)).await
}

/// The pods matching `selector`, sorted by name.
pub async fn list_pods(ctx: &Ctx, selector: &str) -> Result<Vec<Pod>> {
    let api = ctx.api().await?;
    let mut pods = api
        .call(pods_api(ctx, api.client()).list(&ListParams::labels(selector)))
        .await?
        .items;
    pods.sort_by(|a, b| a.meta().name.cmp(&b.meta().name));
    Ok(pods)
}

/// The pods of a workload in `order`, waiting up to `timeout` for a first one (kubectl's
/// `GetPodList`, which watches until one appears).
pub async fn workload_pods(
    ctx: &Ctx,
    kind: &str,
    name: &str,
    timeout: Duration,
    order: fn(&Pod, &Pod) -> Ordering,
) -> Result<Vec<Pod>> {
    let selector = selector_of(ctx, kind, name).await?;
    let deadline = Instant::now() + timeout;
    loop {
        let mut pods = list_pods(ctx, &selector).await?;
        if !pods.is_empty() {
            pods.sort_by(order);
            return Ok(pods);
        }
        if Instant::now() >= deadline {
            bail!("timed out waiting for the condition");
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The pod `exec` and `cp` enter: the named one, or a workload's most active one (in the
/// namespace of `-n`).
pub async fn exec_pod(ctx: &Ctx, target: &Target, timeout: Duration) -> Result<Pod> {
    let pod = match target {
        Target::Pod(name) => get_pod(ctx, ctx.ns.effective(), name).await?,
        Target::Workload(kind, name) => workload_pods(ctx, kind, name, timeout, most_active_first)
            .await?
            .remove(0),
    };
    check_running(&pod)?;
    Ok(pod)
}

/// kubectl refuses to exec into a pod that has finished.
pub fn check_running(pod: &Pod) -> Result<()> {
    let phase = phase(pod);
    if phase == "Succeeded" || phase == "Failed" {
        bail!("cannot exec into a container in a completed pod; current phase is {phase}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::k8s::{Container, ObjectMeta, PodCondition, PodSpec, PodStatus};

    fn pod(name: &str, containers: &[&str], init: &[&str]) -> Pod {
        let c = |n: &&str| Container {
            name: n.to_string(),
            ..Default::default()
        };
        Pod {
            metadata: Some(ObjectMeta {
                name: name.into(),
                namespace: "default".into(),
                ..Default::default()
            }),
            spec: Some(PodSpec {
                containers: containers.iter().map(c).collect(),
                init_containers: init.iter().map(c).collect(),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn targets_as_kubectl_reads_them() {
        assert_eq!(
            parse_target("web-1", "attach to").unwrap(),
            Target::Pod("web-1".into())
        );
        assert_eq!(
            parse_target("pod/web-1", "attach to").unwrap(),
            Target::Pod("web-1".into())
        );
        assert_eq!(
            parse_target("po/web-1", "attach to").unwrap(),
            Target::Pod("web-1".into())
        );
        assert_eq!(
            parse_target("deploy/web", "attach to").unwrap(),
            Target::Workload("Deployment", "web".into())
        );
        assert_eq!(
            parse_target("statefulset/db", "attach to").unwrap(),
            Target::Workload("StatefulSet", "db".into())
        );
        assert_eq!(
            parse_target("job/x", "attach to").unwrap(),
            Target::Workload("Job", "x".into())
        );
        assert_eq!(
            parse_target("ds/x", "attach to").unwrap(),
            Target::Workload("DaemonSet", "x".into())
        );
        assert_eq!(
            parse_target("rs/x", "attach to").unwrap(),
            Target::Workload("ReplicaSet", "x".into())
        );
        assert_eq!(
            parse_target("svc/x", "attach to").unwrap(),
            Target::Workload("Service", "x".into())
        );
        assert!(parse_target("configmap/x", "attach to").is_err());
        assert!(parse_target("pod/", "attach to").is_err());
        assert!(parse_target("nosuchkind/x", "attach to").is_err());
    }

    #[test]
    fn default_container_and_its_notice() {
        let one = pod("p", &["app"], &[]);
        assert_eq!(choose_container(&one, None).unwrap(), ("app".into(), None));
        let two = pod("p", &["app", "side"], &["setup"]);
        assert_eq!(
            choose_container(&two, None).unwrap(),
            (
                "app".into(),
                Some(r#"Defaulted container "app" out of: app, side, setup (init)"#.into())
            )
        );
        assert_eq!(
            choose_container(&two, Some("setup")).unwrap(),
            ("setup".into(), None)
        );
        assert_eq!(
            choose_container(&two, Some("nope"))
                .unwrap_err()
                .to_string(),
            "container nope is not valid for pod p"
        );
        let mut annotated = two.clone();
        annotated
            .metadata
            .as_mut()
            .unwrap()
            .annotations
            .insert(DEFAULT_CONTAINER_ANNOTATION.into(), "side".into());
        assert_eq!(
            choose_container(&annotated, None).unwrap(),
            ("side".into(), None)
        );
        // An annotation naming no container: kubectl's error for exec, with the names.
        let mut wrong = two.clone();
        wrong
            .metadata
            .as_mut()
            .unwrap()
            .annotations
            .insert(DEFAULT_CONTAINER_ANNOTATION.into(), "gone".into());
        assert_eq!(
            choose_container(&wrong, None).unwrap_err().to_string(),
            "container gone is not valid for pod p out of: app, side, setup (init)"
        );
        // -c wins over the annotation.
        assert_eq!(
            choose_container(&annotated, Some("app")).unwrap(),
            ("app".into(), None)
        );
    }

    fn with_status(mut p: Pod, node: &str, phase: &str, ready_at: Option<&str>) -> Pod {
        p.spec.as_mut().unwrap().node_name = node.into();
        p.status = Some(PodStatus {
            phase: phase.into(),
            conditions: ready_at
                .map(|t| PodCondition {
                    r#type: "Ready".into(),
                    status: "True".into(),
                    last_transition_time: t.into(),
                    ..Default::default()
                })
                .into_iter()
                .collect(),
            ..Default::default()
        });
        p
    }

    #[test]
    fn workload_pods_in_kubectl_order() {
        let pending = with_status(pod("a-pending", &["c"], &[]), "", "Pending", None);
        let running = with_status(pod("b-running", &["c"], &[]), "n1", "Running", None);
        let old_ready = with_status(
            pod("c-old", &["c"], &[]),
            "n1",
            "Running",
            Some("2024-01-01T00:00:00Z"),
        );
        let new_ready = with_status(
            pod("d-new", &["c"], &[]),
            "n1",
            "Running",
            Some("2024-06-01T00:00:00Z"),
        );
        let mut pods = [pending, running, new_ready, old_ready];
        pods.sort_by(most_active_first);
        let names: Vec<_> = pods.iter().map(|p| p.meta().name.as_str()).collect();
        assert_eq!(names, ["c-old", "d-new", "b-running", "a-pending"]);
        pods.sort_by(by_logging);
        let names: Vec<_> = pods.iter().map(|p| p.meta().name.as_str()).collect();
        assert_eq!(names, ["c-old", "d-new", "b-running", "a-pending"]);
    }
}
