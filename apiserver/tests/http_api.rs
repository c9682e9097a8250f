//! The HTTP/JSON API against an in-process apiserver (plaintext, AlwaysAllow): status codes
//! and bodies as Kubernetes answers them, on the same port that serves gRPC.

use std::time::Duration;

use apiserver::testing::TestServer;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};

mod common;

type Http = Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>;

fn http1() -> Http {
    Client::builder(TokioExecutor::new()).build_http()
}

fn http2() -> Http {
    Client::builder(TokioExecutor::new())
        .http2_only(true)
        .build_http()
}

struct Answer {
    code: u16,
    headers: http::HeaderMap,
    body: Value,
    text: String,
}

async fn call(
    client: &Http,
    s: &TestServer,
    method: &str,
    path: &str,
    content_type: &str,
    body: &str,
) -> Answer {
    let request = http::Request::builder()
        .method(method)
        .uri(format!("{}{path}", s.url))
        .header("content-type", content_type)
        .header("accept", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap();
    let response = client.request(request).await.expect("request served");
    let code = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Answer {
        code,
        headers,
        body,
        text,
    }
}

async fn get(c: &Http, s: &TestServer, path: &str) -> Answer {
    call(c, s, "GET", path, "application/json", "").await
}

async fn post(c: &Http, s: &TestServer, path: &str, body: Value) -> Answer {
    call(c, s, "POST", path, "application/json", &body.to_string()).await
}

fn cm(name: &str, data: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data})
}

