//! What every daemon's `main.rs` shares: the tokio runtime, logging, signals, a drain with
//! a grace timeout, the leader-election flags, the host name and a handle on a started
//! daemon. A `main.rs` is then config -> build -> spawn -> wait for a signal -> drain.

pub use crate::endpoints::{
    EndpointError, Serving, TelemetryFlags, init_telemetry, serve_endpoints,
};
use crate::leader::LeaderElectionConfig;
use crate::{ApiError, Client, ConnectionConfig, Kubeconfig};
use std::future::Future;
use std::io;
use std::ops::{Deref, DerefMut};
use std::path::PathBuf;
use std::time::Duration;
use tokio::task::{JoinError, JoinHandle};
use tokio_util::sync::CancellationToken;

/// Stack of each tokio worker thread. Tokio's default is 2 MiB, and debug builds of our
/// async controllers (large futures holding whole API objects) came within ~0.5 MiB of it:
/// a deployment worker overflowed once (fixed by boxing proto fields in "proto: box
/// PodSpec.securityContext..."). 8 MiB, a Linux main thread's default, leaves room for the
/// next field without costing memory that is not touched.
pub const WORKER_STACK_SIZE: usize = 8 * 1024 * 1024;

/// The process's one runtime: multi-threaded, I/O and time enabled, larger worker stacks.
pub fn build_runtime() -> io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(WORKER_STACK_SIZE)
        .build()
}

/// Logs to stderr, filtered by `RUST_LOG` (default `info`), colours only on a terminal so
/// log files stay plain text. False if a subscriber was already set (tests). A daemon that
/// exports traces uses [`telemetry::trace::init_subscriber`] with its flags instead.
pub fn init_tracing() -> bool {
    telemetry::trace::init_subscriber("", None).is_some()
}

/// Installs SIGTERM and SIGINT handlers now (an error here is a start-up error) and
/// returns a future that resolves with the name of the first signal to arrive.
pub fn termination_signal() -> io::Result<impl Future<Output = &'static str> + Send + 'static> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        }
    })
}

/// Cancels `token` on SIGTERM or SIGINT (logged with `message`). The returned task ends
/// with the signal, or may be aborted once the daemon stopped on its own.
pub fn cancel_on_signal(
    token: CancellationToken,
    message: &'static str,
) -> io::Result<JoinHandle<()>> {
    let signal = termination_signal()?;
    Ok(tokio::spawn(cancel_when(signal, token, message)))
}

/// Cancels `token` when `signal` resolves, unless it is cancelled first.
pub async fn cancel_when<F>(signal: F, token: CancellationToken, message: &'static str)
where
    F: Future<Output = &'static str>,
{
    tokio::select! {
        name = signal => {
            tracing::info!(signal = name, "{message}");
            token.cancel();
        }
        _ = token.cancelled() => {}
    }
}

/// A drain that took longer than its grace period.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{what} did not finish within {grace:?}")]
pub struct GraceExceeded {
    pub what: &'static str,
    pub grace: Duration,
}

/// Waits for `drain` at most `grace` (a shutdown never hangs on a stuck peer).
pub async fn drain<F: Future>(
    what: &'static str,
    grace: Duration,
    drain: F,
) -> Result<F::Output, GraceExceeded> {
    tokio::time::timeout(grace, drain)
        .await
        .map_err(|_| GraceExceeded { what, grace })
}

/// A started daemon: its handles (addresses, status channels) reachable through `Deref`,
/// the token that stops it and the task that runs it. Dropping it does not stop it.
pub struct Running<T, E> {
    handles: T,
    cancel: CancellationToken,
    task: JoinHandle<Result<(), E>>,
}

impl<T, E: From<JoinError>> Running<T, E> {
    pub fn new(handles: T, cancel: CancellationToken, task: JoinHandle<Result<(), E>>) -> Self {
        Running {
            handles,
            cancel,
            task,
        }
    }

    pub fn cancel_token(&self) -> CancellationToken {
        self.cancel.clone()
    }

    /// Waits for the daemon to end on its own (it only does on error). Not to be followed
    /// by `stop` once it returned.
    pub async fn wait(&mut self) -> Result<(), E> {
        (&mut self.task).await?
    }

    /// Stops the daemon (work in progress finishes first) and returns how it ended.
    pub async fn stop(self) -> Result<(), E> {
        self.cancel.cancel();
        self.task.await?
    }
}

impl<T, E> Deref for Running<T, E> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.handles
    }
}

impl<T, E> DerefMut for Running<T, E> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.handles
    }
}

/// This machine's host name (`/proc/sys/kernel/hostname`, trimmed).
pub fn host_name() -> io::Result<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname").map(|s| s.trim().to_string())
}

