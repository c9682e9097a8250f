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

/// Tells whether a controller's queue is idle (nothing ready, nothing being reconciled)
/// and whether it is drained as well (nothing waiting out a delay either).
pub(crate) type IdleProbe = Arc<dyn Fn() -> (bool, bool) + Send + Sync>;

#[derive(Default)]
struct State {
    finished: HashMap<(&'static str, String), u64>,
    idle: HashMap<&'static str, IdleProbe>,
}

impl State {
    fn finished(&self, controller: &'static str, key: &str) -> u64 {
        self.finished
            .get(&(controller, key.to_string()))
            .copied()
            .unwrap_or(0)
    }
    fn quiet(&self, controller: &'static str, drained: bool) -> bool {
        self.idle.get(controller).is_some_and(|p| {
            let (idle, empty) = p();
            idle && (empty || !drained)
        })
    }
}

#[derive(Clone)]
pub struct ReconcileObserver {
    state: Arc<watch::Sender<State>>,
}

impl Default for ReconcileObserver {
    fn default() -> Self {
        Self::new()
    }
}

impl ReconcileObserver {
    pub fn new() -> Self {
        ReconcileObserver {
            state: Arc::new(watch::Sender::new(State::default())),
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

    /// A run starts: `idle` says when its queue has nothing ready and nothing in hand.
    pub(crate) fn running(&self, controller: &'static str, idle: IdleProbe) {
        self.state.send_modify(|s| {
            s.idle.insert(controller, idle);
        });
    }

    /// Called once the reconcile is done and the queue told (so `idle` is current).
    pub(crate) fn finished(&self, controller: &'static str, key: &str) {
        self.state.send_modify(|s| {
            *s.finished.entry((controller, key.to_string())).or_default() += 1;
        });
    }

    /// Reconciles of `key` by `controller` finished so far (errors and requeues included).
    pub fn count(&self, controller: &'static str, key: &str) -> u64 {
        self.state.borrow().finished(controller, key)
    }

    /// Waits until `controller` has finished a reconcile of `key` beyond the first `after`
    /// (take `after` with `count` before the change the reconcile must see); returns the
    /// new count. Never returns if the controller never looks: bound it with a timeout.
    pub async fn wait_reconciled(&self, controller: &'static str, key: &str, after: u64) -> u64 {
        self.wait(|s| (s.finished(controller, key) > after).then(|| s.finished(controller, key)))
            .await
    }

    /// As `wait_reconciled`, and until `controller`'s queue is idle: every key enqueued
    /// before this call (by an event its handlers have seen) has been reconciled, the
    /// re-adds that a reconcile in hand missed included. Delayed requeues (`RequeueAfter`,
    /// back-off) are not waited for.
    pub async fn wait_settled(&self, controller: &'static str, key: &str, after: u64) -> u64 {
        self.wait_quiet(controller, key, after, false).await
    }

    /// As `wait_settled`, and until no key waits out a delay either (for a controller
    /// with no periodic requeue: a back-off's later attempt is waited for too).
    pub async fn wait_drained(&self, controller: &'static str, key: &str, after: u64) -> u64 {
        self.wait_quiet(controller, key, after, true).await
    }

    async fn wait_quiet(
        &self,
        controller: &'static str,
        key: &str,
        after: u64,
        drained: bool,
    ) -> u64 {
        self.wait(|s| {
            (s.finished(controller, key) > after && s.quiet(controller, drained))
                .then(|| s.finished(controller, key))
        })
        .await
    }

    async fn wait<T>(&self, mut done: impl FnMut(&State) -> Option<T>) -> T {
        let mut rx = self.state.subscribe();
        loop {
            // Idleness changes only when a reconcile finishes, which notifies.
            if let Some(v) = done(&rx.borrow_and_update()) {
                return v;
            }
            // The sender lives in `self`: `changed` cannot fail while we wait.
            let _ = rx.changed().await;
        }
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

        let busy = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let b = busy.clone();
        obs.running(
            "c",
            Arc::new(move || (!b.load(std::sync::atomic::Ordering::SeqCst), true)),
        );
        let settled = {
            let obs = obs.clone();
            tokio::spawn(async move { obs.wait_settled("c", "ns/a", 0).await })
        };
        tokio::task::yield_now().await;
        assert!(!settled.is_finished(), "reconciled but the queue is busy");
        busy.store(false, std::sync::atomic::Ordering::SeqCst);
        obs.finished("c", "ns/b");
        assert_eq!(settled.await.unwrap(), 1);
    }
}
