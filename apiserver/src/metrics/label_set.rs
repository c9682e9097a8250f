//! A request's label set, made once per process and then shared by address: a gRPC call's
//! slot holds a pointer to it (swapped in and out of the task-local at every poll, where
//! the labels themselves were ~170 bytes), and its series hang off it, so recording a
//! call needs no lookup at all. A label set is made of `&'static str`s (a served path
//! with a string of its own is not interned: see [`intern`]), so the sets are bounded by
//! the verbs, kinds, subresources and scopes this apiserver serves, as its families are.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex, OnceLock};

use telemetry::metrics::{Counter, Histogram};

use super::handles::{FxBuild, Kept, StaticStr};
use super::request::Info;
use super::series;

/// The codes a request is answered with nearly always, whose counters are kept in place;
/// any other looks its counter up in the family.
const COMMON_CODES: [u16; 14] = [
    200, 201, 400, 401, 403, 404, 409, 410, 413, 422, 429, 500, 503, 504,
];

pub(crate) struct LabelSet {
    pub(crate) info: Info,
    duration: Histogram,
    /// Gets and lists only, as Kubernetes.
    response_sizes: Option<Histogram>,
    requests: [OnceLock<Counter>; COMMON_CODES.len()],
}

impl LabelSet {
    fn new(info: Info) -> LabelSet {
        let (duration, response_sizes) = series::shape_series(&info);
        LabelSet {
            info,
            duration,
            response_sizes,
            requests: Default::default(),
        }
    }

    /// One request of this set answered with `code` after `seconds`, `bytes` long.
    pub(crate) fn observe(&'static self, code: u16, seconds: f64, bytes: u64) {
        let set = self.for_code(code);
        if let Some(sizes) = &set.response_sizes {
            sizes.observe(bytes as f64);
        }
        set.duration.observe(seconds);
        match COMMON_CODES.iter().position(|c| *c == code) {
            Some(i) => set.requests[i]
                .get_or_init(|| series::requests(&set.info, code))
                .inc(),
            None => series::requests(&set.info, code).inc(),
        };
    }

    /// The set an answer with `code` is counted in: a refused non-resource path loses its
    /// path (see [`Info::for_code`]).
    fn for_code(&'static self, code: u16) -> &'static LabelSet {
        if self.info.resource.is_empty() && code >= 400 && !self.info.subresource.is_empty() {
            return intern(&self.info.clone().for_code(code)).unwrap_or(self);
        }
        self
    }
}

/// A label set by the identity of its static strings.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct Key([StaticStr; 7]);

impl Key {
    /// None for a set with a string of its own (a served non-resource path over HTTP).
    fn of(info: &Info) -> Option<Key> {
        let std::borrow::Cow::Borrowed(subresource) = info.subresource else {
            return None;
        };
        Some(Key([
            StaticStr::of(info.verb),
            StaticStr::of(info.dry_run),
            StaticStr::of(info.group),
            StaticStr::of(info.version),
            StaticStr::of(info.resource),
            StaticStr::of(subresource),
            StaticStr::of(info.scope),
        ]))
    }
}

/// Every set made, for the threads to find what another made.
static SETS: LazyLock<Mutex<HashMap<Key, &'static LabelSet, FxBuild>>> =
    LazyLock::new(Default::default);

thread_local! {
    /// This thread's view of `SETS`, read without a lock.
    static LOCAL: Kept<Key, &'static LabelSet> = Kept::new();
}

/// The one label set equal to `info`; None when `info` holds a string of its own, whose
/// requests are recorded through the families each time (see [`series::series`]).
pub(crate) fn intern(info: &Info) -> Option<&'static LabelSet> {
    let key = Key::of(info)?;
    let make = || {
        let mut sets = SETS.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        *sets
            .entry(key)
            .or_insert_with(|| Box::leak(Box::new(LabelSet::new(info.clone()))))
    };
    // A request recorded while its thread ends (its thread-locals gone) takes the lock.
    LOCAL
        .try_with(|local| local.with(key, make, |set| *set))
        .ok()
        .or_else(|| Some(make()))
}

/// Records one request of `info`: through its interned set, or the families.
pub(crate) fn record(info: Info, code: u16, seconds: f64, bytes: u64) {
    let info = info.for_code(code);
    match intern(&info) {
        Some(set) => set.observe(code, seconds, bytes),
        None => series::series(&info, code).observe(seconds, bytes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::request;
    use std::borrow::Cow;

    // Statics: a literal written twice may be two strings, and sets go by address (the
    // server's labels all come from its tables, one address each).
    static SCALE: &str = "scale";
    static STATUS: &str = "status";

    fn info(subresource: Cow<'static, str>) -> Info {
        Info {
            verb: request::GET,
            dry_run: "",
            group: "apps",
            version: "v1",
            resource: "controllerrevisions",
            subresource,
            scope: "resource",
        }
    }

    #[test]
    fn equal_sets_are_one_and_owned_strings_are_not_interned() {
        let a = intern(&info(Cow::Borrowed(SCALE))).expect("static labels");
        let b = intern(&info(Cow::Borrowed(SCALE))).expect("static labels");
        assert!(std::ptr::eq(a, b));
        let other = intern(&info(Cow::Borrowed(STATUS))).expect("static labels");
        assert!(!std::ptr::eq(a, other));
        assert!(intern(&info(Cow::Owned("scale".into()))).is_none());
        // Another thread finds the same set.
        let there = std::thread::spawn(|| {
            intern(&info(Cow::Borrowed(SCALE))).map(|s| s as *const LabelSet as usize)
        })
        .join()
        .expect("thread");
        assert_eq!(there, Some(a as *const LabelSet as usize));
    }

    #[test]
    fn a_sets_series_are_the_familys_own() {
        let i = info(Cow::Borrowed(SCALE));
        let count = |code| series::series(&i, code).requests.get();
        let (ok, odd) = (count(200), count(299));
        record(i.clone(), 200, 0.001, 10);
        record(i.clone(), 200, 0.001, 10);
        record(i.clone(), 299, 0.001, 10);
        assert_eq!(count(200), ok + 2);
        assert_eq!(count(299), odd + 1);
    }

    #[test]
    fn a_refused_path_loses_its_label() {
        let path = Info {
            verb: request::GET,
            dry_run: "",
            group: "",
            version: "",
            resource: "",
            subresource: Cow::Borrowed("/healthz"),
            scope: "",
        };
        let set = intern(&path).expect("static labels");
        assert!(std::ptr::eq(set.for_code(200), set));
        assert_eq!(set.for_code(404).info.subresource, "");
    }
}
