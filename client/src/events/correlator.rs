//! client-go's EventCorrelator, as pure bookkeeping (callers pass the time):
//!
//! - the aggregator: events alike but for their message (same source, involved object,
//!   type, reason, reporting component) become, from the tenth distinct message within ten
//!   minutes, one "(combined from similar events): ..." event;
//! - the logger: an exact repeat does not make a new object but raises `count`,
//!   `lastTimestamp` and `series` of the first one, rewritten at most once per interval
//!   (10 s doubling to 5 min per key), so a pod failing in a loop costs the store one
//!   object and a few patches;
//! - the spam filter: a token bucket per (source, involved object), burst 25, one token
//!   back per 5 minutes, charged for every write.

use proto::k8s::{Event, EventSeries};
use std::collections::{HashMap, HashSet};
use std::time::Duration;
use tokio::time::Instant;

/// The prefix of an aggregated event's message (client-go's wording).
pub const COMBINED_PREFIX: &str = "(combined from similar events): ";

#[derive(Debug, Clone)]
pub struct CorrelatorConfig {
    /// Distinct messages of similar events before they are combined (client-go: 10).
    pub aggregate_max: usize,
    /// Similar events further apart than this start counting again (client-go: 10 min).
    pub aggregate_window: Duration,
    /// The first rewrite of a repeated event waits this long after the last write.
    pub rewrite_initial: Duration,
    /// The wait between rewrites doubles up to this.
    pub rewrite_max: Duration,
    /// A repeat not seen for this long is forgotten: its next occurrence is a new object
    /// (the aggregation window; also past the apiserver's event TTL).
    pub forget_after: Duration,
    /// Keys remembered at most, per cache (client-go's caches hold 4096).
    pub cache_size: usize,
    /// Spam filter: writes allowed at once per (source, object).
    pub spam_burst: f64,
    /// Spam filter: one more write allowed per this interval.
    pub spam_refill: Duration,
}

impl Default for CorrelatorConfig {
    fn default() -> Self {
        CorrelatorConfig {
            aggregate_max: 10,
            aggregate_window: Duration::from_secs(600),
            rewrite_initial: Duration::from_secs(10),
            rewrite_max: Duration::from_secs(300),
            forget_after: Duration::from_secs(600),
            cache_size: 4096,
            spam_burst: 25.0,
            spam_refill: Duration::from_secs(300),
        }
    }
}

/// A write the sink must make.
#[derive(Debug, Clone, PartialEq)]
pub enum Write {
    /// A new object.
    Create { key: String, event: Event },
    /// The existing object `event` names gets its `count`, `lastTimestamp`, `message` and
    /// `series` (the whole event travels, so it can be made again if it expired).
    Patch { key: String, event: Event },
}

impl Write {
    pub fn event(&self) -> &Event {
        match self {
            Write::Create { event, .. } | Write::Patch { event, .. } => event,
        }
    }
}

fn object_fields(ev: &Event) -> [String; 7] {
    let o = ev.involved_object.clone().unwrap_or_default();
    let s = ev.source.clone().unwrap_or_default();
    [
        s.component,
        s.host,
        o.kind,
        o.namespace,
        o.name,
        o.uid,
        o.api_version,
    ]
}

/// What makes two events "the same" (client-go's getEventKey without the timestamps).
pub fn event_key(ev: &Event) -> String {
    let mut k = object_fields(ev).to_vec();
    let field_path = ev
        .involved_object
        .as_ref()
        .map(|o| o.field_path.clone())
        .unwrap_or_default();
    k.extend([
        field_path,
        ev.r#type.clone(),
        ev.reason.clone(),
        ev.message.clone(),
    ]);
    k.join("\u{0}")
}

/// Events alike but for their message (client-go's EventAggregatorByReasonFunc).
pub fn aggregate_key(ev: &Event) -> String {
    let mut k = object_fields(ev).to_vec();
    k.extend([
        ev.r#type.clone(),
        ev.reason.clone(),
        ev.reporting_component.clone(),
        ev.reporting_instance.clone(),
    ]);
    // Marked so it never equals an event key.
    format!("aggregate\u{0}{}", k.join("\u{0}"))
}

/// The spam filter's key: the source and the involved object.
pub fn spam_key(ev: &Event) -> String {
    object_fields(ev).join("\u{0}")
}

