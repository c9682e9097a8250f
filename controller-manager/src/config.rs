//! Flags (as kube-controller-manager names them).

use clap::Parser;
use client::daemon::LeaderElectionFlags;
use proto::duration::parse_flag as parse_duration;
use std::time::Duration;

#[derive(Debug, Clone, Parser)]
#[command(
    name = "controller-manager",
    about = "Runs the controllers that drive the cluster toward its desired state"
)]
pub struct Config {
    /// The apiserver's address; overrides the kubeconfig's server. Without a kubeconfig:
    /// plaintext, http://127.0.0.1:6443 when empty.
    #[arg(long, env = "CONTROLLER_MANAGER_SERVER", default_value = "")]
    pub server: String,

    /// kubeconfig with the apiserver's address, its CA and this daemon's credentials.
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<std::path::PathBuf>,

    /// Controllers to run, comma separated: `*` enables all, `foo` enables foo, `-foo`
    /// disables foo (`*,-garbagecollector`). Names as in Kubernetes: replicaset,
    /// deployment, nodelifecycle, nodeipam, podgc, endpoint, namespace, garbagecollector,
    /// persistentvolume-binder, local-path-provisioner, serviceaccount,
    /// serviceaccount-token, horizontalpodautoscaling, job, cronjob, daemonset,
    /// statefulset, csrapproving, csrsigning, root-ca-cert-publisher, tokencleaner,
    /// resourcequota, disruption.
    #[arg(long, value_delimiter = ',', default_value = "*")]
    pub controllers: Vec<String>,

    /// The pod network every node's podCIDR is cut from.
    #[arg(long, default_value = "10.244.0.0/16")]
    pub cluster_cidr: String,

    /// The prefix length of each node's podCIDR.
    #[arg(long, default_value_t = 24)]
    pub node_cidr_mask_size: u8,

    /// A node whose heartbeat (Lease) is older than this turns Ready=Unknown.
    #[arg(long, default_value = "40s", value_parser = parse_duration)]
    pub node_monitor_grace_period: Duration,

    /// How often node health is checked.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    pub node_monitor_period: Duration,

    /// Leader election on the kube-system/kube-controller-manager Lease (Kubernetes'
    /// `--leader-elect*` flags and defaults).
    #[command(flatten)]
    pub leader_election: LeaderElectionFlags,

    /// ReplicaSets synced at once.
    #[arg(long, default_value_t = 5)]
    pub concurrent_replicaset_syncs: usize,

    /// Deployments synced at once.
    #[arg(long, default_value_t = 5)]
    pub concurrent_deployment_syncs: usize,

    /// Workers of every other controller.
    #[arg(long, default_value_t = 5)]
    pub concurrent_workers: usize,

    /// On SIGTERM, how long running reconciles may take to finish.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub shutdown_grace_period: Duration,

    /// Ed25519 key (base64 of the 32-byte seed) that signs ServiceAccount tokens; created,
    /// with `<file>.pub` for the apiserver, if missing. Unset: a key for this process only.
    #[arg(long)]
    pub service_account_private_key_file: Option<std::path::PathBuf>,

    /// How often each HorizontalPodAutoscaler is synced (metrics read, scale decided).
    #[arg(long, default_value = "15s", value_parser = parse_duration)]
    pub horizontal_pod_autoscaler_sync_period: Duration,

    /// Scale-downs take the highest recommendation of this window (HPAs without
    /// `behavior.scaleDown.stabilizationWindowSeconds`).
    #[arg(long, default_value = "5m", value_parser = parse_duration)]
    pub horizontal_pod_autoscaler_downscale_stabilization: Duration,

    /// A usage-to-target ratio within 1 +- this leaves the replicas alone.
    #[arg(long, default_value_t = 0.1)]
    pub horizontal_pod_autoscaler_tolerance: f64,

    /// PEM certificate of the CA that signs approved CertificateSigningRequests of the
    /// kubernetes.io signers (kubelet client and serving, apiserver clients). Unset (or
    /// without the key): the signer is off.
    #[arg(long)]
    pub cluster_signing_cert_file: Option<std::path::PathBuf>,

    /// PEM private key of `--cluster-signing-cert-file`.
    #[arg(long)]
    pub cluster_signing_key_file: Option<std::path::PathBuf>,

    /// The longest validity of a signed certificate (a CSR's expirationSeconds may ask
    /// for less).
    #[arg(long, default_value = "8760h", value_parser = parse_duration)]
    pub cluster_signing_duration: Duration,

    /// The CA bundle published as ConfigMap `kube-root-ca.crt` in every namespace. Unset:
    /// the CA the controller-manager trusts the apiserver with (its kubeconfig's), if any.
    #[arg(long)]
    pub root_ca_file: Option<std::path::PathBuf>,

    /// Where the local-path provisioner makes each volume's directory on its node
    /// (`<root>/pvc-<uid>_<namespace>_<name>`), unless the class sets `nodePath`.
    #[arg(long, default_value = "/var/lib/kubelet-local-path")]
    pub local_path_root: std::path::PathBuf,

