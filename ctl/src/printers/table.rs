//! kubectl-style tables: per-kind columns computed from the JSON form of objects, and
//! tab-aligned rendering. Pure: `now` is passed in.

use super::age::{age, human_duration, seconds_since};
use crate::jv::{
    arr_at, bool_at, i64_at, len_at, map_text, obj_at, or_none, scalar_text, selector_text, str_at,
};
use crate::kinds::object_name;
use proto::KindInfo;
use serde_json::Value;
use std::time::SystemTime;

#[derive(Debug, Clone)]
pub struct TableOptions {
    pub wide: bool,
    /// `-A`: a NAMESPACE column first (for namespaced kinds).
    pub namespace_column: bool,
    /// Several kinds shown: names read `deployment.apps/web`.
    pub kind_prefix: bool,
    pub show_labels: bool,
    pub now: SystemTime,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// The table of `objects`, all of kind `kind`.
pub fn build_table(kind: &KindInfo, objects: &[Value], opts: &TableOptions) -> Table {
    let (cols, wide_cols) = columns(kind.kind);
    let mut headers: Vec<String> = Vec::new();
    let ns_col = opts.namespace_column && kind.namespaced;
    if ns_col {
        headers.push("NAMESPACE".into());
    }
    headers.extend(cols.iter().map(|c| c.to_string()));
    if opts.wide {
        headers.extend(wide_cols.iter().map(|c| c.to_string()));
    }
    if opts.show_labels {
        headers.push("LABELS".into());
    }
    let mut sorted: Vec<&Value> = objects.iter().collect();
    if kind.kind == "Event" {
        // Oldest first, as a log reads.
        sorted.sort_by_key(|e| {
            std::cmp::Reverse(seconds_since(event_time(e), opts.now).unwrap_or(i64::MAX))
        });
    }
    let rows = sorted
        .into_iter()
        .map(|obj| {
            let mut row = Vec::with_capacity(headers.len());
            if ns_col {
                row.push(str_at(obj, "/metadata/namespace").to_string());
            }
            let name = str_at(obj, "/metadata/name");
            let (mut cells, wide_cells) = row_cells(kind.kind, obj, opts.now);
            if kind.kind != "Event" {
                cells.insert(
                    0,
                    if opts.kind_prefix {
                        object_name(kind, name)
                    } else {
                        name.to_string()
                    },
                );
            }
            row.extend(cells);
            if opts.wide {
                row.extend(wide_cells);
            }
            if opts.show_labels {
                row.push(map_text(obj_at(obj, "/metadata/labels")));
            }
            row
        })
        .collect();
    Table { headers, rows }
}

/// Header names per kind (NAME included except for events), and the extra `-o wide` ones.
fn columns(kind: &str) -> (&'static [&'static str], &'static [&'static str]) {
    match kind {
        "Pod" => (
            &["NAME", "READY", "STATUS", "RESTARTS", "AGE"],
            &["IP", "NODE", "NOMINATED NODE", "READINESS GATES"],
        ),
        "Deployment" => (
            &["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"],
            &["CONTAINERS", "IMAGES", "SELECTOR"],
        ),
        "ReplicaSet" => (
            &["NAME", "DESIRED", "CURRENT", "READY", "AGE"],
            &["CONTAINERS", "IMAGES", "SELECTOR"],
        ),
        "StatefulSet" => (&["NAME", "READY", "AGE"], &["CONTAINERS", "IMAGES"]),
        "DaemonSet" => (
            &[
                "NAME",
                "DESIRED",
                "CURRENT",
                "READY",
                "UP-TO-DATE",
                "AVAILABLE",
                "NODE SELECTOR",
                "AGE",
            ],
            &["CONTAINERS", "IMAGES", "SELECTOR"],
        ),
        "Service" => (
            &[
                "NAME",
                "TYPE",
                "CLUSTER-IP",
                "EXTERNAL-IP",
                "PORT(S)",
                "AGE",
            ],
            &["SELECTOR"],
        ),
        "Node" => (
            &["NAME", "STATUS", "ROLES", "AGE", "VERSION"],
            &[
                "INTERNAL-IP",
                "EXTERNAL-IP",
                "OS-IMAGE",
                "KERNEL-VERSION",
                "CONTAINER-RUNTIME",
            ],
        ),
        "Namespace" => (&["NAME", "STATUS", "AGE"], &[]),
        "ConfigMap" => (&["NAME", "DATA", "AGE"], &[]),
        "Secret" => (&["NAME", "TYPE", "DATA", "AGE"], &[]),
        "Event" => (
            &["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"],
            &["SUBOBJECT", "SOURCE", "FIRST SEEN", "COUNT", "NAME"],
        ),
        "Lease" => (&["NAME", "HOLDER", "AGE"], &[]),
        "Job" => (
            &["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"],
            &["CONTAINERS", "IMAGES", "SELECTOR"],
        ),
        "CronJob" => (
            &[
                "NAME",
                "SCHEDULE",
                "TIMEZONE",
                "SUSPEND",
                "ACTIVE",
                "LAST SCHEDULE",
                "AGE",
            ],
            &["CONTAINERS", "IMAGES", "SELECTOR"],
        ),
        "PersistentVolume" => (
            &[
                "NAME",
                "CAPACITY",
                "ACCESS MODES",
                "RECLAIM POLICY",
                "STATUS",
                "CLAIM",
                "STORAGECLASS",
                "REASON",
                "AGE",
            ],
            &["VOLUMEMODE"],
        ),
        "PersistentVolumeClaim" => (
            &[
                "NAME",
                "STATUS",
                "VOLUME",
                "CAPACITY",
                "ACCESS MODES",
                "STORAGECLASS",
                "AGE",
            ],
            &["VOLUMEMODE"],
        ),
        "HorizontalPodAutoscaler" => (
            &[
                "NAME",
                "REFERENCE",
                "TARGETS",
                "MINPODS",
                "MAXPODS",
                "REPLICAS",
                "AGE",
            ],
            &[],
        ),
        "Ingress" => (&["NAME", "CLASS", "HOSTS", "ADDRESS", "PORTS", "AGE"], &[]),
        "Endpoints" => (&["NAME", "ENDPOINTS", "AGE"], &[]),
        "ServiceAccount" => (&["NAME", "SECRETS", "AGE"], &[]),
        _ => (&["NAME", "AGE"], &[]),
    }
}

