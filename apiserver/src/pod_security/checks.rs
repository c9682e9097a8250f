//! The Pod Security Standards checks, as Kubernetes' pod-security-admission library defines
//! them (`policy/check_*.go`): each check has an id, a level, and one revision per policy
//! version where its rule changed. A check looks at the pod's metadata and spec only and
//! returns why it forbids the pod; the wording of reasons and details is Kubernetes', so
//! users can search for the messages they see.

use std::collections::BTreeSet;

use proto::k8s::{Container, ObjectMeta, PodSpec, Probe};

use super::policy::{Level, LevelVersion, Version};

/// Why one check forbids a pod (Kubernetes' `CheckResult` when not allowed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Short and always shown: `hostPath volumes`.
    pub reason: String,
    /// What exactly, shown for a single pod: `volume "root"`. May be empty.
    pub detail: String,
}

impl Violation {
    fn new(reason: impl Into<String>, detail: impl Into<String>) -> Option<Violation> {
        Some(Violation {
            reason: reason.into(),
            detail: detail.into(),
        })
    }
}

type CheckFn = fn(&ObjectMeta, &PodSpec) -> Option<Violation>;

/// One revision of a check, in force from `min_minor` (policy version v1.<min_minor>) until
/// the next revision.
struct Revision {
    min_minor: u32,
    check: CheckFn,
    /// Baseline checks this restricted revision replaces (it checks the same fields more
    /// strictly, so the baseline one would only repeat it).
    overrides: &'static [&'static str],
}

struct Check {
    id: &'static str,
    level: Level,
    revisions: &'static [Revision],
}

const fn rev(min_minor: u32, check: CheckFn) -> Revision {
    Revision {
        min_minor,
        check,
        overrides: &[],
    }
}

const fn rev_over(min_minor: u32, check: CheckFn, overrides: &'static [&'static str]) -> Revision {
    Revision {
        min_minor,
        check,
        overrides,
    }
}

/// Every check, baseline first, each level sorted by id: the order Kubernetes reports
/// violations in (`registry.go` sorts ids "to maintain consistent error messages").
const CHECKS: &[Check] = &[
    Check {
        id: "appArmorProfile",
        level: Level::Baseline,
        revisions: &[rev(0, app_armor_profile)],
    },
    Check {
        id: "capabilities_baseline",
        level: Level::Baseline,
        revisions: &[rev(0, capabilities_baseline)],
    },
    Check {
        id: "hostNamespaces",
        level: Level::Baseline,
        revisions: &[rev(0, host_namespaces)],
    },
    Check {
        id: "hostPathVolumes",
        level: Level::Baseline,
        revisions: &[rev(0, host_path_volumes)],
    },
    Check {
        id: "hostPorts",
        level: Level::Baseline,
        revisions: &[rev(0, host_ports)],
    },
    Check {
        id: "hostProbesAndHostLifecycle",
        level: Level::Baseline,
        revisions: &[rev(34, host_probes_and_lifecycle)],
    },
    Check {
        id: "privileged",
        level: Level::Baseline,
        revisions: &[rev(0, privileged)],
    },
    // Kubernetes relaxes this from v1.35 for pods with `hostUsers: false`; pods here always
    // share the host's user namespace, so both revisions are the same rule.
    Check {
        id: "procMount_baseline",
        level: Level::Baseline,
        revisions: &[rev(0, proc_mount)],
    },
    Check {
        id: "seLinuxOptions",
        level: Level::Baseline,
        revisions: &[rev(0, se_linux_options_1_0), rev(31, se_linux_options_1_31)],
    },
    Check {
        id: "seccompProfile_baseline",
        level: Level::Baseline,
        revisions: &[rev(0, seccomp_annotations), rev(19, seccomp_baseline)],
    },
    Check {
        id: "sysctls",
        level: Level::Baseline,
        revisions: &[
            rev(0, sysctls_1_0),
            rev(27, sysctls_1_27),
            rev(29, sysctls_1_29),
            rev(32, sysctls_1_32),
        ],
    },
    Check {
        id: "windowsHostProcess",
        level: Level::Baseline,
        revisions: &[rev(0, windows_host_process)],
    },
    Check {
        id: "allowPrivilegeEscalation",
        level: Level::Restricted,
        revisions: &[rev(8, allow_privilege_escalation)],
    },
    Check {
        id: "capabilities_restricted",
        level: Level::Restricted,
        revisions: &[rev_over(
            22,
            capabilities_restricted,
            &["capabilities_baseline"],
        )],
    },
    Check {
        id: "procMount_restricted",
        level: Level::Restricted,
        revisions: &[rev_over(35, proc_mount, &["procMount_baseline"])],
    },
    Check {
        id: "restrictedVolumes",
        level: Level::Restricted,
        revisions: &[rev_over(0, restricted_volumes, &["hostPathVolumes"])],
    },
    Check {
        id: "runAsNonRoot",
        level: Level::Restricted,
        revisions: &[rev(0, run_as_non_root)],
    },
    Check {
        id: "runAsUser",
        level: Level::Restricted,
        revisions: &[rev(23, run_as_user)],
    },
    Check {
        id: "seccompProfile_restricted",
        level: Level::Restricted,
        revisions: &[rev_over(
            19,
            seccomp_restricted,
            &["seccompProfile_baseline"],
        )],
    },
];

