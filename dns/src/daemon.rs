//! The daemon: flags, the UDP and TCP listeners, informers on Services and Endpoints that
//! rebuild the table, and the kube-dns registration.
//!
//! Informer handlers only wake the rebuild loop; the loop rebuilds the whole table from
//! the caches (a burst of changes costs one rebuild) and publishes it through a watch
//! channel the serving loops read without locking.

use crate::acl::{self, Acl, Net};
use crate::error::Error;
use crate::register::{self, Registration};
use crate::server::{self, TableRx};
use crate::table::Table;
use client::{Api, Client, Informer, InformerConfig};
use proto::k8s::{Endpoints, Node, Service};
use std::net::{Ipv4Addr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Instant;
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// Flags (Kubernetes' and CoreDNS' names where they have one).
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "cluster-dns",
    about = "Answers DNS queries for Services (<svc>.<ns>.svc.<domain>) from the apiserver's objects"
)]
pub struct Config {
    /// How to reach the apiserver: `--kubeconfig FILE` (server, CA, credentials) and/or
    /// `--server URL` (without a kubeconfig: plaintext, http://127.0.0.1:6443 by default).
    #[command(flatten)]
    pub connection: client::daemon::ConnectionFlags,
    /// UDP and TCP address to serve on. Default: `<advertise-address>:53` when that is
    /// given, else `0.0.0.0:53`. A UDP socket on 0.0.0.0 answers from whatever address the
    /// route to the client picks (the pod bridge's, for a pod on this node), which does not
    /// match the DNAT kube-proxy made for the Service IP; so a registered server binds the
    /// advertised address.
    #[arg(long)]
    pub listen: Option<SocketAddr>,
    /// The domain this server is authoritative for.
    #[arg(long, default_value = "cluster.local")]
    pub cluster_domain: String,
    /// Where names outside the cluster domain go (`ip` or `ip:port`); without it they are
    /// refused.
    #[arg(long, value_parser = parse_upstream)]
    pub upstream: Option<SocketAddr>,
    /// This server's address as the nodes reach it: with it, the server registers as the
    /// Service kube-system/kube-dns and lists itself in its Endpoints.
    #[arg(long)]
    pub advertise_address: Option<Ipv4Addr>,
    /// The cluster IP the kube-dns Service asks for (kubelets' --cluster-dns).
    #[arg(long, default_value = "10.96.0.10")]
    pub service_ip: Ipv4Addr,
    /// The pod range (the controller-manager's `--cluster-cidr`): pods may ask. So may the
    /// nodes (their InternalIPs, from the apiserver) and loopback; anyone else is REFUSED.
    #[arg(long, default_value = "10.244.0.0/16")]
    pub cluster_cidr: Net,
    /// More client ranges to answer (comma list), e.g. a node subnet or a Docker bridge.
    #[arg(long, value_delimiter = ',')]
    pub allowed_client_cidrs: Vec<Net>,
    /// `--metrics-bind-address` (default `0.0.0.0:9153`, CoreDNS' prometheus plugin port;
    /// `/metrics` with CoreDNS' names, and `/healthz`, `/livez`, `/readyz` on the same
    /// port) and `--tracing-endpoint`.
    #[command(flatten)]
    pub telemetry: client::daemon::TelemetryFlags,
}

/// CoreDNS' prometheus plugin port. Plain HTTP, as CoreDNS.
pub const DEFAULT_METRICS_ADDRESS: &str = "0.0.0.0:9153";

fn parse_upstream(s: &str) -> Result<SocketAddr, String> {
    s.parse::<SocketAddr>()
        .or_else(|_| {
            s.parse::<std::net::IpAddr>()
                .map(|ip| SocketAddr::new(ip, 53))
        })
        .map_err(|_| format!("{s:?} is not ip or ip:port"))
}

impl Config {
    /// Defaults, for tests that start the daemon in-process.
    pub fn new(server: &str) -> Self {
        Config {
            connection: client::daemon::ConnectionFlags::plaintext(server),
            listen: None,
            cluster_domain: "cluster.local".into(),
            upstream: None,
            advertise_address: None,
            service_ip: Ipv4Addr::new(10, 96, 0, 10),
            cluster_cidr: Net::from_str("10.244.0.0/16").expect("a valid CIDR"),
            allowed_client_cidrs: vec![],
            // Off: tests run several servers in one process.
            telemetry: client::daemon::TelemetryFlags {
                metrics_bind_address: Some(String::new()),
                tracing_endpoint: None,
            },
        }
    }

    /// The client ranges from the flags (the nodes' addresses come from the apiserver).
    fn static_acl(&self) -> Acl {
        let mut nets = vec![self.cluster_cidr];
        nets.extend(self.allowed_client_cidrs.iter().copied());
        Acl {
            nets,
            ..Default::default()
        }
    }

    /// Where to serve (see `--listen`).
    pub fn listen_addr(&self) -> SocketAddr {
        self.listen.unwrap_or_else(|| match self.advertise_address {
            Some(ip) => (ip, 53).into(),
            None => ([0, 0, 0, 0], 53).into(),
        })
    }

