//! The scheduling queue (Kubernetes' PriorityQueue): an active queue ordered by priority
//! then by the time the pod entered it; a back-off queue for pods that failed (1s doubling
//! to 10s by default, by attempts); and the unschedulable set, for pods no node fits,
//! which only cluster events that could change that move out again (plus a 5 minute
//! safety flush, as Kubernetes). Time is passed in, so the queue is pure and testable;
//! it counts the pods entering each part in `scheduler_queue_incoming_pods_total`.

use crate::framework::ClusterEvent;
use crate::metrics;
use crate::podinfo::PodInfo;
use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeSet, BinaryHeap, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a pod may sit in the unschedulable set without any event moving it.
pub const MAX_UNSCHEDULABLE_DURATION: Duration = Duration::from_secs(300);

#[derive(Debug, Clone)]
pub struct QueuedPod {
    pub info: Arc<PodInfo>,
    /// Scheduling attempts so far.
    pub attempts: u32,
    /// When the pod entered the active queue (orders pods of equal priority).
    pub timestamp: Instant,
    /// When the queue first saw the pod (for latency figures).
    pub first_seen: Instant,
    /// When the last attempt failed; back-off counts from here.
    pub last_failure: Option<Instant>,
    /// The filter plugins that rejected it last time; events not interesting to any of
    /// them leave it where it is. Empty: any event moves it.
    pub rejected_by: BTreeSet<&'static str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Active,
    Backoff,
    Unschedulable,
}

impl Place {
    fn index(self) -> usize {
        match self {
            Place::Active => 0,
            Place::Backoff => 1,
            Place::Unschedulable => 2,
        }
    }
}

#[derive(Debug)]
struct Entry {
    pod: QueuedPod,
    place: Place,
    /// Identifies the heap entry that is current (older ones are skipped when popped).
    seq: u64,
}

#[derive(Debug, PartialEq, Eq)]
struct ActiveKey {
    priority: i32,
    seq: u64,
    key: String,
}

impl Ord for ActiveKey {
    fn cmp(&self, other: &Self) -> Ordering {
        // Max-heap: higher priority first, then the smaller (older) sequence number.
        self.priority
            .cmp(&other.priority)
            .then_with(|| other.seq.cmp(&self.seq))
    }
}

impl PartialOrd for ActiveKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[derive(Debug)]
pub struct SchedulingQueue {
    entries: HashMap<String, Entry>,
    active: BinaryHeap<ActiveKey>,
    backoff: BinaryHeap<Reverse<(Instant, u64, String)>>,
    /// Keys that were parked unschedulable (some may have moved since: checked on use),
    /// so events cost nothing when no pod is parked.
    parked: HashSet<String>,
    next_seq: u64,
    initial_backoff: Duration,
    max_backoff: Duration,
    /// Entries per place (active, backoff, unschedulable), kept with `entries`.
    counts: [usize; 3],
}

impl SchedulingQueue {
    pub fn new(initial_backoff: Duration, max_backoff: Duration) -> Self {
        SchedulingQueue {
            entries: HashMap::new(),
            active: BinaryHeap::new(),
            backoff: BinaryHeap::new(),
            parked: HashSet::new(),
            next_seq: 0,
            initial_backoff,
            max_backoff: max_backoff.max(initial_backoff),
            counts: [0; 3],
        }
    }

    /// Every insertion goes through here, so the counts stay exact.
    fn put(&mut self, key: String, entry: Entry) {
        self.counts[entry.place.index()] += 1;
        if let Some(old) = self.entries.insert(key, entry) {
            self.counts[old.place.index()] -= 1;
        }
    }

    /// Every removal goes through here.
    fn take(&mut self, key: &str) -> Option<Entry> {
        let e = self.entries.remove(key)?;
        self.counts[e.place.index()] -= 1;
        Some(e)
    }

    fn seq(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq
    }