/// A token bucket per key (client-go's EventSourceObjectSpamFilter).
#[derive(Debug)]
pub struct SpamFilter {
    burst: f64,
    refill: Duration,
    cache_size: usize,
    buckets: HashMap<String, (f64, Instant)>,
}

impl SpamFilter {
    pub fn new(burst: f64, refill: Duration, cache_size: usize) -> Self {
        SpamFilter {
            burst,
            refill,
            cache_size,
            buckets: HashMap::new(),
        }
    }

    fn refilled(&self, tokens: f64, since: Instant, now: Instant) -> f64 {
        let back = now.saturating_duration_since(since).as_secs_f64() / self.refill.as_secs_f64();
        (tokens + back).min(self.burst)
    }

    /// True when a write under `key` may happen at `now` (and takes its token).
    pub fn allow(&mut self, key: &str, now: Instant) -> bool {
        if self.buckets.len() >= self.cache_size && !self.buckets.contains_key(key) {
            // Forget full buckets first: they would allow anyway.
            let (burst, refill) = (self.burst, self.refill);
            self.buckets.retain(|_, (tokens, at)| {
                *tokens + now.saturating_duration_since(*at).as_secs_f64() / refill.as_secs_f64()
                    < burst
            });
        }
        let (tokens, at) = self.buckets.get(key).copied().unwrap_or((self.burst, now));
        let tokens = self.refilled(tokens, at, now);
        let (left, ok) = if tokens >= 1.0 {
            (tokens - 1.0, true)
        } else {
            (tokens, false)
        };
        self.buckets.insert(key.to_string(), (left, now));
        ok
    }
}

#[derive(Debug)]
struct Similar {
    messages: HashSet<String>,
    last: Instant,
}

/// client-go's EventAggregator.
#[derive(Debug)]
struct Aggregator {
    max: usize,
    window: Duration,
    cache_size: usize,
    records: HashMap<String, Similar>,
}

impl Aggregator {
    /// The event to log and its logger key: the event itself, or from the `max`-th
    /// distinct message on, the combined event keyed by what the events share.
    fn aggregate(&mut self, ev: Event, now: Instant) -> (Event, String) {
        let key = aggregate_key(&ev);
        if self.records.len() >= self.cache_size && !self.records.contains_key(&key) {
            evict_oldest(&mut self.records, |r| r.last);
        }
        let rec = self.records.entry(key.clone()).or_insert_with(|| Similar {
            messages: HashSet::new(),
            last: now,
        });
        if now.saturating_duration_since(rec.last) > self.window {
            rec.messages.clear();
        }
        rec.last = now;
        // Bounded: past `max` the set only needs to say "many".
        if rec.messages.len() < self.max {
            rec.messages.insert(ev.message.clone());
        }
        if rec.messages.len() < self.max {
            let k = event_key(&ev);
            return (ev, k);
        }
        let mut combined = ev;
        combined.message = format!("{COMBINED_PREFIX}{}", combined.message);
        (combined, key)
    }
}

fn evict_oldest<V>(map: &mut HashMap<String, V>, at: impl Fn(&V) -> Instant) {
    if let Some(old) = map
        .iter()
        .min_by_key(|(_, v)| at(v))
        .map(|(k, _)| k.clone())
    {
        map.remove(&old);
    }
}

#[derive(Debug)]
struct Entry {
    event: Event,
    /// The count the store has.
    written: i32,
    interval: Duration,
    next_write: Instant,
    last_seen: Instant,
}

/// Aggregator, logger and spam filter in client-go's order.
#[derive(Debug)]
pub struct Correlator {
    config: CorrelatorConfig,
    aggregator: Aggregator,
    entries: HashMap<String, Entry>,
    spam: SpamFilter,
}

impl Default for Correlator {
    fn default() -> Self {
        Correlator::new(CorrelatorConfig::default())
    }
}

impl Correlator {
    pub fn new(config: CorrelatorConfig) -> Self {
        Correlator {
            aggregator: Aggregator {
                max: config.aggregate_max.max(1),
                window: config.aggregate_window,
                cache_size: config.cache_size,
                records: HashMap::new(),
            },
            entries: HashMap::new(),
            spam: SpamFilter::new(config.spam_burst, config.spam_refill, config.cache_size),
            config,
        }
    }

