//! ResourceQuota admission through real gRPC (and once HTTP) on the in-process apiserver:
//! concurrent creates racing for a quota's last units, each scope, Kubernetes' exact
//! messages, dry runs charging nothing, and updates that raise usage. No controller runs
//! here: each quota's status is set once as the controller's first sync would (hard from
//! spec, nothing used), and from then on only admission charges it.

use std::collections::BTreeMap;

use apiserver::testing::TestServer;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client as HttpClient;
use hyper_util::rt::TokioExecutor;
use proto::k8s::*;
use proto::{Reason, Resource};
use serde_json::{Value, json};

mod common;
use common::*;

async fn namespace(c: &mut Client, name: &str) {
    let mut ns = Namespace::default();
    ns.meta_mut().name = name.into();
    create(c, ns.into_object()).await.expect("namespace");
}

/// A quota as the controller leaves it after its first sync: status.hard = spec.hard and
/// nothing used.
async fn quota(c: &mut Client, ns: &str, name: &str, spec: Value) {
    let q = from_json(
        &proto::resource::info::ResourceQuota,
        json!({"apiVersion": "v1", "kind": "ResourceQuota",
               "metadata": {"name": name, "namespace": ns}, "spec": spec}),
    );
    let mut q = create(c, q).await.expect("quota");
    if let Some(object::Kind::ResourceQuota(rq)) = &mut q.kind {
        let hard = rq.spec.clone().unwrap_or_default().hard;
        let used = hard.keys().map(|k| (k.clone(), "0".to_string())).collect();
        rq.status = Some(ResourceQuotaStatus { hard, used });
    }
    update(c, q, "status").await.expect("quota status");
}

async fn used(c: &mut Client, ns: &str, name: &str) -> BTreeMap<String, String> {
    match get(c, "resourcequotas", ns, name)
        .await
        .expect("quota")
        .kind
    {
        Some(object::Kind::ResourceQuota(q)) => q.status.unwrap_or_default().used,
        _ => panic!("not a quota"),
    }
}