    /// The back-off after `attempts` failed attempts: initial * 2^(attempts-1), capped.
    pub fn backoff_duration(&self, attempts: u32) -> Duration {
        client::backoff::exponential_delay(
            self.initial_backoff,
            self.max_backoff,
            attempts.saturating_sub(1),
        )
    }

    fn backoff_expiry(&self, pod: &QueuedPod) -> Option<Instant> {
        pod.last_failure
            .map(|t| t + self.backoff_duration(pod.attempts))
    }

    /// `event`: why the pod enters the active queue (None: it was there already).
    fn push_active(&mut self, mut pod: QueuedPod, now: Instant, event: Option<&'static str>) {
        if let Some(event) = event {
            metrics::incoming("active", event);
        }
        let seq = self.seq();
        pod.timestamp = now;
        let key = pod.info.key.clone();
        self.active.push(ActiveKey {
            priority: pod.info.priority,
            seq,
            key: key.clone(),
        });
        self.put(
            key,
            Entry {
                pod,
                place: Place::Active,
                seq,
            },
        );
    }

    fn push_backoff(&mut self, pod: QueuedPod, expiry: Instant, event: &'static str) {
        metrics::incoming("backoff", event);
        let seq = self.seq();
        let key = pod.info.key.clone();
        self.backoff.push(Reverse((expiry, seq, key.clone())));
        self.put(
            key,
            Entry {
                pod,
                place: Place::Backoff,
                seq,
            },
        );
    }

    /// Active if its back-off is over, else the back-off queue.
    fn requeue(&mut self, pod: QueuedPod, now: Instant, event: &'static str) {
        match self.backoff_expiry(&pod) {
            Some(expiry) if expiry > now => self.push_backoff(pod, expiry, event),
            _ => self.push_active(pod, now, Some(event)),
        }
    }

    /// A new pending pod, or a newer version of one already queued. An update to a pod in
    /// the unschedulable set may make it fit: it moves out (respecting its back-off).
    pub fn add(&mut self, info: Arc<PodInfo>, now: Instant) {
        match self.entries.get_mut(&info.key) {
            Some(e) => {
                let priority_changed = e.pod.info.priority != info.priority;
                e.pod.info = info;
                match e.place {
                    Place::Unschedulable => {
                        let pod = e.pod.clone();
                        self.requeue(pod, now, "PodUpdate");
                    }
                    Place::Active if priority_changed => {
                        let pod = e.pod.clone();
                        self.push_active(pod, now, None);
                    }
                    _ => {}
                }
            }
            None => {
                let pod = QueuedPod {
                    info,
                    attempts: 0,
                    timestamp: now,
                    first_seen: now,
                    last_failure: None,
                    rejected_by: BTreeSet::new(),
                };
                self.push_active(pod, now, Some("PodAdd"));
            }
        }
    }

    /// A newer version of a queued pod that changes nothing scheduling reads (its
    /// status): kept in place, not moved.
    pub fn refresh(&mut self, info: Arc<PodInfo>) {
        if let Some(e) = self.entries.get_mut(&info.key) {
            e.pod.info = info;
        }
    }

    /// The pod is gone or no longer pending.
    pub fn delete(&mut self, key: &str) {
        self.take(key);
    }

    pub fn contains(&self, key: &str) -> bool {
        self.entries.contains_key(key)
    }

    /// The next pod to schedule; it leaves the queue (counted as an attempt).
    pub fn pop(&mut self) -> Option<QueuedPod> {
        while let Some(top) = self.active.pop() {
            let current = self
                .entries
                .get(&top.key)
                .is_some_and(|e| e.place == Place::Active && e.seq == top.seq);
            if current && let Some(mut e) = self.take(&top.key) {
                e.pod.attempts += 1;
                return Some(e.pod);
            }
        }
        None
    }

