//! The store under repeated crashes: the real apiserver binary on one sled data directory,
//! SIGKILLed again and again under concurrent writers, each restart checked against what
//! the clients were told. Driven by `benches/crash_loop.rs` (100 rounds) and by a short
//! test in `tests/apiserver_crash.rs` (3 rounds).
//!
//! Each writer owns its keys, so it knows what each key must hold after a crash: the last
//! acknowledged write, or the one write it had in flight (which may or may not have been
//! applied). Watchers keep a copy of the state from their events and resume from the last
//! revision they saw; after each restart that copy must equal a fresh list.

use std::collections::{BTreeMap, HashMap};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use proto::k8s::{ConfigMap, DeleteRequest, ListRequest, Namespace, Secret, WatchRequest};
use proto::{Object, Preconditions, Resource};

use crate::{Process, free_addr, spawn_apiserver};

/// Namespaces the writers spread over; only objects in them are compared.
const NAMESPACES: [&str; 4] = ["crash-a", "crash-b", "crash-c", "crash-d"];
/// The two kinds written (no pods: nothing here runs them).
const RESOURCES: [&str; 2] = ["configmaps", "secrets"];
/// How long any one wait (a restart, a watch catching up) may take before the run fails.
const WAIT: Duration = Duration::from_secs(60);

#[derive(Debug, Clone)]
pub struct Config {
    pub rounds: usize,
    pub writers: usize,
    pub keys_per_writer: usize,
    /// The SIGKILL comes this long after the writers start, uniformly at random.
    pub kill_after: (Duration, Duration),
    pub seed: u64,
    /// Print one line per round.
    pub verbose: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            rounds: 100,
            writers: 8,
            keys_per_writer: 16,
            kill_after: (Duration::from_millis(200), Duration::from_millis(2000)),
            seed: 1,
            verbose: true,
        }
    }
}

/// One round's figures.
#[derive(Debug, Clone, Default)]
pub struct Round {
    pub round: usize,
    /// Writes the server acknowledged before the kill (creates, updates, deletes).
    pub acked: usize,
    /// Writes in flight at the kill, answered by nobody.
    pub in_flight: usize,
    /// Of those, found applied after the restart.
    pub in_flight_applied: usize,
    /// Acknowledged writes missing from the store after the restart.
    pub lost: usize,
    /// Acknowledged writes no watcher delivered at their revision.
    pub watch_missed: usize,
    /// Watch events received and checked this round (before the kill and after resuming).
    pub watch_events: usize,
    /// SIGKILL to the first successful request of the new process.
    pub restart: Duration,
    /// The store's revision after the restart (the first write after it).
    pub revision: u64,
}

#[derive(Debug, Default)]
pub struct Report {
    pub rounds: Vec<Round>,
    /// Every broken promise, one line each; empty when the run passed.
    pub failures: Vec<String>,
    /// Errors a writer got from a live server (not caused by the kill): reported, not fatal.
    pub unexpected_errors: Vec<String>,
}

impl Report {
    pub fn acked(&self) -> usize {
        self.rounds.iter().map(|r| r.acked).sum()
    }
    pub fn lost(&self) -> usize {
        self.rounds.iter().map(|r| r.lost).sum()
    }
    pub fn watch_missed(&self) -> usize {
        self.rounds.iter().map(|r| r.watch_missed).sum()
    }
    pub fn watch_events(&self) -> usize {
        self.rounds.iter().map(|r| r.watch_events).sum()
    }
    pub fn restart_percentile(&self, p: f64) -> Duration {
        let mut v: Vec<Duration> = self.rounds.iter().map(|r| r.restart).collect();
        percentile(&mut v, p)
    }
}

pub fn percentile(v: &mut [Duration], p: f64) -> Duration {
    if v.is_empty() {
        return Duration::ZERO;
    }
    v.sort();
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i.min(v.len() - 1)]
}

// ---------------------------------------------------------------------------------------
// Pure decisions: what a key may hold after a crash, how a watch event moves a copy.

/// A key's state as a client knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// Absent as of revision `rv` (a delete's revision, or a list's).
    Absent {
        rv: u64,
    },
    Present {
        rv: u64,
        hash: u64,
    },
}