#[tokio::test]
async fn crud_in_json_with_kubernetes_statuses() {
    let s = TestServer::start().await;
    let c = http1();
    let a = post(
        &c,
        &s,
        "/api/v1/namespaces/default/configmaps",
        cm("one", json!({"a": "1"})),
    )
    .await;
    assert_eq!(a.code, 201, "{}", a.text);
    assert_eq!(a.body["kind"], "ConfigMap");
    assert_eq!(a.body["apiVersion"], "v1");
    assert_eq!(a.body["metadata"]["namespace"], "default");
    assert!(!a.body["metadata"]["uid"].as_str().unwrap().is_empty());
    assert_eq!(a.headers["content-type"], "application/json");

    let again = post(
        &c,
        &s,
        "/api/v1/namespaces/default/configmaps",
        cm("one", json!({})),
    )
    .await;
    assert_eq!(again.code, 409);
    assert_eq!(again.body["kind"], "Status");
    assert_eq!(again.body["status"], "Failure");
    assert_eq!(again.body["reason"], "AlreadyExists");
    assert_eq!(again.body["code"], 409);

    let one = get(&c, &s, "/api/v1/namespaces/default/configmaps/one").await;
    assert_eq!(one.code, 200);
    assert_eq!(one.body["data"]["a"], "1");

    let missing = get(&c, &s, "/api/v1/namespaces/default/configmaps/nope").await;
    assert_eq!(missing.code, 404);
    assert_eq!(missing.body["reason"], "NotFound");
    assert_eq!(missing.body["message"], "configmaps \"nope\" not found");
    assert_eq!(
        missing.body["details"],
        json!({"name": "nope", "kind": "configmaps"})
    );

    // PUT replaces; a name differing from the URL's is refused.
    let mut changed = one.body.clone();
    changed["data"]["a"] = json!("2");
    let put = call(
        &c,
        &s,
        "PUT",
        "/api/v1/namespaces/default/configmaps/one",
        "application/json",
        &changed.to_string(),
    )
    .await;
    assert_eq!(put.code, 200, "{}", put.text);
    assert_eq!(put.body["data"]["a"], "2");
    // The old resourceVersion is stale now.
    let stale = call(
        &c,
        &s,
        "PUT",
        "/api/v1/namespaces/default/configmaps/one",
        "application/json",
        &changed.to_string(),
    )
    .await;
    assert_eq!(stale.code, 409, "{}", stale.text);
    assert_eq!(stale.body["reason"], "Conflict");
    let wrong = call(
        &c,
        &s,
        "PUT",
        "/api/v1/namespaces/default/configmaps/other",
        "application/json",
        &cm("one", json!({})).to_string(),
    )
    .await;
    assert_eq!(wrong.code, 400);
    assert_eq!(wrong.body["reason"], "BadRequest");

    // Namespace in the body must match the URL's.
    let mut elsewhere = cm("two", json!({}));
    elsewhere["metadata"]["namespace"] = json!("kube-system");
    let refused = post(&c, &s, "/api/v1/namespaces/default/configmaps", elsewhere).await;
    assert_eq!(refused.code, 400);
    assert_eq!(
        refused.body["message"],
        "the namespace of the provided object does not match the namespace sent on the request"
    );

    // YAML bodies.
    let yaml = call(
        &c,
        &s,
        "POST",
        "/api/v1/namespaces/default/configmaps",
        "application/yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-yaml\ndata:\n  k: v\n",
    )
    .await;
    assert_eq!(yaml.code, 201, "{}", yaml.text);

    // Lists: kind, apiVersion, metadata.resourceVersion, items with their type.
    let list = get(&c, &s, "/api/v1/namespaces/default/configmaps").await;
    assert_eq!(list.code, 200);
    assert_eq!(list.body["kind"], "ConfigMapList");
    assert_eq!(list.body["apiVersion"], "v1");
    assert!(
        !list.body["metadata"]["resourceVersion"]
            .as_str()
            .unwrap()
            .is_empty()
    );
    let items = list.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["kind"], "ConfigMap");
    let all = get(&c, &s, "/api/v1/configmaps?limit=1").await;
    assert_eq!(all.body["items"].as_array().unwrap().len(), 1);
    assert!(
        !all.body["metadata"]["continue"]
            .as_str()
            .unwrap()
            .is_empty()
    );

    // DELETE of an object that goes at once answers Status Success.
    let del = call(
        &c,
        &s,
        "DELETE",
        "/api/v1/namespaces/default/configmaps/one",
        "application/json",
        "",
    )
    .await;
    assert_eq!(del.code, 200, "{}", del.text);
    assert_eq!(del.body["kind"], "Status");
    assert_eq!(del.body["status"], "Success");
    assert_eq!(del.body["details"]["name"], "one");
    assert_eq!(del.body["details"]["kind"], "configmaps");
    let gone = call(
        &c,
        &s,
        "DELETE",
        "/api/v1/namespaces/default/configmaps/one",
        "application/json",
        "",
    )
    .await;
    assert_eq!(gone.code, 404);

    // The all-namespaces path of a namespaced kind only lists and watches.
    let nowhere = post(&c, &s, "/api/v1/configmaps", cm("x", json!({}))).await;
    assert_eq!(nowhere.code, 405, "{}", nowhere.text);
    assert_eq!(nowhere.body["reason"], "MethodNotAllowed");
    let everything = call(
        &c,
        &s,
        "DELETE",
        "/api/v1/configmaps",
        "application/json",
        "",
    )
    .await;
    assert_eq!(everything.code, 405);
    assert_eq!(get(&c, &s, "/api/v1/configmaps/from-yaml").await.code, 404);

    // Cluster-scoped kinds and unknown paths.
    let nodes = get(&c, &s, "/api/v1/nodes").await;
    assert_eq!(nodes.code, 200);
    assert_eq!(nodes.body["kind"], "NodeList");
    let ns = get(&c, &s, "/api/v1/namespaces/kube-system").await;
    assert_eq!(ns.body["kind"], "Namespace");
    for path in ["/apis/apps/v1/pods", "/api/v1/widgets", "/apis/nope/v1/x"] {
        let a = get(&c, &s, path).await;
        assert_eq!(a.code, 404, "{path}");
        assert_eq!(a.body["reason"], "NotFound", "{path}");
    }
    s.stop().await;
}

