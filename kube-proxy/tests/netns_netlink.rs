//! The netlink backend of `--mode nftables` on the real kernel, in network namespaces this
//! test makes (named after the run, removed at the end, also on failure):
//! - the same transactions sent through `nft -f` into one namespace and as netlink batches
//!   into another leave the same table (`nft -j list table` compared), for the golden
//!   ruleset and for random service sets changed incrementally;
//! - another writer's commit is seen through the ruleset generation;
//! - a UDP client whose service's only endpoint is replaced reaches the new one within a
//!   second (conntrack cleanup).
//!
//! No packet leaves the namespaces; the host's tables are never touched.

mod common;

use apiserver::testing::TestServer;
use client::{Api, Client};
use common::topology::{HELPER, Topology, WAIT, sh};
use common::{endpoints, service, wait_nft_applied};
use kube_proxy::model::{Endpoint, Protocol, ServicePort};
use kube_proxy::nftables::{NetlinkNft, Nft, NftVia, RealNft, plan_sync, render};
use kube_proxy::{Config, daemon};
use proto::k8s::{Endpoints, Service};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use testkit::Prereq;

/// testkit's prerequisite probe names its namespace after the process: two tests of this
/// file checking at once collide, so they check one at a time.
fn require(test: &str) -> bool {
    static ONE: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _g = ONE.lock().unwrap_or_else(|p| p.into_inner());
    testkit::require(test, &[Prereq::Root, Prereq::NetnsTool("nft")])
}

/// Two empty namespaces, deleted on drop.
struct Pair {
    tool: String,
    netlink: String,
}

impl Pair {
    fn new(tag: &str) -> Pair {
        let id = format!("{}-{}", std::process::id(), tag);
        let p = Pair {
            tool: format!("kp-nl-{id}-nft"),
            netlink: format!("kp-nl-{id}-nl"),
        };
        for ns in [&p.tool, &p.netlink] {
            sh(&["ip", "netns", "add", ns]).expect("netns add");
        }
        p
    }
}

impl Drop for Pair {
    fn drop(&mut self) {
        for ns in [&self.tool, &self.netlink] {
            let _ = sh(&["ip", "netns", "del", ns]);
        }
    }
}

/// `nft -j list table ip kube-proxy` without handles, set elements sorted (a hash set
/// lists in its own order).
fn table_json(ns: &str) -> Value {
    let out = sh(&[
        "ip",
        "netns",
        "exec",
        ns,
        "nft",
        "-j",
        "list",
        "table",
        "ip",
        "kube-proxy",
    ])
    .expect("nft -j list table");
    let mut v: Value = serde_json::from_str(&out).expect("nft json");
    fn clean(v: &mut Value) {
        match v {
            Value::Object(m) => {
                m.remove("handle");
                for (k, x) in m.iter_mut() {
                    clean(x);
                    if (k == "elem" || k == "set")
                        && let Value::Array(a) = x
                    {
                        a.sort_by_key(|e| e.to_string());
                    }
                }
            }
            Value::Array(a) => a.iter_mut().for_each(clean),
            _ => {}
        }
    }
    if let Some(items) = v.get_mut("nftables").and_then(Value::as_array_mut) {
        items.retain(|i| i.get("metainfo").is_none());
    }
    clean(&mut v);
    v
}

fn assert_same(p: &Pair, what: &str) {
    let a = table_json(&p.tool);
    let b = table_json(&p.netlink);
    if a != b {
        let (a, b) = (
            a["nftables"].as_array().unwrap(),
            b["nftables"].as_array().unwrap(),
        );
        for (x, y) in a.iter().zip(b) {
            assert_eq!(
                x, y,
                "{what}: first difference (nft -f left, netlink right)"
            );
        }
        panic!(
            "{what}: {} objects by nft -f, {} by netlink",
            a.len(),
            b.len()
        );
    }
}

/// A deterministic pseudo-random generator (xorshift), so a failure replays.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn random_port(r: &mut Rng, i: usize) -> ServicePort {
    let protocol = match r.below(4) {
        0 => Protocol::Udp,
        1 => Protocol::Sctp,
        _ => Protocol::Tcp,
    };
    let n = r.below(6) as usize;
    ServicePort {
        namespace: format!("ns{}", i % 3),
        name: format!("svc{i}"),
        port_name: if r.below(2) == 0 {
            String::new()
        } else {
            format!("p{}", r.below(3))
        },
        protocol,
        cluster_ip: [10, 96, (i / 200) as u8, (i % 200) as u8 + 1].into(),
        port: 80 + r.below(20) as u16,
        node_port: (r.below(3) == 0).then(|| 30000 + i as u16),
        external_ips: if r.below(5) == 0 {
            vec![[192, 0, (i / 250) as u8 + 2, (i % 250) as u8 + 1].into()]
        } else {
            vec![]
        },
        affinity_timeout: (r.below(6) == 0).then(|| 60 + r.below(600) as u32),
        endpoints: (0..n)
            .map(|e| Endpoint {
                ip: [10, 244, r.below(4) as u8, (e * 7 + i % 5) as u8 + 1].into(),
                port: 8000 + r.below(3) as u16,
            })
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect(),
    }
}

