//! Node lifecycle against an in-process apiserver, fake nodes and the fake kubelet: a
//! node whose Lease stops being renewed turns Ready=Unknown, is tainted unreachable, its
//! pods are evicted after their (shortened) toleration and the ReplicaSet controller
//! replaces them on the other nodes; the taints go when the node comes back. NoExecute
//! taints set by users evict pods that do not tolerate them at once.

mod common;

use client::Api;
use common::{Cluster, is_ready, is_terminating, list_pods, wait_for};
use controller_manager::controllers::nodelifecycle::NAME;
use proto::Resource;
use proto::defaults::TAINT_NODE_UNREACHABLE;
use proto::k8s::{Node, Pod, ReplicaSet, Taint};
use proto::time::parse_rfc3339;
use std::time::Duration;

const T: Duration = Duration::from_secs(30);

fn node_ready(n: &Node) -> &str {
    n.status
        .as_ref()
        .and_then(|s| s.conditions.iter().find(|c| c.r#type == "Ready"))
        .map_or("", |c| c.status.as_str())
}

fn taint<'a>(n: &'a Node, key: &str, effect: &str) -> Option<&'a Taint> {
    n.spec
        .as_ref()?
        .taints
        .iter()
        .find(|t| t.key == key && t.effect == effect)
}

fn node_of(p: &Pod) -> &str {
    p.spec.as_ref().map_or("", |s| s.node_name.as_str())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lease_expiry_taints_the_node_evicts_after_toleration_and_pods_move() {
    let c = Cluster::builder()
        .controllers(&["nodelifecycle", "replicaset"])
        .heartbeat(Duration::from_millis(200))
        .configure(|cfg| {
            cfg.node_monitor_grace_period = Duration::from_secs(2);
            cfg.node_monitor_period = Duration::from_millis(200);
        })
        .start()
        .await;
    let rs: ReplicaSet = c
        .apply_yaml(
            r#"
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: web, namespace: default}
spec:
  replicas: 6
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: c, image: busybox}]
      tolerations:
      - {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 3}
