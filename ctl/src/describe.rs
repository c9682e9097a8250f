//! kubectl-style descriptions: common metadata, a section per kind with the fields people
//! look for, conditions, and the object's events. Pure: works on JSON, `now` passed in.

use crate::commands::events::lines;
use crate::jv::{
    arr_at, bool_at, i64_at, map_text, obj_at, or_none, scalar_text, selector_text, str_at,
};
use crate::merge::LAST_APPLIED;
use crate::printers::age::age;
use proto::KindInfo;
use serde_json::Value;
use std::fmt::Write;
use std::time::SystemTime;

/// The column where values start, at every level (kubectl aligns them with a tabwriter).
const VALUE_COLUMN: usize = 20;

/// Builds the text, key/value lines aligned per indentation level.
struct Out {
    s: String,
}

impl Out {
    fn kv(&mut self, indent: usize, key: &str, value: impl std::fmt::Display) {
        let pad = " ".repeat(indent * 2);
        let key = format!("{key}:");
        let width = VALUE_COLUMN.saturating_sub(indent * 2).max(key.len() + 2);
        let value = value.to_string();
        if value.is_empty() {
            let _ = writeln!(self.s, "{pad}{key}");
        } else {
            let _ = writeln!(self.s, "{pad}{key:<width$}{value}");
        }
    }

    /// A key with one value per line (labels, annotations), `<none>` when empty.
    fn kv_lines(&mut self, indent: usize, key: &str, values: &[String]) {
        if values.is_empty() {
            self.kv(indent, key, "<none>");
            return;
        }
        let width = VALUE_COLUMN.saturating_sub(indent * 2).max(key.len() + 3);
        self.kv(indent, key, &values[0]);
        for v in &values[1..] {
            let _ = writeln!(self.s, "{}{}{v}", " ".repeat(indent * 2), " ".repeat(width));
        }
    }

    fn line(&mut self, indent: usize, text: &str) {
        let _ = writeln!(self.s, "{}{text}", " ".repeat(indent * 2));
    }

    /// A small table (conditions, events), columns two spaces apart.
    fn table(&mut self, indent: usize, headers: &[&str], rows: &[Vec<String>]) {
        let rules: Vec<String> = headers.iter().map(|h| "-".repeat(h.len())).collect();
        let rules: Vec<&str> = rules.iter().map(String::as_str).collect();
        self.table_with_rules(indent, headers, &rules, rows);
    }

    /// A table whose rule line under the headers is given.
    fn table_with_rules(
        &mut self,
        indent: usize,
        headers: &[&str],
        rules: &[&str],
        rows: &[Vec<String>],
    ) {
        let mut widths: Vec<usize> = headers
            .iter()
            .zip(rules)
            .map(|(h, r)| h.len().max(r.len()))
            .collect();
        for r in rows {
            for (i, c) in r.iter().enumerate().take(widths.len()) {
                widths[i] = widths[i].max(c.chars().count());
            }
        }
        let fmt_row = |cells: Vec<String>| -> String {
            let n = cells.len();
            let mut l = String::new();
            for (i, c) in cells.into_iter().enumerate() {
                if i + 1 < n {
                    let w = widths[i];
                    let _ = write!(l, "{c:<w$}  ");
                } else {
                    l.push_str(&c);
                }
            }
            l.trim_end().to_string()
        };
        self.line(
            indent,
            &fmt_row(headers.iter().map(|h| h.to_string()).collect()),
        );
        self.line(
            indent,
            &fmt_row(rules.iter().map(|r| r.to_string()).collect()),
        );
        for r in rows {
            self.line(indent, &fmt_row(r.clone()));
        }
    }
}

fn sorted_pairs(m: Option<&serde_json::Map<String, Value>>, skip: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = m
        .into_iter()
        .flatten()
        .filter(|(k, _)| !skip.contains(&k.as_str()))
        .map(|(k, v)| format!("{k}={}", scalar_text(v)))
        .collect();
    v.sort();
    v
}

/// What a description shows beyond the object: its events, and for services the endpoints.
pub struct Related {
    /// Err: events could not be listed (the reason is shown instead).
    pub events: Result<Vec<Value>, String>,
    pub endpoints: Option<Value>,
    /// What the object controls: a deployment's replicasets, a workload's pods.
    pub owned: Vec<Value>,
}

impl Default for Related {
    fn default() -> Self {
        Related {
            events: Ok(Vec::new()),
            endpoints: None,
            owned: Vec::new(),
        }
    }
}

pub fn describe(kind: &KindInfo, o: &Value, related: &Related, now: SystemTime) -> String {
    if kind.kind == "ResourceQuota" {
        // kubectl's quota describer is a table of its own, without events.
        return resource_quota(o);
    }
    let mut out = Out { s: String::new() };
    out.kv(0, "Name", str_at(o, "/metadata/name"));
    if kind.namespaced {
        out.kv(0, "Namespace", str_at(o, "/metadata/namespace"));
    }
    match kind.kind {
        "Pod" => pod(&mut out, o, now),
        "Deployment" => deployment(&mut out, o, &related.owned),
        "ReplicaSet" | "StatefulSet" | "DaemonSet" => replicated(&mut out, kind, o, &related.owned),
        "Service" => service(&mut out, o, related.endpoints.as_ref()),
        "Node" => node(&mut out, o),
        "ConfigMap" => config_map(&mut out, o),
        "Secret" => secret(&mut out, o),
        _ => generic(&mut out, o),
    }
    events(&mut out, &related.events, now);
    out.s
}

