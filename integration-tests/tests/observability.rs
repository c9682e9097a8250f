//! A real Prometheus scrapes every daemon of a real cluster: the apiserver (HTTPS, a
//! ServiceAccount token bound to `system:monitoring`), each kubelet's `/metrics`,
//! `/metrics/cadvisor` and `/metrics/resource` (HTTPS, the admin's client certificate), the
//! scheduler and controller-manager (HTTPS with delegated authentication: the same token,
//! checked by TokenReview and SubjectAccessReview), every kube-proxy and cluster-dns (plain
//! HTTP on the node's address). Assertions go through Prometheus' own HTTP API: every target
//! up; an anonymous scrape of the scheduler refused with 403; `apiserver_request_total`
//! rising after an apply; `scheduler_schedule_attempts_total{result="scheduled"}` counting
//! the pods placed; `kubelet_running_pods` equal to each node's pods.
//!
//! Needs root, Docker, busybox-static and the `prometheus` binary (Debian's package,
//! `scripts/setup.sh`): skipped with a message outside CI, failing in CI. Prometheus runs
//! on a free loopback port with its storage in a temp dir, both gone at the end.

use integration_tests::Process;
use integration_tests::cluster::{Cluster, Daemon, Options, prerequisites, wait_for};
use serde_json::Value;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const SCRAPE_INTERVAL: &str = "2s";
const REPLICAS: usize = 3;
/// The ServiceAccount Prometheus scrapes as, bound to Kubernetes' `system:monitoring`
/// ClusterRole (get on /metrics, /livez, /readyz, /healthz and their subpaths).
const MONITORING_RBAC: &str = r#"apiVersion: v1
kind: ServiceAccount
metadata:
  name: prometheus
  namespace: kube-system
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: prometheus-monitoring
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: system:monitoring
subjects:
- kind: ServiceAccount
  name: prometheus
  namespace: kube-system
"#;

fn workload() -> String {
    format!(
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: obs
spec:
  replicas: {REPLICAS}
  selector:
    matchLabels: {{app: obs}}
  template:
    metadata:
      labels: {{app: obs}}
    spec:
      terminationGracePeriodSeconds: 0
      containers:
      - name: sleeper
        image: local/busybox:1
        command: ["sleep", "3600"]
"#
    )
}

/// Percent-encodes a query parameter (PromQL has braces, quotes, spaces).
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// GET from Prometheus' API. HTTP/1.0 so Go answers with a plain body (no chunking).
async fn api(prom: SocketAddr, path_and_query: &str) -> Option<Value> {
    let mut tcp = tokio::net::TcpStream::connect(prom).await.ok()?;
    tcp.write_all(format!("GET {path_and_query} HTTP/1.0\r\nHost: {prom}\r\n\r\n").as_bytes())
        .await
        .ok()?;
    let mut bytes = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), tcp.read_to_end(&mut bytes))
        .await
        .ok()?
        .ok()?;
    let response = String::from_utf8_lossy(&bytes);
    let (head, body) = response.split_once("\r\n\r\n")?;
    if !head.starts_with("HTTP/1.0 200") && !head.starts_with("HTTP/1.1 200") {
        eprintln!("prometheus {path_and_query}: {head}\n{body}");
        return None;
    }
    let v: Value = serde_json::from_str(body).ok()?;
    (v["status"] == "success").then(|| v["data"].clone())
}

/// An instant query's samples: labels -> value.
async fn query(prom: SocketAddr, promql: &str) -> Option<Vec<(BTreeMap<String, String>, f64)>> {
    let data = api(prom, &format!("/api/v1/query?query={}", encode(promql))).await?;
    let samples = data["result"].as_array()?;
    Some(
        samples
            .iter()
            .filter_map(|s| {
                let labels = s["metric"]
                    .as_object()?
                    .iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                    .collect();
                let value = s["value"][1].as_str()?.parse().ok()?;
                Some((labels, value))
            })
            .collect(),
    )
}

/// One scalar from a query that sums to one sample; 0 when there is no sample yet (a
/// counter family has no series before its first increment).
async fn scalar(prom: SocketAddr, promql: &str) -> Option<f64> {
    let samples = query(prom, promql).await?;
    Some(samples.first().map(|(_, v)| *v).unwrap_or(0.0))
}

#[derive(Debug, Clone)]
struct Target {
    job: String,
    instance: String,
    health: String,
    last_error: String,
}

