//! The scheduler against an in-process apiserver over real gRPC: failure reporting
//! (event + condition) and wake-up on a new node, leader election between two replicas,
//! and start-up while the apiserver is still down.

use apiserver::testing::TestServer;
use client::{Api, Client, LeaderElectionConfig, ListParams};
use proto::Resource;
use proto::k8s::{
    Container, Event, Node, NodeCondition, NodeStatus, Pod, PodSpec, ResourceRequirements,
};
use scheduler::config::{FileConfig, build_framework};
use scheduler::report::{ApiReporter, FakeReporter, Reporter};
use scheduler::{Options, run};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

fn node(name: &str, cpu: &str) -> Node {
    let mut n = Node::default();
    n.meta_mut().name = name.into();
    let res: std::collections::BTreeMap<String, String> = [
        ("cpu".to_string(), cpu.to_string()),
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

fn pod(name: &str, cpu: &str) -> Pod {
    let mut p = Pod::default();
    p.meta_mut().name = name.into();
    p.meta_mut().namespace = "default".into();
    p.spec = Some(PodSpec {
        containers: vec![Container {
            name: "c".into(),
            image: "busybox".into(),
            resources: Some(ResourceRequirements {
                requests: [("cpu".to_string(), cpu.to_string())].into(),
                ..Default::default()
            }),
            ..Default::default()
        }],
        ..Default::default()
    });
    p
}

struct Running {
    cancel: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    async fn stop(self) {
        self.cancel.cancel();
        tokio::time::timeout(Duration::from_secs(10), self.task)
            .await
            .expect("scheduler stops on cancel")
            .expect("scheduler task");
    }
}

fn start(url: &str, options: Options, reporter: Option<Arc<dyn Reporter>>) -> Running {
    let client = Client::lazy(url).unwrap();
    let cancel = CancellationToken::new();
    let framework = build_framework(&FileConfig::default()).unwrap();
    let reporter = reporter.unwrap_or_else(|| {
        ApiReporter::start(client.clone(), "default-scheduler", "test", cancel.clone()).0
    });
    let c = cancel.clone();
    let task = tokio::spawn(async move {
        run(client, framework, options, reporter, c)
            .await
            .expect("scheduler runs");
    });
    Running { cancel, task }
}

async fn wait_for<T>(what: &str, timeout: Duration, mut f: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn node_of(pods: &Api<Pod>, name: &str) -> Option<String> {
    let p = pods.get(name).await.ok()?;
    let n = p.spec?.node_name;
    (!n.is_empty()).then_some(n)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unschedulable_pod_is_explained_then_placed_when_a_node_fits() {
    let server = TestServer::start().await;
    let client = Client::connect(&server.url).await.unwrap();
    let nodes: Api<Node> = Api::all(client.clone());
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let events: Api<Event> = Api::namespaced(client.clone(), "default");
    nodes.create(&node("small", "1")).await.unwrap();
    let sched = start(&server.url, Options::default(), None);

    pods.create(&pod("big", "2")).await.unwrap();
    let want = "0/1 nodes are available: 1 Insufficient cpu. \
                preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.";
    let ev = wait_for(
        "FailedScheduling event",
        Duration::from_secs(20),
        async || {
            let list = events
                .list(&ListParams::fields("involvedObject.name=big"))
                .await
                .ok()?;
            list.items
                .into_iter()
                .find(|e| e.reason == "FailedScheduling")
        },
    )
    .await;
    assert_eq!(ev.message, want);
    assert_eq!(ev.r#type, "Warning");
    assert_eq!(ev.source.as_ref().unwrap().component, "default-scheduler");
    let cond = wait_for("PodScheduled=False", Duration::from_secs(20), async || {
        let p = pods.get("big").await.ok()?;
        p.status?
            .conditions
            .into_iter()
            .find(|c| c.r#type == "PodScheduled" && c.status == "False")
    })
    .await;
    assert_eq!(cond.reason, "Unschedulable");
    assert_eq!(cond.message, want);

    // It stays unschedulable: a node that does not fit either makes the scheduler try
    // again (its condition then counts two nodes), and the pod is still unbound...
    nodes.create(&node("tiny", "1")).await.unwrap();
    let again = "0/2 nodes are available: 2 Insufficient cpu. \
                 preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.";
    wait_for(
        "PodScheduled=False over two nodes",
        Duration::from_secs(20),
        async || {
            let p = pods.get("big").await.ok()?;
            p.status?
                .conditions
                .into_iter()
                .find(|c| c.r#type == "PodScheduled" && c.status == "False" && c.message == again)
        },
    )
    .await;
    assert_eq!(node_of(&pods, "big").await, None);
    // ...until a node that fits appears.
    nodes.create(&node("large", "4")).await.unwrap();
    let placed = wait_for(
        "binding to the new node",
        Duration::from_secs(20),
        async || node_of(&pods, "big").await,
    )
    .await;
    assert_eq!(placed, "large");
    let scheduled = wait_for("Scheduled event", Duration::from_secs(20), async || {
        let list = events
            .list(&ListParams::fields("involvedObject.name=big"))
            .await
            .ok()?;
        list.items.into_iter().find(|e| e.reason == "Scheduled")
    })
    .await;
    assert_eq!(
        scheduled.message,
        "Successfully assigned default/big to large"
    );
    sched.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_leader_schedules_and_the_other_takes_over() {
    let server = TestServer::start().await;
    let client = Client::connect(&server.url).await.unwrap();
    let nodes: Api<Node> = Api::all(client.clone());
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    nodes.create(&node("n1", "64")).await.unwrap();
    let le = |id: &str| {
        let mut c = LeaderElectionConfig::new("kube-system", "kube-scheduler", id);
        // Generous against a loaded machine; hand-over is by release, not expiry.
        c.lease_duration = Duration::from_secs(6);
        c.renew_deadline = Duration::from_secs(4);
        c.retry_period = Duration::from_millis(300);
        Some(c)
    };
    let rep_a = Arc::new(FakeReporter::default());
    let rep_b = Arc::new(FakeReporter::default());
    let a = start(
        &server.url,
        Options {
            leader_election: le("a"),
            ..Default::default()
        },
        Some(rep_a.clone()),
    );
    // "a" takes the lease first: wait for the lease to name it rather than for a fixed time.
    let leases: Api<proto::k8s::Lease> = Api::namespaced(client.clone(), "kube-system");
    wait_for("a holds the lease", Duration::from_secs(20), async || {
        let lease = leases.get_opt("kube-scheduler").await.ok()??;
        (lease.spec?.holder_identity == "a").then_some(())
    })
    .await;
    let b = start(
        &server.url,
        Options {
            leader_election: le("b"),
            ..Default::default()
        },
        Some(rep_b.clone()),
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    for i in 0..10 {
        pods.create(&pod(&format!("p{i}"), "100m")).await.unwrap();
    }
    for i in 0..10 {
        let name = format!("p{i}");
        wait_for("binding", Duration::from_secs(20), async || {
            node_of(&pods, &name).await
        })
        .await;
    }
    let bound = |r: &FakeReporter| r.scheduled.lock().unwrap().len();
    // A binding is visible in the API a moment before its scheduler reports it.
    wait_for(
        "a reports 10 bindings",
        Duration::from_secs(20),
        async || (bound(&rep_a) >= 10).then_some(()),
    )
    .await;
    assert_eq!(
        (bound(&rep_a), bound(&rep_b)),
        (10, 0),
        "only the leader binds"
    );

    // The leader stops (releasing the lease): the other replica takes over.
    a.stop().await;
    for i in 10..15 {
        pods.create(&pod(&format!("p{i}"), "100m")).await.unwrap();
    }
    for i in 10..15 {
        let name = format!("p{i}");
        wait_for(
            "binding by the new leader",
            Duration::from_secs(20),
            async || node_of(&pods, &name).await,
        )
        .await;
    }
    wait_for(
        "b reports 5 bindings",
        Duration::from_secs(20),
        async || (bound(&rep_b) >= 5).then_some(()),
    )
    .await;
    assert_eq!((bound(&rep_a), bound(&rep_b)), (10, 5));
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starts_before_the_apiserver_and_retries() {
    let dir = tempfile::tempdir().unwrap();
    let addr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let url = format!("http://{addr}");
    let sched = start(
        &url,
        Options::default(),
        Some(Arc::new(FakeReporter::default())),
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(!sched.task.is_finished(), "the scheduler keeps retrying");
    let server = TestServer::start_in(dir.path(), addr).await;
    let client = Client::connect(&server.url).await.unwrap();
    Api::<Node>::all(client.clone())
        .create(&node("n1", "2"))
        .await
        .unwrap();
    let pods: Api<Pod> = Api::namespaced(client, "default");
    pods.create(&pod("late", "1")).await.unwrap();
    let placed = wait_for("binding", Duration::from_secs(30), async || {
        node_of(&pods, "late").await
    })
    .await;
    assert_eq!(placed, "n1");
    sched.stop().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_higher_priority_pod_preempts_a_lower_one() {
    let server = TestServer::start().await;
    let client = Client::connect(&server.url).await.unwrap();
    let nodes: Api<Node> = Api::all(client.clone());
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let events: Api<Event> = Api::namespaced(client.clone(), "default");
    nodes.create(&node("n1", "2")).await.unwrap();
    let sched = start(&server.url, Options::default(), None);

    pods.create(&pod("low", "1500m")).await.unwrap();
    wait_for("low bound", Duration::from_secs(20), async || {
        node_of(&pods, "low").await
    })
    .await;
    let mut high = pod("high", "1");
    high.spec.as_mut().unwrap().priority = Some(1000);
    pods.create(&high).await.unwrap();

    // Act as the kubelet: a victim marked for deletion goes away.
    wait_for(
        "the victim marked for deletion",
        Duration::from_secs(20),
        async || match pods.get_opt("low").await.ok()? {
            None => Some(()),
            Some(p) if !p.meta().deletion_timestamp.is_empty() => {
                let params = client::DeleteParams {
                    grace_period_seconds: Some(0),
                    ..Default::default()
                };
                pods.delete("low", &params).await.ok().map(|_| ())
            }
            Some(_) => None,
        },
    )
    .await;
    let placed = wait_for("high bound", Duration::from_secs(20), async || {
        node_of(&pods, "high").await
    })
    .await;
    assert_eq!(placed, "n1");
    let high = pods.get("high").await.unwrap();
    assert_eq!(high.status.unwrap().nominated_node_name, "n1");
    let ev = wait_for("Preempted event", Duration::from_secs(20), async || {
        let list = events
            .list(&ListParams::fields("involvedObject.name=low"))
            .await
            .ok()?;
        list.items.into_iter().find(|e| e.reason == "Preempted")
    })
    .await;
    assert_eq!(ev.message, "Preempted by pod default/high on node n1");
    sched.stop().await;
}