    /// After a failed attempt because no node fits: parks the pod until an event that
    /// interests one of `rejected_by` (or any event, if empty).
    pub fn add_unschedulable(
        &mut self,
        mut pod: QueuedPod,
        rejected_by: BTreeSet<&'static str>,
        now: Instant,
    ) {
        pod.last_failure = Some(now);
        pod.rejected_by = rejected_by;
        self.parked.insert(pod.info.key.clone());
        metrics::incoming("unschedulable", "ScheduleAttemptFailure");
        let seq = self.seq();
        self.put(
            pod.info.key.clone(),
            Entry {
                pod,
                place: Place::Unschedulable,
                seq,
            },
        );
    }

    /// After an error (a failed binding, an API error): retry after the back-off.
    pub fn add_backoff(&mut self, mut pod: QueuedPod, now: Instant) {
        pod.last_failure = Some(now);
        let expiry = self.backoff_expiry(&pod).unwrap_or(now);
        self.push_backoff(pod, expiry, "ScheduleAttemptFailure");
    }

    /// Moves pods whose back-off has expired to the active queue.
    pub fn flush_backoff(&mut self, now: Instant) {
        while let Some(Reverse((expiry, seq, _))) = self.backoff.peek() {
            if *expiry > now {
                break;
            }
            let seq = *seq;
            let Some(Reverse((_, _, key))) = self.backoff.pop() else {
                break;
            };
            let current = self
                .entries
                .get(&key)
                .is_some_and(|e| e.place == Place::Backoff && e.seq == seq);
            if current && let Some(e) = self.take(&key) {
                self.push_active(e.pod, now, Some("BackoffComplete"));
            }
        }
    }

    /// Moves pods left unschedulable for longer than `MAX_UNSCHEDULABLE_DURATION`.
    pub fn flush_unschedulable_leftover(&mut self, now: Instant) {
        self.prune_parked();
        let stale: Vec<String> = self
            .parked_entries()
            .filter(|(_, e)| {
                e.pod
                    .last_failure
                    .is_some_and(|t| now.duration_since(t) >= MAX_UNSCHEDULABLE_DURATION)
            })
            .map(|(k, _)| k.to_string())
            .collect();
        for k in stale {
            if let Some(e) = self.take(&k) {
                self.requeue(e.pod, now, "UnschedulableTimeout");
            }
        }
    }

