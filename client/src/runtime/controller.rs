//! `Controller`: the skeleton every controller used to write for itself (kube-rs'
//! `Controller`, client-go's `processNextWorkItem`). Event handlers only enqueue keys; N
//! workers take keys from one `WorkQueue`; a key is reconciled by one worker at a time;
//! a failure requeues it with per-key exponential back-off, a success forgets its
//! failures. Nothing runs before every informer the controller reads has its first list
//! (raced with cancellation), and when the token is cancelled the workers finish what they
//! hold, and every handler is taken off the shared informers.

use crate::informer::{HandlerId, Informer, InformerEvent};
use crate::runtime::observe::ReconcileObserver;
use crate::runtime::owner::{controller_ref, resolve_controller_ref};
use crate::store::{Store, key_of};
use crate::workqueue::WorkQueue;
use futures::future::BoxFuture;
use proto::Resource;
use std::fmt::Display;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

/// What a reconcile (or the error policy) asks for next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Nothing more until the next event (kube-rs' `await_change`).
    Done,
    /// Look again after this long (a deadline or minReadySeconds to check).
    RequeueAfter(Duration),
    /// Look again after the key's own exponential back-off (the default after an error).
    Backoff,
}

impl Action {
    pub fn await_change() -> Self {
        Action::Done
    }
    pub fn requeue(after: Duration) -> Self {
        Action::RequeueAfter(after)
    }
}

/// The error a reconcile returns. `is_routine` errors (a Conflict from a stale cache) are
/// logged quietly however often they repeat.
pub trait ReconcileError: Display + Send + Sync + 'static {
    fn is_routine(&self) -> bool {
        false
    }
}

/// What a worker hands `reconcile`: the key, and the object as the cache holds it now:
/// `None` when it is gone (deleted), so the controller can clean up after it.
#[derive(Debug)]
pub struct Request<K> {
    pub key: String,
    pub object: Option<Arc<K>>,
}

/// Adds a handler to an informer when the controller starts; returns its removal.
type Subscribe = Box<dyn FnOnce() -> Box<dyn FnOnce() + Send> + Send>;
type WaitSynced = Box<dyn Fn() -> BoxFuture<'static, bool> + Send + Sync>;

/// The kind of a controller whose keys are not one kind's objects (`Controller::keys`):
/// its `Request::object` is always `None`.
#[derive(Debug)]
pub enum NoObject {}

/// Finds a key's object for the reconcile (in the controller's cache).
type Lookup<K> = Arc<dyn Fn(&str) -> Option<Arc<K>> + Send + Sync>;

pub struct Controller<K> {
    name: &'static str,
    /// The cache of `K`; None for `Controller::keys`.
    store: Option<Store<K>>,
    lookup: Lookup<K>,
    queue: WorkQueue<String>,
    workers: usize,
    subscriptions: Vec<Subscribe>,
    waits: Vec<WaitSynced>,
    /// Every period, the keys to enqueue again (client-go's resyncPeriod).
    resync: Option<(Duration, ResyncKeys)>,
}

type ResyncKeys = Box<dyn Fn() -> Vec<String> + Send + Sync>;

impl<K: Resource> Controller<K> {
    /// A controller of `K`, named `name` in logs, taking `K` from a shared informer: every
    /// change to a `K` enqueues its key (deletions included).
    pub fn new(name: &'static str, informer: Arc<Informer<K>>) -> Self {
        Self::new_with(name, informer, |ev, queue| queue.add(ev.key()))
    }

    /// As `new`, with its own handler for `K`'s events (to note expectations, filter, or
    /// enqueue later). The handler must only enqueue.
    pub fn new_with(
        name: &'static str,
        informer: Arc<Informer<K>>,
        handler: impl Fn(&InformerEvent<K>, &WorkQueue<String>) + Send + Sync + 'static,
    ) -> Self {
        let store = informer.store();
        let cache = store.clone();
        let c = Controller {
            name,
            store: Some(store),
            lookup: Arc::new(move |key| cache.get(key)),
            queue: WorkQueue::named(name),
            workers: 1,
            subscriptions: Vec::new(),
            waits: Vec::new(),
            resync: None,
        };
        c.watches_with(informer, handler)
    }

    /// The cache of `K` the controller reconciles from.
    pub fn store(&self) -> Store<K> {
        self.store.clone().unwrap_or_default()
    }

    /// Every `period` after the caches synced, every key of `K`'s cache is queued again
    /// (client-go's resyncPeriod: a level-triggered controller revisits what no event
    /// touched, e.g. to notice time passing).
    pub fn resync_every(self, period: Duration) -> Self {
        let store = self.store();
        self.resync_keys_every(period, move || store.keys())
    }

