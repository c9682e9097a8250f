//! The rate-limited work queue of client-go. Controllers enqueue keys, never objects; a key
//! queued twice is processed once; a key being processed is never handed to a second worker
//! (if re-added meanwhile, it is queued again after `done`); failures requeue with per-item
//! exponential back-off. No background task: delayed items are promoted by whoever calls
//! `get` or `len`, so dropping the queue leaves nothing running.
//!
//! A named queue (`WorkQueue::named`) keeps client-go's `workqueue_*` metrics under its
//! name; its owner calls `update_unfinished_work` periodically (client-go does it every
//! 500ms) so that a stuck worker shows while it is stuck.

use crate::backoff::exponential_delay;
use crate::metrics::{QueueMetrics, queue_metrics};
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;

/// client-go's default item limiter: 5ms doubling to 1000s.
pub const DEFAULT_BASE_DELAY: Duration = Duration::from_millis(5);
pub const DEFAULT_MAX_DELAY: Duration = Duration::from_secs(1000);

/// Cheap to clone: clones share one queue, one per controller, used by all its workers.
pub struct WorkQueue<T> {
    inner: Arc<Inner<T>>,
}

impl<T> Clone for WorkQueue<T> {
    fn clone(&self) -> Self {
        WorkQueue {
            inner: self.inner.clone(),
        }
    }
}

struct Inner<T> {
    state: Mutex<State<T>>,
    notify: Notify,
    /// The trace context of the latest event that queued each item (only while this
    /// process exports traces), for the span of its processing.
    parents: Mutex<HashMap<T, telemetry::trace::TraceParent>>,
    base_delay: Duration,
    max_delay: Duration,
    /// None for an unnamed queue (no metrics, as client-go's default).
    metrics: Option<QueueMetrics>,
}

struct State<T> {
    /// Ready to hand out, in order.
    queue: VecDeque<T>,
    /// Needs processing: queued, or re-added while being processed.
    dirty: HashSet<T>,
    processing: HashSet<T>,
    /// Waiting for `add_after`: ordered by due time, with a sequence to keep keys unique.
    delayed: BTreeMap<(Instant, u64), T>,
    delayed_index: HashMap<T, (Instant, u64)>,
    seq: u64,
    failures: HashMap<T, u32>,
    shutting_down: bool,
    /// Named queues only: when each dirty item was first added, and when each item in
    /// processing was handed out.
    added_at: HashMap<T, Instant>,
    started_at: HashMap<T, Instant>,
}

impl<T: Hash + Eq + Clone> Default for WorkQueue<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Hash + Eq + Clone> WorkQueue<T> {
    pub fn new() -> Self {
        Self::with_backoff(DEFAULT_BASE_DELAY, DEFAULT_MAX_DELAY)
    }

    /// Per-item back-off for `add_rate_limited`: `base * 2^failures`, capped at `max`.
    pub fn with_backoff(base: Duration, max: Duration) -> Self {
        Self::build(None, base, max)
    }

    /// A queue with client-go's `workqueue_*` metrics labelled `name` (a controller's
    /// name). Queues sharing a name share their series.
    pub fn named(name: &str) -> Self {
        Self::build(Some(name), DEFAULT_BASE_DELAY, DEFAULT_MAX_DELAY)
    }

    /// `named` with the back-off of `with_backoff`.
    pub fn named_with_backoff(name: &str, base: Duration, max: Duration) -> Self {
        Self::build(Some(name), base, max)
    }

