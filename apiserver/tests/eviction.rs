//! The `pods/eviction` subresource against an in-process apiserver: budgets spent and
//! refused (gRPC and HTTP, with Kubernetes' 429 Status), concurrent evictions never
//! overdrawing a budget, several budgets refused with 500, the pods that skip budgets, and
//! the real `kubectl drain` retrying on 429. No controller runs here: each test writes the
//! budget's status itself, as the disruption controller would.

use apiserver::testing::TestServer;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client as HttpClient;
use hyper_util::rt::TokioExecutor;
use proto::k8s::*;
use proto::{Reason, Resource};
use serde_json::{Value, json};

mod common;
use common::{Client, connect, create, err, from_json, get, update};

const NS: &str = "default";
const BUDGET_MESSAGE: &str = "Cannot evict pod as it would violate the pod's disruption budget.";

/// A pod labelled `app`, Running and (when `ready`) Ready, bound to `node` if given.
async fn running_pod(c: &mut Client, name: &str, app: &str, ready: bool, node: &str) {
    let pod = from_json(
        &proto::resource::info::Pod,
        json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": NS, "labels": {"app": app},
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                    "name": format!("{app}-rs"), "uid": format!("uid-{app}-rs"), "controller": true}]},
            "spec": {"nodeName": node, "containers": [{"name": "c", "image": "busybox:1"}]}}),
    );
    let mut pod = Pod::try_from_object(create(c, pod).await.expect("pod created")).unwrap();
    pod.status = Some(PodStatus {
        phase: "Running".into(),
        conditions: vec![PodCondition {
            r#type: "Ready".into(),
            status: if ready { "True" } else { "False" }.into(),
            ..Default::default()
        }],
        ..Default::default()
    });
    update(c, pod.into_object(), "status")
        .await
        .expect("pod status");
}

/// A budget over `app` with the status the disruption controller would have written.
async fn budget(
    c: &mut Client,
    name: &str,
    app: &str,
    allowed: i32,
    healthy: (i32, i32),
    policy: Option<&str>,
) {
    let mut spec = json!({"minAvailable": "2", "selector": {"matchLabels": {"app": app}}});
    if let Some(p) = policy {
        spec["unhealthyPodEvictionPolicy"] = Value::from(p);
    }
    let pdb = from_json(
        &proto::resource::info::PodDisruptionBudget,
        json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
            "metadata": {"name": name, "namespace": NS}, "spec": spec}),
    );
    let created = create(c, pdb).await.expect("budget created");
    let mut pdb = PodDisruptionBudget::try_from_object(created).unwrap();
    let generation = pdb.meta().generation;
    pdb.status = Some(PodDisruptionBudgetStatus {
        observed_generation: generation,
        disruptions_allowed: allowed,
        current_healthy: healthy.0,
        desired_healthy: healthy.1,
        expected_pods: healthy.0,
        ..Default::default()
    });
    update(c, pdb.into_object(), "status")
        .await
        .expect("budget status");
}

async fn evict(c: &mut Client, name: &str, dry_run: bool) -> Result<(), proto::ApiError> {
    let eviction = Eviction {
        metadata: Some(ObjectMeta {
            name: name.into(),
            namespace: NS.into(),
            ..Default::default()
        }),
        delete_options: Some(DeleteOptions {
            grace_period_seconds: Some(0),
            dry_run: if dry_run { vec!["All".into()] } else { vec![] },
            ..Default::default()
        }),
        ..Default::default()
    };
    c.evict(EvictRequest {
        namespace: NS.into(),
        name: name.into(),
        eviction: Some(eviction),
    })
    .await
    .map(|_| ())
    .map_err(err)
}

async fn exists(c: &mut Client, name: &str) -> bool {
    match get(c, "pods", NS, name).await {
        Ok(_) => true,
        Err(e) if e.is(Reason::NotFound) => false,
        Err(e) => panic!("get pod {name}: {e}"),
    }
}

async fn budget_status(c: &mut Client, name: &str) -> PodDisruptionBudgetStatus {
    let o = get(c, "poddisruptionbudgets", NS, name).await.unwrap();
    PodDisruptionBudget::try_from_object(o)
        .unwrap()
        .status
        .unwrap_or_default()
}