    /// A cluster event happened: unschedulable pods rejected by a plugin in `interested`
    /// (the plugins that registered for this event) get another chance. Returns how many
    /// moved.
    pub fn on_event(
        &mut self,
        event: ClusterEvent,
        interested: &[&'static str],
        now: Instant,
    ) -> usize {
        if self.parked.is_empty() {
            return 0;
        }
        self.prune_parked();
        let moving: Vec<String> = self
            .parked_entries()
            .filter(|(_, e)| {
                e.pod.rejected_by.is_empty()
                    || e.pod.rejected_by.iter().any(|p| interested.contains(p))
            })
            .map(|(k, _)| k.to_string())
            .collect();
        for k in &moving {
            if let Some(e) = self.take(k) {
                self.requeue(e.pod, now, event_name(event));
            }
        }
        moving.len()
    }

    /// Forgets parked keys whose pod has moved or gone.
    fn prune_parked(&mut self) {
        let entries = &self.entries;
        self.parked.retain(|k| {
            entries
                .get(k)
                .is_some_and(|e| e.place == Place::Unschedulable)
        });
    }

    fn parked_entries(&self) -> impl Iterator<Item = (&str, &Entry)> {
        self.parked.iter().filter_map(|k| {
            self.entries
                .get(k)
                .filter(|e| e.place == Place::Unschedulable)
                .map(|e| (k.as_str(), e))
        })
    }

    /// When the next back-off expires, if any pod waits in back-off.
    pub fn next_backoff_expiry(&self) -> Option<Instant> {
        self.backoff.peek().map(|Reverse((t, _, _))| *t)
    }

    /// Earliest leftover flush due, if any pod is unschedulable.
    pub fn next_leftover_flush(&self) -> Option<Instant> {
        self.parked_entries()
            .filter_map(|(_, e)| e.pod.last_failure)
            .min()
            .map(|t| t + MAX_UNSCHEDULABLE_DURATION)
    }

    /// (active, backoff, unschedulable) counts.
    pub fn lens(&self) -> (usize, usize, usize) {
        (self.counts[0], self.counts[1], self.counts[2])
    }
}

/// Events shown in logs.
pub fn event_name(e: ClusterEvent) -> &'static str {
    match e {
        ClusterEvent::NodeAdd => "NodeAdd",
        ClusterEvent::NodeAllocatableChange => "NodeAllocatableChange",
        ClusterEvent::NodeLabelChange => "NodeLabelChange",
        ClusterEvent::NodeTaintChange => "NodeTaintChange",
        ClusterEvent::NodeUnschedulableChange => "NodeUnschedulableChange",
        ClusterEvent::NodeConditionChange => "NodeConditionChange",
        ClusterEvent::AssignedPodAdd => "AssignedPodAdd",
        ClusterEvent::AssignedPodUpdate => "AssignedPodUpdate",
        ClusterEvent::AssignedPodDelete => "AssignedPodDelete",
        ClusterEvent::NamespaceChange => "NamespaceChange",
        ClusterEvent::PersistentVolumeClaimAdd => "PersistentVolumeClaimAdd",
        ClusterEvent::PersistentVolumeClaimUpdate => "PersistentVolumeClaimUpdate",
        ClusterEvent::PersistentVolumeAdd => "PersistentVolumeAdd",
        ClusterEvent::PersistentVolumeUpdate => "PersistentVolumeUpdate",
        ClusterEvent::StorageClassAdd => "StorageClassAdd",
        ClusterEvent::StorageClassUpdate => "StorageClassUpdate",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::Resource;
    use proto::k8s::{Pod, PodSpec};

    fn pod(name: &str, priority: i32) -> Arc<PodInfo> {
        let mut p = Pod::default();
        p.meta_mut().name = name.into();
        p.meta_mut().namespace = "d".into();
        p.spec = Some(PodSpec {
            priority: Some(priority),
            ..Default::default()
        });
        Arc::new(PodInfo::new(Arc::new(p)))
    }

    fn names(q: &mut SchedulingQueue) -> Vec<String> {
        std::iter::from_fn(|| q.pop())
            .map(|p| p.info.name().to_string())
            .collect()
    }

    fn queue() -> SchedulingQueue {
        SchedulingQueue::new(Duration::from_secs(1), Duration::from_secs(10))
    }

    #[test]
    fn priority_then_age() {
        let t0 = Instant::now();
        let mut q = queue();
        q.add(pod("low-old", 0), t0);
        q.add(pod("high", 100), t0 + Duration::from_millis(1));
        q.add(pod("low-new", 0), t0 + Duration::from_millis(2));
        q.add(pod("mid", 50), t0 + Duration::from_millis(3));
        assert_eq!(names(&mut q), ["high", "mid", "low-old", "low-new"]);
        assert!(q.pop().is_none());
    }

    #[test]
    fn updates_do_not_duplicate_and_deletes_remove() {
        let t0 = Instant::now();
        let mut q = queue();
        q.add(pod("a", 0), t0);
        q.add(pod("a", 0), t0);
        q.add(pod("b", 0), t0);
        q.delete("d/b");
        // A priority raise re-sorts it.
        q.add(pod("c", 0), t0);
        q.add(pod("c", 10), t0);
        assert_eq!(names(&mut q), ["c", "a"]);
    }

    #[test]
    fn backoff_doubles_to_the_cap() {
        let q = queue();
        let got: Vec<u64> = (1..=6).map(|a| q.backoff_duration(a).as_secs()).collect();
        assert_eq!(got, [1, 2, 4, 8, 10, 10]);
    }

    #[test]
    fn failed_pods_wait_their_backoff() {
        let t0 = Instant::now();
        let mut q = queue();
        q.add(pod("a", 0), t0);
        let p = q.pop().unwrap();
        assert_eq!(p.attempts, 1);
        q.add_backoff(p, t0);
        assert!(q.pop().is_none());
        assert_eq!(q.next_backoff_expiry(), Some(t0 + Duration::from_secs(1)));
        q.flush_backoff(t0 + Duration::from_millis(999));
        assert!(q.pop().is_none());
        q.flush_backoff(t0 + Duration::from_secs(1));
        let p = q.pop().unwrap();
        assert_eq!(p.attempts, 2);
        let t1 = t0 + Duration::from_secs(1);
        q.add_backoff(p, t1);
        q.flush_backoff(t1 + Duration::from_millis(1999));
        assert!(q.pop().is_none(), "second failure waits 2s");
        q.flush_backoff(t1 + Duration::from_secs(2));
        assert!(q.pop().is_some());
    }

    #[test]
    fn unschedulable_pods_move_only_on_interesting_events() {
        let t0 = Instant::now();
        let mut q = queue();
        q.add(pod("cpu", 0), t0);
        q.add(pod("taint", 0), t0);
        q.add(pod("nothing", 0), t0);
        let a = q.pop().unwrap();
        let b = q.pop().unwrap();
        let c = q.pop().unwrap();
        let (cpu, taint, nothing) = (a, b, c);
        q.add_unschedulable(cpu, ["NodeResourcesFit"].into(), t0);
        q.add_unschedulable(taint, ["TaintToleration"].into(), t0);
        q.add_unschedulable(nothing, BTreeSet::new(), t0);
        assert_eq!(q.lens(), (0, 0, 3));
        // Without events, nothing comes back, however long we wait (short of 5 minutes).
        q.flush_backoff(t0 + Duration::from_secs(60));
        assert!(q.pop().is_none());
        // A pod deletion interests NodeResourcesFit: the cpu pod and the pod with no
        // recorded plugin move; its back-off (1s) is over by now.
        let t1 = t0 + Duration::from_secs(60);
        assert_eq!(
            q.on_event(
                ClusterEvent::NodeAdd,
                &["NodeResourcesFit", "NodePorts"],
                t1
            ),
            2
        );
        let mut got = names(&mut q);
        got.sort();
        assert_eq!(got, ["cpu", "nothing"]);
        // The taint pod moves right after its failure: into back-off, not active.
        assert_eq!(
            q.on_event(
                ClusterEvent::NodeTaintChange,
                &["TaintToleration"],
                t0 + Duration::from_millis(10)
            ),
            1
        );
        assert!(q.pop().is_none());
        assert_eq!(q.lens(), (0, 1, 0));
        q.flush_backoff(t0 + Duration::from_secs(1));
        assert_eq!(names(&mut q), ["taint"]);
    }

    #[test]
    fn leftover_flush_after_five_minutes() {
        let t0 = Instant::now();
        let mut q = queue();
        q.add(pod("a", 0), t0);
        let p = q.pop().unwrap();
        q.add_unschedulable(p, ["NodeAffinity"].into(), t0);
        assert_eq!(
            q.next_leftover_flush(),
            Some(t0 + MAX_UNSCHEDULABLE_DURATION)
        );
        q.flush_unschedulable_leftover(t0 + Duration::from_secs(299));
        assert!(q.pop().is_none());
        q.flush_unschedulable_leftover(t0 + MAX_UNSCHEDULABLE_DURATION);
        assert_eq!(names(&mut q), ["a"]);
    }

    #[test]
    fn an_update_moves_an_unschedulable_pod() {
        let t0 = Instant::now();
        let mut q = queue();
        q.add(pod("a", 0), t0);
        let p = q.pop().unwrap();
        q.add_unschedulable(p, ["NodeAffinity"].into(), t0);
        q.add(pod("a", 0), t0 + Duration::from_secs(5));
        assert_eq!(names(&mut q), ["a"]);
    }
}
