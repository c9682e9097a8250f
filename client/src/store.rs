//! The informer's local cache: objects by key (`namespace/name`, or `name` for
//! cluster-scoped kinds) with indexes. Readers get `Arc` snapshots of objects and never hold
//! the lock beyond one synchronous call, so nothing waits on a lock across `.await`.

use proto::Resource;
use proto::k8s::Pod;
use std::any::Any;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// Values an object is filed under in one index.
pub type IndexFn<K> = Arc<dyn Fn(&K) -> Vec<String> + Send + Sync>;

pub const INDEX_NAMESPACE: &str = "namespace";
/// Values are `key=value` for each label.
pub const INDEX_LABEL: &str = "label";
/// Values are the uids in `metadata.ownerReferences`.
pub const INDEX_OWNER: &str = "owner";
/// `spec.nodeName`; registered for pods only.
pub const INDEX_NODE_NAME: &str = "nodeName";

/// `namespace/name`, or `name` for an object without a namespace (as client-go's
/// `MetaNamespaceKeyFunc`).
pub fn key_of<K: Resource>(object: &K) -> String {
    let m = object.meta();
    make_key(&m.namespace, &m.name)
}

pub fn make_key(namespace: &str, name: &str) -> String {
    if namespace.is_empty() {
        name.to_string()
    } else {
        format!("{namespace}/{name}")
    }
}

/// `(namespace, name)`; namespace is "" for a key without one.
pub fn split_key(key: &str) -> (&str, &str) {
    key.split_once('/').unwrap_or(("", key))
}

/// Cheap to clone: clones share one cache.
pub struct Store<K> {
    inner: Arc<RwLock<Inner<K>>>,
}

impl<K> Clone for Store<K> {
    fn clone(&self) -> Self {
        Store {
            inner: self.inner.clone(),
        }
    }
}

struct Inner<K> {
    objects: HashMap<String, Arc<K>>,
    indexers: BTreeMap<String, IndexFn<K>>,
    /// index name -> value -> keys.
    indexes: HashMap<String, HashMap<String, HashSet<String>>>,
}

impl<K: Resource> Default for Store<K> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: Resource> Store<K> {
    /// With the built-in indexes: namespace, label, owner, and nodeName for pods.
    pub fn new() -> Self {
        let mut indexers: BTreeMap<String, IndexFn<K>> = BTreeMap::new();
        indexers.insert(
            INDEX_NAMESPACE.into(),
            Arc::new(|o: &K| vec![o.meta().namespace.clone()]),
        );
        indexers.insert(
            INDEX_LABEL.into(),
            Arc::new(|o: &K| {
                o.meta()
                    .labels
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect()
            }),
        );
        indexers.insert(
            INDEX_OWNER.into(),
            Arc::new(|o: &K| {
                o.meta()
                    .owner_references
                    .iter()
                    .map(|r| r.uid.clone())
                    .collect()
            }),
        );
        if K::INFO.kind == "Pod" {
            indexers.insert(INDEX_NODE_NAME.into(), Arc::new(pod_node_name::<K>));
        }
        let indexes = indexers
            .keys()
            .map(|k| (k.clone(), HashMap::new()))
            .collect();
        Store {
            inner: Arc::new(RwLock::new(Inner {
                objects: HashMap::new(),
                indexers,
                indexes,
            })),
        }
    }

