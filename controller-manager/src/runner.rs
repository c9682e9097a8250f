//! The worker loop every controller runs (Kubernetes' `processNextWorkItem`): N workers
//! take keys from one `WorkQueue`, a key is reconciled by one worker at a time, errors
//! requeue the key with per-item exponential back-off, success forgets its failures.
//! Event handlers only enqueue keys; all decisions happen in `reconcile(key)`.

use crate::error::Error;
use client::{Informer, InformerEvent, WorkQueue};
use proto::Resource;
use std::future::Future;
use std::sync::Arc;
use tokio::task::{JoinHandle, JoinSet};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

pub use client::runtime::Action;

impl client::runtime::ReconcileError for Error {
    /// Conflicts are routine (a stale cache): logged quietly.
    fn is_routine(&self) -> bool {
        self.is_conflict()
    }
}

/// Delivers the informer's events to `handle` on a task of its own until `cancel` (the
/// objects already cached first, as Added). Handlers should only enqueue keys and note
/// expectations; they run one at a time, in the informer's order.
pub fn on_events<K: Resource>(
    informer: &Informer<K>,
    cancel: CancellationToken,
    mut handle: impl FnMut(InformerEvent<K>) + Send + 'static,
) -> JoinHandle<()> {
    let mut rx = informer.subscribe();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = cancel.cancelled() => return,
                ev = rx.recv() => match ev {
                    Some(ev) => handle(ev),
                    None => return,
                },
            }
        }
    })
}

/// Runs `workers` workers over `queue` until `cancel`; then shuts the queue down and
/// waits for reconciles in flight to finish.
pub async fn run_workers<F, Fut>(
    controller: &'static str,
    queue: WorkQueue<String>,
    workers: usize,
    cancel: CancellationToken,
    reconcile: F,
) where
    F: Fn(String) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Action, Error>> + Send + 'static,
{
    let reconcile = Arc::new(reconcile);
    let mut set = JoinSet::new();
    for worker in 0..workers.max(1) {
        let queue = queue.clone();
        let reconcile = reconcile.clone();
        set.spawn(
            async move {
                while let Some(key) = queue.get().await {
                    process(controller, &queue, key, reconcile.as_ref()).await;
                }
            }
            .instrument(tracing::debug_span!("worker", controller, worker)),
        );
    }
    cancel.cancelled().await;
    queue.shutdown();
    while set.join_next().await.is_some() {}
}

async fn process<F, Fut>(controller: &'static str, queue: &WorkQueue<String>, key: String, f: &F)
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = Result<Action, Error>>,
{
    let span = tracing::info_span!("reconcile", controller, key = %key);
    let started = tokio::time::Instant::now();
    let result = f(key.clone()).instrument(span.clone()).await;
    let _enter = span.enter();
    match result {
        Ok(action) => {
            queue.forget(&key);
            match action {
                Action::Done => {}
                Action::RequeueAfter(d) => queue.add_after(key.clone(), d),
                Action::Backoff => queue.add_rate_limited(key.clone()),
            }
            tracing::debug!(elapsed = ?started.elapsed(), ?action, "synced");
        }
        Err(e) => {
            let retries = queue.num_requeues(&key);
            // Conflicts are routine (a stale cache): say so quietly.
            if e.is_conflict() || retries < 3 {
                tracing::debug!(error = %e, retries, "sync failed; requeued with back-off");
            } else {
                tracing::warn!(error = %e, retries, "sync failed; requeued with back-off");
            }
            queue.add_rate_limited(key.clone());
        }
    }
    queue.done(&key);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[tokio::test(start_paused = true)]
    async fn errors_back_off_and_a_key_runs_on_one_worker_at_a_time() {
        let queue = WorkQueue::new();
        let cancel = CancellationToken::new();
        let calls: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
        let running = Arc::new(AtomicUsize::new(0));
        let max_running = Arc::new(AtomicUsize::new(0));
        let (c, r, m) = (calls.clone(), running.clone(), max_running.clone());
        let task = tokio::spawn(run_workers(
            "test",
            queue.clone(),
            4,
            cancel.clone(),
            move |key: String| {
                let (c, r, m) = (c.clone(), r.clone(), m.clone());
                async move {
                    let n = {
                        let mut calls = c.lock().unwrap();
                        let n = calls.entry(key.clone()).or_default();
                        *n += 1;
                        *n
                    };
                    let now = r.fetch_add(1, Ordering::SeqCst) + 1;
                    m.fetch_max(now, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    r.fetch_sub(1, Ordering::SeqCst);
                    if key == "fail" && n < 3 {
                        return Err(Error::Other("boom".into()));
                    }
                    if key == "again" && n == 1 {
                        return Ok(Action::RequeueAfter(Duration::from_secs(5)));
                    }
                    Ok(Action::Done)
                }
            },
        ));
        for _ in 0..3 {
            queue.add("same".to_string());
        }
        queue.add("fail".to_string());
        queue.add("again".to_string());
        tokio::time::sleep(Duration::from_secs(10)).await;
        let calls = calls.lock().unwrap().clone();
        assert_eq!(calls["same"], 1, "a key queued three times runs once");
        assert_eq!(calls["fail"], 3, "failures retry until success");
        assert_eq!(calls["again"], 2, "RequeueAfter runs it again");
        assert_eq!(
            queue.num_requeues(&"fail".to_string()),
            0,
            "success forgets"
        );
        assert!(max_running.load(Ordering::SeqCst) <= 3);
        cancel.cancel();
        task.await.unwrap();
    }
}
