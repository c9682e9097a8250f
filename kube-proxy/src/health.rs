//! Kubernetes' proxier health (`pkg/proxy/healthcheck/proxier_health.go`): the proxy is
//! unhealthy when a change has been waiting to be programmed for longer than the health
//! timeout (twice `--sync-period`), that is when syncs stopped succeeding. A proxy with
//! nothing queued is healthy however long ago it last synced; so is one still starting.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The verdict, pure: `oldest_pending` is when the oldest change not yet programmed was
/// queued (None: nothing waits).
pub fn verdict(
    oldest_pending: Option<Instant>,
    now: Instant,
    timeout: Duration,
) -> Result<(), String> {
    match oldest_pending {
        Some(queued) if now.saturating_duration_since(queued) > timeout => Err(format!(
            "a change queued {:?} ago is not programmed yet (timeout {timeout:?})",
            now.saturating_duration_since(queued)
        )),
        _ => Ok(()),
    }
}

/// Shared between the sync loop (which reports) and the health endpoint (which asks).
#[derive(Debug, Clone)]
pub struct ProxierHealth {
    oldest_pending: Arc<Mutex<Option<Instant>>>,
    timeout: Duration,
}

impl ProxierHealth {
    /// Kubernetes' timeout is twice the sync period.
    pub fn new(sync_period: Duration) -> Self {
        ProxierHealth {
            oldest_pending: Arc::default(),
            timeout: sync_period.saturating_mul(2),
        }
    }

    /// A change was queued (the oldest pending one is kept).
    pub fn queued(&self, now: Instant) {
        self.lock().get_or_insert(now);
    }

    /// A sync succeeded: everything queued before it is programmed.
    pub fn updated(&self) {
        *self.lock() = None;
    }

    pub fn check(&self, now: Instant) -> Result<(), String> {
        verdict(*self.lock(), now, self.timeout)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Instant>> {
        // The value is one Option written whole: a poisoned lock still holds a valid one.
        self.oldest_pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unhealthy_only_when_a_queued_change_waits_past_the_timeout() {
        let t0 = Instant::now();
        let h = ProxierHealth::new(Duration::from_secs(30));
        // Nothing queued: healthy however much time passes.
        assert!(h.check(t0 + Duration::from_secs(3600)).is_ok());
        h.queued(t0);
        // A later change does not move the oldest one.
        h.queued(t0 + Duration::from_secs(50));
        assert!(h.check(t0 + Duration::from_secs(60)).is_ok());
        let err = h.check(t0 + Duration::from_secs(61)).unwrap_err();
        assert!(err.contains("not programmed"), "{err}");
        h.updated();
        assert!(h.check(t0 + Duration::from_secs(600)).is_ok());
        // A clock read before the queueing (another thread) is not a failure.
        h.queued(t0 + Duration::from_secs(700));
        assert!(h.check(t0).is_ok());
    }
}
