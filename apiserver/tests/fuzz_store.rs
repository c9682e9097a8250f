//! Property-based fuzzing (proptest) of the store's encodings: the object codec
//! (`apiserver::codec`, protobuf without the resourceVersion) and the sled store's on-disk
//! records and events, read back through the real `SledStore` from a data directory the
//! test wrote byte by byte. Random or damaged bytes must give errors, never a panic, and
//! well-formed ones must read back exactly. A longer run:
//! `PROPTEST_CASES=100000 cargo test --release -p apiserver --test fuzz_store`.

use apiserver::codec;
use apiserver::store::sled_store::{SledOptions, SledStore};
use apiserver::store::{EventType, Store};
use bytes::Bytes;
use futures::StreamExt;
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence};
use prost::Message;
use proto::Object;

fn config() -> Config {
    Config {
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..Config::default()
    }
}

/// Each case opens a sled store on disk: fewer of them.
fn disk_config() -> Config {
    let c = config();
    Config {
        cases: (c.cases / 8).max(1),
        ..c
    }
}

const MANIFESTS: &[&str] = &[
    include_str!("../../proto/tests/manifests/deployment.yaml"),
    include_str!("../../proto/tests/manifests/list.json"),
    include_str!("../../proto/tests/manifests/multi.yaml"),
    include_str!("../../proto/tests/manifests/cronjob.yaml"),
    include_str!("../../proto/tests/manifests/pv-pvc.yaml"),
    include_str!("../../proto/tests/manifests/secret.yaml"),
];

fn seed_objects() -> &'static [Object] {
    static SEEDS: std::sync::OnceLock<Vec<Object>> = std::sync::OnceLock::new();
    SEEDS.get_or_init(|| {
        MANIFESTS
            .iter()
            .flat_map(|m| proto::manifest::load_documents(m).expect("seed manifests load"))
            .collect()
    })
}

/// A seed object with random metadata (names, labels, annotations in any unicode).
fn object() -> impl Strategy<Value = Object> {
    (
        any::<prop::sample::Index>(),
        "\\PC{0,20}",
        prop::collection::btree_map("\\PC{0,8}", "\\PC{0,12}", 0..4),
        any::<i32>(),
        "[0-9]{0,5}",
    )
        .prop_map(|(i, name, labels, generation, rv)| {
            let seeds = seed_objects();
            let mut o = seeds[i.index(seeds.len())].clone();
            let m = o.meta_mut();
            m.name = name;
            m.labels = labels.clone().into_iter().collect();
            m.annotations = labels.into_iter().collect();
            m.generation = generation;
            m.resource_version = rv;
            o
        })
}

/// Bytes with a mutation: a byte range overwritten, cut, or the whole thing random.
fn damage(bytes: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    let len = bytes.len();
    prop_oneof![
        (0..=len, prop::collection::vec(any::<u8>(), 1..8)).prop_map({
            let bytes = bytes.clone();
            move |(at, junk)| {
                let mut b = bytes.clone();
                for (i, x) in junk.into_iter().enumerate() {
                    if let Some(slot) = b.get_mut(at + i) {
                        *slot = x;
                    }
                }
                b
            }
        }),
        (0..=len).prop_map({
            let bytes = bytes.clone();
            move |cut| bytes[..cut].to_vec()
        }),
        prop::collection::vec(any::<u8>(), 0..64),
    ]
}

fn assert_one_line(message: &str) -> Result<(), TestCaseError> {
    prop_assert!(!message.contains('\n'), "error spans lines: {message:?}");
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    /// Any bytes decode to an object or to an internal error; never a panic.
    #[test]
    fn codec_decodes_random_bytes(bytes in prop::collection::vec(any::<u8>(), 0..256), rev in any::<u64>()) {
        match codec::decode(&bytes, rev) {
            Ok(o) => {
                prop_assert!(o.info().is_some());
                prop_assert_eq!(o.meta().resource_version.clone(), rev.to_string());
                let _ = codec::encode(&o);
                let _ = o.to_json();
            }
            Err(e) => assert_one_line(&e.message)?,
        }
    }

    /// encode then decode gives the object back with the store's revision as its
    /// resourceVersion and its type meta set.
    #[test]
    fn codec_round_trips(o in object(), rev in any::<u64>()) {
        let bytes = codec::encode(&o);
        let back = codec::decode(&bytes, rev).map_err(|e| TestCaseError::fail(e.message))?;
        let mut want = o.clone();
        want.meta_mut().resource_version = rev.to_string();
        want.set_type_meta();
        prop_assert_eq!(back, want);
    }

    /// Damaged encodings of real objects: an error or some object, never a panic.
    #[test]
    fn codec_decodes_damaged_objects(bytes in object().prop_flat_map(|o| damage(o.encode_to_vec()))) {
        if let Err(e) = codec::decode(&bytes, 7) {
            assert_one_line(&e.message)?;
        }
    }

    /// Resource versions from clients.
    #[test]
    fn revisions_parse_or_refuse(rv in "\\PC{0,24}|[-+0-9]{0,24}") {
        match codec::parse_revision(&rv) {
            Ok(Some(r)) => prop_assert_eq!(r.to_string().parse::<u64>().ok(), Some(r)),
            Ok(None) => prop_assert!(rv.is_empty()),
            Err(e) => assert_one_line(&e.message)?,
        }
    }
}

