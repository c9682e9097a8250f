//! Kubernetes' limit without priority and fairness (`--enable-priority-and-fairness=false`):
//! at most `--max-requests-inflight` read-only and `--max-mutating-requests-inflight`
//! mutating requests at once (0: no limit), the rest refused at once with 429; long-running
//! requests and `system:masters` are not counted.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

pub(crate) struct InFlight {
    limit: u32,
    now: AtomicU32,
}

/// A place held; given back when dropped.
pub(crate) struct Place(Arc<InFlight>);

impl Drop for Place {
    fn drop(&mut self) {
        self.0.now.fetch_sub(1, Ordering::AcqRel);
    }
}

impl InFlight {
    /// None for no limit (0).
    pub fn new(limit: u32) -> Option<Arc<InFlight>> {
        (limit > 0).then(|| {
            Arc::new(InFlight {
                limit,
                now: AtomicU32::new(0),
            })
        })
    }

    /// A place, or None at the limit.
    pub fn enter(self: &Arc<Self>) -> Option<Place> {
        self.now
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.limit).then_some(n + 1)
            })
            .ok()
            .map(|_| Place(self.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_up_to_the_limit() {
        assert!(InFlight::new(0).is_none(), "0 is no limit");
        let l = InFlight::new(2).unwrap();
        let a = l.enter().unwrap();
        let _b = l.enter().unwrap();
        assert!(l.enter().is_none());
        drop(a);
        assert!(l.enter().is_some());
    }
}
