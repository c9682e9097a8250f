//! The `default/kubernetes` Service and its Endpoints (Kubernetes' master endpoint
//! reconciler): in-cluster clients find the apiserver at the first IP of the service CIDR,
//! port 443 (`https`), forwarded to the advertise address and port. Made or corrected at
//! every start; idempotent.

use std::collections::BTreeMap;
use std::net::IpAddr;

use proto::Resource;
use proto::k8s::{
    EndpointAddress, EndpointPort, EndpointSubset, Endpoints, ObjectMeta, Service, ServicePort,
    ServiceSpec,
};
use proto::{ApiError, Reason};
use tracing::{info, warn};

use crate::registry::Registry;
use crate::store::Store;

pub const NAMESPACE: &str = "default";
pub const NAME: &str = "kubernetes";
const PORT_NAME: &str = "https";
const SERVICE_PORT: i32 = 443;

/// Where the apiserver is to be found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    pub service_ip: IpAddr,
    pub advertise_address: IpAddr,
    pub port: u16,
}

fn labels() -> BTreeMap<String, String> {
    BTreeMap::from([
        ("component".to_string(), "apiserver".to_string()),
        ("provider".to_string(), "kubernetes".to_string()),
    ])
}

fn meta() -> ObjectMeta {
    ObjectMeta {
        name: NAME.to_string(),
        namespace: NAMESPACE.to_string(),
        labels: labels().into_iter().collect(),
        ..ObjectMeta::default()
    }
}

fn ports(target: &Target) -> Vec<ServicePort> {
    vec![ServicePort {
        name: PORT_NAME.to_string(),
        protocol: "TCP".to_string(),
        port: SERVICE_PORT,
        target_port: target.port.to_string(),
        ..ServicePort::default()
    }]
}

pub fn desired_service(target: &Target) -> Service {
    Service {
        metadata: Some(meta()),
        spec: Some(ServiceSpec {
            r#type: "ClusterIP".to_string(),
            cluster_ip: target.service_ip.to_string(),
            cluster_ips: vec![target.service_ip.to_string()],
            ports: ports(target),
            session_affinity: "None".to_string(),
            ..ServiceSpec::default()
        }),
        ..Service::default()
    }
}

pub fn desired_endpoints(target: &Target) -> Endpoints {
    let mut m = meta();
    // Kubernetes: the EndpointSlice mirroring controller leaves this one alone.
    m.labels.insert(
        "endpointslice.kubernetes.io/skip-mirror".to_string(),
        "true".to_string(),
    );
    Endpoints {
        metadata: Some(m),
        subsets: vec![EndpointSubset {
            addresses: vec![EndpointAddress {
                ip: target.advertise_address.to_string(),
                ..EndpointAddress::default()
            }],
            not_ready_addresses: Vec::new(),
            ports: vec![EndpointPort {
                name: PORT_NAME.to_string(),
                port: i32::from(target.port),
                protocol: "TCP".to_string(),
                app_protocol: None,
            }],
        }],
        ..Endpoints::default()
    }
}

/// The existing Service corrected (ports, type, labels), or `None` when it is right. The
/// cluster IP is immutable: a different one is reported, not changed.
pub fn corrected_service(existing: &Service, target: &Target) -> Option<Service> {
    let mut s = existing.clone();
    let spec = s.spec.get_or_insert_with(ServiceSpec::default);
    spec.ports = ports(target);
    spec.r#type = "ClusterIP".to_string();
    let meta = s.meta_mut();
    for (k, v) in labels() {
        meta.labels.insert(k, v);
    }
    (s != *existing).then_some(s)
}

/// The existing Endpoints corrected, or `None` when they are right.
pub fn corrected_endpoints(existing: &Endpoints, target: &Target) -> Option<Endpoints> {
    let desired = desired_endpoints(target);
    let mut e = existing.clone();
    e.subsets = desired.subsets;
    let meta = e.meta_mut();
    for (k, v) in desired.metadata.unwrap_or_default().labels {
        meta.labels.insert(k, v);
    }
    (e != *existing).then_some(e)
}

