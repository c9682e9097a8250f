//! The store's metrics, for whichever backend: [`Instrumented`] wraps a [`Store`] and times
//! each call as `etcd_request_duration_seconds{operation,type}` (Kubernetes' name for its
//! storage latency; `type` is the resource, `deployments.apps`), and keeps
//! `apiserver_storage_objects{resource}` from the creates and deletes it sees after counting
//! the store once at start ([`Instrumented::count_objects`]). [`db_size`] is what
//! `apiserver_storage_db_total_size_in_bytes` reports for a sled directory.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{LazyLock, Mutex};
use std::time::Instant;

use bytes::Bytes;
use telemetry::metrics::Gauge;

use super::METRICS;
use super::handles::{Kept, StaticStr};
use crate::store::{KeyValue, ListResult, Result, Revision, Store, WatchStream};

/// Every kind's `plural[.group]`, Kubernetes' group-resource spelling, by plural.
static GROUP_RESOURCES: LazyLock<HashMap<&'static str, String>> = LazyLock::new(|| {
    proto::resource::ALL_KINDS
        .iter()
        .map(|k| {
            let name = if k.group.is_empty() {
                k.plural.to_string()
            } else {
                format!("{}.{}", k.plural, k.group)
            };
            (k.plural, name)
        })
        .collect()
});

thread_local! {
    /// By (operation, Fx hash of the key's plural): the plural the series is for (checked
    /// on every hit, so a collision cannot mislabel) and its histogram. Hashing the few
    /// bytes of the plural with Fx is a fraction of the SipHash lookup of
    /// `GROUP_RESOURCES`, which only a series' first call makes.
    static TIMED: Kept<(StaticStr, u64), (&'static str, telemetry::metrics::Histogram)> =
        Kept::new();
}

/// The `<plural>` of a key or prefix (`/registry/<plural>/...`).
fn plural_of(key: &str) -> Option<&str> {
    let rest = key.strip_prefix("/registry/")?;
    // A byte scan: cheaper than a `str` pattern search for these few bytes.
    Some(match rest.as_bytes().iter().position(|&b| b == b'/') {
        Some(i) => &rest[..i],
        None => rest,
    })
}

/// The group-resource a key or prefix (`/registry/<plural>/...`) belongs to.
pub fn resource_of(key: &str) -> Option<&'static str> {
    GROUP_RESOURCES.get(plural_of(key)?).map(String::as_str)
}

fn fx_hash(s: &str) -> u64 {
    use std::hash::Hasher;
    let mut h = super::handles::FxHasher::default();
    h.write(s.as_bytes());
    h.finish()
}

/// A store whose calls are timed and whose objects are counted. `enabled: false` passes
/// every call straight through (the overhead benchmark's baseline).
pub struct Instrumented<S> {
    inner: S,
    enabled: bool,
    /// This store's share of `apiserver_storage_objects`, taken back when it is dropped
    /// (tests run several stores in one process).
    /// With each resource's gauge, so that a create or delete needs no family lookup.
    counted: Mutex<HashMap<&'static str, (i64, Gauge)>>,
}

impl<S: Store> Instrumented<S> {
    pub fn new(inner: S, enabled: bool) -> Self {
        Instrumented {
            inner,
            enabled,
            counted: Mutex::default(),
        }
    }

    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// Counts the objects already stored, by resource (one pass over the keys, in pages).
    pub async fn count_objects(&self) -> Result<()> {
        if !self.enabled {
            return Ok(());
        }
        let mut after: Option<String> = None;
        loop {
            let page = self
                .inner
                .list("/registry/", after.as_deref(), 5000)
                .await?;
            for kv in &page.items {
                self.count(&kv.key, 1);
            }
            match page.items.last() {
                Some(last) if page.more => after = Some(last.key.clone()),
                _ => return Ok(()),
            }
        }
    }

