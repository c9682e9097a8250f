//! Events about pods (Pulled, Created, Started, Killing, BackOff, Unhealthy...), written by
//! one task through a bounded queue so a slow apiserver never holds a pod worker; when the
//! queue is full an event is dropped (and logged), as client-go's broadcaster does.
//!
//! Repeats are correlated as client-go's EventCorrelator does: the same (object, field,
//! type, reason, message) seen again does not make a new Event object but raises `count`
//! and `lastTimestamp` of the first one, and that object is rewritten at most once per
//! interval (10 s doubling to 5 min per key), so a pod failing in a loop costs the store
//! one object and a few patches, not an object per attempt.

use client::{Api, Client};
use proto::k8s::{Event, EventSource, ObjectMeta, ObjectReference, Pod};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// The first rewrite of a repeated event waits this long after the object was written.
pub const REWRITE_INITIAL: Duration = Duration::from_secs(10);
/// The wait between rewrites doubles up to this.
pub const REWRITE_MAX: Duration = Duration::from_secs(300);
/// A key not seen for this long is forgotten: its next occurrence is a new object (as
/// client-go's 10 minute aggregation window; also after the apiserver's event TTL).
pub const FORGET_AFTER: Duration = Duration::from_secs(600);
/// Keys remembered at most (client-go's cache holds 4096).
pub const CACHE_SIZE: usize = 4096;

/// What makes two events "the same" (client-go's getEventKey without the timestamps).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EventKey {
    namespace: String,
    name: String,
    uid: String,
    field_path: String,
    kind: String,
    reason: String,
    message: String,
    r#type: String,
}

impl EventKey {
    pub fn of(ev: &Event) -> Self {
        let o = ev.involved_object.clone().unwrap_or_default();
        EventKey {
            namespace: o.namespace,
            name: o.name,
            uid: o.uid,
            field_path: o.field_path,
            kind: o.kind,
            reason: ev.reason.clone(),
            message: ev.message.clone(),
            r#type: ev.r#type.clone(),
        }
    }
}

/// A write the task must make.
#[derive(Debug, Clone, PartialEq)]
pub enum Write {
    /// A new object.
    Create(Event),
    /// The existing object `event` names gets `event.count` and `event.lastTimestamp`
    /// (the whole event, so it can be made again if it expired meanwhile).
    Patch(Event),
}

#[derive(Debug)]
struct Entry {
    event: Event,
    /// The count the store has.
    written: i32,
    interval: Duration,
    next_write: Instant,
    last_seen: Instant,
}

/// The pure bookkeeping: callers pass the time.
#[derive(Debug)]
pub struct Correlator {
    initial: Duration,
    max: Duration,
    entries: HashMap<EventKey, Entry>,
}

impl Default for Correlator {
    fn default() -> Self {
        Correlator::new(REWRITE_INITIAL, REWRITE_MAX)
    }
}

impl Correlator {
    pub fn new(initial: Duration, max: Duration) -> Self {
        Correlator {
            initial,
            max,
            entries: HashMap::new(),
        }
    }

    /// An event happened at `now`: what to write now, if anything.
    pub fn observe(&mut self, ev: Event, now: Instant) -> Option<Write> {
        let key = EventKey::of(&ev);
        if let Some(e) = self.entries.get_mut(&key)
            && now.saturating_duration_since(e.last_seen) < FORGET_AFTER
        {
            e.event.count = e.event.count.saturating_add(1);
            e.event.last_timestamp = ev.last_timestamp;
            e.last_seen = now;
            if now >= e.next_write {
                return Some(Self::rewrite(e, now, self.max));
            }
            return None;
        }
        if self.entries.len() >= CACHE_SIZE && !self.entries.contains_key(&key) {
            // Evict the key seen longest ago.
            if let Some(old) = self
                .entries
                .iter()
                .min_by_key(|(_, e)| e.last_seen)
                .map(|(k, _)| k.clone())
            {
                self.entries.remove(&old);
            }
        }
        self.entries.insert(
            key,
            Entry {
                event: ev.clone(),
                written: ev.count,
                interval: self.initial,
                next_write: now + self.initial,
                last_seen: now,
            },
        );
        Some(Write::Create(ev))
    }

    fn rewrite(e: &mut Entry, now: Instant, max: Duration) -> Write {
        e.written = e.event.count;
        e.interval = (e.interval * 2).min(max);
        e.next_write = now + e.interval;
        Write::Patch(e.event.clone())
    }

    /// Counts raised since their last write whose interval has passed: written now, so a
    /// burst that stops still shows its final count.
    pub fn due(&mut self, now: Instant) -> Vec<Write> {
        self.entries
            .retain(|_, e| now.saturating_duration_since(e.last_seen) < FORGET_AFTER);
        let max = self.max;
        self.entries
            .values_mut()
            .filter(|e| e.event.count > e.written && now >= e.next_write)
            .map(|e| Self::rewrite(e, now, max))
            .collect()
    }