fn common_meta(out: &mut Out, o: &Value) {
    out.kv_lines(
        0,
        "Labels",
        &sorted_pairs(obj_at(o, "/metadata/labels"), &[]),
    );
    out.kv_lines(
        0,
        "Annotations",
        &sorted_pairs(obj_at(o, "/metadata/annotations"), &[LAST_APPLIED]),
    );
}

fn controlled_by(out: &mut Out, o: &Value) {
    if let Some(owner) = arr_at(o, "/metadata/ownerReferences")
        .iter()
        .find(|r| bool_at(r, "/controller"))
    {
        out.kv(
            0,
            "Controlled By",
            format!("{}/{}", str_at(owner, "/kind"), str_at(owner, "/name")),
        );
    }
}

fn conditions(out: &mut Out, o: &Value, extra: bool) {
    let conds = arr_at(o, "/status/conditions");
    if conds.is_empty() {
        return;
    }
    out.line(0, "Conditions:");
    let rows: Vec<Vec<String>> = conds
        .iter()
        .map(|c| {
            let mut r = vec![
                str_at(c, "/type").to_string(),
                str_at(c, "/status").to_string(),
            ];
            if extra {
                r.push(str_at(c, "/reason").to_string());
                r.push(str_at(c, "/message").to_string());
            }
            r
        })
        .collect();
    let headers: &[&str] = if extra {
        &["Type", "Status", "Reason", "Message"]
    } else {
        &["Type", "Status"]
    };
    out.table(1, headers, &rows);
}

fn pod(out: &mut Out, o: &Value, now: SystemTime) {
    let sa = str_at(o, "/spec/serviceAccountName");
    out.kv(
        0,
        "Service Account",
        if sa.is_empty() { "default" } else { sa },
    );
    let node = match (str_at(o, "/spec/nodeName"), str_at(o, "/status/hostIP")) {
        ("", _) => "<none>".to_string(),
        (n, "") => n.to_string(),
        (n, ip) => format!("{n}/{ip}"),
    };
    out.kv(0, "Node", node);
    let start = str_at(o, "/status/startTime");
    if !start.is_empty() {
        out.kv(0, "Start Time", start);
    }
    common_meta(out, o);
    let status = if str_at(o, "/metadata/deletionTimestamp").is_empty() {
        or_none(str_at(o, "/status/phase"))
    } else {
        format!(
            "Terminating (lasts {})",
            age(str_at(o, "/metadata/deletionTimestamp"), now)
        )
    };
    out.kv(0, "Status", status);
    for (key, ptr) in [("Reason", "/status/reason"), ("Message", "/status/message")] {
        if !str_at(o, ptr).is_empty() {
            out.kv(0, key, str_at(o, ptr));
        }
    }
    out.kv(0, "IP", str_at(o, "/status/podIP"));
    controlled_by(out, o);
    let statuses = arr_at(o, "/status/containerStatuses");
    let init_statuses = arr_at(o, "/status/initContainerStatuses");
    if !arr_at(o, "/spec/initContainers").is_empty() {
        out.line(0, "Init Containers:");
        for c in arr_at(o, "/spec/initContainers") {
            container(out, 1, c, init_statuses);
        }
    }
    out.line(0, "Containers:");
    for c in arr_at(o, "/spec/containers") {
        container(out, 1, c, statuses);
    }
    conditions(out, o, false);
    let volumes = arr_at(o, "/spec/volumes");
    if volumes.is_empty() {
        out.kv(0, "Volumes", "<none>");
    } else {
        out.line(0, "Volumes:");
        for v in volumes {
            out.line(1, &format!("{}:", str_at(v, "/name")));
            let source = v
                .as_object()
                .and_then(|m| m.iter().find(|(k, _)| *k != "name"));
            if let Some((ty, body)) = source {
                out.kv(2, "Type", ty);
                for (k, val) in body.as_object().into_iter().flatten() {
                    out.kv(2, &title(k), scalar_text(val));
                }
            }
        }
    }
    let qos = str_at(o, "/status/qosClass");
    if !qos.is_empty() {
        out.kv(0, "QoS Class", qos);
    }
    out.kv(
        0,
        "Node-Selectors",
        map_text(obj_at(o, "/spec/nodeSelector")),
    );
    let tolerations: Vec<String> = arr_at(o, "/spec/tolerations")
        .iter()
        .map(|t| {
            let mut s = str_at(t, "/key").to_string();
            let v = str_at(t, "/value");
            if !v.is_empty() {
                s = format!("{s}={v}");
            }
            let e = str_at(t, "/effect");
            if !e.is_empty() {
                s = format!("{s}:{e}");
            }
            if str_at(t, "/operator") == "Exists" && s.is_empty() {
                s = "op=Exists".into();
            }
            if let Some(secs) = i64_at(t, "/tolerationSeconds") {
                s = format!("{s} for {secs}s");
            }
            s
        })
        .collect();
    out.kv_lines(0, "Tolerations", &tolerations);
}

