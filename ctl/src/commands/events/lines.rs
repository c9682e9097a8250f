//! How kubectl shows an Event in a line (pure; `now` passed in): its interval
//! (`2m (x27 over 5m)` for a repeated event, its age otherwise), the time it sorts by, and,
//! for `describe`, the merging of separate Event objects that say the same thing.

use crate::jv::{i64_at, str_at};
use proto::printers::age::age;
use proto::time::{format_rfc3339, parse_rfc3339};
use serde_json::Value;
use std::time::SystemTime;

fn has_series(e: &Value) -> bool {
    e.get("series").is_some_and(|s| !s.is_null())
}

/// When the event was first seen: `eventTime` (events.k8s.io), else `firstTimestamp`.
pub fn first_seen(e: &Value) -> &str {
    match str_at(e, "/eventTime") {
        "" => str_at(e, "/firstTimestamp"),
        t => t,
    }
}

/// The time kubectl sorts by (its `eventTime` for sorting): the series' last observation,
/// else `lastTimestamp`, else `eventTime`; the first time seen when none is set.
pub fn sort_time(e: &Value) -> Option<SystemTime> {
    let t = if has_series(e) {
        str_at(e, "/series/lastObservedTime")
    } else {
        match str_at(e, "/lastTimestamp") {
            "" => first_seen(e),
            t => t,
        }
    };
    parse_rfc3339(t)
}

/// How many times it happened: the series' count, else `count` (at least 1).
pub fn count(e: &Value) -> i64 {
    let n = if has_series(e) {
        i64_at(e, "/series/count")
    } else {
        i64_at(e, "/count")
    };
    n.unwrap_or(1).max(1)
}

/// Oldest first, as kubectl's SortableEvents (stable: equal times keep the server's order).
pub fn sort_by_last_seen(events: &mut [Value]) {
    events.sort_by_key(|e| sort_time(e).unwrap_or(SystemTime::UNIX_EPOCH));
}

fn since(ts: &str, now: SystemTime) -> String {
    if ts.is_empty() {
        "<unknown>".into()
    } else {
        age(ts, now)
    }
}

/// kubectl's interval (describe's Age, `kubectl events`' LAST SEEN): `10s (x27 over 2m)` for
/// a repeated event, the age of its first occurrence otherwise.
pub fn interval(e: &Value, now: SystemTime) -> String {
    let first = since(first_seen(e), now);
    if has_series(e) {
        format!(
            "{} (x{} over {first})",
            since(str_at(e, "/series/lastObservedTime"), now),
            i64_at(e, "/series/count").unwrap_or(0)
        )
    } else if i64_at(e, "/count").unwrap_or(0) > 1 {
        format!(
            "{} (x{} over {first})",
            since(str_at(e, "/lastTimestamp"), now),
            i64_at(e, "/count").unwrap_or(0)
        )
    } else {
        first
    }
}

/// describe's From column: `source.component`, else `reportingComponent`.
pub fn from(e: &Value) -> &str {
    match str_at(e, "/source/component") {
        "" => str_at(e, "/reportingComponent"),
        c => c,
    }
}

/// Separate Event objects that read the same in describe (same object, type, reason,
/// source and message) become one, counted together from the first's first time to the
/// last's last time: a recorder that did not correlate (an old daemon, another client),
/// or a repeat after the recorder forgot it, still reads as one line `(xN over ...)`.
/// A lone Event is left as it is, so it shows exactly as kubectl shows it.
pub fn merge_repeats(events: &[Value]) -> Vec<Value> {
    let key = |e: &Value| {
        [
            str_at(e, "/involvedObject/uid"),
            str_at(e, "/involvedObject/kind"),
            str_at(e, "/involvedObject/name"),
            str_at(e, "/involvedObject/fieldPath"),
            str_at(e, "/type"),
            str_at(e, "/reason"),
            from(e),
            str_at(e, "/message").trim(),
        ]
        .join("\u{0}")
    };
    let mut groups: Vec<(String, Vec<&Value>)> = Vec::new();
    for e in events {
        let k = key(e);
        match groups.iter_mut().find(|(g, _)| *g == k) {
            Some((_, members)) => members.push(e),
            None => groups.push((k, vec![e])),
        }
    }
    groups
        .into_iter()
        .map(|(_, members)| match members.as_slice() {
            [one] => (*one).clone(),
            many => merged(many),
        })
        .collect()
}

