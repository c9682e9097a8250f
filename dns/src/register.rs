//! Registration as Kubernetes' kube-dns Service: `kube-system/kube-dns` with the requested
//! cluster IP, ports `dns` 53/UDP and `dns-tcp` 53/TCP, no selector (so the endpoints
//! controller leaves its Endpoints alone), and Endpoints naming this server. Every
//! kube-proxy then sends the DNS Service IP here. The object builders and the Endpoints
//! merge are pure; `run` applies them, retrying with back-off while the apiserver is away.

use client::{Api, Backoff, Client};
use proto::ApiError;
use proto::k8s::{
    EndpointAddress, EndpointPort, EndpointSubset, Endpoints, ObjectMeta, Service, ServicePort,
    ServiceSpec,
};
use proto::resource::Resource;
use std::net::Ipv4Addr;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

pub const NAMESPACE: &str = "kube-system";
pub const NAME: &str = "kube-dns";
/// How often a registered server checks its objects are still there.
pub const RECHECK: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    /// This server's address, as every node can reach it.
    pub advertise: Ipv4Addr,
    /// The Service's cluster IP (what kubelets put in resolv.conf).
    pub service_ip: Ipv4Addr,
    /// The port this server listens on (the Endpoints' port, the Service's targetPort).
    pub port: u16,
}

fn meta() -> Option<ObjectMeta> {
    Some(ObjectMeta {
        name: NAME.into(),
        namespace: NAMESPACE.into(),
        labels: [("k8s-app".to_string(), "kube-dns".to_string())].into(),
        ..Default::default()
    })
}