    fn count(&self, key: &str, by: i64) {
        let Some(resource) = resource_of(key) else {
            return;
        };
        let mut counted = self.counted.lock().unwrap_or_else(|p| p.into_inner());
        let (n, gauge) = counted.entry(resource).or_insert_with(|| {
            let gauge = METRICS
                .storage_objects
                .get_or_create_owned(&[("resource", Cow::Borrowed(resource))]);
            (0, gauge)
        });
        *n += by;
        gauge.inc_by(by);
    }

    fn observe(&self, operation: &'static str, key: &str, since: Instant) {
        let Some(plural) = plural_of(key) else {
            return;
        };
        let seconds = since.elapsed().as_secs_f64();
        let slow = || {
            // The registry's own spelling of the plural (to check hits against) and the
            // group-resource it stands for.
            let (&known, resource) = GROUP_RESOURCES.get_key_value(plural)?;
            let series = METRICS.etcd_duration.get_or_create_owned(&[
                ("operation", Cow::Borrowed(operation)),
                ("type", Cow::Borrowed(resource.as_str())),
            ]);
            Some((known, series))
        };
        // The series kept per (operation, plural): no family lookup per call.
        let kept = TIMED.try_with(|kept| {
            let hit = kept.with_existing((StaticStr::of(operation), fx_hash(plural)), |kept| {
                if kept.0 == plural {
                    kept.1.observe(seconds);
                    true
                } else {
                    false
                }
            });
            match hit {
                Some(true) => Ok(()),
                // A plural of no known kind, or two plurals of one hash: not kept.
                Some(false) => Err(()),
                None => match slow() {
                    Some(made) => {
                        made.1.observe(seconds);
                        kept.insert((StaticStr::of(operation), fx_hash(plural)), made);
                        Ok(())
                    }
                    None => Ok(()),
                },
            }
        });
        // A call finishing while its thread ends (its thread-locals gone), or a collision.
        if !matches!(kept, Ok(Ok(())))
            && let Some((_, series)) = slow()
        {
            series.observe(seconds);
        }
    }
}

impl<S> Drop for Instrumented<S> {
    fn drop(&mut self) {
        let counted = std::mem::take(self.counted.get_mut().unwrap_or_else(|p| p.into_inner()));
        for (n, gauge) in counted.into_values() {
            gauge.dec_by(n);
        }
    }
}

impl<S: Store> Store for Instrumented<S> {
    async fn get(&self, key: &str) -> Result<Option<KeyValue>> {
        if !self.enabled {
            return self.inner.get(key).await;
        }
        let start = Instant::now();
        let r = self.inner.get(key).await;
        self.observe("get", key, start);
        r
    }

    async fn list(
        &self,
        prefix: &str,
        start_after: Option<&str>,
        limit: usize,
    ) -> Result<ListResult> {
        if !self.enabled {
            return self.inner.list(prefix, start_after, limit).await;
        }
        let start = Instant::now();
        let r = self.inner.list(prefix, start_after, limit).await;
        self.observe("list", prefix, start);
        r
    }

    async fn create(&self, key: &str, value: Bytes) -> Result<Revision> {
        if !self.enabled {
            return self.inner.create(key, value).await;
        }
        let start = Instant::now();
        let r = self.inner.create(key, value).await;
        self.observe("create", key, start);
        if r.is_ok() {
            self.count(key, 1);
        }
        r
    }

    async fn update(&self, key: &str, value: Bytes, expected: Revision) -> Result<Revision> {
        if !self.enabled {
            return self.inner.update(key, value, expected).await;
        }
        let start = Instant::now();
        let r = self.inner.update(key, value, expected).await;
        self.observe("update", key, start);
        r
    }

    async fn delete(&self, key: &str, expected: Option<Revision>) -> Result<(Revision, KeyValue)> {
        if !self.enabled {
            return self.inner.delete(key, expected).await;
        }
        let start = Instant::now();
        let r = self.inner.delete(key, expected).await;
        self.observe("delete", key, start);
        if r.is_ok() {
            self.count(key, -1);
        }
        r
    }