/// A write sent but never answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intent {
    Put { hash: u64 },
    Delete,
}

/// Whether `actual` (after the restart) is what the last acknowledged state `known` and
/// the unanswered write `pending` allow. `Err` names the loss.
pub fn judge(
    known: Seen,
    pending: Option<Intent>,
    actual: Option<(u64, u64)>,
) -> Result<(), String> {
    match (known, actual) {
        (Seen::Present { rv, hash }, Some((arv, ahash))) => {
            if arv == rv && ahash == hash {
                Ok(())
            } else if arv == rv {
                Err(format!("same resourceVersion {rv} with other content"))
            } else if arv > rv && pending == Some(Intent::Put { hash: ahash }) {
                Ok(())
            } else if arv < rv {
                Err(format!("acknowledged write at {rv} lost: back at {arv}"))
            } else {
                Err(format!(
                    "acknowledged {rv} replaced by unknown content at {arv}"
                ))
            }
        }
        (Seen::Present { rv, .. }, None) => {
            if pending == Some(Intent::Delete) {
                Ok(())
            } else {
                Err(format!("acknowledged write at {rv} lost: key absent"))
            }
        }
        (Seen::Absent { .. }, None) => Ok(()),
        (Seen::Absent { rv }, Some((arv, ahash))) => {
            if arv > rv && pending == Some(Intent::Put { hash: ahash }) {
                Ok(())
            } else {
                Err(format!(
                    "absent since {rv} (acknowledged) but present at {arv}"
                ))
            }
        }
    }
}

/// A watcher's copy of the objects it watches: key -> (resourceVersion, content hash).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WatchCopy {
    pub objects: BTreeMap<String, (u64, u64)>,
    pub last_rv: u64,
}

/// Applies one event to the copy: revisions strictly increase (no duplicate, nothing
/// replayed), ADDED only for an absent key, MODIFIED and DELETED only for a present one.
pub fn apply_event(
    copy: &mut WatchCopy,
    kind: &str,
    key: &str,
    rv: u64,
    hash: u64,
) -> Result<(), String> {
    if rv <= copy.last_rv {
        return Err(format!(
            "{kind} {key} at {rv} after {}: duplicate or replayed",
            copy.last_rv
        ));
    }
    copy.last_rv = rv;
    match kind {
        "ADDED" => {
            if let Some((old, _)) = copy.objects.insert(key.to_string(), (rv, hash)) {
                return Err(format!("ADDED {key} at {rv} but present since {old}"));
            }
        }
        "MODIFIED" => {
            if copy.objects.insert(key.to_string(), (rv, hash)).is_none() {
                return Err(format!("MODIFIED {key} at {rv} but absent (missed ADDED)"));
            }
        }
        "DELETED" => {
            if copy.objects.remove(key).is_none() {
                return Err(format!("DELETED {key} at {rv} but absent"));
            }
        }
        other => return Err(format!("unexpected event type {other} for {key} at {rv}")),
    }
    Ok(())
}

/// The first differences between a watcher's copy and a list, at most `max`.
pub fn diff(
    copy: &BTreeMap<String, (u64, u64)>,
    list: &BTreeMap<String, (u64, u64)>,
    max: usize,
) -> Vec<String> {
    let mut out = Vec::new();
    for (k, v) in copy {
        match list.get(k) {
            Some(l) if l == v => {}
            Some(l) => out.push(format!("{k}: watch has rv {} list has rv {}", v.0, l.0)),
            None => out.push(format!("{k}: watch has rv {}, list has nothing", v.0)),
        }
    }
    for (k, l) in list {
        if !copy.contains_key(k) {
            out.push(format!("{k}: list has rv {}, watch has nothing", l.0));
        }
    }
    out.truncate(max);
    out
}

// ---------------------------------------------------------------------------------------
// Objects: content a writer can recognise, and a checksum that shows a torn write.

fn hash_of(v: &str, pad: &str) -> u64 {
    let mut h = DefaultHasher::new();
    v.hash(&mut h);
    pad.hash(&mut h);
    h.finish()
}