#[tokio::test]
async fn grpc_and_http2_share_the_port() {
    let s = TestServer::start().await;
    let mut grpc = common::connect(&s).await;
    common::create(&mut grpc, common::cm("default", "from-grpc", &[("x", "y")]))
        .await
        .unwrap();
    let c = http2();
    let a = get(&c, &s, "/api/v1/namespaces/default/configmaps/from-grpc").await;
    assert_eq!(a.code, 200, "{}", a.text);
    assert_eq!(a.body["data"]["x"], "y");
    let a = post(
        &c,
        &s,
        "/api/v1/namespaces/default/configmaps",
        cm("from-http", json!({})),
    )
    .await;
    assert_eq!(a.code, 201);
    let back = common::get(&mut grpc, "configmaps", "default", "from-http")
        .await
        .unwrap();
    assert_eq!(back.meta().name, "from-http");
    s.stop().await;
}

#[tokio::test]
async fn deployments_scale_and_status() {
    let s = TestServer::start().await;
    let c = http1();
    let d = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "c", "image": "busybox:1"}]}}
        }
    });
    let a = post(&c, &s, "/apis/apps/v1/namespaces/default/deployments", d).await;
    assert_eq!(a.code, 201, "{}", a.text);
    let scale = get(
        &c,
        &s,
        "/apis/apps/v1/namespaces/default/deployments/web/scale",
    )
    .await;
    assert_eq!(scale.code, 200, "{}", scale.text);
    assert_eq!(scale.body["kind"], "Scale");
    assert_eq!(scale.body["apiVersion"], "autoscaling/v1");
    assert_eq!(scale.body["spec"]["replicas"], 2);
    let patched = call(
        &c,
        &s,
        "PATCH",
        "/apis/apps/v1/namespaces/default/deployments/web/scale",
        "application/merge-patch+json",
        r#"{"spec":{"replicas":4}}"#,
    )
    .await;
    assert_eq!(patched.code, 200, "{}", patched.text);
    assert_eq!(patched.body["spec"]["replicas"], 4);
    let json_patched = call(
        &c,
        &s,
        "PATCH",
        "/apis/apps/v1/namespaces/default/deployments/web/scale",
        "application/json-patch+json",
        r#"[{"op":"replace","path":"/spec/replicas","value":3}]"#,
    )
    .await;
    assert_eq!(json_patched.code, 200, "{}", json_patched.text);
    assert_eq!(json_patched.body["spec"]["replicas"], 3);
    let mut put = json_patched.body.clone();
    put["spec"]["replicas"] = json!(1);
    let put = call(
        &c,
        &s,
        "PUT",
        "/apis/apps/v1/namespaces/default/deployments/web/scale",
        "application/json",
        &put.to_string(),
    )
    .await;
    assert_eq!(put.code, 200, "{}", put.text);
    let d = get(&c, &s, "/apis/apps/v1/namespaces/default/deployments/web").await;
    assert_eq!(d.body["spec"]["replicas"], 1);
    let status = get(
        &c,
        &s,
        "/apis/apps/v1/namespaces/default/deployments/web/status",
    )
    .await;
    assert_eq!(status.code, 200);
    assert_eq!(status.body["kind"], "Deployment");
    let none = get(&c, &s, "/api/v1/namespaces/default/configmaps/x/scale").await;
    assert_eq!(none.code, 404);
    s.stop().await;
}

#[tokio::test]
async fn watch_streams_event_lines() {
    let s = TestServer::start().await;
    let c = http1();
    let list = get(&c, &s, "/api/v1/namespaces/default/configmaps").await;
    let rv = list.body["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    let request = http::Request::builder()
        .uri(format!(
            "{}/api/v1/namespaces/default/configmaps?watch=1&resourceVersion={rv}&timeoutSeconds=5",
            s.url
        ))
        .body(Full::new(Bytes::new()))
        .unwrap();
    let response = c.request(request).await.unwrap();
    assert_eq!(response.status(), 200);
    let mut body = response.into_body();
    post(
        &c,
        &s,
        "/api/v1/namespaces/default/configmaps",
        cm("w", json!({})),
    )
    .await;
    let mut buf = Vec::new();
    let line = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let frame = body.frame().await.unwrap().unwrap();
            if let Some(d) = frame.data_ref() {
                buf.extend_from_slice(d);
            }
            if let Some(end) = buf.iter().position(|b| *b == b'\n') {
                return serde_json::from_slice::<Value>(&buf[..end]).unwrap();
            }
        }
    })
    .await
    .expect("an event within 10 s");
    assert_eq!(line["type"], "ADDED");
    assert_eq!(line["object"]["kind"], "ConfigMap");
    assert_eq!(line["object"]["metadata"]["name"], "w");
    s.stop().await;
}

