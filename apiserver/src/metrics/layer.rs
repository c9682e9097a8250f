//! The one place requests are counted, for both transports: a tower layer in front of
//! authentication. An HTTP request's labels come from its URL; a gRPC call's from the
//! [`Slot`] the layer puts in its extensions, which the service fills where it authorizes
//! the call (the resource is in the message, not the path), and where its handler writes
//! its outcome. A unary gRPC call answered by its handler, and an HTTP answer already
//! whole, are recorded when the handler returns, their body untouched (wrapping it costs
//! as much again as the metrics). Any other request is recorded when its response body
//! ends or is dropped, so a watch or an exec stream counts once, when it ends, with its
//! whole life as its duration (Kubernetes records long-running requests so), and is in
//! `apiserver_longrunning_requests` meanwhile.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use hyper::body::{Body as HttpBody, Frame, SizeHint};

use super::label_set::{self, LabelSet};
use super::request::{self, CREATE, Info};
use super::series::shape_labels;
use super::{METRICS, inflight};
use crate::http::Body;

/// Where a gRPC call's labels are written once known (at authorization), and its outcome
/// once its handler returns: a unary call so answered is recorded when the service's
/// future completes (as Kubernetes measures until its handler returns), its body not
/// wrapped; calls without an outcome (refused before the handler) and long-running ones
/// are read from their body's trailers. The slot is a task-local of the call's future
/// (the handler runs inside it, on its task): no allocation, no request extension (an
/// extension was an `Arc`, a boxed value and, with the others a request carries, a
/// rehash of the extensions' table: a third of what the metrics cost a call).
#[derive(Clone, Copy, Debug)]
pub struct Slot(());

#[derive(Default)]
struct Filled {
    /// A pointer, not the labels: the filled slot is swapped in and out of the task-local
    /// at every poll of the call.
    info: Option<&'static LabelSet>,
    /// The code as the HTTP API would answer, and the answer's size on the wire.
    outcome: Option<(u16, u64)>,
}

tokio::task_local! {
    /// The gRPC call the layer is serving on this task.
    static CALL: std::cell::RefCell<Filled>;
}

impl Slot {
    /// The slot of the gRPC call being served: none for HTTP requests reaching the gRPC
    /// methods (their URL said it all) and outside a request.
    pub fn current() -> Option<Slot> {
        CALL.try_with(|_| Slot(())).ok()
    }

    fn with(f: impl FnOnce(&mut Filled)) {
        let _ = CALL.try_with(|call| {
            if let Ok(mut filled) = call.try_borrow_mut() {
                f(&mut filled);
            }
        });
    }

    /// Records the call's labels, unless an earlier step did (`info` is then not computed).
    pub fn set(&self, info: impl FnOnce() -> Info) {
        Self::with(|filled| {
            if filled.info.is_none() {
                filled.info = label_set::intern(&info());
            }
        });
    }

    /// Records the handler's outcome: a message whose size on the wire `size` tells, or an
    /// error. Ignored before the labels are set (the layer then reads the trailers). The
    /// size is asked only of gets and lists, the answers Kubernetes measures: walking a
    /// message to size it costs a create or an update for nothing.
    pub fn answered(&self, outcome: Result<impl FnOnce() -> u64, &tonic::Status>) {
        Self::with(|filled| {
            let Some(LabelSet { info, .. }) = filled.info else {
                return;
            };
            if filled.outcome.is_some() {
                return;
            }
            filled.outcome = Some(match outcome {
                Ok(size) => {
                    let measured = info.verb == request::GET || info.verb == request::LIST;
                    (success_code(info.verb), if measured { size() } else { 0 })
                }
                Err(status) => (
                    crate::http::status::code(proto::ApiError::from_status(status).reason),
                    0,
                ),
            });
        });
    }
}

fn success_code(verb: &str) -> u16 {
    if verb == CREATE { 201 } else { 200 }
}

#[derive(Clone, Copy, Default, Debug)]
pub struct MetricsLayer;

impl<S> tower_layer::Layer<S> for MetricsLayer {
    type Service = Metered<S>;

    fn layer(&self, inner: S) -> Metered<S> {
        Metered { inner }
    }
}

#[derive(Clone)]
pub struct Metered<S> {
    inner: S,
}

/// What is known of a request before it is served.
enum Pending {
    Http(Info),
    /// `fallback`: the labels its path gives, should no authorization step set the slot
    /// (read now, as the path goes with the request; no allocation).
    Grpc {
        fallback: Info,
    },
}

