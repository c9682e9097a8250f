//! Span export on the process's tokio runtime. The SDK's default BatchSpanProcessor runs
//! on a thread of its own and drives the exporter with a blocking executor, while the
//! tonic exporter's channel lives on tokio; its shutdown then blocks a thread the export
//! may need (a current-thread runtime deadlocks until the timeout). Here finished spans
//! go through a bounded channel to one tokio task that batches and exports them: ending a
//! span never waits (a full queue drops the span and counts it), an export failure is
//! logged, and the task is the only thing that touches the network.

use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SdkTracerProvider, Span, SpanData, SpanExporter, SpanProcessor};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::mpsc;

/// Spans waiting for the export task; beyond this they are dropped (the SDK's default).
const QUEUE: usize = 2048;
/// Spans per export call (the SDK's default).
const MAX_BATCH: usize = 512;
/// How long a span may wait for a batch to fill.
const SCHEDULED_DELAY: Duration = Duration::from_secs(1);
/// One export call, retries included, at most.
const EXPORT_TIMEOUT: Duration = Duration::from_secs(10);

/// Why there is no exporter.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("span export needs a tokio runtime (the exporter's gRPC channel runs on it)")]
    NoRuntime,
    #[error("cannot build the OTLP exporter: {0}")]
    Build(String),
}

/// A tracer provider exporting `service`'s spans over OTLP/gRPC to `endpoint`, its export
/// task spawned on the current runtime.
pub(super) fn provider(service: &str, endpoint: &str) -> Result<SdkTracerProvider, ExportError> {
    let runtime = tokio::runtime::Handle::try_current().map_err(|_| ExportError::NoRuntime)?;
    // The channel is built (and its worker spawned) inside the runtime.
    let _enter = runtime.enter();
    let mut exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .with_endpoint(endpoint)
        .with_timeout(EXPORT_TIMEOUT)
        .build()
        .map_err(|e| ExportError::Build(e.to_string()))?;
    let resource = Resource::builder()
        .with_service_name(service.to_string())
        .build();
    exporter.set_resource(&resource);
    let processor = TokioBatchProcessor::spawn(&runtime, exporter, endpoint.to_string());
    Ok(SdkTracerProvider::builder()
        .with_span_processor(processor)
        .with_resource(resource)
        .build())
}

/// Shuts `provider` down from async code: the export task is awaited, not blocked on.
pub(super) async fn shutdown_async(provider: &SdkTracerProvider, timeout: Duration) {
    // force_flush/shutdown of our processor block; run them where blocking is allowed.
    let p = provider.clone();
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let _ = tx.send(p.shutdown_with_timeout(timeout));
    });
    match tokio::time::timeout(timeout + Duration::from_secs(1), rx).await {
        Ok(Ok(Ok(()))) => {}
        Ok(Ok(Err(e))) => tracing::warn!(error = %e, "flushing the span exporter"),
        _ => tracing::warn!("flushing the span exporter did not finish in time"),
    }
}

enum Msg {
    Span(Box<SpanData>),
    /// Export what is queued, then call back.
    Flush(Box<dyn FnOnce() + Send>),
    /// Export what is queued, stop, then call back.
    Shutdown(Box<dyn FnOnce() + Send>),
}

/// The span processor: `on_end` hands the span to the export task without waiting.
pub(super) struct TokioBatchProcessor {
    tx: mpsc::Sender<Msg>,
    dropped: Arc<AtomicU64>,
    runtime: tokio::runtime::Handle,
}

impl std::fmt::Debug for TokioBatchProcessor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokioBatchProcessor")
            .field("dropped", &self.dropped.load(Ordering::Relaxed))
            .finish()
    }
}

impl TokioBatchProcessor {
    pub(super) fn spawn<E: SpanExporter + 'static>(
        runtime: &tokio::runtime::Handle,
        exporter: E,
        endpoint: String,
    ) -> Self {
        let (tx, rx) = mpsc::channel(QUEUE);
        let dropped = Arc::new(AtomicU64::new(0));
        runtime.spawn(run(exporter, rx, endpoint, dropped.clone()));
        TokioBatchProcessor {
            tx,
            dropped,
            runtime: runtime.clone(),
        }
    }

    /// Sends `make(callback)` to the task and waits (bounded) for the callback.
    fn round_trip(
        &self,
        make: impl FnOnce(Box<dyn FnOnce() + Send>) -> Msg,
        timeout: Duration,
    ) -> OTelSdkResult {
        let (done_tx, done_rx) = std::sync::mpsc::sync_channel::<()>(1);
        let msg = make(Box::new(move || {
            let _ = done_tx.try_send(());
        }));
        // A full queue still takes the message once the task has drained some of it: this
        // is the rare path (a flush or a shutdown), it may wait up to `timeout`.
        let deadline = std::time::Instant::now() + timeout;
        let mut msg = msg;
        loop {
            match self.tx.try_send(msg) {
                Ok(()) => break,
                // The task is gone: it has nothing left to export.
                Err(mpsc::error::TrySendError::Closed(_)) => return Ok(()),
                Err(mpsc::error::TrySendError::Full(back)) => {
                    if std::time::Instant::now() >= deadline {
                        return Err(OTelSdkError::Timeout(timeout));
                    }
                    msg = back;
                    pause(&self.runtime, Duration::from_millis(5))?;
                }
            }
        }
        wait(&self.runtime, done_rx, timeout)
    }
}