async fn http_evict(s: &TestServer, name: &str) -> (u16, Value) {
    let client = HttpClient::builder(TokioExecutor::new()).build_http();
    let body = json!({"apiVersion": "policy/v1", "kind": "Eviction",
        "metadata": {"name": name, "namespace": NS}});
    let request = http::Request::builder()
        .method("POST")
        .uri(format!(
            "{}/api/v1/namespaces/{NS}/pods/{name}/eviction",
            s.url
        ))
        .header("content-type", "application/json")
        .header("accept", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap();
    let response = client.request(request).await.expect("eviction served");
    let code = response.status().as_u16();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (code, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_spent_budget_refuses_with_429_over_grpc_and_http() {
    let s = TestServer::start().await;
    let mut c = connect(&s).await;
    for i in 0..3 {
        running_pod(&mut c, &format!("web-{i}"), "web", true, "").await;
    }
    budget(&mut c, "web", "web", 1, (3, 2), None).await;

    // A dry run changes nothing.
    evict(&mut c, "web-0", true)
        .await
        .expect("dry-run eviction");
    assert!(exists(&mut c, "web-0").await);
    assert_eq!(budget_status(&mut c, "web").await.disruptions_allowed, 1);

    evict(&mut c, "web-0", false).await.expect("first eviction");
    assert!(!exists(&mut c, "web-0").await);
    let status = budget_status(&mut c, "web").await;
    assert_eq!(status.disruptions_allowed, 0);
    assert!(status.disrupted_pods.contains_key("web-0"), "{status:?}");
    let condition = &status.conditions[0];
    assert_eq!(
        (
            condition.r#type.as_str(),
            condition.status.as_str(),
            condition.reason.as_str()
        ),
        ("DisruptionAllowed", "False", "InsufficientPods")
    );

    let refused = evict(&mut c, "web-1", false).await.unwrap_err();
    assert_eq!(refused.reason, Reason::TooManyRequests);
    assert_eq!(refused.message, BUDGET_MESSAGE);
    assert!(exists(&mut c, "web-1").await);

    let (code, body) = http_evict(&s, "web-1").await;
    assert_eq!(code, 429, "{body}");
    assert_eq!(body["reason"], "TooManyRequests");
    assert_eq!(body["message"], BUDGET_MESSAGE);
    assert_eq!(
        body["details"]["causes"],
        json!([{"reason": "DisruptionBudget",
            "message": "The disruption budget web needs 2 healthy pods and has 3 currently"}])
    );
    assert!(exists(&mut c, "web-1").await);
    s.stop().await;
}

#[tokio::test]
async fn concurrent_evictions_never_overdraw_a_budget() {
    let s = TestServer::start().await;
    let mut c = connect(&s).await;
    // Several rounds, each two evictions racing for a budget's last disruption.
    for round in 0..5 {
        let app = format!("race{round}");
        for i in 0..2 {
            running_pod(&mut c, &format!("{app}-{i}"), &app, true, "").await;
        }
        budget(&mut c, &app, &app, 1, (2, 1), None).await;
        let (mut c1, mut c2) = (connect(&s).await, connect(&s).await);
        let (a, b) = (format!("{app}-0"), format!("{app}-1"));
        let (r1, r2) = tokio::join!(evict(&mut c1, &a, false), evict(&mut c2, &b, false));
        let oks = [&r1, &r2].iter().filter(|r| r.is_ok()).count();
        assert_eq!(oks, 1, "round {round}: {r1:?} {r2:?}");
        let refused = [r1, r2].into_iter().find_map(Result::err).unwrap();
        assert_eq!(refused.reason, Reason::TooManyRequests, "{refused:?}");
        let left = exists(&mut c, &a).await as usize + exists(&mut c, &b).await as usize;
        assert_eq!(left, 1, "round {round}");
        let status = budget_status(&mut c, &app).await;
        assert_eq!(
            (status.disruptions_allowed, status.disrupted_pods.len()),
            (0, 1)
        );
    }
    s.stop().await;
}

#[tokio::test]
async fn several_budgets_are_refused_and_some_pods_skip_budgets() {
    let s = TestServer::start().await;
    let mut c = connect(&s).await;
    running_pod(&mut c, "twice", "shared", true, "").await;
    budget(&mut c, "a", "shared", 1, (3, 2), None).await;
    budget(&mut c, "b", "shared", 1, (3, 2), None).await;
    let e = evict(&mut c, "twice", false).await.unwrap_err();
    assert_eq!(e.reason, Reason::Internal);
    assert_eq!(
        e.message,
        "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support."
    );
    let (code, body) = http_evict(&s, "twice").await;
    assert_eq!(code, 500, "{body}");
    assert_eq!(body["status"], "Failure");
    assert!(exists(&mut c, "twice").await);

    // No budget: deleted.
    running_pod(&mut c, "free", "free", true, "").await;
    evict(&mut c, "free", false).await.expect("no budget");
    assert!(!exists(&mut c, "free").await);

    // A spent budget does not hold a pending pod, nor a not-ready one under AlwaysAllow,
    // nor (IfHealthyBudget) a not-ready one while the application is healthy enough.
    budget(&mut c, "held", "held", 0, (2, 2), None).await;
    let pending = from_json(
        &proto::resource::info::Pod,
        json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "pending", "namespace": NS, "labels": {"app": "held"}},
            "spec": {"containers": [{"name": "c", "image": "busybox:1"}]}}),
    );
    create(&mut c, pending).await.unwrap();
    evict(&mut c, "pending", false).await.expect("pending pod");
    assert!(!exists(&mut c, "pending").await);
    running_pod(&mut c, "unready", "held", false, "").await;
    evict(&mut c, "unready", false)
        .await
        .expect("healthy enough budget");
    assert!(!exists(&mut c, "unready").await);
    budget(&mut c, "sick", "sick", 0, (1, 2), None).await;
    running_pod(&mut c, "sick-0", "sick", false, "").await;
    let e = evict(&mut c, "sick-0", false).await.unwrap_err();
    assert_eq!(e.reason, Reason::TooManyRequests);
    // A pod on a node keeps its grace period: it is left terminating, marked as the
    // eviction's target (Kubernetes' DisruptionTarget condition).
    running_pod(&mut c, "graceful", "graceful", true, "n1").await;
    c.evict(EvictRequest {
        namespace: NS.into(),
        name: "graceful".into(),
        eviction: Some(Eviction::default()),
    })
    .await
    .expect("graceful eviction");
    let pod = Pod::try_from_object(get(&mut c, "pods", NS, "graceful").await.unwrap()).unwrap();
    assert!(!pod.meta().deletion_timestamp.is_empty());
    let target = pod
        .status
        .unwrap_or_default()
        .conditions
        .into_iter()
        .find(|c| c.r#type == "DisruptionTarget")
        .expect("DisruptionTarget condition");
    assert_eq!(
        (
            target.status.as_str(),
            target.reason.as_str(),
            target.message.as_str()
        ),
        ("True", "EvictionByEvictionAPI", "Eviction API: evicting")
    );
    budget(&mut c, "always", "always", 0, (1, 2), Some("AlwaysAllow")).await;
    running_pod(&mut c, "always-0", "always", false, "").await;
    evict(&mut c, "always-0", false).await.expect("AlwaysAllow");
    assert!(!exists(&mut c, "always-0").await);
    s.stop().await;
}

/// The real kubectl's drain against the HTTP API: it cordons the node, evicts, hears 429
/// for the pods the budget holds and retries them every 5 s until its timeout.
#[tokio::test]
async fn kubectl_drain_evicts_and_retries_on_429() {
    let kubectl = std::path::Path::new("/usr/lib/google-cloud-sdk/bin/kubectl.1.33");
    if !kubectl.is_file() {
        // The team's rule (testkit::unmet): skipped outside CI, a failure in CI.
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "kubectl_drain_evicts_and_retries_on_429 needs {}",
            kubectl.display()
        );
        eprintln!("SKIPPED kubectl_drain_evicts_and_retries_on_429: needs kubectl 1.33");
        return;
    }
    let s = TestServer::start().await;
    let mut c = connect(&s).await;
    let node = from_json(
        &proto::resource::info::Node,
        json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}}),
    );
    create(&mut c, node).await.unwrap();
    for i in 0..3 {
        running_pod(&mut c, &format!("db-{i}"), "db", true, "n1").await;
    }
    budget(&mut c, "db", "db", 1, (3, 2), None).await;
    let home = tempfile::tempdir().unwrap();
    let out = tokio::process::Command::new(kubectl)
        .args([
            "--server",
            &s.url,
            "drain",
            "n1",
            "--grace-period=0",
            "--timeout=7s",
        ])
        .env("HOME", home.path())
        .env_remove("KUBECONFIG")
        .output()
        .await
        .expect("kubectl runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "drain should time out: {stdout}\n{stderr}"
    );
    assert!(stdout.contains("node/n1 cordoned"), "{stdout}\n{stderr}");
    assert!(
        stderr.contains(&format!("(will retry after 5s): {BUDGET_MESSAGE}"))
            && stderr.contains("error when evicting pods/\"db-"),
        "{stderr}"
    );
    let mut left = 0;
    for i in 0..3 {
        left += exists(&mut c, &format!("db-{i}")).await as usize;
    }
    assert_eq!(left, 2, "one eviction allowed: {stdout}\n{stderr}");
    // kubectl's table of the budget, spent by the one eviction.
    let table = tokio::process::Command::new(kubectl)
        .args(["--server", &s.url, "get", "pdb"])
        .env("HOME", home.path())
        .env_remove("KUBECONFIG")
        .output()
        .await
        .expect("kubectl get pdb");
    let table = String::from_utf8_lossy(&table.stdout);
    let rows: Vec<Vec<&str>> = table
        .lines()
        .map(|l| {
            l.split("   ")
                .map(str::trim)
                .filter(|w| !w.is_empty())
                .collect()
        })
        .collect();
    assert_eq!(
        rows[0],
        [
            "NAME",
            "MIN AVAILABLE",
            "MAX UNAVAILABLE",
            "ALLOWED DISRUPTIONS",
            "AGE"
        ],
        "{table}"
    );
    assert_eq!(rows[1][..4], ["db", "2", "N/A", "0"], "{table}");
    let n = get(&mut c, "nodes", "", "n1").await.unwrap();
    let n = Node::try_from_object(n).unwrap();
    assert!(n.spec.is_some_and(|s| s.unschedulable));
    s.stop().await;
}
