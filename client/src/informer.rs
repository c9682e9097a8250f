//! The informer (client-go's reflector + indexer + shared informer): list, then watch from
//! the list's resourceVersion, keeping a `Store` current and telling handlers what changed.
//! After an Expired watch or a broken stream it relists and delivers the difference against
//! the cache, so a consumer never misses a delete that happened while it was not watching.

use crate::api::{Api, ListParams, WatchEvent, WatchParams};
use crate::backoff::Backoff;
use crate::store::{Store, key_of};
use futures::StreamExt;
use proto::{ApiError, Reason, Resource};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

#[derive(Debug)]
pub enum InformerEvent<K> {
    Added(Arc<K>),
    Modified {
        old: Arc<K>,
        new: Arc<K>,
    },
    /// The object's last known state.
    Deleted(Arc<K>),
    /// Periodic re-delivery of a cached object (resync), so level-triggered controllers
    /// revisit everything now and then.
    Sync(Arc<K>),
}

impl<K> Clone for InformerEvent<K> {
    fn clone(&self) -> Self {
        match self {
            InformerEvent::Added(o) => InformerEvent::Added(o.clone()),
            InformerEvent::Modified { old, new } => InformerEvent::Modified {
                old: old.clone(),
                new: new.clone(),
            },
            InformerEvent::Deleted(o) => InformerEvent::Deleted(o.clone()),
            InformerEvent::Sync(o) => InformerEvent::Sync(o.clone()),
        }
    }
}

impl<K: Resource> InformerEvent<K> {
    /// The object as it is now (the new one for Modified, the last state for Deleted).
    pub fn object(&self) -> &Arc<K> {
        match self {
            InformerEvent::Added(o) | InformerEvent::Deleted(o) | InformerEvent::Sync(o) => o,
            InformerEvent::Modified { new, .. } => new,
        }
    }

    /// The store key (`namespace/name`): what a controller enqueues.
    pub fn key(&self) -> String {
        key_of(self.object().as_ref())
    }
}

#[derive(Debug, Clone)]
pub struct InformerConfig {
    /// Passed to list and watch.
    pub label_selector: String,
    pub field_selector: String,
    /// Re-deliver every cached object as `Sync` this often; `None` (default) never.
    pub resync: Option<Duration>,
    /// Delay between failed attempts (a failed list, a broken or refused watch, before
    /// relisting): by default client-go's reflector back-off, 800ms doubling to 30s plus
    /// up to 100% at random, back to 800ms after 2 minutes without a failure (applied to
    /// any back-off given here that has no reset of its own).
    pub backoff: Backoff,
}

impl Default for InformerConfig {
    fn default() -> Self {
        InformerConfig {
            label_selector: String::new(),
            field_selector: String::new(),
            resync: None,
            backoff: Backoff::default_watch(),
        }
    }
}

/// An event and the trace context of the write that produced it.
pub type Traced<K> = (InformerEvent<K>, Option<telemetry::trace::TraceParent>);

/// Called in the informer's task for every change: keep it quick (enqueue a key).
/// Returns false to be removed (its receiver is gone).
type Handler<K> = Box<dyn Fn(&InformerEvent<K>) -> bool + Send + Sync>;

/// Names a handler added with `add_handler`, to take it off again (`remove_handler`): a
/// controller that stops must not leave its handlers running on a shared informer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HandlerId(u64);

struct Shared<K> {
    store: Store<K>,
    /// Held while the store changes and handlers run, so a handler added meanwhile gets
    /// the cache's content exactly once (replayed as Added) and every later change.
    /// Each with the id `remove_handler` takes.
    handlers: Mutex<Vec<(HandlerId, Handler<K>)>>,
    next_id: std::sync::atomic::AtomicU64,
    synced: watch::Sender<bool>,
}

impl<K: Resource> Shared<K> {
    fn handlers(&self) -> MutexGuard<'_, Vec<(HandlerId, Handler<K>)>> {
        self.handlers.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Applies events to the store and delivers them, under the handler lock.
    fn apply(&self, events: Vec<InformerEvent<K>>) {
        let mut handlers = self.handlers();
        for ev in events {
            match &ev {
                InformerEvent::Added(o) | InformerEvent::Modified { new: o, .. } => {
                    self.store.upsert(o.clone());
                }
                InformerEvent::Deleted(o) => {
                    self.store.remove(&key_of(o.as_ref()));
                }
                InformerEvent::Sync(_) => {}
            }
            handlers.retain(|(_, h)| h(&ev));
        }
    }