fn merged(members: &[&Value]) -> Value {
    let first = members
        .iter()
        .filter_map(|e| parse_rfc3339(first_seen(e)))
        .min();
    let last = members.iter().filter_map(|e| sort_time(e)).max();
    let total: i64 = members.iter().map(|e| count(e)).sum();
    // The newest copy carries the rest (names, reporting fields).
    let newest = members
        .iter()
        .max_by_key(|e| sort_time(e).unwrap_or(SystemTime::UNIX_EPOCH))
        .copied()
        .unwrap_or(members[0]);
    let mut out = newest.clone();
    if let Some(o) = out.as_object_mut() {
        o.remove("series");
        o.remove("eventTime");
        o.insert("count".into(), total.into());
        if let Some(t) = first {
            o.insert("firstTimestamp".into(), format_rfc3339(t).into());
        }
        if let Some(t) = last {
            o.insert("lastTimestamp".into(), format_rfc3339(t).into());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::time::{Duration, UNIX_EPOCH};

    fn now() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_800_000_000)
    }
    fn ago(secs: u64) -> String {
        format_rfc3339(now() - Duration::from_secs(secs))
    }
    fn ev(reason: &str, first: u64, last: u64, count: i64) -> Value {
        json!({"type": "Warning", "reason": reason, "message": "back-off ",
            "involvedObject": {"kind": "Pod", "name": "web", "uid": "u1"},
            "source": {"component": "kubelet"},
            "firstTimestamp": ago(first), "lastTimestamp": ago(last), "count": count})
    }

    #[test]
    fn intervals_as_kubectl_prints_them() {
        assert_eq!(
            interval(&ev("BackOff", 120, 10, 27), now()),
            "10s (x27 over 2m)"
        );
        // A single occurrence: the age of its first time.
        assert_eq!(interval(&ev("BackOff", 300, 300, 1), now()), "5m");
        // A series wins over count (events.k8s.io's shape, and our recorder's).
        let mut e = ev("BackOff", 600, 100, 3);
        e["series"] = json!({"count": 5, "lastObservedTime": ago(30)});
        assert_eq!(interval(&e, now()), "30s (x5 over 10m)");
        // eventTime is the first time when set.
        let e =
            json!({"eventTime": ago(7200), "series": {"count": 2, "lastObservedTime": ago(3600)}});
        assert_eq!(interval(&e, now()), "60m (x2 over 120m)");
        assert_eq!(interval(&json!({"count": 1}), now()), "<unknown>");
    }

    #[test]
    fn sorted_oldest_first_by_last_seen() {
        let mut list = vec![ev("C", 50, 5, 2), ev("A", 100, 90, 2), ev("B", 60, 60, 1)];
        let mut with_series = ev("D", 500, 400, 2);
        with_series["series"] = json!({"count": 2, "lastObservedTime": ago(1)});
        list.push(with_series);
        sort_by_last_seen(&mut list);
        let reasons: Vec<&str> = list.iter().map(|e| str_at(e, "/reason")).collect();
        assert_eq!(reasons, ["A", "B", "C", "D"]);
    }

    #[test]
    fn identical_events_merge_into_one_counted_line() {
        // 27 objects for the same failure, as an uncorrelated writer leaves them.
        let mut list: Vec<Value> = (0..27)
            .map(|i| ev("BackOff", 120 - i * 4, 120 - i * 4, 1))
            .collect();
        list.push(ev("Pulled", 130, 130, 1));
        let merged = merge_repeats(&list);
        assert_eq!(merged.len(), 2, "{merged:?}");
        let backoff = merged.iter().find(|e| e["reason"] == "BackOff").unwrap();
        assert_eq!(interval(backoff, now()), "16s (x27 over 2m)");
        // A lone event is untouched.
        assert_eq!(
            merged.iter().find(|e| e["reason"] == "Pulled").unwrap(),
            &list[27]
        );
        // Counts add up, series included; different messages stay apart.
        let mut a = ev("BackOff", 300, 200, 4);
        a["series"] = json!({"count": 6, "lastObservedTime": ago(100)});
        let b = ev("BackOff", 90, 20, 3);
        let mut c = ev("BackOff", 90, 20, 3);
        c["message"] = json!("other");
        let merged = merge_repeats(&[a, b, c]);
        assert_eq!(merged.len(), 2);
        assert_eq!(interval(&merged[0], now()), "20s (x9 over 5m)");
        assert_eq!(interval(&merged[1], now()), "20s (x3 over 90s)");
    }
}
