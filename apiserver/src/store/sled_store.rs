//! sled implementation of `Store`.
//!
//! Layout: tree `objects` (key -> record: create_revision, mod_revision, value), tree
//! `events` (revision as big-endian u64 -> event: kind, key, value, prev_value) and tree
//! `meta` (the last committed revision). Object, event and revision are written in one
//! multi-tree transaction, so a crash can never leave an object without its event or
//! revision, and revisions have no gaps.
//!
//! Write path, two dedicated threads in a pipeline:
//! 1. a writer queues its operation and waits;
//! 2. the committer (`committer.rs`) takes everything queued and, under the write lock,
//!    assigns consecutive revisions and applies it all as ONE transaction (which also trims
//!    events `history_limit` revisions back); refused writes (`Conflict`, ...) are answered
//!    at once, accepted ones are handed to the flusher in revision order;
//! 3. the flusher (`flusher.rs`) calls `db.flush()` for everything handed over since its
//!    last flush, publishes the now-durable events to watchers in revision order
//!    (`fanout.rs`), then answers the writers.
//!
//! So a write returns only after a flush that began after its commit, concurrent writers
//! share both transactions and flushes, and watchers only ever see durable events.
//!
//! Reads: `list` holds the read side of the write lock while scanning, so it sees exactly
//! the state at the last *committed* revision, which it reports; `get` likewise reads
//! committed state. Committed is not yet durable: a crash before the next flush takes it
//! back, and its revisions are then given to other writes. So a read answers only once
//! the revision it saw is durable (at most one flush later, and only while writes are in
//! flight), as etcd answers a read only once raft has committed what it saw: nothing a
//! client reads can vanish, nor its resourceVersion be reused. `current_revision` is the
//! last durable revision.
//!
//! A watch stream keeps a handle on the events tree: drop the streams of a store before
//! reopening its directory in the same process.

mod codec;
mod committer;
mod fanout;
mod flusher;
mod raw_bench;

pub use raw_bench::{BENCH_VALUE_LEN, bench_raw_sled};

use super::{Error, EventType, KeyValue, ListResult, Result, Revision, Store, WatchStream};
use bytes::Bytes;
use codec::Record;
use committer::{Submission, SubmitQueue};
use fanout::Fanout;
use flusher::GroupCommit;
use sled::Tree;
use std::ops::Bound;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::thread::JoinHandle;
use tokio::sync::oneshot;

const REVISION_KEY: &[u8] = b"revision";
/// Events removed per batch when trimming excess history on open.
const TRIM_BATCH: usize = 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SledOptions {
    /// sled's page cache (its own default is 1 GiB).
    pub cache_capacity_bytes: u64,
    /// Events retained for watch resume; older ones are trimmed. At least 1.
    pub history_limit: u64,
    /// Events a watcher may have queued before it is cut off as too slow.
    pub watch_buffer: usize,
}

impl Default for SledOptions {
    fn default() -> Self {
        Self {
            cache_capacity_bytes: 64 << 20,
            history_limit: 100_000,
            watch_buffer: 10_000,
        }
    }
}

struct WriteState {
    /// Last committed (not necessarily durable) revision.
    committed: Revision,
}

/// What the committer thread and the readers share.
struct Shared {
    objects: Tree,
    events: Tree,
    meta: Tree,
    /// Write side: the committer while it applies a transaction. Read side: `list`.
    state: RwLock<WriteState>,
    oldest: AtomicU64,
    history_limit: u64,
}

impl Shared {
    fn read_lock(&self) -> RwLockReadGuard<'_, WriteState> {
        // The state is one counter updated after the transaction succeeds, so it is
        // consistent even if a holder panicked.
        self.state.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write_lock(&self) -> RwLockWriteGuard<'_, WriteState> {
        self.state.write().unwrap_or_else(|p| p.into_inner())
    }
}

