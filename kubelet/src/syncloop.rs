//! The kubelet's `syncloop` health check, as Kubernetes' `SyncLoopHealthCheck`: the main
//! loop (pod events, the orphan sweep, node routes) notes each time it goes round; once it
//! has started, `/healthz` fails when it has not gone round for twice the sync frequency,
//! at least 5 minutes (a loop stuck on the runtime).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use telemetry::health::{Health, Probe};

/// Kubernetes' floor of the allowed quiet time.
pub const MIN_QUIET: Duration = Duration::from_secs(300);

/// When the loop last went round (milliseconds since the epoch; 0: not started).
#[derive(Debug, Clone, Default)]
pub struct SyncLoopMonitor(Arc<AtomicU64>);

fn millis(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

impl SyncLoopMonitor {
    pub fn entered(&self, now: SystemTime) {
        self.0.store(millis(now).max(1), Ordering::Relaxed);
    }

    pub fn last(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// The check: Ok before the loop started and while it goes round often enough.
pub fn check(last_ms: u64, now: SystemTime, resync: Duration) -> Result<(), String> {
    if last_ms == 0 {
        return Ok(());
    }
    let allowed = (resync * 2).max(MIN_QUIET);
    let quiet = Duration::from_millis(millis(now).saturating_sub(last_ms));
    if quiet > allowed {
        return Err(format!(
            "sync Loop took longer than expected: last went round {quiet:?} ago (allowed {allowed:?})"
        ));
    }
    Ok(())
}

/// The kubelet's checks: `ping` and `syncloop`.
pub fn health(monitor: SyncLoopMonitor, resync: Duration) -> Health {
    let health = Health::new();
    health.add_check("syncloop", Probe::Livez, move || {
        check(monitor.last(), SystemTime::now(), resync)
    });
    health
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quiet_loop_fails_after_twice_the_sync_frequency_and_at_least_5_minutes() {
        let t0 = UNIX_EPOCH + Duration::from_secs(1_000_000);
        let last = millis(t0);
        let resync = Duration::from_secs(1);
        assert!(check(0, t0 + Duration::from_secs(3600), resync).is_ok());
        assert!(check(last, t0 + Duration::from_secs(299), resync).is_ok());
        assert!(check(last, t0 + Duration::from_secs(301), resync).is_err());
        let slow = Duration::from_secs(600);
        assert!(check(last, t0 + Duration::from_secs(1199), slow).is_ok());
        assert!(check(last, t0 + Duration::from_secs(1201), slow).is_err());
        let m = SyncLoopMonitor::default();
        m.entered(t0);
        assert_eq!(m.last(), last);
    }
}
