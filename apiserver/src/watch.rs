//! Watch: an initial state (for resourceVersion "" or "0") followed by every later change
//! under the requested prefix, filtered by selectors with Kubernetes' semantics (an object
//! that starts or stops matching arrives as ADDED or DELETED), plus periodic bookmarks.

use std::sync::Arc;
use std::time::Duration;

use futures::{FutureExt, StreamExt};
use proto::k8s::{ListRequest, Object, WatchEvent, WatchRequest};
use proto::{ApiError, KindInfo};
use tokio::sync::{mpsc, watch as tokio_watch};
use tonic::Status;
use tracing::{Instrument, debug, debug_span};

use crate::codec::{decode, parse_revision};
use crate::error::{Result, from_store};
use crate::filter::Filter;
use crate::keys::list_prefix;
use crate::registry::{Registry, resolve_kind};
use crate::store::{Event, EventType, Revision, Store};

pub const ADDED: &str = "ADDED";
pub const MODIFIED: &str = "MODIFIED";
pub const DELETED: &str = "DELETED";
pub const BOOKMARK: &str = "BOOKMARK";

#[derive(Clone, Debug)]
pub struct WatchConfig {
    /// Events buffered toward one client before its stream waits on it.
    pub channel_capacity: usize,
    pub bookmark_interval: Duration,
    /// Count the events sent (`apiserver_watch_events_total`, `_sizes`).
    pub metrics: bool,
}

impl Default for WatchConfig {
    fn default() -> Self {
        WatchConfig {
            channel_capacity: 256,
            bookmark_interval: Duration::from_secs(10),
            metrics: true,
        }
    }
}

pub type EventResult = std::result::Result<WatchEvent, Status>;

/// How one store event looks to a watcher with this filter: Kubernetes' rules for objects
/// entering and leaving a selector. A pure function, tested without a store.
pub fn translate(
    kind: EventType,
    new: Option<&Object>,
    old: Option<&Object>,
    filter: &Filter,
) -> Option<(&'static str, Object)> {
    match kind {
        EventType::Created => new
            .filter(|o| filter.matches(o))
            .map(|o| (ADDED, o.clone())),
        EventType::Updated => {
            let (new, old) = (new?, old?);
            match (filter.matches(new), filter.matches(old)) {
                (true, true) => Some((MODIFIED, new.clone())),
                (true, false) => Some((ADDED, new.clone())),
                // Leaving the selector: the object as the watcher last saw it, as Kubernetes does.
                (false, true) => Some((DELETED, old.clone())),
                (false, false) => None,
            }
        }
        EventType::Deleted => new
            .filter(|o| filter.matches(o))
            .map(|o| (DELETED, o.clone())),
    }
}

fn event(kind: &str, object: Option<Object>, rv: Revision) -> WatchEvent {
    WatchEvent {
        r#type: kind.to_string(),
        object,
        resource_version: rv.to_string(),
        trace_parent: String::new(),
    }
}

/// An event's objects, decoded: the new state (for a deletion, the last state) and the
/// previous one, both at the event's revision (a DELETED for an object leaving a selector
/// is that previous state at this revision, as in Kubernetes).
type Decoded = (Object, Option<Object>);

fn decode_event(ev: &Event) -> Result<Decoded> {
    let new = decode(&ev.value, ev.revision)?;
    let old = match &ev.prev_value {
        Some(v) => Some(decode(v, ev.revision)?),
        None => None,
    };
    Ok((new, old))
}

/// Decoded events shared by every watch, so that an event reaching a thousand watchers is
/// decoded once, not a thousand times. Keyed by revision (one event per revision), bounded.
pub struct DecodeCache {
    entries: std::sync::Mutex<CacheEntries>,
}

/// Revisions in insertion order (to evict the oldest) and the decoded events.
#[derive(Default)]
struct CacheEntries {
    order: std::collections::VecDeque<Revision>,
    map: std::collections::HashMap<Revision, Arc<Decoded>>,
}

const DECODE_CACHE_EVENTS: usize = 4096;

impl DecodeCache {
    pub fn new() -> Self {
        DecodeCache {
            entries: std::sync::Mutex::new(Default::default()),
        }
    }