"#,
        )
        .await;
    assert_eq!(rs.meta().name, "web");
    let pods = wait_for("6 ready pods", T, || async {
        let p: Vec<Pod> = list_pods(&c.client, "default", "app=web")
            .await
            .into_iter()
            .filter(|p| !is_terminating(p))
            .collect();
        (p.len() == 6 && p.iter().all(is_ready)).then_some(p)
    })
    .await;
    let victim = "node-0";
    let on_victim: Vec<String> = pods
        .iter()
        .filter(|p| node_of(p) == victim)
        .map(|p| p.meta().name.clone())
        .collect();
    assert!(!on_victim.is_empty(), "the fake scheduler spreads pods");
    // Admission kept the pod's shorter toleration and added the default for not-ready.
    let tols = &pods[0].spec.as_ref().unwrap().tolerations;
    assert!(
        tols.iter()
            .any(|t| t.key == TAINT_NODE_UNREACHABLE && t.toleration_seconds == Some(3))
    );

    // The node's kubelet goes silent: no more lease renewals.
    c.kubelet().set_node_stopped(victim, true);
    let nodes: Api<Node> = Api::all(c.client.clone());
    let tainted = wait_for(
        "node Ready=Unknown with the unreachable taints",
        T,
        || async {
            let n = nodes.get(victim).await.ok()?;
            (node_ready(&n) == "Unknown"
                && taint(&n, TAINT_NODE_UNREACHABLE, "NoExecute").is_some()
                && taint(&n, TAINT_NODE_UNREACHABLE, "NoSchedule").is_some())
            .then_some(n)
        },
    )
    .await;
    let cond = tainted
        .status
        .as_ref()
        .unwrap()
        .conditions
        .iter()
        .find(|c| c.r#type == "Ready")
        .unwrap();
    assert_eq!(cond.reason, "NodeStatusUnknown");
    let added = parse_rfc3339(
        &taint(&tainted, TAINT_NODE_UNREACHABLE, "NoExecute")
            .unwrap()
            .time_added,
    )
    .expect("timeAdded stamped");
    // Other nodes keep heartbeating: untouched.
    let other = nodes.get("node-1").await.unwrap();
    assert_eq!(node_ready(&other), "True");
    assert!(other.spec.as_ref().is_none_or(|s| s.taints.is_empty()));

    // The victim's pods are evicted, but only after their 3 s toleration.
    let pod_api: Api<Pod> = c.api("default");
    for name in &on_victim {
        let p = wait_for("eviction of a pod on the dead node", T, || async {
            let p = pod_api.get(name).await.ok()?;
            is_terminating(&p).then_some(p)
        })
        .await;
        // A bound pod is deleted gracefully: deletionTimestamp = eviction + grace.
        let m = p.meta();
        let deleted_at = parse_rfc3339(&m.deletion_timestamp).unwrap()
            - Duration::from_secs(m.deletion_grace_period_seconds.unwrap_or(0) as u64);
        let waited = deleted_at.duration_since(added).unwrap_or_default();
        assert!(
            waited >= Duration::from_secs(2),
            "pod {name} evicted {waited:?} after the taint, before its 3 s toleration"
        );
    }
    // Pods the endpoints would use are marked not ready on the dead node.
    let still = pod_api.get(&on_victim[0]).await.unwrap();
    assert!(
        !is_ready(&still),
        "pods of an unreachable node are not Ready"
    );

    // The ReplicaSet replaces them on the live nodes.
    wait_for("6 ready pods on the live nodes", T, || async {
        let p: Vec<Pod> = list_pods(&c.client, "default", "app=web")
            .await
            .into_iter()
            .filter(|p| !is_terminating(p))
            .collect();
        (p.len() == 6 && p.iter().all(|p| is_ready(p) && node_of(p) != victim)).then_some(())
    })
    .await;

    // The kubelet comes back: renews its lease and, finding its Ready condition not True,
    // posts it again (as a real kubelet does). The taints go.
    c.kubelet().set_node_stopped(victim, false);
    let mut n = nodes.get(victim).await.unwrap();
    for cond in &mut n.status.as_mut().unwrap().conditions {
        cond.status = "True".into();
        cond.reason = "KubeletReady".into();
        cond.last_heartbeat_time = proto::time::now_rfc3339();
    }
    nodes.update_status(&n).await.unwrap();
    wait_for("taints removed from the returned node", T, || async {
        let n = nodes.get(victim).await.ok()?;
        n.spec
            .as_ref()
            .is_none_or(|s| s.taints.is_empty())
            .then_some(())
    })
    .await;
    // And it stays healthy while its lease is renewed.
    // Real time, not a FakeClock (`ClusterBuilder::clock`): the fake kubelet renews on
    // real time, so on a moved clock the gap between renewals the controller sees would
    // follow how far the test jumps, not the kubelet; and this test compares the
    // apiserver's deletionTimestamp (real) with the taint's timeAdded (controller clock).
    tokio::time::sleep(Duration::from_secs(3)).await;
    let n = nodes.get(victim).await.unwrap();
    assert_eq!(node_ready(&n), "True");
    assert!(n.spec.as_ref().is_none_or(|s| s.taints.is_empty()));
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_noexecute_taint_evicts_pods_that_do_not_tolerate_it() {
    let c = Cluster::builder()
        .controllers(&["nodelifecycle"])
        .heartbeat(Duration::from_millis(200))
        .configure(|cfg| cfg.node_monitor_period = Duration::from_millis(200))
        .start()
        .await;
    let pod = |name: &str, tolerate: Option<&str>| {
        let tol = match tolerate {
            Some(secs) => format!(
                "\n      tolerations: [{{key: maintenance, operator: Exists, effect: NoExecute{secs}}}]"
            ),
            None => String::new(),
        };
        format!(
            r#"
apiVersion: v1
kind: Pod
metadata: {{name: {name}, namespace: default}}
spec:
      nodeName: node-1
      containers: [{{name: c, image: busybox}}]{tol}
"#
        )
    };
    let _: Pod = c.apply_yaml(&pod("plain", None)).await;
    let _: Pod = c.apply_yaml(&pod("forever", Some(""))).await;
    let _: Pod = c
        .apply_yaml(&pod("brief", Some(", tolerationSeconds: 2")))
        .await;
    let api: Api<Pod> = c.api("default");
    wait_for("pods running", T, || async {
        let l = list_pods(&c.client, "default", "").await;
        (l.len() == 3 && l.iter().all(is_ready)).then_some(())
    })
    .await;
    let nodes: Api<Node> = Api::all(c.client.clone());
    let mut n = nodes.get("node-1").await.unwrap();
    n.spec
        .get_or_insert_with(Default::default)
        .taints
        .push(Taint {
            key: "maintenance".into(),
            value: String::new(),
            effect: "NoExecute".into(),
            time_added: proto::time::now_rfc3339(),
        });
    nodes.update(&n).await.unwrap();
    let tainted_at = std::time::Instant::now();
    // No toleration: evicted at once (and the kubelet finishes the delete).
    wait_for(
        "the untolerating pod gone",
        Duration::from_secs(5),
        || async { api.get_opt("plain").await.ok()?.is_none().then_some(()) },
    )
    .await;
    assert!(
        api.get("brief").await.is_ok_and(|p| !is_terminating(&p)),
        "the 2 s toleration still holds"
    );
    wait_for("the briefly tolerating pod gone", T, || async {
        api.get_opt("brief").await.ok()?.is_none().then_some(())
    })
    .await;
    assert!(
        tainted_at.elapsed() >= Duration::from_secs(1),
        "not before its toleration"
    );
    // A full sync of the node after that eviction: it would have evicted this one too.
    let before = c.reconciles(NAME, "node-1");
    c.reconciled(NAME, "node-1", before).await;
    let kept = api.get("forever").await.unwrap();
    assert!(
        !is_terminating(&kept),
        "a toleration without seconds keeps the pod"
    );
    // The node is healthy: its user taint stays, no condition taints were added.
    let n = nodes.get("node-1").await.unwrap();
    let keys: Vec<&str> = n
        .spec
        .as_ref()
        .unwrap()
        .taints
        .iter()
        .map(|t| t.key.as_str())
        .collect();
    assert_eq!(keys, ["maintenance"]);
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubelet_reported_not_ready_taints_not_ready() {
    let c = Cluster::builder()
        .controllers(&["nodelifecycle"])
        .heartbeat(Duration::from_millis(200))
        .configure(|cfg| cfg.node_monitor_period = Duration::from_millis(200))
        .start()
        .await;
    let nodes: Api<Node> = Api::all(c.client.clone());
    // A node that has not posted any status yet is left alone within its grace period.
    let mut fresh = Node::default();
    fresh.meta_mut().name = "fresh".into();
    nodes.create(&fresh).await.unwrap();
    let set_ready = |status: &'static str| {
        let nodes = nodes.clone();
        async move {
            let mut n = nodes.get("node-2").await.unwrap();
            for cond in &mut n.status.as_mut().unwrap().conditions {
                cond.status = status.into();
                cond.last_heartbeat_time = proto::time::now_rfc3339();
            }
            nodes.update_status(&n).await.unwrap();
        }
    };
    set_ready("False").await;
    let n = wait_for("not-ready taints", T, || async {
        let n = nodes.get("node-2").await.ok()?;
        (taint(&n, proto::defaults::TAINT_NODE_NOT_READY, "NoExecute").is_some()
            && taint(&n, proto::defaults::TAINT_NODE_NOT_READY, "NoSchedule").is_some())
        .then_some(n)
    })
    .await;
    assert!(taint(&n, TAINT_NODE_UNREACHABLE, "NoExecute").is_none());
    let fresh = nodes.get("fresh").await.unwrap();
    assert!(
        fresh.spec.as_ref().is_none_or(|s| s.taints.is_empty()) && node_ready(&fresh).is_empty(),
        "a node without status is not tainted nor marked before its grace period"
    );
    // The lease is renewed: the controller leaves the kubelet's False alone.
    assert_eq!(node_ready(&n), "False");
    set_ready("True").await;
    wait_for("taints removed", T, || async {
        let n = nodes.get("node-2").await.ok()?;
        n.spec
            .as_ref()
            .is_none_or(|s| s.taints.is_empty())
            .then_some(())
    })
    .await;
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pods_of_a_deleted_node_are_removed() {
    let c = Cluster::builder().controllers(&["podgc"]).start().await;
    for i in 0..3 {
        let _: Pod = c
            .apply_yaml(&format!(
                "apiVersion: v1\nkind: Pod\nmetadata: {{name: p{i}, namespace: default}}\nspec: {{nodeName: node-0, containers: [{{name: c, image: busybox}}]}}\n"
            ))
            .await;
    }
    let _: Pod = c
        .apply_yaml("apiVersion: v1\nkind: Pod\nmetadata: {name: elsewhere, namespace: default}\nspec: {nodeName: node-1, containers: [{name: c, image: busybox}]}\n")
        .await;
    wait_for("pods running", T, || async {
        let l = list_pods(&c.client, "default", "").await;
        (l.len() == 4 && l.iter().all(is_ready)).then_some(())
    })
    .await;
    // The node's kubelet is gone for good; one pod was being deleted gracefully.
    c.kubelet().set_node_stopped("node-0", true);
    let pods: Api<Pod> = c.api("default");
    pods.delete("p0", &client::DeleteParams::default())
        .await
        .unwrap();
    assert!(
        is_terminating(&pods.get("p0").await.unwrap()),
        "waits for the kubelet"
    );
    let nodes: Api<Node> = Api::all(c.client.clone());
    nodes
        .delete("node-0", &client::DeleteParams::default())
        .await
        .unwrap();
    wait_for("the deleted node's pods removed", T, || async {
        let l = list_pods(&c.client, "default", "").await;
        (l.len() == 1 && l[0].meta().name == "elsewhere").then_some(())
    })
    .await;
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_eviction_when_every_node_is_down() {
    let c = Cluster::builder()
        .nodes(2)
        .controllers(&["nodelifecycle"])
        .heartbeat(Duration::from_millis(200))
        .configure(|cfg| {
            cfg.node_monitor_grace_period = Duration::from_secs(1);
            cfg.node_monitor_period = Duration::from_millis(200);
        })
        .start()
        .await;
    for n in ["node-0", "node-1"] {
        let _: Pod = c
            .apply_yaml(&format!(
                r#"
apiVersion: v1
kind: Pod
metadata: {{name: on-{n}, namespace: default}}
spec:
  nodeName: {n}
  containers: [{{name: c, image: busybox}}]
  tolerations:
  - {{key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 1}}
"#
            ))
            .await;
    }
    wait_for("pods running", T, || async {
        let l = list_pods(&c.client, "default", "").await;
        (l.len() == 2 && l.iter().all(is_ready)).then_some(())
    })
    .await;
    // Every kubelet goes silent at once: a control-plane problem as far as anyone can tell.
    c.kubelet().set_node_stopped("node-0", true);
    c.kubelet().set_node_stopped("node-1", true);
    let nodes: Api<Node> = Api::all(c.client.clone());
    wait_for("both nodes Unknown and NoSchedule-tainted", T, || async {
        for n in ["node-0", "node-1"] {
            let n = nodes.get(n).await.ok()?;
            if node_ready(&n) != "Unknown"
                || taint(&n, TAINT_NODE_UNREACHABLE, "NoSchedule").is_none()
            {
                return None;
            }
        }
        Some(())
    })
    .await;
    // Once both nodes are seen unreachable, a full sync of each past the pods' 1 s
    // toleration: a NoExecute taint would be set by then and the pods evicted.
    let unreachable_at = std::time::Instant::now();
    for n in ["node-0", "node-1"] {
        let before = c.reconciles(NAME, n);
        c.reconciled(NAME, n, before).await;
    }
    let toleration = Duration::from_secs(1);
    if let Some(rest) = toleration.checked_sub(unreachable_at.elapsed()) {
        // The toleration is the controller's clock: wait it out, then one more sync each.
        // Not a FakeClock: below, node-1 must stay healthy while the clock moves past
        // node-0's toleration, and its renewals come on real time (fake kubelet), so a
        // moved clock could see node-1 silent for a grace period and turn this into a
        // full disruption again; at most 1 s here.
        tokio::time::sleep(rest).await;
        for n in ["node-0", "node-1"] {
            let before = c.reconciles(NAME, n);
            c.reconciled(NAME, n, before).await;
        }
    }
    let pods: Api<Pod> = c.api("default");
    for n in ["node-0", "node-1"] {
        let node = nodes.get(n).await.unwrap();
        assert!(
            taint(&node, TAINT_NODE_UNREACHABLE, "NoExecute").is_none(),
            "{n}: no NoExecute in a full disruption"
        );
        assert!(
            !is_terminating(&pods.get(&format!("on-{n}")).await.unwrap()),
            "no eviction"
        );
    }
    // One node comes back: the other is evicted from again, its toleration counted anew.
    c.kubelet().set_node_stopped("node-1", false);
    let mut n1 = nodes.get("node-1").await.unwrap();
    for cond in &mut n1.status.as_mut().unwrap().conditions {
        cond.status = "True".into();
        cond.last_heartbeat_time = proto::time::now_rfc3339();
    }
    nodes.update_status(&n1).await.unwrap();
    wait_for("the dead node's pod evicted", T, || async {
        let p = pods.get_opt("on-node-0").await.ok()?;
        p.is_none_or(|p| is_terminating(&p)).then_some(())
    })
    .await;
    let kept = pods.get("on-node-1").await.unwrap();
    assert!(!is_terminating(&kept));
    c.stop().await;
}