fn num(v: &Value, ptr: &str) -> i64 {
    i64_at(v, ptr).unwrap_or(0)
}

/// The cells after NAME (for events: all of them), and the wide cells.
fn row_cells(kind: &str, o: &Value, now: SystemTime) -> (Vec<String>, Vec<String>) {
    let created = age(str_at(o, "/metadata/creationTimestamp"), now);
    match kind {
        "Pod" => pod_cells(o, now, created),
        "Deployment" => (
            vec![
                format!(
                    "{}/{}",
                    num(o, "/status/readyReplicas"),
                    i64_at(o, "/spec/replicas").unwrap_or(1)
                ),
                num(o, "/status/updatedReplicas").to_string(),
                num(o, "/status/availableReplicas").to_string(),
                created,
            ],
            workload_wide(o, "/spec/template/spec", true),
        ),
        "ReplicaSet" => (
            vec![
                i64_at(o, "/spec/replicas").unwrap_or(1).to_string(),
                num(o, "/status/replicas").to_string(),
                num(o, "/status/readyReplicas").to_string(),
                created,
            ],
            workload_wide(o, "/spec/template/spec", true),
        ),
        "StatefulSet" => (
            vec![
                format!(
                    "{}/{}",
                    num(o, "/status/readyReplicas"),
                    i64_at(o, "/spec/replicas").unwrap_or(1)
                ),
                created,
            ],
            workload_wide(o, "/spec/template/spec", false),
        ),
        "DaemonSet" => (
            vec![
                num(o, "/status/desiredNumberScheduled").to_string(),
                num(o, "/status/currentNumberScheduled").to_string(),
                num(o, "/status/numberReady").to_string(),
                num(o, "/status/updatedNumberScheduled").to_string(),
                num(o, "/status/numberAvailable").to_string(),
                map_text(obj_at(o, "/spec/template/spec/nodeSelector")),
                created,
            ],
            workload_wide(o, "/spec/template/spec", true),
        ),
        "Service" => service_cells(o, created),
        "Node" => node_cells(o, created),
        "Namespace" => {
            let phase = str_at(o, "/status/phase");
            (
                vec![
                    if phase.is_empty() {
                        "Active".into()
                    } else {
                        phase.into()
                    },
                    created,
                ],
                vec![],
            )
        }
        "ConfigMap" => (
            (len_at(o, "/data") + len_at(o, "/binaryData")).to_string(),
            created,
        )
            .into_cells(),
        "Secret" => {
            let ty = str_at(o, "/type");
            (
                vec![
                    if ty.is_empty() {
                        "Opaque".into()
                    } else {
                        ty.into()
                    },
                    (len_at(o, "/data") + len_at(o, "/stringData")).to_string(),
                    created,
                ],
                vec![],
            )
        }
        "Event" => event_cells(o, now),
        "Lease" => (or_none(str_at(o, "/spec/holderIdentity")), created).into_cells(),
        "Job" => job_cells(o, now, created),
        "CronJob" => {
            let last = str_at(o, "/status/lastScheduleTime");
            (
                vec![
                    str_at(o, "/spec/schedule").to_string(),
                    or_none(str_at(o, "/spec/timeZone")),
                    title_bool(bool_at(o, "/spec/suspend")),
                    arr_at(o, "/status/active").len().to_string(),
                    if last.is_empty() {
                        "<none>".into()
                    } else {
                        age(last, now)
                    },
                    created,
                ],
                workload_wide(o, "/spec/jobTemplate/spec/template/spec", false)
                    .into_iter()
                    .chain([selector_text(o.pointer("/spec/jobTemplate/spec/selector"))])
                    .collect(),
            )
        }
        "PersistentVolume" => {
            let claim = match (
                str_at(o, "/spec/claimRef/namespace"),
                str_at(o, "/spec/claimRef/name"),
            ) {
                (_, "") => String::new(),
                (ns, n) => format!("{ns}/{n}"),
            };
            let reclaim = str_at(o, "/spec/persistentVolumeReclaimPolicy");
            (
                vec![
                    str_at(o, "/spec/capacity/storage").to_string(),
                    access_modes(arr_at(o, "/spec/accessModes")),
                    if reclaim.is_empty() {
                        "Retain".into()
                    } else {
                        reclaim.into()
                    },
                    str_at(o, "/status/phase").to_string(),
                    claim,
                    str_at(o, "/spec/storageClassName").to_string(),
                    str_at(o, "/status/reason").to_string(),
                    created,
                ],
                vec![volume_mode(o)],
            )
        }
        "PersistentVolumeClaim" => (
            vec![
                str_at(o, "/status/phase").to_string(),
                str_at(o, "/spec/volumeName").to_string(),
                str_at(o, "/status/capacity/storage").to_string(),
                access_modes(arr_at(o, "/status/accessModes")),
                str_at(o, "/spec/storageClassName").to_string(),
                created,
            ],
            vec![volume_mode(o)],
        ),
        "HorizontalPodAutoscaler" => (
            vec![
                format!(
                    "{}/{}",
                    str_at(o, "/spec/scaleTargetRef/kind"),
                    str_at(o, "/spec/scaleTargetRef/name")
                ),
                hpa_targets(o),
                i64_at(o, "/spec/minReplicas").unwrap_or(1).to_string(),
                num(o, "/spec/maxReplicas").to_string(),
                num(o, "/status/currentReplicas").to_string(),
                created,
            ],
            vec![],
        ),
        "Ingress" => ingress_cells(o, created),
        "Endpoints" => (endpoints_text(o), created).into_cells(),
        "ServiceAccount" => (arr_at(o, "/secrets").len().to_string(), created).into_cells(),
        _ => (vec![created], vec![]),
    }
}

