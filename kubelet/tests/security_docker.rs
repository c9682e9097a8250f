//! securityContext against real Docker containers: each test runs pods on an in-process
//! kubelet and apiserver and reads what the container saw (its logs and exit code), or that
//! it was refused with Kubernetes' reason and never ran. Pods use Docker's default bridge.

use apiserver::testing::TestServer;
use client::Api;
use kubelet::runtime::docker::DockerRuntime;
use kubelet::runtime::{ContainerInfo, ContainerKind, LogOptions, Runtime, labels};
use proto::Resource;
use proto::k8s::{ContainerStatus, Event, Pod};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

mod common;

/// An apiserver and a kubelet named after the test.
struct Node {
    rt: Arc<DockerRuntime>,
    name: String,
    pods: Api<Pod>,
    events: Api<Event>,
    cancel: CancellationToken,
    task: Option<tokio::task::JoinHandle<kubelet::Result<()>>>,
    _server: TestServer,
    _dir: tempfile::TempDir,
    _cleanup: common::NodeContainers,
}

impl Node {
    async fn start(test: &str, extra: &[&str]) -> Option<Node> {
        let rt = Arc::new(common::docker(test, &[]).await?);
        let server = TestServer::start().await;
        let dir = tempfile::tempdir().unwrap();
        let name = format!("{test}-{}", std::process::id());
        let mut args = vec![
            "kubelet".to_string(),
            "--server".into(),
            server.url.clone(),
            "--node-name".into(),
            name.clone(),
            "--node-ip".into(),
            "127.0.0.1".into(),
            "--root-dir".into(),
            dir.path().join("root").to_str().unwrap().into(),
            "--container-prefix".into(),
            format!("{test}{}", std::process::id()),
            "--address".into(),
            "127.0.0.1".into(),
            "--port".into(),
            "0".into(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        let cfg = <kubelet::config::Config as clap::Parser>::parse_from(args);
        let cleanup = common::NodeContainers(name.clone());
        let cancel = CancellationToken::new();
        let task = tokio::spawn(kubelet::kubelet::run(cfg, rt.clone(), None, cancel.clone()));
        let c = client::Client::connect(&server.url).await.unwrap();
        Some(Node {
            rt,
            pods: Api::namespaced(c.clone(), "default"),
            events: Api::namespaced(c, "default"),
            name,
            cancel,
            task: Some(task),
            _server: server,
            _dir: dir,
            _cleanup: cleanup,
        })
    }

    async fn create(&self, yaml: &str) {
        let obj = proto::manifest::load_documents(&yaml.replace("NODE", &self.name))
            .unwrap()
            .remove(0);
        self.pods
            .create(&Pod::try_from_object(obj).unwrap())
            .await
            .unwrap();
    }

    /// Waits until `done` holds for the container's status.
    async fn wait_status(
        &self,
        pod: &str,
        container: &str,
        what: &str,
        done: impl Fn(&ContainerStatus) -> bool,
    ) -> ContainerStatus {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let p = self.pods.get(pod).await.unwrap();
            let st = p.status.unwrap_or_default();
            if let Some(s) = st
                .container_statuses
                .iter()
                .find(|s| s.name == container && done(s))
            {
                return s.clone();
            }
            assert!(
                Instant::now() < deadline,
                "{pod}/{container} never {what}: {st:?}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The container's exit code once it terminated.
    async fn exit_code(&self, pod: &str, container: &str) -> i32 {
        let s = self
            .wait_status(pod, container, "terminated", |s| {
                s.state.as_ref().is_some_and(|x| x.terminated.is_some())
            })
            .await;
        s.state.unwrap().terminated.unwrap().exit_code
    }

    async fn app_containers(&self, pod: &str) -> Vec<ContainerInfo> {
        self.rt
            .list_containers(&[(labels::NODE, &self.name), (labels::POD_NAME, pod)])
            .await
            .unwrap()
            .into_iter()
            .filter(|c| c.kind() == Some(ContainerKind::App))
            .collect()
    }

    /// What the (terminated) container printed.
    async fn logs(&self, pod: &str, container: &str) -> String {
        let c = self
            .app_containers(pod)
            .await
            .into_iter()
            .find(|c| c.container_name() == container)
            .expect("the container exists");
        let mut s = self.rt.logs(&c.id, &LogOptions::default()).await.unwrap();
        let mut out = Vec::new();
        use futures::StreamExt;
        while let Some(chunk) = s.next().await {
            out.extend_from_slice(&chunk.unwrap());
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    /// Waits for the CreateContainerConfigError with `message`, and the Failed event.
    async fn expect_refused(&self, pod: &str, container: &str, message: &str) {
        let s = self
            .wait_status(pod, container, "refused", |s| {
                s.state
                    .as_ref()
                    .and_then(|x| x.waiting.as_ref())
                    .is_some_and(|w| w.reason == "CreateContainerConfigError")
            })
            .await;
        let w = s.state.unwrap().waiting.unwrap();
        assert!(w.message.contains(message), "{w:?}");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let evs = self.events.list(&Default::default()).await.unwrap();
            if evs.items.iter().any(|e| {
                e.reason == "Failed"
                    && e.r#type == "Warning"
                    && e.message.contains(message)
                    && e.involved_object.as_ref().is_some_and(|o| o.name == pod)
            }) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "no Failed event with {message:?}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        assert!(
            self.app_containers(pod).await.is_empty(),
            "a refused container must never be created"
        );
    }

    async fn stop(mut self) {
        self.cancel.cancel();
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

const BUSYBOX: &str = "local/busybox:1";

fn pod(name: &str, pod_sc: &str, containers: &[(&str, &str, &str)]) -> String {
    let mut y = format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: default}}\nspec:\n  \
         nodeName: NODE\n  restartPolicy: Never\n  terminationGracePeriodSeconds: 0\n  \
         securityContext: {pod_sc}\n  containers:\n"
    );
    for (c, sc, cmd) in containers {
        y.push_str(&format!(
            "  - name: {c}\n    image: {BUSYBOX}\n    securityContext: {sc}\n    command: [\"sh\", \"-c\", {cmd:?}]\n"
        ));
    }
    y
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_as_non_root_refuses_the_root_busybox_image() {
    let Some(node) = Node::start("secnonroot", &[]).await else {
        return;
    };
    node.create(&pod(
        "nonroot",
        "{runAsNonRoot: true}",
        &[("app", "{}", "echo ran")],
    ))
    .await;
    node.expect_refused(
        "nonroot",
        "app",
        "container has runAsNonRoot and image will run as root (pod: \"nonroot_default(",
    )
    .await;
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_as_user_group_and_supplemental_groups() {
    let Some(node) = Node::start("secuser", &[]).await else {
        return;
    };
    node.create(&pod(
        "user",
        "{runAsUser: 2000, fsGroup: 5000, supplementalGroups: [6000]}",
        &[(
            "app",
            "{runAsUser: 1000, runAsGroup: 3000}",
            "id -u; id -g; id -G",
        )],
    ))
    .await;
    assert_eq!(node.exit_code("user", "app").await, 0);
    let out = node.logs("user", "app").await;
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.first(), Some(&"1000"), "{out}");
    assert_eq!(lines.get(1), Some(&"3000"), "{out}");
    let groups: Vec<&str> = lines.get(2).unwrap_or(&"").split_whitespace().collect();
    assert!(
        groups.contains(&"5000") && groups.contains(&"6000"),
        "fsGroup and supplementalGroups: {out}"
    );
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_root_filesystem_refuses_writes() {
    let Some(node) = Node::start("secrofs", &[]).await else {
        return;
    };
    node.create(&pod(
        "rofs",
        "{}",
        &[
            ("ro", "{readOnlyRootFilesystem: true}", "touch /x"),
            ("rw", "{}", "touch /x"),
        ],
    ))
    .await;
    assert_ne!(node.exit_code("rofs", "ro").await, 0);
    assert_eq!(node.exit_code("rofs", "rw").await, 0);
    assert!(
        node.logs("rofs", "ro")
            .await
            .contains("Read-only file system")
    );
    node.stop().await;
}

/// busybox's ping opens a raw socket (it does not fall back to an ICMP datagram socket), so
/// it needs CAP_NET_RAW, which Docker's (and containerd's) default set has.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_net_raw_stops_ping() {
    let Some(node) = Node::start("secnetraw", &[]).await else {
        return;
    };
    node.create(&pod(
        "caps",
        "{}",
        &[
            (
                "dropped",
                "{capabilities: {drop: [NET_RAW]}}",
                "ping -c1 -W2 127.0.0.1",
            ),
            ("default", "{}", "ping -c1 -W2 127.0.0.1"),
            (
                "all-but",
                "{capabilities: {drop: [ALL], add: [CAP_NET_RAW]}}",
                "ping -c1 -W2 127.0.0.1",
            ),
        ],
    ))
    .await;
    assert_ne!(node.exit_code("caps", "dropped").await, 0);
    assert_eq!(node.exit_code("caps", "default").await, 0);
    assert_eq!(node.exit_code("caps", "all-but").await, 0);
    assert!(
        node.logs("caps", "dropped")
            .await
            .contains("permission denied"),
        "{}",
        node.logs("caps", "dropped").await
    );
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allow_privilege_escalation_false_sets_no_new_privs() {
    let Some(node) = Node::start("secnnp", &[]).await else {
        return;
    };
    node.create(&pod(
        "nnp",
        "{}",
        &[
            (
                "locked",
                "{allowPrivilegeEscalation: false}",
                "grep NoNewPrivs /proc/self/status",
            ),
            ("open", "{}", "grep NoNewPrivs /proc/self/status"),
        ],
    ))
    .await;
    assert_eq!(node.exit_code("nnp", "locked").await, 0);
    assert_eq!(node.exit_code("nnp", "open").await, 0);
    let squash = |s: String| s.split_whitespace().collect::<Vec<_>>().join(" ");
    assert_eq!(squash(node.logs("nnp", "locked").await), "NoNewPrivs: 1");
    assert_eq!(squash(node.logs("nnp", "open").await), "NoNewPrivs: 0");
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn safe_sysctl_applies_and_unsafe_one_is_refused() {
    let Some(node) = Node::start("secsysctl", &[]).await else {
        return;
    };
    node.create(&pod(
        "safe",
        "{sysctls: [{name: net.ipv4.ip_unprivileged_port_start, value: '1001'}]}",
        &[(
            "app",
            "{}",
            "cat /proc/sys/net/ipv4/ip_unprivileged_port_start",
        )],
    ))
    .await;
    node.create(&pod(
        "unsafe",
        "{sysctls: [{name: net.core.somaxconn, value: '1000'}]}",
        &[("app", "{}", "echo ran")],
    ))
    .await;
    assert_eq!(node.exit_code("safe", "app").await, 0);
    assert_eq!(node.logs("safe", "app").await.trim(), "1001");
    node.expect_refused(
        "unsafe",
        "app",
        "forbidden sysctl: \"net.core.somaxconn\" not allowlisted",
    )
    .await;
    node.stop().await;
}

/// Kubernetes' default is Unconfined (its SeccompDefault is off); RuntimeDefault is Docker's
/// profile; Localhost reads the JSON from `--seccomp-profile-root`, and a missing file is
/// refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seccomp_unconfined_by_default_runtime_default_and_localhost() {
    let profiles = tempfile::tempdir().unwrap();
    std::fs::write(
        profiles.path().join("no-mkdir.json"),
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO"}]}"#,
    )
    .unwrap();
    let root = profiles.path().to_str().unwrap().to_string();
    let Some(node) = Node::start("secseccomp", &["--seccomp-profile-root", &root]).await else {
        return;
    };
    let show = "grep Seccomp: /proc/self/status; mkdir /tmp/d && echo made";
    node.create(&pod(
        "seccomp",
        "{seccompProfile: {type: RuntimeDefault}}",
        &[
            ("unconfined", "{seccompProfile: {type: Unconfined}}", show),
            ("runtime", "{}", show),
            (
                "local",
                "{seccompProfile: {type: Localhost, localhostProfile: no-mkdir.json}}",
                show,
            ),
        ],
    ))
    .await;
    node.create(&pod("default", "{}", &[("app", "{}", show)]))
        .await;
    node.create(&pod(
        "missing",
        "{}",
        &[(
            "app",
            "{seccompProfile: {type: Localhost, localhostProfile: nope.json}}",
            "echo ran",
        )],
    ))
    .await;
    let squash = |s: String| s.split_whitespace().collect::<Vec<_>>().join(" ");
    assert_eq!(node.exit_code("default", "app").await, 0);
    assert_eq!(squash(node.logs("default", "app").await), "Seccomp: 0 made");
    assert_eq!(node.exit_code("seccomp", "unconfined").await, 0);
    assert_eq!(
        squash(node.logs("seccomp", "unconfined").await),
        "Seccomp: 0 made"
    );
    assert_eq!(node.exit_code("seccomp", "runtime").await, 0);
    assert_eq!(
        squash(node.logs("seccomp", "runtime").await),
        "Seccomp: 2 made"
    );
    assert_ne!(node.exit_code("seccomp", "local").await, 0);
    let local = node.logs("seccomp", "local").await;
    assert!(
        local.contains("Seccomp:\t2") && !local.contains("made"),
        "{local}"
    );
    node.expect_refused("missing", "app", "Localhost profile")
        .await;
    node.stop().await;
}

/// hostPID and hostIPC put the containers in the host's namespaces (compared by the
/// namespace links); shareProcessNamespace makes the sandbox's pause process PID 1.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_pid_host_ipc_and_shared_process_namespace() {
    let Some(node) = Node::start("sechostns", &[]).await else {
        return;
    };
    let show = "readlink /proc/self/ns/pid; readlink /proc/self/ns/ipc; cat /proc/1/comm; true";
    for (name, spec) in [
        ("own", ""),
        ("host", "hostPID: true\n  hostIPC: true\n  "),
        ("shared", "shareProcessNamespace: true\n  "),
    ] {
        let y = pod(name, "{}", &[("app", "{}", show)]).replace(
            "restartPolicy: Never\n  ",
            &format!("restartPolicy: Never\n  {spec}"),
        );
        node.create(&y).await;
    }
    let host = |ns: &str| {
        std::fs::read_link(format!("/proc/self/ns/{ns}"))
            .unwrap()
            .to_string_lossy()
            .into_owned()
    };
    let (host_pid, host_ipc) = (host("pid"), host("ipc"));
    let mut seen = std::collections::BTreeMap::new();
    for name in ["own", "host", "shared"] {
        assert_eq!(node.exit_code(name, "app").await, 0, "{name}");
        let out = node.logs(name, "app").await;
        let lines: Vec<String> = out.lines().map(str::to_string).collect();
        assert_eq!(lines.len(), 3, "{name}: {out}");
        seen.insert(name, lines);
    }
    assert_eq!(seen["host"][0], host_pid);
    assert_eq!(seen["host"][1], host_ipc);
    assert_ne!(seen["own"][0], host_pid);
    assert_ne!(seen["own"][1], host_ipc);
    assert_ne!(seen["shared"][0], host_pid);
    // The container's own shell is its PID 1.
    assert_eq!(seen["own"][2], "sh");
    // The pause image runs `/bin/busybox sleep`.
    assert_eq!(seen["shared"][2], "busybox");
    node.stop().await;
}
