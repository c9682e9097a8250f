//! Events expire (Kubernetes' `--event-ttl`, 1 h by default). Kubernetes stores each Event
//! with an etcd lease of that TTL; sled has no leases, so a background task sweeps: every
//! period it lists Events a page at a time and deletes those whose last write
//! (`lastTimestamp`, else `eventTime`, else creation) is older than the TTL. Deletions go
//! through the registry with the listed resourceVersion as precondition (an Event a
//! recorder just raised the count of is kept), and are paced so a backlog does not hammer
//! the store.

use crate::registry::Registry;
use crate::store::Store;
use proto::Resource;
use proto::k8s::{DeleteRequest, Event, ListRequest, Preconditions};
use std::time::{Duration, SystemTime};
use tokio::sync::watch;

/// Events per list page and per burst of deletions.
const PAGE: i64 = 100;
/// Pause between two bursts of deletions.
const BURST_PAUSE: Duration = Duration::from_millis(100);

/// How often the sweep runs for `ttl`: a sixtieth of it, between 1 s and 1 min, so an
/// Event outlives its TTL by at most that.
pub fn sweep_period(ttl: Duration) -> Duration {
    (ttl / 60).clamp(Duration::from_secs(1), Duration::from_secs(60))
}

/// When the Event was last written.
pub fn last_write(ev: &Event) -> Option<SystemTime> {
    [
        ev.last_timestamp.as_str(),
        ev.event_time.as_str(),
        ev.series
            .as_ref()
            .map(|s| s.last_observed_time.as_str())
            .unwrap_or(""),
        ev.metadata
            .as_ref()
            .map(|m| m.creation_timestamp.as_str())
            .unwrap_or(""),
    ]
    .into_iter()
    .filter_map(proto::time::parse_rfc3339)
    .max()
}

/// True when the Event has outlived `ttl` at `now`. An Event with no time at all is kept
/// (the store always stamps creation, so that does not happen).
pub fn expired(ev: &Event, ttl: Duration, now: SystemTime) -> bool {
    last_write(ev).is_some_and(|t| now.duration_since(t).is_ok_and(|age| age > ttl))
}

/// One sweep: deletes the expired Events; returns how many.
pub async fn sweep<S: Store>(registry: &Registry<S>, ttl: Duration) -> u64 {
    let mut deleted = 0;
    let mut cont = String::new();
    loop {
        let page = match registry
            .list(&ListRequest {
                resource: "events".into(),
                limit: PAGE,
                r#continue: cont.clone(),
                ..Default::default()
            })
            .await
        {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(error = %e, "listing events for expiry failed");
                return deleted;
            }
        };
        let now = SystemTime::now();
        let mut burst = 0;
        for obj in page.items {
            let Ok(ev) = Event::try_from_object(obj) else {
                continue;
            };
            if !expired(&ev, ttl, now) {
                continue;
            }
            let meta = ev.meta();
            let r = registry
                .delete(&DeleteRequest {
                    resource: "events".into(),
                    namespace: meta.namespace.clone(),
                    name: meta.name.clone(),
                    preconditions: Some(Preconditions {
                        uid: meta.uid.clone(),
                        resource_version: meta.resource_version.clone(),
                    }),
                    ..Default::default()
                })
                .await;
            match r {
                Ok(_) => {
                    deleted += 1;
                    burst += 1;
                }
                // Rewritten or gone since the list: the next sweep decides.
                Err(e) => {
                    tracing::debug!(event = %format!("{}/{}", meta.namespace, meta.name), error = %e, "expiring an event skipped")
                }
            }
        }
        if burst > 0 {
            tokio::time::sleep(BURST_PAUSE).await;
        }
        if page.r#continue.is_empty() {
            return deleted;
        }
        cont = page.r#continue;
    }
}

/// Sweeps every `sweep_period(ttl)` until `stop` turns true.
pub async fn run<S: Store>(registry: Registry<S>, ttl: Duration, mut stop: watch::Receiver<bool>) {
    let period = sweep_period(ttl);
    tracing::info!(ttl = ?ttl, period = ?period, "event expiry running");
    loop {
        tokio::select! {
            _ = stop.wait_for(|s| *s) => return,
            _ = tokio::time::sleep(period) => {}
        }
        let n = sweep(&registry, ttl).await;
        if n > 0 {
            tracing::info!(deleted = n, "expired events deleted");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::k8s::{EventSeries, ObjectMeta};

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + secs)
    }

    fn ts(secs: u64) -> String {
        proto::time::format_rfc3339(at(secs))
    }

    #[test]
    fn the_latest_of_the_timestamps_counts() {
        let hour = Duration::from_secs(3600);
        let mut ev = Event {
            metadata: Some(ObjectMeta {
                creation_timestamp: ts(0),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert!(!expired(&ev, hour, at(3600)));
        assert!(expired(&ev, hour, at(3601)));
        // A repeat raised the count at 3000 s: kept until 6600 s.
        ev.last_timestamp = ts(3000);
        assert!(!expired(&ev, hour, at(6600)));
        assert!(expired(&ev, hour, at(6601)));
        ev.series = Some(EventSeries {
            count: 3,
            last_observed_time: ts(5000),
        });
        assert!(!expired(&ev, hour, at(8000)));
        assert!(
            !expired(&Event::default(), hour, at(100_000)),
            "no time: kept"
        );
    }

    #[test]
    fn periods_and_durations() {
        assert_eq!(
            sweep_period(Duration::from_secs(3600)),
            Duration::from_secs(60)
        );
        assert_eq!(sweep_period(Duration::from_secs(2)), Duration::from_secs(1));
        // --event-ttl's parser.
        use proto::duration::parse_flag as parse_duration;
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert!(parse_duration("1d").is_err());
        assert!(parse_duration("h").is_err());
        assert!(parse_duration("").is_err());
    }
}
