//! When to renew a certificate: client-go's certificate manager picks a deadline between 70%
//! and 90% of the certificate's lifetime (a jittered point, so a fleet of kubelets whose
//! certificates were issued together does not renew in one burst).

use std::time::{Duration, SystemTime};

/// The fraction of the lifetime before which a certificate is never renewed.
pub const MIN_FRACTION: f64 = 0.7;
/// The width of the jittered window after [`MIN_FRACTION`].
pub const JITTER_FRACTION: f64 = 0.2;

/// `not_before + lifetime * (0.7 + 0.2 * jitter)`; `jitter` is clamped to [0, 1]. A
/// certificate whose not_after is not after its not_before is due at once (at not_before).
pub fn rotation_deadline(not_before: SystemTime, not_after: SystemTime, jitter: f64) -> SystemTime {
    let Ok(total) = not_after.duration_since(not_before) else {
        return not_before;
    };
    let jitter = if jitter.is_finite() {
        jitter.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let fraction = MIN_FRACTION + JITTER_FRACTION * jitter;
    not_before + total.mul_f64(fraction)
}

/// A fresh jitter for [`rotation_deadline`].
pub fn random_jitter() -> f64 {
    rand::random::<f64>()
}

/// How long to wait from `now` until `deadline` (zero when it has passed).
pub fn until(deadline: SystemTime, now: SystemTime) -> Duration {
    deadline.duration_since(now).unwrap_or(Duration::ZERO)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: Duration = Duration::from_secs(86_400);

    /// Fractions of a lifetime are floating point: equal to the millisecond.
    fn close(a: SystemTime, b: SystemTime) -> bool {
        let d = a
            .duration_since(b)
            .or_else(|_| b.duration_since(a))
            .unwrap();
        d < Duration::from_millis(1)
    }

    #[test]
    fn deadline_is_between_70_and_90_percent_of_the_lifetime() {
        let nb = SystemTime::UNIX_EPOCH + DAY * 1000;
        let na = nb + DAY * 100;
        assert!(close(rotation_deadline(nb, na, 0.0), nb + DAY * 70));
        assert!(close(rotation_deadline(nb, na, 1.0), nb + DAY * 90));
        assert!(close(rotation_deadline(nb, na, 0.5), nb + DAY * 80));
        for _ in 0..100 {
            let d = rotation_deadline(nb, na, random_jitter());
            assert!(d >= nb + DAY * 70 && d <= nb + DAY * 90, "{d:?}");
        }
    }

    #[test]
    fn out_of_range_jitter_is_clamped_and_inverted_validity_is_due_at_once() {
        let nb = SystemTime::UNIX_EPOCH + DAY;
        let na = nb + DAY * 10;
        assert!(close(rotation_deadline(nb, na, 7.0), nb + DAY * 9));
        assert!(close(rotation_deadline(nb, na, -1.0), nb + DAY * 7));
        assert!(close(rotation_deadline(nb, na, f64::NAN), nb + DAY * 7));
        assert!(close(rotation_deadline(na, nb, 0.5), na));
    }

    #[test]
    fn until_is_zero_once_passed() {
        let t = SystemTime::UNIX_EPOCH + DAY;
        assert_eq!(until(t, t + DAY), Duration::ZERO);
        assert_eq!(until(t + DAY, t), DAY);
    }
}
