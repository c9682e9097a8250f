//! `apiserver_current_inflight_requests{request_kind}` as Kubernetes reports it: not the
//! number at scrape time but the most requests of each kind served at once during the last
//! second (a watermark kept with two atomics per kind, published every second by
//! `metrics::run`).

use super::METRICS;
use std::sync::atomic::{AtomicI64, Ordering};

struct Kind {
    label: &'static str,
    now: AtomicI64,
    /// The most at once since the last publication.
    peak: AtomicI64,
}

static READ_ONLY: Kind = Kind {
    label: "readOnly",
    now: AtomicI64::new(0),
    peak: AtomicI64::new(0),
};
static MUTATING: Kind = Kind {
    label: "mutating",
    now: AtomicI64::new(0),
    peak: AtomicI64::new(0),
};

/// A request being served; leaves the count when dropped.
pub struct Serving(&'static Kind);

pub fn enter(read_only: bool) -> Serving {
    let kind = if read_only { &READ_ONLY } else { &MUTATING };
    let now = kind.now.fetch_add(1, Ordering::Relaxed) + 1;
    kind.peak.fetch_max(now, Ordering::Relaxed);
    Serving(kind)
}

impl Drop for Serving {
    fn drop(&mut self) {
        self.0.now.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The watermark of the second that just ended; the next second starts from the number
/// in flight now.
pub(crate) fn publish() {
    for kind in [&READ_ONLY, &MUTATING] {
        let now = kind.now.load(Ordering::Relaxed);
        let peak = kind.peak.swap(now, Ordering::Relaxed).max(now);
        METRICS
            .inflight
            .get_or_create(&[("request_kind", kind.label)])
            .set(peak);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gauge_shows_the_peak_of_the_last_second() {
        let a = enter(false);
        let b = enter(false);
        // Held while published: another server of this test process publishing at the
        // same moment cannot take them out of the window either.
        publish();
        let peak = METRICS
            .inflight
            .get_or_create(&[("request_kind", "mutating")])
            .get();
        assert!(peak >= 2, "{peak}");
        drop((a, b));
    }
}
