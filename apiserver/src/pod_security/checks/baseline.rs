//! The baseline level's checks (`policy/check_*.go`) apart from seccomp.

use super::*;

pub(super) const APPARMOR_ANNOTATION_PREFIX: &str =
    "container.apparmor.security.beta.kubernetes.io/";

pub(super) fn app_armor_type_allowed(t: &str) -> bool {
    matches!(t, "RuntimeDefault" | "Localhost")
}

pub(super) fn app_armor_annotation_allowed(v: &str) -> bool {
    v.is_empty() || v == "runtime/default" || v.starts_with("localhost/")
}

pub(super) fn app_armor_profile(meta: &ObjectMeta, spec: &PodSpec) -> Option<Violation> {
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
pub(super) const BASELINE_CAPABILITIES: &[&str] = &[
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

pub(super) fn capabilities_baseline(_: &ObjectMeta, spec: &PodSpec) -> Option<Violation> {
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

pub(super) fn host_namespaces(_: &ObjectMeta, spec: &PodSpec) -> Option<Violation> {
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

pub(super) fn host_path_volumes(_: &ObjectMeta, spec: &PodSpec) -> Option<Violation> {
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

pub(super) fn host_ports(_: &ObjectMeta, spec: &PodSpec) -> Option<Violation> {
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

pub(super) fn probe_hosts(probe: Option<&Probe>, out: &mut Vec<String>) {
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

pub(super) fn host_probes_and_lifecycle(_: &ObjectMeta, spec: &PodSpec) -> Option<Violation> {
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

pub(super) fn privileged(_: &ObjectMeta, spec: &PodSpec) -> Option<Violation> {
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

pub(super) fn proc_mount(_: &ObjectMeta, spec: &PodSpec) -> Option<Violation> {
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

pub(super) const SELINUX_TYPES_1_0: &[&str] =
    &["", "container_t", "container_init_t", "container_kvm_t"];
pub(super) const SELINUX_TYPES_1_31: &[&str] = &[
    "",
    "container_t",
    "container_init_t",
    "container_kvm_t",
    "container_engine_t",
];

pub(super) fn se_linux_options_1_0(m: &ObjectMeta, spec: &PodSpec) -> Option<Violation> {
    se_linux_options(m, spec, SELINUX_TYPES_1_0)
}

pub(super) fn se_linux_options_1_31(m: &ObjectMeta, spec: &PodSpec) -> Option<Violation> {
    se_linux_options(m, spec, SELINUX_TYPES_1_31)
}

pub(super) fn se_linux_options(
    _: &ObjectMeta,
    spec: &PodSpec,
    types: &[&str],
) -> Option<Violation> {
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

/// Sysctls namespaced per pod and isolated from other pods, by the policy version that
/// declared them safe.
pub(super) const SYSCTLS_1_0: &[&str] = &[
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_unprivileged_port_start",
];
pub(super) const SYSCTLS_1_27: &[&str] = &["net.ipv4.ip_local_reserved_ports"];
pub(super) const SYSCTLS_1_29: &[&str] = &[
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
];
pub(super) const SYSCTLS_1_32: &[&str] = &["net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"];

pub(super) fn sysctls_1_0(_: &ObjectMeta, spec: &PodSpec) -> Option<Violation> {
    sysctls(spec, &[SYSCTLS_1_0])
}
pub(super) fn sysctls_1_27(_: &ObjectMeta, spec: &PodSpec) -> Option<Violation> {
    sysctls(spec, &[SYSCTLS_1_0, SYSCTLS_1_27])
}
pub(super) fn sysctls_1_29(_: &ObjectMeta, spec: &PodSpec) -> Option<Violation> {
    sysctls(spec, &[SYSCTLS_1_0, SYSCTLS_1_27, SYSCTLS_1_29])
}
pub(super) fn sysctls_1_32(_: &ObjectMeta, spec: &PodSpec) -> Option<Violation> {
    sysctls(
        spec,
        &[SYSCTLS_1_0, SYSCTLS_1_27, SYSCTLS_1_29, SYSCTLS_1_32],
    )
}

pub(super) fn sysctls(spec: &PodSpec, allowed: &[&[&str]]) -> Option<Violation> {
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

pub(super) fn windows_host_process(_: &ObjectMeta, spec: &PodSpec) -> Option<Violation> {
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
