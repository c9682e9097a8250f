//! Nodes, Namespaces, Events, RBAC bindings and CertificateSigningRequests.

use super::super::age::{age, human_duration};
use super::super::jv::{arr_at, bool_at, i64_at, obj_at, str_at};
use super::Cell;
use serde_json::Value;
use std::time::SystemTime;

pub(super) fn node(o: &Value, created: Cell) -> Vec<Cell> {
    let ready = arr_at(o, "/status/conditions")
        .iter()
        .find(|c| str_at(c, "/type") == "Ready");
    let mut status = match ready.map(|c| str_at(c, "/status")) {
        Some("True") => "Ready".to_string(),
        Some(_) => "NotReady".to_string(),
        None => "Unknown".to_string(),
    };
    if bool_at(o, "/spec/unschedulable") {
        status.push_str(",SchedulingDisabled");
    }
    let mut roles: Vec<String> = obj_at(o, "/metadata/labels")
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| {
            if let Some(r) = k.strip_prefix("node-role.kubernetes.io/") {
                Some(r.to_string())
            } else if k == "kubernetes.io/role" {
                v.as_str().map(str::to_string)
            } else {
                None
            }
        })
        .filter(|r| !r.is_empty())
        .collect();
    roles.sort();
    roles.dedup();
    let address = |ty: &str| {
        arr_at(o, "/status/addresses")
            .iter()
            .find(|a| str_at(a, "/type") == ty)
            .map_or("<none>".to_string(), |a| str_at(a, "/address").to_string())
    };
    let info = |field: &str| match str_at(o, &format!("/status/nodeInfo/{field}")) {
        "" => "<unknown>".to_string(),
        v => v.to_string(),
    };
    vec![
        status.into(),
        if roles.is_empty() {
            "<none>".into()
        } else {
            roles.join(",").into()
        },
        created,
        str_at(o, "/status/nodeInfo/kubeletVersion").into(),
        address("InternalIP").into(),
        address("ExternalIP").into(),
        info("osImage").into(),
        info("kernelVersion").into(),
        info("containerRuntimeVersion").into(),
    ]
}

pub(super) fn namespace(o: &Value, created: Cell) -> Vec<Cell> {
    // Kubernetes sets a new namespace's phase to Active.
    let phase = match str_at(o, "/status/phase") {
        "" => "Active",
        p => p,
    };
    vec![phase.into(), created]
}

/// When an event last happened: the newest time stamp it carries.
pub fn event_time(e: &Value) -> &str {
    [
        "/series/lastObservedTime",
        "/lastTimestamp",
        "/eventTime",
        "/firstTimestamp",
        "/metadata/creationTimestamp",
    ]
    .iter()
    .map(|p| str_at(e, p))
    .find(|s| !s.is_empty())
    .unwrap_or("")
}

/// An event's row, its name last: events have no NAME column by default.
pub(super) fn event(o: &Value, now: SystemTime) -> Vec<Cell> {
    let first = match str_at(o, "/firstTimestamp") {
        "" => age(str_at(o, "/eventTime"), now),
        t => age(t, now),
    };
    let mut last = match str_at(o, "/lastTimestamp") {
        "" => first.clone(),
        t => age(t, now),
    };
    let mut count = i64_at(o, "/count").unwrap_or(0);
    if o.pointer("/series").is_some_and(|s| !s.is_null()) {
        last = age(str_at(o, "/series/lastObservedTime"), now);
        count = i64_at(o, "/series/count").unwrap_or(0);
    } else if count == 0 {
        // Singleton events of the events.k8s.io API carry no count.
        count = 1;
    }
    let kind = str_at(o, "/involvedObject/kind").to_ascii_lowercase();
    let target = match str_at(o, "/involvedObject/name") {
        "" => kind,
        name => format!("{kind}/{name}"),
    };
    let first_non_empty =
        |a: &str, b: &str| -> String { if a.is_empty() { b.into() } else { a.into() } };
    let component = first_non_empty(
        str_at(o, "/source/component"),
        str_at(o, "/reportingComponent"),
    );
    let instance = first_non_empty(str_at(o, "/source/host"), str_at(o, "/reportingInstance"));
    let source = if instance.is_empty() {
        component
    } else {
        format!("{component}, {instance}")
    };
    vec![
        last.into(),
        str_at(o, "/type").into(),
        str_at(o, "/reason").into(),
        target.into(),
        str_at(o, "/involvedObject/fieldPath").into(),
        source.into(),
        str_at(o, "/message").trim().into(),
        first.into(),
        Cell::Int(count),
        str_at(o, "/metadata/name").into(),
    ]
}

/// ROLE (`ClusterRole/view`), AGE; wide: USERS, GROUPS, SERVICEACCOUNTS.
pub(super) fn binding(o: &Value, created: Cell) -> Vec<Cell> {
    let role = format!(
        "{}/{}",
        str_at(o, "/roleRef/kind"),
        str_at(o, "/roleRef/name")
    );
    let subjects = arr_at(o, "/subjects");
    let of_kind = |kind: &str| -> Cell {
        subjects
            .iter()
            .filter(|s| str_at(s, "/kind") == kind)
            .map(|s| {
                if kind == "ServiceAccount" {
                    format!("{}/{}", str_at(s, "/namespace"), str_at(s, "/name"))
                } else {
                    str_at(s, "/name").to_string()
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
            .into()
    };
    vec![
        role.into(),
        created,
        of_kind("User"),
        of_kind("Group"),
        of_kind("ServiceAccount"),
    ]
}

/// AGE, SIGNERNAME, REQUESTOR, REQUESTEDDURATION, CONDITION.
pub(super) fn csr(o: &Value, created: Cell) -> Vec<Cell> {
    let duration = match i64_at(o, "/spec/expirationSeconds") {
        Some(s) => human_duration(s),
        None => "<none>".to_string(),
    };
    let signer = match str_at(o, "/spec/signerName") {
        "" => "<none>",
        s => s,
    };
    vec![
        created,
        signer.into(),
        str_at(o, "/spec/username").into(),
        duration.into(),
        csr_condition(o).into(),
    ]
}

/// Kubernetes' CONDITION of a CSR: `Denied`, else `Approved`, else `Pending`; then
/// `,Failed` when it failed and `,Issued` once a certificate is there.
pub fn csr_condition(o: &Value) -> String {
    let has = |ty: &str| {
        arr_at(o, "/status/conditions")
            .iter()
            .any(|c| str_at(c, "/type") == ty)
    };
    let mut status = if has("Denied") {
        "Denied"
    } else if has("Approved") {
        "Approved"
    } else {
        "Pending"
    }
    .to_string();
    if has("Failed") {
        status.push_str(",Failed");
    }
    if !str_at(o, "/status/certificate").is_empty() {
        status.push_str(",Issued");
    }
    status
}
