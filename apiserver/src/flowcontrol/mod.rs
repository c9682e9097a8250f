//! Overload protection, after Kubernetes' API Priority and Fairness: every request is
//! classified by who makes it and what it does into one of the built-in priority levels
//! ([`classify`]); each level serves at most its share of the server's seats and queues the
//! rest fairly per flow ([`fair_queue`], [`level`]), refusing with 429 and Retry-After what
//! its queues cannot hold or what waits too long; and a request has a deadline (Kubernetes'
//! `--request-timeout`, or the gRPC client's own when shorter) past which it is answered
//! 504 ([`layer`]). Watches take a seat only until they are established; exec, attach,
//! port-forward, proxy and logs are not limited, as in Kubernetes. With priority and
//! fairness off, Kubernetes' plain in-flight limits apply instead ([`max_inflight`]).

pub mod classify;
pub mod fair_queue;
pub mod layer;
pub(crate) mod level;
pub(crate) mod max_inflight;
pub mod metrics;

use std::sync::Arc;
use std::time::Duration;

pub use layer::FlowControlLayer;

use classify::Level;
use level::LevelState;

/// The flags that shape flow control (Kubernetes' names and defaults).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// `--enable-priority-and-fairness`: without it, Kubernetes' plain limits of read-only
    /// and mutating requests in flight apply.
    pub enabled: bool,
    pub max_requests_inflight: u32,
    pub max_mutating_requests_inflight: u32,
    /// Seats shared by the limited levels: `--max-requests-inflight` +
    /// `--max-mutating-requests-inflight`.
    pub total_seats: u32,
    /// `--request-timeout`.
    pub request_timeout: Duration,
}

impl Options {
    pub fn new(
        enabled: bool,
        max_requests_inflight: u32,
        max_mutating_requests_inflight: u32,
        request_timeout: Duration,
    ) -> Result<Options, String> {
        let total_seats = max_requests_inflight.saturating_add(max_mutating_requests_inflight);
        if enabled && total_seats == 0 {
            return Err("--max-requests-inflight plus --max-mutating-requests-inflight must be positive with --enable-priority-and-fairness".into());
        }
        if request_timeout.is_zero() {
            return Err("--request-timeout must be positive".into());
        }
        Ok(Options {
            enabled,
            max_requests_inflight,
            max_mutating_requests_inflight,
            total_seats,
            request_timeout,
        })
    }

    /// How long a request may wait in a queue: a quarter of the request timeout, as
    /// Kubernetes derives it (15 s by default).
    pub fn wait_limit(&self) -> Duration {
        self.request_timeout / 4
    }
}

/// The levels of one server.
pub struct FlowControl {
    levels: Vec<Arc<LevelState>>,
}

impl FlowControl {
    pub fn new(total_seats: u32) -> FlowControl {
        let seats = classify::nominal_seats(total_seats);
        let levels = Level::ALL
            .iter()
            .map(|l| {
                let queuing = l.spec().and_then(|s| s.queuing);
                LevelState::new(*l, seats[l.index()], queuing)
            })
            .collect();
        FlowControl { levels }
    }

    pub(crate) fn level(&self, level: Level) -> &Arc<LevelState> {
        &self.levels[level.index()]
    }

    /// (executing, waiting) requests of `level` now.
    pub fn load(&self, level: Level) -> (u32, u32) {
        let l = self.level(level);
        (l.executing(), l.waiting())
    }

    pub fn seats(&self, level: Level) -> u32 {
        self.level(level).seats()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_are_checked() {
        let t = Duration::from_secs(60);
        let o = Options::new(true, 400, 200, t).unwrap();
        assert_eq!(o.total_seats, 600);
        assert_eq!(o.wait_limit(), Duration::from_secs(15));
        assert!(
            Options::new(true, 0, 0, t)
                .unwrap_err()
                .contains("positive")
        );
        assert!(Options::new(false, 0, 0, t).is_ok());
        assert!(Options::new(true, 1, 0, Duration::ZERO).is_err());
        use clap::Parser;
        let c = crate::server::Config::try_parse_from(["apiserver"]).unwrap();
        assert_eq!(
            (c.max_requests_inflight, c.max_mutating_requests_inflight),
            (400, 200)
        );
        assert!(c.enable_priority_and_fairness);
        assert_eq!(c.request_timeout, t);
        let c = crate::server::Config::try_parse_from([
            "apiserver",
            "--max-requests-inflight=10",
            "--max-mutating-requests-inflight",
            "5",
            "--enable-priority-and-fairness=false",
            "--request-timeout",
            "30s",
        ])
        .unwrap();
        assert_eq!(
            (c.max_requests_inflight, c.max_mutating_requests_inflight),
            (10, 5)
        );
        assert!(!c.enable_priority_and_fairness);
        assert_eq!(c.request_timeout, Duration::from_secs(30));
        let fc = FlowControl::new(600);
        assert_eq!(fc.seats(Level::GlobalDefault), 49);
        assert_eq!(fc.load(Level::System), (0, 0));
    }
}
