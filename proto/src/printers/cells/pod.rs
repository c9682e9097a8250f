//! A pod's READY, STATUS, RESTARTS (and wide IP, NODE, NOMINATED NODE, READINESS GATES), as
//! Kubernetes' `printPod` derives them from container statuses.

use super::super::age::{human_duration, seconds_since};
use super::super::jv::{arr_at, bool_at, i64_at, or_none, str_at};
use super::Cell;
use serde_json::Value;
use std::time::SystemTime;

/// What a pod's containers add up to: restarts and, of those restarts, the most recent one
/// (seconds ago; the smallest).
#[derive(Default)]
struct Restarts {
    count: i64,
    last: Option<i64>,
}

impl Restarts {
    fn note(&mut self, status: &Value, now: SystemTime) {
        self.count += i64_at(status, "/restartCount").unwrap_or(0);
        if let Some(s) = seconds_since(str_at(status, "/lastState/terminated/finishedAt"), now) {
            self.last = Some(self.last.map_or(s, |l| l.min(s)));
        }
    }

    fn text(&self) -> String {
        match self.last {
            Some(s) if self.count != 0 => format!("{} ({} ago)", self.count, human_duration(s)),
            _ => self.count.to_string(),
        }
    }
}

fn condition_true(o: &Value, ty: &str) -> bool {
    arr_at(o, "/status/conditions")
        .iter()
        .any(|c| str_at(c, "/type") == ty && str_at(c, "/status") == "True")
}

/// `Init:Error`, `Init:Signal:9`, `Init:ExitCode:1` (or without `Init:`) for a terminated
/// container state.
fn terminated_reason(t: &Value, prefix: &str) -> String {
    match (str_at(t, "/reason"), i64_at(t, "/signal").unwrap_or(0)) {
        ("", 0) => format!("{prefix}ExitCode:{}", i64_at(t, "/exitCode").unwrap_or(0)),
        ("", sig) => format!("{prefix}Signal:{sig}"),
        (r, _) => format!("{prefix}{r}"),
    }
}

pub(super) fn cells(o: &Value, now: SystemTime, created: Cell) -> Vec<Cell> {
    let init_specs = arr_at(o, "/spec/initContainers");
    // Sidecars (init containers that restart) count as containers of the pod.
    let restartable = |name: &str| {
        init_specs
            .iter()
            .any(|c| str_at(c, "/name") == name && str_at(c, "/restartPolicy") == "Always")
    };
    let mut total = arr_at(o, "/spec/containers").len();
    total += init_specs
        .iter()
        .filter(|c| str_at(c, "/restartPolicy") == "Always")
        .count();
    let mut ready = 0usize;
    let phase = str_at(o, "/status/phase");
    let status_reason = str_at(o, "/status/reason");
    let mut reason = if status_reason.is_empty() {
        phase.to_string()
    } else {
        status_reason.to_string()
    };
    if reason.is_empty() {
        // Kubernetes defaults a new pod's phase to Pending.
        reason = "Pending".into();
    }
    if arr_at(o, "/status/conditions")
        .iter()
        .any(|c| str_at(c, "/type") == "PodScheduled" && str_at(c, "/reason") == "SchedulingGated")
    {
        reason = "SchedulingGated".into();
    }

    let mut all = Restarts::default();
    let mut sidecars = Restarts::default();
    let mut initializing = false;
    for (i, c) in arr_at(o, "/status/initContainerStatuses")
        .iter()
        .enumerate()
    {
        let name = str_at(c, "/name");
        all.note(c, now);
        if restartable(name) {
            sidecars.note(c, now);
        }
        let term = c.pointer("/state/terminated");
        let waiting = str_at(c, "/state/waiting/reason");
        if term.is_some_and(|t| i64_at(t, "/exitCode").unwrap_or(0) == 0) {
            continue;
        }
        if restartable(name) && bool_at(c, "/started") {
            if bool_at(c, "/ready") {
                ready += 1;
            }
            continue;
        }
        reason = if let Some(t) = term {
            terminated_reason(t, "Init:")
        } else if !waiting.is_empty() && waiting != "PodInitializing" {
            format!("Init:{waiting}")
        } else {
            format!("Init:{i}/{}", init_specs.len())
        };
        initializing = true;
        break;
    }

    let mut restarts = all;
    if !initializing || condition_true(o, "Initialized") {
        restarts = sidecars;
        let mut has_running = false;
        for c in arr_at(o, "/status/containerStatuses").iter().rev() {
            restarts.note(c, now);
            let waiting = str_at(c, "/state/waiting/reason");
            if !waiting.is_empty() {
                reason = waiting.to_string();
            } else if let Some(t) = c.pointer("/state/terminated") {
                reason = terminated_reason(t, "");
            } else if bool_at(c, "/ready") && c.pointer("/state/running").is_some() {
                has_running = true;
                ready += 1;
            }
        }
        // A pod whose containers partly completed still runs.
        if reason == "Completed" && has_running {
            reason = if condition_true(o, "Ready") {
                "Running".into()
            } else {
                "NotReady".into()
            };
        }
    }

    if !str_at(o, "/metadata/deletionTimestamp").is_empty() {
        if status_reason == "NodeLost" {
            reason = "Unknown".into();
        } else if !matches!(phase, "Succeeded" | "Failed") {
            reason = "Terminating".into();
        }
    }

    let gates = arr_at(o, "/spec/readinessGates");
    let gates_text = if gates.is_empty() {
        "<none>".to_string()
    } else {
        let ok = gates
            .iter()
            .filter(|g| {
                // The first condition of the gate's type decides, as Kubernetes reads it.
                let t = str_at(g, "/conditionType");
                arr_at(o, "/status/conditions")
                    .iter()
                    .find(|c| str_at(c, "/type") == t)
                    .is_some_and(|c| str_at(c, "/status") == "True")
            })
            .count();
        format!("{ok}/{}", gates.len())
    };
    let ip = arr_at(o, "/status/podIPs")
        .first()
        .map(|p| str_at(p, "/ip"))
        .filter(|ip| !ip.is_empty())
        .unwrap_or_else(|| str_at(o, "/status/podIP"));
    vec![
        format!("{ready}/{total}").into(),
        reason.into(),
        restarts.text().into(),
        created,
        or_none(ip).into(),
        or_none(str_at(o, "/spec/nodeName")).into(),
        or_none(str_at(o, "/status/nominatedNodeName")).into(),
        gates_text.into(),
    ]
}