fn container_state(out: &mut Out, indent: usize, key: &str, state: Option<&Value>) {
    let Some(state) = state.and_then(Value::as_object) else {
        return;
    };
    let Some((name, body)) = state.iter().next() else {
        return;
    };
    out.kv(indent, key, title(name));
    for (k, label) in [
        ("reason", "Reason"),
        ("message", "Message"),
        ("exitCode", "Exit Code"),
        ("signal", "Signal"),
        ("startedAt", "Started"),
        ("finishedAt", "Finished"),
    ] {
        if let Some(v) = body.get(k) {
            out.kv(indent + 1, label, scalar_text(v));
        }
    }
}

/// One container, its name at `base` indentation and its fields below.
fn container(out: &mut Out, base: usize, c: &Value, statuses: &[Value]) {
    let name = str_at(c, "/name");
    out.line(base, &format!("{name}:"));
    out.kv(base + 1, "Image", str_at(c, "/image"));
    let ports: Vec<String> = arr_at(c, "/ports")
        .iter()
        .map(|p| {
            let proto = match str_at(p, "/protocol") {
                "" => "TCP",
                x => x,
            };
            format!("{}/{proto}", i64_at(p, "/containerPort").unwrap_or(0))
        })
        .collect();
    out.kv(
        base + 1,
        "Port",
        if ports.is_empty() {
            "<none>".to_string()
        } else {
            ports.join(", ")
        },
    );
    for (key, ptr) in [("Command", "/command"), ("Args", "/args")] {
        let items = arr_at(c, ptr);
        if !items.is_empty() {
            out.line(base + 1, &format!("{key}:"));
            for i in items {
                out.line(base + 2, &scalar_text(i));
            }
        }
    }
    if let Some(st) = statuses.iter().find(|s| str_at(s, "/name") == name) {
        container_state(out, base + 1, "State", st.get("state"));
        container_state(out, base + 1, "Last State", st.get("lastState"));
        out.kv(base + 1, "Ready", title(&bool_at(st, "/ready").to_string()));
        out.kv(
            base + 1,
            "Restart Count",
            i64_at(st, "/restartCount").unwrap_or(0),
        );
    }
    for (key, ptr) in [
        ("Limits", "/resources/limits"),
        ("Requests", "/resources/requests"),
    ] {
        if let Some(m) = obj_at(c, ptr).filter(|m| !m.is_empty()) {
            out.line(base + 1, &format!("{key}:"));
            for (k, v) in m {
                out.kv(base + 2, k, scalar_text(v));
            }
        }
    }
    let env = arr_at(c, "/env");
    if env.is_empty() {
        out.kv(base + 1, "Environment", "<none>");
    } else {
        out.line(base + 1, "Environment:");
        for e in env {
            let value = match e.get("valueFrom") {
                Some(from) => format!(
                    "<set from {}>",
                    from.as_object()
                        .and_then(|m| m.keys().next())
                        .map_or("", |k| k.as_str())
                ),
                None => str_at(e, "/value").to_string(),
            };
            out.kv(base + 2, str_at(e, "/name"), value);
        }
    }
    let mounts: Vec<String> = arr_at(c, "/volumeMounts")
        .iter()
        .map(|m| {
            let ro = if bool_at(m, "/readOnly") { "ro" } else { "rw" };
            format!(
                "{} from {} ({ro})",
                str_at(m, "/mountPath"),
                str_at(m, "/name")
            )
        })
        .collect();
    out.kv_lines(base + 1, "Mounts", &mounts);
}

fn pod_template(out: &mut Out, o: &Value) {
    out.line(0, "Pod Template:");
    out.kv_lines(
        1,
        "Labels",
        &sorted_pairs(obj_at(o, "/spec/template/metadata/labels"), &[]),
    );
    out.line(1, "Containers:");
    for c in arr_at(o, "/spec/template/spec/containers") {
        container(out, 2, c, &[]);
    }
}

