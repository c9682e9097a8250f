//! A whole cluster for end-to-end tests: the control plane (apiserver, controller-manager,
//! scheduler) as processes on the host, and N nodes, each a network namespace made here with
//! its own address on a test bridge and its own kubelet and kube-proxy process. Pods run in
//! the host's Docker engine, wired by each node's kubelet into its namespace.
//!
//! Everything carries the run's tag (bridge, namespaces, veths, containers, image tags, temp
//! dir) and is removed by `Drop`, also when the test panics; then the tail of every log is
//! printed so a CI failure explains itself. No packet leaves the machine: nodes have no
//! default route, the service range is on-link on the test bridge (unanswered ARP), and the
//! host only forwards bridge-to-bridge traffic of the test bridge.
//!
//! The cluster runs secure, as `scripts/cluster-up.sh` and kubeadm do: the apiserver serves
//! TLS on the test bridge (`--advertise-address`) and writes the cluster PKI and one
//! kubeconfig per client into its data dir; the controller-manager, scheduler, kube-proxy and
//! cluster DNS connect with their own kubeconfig; kubelets join with a bootstrap token made
//! through the API and the CA's hash (kubeadm's `--discovery-token-ca-cert-hash`), so their
//! client certificates come from the CSR flow; the test's client and `ctl` are the admin.

use crate::{Process, binary, text};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Label the kubelet puts on every container it makes: the node's name.
pub const NODE_LABEL: &str = "io.kubelet.node";

/// Ports of the daemons that run in a node's network namespace (each node has its own, so
/// Kubernetes' defaults do not collide): the kubelet's API, kube-proxy's metrics and
/// cluster-dns' metrics (CoreDNS' prometheus plugin port).
pub const KUBELET_PORT: u16 = 10250;
pub const KUBE_PROXY_METRICS_PORT: u16 = 10249;
pub const DNS_METRICS_PORT: u16 = 9153;

/// What differs between scenarios; the defaults are short versions of Kubernetes' timings.
#[derive(Debug, Clone)]
pub struct Options {
    pub nodes: usize,
    /// Controller-manager `--node-monitor-grace-period`.
    pub node_monitor_grace: String,
    /// Kubelet `--node-lease-duration-seconds` (renewed every quarter of it).
    pub node_lease_secs: u32,
    /// Apiserver `--default-{not-ready,unreachable}-toleration-seconds`.
    pub default_toleration_secs: u32,
    /// Nodes whose kube-proxy runs `--mode nftables` (the others: iptables, the default).
    pub nftables_nodes: Vec<usize>,
    /// `--tracing-endpoint` for every daemon (an OTLP collector on the host's loopback;
    /// daemons in a node's namespace are given the bridge address instead).
    pub tracing_endpoint: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            nodes: 3,
            node_monitor_grace: "8s".into(),
            node_lease_secs: 4,
            default_toleration_secs: 300,
            // Both proxy backends serve every scenario: node 1 programs nftables.
            nftables_nodes: vec![1],
            tracing_endpoint: None,
        }
    }
}

/// The control-plane daemons and per-node daemons a test can kill and restart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Daemon {
    Apiserver,
    ControllerManager,
    Scheduler,
    Kubelet(usize),
    KubeProxy(usize),
    /// `cluster-dns`, run on node 0 (inside its namespace) and registered as
    /// `kube-system/kube-dns` at the service range's `.10`.
    Dns,
}

pub struct Node {
    pub name: String,
    pub netns: String,
    pub ip: String,
    host_veth: String,
    kubelet: Option<Process>,
    proxy: Option<Process>,
}

pub struct Cluster {
    pub tag: String,
    /// `https://<bridge address>:<port>`: the apiserver's advertised URL.
    pub url: String,
    /// The admin (`kubernetes-admin`, group `system:masters`), from `admin.kubeconfig`.
    pub client: client::Client,
    /// The bootstrap token (`id.secret`) the kubelets joined with.
    pub join_token: String,
    /// `sha256:<hex>` of the cluster CA's public key: what a joining kubelet pins.
    pub ca_hash: String,
    pub cluster_cidr: String,
    pub service_cidr: String,
    pub nodes: Vec<Node>,
    pub opts: Options,
    addr: SocketAddr,
    /// The scheduler's and controller-manager's `--metrics-bind-address`: free loopback
    /// ports picked at start (several clusters may run at once on the host), kept across
    /// restarts.
    scheduler_metrics: SocketAddr,
    controller_manager_metrics: SocketAddr,
    bridge: String,
    fwd_rule: Option<Vec<String>>,
    dir: tempfile::TempDir,
    apiserver: Option<Process>,
    controller_manager: Option<Process>,
    scheduler: Option<Process>,
    dns: Option<Process>,
    /// Every process ever started, for the logs printed on failure.
    logs: Vec<(String, PathBuf)>,
    starts: u32,
    images: Vec<String>,
}

/// Two distinct free loopback addresses (both held while the second is picked).
fn free_loopback_addrs() -> [SocketAddr; 2] {
    let bind = || std::net::TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    let (a, b) = (bind(), bind());
    [a, b].map(|l| l.local_addr().expect("local address"))
}

/// Whether this machine can run a cluster (Docker, busybox-static, root, iproute2): see
/// [`testkit::require`], which fails under `CI=true` instead of skipping.
pub fn prerequisites(test: &str) -> bool {
    use testkit::Prereq;
    testkit::require(
        test,
        &[
            Prereq::Docker,
            Prereq::Busybox,
            Prereq::Root,
            Prereq::Tool("ip"),
        ],
    )
}

