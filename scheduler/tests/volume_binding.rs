//! VolumeBinding against an in-process apiserver over real gRPC, with three nodes: an
//! unbound Immediate claim keeps its pod Pending with Kubernetes' message until it is
//! bound; a bound volume's node affinity decides the node; a WaitForFirstConsumer claim is
//! annotated with the node chosen and the pod is bound there once the claim is; a static
//! WaitForFirstConsumer volume on one node is pre-bound and pulls the pod there; a
//! provisioner giving up on the node chosen, or not answering within `bindTimeoutSeconds`,
//! makes the scheduler choose again.
//!
//! No PV binder or provisioner runs here: the test does their part (binding a claim to a
//! volume, making a volume for a selected node), so what is asserted is the scheduler's.

use apiserver::testing::TestServer;
use client::{Api, Client, ListParams};
use proto::Resource;
use proto::k8s::volume::VolumeSource;
use proto::k8s::{
    Container, Event, HostPathVolumeSource, LocalVolumeSource, Node, NodeCondition, NodeSelector,
    NodeSelectorRequirement, NodeSelectorTerm, NodeStatus, ObjectReference, PersistentVolume,
    PersistentVolumeClaim, PersistentVolumeClaimSpec, PersistentVolumeClaimStatus,
    PersistentVolumeClaimVolumeSource, PersistentVolumeSpec, PersistentVolumeStatus, Pod, PodSpec,
    StorageClass, Volume, VolumeNodeAffinity, VolumeResourceRequirements,
};
use scheduler::config::{FileConfig, build_framework, parse};
use scheduler::plugins::volume_binding::{
    ANN_BIND_COMPLETED, ANN_BOUND_BY_CONTROLLER, ANN_SELECTED_NODE,
};
use scheduler::report::ApiReporter;
use scheduler::{Options, run};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

const HOSTNAME: &str = "kubernetes.io/hostname";
const NS: &str = "default";
const NODES: [&str; 3] = ["n1", "n2", "n3"];
const UNBOUND: &str = "pod has unbound immediate PersistentVolumeClaims";

