//! The chaos soak (issue 20): a three-node cluster under continuous churn (Deployments
//! created, scaled, rolled and deleted; Jobs; Services; ConfigMaps) while a chaos loop
//! SIGKILLs a random daemon every few seconds (and restarts it a moment later, as a
//! supervisor would) and cuts a random node off the network now and then. At the end it
//! stops the chaos, waits for the cluster to converge and checks that no acknowledged write
//! was lost, no ReplicaSet has more pods than its spec, no node leaked containers, pod
//! addresses, iptables chains or nftables objects, no daemon's memory grew beyond 2x, and
//! every Service answers from exactly its ready endpoints. Prints a table of figures; exits
//! non-zero when a check fails. A bench binary, not a CI test:
//!
//! `SOAK_MINUTES=30 cargo bench -p integration-tests --bench soak`
//!
//! Environment: `SOAK_MINUTES` (chaos phase, default 2), `SOAK_SEED` (the random choices),
//! `SOAK_KILL_EVERY` (seconds between kills, `min-max`, default `3-8`),
//! `SOAK_PARTITION_EVERY` (seconds between partitions, `min-max`, default `40-90`),
//! `SOAK_CONVERGE_SECS` (how long convergence may take, default 300), `SOAK_REPORT` (a
//! file the summary is also written to). Needs root, Docker, busybox-static and the
//! workspace's binaries (`cargo build --bins`; `CARGO_TARGET_DIR` is honoured).

use integration_tests::cluster::{
    Cluster, Daemon, Options, docker, is_ready, is_terminating, pod_ip, prerequisites,
};
use integration_tests::soak::leaks;
use integration_tests::soak::ledger::{Ledger, Observed, Op, verdict};
use integration_tests::soak::rng::Rng;
use integration_tests::soak::rss::RssLog;
use integration_tests::text;
use proto::k8s::{self, DeleteRequest, PatchRequest};
use proto::{ApiError, Reason, Resource};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long one API call may take before its outcome counts as unknown.
const CALL_TIMEOUT: Duration = Duration::from_secs(20);

struct Config {
    minutes: f64,
    seed: u64,
    kill_every: (u64, u64),
    partition_every: (u64, u64),
    converge: Duration,
    report: Option<String>,
}

fn env_range(name: &str, default: (u64, u64)) -> (u64, u64) {
    std::env::var(name)
        .ok()
        .and_then(|v| {
            let (a, b) = v.split_once('-')?;
            Some((a.trim().parse().ok()?, b.trim().parse().ok()?))
        })
        .filter(|(a, b)| a <= b)
        .unwrap_or(default)
}

impl Config {
    fn from_env() -> Config {
        let seed = std::env::var("SOAK_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos() as u64)
                    .unwrap_or(1)
            });
        Config {
            minutes: std::env::var("SOAK_MINUTES")
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(2.0),
            seed,
            kill_every: env_range("SOAK_KILL_EVERY", (3, 8)),
            partition_every: env_range("SOAK_PARTITION_EVERY", (40, 90)),
            converge: Duration::from_secs(
                std::env::var("SOAK_CONVERGE_SECS")
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(300),
            ),
            report: std::env::var("SOAK_REPORT").ok(),
        }
    }
}

fn daemon_name(d: Daemon) -> String {
    match d {
        Daemon::Apiserver => "apiserver".into(),
        Daemon::ControllerManager => "controller-manager".into(),
        Daemon::Scheduler => "scheduler".into(),
        Daemon::Dns => "cluster-dns".into(),
        Daemon::Kubelet(i) => format!("kubelet-node{i}"),
        Daemon::KubeProxy(i) => format!("kube-proxy-node{i}"),
    }
}

/// What the writer and the chaos loop counted.
#[derive(Default)]
struct Stats {
    ledger: Ledger,
    /// "deployment scale" -> (acknowledged, unknown outcome, refused).
    ops: BTreeMap<String, (u64, u64, u64)>,
    /// Refusals worth a look (not NotFound after an unknown outcome): first few.
    refusals: Vec<String>,
}

fn lock(stats: &Mutex<Stats>) -> std::sync::MutexGuard<'_, Stats> {
    stats.lock().unwrap_or_else(|p| p.into_inner())
}

fn revision(o: &k8s::Object) -> u64 {
    o.meta().resource_version.parse().unwrap_or(0)
}

/// Whether the server may have done the write although the call failed.
fn outcome_unknown(e: &ApiError) -> bool {
    !(e.is(Reason::NotFound)
        || e.is(Reason::Invalid)
        || e.is(Reason::BadRequest)
        || e.is(Reason::Conflict)
        || e.is(Reason::Forbidden)
        || e.is(Reason::TooLarge))
}

#[derive(Clone)]
struct Dep {
    name: String,
    replicas: i32,
    image: usize,
    roll: u64,
}

/// The writer: one churn step at a time, every answer recorded in the ledger.
struct Churn {
    client: client::Client,
    ns: String,
    images: [String; 2],
    rng: Rng,
    stats: Arc<Mutex<Stats>>,
    seq: u64,
    deployments: Vec<Dep>,
    services: Vec<String>,
    jobs: Vec<String>,
    configmaps: Vec<(String, u64)>,
}