/// What a successful write reports once durable.
#[derive(Debug)]
struct WriteOutcome {
    revision: Revision,
    /// The record replaced or removed.
    old: Option<Record>,
}

pub struct SledStore {
    shared: Arc<Shared>,
    closed: AtomicBool,
    watch_buffer: usize,
    submit: Arc<SubmitQueue>,
    commit: Arc<GroupCommit>,
    fanout: Arc<Fanout>,
    /// Committer, then flusher: stopped in that order.
    threads: Mutex<Vec<JoinHandle<()>>>,
}

/// What a write asks for; decided against the key's current record by `decide`.
#[derive(Debug, Clone)]
enum Op {
    Create(Bytes),
    Update(Bytes, Revision),
    Delete(Option<Revision>),
}

/// The effect of one write, as decided before it is applied.
#[derive(Debug, PartialEq, Eq)]
struct Decision {
    kind: EventType,
    /// The record to store, or `None` to remove the key.
    new: Option<Record>,
    /// The record replaced or removed.
    old: Option<Record>,
}

/// Pure write guard: which writes are allowed against the current record, and what they do.
fn decide(key: &str, op: &Op, current: Option<Record>, rev: Revision) -> Result<Decision> {
    let check = |cur: &Record, expected: Revision| {
        if cur.mod_revision == expected {
            Ok(())
        } else {
            Err(Error::Conflict {
                key: key.to_owned(),
                expected,
                current: cur.mod_revision,
            })
        }
    };
    match (op, current) {
        (Op::Create(_), Some(_)) => Err(Error::AlreadyExists(key.to_owned())),
        (Op::Create(value), None) => Ok(Decision {
            kind: EventType::Created,
            new: Some(Record {
                create_revision: rev,
                mod_revision: rev,
                value: value.clone(),
            }),
            old: None,
        }),
        (Op::Update(..) | Op::Delete(_), None) => Err(Error::NotFound(key.to_owned())),
        (Op::Update(value, expected), Some(cur)) => {
            check(&cur, *expected)?;
            Ok(Decision {
                kind: EventType::Updated,
                new: Some(Record {
                    create_revision: cur.create_revision,
                    mod_revision: rev,
                    value: value.clone(),
                }),
                old: Some(cur),
            })
        }
        (Op::Delete(expected), Some(cur)) => {
            if let Some(expected) = expected {
                check(&cur, *expected)?;
            }
            Ok(Decision {
                kind: EventType::Deleted,
                new: None,
                old: Some(cur),
            })
        }
    }
}

fn backend(e: impl std::fmt::Display) -> Error {
    Error::Backend(e.to_string())
}

impl SledStore {
    /// Opens (or creates) the store in `dir`, resuming its revision counter and history.
    pub fn open(dir: &Path, options: SledOptions) -> Result<SledStore> {
        let history_limit = options.history_limit.max(1);
        let db = sled::Config::new()
            .path(dir)
            .cache_capacity(options.cache_capacity_bytes)
            .flush_every_ms(None)
            .open()
            .map_err(|e| Error::Backend(format!("opening sled store in {}: {e}", dir.display())))?;
        let objects = db.open_tree("objects").map_err(backend)?;
        let events = db.open_tree("events").map_err(backend)?;
        let meta = db.open_tree("meta").map_err(backend)?;

        let meta_rev = match meta.get(REVISION_KEY).map_err(backend)? {
            Some(v) => codec::decode_revision(&v)?,
            None => 0,
        };
        let last_event = match events.last().map_err(backend)? {
            Some((k, _)) => codec::decode_revision(&k)?,
            None => 0,
        };
        // Both are written in the same transaction; the max is only a guard.
        let committed = meta_rev.max(last_event);
        trim_history(&events, committed, history_limit)?;
        let oldest = match events.first().map_err(backend)? {
            Some((k, _)) => codec::decode_revision(&k)?,
            None => committed + 1,
        };
        db.flush().map_err(backend)?;

        let shared = Arc::new(Shared {
            objects,
            events,
            meta,
            state: RwLock::new(WriteState { committed }),
            oldest: AtomicU64::new(oldest.max(1)),
            history_limit,
        });
        let submit = Arc::new(SubmitQueue::default());
        let commit = Arc::new(GroupCommit::new(committed));
        let fanout = Arc::new(Fanout::new(committed));
        let spawn_err = |e: std::io::Error| Error::Backend(format!("starting store thread: {e}"));
        let flusher = flusher::spawn(db, commit.clone(), fanout.clone()).map_err(spawn_err)?;
        let committer = match committer::spawn(shared.clone(), submit.clone(), commit.clone()) {
            Ok(h) => h,
            Err(e) => {
                commit.stop();
                let _ = flusher.join();
                return Err(spawn_err(e));
            }
        };
        tracing::debug!(dir = %dir.display(), revision = committed, oldest, "sled store opened");
        Ok(SledStore {
            shared,
            closed: AtomicBool::new(false),
            watch_buffer: options.watch_buffer,
            submit,
            commit,
            fanout,
            threads: Mutex::new(vec![committer, flusher]),
        })
    }