fn make_object(resource: &str, ns: &str, name: &str, token: &str, pad_len: usize) -> (Object, u64) {
    let pad: String = token.chars().cycle().take(pad_len).collect();
    let hash = hash_of(token, &pad);
    let entries = [
        ("v", token.to_string()),
        ("pad", pad),
        ("sum", format!("{hash:016x}")),
    ];
    let obj = if resource == "configmaps" {
        let mut cm = ConfigMap::default();
        cm.meta_mut().name = name.to_string();
        cm.meta_mut().namespace = ns.to_string();
        cm.data = entries
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        cm.into_object()
    } else {
        let mut s = Secret::default();
        s.meta_mut().name = name.to_string();
        s.meta_mut().namespace = ns.to_string();
        s.data = entries
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.into_bytes()))
            .collect();
        s.into_object()
    };
    (obj, hash)
}

/// The content hash of a stored object, checked against the checksum it carries: `Err`
/// when it does not decode as what a writer wrote or fails validation.
fn read_object(obj: &Object) -> Result<(String, u64, u64), String> {
    let meta = obj.meta();
    let key = format!("{}/{}", meta.namespace, meta.name);
    let rv: u64 = meta.resource_version.parse().map_err(|_| {
        format!(
            "{key}: resourceVersion {:?} not a number",
            meta.resource_version
        )
    })?;
    let invalid = proto::kind_validation::validate(obj);
    if !invalid.is_empty() {
        return Err(format!(
            "{key}: stored object fails validation: {invalid:?}"
        ));
    }
    let field = |name: &str| -> Option<String> {
        if let Ok(cm) = ConfigMap::try_from_object(obj.clone()) {
            cm.data.get(name).cloned()
        } else if let Ok(s) = Secret::try_from_object(obj.clone()) {
            s.data
                .get(name)
                .map(|b| String::from_utf8_lossy(b).into_owned())
        } else {
            None
        }
    };
    if meta.name.starts_with("marker-") {
        return Ok((key, rv, 0));
    }
    let (Some(v), Some(pad), Some(sum)) = (field("v"), field("pad"), field("sum")) else {
        return Err(format!("{key}: at {rv} misses v, pad or sum"));
    };
    let hash = hash_of(&v, &pad);
    if format!("{hash:016x}") != sum {
        return Err(format!(
            "{key}: at {rv} checksum {sum} does not match its content (torn write)"
        ));
    }
    Ok((key, rv, hash))
}

fn full_key(resource: &str, key: &str) -> String {
    format!("{resource}/{key}")
}

// ---------------------------------------------------------------------------------------
// Randomness without a dependency: xorshift, seeded by the run.

#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

// ---------------------------------------------------------------------------------------
// Writers.

#[derive(Debug, Clone)]
struct KeySlot {
    resource: &'static str,
    ns: &'static str,
    name: String,
    known: Seen,
}

#[derive(Debug, Clone, Copy)]
struct Ack {
    rv: u64,
    /// `None` for a delete.
    hash: Option<u64>,
}

/// What a writer did in a round, kept outside its task so an aborted task loses nothing.
#[derive(Debug, Default)]
struct WriterLog {
    /// (slot index, acknowledged write), in order.
    acks: Vec<(usize, Ack)>,
    /// The write sent and not answered yet.
    pending: Option<(usize, Intent)>,
    /// When and what: an error before the kill is the server's fault.
    errors: Vec<(Instant, String)>,
}

