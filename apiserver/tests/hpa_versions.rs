//! autoscaling/v1 HorizontalPodAutoscalers over the HTTP API, stored once as autoscaling/v2:
//! real kubectl (1.33, and 1.27 which reads OpenAPI v2 in protobuf and older discovery)
//! creates, applies, reads and deletes them as v1; the same object reads as v2 with its
//! metrics; an update through v1 keeps the v2 metrics v1 has no field for. In-process
//! apiserver (plaintext, AlwaysAllow).

use std::path::{Path, PathBuf};
use std::time::Duration;

use apiserver::testing::TestServer;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};

const KUBECTL_NEW: &str = "/usr/lib/google-cloud-sdk/bin/kubectl.1.33";
const KUBECTL_OLD: &str = "/usr/lib/google-cloud-sdk/bin/kubectl.1.27";

type Http = Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>;

struct Answer {
    code: u16,
    body: Value,
    text: String,
}

async fn call(c: &Http, s: &TestServer, method: &str, path: &str, ct: &str, body: &str) -> Answer {
    let request = http::Request::builder()
        .method(method)
        .uri(format!("{}{path}", s.url))
        .header("content-type", ct)
        .header("accept", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap();
    let response = c.request(request).await.expect("request served");
    let code = response.status().as_u16();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    Answer {
        code,
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        text,
    }
}

async fn get(c: &Http, s: &TestServer, path: &str) -> Answer {
    call(c, s, "GET", path, "application/json", "").await
}

fn kubeconfig(dir: &Path, url: &str) -> PathBuf {
    let path = dir.join("kubeconfig");
    let text = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: t\n  cluster: {{server: \"{url}\"}}\nusers:\n- name: u\n  user: {{}}\ncontexts:\n- name: t\n  context: {{cluster: t, user: u, namespace: default}}\ncurrent-context: t\n"
    );
    std::fs::write(&path, text).unwrap();
    path
}

struct Run {
    ok: bool,
    stdout: String,
    stderr: String,
}

/// kubectl with its own HOME (its discovery cache), `stdin` fed to `-f -`.
async fn kubectl(bin: &str, dir: &Path, args: &[&str], stdin: &str) -> Run {
    use tokio::io::AsyncWriteExt;
    let mut child = tokio::process::Command::new(bin)
        .env("KUBECONFIG", dir.join("kubeconfig"))
        .env(
            "HOME",
            dir.join(format!("home-{}", bin.rsplit('.').next().unwrap_or(""))),
        )
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.as_bytes()).await.unwrap();
    drop(input);
    let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("kubectl {args:?} did not finish within 60 s"))
        .unwrap();
    Run {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn ok(r: Run, what: &str) -> String {
    assert!(r.ok, "{what}: {}\n{}", r.stdout, r.stderr);
    r.stdout
}

fn v1_manifest(name: &str, cpu: i32) -> String {
    format!(
        "apiVersion: autoscaling/v1\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: {name}\n  namespace: default\nspec:\n  scaleTargetRef:\n    apiVersion: apps/v1\n    kind: Deployment\n    name: {name}\n  minReplicas: 1\n  maxReplicas: 10\n  targetCPUUtilizationPercentage: {cpu}\n"
    )
}

const V1: &str = "/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers";
const V2: &str = "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers";

fn metric_names(hpa: &Value) -> Vec<String> {
    hpa["spec"]["metrics"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| m["resource"]["name"].as_str().unwrap_or("").to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v1_hpas_through_kubectl_and_http_are_stored_once_as_v2() {
    let test = "v1_hpas_through_kubectl_and_http_are_stored_once_as_v2";
    let missing: Vec<&str> = [KUBECTL_NEW, KUBECTL_OLD]
        .into_iter()
        .filter(|p| !Path::new(p).is_file())
        .collect();
    if !missing.is_empty() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{test}: needs {missing:?}"
        );
        eprintln!("SKIPPED {test}: needs {missing:?}");
        return;
    }
    let s = TestServer::start().await;
    let dir = tempfile::Builder::new()
        .prefix(&format!("{test}-"))
        .tempdir()
        .unwrap();
    kubeconfig(dir.path(), &s.url);
    let d = dir.path();
    let c: Http = Client::builder(TokioExecutor::new()).build_http();

    // Discovery: both versions, v2 preferred.
    let group = get(&c, &s, "/apis/autoscaling").await.body;
    assert_eq!(
        group["versions"],
        json!([{"groupVersion": "autoscaling/v2", "version": "v2"},
               {"groupVersion": "autoscaling/v1", "version": "v1"}]),
        "{group}"
    );
    assert_eq!(group["preferredVersion"]["version"], "v2");
    let resources = get(&c, &s, "/apis/autoscaling/v1").await.body;
    let names: Vec<&str> = resources["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["name"].as_str())
        .collect();
    assert_eq!(
        names,
        [
            "horizontalpodautoscalers",
            "horizontalpodautoscalers/status"
        ]
    );

    // kubectl 1.33 applies a v1 manifest: stored as v2 with the CPU target as a metric.
    let out = ok(
        kubectl(
            KUBECTL_NEW,
            d,
            &["apply", "-f", "-"],
            &v1_manifest("web", 50),
        )
        .await,
        "apply v1",
    );
    assert_eq!(
        out.trim(),
        "horizontalpodautoscaler.autoscaling/web created"
    );
    let v2 = get(&c, &s, &format!("{V2}/web")).await.body;
    assert_eq!(v2["apiVersion"], "autoscaling/v2");
    assert_eq!(
        v2["spec"]["metrics"],
        json!([{"type": "Resource", "resource": {"name": "cpu",
            "target": {"type": "Utilization", "averageUtilization": 50}}}])
    );
    let v1 = get(&c, &s, &format!("{V1}/web")).await.body;
    assert_eq!(v1["apiVersion"], "autoscaling/v1");
    assert_eq!(v1["spec"]["targetCPUUtilizationPercentage"], 50);
    assert!(v1["spec"].get("metrics").is_none());

    // kubectl reads it as v1, as a table and as JSON.
    let r = kubectl(
        KUBECTL_NEW,
        d,
        &["get", "horizontalpodautoscalers.v1.autoscaling", "-v=6"],
        "",
    )
    .await;
    assert!(
        r.stderr
            .contains("/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers"),
        "{}",
        r.stderr
    );
    let table = ok(r, "get table");
    assert!(
        table.starts_with("NAME") && table.contains("\nweb "),
        "{table}"
    );
    assert!(table.contains("Deployment/web"), "{table}");
    // The full resource name: kubectl's short-name expansion drops the version
    // (`hpa.v1.autoscaling` reads the preferred v2, against Kubernetes too).
    let json_out = ok(
        kubectl(
            KUBECTL_NEW,
            d,
            &[
                "get",
                "horizontalpodautoscalers.v1.autoscaling",
                "web",
                "-o",
                "json",
            ],
            "",
        )
        .await,
        "get -o json",
    );
    let read: Value = serde_json::from_str(&json_out).unwrap();
    assert_eq!(read["apiVersion"], "autoscaling/v1");
    assert_eq!(read["spec"]["targetCPUUtilizationPercentage"], 50);
    // A plain `get hpa` is the preferred version.
    let json_out = ok(
        kubectl(KUBECTL_NEW, d, &["get", "hpa", "web", "-o", "json"], "").await,
        "get hpa",
    );
    let read: Value = serde_json::from_str(&json_out).unwrap();
    assert_eq!(read["apiVersion"], "autoscaling/v2");

    // A v2 client adds a memory metric v1 has no field for.
    let patched = call(
        &c,
        &s,
        "PATCH",
        &format!("{V2}/web"),
        "application/merge-patch+json",
        &json!({"spec": {"metrics": [
            {"type": "Resource", "resource": {"name": "memory",
                "target": {"type": "AverageValue", "averageValue": "200Mi"}}},
            {"type": "Resource", "resource": {"name": "cpu",
                "target": {"type": "Utilization", "averageUtilization": 50}}}]}})
        .to_string(),
    )
    .await;
    assert_eq!(patched.code, 200, "{}", patched.text);

    // A v1 client reads, changes and writes back the whole object: the memory metric,
    // carried in the annotation, survives.
    let mut v1 = get(&c, &s, &format!("{V1}/web")).await.body;
    assert!(
        v1["metadata"]["annotations"]["autoscaling.alpha.kubernetes.io/metrics"]
            .as_str()
            .unwrap_or("")
            .contains("200Mi"),
        "{v1}"
    );
    v1["spec"]["targetCPUUtilizationPercentage"] = json!(70);
    v1["spec"]["maxReplicas"] = json!(12);
    let put = call(
        &c,
        &s,
        "PUT",
        &format!("{V1}/web"),
        "application/json",
        &v1.to_string(),
    )
    .await;
    assert_eq!(put.code, 200, "{}", put.text);
    assert_eq!(put.body["apiVersion"], "autoscaling/v1");
    assert_eq!(put.body["spec"]["maxReplicas"], 12);
    let v2 = get(&c, &s, &format!("{V2}/web")).await.body;
    assert_eq!(metric_names(&v2), ["memory", "cpu"], "{v2}");
    assert_eq!(
        v2["spec"]["metrics"][1]["resource"]["target"]["averageUtilization"],
        70
    );
    assert!(
        v2["metadata"]["annotations"]
            .get("autoscaling.alpha.kubernetes.io/metrics")
            .is_none(),
        "the round-trip annotation is never stored: {v2}"
    );

    // kubectl apply again, a new CPU target: a strategic merge patch of v1, the memory
    // metric still there.
    let out = ok(
        kubectl(
            KUBECTL_NEW,
            d,
            &["apply", "-f", "-"],
            &v1_manifest("web", 60),
        )
        .await,
        "apply v1 again",
    );
    assert_eq!(
        out.trim(),
        "horizontalpodautoscaler.autoscaling/web configured"
    );
    let v2 = get(&c, &s, &format!("{V2}/web")).await.body;
    assert_eq!(metric_names(&v2), ["memory", "cpu"], "{v2}");
    assert_eq!(
        v2["spec"]["metrics"][1]["resource"]["target"]["averageUtilization"],
        60
    );
    assert_eq!(v2["spec"]["maxReplicas"], 10);

    // The status through v1: currentCPUUtilizationPercentage is the CPU metric's current.
    let mut v1 = get(&c, &s, &format!("{V1}/web")).await.body;
    v1["status"] = json!({"currentReplicas": 2, "desiredReplicas": 3,
        "currentCPUUtilizationPercentage": 33});
    let put = call(
        &c,
        &s,
        "PUT",
        &format!("{V1}/web/status"),
        "application/json",
        &v1.to_string(),
    )
    .await;
    assert_eq!(put.code, 200, "{}", put.text);
    assert_eq!(put.body["status"]["currentCPUUtilizationPercentage"], 33);
    let v2 = get(&c, &s, &format!("{V2}/web")).await.body;
    assert_eq!(
        v2["status"]["currentMetrics"][0]["resource"]["current"]["averageUtilization"],
        33
    );
    assert_eq!(v2["status"]["desiredReplicas"], 3);

    // A watch in v1: every event as v1.
    let watch = get(&c, &s, &format!("{V1}?watch=1&timeoutSeconds=1")).await;
    let first: Value = serde_json::from_str(watch.text.lines().next().unwrap_or("")).unwrap();
    assert_eq!(first["type"], "ADDED");
    assert_eq!(first["object"]["apiVersion"], "autoscaling/v1");
    assert_eq!(
        first["object"]["spec"]["targetCPUUtilizationPercentage"],
        60
    );

    // Unknown v1 fields follow fieldValidation.
    let mut strict = v1_doc_json("strict");
    strict["spec"]["targetMemory"] = json!(1);
    let refused = call(
        &c,
        &s,
        "POST",
        &format!("{V1}?fieldValidation=Strict"),
        "application/json",
        &strict.to_string(),
    )
    .await;
    assert_eq!(refused.code, 400, "{}", refused.text);
    assert_eq!(
        refused.body["message"],
        "HorizontalPodAutoscaler in version \"v1\" cannot be handled as a HorizontalPodAutoscaler: strict decoding error: unknown field \"spec.targetMemory\""
    );

    // kubectl 1.27 (OpenAPI v2 in protobuf, legacy discovery), client- and server-side.
    let out = ok(
        kubectl(
            KUBECTL_OLD,
            d,
            &["apply", "-f", "-"],
            &v1_manifest("old", 40),
        )
        .await,
        "kubectl 1.27 apply",
    );
    assert_eq!(
        out.trim(),
        "horizontalpodautoscaler.autoscaling/old created"
    );
    for cpu in [45, 55] {
        let out = ok(
            kubectl(
                KUBECTL_OLD,
                d,
                &["apply", "--server-side", "-f", "-"],
                &v1_manifest("ssa", cpu),
            )
            .await,
            "kubectl 1.27 apply --server-side",
        );
        assert_eq!(
            out.trim(),
            "horizontalpodautoscaler.autoscaling/ssa serverside-applied"
        );
    }
    let v2 = get(&c, &s, &format!("{V2}/ssa")).await.body;
    assert_eq!(
        v2["spec"]["metrics"],
        json!([{"type": "Resource", "resource": {"name": "cpu",
            "target": {"type": "Utilization", "averageUtilization": 55}}}]),
        "{v2}"
    );
    let out = ok(
        kubectl(
            KUBECTL_OLD,
            d,
            &[
                "get",
                "horizontalpodautoscalers.v1.autoscaling",
                "old",
                "-o",
                "jsonpath={.spec.targetCPUUtilizationPercentage}",
            ],
            "",
        )
        .await,
        "kubectl 1.27 get",
    );
    assert_eq!(out, "40");

    // kubectl explain reads the v1 schema.
    let out = ok(
        kubectl(
            KUBECTL_NEW,
            d,
            &["explain", "hpa.spec", "--api-version=autoscaling/v1"],
            "",
        )
        .await,
        "explain",
    );
    assert!(out.contains("targetCPUUtilizationPercentage"), "{out}");
    assert!(out.contains("VERSION:    v1"), "{out}");
    let doc = get(&c, &s, "/openapi/v3/apis/autoscaling/v1").await.body;
    let def = &doc["components"]["schemas"]["io.k8s.api.autoscaling.v1.HorizontalPodAutoscaler"];
    assert_eq!(
        def["x-kubernetes-group-version-kind"],
        json!([{"group": "autoscaling", "kind": "HorizontalPodAutoscaler", "version": "v1"}])
    );

    // Deleted through v1: gone in both.
    ok(
        kubectl(
            KUBECTL_NEW,
            d,
            &[
                "delete",
                "horizontalpodautoscalers.v1.autoscaling",
                "web",
                "old",
                "ssa",
            ],
            "",
        )
        .await,
        "delete",
    );
    assert_eq!(get(&c, &s, &format!("{V2}/web")).await.code, 404);
    assert_eq!(get(&c, &s, &format!("{V1}/old")).await.code, 404);
    s.stop().await;
}

fn v1_doc_json(name: &str) -> Value {
    json!({"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": name},
        "spec": {"scaleTargetRef": {"kind": "Deployment", "name": name}, "maxReplicas": 2}})
}
