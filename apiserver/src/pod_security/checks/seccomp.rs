//! Seccomp, checked by both levels: baseline forbids `Unconfined`, restricted also requires
//! a type (`policy/check_seccompProfile_*.go`).

use super::*;

pub(super) const SECCOMP_POD_ANNOTATION: &str = "seccomp.security.alpha.kubernetes.io/pod";
pub(super) const SECCOMP_CONTAINER_ANNOTATION_PREFIX: &str =
    "container.seccomp.security.alpha.kubernetes.io/";

/// Policy versions before v1.19 read seccomp from the alpha annotations.
pub(super) fn seccomp_annotations(meta: &ObjectMeta, spec: &PodSpec) -> Option<Violation> {
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

pub(super) fn seccomp_valid(t: &str) -> bool {
    matches!(t, "RuntimeDefault" | "Localhost")
}

/// Who set a bad seccomp type (`pod`, `containers "a", "b"`) and the bad types; containers
/// that set none are returned apart (restricted requires a type, baseline does not).
pub(super) struct SeccompSurvey {
    setters: Vec<String>,
    bad_values: BTreeSet<String>,
    pod_valid: bool,
    unset_containers: Vec<String>,
}

pub(super) fn survey_seccomp(spec: &PodSpec) -> SeccompSurvey {
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

pub(super) fn seccomp_bad_setters(s: &SeccompSurvey) -> Option<Violation> {
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

pub(super) fn seccomp_baseline(_: &ObjectMeta, spec: &PodSpec) -> Option<Violation> {
    seccomp_bad_setters(&survey_seccomp(spec))
}

pub(super) fn seccomp_restricted(_: &ObjectMeta, spec: &PodSpec) -> Option<Violation> {
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