    /// An event happened at `now`: what to write now, if anything.
    pub fn observe(&mut self, ev: Event, now: Instant) -> Option<Write> {
        let (ev, key) = self.aggregator.aggregate(ev, now);
        let forget_after = self.config.forget_after;
        if let Some(e) = self.entries.get_mut(&key)
            && now.saturating_duration_since(e.last_seen) < forget_after
        {
            e.event.count = e.event.count.saturating_add(1);
            e.event.last_timestamp = ev.last_timestamp;
            e.event.message = ev.message;
            e.event.series = Some(EventSeries {
                count: e.event.count,
                last_observed_time: micro_time(&e.event.last_timestamp),
            });
            e.last_seen = now;
            if now >= e.next_write {
                return self.rewrite(&key, now);
            }
            return None;
        }
        if !self.spam.allow(&spam_key(&ev), now) {
            tracing::debug!(reason = %ev.reason, message = %ev.message, "event dropped by the spam filter");
            return None;
        }
        if self.entries.len() >= self.config.cache_size && !self.entries.contains_key(&key) {
            evict_oldest(&mut self.entries, |e| e.last_seen);
        }
        self.entries.insert(
            key.clone(),
            Entry {
                event: ev.clone(),
                written: ev.count,
                interval: self.config.rewrite_initial,
                next_write: now + self.config.rewrite_initial,
                last_seen: now,
            },
        );
        Some(Write::Create { key, event: ev })
    }

    /// A patch of `key`'s entry, if the spam filter allows one now; else it waits for the
    /// next interval.
    fn rewrite(&mut self, key: &str, now: Instant) -> Option<Write> {
        let max = self.config.rewrite_max;
        let e = self.entries.get_mut(key)?;
        if !self.spam.allow(&spam_key(&e.event), now) {
            e.next_write = now + e.interval;
            tracing::debug!(reason = %e.event.reason, count = e.event.count, "event update held by the spam filter");
            return None;
        }
        e.written = e.event.count;
        e.interval = (e.interval * 2).min(max);
        e.next_write = now + e.interval;
        Some(Write::Patch {
            key: key.to_string(),
            event: e.event.clone(),
        })
    }

    /// Counts raised since their last write whose interval has passed: written now, so a
    /// burst that stops still shows its final count.
    pub fn due(&mut self, now: Instant) -> Vec<Write> {
        let forget_after = self.config.forget_after;
        self.entries
            .retain(|_, e| now.saturating_duration_since(e.last_seen) < forget_after);
        let keys: Vec<String> = self
            .entries
            .iter()
            .filter(|(_, e)| e.event.count > e.written && now >= e.next_write)
            .map(|(k, _)| k.clone())
            .collect();
        keys.iter().filter_map(|k| self.rewrite(k, now)).collect()
    }

    /// When `due` next has something to write.
    pub fn next_due(&self) -> Option<Instant> {
        self.entries
            .values()
            .filter(|e| e.event.count > e.written)
            .map(|e| e.next_write)
            .min()
    }

    /// The object of `key` was made again (under another name: it had expired), or its
    /// creation failed for good (`None`): the next repeat makes a new one.
    pub fn written_as(&mut self, key: &str, made: Option<&Event>) {
        match made {
            Some(ev) => {
                if let Some(e) = self.entries.get_mut(key) {
                    e.event.metadata = ev.metadata.clone();
                }
            }
            None => {
                self.entries.remove(key);
            }
        }
    }
}