trait IntoCells {
    fn into_cells(self) -> (Vec<String>, Vec<String>);
}

impl IntoCells for (String, String) {
    fn into_cells(self) -> (Vec<String>, Vec<String>) {
        (vec![self.0, self.1], vec![])
    }
}

fn title_bool(b: bool) -> String {
    if b { "True".into() } else { "False".into() }
}

/// CONTAINERS, IMAGES and (optionally) SELECTOR of a workload's pod template.
fn workload_wide(o: &Value, pod_spec: &str, with_selector: bool) -> Vec<String> {
    let containers = arr_at(o, &format!("{pod_spec}/containers"));
    let names: Vec<&str> = containers.iter().map(|c| str_at(c, "/name")).collect();
    let images: Vec<&str> = containers.iter().map(|c| str_at(c, "/image")).collect();
    let mut out = vec![names.join(","), images.join(",")];
    if with_selector {
        out.push(selector_text(o.pointer("/spec/selector")));
    }
    out
}

fn pod_cells(o: &Value, now: SystemTime, created: String) -> (Vec<String>, Vec<String>) {
    let total = arr_at(o, "/spec/containers").len();
    let mut restarts = 0i64;
    let mut ready = 0usize;
    let mut last_restart: Option<i64> = None;
    let phase = str_at(o, "/status/phase");
    let status_reason = str_at(o, "/status/reason");
    let mut reason = if status_reason.is_empty() {
        phase.to_string()
    } else {
        status_reason.to_string()
    };
    if reason.is_empty() {
        reason = "Pending".into();
    }
    let mut note_restart = |c: &Value| {
        restarts += i64_at(c, "/restartCount").unwrap_or(0);
        if let Some(s) = seconds_since(str_at(c, "/lastState/terminated/finishedAt"), now) {
            last_restart = Some(last_restart.map_or(s, |l| l.min(s)));
        }
    };

    let init_specs = arr_at(o, "/spec/initContainers").len();
    let mut initializing = false;
    for (i, c) in arr_at(o, "/status/initContainerStatuses")
        .iter()
        .enumerate()
    {
        note_restart(c);
        let term = c.pointer("/state/terminated");
        let exit = term.and_then(|t| i64_at(t, "/exitCode")).unwrap_or(0);
        if term.is_some() && exit == 0 {
            continue;
        }
        initializing = true;
        let waiting_reason = str_at(c, "/state/waiting/reason");
        reason = if let Some(t) = term {
            match (str_at(t, "/reason"), i64_at(t, "/signal").unwrap_or(0)) {
                ("", 0) => format!("Init:ExitCode:{exit}"),
                ("", sig) => format!("Init:Signal:{sig}"),
                (r, _) => format!("Init:{r}"),
            }
        } else if !waiting_reason.is_empty() && waiting_reason != "PodInitializing" {
            format!("Init:{waiting_reason}")
        } else {
            format!("Init:{i}/{init_specs}")
        };
        break;
    }
    if !initializing {
        restarts = 0;
        last_restart = None;
        let mut has_running = false;
        for c in arr_at(o, "/status/containerStatuses").iter().rev() {
            restarts += i64_at(c, "/restartCount").unwrap_or(0);
            if let Some(s) = seconds_since(str_at(c, "/lastState/terminated/finishedAt"), now) {
                last_restart = Some(last_restart.map_or(s, |l: i64| l.min(s)));
            }
            let waiting = str_at(c, "/state/waiting/reason");
            let term = c.pointer("/state/terminated");
            if !waiting.is_empty() {
                reason = waiting.to_string();
            } else if let Some(t) = term {
                reason = match (str_at(t, "/reason"), i64_at(t, "/signal").unwrap_or(0)) {
                    ("", 0) => format!("ExitCode:{}", i64_at(t, "/exitCode").unwrap_or(0)),
                    ("", sig) => format!("Signal:{sig}"),
                    (r, _) => r.to_string(),
                };
            } else if bool_at(c, "/ready") && c.pointer("/state/running").is_some() {
                has_running = true;
                ready += 1;
            }
        }
        if reason == "Completed" && has_running {
            let pod_ready = arr_at(o, "/status/conditions")
                .iter()
                .any(|c| str_at(c, "/type") == "Ready" && str_at(c, "/status") == "True");
            reason = if pod_ready {
                "Running".into()
            } else {
                "NotReady".into()
            };
        }
    }
    if !str_at(o, "/metadata/deletionTimestamp").is_empty() {
        reason = if status_reason == "NodeLost" {
            "Unknown".into()
        } else {
            "Terminating".into()
        };
    }
    let restarts_text = match last_restart {
        Some(s) if restarts > 0 => format!("{restarts} ({} ago)", human_duration(s)),
        _ => restarts.to_string(),
    };
    let gates = arr_at(o, "/spec/readinessGates");
    let gates_text = if gates.is_empty() {
        "<none>".to_string()
    } else {
        let conds = arr_at(o, "/status/conditions");
        let ok = gates
            .iter()
            .filter(|g| {
                let t = str_at(g, "/conditionType");
                conds
                    .iter()
                    .any(|c| str_at(c, "/type") == t && str_at(c, "/status") == "True")
            })
            .count();
        format!("{ok}/{}", gates.len())
    };
    (
        vec![format!("{ready}/{total}"), reason, restarts_text, created],
        vec![
            or_none(str_at(o, "/status/podIP")),
            or_none(str_at(o, "/spec/nodeName")),
            or_none(str_at(o, "/status/nominatedNodeName")),
            gates_text,
        ],
    )
}

