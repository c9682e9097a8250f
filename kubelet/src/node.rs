//! Node registration, status and heartbeat: the Node object (capacity and allocatable from
//! the host, addresses, labels, taints), its status posted when it changes or every 5
//! minutes, and the node Lease in `kube-node-lease` renewed every 10 seconds.

use crate::error::{Error, Result};
use client::{Api, Client};
use proto::Reason;
use proto::k8s::{
    Lease, LeaseSpec, Node, NodeAddress, NodeCondition, NodeSpec, NodeStatus, NodeSystemInfo,
    ObjectMeta, Taint,
};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

pub const LEASE_NAMESPACE: &str = "kube-node-lease";
/// Kubernetes' defaults: `nodeLeaseDurationSeconds: 40`, renewed every quarter of it, and
/// `nodeStatusUpdateFrequency: 10s`.
pub const LEASE_DURATION_SECS: i32 = 40;
pub const STATUS_UPDATE: Duration = Duration::from_secs(10);

/// How often the node proves it is alive.
#[derive(Debug, Clone, Copy)]
pub struct HeartbeatTiming {
    pub lease_duration_secs: i32,
    pub status_update: Duration,
}

impl Default for HeartbeatTiming {
    fn default() -> Self {
        HeartbeatTiming {
            lease_duration_secs: LEASE_DURATION_SECS,
            status_update: STATUS_UPDATE,
        }
    }
}

impl HeartbeatTiming {
    /// As Kubernetes' kubelet: the lease is renewed at a quarter of its duration, so three
    /// renewals may be lost before the node lifecycle controller's grace period runs out.
    pub fn lease_renew(&self) -> Duration {
        Duration::from_millis((self.lease_duration_secs.max(1) as u64) * 250)
    }
}
pub const STATUS_REPORT: Duration = Duration::from_secs(300);

/// What the node reports about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeFacts {
    pub name: String,
    pub ip: String,
    pub hostname: String,
    pub labels: BTreeMap<String, String>,
    pub taints: Vec<Taint>,
    pub cpus: u64,
    pub memory_kib: u64,
    pub max_pods: u32,
    pub kernel: String,
    pub machine_id: String,
    pub boot_id: String,
    pub runtime_version: String,
    /// Port of the kubelet API, 0 when not serving.
    pub kubelet_port: u16,
}

pub fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        other => other,
    }
}

/// `MemTotal` of /proc/meminfo in KiB.
pub fn parse_meminfo(text: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

/// `MemAvailable` of /proc/meminfo in KiB.
pub fn parse_mem_available(text: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix("MemAvailable:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

/// Kubernetes' default hard eviction thresholds, which the pressure conditions report
/// against: `memory.available<100Mi`, `nodefs.available<10%`.
pub const MEMORY_AVAILABLE_MIN_KIB: u64 = 100 * 1024;
pub const NODEFS_AVAILABLE_MIN_PERCENT: f64 = 10.0;

/// What the node reads off the host at each heartbeat; `None` where a reading failed
/// (then that condition reports no pressure, as Kubernetes does without a signal).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Signals {
    pub runtime_ok: bool,
    pub memory_available_kib: Option<u64>,
    pub nodefs_available_percent: Option<f64>,
}

impl Signals {
    pub fn healthy() -> Self {
        Signals {
            runtime_ok: true,
            memory_available_kib: None,
            nodefs_available_percent: None,
        }
    }

    pub fn memory_pressure(&self) -> bool {
        self.memory_available_kib
            .is_some_and(|k| k < MEMORY_AVAILABLE_MIN_KIB)
    }

    pub fn disk_pressure(&self) -> bool {
        self.nodefs_available_percent
            .is_some_and(|p| p < NODEFS_AVAILABLE_MIN_PERCENT)
    }

    /// Reads memory from /proc/meminfo and the filesystem holding `root_dir`.
    pub fn read(root_dir: &std::path::Path, runtime_ok: bool) -> Self {
        let memory_available_kib = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|t| parse_mem_available(&t));
        let nodefs_available_percent = nix::sys::statvfs::statvfs(root_dir).ok().and_then(|st| {
            let total = st.blocks() as f64;
            (total > 0.0).then(|| st.blocks_available() as f64 * 100.0 / total)
        });
        Signals {
            runtime_ok,
            memory_available_kib,
            nodefs_available_percent,
        }
    }
}

/// `k=v,k2=v2`.
pub fn parse_labels(s: &str) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (k, v) = part
            .split_once('=')
            .ok_or_else(|| Error::Config(format!("--node-labels: {part:?} is not key=value")))?;
        out.insert(k.trim().to_string(), v.trim().to_string());
    }
    Ok(out)
}