impl<S, B> tower_service::Service<::http::Request<B>> for Metered<S>
where
    S: tower_service::Service<
            ::http::Request<B>,
            Response = ::http::Response<Body>,
            Error = Infallible,
        > + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = ::http::Response<Body>;
    type Error = Infallible;
    // Boxed: the layer's state (labels, timer, the call's slot) would otherwise make every
    // future around it bigger, and they are moved (copied) several times on their way into
    // hyper's stream task; one allocation costs less (measured with callgrind).
    type Future = Pin<Box<MeteredFuture<S::Future>>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: ::http::Request<B>) -> Self::Future {
        let start = Instant::now();
        let grpc = is_grpc(request.headers());
        let path = request.uri().path();
        let read_only = request::read_only(request.method(), path, grpc);
        let pending = if grpc {
            Pending::Grpc {
                fallback: request::from_grpc_path(path),
            }
        } else {
            let apply = request
                .headers()
                .get(::http::header::CONTENT_TYPE)
                .is_some_and(|v| v.as_bytes().starts_with(b"application/apply-patch"));
            Pending::Http(request::from_http(
                request.method(),
                path,
                request.uri().query().unwrap_or(""),
                apply,
            ))
        };
        let serving = inflight::enter(read_only);
        // poll_ready was called on this very service: the tower contract allows the call
        // here, with no clone of the service.
        let inner = self.inner.call(request);
        let inner = if grpc {
            Inner::Grpc {
                fut: CALL.scope(std::cell::RefCell::default(), inner),
            }
        } else {
            Inner::Http { fut: inner }
        };
        Box::pin(MeteredFuture {
            inner,
            state: Some((pending, serving)),
            start,
        })
    }
}

pin_project_lite::pin_project! {
    /// The inner service's future, the request recorded when it yields the response.
    pub struct MeteredFuture<F> {
        #[pin]
        inner: Inner<F>,
        // None once the response went out.
        state: Option<(Pending, inflight::Serving)>,
        start: Instant,
    }
}