fn deployment(ns: &str, d: &Dep, image: &str) -> serde_json::Value {
    serde_json::json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": d.name, "namespace": ns, "labels": {"soak": "yes"}},
        "spec": {
            "replicas": d.replicas,
            "selector": {"matchLabels": {"app": d.name}},
            "template": {
                "metadata": {"labels": {"app": d.name, "soak": "yes"}},
                "spec": {
                    "terminationGracePeriodSeconds": 2,
                    "containers": [{
                        "name": "web",
                        "image": image,
                        // The shell stays PID 1 and exits on SIGTERM (see examples/web.yaml).
                        "command": ["sh", "-c", "mkdir -p /www && hostname > /www/index.html; httpd -f -p 8080 -h /www & trap 'exit 0' TERM; wait"],
                        "env": [{"name": "SOAK_ROLL", "value": d.roll.to_string()}],
                        "ports": [{"name": "http", "containerPort": 8080}],
                        "readinessProbe": {"httpGet": {"path": "/", "port": "http"}, "periodSeconds": 2},
                        "resources": {"requests": {"cpu": "10m", "memory": "8Mi"}, "limits": {"memory": "32Mi"}}
                    }]
                }
            }
        }
    })
}

fn job(ns: &str, name: &str) -> serde_json::Value {
    serde_json::json!({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": name, "namespace": ns, "labels": {"soak": "yes"}},
        "spec": {
            "completions": 2, "parallelism": 2, "backoffLimit": 6,
            "template": {
                "metadata": {"labels": {"soak": "yes"}},
                "spec": {
                    "restartPolicy": "Never",
                    "terminationGracePeriodSeconds": 1,
                    "containers": [{
                        "name": "work", "image": "local/busybox:1",
                        "command": ["sh", "-c", "echo soak job on $(hostname); sleep 1"],
                        "resources": {"requests": {"cpu": "10m", "memory": "8Mi"}, "limits": {"memory": "32Mi"}}
                    }]
                }
            }
        }
    })
}

fn service(ns: &str, name: &str, app: &str) -> serde_json::Value {
    serde_json::json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name, "namespace": ns, "labels": {"soak": "yes"}},
        "spec": {"selector": {"app": app}, "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}
    })
}

fn configmap(ns: &str, name: &str, v: u64) -> serde_json::Value {
    serde_json::json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": ns, "labels": {"soak": "yes"}},
        "data": {"version": v.to_string()}
    })
}

impl Churn {
    fn count(&self, what: &str, slot: usize, detail: Option<String>) {
        let mut s = lock(&self.stats);
        let e = s.ops.entry(what.to_string()).or_default();
        match slot {
            0 => e.0 += 1,
            1 => e.1 += 1,
            _ => e.2 += 1,
        }
        if let Some(d) = detail
            && s.refusals.len() < 20
        {
            s.refusals.push(d);
        }
    }

    /// Runs one write and records its answer; `Some(true)` acknowledged, `Some(false)`
    /// refused, `None` unknown.
    async fn write(
        &self,
        what: &str,
        resource: &str,
        name: &str,
        op: Op,
        call: impl std::future::Future<Output = Result<k8s::Object, ApiError>>,
    ) -> Option<bool> {
        let result = tokio::time::timeout(CALL_TIMEOUT, call)
            .await
            .unwrap_or_else(|_| Err(ApiError::new(Reason::Timeout, "soak: call timed out")));
        match result {
            Ok(o) => {
                lock(&self.stats)
                    .ledger
                    .acked(resource, name, op, revision(&o));
                self.count(what, 0, None);
                Some(true)
            }
            // A delete answered NotFound: the object is gone, which is what was asked.
            Err(e) if op == Op::Delete && e.is(Reason::NotFound) => {
                lock(&self.stats).ledger.acked(resource, name, op, 0);
                self.count(what, 0, None);
                Some(true)
            }
            // A create answered AlreadyExists: an earlier attempt of the same create landed
            // (the client retried one whose answer was lost).
            Err(e) if op == Op::Create && e.is(Reason::AlreadyExists) => {
                lock(&self.stats).ledger.ambiguous(resource, name, op);
                self.count(what, 1, None);
                None
            }
            Err(e) if outcome_unknown(&e) => {
                lock(&self.stats).ledger.ambiguous(resource, name, op);
                self.count(what, 1, None);
                None
            }
            Err(e) => {
                self.count(what, 2, Some(format!("{what} {name}: {e}")));
                Some(false)
            }
        }
    }

    async fn create(&self, what: &str, resource: &str, name: &str, doc: serde_json::Value) {
        let obj = match proto::manifest::object_from_value(doc) {
            Ok(o) => o,
            Err(e) => {
                self.count(what, 2, Some(format!("{what} {name}: manifest: {e}")));
                return;
            }
        };
        self.write(what, resource, name, Op::Create, self.client.create(obj))
            .await;
    }

    async fn patch(
        &self,
        what: &str,
        resource: &str,
        name: &str,
        patch: serde_json::Value,
    ) -> Option<bool> {
        let req = PatchRequest {
            resource: resource.into(),
            namespace: self.ns.clone(),
            name: name.into(),
            patch_type: "merge".into(),
            patch: patch.to_string(),
            ..Default::default()
        };
        self.write(what, resource, name, Op::Update, self.client.patch(req))
            .await
    }