    fn watch(&self, prefix: &str, from: Revision) -> Result<WatchStream> {
        if !self.enabled {
            return self.inner.watch(prefix, from);
        }
        let start = Instant::now();
        let r = self.inner.watch(prefix, from);
        self.observe("watch", prefix, start);
        r
    }

    fn current_revision(&self) -> Revision {
        self.inner.current_revision()
    }

    fn oldest_revision(&self) -> Revision {
        self.inner.oldest_revision()
    }

    async fn close(&self) -> Result<()> {
        self.inner.close().await
    }

    async fn needs_rewrite(&self, key: &str, revision: Revision) -> Result<bool> {
        self.inner.needs_rewrite(key, revision).await
    }
}

/// The space sled's files take in `dir` (its database, snapshots and blobs; not the PKI
/// and kubeconfigs the apiserver keeps beside them), as allocated on disk.
pub fn db_size(dir: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    fn walk(path: &Path) -> u64 {
        match std::fs::symlink_metadata(path) {
            Ok(m) if m.is_dir() => std::fs::read_dir(path)
                .map(|entries| entries.flatten().map(|e| walk(&e.path())).sum())
                .unwrap_or(0),
            Ok(m) => m.blocks() * 512,
            Err(_) => 0,
        }
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .filter(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            name == "db" || name == "conf" || name == "blobs" || name.starts_with("snap.")
        })
        .map(|e| walk(&e.path()))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sled_store::{SledOptions, SledStore};

    fn objects(resource: &str) -> i64 {
        METRICS
            .storage_objects
            .get_or_create(&[("resource", Cow::Owned(resource.to_string()))])
            .get()
    }

    fn timed(operation: &str, resource: &str) -> u64 {
        // The histogram's count is in its encoding; read it from there.
        let text = telemetry::metrics::encode();
        let prefix = format!(
            "etcd_request_duration_seconds_count{{operation=\"{operation}\",type=\"{resource}\"}} "
        );
        text.lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    }

    #[test]
    fn keys_name_their_group_resource() {
        assert_eq!(resource_of("/registry/pods/ns/p"), Some("pods"));
        assert_eq!(
            resource_of("/registry/deployments/"),
            Some("deployments.apps")
        );
        assert_eq!(resource_of("/registry/widgets/x"), None);
        assert_eq!(resource_of("/other/pods/x"), None);
    }

    #[tokio::test]
    async fn calls_are_timed_and_objects_counted_until_the_store_goes() {
        // limitranges: a resource no other test of this crate writes, so deltas are ours.
        let dir = tempfile::tempdir().unwrap();
        let raw = SledStore::open(dir.path(), SledOptions::default()).unwrap();
        raw.create("/registry/limitranges/before", Bytes::from_static(b"x"))
            .await
            .unwrap();
        let (objects0, creates0) = (objects("limitranges"), timed("create", "limitranges"));
        let store = Instrumented::new(raw, true);
        store.count_objects().await.unwrap();
        assert_eq!(objects("limitranges"), objects0 + 1, "counted at start");
        store
            .create("/registry/limitranges/a", Bytes::from_static(b"x"))
            .await
            .unwrap();
        store
            .create("/registry/limitranges/b", Bytes::from_static(b"x"))
            .await
            .unwrap();
        store.delete("/registry/limitranges/a", None).await.unwrap();
        assert_eq!(objects("limitranges"), objects0 + 2);
        assert_eq!(timed("create", "limitranges"), creates0 + 2);
        assert!(db_size(dir.path()) > 0);
        store.close().await.unwrap();
        drop(store);
        assert_eq!(
            objects("limitranges"),
            objects0,
            "a dropped store takes its count back"
        );
    }

    #[tokio::test]
    async fn a_disabled_store_records_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = Instrumented::new(
            SledStore::open(dir.path(), SledOptions::default()).unwrap(),
            false,
        );
        let before = timed("create", "resourcequotas");
        store
            .create("/registry/resourcequotas/a", Bytes::from_static(b"x"))
            .await
            .unwrap();
        assert_eq!(timed("create", "resourcequotas"), before);
        store.close().await.unwrap();
    }
}