    /// Objects of kind `O` whose controller reference names a cached `K` (uid-checked)
    /// enqueue that `K`; on a change of owner, the old owner too.
    pub fn owns<O: Resource>(self, informer: Arc<Informer<O>>) -> Self {
        let owners = self.store();
        self.watches_with(informer, move |ev, queue| {
            for key in owner_keys(&owners, ev) {
                queue.add(key);
            }
        })
    }
}

impl Controller<NoObject> {
    /// A controller whose keys are its own (items of a graph, or two kinds' keys in one
    /// queue): nothing is enqueued but what its `watches_with` handlers and resync add, and
    /// `reconcile` gets the key with no object.
    pub fn keys(name: &'static str) -> Self {
        Controller {
            name,
            store: None,
            lookup: Arc::new(|_| None),
            queue: WorkQueue::named(name),
            workers: 1,
            subscriptions: Vec::new(),
            waits: Vec::new(),
            resync: None,
        }
    }
}

impl<K: Send + Sync + 'static> Controller<K> {
    /// The queue handlers and reconciles share, for a reconcile's own `add_after`.
    pub fn queue(&self) -> WorkQueue<String> {
        self.queue.clone()
    }

    /// How many keys are reconciled at once (at least one).
    pub fn workers(mut self, n: usize) -> Self {
        self.workers = n.max(1);
        self
    }

    /// As `resync_every`, with the keys to queue given by `keys` (another store's, mapped).
    pub fn resync_keys_every(
        mut self,
        period: Duration,
        keys: impl Fn() -> Vec<String> + Send + Sync + 'static,
    ) -> Self {
        self.resync = (!period.is_zero()).then(|| (period, Box::new(keys) as ResyncKeys));
        self
    }

    /// Objects of kind `O` enqueue the keys `mapper` gives (for a change, those of the old
    /// and the new state).
    pub fn watches<O: Resource>(
        self,
        informer: Arc<Informer<O>>,
        mapper: impl Fn(&O) -> Vec<String> + Send + Sync + 'static,
    ) -> Self {
        self.watches_with(informer, move |ev, queue| {
            if let InformerEvent::Modified { old, .. } = ev {
                for key in mapper(old) {
                    queue.add(key);
                }
            }
            for key in mapper(ev.object()) {
                queue.add(key);
            }
        })
    }

    /// The general form: `handler` sees every event of `O` and enqueues what it decides.
    /// It runs on the informer's task: keep it quick, never await, never write.
    pub fn watches_with<O: Resource>(
        mut self,
        informer: Arc<Informer<O>>,
        handler: impl Fn(&InformerEvent<O>, &WorkQueue<String>) + Send + Sync + 'static,
    ) -> Self {
        let queue = self.queue.clone();
        let i = informer.clone();
        self.subscriptions.push(Box::new(move || {
            let id: HandlerId = i.add_handler(move |ev| handler(ev, &queue));
            Box::new(move || i.remove_handler(id))
        }));
        self.reads(informer)
    }

    /// A cache the reconcile reads without reacting to its events: waited for before the
    /// first reconcile.
    pub fn reads<O: Resource>(mut self, informer: Arc<Informer<O>>) -> Self {
        self.waits.push(Box::new(move || {
            let i = informer.clone();
            Box::pin(async move {
                let synced = i.wait_until_synced().await;
                if !synced {
                    tracing::warn!(
                        kind = O::INFO.kind,
                        "informer stopped before its cache synced"
                    );
                }
                synced
            })
        }));
        self
    }

    /// Runs until `cancel`: handlers on, caches synced, then `workers` workers calling
    /// `reconcile(request, ctx)`; a failed reconcile's next step is `error_policy(key,
    /// error, ctx)` (usually `Action::Backoff`). Returns once the workers have finished the
    /// keys they hold and the handlers are off; dropping the future mid-way takes the
    /// handlers off too.
    pub async fn run<C, E, F, Fut, P>(
        self,
        reconcile: F,
        error_policy: P,
        ctx: Arc<C>,
        cancel: CancellationToken,
    ) where
        C: Send + Sync + 'static,
        E: ReconcileError,
        F: Fn(Request<K>, Arc<C>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Action, E>> + Send + 'static,
        P: Fn(&str, &E, &C) -> Action + Send + Sync + 'static,
    {
        let name = self.name;
        // Dropped on every way out (return, cancellation of this future): handlers off.
        let _handlers = Unsubscribe(self.subscriptions.into_iter().map(|s| s()).collect());
        let synced = tokio::select! {
            s = wait_all(&self.waits) => s,
            _ = cancel.cancelled() => false,
        };
        if !synced {
            return;
        }
        let worker = Worker {
            name,
            lookup: self.lookup,
            queue: self.queue.clone(),
            reconcile,
            error_policy,
            ctx,
            observer: ReconcileObserver::current().inspect(|o| {
                let queue = self.queue.clone();
                o.running(
                    name,
                    Arc::new(move || (queue.is_idle(), queue.delayed_len() == 0)),
                );
            }),
        };
        let resync = self.resync.map(|(period, keys)| {
            let queue = self.queue.clone();
            async move {
                let mut tick =
                    tokio::time::interval_at(tokio::time::Instant::now() + period, period);
                loop {
                    tick.tick().await;
                    for key in keys() {
                        queue.add(key);
                    }
                }
            }
        });
        let queue = self.queue.clone();
        // client-go refreshes a queue's unfinished-work gauges every 500ms.
        let unfinished = async move {
            let mut tick = tokio::time::interval(Duration::from_millis(500));
            loop {
                tick.tick().await;
                queue.update_unfinished_work();
            }
        };
        tokio::select! {
            _ = run_workers(worker, self.workers, cancel.clone()) => {}
            // Never ends by itself: the workers' return (on cancel) stops it.
            _ = async {
                match resync {
                    Some(r) => r.await,
                    None => std::future::pending().await,
                }
            } => {}
            _ = unfinished => {}
        }
    }
}

