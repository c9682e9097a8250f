//! Events the controllers record (`ctl describe` shows them): a thin adapter over
//! `client::events`, the recorder every daemon shares (aggregation of similar events,
//! repeats as count patches, a spam filter per controller and object, a bounded queue so a
//! slow apiserver never holds a reconcile). Controllers keep one call:
//! `ctx.events.event(source, &obj, warning, reason, message)`.

use client::events::{ApiSink, Broadcaster, EventType, RecorderConfig};
use client::{Clock, SystemClock};
use proto::Resource;
use std::sync::{Arc, Mutex};
use tokio_util::sync::CancellationToken;

/// `reportingInstance` of the controllers' events.
pub const COMPONENT: &str = "controller-manager";

pub struct Recorder {
    inner: client::events::Recorder,
    broadcaster: Mutex<Option<Broadcaster>>,
}

impl Default for Recorder {
    fn default() -> Self {
        Self::new()
    }
}

impl Recorder {
    pub fn new() -> Self {
        Self::with_clock(Arc::new(SystemClock))
    }

    /// Events stamped with `clock`'s time.
    pub fn with_clock(clock: Arc<dyn Clock>) -> Self {
        let (inner, broadcaster) =
            client::events::recorder(RecorderConfig::new(COMPONENT, "", COMPONENT), clock);
        Recorder {
            inner,
            broadcaster: Mutex::new(Some(broadcaster)),
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
        self.inner.with_component(source).event(
            object,
            EventType::warning_if(warning),
            reason,
            message,
        );
    }

    /// The writer task (once; later calls get None): writes queued events until `cancel`.
    pub fn writer(
        &self,
        client: client::Client,
        cancel: CancellationToken,
    ) -> Option<impl std::future::Future<Output = ()> + Send + 'static> {
        let b = self
            .broadcaster
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()?;
        Some(b.run(ApiSink::new(client), cancel))
    }
}
