//! The one event recorder (client-go's `record` package), used by every daemon.
//!
//! `recorder(config, clock)` gives a `Recorder`, the cheap handle callers record through,
//! and a `Broadcaster`, the one task that correlates and writes (`run(sink, cancel)`).
//! Between them is a bounded queue: recording never waits, and when a slow apiserver lets
//! the queue fill, an event is dropped with a log line. The broadcaster passes each event
//! through the `Correlator` (similar events aggregated, exact repeats turned into count
//! patches at most once per interval, a spam filter per source and object) and writes the
//! result through an `EventSink` at a bounded rate, retrying what may succeed later.
//!
//! Wall-clock stamps (`firstTimestamp`, `lastTimestamp`, the Event's name) come from the
//! injected `Clock`; the correlator's windows and the writer's pacing use tokio's clock, so
//! tests run them on paused time.

pub mod correlator;
pub mod sink;

pub use correlator::{Correlator, CorrelatorConfig, Write};
pub use sink::{ApiSink, EventSink, FakeSink, SinkCall, SinkConfig};

use crate::clock::Clock;
use proto::Resource;
use proto::k8s::{Event, EventSource, ObjectMeta, ObjectReference};
use std::sync::Arc;
use std::time::SystemTime;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Normal or Warning (the Event's `type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    Normal,
    Warning,
}

impl EventType {
    pub fn warning_if(warning: bool) -> Self {
        if warning {
            EventType::Warning
        } else {
            EventType::Normal
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Normal => "Normal",
            EventType::Warning => "Warning",
        }
    }
}

#[derive(Debug, Clone)]
pub struct RecorderConfig {
    /// `source.component` and `reportingComponent` (`kubelet`, `default-scheduler`).
    pub component: String,
    /// `source.host` (the kubelet's node name; empty elsewhere).
    pub host: String,
    /// `reportingInstance`.
    pub instance: String,
    /// Events waiting for the broadcaster before new ones are dropped.
    pub queue: usize,
    pub correlator: CorrelatorConfig,
    pub sink: SinkConfig,
}

impl RecorderConfig {
    pub fn new(component: &str, host: &str, instance: &str) -> Self {
        RecorderConfig {
            component: component.to_string(),
            host: host.to_string(),
            instance: instance.to_string(),
            queue: 4096,
            correlator: CorrelatorConfig::default(),
            sink: SinkConfig::default(),
        }
    }
}

/// Records events; clones share the queue.
#[derive(Clone)]
pub struct Recorder {
    tx: mpsc::Sender<Event>,
    component: String,
    host: String,
    instance: String,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("component", &self.component)
            .field("host", &self.host)
            .finish_non_exhaustive()
    }
}

/// Correlates and writes what its `Recorder`s record.
pub struct Broadcaster {
    rx: mpsc::Receiver<Event>,
    correlator: Correlator,
    sink: SinkConfig,
    clock: Arc<dyn Clock>,
}

/// A recorder and its broadcaster (which does nothing until `run`; events recorded before
/// wait in the queue).
pub fn recorder(config: RecorderConfig, clock: Arc<dyn Clock>) -> (Recorder, Broadcaster) {
    let (tx, rx) = mpsc::channel(config.queue.max(1));
    (
        Recorder {
            tx,
            component: config.component,
            host: config.host,
            instance: config.instance,
            clock: clock.clone(),
        },
        Broadcaster {
            rx,
            correlator: Correlator::new(config.correlator),
            sink: config.sink,
            clock,
        },
    )
}

/// `{object}.{nanoseconds}{random}`: client-go's name, with a random tail so two events
/// about one object in the same nanosecond (another replica) do not collide.
pub fn event_name(object: &str, now: SystemTime) -> String {
    let nanos = now
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    format!("{object}.{nanos:x}{:04x}", rand::random::<u16>())
}

