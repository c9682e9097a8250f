//! Exponential back-off with jitter, shared by the informer, leader election and daemons.
//! Jitter spreads retries of many clients that failed together (an apiserver restart) so
//! they do not all come back in the same instant.

use rand::Rng;
use std::time::Duration;

/// The delay before attempt `attempt` (0-based): `base * 2^attempt`, capped at `max`.
/// Pure, so the doubling can be tested and reused (the work queue's per-item limiter).
pub fn exponential_delay(base: Duration, max: Duration, attempt: u32) -> Duration {
    // 2^63 nanoseconds already exceeds any sensible max; clamp the shift to avoid overflow.
    let factor = 1u64.checked_shl(attempt.min(63)).unwrap_or(u64::MAX);
    let nanos = (base.as_nanos()).saturating_mul(u128::from(factor));
    if nanos >= max.as_nanos() {
        max
    } else {
        Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
    }
}

/// Stateful back-off: each `next_delay` doubles, `reset` after a success.
#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    max: Duration,
    /// Fraction of the delay added at random, in `[0, 1]`.
    jitter: f64,
    attempt: u32,
}

impl Backoff {
    /// No jitter until `with_jitter`; delays are exact, which tests rely on.
    pub fn new(base: Duration, max: Duration) -> Self {
        Backoff {
            base,
            max: max.max(base),
            jitter: 0.0,
            attempt: 0,
        }
    }

    /// The informer's default: 200ms doubling to 30s, up to 20% jitter.
    pub fn default_watch() -> Self {
        Backoff::new(Duration::from_millis(200), Duration::from_secs(30)).with_jitter(0.2)
    }

    /// Adds up to `fraction` of each delay at random (clamped to `[0, 1]`). The result may
    /// exceed `max` by that fraction, as client-go's `wait.Jitter` does.
    pub fn with_jitter(mut self, fraction: f64) -> Self {
        self.jitter = if fraction.is_finite() {
            fraction.clamp(0.0, 1.0)
        } else {
            0.0
        };
        self
    }

    /// The delay to wait now; the next call returns twice as much (up to `max`).
    pub fn next_delay(&mut self) -> Duration {
        let d = exponential_delay(self.base, self.max, self.attempt);
        self.attempt = self.attempt.saturating_add(1);
        if self.jitter > 0.0 {
            let extra = rand::rng().random_range(0.0..=self.jitter);
            d.mul_f64(1.0 + extra)
        } else {
            d
        }
    }

    /// Failures since the last reset.
    pub fn attempts(&self) -> u32 {
        self.attempt
    }

    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_max() {
        let ms = Duration::from_millis;
        let mut b = Backoff::new(ms(200), ms(1000));
        let got: Vec<_> = (0..5).map(|_| b.next_delay()).collect();
        assert_eq!(got, vec![ms(200), ms(400), ms(800), ms(1000), ms(1000)]);
        assert_eq!(b.attempts(), 5);
        b.reset();
        assert_eq!(b.next_delay(), ms(200));
    }

    #[test]
    fn huge_attempt_counts_do_not_overflow() {
        let max = Duration::from_secs(1000);
        assert_eq!(exponential_delay(Duration::from_millis(5), max, 200), max);
        assert_eq!(
            exponential_delay(Duration::from_millis(5), max, 0),
            Duration::from_millis(5)
        );
    }

    #[test]
    fn jitter_stays_within_its_fraction() {
        let ms = Duration::from_millis;
        for _ in 0..100 {
            let mut b = Backoff::new(ms(100), ms(1000)).with_jitter(0.5);
            let d = b.next_delay();
            assert!(d >= ms(100) && d <= ms(150), "{d:?}");
        }
    }
}