    fn check_open(&self) -> Result<()> {
        if self.closed.load(Ordering::Acquire) {
            Err(Error::Closed)
        } else {
            Ok(())
        }
    }

    async fn write(&self, key: &str, op: Op) -> Result<WriteOutcome> {
        self.check_open()?;
        let (reply, rx) = oneshot::channel();
        self.submit.submit(Submission {
            key: key.to_owned(),
            op,
            reply,
            // Taken here, in the writer's task: the committer thread has no span.
            trace_parent: telemetry::trace::TraceParent::current(),
        })?;
        rx.await.map_err(|_| Error::Closed)?
    }

    /// Stops accepting writes and hands back the threads to join: the committer drains
    /// its queue into the flusher, then the flusher makes it durable and exits.
    fn begin_shutdown(&self) -> Vec<JoinHandle<()>> {
        self.closed.store(true, Ordering::Release);
        self.submit.stop();
        std::mem::take(&mut *self.threads.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Joins the threads from `begin_shutdown` in order (committer first, so everything
    /// it commits reaches the flusher before the flusher is told to stop).
    fn finish_shutdown(commit: &GroupCommit, threads: Vec<JoinHandle<()>>) -> Result<()> {
        let mut panicked = false;
        for (i, handle) in threads.into_iter().enumerate() {
            if i == 1 {
                commit.stop();
            }
            panicked |= handle.join().is_err();
        }
        // With no threads (already shut down) this is a no-op; the flusher is stopped too.
        commit.stop();
        if panicked {
            Err(Error::Backend("a store thread panicked".into()))
        } else {
            Ok(())
        }
    }

    #[cfg(test)]
    fn watcher_count(&self) -> usize {
        self.fanout.watcher_count()
    }
}

/// Removes events at or below `committed - limit` (left over from a larger limit).
fn trim_history(events: &Tree, committed: Revision, limit: Revision) -> Result<()> {
    let Some(cutoff) = committed.checked_sub(limit) else {
        return Ok(());
    };
    loop {
        let keys: Vec<sled::IVec> = events
            .range(..=codec::revision_key(cutoff))
            .keys()
            .take(TRIM_BATCH)
            .collect::<std::result::Result<_, _>>()
            .map_err(backend)?;
        if keys.is_empty() {
            return Ok(());
        }
        let mut batch = sled::Batch::default();
        for k in keys {
            batch.remove(k);
        }
        events.apply_batch(batch).map_err(backend)?;
    }
}

fn to_key_value(key: &[u8], raw: &[u8]) -> Result<KeyValue> {
    let record = codec::decode_record(raw)?;
    let key = std::str::from_utf8(key)
        .map_err(|_| Error::Backend("corrupt store data: key is not utf-8".into()))?;
    Ok(KeyValue {
        key: key.to_owned(),
        value: record.value,
        create_revision: record.create_revision,
        mod_revision: record.mod_revision,
    })
}

/// Keys under `prefix` after `start_after`, at most `limit` (0: all), exactly as of the
/// revision returned: the committer waits while the scan holds the read lock.
fn scan(
    shared: &Shared,
    prefix: &str,
    start_after: Option<&str>,
    limit: usize,
) -> Result<ListResult> {
    let lower = match start_after {
        Some(after) if after >= prefix => Bound::Excluded(after.as_bytes().to_vec()),
        _ => Bound::Included(prefix.as_bytes().to_vec()),
    };
    let mut items = Vec::new();
    let mut more = false;
    let state = shared.read_lock();
    let revision = state.committed;
    for item in shared
        .objects
        .range::<Vec<u8>, _>((lower, Bound::Unbounded))
    {
        let (k, v) = item.map_err(backend)?;
        if !k.starts_with(prefix.as_bytes()) {
            break;
        }
        if limit > 0 && items.len() == limit {
            more = true;
            break;
        }
        items.push(to_key_value(&k, &v)?);
    }
    drop(state);
    Ok(ListResult {
        items,
        revision,
        more,
    })
}

impl Store for SledStore {
    async fn get(&self, key: &str) -> Result<Option<KeyValue>> {
        self.check_open()?;
        let found = match self.shared.objects.get(key.as_bytes()).map_err(backend)? {
            Some(raw) => Some(to_key_value(key.as_bytes(), &raw)?),
            None => None,
        };
        // Taken after the read: the committer updates it under the write lock once its
        // transaction is applied, so it covers whatever the read saw.
        let seen = self.shared.read_lock().committed;
        self.commit.wait_durable(seen).await?;
        Ok(found)
    }

    async fn list(
        &self,
        prefix: &str,
        start_after: Option<&str>,
        limit: usize,
    ) -> Result<ListResult> {
        self.check_open()?;
        // A long scan must not hold one of the runtime's few worker threads (two on these
        // machines): it runs on the blocking pool.
        let shared = self.shared.clone();
        let prefix = prefix.to_string();
        let start_after = start_after.map(str::to_string);
        let listed = tokio::task::spawn_blocking(move || {
            scan(&shared, &prefix, start_after.as_deref(), limit)
        })
        .await
        .map_err(|e| Error::Backend(format!("list task failed: {e}")))??;
        self.commit.wait_durable(listed.revision).await?;
        Ok(listed)
    }

    async fn create(&self, key: &str, value: Bytes) -> Result<Revision> {
        Ok(self.write(key, Op::Create(value)).await?.revision)
    }

    async fn update(&self, key: &str, value: Bytes, expected: Revision) -> Result<Revision> {
        Ok(self.write(key, Op::Update(value, expected)).await?.revision)
    }

    async fn delete(&self, key: &str, expected: Option<Revision>) -> Result<(Revision, KeyValue)> {
        let outcome = self.write(key, Op::Delete(expected)).await?;
        let old = outcome
            .old
            .ok_or_else(|| Error::Backend("delete decided without a previous record".into()))?;
        Ok((
            outcome.revision,
            KeyValue {
                key: key.to_owned(),
                value: old.value,
                create_revision: old.create_revision,
                mod_revision: old.mod_revision,
            },
        ))
    }

    fn watch(&self, prefix: &str, from: Revision) -> Result<WatchStream> {
        self.check_open()?;
        let oldest = self.oldest_revision();
        if from.saturating_add(1) < oldest {
            return Err(Error::Expired {
                requested: from,
                oldest,
            });
        }
        let reg = self.fanout.register(prefix, from, self.watch_buffer)?;
        Ok(fanout::stream(
            self.shared.events.clone(),
            prefix.to_owned(),
            from,
            reg,
        ))
    }

    fn current_revision(&self) -> Revision {
        self.commit.durable()
    }

    fn oldest_revision(&self) -> Revision {
        self.shared.oldest.load(Ordering::Acquire)
    }

    async fn close(&self) -> Result<()> {
        let threads = self.begin_shutdown();
        let commit = self.commit.clone();
        let joined = tokio::task::spawn_blocking(move || Self::finish_shutdown(&commit, threads))
            .await
            .map_err(|e| Error::Backend(format!("joining store threads: {e}")))?;
        self.fanout.close();
        joined
    }
}

impl Drop for SledStore {
    fn drop(&mut self) {
        let threads = self.begin_shutdown();
        if let Err(e) = Self::finish_shutdown(&self.commit, threads) {
            tracing::error!(error = %e, "stopping sled store");
        }
        self.fanout.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::conformance::{Limits, store_conformance};
    use futures::StreamExt;
    use std::time::Duration;
    use tempfile::TempDir;

    fn make(limits: Limits) -> (SledStore, TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let options = SledOptions {
            cache_capacity_bytes: 8 << 20,
            history_limit: limits.history_limit,
            watch_buffer: limits.watch_buffer,
        };
        (SledStore::open(dir.path(), options).unwrap(), dir)
    }

    store_conformance!(make);

    fn b(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    fn small() -> SledOptions {
        SledOptions {
            cache_capacity_bytes: 8 << 20,
            ..SledOptions::default()
        }
    }

    #[test]
    fn decide_guards_writes() {
        let cur = Record {
            create_revision: 2,
            mod_revision: 5,
            value: b("old"),
        };
        let d = decide("/k", &Op::Update(b("new"), 5), Some(cur.clone()), 9).unwrap();
        assert_eq!(d.kind, EventType::Updated);
        assert_eq!(
            d.new,
            Some(Record {
                create_revision: 2,
                mod_revision: 9,
                value: b("new")
            })
        );
        assert_eq!(d.old, Some(cur.clone()));
        assert!(matches!(
            decide("/k", &Op::Update(b("new"), 4), Some(cur.clone()), 9),
            Err(Error::Conflict {
                expected: 4,
                current: 5,
                ..
            })
        ));
        assert!(matches!(
            decide("/k", &Op::Create(b("x")), Some(cur.clone()), 9),
            Err(Error::AlreadyExists(_))
        ));
        assert!(matches!(
            decide("/k", &Op::Delete(Some(1)), None, 9),
            Err(Error::NotFound(_))
        ));
        let d = decide("/k", &Op::Delete(None), Some(cur), 9).unwrap();
        assert_eq!((d.kind, d.new), (EventType::Deleted, None));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn reopen_keeps_data_revision_and_history() {
        let dir = tempfile::tempdir().unwrap();
        {
            let s = SledStore::open(dir.path(), small()).unwrap();
            s.create("/r/a", b("1")).await.unwrap();
            s.create("/r/b", b("2")).await.unwrap();
            s.update("/r/a", b("3"), 1).await.unwrap();
            s.close().await.unwrap();
        }
        let s = SledStore::open(dir.path(), small()).unwrap();
        assert_eq!(s.current_revision(), 3);
        assert_eq!(s.oldest_revision(), 1);
        let kv = s.get("/r/a").await.unwrap().unwrap();
        assert_eq!(
            (kv.value, kv.create_revision, kv.mod_revision),
            (b("3"), 1, 3)
        );
        // A watch from before the restart resumes from the persisted history, then goes live.
        let mut w = s.watch("/r/", 1).unwrap();
        assert_eq!(s.create("/r/c", b("4")).await.unwrap(), 4);
        let revs: Vec<_> = (0..3).map(|_| 0).collect::<Vec<_>>();
        let mut got = Vec::new();
        for _ in revs {
            got.push(
                tokio::time::timeout(Duration::from_secs(10), w.next())
                    .await
                    .unwrap()
                    .unwrap()
                    .unwrap(),
            );
        }
        assert_eq!(
            got.iter().map(|e| e.revision).collect::<Vec<_>>(),
            [2, 3, 4]
        );
        assert_eq!(got[1].prev_value, Some(b("1")));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn drop_releases_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        for round in 0..3u64 {
            // Without close: Drop must stop the flusher and release sled's lock on the dir.
            let s = SledStore::open(dir.path(), small()).unwrap();
            assert_eq!(
                s.create(&format!("/d/{round}"), b("v")).await.unwrap(),
                round + 1
            );
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn reopen_with_smaller_history_trims() {
        let dir = tempfile::tempdir().unwrap();
        {
            let s = SledStore::open(dir.path(), small()).unwrap();
            for i in 0..50 {
                s.create(&format!("/t/{i}"), b("v")).await.unwrap();
            }
        }
        let s = SledStore::open(
            dir.path(),
            SledOptions {
                history_limit: 20,
                ..small()
            },
        )
        .unwrap();
        assert_eq!(s.oldest_revision(), 31);
        assert!(matches!(
            s.watch("/", 29),
            Err(Error::Expired { oldest: 31, .. })
        ));
        let mut w = s.watch("/", 30).unwrap();
        for rev in 31..=50 {
            assert_eq!(w.next().await.unwrap().unwrap().revision, rev);
        }
        assert_eq!(s.shared.events.len(), 20);
        s.create("/t/x", b("v")).await.unwrap();
        assert_eq!(
            s.shared.events.len(),
            20,
            "the write path keeps the history at its limit"
        );
        assert_eq!(s.oldest_revision(), 32);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn dropped_watchers_are_removed() {
        let (s, _dir) = make(Limits::default());
        let watches: Vec<_> = (0..10)
            .map(|i| s.watch(&format!("/w{i}/"), 0).unwrap())
            .collect();
        assert_eq!(s.watcher_count(), 10);
        drop(watches);
        for i in 0..10 {
            s.create(&format!("/w{i}/k"), b("v")).await.unwrap();
        }
        assert_eq!(s.watcher_count(), 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn thousand_watchers_fan_out() {
        let (s, _dir) = make(Limits::default());
        let mut watches: Vec<_> = (0..1000)
            .map(|i| s.watch(&format!("/f/{}/", i % 10), 0).unwrap())
            .collect();
        for i in 0..100 {
            s.create(&format!("/f/{}/{i}", i % 10), b("v"))
                .await
                .unwrap();
        }
        for (i, w) in watches.iter_mut().enumerate() {
            for j in 0..10 {
                let ev = w.next().await.unwrap().unwrap();
                assert_eq!(ev.key, format!("/f/{}/{}", i % 10, i % 10 + 10 * j));
            }
        }
    }

    async fn concurrent_writers(tasks: usize, per_task: usize) {
        let (s, _dir) = make(Limits::default());
        let s = Arc::new(s);
        let handles: Vec<_> = (0..tasks)
            .map(|t| {
                let s = s.clone();
                tokio::spawn(async move {
                    let mut revs = Vec::with_capacity(per_task);
                    for i in 0..per_task {
                        revs.push(
                            s.create(&format!("/c/{t}/{i}"), Bytes::from(vec![1u8; 512]))
                                .await
                                .unwrap(),
                        );
                    }
                    revs
                })
            })
            .collect();
        let all = tokio::time::timeout(Duration::from_secs(60), futures::future::join_all(handles))
            .await
            .expect("concurrent writers hung");
        let mut revs: Vec<Revision> = all.into_iter().flat_map(|r| r.unwrap()).collect();
        revs.sort_unstable();
        let n = (tasks * per_task) as u64;
        assert_eq!(revs, (1..=n).collect::<Vec<_>>());
        assert_eq!(s.current_revision(), n);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sixteen_concurrent_writers_complete() {
        concurrent_writers(16, 50).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sixty_four_concurrent_writers_complete() {
        concurrent_writers(64, 20).await;
    }

    const CRASH_DIR_ENV: &str = "SLED_STORE_CRASH_CHILD_DIR";

    /// Child half of `acknowledged_writes_survive_sigkill`: writes forever from 16 tasks
    /// and prints `ACK <key> <revision>` as each write is acknowledged.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "helper process for acknowledged_writes_survive_sigkill"]
    async fn crash_child() {
        use std::io::Write;
        let Ok(dir) = std::env::var(CRASH_DIR_ENV) else {
            return;
        };
        let s = Arc::new(SledStore::open(Path::new(&dir), small()).unwrap());
        let out = Arc::new(std::sync::Mutex::new(std::io::stdout()));
        let tasks: Vec<_> = (0..16)
            .map(|t| {
                let (s, out) = (s.clone(), out.clone());
                tokio::spawn(async move {
                    for i in 0.. {
                        let key = format!("/crash/{t}/{i}");
                        let rev = s
                            .create(&key, Bytes::from(key.clone().into_bytes()))
                            .await
                            .unwrap();
                        let mut out = out.lock().unwrap();
                        writeln!(out, "ACK {key} {rev}").unwrap();
                        out.flush().unwrap();
                    }
                })
            })
            .collect();
        futures::future::join_all(tasks).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn acknowledged_writes_survive_sigkill() {
        use std::io::BufRead;
        use std::process::{Command, Stdio};
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "store::sled_store::tests::crash_child",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CRASH_DIR_ENV, dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        // Read acknowledgements on a thread so a silent child cannot block the test.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(rest) = line.strip_prefix("ACK ")
                    && tx.send(rest.to_owned()).is_err()
                {
                    break;
                }
            }
        });
        let mut acked: Vec<(String, Revision)> = Vec::new();
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while acked.len() < 2000 && std::time::Instant::now() < deadline {
            if let Ok(line) = rx.recv_timeout(Duration::from_millis(100)) {
                let (key, rev) = line.rsplit_once(' ').unwrap();
                acked.push((key.to_owned(), rev.parse().unwrap()));
            }
        }
        child.kill().unwrap(); // SIGKILL: no destructor, no final flush
        child.wait().unwrap();
        // Everything the child printed before dying was acknowledged.
        while let Ok(line) = rx.recv_timeout(Duration::from_millis(500)) {
            let (key, rev) = line.rsplit_once(' ').unwrap();
            acked.push((key.to_owned(), rev.parse().unwrap()));
        }
        assert!(
            acked.len() >= 100,
            "child acknowledged only {} writes",
            acked.len()
        );
        eprintln!(
            "sigkill test: child acknowledged {} writes before the kill",
            acked.len()
        );

        let s = SledStore::open(dir.path(), small()).unwrap();
        let current = s.current_revision();
        for (key, rev) in &acked {
            let kv = s
                .get(key)
                .await
                .unwrap()
                .unwrap_or_else(|| panic!("acknowledged {key} lost"));
            assert_eq!((kv.mod_revision, &kv.value[..]), (*rev, key.as_bytes()));
            assert!(*rev <= current);
        }
        // Objects, events and the counter agree: the full history replays without a gap
        // and matches the objects, and the counter resumes after it.
        let mut w = s.watch("/crash/", 0).unwrap();
        for rev in 1..=current {
            let ev = w.next().await.unwrap().unwrap();
            assert_eq!(ev.revision, rev);
            assert_eq!(s.get(&ev.key).await.unwrap().unwrap().mod_revision, rev);
        }
        assert_eq!(
            s.list("/crash/", None, 0).await.unwrap().items.len() as u64,
            current
        );
        assert_eq!(s.create("/after", b("v")).await.unwrap(), current + 1);
    }
}
