//! The IPVS backend: what the kernel would hold (virtual servers, their real servers, the
//! service addresses bound to the dummy interface), as a pure function, and the start-up
//! check for the kernel support. Programming it (netlink IPVS and rtnetlink) is not built:
//! this machine's kernel has no IPVS (`CONFIG_IP_VS` off, no `modprobe`), so `--mode ipvs`
//! stops at start with an error naming the missing feature, as Kubernetes' kube-proxy does
//! when the ip_vs modules cannot be loaded.

use crate::backend::{Backend, Desired, mismatch};
use crate::error::Error;
use crate::model::{NodeConfig, Protocol, ServicePort, SyncOutcome};
use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

/// Kubernetes' default IPVS scheduler (round robin).
pub const DEFAULT_SCHEDULER: &str = "rr";
/// The interface Kubernetes binds service addresses to.
pub const DUMMY_INTERFACE: &str = "kube-ipvs0";

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct VirtualServer {
    pub address: Ipv4Addr,
    pub port: u16,
    pub protocol: Protocol,
    pub scheduler: String,
    /// Session affinity: persistence timeout in seconds.
    pub persistent_timeout: Option<u32>,
    /// Real servers `ip:port`, weight 1 each; empty for a service without ready endpoints
    /// (IPVS then has no destination and the connection is refused, as with REJECT).
    pub real_servers: Vec<(Ipv4Addr, u16)>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IpvsState {
    /// Keyed by (address, port, protocol), so a diff against the kernel is a map compare.
    pub virtual_servers: BTreeMap<(Ipv4Addr, u16, Protocol), VirtualServer>,
    /// Addresses to bind to the dummy interface (cluster and external IPs, not node IPs).
    pub bound_addresses: Vec<Ipv4Addr>,
}

/// The desired IPVS state: a virtual server per cluster IP, external IP and (for each of
/// `node_ips`) node port of every service port.
pub fn render_ipvs(ports: &[ServicePort], node_ips: &[Ipv4Addr]) -> IpvsState {
    let mut st = IpvsState::default();
    let mut bound = std::collections::BTreeSet::new();
    for sp in ports {
        let real: Vec<(Ipv4Addr, u16)> = sp.endpoints.iter().map(|e| (e.ip, e.port)).collect();
        let mut add = |address: Ipv4Addr, port: u16| {
            st.virtual_servers.insert(
                (address, port, sp.protocol),
                VirtualServer {
                    address,
                    port,
                    protocol: sp.protocol,
                    scheduler: DEFAULT_SCHEDULER.to_string(),
                    persistent_timeout: sp.affinity_timeout,
                    real_servers: real.clone(),
                },
            );
        };
        add(sp.cluster_ip, sp.port);
        bound.insert(sp.cluster_ip);
        for ip in &sp.external_ips {
            add(*ip, sp.port);
            bound.insert(*ip);
        }
        if let Some(np) = sp.node_port {
            for ip in node_ips {
                add(*ip, np);
            }
        }
    }
    st.bound_addresses = bound.into_iter().collect();
    st
}

/// The IPVS [`Backend`] as far as it goes: it renders the desired state (per Service, as
/// the other backends do) but cannot program it, so every sync fails with
/// `IpvsUnavailable`. The daemon never reaches it (`--mode ipvs` stops at start-up); it
/// keeps the computation on the same trait as the backends that run.
#[derive(Debug, Default)]
pub struct IpvsBackend {
    node_ips: Vec<Ipv4Addr>,
    /// By Service (`namespace/name`): its ports.
    services: BTreeMap<String, Vec<ServicePort>>,
}

impl IpvsBackend {
    /// `node_ips`: the addresses node ports are served on.
    pub fn new(node_ips: Vec<Ipv4Addr>) -> Self {
        IpvsBackend {
            node_ips,
            services: BTreeMap::new(),
        }
    }
}

impl Backend for IpvsBackend {
    fn name(&self) -> &'static str {
        "ipvs"
    }

    fn render_all(&mut self, ports: &[ServicePort], _node: &NodeConfig) -> Desired {
        self.services.clear();
        for sp in ports {
            self.services
                .entry(format!("{}/{}", sp.namespace, sp.name))
                .or_default()
                .push(sp.clone());
        }
        self.desired()
    }

    fn update_service(&mut self, service: &str, ports: &[ServicePort]) {
        if ports.is_empty() {
            self.services.remove(service);
        } else {
            self.services.insert(service.to_string(), ports.to_vec());
        }
    }

    fn desired(&self) -> Desired {
        let ports: Vec<ServicePort> = self.services.values().flatten().cloned().collect();
        Desired::Ipvs(Arc::new(render_ipvs(&ports, &self.node_ips)))
    }

    fn counts(&self) -> (usize, usize) {
        let ports = self.services.values().flatten();
        ports.fold((0, 0), |(p, e), sp| (p + 1, e + sp.endpoints.len()))
    }

    fn sync(&mut self, desired: &Desired, _full: bool) -> Result<SyncOutcome, Error> {
        match desired {
            Desired::Ipvs(_) => Err(Error::IpvsUnavailable {
                detail: "programming IPVS is not built; use --mode iptables".into(),
            }),
            _ => Err(mismatch(self.name())),
        }
    }

    fn cleanup(&mut self) -> Result<usize, Error> {
        Ok(0)
    }
}

