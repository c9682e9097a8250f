//! Where authentication reads the objects a token depends on (ServiceAccounts, Secrets,
//! pods): the registry in the server, a map in tests.

use std::collections::BTreeMap;
use std::sync::Mutex;

use proto::k8s::Object;
use proto::{ApiError, Reason};

use crate::registry::Registry;
use crate::store::Store;

#[tonic::async_trait]
pub trait Objects: Send + Sync + 'static {
    /// The object, or `None` when it does not exist.
    async fn get(
        &self,
        resource: &str,
        namespace: &str,
        name: &str,
    ) -> Result<Option<Object>, ApiError>;
}

#[tonic::async_trait]
impl<S: Store> Objects for Registry<S> {
    async fn get(
        &self,
        resource: &str,
        namespace: &str,
        name: &str,
    ) -> Result<Option<Object>, ApiError> {
        match Registry::get(self, resource, namespace, name).await {
            Ok(o) => Ok(Some(o)),
            Err(e) if e.reason == Reason::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// A fixed set of objects keyed by (resource, namespace, name), for tests.
#[derive(Default)]
pub struct ObjectMap(Mutex<BTreeMap<(String, String, String), Object>>);

impl ObjectMap {
    pub fn insert(&self, resource: &str, namespace: &str, name: &str, object: Object) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert((resource.into(), namespace.into(), name.into()), object);
    }

    pub fn remove(&self, resource: &str, namespace: &str, name: &str) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).remove(&(
            resource.into(),
            namespace.into(),
            name.into(),
        ));
    }
}

#[tonic::async_trait]
impl Objects for ObjectMap {
    async fn get(
        &self,
        resource: &str,
        namespace: &str,
        name: &str,
    ) -> Result<Option<Object>, ApiError> {
        Ok(self
            .0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&(resource.into(), namespace.into(), name.into()))
            .cloned())
    }
}

/// The object of kind `K`, or `None` when it does not exist.
pub async fn get_typed<K: proto::Resource>(
    objects: &dyn Objects,
    namespace: &str,
    name: &str,
) -> Result<Option<K>, ApiError> {
    let Some(object) = objects.get(K::INFO.plural, namespace, name).await? else {
        return Ok(None);
    };
    K::try_from_object(object).map(Some).map_err(|_| {
        ApiError::new(
            Reason::Internal,
            format!("the store returned another kind for {namespace}/{name}"),
        )
    })
}
