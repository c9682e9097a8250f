//! metrics.k8s.io served by an in-process apiserver: fake kubelets on loopback (HTTP/2,
//! as the apiserver's kubelet connection speaks it) answer `/metrics/resource` with
//! counters that grow between scrapes; the scraper's samples come back through gRPC
//! (`ResourceMetrics`) and HTTP (`/apis/metrics.k8s.io/v1beta1/...`) with the usages
//! metrics-server would compute, label and field selectors, NotFound for objects without
//! samples, discovery, and RBAC refusals and grants (the aggregated metrics reader role).

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use apiserver::testing::TestServer;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client as HttpClient;
use hyper_util::rt::{TokioExecutor, TokioIo};
use proto::Resource;
use proto::k8s::resource_metrics_client::ResourceMetricsClient;
use proto::k8s::*;
use serde_json::{Value, json};
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

mod common;

/// The first sample's time (ms); scrape k is 10 s after scrape k-1.
const BASE_MS: u64 = 1_733_484_000_000;

/// The kubelet's answer to its k-th scrape (k from 1): the node uses 2 cores' worth of
/// seconds per 10 s (200m) and 2 GiB; web-0's `web` 0.5 s per 10 s (50m) and 1200 KiB,
/// its `sidecar` 12345 nanocores; kube-system/dns-0 10m; `ghost` is not in the store.
fn resource_metrics(k: u64) -> String {
    let ts = BASE_MS + k * 10_000;
    let start = BASE_MS as f64 / 1000.0 - 3600.0;
    let kf = k as f64;
    let mut out = String::from(
        "# HELP node_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the node in core-seconds\n# TYPE node_cpu_usage_seconds_total counter\n",
    );
    out += &format!("node_cpu_usage_seconds_total {} {ts}\n", 2.0 * kf);
    out += &format!("node_memory_working_set_bytes 2.147483648e+09 {ts}\n");
    let containers = [
        ("default", "web-0", "web", 0.5, 1_228_800u64),
        ("default", "web-0", "sidecar", 0.000_123_456, 5_000_000),
        ("kube-system", "dns-0", "dns", 0.1, 4_194_304),
        ("default", "ghost", "g", 1.0, 1),
    ];
    for (ns, pod, c, per_scrape, memory) in containers {
        let l = format!("container=\"{c}\",namespace=\"{ns}\",pod=\"{pod}\"");
        out += &format!(
            "container_cpu_usage_seconds_total{{{l}}} {} {ts}\n",
            per_scrape * kf
        );
        out += &format!("container_memory_working_set_bytes{{{l}}} {memory} {ts}\n");
        out += &format!("container_start_time_seconds{{{l}}} {start:e} {ts}\n");
    }
    out += "resource_scrape_error 0\n";
    out
}

/// A fake kubelet: HTTP/2 without TLS on loopback; `answer(k)` for the k-th request to
/// `/metrics/resource`, 404 elsewhere. Stops when dropped.
struct FakeKubelet {
    port: u16,
    scrapes: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeKubelet {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves one connection of a fake kubelet: `/metrics/resource` answers `answer(k)` for the
/// k-th request, anything else 404.
fn serve_connection<IO>(io: IO, counter: Arc<AtomicU64>, answer: fn(u64) -> String)
where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |req: http::Request<_>| {
        let counter = counter.clone();
        async move {
            let response = if req.uri().path() == "/metrics/resource" {
                let k = counter.fetch_add(1, Ordering::SeqCst) + 1;
                http::Response::builder()
                    .header("content-type", "text/plain; version=0.0.4")
                    .body(Full::new(Bytes::from(answer(k))))
            } else {
                http::Response::builder()
                    .status(404)
                    .body(Full::new(Bytes::new()))
            };
            Ok::<_, Infallible>(response.unwrap())
        }
    });
    tokio::spawn(async move {
        let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
            .serve_connection(TokioIo::new(io), service)
            .await;
    });
}