/// `key=value:Effect` or `key:Effect`, comma separated.
pub fn parse_taints(s: &str) -> Result<Vec<Taint>> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (kv, effect) = part.rsplit_once(':').ok_or_else(|| {
            Error::Config(format!(
                "--register-with-taints: {part:?} is not key[=value]:Effect"
            ))
        })?;
        if !matches!(effect, "NoSchedule" | "PreferNoSchedule" | "NoExecute") {
            return Err(Error::Config(format!(
                "--register-with-taints: unknown effect {effect:?} (NoSchedule, PreferNoSchedule, NoExecute)"
            )));
        }
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        out.push(Taint {
            key: k.to_string(),
            value: v.to_string(),
            effect: effect.to_string(),
            time_added: String::new(),
        });
    }
    Ok(out)
}

/// Reads the host's numbers.
pub fn host_facts(
    name: &str,
    ip: &str,
    labels: BTreeMap<String, String>,
    taints: Vec<Taint>,
    max_pods: u32,
    runtime_version: String,
) -> NodeFacts {
    let read = |p: &str| {
        std::fs::read_to_string(p)
            .unwrap_or_default()
            .trim()
            .to_string()
    };
    NodeFacts {
        name: name.to_string(),
        ip: ip.to_string(),
        hostname: name.to_string(),
        labels,
        taints,
        cpus: std::thread::available_parallelism()
            .map(|n| n.get() as u64)
            .unwrap_or(1),
        memory_kib: parse_meminfo(&read("/proc/meminfo")).unwrap_or(0),
        max_pods,
        kernel: read("/proc/sys/kernel/osrelease"),
        machine_id: read("/etc/machine-id"),
        boot_id: read("/proc/sys/kernel/random/boot_id"),
        runtime_version,
        kubelet_port: 0,
    }
}

pub fn node_labels(f: &NodeFacts) -> BTreeMap<String, String> {
    let mut l = BTreeMap::from([
        ("kubernetes.io/hostname".to_string(), f.hostname.clone()),
        ("kubernetes.io/os".to_string(), "linux".to_string()),
        ("kubernetes.io/arch".to_string(), go_arch().to_string()),
        ("beta.kubernetes.io/os".to_string(), "linux".to_string()),
        ("beta.kubernetes.io/arch".to_string(), go_arch().to_string()),
    ]);
    l.extend(f.labels.clone());
    l
}

/// The node object registered at start.
pub fn initial_node(f: &NodeFacts, pod_cidr: Option<&str>) -> Node {
    Node {
        metadata: Some(ObjectMeta {
            name: f.name.clone(),
            labels: node_labels(f).into_iter().collect(),
            ..Default::default()
        }),
        spec: Some(NodeSpec {
            taints: f.taints.clone(),
            pod_cidr: pod_cidr.unwrap_or_default().to_string(),
            pod_cidrs: pod_cidr.map(|c| vec![c.to_string()]).unwrap_or_default(),
            ..Default::default()
        }),
        status: None,
        ..Default::default()
    }
}