async fn targets(prom: SocketAddr) -> Option<Vec<Target>> {
    let data = api(prom, "/api/v1/targets?state=active").await?;
    Some(
        data["activeTargets"]
            .as_array()?
            .iter()
            .map(|t| Target {
                job: t["labels"]["job"].as_str().unwrap_or_default().into(),
                instance: t["labels"]["instance"].as_str().unwrap_or_default().into(),
                health: t["health"].as_str().unwrap_or_default().into(),
                last_error: t["lastError"].as_str().unwrap_or_default().into(),
            })
            .collect(),
    )
}

/// Files Prometheus reads: the admin's client certificate and key, the cluster CA, the
/// monitoring token.
struct Credentials<'a> {
    dir: &'a Path,
}

impl Credentials<'_> {
    fn path(&self, name: &str) -> String {
        self.dir.join(name).to_string_lossy().into_owned()
    }
}

/// The scrape configuration for every daemon of `c`.
fn prometheus_config(c: &Cluster, files: &Credentials) -> String {
    let ca = files.path("ca.crt");
    let token = files.path("token");
    let admin_cert = files.path("admin.crt");
    let admin_key = files.path("admin.key");
    let addr = |d: Daemon| c.metrics_addr(d).to_string();
    let per_node = |d: fn(usize) -> Daemon| -> String {
        c.nodes
            .iter()
            .enumerate()
            .map(|(i, n)| {
                format!(
                    "      - targets: ['{}']\n        labels: {{node: '{}'}}\n",
                    addr(d(i)),
                    n.name
                )
            })
            .collect()
    };
    let kubelet_job = |name: &str, path: &str| {
        format!(
            r#"  - job_name: {name}
    metrics_path: {path}
    scheme: https
    tls_config:
      insecure_skip_verify: true
      cert_file: {admin_cert}
      key_file: {admin_key}
    static_configs:
{targets}"#,
            targets = per_node(Daemon::Kubelet)
        )
    };
    // Self-signed serving certificates (as Kubernetes' components make without
    // --tls-cert-file): not verified, as Kubernetes' own scrape examples do.
    let delegated_job = |name: &str, d: Daemon, authorized: bool| {
        let auth = if authorized {
            format!("    authorization:\n      credentials_file: {token}\n")
        } else {
            String::new()
        };
        format!(
            r#"  - job_name: {name}
    scheme: https
    tls_config:
      insecure_skip_verify: true
{auth}    static_configs:
      - targets: ['{target}']
"#,
            target = addr(d)
        )
    };
    let mut config = format!(
        r#"global:
  scrape_interval: {SCRAPE_INTERVAL}
  scrape_timeout: {SCRAPE_INTERVAL}
scrape_configs:
  - job_name: apiserver
    scheme: https
    tls_config:
      ca_file: {ca}
    authorization:
      credentials_file: {token}
    static_configs:
      - targets: ['{apiserver}']
"#,
        apiserver = addr(Daemon::Apiserver)
    );
    config.push_str(&kubelet_job("kubelet", "/metrics"));
    config.push_str(&kubelet_job("kubelet-cadvisor", "/metrics/cadvisor"));
    config.push_str(&kubelet_job("kubelet-resource", "/metrics/resource"));
    config.push_str(&delegated_job("scheduler", Daemon::Scheduler, true));
    config.push_str(&delegated_job(
        "controller-manager",
        Daemon::ControllerManager,
        true,
    ));
    // The same scheduler without credentials: must be refused (403 for system:anonymous).
    config.push_str(&delegated_job(
        "scheduler-anonymous",
        Daemon::Scheduler,
        false,
    ));
    config.push_str(&format!(
        "  - job_name: kube-proxy\n    static_configs:\n{}",
        per_node(Daemon::KubeProxy)
    ));
    config.push_str(&format!(
        "  - job_name: cluster-dns\n    static_configs:\n      - targets: ['{}']\n",
        addr(Daemon::Dns)
    ));
    config
}

