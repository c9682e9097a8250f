//! Watch fan-out: the registry of live watchers the flusher publishes durable events to,
//! and the stream a watcher reads (replay from the events tree, then live events).
//!
//! Registration and publication take the same lock, so a watcher registered when
//! `published == R` receives through its channel exactly the events after `R`; the replay
//! covers `from+1 ..= R`. Together: no gap, no duplicate.

use super::codec;
use crate::store::{Error, Event, Result, Revision, WatchStream};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::mpsc;

/// Events read from the events tree per replay step: bounds the time one poll spends in
/// sled and the memory a replay holds.
const REPLAY_BATCH: usize = 256;

struct Watcher {
    prefix: String,
    /// Only events with a revision above this are sent.
    after: Revision,
    tx: mpsc::Sender<Event>,
    cut_off: Arc<AtomicBool>,
}

struct Registry {
    published: Revision,
    watchers: Vec<Watcher>,
    closed: bool,
}

pub(crate) struct Fanout {
    registry: Mutex<Registry>,
}

/// What a newly registered watcher needs to build its stream.
pub(crate) struct Registration {
    /// Last revision published before registration: replay up to here.
    pub published: Revision,
    pub rx: mpsc::Receiver<Event>,
    pub cut_off: Arc<AtomicBool>,
}

impl Fanout {
    pub(crate) fn new(published: Revision) -> Self {
        Self {
            registry: Mutex::new(Registry {
                published,
                watchers: Vec::new(),
                closed: false,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Registry> {
        // A panic while publishing leaves the registry consistent (vectors only shrink by
        // `retain`), so a poisoned lock is still usable.
        self.registry.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn register(
        &self,
        prefix: &str,
        from: Revision,
        buffer: usize,
    ) -> Result<Registration> {
        let mut reg = self.lock();
        if reg.closed {
            return Err(Error::Closed);
        }
        let (tx, rx) = mpsc::channel(buffer.max(1));
        let cut_off = Arc::new(AtomicBool::new(false));
        let published = reg.published;
        reg.watchers.push(Watcher {
            prefix: prefix.to_owned(),
            after: from.max(published),
            tx,
            cut_off: cut_off.clone(),
        });
        Ok(Registration {
            published,
            rx,
            cut_off,
        })
    }

    /// Sends durable events (in revision order) to every matching watcher. Never blocks:
    /// a watcher whose channel is full is cut off, one whose stream was dropped is removed.
    pub(crate) fn publish(&self, events: &[Event]) {
        let Some(last) = events.last() else { return };
        let mut reg = self.lock();
        reg.watchers.retain(|w| {
            for ev in events {
                if ev.revision <= w.after || !ev.key.starts_with(&w.prefix) {
                    continue;
                }
                match w.tx.try_send(ev.clone()) {
                    Ok(()) => {}
                    Err(mpsc::error::TrySendError::Full(_)) => {
                        tracing::debug!(prefix = %w.prefix, "watcher too slow, cutting it off");
                        w.cut_off.store(true, Ordering::Release);
                        return false;
                    }
                    Err(mpsc::error::TrySendError::Closed(_)) => return false,
                }
            }
            true
        });
        reg.published = last.revision;
    }

    /// Ends every watch (their streams finish after draining what they hold) and refuses
    /// new ones.
    pub(crate) fn close(&self) {
        let mut reg = self.lock();
        reg.closed = true;
        reg.watchers.clear();
    }

    #[cfg(test)]
    pub(crate) fn watcher_count(&self) -> usize {
        self.lock().watchers.len()
    }
}

enum Phase {
    Replay { next: Revision, end: Revision },
    Live,
    Done,
}

struct StreamState {
    phase: Phase,
    buf: VecDeque<Event>,
    events: sled::Tree,
    prefix: String,
    from: Revision,
    last: Revision,
    rx: mpsc::Receiver<Event>,
    cut_off: Arc<AtomicBool>,
}

/// The stream of one watch: history `from+1 ..= reg.published` from `events`, then live.
pub(crate) fn stream(
    events: sled::Tree,
    prefix: String,
    from: Revision,
    reg: Registration,
) -> WatchStream {
    let state = StreamState {
        phase: Phase::Replay {
            next: from.saturating_add(1),
            end: reg.published,
        },
        buf: VecDeque::new(),
        events,
        prefix,
        from,
        last: from,
        rx: reg.rx,
        cut_off: reg.cut_off,
    };
    Box::pin(futures::stream::unfold(state, |mut st| async move {
        loop {
            if let Some(ev) = st.buf.pop_front() {
                st.last = ev.revision;
                return Some((Ok(ev), st));
            }
            match st.phase {
                Phase::Replay { next, end } => {
                    if next > end {
                        st.phase = Phase::Live;
                        continue;
                    }
                    match replay_batch(&st.events, &st.prefix, st.from, next, end) {
                        Ok((batch, after)) => {
                            st.buf.extend(batch);
                            st.phase = Phase::Replay { next: after, end };
                        }
                        Err(e) => {
                            st.phase = Phase::Done;
                            return Some((Err(e), st));
                        }
                    }
                }
                Phase::Live => match st.rx.recv().await {
                    // Registration guarantees live events follow the replay; the check
                    // keeps "no duplicate" true even if that ever changed.
                    Some(ev) if ev.revision <= st.last => continue,
                    Some(ev) => {
                        st.last = ev.revision;
                        return Some((Ok(ev), st));
                    }
                    None => {
                        st.phase = Phase::Done;
                        if st.cut_off.load(Ordering::Acquire) {
                            return Some((Err(Error::TooSlow), st));
                        }
                        return None;
                    }
                },
                Phase::Done => return None,
            }
        }
    }))
}

/// Reads up to `REPLAY_BATCH` consecutive revisions starting at `next`; returns the events
/// under `prefix` and the next revision to read. A missing revision means history was
/// trimmed under the replay: `Expired`.
fn replay_batch(
    events: &sled::Tree,
    prefix: &str,
    from: Revision,
    next: Revision,
    end: Revision,
) -> Result<(Vec<Event>, Revision)> {
    let mut out = Vec::new();
    let mut expected = next;
    let range = codec::revision_key(next)..=codec::revision_key(end);
    for item in events.range(range).take(REPLAY_BATCH) {
        let (k, v) = item.map_err(super::backend)?;
        let rev = codec::decode_revision(&k)?;
        if rev != expected {
            return Err(expired(events, from));
        }
        expected = rev + 1;
        if codec::event_key(&v)?.starts_with(prefix) {
            out.push(codec::decode_event(rev, &v)?);
        }
    }
    if expected == next {
        return Err(expired(events, from));
    }
    Ok((out, expected))
}

fn expired(events: &sled::Tree, from: Revision) -> Error {
    let oldest = events
        .first()
        .ok()
        .flatten()
        .and_then(|(k, _)| codec::decode_revision(&k).ok())
        .unwrap_or(from.saturating_add(1));
    Error::Expired {
        requested: from,
        oldest,
    }
}
