//! Wall-clock time behind a trait, so leases, deadlines, heartbeats and timestamps written
//! into objects can be tested without waiting: daemons pass `SystemClock`, tests a
//! `FakeClock` they move by hand. Timers and sleeps stay on tokio's clock (pausable with
//! `tokio::time::pause()`); this one is for the times that are compared with stamps in
//! objects (`creationTimestamp`, `lastHeartbeatTime`, `renewTime`).

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// Wall-clock time; injected so tests can move it.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> SystemTime;
}

/// The machine's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock that moves only when told (`set`, `advance`). Clones share one time.
#[derive(Debug, Clone)]
pub struct FakeClock(Arc<Mutex<SystemTime>>);

impl FakeClock {
    pub fn new(now: SystemTime) -> Self {
        FakeClock(Arc::new(Mutex::new(now)))
    }

    /// Starts at the machine's time now, then moves only when told.
    pub fn starting_now() -> Self {
        Self::new(SystemTime::now())
    }

    pub fn set(&self, now: SystemTime) {
        *self.lock() = now;
    }

    pub fn advance(&self, by: Duration) {
        let mut t = self.lock();
        *t += by;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SystemTime> {
        // A poisoned lock still holds a valid time.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Clock for FakeClock {
    fn now(&self) -> SystemTime {
        *self.lock()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    #[test]
    fn a_fake_clock_moves_only_when_told_and_clones_share_it() {
        let t0 = UNIX_EPOCH + Duration::from_secs(1_000);
        let clock = FakeClock::new(t0);
        let shared = clock.clone();
        assert_eq!(clock.now(), t0);
        shared.advance(Duration::from_secs(5));
        assert_eq!(clock.now(), t0 + Duration::from_secs(5));
        clock.set(t0);
        assert_eq!(shared.now(), t0);
    }
}