async fn call_h(
    client: &Http,
    s: &TestServer,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Answer {
    let mut request = http::Request::builder()
        .method(method)
        .uri(format!("{}{path}", s.url));
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let request = request
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap();
    let response = client.request(request).await.expect("request served");
    let code = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Answer {
        code,
        headers,
        body,
        text,
    }
}

fn warnings(a: &Answer) -> Vec<String> {
    a.headers
        .get_all("warning")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn field_validation_dry_run_and_warnings() {
    let s = TestServer::start().await;
    let c = http1();
    let mut bogus = cm("strict", json!({}));
    bogus["bogus"] = json!(1);
    let strict = post(
        &c,
        &s,
        "/api/v1/namespaces/default/configmaps?fieldValidation=Strict",
        bogus.clone(),
    )
    .await;
    assert_eq!(strict.code, 400, "{}", strict.text);
    assert_eq!(strict.body["reason"], "BadRequest");
    assert_eq!(
        strict.body["message"],
        "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: strict decoding error: unknown field \"bogus\""
    );
    let warned = post(
        &c,
        &s,
        "/api/v1/namespaces/default/configmaps",
        bogus.clone(),
    )
    .await;
    assert_eq!(warned.code, 201, "{}", warned.text);
    assert_eq!(warnings(&warned), ["299 - \"unknown field \\\"bogus\\\"\""]);
    bogus["metadata"]["name"] = json!("ignored");
    let ignored = post(
        &c,
        &s,
        "/api/v1/namespaces/default/configmaps?fieldValidation=Ignore",
        bogus,
    )
    .await;
    assert_eq!(ignored.code, 201);
    assert!(warnings(&ignored).is_empty());
    let bad = post(
        &c,
        &s,
        "/api/v1/namespaces/default/configmaps?fieldValidation=Loud",
        cm("x", json!({})),
    )
    .await;
    assert_eq!(bad.code, 400);

    // dryRun=All: the answer of a create, nothing stored.
    let dry = post(
        &c,
        &s,
        "/api/v1/namespaces/default/configmaps?dryRun=All",
        cm("dry", json!({"a": "b"})),
    )
    .await;
    assert_eq!(dry.code, 201, "{}", dry.text);
    assert_eq!(dry.body["metadata"]["name"], "dry");
    assert_eq!(
        get(&c, &s, "/api/v1/namespaces/default/configmaps/dry")
            .await
            .code,
        404
    );
    let dry_delete = call(
        &c,
        &s,
        "DELETE",
        "/api/v1/namespaces/default/configmaps/strict?dryRun=All",
        "application/json",
        "",
    )
    .await;
    assert_eq!(dry_delete.code, 200, "{}", dry_delete.text);
    assert_eq!(
        get(&c, &s, "/api/v1/namespaces/default/configmaps/strict")
            .await
            .code,
        200
    );
    s.stop().await;
}

#[tokio::test]
async fn patches_and_delete_options() {
    let s = TestServer::start().await;
    let c = http1();
    let a = post(
        &c,
        &s,
        "/api/v1/namespaces/default/configmaps",
        cm("p", json!({"a": "1"})),
    )
    .await;
    let uid = a.body["metadata"]["uid"].as_str().unwrap().to_string();
    let merged = call(
        &c,
        &s,
        "PATCH",
        "/api/v1/namespaces/default/configmaps/p",
        "application/merge-patch+json",
        r#"{"data":{"b":"2"}}"#,
    )
    .await;
    assert_eq!(merged.code, 200, "{}", merged.text);
    assert_eq!(merged.body["data"], json!({"a": "1", "b": "2"}));
    let unsupported = call(
        &c,
        &s,
        "PATCH",
        "/api/v1/namespaces/default/configmaps/p",
        "text/plain",
        "{}",
    )
    .await;
    assert_eq!(unsupported.code, 415);
    assert_eq!(unsupported.body["reason"], "UnsupportedMediaType");
    let missing = call(
        &c,
        &s,
        "PATCH",
        "/api/v1/namespaces/default/configmaps/nope",
        "application/merge-patch+json",
        "{}",
    )
    .await;
    assert_eq!(missing.code, 404);

    // Preconditions in DeleteOptions.
    let wrong_uid = call(
        &c,
        &s,
        "DELETE",
        "/api/v1/namespaces/default/configmaps/p",
        "application/json",
        r#"{"kind":"DeleteOptions","apiVersion":"v1","preconditions":{"uid":"not-it"}}"#,
    )
    .await;
    assert_eq!(wrong_uid.code, 409, "{}", wrong_uid.text);
    let right = call(
        &c,
        &s,
        "DELETE",
        "/api/v1/namespaces/default/configmaps/p",
        "application/json",
        &json!({"preconditions": {"uid": uid}, "propagationPolicy": "Background"}).to_string(),
    )
    .await;
    assert_eq!(right.code, 200, "{}", right.text);
    assert_eq!(right.body["details"]["uid"], uid.as_str());

    // deletecollection with a label selector.
    for (name, team) in [("a1", "a"), ("a2", "a"), ("b1", "b")] {
        let mut o = cm(name, json!({}));
        o["metadata"]["labels"] = json!({"team": team});
        assert_eq!(
            post(&c, &s, "/api/v1/namespaces/default/configmaps", o)
                .await
                .code,
            201
        );
    }
    let dc = call(
        &c,
        &s,
        "DELETE",
        "/api/v1/namespaces/default/configmaps?labelSelector=team%3Da",
        "application/json",
        "",
    )
    .await;
    assert_eq!(dc.code, 200, "{}", dc.text);
    assert_eq!(dc.body["kind"], "ConfigMapList");
    assert_eq!(dc.body["items"].as_array().unwrap().len(), 2);
    let left = get(&c, &s, "/api/v1/namespaces/default/configmaps").await;
    let names: Vec<&str> = left.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["b1"]);
    s.stop().await;
}

#[tokio::test]
async fn metadata_only_answers() {
    let s = TestServer::start().await;
    let c = http1();
    post(
        &c,
        &s,
        "/api/v1/namespaces/default/configmaps",
        cm("m", json!({"a": "1"})),
    )
    .await;
    let accept = [(
        "accept",
        "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json",
    )];
    let list = call_h(
        &c,
        &s,
        "GET",
        "/api/v1/namespaces/default/configmaps",
        &accept,
        "",
    )
    .await;
    assert_eq!(list.code, 200);
    assert_eq!(list.body["kind"], "PartialObjectMetadataList");
    assert_eq!(list.body["items"][0]["kind"], "PartialObjectMetadata");
    assert_eq!(list.body["items"][0]["metadata"]["name"], "m");
    assert!(list.body["items"][0].get("data").is_none());
    let one = call_h(
        &c,
        &s,
        "GET",
        "/api/v1/namespaces/default/configmaps/m",
        &accept,
        "",
    )
    .await;
    assert_eq!(one.body["kind"], "PartialObjectMetadata");
    assert_eq!(one.body["apiVersion"], "meta.k8s.io/v1");
    s.stop().await;
}

fn unscheduled_pod(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
        "spec": {"containers": [{"name": "c", "image": "busybox:1"}]}})
}