pub fn desired_service(r: &Registration) -> Service {
    let port = |name: &str, proto: &str| ServicePort {
        name: name.into(),
        protocol: proto.into(),
        port: 53,
        target_port: r.port.to_string(),
        ..Default::default()
    };
    Service {
        metadata: meta(),
        spec: Some(ServiceSpec {
            cluster_ip: r.service_ip.to_string(),
            r#type: "ClusterIP".into(),
            ports: vec![port("dns", "UDP"), port("dns-tcp", "TCP")],
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn endpoint_ports(port: u16) -> Vec<EndpointPort> {
    let p = |name: &str, proto: &str| EndpointPort {
        name: name.into(),
        port: i32::from(port),
        protocol: proto.into(),
        ..Default::default()
    };
    vec![p("dns", "UDP"), p("dns-tcp", "TCP")]
}

/// The Endpoints to write, or `None` when `current` already lists this server with the
/// right ports. Other servers' addresses (several nodes may run one) are kept.
pub fn desired_endpoints(r: &Registration, current: Option<&Endpoints>) -> Option<Endpoints> {
    let me = r.advertise.to_string();
    let ports = endpoint_ports(r.port);
    let mut ips: Vec<String> = current
        .into_iter()
        .flat_map(|e| &e.subsets)
        .filter(|s| s.ports == ports)
        .flat_map(|s| &s.addresses)
        .map(|a| a.ip.clone())
        .collect();
    let ok = current.is_some_and(|e| e.subsets.len() == 1) && ips.contains(&me);
    if ok {
        return None;
    }
    ips.push(me);
    ips.sort();
    ips.dedup();
    let mut ep = current.cloned().unwrap_or_else(|| Endpoints {
        metadata: meta(),
        ..Default::default()
    });
    ep.subsets = vec![EndpointSubset {
        addresses: ips
            .into_iter()
            .map(|ip| EndpointAddress {
                ip,
                ..Default::default()
            })
            .collect(),
        not_ready_addresses: vec![],
        ports,
    }];
    Some(ep)
}

/// The Endpoints without this server (on shutdown), or `None` if it is not listed.
pub fn without_me(r: &Registration, current: &Endpoints) -> Option<Endpoints> {
    let me = r.advertise.to_string();
    if !current
        .subsets
        .iter()
        .any(|s| s.addresses.iter().any(|a| a.ip == me))
    {
        return None;
    }
    let mut ep = current.clone();
    for s in &mut ep.subsets {
        s.addresses.retain(|a| a.ip != me);
    }
    ep.subsets.retain(|s| !s.addresses.is_empty());
    Some(ep)
}

/// One pass: creates what is missing, fixes the Endpoints. Idempotent.
pub async fn ensure(client: &Client, r: &Registration) -> Result<(), ApiError> {
    let services: Api<Service> = Api::namespaced(client.clone(), NAMESPACE);
    match services.get_opt(NAME).await? {
        None => {
            services.create(&desired_service(r)).await?;
            tracing::info!(service_ip = %r.service_ip, "created Service kube-system/kube-dns");
        }
        Some(svc) => {
            let ip = svc
                .spec
                .as_ref()
                .map(|s| s.cluster_ip.as_str())
                .unwrap_or("");
            if ip != r.service_ip.to_string() {
                // The cluster IP is immutable: a user must delete the Service to change it.
                tracing::warn!(
                    existing = ip, wanted = %r.service_ip,
                    "Service kube-system/kube-dns has another cluster IP; kubelets' --cluster-dns must name it"
                );
            }
        }
    }
    let endpoints: Api<Endpoints> = Api::namespaced(client.clone(), NAMESPACE);
    let current = endpoints.get_opt(NAME).await?;
    if let Some(ep) = desired_endpoints(r, current.as_ref()) {
        if current.is_some() {
            endpoints.update(&ep).await?;
        } else {
            endpoints.create(&ep).await?;
        }
        tracing::info!(address = %r.advertise, port = r.port, "registered in Endpoints kube-system/kube-dns");
    }
    Ok(())
}

/// Best effort, on shutdown: takes this server out of the Endpoints so kube-proxies stop
/// sending queries to it.
pub async fn deregister(client: &Client, r: &Registration) {
    let endpoints: Api<Endpoints> = Api::namespaced(client.clone(), NAMESPACE);
    let res = async {
        if let Some(cur) = endpoints.get_opt(NAME).await?
            && let Some(ep) = without_me(r, &cur)
        {
            endpoints.update(&ep).await?;
            tracing::info!(address = %r.advertise, key = %cur.meta().name, "deregistered from Endpoints kube-system/kube-dns");
        }
        Ok::<(), ApiError>(())
    }
    .await;
    if let Err(e) = res {
        tracing::warn!(error = %e, "deregistering from Endpoints kube-system/kube-dns failed");
    }
}

/// Keeps the registration in place until cancelled: retries with back-off while the
/// apiserver is unreachable (or a write conflicts), then re-checks every [`RECHECK`].
pub async fn run(client: Client, r: Registration, cancel: CancellationToken) {
    let mut backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(10));
    loop {
        let wait = match ensure(&client, &r).await {
            Ok(()) => {
                backoff.reset();
                RECHECK
            }
            Err(e) => {
                let d = backoff.next_delay();
                tracing::warn!(error = %e, retry_in = ?d, "registering kube-system/kube-dns failed");
                d
            }
        };
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reg() -> Registration {
        Registration {
            advertise: Ipv4Addr::new(192, 168, 1, 5),
            service_ip: Ipv4Addr::new(10, 96, 0, 10),
            port: 53,
        }
    }

    #[test]
    fn service_shape() {
        let s = desired_service(&reg());
        let m = s.metadata.as_ref().unwrap();
        assert_eq!(
            (m.namespace.as_str(), m.name.as_str()),
            ("kube-system", "kube-dns")
        );
        assert_eq!(m.labels["k8s-app"], "kube-dns");
        let spec = s.spec.unwrap();
        assert_eq!(spec.cluster_ip, "10.96.0.10");
        assert!(spec.selector.is_empty());
        let ports: Vec<_> = spec
            .ports
            .iter()
            .map(|p| (p.name.as_str(), p.protocol.as_str(), p.port))
            .collect();
        assert_eq!(ports, vec![("dns", "UDP", 53), ("dns-tcp", "TCP", 53)]);
    }

    #[test]
    fn endpoints_are_created_merged_and_left_alone_when_right() {
        let r = reg();
        let created = desired_endpoints(&r, None).unwrap();
        assert_eq!(created.subsets[0].addresses[0].ip, "192.168.1.5");
        assert_eq!(created.subsets[0].ports.len(), 2);
        // Already right: nothing to write.
        assert_eq!(desired_endpoints(&r, Some(&created)), None);
        // Another server registered: both listed.
        let other = Registration {
            advertise: Ipv4Addr::new(192, 168, 1, 6),
            ..reg()
        };
        let both = desired_endpoints(&other, Some(&created)).unwrap();
        let ips: Vec<_> = both.subsets[0]
            .addresses
            .iter()
            .map(|a| a.ip.as_str())
            .collect();
        assert_eq!(ips, vec!["192.168.1.5", "192.168.1.6"]);
        // Another port: the old subset is replaced.
        let moved = Registration {
            port: 5353,
            ..reg()
        };
        let m = desired_endpoints(&moved, Some(&created)).unwrap();
        assert_eq!(m.subsets[0].ports[0].port, 5353);
        assert_eq!(m.subsets[0].addresses.len(), 1);
        // Leaving.
        let left = without_me(&other, &both).unwrap();
        assert_eq!(left.subsets[0].addresses.len(), 1);
        assert_eq!(without_me(&other, &left), None);
        assert!(without_me(&r, &left).unwrap().subsets.is_empty());
    }
}