/// `workers` workers over the worker's queue until `cancel`; then the queue is shut down
/// and the keys in hand are finished (a reconcile is never cut between two writes). If
/// this future is dropped, the JoinSet aborts the workers.
async fn run_workers<K, C, E, F, Fut, P>(
    worker: Worker<K, C, F, P>,
    workers: usize,
    cancel: CancellationToken,
) where
    K: Send + Sync + 'static,
    C: Send + Sync + 'static,
    E: ReconcileError,
    F: Fn(Request<K>, Arc<C>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Action, E>> + Send + 'static,
    P: Fn(&str, &E, &C) -> Action + Send + Sync + 'static,
{
    let name = worker.name;
    let queue = worker.queue.clone();
    let worker = Arc::new(worker);
    let mut set = JoinSet::new();
    for n in 0..workers.max(1) {
        let worker = worker.clone();
        set.spawn(
            async move {
                while let Some(key) = worker.queue.get().await {
                    worker.process(key).await;
                }
            }
            .instrument(tracing::debug_span!(
                "worker",
                controller = name,
                worker = n
            )),
        );
    }
    cancel.cancelled().await;
    queue.shutdown();
    while set.join_next().await.is_some() {}
}

async fn wait_all(waits: &[WaitSynced]) -> bool {
    for w in waits {
        if !w().await {
            return false;
        }
    }
    true
}

struct Unsubscribe(Vec<Box<dyn FnOnce() + Send>>);

impl Drop for Unsubscribe {
    fn drop(&mut self) {
        for remove in self.0.drain(..) {
            remove();
        }
    }
}

/// The owners (`K` keys) an event about an owned object concerns: its controller now and,
/// when that changed, its controller before.
fn owner_keys<K: Resource, O: Resource>(owners: &Store<K>, ev: &InformerEvent<O>) -> Vec<String> {
    let mut keys = Vec::new();
    if let InformerEvent::Modified { old, new } = ev {
        let (a, b) = (controller_ref(old.meta()), controller_ref(new.meta()));
        if a.map(|r| &r.uid) != b.map(|r| &r.uid)
            && let Some(o) = resolve_controller_ref(owners, old.meta())
        {
            keys.push(key_of(o.as_ref()));
        }
    }
    if let Some(o) = resolve_controller_ref(owners, ev.object().meta()) {
        keys.push(key_of(o.as_ref()));
    }
    keys
}

struct Worker<K, C, F, P> {
    name: &'static str,
    lookup: Lookup<K>,
    queue: WorkQueue<String>,
    reconcile: F,
    error_policy: P,
    ctx: Arc<C>,
    /// Told of every finished reconcile (tests only; None costs nothing).
    observer: Option<ReconcileObserver>,
}

impl<K, C, E, F, Fut, P> Worker<K, C, F, P>
where
    K: Send + Sync + 'static,
    C: Send + Sync + 'static,
    E: ReconcileError,
    F: Fn(Request<K>, Arc<C>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Action, E>> + Send + 'static,
    P: Fn(&str, &E, &C) -> Action + Send + Sync + 'static,
{
    async fn process(&self, key: String) {
        let span = tracing::info_span!("reconcile", controller = self.name, key = %key);
        // A child of the write whose watch event queued the key, when there was one.
        telemetry::trace::set_parent(&span, self.queue.take_parent(&key).as_ref());
        let started = tokio::time::Instant::now();
        let request = Request {
            key: key.clone(),
            object: (self.lookup)(&key),
        };
        let result = (self.reconcile)(request, self.ctx.clone())
            .instrument(span.clone())
            .await;
        let _enter = span.enter();
        let action = match result {
            Ok(action) => {
                self.queue.forget(&key);
                tracing::debug!(elapsed = ?started.elapsed(), ?action, "synced");
                action
            }
            Err(e) => {
                let retries = self.queue.num_requeues(&key);
                if e.is_routine() || retries < 3 {
                    tracing::debug!(error = %e, retries, "sync failed; requeued with back-off");
                } else {
                    tracing::warn!(error = %e, retries, "sync failed; requeued with back-off");
                }
                (self.error_policy)(&key, &e, &self.ctx)
            }
        };
        match action {
            Action::Done => {}
            Action::RequeueAfter(d) => self.queue.add_after(key.clone(), d),
            Action::Backoff => self.queue.add_rate_limited(key.clone()),
        }
        self.queue.done(&key);
        if let Some(o) = &self.observer {
            o.finished(self.name, &key);
        }
    }
}

/// The usual error policy: retry after the key's back-off.
pub fn backoff<C>(_key: &str, _error: &impl ReconcileError, _ctx: &C) -> Action {
    Action::Backoff
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::k8s::ConfigMap;
    use std::collections::HashMap;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[derive(Debug)]
    struct Boom;
    impl Display for Boom {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("boom")
        }
    }
    impl ReconcileError for Boom {}

    #[derive(Default)]
    struct Counts {
        calls: Mutex<HashMap<String, usize>>,
        running: AtomicUsize,
        max_running: AtomicUsize,
    }

    async fn reconcile(req: Request<ConfigMap>, c: Arc<Counts>) -> Result<Action, Boom> {
        let n = {
            let mut calls = c.calls.lock().unwrap();
            let n = calls.entry(req.key.clone()).or_default();
            *n += 1;
            *n
        };
        let now = c.running.fetch_add(1, Ordering::SeqCst) + 1;
        c.max_running.fetch_max(now, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(10)).await;
        c.running.fetch_sub(1, Ordering::SeqCst);
        if req.key == "fail" && n < 3 {
            return Err(Boom);
        }
        if req.key == "again" && n == 1 {
            return Ok(Action::RequeueAfter(Duration::from_secs(5)));
        }
        Ok(Action::Done)
    }

    // Moved from controller-manager/src/runner.rs with the worker loop.
    #[tokio::test(start_paused = true)]
    async fn errors_back_off_and_a_key_runs_on_one_worker_at_a_time() {
        let queue = WorkQueue::new();
        let cancel = CancellationToken::new();
        let counts = Arc::new(Counts::default());
        let worker = Worker {
            name: "test",
            lookup: Arc::new(|_| None::<Arc<ConfigMap>>),
            queue: queue.clone(),
            reconcile,
            error_policy: backoff,
            ctx: counts.clone(),
            observer: None,
        };
        let task = tokio::spawn(run_workers(worker, 4, cancel.clone()));
        for _ in 0..3 {
            queue.add("same".to_string());
        }
        queue.add("fail".to_string());
        queue.add("again".to_string());
        tokio::time::sleep(Duration::from_secs(10)).await;
        let calls = counts.calls.lock().unwrap().clone();
        assert_eq!(calls["same"], 1, "a key queued three times runs once");
        assert_eq!(calls["fail"], 3, "failures retry until success");
        assert_eq!(calls["again"], 2, "RequeueAfter runs it again");
        assert_eq!(
            queue.num_requeues(&"fail".to_string()),
            0,
            "success forgets"
        );
        assert!(counts.max_running.load(Ordering::SeqCst) <= 3);
        cancel.cancel();
        task.await.unwrap();
    }

    async fn count_keys(req: Request<NoObject>, c: Arc<Counts>) -> Result<Action, Boom> {
        assert!(req.object.is_none());
        *c.calls.lock().unwrap().entry(req.key).or_default() += 1;
        Ok(Action::Done)
    }

    #[tokio::test(start_paused = true)]
    async fn a_key_controller_runs_its_resync_until_cancelled() {
        let counts = Arc::new(Counts::default());
        let cancel = CancellationToken::new();
        let c = Controller::keys("test")
            .resync_keys_every(Duration::from_secs(10), || vec!["a|b".to_string()]);
        let task = tokio::spawn(c.run(count_keys, backoff, counts.clone(), cancel.clone()));
        tokio::time::sleep(Duration::from_secs(35)).await;
        assert_eq!(counts.calls.lock().unwrap()["a|b"], 3, "one per period");
        cancel.cancel();
        task.await.unwrap();
        tokio::time::sleep(Duration::from_secs(30)).await;
        assert_eq!(
            counts.calls.lock().unwrap()["a|b"],
            3,
            "the resync stopped with the run"
        );
    }
}