#[test]
fn netlink_and_nft_leave_the_same_table_for_the_golden_and_random_rulesets() {
    if !require("netlink_and_nft_leave_the_same_table_for_the_golden_and_random_rulesets") {
        return;
    }
    // The golden file (every object kind the renderer makes).
    let p = Pair::new("golden");
    let golden = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src/nftables/golden/representative.nft"
    ))
    .unwrap();
    RealNft::with(Some(&p.tool), NftVia::Nft)
        .apply(&golden)
        .unwrap();
    NetlinkNft::new(Some(&p.netlink))
        .apply(&golden)
        .expect("golden over netlink");
    assert_same(&p, "golden");
    drop(p);

    // Random services, then random changes applied incrementally, both ways.
    let p = Pair::new("random");
    let tool = RealNft::with(Some(&p.tool), NftVia::Nft);
    let nl = NetlinkNft::new(Some(&p.netlink));
    let mut r = Rng(0x5eed_1234_abcd_0001);
    let node = kube_proxy::model::NodeConfig {
        cluster_cidr: Some("10.240.0.0/12".into()),
    };
    let mut ports: Vec<ServicePort> = (0..60).map(|i| random_port(&mut r, i)).collect();
    let mut applied: Option<kube_proxy::nftables::NftRuleset> = None;
    for round in 0..6 {
        let desired = render(&ports, &node);
        let plan = plan_sync(applied.as_ref(), &desired);
        tool.apply(&plan.text)
            .unwrap_or_else(|e| panic!("round {round} nft -f: {e}"));
        nl.apply(&plan.text)
            .unwrap_or_else(|e| panic!("round {round} netlink: {e}"));
        assert_same(
            &p,
            &format!("round {round} ({} lines, full {})", plan.lines(), plan.full),
        );
        applied = Some(desired);
        // Change a third of the services: new endpoints, removed, added ones.
        for _ in 0..20 {
            let i = r.below(ports.len() as u64) as usize;
            match r.below(4) {
                0 => {
                    ports.remove(i);
                }
                1 => ports[i].endpoints.clear(),
                _ => {
                    let fresh = random_port(&mut r, i);
                    ports[i].endpoints = fresh.endpoints;
                }
            }
        }
        let next = 100 + round * 10;
        ports.extend((next..next + 5).map(|i| random_port(&mut r, i)));
        ports.sort_by(|a, b| {
            (&a.namespace, &a.name, &a.port_name).cmp(&(&b.namespace, &b.name, &b.port_name))
        });
        ports.dedup_by(|a, b| {
            (&a.namespace, &a.name, &a.port_name) == (&b.namespace, &b.name, &b.port_name)
        });
    }
}

#[test]
fn netlink_and_nft_agree_on_a_large_full_load() {
    if !require("netlink_and_nft_agree_on_a_large_full_load") {
        return;
    }
    // Past 1000 elements per command and 64 KiB per element list: split messages.
    let p = Pair::new("large");
    let mut r = Rng(0x1a76_e000_0000_0002);
    let ports: Vec<ServicePort> = (0..1500).map(|i| random_port(&mut r, i)).collect();
    let text = plan_sync(None, &render(&ports, &Default::default())).text;
    RealNft::with(Some(&p.tool), NftVia::Nft)
        .apply(&text)
        .unwrap();
    NetlinkNft::new(Some(&p.netlink))
        .apply(&text)
        .expect("large load over netlink");
    assert_same(&p, "1500 services");
}

#[test]
fn another_writer_is_seen_through_the_generation() {
    if !require("another_writer_is_seen_through_the_generation") {
        return;
    }
    let p = Pair::new("gen");
    let nl = NetlinkNft::new(Some(&p.netlink));
    assert!(!nl.changed_by_others().unwrap(), "nothing committed yet");
    let skeleton = plan_sync(None, &render(&[], &Default::default())).text;
    nl.apply(&skeleton).unwrap();
    assert!(!nl.changed_by_others().unwrap(), "our own commit");
    sh(&[
        "ip",
        "netns",
        "exec",
        &p.netlink,
        "nft",
        "add",
        "chain",
        "ip",
        "kube-proxy",
        "stray",
    ])
    .unwrap();
    assert!(nl.changed_by_others().unwrap(), "a chain added by nft");
    nl.apply(&skeleton).unwrap();
    assert!(!nl.changed_by_others().unwrap());
    // A batch planned against an old generation is refused whole.
    assert!(kube_proxy::nftables::netlink::compile::compile(&skeleton, 1, Some(0)).is_ok());
}