/// Writes the credentials Prometheus presents: the admin's certificate (from its
/// kubeconfig), the CA, and a token of the monitoring ServiceAccount.
async fn write_credentials(c: &Cluster, dir: &Path) {
    let kc = client::Kubeconfig::load(&c.kubeconfig("admin")).expect("admin kubeconfig");
    let conn = kc.connection(None).expect("admin connection");
    let client::Credentials::ClientCert { cert_pem, key_pem } = conn.credentials else {
        panic!("the admin kubeconfig has no client certificate");
    };
    std::fs::write(dir.join("admin.crt"), cert_pem).expect("write admin.crt");
    std::fs::write(dir.join("admin.key"), key_pem).expect("write admin.key");
    std::fs::write(dir.join("ca.crt"), c.ca_pem()).expect("write ca.crt");
    c.apply(MONITORING_RBAC);
    let request = proto::k8s::TokenRequest {
        metadata: Some(proto::k8s::ObjectMeta {
            name: "prometheus".into(),
            namespace: "kube-system".into(),
            ..Default::default()
        }),
        spec: Some(proto::k8s::TokenRequestSpec {
            expiration_seconds: Some(3600),
            ..Default::default()
        }),
        ..Default::default()
    };
    let token = wait_for(
        Duration::from_secs(20),
        "a token of kube-system/prometheus",
        async || {
            let r = c.client.create_token(request.clone()).await.ok()?;
            r.status.map(|s| s.token).filter(|t| !t.is_empty())
        },
    )
    .await;
    std::fs::write(dir.join("token"), token).expect("write token");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_scrapes_every_daemon() {
    use testkit::Prereq;
    if !prerequisites("prometheus_scrapes_every_daemon")
        || !testkit::require(
            "prometheus_scrapes_every_daemon",
            &[Prereq::Tool("prometheus")],
        )
    {
        return;
    }
    let started = Instant::now();
    let c = Cluster::start("obs", Options::default()).await;

    // Declared before Prometheus: dropped after it, so the process is gone before its
    // storage is removed (also when an assertion fails).
    let prom_dir = tempfile::Builder::new()
        .prefix(&format!("e2e-prometheus-{}-", c.tag))
        .tempdir()
        .expect("prometheus temp dir");
    write_credentials(&c, prom_dir.path()).await;
    let config = prometheus_config(
        &c,
        &Credentials {
            dir: prom_dir.path(),
        },
    );
    let config_path = prom_dir.path().join("prometheus.yml");
    std::fs::write(&config_path, &config).expect("write prometheus.yml");
    let prom_addr = integration_tests::free_addr();
    let _prometheus = Process::spawn(
        "prometheus",
        Command::new("prometheus")
            .arg(format!("--config.file={}", config_path.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                prom_dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address={prom_addr}"))
            .arg("--log.level=warn"),
        prom_dir.path().join("prometheus.log"),
    );

    // Every target up (the anonymous one refused).
    let wanted_jobs = [
        "apiserver",
        "kubelet",
        "kubelet-cadvisor",
        "kubelet-resource",
        "scheduler",
        "controller-manager",
        "kube-proxy",
        "cluster-dns",
    ];
    let deadline = Instant::now() + Duration::from_secs(60);
    let all = loop {
        let ts = targets(prom_addr).await.unwrap_or_default();
        let settled = !ts.is_empty()
            && ts.iter().all(|t| {
                if t.job == "scheduler-anonymous" {
                    t.health == "down"
                } else {
                    t.health == "up"
                }
            });
        if settled || Instant::now() > deadline {
            break ts;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    };
    let table: Vec<String> = all
        .iter()
        .map(|t| {
            format!(
                "{:20} {:24} {:5} {}",
                t.job, t.instance, t.health, t.last_error
            )
        })
        .collect();
    eprintln!("prometheus targets:\n{}", table.join("\n"));
    let mut failures = vec![];
    for job in wanted_jobs {
        let of_job: Vec<&Target> = all.iter().filter(|t| t.job == job).collect();
        let expected = match job {
            "kubelet" | "kubelet-cadvisor" | "kubelet-resource" | "kube-proxy" => c.nodes.len(),
            _ => 1,
        };
        if of_job.len() != expected {
            failures.push(format!("{job}: {} targets, want {expected}", of_job.len()));
        }
        for t in of_job.iter().filter(|t| t.health != "up") {
            failures.push(format!(
                "{job} {} is {}: {}",
                t.instance, t.health, t.last_error
            ));
        }
    }
    let anonymous: Vec<&Target> = all
        .iter()
        .filter(|t| t.job == "scheduler-anonymous")
        .collect();
    if !anonymous
        .iter()
        .all(|t| t.health == "down" && t.last_error.contains("403"))
        || anonymous.is_empty()
    {
        failures.push(format!(
            "an anonymous scrape of the scheduler is not refused with 403: {anonymous:?}"
        ));
    }
    // The same through PromQL: `up` is 1 for each wanted job's every target.
    for job in wanted_jobs {
        let ups = query(prom_addr, &format!("up{{job=\"{job}\"}}"))
            .await
            .unwrap_or_default();
        if ups.is_empty() || ups.iter().any(|(_, v)| *v != 1.0) {
            failures.push(format!("up{{job={job:?}}} = {ups:?}"));
        }
    }

    // An apply: the apiserver counts it, the scheduler counts the pods it places, each
    // kubelet counts the pods it runs.
    let deployments_before = scalar(
        prom_addr,
        r#"sum(apiserver_request_total{resource="deployments"})"#,
    )
    .await
    .unwrap_or(0.0);
    let scheduled_before = scalar(
        prom_addr,
        r#"sum(scheduler_schedule_attempts_total{result="scheduled"})"#,
    )
    .await
    .unwrap_or(0.0);
    c.apply(&workload());
    let pods = c
        .wait_ready_pods("default", "app=obs", REPLICAS, Duration::from_secs(90))
        .await;
    let mut on_node: BTreeMap<String, usize> =
        c.nodes.iter().map(|n| (n.name.clone(), 0)).collect();
    for p in &pods {
        if let Some(i) = c.node_index(p) {
            *on_node.entry(c.nodes[i].name.clone()).or_default() += 1;
        }
    }
    // Two scrape intervals and a margin, then the figures must have arrived.
    let settle = Duration::from_secs(20);
    let deployments_after = wait_value(settle, || async {
        let v = scalar(
            prom_addr,
            r#"sum(apiserver_request_total{resource="deployments"})"#,
        )
        .await?;
        (v > deployments_before).then_some(v)
    })
    .await;
    match deployments_after {
        Some(v) => eprintln!(
            "apiserver_request_total{{resource=\"deployments\"}}: {deployments_before} -> {v}"
        ),
        None => failures.push(format!(
            "apiserver_request_total{{resource=\"deployments\"}} did not rise above {deployments_before} after the apply"
        )),
    }
    let want_scheduled = scheduled_before + REPLICAS as f64;
    let scheduled = wait_value(settle, || async {
        let v = scalar(
            prom_addr,
            r#"sum(scheduler_schedule_attempts_total{result="scheduled"})"#,
        )
        .await?;
        (v == want_scheduled).then_some(v)
    })
    .await;
    if let Some(v) = scheduled {
        eprintln!(
            "scheduler_schedule_attempts_total{{result=\"scheduled\"}}: {scheduled_before} -> {v}"
        );
    } else {
        let now = scalar(
            prom_addr,
            r#"sum(scheduler_schedule_attempts_total{result="scheduled"})"#,
        )
        .await;
        failures.push(format!(
            "scheduler_schedule_attempts_total{{result=\"scheduled\"}} is {now:?}, want {want_scheduled} ({scheduled_before} + {REPLICAS} pods placed)"
        ));
    }
    for (node, count) in &on_node {
        let promql = format!(r#"sum(kubelet_running_pods{{job="kubelet",node="{node}"}})"#);
        let want = *count as f64;
        let got = wait_value(settle, || async {
            let samples = query(prom_addr, &promql).await?;
            let v = samples.first().map(|(_, v)| *v)?;
            (v == want).then_some(v)
        })
        .await;
        if let Some(v) = got {
            eprintln!("kubelet_running_pods on {node}: {v} ({count} pods bound there)");
        } else {
            let now = query(prom_addr, &promql).await;
            failures.push(format!(
                "kubelet_running_pods on {node} is {now:?}, want {count} (the pods bound there)"
            ));
        }
    }

    eprintln!(
        "observability: {} targets scraped, {} checks failed, {:.1}s",
        all.len(),
        failures.len(),
        started.elapsed().as_secs_f64()
    );
    if !failures.is_empty() {
        let log =
            std::fs::read_to_string(prom_dir.path().join("prometheus.log")).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(20).collect();
        eprintln!(
            "---- prometheus log (last lines) ----\n{}",
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        );
        eprintln!("---- prometheus.yml ----\n{config}");
        panic!("observability failures:\n  {}", failures.join("\n  "));
    }
}

/// Polls `f` until it gives a value or `timeout` passes.
async fn wait_value<T, F, Fut>(timeout: Duration, f: F) -> Option<T>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f().await {
            return Some(v);
        }
        if Instant::now() > deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
