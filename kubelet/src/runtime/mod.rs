//! The container runtime interface: what the kubelet needs from a runtime, independent of
//! Docker. `docker::DockerRuntime` is the real implementation, `fake::FakeRuntime` the one
//! for unit tests and simulated nodes.

pub mod bounded;
pub mod docker;
pub mod fake;
pub mod instrumented;
pub mod port_forward;
pub mod stream;

use crate::error::Result;
use std::collections::BTreeMap;
use std::future::Future;
use std::time::SystemTime;

/// Labels every container the kubelet creates carries (the names Kubernetes' dockershim used).
pub mod labels {
    /// The node that made the container: what a kubelet lists, adopts and cleans up.
    pub const NODE: &str = "io.kubelet.node";
    pub const POD_UID: &str = "io.kubernetes.pod.uid";
    pub const POD_NAME: &str = "io.kubernetes.pod.name";
    pub const POD_NAMESPACE: &str = "io.kubernetes.pod.namespace";
    /// `POD` for the sandbox.
    pub const CONTAINER_NAME: &str = "io.kubernetes.container.name";
    /// `sandbox`, `init` or `app`.
    pub const CONTAINER_TYPE: &str = "io.kubernetes.container.type";
    pub const RESTART_COUNT: &str = "io.kubernetes.container.restartCount";
    /// The sandbox attempt (how many sandboxes this pod had before).
    pub const SANDBOX_ATTEMPT: &str = "io.kubernetes.sandbox.attempt";
    /// The sandbox a container belongs to.
    pub const SANDBOX_ID: &str = "io.kubernetes.sandbox.id";
    /// The pod's termination grace period, for stopping containers whose pod is gone.
    pub const GRACE_PERIOD: &str = "io.kubernetes.pod.terminationGracePeriod";
    pub const SANDBOX_NAME: &str = "POD";
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContainerKind {
    Sandbox,
    Init,
    App,
}

impl ContainerKind {
    pub fn as_label(self) -> &'static str {
        match self {
            ContainerKind::Sandbox => "sandbox",
            ContainerKind::Init => "init",
            ContainerKind::App => "app",
        }
    }
    pub fn from_label(s: &str) -> Option<Self> {
        match s {
            "sandbox" => Some(ContainerKind::Sandbox),
            "init" => Some(ContainerKind::Init),
            "app" => Some(ContainerKind::App),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetworkMode {
    /// No network but loopback (the sandbox, when the kubelet wires the pod network itself).
    None,
    /// The runtime's default bridge.
    Bridge,
    /// The host's network namespace.
    Host,
    /// Join another container's network (and IPC) namespace: app containers join the sandbox.
    Container(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    pub host_path: String,
    pub container_path: String,
    pub read_only: bool,
    /// A subPath still to resolve under `host_path` (the volume): the kubelet binds it to a
    /// target of its own before the runtime sees the mount (`volumes::subpath`); a runtime
    /// refuses a mount that still has one.
    pub sub_path: Option<crate::volumes::subpath::Request>,
}

/// What to create.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ContainerConfig {
    pub name: String,
    pub image: String,
    /// Replaces the image's entrypoint when set (Kubernetes `command`).
    pub entrypoint: Option<Vec<String>>,
    /// Replaces the image's cmd when set (Kubernetes `args`).
    pub cmd: Option<Vec<String>>,
    pub working_dir: Option<String>,
    pub env: Vec<(String, String)>,
    pub labels: BTreeMap<String, String>,
    pub network: Option<NetworkMode>,
    /// `container:<id>` to share the sandbox's IPC namespace.
    pub ipc_container: Option<String>,
    /// Lets other containers join this one's IPC namespace (the sandbox).
    pub ipc_shareable: bool,
    pub hostname: Option<String>,
    pub mounts: Vec<Mount>,
    /// CPU limit in billionths of a CPU.
    pub nano_cpus: Option<i64>,
    /// Memory limit in bytes.
    pub memory: Option<i64>,
    pub privileged: bool,
    /// `uid` or `uid:gid` (runAsUser, runAsGroup); `None`: the image's user.
    pub user: Option<String>,
    /// Supplementary groups (fsGroup, supplementalGroups).
    pub group_add: Vec<String>,
    pub readonly_rootfs: bool,
    /// Capability names as `CAP_X`, or `ALL`.
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
    /// Docker's `--security-opt` values: `no-new-privileges`, `seccomp=...`,
    /// `apparmor=...`, `label=...`.
    pub security_opt: Vec<String>,
    /// `host` or `container:<id>` (hostPID, shareProcessNamespace); `None`: its own.
    pub pid_mode: Option<String>,
    /// The host's IPC namespace (hostIPC); overrides `ipc_container` and `ipc_shareable`.
    pub ipc_host: bool,
    /// Namespaced sysctls (the sandbox, whose namespaces the containers join).
    pub sysctls: BTreeMap<String, String>,
    /// Container ports `port/proto` (documentation only in a shared network namespace).
    pub exposed_ports: Vec<String>,
    pub tty: bool,
    pub stdin: bool,
    /// The container's stdin closes when the first attached client detaches (`kubectl run
    /// -i`: the process reads EOF when the client's input ends).
    pub stdin_once: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerState {
    Created,
    Running,
    Exited,
    Unknown,
}

/// What the runtime knows of one container.
#[derive(Debug, Clone, PartialEq)]
pub struct ContainerInfo {
    pub id: String,
    pub name: String,
    pub image: String,
    pub image_id: String,
    pub labels: BTreeMap<String, String>,
    pub state: ContainerState,
    pub exit_code: i64,
    pub oom_killed: bool,
    pub error: String,
    pub created_at: Option<SystemTime>,
    pub started_at: Option<SystemTime>,
    pub finished_at: Option<SystemTime>,
    /// The main process (running containers only).
    pub pid: Option<u32>,
    /// The address on the runtime's bridge, when the container has one.
    pub ip: Option<String>,
}

impl ContainerInfo {
    pub fn label(&self, key: &str) -> &str {
        self.labels.get(key).map(String::as_str).unwrap_or("")
    }
    pub fn kind(&self) -> Option<ContainerKind> {
        ContainerKind::from_label(self.label(labels::CONTAINER_TYPE))
    }
    pub fn container_name(&self) -> &str {
        self.label(labels::CONTAINER_NAME)
    }
    pub fn pod_uid(&self) -> &str {
        self.label(labels::POD_UID)
    }
    pub fn restart_count(&self) -> i32 {
        self.label(labels::RESTART_COUNT).parse().unwrap_or(0)
    }
    pub fn sandbox_attempt(&self) -> i32 {
        self.label(labels::SANDBOX_ATTEMPT).parse().unwrap_or(0)
    }
    pub fn is_running(&self) -> bool {
        self.state == ContainerState::Running
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageInfo {
    pub id: String,
    pub tags: Vec<String>,
    pub size: i64,
    /// Creation time, seconds since the epoch (0 when unknown).
    pub created: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExecOutput {
    pub exit_code: i64,
    pub output: Vec<u8>,
    /// The output was cut at [`bounded::OUTPUT_LIMIT`].
    pub truncated: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ContainerStats {
    /// Total CPU time used, in nanoseconds.
    pub cpu_usage_ns: u64,
    /// CPU use over the sampling interval, in millicores.
    pub cpu_millicores: u64,
    /// The working set: usage less inactive file pages (what eviction and metrics-server
    /// use).
    pub memory_bytes: u64,
    /// All memory charged to the container, page cache included (cAdvisor's usage).
    pub memory_usage_bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LogOptions {
    pub follow: bool,
    /// Lines from the end; `None`: all.
    pub tail: Option<u64>,
    pub timestamps: bool,
    /// Only what was written in the last so many seconds.
    pub since_seconds: Option<u64>,
}

pub type LogStream = futures::stream::BoxStream<'static, Result<bytes::Bytes>>;

/// The runtime. Methods return `Send` futures so workers can run on any thread.
pub trait Runtime: Send + Sync + 'static {
    /// Runtime name and version, for `nodeInfo.containerRuntimeVersion`.
    fn version(&self) -> impl Future<Output = Result<String>> + Send;
    /// Every container (running or not) carrying all these labels.
    fn list_containers(
        &self,
        labels: &[(&str, &str)],
    ) -> impl Future<Output = Result<Vec<ContainerInfo>>> + Send;
    fn inspect_container(&self, id: &str) -> impl Future<Output = Result<ContainerInfo>> + Send;
    /// Creates (not starts) a container; returns its id.
    fn create_container(
        &self,
        config: &ContainerConfig,
    ) -> impl Future<Output = Result<String>> + Send;
    fn start_container(&self, id: &str) -> impl Future<Output = Result<()>> + Send;
    /// SIGTERM, then SIGKILL after `grace_secs`.
    fn stop_container(&self, id: &str, grace_secs: i64) -> impl Future<Output = Result<()>> + Send;
    /// Removes a container (forcibly, running or not); missing is not an error.
    fn remove_container(&self, id: &str) -> impl Future<Output = Result<()>> + Send;
    /// `None` when the image is not present.
    fn inspect_image(&self, image: &str) -> impl Future<Output = Result<Option<ImageInfo>>> + Send;
    fn pull_image(&self, image: &str) -> impl Future<Output = Result<()>> + Send;
    /// The user the image's config says to run as (`USER`: `uid`, `uid:gid`, `name`, ...;
    /// empty when unset, which means root). `NotFound` when the image is not present.
    fn image_user(&self, image: &str) -> impl Future<Output = Result<String>> + Send;
    /// Imports a root filesystem tarball as an image named `image` with Dockerfile-style
    /// `changes` (`CMD [...]`).
    fn import_rootfs(
        &self,
        image: &str,
        tarball: bytes::Bytes,
        changes: &[String],
    ) -> impl Future<Output = Result<()>> + Send;
    /// Loads a `docker save` tarball.
    fn load_image(&self, tarball: bytes::Bytes) -> impl Future<Output = Result<()>> + Send;
    fn list_images(&self) -> impl Future<Output = Result<Vec<ImageInfo>>> + Send;
    fn remove_image(&self, id: &str) -> impl Future<Output = Result<()>> + Send;
    fn exec(&self, id: &str, cmd: &[String]) -> impl Future<Output = Result<ExecOutput>> + Send;
    fn logs(
        &self,
        id: &str,
        options: &LogOptions,
    ) -> impl Future<Output = Result<LogStream>> + Send;
    fn stats(&self, id: &str) -> impl Future<Output = Result<ContainerStats>> + Send;
    /// An interactive exec (or attach) session in a running container: `input` feeds it,
    /// the returned stream carries its output and ends with `Exit`.
    fn exec_stream(
        &self,
        id: &str,
        spec: &stream::StreamSpec,
        input: tokio::sync::mpsc::Receiver<stream::StreamInput>,
    ) -> impl Future<Output = Result<stream::StreamOutputs>> + Send {
        let _ = (id, spec, input);
        async {
            Err(crate::error::Error::Runtime(
                "this container runtime has no interactive exec".to_string(),
            ))
        }
    }
    /// A TCP connection to `port` on the localhost of the running sandbox `sandbox_id`'s
    /// network namespace (CRI's `PortForward`).
    fn port_forward(
        &self,
        sandbox_id: &str,
        port: u16,
    ) -> impl Future<Output = Result<port_forward::PortStream>> + Send {
        let _ = (sandbox_id, port);
        async {
            Err(crate::error::Error::Runtime(
                "this container runtime has no port forwarding".to_string(),
            ))
        }
    }
    /// Bytes used and total of the filesystem holding the images.
    fn image_fs_usage(&self) -> impl Future<Output = Result<(u64, u64)>> + Send;
}