/// A replica's identity in a Lease: host name plus a random suffix, as client-go does
/// (`$HOSTNAME`, then `fallback`, when the kernel gives no name).
pub fn lease_identity(fallback: &str) -> String {
    let host = host_name()
        .ok()
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| fallback.to_string());
    format!("{host}_{:08x}", rand::random::<u32>())
}

pub const DEFAULT_LEASE_DURATION: Duration = Duration::from_secs(15);
pub const DEFAULT_RENEW_DEADLINE: Duration = Duration::from_secs(10);
pub const DEFAULT_RETRY_PERIOD: Duration = Duration::from_secs(2);
pub const DEFAULT_LEASE_NAMESPACE: &str = "kube-system";

/// Kubernetes' leader-election flags, flattened into a daemon's `Config`
/// (`#[command(flatten)]`). Unset flags are `None` so a daemon can let a config file speak
/// (the scheduler's `leaderElection`); the accessors give Kubernetes' defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq, clap::Args)]
pub struct LeaderElectionFlags {
    /// Take a Lease before acting, so only one of several replicas acts at a time
    /// (`--leader-elect=false` to act at once) [default: true].
    #[arg(long, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub leader_elect: Option<bool>,

    /// How long a lease stays valid after its holder's last renewal [default: 15s].
    #[arg(long, value_parser = proto::duration::parse_flag)]
    pub leader_elect_lease_duration: Option<Duration>,

    /// A leader that could not renew for this long stops acting [default: 10s].
    #[arg(long, value_parser = proto::duration::parse_flag)]
    pub leader_elect_renew_deadline: Option<Duration>,

    /// Between attempts to acquire or renew the lease [default: 2s].
    #[arg(long, value_parser = proto::duration::parse_flag)]
    pub leader_elect_retry_period: Option<Duration>,

    /// Namespace of the leader election Lease [default: kube-system].
    #[arg(long)]
    pub leader_elect_resource_namespace: Option<String>,

    /// Name of the leader election Lease [default: the daemon's, e.g. kube-scheduler].
    #[arg(long)]
    pub leader_elect_resource_name: Option<String>,

    /// This replica's name in the lease [default: host name plus a random suffix].
    #[arg(long)]
    pub leader_elect_identity: Option<String>,
}

impl LeaderElectionFlags {
    /// Leader election off (tests that run one replica).
    pub fn disabled() -> Self {
        LeaderElectionFlags {
            leader_elect: Some(false),
            ..Default::default()
        }
    }

    pub fn enabled(&self) -> bool {
        self.leader_elect.unwrap_or(true)
    }

    pub fn lease_duration(&self) -> Duration {
        self.leader_elect_lease_duration
            .unwrap_or(DEFAULT_LEASE_DURATION)
    }

    pub fn renew_deadline(&self) -> Duration {
        self.leader_elect_renew_deadline
            .unwrap_or(DEFAULT_RENEW_DEADLINE)
    }

    pub fn retry_period(&self) -> Duration {
        self.leader_elect_retry_period
            .unwrap_or(DEFAULT_RETRY_PERIOD)
    }

    pub fn resource_namespace(&self) -> &str {
        self.leader_elect_resource_namespace
            .as_deref()
            .unwrap_or(DEFAULT_LEASE_NAMESPACE)
    }

    pub fn resource_name<'a>(&'a self, default: &'a str) -> &'a str {
        self.leader_elect_resource_name
            .as_deref()
            .unwrap_or(default)
    }

    /// The flag, unless unset or empty: then a fresh `lease_identity(fallback)`.
    pub fn identity(&self, fallback: &str) -> String {
        match self.leader_elect_identity.as_deref() {
            Some(id) if !id.is_empty() => id.to_string(),
            _ => lease_identity(fallback),
        }
    }

    /// The election these flags ask for, `None` when disabled. `default_name` is the
    /// daemon's Lease name, `fallback_host` its identity's prefix without a host name.
    pub fn to_config(
        &self,
        default_name: &str,
        fallback_host: &str,
    ) -> Option<LeaderElectionConfig> {
        if !self.enabled() {
            return None;
        }
        let mut cfg = LeaderElectionConfig::new(
            self.resource_namespace(),
            self.resource_name(default_name),
            &self.identity(fallback_host),
        );
        cfg.lease_duration = self.lease_duration();
        cfg.renew_deadline = self.renew_deadline();
        cfg.retry_period = self.retry_period();
        Some(cfg)
    }
}