fn map(entries: &[(&str, &str)]) -> BTreeMap<String, String> {
    entries
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn pod(ns: &str, name: &str, spec: Value) -> Object {
    from_json(
        &proto::resource::info::Pod,
        json!({"apiVersion": "v1", "kind": "Pod",
               "metadata": {"name": name, "namespace": ns}, "spec": spec}),
    )
}

/// A pod whose one container `app` requests and limits `cpu`.
fn cpu_pod(ns: &str, name: &str, cpu: &str) -> Object {
    pod(
        ns,
        name,
        json!({"containers": [{"name": "app", "image": "busybox:1",
            "resources": {"requests": {"cpu": cpu}, "limits": {"cpu": cpu}}}]}),
    )
}

fn best_effort_pod(ns: &str, name: &str) -> Object {
    pod(
        ns,
        name,
        json!({"containers": [{"name": "app", "image": "busybox:1"}]}),
    )
}

async fn create_dry(c: &mut Client, o: Object) -> Result<Object, proto::ApiError> {
    c.create(CreateRequest {
        object: Some(o),
        dry_run: true,
        ..Default::default()
    })
    .await
    .map(|r| r.into_inner())
    .map_err(err)
}

async fn refused(c: &mut Client, o: Object) -> String {
    let e = create(c, o).await.expect_err("over quota: must be refused");
    assert_eq!(e.reason, Reason::Forbidden, "{}", e.message);
    e.message
}

#[tokio::test]
async fn concurrent_creates_never_exceed_the_quota() {
    let server = TestServer::start().await;
    let mut c = connect(&server).await;
    namespace(&mut c, "race").await;
    quota(&mut c, "race", "pods", json!({"hard": {"pods": "5"}})).await;

    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..20 {
        let mut c = c.clone();
        tasks.spawn(async move {
            let name = format!("p-{i}");
            (
                name.clone(),
                create(&mut c, best_effort_pod("race", &name)).await,
            )
        });
    }
    let mut admitted = 0;
    let mut refusals = Vec::new();
    while let Some(r) = tasks.join_next().await {
        match r.expect("task") {
            (_, Ok(_)) => admitted += 1,
            (name, Err(e)) => refusals.push((name, e)),
        }
    }
    assert_eq!(admitted, 5, "exactly the quota's pods are admitted");
    assert_eq!(refusals.len(), 15);
    for (name, e) in refusals {
        assert_eq!(e.reason, Reason::Forbidden);
        assert_eq!(
            e.message,
            format!(
                "pods {name:?} is forbidden: exceeded quota: pods, requested: pods=1, used: pods=5, limited: pods=5"
            )
        );
    }
    assert_eq!(used(&mut c, "race", "pods").await, map(&[("pods", "5")]));
    let stored = list(
        &mut c,
        ListRequest {
            resource: "pods".into(),
            namespace: "race".into(),
            ..Default::default()
        },
    )
    .await
    .expect("list");
    assert_eq!(stored.items.len(), 5, "refused pods were not stored");
    server.stop().await;
}

#[tokio::test]
async fn compute_quotas_refuse_with_kubernetes_messages() {
    let server = TestServer::start().await;
    let mut c = connect(&server).await;
    namespace(&mut c, "compute").await;
    quota(
        &mut c,
        "compute",
        "compute",
        json!({"hard": {"requests.cpu": "4", "limits.cpu": "8", "memory": "1Gi", "pods": "10"}}),
    )
    .await;
    let with_memory = |name: &str, cpu: &str| {
        pod(
            "compute",
            name,
            json!({"containers": [{"name": "app", "image": "busybox:1", "resources": {
                "requests": {"cpu": cpu, "memory": "256Mi"}, "limits": {"cpu": cpu}}}]}),
        )
    };
    create(&mut c, with_memory("first", "3"))
        .await
        .expect("fits");
    assert_eq!(
        used(&mut c, "compute", "compute").await,
        map(&[
            ("limits.cpu", "3"),
            ("memory", "256Mi"),
            ("pods", "1"),
            ("requests.cpu", "3")
        ])
    );
    assert_eq!(
        refused(&mut c, with_memory("big", "2")).await,
        r#"pods "big" is forbidden: exceeded quota: compute, requested: requests.cpu=2, used: requests.cpu=3, limited: requests.cpu=4"#
    );
    // A pod that does not state what the quota limits is refused before any counting.
    assert_eq!(
        refused(&mut c, cpu_pod("compute", "no-memory", "500m")).await,
        r#"pods "no-memory" is forbidden: failed quota: compute: must specify memory for: app"#
    );
    let two_containers = pod(
        "compute",
        "bare",
        json!({"containers": [{"name": "b", "image": "busybox:1"}, {"name": "a", "image": "busybox:1"}]}),
    );
    assert_eq!(
        refused(&mut c, two_containers).await,
        r#"pods "bare" is forbidden: failed quota: compute: must specify limits.cpu for: a,b; memory for: a,b; requests.cpu for: a,b"#
    );
    // Server-generated names appear in the message as the name the pod would have had.
    let mut generated = with_memory("", "2");
    generated.meta_mut().generate_name = "web-".into();
    let message = refused(&mut c, generated).await;
    assert!(
        message.starts_with(r#"pods "web-"#) && message.len() > r#"pods "web-""#.len() + 5,
        "{message}"
    );
    // The HTTP API answers 403 with Kubernetes' Status.
    let body = json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "http-big"},
        "spec": {"containers": [{"name": "app", "image": "busybox:1", "resources": {
            "requests": {"cpu": "2", "memory": "1Mi"}, "limits": {"cpu": "2"}}}]}});
    let (code, status) = post(&server, "/api/v1/namespaces/compute/pods", body).await;
    assert_eq!(code, 403);
    assert_eq!(status["reason"], "Forbidden");
    assert_eq!(
        status["message"],
        r#"pods "http-big" is forbidden: exceeded quota: compute, requested: requests.cpu=2, used: requests.cpu=3, limited: requests.cpu=4"#
    );
    assert_eq!(
        used(&mut c, "compute", "compute").await["requests.cpu"],
        "3",
        "refusals charge nothing"
    );
    server.stop().await;
}

