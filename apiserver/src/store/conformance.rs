//! Conformance suite every `Store` must pass. Each property is a generic async function
//! taking a constructor `make(Limits) -> (store, guard)` that returns a fresh, empty store
//! (the guard keeps its backing resources, e.g. a temp dir or a server, alive). The
//! `store_conformance!` macro instantiates them all as `#[tokio::test]`s:
//!
//! ```ignore
//! fn make(limits: Limits) -> (SledStore, TempDir) { ... }
//! crate::store::conformance::store_conformance!(make);
//! ```

use super::{Error, Event, EventType, KeyValue, ListResult, Revision, Store, WatchStream};
use bytes::Bytes;
use futures::StreamExt;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

/// Knobs a store must let the suite turn down so trimming and cut-offs are testable.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Events retained for watch resume.
    pub history_limit: u64,
    /// Events a watcher may have queued before it is cut off.
    pub watch_buffer: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            history_limit: 100_000,
            watch_buffer: 10_000,
        }
    }
}

/// Long enough for a loaded 2-core machine; short enough that a hang fails the test.
const STEP: Duration = Duration::from_secs(20);

fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

async fn next(stream: &mut WatchStream) -> Event {
    match tokio::time::timeout(STEP, stream.next()).await {
        Ok(Some(Ok(ev))) => ev,
        Ok(Some(Err(e))) => panic!("watch failed: {e}"),
        Ok(None) => panic!("watch ended early"),
        Err(_) => panic!("no watch event within {STEP:?}"),
    }
}

async fn take(stream: &mut WatchStream, n: usize) -> Vec<Event> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(next(stream).await);
    }
    out
}

/// Asserts that nothing more arrives for a short while.
async fn assert_quiet(stream: &mut WatchStream) {
    if let Ok(item) = tokio::time::timeout(Duration::from_millis(200), stream.next()).await {
        panic!("expected no more events, got {item:?}");
    }
}

fn assert_consecutive(events: &[Event], first: Revision) {
    for (i, ev) in events.iter().enumerate() {
        assert_eq!(
            ev.revision,
            first + i as u64,
            "gap or duplicate at index {i}: {events:?}"
        );
    }
}

pub async fn create_get_already_exists<S: Store, G>(make: impl Fn(Limits) -> (S, G)) {
    let (s, _g) = make(Limits::default());
    assert_eq!(s.get("/registry/pods/default/a").await.unwrap(), None);
    let rev = s
        .create("/registry/pods/default/a", b("one"))
        .await
        .unwrap();
    assert_eq!(rev, 1);
    assert_eq!(s.current_revision(), 1);
    let kv = s.get("/registry/pods/default/a").await.unwrap().unwrap();
    assert_eq!(
        kv,
        KeyValue {
            key: "/registry/pods/default/a".into(),
            value: b("one"),
            create_revision: 1,
            mod_revision: 1
        }
    );
    let err = s
        .create("/registry/pods/default/a", b("two"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::AlreadyExists(ref k) if k == "/registry/pods/default/a"),
        "{err:?}"
    );
    assert_eq!(
        s.get("/registry/pods/default/a")
            .await
            .unwrap()
            .unwrap()
            .value,
        b("one")
    );
    // A failed write consumes no revision.
    assert_eq!(
        s.create("/registry/pods/default/b", b("")).await.unwrap(),
        2
    );
}

pub async fn arbitrary_keys_and_values<S: Store, G>(make: impl Fn(Limits) -> (S, G)) {
    let (s, _g) = make(Limits::default());
    let keys = [
        "",
        "/",
        "/ключ/ü/日本",
        "/a b\tc\n",
        "/\u{0}nul",
        "/emoji/🦀",
    ];
    let values: [&[u8]; 3] = [b"", &[0, 255, 0, 1], &[0xffu8; 4096]];
    for (i, key) in keys.iter().enumerate() {
        let value = Bytes::copy_from_slice(values[i % values.len()]);
        s.create(key, value.clone()).await.unwrap();
        assert_eq!(
            s.get(key).await.unwrap().unwrap().value,
            value,
            "key {key:?}"
        );
    }
    let all = s.list("", None, 0).await.unwrap();
    let mut sorted: Vec<&str> = keys.to_vec();
    sorted.sort();
    assert_eq!(
        all.items
            .iter()
            .map(|kv| kv.key.as_str())
            .collect::<Vec<_>>(),
        sorted
    );
}

