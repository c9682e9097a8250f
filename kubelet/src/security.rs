//! The security settings a container runs with, from the pod's and the container's
//! securityContext (a container's field wins over the pod's), as Kubernetes' kubelet
//! computes them (`pkg/kubelet/kuberuntime/security_context*.go`) and dockershim handed
//! them to Docker. A field the node cannot honour is refused with a reason naming it, never
//! dropped: the worker reports the refusal as `CreateContainerConfigError`.
//!
//! Pure apart from `NodeSecurity::new` (what the host supports) and `for_container`
//! (the image's user and a Localhost seccomp profile, read through the runtime and the
//! filesystem).

use crate::runtime::{ContainerConfig, Runtime};
use proto::k8s::{Container, Pod, PodSecurityContext, SecurityContext};
use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

/// Why a container cannot be created as its pod asks; the message is the waiting reason's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

fn refuse<T>(msg: impl Into<String>) -> Result<T, Refused> {
    Err(Refused(msg.into()))
}

/// Kubernetes' safe sysctls: namespaced, and unable to affect other pods or the node.
pub const SAFE_SYSCTLS: &[&str] = &[
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
];

/// Linux capabilities (`capabilities(7)`), without the `CAP_` prefix.
const CAPABILITIES: &[&str] = &[
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETGID",
    "SETUID",
    "SETPCAP",
    "LINUX_IMMUTABLE",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_ADMIN",
    "NET_RAW",
    "IPC_LOCK",
    "IPC_OWNER",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_CHROOT",
    "SYS_PTRACE",
    "SYS_PACCT",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_NICE",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "MKNOD",
    "LEASE",
    "AUDIT_WRITE",
    "AUDIT_CONTROL",
    "SETFCAP",
    "MAC_OVERRIDE",
    "MAC_ADMIN",
    "SYSLOG",
    "WAKE_ALARM",
    "BLOCK_SUSPEND",
    "AUDIT_READ",
    "PERFMON",
    "BPF",
    "CHECKPOINT_RESTORE",
];

/// What this node can enforce, and the kubelet's flags about it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeSecurity {
    /// `--seccomp-profile-root`: where Localhost seccomp profiles live.
    pub seccomp_root: PathBuf,
    /// `--allowed-unsafe-sysctls`: names or `prefix*` patterns, all namespaced.
    pub allowed_unsafe_sysctls: Vec<String>,
    pub apparmor_enabled: bool,
    pub selinux_enabled: bool,
    /// `--seccomp-default`: a container with no seccompProfile gets RuntimeDefault instead
    /// of Unconfined (Kubernetes' kubelet flag of the same name, off by default there).
    pub seccomp_default: bool,
}

impl NodeSecurity {
    /// Checks the flags and looks at the host's security modules. Like Kubernetes' kubelet,
    /// it refuses to start with an unsafe sysctl that is not namespaced (it would change the
    /// node for every pod).
    pub fn new(
        seccomp_root: PathBuf,
        allowed_unsafe_sysctls: Vec<String>,
    ) -> Result<Self, Refused> {
        for pattern in &allowed_unsafe_sysctls {
            let name = normalize_sysctl(pattern);
            let prefix = name.strip_suffix('*').unwrap_or(&name);
            if sysctl_namespace(prefix).is_none() {
                return refuse(format!(
                    "--allowed-unsafe-sysctls: the sysctl {pattern:?} is not known to be namespaced"
                ));
            }
        }
        let apparmor_enabled = std::fs::read_to_string("/sys/module/apparmor/parameters/enabled")
            .is_ok_and(|s| s.trim_start().starts_with('Y'));
        let selinux_enabled = Path::new("/sys/fs/selinux/enforce").exists();
        Ok(NodeSecurity {
            seccomp_root,
            allowed_unsafe_sysctls,
            apparmor_enabled,
            selinux_enabled,
            seccomp_default: false,
        })
    }
}

/// The seccomp profile a container gets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Seccomp {
    /// Kubernetes' default when no profile is set (the kubelet's SeccompDefault is off).
    #[default]
    Unconfined,
    /// The runtime's default profile: Docker's.
    RuntimeDefault,
    /// A JSON profile file under the kubelet's seccomp root.
    Localhost(PathBuf),
}

/// Everything security-related one container is created with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    pub user: Option<String>,
    pub group_add: Vec<String>,
    pub readonly_rootfs: bool,
    pub privileged: bool,
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
    pub no_new_privileges: bool,
    pub seccomp: Seccomp,
    /// Docker's `apparmor=` value; `None`: Docker's default (`docker-default` on AppArmor
    /// hosts), which is Kubernetes' RuntimeDefault.
    pub apparmor: Option<String>,
    /// `label=` values (`user:...`, `role:...`, `type:...`, `level:...`).
    pub selinux: Vec<String>,
    pub pid_mode: Option<String>,
    pub ipc_host: bool,
    /// runAsNonRoot without runAsUser: the image's user must be checked.
    pub verify_image_user: bool,
}

/// What the sandbox (whose namespaces every container joins) is created with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SandboxSettings {
    pub sysctls: BTreeMap<String, String>,
    pub pid_host: bool,
    pub ipc_host: bool,
}

impl SandboxSettings {
    pub fn apply(&self, cfg: &mut ContainerConfig) {
        cfg.sysctls = self.sysctls.clone();
        if self.pid_host {
            cfg.pid_mode = Some("host".into());
        }
        if self.ipc_host {
            cfg.ipc_host = true;
            cfg.ipc_shareable = false;
        }
    }
}

