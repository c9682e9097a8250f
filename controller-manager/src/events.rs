//! Events the controllers record (`ctl describe` shows them): written by one task through a
//! bounded queue, so recording never blocks a reconcile and a slow apiserver only drops
//! events. As client-go's EventSourceObjectSpamFilter, each object gets a burst of 25
//! events, refilled one per 5 minutes, so a ReplicaSet creating 1000 pods writes 25
//! "Created pod" events, not 1000.

use client::{Api, Client};
use proto::Resource;
use proto::k8s::{Event, EventSource, ObjectMeta, ObjectReference};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

pub const COMPONENT: &str = "controller-manager";
const QUEUE: usize = 4096;
/// client-go's spam filter: burst and refill interval per object.
pub const BURST: f64 = 25.0;
pub const REFILL: Duration = Duration::from_secs(300);

/// A token bucket per involved object (pure apart from the clock passed in).
#[derive(Debug, Default)]
pub struct SpamFilter {
    buckets: HashMap<String, (f64, Instant)>,
}

impl SpamFilter {
    /// True when an event about `object` may be written at `now`.
    pub fn allow(&mut self, object: &str, now: Instant) -> bool {
        if self.buckets.len() > 10_000 {
            // Forget full buckets: they would allow anyway.
            self.buckets.retain(|_, (tokens, at)| {
                *tokens + now.duration_since(*at).as_secs_f64() / REFILL.as_secs_f64() < BURST
            });
        }
        let (tokens, at) = self
            .buckets
            .entry(object.to_string())
            .or_insert((BURST, now));
        *tokens =
            (*tokens + now.duration_since(*at).as_secs_f64() / REFILL.as_secs_f64()).min(BURST);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

pub struct Recorder {
    tx: mpsc::Sender<Event>,
    rx: Mutex<Option<mpsc::Receiver<Event>>>,
    filter: Mutex<SpamFilter>,
}

impl Default for Recorder {
    fn default() -> Self {
        Self::new()
    }
}

impl Recorder {
    pub fn new() -> Self {
        let (tx, rx) = mpsc::channel(QUEUE);
        Recorder {
            tx,
            rx: Mutex::new(Some(rx)),
            filter: Mutex::new(SpamFilter::default()),
        }
    }

    /// Records an event about `object` from `source` (Kubernetes names it after the
    /// controller: `replicaset-controller`), Normal or, when `warning`, Warning.
    pub fn event<K: Resource>(
        &self,
        source: &str,
        object: &K,
        warning: bool,
        reason: &str,
        message: String,
    ) {
        let m = object.meta();
        let allowed = self
            .filter
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .allow(&m.uid, Instant::now());
        if !allowed {
            tracing::debug!(reason, %message, "event dropped by the spam filter");
            return;
        }
        let now = proto::time::now_rfc3339();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        let ev = Event {
            metadata: Some(ObjectMeta {
                name: format!("{}.{:x}{:04x}", m.name, nanos, rand::random::<u16>()),
                namespace: if m.namespace.is_empty() {
                    "default".into()
                } else {
                    m.namespace.clone()
                },
                ..Default::default()
            }),
            involved_object: Some(ObjectReference {
                kind: K::INFO.kind.into(),
                namespace: m.namespace.clone(),
                name: m.name.clone(),
                uid: m.uid.clone(),
                api_version: K::INFO.api_version.into(),
                resource_version: m.resource_version.clone(),
                field_path: String::new(),
            }),
            reason: reason.to_string(),
            message,
            r#type: if warning { "Warning" } else { "Normal" }.into(),
            count: 1,
            first_timestamp: now.clone(),
            last_timestamp: now,
            source: Some(EventSource {
                component: source.into(),
                host: String::new(),
            }),
            reporting_component: source.into(),
            reporting_instance: COMPONENT.into(),
            ..Default::default()
        };
        if self.tx.try_send(ev).is_err() {
            tracing::debug!(reason, "event queue full or closed; event dropped");
        }
    }

    /// The writer task (once; later calls get None): writes queued events until `cancel`.
    pub fn writer(
        &self,
        client: Client,
        cancel: CancellationToken,
    ) -> Option<impl std::future::Future<Output = ()> + Send + 'static> {
        let mut rx = self.rx.lock().unwrap_or_else(|p| p.into_inner()).take()?;
        Some(async move {
            loop {
                let ev = tokio::select! {
                    _ = cancel.cancelled() => return,
                    ev = rx.recv() => match ev { Some(e) => e, None => return },
                };
                let ns = ev
                    .metadata
                    .as_ref()
                    .map(|m| m.namespace.clone())
                    .unwrap_or_default();
                let api: Api<Event> = Api::namespaced(client.clone(), &ns);
                if let Err(e) = api.create(&ev).await {
                    tracing::debug!(namespace = %ns, reason = %ev.reason, error = %e, "writing an event failed");
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn spam_filter_allows_a_burst_then_one_per_refill() {
        let mut f = SpamFilter::default();
        let t0 = Instant::now();
        assert_eq!((0..40).filter(|_| f.allow("a", t0)).count(), 25);
        assert!(f.allow("b", t0), "buckets are per object");
        assert!(!f.allow("a", t0 + REFILL / 2));
        assert!(f.allow("a", t0 + REFILL + Duration::from_secs(1)));
        assert!(!f.allow("a", t0 + REFILL + Duration::from_secs(2)));
    }
}