pub async fn update_guards_revision<S: Store, G>(make: impl Fn(Limits) -> (S, G)) {
    let (s, _g) = make(Limits::default());
    let r1 = s.create("/k", b("v1")).await.unwrap();
    let r2 = s.update("/k", b("v2"), r1).await.unwrap();
    assert_eq!(r2, r1 + 1);
    let kv = s.get("/k").await.unwrap().unwrap();
    assert_eq!(
        (kv.value, kv.create_revision, kv.mod_revision),
        (b("v2"), r1, r2)
    );

    let err = s.update("/k", b("stale"), r1).await.unwrap_err();
    assert!(
        matches!(err, Error::Conflict { ref key, expected, current } if key == "/k" && expected == r1 && current == r2),
        "{err:?}"
    );
    assert_eq!(s.get("/k").await.unwrap().unwrap().value, b("v2"));

    let err = s.update("/missing", b("x"), 1).await.unwrap_err();
    assert!(
        matches!(err, Error::NotFound(ref k) if k == "/missing"),
        "{err:?}"
    );
    assert_eq!(s.get("/missing").await.unwrap(), None);
    assert_eq!(
        s.current_revision(),
        r2,
        "failed writes consumed a revision"
    );
}

pub async fn delete_guards_revision<S: Store, G>(make: impl Fn(Limits) -> (S, G)) {
    let (s, _g) = make(Limits::default());
    let r1 = s.create("/a", b("va")).await.unwrap();
    let r2 = s.create("/b", b("vb")).await.unwrap();

    let err = s.delete("/a", Some(r2)).await.unwrap_err();
    assert!(
        matches!(err, Error::Conflict { expected, current, .. } if expected == r2 && current == r1),
        "{err:?}"
    );
    assert!(s.get("/a").await.unwrap().is_some());

    let (r3, old) = s.delete("/a", Some(r1)).await.unwrap();
    assert_eq!(r3, r2 + 1);
    assert_eq!(
        old,
        KeyValue {
            key: "/a".into(),
            value: b("va"),
            create_revision: r1,
            mod_revision: r1
        }
    );
    assert_eq!(s.get("/a").await.unwrap(), None);

    let (r4, old) = s.delete("/b", None).await.unwrap();
    assert_eq!((r4, old.value), (r3 + 1, b("vb")));

    for expected in [None, Some(r4)] {
        let err = s.delete("/b", expected).await.unwrap_err();
        assert!(
            matches!(err, Error::NotFound(ref k) if k == "/b"),
            "{err:?}"
        );
    }
    // A re-created key starts a new incarnation.
    let r5 = s.create("/a", b("again")).await.unwrap();
    let kv = s.get("/a").await.unwrap().unwrap();
    assert_eq!((kv.create_revision, kv.mod_revision), (r5, r5));
}

pub async fn concurrent_guarded_writes_have_one_winner<S: Store, G>(
    make: impl Fn(Limits) -> (S, G),
) {
    let (s, _g) = make(Limits::default());
    let s = Arc::new(s);
    let race =
        |f: fn(Arc<S>, usize) -> futures::future::BoxFuture<'static, Result<Revision, Error>>| {
            let s = s.clone();
            async move {
                let tasks: Vec<_> = (0..16).map(|i| tokio::spawn(f(s.clone(), i))).collect();
                let mut wins = Vec::new();
                let mut losses = Vec::new();
                for t in tasks {
                    match tokio::time::timeout(STEP, t)
                        .await
                        .expect("writer hung")
                        .unwrap()
                    {
                        Ok(rev) => wins.push(rev),
                        Err(e) => losses.push(e),
                    }
                }
                (wins, losses)
            }
        };
    let (wins, losses) =
        race(|s, i| Box::pin(async move { s.create("/race/k", b(&format!("c{i}"))).await })).await;
    assert_eq!(wins, [1], "exactly one create wins");
    assert!(
        losses.iter().all(|e| matches!(e, Error::AlreadyExists(_))),
        "{losses:?}"
    );
    let (wins, losses) =
        race(|s, i| Box::pin(async move { s.update("/race/k", b(&format!("u{i}")), 1).await }))
            .await;
    assert_eq!(wins, [2], "exactly one update from revision 1 wins");
    assert!(
        losses.iter().all(|e| matches!(
            e,
            Error::Conflict {
                expected: 1,
                current: 2,
                ..
            }
        )),
        "{losses:?}"
    );
    let (wins, losses) =
        race(|s, _| Box::pin(async move { s.delete("/race/k", Some(2)).await.map(|(r, _)| r) }))
            .await;
    assert_eq!(wins, [3], "exactly one delete wins");
    assert!(
        losses.iter().all(|e| matches!(e, Error::NotFound(_))),
        "{losses:?}"
    );
    assert_eq!(s.current_revision(), 3);
}