fn service_cells(o: &Value, created: String) -> (Vec<String>, Vec<String>) {
    let ty = match str_at(o, "/spec/type") {
        "" => "ClusterIP",
        t => t,
    };
    let external: Vec<String> = arr_at(o, "/spec/externalIPs")
        .iter()
        .map(scalar_text)
        .collect();
    let lb: Vec<String> = arr_at(o, "/status/loadBalancer/ingress")
        .iter()
        .map(|i| match str_at(i, "/ip") {
            "" => str_at(i, "/hostname").to_string(),
            ip => ip.to_string(),
        })
        .collect();
    let external_text = match ty {
        "ExternalName" => str_at(o, "/spec/externalName").to_string(),
        "LoadBalancer" => {
            let all: Vec<String> = lb.into_iter().chain(external).collect();
            if all.is_empty() {
                "<pending>".into()
            } else {
                all.join(",")
            }
        }
        _ => {
            if external.is_empty() {
                "<none>".into()
            } else {
                external.join(",")
            }
        }
    };
    let ports: Vec<String> = arr_at(o, "/spec/ports")
        .iter()
        .map(|p| {
            let proto = match str_at(p, "/protocol") {
                "" => "TCP",
                x => x,
            };
            let port = i64_at(p, "/port").unwrap_or(0);
            match i64_at(p, "/nodePort") {
                Some(np) if np != 0 => format!("{port}:{np}/{proto}"),
                _ => format!("{port}/{proto}"),
            }
        })
        .collect();
    (
        vec![
            ty.to_string(),
            or_none(str_at(o, "/spec/clusterIP")),
            external_text,
            if ports.is_empty() {
                "<none>".into()
            } else {
                ports.join(",")
            },
            created,
        ],
        vec![map_text(obj_at(o, "/spec/selector"))],
    )
}