    /// `apply` of one watch event, its handlers run with the event's trace context as
    /// the handled event's ([`telemetry::trace::event_parent`]): what they enqueue
    /// remembers the write that caused it.
    fn apply_traced(&self, ev: InformerEvent<K>, parent: Option<&telemetry::trace::TraceParent>) {
        telemetry::trace::with_event_parent(parent, || self.apply(vec![ev]));
    }
}

/// Owns its background task: dropping the informer (or `stop`) ends it.
pub struct Informer<K: Resource> {
    api: Api<K>,
    config: InformerConfig,
    shared: Arc<Shared<K>>,
    cancel: CancellationToken,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl<K: Resource> Informer<K> {
    /// Not running until `start`; register indexes and handlers first or later.
    pub fn new(api: Api<K>, config: InformerConfig) -> Self {
        let (synced, _) = watch::channel(false);
        Informer {
            api,
            config,
            shared: Arc::new(Shared {
                store: Store::new(),
                handlers: Mutex::new(Vec::new()),
                next_id: Default::default(),
                synced,
            }),
            cancel: CancellationToken::new(),
            task: Mutex::new(None),
        }
    }

    /// The cache; clones share it.
    pub fn store(&self) -> Store<K> {
        self.shared.store.clone()
    }

    /// Calls `f` for every later change until `remove_handler`; objects already cached
    /// are delivered as Added first.
    pub fn add_handler(&self, f: impl Fn(&InformerEvent<K>) + Send + Sync + 'static) -> HandlerId {
        self.add_raw_handler(Box::new(move |ev| {
            f(ev);
            true
        }))
    }

    /// How many handlers are registered (diagnostics; tests of who cleans up after itself).
    pub fn handler_count(&self) -> usize {
        self.shared.handlers().len()
    }

    /// Takes a handler off: once this returns it is not running and never runs again.
    pub fn remove_handler(&self, id: HandlerId) {
        self.shared.handlers().retain(|(h, _)| *h != id);
    }

    /// Events as a channel, for a controller loop that prefers to receive them.
    pub fn subscribe(&self) -> mpsc::UnboundedReceiver<InformerEvent<K>> {
        let (tx, rx) = mpsc::unbounded_channel();
        let _ = self.add_raw_handler(Box::new(move |ev| tx.send(ev.clone()).is_ok()));
        rx
    }

    /// As `subscribe`, each event with the trace context of the write that produced it
    /// (None when unknown or not exporting traces), so the work it causes (a scheduling
    /// cycle, a pod sync) can join that trace.
    pub fn subscribe_traced(&self) -> mpsc::UnboundedReceiver<Traced<K>> {
        let (tx, rx) = mpsc::unbounded_channel();
        let _ = self.add_raw_handler(Box::new(move |ev| {
            tx.send((ev.clone(), telemetry::trace::event_parent()))
                .is_ok()
        }));
        rx
    }

    fn add_raw_handler(&self, h: Handler<K>) -> HandlerId {
        let id = HandlerId(
            self.shared
                .next_id
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        );
        let mut handlers = self.shared.handlers();
        let alive = self
            .shared
            .store
            .list()
            .into_iter()
            .all(|o| h(&InformerEvent::Added(o)));
        if alive {
            handlers.push((id, h));
        }
        id
    }

    /// Spawns the list-and-watch task on the current runtime; calling again does nothing.
    pub fn start(&self) {
        let mut task = self.task.lock().unwrap_or_else(|p| p.into_inner());
        if task.is_some() {
            return;
        }
        let span = tracing::info_span!(
            "informer",
            kind = K::INFO.kind,
            namespace = self.api.namespace(),
            labels = %self.config.label_selector,
            fields = %self.config.field_selector,
        );
        let run = Runner {
            api: self.api.clone(),
            config: self.config.clone(),
            shared: self.shared.clone(),
            cancel: self.cancel.clone(),
        };
        *task = Some(tokio::spawn(run.run().instrument(span)));
    }

    /// True once the first list has been applied to the cache.
    pub fn has_synced(&self) -> bool {
        *self.shared.synced.borrow()
    }

    /// Waits for the first list; false if the informer stopped before that.
    pub async fn wait_until_synced(&self) -> bool {
        let mut rx = self.shared.synced.subscribe();
        tokio::select! {
            r = rx.wait_for(|s| *s) => r.is_ok(),
            _ = self.cancel.cancelled() => false,
        }
    }

    /// Ends the task; the cache keeps its last content.
    pub fn stop(&self) {
        self.cancel.cancel();
    }

    /// Cancelled when the informer stops; lets callers tie other work to it.
    pub fn cancellation_token(&self) -> CancellationToken {
        self.cancel.clone()
    }
}

impl<K: Resource> Drop for Informer<K> {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// The back-off of an informer starts again from its first delay after this long without
/// a failure (client-go's reflector: 2 minutes).
const BACKOFF_RESET: Duration = Duration::from_secs(120);

/// What the loop does once a watch has ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Next {
    /// Watch again from the last revision seen.
    Rewatch { backoff: bool },
    /// List again, then watch from the list's revision.
    Relist { backoff: bool },
}

/// Pure: what follows a watch that ended with `error` (`None`: the server closed it),
/// having delivered something (`progressed`) or not, started straight from a list or not.
/// Every failure waits a jittered back-off before relisting, so the informers of many
/// clients that lost the apiserver together (a restart) do not relist in the same
/// instant; only an Expired watch after progress relists at once, as client-go does
/// (the server is up and only the revision is too old).
fn after_watch(error: Option<&ApiError>, progressed: bool, from_list: bool) -> Next {
    match error {
        // A server that keeps closing watches at once must not spin this loop.
        None => Next::Rewatch {
            backoff: !progressed,
        },
        // Expected after a rewatch from an old revision. Straight after a list it means
        // something is wrong: back off like any failure.
        Some(e) if e.is(Reason::Expired) && (progressed || !from_list) => {
            Next::Relist { backoff: false }
        }
        Some(_) => Next::Relist { backoff: true },
    }
}

fn error_text(error: &Option<ApiError>) -> String {
    error.as_ref().map_or_else(String::new, |e| e.to_string())
}

/// What the list-and-watch loop does after a watch ends.
enum WatchEnd {
    /// The server closed the stream normally: watch again from the last revision.
    Closed,
    /// Expired, broken stream, or a failed watch call: relist (after back-off unless
    /// Expired).
    Relist {
        error: ApiError,
    },
    Cancelled,
}

struct Runner<K: Resource> {
    api: Api<K>,
    config: InformerConfig,
    shared: Arc<Shared<K>>,
    cancel: CancellationToken,
}

impl<K: Resource> Runner<K> {
    async fn run(self) {
        let mut backoff = self.config.backoff.clone();
        if backoff.reset_after().is_none() {
            backoff = backoff.with_reset_after(BACKOFF_RESET);
        }
        let mut backoff_delay =
            move || backoff.next_delay_at(tokio::time::Instant::now().into_std());
        let mut revision: Option<String> = None;
        loop {
            let from_list = revision.is_none();
            let rv = match revision.take() {
                Some(rv) => rv,
                None => match self.relist().await {
                    Ok(rv) => rv,
                    Err(e) => {
                        let delay = backoff_delay();
                        tracing::warn!(error = %e, retry_in = ?delay, "list failed; retrying");
                        if !self.sleep(delay).await {
                            return;
                        }
                        continue;
                    }
                },
            };
            let (end, last_rv, progressed) = self.watch_from(rv).await;
            let next = match &end {
                WatchEnd::Cancelled => return,
                WatchEnd::Closed => after_watch(None, progressed, from_list),
                WatchEnd::Relist { error } => after_watch(Some(error), progressed, from_list),
            };
            let error = match end {
                WatchEnd::Relist { error } => Some(error),
                _ => None,
            };
            if matches!(next, Next::Rewatch { .. }) {
                revision = Some(last_rv.clone());
            }
            let delay = match next {
                Next::Rewatch { backoff: false } => {
                    tracing::debug!(resource_version = %last_rv, "watch closed by the server; watching again");
                    None
                }
                Next::Rewatch { backoff: true } => {
                    let delay = backoff_delay();
                    tracing::debug!(resource_version = %last_rv, retry_in = ?delay, "watch closed at once by the server; watching again");
                    Some(delay)
                }
                Next::Relist { backoff: false } => {
                    tracing::info!(error = %error_text(&error), "watch expired; relisting");
                    None
                }
                Next::Relist { backoff: true } => {
                    let delay = backoff_delay();
                    tracing::warn!(error = %error_text(&error), retry_in = ?delay, "watch failed; relisting");
                    Some(delay)
                }
            };
            if let Some(delay) = delay
                && !self.sleep(delay).await
            {
                return;
            }
        }
    }

