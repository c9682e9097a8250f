//! `Controller`: the skeleton every controller used to write for itself (kube-rs'
//! `Controller`, client-go's `processNextWorkItem`). Event handlers only enqueue keys; N
//! workers take keys from one `WorkQueue`; a key is reconciled by one worker at a time;
//! a failure requeues it with per-key exponential back-off, a success forgets its
//! failures. Nothing runs before every informer the controller reads has its first list
//! (raced with cancellation), and when the token is cancelled the workers finish what they
//! hold, and every handler is taken off the shared informers.

use crate::informer::{HandlerId, Informer, InformerEvent};
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

pub struct Controller<K: Resource> {
    name: &'static str,
    store: Store<K>,
    queue: WorkQueue<String>,
    workers: usize,
    subscriptions: Vec<Subscribe>,
    waits: Vec<WaitSynced>,
}

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
        let c = Controller {
            name,
            store: informer.store(),
            queue: WorkQueue::new(),
            workers: 1,
            subscriptions: Vec::new(),
            waits: Vec::new(),
        };
        c.watches_with(informer, handler)
    }

    /// The queue handlers and reconciles share, for a reconcile's own `add_after`.
    pub fn queue(&self) -> WorkQueue<String> {
        self.queue.clone()
    }

    /// The cache of `K` the controller reconciles from.
    pub fn store(&self) -> Store<K> {
        self.store.clone()
    }

    /// How many keys are reconciled at once (at least one).
    pub fn workers(mut self, n: usize) -> Self {
        self.workers = n.max(1);
        self
    }

    /// Objects of kind `O` whose controller reference names a cached `K` (uid-checked)
    /// enqueue that `K`; on a change of owner, the old owner too.
    pub fn owns<O: Resource>(self, informer: Arc<Informer<O>>) -> Self {
        let owners = self.store.clone();
        self.watches_with(informer, move |ev, queue| {
            for key in owner_keys(&owners, ev) {
                queue.add(key);
            }
        })
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
        let worker = Arc::new(Worker {
            name,
            store: self.store,
            queue: self.queue.clone(),
            reconcile,
            error_policy,
            ctx,
        });
        let mut set = JoinSet::new();
        for n in 0..self.workers {
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
        // The JoinSet aborts its workers if this future is dropped; on cancel they finish
        // the key in hand (a reconcile is never cut between two writes).
        cancel.cancelled().await;
        self.queue.shutdown();
        while set.join_next().await.is_some() {}
    }
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

struct Worker<K: Resource, C, F, P> {
    name: &'static str,
    store: Store<K>,
    queue: WorkQueue<String>,
    reconcile: F,
    error_policy: P,
    ctx: Arc<C>,
}

impl<K, C, E, F, Fut, P> Worker<K, C, F, P>
where
    K: Resource,
    C: Send + Sync + 'static,
    E: ReconcileError,
    F: Fn(Request<K>, Arc<C>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Action, E>> + Send + 'static,
    P: Fn(&str, &E, &C) -> Action + Send + Sync + 'static,
{
    async fn process(&self, key: String) {
        let span = tracing::info_span!("reconcile", controller = self.name, key = %key);
        let started = tokio::time::Instant::now();
        let request = Request {
            key: key.clone(),
            object: self.store.get(&key),
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
    }
}

/// The usual error policy: retry after the key's back-off.
pub fn backoff<C>(_key: &str, _error: &impl ReconcileError, _ctx: &C) -> Action {
    Action::Backoff
}
