//! Exponential back-off with jitter, shared by the informer, leader election and daemons.
//! Jitter spreads retries of many clients that failed together (an apiserver restart) so
//! they do not all come back in the same instant.

use rand::Rng;
use std::time::{Duration, Instant};

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

/// Stateful back-off: each `next_delay` doubles, `reset` after a success (or by itself
/// after a quiet period, `with_reset_after`).
#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    max: Duration,
    /// Fraction of the delay added at random, in `[0, 1]`.
    jitter: f64,
    attempt: u32,
    /// Back to `base` when the last delay was asked for at least this long ago.
    reset_after: Option<Duration>,
    last: Option<Instant>,
}

impl Backoff {
    /// No jitter until `with_jitter`; delays are exact, which tests rely on.
    pub fn new(base: Duration, max: Duration) -> Self {
        Backoff {
            base,
            max: max.max(base),
            jitter: 0.0,
            attempt: 0,
            reset_after: None,
            last: None,
        }
    }

    /// The informer's default, client-go's reflector back-off: 800ms doubling to 30s, each
    /// delay plus up to 100% at random (so the first relist after an apiserver restart is
    /// spread over 0.8 to 1.6 s), back to 800ms after 2 minutes without a failure.
    pub fn default_watch() -> Self {
        Backoff::new(Duration::from_millis(800), Duration::from_secs(30))
            .with_jitter(1.0)
            .with_reset_after(Duration::from_secs(120))
    }

    /// Starts again from `base` when no delay was asked for during `quiet` (client-go's
    /// `ExponentialBackoffManager` resetDuration).
    pub fn with_reset_after(mut self, quiet: Duration) -> Self {
        self.reset_after = Some(quiet);
        self
    }

    pub fn reset_after(&self) -> Option<Duration> {
        self.reset_after
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
        self.next_delay_at(Instant::now())
    }

    /// `next_delay` asked for at `now` (which decides whether the quiet period has reset
    /// the back-off).
    pub fn next_delay_at(&mut self, now: Instant) -> Duration {
        if let (Some(quiet), Some(last)) = (self.reset_after, self.last)
            && now.saturating_duration_since(last) >= quiet
        {
            self.attempt = 0;
        }
        self.last = Some(now);
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
    fn a_quiet_period_resets_the_back_off() {
        let ms = Duration::from_millis;
        let t0 = Instant::now();
        let mut b = Backoff::new(ms(800), ms(30_000)).with_reset_after(ms(120_000));
        assert_eq!(b.next_delay_at(t0), ms(800));
        assert_eq!(b.next_delay_at(t0 + ms(1_000)), ms(1600));
        // Less than two minutes after the last failure: still growing.
        assert_eq!(b.next_delay_at(t0 + ms(110_000)), ms(3200));
        // Two minutes without one: from the start again.
        assert_eq!(b.next_delay_at(t0 + ms(230_000)), ms(800));
        let mut never = Backoff::new(ms(800), ms(30_000));
        never.next_delay_at(t0);
        assert_eq!(never.next_delay_at(t0 + ms(3_600_000)), ms(1600));
    }

    #[test]
    fn the_watch_default_spreads_a_herd_over_the_first_delay_doubled() {
        // A thousand informers that lost the apiserver together relist over [0.8, 1.6) s,
        // not in the same instant.
        let ms = Duration::from_millis;
        let firsts: Vec<Duration> = (0..1000)
            .map(|_| Backoff::default_watch().next_delay())
            .collect();
        let (min, max) = (*firsts.iter().min().unwrap(), *firsts.iter().max().unwrap());
        assert!(min >= ms(800) && max <= ms(1600), "{min:?}..{max:?}");
        assert!(max - min > ms(600), "spread {min:?}..{max:?}");
        // No 100 ms slot holds more than a third of them.
        let mut slots = [0usize; 9];
        for d in &firsts {
            slots[((d.as_millis() - 800) / 100).min(8) as usize] += 1;
        }
        assert!(slots.iter().all(|&n| n < 334), "{slots:?}");
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