fn cond(
    kind: &str,
    status: &str,
    reason: &str,
    message: &str,
    now: &str,
    old: Option<&NodeStatus>,
) -> NodeCondition {
    let prev = old.and_then(|s| s.conditions.iter().find(|c| c.r#type == kind));
    NodeCondition {
        r#type: kind.into(),
        status: status.into(),
        last_heartbeat_time: now.into(),
        last_transition_time: match prev {
            Some(p) if p.status == status => p.last_transition_time.clone(),
            _ => now.into(),
        },
        reason: reason.into(),
        message: message.into(),
    }
}

/// The status to post (pure; `now` is the heartbeat time).
pub fn node_status(
    f: &NodeFacts,
    old: Option<&NodeStatus>,
    now: &str,
    signals: &Signals,
) -> NodeStatus {
    let capacity: BTreeMap<String, String> = BTreeMap::from([
        ("cpu".to_string(), f.cpus.to_string()),
        ("memory".to_string(), format!("{}Ki", f.memory_kib)),
        ("pods".to_string(), f.max_pods.to_string()),
    ]);
    let (ready, reason, message) = if signals.runtime_ok {
        ("True", "KubeletReady", "kubelet is posting ready status")
    } else {
        ("False", "KubeletNotReady", "container runtime is down")
    };
    NodeStatus {
        capacity: capacity.clone().into_iter().collect(),
        allocatable: capacity.into_iter().collect(),
        phase: String::new(),
        conditions: vec![
            if signals.memory_pressure() {
                cond(
                    "MemoryPressure",
                    "True",
                    "KubeletHasInsufficientMemory",
                    "kubelet has insufficient memory available",
                    now,
                    old,
                )
            } else {
                cond(
                    "MemoryPressure",
                    "False",
                    "KubeletHasSufficientMemory",
                    "kubelet has sufficient memory available",
                    now,
                    old,
                )
            },
            if signals.disk_pressure() {
                cond(
                    "DiskPressure",
                    "True",
                    "KubeletHasDiskPressure",
                    "kubelet has disk pressure",
                    now,
                    old,
                )
            } else {
                cond(
                    "DiskPressure",
                    "False",
                    "KubeletHasNoDiskPressure",
                    "kubelet has no disk pressure",
                    now,
                    old,
                )
            },
            cond(
                "PIDPressure",
                "False",
                "KubeletHasSufficientPID",
                "kubelet has sufficient PID available",
                now,
                old,
            ),
            cond("Ready", ready, reason, message, now, old),
        ],
        addresses: vec![
            NodeAddress {
                r#type: "InternalIP".into(),
                address: f.ip.clone(),
            },
            NodeAddress {
                r#type: "Hostname".into(),
                address: f.hostname.clone(),
            },
        ],
        daemon_endpoints: Some(proto::k8s::NodeDaemonEndpoints {
            kubelet_endpoint: Some(proto::k8s::DaemonEndpoint {
                port: i32::from(f.kubelet_port),
            }),
        }),
        node_info: Some(NodeSystemInfo {
            machine_id: f.machine_id.clone(),
            system_uuid: f.machine_id.clone(),
            boot_id: f.boot_id.clone(),
            kernel_version: f.kernel.clone(),
            os_image: "linux".into(),
            container_runtime_version: f.runtime_version.clone(),
            kubelet_version: format!("v{}", env!("CARGO_PKG_VERSION")),
            kube_proxy_version: String::new(),
            operating_system: "linux".into(),
            architecture: go_arch().into(),
        }),
        images: old.map(|o| o.images.clone()).unwrap_or_default(),
        volumes_in_use: vec![],
    }
}

/// Equal but for heartbeat times: nothing worth a write before the report interval.
pub fn same_but_heartbeat(a: &NodeStatus, b: &NodeStatus) -> bool {
    let strip = |s: &NodeStatus| {
        let mut s = s.clone();
        for c in &mut s.conditions {
            c.last_heartbeat_time.clear();
        }
        s
    };
    strip(a) == strip(b)
}

/// Creates the Node, or (after a restart) brings the existing one's labels up to date
/// without touching what others own (taints set later, podCIDR, unschedulable).
pub async fn register(client: &Client, f: &NodeFacts, pod_cidr: Option<&str>) -> Result<Node> {
    let api: Api<Node> = Api::all(client.clone());
    match api.create(&initial_node(f, pod_cidr)).await {
        Ok(n) => {
            tracing::info!(node = %f.name, "registered node");
            Ok(n)
        }
        Err(e) if e.is(Reason::AlreadyExists) => {
            for _ in 0..10 {
                let mut n = api.get(&f.name).await?;
                let want = node_labels(f);
                let labels = &mut n.meta_mut().labels;
                let before = labels.clone();
                labels.extend(want);
                if *labels == before {
                    tracing::info!(node = %f.name, "node already registered");
                    return Ok(n);
                }
                match api.update(&n).await {
                    Ok(n) => {
                        tracing::info!(node = %f.name, "node already registered; labels updated");
                        return Ok(n);
                    }
                    Err(e) if e.is(Reason::Conflict) => continue,
                    Err(e) => return Err(e.into()),
                }
            }
            Err(Error::Config(format!(
                "node {}: too many conflicts updating labels",
                f.name
            )))
        }
        Err(e) => Err(e.into()),
    }
}

use proto::Resource as _;

/// Renews (or takes) the node's Lease.
pub async fn renew_lease(
    client: &Client,
    node: &str,
    node_uid: &str,
    duration_secs: i32,
) -> Result<()> {
    let api: Api<Lease> = Api::namespaced(client.clone(), LEASE_NAMESPACE);
    let now = proto::time::now_rfc3339_micros();
    match api.get_opt(node).await? {
        Some(mut l) => {
            let spec = l.spec.get_or_insert_with(Default::default);
            spec.holder_identity = node.to_string();
            spec.lease_duration_seconds = Some(duration_secs);
            spec.renew_time = now;
            api.update(&l).await?;
        }
        None => {
            let mut meta = ObjectMeta {
                name: node.to_string(),
                namespace: LEASE_NAMESPACE.to_string(),
                ..Default::default()
            };
            if !node_uid.is_empty() {
                meta.owner_references.push(proto::k8s::OwnerReference {
                    api_version: "v1".into(),
                    kind: "Node".into(),
                    name: node.to_string(),
                    uid: node_uid.to_string(),
                    ..Default::default()
                });
            }
            api.create(&Lease {
                metadata: Some(meta),
                spec: Some(LeaseSpec {
                    holder_identity: node.to_string(),
                    lease_duration_seconds: Some(duration_secs),
                    renew_time: now.clone(),
                    acquire_time: now,
                    ..Default::default()
                }),
                ..Default::default()
            })
            .await?;
        }
    }
    Ok(())
}

/// Posts the status if it changed (or the report interval passed); returns whether it wrote.
pub async fn post_status(
    client: &Client,
    f: &NodeFacts,
    last_post: &mut Option<Instant>,
    signals: &Signals,
) -> Result<bool> {
    let api: Api<Node> = Api::all(client.clone());
    for _ in 0..5 {
        let mut n = api.get(&f.name).await?;
        let now = proto::time::now_rfc3339();
        let new = node_status(f, n.status.as_ref(), &now, signals);
        let due = last_post.is_none_or(|t| t.elapsed() >= STATUS_REPORT);
        if let Some(old) = &n.status
            && same_but_heartbeat(old, &new)
            && !due
        {
            return Ok(false);
        }
        n.status = Some(new);
        match api.update_status(&n).await {
            Ok(_) => {
                *last_post = Some(Instant::now());
                return Ok(true);
            }
            Err(e) if e.is(Reason::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(false)
}

/// Heartbeats until cancelled: the lease at a quarter of its duration, the status checked
/// every `status_update` (by default 10 s each).
#[allow(clippy::too_many_arguments)]
pub async fn heartbeat<F, Fut>(
    client: Client,
    facts: NodeFacts,
    timing: HeartbeatTiming,
    node_uid: String,
    root_dir: std::path::PathBuf,
    runtime_ok: F,
    cancel: CancellationToken,
) where
    F: Fn() -> Fut + Send,
    Fut: std::future::Future<Output = bool> + Send,
{
    let mut last_post = None;
    let mut next_lease = Instant::now();
    let mut next_status = Instant::now();
    let mut backoff =
        client::backoff::Backoff::new(Duration::from_millis(500), Duration::from_secs(10));
    loop {
        let signals = Signals::read(&root_dir, runtime_ok().await);
        let now = Instant::now();
        let r1 = if now >= next_lease {
            let r = renew_lease(&client, &facts.name, &node_uid, timing.lease_duration_secs).await;
            if r.is_ok() {
                next_lease = now + timing.lease_renew();
            }
            r
        } else {
            Ok(())
        };
        let r2 = if now >= next_status {
            let r = post_status(&client, &facts, &mut last_post, &signals).await;
            if r.is_ok() {
                next_status = now + timing.status_update;
            }
            r.map(|_| ())
        } else {
            Ok(())
        };
        let wait = match (&r1, &r2) {
            (Ok(()), Ok(())) => {
                backoff.reset();
                next_lease
                    .min(next_status)
                    .saturating_duration_since(Instant::now())
            }
            _ => {
                let e = r1
                    .err()
                    .map(|e| e.to_string())
                    .or(r2.err().map(|e| e.to_string()))
                    .unwrap_or_default();
                tracing::warn!(node = %facts.name, error = %e, "node heartbeat failed; retrying");
                backoff.next_delay()
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

    fn facts() -> NodeFacts {
        host_facts(
            "n1",
            "192.0.2.10",
            parse_labels("zone=a, tier=web").unwrap(),
            parse_taints("dedicated=db:NoSchedule").unwrap(),
            110,
            "docker://20".into(),
        )
    }

    #[test]
    fn flags_parse() {
        assert_eq!(parse_labels("a=1,b=2").unwrap().len(), 2);
        assert!(parse_labels("nokey").is_err());
        let t = parse_taints("k=v:NoExecute,gpu:NoSchedule").unwrap();
        assert_eq!(
            (t[0].key.as_str(), t[0].value.as_str(), t[0].effect.as_str()),
            ("k", "v", "NoExecute")
        );
        assert_eq!((t[1].key.as_str(), t[1].value.as_str()), ("gpu", ""));
        assert!(parse_taints("k=v:Sometimes").is_err());
    }

    #[test]
    fn pressure_conditions_follow_kubernetes_default_eviction_thresholds() {
        let f = facts();
        let cond = |s: &NodeStatus, t: &str| {
            let c = s.conditions.iter().find(|c| c.r#type == t).cloned();
            c.map(|c| (c.status, c.reason)).unwrap_or_default()
        };
        let now = "2026-01-01T00:00:00Z";
        let plenty = Signals {
            runtime_ok: true,
            memory_available_kib: Some(MEMORY_AVAILABLE_MIN_KIB),
            nodefs_available_percent: Some(NODEFS_AVAILABLE_MIN_PERCENT),
        };
        let s = node_status(&f, None, now, &plenty);
        assert_eq!(cond(&s, "MemoryPressure").0, "False");
        assert_eq!(cond(&s, "DiskPressure").0, "False");
        let short = Signals {
            runtime_ok: true,
            memory_available_kib: Some(MEMORY_AVAILABLE_MIN_KIB - 1),
            nodefs_available_percent: Some(9.9),
        };
        let s2 = node_status(&f, Some(&s), "2026-01-01T00:00:10Z", &short);
        assert_eq!(
            cond(&s2, "MemoryPressure"),
            (
                "True".to_string(),
                "KubeletHasInsufficientMemory".to_string()
            )
        );
        assert_eq!(
            cond(&s2, "DiskPressure"),
            ("True".to_string(), "KubeletHasDiskPressure".to_string())
        );
        assert!(!same_but_heartbeat(&s, &s2), "pressure is a change to post");
        // No reading: no pressure claimed.
        let s3 = node_status(&f, None, now, &Signals::healthy());
        assert_eq!(cond(&s3, "MemoryPressure").0, "False");
        assert_eq!(
            parse_mem_available("MemTotal: 100 kB\nMemAvailable:   2048 kB\n"),
            Some(2048)
        );
        let here = Signals::read(std::path::Path::new("/"), true);
        assert!(here.memory_available_kib.is_some_and(|k| k > 0));
        assert!(
            here.nodefs_available_percent
                .is_some_and(|p| (0.0..=100.0).contains(&p))
        );
    }

    #[test]
    fn meminfo() {
        assert_eq!(
            parse_meminfo("MemTotal:       16318412 kB\nMemFree: 1 kB\n"),
            Some(16318412)
        );
        assert_eq!(parse_meminfo("nothing"), None);
    }

    #[test]
    fn node_has_labels_taints_capacity_and_ready() {
        let f = facts();
        let n = initial_node(&f, Some("10.244.3.0/24"));
        assert_eq!(n.spec.as_ref().unwrap().pod_cidr, "10.244.3.0/24");
        let l = &n.metadata.as_ref().unwrap().labels;
        assert_eq!(l["kubernetes.io/hostname"], "n1");
        assert_eq!(l["kubernetes.io/os"], "linux");
        assert_eq!(l["zone"], "a");
        assert_eq!(n.spec.as_ref().unwrap().taints[0].key, "dedicated");
        let s = node_status(&f, None, "2026-01-01T00:00:00Z", &Signals::healthy());
        assert_eq!(s.capacity["pods"], "110");
        assert_eq!(s.capacity["cpu"], f.cpus.to_string());
        assert!(s.capacity["memory"].ends_with("Ki"));
        assert_eq!(s.allocatable, s.capacity);
        let ready = s.conditions.iter().find(|c| c.r#type == "Ready").unwrap();
        assert_eq!(ready.status, "True");
        assert_eq!(s.addresses[0].r#type, "InternalIP");
        assert_eq!(s.addresses[0].address, "192.0.2.10");
    }

    #[test]
    fn heartbeat_only_changes_are_not_changes() {
        let f = facts();
        let a = node_status(&f, None, "2026-01-01T00:00:00Z", &Signals::healthy());
        let b = node_status(&f, Some(&a), "2026-01-01T00:00:10Z", &Signals::healthy());
        assert!(same_but_heartbeat(&a, &b));
        let c = node_status(
            &f,
            Some(&a),
            "2026-01-01T00:00:20Z",
            &Signals {
                runtime_ok: false,
                ..Signals::healthy()
            },
        );
        assert!(!same_but_heartbeat(&a, &c));
        let ready = c.conditions.iter().find(|c| c.r#type == "Ready").unwrap();
        assert_eq!(ready.last_transition_time, "2026-01-01T00:00:20Z");
        let mem = c
            .conditions
            .iter()
            .find(|c| c.r#type == "MemoryPressure")
            .unwrap();
        assert_eq!(mem.last_transition_time, "2026-01-01T00:00:00Z");
    }
}
