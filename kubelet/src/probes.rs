//! Liveness, readiness and startup probes (exec, httpGet, tcpSocket) with Kubernetes'
//! defaults. A probe task per container and probe kind runs until the container's task is
//! cancelled; results land in `ProbeResults`, and a change wakes the pod worker.

use crate::runtime::Runtime;
use proto::k8s::{Container, Probe};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Liveness,
    Readiness,
    Startup,
}

/// The probe's numbers with Kubernetes' defaults filled in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    pub initial_delay: Duration,
    pub period: Duration,
    pub timeout: Duration,
    pub success_threshold: u32,
    pub failure_threshold: u32,
}

pub fn timing(p: &Probe, kind: Kind) -> Timing {
    let pos = |v: i32, d: u64| {
        if v > 0 {
            u64::try_from(v).unwrap_or(d)
        } else {
            d
        }
    };
    Timing {
        initial_delay: Duration::from_secs(
            u64::try_from(p.initial_delay_seconds.max(0)).unwrap_or(0),
        ),
        period: Duration::from_secs(pos(p.period_seconds, 10)),
        timeout: Duration::from_secs(pos(p.timeout_seconds, 1)),
        // Liveness and startup must use 1 (validation refuses other values).
        success_threshold: if kind == Kind::Readiness {
            u32::try_from(pos(p.success_threshold, 1)).unwrap_or(1)
        } else {
            1
        },
        failure_threshold: u32::try_from(pos(p.failure_threshold, 3)).unwrap_or(3),
    }
}

/// Consecutive-result counting: the pure core of a probe worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counter {
    pub timing: Timing,
    successes: u32,
    failures: u32,
    /// The last settled result (`None` until a threshold was reached).
    pub result: Option<bool>,
}

impl Counter {
    pub fn new(timing: Timing) -> Self {
        Counter {
            timing,
            successes: 0,
            failures: 0,
            result: None,
        }
    }

    /// Records one probe outcome; returns true when the settled result changed.
    pub fn observe(&mut self, ok: bool) -> bool {
        let before = self.result;
        if ok {
            self.failures = 0;
            self.successes += 1;
            if self.successes >= self.timing.success_threshold {
                self.result = Some(true);
            }
        } else {
            self.successes = 0;
            self.failures += 1;
            if self.failures >= self.timing.failure_threshold {
                self.result = Some(false);
            }
        }
        before != self.result
    }
}

#[derive(Debug, Default)]
struct State {
    ready: HashMap<String, bool>,
    started: HashMap<String, bool>,
    liveness_failed: HashSet<String>,
}

/// Probe results of one pod's containers, by container id; clones share them.
#[derive(Debug, Clone, Default)]
pub struct ProbeResults {
    state: Arc<Mutex<State>>,
    pub changed: Arc<Notify>,
}

impl ProbeResults {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
    pub fn ready(&self) -> HashMap<String, bool> {
        self.lock().ready.clone()
    }
    pub fn started(&self) -> HashMap<String, bool> {
        self.lock().started.clone()
    }
    pub fn liveness_failed(&self) -> HashSet<String> {
        self.lock().liveness_failed.clone()
    }
    pub fn is_started(&self, id: &str) -> bool {
        self.lock().started.get(id).copied().unwrap_or(false)
    }
    fn set(&self, id: &str, kind: Kind, ok: bool) {
        {
            let mut s = self.lock();
            match kind {
                Kind::Readiness => {
                    s.ready.insert(id.to_string(), ok);
                }
                Kind::Startup => {
                    s.started.insert(id.to_string(), ok);
                }
                Kind::Liveness => {
                    if ok {
                        s.liveness_failed.remove(id);
                    } else {
                        s.liveness_failed.insert(id.to_string());
                    }
                }
            }
        }
        self.changed.notify_one();
    }
    /// Forgets a container that is gone.
    pub fn remove(&self, id: &str) {
        let mut s = self.lock();
        s.ready.remove(id);
        s.started.remove(id);
        s.liveness_failed.remove(id);
    }
}

/// Where the container listens: the pod's IP.
#[derive(Debug, Clone)]
pub struct Target {
    pub container_id: String,
    pub pod_ip: String,
}

fn resolve_port(port: &str, c: &Container) -> Option<u16> {
    if let Ok(n) = port.parse::<u16>() {
        return Some(n);
    }
    c.ports
        .iter()
        .find(|p| p.name == port)
        .and_then(|p| u16::try_from(p.container_port).ok())
}

