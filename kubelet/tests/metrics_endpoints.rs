//! The kubelet's HTTP endpoints on its API port, end to end: a real kubelet on Docker in
//! secure mode (TLS serving certificate, client certificates, SubjectAccessReviews against
//! an in-process apiserver with Node,RBAC authorization) runs a busy pod; curl, as
//! Prometheus and metrics-server would, reads `/metrics`, `/metrics/resource` and
//! `/metrics/cadvisor` over HTTP/1.1 and HTTP/2 with a certificate whose user RBAC lets
//! `get nodes/metrics`, is refused (403) with one that does not and (401) without one,
//! and reads `/healthz` in plain HTTP on the healthz port. The gRPC API answers on the same
//! port meanwhile.

use apiserver::testing::TestServer;
use client::{Api, Client};
use proto::Resource;
use proto::k8s::{ClusterRole, ClusterRoleBinding, Node, Pod};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use testkit::Prereq;
use tokio_util::sync::CancellationToken;

mod common;

const POD: &str = r#"
apiVersion: v1
kind: Pod
metadata: {name: POD_NAME, namespace: default}
spec:
  nodeName: NODE
  terminationGracePeriodSeconds: 0
  containers:
  - name: burn
    image: local/busybox:1
    command: ["sh", "-c", "while true; do i=0; while [ $i -lt 3000 ]; do i=$((i+1)); done; sleep 0.1; done"]
"#;

async fn wait_for<T>(what: &str, timeout: Duration, mut f: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < deadline, "{what}: not within {timeout:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A client certificate of the cluster CA for `user`, written under `dir`.
fn client_cert(ca: &pki::ca::Ca, dir: &Path, user: &str) -> (PathBuf, PathBuf) {
    let issued = ca
        .issue(&pki::ca::CertSpec {
            common_name: user.into(),
            organizations: vec![],
            dns_names: vec![],
            ip_addresses: vec![],
            usages: vec![pki::ca::Usage::ClientAuth],
            validity: Duration::from_secs(3600),
        })
        .unwrap();
    let (cert, key) = (
        dir.join(format!("{user}.crt")),
        dir.join(format!("{user}.key")),
    );
    std::fs::write(&cert, issued.cert_pem).unwrap();
    std::fs::write(&key, issued.key_pem).unwrap();
    (cert, key)
}

struct Answer {
    code: u16,
    content_type: String,
    body: String,
}

/// curl `url` with `args` before it; the status code and content type from `-w`.
async fn curl(args: &[&str], url: &str) -> Answer {
    let out = tokio::process::Command::new("curl")
        .args([
            "-sS",
            "--max-time",
            "20",
            "-w",
            "\n%{http_code} %{content_type}",
        ])
        .args(args)
        .arg(url)
        .output()
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, last) = text.rsplit_once('\n').unwrap_or(("", &text));
    let (code, content_type) = last.split_once(' ').unwrap_or((last, ""));
    Answer {
        code: code.parse().unwrap_or_else(|_| {
            panic!(
                "curl {url}: {text} {}",
                String::from_utf8_lossy(&out.stderr)
            )
        }),
        content_type: content_type.to_string(),
        body: body.to_string(),
    }
}

/// The value and timestamp of the sample line starting with `series ` (name and labels).
fn sample(body: &str, series: &str) -> (f64, Option<i64>) {
    let line = body
        .lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no sample {series} in:\n{body}"));
    let mut parts = line.split_whitespace();
    let value = parts.next().unwrap().parse().unwrap();
    (value, parts.next().map(|t| t.parse().unwrap()))
}