fn deployment(out: &mut Out, o: &Value, replica_sets: &[Value]) {
    out.kv(
        0,
        "CreationTimestamp",
        str_at(o, "/metadata/creationTimestamp"),
    );
    common_meta(out, o);
    out.kv(0, "Selector", selector_text(o.pointer("/spec/selector")));
    let n = |p: &str| i64_at(o, p).unwrap_or(0);
    out.kv(
        0,
        "Replicas",
        format!(
            "{} desired | {} updated | {} total | {} available | {} unavailable",
            i64_at(o, "/spec/replicas").unwrap_or(1),
            n("/status/updatedReplicas"),
            n("/status/replicas"),
            n("/status/availableReplicas"),
            n("/status/unavailableReplicas")
        ),
    );
    let strategy = match str_at(o, "/spec/strategy/type") {
        "" => "RollingUpdate",
        s => s,
    };
    out.kv(0, "StrategyType", strategy);
    out.kv(
        0,
        "MinReadySeconds",
        i64_at(o, "/spec/minReadySeconds").unwrap_or(0),
    );
    if strategy == "RollingUpdate" {
        let val = |p: &str| {
            o.pointer(p)
                .map(scalar_text)
                .unwrap_or_else(|| "25%".into())
        };
        out.kv(
            0,
            "RollingUpdateStrategy",
            format!(
                "{} max unavailable, {} max surge",
                val("/spec/strategy/rollingUpdate/maxUnavailable"),
                val("/spec/strategy/rollingUpdate/maxSurge")
            ),
        );
    }
    pod_template(out, o);
    conditions(out, o, true);
    // The newest revision is the one being rolled out; the rest are old.
    let revision = |rs: &Value| -> i64 {
        str_at(
            rs,
            "/metadata/annotations/deployment.kubernetes.io~1revision",
        )
        .parse()
        .unwrap_or(0)
    };
    let mut sets: Vec<&Value> = replica_sets.iter().collect();
    sets.sort_by_key(|rs| {
        (
            revision(rs),
            str_at(rs, "/metadata/creationTimestamp").to_string(),
        )
    });
    let describe_rs = |rs: &Value| {
        format!(
            "{} ({}/{} replicas created)",
            str_at(rs, "/metadata/name"),
            i64_at(rs, "/status/replicas").unwrap_or(0),
            i64_at(rs, "/spec/replicas").unwrap_or(1)
        )
    };
    let new = sets.pop();
    let old: Vec<String> = sets.iter().map(|rs| describe_rs(rs)).collect();
    out.kv(
        0,
        "OldReplicaSets",
        if old.is_empty() {
            "<none>".to_string()
        } else {
            old.join(", ")
        },
    );
    out.kv(
        0,
        "NewReplicaSet",
        new.map_or("<none>".to_string(), describe_rs),
    );
}

/// `3 Running / 1 Waiting / 0 Succeeded / 0 Failed`, from the pods a workload owns.
fn pods_status(pods: &[Value]) -> String {
    let count = |phase: &str| {
        pods.iter()
            .filter(|p| str_at(p, "/status/phase") == phase)
            .count()
    };
    let waiting = pods
        .iter()
        .filter(|p| matches!(str_at(p, "/status/phase"), "" | "Pending" | "Unknown"))
        .count();
    format!(
        "{} Running / {waiting} Waiting / {} Succeeded / {} Failed",
        count("Running"),
        count("Succeeded"),
        count("Failed")
    )
}

fn replicated(out: &mut Out, kind: &KindInfo, o: &Value, pods: &[Value]) {
    out.kv(0, "Selector", selector_text(o.pointer("/spec/selector")));
    common_meta(out, o);
    controlled_by(out, o);
    let n = |p: &str| i64_at(o, p).unwrap_or(0);
    match kind.kind {
        "DaemonSet" => {
            out.kv(
                0,
                "Desired Number of Nodes Scheduled",
                n("/status/desiredNumberScheduled"),
            );
            out.kv(
                0,
                "Current Number of Nodes Scheduled",
                n("/status/currentNumberScheduled"),
            );
            out.kv(
                0,
                "Number of Nodes Scheduled with Up-to-date Pods",
                n("/status/updatedNumberScheduled"),
            );
            out.kv(
                0,
                "Number of Nodes Scheduled with Available Pods",
                n("/status/numberAvailable"),
            );
            out.kv(
                0,
                "Number of Nodes Misscheduled",
                n("/status/numberMisscheduled"),
            );
        }
        _ => {
            let desired = i64_at(o, "/spec/replicas").unwrap_or(1);
            out.kv(
                0,
                "Replicas",
                format!("{} current / {desired} desired", n("/status/replicas")),
            );
            out.kv(0, "Ready Replicas", n("/status/readyReplicas"));
        }
    }
    out.kv(0, "Pods Status", pods_status(pods));
    pod_template(out, o);
    conditions(out, o, true);
}

fn service(out: &mut Out, o: &Value, endpoints: Option<&Value>) {
    common_meta(out, o);
    out.kv(0, "Selector", map_text(obj_at(o, "/spec/selector")));
    let ty = match str_at(o, "/spec/type") {
        "" => "ClusterIP",
        t => t,
    };
    out.kv(0, "Type", ty);
    out.kv(0, "IP", or_none(str_at(o, "/spec/clusterIP")));
    let external: Vec<String> = arr_at(o, "/spec/externalIPs")
        .iter()
        .map(scalar_text)
        .collect();
    if !external.is_empty() {
        out.kv(0, "External IPs", external.join(","));
    }
    let ep_addrs: Vec<String> = endpoints
        .map(|e| {
            arr_at(e, "/subsets")
                .iter()
                .flat_map(|s| {
                    let ports: Vec<i64> = arr_at(s, "/ports")
                        .iter()
                        .filter_map(|p| i64_at(p, "/port"))
                        .collect();
                    arr_at(s, "/addresses")
                        .iter()
                        .flat_map(move |a| {
                            let ip = str_at(a, "/ip").to_string();
                            ports.clone().into_iter().map(move |p| format!("{ip}:{p}"))
                        })
                        .collect::<Vec<_>>()
                })
                .collect()
        })
        .unwrap_or_default();
    for p in arr_at(o, "/spec/ports") {
        let proto = match str_at(p, "/protocol") {
            "" => "TCP",
            x => x,
        };
        let name = match str_at(p, "/name") {
            "" => "<unset>",
            n => n,
        };
        let port = i64_at(p, "/port").unwrap_or(0);
        out.kv(0, "Port", format!("{name}  {port}/{proto}"));
        let target = p
            .get("targetPort")
            .map(scalar_text)
            .unwrap_or_else(|| port.to_string());
        out.kv(0, "TargetPort", format!("{target}/{proto}"));
        if let Some(np) = i64_at(p, "/nodePort").filter(|n| *n != 0) {
            out.kv(0, "NodePort", format!("{name}  {np}/{proto}"));
        }
        out.kv(
            0,
            "Endpoints",
            if ep_addrs.is_empty() {
                "<none>".to_string()
            } else {
                ep_addrs.join(",")
            },
        );
    }
    let affinity = match str_at(o, "/spec/sessionAffinity") {
        "" => "None",
        a => a,
    };
    out.kv(0, "Session Affinity", affinity);
}

