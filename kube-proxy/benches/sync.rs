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
//! The same four parts run for `--mode nftables` (`nft_*` functions): compute (render +
//! full plan text), full load by the proxier over netlink and through the `nft` tool
//! against the raw `nft -f` of the same text, one endpoint change over netlink against
//! the raw `nft -f` of the same text (50 changes: median, p99), and end to end at every
//! size with both backends (40 changes each).
//!
//! Environment: KP_BENCH_SIZES (default "1000,10000"), KP_BENCH_MODES (default
//! "iptables,nftables"), KP_BENCH_APPLY=0 for part 1 only, KP_BENCH_BASELINE_TIMEOUT seconds
//! for the one-transaction baseline (default 60), KP_BENCH_E2E=0 to skip part 4,
//! KP_BENCH_RESYNC=0 to skip the iptables full re-sync while live (about a minute at 10000).
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
use kube_proxy::nftables::{self, NftProxier, NftVia, RealNft};
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
    raw_tool(ns, &["iptables-restore", "--noflush"], text, timeout)
}

/// Raw `nft -f -` of `text` in `ns`.
fn raw_nft(ns: &str, text: &str, timeout: Duration) -> Option<Duration> {
    raw_tool(ns, &["nft", "-f", "-"], text, timeout)
}

fn raw_tool(ns: &str, tool: &[&str], text: &str, timeout: Duration) -> Option<Duration> {
    let start = Instant::now();
    let mut child = Command::new("ip")
        .args(["netns", "exec", ns])
        .args(tool)
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
            assert!(status.success(), "raw {tool:?} failed");
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
    if std::env::var("KP_BENCH_RESYNC").is_ok_and(|v| v == "0") {
        return Ok(());
    }
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

fn nft_compute(n: usize) -> nftables::NftRuleset {
    let (svcs, eps) = objects(n);
    let (mut collect_t, mut render_t, mut plan_t) = (Vec::new(), Vec::new(), Vec::new());
    let mut rs = nftables::NftRuleset::default();
    let mut keep = Vec::new();
    let runs = if n > 5000 { 5 } else { 9 };
    let mut lines = 0;
    for _ in 0..runs {
        let t = Instant::now();
        let ports = model::collect(&svcs, &eps);
        collect_t.push(t.elapsed());
        let t = Instant::now();
        let fresh = nftables::render(&ports, &node());
        render_t.push(t.elapsed());
        keep.push(std::mem::replace(&mut rs, fresh));
        let t = Instant::now();
        let plan = nftables::plan_sync(None, &rs);
        plan_t.push(t.elapsed());
        lines = plan.lines();
        keep.push(nftables::NftRuleset::default());
    }
    // The daemon's path for one changed Service: re-render it, assemble, plan.
    let mut renderer = nftables::Renderer::default();
    let mut prev = renderer.render(&model::collect(&svcs, &eps), &node());
    let mut eps2 = eps.clone();
    let (mut daemon_t, mut inc_plan_t) = (Vec::new(), Vec::new());
    for round in 1..=runs {
        let key = format!("default/svc-{}", n / 3);
        eps2.insert(key.clone(), Arc::new(endpoints(n / 3, round)));
        let t = Instant::now();
        let ports = model::service_ports(&svcs[n / 3], eps2.get(&key).map(|e| e.as_ref())).0;
        renderer.update_service(&key, &ports);
        let next = renderer.ruleset();
        daemon_t.push(t.elapsed());
        let t = Instant::now();
        let plan = nftables::plan_sync(Some(&prev), &next);
        inc_plan_t.push(t.elapsed());
        assert!(!plan.is_empty() && !plan.full);
        keep.push(nftables::NftRuleset::default());
        prev = next;
    }
    drop(keep);
    let (c, r) = (median(collect_t), median(render_t));
    println!(
        "nftables compute {n:>5} services x {ENDPOINTS}: collect {} + render {} = {} ({} rules, {} chains, {} map elements); full plan text {} ({lines} lines)",
        ms(c),
        ms(r),
        ms(c + r),
        rs.rule_count(),
        rs.chain_count(),
        rs.element_count(),
        ms(median(plan_t)),
    );
    println!(
        "nftables compute {n:>5}: one service changed: daemon's path (re-render it, assemble) {} | incremental plan {}",
        ms(median(daemon_t)),
        ms(median(inc_plan_t)),
    );
    rs
}

/// The p-th percentile (nearest rank) of `v`.
fn pct(v: &[Duration], p: f64) -> Duration {
    let mut s = v.to_vec();
    s.sort();
    let k = ((p / 100.0) * s.len() as f64).ceil() as usize;
    s.get(k.saturating_sub(1)).copied().unwrap_or_default()
}

fn nft_apply(n: usize, rs: &nftables::NftRuleset) -> Result<(), String> {
    let rs = Arc::new(rs.clone());
    // Full load through the tool (the reference path), in a namespace of its own.
    let tool_ns = Netns::new("nft-tool")?;
    let mut tp = NftProxier::new(Arc::new(RealNft::with(Some(&tool_ns.0), NftVia::Nft)));
    let t = Instant::now();
    tp.sync(rs.clone(), false).map_err(|e| e.to_string())?;
    let tool_full = t.elapsed();
    drop((tp, tool_ns));
    let ns = Netns::new("nft-full")?;
    let real = Arc::new(RealNft::with(Some(&ns.0), NftVia::Netlink));
    let mut p = NftProxier::new(real.clone());
    let t = Instant::now();
    let out = p.sync(rs.clone(), false).map_err(|e| e.to_string())?;
    let ours = t.elapsed();
    let text = nftables::plan_sync(None, &rs).text;
    let raw_ns = Netns::new("nft-raw")?;
    let raw = raw_nft(&raw_ns.0, &text, Duration::from_secs(3600)).ok_or("raw nft")?;
    drop(raw_ns);
    println!(
        "nftables full apply {n:>5}: netlink proxier {} (1 batch, {} lines) | nft-tool proxier {} | raw nft -f of the same text {} (netlink/raw ratio {:.2})",
        secs(ours),
        out.restore_lines,
        secs(tool_full),
        secs(raw),
        ours.as_secs_f64() / raw.as_secs_f64(),
    );
    // One endpoint of one service replaced: the proxier's sync against the raw tool on the
    // same text from the same state.
    let (svcs, mut eps) = objects(n);
    let mut renderer = nftables::Renderer::default();
    renderer.render(&model::collect(&svcs, &eps), &node());
    let (mut times, mut raw_times) = (Vec::new(), Vec::new());
    let mut lines = 0;
    for round in 1..=50 {
        let i = (round * 7919) % n;
        let key = format!("default/svc-{i}");
        eps.insert(key.clone(), Arc::new(endpoints(i, round)));
        let ports = model::service_ports(&svcs[i], eps.get(&key).map(|e| e.as_ref())).0;
        renderer.update_service(&key, &ports);
        let desired = Arc::new(renderer.ruleset());
        let applied = p.applied().ok_or("nothing applied")?;
        let text = nftables::plan_sync(Some(&applied), &desired).text;
        // The raw tool first, on the same text from the same state; then back (not timed),
        // then the proxier.
        raw_times.push(raw_nft(&ns.0, &text, Duration::from_secs(60)).ok_or("raw nft")?);
        let back = nftables::plan_sync(Some(&desired), &applied).text;
        raw_nft(&ns.0, &back, Duration::from_secs(60)).ok_or("raw nft back")?;
        // The tool's two commits moved the generation: this sync would rebuild the table.
        // They are the benchmark's, not another writer's: adopt them (not timed).
        real.adopt_generation();
        let t = Instant::now();
        let o = p.sync(desired, false).map_err(|e| e.to_string())?;
        times.push(t.elapsed());
        if o.full {
            return Err("the netlink sync rebuilt the table (generation)".into());
        }
        lines = o.restore_lines;
    }
    let (i, r) = (median(times.clone()), median(raw_times.clone()));
    println!(
        "nftables incremental {n:>5}: one service's endpoints changed: netlink proxier sync {} (p99 {}, max {}, {lines} lines) | raw nft -f of the same text {} (p99 {}) (ratio {:.3}, {:.0}x faster)",
        ms(i),
        ms(pct(&times, 99.0)),
        ms(times.iter().copied().max().unwrap_or_default()),
        ms(r),
        ms(pct(&raw_times, 99.0)),
        i.as_secs_f64() / r.as_secs_f64(),
        r.as_secs_f64() / i.as_secs_f64().max(1e-9),
    );
    if real.fallbacks() > 0 {
        return Err(format!(
            "{} netlink batches fell back to nft",
            real.fallbacks()
        ));
    }
    // One service added: its chain and one map element.
    let mut svcs2 = svcs.clone();
    svcs2.push(Arc::new(service(n, Some(cluster_ip(n)))));
    eps.insert(format!("default/svc-{n}"), Arc::new(endpoints(n, 0)));
    let desired = Arc::new(renderer.render(&model::collect(&svcs2, &eps), &node()));
    let t = Instant::now();
    let o = p.sync(desired, false).map_err(|e| e.to_string())?;
    println!(
        "nftables incremental {n:>5}: one service added: proxier sync {} ({} lines)",
        ms(t.elapsed()),
        o.restore_lines
    );
    // The periodic full re-sync over the live table (one transaction swaps the table).
    let t = Instant::now();
    let o = p
        .sync(p.applied().ok_or("nothing applied")?, true)
        .map_err(|e| e.to_string())?;
    println!(
        "nftables full resync {n:>5} while live: proxier {} ({} lines)",
        secs(t.elapsed()),
        o.restore_lines
    );
    Ok(())
}

async fn end_to_end(n: usize, nft: bool) -> Result<(), String> {
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

    let wait_for = |status: &mut tokio::sync::watch::Receiver<daemon::SyncStatus>,
                    svc: usize,
                    needle: String| {
        let key = format!("default/svc-{svc}:http/tcp");
        let mut status = status.clone();
        async move {
            loop {
                let live = {
                    let st = status.borrow_and_update();
                    let ipt = st
                        .applied
                        .as_ref()
                        .and_then(|r| r.services.get(&key))
                        .is_some_and(|s| {
                            s.chains
                                .iter()
                                .flat_map(|(_, r)| r.iter())
                                .any(|x| x.ends_with(&format!("--to-destination {needle}")))
                        });
                    let nft = st
                        .nft_applied
                        .as_ref()
                        .is_some_and(|r| r.services.get(&key).is_some_and(|s| s.dnats_to(&needle)));
                    ipt || nft
                };
                if live {
                    return;
                }
                if status.changed().await.is_err() {
                    return;
                }
            }
        }
    };
    // nftables: the same objects, one daemon per backend, each in its own namespace.
    let vias: &[Option<NftVia>] = if nft {
        &[Some(NftVia::Netlink), Some(NftVia::Nft)]
    } else {
        &[None]
    };
    for (pass, via) in vias.iter().enumerate() {
        let mode = match via {
            Some(NftVia::Netlink) => "nftables/netlink",
            Some(NftVia::Nft) => "nftables/nft-tool",
            None => "iptables",
        };
        let ns = Netns::new(if nft { "e2e-nft" } else { "e2e" })?;
        let mut config = Config::new(&server.url);
        config.cluster_cidr = Some("10.128.0.0/10".into());
        // The changes below come further apart than this, as for an idle proxy.
        config.min_sync_period = Duration::from_millis(if nft { 200 } else { 1000 });
        let gap = config.min_sync_period + Duration::from_millis(100);
        let rounds = if nft { 40 } else { 7 };
        let t = Instant::now();
        let running = match via {
            Some(v) => {
                daemon::start_nftables(config, Arc::new(RealNft::with(Some(&ns.0), *v))).await
            }
            None => {
                let ipt: Arc<dyn Iptables> = Arc::new(RealIptables::in_netns(&ns.0));
                daemon::start(config, ipt).await
            }
        }
        .map_err(|e| e.to_string())?;
        let mut status = running.status.clone();
        let first = if pass == 0 {
            "10.128.0.1:8080".to_string()
        } else {
            // The first service's endpoint as the previous pass left it.
            format!(
                "{}:8080",
                ep_api
                    .get("svc-0")
                    .await
                    .map_err(|e| e.to_string())?
                    .subsets[0]
                    .addresses[0]
                    .ip
            )
        };
        tokio::time::timeout(Duration::from_secs(1800), wait_for(&mut status, 0, first))
            .await
            .map_err(|_| "first sync did not finish")?;
        println!(
            "e2e {mode} {n}: daemon start to the first full sync live: {}",
            secs(t.elapsed())
        );

        let mut lat = Vec::new();
        let mut last_ip = String::new();
        for round in 1..=rounds {
            tokio::time::sleep(gap).await;
            let i = (round * 7919) % n;
            let mut e = ep_api
                .get(&format!("svc-{i}"))
                .await
                .map_err(|e| e.to_string())?;
            let new_ip = format!("10.{}.{}.1", 200 + pass, round);
            e.subsets[0].addresses[0].ip = new_ip.clone();
            let t = Instant::now();
            ep_api.update(&e).await.map_err(|e| e.to_string())?;
            tokio::time::timeout(
                Duration::from_secs(60),
                wait_for(&mut status, i, format!("{new_ip}:8080")),
            )
            .await
            .map_err(|_| "change not applied")?;
            lat.push(t.elapsed());
            last_ip = new_ip;
        }
        // Verify in the kernel (not timed): the last change is in the namespace's nat table.
        let (list, want): (&[&str], String) = if nft {
            (
                &["nft", "list", "table", "ip", "kube-proxy"],
                format!("{last_ip} . 8080"),
            )
        } else {
            (
                &["iptables-save", "-t", "nat"],
                format!("--to-destination {last_ip}:8080"),
            )
        };
        let out = Command::new("ip")
            .args(["netns", "exec", &ns.0])
            .args(list)
            .output()
            .map_err(|e| e.to_string())?;
        let saved = String::from_utf8_lossy(&out.stdout);
        assert!(saved.contains(&want), "the change is not in the kernel");
        println!(
            "e2e {mode} {n}: one Endpoints update -> rules live: median {} p99 {} max {} over {} changes{}",
            ms(median(lat.clone())),
            ms(pct(&lat, 99.0)),
            ms(lat.iter().copied().max().unwrap_or_default()),
            lat.len(),
            if nft {
                " (target at 10000: median < 20 ms, p99 < 50 ms)"
            } else {
                ""
            }
        );
        running.stop().await.map_err(|e| e.to_string())?;
    }
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
    let modes = std::env::var("KP_BENCH_MODES").unwrap_or_else(|_| "iptables,nftables".into());
    let (ipt_on, nft_on) = (modes.contains("iptables"), modes.contains("nftables"));
    let rulesets: Vec<(usize, Ruleset)> = if ipt_on {
        sizes.iter().map(|&n| (n, compute(n))).collect()
    } else {
        Vec::new()
    };
    let nft_rulesets: Vec<(usize, nftables::NftRuleset)> = if nft_on {
        sizes.iter().map(|&n| (n, nft_compute(n))).collect()
    } else {
        Vec::new()
    };
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
    for (n, rs) in &nft_rulesets {
        if let Err(e) = nft_apply(*n, rs) {
            println!("nftables apply {n}: failed: {e}");
        }
    }
    drop((rulesets, nft_rulesets));
    if std::env::var("KP_BENCH_E2E").is_ok_and(|v| v == "0") {
        return;
    }
    let largest = sizes.iter().copied().max().unwrap_or(1000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        // The in-process apiserver's update path needs more than 2 MiB in a debug build.
        .thread_stack_size(16 << 20)
        .enable_all()
        .build()
        .expect("runtime");
    if ipt_on && let Err(e) = rt.block_on(end_to_end(largest, false)) {
        println!("e2e {largest}: failed: {e}");
    }
    // nftables at every size: the targets are about the netlink backend's latency.
    for &n in sizes.iter().filter(|_| nft_on) {
        if let Err(e) = rt.block_on(end_to_end(n, true)) {
            println!("e2e nftables {n}: failed: {e}");
        }
    }
}
