//! Restart back-off of crashing containers (and of failing image pulls): 10s doubling to
//! 5 minutes, forgotten after 10 minutes without a failure, as Kubernetes' kubelet does.
//! Pure: callers pass the time.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

pub const INITIAL: Duration = Duration::from_secs(10);
pub const MAX: Duration = Duration::from_secs(300);
/// An entry untouched this long starts over at `INITIAL`.
pub const RESET_AFTER: Duration = Duration::from_secs(600);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    delay: Duration,
    last_update: SystemTime,
}

#[derive(Debug, Clone)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    reset_after: Duration,
    entries: HashMap<String, Entry>,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff::new(INITIAL, MAX, RESET_AFTER)
    }
}

impl Backoff {
    pub fn new(initial: Duration, max: Duration, reset_after: Duration) -> Self {
        Backoff {
            initial,
            max,
            reset_after,
            entries: HashMap::new(),
        }
    }

    /// Records an attempt at `now`: the first gets `initial`, later ones double up to `max`;
    /// an entry idle for `reset_after` starts over.
    pub fn next(&mut self, key: &str, now: SystemTime) {
        let delay = match self.entries.get(key) {
            Some(e) if !self.expired(e, now) => (e.delay * 2).min(self.max),
            _ => self.initial,
        };
        self.entries.insert(
            key.to_string(),
            Entry {
                delay,
                last_update: now,
            },
        );
    }

    fn expired(&self, e: &Entry, now: SystemTime) -> bool {
        now.duration_since(e.last_update).unwrap_or_default() >= self.reset_after
    }

    /// The current delay for `key`, if it has one that has not expired.
    pub fn delay(&self, key: &str, now: SystemTime) -> Option<Duration> {
        self.entries
            .get(key)
            .filter(|e| !self.expired(e, now))
            .map(|e| e.delay)
    }

    /// True while `now` is within the current delay counted from `since` (when the
    /// container last finished): the restart must wait.
    pub fn in_backoff_since(&self, key: &str, since: SystemTime, now: SystemTime) -> bool {
        match self.delay(key, now) {
            Some(d) => now.duration_since(since).unwrap_or_default() < d,
            None => false,
        }
    }

    /// How long until the back-off from `since` ends (zero when it has).
    pub fn remaining(&self, key: &str, since: SystemTime, now: SystemTime) -> Duration {
        match self.delay(key, now) {
            Some(d) => d.saturating_sub(now.duration_since(since).unwrap_or_default()),
            None => Duration::ZERO,
        }
    }

    pub fn forget(&mut self, key: &str) {
        self.entries.remove(key);
    }

    /// Drops entries whose key starts with `prefix` (a pod's uid).
    pub fn forget_prefix(&mut self, prefix: &str) {
        self.entries.retain(|k, _| !k.starts_with(prefix));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000 + secs)
    }

    #[test]
    fn doubles_from_ten_seconds_to_five_minutes() {
        let mut b = Backoff::default();
        let mut got = Vec::new();
        for i in 0..8 {
            b.next("c", t(i));
            got.push(b.delay("c", t(i)).unwrap().as_secs());
        }
        assert_eq!(got, vec![10, 20, 40, 80, 160, 300, 300, 300]);
    }

    #[test]
    fn in_backoff_only_within_the_delay_since_the_finish() {
        let mut b = Backoff::default();
        assert!(!b.in_backoff_since("c", t(0), t(0)), "no entry: no wait");
        b.next("c", t(0));
        assert!(b.in_backoff_since("c", t(0), t(9)));
        assert!(!b.in_backoff_since("c", t(0), t(10)));
        assert_eq!(b.remaining("c", t(0), t(4)), Duration::from_secs(6));
        assert!(!b.in_backoff_since("other", t(0), t(1)));
    }

    #[test]
    fn resets_after_ten_minutes_without_a_failure() {
        let mut b = Backoff::default();
        for i in 0..5 {
            b.next("c", t(i));
        }
        assert_eq!(b.delay("c", t(5)), Some(Duration::from_secs(160)));
        assert_eq!(b.delay("c", t(4 + 600)), None);
        b.next("c", t(4 + 600));
        assert_eq!(b.delay("c", t(4 + 600)), Some(INITIAL));
    }

    #[test]
    fn forget_prefix_drops_one_pods_entries() {
        let mut b = Backoff::default();
        b.next("uid1/a", t(0));
        b.next("uid1/b", t(0));
        b.next("uid2/a", t(0));
        b.forget_prefix("uid1/");
        assert!(b.delay("uid1/a", t(1)).is_none() && b.delay("uid1/b", t(1)).is_none());
        assert!(b.delay("uid2/a", t(1)).is_some());
    }
}