/// Kubernetes' `format.Pod`: `name_namespace(uid)`.
fn pod_desc(pod: &Pod) -> String {
    let m = pod.metadata.clone().unwrap_or_default();
    format!("{}_{}({})", m.name, m.namespace, m.uid)
}

fn pod_sc(pod: &Pod) -> Option<&PodSecurityContext> {
    pod.spec
        .as_ref()
        .and_then(|s| s.security_context.as_deref())
}

/// `net.ipv4/conf` style names (first separator `/`) become dotted, as Kubernetes'
/// `NormalizeName`.
fn normalize_sysctl(name: &str) -> String {
    match name.find(['.', '/']) {
        Some(i) if name.as_bytes()[i] == b'/' => name
            .chars()
            .map(|c| match c {
                '/' => '.',
                '.' => '/',
                c => c,
            })
            .collect(),
        _ => name.to_string(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SysctlNs {
    Ipc,
    Net,
}

/// The namespace a sysctl (or a pattern's prefix) belongs to; `None`: node-wide.
fn sysctl_namespace(name: &str) -> Option<SysctlNs> {
    const IPC: &[&str] = &["kernel.shm", "kernel.msg", "kernel.sem", "fs.mqueue."];
    if IPC.iter().any(|p| name.starts_with(p)) {
        Some(SysctlNs::Ipc)
    } else if name.starts_with("net.") {
        Some(SysctlNs::Net)
    } else {
        None
    }
}

/// Kubernetes' sysctl allowlist check (`pkg/kubelet/sysctl/allowlist.go`), with its
/// messages.
fn check_sysctl(
    name: &str,
    node: &NodeSecurity,
    host_net: bool,
    host_ipc: bool,
) -> Result<(), Refused> {
    let name = normalize_sysctl(name);
    let allowed = SAFE_SYSCTLS.contains(&name.as_str())
        || node.allowed_unsafe_sysctls.iter().any(|p| {
            let p = normalize_sysctl(p);
            match p.strip_suffix('*') {
                Some(prefix) => name.starts_with(prefix),
                None => p == name,
            }
        });
    if !allowed {
        return refuse(format!("forbidden sysctl: {name:?} not allowlisted"));
    }
    match sysctl_namespace(&name) {
        Some(SysctlNs::Net) if host_net => refuse(format!(
            "forbidden sysctl: {name:?} not allowed with host net enabled"
        )),
        Some(SysctlNs::Ipc) if host_ipc => refuse(format!(
            "forbidden sysctl: {name:?} not allowed with host ipc enabled"
        )),
        Some(_) => Ok(()),
        None => refuse(format!("forbidden sysctl: {name:?} not allowlisted")),
    }
}

/// Checks every sysctl of the pod.
pub fn check_sysctls(pod: &Pod, node: &NodeSecurity) -> Result<(), Refused> {
    let spec = pod.spec.clone().unwrap_or_default();
    for s in pod_sc(pod)
        .map(|p| p.sysctls.as_slice())
        .unwrap_or_default()
    {
        check_sysctl(&s.name, node, spec.host_network, spec.host_ipc)?;
    }
    Ok(())
}

/// The sandbox's settings. Sysctls are set only when all of them are allowed: a pod with a
/// forbidden one has its containers refused, so nothing would run with a partial set.
pub fn sandbox_settings(pod: &Pod, node: &NodeSecurity) -> SandboxSettings {
    let spec = pod.spec.clone().unwrap_or_default();
    let sysctls = if check_sysctls(pod, node).is_ok() {
        pod_sc(pod)
            .map(|p| {
                p.sysctls
                    .iter()
                    .map(|s| (normalize_sysctl(&s.name), s.value.clone()))
                    .collect()
            })
            .unwrap_or_default()
    } else {
        BTreeMap::new()
    };
    SandboxSettings {
        sysctls,
        pid_host: spec.host_pid,
        ipc_host: spec.host_ipc,
    }
}

/// `NET_RAW`, `net_raw` or `CAP_NET_RAW` as `CAP_NET_RAW`; `ALL` stays.
fn normalize_cap(field: &str, name: &str) -> Result<String, Refused> {
    let upper = name.trim().to_ascii_uppercase();
    if upper == "ALL" {
        return Ok(upper);
    }
    let bare = upper.strip_prefix("CAP_").unwrap_or(&upper);
    if !CAPABILITIES.contains(&bare) {
        return refuse(format!("{field}: unknown capability {name:?}"));
    }
    Ok(format!("CAP_{bare}"))
}

fn check_id(field: &str, id: Option<i32>) -> Result<Option<i32>, Refused> {
    match id {
        Some(v) if v < 0 => refuse(format!(
            "{field}: must be between 0 and 2147483647, inclusive"
        )),
        other => Ok(other),
    }
}

/// A Localhost profile path must stay inside the profile root.
fn localhost_path(field: &str, root: &Path, profile: Option<&str>) -> Result<PathBuf, Refused> {
    let Some(p) = profile.filter(|p| !p.is_empty()) else {
        return refuse(format!(
            "{field}.localhostProfile: must be set when seccomp type is Localhost"
        ));
    };
    let rel = Path::new(p);
    if rel.is_absolute() {
        return refuse(format!("{field}.localhostProfile: must be a relative path"));
    }
    if rel.components().any(|c| matches!(c, Component::ParentDir)) {
        return refuse(format!("{field}.localhostProfile: must not contain '..'"));
    }
    Ok(root.join(rel))
}

/// The container's security settings, or why it cannot run. `sandbox_id` is the sandbox a
/// shared process namespace joins.
pub fn container_settings(
    pod: &Pod,
    c: &Container,
    node: &NodeSecurity,
    sandbox_id: &str,
) -> Result<Settings, Refused> {
    let spec = pod.spec.clone().unwrap_or_default();
    let psc = pod_sc(pod).cloned().unwrap_or_default();
    let sc: SecurityContext = c.security_context.clone().unwrap_or_default();
    let mut out = Settings::default();

    check_sysctls(pod, node)?;

    let host_process = sc
        .windows_options
        .as_ref()
        .and_then(|w| w.host_process)
        .or_else(|| psc.windows_options.as_ref().and_then(|w| w.host_process));
    if host_process == Some(true) {
        return refuse(
            "securityContext.windowsOptions.hostProcess: HostProcess containers run only on \
             Windows nodes; this is a Linux node",
        );
    }

    let uid = check_id(
        "securityContext.runAsUser",
        sc.run_as_user.or(psc.run_as_user),
    )?;
    let gid = check_id(
        "securityContext.runAsGroup",
        sc.run_as_group.or(psc.run_as_group),
    )?;
    out.user = match (uid, gid) {
        (Some(u), Some(g)) => Some(format!("{u}:{g}")),
        (Some(u), None) => Some(u.to_string()),
        // Docker has no way to set only the group of the image's user.
        (None, Some(_)) => return refuse("runAsGroup is specified without a runAsUser"),
        (None, None) => None,
    };
    let non_root = sc.run_as_non_root.or(psc.run_as_non_root) == Some(true);
    if non_root {
        match uid {
            Some(0) => {
                return refuse(format!(
                    "container's runAsUser breaks non-root policy (pod: {:?}, container: {})",
                    pod_desc(pod),
                    c.name
                ));
            }
            Some(_) => {}
            None => out.verify_image_user = true,
        }
    }

    match psc.supplemental_groups_policy.as_deref() {
        None | Some("") | Some("Merge") => {}
        // Docker always adds the groups the image's /etc/group gives the user.
        Some("Strict") => {
            return refuse(
                "spec.securityContext.supplementalGroupsPolicy: Strict is not supported on \
                 this node (the runtime always merges the image's groups)",
            );
        }
        Some(other) => {
            return refuse(format!(
                "spec.securityContext.supplementalGroupsPolicy: unsupported value {other:?} \
                 (Merge, Strict)"
            ));
        }
    }
    let fs_group = check_id("spec.securityContext.fsGroup", psc.fs_group)?;
    for g in fs_group
        .into_iter()
        .chain(psc.supplemental_groups.iter().copied())
    {
        let g = check_id("spec.securityContext.supplementalGroups", Some(g))?
            .map(|g| g.to_string())
            .unwrap_or_default();
        if !out.group_add.contains(&g) {
            out.group_add.push(g);
        }
    }

    out.readonly_rootfs = sc.read_only_root_filesystem == Some(true);
    out.privileged = sc.privileged == Some(true);
    if let Some(caps) = &sc.capabilities {
        for a in &caps.add {
            out.cap_add
                .push(normalize_cap("securityContext.capabilities.add", a)?);
        }
        for d in &caps.drop {
            out.cap_drop
                .push(normalize_cap("securityContext.capabilities.drop", d)?);
        }
    }
    if sc.allow_privilege_escalation == Some(false) {
        // Kubernetes' validation: both grant what no_new_privs is meant to withhold.
        if out.privileged {
            return refuse(
                "securityContext: cannot set `allowPrivilegeEscalation` to false and \
                 `privileged` to true",
            );
        }
        if out.cap_add.iter().any(|c| c == "CAP_SYS_ADMIN") {
            return refuse(
                "securityContext: cannot set `allowPrivilegeEscalation` to false and \
                 `capabilities.Add` CAP_SYS_ADMIN",
            );
        }
        out.no_new_privileges = true;
    }

    match sc.proc_mount.as_deref() {
        None | Some("") | Some("Default") => {}
        Some("Unmasked") => {
            return refuse(
                "securityContext.procMount: Unmasked needs a user namespace (hostUsers: \
                 false), which this node does not provide",
            );
        }
        Some(other) => {
            return refuse(format!(
                "securityContext.procMount: unsupported value {other:?} (Default, Unmasked)"
            ));
        }
    }

    let (field, seccomp) = match (&sc.seccomp_profile, &psc.seccomp_profile) {
        (Some(p), _) => ("securityContext.seccompProfile", Some(p)),
        (None, Some(p)) => ("spec.securityContext.seccompProfile", Some(p)),
        (None, None) => ("", None),
    };
    out.seccomp = match seccomp {
        None if node.seccomp_default => Seccomp::RuntimeDefault,
        None => Seccomp::Unconfined,
        Some(p) => match p.r#type.as_str() {
            "Unconfined" => Seccomp::Unconfined,
            "RuntimeDefault" => Seccomp::RuntimeDefault,
            "Localhost" => Seccomp::Localhost(localhost_path(
                field,
                &node.seccomp_root,
                p.localhost_profile.as_deref(),
            )?),
            other => {
                return refuse(format!(
                    "{field}.type: unsupported value {other:?} (RuntimeDefault, Unconfined, \
                     Localhost)"
                ));
            }
        },
    };

    let (field, apparmor) = match (&sc.app_armor_profile, &psc.app_armor_profile) {
        (Some(p), _) => ("securityContext.appArmorProfile", Some(p)),
        (None, Some(p)) => ("spec.securityContext.appArmorProfile", Some(p)),
        (None, None) => ("", None),
    };
    if let Some(p) = apparmor {
        let ty = p.r#type.as_str();
        if !["Unconfined", "RuntimeDefault", "Localhost"].contains(&ty) {
            return refuse(format!(
                "{field}.type: unsupported value {ty:?} (RuntimeDefault, Unconfined, Localhost)"
            ));
        }
        if ty != "Unconfined" && !node.apparmor_enabled {
            return refuse(format!(
                "Cannot enforce AppArmor: AppArmor is not enabled on the host ({field}: {ty})"
            ));
        }
        out.apparmor = match ty {
            "Localhost" => match p.localhost_profile.as_deref().filter(|s| !s.is_empty()) {
                Some(name) => Some(name.to_string()),
                None => {
                    return refuse(format!(
                        "{field}.localhostProfile: must be set when AppArmor type is Localhost"
                    ));
                }
            },
            "Unconfined" if node.apparmor_enabled => Some("unconfined".into()),
            _ => None,
        };
    }

    // Kubernetes ignores seLinuxOptions on hosts without SELinux.
    if node.selinux_enabled
        && let Some(o) = sc
            .se_linux_options
            .as_ref()
            .or(psc.se_linux_options.as_ref())
    {
        for (k, v) in [
            ("user", &o.user),
            ("role", &o.role),
            ("type", &o.r#type),
            ("level", &o.level),
        ] {
            if !v.is_empty() {
                out.selinux.push(format!("{k}:{v}"));
            }
        }
    }

    out.pid_mode = if spec.host_pid {
        Some("host".into())
    } else if spec.share_process_namespace == Some(true) {
        Some(format!("container:{sandbox_id}"))
    } else {
        None
    };
    out.ipc_host = spec.host_ipc;
    Ok(out)
}

/// Kubernetes' `verifyRunAsNonRoot` against the image's configured user (`USER`): a name
/// cannot be checked without the image's passwd, and no user means root.
pub fn verify_image_user(pod: &Pod, c: &Container, image_user: &str) -> Result<(), Refused> {
    let user = image_user.split(':').next().unwrap_or_default();
    if user.is_empty() {
        return refuse(format!(
            "container has runAsNonRoot and image will run as root (pod: {:?}, container: {})",
            pod_desc(pod),
            c.name
        ));
    }
    match user.parse::<i64>() {
        Ok(0) => refuse(format!(
            "container has runAsNonRoot and image will run as root (pod: {:?}, container: {})",
            pod_desc(pod),
            c.name
        )),
        Ok(uid) if !(1..=i64::from(i32::MAX)).contains(&uid) => refuse(format!(
            "container has runAsNonRoot and image has an invalid user id ({uid}). (Must be \
             1-({})) (pod: {:?}, container: {})",
            i32::MAX,
            pod_desc(pod),
            c.name
        )),
        Ok(_) => Ok(()),
        Err(_) => refuse(format!(
            "container has runAsNonRoot and image has non-numeric user ({user}), cannot verify \
             user is non-root (pod: {:?}, container: {})",
            pod_desc(pod),
            c.name
        )),
    }
}

/// Docker's security options for the settings; `localhost_profile` is the Localhost
/// seccomp profile's JSON, when that is the profile.
pub fn docker_security_opt(s: &Settings, localhost_profile: Option<&str>) -> Vec<String> {
    let mut opts = Vec::new();
    if s.no_new_privileges {
        opts.push("no-new-privileges".to_string());
    }
    match (&s.seccomp, localhost_profile) {
        (Seccomp::Unconfined, _) => opts.push("seccomp=unconfined".into()),
        // Docker applies its default profile when none is named.
        (Seccomp::RuntimeDefault, _) => {}
        (Seccomp::Localhost(_), Some(json)) => opts.push(format!("seccomp={json}")),
        (Seccomp::Localhost(_), None) => {}
    }
    if let Some(a) = &s.apparmor {
        opts.push(format!("apparmor={a}"));
    }
    for l in &s.selinux {
        opts.push(format!("label={l}"));
    }
    opts
}

impl Settings {
    /// Writes the settings into a container's config (`security_opt` from
    /// `docker_security_opt`).
    pub fn apply(&self, cfg: &mut ContainerConfig, security_opt: Vec<String>) {
        cfg.user = self.user.clone();
        cfg.group_add = self.group_add.clone();
        cfg.readonly_rootfs = self.readonly_rootfs;
        cfg.privileged = self.privileged;
        cfg.cap_add = self.cap_add.clone();
        cfg.cap_drop = self.cap_drop.clone();
        cfg.security_opt = security_opt;
        cfg.pid_mode = self.pid_mode.clone();
        if self.ipc_host {
            cfg.ipc_host = true;
            cfg.ipc_container = None;
        }
    }
}

/// Reads a Localhost seccomp profile; it must be a JSON object (Docker's profile format).
pub fn read_seccomp_profile(path: &Path) -> Result<String, Refused> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Refused(format!(
            "seccompProfile: Localhost profile {} cannot be read: {e}",
            path.display()
        ))
    })?;
    match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(serde_json::Value::Object(_)) => Ok(text),
        Ok(_) => refuse(format!(
            "seccompProfile: Localhost profile {} is not a JSON object",
            path.display()
        )),
        Err(e) => refuse(format!(
            "seccompProfile: Localhost profile {} is not valid JSON: {e}",
            path.display()
        )),
    }
}

