//! What a pod worker must do, computed as a pure function of the desired pod and the
//! runtime's actual state (Kubernetes' `computePodActions`). The worker applies the result.

use crate::backoff::Backoff;
use crate::runtime::{ContainerInfo, ContainerKind, ContainerState};
use proto::k8s::{Container, Pod};
use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, SystemTime};

/// The containers the runtime has for one pod (every attempt, running or not).
#[derive(Debug, Clone, Default)]
pub struct PodRuntimeState {
    pub sandboxes: Vec<ContainerInfo>,
    pub containers: Vec<ContainerInfo>,
}

impl PodRuntimeState {
    /// Splits a pod's containers by their type label.
    pub fn from_containers(all: Vec<ContainerInfo>) -> Self {
        let (sandboxes, containers) = all
            .into_iter()
            .partition(|c| c.kind() == Some(ContainerKind::Sandbox));
        PodRuntimeState {
            sandboxes,
            containers,
        }
    }

    /// The newest sandbox (highest attempt, then latest created).
    pub fn latest_sandbox(&self) -> Option<&ContainerInfo> {
        self.sandboxes
            .iter()
            .max_by_key(|c| (c.sandbox_attempt(), c.created_at))
    }

    pub fn running_sandbox(&self) -> Option<&ContainerInfo> {
        self.latest_sandbox().filter(|s| s.is_running())
    }

    /// Instances of container `name` of `kind`, newest first.
    pub fn instances(&self, name: &str, kind: ContainerKind) -> Vec<&ContainerInfo> {
        let mut v: Vec<&ContainerInfo> = self
            .containers
            .iter()
            .filter(|c| c.container_name() == name && c.kind() == Some(kind))
            .collect();
        v.sort_by_key(|c| std::cmp::Reverse((c.restart_count(), c.created_at)));
        v
    }

    pub fn latest(&self, name: &str, kind: ContainerKind) -> Option<&ContainerInfo> {
        self.instances(name, kind).into_iter().next()
    }
}