    fn validate(&self) -> Result<(), Error> {
        let d = self.cluster_domain.trim_end_matches('.');
        let ok = !d.is_empty()
            && d.split('.').all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            });
        if !ok {
            return Err(Error::InvalidFlag {
                flag: "--cluster-domain",
                reason: format!("{:?} is not a domain name", self.cluster_domain),
            });
        }
        Ok(())
    }
}

/// What a started server offers besides stopping.
pub struct Handles {
    pub udp_addr: SocketAddr,
    pub tcp_addr: SocketAddr,
    /// The table being served (`None` until the caches synced).
    pub table: TableRx,
    /// Where `/metrics` and the health endpoints are served (None: disabled).
    pub metrics_addr: Option<SocketAddr>,
}

/// A started daemon; `stop` ends it (a registered server takes itself out of the kube-dns
/// Endpoints first). `wait` returns only on error.
pub type Running = client::daemon::Running<Handles, Error>;

impl From<tokio::task::JoinError> for Error {
    fn from(e: tokio::task::JoinError) -> Self {
        Error::Task(e.to_string())
    }
}

/// Binds the listeners (a taken port is a start-up error) and starts serving. The
/// apiserver being down is not an error: the informers and the registration retry.
pub async fn start(config: Config) -> Result<Running, Error> {
    config.validate()?;
    let listen_err = |addr: SocketAddr| {
        move |source| Error::Listen {
            addr: addr.to_string(),
            source,
        }
    };
    let listen = config.listen_addr();
    // Port 0 (tests): TCP takes the port UDP got. Another socket may already hold that TCP
    // port (an ephemeral client port): then try another UDP port.
    let mut attempts = if listen.port() == 0 { 20 } else { 1 };
    let (udp, udp_addr, tcp, tcp_want) = loop {
        attempts -= 1;
        let udp = UdpSocket::bind(listen).await.map_err(listen_err(listen))?;
        let udp_addr = udp.local_addr().map_err(listen_err(listen))?;
        let tcp_want = SocketAddr::new(listen.ip(), udp_addr.port());
        match TcpListener::bind(tcp_want).await {
            Ok(tcp) => break (udp, udp_addr, tcp, tcp_want),
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse && attempts > 0 => continue,
            Err(e) => return Err(listen_err(tcp_want)(e)),
        }
    };
    let tcp_addr = tcp.local_addr().map_err(listen_err(tcp_want))?;
    let client = config.connection.client().map_err(|e| Error::InvalidFlag {
        flag: "--kubeconfig/--server",
        reason: e.to_string(),
    })?;
    let cancel = CancellationToken::new();
    let (tx, table) = watch::channel(None);
    // Registered now so /metrics lists build_info before the first query, as CoreDNS.
    crate::metrics::dns();
    let metrics_addr = serve_endpoints(&config, table.clone(), cancel.clone()).await?;
    let (acl_tx, acl) = watch::channel(Arc::new(config.static_acl()));
    let mut tasks = JoinSet::new();
    tasks.spawn(server::serve_udp(
        Arc::new(udp),
        table.clone(),
        acl.clone(),
        config.upstream,
        cancel.clone(),
    ));
    tasks.spawn(server::serve_tcp(
        tcp,
        table.clone(),
        acl,
        config.upstream,
        cancel.clone(),
    ));
    tracing::info!(udp = %udp_addr, tcp = %tcp_addr, domain = %config.cluster_domain,
        upstream = ?config.upstream, "serving DNS");
    let registration = config.advertise_address.map(|ip| Registration {
        advertise: ip,
        service_ip: config.service_ip,
        port: udp_addr.port(),
    });
    let task = tokio::spawn(run(
        config,
        client,
        registration,
        (tx, acl_tx),
        tasks,
        cancel.clone(),
    ));
    Ok(Running::new(
        Handles {
            udp_addr,
            tcp_addr,
            table,
            metrics_addr,
        },
        cancel,
        task,
    ))
}

/// `/metrics`, `/healthz`, `/livez`, `/readyz` on one port (CoreDNS has its health plugin
/// on 8080 `/health` and its ready plugin on 8181 `/ready`; here the kit's endpoints sit
/// beside the metrics). Ready once the Service and Endpoints caches synced and the table
/// is served, as CoreDNS' ready plugin waits for its kubernetes plugin.
async fn serve_endpoints(
    config: &Config,
    table: TableRx,
    cancel: CancellationToken,
) -> Result<Option<SocketAddr>, Error> {
    use client::daemon::{Serving, serve_endpoints};
    use telemetry::health::{Health, Probe};
    let health = Health::new();
    health.add_check("informer-sync", Probe::Readyz, move || {
        if table.borrow().is_some() {
            Ok(())
        } else {
            Err("the Service and Endpoints caches have not synced".into())
        }
    });
    // The kit logs the bound address (`serving /metrics, ...`).
    let addr = serve_endpoints(
        "cluster-dns",
        &config.telemetry,
        DEFAULT_METRICS_ADDRESS,
        health,
        Serving::Plain,
        cancel,
    )
    .await?;
    Ok(addr)
}