/// How a daemon reaches the apiserver (`#[command(flatten)]`): `--kubeconfig FILE` gives the
/// server, the CA and the daemon's credentials; `--server` overrides the server. Without a
/// kubeconfig: plaintext to `--server` or [`crate::DEFAULT_SERVER`] (development).
#[derive(Debug, Clone, Default, PartialEq, Eq, clap::Args)]
pub struct ConnectionFlags {
    /// kubeconfig with the apiserver's address, its CA and this daemon's credentials
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// The apiserver; overrides the kubeconfig's server. Without a kubeconfig: plaintext,
    /// for development [default: http://127.0.0.1:6443]
    #[arg(long, value_name = "URL")]
    pub server: Option<String>,
}

impl ConnectionFlags {
    /// Plaintext to `server` (tests).
    pub fn plaintext(server: &str) -> Self {
        ConnectionFlags {
            kubeconfig: None,
            server: Some(server.to_string()),
        }
    }

    fn server_override(&self) -> Option<&str> {
        self.server
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }

    /// The kubeconfig's current context (server overridden by `--server`), else plaintext.
    pub fn connection_config(&self) -> Result<ConnectionConfig, ApiError> {
        match &self.kubeconfig {
            Some(path) => {
                let mut config = Kubeconfig::load(path)?.connection(None)?;
                if let Some(server) = self.server_override() {
                    config.server = server.to_string();
                }
                Ok(config)
            }
            None => Ok(ConnectionConfig::plaintext(
                self.server_override().unwrap_or(crate::DEFAULT_SERVER),
            )),
        }
    }

