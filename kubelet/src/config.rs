//! The kubelet's flags.

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "kubelet",
    about = "Runs the pods bound to this node through Docker",
    after_help = "The kubelet's metrics are served on its API port (--port): /metrics, \
/metrics/cadvisor and /metrics/resource, authorized as nodes/metrics; \
--metrics-bind-address is not used by the kubelet. /healthz is also served in plain \
HTTP on --healthz-bind-address:--healthz-port."
)]
pub struct Config {
    /// `--tracing-endpoint` (OTLP/gRPC span export); the kit's `--metrics-bind-address`
    /// is not used by the kubelet, whose metrics are on its API port.
    #[command(flatten)]
    pub telemetry: client::daemon::TelemetryFlags,
    /// `--kubeconfig FILE` (server, CA, credentials) and `--server URL` (overrides the
    /// kubeconfig's; alone and `http://`: plaintext development mode; with
    /// `--bootstrap-token`: the `https://` apiserver to join). `$KUBELET_SERVER` stands in
    /// for `--server`.
    #[command(flatten)]
    pub connection: client::daemon::ConnectionFlags,
    /// Join with this bootstrap token (`<id>.<secret>`, `ctl token create`): the kubelet
    /// asks for its client certificate through a CertificateSigningRequest (kubeadm join).
    #[arg(long, value_name = "ID.SECRET")]
    pub bootstrap_token: Option<String>,
    /// `sha256:<hex>` of the cluster CA's public key: the CA the apiserver presents must
    /// match it (kubeadm's `--discovery-token-ca-cert-hash`).
    #[arg(long, value_name = "sha256:HEX")]
    pub ca_cert_hash: Option<String>,
    /// Renew the client (and requested serving) certificates before they expire.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1,
          default_missing_value = "true")]
    pub rotate_certificates: bool,
    /// Serving certificate of the kubelet API (chain PEM); without it the kubelet asks for
    /// one (signer kubernetes.io/kubelet-serving) once its Node is registered.
    #[arg(long, requires = "tls_private_key_file")]
    pub tls_cert_file: Option<PathBuf>,
    #[arg(long, requires = "tls_cert_file")]
    pub tls_private_key_file: Option<PathBuf>,
    /// CA bundle that kubelet API client certificates must chain to (default: the CA the
    /// apiserver is trusted by).
    #[arg(long)]
    pub client_ca_file: Option<PathBuf>,
    /// How kubelet API calls are authorized (secure mode): Webhook (a SubjectAccessReview
    /// per user and call, cached) or AlwaysAllow.
    #[arg(long, value_enum, default_value_t = AuthorizationMode::Webhook)]
    pub authorization_mode: AuthorizationMode,
    /// Let kubelet API callers without a client certificate in as `system:anonymous`.
    #[arg(long, default_value_t = false, action = clap::ArgAction::Set, num_args = 0..=1,
          default_missing_value = "true")]
    pub anonymous_auth: bool,
    /// This node's name (default: the host name).
    #[arg(long)]
    pub node_name: Option<String>,
    /// The node's InternalIP (default: the first non-loopback IPv4 address).
    #[arg(long)]
    pub node_ip: Option<Ipv4Addr>,
    /// Where pod volumes and the IP allocations live.
    #[arg(long, default_value = "/var/lib/kubelet")]
    pub root_dir: PathBuf,
    /// The directory local-path volumes of this node live under: a Released local-path
    /// volume with reclaim policy Delete has its directory removed only if it is beneath.
    #[arg(long, default_value = crate::volumes::local_path::DEFAULT_ROOT)]
    pub local_path_root: PathBuf,
    /// Loads every `docker save` tarball (*.tar) in this directory at start.
    #[arg(long)]
    pub image_dir: Option<PathBuf>,
    /// `key=value,...` labels registered with the node.
    #[arg(long, default_value = "")]
    pub node_labels: String,
    /// `key=value:Effect,...` taints registered with the node.
    #[arg(long, default_value = "")]
    pub register_with_taints: String,
    /// Pod network: the node's pod CIDR until the Node's spec.podCIDR is set. Without it and
    /// without spec.podCIDR, pods use Docker's default bridge.
    #[arg(long)]
    pub pod_cidr: Option<String>,
    /// The cluster's pod range (the controller-manager's `--cluster-cidr`): routes to other
    /// nodes' podCIDRs are installed only for proper subnets of it.
    #[arg(long, default_value = "10.244.0.0/16")]
    pub cluster_cidr: String,
    /// The bridge the kubelet makes for its pods (pod network mode).
    #[arg(long, default_value = "cni0")]
    pub bridge_name: String,
    /// Prefix of every container name, so several kubelets can share one Docker engine.
    #[arg(long, default_value = "k8s")]
    pub container_prefix: String,
    /// The static busybox the pause and busybox images are made from.
    #[arg(long, default_value = "/bin/busybox")]
    pub busybox: PathBuf,
    #[arg(long, default_value_t = 110)]
    pub max_pods: u32,
    /// Address of the kubelet API (logs, exec, stats; HTTP metrics and healthz).
    #[arg(long, default_value = "0.0.0.0")]
    pub address: std::net::IpAddr,
    /// Port of the kubelet API; 0 picks a free one (reported in the Node's
    /// status.daemonEndpoints).
    #[arg(long, default_value_t = 10250)]
    pub port: u16,
    /// Address of the plain-HTTP `/healthz` endpoint (no authentication, as Kubernetes').
    #[arg(long, default_value = "127.0.0.1")]
    pub healthz_bind_address: std::net::IpAddr,
    /// Port of the plain-HTTP `/healthz` endpoint; 0 disables it. (The kubelet's metrics
    /// are on its API port, `--port`: `/metrics`, `/metrics/cadvisor`, `/metrics/resource`.)
    #[arg(long, default_value_t = 10248)]
    pub healthz_port: u16,
    /// Image GC starts above this use of the image filesystem, in percent (100 disables).
    #[arg(long, default_value_t = 85, value_parser = clap::value_parser!(u8).range(0..=100))]
    pub image_gc_high_threshold: u8,
    /// Image GC frees space down to this use, in percent.
    #[arg(long, default_value_t = 80, value_parser = clap::value_parser!(u8).range(0..=100))]
    pub image_gc_low_threshold: u8,
    /// How often a pod worker looks at its containers when nothing happens (e.g. `1s`).
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    pub sync_frequency: Duration,
    /// Duration of the node's Lease; the kubelet renews it every quarter of this. The node
    /// lifecycle controller's `--node-monitor-grace-period` must stay above it.
    #[arg(long, default_value_t = crate::node::LEASE_DURATION_SECS,
          value_parser = clap::value_parser!(i32).range(1..))]
    pub node_lease_duration_seconds: i32,
    /// How often the node status is compared and posted when it changed.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub node_status_update_frequency: Duration,
    /// Cluster DNS server addresses (comma list, e.g. the kube-dns Service IP 10.96.0.10):
    /// pods with dnsPolicy ClusterFirst get them in /etc/resolv.conf. Without it, pods keep
    /// Docker's resolv.conf.
    #[arg(long, value_delimiter = ',')]
    pub cluster_dns: Vec<Ipv4Addr>,
    /// The cluster's DNS domain: pods search `<ns>.svc.<domain> svc.<domain> <domain>`.
    #[arg(long, default_value = "cluster.local")]
    pub cluster_domain: String,
    /// The host resolv.conf that pods with dnsPolicy Default and a dnsConfig start from.
    #[arg(long, default_value = "/etc/resolv.conf")]
    pub resolv_conf: PathBuf,
    /// Where the JSON profiles of `seccompProfile: {type: Localhost}` live (default:
    /// `<root-dir>/seccomp`); `localhostProfile` is relative to it.
    #[arg(long)]
    pub seccomp_profile_root: Option<PathBuf>,
    /// Unsafe sysctls pods may set besides Kubernetes' safe set (comma list of names or
    /// `prefix*` patterns, e.g. `kernel.msg*,net.core.somaxconn`); namespaced ones only.
    #[arg(long, value_delimiter = ',')]
    pub allowed_unsafe_sysctls: Vec<String>,
    /// Containers without a seccompProfile run with the runtime's default profile
    /// (RuntimeDefault) instead of Unconfined, as Kubernetes' `--seccomp-default`.
    /// `scripts/cluster-up.sh` turns it on.
    #[arg(long)]
    pub seccomp_default: bool,
}