/// Runs a command that must succeed (setup steps); panics with its stderr.
pub fn sh(args: &[&str]) -> String {
    let out = Command::new(args[0])
        .args(&args[1..])
        .output()
        .unwrap_or_else(|e| panic!("{args:?}: {e}"));
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        text(&out.stderr).trim()
    );
    text(&out.stdout)
}

pub fn docker(args: &[&str]) -> Output {
    Command::new("docker")
        .args(args)
        .output()
        .expect("run docker")
}

fn run_tag() -> u32 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    (std::process::id() ^ nanos.rotate_left(7)).wrapping_mul(0x9e37_79b1)
}

/// Where each live run records its pid, so a later run can remove what a run killed by a
/// signal (a CI timeout, a Ctrl-C) left behind: `Drop` never ran for it.
fn runs_dir() -> PathBuf {
    std::env::temp_dir().join("e2e-runs")
}

/// Every daemon of a run carries `E2E_RUN=<tag>` in its environment, so a sweep finds the
/// daemons of a killed run (they outlive it: `ip netns exec` children are not killed with
/// their parent).
const RUN_ENV: &str = "E2E_RUN";

/// Removes everything of a run by its tag (best effort, all names derive from the tag).
fn sweep(tag: &str) {
    let marker = format!("{RUN_ENV}={tag}");
    if let Ok(procs) = std::fs::read_dir("/proc") {
        for p in procs.flatten() {
            let pid = p.file_name().to_string_lossy().into_owned();
            if !pid.bytes().all(|b| b.is_ascii_digit()) {
                continue;
            }
            let environ = std::fs::read(p.path().join("environ")).unwrap_or_default();
            if environ.split(|b| *b == 0).any(|v| v == marker.as_bytes()) {
                let _ = Command::new("kill").args(["-KILL", &pid]).status();
            }
        }
    }
    let ids = docker(&["ps", "-aq", "--filter", &format!("name=e2e{tag}")]);
    let ids: Vec<String> = text(&ids.stdout).lines().map(str::to_string).collect();
    if !ids.is_empty() {
        let mut args = vec!["rm", "-f", "-v"];
        args.extend(ids.iter().map(String::as_str));
        let _ = docker(&args);
    }
    for image in ["busybox", "ctl"] {
        let _ = docker(&["rmi", &format!("local/{image}:e2e{tag}")]);
    }
    let netns = Command::new("ip").args(["netns", "list"]).output();
    for line in netns.map(|o| text(&o.stdout)).unwrap_or_default().lines() {
        let name = line.split_whitespace().next().unwrap_or("");
        if name.starts_with(&format!("e2e{tag}n")) {
            let _ = Command::new("ip").args(["netns", "del", name]).output();
        }
    }
    // A namespace a dead process still held keeps its veth alive: delete them by name.
    let links = Command::new("ip").args(["-o", "link", "show"]).output();
    for line in links.map(|o| text(&o.stdout)).unwrap_or_default().lines() {
        let name = line.split(':').nth(1).unwrap_or("").trim();
        let name = name.split('@').next().unwrap_or("");
        if name.starts_with(&format!("e2ev{tag}")) {
            let _ = Command::new("ip").args(["link", "del", name]).output();
        }
    }
    let bridge = format!("e2eb{tag}");
    let _ = Command::new("ip").args(["link", "del", &bridge]).output();
    if let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with("e2e-") && name.contains(&format!("-{tag}-")) {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
    while Command::new("iptables")
        .args([
            "-w", "-D", "FORWARD", "-i", &bridge, "-o", &bridge, "-j", "ACCEPT",
        ])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
    {}
}

/// Sweeps the runs whose process is gone, then records this one.
fn claim_run(tag: &str) {
    let dir = runs_dir();
    let _ = std::fs::create_dir_all(&dir);
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for e in entries.flatten() {
            let other = e.file_name().to_string_lossy().into_owned();
            let pid = std::fs::read_to_string(e.path()).unwrap_or_default();
            let alive = !pid.trim().is_empty()
                && std::path::Path::new(&format!("/proc/{}", pid.trim())).exists();
            if !alive {
                eprintln!(
                    "e2e: removing what run {other} (pid {}) left behind",
                    pid.trim()
                );
                sweep(&other);
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    let _ = std::fs::write(dir.join(tag), std::process::id().to_string());
}

impl Cluster {
    /// Starts the control plane and `opts.nodes` nodes, and waits until every node is Ready
    /// and has its podCIDR.
    pub async fn start(test: &str, opts: Options) -> Cluster {
        let h = run_tag();
        let tag = format!("{:06x}", h & 0xff_ffff);
        // Three disjoint private ranges per run: node addresses, pods, services.
        let net = format!("10.{}.{}", 230 + (h >> 24) % 10, (h >> 16) % 256);
        let cluster_cidr = format!("10.{}.0.0/16", 100 + (h >> 8) % 50);
        let service_cidr = format!("10.{}.{}.0/24", 160 + (h >> 4) % 40, h % 256);
        let dir = tempfile::Builder::new()
            .prefix(&format!("e2e-{test}-{tag}-"))
            .tempdir()
            .expect("temp dir");
        let bridge = format!("e2eb{tag}");
        claim_run(&tag);
        let [scheduler_metrics, controller_manager_metrics] = free_loopback_addrs();
        // The struct exists before anything is made, so Drop removes whatever got made.
        let mut c = Cluster {
            tag: tag.clone(),
            url: String::new(),
            client: client::Client::lazy("http://127.0.0.1:1").expect("lazy client"),
            join_token: String::new(),
            ca_hash: String::new(),
            cluster_cidr,
            service_cidr,
            nodes: vec![],
            opts: opts.clone(),
            addr: "127.0.0.1:1".parse().expect("addr"),
            scheduler_metrics,
            controller_manager_metrics,
            bridge: bridge.clone(),
            fwd_rule: None,
            dir,
            apiserver: None,
            controller_manager: None,
            scheduler: None,
            dns: None,
            logs: vec![],
            starts: 0,
            images: vec![],
        };
        sh(&["ip", "link", "add", &bridge, "type", "bridge"]);
        sh(&["ip", "addr", "add", &format!("{net}.1/24"), "dev", &bridge]);
        sh(&["ip", "link", "set", &bridge, "up"]);
        // Docker sets the host's FORWARD policy to DROP and br_netfilter sends bridged frames
        // through it: accept node-to-node traffic on the test bridge, and nothing else.
        let rule: Vec<String> = ["FORWARD", "-i", &bridge, "-o", &bridge, "-j", "ACCEPT"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let mut args = vec!["iptables", "-w", "-I"];
        args.extend(rule.iter().map(String::as_str));
        sh(&args);
        c.fwd_rule = Some(rule);

        let port = std::net::TcpListener::bind(format!("{net}.1:0"))
            .and_then(|l| l.local_addr())
            .expect("a free port on the test bridge")
            .port();
        c.addr = format!("{net}.1:{port}")
            .parse()
            .expect("apiserver address");
        c.url = format!("https://{}", c.addr);
        c.start_daemon(Daemon::Apiserver);
        c.client = c.wait_apiserver().await;
        c.ca_hash = pki::hash::ca_cert_hash(&c.ca_pem()).expect("the hash of the cluster CA");
        c.join_token = c
            .create_bootstrap_token(Duration::from_secs(2 * 3600))
            .await;
        c.start_daemon(Daemon::ControllerManager);
        c.start_daemon(Daemon::Scheduler);

        for i in 0..opts.nodes {
            let ns = format!("e2e{tag}n{i}");
            let host_veth = format!("e2ev{tag}{i}");
            let ip = format!("{net}.{}", i + 2);
            sh(&["ip", "netns", "add", &ns]);
            c.nodes.push(Node {
                name: format!("e2e-{tag}-node{i}"),
                netns: ns.clone(),
                ip: ip.clone(),
                host_veth: host_veth.clone(),
                kubelet: None,
                proxy: None,
            });
            sh(&[
                "ip", "link", "add", &host_veth, "type", "veth", "peer", "name", "eth0", "netns",
                &ns,
            ]);
            sh(&["ip", "link", "set", &host_veth, "master", &bridge, "up"]);
            sh(&[
                "ip",
                "-n",
                &ns,
                "addr",
                "add",
                &format!("{ip}/24"),
                "dev",
                "eth0",
            ]);
            sh(&["ip", "-n", &ns, "link", "set", "eth0", "up"]);
            sh(&["ip", "-n", &ns, "link", "set", "lo", "up"]);
            // Clients on the node itself reach service IPs through OUTPUT DNAT, which runs
            // after routing: give the service range an on-link route (no gateway), so what
            // no rule catches dies unanswered on the test bridge.
            sh(&[
                "ip",
                "-n",
                &ns,
                "route",
                "add",
                &c.service_cidr,
                "dev",
                "eth0",
            ]);
            // Pods reach the apiserver (on the host, at the bridge address) through the
            // `default/kubernetes` Service: the host has no route to pod addresses, so the
            // node masquerades what its pods send there, as CNI's ipMasq does in Kubernetes.
            // (Only that one address; the rule goes with the namespace.)
            sh(&[
                "ip",
                "netns",
                "exec",
                &ns,
                "iptables",
                "-w",
                "-t",
                "nat",
                "-A",
                "POSTROUTING",
                "-s",
                &c.cluster_cidr,
                "-d",
                &format!("{net}.1/32"),
                "-j",
                "MASQUERADE",
            ]);
            if i == 0 {
                // Before any workload makes a Service, so the DNS Service's IP is free.
                c.start_daemon(Daemon::Dns);
            }
            c.start_daemon(Daemon::Kubelet(i));
            c.start_daemon(Daemon::KubeProxy(i));
        }
        c.wait_nodes_ready(Duration::from_secs(90)).await;
        // Pods need their namespace's `default` ServiceAccount (admission) and the
        // `kube-root-ca.crt` ConfigMap (their token volume): the controller-manager makes
        // both; a scenario's first pod must not race them.
        c.wait_namespace_ready("default").await;
        c
    }

    /// Waits until the controller-manager made `ns`'s `default` ServiceAccount and its
    /// `kube-root-ca.crt` ConfigMap, which every pod of `ns` needs.
    pub async fn wait_namespace_ready(&self, ns: &str) {
        let sas: client::Api<proto::k8s::ServiceAccount> =
            client::Api::namespaced(self.client.clone(), ns);
        let cms: client::Api<proto::k8s::ConfigMap> =
            client::Api::namespaced(self.client.clone(), ns);
        let what = format!("serviceaccount {ns}/default and configmap {ns}/kube-root-ca.crt");
        wait_for(Duration::from_secs(30), &what, async || {
            sas.get_opt("default").await.ok().flatten()?;
            cms.get_opt("kube-root-ca.crt").await.ok().flatten()?;
            Some(())
        })
        .await;
    }

    /// `--tracing-endpoint` when the test collects traces; a daemon in a node's network
    /// namespace reaches the host's collector at the bridge address, not at loopback.
    fn tracing_args(&self, in_node: bool) -> Vec<String> {
        let Some(endpoint) = &self.opts.tracing_endpoint else {
            return Vec::new();
        };
        let endpoint = if in_node {
            endpoint.replace("127.0.0.1", &self.addr.ip().to_string())
        } else {
            endpoint.clone()
        };
        vec!["--tracing-endpoint".to_string(), endpoint]
    }

    /// The log file of a daemon's next start.
    fn next_log(&mut self, name: &str) -> PathBuf {
        self.starts += 1;
        let path = self
            .dir
            .path()
            .join(format!("{:02}-{name}.log", self.starts));
        self.logs.push((name.to_string(), path.clone()));
        path
    }

    /// Starts (or starts again, on the same data) one daemon.
    pub fn start_daemon(&mut self, d: Daemon) {
        let tag = self.tag.clone();
        let data = self.dir.path().to_path_buf();
        let url = self.url.clone();
        match d {
            Daemon::Apiserver => {
                let log = self.next_log("apiserver");
                let secs = self.opts.default_toleration_secs.to_string();
                let p = Process::spawn(
                    "apiserver",
                    Command::new(binary("apiserver"))
                        .arg("--listen")
                        .arg(self.addr.to_string())
                        .args(["--advertise-address", &self.addr.ip().to_string()])
                        .arg("--data-dir")
                        .arg(self.apiserver_dir())
                        .args(["--service-cidr", &self.service_cidr])
                        .args(["--default-not-ready-toleration-seconds", &secs])
                        .args(["--default-unreachable-toleration-seconds", &secs])
                        // As scripts/cluster-up.sh: the scenarios' pods meet Pod Security
                        // baseline, so the e2e suite proves cluster-up's policy admits them.
                        .args(["--pod-security-enforce", "baseline"])
                        .args(["--pod-security-warn", "baseline"])
                        // metrics.k8s.io needs two scrapes for a cpu rate: 3s instead of
                        // 15s so `top` and the HPA have figures a few seconds after start.
                        .args(["--metric-resolution", "3s"])
                        .args(self.tracing_args(false))
                        .env("RUST_LOG", "info")
                        .env(RUN_ENV, &tag),
                    log,
                );
                self.apiserver = Some(p);
            }
            Daemon::ControllerManager => {
                let log = self.next_log("controller-manager");
                let p = Process::spawn(
                    "controller-manager",
                    Command::new(binary("controller-manager"))
                        .arg("--kubeconfig")
                        .arg(self.kubeconfig("controller-manager"))
                        // The CSR signer and the root CA publisher use the cluster CA;
                        // tokens are signed with the key the apiserver verifies with.
                        .arg("--cluster-signing-cert-file")
                        .arg(self.pki_file("ca.crt"))
                        .arg("--cluster-signing-key-file")
                        .arg(self.pki_file("ca.key"))
                        .arg("--root-ca-file")
                        .arg(self.pki_file("ca.crt"))
                        .args(["--cluster-cidr", &self.cluster_cidr])
                        .args(["--node-monitor-grace-period", &self.opts.node_monitor_grace])
                        .args(["--node-monitor-period", "1s"])
                        // A restarted controller-manager is a new identity: it waits out the
                        // old lease, so keep leases short.
                        .args(["--leader-elect-lease-duration", "4s"])
                        .args(["--leader-elect-renew-deadline", "3s"])
                        .args(["--leader-elect-retry-period", "1s"])
                        .args(["--horizontal-pod-autoscaler-sync-period", "2s"])
                        .args(self.tracing_args(false))
                        .arg("--metrics-bind-address")
                        .arg(self.controller_manager_metrics.to_string())
                        .arg("--service-account-private-key-file")
                        .arg(self.pki_file("sa.key"))
                        .env("RUST_LOG", "info")
                        .env(RUN_ENV, &tag),
                    log,
                );
                self.controller_manager = Some(p);
            }
            Daemon::Scheduler => {
                let log = self.next_log("scheduler");
                let p = Process::spawn(
                    "scheduler",
                    Command::new(binary("scheduler"))
                        .args(self.tracing_args(false))
                        .arg("--kubeconfig")
                        .arg(self.kubeconfig("scheduler"))
                        .args(["--leader-elect-lease-duration", "4s"])
                        .args(["--leader-elect-renew-deadline", "3s"])
                        .args(["--leader-elect-retry-period", "1s"])
                        .arg("--metrics-bind-address")
                        .arg(self.scheduler_metrics.to_string())
                        .env("RUST_LOG", "info")
                        .env(RUN_ENV, &tag),
                    log,
                );
                self.scheduler = Some(p);
            }
            Daemon::Kubelet(i) => {
                let log = self.next_log(&format!("kubelet-node{i}"));
                let n = &self.nodes[i];
                // Only the network namespace: `ip netns exec` also makes a private mount
                // namespace, where the tmpfs and subPath mounts the kubelet makes for pods
                // would be invisible to Docker (the kubelet refuses to run them there).
                let mut cmd = Command::new("nsenter");
                cmd.arg(format!("--net=/run/netns/{}", n.netns))
                    .arg(binary("kubelet"))
                    // kubeadm's join: the CA pinned by its hash, a bootstrap token for the
                    // CSR; a restart finds its own kubeconfig under the root dir and reuses it.
                    .args(["--server", &url])
                    .args(["--bootstrap-token", &self.join_token])
                    .args(["--ca-cert-hash", &self.ca_hash])
                    .args(["--node-name", &n.name, "--node-ip", &n.ip])
                    .arg("--root-dir")
                    .arg(data.join(format!("kubelet-node{i}")))
                    .args(["--bridge-name", "cni0"])
                    .args(["--container-prefix", &format!("e2e{}", self.tag)])
                    .args([
                        "--node-lease-duration-seconds",
                        &self.opts.node_lease_secs.to_string(),
                    ])
                    .args(["--node-status-update-frequency", "2s"])
                    .args(["--cluster-dns", &self.dns_ip()])
                    .args(["--cluster-cidr", &self.cluster_cidr])
                    .arg("--seccomp-default")
                    .args(self.tracing_args(true))
                    .env("RUST_LOG", "info")
                    .env(RUN_ENV, &tag);
                let p = Process::spawn("kubelet", &mut cmd, log);
                self.nodes[i].kubelet = Some(p);
            }
            Daemon::Dns => {
                let log = self.next_log("cluster-dns");
                let n = &self.nodes[0];
                let mut cmd = Command::new("ip");
                cmd.args(["netns", "exec", &n.netns])
                    .arg(binary("cluster-dns"))
                    .arg("--kubeconfig")
                    .arg(self.kubeconfig("cluster-dns"))
                    .args(["--advertise-address", &n.ip])
                    .args(["--service-ip", &self.dns_ip()])
                    .args(self.tracing_args(true))
                    .args(["--cluster-cidr", &self.cluster_cidr])
                    .env("RUST_LOG", "info")
                    .env(RUN_ENV, &tag);
                let p = Process::spawn("cluster-dns", &mut cmd, log);
                self.dns = Some(p);
            }
            Daemon::KubeProxy(i) => {
                let log = self.next_log(&format!("kube-proxy-node{i}"));
                let n = &self.nodes[i];
                let mut cmd = Command::new("ip");
                cmd.args(["netns", "exec", &n.netns])
                    .arg(binary("kube-proxy"))
                    .arg("--kubeconfig")
                    .arg(self.kubeconfig("kube-proxy"))
                    .args(["--node-name", &n.name])
                    .args(self.tracing_args(true))
                    .args(["--cluster-cidr", &self.cluster_cidr])
                    // Kubernetes' default (127.0.0.1) is the node's loopback, out of the
                    // host's reach: serve on the node's address so a scraper on the host
                    // finds it.
                    .args([
                        "--metrics-bind-address",
                        &format!("{}:{KUBE_PROXY_METRICS_PORT}", n.ip),
                    ]);
                if self.opts.nftables_nodes.contains(&i) {
                    cmd.args(["--mode", "nftables"]);
                }
                cmd.env("RUST_LOG", "info").env(RUN_ENV, &tag);
                let p = Process::spawn("kube-proxy", &mut cmd, log);
                self.nodes[i].proxy = Some(p);
            }
        }
    }

    /// The apiserver's `--data-dir`: the cluster PKI under `pki/` and the kubeconfigs.
    pub fn apiserver_dir(&self) -> PathBuf {
        self.dir.path().join("apiserver")
    }

    /// A file of the cluster PKI (`ca.crt`, `ca.key`, `sa.key`...), kubeadm's names.
    pub fn pki_file(&self, name: &str) -> PathBuf {
        self.apiserver_dir().join("pki").join(name)
    }

    /// The kubeconfig the apiserver wrote for `who` (`admin`, `controller-manager`,
    /// `scheduler`, `kube-proxy`, `cluster-dns`).
    pub fn kubeconfig(&self, who: &str) -> PathBuf {
        self.apiserver_dir().join(format!("{who}.kubeconfig"))
    }

    /// The cluster CA certificate (PEM).
    pub fn ca_pem(&self) -> String {
        std::fs::read_to_string(self.pki_file("ca.crt")).expect("the cluster CA certificate")
    }

    /// Node `i`'s kubelet `--root-dir`; its client certificate is
    /// `pki/kubelet-client-current.pem` there once it joined.
    pub fn kubelet_root(&self, i: usize) -> PathBuf {
        self.dir.path().join(format!("kubelet-node{i}"))
    }

    /// The apiserver's address on the test bridge.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Where `d` serves `/metrics` (and its health endpoints), reachable from the host: the
    /// apiserver on its API port (HTTPS), the scheduler and controller-manager on their
    /// loopback `--metrics-bind-address` (HTTPS, delegated auth), each kubelet on its API
    /// port at its node's address (HTTPS), kube-proxy at its node's address (HTTP) and
    /// cluster-dns on node 0's address at CoreDNS' port (HTTP).
    pub fn metrics_addr(&self, d: Daemon) -> SocketAddr {
        let at = |ip: &str, port: u16| {
            format!("{ip}:{port}")
                .parse()
                .expect("a node address and port")
        };
        match d {
            Daemon::Apiserver => self.addr,
            Daemon::Scheduler => self.scheduler_metrics,
            Daemon::ControllerManager => self.controller_manager_metrics,
            Daemon::Kubelet(i) => at(&self.nodes[i].ip, KUBELET_PORT),
            Daemon::KubeProxy(i) => at(&self.nodes[i].ip, KUBE_PROXY_METRICS_PORT),
            Daemon::Dns => at(&self.nodes[0].ip, DNS_METRICS_PORT),
        }
    }

    /// A bootstrap token Secret (kube-system, kubeadm's groups) made through the API as the
    /// admin; returns `id.secret`.
    pub async fn create_bootstrap_token(&self, ttl: Duration) -> String {
        let token = proto::bootstrap_token::generate();
        let secret = proto::bootstrap_token::secret_for(
            &token,
            Some(ttl),
            std::time::SystemTime::now(),
            "e2e join",
        );
        let secrets: client::Api<proto::k8s::Secret> =
            client::Api::namespaced(self.client.clone(), "kube-system");
        secrets
            .create(&secret)
            .await
            .unwrap_or_else(|e| panic!("create the bootstrap token Secret: {e}"));
        format!("{}.{}", token.id, token.secret)
    }

    /// This run's temp dir (removed at the end): a place for hostPath volumes.
    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// The cluster DNS Service's IP: `.10` of this run's service range, as Kubernetes'
    /// 10.96.0.10.
    pub fn dns_ip(&self) -> String {
        let net = self.service_cidr.trim_end_matches("0/24");
        format!("{net}10")
    }

    fn slot(&mut self, d: Daemon) -> &mut Option<Process> {
        match d {
            Daemon::Apiserver => &mut self.apiserver,
            Daemon::ControllerManager => &mut self.controller_manager,
            Daemon::Scheduler => &mut self.scheduler,
            Daemon::Kubelet(i) => &mut self.nodes[i].kubelet,
            Daemon::KubeProxy(i) => &mut self.nodes[i].proxy,
            Daemon::Dns => &mut self.dns,
        }
    }

    /// SIGKILL: the daemon gets no chance to clean up.
    pub fn kill(&mut self, d: Daemon) {
        if let Some(mut p) = self.slot(d).take() {
            p.kill();
        }
    }

    /// SIGTERM and wait for a clean exit.
    pub fn stop(&mut self, d: Daemon) -> bool {
        match self.slot(d).take() {
            Some(mut p) => p.terminate(Duration::from_secs(20)),
            None => false,
        }
    }

    pub fn is_running(&mut self, d: Daemon) -> bool {
        self.slot(d).as_mut().is_some_and(Process::is_running)
    }

    /// A fresh admin client once the apiserver answers again (after the soak's kills, the
    /// old one may hold a connection to a dead process).
    pub async fn reconnect(&mut self) {
        self.client = self.wait_apiserver().await;
    }

    /// The pid of a started daemon (the soak reads its memory from `/proc/PID/status`).
    pub fn pid(&mut self, d: Daemon) -> Option<u32> {
        self.slot(d).as_ref().map(Process::pid).filter(|p| *p != 0)
    }

    /// Every daemon of this cluster: the control plane, cluster DNS, and each node's
    /// kubelet and kube-proxy.
    pub fn daemons(&self) -> Vec<Daemon> {
        let mut all = vec![
            Daemon::Apiserver,
            Daemon::ControllerManager,
            Daemon::Scheduler,
            Daemon::Dns,
        ];
        for i in 0..self.nodes.len() {
            all.push(Daemon::Kubelet(i));
            all.push(Daemon::KubeProxy(i));
        }
        all
    }

    /// Cuts a node off the test bridge (its link goes down); its daemons keep running.
    pub fn partition(&self, i: usize) {
        sh(&["ip", "link", "set", &self.nodes[i].host_veth, "down"]);
    }

    pub fn heal(&self, i: usize) {
        sh(&["ip", "link", "set", &self.nodes[i].host_veth, "up"]);
    }

    /// Runs a command inside node `i`'s network namespace (a client on that node).
    pub fn node_exec(&self, i: usize, args: &[&str]) -> Output {
        Command::new("ip")
            .args(["netns", "exec", &self.nodes[i].netns])
            .args(args)
            .output()
            .expect("ip netns exec")
    }

    /// `ctl --kubeconfig admin.kubeconfig args...`, with `stdin` fed when given.
    pub fn ctl(&self, args: &[&str], stdin: Option<&str>) -> Output {
        crate::ctl_kubeconfig(&self.kubeconfig("admin"), args, stdin)
    }

    /// `ctl` that must succeed; returns its stdout.
    pub fn ctl_ok(&self, args: &[&str]) -> String {
        let out = self.ctl(args, None);
        assert!(
            out.status.success(),
            "ctl {args:?} failed: {}",
            text(&out.stderr).trim()
        );
        text(&out.stdout)
    }

    /// `ctl apply -f -` of a manifest.
    pub fn apply(&self, yaml: &str) -> String {
        let out = self.ctl(&["apply", "-f", "-"], Some(yaml));
        assert!(
            out.status.success(),
            "ctl apply failed: {}\n{yaml}",
            text(&out.stderr).trim()
        );
        text(&out.stdout)
    }

    /// A Docker tag of `local/busybox:1` owned by this run (removed on drop): a second
    /// "version" of the image for rolling updates.
    pub fn tag_image(&mut self, name: &str) -> String {
        let image = format!("local/{name}:e2e{}", self.tag);
        sh(&["docker", "tag", "local/busybox:1", &image]);
        self.images.push(image.clone());
        image
    }

    /// An image owned by this run (removed on drop) with busybox and `ctl` at `/bin/ctl`:
    /// the rootfs holds the static busybox, the ctl binary and the shared libraries `ldd`
    /// lists for it at their host paths, imported with `docker import` (no registry here).
    /// In a pod, `ctl` finds the apiserver with the in-cluster config (the `default/kubernetes`
    /// Service's env and the mounted ServiceAccount token and CA).
    pub fn ctl_image(&mut self) -> String {
        let image = format!("local/ctl:e2e{}", self.tag);
        let root = self.dir.path().join("ctl-image");
        for dir in ["bin", "etc", "tmp", "proc", "sys", "dev", "root", "var"] {
            std::fs::create_dir_all(root.join(dir)).expect("image rootfs dir");
        }
        let copy = |from: &Path, to: &Path| {
            if let Some(parent) = to.parent() {
                std::fs::create_dir_all(parent).expect("image rootfs dir");
            }
            // fs::copy follows symlinks: the libraries land as regular files.
            std::fs::copy(from, to)
                .unwrap_or_else(|e| panic!("copy {} into the image: {e}", from.display()));
        };
        copy(Path::new("/bin/busybox"), &root.join("bin/busybox"));
        for applet in ["sh", "cat", "ls", "sleep", "env", "echo", "id"] {
            std::os::unix::fs::symlink("busybox", root.join("bin").join(applet))
                .expect("applet link");
        }
        let ctl = binary("ctl");
        copy(&ctl, &root.join("bin/ctl"));
        for lib in shared_libraries(&ctl) {
            let inside = root.join(lib.strip_prefix("/").unwrap_or(&lib));
            copy(&lib, &inside);
        }
        std::fs::write(
            root.join("etc/passwd"),
            "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n",
        )
        .expect("etc/passwd");
        let tarball = self.dir.path().join("ctl-image.tar");
        sh(&[
            "tar",
            "-C",
            &root.to_string_lossy(),
            "-cf",
            &tarball.to_string_lossy(),
            ".",
        ]);
        sh(&["docker", "import", &tarball.to_string_lossy(), &image]);
        self.images.push(image.clone());
        image
    }

    /// Waits until the apiserver wrote `admin.kubeconfig` and answers the admin through TLS.
    async fn wait_apiserver(&mut self) -> client::Client {
        let deadline = Instant::now() + Duration::from_secs(30);
        let admin = self.kubeconfig("admin");
        loop {
            if let Some(c) = admin_client(&admin).await
                && c.get("namespaces", "", "default").await.is_ok()
            {
                return c;
            }
            let running = self.is_running(Daemon::Apiserver);
            assert!(running, "the apiserver exited at start");
            assert!(
                Instant::now() < deadline,
                "the apiserver is not ready in 30s"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Restarts the apiserver on its data and waits until it answers.
    pub async fn restart_apiserver(&mut self) {
        self.start_daemon(Daemon::Apiserver);
        self.client = self.wait_apiserver().await;
    }

    /// Waits until every node is Ready with a podCIDR.
    pub async fn wait_nodes_ready(&self, timeout: Duration) {
        let nodes: client::Api<proto::k8s::Node> = client::Api::all(self.client.clone());
        let names: Vec<String> = self.nodes.iter().map(|n| n.name.clone()).collect();
        wait_for(timeout, "every node Ready with a podCIDR", async || {
            for name in &names {
                let n = nodes.get_opt(name).await.ok().flatten()?;
                let cidr = n
                    .spec
                    .as_ref()
                    .map(|s| s.pod_cidr.clone())
                    .unwrap_or_default();
                let ready = n.status.as_ref().is_some_and(|s| {
                    s.conditions
                        .iter()
                        .any(|c| c.r#type == "Ready" && c.status == "True")
                });
                if cidr.is_empty() || !ready {
                    return None;
                }
            }
            Some(())
        })
        .await;
    }

    pub fn pods_api(&self, namespace: &str) -> client::Api<proto::k8s::Pod> {
        client::Api::namespaced(self.client.clone(), namespace)
    }

    /// Pods of `namespace` matching a label selector.
    pub async fn pods(&self, namespace: &str, selector: &str) -> Vec<proto::k8s::Pod> {
        self.pods_api(namespace)
            .list(&client::ListParams::labels(selector))
            .await
            .map(|l| l.items)
            .unwrap_or_default()
    }

    /// Waits until exactly `n` pods match, none terminating, all Running and Ready; returns
    /// them.
    pub async fn wait_ready_pods(
        &self,
        namespace: &str,
        selector: &str,
        n: usize,
        timeout: Duration,
    ) -> Vec<proto::k8s::Pod> {
        let what = format!("{n} ready pods {selector} in {namespace}");
        wait_for(timeout, &what, async || {
            let pods = self.pods(namespace, selector).await;
            (pods.len() == n && pods.iter().all(|p| is_ready(p) && !is_terminating(p)))
                .then_some(pods)
        })
        .await
    }

    /// Waits until the pods matching `selector` that are not terminating are exactly `n`,
    /// all Running and Ready, and pass `also`; returns them.
    pub async fn wait_serving_pods(
        &self,
        namespace: &str,
        selector: &str,
        n: usize,
        timeout: Duration,
        also: impl Fn(&proto::k8s::Pod) -> bool,
    ) -> Vec<proto::k8s::Pod> {
        let what = format!("{n} ready, not terminating pods {selector} in {namespace}");
        wait_for(timeout, &what, async || {
            let pods: Vec<_> = self
                .pods(namespace, selector)
                .await
                .into_iter()
                .filter(|p| !is_terminating(p))
                .collect();
            (pods.len() == n && pods.iter().all(|p| is_ready(p) && also(p))).then_some(pods)
        })
        .await
    }

    /// The node index a pod is bound to.
    pub fn node_index(&self, pod: &proto::k8s::Pod) -> Option<usize> {
        let node = pod.spec.as_ref()?.node_name.clone();
        self.nodes.iter().position(|n| n.name == node)
    }

    /// Docker container IDs of this run's containers for `pod` / `container`.
    pub fn container_ids(&self, pod: &str, container: &str) -> Vec<String> {
        let out = docker(&[
            "ps",
            "-q",
            "--filter",
            &format!("name=e2e{}", self.tag),
            "--filter",
            &format!("label=io.kubernetes.pod.name={pod}"),
            "--filter",
            &format!("label=io.kubernetes.container.name={container}"),
        ]);
        text(&out.stdout)
            .lines()
            .map(str::to_string)
            .filter(|l| !l.is_empty())
            .collect()
    }

    /// The ClusterIP of a Service.
    pub async fn cluster_ip(&self, namespace: &str, name: &str) -> String {
        let svcs: client::Api<proto::k8s::Service> =
            client::Api::namespaced(self.client.clone(), namespace);
        let svc = svcs.get(name).await.expect("service");
        svc.spec.map(|s| s.cluster_ip).unwrap_or_default()
    }

    /// The ready endpoint IPs of a Service, sorted.
    pub async fn endpoint_ips(&self, namespace: &str, name: &str) -> Vec<String> {
        let eps: client::Api<proto::k8s::Endpoints> =
            client::Api::namespaced(self.client.clone(), namespace);
        let mut ips: Vec<String> = eps
            .get_opt(name)
            .await
            .ok()
            .flatten()
            .map(|e| {
                e.subsets
                    .iter()
                    .flat_map(|s| s.addresses.iter().map(|a| a.ip.clone()))
                    .collect()
            })
            .unwrap_or_default();
        ips.sort();
        ips
    }

    /// Prints the tail of every daemon's log (called on failure).
    pub fn dump_logs(&self, lines: usize) {
        for (name, path) in &self.logs {
            let body = std::fs::read_to_string(path).unwrap_or_default();
            let all: Vec<&str> = body.lines().collect();
            let tail = &all[all.len().saturating_sub(lines)..];
            eprintln!("---- {name} ({}) ----", path.display());
            for l in tail {
                eprintln!("{l}");
            }
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.dump_logs(40);
        }
        for n in &mut self.nodes {
            for p in [&mut n.proxy, &mut n.kubelet].into_iter().flatten() {
                p.kill();
            }
        }
        for p in [
            &mut self.dns,
            &mut self.scheduler,
            &mut self.controller_manager,
            &mut self.apiserver,
        ]
        .into_iter()
        .flatten()
        {
            p.kill();
        }
        let names: Vec<String> = self.nodes.iter().map(|n| n.name.clone()).collect();
        for name in names {
            let ids = docker(&[
                "ps",
                "-aq",
                "--filter",
                &format!("label={NODE_LABEL}={name}"),
            ]);
            let ids: Vec<String> = text(&ids.stdout)
                .lines()
                .map(str::to_string)
                .filter(|l| !l.is_empty())
                .collect();
            if !ids.is_empty() {
                let mut args = vec!["rm", "-f", "-v"];
                args.extend(ids.iter().map(String::as_str));
                let _ = docker(&args);
            }
        }
        // Pods are not deleted at teardown: the kubelets' secret tmpfs and subPath mounts
        // under the run's dir go here, so the dir can be removed.
        unmount_under(self.dir.path());
        for image in &self.images {
            let _ = docker(&["rmi", image]);
        }
        for n in &self.nodes {
            let _ = Command::new("ip").args(["netns", "del", &n.netns]).output();
            let _ = Command::new("ip")
                .args(["link", "del", &n.host_veth])
                .output();
        }
        let _ = Command::new("ip")
            .args(["link", "del", &self.bridge])
            .output();
        let _ = std::fs::remove_file(runs_dir().join(&self.tag));
        if let Some(rule) = &self.fwd_rule {
            let _ = Command::new("iptables")
                .args(["-w", "-D"])
                .args(rule)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}

/// A client from a kubeconfig (`None` while the file is missing or the server does not
/// answer yet).
pub async fn admin_client(kubeconfig: &Path) -> Option<client::Client> {
    let config = client::Kubeconfig::load(kubeconfig).ok()?;
    let connection = config.connection(None).ok()?;
    client::Client::connect_with(&connection).await.ok()
}

/// The absolute paths of the shared libraries (and the dynamic loader) `ldd` lists for
/// `binary`.
fn shared_libraries(binary: &Path) -> Vec<PathBuf> {
    let out = Command::new("ldd").arg(binary).output().expect("run ldd");
    // Lines: "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)",
    // "/lib64/ld-linux-x86-64.so.2 (0x...)", "linux-vdso.so.1 (0x...)" (no file).
    text(&out.stdout)
        .lines()
        .filter_map(|l| {
            let path = match l.split_once("=>") {
                Some((_, right)) => right.split_whitespace().next()?,
                None => l.split_whitespace().next()?,
            };
            path.starts_with('/').then(|| PathBuf::from(path))
        })
        .collect()
}

/// Lazily unmounts every mount under `dir`, deepest first.
fn unmount_under(dir: &std::path::Path) {
    let (Ok(text), Ok(base)) = (
        std::fs::read_to_string("/proc/self/mountinfo"),
        std::fs::canonicalize(dir),
    ) else {
        return;
    };
    let mut points: Vec<PathBuf> = text
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .map(PathBuf::from)
        .filter(|p| p.starts_with(&base))
        .collect();
    points.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
    for p in points {
        let _ = Command::new("umount").arg("-l").arg(&p).output();
    }
}

pub fn is_ready(p: &proto::k8s::Pod) -> bool {
    p.status.as_ref().is_some_and(|s| {
        s.phase == "Running"
            && s.conditions
                .iter()
                .any(|c| c.r#type == "Ready" && c.status == "True")
    })
}

pub fn is_terminating(p: &proto::k8s::Pod) -> bool {
    p.metadata
        .as_ref()
        .is_some_and(|m| !m.deletion_timestamp.is_empty())
}

pub fn pod_ip(p: &proto::k8s::Pod) -> String {
    p.status
        .as_ref()
        .map(|s| s.pod_ip.clone())
        .unwrap_or_default()
}

/// Restart count of a pod's container.
pub fn restart_count(p: &proto::k8s::Pod, container: &str) -> i32 {
    p.status
        .as_ref()
        .and_then(|s| s.container_statuses.iter().find(|c| c.name == container))
        .map(|c| c.restart_count)
        .unwrap_or(-1)
}

/// Polls `check` every 200 ms until it yields a value; panics naming `what` after `timeout`.
pub async fn wait_for<T>(
    timeout: Duration,
    what: &str,
    mut check: impl AsyncFnMut() -> Option<T>,
) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
