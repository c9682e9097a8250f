//! The real `kubelet` binary against the real `apiserver` binary and the host's Docker
//! engine: pods run as containers, talk over localhost and pod IPs, crash and back off,
//! get probed, terminate gracefully, and survive a kubelet SIGKILL. Every test uses its own
//! node name; every Docker object the kubelet makes carries it as a label and is removed
//! when the test ends, also on failure.
//!
//! Needs Docker (and root). Outside CI a missing engine skips with a message; with
//! `CI=true` it fails.

use integration_tests::{
    Process, binary, free_addr, node_kubeconfig, spawn_apiserver, spawn_tls_apiserver, wait_ready,
    wait_ready_tls,
};
use proto::Resource;
use proto::k8s::{ConfigMap, Pod};
use std::process::Command;
use std::time::{Duration, Instant};

const NODE_LABEL: &str = "io.kubelet.node";

/// False (and a message) when the test cannot run here; panics in CI.
fn prerequisites(test: &str) -> bool {
    testkit::require(test, &[testkit::Prereq::Docker, testkit::Prereq::Busybox])
}

fn docker(args: &[&str]) -> String {
    let out = Command::new("docker")
        .args(args)
        .output()
        .expect("run docker");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Containers of this node, `name status` lines.
fn node_containers(node: &str) -> Vec<String> {
    docker(&[
        "ps",
        "-a",
        "--filter",
        &format!("label={NODE_LABEL}={node}"),
        "--format",
        "{{.ID}}",
    ])
    .lines()
    .map(str::to_string)
    .filter(|l| !l.is_empty())
    .collect()
}

fn container_of(node: &str, pod: &str, container: &str) -> String {
    docker(&[
        "ps",
        "-q",
        "--filter",
        &format!("label={NODE_LABEL}={node}"),
        "--filter",
        &format!("label=io.kubernetes.pod.name={pod}"),
        "--filter",
        &format!("label=io.kubernetes.container.name={container}"),
    ])
    .lines()
    .next()
    .unwrap_or("")
    .to_string()
}

struct Env {
    url: String,
    /// The pod network: this run's bridge and podCIDR.
    bridge: String,
    cidr: String,
    client: client::Client,
    node: String,
    dir: tempfile::TempDir,
    _apiserver: Process,
    kubelet: Option<Process>,
    starts: u32,
    cidr_flag: bool,
    extra: Vec<String>,
}

impl Env {
    async fn start(test: &str) -> Env {
        Self::start_with(test, true, &[]).await
    }

    /// `cidr_flag`: pass `--pod-cidr` (else the test sets the Node's spec.podCIDR);
    /// `extra`: more kubelet flags.
    async fn start_with(test: &str, cidr_flag: bool, extra: &[String]) -> Env {
        let dir = tempfile::Builder::new()
            .prefix(&format!("it-kubelet-{test}-"))
            .tempdir()
            .expect("temp dir");
        let addr = free_addr();
        let url = format!("http://{addr}");
        let mut api = spawn_apiserver(
            &dir.path().join("data"),
            addr,
            dir.path().join("apiserver.log"),
        );
        let client = wait_ready(&url, &mut api, Duration::from_secs(30)).await;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let node = format!(
            "it-{}-{}-{:x}",
            test.replace('_', "-"),
            std::process::id(),
            nanos
        );
        let h = node.bytes().fold(0x811c_9dc5u32, |h, b| {
            (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
        });
        let bridge = format!("kt{h:08x}");
        let cidr = format!("10.{}.{}.0/24", 200 + (h >> 8) % 50, h % 256);
        let mut env = Env {
            url,
            bridge,
            cidr,
            client,
            node,
            dir,
            _apiserver: api,
            kubelet: None,
            starts: 0,
            cidr_flag: true,
            extra: vec![],
        };
        env.cidr_flag = cidr_flag;
        env.extra = extra.to_vec();
        env.start_kubelet();
        env
    }

    fn start_kubelet(&mut self) {
        self.starts += 1;
        let log = self.dir.path().join(format!("kubelet-{}.log", self.starts));
        let mut cmd = Command::new(binary("kubelet"));
        if self.cidr_flag {
            cmd.arg("--pod-cidr").arg(&self.cidr);
        }
        cmd.args(&self.extra).args(["--port", "0"]);
        let p = Process::spawn(
            "kubelet",
            cmd.arg("--server")
                .arg(&self.url)
                .arg("--node-name")
                .arg(&self.node)
                .arg("--node-ip")
                .arg("127.0.0.1")
                .arg("--root-dir")
                .arg(self.dir.path().join("root"))
                .arg("--container-prefix")
                .arg(format!("it{}", std::process::id()))
                .arg("--bridge-name")
                .arg(&self.bridge)
                .env("RUST_LOG", "info"),
            log,
        );
        self.kubelet = Some(p);
    }

    fn kubelet_log(&self) -> String {
        self.kubelet
            .as_ref()
            .map(|k| k.log_text())
            .unwrap_or_default()
    }

    async fn apply(&self, yaml: &str) {
        let yaml = yaml.replace("NODE", &self.node);
        for obj in proto::manifest::load_documents(&yaml).expect("manifest") {
            self.client.create(obj).await.expect("create");
        }
    }

    fn pods(&self) -> client::Api<Pod> {
        client::Api::namespaced(self.client.clone(), "default")
    }

    async fn wait_pod(
        &self,
        name: &str,
        timeout: Duration,
        what: &str,
        pred: impl Fn(&Pod) -> bool,
    ) -> Pod {
        let deadline = Instant::now() + timeout;
        loop {
            let p = self.pods().get_opt(name).await.expect("get pod");
            if let Some(p) = &p
                && pred(p)
            {
                return p.clone();
            }
            if Instant::now() > deadline {
                panic!(
                    "pod {name}: {what} not reached within {timeout:?}; pod:\n{}\nkubelet log:\n{}",
                    p.map(|p| proto::manifest::to_yaml(&p.into_object()))
                        .unwrap_or_else(|| "gone".into()),
                    self.kubelet_log()
                );
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    async fn wait_gone(&self, name: &str, timeout: Duration) -> Duration {
        let start = Instant::now();
        while self.pods().get_opt(name).await.expect("get").is_some() {
            assert!(
                start.elapsed() < timeout,
                "pod {name} not gone within {timeout:?}; kubelet log:\n{}",
                self.kubelet_log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        start.elapsed()
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        if let Some(k) = &mut self.kubelet {
            k.kill();
        }
        let ids = node_containers(&self.node);
        if !ids.is_empty() {
            let mut args = vec!["rm", "-f", "-v"];
            args.extend(ids.iter().map(String::as_str));
            docker(&args);
        }
        // The bridge and its FORWARD rules (veths went with the sandboxes' namespaces).
        let _ = Command::new("ip")
            .args(["link", "del", &self.bridge])
            .output();
        for dir in ["-i", "-o"] {
            let _ = Command::new("iptables")
                .args(["-w", "-D", "FORWARD", dir, &self.bridge, "-j", "ACCEPT"])
                .output();
        }
    }
}

fn in_cidr(ip: &str, cidr: &str) -> bool {
    let prefix = cidr.trim_end_matches("0/24");
    ip.starts_with(prefix) && ip != format!("{prefix}1") && ip != format!("{prefix}0")
}

/// Interfaces attached to `bridge`.
fn bridge_ports(bridge: &str) -> usize {
    let out = Command::new("ip")
        .args(["-o", "link", "show", "master", bridge])
        .output()
        .expect("ip link");
    String::from_utf8_lossy(&out.stdout).lines().count()
}

fn status_of<'a>(p: &'a Pod, c: &str) -> Option<&'a proto::k8s::ContainerStatus> {
    p.status
        .as_ref()?
        .container_statuses
        .iter()
        .find(|s| s.name == c)
}

fn running(p: &Pod) -> bool {
    p.status.as_ref().is_some_and(|s| {
        s.phase == "Running"
            && !s.container_statuses.is_empty()
            && s.container_statuses
                .iter()
                .all(|c| c.state.as_ref().is_some_and(|st| st.running.is_some()))
    })
}

fn condition(p: &Pod, kind: &str) -> String {
    p.status
        .as_ref()
        .and_then(|s| s.conditions.iter().find(|c| c.r#type == kind))
        .map(|c| c.status.clone())
        .unwrap_or_default()
}

const WEB_POD: &str = r#"
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  nodeName: NODE
  terminationGracePeriodSeconds: 1
  containers:
  - name: web
    image: local/busybox:1
    command: ["sh", "-c", "mkdir -p /www && echo hello-from-$(POD_NAME) > /www/index.html && exec httpd -f -p 8080 -h /www"]
    env:
    - name: POD_NAME
      valueFrom: {fieldRef: {fieldPath: metadata.name}}
    ports: [{containerPort: 8080, name: http}]
    readinessProbe:
      httpGet: {path: /index.html, port: http}
      periodSeconds: 1
  - name: sidecar
    image: local/busybox:1
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do printf 'GET /index.html HTTP/1.0\r\n\r\n' | nc 127.0.0.1 8080 | tail -n 1; sleep 1; done"]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn containers_share_localhost_and_pods_reach_each_other_by_ip() {
    if !prerequisites("containers_share_localhost") {
        return;
    }
    let env = Env::start("net").await;
    env.apply(WEB_POD).await;
    let web = env
        .wait_pod("web", Duration::from_secs(60), "Running and Ready", |p| {
            running(p) && condition(p, "Ready") == "True"
        })
        .await;
    let ip = web.status.as_ref().unwrap().pod_ip.clone();
    assert!(
        in_cidr(&ip, &env.cidr),
        "the pod's IP {ip} is from the node's podCIDR {}",
        env.cidr
    );
    assert_eq!(web.status.as_ref().unwrap().host_ip, "127.0.0.1");
    // The sidecar reads the web container over localhost.
    let sidecar = container_of(&env.node, "web", "sidecar");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let logs = docker(&["logs", &sidecar]);
        if logs.contains("hello-from-web") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "sidecar never reached localhost:8080; logs: {logs}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    // Another pod reaches it by its pod IP.
    env.apply(&format!(
        r#"
apiVersion: v1
kind: Pod
metadata: {{name: client}}
spec:
  nodeName: NODE
  restartPolicy: Never
  containers:
  - name: get
    image: local/busybox:1
    command: ["sh", "-c", "printf 'GET /index.html HTTP/1.0\r\n\r\n' | nc {ip} 8080 | grep -q hello-from-web"]
"#
    ))
    .await;
    let done = env
        .wait_pod("client", Duration::from_secs(60), "finished", |p| {
            p.status
                .as_ref()
                .is_some_and(|s| s.phase == "Succeeded" || s.phase == "Failed")
        })
        .await;
    assert_eq!(
        done.status.as_ref().unwrap().phase,
        "Succeeded",
        "the client pod got the page by pod IP"
    );
    let client_ip = done.status.as_ref().unwrap().pod_ip.clone();
    assert!(
        in_cidr(&client_ip, &env.cidr) && client_ip != ip,
        "a second address: {client_ip}"
    );
    // Deleting the web pod removes its veth and frees its address.
    let ipam_dir = env
        .dir
        .path()
        .join("root/ipam")
        .join(env.cidr.replace('/', "_"));
    assert!(ipam_dir.join(&ip).exists(), "the address is recorded");
    // The finished client pod's veth goes (right after its status says so), web's stays.
    let deadline = Instant::now() + Duration::from_secs(10);
    while bridge_ports(&env.bridge) != 1 {
        assert!(
            Instant::now() < deadline,
            "{} ports on the bridge, want web's only",
            bridge_ports(&env.bridge)
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    env.pods().delete("web", &Default::default()).await.unwrap();
    env.wait_gone("web", Duration::from_secs(30)).await;
    assert!(!ipam_dir.join(&ip).exists(), "the address is released");
    assert_eq!(bridge_ports(&env.bridge), 0, "no veth left on the bridge");
    let ready_cond = done
        .status
        .as_ref()
        .unwrap()
        .conditions
        .iter()
        .find(|c| c.r#type == "Ready")
        .unwrap()
        .reason
        .clone();
    assert_eq!(ready_cond, "PodCompleted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crashing_container_backs_off_with_restart_count_rising() {
    if !prerequisites("crash_loop") {
        return;
    }
    let env = Env::start("crash").await;
    env.apply(
        r#"
apiVersion: v1
kind: Pod
metadata: {name: crash}
spec:
  nodeName: NODE
  containers:
  - name: c
    image: local/busybox:1
    command: ["sh", "-c", "echo dying; exit 3"]
  - name: nope
    image: registry.invalid/none:1
"#,
    )
    .await;
    let t0 = Instant::now();
    let p = env
        .wait_pod("crash", Duration::from_secs(30), "restartCount 1", |p| {
            status_of(p, "c").is_some_and(|s| s.restart_count >= 1)
        })
        .await;
    let first = t0.elapsed();
    let c = status_of(&p, "c").unwrap();
    let last = c
        .last_state
        .as_ref()
        .and_then(|l| l.terminated.as_ref())
        .expect("lastState.terminated");
    assert_eq!((last.exit_code, last.reason.as_str()), (3, "Error"));
    let p = env
        .wait_pod("crash", Duration::from_secs(30), "CrashLoopBackOff", |p| {
            status_of(p, "c")
                .and_then(|s| s.state.as_ref())
                .and_then(|s| s.waiting.as_ref())
                .is_some_and(|w| w.reason == "CrashLoopBackOff")
        })
        .await;
    let n = status_of(&p, "c").unwrap().restart_count;
    env.wait_pod("crash", Duration::from_secs(40), "one more restart", |p| {
        status_of(p, "c").is_some_and(|s| s.restart_count > n)
    })
    .await;
    let second = t0.elapsed();
    assert!(
        second - first >= Duration::from_secs(9),
        "restarts after the first wait the back-off ({first:?} then {second:?})"
    );
    // The image that cannot be pulled.
    let p = env
        .wait_pod("crash", Duration::from_secs(30), "image pull reason", |p| {
            status_of(p, "nope")
                .and_then(|s| s.state.as_ref())
                .and_then(|s| s.waiting.as_ref())
                .is_some_and(|w| w.reason == "ImagePullBackOff" || w.reason == "ErrImagePull")
        })
        .await;
    assert_eq!(p.status.as_ref().unwrap().phase, "Pending");
    let events: client::Api<proto::k8s::Event> =
        client::Api::namespaced(env.client.clone(), "default");
    let reasons: Vec<String> = events
        .list(&Default::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|e| e.reason)
        .collect();
    for r in ["Created", "Started", "BackOff", "Failed"] {
        assert!(
            reasons.iter().any(|x| x == r),
            "event {r} missing: {reasons:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn liveness_failure_restarts_and_readiness_drives_ready() {
    if !prerequisites("probes") {
        return;
    }
    let env = Env::start("probes").await;
    env.apply(
        r#"
apiVersion: v1
kind: Pod
metadata: {name: probed}
spec:
  nodeName: NODE
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: local/busybox:1
    command: ["sh", "-c", "touch /tmp/alive; trap 'exit 0' TERM; while true; do sleep 1; done"]
    livenessProbe:
      exec: {command: ["test", "-f", "/tmp/alive"]}
      periodSeconds: 1
      failureThreshold: 2
    readinessProbe:
      exec: {command: ["test", "-f", "/tmp/ready"]}
      periodSeconds: 1
"#,
    )
    .await;
    let p = env
        .wait_pod("probed", Duration::from_secs(60), "Running", running)
        .await;
    assert_eq!(
        condition(&p, "Ready"),
        "False",
        "not ready before /tmp/ready exists"
    );
    let id = container_of(&env.node, "probed", "app");
    docker(&["exec", &id, "touch", "/tmp/ready"]);
    env.wait_pod("probed", Duration::from_secs(20), "Ready", |p| {
        condition(p, "Ready") == "True"
    })
    .await;
    docker(&["exec", &id, "rm", "/tmp/ready"]);
    env.wait_pod("probed", Duration::from_secs(20), "not Ready", |p| {
        condition(p, "Ready") == "False"
    })
    .await;
    // Liveness: remove the file, the container is killed and restarted.
    docker(&["exec", &id, "rm", "/tmp/alive"]);
    let p = env
        .wait_pod(
            "probed",
            Duration::from_secs(30),
            "restarted after liveness failure",
            |p| {
                status_of(p, "app").is_some_and(|s| {
                    s.restart_count == 1 && s.state.as_ref().is_some_and(|st| st.running.is_some())
                })
            },
        )
        .await;
    assert_ne!(
        status_of(&p, "app").unwrap().container_id,
        format!("docker://{id}")
    );
    let events: client::Api<proto::k8s::Event> =
        client::Api::namespaced(env.client.clone(), "default");
    let evs = events.list(&Default::default()).await.unwrap().items;
    assert!(
        evs.iter()
            .any(|e| e.reason == "Unhealthy" && e.message.contains("Liveness probe failed")),
        "Unhealthy event"
    );
    assert!(
        evs.iter()
            .any(|e| e.reason == "Killing" && e.message.contains("failed liveness probe")),
        "Killing event"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configmap_volume_updates_in_place() {
    if !prerequisites("configmap") {
        return;
    }
    let env = Env::start("cm").await;
    env.apply(
        r#"
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {greeting: hello}
---
apiVersion: v1
kind: Pod
metadata: {name: reader}
spec:
  nodeName: NODE
  terminationGracePeriodSeconds: 1
  volumes:
  - name: cfg
    configMap: {name: settings}
  - name: scratch
    emptyDir: {}
  containers:
  - name: r
    image: local/busybox:1
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]
    env:
    - name: GREETING
      valueFrom: {configMapKeyRef: {name: settings, key: greeting}}
    volumeMounts:
    - {name: cfg, mountPath: /etc/cfg}
    - {name: scratch, mountPath: /scratch}
"#,
    )
    .await;
    env.wait_pod("reader", Duration::from_secs(60), "Running", running)
        .await;
    let id = container_of(&env.node, "reader", "r");
    assert_eq!(docker(&["exec", &id, "cat", "/etc/cfg/greeting"]), "hello");
    assert!(docker(&["exec", &id, "env"]).contains("GREETING=hello"));
    docker(&["exec", &id, "touch", "/scratch/x"]);
    let cms: client::Api<ConfigMap> = client::Api::namespaced(env.client.clone(), "default");
    let mut cm = cms.get("settings").await.unwrap();
    cm.data.insert("greeting".into(), "bonjour".into());
    cms.update(&cm).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let got = docker(&["exec", &id, "cat", "/etc/cfg/greeting"]);
        if got == "bonjour" {
            break;
        }
        assert!(Instant::now() < deadline, "the file still reads {got:?}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(
        container_of(&env.node, "reader", "r"),
        id,
        "updated without a restart"
    );
    // The emptyDir goes with the pod.
    let uid = env.pods().get("reader").await.unwrap().meta().uid.clone();
    let pod_dir = env.dir.path().join("root").join("pods").join(&uid);
    assert!(pod_dir.join("volumes/empty-dir/scratch/x").exists());
    env.pods()
        .delete("reader", &Default::default())
        .await
        .unwrap();
    env.wait_gone("reader", Duration::from_secs(30)).await;
    assert!(!pod_dir.exists(), "the pod's directory is removed with it");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_deletion_honors_the_grace_period_and_runs_pre_stop() {
    if !prerequisites("graceful") {
        return;
    }
    let env = Env::start("grace").await;
    let marker_dir = env.dir.path().join("hostdir");
    std::fs::create_dir_all(&marker_dir).unwrap();
    env.apply(&format!(
        r#"
apiVersion: v1
kind: Pod
metadata: {{name: stubborn}}
spec:
  nodeName: NODE
  terminationGracePeriodSeconds: 4
  volumes:
  - name: host
    hostPath: {{path: {}}}
  containers:
  - name: s
    image: local/busybox:1
    command: ["sh", "-c", "trap 'echo got TERM' TERM; while true; do sleep 1; done"]
    volumeMounts: [{{name: host, mountPath: /host}}]
    lifecycle:
      preStop:
        exec: {{command: ["sh", "-c", "echo prestop > /host/prestop"]}}
"#,
        marker_dir.display()
    ))
    .await;
    env.wait_pod("stubborn", Duration::from_secs(60), "Running", running)
        .await;
    let start = Instant::now();
    let after = env
        .pods()
        .delete("stubborn", &Default::default())
        .await
        .unwrap();
    assert!(
        !after.meta().deletion_timestamp.is_empty(),
        "graceful: the pod stays while it terminates"
    );
    env.wait_gone("stubborn", Duration::from_secs(30)).await;
    let took = start.elapsed();
    assert!(
        took >= Duration::from_secs(4),
        "SIGTERM was ignored, so the kubelet waits the grace period (took {took:?})"
    );
    assert!(
        took < Duration::from_secs(15),
        "then SIGKILL (took {took:?})"
    );
    assert_eq!(
        std::fs::read_to_string(marker_dir.join("prestop"))
            .unwrap_or_default()
            .trim(),
        "prestop"
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while !node_containers(&env.node).is_empty() {
        assert!(Instant::now() < deadline, "containers left after deletion");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubelet_sigkill_and_restart_restarts_no_container_and_removes_orphans() {
    if !prerequisites("restart") {
        return;
    }
    let mut env = Env::start("restart").await;
    env.apply(WEB_POD).await;
    env.apply(&WEB_POD.replace("name: web}", "name: doomed}"))
        .await;
    env.wait_pod("web", Duration::from_secs(60), "Running", running)
        .await;
    env.wait_pod("doomed", Duration::from_secs(60), "Running", running)
        .await;
    let before: Vec<String> = {
        let mut v = node_containers(&env.node);
        v.sort();
        v
    };
    let started_at = docker(&[
        "inspect",
        "--format",
        "{{.State.StartedAt}}",
        &container_of(&env.node, "web", "web"),
    ]);
    env.kubelet.as_mut().unwrap().kill();
    // While the kubelet is down, one pod is force-deleted: its containers become orphans.
    env.pods()
        .delete(
            "doomed",
            &client::DeleteParams {
                grace_period_seconds: Some(0),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    env.wait_gone("doomed", Duration::from_secs(10)).await;
    env.start_kubelet();
    let p = env
        .wait_pod(
            "web",
            Duration::from_secs(30),
            "Running and Ready again",
            |p| running(p) && condition(p, "Ready") == "True",
        )
        .await;
    // Orphans go within the sweep interval.
    let deadline = Instant::now() + Duration::from_secs(30);
    while !container_of(&env.node, "doomed", "web").is_empty() {
        assert!(
            Instant::now() < deadline,
            "the orphaned pod's containers were not removed; log:\n{}",
            env.kubelet_log()
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    // A wrongly restarted container would show within a few of the restarted kubelet's
    // syncs; the counts are read from the pod as it is now, not from the copy fetched
    // before this wait.
    assert!(!p.status.as_ref().unwrap().container_statuses.is_empty());
    tokio::time::sleep(Duration::from_secs(3)).await;
    let now = env.pods().get("web").await.unwrap();
    let statuses = &now.status.as_ref().unwrap().container_statuses;
    assert_eq!(statuses.len(), 2, "web and sidecar: {statuses:?}");
    for s in statuses {
        assert_eq!(s.restart_count, 0, "{} restarted", s.name);
    }
    let web_ids: Vec<String> = ["POD", "web", "sidecar"]
        .iter()
        .map(|c| container_of(&env.node, "web", c))
        .collect();
    for id in &web_ids {
        assert!(
            before.iter().any(|b| b == id),
            "container {id} is not one of the original ones: {before:?}"
        );
    }
    assert_eq!(
        docker(&[
            "inspect",
            "--format",
            "{{.State.StartedAt}}",
            &container_of(&env.node, "web", "web")
        ]),
        started_at,
        "the container was adopted, not restarted"
    );
    // One node object, not two.
    let nodes: client::Api<proto::k8s::Node> = client::Api::all(env.client.clone());
    let n = nodes
        .list(&Default::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|n| n.meta().name == env.node)
        .count();
    assert_eq!(n, 1);
    let node = nodes.get(&env.node).await.unwrap();
    let st = node.status.unwrap();
    assert_eq!(st.capacity.get("pods").map(String::as_str), Some("110"));
    assert!(
        st.conditions
            .iter()
            .any(|c| c.r#type == "Ready" && c.status == "True")
    );
    let leases: client::Api<proto::k8s::Lease> =
        client::Api::namespaced(env.client.clone(), "kube-node-lease");
    let lease = leases.get(&env.node).await.unwrap();
    assert_eq!(lease.spec.unwrap().holder_identity, env.node);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pod_cidr_assigned_after_start_and_images_loaded_from_image_dir() {
    if !prerequisites("late_cidr") {
        return;
    }
    // An image only the --image-dir tarball has.
    let image = format!("it-imgdir-{}:1", std::process::id());
    let images = tempfile::tempdir().unwrap();
    docker(&["tag", "local/busybox:1", &image]);
    let tar = images.path().join("img.tar");
    docker(&["save", "-o", tar.to_str().unwrap(), &image]);
    docker(&["rmi", &image]);
    assert!(tar.exists(), "docker save wrote the tarball");
    struct Untag(String);
    impl Drop for Untag {
        fn drop(&mut self) {
            docker(&["rmi", &self.0]);
        }
    }
    let _untag = Untag(image.clone());
    let extra = vec![
        "--image-dir".to_string(),
        images.path().display().to_string(),
    ];
    let env = Env::start_with("latecidr", false, &extra).await;
    let nodes: client::Api<proto::k8s::Node> = client::Api::all(env.client.clone());
    let deadline = Instant::now() + Duration::from_secs(30);
    let node = loop {
        if let Some(n) = nodes.get_opt(&env.node).await.unwrap() {
            break n;
        }
        assert!(
            Instant::now() < deadline,
            "node not registered; log:\n{}",
            env.kubelet_log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(
        docker(&["image", "inspect", "--format", "{{.Id}}", &image]).starts_with("sha256:"),
        "the tarball was loaded at start"
    );
    // The controller-manager's job, done by hand: assign the podCIDR.
    nodes
        .patch_merge(
            &node.meta().name,
            &serde_json::json!({"spec": {"podCIDR": env.cidr}}),
        )
        .await
        .unwrap();
    // The bridge appears once the kubelet sees it.
    let deadline = Instant::now() + Duration::from_secs(20);
    while !Command::new("ip")
        .args(["link", "show", &env.bridge])
        .output()
        .unwrap()
        .status
        .success()
    {
        assert!(
            Instant::now() < deadline,
            "no bridge after spec.podCIDR was set; log:\n{}",
            env.kubelet_log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    env.apply(&format!(
        r#"
apiVersion: v1
kind: Pod
metadata: {{name: late}}
spec:
  nodeName: NODE
  terminationGracePeriodSeconds: 0
  containers:
  - name: c
    image: {image}
    imagePullPolicy: Never
    command: ["sleep", "3600"]
"#
    ))
    .await;
    let p = env
        .wait_pod("late", Duration::from_secs(60), "Running", running)
        .await;
    let ip = p.status.as_ref().unwrap().pod_ip.clone();
    assert!(
        in_cidr(&ip, &env.cidr),
        "pod IP {ip} from the assigned podCIDR {}",
        env.cidr
    );
}

/// Two nodes as network namespaces on a test bridge, each with its own kubelet, pod bridge
/// and podCIDR; the apiserver listens on the test bridge's address. Everything here is
/// removed on drop.
struct TwoNodes {
    netns: Vec<String>,
    host_veths: Vec<String>,
    test_bridge: String,
    rules: Vec<Vec<String>>,
    nodes: Vec<String>,
    kubelets: Vec<Process>,
}

impl Drop for TwoNodes {
    fn drop(&mut self) {
        for k in &mut self.kubelets {
            k.kill();
        }
        for n in &self.nodes {
            let ids = node_containers(n);
            if !ids.is_empty() {
                let mut args = vec!["rm", "-f", "-v"];
                args.extend(ids.iter().map(String::as_str));
                docker(&args);
            }
        }
        for ns in &self.netns {
            let _ = Command::new("ip").args(["netns", "del", ns]).output();
        }
        for v in &self.host_veths {
            let _ = Command::new("ip").args(["link", "del", v]).output();
        }
        let _ = Command::new("ip")
            .args(["link", "del", &self.test_bridge])
            .output();
        for r in &self.rules {
            let mut args = vec!["-w".to_string(), "-D".to_string()];
            args.extend(r.iter().cloned());
            let _ = Command::new("iptables").args(&args).output();
        }
    }
}

fn sh(args: &[&str]) {
    let out = Command::new(args[0])
        .args(&args[1..])
        .output()
        .expect("run command");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pods_on_two_nodes_reach_each_other_through_node_routes() {
    if !prerequisites("two_nodes") {
        return;
    }
    let pid = std::process::id();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let h = (pid ^ nanos).wrapping_mul(0x9e37_79b1);
    let tag = format!("{:06x}", h & 0xff_ffff);
    let net = format!("10.{}.{}", 240 + (h >> 24) % 10, (h >> 16) % 256);
    let mut topo = TwoNodes {
        netns: vec![],
        host_veths: vec![],
        test_bridge: format!("tb{tag}"),
        rules: vec![],
        nodes: vec![],
        kubelets: vec![],
    };
    sh(&["ip", "link", "add", &topo.test_bridge, "type", "bridge"]);
    sh(&[
        "ip",
        "addr",
        "add",
        &format!("{net}.1/24"),
        "dev",
        &topo.test_bridge,
    ]);
    sh(&["ip", "link", "set", &topo.test_bridge, "up"]);
    for dir in ["-i", "-o"] {
        let rule: Vec<String> = ["FORWARD", dir, &topo.test_bridge, "-j", "ACCEPT"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let mut args = vec!["iptables".to_string(), "-w".to_string(), "-I".to_string()];
        args.extend(rule.iter().cloned());
        sh(&args.iter().map(String::as_str).collect::<Vec<_>>());
        topo.rules.push(rule);
    }
    // The apiserver on the test bridge, reachable from the node namespaces.
    let dir = tempfile::Builder::new()
        .prefix("it-kubelet-two-")
        .tempdir()
        .unwrap();
    let port = std::net::TcpListener::bind(format!("{net}.1:0"))
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr: std::net::SocketAddr = format!("{net}.1:{port}").parse().unwrap();
    // Off loopback the apiserver serves TLS only: the kubelets get node kubeconfigs.
    let url = format!("https://{addr}");
    let data = dir.path().join("data");
    let mut api = spawn_tls_apiserver(&data, addr, dir.path().join("apiserver.log"));
    let client = wait_ready_tls(&data, &mut api, Duration::from_secs(30)).await;
    let mut cidrs = vec![];
    for (i, side) in ["a", "b"].iter().enumerate() {
        let ns = format!("itn{tag}{side}");
        let host_veth = format!("tv{tag}{side}");
        let node_ip = format!("{net}.{}", i + 2);
        let cidr = format!(
            "10.{}.{}.0/24",
            200 + (h >> 8) % 40,
            (h % 128) as usize * 2 + i
        );
        sh(&["ip", "netns", "add", &ns]);
        topo.netns.push(ns.clone());
        sh(&[
            "ip", "link", "add", &host_veth, "type", "veth", "peer", "name", "eth0", "netns", &ns,
        ]);
        topo.host_veths.push(host_veth.clone());
        sh(&[
            "ip",
            "link",
            "set",
            &host_veth,
            "master",
            &topo.test_bridge,
            "up",
        ]);
        sh(&[
            "ip",
            "-n",
            &ns,
            "addr",
            "add",
            &format!("{node_ip}/24"),
            "dev",
            "eth0",
        ]);
        sh(&["ip", "-n", &ns, "link", "set", "eth0", "up"]);
        sh(&["ip", "-n", &ns, "link", "set", "lo", "up"]);
        let node = format!("it-two-{tag}-{side}");
        topo.nodes.push(node.clone());
        let log = dir.path().join(format!("kubelet-{side}.log"));
        let kubeconfig = dir.path().join(format!("kubelet-{side}.kubeconfig"));
        node_kubeconfig(&data, &url, &node, &kubeconfig);
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &ns])
            .arg(binary("kubelet"))
            .arg("--kubeconfig")
            .arg(&kubeconfig)
            .args(["--node-name", &node, "--node-ip", &node_ip])
            .arg("--root-dir")
            .arg(dir.path().join(format!("root-{side}")))
            .args(["--pod-cidr", &cidr, "--bridge-name", &format!("kp{tag}")])
            // Routes go only to podCIDRs inside the cluster CIDR.
            .args([
                "--cluster-cidr",
                &format!("10.{}.0.0/16", 200 + (h >> 8) % 40),
            ])
            .args(["--container-prefix", &format!("it{pid}"), "--port", "0"])
            .env("RUST_LOG", "info");
        topo.kubelets.push(Process::spawn("kubelet", &mut cmd, log));
        cidrs.push(cidr);
    }
    let logs = |topo: &TwoNodes| {
        topo.kubelets
            .iter()
            .map(|k| k.log_text())
            .collect::<Vec<_>>()
            .join("\n----\n")
    };
    let pods: client::Api<Pod> = client::Api::namespaced(client.clone(), "default");
    let apply = |yaml: String| {
        let client = client.clone();
        async move {
            for obj in proto::manifest::load_documents(&yaml).expect("manifest") {
                client.create(obj).await.expect("create");
            }
        }
    };
    apply(WEB_POD.replace("NODE", &topo.nodes[0])).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    let web = loop {
        if let Some(p) = pods.get_opt("web").await.unwrap()
            && running(&p)
            && condition(&p, "Ready") == "True"
        {
            break p;
        }
        assert!(
            Instant::now() < deadline,
            "web not ready on node a; logs:\n{}",
            logs(&topo)
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let ip = web.status.as_ref().unwrap().pod_ip.clone();
    assert!(in_cidr(&ip, &cidrs[0]), "{ip} in {}", cidrs[0]);
    // Node b routes node a's podCIDR via node a's IP (from the Node objects).
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let out = Command::new("ip")
            .args(["-n", &topo.netns[1], "route"])
            .output()
            .unwrap();
        let routes = String::from_utf8_lossy(&out.stdout).into_owned();
        if routes.contains(&format!("{} via {net}.2", cidrs[0])) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "node b has no route to node a's pods:\n{routes}\nlogs:\n{}",
            logs(&topo)
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    apply(format!(
        r#"
apiVersion: v1
kind: Pod
metadata: {{name: far}}
spec:
  nodeName: {}
  restartPolicy: OnFailure
  containers:
  - name: get
    image: local/busybox:1
    command: ["sh", "-c", "printf 'GET /index.html HTTP/1.0\r\n\r\n' | nc {ip} 8080 | grep -q hello-from-web"]
"#,
        topo.nodes[1]
    ))
    .await;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let p = pods.get("far").await.unwrap();
        let phase = p
            .status
            .as_ref()
            .map(|s| s.phase.clone())
            .unwrap_or_default();
        if phase == "Succeeded" {
            let far_ip = p.status.as_ref().unwrap().pod_ip.clone();
            assert!(in_cidr(&far_ip, &cidrs[1]), "{far_ip} in {}", cidrs[1]);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the pod on node b never reached {ip} on node a; pod: {:?}\nlogs:\n{}",
            p.status,
            logs(&topo)
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    drop(topo);
    drop(api);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctl_logs_exec_and_top_through_the_apiserver() {
    if !prerequisites("ctl_logs") {
        return;
    }
    let env = Env::start("ctl").await;
    env.apply(WEB_POD).await;
    env.wait_pod("web", Duration::from_secs(60), "Running and Ready", |p| {
        running(p) && condition(p, "Ready") == "True"
    })
    .await;
    let run = |args: &[&str]| {
        let out = integration_tests::ctl(&env.url, args, None);
        (
            out.status.success(),
            integration_tests::text(&out.stdout),
            integration_tests::text(&out.stderr),
        )
    };
    // The sidecar prints the page it fetches over localhost once a second.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (ok, out, err) = run(&["logs", "web", "-c", "sidecar", "--tail", "3"]);
        assert!(ok, "ctl logs failed: {err}");
        if out.contains("hello-from-web") {
            assert!(out.lines().count() <= 3, "--tail 3: {out:?}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no page in the sidecar's log: {out:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // Without -c, kubectl 1.24+ reads the first container and says so on stderr.
    let (ok, _, err) = run(&["logs", "web"]);
    assert!(
        ok && err.contains(r#"Defaulted container "web" out of: web, sidecar"#),
        "{err}"
    );
    let (ok, out, err) = run(&["exec", "web", "-c", "web", "--", "cat", "/www/index.html"]);
    assert!(ok, "{err}");
    assert_eq!(out.trim(), "hello-from-web");
    let (ok, _, err) = run(&["exec", "web", "-c", "web", "--", "sh", "-c", "exit 3"]);
    assert!(
        !ok && err.contains("command terminated with exit code 3"),
        "{err}"
    );
    let (ok, _, err) = run(&["exec", "nosuchpod", "--", "true"]);
    assert!(!ok && err.contains("nosuchpod"), "{err}");
    // top reads metrics.k8s.io, which has a pod's usage once the apiserver scraped its
    // kubelet twice (--metric-resolution 3s here); until then kubectl's "not available yet".
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (ok, out, err) = run(&["top", "pods"]);
        if ok && out.contains("web") && out.contains("Mi") {
            break;
        }
        assert!(
            err.contains("metrics not available yet") && Instant::now() < deadline,
            "ctl top pods: {out}{err}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let (ok, out, err) = run(&["top", "nodes"]);
    assert!(ok, "{err}");
    assert!(out.contains(&env.node) && out.contains('%'), "{out}");
}

/// `ctl run -i --rm`: the pod runs, ctl attaches to its main process (the kubelet's
/// ExecStream with attach) and feeds it stdin, whose end the process reads (stdinOnce),
/// returns the container's exit code and deletes the pod.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctl_run_attaches_returns_the_exit_code_and_removes_the_pod() {
    if !prerequisites("ctl_run") {
        return;
    }
    let env = Env::start("ctlrun").await;
    // No scheduler here: the pod is bound to the node through --overrides.
    let overrides = format!(r#"{{"spec": {{"nodeName": "{}"}}}}"#, env.node);
    let out = integration_tests::ctl(
        &env.url,
        &[
            "run",
            "once",
            "--image=local/busybox:1",
            "--image-pull-policy=Never",
            "--restart=Never",
            "--rm",
            "-i",
            "--overrides",
            &overrides,
            "--command",
            "--",
            "sh",
            "-c",
            "read x; echo got $x; exit 3",
        ],
        Some("line\n"),
    );
    let (stdout, stderr) = (
        integration_tests::text(&out.stdout),
        integration_tests::text(&out.stderr),
    );
    let all = format!(
        "stdout:\n{stdout}\nstderr:\n{stderr}\nkubelet log:\n{}",
        env.kubelet_log()
    );
    assert_eq!(out.status.code(), Some(3), "{all}");
    assert!(stdout.contains("got line"), "{all}");
    assert!(stdout.contains("pod \"once\" deleted"), "{all}");
    assert!(
        stderr.contains("pod default/once terminated (Error)"),
        "{all}"
    );
    env.wait_gone("once", Duration::from_secs(60)).await;
}
