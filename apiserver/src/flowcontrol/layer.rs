//! The tower layer between authentication and the router: classifies each request (its
//! identity is in the extensions by now), waits for a seat of its level, refuses with 429
//! and Retry-After, and holds the request to its deadline (504). A write past its
//! deadline is not cut short: its handler goes on (with its seat) in a task of its own
//! and the answer says the outcome is unknown, as Kubernetes' timeout filter does, so no
//! write is half done and none is reported as failed that may have succeeded.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use proto::{ApiError, Reason};
use tokio::time::Instant;

use super::classify::{self, FlowSchema, Level, Verb};
use super::level::{Admission, Seat};
use super::max_inflight::{InFlight, Place};
use super::metrics::{self, Rejection};
use super::{FlowControl, Options};
use crate::auth::Authenticated;
use crate::http::HttpResponse;

/// Seconds a refused client is told to wait (Kubernetes' APF answers 1).
pub const RETRY_AFTER_SECONDS: u32 = 1;
const TOO_MANY: &str = "Too many requests, please try again later.";
/// Kubernetes' timeout filter's message (`context deadline exceeded`).
const TIMED_OUT: &str =
    "request did not complete within requested timeout - context deadline exceeded";
/// What a client cannot know after a write timed out (client-go's text for a 504).
const MAY_STILL_RUN: &str = "the server was unable to return a response in the time allotted, but may still be processing the request";
const FLOW_SCHEMA_HEADER: &str = "x-kubernetes-pf-flowschema-uid";
const PRIORITY_LEVEL_HEADER: &str = "x-kubernetes-pf-prioritylevel-uid";

/// How requests are limited.
enum Limits {
    Apf(FlowControl),
    /// `--enable-priority-and-fairness=false`: read-only and mutating limits (None: 0, no
    /// limit).
    MaxInFlight {
        read_only: Option<Arc<InFlight>>,
        mutating: Option<Arc<InFlight>>,
    },
}

struct Shared {
    limits: Limits,
    request_timeout: Duration,
    wait_limit: Duration,
}

#[derive(Clone)]
pub struct FlowControlLayer {
    shared: Arc<Shared>,
}

impl FlowControlLayer {
    pub fn new(options: &Options) -> Self {
        FlowControlLayer {
            shared: Arc::new(Shared {
                limits: if options.enabled {
                    Limits::Apf(FlowControl::new(options.total_seats))
                } else {
                    Limits::MaxInFlight {
                        read_only: InFlight::new(options.max_requests_inflight),
                        mutating: InFlight::new(options.max_mutating_requests_inflight),
                    }
                },
                request_timeout: options.request_timeout,
                wait_limit: options.wait_limit(),
            }),
        }
    }

    /// The levels this layer limits with (None when priority and fairness is off).
    pub fn control(&self) -> Option<&FlowControl> {
        match &self.shared.limits {
            Limits::Apf(control) => Some(control),
            Limits::MaxInFlight { .. } => None,
        }
    }
}

impl<S> tower_layer::Layer<S> for FlowControlLayer {
    type Service = FlowControlled<S>;

    fn layer(&self, inner: S) -> FlowControlled<S> {
        FlowControlled {
            inner,
            shared: self.shared.clone(),
        }
    }
}

#[derive(Clone)]
pub struct FlowControlled<S> {
    inner: S,
    shared: Arc<Shared>,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

impl<S, B> tower_service::Service<http::Request<B>> for FlowControlled<S>
where
    S: tower_service::Service<http::Request<B>, Response = HttpResponse, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = HttpResponse;
    type Error = Infallible;
    type Future = BoxFuture<Result<HttpResponse, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        // The service polled ready is the one to call; a clone takes its place.
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(serve(self.shared.clone(), inner, request))
    }
}

/// What was decided about a request before it runs.
struct Plan {
    grpc: bool,
    mutating: bool,
    /// None for long-running requests.
    deadline: Option<Instant>,
    schema: Option<&'static FlowSchema>,
}

