//! The RBAC objects in memory, fed by store watches on the four RBAC kinds (Kubernetes'
//! informer-backed listers). Primed from a list before `start` returns; relists after a
//! watch is cut off. A denial first waits for the cache to hold every write already stored
//! (`sync`), so a request right after its RoleBinding was written is not refused on stale
//! data.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use futures::{FutureExt, StreamExt};
use proto::k8s::Object;
use tokio::sync::{Notify, watch};
use tracing::{debug, warn};

use super::policy::Policy;
use crate::codec::decode;
use crate::keys::list_prefix;
use crate::registry::Registry;
use crate::store::{EventType, Revision, Store, WatchStream};

const KINDS: [&proto::KindInfo; 4] = [
    &proto::resource::info::Role,
    &proto::resource::info::ClusterRole,
    &proto::resource::info::RoleBinding,
    &proto::resource::info::ClusterRoleBinding,
];

/// How long a denial waits for the cache to catch up with the store.
const SYNC_WAIT: Duration = Duration::from_secs(2);

pub struct RbacCache {
    policy: RwLock<Policy>,
    /// The store revision up to which every RBAC write is in `policy`.
    seen: watch::Sender<Revision>,
    catch_up: Notify,
    current_revision: Box<dyn Fn() -> Revision + Send + Sync>,
}

impl RbacCache {
    /// Lists the RBAC objects, then keeps them current until `shutdown`.
    pub async fn start<S: Store>(
        registry: &Registry<S>,
        mut shutdown: watch::Receiver<bool>,
    ) -> Result<Arc<RbacCache>, String> {
        let store = registry.store.clone();
        let (policy, streams) = prime(&*store).await?;
        let reader = store.clone();
        let cache = Arc::new(RbacCache {
            policy: RwLock::new(policy),
            seen: watch::Sender::new(0),
            catch_up: Notify::new(),
            current_revision: Box::new(move || reader.current_revision()),
        });
        let task_cache = cache.clone();
        tokio::spawn(async move {
            let mut streams = streams;
            loop {
                let ended = tokio::select! {
                    _ = shutdown.wait_for(|s| *s) => return,
                    e = task_cache.follow(streams) => e,
                };
                warn!(error = %ended, "RBAC watch ended; listing again");
                loop {
                    if *shutdown.borrow() {
                        return;
                    }
                    match prime(&*store).await {
                        Ok((policy, s)) => {
                            task_cache.replace(policy);
                            streams = s;
                            break;
                        }
                        Err(e) => {
                            warn!(error = %e, "cannot list the RBAC objects; retrying");
                            tokio::time::sleep(Duration::from_secs(1)).await;
                        }
                    }
                }
            }
        });
        Ok(cache)
    }

    /// A cache over fixed objects (tests of code that asks the RBAC authorizer).
    pub fn fixed(objects: Vec<Object>) -> Arc<RbacCache> {
        let mut policy = Policy::default();
        for o in objects {
            policy.apply(o);
        }
        Arc::new(RbacCache {
            policy: RwLock::new(policy),
            seen: watch::Sender::new(0),
            catch_up: Notify::new(),
            current_revision: Box::new(|| 0),
        })
    }

    /// Runs `f` on the policy in force.
    pub fn read<R>(&self, f: impl FnOnce(&Policy) -> R) -> R {
        let policy = self.policy.read().unwrap_or_else(|e| e.into_inner());
        f(&policy)
    }

    fn replace(&self, policy: Policy) {
        *self.policy.write().unwrap_or_else(|e| e.into_inner()) = policy;
    }

    /// Waits until every RBAC write the store acknowledged before this call is in the cache
    /// (at most a couple of seconds).
    pub async fn sync(&self) {
        let target = (self.current_revision)();
        if *self.seen.borrow() >= target {
            return;
        }
        let mut rx = self.seen.subscribe();
        self.catch_up.notify_one();
        if tokio::time::timeout(SYNC_WAIT, rx.wait_for(|s| *s >= target))
            .await
            .is_err()
        {
            debug!(target, "RBAC cache did not catch up in time");
        }
    }

    /// Applies events until a stream ends; returns why it ended.
    async fn follow(&self, streams: Vec<WatchStream>) -> String {
        let mut merged = futures::stream::select_all(streams);
        loop {
            tokio::select! {
                next = merged.next() => {
                    match next {
                        Some(Ok(event)) => {
                            if let Err(e) = self.apply(event) {
                                return e;
                            }
                        }
                        Some(Err(e)) => return e.to_string(),
                        None => return "the store closed the watch".to_string(),
                    }
                }
                _ = self.catch_up.notified() => {}
            }
            // Every event up to `reached` is already in the streams (the store advances
            // its revision only after handing the event out): take them, then say so.
            let reached = (self.current_revision)();
            while let Some(next) = merged.next().now_or_never() {
                match next {
                    Some(Ok(event)) => {
                        if let Err(e) = self.apply(event) {
                            return e;
                        }
                    }
                    Some(Err(e)) => return e.to_string(),
                    None => return "the store closed the watch".to_string(),
                }
            }
            self.seen.send_if_modified(|s| {
                let advanced = reached > *s;
                *s = (*s).max(reached);
                advanced
            });
        }
    }

    fn apply(&self, event: crate::store::Event) -> Result<(), String> {
        let object = decode(&event.value, event.revision).map_err(|e| e.message)?;
        let mut policy = self.policy.write().unwrap_or_else(|e| e.into_inner());
        match event.kind {
            EventType::Created | EventType::Updated => policy.apply(object),
            EventType::Deleted => policy.remove(&object),
        }
        Ok(())
    }
}

/// Lists every RBAC object and opens a watch per kind from its list's revision.
async fn prime<S: Store>(store: &S) -> Result<(Policy, Vec<WatchStream>), String> {
    let mut policy = Policy::default();
    let mut streams = Vec::new();
    for info in KINDS {
        let prefix = list_prefix(info, "");
        let page = store
            .list(&prefix, None, 0)
            .await
            .map_err(|e| format!("{}: {e}", info.plural))?;
        for kv in page.items {
            policy.apply(decode(&kv.value, kv.mod_revision).map_err(|e| e.message)?);
        }
        streams.push(
            store
                .watch(&prefix, page.revision)
                .map_err(|e| format!("{}: {e}", info.plural))?,
        );
    }
    Ok((policy, streams))
}