/// One HTTP GET; success is a status in 200..400.
pub async fn http_get(
    host: &str,
    port: u16,
    path: &str,
    headers: &[(String, String)],
    timeout: Duration,
) -> Result<u16, String> {
    let fut = async {
        let mut s = tokio::net::TcpStream::connect((host, port))
            .await
            .map_err(|e| e.to_string())?;
        let path = if path.is_empty() { "/" } else { path };
        let mut req = format!(
            "GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUser-Agent: kube-probe/1.0\r\nAccept: */*\r\nConnection: close\r\n"
        );
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        s.write_all(req.as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        let mut buf = vec![0u8; 1024];
        let mut got = 0;
        while got < 12 {
            let n = s.read(&mut buf[got..]).await.map_err(|e| e.to_string())?;
            if n == 0 {
                break;
            }
            got += n;
        }
        let line = String::from_utf8_lossy(&buf[..got]).into_owned();
        line.split_whitespace()
            .nth(1)
            .and_then(|c| c.parse::<u16>().ok())
            .ok_or_else(|| {
                format!(
                    "malformed HTTP response {:?}",
                    line.lines().next().unwrap_or("")
                )
            })
    };
    match tokio::time::timeout(timeout, fut).await {
        Ok(r) => r,
        Err(_) => Err(format!("timeout after {timeout:?}")),
    }
}

/// Runs a probe once: Ok(()) on success, Err(message) on failure.
pub async fn run_once<R: Runtime>(
    runtime: &R,
    probe: &Probe,
    c: &Container,
    target: &Target,
    timeout: Duration,
) -> Result<(), String> {
    if let Some(e) = &probe.exec {
        let r = tokio::time::timeout(timeout, runtime.exec(&target.container_id, &e.command)).await;
        return match r {
            Ok(Ok(out)) if out.exit_code == 0 => Ok(()),
            Ok(Ok(out)) => Err(format!(
                "command {:?} exited with {}: {}",
                e.command,
                out.exit_code,
                String::from_utf8_lossy(&out.output).trim()
            )),
            Ok(Err(err)) => Err(err.to_string()),
            Err(_) => Err(format!("command {:?} timed out", e.command)),
        };
    }
    if let Some(h) = &probe.http_get {
        let port = resolve_port(&h.port, c).ok_or_else(|| format!("unknown port {:?}", h.port))?;
        let host = if h.host.is_empty() {
            &target.pod_ip
        } else {
            &h.host
        };
        let headers: Vec<(String, String)> = h
            .http_headers
            .iter()
            .map(|x| (x.name.clone(), x.value.clone()))
            .collect();
        return match http_get(host, port, &h.path, &headers, timeout).await {
            Ok(code) if (200..400).contains(&code) => Ok(()),
            Ok(code) => Err(format!("HTTP probe failed with statuscode: {code}")),
            Err(e) => Err(format!("Get \"http://{host}:{port}{}\": {e}", h.path)),
        };
    }
    if let Some(t) = &probe.tcp_socket {
        let port = resolve_port(&t.port, c).ok_or_else(|| format!("unknown port {:?}", t.port))?;
        let host = if t.host.is_empty() {
            &target.pod_ip
        } else {
            &t.host
        };
        return match tokio::time::timeout(
            timeout,
            tokio::net::TcpStream::connect((host.as_str(), port)),
        )
        .await
        {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(format!("dial tcp {host}:{port}: {e}")),
            Err(_) => Err(format!("dial tcp {host}:{port}: timeout")),
        };
    }
    Err("probe has no handler".into())
}

/// Called with the failure message of a probe that failed (for Unhealthy events).
pub type OnFailure = Arc<dyn Fn(Kind, &str) + Send + Sync>;

/// Starts the probe tasks of one running container; they stop when `cancel` fires.
pub fn spawn<R: Runtime>(
    runtime: Arc<R>,
    c: Container,
    target: Target,
    results: ProbeResults,
    on_failure: OnFailure,
    cancel: CancellationToken,
) {
    let id = target.container_id.clone();
    // Without a startup probe the container counts as started at once.
    if c.startup_probe.is_none() {
        results.set(&id, Kind::Startup, true);
    } else {
        results.set(&id, Kind::Startup, false);
    }
    let probes = [
        (Kind::Startup, c.startup_probe.clone()),
        (Kind::Liveness, c.liveness_probe.clone()),
        (Kind::Readiness, c.readiness_probe.clone()),
    ];
    for (kind, probe) in probes {
        let Some(probe) = probe else { continue };
        let runtime = runtime.clone();
        let c = c.clone();
        let target = target.clone();
        let results = results.clone();
        let cancel = cancel.clone();
        let on_failure = on_failure.clone();
        let span = tracing::debug_span!("probe", container = %c.name, kind = ?kind);
        tokio::spawn(tracing::Instrument::instrument(
            async move {
                let t = timing(&probe, kind);
                let mut counter = Counter::new(t);
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    _ = tokio::time::sleep(t.initial_delay) => {}
                }
                loop {
                    // Liveness and readiness wait for the startup probe.
                    if kind == Kind::Startup || results.is_started(&target.container_id) {
                        let r = run_once(runtime.as_ref(), &probe, &c, &target, t.timeout).await;
                        if cancel.is_cancelled() {
                            return;
                        }
                        if let Err(msg) = &r {
                            on_failure(kind, msg);
                        }
                        if counter.observe(r.is_ok())
                            && let Some(ok) = counter.result
                        {
                            results.set(&target.container_id, kind, ok);
                        }
                        if kind == Kind::Startup && counter.result.is_some() {
                            // Startup settles once (success), or the failure restarts the
                            // container through liveness semantics.
                            if counter.result == Some(false) {
                                results.set(&target.container_id, Kind::Liveness, false);
                            }
                            return;
                        }
                    }
                    tokio::select! {
                        _ = cancel.cancelled() => return,
                        _ = tokio::time::sleep(t.period) => {}
                    }
                }
            },
            span,
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_kubernetes() {
        let t = timing(&Probe::default(), Kind::Liveness);
        assert_eq!(t.period, Duration::from_secs(10));
        assert_eq!(t.timeout, Duration::from_secs(1));
        assert_eq!(t.failure_threshold, 3);
        assert_eq!(t.success_threshold, 1);
        assert_eq!(t.initial_delay, Duration::ZERO);
        let p = Probe {
            success_threshold: 2,
            period_seconds: 1,
            ..Default::default()
        };
        assert_eq!(timing(&p, Kind::Readiness).success_threshold, 2);
        assert_eq!(timing(&p, Kind::Liveness).success_threshold, 1);
    }

    #[test]
    fn thresholds_settle_results() {
        let t = Timing {
            initial_delay: Duration::ZERO,
            period: Duration::from_secs(1),
            timeout: Duration::from_secs(1),
            success_threshold: 2,
            failure_threshold: 3,
        };
        let mut c = Counter::new(t);
        assert!(!c.observe(true));
        assert!(c.observe(true), "two successes: ready");
        assert_eq!(c.result, Some(true));
        assert!(!c.observe(false));
        assert!(!c.observe(false));
        assert!(!c.observe(true), "a success resets the failure count");
        assert!(!c.observe(false) && !c.observe(false));
        assert!(c.observe(false), "three failures in a row: not ready");
        assert_eq!(c.result, Some(false));
    }

    #[tokio::test]
    async fn http_and_tcp_probes_against_a_local_server() {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = l.local_addr().unwrap().port();
        tokio::spawn(async move {
            loop {
                let Ok((mut s, _)) = l.accept().await else {
                    return;
                };
                let mut buf = [0u8; 512];
                let n = s.read(&mut buf).await.unwrap_or(0);
                let req = String::from_utf8_lossy(&buf[..n]).into_owned();
                let code = if req.starts_with("GET /healthz ") {
                    "200 OK"
                } else {
                    "503 Service Unavailable"
                };
                let _ = s
                    .write_all(format!("HTTP/1.1 {code}\r\nContent-Length: 0\r\n\r\n").as_bytes())
                    .await;
            }
        });
        let rt = crate::runtime::fake::FakeRuntime::new();
        let c = Container {
            ports: vec![proto::k8s::ContainerPort {
                name: "http".into(),
                container_port: i32::from(port),
                ..Default::default()
            }],
            ..Default::default()
        };
        let target = Target {
            container_id: "x".into(),
            pod_ip: "127.0.0.1".into(),
        };
        let probe = |path: &str| Probe {
            http_get: Some(proto::k8s::HttpGetAction {
                path: path.into(),
                port: "http".into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let to = Duration::from_secs(2);
        assert!(
            run_once(&rt, &probe("/healthz"), &c, &target, to)
                .await
                .is_ok()
        );
        let e = run_once(&rt, &probe("/other"), &c, &target, to)
            .await
            .unwrap_err();
        assert!(e.contains("503"), "{e}");
        let tcp = Probe {
            tcp_socket: Some(proto::k8s::TcpSocketAction {
                port: port.to_string(),
                host: String::new(),
            }),
            ..Default::default()
        };
        assert!(run_once(&rt, &tcp, &c, &target, to).await.is_ok());
        let closed = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let tcp_closed = Probe {
            tcp_socket: Some(proto::k8s::TcpSocketAction {
                port: closed.to_string(),
                host: String::new(),
            }),
            ..Default::default()
        };
        assert!(run_once(&rt, &tcp_closed, &c, &target, to).await.is_err());
    }

    #[tokio::test]
    async fn exec_probe_uses_the_exit_code() {
        use crate::runtime::{ContainerConfig, Runtime};
        let rt = crate::runtime::fake::FakeRuntime::new();
        rt.add_image("i");
        let id = rt
            .create_container(&ContainerConfig {
                name: "c".into(),
                image: "i".into(),
                ..Default::default()
            })
            .await
            .unwrap();
        rt.start_container(&id).await.unwrap();
        let probe = Probe {
            exec: Some(proto::k8s::ExecAction {
                command: vec!["true".into()],
            }),
            ..Default::default()
        };
        let target = Target {
            container_id: id.clone(),
            pod_ip: String::new(),
        };
        let to = Duration::from_secs(1);
        assert!(
            run_once(&rt, &probe, &Container::default(), &target, to)
                .await
                .is_ok()
        );
        rt.set_exec_exit(&id, 1);
        assert!(
            run_once(&rt, &probe, &Container::default(), &target, to)
                .await
                .is_err()
        );
    }
}