async fn post(server: &TestServer, path: &str, body: Value) -> (u16, Value) {
    let client = HttpClient::builder(TokioExecutor::new()).build_http();
    let request = http::Request::builder()
        .method("POST")
        .uri(format!("{}{path}", server.url))
        .header("content-type", "application/json")
        .header("accept", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("request");
    let response = client.request(request).await.expect("served");
    let code = response.status().as_u16();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (code, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

/// One namespace per scope: a quota of one pod in that scope, a second pod in it refused,
/// pods outside it not counted.
#[tokio::test]
async fn each_scope_counts_only_its_pods() {
    let server = TestServer::start().await;
    let mut c = connect(&server).await;
    let burstable = |ns: &str, name: &str| {
        pod(
            ns,
            name,
            json!({"containers": [{"name": "app", "image": "busybox:1",
                "resources": {"requests": {"memory": "1Mi"}}}]}),
        )
    };
    let deadline = |ns: &str, name: &str| {
        pod(
            ns,
            name,
            json!({"activeDeadlineSeconds": 60,
                   "containers": [{"name": "app", "image": "busybox:1"}]}),
        )
    };
    let class = |ns: &str, name: &str, class: &str| {
        pod(
            ns,
            name,
            json!({"priorityClassName": class,
                   "containers": [{"name": "app", "image": "busybox:1"}]}),
        )
    };
    type Make = Box<dyn Fn(&str, &str) -> Object>;
    let cases: Vec<(&str, Value, Make, Make)> = vec![
        (
            "best-effort",
            json!({"scopes": ["BestEffort"]}),
            Box::new(best_effort_pod),
            Box::new(burstable),
        ),
        (
            "not-best-effort",
            json!({"scopes": ["NotBestEffort"]}),
            Box::new(burstable),
            Box::new(best_effort_pod),
        ),
        (
            "terminating",
            json!({"scopes": ["Terminating"]}),
            Box::new(deadline),
            Box::new(best_effort_pod),
        ),
        (
            "not-terminating",
            json!({"scopes": ["NotTerminating"]}),
            Box::new(best_effort_pod),
            Box::new(deadline),
        ),
        (
            "class-in",
            json!({"scopeSelector": {"matchExpressions": [
                {"scopeName": "PriorityClass", "operator": "In", "values": ["high"]}]}}),
            Box::new(move |ns: &str, n: &str| class(ns, n, "high")),
            Box::new(move |ns: &str, n: &str| class(ns, n, "low")),
        ),
        (
            "class-not-in",
            json!({"scopeSelector": {"matchExpressions": [
                {"scopeName": "PriorityClass", "operator": "NotIn", "values": ["high"]}]}}),
            Box::new(move |ns: &str, n: &str| class(ns, n, "low")),
            Box::new(move |ns: &str, n: &str| class(ns, n, "high")),
        ),
        (
            "class-exists",
            json!({"scopeSelector": {"matchExpressions": [
                {"scopeName": "PriorityClass", "operator": "Exists"}]}}),
            Box::new(move |ns: &str, n: &str| class(ns, n, "low")),
            Box::new(best_effort_pod),
        ),
        (
            "class-does-not-exist",
            json!({"scopeSelector": {"matchExpressions": [
                {"scopeName": "PriorityClass", "operator": "DoesNotExist"}]}}),
            Box::new(best_effort_pod),
            Box::new(move |ns: &str, n: &str| class(ns, n, "high")),
        ),
    ];
    for (ns, scopes, inside, outside) in cases {
        namespace(&mut c, ns).await;
        let mut spec = scopes;
        spec["hard"] = json!({"pods": "1"});
        quota(&mut c, ns, "scoped", spec).await;
        create(&mut c, inside(ns, "in-1"))
            .await
            .unwrap_or_else(|e| panic!("{ns}: first pod in scope: {e}"));
        assert_eq!(
            refused(&mut c, inside(ns, "in-2")).await,
            r#"pods "in-2" is forbidden: exceeded quota: scoped, requested: pods=1, used: pods=1, limited: pods=1"#,
            "{ns}"
        );
        for name in ["out-1", "out-2"] {
            create(&mut c, outside(ns, name))
                .await
                .unwrap_or_else(|e| panic!("{ns}: pods outside the scope are not counted: {e}"));
        }
        assert_eq!(
            used(&mut c, ns, "scoped").await,
            map(&[("pods", "1")]),
            "{ns}"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn dry_runs_are_checked_but_charge_nothing() {
    let server = TestServer::start().await;
    let mut c = connect(&server).await;
    namespace(&mut c, "dry").await;
    quota(
        &mut c,
        "dry",
        "objects",
        json!({"hard": {"count/configmaps": "1", "configmaps": "1"}}),
    )
    .await;
    create_dry(&mut c, cm("dry", "a", &[]))
        .await
        .expect("a dry run that fits is answered as the create would be");
    assert_eq!(
        used(&mut c, "dry", "objects").await,
        map(&[("configmaps", "0"), ("count/configmaps", "0")]),
        "a dry run charges nothing"
    );
    create(&mut c, cm("dry", "a", &[])).await.expect("fits");
    let e = create_dry(&mut c, cm("dry", "b", &[]))
        .await
        .expect_err("a dry run over quota is refused as the create would be");
    assert_eq!(
        e.message,
        r#"configmaps "b" is forbidden: exceeded quota: objects, requested: configmaps=1,count/configmaps=1, used: configmaps=1,count/configmaps=1, limited: configmaps=1,count/configmaps=1"#
    );
    assert_eq!(
        used(&mut c, "dry", "objects").await,
        map(&[("configmaps", "1"), ("count/configmaps", "1")])
    );
    server.stop().await;
}

#[tokio::test]
async fn updates_that_raise_usage_are_checked() {
    let server = TestServer::start().await;
    let mut c = connect(&server).await;
    namespace(&mut c, "grow").await;
    quota(
        &mut c,
        "grow",
        "storage",
        json!({"hard": {"requests.storage": "10Gi",
                        "gold.storageclass.storage.k8s.io/requests.storage": "8Gi",
                        "persistentvolumeclaims": "2"}}),
    )
    .await;
    let sc = from_json(
        &proto::resource::info::StorageClass,
        json!({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
               "metadata": {"name": "gold"}, "provisioner": "example.com/gold",
               "allowVolumeExpansion": true}),
    );
    create(&mut c, sc).await.expect("storage class");
    let claim = |size: &str| {
        from_json(
            &proto::resource::info::PersistentVolumeClaim,
            json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                   "metadata": {"name": "data", "namespace": "grow"},
                   "spec": {"storageClassName": "gold", "volumeName": "pv-data",
                            "accessModes": ["ReadWriteOnce"],
                            "resources": {"requests": {"storage": size}}}}),
        )
    };
    let mut stored = create(&mut c, claim("4Gi")).await.expect("fits");
    // Bound, as resizing asks in Kubernetes.
    if let Some(object::Kind::PersistentVolumeClaim(p)) = &mut stored.kind {
        p.status.get_or_insert_with(Default::default).phase = "Bound".into();
    }
    update(&mut c, stored, "status").await.expect("bound");
    let resize = |size: &str| {
        let mut o = claim(size);
        o.meta_mut().resource_version.clear();
        o
    };
    update(&mut c, resize("6Gi"), "").await.expect("6Gi fits");
    assert_eq!(
        used(&mut c, "grow", "storage").await,
        map(&[
            ("gold.storageclass.storage.k8s.io/requests.storage", "6Gi"),
            ("persistentvolumeclaims", "1"),
            ("requests.storage", "6Gi"),
        ])
    );
    let e = update(&mut c, resize("9Gi"), "")
        .await
        .expect_err("over the class's quota");
    assert_eq!(e.reason, Reason::Forbidden);
    assert_eq!(
        e.message,
        r#"persistentvolumeclaims "data" is forbidden: exceeded quota: storage, requested: gold.storageclass.storage.k8s.io/requests.storage=3Gi, used: gold.storageclass.storage.k8s.io/requests.storage=6Gi, limited: gold.storageclass.storage.k8s.io/requests.storage=8Gi"#
    );
    let e = update(&mut c, resize("11Gi"), "")
        .await
        .expect_err("over both");
    assert_eq!(
        e.message,
        r#"persistentvolumeclaims "data" is forbidden: exceeded quota: storage, requested: gold.storageclass.storage.k8s.io/requests.storage=5Gi,requests.storage=5Gi, used: gold.storageclass.storage.k8s.io/requests.storage=6Gi,requests.storage=6Gi, limited: gold.storageclass.storage.k8s.io/requests.storage=8Gi,requests.storage=10Gi"#
    );
    let kept = get(&mut c, "persistentvolumeclaims", "grow", "data")
        .await
        .expect("claim");
    let Some(object::Kind::PersistentVolumeClaim(p)) = kept.kind else {
        panic!("a claim");
    };
    assert_eq!(
        p.spec.unwrap().resources.unwrap().requests["storage"],
        "6Gi",
        "the refused resize left the claim as it was"
    );
    server.stop().await;
}

#[tokio::test]
async fn services_are_counted_by_type_on_create_and_update() {
    let server = TestServer::start().await;
    let mut c = connect(&server).await;
    namespace(&mut c, "svc").await;
    quota(
        &mut c,
        "svc",
        "services",
        json!({"hard": {"services": "3", "services.nodeports": "2",
                        "services.loadbalancers": "0", "count/services": "3"}}),
    )
    .await;
    let service = |name: &str, ty: &str, ports: &[i32]| {
        let ports: Vec<Value> = ports
            .iter()
            .map(|p| json!({"name": format!("p{p}"), "port": p}))
            .collect();
        from_json(
            &proto::resource::info::Service,
            json!({"apiVersion": "v1", "kind": "Service",
                   "metadata": {"name": name, "namespace": "svc"},
                   "spec": {"type": ty, "selector": {"app": name}, "ports": ports}}),
        )
    };
    assert_eq!(
        refused(&mut c, service("np", "NodePort", &[80, 81, 82])).await,
        r#"services "np" is forbidden: exceeded quota: services, requested: services.nodeports=3, used: services.nodeports=0, limited: services.nodeports=2"#
    );
    assert_eq!(
        refused(&mut c, service("lb", "LoadBalancer", &[80])).await,
        r#"services "lb" is forbidden: exceeded quota: services, requested: services.loadbalancers=1, used: services.loadbalancers=0, limited: services.loadbalancers=0"#
    );
    create(&mut c, service("web", "ClusterIP", &[80, 81, 82]))
        .await
        .expect("a ClusterIP service uses no node port");
    // Turning it into a NodePort service asks for three node ports.
    let mut to_node_port = get(&mut c, "services", "svc", "web").await.expect("web");
    if let Some(object::Kind::Service(s)) = &mut to_node_port.kind {
        s.spec.as_mut().unwrap().r#type = "NodePort".into();
    }
    let e = update(&mut c, to_node_port, "")
        .await
        .expect_err("three node ports over a quota of two");
    assert_eq!(
        e.message,
        r#"services "web" is forbidden: exceeded quota: services, requested: services.nodeports=3, used: services.nodeports=0, limited: services.nodeports=2"#
    );
    assert_eq!(
        used(&mut c, "svc", "services").await,
        map(&[
            ("count/services", "1"),
            ("services", "1"),
            ("services.loadbalancers", "0"),
            ("services.nodeports", "0"),
        ])
    );
    server.stop().await;
}

#[tokio::test]
async fn object_counts_by_group_and_quota_status_not_yet_computed() {
    let server = TestServer::start().await;
    let mut c = connect(&server).await;
    namespace(&mut c, "counts").await;
    quota(
        &mut c,
        "counts",
        "apps",
        json!({"hard": {"count/deployments.apps": "1"}}),
    )
    .await;
    let mut d = deployment("one", 1);
    d.meta_mut().namespace = "counts".into();
    create(&mut c, d).await.expect("first deployment");
    let mut d = deployment("two", 1);
    d.meta_mut().namespace = "counts".into();
    assert_eq!(
        refused(&mut c, d).await,
        r#"deployments.apps "two" is forbidden: exceeded quota: apps, requested: count/deployments.apps=1, used: count/deployments.apps=1, limited: count/deployments.apps=1"#
    );
    // A quota whose status the controller has not written constrains nothing yet (as in
    // Kubernetes); one with hard but no usage for what it tracks refuses until it has.
    let q = from_json(
        &proto::resource::info::ResourceQuota,
        json!({"apiVersion": "v1", "kind": "ResourceQuota",
               "metadata": {"name": "fresh", "namespace": "counts"},
               "spec": {"hard": {"count/secrets": "0"}}}),
    );
    let mut q = create(&mut c, q).await.expect("quota");
    let secret = |name: &str| {
        let mut s = Secret::default();
        s.meta_mut().name = name.into();
        s.meta_mut().namespace = "counts".into();
        s.into_object()
    };
    create(&mut c, secret("before-sync"))
        .await
        .expect("not enforced before the first sync");
    if let Some(object::Kind::ResourceQuota(rq)) = &mut q.kind {
        rq.status = Some(ResourceQuotaStatus {
            hard: map(&[("count/secrets", "0")]),
            used: BTreeMap::new(),
        });
    }
    update(&mut c, q, "status").await.expect("status");
    assert_eq!(
        refused(&mut c, secret("unknown")).await,
        r#"secrets "unknown" is forbidden: status unknown for quota: fresh, resources: count/secrets"#
    );
    server.stop().await;
}