// ---------------------------------------------------------------------------------------
// The on-disk format, written by the test and read by the store.

/// `create_revision u64 BE | mod_revision u64 BE | value`.
fn record(create: u64, modified: u64, value: &[u8]) -> Vec<u8> {
    let mut out = create.to_be_bytes().to_vec();
    out.extend_from_slice(&modified.to_be_bytes());
    out.extend_from_slice(value);
    out
}

/// `kind u8 | key_len u32 BE | key | value_len u32 BE | value | has_prev u8 | prev`.
fn event(kind: u8, key: &str, value: &[u8], prev: Option<&[u8]>) -> Vec<u8> {
    let mut out = vec![kind];
    out.extend_from_slice(&(key.len() as u32).to_be_bytes());
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(&(value.len() as u32).to_be_bytes());
    out.extend_from_slice(value);
    match prev {
        Some(p) => {
            out.push(1);
            out.extend_from_slice(p);
        }
        None => out.push(0),
    }
    out
}

#[derive(Debug, Clone)]
struct Disk {
    /// Objects tree: key -> record bytes (well-formed or not).
    objects: Vec<(String, Vec<u8>)>,
    /// Events tree: key bytes (8 for a revision, or junk) -> event bytes.
    events: Vec<(Vec<u8>, Vec<u8>)>,
    /// The meta tree's revision value.
    meta_revision: Option<Vec<u8>>,
}

fn store_key() -> impl Strategy<Value = String> {
    prop_oneof![
        "/registry/configmaps/default/[a-z]{1,4}",
        "/registry/[a-z]{1,6}/\\PC{0,6}",
        "\\PC{0,10}",
    ]
}

fn good_record() -> impl Strategy<Value = Vec<u8>> {
    (
        any::<u64>(),
        any::<u64>(),
        prop::collection::vec(any::<u8>(), 0..40),
    )
        .prop_map(|(c, m, v)| record(c, m, &v))
}

fn good_event() -> impl Strategy<Value = Vec<u8>> {
    (
        1u8..=3,
        store_key(),
        prop::collection::vec(any::<u8>(), 0..24),
        prop::option::of(prop::collection::vec(any::<u8>(), 0..24)),
    )
        .prop_map(|(k, key, v, p)| event(k, &key, &v, p.as_deref()))
}

fn disk() -> impl Strategy<Value = Disk> {
    let record = prop_oneof![good_record(), good_record().prop_flat_map(damage)];
    let ev = prop_oneof![good_event(), good_event().prop_flat_map(damage)];
    let ev_key = prop_oneof![
        4 => (1u64..50).prop_map(|r| r.to_be_bytes().to_vec()),
        1 => prop::collection::vec(any::<u8>(), 0..12),
    ];
    (
        prop::collection::vec((store_key(), record), 0..6),
        prop::collection::vec((ev_key, ev), 0..6),
        prop::option::of(prop_oneof![
            (0u64..60).prop_map(|r| r.to_be_bytes().to_vec()),
            prop::collection::vec(any::<u8>(), 0..12),
        ]),
    )
        .prop_map(|(objects, events, meta_revision)| Disk {
            objects,
            events,
            meta_revision,
        })
}

fn write_disk(dir: &std::path::Path, d: &Disk) -> sled::Result<()> {
    let db = sled::Config::new().path(dir).open()?;
    let objects = db.open_tree("objects")?;
    for (k, v) in &d.objects {
        objects.insert(k.as_bytes(), v.as_slice())?;
    }
    let events = db.open_tree("events")?;
    for (k, v) in &d.events {
        events.insert(k.as_slice(), v.as_slice())?;
    }
    if let Some(rev) = &d.meta_revision {
        db.open_tree("meta")?.insert(b"revision", rev.as_slice())?;
    }
    db.flush()?;
    Ok(())
}

fn small_options() -> SledOptions {
    SledOptions {
        cache_capacity_bytes: 1 << 20,
        history_limit: 1_000,
        watch_buffer: 100,
    }
}