fn udp_service(name: &str) -> Service {
    let mut s = service(name, "ClusterIP", 53, 0);
    if let Some(spec) = s.spec.as_mut() {
        spec.ports[0].protocol = "UDP".into();
        spec.ports[0].target_port = "5353".into();
    }
    s
}

fn udp_endpoints(name: &str, ip: &str) -> Endpoints {
    let mut e = endpoints(name, &[ip], &[], 5353);
    e.subsets[0].ports[0].protocol = "UDP".into();
    e
}

fn unix_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0)
}

#[test]
fn a_udp_client_reaches_the_replaced_endpoint_within_a_second() {
    if !require("a_udp_client_reaches_the_replaced_endpoint_within_a_second") {
        return;
    }
    // The in-process apiserver's update path overflows a worker's default 2 MiB stack in a
    // debug build (seen with this test's Endpoints update): bigger stacks.
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_stack_size(16 << 20)
        .enable_all()
        .build()
        .unwrap()
        .block_on(udp_endpoint_replaced());
}

async fn udp_endpoint_replaced() {
    let mut topo = Topology::build().expect("test topology");
    // The old endpoint keeps answering: without conntrack cleanup the client's flow would
    // stay with it for as long as it keeps sending.
    topo.start_udp_backend("10.244.1.1:5353", "old");
    topo.start_udp_backend("10.244.1.2:5353", "new");
    let server = TestServer::start().await;
    let client = Client::connect(&server.url).await.unwrap();
    let services: Api<Service> = Api::namespaced(client.clone(), "default");
    let eps: Api<Endpoints> = Api::namespaced(client.clone(), "default");
    let dns = services.create(&udp_service("dns")).await.unwrap();
    let vip = format!("{}:53", dns.spec.unwrap().cluster_ip);
    eps.create(&udp_endpoints("dns", "10.244.1.1"))
        .await
        .unwrap();

    let mut config = Config::new(&server.url);
    config.min_sync_period = Duration::from_millis(50);
    let nft = RealNft::with(Some(&topo.node), NftVia::Netlink);
    let running = daemon::start_nftables(config, Arc::new(nft)).await.unwrap();
    let mut status = running.status.clone();
    wait_nft_applied(&mut status, WAIT, "old endpoint", |r| {
        r.dnats_to("10.244.1.1:5353")
    })
    .await;

    // One socket for 5 s, a datagram every 50 ms.
    let mut probe = Command::new("ip")
        .args([
            "netns",
            "exec",
            &topo.client,
            HELPER,
            "udp-probe",
            &vip,
            "5000",
            "50",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .expect("udp probe");
    let out = probe.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<(u128, String)>();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if let Some((t, name)) = line.split_once(' ') {
                let _ = tx.send((t.parse().unwrap_or(0), name.to_string()));
            }
        }
    });
    // The flow is established with the old endpoint.
    let first = rx
        .recv_timeout(Duration::from_secs(3))
        .expect("an answer before the change");
    assert_eq!(first.1, "old");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let replaced_at = unix_ms();
    eps.update(&{
        let mut e = eps.get("dns").await.unwrap();
        e.subsets = udp_endpoints("dns", "10.244.1.2").subsets;
        e
    })
    .await
    .unwrap();
    let _ = probe.wait();
    let _ = reader.join();
    let answers: Vec<(u128, String)> = rx.try_iter().collect();
    let first_new = answers
        .iter()
        .find(|(_, n)| n == "new")
        .unwrap_or_else(|| panic!("never reached the new endpoint: {answers:?}"));
    let took = first_new.0.saturating_sub(replaced_at);
    assert!(
        took < 1000,
        "new endpoint reached {took} ms after the change"
    );
    let late_old: Vec<_> = answers
        .iter()
        .filter(|(t, n)| n == "old" && *t > first_new.0)
        .collect();
    assert!(
        late_old.is_empty(),
        "old endpoint still answering after the switch: {late_old:?}"
    );
    eprintln!("udp: new endpoint reached {took} ms after the Endpoints update");
    running.stop().await.unwrap();
    server.stop().await;
}
