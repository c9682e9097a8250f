//! Kubernetes' ControllerExpectations (with UID tracking for deletions): after a controller
//! issues creates or deletes for an owner, it records how many pods it expects to see
//! appear and which ones it expects to see go, and does not act for that owner again until
//! its informer has observed them (or the record expired). So a cache that lags behind the
//! controller's own writes never makes it create or delete twice.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// Kubernetes' ExpectationsTimeout: a record older than this is ignored (a lost watch
/// event must not wedge an owner for ever).
pub const EXPECTATIONS_TIMEOUT: Duration = Duration::from_secs(5 * 60);

#[derive(Debug, Clone)]
struct Record {
    adds: i64,
    dels: HashSet<String>,
    at: Instant,
}

#[derive(Debug, Default)]
pub struct Expectations {
    records: Mutex<HashMap<String, Record>>,
}

impl Expectations {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Record>> {
        self.records.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// True when the owner may act: nothing outstanding, no record, or an expired one.
    pub fn satisfied(&self, owner: &str) -> bool {
        match self.lock().get(owner) {
            None => true,
            Some(r) => (r.adds <= 0 && r.dels.is_empty()) || r.at.elapsed() > EXPECTATIONS_TIMEOUT,
        }
    }

    /// Expects `n` pods to appear (replaces the owner's record).
    pub fn expect_creations(&self, owner: &str, n: usize) {
        self.lock().insert(
            owner.to_string(),
            Record {
                adds: i64::try_from(n).unwrap_or(i64::MAX),
                dels: HashSet::new(),
                at: Instant::now(),
            },
        );
    }

    /// Expects these pods (by key) to go (replaces the owner's record).
    pub fn expect_deletions(&self, owner: &str, pods: impl IntoIterator<Item = String>) {
        self.lock().insert(
            owner.to_string(),
            Record {
                adds: 0,
                dels: pods.into_iter().collect(),
                at: Instant::now(),
            },
        );
    }

    /// One expected pod appeared (or a create failed, so it never will).
    pub fn creation_observed(&self, owner: &str) {
        if let Some(r) = self.lock().get_mut(owner) {
            r.adds -= 1;
        }
    }

    /// The pod went or is going (or its delete failed).
    pub fn deletion_observed(&self, owner: &str, pod: &str) {
        if let Some(r) = self.lock().get_mut(owner) {
            r.dels.remove(pod);
        }
    }

    /// Forgets the owner (it was deleted).
    pub fn delete(&self, owner: &str) {
        self.lock().remove(owner);
    }

    /// Outstanding (creations, deletions) for an owner; for tests and logs.
    pub fn pending(&self, owner: &str) -> (i64, usize) {
        self.lock()
            .get(owner)
            .map_or((0, 0), |r| (r.adds.max(0), r.dels.len()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn expectations_block_until_observed_or_expired() {
        let e = Expectations::new();
        assert!(e.satisfied("ns/rs"));
        e.expect_creations("ns/rs", 2);
        assert!(!e.satisfied("ns/rs"));
        e.creation_observed("ns/rs");
        assert!(!e.satisfied("ns/rs"));
        e.creation_observed("ns/rs");
        assert!(e.satisfied("ns/rs"));

        e.expect_deletions("ns/rs", ["ns/a".to_string(), "ns/b".to_string()]);
        e.deletion_observed("ns/rs", "ns/a");
        e.deletion_observed("ns/rs", "ns/a");
        assert!(!e.satisfied("ns/rs"), "observing one pod twice counts once");
        assert_eq!(e.pending("ns/rs"), (0, 1));
        tokio::time::advance(EXPECTATIONS_TIMEOUT + Duration::from_secs(1)).await;
        assert!(e.satisfied("ns/rs"), "a record expires");
        e.delete("ns/rs");
        assert_eq!(e.pending("ns/rs"), (0, 0));
    }
}
