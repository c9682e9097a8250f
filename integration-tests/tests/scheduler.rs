//! The real `scheduler` binary against the real `apiserver` binary: nodes of differing
//! capacity, labels and taints (one cordoned); pods with node selectors, node affinity,
//! tolerations, pod affinity and anti-affinity and topology spreading. Asserts where each
//! lands, that an impossible pod stays Pending with the explaining FailedScheduling event
//! and PodScheduled=False condition (also as `ctl describe pod` shows them), and that the
//! scheduler stops cleanly on SIGTERM.
//!
//! Needs `cargo build -p apiserver -p scheduler -p ctl --bins`.

use std::process::Command;
use std::time::{Duration, Instant};

use client::{Api, Client, ListParams};
use integration_tests::{Process, binary, ctl, free_addr, spawn_apiserver, text, wait_ready};
use proto::k8s::{Event, Node, Pod};

const NODES: &str = r#"
apiVersion: v1
kind: Node
metadata:
  name: big
  labels: {kubernetes.io/hostname: big, topology.kubernetes.io/zone: a, disk: ssd}
status:
  allocatable: {cpu: "8", memory: 16Gi, pods: "110"}
  capacity: {cpu: "8", memory: 16Gi, pods: "110"}
  conditions: [{type: Ready, status: "True"}]
---
apiVersion: v1
kind: Node
metadata:
  name: small
  labels: {kubernetes.io/hostname: small, topology.kubernetes.io/zone: a}
status:
  allocatable: {cpu: "1", memory: 2Gi, pods: "110"}
  conditions: [{type: Ready, status: "True"}]
---
apiVersion: v1
kind: Node
metadata:
  name: gpu
  labels: {kubernetes.io/hostname: gpu, topology.kubernetes.io/zone: b, accelerator: gpu}
spec:
  taints: [{key: dedicated, value: gpu, effect: NoSchedule}]
status:
  allocatable: {cpu: "8", memory: 16Gi, pods: "110"}
  conditions: [{type: Ready, status: "True"}]
---
apiVersion: v1
kind: Node
metadata:
  name: edge
  labels: {kubernetes.io/hostname: edge, topology.kubernetes.io/zone: b, tier: edge}
status:
  allocatable: {cpu: "4", memory: 8Gi, pods: "110"}
  conditions: [{type: Ready, status: "True"}]
---
apiVersion: v1
kind: Node
metadata:
  name: cordoned
  labels: {kubernetes.io/hostname: cordoned, topology.kubernetes.io/zone: c}
spec:
  unschedulable: true
status:
  allocatable: {cpu: "16", memory: 32Gi, pods: "110"}
  conditions: [{type: Ready, status: "True"}]
"#;

fn pod_yaml(name: &str, labels: &str, spec_extra: &str, cpu: &str) -> String {
    format!(
        r#"apiVersion: v1
kind: Pod
metadata:
  name: {name}
  labels: {{{labels}}}
spec:
{spec_extra}
  containers:
  - name: c
    image: registry.local/app:1
    resources:
      requests: {{cpu: "{cpu}", memory: 64Mi}}
"#
    )
}

struct Cluster {
    url: String,
    _api: Process,
    sched: Process,
    _dir: tempfile::TempDir,
}

async fn cluster() -> (Cluster, Client) {
    let dir = tempfile::Builder::new()
        .prefix("it-scheduler-")
        .tempdir()
        .expect("temp dir");
    let addr = free_addr();
    let url = format!("http://{addr}");
    let mut api = spawn_apiserver(
        &dir.path().join("data"),
        addr,
        dir.path().join("apiserver.log"),
    );
    let client = wait_ready(&url, &mut api, Duration::from_secs(20)).await;
    let config = dir.path().join("scheduler.yaml");
    // The default profile, written out: what a user's file looks like.
    std::fs::write(
        &config,
        "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n\
         profiles:\n- schedulerName: default-scheduler\n  plugins:\n    score:\n      \
         enabled: [{name: NodeResourcesBalancedAllocation, weight: 1}]\n",
    )
    .expect("config file");
    let sched = Process::spawn(
        "scheduler",
        Command::new(binary("scheduler"))
            .arg("--server")
            .arg(&url)
            .arg("--config")
            .arg(&config)
            .args(["--metrics-bind-address", "127.0.0.1:0"])
            .env("RUST_LOG", "info"),
        dir.path().join("scheduler.log"),
    );
    (
        Cluster {
            url,
            _api: api,
            sched,
            _dir: dir,
        },
        client,
    )
}