    /// Create the default StorageClass `local-path` (rancher.io/local-path,
    /// WaitForFirstConsumer, Delete) at start when the cluster has no StorageClass.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub default_storage_class: bool,

    /// `--metrics-bind-address` (default 0.0.0.0:10257, kube-controller-manager's secure
    /// port): /metrics, /healthz, /livez, /readyz; `--tracing-endpoint`.
    #[command(flatten)]
    pub telemetry: client::daemon::TelemetryFlags,
}

/// kube-controller-manager's secure port.
pub const DEFAULT_METRICS_BIND: &str = "0.0.0.0:10257";

impl Default for Config {
    /// Every flag at its default.
    fn default() -> Self {
        Config::parse_from(["controller-manager"])
    }
}

impl Config {
    /// `--kubeconfig` and `--server` as the daemon kit reads them (an empty `--server` is
    /// unset: a field of type String keeps the tests' `server: url` working).
    pub fn connection_flags(&self) -> client::daemon::ConnectionFlags {
        client::daemon::ConnectionFlags {
            kubeconfig: self.kubeconfig.clone(),
            server: Some(self.server.clone()).filter(|s| !s.trim().is_empty()),
        }
    }
}

/// The Lease's name unless `--leader-elect-resource-name` says otherwise.
pub const LEADER_ELECT_RESOURCE_NAME: &str = "kube-controller-manager";

impl Config {
    /// With `controllers` set to exactly these (tests).
    pub fn with_controllers(mut self, names: &[&str]) -> Self {
        self.controllers = names.iter().map(|s| s.to_string()).collect();
        self
    }
}

/// Kubernetes' enablement rule for `--controllers`: an explicit `-name` disables, an
/// explicit `name` enables, otherwise `*` enables.
pub fn is_enabled(list: &[String], name: &str) -> bool {
    let mut star = false;
    for item in list.iter().map(|s| s.trim()) {
        if item == name {
            return true;
        }
        if item.strip_prefix('-') == Some(name) {
            return false;
        }
        if item == "*" {
            star = true;
        }
    }
    star
}

/// Names in `list` that are neither `*` nor a known controller (with or without `-`).
pub fn unknown_controllers<'a>(list: &'a [String], known: &[&str]) -> Vec<&'a str> {
    list.iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty() && *s != "*")
        .filter(|s| !known.contains(&s.trim_start_matches('-')))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_like_go() {
        let cases = [
            ("40s", Some(Duration::from_secs(40))),
            ("5m", Some(Duration::from_secs(300))),
            ("1m30s", Some(Duration::from_secs(90))),
            ("500ms", Some(Duration::from_millis(500))),
            ("1.5h", Some(Duration::from_secs(5400))),
            ("0", Some(Duration::ZERO)),
            ("40", None),
            ("s", None),
            ("5d", None),
            ("", None),
        ];
        for (input, want) in cases {
            assert_eq!(parse_duration(input).ok(), want, "{input}");
        }
    }

    #[test]
    fn controller_enablement_follows_kubernetes() {
        let l = |s: &str| s.split(',').map(String::from).collect::<Vec<_>>();
        assert!(is_enabled(&l("*"), "replicaset"));
        assert!(!is_enabled(&l("*,-replicaset"), "replicaset"));
        assert!(is_enabled(&l("*,-replicaset"), "deployment"));
        assert!(is_enabled(&l("replicaset"), "replicaset"));
        assert!(!is_enabled(&l("replicaset"), "deployment"));
        assert!(!is_enabled(&l("-replicaset,*"), "replicaset"));
        assert_eq!(
            unknown_controllers(&l("*,-replicaset,bogus"), &["replicaset"]),
            ["bogus"]
        );
    }

    #[test]
    fn defaults_are_kubernetes_defaults() {
        let c = Config::default();
        assert_eq!(
            c.connection_flags().connection_config().unwrap().server,
            "http://127.0.0.1:6443"
        );
        let c = Config::parse_from(["cm", "--kubeconfig", "/k", "--server", "https://h:1"]);
        let flags = c.connection_flags();
        assert_eq!(
            flags.kubeconfig.as_deref(),
            Some(std::path::Path::new("/k"))
        );
        assert_eq!(flags.server.as_deref(), Some("https://h:1"));
        assert_eq!(c.controllers, ["*"]);
        assert_eq!(c.cluster_cidr, "10.244.0.0/16");
        assert_eq!(c.node_cidr_mask_size, 24);
        assert_eq!(c.node_monitor_grace_period, Duration::from_secs(40));
        assert!(c.leader_election.enabled());
        assert_eq!(
            c.cluster_signing_duration,
            Duration::from_secs(365 * 24 * 3600)
        );
        assert!(c.cluster_signing_cert_file.is_none() && c.root_ca_file.is_none());
        let c = Config::parse_from(["cm", "--leader-elect=false", "--controllers", "a,-b"]);
        assert!(!c.leader_election.enabled());
        assert_eq!(c.controllers, ["a", "-b"]);
    }
}