    fn read(&self) -> RwLockReadGuard<'_, Inner<K>> {
        // Writers update objects and indexes before anything that can panic (index
        // functions run first), so a poisoned lock still guards a consistent cache.
        self.inner.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Inner<K>> {
        self.inner.write().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers (or replaces) an index and files every cached object under it.
    pub fn add_index(&self, name: &str, f: impl Fn(&K) -> Vec<String> + Send + Sync + 'static) {
        let f: IndexFn<K> = Arc::new(f);
        let mut inner = self.write();
        let mut index: HashMap<String, HashSet<String>> = HashMap::new();
        for (key, obj) in &inner.objects {
            for v in f(obj) {
                index.entry(v).or_default().insert(key.clone());
            }
        }
        inner.indexes.insert(name.to_string(), index);
        inner.indexers.insert(name.to_string(), f);
    }

    pub fn get(&self, key: &str) -> Option<Arc<K>> {
        self.read().objects.get(key).cloned()
    }

    pub fn get_in(&self, namespace: &str, name: &str) -> Option<Arc<K>> {
        self.get(&make_key(namespace, name))
    }

    pub fn list(&self) -> Vec<Arc<K>> {
        self.read().objects.values().cloned().collect()
    }

    pub fn keys(&self) -> Vec<String> {
        self.read().objects.keys().cloned().collect()
    }

    pub fn len(&self) -> usize {
        self.read().objects.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A copy of the whole map (Arc per object): what a relist diffs against.
    pub fn snapshot(&self) -> HashMap<String, Arc<K>> {
        self.read().objects.clone()
    }

    /// Objects filed under `value` in `index`; empty for an unknown index.
    pub fn by_index(&self, index: &str, value: &str) -> Vec<Arc<K>> {
        let inner = self.read();
        let Some(keys) = inner.indexes.get(index).and_then(|i| i.get(value)) else {
            return Vec::new();
        };
        keys.iter()
            .filter_map(|k| inner.objects.get(k).cloned())
            .collect()
    }

    /// Keys filed under `value` in `index`: what a controller enqueues.
    pub fn keys_by_index(&self, index: &str, value: &str) -> Vec<String> {
        let inner = self.read();
        inner
            .indexes
            .get(index)
            .and_then(|i| i.get(value))
            .map(|keys| keys.iter().cloned().collect())
            .unwrap_or_default()
    }

    pub fn has_index(&self, index: &str) -> bool {
        self.read().indexers.contains_key(index)
    }

    pub fn by_namespace(&self, namespace: &str) -> Vec<Arc<K>> {
        self.by_index(INDEX_NAMESPACE, namespace)
    }

    /// Objects carrying the label `key=value`.
    pub fn by_label(&self, key: &str, value: &str) -> Vec<Arc<K>> {
        self.by_index(INDEX_LABEL, &format!("{key}={value}"))
    }

    /// Objects listing `uid` in their ownerReferences.
    pub fn by_owner(&self, uid: &str) -> Vec<Arc<K>> {
        self.by_index(INDEX_OWNER, uid)
    }

    /// Pods bound to `node` (empty for other kinds).
    pub fn by_node(&self, node: &str) -> Vec<Arc<K>> {
        self.by_index(INDEX_NODE_NAME, node)
    }

    /// Inserts or replaces; returns the previous object under the key.
    pub fn upsert(&self, object: Arc<K>) -> Option<Arc<K>> {
        let key = key_of(object.as_ref());
        let mut inner = self.write();
        let values = index_values(&inner.indexers, &object);
        let old = inner.objects.insert(key.clone(), object);
        if let Some(old) = &old {
            let old_values = index_values(&inner.indexers, old);
            unindex(&mut inner.indexes, &key, old_values);
        }
        reindex(&mut inner.indexes, &key, values);
        old
    }

    /// Removes and returns the object under `key`.
    pub fn remove(&self, key: &str) -> Option<Arc<K>> {
        let mut inner = self.write();
        let old = inner.objects.remove(key)?;
        let old_values = index_values(&inner.indexers, &old);
        unindex(&mut inner.indexes, key, old_values);
        Some(old)
    }
}

fn index_values<K>(indexers: &BTreeMap<String, IndexFn<K>>, obj: &K) -> Vec<(String, Vec<String>)> {
    indexers
        .iter()
        .map(|(name, f)| (name.clone(), f(obj)))
        .collect()
}

fn reindex(
    indexes: &mut HashMap<String, HashMap<String, HashSet<String>>>,
    key: &str,
    values: Vec<(String, Vec<String>)>,
) {
    for (name, vals) in values {
        let index = indexes.entry(name).or_default();
        for v in vals {
            index.entry(v).or_default().insert(key.to_string());
        }
    }
}

fn unindex(
    indexes: &mut HashMap<String, HashMap<String, HashSet<String>>>,
    key: &str,
    values: Vec<(String, Vec<String>)>,
) {
    for (name, vals) in values {
        let Some(index) = indexes.get_mut(&name) else {
            continue;
        };
        for v in vals {
            if let Some(keys) = index.get_mut(&v) {
                keys.remove(key);
                if keys.is_empty() {
                    index.remove(&v);
                }
            }
        }
    }
}

/// The store is generic over kinds, but the nodeName index applies to pods only.
fn pod_node_name<K: Resource>(obj: &K) -> Vec<String> {
    (obj as &dyn Any)
        .downcast_ref::<Pod>()
        .and_then(|p| p.spec.as_ref())
        .map(|s| s.node_name.clone())
        .filter(|n| !n.is_empty())
        .into_iter()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::k8s::{ConfigMap, OwnerReference, PodSpec};

    fn pod(ns: &str, name: &str, node: &str, labels: &[(&str, &str)], owner: &str) -> Arc<Pod> {
        let mut p = Pod::default();
        let m = p.meta_mut();
        m.name = name.into();
        m.namespace = ns.into();
        m.labels = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        if !owner.is_empty() {
            m.owner_references.push(OwnerReference {
                uid: owner.into(),
                ..Default::default()
            });
        }
        p.spec = Some(PodSpec {
            node_name: node.into(),
            ..Default::default()
        });
        Arc::new(p)
    }

    fn names(v: Vec<Arc<Pod>>) -> Vec<String> {
        let mut n: Vec<_> = v.iter().map(|p| p.meta().name.clone()).collect();
        n.sort();
        n
    }

    #[test]
    fn keys_round_trip() {
        assert_eq!(make_key("ns", "a"), "ns/a");
        assert_eq!(make_key("", "node1"), "node1");
        assert_eq!(split_key("ns/a"), ("ns", "a"));
        assert_eq!(split_key("node1"), ("", "node1"));
    }

    #[test]
    fn indexes_follow_updates_and_deletes() {
        let s = Store::<Pod>::new();
        s.upsert(pod("a", "p1", "n1", &[("app", "web")], "rs1"));
        s.upsert(pod("a", "p2", "n2", &[("app", "web")], "rs1"));
        s.upsert(pod("b", "p3", "n1", &[("app", "db")], ""));
        assert_eq!(names(s.by_namespace("a")), ["p1", "p2"]);
        assert_eq!(names(s.by_label("app", "web")), ["p1", "p2"]);
        assert_eq!(names(s.by_node("n1")), ["p1", "p3"]);
        assert_eq!(names(s.by_owner("rs1")), ["p1", "p2"]);

        // p1 moves node, changes label and loses its owner: old index entries must go.
        let old = s.upsert(pod("a", "p1", "n2", &[("app", "db")], ""));
        assert!(old.is_some());
        assert_eq!(names(s.by_node("n1")), ["p3"]);
        assert_eq!(names(s.by_node("n2")), ["p1", "p2"]);
        assert_eq!(names(s.by_label("app", "web")), ["p2"]);
        assert_eq!(names(s.by_owner("rs1")), ["p2"]);

        assert!(s.remove("a/p2").is_some());
        assert!(s.remove("a/p2").is_none());
        assert!(s.by_owner("rs1").is_empty());
        assert_eq!(names(s.by_node("n2")), ["p1"]);
        assert_eq!(s.len(), 2);
        assert_eq!(
            s.get_in("b", "p3").map(|p| p.meta().name.clone()),
            Some("p3".into())
        );
    }

    #[test]
    fn custom_index_covers_existing_and_new_objects() {
        let s = Store::<Pod>::new();
        s.upsert(pod("a", "p1", "n1", &[], ""));
        s.add_index("first-letter", |p: &Pod| {
            vec![p.meta().name[..1].to_string()]
        });
        s.upsert(pod("a", "q1", "n1", &[], ""));
        s.upsert(pod("a", "p2", "n1", &[], ""));
        assert_eq!(names(s.by_index("first-letter", "p")), ["p1", "p2"]);
        assert_eq!(
            s.keys_by_index("first-letter", "q"),
            vec!["a/q1".to_string()]
        );
        assert!(s.by_index("no-such-index", "p").is_empty());
    }

    #[test]
    fn node_index_exists_for_pods_only() {
        assert!(Store::<Pod>::new().has_index(INDEX_NODE_NAME));
        let cms = Store::<ConfigMap>::new();
        assert!(!cms.has_index(INDEX_NODE_NAME));
        assert!(cms.has_index(INDEX_LABEL));
    }
}