fn node(out: &mut Out, o: &Value) {
    let mut roles: Vec<String> = obj_at(o, "/metadata/labels")
        .into_iter()
        .flatten()
        .filter_map(|(k, _)| k.strip_prefix("node-role.kubernetes.io/").map(String::from))
        .collect();
    roles.sort();
    out.kv(
        0,
        "Roles",
        if roles.is_empty() {
            "<none>".into()
        } else {
            roles.join(",")
        },
    );
    common_meta(out, o);
    out.kv(
        0,
        "CreationTimestamp",
        str_at(o, "/metadata/creationTimestamp"),
    );
    let taints: Vec<String> = arr_at(o, "/spec/taints")
        .iter()
        .map(|t| {
            let v = str_at(t, "/value");
            let kv = if v.is_empty() {
                str_at(t, "/key").to_string()
            } else {
                format!("{}={v}", str_at(t, "/key"))
            };
            format!("{kv}:{}", str_at(t, "/effect"))
        })
        .collect();
    out.kv_lines(0, "Taints", &taints);
    out.kv(0, "Unschedulable", bool_at(o, "/spec/unschedulable"));
    let conds = arr_at(o, "/status/conditions");
    if !conds.is_empty() {
        out.line(0, "Conditions:");
        let rows: Vec<Vec<String>> = conds
            .iter()
            .map(|c| {
                [
                    "/type",
                    "/status",
                    "/lastHeartbeatTime",
                    "/lastTransitionTime",
                    "/reason",
                    "/message",
                ]
                .iter()
                .map(|p| str_at(c, p).to_string())
                .collect()
            })
            .collect();
        out.table(
            1,
            &[
                "Type",
                "Status",
                "LastHeartbeatTime",
                "LastTransitionTime",
                "Reason",
                "Message",
            ],
            &rows,
        );
    }
    out.line(0, "Addresses:");
    for a in arr_at(o, "/status/addresses") {
        out.kv(1, str_at(a, "/type"), str_at(a, "/address"));
    }
    for (key, ptr) in [
        ("Capacity", "/status/capacity"),
        ("Allocatable", "/status/allocatable"),
    ] {
        out.line(0, &format!("{key}:"));
        for (k, v) in obj_at(o, ptr).into_iter().flatten() {
            out.kv(1, k, scalar_text(v));
        }
    }
    if let Some(info) = obj_at(o, "/status/nodeInfo") {
        out.line(0, "System Info:");
        for (k, v) in info {
            out.kv(1, &title(k), scalar_text(v));
        }
    }
    out.kv(0, "PodCIDR", or_none(str_at(o, "/spec/podCIDR")));
}

fn config_map(out: &mut Out, o: &Value) {
    common_meta(out, o);
    out.line(0, "");
    out.line(0, "Data");
    out.line(0, "====");
    for (k, v) in obj_at(o, "/data").into_iter().flatten() {
        out.line(0, &format!("{k}:"));
        out.line(0, "----");
        out.line(0, &scalar_text(v));
        out.line(0, "");
    }
    out.line(0, "");
    out.line(0, "BinaryData");
    out.line(0, "====");
    for (k, v) in obj_at(o, "/binaryData").into_iter().flatten() {
        out.line(0, &format!("{k}: {} bytes", base64_len(&scalar_text(v))));
    }
}

fn secret(out: &mut Out, o: &Value) {
    common_meta(out, o);
    out.line(0, "");
    let ty = match str_at(o, "/type") {
        "" => "Opaque",
        t => t,
    };
    out.kv(0, "Type", ty);
    out.line(0, "");
    out.line(0, "Data");
    out.line(0, "====");
    for (k, v) in obj_at(o, "/data").into_iter().flatten() {
        // Never the value: describe is for looking over a shoulder.
        out.line(0, &format!("{k}:  {} bytes", base64_len(&scalar_text(v))));
    }
}

