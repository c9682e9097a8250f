//! When a failed call to the apiserver is tried again, and after how long (client-go's
//! `rest.Request` with `withRetry`, plus a back-off for an apiserver that is down).
//!
//! - A 429 (`TooManyRequests`) or a 5xx with a Retry-After is retried after the seconds
//!   the server asked for, whatever the verb: overload protection answers before the
//!   request runs (client-go's `checkWait`). An eviction's 429 is the exception: it is a
//!   disruption budget's refusal, which the caller (`ctl drain`) handles itself.
//! - A connection that could not be opened (refused): the request never left this
//!   process, so any verb is retried, after a jittered exponential back-off.
//! - A connection that broke during the call, or an apiserver shutting down: the request
//!   may have been executed, so only reads (get, list, the start of a watch) are retried,
//!   as client-go retries only GETs on a reset connection.
//! - Anything else is the caller's to handle.
//!
//! Attempts are bounded in number (client-go's `maxRetries` of 10) and in total time, so a
//! CLI fails with the last error instead of hanging. [`decide`] is the pure policy; the
//! client's I/O loop (`Client::retrying`) applies it to every call.

use crate::backoff::exponential_delay;
use proto::Reason;
use std::time::Duration;

/// What a call does, as far as retrying is concerned (and the HTTP method Kubernetes
/// would use for it, for `rest_client_requests_total`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Get,
    List,
    /// Opening a watch stream; a stream that breaks later is the informer's to resume.
    Watch,
    Create,
    Update,
    Patch,
    Delete,
    /// `pods/eviction`: its 429 is a disruption budget's answer, never retried here.
    Evict,
}

impl Verb {
    /// Reads are idempotent: safe to send again after a broken connection.
    pub fn is_read(self) -> bool {
        matches!(self, Verb::Get | Verb::List | Verb::Watch)
    }

    /// The HTTP method of this verb in Kubernetes' API.
    pub fn method(self) -> &'static str {
        match self {
            Verb::Get | Verb::List | Verb::Watch => "GET",
            Verb::Create | Verb::Evict => "POST",
            Verb::Update => "PUT",
            Verb::Patch => "PATCH",
            Verb::Delete => "DELETE",
        }
    }
}

/// How one attempt failed, as far as retrying cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The server answered with this reason (and maybe a Retry-After, in seconds).
    Answered {
        reason: Reason,
        retry_after_seconds: Option<u32>,
    },
    /// No connection could be opened (refused): the request never reached the server.
    NotSent,
    /// The connection broke, or the server went away, while the call was in flight: it
    /// may or may not have been executed.
    Broken,
}

/// The limits of retrying. `Client::with_retry_policy` sets another; [`RetryPolicy::none`]
/// turns retrying off.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (client-go's `maxRetries`: 10).
    pub max_retries: u32,
    /// The first back-off after a failed connection; it doubles with each retry.
    pub base_delay: Duration,
    /// The longest back-off between two attempts (before jitter).
    pub max_delay: Duration,
    /// Up to this fraction of a back-off is added at random, so that clients that failed
    /// together (an apiserver restart) do not come back together.
    pub jitter: f64,
    /// A server's Retry-After longer than this is cut to it.
    pub max_retry_after: Duration,
    /// Up to this fraction of a Retry-After is added at random.
    pub retry_after_jitter: f64,
    /// No retry starts once this much time has passed since the first attempt (or would
    /// have passed by the end of its delay): the last error is returned instead.
    pub max_elapsed: Duration,
}

