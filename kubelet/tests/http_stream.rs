//! Real kubectl against the HTTP API for what streams: `kubectl exec -i` (stdin through,
//! the exit code back, over WebSocket v5.channel.k8s.io), `kubectl logs --tail` and
//! `kubectl logs -f`, with an in-process apiserver (plaintext, AlwaysAllow) and kubelet on
//! real Docker. kubectl 1.27 speaks SPDY/3.1 only: its exec must work the same.

use apiserver::testing::TestServer;
use client::Api;
use proto::Resource;
use proto::k8s::Pod;
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

mod common;

const KUBECTL_NEW: &str = "/usr/lib/google-cloud-sdk/bin/kubectl.1.33";
const KUBECTL_SPDY: &str = "/usr/lib/google-cloud-sdk/bin/kubectl.1.27";

const POD: &str = r#"
apiVersion: v1
kind: Pod
metadata: {name: ticker, namespace: default}
spec:
  nodeName: NODE
  terminationGracePeriodSeconds: 0
  containers:
  - name: tick
    image: local/busybox:1
    command: ["sh", "-c", "i=0; while true; do i=$((i+1)); echo line-$i; sleep 0.5; done"]
"#;

fn kubeconfig(dir: &Path, url: &str) -> std::path::PathBuf {
    let path = dir.join("kubeconfig");
    let text = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: t\n  cluster: {{server: \"{url}\"}}\nusers:\n- name: u\n  user: {{}}\ncontexts:\n- name: t\n  context: {{cluster: t, user: u, namespace: default}}\ncurrent-context: t\n"
    );
    std::fs::write(&path, text).unwrap();
    path
}

struct Output {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

async fn kubectl(bin: &str, config: &Path, args: &[&str], stdin: &[u8]) -> Output {
    let mut child = tokio::process::Command::new(bin)
        .env("KUBECONFIG", config)
        .env_remove("KUBECTL_REMOTE_COMMAND_WEBSOCKETS")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin).await.unwrap();
    drop(input);
    let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("kubectl {args:?} did not finish within 60 s"))
        .unwrap();
    Output {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The `N` of each `line-N`.
fn numbers(text: &str) -> Vec<u64> {
    text.lines()
        .filter_map(|l| l.strip_prefix("line-")?.trim().parse().ok())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_exec_and_logs_stream_through_the_http_api() {
    let test = "kubectl_exec_and_logs_stream_through_the_http_api";
    let Some(rt) = common::docker(test, &[]).await else {
        return;
    };
    if !Path::new(KUBECTL_NEW).exists() {
        testkit::unmet(test, &format!("needs {KUBECTL_NEW}"));
        return;
    }
    let rt = Arc::new(rt);
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let node = format!("http-stream-{}", std::process::id());
    let cfg = common::loopback_kubelet_config(
        &server.url,
        &node,
        dir.path(),
        &format!("hst{}", std::process::id()),
    );
    let _cleanup = common::NodeContainers(node.clone());
    let cancel = CancellationToken::new();
    // Dropped before `_cleanup` (declared after it): a failing test stops its kubelet
    // before the node's containers are removed, so none is made again behind the cleanup.
    let _stop = cancel.clone().drop_guard();
    let task = tokio::spawn(kubelet::kubelet::run(cfg, rt, None, cancel.clone()));
    let c = client::Client::connect(&server.url).await.unwrap();
    let obj = proto::manifest::load_documents(&POD.replace("NODE", &node))
        .unwrap()
        .remove(0);
    let pods: Api<Pod> = Api::namespaced(c.clone(), "default");
    pods.create(&Pod::try_from_object(obj).unwrap())
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let st = pods.get("ticker").await.unwrap().status.unwrap_or_default();
        if st
            .container_statuses
            .iter()
            .any(|s| s.state.as_ref().is_some_and(|x| x.running.is_some()))
        {
            break;
        }
        assert!(Instant::now() < deadline, "ticker never ran: {st:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let config = kubeconfig(dir.path(), &server.url);

    // exec -i: stdin reaches the process, its end is EOF, the exit code comes back.
    let out = kubectl(
        KUBECTL_NEW,
        &config,
        &[
            "exec",
            "-i",
            "ticker",
            "--",
            "sh",
            "-c",
            "cat; echo to-stderr >&2; exit 3",
        ],
        b"hello\nworld\n",
    )
    .await;
    assert_eq!(out.stdout, "hello\nworld\n", "stderr: {}", out.stderr);
    assert_eq!(out.code, Some(3), "stderr: {}", out.stderr);
    assert!(out.stderr.contains("to-stderr"), "{}", out.stderr);
    // Without -i and exiting 0: no stdin, success.
    let out = kubectl(
        KUBECTL_NEW,
        &config,
        &["exec", "ticker", "--", "echo", "ok"],
        b"",
    )
    .await;
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (Some(0), "ok\n"),
        "{}",
        out.stderr
    );
    // A container the pod does not have: Kubernetes' words, nonzero.
    let out = kubectl(
        KUBECTL_NEW,
        &config,
        &["exec", "ticker", "-c", "nope", "--", "true"],
        b"",
    )
    .await;
    assert_ne!(out.code, Some(0));
    assert!(
        out.stderr
            .contains("container nope is not valid for pod ticker")
            || out.stderr.contains("container nope not found"),
        "{}",
        out.stderr
    );

    // The whole log so far, once there is enough of it.
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        let out = kubectl(KUBECTL_NEW, &config, &["logs", "ticker"], b"").await;
        assert_eq!(out.code, Some(0), "{}", out.stderr);
        let all = numbers(&out.stdout);
        if all.len() >= 3 {
            assert_eq!(all[..3], [1, 2, 3], "{}", out.stdout);
            break;
        }
        assert!(
            Instant::now() < until,
            "the log stayed short: {}",
            out.stdout
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }

    // logs --tail: the last lines only.
    let out = kubectl(KUBECTL_NEW, &config, &["logs", "ticker", "--tail=2"], b"").await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let tail = numbers(&out.stdout);
    assert_eq!(tail.len(), 2, "{}", out.stdout);
    assert_eq!(tail[1], tail[0] + 1);

    // logs -f: lines keep coming after the ones that were there.
    let mut follow = tokio::process::Command::new(KUBECTL_NEW)
        .env("KUBECONFIG", &config)
        .args(["logs", "-f", "--tail=1", "ticker"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(follow.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    let until = Instant::now() + Duration::from_secs(20);
    while seen.len() < 4 && Instant::now() < until {
        match tokio::time::timeout(Duration::from_secs(5), lines.next_line()).await {
            Ok(Ok(Some(l))) => seen.extend(numbers(&l)),
            other => panic!("logs -f ended or stalled after {seen:?}: {other:?}"),
        }
    }
    assert!(seen.len() >= 4, "{seen:?}");
    assert!(seen.windows(2).all(|w| w[1] == w[0] + 1), "{seen:?}");
    assert!(seen[0] >= tail[1], "{seen:?} after {tail:?}");
    follow.kill().await.unwrap();

    // attach: the main process's output as it comes (Docker attach, no new process).
    let mut attach = tokio::process::Command::new(KUBECTL_NEW)
        .env("KUBECONFIG", &config)
        .args(["attach", "ticker"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(attach.stdout.take().unwrap()).lines();
    let mut attached = Vec::new();
    while attached.len() < 2 {
        match tokio::time::timeout(Duration::from_secs(10), lines.next_line()).await {
            Ok(Ok(Some(l))) => attached.extend(numbers(&l)),
            other => panic!("attach ended or stalled after {attached:?}: {other:?}"),
        }
    }
    assert_eq!(attached[1], attached[0] + 1, "{attached:?}");
    attach.kill().await.unwrap();

    // port-forward needs SPDY framing, which is not served: a refusal that says so.
    let out = kubectl(
        KUBECTL_NEW,
        &config,
        &["port-forward", "ticker", "0:80"],
        b"",
    )
    .await;
    assert_ne!(out.code, Some(0));
    assert!(
        out.stderr
            .contains("port-forward is not supported by this server"),
        "{}",
        out.stderr
    );

    // kubectl 1.27 speaks SPDY/3.1 only: the same exec through it.
    if Path::new(KUBECTL_SPDY).exists() {
        let out = kubectl(
            KUBECTL_SPDY,
            &config,
            &[
                "exec",
                "-i",
                "ticker",
                "--",
                "sh",
                "-c",
                "cat; echo to-stderr >&2; exit 3",
            ],
            b"over spdy\n",
        )
        .await;
        assert_eq!(out.stdout, "over spdy\n", "stderr: {}", out.stderr);
        assert_eq!(out.code, Some(3), "stderr: {}", out.stderr);
        assert!(out.stderr.contains("to-stderr"), "{}", out.stderr);
        let out = kubectl(
            KUBECTL_SPDY,
            &config,
            &["exec", "ticker", "--", "echo", "ok"],
            b"",
        )
        .await;
        assert_eq!(
            (out.code, out.stdout.as_str()),
            (Some(0), "ok\n"),
            "{}",
            out.stderr
        );
    }

    cancel.cancel();
    let _ = tokio::time::timeout(Duration::from_secs(30), task).await;
    server.stop().await;
}