/// Decoded length of base64 text.
fn base64_len(s: &str) -> usize {
    let s = s.trim();
    let pad = s.chars().rev().take_while(|c| *c == '=').count();
    (s.len() / 4) * 3 - pad.min(2)
        + match s.len() % 4 {
            2 => 1,
            3 => 2,
            _ => 0,
        }
}

/// kubectl's `describeQuota`: scopes with their help, then `Resource Used Hard` for each
/// hard limit in name order, all in tabwriter columns (a help line ends a block).
fn resource_quota(o: &Value) -> String {
    let help = |scope: &str| match scope {
        "Terminating" => {
            "Matches all pods that have an active deadline. These pods have a limited lifespan on a node before being actively terminated by the system."
        }
        "NotTerminating" => {
            "Matches all pods that do not have an active deadline. These pods usually include long running pods whose container command is not expected to terminate."
        }
        "BestEffort" => {
            "Matches all pods that do not have resource requirements set. These pods have a best effort quality of service."
        }
        "NotBestEffort" => {
            "Matches all pods that have at least one resource requirement set. These pods have a burstable or guaranteed quality of service."
        }
        _ => "",
    };
    let mut head: Vec<Vec<String>> = vec![
        vec!["Name:".into(), str_at(o, "/metadata/name").into()],
        vec!["Namespace:".into(), str_at(o, "/metadata/namespace").into()],
    ];
    let mut scopes: Vec<String> = arr_at(o, "/spec/scopes").iter().map(scalar_text).collect();
    scopes.sort();
    let mut helps = Vec::new();
    if !scopes.is_empty() {
        head.push(vec!["Scopes:".into(), scopes.join(", ")]);
        helps = scopes
            .iter()
            .map(|s| help(s))
            .filter(|h| !h.is_empty())
            .collect();
    }
    let mut table = vec![
        vec!["Resource".to_string(), "Used".into(), "Hard".into()],
        vec!["--------".to_string(), "----".into(), "----".into()],
    ];
    let used = obj_at(o, "/status/used");
    let mut hard: Vec<(&String, &Value)> =
        obj_at(o, "/status/hard").into_iter().flatten().collect();
    hard.sort_by(|a, b| a.0.cmp(b.0));
    for (name, h) in hard {
        let h = scalar_text(h);
        let u = used
            .and_then(|m| m.get(name))
            .map(scalar_text)
            .unwrap_or_default();
        table.push(vec![name.clone(), quota_used(&u, &h), h]);
    }
    let mut s = String::new();
    if helps.is_empty() {
        head.extend(table);
        tabbed(&mut s, &head);
    } else {
        tabbed(&mut s, &head);
        for h in helps {
            let _ = writeln!(s, " * {h}");
        }
        tabbed(&mut s, &table);
    }
    s
}

/// kubectl shows a used amount in its hard limit's notation (`0` of `1Gi`, `512Mi`).
fn quota_used(used: &str, hard: &str) -> String {
    use proto::quantity::{Format, Quantity};
    let used = used.parse::<Quantity>().unwrap_or_default();
    match hard.parse::<Quantity>() {
        Ok(h) if h.format() != used.format() && h.format() != Format::DecimalExponent => {
            Quantity::from_value(used.value(), h.format()).to_string()
        }
        _ => used.to_string(),
    }
}

/// Rows in columns as Go's tabwriter lays them out (padding 2; the last cell unpadded).
fn tabbed(s: &mut String, rows: &[Vec<String>]) {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0; columns];
    for r in rows {
        for (i, c) in r.iter().enumerate().take(r.len().saturating_sub(1)) {
            widths[i] = widths[i].max(c.chars().count() + 2);
        }
    }
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            if i + 1 < r.len() {
                let _ = write!(s, "{c:<w$}", w = widths[i]);
            } else {
                s.push_str(c);
            }
        }
        s.push('\n');
    }
}

/// Every field but metadata, as nested `Key:  value` lines.
fn generic(out: &mut Out, o: &Value) {
    common_meta(out, o);
    let Some(m) = o.as_object() else { return };
    for (k, v) in m {
        if matches!(k.as_str(), "apiVersion" | "kind" | "metadata") {
            continue;
        }
        nested(out, 0, k, v);
    }
}

fn nested(out: &mut Out, indent: usize, key: &str, v: &Value) {
    match v {
        Value::Object(m) => {
            out.line(indent, &format!("{}:", title(key)));
            for (k, v) in m {
                nested(out, indent + 1, k, v);
            }
        }
        Value::Array(items) if items.iter().any(|i| i.is_object() || i.is_array()) => {
            out.line(indent, &format!("{}:", title(key)));
            for item in items {
                match item.as_object() {
                    Some(m) => {
                        for (i, (k, v)) in m.iter().enumerate() {
                            // The first field of each item marks where the item starts.
                            let k = if i == 0 {
                                format!("- {}", title(k))
                            } else {
                                format!("  {}", title(k))
                            };
                            nested_raw(out, indent + 1, &k, v);
                        }
                    }
                    None => out.line(indent + 1, &format!("- {}", scalar_text(item))),
                }
            }
        }
        Value::Array(items) => {
            out.kv(
                indent,
                &title(key),
                items.iter().map(scalar_text).collect::<Vec<_>>().join(", "),
            );
        }
        scalar => out.kv(indent, &title(key), scalar_text(scalar)),
    }
}