    fn get(&self, ev: &Event) -> Result<Arc<Decoded>> {
        if let Some(hit) = self.lock().map.get(&ev.revision) {
            return Ok(hit.clone());
        }
        // Decoded outside the lock: two watchers may both decode a fresh event, never wait.
        let decoded = Arc::new(decode_event(ev)?);
        let mut entries = self.lock();
        if entries.map.insert(ev.revision, decoded.clone()).is_none() {
            entries.order.push_back(ev.revision);
            while entries.order.len() > DECODE_CACHE_EVENTS {
                if let Some(old) = entries.order.pop_front() {
                    entries.map.remove(&old);
                }
            }
        }
        Ok(decoded)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CacheEntries> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Default for DecodeCache {
    fn default() -> Self {
        Self::new()
    }
}

/// How long a watch from a revision the store has not reached yet waits for it (Kubernetes
/// waits 3 s too) before it is refused.
const FUTURE_REVISION_WAIT: Duration = Duration::from_secs(3);

impl<S: Store> Registry<S> {
    /// A revision from the future is a client that saw another store (a wiped data
    /// directory, another cluster): refused with Expired, so that it relists, rather than
    /// a watch that stays silent until the counter catches up.
    async fn wait_for_revision(&self, rv: Revision) -> Result<()> {
        let deadline = tokio::time::Instant::now() + FUTURE_REVISION_WAIT;
        while self.store.current_revision() < rv {
            if tokio::time::Instant::now() >= deadline {
                return Err(ApiError::new(
                    proto::Reason::Expired,
                    format!(
                        "too large resource version: {rv}, current: {}",
                        self.store.current_revision()
                    ),
                ));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(())
    }

    /// Starts a watch; events flow into the returned receiver until the client goes away,
    /// the store cuts the watch off, or `shutdown` turns true.
    pub async fn watch(
        &self,
        req: WatchRequest,
        config: &WatchConfig,
        shutdown: tokio_watch::Receiver<bool>,
    ) -> Result<mpsc::Receiver<EventResult>> {
        let info: &'static KindInfo = resolve_kind(&req.resource)?;
        let filter = Filter::new(info, &req.label_selector, &req.field_selector)?;
        let prefix = list_prefix(info, &req.namespace);
        let (tx, rx) = mpsc::channel(config.channel_capacity.max(2));

        let (mut initial, start) = match parse_revision(&req.resource_version)? {
            Some(rv) if rv > 0 => {
                self.wait_for_revision(rv).await?;
                (Vec::new(), rv)
            }
            // "" and "0": the current state as synthetic ADDED events, then changes.
            _ => {
                let list = self
                    .list(&ListRequest {
                        resource: req.resource.clone(),
                        namespace: req.namespace.clone(),
                        label_selector: req.label_selector.clone(),
                        field_selector: req.field_selector.clone(),
                        limit: 0,
                        r#continue: String::new(),
                    })
                    .await?;
                let rev = parse_revision(&list.resource_version)?.unwrap_or(0);
                let events = list
                    .items
                    .into_iter()
                    .map(|o| {
                        let rv = parse_revision(&o.meta().resource_version)
                            .ok()
                            .flatten()
                            .unwrap_or(rev);
                        event(ADDED, Some(o), rv)
                    })
                    .collect::<Vec<_>>();
                (events, rev)
            }
        };
        let mut stream = self
            .store
            .watch(&prefix, start)
            .map_err(|e| from_store(info, "", e))?;
        let bookmarks = req.allow_watch_bookmarks;
        let interval = config.bookmark_interval;
        let span = debug_span!("watch", resource = %req.resource, namespace = %req.namespace, from = start);

        let mut sender = Sender {
            tx,
            shutdown,
            info,
            filter,
            last_rev: start,
            decoded: self.decoded.clone(),
            metrics: config.metrics,
        };
        let store = self.store.clone();
        tokio::spawn(
            async move {
                for ev in initial.drain(..) {
                    if !sender.send(Ok(ev)).await {
                        return;
                    }
                }
                let mut ticker = tokio::time::interval(interval);
                ticker.reset();
                loop {
                    tokio::select! {
                        next = stream.next() => {
                            if !sender.forward(next).await {
                                return;
                            }
                        }
                        _ = ticker.tick(), if bookmarks => {
                            // The store publishes events before it advances its revision, so
                            // every event up to `reached` is already in our stream: take them,
                            // then the bookmark may say `reached` even on a quiet prefix.
                            let reached = store.current_revision();
                            while let Some(next) = stream.next().now_or_never() {
                                if !sender.forward(next).await {
                                    return;
                                }
                            }
                            let rv = reached.max(sender.last_rev);
                            if !sender.send(Ok(event(BOOKMARK, None, rv))).await {
                                return;
                            }
                        }
                        _ = sender.tx.closed() => return,
                        _ = stopping(&mut sender.shutdown) => {
                            sender.shutting_down();
                            return;
                        }
                    }
                }
            }
            .instrument(span),
        );
        Ok(rx)
    }
}

/// One watch's outgoing side: filters and translates store events, and sends them without
/// ever outliving a shutdown (a send waiting on a stalled client gives way to it).
struct Sender {
    tx: mpsc::Sender<EventResult>,
    shutdown: tokio_watch::Receiver<bool>,
    info: &'static KindInfo,
    filter: Filter,
    /// The revision of the last store event seen under the prefix, delivered or filtered.
    last_rev: Revision,
    decoded: Arc<DecodeCache>,
    metrics: bool,
}

impl Sender {
    /// False when the watch is over (client gone or server stopping).
    async fn send(&mut self, item: EventResult) -> bool {
        if self.metrics
            && let Ok(event) = &item
        {
            // Sized as protobuf, what gRPC watchers receive (HTTP ones get it as JSON).
            crate::metrics::watch_event(self.info, prost::Message::encoded_len(event));
        }
        let sent = tokio::select! {
            sent = self.tx.send(item) => Some(sent.is_ok()),
            _ = stopping(&mut self.shutdown) => None,
        };
        sent.unwrap_or_else(|| {
            self.shutting_down();
            false
        })
    }

    fn shutting_down(&self) {
        let _ = self.tx.try_send(Err(ApiError::new(
            proto::Reason::Unavailable,
            "apiserver is shutting down",
        )
        .into()));
    }

    /// Handles one item of the store's stream; false when the watch is over.
    async fn forward(&mut self, next: Option<crate::store::Result<Event>>) -> bool {
        let ev = match next {
            None => {
                debug!("store ended the watch");
                return false;
            }
            Some(Err(e)) => {
                debug!(error = %e, "watch cut off");
                let err = from_store(self.info, "", e).into();
                let _ = self.send(Err(err)).await;
                return false;
            }
            Some(Ok(ev)) => ev,
        };
        self.last_rev = ev.revision;
        match self.decoded.get(&ev) {
            Ok(d) => match translate(ev.kind, Some(&d.0), d.1.as_ref(), &self.filter) {
                Some((kind, object)) => {
                    let mut out = event(kind, Some(object), ev.revision);
                    // The writer's trace goes on to whoever reacts to the change.
                    if let Some(parent) = &ev.trace_parent {
                        out.trace_parent = parent.to_string();
                    }
                    self.send(Ok(out)).await
                }
                None => true,
            },
            Err(e) => {
                let _ = self.send(Err(e.into())).await;
                false
            }
        }
    }
}

/// Resolves once the server is stopping (or gone).
async fn stopping(rx: &mut tokio_watch::Receiver<bool>) {
    loop {
        if *rx.borrow_and_update() {
            return;
        }
        if rx.changed().await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::encode;
    use crate::store::EventType;
    use proto::Resource;

    fn event_at(rev: Revision) -> Event {
        let mut cm = proto::k8s::ConfigMap::default();
        cm.meta_mut().name = format!("c{rev}");
        cm.meta_mut().namespace = "default".into();
        Event {
            revision: rev,
            kind: EventType::Created,
            key: format!("/registry/configmaps/default/c{rev}"),
            value: encode(&cm.into_object()),
            prev_value: None,
            trace_parent: None,
        }
    }

    #[test]
    fn each_event_is_decoded_once_and_the_cache_stays_bounded() {
        let cache = DecodeCache::new();
        let a = cache.get(&event_at(1)).unwrap();
        let b = cache.get(&event_at(1)).unwrap();
        assert!(
            Arc::ptr_eq(&a, &b),
            "a second watcher gets the same decoded event"
        );
        assert_eq!(a.0.meta().resource_version, "1");
        for rev in 2..(DECODE_CACHE_EVENTS as u64 + 10) {
            cache.get(&event_at(rev)).unwrap();
        }
        let entries = cache.lock();
        assert_eq!(entries.map.len(), DECODE_CACHE_EVENTS);
        assert_eq!(entries.order.len(), DECODE_CACHE_EVENTS);
        assert!(!entries.map.contains_key(&1), "the oldest went first");
    }
}