/// `--authorization-mode` of the kubelet API (Kubernetes' names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AuthorizationMode {
    #[value(name = "Webhook")]
    Webhook,
    #[value(name = "AlwaysAllow")]
    AlwaysAllow,
}

impl Config {
    /// `--server`, else `$KUBELET_SERVER`.
    pub fn server(&self) -> Option<String> {
        self.connection
            .server
            .clone()
            .filter(|s| !s.trim().is_empty())
            .or_else(|| std::env::var("KUBELET_SERVER").ok())
            .filter(|s| !s.trim().is_empty())
    }

    pub fn seccomp_root(&self) -> PathBuf {
        self.seccomp_profile_root
            .clone()
            .unwrap_or_else(|| self.root_dir.join("seccomp"))
    }
}

/// Go's durations (`1m30s`, `250ms`); a bare number is seconds, as this flag always took it.
pub use proto::duration::parse_flag_seconds as parse_duration;

#[cfg(test)]
mod tests {
    #[test]
    fn secure_flags_parse_with_kubernetes_defaults() {
        use clap::Parser;
        let c = super::Config::parse_from(["kubelet", "--server", "http://h:1"]);
        assert!(c.rotate_certificates);
        assert!(!c.anonymous_auth);
        assert_eq!(c.authorization_mode, super::AuthorizationMode::Webhook);
        assert_eq!(c.connection.server.as_deref(), Some("http://h:1"));
        let c = super::Config::parse_from([
            "kubelet",
            "--kubeconfig",
            "/k",
            "--rotate-certificates=false",
            "--anonymous-auth",
            "--authorization-mode",
            "AlwaysAllow",
            "--bootstrap-token",
            "abcdef.0123456789abcdef",
            "--ca-cert-hash",
            "sha256:00",
        ]);
        assert!(!c.rotate_certificates);
        assert!(c.anonymous_auth);
        assert_eq!(c.authorization_mode, super::AuthorizationMode::AlwaysAllow);
        assert_eq!(
            c.bootstrap_token.as_deref(),
            Some("abcdef.0123456789abcdef")
        );
        assert!(
            super::Config::try_parse_from(["kubelet", "--tls-cert-file", "/c"]).is_err(),
            "a serving certificate needs its key"
        );
    }

    #[test]
    fn durations() {
        use std::time::Duration;
        assert_eq!(super::parse_duration("1s"), Ok(Duration::from_secs(1)));
        assert_eq!(
            super::parse_duration("250ms"),
            Ok(Duration::from_millis(250))
        );
        assert_eq!(super::parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert!(super::parse_duration("1y").is_err());
    }
}