/// The newest policy version any check has a revision for: `latest` and every later
/// version evaluate as this one, as Kubernetes clamps them.
pub fn max_minor() -> u32 {
    CHECKS
        .iter()
        .filter_map(|c| c.revisions.last())
        .map(|r| r.min_minor)
        .max()
        .unwrap_or(0)
}

/// The revision of `check` in force at policy version v1.`minor`, if any.
fn revision_at(check: &Check, minor: u32) -> Option<&Revision> {
    check.revisions.iter().rev().find(|r| r.min_minor <= minor)
}

/// Every violation of the pod at this level and version, in Kubernetes' order.
pub fn evaluate(lv: LevelVersion, meta: &ObjectMeta, spec: &PodSpec) -> Vec<Violation> {
    if lv.level == Level::Privileged {
        return Vec::new();
    }
    let minor = match lv.version {
        Version::Latest => max_minor(),
        Version::Minor(m) => m.min(max_minor()),
    };
    let in_force: Vec<(&Check, &Revision)> = CHECKS
        .iter()
        .filter(|c| c.level == Level::Baseline || lv.level == Level::Restricted)
        .filter_map(|c| revision_at(c, minor).map(|r| (c, r)))
        .collect();
    let overridden: BTreeSet<&str> = if lv.level == Level::Restricted {
        in_force
            .iter()
            .flat_map(|(_, r)| r.overrides.iter().copied())
            .collect()
    } else {
        BTreeSet::new()
    };
    in_force
        .into_iter()
        .filter(|(c, _)| !overridden.contains(c.id))
        .filter_map(|(_, r)| (r.check)(meta, spec))
        .collect()
}