fn now_ms() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_endpoints_serve_authorized_scrapers_on_the_api_port() {
    let test = "metrics_endpoints_serve_authorized_scrapers_on_the_api_port";
    let Some(rt) = common::docker(test, &[Prereq::Tool("curl")]).await else {
        return;
    };
    let run = std::process::id();
    let server = TestServer::start_with(|c| {
        c.insecure_plaintext = false;
        c.authorization_mode = vec!["Node".into(), "RBAC".into()];
    })
    .await;
    let d = server.data_dir().to_path_buf();
    let mut admin_conn = client::Kubeconfig::load(&d.join("admin.kubeconfig"))
        .unwrap()
        .connection(None)
        .unwrap();
    admin_conn.server = server.url.clone();
    let admin = Client::connect_with(&admin_conn).await.unwrap();
    let ca_file = d.join("pki/ca.crt");
    let ca_pem = std::fs::read_to_string(&ca_file).unwrap();
    let ca = pki::ca::Ca::from_pem(
        &ca_pem,
        &std::fs::read_to_string(d.join("pki/ca.key")).unwrap(),
    )
    .unwrap();

    // Who may read metrics: a user bound to get nodes/metrics, and one without.
    let reader = format!("metrics-reader-{run}");
    let outsider = format!("no-metrics-{run}");
    let role = proto::manifest::load_documents(&format!(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {{name: {reader}}}\n\
         rules:\n- apiGroups: [\"\"]\n  resources: [nodes/metrics]\n  verbs: [get]\n"
    ))
    .unwrap()
    .remove(0);
    Api::<ClusterRole>::all(admin.clone())
        .create(&ClusterRole::try_from_object(role).unwrap())
        .await
        .unwrap();
    let binding = proto::manifest::load_documents(&format!(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {{name: {reader}}}\n\
         roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: {reader}}}\n\
         subjects:\n- {{apiGroup: rbac.authorization.k8s.io, kind: User, name: {reader}}}\n"
    ))
    .unwrap()
    .remove(0);
    Api::<ClusterRoleBinding>::all(admin.clone())
        .create(&ClusterRoleBinding::try_from_object(binding).unwrap())
        .await
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let (reader_cert, reader_key) = client_cert(&ca, dir.path(), &reader);
    let (outsider_cert, outsider_key) = client_cert(&ca, dir.path(), &outsider);
    let node = format!("metrics-{run}");
    let serving = ca
        .issue(&pki::ca::CertSpec {
            common_name: format!("system:node:{node}"),
            organizations: vec!["system:nodes".into()],
            dns_names: vec![node.clone()],
            ip_addresses: vec!["127.0.0.1".parse().unwrap()],
            usages: vec![pki::ca::Usage::ServerAuth],
            validity: Duration::from_secs(3600),
        })
        .unwrap();
    let serving_cert = dir.path().join("kubelet.crt");
    let serving_key = dir.path().join("kubelet.key");
    std::fs::write(
        &serving_cert,
        kubelet::api_tls::serving_chain(&serving.cert_pem, Some(&ca_pem)),
    )
    .unwrap();
    std::fs::write(&serving_key, &serving.key_pem).unwrap();
    let healthz_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();

    let root = dir.path().join("root");
    let cfg = <kubelet::config::Config as clap::Parser>::parse_from([
        "kubelet",
        "--kubeconfig",
        d.join("admin.kubeconfig").to_str().unwrap(),
        "--server",
        &server.url,
        "--rotate-certificates=false",
        "--tls-cert-file",
        serving_cert.to_str().unwrap(),
        "--tls-private-key-file",
        serving_key.to_str().unwrap(),
        "--node-name",
        &node,
        "--node-ip",
        "127.0.0.1",
        "--root-dir",
        root.to_str().unwrap(),
        "--container-prefix",
        &format!("met{run}"),
        "--address",
        "127.0.0.1",
        "--port",
        "0",
        "--healthz-port",
        &healthz_port,
    ]);
    let _cleanup = common::NodeContainers(node.clone());
    let cancel = CancellationToken::new();
    // Dropped before `_cleanup`: a failing test stops its kubelet first.
    let _stop = cancel.clone().drop_guard();
    let task = tokio::spawn(kubelet::kubelet::run(
        cfg,
        Arc::new(rt),
        None,
        cancel.clone(),
    ));

    let nodes: Api<Node> = Api::all(admin.clone());
    let port = wait_for("node registered", Duration::from_secs(60), async || {
        let n = nodes.get_opt(&node).await.ok().flatten()?;
        let port = n
            .status
            .as_ref()?
            .daemon_endpoints
            .as_ref()?
            .kubelet_endpoint
            .as_ref()?
            .port;
        (port > 0).then_some(port)
    })
    .await;
    let pod_name = format!("burn-{run}");
    let obj =
        proto::manifest::load_documents(&POD.replace("NODE", &node).replace("POD_NAME", &pod_name))
            .unwrap()
            .remove(0);
    let pods: Api<Pod> = Api::namespaced(admin.clone(), "default");
    pods.create(&Pod::try_from_object(obj).unwrap())
        .await
        .unwrap();
    wait_for("the pod running", Duration::from_secs(60), async || {
        let st = pods.get(&pod_name).await.ok()?.status?;
        st.container_statuses
            .iter()
            .any(|s| s.state.as_ref().is_some_and(|x| x.running.is_some()))
            .then_some(())
    })
    .await;
    // Some CPU time to measure.
    tokio::time::sleep(Duration::from_secs(2)).await;

    let base = format!("https://127.0.0.1:{port}");
    let ca_arg = ca_file.to_str().unwrap();
    let reader_args = [
        "--cacert",
        ca_arg,
        "--cert",
        reader_cert.to_str().unwrap(),
        "--key",
        reader_key.to_str().unwrap(),
    ];
    let with = |extra: &'static str| -> Vec<&str> {
        let mut v = reader_args.to_vec();
        v.push(extra);
        v
    };

    // /metrics/resource over HTTP/1.1, as metrics-server would read it.
    let scraped_at = now_ms();
    let a = curl(&with("--http1.1"), &format!("{base}/metrics/resource")).await;
    assert_eq!(a.code, 200, "{}", a.body);
    assert_eq!(a.content_type, "text/plain; version=0.0.4; charset=utf-8");
    let labels = format!(r#"{{container="burn",namespace="default",pod="{pod_name}"}}"#);
    let (cpu, ts) = sample(
        &a.body,
        &format!("container_cpu_usage_seconds_total{labels}"),
    );
    let ts = ts.expect("a timestamp");
    assert!(cpu > 0.0 && cpu < 600.0, "cpu seconds {cpu}");
    assert!(
        (ts - scraped_at).abs() < 30_000,
        "sample time {ts} vs scrape time {scraped_at}"
    );
    let (memory, _) = sample(
        &a.body,
        &format!("container_memory_working_set_bytes{labels}"),
    );
    assert!(
        memory > 0.0 && memory < 1024.0 * 1024.0 * 1024.0,
        "working set {memory}"
    );
    let (started, _) = sample(&a.body, &format!("container_start_time_seconds{labels}"));
    let started_ms = (started * 1000.0) as i64;
    assert!(
        started_ms <= scraped_at && scraped_at - started_ms < 120_000,
        "start time {started}"
    );
    let (pod_cpu, _) = sample(
        &a.body,
        &format!(r#"pod_cpu_usage_seconds_total{{namespace="default",pod="{pod_name}"}}"#),
    );
    assert!(pod_cpu >= cpu, "pod cpu {pod_cpu} < container cpu {cpu}");
    let (node_memory, _) = sample(&a.body, "node_memory_working_set_bytes");
    assert!(node_memory >= memory, "{node_memory} < {memory}");
    assert_eq!(sample(&a.body, "resource_scrape_error"), (0.0, None));

    // /metrics over HTTP/2 on the same port: the kubelet's own figures.
    let a = curl(&with("--http2"), &format!("{base}/metrics")).await;
    assert_eq!(a.code, 200, "{}", a.body);
    for want in [
        format!(r#"kubelet_node_name{{node="{node}"}} 1"#),
        r#"kubelet_running_containers{container_state="running"}"#.to_string(),
        r#"kubelet_runtime_operations_total{operation_type="create_container"}"#.to_string(),
        r#"kubelet_started_containers_total{container_type="container"}"#.to_string(),
        "kubelet_pleg_relist_duration_seconds_count".to_string(),
    ] {
        assert!(a.body.contains(&want), "{want} missing:\n{}", a.body);
    }
    let (running_pods, _) = sample(&a.body, "kubelet_running_pods");
    assert!(running_pods >= 1.0, "{running_pods}");
    let (started_pods, _) = sample(&a.body, "kubelet_pod_start_duration_seconds_count");
    assert!(started_pods >= 1.0, "pod start not recorded:\n{}", a.body);
    let (sli, _) = sample(&a.body, "kubelet_pod_start_sli_duration_seconds_count");
    assert!(sli >= 1.0, "pod start SLI not recorded:\n{}", a.body);

    // /metrics/cadvisor: cAdvisor's names and labels.
    let a = curl(&with("--http1.1"), &format!("{base}/metrics/cadvisor")).await;
    assert_eq!(a.code, 200, "{}", a.body);
    let line = a
        .body
        .lines()
        .find(|l| {
            l.starts_with(r#"container_memory_usage_bytes{container="burn","#)
                && l.contains(&format!(r#"namespace="default",pod="{pod_name}"}}"#))
        })
        .unwrap_or_else(|| panic!("no cadvisor series for the pod:\n{}", a.body));
    assert!(
        line.contains(r#"image="local/busybox:1""#) && line.contains(r#"name="met"#),
        "{line}"
    );
    assert!(
        a.body
            .contains(r#"container_cpu_usage_seconds_total{container="burn",cpu="total",id=""#),
        "{}",
        a.body
    );

    // Refused: a user without nodes/metrics (403, the kubelet's text), no certificate (401).
    let outsider_args = [
        "--cacert",
        ca_arg,
        "--cert",
        outsider_cert.to_str().unwrap(),
        "--key",
        outsider_key.to_str().unwrap(),
    ];
    for path in ["/metrics", "/metrics/resource", "/metrics/cadvisor"] {
        let a = curl(&outsider_args, &format!("{base}{path}")).await;
        assert_eq!(a.code, 403, "{path}: {}", a.body);
        assert_eq!(
            a.body,
            format!(
                "Forbidden (user={outsider}, verb=get, resource=nodes, subresource(s)=[metrics])\n"
            )
        );
    }
    let a = curl(&["--cacert", ca_arg], &format!("{base}/metrics/resource")).await;
    assert_eq!(a.code, 401, "{}", a.body);

    // The apiserver's kubelet client (system:kubelet-api-admin) may read metrics too, and
    // the gRPC API still answers on the port.
    let kubelet_client = client::ConnectionConfig {
        server: base.clone(),
        trust: Some(pki::tls::ServerTrust::Ca(ca_pem.clone())),
        credentials: client::Credentials::ClientCert {
            cert_pem: std::fs::read_to_string(d.join("pki/apiserver-kubelet-client.crt")).unwrap(),
            key_pem: std::fs::read_to_string(d.join("pki/apiserver-kubelet-client.key")).unwrap(),
        },
        tls_server_name: None,
    };
    let api = client::KubeletApi::direct_with(&base, &kubelet_client)
        .await
        .unwrap();
    let stats = api
        .stats(kubelet::server::api::StatsRequest {
            namespace: "default".into(),
            pod: pod_name.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(stats.pods.len(), 1, "{stats:?}");

    // /healthz: plain HTTP on the healthz port, no certificate needed.
    let a = curl(&[], &format!("http://127.0.0.1:{healthz_port}/healthz")).await;
    assert_eq!((a.code, a.body.as_str()), (200, "ok"));
    let a = curl(
        &[],
        &format!("http://127.0.0.1:{healthz_port}/healthz?verbose"),
    )
    .await;
    assert_eq!(a.code, 200);
    assert!(a.body.contains("[+]syncloop ok"), "{}", a.body);
    let a = curl(&[], &format!("http://127.0.0.1:{healthz_port}/metrics")).await;
    assert_eq!(a.code, 404, "only /healthz on the healthz port");

    cancel.cancel();
    let _ = tokio::time::timeout(Duration::from_secs(15), task).await;
}