async fn run(
    config: Config,
    client: Client,
    registration: Option<Registration>,
    (table, acl): (watch::Sender<Option<Arc<Table>>>, watch::Sender<Arc<Acl>>),
    mut tasks: JoinSet<()>,
    cancel: CancellationToken,
) -> Result<(), Error> {
    let services: Informer<Service> =
        Informer::new(Api::all(client.clone()), InformerConfig::default());
    let endpoints: Informer<Endpoints> =
        Informer::new(Api::all(client.clone()), InformerConfig::default());
    let nodes: Informer<Node> = Informer::new(Api::all(client.clone()), InformerConfig::default());
    let wake = Arc::new(Notify::new());
    let w = wake.clone();
    nodes.add_handler(move |_| w.notify_one());
    let w = wake.clone();
    services.add_handler(move |_| w.notify_one());
    let w = wake.clone();
    endpoints.add_handler(move |_| w.notify_one());
    services.start();
    endpoints.start();
    nodes.start();
    tracing::info!(
        server = client.server(),
        "waiting for the Service and Endpoints caches"
    );
    let synced = tokio::select! {
        _ = cancel.cancelled() => false,
        s = async {
            services.wait_until_synced().await
                && endpoints.wait_until_synced().await
                && nodes.wait_until_synced().await
        } => s,
    };
    if synced {
        if let Some(r) = registration.clone() {
            tasks.spawn(register::run(client.clone(), r, cancel.clone()));
        }
        loop {
            let started = Instant::now();
            let t = Table::build(
                &config.cluster_domain,
                &services.store().list(),
                &endpoints.store().snapshot(),
            );
            tracing::debug!(
                records = t.len(),
                took_us = started.elapsed().as_micros() as u64,
                "table rebuilt"
            );
            table.send_replace(Some(Arc::new(t)));
            let mut a = config.static_acl();
            a.nodes = acl::node_addresses(nodes.store().list().iter().map(|n| n.as_ref()));
            acl.send_if_modified(|old| {
                let changed = **old != a;
                if changed {
                    tracing::info!(nodes = a.nodes.len(), "client ACL: node addresses changed");
                    *old = Arc::new(a);
                }
                changed
            });
            tokio::select! {
                _ = cancel.cancelled() => break,
                _ = wake.notified() => {}
            }
        }
    }
    services.stop();
    endpoints.stop();
    nodes.stop();
    tasks.shutdown().await;
    if let Some(r) = &registration {
        // Bounded: a dead apiserver must not hold up shutdown.
        let _ = tokio::time::timeout(
            std::time::Duration::from_secs(3),
            register::deregister(&client, r),
        )
        .await;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[test]
    fn flags_and_defaults() {
        let c = Config::parse_from(["cluster-dns"]);
        assert_eq!(c.listen_addr(), "0.0.0.0:53".parse().unwrap());
        assert_eq!(c.cluster_domain, "cluster.local");
        assert_eq!(c.upstream, None);
        // Unset: the daemon's default, CoreDNS' 0.0.0.0:9153.
        assert_eq!(c.telemetry.metrics_bind_address, None);
        assert_eq!(DEFAULT_METRICS_ADDRESS, "0.0.0.0:9153");
        let c = Config::parse_from([
            "cluster-dns",
            "--advertise-address",
            "192.168.1.5",
            "--upstream",
            "8.8.8.8",
        ]);
        assert_eq!(c.listen_addr(), "192.168.1.5:53".parse().unwrap());
        assert_eq!(c.upstream, Some("8.8.8.8:53".parse().unwrap()));
        assert_eq!(c.service_ip, Ipv4Addr::new(10, 96, 0, 10));
        assert_eq!(c.cluster_cidr.to_string(), "10.244.0.0/16");
        assert!(c.allowed_client_cidrs.is_empty());
        let c = Config::parse_from([
            "cluster-dns",
            "--cluster-cidr",
            "10.100.0.0/16",
            "--allowed-client-cidrs",
            "192.168.0.0/24,172.17.0.0/16",
        ]);
        let acl = c.static_acl();
        assert!(acl.allows("10.100.7.1".parse().unwrap()));
        assert!(acl.allows("172.17.0.3".parse().unwrap()));
        assert!(!acl.allows("10.244.0.3".parse().unwrap()));
        assert!(Config::try_parse_from(["cluster-dns", "--cluster-cidr", "10.1.0.0"]).is_err());
        let c = Config::parse_from([
            "cluster-dns",
            "--listen",
            "127.0.0.1:5353",
            "--upstream",
            "1.1.1.1:5353",
        ]);
        assert_eq!(c.listen_addr(), "127.0.0.1:5353".parse().unwrap());
        assert_eq!(c.upstream, Some("1.1.1.1:5353".parse().unwrap()));
        assert!(Config::try_parse_from(["cluster-dns", "--upstream", "dns.google"]).is_err());
        let mut bad = Config::new("http://x");
        bad.cluster_domain = "a..b".into();
        assert!(bad.validate().is_err());
    }
}
