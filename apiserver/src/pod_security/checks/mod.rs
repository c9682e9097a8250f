//! The Pod Security Standards checks, as Kubernetes' pod-security-admission library defines
//! them (`policy/check_*.go`): each check has an id, a level, and one revision per policy
//! version where its rule changed. A check looks at the pod's metadata and spec only and
//! returns why it forbids the pod; the wording of reasons and details is Kubernetes', so
//! users can search for the messages they see.
//!
//! This file holds the registry (which check, which revision, at which level) and the
//! formatting helpers; the checks are in `baseline`, `restricted` and `seccomp` (used by
//! both levels).

use std::collections::BTreeSet;

use proto::k8s::{Container, ObjectMeta, PodSpec, Probe};

use super::policy::{Level, LevelVersion, Version};

mod baseline;
mod restricted;
mod seccomp;

use baseline::*;
use restricted::*;
use seccomp::*;

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
