//! The repair pass Kubernetes runs at start (its `repair` controllers for IPs and ports):
//! the reservations must be exactly what the stored Services hold. A crash between
//! reserving and writing a Service leaves a reservation without its owner; one between
//! deleting a Service and releasing leaves the same; a store written before this allocator
//! existed has Services without reservations. Idempotent: a second run changes nothing.

use std::collections::BTreeMap;

use bytes::Bytes;
use proto::ApiError;
use tracing::{info, warn};

use super::{
    IP_PREFIX, PORT_PREFIX, ServiceAllocator, ip_key, owner_tag, plan, port_key, service_spec,
};
use crate::codec::decode;
use crate::store::{self, Store};

const SERVICES_PREFIX: &str = "/registry/services/";

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Repaired {
    /// Reservations whose Service is gone or no longer holds the value.
    pub released: usize,
    /// Values Services held without a reservation.
    pub reserved: usize,
    /// Values two Services claim; the first (by key) keeps its reservation.
    pub duplicates: usize,
}

fn internal(e: store::Error) -> ApiError {
    ApiError::internal(format!("repairing service allocations: {e}"))
}

pub(super) async fn repair<S: Store>(
    alloc: &ServiceAllocator,
    store: &S,
) -> Result<Repaired, ApiError> {
    let mut report = Repaired::default();
    // Reservation key -> the owner tag of the Service that should hold it.
    let mut claims: BTreeMap<String, String> = BTreeMap::new();
    let services = store
        .list(SERVICES_PREFIX, None, 0)
        .await
        .map_err(internal)?;
    for kv in &services.items {
        let object = decode(&kv.value, kv.mod_revision)?;
        let Some(spec) = service_spec(&object) else {
            continue;
        };
        // Values outside the configured ranges (set under other flags) stay unreserved,
        // as Kubernetes leaves them.
        let ip = plan::held_ip(spec)
            .filter(|ip| alloc.cidr.contains(*ip))
            .map(ip_key);
        let ports = plan::held_ports(spec)
            .into_iter()
            .filter(|p| alloc.ports.contains(i32::from(*p)))
            .map(port_key);
        let owner = owner_tag(&kv.key, &object);
        for key in ip.into_iter().chain(ports) {
            if let Some(first) = claims.get(&key) {
                warn!(reservation = %key, holder = %first, also = %kv.key, "two services hold the same value");
                report.duplicates += 1;
                continue;
            }
            claims.insert(key, owner.clone());
        }
    }

    for prefix in [IP_PREFIX, PORT_PREFIX] {
        let held = store.list(prefix, None, 0).await.map_err(internal)?;
        for kv in held.items {
            if claims.get(&kv.key).map(String::as_bytes) == Some(&kv.value[..]) {
                claims.remove(&kv.key);
                continue;
            }
            match store.delete(&kv.key, Some(kv.mod_revision)).await {
                Ok(_) | Err(store::Error::NotFound(_)) => report.released += 1,
                Err(e) => return Err(internal(e)),
            }
        }
    }
    for (key, owner) in claims {
        match store.create(&key, Bytes::from(owner)).await {
            Ok(_) => report.reserved += 1,
            Err(e) => return Err(internal(e)),
        }
    }
    if report != Repaired::default() {
        info!(
            released = report.released,
            reserved = report.reserved,
            duplicates = report.duplicates,
            "repaired service allocations"
        );
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::encode;
    use crate::store::sled_store::{SledOptions, SledStore};
    use proto::Resource;
    use proto::k8s::{Service, ServicePort, ServiceSpec};

    fn nodeport_service(name: &str, ip: &str, port: i32) -> proto::k8s::Object {
        let mut s = Service {
            spec: Some(ServiceSpec {
                r#type: "NodePort".into(),
                cluster_ip: ip.into(),
                ports: vec![ServicePort {
                    port: 80,
                    node_port: port,
                    ..Default::default()
                }],
                ..Default::default()
            }),
            ..Default::default()
        };
        s.meta_mut().name = name.into();
        s.meta_mut().namespace = "default".into();
        s.meta_mut().uid = format!("uid-{name}");
        s.into_object()
    }

    async fn value(store: &SledStore, key: &str) -> Option<String> {
        let kv = store.get(key).await.unwrap()?;
        Some(String::from_utf8(kv.value.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn releases_orphans_reserves_what_services_hold_and_is_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path(), SledOptions::default()).unwrap();
        let alloc = ServiceAllocator::default();
        let key = "/registry/services/default/web";
        let owner = "/registry/services/default/web#uid-web";
        // A Service written without reservations (a crash, or an older store) ...
        let svc = nodeport_service("web", "10.96.0.20", 30020);
        store.create(key, encode(&svc)).await.unwrap();
        // ... one holding a value outside the range, left alone ...
        let old = nodeport_service("old", "10.0.0.9", 30021);
        store
            .create("/registry/services/default/old", encode(&old))
            .await
            .unwrap();
        // ... a reservation whose Service never got written, and one for a value the
        // Service no longer holds.
        let gone = "/registry/services/default/gone";
        store
            .create(&ip_key("10.96.0.30".parse().unwrap()), gone.into())
            .await
            .unwrap();
        store
            .create(&port_key(30099), Bytes::from(owner))
            .await
            .unwrap();
        // ... and one an earlier Service of the same name left behind.
        store
            .create(&port_key(30020), Bytes::from(format!("{key}#uid-earlier")))
            .await
            .unwrap();

        let first = repair(&alloc, &store).await.unwrap();
        assert_eq!(
            first,
            Repaired {
                released: 3,
                reserved: 3,
                duplicates: 0
            }
        );
        assert_eq!(
            value(&store, &ip_key("10.96.0.20".parse().unwrap()))
                .await
                .as_deref(),
            Some(owner)
        );
        assert_eq!(
            value(&store, &port_key(30020)).await.as_deref(),
            Some(owner)
        );
        assert_eq!(
            value(&store, &port_key(30021)).await.as_deref(),
            Some("/registry/services/default/old#uid-old"),
            "an in-range port of a Service whose IP is out of range is still reserved"
        );
        assert_eq!(
            value(&store, &ip_key("10.0.0.9".parse().unwrap())).await,
            None
        );
        assert_eq!(
            value(&store, &ip_key("10.96.0.30".parse().unwrap())).await,
            None
        );
        assert_eq!(value(&store, &port_key(30099)).await, None);

        assert_eq!(repair(&alloc, &store).await.unwrap(), Repaired::default());
    }

    #[tokio::test]
    async fn two_services_with_one_value_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path(), SledOptions::default()).unwrap();
        for name in ["a", "b"] {
            let svc = nodeport_service(name, "10.96.0.20", 30020);
            store
                .create(&format!("/registry/services/default/{name}"), encode(&svc))
                .await
                .unwrap();
        }
        let r = repair(&ServiceAllocator::default(), &store).await.unwrap();
        assert_eq!((r.reserved, r.duplicates), (2, 2));
        assert_eq!(
            value(&store, &port_key(30020)).await.as_deref(),
            Some("/registry/services/default/a#uid-a")
        );
    }
}
