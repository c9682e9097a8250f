//! Where correlated events go: `EventSink` is the seam (`ApiSink` writes through the
//! apiserver, `FakeSink` records for tests). `write` makes one write with client-go's
//! recordToSink rules: a retriable failure is tried again a few times with back-off, a
//! patch of an Event that expired (NotFound) makes the Event again, anything else is given
//! up with a log line.

use super::correlator::Write;
use crate::api::Api;
use crate::clock::Clock;
use crate::dynamic::Client;
use proto::k8s::Event;
use proto::{ApiError, Reason};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

pub trait EventSink: Send + Sync + 'static {
    fn create(&self, ev: &Event) -> impl Future<Output = Result<Event, ApiError>> + Send;
    /// Sets `count`, `lastTimestamp`, `message` and `series` of the Event `ev` names.
    fn patch(&self, ev: &Event) -> impl Future<Output = Result<Event, ApiError>> + Send;
}

/// Writes through the apiserver.
#[derive(Clone)]
pub struct ApiSink {
    client: Client,
}

impl ApiSink {
    pub fn new(client: Client) -> Self {
        ApiSink { client }
    }

    fn api(&self, ev: &Event) -> Api<Event> {
        let ns = ev
            .metadata
            .as_ref()
            .map(|m| m.namespace.as_str())
            .unwrap_or_default();
        Api::namespaced(self.client.clone(), ns)
    }
}

impl EventSink for ApiSink {
    async fn create(&self, ev: &Event) -> Result<Event, ApiError> {
        self.api(ev).create(ev).await
    }

    async fn patch(&self, ev: &Event) -> Result<Event, ApiError> {
        let name = ev
            .metadata
            .as_ref()
            .map(|m| m.name.as_str())
            .unwrap_or_default();
        let mut body = serde_json::json!({
            "count": ev.count,
            "lastTimestamp": ev.last_timestamp,
            "message": ev.message,
        });
        if let Some(s) = &ev.series {
            body["series"] =
                serde_json::json!({"count": s.count, "lastObservedTime": s.last_observed_time});
        }
        self.api(ev).patch_merge(name, &body).await
    }
}

/// How the writer paces and retries.
#[derive(Debug, Clone)]
pub struct SinkConfig {
    /// Writes per second on average (the kubelet's --event-qps is 50 by default)...
    pub qps: f64,
    /// ...and at once.
    pub burst: f64,
    /// Attempts per write, the first included.
    pub tries: u32,
    /// The wait before the second attempt; doubles after each.
    pub retry_backoff: Duration,
}

impl Default for SinkConfig {
    fn default() -> Self {
        SinkConfig {
            qps: 50.0,
            burst: 100.0,
            tries: 4,
            retry_backoff: Duration::from_millis(250),
        }
    }
}

/// Failures worth another try: the apiserver may be back in a moment.
pub fn retriable(e: &ApiError) -> bool {
    matches!(e.reason, Reason::Unavailable | Reason::Internal)
}

/// A token bucket on tokio's clock (pausable in tests).
#[derive(Debug)]
pub struct RateLimiter {
    qps: f64,
    burst: f64,
    tokens: f64,
    at: Instant,
}

impl RateLimiter {
    pub fn new(qps: f64, burst: f64) -> Self {
        RateLimiter {
            qps: qps.max(f64::MIN_POSITIVE),
            burst: burst.max(1.0),
            tokens: burst.max(1.0),
            at: Instant::now(),
        }
    }

    /// Waits until a write may go.
    pub async fn acquire(&mut self) {
        let now = Instant::now();
        self.tokens = (self.tokens
            + now.saturating_duration_since(self.at).as_secs_f64() * self.qps)
            .min(self.burst);
        self.at = now;
        if self.tokens < 1.0 {
            let wait = Duration::from_secs_f64((1.0 - self.tokens) / self.qps);
            tokio::time::sleep(wait).await;
            self.tokens = 1.0;
            self.at = Instant::now();
        }
        self.tokens -= 1.0;
    }
}

/// What became of a write.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The store has it (a patch of an Event that expired: made again, under this name).
    Written(Option<Box<Event>>),
    /// Given up.
    Failed,
}