/// Reads everything through the store's public API: every read is an answer or an
/// error; a well-formed record reads back exactly as written.
async fn read_all(store: &SledStore, d: &Disk) -> Result<(), TestCaseError> {
    for (key, bytes) in &d.objects {
        // The last write of a key wins in the tree.
        if d.objects
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, b)| b)
            != Some(bytes)
        {
            continue;
        }
        match store.get(key).await {
            Ok(Some(kv)) => {
                prop_assert!(
                    bytes.len() >= 16,
                    "a {}-byte record read as {kv:?}",
                    bytes.len()
                );
                prop_assert_eq!(&kv.key, key);
                prop_assert_eq!(
                    kv.create_revision,
                    u64::from_be_bytes(bytes[0..8].try_into().unwrap_or_default())
                );
                prop_assert_eq!(
                    kv.mod_revision,
                    u64::from_be_bytes(bytes[8..16].try_into().unwrap_or_default())
                );
                prop_assert_eq!(&kv.value[..], &bytes[16..]);
                // The apiserver's own decode of whatever value is stored.
                if let Err(e) = codec::decode(&kv.value, kv.mod_revision) {
                    assert_one_line(&e.message)?;
                }
            }
            Ok(None) => prop_assert!(false, "{key} was written and reads as absent"),
            Err(e) => {
                prop_assert!(
                    bytes.len() < 16,
                    "a well-formed record of {key} failed: {e}"
                );
                assert_one_line(&e.to_string())?;
            }
        }
    }
    for prefix in ["", "/registry/", "/registry/configmaps/"] {
        match store.list(prefix, None, 0).await {
            Ok(list) => {
                for kv in list.items {
                    let _ = codec::decode(&kv.value, kv.mod_revision);
                }
            }
            Err(e) => assert_one_line(&e.to_string())?,
        }
        let _ = store
            .list(prefix, Some("/registry/configmaps/default/b"), 2)
            .await;
    }
    // A watch replays the retained events up to the last one on disk; a damaged one ends
    // it with an error.
    let mut keys: Vec<&Vec<u8>> = d.events.iter().map(|(k, _)| k).collect();
    keys.sort();
    let last = keys
        .last()
        .and_then(|k| <[u8; 8]>::try_from(k.as_slice()).ok())
        .map(u64::from_be_bytes);
    let from = store.oldest_revision().saturating_sub(1);
    match (store.watch("", from), last) {
        (Ok(mut stream), Some(last)) if last > from => {
            let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
            loop {
                match tokio::time::timeout_at(deadline, stream.next()).await {
                    Ok(Some(Ok(ev))) => {
                        prop_assert!(ev.revision > from && ev.revision <= last);
                        prop_assert!(matches!(
                            ev.kind,
                            EventType::Created | EventType::Updated | EventType::Deleted
                        ));
                        if ev.revision == last {
                            break;
                        }
                    }
                    Ok(Some(Err(e))) => {
                        assert_one_line(&e.to_string())?;
                        break;
                    }
                    Ok(None) => break,
                    Err(_) => prop_assert!(false, "watch replay from {from} stalled before {last}"),
                }
            }
        }
        (Ok(_), _) => {}
        (Err(e), _) => assert_one_line(&e.to_string())?,
    }
    Ok(())
}

proptest! {
    #![proptest_config(disk_config())]

    /// A data directory with random, damaged and well-formed records and events: the store
    /// opens or refuses with an error, and every read is an answer or an error.
    #[test]
    fn sled_store_reads_damaged_data_dirs(d in disk()) {
        let dir = tempfile::Builder::new().prefix("fuzz-store-").tempdir()
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        write_disk(dir.path(), &d).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        rt.block_on(async {
            match SledStore::open(dir.path(), small_options()) {
                Ok(store) => {
                    read_all(&store, &d).await?;
                    // Writes still work on top of whatever was there.
                    let key = "/registry/configmaps/fuzz/after";
                    match store.create(key, Bytes::from_static(b"v")).await {
                        Ok(rev) => prop_assert_eq!(store.get(key).await.ok().flatten().map(|kv| kv.mod_revision), Some(rev)),
                        Err(e) => assert_one_line(&e.to_string())?,
                    }
                    store.close().await.map_err(|e| TestCaseError::fail(e.to_string()))?;
                }
                Err(e) => assert_one_line(&e.to_string())?,
            }
            Ok(())
        })?;
    }

    /// Well-formed objects written through the store survive a reopen byte for byte, with
    /// their revisions.
    #[test]
    fn sled_store_round_trips_objects(objects in prop::collection::vec(object(), 1..5)) {
        let dir = tempfile::Builder::new().prefix("fuzz-store-").tempdir()
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        rt.block_on(async {
            let mut written = Vec::new();
            {
                let store = SledStore::open(dir.path(), small_options()).map_err(|e| TestCaseError::fail(e.to_string()))?;
                for (i, o) in objects.iter().enumerate() {
                    let key = format!("/registry/things/ns/{i}");
                    let rev = store.create(&key, codec::encode(o)).await.map_err(|e| TestCaseError::fail(e.to_string()))?;
                    written.push((key, rev, o.clone()));
                }
                store.close().await.map_err(|e| TestCaseError::fail(e.to_string()))?;
            }
            let store = SledStore::open(dir.path(), small_options()).map_err(|e| TestCaseError::fail(e.to_string()))?;
            for (key, rev, o) in &written {
                let kv = store.get(key).await.map_err(|e| TestCaseError::fail(e.to_string()))?
                    .ok_or_else(|| TestCaseError::fail(format!("{key} lost")))?;
                prop_assert_eq!(kv.mod_revision, *rev);
                let back = codec::decode(&kv.value, kv.mod_revision).map_err(|e| TestCaseError::fail(e.message))?;
                let mut want = o.clone();
                want.meta_mut().resource_version = rev.to_string();
                want.set_type_meta();
                prop_assert_eq!(back, want);
            }
            store.close().await.map_err(|e| TestCaseError::fail(e.to_string()))?;
            Ok(())
        })?;
    }
}