    fn build(name: Option<&str>, base: Duration, max: Duration) -> Self {
        WorkQueue {
            inner: Arc::new(Inner {
                state: Mutex::new(State {
                    queue: VecDeque::new(),
                    dirty: HashSet::new(),
                    processing: HashSet::new(),
                    delayed: BTreeMap::new(),
                    delayed_index: HashMap::new(),
                    seq: 0,
                    failures: HashMap::new(),
                    shutting_down: false,
                    added_at: HashMap::new(),
                    started_at: HashMap::new(),
                }),
                notify: Notify::new(),
                parents: Mutex::default(),
                base_delay: base,
                max_delay: max.max(base),
                metrics: name.map(queue_metrics),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<T>> {
        // A panic while holding this lock leaves the sets consistent (every method updates
        // them before anything that can panic), so a poisoned lock is still usable.
        self.inner.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues `item` unless it is already queued. Ignored after `shutdown`.
    pub fn add(&self, item: T) {
        // Added from an informer's handler: the handled event's trace context, the latest
        // winning as the queue keeps one entry per item.
        if let Some(parent) = telemetry::trace::event_parent() {
            self.inner
                .parents
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(item.clone(), parent);
        }
        let mut st = self.lock();
        if push(&mut st, item, self.metrics()) {
            drop(st);
            self.inner.notify.notify_one();
        }
    }

    /// Waits for an item; `None` once the queue is shut down (items still queued are
    /// dropped then, so workers stop promptly). Call `done` when finished with it.
    pub async fn get(&self) -> Option<T> {
        loop {
            let notified = self.inner.notify.notified();
            tokio::pin!(notified);
            // Registered before the state is checked, so a `shutdown` in between still
            // wakes this waiter.
            notified.as_mut().enable();
            let next_due = {
                let mut st = self.lock();
                if st.shutting_down {
                    return None;
                }
                let now = Instant::now();
                promote_due(&mut st, now, self.metrics());
                if let Some(item) = st.queue.pop_front() {
                    st.dirty.remove(&item);
                    st.processing.insert(item.clone());
                    if let Some(m) = self.metrics() {
                        m.depth.set(gauge_value(st.dirty.len()));
                        if let Some(added) = st.added_at.remove(&item) {
                            m.queue_duration.observe((now - added).as_secs_f64());
                        }
                        st.started_at.insert(item.clone(), now);
                    }
                    let more = !st.queue.is_empty();
                    drop(st);
                    if more {
                        // Pass the wake-up on: one `notify_one` may stand for several adds.
                        self.inner.notify.notify_one();
                    }
                    return Some(item);
                }
                st.delayed.keys().next().map(|(due, _)| *due)
            };
            match next_due {
                Some(due) => {
                    let _ = tokio::time::timeout_at(due, notified).await;
                }
                None => notified.await,
            }
        }
    }

    /// Marks `item` finished; if it was added again while processing, it is queued now.
    pub fn done(&self, item: &T) {
        let mut st = self.lock();
        st.processing.remove(item);
        if let Some(m) = self.metrics()
            && let Some(started) = st.started_at.remove(item)
        {
            m.work_duration
                .observe((Instant::now() - started).as_secs_f64());
        }
        if st.dirty.contains(item) && !st.shutting_down {
            st.queue.push_back(item.clone());
            drop(st);
            self.inner.notify.notify_one();
        }
    }

    /// Queues `item` after its back-off: `base * 2^n` for its n-th failure since `forget`.
    pub fn add_rate_limited(&self, item: T) {
        let delay = {
            let mut st = self.lock();
            let n = st.failures.entry(item.clone()).or_insert(0);
            let delay = exponential_delay(self.inner.base_delay, self.inner.max_delay, *n);
            *n = n.saturating_add(1);
            delay
        };
        self.add_after(item, delay);
    }

    /// Clears `item`'s failure count: its next `add_rate_limited` waits `base` again.
    pub fn forget(&self, item: &T) {
        self.lock().failures.remove(item);
    }

    /// The trace context of the event that last queued `item`, taken (the next processing
    /// has its own).
    pub fn take_parent(&self, item: &T) -> Option<telemetry::trace::TraceParent> {
        let mut parents = self.inner.parents.lock().unwrap_or_else(|p| p.into_inner());
        if parents.is_empty() {
            return None;
        }
        parents.remove(item)
    }

    /// Failures recorded for `item` since the last `forget`.
    pub fn num_requeues(&self, item: &T) -> u32 {
        self.lock().failures.get(item).copied().unwrap_or(0)
    }

    /// Queues `item` once `delay` has passed. An item already waiting keeps the earlier
    /// of its two due times.
    pub fn add_after(&self, item: T, delay: Duration) {
        if let Some(m) = self.metrics()
            && !self.is_shutting_down()
        {
            // client-go counts every delayed add as a retry.
            m.retries.inc();
        }
        if delay.is_zero() {
            return self.add(item);
        }
        // A delay derived from a user's spec may be absurd: cap it rather than overflow.
        let now = Instant::now();
        let due = now
            .checked_add(delay)
            .unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 24 * 3600));
        let mut st = self.lock();
        if st.shutting_down {
            return;
        }
        if let Some(&(old_due, old_seq)) = st.delayed_index.get(&item) {
            if old_due <= due {
                return;
            }
            st.delayed.remove(&(old_due, old_seq));
        }
        st.seq += 1;
        let key = (due, st.seq);
        st.delayed.insert(key, item.clone());
        st.delayed_index.insert(item, key);
        drop(st);
        // A waiter may be sleeping until a later due time; let it recompute.
        self.inner.notify.notify_one();
    }

    /// Items ready to be handed out (not those still waiting out a delay).
    pub fn len(&self) -> usize {
        let mut st = self.lock();
        promote_due(&mut st, Instant::now(), self.metrics());
        st.queue.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Nothing ready and nothing handed out and not yet `done` (delayed items aside): what
    /// was added before has been processed.
    pub fn is_idle(&self) -> bool {
        let mut st = self.lock();
        promote_due(&mut st, Instant::now(), self.metrics());
        st.queue.is_empty() && st.processing.is_empty()
    }

    /// Items waiting out a delay (`add_after`, `add_rate_limited`).
    pub fn delayed_len(&self) -> usize {
        self.lock().delayed.len()
    }

    /// Wakes every waiting `get` with `None`; later adds are ignored.
    pub fn shutdown(&self) {
        self.lock().shutting_down = true;
        self.inner.notify.notify_waiters();
    }

    pub fn is_shutting_down(&self) -> bool {
        self.lock().shutting_down
    }

    fn metrics(&self) -> Option<&QueueMetrics> {
        self.inner.metrics.as_ref()
    }

    /// Sets `workqueue_unfinished_work_seconds` (the time the items in processing have
    /// been processed so far, summed) and `workqueue_longest_running_processor_seconds`
    /// for a named queue; a no-op for an unnamed one.
    pub fn update_unfinished_work(&self) {
        let Some(m) = self.metrics() else {
            return;
        };
        let now = Instant::now();
        let (total, longest) = self
            .lock()
            .started_at
            .values()
            .map(|t| (now - *t).as_secs_f64())
            .fold((0.0, 0.0), |(sum, max): (f64, f64), d| {
                (sum + d, max.max(d))
            });
        m.unfinished.set(total);
        m.longest.set(longest);
    }
}

fn gauge_value(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Returns whether the item was newly queued.
fn push<T: Hash + Eq + Clone>(st: &mut State<T>, item: T, metrics: Option<&QueueMetrics>) -> bool {
    if st.shutting_down || st.dirty.contains(&item) {
        return false;
    }
    st.dirty.insert(item.clone());
    if let Some(m) = metrics {
        // As client-go: an add of an item being processed counts (it will be queued
        // again by `done`); depth counts every item waiting to be handed out.
        m.adds.inc();
        m.depth.set(gauge_value(st.dirty.len()));
        st.added_at.entry(item.clone()).or_insert_with(Instant::now);
    }
    if st.processing.contains(&item) {
        // Queued again by `done`, so no second worker sees it meanwhile.
        return false;
    }
    st.queue.push_back(item);
    true
}

fn promote_due<T: Hash + Eq + Clone>(
    st: &mut State<T>,
    now: Instant,
    metrics: Option<&QueueMetrics>,
) {
    while let Some(entry) = st.delayed.first_entry() {
        if entry.key().0 > now {
            break;
        }
        let item = entry.remove();
        st.delayed_index.remove(&item);
        push(st, item, metrics);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[tokio::test(start_paused = true)]
    async fn add_dedups_while_queued() {
        let q = WorkQueue::new();
        q.add("a");
        q.add("b");
        q.add("a");
        assert_eq!(q.len(), 2);
        assert_eq!(q.get().await, Some("a"));
        assert_eq!(q.get().await, Some("b"));
        assert_eq!(q.len(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_key_in_processing_is_not_handed_out_twice() {
        let q = WorkQueue::new();
        q.add("a");
        assert_eq!(q.get().await, Some("a"));
        q.add("a");
        q.add("a");
        assert_eq!(q.len(), 0, "re-added while processing must wait for done");
        let second = tokio::time::timeout(ms(50), q.get()).await;
        assert!(
            second.is_err(),
            "a second worker got the key while it was processing"
        );
        q.done(&"a");
        assert_eq!(q.len(), 1);
        assert_eq!(q.get().await, Some("a"));
        q.done(&"a");
        assert_eq!(q.len(), 0, "done without a re-add queues nothing");
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_workers_never_share_a_key() {
        let q = WorkQueue::<u32>::new();
        let busy = Arc::new(Mutex::new(HashSet::new()));
        let processed = Arc::new(Mutex::new(0u32));
        let mut workers = tokio::task::JoinSet::new();
        for _ in 0..4 {
            let (q, busy, processed) = (q.clone(), busy.clone(), processed.clone());
            workers.spawn(async move {
                while let Some(k) = q.get().await {
                    assert!(
                        busy.lock().unwrap().insert(k),
                        "key {k} processed twice at once"
                    );
                    tokio::time::sleep(ms(10)).await;
                    busy.lock().unwrap().remove(&k);
                    *processed.lock().unwrap() += 1;
                    q.done(&k);
                }
            });
        }
        for round in 0..20 {
            for k in 0..3 {
                q.add(k);
            }
            tokio::time::sleep(ms(3 + round % 7)).await;
        }
        tokio::time::sleep(ms(200)).await;
        q.shutdown();
        while let Some(r) = workers.join_next().await {
            r.unwrap();
        }
        let n = *processed.lock().unwrap();
        assert!(
            (3..60).contains(&n),
            "dedup should merge adds: processed {n}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn rate_limited_backoff_doubles_and_forget_resets() {
        let q = WorkQueue::with_backoff(ms(5), ms(30));
        let mut waits = Vec::new();
        for _ in 0..5 {
            let start = Instant::now();
            q.add_rate_limited("k");
            assert_eq!(q.len(), 0);
            assert_eq!(q.get().await, Some("k"));
            waits.push(start.elapsed());
            q.done(&"k");
        }
        assert_eq!(waits, vec![ms(5), ms(10), ms(20), ms(30), ms(30)]);
        assert_eq!(q.num_requeues(&"k"), 5);
        q.forget(&"k");
        assert_eq!(q.num_requeues(&"k"), 0);
        let start = Instant::now();
        q.add_rate_limited("k");
        assert_eq!(q.get().await, Some("k"));
        assert_eq!(start.elapsed(), ms(5));
    }

    #[tokio::test(start_paused = true)]
    async fn default_limiter_matches_client_go() {
        let q = WorkQueue::new();
        for _ in 0..10 {
            q.add_rate_limited(1);
            assert_eq!(q.get().await, Some(1));
            q.done(&1);
        }
        let start = Instant::now();
        q.add_rate_limited(1);
        assert_eq!(q.get().await, Some(1));
        assert_eq!(start.elapsed(), ms(5 * 1024));
    }

    #[tokio::test(start_paused = true)]
    async fn add_after_keeps_the_earliest_due_time() {
        let q = WorkQueue::new();
        let start = Instant::now();
        q.add_after("x", ms(100));
        q.add_after("x", ms(300));
        q.add_after("y", ms(50));
        assert_eq!(q.delayed_len(), 2);
        assert_eq!(q.get().await, Some("y"));
        assert_eq!(start.elapsed(), ms(50));
        assert_eq!(q.get().await, Some("x"));
        assert_eq!(start.elapsed(), ms(100));
        assert_eq!(q.delayed_len(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_waiting_worker_wakes_for_an_earlier_delayed_item() {
        let q = WorkQueue::new();
        let start = Instant::now();
        q.add_after("late", ms(1000));
        let worker = {
            let q = q.clone();
            tokio::spawn(async move { q.get().await })
        };
        tokio::time::sleep(ms(10)).await;
        q.add_after("early", ms(20));
        assert_eq!(worker.await.unwrap(), Some("early"));
        assert_eq!(start.elapsed(), ms(30));
    }

    /// The value of `metric{name="<queue>"}` now.
    fn series(metric: &str, queue: &str) -> f64 {
        crate::metrics::sample(&format!(r#"{metric}{{name="{queue}"}}"#)).unwrap_or(0.0)
    }

    #[tokio::test(start_paused = true)]
    async fn a_named_queue_counts_adds_depth_latencies_and_retries() {
        let name = "workqueue-test-counts";
        let q = WorkQueue::named(name);
        q.add("a");
        q.add("b");
        q.add("a");
        assert_eq!(
            series("workqueue_adds_total", name),
            2.0,
            "a dedup is no add"
        );
        assert_eq!(series("workqueue_depth", name), 2.0);
        tokio::time::sleep(ms(40)).await;
        assert_eq!(q.get().await, Some("a"));
        assert_eq!(series("workqueue_depth", name), 1.0);
        let waited = series("workqueue_queue_duration_seconds_sum", name);
        assert!((waited - 0.04).abs() < 1e-6, "queued for {waited}s");
        tokio::time::sleep(ms(250)).await;
        q.update_unfinished_work();
        assert!(
            (series("workqueue_unfinished_work_seconds", name) - 0.25).abs() < 1e-6,
            "a worker busy for 250ms shows as unfinished work"
        );
        assert!((series("workqueue_longest_running_processor_seconds", name) - 0.25).abs() < 1e-6);
        q.done(&"a");
        assert_eq!(series("workqueue_work_duration_seconds_count", name), 1.0);
        assert!((series("workqueue_work_duration_seconds_sum", name) - 0.25).abs() < 1e-6);
        q.update_unfinished_work();
        assert_eq!(series("workqueue_unfinished_work_seconds", name), 0.0);
        q.add_rate_limited("c");
        q.add_after("d", ms(10));
        assert_eq!(series("workqueue_retries_total", name), 2.0);
        let unnamed = WorkQueue::new();
        unnamed.add("a");
        assert_eq!(
            series("workqueue_adds_total", name),
            2.0,
            "unnamed queues count nothing"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn shutdown_wakes_waiters_and_ignores_adds() {
        let q = WorkQueue::<&str>::new();
        let waiters: Vec<_> = (0..3)
            .map(|_| {
                let q = q.clone();
                tokio::spawn(async move { q.get().await })
            })
            .collect();
        tokio::time::sleep(ms(10)).await;
        q.shutdown();
        for w in waiters {
            assert_eq!(w.await.unwrap(), None);
        }
        q.add("a");
        assert_eq!(q.len(), 0);
        assert_eq!(q.get().await, None);
        assert!(q.is_shutting_down());
    }
}
