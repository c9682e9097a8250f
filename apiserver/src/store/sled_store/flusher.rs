//! Group commit: one dedicated thread makes committed writes durable with `db.flush()`,
//! then publishes their events to watchers and wakes the writers. Concurrent writers share
//! a flush. (Many tasks awaiting sled's `flush_async` at once can hang for good; one thread
//! calling the blocking `flush` cannot.)

use super::WriteOutcome;
use super::fanout::Fanout;
use crate::store::{Error, Event, Result, Revision};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use tokio::sync::oneshot;

/// A committed write waiting to become durable.
pub(crate) struct Pending {
    pub event: Event,
    pub outcome: WriteOutcome,
    pub ack: oneshot::Sender<Result<WriteOutcome>>,
}

#[derive(Default)]
struct Queue {
    /// In revision order: only the committer thread enqueues, in commit order.
    items: Vec<Pending>,
    stop: bool,
}

pub(crate) struct GroupCommit {
    queue: Mutex<Queue>,
    wake: Condvar,
    durable: AtomicU64,
    /// The same revision for readers that wait for it, and whether the flusher has gone.
    published: tokio::sync::watch::Sender<Durability>,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Durability {
    revision: Revision,
    stopped: bool,
}

impl GroupCommit {
    pub(crate) fn new(durable: Revision) -> Self {
        Self {
            queue: Mutex::new(Queue::default()),
            wake: Condvar::new(),
            durable: AtomicU64::new(durable),
            published: tokio::sync::watch::Sender::new(Durability {
                revision: durable,
                stopped: false,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues a committed write. Must be called in commit order. A write queued after
    /// `stop` (a shutdown-order bug) is answered `Closed` rather than left hanging.
    pub(crate) fn submit(&self, pending: Pending) {
        let mut q = self.lock();
        if q.stop {
            drop(q);
            let _ = pending.ack.send(Err(Error::Closed));
            return;
        }
        q.items.push(pending);
        drop(q);
        self.wake.notify_one();
    }

    /// Asks the flusher to make everything queued durable and exit.
    pub(crate) fn stop(&self) {
        self.lock().stop = true;
        self.wake.notify_all();
    }

    pub(crate) fn durable(&self) -> Revision {
        self.durable.load(Ordering::Acquire)
    }

    /// Waits until `revision` is durable: what a reader saw committed is then safe to
    /// hand out, since a crash can no longer take it back (and the revision be reused).
    /// `Closed` if the flusher stopped first.
    pub(crate) async fn wait_durable(&self, revision: Revision) -> Result<()> {
        if self.durable() >= revision {
            return Ok(());
        }
        let mut rx = self.published.subscribe();
        match rx.wait_for(|d| d.revision >= revision || d.stopped).await {
            Ok(d) if d.revision >= revision => Ok(()),
            _ => Err(Error::Closed),
        }
    }

    fn set_durable(&self, revision: Revision) {
        self.durable.store(revision, Ordering::Release);
        self.published.send_modify(|d| d.revision = revision);
    }

    fn set_stopped(&self) {
        self.published.send_modify(|d| d.stopped = true);
    }
}

pub(crate) fn spawn(
    db: sled::Db,
    gc: Arc<GroupCommit>,
    fanout: Arc<Fanout>,
) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("sled-flusher".into())
        .spawn(move || run(&db, &gc, &fanout))
}

fn run(db: &sled::Db, gc: &GroupCommit, fanout: &Fanout) {
    // Events whose flush failed: published after the next successful flush so watchers
    // never see a gap.
    let mut unpublished: Vec<Event> = Vec::new();
    loop {
        let batch = {
            let mut q = gc.lock();
            while q.items.is_empty() && !q.stop {
                q = gc.wake.wait(q).unwrap_or_else(|p| p.into_inner());
            }
            std::mem::take(&mut q.items)
        };
        if batch.is_empty() {
            // Only reached when stopping with nothing queued: one last flush for anything
            // committed that a failed flush left behind.
            if let Err(e) = db.flush() {
                tracing::error!(error = %e, "final flush failed");
            } else if let Some(last) = unpublished.last() {
                fanout.publish(&unpublished);
                gc.set_durable(last.revision);
            }
            gc.set_stopped();
            return;
        }
        let mut acks = Vec::with_capacity(batch.len());
        for p in batch {
            unpublished.push(p.event);
            acks.push((p.ack, p.outcome));
        }
        match db.flush() {
            Ok(_) => {
                // Publish before acknowledging, and before advancing the durable revision:
                // once a write returns, or `current_revision()` reports it, its event is
                // already queued to every watcher (watch bookmarks rely on this).
                fanout.publish(&unpublished);
                if let Some(last) = unpublished.last() {
                    gc.set_durable(last.revision);
                }
                unpublished.clear();
                for (ack, outcome) in acks {
                    let _ = ack.send(Ok(outcome));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "flush failed; writes stay unacknowledged");
                let msg = format!("flush failed: {e}");
                for (ack, _) in acks {
                    let _ = ack.send(Err(Error::Backend(msg.clone())));
                }
            }
        }
    }
}