fn nested_raw(out: &mut Out, indent: usize, key: &str, v: &Value) {
    match v {
        Value::Object(_) | Value::Array(_) => {
            out.line(indent, &format!("{key}:"));
            if let Value::Object(m) = v {
                for (k, v) in m {
                    nested(out, indent + 2, k, v);
                }
            } else {
                nested(out, indent + 1, "items", v);
            }
        }
        scalar => out.kv(indent, key, scalar_text(scalar)),
    }
}

/// `nodeSelector` -> `Node Selector`, as kubectl titles field names.
fn title(key: &str) -> String {
    let mut out = String::new();
    let mut prev_lower = false;
    for (i, c) in key.chars().enumerate() {
        if i == 0 {
            out.extend(c.to_uppercase());
        } else if c.is_uppercase() && prev_lower {
            out.push(' ');
            out.push(c);
        } else {
            out.push(c);
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
    }
    out
}

fn events(out: &mut Out, events: &Result<Vec<Value>, String>, now: SystemTime) {
    let list = match events {
        Err(why) => {
            out.kv(0, "Events", format!("<unable to list events: {why}>"));
            return;
        }
        Ok(l) if l.is_empty() => {
            out.kv(0, "Events", "<none>");
            return;
        }
        Ok(l) => l,
    };
    // Separate objects saying the same thing read as one line, as one correlated Event.
    let mut list = lines::merge_repeats(list);
    lines::sort_by_last_seen(&mut list);
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|e| {
            vec![
                str_at(e, "/type").to_string(),
                str_at(e, "/reason").to_string(),
                lines::interval(e, now),
                lines::from(e).to_string(),
                str_at(e, "/message").trim().to_string(),
            ]
        })
        .collect();
    out.line(0, "Events:");
    // kubectl's rule under Age is four dashes, not three.
    out.table_with_rules(
        1,
        &["Type", "Reason", "Age", "From", "Message"],
        &["----", "------", "----", "----", "-------"],
        &rows,
    );
}

