//! The committer: one thread that takes every write queued since its last round and
//! applies them, in queue order, as ONE sled transaction over objects, events and meta.
//! sled pays a fixed cost per transaction (it rolls its IO buffer), which caps one
//! transaction per write at ~5k writes/s under concurrent flushes; sharing a transaction
//! among concurrent writers, like sharing a flush, keeps throughput with load.
//!
//! Writes in one round see each other (an overlay of the keys written so far), so two
//! creates of one key in a round give one success and one `AlreadyExists`, exactly as if
//! they had been applied one by one.

use super::codec::{self, Record};
use super::flusher::{GroupCommit, Pending};
use super::{Decision, Op, REVISION_KEY, Shared, WriteOutcome, backend, decide};
use crate::store::{Error, Event, Result, Revision};
use bytes::Bytes;
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError};
use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use tokio::sync::oneshot;

/// Bounds one transaction: its latency for lists waiting on the write lock, and its size.
const MAX_BATCH_OPS: usize = 256;
const MAX_BATCH_BYTES: usize = 16 << 20;

/// A write waiting to be committed.
pub(crate) struct Submission {
    pub key: String,
    pub op: Op,
    pub reply: oneshot::Sender<Result<WriteOutcome>>,
    /// The writer's trace context, handed on to the write's event.
    pub trace_parent: Option<telemetry::trace::TraceParent>,
}

impl Submission {
    fn size(&self) -> usize {
        self.key.len()
            + match &self.op {
                Op::Create(v) | Op::Update(v, _) => v.len(),
                Op::Delete(_) => 0,
            }
    }
}

#[derive(Default)]
struct Queue {
    items: Vec<Submission>,
    stop: bool,
}

#[derive(Default)]
pub(crate) struct SubmitQueue {
    queue: Mutex<Queue>,
    wake: Condvar,
}

impl SubmitQueue {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues a write; `Closed` once the store is closing.
    pub(crate) fn submit(&self, sub: Submission) -> Result<()> {
        let mut q = self.lock();
        if q.stop {
            return Err(Error::Closed);
        }
        q.items.push(sub);
        drop(q);
        self.wake.notify_one();
        Ok(())
    }

    /// Refuses new writes; the committer commits what is queued, then exits.
    pub(crate) fn stop(&self) {
        self.lock().stop = true;
        self.wake.notify_all();
    }

    /// Blocks until writes are queued; empty only when stopped and drained.
    fn take_batch(&self) -> Vec<Submission> {
        let mut q = self.lock();
        while q.items.is_empty() && !q.stop {
            q = self.wake.wait(q).unwrap_or_else(|p| p.into_inner());
        }
        let mut bytes = 0;
        let mut n = 0;
        for sub in &q.items {
            if n > 0 && (n == MAX_BATCH_OPS || bytes + sub.size() > MAX_BATCH_BYTES) {
                break;
            }
            bytes += sub.size();
            n += 1;
        }
        q.items.drain(..n).collect()
    }
}

pub(crate) fn spawn(
    shared: Arc<Shared>,
    queue: Arc<SubmitQueue>,
    gc: Arc<GroupCommit>,
) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("sled-committer".into())
        .spawn(move || {
            loop {
                let batch = queue.take_batch();
                if batch.is_empty() {
                    return;
                }
                commit_batch(&shared, &gc, batch);
            }
        })
}

/// Applies `batch` in one transaction, replies at once to the writes refused, and hands
/// the accepted ones to the flusher in revision order.
fn commit_batch(shared: &Shared, gc: &GroupCommit, batch: Vec<Submission>) {
    let mut state = shared.write_lock();
    let base = state.committed;
    let limit = shared.history_limit;
    let result =
        (&shared.objects, &shared.events, &shared.meta).transaction(|(objects, events, meta)| {
            let mut overlay: HashMap<&str, Option<Record>> = HashMap::new();
            let mut decisions: Vec<Result<Decision>> = Vec::with_capacity(batch.len());
            let mut rev = base;
            for sub in &batch {
                let key = sub.key.as_str();
                let current = match overlay.get(key) {
                    Some(cur) => cur.clone(),
                    None => match objects.get(key.as_bytes())? {
                        Some(raw) => Some(
                            codec::decode_record(&raw)
                                .map_err(ConflictableTransactionError::Abort)?,
                        ),
                        None => None,
                    },
                };
                let decided = decide(key, &sub.op, current, rev + 1).and_then(|d| {
                    let prev = d.old.as_ref().map(|o| &o.value[..]);
                    let bytes = codec::encode_event(d.kind, key, &event_value(&d), prev)?;
                    Ok((d, bytes))
                });
                let (decision, event_bytes) = match decided {
                    Ok(ok) => ok,
                    Err(e) => {
                        decisions.push(Err(e));
                        continue;
                    }
                };
                rev += 1;
                match &decision.new {
                    Some(r) => {
                        objects.insert(
                            key.as_bytes(),
                            codec::encode_record(r.create_revision, r.mod_revision, &r.value),
                        )?;
                    }
                    None => {
                        objects.remove(key.as_bytes())?;
                    }
                }
                events.insert(&codec::revision_key(rev), event_bytes)?;
                if let Some(old_rev) = rev.checked_sub(limit).filter(|r| *r > 0) {
                    events.remove(&codec::revision_key(old_rev))?;
                }
                overlay.insert(key, decision.new.clone());
                decisions.push(Ok(decision));
            }
            if rev > base {
                meta.insert(REVISION_KEY, &codec::revision_key(rev))?;
            }
            Ok::<_, ConflictableTransactionError<Error>>((decisions, rev))
        });
    let (decisions, last) = match result {
        Ok(ok) => ok,
        Err(e) => {
            drop(state);
            let msg = match e {
                TransactionError::Abort(e) => e.to_string(),
                TransactionError::Storage(e) => backend(e).to_string(),
            };
            tracing::error!(error = %msg, writes = batch.len(), "commit failed");
            for sub in batch {
                let _ = sub.reply.send(Err(Error::Backend(msg.clone())));
            }
            return;
        }
    };
    state.committed = last;
    if let Some(oldest) = (last + 1).checked_sub(limit).filter(|r| *r > 1) {
        shared
            .oldest
            .fetch_max(oldest, std::sync::atomic::Ordering::AcqRel);
    }
    drop(state);

    let mut rev: Revision = base;
    for (sub, decided) in batch.into_iter().zip(decisions) {
        let decision = match decided {
            Ok(d) => d,
            Err(e) => {
                let _ = sub.reply.send(Err(e));
                continue;
            }
        };
        rev += 1;
        let event = Event {
            revision: rev,
            kind: decision.kind,
            value: event_value(&decision),
            prev_value: decision.old.as_ref().map(|o| o.value.clone()),
            key: sub.key,
            trace_parent: sub.trace_parent,
        };
        let pending = Pending {
            event,
            outcome: WriteOutcome {
                revision: rev,
                old: decision.old,
            },
            ack: sub.reply,
        };
        gc.submit(pending);
    }
}

/// The value an event carries: the new value, or for a deletion the value deleted.
fn event_value(d: &Decision) -> Bytes {
    match (&d.new, &d.old) {
        (Some(new), _) => new.value.clone(),
        (None, Some(old)) => old.value.clone(),
        (None, None) => Bytes::new(),
    }
}