pub async fn revisions_have_no_gaps<S: Store, G>(make: impl Fn(Limits) -> (S, G)) {
    let (s, _g) = make(Limits::default());
    let mut last = s.current_revision();
    let mut check = |rev: Revision| {
        assert_eq!(rev, last + 1);
        last = rev;
    };
    for i in 0..20 {
        let key = format!("/mix/{}", i % 5);
        match s.get(&key).await.unwrap() {
            None => check(s.create(&key, b("c")).await.unwrap()),
            Some(kv) if i % 3 == 0 => check(s.delete(&key, Some(kv.mod_revision)).await.unwrap().0),
            Some(kv) => {
                assert!(s.update(&key, b("x"), kv.mod_revision + 100).await.is_err());
                assert!(s.create(&key, b("x")).await.is_err());
                check(s.update(&key, b("u"), kv.mod_revision).await.unwrap());
            }
        }
    }
    assert_eq!(s.current_revision(), last);
}

pub async fn list_prefix_isolation<S: Store, G>(make: impl Fn(Limits) -> (S, G)) {
    let (s, _g) = make(Limits::default());
    for key in [
        "/registry/pods/a",
        "/registry/pods/b",
        "/registry/podsx/a",
        "/registry/pod",
        "/registry/pods",
        "/registry/r/x",
    ] {
        s.create(key, b(key)).await.unwrap();
    }
    let list = s.list("/registry/pods/", None, 0).await.unwrap();
    let keys: Vec<_> = list.items.iter().map(|kv| kv.key.as_str()).collect();
    assert_eq!(keys, ["/registry/pods/a", "/registry/pods/b"]);
    assert!(!list.more);
    assert_eq!(list.revision, 6);
    for kv in &list.items {
        assert_eq!(kv.value, b(&kv.key));
    }
    assert!(
        s.list("/registry/nothing/", None, 0)
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert_eq!(s.list("/registry/", None, 0).await.unwrap().items.len(), 6);
    // start_after before the prefix starts at the prefix; after it, nothing.
    let list = s.list("/registry/pods/", Some("/a"), 0).await.unwrap();
    assert_eq!(list.items.len(), 2);
    assert!(
        s.list("/registry/pods/", Some("/registry/pods/z"), 0)
            .await
            .unwrap()
            .items
            .is_empty()
    );
}

pub async fn list_paging_covers_every_key_once<S: Store, G>(make: impl Fn(Limits) -> (S, G)) {
    let (s, _g) = make(Limits::default());
    let mut expected = BTreeSet::new();
    for i in 0..53 {
        let key = format!("/registry/pods/ns{}/p{i}", i % 4);
        s.create(&key, b("v")).await.unwrap();
        expected.insert(key);
    }
    s.create("/registry/podsy/other", b("v")).await.unwrap();
    for limit in [1, 7, 53, 100] {
        let mut seen = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = s
                .list("/registry/pods/", after.as_deref(), limit)
                .await
                .unwrap();
            assert!(page.items.len() <= limit);
            seen.extend(page.items.iter().map(|kv| kv.key.clone()));
            if !page.more {
                break;
            }
            assert_eq!(page.items.len(), limit, "a short page must be the last");
            after = page.items.last().map(|kv| kv.key.clone());
        }
        assert_eq!(
            seen,
            expected.iter().cloned().collect::<Vec<_>>(),
            "limit {limit}"
        );
    }
    let exact = s.list("/registry/pods/", None, 53).await.unwrap();
    assert!(!exact.more, "more must be false when nothing is left");
}