fn apply(c: &Cluster, yaml: &str) {
    let out = ctl(&c.url, &["apply", "-f", "-"], Some(yaml));
    assert!(
        out.status.success(),
        "ctl apply failed: {}\n{yaml}",
        text(&out.stderr)
    );
}

async fn wait_bound(c: &mut Cluster, pods: &Api<Pod>, name: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(p) = pods.get(name).await
            && let Some(n) = p.spec.map(|s| s.node_name)
            && !n.is_empty()
        {
            return n;
        }
        assert!(
            c.sched.is_running(),
            "scheduler exited; log:\n{}",
            c.sched.log_text()
        );
        assert!(
            Instant::now() < deadline,
            "pod {name} not bound in time; scheduler log:\n{}",
            c.sched.log_text()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pods_land_where_their_constraints_allow_and_the_impossible_one_is_explained() {
    let (mut c, client) = cluster().await;
    // Nodes register with their status in one call, as a kubelet does (`ctl apply` sends
    // no status).
    for node in proto::manifest::load_documents(NODES).expect("node manifests") {
        client.create(node).await.expect("create node");
    }
    assert_eq!(
        Api::<Node>::all(client.clone())
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .len(),
        5
    );
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");

    // nodeSelector.
    apply(
        &c,
        &pod_yaml("ssd", "app: ssd", "  nodeSelector: {disk: ssd}", "100m"),
    );
    assert_eq!(wait_bound(&mut c, &pods, "ssd").await, "big");

    // Toleration plus required node affinity: only the tainted gpu node.
    apply(
        &c,
        &pod_yaml(
            "trainer",
            "app: trainer",
            "  tolerations: [{key: dedicated, operator: Equal, value: gpu, effect: NoSchedule}]\n  \
             affinity:\n    nodeAffinity:\n      requiredDuringSchedulingIgnoredDuringExecution:\n        \
             nodeSelectorTerms: [{matchExpressions: [{key: accelerator, operator: In, values: [gpu]}]}]",
            "2",
        ),
    );
    assert_eq!(wait_bound(&mut c, &pods, "trainer").await, "gpu");

    // Zone a, 2 cpu: small has only 1 cpu, so big.
    apply(
        &c,
        &pod_yaml(
            "zonal",
            "app: zonal",
            "  affinity:\n    nodeAffinity:\n      requiredDuringSchedulingIgnoredDuringExecution:\n        \
             nodeSelectorTerms: [{matchExpressions: [{key: topology.kubernetes.io/zone, operator: In, values: [a]}]}]",
            "2",
        ),
    );
    assert_eq!(wait_bound(&mut c, &pods, "zonal").await, "big");

    // A pod pinned by nodeName (no scheduling), then one with affinity to it by hostname.
    apply(&c, &pod_yaml("db", "app: db", "  nodeName: edge", "100m"));
    apply(
        &c,
        &pod_yaml(
            "cache",
            "app: cache",
            "  affinity:\n    podAffinity:\n      requiredDuringSchedulingIgnoredDuringExecution:\n      \
             - labelSelector: {matchLabels: {app: db}}\n        topologyKey: kubernetes.io/hostname",
            "100m",
        ),
    );
    assert_eq!(wait_bound(&mut c, &pods, "cache").await, "edge");

    // Anti-affinity to itself by hostname, within zone a: one on each of big and small.
    let solo = |name: &str| {
        pod_yaml(
            name,
            "app: solo",
            "  nodeSelector: {topology.kubernetes.io/zone: a}\n  affinity:\n    podAntiAffinity:\n      \
             requiredDuringSchedulingIgnoredDuringExecution:\n      \
             - labelSelector: {matchLabels: {app: solo}}\n        topologyKey: kubernetes.io/hostname",
            "100m",
        )
    };
    apply(&c, &solo("solo-1"));
    let first = wait_bound(&mut c, &pods, "solo-1").await;
    apply(&c, &solo("solo-2"));
    let second = wait_bound(&mut c, &pods, "solo-2").await;
    let mut solos = [first.clone(), second.clone()];
    solos.sort();
    assert_eq!(solos, ["big", "small"], "{first} / {second}");

    // Spreading over zones a and b with maxSkew 1 (DoNotSchedule): alternate zones.
    let spread = |name: &str| {
        pod_yaml(
            name,
            "app: spread",
            "  topologySpreadConstraints:\n  - maxSkew: 1\n    topologyKey: topology.kubernetes.io/zone\n    \
             whenUnsatisfiable: DoNotSchedule\n    labelSelector: {matchLabels: {app: spread}}\n  \
             affinity:\n    nodeAffinity:\n      requiredDuringSchedulingIgnoredDuringExecution:\n        \
             nodeSelectorTerms: [{matchExpressions: [{key: topology.kubernetes.io/zone, operator: In, values: [a, b]}]}]",
            "100m",
        )
    };
    let zone = |n: &str| {
        if matches!(n, "big" | "small") {
            "a"
        } else {
            "b"
        }
    };
    let mut zones = Vec::new();
    for i in 0..4 {
        let name = format!("spread-{i}");
        apply(&c, &spread(&name));
        let n = wait_bound(&mut c, &pods, &name).await;
        assert_ne!(n, "gpu", "the taint still applies");
        zones.push(zone(&n));
    }
    zones.sort();
    assert_eq!(zones, ["a", "a", "b", "b"]);

    // Impossible: 100 cpu. Stays Pending with the reasons per node.
    apply(&c, &pod_yaml("huge", "app: huge", "", "100"));
    let want = "0/5 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, \
                1 node(s) were unschedulable, 3 Insufficient cpu. preemption: 0/5 nodes are \
                available: 2 Preemption is not helpful for scheduling, 3 No preemption victims \
                found for incoming pod.";
    let events: Api<Event> = Api::namespaced(client.clone(), "default");
    let deadline = Instant::now() + Duration::from_secs(30);
    let event = loop {
        let list = events
            .list(&ListParams::fields("involvedObject.name=huge"))
            .await
            .unwrap();
        if let Some(e) = list
            .items
            .into_iter()
            .find(|e| e.reason == "FailedScheduling")
        {
            break e;
        }
        assert!(
            Instant::now() < deadline,
            "no FailedScheduling event; log:\n{}",
            c.sched.log_text()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(event.message, want);
    assert_eq!(event.r#type, "Warning");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let p = pods.get("huge").await.unwrap();
        assert!(p.spec.as_ref().unwrap().node_name.is_empty());
        let st = p.status.unwrap_or_default();
        assert_eq!(st.phase, "Pending");
        if let Some(cond) = st.conditions.iter().find(|c| c.r#type == "PodScheduled") {
            assert_eq!(cond.status, "False");
            assert_eq!(cond.reason, "Unschedulable");
            assert_eq!(cond.message, want);
            break;
        }
        assert!(Instant::now() < deadline, "no PodScheduled condition");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // What a user sees.
    let out = ctl(&c.url, &["describe", "pod", "huge"], None);
    let described = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(described.contains("FailedScheduling"), "{described}");
    assert!(described.contains(want), "{described}");
    assert!(
        described
            .lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["PodScheduled", "False"]),
        "{described}"
    );
    // Bound pods got a Scheduled event, shown by describe as well.
    let out = ctl(&c.url, &["describe", "pod", "ssd"], None);
    assert!(
        text(&out.stdout).contains("Successfully assigned default/ssd to big"),
        "{}",
        text(&out.stdout)
    );

    // A little later it is still Pending: nothing changed in the cluster.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let p = pods.get("huge").await.unwrap();
    assert!(p.spec.unwrap().node_name.is_empty());

    // Uncordoning the 16-cpu node is not enough for 100 cpu; shrinking the request is not
    // possible (pods are immutable), so delete it and create a fitting one: it goes to the
    // uncordoned node, which is the emptiest.
    let mut cordoned = Api::<Node>::all(client.clone())
        .get("cordoned")
        .await
        .unwrap();
    cordoned
        .spec
        .get_or_insert_with(Default::default)
        .unschedulable = false;
    Api::<Node>::all(client.clone())
        .update(&cordoned)
        .await
        .unwrap();
    apply(&c, &pod_yaml("wide", "app: wide", "", "12"));
    assert_eq!(wait_bound(&mut c, &pods, "wide").await, "cordoned");
    assert!(
        pods.get("huge")
            .await
            .unwrap()
            .spec
            .unwrap()
            .node_name
            .is_empty()
    );

    assert!(
        c.sched.terminate(Duration::from_secs(10)),
        "scheduler did not exit cleanly on SIGTERM; log:\n{}",
        c.sched.log_text()
    );
}
