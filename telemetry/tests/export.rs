//! The real exporter against the test collector, in one process: spans reach the
//! collector with the service's name, a child keeps its parent, a remote parent taken
//! from headers (or a watch event's traceparent) puts a span into the caller's trace,
//! and dropping the guard on the daemons' multi-thread runtime flushes what is queued.

use std::time::Duration;
use telemetry::trace::collector::Collector;
use telemetry::trace::{self, TraceParent};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_are_exported_with_their_parents_and_flushed_on_drop() {
    let collector = Collector::start().await.unwrap();
    let guard = trace::init_subscriber("telemetry-test", Some(&collector.endpoint()))
        .expect("first subscriber of this test binary");
    assert!(trace::exporting());

    // A client span, its context injected into headers as a gRPC call does.
    let mut headers = http::HeaderMap::new();
    let client_tp = {
        let span = tracing::info_span!("client_call");
        let _e = span.enter();
        trace::inject(&mut headers);
        // Inside a span the exporter leaves out (debug), the exported one around it counts.
        let inner = tracing::debug_span!("not_exported").in_scope(TraceParent::current);
        let tp = TraceParent::current().unwrap();
        assert_eq!(inner, Some(tp.clone()));
        tp
    };
    assert_eq!(
        headers.get("traceparent").unwrap().to_str().unwrap(),
        client_tp.as_str()
    );

    // The server side opens its request span with the extracted parent.
    {
        let server = tracing::info_span!("server_request");
        let _ = tracing_opentelemetry::OpenTelemetrySpanExt::set_parent(
            &server,
            trace::extract(&headers),
        );
        let _e = server.enter();
        tracing::info_span!("write").in_scope(|| {});
    }

    // A watch event's traceparent parents a reconcile; the handler sees it meanwhile.
    let event_tp = TraceParent::parse(client_tp.as_str());
    trace::with_event_parent(event_tp.as_ref(), || {
        assert_eq!(trace::event_parent(), event_tp);
    });
    assert_eq!(trace::event_parent(), None);
    let reconcile = tracing::info_span!("reconcile");
    trace::set_parent(&reconcile, event_tp.as_ref());
    reconcile.in_scope(|| {});
    drop(reconcile);

    // A debug span is not exported, whatever RUST_LOG says.
    tracing::debug_span!("chatty").in_scope(|| {});

    // Dropped on a worker thread of a multi-thread runtime: blocks in place until the
    // export task has sent everything.
    drop(guard);
    assert!(!trace::exporting());
    let spans = collector.spans();
    let by_name = |n: &str| {
        spans
            .iter()
            .find(|s| s.name == n)
            .unwrap_or_else(|| panic!("no {n} span in {spans:#?}"))
            .clone()
    };
    let client = by_name("client_call");
    let server = by_name("server_request");
    let write = by_name("write");
    let reconcile = by_name("reconcile");
    assert!(
        spans.iter().all(|s| s.service == "telemetry-test"),
        "{spans:#?}"
    );
    assert_eq!(server.trace_id, client.trace_id);
    assert_eq!(server.parent_span_id, client.span_id);
    assert_eq!(write.parent_span_id, server.span_id);
    assert_eq!(write.trace_id, client.trace_id);
    assert_eq!(reconcile.trace_id, client.trace_id);
    assert_eq!(reconcile.parent_span_id, client.span_id);
    assert!(client.parent_span_id.is_empty());
    assert!(!spans.iter().any(|s| s.name == "chatty"));
    // Spans ending after the shutdown go nowhere, and never block.
    let started = std::time::Instant::now();
    tracing::info_span!("late").in_scope(|| {});
    assert!(started.elapsed() < Duration::from_secs(1));
}