async fn fake_kubelet(answer: fn(u64) -> String) -> FakeKubelet {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let scrapes = Arc::new(AtomicU64::new(0));
    let counter = scrapes.clone();
    let task = tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            serve_connection(tcp, counter.clone(), answer);
        }
    });
    FakeKubelet {
        port,
        scrapes,
        task,
    }
}

#[derive(Clone)]
struct Bearer(Option<&'static str>);

impl Interceptor for Bearer {
    fn call(&mut self, mut req: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(t) = self.0 {
            let v = format!("Bearer {t}").parse().expect("header value");
            req.metadata_mut().insert("authorization", v);
        }
        Ok(req)
    }
}

type Metrics = ResourceMetricsClient<InterceptedService<Channel, Bearer>>;

async fn metrics_client(s: &TestServer, token: Option<&'static str>) -> Metrics {
    let channel = Channel::from_shared(s.url.clone())
        .unwrap()
        .connect()
        .await
        .unwrap();
    ResourceMetricsClient::with_interceptor(channel, Bearer(token))
}

async fn api_client(
    s: &TestServer,
    token: Option<&'static str>,
) -> proto::k8s::api_client::ApiClient<InterceptedService<Channel, Bearer>> {
    let channel = Channel::from_shared(s.url.clone())
        .unwrap()
        .connect()
        .await
        .unwrap();
    proto::k8s::api_client::ApiClient::with_interceptor(channel, Bearer(token))
}

/// A Node whose kubelet is at 127.0.0.1:`port`.
fn node(name: &str, port: u16, labels: &[(&str, &str)]) -> Object {
    let mut n = Node::default();
    n.meta_mut().name = name.into();
    n.meta_mut().labels = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    n.status = Some(NodeStatus {
        addresses: vec![NodeAddress {
            r#type: "InternalIP".into(),
            address: "127.0.0.1".into(),
        }],
        daemon_endpoints: Some(NodeDaemonEndpoints {
            kubelet_endpoint: Some(DaemonEndpoint {
                port: i32::from(port),
            }),
        }),
        ..Default::default()
    });
    n.into_object()
}

fn pod(ns: &str, name: &str, node: &str, labels: &[(&str, &str)]) -> Object {
    let mut p = common::pod(name, node);
    p.meta_mut().namespace = ns.into();
    p.meta_mut().labels = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    p
}

/// Creates `object`, then writes its status (a create does not keep a Node's status).
async fn create_with_status(c: &mut common::Client, object: Object) {
    let created = common::create(c, object.clone()).await.expect("create");
    let mut with_status = object;
    with_status.meta_mut().resource_version = created.meta().resource_version.clone();
    common::update(c, with_status, "status")
        .await
        .expect("status");
}

fn names_of_nodes(l: &NodeMetricsList) -> Vec<String> {
    l.items
        .iter()
        .map(|i| i.metadata.clone().unwrap_or_default().name)
        .collect()
}

fn names_of_pods(l: &PodMetricsList) -> Vec<String> {
    l.items
        .iter()
        .map(|i| {
            let m = i.metadata.clone().unwrap_or_default();
            format!("{}/{}", m.namespace, m.name)
        })
        .collect()
}

fn req(ns: &str, name: &str, labels: &str, fields: &str) -> ListMetricsRequest {
    ListMetricsRequest {
        namespace: ns.into(),
        name: name.into(),
        label_selector: labels.into(),
        field_selector: fields.into(),
    }
}

async fn get_json(s: &TestServer, method: &str, path: &str, accept: &str) -> (u16, Value) {
    let client: HttpClient<_, Full<Bytes>> = HttpClient::builder(TokioExecutor::new()).build_http();
    let request = http::Request::builder()
        .method(method)
        .uri(format!("{}{path}", s.url))
        .header("accept", accept)
        .body(Full::new(Bytes::new()))
        .unwrap();
    let response = client.request(request).await.expect("answered");
    let code = response.status().as_u16();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (code, body)
}

#[tokio::test]
async fn usage_of_nodes_and_pods_through_grpc_and_http() {
    let s = TestServer::start_with(|c| c.metric_resolution = Duration::from_secs(1)).await;
    let good = fake_kubelet(resource_metrics).await;
    let garbage = fake_kubelet(|_| "<html>this is not the metrics</html>\n".into()).await;
    // A node whose kubelet is gone: its port was free a moment ago.
    let gone_port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut api = common::connect(&s).await;
    create_with_status(&mut api, node("n1", good.port, &[("role", "worker")])).await;
    create_with_status(&mut api, node("n2", garbage.port, &[("role", "worker")])).await;
    create_with_status(&mut api, node("n3", gone_port, &[])).await;
    for p in [
        pod("default", "web-0", "n1", &[("app", "web")]),
        pod("kube-system", "dns-0", "n1", &[("app", "dns")]),
        pod("default", "idle", "n1", &[("app", "web")]),
    ] {
        common::create(&mut api, p).await.expect("pod");
    }

    let mut metrics = metrics_client(&s, None).await;
    // Two scrapes make a usage; at 1 s resolution it comes within a few seconds.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let nodes = loop {
        let l = metrics
            .list_node_metrics(req("", "", "", ""))
            .await
            .expect("list node metrics")
            .into_inner();
        if !l.items.is_empty() {
            break l;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no node usage after 20 s ({} scrapes)",
            good.scrapes.load(Ordering::SeqCst)
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(good.scrapes.load(Ordering::SeqCst) >= 2);
    // Every node is asked in every round, all at once: the garbage kubelet's second ask
    // may still be on its way when the good node's second sample is served.
    while garbage.scrapes.load(Ordering::SeqCst) < 2 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the garbage kubelet is asked every round too ({} asks)",
            garbage.scrapes.load(Ordering::SeqCst)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // n2 (garbage) and n3 (no kubelet) are skipped; n1 is served.
    assert_eq!(names_of_nodes(&nodes), ["n1"]);
    assert_eq!(
        (nodes.api_version.as_str(), nodes.kind.as_str()),
        ("metrics.k8s.io/v1beta1", "NodeMetricsList")
    );
    let n1 = &nodes.items[0];
    assert_eq!(n1.usage["cpu"], "200m");
    assert_eq!(n1.usage["memory"], "2Gi");
    assert_eq!(n1.window, "10s");
    let ts = proto::time::parse_rfc3339(&n1.timestamp).expect("RFC 3339 timestamp");
    let ts_ms = ts
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    assert!(
        ts_ms > BASE_MS && (ts_ms - BASE_MS).is_multiple_of(10_000),
        "{}",
        n1.timestamp
    );
    let meta = n1.metadata.clone().unwrap();
    assert_eq!(meta.labels["role"], "worker");
    assert!(proto::time::parse_rfc3339(&meta.creation_timestamp).is_some());

    // Label selectors match the Node's labels.
    let worker = metrics
        .list_node_metrics(req("", "", "role=worker", ""))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(names_of_nodes(&worker), ["n1"]);
    let none = metrics
        .list_node_metrics(req("", "", "role=control-plane", ""))
        .await
        .unwrap()
        .into_inner();
    assert!(none.items.is_empty());
    let by_field = metrics
        .list_node_metrics(req("", "", "", "metadata.name=n2"))
        .await
        .unwrap()
        .into_inner();
    assert!(by_field.items.is_empty());
    let one = metrics
        .list_node_metrics(req("", "n1", "", ""))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(names_of_nodes(&one), ["n1"]);
    let e = common::err(
        metrics
            .list_node_metrics(req("", "n2", "", ""))
            .await
            .unwrap_err(),
    );
    assert_eq!(e.reason, proto::Reason::NotFound);
    assert_eq!(e.message, "nodemetrics.metrics.k8s.io \"n2\" not found");
    let e = common::err(
        metrics
            .list_node_metrics(req("", "nope", "", ""))
            .await
            .unwrap_err(),
    );
    assert_eq!(e.reason, proto::Reason::NotFound, "{}", e.message);

    // Pods: only those in the store, with every container's usage.
    let pods = metrics
        .list_pod_metrics(req("", "", "", ""))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(names_of_pods(&pods), ["default/web-0", "kube-system/dns-0"]);
    let web = &pods.items[0];
    assert_eq!(web.window, "10s");
    let containers: Vec<(&str, &str, &str)> = web
        .containers
        .iter()
        .map(|c| {
            (
                c.name.as_str(),
                c.usage["cpu"].as_str(),
                c.usage["memory"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        containers,
        [("sidecar", "12345n", "5000000"), ("web", "50m", "1200Ki")]
    );
    assert_eq!(pods.items[1].containers[0].usage["cpu"], "10m");
    assert_eq!(pods.items[1].containers[0].usage["memory"], "4Mi");
    let in_default = metrics
        .list_pod_metrics(req("default", "", "", ""))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(names_of_pods(&in_default), ["default/web-0"]);
    let dns = metrics
        .list_pod_metrics(req("", "", "app=dns", ""))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(names_of_pods(&dns), ["kube-system/dns-0"]);
    let named = metrics
        .list_pod_metrics(req(
            "",
            "",
            "",
            "metadata.namespace=default,metadata.name=web-0",
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(names_of_pods(&named), ["default/web-0"]);
    let one = metrics
        .list_pod_metrics(req("default", "web-0", "", ""))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(names_of_pods(&one), ["default/web-0"]);
    // `idle` exists but its kubelet reports nothing for it; `ghost` has samples, no pod.
    let e = common::err(
        metrics
            .list_pod_metrics(req("default", "idle", "", ""))
            .await
            .unwrap_err(),
    );
    assert_eq!(e.message, "podmetrics.metrics.k8s.io \"idle\" not found");
    let e = common::err(
        metrics
            .list_pod_metrics(req("default", "ghost", "", ""))
            .await
            .unwrap_err(),
    );
    assert_eq!(e.reason, proto::Reason::NotFound);
    let e = common::err(
        metrics
            .list_pod_metrics(req("", "", "a b c", ""))
            .await
            .unwrap_err(),
    );
    assert_eq!(e.reason, proto::Reason::BadRequest, "{}", e.message);

    // HTTP, as kubectl top reads it.
    let json_accept = "application/json";
    let (code, list) = get_json(&s, "GET", "/apis/metrics.k8s.io/v1beta1/nodes", json_accept).await;
    assert_eq!(code, 200, "{list}");
    assert_eq!(list["kind"], "NodeMetricsList");
    assert_eq!(list["apiVersion"], "metrics.k8s.io/v1beta1");
    assert_eq!(list["metadata"], json!({}));
    assert_eq!(list["items"][0]["metadata"]["name"], "n1");
    assert_eq!(
        list["items"][0]["usage"],
        json!({"cpu": "200m", "memory": "2Gi"})
    );
    assert_eq!(list["items"][0]["window"], "10s");
    assert!(list["items"][0].get("kind").is_none());
    let (code, one) = get_json(
        &s,
        "GET",
        "/apis/metrics.k8s.io/v1beta1/nodes/n1",
        json_accept,
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(
        (one["kind"].as_str(), one["metadata"]["name"].as_str()),
        (Some("NodeMetrics"), Some("n1"))
    );
    let (code, missing) = get_json(
        &s,
        "GET",
        "/apis/metrics.k8s.io/v1beta1/nodes/n3",
        json_accept,
    )
    .await;
    assert_eq!(code, 404);
    assert_eq!(
        (missing["kind"].as_str(), missing["reason"].as_str()),
        (Some("Status"), Some("NotFound"))
    );
    let (code, pods) = get_json(
        &s,
        "GET",
        "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods?labelSelector=app%3Dweb",
        "application/vnd.kubernetes.protobuf, application/json",
    )
    .await;
    assert_eq!(code, 200, "{pods}");
    assert_eq!(pods["kind"], "PodMetricsList");
    assert_eq!(pods["items"].as_array().unwrap().len(), 1);
    assert_eq!(pods["items"][0]["metadata"]["namespace"], "default");
    assert_eq!(
        pods["items"][0]["metadata"]["labels"],
        json!({"app": "web"})
    );
    assert_eq!(
        pods["items"][0]["containers"][1],
        json!({"name": "web", "usage": {"cpu": "50m", "memory": "1200Ki"}})
    );
    let (code, all) = get_json(&s, "GET", "/apis/metrics.k8s.io/v1beta1/pods", json_accept).await;
    assert_eq!(code, 200);
    assert_eq!(all["items"].as_array().unwrap().len(), 2);
    let (code, pod) = get_json(
        &s,
        "GET",
        "/apis/metrics.k8s.io/v1beta1/namespaces/kube-system/pods/dns-0",
        json_accept,
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(pod["kind"], "PodMetrics");
    assert_eq!(pod["containers"][0]["name"], "dns");
    let (code, nothing) = get_json(
        &s,
        "GET",
        "/apis/metrics.k8s.io/v1beta1/services",
        json_accept,
    )
    .await;
    assert_eq!(code, 404);
    assert_eq!(nothing["kind"], "Status");
    let (code, _) = get_json(
        &s,
        "DELETE",
        "/apis/metrics.k8s.io/v1beta1/nodes/n1",
        json_accept,
    )
    .await;
    assert_eq!(code, 405);

    // Discovery: what kubectl top looks for before it asks.
    let (code, groups) = get_json(&s, "GET", "/apis", json_accept).await;
    assert_eq!(code, 200);
    let group = groups["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "metrics.k8s.io")
        .cloned()
        .expect("metrics.k8s.io in /apis");
    assert_eq!(
        group["preferredVersion"]["groupVersion"],
        "metrics.k8s.io/v1beta1"
    );
    let (code, resources) = get_json(&s, "GET", "/apis/metrics.k8s.io/v1beta1", json_accept).await;
    assert_eq!(code, 200);
    assert_eq!(
        resources["resources"],
        json!([
            {"name": "nodes", "singularName": "", "namespaced": false, "kind": "NodeMetrics", "verbs": ["get", "list"]},
            {"name": "pods", "singularName": "", "namespaced": true, "kind": "PodMetrics", "verbs": ["get", "list"]},
        ])
    );
    let (code, aggregated) = get_json(
        &s,
        "GET",
        "/apis",
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList",
    )
    .await;
    assert_eq!(code, 200);
    let item = aggregated["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["metadata"]["name"] == "metrics.k8s.io")
        .cloned()
        .expect("metrics.k8s.io in the aggregated discovery");
    assert_eq!(item["versions"][0]["version"], "v1beta1");
    assert_eq!(item["versions"][0]["resources"][1]["resource"], "pods");
    assert_eq!(item["versions"][0]["resources"][1]["scope"], "Namespaced");

    drop((good, garbage));
    s.stop().await;
}

/// RBAC: nobody reads usage without a grant; `view` in a namespace (which the aggregated
/// metrics reader role joins) reads that namespace's pods' usage and nothing else; the
/// controller-manager (the HPA) reads pods' usage everywhere.
#[tokio::test]
async fn usage_is_authorized_as_metrics_k8s_io_resources() {
    let files = tempfile::tempdir().unwrap();
    let tokens = files.path().join("tokens.csv");
    std::fs::write(
        &tokens,
        "admin-token,kubernetes-admin,u1,\"system:masters\"\nalice-token,alice,u2,\ncm-token,system:kube-controller-manager,u3,\n",
    )
    .unwrap();
    let s = TestServer::start_with(move |c| {
        c.authorization_mode = vec!["Node".into(), "RBAC".into()];
        c.token_auth_file = Some(tokens);
    })
    .await;
    let mut alice = metrics_client(&s, Some("alice-token")).await;
    let mut admin = metrics_client(&s, Some("admin-token")).await;
    let mut cm = metrics_client(&s, Some("cm-token")).await;
    let forbidden = |r: Result<tonic::Response<PodMetricsList>, tonic::Status>| {
        let e = common::err(r.expect_err("refused"));
        assert_eq!(e.reason, proto::Reason::Forbidden, "{}", e.message);
        e.message
    };
    let message = forbidden(alice.list_pod_metrics(req("default", "", "", "")).await);
    assert!(
        message.contains(
            "User \"alice\" cannot list resource \"pods\" in API group \"metrics.k8s.io\" in the namespace \"default\""
        ),
        "{message}"
    );
    let e = common::err(
        alice
            .list_node_metrics(req("", "", "", ""))
            .await
            .unwrap_err(),
    );
    assert_eq!(e.reason, proto::Reason::Forbidden);
    let (code, body) = {
        let client: HttpClient<_, Full<Bytes>> =
            HttpClient::builder(TokioExecutor::new()).build_http();
        let request = http::Request::get(format!("{}/apis/metrics.k8s.io/v1beta1/nodes/n1", s.url))
            .header("authorization", "Bearer alice-token")
            .body(Full::new(Bytes::new()))
            .unwrap();
        let response = client.request(request).await.unwrap();
        let code = response.status().as_u16();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (code, serde_json::from_slice::<Value>(&bytes).unwrap())
    };
    assert_eq!(code, 403, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("cannot get resource \"nodes\" in API group \"metrics.k8s.io\""),
        "{body}"
    );

    // view in `default` (system:aggregated-metrics-reader aggregates into it).
    let mut api = api_client(&s, Some("admin-token")).await;
    let mut binding = RoleBinding::default();
    binding.meta_mut().namespace = "default".into();
    binding.meta_mut().name = "alice-views".into();
    binding.role_ref = Some(RoleRef {
        api_group: "rbac.authorization.k8s.io".into(),
        kind: "ClusterRole".into(),
        name: "view".into(),
    });
    binding.subjects = vec![Subject {
        kind: "User".into(),
        name: "alice".into(),
        ..Default::default()
    }];
    api.create(CreateRequest {
        object: Some(binding.into_object()),
        ..Default::default()
    })
    .await
    .expect("role binding");
    // The authorizer's cache follows the binding through a watch.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        match alice.list_pod_metrics(req("default", "", "", "")).await {
            Ok(l) => {
                assert!(l.into_inner().items.is_empty(), "no kubelets, no usage");
                break;
            }
            Err(e) if tokio::time::Instant::now() < deadline => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("view does not grant pods.metrics.k8s.io: {e}"),
        }
    }
    let e = common::err(
        alice
            .list_pod_metrics(req("default", "web-0", "", ""))
            .await
            .unwrap_err(),
    );
    assert_eq!(
        e.reason,
        proto::Reason::NotFound,
        "get is granted: {}",
        e.message
    );
    forbidden(alice.list_pod_metrics(req("kube-system", "", "", "")).await);
    forbidden(alice.list_pod_metrics(req("", "", "", "")).await);
    let e = common::err(
        alice
            .list_node_metrics(req("", "", "", ""))
            .await
            .unwrap_err(),
    );
    assert_eq!(e.reason, proto::Reason::Forbidden);

    admin
        .list_node_metrics(req("", "", "", ""))
        .await
        .expect("admin lists nodes");
    cm.list_pod_metrics(req("", "", "", ""))
        .await
        .expect("the HPA lists pods' usage");
    cm.list_pod_metrics(req("default", "x", "", ""))
        .await
        .expect_err("no such pod")
        .code();
    let e = common::err(cm.list_node_metrics(req("", "", "", "")).await.unwrap_err());
    assert_eq!(
        e.reason,
        proto::Reason::Forbidden,
        "the HPA does not read nodes' usage"
    );
    s.stop().await;
}

/// The real path: the apiserver with its cluster PKI dials the kubelet over TLS, checks the
/// kubelet's serving certificate against the cluster CA and presents its kubelet-client
/// certificate, and sends the GET over that HTTP/2 connection.
#[tokio::test]
async fn kubelets_are_scraped_over_tls_with_the_kubelet_client_certificate() {
    use futures::StreamExt;
    use pki::ca::{Ca, CertSpec, Usage};

    let s = TestServer::start_with(|c| {
        c.insecure_plaintext = false;
        c.metric_resolution = Duration::from_secs(1);
    })
    .await;
    assert!(s.url.starts_with("https://"), "{}", s.url);
    let read = |f: &str| std::fs::read_to_string(s.data_dir().join(f)).unwrap();
    let ca_pem = read("pki/ca.crt");
    let ca = Ca::from_pem(&ca_pem, &read("pki/ca.key")).expect("cluster CA");
    let spec = |cn: &str, groups: &[&str], usage: Usage| CertSpec {
        common_name: cn.into(),
        organizations: groups.iter().map(|g| g.to_string()).collect(),
        dns_names: vec![],
        ip_addresses: if usage == Usage::ServerAuth {
            vec!["127.0.0.1".parse().unwrap()]
        } else {
            vec![]
        },
        usages: vec![usage],
        validity: Duration::from_secs(3600),
    };

    // The kubelet: a serving certificate of the cluster CA for 127.0.0.1; it records the
    // common name of each client certificate it is shown.
    let serving = ca
        .issue(&spec(
            "system:node:n1",
            &["system:nodes"],
            Usage::ServerAuth,
        ))
        .unwrap();
    let chain = format!("{}{}", serving.cert_pem, ca.cert_pem());
    let tls = pki::tls::server_config(
        pki::tls::ServingCert::from_pem(&chain, &serving.key_pem).unwrap(),
        &[b"h2"],
    )
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let scrapes = Arc::new(AtomicU64::new(0));
    let peers = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let (counter, seen) = (scrapes.clone(), peers.clone());
    let task = tokio::spawn(async move {
        let mut incoming = std::pin::pin!(pki::tls::incoming(listener, tls));
        while let Some(Ok(conn)) = incoming.next().await {
            let cn = conn
                .info()
                .peer_certificates
                .as_ref()
                .and_then(|chain| chain.first().cloned())
                .and_then(|der| pki::inspect::parse_der(&der).ok())
                .map(|info| info.common_name)
                .unwrap_or_else(|| "<no certificate>".into());
            seen.lock().unwrap().push(cn);
            serve_connection(conn, counter.clone(), resource_metrics);
        }
    });
    let kubelet = FakeKubelet {
        port,
        scrapes,
        task,
    };

    // The test's own connection: an admin client certificate over TLS.
    let admin = ca
        .issue(&spec(
            "kubernetes-admin",
            &["system:masters"],
            Usage::ClientAuth,
        ))
        .unwrap();
    let identity = pki::tls::ClientIdentity::from_pem(&admin.cert_pem, &admin.key_pem).unwrap();
    let connector = pki::tls::Connector::new(
        pki::tls::client_config(&pki::tls::ServerTrust::Ca(ca_pem.clone()), Some(identity))
            .unwrap(),
        None,
    );
    let channel = tonic::transport::Endpoint::from_shared(s.url.replace("https://", "http://"))
        .unwrap()
        .connect_with_connector(connector)
        .await
        .expect("TLS connection to the apiserver");
    let mut api = proto::k8s::api_client::ApiClient::new(channel.clone());
    let mut metrics = ResourceMetricsClient::new(channel);
    let object = node("n1", kubelet.port, &[]);
    let created = api
        .create(CreateRequest {
            object: Some(object.clone()),
            ..Default::default()
        })
        .await
        .expect("node")
        .into_inner();
    let mut with_status = object;
    with_status.meta_mut().resource_version = created.meta().resource_version.clone();
    api.update(UpdateRequest {
        object: Some(with_status),
        subresource: "status".into(),
        ..Default::default()
    })
    .await
    .expect("node status");

    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let nodes = loop {
        let l = metrics
            .list_node_metrics(req("", "", "", ""))
            .await
            .expect("list node metrics")
            .into_inner();
        if !l.items.is_empty() {
            break l;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no usage over TLS after 20 s ({} scrapes, peers {:?})",
            kubelet.scrapes.load(Ordering::SeqCst),
            peers.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(names_of_nodes(&nodes), ["n1"]);
    assert_eq!(nodes.items[0].usage["cpu"], "200m");
    let seen = peers.lock().unwrap().clone();
    assert!(!seen.is_empty());
    assert!(
        seen.iter().all(|cn| cn == "kube-apiserver-kubelet-client"),
        "{seen:?}"
    );
    drop(kubelet);
    s.stop().await;
}
