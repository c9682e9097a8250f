//! The kubelet API against real Docker containers: logs (tail, previous, follow), exec with
//! exit codes, stats. The kubelet and apiserver run in-process; pods use Docker's default
//! bridge (no pod network), so no root-only setup is needed beyond Docker itself.

use apiserver::testing::TestServer;
use client::Api;
use client::KubeletApi;
use client::kubelet_api::{ExecRequest, LogStream, LogsRequest, StatsRequest};
use kubelet::runtime::Runtime;
use proto::Resource;
use proto::k8s::{Node, Pod};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

mod common;

const POD: &str = r#"
apiVersion: v1
kind: Pod
metadata: {name: talker, namespace: default}
spec:
  nodeName: NODE
  terminationGracePeriodSeconds: 0
  volumes: [{name: d, emptyDir: {}}]
  containers:
  - name: talk
    image: local/busybox:1
    volumeMounts: [{name: d, mountPath: /d}]
    command: ["sh", "-c", "n=$(cat /d/n 2>/dev/null || echo 0); n=$((n+1)); echo $n > /d/n; echo run-$n; echo one; echo two; if [ $n -ge 2 ]; then while true; do echo tick; sleep 1; done; fi; exit 1"]
  - name: idle
    image: local/busybox:1
    command: ["sleep", "3600"]
"#;

async fn read_all(mut s: LogStream) -> String {
    let mut out = Vec::new();
    while let Some(Ok(data)) = s.next_chunk().await.transpose() {
        out.extend(data);
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_exec_and_stats_through_the_kubelet_api() {
    let Some(rt) = common::docker("logs_exec_and_stats_through_the_kubelet_api", &[]).await else {
        return;
    };
    let rt = Arc::new(rt);
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let node = format!("api-test-{}", std::process::id());
    let cfg = common::loopback_kubelet_config(
        &server.url,
        &node,
        dir.path(),
        &format!("apit{}", std::process::id()),
    );
    let _cleanup = common::NodeContainers(node.clone());
    let cancel = CancellationToken::new();
    let task = tokio::spawn(kubelet::kubelet::run(cfg, rt.clone(), None, cancel.clone()));
    let c = client::Client::connect(&server.url).await.unwrap();
    let obj = proto::manifest::load_documents(&POD.replace("NODE", &node))
        .unwrap()
        .remove(0);
    let pods: Api<Pod> = Api::namespaced(c.clone(), "default");
    pods.create(&Pod::try_from_object(obj).unwrap())
        .await
        .unwrap();
    // Running with one restart behind it (the first run exits 1).
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let p = pods.get("talker").await.unwrap();
        let st = p.status.unwrap_or_default();
        if st.container_statuses.iter().any(|s| {
            s.name == "talk"
                && s.restart_count == 1
                && s.state.as_ref().is_some_and(|x| x.running.is_some())
        }) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "talker never restarted once: {st:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let nodes: Api<Node> = Api::all(c.clone());
    let port = nodes
        .get(&node)
        .await
        .unwrap()
        .status
        .unwrap()
        .daemon_endpoints
        .unwrap()
        .kubelet_endpoint
        .unwrap()
        .port;
    let kc = KubeletApi::direct(&format!("http://127.0.0.1:{port}"))
        .await
        .unwrap();
    let req = |container: &str, previous: bool, tail: Option<i64>, follow: bool| LogsRequest {
        namespace: "default".into(),
        pod: "talker".into(),
        container: container.into(),
        follow,
        tail_lines: tail,
        previous,
        timestamps: false,
        since_seconds: None,
    };
    // The previous instance's whole log, then the current one's first lines.
    let prev = read_all(kc.logs(req("talk", true, None, false)).await.unwrap()).await;
    assert_eq!(prev, "run-1\none\ntwo\n");
    let cur = read_all(kc.logs(req("talk", false, None, false)).await.unwrap()).await;
    assert!(cur.starts_with("run-2\none\ntwo\n"), "{cur:?}");
    let tail = read_all(kc.logs(req("talk", true, Some(1), false)).await.unwrap()).await;
    assert_eq!(tail, "two\n");
    let none = kc.logs(req("idle", true, None, false)).await.unwrap_err();
    assert!(
        none.message.contains("previous terminated container"),
        "{}",
        none.message
    );
    let ambiguous = kc.logs(req("", false, None, false)).await.unwrap_err();
    assert!(
        ambiguous.message.contains("choose one of: [idle talk]"),
        "{}",
        ambiguous.message
    );
    // Follow: new ticks arrive while the stream is open.
    let mut s = kc.logs(req("talk", false, Some(0), true)).await.unwrap();
    let chunk = tokio::time::timeout(Duration::from_secs(5), s.next_chunk())
        .await
        .expect("a tick within 5 s")
        .unwrap()
        .unwrap();
    assert!(String::from_utf8_lossy(&chunk).contains("tick"));
    drop(s);
    // Exec: output and exit codes.
    let exec = |cmd: &[&str]| ExecRequest {
        namespace: "default".into(),
        pod: "talker".into(),
        container: "talk".into(),
        command: cmd.iter().map(|s| s.to_string()).collect(),
    };
    let out = kc.exec(exec(&["cat", "/d/n"])).await.unwrap();
    assert_eq!(
        (out.exit_code, String::from_utf8_lossy(&out.output).trim()),
        (0, "2")
    );
    let out = kc.exec(exec(&["sh", "-c", "exit 7"])).await.unwrap();
    assert_eq!(out.exit_code, 7);
    // Stats: both containers, memory in use.
    let st = kc
        .stats(StatsRequest {
            namespace: "default".into(),
            pod: "talker".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(st.pods.len(), 1);
    assert_eq!(st.pods[0].containers.len(), 2);
    assert!(st.pods[0].memory_bytes > 0, "{st:?}");
    let _ = rt.version().await;
    cancel.cancel();
    let _ = task.await;
}
