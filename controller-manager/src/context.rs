//! What every controller shares: the API client, the flags, and one informer per kind
//! (client-go's SharedInformerFactory), so all controllers that read pods share one pod
//! watch and one cache.

use crate::config::Config;
use client::runtime::ReconcileObserver;
use client::{Api, Client, Clock, Informer, InformerConfig, SystemClock};
use futures::future::BoxFuture;
use proto::Resource;
use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Type-erased handle on a shared informer, to wait for its first list and stop it.
trait AnyInformer: Send + Sync {
    fn wait_synced(&self) -> BoxFuture<'static, bool>;
    fn has_synced(&self) -> bool;
    fn kind(&self) -> &'static str;
    fn stop(&self);
}

struct Erased<K: Resource>(Arc<Informer<K>>);

impl<K: Resource> AnyInformer for Erased<K> {
    fn wait_synced(&self) -> BoxFuture<'static, bool> {
        let i = self.0.clone();
        Box::pin(async move { i.wait_until_synced().await })
    }
    fn has_synced(&self) -> bool {
        self.0.has_synced()
    }
    fn kind(&self) -> &'static str {
        K::INFO.kind
    }
    fn stop(&self) {
        self.0.stop();
    }
}

struct Entry {
    typed: Arc<dyn Any + Send + Sync>,
    erased: Box<dyn AnyInformer>,
}

pub struct Context {
    /// For writes (and reads that must not come from a cache).
    pub client: Client,
    pub config: Arc<Config>,
    /// Events about objects (`ctx.events.event(source, &obj, warning, reason, message)`).
    pub events: crate::events::Recorder,
    /// Wall-clock time for every controller (timestamps written into objects, deadlines
    /// compared with them); `SystemClock` unless a test injects another (`with_clock`).
    pub clock: Arc<dyn Clock>,
    /// What informers list and watch through; the same as `client` except in tests that
    /// make the cache lag behind the writes.
    informer_client: Client,
    informers: Mutex<HashMap<&'static str, Entry>>,
    /// Tests: counts every controller's finished reconciles (`with_reconcile_observer`).
    reconciles: Option<ReconcileObserver>,
}

impl Context {
    pub fn new(client: Client, config: Arc<Config>) -> Self {
        Context {
            informer_client: client.clone(),
            client,
            config,
            events: crate::events::Recorder::new(),
            clock: Arc::new(SystemClock),
            informers: Mutex::new(HashMap::new()),
            reconciles: None,
        }
    }

    /// Informers read through `informer_client` (tests: a connection that delays watch
    /// events, so the cache lags behind the controller's own writes).
    pub fn with_informer_client(mut self, informer_client: Client) -> Self {
        self.informer_client = informer_client;
        self
    }

    /// Controllers read wall-clock time from `clock` (tests: a `client::FakeClock`).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Every controller's finished reconciles are counted in `observer` (tests wait on it
    /// before asserting that nothing happened).
    pub fn with_reconcile_observer(mut self, observer: ReconcileObserver) -> Self {
        self.reconciles = Some(observer);
        self
    }

    /// A controller's future, run inside the reconcile observer's scope when there is one.
    pub fn observed<'a, T: 'a>(&self, fut: BoxFuture<'a, T>) -> BoxFuture<'a, T> {
        match &self.reconciles {
            Some(o) => Box::pin(o.scope(fut)),
            None => fut,
        }
    }

    /// The shared informer of kind `K` across all namespaces, created and started on the
    /// first request. Call from inside the runtime.
    pub fn informer<K: Resource>(&self) -> Arc<Informer<K>> {
        let mut map = self.informers.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(entry) = map.get(K::INFO.kind)
            && let Ok(typed) = entry.typed.clone().downcast::<Informer<K>>()
        {
            return typed;
        }
        let informer = Arc::new(Informer::new(
            Api::<K>::all(self.informer_client.clone()),
            InformerConfig::default(),
        ));
        informer.start();
        map.insert(
            K::INFO.kind,
            Entry {
                typed: informer.clone(),
                erased: Box::new(Erased(informer.clone())),
            },
        );
        informer
    }

    /// A typed API handle across all namespaces (writes use the object's namespace).
    pub fn api<K: Resource>(&self) -> Api<K> {
        Api::all(self.client.clone())
    }

    /// A typed API handle in one namespace.
    pub fn api_in<K: Resource>(&self, namespace: &str) -> Api<K> {
        Api::namespaced(self.client.clone(), namespace)
    }

    /// Waits until every informer requested so far has its first list in cache (a
    /// controller must not act on an empty cache: it would recreate what exists). False if
    /// one stopped first.
    pub async fn wait_for_sync(&self) -> bool {
        let waits: Vec<_> = {
            let map = self.informers.lock().unwrap_or_else(|p| p.into_inner());
            map.values()
                .map(|e| (e.erased.kind(), e.erased.wait_synced()))
                .collect()
        };
        for (kind, wait) in waits {
            if !wait.await {
                tracing::warn!(kind, "informer stopped before its cache synced");
                return false;
            }
        }
        true
    }

    /// Whether every informer requested so far has its first list in cache (the
    /// `informer-sync` readiness check).
    pub fn has_synced(&self) -> bool {
        let map = self.informers.lock().unwrap_or_else(|p| p.into_inner());
        map.values().all(|e| e.erased.has_synced())
    }

    /// Stops every informer (their caches keep their last content).
    pub fn stop_informers(&self) {
        let map = self.informers.lock().unwrap_or_else(|p| p.into_inner());
        for e in map.values() {
            e.erased.stop();
        }
    }
}

impl Drop for Context {
    fn drop(&mut self) {
        self.stop_informers();
    }
}