pin_project_lite::pin_project! {
    /// A gRPC call runs with its slot in scope.
    #[project = InnerProj]
    enum Inner<F> {
        Grpc { #[pin] fut: tokio::task::futures::TaskLocalFuture<std::cell::RefCell<Filled>, F> },
        Http { #[pin] fut: F },
    }
}

impl<F> Future for MeteredFuture<F>
where
    F: Future<Output = Result<::http::Response<Body>, Infallible>>,
{
    type Output = Result<::http::Response<Body>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let (polled, filled) = match this.inner.project() {
            InnerProj::Grpc { mut fut } => match fut.as_mut().poll(cx) {
                Poll::Ready(r) => (r, fut.take_value().map(|c| c.into_inner())),
                Poll::Pending => return Poll::Pending,
            },
            InnerProj::Http { fut } => match fut.poll(cx) {
                Poll::Ready(r) => (r, None),
                Poll::Pending => return Poll::Pending,
            },
        };
        let response = match polled {
            Ok(response) => response,
            Err(never) => match never {},
        };
        let Some((pending, serving)) = this.state.take() else {
            // Polled again after its answer: the answer went out with the first.
            return Poll::Pending;
        };
        // Long-running requests leave the in-flight count once they are established,
        // as Kubernetes' max-in-flight filter does not count them.
        drop(serving);
        Poll::Ready(Ok(track(response, pending, filled, *this.start)))
    }
}

fn is_grpc(headers: &::http::HeaderMap) -> bool {
    headers
        .get(::http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/grpc"))
}

/// The code of a gRPC answer, as the HTTP API would answer the same outcome (a success
/// of a create is 201).
fn grpc_code(headers: &::http::HeaderMap, verb: &str) -> Option<u16> {
    let status = headers.get("grpc-status")?;
    if status.as_bytes() == b"0" {
        return Some(success_code(verb));
    }
    let status = tonic::Status::from_header_map(headers)?;
    Some(crate::http::status::code(
        proto::ApiError::from_status(&status).reason,
    ))
}

/// Wraps the response body so that the request is recorded when it ends.
fn track(
    response: ::http::Response<Body>,
    pending: Pending,
    filled: Option<Filled>,
    start: Instant,
) -> ::http::Response<Body> {
    let (parts, body) = response.into_parts();
    let http_code = parts.status.as_u16();
    let grpc = matches!(pending, Pending::Grpc { .. });
    let (info, code) = match pending {
        Pending::Http(info) => (info, Some(http_code)),
        Pending::Grpc { fallback } => {
            let Filled { info: set, outcome } = filled.unwrap_or_default();
            // A unary call its handler answered: recorded now, its body left as it is.
            if let Some(set) = set
                && http_code == 200
                && !set.info.long_running()
                && let Some((code, bytes)) = outcome
            {
                set.observe(code, start.elapsed().as_secs_f64(), bytes);
                return ::http::Response::from_parts(parts, body);
            }
            let info = set.map_or(fallback, |set| set.info.clone());
            // Not 200: the HTTP layer answered (an unknown path, a refused request).
            let code = if http_code != 200 {
                Some(http_code)
            } else {
                grpc_code(&parts.headers, info.verb)
            };
            (info, code)
        }
    };
    // An HTTP answer already whole (a JSON document, a Status) is recorded now, unwrapped:
    // its size is known and writing it out is hyper's.
    if !grpc
        && !info.long_running()
        && let Some(bytes) = body.size_hint().exact()
    {
        label_set::record(info, http_code, start.elapsed().as_secs_f64(), bytes);
        return ::http::Response::from_parts(parts, body);
    }
    let longrunning = info.long_running().then(|| {
        let gauge = METRICS
            .longrunning
            .get_or_create_owned(&shape_labels(&info));
        gauge.inc();
        gauge
    });
    let tracker = Tracker {
        info: Some(info),
        code,
        start,
        bytes: 0,
        longrunning,
    };
    ::http::Response::from_parts(
        parts,
        Body::new(MeteredBody {
            inner: body,
            tracker,
        }),
    )
}

/// One request until its body is gone; records it on drop.
struct Tracker {
    info: Option<Info>,
    /// None until a gRPC answer's trailers say (a stream that ends without them, cut by
    /// the client, counts as the 200 its headers were).
    code: Option<u16>,
    start: Instant,
    bytes: u64,
    longrunning: Option<telemetry::metrics::Gauge>,
}

impl Drop for Tracker {
    fn drop(&mut self) {
        if let Some(g) = &self.longrunning {
            g.dec();
        }
        let Some(info) = self.info.take() else { return };
        let code = self.code.unwrap_or(success_code(info.verb));
        label_set::record(info, code, self.start.elapsed().as_secs_f64(), self.bytes);
    }
}

/// The response body, counting its bytes and reading a gRPC answer's trailers.
struct MeteredBody {
    inner: Body,
    tracker: Tracker,
}

impl HttpBody for MeteredBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &polled {
            if let Some(data) = frame.data_ref() {
                this.tracker.bytes += data.len() as u64;
            } else if let Some(trailers) = frame.trailers_ref()
                && let Some(info) = &this.tracker.info
                && let Some(code) = grpc_code(trailers, info.verb)
            {
                this.tracker.code = Some(code);
            }
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_outcomes_read_as_the_http_api_answers_them() {
        let mut h = ::http::HeaderMap::new();
        assert_eq!(grpc_code(&h, "GET"), None);
        h.insert("grpc-status", "0".parse().unwrap());
        assert_eq!(grpc_code(&h, "GET"), Some(200));
        assert_eq!(grpc_code(&h, CREATE), Some(201));
        let status: tonic::Status = proto::ApiError::already_exists("x").into();
        let h = status.into_http::<()>().into_parts().0.headers;
        assert_eq!(grpc_code(&h, CREATE), Some(409));
        let status: tonic::Status = proto::ApiError::invalid("x").into();
        let h = status.into_http::<()>().into_parts().0.headers;
        assert_eq!(grpc_code(&h, CREATE), Some(422));
    }

    #[test]
    fn a_handlers_outcome_is_kept_once_its_labels_are() {
        let outcome = || CALL.with(|c| c.borrow().outcome);
        let labels = || CALL.with(|c| c.borrow().info.map(|set| set.info.clone()));
        assert!(Slot::current().is_none(), "no call in scope");
        CALL.sync_scope(Default::default(), || {
            let slot = Slot::current().expect("in scope");
            slot.answered(Ok(|| 10));
            assert_eq!(outcome(), None, "no labels yet: the trailers will say");
            slot.set(from_attributes_like);
            slot.answered(Ok(|| 10));
            assert_eq!(outcome(), Some((200, 10)));
            slot.answered(Ok(|| 99));
            assert_eq!(outcome(), Some((200, 10)), "the first answer stands");
        });
        CALL.sync_scope(Default::default(), || {
            let slot = Slot::current().expect("in scope");
            slot.set(|| Info {
                verb: CREATE,
                ..from_attributes_like()
            });
            slot.answered(Ok(|| unreachable!("a create's answer is not sized")));
            assert_eq!(outcome(), Some((201, 0)));
            assert_eq!(labels().map(|i| i.verb), Some(CREATE));
        });
        CALL.sync_scope(Default::default(), || {
            let slot = Slot::current().expect("in scope");
            slot.set(from_attributes_like);
            slot.answered(Err::<fn() -> u64, _>(
                &proto::ApiError::not_found("x").into(),
            ));
            assert_eq!(outcome(), Some((404, 0)));
        });
    }

    /// What recording one request costs, through the kept series and through three family
    /// lookups (as before they were kept):
    /// `cargo test --release -p apiserver --lib record_cost -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn record_cost() {
        let info = from_attributes_like();
        let n = 200_000;
        for round in 0..3 {
            let t = Instant::now();
            for _ in 0..n {
                super::super::series::series(&info, 200).observe(0.001, 100);
            }
            let looked_up = t.elapsed().as_nanos() as f64 / n as f64;
            let t = Instant::now();
            for _ in 0..n {
                label_set::record(info.clone(), 200, 0.001, 100);
            }
            let kept = t.elapsed().as_nanos() as f64 / n as f64;
            println!("round {round}: family lookups {looked_up:.0} ns, kept {kept:.0} ns");
        }
    }

    fn from_attributes_like() -> Info {
        let a = crate::service::attributes("get", "configmaps", "", "bench", "obj-1");
        request::from_attributes(&a, false, false)
    }
}