    /// When `due` next has something to write.
    pub fn next_due(&self) -> Option<Instant> {
        self.entries
            .values()
            .filter(|e| e.event.count > e.written)
            .map(|e| e.next_write)
            .min()
    }

    /// The object of `key` was made again under another name (it had expired).
    fn renamed(&mut self, ev: &Event) {
        if let Some(e) = self.entries.get_mut(&EventKey::of(ev)) {
            e.event.metadata = ev.metadata.clone();
        }
    }
}

fn event_name(object: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    format!("{object}.{nanos:x}{:04x}", rand::random::<u16>())
}

async fn write(client: &Client, w: Write) -> Option<Event> {
    let (ev, patch) = match w {
        Write::Create(ev) => (ev, false),
        Write::Patch(ev) => (ev, true),
    };
    let meta = ev.metadata.clone().unwrap_or_default();
    let api: Api<Event> = Api::namespaced(client.clone(), &meta.namespace);
    if patch {
        let body = serde_json::json!({"count": ev.count, "lastTimestamp": ev.last_timestamp});
        match api.patch_merge(&meta.name, &body).await {
            Ok(_) => return None,
            Err(e) if e.is(proto::Reason::NotFound) => {
                // Expired (event TTL) while the kubelet still sees it: a new object.
                let mut again = ev.clone();
                if let Some(m) = again.metadata.as_mut() {
                    m.name = event_name(&ev.involved_object.clone().unwrap_or_default().name);
                    m.resource_version.clear();
                }
                if let Err(e) = api.create(&again).await {
                    tracing::debug!(namespace = %meta.namespace, reason = %ev.reason, error = %e, "writing an event failed");
                    return None;
                }
                return Some(again);
            }
            Err(e) => {
                tracing::debug!(namespace = %meta.namespace, event = %meta.name, error = %e, "updating an event failed");
                return None;
            }
        }
    }
    if let Err(e) = api.create(&ev).await {
        tracing::debug!(namespace = %meta.namespace, reason = %ev.reason, error = %e, "writing an event failed");
    }
    None
}

#[derive(Debug, Clone)]
pub struct Recorder {
    tx: mpsc::Sender<Event>,
    node: String,
}

impl Recorder {
    /// The recorder and the task that writes its events (until `cancel`).
    pub fn new(
        client: Client,
        node: &str,
        cancel: CancellationToken,
    ) -> (
        Recorder,
        impl std::future::Future<Output = ()> + Send + 'static,
    ) {
        Self::with_correlator(client, node, cancel, Correlator::default())
    }

    /// As `new`, with the rewrite intervals of `correlator` (tests).
    pub fn with_correlator(
        client: Client,
        node: &str,
        cancel: CancellationToken,
        mut correlator: Correlator,
    ) -> (
        Recorder,
        impl std::future::Future<Output = ()> + Send + 'static,
    ) {
        let (tx, mut rx) = mpsc::channel::<Event>(1024);
        let task = async move {
            loop {
                let due = correlator.next_due().map(tokio::time::Instant::from_std);
                let writes = tokio::select! {
                    _ = cancel.cancelled() => return,
                    _ = async { tokio::time::sleep_until(due.unwrap_or_else(tokio::time::Instant::now)).await }, if due.is_some() => {
                        correlator.due(tokio::time::Instant::now().into_std())
                    }
                    ev = rx.recv() => match ev {
                        Some(e) => correlator
                            .observe(e, tokio::time::Instant::now().into_std())
                            .into_iter()
                            .collect(),
                        None => return,
                    },
                };
                for w in writes {
                    if let Some(made) = write(&client, w).await {
                        correlator.renamed(&made);
                    }
                }
            }
        };
        (
            Recorder {
                tx,
                node: node.to_string(),
            },
            task,
        )
    }

    /// A recorder whose events go nowhere (tests of parts that record events).
    pub fn discard() -> Recorder {
        let (tx, _rx) = mpsc::channel(1);
        Recorder {
            tx,
            node: String::new(),
        }
    }

    /// `field_path` names the container (`spec.containers{name}`), empty for the pod.
    pub fn pod_event(
        &self,
        pod: &Pod,
        warning: bool,
        reason: &str,
        field_path: &str,
        message: String,
    ) {
        let meta = pod.metadata.clone().unwrap_or_default();
        let now = proto::time::now_rfc3339();
        let ev = Event {
            metadata: Some(ObjectMeta {
                name: event_name(&meta.name),
                namespace: meta.namespace.clone(),
                ..Default::default()
            }),
            involved_object: Some(ObjectReference {
                kind: "Pod".into(),
                namespace: meta.namespace.clone(),
                name: meta.name.clone(),
                uid: meta.uid.clone(),
                api_version: "v1".into(),
                resource_version: String::new(),
                field_path: field_path.to_string(),
            }),
            reason: reason.to_string(),
            message,
            r#type: if warning { "Warning" } else { "Normal" }.into(),
            count: 1,
            first_timestamp: now.clone(),
            last_timestamp: now,
            source: Some(EventSource {
                component: "kubelet".into(),
                host: self.node.clone(),
            }),
            reporting_component: "kubelet".into(),
            reporting_instance: self.node.clone(),
            ..Default::default()
        };
        tracing::info!(pod = %format!("{}/{}", meta.namespace, meta.name), reason, message = %ev.message, "event");
        if self.tx.try_send(ev).is_err() {
            tracing::debug!(pod = %meta.name, reason, "event queue full or closed; event dropped");
        }
    }
}

