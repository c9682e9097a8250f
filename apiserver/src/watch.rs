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
    /// How long a send may wait on a full buffer before the watcher is closed
    /// (`--watch-stall-timeout`): Kubernetes' cacher closes a watcher that cannot take an
    /// event in time, so a client that stopped reading holds a bounded buffer, not an
    /// ever-growing backlog.
    pub stall_timeout: Duration,
    /// The caps on open watches, shared by every clone of this config.
    pub caps: Arc<WatchCaps>,
}

impl Default for WatchConfig {
    fn default() -> Self {
        WatchConfig {
            channel_capacity: 256,
            bookmark_interval: Duration::from_secs(10),
            metrics: true,
            stall_timeout: DEFAULT_STALL_TIMEOUT,
            caps: Arc::new(WatchCaps::new(
                DEFAULT_MAX_WATCHES,
                DEFAULT_MAX_WATCHES_PER_USER,
            )),
        }
    }
}

/// `--watch-stall-timeout`: far above any pause of a client that reads (a buffer of 256
/// events plus the HTTP/2 windows takes seconds to fill and drain), short enough that the
/// store's own per-watcher buffer rarely overflows first (that ends the watch with
/// Expired, a relist, where this ends it cleanly, a rewatch).
pub const DEFAULT_STALL_TIMEOUT: Duration = Duration::from_secs(5);
/// `--max-watches`: far above a normal cluster (each kubelet opens about ten watches, a
/// controller-manager a few dozen), low enough that a runaway client cannot exhaust the
/// process.
pub const DEFAULT_MAX_WATCHES: usize = 100_000;
/// `--max-watches-per-user`: ten times what one busy daemon opens, so that a process
/// serving many nodes under one identity (hollow nodes, a benchmark's 1000 watchers) fits,
/// while a client that leaks watches in a loop is still stopped long before the total cap.
pub const DEFAULT_MAX_WATCHES_PER_USER: usize = 10_000;

/// Open watches, in total and per user, against their caps. A slot is taken when a watch
/// starts and given back when its forwarding task ends (the client left, the watcher was
/// closed, or the server stops).
#[derive(Debug)]
pub struct WatchCaps {
    max_total: usize,
    max_per_user: usize,
    open: std::sync::Mutex<OpenWatches>,
}

#[derive(Debug, Default)]
struct OpenWatches {
    total: usize,
    per_user: std::collections::HashMap<String, usize>,
}

/// Why a new watch is refused, if it is: a pure decision over the counts.
pub fn over_cap(
    total: usize,
    of_user: usize,
    max_total: usize,
    max_per_user: usize,
) -> Option<String> {
    if max_total > 0 && total >= max_total {
        return Some(format!(
            "too many watches open on this apiserver ({total}, --max-watches={max_total}); retry later"
        ));
    }
    if max_per_user > 0 && of_user >= max_per_user {
        return Some(format!(
            "too many watches open by this user ({of_user}, --max-watches-per-user={max_per_user}); close some or retry later"
        ));
    }
    None
}

impl WatchCaps {
    /// A cap of 0 means no cap.
    pub fn new(max_total: usize, max_per_user: usize) -> Self {
        WatchCaps {
            max_total,
            max_per_user,
            open: Default::default(),
        }
    }

    /// Takes a slot for `user`, or refuses with 429 TooManyRequests and Retry-After.
    /// Requests outside any user scope (the apiserver's own) count toward the total only.
    pub fn admit(self: &Arc<Self>, user: Option<&str>) -> Result<WatchSlot> {
        let mut open = self.lock();
        let of_user = user
            .and_then(|u| open.per_user.get(u).copied())
            .unwrap_or(0);
        let per_user_cap = if user.is_some() { self.max_per_user } else { 0 };
        if let Some(why) = over_cap(open.total, of_user, self.max_total, per_user_cap) {
            return Err(ApiError::new(proto::Reason::TooManyRequests, why).with_retry_after(1));
        }
        open.total += 1;
        if let Some(u) = user {
            *open.per_user.entry(u.to_string()).or_default() += 1;
        }
        Ok(WatchSlot {
            caps: self.clone(),
            user: user.map(str::to_string),
        })
    }