/// Ok when the kernel can do IPVS: `/proc/net/ip_vs` exists, or appears after
/// `modprobe ip_vs`. The error names the kernel feature and what was tried.
pub fn check_kernel_support(proc_root: &Path) -> Result<(), Error> {
    let marker = proc_root.join("net/ip_vs");
    if marker.exists() {
        return Ok(());
    }
    let modprobe = match Command::new("modprobe").arg("ip_vs").output() {
        Ok(o) if o.status.success() => "modprobe ip_vs succeeded but changed nothing".to_string(),
        Ok(o) => format!(
            "modprobe ip_vs failed: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        ),
        Err(e) => format!("modprobe not available: {e}"),
    };
    if marker.exists() {
        return Ok(());
    }
    Err(Error::IpvsUnavailable {
        detail: format!(
            "{} is missing and {modprobe}; use --mode iptables",
            marker.display()
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Endpoint;

    fn sp(
        name: &str,
        ip: [u8; 4],
        port: u16,
        node_port: Option<u16>,
        eps: &[[u8; 4]],
    ) -> ServicePort {
        ServicePort {
            namespace: "ns".into(),
            name: name.into(),
            port_name: String::new(),
            protocol: Protocol::Tcp,
            cluster_ip: ip.into(),
            port,
            node_port,
            external_ips: vec![],
            affinity_timeout: None,
            endpoints: eps
                .iter()
                .map(|e| Endpoint {
                    ip: (*e).into(),
                    port: 8080,
                })
                .collect(),
        }
    }

    #[test]
    fn virtual_servers_for_cluster_ips_external_ips_and_node_ports() {
        let mut web = sp(
            "web",
            [10, 96, 0, 10],
            80,
            Some(30080),
            &[[10, 244, 0, 2], [10, 244, 0, 3]],
        );
        web.external_ips = vec![Ipv4Addr::new(192, 0, 2, 1)];
        web.affinity_timeout = Some(600);
        let empty = sp("empty", [10, 96, 0, 11], 81, None, &[]);
        let st = render_ipvs(&[web, empty], &[Ipv4Addr::new(172, 18, 0, 2)]);
        let keys: Vec<String> = st
            .virtual_servers
            .values()
            .map(|v| {
                format!(
                    "{}:{} {:?} rs={} persist={:?}",
                    v.address,
                    v.port,
                    v.protocol,
                    v.real_servers.len(),
                    v.persistent_timeout
                )
            })
            .collect();
        assert_eq!(
            keys,
            [
                "10.96.0.10:80 Tcp rs=2 persist=Some(600)",
                "10.96.0.11:81 Tcp rs=0 persist=None",
                "172.18.0.2:30080 Tcp rs=2 persist=Some(600)",
                "192.0.2.1:80 Tcp rs=2 persist=Some(600)",
            ]
        );
        assert_eq!(
            st.bound_addresses,
            [
                Ipv4Addr::new(10, 96, 0, 10),
                Ipv4Addr::new(10, 96, 0, 11),
                Ipv4Addr::new(192, 0, 2, 1)
            ],
            "node IPs are not bound to the dummy interface"
        );
        let vs = &st.virtual_servers[&(Ipv4Addr::new(10, 96, 0, 10), 80, Protocol::Tcp)];
        assert_eq!(vs.scheduler, "rr");
        assert_eq!(
            vs.real_servers,
            [
                (Ipv4Addr::new(10, 244, 0, 2), 8080),
                (Ipv4Addr::new(10, 244, 0, 3), 8080)
            ]
        );
    }

    #[test]
    fn missing_kernel_support_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let err = check_kernel_support(dir.path()).unwrap_err().to_string();
        assert!(err.contains("CONFIG_IP_VS"), "{err}");
        assert!(err.contains("net/ip_vs is missing"), "{err}");
        std::fs::create_dir_all(dir.path().join("net")).unwrap();
        std::fs::write(dir.path().join("net/ip_vs"), "").unwrap();
        assert!(check_kernel_support(dir.path()).is_ok());
    }
}