#[tokio::test]
async fn binding_eviction_and_finalize() {
    let s = TestServer::start().await;
    let c = http1();
    let node = json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}});
    assert_eq!(post(&c, &s, "/api/v1/nodes", node).await.code, 201);
    for name in ["b1", "b2"] {
        let a = post(
            &c,
            &s,
            "/api/v1/namespaces/default/pods",
            unscheduled_pod(name),
        )
        .await;
        assert_eq!(a.code, 201, "{}", a.text);
    }
    let bound = post(
        &c,
        &s,
        "/api/v1/namespaces/default/pods/b1/binding",
        json!({"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "b1"},
            "target": {"apiVersion": "v1", "kind": "Node", "name": "n1"}}),
    )
    .await;
    assert_eq!(bound.code, 201, "{}", bound.text);
    assert_eq!(bound.body["status"], "Success");
    let bound = post(
        &c,
        &s,
        "/api/v1/namespaces/default/bindings",
        json!({"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "b2"},
            "target": {"apiVersion": "v1", "kind": "Node", "name": "n1"}}),
    )
    .await;
    assert_eq!(bound.code, 201, "{}", bound.text);
    let pod = get(&c, &s, "/api/v1/namespaces/default/pods/b2").await;
    assert_eq!(pod.body["spec"]["nodeName"], "n1");

    let a = post(
        &c,
        &s,
        "/api/v1/namespaces/default/pods",
        unscheduled_pod("evicted"),
    )
    .await;
    assert_eq!(a.code, 201);
    let evicted = post(
        &c,
        &s,
        "/api/v1/namespaces/default/pods/evicted/eviction",
        json!({"apiVersion": "policy/v1", "kind": "Eviction",
            "metadata": {"name": "evicted", "namespace": "default"},
            "deleteOptions": {"gracePeriodSeconds": 0}}),
    )
    .await;
    assert_eq!(evicted.code, 201, "{}", evicted.text);
    assert_eq!(evicted.body["status"], "Success");
    assert_eq!(
        get(&c, &s, "/api/v1/namespaces/default/pods/evicted")
            .await
            .code,
        404
    );

    let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "fin"}});
    assert_eq!(post(&c, &s, "/api/v1/namespaces", ns).await.code, 201);
    let got = get(&c, &s, "/api/v1/namespaces/fin").await;
    let mut body = got.body.clone();
    body["spec"] = json!({"finalizers": []});
    let fin = call(
        &c,
        &s,
        "PUT",
        "/api/v1/namespaces/fin/finalize",
        "application/json",
        &body.to_string(),
    )
    .await;
    assert_eq!(fin.code, 200, "{}", fin.text);
    assert_eq!(fin.body["kind"], "Namespace");
    s.stop().await;
}