fn node_cells(o: &Value, created: String) -> (Vec<String>, Vec<String>) {
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
                Some(scalar_text(v))
            } else {
                None
            }
        })
        .filter(|r| !r.is_empty())
        .collect();
    roles.sort();
    roles.dedup();
    let addr = |ty: &str| {
        arr_at(o, "/status/addresses")
            .iter()
            .find(|a| str_at(a, "/type") == ty)
            .map(|a| str_at(a, "/address").to_string())
            .unwrap_or_else(|| "<none>".into())
    };
    (
        vec![
            status,
            if roles.is_empty() {
                "<none>".into()
            } else {
                roles.join(",")
            },
            created,
            str_at(o, "/status/nodeInfo/kubeletVersion").to_string(),
        ],
        vec![
            addr("InternalIP"),
            addr("ExternalIP"),
            or_none(str_at(o, "/status/nodeInfo/osImage")),
            or_none(str_at(o, "/status/nodeInfo/kernelVersion")),
            or_none(str_at(o, "/status/nodeInfo/containerRuntimeVersion")),
        ],
    )
}

/// When an event last happened: the newest time stamp it carries.
pub fn event_time(e: &Value) -> &str {
    [
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

fn event_cells(o: &Value, now: SystemTime) -> (Vec<String>, Vec<String>) {
    let kind = str_at(o, "/involvedObject/kind").to_ascii_lowercase();
    let object = format!("{kind}/{}", str_at(o, "/involvedObject/name"));
    let source = match (str_at(o, "/source/component"), str_at(o, "/source/host")) {
        ("", _) => str_at(o, "/reportingComponent").to_string(),
        (c, "") => c.to_string(),
        (c, h) => format!("{c}, {h}"),
    };
    (
        vec![
            age(event_time(o), now),
            str_at(o, "/type").to_string(),
            str_at(o, "/reason").to_string(),
            object,
            str_at(o, "/message").trim().to_string(),
        ],
        vec![
            str_at(o, "/involvedObject/fieldPath").to_string(),
            source,
            age(str_at(o, "/firstTimestamp"), now),
            i64_at(o, "/count").unwrap_or(1).to_string(),
            str_at(o, "/metadata/name").to_string(),
        ],
    )
}

fn job_cells(o: &Value, now: SystemTime, created: String) -> (Vec<String>, Vec<String>) {
    let cond_true = |t: &str| {
        arr_at(o, "/status/conditions")
            .iter()
            .any(|c| str_at(c, "/type") == t && str_at(c, "/status") == "True")
    };
    let status = if cond_true("Complete") {
        "Complete"
    } else if cond_true("Failed") {
        "Failed"
    } else if bool_at(o, "/spec/suspend") {
        "Suspended"
    } else {
        "Running"
    };
    let completions = match i64_at(o, "/spec/completions") {
        Some(c) => format!("{}/{c}", num(o, "/status/succeeded")),
        None => {
            let par = i64_at(o, "/spec/parallelism").unwrap_or(1);
            if par > 1 {
                format!("{}/1 of {par}", num(o, "/status/succeeded"))
            } else {
                format!("{}/1", num(o, "/status/succeeded"))
            }
        }
    };
    let start = str_at(o, "/status/startTime");
    let duration = match (
        seconds_since(start, now),
        seconds_since(str_at(o, "/status/completionTime"), now),
    ) {
        (Some(s), Some(c)) => human_duration(s - c),
        (Some(s), None) => human_duration(s),
        _ => String::new(),
    };
    let mut wide = workload_wide(o, "/spec/template/spec", false);
    wide.push(selector_text(o.pointer("/spec/selector")));
    (vec![status.into(), completions, duration, created], wide)
}

fn access_modes(modes: &[Value]) -> String {
    let short: Vec<&str> = modes
        .iter()
        .filter_map(Value::as_str)
        .map(|m| match m {
            "ReadWriteOnce" => "RWO",
            "ReadOnlyMany" => "ROX",
            "ReadWriteMany" => "RWX",
            "ReadWriteOncePod" => "RWOP",
            other => other,
        })
        .collect();
    short.join(",")
}

fn volume_mode(o: &Value) -> String {
    match str_at(o, "/spec/volumeMode") {
        "" => "Filesystem".into(),
        m => m.into(),
    }
}

fn hpa_targets(o: &Value) -> String {
    let current = arr_at(o, "/status/currentMetrics");
    let parts: Vec<String> = arr_at(o, "/spec/metrics")
        .iter()
        .filter(|m| str_at(m, "/type") == "Resource")
        .map(|m| {
            let name = str_at(m, "/resource/name");
            let cur = current
                .iter()
                .find(|c| str_at(c, "/resource/name") == name)
                .and_then(|c| i64_at(c, "/resource/current/averageUtilization"));
            let cur_text = cur.map_or("<unknown>".to_string(), |c| format!("{c}%"));
            match i64_at(m, "/resource/target/averageUtilization") {
                Some(t) => format!("{name}: {cur_text}/{t}%"),
                None => format!("{name}: {}", str_at(m, "/resource/target/averageValue")),
            }
        })
        .collect();
    if parts.is_empty() {
        "<none>".into()
    } else {
        parts.join(", ")
    }
}

fn ingress_cells(o: &Value, created: String) -> (Vec<String>, Vec<String>) {
    let hosts: Vec<&str> = arr_at(o, "/spec/rules")
        .iter()
        .map(|r| str_at(r, "/host"))
        .filter(|h| !h.is_empty())
        .collect();
    let addrs: Vec<&str> = arr_at(o, "/status/loadBalancer/ingress")
        .iter()
        .map(|i| match str_at(i, "/ip") {
            "" => str_at(i, "/hostname"),
            ip => ip,
        })
        .collect();
    let ports = if arr_at(o, "/spec/tls").is_empty() {
        "80"
    } else {
        "80, 443"
    };
    (
        vec![
            or_none(str_at(o, "/spec/ingressClassName")),
            if hosts.is_empty() {
                "*".into()
            } else {
                hosts.join(",")
            },
            addrs.join(","),
            ports.into(),
            created,
        ],
        vec![],
    )
}

/// `10.0.0.1:80,10.0.0.2:80 + 3 more...` as kubectl shows endpoints.
fn endpoints_text(o: &Value) -> String {
    const MAX: usize = 3;
    let mut all: Vec<String> = Vec::new();
    for subset in arr_at(o, "/subsets") {
        let ports = arr_at(subset, "/ports");
        for addr in arr_at(subset, "/addresses") {
            let ip = str_at(addr, "/ip");
            if ports.is_empty() {
                all.push(ip.to_string());
            }
            for p in ports {
                all.push(format!("{ip}:{}", i64_at(p, "/port").unwrap_or(0)));
            }
        }
    }
    match all.len() {
        0 => "<none>".into(),
        n if n <= MAX => all.join(","),
        n => format!("{} + {} more...", all[..MAX].join(","), n - MAX),
    }
}

/// Columns separated by three spaces, as kubectl's tabwriter; no trailing spaces.
pub fn render(table: &Table, with_header: bool) -> String {
    render_with(table, with_header, &mut Vec::new())
}

/// As `render`, with column widths at least `widths`, which grow to fit: rows printed
/// later (watch events) stay aligned with those printed before.
pub fn render_with(table: &Table, with_header: bool, widths: &mut Vec<usize>) -> String {
    let ncols = table.headers.len();
    if widths.len() < ncols {
        widths.resize(ncols, 0);
    }
    let all_rows = std::iter::once(&table.headers).chain(table.rows.iter());
    for row in all_rows {
        for (i, cell) in row.iter().enumerate().take(ncols) {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |row: &[String]| {
        let mut l = String::new();
        for (i, cell) in row.iter().enumerate().take(ncols) {
            l.push_str(cell);
            if i + 1 < ncols {
                let pad = widths[i] - cell.chars().count() + 3;
                l.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    if with_header {
        line(&table.headers);
    }
    for r in &table.rows {
        line(r);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::resource::find_kind;
    use serde_json::json;
    use std::time::{Duration, UNIX_EPOCH};

    fn now() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_800_000_000)
    }
    fn ago(secs: u64) -> String {
        proto::time::format_rfc3339(now() - Duration::from_secs(secs))
    }
    fn opts() -> TableOptions {
        TableOptions {
            wide: false,
            namespace_column: false,
            kind_prefix: false,
            show_labels: false,
            now: now(),
        }
    }
    fn kind(k: &str) -> &'static KindInfo {
        find_kind(k).unwrap()
    }

    fn running_pod(name: &str) -> Value {
        json!({"metadata": {"name": name, "namespace": "default", "creationTimestamp": ago(200)},
            "spec": {"nodeName": "n1", "containers": [{"name": "a"}, {"name": "b"}]},
            "status": {"phase": "Running", "podIP": "10.244.0.5",
                "containerStatuses": [
                    {"name": "a", "ready": true, "restartCount": 0, "state": {"running": {}}},
                    {"name": "b", "ready": false, "restartCount": 2,
                     "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                     "lastState": {"terminated": {"exitCode": 1, "finishedAt": ago(30)}}}]}})
    }

    #[test]
    fn pods_table_with_crashloop_and_wide() {
        let t = build_table(kind("po"), &[running_pod("web")], &opts());
        assert_eq!(t.headers, ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]);
        assert_eq!(
            t.rows[0],
            ["web", "1/2", "CrashLoopBackOff", "2 (30s ago)", "3m20s"]
        );
        let wide = build_table(
            kind("po"),
            &[running_pod("web")],
            &TableOptions {
                wide: true,
                ..opts()
            },
        );
        assert_eq!(&wide.rows[0][5..7], ["10.244.0.5", "n1"]);
    }

    #[test]
    fn pod_states() {
        let pending = json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "a"}]}});
        assert_eq!(
            build_table(kind("po"), &[pending], &opts()).rows[0][1..3],
            ["0/1", "Pending"]
        );
        let mut term = running_pod("t");
        term["metadata"]["deletionTimestamp"] = json!(ago(1));
        assert_eq!(
            build_table(kind("po"), &[term], &opts()).rows[0][2],
            "Terminating"
        );
        let done = json!({"metadata": {"name": "d"}, "spec": {"containers": [{"name": "a"}]},
            "status": {"phase": "Succeeded", "containerStatuses": [{"name": "a", "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]}});
        assert_eq!(
            build_table(kind("po"), &[done], &opts()).rows[0][2],
            "Completed"
        );
        let init = json!({"metadata": {"name": "i"}, "spec": {"initContainers": [{"name": "x"}, {"name": "y"}], "containers": [{"name": "a"}]},
            "status": {"phase": "Pending", "initContainerStatuses": [
                {"name": "x", "state": {"terminated": {"exitCode": 0}}}, {"name": "y", "state": {"running": {}}}]}});
        assert_eq!(
            build_table(kind("po"), &[init], &opts()).rows[0][2],
            "Init:1/2"
        );
    }

    #[test]
    fn deployments_and_services() {
        let d = json!({"metadata": {"name": "web", "creationTimestamp": ago(5)},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
                     "template": {"spec": {"containers": [{"name": "web", "image": "nginx"}]}}},
            "status": {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2}});
        let t = build_table(
            kind("deploy"),
            &[d],
            &TableOptions {
                wide: true,
                ..opts()
            },
        );
        assert_eq!(
            t.rows[0],
            ["web", "2/3", "3", "2", "5s", "web", "nginx", "app=web"]
        );

        let s = json!({"metadata": {"name": "web", "creationTimestamp": ago(4 * 3600)},
            "spec": {"type": "NodePort", "clusterIP": "10.96.0.10", "selector": {"app": "web"},
                     "ports": [{"port": 80, "nodePort": 30080}, {"port": 53, "protocol": "UDP"}]}});
        let t = build_table(kind("svc"), &[s], &opts());
        assert_eq!(
            t.headers,
            [
                "NAME",
                "TYPE",
                "CLUSTER-IP",
                "EXTERNAL-IP",
                "PORT(S)",
                "AGE"
            ]
        );
        assert_eq!(
            t.rows[0],
            [
                "web",
                "NodePort",
                "10.96.0.10",
                "<none>",
                "80:30080/TCP,53/UDP",
                "4h"
            ]
        );
        let lb = json!({"metadata": {"name": "lb"}, "spec": {"type": "LoadBalancer", "clusterIP": "10.96.0.11"}});
        assert_eq!(
            build_table(kind("svc"), &[lb], &opts()).rows[0][3],
            "<pending>"
        );
    }

    #[test]
    fn nodes_configmaps_secrets_events() {
        let n = json!({"metadata": {"name": "n1", "creationTimestamp": ago(2 * 86400),
                "labels": {"node-role.kubernetes.io/control-plane": ""}},
            "spec": {"unschedulable": true},
            "status": {"conditions": [{"type": "Ready", "status": "True"}], "nodeInfo": {"kubeletVersion": "v0.1.0"}}});
        assert_eq!(
            build_table(kind("no"), &[n], &opts()).rows[0],
            [
                "n1",
                "Ready,SchedulingDisabled",
                "control-plane",
                "2d",
                "v0.1.0"
            ]
        );
        let cm = json!({"metadata": {"name": "c"}, "data": {"a": "1", "b": "2"}});
        assert_eq!(
            build_table(kind("cm"), &[cm], &opts()).rows[0],
            ["c", "2", "<unknown>"]
        );
        let sec = json!({"metadata": {"name": "s"}, "data": {"a": "MQ=="}});
        assert_eq!(
            build_table(kind("secret"), &[sec], &opts()).rows[0][1..3],
            ["Opaque", "1"]
        );
        let ev = |name: &str, secs: u64| {
            json!({"metadata": {"name": name, "namespace": "default"},
            "involvedObject": {"kind": "Pod", "name": "web"}, "reason": "Scheduled", "type": "Normal",
            "message": "Successfully assigned", "lastTimestamp": ago(secs)})
        };
        let t = build_table(
            kind("ev"),
            &[ev("new", 5), ev("old", 60)],
            &TableOptions {
                namespace_column: true,
                ..opts()
            },
        );
        assert_eq!(
            t.headers,
            [
                "NAMESPACE",
                "LAST SEEN",
                "TYPE",
                "REASON",
                "OBJECT",
                "MESSAGE"
            ]
        );
        assert_eq!(
            t.rows[0],
            [
                "default",
                "60s",
                "Normal",
                "Scheduled",
                "pod/web",
                "Successfully assigned"
            ]
        );
        assert_eq!(t.rows[1][1], "5s");
    }

    #[test]
    fn namespace_column_kind_prefix_labels_and_generic() {
        let o =
            json!({"metadata": {"name": "x", "namespace": "prod", "labels": {"b": "2", "a": "1"}}});
        let t = build_table(
            kind("deploy"),
            std::slice::from_ref(&o),
            &TableOptions {
                namespace_column: true,
                kind_prefix: true,
                show_labels: true,
                ..opts()
            },
        );
        assert_eq!(t.headers[0], "NAMESPACE");
        assert_eq!(t.rows[0][0], "prod");
        assert_eq!(t.rows[0][1], "deployment.apps/x");
        assert_eq!(t.rows[0].last().unwrap(), "a=1,b=2");
        // Cluster-scoped kinds get no NAMESPACE column even with -A.
        let t = build_table(
            kind("ns"),
            std::slice::from_ref(&o),
            &TableOptions {
                namespace_column: true,
                ..opts()
            },
        );
        assert_eq!(t.headers, ["NAME", "STATUS", "AGE"]);
        assert_eq!(t.rows[0][1], "Active");
        let t = build_table(kind("limits"), &[o], &opts());
        assert_eq!(t.headers, ["NAME", "AGE"]);
    }

    #[test]
    fn endpoints_jobs_hpa() {
        let ep = json!({"metadata": {"name": "e"}, "subsets": [{"addresses": [{"ip": "1.1.1.1"}, {"ip": "1.1.1.2"}, {"ip": "1.1.1.3"}, {"ip": "1.1.1.4"}], "ports": [{"port": 80}]}]});
        assert_eq!(
            build_table(kind("ep"), &[ep], &opts()).rows[0][1],
            "1.1.1.1:80,1.1.1.2:80,1.1.1.3:80 + 1 more..."
        );
        let job = json!({"metadata": {"name": "j"}, "spec": {"completions": 3},
            "status": {"succeeded": 3, "startTime": ago(100), "completionTime": ago(40),
                       "conditions": [{"type": "Complete", "status": "True"}]}});
        assert_eq!(
            build_table(kind("job"), &[job], &opts()).rows[0][1..4],
            ["Complete", "3/3", "60s"]
        );
        let hpa = json!({"metadata": {"name": "h"},
            "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "maxReplicas": 5,
                     "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}}}]},
            "status": {"currentReplicas": 2}});
        assert_eq!(
            build_table(kind("hpa"), &[hpa], &opts()).rows[0][1..6],
            ["Deployment/web", "cpu: <unknown>/50%", "1", "5", "2"]
        );
    }

    #[test]
    fn rendering_aligns_with_three_spaces() {
        let t = Table {
            headers: vec!["NAME".into(), "READY".into(), "AGE".into()],
            rows: vec![
                vec!["a-long-name".into(), "1/1".into(), "5s".into()],
                vec!["b".into(), "0/1".into(), "".into()],
            ],
        };
        assert_eq!(
            render(&t, true),
            "NAME          READY   AGE\na-long-name   1/1     5s\nb             0/1\n"
        );
        assert_eq!(render(&t, false).lines().count(), 2);
    }
}
