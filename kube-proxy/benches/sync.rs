//! `cargo bench -p kube-proxy --bench sync`: prints figures, compares with baselines run
//! in the same process.
//!
//! 1. compute: Services + Endpoints objects -> ruleset (`model::collect` + `render_rules`)
//!    and the full plan, for 1000 and 10000 services x 10 endpoints.
//! 2. full apply inside a scratch network namespace: the proxier's full sync against the raw
//!    `iptables-restore --noflush` of the same planned text, and against the whole ruleset
//!    as one transaction (Kubernetes' way; stopped after a timeout).
//! 3. incremental: one service's endpoint changed at that size: the proxier's sync against
//!    the raw restore of the same text; one service added (a dispatch bucket rewritten).
//! 4. end to end at the largest size: an Endpoints update through an in-process apiserver
//!    until the daemon reports the rule live (its restore returned), repeated.
//!
//! Environment: KP_BENCH_SIZES (default "1000,10000"), KP_BENCH_APPLY=0 for part 1 only, KP_BENCH_BASELINE_TIMEOUT seconds
//! for the one-transaction baseline (default 60), KP_BENCH_E2E=0 to skip part 4.
//! Parts 2-4 need root and `ip netns`; they are skipped (with the reason) otherwise.

use apiserver::testing::TestServer;
use client::{Api, Client};
use futures::StreamExt;
use kube_proxy::daemon::{self, Config};
use kube_proxy::iptables::render::Renderer;
use kube_proxy::iptables::{
    Iptables, NodeConfig, Proxier, RealIptables, Ruleset, plan_sync, render_rules,
};
use kube_proxy::model;
use proto::k8s::{
    EndpointAddress, EndpointPort, EndpointSubset, Endpoints, ObjectMeta, Service, ServicePort,
    ServiceSpec,
};
use std::collections::HashMap;
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const ENDPOINTS: usize = 10;

fn meta(name: &str) -> Option<ObjectMeta> {
    Some(ObjectMeta {
        name: name.into(),
        namespace: "default".into(),
        ..Default::default()
    })
}