    async fn delete(&self, what: &str, resource: &str, name: &str) {
        let req = DeleteRequest {
            resource: resource.into(),
            namespace: self.ns.clone(),
            name: name.into(),
            propagation_policy: "Background".into(),
            ..Default::default()
        };
        self.write(what, resource, name, Op::Delete, self.client.delete(req))
            .await;
    }

    fn next_name(&mut self, prefix: &str) -> String {
        self.seq += 1;
        format!("{prefix}-{}", self.seq)
    }

    async fn step(&mut self) {
        let roll = self.rng.range(0, 99);
        let deps = self.deployments.len();
        if deps < 2 || (deps < 4 && roll < 8) {
            let d = Dep {
                name: self.next_name("web"),
                replicas: self.rng.range(1, 3) as i32,
                image: self.rng.pick(2),
                roll: 0,
            };
            let doc = deployment(&self.ns, &d, &self.images[d.image]);
            self.create("deployment create", "deployments", &d.name, doc)
                .await;
            self.deployments.push(d);
        } else if roll < 20 {
            let i = self.rng.pick(deps);
            let replicas = self.rng.range(0, 3) as i32;
            let name = self.deployments[i].name.clone();
            let patch = serde_json::json!({"spec": {"replicas": replicas}});
            if self
                .patch("deployment scale", "deployments", &name, patch)
                .await
                == Some(false)
            {
                self.deployments.remove(i);
            } else {
                self.deployments[i].replicas = replicas;
            }
        } else if roll < 32 {
            let i = self.rng.pick(deps);
            let mut d = self.deployments[i].clone();
            // Half the rolls change the image (the run's second tag of busybox), half the env.
            if self.rng.chance(50) {
                d.image = 1 - d.image;
            } else {
                d.roll += 1;
            }
            let patch = serde_json::json!({"spec": {"template": {"spec": {"containers": [{
                "name": "web",
                "image": self.images[d.image],
                "command": ["sh", "-c", "mkdir -p /www && hostname > /www/index.html; httpd -f -p 8080 -h /www & trap 'exit 0' TERM; wait"],
                "env": [{"name": "SOAK_ROLL", "value": d.roll.to_string()}],
                "ports": [{"name": "http", "containerPort": 8080}],
                "readinessProbe": {"httpGet": {"path": "/", "port": "http"}, "periodSeconds": 2},
                "resources": {"requests": {"cpu": "10m", "memory": "8Mi"}, "limits": {"memory": "32Mi"}}
            }]}}}});
            if self
                .patch("deployment roll", "deployments", &d.name, patch)
                .await
                == Some(false)
            {
                self.deployments.remove(i);
            } else {
                self.deployments[i] = d;
            }
        } else if roll < 38 && deps > 2 {
            let i = self.rng.pick(deps);
            let d = self.deployments.remove(i);
            self.delete("deployment delete", "deployments", &d.name)
                .await;
        } else if roll < 48 && self.jobs.len() < 2 {
            let name = self.next_name("job");
            self.create("job create", "jobs", &name, job(&self.ns, &name))
                .await;
            self.jobs.push(name);
        } else if roll < 54 && !self.jobs.is_empty() {
            let name = self.jobs.remove(0);
            self.delete("job delete", "jobs", &name).await;
        } else if roll < 64 && self.services.len() < 4 {
            let app = self.deployments[self.rng.pick(deps)].name.clone();
            let name = self.next_name("svc");
            self.create(
                "service create",
                "services",
                &name,
                service(&self.ns, &name, &app),
            )
            .await;
            self.services.push(name);
        } else if roll < 70 && !self.services.is_empty() {
            let i = self.rng.pick(self.services.len());
            let name = self.services.remove(i);
            self.delete("service delete", "services", &name).await;
        } else if roll < 78 && self.configmaps.len() < 5 {
            let name = self.next_name("cm");
            self.create(
                "configmap create",
                "configmaps",
                &name,
                configmap(&self.ns, &name, 0),
            )
            .await;
            self.configmaps.push((name, 0));
        } else if roll < 94 && !self.configmaps.is_empty() {
            let i = self.rng.pick(self.configmaps.len());
            let (name, v) = self.configmaps[i].clone();
            let patch = serde_json::json!({"data": {"version": (v + 1).to_string()}});
            if self
                .patch("configmap update", "configmaps", &name, patch)
                .await
                == Some(false)
            {
                self.configmaps.remove(i);
            } else {
                self.configmaps[i].1 = v + 1;
            }
        } else if !self.configmaps.is_empty() {
            let i = self.rng.pick(self.configmaps.len());
            let (name, _) = self.configmaps.remove(i);
            self.delete("configmap delete", "configmaps", &name).await;
        }
    }

    async fn run(mut self, stop: Arc<AtomicBool>) {
        while !stop.load(Ordering::Relaxed) {
            self.step().await;
            let pause = self.rng.range(300, 1200);
            tokio::time::sleep(Duration::from_millis(pause)).await;
        }
    }
}

