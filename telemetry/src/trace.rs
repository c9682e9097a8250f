//! Logs and traces: the process's `tracing` subscriber. Logs go to stderr, filtered by
//! `RUST_LOG` (default `info`); spans are also exported with OpenTelemetry (OTLP/gRPC) when
//! an endpoint is given (`--tracing-endpoint`).
//!
//! The exporter layer has its own filter ([`EXPORT_FILTER`]): spans at `info` and above,
//! whatever `RUST_LOG` says, so a daemon logging at `warn` still exports its request and
//! reconcile spans. Without an endpoint nothing of OpenTelemetry is installed, and the
//! propagation helpers ([`inject`], [`TraceParent::current`]) return at once: a daemon
//! that does not export pays one atomic load per call.
//!
//! Trace context crosses processes as W3C `traceparent`/`tracestate`: in gRPC metadata and
//! HTTP headers ([`inject`], [`extract`]), and in watch events (`WatchEvent.trace_parent`,
//! a [`TraceParent`]), so the spans of one `ctl apply` in the apiserver, the controllers,
//! the scheduler and the kubelet share one trace.

mod context;
mod export;

#[cfg(feature = "collector")]
pub mod collector;

pub use context::{
    TraceParent, event_parent, extract, inject, set_parent, set_parent_from_headers,
    with_event_parent,
};

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// What the exporter layer records, independently of `RUST_LOG`: spans and events at
/// `info` and above, none from the transport crates (the exporter's own gRPC calls would
/// otherwise be traced, and exported, in a loop).
pub const EXPORT_FILTER: &str = "info,h2=off,hyper=off,hyper_util=off,tonic=off,tower=off,opentelemetry=off,opentelemetry_sdk=off,opentelemetry_otlp=off";

/// How long the guard's drop waits for the last spans to reach the collector.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// True once this process exports spans: the propagation helpers do nothing before.
static EXPORTING: AtomicBool = AtomicBool::new(false);

/// Whether spans are exported (an endpoint was given and the exporter started).
pub fn exporting() -> bool {
    EXPORTING.load(Ordering::Relaxed)
}

/// Keeps the exporter alive; dropping it flushes the spans still queued (waiting up to
/// 5 s) and shuts the exporter down. Daemons keep it until they exit.
#[must_use = "dropping the guard stops and flushes the span exporter"]
#[derive(Default)]
pub struct TraceGuard {
    provider: Option<opentelemetry_sdk::trace::SdkTracerProvider>,
}

impl TraceGuard {
    /// Exports what is queued now; false when it could not be waited for (a
    /// current-thread runtime, whose only thread is the caller) or did not finish in time.
    pub fn flush(&self) -> bool {
        self.provider
            .as_ref()
            .is_none_or(|p| p.force_flush().is_ok())
    }

    /// Flushes and shuts the exporter down from async code (any runtime flavour): what
    /// a test on a current-thread runtime calls instead of dropping the guard.
    pub async fn shutdown(mut self) {
        if let Some(p) = self.provider.take() {
            EXPORTING.store(false, Ordering::Relaxed);
            export::shutdown_async(&p, SHUTDOWN_TIMEOUT).await;
        }
    }
}

impl Drop for TraceGuard {
    fn drop(&mut self) {
        if let Some(p) = self.provider.take() {
            EXPORTING.store(false, Ordering::Relaxed);
            if let Err(e) = p.shutdown_with_timeout(SHUTDOWN_TIMEOUT) {
                tracing::warn!(error = %e, "flushing the span exporter");
            }
        }
    }
}

/// Installs the process's subscriber for `service` (the OpenTelemetry `service.name`),
/// exporting spans to `endpoint` (`http://host:4317`) when set. The guard is None when a
/// subscriber was already set (tests). A bad endpoint or a missing tokio runtime is
/// logged and the daemon runs without export: traces are never a reason not to start.
pub fn init_subscriber(service: &str, endpoint: Option<&str>) -> Option<TraceGuard> {
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(io::stderr)
        .with_ansi(io::IsTerminal::is_terminal(&io::stderr()))
        .with_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")));
    let endpoint = endpoint.map(str::trim).filter(|e| !e.is_empty());
    let (provider, failure) = match endpoint.map(|e| export::provider(service, e)) {
        None => (None, None),
        Some(Ok(p)) => (Some(p), None),
        Some(Err(e)) => (None, Some(e)),
    };
    let otel = provider.as_ref().map(|p| {
        use opentelemetry::trace::TracerProvider;
        tracing_opentelemetry::layer()
            .with_tracer(p.tracer("telemetry"))
            .with_filter(EnvFilter::new(EXPORT_FILTER))
    });
    let installed = tracing_subscriber::registry()
        .with(fmt)
        .with(otel)
        .try_init()
        .is_ok();
    if let Some(e) = failure {
        tracing::warn!(endpoint = endpoint.unwrap_or_default(), error = %e, "not exporting traces");
    }
    if !installed {
        // Another subscriber is the process's: spans would not reach this exporter.
        if let Some(p) = provider {
            let _ = p.shutdown();
        }
        return None;
    }
    if let (Some(_), Some(e)) = (&provider, endpoint) {
        EXPORTING.store(true, Ordering::Relaxed);
        tracing::info!(endpoint = e, service, "exporting traces (OTLP/gRPC)");
    }
    Some(TraceGuard { provider })
}