async fn first_lines(c: &Http, s: &TestServer, path: &str, n: usize) -> Vec<Value> {
    let request = http::Request::builder()
        .uri(format!("{}{path}", s.url))
        .body(Full::new(Bytes::new()))
        .unwrap();
    let response = c.request(request).await.unwrap();
    assert_eq!(response.status(), 200);
    let mut body = response.into_body();
    let mut buf = Vec::new();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), async {
        while out.len() < n {
            let Some(frame) = body.frame().await else {
                break;
            };
            if let Some(d) = frame.unwrap().data_ref() {
                buf.extend_from_slice(d);
            }
            while let Some(end) = buf.iter().position(|b| *b == b'\n') {
                out.push(serde_json::from_slice::<Value>(&buf[..end]).unwrap());
                buf.drain(..=end);
            }
        }
    })
    .await
    .expect("lines within 10 s");
    out
}

#[tokio::test]
async fn watch_initial_events_and_timeouts() {
    let s = TestServer::start().await;
    let c = http1();
    post(
        &c,
        &s,
        "/api/v1/namespaces/default/configmaps",
        cm("i1", json!({})),
    )
    .await;
    let lines = first_lines(
        &c,
        &s,
        "/api/v1/namespaces/default/configmaps?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true",
        2,
    )
    .await;
    assert_eq!(lines[0]["type"], "ADDED");
    assert_eq!(lines[0]["object"]["metadata"]["name"], "i1");
    assert_eq!(lines[1]["type"], "BOOKMARK");
    assert_eq!(
        lines[1]["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"],
        "true"
    );
    let refused = get(
        &c,
        &s,
        "/api/v1/namespaces/default/configmaps?watch=true&sendInitialEvents=true",
    )
    .await;
    assert_eq!(refused.code, 422, "{}", refused.text);

    // The deprecated /watch/ path, one object by name, and a server-side timeout that
    // ends the stream (the request returns rather than hanging).
    let started = std::time::Instant::now();
    let lines = first_lines(
        &c,
        &s,
        "/api/v1/watch/namespaces/default/configmaps/i1?timeoutSeconds=1",
        5,
    )
    .await;
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["type"], "ADDED");
    assert!(started.elapsed() < Duration::from_secs(5));
    s.stop().await;
}