/// Kills, restarts, partitions and memory samples, counted.
#[derive(Default)]
struct Chaos {
    kills: BTreeMap<String, u64>,
    /// Daemons found dead that the chaos loop had not killed (crashes), with a log line.
    crashes: Vec<String>,
    /// Exits on lost leadership (`leader election lost`): Kubernetes' controller-manager
    /// and scheduler exit so too and count on their supervisor to restart them.
    lease_exits: BTreeMap<String, u64>,
    partitions: u64,
    rss: RssLog,
}

fn read_rss(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    integration_tests::soak::rss::parse_vm_rss(&status)
}

/// The last line of a daemon's log that reads like a failure.
fn last_error(c: &Cluster, d: Daemon) -> String {
    let name = daemon_name(d);
    let Ok(entries) = std::fs::read_dir(c.dir()) else {
        return String::new();
    };
    let mut logs: Vec<_> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .map(|f| f.to_string_lossy().ends_with(&format!("-{name}.log")))
                .unwrap_or(false)
        })
        .collect();
    logs.sort();
    let Some(path) = logs.last() else {
        return String::new();
    };
    let body = std::fs::read_to_string(path).unwrap_or_default();
    body.lines()
        .rev()
        .find(|l| {
            l.starts_with("Error:")
                || l.contains("panicked at")
                || l.contains(" ERROR ")
                || l.contains(" error=")
        })
        .unwrap_or("")
        .chars()
        .take(300)
        .collect()
}