    /// Watches open now.
    pub fn open(&self) -> usize {
        self.lock().total
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, OpenWatches> {
        // Counts are updated in one step each: a poisoned lock still holds true counts.
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// One open watch's place under the caps; given back on drop.
pub struct WatchSlot {
    caps: Arc<WatchCaps>,
    user: Option<String>,
}

impl Drop for WatchSlot {
    fn drop(&mut self) {
        let mut open = self.caps.lock();
        open.total = open.total.saturating_sub(1);
        if let Some(u) = &self.user
            && let Some(n) = open.per_user.get_mut(u)
        {
            *n -= 1;
            if *n == 0 {
                open.per_user.remove(u);
            }
        }
    }
}

/// `apiserver_terminated_watchers_total{resource}`, Kubernetes' counter of watchers closed
/// for not taking events in time (`resource` as Kubernetes' group-resource: `pods`,
/// `deployments.apps`).
static TERMINATED_WATCHERS: std::sync::LazyLock<
    telemetry::metrics::Family<Vec<(String, String)>, telemetry::metrics::Counter>,
> = std::sync::LazyLock::new(|| {
    telemetry::metrics::register(
        "apiserver_terminated_watchers",
        "Counter of watchers closed due to unresponsiveness.",
        Default::default(),
    )
});

fn group_resource(info: &KindInfo) -> String {
    if info.group.is_empty() {
        info.plural.to_string()
    } else {
        format!("{}.{}", info.plural, info.group)
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
        // Counted before any work (the initial list is the costly part), so a refused
        // watch costs nothing. The user is the request's, set by the gRPC service.
        let user = crate::auth::context::current_user();
        let slot = config
            .caps
            .admit(user.as_deref().map(|u| u.name.as_str()))?;
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
        // What Kubernetes' "Forcing watcher close" line names the watcher by.
        let identifier = format!(
            "key: {prefix:?}, labels: {:?}, fields: {:?}",
            req.label_selector, req.field_selector
        );
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
            stall_timeout: config.stall_timeout,
            capacity: config.channel_capacity.max(2),
            identifier,
            _slot: slot,
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
    stall_timeout: Duration,
    capacity: usize,
    identifier: String,
    /// Held for as long as this watch forwards events.
    _slot: WatchSlot,
}

impl Sender {
    /// False when the watch is over (client gone, too slow, or server stopping).
    async fn send(&mut self, item: EventResult) -> bool {
        if self.metrics
            && let Ok(event) = &item
        {
            // Sized as protobuf, what gRPC watchers receive (HTTP ones get it as JSON).
            crate::metrics::watch_event(self.info, prost::Message::encoded_len(event));
        }
        // The common case, a buffer with room, needs no timer.
        let item = match self.tx.try_send(item) {
            Ok(()) => return true,
            Err(mpsc::error::TrySendError::Closed(_)) => return false,
            Err(mpsc::error::TrySendError::Full(item)) => item,
        };
        // A zero timeout (`--watch-stall-timeout=0s`) waits on the client for ever.
        let limit = (!self.stall_timeout.is_zero()).then_some(self.stall_timeout);
        enum Outcome {
            Sent(bool),
            Stalled,
            Stopping,
        }
        let outcome = tokio::select! {
            sent = self.tx.send(item) => Outcome::Sent(sent.is_ok()),
            _ = at_or_never(limit) => Outcome::Stalled,
            _ = stopping(&mut self.shutdown) => Outcome::Stopping,
        };
        match outcome {
            Outcome::Sent(sent) => sent,
            Outcome::Stalled => {
                self.terminate();
                false
            }
            Outcome::Stopping => {
                self.shutting_down();
                false
            }
        }
    }

    /// Closes a watcher whose client has not taken an event for the stall timeout, as
    /// Kubernetes' cacher does: its stream ends (after what it buffered) without an error,
    /// so the client watches again from the last revision it saw, and every event after
    /// that is replayed from the store's history. Ending this task drops its store
    /// stream, so nothing more is buffered for it.
    fn terminate(&self) {
        let resource = group_resource(self.info);
        tracing::info!(
            last_revision = self.last_rev,
            stalled = ?self.stall_timeout,
            "Forcing {resource} watcher close due to unresponsiveness: {}. len(c.result) = {}, graceful = false",
            self.identifier,
            self.capacity - self.tx.capacity(),
        );
        TERMINATED_WATCHERS
            .get_or_create(&vec![("resource".to_string(), resource)])
            .inc();
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

/// Sleeps for `d`, or for ever without one.
async fn at_or_never(d: Option<Duration>) {
    match d {
        Some(d) => tokio::time::sleep(d).await,
        None => std::future::pending().await,
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
    fn watches_over_either_cap_are_refused() {
        assert_eq!(over_cap(0, 0, 10, 2), None);
        assert_eq!(over_cap(9, 1, 10, 2), None);
        assert!(over_cap(10, 0, 10, 2).unwrap().contains("--max-watches=10"));
        assert!(
            over_cap(3, 2, 10, 2)
                .unwrap()
                .contains("--max-watches-per-user=2")
        );
        // 0 means no cap.
        assert_eq!(over_cap(1_000_000, 1_000_000, 0, 0), None);
    }

    #[test]
    fn slots_count_per_user_and_in_total_until_dropped() {
        let caps = Arc::new(WatchCaps::new(3, 2));
        let a1 = caps.admit(Some("alice")).unwrap();
        let _a2 = caps.admit(Some("alice")).unwrap();
        let refused = caps.admit(Some("alice")).err().unwrap();
        assert_eq!(refused.reason, proto::Reason::TooManyRequests);
        assert_eq!(refused.retry_after_seconds, Some(1));
        let _b = caps.admit(Some("bob")).unwrap();
        // The total is reached: even the apiserver's own watches wait.
        assert!(caps.admit(None).is_err());
        assert_eq!(caps.open(), 3);
        drop(a1);
        assert_eq!(caps.open(), 2);
        let _a3 = caps.admit(Some("alice")).unwrap();
        // Internal watches count toward the total only.
        let caps = Arc::new(WatchCaps::new(0, 1));
        let _i1 = caps.admit(None).unwrap();
        let _i2 = caps.admit(None).unwrap();
        assert_eq!(caps.open(), 2);
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