/// The container's settings with what they need from outside: the image's user (for
/// runAsNonRoot) and the Localhost seccomp profile. The image must be present.
pub async fn for_container<R: Runtime>(
    rt: &R,
    node: &NodeSecurity,
    pod: &Pod,
    c: &Container,
    sandbox_id: &str,
) -> Result<(Settings, Vec<String>), Refused> {
    let s = container_settings(pod, c, node, sandbox_id)?;
    if s.verify_image_user {
        let user = rt.image_user(&c.image).await.map_err(|e| {
            Refused(format!(
                "cannot verify runAsNonRoot: inspecting image {:?}: {e}",
                c.image
            ))
        })?;
        verify_image_user(pod, c, &user)?;
    }
    let profile = match &s.seccomp {
        Seccomp::Localhost(path) => Some(read_seccomp_profile(path)?),
        _ => None,
    };
    let opts = docker_security_opt(&s, profile.as_deref());
    Ok((s, opts))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::k8s::{
        AppArmorProfile, Capabilities, ObjectMeta, PodSpec, SeLinuxOptions, SeccompProfile, Sysctl,
        WindowsSecurityContextOptions,
    };

    fn node() -> NodeSecurity {
        NodeSecurity {
            seccomp_root: PathBuf::from("/var/lib/kubelet/seccomp"),
            ..Default::default()
        }
    }

    fn pod(psc: Option<PodSecurityContext>, sc: Option<SecurityContext>) -> (Pod, Container) {
        let c = Container {
            name: "app".into(),
            image: "img".into(),
            security_context: sc,
            ..Default::default()
        };
        let p = Pod {
            metadata: Some(ObjectMeta {
                name: "web".into(),
                namespace: "ns".into(),
                uid: "u1".into(),
                ..Default::default()
            }),
            spec: Some(PodSpec {
                security_context: psc.map(Box::new),
                containers: vec![c.clone()],
                ..Default::default()
            }),
            ..Default::default()
        };
        (p, c)
    }

    fn settings(
        psc: Option<PodSecurityContext>,
        sc: Option<SecurityContext>,
    ) -> Result<Settings, Refused> {
        let (p, c) = pod(psc, sc);
        container_settings(&p, &c, &node(), "sb1")
    }

    fn refused(psc: Option<PodSecurityContext>, sc: Option<SecurityContext>) -> String {
        match settings(psc, sc) {
            Err(Refused(m)) => m,
            Ok(s) => panic!("expected a refusal, got {s:?}"),
        }
    }

    fn seccomp(ty: &str, profile: Option<&str>) -> Option<SeccompProfile> {
        Some(SeccompProfile {
            r#type: ty.into(),
            localhost_profile: profile.map(str::to_string),
        })
    }

    #[test]
    fn defaults_are_kubernetes_defaults() {
        let s = settings(None, None).unwrap();
        assert_eq!(
            s,
            Settings {
                seccomp: Seccomp::Unconfined,
                ..Default::default()
            }
        );
        // Kubernetes' default with SeccompDefault off: unconfined, not Docker's profile.
        assert_eq!(docker_security_opt(&s, None), vec!["seccomp=unconfined"]);
    }

    #[test]
    fn user_and_group_container_over_pod() {
        // pod uid, pod gid, container uid, container gid -> user
        type Case = (
            Option<i32>,
            Option<i32>,
            Option<i32>,
            Option<i32>,
            Option<&'static str>,
        );
        let cases: &[Case] = &[
            (Some(1000), None, None, None, Some("1000")),
            (Some(1000), Some(3000), None, None, Some("1000:3000")),
            (Some(1000), Some(3000), Some(2000), None, Some("2000:3000")),
            (
                Some(1000),
                Some(3000),
                Some(2000),
                Some(4000),
                Some("2000:4000"),
            ),
            (None, None, Some(0), Some(0), Some("0:0")),
            (None, None, None, None, None),
        ];
        for (pu, pg, cu, cg, want) in cases {
            let psc = PodSecurityContext {
                run_as_user: *pu,
                run_as_group: *pg,
                ..Default::default()
            };
            let sc = SecurityContext {
                run_as_user: *cu,
                run_as_group: *cg,
                ..Default::default()
            };
            let s = settings(Some(psc), Some(sc)).unwrap();
            assert_eq!(s.user.as_deref(), *want, "{pu:?} {pg:?} {cu:?} {cg:?}");
        }
        let m = refused(
            Some(PodSecurityContext {
                run_as_group: Some(5),
                ..Default::default()
            }),
            None,
        );
        assert_eq!(m, "runAsGroup is specified without a runAsUser");
        let m = refused(
            None,
            Some(SecurityContext {
                run_as_user: Some(-1),
                ..Default::default()
            }),
        );
        assert!(
            m.starts_with("securityContext.runAsUser: must be between 0"),
            "{m}"
        );
    }

    #[test]
    fn groups_fs_group_then_supplemental_deduplicated() {
        let psc = PodSecurityContext {
            fs_group: Some(2000),
            supplemental_groups: vec![3000, 2000, 4000],
            ..Default::default()
        };
        let s = settings(Some(psc), None).unwrap();
        assert_eq!(s.group_add, vec!["2000", "3000", "4000"]);
        for (policy, ok) in [
            ("Merge", true),
            ("", true),
            ("Strict", false),
            ("Loose", false),
        ] {
            let psc = PodSecurityContext {
                supplemental_groups_policy: Some(policy.into()),
                ..Default::default()
            };
            let r = settings(Some(psc), None);
            assert_eq!(r.is_ok(), ok, "{policy}: {r:?}");
            if let Err(Refused(m)) = r {
                assert!(
                    m.starts_with("spec.securityContext.supplementalGroupsPolicy"),
                    "{m}"
                );
            }
        }
    }

    #[test]
    fn run_as_non_root() {
        let non_root = |uid: Option<i32>| SecurityContext {
            run_as_non_root: Some(true),
            run_as_user: uid,
            ..Default::default()
        };
        // runAsUser 0 is refused before the image is looked at.
        assert_eq!(
            refused(None, Some(non_root(Some(0)))),
            "container's runAsUser breaks non-root policy (pod: \"web_ns(u1)\", container: app)"
        );
        assert!(
            !settings(None, Some(non_root(Some(1000))))
                .unwrap()
                .verify_image_user
        );
        assert!(
            settings(None, Some(non_root(None)))
                .unwrap()
                .verify_image_user
        );
        // The pod's runAsNonRoot applies; the container's false overrides it.
        let psc = PodSecurityContext {
            run_as_non_root: Some(true),
            ..Default::default()
        };
        assert!(settings(Some(psc.clone()), None).unwrap().verify_image_user);
        let off = SecurityContext {
            run_as_non_root: Some(false),
            ..Default::default()
        };
        assert!(!settings(Some(psc), Some(off)).unwrap().verify_image_user);

        let (p, c) = pod(None, Some(non_root(None)));
        let root = "container has runAsNonRoot and image will run as root (pod: \"web_ns(u1)\", container: app)";
        for (user, want) in [
            ("", Err(root.to_string())),
            ("0", Err(root.to_string())),
            ("0:0", Err(root.to_string())),
            ("1000", Ok(())),
            ("1000:1000", Ok(())),
            (
                "nobody",
                Err("container has runAsNonRoot and image has non-numeric user (nobody), cannot verify user is non-root (pod: \"web_ns(u1)\", container: app)".to_string()),
            ),
        ] {
            assert_eq!(
                verify_image_user(&p, &c, user).map_err(|e| e.0),
                want,
                "image user {user:?}"
            );
        }
        assert!(
            verify_image_user(&p, &c, "4294967296")
                .unwrap_err()
                .0
                .contains("invalid user id")
        );
    }

    #[test]
    fn capabilities_normalized() {
        let sc = SecurityContext {
            capabilities: Some(Capabilities {
                add: vec!["net_admin".into(), "CAP_SYS_TIME".into()],
                drop: vec!["ALL".into(), "NET_RAW".into()],
            }),
            ..Default::default()
        };
        let s = settings(None, Some(sc)).unwrap();
        assert_eq!(s.cap_add, vec!["CAP_NET_ADMIN", "CAP_SYS_TIME"]);
        assert_eq!(s.cap_drop, vec!["ALL", "CAP_NET_RAW"]);
        let sc = SecurityContext {
            capabilities: Some(Capabilities {
                add: vec!["FLY".into()],
                drop: vec![],
            }),
            ..Default::default()
        };
        assert_eq!(
            refused(None, Some(sc)),
            "securityContext.capabilities.add: unknown capability \"FLY\""
        );
    }

    #[test]
    fn privilege_escalation() {
        let sc = |ape: Option<bool>, privileged: Option<bool>, add: &[&str]| SecurityContext {
            allow_privilege_escalation: ape,
            privileged,
            capabilities: Some(Capabilities {
                add: add.iter().map(|s| s.to_string()).collect(),
                drop: vec![],
            }),
            ..Default::default()
        };
        let s = settings(None, Some(sc(Some(false), None, &[]))).unwrap();
        assert!(s.no_new_privileges);
        assert_eq!(
            docker_security_opt(&s, None),
            vec!["no-new-privileges", "seccomp=unconfined"]
        );
        assert!(
            !settings(None, Some(sc(None, None, &[])))
                .unwrap()
                .no_new_privileges
        );
        assert!(
            !settings(None, Some(sc(Some(true), None, &[])))
                .unwrap()
                .no_new_privileges
        );
        let p = settings(None, Some(sc(None, Some(true), &[]))).unwrap();
        assert!(p.privileged && !p.no_new_privileges);
        assert_eq!(
            refused(None, Some(sc(Some(false), Some(true), &[]))),
            "securityContext: cannot set `allowPrivilegeEscalation` to false and `privileged` to true"
        );
        assert_eq!(
            refused(None, Some(sc(Some(false), None, &["SYS_ADMIN"]))),
            "securityContext: cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN"
        );
    }

    #[test]
    fn read_only_root_and_proc_mount() {
        let sc = SecurityContext {
            read_only_root_filesystem: Some(true),
            proc_mount: Some("Default".into()),
            ..Default::default()
        };
        assert!(settings(None, Some(sc)).unwrap().readonly_rootfs);
        let sc = SecurityContext {
            proc_mount: Some("Unmasked".into()),
            ..Default::default()
        };
        assert!(
            refused(None, Some(sc))
                .starts_with("securityContext.procMount: Unmasked needs a user namespace")
        );
    }

    #[test]
    fn seccomp_default_flag_turns_an_unset_profile_into_runtime_default() {
        let (p, c) = pod(None, None);
        let off = container_settings(&p, &c, &node(), "sb1").unwrap();
        assert_eq!(off.seccomp, Seccomp::Unconfined, "Kubernetes' default");
        let on = NodeSecurity {
            seccomp_default: true,
            ..node()
        };
        let s = container_settings(&p, &c, &on, "sb1").unwrap();
        assert_eq!(s.seccomp, Seccomp::RuntimeDefault);
        let sc = SecurityContext {
            seccomp_profile: seccomp("Unconfined", None),
            ..Default::default()
        };
        let (p, c) = pod(None, Some(sc));
        let s = container_settings(&p, &c, &on, "sb1").unwrap();
        assert_eq!(s.seccomp, Seccomp::Unconfined, "an explicit profile wins");
    }

    #[test]
    fn seccomp_container_over_pod() {
        let psc = PodSecurityContext {
            seccomp_profile: seccomp("RuntimeDefault", None),
            ..Default::default()
        };
        let s = settings(Some(psc.clone()), None).unwrap();
        assert_eq!(s.seccomp, Seccomp::RuntimeDefault);
        assert!(docker_security_opt(&s, None).is_empty());
        let sc = SecurityContext {
            seccomp_profile: seccomp("Localhost", Some("profiles/audit.json")),
            ..Default::default()
        };
        let s = settings(Some(psc.clone()), Some(sc)).unwrap();
        assert_eq!(
            s.seccomp,
            Seccomp::Localhost("/var/lib/kubelet/seccomp/profiles/audit.json".into())
        );
        assert_eq!(
            docker_security_opt(&s, Some("{\"defaultAction\":\"SCMP_ACT_LOG\"}")),
            vec!["seccomp={\"defaultAction\":\"SCMP_ACT_LOG\"}"]
        );
        let sc = SecurityContext {
            seccomp_profile: seccomp("Unconfined", None),
            ..Default::default()
        };
        assert_eq!(
            settings(Some(psc), Some(sc)).unwrap().seccomp,
            Seccomp::Unconfined
        );
        for (ty, profile, want) in [
            (
                "Localhost",
                None,
                "securityContext.seccompProfile.localhostProfile: must be set when seccomp type is Localhost",
            ),
            (
                "Localhost",
                Some("/etc/x.json"),
                "securityContext.seccompProfile.localhostProfile: must be a relative path",
            ),
            (
                "Localhost",
                Some("../../x.json"),
                "securityContext.seccompProfile.localhostProfile: must not contain '..'",
            ),
            (
                "Strict",
                None,
                "securityContext.seccompProfile.type: unsupported value \"Strict\" (RuntimeDefault, Unconfined, Localhost)",
            ),
        ] {
            let sc = SecurityContext {
                seccomp_profile: seccomp(ty, profile),
                ..Default::default()
            };
            assert_eq!(refused(None, Some(sc)), want);
        }
    }

    #[test]
    fn seccomp_profile_file() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.json");
        std::fs::write(&good, "{\"defaultAction\":\"SCMP_ACT_ALLOW\"}").unwrap();
        assert!(read_seccomp_profile(&good).is_ok());
        let bad = dir.path().join("bad.json");
        std::fs::write(&bad, "not json").unwrap();
        assert!(
            read_seccomp_profile(&bad)
                .unwrap_err()
                .0
                .contains("is not valid JSON")
        );
        let missing = read_seccomp_profile(&dir.path().join("missing.json")).unwrap_err();
        assert!(missing.0.contains("cannot be read"), "{missing}");
    }

    #[test]
    fn apparmor_refused_where_the_host_has_none() {
        let profile = |ty: &str, name: Option<&str>| AppArmorProfile {
            r#type: ty.into(),
            localhost_profile: name.map(str::to_string),
        };
        let psc = |p: AppArmorProfile| PodSecurityContext {
            app_armor_profile: Some(p),
            ..Default::default()
        };
        // No AppArmor on this (test) node: only Unconfined can be honoured.
        assert_eq!(
            settings(Some(psc(profile("Unconfined", None))), None)
                .unwrap()
                .apparmor,
            None
        );
        assert_eq!(
            refused(Some(psc(profile("Localhost", Some("k8s-x")))), None),
            "Cannot enforce AppArmor: AppArmor is not enabled on the host (spec.securityContext.appArmorProfile: Localhost)"
        );
        assert!(
            refused(Some(psc(profile("RuntimeDefault", None))), None)
                .starts_with("Cannot enforce AppArmor")
        );
        let mut n = node();
        n.apparmor_enabled = true;
        let sc = SecurityContext {
            app_armor_profile: Some(profile("Localhost", Some("k8s-x"))),
            ..Default::default()
        };
        let (p, c) = pod(Some(psc(profile("Unconfined", None))), Some(sc));
        let s = container_settings(&p, &c, &n, "sb").unwrap();
        assert_eq!(s.apparmor.as_deref(), Some("k8s-x"));
        assert_eq!(
            docker_security_opt(&s, None),
            vec!["seccomp=unconfined", "apparmor=k8s-x"]
        );
        let (p, c) = pod(Some(psc(profile("Unconfined", None))), None);
        let s = container_settings(&p, &c, &n, "sb").unwrap();
        assert_eq!(s.apparmor.as_deref(), Some("unconfined"));
    }

    #[test]
    fn selinux_only_where_enabled() {
        let psc = PodSecurityContext {
            se_linux_options: Some(SeLinuxOptions {
                level: "s0:c123,c456".into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        // Kubernetes ignores seLinuxOptions on hosts without SELinux.
        assert!(
            settings(Some(psc.clone()), None)
                .unwrap()
                .selinux
                .is_empty()
        );
        let mut n = node();
        n.selinux_enabled = true;
        let sc = SecurityContext {
            se_linux_options: Some(SeLinuxOptions {
                r#type: "spc_t".into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let (p, c) = pod(Some(psc), Some(sc));
        let s = container_settings(&p, &c, &n, "sb").unwrap();
        assert_eq!(s.selinux, vec!["type:spc_t"]);
        assert_eq!(docker_security_opt(&s, None)[1], "label=type:spc_t");
    }

    #[test]
    fn windows_host_process_refused() {
        let sc = SecurityContext {
            windows_options: Some(WindowsSecurityContextOptions {
                host_process: Some(true),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert!(refused(None, Some(sc)).starts_with("securityContext.windowsOptions.hostProcess"));
        let sc = SecurityContext {
            windows_options: Some(WindowsSecurityContextOptions {
                run_as_user_name: Some("ContainerUser".into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert!(settings(None, Some(sc)).is_ok());
    }

    fn with_sysctls(names: &[&str], host_net: bool, host_ipc: bool) -> Pod {
        let (mut p, _) = pod(
            Some(PodSecurityContext {
                sysctls: names
                    .iter()
                    .map(|n| Sysctl {
                        name: n.to_string(),
                        value: "1".into(),
                    })
                    .collect(),
                ..Default::default()
            }),
            None,
        );
        let spec = p.spec.as_mut().unwrap();
        spec.host_network = host_net;
        spec.host_ipc = host_ipc;
        p
    }

    #[test]
    fn sysctls_safe_set_only_unless_allowed() {
        let n = node();
        for name in SAFE_SYSCTLS {
            assert_eq!(
                check_sysctls(&with_sysctls(&[name], false, false), &n),
                Ok(())
            );
        }
        let p = with_sysctls(&["net/ipv4/ip_local_port_range"], false, false);
        assert_eq!(check_sysctls(&p, &n), Ok(()));
        assert_eq!(
            sandbox_settings(&p, &n).sysctls.keys().collect::<Vec<_>>(),
            vec!["net.ipv4.ip_local_port_range"]
        );
        let p = with_sysctls(&["net.core.somaxconn"], false, false);
        assert_eq!(
            check_sysctls(&p, &n).unwrap_err().0,
            "forbidden sysctl: \"net.core.somaxconn\" not allowlisted"
        );
        assert!(sandbox_settings(&p, &n).sysctls.is_empty());
        let (_, c) = pod(None, None);
        assert_eq!(
            container_settings(&p, &c, &n, "sb").unwrap_err().0,
            "forbidden sysctl: \"net.core.somaxconn\" not allowlisted"
        );
        let allowed = NodeSecurity::new(
            "/x".into(),
            vec!["net.core.somaxconn".into(), "kernel.msg*".into()],
        )
        .unwrap();
        assert_eq!(check_sysctls(&p, &allowed), Ok(()));
        assert_eq!(
            check_sysctls(&with_sysctls(&["kernel.msgmax"], false, false), &allowed),
            Ok(())
        );
        assert_eq!(
            check_sysctls(&with_sysctls(&["net.ipv4.tcp_syncookies"], true, false), &n)
                .unwrap_err()
                .0,
            "forbidden sysctl: \"net.ipv4.tcp_syncookies\" not allowed with host net enabled"
        );
        assert_eq!(
            check_sysctls(&with_sysctls(&["kernel.shm_rmid_forced"], false, true), &n)
                .unwrap_err()
                .0,
            "forbidden sysctl: \"kernel.shm_rmid_forced\" not allowed with host ipc enabled"
        );
        // Node-wide sysctls cannot be allowed at all.
        for bad in ["kernel.*", "vm.swappiness"] {
            assert!(
                NodeSecurity::new("/x".into(), vec![bad.into()])
                    .unwrap_err()
                    .0
                    .contains("not known to be namespaced"),
                "{bad}"
            );
        }
    }

    #[test]
    fn host_namespaces() {
        let (mut p, c) = pod(None, None);
        let n = node();
        let s = container_settings(&p, &c, &n, "sb1").unwrap();
        assert_eq!((s.pid_mode.as_deref(), s.ipc_host), (None, false));
        p.spec.as_mut().unwrap().share_process_namespace = Some(true);
        let s = container_settings(&p, &c, &n, "sb1").unwrap();
        assert_eq!(s.pid_mode.as_deref(), Some("container:sb1"));
        let spec = p.spec.as_mut().unwrap();
        spec.host_pid = true;
        spec.host_ipc = true;
        let s = container_settings(&p, &c, &n, "sb1").unwrap();
        assert_eq!((s.pid_mode.as_deref(), s.ipc_host), (Some("host"), true));
        let sb = sandbox_settings(&p, &n);
        assert!(sb.pid_host && sb.ipc_host);
        let mut cfg = ContainerConfig {
            ipc_container: Some("sb1".into()),
            ..Default::default()
        };
        s.apply(&mut cfg, vec![]);
        assert_eq!((cfg.ipc_container, cfg.ipc_host), (None, true));
        let mut sbc = ContainerConfig {
            ipc_shareable: true,
            ..Default::default()
        };
        sb.apply(&mut sbc);
        assert_eq!(
            (sbc.pid_mode.as_deref(), sbc.ipc_host, sbc.ipc_shareable),
            (Some("host"), true, false)
        );
    }
}