async fn writer(
    client: client::Client,
    slots: Arc<Mutex<Vec<KeySlot>>>,
    log: Arc<Mutex<WriterLog>>,
    mut rng: Rng,
    round: usize,
    id: usize,
) {
    let n = slots.lock().unwrap().len();
    for seq in 0.. {
        let i = rng.below(n as u64) as usize;
        let slot = slots.lock().unwrap()[i].clone();
        let token = format!("r{round}w{id}s{seq}");
        let pad = 64 + rng.below(2048) as usize;
        let (obj, hash) = make_object(slot.resource, slot.ns, &slot.name, &token, pad);
        let result = match slot.known {
            Seen::Absent { .. } => {
                log.lock().unwrap().pending = Some((i, Intent::Put { hash }));
                client.create(obj).await.map(|o| (o, Some(hash)))
            }
            Seen::Present { rv, .. } if rng.below(4) > 0 => {
                log.lock().unwrap().pending = Some((i, Intent::Put { hash }));
                let mut obj = obj;
                obj.meta_mut().resource_version = rv.to_string();
                client.update(obj, "").await.map(|o| (o, Some(hash)))
            }
            Seen::Present { rv, .. } => {
                log.lock().unwrap().pending = Some((i, Intent::Delete));
                client
                    .delete(DeleteRequest {
                        resource: slot.resource.to_string(),
                        namespace: slot.ns.to_string(),
                        name: slot.name.clone(),
                        preconditions: Some(Preconditions {
                            resource_version: rv.to_string(),
                            ..Default::default()
                        }),
                        ..Default::default()
                    })
                    .await
                    .map(|o| (o, None))
            }
        };
        match result {
            Ok((o, hash)) => {
                let Ok(rv) = o.meta().resource_version.parse::<u64>() else {
                    log.lock().unwrap().errors.push((
                        Instant::now(),
                        format!(
                            "{}: non-numeric resourceVersion {:?}",
                            slot.name,
                            o.meta().resource_version
                        ),
                    ));
                    return;
                };
                slots.lock().unwrap()[i].known = match hash {
                    Some(hash) => Seen::Present { rv, hash },
                    None => Seen::Absent { rv },
                };
                let mut l = log.lock().unwrap();
                l.pending = None;
                l.acks.push((i, Ack { rv, hash }));
            }
            Err(e) => {
                // The kill (or an error) ends this writer's round; its write stays pending:
                // it may or may not have been applied.
                log.lock().unwrap().errors.push((
                    Instant::now(),
                    format!("{}/{}/{}: {e}", slot.resource, slot.ns, slot.name),
                ));
                return;
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Watchers.

#[derive(Debug, Default)]
struct WatchLog {
    copy: WatchCopy,
    /// This round's events: revision -> (key, type, hash).
    events: BTreeMap<u64, (String, String, u64)>,
    /// Events this round (all namespaces).
    count: usize,
    failures: Vec<String>,
}

async fn watcher(client: client::Client, resource: &'static str, log: Arc<Mutex<WatchLog>>) {
    let from = log.lock().unwrap().copy.last_rv;
    let mut stream = match client
        .watch(WatchRequest {
            resource: resource.to_string(),
            resource_version: from.to_string(),
            ..Default::default()
        })
        .await
    {
        Ok(s) => s,
        Err(e) => {
            log.lock()
                .unwrap()
                .failures
                .push(format!("{resource}: watch from {from} refused: {e}"));
            return;
        }
    };
    while let Some(Ok(ev)) = stream.next().await {
        let mut l = log.lock().unwrap();
        let Ok(rv) = ev.resource_version.parse::<u64>() else {
            l.failures.push(format!(
                "{resource}: event revision {:?}",
                ev.resource_version
            ));
            continue;
        };
        if ev.r#type == "BOOKMARK" {
            continue;
        }
        let Some(obj) = ev.object else {
            l.failures.push(format!(
                "{resource}: {} at {rv} without an object",
                ev.r#type
            ));
            continue;
        };
        l.count += 1;
        if !NAMESPACES.contains(&obj.meta().namespace.as_str()) {
            // Not ours, but the order still holds.
            if rv <= l.copy.last_rv {
                let last = l.copy.last_rv;
                l.failures
                    .push(format!("{resource}: event at {rv} after {last}"));
            }
            l.copy.last_rv = l.copy.last_rv.max(rv);
            continue;
        }
        let (key, hash) = match read_object(&obj) {
            Ok((key, _, hash)) => (full_key(resource, &key), hash),
            Err(e) => {
                l.failures.push(format!("{resource}: event at {rv}: {e}"));
                continue;
            }
        };
        let WatchLog {
            copy,
            events,
            failures,
            ..
        } = &mut *l;
        if let Err(e) = apply_event(copy, &ev.r#type, &key, rv, hash) {
            failures.push(format!("watch {resource}: {e}"));
        }
        events.insert(rv, (key, ev.r#type, hash));
    }
}

// ---------------------------------------------------------------------------------------
// The loop.

struct Server {
    process: Option<Process>,
    url: String,
    data: std::path::PathBuf,
    addr: std::net::SocketAddr,
    logs: std::path::PathBuf,
}

impl Server {
    fn start(&mut self, round: usize) {
        // Two logs in turn: the one before a failing restart is kept.
        let log = self.logs.join(format!("apiserver-{}.log", round % 2));
        self.process = Some(spawn_apiserver(&self.data, self.addr, log));
    }

    /// Polls until a real API call succeeds; `Err` with the log when it never does.
    async fn ready(&mut self) -> Result<client::Client, String> {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Ok(c) = client::Client::connect(&self.url).await
                && c.get("namespaces", "", "default").await.is_ok()
            {
                return Ok(c);
            }
            let running = self.process.as_mut().is_some_and(Process::is_running);
            if !running || Instant::now() > deadline {
                let log = self
                    .process
                    .as_ref()
                    .map(Process::log_text)
                    .unwrap_or_default();
                return Err(format!(
                    "apiserver not ready (running: {running}); log tail:\n{}",
                    tail(&log, 30)
                ));
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Lists one resource in our namespaces: key -> (rv, hash), and the list's revision.
async fn list_ours(
    c: &client::Client,
    resource: &'static str,
    failures: &mut Vec<String>,
) -> Result<(BTreeMap<String, (u64, u64)>, u64), String> {
    let list = c
        .list(ListRequest {
            resource: resource.to_string(),
            ..Default::default()
        })
        .await
        .map_err(|e| format!("list {resource}: {e}"))?;
    let rv = list.resource_version.parse::<u64>().unwrap_or(0);
    let mut out = BTreeMap::new();
    for o in &list.items {
        if !NAMESPACES.contains(&o.meta().namespace.as_str()) {
            continue;
        }
        match read_object(o) {
            Ok((key, orv, hash)) => {
                out.insert(full_key(resource, &key), (orv, hash));
            }
            Err(e) => failures.push(format!("{resource}: {e}")),
        }
    }
    Ok((out, rv))
}

/// Runs the crash loop in a fresh data directory under `work_dir`.
pub async fn run(cfg: &Config, work_dir: &Path) -> Report {
    let mut report = Report::default();
    match run_inner(cfg, work_dir, &mut report).await {
        Ok(()) => {}
        Err(e) => report.failures.push(e),
    }
    report
}

async fn run_inner(cfg: &Config, work_dir: &Path, report: &mut Report) -> Result<(), String> {
    let mut rng = Rng::new(cfg.seed);
    let addr = free_addr();
    let mut server = Server {
        process: None,
        url: format!("http://{addr}"),
        data: work_dir.join("data"),
        addr,
        logs: work_dir.to_path_buf(),
    };
    server.start(0);
    let mut client = server.ready().await?;
    for ns in NAMESPACES {
        let mut n = Namespace::default();
        n.meta_mut().name = ns.to_string();
        client
            .create(n.into_object())
            .await
            .map_err(|e| format!("create namespace {ns}: {e}"))?;
    }

    // The keys, split among the writers; every key starts absent.
    let mut slots: Vec<Arc<Mutex<Vec<KeySlot>>>> = Vec::new();
    for w in 0..cfg.writers {
        let mine = (0..cfg.keys_per_writer)
            .map(|k| KeySlot {
                resource: RESOURCES[k % RESOURCES.len()],
                ns: NAMESPACES[(w + k) % NAMESPACES.len()],
                name: format!("w{w}-k{k}"),
                known: Seen::Absent { rv: 0 },
            })
            .collect();
        slots.push(Arc::new(Mutex::new(mine)));
    }
    // Watchers start from a list, as an informer does.
    let mut watch_logs = Vec::new();
    for resource in RESOURCES {
        let mut ignored = Vec::new();
        let (objects, rv) = list_ours(&client, resource, &mut ignored).await?;
        watch_logs.push((
            resource,
            Arc::new(Mutex::new(WatchLog {
                copy: WatchCopy {
                    objects,
                    last_rv: rv,
                },
                ..Default::default()
            })),
        ));
    }
    let mut max_seen_rv = 0u64;
    let spawn_watchers = |client: &client::Client| -> Vec<tokio::task::JoinHandle<()>> {
        watch_logs
            .iter()
            .map(|(resource, log)| tokio::spawn(watcher(client.clone(), resource, log.clone())))
            .collect()
    };
    // They run through a round's writes and, resumed after the restart, into the next.
    let mut watchers = spawn_watchers(&client);

    for round in 1..=cfg.rounds {
        let mut fig = Round {
            round,
            ..Default::default()
        };
        let logs: Vec<Arc<Mutex<WriterLog>>> = (0..cfg.writers).map(|_| Arc::default()).collect();
        let mut writers = Vec::new();
        for (w, log) in logs.iter().enumerate() {
            writers.push(tokio::spawn(writer(
                client.clone(),
                slots[w].clone(),
                log.clone(),
                Rng::new(rng.next_u64()),
                round,
                w,
            )));
        }
        // A reader: the revisions lists report are promises too.
        let list_rv = Arc::new(Mutex::new(0u64));
        let reader = {
            let (c, list_rv) = (client.clone(), list_rv.clone());
            tokio::spawn(async move {
                loop {
                    let Ok(l) = c
                        .list(ListRequest {
                            resource: "configmaps".into(),
                            namespace: NAMESPACES[0].into(),
                            ..Default::default()
                        })
                        .await
                    else {
                        return;
                    };
                    let rv = l.resource_version.parse::<u64>().unwrap_or(0);
                    {
                        let mut m = list_rv.lock().unwrap_or_else(|p| p.into_inner());
                        *m = (*m).max(rv);
                    }
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            })
        };

        let (lo, hi) = cfg.kill_after;
        let span = hi.saturating_sub(lo).as_millis() as u64;
        tokio::time::sleep(lo + Duration::from_millis(rng.below(span + 1))).await;
        let killed_at = Instant::now();
        if let Some(p) = server.process.as_mut() {
            p.kill();
        }
        // Every request in flight fails now; a writer that has not noticed within a few
        // seconds is stopped (its write stays pending either way).
        for h in writers.iter_mut().chain(watchers.iter_mut()) {
            if tokio::time::timeout(Duration::from_secs(5), &mut *h)
                .await
                .is_err()
            {
                h.abort();
            }
        }
        reader.abort();
        let _ = reader.await;

        server.start(round);
        client = server
            .ready()
            .await
            .map_err(|e| format!("round {round}: restart: {e}"))?;
        fig.restart = killed_at.elapsed();

        // What the clients were told before the kill.
        let mut acked_total = 0;
        for (w, log) in logs.iter().enumerate() {
            let l = log.lock().unwrap();
            acked_total += l.acks.len();
            for (_, a) in &l.acks {
                max_seen_rv = max_seen_rv.max(a.rv);
            }
            if l.pending.is_some() {
                fig.in_flight += 1;
            }
            // An error with no kill to blame would show a server problem.
            for (at, e) in &l.errors {
                if *at < killed_at {
                    report
                        .unexpected_errors
                        .push(format!("round {round} writer {w}: {e}"));
                }
            }
        }
        fig.acked = acked_total;
        let listed_rv = *list_rv.lock().unwrap();
        for (_, log) in &watch_logs {
            max_seen_rv = max_seen_rv.max(log.lock().unwrap().copy.last_rv);
        }

        // Markers: the first writes after the restart. Their revisions must be above any
        // revision a client saw before the kill (none reused), and once a resumed watch
        // delivers its marker it has delivered everything before it.
        watchers = spawn_watchers(&client);
        let mut markers = Vec::new();
        for resource in RESOURCES {
            let (obj, _) = make_object(resource, NAMESPACES[0], &format!("marker-{round}"), "m", 1);
            let o = client
                .create(obj)
                .await
                .map_err(|e| format!("round {round}: marker {resource}: {e}"))?;
            markers.push(o.meta().resource_version.parse::<u64>().unwrap_or(0));
        }
        fig.revision = markers[0];
        if markers[0] <= max_seen_rv {
            report.failures.push(format!(
                "round {round}: revision reused: first write after restart got {}, a client saw {max_seen_rv} before the kill",
                markers[0]
            ));
        }
        if markers[0] <= listed_rv {
            report.failures.push(format!(
                "round {round}: revision reused: first write after restart got {}, a list before the kill reported {listed_rv}",
                markers[0]
            ));
        }
        max_seen_rv = max_seen_rv.max(listed_rv);
        for ((resource, log), marker) in watch_logs.iter().zip(&markers) {
            let deadline = Instant::now() + WAIT;
            while log.lock().unwrap().copy.last_rv < *marker {
                if Instant::now() > deadline {
                    report.failures.push(format!(
                        "round {round}: watch {resource} resumed but never reached its marker at {marker} (at {})",
                        log.lock().unwrap().copy.last_rv
                    ));
                    break;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }

        // The store now: every object decodes and validates, and equals the watchers' copies.
        let mut actual: HashMap<String, (u64, u64)> = HashMap::new();
        for (resource, log) in &watch_logs {
            let (listed, rv) = list_ours(&client, resource, &mut report.failures).await?;
            max_seen_rv = max_seen_rv.max(rv);
            let mut l = log.lock().unwrap();
            let d = diff(&l.copy.objects, &listed, 5);
            if !d.is_empty() {
                report.failures.push(format!(
                    "round {round}: watch {resource} resumed from its last revision disagrees with a list: {d:?}"
                ));
                // Resynchronise so one failure is not reported every round after.
                l.copy.objects = listed.clone();
            }
            report
                .failures
                .extend(l.failures.drain(..).map(|f| format!("round {round}: {f}")));
            actual.extend(listed);
        }

        // Every acknowledged write: its key holds it (or the writer's one later unanswered
        // write), and a watcher delivered it at its revision.
        let events: BTreeMap<u64, (String, String, u64)> = watch_logs
            .iter()
            .flat_map(|(_, l)| std::mem::take(&mut l.lock().unwrap().events))
            .collect();
        fig.watch_events = watch_logs
            .iter()
            .map(|(_, l)| std::mem::take(&mut l.lock().unwrap().count))
            .sum();
        for (w, log) in logs.iter().enumerate() {
            let l = log.lock().unwrap();
            let mut slots = slots[w].lock().unwrap();
            let pending = l.pending;
            for (i, ack) in &l.acks {
                let key = slot_key(&slots[*i]);
                let want = match ack.hash {
                    Some(_) => None,
                    None => Some("DELETED"),
                };
                let ok = match events.get(&ack.rv) {
                    Some((k, kind, h)) => {
                        *k == key
                            && match (ack.hash, want) {
                                (Some(hash), _) => *h == hash && kind != "DELETED",
                                (None, Some(d)) => kind == d,
                                (None, None) => false,
                            }
                    }
                    None => false,
                };
                if !ok {
                    fig.watch_missed += 1;
                    report.failures.push(format!(
                        "round {round}: acknowledged write of {key} at {} not delivered by the watch (got {:?})",
                        ack.rv,
                        events.get(&ack.rv)
                    ));
                }
            }
            for (i, slot) in slots.iter_mut().enumerate() {
                let key = slot_key(slot);
                let mine = pending.filter(|(p, _)| *p == i).map(|(_, intent)| intent);
                let now = actual.get(&key).copied();
                if let Err(e) = judge(slot.known, mine, now) {
                    fig.lost += 1;
                    report.failures.push(format!("round {round}: {key}: {e}"));
                }
                if mine.is_some() {
                    let applied = match (slot.known, now) {
                        (Seen::Present { rv, .. }, Some((arv, _))) => arv > rv,
                        (Seen::Present { .. }, None) => true,
                        (Seen::Absent { .. }, Some(_)) => true,
                        (Seen::Absent { .. }, None) => false,
                    };
                    fig.in_flight_applied += usize::from(applied);
                }
                // The next round starts from what is there.
                slot.known = match now {
                    Some((rv, hash)) => Seen::Present { rv, hash },
                    None => Seen::Absent { rv: max_seen_rv },
                };
            }
        }
        if cfg.verbose {
            println!(
                "round {:>3}: acked {:>5}  in flight {:>2} (applied {:>2})  lost {}  watch events {:>5}  restart {:>6.0} ms  revision {}",
                fig.round,
                fig.acked,
                fig.in_flight,
                fig.in_flight_applied,
                fig.lost,
                fig.watch_events,
                fig.restart.as_secs_f64() * 1000.0,
                fig.revision
            );
        }
        report.rounds.push(fig);
    }
    if !server
        .process
        .as_mut()
        .is_some_and(|p| p.terminate(Duration::from_secs(15)))
    {
        report
            .failures
            .push("apiserver did not stop cleanly on SIGTERM at the end".to_string());
    }
    Ok(())
}

fn slot_key(s: &KeySlot) -> String {
    format!("{}/{}/{}", s.resource, s.ns, s.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn judge_accepts_the_acknowledged_state_or_the_pending_write() {
        let p = Seen::Present { rv: 10, hash: 7 };
        assert!(judge(p, None, Some((10, 7))).is_ok());
        assert!(judge(p, Some(Intent::Put { hash: 8 }), Some((10, 7))).is_ok());
        assert!(judge(p, Some(Intent::Put { hash: 8 }), Some((12, 8))).is_ok());
        assert!(judge(p, Some(Intent::Delete), None).is_ok());
        let a = Seen::Absent { rv: 10 };
        assert!(judge(a, None, None).is_ok());
        assert!(judge(a, Some(Intent::Put { hash: 3 }), Some((11, 3))).is_ok());
    }

    #[test]
    fn judge_names_every_loss() {
        let p = Seen::Present { rv: 10, hash: 7 };
        assert!(judge(p, None, None).unwrap_err().contains("key absent"));
        assert!(
            judge(p, None, Some((9, 1)))
                .unwrap_err()
                .contains("back at 9")
        );
        assert!(
            judge(p, None, Some((10, 8)))
                .unwrap_err()
                .contains("other content")
        );
        assert!(judge(p, Some(Intent::Put { hash: 8 }), Some((12, 9))).is_err());
        assert!(judge(p, Some(Intent::Put { hash: 8 }), None).is_err());
        let a = Seen::Absent { rv: 10 };
        assert!(judge(a, None, Some((11, 3))).is_err());
        // A create applied "before" the acknowledged delete is a reused revision.
        assert!(judge(a, Some(Intent::Put { hash: 3 }), Some((9, 3))).is_err());
    }

    #[test]
    fn events_move_a_copy_in_order_only() {
        let mut c = WatchCopy::default();
        apply_event(&mut c, "ADDED", "a", 1, 1).unwrap();
        apply_event(&mut c, "MODIFIED", "a", 2, 2).unwrap();
        assert!(
            apply_event(&mut c, "MODIFIED", "a", 2, 2)
                .unwrap_err()
                .contains("duplicate")
        );
        assert!(
            apply_event(&mut c, "ADDED", "a", 3, 3)
                .unwrap_err()
                .contains("present")
        );
        assert!(
            apply_event(&mut c, "MODIFIED", "b", 4, 3)
                .unwrap_err()
                .contains("missed")
        );
        apply_event(&mut c, "DELETED", "a", 5, 2).unwrap();
        assert!(apply_event(&mut c, "DELETED", "a", 6, 2).is_err());
        assert_eq!(c.last_rv, 6);
    }

    #[test]
    fn diff_lists_both_sides() {
        let a: BTreeMap<_, _> = [("x".to_string(), (1, 1)), ("y".to_string(), (2, 2))].into();
        let b: BTreeMap<_, _> = [("x".to_string(), (1, 1)), ("z".to_string(), (3, 3))].into();
        let d = diff(&a, &b, 10);
        assert_eq!(d.len(), 2, "{d:?}");
        assert!(diff(&a, &a, 10).is_empty());
    }

    #[test]
    fn objects_carry_a_checksum_of_their_content() {
        for r in RESOURCES {
            let (o, h) = make_object(r, "crash-a", "n", "tok", 100);
            let (key, _, got) = read_object(&{
                let mut o = o.clone();
                o.meta_mut().resource_version = "5".into();
                o
            })
            .unwrap();
            assert_eq!((key.as_str(), got), ("crash-a/n", h));
        }
        let (mut o, _) = make_object("configmaps", "crash-a", "n", "tok", 100);
        o.meta_mut().resource_version = "5".into();
        let mut cm = ConfigMap::try_from_object(o).unwrap();
        cm.data.insert("pad".into(), "torn".into());
        assert!(read_object(&cm.into_object()).unwrap_err().contains("torn"));
    }

    #[test]
    fn percentiles() {
        let mut v: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&mut v, 0.5), Duration::from_millis(51));
        assert_eq!(percentile(&mut v, 0.99), Duration::from_millis(99));
    }
}
