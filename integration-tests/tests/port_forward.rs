//! `ctl port-forward` on a real one-node cluster (`integration_tests::cluster`): a pod serves
//! HTTP on its own 127.0.0.1 only (so only a connection made inside the pod's network
//! namespace reaches it), `ctl port-forward pod/... :8080` picks a free local port and
//! prints it, concurrent fetches through it each get the page, a service's port is mapped
//! to the pod's named targetPort, and the forwarder ends with kubectl's `lost connection
//! to pod` once the pod is deleted.
//!
//! Needs root, Docker and busybox-static: skipped with a message outside CI, failing in CI.

use integration_tests::cluster::{Cluster, Options, prerequisites, wait_for};
use integration_tests::{Process, binary};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

const MANIFEST: &str = r#"apiVersion: v1
kind: Pod
metadata:
  name: pf-web
  labels: {app: pf-web}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: web
    image: local/busybox:1
    command: ["sh", "-c", "mkdir -p /www && echo hello-from-pf-web > /www/index.html && exec httpd -f -p 127.0.0.1:8080 -h /www"]
    ports:
    - {name: http, containerPort: 8080}
---
apiVersion: v1
kind: Service
metadata:
  name: pf-svc
spec:
  selector: {app: pf-web}
  ports:
  - {name: web, port: 80, targetPort: http}
"#;

/// `ctl port-forward ARGS`, its stdout and stderr in a log file of the cluster's directory;
/// killed when dropped.
fn forwarder(c: &Cluster, name: &str, args: &[&str]) -> Process {
    let mut cmd = Command::new(binary("ctl"));
    cmd.arg("--kubeconfig")
        .arg(c.kubeconfig("admin"))
        .arg("port-forward")
        .args(args);
    Process::spawn(name, &mut cmd, c.dir().join(format!("{name}.log")))
}