/// Rebuilds the state under `prefix` at `rev` from a full event history.
fn state_at(events: &[Event], prefix: &str, rev: Revision) -> Vec<KeyValue> {
    let mut state: BTreeMap<String, KeyValue> = BTreeMap::new();
    for ev in events
        .iter()
        .take_while(|e| e.revision <= rev)
        .filter(|e| e.key.starts_with(prefix))
    {
        match ev.kind {
            EventType::Created => {
                state.insert(
                    ev.key.clone(),
                    KeyValue {
                        key: ev.key.clone(),
                        value: ev.value.clone(),
                        create_revision: ev.revision,
                        mod_revision: ev.revision,
                    },
                );
            }
            EventType::Updated => {
                let kv = state
                    .get_mut(&ev.key)
                    .expect("update of a key never created");
                kv.value = ev.value.clone();
                kv.mod_revision = ev.revision;
            }
            EventType::Deleted => {
                state.remove(&ev.key);
            }
        }
    }
    state.into_values().collect()
}

pub async fn list_revision_is_consistent<S: Store, G>(make: impl Fn(Limits) -> (S, G)) {
    let (s, _g) = make(Limits::default());
    let s = Arc::new(s);
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let s = s.clone();
            tokio::spawn(async move {
                for i in 0..40 {
                    let key = format!("/registry/c/{w}-{}", i % 6);
                    match s.get(&key).await.unwrap() {
                        None => {
                            s.create(&key, b(&format!("{w}:{i}"))).await.unwrap();
                        }
                        Some(kv) if i % 4 == 0 => {
                            s.delete(&key, Some(kv.mod_revision)).await.unwrap();
                        }
                        Some(kv) => {
                            s.update(&key, b(&format!("{w}:{i}")), kv.mod_revision)
                                .await
                                .unwrap();
                        }
                    }
                    // Unrelated keys move the revision too.
                    s.create(&format!("/registry/other/{w}-{i}"), b("o"))
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    let mut lists: Vec<ListResult> = Vec::new();
    while writers.iter().any(|w| !w.is_finished()) {
        lists.push(s.list("/registry/c/", None, 0).await.unwrap());
        tokio::task::yield_now().await;
    }
    for w in writers {
        w.await.unwrap();
    }
    lists.push(s.list("/registry/c/", None, 0).await.unwrap());
    let end = s.current_revision();
    assert_eq!(end, 4 * 40 * 2);
    let mut watch = s.watch("", 0).unwrap();
    let history = take(&mut watch, end as usize).await;
    assert_consecutive(&history, 1);
    assert!(lists.len() > 1);
    for list in &lists {
        assert_eq!(
            list.items,
            state_at(&history, "/registry/c/", list.revision),
            "at revision {}",
            list.revision
        );
    }
}

pub async fn watch_from_zero_replays_everything<S: Store, G>(make: impl Fn(Limits) -> (S, G)) {
    let (s, _g) = make(Limits::default());
    s.create("/w/a", b("1")).await.unwrap();
    s.update("/w/a", b("2"), 1).await.unwrap();
    s.create("/w/b", b("3")).await.unwrap();
    s.delete("/w/a", None).await.unwrap();
    let mut w = s.watch("/w/", 0).unwrap();
    let evs = take(&mut w, 4).await;
    assert_consecutive(&evs, 1);
    let kinds: Vec<_> = evs.iter().map(|e| (e.kind, e.key.as_str())).collect();
    assert_eq!(
        kinds,
        [
            (EventType::Created, "/w/a"),
            (EventType::Updated, "/w/a"),
            (EventType::Created, "/w/b"),
            (EventType::Deleted, "/w/a"),
        ]
    );
    // Then live, continuing without a gap.
    s.create("/w/c", b("4")).await.unwrap();
    let ev = next(&mut w).await;
    assert_eq!((ev.revision, ev.key.as_str()), (5, "/w/c"));
    assert_quiet(&mut w).await;
}

pub async fn watch_from_the_middle<S: Store, G>(make: impl Fn(Limits) -> (S, G)) {
    let (s, _g) = make(Limits::default());
    for i in 0..10 {
        s.create(&format!("/m/{i}"), b("v")).await.unwrap();
    }
    let mut w = s.watch("/m/", 6).unwrap();
    let evs = take(&mut w, 4).await;
    assert_consecutive(&evs, 7);
    assert_quiet(&mut w).await;
    // From the current revision: only live events.
    let mut live = s.watch("/m/", s.current_revision()).unwrap();
    assert_quiet(&mut live).await;
    s.create("/m/x", b("v")).await.unwrap();
    assert_eq!(next(&mut live).await.revision, 11);
    assert_eq!(next(&mut w).await.revision, 11);
    // From a future revision: delivered from there on.
    let mut future = s.watch("/m/", 13).unwrap();
    for i in 0..3 {
        s.create(&format!("/m/f{i}"), b("v")).await.unwrap();
    }
    assert_eq!(next(&mut future).await.revision, 14);
    assert_quiet(&mut future).await;
}

pub async fn watch_sees_only_its_prefix<S: Store, G>(make: impl Fn(Limits) -> (S, G)) {
    let (s, _g) = make(Limits::default());
    s.create("/registry/pods/a", b("v")).await.unwrap();
    s.create("/registry/podsx/a", b("v")).await.unwrap();
    let mut pods = s.watch("/registry/pods/", 0).unwrap();
    let mut podsx = s.watch("/registry/podsx/", 0).unwrap();
    s.create("/registry/podsx/b", b("v")).await.unwrap();
    s.create("/registry/pods/b", b("v")).await.unwrap();
    let evs = take(&mut pods, 2).await;
    assert_eq!(
        evs.iter()
            .map(|e| (e.revision, e.key.as_str()))
            .collect::<Vec<_>>(),
        [(1, "/registry/pods/a"), (4, "/registry/pods/b")]
    );
    let evs = take(&mut podsx, 2).await;
    assert_eq!(
        evs.iter()
            .map(|e| (e.revision, e.key.as_str()))
            .collect::<Vec<_>>(),
        [(2, "/registry/podsx/a"), (3, "/registry/podsx/b")]
    );
    assert_quiet(&mut pods).await;
    assert_quiet(&mut podsx).await;
}

pub async fn watch_live_under_concurrent_writers<S: Store, G>(make: impl Fn(Limits) -> (S, G)) {
    let (s, _g) = make(Limits::default());
    let s = Arc::new(s);
    s.create("/before", b("v")).await.unwrap();
    let start = s.current_revision();
    let mut w = s.watch("/live/", start).unwrap();
    let per = 50;
    let tasks: Vec<_> = (0..8)
        .map(|t| {
            let s = s.clone();
            tokio::spawn(async move {
                for i in 0..per {
                    s.create(&format!("/live/{t}/{i}"), b("v")).await.unwrap();
                }
            })
        })
        .collect();
    let evs = take(&mut w, 8 * per).await;
    for t in tasks {
        tokio::time::timeout(STEP, t)
            .await
            .expect("writer hung")
            .unwrap();
    }
    assert_consecutive(&evs, start + 1);
    let keys: BTreeSet<_> = evs.iter().map(|e| e.key.clone()).collect();
    assert_eq!(keys.len(), 8 * per);
    assert_quiet(&mut w).await;
}

pub async fn watch_prev_values<S: Store, G>(make: impl Fn(Limits) -> (S, G)) {
    let (s, _g) = make(Limits::default());
    let mut w = s.watch("/p/", 0).unwrap();
    let r1 = s.create("/p/k", b("v1")).await.unwrap();
    s.update("/p/k", b("v2"), r1).await.unwrap();
    s.delete("/p/k", None).await.unwrap();
    let evs = take(&mut w, 3).await;
    let got: Vec<_> = evs
        .iter()
        .map(|e| (e.kind, e.value.clone(), e.prev_value.clone()))
        .collect();
    assert_eq!(
        got,
        [
            (EventType::Created, b("v1"), None),
            (EventType::Updated, b("v2"), Some(b("v1"))),
            (EventType::Deleted, b("v2"), Some(b("v2"))),
        ]
    );
    // The same from history.
    let mut replay = s.watch("/p/", 0).unwrap();
    assert_eq!(take(&mut replay, 3).await, evs);
}

pub async fn watch_expired_after_trimming<S: Store, G>(make: impl Fn(Limits) -> (S, G)) {
    let (s, _g) = make(Limits {
        history_limit: 10,
        ..Limits::default()
    });
    assert!(
        s.watch("/", 0).is_ok(),
        "an empty store can be watched from 0"
    );
    for i in 0..30 {
        s.create(&format!("/e/{i}"), b("v")).await.unwrap();
    }
    let oldest = s.oldest_revision();
    assert!(
        oldest > 1 && oldest <= 21,
        "oldest {oldest} with history of 10 after 30 writes"
    );
    match s.watch("/e/", 0) {
        Err(Error::Expired {
            requested: 0,
            oldest: o,
        }) => assert_eq!(o, oldest),
        other => panic!("expected Expired, got {:?}", other.map(|_| "a stream")),
    }
    assert!(matches!(
        s.watch("/e/", oldest - 2),
        Err(Error::Expired { .. })
    ));
    let mut w = s.watch("/e/", oldest - 1).unwrap();
    let evs = take(&mut w, (30 - oldest + 1) as usize).await;
    assert_consecutive(&evs, oldest);
    assert_quiet(&mut w).await;
}

pub async fn slow_watcher_is_cut_off<S: Store, G>(make: impl Fn(Limits) -> (S, G)) {
    let buffer = 32;
    let (s, _g) = make(Limits {
        watch_buffer: buffer,
        ..Limits::default()
    });
    let s = Arc::new(s);
    let n = 200u64;
    let mut slow = s.watch("/slow/", 0).unwrap();
    let mut fast = s.watch("/slow/", 0).unwrap();
    let reader = tokio::spawn(async move { take(&mut fast, n as usize).await });
    let writer = {
        let s = s.clone();
        tokio::spawn(async move {
            for i in 0..n {
                s.create(&format!("/slow/{i}"), b("v")).await.unwrap();
            }
        })
    };
    tokio::time::timeout(STEP, writer)
        .await
        .expect("writers stalled by a slow watcher")
        .unwrap();
    let got = tokio::time::timeout(STEP, reader)
        .await
        .expect("fast watcher stalled")
        .unwrap();
    assert_consecutive(&got, 1);

    // The slow watcher may hand out what it had buffered, in order, then TooSlow, then end.
    let mut delivered = Vec::new();
    loop {
        match tokio::time::timeout(STEP, slow.next())
            .await
            .expect("slow watcher neither cut off nor ended")
        {
            Some(Ok(ev)) => delivered.push(ev),
            Some(Err(Error::TooSlow)) => break,
            Some(Err(e)) => panic!("expected TooSlow, got {e}"),
            None => panic!(
                "slow watcher ended without TooSlow after {} events",
                delivered.len()
            ),
        }
    }
    assert!(
        (delivered.len() as u64) < n,
        "slow watcher was never cut off"
    );
    assert_consecutive(&delivered, 1);
    assert!(
        tokio::time::timeout(STEP, slow.next())
            .await
            .unwrap()
            .is_none(),
        "stream must end after TooSlow"
    );
}

pub async fn close_then_closed<S: Store, G>(make: impl Fn(Limits) -> (S, G)) {
    let (s, _g) = make(Limits::default());
    let r = s.create("/c/a", b("v")).await.unwrap();
    let mut w = s.watch("/c/", r).unwrap();
    s.close().await.unwrap();
    assert!(matches!(s.create("/c/b", b("v")).await, Err(Error::Closed)));
    assert!(matches!(
        s.update("/c/a", b("v"), r).await,
        Err(Error::Closed)
    ));
    assert!(matches!(s.delete("/c/a", None).await, Err(Error::Closed)));
    assert!(matches!(s.get("/c/a").await, Err(Error::Closed)));
    assert!(matches!(s.list("/c/", None, 0).await, Err(Error::Closed)));
    assert!(matches!(s.watch("/c/", 0), Err(Error::Closed)));
    match tokio::time::timeout(STEP, w.next())
        .await
        .expect("watch not ended by close")
    {
        None | Some(Err(_)) => {}
        Some(Ok(ev)) => panic!("event after close: {ev:?}"),
    }
    assert_eq!(s.current_revision(), r);
    s.close().await.unwrap();
}

/// Instantiates every conformance test for a constructor `fn(Limits) -> (impl Store, guard)`.
macro_rules! store_conformance {
    ($make:ident) => {
        $crate::store::conformance::store_conformance!(@tests $make;
            create_get_already_exists,
            arbitrary_keys_and_values,
            update_guards_revision,
            delete_guards_revision,
            concurrent_guarded_writes_have_one_winner,
            revisions_have_no_gaps,
            list_prefix_isolation,
            list_paging_covers_every_key_once,
            list_revision_is_consistent,
            watch_from_zero_replays_everything,
            watch_from_the_middle,
            watch_sees_only_its_prefix,
            watch_live_under_concurrent_writers,
            watch_prev_values,
            watch_expired_after_trimming,
            slow_watcher_is_cut_off,
            close_then_closed,
        );
    };
    (@tests $make:ident; $($name:ident),* $(,)?) => {
        mod conformance {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    $crate::store::conformance::$name(super::$make).await;
                }
            )*
        }
    };
}
pub(crate) use store_conformance;
