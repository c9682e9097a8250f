//! The per-kind cells of a table row (pods, services, nodes, events, jobs, ingresses, ...)
//! and the small formatters they share; `table` picks the columns and renders.

use super::*;

pub(super) fn title_bool(b: bool) -> String {
    if b { "True".into() } else { "False".into() }
}

/// CONTAINERS, IMAGES and (optionally) SELECTOR of a workload's pod template.
pub(super) fn workload_wide(o: &Value, pod_spec: &str, with_selector: bool) -> Vec<String> {
    let containers = arr_at(o, &format!("{pod_spec}/containers"));
    let names: Vec<&str> = containers.iter().map(|c| str_at(c, "/name")).collect();
    let images: Vec<&str> = containers.iter().map(|c| str_at(c, "/image")).collect();
    let mut out = vec![names.join(","), images.join(",")];
    if with_selector {
        out.push(selector_text(o.pointer("/spec/selector")));
    }
    out
}

pub(super) fn pod_cells(o: &Value, now: SystemTime, created: String) -> (Vec<String>, Vec<String>) {
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

pub(super) fn service_cells(o: &Value, created: String) -> (Vec<String>, Vec<String>) {
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

pub(super) fn node_cells(o: &Value, created: String) -> (Vec<String>, Vec<String>) {
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

pub(super) fn event_cells(o: &Value, now: SystemTime) -> (Vec<String>, Vec<String>) {
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

pub(super) fn job_cells(o: &Value, now: SystemTime, created: String) -> (Vec<String>, Vec<String>) {
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

pub(super) fn access_modes(modes: &[Value]) -> String {
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

pub(super) fn volume_mode(o: &Value) -> String {
    match str_at(o, "/spec/volumeMode") {
        "" => "Filesystem".into(),
        m => m.into(),
    }
}

pub(super) fn hpa_targets(o: &Value) -> String {
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

pub(super) fn ingress_cells(o: &Value, created: String) -> (Vec<String>, Vec<String>) {
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
pub(super) fn endpoints_text(o: &Value) -> String {
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
