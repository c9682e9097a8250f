//! The pod's status as a pure function of the pod, the runtime state and what the worker
//! knows (probe results, waiting reasons): phase, conditions, container statuses.

use crate::actions::{PodRuntimeState, restart_policy};
use crate::runtime::{ContainerInfo, ContainerKind, ContainerState as RtState};
use proto::k8s::{
    Container, ContainerState, ContainerStateRunning, ContainerStateTerminated,
    ContainerStateWaiting, ContainerStatus, HostIp, Pod, PodCondition, PodIp, PodStatus,
};
use std::collections::{BTreeMap, HashMap};
use std::time::SystemTime;

/// What the worker adds to the runtime state.
#[derive(Debug, Clone, Default)]
pub struct StatusInput {
    /// Readiness by container id (absent: not yet probed).
    pub ready: HashMap<String, bool>,
    /// Startup probe passed, by container id (absent and no startup probe: started).
    pub started: HashMap<String, bool>,
    /// A reason the container waits (CrashLoopBackOff, ErrImagePull...), by name.
    pub waiting: BTreeMap<String, (String, String)>,
    pub pod_ip: String,
    pub host_ip: String,
    /// The pod's sandbox is being made (no IP yet).
    pub now: Option<SystemTime>,
}

fn ts(t: Option<SystemTime>) -> String {
    t.map(proto::time::format_rfc3339).unwrap_or_default()
}

fn terminated(c: &ContainerInfo) -> ContainerStateTerminated {
    let reason = if c.oom_killed {
        "OOMKilled"
    } else if c.exit_code == 0 {
        "Completed"
    } else {
        "Error"
    };
    ContainerStateTerminated {
        exit_code: i32::try_from(c.exit_code).unwrap_or(-1),
        signal: 0,
        reason: reason.into(),
        message: c.error.clone(),
        started_at: ts(c.started_at),
        finished_at: ts(c.finished_at),
        container_id: format!("docker://{}", c.id),
    }
}

fn state_of(c: &ContainerInfo) -> ContainerState {
    match c.state {
        RtState::Running => ContainerState {
            running: Some(ContainerStateRunning {
                started_at: ts(c.started_at),
            }),
            ..Default::default()
        },
        RtState::Exited => ContainerState {
            terminated: Some(terminated(c)),
            ..Default::default()
        },
        _ => waiting("ContainerCreating", ""),
    }
}

fn waiting(reason: &str, message: &str) -> ContainerState {
    ContainerState {
        waiting: Some(ContainerStateWaiting {
            reason: reason.into(),
            message: message.into(),
        }),
        ..Default::default()
    }
}

fn container_status(
    spec: &Container,
    kind: ContainerKind,
    state: &PodRuntimeState,
    input: &StatusInput,
    default_waiting: &str,
) -> ContainerStatus {
    let instances = state.instances(&spec.name, kind);
    let latest = instances.first().copied();
    let mut cs = ContainerStatus {
        name: spec.name.clone(),
        image: spec.image.clone(),
        ..Default::default()
    };
    let wait = input.waiting.get(&spec.name);
    match latest {
        None => {
            let (r, m) = wait
                .cloned()
                .unwrap_or_else(|| (default_waiting.to_string(), String::new()));
            cs.state = Some(waiting(&r, &m));
            cs.started = Some(false);
        }
        Some(l) => {
            cs.restart_count = l.restart_count();
            cs.image_id = l.image_id.clone();
            cs.container_id = format!("docker://{}", l.id);
            if l.state == RtState::Exited
                && let Some((r, m)) = wait
            {
                // Waiting to restart: the last run is lastState.
                cs.state = Some(waiting(r, m));
                cs.last_state = Some(ContainerState {
                    terminated: Some(terminated(l)),
                    ..Default::default()
                });
            } else {
                cs.state = Some(state_of(l));
                if let Some(prev) = instances.get(1).filter(|p| p.state == RtState::Exited) {
                    cs.last_state = Some(ContainerState {
                        terminated: Some(terminated(prev)),
                        ..Default::default()
                    });
                }
            }
            let running = l.is_running();
            let started = running
                && (spec.startup_probe.is_none()
                    || input.started.get(&l.id).copied().unwrap_or(false));
            cs.started = Some(started);
            cs.ready = started
                && kind == ContainerKind::App
                && (spec.readiness_probe.is_none()
                    || input.ready.get(&l.id).copied().unwrap_or(false));
        }
    }
    if cs.last_state.is_none() {
        cs.last_state = Some(ContainerState::default());
    }
    cs
}

