//! W3C trace context (`traceparent`, `tracestate`): into and out of HTTP/gRPC headers,
//! and as a value ([`TraceParent`]) that travels with a watch event from the write that
//! produced it to the reconcile it causes.

use opentelemetry::Context;
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::TraceContextExt;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use std::cell::RefCell;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use super::exporting;

const TRACEPARENT: &str = "traceparent";

/// The context of the innermost exported span around the caller. The current `tracing`
/// span may be one the exporter's filter leaves out (a debug span while RUST_LOG=debug):
/// it has no OpenTelemetry context, but entering the exported span around it made that
/// one OpenTelemetry's current context.
fn current() -> Context {
    let cx = tracing::Span::current().context();
    if cx.span().span_context().is_valid() {
        cx
    } else {
        Context::current()
    }
}

/// Adds the current span's `traceparent` (and `tracestate`) to `headers`. Nothing when
/// this process does not export spans, or outside any exported span.
pub fn inject(headers: &mut http::HeaderMap) {
    if !exporting() {
        return;
    }
    TraceContextPropagator::new().inject_context(&current(), &mut HeaderInjector(headers));
}

/// The remote parent that `headers` carry (an empty context when none or malformed).
pub fn extract(headers: &http::HeaderMap) -> Context {
    TraceContextPropagator::new().extract(&HeaderExtractor(headers))
}

/// Makes the remote parent `headers` carry (a caller's `traceparent`) the parent of
/// `span`, which must not have been entered yet: a server's request span. Nothing when
/// not exporting or the headers carry none.
pub fn set_parent_from_headers(span: &tracing::Span, headers: &http::HeaderMap) {
    if !exporting() || !headers.contains_key(TRACEPARENT) {
        return;
    }
    let _ = span.set_parent(extract(headers));
}

/// Makes `parent` the parent of `span`, which must not have been entered yet. Nothing
/// when not exporting or `parent` is None.
pub fn set_parent(span: &tracing::Span, parent: Option<&TraceParent>) {
    if !exporting() {
        return;
    }
    if let Some(p) = parent {
        let _ = span.set_parent(p.context());
    }
}

/// A span's W3C `traceparent` (`00-<trace id>-<span id>-<flags>`): what a watch event
/// carries from the write that produced it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TraceParent(String);

impl TraceParent {
    /// The current span's, when this process exports spans and is inside one.
    pub fn current() -> Option<TraceParent> {
        if !exporting() {
            return None;
        }
        Self::of(&current())
    }

    fn of(cx: &Context) -> Option<TraceParent> {
        let mut carrier = Single(None);
        TraceContextPropagator::new().inject_context(cx, &mut carrier);
        carrier.0.map(TraceParent)
    }

    /// A received value; None when empty or not a valid traceparent.
    pub fn parse(s: &str) -> Option<TraceParent> {
        if s.is_empty() {
            return None;
        }
        let cx = TraceContextPropagator::new().extract(&Single(Some(s.to_string())));
        cx.span()
            .span_context()
            .is_valid()
            .then(|| TraceParent(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The remote context this names, to parent a span on.
    pub fn context(&self) -> Context {
        TraceContextPropagator::new().extract(&Single(Some(self.0.clone())))
    }
}

impl std::fmt::Display for TraceParent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

thread_local! {
    static EVENT_PARENT: RefCell<Option<TraceParent>> = const { RefCell::new(None) };
}

/// Runs `f` (an informer's event handlers) with `parent` as the trace context of the
/// event being handled, so that whatever `f` enqueues can remember what caused it
/// ([`event_parent`]). Handlers are synchronous: a thread-local is exact.
pub fn with_event_parent<R>(parent: Option<&TraceParent>, f: impl FnOnce() -> R) -> R {
    if parent.is_none() || !exporting() {
        return f();
    }
    let previous = EVENT_PARENT.with(|p| p.replace(parent.cloned()));
    // Restored even if a handler panics: the informer task would carry it otherwise.
    struct Restore(Option<TraceParent>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            EVENT_PARENT.with(|p| *p.borrow_mut() = previous);
        }
    }
    let _restore = Restore(previous);
    f()
}

/// The trace context of the watch event being handled on this thread, if any.
pub fn event_parent() -> Option<TraceParent> {
    if !exporting() {
        return None;
    }
    EVENT_PARENT.with(|p| p.borrow().clone())
}

struct HeaderInjector<'a>(&'a mut http::HeaderMap);

impl Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(key.as_bytes()),
            http::HeaderValue::from_str(&value),
        ) {
            self.0.insert(name, value);
        }
    }
}

struct HeaderExtractor<'a>(&'a http::HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}

/// A carrier of the `traceparent` alone (tracestate is not kept with watch events).
struct Single(Option<String>);

impl Injector for Single {
    fn set(&mut self, key: &str, value: String) {
        if key == TRACEPARENT {
            self.0 = Some(value);
        }
    }
}

impl Extractor for Single {
    fn get(&self, key: &str) -> Option<&str> {
        (key == TRACEPARENT).then_some(self.0.as_deref()).flatten()
    }

    fn keys(&self) -> Vec<&str> {
        vec![TRACEPARENT]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TP: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn a_traceparent_round_trips_through_headers_and_values() {
        let parsed = TraceParent::parse(TP).unwrap();
        assert_eq!(parsed.as_str(), TP);
        assert_eq!(TraceParent::of(&parsed.context()).unwrap().as_str(), TP);
        let mut headers = http::HeaderMap::new();
        headers.insert("traceparent", TP.parse().unwrap());
        let cx = extract(&headers);
        let sc = cx.span().span_context().clone();
        assert!(sc.is_remote());
        assert_eq!(
            sc.trace_id().to_string(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        assert_eq!(sc.span_id().to_string(), "00f067aa0ba902b7");
        let mut out = http::HeaderMap::new();
        TraceContextPropagator::new().inject_context(&cx, &mut HeaderInjector(&mut out));
        assert_eq!(out.get("traceparent").unwrap(), TP);
    }

    #[test]
    fn malformed_or_empty_values_are_no_parent() {
        assert!(TraceParent::parse("").is_none());
        assert!(TraceParent::parse("00-zz-00f067aa0ba902b7-01").is_none());
        assert!(
            TraceParent::parse("00-00000000000000000000000000000000-0000000000000000-01").is_none()
        );
        assert!(
            !extract(&http::HeaderMap::new())
                .span()
                .span_context()
                .is_valid()
        );
    }

    #[test]
    fn without_export_the_helpers_do_nothing() {
        // This test binary never installs an exporter.
        let mut headers = http::HeaderMap::new();
        inject(&mut headers);
        assert!(headers.is_empty());
        assert!(TraceParent::current().is_none());
        let p = TraceParent::parse(TP);
        with_event_parent(p.as_ref(), || assert!(event_parent().is_none()));
    }
}