pub fn container_field_path(kind: crate::runtime::ContainerKind, name: &str) -> String {
    match kind {
        crate::runtime::ContainerKind::Init => format!("spec.initContainers{{{name}}}"),
        _ => format!("spec.containers{{{name}}}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(name: &str, reason: &str, message: &str, ts: &str) -> Event {
        Event {
            metadata: Some(ObjectMeta {
                name: name.into(),
                namespace: "default".into(),
                ..Default::default()
            }),
            involved_object: Some(ObjectReference {
                kind: "Pod".into(),
                namespace: "default".into(),
                name: "web-0".into(),
                uid: "u1".into(),
                ..Default::default()
            }),
            reason: reason.into(),
            message: message.into(),
            r#type: "Warning".into(),
            count: 1,
            first_timestamp: "t0".into(),
            last_timestamp: ts.into(),
            ..Default::default()
        }
    }

    fn secs(t0: Instant, s: u64) -> Instant {
        t0 + Duration::from_secs(s)
    }

    #[test]
    fn repeats_become_count_patches_at_most_once_per_doubling_interval() {
        let t0 = Instant::now();
        let mut c = Correlator::default();
        let first = c.observe(ev("a", "FailedMount", "m", "t0"), t0);
        assert!(
            matches!(first, Some(Write::Create(ref e)) if e.metadata.as_ref().unwrap().name == "a")
        );
        // One repeat a second for 70 s: writes at 10 s, 30 s, 70 s (the interval doubles).
        let mut writes = vec![];
        for s in 1..=70 {
            let name = format!("ignored{s}");
            if let Some(w) = c.observe(ev(&name, "FailedMount", "m", &format!("t{s}")), secs(t0, s))
            {
                writes.push((s, w));
            }
        }
        let at: Vec<u64> = writes.iter().map(|(s, _)| *s).collect();
        assert_eq!(at, vec![10, 30, 70]);
        let Write::Patch(last) = &writes[2].1 else {
            panic!("{:?}", writes[2])
        };
        assert_eq!(
            last.metadata.as_ref().unwrap().name,
            "a",
            "the first object's name"
        );
        assert_eq!(last.count, 71);
        assert_eq!(last.last_timestamp, "t70");
        assert_eq!(last.first_timestamp, "t0");
    }

    #[test]
    fn other_reason_message_or_object_is_a_new_event() {
        let t0 = Instant::now();
        let mut c = Correlator::default();
        assert!(matches!(
            c.observe(ev("a", "FailedMount", "m", "t"), t0),
            Some(Write::Create(_))
        ));
        assert!(matches!(
            c.observe(ev("b", "FailedMount", "other", "t"), t0),
            Some(Write::Create(_))
        ));
        assert!(matches!(
            c.observe(ev("c", "Failed", "m", "t"), t0),
            Some(Write::Create(_))
        ));
        let mut other_pod = ev("d", "FailedMount", "m", "t");
        other_pod.involved_object.as_mut().unwrap().uid = "u2".into();
        assert!(matches!(c.observe(other_pod, t0), Some(Write::Create(_))));
        assert_eq!(c.observe(ev("e", "FailedMount", "m", "t"), t0), None);
    }

    #[test]
    fn a_held_count_is_flushed_when_due_and_keys_are_forgotten_when_idle() {
        let t0 = Instant::now();
        let mut c = Correlator::default();
        c.observe(ev("a", "R", "m", "t0"), t0);
        assert_eq!(c.next_due(), None, "nothing held");
        assert_eq!(c.observe(ev("x", "R", "m", "t3"), secs(t0, 3)), None);
        assert_eq!(c.next_due(), Some(secs(t0, 10)));
        assert!(c.due(secs(t0, 9)).is_empty());
        let w = c.due(secs(t0, 10));
        assert!(matches!(&w[..], [Write::Patch(e)] if e.count == 2 && e.last_timestamp == "t3"));
        assert_eq!(c.next_due(), None);
        // Ten idle minutes later the same event is a new object.
        let later = secs(t0, 3) + FORGET_AFTER;
        assert!(
            matches!(c.observe(ev("n", "R", "m", "t"), later), Some(Write::Create(e)) if e.count == 1)
        );
    }
}