fn condition(
    old: Option<&PodStatus>,
    kind: &str,
    ok: bool,
    reason: &str,
    now: &str,
) -> PodCondition {
    let status = if ok { "True" } else { "False" };
    let prev = old.and_then(|s| s.conditions.iter().find(|c| c.r#type == kind));
    let last_transition_time = match prev {
        Some(p) if p.status == status => p.last_transition_time.clone(),
        _ => now.to_string(),
    };
    PodCondition {
        r#type: kind.into(),
        status: status.into(),
        last_probe_time: String::new(),
        last_transition_time,
        reason: if ok { String::new() } else { reason.into() },
        message: String::new(),
    }
}

/// Phase as Kubernetes' `getPhase`.
pub fn phase(pod: &Pod, init: &[ContainerStatus], apps: &[ContainerStatus]) -> &'static str {
    let policy = restart_policy(pod);
    let mut pending_init = false;
    for s in init {
        let st = s.state.clone().unwrap_or_default();
        match (&st.terminated, &st.waiting) {
            (Some(t), _) if t.exit_code == 0 => {}
            (Some(_), _) if policy == "Never" => return "Failed",
            (Some(_), _) => pending_init = true,
            (None, Some(_)) => {
                let last_failed = s
                    .last_state
                    .as_ref()
                    .and_then(|l| l.terminated.as_ref())
                    .is_some_and(|t| t.exit_code != 0);
                if last_failed && policy == "Never" {
                    return "Failed";
                }
                pending_init = true;
            }
            _ => pending_init = true,
        }
    }
    if pending_init {
        return "Pending";
    }
    let (mut waiting, mut running, mut stopped, mut succeeded) = (0, 0, 0, 0);
    for s in apps {
        let st = s.state.clone().unwrap_or_default();
        if st.running.is_some() {
            running += 1;
        } else if let Some(t) = &st.terminated {
            stopped += 1;
            if t.exit_code == 0 {
                succeeded += 1;
            }
        } else if s
            .last_state
            .as_ref()
            .and_then(|l| l.terminated.as_ref())
            .is_some()
        {
            stopped += 1;
        } else {
            waiting += 1;
        }
    }
    if waiting > 0 {
        "Pending"
    } else if running > 0 {
        "Running"
    } else if stopped > 0 {
        if policy == "Always" {
            "Running"
        } else if stopped == succeeded {
            "Succeeded"
        } else if policy == "Never" {
            "Failed"
        } else {
            "Running"
        }
    } else {
        "Pending"
    }
}

/// The status to write; `old` is the current one (times of unchanged conditions and the
/// start time are kept).
pub fn pod_status(pod: &Pod, state: &PodRuntimeState, input: &StatusInput) -> PodStatus {
    let old = pod.status.as_ref();
    let now = proto::time::format_rfc3339(input.now.unwrap_or_else(SystemTime::now));
    let spec = pod.spec.clone().unwrap_or_default();
    let init: Vec<ContainerStatus> = spec
        .init_containers
        .iter()
        .map(|c| container_status(c, ContainerKind::Init, state, input, "PodInitializing"))
        .collect();
    let inits_done = init.iter().all(|s| {
        s.state
            .as_ref()
            .and_then(|st| st.terminated.as_ref())
            .is_some_and(|t| t.exit_code == 0)
    });
    let apps_waiting = if inits_done {
        "ContainerCreating"
    } else {
        "PodInitializing"
    };
    let apps: Vec<ContainerStatus> = spec
        .containers
        .iter()
        .map(|c| container_status(c, ContainerKind::App, state, input, apps_waiting))
        .collect();
    // A terminal phase is never left (as Kubernetes' status manager enforces).
    let phase = match old.map(|s| s.phase.as_str()) {
        Some("Succeeded") => "Succeeded",
        Some("Failed") => "Failed",
        _ => phase(pod, &init, &apps),
    };
    let all_ready = !apps.is_empty() && apps.iter().all(|s| s.ready);
    let finished = phase == "Succeeded" || phase == "Failed";
    let conditions = vec![
        condition(
            old,
            "Initialized",
            inits_done,
            "ContainersNotInitialized",
            &now,
        ),
        condition(
            old,
            "Ready",
            all_ready && !finished,
            if finished {
                "PodCompleted"
            } else {
                "ContainersNotReady"
            },
            &now,
        ),
        condition(
            old,
            "ContainersReady",
            all_ready && !finished,
            if finished {
                "PodCompleted"
            } else {
                "ContainersNotReady"
            },
            &now,
        ),
        condition(old, "PodScheduled", true, "", &now),
    ];
    let start_time = old
        .map(|s| s.start_time.clone())
        .filter(|s| !s.is_empty())
        .unwrap_or(now);
    let qos = old.map(|s| s.qos_class.clone()).unwrap_or_default();
    PodStatus {
        phase: phase.into(),
        pod_ip: input.pod_ip.clone(),
        pod_ips: if input.pod_ip.is_empty() {
            vec![]
        } else {
            vec![PodIp {
                ip: input.pod_ip.clone(),
            }]
        },
        host_ip: input.host_ip.clone(),
        host_ips: if input.host_ip.is_empty() {
            vec![]
        } else {
            vec![HostIp {
                ip: input.host_ip.clone(),
            }]
        },
        conditions,
        start_time,
        init_container_statuses: init,
        container_statuses: apps,
        qos_class: qos,
        nominated_node_name: old
            .map(|s| s.nominated_node_name.clone())
            .unwrap_or_default(),
        message: String::new(),
        reason: String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::labels;
    use proto::k8s::{ObjectMeta, PodSpec, Probe};
    use std::time::Duration;

    fn t(s: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + s)
    }

    fn ctr(
        id: &str,
        kind: ContainerKind,
        name: &str,
        restarts: i32,
        st: RtState,
        exit: i64,
    ) -> ContainerInfo {
        let mut l = BTreeMap::new();
        l.insert(
            labels::CONTAINER_TYPE.to_string(),
            kind.as_label().to_string(),
        );
        l.insert(labels::CONTAINER_NAME.to_string(), name.to_string());
        l.insert(labels::RESTART_COUNT.to_string(), restarts.to_string());
        ContainerInfo {
            id: id.into(),
            name: id.into(),
            image: "img".into(),
            image_id: "sha256:abc".into(),
            labels: l,
            state: st,
            exit_code: exit,
            oom_killed: false,
            error: String::new(),
            created_at: Some(t(u64::try_from(restarts).unwrap_or(0))),
            started_at: Some(t(1)),
            finished_at: (st == RtState::Exited).then(|| t(2)),
            pid: None,
            ip: None,
        }
    }

    fn pod(policy: &str, apps: Vec<Container>) -> Pod {
        Pod {
            metadata: Some(ObjectMeta {
                name: "p".into(),
                uid: "u".into(),
                ..Default::default()
            }),
            spec: Some(PodSpec {
                restart_policy: policy.into(),
                containers: apps,
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn c(name: &str) -> Container {
        Container {
            name: name.into(),
            image: "img".into(),
            ..Default::default()
        }
    }

    fn cond<'a>(s: &'a PodStatus, kind: &str) -> &'a str {
        &s.conditions
            .iter()
            .find(|c| c.r#type == kind)
            .unwrap()
            .status
    }

    #[test]
    fn running_and_ready_without_probes() {
        let p = pod("Always", vec![c("a")]);
        let st = PodRuntimeState::from_containers(vec![ctr(
            "a0",
            ContainerKind::App,
            "a",
            0,
            RtState::Running,
            0,
        )]);
        let s = pod_status(
            &p,
            &st,
            &StatusInput {
                pod_ip: "10.1.0.5".into(),
                now: Some(t(5)),
                ..Default::default()
            },
        );
        assert_eq!(s.phase, "Running");
        assert_eq!(cond(&s, "Ready"), "True");
        assert_eq!(cond(&s, "ContainersReady"), "True");
        assert_eq!(cond(&s, "Initialized"), "True");
        assert_eq!(s.pod_ip, "10.1.0.5");
        let cs = &s.container_statuses[0];
        assert!(cs.ready && cs.started == Some(true));
        assert_eq!(cs.container_id, "docker://a0");
        assert!(cs.state.as_ref().unwrap().running.is_some());
    }

    #[test]
    fn readiness_probe_gates_ready() {
        let mut a = c("a");
        a.readiness_probe = Some(Probe::default());
        let p = pod("Always", vec![a]);
        let st = PodRuntimeState::from_containers(vec![ctr(
            "a0",
            ContainerKind::App,
            "a",
            0,
            RtState::Running,
            0,
        )]);
        let mut input = StatusInput {
            now: Some(t(5)),
            ..Default::default()
        };
        let s = pod_status(&p, &st, &input);
        assert_eq!(cond(&s, "Ready"), "False");
        assert_eq!(s.phase, "Running");
        input.ready.insert("a0".into(), true);
        let s2 = pod_status(&p, &st, &input);
        assert_eq!(cond(&s2, "Ready"), "True");
    }

    #[test]
    fn crash_loop_shows_waiting_with_last_state() {
        let p = pod("Always", vec![c("a")]);
        let st = PodRuntimeState::from_containers(vec![
            ctr("a0", ContainerKind::App, "a", 0, RtState::Exited, 1),
            ctr("a1", ContainerKind::App, "a", 1, RtState::Exited, 1),
        ]);
        let mut input = StatusInput::default();
        input.waiting.insert(
            "a".into(),
            ("CrashLoopBackOff".into(), "back-off 10s".into()),
        );
        let s = pod_status(&p, &st, &input);
        let cs = &s.container_statuses[0];
        assert_eq!(cs.restart_count, 1);
        assert_eq!(
            cs.state.as_ref().unwrap().waiting.as_ref().unwrap().reason,
            "CrashLoopBackOff"
        );
        let last = cs.last_state.as_ref().unwrap().terminated.as_ref().unwrap();
        assert_eq!((last.exit_code, last.reason.as_str()), (1, "Error"));
        assert_eq!(
            s.phase, "Running",
            "a crash-looping pod under Always is Running"
        );
        assert_eq!(cond(&s, "Ready"), "False");
    }

    #[test]
    fn phases() {
        let ex = |id, code| ctr(id, ContainerKind::App, id, 0, RtState::Exited, code);
        let cases = [
            ("Never", vec![ex("a", 0), ex("b", 0)], "Succeeded"),
            ("Never", vec![ex("a", 0), ex("b", 3)], "Failed"),
            ("OnFailure", vec![ex("a", 0), ex("b", 0)], "Succeeded"),
            ("Always", vec![ex("a", 0), ex("b", 0)], "Running"),
            ("Never", vec![ex("a", 0)], "Pending"),
        ];
        for (policy, cs, want) in cases {
            let p = pod(policy, vec![c("a"), c("b")]);
            let s = pod_status(
                &p,
                &PodRuntimeState::from_containers(cs),
                &StatusInput::default(),
            );
            assert_eq!(s.phase, want, "{policy}");
        }
        let p = pod("Never", vec![c("a"), c("b")]);
        let s = pod_status(
            &p,
            &PodRuntimeState::from_containers(vec![ex("a", 0), ex("b", 0)]),
            &StatusInput::default(),
        );
        assert_eq!(cond(&s, "Ready"), "False");
        assert_eq!(
            s.conditions
                .iter()
                .find(|c| c.r#type == "Ready")
                .unwrap()
                .reason,
            "PodCompleted"
        );
    }

    #[test]
    fn a_terminal_phase_is_never_left() {
        let mut p = pod("Never", vec![c("a")]);
        p.status = Some(PodStatus {
            phase: "Succeeded".into(),
            ..Default::default()
        });
        // Its containers are gone: computed afresh this would be Pending.
        let s = pod_status(&p, &PodRuntimeState::default(), &StatusInput::default());
        assert_eq!(s.phase, "Succeeded");
    }

    #[test]
    fn init_containers_hold_the_pod_pending() {
        let mut p = pod("Always", vec![c("a")]);
        p.spec.as_mut().unwrap().init_containers = vec![c("i")];
        let st = PodRuntimeState::from_containers(vec![ctr(
            "i0",
            ContainerKind::Init,
            "i",
            0,
            RtState::Running,
            0,
        )]);
        let s = pod_status(&p, &st, &StatusInput::default());
        assert_eq!(s.phase, "Pending");
        assert_eq!(cond(&s, "Initialized"), "False");
        let w = s.container_statuses[0]
            .state
            .as_ref()
            .unwrap()
            .waiting
            .as_ref()
            .unwrap();
        assert_eq!(w.reason, "PodInitializing");
    }

    #[test]
    fn transition_times_are_kept_while_a_condition_holds() {
        let p0 = pod("Always", vec![c("a")]);
        let st = PodRuntimeState::from_containers(vec![ctr(
            "a0",
            ContainerKind::App,
            "a",
            0,
            RtState::Running,
            0,
        )]);
        let s1 = pod_status(
            &p0,
            &st,
            &StatusInput {
                now: Some(t(10)),
                ..Default::default()
            },
        );
        let mut p1 = p0.clone();
        p1.status = Some(s1.clone());
        let s2 = pod_status(
            &p1,
            &st,
            &StatusInput {
                now: Some(t(20)),
                ..Default::default()
            },
        );
        assert_eq!(
            s1, s2,
            "nothing changed: the same status, so nothing is written"
        );
    }

    #[test]
    fn image_pull_error_is_the_waiting_reason() {
        let p = pod("Always", vec![c("a")]);
        let mut input = StatusInput::default();
        input
            .waiting
            .insert("a".into(), ("ErrImagePull".into(), "no registry".into()));
        let s = pod_status(&p, &PodRuntimeState::default(), &input);
        let w = s.container_statuses[0]
            .state
            .as_ref()
            .unwrap()
            .waiting
            .as_ref()
            .unwrap();
        assert_eq!(w.reason, "ErrImagePull");
        assert_eq!(s.phase, "Pending");
    }
}