/// The field selector that finds an object's events.
pub fn events_selector(kind: &KindInfo, name: &str, namespace: &str) -> String {
    let mut s = format!(
        "involvedObject.kind={},involvedObject.name={name}",
        kind.kind
    );
    if kind.namespaced {
        s.push_str(&format!(",involvedObject.namespace={namespace}"));
    }
    s
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

    #[test]
    fn quota_description_as_kubectl() {
        let q = json!({"metadata": {"name": "compute", "namespace": "shop"},
            "spec": {"scopes": ["NotTerminating", "BestEffort"]},
            "status": {"hard": {"pods": "10", "requests.memory": "1Gi", "limits.cpu": "2"},
                       "used": {"pods": "1", "limits.cpu": "500m"}}});
        assert_eq!(
            describe(find_kind("quota").unwrap(), &q, &Related::default(), now()),
            "Name:       compute\n\
             Namespace:  shop\n\
             Scopes:     BestEffort, NotTerminating\n \
             * Matches all pods that do not have resource requirements set. These pods have a best effort quality of service.\n \
             * Matches all pods that do not have an active deadline. These pods usually include long running pods whose container command is not expected to terminate.\n\
             Resource         Used  Hard\n\
             --------         ----  ----\n\
             limits.cpu       500m  2\n\
             pods             1     10\n\
             requests.memory  0     1Gi\n"
        );
    }

    #[test]
    fn pod_description_with_events() {
        let pod = json!({"metadata": {"name": "web", "namespace": "default",
                "labels": {"app": "web"}, "annotations": {LAST_APPLIED: "{}", "note": "x"},
                "ownerReferences": [{"kind": "ReplicaSet", "name": "web-1", "controller": true}]},
            "spec": {"nodeName": "n1", "containers": [{"name": "c", "image": "nginx", "ports": [{"containerPort": 80}],
                     "env": [{"name": "A", "value": "1"}]}]},
            "status": {"phase": "Running", "podIP": "10.0.0.1", "hostIP": "192.168.0.1",
                "conditions": [{"type": "Ready", "status": "True"}],
                "containerStatuses": [{"name": "c", "ready": true, "restartCount": 1,
                    "state": {"running": {"startedAt": ago(60)}}}]}});
        let events = vec![
            json!({"type": "Normal", "reason": "Scheduled", "message": "assigned",
            "source": {"component": "default-scheduler"}, "lastTimestamp": ago(10),
            "firstTimestamp": ago(100), "count": 3}),
        ];
        let text = describe(
            find_kind("po").unwrap(),
            &pod,
            &Related {
                events: Ok(events),
                endpoints: None,
                owned: vec![],
            },
            now(),
        );
        for want in [
            "Name:               web\n",
            "Namespace:          default\n",
            "Node:               n1/192.168.0.1\n",
            "Labels:             app=web\n",
            "Annotations:        note=x\n",
            "Status:             Running\n",
            "Controlled By:      ReplicaSet/web-1\n",
            "    Image:",
            "    Port:           80/TCP\n",
            "    State:          Running\n",
            "    Restart Count:",
            "      A:",
            "Conditions:\n  Type   Status\n  ----   ------\n  Ready  True\n",
            "Events:\n  Type    Reason     Age                 From               Message\n  ----    ------     ----                ----               -------\n",
            "  Normal  Scheduled  10s (x3 over 100s)  default-scheduler  assigned\n",
        ] {
            assert!(text.contains(want), "missing {want:?} in:\n{text}");
        }
        assert!(!text.contains(LAST_APPLIED), "{text}");
    }

    #[test]
    fn events_none_or_failed_and_generic_kinds() {
        let cm = json!({"metadata": {"name": "c", "namespace": "d"}, "data": {"k": "v"}});
        let text = describe(find_kind("cm").unwrap(), &cm, &Related::default(), now());
        assert!(text.contains("Data\n====\nk:\n----\nv\n"), "{text}");
        assert!(text.ends_with("Events:             <none>\n"), "{text}");
        let lease = json!({"metadata": {"name": "l", "namespace": "d"}, "spec": {"holderIdentity": "me", "leaseDurationSeconds": 15}});
        let text = describe(
            find_kind("lease").unwrap(),
            &lease,
            &Related {
                events: Err("boom".into()),
                endpoints: None,
                owned: vec![],
            },
            now(),
        );
        assert!(text.contains("Spec:\n  Holder Identity:"), "{text}");
        assert!(text.contains("<unable to list events: boom>"), "{text}");
    }

    #[test]
    fn service_and_node() {
        let svc = json!({"metadata": {"name": "s", "namespace": "d"},
            "spec": {"clusterIP": "10.96.0.5", "selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": "8080"}]}});
        let ep =
            json!({"subsets": [{"addresses": [{"ip": "10.244.0.2"}], "ports": [{"port": 8080}]}]});
        let text = describe(
            find_kind("svc").unwrap(),
            &svc,
            &Related {
                events: Ok(vec![]),
                endpoints: Some(ep),
                owned: vec![],
            },
            now(),
        );
        assert!(text.contains("Type:               ClusterIP\n"), "{text}");
        assert!(text.contains("TargetPort:         8080/TCP\n"), "{text}");
        assert!(
            text.contains("Endpoints:          10.244.0.2:8080\n"),
            "{text}"
        );
        let node = json!({"metadata": {"name": "n1", "labels": {"node-role.kubernetes.io/worker": ""}},
            "spec": {"taints": [{"key": "k", "value": "v", "effect": "NoSchedule"}]},
            "status": {"capacity": {"cpu": "2"}, "addresses": [{"type": "InternalIP", "address": "1.2.3.4"}]}});
        let text = describe(find_kind("no").unwrap(), &node, &Related::default(), now());
        assert!(text.contains("Roles:              worker\n"), "{text}");
        assert!(
            text.contains("Taints:             k=v:NoSchedule\n"),
            "{text}"
        );
        assert!(text.contains("  InternalIP:"), "{text}");
        assert!(!text.contains("Namespace:"), "{text}");
    }

    #[test]
    fn owned_objects() {
        let d = json!({"metadata": {"name": "web", "namespace": "d"}, "spec": {"replicas": 2}});
        let rs = |name: &str, rev: &str, n: i64| {
            json!({"metadata": {"name": name,
            "annotations": {"deployment.kubernetes.io/revision": rev}},
            "spec": {"replicas": n}, "status": {"replicas": n}})
        };
        let related = Related {
            owned: vec![rs("web-b", "2", 2), rs("web-a", "1", 0)],
            ..Related::default()
        };
        let text = describe(find_kind("deploy").unwrap(), &d, &related, now());
        assert!(
            text.contains("OldReplicaSets:     web-a (0/0 replicas created)\n"),
            "{text}"
        );
        assert!(
            text.contains("NewReplicaSet:      web-b (2/2 replicas created)\n"),
            "{text}"
        );
        let rs_obj =
            json!({"metadata": {"name": "web-b", "namespace": "d"}, "spec": {"replicas": 3}});
        let pod = |phase: &str| json!({"status": {"phase": phase}});
        let related = Related {
            owned: vec![pod("Running"), pod("Pending"), pod("Running")],
            ..Related::default()
        };
        let text = describe(find_kind("rs").unwrap(), &rs_obj, &related, now());
        assert!(
            text.contains("Pods Status:        2 Running / 1 Waiting / 0 Succeeded / 0 Failed\n"),
            "{text}"
        );
    }

    #[test]
    fn helpers() {
        assert_eq!(title("nodeSelector"), "Node Selector");
        assert_eq!(title("podCIDR"), "Pod CIDR");
        assert_eq!(base64_len("MQ=="), 1);
        assert_eq!(base64_len("aGVsbG8="), 5);
        let pod = find_kind("po").unwrap();
        assert_eq!(
            events_selector(pod, "w", "d"),
            "involvedObject.kind=Pod,involvedObject.name=w,involvedObject.namespace=d"
        );
        assert_eq!(
            events_selector(find_kind("no").unwrap(), "n", ""),
            "involvedObject.kind=Node,involvedObject.name=n"
        );
    }
}
