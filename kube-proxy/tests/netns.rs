//! Real iptables in network namespaces this test makes: a node namespace running the
//! proxy's rules (the daemon runs in-process, its `iptables-restore` runs inside the node
//! namespace through `ip netns exec`), a "pods" namespace holding three backends (the test
//! helper's TCP server, one per address), and a client namespace. Service and pod ranges
//! are routed only between these namespaces; none has a default route to the host, so no
//! packet leaves them. The host's own iptables are never touched. Everything is named after
//! the run and removed on drop, also when an assertion fails.

mod common;

use apiserver::testing::TestServer;
use client::{Api, Client, DeleteParams};
use common::{dnats_to, endpoints, service, wait_applied};
use kube_proxy::iptables::{RealIptables, cleanup};
use kube_proxy::{Config, daemon};
use proto::k8s::{Endpoints, Service};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

const HELPER: &str = env!("CARGO_BIN_EXE_kube-proxy-test-helper");
const WAIT: Duration = Duration::from_secs(30);

fn sh(args: &[&str]) -> Result<String, String> {
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
struct Topology {
    node: String,
    pods: String,
    client: String,
    backends: Vec<Child>,
}

impl Drop for Topology {
    fn drop(&mut self) {
        for b in &mut self.backends {
            let _ = b.kill();
            let _ = b.wait();
        }
        for ns in [&self.node, &self.pods, &self.client] {
            let _ = sh(&["ip", "netns", "del", ns]);
        }
    }
}

impl Topology {
    fn exec(&self, ns: &str, cmd: &[&str]) -> Result<String, String> {
        let mut full = vec!["ip", "netns", "exec", ns];
        full.extend_from_slice(cmd);
        sh(&full)
    }

    fn build() -> Result<Topology, String> {
        let id = format!("{}-{}", std::process::id(), rand_suffix());
        let t = Topology {
            node: format!("kp-test-{id}-node"),
            pods: format!("kp-test-{id}-pods"),
            client: format!("kp-test-{id}-cli"),
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

    fn start_backend(&mut self, addr: &str, name: &str) {
        let mut child = Command::new("ip")
            .args(["netns", "exec", &self.pods, HELPER, "serve", addr, name])
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
    fn probe(&self, ns: &str, addr: &str, count: usize) -> BTreeMap<String, usize> {
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

    fn save_nat(&self) -> String {
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

/// None (and why) when this machine cannot run the test; in CI that is a failure.
fn prerequisites() -> Option<String> {
    let probe = format!("kp-test-probe-{}", std::process::id());
    let r = sh(&["ip", "netns", "add", &probe]).and_then(|_| {
        let r = sh(&[
            "ip",
            "netns",
            "exec",
            &probe,
            "iptables-restore",
            "--version",
        ]);
        let _ = sh(&["ip", "netns", "del", &probe]);
        r
    });
    r.err()
}

fn skip_or_fail(why: &str) {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("netns test prerequisites missing in CI: {why}");
    }
    eprintln!("skipped: needs root, ip netns and iptables: {why}");
}

fn counts(pairs: &[(&str, usize)]) -> BTreeMap<String, usize> {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn services_work_through_real_iptables_in_namespaces() {
    if let Some(why) = prerequisites() {
        return skip_or_fail(&why);
    }
    let mut topo = Topology::build().expect("test topology");
    for (i, ip) in ["10.244.1.1", "10.244.1.2", "10.244.1.3"]
        .iter()
        .enumerate()
    {
        topo.start_backend(&format!("{ip}:8080"), &format!("backend-{}", i + 1));
    }

    let server = TestServer::start().await;
    let client = Client::connect(&server.url).await.unwrap();
    let services: Api<Service> = Api::namespaced(client.clone(), "default");
    let eps: Api<Endpoints> = Api::namespaced(client.clone(), "default");
    let web = services
        .create(&service("web", "NodePort", 80, 0))
        .await
        .unwrap();
    let spec = web.spec.unwrap();
    let cluster_ip = spec.cluster_ip.clone();
    let node_port = spec.ports[0].node_port;
    eps.create(&endpoints(
        "web",
        &["10.244.1.1", "10.244.1.2", "10.244.1.3"],
        &[],
        8080,
    ))
    .await
    .unwrap();
    let empty = services
        .create(&service("empty", "ClusterIP", 80, 0))
        .await
        .unwrap();
    let empty_ip = empty.spec.unwrap().cluster_ip;

    let ipt = Arc::new(RealIptables::in_netns(&topo.node));
    let mut config = Config::new(&server.url);
    config.min_sync_period = Duration::from_millis(100);
    config.cluster_cidr = Some("10.244.0.0/16".into());
    let running = daemon::start(config, ipt.clone()).await.unwrap();
    let mut status = running.status.clone();
    wait_applied(&mut status, WAIT, "three endpoints", |r| {
        (1..=3).all(|i| dnats_to(r, &format!("10.244.1.{i}:8080")))
    })
    .await;

    // ClusterIP from another namespace (nat PREROUTING, forwarded) and from the node
    // itself (nat OUTPUT): every backend answers, nothing fails.
    let vip = format!("{cluster_ip}:80");
    let got = topo.probe(&topo.client, &vip, 60);
    assert_eq!(
        got.keys().cloned().collect::<Vec<_>>(),
        ["backend-1", "backend-2", "backend-3"],
        "{got:?}"
    );
    let got = topo.probe(&topo.node, &vip, 45);
    assert_eq!(got.len(), 3, "from the node itself: {got:?}");
    assert!(!got.keys().any(|k| k.starts_with("ERR")), "{got:?}");
    // NodePort on the node's address.
    let np = format!("10.250.1.1:{node_port}");
    let got = topo.probe(&topo.client, &np, 60);
    assert_eq!(
        got.keys().cloned().collect::<Vec<_>>(),
        ["backend-1", "backend-2", "backend-3"],
        "{got:?}"
    );

    // No endpoints: refused at once (REJECT), from outside and on the node.
    let dead = format!("{empty_ip}:80");
    assert_eq!(
        topo.probe(&topo.client, &dead, 3),
        counts(&[("ERR ConnectionRefused", 3)])
    );
    assert_eq!(
        topo.probe(&topo.node, &dead, 3),
        counts(&[("ERR ConnectionRefused", 3)])
    );

    // backend-3 goes not ready: it stops receiving traffic.
    eps.update(&{
        let mut e = eps.get("web").await.unwrap();
        e.subsets = endpoints("web", &["10.244.1.1", "10.244.1.2"], &["10.244.1.3"], 8080).subsets;
        e
    })
    .await
    .unwrap();
    wait_applied(&mut status, WAIT, "backend-3 gone", |r| {
        !dnats_to(r, "10.244.1.3:8080")
    })
    .await;
    let got = topo.probe(&topo.client, &vip, 60);
    assert_eq!(
        got.keys().cloned().collect::<Vec<_>>(),
        ["backend-1", "backend-2"],
        "{got:?}"
    );
    let got = topo.probe(&topo.client, &np, 30);
    assert_eq!(
        got.keys().cloned().collect::<Vec<_>>(),
        ["backend-1", "backend-2"],
        "{got:?}"
    );

    // The empty service gets an endpoint: it answers, the REJECT is gone.
    eps.create(&endpoints("empty", &["10.244.1.3"], &[], 8080))
        .await
        .unwrap();
    wait_applied(&mut status, WAIT, "empty served", |r| {
        dnats_to(r, "10.244.1.3:8080")
    })
    .await;
    assert_eq!(
        topo.probe(&topo.client, &dead, 5),
        counts(&[("backend-3", 5)])
    );

    // Deleting the service removes its rules from the kernel.
    let web_chain = kube_proxy::chain_names::service_chain("default/web:http", "tcp");
    assert!(topo.save_nat().contains(&web_chain));
    services
        .delete("web", &DeleteParams::default())
        .await
        .unwrap();
    wait_applied(&mut status, WAIT, "web gone", |r| {
        !r.to_restore_text().contains("default/web")
    })
    .await;
    let saved = topo.save_nat();
    assert!(!saved.contains(&web_chain), "{saved}");
    assert!(!saved.contains("default/web"), "{saved}");
    assert!(!saved.contains("10.244.1.1:8080"), "{saved}");
    let got = topo.probe(&topo.client, &dead, 3);
    assert_eq!(
        got,
        counts(&[("backend-3", 3)]),
        "other services unaffected"
    );

    // --cleanup removes everything it made in the namespace.
    running.stop().await.unwrap();
    let n = cleanup(ipt.as_ref(), 1500).unwrap();
    assert!(n > 7, "{n}");
    let saved = topo.save_nat()
        + &topo
            .exec(&topo.node, &["iptables-save", "-t", "filter"])
            .unwrap();
    assert!(!saved.contains("KUBE-"), "{saved}");
    server.stop().await;
}