    /// A client that connects on first use (daemons retry until the apiserver answers).
    pub fn client(&self) -> Result<Client, ApiError> {
        Client::lazy_with(&self.connection_config()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Flags {
        #[command(flatten)]
        leader: LeaderElectionFlags,
        #[arg(long, default_value = "x")]
        other: String,
    }

    #[derive(Debug, Parser)]
    struct ConnFlags {
        #[command(flatten)]
        connection: ConnectionFlags,
    }

    #[tokio::test]
    async fn connection_flags_kubeconfig_then_server_override() {
        let parse = |args: &[&str]| {
            let mut v = vec!["d"];
            v.extend_from_slice(args);
            ConnFlags::parse_from(v).connection
        };
        let none = parse(&[]).connection_config().unwrap();
        assert_eq!(none.server, crate::DEFAULT_SERVER);
        assert!(none.trust.is_none());
        let plain = parse(&["--server", "http://h:1"])
            .connection_config()
            .unwrap();
        assert_eq!(plain.server, "http://h:1");
        assert!(plain.trust.is_none());

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kc");
        let ca = pki::ca::Ca::generate("kubernetes", Duration::from_secs(3600)).unwrap();
        crate::Kubeconfig::for_user(
            "kubernetes",
            "https://10.0.0.1:6443",
            ca.cert_pem(),
            "system:kube-scheduler",
            &crate::Credentials::Token("t".into()),
        )
        .write(&path)
        .unwrap();
        let kc = path.to_str().unwrap();
        let c = parse(&["--kubeconfig", kc]).connection_config().unwrap();
        assert_eq!(c.server, "https://10.0.0.1:6443");
        assert!(matches!(c.trust, Some(pki::tls::ServerTrust::Ca(ref p)) if p == ca.cert_pem()));
        let c = parse(&["--kubeconfig", kc, "--server", "https://10.0.0.2:6443"])
            .connection_config()
            .unwrap();
        assert_eq!(c.server, "https://10.0.0.2:6443");
        assert!(c.trust.is_some(), "the kubeconfig's CA stays");
        let e = parse(&["--kubeconfig", "/nonexistent/kc"])
            .connection_config()
            .unwrap_err();
        assert!(
            e.message
                .starts_with("cannot read kubeconfig /nonexistent/kc: "),
            "{e}"
        );
        assert!(parse(&["--kubeconfig", kc]).client().is_ok());
    }

    #[test]
    fn leader_flags_default_like_kubernetes() {
        let f = Flags::parse_from(["d"]).leader;
        assert_eq!(f, LeaderElectionFlags::default());
        assert!(f.enabled());
        assert_eq!(f.lease_duration(), Duration::from_secs(15));
        assert_eq!(f.renew_deadline(), Duration::from_secs(10));
        assert_eq!(f.retry_period(), Duration::from_secs(2));
        assert_eq!(f.resource_namespace(), "kube-system");
        assert_eq!(f.resource_name("kube-scheduler"), "kube-scheduler");
        let c = f.to_config("kube-scheduler", "scheduler").unwrap();
        assert_eq!(
            (c.lease_namespace.as_str(), c.lease_name.as_str()),
            ("kube-system", "kube-scheduler")
        );
        assert!(c.identity.contains('_'), "{}", c.identity);
        assert!(c.validate().is_ok());
    }

    #[test]
    fn leader_flags_parse() {
        let f = Flags::parse_from([
            "d",
            "--leader-elect-lease-duration",
            "1m30s",
            "--leader-elect-renew-deadline=20s",
            "--leader-elect-retry-period",
            "500ms",
            "--leader-elect-resource-namespace",
            "ns",
            "--leader-elect-resource-name",
            "lease",
            "--leader-elect-identity",
            "me",
            "--other",
            "y",
        ]);
        let c = f.leader.to_config("dflt", "h").unwrap();
        assert_eq!(c.lease_duration, Duration::from_secs(90));
        assert_eq!(c.renew_deadline, Duration::from_secs(20));
        assert_eq!(c.retry_period, Duration::from_millis(500));
        assert_eq!(
            (
                c.lease_namespace.as_str(),
                c.lease_name.as_str(),
                c.identity.as_str()
            ),
            ("ns", "lease", "me")
        );
        assert_eq!(f.other, "y");
        // `--leader-elect` alone, `=false` and a separate value, as both daemons took it.
        let on = |args: &[&str]| {
            let mut v = vec!["d"];
            v.extend_from_slice(args);
            Flags::parse_from(v).leader.enabled()
        };
        assert!(on(&["--leader-elect"]));
        assert!(on(&["--leader-elect", "--other", "z"]));
        assert!(!on(&["--leader-elect=false"]));
        assert!(!on(&["--leader-elect", "false"]));
        assert!(
            Flags::parse_from(["d", "--leader-elect=false"])
                .leader
                .to_config("n", "h")
                .is_none()
        );
        // An empty identity means "pick one", as the controller-manager's default did.
        let f = Flags::parse_from(["d", "--leader-elect-identity="]).leader;
        assert!(f.identity("h").contains('_'));
        assert!(Flags::try_parse_from(["d", "--leader-elect-lease-duration", "15"]).is_err());
        assert!(Flags::try_parse_from(["d", "--leader-elect-retry-period", "-1s"]).is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn a_signal_cancels_the_token_once() {
        let token = CancellationToken::new();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let signal = async move {
            let _ = rx.await;
            "SIGTERM"
        };
        let task = tokio::spawn(cancel_when(signal, token.clone(), "stopping"));
        tokio::task::yield_now().await;
        assert!(!token.is_cancelled());
        tx.send(()).unwrap();
        task.await.unwrap();
        assert!(token.is_cancelled());
        // Cancelled by someone else first: the watcher ends without a signal.
        let token = CancellationToken::new();
        let task = tokio::spawn(cancel_when(
            std::future::pending(),
            token.clone(),
            "stopping",
        ));
        token.cancel();
        task.await.unwrap();
    }

    #[derive(Debug, thiserror::Error)]
    enum TestError {
        #[error("task: {0}")]
        Task(#[from] JoinError),
        #[error("failed")]
        Failed,
    }

    fn start(fail: bool) -> Running<u16, TestError> {
        let cancel = CancellationToken::new();
        let task = tokio::spawn({
            let cancel = cancel.clone();
            async move {
                if fail {
                    return Err(TestError::Failed);
                }
                cancel.cancelled().await;
                Ok(())
            }
        });
        Running::new(53, cancel, task)
    }

    #[tokio::test(start_paused = true)]
    async fn running_stops_on_its_token_within_the_grace() {
        let running = start(false);
        assert_eq!(*running, 53, "handles reachable through Deref");
        let token = running.cancel_token();
        let stopped = drain("daemon", Duration::from_secs(10), running.stop()).await;
        assert!(matches!(stopped, Ok(Ok(()))));
        assert!(token.is_cancelled());
        let mut failed = start(true);
        assert!(matches!(failed.wait().await, Err(TestError::Failed)));
    }

    #[tokio::test(start_paused = true)]
    async fn a_stuck_drain_gives_up_after_the_grace() {
        let e = drain(
            "sync",
            Duration::from_secs(30),
            std::future::pending::<()>(),
        )
        .await
        .unwrap_err();
        assert_eq!(e.to_string(), "sync did not finish within 30s");
    }

    #[test]
    fn the_runtime_has_big_worker_stacks() {
        let rt = build_runtime().unwrap();
        // A 3 MiB local on a worker: more than tokio's 2 MiB default stack holds.
        let depth = rt.block_on(async {
            tokio::spawn(async {
                let big = [1u8; 3 << 20];
                std::hint::black_box(&big)
                    .iter()
                    .map(|b| *b as usize)
                    .sum::<usize>()
            })
            .await
            .unwrap()
        });
        assert_eq!(depth, 3 << 20);
    }

    #[test]
    fn host_name_is_trimmed() {
        if let Ok(h) = host_name() {
            assert_eq!(h, h.trim());
        }
        assert!(lease_identity("fallback").contains('_'));
    }
}
