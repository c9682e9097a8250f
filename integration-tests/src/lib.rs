//! Harness for the integration tests: the real binaries as separate processes, each owned by
//! a guard that kills it when the test ends, also on failure or panic.

pub mod cluster;
pub mod crash_loop;
pub mod kubectl;
pub mod soak;

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The workspace's target directory, where `cargo build --bins` put the binaries.
pub fn target_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("CARGO_TARGET_DIR") {
        return PathBuf::from(dir);
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("target")
}

/// Path of a workspace binary; fails with the command that builds it when it is missing.
pub fn binary(name: &str) -> PathBuf {
    for profile in ["debug", "release"] {
        let p = target_dir().join(profile).join(name);
        if p.exists() {
            return p;
        }
    }
    panic!(
        "binary {name} not found under {}: run `cargo build --bins` first (scripts/test.sh does)",
        target_dir().display()
    );
}

/// A loopback address with a port nobody listens on right now.
pub fn free_addr() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    l.local_addr().expect("local address")
}

/// A child process killed (SIGKILL) and reaped on drop.
pub struct Process {
    pub name: String,
    child: Option<Child>,
    pub log: PathBuf,
}

impl Process {
    pub fn spawn(name: &str, cmd: &mut Command, log: PathBuf) -> Process {
        let out = std::fs::File::create(&log).expect("log file");
        let err = out.try_clone().expect("log file handle");
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err))
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {name}: {e}"));
        Process {
            name: name.to_string(),
            child: Some(child),
            log,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(Child::id).unwrap_or(0)
    }

    /// SIGKILL: the process gets no chance to flush or clean up.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM, then wait up to `timeout` for a clean exit; returns whether it exited 0.
    pub fn terminate(&mut self, timeout: Duration) -> bool {
        let Some(mut c) = self.child.take() else {
            return false;
        };
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(c.id().to_string())
            .status();
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = c.try_wait() {
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = c.kill();
        let _ = c.wait();
        false
    }

    pub fn is_running(&mut self) -> bool {
        matches!(self.child.as_mut().map(|c| c.try_wait()), Some(Ok(None)))
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The apiserver binary on a data directory and a loopback address, in development mode:
/// plaintext, everyone allowed, no ServiceAccount admission (these tests run no
/// ServiceAccount controller). The secure cluster is `cluster::Cluster`.
pub fn spawn_apiserver(data_dir: &Path, addr: SocketAddr, log: PathBuf) -> Process {
    Process::spawn(
        "apiserver",
        Command::new(binary("apiserver"))
            .arg("--listen")
            .arg(addr.to_string())
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--insecure-plaintext")
            .args(["--authorization-mode", "AlwaysAllow"])
            .args(["--disable-admission-plugins", "ServiceAccount"])
            // The kubelets of these tests register 127.0.0.1 (ctl logs/exec through it).
            .arg("--kubelet-allow-loopback")
            // metrics.k8s.io's usage a few seconds after a pod starts (ctl top).
            .args(["--metric-resolution", "3s"])
            .env("RUST_LOG", "info"),
        log,
    )
}

/// The apiserver binary serving TLS on `addr` (the secure default, so any address: for tests
/// whose nodes live in other network namespaces), with everyone allowed and no
/// ServiceAccount admission. It writes its PKI and `admin.kubeconfig` into `data_dir`.
pub fn spawn_tls_apiserver(data_dir: &Path, addr: SocketAddr, log: PathBuf) -> Process {
    Process::spawn(
        "apiserver",
        Command::new(binary("apiserver"))
            .arg("--listen")
            .arg(addr.to_string())
            .args(["--advertise-address", &addr.ip().to_string()])
            .arg("--data-dir")
            .arg(data_dir)
            .args(["--authorization-mode", "AlwaysAllow"])
            .args(["--disable-admission-plugins", "ServiceAccount"])
            .env("RUST_LOG", "info"),
        log,
    )
}

/// Waits until a TLS apiserver wrote `data_dir/admin.kubeconfig` and answers the admin.
pub async fn wait_ready_tls(
    data_dir: &Path,
    process: &mut Process,
    timeout: Duration,
) -> client::Client {
    let deadline = Instant::now() + timeout;
    let admin = data_dir.join("admin.kubeconfig");
    loop {
        if let Some(c) = cluster::admin_client(&admin).await
            && c.get("namespaces", "", "default").await.is_ok()
        {
            return c;
        }
        assert!(
            process.is_running(),
            "{} exited early; log:\n{}",
            process.name,
            process.log_text()
        );
        assert!(
            Instant::now() < deadline,
            "{} not ready within {timeout:?}; log:\n{}",
            process.name,
            process.log_text()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Writes at `path` a kubeconfig for node `node` (`system:node:<node>` in `system:nodes`,
/// a client certificate from the cluster CA in `data_dir/pki`) against `server`: what
/// kubeadm hands a node that does not join by token.
pub fn node_kubeconfig(data_dir: &Path, server: &str, node: &str, path: &Path) {
    let read = |name: &str| {
        std::fs::read_to_string(data_dir.join("pki").join(name))
            .unwrap_or_else(|e| panic!("pki/{name}: {e}"))
    };
    let ca_pem = read("ca.crt");
    let ca = pki::ca::Ca::from_pem(&ca_pem, &read("ca.key")).expect("the cluster CA");
    let user = format!("system:node:{node}");
    let issued = ca
        .issue(&pki::ca::CertSpec {
            common_name: user.clone(),
            organizations: vec!["system:nodes".to_string()],
            dns_names: vec![],
            ip_addresses: vec![],
            usages: vec![pki::ca::Usage::ClientAuth],
            validity: Duration::from_secs(24 * 3600),
        })
        .expect("a node client certificate");
    let credentials = client::Credentials::ClientCert {
        cert_pem: issued.cert_pem,
        key_pem: issued.key_pem,
    };
    client::Kubeconfig::for_user("kubernetes", server, &ca_pem, &user, &credentials)
        .write(path)
        .expect("write the node kubeconfig");
}

/// Waits until the apiserver answers a real API call.
pub async fn wait_ready(url: &str, process: &mut Process, timeout: Duration) -> client::Client {
    let deadline = Instant::now() + timeout;
    loop {
        if let Ok(c) = client::Client::connect(url).await
            && c.get("namespaces", "", "default").await.is_ok()
        {
            return c;
        }
        assert!(
            process.is_running(),
            "{} exited early; log:\n{}",
            process.name,
            process.log_text()
        );
        assert!(
            Instant::now() < deadline,
            "{} not ready within {timeout:?}; log:\n{}",
            process.name,
            process.log_text()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Runs `ctl` against `server` with `args`, feeding `stdin` when given (plaintext: the
/// development apiserver of these tests).
pub fn ctl(server: &str, args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(binary("ctl"));
    cmd.arg("--server").arg(server).args(args);
    run_ctl(cmd, stdin)
}

/// Runs `ctl --kubeconfig FILE args...` (server, CA and credentials from the file).
pub fn ctl_kubeconfig(kubeconfig: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(binary("ctl"));
    cmd.arg("--kubeconfig").arg(kubeconfig).args(args);
    run_ctl(cmd, stdin)
}

fn run_ctl(mut cmd: Command, stdin: Option<&str>) -> Output {
    use std::io::Write;
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    let mut child = cmd.spawn().expect("spawn ctl");
    if let Some(input) = stdin
        && let Some(mut si) = child.stdin.take()
    {
        si.write_all(input.as_bytes()).expect("write ctl stdin");
    }
    child.wait_with_output().expect("ctl output")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