/// Sleeps the calling thread where that cannot stop the export task (refused on the
/// task's own current-thread runtime, as [`wait`] is).
fn pause(runtime: &tokio::runtime::Handle, how_long: Duration) -> OTelSdkResult {
    use tokio::runtime::RuntimeFlavor;
    let on_runtime = tokio::runtime::Handle::try_current().ok();
    match on_runtime.as_ref().map(|h| h.runtime_flavor()) {
        Some(RuntimeFlavor::CurrentThread)
            if on_runtime.as_ref().is_some_and(|h| h.id() == runtime.id()) =>
        {
            Err(OTelSdkError::InternalFailure(
                "cannot wait for the span exporter on its own current-thread runtime; use TraceGuard::shutdown().await".into(),
            ))
        }
        Some(RuntimeFlavor::MultiThread) => {
            tokio::task::block_in_place(|| std::thread::sleep(how_long));
            Ok(())
        }
        _ => {
            std::thread::sleep(how_long);
            Ok(())
        }
    }
}

/// Waits for the export task's answer where waiting cannot stall the task itself.
fn wait(
    runtime: &tokio::runtime::Handle,
    done: std::sync::mpsc::Receiver<()>,
    timeout: Duration,
) -> OTelSdkResult {
    use tokio::runtime::RuntimeFlavor;
    let on_runtime = tokio::runtime::Handle::try_current().ok();
    let received = match on_runtime.as_ref().map(|h| h.runtime_flavor()) {
        // Blocking the only thread of the runtime would stop the task we wait for.
        Some(RuntimeFlavor::CurrentThread)
            if on_runtime.as_ref().is_some_and(|h| h.id() == runtime.id()) =>
        {
            return Err(OTelSdkError::InternalFailure(
                "cannot wait for the span exporter on its own current-thread runtime; use TraceGuard::shutdown().await".into(),
            ));
        }
        Some(RuntimeFlavor::MultiThread) => {
            tokio::task::block_in_place(|| done.recv_timeout(timeout).is_ok())
        }
        _ => done.recv_timeout(timeout).is_ok(),
    };
    if received {
        Ok(())
    } else {
        Err(OTelSdkError::Timeout(timeout))
    }
}

impl SpanProcessor for TokioBatchProcessor {
    fn on_start(&self, _span: &mut Span, _cx: &opentelemetry::Context) {}