#[tokio::test]
async fn http_callers_get_401_and_403_as_status() {
    let s = TestServer::start_with(|c| {
        c.anonymous_auth = false;
    })
    .await;
    let c = http1();
    let a = get(&c, &s, "/api/v1/pods").await;
    assert_eq!(a.code, 401, "{}", a.text);
    assert_eq!(a.body["kind"], "Status");
    assert_eq!(a.body["reason"], "Unauthorized");
    assert_eq!(a.body["message"], "Unauthorized");
    assert_eq!(a.body["code"], 401);
    s.stop().await;

    let s = TestServer::start_with(|c| {
        c.authorization_mode = vec!["RBAC".into()];
    })
    .await;
    let a = get(&c, &s, "/api/v1/namespaces/default/pods").await;
    assert_eq!(a.code, 403, "{}", a.text);
    assert_eq!(a.body["reason"], "Forbidden");
    assert!(
        a.body["message"]
            .as_str()
            .unwrap()
            .contains("User \"system:anonymous\" cannot list resource \"pods\""),
        "{}",
        a.text
    );
    let p = get(&c, &s, "/no/such/path").await;
    assert_eq!(p.code, 403, "{}", p.text);
    assert!(
        p.body["message"]
            .as_str()
            .unwrap()
            .contains("cannot get path \"/no/such/path\""),
        "{}",
        p.text
    );
    s.stop().await;
}

#[tokio::test]
async fn kubernetes_protobuf_bodies_are_read() {
    let s = TestServer::start().await;
    let c = http1();
    // kubectl 1.33's `create cm w1 --from-literal=a=b`.
    let body: &[u8] = &[
        0x6b, 0x38, 0x73, 0x00, 0x0a, 0x0f, 0x0a, 0x02, 0x76, 0x31, 0x12, 0x09, 0x43, 0x6f, 0x6e,
        0x66, 0x69, 0x67, 0x4d, 0x61, 0x70, 0x12, 0x1c, 0x0a, 0x12, 0x0a, 0x02, 0x77, 0x31, 0x12,
        0x00, 0x1a, 0x00, 0x22, 0x00, 0x2a, 0x00, 0x32, 0x00, 0x38, 0x00, 0x42, 0x00, 0x12, 0x06,
        0x0a, 0x01, 0x61, 0x12, 0x01, 0x62, 0x1a, 0x00, 0x22, 0x00,
    ];
    let request = http::Request::builder()
        .method("POST")
        .uri(format!("{}/api/v1/namespaces/default/configmaps", s.url))
        .header("content-type", "application/vnd.kubernetes.protobuf")
        .header(
            "accept",
            "application/vnd.kubernetes.protobuf,application/json",
        )
        .body(Full::new(Bytes::from_static(body)))
        .unwrap();
    let response = c.request(request).await.unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers()["content-type"], "application/json");
    let got = get(&c, &s, "/api/v1/namespaces/default/configmaps/w1").await;
    assert_eq!(got.body["data"], json!({"a": "b"}));
    // CBOR is not read: 415, so the client can send JSON.
    let cbor = call(
        &c,
        &s,
        "POST",
        "/api/v1/namespaces/default/configmaps",
        "application/cbor",
        "x",
    )
    .await;
    assert_eq!(cbor.code, 415);
    assert_eq!(cbor.body["reason"], "UnsupportedMediaType");
    s.stop().await;
}

#[tokio::test]
async fn shutdown_ends_http_watches_and_connections() {
    let s = TestServer::start().await;
    let c = http1();
    let request = http::Request::builder()
        .uri(format!("{}/api/v1/configmaps?watch=1", s.url))
        .body(Full::new(Bytes::new()))
        .unwrap();
    let response = c.request(request).await.unwrap();
    assert_eq!(response.status(), 200);
    let mut body = response.into_body();
    // An idle keep-alive connection too.
    assert_eq!(get(&c, &s, "/api/v1/nodes").await.code, 200);
    let started = std::time::Instant::now();
    let reader = tokio::spawn(async move { while let Some(Ok(_)) = body.frame().await {} });
    s.stop().await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "shutdown waited {:?} for open HTTP connections",
        started.elapsed()
    );
    tokio::time::timeout(Duration::from_secs(5), reader)
        .await
        .expect("the watch body ends at shutdown")
        .unwrap();
}