    /// Lists, replaces the cache with the difference delivered as events, and returns the
    /// list's revision.
    async fn relist(&self) -> Result<String, ApiError> {
        let params = ListParams {
            label_selector: self.config.label_selector.clone(),
            field_selector: self.config.field_selector.clone(),
            ..Default::default()
        };
        let list = tokio::select! {
            r = self.api.list(&params) => r?,
            _ = self.cancel.cancelled() => return Ok(String::new()),
        };
        let events = diff_relist(&self.shared.store.snapshot(), list.items);
        tracing::debug!(changes = events.len(), resource_version = %list.resource_version, "listed");
        self.shared.apply(events);
        self.shared.synced.send_replace(true);
        Ok(list.resource_version)
    }

    /// Returns how the watch ended, the last revision seen, and whether it delivered
    /// anything (which resets the back-off).
    async fn watch_from(&self, mut rv: String) -> (WatchEnd, String, bool) {
        if self.cancel.is_cancelled() {
            return (WatchEnd::Cancelled, rv, false);
        }
        let params = WatchParams {
            resource_version: rv.clone(),
            label_selector: self.config.label_selector.clone(),
            field_selector: self.config.field_selector.clone(),
            bookmarks: true,
        };
        let mut stream = tokio::select! {
            r = self.api.watch_traced(&params) => match r {
                Ok(s) => s,
                Err(error) => return (WatchEnd::Relist { error }, rv, false),
            },
            _ = self.cancel.cancelled() => return (WatchEnd::Cancelled, rv, false),
        };
        let mut resync = self
            .config
            .resync
            .map(|p| tokio::time::interval_at(tokio::time::Instant::now() + p, p));
        let mut progressed = false;
        loop {
            tokio::select! {
                _ = self.cancel.cancelled() => return (WatchEnd::Cancelled, rv, progressed),
                _ = tick(&mut resync) => {
                    let events = self.shared.store.list().into_iter().map(InformerEvent::Sync).collect();
                    self.shared.apply(events);
                }
                item = stream.next() => match item {
                    None => return (WatchEnd::Closed, rv, progressed),
                    Some(Err(error)) => return (WatchEnd::Relist { error }, rv, progressed),
                    Some(Ok((ev, parent))) => {
                        progressed = true;
                        let ev_rv = ev.resource_version().to_string();
                        if !ev_rv.is_empty() {
                            rv = ev_rv;
                        }
                        let cached = match &ev {
                            WatchEvent::Added(o) | WatchEvent::Modified(o) | WatchEvent::Deleted(o) => {
                                self.shared.store.get(&key_of(o))
                            }
                            WatchEvent::Bookmark(_) => None,
                        };
                        if let Some(out) = event_from_watch(cached, ev) {
                            self.shared.apply_traced(out, parent.as_ref());
                        }
                    }
                },
            }
        }
    }