/// What the decision reads besides the pod and the runtime state.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub now: SystemTime,
    pub backoff: &'a Backoff,
    /// Containers (by id) whose liveness probe failed.
    pub liveness_failed: &'a HashSet<String>,
    /// The running sandbox never got its pod address: a kubelet killed between starting it
    /// and wiring its network leaves one behind. Kubernetes' `podSandboxChanged` replaces a
    /// sandbox without an IP; kept, its pod would run unreachable and never become Ready.
    pub sandbox_without_ip: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartContainer {
    pub kind: ContainerKind,
    /// Index into `spec.initContainers` or `spec.containers`.
    pub index: usize,
    pub restart_count: i32,
    /// The start is a restart of a crashed or killed container: it consumes back-off.
    pub is_restart: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KillContainer {
    pub id: String,
    pub name: String,
    pub reason: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    pub reason: String,
    pub message: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Actions {
    /// Stop every container and sandbox of the pod (before a new sandbox, on deletion, or
    /// when the pod finished).
    pub kill_pod: bool,
    pub create_sandbox: bool,
    /// The attempt number of the sandbox to create.
    pub sandbox_attempt: i32,
    pub kill: Vec<KillContainer>,
    /// In order: at most one init container, or the app containers to start.
    pub start: Vec<StartContainer>,
    /// Containers that should run but wait (CrashLoopBackOff), by name.
    pub waiting: BTreeMap<String, Waiting>,
    /// Look again after this long even if nothing changes (a back-off ending).
    pub requeue_after: Option<Duration>,
    /// The pod reached Succeeded or Failed: nothing will run again.
    pub terminal: bool,
}

pub fn restart_policy(pod: &Pod) -> &str {
    match pod.spec.as_ref().map(|s| s.restart_policy.as_str()) {
        Some("OnFailure") => "OnFailure",
        Some("Never") => "Never",
        _ => "Always",
    }
}

/// Whether an exited container must run again under `policy`.
pub fn should_restart(policy: &str, exit_code: i64) -> bool {
    match policy {
        "Never" => false,
        "OnFailure" => exit_code != 0,
        _ => true,
    }
}

pub fn backoff_key(pod_uid: &str, container: &str) -> String {
    format!("{pod_uid}/{container}")
}

fn is_deleting(pod: &Pod) -> bool {
    pod.metadata
        .as_ref()
        .is_some_and(|m| !m.deletion_timestamp.is_empty())
}

fn exited(c: &ContainerInfo) -> bool {
    c.state == ContainerState::Exited
}

pub fn compute_pod_actions(pod: &Pod, state: &PodRuntimeState, ctx: Context<'_>) -> Actions {
    let mut a = Actions::default();
    let Some(spec) = pod.spec.as_ref() else {
        a.kill_pod = true;
        return a;
    };
    let uid = pod.metadata.as_ref().map(|m| m.uid.as_str()).unwrap_or("");
    let policy = restart_policy(pod);

    if is_deleting(pod) {
        a.kill_pod = true;
        return a;
    }
    // A pod the API already records as finished never runs again (its containers may have
    // been removed since, e.g. by a previous kubelet).
    if pod
        .status
        .as_ref()
        .is_some_and(|s| s.phase == "Succeeded" || s.phase == "Failed")
    {
        a.kill_pod = true;
        a.terminal = true;
        return a;
    }

    // A failed init container under Never fails the pod.
    let init_failed = spec.init_containers.iter().any(|c| {
        state
            .latest(&c.name, ContainerKind::Init)
            .is_some_and(|l| exited(l) && l.exit_code != 0)
    });
    if policy == "Never" && init_failed {
        a.kill_pod = true;
        a.terminal = true;
        return a;
    }
    // Every app container ran and none is to run again.
    if policy != "Always"
        && !spec.containers.is_empty()
        && spec.containers.iter().all(|c| {
            state
                .latest(&c.name, ContainerKind::App)
                .is_some_and(|l| exited(l) && !should_restart(policy, l.exit_code))
        })
    {
        a.kill_pod = true;
        a.terminal = true;
        return a;
    }

    let Some(_sandbox) = state.running_sandbox().filter(|_| !ctx.sandbox_without_ip) else {
        // A new sandbox: everything of the old one goes, and the containers start over in it.
        a.kill_pod = !state.sandboxes.is_empty() || state.containers.iter().any(|c| c.is_running());
        a.create_sandbox = true;
        a.sandbox_attempt = state
            .sandboxes
            .iter()
            .map(|s| s.sandbox_attempt() + 1)
            .max()
            .unwrap_or(0);
        let inits_done = spec.init_containers.iter().all(|c| {
            state
                .latest(&c.name, ContainerKind::Init)
                .is_some_and(|l| exited(l) && l.exit_code == 0)
        });
        if !inits_done {
            if let Some((i, c)) = spec.init_containers.iter().enumerate().next() {
                a.start.push(start_of(state, ContainerKind::Init, i, c));
            }
            return a;
        }
        for (i, c) in spec.containers.iter().enumerate() {
            match state.latest(&c.name, ContainerKind::App) {
                Some(l) if exited(l) && !should_restart(policy, l.exit_code) => {}
                _ => a.start.push(start_of(state, ContainerKind::App, i, c)),
            }
        }
        return a;
    };

    // Init containers, one at a time, in order.
    for (i, c) in spec.init_containers.iter().enumerate() {
        match state.latest(&c.name, ContainerKind::Init) {
            None => {
                a.start.push(start_of(state, ContainerKind::Init, i, c));
                return a;
            }
            Some(l) if l.is_running() => return a,
            Some(l) if exited(l) && l.exit_code == 0 => continue,
            Some(l) if exited(l) => {
                restart_or_wait(&mut a, ctx, uid, pod, ContainerKind::Init, i, c, l);
                return a;
            }
            Some(l) => {
                // Created but never started (the kubelet died in between): replace it.
                a.kill
                    .push(kill_of(l, "Replaced", "created but not started"));
                a.start.push(StartContainer {
                    kind: ContainerKind::Init,
                    index: i,
                    restart_count: l.restart_count(),
                    is_restart: false,
                });
                return a;
            }
        }
    }

    for (i, c) in spec.containers.iter().enumerate() {
        match state.latest(&c.name, ContainerKind::App) {
            None => a.start.push(start_of(state, ContainerKind::App, i, c)),
            Some(l) if l.is_running() => {
                if ctx.liveness_failed.contains(&l.id) {
                    a.kill.push(kill_of(
                        l,
                        "Unhealthy",
                        &format!(
                            "Container {} failed liveness probe, will be restarted",
                            c.name
                        ),
                    ));
                } else if !c.image.is_empty() && l.image != c.image {
                    a.kill.push(kill_of(
                        l,
                        "Killing",
                        &format!("Container {} definition changed, will be restarted", c.name),
                    ));
                }
            }
            Some(l) if exited(l) => {
                if should_restart(policy, l.exit_code) {
                    restart_or_wait(&mut a, ctx, uid, pod, ContainerKind::App, i, c, l);
                }
            }
            Some(l) => {
                a.kill
                    .push(kill_of(l, "Replaced", "created but not started"));
                a.start.push(StartContainer {
                    kind: ContainerKind::App,
                    index: i,
                    restart_count: l.restart_count(),
                    is_restart: false,
                });
            }
        }
    }
    a
}

fn start_of(
    state: &PodRuntimeState,
    kind: ContainerKind,
    index: usize,
    c: &Container,
) -> StartContainer {
    let latest = state.latest(&c.name, kind);
    StartContainer {
        kind,
        index,
        restart_count: latest.map(|l| l.restart_count() + 1).unwrap_or(0),
        is_restart: latest.is_some(),
    }
}

fn kill_of(c: &ContainerInfo, reason: &str, message: &str) -> KillContainer {
    KillContainer {
        id: c.id.clone(),
        name: c.container_name().to_string(),
        reason: reason.to_string(),
        message: message.to_string(),
    }
}

#[allow(clippy::too_many_arguments)]
fn restart_or_wait(
    a: &mut Actions,
    ctx: Context<'_>,
    uid: &str,
    pod: &Pod,
    kind: ContainerKind,
    index: usize,
    c: &Container,
    last: &ContainerInfo,
) {
    let key = backoff_key(uid, &c.name);
    let finished = last.finished_at.unwrap_or(ctx.now);
    if ctx.backoff.in_backoff_since(&key, finished, ctx.now) {
        let delay = ctx.backoff.delay(&key, ctx.now).unwrap_or_default();
        let meta = pod.metadata.clone().unwrap_or_default();
        a.waiting.insert(
            c.name.clone(),
            Waiting {
                reason: "CrashLoopBackOff".into(),
                message: format!(
                    "back-off {}s restarting failed container={} pod={}_{}({})",
                    delay.as_secs(),
                    c.name,
                    meta.name,
                    meta.namespace,
                    meta.uid
                ),
            },
        );
        let remaining = ctx.backoff.remaining(&key, finished, ctx.now);
        a.requeue_after = Some(a.requeue_after.map_or(remaining, |r| r.min(remaining)));
    } else {
        a.start.push(StartContainer {
            kind,
            index,
            restart_count: last.restart_count() + 1,
            is_restart: true,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::labels;
    use proto::k8s::{ObjectMeta, PodSpec};

    fn t(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(2_000_000 + secs)
    }

    fn pod(policy: &str, inits: &[&str], apps: &[&str]) -> Pod {
        let c = |n: &&str| Container {
            name: n.to_string(),
            image: "img".into(),
            ..Default::default()
        };
        Pod {
            metadata: Some(ObjectMeta {
                name: "p".into(),
                namespace: "d".into(),
                uid: "u1".into(),
                ..Default::default()
            }),
            spec: Some(PodSpec {
                restart_policy: policy.into(),
                init_containers: inits.iter().map(c).collect(),
                containers: apps.iter().map(c).collect(),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn ctr(
        id: &str,
        kind: ContainerKind,
        name: &str,
        restarts: i32,
        st: ContainerState,
        exit: i64,
    ) -> ContainerInfo {
        let mut l = BTreeMap::new();
        l.insert(
            labels::CONTAINER_TYPE.to_string(),
            kind.as_label().to_string(),
        );
        l.insert(labels::CONTAINER_NAME.to_string(), name.to_string());
        l.insert(labels::RESTART_COUNT.to_string(), restarts.to_string());
        l.insert(labels::SANDBOX_ATTEMPT.to_string(), restarts.to_string());
        ContainerInfo {
            id: id.into(),
            name: id.into(),
            image: "img".into(),
            image_id: String::new(),
            labels: l,
            state: st,
            exit_code: exit,
            oom_killed: false,
            error: String::new(),
            created_at: Some(t(u64::try_from(restarts).unwrap_or(0))),
            started_at: Some(t(0)),
            finished_at: (st == ContainerState::Exited).then(|| t(100)),
            pid: None,
            ip: None,
        }
    }

    use ContainerKind::{App, Init, Sandbox};
    use ContainerState::{Created, Exited, Running};

    fn sandbox(st: ContainerState) -> ContainerInfo {
        ctr("sb", Sandbox, "POD", 0, st, 0)
    }

    fn run(
        p: &Pod,
        cs: Vec<ContainerInfo>,
        backoff: &Backoff,
        live_failed: &[&str],
        now: SystemTime,
    ) -> Actions {
        let failed: HashSet<String> = live_failed.iter().map(|s| s.to_string()).collect();
        compute_pod_actions(
            p,
            &PodRuntimeState::from_containers(cs),
            Context {
                now,
                backoff,
                liveness_failed: &failed,
                sandbox_without_ip: false,
            },
        )
    }

    fn starts(a: &Actions) -> Vec<(ContainerKind, usize, i32)> {
        a.start
            .iter()
            .map(|s| (s.kind, s.index, s.restart_count))
            .collect()
    }

    #[test]
    fn table() {
        let none = Backoff::default();
        let mut hot = Backoff::default();
        hot.next("u1/a", t(0));
        hot.next("u1/a", t(50)); // 20 s delay from the finish at t(100)
        struct Case {
            name: &'static str,
            pod: Pod,
            cs: Vec<ContainerInfo>,
            backoff: Backoff,
            live_failed: Vec<&'static str>,
            now: SystemTime,
            kill_pod: bool,
            create_sandbox: bool,
            start: Vec<(ContainerKind, usize, i32)>,
            kill: Vec<&'static str>,
            waiting: Vec<&'static str>,
            terminal: bool,
        }
        let base = |name, pod: Pod, cs: Vec<ContainerInfo>| Case {
            name,
            pod,
            cs,
            backoff: none.clone(),
            live_failed: vec![],
            now: t(200),
            kill_pod: false,
            create_sandbox: false,
            start: vec![],
            kill: vec![],
            waiting: vec![],
            terminal: false,
        };
        let cases = vec![
            Case {
                create_sandbox: true,
                start: vec![(App, 0, 0), (App, 1, 0)],
                ..base(
                    "new pod: sandbox and every app container",
                    pod("Always", &[], &["a", "b"]),
                    vec![],
                )
            },
            Case {
                create_sandbox: true,
                start: vec![(Init, 0, 0)],
                ..base(
                    "new pod with init containers: sandbox and the first init only",
                    pod("Always", &["i1", "i2"], &["a"]),
                    vec![],
                )
            },
            base(
                "all running: nothing to do",
                pod("Always", &[], &["a"]),
                vec![sandbox(Running), ctr("a0", App, "a", 0, Running, 0)],
            ),
            base(
                "init running: wait for it",
                pod("Always", &["i1", "i2"], &["a"]),
                vec![sandbox(Running), ctr("i", Init, "i1", 0, Running, 0)],
            ),
            Case {
                start: vec![(Init, 1, 0)],
                ..base(
                    "first init done: the second starts",
                    pod("Always", &["i1", "i2"], &["a"]),
                    vec![sandbox(Running), ctr("i", Init, "i1", 0, Exited, 0)],
                )
            },
            Case {
                start: vec![(App, 0, 0)],
                ..base(
                    "inits done: app containers start",
                    pod("Always", &["i1"], &["a"]),
                    vec![sandbox(Running), ctr("i", Init, "i1", 0, Exited, 0)],
                )
            },
            Case {
                start: vec![(Init, 0, 1)],
                ..base(
                    "failed init restarts (OnFailure)",
                    pod("OnFailure", &["i1"], &["a"]),
                    vec![sandbox(Running), ctr("i", Init, "i1", 0, Exited, 1)],
                )
            },
            Case {
                kill_pod: true,
                terminal: true,
                ..base(
                    "failed init under Never fails the pod",
                    pod("Never", &["i1"], &["a"]),
                    vec![sandbox(Running), ctr("i", Init, "i1", 0, Exited, 1)],
                )
            },
            Case {
                start: vec![(App, 0, 1)],
                ..base(
                    "crashed container restarts at once the first time",
                    pod("Always", &[], &["a"]),
                    vec![sandbox(Running), ctr("a0", App, "a", 0, Exited, 1)],
                )
            },
            Case {
                backoff: hot.clone(),
                now: t(110),
                waiting: vec!["a"],
                ..base(
                    "crashed container within its back-off waits",
                    pod("Always", &[], &["a"]),
                    vec![sandbox(Running), ctr("a1", App, "a", 1, Exited, 1)],
                )
            },
            Case {
                backoff: hot.clone(),
                now: t(121),
                start: vec![(App, 0, 2)],
                ..base(
                    "back-off over: restart",
                    pod("Always", &[], &["a"]),
                    vec![
                        sandbox(Running),
                        ctr("a0", App, "a", 0, Exited, 1),
                        ctr("a1", App, "a", 1, Exited, 1),
                    ],
                )
            },
            Case {
                start: vec![(App, 0, 1)],
                ..base(
                    "Always restarts a container that exited 0",
                    pod("Always", &[], &["a", "b"]),
                    vec![
                        sandbox(Running),
                        ctr("a0", App, "a", 0, Exited, 0),
                        ctr("b0", App, "b", 0, Running, 0),
                    ],
                )
            },
            base(
                "OnFailure leaves a succeeded container alone",
                pod("OnFailure", &[], &["a", "b"]),
                vec![
                    sandbox(Running),
                    ctr("a0", App, "a", 0, Exited, 0),
                    ctr("b0", App, "b", 0, Running, 0),
                ],
            ),
            Case {
                kill_pod: true,
                terminal: true,
                ..base(
                    "Never: all exited, the pod is done",
                    pod("Never", &[], &["a", "b"]),
                    vec![
                        sandbox(Running),
                        ctr("a0", App, "a", 0, Exited, 0),
                        ctr("b0", App, "b", 0, Exited, 2),
                    ],
                )
            },
            Case {
                kill_pod: true,
                terminal: true,
                ..base(
                    "OnFailure: all succeeded, the pod is done",
                    pod("OnFailure", &[], &["a"]),
                    vec![sandbox(Running), ctr("a0", App, "a", 0, Exited, 0)],
                )
            },
            Case {
                kill: vec!["a0"],
                live_failed: vec!["a0"],
                ..base(
                    "liveness failure kills the container",
                    pod("Always", &[], &["a"]),
                    vec![sandbox(Running), ctr("a0", App, "a", 0, Running, 0)],
                )
            },
            Case {
                kill_pod: true,
                create_sandbox: true,
                start: vec![(App, 0, 1)],
                ..base(
                    "dead sandbox: kill all, new sandbox, containers start over",
                    pod("Always", &[], &["a"]),
                    vec![sandbox(Exited), ctr("a0", App, "a", 0, Running, 0)],
                )
            },
            Case {
                kill: vec!["a0"],
                start: vec![(App, 0, 0)],
                ..base(
                    "created but never started: replaced",
                    pod("Always", &[], &["a"]),
                    vec![sandbox(Running), ctr("a0", App, "a", 0, Created, 0)],
                )
            },
        ];
        for c in cases {
            let a = run(&c.pod, c.cs.clone(), &c.backoff, &c.live_failed, c.now);
            assert_eq!(a.kill_pod, c.kill_pod, "{}: kill_pod", c.name);
            assert_eq!(
                a.create_sandbox, c.create_sandbox,
                "{}: create_sandbox",
                c.name
            );
            assert_eq!(starts(&a), c.start, "{}: start", c.name);
            let kills: Vec<&str> = a.kill.iter().map(|k| k.id.as_str()).collect();
            assert_eq!(kills, c.kill, "{}: kill", c.name);
            let waiting: Vec<&str> = a.waiting.keys().map(String::as_str).collect();
            assert_eq!(waiting, c.waiting, "{}: waiting", c.name);
            assert_eq!(a.terminal, c.terminal, "{}: terminal", c.name);
        }
    }

    #[test]
    fn deletion_kills_the_pod() {
        let mut p = pod("Always", &[], &["a"]);
        p.metadata.as_mut().unwrap().deletion_timestamp = "2026-01-01T00:00:00Z".into();
        let a = run(
            &p,
            vec![sandbox(Running), ctr("a0", App, "a", 0, Running, 0)],
            &Backoff::default(),
            &[],
            t(0),
        );
        assert!(a.kill_pod && !a.create_sandbox && a.start.is_empty());
    }

    #[test]
    fn crash_loop_message_and_requeue() {
        let mut b = Backoff::default();
        b.next("u1/a", t(95));
        let a = run(
            &pod("Always", &[], &["a"]),
            vec![sandbox(Running), ctr("a0", App, "a", 0, Exited, 1)],
            &b,
            &[],
            t(104),
        );
        let w = &a.waiting["a"];
        assert_eq!(w.reason, "CrashLoopBackOff");
        assert!(
            w.message
                .starts_with("back-off 10s restarting failed container=a pod=p_d(u1)"),
            "{}",
            w.message
        );
        assert_eq!(a.requeue_after, Some(Duration::from_secs(6)));
    }

    #[test]
    fn a_pod_recorded_as_finished_never_runs_again() {
        let mut p = pod("Never", &[], &["a"]);
        p.status = Some(proto::k8s::PodStatus {
            phase: "Succeeded".into(),
            ..Default::default()
        });
        let a = run(&p, vec![], &Backoff::default(), &[], t(0));
        assert!(a.terminal && !a.create_sandbox && a.start.is_empty());
    }

    #[test]
    fn a_running_sandbox_without_an_address_is_replaced() {
        let p = pod("Always", &[], &["a"]);
        let cs = vec![sandbox(Running), ctr("a0", App, "a", 0, Running, 0)];
        let failed = HashSet::new();
        let backoff = Backoff::default();
        let ctx = |sandbox_without_ip| Context {
            now: t(0),
            backoff: &backoff,
            liveness_failed: &failed,
            sandbox_without_ip,
        };
        let state = PodRuntimeState::from_containers(cs);
        let kept = compute_pod_actions(&p, &state, ctx(false));
        assert!(!kept.create_sandbox && !kept.kill_pod, "{kept:?}");
        let a = compute_pod_actions(&p, &state, ctx(true));
        assert!(a.create_sandbox && a.kill_pod, "{a:?}");
        assert_eq!(a.sandbox_attempt, 1);
        assert_eq!(starts(&a), vec![(App, 0, 1)]);
    }

    #[test]
    fn new_sandbox_attempt_counts_up() {
        let a = run(
            &pod("Always", &[], &["a"]),
            vec![sandbox(Exited)],
            &Backoff::default(),
            &[],
            t(0),
        );
        assert_eq!(a.sandbox_attempt, 1);
        assert!(a.kill_pod, "the dead sandbox is removed");
    }
}
