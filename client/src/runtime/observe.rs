//! `ReconcileObserver`: a count of finished reconciles per controller and key, for tests
//! that assert "nothing happened". Instead of sleeping and hoping the controller looked,
//! a test notes the count, makes its change, waits until the controller has reconciled
//! the key again, then asserts. Zero cost when unused: a controller run outside an
//! observer's `scope` keeps no counts.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use tokio::sync::watch;

tokio::task_local! {
    static OBSERVER: ReconcileObserver;
}

type Counts = HashMap<(&'static str, String), u64>;

#[derive(Clone)]
pub struct ReconcileObserver {
    counts: Arc<watch::Sender<Counts>>,
}

impl Default for ReconcileObserver {
    fn default() -> Self {
        Self::new()
    }
}

impl ReconcileObserver {
    pub fn new() -> Self {
        ReconcileObserver {
            counts: Arc::new(watch::Sender::new(Counts::new())),
        }
    }

    /// Runs `fut` with this observer: every `Controller::run` started inside it (on the
    /// same task) reports its finished reconciles here.
    pub fn scope<F: Future>(&self, fut: F) -> impl Future<Output = F::Output> + use<F> {
        OBSERVER.scope(self.clone(), fut)
    }

    /// The observer of the current task's scope, if any (read once when a run starts).
    pub(crate) fn current() -> Option<Self> {
        OBSERVER.try_with(Clone::clone).ok()
    }

    pub(crate) fn finished(&self, controller: &'static str, key: &str) {
        self.counts.send_modify(|c| {
            *c.entry((controller, key.to_string())).or_default() += 1;
        });
    }

    /// Reconciles of `key` by `controller` finished so far (errors and requeues included).
    pub fn count(&self, controller: &'static str, key: &str) -> u64 {
        self.counts
            .borrow()
            .get(&(controller, key.to_string()))
            .copied()
            .unwrap_or(0)
    }

    /// Waits until `controller` has finished a reconcile of `key` beyond the first `after`
    /// (take `after` with `count` before the change the reconcile must see); returns the
    /// new count. Never returns if the controller never looks: bound it with a timeout.
    pub async fn wait_reconciled(&self, controller: &'static str, key: &str, after: u64) -> u64 {
        let mut rx = self.counts.subscribe();
        let k = (controller, key.to_string());
        let seen = rx
            .wait_for(|c| c.get(&k).copied().unwrap_or(0) > after)
            .await
            .map(|c| c.get(&k).copied().unwrap_or(0));
        // The sender lives in `self`: the wait cannot see it dropped.
        seen.unwrap_or(after)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn counts_only_inside_a_scope_and_wakes_a_waiter() {
        assert!(ReconcileObserver::current().is_none());
        let obs = ReconcileObserver::new();
        let inner = obs
            .scope(async { ReconcileObserver::current().is_some() })
            .await;
        assert!(inner);
        let before = obs.count("c", "ns/a");
        let waiter = {
            let obs = obs.clone();
            tokio::spawn(async move { obs.wait_reconciled("c", "ns/a", before).await })
        };
        obs.finished("c", "ns/b");
        obs.finished("c", "ns/a");
        assert_eq!(waiter.await.unwrap(), 1);
        assert_eq!(obs.count("c", "ns/b"), 1);
    }
}