#[tokio::test]
async fn impersonation_headers_act_as_the_named_user() {
    let s = TestServer::start().await;
    let c = http1();
    let review = json!({"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"});
    let a = call_h(
        &c,
        &s,
        "POST",
        "/apis/authentication.k8s.io/v1/selfsubjectreviews",
        &[
            ("content-type", "application/json"),
            ("impersonate-user", "alice"),
            ("impersonate-group", "devs"),
        ],
        &review.to_string(),
    )
    .await;
    assert_eq!(a.code, 201, "{}", a.text);
    assert_eq!(a.body["status"]["userInfo"]["username"], "alice");
    assert_eq!(
        a.body["status"]["userInfo"]["groups"],
        json!(["devs", "system:authenticated"])
    );
    let groups_alone = call_h(
        &c,
        &s,
        "GET",
        "/api/v1/nodes",
        &[("impersonate-group", "devs")],
        "",
    )
    .await;
    assert_eq!(groups_alone.code, 500, "{}", groups_alone.text);
    s.stop().await;

    // Under RBAC the anonymous caller may not impersonate.
    let s = TestServer::start_with(|c| c.authorization_mode = vec!["RBAC".into()]).await;
    let refused = call_h(
        &c,
        &s,
        "GET",
        "/api/v1/nodes",
        &[("impersonate-user", "alice")],
        "",
    )
    .await;
    assert_eq!(refused.code, 403, "{}", refused.text);
    assert!(
        refused.body["message"]
            .as_str()
            .unwrap()
            .starts_with("users \"alice\" is forbidden: User \"system:anonymous\" cannot impersonate resource \"users\""),
        "{}",
        refused.text
    );
    s.stop().await;
}

#[tokio::test]
async fn list_resource_versions_as_kubernetes_serves_them() {
    let s = TestServer::start().await;
    let c = http1();
    let a = post(
        &c,
        &s,
        "/api/v1/namespaces/default/configmaps",
        cm("rv", json!({"a": "1"})),
    )
    .await;
    assert_eq!(a.code, 201, "{}", a.text);
    let path = "/api/v1/namespaces/default/configmaps";
    let now = get(&c, &s, path).await;
    let rv: u64 = now.body["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();

    // Not older than a revision reached, and exactly the current one: served.
    let older = get(&c, &s, &format!("{path}?resourceVersion={}", rv - 1)).await;
    assert_eq!(older.code, 200, "{}", older.text);
    assert_eq!(older.body["items"][0]["metadata"]["name"], "rv");
    let exact = get(
        &c,
        &s,
        &format!("{path}?resourceVersion={rv}&resourceVersionMatch=Exact"),
    )
    .await;
    assert_eq!(exact.code, 200, "{}", exact.text);

    // Exactly an earlier revision: no store keeps it here, so 410 (the client relists).
    let gone = get(
        &c,
        &s,
        &format!(
            "{path}?resourceVersion={}&resourceVersionMatch=Exact",
            rv - 1
        ),
    )
    .await;
    assert_eq!(gone.code, 410, "{}", gone.text);
    assert_eq!(gone.body["reason"], "Expired");

    // A revision the store has not reached: waited for, then 410 as well.
    let ahead = get(&c, &s, &format!("{path}?resourceVersion={}", rv + 1000)).await;
    assert_eq!(ahead.code, 410, "{}", ahead.text);
    assert!(
        ahead.body["message"]
            .as_str()
            .unwrap()
            .starts_with(&format!("Too large resource version: {}", rv + 1000)),
        "{}",
        ahead.text
    );

    // Kubernetes' ListOptions validation.
    let bad = get(&c, &s, &format!("{path}?resourceVersionMatch=Exact")).await;
    assert_eq!(bad.code, 422, "{}", bad.text);
    assert_eq!(bad.body["reason"], "Invalid");
}
