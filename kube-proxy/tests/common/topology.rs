//! Network namespaces for the real-kernel tests: a node namespace (the proxy's rules), a
//! "pods" namespace with the backends, a client namespace, and optionally a pod namespace
//! of its own (hairpin). Service and pod ranges are routed only between them; none has a
//! default route to the host, so no packet leaves them. Named after the run, removed on drop.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const HELPER: &str = env!("CARGO_BIN_EXE_kube-proxy-test-helper");
pub const WAIT: Duration = Duration::from_secs(30);

pub fn sh(args: &[&str]) -> Result<String, String> {
    let out = Command::new(args[0])
        .args(&args[1..])
        .output()
        .map_err(|e| format!("{args:?}: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Namespaces and processes of one run; all removed on drop.
pub struct Topology {
    pub node: String,
    pub pods: String,
    pub client: String,
    /// A namespace holding one pod (10.244.2.1) on its own veth: `add_own_pod`.
    pub own_pod: Option<String>,
    backends: Vec<Child>,
}

impl Drop for Topology {
    fn drop(&mut self) {
        for b in &mut self.backends {
            let _ = b.kill();
            let _ = b.wait();
        }
        for ns in [&self.node, &self.pods, &self.client]
            .into_iter()
            .chain(self.own_pod.as_ref())
        {
            let _ = sh(&["ip", "netns", "del", ns]);
        }
    }
}

impl Topology {
    pub fn exec(&self, ns: &str, cmd: &[&str]) -> Result<String, String> {
        let mut full = vec!["ip", "netns", "exec", ns];
        full.extend_from_slice(cmd);
        sh(&full)
    }

    pub fn build() -> Result<Topology, String> {
        let id = format!("{}-{}", std::process::id(), rand_suffix());
        let t = Topology {
            node: format!("kp-test-{id}-node"),
            pods: format!("kp-test-{id}-pods"),
            client: format!("kp-test-{id}-cli"),
            own_pod: None,
            backends: Vec::new(),
        };
        for ns in [&t.node, &t.pods, &t.client] {
            sh(&["ip", "netns", "add", ns])?;
            t.exec(ns, &["ip", "link", "set", "lo", "up"])?;
        }
        let (n, p, c) = (t.node.as_str(), t.pods.as_str(), t.client.as_str());
        t.exec(
            n,
            &[
                "ip", "link", "add", "n0", "type", "veth", "peer", "name", "b0",
            ],
        )?;
        t.exec(n, &["ip", "link", "set", "b0", "netns", p])?;
        t.exec(
            n,
            &[
                "ip", "link", "add", "n1", "type", "veth", "peer", "name", "c0",
            ],
        )?;
        t.exec(n, &["ip", "link", "set", "c0", "netns", c])?;
        for cmd in [
            &["ip", "addr", "add", "10.250.0.1/24", "dev", "n0"][..],
            &["ip", "addr", "add", "10.250.1.1/24", "dev", "n1"],
            &["ip", "link", "set", "n0", "up"],
            &["ip", "link", "set", "n1", "up"],
            &["ip", "route", "add", "10.244.1.0/24", "via", "10.250.0.2"],
            // Unmatched service traffic dies in the pods namespace, never leaves.
            &["ip", "route", "add", "10.96.0.0/12", "dev", "n0"],
            &["sysctl", "-qw", "net.ipv4.ip_forward=1"],
        ] {
            t.exec(n, cmd)?;
        }
        for cmd in [
            &["ip", "addr", "add", "10.250.0.2/24", "dev", "b0"][..],
            &["ip", "addr", "add", "10.244.1.1/32", "dev", "b0"],
            &["ip", "addr", "add", "10.244.1.2/32", "dev", "b0"],
            &["ip", "addr", "add", "10.244.1.3/32", "dev", "b0"],
            &["ip", "link", "set", "b0", "up"],
            &["ip", "route", "add", "default", "via", "10.250.0.1"],
        ] {
            t.exec(p, cmd)?;
        }
        for cmd in [
            &["ip", "addr", "add", "10.250.1.2/24", "dev", "c0"][..],
            &["ip", "link", "set", "c0", "up"],
            &["ip", "route", "add", "10.96.0.0/12", "via", "10.250.1.1"],
        ] {
            t.exec(c, cmd)?;
        }
        Ok(t)
    }

    /// A pod namespace of its own: 10.244.2.1 on a veth to the node (10.250.2.1), default
    /// route via the node with that source, so its connections come from the pod address.
    pub fn add_own_pod(&mut self) -> Result<String, String> {
        let ns = self.node.replace("-node", "-pod");
        sh(&["ip", "netns", "add", &ns])?;
        self.own_pod = Some(ns.clone());
        let n = self.node.clone();
        self.exec(&ns, &["ip", "link", "set", "lo", "up"])?;
        self.exec(
            &n,
            &[
                "ip", "link", "add", "n2", "type", "veth", "peer", "name", "a0",
            ],
        )?;
        self.exec(&n, &["ip", "link", "set", "a0", "netns", &ns])?;
        for cmd in [
            &["ip", "addr", "add", "10.250.2.1/24", "dev", "n2"][..],
            &["ip", "link", "set", "n2", "up"],
            &["ip", "route", "add", "10.244.2.0/24", "via", "10.250.2.2"],
        ] {
            self.exec(&n, cmd)?;
        }
        for cmd in [
            &["ip", "addr", "add", "10.250.2.2/24", "dev", "a0"][..],
            &["ip", "addr", "add", "10.244.2.1/32", "dev", "a0"],
            &["ip", "link", "set", "a0", "up"],
            &[
                "ip",
                "route",
                "add",
                "default",
                "via",
                "10.250.2.1",
                "src",
                "10.244.2.1",
            ],
        ] {
            self.exec(&ns, cmd)?;
        }
        Ok(ns)
    }

    /// A backend (the helper's TCP server answering `name`) in the pods namespace.
    pub fn start_backend(&mut self, addr: &str, name: &str) {
        let pods = self.pods.clone();
        self.start_backend_in(&pods, addr, name);
    }

    pub fn start_backend_in(&mut self, ns: &str, addr: &str, name: &str) {
        self.start_server(ns, "serve", addr, name);
    }

    /// A UDP server in the pods namespace answering every datagram with `name`.
    pub fn start_udp_backend(&mut self, addr: &str, name: &str) {
        let ns = self.pods.clone();
        self.start_server(&ns, "udp-serve", addr, name);
    }

    fn start_server(&mut self, ns: &str, mode: &str, addr: &str, name: &str) {
        let mut child = Command::new("ip")
            .args(["netns", "exec", ns, HELPER, mode, addr, name])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn backend");
        let mut line = String::new();
        let out = child.stdout.take().expect("backend stdout");
        BufReader::new(out)
            .read_line(&mut line)
            .expect("backend ready line");
        assert!(line.starts_with("listening"), "backend {name}: {line:?}");
        self.backends.push(child);
    }

    /// `count` connections from `ns` to `addr`: answers (or `ERR kind ms`) counted.
    pub fn probe(&self, ns: &str, addr: &str, count: usize) -> BTreeMap<String, usize> {
        let out = self
            .exec(ns, &[HELPER, "probe", addr, &count.to_string(), "2000"])
            .unwrap_or_else(|e| panic!("probe {addr}: {e}"));
        let mut m = BTreeMap::new();
        for l in out.lines() {
            let key = if l.starts_with("ERR") {
                // Keep the kind, assert the elapsed time separately.
                let mut parts = l.split_whitespace();
                let kind = parts.nth(1).unwrap_or_default();
                let ms: u64 = parts
                    .next()
                    .and_then(|m| m.parse().ok())
                    .unwrap_or(u64::MAX);
                assert!(
                    ms < 1000,
                    "{addr} from {ns}: {l} (a refusal must be immediate)"
                );
                format!("ERR {kind}")
            } else {
                l.to_string()
            };
            *m.entry(key).or_default() += 1;
        }
        m
    }

    pub fn save_nat(&self) -> String {
        self.exec(&self.node, &["iptables-save", "-t", "nat"])
            .expect("iptables-save")
    }
}

fn rand_suffix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{:x}", nanos & 0xfffff)
}

pub fn counts(pairs: &[(&str, usize)]) -> BTreeMap<String, usize> {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}