    /// False when cancelled during the sleep.
    async fn sleep(&self, d: Duration) -> bool {
        tokio::select! {
            _ = tokio::time::sleep(d) => true,
            _ = self.cancel.cancelled() => false,
        }
    }
}

async fn tick(interval: &mut Option<tokio::time::Interval>) {
    match interval {
        Some(i) => {
            i.tick().await;
        }
        None => std::future::pending().await,
    }
}

/// What a watch event means for the cache: Added when the key is new, Modified when it is
/// cached (whatever the server called it), nothing for a replay of what is already cached
/// or a bookmark.
pub fn event_from_watch<K: Resource>(
    cached: Option<Arc<K>>,
    ev: WatchEvent<K>,
) -> Option<InformerEvent<K>> {
    match ev {
        WatchEvent::Added(o) | WatchEvent::Modified(o) => match cached {
            Some(old) if same_version(old.as_ref(), &o) => None,
            Some(old) => Some(InformerEvent::Modified {
                old,
                new: Arc::new(o),
            }),
            None => Some(InformerEvent::Added(Arc::new(o))),
        },
        WatchEvent::Deleted(o) => Some(InformerEvent::Deleted(Arc::new(o))),
        WatchEvent::Bookmark(_) => None,
    }
}

fn same_version<K: Resource>(a: &K, b: &K) -> bool {
    let (ra, rb) = (&a.meta().resource_version, &b.meta().resource_version);
    if ra.is_empty() && rb.is_empty() {
        a == b
    } else {
        ra == rb
    }
}

/// The events that turn `cached` into `listed`: Deleted for keys gone (first, in key
/// order), then Added / Modified in list order. An object recreated under the same name
/// (another uid) is a Deleted and an Added, so owners see the old one go.
pub fn diff_relist<K: Resource>(
    cached: &HashMap<String, Arc<K>>,
    listed: Vec<K>,
) -> Vec<InformerEvent<K>> {
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::with_capacity(listed.len());
    let mut upserts = Vec::new();
    for obj in listed {
        let key = key_of(&obj);
        match cached.get(&key) {
            None => upserts.push(InformerEvent::Added(Arc::new(obj))),
            Some(old) if old.meta().uid != obj.meta().uid => {
                out.push(InformerEvent::Deleted(old.clone()));
                upserts.push(InformerEvent::Added(Arc::new(obj)));
            }
            Some(old) if same_version(old.as_ref(), &obj) => {}
            Some(old) => upserts.push(InformerEvent::Modified {
                old: old.clone(),
                new: Arc::new(obj),
            }),
        }
        seen.insert(key);
    }
    let mut gone: Vec<_> = cached.iter().filter(|(k, _)| !seen.contains(*k)).collect();
    gone.sort_by(|a, b| a.0.cmp(b.0));
    out.extend(
        gone.into_iter()
            .map(|(_, o)| InformerEvent::Deleted(o.clone())),
    );
    out.extend(upserts);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::k8s::ConfigMap;

    fn cm(name: &str, uid: &str, rv: &str) -> ConfigMap {
        let mut c = ConfigMap::default();
        let m = c.meta_mut();
        m.name = name.into();
        m.namespace = "d".into();
        m.uid = uid.into();
        m.resource_version = rv.into();
        c
    }

    fn cache(objs: &[ConfigMap]) -> HashMap<String, Arc<ConfigMap>> {
        objs.iter()
            .map(|o| (key_of(o), Arc::new(o.clone())))
            .collect()
    }

    fn describe(events: &[InformerEvent<ConfigMap>]) -> Vec<String> {
        events
            .iter()
            .map(|e| match e {
                InformerEvent::Added(o) => {
                    format!("added {}@{}", o.meta().name, o.meta().resource_version)
                }
                InformerEvent::Modified { old, new } => format!(
                    "modified {}@{}->{}",
                    new.meta().name,
                    old.meta().resource_version,
                    new.meta().resource_version
                ),
                InformerEvent::Deleted(o) => {
                    format!("deleted {}@{}", o.meta().name, o.meta().resource_version)
                }
                InformerEvent::Sync(o) => format!("sync {}", o.meta().name),
            })
            .collect()
    }

    #[test]
    fn relist_diff_reports_deletes_changes_and_additions() {
        let before = cache(&[
            cm("a", "1", "5"),
            cm("b", "2", "6"),
            cm("c", "3", "7"),
            cm("e", "5", "8"),
        ]);
        let listed = vec![
            cm("a", "1", "5"),
            cm("b", "2", "9"),
            cm("d", "4", "10"),
            cm("e", "6", "11"),
        ];
        let got = describe(&diff_relist(&before, listed));
        assert_eq!(
            got,
            [
                "deleted e@8",
                "deleted c@7",
                "modified b@6->9",
                "added d@10",
                "added e@11"
            ]
        );
    }

    #[test]
    fn relist_diff_of_an_empty_list_deletes_everything_and_first_list_adds_all() {
        let before = cache(&[cm("b", "2", "6"), cm("a", "1", "5")]);
        assert_eq!(
            describe(&diff_relist(&before, vec![])),
            ["deleted a@5", "deleted b@6"]
        );
        let first = diff_relist(&HashMap::new(), vec![cm("a", "1", "5")]);
        assert_eq!(describe(&first), ["added a@5"]);
        assert!(diff_relist(&before, vec![cm("a", "1", "5"), cm("b", "2", "6")]).is_empty());
    }

    #[test]
    fn watch_events_are_normalised_against_the_cache() {
        let old = Arc::new(cm("a", "1", "5"));
        let e = event_from_watch(Some(old.clone()), WatchEvent::Added(cm("a", "1", "6")));
        assert_eq!(describe(&[e.unwrap()]), ["modified a@5->6"]);
        let e = event_from_watch(None, WatchEvent::Modified(cm("a", "1", "6")));
        assert_eq!(describe(&[e.unwrap()]), ["added a@6"]);
        assert!(
            event_from_watch(Some(old.clone()), WatchEvent::Modified(cm("a", "1", "5"))).is_none()
        );
        assert!(event_from_watch::<ConfigMap>(None, WatchEvent::Bookmark("9".into())).is_none());
        let e = event_from_watch(Some(old), WatchEvent::Deleted(cm("a", "1", "7")));
        assert_eq!(describe(&[e.unwrap()]), ["deleted a@7"]);
    }

    #[test]
    fn only_an_expired_watch_after_progress_relists_at_once() {
        let expired = ApiError::new(Reason::Expired, "too old resource version");
        let gone = ApiError::new(Reason::Unavailable, "apiserver is shutting down");
        let refused = ApiError::new(Reason::Unavailable, "cannot reach the apiserver");
        assert_eq!(
            after_watch(Some(&expired), true, true),
            Next::Relist { backoff: false }
        );
        assert_eq!(
            after_watch(Some(&expired), false, false),
            Next::Relist { backoff: false },
            "a rewatch from an old revision"
        );
        assert_eq!(
            after_watch(Some(&expired), false, true),
            Next::Relist { backoff: true },
            "expired straight after a list is a failure"
        );
        // The apiserver went away (restart): never an immediate relist, whatever came
        // before.
        for progressed in [false, true] {
            for from_list in [false, true] {
                for e in [&gone, &refused] {
                    assert_eq!(
                        after_watch(Some(e), progressed, from_list),
                        Next::Relist { backoff: true }
                    );
                }
            }
        }
        assert_eq!(
            after_watch(None, true, false),
            Next::Rewatch { backoff: false }
        );
        assert_eq!(
            after_watch(None, false, true),
            Next::Rewatch { backoff: true }
        );
    }

    #[tokio::test]
    async fn handlers_added_late_get_the_cache_replayed_once() {
        let shared: Shared<ConfigMap> = Shared {
            store: Store::new(),
            handlers: Mutex::new(Vec::new()),
            next_id: Default::default(),
            synced: watch::channel(false).0,
        };
        shared.apply(vec![InformerEvent::Added(Arc::new(cm("a", "1", "5")))]);
        let informer = Informer {
            api: Api::all(crate::Client::lazy("http://127.0.0.1:1").unwrap()),
            config: InformerConfig::default(),
            shared: Arc::new(shared),
            cancel: CancellationToken::new(),
            task: Mutex::new(None),
        };
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = seen.clone();
        let id = informer.add_handler(move |e| s.lock().unwrap().push(e.clone()));
        let mut rx = informer.subscribe();
        informer
            .shared
            .apply(vec![InformerEvent::Deleted(Arc::new(cm("a", "1", "6")))]);
        assert_eq!(
            describe(&seen.lock().unwrap()),
            ["added a@5", "deleted a@6"]
        );
        assert_eq!(
            describe(&[rx.try_recv().unwrap(), rx.try_recv().unwrap()]),
            ["added a@5", "deleted a@6"]
        );
        assert!(informer.store().is_empty());
        drop(rx);
        informer
            .shared
            .apply(vec![InformerEvent::Added(Arc::new(cm("b", "2", "7")))]);
        assert_eq!(
            informer.shared.handlers().len(),
            1,
            "a handler whose receiver is gone is dropped"
        );
        informer.remove_handler(id);
        informer
            .shared
            .apply(vec![InformerEvent::Added(Arc::new(cm("c", "3", "8")))]);
        assert_eq!(
            describe(&seen.lock().unwrap()),
            ["added a@5", "deleted a@6", "added b@7"],
            "a removed handler sees nothing more"
        );
        assert!(informer.shared.handlers().is_empty());
    }
}