/// The local port of the first `Forwarding from 127.0.0.1:PORT -> remote` line.
fn local_port(p: &mut Process, remote: u16, timeout: Duration) -> u16 {
    let deadline = Instant::now() + timeout;
    let suffix = format!(" -> {remote}");
    loop {
        let log = p.log_text();
        let port = log.lines().find_map(|l| {
            l.strip_prefix("Forwarding from 127.0.0.1:")?
                .strip_suffix(suffix.as_str())?
                .parse()
                .ok()
        });
        if let Some(port) = port {
            return port;
        }
        assert!(
            p.is_running() && Instant::now() < deadline,
            "no `Forwarding from 127.0.0.1:PORT{suffix}` line: {log}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A child killed and reaped when dropped (the test failing before it exits).
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_exit(child: &mut Child, timeout: Duration) -> ExitStatus {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        assert!(Instant::now() < deadline, "no exit within {timeout:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// An HTTP/1.0 GET of `/index.html` through the local port; the whole answer.
fn fetch(port: u16) -> std::io::Result<String> {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    s.write_all(b"GET /index.html HTTP/1.0\r\nHost: pf\r\n\r\n")?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    Ok(out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn port_forward_to_a_pod_and_a_service_until_the_pod_goes() {
    if !prerequisites("port_forward") {
        return;
    }
    let c = Cluster::start(
        "pf",
        Options {
            nodes: 1,
            ..Options::default()
        },
    )
    .await;
    c.apply(MANIFEST);
    let pods = c.pods_api("default");
    wait_for(Duration::from_secs(120), "pod pf-web Running", async || {
        pods.get("pf-web")
            .await
            .ok()
            .filter(|p| p.status.as_ref().is_some_and(|s| s.phase == "Running"))
    })
    .await;

    // Serving before forwarding: as kubectl's, a connection the pod refuses ends the
    // forwarder.
    wait_for(
        Duration::from_secs(30),
        "httpd serving in the pod",
        async || {
            let out = c.ctl(
                &[
                    "exec",
                    "pf-web",
                    "--",
                    "wget",
                    "-q",
                    "-O-",
                    "http://127.0.0.1:8080/",
                ],
                None,
            );
            integration_tests::text(&out.stdout)
                .contains("hello-from-pf-web")
                .then_some(())
        },
    )
    .await;

    let mut pod_fwd = forwarder(&c, "pf-pod", &["pod/pf-web", ":8080"]);
    let port = local_port(&mut pod_fwd, 8080, Duration::from_secs(30));
    assert_ne!(port, 8080, "`:8080` picks a free local port");
    let first = fetch(port).expect("fetch through the pod's forward");
    assert!(
        first.starts_with("HTTP/1.1 200 OK") && first.contains("hello-from-pf-web"),
        "{first}"
    );
    // Concurrent connections: each its own stream, each the whole page.
    let fetches: Vec<_> = (0..6)
        .map(|_| std::thread::spawn(move || fetch(port)))
        .collect();
    for f in fetches {
        let answer = f.join().expect("fetch thread").expect("fetch");
        assert!(answer.contains("hello-from-pf-web"), "{answer}");
    }
    let handled = pod_fwd
        .log_text()
        .lines()
        .filter(|l| *l == format!("Handling connection for {port}"))
        .count();
    assert!(
        handled >= 7,
        "one `Handling connection` line per connection: {handled}"
    );

    // A service: its port 80 is the pod's targetPort `http` (8080); 80 is the local port.
    let mut svc_fwd = forwarder(
        &c,
        "pf-svc",
        &["service/pf-svc", "18080:80", "--address", "127.0.0.1"],
    );
    let svc_port = local_port(&mut svc_fwd, 8080, Duration::from_secs(30));
    assert_eq!(svc_port, 18080);
    let answer = fetch(svc_port).expect("fetch through the service's forward");
    assert!(answer.contains("hello-from-pf-web"), "{answer}");
    assert!(
        !svc_fwd.log_text().contains("[::1]"),
        "--address 127.0.0.1 listens there only: {}",
        svc_fwd.log_text()
    );

    // Ctrl-C ends a forwarder quietly, with 0, as kubectl's.
    let mut cmd = Command::new(binary("ctl"));
    cmd.arg("--kubeconfig")
        .arg(c.kubeconfig("admin"))
        .args(["port-forward", "pf-web", "8080:http"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = KillOnDrop(cmd.spawn().expect("spawn ctl port-forward"));
    let mut first_line = String::new();
    // Kept open until the forwarder has exited: it may print more lines (the [::1] one),
    // and a closed pipe would end it with a broken pipe, not with Ctrl-C.
    let mut stdout = BufReader::new(child.0.stdout.take().expect("stdout"));
    stdout
        .read_line(&mut first_line)
        .expect("read the first line");
    assert_eq!(first_line, "Forwarding from 127.0.0.1:8080 -> 8080\n");
    let sent = Command::new("kill")
        .args(["-INT", &child.0.id().to_string()])
        .status()
        .expect("kill -INT");
    assert!(sent.success());
    let status = wait_exit(&mut child.0, Duration::from_secs(10));
    drop(stdout);
    let mut stderr = String::new();
    if let Some(mut e) = child.0.stderr.take() {
        let _ = e.read_to_string(&mut stderr);
    }
    assert!(
        status.success() && stderr.is_empty(),
        "{status:?}: {stderr}"
    );

    // A connection open when the pod goes is cut, not left hanging.
    let mut open = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    open.write_all(b"GET /index.html HTTP/1.0\r\n")
        .expect("a partial request");

    // The pod goes: both forwarders end with kubectl's words.
    c.ctl_ok(&["delete", "pod", "pf-web", "--wait=false"]);
    let deadline = Instant::now() + Duration::from_secs(60);
    while (pod_fwd.is_running() || svc_fwd.is_running()) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    open.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("read timeout");
    let mut rest = Vec::new();
    let cut = open.read_to_end(&mut rest);
    assert!(
        cut.is_ok()
            || cut
                .as_ref()
                .is_err_and(|e| e.kind() != std::io::ErrorKind::WouldBlock),
        "the open connection ends with the pod: {cut:?}"
    );
    for p in [&mut pod_fwd, &mut svc_fwd] {
        let log = p.log_text();
        eprintln!("---- {} ----\n{log}", p.name);
        assert!(!p.is_running(), "{} still runs after the pod went", p.name);
        assert!(
            log.trim_end().ends_with("error: lost connection to pod"),
            "{}: {log}",
            p.name
        );
    }
}