/// Makes `w`, trying again on retriable failures.
pub async fn write<S: EventSink>(
    sink: &S,
    w: &Write,
    config: &SinkConfig,
    clock: &dyn Clock,
) -> Outcome {
    let mut wait = config.retry_backoff;
    let ev = w.event();
    let meta = ev.metadata.clone().unwrap_or_default();
    let mut patch = matches!(w, Write::Patch { .. });
    let mut remade: Option<Box<Event>> = None;
    for attempt in 1..=config.tries.max(1) {
        let result = if patch {
            sink.patch(ev).await
        } else {
            sink.create(remade.as_deref().unwrap_or(ev)).await
        };
        match result {
            Ok(_) => return Outcome::Written(remade),
            Err(e) if patch && e.is(Reason::NotFound) => {
                // Expired (event TTL) while the recorder still counts it: a new object.
                let mut again = ev.clone();
                if let Some(m) = again.metadata.as_mut() {
                    m.name = super::event_name(
                        &ev.involved_object.clone().unwrap_or_default().name,
                        clock.now(),
                    );
                    m.resource_version.clear();
                }
                patch = false;
                remade = Some(Box::new(again));
                continue;
            }
            Err(e) if retriable(&e) && attempt < config.tries => {
                tracing::debug!(namespace = %meta.namespace, event = %meta.name, reason = %ev.reason, attempt, error = %e, "writing an event failed; trying again");
                tokio::time::sleep(wait).await;
                wait *= 2;
            }
            Err(e) => {
                tracing::debug!(namespace = %meta.namespace, event = %meta.name, reason = %ev.reason, error = %e, "writing an event failed; dropped");
                return Outcome::Failed;
            }
        }
    }
    Outcome::Failed
}

/// A sink call, as the fake saw it.
#[derive(Debug, Clone, PartialEq)]
pub enum SinkCall {
    Create(Event),
    Patch(Event),
}

/// Keeps Events in memory like the apiserver would (tests); failures can be queued.
#[derive(Debug, Clone, Default)]
pub struct FakeSink {
    inner: Arc<Mutex<FakeState>>,
}

#[derive(Debug, Default)]
struct FakeState {
    calls: Vec<SinkCall>,
    events: Vec<Event>,
    failures: Vec<Reason>,
    /// Sink calls wait until this is opened (tests of a slow apiserver).
    gate: Option<Arc<tokio::sync::Semaphore>>,
}

impl FakeSink {
    fn lock(&self) -> std::sync::MutexGuard<'_, FakeState> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The next calls fail with these reasons, in order.
    pub fn fail_next(&self, reasons: &[Reason]) {
        self.lock().failures.extend_from_slice(reasons);
    }

    /// Every call waits for a permit of `gate` (a slow apiserver).
    pub fn gate(&self, gate: Arc<tokio::sync::Semaphore>) {
        self.lock().gate = Some(gate);
    }

    pub fn calls(&self) -> Vec<SinkCall> {
        self.lock().calls.clone()
    }

    /// The Events as stored.
    pub fn events(&self) -> Vec<Event> {
        self.lock().events.clone()
    }

    /// Drops the stored Events (as the apiserver's TTL would).
    pub fn expire_all(&self) {
        self.lock().events.clear();
    }

    async fn enter(&self, call: SinkCall) -> Result<(), ApiError> {
        let gate = self.lock().gate.clone();
        if let Some(g) = gate {
            g.acquire()
                .await
                .map_err(|_| ApiError::new(Reason::Unavailable, "closed"))?
                .forget();
        }
        let mut s = self.lock();
        s.calls.push(call);
        if s.failures.is_empty() {
            return Ok(());
        }
        let r = s.failures.remove(0);
        Err(ApiError::new(r, "injected"))
    }
}

fn name_of(ev: &Event) -> String {
    ev.metadata
        .as_ref()
        .map(|m| m.name.clone())
        .unwrap_or_default()
}

impl EventSink for FakeSink {
    async fn create(&self, ev: &Event) -> Result<Event, ApiError> {
        self.enter(SinkCall::Create(ev.clone())).await?;
        let mut s = self.lock();
        if s.events.iter().any(|e| name_of(e) == name_of(ev)) {
            return Err(ApiError::new(Reason::AlreadyExists, name_of(ev)));
        }
        s.events.push(ev.clone());
        Ok(ev.clone())
    }

    async fn patch(&self, ev: &Event) -> Result<Event, ApiError> {
        self.enter(SinkCall::Patch(ev.clone())).await?;
        let mut s = self.lock();
        let Some(stored) = s.events.iter_mut().find(|e| name_of(e) == name_of(ev)) else {
            return Err(ApiError::new(Reason::NotFound, name_of(ev)));
        };
        stored.count = ev.count;
        stored.last_timestamp = ev.last_timestamp.clone();
        stored.message = ev.message.clone();
        stored.series = ev.series.clone();
        Ok(stored.clone())
    }
}