struct Cluster {
    _server: TestServer,
    client: Client,
    cancel: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl Cluster {
    /// An apiserver with three ready nodes and a scheduler.
    async fn start() -> Cluster {
        Cluster::start_with(FileConfig::default()).await
    }

    async fn start_with(config: FileConfig) -> Cluster {
        let server = TestServer::start().await;
        let client = Client::connect(&server.url).await.unwrap();
        let nodes: Api<Node> = Api::all(client.clone());
        for n in NODES {
            nodes.create(&node(n)).await.unwrap();
        }
        let cancel = CancellationToken::new();
        let framework = build_framework(&config).unwrap();
        let reporter =
            ApiReporter::start(client.clone(), "default-scheduler", "test", cancel.clone()).0;
        let (c, sc) = (cancel.clone(), client.clone());
        let task = tokio::spawn(async move {
            run(sc, framework, Options::default(), reporter, c)
                .await
                .expect("scheduler runs");
        });
        Cluster {
            _server: server,
            client,
            cancel,
            task,
        }
    }

    async fn stop(self) {
        self.cancel.cancel();
        tokio::time::timeout(Duration::from_secs(10), self.task)
            .await
            .expect("scheduler stops on cancel")
            .expect("scheduler task");
    }

    fn pods(&self) -> Api<Pod> {
        Api::namespaced(self.client.clone(), NS)
    }
    fn claims(&self) -> Api<PersistentVolumeClaim> {
        Api::namespaced(self.client.clone(), NS)
    }
    fn volumes(&self) -> Api<PersistentVolume> {
        Api::all(self.client.clone())
    }

    async fn create_class(&self, name: &str, mode: &str, provisioner: &str) {
        let mut c = StorageClass {
            provisioner: provisioner.into(),
            volume_binding_mode: Some(mode.into()),
            ..Default::default()
        };
        c.meta_mut().name = name.into();
        Api::<StorageClass>::all(self.client.clone())
            .create(&c)
            .await
            .unwrap();
    }

    async fn node_of(&self, pod: &str) -> Option<String> {
        let n = self.pods().get(pod).await.ok()?.spec?.node_name;
        (!n.is_empty()).then_some(n)
    }

    /// Waits for a FailedScheduling event on `pod` saying `want`. Other messages may come
    /// first: the claim's watch event can reach the scheduler after its pod's (separate
    /// watches, as Kubernetes' informers), and the pod is then told the claim is missing.
    async fn expect_failed_scheduling(&self, pod: &str, want: &str) {
        let events: Api<Event> = Api::namespaced(self.client.clone(), NS);
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let seen: Vec<Event> = events
                .list(&ListParams::fields(&format!("involvedObject.name={pod}")))
                .await
                .map(|l| l.items)
                .unwrap_or_default()
                .into_iter()
                .filter(|e| e.reason == "FailedScheduling")
                .collect();
            if let Some(e) = seen.iter().find(|e| e.message == want) {
                assert_eq!(e.r#type, "Warning");
                return;
            }
            let messages: Vec<&str> = seen.iter().map(|e| e.message.as_str()).collect();
            assert!(
                Instant::now() < deadline,
                "no FailedScheduling {want:?} on {pod}; seen: {messages:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The PV binder's part: the volume's claimRef and phase, the claim's volumeName,
    /// bind-completed mark and phase.
    async fn complete_binding(&self, claim: &str, volume: &str) {
        let c = self.claims().get(claim).await.unwrap();
        let mut pv = self.volumes().get(volume).await.unwrap();
        let spec = pv.spec.as_mut().unwrap();
        if spec.claim_ref.as_ref().is_none_or(|r| r.uid.is_empty()) {
            spec.claim_ref = Some(ObjectReference {
                kind: "PersistentVolumeClaim".into(),
                api_version: "v1".into(),
                namespace: NS.into(),
                name: claim.into(),
                uid: c.meta().uid.clone(),
                ..Default::default()
            });
            pv = self.volumes().update(&pv).await.unwrap();
        }
        pv.status = Some(PersistentVolumeStatus {
            phase: "Bound".into(),
            ..Default::default()
        });
        self.volumes().update_status(&pv).await.unwrap();
        let mut c = c;
        c.spec.as_mut().unwrap().volume_name = volume.into();
        c.meta_mut()
            .annotations
            .insert(ANN_BIND_COMPLETED.into(), "yes".into());
        let mut c = self.claims().update(&c).await.unwrap();
        c.status = Some(PersistentVolumeClaimStatus {
            phase: "Bound".into(),
            ..Default::default()
        });
        self.claims().update_status(&c).await.unwrap();
    }

    /// A volume, Available (the PV binder's first step); `on` pins it to that node.
    async fn create_volume(&self, name: &str, class: &str, on: Option<&str>) {
        let pv = self
            .volumes()
            .create(&volume(name, class, on))
            .await
            .unwrap();
        let mut pv = pv;
        pv.status = Some(PersistentVolumeStatus {
            phase: "Available".into(),
            ..Default::default()
        });
        self.volumes().update_status(&pv).await.unwrap();
    }
}

fn node(name: &str) -> Node {
    let mut n = Node::default();
    n.meta_mut().name = name.into();
    n.meta_mut().labels = [(HOSTNAME.to_string(), name.to_string())].into();
    let res: std::collections::BTreeMap<String, String> = [
        ("cpu".to_string(), "4".to_string()),
        ("memory".to_string(), "8Gi".to_string()),
        ("pods".to_string(), "110".to_string()),
    ]
    .into();
    n.status = Some(NodeStatus {
        capacity: res.clone(),
        allocatable: res,
        conditions: vec![NodeCondition {
            r#type: "Ready".into(),
            status: "True".into(),
            ..Default::default()
        }],
        ..Default::default()
    });
    n
}

fn pod(name: &str, claim: &str) -> Pod {
    let mut p = Pod::default();
    p.meta_mut().name = name.into();
    p.meta_mut().namespace = NS.into();
    p.spec = Some(PodSpec {
        containers: vec![Container {
            name: "c".into(),
            image: "busybox".into(),
            ..Default::default()
        }],
        volumes: vec![Volume {
            name: "data".into(),
            volume_source: Some(VolumeSource::PersistentVolumeClaim(
                PersistentVolumeClaimVolumeSource {
                    claim_name: claim.into(),
                    ..Default::default()
                },
            )),
        }],
        ..Default::default()
    });
    p
}

fn claim(name: &str, class: &str) -> PersistentVolumeClaim {
    let mut c = PersistentVolumeClaim {
        spec: Some(PersistentVolumeClaimSpec {
            access_modes: vec!["ReadWriteOnce".into()],
            storage_class_name: Some(class.into()),
            resources: Some(VolumeResourceRequirements {
                requests: [("storage".to_string(), "1Gi".to_string())].into(),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    };
    c.meta_mut().name = name.into();
    c.meta_mut().namespace = NS.into();
    c
}

fn volume(name: &str, class: &str, on: Option<&str>) -> PersistentVolume {
    let mut v = PersistentVolume {
        spec: Some(PersistentVolumeSpec {
            capacity: [("storage".to_string(), "1Gi".to_string())].into(),
            access_modes: vec!["ReadWriteOnce".into()],
            storage_class_name: class.into(),
            persistent_volume_reclaim_policy: "Retain".into(),
            ..Default::default()
        }),
        ..Default::default()
    };
    let spec = v.spec.as_mut().unwrap();
    match on {
        Some(n) => {
            spec.local = Some(LocalVolumeSource {
                path: format!("/mnt/{name}"),
                ..Default::default()
            });
            spec.node_affinity = Some(VolumeNodeAffinity {
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
            });
        }
        None => {
            spec.host_path = Some(HostPathVolumeSource {
                path: format!("/mnt/{name}"),
                ..Default::default()
            });
        }
    }
    v.meta_mut().name = name.into();
    v
}

async fn wait_for<T>(what: &str, mut f: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unbound_immediate_claim_keeps_the_pod_pending_until_it_is_bound() {
    let c = Cluster::start().await;
    c.claims().create(&claim("imm", "")).await.unwrap();
    c.pods().create(&pod("waits", "imm")).await.unwrap();
    c.pods().create(&pod("orphan", "nope")).await.unwrap();
    c.expect_failed_scheduling(
        "waits",
        "0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims. \
         preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
    )
    .await;
    c.expect_failed_scheduling(
        "orphan",
        "0/3 nodes are available: persistentvolumeclaim \"nope\" not found. \
         preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
    )
    .await;
    // The condition carries the same message (written apart from the event).
    wait_for("PodScheduled=False with the message", async || {
        let status = c.pods().get("waits").await.ok()?.status?;
        status.conditions.into_iter().find(|cond| {
            cond.r#type == "PodScheduled"
                && cond.status == "False"
                && cond.message.contains(UNBOUND)
        })
    })
    .await;
    assert_eq!(c.node_of("waits").await, None);
    // The claim bound (by the PV binder, played here), the claim's update wakes the pod.
    c.create_volume("pv-imm", "", None).await;
    c.complete_binding("imm", "pv-imm").await;
    wait_for("the pod bound", async || c.node_of("waits").await).await;
    // A claim made after its pod wakes it too (an empty class: Immediate).
    c.claims().create(&claim("nope", "")).await.unwrap();
    c.create_volume("pv-nope", "", None).await;
    c.complete_binding("nope", "pv-nope").await;
    wait_for("the orphan bound", async || c.node_of("orphan").await).await;
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bound_volume_with_node_affinity_decides_the_node() {
    let c = Cluster::start().await;
    c.create_volume("pv-n3", "", Some("n3")).await;
    c.claims().create(&claim("pinned", "")).await.unwrap();
    c.complete_binding("pinned", "pv-n3").await;
    c.create_volume("pv-nowhere", "", Some("gone")).await;
    c.claims().create(&claim("stranded", "")).await.unwrap();
    c.complete_binding("stranded", "pv-nowhere").await;
    // Several pods share the claim (the scheduler does not judge access modes): each
    // must land on n3, never on n1 or n2.
    for i in 0..4 {
        c.pods()
            .create(&pod(&format!("p{i}"), "pinned"))
            .await
            .unwrap();
    }
    for i in 0..4 {
        let name = format!("p{i}");
        let n = wait_for("the pod bound", async || c.node_of(&name).await).await;
        assert_eq!(n, "n3", "{name}");
    }
    c.pods().create(&pod("stuck", "stranded")).await.unwrap();
    c.expect_failed_scheduling(
        "stuck",
        "0/3 nodes are available: 3 node(s) had volume node affinity conflict. \
         preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
    )
    .await;
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_for_first_consumer_claim_is_provisioned_on_the_node_chosen() {
    let c = Cluster::start().await;
    c.create_class(
        "local-path",
        "WaitForFirstConsumer",
        "rancher.io/local-path",
    )
    .await;
    c.claims()
        .create(&claim("data", "local-path"))
        .await
        .unwrap();
    c.pods().create(&pod("web-0", "data")).await.unwrap();
    let selected = wait_for("the selected-node annotation", async || {
        let pvc = c.claims().get("data").await.ok()?;
        pvc.meta().annotations.get(ANN_SELECTED_NODE).cloned()
    })
    .await;
    assert!(NODES.contains(&selected.as_str()), "{selected}");
    // As Kubernetes, the pod is bound only once its claim is.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(c.node_of("web-0").await, None, "bound before its claim");
    // The provisioner's part: a volume on the selected node, bound to the claim.
    c.create_volume("pvc-data", "local-path", Some(&selected))
        .await;
    c.complete_binding("data", "pvc-data").await;
    let n = wait_for("the pod bound", async || c.node_of("web-0").await).await;
    assert_eq!(n, selected);
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_static_wait_for_first_consumer_volume_pulls_the_pod_to_its_node() {
    let c = Cluster::start().await;
    c.create_class(
        "local",
        "WaitForFirstConsumer",
        "kubernetes.io/no-provisioner",
    )
    .await;
    c.create_volume("local-n2", "local", Some("n2")).await;
    let created = c.claims().create(&claim("c", "local")).await.unwrap();
    c.pods().create(&pod("p", "c")).await.unwrap();
    // The scheduler pre-binds the volume to the claim, as Kubernetes' binder does.
    let pv = wait_for("the volume pre-bound", async || {
        let pv = c.volumes().get("local-n2").await.ok()?;
        pv.spec.as_ref()?.claim_ref.is_some().then_some(pv)
    })
    .await;
    let r = pv.spec.as_ref().unwrap().claim_ref.clone().unwrap();
    assert_eq!(
        (r.namespace.as_str(), r.name.as_str(), r.uid.as_str()),
        (NS, "c", created.meta().uid.as_str())
    );
    assert_eq!(
        pv.meta()
            .annotations
            .get(ANN_BOUND_BY_CONTROLLER)
            .map(String::as_str),
        Some("yes")
    );
    let pvc = c.claims().get("c").await.unwrap();
    assert!(
        !pvc.meta().annotations.contains_key(ANN_SELECTED_NODE),
        "a static volume needs no provisioning"
    );
    c.complete_binding("c", "local-n2").await;
    let n = wait_for("the pod bound", async || c.node_of("p").await).await;
    assert_eq!(n, "n2");
    // A second claim of the class: the only volume is taken and nothing provisions.
    c.claims().create(&claim("c2", "local")).await.unwrap();
    c.pods().create(&pod("p2", "c2")).await.unwrap();
    c.expect_failed_scheduling(
        "p2",
        "0/3 nodes are available: 3 node(s) didn't find available persistent volumes to bind. \
         preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
    )
    .await;
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provisioner_giving_up_sends_the_pod_back_to_scheduling() {
    let c = Cluster::start().await;
    c.create_class(
        "local-path",
        "WaitForFirstConsumer",
        "rancher.io/local-path",
    )
    .await;
    c.claims()
        .create(&claim("data", "local-path"))
        .await
        .unwrap();
    c.pods().create(&pod("web-0", "data")).await.unwrap();
    let selected = async || {
        let pvc = c.claims().get("data").await.ok()?;
        pvc.meta().annotations.get(ANN_SELECTED_NODE).cloned()
    };
    wait_for("the selected-node annotation", selected).await;
    // The provisioner cannot provision there: it takes the annotation off (Kubernetes'
    // signal to reschedule), keeping its own marks.
    let mut pvc = c.claims().get("data").await.unwrap();
    let ann = &mut pvc.meta_mut().annotations;
    ann.remove(ANN_SELECTED_NODE);
    ann.insert(
        "volume.kubernetes.io/storage-provisioner".into(),
        "rancher.io/local-path".into(),
    );
    c.claims().update(&pvc).await.unwrap();
    c.expect_failed_scheduling(
        "web-0",
        "running PreBind plugin \"VolumeBinding\": binding volumes: \
         provisioning failed for PVC \"data\"",
    )
    .await;
    // After its back-off the pod is scheduled again: the claim gets a node anew.
    let again = wait_for("a new selected node", selected).await;
    assert!(NODES.contains(&again.as_str()), "{again}");
    assert_eq!(c.node_of("web-0").await, None);
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_not_bound_within_the_bind_timeout_sends_the_pod_back_to_scheduling() {
    let config = parse(
        "apiVersion: kubescheduler.config.k8s.io/v1\n\
         kind: KubeSchedulerConfiguration\n\
         profiles:\n\
         - pluginConfig:\n  \
             - name: VolumeBinding\n    \
               args: {bindTimeoutSeconds: 1}\n",
    )
    .unwrap();
    let c = Cluster::start_with(config).await;
    c.create_class("slow", "WaitForFirstConsumer", "example.com/never")
        .await;
    c.claims().create(&claim("data", "slow")).await.unwrap();
    c.pods().create(&pod("web-0", "data")).await.unwrap();
    let started = Instant::now();
    c.expect_failed_scheduling(
        "web-0",
        "running PreBind plugin \"VolumeBinding\": binding volumes: context deadline exceeded",
    )
    .await;
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited the timeout"
    );
    assert_eq!(c.node_of("web-0").await, None);
    c.stop().await;
}