async fn chaos_phase(c: &mut Cluster, cfg: &Config, rng: &mut Rng, chaos: &mut Chaos) {
    let started = Instant::now();
    let run = Duration::from_secs_f64(cfg.minutes * 60.0);
    let daemons = c.daemons();
    let mut restarts: Vec<(Instant, Daemon)> = vec![];
    let mut next_kill =
        started + Duration::from_secs(rng.range(cfg.kill_every.0, cfg.kill_every.1));
    let mut next_partition =
        started + Duration::from_secs(rng.range(cfg.partition_every.0, cfg.partition_every.1));
    let mut healing: Option<(Instant, usize)> = None;
    let mut next_sample = started;
    let mut next_progress = started + Duration::from_secs(60);
    while started.elapsed() < run {
        let now = Instant::now();
        let mut due = vec![];
        restarts.retain(|(at, d)| {
            if *at <= now {
                due.push(*d);
                false
            } else {
                true
            }
        });
        for d in due {
            c.start_daemon(d);
        }
        // A daemon that died on its own is a finding; restart it as a supervisor would.
        for &d in &daemons {
            if !restarts.iter().any(|(_, r)| *r == d) && !c.is_running(d) {
                let line = last_error(c, d);
                if line.contains("leader election lost") {
                    *chaos.lease_exits.entry(daemon_name(d)).or_default() += 1;
                    c.start_daemon(d);
                    continue;
                }
                chaos.crashes.push(format!(
                    "{} exited on its own at {:.0}s: {line}",
                    daemon_name(d),
                    started.elapsed().as_secs_f64()
                ));
                c.start_daemon(d);
            }
        }
        if now >= next_kill {
            let d = daemons[rng.pick(daemons.len())];
            if !restarts.iter().any(|(_, r)| *r == d) {
                c.kill(d);
                *chaos.kills.entry(daemon_name(d)).or_default() += 1;
                restarts.push((now + Duration::from_millis(rng.range(500, 3000)), d));
            }
            next_kill = now + Duration::from_secs(rng.range(cfg.kill_every.0, cfg.kill_every.1));
        }
        match healing {
            Some((at, i)) if at <= now => {
                c.heal(i);
                healing = None;
                next_partition = now
                    + Duration::from_secs(rng.range(cfg.partition_every.0, cfg.partition_every.1));
            }
            None if now >= next_partition => {
                let i = rng.pick(c.nodes.len());
                c.partition(i);
                chaos.partitions += 1;
                healing = Some((now + Duration::from_secs(rng.range(8, 20)), i));
            }
            _ => {}
        }
        if now >= next_sample {
            let at = started.elapsed().as_secs_f64();
            for &d in &daemons {
                if let Some(kib) = c.pid(d).and_then(read_rss) {
                    chaos.rss.record(&daemon_name(d), at, kib);
                }
            }
            next_sample = now + Duration::from_secs(5);
        }
        if now >= next_progress {
            let kills: u64 = chaos.kills.values().sum();
            eprintln!(
                "soak: {:.0}/{:.0} min, {kills} kills, {} partitions, {} crashes",
                started.elapsed().as_secs_f64() / 60.0,
                cfg.minutes,
                chaos.partitions,
                chaos.crashes.len()
            );
            next_progress = now + Duration::from_secs(60);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The chaos ends: everything back up, every node back on the network.
    for (_, d) in restarts {
        c.start_daemon(d);
    }
    if let Some((_, i)) = healing {
        c.heal(i);
    }
    for d in daemons {
        if !c.is_running(d) {
            c.start_daemon(d);
        }
    }
}

async fn list<K: Resource>(c: &Cluster, ns: &str) -> Option<Vec<K>> {
    let api: client::Api<K> = client::Api::namespaced(c.client.clone(), ns);
    tokio::time::timeout(CALL_TIMEOUT, api.list(&client::ListParams::default()))
        .await
        .ok()?
        .ok()
        .map(|l| l.items)
}

fn name_of<K: Resource>(o: &K) -> String {
    o.meta().name.clone()
}

fn selector_matches(labels: &BTreeMap<String, String>, sel: &BTreeMap<String, String>) -> bool {
    !sel.is_empty() && sel.iter().all(|(k, v)| labels.get(k) == Some(v))
}

/// Ready, not terminating pods a Service's selector picks, by IP.
fn ready_backends(pods: &[k8s::Pod], svc: &k8s::Service) -> BTreeMap<String, String> {
    let sel = svc
        .spec
        .as_ref()
        .map(|s| s.selector.clone())
        .unwrap_or_default();
    pods.iter()
        .filter(|p| selector_matches(&p.meta().labels, &sel) && is_ready(p) && !is_terminating(p))
        .map(|p| (pod_ip(p), name_of(p)))
        .collect()
}

/// What still differs from the desired state (empty: converged).
async fn unconverged(c: &Cluster, ns: &str) -> Vec<String> {
    let mut out = vec![];
    let (Some(deps), Some(pods), Some(jobs), Some(svcs), Some(nodes)) = (
        list::<k8s::Deployment>(c, ns).await,
        list::<k8s::Pod>(c, ns).await,
        list::<k8s::Job>(c, ns).await,
        list::<k8s::Service>(c, ns).await,
        list::<k8s::Node>(c, "").await,
    ) else {
        return vec!["the apiserver does not answer lists".into()];
    };
    for n in &nodes {
        let ready = n.status.as_ref().is_some_and(|s| {
            s.conditions
                .iter()
                .any(|c| c.r#type == "Ready" && c.status == "True")
        });
        if !ready {
            out.push(format!("node {} not Ready", name_of(n)));
        }
    }
    for d in &deps {
        let want = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
        let st = d.status.clone().unwrap_or_default();
        let gen_ok = i64::from(st.observed_generation) >= i64::from(d.meta().generation);
        let app = name_of(d);
        let mine: Vec<&k8s::Pod> = pods
            .iter()
            .filter(|p| p.meta().labels.get("app") == Some(&app))
            .collect();
        let live = mine.iter().filter(|p| !is_terminating(p)).count() as i32;
        let ready = mine
            .iter()
            .filter(|p| !is_terminating(p) && is_ready(p))
            .count() as i32;
        if !gen_ok
            || st.replicas != want
            || st.updated_replicas != want
            || st.ready_replicas != want
            || live != want
            || ready != want
        {
            out.push(format!(
                "deployment {app}: want {want}, status replicas {} updated {} ready {} (observed gen {} of {}), pods {live} live {ready} ready",
                st.replicas, st.updated_replicas, st.ready_replicas, st.observed_generation, d.meta().generation
            ));
        }
    }
    let apps: BTreeSet<String> = deps.iter().map(name_of).collect();
    for p in &pods {
        if is_terminating(p) {
            out.push(format!("pod {} still terminating", name_of(p)));
        } else if let Some(app) = p.meta().labels.get("app")
            && !apps.contains(app)
        {
            out.push(format!(
                "pod {} of deleted deployment {app} not collected",
                name_of(p)
            ));
        }
    }
    for j in &jobs {
        let done = j.status.as_ref().is_some_and(|s| {
            s.conditions
                .iter()
                .any(|c| (c.r#type == "Complete" || c.r#type == "Failed") && c.status == "True")
        });
        if !done {
            out.push(format!("job {} not finished", name_of(j)));
        }
    }
    for s in &svcs {
        let want: Vec<String> = ready_backends(&pods, s).into_keys().collect();
        let got = c.endpoint_ips(ns, &name_of(s)).await;
        if want != got {
            out.push(format!(
                "service {}: endpoints {got:?}, ready pods {want:?}",
                name_of(s)
            ));
        }
    }
    out
}

/// Check (1): every object the writer touched honours its acknowledged writes.
async fn check_ledger(c: &Cluster, ns: &str, ledger: &Ledger, failures: &mut Vec<String>) -> u64 {
    let mut checked = 0;
    for ((resource, name), entry) in &ledger.entries {
        let got = tokio::time::timeout(CALL_TIMEOUT, c.client.get(resource, ns, name)).await;
        let seen = match got {
            Ok(Ok(o)) => Observed::Present {
                revision: revision(&o),
                terminating: !o.meta().deletion_timestamp.is_empty(),
            },
            Ok(Err(e)) if e.is(Reason::NotFound) => Observed::Absent,
            Ok(Err(e)) => {
                failures.push(format!("ledger: reading {resource}/{name}: {e}"));
                continue;
            }
            Err(_) => {
                failures.push(format!("ledger: reading {resource}/{name} timed out"));
                continue;
            }
        };
        match verdict(entry, seen) {
            Ok(true) => checked += 1,
            Ok(false) => {}
            Err(why) => failures.push(format!("lost write: {resource}/{name}: {why} ({entry:?})")),
        }
    }
    checked
}

/// Check (2): no ReplicaSet has more live pods than its spec.
async fn check_duplicates(c: &Cluster, ns: &str, failures: &mut Vec<String>) -> usize {
    let (Some(rss), Some(pods)) = (
        list::<k8s::ReplicaSet>(c, ns).await,
        list::<k8s::Pod>(c, ns).await,
    ) else {
        failures.push("duplicates: cannot list".into());
        return 0;
    };
    for rs in &rss {
        let want = rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
        let uid = &rs.meta().uid;
        let live = pods
            .iter()
            .filter(|p| {
                !is_terminating(p) && p.meta().owner_references.iter().any(|o| &o.uid == uid)
            })
            .count() as i32;
        if live > want {
            failures.push(format!(
                "duplicate pods: replicaset {} has {live} live pods for {want} replicas",
                name_of(rs)
            ));
        }
    }
    rss.len()
}

/// Every pod uid per node (all namespaces).
async fn pods_by_node(c: &Cluster) -> Option<BTreeMap<String, BTreeSet<String>>> {
    let pods = list::<k8s::Pod>(c, "").await?;
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for p in pods {
        let node = p
            .spec
            .as_ref()
            .map(|s| s.node_name.clone())
            .unwrap_or_default();
        out.entry(node).or_default().insert(p.meta().uid.clone());
    }
    Some(out)
}

/// The kubelet's IPAM files under its root dir: address -> pod uid.
fn ipam_allocations(root: &std::path::Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if dir
                .parent()
                .and_then(|d| d.file_name())
                .is_some_and(|n| n == "ipam")
            {
                let name = e.file_name().to_string_lossy().into_owned();
                if name.parse::<std::net::Ipv4Addr>().is_ok() {
                    let uid = std::fs::read_to_string(&p).unwrap_or_default();
                    out.insert(name, uid.trim().to_string());
                }
            }
        }
    }
    out
}

#[derive(Default)]
struct LeakCount {
    containers: usize,
    addresses: usize,
    rules: usize,
}

/// Check (3) at one moment: containers, addresses and proxy rules of things that are gone.
async fn find_leaks(c: &Cluster, ns: &str, failures: &mut Vec<String>) -> Option<LeakCount> {
    let by_node = pods_by_node(c).await?;
    let svcs = list::<k8s::Service>(c, "").await?;
    let live_services: BTreeSet<String> = svcs
        .iter()
        .map(|s| format!("{}/{}", s.meta().namespace, s.meta().name))
        .collect();
    let live_ips: BTreeSet<std::net::Ipv4Addr> = svcs
        .iter()
        .filter_map(|s| s.spec.as_ref()?.cluster_ip.parse().ok())
        .collect();
    let range = leaks::parse_cidr(&c.service_cidr)?;
    let mut count = LeakCount::default();
    let empty = BTreeSet::new();
    for (i, n) in c.nodes.iter().enumerate() {
        let uids = by_node.get(&n.name).unwrap_or(&empty);
        let ps = docker(&[
            "ps",
            "-a",
            "--filter",
            &format!(
                "label={}={}",
                integration_tests::cluster::NODE_LABEL,
                n.name
            ),
            "--format",
            "{{.ID}} {{.Label \"io.kubernetes.pod.uid\"}} {{.Label \"io.kubernetes.pod.namespace\"}}/{{.Label \"io.kubernetes.pod.name\"}} {{.State}}",
        ]);
        let rows = leaks::parse_container_rows(&text(&ps.stdout));
        let found = leaks::container_leaks(&rows, uids);
        count.containers += found.len();
        failures.extend(
            found
                .into_iter()
                .map(|f| format!("leak on {}: {f}", n.name)),
        );

        let found = leaks::ipam_leaks(&ipam_allocations(&c.kubelet_root(i)), uids);
        count.addresses += found.len();
        failures.extend(
            found
                .into_iter()
                .map(|f| format!("leak on {}: {f}", n.name)),
        );

        let (named, ips, orphans) = if c.opts.nftables_nodes.contains(&i) {
            let out = c.node_exec(i, &["nft", "list", "table", "ip", "kube-proxy"]);
            let t = text(&out.stdout);
            (
                leaks::nft_services(&t),
                leaks::service_range_ips(&t, range),
                BTreeSet::new(),
            )
        } else {
            let out = c.node_exec(i, &["iptables-save", "-t", "nat"]);
            let t = text(&out.stdout);
            (
                leaks::iptables_comment_services(&t),
                leaks::service_range_ips(&t, range),
                leaks::iptables_orphan_chains(&t),
            )
        };
        let found = leaks::stale_rules(&named, &ips, &orphans, &live_services, &live_ips, ns);
        count.rules += found.len();
        failures.extend(
            found
                .into_iter()
                .map(|f| format!("leak on {}: {f}", n.name)),
        );
    }
    Some(count)
}

/// Waits (up to `within`) for no leak; returns the last count, with the leaks recorded as
/// failures only if they outlast the wait (a kubelet removes a deleted pod's containers a
/// moment after the API forgets it).
async fn settled_leaks(
    c: &Cluster,
    ns: &str,
    within: Duration,
    failures: &mut Vec<String>,
) -> LeakCount {
    let deadline = Instant::now() + within;
    loop {
        let mut found = vec![];
        let count = find_leaks(c, ns, &mut found).await;
        match count {
            Some(n) if found.is_empty() => return n,
            Some(n) if Instant::now() >= deadline => {
                failures.extend(found);
                return n;
            }
            None if Instant::now() >= deadline => {
                failures.push("leaks: the apiserver does not answer".into());
                return LeakCount::default();
            }
            _ => tokio::time::sleep(Duration::from_secs(2)).await,
        }
    }
}

/// Check (5): endpoints are the ready pods, and traffic through the ClusterIP from every
/// node reaches only them, and every request is answered. Returns requests made.
async fn check_services(c: &Cluster, ns: &str, failures: &mut Vec<String>) -> (usize, usize) {
    let (Some(svcs), Some(pods)) = (
        list::<k8s::Service>(c, ns).await,
        list::<k8s::Pod>(c, ns).await,
    ) else {
        failures.push("services: cannot list".into());
        return (0, 0);
    };
    let mut requests = 0;
    for s in &svcs {
        let name = name_of(s);
        let backends = ready_backends(&pods, s);
        let want: Vec<String> = backends.keys().cloned().collect();
        let got = c.endpoint_ips(ns, &name).await;
        if want != got {
            failures.push(format!(
                "service {name}: endpoints {got:?} but ready pods {want:?}"
            ));
        }
        if backends.is_empty() {
            continue;
        }
        let ip = s
            .spec
            .as_ref()
            .map(|s| s.cluster_ip.clone())
            .unwrap_or_default();
        let url = format!("http://{ip}/");
        let names: BTreeSet<&String> = backends.values().collect();
        for i in 0..c.nodes.len() {
            for _ in 0..4 {
                requests += 1;
                let out = c.node_exec(
                    i,
                    &[
                        "busybox", "timeout", "3", "busybox", "wget", "-q", "-O-", &url,
                    ],
                );
                let answer = text(&out.stdout).trim().to_string();
                if !out.status.success() {
                    failures.push(format!(
                        "service {name} ({ip}) from node {i}: no answer ({})",
                        text(&out.stderr).trim()
                    ));
                } else if !names.contains(&answer) {
                    failures.push(format!(
                        "service {name} ({ip}) from node {i}: answered by {answer:?}, not a ready endpoint {names:?}"
                    ));
                }
            }
        }
    }
    (svcs.len(), requests)
}

/// Deletes everything the writer made in `ns` and waits until its pods are gone.
async fn cleanup(c: &Cluster, ns: &str) -> bool {
    for resource in [
        "deployments",
        "jobs",
        "services",
        "configmaps",
        "replicasets",
        "pods",
    ] {
        let req = k8s::ListRequest {
            resource: resource.into(),
            namespace: ns.into(),
            label_selector: "soak=yes".into(),
            ..Default::default()
        };
        let Ok(Ok(l)) = tokio::time::timeout(CALL_TIMEOUT, c.client.list(req)).await else {
            continue;
        };
        for o in l.items {
            let req = DeleteRequest {
                resource: resource.into(),
                namespace: ns.into(),
                name: o.meta().name.clone(),
                propagation_policy: "Background".into(),
                ..Default::default()
            };
            let _ = tokio::time::timeout(CALL_TIMEOUT, c.client.delete(req)).await;
        }
    }
    let deadline = Instant::now() + Duration::from_secs(180);
    while Instant::now() < deadline {
        if list::<k8s::Pod>(c, ns).await.is_some_and(|p| p.is_empty()) {
            return true;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    false
}

fn main() -> ExitCode {
    if !prerequisites("soak") {
        return ExitCode::SUCCESS;
    }
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("soak: tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    rt.block_on(soak())
}

async fn soak() -> ExitCode {
    let cfg = Config::from_env();
    let mut rng = Rng::new(cfg.seed);
    let t0 = Instant::now();
    let mut c = Cluster::start("soak", Options::default()).await;
    let up = t0.elapsed();
    let ns = format!("soak-{}", c.tag);
    eprintln!(
        "soak: cluster e2e-{} up in {:.1}s; namespace {ns}; {} min of chaos; seed {}",
        c.tag,
        up.as_secs_f64(),
        cfg.minutes,
        cfg.seed
    );
    let namespace =
        serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}});
    let namespace = proto::manifest::object_from_value(namespace).expect("a Namespace manifest");
    c.client
        .create(namespace)
        .await
        .expect("create the soak's namespace");
    c.wait_namespace_ready(&ns).await;
    let v2 = c.tag_image("soakv2");
    let stats = Arc::new(Mutex::new(Stats::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let churn = Churn {
        client: c.client.clone(),
        ns: ns.clone(),
        images: ["local/busybox:1".to_string(), v2],
        rng: Rng::new(cfg.seed.rotate_left(17) ^ 0x5eed),
        stats: stats.clone(),
        seq: 0,
        deployments: vec![],
        services: vec![],
        jobs: vec![],
        configmaps: vec![],
    };
    let writer = tokio::spawn(churn.run(stop.clone()));

    let mut chaos = Chaos::default();
    let chaos_started = Instant::now();
    chaos_phase(&mut c, &cfg, &mut rng, &mut chaos).await;
    let chaos_secs = chaos_started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let _ = tokio::time::timeout(Duration::from_secs(120), writer).await;
    // The admin client may hold a connection to a killed apiserver: a fresh one.
    c.reconnect().await;

    let mut failures: Vec<String> = chaos.crashes.clone();
    let t = Instant::now();
    let mut remaining = vec![];
    while t.elapsed() < cfg.converge {
        remaining = unconverged(&c, &ns).await;
        if remaining.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    let converge = t.elapsed();
    let converged = remaining.is_empty();
    if !converged {
        failures.extend(
            remaining
                .iter()
                .map(|r| format!("not converged after {:?}: {r}", cfg.converge)),
        );
    }

    let stats = std::mem::take(&mut *lock(&stats));
    let writes_checked = check_ledger(&c, &ns, &stats.ledger, &mut failures).await;
    let replicasets = check_duplicates(&c, &ns, &mut failures).await;
    let leaks_converged = settled_leaks(&c, &ns, Duration::from_secs(60), &mut failures).await;
    let (services, requests) = check_services(&c, &ns, &mut failures).await;
    let cleaned = cleanup(&c, &ns).await;
    if !cleaned {
        failures.push("cleanup: the namespace's pods are not gone after 180 s".into());
    }
    let leaks_after = settled_leaks(&c, &ns, Duration::from_secs(60), &mut failures).await;
    let rss = chaos.rss.summarize(chaos_secs);
    for r in rss.iter().filter(|r| r.grew()) {
        failures.push(format!(
            "memory: {} peak RSS grew from {} KiB (first fifth) to {} KiB (last fifth)",
            r.daemon,
            r.first_peak_kib.unwrap_or(0),
            r.last_peak_kib.unwrap_or(0)
        ));
    }
    let _ = c.ctl(&["delete", "namespace", &ns, "--wait=false"], None);

    // The summary.
    let mut s = String::new();
    let _ = writeln!(
        s,
        "== chaos soak: {:.1} min of chaos, seed {}, cluster up in {:.1}s ==",
        chaos_secs / 60.0,
        cfg.seed,
        up.as_secs_f64()
    );
    let _ = writeln!(
        s,
        "churn operations (acknowledged / outcome unknown / refused):"
    );
    let (mut ta, mut tu, mut tr) = (0, 0, 0);
    for (what, (a, u, r)) in &stats.ops {
        let _ = writeln!(s, "  {what:<20} {a:>6} {u:>6} {r:>6}");
        ta += a;
        tu += u;
        tr += r;
    }
    let _ = writeln!(s, "  {:<20} {ta:>6} {tu:>6} {tr:>6}", "total");
    let kills: u64 = chaos.kills.values().sum();
    let _ = writeln!(s, "kills (SIGKILL, restarted 0.5-3 s later): {kills}");
    for (d, n) in &chaos.kills {
        let _ = writeln!(s, "  {d:<20} {n:>6}");
    }
    let _ = writeln!(s, "partitions (8-20 s each): {}", chaos.partitions);
    let lease_exits: u64 = chaos.lease_exits.values().sum();
    let _ = writeln!(
        s,
        "exits on lost leadership (restarted, as a supervisor would): {lease_exits} {:?}",
        chaos.lease_exits
    );
    let _ = writeln!(
        s,
        "daemons that exited otherwise (crashes): {}",
        chaos.crashes.len()
    );
    let _ = writeln!(
        s,
        "convergence: {} in {:.1}s",
        if converged {
            "converged"
        } else {
            "NOT converged"
        },
        converge.as_secs_f64()
    );
    let _ = writeln!(
        s,
        "writes: {} acknowledged, {} with unknown outcome; {} objects checked against the ledger",
        stats.ledger.acked_writes(),
        stats.ledger.ambiguous_writes(),
        writes_checked
    );
    let _ = writeln!(s, "replicasets checked for duplicate pods: {replicasets}");
    let _ = writeln!(
        s,
        "services checked: {services} ({requests} requests through ClusterIPs)"
    );
    let _ = writeln!(
        s,
        "leaks when converged: containers {}, addresses {}, proxy rules {}; after cleanup: containers {}, addresses {}, proxy rules {}",
        leaks_converged.containers,
        leaks_converged.addresses,
        leaks_converged.rules,
        leaks_after.containers,
        leaks_after.addresses,
        leaks_after.rules
    );
    let _ = writeln!(
        s,
        "peak RSS (MiB): first fifth -> last fifth (max over run, samples)"
    );
    let mib = |k: Option<u64>| {
        k.map(|k| format!("{:.1}", k as f64 / 1024.0))
            .unwrap_or_else(|| "-".into())
    };
    for r in &rss {
        let _ = writeln!(
            s,
            "  {:<20} {:>7} -> {:>7}  ({} , {}){}",
            r.daemon,
            mib(r.first_peak_kib),
            mib(r.last_peak_kib),
            mib(Some(r.max_kib)),
            r.samples,
            if r.grew() { "  GREW > 2x" } else { "" }
        );
    }
    if !stats.refusals.is_empty() {
        let _ = writeln!(s, "refused writes (first {}):", stats.refusals.len());
        for r in &stats.refusals {
            let _ = writeln!(s, "  {r}");
        }
    }
    let _ = writeln!(s, "failures: {}", failures.len());
    for f in failures.iter().take(60) {
        let _ = writeln!(s, "  FAIL {f}");
    }
    println!("{s}");
    if let Some(path) = &cfg.report {
        let _ = std::fs::write(path, &s);
    }
    if failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        c.dump_logs(30);
        ExitCode::FAILURE
    }
}