async fn serve<S, B>(
    shared: Arc<Shared>,
    mut inner: S,
    request: http::Request<B>,
) -> Result<HttpResponse, Infallible>
where
    S: tower_service::Service<http::Request<B>, Response = HttpResponse, Error = Infallible>,
    S::Future: Send + 'static,
{
    let start = Instant::now();
    let grpc = is_grpc(request.headers());
    let path = request.uri().path();
    let described = if grpc {
        classify::describe_grpc(path)
    } else {
        classify::describe_http(request.method(), path, request.uri().query().unwrap_or(""))
    };
    if described.verb == Verb::Connect {
        // exec, attach, port-forward, proxy, logs: neither limited nor timed, as Kubernetes.
        return inner.call(request).await;
    }
    let mut timeout = shared.request_timeout;
    if grpc
        && let Some(asked) = request
            .headers()
            .get("grpc-timeout")
            .and_then(|v| v.to_str().ok())
            .and_then(parse_grpc_timeout)
    {
        timeout = timeout.min(asked);
    }
    let user = request
        .extensions()
        .get::<Authenticated>()
        .map(|a| a.0.clone());
    let mut plan = Plan {
        grpc,
        mutating: described.verb.mutating(),
        deadline: (!described.long_running()).then(|| start + timeout),
        schema: None,
    };
    let mut seat: Option<Seat> = None;
    let mut place: Option<Place> = None;
    // A request that did not pass authentication (in-process servers without the layer)
    // is the apiserver's own: not limited.
    match (&shared.limits, user) {
        (_, None) => {}
        (Limits::Apf(control), Some(user)) => {
            let schema = classify::classify(&user, &described);
            plan.schema = Some(schema);
            if schema.level != Level::Exempt {
                let level = control.level(schema.level);
                let hash = classify::flow_hash(schema, &user, &described);
                match level.admit(hash) {
                    Admission::Now(s) => {
                        level.metrics.waited.observe(0.0);
                        seat = Some(s);
                    }
                    Admission::Rejected(why) => {
                        level.metrics.rejected(schema.name, why);
                        return Ok(too_many(&plan));
                    }
                    Admission::Wait(waiting) => {
                        let wait_until = start + shared.wait_limit;
                        let until = plan.deadline.map_or(wait_until, |d| d.min(wait_until));
                        match waiting.seat(until).await {
                            Ok(s) => seat = Some(s),
                            Err(()) if until < wait_until => {
                                metrics::timed_out();
                                return Ok(timed_out(&plan, false));
                            }
                            Err(()) => {
                                level.metrics.rejected(schema.name, Rejection::TimeOut);
                                return Ok(too_many(&plan));
                            }
                        }
                    }
                }
            }
        }
        (
            Limits::MaxInFlight {
                read_only,
                mutating,
            },
            Some(user),
        ) => {
            let limit = if plan.mutating { mutating } else { read_only };
            if let Some(limit) = limit
                && !described.long_running()
                && !user.in_group(crate::auth::user::names::SYSTEM_MASTERS)
            {
                match limit.enter() {
                    Some(p) => place = Some(p),
                    None => return Ok(too_many(&plan)),
                }
            }
        }
    }
    let running = inner.call(request);
    let mut response = match plan.deadline {
        // A watch: its seat is given back once it is established (its response starts).
        None => running.await?,
        Some(deadline) if plan.mutating => {
            let mut running = Box::pin(running);
            match tokio::time::timeout_at(deadline, &mut running).await {
                Ok(response) => response?,
                Err(_) => {
                    // Finished in the background, seat and all: never half a write.
                    tokio::spawn(async move {
                        let _ = running.await;
                        drop((seat, place));
                    });
                    metrics::timed_out();
                    return Ok(timed_out(&plan, true));
                }
            }
        }
        Some(deadline) => match tokio::time::timeout_at(deadline, running).await {
            Ok(response) => response?,
            Err(_) => {
                metrics::timed_out();
                return Ok(timed_out(&plan, false));
            }
        },
    };
    drop((seat, place));
    if !plan.grpc
        && let Some(schema) = plan.schema
    {
        flow_headers(&mut response, schema);
    }
    Ok(response)
}