    fn on_end(&self, span: SpanData) {
        if !span.span_context.is_sampled() {
            return;
        }
        if self.tx.try_send(Msg::Span(Box::new(span))).is_err()
            && self.dropped.fetch_add(1, Ordering::Relaxed) == 0
        {
            tracing::warn!(
                queue = QUEUE,
                "span export queue full or stopped; dropping spans"
            );
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.round_trip(Msg::Flush, EXPORT_TIMEOUT)
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.round_trip(Msg::Shutdown, timeout)
    }
}

/// The export task: batches of at most [`MAX_BATCH`], sent when full, every
/// [`SCHEDULED_DELAY`], on flush and on shutdown.
async fn run<E: SpanExporter>(
    exporter: E,
    mut rx: mpsc::Receiver<Msg>,
    endpoint: String,
    dropped: Arc<AtomicU64>,
) {
    let mut batch: Vec<SpanData> = Vec::with_capacity(MAX_BATCH);
    let mut failing = false;
    let mut tick = tokio::time::interval(SCHEDULED_DELAY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let msg = tokio::select! {
            msg = rx.recv() => msg,
            _ = tick.tick() => {
                export(&exporter, &mut batch, &endpoint, &mut failing).await;
                continue;
            }
        };
        match msg {
            Some(Msg::Span(span)) => {
                batch.push(*span);
                if batch.len() >= MAX_BATCH {
                    export(&exporter, &mut batch, &endpoint, &mut failing).await;
                }
            }
            Some(Msg::Flush(done)) => {
                export(&exporter, &mut batch, &endpoint, &mut failing).await;
                done();
            }
            Some(Msg::Shutdown(done)) => {
                // Spans that ended before the shutdown was asked for.
                while let Ok(Msg::Span(span)) = rx.try_recv() {
                    batch.push(*span);
                }
                export(&exporter, &mut batch, &endpoint, &mut failing).await;
                let lost = dropped.load(Ordering::Relaxed);
                if lost > 0 {
                    tracing::warn!(
                        dropped = lost,
                        "spans dropped because the export queue was full"
                    );
                }
                let _ = exporter.shutdown();
                done();
                return;
            }
            None => {
                export(&exporter, &mut batch, &endpoint, &mut failing).await;
                return;
            }
        }
    }
}

/// Exports `batch` (in chunks), emptying it. A failure is logged once until an export
/// succeeds again: a collector that is down must not flood the log.
async fn export<E: SpanExporter>(
    exporter: &E,
    batch: &mut Vec<SpanData>,
    endpoint: &str,
    failing: &mut bool,
) {
    while !batch.is_empty() {
        let n = batch.len().min(MAX_BATCH);
        let chunk: Vec<SpanData> = batch.drain(..n).collect();
        let result = tokio::time::timeout(EXPORT_TIMEOUT, exporter.export(chunk)).await;
        let error = match result {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(e.to_string()),
            Err(_) => Some(format!("no answer within {EXPORT_TIMEOUT:?}")),
        };
        match (error, *failing) {
            (None, true) => {
                tracing::info!(endpoint, "exporting spans again");
                *failing = false;
            }
            (Some(e), false) => {
                tracing::warn!(endpoint, error = %e, spans = n, "span export failed; spans are dropped until the collector answers");
                *failing = true;
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// Records batches; fails while `fail` is set.
    #[derive(Debug, Clone, Default)]
    struct Recorder {
        batches: Arc<Mutex<Vec<usize>>>,
        fail: Arc<std::sync::atomic::AtomicBool>,
    }

    impl SpanExporter for Recorder {
        async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
            if self.fail.load(Ordering::Relaxed) {
                return Err(OTelSdkError::InternalFailure("collector down".into()));
            }
            self.batches.lock().unwrap().push(batch.len());
            Ok(())
        }
    }

    fn provider_with(rec: &Recorder) -> SdkTracerProvider {
        let processor = TokioBatchProcessor::spawn(
            &tokio::runtime::Handle::current(),
            rec.clone(),
            "test".into(),
        );
        SdkTracerProvider::builder()
            .with_span_processor(processor)
            .build()
    }

    fn end_spans(provider: &SdkTracerProvider, n: usize) {
        use opentelemetry::trace::{Span as _, Tracer, TracerProvider};
        let tracer = provider.tracer("test");
        for _ in 0..n {
            tracer.start("work").end();
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn spans_reach_the_exporter_on_flush_and_on_drop_of_the_provider() {
        let rec = Recorder::default();
        let provider = provider_with(&rec);
        end_spans(&provider, 3);
        // force_flush blocks in place on a worker thread while the task exports.
        provider.force_flush().unwrap();
        assert_eq!(*rec.batches.lock().unwrap(), vec![3]);
        end_spans(&provider, 2);
        provider.shutdown().unwrap();
        assert_eq!(*rec.batches.lock().unwrap(), vec![3, 2]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_collector_never_blocks_ending_spans() {
        let rec = Recorder::default();
        rec.fail.store(true, Ordering::Relaxed);
        let provider = provider_with(&rec);
        // More than the queue holds: the excess is dropped, nothing waits.
        let started = std::time::Instant::now();
        end_spans(&provider, QUEUE * 2);
        assert!(started.elapsed() < Duration::from_secs(2));
        provider.force_flush().unwrap();
        assert!(rec.batches.lock().unwrap().is_empty());
        rec.fail.store(false, Ordering::Relaxed);
        end_spans(&provider, 1);
        provider.force_flush().unwrap();
        assert_eq!(*rec.batches.lock().unwrap(), vec![1]);
    }

    #[tokio::test]
    async fn on_a_current_thread_runtime_shutdown_is_awaited_not_blocked_on() {
        let rec = Recorder::default();
        let provider = provider_with(&rec);
        end_spans(&provider, 4);
        // A blocking flush here would stop the task it waits for: refused at once.
        let started = std::time::Instant::now();
        assert!(provider.force_flush().is_err());
        assert!(started.elapsed() < Duration::from_secs(1));
        shutdown_async(&provider, Duration::from_secs(5)).await;
        assert_eq!(rec.batches.lock().unwrap().iter().sum::<usize>(), 4);
    }
}