/// A reference to `object` (client-go's GetReference).
pub fn reference_of<K: Resource>(object: &K) -> ObjectReference {
    let m = object.meta();
    ObjectReference {
        kind: K::INFO.kind.into(),
        namespace: m.namespace.clone(),
        name: m.name.clone(),
        uid: m.uid.clone(),
        api_version: K::INFO.api_version.into(),
        resource_version: m.resource_version.clone(),
        field_path: String::new(),
    }
}

impl Recorder {
    /// A recorder whose events go nowhere (tests of parts that record events).
    pub fn discard() -> Recorder {
        let (tx, _rx) = mpsc::channel(1);
        Recorder {
            tx,
            component: String::new(),
            host: String::new(),
            instance: String::new(),
            clock: Arc::new(crate::clock::SystemClock),
        }
    }

    /// The same queue, another `source.component` (a controller's name).
    pub fn with_component(&self, component: &str) -> Recorder {
        Recorder {
            component: component.to_string(),
            ..self.clone()
        }
    }

    /// Records an event about `object`.
    pub fn event<K: Resource>(&self, object: &K, kind: EventType, reason: &str, message: String) {
        self.record(reference_of(object), kind, reason, message, "");
    }

    /// Records an event about `reference` with an `action` (may be empty).
    pub fn record(
        &self,
        reference: ObjectReference,
        kind: EventType,
        reason: &str,
        message: String,
        action: &str,
    ) {
        let now = self.clock.now();
        let stamp = proto::time::format_rfc3339(now);
        let namespace = if reference.namespace.is_empty() {
            // Events about cluster-scoped objects live in `default`, as client-go's.
            "default".to_string()
        } else {
            reference.namespace.clone()
        };
        let ev = Event {
            metadata: Some(ObjectMeta {
                name: event_name(&reference.name, now),
                namespace,
                ..Default::default()
            }),
            involved_object: Some(reference),
            reason: reason.to_string(),
            message,
            r#type: kind.as_str().into(),
            count: 1,
            first_timestamp: stamp.clone(),
            last_timestamp: stamp,
            source: Some(EventSource {
                component: self.component.clone(),
                host: self.host.clone(),
            }),
            action: action.to_string(),
            reporting_component: self.component.clone(),
            reporting_instance: self.instance.clone(),
            ..Default::default()
        };
        if let Err(e) = self.tx.try_send(ev) {
            let ev = match e {
                mpsc::error::TrySendError::Full(ev) | mpsc::error::TrySendError::Closed(ev) => ev,
            };
            let o = ev.involved_object.unwrap_or_default();
            tracing::debug!(object = %format!("{}/{}", o.namespace, o.name), reason = %ev.reason, "event queue full or closed; event dropped");
        }
    }
}

impl Broadcaster {
    /// Correlates and writes until `cancel` (or every recorder is gone).
    pub async fn run<S: EventSink>(mut self, sink: S, cancel: CancellationToken) {
        let mut limiter = sink::RateLimiter::new(self.sink.qps, self.sink.burst);
        loop {
            let due = self.correlator.next_due();
            let writes = tokio::select! {
                _ = cancel.cancelled() => return,
                _ = async { tokio::time::sleep_until(due.unwrap_or_else(Instant::now)).await }, if due.is_some() => {
                    self.correlator.due(Instant::now())
                }
                ev = self.rx.recv() => match ev {
                    Some(e) => self.correlator.observe(e, Instant::now()).into_iter().collect(),
                    None => return,
                },
            };
            for w in writes {
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    _ = limiter.acquire() => {}
                }
                let outcome = tokio::select! {
                    _ = cancel.cancelled() => return,
                    o = sink::write(&sink, &w, &self.sink, self.clock.as_ref()) => o,
                };
                let key = match &w {
                    Write::Create { key, .. } | Write::Patch { key, .. } => key,
                };
                match outcome {
                    sink::Outcome::Written(None) => {}
                    sink::Outcome::Written(Some(made)) => {
                        self.correlator.written_as(key, Some(&made))
                    }
                    sink::Outcome::Failed if matches!(w, Write::Create { .. }) => {
                        self.correlator.written_as(key, None)
                    }
                    sink::Outcome::Failed => {}
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