fn is_grpc(headers: &http::HeaderMap) -> bool {
    headers
        .get(http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/grpc"))
}

/// The built-in objects are not stored here; their names stand for their UIDs.
fn flow_headers(response: &mut HttpResponse, schema: &'static FlowSchema) {
    let headers = response.headers_mut();
    headers.insert(
        FLOW_SCHEMA_HEADER,
        http::HeaderValue::from_static(schema.name),
    );
    headers.insert(
        PRIORITY_LEVEL_HEADER,
        http::HeaderValue::from_static(schema.level.name()),
    );
}

/// 429: gRPC's ResourceExhausted with `x-retry-after-seconds`, or Kubernetes' Status with
/// `details.retryAfterSeconds` and `Retry-After`.
fn too_many(plan: &Plan) -> HttpResponse {
    let e = ApiError::new(Reason::TooManyRequests, TOO_MANY).with_retry_after(RETRY_AFTER_SECONDS);
    if plan.grpc {
        return tonic::Status::from(e).into_http();
    }
    let mut status = crate::http::status::failure(&e, None);
    status["details"] = serde_json::json!({ "retryAfterSeconds": RETRY_AFTER_SECONDS });
    let mut response = crate::http::json_response(http::StatusCode::TOO_MANY_REQUESTS, &status);
    response.headers_mut().insert(
        http::header::RETRY_AFTER,
        http::HeaderValue::from(RETRY_AFTER_SECONDS),
    );
    if let Some(schema) = plan.schema {
        flow_headers(&mut response, schema);
    }
    response
}

/// 504 Timeout; for a write, saying it may still happen.
fn timed_out(plan: &Plan, write_running: bool) -> HttpResponse {
    let message = if write_running {
        format!("{TIMED_OUT}: {MAY_STILL_RUN}")
    } else {
        TIMED_OUT.to_string()
    };
    let e = ApiError::new(Reason::Timeout, message);
    if plan.grpc {
        return tonic::Status::from(e).into_http();
    }
    let mut response = crate::http::api_error_response(&e);
    if let Some(schema) = plan.schema {
        flow_headers(&mut response, schema);
    }
    response
}

/// gRPC's `grpc-timeout` header: at most 8 digits and a unit (H, M, S, m, u, n).
pub fn parse_grpc_timeout(value: &str) -> Option<Duration> {
    let (digits, unit) = value.split_at_checked(value.len().checked_sub(1)?)?;
    if digits.is_empty() || digits.len() > 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(n * 3600),
        "M" => Duration::from_secs(n * 60),
        "S" => Duration::from_secs(n),
        "m" => Duration::from_millis(n),
        "u" => Duration::from_micros(n),
        "n" => Duration::from_nanos(n),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_timeouts_parse_as_the_spec_writes_them() {
        assert_eq!(parse_grpc_timeout("5S"), Some(Duration::from_secs(5)));
        assert_eq!(parse_grpc_timeout("250m"), Some(Duration::from_millis(250)));
        assert_eq!(parse_grpc_timeout("1H"), Some(Duration::from_secs(3600)));
        assert_eq!(
            parse_grpc_timeout("99999999n"),
            Some(Duration::from_nanos(99_999_999))
        );
        for bad in ["", "S", "5", "5s", "123456789S", "-1S", "1.5S", "5é"] {
            assert_eq!(parse_grpc_timeout(bad), None, "{bad}");
        }
    }

    #[test]
    fn refusals_carry_retry_after_on_both_transports() {
        let schema = &classify::FLOW_SCHEMAS[classify::FLOW_SCHEMAS.len() - 2];
        let http_plan = Plan {
            grpc: false,
            mutating: false,
            deadline: None,
            schema: Some(schema),
        };
        let r = too_many(&http_plan);
        assert_eq!(r.status(), 429);
        assert_eq!(r.headers()[http::header::RETRY_AFTER], "1");
        assert_eq!(r.headers()[FLOW_SCHEMA_HEADER], "global-default");
        assert_eq!(r.headers()[PRIORITY_LEVEL_HEADER], "global-default");
        let grpc = too_many(&Plan {
            grpc: true,
            ..http_plan
        });
        let status = tonic::Status::from_header_map(grpc.headers()).expect("a gRPC status");
        let e = ApiError::from_status(&status);
        assert_eq!(e.reason, Reason::TooManyRequests);
        assert_eq!(e.retry_after_seconds, Some(1));
    }

    #[test]
    fn a_timed_out_write_says_it_may_still_happen() {
        let plan = Plan {
            grpc: true,
            mutating: true,
            deadline: None,
            schema: None,
        };
        let status = tonic::Status::from_header_map(timed_out(&plan, true).headers()).unwrap();
        let e = ApiError::from_status(&status);
        assert_eq!(e.reason, Reason::Timeout);
        assert!(
            e.message.contains("may still be processing"),
            "{}",
            e.message
        );
        let status = tonic::Status::from_header_map(timed_out(&plan, false).headers()).unwrap();
        assert!(!ApiError::from_status(&status).message.contains("may still"));
    }
}