fn service(i: usize, cluster_ip: Option<String>) -> Service {
    Service {
        metadata: meta(&format!("svc-{i}")),
        spec: Some(ServiceSpec {
            r#type: "ClusterIP".into(),
            cluster_ip: cluster_ip.unwrap_or_default(),
            ports: vec![ServicePort {
                name: "http".into(),
                protocol: "TCP".into(),
                port: 80,
                target_port: "8080".into(),
                ..Default::default()
            }],
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn endpoints(i: usize, generation: usize) -> Endpoints {
    Endpoints {
        metadata: meta(&format!("svc-{i}")),
        subsets: vec![EndpointSubset {
            addresses: (0..ENDPOINTS)
                .map(|e| EndpointAddress {
                    ip: format!(
                        "10.{}.{}.{}",
                        128 + (i / 250) % 64,
                        i % 250,
                        e + 1 + generation * 16
                    ),
                    ..Default::default()
                })
                .collect(),
            ports: vec![EndpointPort {
                name: "http".into(),
                port: 8080,
                protocol: "TCP".into(),
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    }
}

fn cluster_ip(i: usize) -> String {
    let n = (10u32 << 24) | (96 << 16) | (i as u32 + 1);
    std::net::Ipv4Addr::from(n).to_string()
}

fn objects(n: usize) -> (Vec<Arc<Service>>, HashMap<String, Arc<Endpoints>>) {
    let svcs = (0..n)
        .map(|i| Arc::new(service(i, Some(cluster_ip(i)))))
        .collect();
    let eps = (0..n)
        .map(|i| (format!("default/svc-{i}"), Arc::new(endpoints(i, 0))))
        .collect();
    (svcs, eps)
}

fn node() -> NodeConfig {
    NodeConfig {
        cluster_cidr: Some("10.128.0.0/10".into()),
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

/// A network namespace deleted on drop.
struct Netns(String);

impl Netns {
    fn new(tag: &str) -> Result<Netns, String> {
        let name = format!("kp-bench-{}-{tag}", std::process::id());
        let out = Command::new("ip")
            .args(["netns", "add", &name])
            .output()
            .map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
        }
        Ok(Netns(name))
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).output();
    }
}

/// Raw `iptables-restore --noflush` of `text` in `ns`; None when killed after `timeout`.
fn raw_restore(ns: &str, text: &str, timeout: Duration) -> Option<Duration> {
    let start = Instant::now();
    let mut child = Command::new("ip")
        .args(["netns", "exec", ns, "iptables-restore", "--noflush"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    let input = text.to_string();
    let mut stdin = child.stdin.take()?;
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
    });
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            let _ = writer.join();
            assert!(status.success(), "raw iptables-restore failed");
            return Some(start.elapsed());
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            let _ = writer.join();
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn compute(n: usize) -> Ruleset {
    let (svcs, eps) = objects(n);
    let mut collect_t = Vec::new();
    let mut render_t = Vec::new();
    let mut plan_t = Vec::new();
    let mut rs = Ruleset::default();
    // Earlier results are dropped after the timing, not inside it.
    let mut keep = Vec::new();
    let runs = if n > 5000 { 5 } else { 9 };
    for _ in 0..runs {
        let t = Instant::now();
        let ports = model::collect(&svcs, &eps);
        collect_t.push(t.elapsed());
        let t = Instant::now();
        let fresh = render_rules(&ports, &node());
        render_t.push(t.elapsed());
        keep.push(std::mem::replace(&mut rs, fresh));
        let t = Instant::now();
        let plan = plan_sync(
            None,
            None,
            &rs,
            kube_proxy::iptables::plan::DEFAULT_MAX_LINES,
        );
        plan_t.push(t.elapsed());
        assert!(!plan.is_empty());
        keep.push(Ruleset::default());
    }
    // Steady state: the daemon's memoizing renderer with one service's endpoints changed,
    // and the incremental plan against the previous ruleset.
    let mut renderer = Renderer::default();
    let mut eps2 = eps.clone();
    let mut prev = renderer.render(&model::collect(&svcs, &eps2), &node());
    let (mut memo_t, mut inc_plan_t, mut daemon_t) = (Vec::new(), Vec::new(), Vec::new());
    for round in 1..=runs {
        let key = format!("default/svc-{}", n / 3);
        eps2.insert(key.clone(), Arc::new(endpoints(n / 3, round)));
        let t = Instant::now();
        let ports = model::collect(&svcs, &eps2);
        let full_memo = renderer.render(&ports, &node());
        memo_t.push(t.elapsed());
        drop(full_memo);
        // What the daemon does: re-render the one changed Service, assemble the ruleset.
        eps2.insert(key.clone(), Arc::new(endpoints(n / 3, round + 5)));
        let t = Instant::now();
        let ports = model::service_ports(&svcs[n / 3], eps2.get(&key).map(|e| e.as_ref())).0;
        renderer.update_service(&key, &ports);
        let next = renderer.ruleset();
        daemon_t.push(t.elapsed());
        let t = Instant::now();
        let plan = plan_sync(Some(&prev), None, &next, 1500);
        inc_plan_t.push(t.elapsed());
        assert!(plan.chains_written >= 2);
        keep.push(std::mem::replace(&mut prev, next));
    }
    drop(keep);
    let (c, r) = (median(collect_t), median(render_t));
    println!(
        "compute {n:>5} services x {ENDPOINTS}: collect {} + render {} = {} ({} rules, {} chains); full plan text {}",
        ms(c),
        ms(r),
        ms(c + r),
        rs.rule_count(),
        rs.chain_count(),
        ms(median(plan_t)),
    );
    println!(
        "compute {n:>5}: one service changed: daemon's path (re-render it, assemble) {} | collect all + memoized render {} | incremental plan {}",
        ms(median(daemon_t)),
        ms(median(memo_t)),
        ms(median(inc_plan_t)),
    );
    rs
}

fn apply(n: usize, rs: &Ruleset, baseline_timeout: Duration) -> Result<(), String> {
    let rs = Arc::new(rs.clone());
    // The proxier's full sync (reads the chains, plans, restores in ordered transactions,
    // makes the jump rules).
    let ns = Netns::new("full")?;
    let ipt = Arc::new(RealIptables::in_netns(&ns.0));
    let mut p = Proxier::new(ipt.clone(), kube_proxy::iptables::plan::DEFAULT_MAX_LINES);
    let t = Instant::now();
    let out = p.sync(rs.clone(), false).map_err(|e| e.to_string())?;
    let ours = t.elapsed();
    // Raw tool, same text, fresh namespace.
    let plan = plan_sync(
        None,
        None,
        &rs,
        kube_proxy::iptables::plan::DEFAULT_MAX_LINES,
    );
    let raw_ns = Netns::new("raw")?;
    let raw = raw_restore(&raw_ns.0, &plan.text, Duration::from_secs(3600)).ok_or("raw restore")?;
    drop(raw_ns);
    // Kubernetes' shape: everything in one transaction.
    let one_ns = Netns::new("one")?;
    let one = raw_restore(&one_ns.0, &rs.to_restore_text(), baseline_timeout);
    drop(one_ns);
    println!(
        "full apply {n:>5}: proxier {} ({} transactions, {} lines) | raw iptables-restore of the same text {} (ratio {:.2}) | one transaction {}",
        secs(ours),
        out.transactions,
        out.restore_lines,
        secs(raw),
        ours.as_secs_f64() / raw.as_secs_f64(),
        match one {
            Some(d) => format!(
                "{} (ours is {:.1}x faster)",
                secs(d),
                d.as_secs_f64() / ours.as_secs_f64()
            ),
            None => format!("> {} (stopped)", secs(baseline_timeout)),
        }
    );

    // Incremental: one endpoint of one service replaced.
    let (svcs, mut eps) = objects(n);
    let mut times = Vec::new();
    let mut raw_times = Vec::new();
    let mut lines = 0;
    for round in 1..=5 {
        let key = format!("default/svc-{}", n / 2);
        eps.insert(key, Arc::new(endpoints(n / 2, round)));
        let desired = Arc::new(render_rules(&model::collect(&svcs, &eps), &node()));
        let applied = p.applied().ok_or("nothing applied")?;
        let text = plan_sync(Some(&applied), None, &desired, 1500).text;
        let t = Instant::now();
        let o = p.sync(desired.clone(), false).map_err(|e| e.to_string())?;
        times.push(t.elapsed());
        lines = o.restore_lines;
        // Raw: the same text again (idempotent: redeclaring flushes and refills).
        raw_times.push(raw_restore(&ns.0, &text, Duration::from_secs(60)).ok_or("raw")?);
    }
    let (i, r) = (median(times), median(raw_times));
    println!(
        "incremental {n:>5}: one service's endpoints changed: proxier sync {} ({lines} lines) | raw iptables-restore of the same text {} (ratio {:.2})",
        ms(i),
        ms(r),
        i.as_secs_f64() / r.as_secs_f64()
    );
    // The periodic (hourly) full rewrite while everything is live and reachable from the
    // built-in chains: every transaction then pays the kernel's table validation.
    let t = Instant::now();
    let o = p
        .sync(p.applied().ok_or("nothing applied")?, true)
        .map_err(|e| e.to_string())?;
    println!(
        "full resync {n:>5} while live: proxier {} ({} transactions)",
        secs(t.elapsed()),
        o.transactions
    );
    // One service added: its chains plus one dispatch bucket (or KUBE-SERVICES) rewritten.
    let mut svcs2 = svcs.clone();
    svcs2.push(Arc::new(service(n, Some(cluster_ip(n)))));
    eps.insert(format!("default/svc-{n}"), Arc::new(endpoints(n, 0)));
    let desired = Arc::new(render_rules(&model::collect(&svcs2, &eps), &node()));
    let t = Instant::now();
    let o = p.sync(desired, false).map_err(|e| e.to_string())?;
    println!(
        "incremental {n:>5}: one service added: proxier sync {} ({} chains, {} lines)",
        ms(t.elapsed()),
        o.chains_written,
        o.restore_lines
    );
    Ok(())
}

async fn end_to_end(n: usize) -> Result<(), String> {
    let server = TestServer::start().await;
    let client = Client::connect(&server.url)
        .await
        .map_err(|e| e.to_string())?;
    let svc_api: Api<Service> = Api::namespaced(client.clone(), "default");
    let ep_api: Api<Endpoints> = Api::namespaced(client.clone(), "default");
    let t = Instant::now();
    let results: Vec<Result<(), String>> = futures::stream::iter(0..n)
        .map(|i| {
            let (s, e) = (svc_api.clone(), ep_api.clone());
            async move {
                s.create(&service(i, None))
                    .await
                    .map_err(|e| e.to_string())?;
                e.create(&endpoints(i, 0))
                    .await
                    .map_err(|e| e.to_string())?;
                Ok(())
            }
        })
        .buffer_unordered(32)
        .collect()
        .await;
    results.into_iter().collect::<Result<Vec<_>, _>>()?;
    println!(
        "e2e {n}: created {n} Services (cluster IPs allocated) and Endpoints in {}",
        secs(t.elapsed())
    );

    let ns = Netns::new("e2e")?;
    let ipt: Arc<dyn Iptables> = Arc::new(RealIptables::in_netns(&ns.0));
    let mut config = Config::new(&server.url);
    config.cluster_cidr = Some("10.128.0.0/10".into());
    let t = Instant::now();
    let running = daemon::start(config, ipt)
        .await
        .map_err(|e| e.to_string())?;
    let mut status = running.status.clone();
    let wait_for = |status: &mut tokio::sync::watch::Receiver<daemon::SyncStatus>,
                    svc: usize,
                    needle: String| {
        let key = format!("default/svc-{svc}:http/tcp");
        let mut status = status.clone();
        async move {
            loop {
                if status
                    .borrow_and_update()
                    .applied
                    .as_ref()
                    .and_then(|r| r.services.get(&key))
                    .is_some_and(|s| {
                        s.chains
                            .iter()
                            .flat_map(|(_, r)| r.iter())
                            .any(|x| x.ends_with(&needle))
                    })
                {
                    return;
                }
                if status.changed().await.is_err() {
                    return;
                }
            }
        }
    };
    let first = format!("--to-destination {}:8080", "10.128.0.1");
    tokio::time::timeout(Duration::from_secs(1800), wait_for(&mut status, 0, first))
        .await
        .map_err(|_| "first sync did not finish")?;
    println!(
        "e2e {n}: daemon start to the first full sync live: {}",
        secs(t.elapsed())
    );

    let mut lat = Vec::new();
    for round in 1..=7 {
        // Past the min sync period since the last sync, as for an idle proxy.
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let i = (round * 7919) % n;
        let mut e = ep_api
            .get(&format!("svc-{i}"))
            .await
            .map_err(|e| e.to_string())?;
        let new_ip = format!("10.200.{}.{}", round, 1);
        e.subsets[0].addresses[0].ip = new_ip.clone();
        let t = Instant::now();
        ep_api.update(&e).await.map_err(|e| e.to_string())?;
        tokio::time::timeout(
            Duration::from_secs(60),
            wait_for(&mut status, i, format!("--to-destination {new_ip}:8080")),
        )
        .await
        .map_err(|_| "change not applied")?;
        lat.push(t.elapsed());
    }
    // Verify in the kernel (not timed): the last change is in the namespace's nat table.
    let out = Command::new("ip")
        .args(["netns", "exec", &ns.0, "iptables-save", "-t", "nat"])
        .output()
        .map_err(|e| e.to_string())?;
    let saved = String::from_utf8_lossy(&out.stdout);
    assert!(
        saved.contains("--to-destination 10.200.7.1:8080"),
        "the change is not in the kernel"
    );
    let mut sorted = lat.clone();
    sorted.sort();
    println!(
        "e2e {n}: one Endpoints update -> rules live: median {} max {} over {} changes (target < 100 ms)",
        ms(median(lat)),
        ms(*sorted.last().unwrap_or(&Duration::ZERO)),
        sorted.len()
    );
    running.stop().await.map_err(|e| e.to_string())?;
    server.stop().await;
    Ok(())
}

/// Namespaces of earlier runs that were killed before their guards ran (their pid is gone).
fn remove_leftovers() {
    let Ok(out) = Command::new("ip").args(["netns", "list"]).output() else {
        return;
    };
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let name = line.split_whitespace().next().unwrap_or_default();
        let Some(pid) = name
            .strip_prefix("kp-bench-")
            .and_then(|r| r.split('-').next())
        else {
            continue;
        };
        if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            println!("removing network namespace {name} left by a killed run");
            let _ = Command::new("ip").args(["netns", "del", name]).output();
        }
    }
}

fn main() {
    remove_leftovers();
    let sizes: Vec<usize> = std::env::var("KP_BENCH_SIZES")
        .unwrap_or_else(|_| "1000,10000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let baseline_timeout = Duration::from_secs(
        std::env::var("KP_BENCH_BASELINE_TIMEOUT")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(60),
    );
    let version = Command::new("iptables")
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    println!(
        "kube-proxy sync benchmark ({version}; {} cpus)",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0)
    );
    let rulesets: Vec<(usize, Ruleset)> = sizes.iter().map(|&n| (n, compute(n))).collect();
    if std::env::var("KP_BENCH_APPLY").is_ok_and(|v| v == "0") {
        return;
    }
    let netns_ok = Netns::new("probe").map(drop);
    if let Err(e) = &netns_ok {
        println!("skipped apply and end-to-end parts: cannot make a network namespace ({e})");
        return;
    }
    for (n, rs) in &rulesets {
        if let Err(e) = apply(*n, rs, baseline_timeout) {
            println!("apply {n}: failed: {e}");
        }
    }
    if std::env::var("KP_BENCH_E2E").is_ok_and(|v| v == "0") {
        return;
    }
    let largest = sizes.iter().copied().max().unwrap_or(1000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    if let Err(e) = rt.block_on(end_to_end(largest)) {
        println!("e2e {largest}: failed: {e}");
    }
}