async fn get<S: Store, K: Resource>(registry: &Registry<S>) -> Result<Option<K>, ApiError> {
    match registry.get(K::INFO.plural, NAMESPACE, NAME).await {
        Ok(o) => K::try_from_object(o)
            .map(Some)
            .map_err(|_| ApiError::new(Reason::Internal, "the store returned another kind")),
        Err(e) if e.reason == Reason::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Makes `default/kubernetes` (Service and Endpoints) point at `target`.
pub async fn reconcile<S: Store>(registry: &Registry<S>, target: &Target) -> Result<(), ApiError> {
    match get::<S, Service>(registry).await? {
        None => {
            registry
                .create(desired_service(target).into_object(), false)
                .await?;
            info!(cluster_ip = %target.service_ip, "created Service default/kubernetes");
        }
        Some(existing) => {
            let ip = existing
                .spec
                .as_ref()
                .map(|s| s.cluster_ip.as_str())
                .unwrap_or("");
            if ip != target.service_ip.to_string() {
                warn!(cluster_ip = ip, wanted = %target.service_ip, "Service default/kubernetes has another cluster IP (immutable); in-cluster clients finding it by the first service IP will fail: delete it to have it made again");
            }
            if let Some(s) = corrected_service(&existing, target) {
                registry.update(s.into_object(), "", false).await?;
                info!("corrected Service default/kubernetes");
            }
        }
    }
    match get::<S, Endpoints>(registry).await? {
        None => {
            registry
                .create(desired_endpoints(target).into_object(), false)
                .await?;
            info!(address = %target.advertise_address, port = target.port, "created Endpoints default/kubernetes");
        }
        Some(existing) => {
            if let Some(e) = corrected_endpoints(&existing, target) {
                registry.update(e.into_object(), "", false).await?;
                info!(address = %target.advertise_address, port = target.port, "corrected Endpoints default/kubernetes");
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(port: u16) -> Target {
        Target {
            service_ip: "10.96.0.1".parse().unwrap(),
            advertise_address: "192.0.2.10".parse().unwrap(),
            port,
        }
    }

    #[test]
    fn desired_objects_match_kubernetes() {
        let s = desired_service(&target(6443));
        let spec = s.spec.as_ref().unwrap();
        assert_eq!(spec.cluster_ip, "10.96.0.1");
        assert!(spec.selector.is_empty(), "no selector: endpoints are ours");
        assert_eq!(spec.ports[0].name, "https");
        assert_eq!(spec.ports[0].port, 443);
        assert_eq!(spec.ports[0].target_port, "6443");
        assert_eq!(s.meta().labels.get("component").unwrap(), "apiserver");
        assert_eq!(s.meta().labels.get("provider").unwrap(), "kubernetes");
        let e = desired_endpoints(&target(6443));
        assert_eq!(e.subsets[0].addresses[0].ip, "192.0.2.10");
        assert_eq!(e.subsets[0].ports[0].port, 6443);
        assert_eq!(e.subsets[0].ports[0].name, "https");
    }

    #[test]
    fn correct_objects_are_left_alone_and_wrong_ones_fixed() {
        let t = target(6443);
        let s = desired_service(&t);
        assert_eq!(corrected_service(&s, &t), None);
        let e = desired_endpoints(&t);
        assert_eq!(corrected_endpoints(&e, &t), None);
        // A restart on another port or address corrects both.
        let moved = Target {
            advertise_address: "192.0.2.11".parse().unwrap(),
            ..target(7443)
        };
        let fixed = corrected_service(&s, &moved).unwrap();
        assert_eq!(fixed.spec.unwrap().ports[0].target_port, "7443");
        let fixed = corrected_endpoints(&e, &moved).unwrap();
        assert_eq!(fixed.subsets[0].addresses[0].ip, "192.0.2.11");
        assert_eq!(fixed.subsets[0].ports[0].port, 7443);
        // Extra labels a user added stay.
        let mut labelled = s.clone();
        labelled
            .meta_mut()
            .labels
            .insert("team".into(), "infra".into());
        assert_eq!(corrected_service(&labelled, &t), None);
    }
}
