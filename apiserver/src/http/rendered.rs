//! Objects rendered as the HTTP API's JSON, kept for the next request that sends the same
//! object at the same resourceVersion.
//!
//! Why: gRPC sends the store's protobuf almost as it is, while every JSON answer goes
//! through pbjson, the int-or-string presentation and `schema::normalize_output`: about 2
//! µs an object, five times the protobuf encoding. Informers relist, `kubectl get` lists again
//! and again, and a change fans out to every watcher, each time the same object at the same
//! revision. Kubernetes' watch cache keeps serialized objects for the same reason
//! (`cachingObject`). An object at a resourceVersion never changes, so an entry is never
//! stale; entries leave in insertion order once the cache holds `CAPACITY_BYTES`.
//!
//! Not cached: objects without a uid or resourceVersion (dry runs, bookmarks), and watch
//! DELETED events, which may carry an object's previous state under the revision of the
//! change that made it stop matching a selector.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use bytes::Bytes;
use proto::k8s::Object;

/// Bound on the rendered bytes kept (a 10 000-object list of small objects is ~12 MiB).
const CAPACITY_BYTES: usize = 64 << 20;

type Key = (String, String);

#[derive(Default)]
pub(crate) struct RenderCache {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    map: HashMap<Key, Bytes>,
    order: VecDeque<Key>,
    bytes: usize,
}

/// The JSON of one object as the HTTP API sends it.
pub(crate) fn render(object: &Object) -> Bytes {
    Bytes::from(serde_json::to_vec(&super::object_json(object)).unwrap_or_default())
}

impl RenderCache {
    /// `object` rendered, from the cache when this uid at this resourceVersion was rendered
    /// before.
    pub(crate) fn get(&self, object: &Object) -> Bytes {
        let meta = object.meta();
        if meta.uid.is_empty() || meta.resource_version.is_empty() {
            return render(object);
        }
        let key = (meta.uid.clone(), meta.resource_version.clone());
        if let Some(hit) = self.lock().map.get(&key) {
            return hit.clone();
        }
        // Rendered outside the lock: concurrent renderings of one object both insert, the
        // same bytes either way.
        let rendered = render(object);
        let mut inner = self.lock();
        if inner.map.contains_key(&key) {
            return rendered;
        }
        inner.bytes += rendered.len();
        inner.map.insert(key.clone(), rendered.clone());
        inner.order.push_back(key);
        while inner.bytes > CAPACITY_BYTES {
            let Some(old) = inner.order.pop_front() else {
                break;
            };
            if let Some(gone) = inner.map.remove(&old) {
                inner.bytes -= gone.len();
            }
        }
        rendered
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves whole entries only: keep using it.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().map.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::Resource;
    use proto::k8s::ConfigMap;

    fn cm(uid: &str, rv: &str, value: &str) -> Object {
        let mut c = ConfigMap::default();
        let m = c.meta_mut();
        m.name = "c".into();
        m.namespace = "default".into();
        m.uid = uid.into();
        m.resource_version = rv.into();
        c.data.insert("k".into(), value.into());
        c.into_object()
    }

    #[test]
    fn same_object_and_revision_is_rendered_once() {
        let cache = RenderCache::default();
        let a = cache.get(&cm("u1", "5", "x"));
        assert_eq!(a, render(&cm("u1", "5", "x")));
        let v: serde_json::Value = serde_json::from_slice(&a).unwrap();
        assert_eq!(v["kind"], "ConfigMap");
        assert_eq!(v["data"]["k"], "x");
        // Same key: the cached bytes (even if the caller's copy differed, which a store
        // revision rules out).
        assert_eq!(cache.get(&cm("u1", "5", "other")), a);
        assert_eq!(cache.len(), 1);
        // Another revision or another object is rendered anew.
        assert_ne!(cache.get(&cm("u1", "6", "y")), a);
        assert_ne!(cache.get(&cm("u2", "5", "z")), a);
        assert_eq!(cache.len(), 3);
        // No uid or revision (a dry run): rendered, never kept.
        let dry = cache.get(&cm("", "", "d"));
        assert!(!dry.is_empty());
        assert_eq!(cache.len(), 3);
    }
}