/// The series' lastObservedTime is a MicroTime; ours come from the event's stamps.
fn micro_time(at: &str) -> String {
    proto::time::parse_rfc3339(at)
        .map(proto::time::format_rfc3339_micros)
        .unwrap_or_else(|| at.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::k8s::{EventSource, ObjectMeta, ObjectReference};

    fn ev(name: &str, reason: &str, message: &str, ts: &str) -> Event {
        Event {
            metadata: Some(ObjectMeta {
                name: name.into(),
                namespace: "default".into(),
                ..Default::default()
            }),
            involved_object: Some(ObjectReference {
                kind: "Pod".into(),
                namespace: "default".into(),
                name: "web-0".into(),
                uid: "u1".into(),
                ..Default::default()
            }),
            reason: reason.into(),
            message: message.into(),
            r#type: "Warning".into(),
            count: 1,
            first_timestamp: "t0".into(),
            last_timestamp: ts.into(),
            source: Some(EventSource {
                component: "kubelet".into(),
                host: "n1".into(),
            }),
            ..Default::default()
        }
    }

    fn secs(t0: Instant, s: u64) -> Instant {
        t0 + Duration::from_secs(s)
    }

    fn name(w: &Write) -> &str {
        &w.event().metadata.as_ref().unwrap().name
    }

    #[test]
    fn repeats_become_count_patches_at_most_once_per_doubling_interval() {
        let t0 = Instant::now();
        let mut c = Correlator::default();
        let first = c.observe(ev("a", "FailedMount", "m", "t0"), t0);
        assert!(
            matches!(first, Some(Write::Create { ref event, .. }) if event.metadata.as_ref().unwrap().name == "a")
        );
        // One repeat a second for 70 s: writes at 10 s, 30 s, 70 s (the interval doubles).
        let mut writes = vec![];
        for s in 1..=70 {
            let n = format!("ignored{s}");
            if let Some(w) = c.observe(ev(&n, "FailedMount", "m", &format!("t{s}")), secs(t0, s)) {
                writes.push((s, w));
            }
        }
        let at: Vec<u64> = writes.iter().map(|(s, _)| *s).collect();
        assert_eq!(at, vec![10, 30, 70]);
        let Write::Patch { event: last, .. } = &writes[2].1 else {
            panic!("{:?}", writes[2])
        };
        assert_eq!(name(&writes[2].1), "a", "the first object's name");
        assert_eq!(last.count, 71);
        assert_eq!(last.last_timestamp, "t70");
        assert_eq!(last.first_timestamp, "t0");
        assert_eq!(last.series.as_ref().map(|s| s.count), Some(71));
    }

    #[test]
    fn other_reason_type_field_or_object_is_a_new_event() {
        let t0 = Instant::now();
        let mut c = Correlator::default();
        let create = |w: Option<Write>| matches!(w, Some(Write::Create { .. }));
        assert!(create(c.observe(ev("a", "FailedMount", "m", "t"), t0)));
        assert!(create(c.observe(ev("b", "FailedMount", "other", "t"), t0)));
        assert!(create(c.observe(ev("c", "Failed", "m", "t"), t0)));
        let mut other_pod = ev("d", "FailedMount", "m", "t");
        other_pod.involved_object.as_mut().unwrap().uid = "u2".into();
        assert!(create(c.observe(other_pod, t0)));
        let mut container = ev("d", "FailedMount", "m", "t");
        container.involved_object.as_mut().unwrap().field_path = "spec.containers{a}".into();
        assert!(create(c.observe(container, t0)));
        let mut normal = ev("d", "FailedMount", "m", "t");
        normal.r#type = "Normal".into();
        assert!(create(c.observe(normal, t0)));
        assert_eq!(c.observe(ev("e", "FailedMount", "m", "t"), t0), None);
    }

    #[test]
    fn a_held_count_is_flushed_when_due_and_keys_are_forgotten_when_idle() {
        let t0 = Instant::now();
        let mut c = Correlator::default();
        c.observe(ev("a", "R", "m", "t0"), t0);
        assert_eq!(c.next_due(), None, "nothing held");
        assert_eq!(c.observe(ev("x", "R", "m", "t3"), secs(t0, 3)), None);
        assert_eq!(c.next_due(), Some(secs(t0, 10)));
        assert!(c.due(secs(t0, 9)).is_empty());
        let w = c.due(secs(t0, 10));
        assert!(
            matches!(&w[..], [Write::Patch { event, .. }] if event.count == 2 && event.last_timestamp == "t3")
        );
        assert_eq!(c.next_due(), None);
        // Ten idle minutes later the same event is a new object.
        let later = secs(t0, 3) + Duration::from_secs(600);
        assert!(
            matches!(c.observe(ev("n", "R", "m", "t"), later), Some(Write::Create { event, .. }) if event.count == 1)
        );
    }

    #[test]
    fn ten_similar_messages_become_one_combined_event_with_a_count() {
        let t0 = Instant::now();
        let mut c = Correlator::default();
        let mut writes = vec![];
        // 30 "Created pod: web-N" within a minute.
        for i in 0..30u64 {
            let n = format!("e{i}");
            if let Some(w) = c.observe(
                ev(
                    &n,
                    "SuccessfulCreate",
                    &format!("Created pod: web-{i}"),
                    "t",
                ),
                secs(t0, i * 2),
            ) {
                writes.push(w);
            }
        }
        let creates: Vec<&Write> = writes
            .iter()
            .filter(|w| matches!(w, Write::Create { .. }))
            .collect();
        assert_eq!(creates.len(), 10, "nine single events, then one combined");
        assert_eq!(creates[8].event().message, "Created pod: web-8");
        assert_eq!(
            creates[9].event().message,
            "(combined from similar events): Created pod: web-9"
        );
        let combined = name(creates[9]).to_string();
        let patches: Vec<&Write> = writes
            .iter()
            .filter(|w| matches!(w, Write::Patch { .. }))
            .collect();
        assert!(!patches.is_empty());
        assert!(patches.iter().all(|w| name(w) == combined), "{patches:?}");
        let flushed = c.due(secs(t0, 600));
        let last = flushed.last().or(patches.last().copied()).unwrap().event();
        assert_eq!(
            last.count, 21,
            "the combined object counts every later event"
        );
        assert_eq!(
            last.message,
            "(combined from similar events): Created pod: web-29"
        );
        // Ten minutes of quiet: similar events count from zero again.
        let later = secs(t0, 58) + Duration::from_secs(601);
        let w = c.observe(
            ev("z", "SuccessfulCreate", "Created pod: web-99", "t"),
            later,
        );
        assert!(
            matches!(w, Some(Write::Create { event, .. }) if event.message == "Created pod: web-99")
        );
    }

    #[test]
    fn spam_filter_allows_a_burst_then_one_per_refill() {
        let mut f = SpamFilter::new(25.0, Duration::from_secs(300), 4096);
        let t0 = Instant::now();
        assert_eq!((0..40).filter(|_| f.allow("a", t0)).count(), 25);
        assert!(f.allow("b", t0), "buckets are per key");
        assert!(!f.allow("a", t0 + Duration::from_secs(150)));
        assert!(f.allow("a", t0 + Duration::from_secs(301)));
        assert!(!f.allow("a", t0 + Duration::from_secs(302)));
    }

    #[test]
    fn the_spam_filter_is_per_source_and_object_and_holds_patches_back() {
        let t0 = Instant::now();
        let mut c = Correlator::default();
        // 40 distinct reasons about one object: 25 written.
        let written = (0..40)
            .filter(|i| {
                c.observe(ev(&format!("e{i}"), &format!("R{i}"), "m", "t"), t0)
                    .is_some()
            })
            .count();
        assert_eq!(written, 25);
        // Another source about the same object has its own bucket.
        let mut other = ev("o", "R0", "m", "t");
        other.source.as_mut().unwrap().component = "controller".into();
        assert!(c.observe(other, t0).is_some());
        // A repeat of a written event is counted, its patch waits for a token.
        assert_eq!(c.observe(ev("x", "R0", "m", "t"), secs(t0, 11)), None);
        assert!(c.due(secs(t0, 12)).is_empty(), "no token");
        assert_eq!(
            c.next_due(),
            Some(secs(t0, 21)),
            "tried again an interval later"
        );
        let w = c.due(secs(t0, 301));
        assert!(matches!(&w[..], [Write::Patch { event, .. }] if event.count == 2));
    }

    #[test]
    fn a_forgotten_create_makes_the_next_repeat_a_new_object() {
        let t0 = Instant::now();
        let mut c = Correlator::default();
        let Some(Write::Create { key, .. }) = c.observe(ev("a", "R", "m", "t"), t0) else {
            panic!()
        };
        c.written_as(&key, None);
        assert!(matches!(
            c.observe(ev("b", "R", "m", "t"), secs(t0, 1)),
            Some(Write::Create { .. })
        ));
        c.written_as(&key, Some(&ev("b2", "R", "m", "t")));
        let w = c.observe(ev("ignored", "R", "m", "t"), secs(t0, 11));
        assert!(matches!(&w, Some(Write::Patch { .. })), "{w:?}");
        assert_eq!(name(w.as_ref().unwrap()), "b2", "the object made again");
    }
}