impl Default for RetryPolicy {
    /// 10 retries within 30 s; back-off 200 ms doubling to 5 s, plus up to 50%.
    fn default() -> Self {
        RetryPolicy {
            max_retries: 10,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
            jitter: 0.5,
            max_retry_after: Duration::from_secs(10),
            retry_after_jitter: 0.2,
            max_elapsed: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// Every failure is returned at once.
    pub fn none() -> Self {
        RetryPolicy {
            max_retries: 0,
            ..Default::default()
        }
    }
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Wait this long, then send the request again.
    Retry { after: Duration, why: &'static str },
    /// Return the error to the caller.
    GiveUp,
}

/// The policy: after `retries` retries (0 after the first attempt), `elapsed` since the
/// first attempt, with `random` a draw from `[0, 1)` for the jitter.
pub fn decide(
    policy: &RetryPolicy,
    verb: Verb,
    failure: &Failure,
    retries: u32,
    elapsed: Duration,
    random: f64,
) -> Decision {
    if retries >= policy.max_retries {
        return Decision::GiveUp;
    }
    let random = if random.is_finite() {
        random.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let backoff = || {
        let d = exponential_delay(policy.base_delay, policy.max_delay, retries);
        d.mul_f64(1.0 + policy.jitter.clamp(0.0, 1.0) * random)
    };
    let (after, why) = match *failure {
        // Overload protection refused the request before running it.
        Failure::Answered {
            reason: Reason::TooManyRequests,
            retry_after_seconds: Some(secs),
        } if verb != Verb::Evict => (retry_after(policy, secs, random, backoff()), "throttled"),
        // client-go waits as told on any 5xx that carries a Retry-After.
        Failure::Answered {
            reason: Reason::Unavailable | Reason::Internal | Reason::Timeout,
            retry_after_seconds: Some(secs),
        } => (retry_after(policy, secs, random, backoff()), "retry-after"),
        // The apiserver is shutting down (or not ready): a read can go again.
        Failure::Answered {
            reason: Reason::Unavailable,
            retry_after_seconds: None,
        } if verb.is_read() => (backoff(), "unavailable"),
        Failure::NotSent => (backoff(), "connection refused"),
        Failure::Broken if verb.is_read() => (backoff(), "connection lost"),
        _ => return Decision::GiveUp,
    };
    if elapsed.saturating_add(after) > policy.max_elapsed {
        return Decision::GiveUp;
    }
    Decision::Retry { after, why }
}

/// The server's Retry-After (capped, plus a little jitter); a Retry-After of 0 gets the
/// back-off instead, so a server answering 0 is not hammered.
fn retry_after(policy: &RetryPolicy, secs: u32, random: f64, backoff: Duration) -> Duration {
    if secs == 0 {
        return backoff;
    }
    let d = Duration::from_secs(u64::from(secs)).min(policy.max_retry_after);
    d.mul_f64(1.0 + policy.retry_after_jitter.clamp(0.0, 1.0) * random)
}

/// How a failed gRPC call failed: a status the server sent, or one tonic made up for a
/// transport failure (it carries the transport error as its source).
pub(crate) fn classify(status: &tonic::Status) -> Failure {
    let Some(source) = std::error::Error::source(status) else {
        let e = proto::ApiError::from_status(status);
        return Failure::Answered {
            reason: e.reason,
            retry_after_seconds: e.retry_after_seconds,
        };
    };
    if refused(source) {
        return Failure::NotSent;
    }
    // A certificate the client does not trust will not become trusted by retrying.
    if is_tls_failure(&crate::connection::root_cause(source)) {
        return Failure::Answered {
            reason: Reason::Unavailable,
            retry_after_seconds: None,
        };
    }
    Failure::Broken
}

/// True when the chain of `e` holds a refused (or never opened) TCP connection.
fn refused(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if let Some(io) = err.downcast_ref::<std::io::Error>()
            && matches!(
                io.kind(),
                std::io::ErrorKind::ConnectionRefused | std::io::ErrorKind::AddrNotAvailable
            )
        {
            return true;
        }
        cur = err.source();
    }
    false
}

fn is_tls_failure(cause: &str) -> bool {
    crate::connection::explain(cause, true) != cause
        || cause.contains("certificate")
        || cause.contains("HandshakeFailure")
}

/// A draw from `[0, 1)` for the jitter.
pub(crate) fn random() -> f64 {
    use rand::Rng;
    rand::rng().random_range(0.0..1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ZERO: Duration = Duration::ZERO;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn answered(reason: Reason, retry_after_seconds: Option<u32>) -> Failure {
        Failure::Answered {
            reason,
            retry_after_seconds,
        }
    }

    fn after(d: Decision) -> Option<Duration> {
        match d {
            Decision::Retry { after, .. } => Some(after),
            Decision::GiveUp => None,
        }
    }

    const VERBS: [Verb; 8] = [
        Verb::Get,
        Verb::List,
        Verb::Watch,
        Verb::Create,
        Verb::Update,
        Verb::Patch,
        Verb::Delete,
        Verb::Evict,
    ];

    #[test]
    fn a_429_with_retry_after_waits_as_told_for_every_verb_but_an_eviction() {
        let p = RetryPolicy::default();
        let throttled = answered(Reason::TooManyRequests, Some(2));
        for verb in VERBS {
            let got = after(decide(&p, verb, &throttled, 0, ZERO, 0.0));
            if verb == Verb::Evict {
                assert_eq!(got, None, "a budget's refusal is ctl drain's to retry");
            } else {
                assert_eq!(got, Some(Duration::from_secs(2)), "{verb:?}");
            }
        }
        // Jitter adds at most its fraction; a huge Retry-After is capped.
        let most = after(decide(&p, Verb::Create, &throttled, 0, ZERO, 0.999)).unwrap();
        assert!(most > Duration::from_secs(2) && most < ms(2400), "{most:?}");
        let huge = answered(Reason::TooManyRequests, Some(3600));
        assert_eq!(
            after(decide(&p, Verb::Get, &huge, 0, ZERO, 0.0)),
            Some(p.max_retry_after)
        );
        // Retry-After 0: the back-off, not a hot loop.
        let now = answered(Reason::TooManyRequests, Some(0));
        assert_eq!(
            after(decide(&p, Verb::Get, &now, 3, ZERO, 0.0)),
            Some(ms(1600))
        );
    }

    #[test]
    fn a_429_without_retry_after_and_final_answers_are_given_up() {
        let p = RetryPolicy::default();
        for reason in [
            Reason::TooManyRequests,
            Reason::NotFound,
            Reason::Conflict,
            Reason::Invalid,
            Reason::Forbidden,
            Reason::Unauthorized,
            Reason::Expired,
            Reason::Internal,
            Reason::Timeout,
            Reason::TooLarge,
        ] {
            for verb in VERBS {
                assert_eq!(
                    decide(&p, verb, &answered(reason, None), 0, ZERO, 0.5),
                    Decision::GiveUp,
                    "{reason:?} {verb:?}"
                );
            }
        }
    }

    #[test]
    fn a_5xx_with_retry_after_is_retried_for_every_verb() {
        let p = RetryPolicy::default();
        for reason in [Reason::Unavailable, Reason::Internal, Reason::Timeout] {
            for verb in [Verb::Create, Verb::Delete, Verb::Get] {
                assert_eq!(
                    after(decide(&p, verb, &answered(reason, Some(1)), 0, ZERO, 0.0)),
                    Some(Duration::from_secs(1)),
                    "{reason:?} {verb:?}"
                );
            }
        }
    }

    #[test]
    fn a_refused_connection_backs_off_exponentially_for_every_verb() {
        let p = RetryPolicy::default();
        let delays: Vec<_> = (0..7)
            .map(|n| after(decide(&p, Verb::Create, &Failure::NotSent, n, ZERO, 0.0)).unwrap())
            .collect();
        assert_eq!(
            delays,
            [
                ms(200),
                ms(400),
                ms(800),
                ms(1600),
                ms(3200),
                ms(5000),
                ms(5000)
            ]
        );
        for verb in VERBS {
            assert!(after(decide(&p, verb, &Failure::NotSent, 0, ZERO, 0.0)).is_some());
        }
        // Jitter spreads clients: up to +50% here.
        let spread = after(decide(&p, Verb::Get, &Failure::NotSent, 2, ZERO, 0.999)).unwrap();
        assert!(spread > ms(1190) && spread < ms(1200), "{spread:?}");
    }

    #[test]
    fn a_broken_connection_or_a_server_shutting_down_is_retried_for_reads_only() {
        let p = RetryPolicy::default();
        let shutting_down = answered(Reason::Unavailable, None);
        for failure in [Failure::Broken, shutting_down] {
            for verb in VERBS {
                let retried = after(decide(&p, verb, &failure, 0, ZERO, 0.0)).is_some();
                assert_eq!(retried, verb.is_read(), "{failure:?} {verb:?}");
            }
        }
    }

    #[test]
    fn retries_are_bounded_in_number_and_time() {
        let p = RetryPolicy::default();
        assert!(after(decide(&p, Verb::Get, &Failure::NotSent, 9, ZERO, 0.0)).is_some());
        assert_eq!(
            decide(&p, Verb::Get, &Failure::NotSent, 10, ZERO, 0.0),
            Decision::GiveUp
        );
        // 29 s gone: a 5 s back-off would end past the 30 s budget.
        assert_eq!(
            decide(
                &p,
                Verb::Get,
                &Failure::NotSent,
                6,
                Duration::from_secs(29),
                0.0
            ),
            Decision::GiveUp
        );
        let none = RetryPolicy::none();
        assert_eq!(
            decide(&none, Verb::Get, &Failure::NotSent, 0, ZERO, 0.0),
            Decision::GiveUp
        );
        // The sum of every back-off the default allows stays within its time budget.
        let total: Duration = (0..p.max_retries)
            .map(|n| exponential_delay(p.base_delay, p.max_delay, n))
            .sum();
        assert!(total <= p.max_elapsed + p.max_delay, "{total:?}");
    }

    #[test]
    fn verbs_map_to_kubernetes_methods() {
        assert_eq!(Verb::Watch.method(), "GET");
        assert_eq!(Verb::Evict.method(), "POST");
        assert_eq!(Verb::Update.method(), "PUT");
        assert!(!Verb::Evict.is_read() && Verb::List.is_read());
    }

    #[test]
    fn statuses_are_classified_by_who_made_them() {
        let from_server: tonic::Status = proto::ApiError::new(Reason::TooManyRequests, "busy")
            .with_retry_after(3)
            .into();
        assert_eq!(
            classify(&from_server),
            answered(Reason::TooManyRequests, Some(3))
        );
        let refused = tonic::Status::from_error(Box::new(std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            "Connection refused (os error 111)",
        )));
        assert_eq!(classify(&refused), Failure::NotSent);
        let reset = tonic::Status::from_error(Box::new(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "Connection reset by peer",
        )));
        assert_eq!(classify(&reset), Failure::Broken);
        let untrusted = tonic::Status::from_error(Box::new(std::io::Error::other(
            "invalid peer certificate: UnknownIssuer",
        )));
        assert_eq!(classify(&untrusted), answered(Reason::Unavailable, None));
    }
}