/// `host namespaces (hostNetwork=true), privileged (container "c" must not ...)`:
/// Kubernetes' ForbiddenDetail of an aggregate result.
pub fn forbidden_detail(violations: &[Violation]) -> String {
    violations
        .iter()
        .map(|v| {
            if v.detail.is_empty() {
                v.reason.clone()
            } else {
                format!("{} ({})", v.reason, v.detail)
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `host namespaces, privileged`: the reasons only, as used for many pods at once.
pub fn forbidden_reason(violations: &[Violation]) -> String {
    violations
        .iter()
        .map(|v| v.reason.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

// ---- helpers with Kubernetes' formatting ----

/// Go's `%q`. Names here are validated DNS names, where Rust's escaping is the same.
fn quote(s: &str) -> String {
    format!("{s:?}")
}

/// `"a", "b"`.
fn join_quote<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> String {
    items
        .into_iter()
        .map(|s| quote(s.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn pluralize<'a>(singular: &'a str, plural: &'a str, n: usize) -> &'a str {
    if n == 1 { singular } else { plural }
}

/// `container "a"` / `containers "a", "b"`.
fn containers_phrase(names: &[String]) -> String {
    format!(
        "{} {}",
        pluralize("container", "containers", names.len()),
        join_quote(names)
    )
}

/// Containers and init containers, as Kubernetes' `visitContainers` (there are no ephemeral
/// containers here).
fn containers(spec: &PodSpec) -> impl Iterator<Item = &Container> {
    spec.containers.iter().chain(spec.init_containers.iter())
}

// ---- baseline ----

const APPARMOR_ANNOTATION_PREFIX: &str = "container.apparmor.security.beta.kubernetes.io/";

fn app_armor_type_allowed(t: &str) -> bool {
    matches!(t, "RuntimeDefault" | "Localhost")
}

fn app_armor_annotation_allowed(v: &str) -> bool {
    v.is_empty() || v == "runtime/default" || v.starts_with("localhost/")
}

fn app_armor_profile(meta: &ObjectMeta, spec: &PodSpec) -> Option<Violation> {
    let mut setters = Vec::new();
    let mut bad_values = BTreeSet::new();
    if let Some(p) = spec
        .security_context
        .as_ref()
        .and_then(|s| s.app_armor_profile.as_ref())
        && !app_armor_type_allowed(&p.r#type)
    {
        setters.push("pod".to_string());
        bad_values.insert(p.r#type.clone());
    }
    let mut bad = Vec::new();
    for c in containers(spec) {
        if let Some(p) = c
            .security_context
            .as_ref()
            .and_then(|s| s.app_armor_profile.as_ref())
            && !app_armor_type_allowed(&p.r#type)
        {
            bad.push(c.name.clone());
            bad_values.insert(p.r#type.clone());
        }
    }
    if !bad.is_empty() {
        setters.push(containers_phrase(&bad));
    }
    let mut annotations: Vec<String> = meta
        .annotations
        .iter()
        .filter(|(k, v)| {
            k.starts_with(APPARMOR_ANNOTATION_PREFIX) && !app_armor_annotation_allowed(v)
        })
        .map(|(k, v)| format!("{k}={}", quote(v)))
        .collect();
    let mut values: Vec<String> = bad_values.into_iter().collect();
    if !annotations.is_empty() {
        annotations.sort();
        setters.push(pluralize("annotation", "annotations", annotations.len()).to_string());
        values.extend(annotations);
    }
    if setters.is_empty() {
        return None;
    }
    Violation::new(
        pluralize(
            "forbidden AppArmor profile",
            "forbidden AppArmor profiles",
            values.len(),
        ),
        format!(
            "{} must not set AppArmor profile type to {}",
            setters.join(" and "),
            join_quote(&values)
        ),
    )
}

/// Docker's and containerd's default set, which baseline lets a container add back.
const BASELINE_CAPABILITIES: &[&str] = &[
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

fn capabilities_baseline(_: &ObjectMeta, spec: &PodSpec) -> Option<Violation> {
    let mut bad = Vec::new();
    let mut caps = BTreeSet::new();
    for c in containers(spec) {
        let Some(added) = c
            .security_context
            .as_ref()
            .and_then(|s| s.capabilities.as_ref())
            .map(|c| &c.add)
        else {
            continue;
        };
        let mut valid = true;
        for cap in added {
            if !BASELINE_CAPABILITIES.contains(&cap.as_str()) {
                valid = false;
                caps.insert(cap.clone());
            }
        }
        if !valid {
            bad.push(c.name.clone());
        }
    }
    if bad.is_empty() {
        return None;
    }
    Violation::new(
        "non-default capabilities",
        format!(
            "{} must not include {} in securityContext.capabilities.add",
            containers_phrase(&bad),
            join_quote(&caps)
        ),
    )
}

fn host_namespaces(_: &ObjectMeta, spec: &PodSpec) -> Option<Violation> {
    let mut set = Vec::new();
    if spec.host_network {
        set.push("hostNetwork=true");
    }
    if spec.host_pid {
        set.push("hostPID=true");
    }
    if spec.host_ipc {
        set.push("hostIPC=true");
    }
    if set.is_empty() {
        return None;
    }
    Violation::new("host namespaces", set.join(", "))
}

fn host_path_volumes(_: &ObjectMeta, spec: &PodSpec) -> Option<Violation> {
    use proto::k8s::volume::VolumeSource as V;
    let names: Vec<String> = spec
        .volumes
        .iter()
        .filter(|v| matches!(v.volume_source, Some(V::HostPath(_))))
        .map(|v| v.name.clone())
        .collect();
    if names.is_empty() {
        return None;
    }
    Violation::new(
        "hostPath volumes",
        format!(
            "{} {}",
            pluralize("volume", "volumes", names.len()),
            join_quote(&names)
        ),
    )
}

fn host_ports(_: &ObjectMeta, spec: &PodSpec) -> Option<Violation> {
    let mut bad = Vec::new();
    // Sorted as strings, as Kubernetes' string set lists them.
    let mut ports = BTreeSet::new();
    for c in containers(spec) {
        let mut valid = true;
        for p in &c.ports {
            if p.host_port != 0 {
                valid = false;
                ports.insert(p.host_port.to_string());
            }
        }
        if !valid {
            bad.push(c.name.clone());
        }
    }
    if bad.is_empty() {
        return None;
    }
    Violation::new(
        "hostPort",
        format!(
            "{} {} {} {}",
            containers_phrase(&bad),
            pluralize("uses", "use", bad.len()),
            pluralize("hostPort", "hostPorts", ports.len()),
            ports.into_iter().collect::<Vec<_>>().join(", ")
        ),
    )
}

fn probe_hosts(probe: Option<&Probe>, out: &mut Vec<String>) {
    let Some(p) = probe else { return };
    if let Some(h) = &p.http_get
        && !h.host.is_empty()
    {
        out.push(h.host.clone());
    }
    if let Some(t) = &p.tcp_socket
        && !t.host.is_empty()
    {
        out.push(t.host.clone());
    }
}

fn host_probes_and_lifecycle(_: &ObjectMeta, spec: &PodSpec) -> Option<Violation> {
    let mut bad = BTreeSet::new();
    let mut hosts = BTreeSet::new();
    for c in containers(spec) {
        let mut found = Vec::new();
        probe_hosts(c.liveness_probe.as_ref(), &mut found);
        probe_hosts(c.readiness_probe.as_ref(), &mut found);
        probe_hosts(c.startup_probe.as_ref(), &mut found);
        if let Some(l) = &c.lifecycle {
            for h in [l.post_start.as_ref(), l.pre_stop.as_ref()]
                .into_iter()
                .flatten()
            {
                if let Some(g) = &h.http_get
                    && !g.host.is_empty()
                {
                    found.push(g.host.clone());
                }
                if let Some(t) = &h.tcp_socket
                    && !t.host.is_empty()
                {
                    found.push(t.host.clone());
                }
            }
        }
        if !found.is_empty() {
            bad.insert(c.name.clone());
            hosts.extend(found);
        }
    }
    if bad.is_empty() {
        return None;
    }
    let bad: Vec<String> = bad.into_iter().collect();
    Violation::new(
        "probe or lifecycle host",
        format!(
            "{} {} {} {}",
            containers_phrase(&bad),
            pluralize("uses", "use", bad.len()),
            pluralize(
                "probe or lifecycle host",
                "probe or lifecycle hosts",
                hosts.len()
            ),
            join_quote(&hosts)
        ),
    )
}

fn privileged(_: &ObjectMeta, spec: &PodSpec) -> Option<Violation> {
    let bad: Vec<String> = containers(spec)
        .filter(|c| {
            c.security_context
                .as_ref()
                .and_then(|s| s.privileged)
                .unwrap_or(false)
        })
        .map(|c| c.name.clone())
        .collect();
    if bad.is_empty() {
        return None;
    }
    Violation::new(
        "privileged",
        format!(
            "{} must not set securityContext.privileged=true",
            containers_phrase(&bad)
        ),
    )
}

fn proc_mount(_: &ObjectMeta, spec: &PodSpec) -> Option<Violation> {
    let mut bad = Vec::new();
    let mut types = BTreeSet::new();
    for c in containers(spec) {
        if let Some(pm) = c
            .security_context
            .as_ref()
            .and_then(|s| s.proc_mount.as_ref())
            && pm != "Default"
        {
            bad.push(c.name.clone());
            types.insert(pm.clone());
        }
    }
    if bad.is_empty() {
        return None;
    }
    Violation::new(
        "procMount",
        format!(
            "{} must not set securityContext.procMount to {}",
            containers_phrase(&bad),
            join_quote(&types)
        ),
    )
}

const SELINUX_TYPES_1_0: &[&str] = &["", "container_t", "container_init_t", "container_kvm_t"];
const SELINUX_TYPES_1_31: &[&str] = &[
    "",
    "container_t",
    "container_init_t",
    "container_kvm_t",
    "container_engine_t",
];

fn se_linux_options_1_0(m: &ObjectMeta, spec: &PodSpec) -> Option<Violation> {
    se_linux_options(m, spec, SELINUX_TYPES_1_0)
}

fn se_linux_options_1_31(m: &ObjectMeta, spec: &PodSpec) -> Option<Violation> {
    se_linux_options(m, spec, SELINUX_TYPES_1_31)
}

fn se_linux_options(_: &ObjectMeta, spec: &PodSpec, types: &[&str]) -> Option<Violation> {
    let mut bad_types = BTreeSet::new();
    let (mut set_user, mut set_role) = (false, false);
    let mut valid = |o: &proto::k8s::SeLinuxOptions| {
        let mut ok = true;
        if !types.contains(&o.r#type.as_str()) {
            ok = false;
            bad_types.insert(o.r#type.clone());
        }
        if !o.user.is_empty() {
            ok = false;
            set_user = true;
        }
        if !o.role.is_empty() {
            ok = false;
            set_role = true;
        }
        ok
    };
    let mut setters = Vec::new();
    if let Some(o) = spec
        .security_context
        .as_ref()
        .and_then(|s| s.se_linux_options.as_ref())
        && !valid(o)
    {
        setters.push("pod".to_string());
    }
    let mut bad = Vec::new();
    for c in containers(spec) {
        if let Some(o) = c
            .security_context
            .as_ref()
            .and_then(|s| s.se_linux_options.as_ref())
            && !valid(o)
        {
            bad.push(c.name.clone());
        }
    }
    if !bad.is_empty() {
        setters.push(containers_phrase(&bad));
    }
    if setters.is_empty() {
        return None;
    }
    let mut data = Vec::new();
    if !bad_types.is_empty() {
        data.push(format!(
            "{} {}",
            pluralize("type", "types", bad_types.len()),
            join_quote(&bad_types)
        ));
    }
    if set_user {
        data.push("user may not be set".to_string());
    }
    if set_role {
        data.push("role may not be set".to_string());
    }
    Violation::new(
        "seLinuxOptions",
        format!(
            "{} set forbidden securityContext.seLinuxOptions: {}",
            setters.join(" and "),
            data.join("; ")
        ),
    )
}

const SECCOMP_POD_ANNOTATION: &str = "seccomp.security.alpha.kubernetes.io/pod";
const SECCOMP_CONTAINER_ANNOTATION_PREFIX: &str = "container.seccomp.security.alpha.kubernetes.io/";

/// Policy versions before v1.19 read seccomp from the alpha annotations.
fn seccomp_annotations(meta: &ObjectMeta, spec: &PodSpec) -> Option<Violation> {
    let valid =
        |v: &str| v == "runtime/default" || v == "docker/default" || v.starts_with("localhost/");
    let mut forbidden = BTreeSet::new();
    if let Some(v) = meta.annotations.get(SECCOMP_POD_ANNOTATION)
        && !valid(v)
    {
        forbidden.insert(format!("{SECCOMP_POD_ANNOTATION}={}", quote(v)));
    }
    for c in containers(spec) {
        let key = format!("{SECCOMP_CONTAINER_ANNOTATION_PREFIX}{}", c.name);
        if let Some(v) = meta.annotations.get(&key)
            && !valid(v)
        {
            forbidden.insert(format!("{key}={}", quote(v)));
        }
    }
    if forbidden.is_empty() {
        return None;
    }
    Violation::new(
        "seccompProfile",
        format!(
            "forbidden {} {}",
            pluralize("annotation", "annotations", forbidden.len()),
            forbidden.into_iter().collect::<Vec<_>>().join(", ")
        ),
    )
}

fn seccomp_valid(t: &str) -> bool {
    matches!(t, "RuntimeDefault" | "Localhost")
}

/// Who set a bad seccomp type (`pod`, `containers "a", "b"`) and the bad types; containers
/// that set none are returned apart (restricted requires a type, baseline does not).
struct SeccompSurvey {
    setters: Vec<String>,
    bad_values: BTreeSet<String>,
    pod_valid: bool,
    unset_containers: Vec<String>,
}

fn survey_seccomp(spec: &PodSpec) -> SeccompSurvey {
    let mut s = SeccompSurvey {
        setters: Vec::new(),
        bad_values: BTreeSet::new(),
        pod_valid: false,
        unset_containers: Vec::new(),
    };
    if let Some(p) = spec
        .security_context
        .as_ref()
        .and_then(|s| s.seccomp_profile.as_ref())
    {
        if seccomp_valid(&p.r#type) {
            s.pod_valid = true;
        } else {
            s.setters.push("pod".to_string());
            s.bad_values.insert(p.r#type.clone());
        }
    }
    let mut bad = Vec::new();
    for c in containers(spec) {
        match c
            .security_context
            .as_ref()
            .and_then(|s| s.seccomp_profile.as_ref())
        {
            Some(p) if !seccomp_valid(&p.r#type) => {
                bad.push(c.name.clone());
                s.bad_values.insert(p.r#type.clone());
            }
            Some(_) => {}
            None => s.unset_containers.push(c.name.clone()),
        }
    }
    if !bad.is_empty() {
        s.setters.push(containers_phrase(&bad));
    }
    s
}

fn seccomp_bad_setters(s: &SeccompSurvey) -> Option<Violation> {
    if s.setters.is_empty() {
        return None;
    }
    Violation::new(
        "seccompProfile",
        format!(
            "{} must not set securityContext.seccompProfile.type to {}",
            s.setters.join(" and "),
            join_quote(&s.bad_values)
        ),
    )
}

fn seccomp_baseline(_: &ObjectMeta, spec: &PodSpec) -> Option<Violation> {
    seccomp_bad_setters(&survey_seccomp(spec))
}

fn seccomp_restricted(_: &ObjectMeta, spec: &PodSpec) -> Option<Violation> {
    let s = survey_seccomp(spec);
    if let Some(v) = seccomp_bad_setters(&s) {
        return Some(v);
    }
    if s.pod_valid || s.unset_containers.is_empty() {
        return None;
    }
    Violation::new(
        "seccompProfile",
        format!(
            "pod or {} must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\"",
            containers_phrase(&s.unset_containers)
        ),
    )
}

/// Sysctls namespaced per pod and isolated from other pods, by the policy version that
/// declared them safe.
const SYSCTLS_1_0: &[&str] = &[
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_unprivileged_port_start",
];
const SYSCTLS_1_27: &[&str] = &["net.ipv4.ip_local_reserved_ports"];
const SYSCTLS_1_29: &[&str] = &[
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
];
const SYSCTLS_1_32: &[&str] = &["net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"];

fn sysctls_1_0(_: &ObjectMeta, spec: &PodSpec) -> Option<Violation> {
    sysctls(spec, &[SYSCTLS_1_0])
}
fn sysctls_1_27(_: &ObjectMeta, spec: &PodSpec) -> Option<Violation> {
    sysctls(spec, &[SYSCTLS_1_0, SYSCTLS_1_27])
}
fn sysctls_1_29(_: &ObjectMeta, spec: &PodSpec) -> Option<Violation> {
    sysctls(spec, &[SYSCTLS_1_0, SYSCTLS_1_27, SYSCTLS_1_29])
}
fn sysctls_1_32(_: &ObjectMeta, spec: &PodSpec) -> Option<Violation> {
    sysctls(
        spec,
        &[SYSCTLS_1_0, SYSCTLS_1_27, SYSCTLS_1_29, SYSCTLS_1_32],
    )
}

fn sysctls(spec: &PodSpec, allowed: &[&[&str]]) -> Option<Violation> {
    let forbidden: Vec<&str> = spec
        .security_context
        .iter()
        .flat_map(|s| s.sysctls.iter())
        .map(|s| s.name.as_str())
        .filter(|n| !allowed.iter().any(|set| set.contains(n)))
        .collect();
    if forbidden.is_empty() {
        return None;
    }
    Violation::new("forbidden sysctls", forbidden.join(", "))
}

fn windows_host_process(_: &ObjectMeta, spec: &PodSpec) -> Option<Violation> {
    let host_process = |w: Option<&proto::k8s::WindowsSecurityContextOptions>| {
        w.and_then(|w| w.host_process).unwrap_or(false)
    };
    let bad: Vec<String> = containers(spec)
        .filter(|c| {
            host_process(
                c.security_context
                    .as_ref()
                    .and_then(|s| s.windows_options.as_ref()),
            )
        })
        .map(|c| c.name.clone())
        .collect();
    let mut setters = Vec::new();
    if host_process(
        spec.security_context
            .as_ref()
            .and_then(|s| s.windows_options.as_ref()),
    ) {
        setters.push("pod".to_string());
    }
    if !bad.is_empty() {
        setters.push(containers_phrase(&bad));
    }
    if setters.is_empty() {
        return None;
    }
    Violation::new(
        "hostProcess",
        format!(
            "{} must not set securityContext.windowsOptions.hostProcess=true",
            setters.join(" and ")
        ),
    )
}

// ---- restricted ----

fn allow_privilege_escalation(_: &ObjectMeta, spec: &PodSpec) -> Option<Violation> {
    let bad: Vec<String> = containers(spec)
        .filter(|c| {
            c.security_context
                .as_ref()
                .and_then(|s| s.allow_privilege_escalation)
                .unwrap_or(true)
        })
        .map(|c| c.name.clone())
        .collect();
    if bad.is_empty() {
        return None;
    }
    Violation::new(
        "allowPrivilegeEscalation != false",
        format!(
            "{} must set securityContext.allowPrivilegeEscalation=false",
            containers_phrase(&bad)
        ),
    )
}

fn capabilities_restricted(_: &ObjectMeta, spec: &PodSpec) -> Option<Violation> {
    let mut missing_drop_all = Vec::new();
    let mut adding = Vec::new();
    let mut forbidden = BTreeSet::new();
    for c in containers(spec) {
        let Some(caps) = c
            .security_context
            .as_ref()
            .and_then(|s| s.capabilities.as_ref())
        else {
            missing_drop_all.push(c.name.clone());
            continue;
        };
        if !caps.drop.iter().any(|d| d == "ALL") {
            missing_drop_all.push(c.name.clone());
        }
        let mut added_forbidden = false;
        for a in &caps.add {
            if a != "NET_BIND_SERVICE" {
                added_forbidden = true;
                forbidden.insert(a.clone());
            }
        }
        if added_forbidden {
            adding.push(c.name.clone());
        }
    }
    let mut details = Vec::new();
    if !missing_drop_all.is_empty() {
        details.push(format!(
            "{} must set securityContext.capabilities.drop=[\"ALL\"]",
            containers_phrase(&missing_drop_all)
        ));
    }
    if !adding.is_empty() {
        details.push(format!(
            "{} must not include {} in securityContext.capabilities.add",
            containers_phrase(&adding),
            join_quote(&forbidden)
        ));
    }
    if details.is_empty() {
        return None;
    }
    Violation::new("unrestricted capabilities", details.join("; "))
}

fn restricted_volumes(_: &ObjectMeta, spec: &PodSpec) -> Option<Violation> {
    use proto::k8s::volume::VolumeSource as V;
    let mut names = Vec::new();
    let mut types = BTreeSet::new();
    for v in &spec.volumes {
        let kind = match &v.volume_source {
            Some(
                V::ConfigMap(_)
                | V::DownwardApi(_)
                | V::EmptyDir(_)
                | V::PersistentVolumeClaim(_)
                | V::Projected(_)
                | V::Secret(_),
            ) => continue,
            Some(V::HostPath(_)) => "hostPath",
            Some(V::Nfs(_)) => "nfs",
            None => "unknown",
        };
        names.push(v.name.clone());
        types.insert(kind);
    }
    if names.is_empty() {
        return None;
    }
    Violation::new(
        "restricted volume types",
        format!(
            "{} {} {} {} {}",
            pluralize("volume", "volumes", names.len()),
            join_quote(&names),
            pluralize("uses", "use", names.len()),
            pluralize(
                "restricted volume type",
                "restricted volume types",
                types.len()
            ),
            join_quote(&types)
        ),
    )
}

fn run_as_non_root(_: &ObjectMeta, spec: &PodSpec) -> Option<Violation> {
    let mut setters = Vec::new();
    let mut pod_non_root = false;
    if let Some(v) = spec
        .security_context
        .as_ref()
        .and_then(|s| s.run_as_non_root)
    {
        if v {
            pod_non_root = true;
        } else {
            setters.push("pod".to_string());
        }
    }
    let mut explicit = Vec::new();
    let mut implicit = Vec::new();
    for c in containers(spec) {
        match c.security_context.as_ref().and_then(|s| s.run_as_non_root) {
            Some(false) => explicit.push(c.name.clone()),
            Some(true) => {}
            None if !pod_non_root => implicit.push(c.name.clone()),
            None => {}
        }
    }
    if !explicit.is_empty() {
        setters.push(containers_phrase(&explicit));
    }
    if !setters.is_empty() {
        return Violation::new(
            "runAsNonRoot != true",
            format!(
                "{} must not set securityContext.runAsNonRoot=false",
                setters.join(" and ")
            ),
        );
    }
    if implicit.is_empty() {
        return None;
    }
    Violation::new(
        "runAsNonRoot != true",
        format!(
            "pod or {} must set securityContext.runAsNonRoot=true",
            containers_phrase(&implicit)
        ),
    )
}

fn run_as_user(_: &ObjectMeta, spec: &PodSpec) -> Option<Violation> {
    let mut setters = Vec::new();
    if spec.security_context.as_ref().and_then(|s| s.run_as_user) == Some(0) {
        setters.push("pod".to_string());
    }
    let bad: Vec<String> = containers(spec)
        .filter(|c| c.security_context.as_ref().and_then(|s| s.run_as_user) == Some(0))
        .map(|c| c.name.clone())
        .collect();
    if !bad.is_empty() {
        setters.push(containers_phrase(&bad));
    }
    if setters.is_empty() {
        return None;
    }
    Violation::new(
        "runAsUser=0",
        format!("{} must not set runAsUser=0", setters.join(" and ")),
    )
}
